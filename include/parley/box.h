/* Payload blobs: end-to-end encrypted message bodies with a salted commitment (docs/payloads.md).
 */
#ifndef PARLEY_BOX_H
#define PARLEY_BOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/error.h>
#include <parley/limits.h>

/*
 * Every function here is thread-safe and may be called once sodium_init()
 * has succeeded. The format, the commitment and the disclosure procedure are
 * specified in docs/payloads.md.
 */

#define PL_BOX_VERSION      1
#define PL_BOX_PK_BYTES     32 /* X25519 public key */
#define PL_BOX_SK_BYTES     32 /* X25519 secret key */
#define PL_BOX_SALT_BYTES   32 /* commitment salt, carried inside the ciphertext */
#define PL_BOX_COMMIT_BYTES 32 /* SHA-256 commitment, the record's `commit` value */
#define PL_BOX_HASH_BYTES   32 /* SHA-256 of the blob, the record's `payload` value */
#define PL_BOX_TAG_BYTES    8  /* reader tag of a slot */
#define PL_BOX_NONCE_BYTES  24 /* XChaCha20-Poly1305 nonce */

/* Fixed part of the header: magic (4), version (1), reader count (1), nonce (24), length (4). */
#define PL_BOX_FIXED_BYTES 34
/* One reader slot: tag (8) and the content key sealed to the reader (32 + 48). */
#define PL_BOX_SLOT_BYTES 88
/* Ciphertext bytes beyond the body: the salt and the Poly1305 tag. */
#define PL_BOX_CT_EXTRA 48
/* Size of a blob with n readers and a body of len bytes. */
#define PL_BOX_BLOB_BYTES(n, len) \
	(PL_BOX_FIXED_BYTES + (size_t)(n)*PL_BOX_SLOT_BYTES + PL_BOX_CT_EXTRA + (size_t)(len))
/* Largest well-formed blob. */
#define PL_BOX_MAX_BYTES PL_BOX_BLOB_BYTES(PL_BOX_MAX_READERS, PL_BOX_MAX_BODY)

/*
 * An X25519 key pair, the encryption key of a party. Holds a secret: wipe it
 * with pl_box_keypair_clear() on every path.
 */
struct pl_box_keypair {
	uint8_t pk[PL_BOX_PK_BYTES];
	uint8_t sk[PL_BOX_SK_BYTES];
};

/* Generates a fresh key pair. */
void pl_box_keypair_generate(struct pl_box_keypair *kp);

/*
 * Fills kp from a secret key, deriving the public key. Returns 0, or PL_EKEY
 * when the secret gives a degenerate public key (kp is then untouched).
 */
int pl_box_keypair_from_secret(struct pl_box_keypair *kp,
                               const uint8_t sk[static PL_BOX_SK_BYTES]) PL_WUR;

/* Wipes a key pair. */
void pl_box_keypair_clear(struct pl_box_keypair *kp);

/*
 * True when pk is usable as a reader key: not one of the low-order points
 * for which X25519 yields no shared secret. Costs one scalar multiplication.
 */
bool pl_box_pk_is_valid(const uint8_t pk[static PL_BOX_PK_BYTES]);

/*
 * What pl_box_parse() learns from a blob without any key: everything in the
 * header. body_len is the plaintext length a reader will get.
 */
struct pl_box_info {
	uint8_t version;
	size_t nreaders;
	uint8_t nonce[PL_BOX_NONCE_BYTES];
	uint8_t tags[PL_BOX_MAX_READERS][PL_BOX_TAG_BYTES];
	size_t header_len; /* bytes of header, bound as associated data */
	size_t body_len;
};

/*
 * Seals plaintext[0..len) to nreaders X25519 public keys (1 to
 * PL_BOX_MAX_READERS, all distinct; the caller includes the sender's own key
 * if the sender is to read it back). A fresh content key and salt are drawn
 * for each call. On success sets *blob (malloc'd, the caller free()s it; it
 * holds no secret), *blob_len, commit (the record's `commit` value) and, if
 * salt is not NULL, the salt (which the sender may keep for a later
 * disclosure). Returns 0, PL_EINVAL (no readers, a repeated reader),
 * PL_ETOOBIG (too many readers, body over PL_BOX_MAX_BODY), PL_EKEY (a
 * low-order reader key) or PL_ENOMEM. Every secret is wiped before return.
 * Thread-safe.
 */
int pl_box_seal(uint8_t **blob, size_t *blob_len, uint8_t commit[static PL_BOX_COMMIT_BYTES],
                uint8_t *salt, const uint8_t *plaintext, size_t len,
                const uint8_t (*readers)[PL_BOX_PK_BYTES], size_t nreaders) PL_WUR;

/*
 * Parses the header of blob[0..len) strictly: magic, version, reader count,
 * length field bounded and matching the exact blob size, no repeated tags.
 * Decrypts nothing. Returns 0 with *info set, PL_EMALFORMED or PL_ETOOBIG.
 */
int pl_box_parse(struct pl_box_info *info, const uint8_t *blob, size_t len) PL_WUR;

/*
 * True when a well-formed blob carries a slot tagged for the reader key pk.
 * Anyone can check this (the exchange does, to serve blobs only to readers);
 * it does not prove that the slot opens.
 */
bool pl_box_has_reader(const uint8_t *blob, size_t len, const uint8_t pk[static PL_BOX_PK_BYTES]);

/*
 * Opens blob[0..len) as the reader holding me, and checks the plaintext
 * against commit, the value in the record that carries the blob. On success
 * sets *plaintext (malloc'd, NUL-terminated past *plaintext_len for
 * convenience; release it with pl_box_plaintext_free(), which wipes it),
 * *plaintext_len and salt (keep it to disclose the plaintext later).
 * Returns 0, PL_EMALFORMED / PL_ETOOBIG (bad blob), PL_ENOTFOUND (no slot for
 * this key), PL_ECRYPTO (the slot or the body does not authenticate),
 * PL_ECOMMIT (the plaintext does not match the commitment: the blob is not
 * the one the record committed to, or the sender gave readers different
 * plaintexts), or PL_ENOMEM. Nothing is returned unless every check passed;
 * every secret is wiped before return. Thread-safe.
 */
int pl_box_open(uint8_t **plaintext, size_t *plaintext_len, uint8_t salt[static PL_BOX_SALT_BYTES],
                const uint8_t *blob, size_t len, const struct pl_box_keypair *me,
                const uint8_t commit[static PL_BOX_COMMIT_BYTES]) PL_WUR;

/* Wipes and frees a plaintext returned by pl_box_open(); NULL is a no-op. */
void pl_box_plaintext_free(uint8_t *plaintext, size_t len);

/* The `payload` hash of a blob: SHA-256 of all its bytes. */
void pl_box_hash(uint8_t out[static PL_BOX_HASH_BYTES], const uint8_t *blob, size_t len);

/*
 * The commitment to a plaintext:
 * SHA-256("parley-box-v1-commit" || salt || plaintext). Used by pl_box_seal();
 * exposed so that tools can show how a commitment is formed.
 */
void pl_box_commit(uint8_t out[static PL_BOX_COMMIT_BYTES],
                   const uint8_t salt[static PL_BOX_SALT_BYTES], const uint8_t *plaintext,
                   size_t len);

/*
 * Checks a disclosure: that (plaintext, salt) is what the record's commit
 * committed to. Needs no key; anyone holding the record can run it. Compares
 * in constant time. Returns 0, PL_ECOMMIT, or PL_ETOOBIG for a plaintext
 * larger than any blob can carry.
 */
int pl_box_disclosure_verify(const uint8_t commit[static PL_BOX_COMMIT_BYTES],
                             const uint8_t salt[static PL_BOX_SALT_BYTES], const uint8_t *plaintext,
                             size_t len) PL_WUR;

#endif
