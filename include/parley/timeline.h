/* A message's timeline: which record each one acts on, what each did, and where the message stands.
 */
#ifndef PARLEY_TIMELINE_H
#define PARLEY_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/error.h>
#include <parley/limits.h>
#include <parley/record.h>

/* Bytes of one event's sentence, and of a list of names ("a, b and c"). */
#define PL_TIMELINE_WHAT_MAX 1536
#define PL_TIMELINE_LIST_MAX 1100 /* 16 names of 63 bytes and their separators */

/* One verified record of the thread. */
struct pl_timeline_item {
	const struct pl_record *rec; /* the caller's; kept while the timeline is used */
	uint8_t id[PL_RECORD_ID_BYTES];
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	/* Set by pl_timeline_link(): */
	const struct pl_timeline_item *target; /* the thread record it acts on, answers or
	                                          cites; NULL for the subject and the others */
	/* Set by pl_timeline_describe(): */
	char what[PL_TIMELINE_WHAT_MAX]; /* what it did, as a person reads it */
};

/*
 * The records of one thread, in log order, and its subject (a send, a
 * consult or a statement). The caller owns v and the records; nothing in
 * the struct is allocated by these functions.
 */
struct pl_timeline {
	struct pl_timeline_item *v;
	size_t n;
	const struct pl_timeline_item *subject;
	int64_t now; /* the clock, for deadlines passed */
	/* A statement subject: what it cites, in words ("the proposal 1a2b3c4d and ..."). */
	char cited[PL_TIMELINE_LIST_MAX];
};

/*
 * Finds the subject (id subject) among t->v and sets each item's target:
 * the first record of the thread it refers to, by role (subject, consult,
 * check, reply-to, cites). Returns 0, or PL_ENOTFOUND when the thread does
 * not hold the subject (the exchange's answer does not hold).
 */
int pl_timeline_link(struct pl_timeline *t,
                     const uint8_t subject[static PL_RECORD_ID_BYTES]) PL_WUR;

/*
 * How the timeline names x in out[0..n): "it" for the subject (or x NULL),
 * else "the reply 1a2b3c4d", "the proposal 1a2b3c4d", "the statement ...".
 */
void pl_timeline_name(char *out, size_t n, const struct pl_timeline *t,
                      const struct pl_timeline_item *x);

/*
 * Appends the name of a cited record (k-th of ncites) to t->cited: "a",
 * "a and b", "a, b and c". Quietly stops at the buffer's end.
 */
void pl_timeline_cite(struct pl_timeline *t, const char *name, size_t k, size_t ncites);

/* Fills each item's what (pl_record_describe() in the thread's voice), after linking. */
void pl_timeline_describe(struct pl_timeline *t);

/*
 * Appends to out the one status line of a linked timeline: where the
 * subject stands ("conveyed by unc; accepted by kpa; no public statement
 * cites it"). Returns 0 or a pl_buf error.
 */
int pl_timeline_status(const struct pl_timeline *t, struct pl_buf *out) PL_WUR;

#endif
