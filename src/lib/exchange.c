/* The exchange's shared state and caches: records loaded, the directory and the chain heads. */
#include <parley/exchange.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <parley/box.h>
#include <parley/chain.h>
#include <parley/note.h>
#include <parley/party.h>
#include <parley/record.h>

#include "exchange_int.h"
#include "internal.h"
#include "store.h"

/*
 * Initialises a condition variable on CLOCK_MONOTONIC, the clock ex_deadline() gives.
 * Thread: open's, and any thread queuing a synchronous item (pl__ex_run_sync()).
 */
int pl__ex_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	int rc;

	if (pthread_condattr_init(&a))
		return PL_ENOMEM;
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	rc = pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
	return rc ? PL_ENOMEM : 0;
}

/*
 * Loads and parses the record at index. The store is not trusted blindly: a
 * record that no longer parses is a corrupt store.
 * Thread: any that holds s: the sequencer (the writer) or a reader or submitter (a read
 * connection).
 */
int pl__ex_load(struct pl_store *s, uint64_t index, struct pl_record *out,
                struct pl_store_record *meta)
{
	struct pl_buf b;
	struct pl_note *n = NULL;
	int ret;

	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	ret = pl_store_record_get(s, index, meta, &b);
	if (ret)
		goto out;
	ret = pl_note_parse(&n, b.data, b.len);
	if (!ret)
		ret = pl_record_parse(out, n->text, n->text_len, NULL);
	if (ret)
		ret = PL_ESTORE;
out:
	pl_note_free(n);
	pl_buf_release(&b);
	return ret;
}

/*
 * Keeps what a check found for the operator and returns PL_EDAMAGED.
 * Thread: any reader's, and open's.
 */
int pl__ex_damaged(struct pl_exchange *ex, const char *why)
{
	pthread_mutex_lock(&ex->err_mu);
	snprintf(ex->lasterr, sizeof(ex->lasterr), "damaged store: %s", why);
	pthread_mutex_unlock(&ex->err_mu);
	return PL_EDAMAGED;
}

/* ---- The directory cache ---- */

/*
 * The parties for judging before the sequencer, under dir_lock, in
 * pl_directory's convention: position 0 is the log key (keys[0]), each party
 * keeps a position (keys[i] with members[i], i >= 1), and a look-up that
 * finds none answers PL_DIRECTORY_NONE (ex_dir_find()). keys[0..nkeys) is
 * the array pl_record_open() takes. Unlike a pl_directory it is the store's
 * directory, one signing key per party, rebuilt whole after a batch that
 * changed it, rather than a replay.
 */

/*
 * Decodes an `enc` key text (party module form) to its X25519 public key.
 * Thread: open's, and the sequencer's after a batch that changed the directory.
 */
static bool ex_enc_pk(const char *enc, uint8_t pk[static PL_BOX_PK_BYTES])
{
	struct pl_party_ekey ek;

	if (pl_party_ekey_parse(&ek, enc, strlen(enc)) != 0)
		return false;
	memcpy(pk, ek.pk, PL_BOX_PK_BYTES);
	return true;
}

/*
 * Rebuilds the directory cache from the store (at open and after register/revoke).
 * Thread: open's, and the sequencer's after a batch that changed the directory.
 */
int pl__ex_dir_load(struct pl_exchange *ex, struct pl_store *s)
{
	struct pl_store_party *v = NULL;
	struct pl_vkey *keys = NULL;
	struct ex_member *members = NULL;
	size_t n = 0;
	int ret;

	ret = pl_store_party_list(s, &v, &n);
	if (ret)
		goto out;
	keys = calloc(n + 1, sizeof(*keys));
	members = calloc(n + 1, sizeof(*members));
	if (!keys || !members) {
		ret = PL_ENOMEM;
		goto out;
	}
	keys[0] = ex->vkey;
	for (size_t i = 0; i < n; i++) {
		ret = pl_vkey_parse(&keys[i + 1], v[i].vkey, strlen(v[i].vkey));
		if (ret) {
			ret = PL_ESTORE;
			goto out;
		}
		snprintf(members[i + 1].name, sizeof(members[i + 1].name), "%s", v[i].name);
		ret = pl_store_party_chain_get(s, v[i].name, members[i + 1].chain,
		                               sizeof(members[i + 1].chain));
		if (ret)
			goto out;
		members[i + 1].pid = v[i].pid;
		members[i + 1].revoked = v[i].revoked;
		members[i + 1].has_enc = ex_enc_pk(v[i].enc_key, members[i + 1].enc_pk);
	}
	pthread_rwlock_wrlock(&ex->dir_lock);
	free(ex->keys);
	free(ex->members);
	ex->keys = keys;
	ex->members = members;
	ex->nkeys = n + 1;
	pthread_rwlock_unlock(&ex->dir_lock);
	keys = NULL;
	members = NULL;
out:
	free(v);
	free(keys);
	free(members);
	return ret;
}

/* ---- The committed-head cache ---- */

/*
 * Validation before the sequencer reads each author's chain head from here
 * instead of loading and parsing the head record. Entries only move forward
 * (a chain never shrinks), so a head loaded from an older snapshot can never
 * replace a newer one. The sequencer, which judges inside its transaction,
 * reads the store. Its look-up (ex_head_get()) is inline in exchange_int.h:
 * the judge asks it once per record.
 */

/*
 * Doubles the open-addressed table *heads of *cap slots, rehashing every head;
 * false (the table unchanged) without memory. Thread: its owner's (the head
 * cache under head_mu, or one check's own table).
 */
bool pl__ex_heads_grow(struct ex_head **heads, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	struct ex_head *t = calloc(ncap, sizeof(*t));

	if (!t)
		return false;
	for (size_t i = 0; i < *cap; i++)
		if ((*heads)[i].author[0])
			t[ex_head_slot(t, ncap, (*heads)[i].author)] = (*heads)[i];
	free(*heads);
	*heads = t;
	*cap = ncap;
	return true;
}

/*
 * Records a committed head unless the cache already holds a later one; best effort.
 * Thread: a submitter's (a head it read from the store) or the sequencer's (after each commit).
 */
void pl__ex_head_put(struct pl_exchange *ex, const char *author, const struct pl_chain_link *link,
                     uint64_t index)
{
	pthread_mutex_lock(&ex->head_mu);
	if (2 * (ex->nheads + 1) <= ex->heads_cap ||
	    pl__ex_heads_grow(&ex->heads, &ex->heads_cap)) {
		struct ex_head *h = &ex->heads[ex_head_slot(ex->heads, ex->heads_cap, author)];
		if (!h->author[0]) {
			snprintf(h->author, sizeof(h->author), "%s", author);
			ex->nheads++;
			h->link = *link;
			h->index = index;
		} else if (link->seq > h->link.seq) {
			h->link = *link;
			h->index = index;
		}
	}
	pthread_mutex_unlock(&ex->head_mu);
}

/* ---- What the exchange is ---- */

/* The exchange's origin, fixed at open. Thread: any. */
const char *pl_exchange_origin(const struct pl_exchange *ex)
{
	return ex->origin;
}

/* The log key, fixed at open. Thread: any. */
const struct pl_vkey *pl_exchange_vkey(const struct pl_exchange *ex)
{
	return &ex->vkey;
}

/* The detail of the last store failure or damage found, for the operator's log. Thread: any. */
void pl_exchange_last_error(struct pl_exchange *ex, char *out, size_t outlen)
{
	if (!out || !outlen)
		return;
	pthread_mutex_lock(&ex->err_mu);
	snprintf(out, outlen, "%s", ex->lasterr);
	pthread_mutex_unlock(&ex->err_mu);
}
