/* Party identities: names, the encryption key text form, and the identity directory on disk. */
#ifndef PARLEY_PARTY_H
#define PARLEY_PARTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/box.h>
#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>

/* The party name reserved for the exchange's own records. */
#define PL_PARTY_RESERVED "exchange"

/* Longest text form of an encryption key: <key name>+x25519+<base64 of 32 bytes>. */
#define PL_PARTY_EKEY_TEXT_MAX (PL_KEY_NAME_MAX + 8 + PL_B64_LEN(PL_BOX_PK_BYTES))

/*
 * A party's encryption (X25519) public key and the key name it belongs to,
 * the same name as the party's signing key: <exchange origin>/<party>.
 * Text form: <key name>+x25519+<base64 of the 32-byte public key>.
 */
struct pl_party_ekey {
	char name[PL_KEY_NAME_MAX + 1];
	uint8_t pk[PL_BOX_PK_BYTES];
};

/*
 * A party identity as loaded from its directory. Holds secrets (the signing
 * key and the encryption secret): wipe it with pl_party_clear() on every path.
 */
struct pl_party {
	char name[PL_PARTY_NAME_MAX + 1]; /* e.g. rok-mnd */
	char origin[PL_KEY_NAME_MAX + 1]; /* the exchange origin, e.g. hotline.example */
	struct pl_skey skey;              /* Ed25519, named <origin>/<name> */
	struct pl_vkey vkey;              /* its verifier key */
	struct pl_party_ekey ekey;        /* the encryption public key, same name */
	struct pl_box_keypair enc;        /* the encryption key pair, for pl_box_open() */
};

/*
 * True when name[0..len) is a valid party name: 1 to PL_PARTY_NAME_MAX bytes
 * of [a-z0-9-], not starting or ending with '-', and not the reserved
 * "exchange". Such a name is safe in a file name, a URL path and a key name.
 */
bool pl_party_name_is_valid(const char *name, size_t len);

/*
 * Appends the key name of a party, "<origin>/<name>", to out. Returns 0,
 * PL_EINVAL (bad party name, empty or too long origin, or a result that is
 * not a valid key name) or a pl_buf error.
 */
int pl_party_key_name(struct pl_buf *out, const char *origin, const char *name) PL_WUR;

/*
 * Parses the text form of an encryption key, s[0..len) with no newline:
 * a valid key name, "+x25519+", then exactly the canonical base64 of 32
 * bytes. Returns 0 with *ek set, PL_EMALFORMED, or PL_EKEY for a low-order
 * (unusable) public key.
 */
int pl_party_ekey_parse(struct pl_party_ekey *ek, const char *s, size_t len) PL_WUR;

/* Appends the text form of ek to out (no newline). Returns 0, PL_EINVAL (bad name) or a pl_buf
 * error. */
int pl_party_ekey_format(const struct pl_party_ekey *ek, struct pl_buf *out) PL_WUR;

/*
 * Reads an encryption key file: one text-form line, an optional final
 * newline; symbolic links are followed (the key is public). Returns 0,
 * PL_EIO (errno kept), PL_ETOOBIG (longer than any key line), or a
 * pl_party_ekey_parse() error.
 */
int pl_party_ekey_load(struct pl_party_ekey *ek, const char *path) PL_WUR;

/* True when two encryption keys have the same name and public key. */
bool pl_party_ekey_equal(const struct pl_party_ekey *a, const struct pl_party_ekey *b);

/*
 * Creates the identity of party name at exchange origin in directory dir
 * (created 0700 if missing; its parent must exist), as four files:
 *   <name>.skey  Ed25519 signer key, key name <origin>/<name>   0600
 *   <name>.vkey  its verifier key                               0644
 *   <name>.dkey  X25519 decryption (secret) key                 0600
 *   <name>.ekey  X25519 encryption (public) key, text form      0644
 * Never overwrites: if any of the four exists (a symlink included) nothing is
 * written and PL_EEXIST is returned. Each file is created with
 * O_EXCL|O_NOFOLLOW and fsynced, then the directory; on a failure part way
 * the files already written are removed. If p is not NULL it receives the
 * identity on success. Returns 0, PL_EINVAL (bad name or origin), PL_EEXIST,
 * or PL_EIO (errno kept). Secrets are wiped on every path. Thread-safe
 * (libsodium must be initialised).
 */
int pl_party_create(struct pl_party *p, const char *dir, const char *origin,
                    const char *name) PL_WUR;

/*
 * Loads the identity of party name from dir (the four files above). Secret
 * files are opened with O_NOFOLLOW and refused when readable by group or
 * others. The files must agree: the verifier key is the signer key's, the
 * key names are all <origin>/<name>, and the encryption key is the
 * decryption key's. Returns 0 with *p set, PL_EINVAL (bad name), PL_EIO
 * (errno kept; a missing file or a symlinked secret), PL_EDENIED (permissions),
 * PL_ETOOBIG (a file longer than any key line), a parse error, or PL_EKEY
 * (the files do not belong together). *p is untouched on failure, and no
 * secret is left behind in temporaries. Thread-safe.
 */
int pl_party_load(struct pl_party *p, const char *dir, const char *name) PL_WUR;

/* Wipes an identity. NULL is a no-op. */
void pl_party_clear(struct pl_party *p);

#endif
