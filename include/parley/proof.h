/* Offline single-record proofs (c2sp.org/tlog-proof@v1): build, format, parse, verify. */
#ifndef PARLEY_PROOF_H
#define PARLEY_PROOF_H

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
#include <parley/tlog.h>

/*
 * A tlog-proof:
 *
 *     c2sp.org/tlog-proof@v1
 *     extra <base64>            (optional)
 *     index <decimal>
 *     <base64 hash>             (zero or more: the RFC 6962 inclusion path, leaf first)
 *     <empty line>
 *     <the signed checkpoint note, verbatim>
 *
 * It proves that one entry is in the log at index, under a checkpoint signed
 * by the log (and perhaps cosigned by witnesses), to anyone holding the log's
 * public key, offline.
 */

#define PL_PROOF_HEADER "c2sp.org/tlog-proof@v1"

/*
 * A parsed proof. Allocated by pl_proof_parse(); free with pl_proof_free().
 * extra is opaque and NOT authenticated by the proof: callers must not trust
 * it without their own check.
 */
struct pl_proof {
	uint64_t index;
	bool has_extra;
	size_t extra_len;
	uint8_t extra[PL_TLOG_PROOF_EXTRA_MAX];
	size_t nhashes;
	uint8_t hashes[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	char *checkpoint; /* the signed checkpoint note, NUL-terminated, verbatim */
	size_t checkpoint_len;
};

/*
 * Appends a tlog-proof to out from its parts: extra[0..extra_len) when extra
 * is not NULL (1..PL_TLOG_PROOF_EXTRA_MAX bytes), the leaf index, the
 * inclusion path hashes[0..nhashes), and the signed checkpoint note
 * note[0..note_len) copied verbatim (it must parse as a signed note whose
 * text is a checkpoint). Checks nothing cryptographic. Returns 0, PL_EINVAL
 * (bad argument, unparsable checkpoint note), PL_ETOOBIG (result above
 * PL_TLOG_PROOF_MAX_BYTES, too many hashes, extra too long) or a pl_buf error;
 * out is unchanged on error.
 */
int pl_proof_format(struct pl_buf *out, uint64_t index, const uint8_t *extra, size_t extra_len,
                    const uint8_t (*hashes)[PL_HASH_BYTES], size_t nhashes, const char *note,
                    size_t note_len) PL_WUR;

/*
 * Builds the tlog-proof of leaf index under the signed checkpoint note
 * note[0..note_len): reads the checkpoint's size (without verifying its
 * signatures), computes the inclusion proof from the stored hashes r, and
 * formats it as pl_proof_format() does. The tree behind r must hold at least
 * the checkpoint's size. Returns 0, PL_EINVAL (unparsable note or
 * checkpoint), PL_ERANGE (index >= checkpoint size), the reader's error, or
 * a pl_proof_format() error; out is unchanged on error.
 */
int pl_proof_build(struct pl_buf *out, const struct pl_tlog_reader *r, uint64_t index,
                   const uint8_t *extra, size_t extra_len, const char *note,
                   size_t note_len) PL_WUR;

/*
 * Strictly parses a tlog-proof text[0..len) (at most PL_TLOG_PROOF_MAX_BYTES):
 * exact header line; optional "extra " line with canonical, non-empty
 * base64 of at most PL_TLOG_PROOF_EXTRA_MAX bytes; "index " and a decimal
 * without sign or leading zeros (below 2^63); 0 to PL_PROOF_MAX_HASHES
 * lines, each the canonical base64 of exactly 32 bytes; one empty line;
 * then a signed note (pl_note_parse() rules) whose text is a checkpoint
 * (pl_checkpoint_parse() rules), running to the end of the input. Every line
 * ends in '\n'; no carriage returns. Verifies nothing. Returns 0 with *out
 * set, PL_EMALFORMED, PL_ETOOBIG or PL_ENOMEM; *out untouched on error.
 */
int pl_proof_parse(struct pl_proof **out, const char *text, size_t len) PL_WUR;

/* Frees a proof; NULL is a no-op. */
void pl_proof_free(struct pl_proof *p);

/*
 * Verifies a parsed proof for the entry whose RFC 6962 leaf hash is
 * leaf_hash (see pl_tlog_leaf_hash()): opens the checkpoint with
 * pl_checkpoint_open() against the log's origin and verifier keys
 * keys[0..nkeys) (at least one must sign; a failing signature by a known key
 * rejects), checks index < size, and verifies the inclusion path against the
 * checkpoint's root. Witness cosignatures are not checked here: pass note to
 * receive the parsed checkpoint note (free with pl_note_free()) and apply
 * the witness policy with pl_note_verify(); pass cp to receive the
 * checkpoint. Both are set only on success. Returns 0 when the entry is
 * proven included; PL_EPROOF (path does not lead to the root, or index out
 * of range); or a pl_checkpoint_open() error (PL_EVERIFY, PL_ENOKEY,
 * PL_EMALFORMED, PL_EAMBIGUOUS, PL_ENOMEM); PL_EINVAL for NULL arguments.
 * Thread-safe.
 */
int pl_proof_verify(const struct pl_proof *p, const uint8_t leaf_hash[static PL_HASH_BYTES],
                    const char *origin, const struct pl_vkey *keys, size_t nkeys,
                    struct pl_checkpoint *cp, struct pl_note **note) PL_WUR;

/*
 * pl_proof_parse() then pl_proof_verify() for the entry entry[0..entry_len),
 * the log entry itself (its leaf hash is computed here). Same returns as
 * both; cp and note as in pl_proof_verify(), set only on success.
 */
int pl_proof_open(const char *text, size_t len, const void *entry, size_t entry_len,
                  const char *origin, const struct pl_vkey *keys, size_t nkeys,
                  struct pl_checkpoint *cp, struct pl_note **note) PL_WUR;

/* What a reader of a proof requires: the log's keys and origin, and which witnesses. */
struct pl_proof_policy {
	const char *origin;            /* the origin the checkpoint must state */
	const struct pl_vkey *logkeys; /* the log's keys (at least one must sign) */
	size_t nlogkeys;
	const struct pl_vkey *witkeys; /* witness cosignature keys, may be none */
	size_t nwitkeys;
	size_t need; /* how many of the witnesses must have cosigned */
};

/*
 * pl_proof_verify() of p for the leaf hash leaf under the policy's log keys,
 * then the witness policy: at least need of the witness keys cosigned the
 * checkpoint and none of their cosignatures fails. On success *cp is the
 * checkpoint and *cosigned how many of the witnesses cosigned. On failure
 * why (one line, without the proof's name) says what does not hold, as a
 * person reads it; the return is PL_EPROOF, PL_EVERIFY or PL_ENOKEY when
 * the evidence does not hold, another code (PL_EMALFORMED, PL_ENOMEM…)
 * when it cannot be read. Thread-safe.
 */
int pl_proof_check(const struct pl_proof *p, const uint8_t leaf[static PL_HASH_BYTES],
                   const struct pl_proof_policy *policy, struct pl_checkpoint *cp, size_t *cosigned,
                   struct pl_buf *why) PL_WUR;

#endif
