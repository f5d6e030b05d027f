/* What a member authors: a record of each kind, built from what the member asked, sealed, signed,
 * submitted and proven. */
#ifndef PARLEY_AUTHOR_H
#define PARLEY_AUTHOR_H

#include <stdbool.h>
#include <stddef.h>

#include <parley/buf.h>
#include <parley/receipt.h>
#include <parley/record.h>
#include <parley/session.h>

/* The longest relative deadline (+DURATION) a member may ask for: ten years. */
#define PL_AUTHOR_DEADLINE_MAX_SECONDS (10LL * 366 * 86400)

/*
 * What a member asks to author, as typed. Which fields count depends on the
 * kind: send (to, via, readable_by_via, cls, deadline, reply_to, a body),
 * consult (to: the allies, deadline, a body), statement (cites, cls
 * PL_CLASS_MEASURE or 0, a public body), convey, decline, accept and refuse
 * (about: a send, reason), advise (about: a consult, position, reason) and
 * group (group, to: the other members, counterparts, window_days, changes).
 * A send or statement may name the consult it follows (consult), a consult
 * the group it is made in (group_ref), a measure the measure it
 * reciprocates (reciprocates).
 */
struct pl_author_request {
	enum pl_record_kind kind;
	const char *about; /* the record acted on: an id or a unique prefix */
	const char *const *to;
	size_t nto;
	const char *via;
	bool readable_by_via;     /* seal a send's body to its intermediary too */
	enum pl_record_class cls; /* 0: message (send) or statement (statement) */
	const char *deadline;     /* RFC 3339 time or +DURATION (from the record's time), or NULL */
	const char *reply_to;
	const char *reason;
	const char *const *cites;
	size_t ncites;
	enum pl_position position;
	const char *consult;      /* send, statement: the consult it follows, or NULL */
	const char *group_ref;    /* consult: the group (a version's id) it is made in, or NULL */
	const char *reciprocates; /* statement of class measure: another party's measure, or NULL */
	const char *group;        /* group: its name */
	const char *const *counterparts; /* group: the parties it coordinates about */
	size_t ncounterparts;
	unsigned window_days;        /* group: 1..PL_RECORD_WINDOW_MAX_DAYS */
	const char *changes;         /* group: the version it changes, or NULL to form a group */
	const char *measure;         /* statement: the latest state of its own measure it changes */
	enum pl_measure_state state; /* with measure: suspended, resumed or ended */
	/*
	 * Reads the body (at most max bytes) when the record needs one, after
	 * the parties and references have been checked. Returns 0, or a PL_E
	 * code after saying why itself (s->why is then left empty).
	 */
	int (*read_body)(void *ctx, size_t max, struct pl_buf *body);
	void *ctx;
};

/*
 * Builds the record a asks for in r (zeroed by the caller; it is large): the
 * parties checked against the directory (members, not this party, named
 * once), the records referred to resolved and of the right kinds, the
 * deadline; for a send or consult the body sealed to this party and every
 * reader and uploaded. Then signs and submits it (pl_session_submit()) and,
 * for a sealed body, keeps the opened copy in the local state (a warning
 * when it cannot). On success *rc is the receipt (release it) and text
 * holds the signed record. Fails as every pl_session_* call does.
 */
int pl_author(struct pl_session *s, const struct pl_author_request *a, struct pl_record *r,
              struct pl_receipt *rc, struct pl_buf *text) PL_WUR;

#endif
