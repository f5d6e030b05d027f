/* The availability report of a direct line, as a member verifies it: every check, answer and
 * unanswered record of the line checked, proven included, judged and counted. */
#ifndef PARLEY_LINE_REPORT_H
#define PARLEY_LINE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/line.h>
#include <parley/session.h>

/* Pages of GET /lines/<name> one report reads at most. */
#define PL_LINE_REPORT_PAGES_MAX 100000
/* Checks one report holds at most (a summary each). */
#define PL_LINE_REPORT_CHECKS_MAX 1000000

/* What the report keeps of one judged check, or of one `missed` (docs/records.md §7). */
struct pl_line_report_check {
	uint64_t index;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	bool missed;            /* a missed: time is when it fell due, no deadline, no outcome */
	int64_t time, deadline; /* the check's; a missed's due time and 0 */
	char ends[2][PL_RECORD_NAME_MAX + 1];
	enum pl_line_outcome out[2]; /* PL_LINE_PENDING for a missed */
};

/* A report: set line and since, load it, read the rest, release it. */
struct pl_line_report {
	const char *line; /* the line's name */
	int64_t since;    /* count the checks made at or after this time (0: all) */
	int64_t until;    /* ... and before this time (0: up to the checkpoint) */
	struct pl_line_tally tally;
	struct pl_line_report_check *v; /* the checks counted, in log order */
	size_t n, cap;
	char *cp; /* the last checkpoint note checked */
	size_t cp_len;
	uint64_t size; /* the tree size the report is verified as of */
};

/*
 * Reads every page of the line from the exchange (GET /lines/<name>): each
 * record verified against the directory (pl_session_verify_entry()), its
 * inclusion proof checked under a checkpoint consistent with the pinned one
 * (each distinct checkpoint once), the answers and unanswered grouped under
 * their check and judged (pl_line_judge()), the checks and the `missed`
 * records in [r->since, r->until) counted. With no record, the report is as of the exchange's
 * checkpoint. Fails as every pl_session_* call does; release r in any case.
 */
int pl_line_report_load(struct pl_session *s, struct pl_line_report *r) PL_WUR;

struct pl_dossier_report;

/*
 * The offline line report: counts the line's checks in [r->since, r->until)
 * from d, a dossier of one of its checks that pl_dossier_verify() accepted
 * (version 2). Its thread holds every later check and missed of the line up
 * to the checkpoint, each naming the one before it (`ref previous`), with
 * what answered each, and the thread index proves that nothing else refers
 * to any of them: so no check of the period is missing when the dossier's
 * check was made at or before r->since (or is the first of its line's chain;
 * *from_first is then set when the period begins at or before it: checks
 * logged before the chain began carry no `previous` and are not counted) and,
 * when r->until is set, one check or
 * missed of the chain is at or after it. r->line, when set, must be the
 * check's line; it is set to it (pointing into d, which must outlive r's
 * use); r->since 0 is set to the check's time. Fills r's tally, checks and
 * size as pl_line_report_load() does.
 * Returns 0; PL_EINVAL (arguments, not a version 2 dossier of a check);
 * PL_EPROOF (a check of another line, a broken chain, the period not
 * covered); PL_ERULE (a fork of the chain, answers that break the rules);
 * PL_ETOOBIG, PL_ENOMEM; with one reason appended to why (when not NULL).
 * Release r in any case.
 */
int pl_line_report_from_dossier(struct pl_line_report *r, const struct pl_dossier_report *d,
                                bool *from_first, struct pl_buf *why) PL_WUR;

/* Frees what r holds; safe on a zeroed one. */
void pl_line_report_release(struct pl_line_report *r);

#endif
