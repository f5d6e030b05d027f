/* A client's local state in SQLite: the last checkpoint seen, its chain head, cursors, opened
 * copies. */
#ifndef PARLEY_STATE_H
#define PARLEY_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/limits.h>

/*
 * One database file holds the state of the profiles that name it. The last
 * checkpoint is kept per exchange origin (every profile on that exchange
 * then pins the same history); the chain head, the cursors, the opened
 * copies and the acts are kept per (origin, party), the scope a state handle
 * is opened for. The file is created 0600 (opened copies are plaintext) in
 * WAL mode, so that a running agent and one-shot commands share it; a busy
 * database is waited for (a few seconds) before PL_ESTORE.
 *
 * A handle is used by one thread at a time; separate handles, in one
 * process or several, may use the same file. Every function returns 0 or a
 * negative PL_E... code; SQLite's own codes become PL_ESTORE. Data read back
 * is checked for its exact size (the file is treated as hostile input).
 */
struct pl_state;

#define PL_STATE_CURSOR_NAME_MAX 32 /* bytes of a cursor name, [a-z0-9-] */

/*
 * Opens (creating it, and its schema, if missing) the state database at
 * path for party at exchange origin. Returns 0 with *out set, PL_EINVAL (bad
 * origin or party name), PL_EIO (the file cannot be created or opened) or
 * PL_ESTORE (not a Parley state database, or a newer schema). Free with
 * pl_state_close().
 */
int pl_state_open(struct pl_state **out, const char *path, const char *origin,
                  const char *party) PL_WUR;

/* Closes the database. NULL is a no-op. */
void pl_state_close(struct pl_state *s);

/* The last checkpoint this client saw and verified for its exchange. */
struct pl_state_checkpoint {
	uint64_t size;
	uint8_t root[PL_HASH_BYTES];
	char *note; /* the signed checkpoint note, NUL-terminated, malloc'd */
	size_t note_len;
	int64_t seen; /* when it was received; 0: not recorded */
	char seen_from[PL_PROFILE_URL_MAX +
	               1]; /* the exchange URL it came from; "": not recorded */
};

/* Frees what pl_state_checkpoint_get() put in cp. NULL or zeroed: no-op. */
void pl_state_checkpoint_release(struct pl_state_checkpoint *cp);

/*
 * Reads the last checkpoint seen. Returns 0 with *cp set (release it),
 * PL_ENOTFOUND when none was ever stored, PL_ESTORE or PL_ENOMEM.
 */
int pl_state_checkpoint_get(struct pl_state *s, struct pl_state_checkpoint *cp) PL_WUR;

/*
 * Records a checkpoint the caller has verified (signature and consistency
 * with the one pl_state_checkpoint_get() returned). Only a larger tree
 * replaces the stored one, in one statement, so two processes that raced
 * keep the largest; a smaller or equal size leaves the row as it is and
 * still returns 0. Returns 0, PL_EINVAL (note empty or over
 * PL_CHECKPOINT_MAX_BYTES + signatures, i.e. PL_NOTE_MAX_BYTES), PL_ESTORE.
 */
int pl_state_checkpoint_put(struct pl_state *s, uint64_t size,
                            const uint8_t root[static PL_HASH_BYTES], const char *note,
                            size_t note_len) PL_WUR;

/*
 * pl_state_checkpoint_put() that also keeps when (Unix seconds, >= 0) and
 * from which exchange URL (at most PL_PROFILE_URL_MAX bytes) the checkpoint
 * was received, so that evidence of two histories can say it.
 */
int pl_state_checkpoint_put_seen(struct pl_state *s, uint64_t size,
                                 const uint8_t root[static PL_HASH_BYTES], const char *note,
                                 size_t note_len, int64_t seen, const char *seen_from) PL_WUR;

/* This party's chain head: its latest record as far as this client knows. */
struct pl_state_head {
	uint64_t seq; /* 0: no record yet (then id and time are zero) */
	uint8_t id[PL_HASH_BYTES];
	int64_t time; /* the head record's time, Unix seconds */
};

/* Reads the head; a party with no record known gives seq 0. Returns 0 or PL_ESTORE. */
int pl_state_head_get(struct pl_state *s, struct pl_state_head *h) PL_WUR;

/*
 * Sets the head (after a durable submission, or from the exchange's answer
 * to a conflict). Only a larger seq replaces the stored head unless force is
 * true (recovering from the exchange, which is the authority on the chain);
 * with force, seq 0 forgets the head (the exchange says the party has no
 * record yet). Returns 0, PL_EINVAL (seq 0 without force) or PL_ESTORE.
 */
int pl_state_head_put(struct pl_state *s, const struct pl_state_head *h, bool force) PL_WUR;

/*
 * Named cursors into the inbox (the log index to ask from next): "inbox" for
 * the inbox verb, others for other readers such as an agent. A cursor never
 * set reads as 0. Names are 1 to PL_STATE_CURSOR_NAME_MAX of [a-z0-9-].
 * Returns 0, PL_EINVAL (bad name) or PL_ESTORE.
 */
int pl_state_cursor_get(struct pl_state *s, const char *name, uint64_t *cursor) PL_WUR;
int pl_state_cursor_put(struct pl_state *s, const char *name, uint64_t cursor) PL_WUR;

/*
 * Opened copies: the plaintext of a record's payload this party could read,
 * with the salt that proves it against the record's commitment (a later
 * disclosure needs both). Keyed by the record id. Putting the same id again
 * replaces the copy. Returns 0, PL_ETOOBIG (over PL_BOX_MAX_BODY), PL_ESTORE.
 */
int pl_state_opened_put(struct pl_state *s, const uint8_t id[static PL_HASH_BYTES],
                        const uint8_t *plaintext, size_t len,
                        const uint8_t salt[static PL_HASH_BYTES]) PL_WUR;

/*
 * Reads an opened copy. On success *plaintext is malloc'd with a NUL after
 * its *len bytes (release it with pl_state_plaintext_free(), which wipes it)
 * and salt is set. Returns 0, PL_ENOTFOUND, PL_ESTORE (a row of the wrong
 * shape included) or PL_ENOMEM.
 */
int pl_state_opened_get(struct pl_state *s, const uint8_t id[static PL_HASH_BYTES],
                        uint8_t **plaintext, size_t *len,
                        uint8_t salt[static PL_HASH_BYTES]) PL_WUR;

/* Wipes and frees a plaintext from pl_state_opened_get(). NULL is a no-op. */
void pl_state_plaintext_free(uint8_t *plaintext, size_t len);

/*
 * Acts: what this party has signed about a record, so that an agent signs
 * one receive per send and a tool can say "already accepted". kind is the
 * record kind name ("receive", "accept", ...). act_id is the id of the
 * record this party signed. Putting an existing (subject, kind) keeps the
 * first. pl_state_act_get() returns 0 with act_id set (it may be NULL),
 * PL_ENOTFOUND, PL_EINVAL (bad kind text) or PL_ESTORE.
 */
int pl_state_act_put(struct pl_state *s, const uint8_t subject[static PL_HASH_BYTES],
                     const char *kind, const uint8_t act_id[static PL_HASH_BYTES]) PL_WUR;
int pl_state_act_get(struct pl_state *s, const uint8_t subject[static PL_HASH_BYTES],
                     const char *kind, uint8_t act_id[PL_HASH_BYTES]) PL_WUR;

/*
 * A cache of records seen, by id: the signed record text exactly as logged
 * and its log index, so that tools need not fetch a record twice. The text
 * is verified by whoever puts it. Put is idempotent. Get returns 0 with text
 * appended to out and *index set, PL_ENOTFOUND, PL_ESTORE, or a pl_buf error.
 */
int pl_state_record_put(struct pl_state *s, const uint8_t id[static PL_HASH_BYTES], uint64_t index,
                        const char *text, size_t len) PL_WUR;
int pl_state_record_get(struct pl_state *s, const uint8_t id[static PL_HASH_BYTES], uint64_t *index,
                        struct pl_buf *out) PL_WUR;

#endif
