/* The offline check of the evidence files a member keeps against its exchange. */
#ifndef PARLEY_EVIDENCE_H
#define PARLEY_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>

#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>

/*
 * A member that catches its exchange in a lie keeps the evidence in a file:
 * two histories (docs/split-view.md) or a thread index that omits or invents
 * one of its records (docs/index.md §7.1). Every part of such a file is
 * signed by the exchange's log key or verifies against what is, so anyone
 * holding that key checks it with nothing else: this is that check.
 */

/* Which evidence a file holds, from its first line. */
enum pl_evidence_kind {
	PL_EVIDENCE_SPLIT_VIEW = 1, /* parley/split-view/v1 */
	PL_EVIDENCE_INDEX_LIE = 2,  /* parley/index-lie/v1 */
};

/* What the file, checked, shows. */
enum pl_evidence_verdict {
	/* The file alone proves that the exchange lied: two roots signed for one
	 * size, or a signed index that leaves out (or replaces) a record the log
	 * holds. */
	PL_EVIDENCE_PROVEN = 0,
	/* The exchange signed both checkpoints of different sizes and failed to
	 * prove one history; the file cannot settle it alone: a consistency
	 * proof between the two sizes from any copy of the log does (none can
	 * verify if they are two histories). */
	PL_EVIDENCE_UNSETTLED = 1,
	/* The parts verify but show no lie, or a part does not verify. */
	PL_EVIDENCE_NOT_PROVEN = 2,
};

#define PL_EVIDENCE_WHY_MAX 512

/* The outcome of a check. Strings are NUL-terminated copies. */
struct pl_evidence {
	enum pl_evidence_kind kind;
	enum pl_evidence_verdict verdict;
	char exchange[PL_PROFILE_URL_MAX + 1]; /* as the file names it */
	char reason[128];                      /* the file's reason line */
	int64_t detected;                      /* when the member found it, Unix seconds */
	bool key_pinned; /* checked against the caller's log key, not the file's own */
	char why[PL_EVIDENCE_WHY_MAX]; /* one line: what the file proves, or why it does not */
};

/*
 * Checks the evidence file text[0..len) (at most PL_EVIDENCE_MAX_BYTES) with
 * the log key log_key, or, when log_key is NULL, with the key the file names
 * (then out->key_pinned is false: the file could have been made by anyone
 * with a key of their own, and the reader must compare that key with the
 * exchange's published one). The checkpoints' origin is the key's name.
 *
 * Returns 0 with *out set (its verdict says what the file shows, its why in
 * words); PL_EMALFORMED when the file is not one of the two formats, version
 * 1 (out->why says where it stops, when out is not NULL); PL_ETOOBIG;
 * PL_EINVAL; PL_ENOMEM. Reads only its arguments; thread-safe.
 */
int pl_evidence_check(struct pl_evidence *out, const char *text, size_t len,
                      const struct pl_vkey *log_key) PL_WUR;

/* "two histories" or "index lie" (static). */
const char *pl_evidence_kind_name(enum pl_evidence_kind k);

#endif
