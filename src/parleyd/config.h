/* parleyd.conf: the daemon's configuration (origin, batching, timers, limits), strictly parsed. */
#ifndef PARLEYD_CONFIG_H
#define PARLEYD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/exchange.h>
#include <parley/explorer.h>
#include <parley/limits.h>
#include <parley/line.h>
#include <parley/witness.h>

#define PL_PARLEYD_CONF_FILE    "parleyd.conf"
#define PL_PARLEYD_CONF_MAX     (64u * 1024u) /* bytes in the config file */
#define PL_PARLEYD_LISTEN_MAX   255           /* bytes in a listen address */
#define PL_PARLEYD_DEFAULT_PORT 8080
#define PL_PARLEYD_LINES_MAX    PL_EXCHANGE_LINES_MAX /* `line` directives */
/* The HTTP workers' nice value above the sequencer's: see parleyd.conf(5). */
#define PL_PARLEYD_DEFAULT_HTTP_NICE 5

/* Authenticated upload memory, as multiples of payload_max, when not configured. */
#define PL_PARLEYD_UPLOAD_PER_KEY_FACTOR 2
#define PL_PARLEYD_UPLOAD_BUDGET_FACTOR  8

/* `witness` directives, and the default witness_interval_ms. */
#define PL_PARLEYD_WITNESSES_MAX       16
#define PL_PARLEYD_WITNESS_INTERVAL_MS 1000

/*
 * Everything parleyd.conf(5) documents. Zero is never a meaningful value for
 * a numeric field once pl_parleyd_config_default() has run: the parser refuses 0
 * where it makes no sense.
 */
#define PL_PARLEYD_METRICS_ALLOW_MAX 16 /* addresses in metrics_allow */

/* One IP address (no mask) as inet_pton() writes it. */
struct pl_parleyd_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t bytes[16];
};

struct pl_parleyd_config {
	char origin[PL_ORIGIN_MAX + 1];         /* must equal the store's origin */
	char listen[PL_PARLEYD_LISTEN_MAX + 1]; /* host:port, e.g. 127.0.0.1:8080 */
	struct pl_exchange_options ex;          /* batch_max, batch_age_us, time_tolerance_s,
	                                           timer_interval_ms, payload_max, readers,
	                                           lines (`line`, repeatable) */
	/* HTTP limits, used by serve. */
	uint32_t http_threads;       /* libmicrohttpd worker threads */
	uint32_t http_nice;          /* how much nicer than the sequencer they run, 0 to 19 */
	uint32_t max_connections;    /* concurrent connections in all */
	uint32_t max_per_ip;         /* concurrent connections from one address */
	uint32_t connection_timeout; /* seconds of inactivity before a client is dropped */
	uint32_t header_timeout;     /* seconds to send a whole request head */
	uint32_t max_headers;        /* request header lines */
	uint32_t header_max;         /* bytes in all request headers */
	uint32_t record_max;         /* bytes in a POST /records body */
	uint32_t rate;               /* requests per second per key (token bucket rate) */
	uint32_t rate_burst;         /* token bucket depth */
	uint32_t auth_window;        /* seconds a request signature's time may differ */
	uint32_t nonce_max;          /* nonces in the pool shared by all keys (replay protection) */
	uint32_t nonce_per_key;      /* nonces each key may always have remembered */
	uint32_t poll_timeout;       /* seconds a long poll waits */
	uint32_t sse_max;            /* concurrent server-sent-event streams */
	uint64_t upload_per_key;     /* bytes of authenticated uploads in progress per key */
	uint64_t upload_budget;      /* bytes of authenticated uploads in progress in all */
	uint32_t sse_per_key;        /* concurrent server-sent-event streams of one key */
	/* Witnesses asked to cosign checkpoints (`witness`, repeatable), at most
	 * once per witness_interval_ms each. */
	size_t nwitnesses;
	struct pl_witness_peer witnesses[PL_PARLEYD_WITNESSES_MAX];
	uint32_t witness_interval_ms;
	/* Operators (`metrics_allow`, `health_checkpoint_age`, `health_witness_age`): the
	 * addresses that may read /metrics, and the ages past which /health says 503. */
	size_t nmetrics_allow;
	struct pl_parleyd_addr metrics_allow[PL_PARLEYD_METRICS_ALLOW_MAX];
	uint32_t health_checkpoint_age; /* seconds; 0: not checked */
	uint32_t health_witness_age;    /* seconds; 0: not checked */
	/* The explorer (`public_lines`): lines whose availability anyone may see. */
	size_t npublic_lines;
	char public_lines[PL_EXPLORER_LINES_MAX][PL_RECORD_NAME_MAX + 1];
};

/* True when the socket address sa (of any family) is one of c's metrics_allow. */
struct sockaddr;
bool pl_parleyd_config_metrics_allowed(const struct pl_parleyd_config *c,
                                       const struct sockaddr *sa);

/* Fills c with the defaults documented in parleyd.conf(5); origin and listen as given by the
 * caller later. */
void pl_parleyd_config_default(struct pl_parleyd_config *c);

/*
 * Parses text[0..len) as parleyd.conf over the current values of c: lines of
 * `key = value`, `#` comments and blank lines; every key known, none twice
 * but `line` (each adds a line; names distinct), numbers decimal and in
 * range, no trailing garbage. On error c is unchanged
 * and a message naming the line is appended to err (if not NULL).
 * Returns 0, PL_EMALFORMED, PL_ERANGE, PL_ETOOBIG.
 */
int pl_parleyd_config_parse(struct pl_parleyd_config *c, const char *text, size_t len,
                            struct pl_buf *err);

/* Reads and parses the file at path (at most PL_PARLEYD_CONF_MAX bytes). Also PL_EIO. */
int pl_parleyd_config_load(struct pl_parleyd_config *c, const char *path, struct pl_buf *err);

/*
 * Appends c as parleyd.conf text (every key; origin only when set) to out:
 * parsing it over the defaults gives c back. Returns 0 or a pl_buf error.
 */
int pl_parleyd_config_format(const struct pl_parleyd_config *c, struct pl_buf *out);

/*
 * Writes c as pl_parleyd_config_format() does to a new file at path, mode
 * 0644, fsynced. Returns 0, PL_EEXIST (the file exists), PL_EIO, PL_ENOMEM.
 */
int pl_parleyd_config_write(const struct pl_parleyd_config *c, const char *path);

/*
 * The name of the first key whose value differs between the running
 * configuration run and next but cannot change while serving (everything
 * but `line`, `witness`, `witness_interval_ms`, `auditors`, `rate`,
 * `rate_burst` and `poll_timeout`; an origin
 * left unset in next is the store's), or NULL when next may be taken on live.
 * The name is static.
 */
const char *pl_parleyd_config_fixed_change(const struct pl_parleyd_config *run,
                                           const struct pl_parleyd_config *next);

#endif
