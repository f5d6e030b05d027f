/* Coordination among allies: whether a member's signal to a group's counterpart was coordinated. */
#ifndef PARLEY_COORDINATION_H
#define PARLEY_COORDINATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/error.h>
#include <parley/record.h>

/* The verdict on one act (a send, or a measure) of a group member (docs/records.md §7.1). */
enum pl_coordination_verdict {
	PL_COORDINATION_NONE = 0,      /* not the group's business: see pl_coordination_judge() */
	PL_COORDINATION_COORDINATED,   /* every other member consulted in the window, no objection */
	PL_COORDINATION_UNCOORDINATED, /* some other member not consulted in the window */
	PL_COORDINATION_OBJECTED,      /* consulted, a member objected, and it went out anyway */
};

/* One record of the evidence, with its id. */
struct pl_coordination_record {
	const struct pl_record *rec;
	const uint8_t *id; /* PL_RECORD_ID_BYTES */
};

/*
 * What the judgement reads, all records the caller verified and holds in log
 * order: the group's versions (its first record and every change, each
 * referring to the one before), every consult made in the group (`ref group`
 * to one of its versions) and any other consult the act names, and every
 * advise answering those consults. The judgement is only as complete as
 * these lists: "not consulted" is a claim of absence, which the caller
 * backs with the thread index (every record referring to a version, or to
 * a consult, up to a checkpoint: docs/index.md).
 */
struct pl_coordination_input {
	struct pl_coordination_record act;
	const struct pl_coordination_record *versions;
	size_t nversions;
	const struct pl_coordination_record *consults;
	size_t nconsults;
	const struct pl_coordination_record *advises;
	size_t nadvises;
};

/* The verdict and the records it rests on (indexes into the input's lists). */
struct pl_coordination_result {
	enum pl_coordination_verdict verdict;
	size_t version;     /* the version in force at the act's time */
	char counterpart[PL_RECORD_NAME_MAX + 1]; /* the first counterpart the act addresses */
	size_t nconsults;   /* the consults that stand for the act (the first 16) */
	size_t consults[PL_RECORD_MAX_TO];
	size_t objection;   /* an objecting advise before the act (as OBJECTED needs), or SIZE_MAX */
	size_t nmissing;    /* the other members no such consult named */
	char missing[PL_RECORD_MAX_TO][PL_RECORD_NAME_MAX + 1];
};

/*
 * The one judgement of coordination, used by `parley thread`, `parley
 * coordination` and the dossier verifier alike. The act is a send or a
 * statement of class measure. It is the group's business when, in the
 * version in force at its time (the last of versions whose time is not
 * after the act's), its author is a member and it addresses a counterpart:
 * a send with a counterpart among its recipients or as its intermediary; a
 * measure always (a measure speaks to every counterpart). Otherwise the
 * verdict is NONE.
 *
 * The consults that stand for the act: the one it names (`ref consult`),
 * if it names one; else every consult of the group by its author. Of
 * those, only the ones whose time is within the group's window (`window`
 * days) before the act, and not after it, count. The act is UNCOORDINATED
 * when some other member of the version is named by none of them;
 * OBJECTED when all were, and a member advised `object` on one of them
 * before the act (its time not after the act's); COORDINATED otherwise.
 *
 * Returns 0 with *out set (its consults list the first PL_RECORD_MAX_TO
 * that count), or PL_EINVAL (no act, no versions, or a list pointer
 * missing). Pure; thread-safe.
 */
int pl_coordination_judge(const struct pl_coordination_input *in,
                          struct pl_coordination_result *out) PL_WUR;

/* "coordinated", "uncoordinated", "against objection", or "" for NONE. */
const char *pl_coordination_verdict_name(enum pl_coordination_verdict v);

/*
 * True when r is a record of the group whose versions are listed: a
 * version itself, or a consult made in it (`ref group` to one of them).
 */
bool pl_coordination_in_group(const struct pl_record *r,
                              const struct pl_coordination_record *versions, size_t nversions);

#endif
