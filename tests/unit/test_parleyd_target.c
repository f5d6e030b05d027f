/* Unit tests of parleyd's request-target parser: every endpoint of docs/api.md, and refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "target.h"
#include "testutil.h"

#define ID64   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID65   ID64 "0"
#define HASH64 "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"
#define NAME63 "a23456789-123456789-123456789-123456789-123456789-123456789-123"
#define NAME64 NAME63 "4"
#define I63MAX "9223372036854775807"

/* An accepted request: what the parser must fill in (everything not named is zero). */
struct ok_case {
	const char *doc; /* the heading of docs/api.md this row stands for, or NULL */
	const char *method, *target;
	enum pl_parleyd_route route;
	const char *id, *line, *hash, *asset;
	unsigned level, width;
	uint64_t tile;
	struct pl_parleyd_query q;
};

static const struct ok_case ok_cases[] = {
        {.doc = "GET /health", .method = "GET", .target = "/health", .route = R_HEALTH},
        {.method = "HEAD", .target = "/health", .route = R_HEALTH},
        /* An empty query is no parameter. */
        {.method = "GET", .target = "/health?", .route = R_HEALTH},
        {.doc = "GET /checkpoint", .method = "GET", .target = "/checkpoint", .route = R_CHECKPOINT},
        {.method = "HEAD", .target = "/checkpoint", .route = R_CHECKPOINT},
        {.doc = "GET /log-key", .method = "GET", .target = "/log-key", .route = R_LOG_KEY},
        {.doc = "GET /tile/<L>/<N>[.p/<W>]",
         .method = "GET",
         .target = "/tile/0/000",
         .route = R_TILE},
        {.method = "GET", .target = "/tile/0/x001/x234/067", .route = R_TILE, .tile = 1234067},
        {.method = "HEAD", .target = "/tile/2/000.p/17", .route = R_TILE, .level = 2, .width = 17},
        {.method = "GET",
         .target = "/tile/1/x001/000.p/255",
         .route = R_TILE,
         .level = 1,
         .width = 255,
         .tile = 1000},
        {.method = "GET",
         .target = "/tile/2/999.p/1",
         .route = R_TILE,
         .level = 2,
         .width = 1,
         .tile = 999},
        {.doc = "GET /tile/entries/<N>[.p/<W>]",
         .method = "GET",
         .target = "/tile/entries/000",
         .route = R_ENTRIES},
        {.method = "GET",
         .target = "/tile/entries/x001/234.p/8",
         .route = R_ENTRIES,
         .width = 8,
         .tile = 1234},
        {.doc = "POST /payloads", .method = "POST", .target = "/payloads", .route = R_PAYLOAD_POST},
        {.doc = "GET /payloads/<hash>",
         .method = "GET",
         .target = "/payloads/" HASH64,
         .route = R_PAYLOAD_GET,
         .hash = HASH64},
        {.method = "HEAD", .target = "/payloads/" HASH64, .route = R_PAYLOAD_GET, .hash = HASH64},
        {.doc = "POST /records", .method = "POST", .target = "/records", .route = R_RECORD_POST},
        {.doc = "GET /records/<id>",
         .method = "GET",
         .target = "/records/" ID64,
         .route = R_RECORD_GET,
         .id = ID64},
        {.method = "GET", .target = "/records/0123abcd", .route = R_RECORD_GET, .id = "0123abcd"},
        {.method = "HEAD", .target = "/records/ABCDEF01", .route = R_RECORD_GET, .id = "ABCDEF01"},
        {.doc = "GET /records/<id>/proof[?size=N]",
         .method = "GET",
         .target = "/records/" ID64 "/proof",
         .route = R_PROOF,
         .id = ID64},
        {.method = "GET",
         .target = "/records/0123abcd/proof?size=0",
         .route = R_PROOF,
         .id = "0123abcd",
         .q = {.has = Q_SIZE}},
        {.method = "GET",
         .target = "/records/0123abcd/proof?size=" I63MAX,
         .route = R_PROOF,
         .id = "0123abcd",
         .q = {.has = Q_SIZE, .size = INT64_MAX}},
        {.doc = "GET /consistency?old=M&new=N",
         .method = "GET",
         .target = "/consistency?old=3&new=12",
         .route = R_CONSISTENCY,
         .q = {.has = Q_OLD | Q_NEW, .old = 3, .new_ = 12}},
        {.method = "GET",
         .target = "/consistency?new=0&old=0",
         .route = R_CONSISTENCY,
         .q = {.has = Q_OLD | Q_NEW}},
        /* The parser takes what the handler then refuses with its own 400 (docs/api.md). */
        {.method = "GET", .target = "/consistency", .route = R_CONSISTENCY},
        {.method = "GET",
         .target = "/consistency?old=9",
         .route = R_CONSISTENCY,
         .q = {.has = Q_OLD, .old = 9}},
        {.doc = "GET /threads/<id>",
         .method = "GET",
         .target = "/threads/" ID64,
         .route = R_THREAD,
         .id = ID64},
        {.method = "GET", .target = "/threads/89abCDEF", .route = R_THREAD, .id = "89abCDEF"},
        {.doc = "GET /index[?size=N]",
         .method = "GET",
         .target = "/index",
         .route = R_INDEX_RECORD},
        {.method = "GET",
         .target = "/index?size=12",
         .route = R_INDEX_RECORD,
         .q = {.has = Q_SIZE, .size = 12}},
        {.doc = "GET /index/<key>[?size=N]",
         .method = "GET",
         .target = "/index/" ID64,
         .route = R_INDEX,
         .hash = ID64},
        {.method = "HEAD", .target = "/index/" ID64, .route = R_INDEX, .hash = ID64},
        {.method = "GET",
         .target = "/index/" ID64 "?size=12",
         .route = R_INDEX,
         .hash = ID64,
         .q = {.has = Q_SIZE, .size = 12}},
        {.method = "GET",
         .target = "/index/" ID64 "?size=0",
         .route = R_INDEX,
         .hash = ID64,
         .q = {.has = Q_SIZE}},
        {.doc = "GET /parties", .method = "GET", .target = "/parties", .route = R_PARTIES},
        {.doc = "GET /statements[?after=C]",
         .method = "GET",
         .target = "/statements",
         .route = R_STATEMENTS},
        {.method = "GET",
         .target = "/statements?after=1000",
         .route = R_STATEMENTS,
         .q = {.has = Q_AFTER, .after = 1000}},
        {.doc = "GET /lines/<name>[?since=T][&after=C]",
         .method = "GET",
         .target = "/lines/unc-kpa",
         .route = R_LINE,
         .line = "unc-kpa"},
        {.method = "GET",
         .target = "/lines/unc-kpa?since=1700000000",
         .route = R_LINE,
         .line = "unc-kpa",
         .q = {.has = Q_SINCE, .since = 1700000000}},
        {.method = "GET",
         .target = "/lines/l1?since=5&after=7",
         .route = R_LINE,
         .line = "l1",
         .q = {.has = Q_SINCE | Q_AFTER, .since = 5, .after = 7}},
        {.method = "GET",
         .target = "/lines/" NAME63 "?after=0&since=" I63MAX,
         .route = R_LINE,
         .line = NAME63,
         .q = {.has = Q_SINCE | Q_AFTER, .since = INT64_MAX}},
        {.doc = "GET /inbox[?after=C][&wait=S]",
         .method = "GET",
         .target = "/inbox",
         .route = R_INBOX},
        {.method = "GET",
         .target = "/inbox?after=12&wait=30",
         .route = R_INBOX,
         .q = {.has = Q_AFTER | Q_WAIT, .after = 12, .wait = 30}},
        {.method = "GET", .target = "/inbox?wait=0", .route = R_INBOX, .q = {.has = Q_WAIT}},
        {.method = "GET",
         .target = "/inbox?wait=" I63MAX "&after=" I63MAX,
         .route = R_INBOX,
         .q = {.has = Q_AFTER | Q_WAIT, .after = INT64_MAX, .wait = INT64_MAX}},
        {.doc = "GET /assets/<name>",
         .method = "GET",
         .target = "/assets/parley-verifier.js",
         .route = R_ASSET,
         .asset = "parley-verifier.js"},
        {.method = "HEAD", .target = "/assets/a", .route = R_ASSET, .asset = "a"},
        {.method = "GET", .target = "/assets/0.9-x", .route = R_ASSET, .asset = "0.9-x"},
        {.method = "GET", .target = "/assets/" NAME63 "4", .route = R_ASSET, .asset = NAME64},
        /* The explorer and the operators' endpoints. */
        {.doc = "GET /[?before=C][&party=P][&from=D][&to=D]",
         .method = "GET",
         .target = "/",
         .route = R_EXPLORER},
        {.method = "HEAD",
         .target = "/?before=20",
         .route = R_EXPLORER,
         .q = {.has = Q_BEFORE, .before = 20}},
        /* A form's blank fields are no filter. */
        {.method = "GET", .target = "/?party=&from=&to=", .route = R_EXPLORER},
        {.method = "GET",
         .target = "/?party=" NAME63 "&from=2023-04-07&to=2023-04-08&before=" I63MAX,
         .route = R_EXPLORER,
         .q = {.has = Q_PARTY | Q_FROM | Q_TO | Q_BEFORE,
               .party = NAME63,
               .from = 1680825600,
               .to = 1680998400,
               .before = INT64_MAX}},
        {.doc = "GET /statement/<id>",
         .method = "GET",
         .target = "/statement/" ID64,
         .route = R_EXPLORER_STMT,
         .id = ID64},
        {.method = "GET",
         .target = "/statement/0123ABcd",
         .route = R_EXPLORER_STMT,
         .id = "0123ABcd"},
        {.doc = "GET /directory", .method = "GET", .target = "/directory", .route = R_EXPLORER_DIR},
        {.doc = "GET /log", .method = "GET", .target = "/log", .route = R_EXPLORER_LOG},
        {.doc = "GET /lines[?from=D][&to=D]",
         .method = "GET",
         .target = "/lines",
         .route = R_EXPLORER_LINES},
        {.method = "GET",
         .target = "/lines?from=2023-04-07&to=2023-04-08",
         .route = R_EXPLORER_LINES,
         .q = {.has = Q_FROM | Q_TO, .from = 1680825600, .to = 1680998400}},
        {.doc = "GET /statements.atom",
         .method = "GET",
         .target = "/statements.atom",
         .route = R_FEED},
        {.doc = "GET /record/<id>",
         .method = "GET",
         .target = "/record/" ID64,
         .route = R_PUBLIC_RECORD,
         .id = ID64},
        {.doc = "GET /proof/<id>[?size=N]",
         .method = "GET",
         .target = "/proof/" ID64,
         .route = R_PUBLIC_PROOF,
         .id = ID64},
        {.method = "GET",
         .target = "/proof/0123abcd?size=9",
         .route = R_PUBLIC_PROOF,
         .id = "0123abcd",
         .q = {.has = Q_SIZE, .size = 9}},
        {.doc = "GET /metrics", .method = "GET", .target = "/metrics", .route = R_METRICS},
};

/* Fails naming the row and the field when a parsed field is not as expected. */
#define EXPECT(c, cond, field)                                                                  \
	do {                                                                                    \
		if (!(cond))                                                                    \
			fail_msg("%s %s: %s not as expected", (c)->method, (c)->target, field); \
	} while (0)

static void check_ok(const struct ok_case *c)
{
	struct pl_parleyd_target t;
	uint8_t hash[PL_HASH_BYTES] = {0};
	unsigned st;

	memset(&t, 0xa5, sizeof(t)); /* the parser clears what it does not set */
	st = pl_parleyd_target_parse(&t, c->method, c->target, strlen(c->target));
	if (st != 0)
		fail_msg("%s %s: refused with %u", c->method, c->target, st);
	if (c->hash)
		assert_int_equal(pl_hex_decode_exact(hash, sizeof(hash), c->hash, strlen(c->hash)),
		                 0);
	EXPECT(c, t.route == c->route, "route");
	EXPECT(c, t.is_post == (strcmp(c->method, "POST") == 0), "is_post");
	EXPECT(c, strcmp(t.id, c->id ? c->id : "") == 0, "id");
	EXPECT(c, t.id_len == (c->id ? strlen(c->id) : 0), "id_len");
	EXPECT(c, strcmp(t.line, c->line ? c->line : "") == 0, "line");
	EXPECT(c, strcmp(t.asset, c->asset ? c->asset : "") == 0, "asset");
	EXPECT(c, memcmp(t.hash, hash, sizeof(hash)) == 0, "hash");
	EXPECT(c, t.level == c->level && t.width == c->width && t.tile == c->tile, "tile");
	EXPECT(c, t.q.has == c->q.has, "query has-bits");
	EXPECT(c,
	       t.q.after == c->q.after && t.q.size == c->q.size && t.q.old == c->q.old &&
	               t.q.new_ == c->q.new_ && t.q.wait == c->q.wait && t.q.since == c->q.since &&
	               t.q.before == c->q.before && strcmp(t.q.party, c->q.party) == 0 &&
	               t.q.from == c->q.from && t.q.to == c->q.to,
	       "query values");
}

static void test_endpoints(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++)
		check_ok(&ok_cases[i]);
}

/* Every endpoint heading of docs/api.md ("### `GET /path`") has a row above, and back. */
static void test_doc_endpoints(void **state)
{
	size_t doclen, n = 0;
	char *doc = pl_test_read_file(PL_DOCS_DIR "/api.md", &doclen);
	const char *p = doc;
	bool seen[sizeof(ok_cases) / sizeof(ok_cases[0])] = {false};

	(void)state;
	while ((p = strstr(p, "\n### `")) != NULL) {
		const char *start = p + 6, *end = strchr(start, '`');
		bool found = false;
		assert_non_null(end);
		for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
			const char *d = ok_cases[i].doc;
			if (d && strlen(d) == (size_t)(end - start) &&
			    memcmp(d, start, strlen(d)) == 0) {
				found = seen[i] = true;
				break;
			}
		}
		if (!found)
			fail_msg("docs/api.md endpoint %.*s has no case here", (int)(end - start),
			         start);
		n++;
		p = end;
	}
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++)
		if (ok_cases[i].doc && !seen[i])
			fail_msg("%s is not an endpoint of docs/api.md", ok_cases[i].doc);
	assert_int_equal(n, 28);
	free(doc);
}

/* A refused request: the exact status, and on 405 the route its Allow header is made from. */
struct bad_case {
	const char *method, *target;
	size_t len; /* 0: strlen(target) */
	unsigned status;
	enum pl_parleyd_route route; /* checked on 405 only */
};

#define BAD(status, method, target)               \
	{                                         \
		method, target, 0, status, R_NONE \
	}
#define BAD_LEN(status, method, target, len)        \
	{                                           \
		method, target, len, status, R_NONE \
	}
#define NOT_ALLOWED(method, target, route)    \
	{                                     \
		method, target, 0, 405, route \
	}

static const struct bad_case bad_cases[] = {
        /* Methods: anything but GET, HEAD and POST; then the wrong one of those for the path. */
        NOT_ALLOWED("PUT", "/health", R_NONE),
        NOT_ALLOWED("DELETE", "/records", R_NONE),
        NOT_ALLOWED("OPTIONS", "/health", R_NONE),
        NOT_ALLOWED("get", "/health", R_NONE),
        NOT_ALLOWED("", "/health", R_NONE),
        NOT_ALLOWED("PUT", "no target at all", R_NONE), /* the method is judged first */
        NOT_ALLOWED("POST", "/health", R_HEALTH),
        NOT_ALLOWED("POST", "/checkpoint", R_CHECKPOINT),
        NOT_ALLOWED("POST", "/log-key", R_LOG_KEY),
        NOT_ALLOWED("POST", "/tile/0/000", R_TILE),
        NOT_ALLOWED("POST", "/tile/entries/000", R_ENTRIES),
        NOT_ALLOWED("POST", "/payloads/" HASH64, R_PAYLOAD_GET),
        NOT_ALLOWED("POST", "/records/0123abcd", R_RECORD_GET),
        NOT_ALLOWED("POST", "/records/0123abcd/proof", R_PROOF),
        NOT_ALLOWED("POST", "/consistency?old=1&new=2", R_CONSISTENCY),
        NOT_ALLOWED("POST", "/threads/0123abcd", R_THREAD),
        NOT_ALLOWED("POST", "/index/" ID64, R_INDEX),
        NOT_ALLOWED("POST", "/index", R_INDEX_RECORD),
        NOT_ALLOWED("POST", "/parties", R_PARTIES),
        NOT_ALLOWED("POST", "/statements", R_STATEMENTS),
        NOT_ALLOWED("POST", "/inbox", R_INBOX),
        NOT_ALLOWED("POST", "/lines/unc-kpa", R_LINE),
        NOT_ALLOWED("GET", "/payloads", R_PAYLOAD_POST),
        NOT_ALLOWED("HEAD", "/payloads", R_PAYLOAD_POST),
        NOT_ALLOWED("GET", "/records", R_RECORD_POST),
        NOT_ALLOWED("HEAD", "/records", R_RECORD_POST),
        NOT_ALLOWED("GET", "/records?after=1", R_RECORD_POST), /* the method before the query */
        BAD(400, "POST", "/payloads?after=1"),
        /* The start of the target: origin form only. */
        BAD(400, "GET", ""),
        BAD(400, "GET", "health"),
        BAD(400, "GET", "*"),
        BAD(400, "GET", "http://hotline.example/health"),
        BAD(400, "GET", "?after=1"),
        /* Bytes that never appear in this API. */
        BAD(400, "GET", "/health "),
        BAD(400, "GET", "/he alth"),
        BAD(400, "GET", "/health\t"),
        BAD(400, "GET", "/health\r\n"),
        BAD(400, "GET", "/health\x01"),
        BAD(400, "GET", "/health\x7f"),
        BAD(400, "GET", "/lines/unc\xc3\xa9"),
        BAD(400, "GET", "/health\xff"),
        BAD(400, "GET", "/health%20"),
        BAD(400, "GET", "/records/%30123abcd"),
        BAD(400, "GET", "/health#top"),
        BAD(400, "GET", "/statements?after=1#x"),
        BAD_LEN(400, "GET", "/health\0", 8),
        BAD_LEN(400, "GET", "/records/0123abcd\0ef", 20),
        BAD_LEN(400, "GET", "\0/health", 8),
        BAD_LEN(400, "GET", "/statements?after=1\0", 20),
        /* Paths: exactly as documented, with no trailing slash. */
        BAD(404, "GET", "/health/"),
        BAD(404, "GET", "/checkpoint/"),
        BAD(404, "GET", "/parties/"),
        BAD(404, "GET", "/statements/"),
        BAD(404, "GET", "/inbox/"),
        BAD(404, "GET", "/consistency/?old=1&new=2"),
        BAD(404, "POST", "/payloads/"),
        BAD(404, "POST", "/records/"),
        BAD(404, "GET", "/threads/"),
        BAD(404, "GET", "/lines/"),
        BAD(404, "GET", "/tile/"),
        BAD(404, "GET", "/Health"),
        BAD(404, "GET", "/healthz"),
        BAD(404, "GET", "//health"),
        BAD(404, "GET", "/./health"),
        BAD(404, "GET", "/api/health"),
        BAD(404, "GET", "/records/0123abcd/"),
        BAD(404, "GET", "/records/0123abcd/proof/"),
        BAD(404, "GET", "/records/0123abcd/prooff"),
        BAD(404, "GET", "/records/0123abcd/x/proof"),
        BAD(404, "GET", "/records/0123abcd//proof"),
        BAD(400, "GET", "/threads/0123abcd/"), /* the '/' is a bad id digit */
        BAD(400, "GET", "/payloads/" HASH64 "/"),
        /* Assets: a plain file name, or no such file. */
        BAD(404, "GET", "/assets/"),
        BAD(404, "GET", "/assets"),
        BAD(404, "GET", "/assets/.htaccess"),
        BAD(404, "GET", "/assets/-x"),
        BAD(404, "GET", "/assets/../log-key"),
        BAD(404, "GET", "/assets/a/b.js"),
        BAD(404, "GET", "/assets/A.js"),
        BAD(404, "GET", "/assets/a_b.js"),
        BAD(404, "GET", "/assets/" NAME64 "5"),
        BAD(400, "GET", "/assets/a.js?v=1"),
        NOT_ALLOWED("POST", "/assets/a.js", R_ASSET),
        /* Lines: a valid line name, or no such resource. */
        BAD(404, "GET", "/lines/UNC-KPA"),
        BAD(404, "GET", "/lines/-unc"),
        BAD(404, "GET", "/lines/unc-"),
        BAD(404, "GET", "/lines/unc_kpa"),
        BAD(404, "GET", "/lines/unc/kpa"),
        BAD(404, "GET", "/lines/" NAME64),
        /* Tiles: the one canonical path of c2sp.org/tlog-tiles, or no such tile. */
        BAD(404, "GET", "/tile/0/001/234"),
        BAD(404, "GET", "/tile/0/x001/x234"),
        BAD(404, "GET", "/tile/0/x000/001"),
        BAD(404, "GET", "/tile/0/X001/234"),
        BAD(404, "GET", "/tile/0/01"),
        BAD(404, "GET", "/tile/0/0001"),
        BAD(404, "GET", "/tile/0/00a"),
        BAD(404, "GET", "/tile/00/000"),
        BAD(404, "GET", "/tile/01/000"),
        BAD(404, "GET", "/tile/64/000"),
        BAD(404, "GET", "/tile/-1/000"),
        BAD(404, "GET", "/tile/0"),
        BAD(404, "GET", "/tile/0/"),
        BAD(404, "GET", "/tile/0/000/"),
        BAD(404, "GET", "/tile/0/000.p/0"),
        BAD(404, "GET", "/tile/0/000.p/256"),
        BAD(404, "GET", "/tile/0/000.p/017"),
        BAD(404, "GET", "/tile/0/000.p/"),
        BAD(404, "GET", "/tile/0/000.p/8/"),
        BAD(404, "GET", "/tile/0/000.q/8"),
        BAD(404, "GET", "/tile/entries/x001"),
        BAD(404, "GET", "/tile/entries/000.p/0"),
        BAD(404, "GET", "/tile/entries/"),
        BAD(404, "GET", "/tile/1/entries/000"),
        BAD(404, "GET", "/tile/0/x999/x999/x999/x999/x999/x999/999"), /* beyond the log */
        /* Record ids: 8 to 64 hex digits. */
        BAD(400, "GET", "/records/0123abc"),
        BAD(400, "GET", "/records/" ID65),
        BAD(400, "GET", "/records/0123abcg"),
        BAD(400, "GET", "/records/0x123abcd"),
        BAD(400, "GET", "/records/0123abcd-"),
        BAD(400, "GET", "/records/0123abc/proof"),
        BAD(400, "GET", "/records/" ID65 "/proof"),
        BAD(400, "GET", "/records//proof"),
        BAD(400, "GET", "/threads/0123abc"),
        BAD(400, "GET", "/threads/" ID65),
        BAD(400, "GET", "/threads/ghijklmn"),
        /* Payload hashes: exactly 64 hex digits. */
        BAD(400, "GET", "/payloads/" ID64 "0"),
        BAD(400, "GET",
            "/payloads/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"),
        BAD(400, "GET", "/payloads/0123abcd"),
        BAD(400, "GET",
            "/payloads/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"),
        /* Queries: known keys of the route, each once, decimal at most 2^63-1. */
        BAD(400, "GET", "/statements?after"),
        BAD(400, "GET", "/statements?after="),
        BAD(400, "GET", "/statements?after=01"),
        BAD(400, "GET", "/statements?after=00"),
        BAD(400, "GET", "/statements?after=+1"),
        BAD(400, "GET", "/statements?after=-1"),
        BAD(400, "GET", "/statements?after=1x"),
        BAD(400, "GET", "/statements?after=0x10"),
        BAD(400, "GET", "/statements?after=1&"),
        BAD(400, "GET", "/statements?&after=1"),
        BAD(400, "GET", "/statements?after=1&&"),
        BAD(400, "GET", "/statements?after=1&after=2"),
        BAD(400, "GET", "/statements?after=1&after=1"),
        BAD(400, "GET", "/statements?wait=1"),
        BAD(400, "GET", "/statements?foo=1"),
        BAD(400, "GET", "/statements?AFTER=1"),
        BAD(400, "GET", "/statements?afte=1"),
        BAD(400, "GET", "/statements?afterr=1"),
        BAD(400, "GET", "/statements?after=9223372036854775808"),
        BAD(400, "GET", "/statements?after=18446744073709551615"),
        BAD(400, "GET", "/statements?after=18446744073709551616"),
        BAD(400, "GET", "/statements?after=99999999999999999999999"),
        BAD(400, "GET", "/statements?after=1?after=2"),
        BAD(400, "GET", "/statements?after=1;wait=2"),
        BAD(400, "GET", "/statements?after==1"),
        BAD(400, "GET", "/statements?=1"),
        BAD(400, "GET", "/statements??"),
        BAD(400, "GET", "/inbox?after=1&wait=1&after=2"),
        BAD(400, "GET", "/inbox?size=1"),
        BAD(400, "GET", "/inbox?wait=9223372036854775808"),
        BAD(400, "GET", "/records/0123abcd?size=1"),
        BAD(400, "GET", "/records/0123abcd/proof?after=1"),
        BAD(400, "GET", "/records/0123abcd/proof?size="),
        BAD(400, "GET", "/consistency?old=1&new=2&old=3"),
        BAD(400, "GET", "/consistency?old=1&new="),
        BAD(400, "GET", "/consistency?old=1&new=2&"),
        BAD(400, "GET", "/lines/unc-kpa?wait=5"),
        BAD(400, "GET", "/lines/unc-kpa?since=01"),
        BAD(400, "GET", "/threads/0123abcd?after=1"),
        /* The index's key: a whole record id, as records write it; only size in its query. */
        BAD(404, "GET", "/index/"),
        BAD(400, "GET", "/index/0123abcd"),
        BAD(400, "GET", "/index/" ID65),
        BAD(400, "GET", "/index/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"),
        BAD(400, "GET", "/index/" ID64 "/"),
        BAD(400, "GET", "/index/" ID64 "/proof"),
        BAD(400, "GET", "/index/g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        BAD(400, "GET", "/index/" ID64 "?after=1"),
        BAD(400, "GET", "/index/" ID64 "?size=01"),
        BAD(400, "GET", "/index/" ID64 "?size=-1"),
        BAD(400, "GET", "/index/" ID64 "?size=9223372036854775808"),
        BAD(400, "GET", "/index/" ID64 "?size=1&size=2"),
        BAD(400, "GET", "/index?after=1"),
        BAD(400, "GET", "/index?size=x"),
        BAD(404, "GET", "/indexes/" ID64),
        BAD(400, "GET", "/health?x=1"),
        BAD(400, "GET", "/health?x"),
        BAD(400, "GET", "/parties?after=1"),
        BAD(400, "GET", "/checkpoint?size=1"),
        BAD(400, "GET", "/tile/0/000?after=1"),
        /* The explorer's: names and dates exactly, each once, only where they filter. */
        NOT_ALLOWED("POST", "/", R_EXPLORER),
        NOT_ALLOWED("POST", "/statement/0123abcd", R_EXPLORER_STMT),
        NOT_ALLOWED("POST", "/metrics", R_METRICS),
        BAD(400, "GET", "/?party=Unc"),
        BAD(400, "GET", "/?party=-unc"),
        BAD(400, "GET", "/?party=" NAME64),
        BAD(400, "GET", "/?party=a&party="),
        BAD(400, "GET", "/?party=a&party=b"),
        BAD(400, "GET", "/?from=2023-4-07"),
        BAD(400, "GET", "/lines?from=2023-13-01"),
        BAD(400, "GET", "/lines?party=kpa"),
        BAD(400, "GET", "/?from=2023-02-30"),
        BAD(400, "GET", "/?from=2023-04-07T00:00:00Z"),
        BAD(400, "GET", "/?to=20230407"),
        BAD(400, "GET", "/?before=01"),
        BAD(400, "GET", "/?after=1"),
        BAD(400, "GET", "/?party=a+b"),
        BAD(400, "GET", "/directory?party=a"),
        BAD(400, "GET", "/statements?party=a"),
        BAD(400, "GET", "/statements.atom?before=1"),
        BAD(400, "GET", "/statement/0123abc"),
        BAD(400, "GET", "/statement/" ID65),
        BAD(400, "GET", "/statement/0123abcd?size=1"),
        BAD(400, "GET", "/record/xyz12345"),
        BAD(400, "GET", "/proof/0123abcd?after=1"),
        BAD(404, "GET", "/statement/"),
        BAD(404, "GET", "/proof/"),
        BAD(404, "GET", "/statements.atom/"),
        BAD(404, "GET", "/index.html"),
        BAD(404, "GET", "//"),
};

static void test_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len ? c->len : strlen(c->target);
		struct pl_parleyd_target t;
		unsigned st = pl_parleyd_target_parse(&t, c->method, c->target, len);

		if (st != c->status)
			fail_msg("row %zu: %s %.*s: %u, not %u", i + 1, c->method, (int)len,
			         c->target, st, c->status);
		if (st == 405 && t.route != c->route)
			fail_msg("row %zu: %s %s: route %d on 405, not %d", i + 1, c->method,
			         c->target, (int)t.route, (int)c->route);
	}
}

/* The length is the target's extent: bytes beyond it are never read, none before it skipped. */
static void test_length(void **state)
{
	static const char buf[] = "/inbox?after=12&wait=30GARBAGE";
	struct pl_parleyd_target t;

	(void)state;
	assert_int_equal(pl_parleyd_target_parse(&t, "GET", buf, 23), 0);
	assert_int_equal(t.q.has, Q_AFTER | Q_WAIT);
	assert_true(t.q.wait == 30);
	assert_int_equal(pl_parleyd_target_parse(&t, "GET", buf, 22), 0);
	assert_true(t.q.wait == 3);
	assert_int_equal(pl_parleyd_target_parse(&t, "GET", buf, 16), 400); /* "...=12&" */
	assert_int_equal(pl_parleyd_target_parse(&t, "GET", buf, 6), 0);    /* "/inbox" */
	assert_int_equal(t.q.has, 0);
	assert_int_equal(pl_parleyd_target_parse(&t, "GET", buf, 0), 400);
}

/* A parse leaves nothing of the one before it. */
static void test_cleared(void **state)
{
	struct pl_parleyd_target t;
	static const char a[] = "/records/0123abcd/proof?size=5", b[] = "/lines/l1?after=2";

	(void)state;
	assert_int_equal(pl_parleyd_target_parse(&t, "GET", a, strlen(a)), 0);
	assert_int_equal(pl_parleyd_target_parse(&t, "GET", b, strlen(b)), 0);
	assert_int_equal(t.id_len, 0);
	assert_string_equal(t.id, "");
	assert_int_equal(t.q.has, Q_AFTER);
	assert_true(t.q.size == 0 && t.q.after == 2);
	assert_int_equal(pl_parleyd_target_parse(&t, "GET", "/health", 7), 0);
	assert_string_equal(t.line, "");
	assert_int_equal(t.q.has, 0);
	assert_true(t.q.after == 0);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_endpoints), cmocka_unit_test(test_doc_endpoints),
             cmocka_unit_test(test_refused), cmocka_unit_test(test_length),
             cmocka_unit_test(test_cleared))
