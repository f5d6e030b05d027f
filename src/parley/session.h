/* What every verb that talks to an exchange shares: profile, state, keys, client, and the checks.
 */
#ifndef PARLEY_SESSION_H
#define PARLEY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <parley/checkpoint.h>
#include <parley/client.h>
#include <parley/directory.h>
#include <parley/party.h>
#include <parley/profile.h>
#include <parley/record.h>
#include <parley/state.h>

#include "cli.h"

/*
 * Every session_* function that returns int returns an enum cli_exit value
 * and has already printed the reason ("parley: record 3f9a12bc…: ...") when
 * it is not PL_EXIT_OK: 1 when the evidence does not hold (a signature, a
 * proof, two histories), 2 for usage or I/O (the exchange unreachable
 * included), 3 when the exchange refused (its status and reason printed).
 * A verb can therefore write `ret = session_x(...); if (ret) goto out;`.
 */

/* The environment variable that names a profile directory when --profile is not given. */
#define SESSION_PROFILE_ENV "PARLEY_PROFILE"

/* The cursor of the inbox verb in the local state (an agent uses its own name). */
#define SESSION_CURSOR_INBOX "inbox"

/*
 * An open session. Holds secrets (the identity): close it with
 * session_close() on every path. The directory is fetched on first need.
 * A session is used by one thread at a time (its client and state handle
 * are single-threaded); open one per thread.
 */
struct session {
	char dir[CLI_PATH_MAX]; /* the profile directory */
	struct pl_profile profile;
	struct pl_party me; /* this party's keys: Ed25519 signing, X25519 */
	struct pl_state *state;
	struct pl_client *client;
	struct pl_client_party *parties; /* the exchange's directory, or NULL before fetched */
	size_t nparties;
	struct pl_directory keys; /* the log key at 0, then every party key of the directory */
};

/* A record fetched from the exchange and verified (signature by a directory key, id). */
struct session_record {
	uint64_t index; /* its log index (UINT64_MAX when not known) */
	uint8_t id[PL_RECORD_ID_BYTES];
	char hex[PL_RECORD_ID_HEX_LEN + 1]; /* the id in hex */
	char *text;                         /* the signed record as logged, NUL-terminated */
	size_t len;
	struct pl_record *rec; /* parsed, heap (it is large) */
	bool cached;           /* kept in the local state's record cache */
};

/* Frees what a session_record holds; safe on a zeroed one. */
void session_record_release(struct session_record *r);

/*
 * Resolves the profile directory into out: arg (--profile) if not NULL, else
 * $PARLEY_PROFILE, else $XDG_CONFIG_HOME/parley, else $HOME/.config/parley.
 * *is_explicit tells whether it came from --profile or the environment
 * variable (then the local state lives inside it). Returns an exit code.
 */
int session_profile_dir(char out[static CLI_PATH_MAX], const char *arg, bool *is_explicit);

/*
 * Opens the session of the profile resolved from profile_arg (see above):
 * loads the profile, the identity from its key directory, opens the local
 * state and an API client that signs with the party's key. cmd names the verb
 * in messages. On failure everything is released. Returns an exit code.
 */
int session_open(struct session *s, const char *cmd, const char *profile_arg);

/*
 * Like session_open() for a profile that is not (yet) saved: p is used as
 * if it had been loaded from dir. Lets `parley init` check everything before
 * it writes the profile.
 */
int session_open_with(struct session *s, const char *dir, const struct pl_profile *p);

/* Releases everything and wipes the keys. Safe on a zeroed or closed session. */
void session_close(struct session *s);

/*
 * Reports a failed pl_client_* call made for what ("record 3f9a…", "the
 * inbox", ...) and returns the exit code: 3 when the exchange answered with
 * an error status (printing the status, its error code and reason), 1 when
 * what came back does not hold (PL_EPROOF: a blob that is not the one asked
 * for), else 2 (unreachable, timed out, malformed answer).
 */
int session_client_failed(struct session *s, const char *what, int err);

/*
 * Checks a signed checkpoint that the exchange handed over: its signature by
 * the pinned log key and origin; then its consistency with the last one this
 * client saw, fetching GET /consistency in whichever direction is needed (a
 * smaller tree must be a prefix of the one seen; the same size must have the
 * same root). A consistent larger checkpoint becomes the last seen. On
 * inconsistency prints that the exchange shows two histories, naming both
 * checkpoints, and returns 1. cp (may be NULL) receives the checkpoint.
 */
int session_checkpoint(struct session *s, const char *note, size_t len, struct pl_checkpoint *cp);

/* GET /checkpoint, then session_checkpoint(). note (may be NULL) receives the text. */
int session_refresh(struct session *s, struct pl_checkpoint *cp, struct pl_buf *note);

/*
 * Fetches the directory (GET /parties) if not yet fetched, or again when
 * force is true, and checks every entry (pl_member_directory(): its register
 * record opens with the pinned log key and the entry's key, names that party,
 * key and encryption key). Fills s->parties and s->keys. Returns an exit code.
 */
int session_directory(struct session *s, bool force);

/*
 * The directory entry of a party, or NULL (with a message naming it and
 * why) when it is not registered or revoked. Fetches the directory first.
 * *ret receives the exit code (2 for an unknown party).
 */
const struct pl_client_party *session_party(struct session *s, const char *name, int *ret);

/*
 * Verifies one record the exchange handed over (an inbox or thread entry):
 * the id is SHA-256 of the text, the record opens (pl_record_open()) against
 * the directory (fetched again once if its author's key is not known yet).
 * Fills out (release it) and caches the record in the local state. Returns
 * an exit code (1 when it does not verify).
 */
int session_verify_entry(struct session *s, const struct pl_client_entry *e,
                         struct session_record *out);

/*
 * Resolves a record id or unique prefix (8 to 64 hex digits) through the
 * exchange (or the local cache for a full id), verifies it as
 * session_verify_entry() does and that it has the prefix asked for.
 * Returns an exit code; 2 for a malformed id, 3 when the exchange refused
 * (404 unknown, 400 ambiguous).
 */
int session_resolve(struct session *s, const char *arg, struct session_record *out);

/*
 * Fetches the tlog-proof of a record (GET /records/<id>/proof), verifies it
 * with the pinned log key, and checks its checkpoint with
 * session_checkpoint(). cp (may be NULL) receives that checkpoint. Returns an
 * exit code: 1 when the proof does not hold.
 */
int session_prove(struct session *s, const struct session_record *r, struct pl_checkpoint *cp);

/*
 * The payload of a record this party can read (a send or consult): the
 * opened copy from the local state, or the blob fetched from the exchange,
 * checked against the record's `payload` (hash, size), opened with the
 * party's X25519 key and checked against its `commit`, then kept in the
 * state. On success *plaintext is set (NUL-terminated; free it with
 * pl_state_plaintext_free()), or NULL when this party is not a reader (the
 * exchange answers 403, or the blob has no slot for it). Returns an exit
 * code: 1 when the blob does not open or does not match the commitment
 * (the blob and the record are then evidence against the sender).
 */
int session_payload(struct session *s, const struct session_record *r, uint8_t **plaintext,
                    size_t *len, uint8_t salt[static PL_BOX_SALT_BYTES]);

/*
 * Authors and submits a record. r holds the kind and the kind's own lines
 * (class, to, via, deadline, refs, payload, commit, reason, position, body);
 * this fills exchange, author, seq and prev from the local head, and time as
 * the latest of the clock, the head's time and min_time (the latest time of
 * the records r refers to: docs/records.md §7). Signs with the party's key,
 * submits, and on a chain conflict takes the head from the exchange's answer
 * and tries again (a bounded number of times). The answer's proof is
 * verified against the record and its checkpoint with session_checkpoint();
 * then the head, the act (for a record with a subject, check or consult
 * reference) and the record cache are updated. what names the record in
 * messages ("the send", "the accept of 3f9a12bc"). On success *out is the
 * receipt that held (the caller releases it with pl_receipt_release()), r
 * has the seq and time signed, and text (when not NULL) is released and
 * then holds the signed record. Returns an exit code: 3 when the exchange refused (its reason
 * printed), 1 when the receipt does not hold.
 */
int session_submit(struct session *s, struct pl_record *r, int64_t min_time, const char *what,
                   struct pl_receipt *out, struct pl_buf *text);

/*
 * The thread index's check of this party's record r (text[0..len)), which
 * the exchange logged with the receipt rc (pl_member_index_check()): the
 * index record that closes the receipt's checkpoint must list r under every
 * id r refers to. Says how it went on standard output (say: 0 quiet). On an
 * omission or invention, says so loudly, keeps the evidence beside the local
 * state (pl_member_index_lie_save(), docs/index.md §7.1) and returns 1: the
 * exchange is not to be trusted any more. Returns 0 when it is listed or the
 * exchange keeps no index, else an exit code (2 on a network or local error).
 */
int session_index_check(struct session *s, const struct pl_record *r, const char *text, size_t len,
                        const struct pl_receipt *rc);

/* pl_member_record_summary(), for the verbs that list records (kept for their callers). */
int session_record_summary(const struct pl_record *r, struct pl_buf *out);

/* The first 16 hex digits of an id, for messages and listings (NUL-terminated). */
void session_short_id(char out[static 17], const uint8_t id[static PL_RECORD_ID_BYTES]);

/* Today's clock in Unix seconds (PARLEY_NOW overrides it for tests: a number). */
int64_t session_now(void);

#endif
