/* A member's export of a dossier: the session as the dossier's source (checkpoint, tiles,
 * bundles, records, register records, the thread index), the subject and disclosures resolved,
 * built and verified. */
#include <parley/member_export.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <parley/client.h>
#include <parley/proof.h>
#include <parley/record.h>
#include <parley/tiles.h>

#include "internal.h"

/* Bytes of the one-line reason the dossier library gives. */
#define EXPORT_WHY_MAX 2048

/*
 * The export running, as the source's context: the first fetch from the
 * exchange that failed, so that it is said as the session says the
 * exchange's failures (a refusal is the exchange's), whatever the library
 * was doing when it needed it.
 */
struct running {
	struct pl_session *s;
	struct pl_member_export *e;
	int err;         /* the first fetch that failed */
	char what[96];   /* what it fetched */
	bool said;       /* the session already said why (s->why) */
	bool wrong_size; /* a tile of another size than asked */
	size_t got, want;
};

void pl_member_export_release(struct pl_member_export *e)
{
	if (!e)
		return;
	pl_dossier_export_free(e->x);
	for (size_t i = 0; i < e->ndisclosed; i++)
		pl_state_plaintext_free(e->plain[i], e->disc[i].len);
	/* The dossier holds the disclosed plaintexts too: no copy is left behind in memory. */
	if (e->json.data)
		sodium_memzero(e->json.data, e->json.len);
	pl_buf_release(&e->json);
	pl_session_record_release(&e->head);
	sodium_memzero(e->disc, sizeof(e->disc));
	e->x = NULL;
	e->ndisclosed = 0;
	memset(e->plain, 0, sizeof(e->plain));
}

static int fetch_failed(struct running *r, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fetch_failed(struct running *r, int err, const char *fmt, ...)
{
	va_list ap;

	if (!r->err) {
		r->err = err;
		va_start(ap, fmt);
		vsnprintf(r->what, sizeof(r->what), fmt, ap);
		va_end(ap);
	}
	return err;
}

/*
 * Fetches the checkpoint after the subject, so that it covers it. An
 * exchange with witnesses serves the newest checkpoint they cosigned, which
 * lags a record just logged by a witness round: polls for one that covers
 * the subject, at most wait_ms. The library reports one that never came.
 */
/*
 * The checkpoint of tree size r->e->at (--at): the one the exchange includes
 * in the subject's tlog-proof at that size, checked as every checkpoint is.
 */
static int checkpoint_at(struct running *r, struct pl_buf *note)
{
	const struct pl_member_export *e = r->e;
	struct pl_proof *p = NULL;
	struct pl_buf b;
	int err;

	if (e->at <= e->head.index)
		return pl__session_fail(r->s, PL_BLAME_LOCAL, PL_EINVAL,
		                        "--at %" PRIu64 ": the checkpoint of that size does not "
		                        "cover record %.16s (log #%" PRIu64 ")",
		                        e->at, e->head.hex, e->head.index);
	pl_buf_init(&b, PL_TLOG_PROOF_MAX_BYTES);
	err = pl_client_proof(r->s->client, e->head.hex, e->at, &b);
	if (err == 0)
		err = pl_proof_parse(&p, b.data ? b.data : "", b.len);
	if (err == PL_ENOTFOUND)
		err = pl__session_fail(r->s, PL_BLAME_EVIDENCE, PL_EPROOF,
		                       "--at %" PRIu64 ": the exchange signed no checkpoint of "
		                       "that size",
		                       e->at);
	else if (err == PL_EMALFORMED || err == PL_ETOOBIG)
		err = pl__session_fail(r->s, PL_BLAME_EVIDENCE, PL_EPROOF,
		                       "--at %" PRIu64 ": the exchange's proof of record %.16s "
		                       "is malformed",
		                       e->at, e->head.hex);
	else if (err)
		err = pl_session_client_error(r->s, "checkpoint", err);
	else
		err = pl_session_checkpoint(r->s, p->checkpoint, p->checkpoint_len, NULL);
	if (err == 0)
		err = pl_buf_add(note, p->checkpoint, p->checkpoint_len);
	pl_proof_free(p);
	pl_buf_release(&b);
	return err;
}

static int src_checkpoint(void *ctx, uint64_t covering, struct pl_buf *note)
{
	const struct timespec tick = {0, 100 * 1000 * 1000};
	struct running *r = ctx;
	struct pl_checkpoint cp;
	uint64_t waited = 0;
	int err = 0;

	for (;;) {
		pl_buf_reset(note);
		if (r->e->at) {
			err = checkpoint_at(r, note);
			break;
		}
		err = pl_session_refresh(r->s, &cp, note);
		if (err || cp.size > covering || waited >= r->e->wait_ms)
			break;
		if (waited == 0 && r->e->waiting)
			r->e->waiting(r->e->ctx, covering, cp.size);
		nanosleep(&tick, NULL);
		waited += 100;
	}
	if (err) {
		r->said = true; /* the session said why */
		r->err = err;
		return PL_EPROOF;
	}
	return 0;
}

/* GET /tile/<L>/<N>[.p/<W>], exactly the tile's bytes. */
static int src_tile(void *ctx, const struct pl_tile *t, uint8_t *out)
{
	struct running *r = ctx;
	size_t want = (size_t)t->width * PL_HASH_BYTES;
	struct pl_buf b;
	int err;

	pl_buf_init(&b, PL_TILE_BYTES);
	err = pl_client_tile(r->s->client, t->level, t->n, t->width == PL_TILE_WIDTH ? 0 : t->width,
	                     &b);
	if (err == 0 && b.len != want) {
		err = fetch_failed(r, PL_EMALFORMED, "hash tile %u/%" PRIu64, t->level, t->n);
		if (r->err == err && !r->wrong_size) {
			r->wrong_size = true;
			r->got = b.len;
			r->want = want;
		}
	} else if (err) {
		err = fetch_failed(r, err, "hash tile %u/%" PRIu64, t->level, t->n);
	} else {
		memcpy(out, b.data, want);
	}
	pl_buf_release(&b);
	return err;
}

/* GET /tile/entries/<N>[.p/<W>]. */
static int src_bundle(void *ctx, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct running *r = ctx;
	int err = pl_client_entry_bundle(r->s->client, n, width == PL_TILE_WIDTH ? 0 : width, out);
	const struct pl_client_error *ce = err ? pl_client_last_error(r->s->client) : NULL;

	if (ce && ce->status == 403 && !r->err && !r->said) {
		/* Need-to-know: an entry bundle holds others' records, so only auditors read it. */
		/* The export reads one only for a register the directory no longer names. */
		r->said = true;
		r->err = pl__session_fail(r->s, PL_BLAME_REFUSED, err,
		                          "entry bundle %" PRIu64 ": it holds others' records, and "
		                          "only the exchange's auditors (its parleyd.conf "
		                          "`auditors`) may read it; %s is not one",
		                          n, r->s->profile.party);
		return r->err;
	}
	return err ? fetch_failed(r, err, "entry bundle %" PRIu64, n) : 0;
}

/* GET /records/<id>. */
static int src_record(void *ctx, const uint8_t id[PL_RECORD_ID_BYTES], struct pl_buf *out,
                      uint64_t *index)
{
	struct running *r = ctx;
	struct pl_client_entry ent;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int err;

	memset(&ent, 0, sizeof(ent));
	pl_record_id_format(hex, id);
	err = pl_client_record(r->s->client, hex, &ent);
	if (err)
		err = fetch_failed(r, err, "record %.16s", hex);
	else if ((err = pl_buf_add(out, ent.note, ent.note_len)) == 0)
		*index = ent.index;
	pl_client_entry_release(&ent);
	return err;
}

/*
 * The register record of a key the directory names (pl_session_directory()
 * checked it against its entry); PL_ENOTFOUND for a key it no longer names,
 * which the library then looks for in the entry bundles.
 */
static int src_register(void *ctx, const char *key_name, const uint8_t key_id[PL_KEYID_BYTES],
                        struct pl_buf *out, uint64_t *index)
{
	struct running *r = ctx;
	const struct pl_client_party *p;
	int err = pl_session_directory(r->s, false);

	if (err) {
		r->said = true;
		r->err = err;
		return PL_EPROOF;
	}
	for (size_t i = 0; i < r->s->nparties; i++) {
		p = &r->s->parties[i];
		if (strcmp(p->vkey.name, key_name) == 0 &&
		    memcmp(p->vkey.id, key_id, PL_KEYID_BYTES) == 0) {
			err = pl_buf_add(out, p->register_record, p->register_record_len);
			if (err == 0)
				*index = p->register_index;
			return err;
		}
	}
	return PL_ENOTFOUND;
}

/* GET /index/<id>?size=N: the thread index proof of a record, under the checkpoint's index. */
static int src_index_proof(void *ctx, const uint8_t key[PL_HASH_BYTES], uint64_t size,
                           struct pl_buf *out)
{
	struct running *r = ctx;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int err = pl_client_index_proof(r->s->client, key, size, out);

	if (err) {
		pl_record_id_format(hex, key);
		err = fetch_failed(r, err, "the thread index proof of record %.16s", hex);
	}
	return err;
}

/* GET /index?size=N: the index record that ends the checkpoint, public. */
static int src_index_record(void *ctx, uint64_t size, struct pl_buf *out, uint64_t *index)
{
	struct running *r = ctx;
	int err = pl_client_index_record(r->s->client, size, out, index);

	return err ? fetch_failed(r, err, "the index record of checkpoint %" PRIu64, size) : 0;
}

/* Says why the gathering failed: the exchange's fetch as the session says it, or the library's. */
static int collect_failed(struct running *r, int err, const struct pl_buf *why)
{
	if (r->said)
		return r->err;
	if (r->err && r->wrong_size)
		return pl__session_fail(r->s, PL_BLAME_EVIDENCE, PL_EPROOF,
		                        "%s: the exchange sent %zu bytes, not %zu", r->what, r->got,
		                        r->want);
	if (r->err && r->err != PL_ENOMEM)
		return pl_session_client_error(r->s, r->what, err);
	return pl__session_fail(
	        r->s, err == PL_ENOMEM || err == PL_ETOOBIG ? PL_BLAME_LOCAL : PL_BLAME_EVIDENCE,
	        err, "%s", why->len ? why->data : pl_strerror(err));
}

/*
 * Resolves the subject: the record named, or for a record that acts on
 * another (a receive, a decline, an advice...) the send, consultation or
 * check it acts on, which heads the thread.
 */
static int find_subject(struct pl_session *s, struct pl_member_export *e)
{
	struct pl_session_record r;
	const struct pl_record_ref *ref;
	enum pl_ref_role role;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int err;

	memset(&r, 0, sizeof(r));
	err = pl_session_resolve(s, e->subject, &r);
	if (err)
		goto out;
	role = pl_record_kind_target(r.rec->kind);
	ref = role ? pl_record_ref_find(r.rec, role) : NULL;
	if (role && !ref) {
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, PL_ERULE,
		                       "record %.16s: a %s that names no record it acts on", r.hex,
		                       pl_record_kind_name(r.rec->kind));
		goto out;
	}
	if (ref) {
		pl_record_id_format(hex, ref->id);
		pl_session_record_release(&r);
		err = pl_session_resolve(s, hex, &r);
		if (err)
			goto out;
	}
	if (!pl_dossier_is_subject_kind(r.rec->kind))
		err = pl__session_fail(
		        s, PL_BLAME_LOCAL, PL_EINVAL,
		        "record %.16s: a %s heads no thread; give a send, consultation, "
		        "check or statement",
		        r.hex, pl_record_kind_name(r.rec->kind));
	else if (r.index == UINT64_MAX)
		err = pl__session_fail(
		        s, PL_BLAME_EVIDENCE, PL_EMALFORMED,
		        "record %.16s: the exchange did not say where it is in the log", r.hex);
	if (!err) {
		e->head = r;
		memset(&r, 0, sizeof(r));
	}
out:
	pl_session_record_release(&r);
	return err;
}

/*
 * Adds the disclosure of record arg: the opened copy in the local state, or
 * the payload fetched and opened with this party's key (pl_session_payload()
 * checks it against the record's commitment).
 */
static int add_disclosure(struct pl_session *s, struct pl_member_export *e, const char *arg)
{
	struct pl_session_record r;
	struct pl_dossier_disclosure *d = &e->disc[e->ndisclosed];
	uint8_t *plain = NULL;
	size_t len = 0;
	int err;

	memset(&r, 0, sizeof(r));
	err = pl_session_resolve(s, arg, &r);
	for (size_t i = 0; !err && i < e->ndisclosed; i++) {
		if (memcmp(e->disc[i].id, r.id, PL_RECORD_ID_BYTES) == 0)
			goto out; /* named twice */
	}
	if (err)
		goto out;
	if (!pl_dossier_export_holds(e->x, r.id))
		err = pl__session_fail(
		        s, PL_BLAME_LOCAL, PL_EINVAL,
		        "record %.16s: not in the dossier of %.16s (not of its thread, nor a "
		        "record the thread refers to), so it cannot be disclosed in it",
		        r.hex, e->head.hex);
	else if (!(r.rec->has & PL_RECORD_HAS_COMMIT))
		err = pl__session_fail(
		        s, PL_BLAME_LOCAL, PL_EINVAL,
		        "record %.16s: a %s seals no content, so there is nothing to "
		        "disclose",
		        r.hex, pl_record_kind_name(r.rec->kind));
	else
		err = pl_session_payload(s, &r, &plain, &len, d->salt);
	if (!err && !plain)
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_EDENIED,
		                       "record %.16s: %s is not one of its readers, so it cannot "
		                       "disclose it",
		                       r.hex, s->profile.party);
	if (err)
		goto out;
	memcpy(d->id, r.id, PL_RECORD_ID_BYTES);
	d->plaintext = plain;
	d->len = len;
	e->plain[e->ndisclosed++] = plain;
	plain = NULL;
out:
	pl_state_plaintext_free(plain, len);
	pl_session_record_release(&r);
	return err;
}

int pl_member_export(struct pl_session *s, struct pl_member_export *e)
{
	struct running r = {.s = s, .e = e};
	const struct pl_dossier_source src = {
	        .ctx = &r,
	        .checkpoint = src_checkpoint,
	        .tile = src_tile,
	        .bundle = src_bundle,
	        .record = src_record,
	        .register_of = src_register,
	        .index_proof = src_index_proof,
	        .index_record = src_index_record,
	};
	struct pl_buf why;
	int err;

	pl_buf_init(&why, EXPORT_WHY_MAX);
	pl_buf_init(&e->json, PL_DOSSIER_MAX_BYTES);
	if (e->ndisclose > PL_DOSSIER_MAX_DISCLOSURES) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ETOOBIG, "more than %d disclosures",
		                       PL_DOSSIER_MAX_DISCLOSURES);
		goto out;
	}
	err = find_subject(s, e);
	if (err)
		goto out;
	err = pl_dossier_export_collect(&e->x, &src, &s->profile.log_key, e->head.id, e->head.index,
	                                &why);
	if (err) {
		err = collect_failed(&r, err, &why);
		goto out;
	}
	for (size_t i = 0; !err && i < e->ndisclose; i++)
		err = add_disclosure(s, e, e->disclose[i]);
	if (err)
		goto out;
	/* Built, then verified with the pinned log key as a reader will: never handed out
	 * unchecked. */
	err = pl_dossier_export_finish(e->x, e->disc, e->ndisclosed, &e->json, NULL, &why);
	if (err)
		err = pl__session_fail(s,
		                       err == PL_ENOMEM || err == PL_ETOOBIG ? PL_BLAME_LOCAL
		                                                             : PL_BLAME_EVIDENCE,
		                       err, "%s", why.len ? why.data : pl_strerror(err));
	if (!err)
		pl_dossier_export_info(e->x, &e->info);
out:
	pl_buf_release(&why);
	return err;
}
