/* parleyd's HTTP API on libmicrohttpd: routing, limits, authentication, long polls, streams. */
#include "http.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include <parley/apicodec.h>
#include <parley/auth.h>
#include <parley/encoding.h>
#include <parley/limits.h>
#include <parley/record.h>
#include <parley/tiles.h>

#include "daemon/log.h"
#include "daemon/serve.h"
#include "internal.h"
#include "target.h"

#define RATE_SLOTS       1024 /* rate-limited keys tracked at once (members and auditors) */
#define HEARTBEAT_MS     15000
#define NOTIFY_TICK_MS   250
#define SSE_BLOCK        (32u * 1024u)
#define SSE_BUFFER_MAX   (4u << 20)
#define LIST_BYTES_MAX   (4u << 20)  /* record bytes in one list answer */
#define LIST_CHUNK       (16u << 10) /* bytes of a list answer or stream formatted at once */
#define LIST_PAGE        8           /* records read at once for a list answer or stream */
#define LIST_BUFFER_MAX  (1u << 20)  /* a chunk and one entry, whatever its size */
#define CACHE_IMMUTABLE  "public, max-age=31536000, immutable"
#define CACHE_PRIVATE    "private, max-age=31536000, immutable"
#define CACHE_CHECKPOINT "no-cache, max-age=0"
#define CACHE_NONE       "no-store"
#define TEXT_PLAIN       "text/plain; charset=utf-8"
#define APP_JSON         "application/json"
#define APP_OCTETS       "application/octet-stream"

/*
 * One TCP connection, from its accept to its close (MHD's connection
 * notifications), so that a sweep can close those that hold a slot without
 * sending a whole request head in time.
 */
struct conn {
	struct conn *next, *prev;
	MHD_socket fd;
	atomic_uint_fast64_t since_ms; /* accepted, or its last answer completed */
	atomic_bool busy;              /* a request head is in and its answer not complete */
	bool cut;                      /* shut down by the sweep */
};

struct rate_slot {
	char name[PL_KEY_NAME_MAX + 1];
	double tokens;
	uint64_t last_ms;
};

/* The bytes of authenticated uploads one party has in progress. */
struct upload_use {
	char party[PL_KEY_NAME_MAX + 1];
	size_t bytes;
};

struct pl_parleyd_http {
	struct MHD_Daemon *d;
	struct pl_exchange *ex;
	struct pl_parleyd_config cfg;
	struct pl_auth_nonces *nonces;
	char origin[PL_ORIGIN_MAX + 1];
	uint16_t port;

	atomic_bool quiescing; /* refuse new requests */
	atomic_bool ending;    /* end long polls and streams, never suspend again */
	atomic_bool stop_notifier;
	atomic_long inflight; /* requests between their first byte and their completion */
	size_t payload_max;

	/* Authenticated uploads in progress: per party (few at once, kept in a short array) and
	 * in all. Unauthenticated bodies (self-authenticating records) draw on neither. */
	pthread_mutex_t upload_lock;
	struct upload_use *uploads;
	size_t nuploads, uploads_cap;
	size_t upload_bytes;
	size_t upload_budget;
	size_t upload_per_key;

	pthread_mutex_t submit_lock; /* orders a submission's completion against its suspension */
	pthread_mutex_t wait_lock;   /* the list of suspended long polls and streams */
	struct req *waiters;
	pthread_t notifier;
	bool notifier_started;

	pthread_mutex_t stream_lock; /* the open event streams, counted per key */
	struct req *streams;
	size_t nstreams;

	pthread_mutex_t conn_lock; /* the open connections, for the request-head deadline */
	struct conn *conns;

	pthread_mutex_t rate_lock;
	struct rate_slot rate[RATE_SLOTS];
};

/* One request, created when its request line arrives and freed when it completes. */
struct req {
	struct pl_parleyd_http *h;
	struct MHD_Connection *conn;
	char *target; /* the request-target exactly as received (signed by the client) */
	size_t target_len;
	bool too_long;
	bool started; /* the first access-handler call has happened */
	bool answered;
	bool has_auth;   /* an Authorization header came */
	bool has_digest; /* a Content-Digest came with it: the body must hash to digest */
	uint8_t digest[PL_HASH_BYTES];
	unsigned early_status; /* an error found before the body, answered on the final call */
	const char *early_code;
	const char *early_reason;

	/* The parsed request-target: whole as t for its parser, by name (r->route, r->q, ...)
	 * for the handlers. */
	union {
		struct pl_parleyd_target t;
		struct {
			PL_PARLEYD_TARGET_FIELDS
		};
	};

	struct pl_buf body;
	size_t reserved;                 /* bytes of the party's upload allowance held */
	char party[PL_KEY_NAME_MAX + 1]; /* the authenticated party */

	/* POST /records completes on the sequencer thread. */
	bool submitted, done, suspended;
	int status;
	struct pl_receipt receipt;
	struct pl_exchange_refusal why;

	/* Long polls and event streams wait on the notifier. */
	struct req *wnext, *wprev;
	bool in_wait;
	bool peer_gone;            /* the client closed while it waited */
	struct req *snext, *sprev; /* an open event stream, in h->streams */
	uint64_t size0;
	uint64_t deadline_ms;
	uint64_t cursor;
	bool sse;
	struct pl_buf out;
	size_t out_off;
	uint64_t beat_ms;
	char location[16 + PL_HASH_HEX_LEN]; /* Location of a created resource, or empty */

	/* A list answer, formatted into out as the client reads it (list_read()). */
	int lsrc;                              /* enum list_src */
	uint64_t *idx;                         /* the log indexes to list, or NULL */
	char (*names)[PL_RECORD_NAME_MAX + 1]; /* the parties to list, or NULL */
	size_t nitems, item;                   /* of idx or names; the next to format */
	size_t count, bytes;                   /* entries and record bytes formatted */
	uint64_t lsize;                        /* the tree size of a line page's proofs */
	bool lend;                             /* nothing more to list */
	bool lcut;                             /* the byte limit left records out */
	bool ldone;                            /* the closing text is formatted */

	struct conn *c; /* its connection's, for the request-head deadline; or NULL */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t wall_seconds(void)
{
	time_t t = time(NULL);

	return t < 0 ? 0 : (uint64_t)t;
}

/* ---- Responses ---- */

/* Queues a response and drops our reference. data is copied unless take is set (then freed). */
static enum MHD_Result send_bytes(struct req *r, unsigned status, const char *ctype,
                                  const char *cache, void *data, size_t len, bool take)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(
	        len, data, take ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	if (!resp) {
		if (take)
			free(data);
		return MHD_NO;
	}
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache ? cache : CACHE_NONE);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
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
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	r->answered = true;
	return ret;
}

/* Queues an error answer (docs/api.md, "Errors"); chain as for pl_apicodec_error(). */
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
		return send_bytes(r, MHD_HTTP_INTERNAL_SERVER_ERROR, APP_JSON, NULL, (void *)oom,
		                  sizeof(oom) - 1, false);
	}
	return send_bytes(r, status, APP_JSON, NULL, s, len, true);
}

static enum MHD_Result send_error(struct req *r, unsigned status, const char *code,
                                  const char *reason)
{
	return send_error_body(r, status, code, reason, NULL);
}

/* The HTTP status and error code of a library error (docs/api.md, "Errors"). */
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

static enum MHD_Result send_lib_error(struct req *r, int err, const char *what)
{
	const char *code;
	unsigned status = status_of(err, &code);
	char reason[160];

	if (status >= 500 && err != PL_ESTATE) {
		char detail[256];
		pl_exchange_last_error(r->h->ex, detail, sizeof(detail));
		pl_daemon_log("error", "http", "what=%s err=\"%s\" detail=\"%s\"", what,
		              pl_strerror(err), detail);
		return send_bytes(r, status, APP_JSON, NULL,
		                  (void *)"{\"error\":\"internal\",\"reason\":\"internal error\"}",
		                  sizeof("{\"error\":\"internal\",\"reason\":\"internal error\"}") -
		                          1,
		                  false);
	}
	snprintf(reason, sizeof(reason), "%s: %s", what, pl_strerror(err));
	return send_error(r, status, code, reason);
}

static enum MHD_Result send_buf(struct req *r, unsigned status, const char *ctype,
                                const char *cache, struct pl_buf *b)
{
	size_t len;
	char *s = pl_buf_detach(b, &len);

	if (!s)
		return send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
	return send_bytes(r, status, ctype, cache, s, len, true);
}

/* Parses a decimal with no leading zeros, no sign, at most max. */
static bool parse_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	return pl_parse_u64(out, s, n, max) == 0;
}

/* ---- Authentication and rate limits ---- */

static bool is_public(enum pl_parleyd_route rt)
{
	return rt == R_HEALTH || rt == R_CHECKPOINT || rt == R_LOG_KEY || rt == R_TILE ||
	       rt == R_CONSISTENCY || rt == R_PARTIES || rt == R_STATEMENTS;
}

/* Token bucket per key: true when the key may make one more request now. */
static bool rate_take(struct pl_parleyd_http *h, const char *name)
{
	uint64_t now = now_ms(), hv = 1469598103934665603u;
	double rate = h->cfg.rate, burst = h->cfg.rate_burst;
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

/* Logs a refused request, with the key it named when there is one (never a secret). */
static void log_refusal(const struct req *r, const char *key, const char *why)
{
	pl_daemon_log("warn", "auth", "reason=\"%s\" key=\"%s\" path=\"%.*s\"", why,
	              key ? key : "-", (int)(r->target_len > 128 ? 128 : r->target_len), r->target);
}

/* An authentication outcome: 0, or the HTTP status, error code and reason to answer. */
struct refusal {
	unsigned status;
	const char *code, *reason;
};

static unsigned refuse(struct refusal *f, unsigned status, const char *code, const char *reason)
{
	f->status = status;
	f->code = code;
	f->reason = reason;
	return status;
}

/*
 * The body hash the request signature must cover, known before the body is
 * read: the declared Content-Digest, required when a body follows (docs/api.md,
 * "Authentication"); the hash of the empty string for a request without body.
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
 * Authenticates a request by its Authorization header (docs/api.md) as soon
 * as the headers are in, before any of its body is read or any memory is
 * committed to it: key, membership, time, signature (over the declared body
 * hash), rate and nonce. Sets r->party and returns 0, or fills f and returns
 * the refusal's status.
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
		log_refusal(r, NULL, "malformed Authorization header");
		return refuse(f, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
		              "malformed Authorization header");
	}
	nlen = strlen(a.key_name);
	if (nlen <= olen + 1 || memcmp(a.key_name, h->origin, olen) != 0 ||
	    a.key_name[olen] != '/') {
		log_refusal(r, a.key_name, "key of another exchange");
		return refuse(f, MHD_HTTP_FORBIDDEN, "forbidden",
		              "the key is not a key of this exchange");
	}
	err = pl_exchange_party_get(h->ex, a.key_name + olen + 1, &party);
	if (err == PL_ENOTFOUND || (!err && party.revoked)) {
		log_refusal(r, a.key_name, err ? "not a member" : "revoked");
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
		log_refusal(r, a.key_name, f->reason);
		return st;
	}
	err = pl_auth_verify(&a, &party.vkey, method, r->target, r->target_len, body_hash, now,
	                     h->cfg.auth_window);
	if (err) {
		const char *why = err == PL_EINVAL   ? "not the registered key of the party"
		                  : err == PL_ERANGE ? "request time outside the accepted window"
		                                     : "request signature does not verify";
		log_refusal(r, a.key_name, why);
		return refuse(f, err == PL_EINVAL ? MHD_HTTP_FORBIDDEN : MHD_HTTP_UNAUTHORIZED,
		              err == PL_EINVAL ? "forbidden" : "unauthenticated", why);
	}
	if (!rate_take(h, a.key_name))
		return refuse(f, MHD_HTTP_TOO_MANY_REQUESTS, "rate-limited",
		              "too many requests for this key");
	err = pl_auth_nonces_add(h->nonces, &a, now);
	if (err) {
		log_refusal(r, a.key_name,
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
 * Reserves len bytes of upload memory for the authenticated party of r:
 * within its own allowance (upload_per_key) and the global bound
 * (upload_budget). Returns 0, or fills f (503) and logs the refusal.
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

/* Gives back what upload_take() reserved for r. */
static void upload_release(struct req *r)
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

/* ---- Waiting: long polls and event streams ---- */

static void wait_unlink(struct pl_parleyd_http *h, struct req *r)
{
	if (r->wprev)
		r->wprev->wnext = r->wnext;
	else
		h->waiters = r->wnext;
	if (r->wnext)
		r->wnext->wprev = r->wprev;
	r->wnext = r->wprev = NULL;
	r->in_wait = false;
}

/*
 * Suspends the connection until the tree grows past r->size0, the deadline
 * passes or the server ends. Must be called from the access handler or the
 * content reader. Returns false (nothing suspended) when the tree already
 * grew or the server is ending: the caller reads again at once.
 */
static bool wait_suspend(struct req *r, uint64_t deadline_ms)
{
	struct pl_parleyd_http *h = r->h;
	bool suspended = false;

	pthread_mutex_lock(&h->wait_lock);
	if (!h->ending && pl_exchange_size(h->ex) <= r->size0 && now_ms() < deadline_ms) {
		r->deadline_ms = deadline_ms;
		r->wprev = NULL;
		r->wnext = h->waiters;
		if (h->waiters)
			h->waiters->wprev = r;
		h->waiters = r;
		r->in_wait = true;
		/* Suspended under the lock so that the notifier cannot resume it first. */
		MHD_suspend_connection(r->conn);
		suspended = true;
	}
	pthread_mutex_unlock(&h->wait_lock);
	return suspended;
}

/*
 * Whether the client of a waiting request has closed its end: MHD does not
 * watch a suspended connection, so without this a stream whose client left
 * would hold its slot until its next heartbeat. Data sent meanwhile (a
 * pipelined request) counts as alive.
 */
static bool peer_closed(const struct req *w)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(w->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	char c;
	ssize_t n;

	if (!ci)
		return false;
	n = recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/*
 * Shuts down the connections that have not sent a whole request head within
 * header_timeout of their accept or of their previous answer, however slowly
 * they keep sending (MHD's own timeout counts inactivity only). MHD then reads
 * the end of the stream and closes the connection. conn_lock is held
 * throughout, and MHD closes a socket only after on_connection() has taken it
 * to unlink the connection, so fd is still this connection's.
 */
static void conn_sweep(struct pl_parleyd_http *h, uint64_t now)
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

static void *notifier_main(void *arg)
{
	struct pl_parleyd_http *h = arg;
	uint64_t last = pl_exchange_size(h->ex), checked = now_ms();

	while (!h->stop_notifier) {
		uint64_t t0 = now_ms(), size = pl_exchange_wait(h->ex, last, NOTIFY_TICK_MS), now;
		bool check;

		now = now_ms();
		/* Once a tick, not at every commit: the sequencer may commit a thousand times a
		 * second. */
		check = now - checked >= NOTIFY_TICK_MS;
		if (check)
			checked = now;
		pthread_mutex_lock(&h->wait_lock);
		for (struct req *w = h->waiters, *next; w; w = next) {
			bool wake = size > w->size0 || now >= w->deadline_ms || h->ending;
			next = w->wnext;
			if (!wake && check && peer_closed(w)) {
				w->peer_gone = true;
				wake = true;
			}
			if (wake) {
				wait_unlink(h, w);
				MHD_resume_connection(w->conn);
			}
		}
		pthread_mutex_unlock(&h->wait_lock);
		if (check)
			conn_sweep(h, now);
		if (size == last && now - t0 < NOTIFY_TICK_MS / 10) {
			/* The exchange is shut down and returns at once: do not spin. */
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		last = size;
	}
	return NULL;
}

/* ---- Handlers ---- */

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
		return send_lib_error(r, err, "checkpoint");
	}
	return send_buf(r, MHD_HTTP_OK, TEXT_PLAIN, CACHE_CHECKPOINT, &b);
}

/* The log's verifier key, for clients that trust it on first use (and say so). */
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
		return send_lib_error(r, err, "log key");
	}
	return send_buf(r, MHD_HTTP_OK, TEXT_PLAIN, CACHE_CHECKPOINT, &b);
}

static enum MHD_Result do_tile(struct req *r, bool entries)
{
	struct pl_buf b;
	int err;

	pl_buf_init(&b, entries ? PL_TILE_WIDTH * (PL_ENTRY_MAX_BYTES + 2) : PL_TILE_BYTES);
	if (entries)
		err = pl_exchange_entry_bundle(r->h->ex, r->tile, r->width, &b);
	else
		err = pl_exchange_tile(r->h->ex, r->level, r->tile, r->width, &b);
	if (err) {
		pl_buf_release(&b);
		return send_lib_error(r, err, entries ? "entry bundle" : "tile");
	}
	/* Full and partial tiles alike never change once they exist (c2sp.org/tlog-tiles). */
	return send_buf(r, MHD_HTTP_OK, APP_OCTETS, entries ? CACHE_PRIVATE : CACHE_IMMUTABLE, &b);
}

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
		return send_error(r, MHD_HTTP_INSUFFICIENT_STORAGE, "over-quota",
		                  "payload: this party's payloads that no record refers to would "
		                  "exceed payload_unreferenced_max");
	if (err)
		return send_lib_error(r, err, "payload");
	pl_hex_encode(hex, hash, sizeof(hash));
	snprintf(r->location, sizeof(r->location), "/payloads/%s", hex);
	pl_buf_init(&b, 256);
	if (pl_apicodec_payload(&b, hash, r->body.len) != 0) {
		pl_buf_release(&b);
		return send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
	}
	return send_buf(r, MHD_HTTP_CREATED, APP_JSON, NULL, &b);
}

static enum MHD_Result do_payload_get(struct req *r)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	int err = pl_exchange_payload_get(r->h->ex, r->party, r->hash, &blob, &len);

	if (err)
		return send_lib_error(r, err, "payload");
	/* Content-addressed: the bytes for this hash never change. */
	return send_bytes(r, MHD_HTTP_OK, APP_OCTETS, CACHE_PRIVATE, blob, len, true);
}

/* Answers a receipt: status 201 (new) or 200 (already logged). */
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
		return send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
	}
	return send_bytes(r, status, APP_JSON, NULL, text, len, true);
}

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

/* The per-key rate limit, for a record whose signature has verified. */
static bool submit_admit(void *arg, const char *key_name)
{
	struct req *r = arg;

	if (r->party[0])
		return true; /* counted when its Authorization header was checked */
	return strlen(key_name) <= PL_KEY_NAME_MAX && rate_take(r->h, key_name);
}

/* A record already in the log: answer as for a new one, with a fresh proof (idempotent retry). */
static enum MHD_Result answer_existing(struct req *r, uint64_t index)
{
	struct pl_receipt rc;
	enum MHD_Result ret;
	int err = pl_exchange_receipt_get(r->h->ex, index, &rc);

	if (err)
		return send_lib_error(r, err, "record");
	ret = send_receipt(r, MHD_HTTP_OK, &rc);
	pl_receipt_release(&rc);
	return ret;
}

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
		return send_lib_error(r, r->status, "submission");
	return send_error_body(r, status, code,
	                       r->why.reason[0] ? r->why.reason : pl_strerror(r->status),
	                       r->status == PL_ECHAIN ? &r->why : NULL);
}

static enum MHD_Result do_record_post(struct req *r)
{
	struct pl_parleyd_http *h = r->h;
	struct pl_exchange_done done = {submit_done, r, submit_admit};
	enum MHD_Result ret = MHD_YES;
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
	pthread_mutex_unlock(&h->submit_lock);
	if (r->done)
		ret = submit_answer(r);
	return ret;
}

static enum MHD_Result do_record_get(struct req *r)
{
	struct pl_exchange_entry e;
	char index[24];
	enum MHD_Result ret;
	int err;

	memset(&e, 0, sizeof(e));
	err = pl_exchange_record(r->h->ex, r->id, r->id_len, &e);
	if (err)
		return send_lib_error(r, err, "record");
	snprintf(index, sizeof(index), "%llu", (unsigned long long)e.index);
	{
		struct MHD_Response *resp =
		        MHD_create_response_from_buffer(e.note_len, e.note, MHD_RESPMEM_MUST_COPY);
		if (!resp) {
			pl_exchange_entry_release(&e);
			return MHD_NO;
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, TEXT_PLAIN);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, CACHE_PRIVATE);
		MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
		MHD_add_response_header(resp, "Parley-Index", index);
		ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
		MHD_destroy_response(resp);
		r->answered = true;
	}
	pl_exchange_entry_release(&e);
	return ret;
}

static enum MHD_Result do_proof(struct req *r)
{
	struct pl_exchange_entry e;
	struct pl_buf b;
	/* An explicit size is never "the latest": size=0 holds no record (400, docs/api.md). */
	bool has_size = (r->q.has & Q_SIZE) != 0;
	uint64_t size = has_size ? r->q.size : 0;
	int err;

	memset(&e, 0, sizeof(e));
	err = pl_exchange_record(r->h->ex, r->id, r->id_len, &e);
	if (err)
		return send_lib_error(r, err, "record");
	pl_buf_init(&b, PL_TLOG_PROOF_MAX_BYTES);
	if (has_size && e.index >= size)
		err = PL_ERANGE;
	else if (size > pl_exchange_size(r->h->ex))
		err = PL_ENOTFOUND;
	else
		err = pl_exchange_proof(r->h->ex, e.index, size, &b);
	pl_exchange_entry_release(&e);
	if (err) {
		pl_buf_release(&b);
		return send_lib_error(r, err, "proof");
	}
	return send_buf(r, MHD_HTTP_OK, TEXT_PLAIN, has_size ? CACHE_PRIVATE : CACHE_NONE, &b);
}

static enum MHD_Result do_consistency(struct req *r)
{
	uint8_t(*hashes)[PL_HASH_BYTES] = NULL;
	struct pl_buf b;
	size_t n = 0;
	int err;

	if ((r->q.has & (Q_OLD | Q_NEW)) != (Q_OLD | Q_NEW))
		return send_error(r, MHD_HTTP_BAD_REQUEST, "malformed",
		                  "old and new tree sizes are required");
	if (r->q.old > r->q.new_)
		return send_error(r, MHD_HTTP_BAD_REQUEST, "out-of-range",
		                  "old tree size is larger than new");
	if (r->q.new_ > pl_exchange_size(r->h->ex))
		return send_error(r, MHD_HTTP_NOT_FOUND, "not-found",
		                  "the tree has not reached the new size");
	hashes = calloc(PL_PROOF_MAX_HASHES, PL_HASH_BYTES);
	if (!hashes)
		return send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
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
		return send_lib_error(r, err, "consistency");
	}
	return send_buf(r, MHD_HTTP_OK, TEXT_PLAIN, CACHE_IMMUTABLE, &b);
}

/* ---- List answers, formatted as the client reads them ---- */

/*
 * What a list answer lists. Statements and an inbox are read a page at a time
 * from r->cursor; a thread, a line page and the directory are decided first
 * (r->idx or r->names, a few bytes per entry) and each entry is read when its
 * turn comes.
 */
enum list_src {
	LS_STATEMENTS,
	LS_INBOX,
	LS_THREAD,
	LS_LINE,
	LS_PARTIES,
};

/* Appends the directory entry of the party named name to b, as GET /parties lists it. */
static int party_text(struct pl_parleyd_http *h, struct pl_buf *b, bool first, const char *name)
{
	struct pl_exchange_party p;
	struct pl_exchange_entry reg;
	int ret;

	memset(&reg, 0, sizeof(reg));
	ret = pl_exchange_party_get(h->ex, name, &p);
	if (!ret)
		ret = pl_exchange_record_at(h->ex, p.register_index, &reg);
	if (!ret)
		ret = pl_apicodec_party(b, first, &p, &reg);
	pl_exchange_entry_release(&reg);
	return ret;
}

/* Empties r->out and starts a list answer of src; the caller appends its head. */
static void list_begin(struct req *r, enum list_src src)
{
	pl_buf_release(&r->out);
	pl_buf_init(&r->out, LIST_BUFFER_MAX);
	r->out_off = 0;
	r->lsrc = src;
	r->item = r->count = r->bytes = 0;
	r->lend = r->lcut = r->ldone = false;
}

/* Whether an entry of len record bytes still fits the answer (the first always does). */
static bool list_fits(struct req *r, size_t len)
{
	if (r->count > 0 && r->bytes + len > LIST_BYTES_MAX) {
		r->lcut = true;
		return false;
	}
	return true;
}

/*
 * Statements or the inbox: the next page from r->cursor. Stops early at
 * LIST_CHUNK bytes (the rest from the next read) or at the byte limit of
 * the answer; then r->cursor is the index of the first record left out.
 */
static int list_fill_page(struct req *r)
{
	struct pl_exchange_list l;
	size_t want = PL_HTTP_RECORDS_MAX_PAGE - r->count, i = 0;
	int err;

	if (want > LIST_PAGE)
		want = LIST_PAGE;
	memset(&l, 0, sizeof(l));
	err = r->lsrc == LS_STATEMENTS ? pl_exchange_statements(r->h->ex, r->cursor, want, &l)
	                               : pl_exchange_inbox(r->h->ex, r->party, r->cursor, want, &l);
	for (; !err && i < l.n; i++) {
		if (r->out.len >= LIST_CHUNK || !list_fits(r, l.v[i].note_len))
			break;
		err = pl_apicodec_entry(&r->out, r->count == 0, &l.v[i], NULL, 0);
		r->count++;
		r->bytes += l.v[i].note_len;
		r->cursor = l.v[i].index + 1;
	}
	if (!err && i < l.n)
		r->cursor = l.v[i].index;
	else if (!err && l.n < want) {
		if (l.next > r->cursor)
			r->cursor = l.next;
		r->lend = true;
	}
	pl_exchange_list_release(&l);
	return err;
}

/* A thread, a line page or the directory: the next entry. */
static int list_fill_item(struct req *r)
{
	struct pl_exchange_entry e;
	struct pl_buf proof;
	int err = 0;

	if (r->item == r->nitems) {
		r->lend = true;
		return 0;
	}
	if (r->lsrc == LS_PARTIES) {
		err = party_text(r->h, &r->out, r->count == 0, r->names[r->item]);
		r->item++;
		r->count++;
		return err;
	}
	memset(&e, 0, sizeof(e));
	pl_buf_init(&proof, PL_TLOG_PROOF_MAX_BYTES);
	err = pl_exchange_record_at(r->h->ex, r->idx[r->item], &e);
	if (!err && r->lsrc == LS_LINE)
		err = pl_exchange_proof(r->h->ex, e.index, r->lsize, &proof);
	if (!err && (r->lsrc == LS_LINE || list_fits(r, e.note_len))) {
		err = pl_apicodec_entry(&r->out, r->count == 0, &e,
		                        r->lsrc == LS_LINE ? (proof.data ? proof.data : "") : NULL,
		                        proof.len);
		r->item++;
		r->count++;
		r->bytes += e.note_len;
	}
	pl_exchange_entry_release(&e);
	pl_buf_release(&proof);
	return err;
}

/* Appends the next entries of r's list answer to r->out, up to about LIST_CHUNK bytes, and
 * after the last its closing text. */
static int list_fill(struct req *r)
{
	bool paged = r->lsrc == LS_STATEMENTS || r->lsrc == LS_INBOX;
	int err = 0;

	while (!err && !r->ldone && r->out.len < LIST_CHUNK) {
		if (r->lend || r->lcut || (paged && r->count == PL_HTTP_RECORDS_MAX_PAGE)) {
			err = pl_apicodec_list_close(&r->out, paged, r->cursor);
			r->ldone = true;
		} else {
			err = paged ? list_fill_page(r) : list_fill_item(r);
		}
	}
	return err;
}

/* MHD's content reader of a list answer: one chunk at a time, formatted when it is read. */
static ssize_t list_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct req *r = cls;
	size_t n;

	(void)pos;
	if (r->out_off == r->out.len) {
		/* Freed between chunks: a client that stops reading pins at most one. */
		pl_buf_release(&r->out);
		r->out_off = 0;
		if (r->ldone)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (list_fill(r) != 0) {
			char detail[256];
			pl_exchange_last_error(r->h->ex, detail, sizeof(detail));
			pl_daemon_log("error", "http",
			              "msg=\"list answer cut short\" detail=\"%s\"", detail);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (r->out.len == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = r->out.len - r->out_off;
	if (n > max)
		n = max;
	memcpy(buf, r->out.data + r->out_off, n);
	r->out_off += n;
	return (ssize_t)n;
}

/*
 * Answers 200 with r's list answer, whose head is in r->out: formats its
 * first chunk now, so that an error found there is still answered with its
 * status, and the rest as the client reads. err is that of formatting the
 * head (0 when it went well).
 */
static enum MHD_Result list_send(struct req *r, int err, const char *what)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!err)
		err = list_fill(r);
	if (err) {
		pl_buf_release(&r->out);
		return send_lib_error(r, err, what);
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, LIST_CHUNK, list_read, r, NULL);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, APP_JSON);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, CACHE_NONE);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->h->quiescing)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	r->answered = true;
	return ret;
}

/* Keeps the log indexes of l in r->idx, for an answer that reads each record in its turn. */
static int list_keep_indexes(struct req *r, const struct pl_exchange_list *l)
{
	r->idx = malloc((l->n ? l->n : 1) * sizeof(*r->idx));
	if (!r->idx)
		return PL_ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		r->idx[i] = l->v[i].index;
	r->nitems = l->n;
	return 0;
}

static enum MHD_Result do_thread(struct req *r)
{
	struct pl_exchange_entry e;
	struct pl_exchange_list l;
	int err;

	memset(&e, 0, sizeof(e));
	memset(&l, 0, sizeof(l));
	err = pl_exchange_record(r->h->ex, r->id, r->id_len, &e);
	if (!err)
		err = pl_exchange_thread(r->h->ex, e.id, PL_HTTP_RECORDS_MAX_PAGE, &l);
	pl_exchange_entry_release(&e);
	if (!err)
		err = list_keep_indexes(r, &l);
	pl_exchange_list_release(&l);
	if (err)
		return send_lib_error(r, err, "thread");
	list_begin(r, LS_THREAD);
	return list_send(r, pl_apicodec_records_open(&r->out), "thread");
}

/*
 * GET /lines/<name>?since=T&after=N: a page of the line's checks, each
 * followed by its answers and unanswered, each record with its tlog-proof
 * under the checkpoint of `size`, so that a client verifies the tally itself.
 */
static enum MHD_Result do_line(struct req *r)
{
	struct pl_exchange_list l;
	bool more = false;
	int err;

	memset(&l, 0, sizeof(l));
	err = pl_exchange_line(r->h->ex, r->line, (int64_t)r->q.since, r->q.after, 0, &l, &more);
	if (!err)
		err = list_keep_indexes(r, &l);
	if (err) {
		pl_exchange_list_release(&l);
		return send_lib_error(r, err, "line");
	}
	/* Read after the list: every record listed is below it, and a checkpoint is at it. */
	r->lsize = pl_exchange_size(r->h->ex);
	list_begin(r, LS_LINE);
	err = pl_apicodec_line_open(&r->out, r->line, r->lsize, l.next, more);
	pl_exchange_list_release(&l);
	return list_send(r, err, "line");
}

static enum MHD_Result do_parties(struct req *r)
{
	struct pl_exchange_party *v = NULL;
	size_t n = 0;
	int err = pl_exchange_parties(r->h->ex, &v, &n);

	if (!err) {
		r->names = calloc(n ? n : 1, sizeof(*r->names));
		if (!r->names)
			err = PL_ENOMEM;
	}
	for (size_t i = 0; !err && i < n; i++) {
		size_t len = strlen(v[i].name);
		if (len >= sizeof(r->names[i])) {
			err = PL_ESTORE; /* not a party name: the directory is damaged */
			break;
		}
		memcpy(r->names[i], v[i].name, len + 1);
	}
	r->nitems = n;
	free(v);
	if (err)
		return send_lib_error(r, err, "directory");
	list_begin(r, LS_PARTIES);
	return list_send(r, pl_apicodec_parties_open(&r->out), "directory");
}

static enum MHD_Result do_statements(struct req *r)
{
	r->cursor = r->q.after;
	list_begin(r, LS_STATEMENTS);
	return list_send(r, pl_apicodec_records_open(&r->out), "statements");
}

/* Reads a page of the inbox from r->cursor, noting the tree size first (for wait_suspend()). */
static int inbox_read(struct req *r, struct pl_exchange_list *l)
{
	memset(l, 0, sizeof(*l));
	r->size0 = pl_exchange_size(r->h->ex);
	return pl_exchange_inbox(r->h->ex, r->party, r->cursor, LIST_PAGE, l);
}

static enum MHD_Result do_inbox_poll(struct req *r)
{
	uint64_t wait_s = (r->q.has & Q_WAIT) ? r->q.wait : r->h->cfg.poll_timeout;
	int err;

	if (wait_s > r->h->cfg.poll_timeout)
		wait_s = r->h->cfg.poll_timeout;
	if (r->deadline_ms == 0)
		r->deadline_ms = now_ms() + wait_s * 1000u;
	for (;;) {
		/* The tree size first, for wait_suspend(); then the answer's first chunk. */
		r->size0 = pl_exchange_size(r->h->ex);
		list_begin(r, LS_INBOX);
		err = pl_apicodec_records_open(&r->out);
		if (!err)
			err = list_fill(r);
		if (err || r->count > 0 || wait_s == 0 || r->h->ending ||
		    now_ms() >= r->deadline_ms)
			break;
		pl_buf_release(&r->out);
		if (wait_suspend(r, r->deadline_ms))
			return MHD_YES; /* resumed by the notifier; the handler runs again */
	}
	return list_send(r, err, "inbox");
}

/*
 * Formats records as events into r->out, up to about LIST_CHUNK bytes,
 * and moves the cursor past what was formatted (or past the whole page).
 */
static int sse_format(struct req *r, const struct pl_exchange_list *l)
{
	int err = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (i > 0 && r->out.len >= LIST_CHUNK) {
			r->cursor = l->v[i].index; /* the rest on the next read */
			return 0;
		}
		err = pl_apicodec_sse_record(&r->out, &l->v[i]);
		if (err)
			return err;
	}
	if (l->next > r->cursor)
		r->cursor = l->next;
	return 0;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct req *r = cls;
	struct pl_parleyd_http *h = r->h;

	(void)pos;
	for (;;) {
		struct pl_exchange_list l;
		uint64_t now;
		int err;

		if (r->out_off < r->out.len) {
			size_t n = r->out.len - r->out_off;
			if (n > max)
				n = max;
			memcpy(buf, r->out.data + r->out_off, n);
			r->out_off += n;
			if (r->out_off == r->out.len) {
				/* Freed, not kept: hundreds of idle streams must not hold buffers.
				 */
				pl_buf_release(&r->out);
				r->out_off = 0;
			}
			return (ssize_t)n;
		}
		if (h->ending)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (r->peer_gone)
			return MHD_CONTENT_READER_END_WITH_ERROR; /* frees its slot now */
		err = inbox_read(r, &l);
		if (!err)
			err = sse_format(r, &l);
		pl_exchange_list_release(&l);
		if (err)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (r->out.len > 0)
			continue;
		now = now_ms();
		if (now >= r->beat_ms) {
			r->beat_ms = now + HEARTBEAT_MS;
			if (pl_buf_adds(&r->out, ": keep-alive\n\n") != 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			continue;
		}
		if (wait_suspend(r, r->beat_ms))
			return 0; /* resumed by the notifier; MHD calls again */
	}
}

/*
 * Takes an event-stream slot for r: at most sse_max in all and sse_per_key
 * for one key, so that one member cannot take every stream. NULL when taken,
 * else why not.
 */
static const char *stream_take(struct req *r)
{
	struct pl_parleyd_http *h = r->h;
	const char *why = NULL;
	size_t mine = 0;

	pthread_mutex_lock(&h->stream_lock);
	for (const struct req *s = h->streams; s && mine < h->cfg.sse_per_key; s = s->snext)
		if (strcmp(s->party, r->party) == 0)
			mine++;
	if (h->nstreams >= h->cfg.sse_max)
		why = "too many open event streams";
	else if (mine >= h->cfg.sse_per_key)
		why = "too many open event streams for this key";
	if (!why) {
		r->sprev = NULL;
		r->snext = h->streams;
		if (h->streams)
			h->streams->sprev = r;
		h->streams = r;
		h->nstreams++;
		r->sse = true;
	}
	pthread_mutex_unlock(&h->stream_lock);
	return why;
}

static void stream_put(struct pl_parleyd_http *h, struct req *r)
{
	pthread_mutex_lock(&h->stream_lock);
	if (r->sprev)
		r->sprev->snext = r->snext;
	else
		h->streams = r->snext;
	if (r->snext)
		r->snext->sprev = r->sprev;
	h->nstreams--;
	pthread_mutex_unlock(&h->stream_lock);
	r->sse = false;
}

static enum MHD_Result do_inbox_stream(struct req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *why = stream_take(r);

	if (why) {
		pl_daemon_log("warn", "http", "msg=\"event stream refused\" reason=\"%s\" party=%s",
		              why, r->party);
		return send_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", why);
	}
	pl_buf_init(&r->out, SSE_BUFFER_MAX);
	r->beat_ms = now_ms() + HEARTBEAT_MS;
	if (pl_buf_adds(&r->out, "retry: 1000\n\n") != 0)
		return MHD_NO;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_read, r, NULL);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, CACHE_NONE);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	r->answered = true;
	return ret;
}

static enum MHD_Result do_inbox(struct req *r)
{
	const char *accept, *last;

	if (r->deadline_ms != 0)
		return do_inbox_poll(r); /* resumed long poll */
	if (!(r->q.has & Q_AFTER)) {
		/* A reconnecting event source resumes from its last event id. */
		last = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Last-Event-ID");
		if (last && !parse_dec(last, strlen(last), INT64_MAX, &r->q.after))
			return send_error(r, MHD_HTTP_BAD_REQUEST, "malformed",
			                  "bad Last-Event-ID");
	}
	r->cursor = r->q.after;
	accept = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	if (accept && strstr(accept, "text/event-stream"))
		return do_inbox_stream(r);
	return do_inbox_poll(r);
}

/*
 * True when the request must carry a request signature. A submitted record
 * authenticates itself (docs/api.md): its signature by a registered key
 * covers the whole body, its time is held to the exchange's tolerance and
 * its place in its author's chain makes a replay a no-op. An Authorization
 * header sent with it anyway is checked like any other.
 */
static bool needs_request_auth(const struct req *r)
{
	return !is_public(r->route) && (r->route != R_RECORD_POST || r->has_auth);
}

/* Answers a request whose whole body is in, authenticated on its first call when it had to be. */
static enum MHD_Result dispatch(struct req *r)
{
	if (needs_request_auth(r) && !r->party[0])
		return send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		                  "request not authenticated"); /* first_call() refuses these */
	if (r->has_digest) {
		/* The signature covered the declared hash: the body must be what was declared. */
		uint8_t got[PL_HASH_BYTES];
		pl_sha256(got, r->body.len ? r->body.data : "", r->body.len);
		if (memcmp(got, r->digest, PL_HASH_BYTES) != 0) {
			char key[PL_ORIGIN_MAX + PL_KEY_NAME_MAX + 2];
			snprintf(key, sizeof(key), "%s/%s", r->h->origin, r->party);
			log_refusal(r, key, "the body does not match its Content-Digest");
			return send_error(r, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
			                  "the body does not match its Content-Digest");
		}
		r->has_digest = false; /* checked once, not again when a submission resumes */
	}
	switch (r->route) {
	case R_HEALTH:
		return send_bytes(r, MHD_HTTP_OK, TEXT_PLAIN, NULL, (void *)"ok\n", 3, false);
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
		return do_thread(r);
	case R_PARTIES:
		return do_parties(r);
	case R_STATEMENTS:
		return do_statements(r);
	case R_INBOX:
		return do_inbox(r);
	case R_LINE:
		return do_line(r);
	case R_NONE:
		break;
	}
	return send_error(r, MHD_HTTP_NOT_FOUND, "not-found", "no such resource");
}

/* ---- libmicrohttpd callbacks ---- */

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
 * declared body size, authenticates a request that needs a request
 * signature (against the declared hash of its body), and only then reserves
 * upload memory for it, from its party's allowance. A self-authenticating
 * record (POST /records without Authorization) reserves nothing shared: its
 * body is bounded by record_max on its own connection. An error is answered
 * now only when a body follows (so that it is never read); otherwise on the
 * final call.
 */
static enum MHD_Result first_call(struct req *r, const char *method)
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
	if (status == 0 && needs_request_auth(r) &&
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
		return send_error(r, status, code, reason);
	r->early_status = status;
	r->early_code = code;
	r->early_reason = reason;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)url;
	(void)version;
	if (!r)
		return MHD_NO; /* no memory for the request when its line arrived */
	r->conn = conn;
	if (!r->started) {
		enum MHD_Result res;
		r->started = true;
		res = first_call(r, method);
		/*
		 * The head is in: no head deadline now, except for a body nobody has
		 * authenticated (a record submitted without Authorization), which must
		 * arrive within the same deadline, so that no client holds a slot by
		 * dribbling a body it never has to prove it may send.
		 */
		if (r->c && !(r->is_post && !r->party[0] && !r->answered))
			atomic_store(&r->c->busy, true);
		return res;
	}
	if (r->peer_gone)
		return MHD_NO; /* a long poll whose client left: close without answering */
	if (*upload_size) {
		/* Copies: MHD's buffer is reused after we return. The declared length bounds it. */
		if (!r->answered && pl_buf_add(&r->body, upload, *upload_size) != 0)
			return send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "too-large",
			                  "body larger than declared");
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	if (r->c)
		atomic_store(&r->c->busy, true); /* the whole request is in */
	if (r->early_status)
		return send_error(r, r->early_status, r->early_code, r->early_reason);
	if (r->h->quiescing && !r->submitted && r->deadline_ms == 0)
		return send_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		                  "the server is shutting down");
	return dispatch(r);
}

/* Called with the raw request-target before MHD unescapes it: the client signed these bytes. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct pl_parleyd_http *h = cls;
	size_t n = strlen(uri);
	struct req *r = calloc(1, sizeof(*r));
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (!r)
		return NULL;
	r->h = h;
	r->c = ci ? ci->socket_context : NULL;
	if (n > PL_HTTP_TARGET_MAX) {
		r->too_long = true;
		n = 0;
	}
	r->target = malloc(n + 1);
	if (!r->target) {
		free(r);
		return NULL;
	}
	memcpy(r->target, uri, n);
	r->target[n] = '\0';
	r->target_len = n;
	pl_buf_init(&r->body, 0);
	pl_buf_init(&r->out, 0);
	atomic_fetch_add(&h->inflight, 1);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct pl_parleyd_http *h = cls;
	struct req *r = *con_cls;

	(void)conn;
	(void)toe;
	if (!r)
		return;
	if (r->in_wait) {
		pthread_mutex_lock(&h->wait_lock);
		if (r->in_wait)
			wait_unlink(h, r);
		pthread_mutex_unlock(&h->wait_lock);
	}
	if (r->sse)
		stream_put(h, r);
	if (r->c) {
		atomic_store(&r->c->since_ms, now_ms()); /* the next request head's time starts */
		atomic_store(&r->c->busy, false);
	}
	free(r->idx);
	free(r->names);
	if (r->reserved)
		upload_release(r);
	pl_receipt_release(&r->receipt);
	pl_buf_release(&r->body);
	pl_buf_release(&r->out);
	free(r->target);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&h->inflight, 1);
}

/*
 * Keeps the list of open connections for conn_sweep(): each is noted when
 * accepted and dropped before MHD closes its socket.
 */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
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
		c->next = h->conns;
		if (h->conns)
			h->conns->prev = c;
		h->conns = c;
		pthread_mutex_unlock(&h->conn_lock);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	pthread_mutex_lock(&h->conn_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&h->conn_lock);
	free(c);
	*socket_context = NULL;
}

/* ---- Lifecycle ---- */

/* Zero in a config field means "the documented default". */
/*
 * Makes the calling thread, and so every thread it starts (Linux threads
 * inherit their creator's nice value), yield to the exchange's threads by
 * `nice` more. The sequencer's commit waits on fdatasync; when it returns,
 * the sequencer should run at once, answer its batch and take the next,
 * rather than queue behind the verification of submissions that can only
 * join a later batch anyway. A failure costs speed, not correctness.
 */
static void lower_priority(unsigned nice)
{
	id_t tid = (id_t)syscall(SYS_gettid);
	int cur;

	if (!nice)
		return;
	errno = 0;
	cur = getpriority(PRIO_PROCESS, tid);
	if (cur == -1 && errno)
		return;
	if (setpriority(PRIO_PROCESS, tid, cur + (int)nice > 19 ? 19 : cur + (int)nice) != 0)
		pl_daemon_log("warn", "http",
		              "msg=\"cannot lower the workers' priority\" err=\"%s\"",
		              strerror(errno));
}

static void fill_defaults(struct pl_parleyd_config *c)
{
	if (!c->http_threads)
		c->http_threads = 2;
	if (!c->max_connections)
		c->max_connections = PL_HTTP_CONNECTIONS_MAX;
	if (!c->max_per_ip)
		c->max_per_ip = PL_HTTP_PER_IP_MAX;
	if (c->max_per_ip > c->max_connections)
		c->max_per_ip = c->max_connections;
	if (!c->connection_timeout)
		c->connection_timeout = PL_HTTP_TIMEOUT_SECONDS;
	if (!c->header_timeout)
		c->header_timeout = PL_HTTP_HEADER_SECONDS;
	if (!c->max_headers)
		c->max_headers = PL_HTTP_HEADERS_MAX;
	if (!c->header_max)
		c->header_max = PL_HTTP_CONN_MEMORY / 2;
	if (!c->record_max || c->record_max > PL_RECORD_MAX_BYTES)
		c->record_max = PL_RECORD_MAX_BYTES;
	if (!c->rate)
		c->rate = PL_HTTP_RATE_PER_KEY;
	if (!c->rate_burst)
		c->rate_burst = PL_HTTP_BURST_PER_KEY;
	if (!c->auth_window)
		c->auth_window = PL_AUTH_WINDOW_SECONDS;
	if (!c->nonce_max)
		c->nonce_max = PL_AUTH_NONCES_MAX;
	if (!c->poll_timeout)
		c->poll_timeout = PL_HTTP_POLL_MAX_SECONDS;
	if (!c->sse_max)
		c->sse_max = PL_HTTP_STREAMS_MAX;
	if (!c->sse_per_key)
		c->sse_per_key = PL_HTTP_STREAMS_PER_KEY;
}

int pl_parleyd_http_start(struct pl_parleyd_http **out, struct pl_exchange *ex,
                          const struct pl_parleyd_config *cfg, struct pl_buf *err)
{
	struct pl_parleyd_http *h = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	const union MHD_DaemonInfo *info;
	unsigned flags;
	size_t mem;
	bool v6 = false;
	int ret;

	h = calloc(1, sizeof(*h));
	if (!h) {
		ret = PL_ENOMEM;
		goto out;
	}
	pthread_mutex_init(&h->submit_lock, NULL);
	pthread_mutex_init(&h->wait_lock, NULL);
	pthread_mutex_init(&h->rate_lock, NULL);
	pthread_mutex_init(&h->upload_lock, NULL);
	pthread_mutex_init(&h->stream_lock, NULL);
	pthread_mutex_init(&h->conn_lock, NULL);
	h->ex = ex;
	h->cfg = *cfg;
	fill_defaults(&h->cfg);
	h->payload_max =
	        cfg->ex.payload_max ? cfg->ex.payload_max : PL_EXCHANGE_DEFAULT_PAYLOAD_MAX;
	/* Only authenticated members draw on these (parleyd.conf(5)). */
	h->upload_per_key = h->cfg.upload_per_key
	                            ? (size_t)h->cfg.upload_per_key
	                            : PL_PARLEYD_UPLOAD_PER_KEY_FACTOR * h->payload_max;
	h->upload_budget = h->cfg.upload_budget ? (size_t)h->cfg.upload_budget
	                                        : PL_PARLEYD_UPLOAD_BUDGET_FACTOR * h->payload_max;
	snprintf(h->origin, sizeof(h->origin), "%s", pl_exchange_origin(ex));
	ret = pl_daemon_listen_resolve(h->cfg.listen, &ss, &sslen, &v6);
	if (ret) {
		if (err)
			(void)!pl_buf_addf(err, "bad listen address %s", h->cfg.listen);
		goto out;
	}
	/* Each key keeps its reserve of nonces; beyond it, at most a quarter of the shared pool. */
	if (!h->cfg.nonce_per_key)
		h->cfg.nonce_per_key = PL_AUTH_NONCES_PER_KEY;
	ret = pl_auth_nonces_new(&h->nonces, h->cfg.nonce_max, h->cfg.nonce_per_key,
	                         h->cfg.nonce_per_key + h->cfg.nonce_max / 4, h->cfg.auth_window);
	if (ret)
		goto out;
	/* The connection's memory pool holds the header block and upload chunks. */
	mem = (size_t)h->cfg.header_max * 2;
	if (mem < PL_HTTP_CONN_MEMORY / 2)
		mem = PL_HTTP_CONN_MEMORY / 2;
	/* The serving thread waits for a signal only: it may keep the workers' lower priority. */
	lower_priority(h->cfg.http_nice);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	        MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
	                        pl_daemon_log_mhd, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	                        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)h->cfg.http_threads,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->cfg.max_connections,
	                        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)h->cfg.max_per_ip,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->cfg.connection_timeout,
	                        MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
	                        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED,
	                        on_completed, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	                        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
	if (!h->d) {
		if (err)
			(void)!pl_buf_addf(err, "cannot listen on %s: %s", h->cfg.listen,
			                   strerror(errno));
		ret = PL_ENET;
		goto out;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	if (pthread_create(&h->notifier, NULL, notifier_main, h) != 0) {
		ret = PL_ENOMEM;
		goto out;
	}
	h->notifier_started = true;
	*out = h;
	h = NULL;
	ret = 0;
out:
	if (h) {
		if (h->d)
			MHD_stop_daemon(h->d);
		pl_auth_nonces_free(h->nonces);
		pthread_mutex_destroy(&h->submit_lock);
		pthread_mutex_destroy(&h->wait_lock);
		pthread_mutex_destroy(&h->rate_lock);
		pthread_mutex_destroy(&h->upload_lock);
		free(h->uploads);
		pthread_mutex_destroy(&h->stream_lock);
		pthread_mutex_destroy(&h->conn_lock);
		free(h);
	}
	return ret;
}

uint16_t pl_parleyd_http_port(const struct pl_parleyd_http *h)
{
	return h->port;
}

void pl_parleyd_http_quiesce(struct pl_parleyd_http *h)
{
	MHD_socket fd;

	if (h->quiescing)
		return;
	h->quiescing = true;
	fd = MHD_quiesce_daemon(h->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

void pl_parleyd_http_stop(struct pl_parleyd_http *h, int timeout_ms)
{
	uint64_t until;

	if (!h)
		return;
	pl_parleyd_http_quiesce(h);
	h->ending = true;
	until = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	while (atomic_load(&h->inflight) > 0 && now_ms() < until) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	/* MHD must not be stopped with a suspended connection: resume every waiter. */
	h->stop_notifier = true;
	if (h->notifier_started)
		pthread_join(h->notifier, NULL);
	pthread_mutex_lock(&h->wait_lock);
	while (h->waiters) {
		struct req *w = h->waiters;
		wait_unlink(h, w);
		MHD_resume_connection(w->conn);
	}
	pthread_mutex_unlock(&h->wait_lock);
	if (atomic_load(&h->inflight) > 0)
		pl_daemon_log("warn", "http", "msg=\"stopping with requests in flight\" count=%ld",
		              (long)atomic_load(&h->inflight));
	MHD_stop_daemon(h->d);
	pl_auth_nonces_free(h->nonces);
	pthread_mutex_destroy(&h->submit_lock);
	pthread_mutex_destroy(&h->wait_lock);
	pthread_mutex_destroy(&h->rate_lock);
	pthread_mutex_destroy(&h->upload_lock);
	free(h->uploads);
	pthread_mutex_destroy(&h->stream_lock);
	pthread_mutex_destroy(&h->conn_lock);
	free(h);
}
