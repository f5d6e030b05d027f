/* The exchange's own records: available, expire, check, unanswered, register, revoke, index. */
#include <parley/exchange.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <parley/record.h>
#include <parley/replay.h>

#include "exchange_int.h"
#include "internal.h"
#include "store.h"

/*
 * Sets the chain lines of an exchange record from the exchange's head:
 * origin, author, seq, prev, and the time: now, but not before the head's nor
 * before the time already in r (that of the record that caused it, whose
 * author's clock may run a little ahead of ours). In the sequencer (b not
 * NULL) the head is the batch's or the committed-head cache's, read from s
 * only when neither holds it; otherwise from s.
 * Thread: the sequencer's (its writer), or the operator's on a read connection
 * (pl_exchange_party_prepare()).
 */
int pl__ex_chain_fields(struct pl_exchange *ex, struct pl_store *s, const struct ex_batch *b,
                        struct pl_record *r)
{
	struct pl_store_record meta;
	struct pl_chain_link link;
	struct pl_record *h = NULL;
	uint64_t seq, hidx;
	int64_t now = ex_now(ex);
	int ret;

	if (now < r->time)
		now = r->time;

	memcpy(r->exchange, ex->origin, strlen(ex->origin) + 1); /* checked at open */
	snprintf(r->author, sizeof(r->author), "%s", PL_RECORD_EXCHANGE);
	if (b && pl__ex_batch_head(ex, b, PL_RECORD_EXCHANGE, &link, &hidx)) {
		r->seq = link.seq + 1;
		r->has |= PL_RECORD_HAS_PREV;
		memcpy(r->prev, link.id, PL_HASH_BYTES);
		r->time = now < link.time ? link.time : now; /* the chain never goes back in time */
		return 0;
	}
	ret = pl_store_head_get(s, PL_RECORD_EXCHANGE, &seq, &hidx);
	if (ret == PL_ENOTFOUND) {
		r->seq = 1;
		r->has &= ~PL_RECORD_HAS_PREV;
		ret = 0;
	} else if (ret == 0) {
		h = malloc(sizeof(*h));
		ret = h ? pl__ex_load(s, hidx, h, &meta) : PL_ENOMEM;
		if (!ret) {
			r->seq = seq + 1;
			r->has |= PL_RECORD_HAS_PREV;
			memcpy(r->prev, meta.id, PL_HASH_BYTES);
			if (now < h->time)
				now = h->time; /* the chain never goes back in time */
		}
	}
	r->time = now;
	free(h);
	return ret;
}

/*
 * Judges and appends one signed exchange record. A record the rules refuse
 * is not appended and is not an error (returns 1, why says why): e.g. an
 * expiry after the recipient answered.
 * Thread: the sequencer.
 */
static int ex_append_msg(struct pl_exchange *ex, struct ex_batch *b, const char *msg, size_t len,
                         const struct pl_record *r, const enum pl_key_status *keys,
                         struct pl_exchange_refusal *why, uint64_t *index)
{
	struct ex_judge_ctx c = {.ex = ex, .s = ex->w, .from_store = true, .b = b};
	uint8_t id[PL_HASH_BYTES];
	struct pl_replay_view v;
	int ret;

	pl_record_id(id, msg, len);
	ret = pl__ex_judge(&c, r, id, keys, &v, why);
	if (ret == PL_ERULE || ret == PL_ECHAIN || ret == PL_ENOTFOUND || ret == PL_EEXIST)
		return 1;
	if (ret)
		return ret;
	ret = pl__ex_append(ex, b, &c, msg, len, r, id, &v, index);
	pl_replay_view_release(&v);
	return ret;
}

/*
 * Completes, signs (with the self-signing keys of a register or revoke),
 * judges and appends one exchange record. Returns as ex_append_msg(), or
 * PL_EINVAL / PL_EMALFORMED when the record cannot be signed.
 * Thread: the sequencer.
 */
static int ex_append_own(struct pl_exchange *ex, struct ex_batch *b, struct pl_record *r,
                         const struct pl_skey *self, size_t nself, const enum pl_key_status *keys,
                         struct pl_exchange_refusal *why, uint64_t *index)
{
	struct pl_skey *signers = NULL;
	struct pl_buf msg;
	const char *w = NULL;
	int ret;

	pl_buf_init(&msg, PL_RECORD_MAX_BYTES);
	ret = pl__ex_chain_fields(ex, ex->w, b, r);
	if (ret)
		goto out;
	if (nself == 0) {
		/* The log key alone (every record but a register or revoke): no copy of it. */
		ret = pl_record_sign(&msg, r, &ex->key, 1, &w);
	} else {
		signers = sodium_malloc((1 + nself) * sizeof(*signers));
		if (!signers) {
			ret = PL_ENOMEM;
			goto out;
		}
		signers[0] = ex->key;
		for (size_t i = 0; i < nself; i++)
			signers[1 + i] = self[i];
		ret = pl_record_sign(&msg, r, signers, 1 + nself, &w);
		sodium_memzero(signers, (1 + nself) * sizeof(*signers));
		sodium_free(signers);
	}
	if (ret) {
		ex_refuse(why, w);
		ret = ret == PL_EINVAL ? PL_EINVAL : PL_EMALFORMED;
		goto out;
	}
	ret = ex_append_msg(ex, b, msg.data, msg.len, r, keys, why, index);
out:
	pl_buf_release(&msg);
	return ret;
}

/*
 * A fresh exchange record of kind about the record (a send, or a check) whose id is given.
 * Thread: the sequencer.
 */
static struct pl_record *ex_about(enum pl_record_kind kind, const uint8_t id[static PL_HASH_BYTES])
{
	struct pl_record *r = calloc(1, sizeof(*r));

	if (r) {
		r->kind = kind;
		r->nrefs = 1;
		r->refs[0].role = pl_record_kind_target(kind); /* subject, or check */
		memcpy(r->refs[0].id, id, PL_HASH_BYTES);
	}
	return r;
}

/* Feeds one ref of the log to the tree, in chunks of PL_TINDEX_MAX_BATCH. Thread: open's. */
struct ex_tindex_build {
	struct pl_tindex *t;
	struct pl_tindex_ref *refs;
	size_t n;
};

static int ex_tindex_build_ref(void *arg, const struct pl_tindex_ref *ref)
{
	struct ex_tindex_build *x = arg;
	int ret = 0;

	if (x->n == PL_TINDEX_MAX_BATCH) {
		ret = pl_tindex_update(x->t, x->refs, x->n);
		x->n = 0;
	}
	if (!ret)
		x->refs[x->n++] = *ref;
	return ret;
}

/*
 * The map of a store that has records but never had a thread index (made
 * before it, schema 2): built from the log's refs, at the version of its
 * latest checkpoint, whose last entry is no index record. Thread: open's.
 */
static int ex_tindex_build(struct pl_exchange *ex)
{
	struct ex_tindex_build x = {.t = ex->tindex, .n = 0};
	int ret;

	x.refs = malloc(PL_TINDEX_MAX_BATCH * sizeof(*x.refs));
	if (!x.refs)
		return PL_ENOMEM;
	ex->tiv.write_size = ex->size;
	ret = pl_store_begin(ex->w);
	if (!ret)
		ret = pl_store_refs_each(ex->w, ex_tindex_build_ref, &x);
	if (!ret && x.n)
		ret = pl_tindex_update(x.t, x.refs, x.n);
	if (!ret)
		ret = pl_store_commit(ex->w);
	if (ret)
		pl_store_rollback(ex->w);
	free(x.refs);
	return ret;
}

/*
 * Opens the thread index over the writer's nodes (ex->tindex), building it
 * first for a store that has records but no node. Thread: open's, or the
 * sequencer's (after a failed batch).
 */
int pl__ex_tindex_open(struct pl_exchange *ex)
{
	struct pl_tindex_store ts;
	bool empty = false;
	int ret;

	pl_tindex_free(ex->tindex);
	ex->tindex = NULL;
	ex->tiv.s = ex->w;
	ex->tiv.read_size = PL_STORE_LATEST;
	ts = pl_store_tindex_store(&ex->tiv);
	ret = pl_store_tindex_empty(ex->w, &empty);
	if (!ret)
		ret = pl_tindex_open(&ex->tindex, &ts);
	if (!ret && empty && ex->size > 0)
		ret = ex_tindex_build(ex);
	if (ret) {
		pl_tindex_free(ex->tindex);
		ex->tindex = NULL;
	}
	return ex_note_error(ex, ex->w, ret);
}

/*
 * Ends the batch with its `index` record: the tree updated with every entry
 * the batch's records made (b->trefs, in log order), its new nodes written at
 * the version of the batch's checkpoint (the size after this record), and the
 * root in a record the exchange signs. So the index record at log index i
 * commits to the map of every record below i, and every checkpoint ends with
 * one. Costs one update and one signature per batch, nothing per record.
 * Thread: the sequencer.
 */
int pl__ex_append_index(struct pl_exchange *ex, struct ex_batch *b)
{
	struct pl_record *r = NULL;
	uint64_t index;
	int ret = ex->tindex ? 0 : pl__ex_tindex_open(ex);

	ex->tiv.write_size = b->size0 + b->n + 1;
	for (size_t at = 0; !ret && at < b->ntrefs; at += PL_TINDEX_MAX_BATCH) {
		size_t n = b->ntrefs - at;
		ret = pl_tindex_update(ex->tindex, b->trefs + at,
		                       n < PL_TINDEX_MAX_BATCH ? n : PL_TINDEX_MAX_BATCH);
	}
	if (!ret) {
		r = calloc(1, sizeof(*r));
		ret = r ? 0 : PL_ENOMEM;
	}
	if (!ret) {
		r->kind = PL_KIND_INDEX;
		r->has |= PL_RECORD_HAS_ROOT;
		pl_tindex_root(ex->tindex, r->index_root);
		ret = ex_append_own(ex, b, r, NULL, 0, NULL, NULL, &index);
		/* The rules refuse an index record only when the chain is broken: no batch then. */
		if (ret > 0)
			ret = PL_ESTATE;
	}
	free(r);
	return ret;
}

/*
 * Makes the send with this id available to each of parties[0..n): one
 * `available` record per party, as the rules want.
 * Thread: the sequencer.
 */
int pl__ex_append_available(struct pl_exchange *ex, struct ex_batch *b, int64_t not_before,
                            const uint8_t id[static PL_HASH_BYTES],
                            const char (*parties)[PL_RECORD_NAME_MAX + 1], size_t n)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		struct pl_record *r = ex_about(PL_KIND_AVAILABLE, id);
		uint64_t index;
		if (!r)
			return PL_ENOMEM;
		r->nto = 1;
		memcpy(r->to[0], parties[i], sizeof(r->to[0]));
		r->time = not_before;
		ret = ex_append_own(ex, b, r, NULL, 0, NULL, NULL, &index);
		free(r);
	}
	return ret < 0 ? ret : 0;
}

/*
 * Loads the exchange's subject at index (a send or a check) into a new *rec,
 * and the records about it in role into *sib (ex_sib_free()). On failure
 * nothing is returned to free.
 * Thread: the sequencer.
 */
static int ex_load_about(struct pl_exchange *ex, uint64_t index, enum pl_ref_role role,
                         struct pl_record **rec, struct pl_store_record *meta,
                         struct pl_record ***sib, size_t *nsib)
{
	struct pl_record *r = malloc(sizeof(*r));
	int ret = r ? pl__ex_load(ex->w, index, r, meta) : PL_ENOMEM;

	if (!ret)
		ret = pl__ex_siblings(ex->w, index, meta->id, role, sib, nsib);
	if (ret)
		free(r);
	else
		*rec = r;
	return ret;
}

/*
 * The `expire` the state of send (id, its records about it sib[0..nsib))
 * calls for, into *out: a relayed send nobody conveyed expires for its
 * intermediary and every recipient; otherwise for the recipients that
 * neither accepted nor refused. *out stays NULL when it is already expired
 * or was declined. Returns 0 or PL_ENOMEM.
 * Thread: the sequencer.
 */
static int ex_expire_of(const struct pl_record *send, const uint8_t id[static PL_HASH_BYTES],
                        struct pl_record *const *sib, size_t nsib, struct pl_record **out)
{
	bool relayed = (send->has & PL_RECORD_HAS_VIA) != 0;
	bool stalled = relayed && !ex_sib_by(sib, nsib, PL_KIND_CONVEY, NULL);
	struct pl_record *r;

	if (ex_sib_by(sib, nsib, PL_KIND_EXPIRE, NULL) ||
	    (relayed && ex_sib_by(sib, nsib, PL_KIND_DECLINE, NULL)))
		return 0;
	r = ex_about(PL_KIND_EXPIRE, id);
	if (!r)
		return PL_ENOMEM;
	r->time = send->deadline > send->time ? send->deadline : send->time;
	if (stalled) {
		r->has |= PL_RECORD_HAS_VIA;
		memcpy(r->via, send->via, sizeof(r->via));
	}
	for (size_t i = 0; i < send->nto; i++) {
		if (!stalled && (ex_sib_by(sib, nsib, PL_KIND_ACCEPT, send->to[i]) ||
		                 ex_sib_by(sib, nsib, PL_KIND_REFUSE, send->to[i])))
			continue;
		memcpy(r->to[r->nto++], send->to[i], sizeof(r->to[0]));
	}
	*out = r;
	return 0;
}

/*
 * The `unanswered` naming the ends of check (id, its records about it
 * sib[0..nsib)) that did not answer, into *out; *out stays NULL when it is
 * already logged. Returns 0 or PL_ENOMEM.
 * Thread: the sequencer.
 */
static int ex_unanswered_of(const struct pl_record *check, const uint8_t id[static PL_HASH_BYTES],
                            struct pl_record *const *sib, size_t nsib, struct pl_record **out)
{
	struct pl_record *r;

	if (ex_sib_by(sib, nsib, PL_KIND_UNANSWERED, NULL))
		return 0;
	r = ex_about(PL_KIND_UNANSWERED, id);
	if (!r)
		return PL_ENOMEM;
	r->has |= PL_RECORD_HAS_LINE;
	memcpy(r->line, check->line, sizeof(r->line));
	r->time = check->deadline;
	for (size_t i = 0; i < check->nto; i++) {
		if (!ex_sib_by(sib, nsib, PL_KIND_ANSWER, check->to[i]))
			memcpy(r->to[r->nto++], check->to[i], sizeof(r->to[0]));
	}
	*out = r;
	return 0;
}

/*
 * A timer fired for the record at index: a send's deadline passed (its
 * `expire`) or a check's window closed (its `unanswered`). Appends the record
 * that calls for, or nothing when there is nobody to name in it.
 * Thread: the sequencer.
 */
static int ex_append_deadline(struct pl_exchange *ex, struct ex_batch *b, uint64_t index)
{
	struct pl_record *about = NULL, *r = NULL;
	struct pl_record **sib = NULL;
	struct pl_store_record meta;
	size_t nsib = 0;
	uint64_t logged;
	bool check;
	int ret = pl_store_record_get(ex->w, index, &meta, NULL);

	if (ret)
		return ret;
	check = strcmp(meta.kind, pl_record_kind_name(PL_KIND_CHECK)) == 0;
	ret = ex_load_about(ex, index, check ? PL_ROLE_CHECK : PL_ROLE_SUBJECT, &about, &meta, &sib,
	                    &nsib);
	if (ret)
		goto out;
	if (check)
		ret = ex_unanswered_of(about, meta.id, sib, nsib, &r);
	else
		ret = ex_expire_of(about, meta.id, sib, nsib, &r);
	if (!ret && r && r->nto)
		ret = ex_append_own(ex, b, r, NULL, 0, NULL, NULL, &logged);
out:
	ex_sib_free(sib, nsib);
	free(about);
	free(r);
	return ret < 0 ? ret : 0;
}

/*
 * Logs a check of line l that fell due at `due`, to both ends, answer by
 * due + window. A check the rules refuse (an end not registered) or that
 * can no longer be made (its window already closed by the exchange's clock)
 * is skipped, not an error.
 * Thread: the sequencer.
 */
/*
 * A fresh check or missed of line l: its line and both ends (sorted by their
 * bytes, docs/records.md §2). NULL when out of memory.
 * Thread: the sequencer.
 */
static struct pl_record *ex_line_record(enum pl_record_kind kind, const struct pl_line *l)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	bool swap;

	if (r) {
		r->kind = kind;
		r->has |= PL_RECORD_HAS_LINE;
		memcpy(r->line, l->name, sizeof(r->line));
		swap = strcmp(l->ends[0], l->ends[1]) > 0;
		r->nto = 2;
		memcpy(r->to[0], l->ends[swap ? 1 : 0], sizeof(r->to[0]));
		memcpy(r->to[1], l->ends[swap ? 0 : 1], sizeof(r->to[1]));
	}
	return r;
}

/*
 * Logs the check or missed r of its line, chained to the line's last one
 * with `ref previous` (none for the line's first), and records it as the
 * line's last. A record the rules refuse, or that can no longer be made (the
 * chain's time had already reached a check's deadline), is skipped, not an
 * error.
 * Thread: the sequencer.
 */
static int ex_append_line_record(struct pl_exchange *ex, struct ex_batch *b, struct pl_record *r)
{
	struct pl_store_record meta;
	uint64_t last, index;
	int ret = pl_store_line_last_get(ex->w, r->line, &last);

	if (ret == 0) {
		ret = pl_store_record_get(ex->w, last, &meta, NULL);
		if (ret == PL_ENOTFOUND)
			ret = PL_ESTORE; /* the store names a last check it does not hold */
	}
	if (ret == 0) {
		r->nrefs = 1;
		r->refs[0].role = PL_ROLE_PREVIOUS;
		memcpy(r->refs[0].id, meta.id, PL_HASH_BYTES);
	} else if (ret != PL_ENOTFOUND) {
		goto out;
	}
	ret = ex_append_own(ex, b, r, NULL, 0, NULL, NULL, &index);
	if (ret == 0)
		ret = pl_store_line_last_put(ex->w, r->line, index);
	else if (ret == PL_EMALFORMED || ret == PL_EINVAL)
		ret = 0;
out:
	return ret < 0 ? ret : 0;
}

static int ex_append_check(struct pl_exchange *ex, struct ex_batch *b, const struct pl_line *l,
                           int64_t due)
{
	struct pl_record *r = ex_line_record(PL_KIND_CHECK, l);
	int ret;

	if (!r)
		return PL_ENOMEM;
	r->has |= PL_RECORD_HAS_DEADLINE;
	r->time = due;
	r->deadline = due + l->window;
	ret = ex_append_line_record(ex, b, r);
	free(r);
	return ret;
}

/*
 * Logs that the check of line l due at `due` was not made: the exchange was
 * closed or stalled past its window. A `missed` the rules refuse is skipped.
 * Thread: the sequencer.
 */
static int ex_append_missed(struct pl_exchange *ex, struct ex_batch *b, const struct pl_line *l,
                            int64_t due)
{
	struct pl_record *r = ex_line_record(PL_KIND_MISSED, l);
	int ret;

	if (!r)
		return PL_ENOMEM;
	r->has |= PL_RECORD_HAS_DUE;
	r->due = due;
	r->time = due; /* the chain moves it up to the exchange's clock */
	ret = ex_append_line_record(ex, b, r);
	free(r);
	return ret;
}

/*
 * Logs a check of every line whose due time has come, then schedules its
 * next one. A due time whose window passed before the exchange could log it
 * (it was closed or stalled) is never made up: a `missed` records it, at most
 * PL_EXCHANGE_MISSED_MAX of them per line in one pass (the earliest); the
 * schedule then resumes from now.
 * Thread: the sequencer.
 */
static int ex_append_checks(struct pl_exchange *ex, struct ex_batch *b)
{
	int64_t now = ex_now(ex);
	int ret = 0;

	for (size_t i = 0; !ret && i < ex->o.nlines; i++) {
		const struct pl_line *l = &ex->o.lines[i];
		size_t missed = 0;
		while (!ret && ex->line_next[i] <= now) {
			int64_t due = ex->line_next[i];
			if (now < due + l->window) {
				ret = ex_append_check(ex, b, l, due);
			} else if (missed < PL_EXCHANGE_MISSED_MAX) {
				ret = ex_append_missed(ex, b, l, due);
				missed++;
			} else {
				due = now; /* too many: resume from now */
			}
			if (pl_line_next_in(l, ex->line_tz[i], due, &ex->line_next[i]) != 0)
				ex->line_next[i] = INT64_MAX; /* beyond year 9999 */
		}
	}
	return ret;
}

/*
 * Fills r with the lines of a register (revoke false) or revoke of party q
 * as the directory in s stands, and the status of its key. Returns 0, or a
 * refusal: PL_EEXIST (already registered), PL_ENOTFOUND (no such active
 * party), PL_EKEY (the key is not the party's), with why set.
 * Thread: the sequencer's (its writer), or the operator's on a read connection
 * (pl_exchange_party_prepare()).
 */
int pl__ex_party_record(struct pl_store *s, struct ex_party_req *q, bool revoke,
                        struct pl_record *r, enum pl_key_status *status,
                        struct pl_exchange_refusal *why)
{
	struct pl_store_party p;
	int ret = pl_store_party_get(s, q->name, &p);

	if (!revoke) {
		if (ret == 0 && !p.revoked) {
			ex_refuse(why, "party already registered");
			return PL_EEXIST;
		}
		if (ret != 0 && ret != PL_ENOTFOUND)
			return ret;
		*status = PL_KEY_UNKNOWN;
		if (ret == 0) {
			/* A revoked party returns: its register names the one before. */
			struct pl_store_record meta;
			struct pl_vkey old;
			ret = pl_store_record_get(s, p.register_index, &meta, NULL);
			if (ret)
				return ret;
			r->nrefs = 1;
			r->refs[0].role = PL_ROLE_PREVIOUS;
			memcpy(r->refs[0].id, meta.id, PL_RECORD_ID_BYTES);
			if (pl_vkey_parse(&old, p.vkey, strlen(p.vkey)) == 0 &&
			    pl_vkey_equal(&old, &q->vkey))
				*status = PL_KEY_REVOKED; /* the rules say it never returns */
		}
		r->kind = PL_KIND_REGISTER;
		r->has |= PL_RECORD_HAS_ENC;
		r->enc = q->enc;
	} else {
		struct pl_vkey stored;
		if (ret == 0 && p.revoked)
			ret = PL_ENOTFOUND;
		if (ret == PL_ENOTFOUND)
			ex_refuse(why, "no such active party");
		if (ret)
			return ret;
		if (pl_vkey_parse(&stored, p.vkey, strlen(p.vkey)) != 0)
			return PL_ESTORE;
		if (q->vkey.name[0] && !pl_vkey_equal(&stored, &q->vkey)) {
			ex_refuse(why, "not the party's registered key");
			return PL_EKEY;
		}
		q->vkey = stored;
		*status = PL_KEY_ACTIVE;
		r->kind = PL_KIND_REVOKE;
		if (q->reason[0]) {
			/* An eviction: the exchange's signature alone, and why. */
			r->has |= PL_RECORD_HAS_REASON;
			snprintf(r->reason, sizeof(r->reason), "%s", q->reason);
		}
	}
	r->has |= PL_RECORD_HAS_PARTY;
	snprintf(r->party, sizeof(r->party), "%s", q->name);
	r->nkeys = 1;
	r->keys[0] = q->vkey;
	return 0;
}

/*
 * Maps a party operation's outcome onto its item: refusals stay with the item.
 * Thread: the sequencer.
 */
static int ex_party_outcome(struct ex_item *it, int ret)
{
	if (ret == 1) {
		it->status = it->why.has_head ? PL_ECHAIN : PL_ERULE;
		return 0;
	}
	if (ret == PL_EINVAL || ret == PL_EMALFORMED) {
		/* The record cannot be signed: the self-signing keys do not fit. */
		it->status = PL_EKEY;
		return 0;
	}
	if (ret == PL_EEXIST || ret == PL_ENOTFOUND || ret == PL_EKEY) {
		it->status = ret;
		return 0;
	}
	if (ret == 0)
		it->appended = true;
	return ret;
}

/*
 * EX_PARTY_ADD / EX_PARTY_REVOKE: the register or revoke the operator asked for, signed by the
 * exchange and the keys given. Refusals stay with the item.
 * Thread: the sequencer.
 */
int pl__ex_seq_party(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	struct ex_party_req *q = it->party;
	struct pl_record *r = calloc(1, sizeof(*r));
	enum pl_key_status status;
	int ret;

	if (!r)
		return PL_ENOMEM;
	ret = pl__ex_party_record(ex->w, q, it->type == EX_PARTY_REVOKE, r, &status, &it->why);
	if (!ret)
		ret = ex_append_own(ex, b, r, q->self, q->nself, &status, &it->why, &it->index);
	free(r);
	return ex_party_outcome(it, ret);
}

/*
 * A register or revoke the party signed itself (pl_exchange_party_complete()).
 * Thread: the sequencer.
 */
int pl__ex_seq_signed(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	struct ex_party_req q;
	struct pl_record *r = calloc(1, sizeof(*r));
	enum pl_key_status status;
	int ret;

	if (!r)
		return PL_ENOMEM;
	memset(&q, 0, sizeof(q));
	snprintf(q.name, sizeof(q.name), "%s", it->rec->party);
	q.vkey = it->rec->keys[0];
	q.enc = it->rec->enc;
	/* The directory may have changed since the text was prepared. */
	ret = pl__ex_party_record(ex->w, &q, it->rec->kind == PL_KIND_REVOKE, r, &status, &it->why);
	if (!ret)
		ret = ex_append_msg(ex, b, it->msg, it->len, it->rec, &status, &it->why,
		                    &it->index);
	free(r);
	return ex_party_outcome(it, ret);
}

/*
 * EX_TIMERS: drops the blobs no record referred to in time, appends what each passed deadline calls
 * for, then the checks that fell due; it->count is the records appended.
 * Thread: the sequencer.
 */
int pl__ex_seq_timers(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	uint64_t due[EX_TIMERS_MAX];
	uint64_t n0 = b->n;
	size_t n = 0;
	int ret;

	/* Blobs no record referred to within payload_retention seconds go first. */
	ret = pl_store_payload_expire(ex->w, ex_now(ex) - (int64_t)ex->o.payload_retention_s,
	                              EX_TIMERS_MAX, &n);
	if (!ret && n)
		b->wrote = true;
	if (!ret)
		ret = pl_store_timer_due(ex->w, ex_now(ex), due, EX_TIMERS_MAX, &n);
	for (size_t i = 0; !ret && i < n; i++) {
		ret = ex_append_deadline(ex, b, due[i]);
		if (!ret)
			ret = pl_store_timer_del(ex->w, due[i]);
		b->wrote = true;
	}
	if (!ret)
		ret = ex_append_checks(ex, b);
	if (!ret)
		it->count = (int)(b->n - n0);
	return ret;
}

/*
 * EX_CONFIG: keeps the definition of each line of it->opts in the store, as
 * open does (ex_lines_keep()), so that a line later taken out can still be
 * reported; the swap itself waits for the commit (pl__ex_config_apply()).
 * Thread: the sequencer.
 */
int pl__ex_seq_config(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	struct pl_buf text;
	int ret = 0;

	pl_buf_init(&text, PL_LINE_TEXT_MAX + 1);
	for (size_t i = 0; !ret && i < it->opts->nlines; i++) {
		pl_buf_reset(&text);
		ret = pl_line_format(&it->opts->lines[i], &text);
		if (!ret)
			ret = pl_store_line_put(ex->w, it->opts->lines[i].name, text.data);
		b->wrote = true;
	}
	pl_buf_release(&text);
	return ret;
}

/* Whether two lines have the same name, ends and schedule. Thread: any. */
static bool ex_line_same(const struct pl_line *a, const struct pl_line *b)
{
	struct pl_buf ta, tb;
	bool same;

	pl_buf_init(&ta, PL_LINE_TEXT_MAX + 1);
	pl_buf_init(&tb, PL_LINE_TEXT_MAX + 1);
	same = pl_line_format(a, &ta) == 0 && pl_line_format(b, &tb) == 0 && ta.len == tb.len &&
	       memcmp(ta.data, tb.data, ta.len) == 0;
	pl_buf_release(&ta);
	pl_buf_release(&tb);
	return same;
}

/*
 * After a durable commit: runs with the lines and auditors of each EX_CONFIG
 * item that was not refused. A line kept as it was keeps its next due time; a
 * new or changed one is first due at its next time from now (a check is never
 * made up). Thread: the sequencer.
 */
void pl__ex_config_apply(struct pl_exchange *ex, struct ex_item *items)
{
	for (struct ex_item *it = items; it; it = it->next) {
		const struct pl_exchange_options *o = it->opts;
		int64_t next[PL_EXCHANGE_LINES_MAX];

		if (it->type != EX_CONFIG || it->status)
			continue;
		struct pl_tz *tz[PL_EXCHANGE_LINES_MAX];

		for (size_t i = 0; i < o->nlines; i++) {
			size_t j = 0;
			tz[i] = it->tz ? it->tz[i] : NULL;
			while (j < ex->o.nlines && !ex_line_same(&ex->o.lines[j], &o->lines[i]))
				j++;
			if (j < ex->o.nlines)
				next[i] = ex->line_next[j];
			else if (pl_line_next_in(&o->lines[i], tz[i], ex_now(ex), &next[i]) != 0)
				next[i] = INT64_MAX;
		}
		for (size_t i = 0; i < ex->o.nlines; i++) {
			pl_tz_free(ex->line_tz[i]);
			ex->line_tz[i] = NULL;
		}
		pthread_rwlock_wrlock(&ex->cfg_lock);
		memcpy(ex->o.lines, o->lines, o->nlines * sizeof(o->lines[0]));
		memcpy(ex->line_next, next, o->nlines * sizeof(next[0]));
		for (size_t i = 0; i < o->nlines; i++) {
			ex->line_tz[i] = tz[i];
			if (it->tz)
				it->tz[i] = NULL; /* the exchange's now */
		}
		ex->o.nlines = o->nlines;
		memcpy(ex->o.auditors, o->auditors, o->nauditors * sizeof(o->auditors[0]));
		ex->o.nauditors = o->nauditors;
		pthread_rwlock_unlock(&ex->cfg_lock);
	}
}

int pl_exchange_reconfigure(struct pl_exchange *ex, const struct pl_exchange_options *opts)
{
	struct pl_tz *tz[PL_EXCHANGE_LINES_MAX] = {NULL};
	struct ex_item it;
	int ret = 0;

	if (!ex || !opts || opts->nlines > PL_EXCHANGE_LINES_MAX ||
	    opts->nauditors > PL_EXCHANGE_AUDITORS_MAX)
		return PL_EINVAL;
	/* The zones first, here: the sequencer reads no zone file. */
	for (size_t i = 0; !ret && i < opts->nlines; i++) {
		if (pl_line_is_zoned(&opts->lines[i]))
			ret = pl_tz_load(&tz[i], opts->lines[i].zone, NULL);
	}
	if (ret)
		goto out;
	memset(&it, 0, sizeof(it));
	it.type = EX_CONFIG;
	it.opts = opts;
	it.tz = tz;
	ret = pl__ex_run_sync(ex, &it);
out:
	for (size_t i = 0; i < PL_EXCHANGE_LINES_MAX; i++)
		pl_tz_free(tz[i]); /* those the exchange did not take */
	return ret;
}
