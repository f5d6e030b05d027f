/* Judging a record against the log: its author's head, duplicates, the replay, the rules. */
#include <parley/exchange.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <parley/chain.h>
#include <parley/record.h>
#include <parley/replay.h>
#include <parley/rules.h>

#include "exchange_int.h"
#include "internal.h"
#include "store.h"

/*
 * Loads the records that refer to the record at index (whose id is id) with
 * a ref of this role: the siblings the rules read. PL_ETOOBIG past
 * PL_RULES_MAX_SIBLINGS. On success *out is a malloc'd array (ex_sib_free()).
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
int pl__ex_siblings(struct pl_store *s, uint64_t index, const uint8_t id[static PL_HASH_BYTES],
                    enum pl_ref_role role, struct pl_record ***out, size_t *n)
{
	struct pl_record **sib = NULL;
	uint64_t *refs = NULL;
	size_t nrefs = 0, k = 0;
	int ret;

	refs = malloc(PL_RULES_MAX_SIBLINGS * sizeof(*refs));
	sib = calloc(PL_RULES_MAX_SIBLINGS, sizeof(*sib));
	if (!refs || !sib) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_store_referrers(s, index, refs, PL_RULES_MAX_SIBLINGS, &nrefs);
	for (size_t i = 0; !ret && i < nrefs; i++) {
		struct pl_record *r = malloc(sizeof(*r));
		const struct pl_record_ref *ref;
		if (!r) {
			ret = PL_ENOMEM;
			break;
		}
		ret = pl__ex_load(s, refs[i], r, NULL);
		ref = ret ? NULL : pl_record_ref_find(r, role);
		if (ref && memcmp(ref->id, id, PL_HASH_BYTES) == 0)
			sib[k++] = r;
		else
			free(r);
	}
	if (!ret) {
		*out = sib;
		*n = k;
		sib = NULL;
		k = 0;
	}
out:
	ex_sib_free(sib, k);
	free(refs);
	return ret;
}

/*
 * A ref that would give the record it names more than PL_TINDEX_MAX_ENTRIES
 * entries in the thread index (records that refer to it) is refused: the
 * index could not hold it. The record it acts on needs no count: the rules
 * already bound its siblings by PL_RULES_MAX_SIBLINGS, which is lower.
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
static int ex_judge_entries(struct pl_store *s, const struct pl_record *rec,
                            const struct pl_replay_view *v, struct pl_exchange_refusal *why)
{
	_Static_assert(PL_RULES_MAX_SIBLINGS < PL_TINDEX_MAX_ENTRIES, "siblings fit the index");
	for (size_t i = 0; i < rec->nrefs; i++) {
		size_t n = 0;
		int ret;
		if ((int)i == v->about)
			continue;
		ret = pl_store_ref_count(s, v->ref_index[i], PL_TINDEX_MAX_ENTRIES, &n);
		if (ret)
			return ret;
		if (n >= PL_TINDEX_MAX_ENTRIES) {
			ex_refuse(why, "too many records refer to a record it names");
			return PL_ERULE;
		}
	}
	return 0;
}

/*
 * An author's chain head without reading the store. Before the sequencer: the
 * committed-head cache. In the sequencer: the batch's own latest record by the
 * author, else the cache, which holds exactly the committed head of every
 * author it knows (entries only move forward, and the sequencer updates them
 * after each commit, before its next batch).
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
bool pl__ex_batch_head(struct pl_exchange *ex, const struct ex_batch *b, const char *author,
                       struct pl_chain_link *link, uint64_t *index)
{
	for (size_t i = b ? b->nheads : 0; i-- > 0;) {
		const struct ex_head *h = &b->heads[i];
		if (strcmp(h->author, author) == 0) {
			*link = h->link;
			*index = h->index;
			return true;
		}
	}
	return ex_head_get(ex, author, link, index);
}

/*
 * The status of party name: from the store in the sequencer (c->from_store), else from the
 * directory cache.
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
enum pl_key_status pl__ex_party_status(struct ex_judge_ctx *c, const char *name)
{
	enum pl_key_status st = PL_KEY_UNKNOWN;

	if (strcmp(name, PL_RECORD_EXCHANGE) == 0)
		return PL_KEY_ACTIVE;
	if (c->from_store) {
		struct pl_store_party p;
		if (pl_store_party_get(c->s, name, &p) == 0)
			st = p.revoked ? PL_KEY_REVOKED : PL_KEY_ACTIVE;
	} else {
		size_t i;
		pthread_rwlock_rdlock(&c->ex->dir_lock);
		i = ex_dir_find(c->ex, name);
		if (i != PL_DIRECTORY_NONE)
			st = c->ex->members[i].revoked ? PL_KEY_REVOKED : PL_KEY_ACTIVE;
		pthread_rwlock_unlock(&c->ex->dir_lock);
	}
	return st;
}

/*
 * The name of the chain head that author's next record extends: the author's
 * own name, or for a party that returned with a new key, that key's chain
 * (pl_store_party_chain_get()). From the store in the sequencer, else from
 * the directory cache.
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
int pl__ex_chain_of(struct ex_judge_ctx *c, const char *author,
                    char out[static PL_STORE_CHAIN_MAX + 1])
{
	int ret = 0;

	snprintf(out, PL_STORE_CHAIN_MAX + 1, "%s", author);
	if (strcmp(author, PL_RECORD_EXCHANGE) == 0)
		return 0;
	if (c->from_store) {
		ret = pl_store_party_chain_get(c->s, author, out, PL_STORE_CHAIN_MAX + 1);
		if (ret == PL_EINVAL)
			ret = 0; /* not a party name: the rules refuse its author */
	} else {
		size_t i;
		pthread_rwlock_rdlock(&c->ex->dir_lock);
		i = ex_dir_find(c->ex, author);
		if (i != PL_DIRECTORY_NONE)
			snprintf(out, PL_STORE_CHAIN_MAX + 1, "%s", c->ex->members[i].chain);
		pthread_rwlock_unlock(&c->ex->dir_lock);
	}
	return ret;
}

/*
 * pl_rules_input.party_is_active over pl__ex_party_status(); arg is the judge's ctx.
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
static bool ex_party_is_active(void *arg, const char *party)
{
	return pl__ex_party_status(arg, party) == PL_KEY_ACTIVE;
}

/*
 * Fills why with the author's chain head for a PL_ECHAIN answer.
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
static void ex_refuse_head(struct pl_exchange_refusal *why, const struct pl_replay_view *v)
{
	if (!why)
		return;
	why->has_head = v->has_head;
	if (v->has_head) {
		why->head_seq = v->head.seq;
		memcpy(why->head_id, v->head.id, PL_HASH_BYTES);
		why->head_index = v->head_index;
	}
}

/*
 * The author's chain head into c: from memory when it can be, else from the store.
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
static int ex_judge_head_read(struct ex_judge_ctx *c, const char *author)
{
	struct pl_record *headrec = NULL;
	struct pl_store_record meta;
	uint64_t seq;
	int ret = 0;

	c->has_head = pl__ex_batch_head(c->ex, c->b, author, &c->head, &c->head_index);
	if (c->has_head)
		goto out;
	ret = pl_store_head_get(c->s, author, &seq, &c->head_index);
	if (ret == PL_ENOTFOUND) {
		ret = 0;
		goto out;
	}
	if (ret)
		goto out;
	headrec = malloc(sizeof(*headrec));
	if (!headrec) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl__ex_load(c->s, c->head_index, headrec, &meta);
	if (ret)
		goto out;
	pl_chain_link_set(&c->head, headrec, meta.id);
	c->has_head = true;
	if (!c->from_store)
		pl__ex_head_put(c->ex, author, &c->head, c->head_index);
out:
	free(headrec);
	return ret;
}

/*
 * The exchange's store as the replay's source (struct pl_replay_source); arg is the ctx.
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
static int ex_src_record(void *arg, const uint8_t id[static PL_RECORD_ID_BYTES],
                         struct pl_record **rec, uint64_t *index)
{
	struct ex_judge_ctx *c = arg;
	struct pl_record *r = NULL;
	int ret;

	ret = pl_store_record_find(c->s, id, index);
	if (ret)
		goto out;
	r = malloc(sizeof(*r));
	ret = r ? pl__ex_load(c->s, *index, r, NULL) : PL_ENOMEM;
	if (ret == 0) {
		*rec = r;
		r = NULL;
	}
out:
	free(r);
	return ret;
}

/*
 * The head pl__ex_judge() read before looking for a duplicate.
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
static int ex_src_head(void *arg, const struct pl_record *rec, struct pl_chain_link *head,
                       uint64_t *index)
{
	const struct ex_judge_ctx *c = arg;

	(void)rec;
	if (!c->has_head)
		return PL_ENOTFOUND;
	*head = c->head;
	*index = c->head_index;
	return 0;
}

/*
 * The records about the record at index, in the ctx's store (pl__ex_siblings()).
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
static int ex_src_siblings(void *arg, uint64_t index, const uint8_t id[static PL_RECORD_ID_BYTES],
                           enum pl_ref_role role, struct pl_record ***sib, size_t *n)
{
	const struct ex_judge_ctx *c = arg;

	return pl__ex_siblings(c->s, index, id, role, sib, n);
}

/*
 * The status of the record's author (pl__ex_party_status()).
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
static enum pl_key_status ex_src_signer(void *arg, const struct pl_record *rec)
{
	return pl__ex_party_status(arg, rec->author);
}

/*
 * A register or revoke of the exchange's names one key, whose status its caller knows.
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
static enum pl_key_status ex_src_key(void *arg, const struct pl_record *rec, size_t k)
{
	const struct ex_judge_ctx *c = arg;

	(void)rec;
	return c->keys && k == 0 ? c->keys[0] : PL_KEY_UNKNOWN;
}

/*
 * A party's keys as the exchange's directory holds them: one signing key per
 * party, active or revoked (pl__ex_party_status()).
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
static void ex_src_party(void *arg, const char *party, size_t *active, bool *known)
{
	enum pl_key_status st = pl__ex_party_status(arg, party);

	*active = st == PL_KEY_ACTIVE ? 1 : 0;
	*known = st != PL_KEY_UNKNOWN;
}

/*
 * Reads what the rules need about rec from s and judges it: duplicates,
 * then the replay (the author's chain head, the records it refers to, the
 * records about the same send), its payload, then pl_rules_check(). In the
 * sequencer s is the writer inside the batch's transaction, so records
 * earlier in the same batch count. Returns 0 with *v filled (release it),
 * or the refusal.
 * Thread: a submitter's or the sequencer's (whichever judges).
 */
int pl__ex_judge(struct ex_judge_ctx *c, const struct pl_record *rec,
                 const uint8_t id[static PL_HASH_BYTES], const enum pl_key_status *keys,
                 struct pl_replay_view *v, struct pl_exchange_refusal *why)
{
	const struct pl_replay_source src = {
	        .record = ex_src_record,
	        .head = ex_src_head,
	        .siblings = ex_src_siblings,
	        .signer = ex_src_signer,
	        .key = ex_src_key,
	        .party_is_active = ex_party_is_active,
	        .party = ex_src_party,
	        .arg = c,
	};
	struct pl_store *s = c->s;
	uint64_t found;
	const char *w = NULL;
	int ret;

	memset(v, 0, sizeof(*v));
	v->about = -1;
	c->keys = keys;
	ret = pl__ex_chain_of(c, rec->author, c->chain);
	if (!ret)
		ret = ex_judge_head_read(c, c->chain);
	if (ret)
		goto out;

	/* Already logged? Only a record at or before its author's head can be. */
	if (c->has_head && rec->seq <= c->head.seq) {
		ret = pl_store_record_find(s, id, &found);
		if (ret == 0) {
			ret = PL_EEXIST;
			ex_refuse(why, "record already logged");
			if (why)
				why->head_index = found;
			goto out;
		}
		if (ret != PL_ENOTFOUND)
			goto out;
	}

	/* The records it refers to must all be logged; too many about one is refused. */
	ret = pl_replay_gather(v, &src, rec, id, PL_REPLAY_STRICT, &w);
	if (ret) {
		if (w)
			ex_refuse(why, w);
		goto out;
	}

	/* No record it names may pass the entries one key of the thread index holds. */
	ret = ex_judge_entries(s, rec, v, why);
	if (ret)
		goto out;

	/* Its payload must be here already, and of the stated size. */
	if (rec->has & PL_RECORD_HAS_PAYLOAD) {
		size_t plen;
		ret = pl_store_payload_get(s, rec->payload, NULL, &plen);
		if (ret == PL_ENOTFOUND) {
			ex_refuse(why, "payload not uploaded");
			goto out;
		}
		if (ret)
			goto out;
		if (plen != rec->payload_size) {
			ret = PL_ERULE;
			ex_refuse(why, "payload size differs from the record's");
			goto out;
		}
	}

	ret = pl_replay_check(v, &w);
	if (ret == PL_EINVAL)
		ret = PL_ERULE;
	if (ret) {
		ex_refuse(why, w);
		if (ret == PL_ECHAIN)
			ex_refuse_head(why, v);
	}
out:
	if (ret == PL_ESTORE)
		ex_note_error(c->ex, s, ret);
	if (ret)
		pl_replay_view_release(v);
	return ret;
}
