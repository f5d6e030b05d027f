/* A transparency-log witness (c2sp.org/tlog-witness): its logs, its durable view, its cosignatures.
 */
#ifndef PARLEY_WITNESS_H
#define PARLEY_WITNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/checkpoint.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>
#include <parley/note.h>

/* Files of a witness's data directory (docs/witness.md). */
#define PL_WITNESS_KEY_FILE  "witness.key"  /* signer key, type 0x04, mode 0600 */
#define PL_WITNESS_VKEY_FILE "witness.vkey" /* its verifier key, to publish */
#define PL_WITNESS_DB_FILE   "witness.db"   /* SQLite: the logs and the latest cosigned state */

/* Content-Type of a 409 answer that carries the size the witness knows. */
#define PL_WITNESS_SIZE_CTYPE     "text/x.tlog.size"

#define PL_WITNESS_SCHEMA_VERSION 1

/*
 * One add-checkpoint request body, parsed:
 *
 *     old <size>\n
 *     <base64 hash>\n            (0 to PL_WITNESS_PROOF_MAX lines)
 *     \n
 *     <signed checkpoint note>
 *
 * Release with pl_witness_request_release() (frees note). About 10 KiB:
 * allocate it rather than keep it on a small stack.
 */
struct pl_witness_request {
	uint64_t old_size;
	size_t nproof;
	uint8_t proof[PL_WITNESS_PROOF_MAX][PL_HASH_BYTES];
	size_t note_off;         /* where the signed checkpoint starts in the body */
	struct pl_note *note;    /* the signed checkpoint, not verified */
	struct pl_checkpoint cp; /* its text, parsed */
};

/*
 * Parses an add-checkpoint body body[0..len) (at most PL_WITNESS_REQUEST_MAX).
 * Strict: "old " and a decimal without sign or leading zeros, each proof line
 * the canonical padded base64 of exactly 32 bytes, one empty line, then a
 * signed note (pl_note_parse()) whose text is a checkpoint
 * (pl_checkpoint_parse()); every line ends in '\n'. The old size must not
 * exceed the checkpoint's size. Verifies nothing. Returns 0 with *req filled,
 * PL_EMALFORMED or PL_ETOOBIG (req untouched), or PL_ENOMEM. Thread-safe.
 */
int pl_witness_request_parse(struct pl_witness_request *req, const char *body, size_t len) PL_WUR;

/* Frees what pl_witness_request_parse() allocated; safe on a zeroed struct, NULL a no-op. */
void pl_witness_request_release(struct pl_witness_request *req);

/*
 * Creates a witness in the existing directory dir: a fresh cosignature key
 * (type PL_SIGTYPE_COSIG_V1) named name, written to PL_WITNESS_KEY_FILE
 * (0600) and PL_WITNESS_VKEY_FILE (0644), and an empty database. Returns 0
 * with *vk set to the verifier key, PL_EINVAL (bad name), PL_EEXIST (any of
 * the three files exists), PL_EIO, PL_ESTORE or PL_ENOMEM. Wipes the secret.
 */
int pl_witness_create(const char *dir, const char *name, struct pl_vkey *vk) PL_WUR;

/*
 * The witness: its signer key and a connection to its database. One per
 * process normally; several processes may share a directory (SQLite's write
 * lock serialises them). Every function below is thread-safe: the state is
 * read, checked and updated under one lock and one IMMEDIATE transaction, so
 * that no two inconsistent checkpoints are ever cosigned.
 */
struct pl_witness;

/*
 * Opens the witness in dir (key and database; WAL, synchronous=FULL).
 * Returns 0 with *out set (close with pl_witness_close()), PL_ENOTFOUND (no
 * witness there), PL_EDENIED (key file readable by others), PL_EKEY (not a
 * type 0x04 key), PL_ESTORE (not a witness database; detail appended to err if
 * not NULL), PL_EIO or PL_ENOMEM.
 */
int pl_witness_open(struct pl_witness **out, const char *dir, struct pl_buf *err) PL_WUR;

/* Wipes the key and closes the database. NULL is a no-op. */
void pl_witness_close(struct pl_witness *w);

/* The witness's verifier key (valid while w is open). */
const struct pl_vkey *pl_witness_vkey(const struct pl_witness *w);

/*
 * Declares that the witness follows the log origin (NUL-terminated, a
 * valid checkpoint origin) whose checkpoints key signs (an Ed25519 key,
 * type 0x01). A log may have several keys: call again to add one. The first
 * key of a log starts its state at size 0 (the empty tree). Returns 0,
 * PL_EINVAL (bad origin or key type), PL_EEXIST (this key already listed for
 * the origin), PL_ESTORE.
 */
int pl_witness_log_add(struct pl_witness *w, const char *origin, const struct pl_vkey *key) PL_WUR;

/* What the witness holds for one log. */
struct pl_witness_log {
	char origin[PL_ORIGIN_MAX + 1];
	uint64_t size;               /* latest cosigned size (0: none yet, or the empty tree) */
	uint8_t root[PL_HASH_BYTES]; /* its root hash */
	size_t nkeys;                /* verifier keys listed for the origin */
};

/*
 * The logs the witness follows, in origin order: *out malloc'd (free()), *n
 * entries (*out may be NULL when *n is 0). Returns 0, PL_ESTORE, PL_ENOMEM.
 */
int pl_witness_log_list(struct pl_witness *w, struct pl_witness_log **out, size_t *n) PL_WUR;

/*
 * Handles one add-checkpoint request body body[0..len) as c2sp.org/tlog-witness
 * says, in this order: parse (PL_EMALFORMED, PL_ETOOBIG: 400), the origin
 * followed (PL_ENOTFOUND: 404), a log key's signature verifies
 * (PL_ENOKEY, PL_EVERIFY, PL_EAMBIGUOUS: 403), old equals the latest cosigned
 * size (PL_ESTATE: 409, with that size stored in *known_size if not NULL:
 * the one out-parameter set on an error), at equal sizes the roots are equal
 * (PL_EINCONSISTENT: 409), the consistency proof from the stored root holds
 * (PL_EPROOF: 422). Then it durably records the new size, root and note,
 * and only after the commit cosigns the checkpoint at time now (POSIX
 * seconds) and appends the cosignature line "— <name> <base64>\n" to cosig.
 * Returns 0, one of the codes above, PL_ESTORE or PL_ENOMEM (500; the state
 * is then unchanged, or changed and not cosigned: never the reverse).
 * Thread-safe; serialised against every other update of the same database.
 */
int pl_witness_add_checkpoint(struct pl_witness *w, const char *body, size_t len, uint64_t now,
                              struct pl_buf *cosig, uint64_t *known_size) PL_WUR;

/* The HTTP status c2sp.org/tlog-witness prescribes for a pl_witness_add_checkpoint() result. */
unsigned pl_witness_http_status(int err);

#endif
