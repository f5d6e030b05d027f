/* The exchange API client over libcurl: signed requests; answers bounded, decoded by apicodec.c. */
#include <parley/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include <parley/auth.h>
#include <parley/record.h>
#include <parley/tiles.h>
#include <parley/tindex.h>
#include <parley/timestamp.h>
#include <parley/tlog.h>

#include "internal.h"
#include "transport.h"

#define DEFAULT_CONNECT_MS 5000
#define DEFAULT_TIMEOUT_MS 30000
#define URL_MAX            2048
#define ERROR_BODY_MAX     4096

struct pl_client {
	struct pl__http http;                   /* the one transport (transport.h) */
	char url[URL_MAX + PL_HTTP_TARGET_MAX]; /* of the request in flight */
	char base[URL_MAX];
	size_t base_len;
	struct pl_skey *key; /* sodium_malloc'd, or NULL */
	long connect_ms, timeout_ms;
	size_t response_max;
	struct pl_client_error err;
};

int pl_client_new(struct pl_client **out, const char *base_url, const struct pl_skey *key,
                  const struct pl_client_options *opts)
{
	struct pl_client *c = NULL;
	size_t n = strlen(base_url);
	int ret;

	if ((!pl__has_prefix(base_url, n, "http://") && !pl__has_prefix(base_url, n, "https://")) ||
	    n >= URL_MAX / 2) {
		ret = PL_EINVAL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)base_url[i] <= 0x20 || (unsigned char)base_url[i] >= 0x7f ||
		    base_url[i] == '?' || base_url[i] == '#') {
			ret = PL_EINVAL;
			goto out;
		}
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		ret = PL_ENOMEM;
		goto out;
	}
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	memcpy(c->base, base_url, n);
	c->base[n] = '\0';
	c->base_len = n;
	c->connect_ms = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
	                                                     : DEFAULT_CONNECT_MS;
	c->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->response_max =
	        opts && opts->response_max > 0 ? opts->response_max : PL_HTTP_RESPONSE_MAX;
	if (key) {
		c->key = sodium_malloc(sizeof(*c->key));
		if (!c->key) {
			ret = PL_ENOMEM;
			goto out;
		}
		memcpy(c->key, key, sizeof(*key));
	}
	ret = pl__http_init(&c->http);
	if (ret)
		goto out;
	*out = c;
	c = NULL;
	ret = 0;
out:
	pl_client_free(c);
	return ret;
}

void pl_client_free(struct pl_client *c)
{
	if (!c)
		return;
	pl__http_release(&c->http);
	if (c->key) {
		pl_skey_clear(c->key);
		sodium_free(c->key);
	}
	free(c);
}

const struct pl_client_error *pl_client_last_error(const struct pl_client *c)
{
	return &c->err;
}

void pl_client_entry_release(struct pl_client_entry *e)
{
	if (!e)
		return;
	free(e->note);
	memset(e, 0, sizeof(*e));
}

void pl_client_list_release(struct pl_client_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].note);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void pl_client_parties_free(struct pl_client_party *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].register_record);
	free(v);
}

/* ---- Transport ---- */

static void set_reason(struct pl_client *c, const char *reason)
{
	snprintf(c->err.reason, sizeof(c->err.reason), "%s", reason);
}

/* Keeps why a response parser refused an answer, when it said; returns ret. */
static int parsed(struct pl_client *c, int ret, const char *why)
{
	if (ret && why)
		set_reason(c, why);
	return ret;
}

static int error_of_status(long status)
{
	switch (status) {
	case 400:
		return PL_EMALFORMED;
	case 401:
		return PL_EVERIFY;
	case 403:
		return PL_EDENIED;
	case 404:
		return PL_ENOTFOUND;
	case 409:
		return PL_ECHAIN;
	case 413:
		return PL_ETOOBIG;
	case 422:
		return PL_ERULE;
	case 429:
	case 503:
		return PL_ESTATE;
	case 507:
		return PL_ELIMIT;
	default:
		return PL_ENET;
	}
}

struct sink {
	struct pl_buf *body;
	bool too_big;
	/* header capture */
	bool want_index;
	bool has_index;
	uint64_t index;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (pl_buf_add(s->body, p, n) != 0) {
		s->too_big = true;
		return 0;
	}
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	uint64_t index;
	int ret;

	if (s->want_index && (ret = pl__client_index_header(p, n, &index)) != PL_ENOTFOUND) {
		s->has_index = ret == 0;
		if (s->has_index)
			s->index = index;
	}
	return n;
}

struct request {
	const char *method; /* GET or POST */
	const char *target; /* path and query, signed as is */
	const void *body;
	size_t body_len;
	const char *content_type;
	const char *accept;
	bool auth;
	long extra_ms;   /* added to the timeout (long polls) */
	long timeout_ms; /* replaces the timeout when not 0; -1: none */
	curl_write_callback write_fn;
	void *write_arg;
};

/* The transport request hr of rq: its signed headers (*hdrs, the caller frees) and bounds. */
static int prepare(struct pl_client *c, const struct request *rq, struct curl_slist **hdrs,
                   struct sink *sink, struct pl__http_request *hr)
{
	struct pl_buf auth;
	struct curl_slist *h = NULL, *t;
	long timeout = rq->timeout_ms ? rq->timeout_ms : c->timeout_ms + rq->extra_ms;
	int ret = 0;

	pl_buf_init(&auth, PL_AUTH_HEADER_MAX + 32);
	if (rq->auth) {
		if (!c->key) {
			set_reason(c, "this request needs a signing key");
			ret = PL_EINVAL;
			goto out;
		}
		ret = pl_buf_adds(&auth, "Authorization: ");
		if (!ret)
			ret = pl_auth_sign(&auth, c->key, rq->method, rq->target,
			                   strlen(rq->target), rq->body, rq->body_len,
			                   (uint64_t)time(NULL), NULL);
		if (ret) {
			set_reason(c, "cannot sign the request");
			goto out;
		}
		if (!(t = curl_slist_append(h, auth.data)))
			goto oom;
		h = t;
		/* The server checks the signature before reading the body: declare its hash. */
		if (strcmp(rq->method, "POST") == 0) {
			pl_buf_reset(&auth);
			ret = pl_buf_adds(&auth, PL_AUTH_DIGEST_HEADER ": ");
			if (!ret)
				ret = pl_auth_digest_format(&auth, rq->body, rq->body_len);
			if (ret)
				goto oom;
			if (!(t = curl_slist_append(h, auth.data)))
				goto oom;
			h = t;
		}
	}
	if (rq->content_type) {
		char line[96];
		snprintf(line, sizeof(line), "Content-Type: %s", rq->content_type);
		if (!(t = curl_slist_append(h, line)))
			goto oom;
		h = t;
	}
	if (rq->accept) {
		char line[96];
		snprintf(line, sizeof(line), "Accept: %s", rq->accept);
		if (!(t = curl_slist_append(h, line)))
			goto oom;
		h = t;
	}
	/* No 100-continue round trip: bodies are small and bounded. */
	if (!(t = curl_slist_append(h, "Expect:")))
		goto oom;
	h = t;
	snprintf(c->url, sizeof(c->url), "%s%s", c->base, rq->target);
	memset(hr, 0, sizeof(*hr));
	hr->url = c->url;
	hr->post = strcmp(rq->method, "POST") == 0;
	hr->body = rq->body;
	hr->body_len = rq->body_len;
	hr->headers = h;
	hr->user_agent = "parley/0.1";
	hr->connect_ms = c->connect_ms;
	hr->timeout_ms = timeout;
	hr->response_max = c->response_max;
	hr->on_body = rq->write_fn ? rq->write_fn : on_body;
	hr->body_arg = rq->write_fn ? rq->write_arg : (void *)sink;
	hr->on_header = on_header;
	hr->header_arg = sink;
	*hdrs = h;
	h = NULL;
	goto out;
oom:
	ret = PL_ENOMEM;
out:
	curl_slist_free_all(h);
	pl_buf_release(&auth);
	return ret;
}

/*
 * Performs one request. On a 2xx answer returns 0 with the body in resp
 * (bounded by the client's maximum); otherwise fills c->err and returns the
 * mapped error. ok_status lists the accepted statuses (0-terminated).
 */
static int perform(struct pl_client *c, const struct request *rq, struct pl_buf *resp,
                   struct sink *sink_out, const long *ok_status)
{
	struct curl_slist *hdrs = NULL;
	struct pl__http_request hr;
	struct sink sink = {.body = resp};
	long status = 0;
	int ret;

	if (sink_out)
		sink.want_index = sink_out->want_index;
	memset(&c->err, 0, sizeof(c->err));
	ret = prepare(c, rq, &hdrs, &sink, &hr);
	if (ret)
		goto out;
	ret = pl__http_perform(&c->http, &hr, &status, NULL);
	c->err.status = status;
	if (sink.too_big || ret == PL_ETOOBIG) {
		set_reason(c, "answer larger than the limit");
		ret = PL_ETOOBIG;
		goto out;
	}
	if (ret) {
		set_reason(c, c->http.detail);
		ret = PL_ENET;
		goto out;
	}
	for (const long *s = ok_status; *s; s++) {
		if (status == *s) {
			ret = 0;
			goto out;
		}
	}
	pl__client_error_parse(resp->data, resp->len, &c->err);
	if (!c->err.reason[0])
		snprintf(c->err.reason, sizeof(c->err.reason), "HTTP status %ld", status);
	ret = error_of_status(status);
out:
	if (sink_out) {
		sink_out->has_index = sink.has_index;
		sink_out->index = sink.index;
	}
	curl_slist_free_all(hdrs);
	return ret;
}

static const long ok_200[] = {200, 0};
static const long ok_201[] = {200, 201, 0};

/* GET target into out (appended only on success). */
static int get_into(struct pl_client *c, const char *target, bool auth, struct pl_buf *out)
{
	struct request rq = {.method = "GET", .target = target, .auth = auth};
	struct pl_buf resp;
	int ret;

	pl_buf_init(&resp, c->response_max);
	ret = perform(c, &rq, &resp, NULL, ok_200);
	if (!ret)
		ret = pl_buf_add(out, resp.data ? resp.data : "", resp.len);
	pl_buf_release(&resp);
	return ret;
}

/* ---- Parsing answers ---- */

static int malformed(struct pl_client *c, const char *what)
{
	snprintf(c->err.reason, sizeof(c->err.reason), "malformed answer: %s", what);
	return PL_EMALFORMED;
}

/* ---- Endpoints ---- */

int pl_client_health(struct pl_client *c)
{
	struct pl_buf b;
	int ret;

	pl_buf_init(&b, 64);
	ret = get_into(c, "/health", false, &b);
	pl_buf_release(&b);
	return ret;
}

int pl_client_log_key(struct pl_client *c, struct pl_vkey *vk)
{
	struct pl_buf b;
	int ret;

	pl_buf_init(&b, PL_KEY_NAME_MAX + 128);
	ret = get_into(c, "/log-key", false, &b);
	if (ret)
		goto out;
	if (b.len < 2 || b.data[b.len - 1] != '\n') {
		ret = PL_EMALFORMED;
		goto out;
	}
	ret = pl_vkey_parse(vk, b.data, b.len - 1);
out:
	pl_buf_release(&b);
	return ret;
}

int pl_client_checkpoint(struct pl_client *c, struct pl_buf *out)
{
	return get_into(c, "/checkpoint", false, out);
}

/* GET of the tile or entry bundle t: its path from the library's one formatter. */
static int get_tile(struct pl_client *c, const struct pl_tile *t, struct pl_buf *out)
{
	struct pl_buf path;
	int ret;

	pl_buf_init(&path, PL_TILE_PATH_MAX + 1);
	ret = pl_buf_add(&path, "/", 1);
	if (!ret)
		ret = pl_tiles_path(&path, t);
	if (!ret)
		ret = get_into(c, path.data, t->entries, out);
	pl_buf_release(&path);
	return ret;
}

int pl_client_tile(struct pl_client *c, unsigned level, uint64_t n, unsigned width,
                   struct pl_buf *out)
{
	struct pl_tile t = {n, level, width ? width : PL_TILE_WIDTH, false};

	if (width >= PL_TILE_WIDTH)
		return PL_EINVAL;
	return get_tile(c, &t, out);
}

int pl_client_entry_bundle(struct pl_client *c, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct pl_tile t = {n, 0, width ? width : PL_TILE_WIDTH, true};

	if (width >= PL_TILE_WIDTH)
		return PL_EINVAL;
	return get_tile(c, &t, out);
}

int pl_client_payload_put(struct pl_client *c, const uint8_t *blob, size_t len,
                          uint8_t hash[static PL_HASH_BYTES])
{
	struct request rq = {.method = "POST",
	                     .target = "/payloads",
	                     .body = blob,
	                     .body_len = len,
	                     .content_type = "application/octet-stream",
	                     .auth = true};
	uint8_t mine[PL_HASH_BYTES];
	const char *why = NULL;
	struct pl_buf resp;
	int ret;

	pl_buf_init(&resp, ERROR_BODY_MAX);
	pl_sha256(mine, len ? (const void *)blob : "", len);
	ret = perform(c, &rq, &resp, NULL, ok_201);
	if (!ret)
		ret = pl__client_payload_parse(resp.data, resp.len, mine, &why);
	ret = parsed(c, ret, why);
	if (!ret)
		memcpy(hash, mine, PL_HASH_BYTES);
	pl_buf_release(&resp);
	return ret;
}

int pl_client_payload_get(struct pl_client *c, const uint8_t hash[static PL_HASH_BYTES],
                          struct pl_buf *out)
{
	char target[16 + PL_HASH_HEX_LEN], hex[PL_HASH_HEX_LEN + 1];
	uint8_t got[PL_HASH_BYTES];
	struct pl_buf resp;
	int ret;

	pl_hex_encode(hex, hash, PL_HASH_BYTES);
	snprintf(target, sizeof(target), "/payloads/%s", hex);
	pl_buf_init(&resp, c->response_max);
	ret = get_into(c, target, true, &resp);
	if (ret)
		goto out;
	pl_sha256(got, resp.len ? resp.data : "", resp.len);
	if (memcmp(got, hash, PL_HASH_BYTES) != 0) {
		set_reason(c, "the blob does not hash to the requested hash");
		ret = PL_EPROOF;
		goto out;
	}
	ret = pl_buf_add(out, resp.data ? resp.data : "", resp.len);
out:
	pl_buf_release(&resp);
	return ret;
}

int pl_client_submit(struct pl_client *c, const char *rec, size_t len, struct pl_receipt *out)
{
	/* The record's own signature authenticates it (docs/api.md): no request signature. */
	struct request rq = {.method = "POST",
	                     .target = "/records",
	                     .body = rec,
	                     .body_len = len,
	                     .content_type = "text/plain; charset=utf-8",
	                     .auth = false};
	const char *why = NULL;
	struct pl_buf resp;
	int ret;

	pl_buf_init(&resp, PL_TLOG_PROOF_MAX_BYTES * 4);
	ret = perform(c, &rq, &resp, NULL, ok_201);
	if (!ret)
		ret = pl__client_receipt_parse(resp.data, resp.len, rec, len, out, &why);
	ret = parsed(c, ret, why);
	pl_buf_release(&resp);
	return ret;
}

/* "/records/<id><suffix>" for an id of 8 to 64 hex digits. */
static int record_target(char *t, size_t tn, const char *id, const char *suffix)
{
	if (!pl__client_id_is_valid(id))
		return PL_EINVAL;
	snprintf(t, tn, "/records/%s%s", id, suffix);
	return 0;
}

/* GET of a record at target (its id, or id prefix, is id), signed when auth. */
static int record_get(struct pl_client *c, const char *target, bool auth, const char *id,
                      struct pl_client_entry *out)
{
	struct request rq = {.method = "GET", .target = target, .auth = auth};
	struct sink sink = {.want_index = true};
	const char *why = NULL;
	struct pl_buf resp;
	int ret;

	pl_buf_init(&resp, PL_RECORD_MAX_BYTES);
	ret = perform(c, &rq, &resp, &sink, ok_200);
	if (!ret)
		ret = pl__client_record_parse(resp.data, resp.len, id,
		                              sink.has_index ? &sink.index : NULL, out, &why);
	ret = parsed(c, ret, why);
	pl_buf_release(&resp);
	return ret;
}

int pl_client_record(struct pl_client *c, const char *id, struct pl_client_entry *out)
{
	char target[32 + PL_HASH_HEX_LEN];
	int ret = record_target(target, sizeof(target), id, "");

	if (!ret)
		ret = record_get(c, target, true, id, out);
	return ret;
}

int pl_client_public_record(struct pl_client *c, const char *id, struct pl_client_entry *out)
{
	char target[32 + PL_HASH_HEX_LEN];

	if (!pl__client_id_is_valid(id))
		return PL_EINVAL;
	snprintf(target, sizeof(target), "/record/%s", id);
	return record_get(c, target, false, id, out);
}

int pl_client_public_proof(struct pl_client *c, const char *id, uint64_t size, struct pl_buf *out)
{
	char target[64 + PL_HASH_HEX_LEN];

	if (!pl__client_id_is_valid(id))
		return PL_EINVAL;
	if (size)
		snprintf(target, sizeof(target), "/proof/%s?size=%llu", id,
		         (unsigned long long)size);
	else
		snprintf(target, sizeof(target), "/proof/%s", id);
	return get_into(c, target, false, out);
}

int pl_client_proof(struct pl_client *c, const char *id, uint64_t size, struct pl_buf *out)
{
	char target[64 + PL_HASH_HEX_LEN], suffix[40];
	int ret;

	if (size)
		snprintf(suffix, sizeof(suffix), "/proof?size=%llu", (unsigned long long)size);
	else
		snprintf(suffix, sizeof(suffix), "/proof");
	ret = record_target(target, sizeof(target), id, suffix);
	if (!ret)
		ret = get_into(c, target, true, out);
	return ret;
}

int pl_client_index_record(struct pl_client *c, uint64_t size, struct pl_buf *out, uint64_t *index)
{
	char target[48];
	struct request rq = {.method = "GET", .target = target, .auth = false};
	struct sink sink = {.want_index = true};
	struct pl_buf resp;
	int ret;

	if (!c || !out || !index)
		return PL_EINVAL;
	if (size)
		snprintf(target, sizeof(target), "/index?size=%llu", (unsigned long long)size);
	else
		snprintf(target, sizeof(target), "/index");
	pl_buf_init(&resp, PL_RECORD_MAX_BYTES);
	ret = perform(c, &rq, &resp, &sink, ok_200);
	if (!ret && !sink.has_index)
		ret = malformed(c, "an index record without its Parley-Index");
	if (!ret && size && sink.index + 1 != size)
		ret = malformed(c, "an index record that does not end the checkpoint asked for");
	if (!ret)
		ret = pl_buf_add(out, resp.data ? resp.data : "", resp.len);
	if (!ret)
		*index = sink.index;
	pl_buf_release(&resp);
	return ret;
}

int pl_client_index_proof(struct pl_client *c, const uint8_t key[static PL_HASH_BYTES],
                          uint64_t size, struct pl_buf *out)
{
	char target[128], hex[PL_HASH_HEX_LEN + 1];
	struct pl_buf resp;
	int ret;

	if (!c || !key || !out)
		return PL_EINVAL;
	pl_hex_encode(hex, key, PL_HASH_BYTES);
	if (size)
		snprintf(target, sizeof(target), "/index/%s?size=%llu", hex,
		         (unsigned long long)size);
	else
		snprintf(target, sizeof(target), "/index/%s", hex);
	pl_buf_init(&resp, PL_TINDEX_PROOF_MAX_BYTES);
	ret = get_into(c, target, true, &resp);
	if (!ret && resp.len > PL_TINDEX_PROOF_MAX_BYTES)
		ret = malformed(c, "a thread index proof over its limit");
	if (!ret)
		ret = pl_buf_add(out, resp.data ? resp.data : "", resp.len);
	pl_buf_release(&resp);
	return ret;
}

int pl_client_consistency(struct pl_client *c, uint64_t old_size, uint64_t new_size,
                          uint8_t hashes[][PL_HASH_BYTES], size_t *n)
{
	char target[80];
	const char *why = NULL;
	struct pl_buf resp;
	int ret;

	snprintf(target, sizeof(target), "/consistency?old=%llu&new=%llu",
	         (unsigned long long)old_size, (unsigned long long)new_size);
	pl_buf_init(&resp, PL_PROOF_MAX_HASHES * (PL_HASH_B64_LEN + 1));
	ret = get_into(c, target, false, &resp);
	if (!ret)
		ret = pl__client_consistency_parse(resp.data, resp.len, hashes, n, &why);
	ret = parsed(c, ret, why);
	pl_buf_release(&resp);
	return ret;
}

static int get_list(struct pl_client *c, const char *target, bool auth, bool want_next,
                    long extra_ms, struct pl_client_list *out)
{
	struct request rq = {.method = "GET", .target = target, .auth = auth, .extra_ms = extra_ms};
	const char *why = NULL;
	struct pl_buf resp;
	int ret;

	pl_buf_init(&resp, c->response_max);
	ret = perform(c, &rq, &resp, NULL, ok_200);
	if (!ret)
		ret = pl__client_list_parse(resp.data, resp.len, want_next, out, &why);
	ret = parsed(c, ret, why);
	pl_buf_release(&resp);
	return ret;
}

int pl_client_thread(struct pl_client *c, const char *id, struct pl_client_list *out)
{
	char target[32 + PL_HASH_HEX_LEN];
	int ret = record_target(target, sizeof(target), id, ""); /* validates the id */

	if (ret)
		return ret;
	snprintf(target, sizeof(target), "/threads/%s", id);
	return get_list(c, target, true, false, 0, out);
}

int pl_client_statements(struct pl_client *c, uint64_t after, struct pl_client_list *out)
{
	char target[48];

	snprintf(target, sizeof(target), "/statements?after=%llu", (unsigned long long)after);
	return get_list(c, target, false, true, 0, out);
}

void pl_client_line_release(struct pl_client_line *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].note);
		free(l->v[i].proof);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int pl_client_line(struct pl_client *c, const char *line, int64_t since, uint64_t after,
                   struct pl_client_line *out)
{
	char target[96 + PL_RECORD_NAME_MAX];
	struct request rq = {.method = "GET", .target = target, .auth = true};
	const char *why = NULL;
	struct pl_buf resp;
	int ret;

	if (!c || !line || !out || since < 0 || !pl_record_name_is_valid(line, strlen(line)))
		return PL_EINVAL;
	snprintf(target, sizeof(target), "/lines/%s?since=%lld&after=%llu", line, (long long)since,
	         (unsigned long long)after);
	pl_buf_init(&resp, c->response_max);
	ret = perform(c, &rq, &resp, NULL, ok_200);
	if (!ret)
		ret = pl__client_line_parse(resp.data, resp.len, line, out, &why);
	ret = parsed(c, ret, why);
	pl_buf_release(&resp);
	return ret;
}

int pl_client_inbox(struct pl_client *c, uint64_t after, unsigned wait_s,
                    struct pl_client_list *out)
{
	char target[64];

	snprintf(target, sizeof(target), "/inbox?after=%llu&wait=%u", (unsigned long long)after,
	         wait_s);
	return get_list(c, target, true, true, (long)wait_s * 1000, out);
}

int pl_client_parties(struct pl_client *c, struct pl_client_party **out, size_t *n)
{
	struct request rq = {.method = "GET", .target = "/parties"};
	const char *why = NULL;
	struct pl_buf resp;
	int ret;

	pl_buf_init(&resp, c->response_max);
	ret = perform(c, &rq, &resp, NULL, ok_200);
	if (!ret)
		ret = pl__client_parties_parse(resp.data, resp.len, out, n, &why);
	ret = parsed(c, ret, why);
	pl_buf_release(&resp);
	return ret;
}

/* ---- Server-sent events ---- */

/* The transfer of a stream: its status, the parser, or the error body. */
struct sse {
	struct pl_client *c;
	struct pl__client_sse *p;
	struct pl_buf error; /* body of a non-200 answer */
	int fail;            /* a malformed stream */
	bool checked;        /* status looked at */
	bool ok;             /* status 200 */
};

static size_t sse_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sse *s = arg;
	size_t n = size * nmemb;

	if (!s->checked) {
		long status = 0;
		status = pl__http_status(&s->c->http);
		s->checked = true;
		s->ok = status == 200;
	}
	if (!s->ok)
		return pl_buf_add(&s->error, p, n) == 0 ? n : 0;
	s->fail = pl__client_sse_feed(s->p, p, n);
	return s->fail || pl__client_sse_is_stopped(s->p) ? 0 : n;
}

int pl_client_inbox_stream(struct pl_client *c, uint64_t *cursor,
                           int (*fn)(void *arg, const struct pl_client_entry *e), void *arg,
                           long max_ms)
{
	char target[64];
	struct sse s;
	struct request rq = {.method = "GET",
	                     .target = target,
	                     .accept = "text/event-stream",
	                     .auth = true,
	                     .timeout_ms = max_ms ? max_ms : -1,
	                     .write_fn = sse_write,
	                     .write_arg = &s};
	struct curl_slist *hdrs = NULL;
	struct pl__http_request hr;
	struct sink sink = {0};
	CURLcode cc = CURLE_OK;
	int ret;

	memset(&s, 0, sizeof(s));
	s.c = c;
	pl_buf_init(&s.error, ERROR_BODY_MAX);
	snprintf(target, sizeof(target), "/inbox?after=%llu", (unsigned long long)*cursor);
	memset(&c->err, 0, sizeof(c->err));
	ret = pl__client_sse_new(&s.p, cursor, fn, arg);
	if (!ret)
		ret = prepare(c, &rq, &hdrs, &sink, &hr);
	if (ret)
		goto out;
	/* A silent stream is a dead one: the server sends a heartbeat every 15 s. */
	hr.low_speed_s = 45;
	(void)!pl__http_perform(&c->http, &hr, &c->err.status, &cc);
	if (pl__client_sse_is_stopped(s.p)) {
		ret = 0;
	} else if (s.fail) {
		ret = s.fail == PL_ETOOBIG ? PL_ETOOBIG : PL_EMALFORMED;
		(void)malformed(c, "event stream");
	} else if (s.checked && !s.ok) {
		pl__client_error_parse(s.error.data, s.error.len, &c->err);
		ret = error_of_status(c->err.status);
	} else if (cc == CURLE_OK || (cc == CURLE_OPERATION_TIMEDOUT && max_ms && s.ok)) {
		ret = 0;
	} else {
		set_reason(c, c->http.detail);
		ret = PL_ENET;
	}
out:
	curl_slist_free_all(hdrs);
	pl__client_sse_free(s.p);
	pl_buf_release(&s.error);
	return ret;
}

/* ---- Two histories ---- */

void pl_client_split_free(struct pl_client_split *s)
{
	if (!s)
		return;
	free(s->seen.note);
	free(s->given.note);
	free(s->proof);
	free(s);
}

/* Copies a checkpoint into the evidence. */
static int split_keep(struct pl_client_split_checkpoint *k, uint64_t size,
                      const uint8_t root[static PL_HASH_BYTES], const char *note, size_t len,
                      const char *source)
{
	k->size = size;
	memcpy(k->root, root, PL_HASH_BYTES);
	snprintf(k->source, sizeof(k->source), "%s", source ? source : "");
	/* One line of the evidence text, whatever a path holds. */
	for (char *p = k->source; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	k->note = malloc(len + 1);
	if (!k->note)
		return PL_ENOMEM;
	if (len)
		memcpy(k->note, note, len);
	k->note[len] = '\0';
	k->note_len = len;
	return 0;
}

int pl_client_observe(struct pl_client *c, uint64_t seen_size,
                      const uint8_t seen_root[static PL_HASH_BYTES], const char *seen_note,
                      size_t seen_len, const char *seen_source, uint64_t given_size,
                      const uint8_t given_root[static PL_HASH_BYTES], const char *given_note,
                      size_t given_len, int64_t now, struct pl_client_split **split)
{
	uint8_t(*proof)[PL_HASH_BYTES] = NULL;
	struct pl_client_split *s = NULL;
	char when[PL_TIMESTAMP_LEN + 1] = "";
	const char *why = NULL;
	uint64_t lo, hi;
	size_t n = 0;
	int ret = 0, err = 0;

	if (!c || !split || (!seen_note && seen_len) || (!given_note && given_len))
		return PL_EINVAL;
	if (seen_size == given_size) {
		if (sodium_memcmp(seen_root, given_root, PL_HASH_BYTES) != 0)
			why = "same size, different roots";
		goto judge;
	}
	lo = seen_size < given_size ? seen_size : given_size;
	hi = seen_size < given_size ? given_size : seen_size;
	proof = calloc(PL_PROOF_MAX_HASHES, PL_HASH_BYTES);
	if (!proof) {
		ret = PL_ENOMEM;
		goto out;
	}
	err = pl_client_consistency(c, lo, hi, proof, &n);
	if (err == PL_ENOTFOUND && given_size < seen_size) {
		/* It cannot reach the size it signed before: it has rolled back. */
		why = "the exchange no longer has the tree it signed";
	} else if (err) {
		ret = err;
		goto out;
	} else if (pl_tlog_verify_consistency(lo, hi,
	                                      seen_size < given_size ? seen_root : given_root,
	                                      seen_size < given_size ? given_root : seen_root,
	                                      (const uint8_t(*)[PL_HASH_BYTES])proof, n) != 0) {
		why = given_size > seen_size ? "the new tree does not extend the old one"
		                             : "the old tree is not a prefix of the one seen";
	}
judge:
	if (!why)
		goto out;
	s = calloc(1, sizeof(*s));
	if (!s) {
		ret = PL_ENOMEM;
		goto out;
	}
	snprintf(s->reason, sizeof(s->reason), "%s", why);
	s->detected = now;
	snprintf(s->exchange, sizeof(s->exchange), "%.*s", (int)c->base_len, c->base);
	if (pl_timestamp_format(when, now) != 0)
		when[0] = '\0';
	{
		char src[PL_CLIENT_SPLIT_SOURCE_MAX];
		snprintf(src, sizeof(src), "received from %s at %s", s->exchange, when);
		ret = split_keep(&s->seen, seen_size, seen_root, seen_note, seen_len, seen_source);
		if (!ret)
			ret = split_keep(&s->given, given_size, given_root, given_note, given_len,
			                 src);
	}
	if (ret)
		goto out;
	if (seen_size != given_size) {
		s->asked_proof = true;
		s->proof_old = lo;
		s->proof_new = hi;
		if (err) {
			snprintf(s->proof_error, sizeof(s->proof_error), "HTTP %ld %s: %s",
			         c->err.status, c->err.code[0] ? c->err.code : "error",
			         c->err.reason[0] ? c->err.reason : pl_strerror(err));
		} else {
			s->has_proof = true;
			s->nproof = n;
			s->proof = proof;
			proof = NULL;
		}
	}
	*split = s;
	s = NULL;
	ret = PL_EINCONSISTENT;
out:
	free(proof);
	pl_client_split_free(s);
	return ret;
}

/* Appends one checkpoint of the evidence: its lines, then its note byte for byte. */
static int split_format_checkpoint(struct pl_buf *out, const char *label,
                                   const struct pl_client_split_checkpoint *k)
{
	char root[PL_HASH_B64_LEN + 1];
	int ret;

	pl_b64_encode(root, k->root, PL_HASH_BYTES);
	ret = pl_buf_addf(out, "\n%s\nsize %llu\nroot %s\nsource %s\nbytes %zu\n", label,
	                  (unsigned long long)k->size, root, k->source, k->note_len);
	if (!ret && k->note_len)
		ret = pl_buf_add(out, k->note, k->note_len);
	/* A note ends in a newline; anything else is written as is and counted. */
	if (!ret && (k->note_len == 0 || k->note[k->note_len - 1] != '\n'))
		ret = pl_buf_add(out, "\n", 1);
	return ret;
}

int pl_client_split_format(const struct pl_client_split *s, struct pl_buf *out)
{
	char when[PL_TIMESTAMP_LEN + 1];
	int ret;

	if (!s || !out)
		return PL_EINVAL;
	if (pl_timestamp_format(when, s->detected) != 0)
		snprintf(when, sizeof(when), "-");
	ret = pl_buf_addf(out, "%s\nexchange %s\nlog-key %s\ndetected %s\nreason %s\n",
	                  PL_CLIENT_SPLIT_VERSION, s->exchange, s->log_key[0] ? s->log_key : "-",
	                  when, s->reason);
	if (!ret)
		ret = split_format_checkpoint(out, "checkpoint seen-before", &s->seen);
	if (!ret)
		ret = split_format_checkpoint(out, "checkpoint given-now", &s->given);
	if (!ret && !s->asked_proof)
		ret = pl_buf_adds(out, "\nconsistency none: the sizes are equal\n");
	else if (!ret && !s->has_proof)
		ret = pl_buf_addf(out, "\nconsistency %llu %llu refused\nerror %s\n",
		                  (unsigned long long)s->proof_old,
		                  (unsigned long long)s->proof_new, s->proof_error);
	else if (!ret)
		ret = pl_buf_addf(out, "\nconsistency %llu %llu does-not-verify\nhashes %zu\n",
		                  (unsigned long long)s->proof_old,
		                  (unsigned long long)s->proof_new, s->nproof);
	for (size_t i = 0; !ret && s->has_proof && i < s->nproof; i++) {
		ret = pl_b64_append(out, s->proof[i], PL_HASH_BYTES);
		if (!ret)
			ret = pl_buf_add(out, "\n", 1);
	}
	return ret;
}
