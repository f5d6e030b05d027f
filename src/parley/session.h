/* How the verbs word the member session of libparley (<parley/session.h>): messages, exit codes.
 */
#ifndef PARLEY_CLI_SESSION_H
#define PARLEY_CLI_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/session.h>

#include "cli.h"

/*
 * Every session_* function that returns int returns an enum cli_exit value
 * and has already printed the reason ("parley: record 3f9a12bc…: ...") when
 * it is not PL_EXIT_OK: 1 when the evidence does not hold (a signature, a
 * proof, two histories), 2 for usage or I/O (the exchange unreachable
 * included), 3 when the exchange refused (its status and reason printed).
 * A verb can therefore write `ret = session_x(...); if (ret) goto out;`.
 * Each wraps the pl_session_* call of the same name.
 */

/* The environment variable that names a profile directory when --profile is not given. */
#define SESSION_PROFILE_ENV "PARLEY_PROFILE"

/* The cursor of the inbox verb in the local state (an agent uses its own name). */
#define SESSION_CURSOR_INBOX "inbox"

/*
 * Resolves the profile directory into out: arg (--profile) if not NULL, else
 * $PARLEY_PROFILE, else $XDG_CONFIG_HOME/parley, else $HOME/.config/parley.
 * *is_explicit tells whether it came from --profile or the environment
 * variable (then the local state lives inside it). Returns an exit code.
 */
int session_profile_dir(char out[static CLI_PATH_MAX], const char *arg, bool *is_explicit);

/* Opens the session of the profile resolved from profile_arg (see above). cmd names the verb. */
int session_open(struct pl_session *s, const char *cmd, const char *profile_arg);

/* Like session_open() for a profile p that is not (yet) saved in dir (`parley init`). */
int session_open_with(struct pl_session *s, const char *dir, const struct pl_profile *p);

/* pl_session_close(). */
void session_close(struct pl_session *s);

/*
 * Words what a pl_session_* call returned (err): prints its warning, and on
 * failure its reason and, for two histories, both checkpoints and where their
 * evidence was written. Returns the exit code.
 */
int session_said(struct pl_session *s, int err);

/* pl_session_client_error() for a pl_client_* call the verb made itself, worded. */
int session_client_failed(struct pl_session *s, const char *what, int err);

int session_checkpoint(struct pl_session *s, const char *note, size_t len,
                       struct pl_checkpoint *cp);
int session_refresh(struct pl_session *s, struct pl_checkpoint *cp, struct pl_buf *note);
int session_directory(struct pl_session *s, bool force);
/* *ret receives the exit code (2 for an unknown or revoked party). */
const struct pl_client_party *session_party(struct pl_session *s, const char *name, int *ret);
int session_verify_entry(struct pl_session *s, const struct pl_client_entry *e,
                         struct pl_session_record *out);
int session_resolve(struct pl_session *s, const char *arg, struct pl_session_record *out);
int session_prove_text(struct pl_session *s, const struct pl_session_record *r,
                       struct pl_checkpoint *cp, struct pl_buf *out);
int session_prove(struct pl_session *s, const struct pl_session_record *r,
                  struct pl_checkpoint *cp);
int session_payload(struct pl_session *s, const struct pl_session_record *r, uint8_t **plaintext,
                    size_t *len, uint8_t salt[static PL_BOX_SALT_BYTES]);
int session_submit(struct pl_session *s, struct pl_record *r, int64_t min_time, const char *what,
                   struct pl_receipt *out, struct pl_buf *text);

/*
 * The thread index's check of this party's record r (text[0..len)), which
 * the exchange logged with the receipt rc (pl_member_index_check()): the
 * index record that closes the receipt's checkpoint must list r under every
 * id r refers to. Says how it went on standard output when say is true (a
 * failure always, on standard error). On an omission or
 * invention, says so loudly, keeps the evidence beside the local state
 * (pl_member_index_lie_save(), docs/index.md §7.1) and returns 1: the
 * exchange is not to be trusted any more. Returns 0 when it is listed or the
 * exchange keeps no index, else an exit code (2 on a network or local error).
 */
int session_index_check(struct pl_session *s, const struct pl_record *r, const char *text,
                        size_t len, const struct pl_receipt *rc, bool say);

/* pl_member_record_summary(), for the verbs that list records (kept for their callers). */
int session_record_summary(const struct pl_record *r, struct pl_buf *out);

/* The first 16 hex digits of an id, for messages and listings (NUL-terminated). */
void session_short_id(char out[static 17], const uint8_t id[static PL_RECORD_ID_BYTES]);

/* Today's clock in Unix seconds (PARLEY_NOW overrides it for tests: a number). */
int64_t session_now(void);

#endif
