/* The request-target of parleyd's API (docs/api.md): which resource, with which id and query. */
#ifndef PARLEYD_TARGET_H
#define PARLEYD_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/encoding.h>
#include <parley/limits.h>

/* Bytes of the name of a file under /assets/ (the browser verifier's files). */
#define PL_PARLEYD_ASSET_NAME_MAX 64

/* Hex digits of a record id in a path: a full id, or a prefix of PL_EXCHANGE_ID_PREFIX_MIN. */
#define PL_PARLEYD_ID_TEXT_MAX PL_HASH_HEX_LEN

/*
 * The resources of docs/api.md. The short names are the daemon's own: only
 * the HTTP layer (http_*.c), which switches on them in every handler, and
 * this module use them.
 */
enum pl_parleyd_route {
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
	R_INDEX,
	R_INDEX_RECORD,
	R_ASSET,
	/* The public explorer (docs/api.md, "The explorer") and the operator's endpoints. */
	R_EXPLORER,       /* GET / */
	R_EXPLORER_STMT,  /* GET /statement/<id> */
	R_EXPLORER_DIR,   /* GET /directory */
	R_EXPLORER_LOG,   /* GET /log */
	R_EXPLORER_LINES, /* GET /lines */
	R_FEED,           /* GET /statements.atom */
	R_PUBLIC_RECORD,  /* GET /record/<id> */
	R_PUBLIC_PROOF,   /* GET /proof/<id> */
	R_METRICS,        /* GET /metrics */
};

/* Query parameters; a has_ bit per key so that 0 is a value, not "absent". */
enum {
	Q_AFTER = 1u << 0,
	Q_SIZE = 1u << 1,
	Q_OLD = 1u << 2,
	Q_NEW = 1u << 3,
	Q_WAIT = 1u << 4,
	Q_SINCE = 1u << 5,
	Q_BEFORE = 1u << 6,
	Q_PARTY = 1u << 7, /* a party name; an empty value (a form left blank) is no filter */
	Q_FROM = 1u << 8,  /* a date YYYY-MM-DD, as Unix seconds at its start; empty: none */
	Q_TO = 1u << 9,    /* a date YYYY-MM-DD, as Unix seconds at the end of that day */
};

/* The values of the query; each is 0 unless its bit is in has. */
struct pl_parleyd_query {
	unsigned has;
	uint64_t after, size, old, new_, wait, since, before;
	char party[PL_RECORD_NAME_MAX + 1];
	int64_t from, to;
};

/*
 * The fields of a parsed request-target, as one list so that http_private.h's
 * request can hold them both as a struct pl_parleyd_target (for the parser)
 * and by name (for its handlers), in a union as Linux's struct_group() does.
 * Fields a route does not use stay zero.
 */
#define PL_PARLEYD_TARGET_FIELDS                                                                  \
	enum pl_parleyd_route route;                                                              \
	bool is_post;                        /* the method is POST */                             \
	char id[PL_PARLEYD_ID_TEXT_MAX + 1]; /* record id text (hex) from the path */             \
	size_t id_len;                       /* 8..64 when the route takes an id */               \
	char line[PL_RECORD_NAME_MAX + 1];   /* line name from the path */                        \
	uint8_t hash[PL_HASH_BYTES]; /* payload hash, or thread index key, from the path */       \
	unsigned level, width; /* tile level; width 1..255 of a partial tile, 0 for a full one */ \
	uint64_t tile;         /* tile or entry bundle index */                                   \
	char asset[PL_PARLEYD_ASSET_NAME_MAX + 1]; /* file name under /assets/ */                 \
	struct pl_parleyd_query q;

struct pl_parleyd_target {
	PL_PARLEYD_TARGET_FIELDS
};

/*
 * Parses the request-target s[0..n) (exactly as it came in the request line;
 * any byte, NUL included, may be in it) of a request with method (a
 * NUL-terminated token) into *t, which it clears first. Accepts GET and HEAD
 * on every path but POST /payloads and POST /records, which take only POST;
 * a path exactly as docs/api.md spells it (no trailing slash, tiles in their
 * one canonical form); a query of the keys the route takes, each once, with
 * a decimal value of at most 2^63-1 and no leading zeros, but `party` (a
 * party name) and `from`, `to` (dates YYYY-MM-DD), which may also be empty
 * (an HTML form's blank field: no filter). /assets/NAME takes a NAME of 1 to
 * PL_PARLEYD_ASSET_NAME_MAX lowercase letters, digits, '-' and '.', that
 * starts with a letter or digit (no other path: 404).
 *
 * Returns 0 with *t filled, or the HTTP status the request is refused with:
 * 405 for a method the path does not take (any method but GET, HEAD and
 * POST, judged before anything else), 400 for a request-target that does
 * not start with '/' or holds a byte outside printable ASCII, '%' or '#',
 * a malformed record id or payload hash, or a bad query, and 404 for any
 * other path (an unknown one, a tile path that is not canonical, an invalid
 * line name). After a refusal only t->route means anything: the path's
 * route when it was recognised before the refusal (always on 405, unless the
 * method was none of the three: then R_NONE), so that an Allow header can
 * name the method the path takes.
 * Pure: no allocation, no global state, safe from any thread.
 */
unsigned pl_parleyd_target_parse(struct pl_parleyd_target *t, const char *method, const char *s,
                                 size_t n);

#endif
