/* Transparency log checkpoints (c2sp.org/tlog-checkpoint): parse, format, sign, open. */
#ifndef PARLEY_CHECKPOINT_H
#define PARLEY_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>
#include <parley/note.h>

/* Largest tree size a checkpoint may state (2^63 - 1, as Go's tlog accepts). */
#define PL_CHECKPOINT_MAX_SIZE ((uint64_t)INT64_MAX)

/*
 * A checkpoint: the note text
 *
 *     <origin>\n<size>\n<base64 root>\n[<extension line>\n]...
 *
 * Plain data, no pointers: copy it, keep it on the stack (about 8.5 KiB) or
 * embed it; nothing to free. Fill it with pl_checkpoint_set() (and
 * pl_checkpoint_add_extension()) or pl_checkpoint_parse().
 */
struct pl_checkpoint {
	char origin[PL_ORIGIN_MAX + 1]; /* NUL-terminated, non-empty, no newline */
	uint64_t size;                  /* tree size, <= PL_CHECKPOINT_MAX_SIZE */
	uint8_t root[PL_HASH_BYTES];    /* RFC 6962 root hash at size */
	size_t next;                    /* number of extension lines, <= MAX_EXTENSIONS */
	size_t ext_len;                 /* bytes in ext */
	/* The extension lines, verbatim, each ending in '\n'; NUL-terminated. */
	char ext[PL_CHECKPOINT_MAX_BYTES + 1];
};

/*
 * Sets cp to origin / size / root with no extension lines. origin is
 * NUL-terminated: non-empty, at most PL_ORIGIN_MAX bytes, valid UTF-8, no
 * control characters. Returns 0, or PL_EINVAL (cp unchanged) for a bad
 * origin or a size above PL_CHECKPOINT_MAX_SIZE.
 */
int pl_checkpoint_set(struct pl_checkpoint *cp, const char *origin, uint64_t size,
                      const uint8_t root[static PL_HASH_BYTES]) PL_WUR;

/*
 * Appends one extension line line[0..len) (no newline: non-empty, UTF-8, no
 * control characters). Extension lines are NOT RECOMMENDED by the spec and
 * are not auditable; they exist here for interoperability. Returns 0,
 * PL_EINVAL (bad line; cp unchanged) or PL_ETOOBIG (count or size limit).
 */
int pl_checkpoint_add_extension(struct pl_checkpoint *cp, const char *line, size_t len) PL_WUR;

/*
 * Parses a checkpoint note text text[0..len) (the note text only, without
 * the blank line or signatures; it must end in '\n'). Strict: origin line
 * non-empty (at most PL_ORIGIN_MAX bytes), size in decimal without sign or
 * leading zeros (at most PL_CHECKPOINT_MAX_SIZE), root the canonical padded
 * base64 of exactly 32 bytes, then 0 to PL_CHECKPOINT_MAX_EXTENSIONS
 * non-empty extension lines; valid UTF-8 and no control character but '\n'
 * anywhere; at most PL_CHECKPOINT_MAX_BYTES. Does not verify anything.
 * Returns 0 with *cp filled, PL_EMALFORMED or PL_ETOOBIG; cp is unchanged
 * on error.
 */
int pl_checkpoint_parse(struct pl_checkpoint *cp, const char *text, size_t len) PL_WUR;

/*
 * Appends the note text of cp to out (ends in '\n'; no signatures). The
 * result parses back with pl_checkpoint_parse() to an equal checkpoint.
 * Returns 0, PL_EINVAL (cp is not a valid checkpoint) or a pl_buf error
 * (out is then unchanged).
 */
int pl_checkpoint_format(const struct pl_checkpoint *cp, struct pl_buf *out) PL_WUR;

/*
 * Appends to out the signed note of cp signed by key (an Ed25519 log key,
 * type 0x01; its name should be the origin, as c2sp.org/tlog-checkpoint
 * recommends, but this is not enforced). Returns 0, PL_EINVAL or a pl_buf
 * error (out unchanged). Thread-safe for distinct out buffers.
 */
int pl_checkpoint_sign(struct pl_buf *out, const struct pl_checkpoint *cp,
                       const struct pl_skey *key) PL_WUR;

/*
 * Opens a signed checkpoint msg[0..len): parses the note, verifies it with
 * pl_note_verify() against the log's verifier key(s) keys[0..nkeys) (at
 * least one must verify; signatures by other keys, such as witness
 * cosignatures, are ignored here), parses the text as a checkpoint and
 * checks that its origin equals the NUL-terminated expected origin.
 *
 * On success returns 0, fills *cp and, if note is not NULL, hands over the
 * parsed note in *note (free with pl_note_free()) so the caller can verify
 * witness cosignatures on it with pl_note_verify(). On error neither *cp nor
 * *note is touched. Returns PL_EMALFORMED / PL_ETOOBIG (note or checkpoint
 * syntax), PL_EVERIFY (a log key's signature fails, or the origin differs),
 * PL_ENOKEY (no log key signed), PL_EAMBIGUOUS (two different keys given
 * under one name and key ID), PL_EINVAL (origin NULL) or PL_ENOMEM.
 * Thread-safe.
 */
int pl_checkpoint_open(struct pl_checkpoint *cp, struct pl_note **note, const char *msg, size_t len,
                       const char *origin, const struct pl_vkey *keys, size_t nkeys) PL_WUR;

/* True when a and b state the same origin, size, root and extension lines. */
bool pl_checkpoint_equal(const struct pl_checkpoint *a, const struct pl_checkpoint *b);

#endif
