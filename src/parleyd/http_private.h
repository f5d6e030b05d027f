/* What the files of parleyd's HTTP layer share: the server, a request, their calls. */
#ifndef PARLEYD_HTTP_PRIVATE_H
#define PARLEYD_HTTP_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#include <parley/exchange.h>
#include <parley/limits.h>
#include <parley/record.h>

#include "http.h"
#include "target.h"

/*
 * Threads. MHD's workers run the callbacks (on_uri, on_request and what it
 * calls: admission, the handlers; on_completed, on_connection) and the
 * content readers of list answers and event streams. The notifier thread
 * resumes long polls and streams and sweeps the connections. The sequencer
 * runs submit_done(). pl_parleyd_http_start/quiesce/stop run on the thread
 * that starts and stops the server. Each function says which it runs on.
 */

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

#define ROUTES       (R_METRICS + 1) /* routes counted by /metrics: R_METRICS is the last */
#define STATUS_SLOTS 18              /* answer statuses counted apart (http_metrics.c) */

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
	/* The limits a reload may change (pl_parleyd_http_limits_set()), read per request. */
	atomic_uint live_rate, live_rate_burst, live_poll_timeout;
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

	/* Answers by route and status, for /metrics: atomics, counted as each is queued. */
	atomic_uint_fast64_t answers[ROUTES][STATUS_SLOTS];
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

/* An admission outcome: 0, or the HTTP status, error code and reason to answer. */
struct refusal {
	unsigned status;
	const char *code, *reason;
};

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

/*
 * The doubly linked lists of the server (its waiters, its event streams, its
 * connections): x goes in at the head, or out from wherever it is, by its
 * links x->next and x->prev. The caller holds the list's lock.
 */
#define HTTP_LIST_PUSH(head, x, next, prev) \
	do {                                \
		(x)->prev = NULL;           \
		(x)->next = (head);         \
		if (head)                   \
			(head)->prev = (x); \
		(head) = (x);               \
	} while (0)
#define HTTP_LIST_UNLINK(head, x, next, prev)        \
	do {                                         \
		if ((x)->prev)                       \
			(x)->prev->next = (x)->next; \
		else                                 \
			(head) = (x)->next;          \
		if ((x)->next)                       \
			(x)->next->prev = (x)->prev; \
	} while (0)

/* Milliseconds on the monotonic clock. Any thread. */
static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * Who reads, for the exchange's need-to-know (include/parley/visibility.h): the
 * authenticated party, or NULL (anyone) on a public request. Any thread.
 */
static inline const char *req_reader(const struct req *r)
{
	return r->party[0] ? r->party : NULL;
}

/* ---- Responses (http_handlers.c); an MHD worker runs them ---- */

/* Queues a response and drops our reference. data is copied unless take is set (then freed). */
enum MHD_Result pl__http_send_bytes(struct req *r, unsigned status, const char *ctype,
                                    const char *cache, void *data, size_t len, bool take);
/* Queues an error answer (docs/api.md, "Errors") with code and reason. */
enum MHD_Result pl__http_send_error(struct req *r, unsigned status, const char *code,
                                    const char *reason);
/* Queues the answer to a library error err met while doing what (its detail logged, not sent). */
enum MHD_Result pl__http_send_lib_error(struct req *r, int err, const char *what);
/* Adds the headers every answer carries: Content-Type (unless NULL), Cache-Control, nosniff. */
void pl__http_headers(struct MHD_Response *resp, const char *ctype, const char *cache);
/* Queues resp with status for r, drops our reference and notes r answered. */
enum MHD_Result pl__http_queue(struct req *r, unsigned status, struct MHD_Response *resp);
/* Answers a request whose whole body is in, authenticated on its first call when it had to be. */
enum MHD_Result pl__http_dispatch(struct req *r);

/* ---- Admission (http_admission.c) ---- */

/* The first access-handler call of r (an MHD worker): route, limits, authentication. */
enum MHD_Result pl__http_first_call(struct req *r, const char *method);
/* True when r must carry a request signature. Any thread. */
bool pl__http_needs_request_auth(const struct req *r);
/* Token bucket per key: true when the key may make one more request now. Any thread. */
bool pl__http_rate_take(struct pl_parleyd_http *h, const char *name);
/* Logs a refused request, with the key it named when there is one (never a secret). */
void pl__http_log_refusal(const struct req *r, const char *key, const char *why);
/* Gives back the upload allowance r holds (an MHD worker, when r completes). */
void pl__http_upload_release(struct req *r);
/* MHD's connection notification (an MHD worker): keeps h->conns. */
void pl__http_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                            enum MHD_ConnectionNotificationCode toe);
/* Closes the connections past their request-head deadline (the notifier thread). */
void pl__http_conn_sweep(struct pl_parleyd_http *h, uint64_t now);

/* ---- Waiting: long polls and event streams (http_wait.c) ---- */

/* Unlinks r from h->waiters; wait_lock held. Any thread. */
void pl__http_wait_unlink(struct pl_parleyd_http *h, struct req *r);
/* Resumes every waiting request (start/stop, once the notifier has ended). */
void pl__http_wait_end(struct pl_parleyd_http *h);
/* Frees r's event-stream slot (an MHD worker, when r completes). */
void pl__http_stream_put(struct pl_parleyd_http *h, struct req *r);
/* The notifier thread's body; arg is the server. */
void *pl__http_notifier_main(void *arg);
/* GET /inbox: a page, a long poll or an event stream (an MHD worker). */
enum MHD_Result pl__http_do_inbox(struct req *r);

/* ---- List answers (http_list.c); an MHD worker runs them ---- */

/* Empties r->out and starts a list answer of src; the caller appends its head. */
void pl__http_list_begin(struct req *r, enum list_src src);
/* Appends the next entries of r's list answer to r->out, and after the last its closing text. */
int pl__http_list_fill(struct req *r);
/* Answers 200 with r's list answer, whose head is in r->out (err: that of the head). */
enum MHD_Result pl__http_list_send(struct req *r, int err, const char *what);
/* GET /records/<id>/thread, GET /lines/<name>, GET /parties and GET /statements. */
enum MHD_Result pl__http_do_thread(struct req *r);
enum MHD_Result pl__http_do_line(struct req *r);
enum MHD_Result pl__http_do_parties(struct req *r);
enum MHD_Result pl__http_do_statements(struct req *r);

/* ---- Operators: /metrics and /health (http_metrics.c); an MHD worker runs them ---- */

/* Counts one answer of route with status. Lock-free; any thread. */
void pl__http_count(struct pl_parleyd_http *h, enum pl_parleyd_route route, unsigned status);
/* GET /metrics, to the addresses metrics_allow names. */
enum MHD_Result pl__http_do_metrics(struct req *r);
/* GET /health: 200, or 503 with the reason when a configured age is passed. */
enum MHD_Result pl__http_do_health(struct req *r);

/* ---- The explorer (http_explorer.c); an MHD worker runs it ---- */

/* GET /, /statement/<id>, /directory, /log, /lines and /statements.atom. */
enum MHD_Result pl__http_do_explorer(struct req *r);

#endif
