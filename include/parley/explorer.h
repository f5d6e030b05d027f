/* The public explorer: server-rendered HTML pages and the Atom feed of what anyone may read. */
#ifndef PARLEY_EXPLORER_H
#define PARLEY_EXPLORER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/error.h>
#include <parley/exchange.h>
#include <parley/limits.h>
#include <parley/witness.h>

#define PL_EXPLORER_PAGE      20         /* statements on one page */
#define PL_EXPLORER_SCAN_MAX  1000       /* statements one filtered page looks at, at most */
#define PL_EXPLORER_FEED_MAX  50         /* entries of the Atom feed */
#define PL_EXPLORER_BYTES_MAX (4u << 20) /* bytes of one page or feed */
/* Earlier registers of a returned party a statement page looks back through. */
#define PL_EXPLORER_REGISTERS_MAX 16
#define PL_EXPLORER_LINE_DAYS     30  /* the period a public line's availability covers */
#define PL_EXPLORER_LINES_MAX     32  /* lines an exchange may publish */
#define PL_EXPLORER_CSP_MAX       512 /* bytes of the Content-Security-Policy value */

/*
 * Which statements a page lists: log index below `before` (0: from the
 * newest), by `party` (empty: anyone), with a claimed time in [from, to)
 * (each only when its has_ flag is set).
 */
struct pl_explorer_filter {
	uint64_t before;
	char party[PL_RECORD_NAME_MAX + 1];
	bool has_from, has_to;
	int64_t from, to;
};

/*
 * What the pages show beside the log: the witnesses the exchange asks to
 * cosign (their keys are shown, so that a reader compares them out of band),
 * the lines its operator made public (parleyd.conf `public_lines`), and the
 * time now (Unix seconds) from which a line's period is counted back.
 */
struct pl_explorer_site {
	const struct pl_witness_peer *witnesses;
	size_t nwitnesses;
	const char (*lines)[PL_RECORD_NAME_MAX + 1];
	size_t nlines;
	int64_t now;
};

/*
 * Each function below appends one whole page to out: an HTML5 document in
 * English with landmarks, headings, table headers and a viewport, its one
 * style sheet inlined, no script but the statement page's (see docs/api.md,
 * "The explorer") and no external resource; every string from the log
 * escaped by pl_html_escape(). They read as anyone does (a NULL reader of
 * include/parley/exchange.h): a record that is not public is never shown,
 * and one cited by a statement reads as "not public", exactly as a record
 * that does not exist. On error out is unchanged. Thread-safe.
 */

/* `GET /`: the statements and measures f selects, newest first, a page at a time. */
int pl_explorer_statements(struct pl_exchange *ex, const struct pl_explorer_site *site,
                           const struct pl_explorer_filter *f, struct pl_buf *out) PL_WUR;

/*
 * `GET /statement/<id>`: one public statement (id text as for
 * pl_exchange_record()), what it cites, and the section the in-browser
 * verifier fills in. PL_ENOTFOUND when no public statement has that id.
 */
int pl_explorer_statement(struct pl_exchange *ex, const struct pl_explorer_site *site,
                          const char *id, size_t len, struct pl_buf *out) PL_WUR;

/* `GET /directory`: every party, its keys, when it was registered and revoked. */
int pl_explorer_directory(struct pl_exchange *ex, const struct pl_explorer_site *site,
                          struct pl_buf *out) PL_WUR;

/* `GET /log`: the newest checkpoint, the log key, and which witness cosigned it when. */
int pl_explorer_log(struct pl_exchange *ex, const struct pl_explorer_site *site,
                    struct pl_buf *out) PL_WUR;

/*
 * `GET /lines[?from=D][&to=D]`: the availability of each public line over the checks made
 * at or after since and before until; since 0 means the last PL_EXPLORER_LINE_DAYS, until
 * 0 means now.
 */
int pl_explorer_lines(struct pl_exchange *ex, const struct pl_explorer_site *site, int64_t since,
                      int64_t until, struct pl_buf *out) PL_WUR;

/*
 * `GET /statements.atom`: the newest PL_EXPLORER_FEED_MAX public statements
 * as an RFC 4287 feed; ids are urn:uuid URIs derived from the record ids
 * (RFC 9562 version 8), links relative to the explorer's root.
 */
int pl_explorer_feed(struct pl_exchange *ex, const struct pl_explorer_site *site,
                     struct pl_buf *out) PL_WUR;

/*
 * Appends the Content-Security-Policy every explorer page is served with:
 * nothing from anywhere but the page's own style sheet (by its hash) and, for
 * the in-browser verifier, scripts, WebAssembly and fetches from the same
 * origin. Returns 0 or a pl_buf error.
 */
int pl_explorer_csp(struct pl_buf *out) PL_WUR;

#endif
