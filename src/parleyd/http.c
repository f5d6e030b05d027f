/* parleyd's HTTP API on libmicrohttpd: routing, limits, authentication, long polls and streams. */
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

#include <jansson.h>
#include <microhttpd.h>

#include <parley/auth.h>
#include <parley/encoding.h>
#include <parley/limits.h>
#include <parley/record.h>
#include <parley/tiles.h>

#include "daemon/log.h"
#include "daemon/serve.h"
#include "internal.h"

#define RATE_SLOTS       1024 /* rate-limited keys tracked at once (members and auditors) */
#define HEARTBEAT_MS     15000
#define NOTIFY_TICK_MS   250
#define SSE_BLOCK        (32u * 1024u)
#define SSE_BUFFER_MAX   (4u << 20)
#define JSON_FLAGS       JSON_COMPACT
#define LIST_BYTES_MAX   (4u << 20)   /* record bytes in one list answer */
#define SSE_BYTES_SOFT   (256u << 10) /* record bytes formatted per stream read */
#define ID_TEXT_MAX      PL_HASH_HEX_LEN
#define CACHE_IMMUTABLE  "public, max-age=31536000, immutable"
#define CACHE_PRIVATE    "private, max-age=31536000, immutable"
#define CACHE_CHECKPOINT "no-cache, max-age=0"
#define CACHE_NONE       "no-store"
#define TEXT_PLAIN       "text/plain; charset=utf-8"
#define APP_JSON         "application/json"
#define APP_OCTETS       "application/octet-stream"

enum route {
	R_NONE,
	R_HEALTH,
	R_CHECKPOINT,
	R_LOG_KEY,
	R_TILE,
	R_ENTRIES,
	R_PAYLOAD_POST,
	R_PAYLOAD_GET,
	R_RECORD_POST,
	R_RECORD_GET,
	R_PROOF,
	R_CONSISTENCY,
	R_THREAD,
	R_PARTIES,
	R_STATEMENTS,
	R_INBOX,
	R_LINE,
};

/* Query parameters; a has_ bit per key so that 0 is a value, not "absent". */
enum {
	Q_AFTER = 1u << 0,
	Q_SIZE = 1u << 1,
	Q_OLD = 1u << 2,
	Q_NEW = 1u << 3,
	Q_WAIT = 1u << 4,
	Q_SINCE = 1u << 5,
};

struct query {
	unsigned has;
	uint64_t after, size, old, new_, wait, since;
};

struct rate_slot {
	char name[PL_KEY_NAME_MAX + 1];
	double tokens;
	uint64_t last_ms;
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
	atomic_long streams;  /* open event streams */
	atomic_size_t upload_bytes;
	size_t upload_budget;
	size_t payload_max;

	pthread_mutex_t submit_lock; /* orders a submission's completion against its suspension */
	pthread_mutex_t wait_lock;   /* the list of suspended long polls and streams */
	struct req *waiters;
	pthread_t notifier;
	bool notifier_started;

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
	bool is_post;
	enum route route;
	unsigned early_status; /* an error found before the body, answered on the final call */
	const char *early_code;
	const char *early_reason;

	char id[ID_TEXT_MAX + 1]; /* record id text from the path */
	size_t id_len;
	char line[PL_RECORD_NAME_MAX + 1]; /* line name from the path */
	uint8_t hash[PL_HASH_BYTES];       /* payload hash from the path */
	unsigned level, width;
	uint64_t tile;
	struct query q;

	struct pl_buf body;
	size_t reserved;                 /* bytes of the upload budget held */
	char party[PL_KEY_NAME_MAX + 1]; /* the authenticated party */

	/* POST /records completes on the sequencer thread. */
	bool submitted, done, suspended;
	int status;
	struct pl_exchange_receipt receipt;
	struct pl_exchange_refusal why;

	/* Long polls and event streams wait on the notifier. */
	struct req *wnext, *wprev;
	bool in_wait;
	uint64_t size0;
	uint64_t deadline_ms;
	uint64_t cursor;
	bool sse;
	struct pl_buf out;
	size_t out_off;
	uint64_t beat_ms;
	char location[16 + PL_HASH_HEX_LEN]; /* Location of a created resource, or empty */
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

/* Serializes j (stealing the reference) and queues it. */
static enum MHD_Result send_json(struct req *r, unsigned status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_FLAGS) : NULL;

	json_decref(j);
	if (!s) {
		static const char oom[] = "{\"error\":\"internal\",\"reason\":\"out of memory\"}";
		return send_bytes(r, MHD_HTTP_INTERNAL_SERVER_ERROR, APP_JSON, NULL, (void *)oom,
		                  sizeof(oom) - 1, false);
	}
	return send_bytes(r, status, APP_JSON, NULL, s, strlen(s), true);
}

static enum MHD_Result send_error(struct req *r, unsigned status, const char *code,
                                  const char *reason)
{
	json_t *j = json_pack("{s:s, s:s}", "error", code, "reason", reason);

	if (status >= 500)
		pl_daemon_log("error", "http", "status=%u code=%s reason=\"%s\"", status, code,
		              reason);
	return send_json(r, status, j);
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

/* ---- JSON ---- */

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char hex[2 * PL_HASH_BYTES + 1];

	pl_hex_encode(hex, p, n);
	return json_string(hex);
}

static json_t *entry_json(const struct pl_exchange_entry *e)
{
	json_t *note = json_stringn(e->note, e->note_len);

	if (!note)
		return NULL;
	return json_pack("{s:I, s:o, s:o}", "index", (json_int_t)e->index, "id",
	                 hex_json(e->id, PL_HASH_BYTES), "record", note);
}

/*
 * {"records": [...], "next": N} (next omitted when has_next is false). Stops
 * before LIST_BYTES_MAX bytes of records (at least one is always taken), and
 * then next is the index of the first record left out, so that a page of
 * large records stays bounded and nothing is skipped.
 */
static json_t *list_json(const struct pl_exchange_list *l, bool has_next)
{
	json_t *a = json_array(), *j;
	uint64_t next = l->next;
	size_t bytes = 0;

	if (!a)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		json_t *e;
		if (i > 0 && bytes + l->v[i].note_len > LIST_BYTES_MAX) {
			next = l->v[i].index;
			break;
		}
		bytes += l->v[i].note_len;
		e = entry_json(&l->v[i]);
		if (!e || json_array_append_new(a, e) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	j = json_pack("{s:o}", "records", a);
	if (j && has_next && json_object_set_new(j, "next", json_integer((json_int_t)next))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* ---- Parsing the request-target ---- */

/* Parses a decimal with no leading zeros, no sign, at most max. */
static bool parse_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	return pl_parse_u64(out, s, n, max) == 0;
}

/* A record id in a path: 8 to 64 hex digits (a full id or a prefix). */
static bool id_text_is_valid(const char *s, size_t n)
{
	if (n < PL_EXCHANGE_ID_PREFIX_MIN || n > ID_TEXT_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static bool take_id(struct req *r, const char *s, size_t n)
{
	if (!id_text_is_valid(s, n))
		return false;
	memcpy(r->id, s, n);
	r->id[n] = '\0';
	r->id_len = n;
	return true;
}

/* Parses "k=v&k=v" with only the keys in allowed, each once, values decimal. */
static bool parse_query(const char *s, size_t n, unsigned allowed, struct query *q)
{
	static const struct {
		const char *name;
		unsigned bit;
		size_t off;
	} keys[] = {
	        {"after", Q_AFTER, offsetof(struct query, after)},
	        {"size", Q_SIZE, offsetof(struct query, size)},
	        {"old", Q_OLD, offsetof(struct query, old)},
	        {"new", Q_NEW, offsetof(struct query, new_)},
	        {"wait", Q_WAIT, offsetof(struct query, wait)},
	        {"since", Q_SINCE, offsetof(struct query, since)},
	};
	size_t i = 0;

	memset(q, 0, sizeof(*q));
	while (i < n) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t end = amp ? (size_t)(amp - s) : n;
		const char *eq = memchr(s + i, '=', end - i);
		size_t k;
		bool found = false;

		if (!eq)
			return false;
		for (k = 0; k < PL__ARRAY_LEN(keys); k++) {
			size_t kl = strlen(keys[k].name);
			if ((size_t)(eq - (s + i)) == kl && memcmp(s + i, keys[k].name, kl) == 0) {
				found = true;
				break;
			}
		}
		if (!found || !(allowed & keys[k].bit) || (q->has & keys[k].bit))
			return false;
		if (!parse_dec(eq + 1, (size_t)(s + end - eq - 1), INT64_MAX,
		               (uint64_t *)((char *)q + keys[k].off)))
			return false;
		q->has |= keys[k].bit;
		i = end + (amp ? 1 : 0);
		if (amp && i == n)
			return false; /* trailing '&' */
	}
	return true;
}

static bool path_is(const char *p, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

/*
 * Routes the request-target. Returns 0 with r->route set, or an HTTP status
 * (404 unknown path, 405 wrong method, 400 bad query or reference).
 */
static unsigned route(struct req *r, const char *method)
{
	const char *t = r->target, *qm;
	size_t n = r->target_len, pn;
	const char *p;
	unsigned allowed = 0;
	bool post = strcmp(method, "POST") == 0;

	if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return MHD_HTTP_METHOD_NOT_ALLOWED;
	if (n == 0 || t[0] != '/')
		return MHD_HTTP_BAD_REQUEST;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f || t[i] == '%' ||
		    t[i] == '#')
			return MHD_HTTP_BAD_REQUEST; /* nothing in this API needs escaping */
	qm = memchr(t, '?', n);
	pn = qm ? (size_t)(qm - t) : n;
	p = t;

	r->is_post = post;
	if (path_is(p, pn, "/health")) {
		r->route = R_HEALTH;
	} else if (path_is(p, pn, "/checkpoint")) {
		r->route = R_CHECKPOINT;
	} else if (path_is(p, pn, "/log-key")) {
		r->route = R_LOG_KEY;
	} else if (pn > 6 && memcmp(p, "/tile/", 6) == 0) {
		struct pl_tile tile;
		/* The library's strict tlog-tiles path parser; anything else is no tile. */
		if (pl_tiles_parse_path(&tile, p + 1, pn - 1) != 0)
			return MHD_HTTP_NOT_FOUND;
		r->route = tile.entries ? R_ENTRIES : R_TILE;
		r->level = tile.level;
		r->tile = tile.n;
		r->width = tile.width == PL_TILE_WIDTH ? 0 : tile.width;
	} else if (path_is(p, pn, "/payloads")) {
		r->route = R_PAYLOAD_POST;
	} else if (pn > 10 && memcmp(p, "/payloads/", 10) == 0) {
		r->route = R_PAYLOAD_GET;
		if (pl_hex_decode_exact(r->hash, PL_HASH_BYTES, p + 10, pn - 10) != 0)
			return MHD_HTTP_BAD_REQUEST;
	} else if (path_is(p, pn, "/records")) {
		r->route = R_RECORD_POST;
	} else if (pn > 9 && memcmp(p, "/records/", 9) == 0) {
		const char *id = p + 9, *slash = memchr(id, '/', pn - 9);
		if (slash && path_is(slash, (size_t)(p + pn - slash), "/proof")) {
			r->route = R_PROOF;
			allowed = Q_SIZE;
			if (!take_id(r, id, (size_t)(slash - id)))
				return MHD_HTTP_BAD_REQUEST;
		} else if (!slash) {
			r->route = R_RECORD_GET;
			if (!take_id(r, id, pn - 9))
				return MHD_HTTP_BAD_REQUEST;
		} else {
			return MHD_HTTP_NOT_FOUND;
		}
	} else if (path_is(p, pn, "/consistency")) {
		r->route = R_CONSISTENCY;
		allowed = Q_OLD | Q_NEW;
	} else if (pn > 9 && memcmp(p, "/threads/", 9) == 0) {
		r->route = R_THREAD;
		if (!take_id(r, p + 9, pn - 9))
			return MHD_HTTP_BAD_REQUEST;
	} else if (path_is(p, pn, "/parties")) {
		r->route = R_PARTIES;
	} else if (path_is(p, pn, "/statements")) {
		r->route = R_STATEMENTS;
		allowed = Q_AFTER;
	} else if (path_is(p, pn, "/inbox")) {
		r->route = R_INBOX;
		allowed = Q_AFTER | Q_WAIT;
	} else if (pn > 7 && memcmp(p, "/lines/", 7) == 0) {
		r->route = R_LINE;
		allowed = Q_SINCE | Q_AFTER;
		if (!pl_record_name_is_valid(p + 7, pn - 7))
			return MHD_HTTP_NOT_FOUND;
		memcpy(r->line, p + 7, pn - 7);
		r->line[pn - 7] = '\0';
	} else {
		return MHD_HTTP_NOT_FOUND;
	}
	if ((r->route == R_PAYLOAD_POST || r->route == R_RECORD_POST) != post)
		return MHD_HTTP_METHOD_NOT_ALLOWED;
	if (qm && !parse_query(qm + 1, n - pn - 1, allowed, &r->q))
		return MHD_HTTP_BAD_REQUEST;
	return 0;
}

/* ---- Authentication and rate limits ---- */

static bool is_public(enum route rt)
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

static void log_refusal(const struct req *r, const char *why)
{
	pl_daemon_log("warn", "auth", "reason=\"%s\" path=\"%.*s\"", why,
	              (int)(r->target_len > 128 ? 128 : r->target_len), r->target);
}

/*
 * Authenticates a request by its Authorization header (docs/api.md): sets
 * r->party, or queues the refusal and returns false.
 */
static bool authenticate(struct req *r, const char *method, enum MHD_Result *res)
{
	struct pl_parleyd_http *h = r->h;
	struct pl_exchange_party party;
	struct pl_auth a;
	uint8_t body_hash[PL_HASH_BYTES];
	const char *v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);
	size_t olen = strlen(h->origin), nlen;
	uint64_t now = wall_seconds();
	int err;

	if (!v) {
		*res = send_error(r, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
		                  "this resource needs an Authorization header");
		return false;
	}
	if (pl_auth_parse(&a, v, strlen(v)) != 0) {
		log_refusal(r, "malformed Authorization header");
		*res = send_error(r, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
		                  "malformed Authorization header");
		return false;
	}
	nlen = strlen(a.key_name);
	if (nlen <= olen + 1 || memcmp(a.key_name, h->origin, olen) != 0 ||
	    a.key_name[olen] != '/') {
		log_refusal(r, "key of another exchange");
		*res = send_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
		                  "the key is not a key of this exchange");
		return false;
	}
	err = pl_exchange_party_get(h->ex, a.key_name + olen + 1, &party);
	if (err == PL_ENOTFOUND || (!err && party.revoked)) {
		log_refusal(r, err ? "not a member" : "revoked");
		*res = send_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
		                  err ? "not a registered party" : "the party's key is revoked");
		return false;
	}
	if (err) {
		*res = send_lib_error(r, err, "directory");
		return false;
	}
	pl_sha256(body_hash, r->body.len ? r->body.data : "", r->body.len);
	err = pl_auth_verify(&a, &party.vkey, method, r->target, r->target_len, body_hash, now,
	                     h->cfg.auth_window);
	if (err) {
		const char *why = err == PL_EINVAL   ? "not the registered key of the party"
		                  : err == PL_ERANGE ? "request time outside the accepted window"
		                                     : "request signature does not verify";
		log_refusal(r, why);
		*res = send_error(r, err == PL_EINVAL ? MHD_HTTP_FORBIDDEN : MHD_HTTP_UNAUTHORIZED,
		                  err == PL_EINVAL ? "forbidden" : "unauthenticated", why);
		return false;
	}
	if (!rate_take(h, a.key_name)) {
		*res = send_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "rate-limited",
		                  "too many requests for this key");
		return false;
	}
	err = pl_auth_nonces_add(h->nonces, &a, now);
	if (err) {
		log_refusal(r, err == PL_EEXIST ? "replayed nonce" : "nonce refused");
		if (err == PL_ETOOBIG)
			*res = send_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
			                  "too many requests in the time window");
		else
			*res = send_error(r, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
			                  err == PL_EEXIST
			                          ? "replayed request (nonce already seen)"
			                          : "request time outside the accepted window");
		return false;
	}
	memcpy(r->party, party.name, sizeof(r->party));
	return true;
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

static void *notifier_main(void *arg)
{
	struct pl_parleyd_http *h = arg;
	uint64_t last = pl_exchange_size(h->ex);

	while (!h->stop_notifier) {
		uint64_t t0 = now_ms(), size = pl_exchange_wait(h->ex, last, NOTIFY_TICK_MS), now;

		now = now_ms();
		pthread_mutex_lock(&h->wait_lock);
		for (struct req *w = h->waiters, *next; w; w = next) {
			next = w->wnext;
			if (size > w->size0 || now >= w->deadline_ms || h->ending) {
				wait_unlink(h, w);
				MHD_resume_connection(w->conn);
			}
		}
		pthread_mutex_unlock(&h->wait_lock);
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
	json_t *j;
	int err;

	err = pl_exchange_payload_put(r->h->ex, r->party, (const uint8_t *)r->body.data,
	                              r->body.len, hash);
	if (err)
		return send_lib_error(r, err, "payload");
	pl_hex_encode(hex, hash, sizeof(hash));
	snprintf(r->location, sizeof(r->location), "/payloads/%s", hex);
	j = json_pack("{s:s, s:I}", "hash", hex, "size", (json_int_t)r->body.len);
	return send_json(r, MHD_HTTP_CREATED, j);
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

/* Appends the JSON string of the n bytes at t (UTF-8 text) to b, escaped as RFC 8259 says. */
static int json_text(struct pl_buf *b, const char *t, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	int ret = pl_buf_add(b, "\"", 1);

	for (size_t i = 0; !ret && i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)t[i] : 0;
		char esc[6] = {'\\', 0, '0', '0', 0, 0};
		size_t elen = 2;
		if (i < n && c >= 0x20 && c != '"' && c != '\\')
			continue;
		ret = pl_buf_add(b, t + run, i - run); /* the plain bytes before this one */
		run = i + 1;
		if (ret || i == n)
			break;
		esc[1] = c == '"'    ? '"'
		         : c == '\\' ? '\\'
		         : c == '\n' ? 'n'
		         : c == '\t' ? 't'
		                     : 'u';
		if (esc[1] == 'u') {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		ret = pl_buf_add(b, esc, elen);
	}
	return ret ? ret : pl_buf_add(b, "\"", 1);
}

/*
 * The JSON answer to a durable submission (docs/api.md), written directly:
 * it is on every submission's path, where building and dumping a jansson
 * tree cost more than the text. NULL without memory.
 */
static char *receipt_text(const struct pl_exchange_receipt *rc, size_t *len)
{
	char id[PL_HASH_HEX_LEN + 1];
	struct pl_buf b;
	int ret;

	pl_hex_encode(id, rc->id, PL_HASH_BYTES);
	pl_buf_init(&b, 256 + 2 * (rc->proof_len + rc->checkpoint_len));
	ret = pl_buf_addf(&b, "{\"index\":%llu,\"id\":\"%s\",\"size\":%llu,\"proof\":",
	                  (unsigned long long)rc->index, id, (unsigned long long)rc->size);
	if (!ret)
		ret = json_text(&b, rc->proof, rc->proof_len);
	if (!ret)
		ret = pl_buf_adds(&b, ",\"checkpoint\":");
	if (!ret)
		ret = json_text(&b, rc->checkpoint, rc->checkpoint_len);
	if (!ret)
		ret = pl_buf_add(&b, "}", 1);
	if (ret) {
		pl_buf_release(&b);
		return NULL;
	}
	return pl_buf_detach(&b, len);
}

/* Answers a receipt: status 201 (new) or 200 (already logged). */
static enum MHD_Result send_receipt(struct req *r, unsigned status,
                                    const struct pl_exchange_receipt *rc)
{
	size_t len = 0;
	char *text = receipt_text(rc, &len);

	if (!text)
		return send_json(r, status, NULL); /* answers 500, out of memory */
	return send_bytes(r, status, APP_JSON, NULL, text, len, true);
}

static void submit_done(void *arg, int status, struct pl_exchange_receipt *rc,
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
	struct pl_exchange_receipt rc;
	struct pl_exchange_entry e;
	struct pl_buf proof, cp;
	enum MHD_Result ret;
	uint64_t size = pl_exchange_size(r->h->ex);
	int err;

	memset(&rc, 0, sizeof(rc));
	memset(&e, 0, sizeof(e));
	pl_buf_init(&proof, PL_TLOG_PROOF_MAX_BYTES);
	pl_buf_init(&cp, PL_CHECKPOINT_MAX_BYTES + PL_NOTE_MAX_SIGS * 512);
	err = pl_exchange_record_at(r->h->ex, index, &e);
	if (!err)
		err = pl_exchange_proof(r->h->ex, index, size, &proof);
	if (!err)
		err = pl_exchange_checkpoint_at(r->h->ex, size, &cp);
	if (err) {
		pl_exchange_entry_release(&e);
		pl_buf_release(&proof);
		pl_buf_release(&cp);
		return send_lib_error(r, err, "record");
	}
	rc.index = index;
	memcpy(rc.id, e.id, PL_HASH_BYTES);
	rc.proof = proof.data;
	rc.proof_len = proof.len;
	rc.checkpoint = cp.data;
	rc.checkpoint_len = cp.len;
	rc.size = size;
	ret = send_receipt(r, MHD_HTTP_OK, &rc);
	pl_exchange_entry_release(&e);
	pl_buf_release(&proof);
	pl_buf_release(&cp);
	return ret;
}

static enum MHD_Result submit_answer(struct req *r)
{
	const char *code;
	unsigned status;
	json_t *j;

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
	j = json_pack("{s:s, s:s}", "error", code, "reason",
	              r->why.reason[0] ? r->why.reason : pl_strerror(r->status));
	if (j && r->status == PL_ECHAIN) {
		json_t *head = json_null();
		if (r->why.has_head)
			head = json_pack("{s:I, s:o, s:I}", "seq", (json_int_t)r->why.head_seq,
			                 "id", hex_json(r->why.head_id, PL_HASH_BYTES), "index",
			                 (json_int_t)r->why.head_index);
		if (json_object_set_new(j, "head", head) != 0) {
			json_decref(j);
			j = NULL;
		}
	}
	return send_json(r, status, j);
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
	uint64_t size = (r->q.has & Q_SIZE) ? r->q.size : 0;
	int err;

	memset(&e, 0, sizeof(e));
	err = pl_exchange_record(r->h->ex, r->id, r->id_len, &e);
	if (err)
		return send_lib_error(r, err, "record");
	pl_buf_init(&b, PL_TLOG_PROOF_MAX_BYTES);
	if (size != 0 && e.index >= size)
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
	return send_buf(r, MHD_HTTP_OK, TEXT_PLAIN, size ? CACHE_PRIVATE : CACHE_NONE, &b);
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
	if (err)
		return send_lib_error(r, err, "thread");
	{
		json_t *j = list_json(&l, false);
		pl_exchange_list_release(&l);
		return send_json(r, MHD_HTTP_OK, j);
	}
}

/*
 * GET /lines/<name>?since=T&after=N: a page of the line's checks, each
 * followed by its answers and unanswered, each record with its tlog-proof
 * under the checkpoint of `size`, so that a client verifies the tally itself.
 */
static enum MHD_Result do_line(struct req *r)
{
	struct pl_exchange_list l;
	json_t *a, *j = NULL;
	bool more = false;
	uint64_t size;
	int err;

	memset(&l, 0, sizeof(l));
	err = pl_exchange_line(r->h->ex, r->line, (int64_t)r->q.since, r->q.after, 0, &l, &more);
	if (err)
		return send_lib_error(r, err, "line");
	/* Read after the list: every record listed is below it, and a checkpoint is at it. */
	size = pl_exchange_size(r->h->ex);
	a = json_array();
	for (size_t i = 0; a && !err && i < l.n; i++) {
		struct pl_buf proof;
		json_t *e = entry_json(&l.v[i]);
		pl_buf_init(&proof, PL_TLOG_PROOF_MAX_BYTES);
		err = e ? pl_exchange_proof(r->h->ex, l.v[i].index, size, &proof) : PL_ENOMEM;
		if (!err && (json_object_set_new(e, "proof", json_stringn(proof.data, proof.len)) ||
		             json_array_append(a, e)))
			err = PL_ENOMEM;
		json_decref(e);
		pl_buf_release(&proof);
	}
	if (!err && a)
		j = json_pack("{s:s, s:I, s:I, s:b, s:O}", "line", r->line, "size",
		              (json_int_t)size, "next", (json_int_t)l.next, "more", more, "records",
		              a);
	json_decref(a);
	pl_exchange_list_release(&l);
	if (err)
		return send_lib_error(r, err, "line");
	return send_json(r, MHD_HTTP_OK, j);
}

static enum MHD_Result do_parties(struct req *r)
{
	struct pl_exchange_party *v = NULL;
	json_t *a = NULL, *j = NULL;
	size_t n = 0;
	int err = pl_exchange_parties(r->h->ex, &v, &n);

	if (err)
		return send_lib_error(r, err, "directory");
	a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		struct pl_exchange_entry reg;
		struct pl_buf vk;
		json_t *p;

		memset(&reg, 0, sizeof(reg));
		pl_buf_init(&vk, PL_KEY_NAME_MAX + 128);
		err = pl_exchange_record_at(r->h->ex, v[i].register_index, &reg);
		if (!err)
			err = pl_vkey_format(&v[i].vkey, &vk);
		p = err ? NULL
		        : json_pack("{s:s, s:s, s:s, s:I, s:o, s:s#, s:b}", "name", v[i].name,
		                    "vkey", vk.data, "enc_key", v[i].enc_key, "register_index",
		                    (json_int_t)v[i].register_index, "register_id",
		                    hex_json(v[i].register_id, PL_HASH_BYTES), "register_record",
		                    reg.note, (int)reg.note_len, "revoked", (int)v[i].revoked);
		if (p && v[i].revoked)
			json_object_set_new(p, "revoke_index",
			                    json_integer((json_int_t)v[i].revoke_index));
		pl_exchange_entry_release(&reg);
		pl_buf_release(&vk);
		if (!p || json_array_append_new(a, p) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	free(v);
	if (err)
		return send_lib_error(r, err, "directory");
	if (a)
		j = json_pack("{s:o}", "parties", a);
	return send_json(r, MHD_HTTP_OK, j);
}

static enum MHD_Result do_statements(struct req *r)
{
	struct pl_exchange_list l;
	json_t *j;
	int err;

	memset(&l, 0, sizeof(l));
	err = pl_exchange_statements(r->h->ex, r->q.after, PL_HTTP_RECORDS_MAX_PAGE, &l);
	if (err)
		return send_lib_error(r, err, "statements");
	j = list_json(&l, true);
	pl_exchange_list_release(&l);
	return send_json(r, MHD_HTTP_OK, j);
}

/* Reads the inbox from r->cursor, noting the tree size first (for wait_suspend()). */
static int inbox_read(struct req *r, struct pl_exchange_list *l)
{
	memset(l, 0, sizeof(*l));
	r->size0 = pl_exchange_size(r->h->ex);
	return pl_exchange_inbox(r->h->ex, r->party, r->cursor, PL_HTTP_RECORDS_MAX_PAGE, l);
}

static enum MHD_Result do_inbox_poll(struct req *r)
{
	struct pl_exchange_list l;
	uint64_t wait_s = (r->q.has & Q_WAIT) ? r->q.wait : r->h->cfg.poll_timeout;
	json_t *j;
	int err;

	if (wait_s > r->h->cfg.poll_timeout)
		wait_s = r->h->cfg.poll_timeout;
	if (r->deadline_ms == 0)
		r->deadline_ms = now_ms() + wait_s * 1000u;
	for (;;) {
		err = inbox_read(r, &l);
		if (err)
			return send_lib_error(r, err, "inbox");
		if (l.next > r->cursor)
			r->cursor = l.next; /* records scanned, none of them for this party */
		if (l.n > 0 || wait_s == 0)
			break;
		if (wait_suspend(r, r->deadline_ms)) {
			pl_exchange_list_release(&l);
			return MHD_YES; /* resumed by the notifier; the handler runs again */
		}
		if (r->h->ending || now_ms() >= r->deadline_ms)
			break;
		pl_exchange_list_release(&l);
	}
	l.next = r->cursor;
	j = list_json(&l, true);
	pl_exchange_list_release(&l);
	return send_json(r, MHD_HTTP_OK, j);
}

/*
 * Formats records as events into r->out, up to about SSE_BYTES_SOFT bytes,
 * and moves the cursor past what was formatted (or past the whole page).
 */
static int sse_format(struct req *r, const struct pl_exchange_list *l)
{
	int err = 0;

	for (size_t i = 0; i < l->n; i++) {
		json_t *e;
		char *s;

		if (i > 0 && r->out.len >= SSE_BYTES_SOFT) {
			r->cursor = l->v[i].index; /* the rest on the next read */
			return 0;
		}
		e = entry_json(&l->v[i]);
		s = e ? json_dumps(e, JSON_FLAGS) : NULL;
		json_decref(e);
		if (!s)
			return PL_ENOMEM;
		err = pl_buf_addf(&r->out, "id: %llu\nevent: record\ndata: %s\n\n",
		                  (unsigned long long)(l->v[i].index + 1), s);
		free(s);
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

static enum MHD_Result do_inbox_stream(struct req *r)
{
	struct pl_parleyd_http *h = r->h;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if ((uint64_t)atomic_fetch_add(&h->streams, 1) >= h->cfg.sse_max) {
		atomic_fetch_sub(&h->streams, 1);
		return send_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		                  "too many open event streams");
	}
	r->sse = true;
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
 * A submitted record authenticates itself (docs/api.md): its signature by a
 * registered key covers the whole body, its time is held to the exchange's
 * tolerance and its place in its author's chain makes a replay a no-op. An
 * Authorization header sent with it anyway is checked like any other.
 */
static bool self_authenticating(const struct req *r)
{
	return r->route == R_RECORD_POST &&
	       !MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                    MHD_HTTP_HEADER_AUTHORIZATION);
}

static enum MHD_Result dispatch(struct req *r, const char *method)
{
	enum MHD_Result res;

	if (!is_public(r->route) && !self_authenticating(r) && !r->party[0] &&
	    !authenticate(r, method, &res))
		return res;
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
 * declared body size, reserves upload memory. An error is answered now only
 * when a body follows (so that it is never read); otherwise on the final call.
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
	const char *reason = NULL;

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &hc);
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
	} else if ((status = route(r, method)) != 0) {
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
		} else if (atomic_fetch_add(&h->upload_bytes, (size_t)len) + len >
		           h->upload_budget) {
			atomic_fetch_sub(&h->upload_bytes, (size_t)len);
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
			reason = "too many uploads in progress";
		} else {
			r->reserved = (size_t)len;
			pl_buf_init(&r->body, (size_t)len);
		}
	} else if (has_body) {
		status = MHD_HTTP_BAD_REQUEST;
		reason = "this resource takes no body";
	}
	if (status == 0)
		return MHD_YES;
	if (has_body || h->quiescing)
		return send_error(r, status, early_code_of(status), reason);
	r->early_status = status;
	r->early_code = early_code_of(status);
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
		r->started = true;
		return first_call(r, method);
	}
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
	if (r->early_status)
		return send_error(r, r->early_status, r->early_code, r->early_reason);
	if (r->h->quiescing && !r->submitted && r->deadline_ms == 0)
		return send_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		                  "the server is shutting down");
	return dispatch(r, method);
}

/* Called with the raw request-target before MHD unescapes it: the client signed these bytes. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct pl_parleyd_http *h = cls;
	size_t n = strlen(uri);
	struct req *r = calloc(1, sizeof(*r));

	(void)conn;
	if (!r)
		return NULL;
	r->h = h;
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
		atomic_fetch_sub(&h->streams, 1);
	if (r->reserved)
		atomic_fetch_sub(&h->upload_bytes, r->reserved);
	pl_exchange_receipt_release(&r->receipt);
	pl_buf_release(&r->body);
	pl_buf_release(&r->out);
	free(r->target);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&h->inflight, 1);
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
		c->max_per_ip = c->max_connections;
	if (!c->connection_timeout)
		c->connection_timeout = PL_HTTP_TIMEOUT_SECONDS;
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
		c->sse_max = 256;
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
	h->ex = ex;
	h->cfg = *cfg;
	fill_defaults(&h->cfg);
	h->payload_max =
	        cfg->ex.payload_max ? cfg->ex.payload_max : PL_EXCHANGE_DEFAULT_PAYLOAD_MAX;
	h->upload_budget = 4 * h->payload_max;
	if (h->upload_budget < 64u * h->cfg.record_max)
		h->upload_budget = 64u * h->cfg.record_max;
	snprintf(h->origin, sizeof(h->origin), "%s", pl_exchange_origin(ex));
	ret = pl_daemon_listen_resolve(h->cfg.listen, &ss, &sslen, &v6);
	if (ret) {
		if (err)
			(void)!pl_buf_addf(err, "bad listen address %s", h->cfg.listen);
		goto out;
	}
	ret = pl_auth_nonces_new(&h->nonces, h->cfg.nonce_max, h->cfg.auth_window);
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
	h->d = MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, pl_daemon_log_mhd,
	        h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
	        (unsigned)h->cfg.http_threads, MHD_OPTION_CONNECTION_LIMIT,
	        (unsigned)h->cfg.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	        (unsigned)h->cfg.max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned)h->cfg.connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
	        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	        h, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
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
	free(h);
}
