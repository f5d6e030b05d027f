/* A member's session with its exchange: profile, identity, state, client, and the checks of every
 * answer. */
#ifndef PARLEY_SESSION_H
#define PARLEY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/box.h>
#include <parley/buf.h>
#include <parley/checkpoint.h>
#include <parley/client.h>
#include <parley/directory.h>
#include <parley/error.h>
#include <parley/party.h>
#include <parley/profile.h>
#include <parley/receipt.h>
#include <parley/record.h>
#include <parley/state.h>

/*
 * Every pl_session_* call that returns int returns 0 or a negative PL_E…
 * code. On failure it says why in s->why (one line, naming the thing and
 * the reason: "record 3f9a12bc…: signature does not verify") and whose fault
 * it is in s->blame, from which a tool picks its exit code. When the
 * exchange showed two histories, s->split holds the evidence (both signed
 * checkpoints) until the next call. A problem that does not stop the call
 * (a local cache that could not be written) is left in s->warning.
 */
enum pl_session_blame {
	PL_BLAME_LOCAL,    /* usage, local files, the network: nothing is proven */
	PL_BLAME_EVIDENCE, /* what the exchange handed over does not hold */
	PL_BLAME_REFUSED,  /* the exchange answered with an error status */
};

/* Bytes of the reason of a failed call, and of a warning. */
#define PL_SESSION_WHY_MAX 1024

/*
 * An open session. Holds secrets (the identity): close it with
 * pl_session_close() on every path. The directory is fetched on first need.
 * One thread at a time (its client and state handle are single-threaded).
 */
struct pl_session {
	char dir[PL_PROFILE_PATH_MAX + 1]; /* the profile directory */
	struct pl_profile profile;
	struct pl_party me; /* this party's keys: Ed25519 signing, X25519 */
	struct pl_state *state;
	struct pl_client *client;
	struct pl_client_party *parties; /* the exchange's directory, or NULL before fetched */
	size_t nparties;
	struct pl_directory keys;      /* the log key at 0, then every party key of the directory */
	int64_t (*clock)(void);        /* the time in Unix seconds; NULL: the system's clock */
	enum pl_session_blame blame;   /* after a failure */
	char why[PL_SESSION_WHY_MAX];  /* after a failure */
	struct pl_client_split *split; /* after PL_EINCONSISTENT: the two histories */
	char warning[PL_SESSION_WHY_MAX]; /* "" or what went wrong without stopping */
};

/* A record fetched from the exchange and verified (signature by a directory key, id). */
struct pl_session_record {
	uint64_t index; /* its log index (UINT64_MAX when not known) */
	uint8_t id[PL_RECORD_ID_BYTES];
	char hex[PL_RECORD_ID_HEX_LEN + 1]; /* the id in hex */
	char *text;                         /* the signed record as logged, NUL-terminated */
	size_t len;
	struct pl_record *rec; /* parsed, heap (it is large) */
	bool cached;           /* kept in the local state's record cache */
};

/* Frees what a pl_session_record holds; safe on a zeroed one. */
void pl_session_record_release(struct pl_session_record *r);

/*
 * Opens the session of the profile in directory dir: p, or when p is NULL
 * the profile loaded from dir (PL_ENOTFOUND when there is none); then the
 * identity from its key directory, the local state and an API client that
 * signs with the party's key. clock as in struct pl_session. On failure
 * everything is released (the reason stays in s->why). Not thread-safe.
 */
int pl_session_open(struct pl_session *s, const char *dir, const struct pl_profile *p,
                    int64_t (*clock)(void)) PL_WUR;

/* Releases everything and wipes the keys. Safe on a zeroed or closed session. */
void pl_session_close(struct pl_session *s);

/* The session's time in Unix seconds (its clock). */
int64_t pl_session_now(const struct pl_session *s);

/*
 * Says why a pl_client_* call made for what ("record 3f9a…", "the inbox")
 * failed: blame REFUSED when the exchange answered with an error status,
 * EVIDENCE for PL_EPROOF (an answer that does not hold), else LOCAL.
 * Returns err.
 */
int pl_session_client_error(struct pl_session *s, const char *what, int err);

/*
 * Checks a signed checkpoint that the exchange handed over: its signature by
 * the pinned log key and origin; then its consistency with the last one this
 * client saw (pl_client_observe(), in whichever direction is needed). A
 * consistent larger checkpoint becomes the last seen. Two histories:
 * PL_EINCONSISTENT with s->split set. cp (may be NULL) receives the checkpoint.
 */
int pl_session_checkpoint(struct pl_session *s, const char *note, size_t len,
                          struct pl_checkpoint *cp) PL_WUR;

/* GET /checkpoint, then pl_session_checkpoint(). note (may be NULL) receives the text. */
int pl_session_refresh(struct pl_session *s, struct pl_checkpoint *cp, struct pl_buf *note) PL_WUR;

/*
 * Fetches the directory (GET /parties) if not yet fetched, or again when
 * force is true, and checks every entry (pl_member_directory()). Fills
 * s->parties and s->keys.
 */
int pl_session_directory(struct pl_session *s, bool force) PL_WUR;

/*
 * The directory entry of a party, or NULL (with s->why naming it and why)
 * when it is not registered, revoked, or the directory cannot be had; *err
 * receives the error (PL_ENOTFOUND for an unknown or revoked party).
 */
const struct pl_client_party *pl_session_party(struct pl_session *s, const char *name, int *err);

/*
 * Verifies one record the exchange handed over (an inbox or thread entry):
 * the id is SHA-256 of the text, the record opens (pl_record_open()) against
 * the directory (fetched again once if its author's key is not known yet).
 * Fills out (release it) and caches the record in the local state.
 */
int pl_session_verify_entry(struct pl_session *s, const struct pl_client_entry *e,
                            struct pl_session_record *out) PL_WUR;

/*
 * Resolves a record id or unique prefix (8 to 64 hex digits) through the
 * exchange (or the local cache for a full id) and verifies it as
 * pl_session_verify_entry() does. PL_EINVAL for a malformed id.
 */
int pl_session_resolve(struct pl_session *s, const char *arg, struct pl_session_record *out) PL_WUR;

/*
 * Fetches the tlog-proof of a record (GET /records/<id>/proof), verifies it
 * with the pinned log key, and checks its checkpoint as
 * pl_session_checkpoint() does. cp (may be NULL) receives that checkpoint.
 */
int pl_session_prove(struct pl_session *s, const struct pl_session_record *r,
                     struct pl_checkpoint *cp) PL_WUR;

/* pl_session_prove(), and on success appends the proof's text, as verified, to out. */
int pl_session_prove_text(struct pl_session *s, const struct pl_session_record *r,
                          struct pl_checkpoint *cp, struct pl_buf *out) PL_WUR;

/*
 * The payload of a record this party can read (a send or consult): the
 * opened copy from the local state, or the blob fetched from the exchange,
 * checked against the record's `payload` (hash, size), opened with the
 * party's X25519 key and checked against its `commit`, then kept in the
 * state. On success *plaintext is set (NUL-terminated; free it with
 * pl_state_plaintext_free()), or NULL when this party is not a reader.
 * A blob that does not open or match is blamed on the evidence: the blob
 * and the record are then evidence against the sender.
 */
int pl_session_payload(struct pl_session *s, const struct pl_session_record *r, uint8_t **plaintext,
                       size_t *len, uint8_t salt[static PL_BOX_SALT_BYTES]) PL_WUR;

/*
 * Authors and submits a record. r holds the kind and the kind's own lines
 * (class, to, via, deadline, refs, payload, commit, reason, position, body);
 * this fills exchange, author, seq and prev from the local head, and time as
 * the latest of the clock, the head's time and min_time (the latest time of
 * the records r refers to: docs/records.md §7). Signs with the party's key,
 * submits, and on a chain conflict takes the head from the exchange's answer
 * and tries again (a bounded number of times). The answer's proof is
 * verified against the record and its checkpoint as pl_session_checkpoint()
 * does; then the head, the act (for a record with a subject, check or
 * consult reference) and the record cache are updated. what names the
 * record in messages ("the send", "the accept of 3f9a12bc"). On success
 * *out is the receipt that held (release it with pl_receipt_release()), r
 * has the seq and time signed, and text (when not NULL) is released and
 * then holds the signed record.
 */
int pl_session_submit(struct pl_session *s, struct pl_record *r, int64_t min_time, const char *what,
                      struct pl_receipt *out, struct pl_buf *text) PL_WUR;

#endif
