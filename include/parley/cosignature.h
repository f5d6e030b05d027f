/* Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 "cosignature/v1", key type 0x04). */
#ifndef PARLEY_COSIGNATURE_H
#define PARLEY_COSIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/note.h>

/* First line of the signed message: domain separation from plain note signatures. */
#define PL_COSIGNATURE_HEADER "cosignature/v1\n"

/* Signature bytes after the key ID in the note line: timestamp (8, big-endian) || Ed25519 (64). */
#define PL_COSIGNATURE_SIG_BYTES (8 + PL_ED25519_SIG_BYTES)

/* Largest timestamp (POSIX seconds) the spec allows: 2^63 - 1. */
#define PL_COSIGNATURE_MAX_TIME ((uint64_t)INT64_MAX)

/*
 * Appends to out the message a v1 cosignature signs:
 *
 *     "cosignature/v1\ntime <timestamp>\n" || text
 *
 * where text[0..len) is the whole note text of the cosigned checkpoint
 * (extension lines included, final newline included, no signature lines).
 * Returns 0, PL_EINVAL (timestamp above PL_COSIGNATURE_MAX_TIME, or text not
 * a valid note text) or a pl_buf error (out unchanged).
 */
int pl_cosignature_message(struct pl_buf *out, uint64_t timestamp, const char *text,
                           size_t len) PL_WUR;

/*
 * Cosigns the note text text[0..len) at timestamp with key (type
 * PL_SIGTYPE_COSIG_V1) and appends the signature line
 * "— <name> base64(keyid || timestamp || sig)\n" to line, ready to be sent
 * by a witness or added to the note. The caller chooses the timestamp (the
 * current time, normally) so that tests are reproducible; the text should be
 * a checkpoint the caller has verified and found consistent.
 * Returns 0, PL_EINVAL (wrong key type, timestamp, text) or a pl_buf error
 * (line unchanged). Wipes its temporaries. Thread-safe.
 */
int pl_cosignature_sign(struct pl_buf *line, const struct pl_skey *key, uint64_t timestamp,
                        const char *text, size_t len) PL_WUR;

/*
 * Cosigns the signed note held in msg (a whole serialized note, such as a
 * signed checkpoint) and appends the cosignature line to it with
 * pl_note_add_sig(). Returns 0, PL_EINVAL, the pl_note_parse() errors for a
 * malformed msg, PL_EEXIST (msg already carries a signature by this key
 * name and ID), PL_ETOOBIG (signature count or size limit) or a pl_buf
 * error; msg is unchanged on error.
 */
int pl_cosignature_add(struct pl_buf *msg, const struct pl_skey *key, uint64_t timestamp) PL_WUR;

/*
 * Verifies one v1 cosignature s (as parsed by pl_note_parse()) over the note
 * text text[0..len) with key (type PL_SIGTYPE_COSIG_V1). On success returns
 * 0 and, if timestamp is not NULL, stores the signed time in *timestamp.
 * Returns PL_EINVAL (s's name or key ID do not match key, or key is not of
 * type 0x04), PL_EVERIFY (wrong length, timestamp above 2^63 - 1, or the
 * signature does not verify). Does not judge whether the time is plausible:
 * the caller compares it with its clock and policy. Thread-safe.
 */
int pl_cosignature_verify(const struct pl_note_sig *s, const struct pl_vkey *key, const char *text,
                          size_t len, uint64_t *timestamp) PL_WUR;

/*
 * Reads the timestamp of a v1 cosignature without verifying it (for
 * display or to pick the newest; verify before relying on it). Returns 0
 * with *timestamp set, or PL_EMALFORMED for a signature that is not
 * PL_COSIGNATURE_SIG_BYTES long or whose time exceeds 2^63 - 1.
 */
int pl_cosignature_timestamp(uint64_t *timestamp, const struct pl_note_sig *s) PL_WUR;

#endif
