/* A log audit: recompute the tree and the thread index from every entry, re-check every rule. */
#ifndef PARLEY_AUDIT_H
#define PARLEY_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/checkpoint.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/record.h>

#define PL_AUDIT_REASON_MAX 256

/*
 * Where the audit reads the log: the exchange (parley log audit) or memory
 * (tests). Each fetch appends to out and returns 0 or a negative PL_E...
 * code, which stops the audit and is returned as is. width is 0 for a full
 * tile or bundle, else the partial width. progress (may be NULL) is told
 * how many records were audited; last is true once, at the end.
 */
struct pl_audit_source {
	void *ctx;
	int (*bundle)(void *ctx, uint64_t n, unsigned width, struct pl_buf *out);
	int (*tile)(void *ctx, unsigned level, uint64_t n, unsigned width, struct pl_buf *out);
	void (*progress)(void *ctx, uint64_t done, bool last);
};

/* What the audit found: the counts and the first failure. Plain data. */
struct pl_audit_result {
	uint64_t records, bundles, tiles;
	uint64_t indexes; /* `index` records whose root was recomputed and compared */
	uint64_t by_kind[PL_KIND_COUNT + 1];
	uint64_t failures;
	bool has_first;
	bool first_is_record; /* else the failure is about the tree, a tile or a bundle */
	uint64_t first_index; /* of a record failure */
	uint8_t first_id[PL_RECORD_ID_BYTES];
	char first_reason[PL_AUDIT_REASON_MAX];
	/* When the audit could not finish and the source did not fail: why, for people. */
	char error[PL_AUDIT_REASON_MAX];
};

/*
 * Audits the log of the verified checkpoint cp (the caller checked its
 * signature and consistency) read from src: every entry bundle and its
 * level-0 hash tile, which must agree; the tree recomputed from the entries
 * against every higher hash tile and cp's root; every record opened in log
 * order against the directory the log's own register and revoke records
 * build (first key log_key), and judged by the rules the exchange enforces
 * (pl_replay_log_judge()); the thread index recomputed from every record's
 * references (docs/index.md §8) against the root of every `index` record,
 * the first difference counted at that record (later roots, which differ
 * for the same reason, are not compared); and, once the log holds an `index`
 * record, cp's last entry must be one. Memory: the in-memory index grows
 * with the keys (about 300 bytes each), the pending references stay under
 * PL_TINDEX_MAX_BATCH. Fills *res (zeroed first). Returns 0 when the
 * audit ran to its end (res->failures then says whether the log holds; a
 * malformed bundle ends it early, counted as a failure), the source's code
 * when a fetch failed (res->error empty), or another PL_E... code with
 * res->error set. Calls src from this thread, during this call only.
 */
int pl_audit_run(const struct pl_checkpoint *cp, const struct pl_vkey *log_key,
                 const struct pl_audit_source *src, struct pl_audit_result *res) PL_WUR;

#endif
