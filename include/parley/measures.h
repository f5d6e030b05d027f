/* Measures: unilateral public steps, their lifecycle, and which answers which in kind. */
#ifndef PARLEY_MEASURES_H
#define PARLEY_MEASURES_H

#include <stddef.h>
#include <stdint.h>

#include <parley/coordination.h>
#include <parley/error.h>
#include <parley/record.h>
#include <parley/session.h>

/*
 * One measure: its announcement (a statement of class measure that changes
 * none) and the changes of its state that follow it, each by its author and
 * naming the one before (`ref changes`), as the rules require. Positions are indexes into the
 * records given.
 */
struct pl_measure {
	size_t announced;            /* the announcement */
	size_t last;                 /* the record of its latest state (the announcement if none) */
	enum pl_measure_state state; /* as of last */
	size_t nchanges;             /* how many changes followed the announcement */
	size_t reciprocates;         /* the announcement of the measure it answers, or SIZE_MAX */
};

/*
 * Builds the measures of recs[0..n) (verified statements and any other
 * records, in log order; records that are no measure are skipped): one per
 * announcement, its state moved on by each change that names its latest
 * state, and the measure each reciprocates (`ref reciprocates` on the
 * announcement or any change of it, naming any record of another measure).
 * A change or reciprocation naming a record not among recs is left out.
 * On success *out is a malloc'd array of *nout measures in the order of
 * their announcements (free()); PL_ENOMEM otherwise. Pure; thread-safe.
 */
int pl_measures_build(const struct pl_coordination_record *recs, size_t n, struct pl_measure **out,
                      size_t *nout) PL_WUR;

/* Every public measure, fetched and verified, and the measures they make. */
struct pl_measures_report {
	struct pl_session_record *recs; /* the statements of class measure, in log order */
	size_t nrecs;
	struct pl_measure *v; /* the measures (positions index recs) */
	size_t n;
	uint64_t size; /* the tree size of a checkpoint covering every record */
};

/*
 * Fetches every public statement (GET /statements, page after page) up to
 * time until, verifies each, and builds the measures of the period: those
 * announced by until that had not ended before since. Fails as every
 * pl_session_* call does; release r in any case.
 */
int pl_measures_load(struct pl_session *s, int64_t since, int64_t until,
                     struct pl_measures_report *r) PL_WUR;

/* Frees what r holds; safe on a zeroed one. */
void pl_measures_report_release(struct pl_measures_report *r);

#endif
