/* parleyd's request admission: authentication, upload allowances, rates, the head deadline. */
#include "http_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>

#include <parley/auth.h>
#include <parley/encoding.h>

#include "daemon/log.h"
#include "internal.h"

/* Seconds since the epoch (0 before it). Any thread. */
static uint64_t wall_seconds(void)
{
	time_t t = time(NULL);

	return t < 0 ? 0 : (uint64_t)t;
}

/*
 * Whether rt is served without a request signature. Runs on an MHD worker, in
 * the access handler.
 */
static bool is_public(enum pl_parleyd_route rt)
{
	return rt == R_HEALTH || rt == R_CHECKPOINT || rt == R_LOG_KEY || rt == R_TILE ||
	       rt == R_CONSISTENCY || rt == R_PARTIES || rt == R_STATEMENTS ||
	       rt == R_INDEX_RECORD || rt == R_ASSET || rt == R_EXPLORER || rt == R_EXPLORER_STMT ||
	       rt == R_EXPLORER_DIR || rt == R_EXPLORER_LOG || rt == R_EXPLORER_LINES ||
	       rt == R_FEED || rt == R_PUBLIC_RECORD || rt == R_PUBLIC_PROOF || rt == R_METRICS;
}

/*
 * Token bucket per key: true when the key may make one more request now. Runs
 * on an MHD worker, in the access handler (also through submit_admit()).
 */
bool pl__http_rate_take(struct pl_parleyd_http *h, const char *name)
{
	uint64_t now = now_ms(), hv = 1469598103934665603u;
	double rate = atomic_load(&h->live_rate), burst = atomic_load(&h->live_rate_burst);
	size_t i, oldest = 0;
	struct rate_slot *s = NULL;
	bool ok;

	for (const char *c = name; *c; c++)
		hv = (hv ^ (unsigned char)*c) * 1099511628211u;
	pthread_mutex_lock(&h->rate_lock);
	for (size_t k = 0; k < RATE_SLOTS; k++) {
		i = (size_t)(hv + k) % RATE_SLOTS;
		if (h->rate[i].name[0] == '\0' || strcmp(h->rate[i].name, name) == 0) {
			s = &h->rate[i];
			break;
		}
		if (h->rate[i].last_ms < h->rate[oldest].last_ms)
			oldest = i;
	}
	if (!s) {
		/* Full: reuse the least recently used slot; its key starts with a full bucket. */
		s = &h->rate[oldest];
		s->name[0] = '\0';
	}
	if (s->name[0] == '\0') {
		size_t len = strlen(name);
		memcpy(s->name, name, len + 1);
		s->tokens = burst;
		s->last_ms = now;
	}
	s->tokens += (double)(now - s->last_ms) * rate / 1000.0;
	if (s->tokens > burst)
		s->tokens = burst;
	s->last_ms = now;
	ok = s->tokens >= 1.0;
	if (ok)
		s->tokens -= 1.0;
	pthread_mutex_unlock(&h->rate_lock);
	return ok;
}

struct header_count {
	unsigned all, auth;
};

/*
 * Counts the header fields, and the Authorization ones, of a request. Runs on
 * an MHD worker, in the access handler.
 */
static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
	struct header_count *c = cls;

	(void)kind;
	(void)value;
	c->all++;
	if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
		c->auth++;
	return MHD_YES;
}

/*
 * Counts the Content-Digest header fields of a request. Runs on an MHD worker,
 * in the access handler.
 */
static enum MHD_Result count_digest(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
	unsigned *n = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, PL_AUTH_DIGEST_HEADER) == 0)
		(*n)++;
	return MHD_YES;
}

/*
 * Logs a refused request, with the key it named when there is one (never a
 * secret). Runs on an MHD worker, in the access handler.
 */
void pl__http_log_refusal(const struct req *r, const char *key, const char *why)
{
	pl_daemon_log("warn", "auth", "reason=\"%s\" key=\"%s\" path=\"%.*s\"", why,
	              key ? key : "-", (int)(r->target_len > 128 ? 128 : r->target_len), r->target);
}
/* Fills f and returns status. Runs on an MHD worker, in the access handler. */
static unsigned refuse(struct refusal *f, unsigned status, const char *code, const char *reason)
{
	f->status = status;
	f->code = code;
	f->reason = reason;
	return status;
}

/*
 * The body hash the request signature must cover, known before the body is
 * read: the declared Content-Digest, required when a body follows
 * (docs/api.md, "Authentication"); the hash of the empty string for a request
 * without body. Runs on an MHD worker, in the access handler.
 */
static unsigned declared_body_hash(struct req *r, uint64_t body_len,
                                   uint8_t hash[static PL_HASH_BYTES], struct refusal *f)
{
	const char *v;
	unsigned n = 0;

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_digest, &n);
	if (n > 1)
		return refuse(f, MHD_HTTP_BAD_REQUEST, "malformed",
		              "more than one Content-Digest header");
	v = n ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, PL_AUTH_DIGEST_HEADER) : NULL;
	if (!v && body_len > 0)
		return refuse(f, MHD_HTTP_BAD_REQUEST, "malformed",
		              "a signed request with a body needs a Content-Digest header");
	if (v && pl_auth_digest_parse(r->digest, v, strlen(v)) != 0)
		return refuse(f, MHD_HTTP_BAD_REQUEST, "malformed",
		              "malformed Content-Digest header (sha-256=:<base64>: expected)");
	r->has_digest = v != NULL;
	if (v)
		memcpy(hash, r->digest, PL_HASH_BYTES);
	else
		pl_sha256(hash, "", 0);
	return 0;
}

/*
 * Authenticates a request by its Authorization header (docs/api.md) as soon as
 * the headers are in, before any of its body is read or any memory is
 * committed to it: key, membership, time, signature (over the declared body
 * hash), rate and nonce. Sets r->party and returns 0, or fills f and returns
 * the refusal's status. Runs on an MHD worker, in the access handler.
 */
static unsigned authenticate(struct req *r, const char *method, uint64_t body_len,
                             struct refusal *f)
{
	struct pl_parleyd_http *h = r->h;
	struct pl_exchange_party party;
	struct pl_auth a;
	uint8_t body_hash[PL_HASH_BYTES];
	const char *v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);
	size_t olen = strlen(h->origin), nlen;
	uint64_t now = wall_seconds();
	unsigned st;
	int err;

	if (!v)
		return refuse(f, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
		              "this resource needs an Authorization header");
	if (pl_auth_parse(&a, v, strlen(v)) != 0) {
		pl__http_log_refusal(r, NULL, "malformed Authorization header");
		return refuse(f, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
		              "malformed Authorization header");
	}
	nlen = strlen(a.key_name);
	if (nlen <= olen + 1 || memcmp(a.key_name, h->origin, olen) != 0 ||
	    a.key_name[olen] != '/') {
		pl__http_log_refusal(r, a.key_name, "key of another exchange");
		return refuse(f, MHD_HTTP_FORBIDDEN, "forbidden",
		              "the key is not a key of this exchange");
	}
	err = pl_exchange_party_get(h->ex, a.key_name + olen + 1, &party);
	if (err == PL_ENOTFOUND || (!err && party.revoked)) {
		pl__http_log_refusal(r, a.key_name, err ? "not a member" : "revoked");
		return refuse(f, MHD_HTTP_FORBIDDEN, "forbidden",
		              err ? "not a registered party" : "the party's key is revoked");
	}
	if (err) {
		char detail[256];
		pl_exchange_last_error(h->ex, detail, sizeof(detail));
		pl_daemon_log("error", "http", "what=directory err=\"%s\" detail=\"%s\"",
		              pl_strerror(err), detail);
		return err == PL_ESTATE ? refuse(f, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		                                 "the directory is unavailable")
		                        : refuse(f, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		                                 "internal error");
	}
	st = declared_body_hash(r, body_len, body_hash, f);
	if (st) {
		pl__http_log_refusal(r, a.key_name, f->reason);
		return st;
	}
	err = pl_auth_verify(&a, &party.vkey, method, r->target, r->target_len, body_hash, now,
	                     h->cfg.auth_window);
	if (err) {
		const char *why = err == PL_EINVAL   ? "not the registered key of the party"
		                  : err == PL_ERANGE ? "request time outside the accepted window"
		                                     : "request signature does not verify";
		pl__http_log_refusal(r, a.key_name, why);
		return refuse(f, err == PL_EINVAL ? MHD_HTTP_FORBIDDEN : MHD_HTTP_UNAUTHORIZED,
		              err == PL_EINVAL ? "forbidden" : "unauthenticated", why);
	}
	if (!pl__http_rate_take(h, a.key_name))
		return refuse(f, MHD_HTTP_TOO_MANY_REQUESTS, "rate-limited",
		              "too many requests for this key");
	err = pl_auth_nonces_add(h->nonces, &a, now);
	if (err) {
		pl__http_log_refusal(r, a.key_name,
		                     err == PL_EEXIST    ? "replayed nonce"
		                     : err == PL_ETOOBIG ? "the key's nonce memory is full"
		                                         : "nonce refused");
		if (err == PL_ETOOBIG || err == PL_ENOMEM)
			return refuse(f, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
			              "too many requests by this key in the time window");
		return refuse(f, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
		              err == PL_EEXIST ? "replayed request (nonce already seen)"
		                               : "request time outside the accepted window");
	}
	memcpy(r->party, party.name, sizeof(r->party));
	return 0;
}

/*
 * Reserves len bytes of upload memory for the authenticated party of r: within
 * its own allowance (upload_per_key) and the global bound (upload_budget).
 * Returns 0, or fills f (503) and logs the refusal. Runs on an MHD worker, in
 * the access handler.
 */
static unsigned upload_take(struct req *r, size_t len, struct refusal *f)
{
	struct pl_parleyd_http *h = r->h;
	struct upload_use *u = NULL;
	const char *why = NULL;

	pthread_mutex_lock(&h->upload_lock);
	for (size_t i = 0; i < h->nuploads && !u; i++)
		if (strcmp(h->uploads[i].party, r->party) == 0)
			u = &h->uploads[i];
	if ((u ? u->bytes : 0) + len > h->upload_per_key) {
		why = "this key has too many uploads in progress";
	} else if (h->upload_bytes + len > h->upload_budget) {
		why = "too many uploads in progress";
	} else if (!u && h->nuploads == h->uploads_cap) {
		size_t cap = h->uploads_cap ? 2 * h->uploads_cap : 16;
		struct upload_use *v = realloc(h->uploads, cap * sizeof(*v));
		if (v) {
			h->uploads = v;
			h->uploads_cap = cap;
		} else {
			why = "out of memory for uploads";
		}
	}
	if (!why) {
		if (!u) {
			u = &h->uploads[h->nuploads++];
			memcpy(u->party, r->party, sizeof(u->party));
			u->bytes = 0;
		}
		u->bytes += len;
		h->upload_bytes += len;
		r->reserved = len;
	}
	pthread_mutex_unlock(&h->upload_lock);
	if (!why)
		return 0;
	pl_daemon_log("warn", "http", "reason=\"%s\" key=\"%s/%s\" bytes=%zu", why, h->origin,
	              r->party, len);
	return refuse(f, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", why);
}

/*
 * Gives back what upload_take() reserved for r. Runs on an MHD worker, when
 * its request completes.
 */
void pl__http_upload_release(struct req *r)
{
	struct pl_parleyd_http *h = r->h;

	pthread_mutex_lock(&h->upload_lock);
	for (size_t i = 0; i < h->nuploads; i++) {
		struct upload_use *u = &h->uploads[i];
		if (strcmp(u->party, r->party) != 0)
			continue;
		u->bytes -= r->reserved;
		if (u->bytes == 0)
			*u = h->uploads[--h->nuploads];
		break;
	}
	h->upload_bytes -= r->reserved;
	r->reserved = 0;
	pthread_mutex_unlock(&h->upload_lock);
}

/*
 * True when the request must carry a request signature. A submitted record
 * authenticates itself (docs/api.md): its signature by a registered key covers
 * the whole body, its time is held to the exchange's tolerance and its place
 * in its author's chain makes a replay a no-op. An Authorization header sent
 * with it anyway is checked like any other. Runs on an MHD worker, in the
 * access handler.
 */
bool pl__http_needs_request_auth(const struct req *r)
{
	return !is_public(r->route) && (r->route != R_RECORD_POST || r->has_auth);
}

/*
 * The error code of a request refused by its status alone, before its body.
 * Runs on an MHD worker, in the access handler.
 */
static const char *early_code_of(unsigned status)
{
	switch (status) {
	case MHD_HTTP_NOT_FOUND:
		return "not-found";
	case MHD_HTTP_METHOD_NOT_ALLOWED:
		return "method-not-allowed";
	case MHD_HTTP_CONTENT_TOO_LARGE:
		return "too-large";
	case MHD_HTTP_SERVICE_UNAVAILABLE:
		return "unavailable";
	case MHD_HTTP_LENGTH_REQUIRED:
		return "length-required";
	case MHD_HTTP_URI_TOO_LONG:
		return "too-large";
	case MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE:
		return "too-large";
	default:
		return "malformed";
	}
}

/*
 * First call: the headers are in. Routes, checks the header count and the
 * declared body size, authenticates a request that needs a request signature
 * (against the declared hash of its body), and only then reserves upload
 * memory for it, from its party's allowance. A self-authenticating record
 * (POST /records without Authorization) reserves nothing shared: its body is
 * bounded by record_max on its own connection. An error is answered now only
 * when a body follows (so that it is never read); otherwise on the final call.
 * Runs on an MHD worker, in the first call of the access handler.
 */
enum MHD_Result pl__http_first_call(struct req *r, const char *method)
{
	struct pl_parleyd_http *h = r->h;
	struct header_count hc = {0, 0};
	const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_TRANSFER_ENCODING);
	bool has_body = te != NULL || (cl && strcmp(cl, "0") != 0);
	uint64_t len = 0, max = 0;
	unsigned status = 0;
	const char *reason = NULL, *code = NULL;
	struct refusal f;

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &hc);
	r->has_auth = hc.auth > 0;
	if (h->quiescing) {
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		reason = "the server is shutting down";
	} else if (r->too_long) {
		status = MHD_HTTP_URI_TOO_LONG;
		reason = "request-target too long";
	} else if (hc.all > h->cfg.max_headers) {
		status = MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
		reason = "too many header fields";
	} else if (hc.auth > 1) {
		status = MHD_HTTP_BAD_REQUEST;
		reason = "more than one Authorization header";
	} else if ((status = pl_parleyd_target_parse(&r->t, method, r->target, r->target_len)) !=
	           0) {
		reason = status == MHD_HTTP_NOT_FOUND            ? "no such resource"
		         : status == MHD_HTTP_METHOD_NOT_ALLOWED ? "method not allowed here"
		                                                 : "malformed request-target";
	} else if (r->is_post) {
		max = r->route == R_RECORD_POST ? h->cfg.record_max : h->payload_max;
		if (!cl || te) {
			status = MHD_HTTP_LENGTH_REQUIRED;
			reason = "a Content-Length is required";
		} else if (pl_parse_u64(&len, cl, strlen(cl), UINT64_MAX) != 0) {
			status = MHD_HTTP_BAD_REQUEST;
			reason = "bad Content-Length";
		} else if (len > max) {
			status = MHD_HTTP_CONTENT_TOO_LARGE;
			reason = r->route == R_RECORD_POST ? "record larger than the limit"
			                                   : "payload larger than the limit";
		}
	} else if (has_body) {
		status = MHD_HTTP_BAD_REQUEST;
		reason = "this resource takes no body";
	}
	if (status == 0 && pl__http_needs_request_auth(r) &&
	    ((status = authenticate(r, method, len, &f)) != 0 ||
	     (len > 0 && (status = upload_take(r, (size_t)len, &f)) != 0))) {
		code = f.code;
		reason = f.reason;
	}
	if (status == 0) {
		if (r->is_post)
			pl_buf_init(&r->body, (size_t)len);
		return MHD_YES;
	}
	if (!code)
		code = early_code_of(status);
	if (has_body || h->quiescing)
		return pl__http_send_error(r, status, code, reason);
	r->early_status = status;
	r->early_code = code;
	r->early_reason = reason;
	return MHD_YES;
}

/*
 * Keeps the list of open connections for pl__http_conn_sweep(): each is noted
 * when accepted and dropped before MHD closes its socket. Runs on an MHD
 * worker, as it accepts or closes the connection.
 */
void pl__http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                            enum MHD_ConnectionNotificationCode toe)
{
	struct pl_parleyd_http *h = cls;
	struct conn *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = ci ? calloc(1, sizeof(*c)) : NULL;
		if (!c)
			return; /* not swept: MHD's inactivity timeout still applies */
		c->fd = ci->connect_fd;
		atomic_init(&c->since_ms, now_ms());
		atomic_init(&c->busy, false);
		pthread_mutex_lock(&h->conn_lock);
		HTTP_LIST_PUSH(h->conns, c, next, prev);
		pthread_mutex_unlock(&h->conn_lock);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	pthread_mutex_lock(&h->conn_lock);
	HTTP_LIST_UNLINK(h->conns, c, next, prev);
	pthread_mutex_unlock(&h->conn_lock);
	free(c);
	*socket_context = NULL;
}

/*
 * Shuts down the connections that have not sent a whole request head within
 * header_timeout of their accept or of their previous answer, however slowly
 * they keep sending (MHD's own timeout counts inactivity only). MHD then reads
 * the end of the stream and closes the connection. conn_lock is held
 * throughout, and MHD closes a socket only after pl__http_on_connection() has
 * taken it to unlink the connection, so fd is still this connection's. Runs on
 * the notifier thread.
 */
void pl__http_conn_sweep(struct pl_parleyd_http *h, uint64_t now)
{
	uint64_t limit = (uint64_t)h->cfg.header_timeout * 1000u;
	unsigned cut = 0;

	pthread_mutex_lock(&h->conn_lock);
	for (struct conn *c = h->conns; c; c = c->next) {
		if (c->cut || atomic_load(&c->busy) || now - atomic_load(&c->since_ms) < limit)
			continue;
		(void)shutdown(c->fd, SHUT_RDWR);
		c->cut = true;
		cut++;
	}
	pthread_mutex_unlock(&h->conn_lock);
	if (cut)
		pl_daemon_log("warn", "http",
		              "msg=\"closed connections without a request head in time\" count=%u "
		              "header_timeout=%u",
		              cut, (unsigned)h->cfg.header_timeout);
}
