/* Ed25519 signing and verifier keys in the C2SP signed-note text forms. */
#ifndef PARLEY_KEY_H
#define PARLEY_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/error.h>
#include <parley/limits.h>

#define PL_KEYID_BYTES        4
#define PL_ED25519_PK_BYTES   32
#define PL_ED25519_SEED_BYTES 32
#define PL_ED25519_SK_BYTES   64 /* libsodium's seed || public key */
#define PL_ED25519_SIG_BYTES  64

/* Signature types of c2sp.org/signed-note. */
enum pl_sigtype {
	PL_SIGTYPE_ED25519 = 0x01,  /* plain Ed25519 over the note text */
	PL_SIGTYPE_COSIG_V1 = 0x04, /* c2sp.org/tlog-cosignature v1 (timestamped) */
};

/*
 * A verifier key: name, signature type, key ID and Ed25519 public key.
 * Text form: <name>+<hex keyid>+<base64(type || pk)>.
 */
struct pl_vkey {
	char name[PL_KEY_NAME_MAX + 1];
	uint8_t type;
	uint8_t id[PL_KEYID_BYTES];
	uint8_t pk[PL_ED25519_PK_BYTES];
};

/*
 * A signer key. Text form: PRIVATE+KEY+<name>+<hex keyid>+<base64(type || seed)>.
 * Holds secret material: wipe with pl_skey_clear() on every path.
 */
struct pl_skey {
	char name[PL_KEY_NAME_MAX + 1];
	uint8_t type;
	uint8_t id[PL_KEYID_BYTES];
	uint8_t sk[PL_ED25519_SK_BYTES];
};

/*
 * True when name is a valid key name per c2sp.org/signed-note: non-empty, at
 * most PL_KEY_NAME_MAX bytes, valid UTF-8, no Unicode spaces (White_Space),
 * no '+', and no ASCII control character (none can appear in a note).
 */
bool pl_key_name_is_valid(const char *name, size_t len);

/* Key ID: the first 4 bytes of SHA-256(name || 0x0A || type || pk). */
void pl_key_id(uint8_t out[static PL_KEYID_BYTES], const char *name, uint8_t type,
               const uint8_t pk[static PL_ED25519_PK_BYTES]);

/*
 * Generates a fresh key pair of the given type (PL_SIGTYPE_ED25519 or
 * PL_SIGTYPE_COSIG_V1) for the NUL-terminated name. Returns 0, or PL_EINVAL
 * for a bad name or type (sk and vk untouched). The caller wipes sk with
 * pl_skey_clear(). Thread-safe (libsodium must be initialised).
 */
int pl_key_generate(struct pl_skey *sk, struct pl_vkey *vk, const char *name, uint8_t type) PL_WUR;

/* Derives the verifier key of a signer key. */
void pl_skey_public(const struct pl_skey *sk, struct pl_vkey *vk);

/* Wipes a signer key. Safe on a zeroed or partly filled struct. */
void pl_skey_clear(struct pl_skey *sk);

/*
 * Parses the text form of a verifier key (s[0..len), no trailing newline).
 * Strict: a valid name, exactly 8 lowercase hex digits, the canonical padded
 * base64 of exactly 33 bytes, nothing else. Checks the type byte (0x01 or
 * 0x04) and that the key ID matches SHA-256(name || 0x0A || type || pk).
 * Returns 0 with *vk set, PL_EMALFORMED (syntax, lengths) or PL_EKEY (key ID
 * mismatch, unknown type); *vk is untouched on error.
 */
int pl_vkey_parse(struct pl_vkey *vk, const char *s, size_t len) PL_WUR;

/* Appends the text form of vk to out (no newline). Returns 0, PL_EINVAL (bad name or type) or a
 * pl_buf error; out is unchanged on error. */
int pl_vkey_format(const struct pl_vkey *vk, struct pl_buf *out) PL_WUR;

/*
 * Parses the text form of a signer key, "PRIVATE+KEY+" then the verifier-key
 * syntax with the 32-byte seed as key material; the key ID is checked
 * against the public key derived from the seed. On failure sk is wiped.
 * Wipes its temporaries. Same returns as pl_vkey_parse().
 */
int pl_skey_parse(struct pl_skey *sk, const char *s, size_t len) PL_WUR;

/*
 * Appends the text form of sk to out (no newline), in one write so that no
 * copy of the secret is left in memory freed by a buffer growth. The caller
 * wipes out (sodium_memzero(out->data, out->len)) when done. Returns 0,
 * PL_EINVAL or a pl_buf error (out unchanged).
 */
int pl_skey_format(const struct pl_skey *sk, struct pl_buf *out) PL_WUR;

/* True when two verifier keys are the same name, type and public key. */
bool pl_vkey_equal(const struct pl_vkey *a, const struct pl_vkey *b);

/*
 * Key files hold one key line and an optional final newline, nothing else.
 *
 * pl_skey_load() opens path with O_NOFOLLOW, requires a regular file with no
 * permission bit for group or others (mode & 077 == 0, else PL_EDENIED),
 * reads the line and wipes every temporary. pl_vkey_load() reads a verifier
 * key (public: symbolic links are followed, any mode is fine).
 *
 * pl_key_save() writes text[0..len) (one line: no newline or NUL inside)
 * plus a newline to a NEW file created with O_EXCL|O_NOFOLLOW and exactly
 * mode (set with fchmod, so the umask cannot widen or narrow it; use 0600
 * for signer keys), fsyncs the file and its directory. On a failed write the
 * partial file is removed.
 *
 * Return 0, PL_EIO (errno is kept), PL_EDENIED (bad permissions), PL_EEXIST
 * (save: path exists), PL_EINVAL (save: bad text or mode), PL_ETOOBIG (load:
 * the file is longer than any key line) or a parse error.
 */
int pl_skey_load(struct pl_skey *sk, const char *path) PL_WUR;
int pl_vkey_load(struct pl_vkey *vk, const char *path) PL_WUR;
int pl_key_save(const char *path, const char *text, size_t len, unsigned mode) PL_WUR;

/*
 * Makes an Ed25519 key pair named name and writes it to new files in dir:
 * <name>.skey (the signer key, mode 0600) and <name>.vkey (the verifier
 * key, 0644), with each '/' of name as '_' in the file names. Nothing is
 * written when either file exists (or is a dangling link); a signer key
 * whose verifier key could not be written is taken back. On success vk
 * (if not NULL) is the verifier key. On failure path (if not NULL) holds
 * the file concerned. Returns 0, PL_EINVAL (not a key name), PL_ETOOBIG (a
 * path too long), PL_EEXIST, PL_EIO (errno kept) or PL_ENOMEM. Thread-safe
 * (libsodium must be initialised).
 */
int pl_key_create(const char *dir, const char *name, struct pl_vkey *vk,
                  struct pl_buf *path) PL_WUR;

#endif
