/* A thread as a member sees it: the records of a send, consult or statement fetched, verified and
 * laid out as a timeline, as of a checkpoint that covers them. */
#ifndef PARLEY_THREAD_H
#define PARLEY_THREAD_H

#include <stdint.h>

#include <parley/session.h>
#include <parley/timeline.h>

/* A thread's verified records, and its timeline, whose items point into them. */
struct pl_thread {
	struct pl_session_record *recs; /* recs[i] is the record of tl.v[i] */
	struct pl_timeline tl;
	uint64_t size; /* the tree size of the checkpoint the view is as of */
};

/*
 * Loads the thread of the record arg names (an id or a unique prefix):
 * resolves it, fetches its thread (GET /records/<id>/thread), then a
 * checkpoint that covers every record of it (pl_session_refresh()),
 * verifies every record, links and describes the timeline (its clock is
 * the session's); a statement's cited records are fetched to be named (one
 * this party may not read is named by its id). Fails as every pl_session_*
 * call does; release t in any case.
 */
int pl_thread_load(struct pl_session *s, const char *arg, struct pl_thread *t) PL_WUR;

/* Frees what t holds; safe on a zeroed one. */
void pl_thread_release(struct pl_thread *t);

#endif
