/* Signed notes (c2sp.org/signed-note): sign, parse, verify, add signatures. */
#ifndef PARLEY_NOTE_H
#define PARLEY_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>

/*
 * One signature line: "— <name> <base64(keyid || sig)>". A signature longer
 * than PL_NOTE_SIG_MAX bytes (such as a post-quantum cosignature) is accepted
 * by the parser, since unknown signatures must be ignored, but kept with
 * sig_len 0: no key type of this library could verify it.
 */
struct pl_note_sig {
	char name[PL_KEY_NAME_MAX + 1];
	uint8_t id[PL_KEYID_BYTES];
	uint8_t sig[PL_NOTE_SIG_MAX]; /* signature bytes after the key ID */
	size_t sig_len;
};

/*
 * A parsed note. text is the note text including its final newline (not
 * including the blank line that separates it from the signatures).
 * Allocated by pl_note_parse(); free with pl_note_free().
 */
struct pl_note {
	char *text;
	size_t text_len;
	struct pl_note_sig *sigs;
	size_t nsigs;
};

/*
 * Parses a signed note from msg[0..len) (at most PL_NOTE_MAX_BYTES): the
 * whole message is valid UTF-8 with no control character but newline; the
 * text ends at the LAST blank line of the message (so the text may itself
 * hold blank lines), followed by 1 to PL_NOTE_MAX_SIGS signature lines, each
 * "— " (U+2014, space), a valid key name, one space, the canonical padded
 * base64 of a key ID and at least one signature byte, and "\n"; nothing
 * after. Does not verify. Returns 0 with *out set, PL_EMALFORMED, PL_ETOOBIG
 * (size or signature count) or PL_ENOMEM. Thread-safe.
 */
int pl_note_parse(struct pl_note **out, const char *msg, size_t len) PL_WUR;

/*
 * pl_note_parse(), and on failure, when why is not NULL, *why is set to a
 * static one-line reason naming what is wrong, e.g. "more than 64 signature
 * lines" (PL_ETOOBIG) or "no blank line before the signature lines"
 * (PL_EMALFORMED), for a refusal a person can act on. *why is untouched on
 * success. Thread-safe.
 */
int pl_note_parse_why(struct pl_note **out, const char *msg, size_t len, const char **why) PL_WUR;

/* Frees a note; NULL is a no-op. */
void pl_note_free(struct pl_note *n);

/*
 * Verifies a parsed note against known verifier keys. A signature whose
 * (name, key ID) matches no known key is ignored. Every signature that
 * matches a known key must verify, repeated lines by the same key included
 * (a bad one beside a good one still rejects the note: PL_EVERIFY). If no
 * known key verified, returns PL_ENOKEY. Type 0x04 keys verify cosignatures
 * (c2sp.org/tlog-cosignature). Two different keys in keys[] sharing a name
 * and key ID give PL_EAMBIGUOUS when a signature names them (an identical key
 * listed twice is fine). On success returns 0 and, if verified is not NULL,
 * sets verified[i] (nkeys entries) to whether keys[i] signed; verified is
 * untouched on error. Thread-safe.
 */
int pl_note_verify(const struct pl_note *n, const struct pl_vkey *keys, size_t nkeys,
                   bool *verified) PL_WUR;

/*
 * The first of keys[0..nkeys) that names a signature line of n which does
 * not verify: the key to name when pl_note_verify() says PL_EVERIFY. NULL
 * when there is none. Thread-safe.
 */
const struct pl_vkey *pl_note_failing_key(const struct pl_note *n, const struct pl_vkey *keys,
                                          size_t nkeys);

/* pl_note_parse() then pl_note_verify(); *out set only on success. */
int pl_note_open(struct pl_note **out, const char *msg, size_t len, const struct pl_vkey *keys,
                 size_t nkeys, bool *verified) PL_WUR;

/*
 * Appends to out a signed note of text[0..len) signed by each of keys, in
 * order (1 to PL_NOTE_MAX_SIGS Ed25519 keys, no two with the same name and
 * key ID; use pl_cosignature_sign() for type 0x04). text must be a valid note
 * text (see pl_note_text_is_valid()). Returns 0, PL_EINVAL, PL_ETOOBIG or a
 * pl_buf error; out is unchanged on error. Thread-safe for distinct outs.
 */
int pl_note_sign(struct pl_buf *out, const char *text, size_t len, const struct pl_skey *keys,
                 size_t nkeys) PL_WUR;

/*
 * Appends a signature line to an existing serialized note: checks that msg
 * parses as a note, then adds "— name base64(id || sig)\n", keeping the
 * existing signatures. Does not verify anything. Rejects a second signature
 * by the same (name, key ID). Returns 0, PL_EINVAL (bad name, empty sig),
 * the pl_note_parse() errors, PL_EEXIST, PL_ETOOBIG (sig_len above
 * PL_NOTE_SIG_MAX, too many signatures, note or buffer too large) or
 * PL_ENOMEM; msg is unchanged on error.
 */
int pl_note_add_sig(struct pl_buf *msg, const char *name, const uint8_t id[static PL_KEYID_BYTES],
                    const uint8_t *sig, size_t sig_len) PL_WUR;

/*
 * True when text[0..len) is a valid note text: non-empty, at most
 * PL_NOTE_MAX_BYTES, valid UTF-8, ends in '\n', no control character but
 * '\n'. Blank lines inside are allowed.
 */
bool pl_note_text_is_valid(const char *text, size_t len);

/*
 * Verifies one signature of a note against one key: Ed25519 over the text
 * for type 0x01, the cosignature v1 message for type 0x04. Returns 0,
 * PL_EVERIFY or PL_EINVAL (name or key ID do not match the key, or a key
 * type this library cannot verify). Thread-safe.
 */
int pl_note_sig_verify(const struct pl_note_sig *s, const struct pl_vkey *key, const char *text,
                       size_t len) PL_WUR;

#endif
