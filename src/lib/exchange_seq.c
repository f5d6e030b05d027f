/* The sequencer: the queue, each batch in one transaction under one checkpoint, made durable. */
#include <parley/exchange.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <parley/chain.h>
#include <parley/checkpoint.h>
#include <parley/note.h>
#include <parley/party.h>
#include <parley/record.h>
#include <parley/replay.h>
#include <parley/tlog.h>

#include "exchange_int.h"
#include "internal.h"
#include "store.h"

#define EX_MEMO_CACHE 128

/*
 * A stored-hash reader for the proofs of one batch: the batch's own new
 * hashes from memory, and the few older ones every proof of the batch shares
 * read once from the store. Used by the sequencer thread only.
 */
struct ex_memo {
	struct pl_store *s;
	uint64_t first;
	const struct ex_batch *b;
	size_t nc;
	uint64_t idx[EX_MEMO_CACHE];
	uint8_t val[EX_MEMO_CACHE][PL_HASH_BYTES];
};

/* The tlog reader's read over a struct ex_memo. Thread: the sequencer. */
static int ex_memo_read(void *ctx, const uint64_t *indexes, size_t n,
                        uint8_t (*hashes)[PL_HASH_BYTES])
{
	struct ex_memo *m = ctx;
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		uint64_t x = indexes[i];
		size_t k;
		if (x >= m->first && x - m->first < m->b->nhashes) {
			memcpy(hashes[i], m->b->hashes[x - m->first], PL_HASH_BYTES);
			continue;
		}
		for (k = 0; k < m->nc && m->idx[k] != x; k++)
			;
		if (k < m->nc) {
			memcpy(hashes[i], m->val[k], PL_HASH_BYTES);
			continue;
		}
		ret = pl_store_hashes_get(m->s, &x, 1, &hashes[i]);
		if (!ret && m->nc < EX_MEMO_CACHE) {
			m->idx[m->nc] = x;
			memcpy(m->val[m->nc++], hashes[i], PL_HASH_BYTES);
		}
	}
	return ret;
}

/*
 * The parties that should see rec in their inbox (pids; PL_STORE_PUBLIC for
 * all): those it names, and the author, intermediary and recipients of the
 * send it is about. Until a relayed send is conveyed its recipients see
 * nothing of it.
 * Thread: the sequencer.
 */
static size_t ex_audience(struct ex_judge_ctx *c, const struct pl_record *rec,
                          const struct pl_replay_view *v, int64_t out[static EX_AUDIENCE_MAX])
{
	const char *names[EX_AUDIENCE_MAX];
	size_t nn = 0, n = 0;
	bool hide_to = rec->kind == PL_KIND_SEND && (rec->has & PL_RECORD_HAS_VIA);

	if (rec->kind == PL_KIND_STATEMENT)
		out[n++] = PL_STORE_PUBLIC;
	if (v && v->about >= 0) {
		const struct pl_record *a = v->refs[v->about];
		bool relayed = (a->has & PL_RECORD_HAS_VIA) != 0;
		bool conveyed = rec->kind == PL_KIND_CONVEY ||
		                ex_sib_by(v->sib, v->nsib, PL_KIND_CONVEY, NULL);
		hide_to = relayed && !conveyed;
		names[nn++] = a->author;
		if (relayed)
			names[nn++] = a->via;
		for (size_t i = 0; !hide_to && i < a->nto; i++)
			names[nn++] = a->to[i];
	}
	for (size_t i = 0; !hide_to && i < rec->nto; i++)
		names[nn++] = rec->to[i];
	if (rec->has & PL_RECORD_HAS_VIA)
		names[nn++] = rec->via;
	if (rec->has & PL_RECORD_HAS_PARTY)
		names[nn++] = rec->party;
	for (size_t i = 0; i < nn && n < EX_AUDIENCE_MAX; i++) {
		struct pl_store_party p;
		if (strcmp(names[i], rec->author) == 0 || strcmp(names[i], PL_RECORD_EXCHANGE) == 0)
			continue;
		if (pl_store_party_get(c->s, names[i], &p) == 0)
			out[n++] = p.pid;
	}
	return n;
}

/*
 * Adds the entries rec (logged at idx) makes in the thread index to the
 * batch's list: one per distinct id its refs name, as the sequencer assigns
 * the index, so that the end of the batch updates the tree in one call.
 * Thread: the sequencer.
 */
static int ex_batch_trefs(struct ex_batch *b, const struct pl_record *rec,
                          const uint8_t id[static PL_HASH_BYTES], uint64_t idx)
{
	if (pl__ex_index_omits && pl__ex_index_omits(rec->author))
		return 0; /* a test exchange that lies */
	for (size_t i = 0; i < rec->nrefs; i++) {
		struct pl_tindex_ref *t;
		bool again = false;
		for (size_t k = 0; k < i && !again; k++)
			again = memcmp(rec->refs[k].id, rec->refs[i].id, PL_HASH_BYTES) == 0;
		if (again)
			continue;
		if (pl__grow(&b->trefs, &b->trefs_cap, b->ntrefs, sizeof(*b->trefs), 64))
			return PL_ENOMEM;
		t = &b->trefs[b->ntrefs++];
		memcpy(t->key, rec->refs[i].id, PL_HASH_BYTES);
		memcpy(t->id, id, PL_HASH_BYTES);
		t->index = idx;
	}
	return 0;
}

/*
 * A party returns (docs/keys.md §3): its directory row takes the new key, and
 * the new key's records start a chain of their own, "<party>+<hex key ID>",
 * beside the old key's, which no one extends any more.
 * Thread: the sequencer.
 */
static int ex_party_return(struct pl_store *s, const struct pl_store_party *p,
                           const struct pl_vkey *key)
{
	char chain[PL_STORE_CHAIN_MAX + 1], hex[2 * PL_KEYID_BYTES + 1];
	int ret = pl_store_party_return(s, p);

	pl_hex_encode(hex, key->id, PL_KEYID_BYTES);
	snprintf(chain, sizeof(chain), "%s+%s", p->name, hex);
	if (!ret)
		ret = pl_store_party_chain_put(s, p->name, chain);
	return ret;
}

/*
 * Appends one judged record to the batch: its row, references, chain head,
 * inboxes, timer, directory change, and its leaf hash.
 * Thread: the sequencer.
 */
int pl__ex_append(struct pl_exchange *ex, struct ex_batch *b, struct ex_judge_ctx *c,
                  const char *msg, size_t len, const struct pl_record *rec,
                  const uint8_t id[static PL_HASH_BYTES], const struct pl_replay_view *v,
                  uint64_t *index)
{
	struct pl_store *s = ex->w;
	struct pl_store_record meta;
	int64_t pids[EX_AUDIENCE_MAX];
	size_t np;
	uint64_t idx = b->size0 + b->n;
	int ret = 0;

	if (pl__grow(&b->leaves, &b->cap, b->n, sizeof(*b->leaves), 64))
		return PL_ENOMEM;
	memset(&meta, 0, sizeof(meta));
	meta.index = idx;
	memcpy(meta.id, id, PL_HASH_BYTES);
	snprintf(meta.author, sizeof(meta.author), "%s", rec->author);
	meta.seq = rec->seq;
	snprintf(meta.kind, sizeof(meta.kind), "%s", pl_record_kind_name(rec->kind));
	if (pl__grow(&b->heads, &b->heads_cap, b->nheads, sizeof(*b->heads), 64))
		return PL_ENOMEM;
	ret = pl_store_record_put(s, &meta, msg, len);
	for (size_t i = 0; !ret && i < rec->nrefs; i++)
		ret = pl_store_ref_put(s, idx, v->ref_index[i]);
	if (!ret)
		ret = ex_batch_trefs(b, rec, id, idx);
	if (!ret)
		ret = pl_store_head_set(s, c->chain, rec->seq, idx);
	if (ret)
		return ret;
	{
		struct ex_head *h = &b->heads[b->nheads++];
		snprintf(h->author, sizeof(h->author), "%s", c->chain);
		pl_chain_link_set(&h->link, rec, id);
		h->index = idx;
	}
	if (rec->kind == PL_KIND_REGISTER) {
		struct pl_store_party p;
		struct pl_buf kb;
		memset(&p, 0, sizeof(p));
		snprintf(p.name, sizeof(p.name), "%s", rec->party);
		pl_buf_init(&kb, sizeof(p.vkey) - 1);
		ret = rec->nkeys ? pl_vkey_format(&rec->keys[0], &kb) : PL_EINVAL;
		if (!ret)
			memcpy(p.vkey, kb.data, kb.len + 1);
		pl_buf_reset(&kb);
		if (!ret)
			ret = pl_party_ekey_format(&rec->enc, &kb);
		if (!ret)
			memcpy(p.enc_key, kb.data, kb.len + 1);
		pl_buf_release(&kb);
		p.register_index = idx;
		if (!ret && pl_record_ref_find(rec, PL_ROLE_PREVIOUS))
			ret = ex_party_return(s, &p, &rec->keys[0]);
		else if (!ret)
			ret = pl_store_party_put(s, &p);
		b->dir_changed = true;
	} else if (rec->kind == PL_KIND_REVOKE) {
		ret = pl_store_party_revoke(s, rec->party, idx);
		b->dir_changed = true;
	}
	if (ret)
		return ret;
	np = ex_audience(c, rec, v, pids);
	for (size_t i = 0; !ret && i < np; i++)
		ret = pl_store_inbox_put(s, pids[i], idx);
	/* From now on the blob is its readers', and it is kept. */
	if (!ret && (rec->has & PL_RECORD_HAS_PAYLOAD))
		ret = pl_store_payload_refer(s, rec->payload, idx);
	if (!ret && rec->kind == PL_KIND_SEND && (rec->has & PL_RECORD_HAS_DEADLINE))
		ret = pl_store_timer_put(s, idx, rec->deadline);
	/* One second past a check's deadline, so that an answer made at the deadline is in. */
	if (!ret && rec->kind == PL_KIND_CHECK)
		ret = pl_store_timer_put(s, idx, rec->deadline + 1);
	if (ret)
		return ret;
	pl_tlog_leaf_hash(b->leaves[b->n], msg, len);
	if ((unsigned)rec->kind <= PL_KIND_COUNT)
		b->kinds[rec->kind]++;
	b->n++;
	*index = idx;
	return 0;
}

/*
 * Runs one submitted record through the batch. Refusals stay with the item.
 * Thread: the sequencer.
 */
static int ex_seq_record(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	struct ex_judge_ctx c = {.ex = ex, .s = ex->w, .from_store = true, .b = b};
	struct pl_replay_view v;
	int ret;

	ret = pl__ex_judge(&c, it->rec, it->id, NULL, &v, &it->why);
	if (ret == PL_ESTORE || ret == PL_ENOMEM)
		return ret;
	if (ret) {
		it->status = ret;
		return 0;
	}
	ret = pl__ex_append(ex, b, &c, it->msg, it->len, it->rec, it->id, &v, &it->index);
	if (!ret) {
		it->appended = true;
		/*
		 * A direct send is available to its recipients at once; a relayed
		 * one to its intermediary at once and to the recipients when
		 * conveyed.
		 */
		const struct pl_record *r = it->rec;
		if (r->kind == PL_KIND_SEND && (r->has & PL_RECORD_HAS_VIA))
			ret = pl__ex_append_available(ex, b, r->time, it->id, &r->via, 1);
		else if (r->kind == PL_KIND_SEND)
			ret = pl__ex_append_available(ex, b, r->time, it->id, r->to, r->nto);
		else if (r->kind == PL_KIND_CONVEY && v.about >= 0)
			ret = pl__ex_append_available(ex, b, r->time, r->refs[v.about].id,
			                              v.refs[v.about]->to, v.refs[v.about]->nto);
	}
	pl_replay_view_release(&v);
	return ret;
}

/*
 * EX_COSIGN: adds the cosignature lines it->msg to the stored checkpoint of
 * size it->index; on success it->msg becomes the whole new note (published
 * after the commit). A line by a key that already signed it is left out.
 * Thread: the sequencer.
 */
static int ex_seq_cosign(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	struct pl_note *lines = NULL;
	struct pl_buf note, msg;
	int ret;

	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	pl_buf_init(&msg, PL_NOTE_MAX_BYTES);
	ret = pl_store_checkpoint_get(ex->w, it->index, NULL, &note);
	/* The lines parse as the signatures of a note whose text is a placeholder. */
	if (!ret)
		ret = pl_buf_add(&msg, "-\n\n", 3);
	if (!ret)
		ret = pl_buf_add(&msg, it->msg, it->len);
	if (!ret && pl_note_parse(&lines, msg.data, msg.len) != 0)
		ret = PL_EMALFORMED;
	for (size_t i = 0; !ret && lines && i < lines->nsigs; i++) {
		const struct pl_note_sig *sg = &lines->sigs[i];
		ret = pl_note_add_sig(&note, sg->name, sg->id, sg->sig, sg->sig_len);
		if (ret == PL_EEXIST)
			ret = 0;
	}
	if (!ret)
		ret = pl_store_checkpoint_cosign(ex->w, it->index, note.data, note.len);
	if (!ret) {
		free(it->msg);
		it->msg = pl_buf_detach(&note, &it->len);
		ret = it->msg ? 0 : PL_ENOMEM;
		b->wrote = true;
	}
	it->status = ret == PL_ENOTFOUND || ret == PL_EMALFORMED || ret == PL_ETOOBIG ? ret : 0;
	pl_note_free(lines);
	pl_buf_release(&note);
	pl_buf_release(&msg);
	/* A bad request fails alone; only a store failure fails the batch. */
	return it->status ? 0 : ret;
}

/*
 * After the commit: the newest cosigned checkpoint, and the latest one if it is that one.
 * Thread: the sequencer.
 */
static void ex_publish_cosigned(struct pl_exchange *ex, struct ex_item *items)
{
	for (struct ex_item *it = items; it; it = it->next) {
		char *a, *c;
		if (it->type != EX_COSIGN || it->status || !it->msg)
			continue;
		a = malloc(it->len + 1);
		c = malloc(it->len + 1);
		if (!a || !c) {
			free(a);
			free(c);
			continue;
		}
		memcpy(a, it->msg, it->len);
		a[it->len] = '\0';
		memcpy(c, a, it->len + 1);
		pthread_mutex_lock(&ex->st_mu);
		if (!ex->cosigned || it->index >= ex->cosigned_size) {
			free(ex->cosigned);
			ex->cosigned = a;
			ex->cosigned_len = it->len;
			ex->cosigned_size = it->index;
			a = NULL;
		}
		if (it->index == ex->size) {
			free(ex->checkpoint);
			ex->checkpoint = c;
			ex->checkpoint_len = it->len;
			c = NULL;
		}
		pthread_mutex_unlock(&ex->st_mu);
		free(a);
		free(c);
	}
}

/*
 * Stores an uploaded blob. A new one must fit in its uploader's allowance of
 * unreferenced bytes (payload_unreferenced_max), so that nobody fills the
 * disk within the retention window; a refusal is the item's (PL_ELIMIT).
 * Thread: the sequencer.
 */
static int ex_seq_payload(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	struct pl_store_payload info;
	uint64_t pending = 0;
	int ret = pl_store_payload_info(ex->w, it->hash, &info);

	if (ret == PL_ENOTFOUND) {
		ret = pl_store_payload_pending(ex->w, it->uploader, &pending);
		if (!ret && pending + it->blob_len > ex->o.payload_unreferenced_max) {
			it->status = PL_ELIMIT;
			return 0;
		}
	}
	if (!ret)
		ret = pl_store_payload_put(ex->w, it->hash, it->blob, it->blob_len, it->uploader,
		                           ex_now(ex));
	if (!ret)
		b->wrote = true;
	return ret;
}

/*
 * Extends the tree by the batch's leaves and signs its checkpoint, in the transaction.
 * Thread: the sequencer.
 */
static int ex_seal(struct pl_exchange *ex, struct ex_batch *b, struct pl_buf *cpnote)
{
	struct pl_tlog_reader rd = pl_store_tlog_reader(ex->w);
	struct pl_checkpoint *cp = NULL;
	uint8_t(*hashes)[PL_HASH_BYTES] = NULL;
	uint8_t root[PL_HASH_BYTES];
	size_t cap = 2 * b->n + 64, nh = 0;
	uint64_t size = b->size0 + b->n;
	int ret;

	hashes = malloc(cap * sizeof(*hashes));
	cp = malloc(sizeof(*cp));
	if (!hashes || !cp) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_tlog_append(&rd, b->size0, (const uint8_t(*)[PL_HASH_BYTES])b->leaves, b->n,
	                     hashes, cap, &nh);
	if (!ret)
		ret = pl_store_hashes_put(ex->w, pl_tlog_stored_count(b->size0),
		                          (const uint8_t(*)[PL_HASH_BYTES])hashes, nh);
	if (!ret) {
		b->hashes = hashes;
		b->nhashes = nh;
		hashes = NULL;
		ret = pl_tlog_tree_hash(&rd, size, root);
	}
	if (!ret)
		ret = pl_checkpoint_set(cp, ex->origin, size, root);
	if (!ret)
		ret = pl_checkpoint_sign(cpnote, cp, &ex->key);
	if (!ret)
		ret = pl_store_checkpoint_put(ex->w, size, cpnote->data, cpnote->len);
out:
	free(hashes);
	free(cp);
	return ret;
}

/*
 * Hands out an item's result: wakes its waiter or calls its callback.
 * Thread: the sequencer's; an async item's callback runs here.
 */
static void ex_complete(struct pl_exchange *ex, struct ex_item *it)
{
	if (it->async) {
		if (it->status == 0 && it->appended && !it->receipt.proof)
			it->status = pl__ex_receipt(ex, NULL, it->index, it->size, &it->receipt);
		it->cb.fn(it->cb.arg, it->status, it->status ? NULL : &it->receipt, &it->why);
		pl_receipt_release(&it->receipt);
		free(it->msg);
		free(it->rec);
		free(it);
		return;
	}
	pthread_mutex_lock(&ex->mu);
	it->done = true;
	pthread_cond_signal(&it->cv);
	pthread_mutex_unlock(&ex->mu);
}

/*
 * Fdatasyncs the published file on request, so that its sync runs beside the store's.
 * Thread: the syncer thread, whose body this is.
 */
static void *ex_syncer(void *arg)
{
	struct pl_exchange *ex = arg;

	pthread_mutex_lock(&ex->sync_mu);
	for (;;) {
		uint64_t gen;
		int ret;
		while (ex->sync_done == ex->sync_asked && !ex->sync_stop)
			pthread_cond_wait(&ex->sync_cv, &ex->sync_mu);
		if (ex->sync_done == ex->sync_asked)
			break;
		gen = ex->sync_asked;
		pthread_mutex_unlock(&ex->sync_mu);
		ret = pl__published_sync(ex->pubfd);
		pthread_mutex_lock(&ex->sync_mu);
		ex->sync_ret = ret;
		ex->sync_errno = ret ? errno : 0;
		ex->sync_done = gen;
		pthread_cond_broadcast(&ex->sync_cv);
	}
	pthread_mutex_unlock(&ex->sync_mu);
	return NULL;
}

/*
 * Makes the batch just committed durable, before anyone hears of it. The
 * commit has made it visible but not durable (pl_store_sequencer_start()); the
 * batch's checkpoint cp (NULL when the batch signed none) then goes to the
 * published file's free slot, and the two syncs run at once: the syncer
 * thread fdatasyncs the file while this thread syncs the store. So G7 costs
 * no second sync in series, and a process killed at any point leaves the
 * file at most as new as the store (open accepts a store ahead of the file,
 * never one behind it). Only a power loss between the two syncs' ends can
 * leave the file one batch ahead of the store; open then refuses, as it must
 * when it cannot tell that from a lost WAL. A failure here leaves the store
 * and the published state apart: the exchange fails every later batch until
 * it is opened again.
 * Thread: the sequencer.
 */
static int ex_durable(struct pl_exchange *ex, const struct pl_buf *cp)
{
	uint64_t gen = 0;
	int ret = 0, err = 0, wal;

	if (cp) {
		ret = pl__published_write(ex->pubfd, 1 - ex->pub_slot, cp->data, cp->len);
		err = ret ? errno : 0;
		if (!ret) {
			pthread_mutex_lock(&ex->sync_mu);
			gen = ++ex->sync_asked;
			pthread_cond_signal(&ex->sync_cv);
			pthread_mutex_unlock(&ex->sync_mu);
		}
	}
	wal = ex_note_error(ex, ex->w, pl_store_sync(ex->w));
	if (gen) {
		pthread_mutex_lock(&ex->sync_mu);
		while (ex->sync_done < gen)
			pthread_cond_wait(&ex->sync_cv, &ex->sync_mu);
		ret = ex->sync_ret;
		err = ex->sync_errno;
		pthread_mutex_unlock(&ex->sync_mu);
	}
	if (ret) {
		pthread_mutex_lock(&ex->err_mu);
		snprintf(ex->lasterr, sizeof(ex->lasterr), "%s: cannot make it durable: %s",
		         PL_EXCHANGE_PUBLISHED_FILE, strerror(err));
		pthread_mutex_unlock(&ex->err_mu);
		ret = PL_ESTORE;
	} else if (cp) {
		ex->pub_slot = 1 - ex->pub_slot;
	}
	ret = ret ? ret : wal;
	if (ret)
		ex->failed = true;
	return ret;
}

/*
 * Runs each item of the batch in the writer's transaction (begun, unless the
 * exchange failed). Returns 0, or the error that fails the whole batch.
 * Thread: the sequencer.
 */
static int ex_batch_items(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *items)
{
	struct ex_item *it;
	int ret;

	ret = ex->failed ? PL_ESTORE : ex->fenced ? PL_ESTATE : pl_store_begin(ex->w);
	for (it = items; !ret && it; it = it->next) {
		switch (it->type) {
		case EX_RECORD:
			ret = ex_seq_record(ex, b, it);
			break;
		case EX_PAYLOAD:
			ret = ex_seq_payload(ex, b, it);
			break;
		case EX_PARTY_ADD:
		case EX_PARTY_REVOKE:
			ret = pl__ex_seq_party(ex, b, it);
			break;
		case EX_PARTY_SIGNED:
			ret = pl__ex_seq_signed(ex, b, it);
			break;
		case EX_TIMERS:
			ret = pl__ex_seq_timers(ex, b, it);
			break;
		case EX_COSIGN:
			ret = ex_seq_cosign(ex, b, it);
			break;
		case EX_CONFIG:
			ret = pl__ex_seq_config(ex, b, it);
			break;
		}
	}
	return ret;
}

/*
 * The batch failed with ret: every item that was not refused fails. Nothing of
 * the batch is kept, unless its commit could not be made durable: then the
 * exchange stops (ex_durable()). Thread: the sequencer.
 */
static void ex_batch_failed(struct pl_exchange *ex, struct ex_item *items, int ret)
{
	struct ex_item *it;

	if (!ex->failed)
		ex_note_error(ex, ex->w, ret);
	/* Another sequencer took the log: this one stops, and no one is acknowledged. */
	if (pl_store_fenced(ex->w))
		ex->fenced = true;
	pl_store_rollback(ex->w);
	/* The tree may hold a root the rollback took away: the next batch reopens it. */
	pl_tindex_free(ex->tindex);
	ex->tindex = NULL;
	for (it = items; it; it = it->next) {
		if (it->status == 0) {
			it->status = ex->fenced ? PL_ESTATE : ret;
			ex_refuse(&it->why, ex->fenced ? "another parleyd sequences the log: retry"
			                               : "store error");
		}
		it->appended = false;
	}
}

/*
 * The batch b with its checkpoint cp is durable: publishes the checkpoint
 * (streams and long polls learn of it first), updates the directory and the
 * committed heads, then makes the submitters' receipts from the batch's
 * hashes in memory. Thread: the sequencer.
 */
static void ex_batch_publish(struct pl_exchange *ex, struct ex_batch *b, const struct pl_buf *cp,
                             struct ex_item *items)
{
	struct ex_memo *m = calloc(1, sizeof(*m));
	struct ex_item *it;
	char *text = strdup(cp->data);

	/* Durable: publish the checkpoint (streams and long polls learn of it first)... */
	if (b->dir_changed)
		(void)pl__ex_dir_load(ex, ex->w);
	pthread_mutex_lock(&ex->st_mu);
	ex->size = b->size0 + b->n;
	if (text) {
		free(ex->checkpoint);
		ex->checkpoint = text;
		ex->checkpoint_len = cp->len;
	}
	pthread_cond_broadcast(&ex->size_cv);
	pthread_mutex_unlock(&ex->st_mu);
	/* Before anyone is answered: an author's next record must find this head. */
	for (size_t i = 0; i < b->nheads; i++)
		pl__ex_head_put(ex, b->heads[i].author, &b->heads[i].link, b->heads[i].index);
	if (ex->o.on_append)
		ex->o.on_append(ex->o.on_append_arg, b->size0 + b->n);
	/* ...then the submitters' proofs, from the batch's hashes in memory. A proof
	 * that fails here is computed again from the store when it is handed out. */
	for (it = items; m && it; it = it->next) {
		struct pl_tlog_reader rd = {.read = ex_memo_read, .ctx = m};
		if (it->type != EX_RECORD || !it->appended)
			continue;
		m->s = ex->w;
		m->first = pl_tlog_stored_count(b->size0);
		m->b = b;
		it->size = b->size0 + b->n;
		if (pl__ex_receipt_make(&rd, it->index, it->id, it->size, cp->data, cp->len, NULL,
		                        &it->receipt) != 0)
			pl_receipt_release(&it->receipt);
	}
	free(m);
}

/*
 * Runs one batch: every item in one transaction, one checkpoint, one commit.
 * Thread: the sequencer.
 */
static void ex_run_batch(struct pl_exchange *ex, struct ex_item *items)
{
	struct ex_batch b;
	struct pl_buf cp;
	struct ex_item *it, *next;
	int ret;

	memset(&b, 0, sizeof(b));
	pl_buf_init(&cp, PL_CHECKPOINT_MAX_BYTES + 4096);
	pthread_mutex_lock(&ex->st_mu);
	b.size0 = ex->size;
	pthread_mutex_unlock(&ex->st_mu);

	ret = ex_batch_items(ex, &b, items);
	/* The batch's last entry: the index record over every record before it. */
	if (!ret && b.n)
		ret = pl__ex_append_index(ex, &b);
	if (!ret && b.n)
		ret = ex_seal(ex, &b, &cp);
	if (!ret && (b.n || b.wrote)) {
		int64_t t0 = ex_mono_us(), t1;
		ret = pl_store_commit(ex->w);
		t1 = ex_mono_us();
		if (!ret)
			ret = ex_durable(ex, b.n ? &cp : NULL);
		pl_metrics_hist_observe(&ex->m_sync_us, (uint64_t)(ex_mono_us() - t1));
		pl_metrics_hist_observe(&ex->m_commit_us, (uint64_t)(ex_mono_us() - t0));
	} else {
		pl_store_rollback(ex->w);
	}

	if (ret) {
		ex_batch_failed(ex, items, ret);
		atomic_fetch_add_explicit(&ex->m_batch_failures, 1, memory_order_relaxed);
	} else if (b.n) {
		ex_batch_publish(ex, &b, &cp, items);
		pl_metrics_hist_observe(&ex->m_batch, b.n);
		for (size_t k = 0; k <= PL_KIND_COUNT; k++)
			if (b.kinds[k])
				atomic_fetch_add_explicit(&ex->m_records[k], b.kinds[k],
				                          memory_order_relaxed);
		atomic_store_explicit(&ex->m_published, ex_now(ex), memory_order_relaxed);
	}
	if (!ret) {
		ex_publish_cosigned(ex, items);
		pl__ex_config_apply(ex, items);
	}
	for (it = items; it; it = next) {
		next = it->next;
		it->size = b.size0 + b.n;
		ex_complete(ex, it);
	}
	/* The store's upkeep, after the submitters are answered. */
	if (!ret)
		(void)ex_note_error(ex, ex->w, pl_store_maintain(ex->w, false));
	free(b.leaves);
	free(b.hashes);
	free(b.heads);
	free(b.trefs);
	pl_buf_release(&cp);
}

/*
 * Takes batches off the queue and runs them, until shutdown empties it.
 * Thread: the sequencer thread, whose body this is.
 */
static void *ex_sequencer(void *arg)
{
	struct pl_exchange *ex = arg;

	pthread_mutex_lock(&ex->mu);
	for (;;) {
		struct ex_item *batch, *last;
		size_t n;

		while (!ex->head && !ex->stopping)
			pthread_cond_wait(&ex->q_cv, &ex->mu);
		if (!ex->head)
			break;
		/*
		 * Linger while submissions keep arriving, up to the batch's age or
		 * size: a slice in which none arrived ends it.
		 */
		if (ex->o.batch_age_us > 1 && !ex->stopping) {
			int64_t until = ex->head->enqueued_us + ex->o.batch_age_us;
			while (ex->qlen < ex->o.batch_max && !ex->stopping) {
				int64_t now = ex_mono_us();
				int64_t slice = until - now;
				size_t before = ex->qlen;
				struct timespec ts;
				if (slice <= 0)
					break;
				if (slice > ex->o.batch_idle_us)
					slice = ex->o.batch_idle_us;
				ts = ex_deadline(slice);
				pthread_cond_timedwait(&ex->q_cv, &ex->mu, &ts);
				if (ex->qlen == before)
					break; /* idle: nobody else is coming soon */
			}
		}
		batch = ex->head;
		last = batch;
		for (n = 1; n < ex->o.batch_max && last->next; n++)
			last = last->next;
		ex->head = last->next;
		if (!ex->head)
			ex->tail = NULL;
		last->next = NULL;
		ex->qlen -= n;
		pthread_mutex_unlock(&ex->mu);
		ex_run_batch(ex, batch);
		pthread_mutex_lock(&ex->mu);
	}
	pthread_mutex_unlock(&ex->mu);
	return NULL;
}

/*
 * Queues an item. Returns PL_ESTATE after shutdown.
 * Thread: a submitter's, or any thread with a synchronous item; never the sequencer's.
 */
int pl__ex_enqueue(struct pl_exchange *ex, struct ex_item *it)
{
	int ret = 0;

	it->next = NULL;
	it->enqueued_us = ex_mono_us();
	pthread_mutex_lock(&ex->mu);
	if (ex->stopping) {
		ret = PL_ESTATE;
	} else {
		if (ex->tail)
			ex->tail->next = it;
		else
			ex->head = it;
		ex->tail = it;
		ex->qlen++;
		/*
		 * Wake the sequencer for a first item or a full batch only: while it
		 * lingers it looks at the queue once per idle slice, so the arrivals
		 * in between cost no thread switch each.
		 */
		if (ex->qlen == 1 || ex->qlen == ex->o.batch_max)
			pthread_cond_signal(&ex->q_cv);
	}
	pthread_mutex_unlock(&ex->mu);
	return ret;
}

/*
 * Queues a synchronous item and waits for the sequencer to finish it.
 * Thread: any but the sequencer's, which would wait for itself: submitters of payloads, parties and
 * cosignatures, and the timer thread.
 */
int pl__ex_run_sync(struct pl_exchange *ex, struct ex_item *it)
{
	int ret;

	if (pl__ex_cond_init(&it->cv))
		return PL_ENOMEM;
	it->cv_init = true;
	ret = pl__ex_enqueue(ex, it);
	if (!ret) {
		pthread_mutex_lock(&ex->mu);
		while (!it->done)
			pthread_cond_wait(&it->cv, &ex->mu);
		pthread_mutex_unlock(&ex->mu);
		ret = it->status;
	}
	pthread_cond_destroy(&it->cv);
	it->cv_init = false;
	return ret;
}

/*
 * Every timer_interval_ms, fires passed deadlines and due checks through the sequencer, until
 * shutdown.
 * Thread: the timer thread, whose body this is.
 */
static void *ex_timer_thread(void *arg)
{
	struct pl_exchange *ex = arg;

	for (;;) {
		struct timespec ts = ex_deadline((int64_t)ex->o.timer_interval_ms * 1000);
		bool stop;

		pthread_mutex_lock(&ex->mu);
		if (!ex->stopping)
			pthread_cond_timedwait(&ex->timer_cv, &ex->mu, &ts);
		stop = ex->stopping;
		pthread_mutex_unlock(&ex->mu);
		if (stop)
			break;
		(void)pl_exchange_run_timers(ex);
	}
	return NULL;
}

/*
 * Starts the exchange's threads: the published file's syncer, the sequencer, the timers.
 * Thread: open's.
 */
int pl__ex_start_threads(struct pl_exchange *ex)
{
	int ret = PL_ENOMEM;

	if (pthread_create(&ex->sync_thread, NULL, ex_syncer, ex) != 0)
		goto out;
	ex->sync_started = true;
	if (pthread_create(&ex->seq_thread, NULL, ex_sequencer, ex) != 0)
		goto out;
	ex->seq_started = true;
	if (!ex->o.manual_timers) {
		if (pthread_create(&ex->timer_thread, NULL, ex_timer_thread, ex) != 0)
			goto out;
		ex->timer_started = true;
	}
	ret = 0;
out:
	return ret;
}

/*
 * Fires passed deadlines and due checks in one batch (EX_TIMERS); returns the records appended or
 * an error.
 * Thread: the timer thread, or the caller's with manual_timers (tests).
 */
int pl_exchange_run_timers(struct pl_exchange *ex)
{
	struct ex_item it;
	int ret;

	if (!ex)
		return PL_EINVAL;
	memset(&it, 0, sizeof(it));
	it.type = EX_TIMERS;
	ret = pl__ex_run_sync(ex, &it);
	return ret ? ret : it.count;
}
