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

/* One signature line: "— <name> <base64(keyid || sig)>". */
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
 * Parses a signed note from msg[0..len): text (valid UTF-8, no control
 * characters but newline, ends in newline), a blank line, then 1 to
 * PL_NOTE_MAX_SIGS well-formed signature lines, each ending in newline, and
 * nothing after. Does not verify. Returns 0 with *out set, PL_EMALFORMED,
 * PL_ETOOBIG (size or signature count) or PL_ENOMEM.
 */
int pl_note_parse(struct pl_note **out, const char *msg, size_t len) PL_WUR;

/* Frees a note; NULL is a no-op. */
void pl_note_free(struct pl_note *n);

/*
 * Verifies a parsed note against known verifier keys. A signature whose
 * (name, key ID) matches no known key is ignored. A signature that matches a
 * known key but does not verify rejects the note (PL_EVERIFY). If no known
 * key verified, returns PL_ENOKEY. Type 0x04 keys verify cosignatures
 * (c2sp.org/tlog-cosignature). On success returns 0 and, if verified is not
 * NULL, sets verified[i] = true for each keys[i] that signed.
 */
int pl_note_verify(const struct pl_note *n, const struct pl_vkey *keys, size_t nkeys,
                   bool *verified) PL_WUR;

/* pl_note_parse() then pl_note_verify(); *out set only on success. */
int pl_note_open(struct pl_note **out, const char *msg, size_t len, const struct pl_vkey *keys,
                 size_t nkeys, bool *verified) PL_WUR;

/*
 * Appends to out a signed note of text[0..len) signed by each of keys
 * (Ed25519 keys only; use pl_cosignature_sign() for type 0x04). text must be
 * a valid note text (see pl_note_text_is_valid()). Returns 0, PL_EINVAL or
 * a pl_buf error.
 */
int pl_note_sign(struct pl_buf *out, const char *text, size_t len, const struct pl_skey *keys,
                 size_t nkeys) PL_WUR;

/*
 * Appends a signature line to an existing serialized note: adds "— name
 * base64(id || sig)\n" to msg, keeping the existing signatures. Rejects a
 * second signature by the same (name, key ID). Returns 0, PL_EMALFORMED,
 * PL_EEXIST, PL_ETOOBIG.
 */
int pl_note_add_sig(struct pl_buf *msg, const char *name, const uint8_t id[static PL_KEYID_BYTES],
                    const uint8_t *sig, size_t sig_len) PL_WUR;

/* True when text[0..len) is a valid note text: non-empty, UTF-8, ends in '\n', no other control
 * chars. */
bool pl_note_text_is_valid(const char *text, size_t len);

/*
 * Verifies one signature of a note against one key: Ed25519 over the text
 * for type 0x01, the cosignature v1 message for type 0x04. Returns 0,
 * PL_EVERIFY or PL_EINVAL (name or key ID do not match the key).
 */
int pl_note_sig_verify(const struct pl_note_sig *s, const struct pl_vkey *key, const char *text,
                       size_t len) PL_WUR;

#endif
