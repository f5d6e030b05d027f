/* Coordination among allies: whether a member's signal to a group's counterpart was coordinated. */
#ifndef PARLEY_COORDINATION_H
#define PARLEY_COORDINATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/error.h>
#include <parley/limits.h>
#include <parley/record.h>
#include <parley/session.h>

/* The verdict on one act (a send, or a measure) of a group member (docs/records.md §7.1). */
enum pl_coordination_verdict {
	PL_COORDINATION_NONE = 0,    /* not the group's business: see pl_coordination_judge() */
	PL_COORDINATION_COORDINATED, /* every other member consulted in the window, no objection */
	PL_COORDINATION_UNCOORDINATED, /* some other member not consulted in the window */
	PL_COORDINATION_OBJECTED,      /* consulted, a member objected, and it went out anyway */
};

/* One record of the evidence, with its id and its place in the log. */
struct pl_coordination_record {
	const struct pl_record *rec;
	const uint8_t *id; /* PL_RECORD_ID_BYTES */
	uint64_t index;    /* its log index: what was logged before the act counts */
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
	size_t version;                           /* the version in force at the act's time */
	char counterpart[PL_RECORD_NAME_MAX + 1]; /* the first counterpart the act addresses */
	size_t nconsults; /* the consults that stand for the act (the first 16) */
	size_t consults[PL_RECORD_MAX_TO];
	size_t objection; /* an objecting advise before the act (as OBJECTED needs), or SIZE_MAX */
	size_t nmissing;  /* the other members no such consult named */
	char missing[PL_RECORD_MAX_TO][PL_RECORD_NAME_MAX + 1];
};

/*
 * The one judgement of coordination, used by `parley thread`, `parley
 * coordination` and the dossier verifier alike. The act is a send or a
 * statement of class measure. It is the group's business when, in the
 * version in force at its time (the last of versions logged before it,
 * with a time not after its own), its author is a member and it addresses a counterpart:
 * a send with a counterpart among its recipients or as its intermediary; a
 * measure always (a measure speaks to every counterpart). Otherwise the
 * verdict is NONE.
 *
 * The consults that stand for the act: the one it names (`ref consult`),
 * if it names one; else every consult of the group by its author. Of
 * those, only the ones logged before the act, with a time within the
 * group's window (`window` days) before the act's, count. The act is
 * UNCOORDINATED when some other member of the version is named by none of
 * them; OBJECTED when all were, and a member advised `object` on one of
 * them before the act (logged before it, its time not after the act's);
 * COORDINATED otherwise.
 *
 * Returns 0 with *out set (its consults list the first PL_RECORD_MAX_TO
 * that count), or PL_EINVAL (no act, no versions, or a list pointer
 * missing). Pure; thread-safe.
 */
int pl_coordination_judge(const struct pl_coordination_input *in,
                          struct pl_coordination_result *out) PL_WUR;

/*
 * Writes to out[0..n) (n > 0, NUL-terminated, cut at n bytes) the verdict in
 * words with the records it rests on, for a person reading a timeline:
 * "uncoordinated with rok-mnd and rok-mou in group allies-rok-us: not consulted
 * in the 7 days before it", "against objection in group ...: rok-mnd objected
 * (advise 1a2b3c4d) to consult 5e6f7a8b", "coordinated in group ...: consult
 * 5e6f7a8b named every other member, none objected". res is what
 * pl_coordination_judge() made of in. The one wording of the verdict:
 * `parley thread`, `parley coordination` and dossier reports use it.
 */
void pl_coordination_explain(char *out, size_t n, const struct pl_coordination_input *in,
                             const struct pl_coordination_result *res);

/* "coordinated", "uncoordinated", "against objection", or "" for NONE. */
const char *pl_coordination_verdict_name(enum pl_coordination_verdict v);

/*
 * True when r is a record of the group whose versions are listed: a
 * version itself, or a consult made in it (`ref group` to one of them).
 */
bool pl_coordination_in_group(const struct pl_record *r,
                              const struct pl_coordination_record *versions, size_t nversions);

/* ---- A group as a member reads it (src/lib/coordination_view.c) ---- */

/*
 * A coordination group as this party reads it: the records of its thread
 * (GET /threads/<its first readable version>), each verified, sorted into
 * the judgement's lists (in log order), plus the acts found there (sends
 * and statements that follow a consult). The lists point into recs.
 */
struct pl_coordination_group {
	struct pl_session_record *recs;
	size_t nrecs;
	struct pl_coordination_record *versions, *consults, *advises, *acts;
	size_t nversions, nconsults, nadvises, nacts;
	uint64_t size;    /* the tree size of a checkpoint that covers every record */
	uint64_t indexed; /* the checkpoint whose thread index proved the thread complete, or 0 */
};

/*
 * Loads the group of which arg (an id or a unique prefix) names a version:
 * walks its `ref group` lines back to the first version this party may read,
 * fetches that version's thread and a checkpoint covering it, and verifies
 * every record. Then proves the thread complete as far as this party may
 * read, up to the checkpoint of tree size g->indexed taken before the
 * thread: the thread index proof of each version (docs/index.md), under the
 * `index` record that ends that checkpoint (proven in the log), lists every
 * record that refers to it; each listed one the thread lacks must be one the
 * exchange refuses to show this party (so not a consultation by or to it).
 * g->indexed stays 0 when the exchange keeps no thread index. Fails as every
 * pl_session_* call does (PL_EINVAL when arg names no group record;
 * PL_ENOTFOUND blamed on the evidence when the thread omits a record this
 * party may read); release g in any case.
 */
int pl_coordination_group_load(struct pl_session *s, const char *arg,
                               struct pl_coordination_group *g) PL_WUR;

/* Frees what g holds; safe on a zeroed one. */
void pl_coordination_group_release(struct pl_coordination_group *g);

/*
 * Loads, as pl_coordination_group_load() does, the group of the consult
 * that act names (`ref consult`) when that consult was made in a group and
 * this party may read it. Returns 0 with g loaded, PL_ENOTFOUND (act names
 * no such consult, or one this party may not read; the session is left
 * without an error), or fails as every pl_session_* call does.
 */
int pl_coordination_group_of(struct pl_session *s, const struct pl_record *act,
                             struct pl_coordination_group *g) PL_WUR;

/* pl_coordination_judge() of the verified record act against what g holds. */
int pl_coordination_group_judge(const struct pl_coordination_group *g,
                                const struct pl_session_record *act,
                                struct pl_coordination_result *out) PL_WUR;

/* pl_coordination_explain() of a result of pl_coordination_group_judge(). */
void pl_coordination_group_explain(char *out, size_t n, const struct pl_coordination_group *g,
                                   const struct pl_session_record *act,
                                   const struct pl_coordination_result *res);

/* One judged act of a report. */
struct pl_coordination_act {
	struct pl_session_record rec;
	struct pl_coordination_result res;
};

/* The acts of a period that were the group's business, in log order. */
struct pl_coordination_report {
	struct pl_coordination_act *v;
	size_t n;
};

/*
 * The acts of the period [since, until] that g's members addressed to its
 * counterparts, as far as this party may read them, each judged: the acts of
 * g's thread (those that follow a consult), this party's own sends and
 * measures (its chain, walked back from its head: complete, G4), and every
 * public measure. Fails as every pl_session_* call does; release out in any
 * case.
 */
int pl_coordination_report(struct pl_session *s, const struct pl_coordination_group *g,
                           int64_t since, int64_t until, struct pl_coordination_report *out) PL_WUR;

/* Frees what r holds; safe on a zeroed one. */
void pl_coordination_report_release(struct pl_coordination_report *r);

#endif
