/*
 * The few libsodium functions libparley's verify path calls, for the
 * WebAssembly build only (scripts/build-wasm puts this directory first on
 * the include path; the native build uses the real <sodium.h>). The
 * cryptography is libsodium's own JavaScript/WebAssembly build
 * (libsodium-wrappers-sumo, pinned in web/package.json: the sumo build, for SHA-256), reached from
 * sodium_shim.c; nothing here computes a signature check or a hash itself.
 * The functions a verifier never calls (signing, sealing, key generation)
 * are declared so that the library compiles, and fail (return -1 or abort).
 */
#ifndef PL_WASM_SODIUM_H
#define PL_WASM_SODIUM_H

#include <stddef.h>
#include <stdint.h>

#define crypto_sign_BYTES                            64U
#define crypto_sign_PUBLICKEYBYTES                   32U
#define crypto_sign_SECRETKEYBYTES                   64U
#define crypto_sign_SEEDBYTES                        32U
#define crypto_hash_sha256_BYTES                     32U
#define crypto_shorthash_BYTES                       8U
#define crypto_shorthash_KEYBYTES                    16U
#define crypto_box_PUBLICKEYBYTES                    32U
#define crypto_box_SECRETKEYBYTES                    32U
#define crypto_box_SEALBYTES                         48U
#define crypto_scalarmult_BYTES                      32U
#define crypto_scalarmult_SCALARBYTES                32U
#define crypto_aead_xchacha20poly1305_ietf_ABYTES    16U
#define crypto_aead_xchacha20poly1305_ietf_KEYBYTES  32U
#define crypto_aead_xchacha20poly1305_ietf_NPUBBYTES 24U

/* SHA-256 over messages the shim gathers; the digest is libsodium's. */
typedef struct crypto_hash_sha256_state {
	unsigned char *buf;
	size_t len;
	size_t cap;
	int failed;
} crypto_hash_sha256_state;

int sodium_init(void);
void sodium_memzero(void *pnt, size_t len);
int sodium_memcmp(const void *b1, const void *b2, size_t len);
void *sodium_malloc(size_t size);
void sodium_free(void *ptr);
void randombytes_buf(void *buf, size_t size);

int crypto_sign_verify_detached(const unsigned char *sig, const unsigned char *m,
                                unsigned long long mlen, const unsigned char *pk);
int crypto_hash_sha256(unsigned char *out, const unsigned char *in, unsigned long long inlen);
int crypto_hash_sha256_init(crypto_hash_sha256_state *state);
int crypto_hash_sha256_update(crypto_hash_sha256_state *state, const unsigned char *in,
                              unsigned long long inlen);
int crypto_hash_sha256_final(crypto_hash_sha256_state *state, unsigned char *out);
int crypto_shorthash(unsigned char *out, const unsigned char *in, unsigned long long inlen,
                     const unsigned char *k);

int crypto_scalarmult_base(unsigned char *q, const unsigned char *n);
int crypto_scalarmult(unsigned char *q, const unsigned char *n, const unsigned char *p);

/* Not on the verify path: they fail. */
int crypto_sign_detached(unsigned char *sig, unsigned long long *siglen_p, const unsigned char *m,
                         unsigned long long mlen, const unsigned char *sk);
int crypto_sign_keypair(unsigned char *pk, unsigned char *sk);
int crypto_sign_seed_keypair(unsigned char *pk, unsigned char *sk, const unsigned char *seed);
int crypto_box_keypair(unsigned char *pk, unsigned char *sk);
int crypto_box_seal(unsigned char *c, const unsigned char *m, unsigned long long mlen,
                    const unsigned char *pk);
int crypto_box_seal_open(unsigned char *m, const unsigned char *c, unsigned long long clen,
                         const unsigned char *pk, const unsigned char *sk);
void crypto_aead_xchacha20poly1305_ietf_keygen(unsigned char *k);
int crypto_aead_xchacha20poly1305_ietf_encrypt(unsigned char *c, unsigned long long *clen_p,
                                               const unsigned char *m, unsigned long long mlen,
                                               const unsigned char *ad, unsigned long long adlen,
                                               const unsigned char *nsec, const unsigned char *npub,
                                               const unsigned char *k);
int crypto_aead_xchacha20poly1305_ietf_decrypt(unsigned char *m, unsigned long long *mlen_p,
                                               unsigned char *nsec, const unsigned char *c,
                                               unsigned long long clen, const unsigned char *ad,
                                               unsigned long long adlen, const unsigned char *npub,
                                               const unsigned char *k);

#endif
