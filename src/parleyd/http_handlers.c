/* parleyd's endpoint handlers and their answers: the dispatch of a whole request to its handler. */
#include "http_private.h"

#include <stdio.h>
#include <stdlib.h>

#include <parley/apicodec.h>
#include <parley/auth.h>
#include <parley/encoding.h>
#include <parley/tiles.h>
#include <parley/tindex.h>

#include "assets.h"
#include "daemon/log.h"
#include "internal.h"

/*
 * The headers every answer carries: Content-Type (when ctype is not NULL),
 * Cache-Control and nosniff. Runs on an MHD worker, in the access handler.
 */
void pl__http_headers(struct MHD_Response *resp, const char *ctype, const char *cache)
{
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
}

/*
 * Queues resp with status for r, drops our reference and notes r answered.
 * Runs on an MHD worker, in the access handler.
 */
enum MHD_Result pl__http_queue(struct req *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);

	pl__http_count(r->h, r->route, status);
	MHD_destroy_response(resp);
	r->answered = true;
	return ret;
}

/*
 * Queues a response and drops our reference. data is copied unless take is set
 * (then freed). Runs on an MHD worker, in the access handler.
 */
enum MHD_Result pl__http_send_bytes(struct req *r, unsigned status, const char *ctype,
                                    const char *cache, void *data, size_t len, bool take)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(
	        len, data, take ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	if (!resp) {
		if (take)
			free(data);
		return MHD_NO;
	}
	pl__http_headers(resp, ctype, cache ? cache : CACHE_NONE);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, PL_AUTH_SCHEME);
	if (status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(
		        resp, MHD_HTTP_HEADER_ALLOW,
		        r->route == R_PAYLOAD_POST || r->route == R_RECORD_POST ? "POST" : "GET");
	if (r->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->h->quiescing)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	return pl__http_queue(r, status, resp);
}

/*
 * Queues an error answer (docs/api.md, "Errors"); chain as for
 * pl_apicodec_error(). Runs on an MHD worker, in the access handler.
 */
static enum MHD_Result send_error_body(struct req *r, unsigned status, const char *code,
                                       const char *reason, const struct pl_exchange_refusal *chain)
{
	static const char oom[] = "{\"error\":\"internal\",\"reason\":\"out of memory\"}";
	struct pl_buf b;
	size_t len = 0;
	char *s;

	if (status >= 500)
		pl_daemon_log("error", "http", "status=%u code=%s reason=\"%s\"", status, code,
		              reason);
	pl_buf_init(&b, 1024 + 6 * strlen(reason));
	if (pl_apicodec_error(&b, code, reason, chain) != 0 || !(s = pl_buf_detach(&b, &len))) {
		pl_buf_release(&b);
		return pl__http_send_bytes(r, MHD_HTTP_INTERNAL_SERVER_ERROR, APP_JSON, NULL,
		                           (void *)oom, sizeof(oom) - 1, false);
	}
	return pl__http_send_bytes(r, status, APP_JSON, NULL, s, len, true);
}

/* Queues an error answer with no refusal chain. Runs on an MHD worker, in the access handler. */
enum MHD_Result pl__http_send_error(struct req *r, unsigned status, const char *code,
                                    const char *reason)
{
	return send_error_body(r, status, code, reason, NULL);
}

/* The HTTP status and error code of a library error (docs/api.md, "Errors"). Any thread. */
static unsigned status_of(int err, const char **code)
{
	switch (err) {
	case PL_EMALFORMED:
	case PL_EINVAL:
		*code = "malformed";
		return MHD_HTTP_BAD_REQUEST;
	case PL_EAMBIGUOUS:
		*code = "ambiguous";
		return MHD_HTTP_BAD_REQUEST;
	case PL_ERANGE:
		*code = "out-of-range";
		return MHD_HTTP_BAD_REQUEST;
	case PL_EVERIFY:
		*code = "bad-signature";
		return MHD_HTTP_UNAUTHORIZED;
	case PL_EDENIED:
	case PL_ENOKEY:
		*code = "forbidden";
		return MHD_HTTP_FORBIDDEN;
	case PL_ENOTFOUND:
		*code = "not-found";
		return MHD_HTTP_NOT_FOUND;
	case PL_ECHAIN:
	case PL_EEXIST:
		*code = "conflict";
		return MHD_HTTP_CONFLICT;
	case PL_ETOOBIG:
		*code = "too-large";
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case PL_ERULE:
		*code = "rule";
		return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case PL_ESTATE:
		*code = "unavailable";
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	case PL_ELIMIT:
		*code = "rate-limited";
		return MHD_HTTP_TOO_MANY_REQUESTS;
	case PL_EDAMAGED: /* the store no longer gives what was logged: logged, never served */
	default:
		*code = "internal";
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/*
 * Answers a library error err met while doing what; an internal one is logged
 * with the engine's detail, not sent. Runs on an MHD worker, in the access
 * handler.
 */
enum MHD_Result pl__http_send_lib_error(struct req *r, int err, const char *what)
{
	const char *code;
	unsigned status = status_of(err, &code);
	char reason[160];

	if (status >= 500 && err != PL_ESTATE) {
		char detail[256];
		pl_exchange_last_error(r->h->ex, detail, sizeof(detail));
		pl_daemon_log("error", "http", "what=%s err=\"%s\" detail=\"%s\"", what,
		              pl_strerror(err), detail);
		return pl__http_send_bytes(
		        r, status, APP_JSON, NULL,
		        (void *)"{\"error\":\"internal\",\"reason\":\"internal error\"}",
		        sizeof("{\"error\":\"internal\",\"reason\":\"internal error\"}") - 1,
		        false);
	}
	snprintf(reason, sizeof(reason), "%s: %s", what, pl_strerror(err));
	return pl__http_send_error(r, status, code, reason);
}

/* Answers the text in b, which it takes. Runs on an MHD worker, in the access handler. */
static enum MHD_Result send_buf(struct req *r, unsigned status, const char *ctype,
                                const char *cache, struct pl_buf *b)
{
	size_t len;
	char *s = pl_buf_detach(b, &len);

	if (!s)
		return pl__http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		                           "out of memory");
	return pl__http_send_bytes(r, status, ctype, cache, s, len, true);
}

/* GET /checkpoint. Runs on an MHD worker, in the access handler. */
static enum MHD_Result do_checkpoint(struct req *r)
{
	struct pl_buf b;
	int err;

	pl_buf_init(&b, PL_CHECKPOINT_MAX_BYTES + PL_NOTE_MAX_SIGS * 512);
	/* With witnesses, the newest checkpoint they vouch for (docs/api.md); else the newest. */
	err = r->h->cfg.nwitnesses ? pl_exchange_checkpoint_cosigned(r->h->ex, &b) : PL_ENOTFOUND;
	if (err == PL_ENOTFOUND)
		err = pl_exchange_checkpoint(r->h->ex, &b);
	if (err) {
		pl_buf_release(&b);
		return pl__http_send_lib_error(r, err, "checkpoint");
	}
	return send_buf(r, MHD_HTTP_OK, TEXT_PLAIN, CACHE_CHECKPOINT, &b);
}

/*
 * The log's verifier key, for clients that trust it on first use (and say so).
 * Runs on an MHD worker, in the access handler.
 */
static enum MHD_Result do_log_key(struct req *r)
{
	struct pl_buf b;
	int err;

	pl_buf_init(&b, PL_KEY_NAME_MAX + 128);
	err = pl_vkey_format(pl_exchange_vkey(r->h->ex), &b);
	if (!err)
		err = pl_buf_add(&b, "\n", 1);
	if (err) {
		pl_buf_release(&b);
		return pl__http_send_lib_error(r, err, "log key");
	}
	return send_buf(r, MHD_HTTP_OK, TEXT_PLAIN, CACHE_CHECKPOINT, &b);
}

/*
 * GET /tile/<L>/<N> and, when entries, GET /tile/entries/<N>. Runs on an MHD
 * worker, in the access handler.
 */
static enum MHD_Result do_tile(struct req *r, bool entries)
{
	struct pl_buf b;
	int err;

	pl_buf_init(&b, entries ? PL_TILE_WIDTH * (PL_ENTRY_MAX_BYTES + 2) : PL_TILE_BYTES);
	if (entries)
		err = pl_exchange_entry_bundle(r->h->ex, req_reader(r), r->tile, r->width, &b);
	else
		err = pl_exchange_tile(r->h->ex, r->level, r->tile, r->width, &b);
	if (err == PL_EDENIED) {
		/* Whether the bundle exists is public (hash tiles): refusing says nothing more. */
		pl_buf_release(&b);
		return pl__http_send_error(
		        r, MHD_HTTP_FORBIDDEN, "forbidden",
		        "entry bundles are read by the exchange's auditors only "
		        "(parleyd.conf auditors); a member proves its own records "
		        "with hash tiles");
	}
	if (err) {
		pl_buf_release(&b);
		return pl__http_send_lib_error(r, err, entries ? "entry bundle" : "tile");
	}
	/* Full and partial tiles alike never change once they exist (c2sp.org/tlog-tiles). */
	return send_buf(r, MHD_HTTP_OK, APP_OCTETS, entries ? CACHE_PRIVATE : CACHE_IMMUTABLE, &b);
}

/* POST /payloads. Runs on an MHD worker, in the access handler. */
static enum MHD_Result do_payload_post(struct req *r)
{
	uint8_t hash[PL_HASH_BYTES];
	char hex[PL_HASH_HEX_LEN + 1];
	struct pl_buf b;
	int err;

	err = pl_exchange_payload_put(r->h->ex, r->party, (const uint8_t *)r->body.data,
	                              r->body.len, hash);
	/* 507: this party's storage is full until its sends refer to its blobs or they expire. */
	if (err == PL_ELIMIT)
		return pl__http_send_error(
		        r, MHD_HTTP_INSUFFICIENT_STORAGE, "over-quota",
		        "payload: this party's payloads that no record refers to would "
		        "exceed payload_unreferenced_max");
	if (err)
		return pl__http_send_lib_error(r, err, "payload");
	pl_hex_encode(hex, hash, sizeof(hash));
	snprintf(r->location, sizeof(r->location), "/payloads/%s", hex);
	pl_buf_init(&b, 256);
	if (pl_apicodec_payload(&b, hash, r->body.len) != 0) {
		pl_buf_release(&b);
		return pl__http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		                           "out of memory");
	}
	return send_buf(r, MHD_HTTP_CREATED, APP_JSON, NULL, &b);
}

/* GET /payloads/<hash>. Runs on an MHD worker, in the access handler. */
static enum MHD_Result do_payload_get(struct req *r)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	int err = pl_exchange_payload_get(r->h->ex, r->party, r->hash, &blob, &len);

	if (err)
		return pl__http_send_lib_error(r, err, "payload");
	/* Content-addressed: the bytes for this hash never change. */
	return pl__http_send_bytes(r, MHD_HTTP_OK, APP_OCTETS, CACHE_PRIVATE, blob, len, true);
}

/*
 * Answers a receipt: status 201 (new) or 200 (already logged). Runs on an MHD
 * worker, in the access handler.
 */
static enum MHD_Result send_receipt(struct req *r, unsigned status, const struct pl_receipt *rc)
{
	struct pl_buf b;
	size_t len = 0;
	char *text = NULL;

	/* Written straight into the answer's one buffer (the receipt is on every submission's
	 * path), which MHD then takes without a copy. */
	pl_buf_init(&b, 256 + 6 * (rc->proof_len + rc->checkpoint_len));
	if (pl_apicodec_receipt(&b, rc) != 0 || !(text = pl_buf_detach(&b, &len))) {
		pl_buf_release(&b);
		return pl__http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		                           "out of memory");
	}
	return pl__http_send_bytes(r, status, APP_JSON, NULL, text, len, true);
}

/*
 * The exchange's answer to a submission: keeps it in r and resumes r if it
 * waits. Runs on the sequencer thread after the commit, or on the MHD worker
 * in do_record_post() when validation refuses the record.
 */
static void submit_done(void *arg, int status, struct pl_receipt *rc,
                        const struct pl_exchange_refusal *why)
{
	struct req *r = arg;
	struct pl_parleyd_http *h = r->h;

	pthread_mutex_lock(&h->submit_lock);
	r->status = status;
	if (status == 0 && rc) {
		/* Take the strings and leave the receipt zeroed: whoever releases it next (the
		 * engine or nobody) then frees nothing twice. */
		r->receipt = *rc;
		memset(rc, 0, sizeof(*rc));
	} else if (why)
		r->why = *why;
	r->done = true;
	if (r->suspended) {
		r->suspended = false;
		MHD_resume_connection(r->conn);
	}
	pthread_mutex_unlock(&h->submit_lock);
}

/*
 * The per-key rate limit, for a record whose signature has verified. Runs on
 * the MHD worker, in do_record_post().
 */
static bool submit_admit(void *arg, const char *key_name)
{
	struct req *r = arg;

	if (r->party[0])
		return true; /* counted when its Authorization header was checked */
	return strlen(key_name) <= PL_KEY_NAME_MAX && pl__http_rate_take(r->h, key_name);
}

/*
 * A record already in the log: answer as for a new one, with a fresh proof
 * (idempotent retry). Runs on an MHD worker, in the access handler.
 */
static enum MHD_Result answer_existing(struct req *r, uint64_t index)
{
	struct pl_receipt rc;
	enum MHD_Result ret;
	int err = pl_exchange_receipt_get(r->h->ex, index, &rc);

	if (err)
		return pl__http_send_lib_error(r, err, "record");
	ret = send_receipt(r, MHD_HTTP_OK, &rc);
	pl_receipt_release(&rc);
	return ret;
}

/*
 * Answers a submission once the exchange has: its receipt or its refusal. Runs
 * on an MHD worker, in the access handler.
 */
static enum MHD_Result submit_answer(struct req *r)
{
	const char *code;
	unsigned status;

	if (r->status == 0) {
		char hex[PL_HASH_HEX_LEN + 1];
		pl_hex_encode(hex, r->receipt.id, PL_HASH_BYTES);
		snprintf(r->location, sizeof(r->location), "/records/%s", hex);
		return send_receipt(r, MHD_HTTP_CREATED, &r->receipt);
	}
	if (r->status == PL_EEXIST)
		return answer_existing(r, r->why.head_index);
	status = status_of(r->status, &code);
	if (status == MHD_HTTP_INTERNAL_SERVER_ERROR)
		return pl__http_send_lib_error(r, r->status, "submission");
	return send_error_body(r, status, code,
	                       r->why.reason[0] ? r->why.reason : pl_strerror(r->status),
	                       r->status == PL_ECHAIN ? &r->why : NULL);
}

/*
 * POST /records: queues the record and suspends r until its batch is
 * committed. Runs on an MHD worker, in the access handler. Again when resumed.
 */
static enum MHD_Result do_record_post(struct req *r)
{
	struct pl_parleyd_http *h = r->h;
	struct pl_exchange_done done = {submit_done, r, submit_admit};
	enum MHD_Result ret = MHD_YES;
	bool done_now;
	int err;

	if (r->submitted) {
		/* Resumed after the commit. */
		return submit_answer(r);
	}
	r->submitted = true;
	err = pl_exchange_submit_async(h->ex, r->body.data ? r->body.data : "", r->body.len, &done);
	pthread_mutex_lock(&h->submit_lock);
	if (err == 0 && !r->done) {
		/* Suspended under the lock so that submit_done cannot resume it first. */
		r->suspended = true;
		MHD_suspend_connection(r->conn);
	}
	/* Read under the lock: once suspended, the sequencer sets done and resumes r. */
	done_now = r->done;
	pthread_mutex_unlock(&h->submit_lock);
	if (done_now)
		ret = submit_answer(r);
	return ret;
}

/* GET /records/<id>. Runs on an MHD worker, in the access handler. */
static enum MHD_Result do_record_get(struct req *r)
{
	struct pl_exchange_entry e;
	char index[24];
	enum MHD_Result ret;
	int err;

	memset(&e, 0, sizeof(e));
	err = pl_exchange_record(r->h->ex, req_reader(r), r->id, r->id_len, &e);
	if (err)
		return pl__http_send_lib_error(r, err, "record");
	snprintf(index, sizeof(index), "%llu", (unsigned long long)e.index);
	{
		struct MHD_Response *resp =
		        MHD_create_response_from_buffer(e.note_len, e.note, MHD_RESPMEM_MUST_COPY);
		if (!resp) {
			pl_exchange_entry_release(&e);
			return MHD_NO;
		}
		pl__http_headers(resp, TEXT_PLAIN, CACHE_PRIVATE);
		MHD_add_response_header(resp, "Parley-Index", index);
		ret = pl__http_queue(r, MHD_HTTP_OK, resp);
	}
	pl_exchange_entry_release(&e);
	return ret;
}

/*
 * Answers with the proof in b, or with the error err names (what: the endpoint's noun);
 * private to the cache when the request named its size. Runs on an MHD worker.
 */
static enum MHD_Result send_proof(struct req *r, int err, const char *what, bool has_size,
                                  struct pl_buf *b)
{
	if (err) {
		pl_buf_release(b);
		return pl__http_send_lib_error(r, err, what);
	}
	return send_buf(r, MHD_HTTP_OK, TEXT_PLAIN, has_size ? CACHE_PRIVATE : CACHE_NONE, b);
}

/* GET /records/<id>/proof. Runs on an MHD worker, in the access handler. */
static enum MHD_Result do_proof(struct req *r)
{
	struct pl_exchange_entry e;
	struct pl_buf b;
	/* An explicit size is never "the latest": size=0 holds no record (400, docs/api.md). */
	bool has_size = (r->q.has & Q_SIZE) != 0;
	uint64_t size = has_size ? r->q.size : 0;
	int err;

	memset(&e, 0, sizeof(e));
	err = pl_exchange_record(r->h->ex, req_reader(r), r->id, r->id_len, &e);
	if (err)
		return pl__http_send_lib_error(r, err, "record");
	pl_buf_init(&b, PL_TLOG_PROOF_MAX_BYTES);
	/*
	 * An outsider's proof (/proof/<id>) is against the newest checkpoint a witness
	 * cosigned when that one includes the record: a stranger checks the witnesses too,
	 * and the newest checkpoint may not be cosigned yet (docs/api.md, the explorer).
	 */
	if (!has_size && r->route == R_PUBLIC_PROOF) {
		uint64_t cosigned = pl_exchange_cosigned_size(r->h->ex);
		if (e.index < cosigned)
			size = cosigned;
	}
	if (has_size && e.index >= size)
		err = PL_ERANGE;
	else if (size > pl_exchange_size(r->h->ex))
		err = PL_ENOTFOUND;
	else
		err = pl_exchange_proof(r->h->ex, e.index, size, &b);
	pl_exchange_entry_release(&e);
	return send_proof(r, err, "proof", has_size, &b);
}

/*
 * GET /index/<key>[?size=N]: the key's proof in the thread index under the
 * index record that ends the checkpoint of size N (the newest without size).
 * Runs on an MHD worker, in the access handler.
 */
static enum MHD_Result do_index(struct req *r)
{
	bool has_size = (r->q.has & Q_SIZE) != 0;
	struct pl_buf b;
	int err;

	/* No checkpoint of size 0 ends with an index record: size=0 is not "the newest". */
	if (has_size && r->q.size == 0)
		return pl__http_send_lib_error(r, PL_ENOTFOUND, "index");
	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	err = pl_exchange_index_proof(r->h->ex, r->party, r->hash, has_size ? r->q.size : 0, &b);
	return send_proof(r, err, "index", has_size, &b);
}

/*
 * GET /index[?size=N]: the index record that ends the checkpoint of size N
 * (the newest without size), public, with its log index in Parley-Index.
 * Runs on an MHD worker, in the access handler.
 */
static enum MHD_Result do_index_record(struct req *r)
{
	bool has_size = (r->q.has & Q_SIZE) != 0;
	struct MHD_Response *resp;
	struct pl_exchange_entry e;
	char index[24];
	enum MHD_Result ret;
	int err;

	if (has_size && r->q.size == 0)
		return pl__http_send_lib_error(r, PL_ENOTFOUND, "index record");
	memset(&e, 0, sizeof(e));
	err = pl_exchange_index_record(r->h->ex, has_size ? r->q.size : 0, &e);
	if (err)
		return pl__http_send_lib_error(r, err, "index record");
	snprintf(index, sizeof(index), "%llu", (unsigned long long)e.index);
	resp = MHD_create_response_from_buffer(e.note_len, e.note, MHD_RESPMEM_MUST_COPY);
	pl_exchange_entry_release(&e);
	if (!resp)
		return MHD_NO;
	pl__http_headers(resp, TEXT_PLAIN, has_size ? CACHE_IMMUTABLE : CACHE_NONE);
	MHD_add_response_header(resp, "Parley-Index", index);
	ret = pl__http_queue(r, MHD_HTTP_OK, resp);
	return ret;
}

/* GET /proof/consistency. Runs on an MHD worker, in the access handler. */
static enum MHD_Result do_consistency(struct req *r)
{
	uint8_t(*hashes)[PL_HASH_BYTES] = NULL;
	struct pl_buf b;
	size_t n = 0;
	int err;

	if ((r->q.has & (Q_OLD | Q_NEW)) != (Q_OLD | Q_NEW))
		return pl__http_send_error(r, MHD_HTTP_BAD_REQUEST, "malformed",
		                           "old and new tree sizes are required");
	if (r->q.old > r->q.new_)
		return pl__http_send_error(r, MHD_HTTP_BAD_REQUEST, "out-of-range",
		                           "old tree size is larger than new");
	if (r->q.new_ > pl_exchange_size(r->h->ex))
		return pl__http_send_error(r, MHD_HTTP_NOT_FOUND, "not-found",
		                           "the tree has not reached the new size");
	hashes = calloc(PL_PROOF_MAX_HASHES, PL_HASH_BYTES);
	if (!hashes)
		return pl__http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		                           "out of memory");
	err = pl_exchange_consistency(r->h->ex, r->q.old, r->q.new_, hashes, &n);
	pl_buf_init(&b, PL_PROOF_MAX_HASHES * (PL_HASH_B64_LEN + 1));
	for (size_t i = 0; !err && i < n; i++) {
		err = pl_b64_append(&b, hashes[i], PL_HASH_BYTES);
		if (!err)
			err = pl_buf_add(&b, "\n", 1);
	}
	free(hashes);
	if (err) {
		pl_buf_release(&b);
		return pl__http_send_lib_error(r, err, "consistency");
	}
	return send_buf(r, MHD_HTTP_OK, TEXT_PLAIN, CACHE_IMMUTABLE, &b);
}

/*
 * GET /assets/NAME: a file of the browser verifier embedded at build time
 * (assets.h), public; 404 when this build has none by that name. Runs on an
 * MHD worker, in the access handler.
 */
static enum MHD_Result do_asset(struct req *r)
{
	const struct pl_asset *a = pl_asset_find(r->asset, strlen(r->asset));

	if (!a)
		return pl__http_send_error(r, MHD_HTTP_NOT_FOUND, "not-found", "no such asset");
	return pl__http_send_bytes(r, MHD_HTTP_OK, a->mime, CACHE_IMMUTABLE, (void *)a->data,
	                           a->len, false);
}

/*
 * Answers a request whose whole body is in, authenticated on its first call
 * when it had to be. Runs on an MHD worker, in the access handler.
 */
enum MHD_Result pl__http_dispatch(struct req *r)
{
	if (pl__http_needs_request_auth(r) && !r->party[0])
		return pl__http_send_error(
		        r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		        "request not authenticated"); /* pl__http_first_call() refuses these */
	if (r->has_digest) {
		/* The signature covered the declared hash: the body must be what was declared. */
		uint8_t got[PL_HASH_BYTES];
		pl_sha256(got, r->body.len ? r->body.data : "", r->body.len);
		if (memcmp(got, r->digest, PL_HASH_BYTES) != 0) {
			char key[PL_ORIGIN_MAX + PL_KEY_NAME_MAX + 2];
			snprintf(key, sizeof(key), "%s/%s", r->h->origin, r->party);
			pl__http_log_refusal(r, key, "the body does not match its Content-Digest");
			return pl__http_send_error(r, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
			                           "the body does not match its Content-Digest");
		}
		r->has_digest = false; /* checked once, not again when a submission resumes */
	}
	switch (r->route) {
	case R_HEALTH:
		return pl__http_do_health(r);
	case R_CHECKPOINT:
		return do_checkpoint(r);
	case R_LOG_KEY:
		return do_log_key(r);
	case R_TILE:
		return do_tile(r, false);
	case R_ENTRIES:
		return do_tile(r, true);
	case R_PAYLOAD_POST:
		return do_payload_post(r);
	case R_PAYLOAD_GET:
		return do_payload_get(r);
	case R_RECORD_POST:
		return do_record_post(r);
	case R_RECORD_GET:
		return do_record_get(r);
	case R_PROOF:
		return do_proof(r);
	case R_CONSISTENCY:
		return do_consistency(r);
	case R_THREAD:
		return pl__http_do_thread(r);
	case R_PARTIES:
		return pl__http_do_parties(r);
	case R_STATEMENTS:
		return pl__http_do_statements(r);
	case R_INBOX:
		return pl__http_do_inbox(r);
	case R_LINE:
		return pl__http_do_line(r);
	case R_INDEX:
		return do_index(r);
	case R_INDEX_RECORD:
		return do_index_record(r);
	case R_ASSET:
		return do_asset(r);
	case R_EXPLORER:
	case R_EXPLORER_STMT:
	case R_EXPLORER_DIR:
	case R_EXPLORER_LOG:
	case R_EXPLORER_LINES:
	case R_FEED:
		return pl__http_do_explorer(r);
	case R_PUBLIC_RECORD:
		/* The public twins of /records/<id> and its proof: read as anyone, so a record
		 * that is not public answers exactly as one that does not exist. */
		return do_record_get(r);
	case R_PUBLIC_PROOF:
		return do_proof(r);
	case R_METRICS:
		return pl__http_do_metrics(r);
	case R_NONE:
		break;
	}
	return pl__http_send_error(r, MHD_HTTP_NOT_FOUND, "not-found", "no such resource");
}
