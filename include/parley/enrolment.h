/* A member's enrolment with an exchange: the profile that pins its origin and log key, made only
 * once every check has passed. */
#ifndef PARLEY_ENROLMENT_H
#define PARLEY_ENROLMENT_H

#include <stdbool.h>
#include <stdint.h>

#include <parley/checkpoint.h>
#include <parley/key.h>
#include <parley/profile.h>
#include <parley/session.h>

/* What to enrol, and what came of it. */
struct pl_enrolment {
	const char *exchange;          /* the exchange's base URL */
	const char *party;             /* the party's name */
	const char *key_dir;           /* its identity directory ('parley keygen --party') */
	const struct pl_vkey *log_key; /* the exchange's log key, or NULL: trust on first use */
	const char *profile_dir;       /* where the profile goes; made (0700) when missing */
	const char *state_dir;         /* where state.db goes (made when missing), or NULL: there */
	bool force;                    /* replace an existing profile */
	int64_t (*clock)(void);        /* as in struct pl_session */
	/* Set by pl_enrol(): */
	struct pl_profile profile;         /* as saved */
	char dir[PL_PROFILE_PATH_MAX + 1]; /* the profile directory, absolute */
	struct pl_checkpoint cp;           /* the checkpoint pinned */
	bool trusted_on_first_use;         /* the log key is the one the exchange stated */
	bool not_member;                   /* the exchange does not (or no longer) list the party */
};

/*
 * Makes the profile e asks for. Nothing is written until every check has
 * passed: the identity loads from the key directory; the log key (given, or
 * learned from GET /log-key and then e->trusted_on_first_use) is named
 * after the party's exchange and signs the exchange's checkpoint; that
 * checkpoint is one history with the one a shared state pinned before; the
 * party's key is the one the exchange registered (e->not_member when it is
 * not registered, which is no failure). The checks run on the profile in
 * memory and on a state built aside when there is none yet; then the state
 * is put in place and the profile saved by an atomic rename. A failed
 * enrolment leaves the profile and the state as they were.
 *
 * s is the session the checks use; it is closed on return, but says why a
 * failure happened as every pl_session_* call does (two histories: s->split;
 * close s after reading it). Returns 0 or a PL_E code (PL_EEXIST: a profile
 * is there and not e->force).
 */
int pl_enrol(struct pl_session *s, struct pl_enrolment *e) PL_WUR;

#endif
