/*
 * The libsodium functions of sodium.h, for the WebAssembly build: each
 * cryptographic one calls libsodium's own JavaScript/WebAssembly build
 * (libsodium-wrappers-sumo, loaded before the verifier as globalThis.sodium and
 * awaited ready); memory helpers are plain C.
 */
#include "sodium.h"

#include <emscripten.h>
#include <stdlib.h>
#include <string.h>

/* The largest message SHA-256 gathers: a dossier's largest record is far smaller. */
#define SHIM_SHA256_MAX (64U * 1024U * 1024U)

EM_JS(int, shim_verify,
      (const unsigned char *sig, const unsigned char *m, size_t mlen, const unsigned char *pk), {
	      try {
		      return globalThis.sodium.crypto_sign_verify_detached(
		                     HEAPU8.slice(sig, sig + 64), HEAPU8.slice(m, m + mlen),
		                     HEAPU8.slice(pk, pk + 32))
		                     ? 0
		                     : -1;
	      } catch (e) {
		      return -1;
	      }
      });

EM_JS(int, shim_sha256, (unsigned char *out, const unsigned char *msg, size_t inlen), {
	try {
		HEAPU8.set(globalThis.sodium.crypto_hash_sha256(HEAPU8.slice(msg, msg + inlen)),
		           out);
		return 0;
	} catch (e) {
		return -1;
	}
});

EM_JS(int, shim_shorthash,
      (unsigned char *out, const unsigned char *msg, size_t inlen, const unsigned char *k), {
	      try {
		      HEAPU8.set(globalThis.sodium.crypto_shorthash(HEAPU8.slice(msg, msg + inlen),
		                                                    HEAPU8.slice(k, k + 16)),
		                 out);
		      return 0;
	      } catch (e) {
		      return -1;
	      }
      });

/* X25519; libsodium refuses a result of all zeros (a low-order point). */
EM_JS(int, shim_scalarmult, (unsigned char *q, const unsigned char *n, const unsigned char *p), {
	try {
		HEAPU8.set(p ? globalThis.sodium.crypto_scalarmult(HEAPU8.slice(n, n + 32),
		                                                   HEAPU8.slice(p, p + 32))
		             : globalThis.sodium.crypto_scalarmult_base(HEAPU8.slice(n, n + 32)),
		           q);
		return 0;
	} catch (e) {
		return -1;
	}
});

EM_JS(void, shim_random, (unsigned char *buf, size_t size),
      { HEAPU8.set(globalThis.sodium.randombytes_buf(size), buf); });

int sodium_init(void)
{
	return 0;
}

void sodium_memzero(void *pnt, size_t len)
{
	volatile unsigned char *p = pnt;

	while (len--)
		*p++ = 0;
}

int sodium_memcmp(const void *b1, const void *b2, size_t len)
{
	const volatile unsigned char *a = b1, *b = b2;
	unsigned char d = 0;

	for (size_t i = 0; i < len; i++)
		d |= a[i] ^ b[i];
	return d ? -1 : 0;
}

void *sodium_malloc(size_t size)
{
	return malloc(size ? size : 1);
}

void sodium_free(void *ptr)
{
	free(ptr);
}

void randombytes_buf(void *buf, size_t size)
{
	shim_random(buf, size);
}

int crypto_sign_verify_detached(const unsigned char *sig, const unsigned char *m,
                                unsigned long long mlen, const unsigned char *pk)
{
	return shim_verify(sig, m, (size_t)mlen, pk);
}

int crypto_hash_sha256(unsigned char *out, const unsigned char *in, unsigned long long inlen)
{
	return shim_sha256(out, in, (size_t)inlen);
}

int crypto_hash_sha256_init(crypto_hash_sha256_state *state)
{
	memset(state, 0, sizeof(*state));
	return 0;
}

int crypto_hash_sha256_update(crypto_hash_sha256_state *state, const unsigned char *in,
                              unsigned long long inlen)
{
	size_t cap;
	unsigned char *p;

	if (state->failed || inlen > SHIM_SHA256_MAX - state->len)
		goto fail;
	if (state->len + inlen > state->cap) {
		cap = state->cap ? state->cap : 256;
		while (cap < state->len + inlen)
			cap *= 2;
		p = realloc(state->buf, cap);
		if (!p)
			goto fail;
		state->buf = p;
		state->cap = cap;
	}
	if (inlen)
		memcpy(state->buf + state->len, in, (size_t)inlen);
	state->len += (size_t)inlen;
	return 0;
fail:
	state->failed = 1;
	return -1;
}

int crypto_hash_sha256_final(crypto_hash_sha256_state *state, unsigned char *out)
{
	static const unsigned char empty[1];
	int ret = -1;

	if (!state->failed)
		ret = shim_sha256(out, state->buf ? state->buf : empty, state->len);
	free(state->buf);
	memset(state, 0, sizeof(*state));
	return ret;
}

int crypto_shorthash(unsigned char *out, const unsigned char *in, unsigned long long inlen,
                     const unsigned char *k)
{
	return shim_shorthash(out, in, (size_t)inlen, k);
}

int crypto_scalarmult_base(unsigned char *q, const unsigned char *n)
{
	return shim_scalarmult(q, n, NULL);
}

int crypto_scalarmult(unsigned char *q, const unsigned char *n, const unsigned char *p)
{
	return shim_scalarmult(q, n, p);
}

/* ---- Not on the verify path ---- */

int crypto_sign_detached(unsigned char *sig, unsigned long long *siglen_p, const unsigned char *m,
                         unsigned long long mlen, const unsigned char *sk)
{
	(void)sig, (void)siglen_p, (void)m, (void)mlen, (void)sk;
	return -1;
}

int crypto_sign_keypair(unsigned char *pk, unsigned char *sk)
{
	(void)pk, (void)sk;
	abort();
}

int crypto_sign_seed_keypair(unsigned char *pk, unsigned char *sk, const unsigned char *seed)
{
	(void)pk, (void)sk, (void)seed;
	abort();
}

int crypto_box_keypair(unsigned char *pk, unsigned char *sk)
{
	(void)pk, (void)sk;
	abort();
}

int crypto_box_seal(unsigned char *c, const unsigned char *m, unsigned long long mlen,
                    const unsigned char *pk)
{
	(void)c, (void)m, (void)mlen, (void)pk;
	return -1;
}

int crypto_box_seal_open(unsigned char *m, const unsigned char *c, unsigned long long clen,
                         const unsigned char *pk, const unsigned char *sk)
{
	(void)m, (void)c, (void)clen, (void)pk, (void)sk;
	return -1;
}

void crypto_aead_xchacha20poly1305_ietf_keygen(unsigned char *k)
{
	(void)k;
	abort();
}

int crypto_aead_xchacha20poly1305_ietf_encrypt(unsigned char *c, unsigned long long *clen_p,
                                               const unsigned char *m, unsigned long long mlen,
                                               const unsigned char *ad, unsigned long long adlen,
                                               const unsigned char *nsec, const unsigned char *npub,
                                               const unsigned char *k)
{
	(void)c, (void)clen_p, (void)m, (void)mlen, (void)ad, (void)adlen, (void)nsec, (void)npub,
	        (void)k;
	return -1;
}

int crypto_aead_xchacha20poly1305_ietf_decrypt(unsigned char *m, unsigned long long *mlen_p,
                                               unsigned char *nsec, const unsigned char *c,
                                               unsigned long long clen, const unsigned char *ad,
                                               unsigned long long adlen, const unsigned char *npub,
                                               const unsigned char *k)
{
	(void)m, (void)mlen_p, (void)nsec, (void)c, (void)clen, (void)ad, (void)adlen, (void)npub,
	        (void)k;
	return -1;
}
