/* Unit tests of request authentication: the header, the signed message, the window, replays. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include <sodium.h>

#include <parley/auth.h>
#include <parley/encoding.h>
#include <parley/key.h>

#include "testutil.h"

#define NAME   "hotline.example/rok-mnd"
#define T0     1763341200u /* 2025-11-17T01:00:00Z */
#define WINDOW 60u

/* A fixed key from a fixed seed, so that signatures are reproducible. */
static void fixed_key(struct pl_skey *sk, struct pl_vkey *vk, const char *name, uint8_t fill)
{
	uint8_t seed[32], pk[32];

	memset(seed, fill, sizeof(seed));
	memset(sk, 0, sizeof(*sk));
	crypto_sign_seed_keypair(pk, sk->sk, seed);
	snprintf(sk->name, sizeof(sk->name), "%s", name);
	sk->type = PL_SIGTYPE_ED25519;
	pl_key_id(sk->id, name, PL_SIGTYPE_ED25519, pk);
	memset(vk, 0, sizeof(*vk));
	snprintf(vk->name, sizeof(vk->name), "%s", name);
	vk->type = PL_SIGTYPE_ED25519;
	memcpy(vk->id, sk->id, sizeof(vk->id));
	memcpy(vk->pk, pk, sizeof(pk));
}

static const uint8_t nonce0[PL_AUTH_NONCE_BYTES] = {0, 1, 2,  3,  4,  5,  6,  7,
                                                    8, 9, 10, 11, 12, 13, 14, 15};

/* Signs a request and parses the header back. */
static void sign_parse(const struct pl_skey *sk, const char *method, const char *target,
                       const char *body, uint64_t t, struct pl_auth *a, struct pl_buf *hdr)
{
	pl_buf_init(hdr, PL_AUTH_HEADER_MAX);
	assert_int_equal(pl_auth_sign(hdr, sk, method, target, strlen(target), body,
	                              body ? strlen(body) : 0, t, nonce0),
	                 0);
	assert_int_equal(pl_auth_parse(a, hdr->data, hdr->len), 0);
}

static void body_hash(uint8_t h[PL_HASH_BYTES], const char *body)
{
	pl_sha256(h, body ? body : "", body ? strlen(body) : 0);
}

static void test_roundtrip(void **state)
{
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_auth a;
	struct pl_buf hdr;
	uint8_t h[PL_HASH_BYTES];

	(void)state;
	fixed_key(&sk, &vk, NAME, 7);
	sign_parse(&sk, "POST", "/records", "record text\n", T0, &a, &hdr);
	assert_string_equal(a.key_name, NAME);
	assert_memory_equal(a.key_id, vk.id, PL_KEYID_BYTES);
	assert_int_equal(a.time, T0);
	assert_memory_equal(a.nonce, nonce0, sizeof(nonce0));
	body_hash(h, "record text\n");
	assert_int_equal(pl_auth_verify(&a, &vk, "POST", "/records", 8, h, T0, WINDOW), 0);
	pl_buf_release(&hdr);
	pl_skey_clear(&sk);
}

/* The header text and the signed message are exactly what docs/api.md specifies. */
static void test_documented_format(void **state)
{
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_auth a;
	struct pl_buf hdr, msg;
	uint8_t h[PL_HASH_BYTES], sig[64];
	char id_hex[9], hash_hex[65], expect[256], sig_b64[89];
	const char *target = "/inbox?after=12&wait=30";

	(void)state;
	fixed_key(&sk, &vk, NAME, 7);
	sign_parse(&sk, "GET", target, NULL, T0, &a, &hdr);
	pl_hex_encode(id_hex, vk.id, 4);
	snprintf(expect, sizeof(expect),
	         "Parley-Ed25519 key=" NAME "+%s, time=1763341200, "
	         "nonce=000102030405060708090a0b0c0d0e0f, sig=",
	         id_hex);
	assert_int_equal(hdr.len, strlen(expect) + 88);
	assert_memory_equal(hdr.data, expect, strlen(expect));

	/* Rebuild the message independently and check the signature over it. */
	body_hash(h, NULL);
	pl_hex_encode(hash_hex, h, 32);
	pl_buf_init(&msg, 1024);
	assert_int_equal(pl_buf_add(&msg, "parley/request/v1", 18), 0); /* with the NUL */
	assert_int_equal(pl_buf_addf(&msg,
	                             "GET\n%s\n%s\n1763341200\n000102030405060708090a0b0c0d0e0f\n"
	                             "%s+%s\n",
	                             target, hash_hex, NAME, id_hex),
	                 0);
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.data, msg.len, sk.sk);
	pl_b64_encode(sig_b64, sig, 64);
	assert_string_equal(hdr.data + strlen(expect), sig_b64);
	assert_memory_equal(a.sig, sig, 64);
	/* The empty body hashes to SHA-256(""). */
	assert_string_equal(hash_hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	pl_buf_release(&msg);
	pl_buf_release(&hdr);
	pl_skey_clear(&sk);
}

static void test_tampering_is_refused(void **state)
{
	struct pl_skey sk, other_sk;
	struct pl_vkey vk, other_vk;
	struct pl_auth a, b;
	struct pl_buf hdr;
	uint8_t h[PL_HASH_BYTES], h2[PL_HASH_BYTES];

	(void)state;
	fixed_key(&sk, &vk, NAME, 7);
	fixed_key(&other_sk, &other_vk, NAME, 8); /* same name, another key */
	sign_parse(&sk, "POST", "/payloads", "blob", T0, &a, &hdr);
	body_hash(h, "blob");
	body_hash(h2, "blob2");
	assert_int_equal(pl_auth_verify(&a, &vk, "POST", "/payloads", 9, h, T0, WINDOW), 0);
	assert_int_equal(pl_auth_verify(&a, &vk, "GET", "/payloads", 9, h, T0, WINDOW), PL_EVERIFY);
	assert_int_equal(pl_auth_verify(&a, &vk, "POST", "/payload", 8, h, T0, WINDOW), PL_EVERIFY);
	assert_int_equal(pl_auth_verify(&a, &vk, "POST", "/payloads?x", 11, h, T0, WINDOW),
	                 PL_EVERIFY);
	assert_int_equal(pl_auth_verify(&a, &vk, "POST", "/payloads", 9, h2, T0, WINDOW),
	                 PL_EVERIFY);
	b = a;
	b.time++;
	assert_int_equal(pl_auth_verify(&b, &vk, "POST", "/payloads", 9, h, T0, WINDOW),
	                 PL_EVERIFY);
	b = a;
	b.nonce[3] ^= 1;
	assert_int_equal(pl_auth_verify(&b, &vk, "POST", "/payloads", 9, h, T0, WINDOW),
	                 PL_EVERIFY);
	b = a;
	b.sig[10] ^= 1;
	assert_int_equal(pl_auth_verify(&b, &vk, "POST", "/payloads", 9, h, T0, WINDOW),
	                 PL_EVERIFY);
	/* The registered key is another one: not the key the header names. */
	assert_int_equal(pl_auth_verify(&a, &other_vk, "POST", "/payloads", 9, h, T0, WINDOW),
	                 PL_EINVAL);
	/* Same key ID claimed but another public key: the signature decides. */
	memcpy(other_vk.id, vk.id, 4);
	assert_int_equal(pl_auth_verify(&a, &other_vk, "POST", "/payloads", 9, h, T0, WINDOW),
	                 PL_EVERIFY);
	pl_buf_release(&hdr);
	pl_skey_clear(&sk);
	pl_skey_clear(&other_sk);
}

static void test_time_window(void **state)
{
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_auth a;
	struct pl_buf hdr;
	uint8_t h[PL_HASH_BYTES];

	(void)state;
	fixed_key(&sk, &vk, NAME, 7);
	sign_parse(&sk, "GET", "/parties", NULL, T0, &a, &hdr);
	body_hash(h, NULL);
	assert_int_equal(pl_auth_verify(&a, &vk, "GET", "/parties", 8, h, T0 + WINDOW, WINDOW), 0);
	assert_int_equal(pl_auth_verify(&a, &vk, "GET", "/parties", 8, h, T0 - WINDOW, WINDOW), 0);
	assert_int_equal(pl_auth_verify(&a, &vk, "GET", "/parties", 8, h, T0 + WINDOW + 1, WINDOW),
	                 PL_ERANGE);
	assert_int_equal(pl_auth_verify(&a, &vk, "GET", "/parties", 8, h, T0 - WINDOW - 1, WINDOW),
	                 PL_ERANGE);
	pl_buf_release(&hdr);
	pl_skey_clear(&sk);
}

static void test_sign_rejects_bad_input(void **state)
{
	static const char *bad_targets[] = {"", "records", "/a b", "/a\nb", "/\x7f", "/\xc3\xa9"};
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_buf hdr;

	(void)state;
	fixed_key(&sk, &vk, NAME, 7);
	pl_buf_init(&hdr, PL_AUTH_HEADER_MAX);
	assert_int_equal(pl_auth_sign(&hdr, &sk, "get", "/x", 2, NULL, 0, T0, nonce0), PL_EINVAL);
	assert_int_equal(pl_auth_sign(&hdr, &sk, "", "/x", 2, NULL, 0, T0, nonce0), PL_EINVAL);
	assert_int_equal(pl_auth_sign(&hdr, &sk, "G\nT", "/x", 2, NULL, 0, T0, nonce0), PL_EINVAL);
	for (size_t i = 0; i < sizeof(bad_targets) / sizeof(bad_targets[0]); i++)
		assert_int_equal(pl_auth_sign(&hdr, &sk, "GET", bad_targets[i],
		                              strlen(bad_targets[i]), NULL, 0, T0, nonce0),
		                 PL_EINVAL);
	assert_int_equal(pl_auth_sign(&hdr, &sk, "POST", "/x", 2, NULL, 3, T0, nonce0), PL_EINVAL);
	sk.type = PL_SIGTYPE_COSIG_V1;
	assert_int_equal(pl_auth_sign(&hdr, &sk, "GET", "/x", 2, NULL, 0, T0, nonce0), PL_EINVAL);
	assert_int_equal(hdr.len, 0);
	/* A buffer too small leaves it unchanged. */
	sk.type = PL_SIGTYPE_ED25519;
	pl_buf_release(&hdr);
	pl_buf_init(&hdr, 40);
	assert_int_equal(pl_buf_adds(&hdr, "x"), 0);
	assert_int_equal(pl_auth_sign(&hdr, &sk, "GET", "/x", 2, NULL, 0, T0, nonce0), PL_ETOOBIG);
	assert_string_equal(hdr.data, "x");
	pl_buf_release(&hdr);
	pl_skey_clear(&sk);
}

static void test_random_nonce(void **state)
{
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_buf h1, h2;
	struct pl_auth a1, a2;

	(void)state;
	fixed_key(&sk, &vk, NAME, 7);
	pl_buf_init(&h1, PL_AUTH_HEADER_MAX);
	pl_buf_init(&h2, PL_AUTH_HEADER_MAX);
	assert_int_equal(pl_auth_sign(&h1, &sk, "GET", "/x", 2, NULL, 0, T0, NULL), 0);
	assert_int_equal(pl_auth_sign(&h2, &sk, "GET", "/x", 2, NULL, 0, T0, NULL), 0);
	assert_int_equal(pl_auth_parse(&a1, h1.data, h1.len), 0);
	assert_int_equal(pl_auth_parse(&a2, h2.data, h2.len), 0);
	assert_memory_not_equal(a1.nonce, a2.nonce, PL_AUTH_NONCE_BYTES);
	pl_buf_release(&h1);
	pl_buf_release(&h2);
	pl_skey_clear(&sk);
}

/*
 * Copies the template t into out with "%s" replaced by sig, "%.86s" by its
 * first 86 characters and "%.87s" by its first 87 (the templates stay plain
 * data rather than format strings).
 */
static void fill(char *out, size_t n, const char *t, const char *sig)
{
	size_t o = 0;

	while (*t && o + 1 < n) {
		size_t k = 0, take = 0;
		if (strncmp(t, "%s", 2) == 0)
			k = 2, take = strlen(sig);
		else if (strncmp(t, "%.86s", 5) == 0)
			k = 5, take = 86;
		else if (strncmp(t, "%.87s", 5) == 0)
			k = 5, take = 87;
		if (k) {
			for (size_t i = 0; i < take && o + 1 < n; i++)
				out[o++] = sig[i];
			t += k;
		} else {
			out[o++] = *t++;
		}
	}
	out[o] = '\0';
}

/* Every malformed header is refused, and the output struct is left alone. */
static void test_parse_malformed(void **state)
{
	static const char sig[] =
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	        "AAAAAAAAAAAAAAAAAAAA==";
	static const char good_prefix[] = "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=5, "
	                                  "nonce=00112233445566778899aabbccddeeff";
	static const char *bad[] = {
	        "",
	        "Parley-Ed25519",
	        "parley-ed25519 key=h.example/a+0a0b0c0d, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519  key=h.example/a+0a0b0c0d, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d,time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=05, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=-5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=+5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=253402300800, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=5, "
	        "nonce=00112233445566778899AABBCCDDEEFF, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0A0B0C0D, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d0e, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=5, "
	        "nonce=00112233445566778899aabbccddee, sig=%s",
	        "Parley-Ed25519 key=+0a0b0c0d, time=5, nonce=00112233445566778899aabbccddeeff, "
	        "sig=%s",
	        "Parley-Ed25519 key=h example+0a0b0c0d, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.\xc3\xa9xample+0a0b0c0d, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a0a0b0c0d, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 time=5, key=h.example/a+0a0b0c0d, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, nonce=00112233445566778899aabbccddeeff, "
	        "time=5, sig=%s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s ",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%s, x=1",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%.86s",
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=5, "
	        "nonce=00112233445566778899aabbccddeeff, sig=%.87sB", /* non-zero unused bits */
	        "Parley-Ed25519 key=h.example/a+0a0b0c0d, time=5, "
	        "nonce=00112233445566778899aabbccddeeff",
	        "Bearer key=h.example/a+0a0b0c0d, time=5, nonce=00112233445566778899aabbccddeeff, "
	        "sig=%s",
	};
	char text[1024], big[PL_AUTH_HEADER_MAX + 2];
	struct pl_auth a, before;

	(void)state;
	/* The good header parses. */
	snprintf(text, sizeof(text), "%s, sig=%s", good_prefix, sig);
	assert_int_equal(pl_auth_parse(&a, text, strlen(text)), 0);
	assert_int_equal(a.time, 5);
	memset(&a, 0x5a, sizeof(a));
	before = a;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fill(text, sizeof(text), bad[i], sig);
		if (pl_auth_parse(&a, text, strlen(text)) != PL_EMALFORMED)
			fail_msg("accepted or wrong error for case %zu: %s", i, text);
		assert_memory_equal(&a, &before, sizeof(a));
	}
	/* An embedded NUL is not a terminator: the length rules. */
	snprintf(text, sizeof(text), "%s, sig=%s", good_prefix, sig);
	assert_int_equal(pl_auth_parse(&a, text, strlen(text) + 1), PL_EMALFORMED);
	memset(big, 'a', sizeof(big));
	assert_int_equal(pl_auth_parse(&a, big, sizeof(big)), PL_ETOOBIG);
}

static void test_nonce_replay(void **state)
{
	struct pl_auth_nonces *c = NULL;
	struct pl_auth a;

	(void)state;
	assert_int_equal(pl_auth_nonces_new(&c, 0, 8, 8, WINDOW), PL_EINVAL);    /* reserve < 16 */
	assert_int_equal(pl_auth_nonces_new(&c, 16, 32, 16, WINDOW), PL_EINVAL); /* cap < reserve */
	assert_int_equal(pl_auth_nonces_new(&c, 16, 32, 64, WINDOW), PL_EINVAL); /* cap > both */
	assert_int_equal(pl_auth_nonces_new(&c, 1024, 1024, 1024, 0), PL_EINVAL); /* no window */
	assert_int_equal(pl_auth_nonces_new(&c, 1024, 1024, 1024, WINDOW), 0);
	memset(&a, 0, sizeof(a));
	snprintf(a.key_name, sizeof(a.key_name), "%s", NAME);
	a.time = T0;
	memcpy(a.nonce, nonce0, sizeof(nonce0));
	assert_int_equal(pl_auth_nonces_add(c, &a, T0), 0);
	assert_int_equal(pl_auth_nonces_add(c, &a, T0), PL_EEXIST);
	assert_int_equal(pl_auth_nonces_add(c, &a, T0 + WINDOW), PL_EEXIST);
	/* Past the window the request is refused for its time, not remembered forever. */
	assert_int_equal(pl_auth_nonces_add(c, &a, T0 + WINDOW + 1), PL_ERANGE);
	/* The same nonce from another key, or with another key ID, is another request. */
	snprintf(a.key_name, sizeof(a.key_name), "%s", "hotline.example/kpa");
	assert_int_equal(pl_auth_nonces_add(c, &a, T0), 0);
	a.key_id[0] = 1;
	assert_int_equal(pl_auth_nonces_add(c, &a, T0), 0);
	assert_int_equal(pl_auth_nonces_count(c), 3);
	assert_int_equal(pl_auth_nonces_key_count(c, &a), 1);
	pl_auth_nonces_free(c);
	pl_auth_nonces_free(NULL);
}

static void test_nonce_bound_and_expiry(void **state)
{
	struct pl_auth_nonces *c = NULL;
	struct pl_auth a;
	uint32_t i;

	(void)state;
	/* One key alone: 600 of its own and 400 from the pool. */
	assert_int_equal(pl_auth_nonces_new(&c, 400, 600, 1000, WINDOW), 0);
	memset(&a, 0, sizeof(a));
	snprintf(a.key_name, sizeof(a.key_name), "%s", NAME);
	a.time = T0;
	for (i = 0; i < 1000; i++) {
		memcpy(a.nonce, &i, sizeof(i));
		assert_int_equal(pl_auth_nonces_add(c, &a, T0), 0);
	}
	/* Full of unexpired nonces: refuse rather than forget one. */
	memcpy(a.nonce, &i, sizeof(i));
	assert_int_equal(pl_auth_nonces_add(c, &a, T0), PL_ETOOBIG);
	/* Every one of them is still a replay. */
	for (i = 0; i < 1000; i++) {
		memcpy(a.nonce, &i, sizeof(i));
		assert_int_equal(pl_auth_nonces_add(c, &a, T0 + 1), PL_EEXIST);
	}
	/* Once they expire, room comes back. */
	a.time = T0 + WINDOW + 5;
	i = 5000;
	memcpy(a.nonce, &i, sizeof(i));
	assert_int_equal(pl_auth_nonces_add(c, &a, T0 + WINDOW + 5), 0);
	assert_int_equal(pl_auth_nonces_count(c), 1);
	pl_auth_nonces_free(c);
}

static void test_nonce_many(void **state)
{
	struct pl_auth_nonces *c = NULL;
	struct pl_auth a;

	(void)state;
	assert_int_equal(pl_auth_nonces_new(&c, 1u << 16, 1u << 12, 1u << 16, WINDOW), 0);
	memset(&a, 0, sizeof(a));
	snprintf(a.key_name, sizeof(a.key_name), "%s", NAME);
	for (uint32_t i = 0; i < 50000; i++) {
		a.time = T0 + i / 1000; /* time moves: early entries expire along the way */
		memcpy(a.nonce, &i, sizeof(i));
		assert_int_equal(pl_auth_nonces_add(c, &a, a.time), 0);
		if (i % 97 == 0)
			assert_int_equal(pl_auth_nonces_add(c, &a, a.time), PL_EEXIST);
	}
	assert_true(pl_auth_nonces_count(c) <= 50000);
	pl_auth_nonces_free(c);
}

/* A header of key name with nonce number i, dated t. */
static void nonce_of(struct pl_auth *a, const char *name, uint32_t i, uint64_t t)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->key_name, sizeof(a->key_name), "%s", name);
	a->time = t;
	memcpy(a->nonce, &i, sizeof(i));
}

/* Adds nonces numbered from first until one is refused or n are in; returns how many went in. */
static uint32_t fill_key(struct pl_auth_nonces *c, const char *name, uint32_t first, uint32_t n,
                         uint64_t t, uint64_t now, int *last)
{
	struct pl_auth a;
	uint32_t i;

	*last = 0;
	for (i = 0; i < n; i++) {
		nonce_of(&a, name, first + i, t);
		*last = pl_auth_nonces_add(c, &a, now);
		if (*last != 0)
			break;
	}
	return i;
}

/*
 * One key sending as fast as it can, its requests dated as far ahead as the
 * window allows, fills its own share and no more: every other key still
 * authenticates, and only the busy key is refused.
 */
static void test_nonce_key_cannot_starve_others(void **state)
{
	struct pl_auth_nonces *c = NULL;
	struct pl_auth a;
	int last;

	(void)state;
	/* Reserve 16 each, a pool of 32, at most 32 for one key. */
	assert_int_equal(pl_auth_nonces_new(&c, 32, 16, 32, WINDOW), 0);
	assert_int_equal(fill_key(c, "hotline.example/a", 0, 1000, T0 + WINDOW - 5, T0, &last), 32);
	assert_int_equal(last, PL_ETOOBIG);
	/* b takes the rest of the pool; a is still at its cap, b at its own. */
	assert_int_equal(fill_key(c, "hotline.example/b", 0, 1000, T0 + WINDOW - 5, T0, &last), 32);
	assert_int_equal(last, PL_ETOOBIG);
	/* The pool is gone: c and d still have their reserves, exactly. */
	assert_int_equal(fill_key(c, "hotline.example/c", 0, 1000, T0, T0, &last), 16);
	assert_int_equal(last, PL_ETOOBIG);
	assert_int_equal(fill_key(c, "hotline.example/d", 0, 16, T0, T0, &last), 16);
	assert_int_equal(last, 0);
	/* Nothing was forgotten to make room: every nonce is still a replay. */
	for (uint32_t i = 0; i < 32; i++) {
		nonce_of(&a, "hotline.example/a", i, T0 + WINDOW - 5);
		assert_int_equal(pl_auth_nonces_add(c, &a, T0 + 1), PL_EEXIST);
	}
	nonce_of(&a, "hotline.example/c", 3, T0);
	assert_int_equal(pl_auth_nonces_add(c, &a, T0 + WINDOW), PL_EEXIST);
	assert_int_equal(pl_auth_nonces_key_count(c, &a), 16);
	assert_int_equal(pl_auth_nonces_count(c), 32 + 32 + 16 + 16);
	/* When c's nonces expire, c has room again; a and b still hold theirs. */
	assert_int_equal(
	        fill_key(c, "hotline.example/c", 100, 16, T0 + WINDOW + 1, T0 + WINDOW + 1, &last),
	        16);
	assert_int_equal(last, 0);
	nonce_of(&a, "hotline.example/a", 0, T0);
	assert_int_equal(pl_auth_nonces_key_count(c, &a), 32);
	pl_auth_nonces_free(c);
}

/* The pool comes back to the other keys when the nonces that held it expire. */
static void test_nonce_pool_returns(void **state)
{
	struct pl_auth_nonces *c = NULL;
	int last;

	(void)state;
	assert_int_equal(pl_auth_nonces_new(&c, 32, 16, 48, WINDOW), 0);
	assert_int_equal(fill_key(c, "hotline.example/a", 0, 1000, T0, T0, &last), 48);
	assert_int_equal(last, PL_ETOOBIG);
	assert_int_equal(fill_key(c, "hotline.example/b", 0, 1000, T0, T0, &last), 16);
	assert_int_equal(last, PL_ETOOBIG);
	/* a's nonces (and b's first ones) have expired: b may now draw on the whole pool. */
	assert_int_equal(fill_key(c, "hotline.example/b", 1000, 1000, T0 + WINDOW + 1,
	                          T0 + WINDOW + 1, &last),
	                 16 + 32);
	assert_int_equal(last, PL_ETOOBIG);
	/* Keys left with no unexpired nonce are forgotten: the memory follows the live keys. */
	assert_int_equal(
	        fill_key(c, "hotline.example/e", 0, 1, T0 + 10 * WINDOW, T0 + 10 * WINDOW, &last),
	        1);
	assert_int_equal(pl_auth_nonces_count(c), 1);
	pl_auth_nonces_free(c);
}

/* Content-Digest: what is formatted parses back; anything else is refused, output untouched. */
static void test_digest(void **state)
{
	static const char *bad[] = {
	        "",
	        "sha-256=",
	        "sha-256=::",
	        /* the good value with one change each */
	        "SHA-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
	        "sha-512=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
	        "sha256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
	        " sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
	        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=: ",
	        "sha-256 =:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
	        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
	        "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
	        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU:",
	        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=:", /* unused bits set */
	        "sha-256=:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=:", /* base64url */
	        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSu=:",   /* 31 bytes */
	        "sha-256=:\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF\":",
	        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:;a=1",
	        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:, sha-512=:AA==:",
	        "sha-512=:AA==:, sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
	        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSu\nFU=:",
	        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
	        "id-sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF=:",
	};
	static const char good[] = "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:";
	uint8_t h[PL_HASH_BYTES], want[PL_HASH_BYTES], before[PL_HASH_BYTES];
	char big[PL_AUTH_DIGEST_LEN + 2];
	struct pl_buf b;

	(void)state;
	/* RFC 9530's example: the SHA-256 of the empty body. */
	pl_sha256(want, "", 0);
	assert_int_equal(pl_auth_digest_parse(h, good, strlen(good)), 0);
	assert_memory_equal(h, want, sizeof(h));
	pl_buf_init(&b, 128);
	assert_int_equal(pl_auth_digest_format(&b, NULL, 0), 0);
	assert_string_equal(b.data, good);
	pl_buf_release(&b);
	assert_int_equal(pl_auth_digest_format(&b, "blob", 4), 0);
	assert_int_equal(b.len, PL_AUTH_DIGEST_LEN);
	assert_int_equal(pl_auth_digest_parse(h, b.data, b.len), 0);
	pl_sha256(want, "blob", 4);
	assert_memory_equal(h, want, sizeof(h));
	pl_buf_release(&b);

	memset(h, 0x5a, sizeof(h));
	memcpy(before, h, sizeof(h));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = pl_auth_digest_parse(h, bad[i], strlen(bad[i]));
		if (ret != PL_EMALFORMED && ret != PL_ETOOBIG)
			fail_msg("accepted or wrong error for case %zu: %s", i, bad[i]);
		assert_memory_equal(h, before, sizeof(h));
	}
	/* An embedded NUL is not a terminator: the length rules. */
	assert_int_equal(pl_auth_digest_parse(h, good, strlen(good) - 1), PL_EMALFORMED);
	memset(big, 'a', sizeof(big));
	assert_int_equal(pl_auth_digest_parse(h, big, sizeof(big)), PL_ETOOBIG);
	assert_memory_equal(h, before, sizeof(h));
}

struct race {
	struct pl_auth_nonces *c;
	uint32_t base;
	int fresh, replays;
};

static void *race_main(void *arg)
{
	struct race *r = arg;
	struct pl_auth a;

	memset(&a, 0, sizeof(a));
	snprintf(a.key_name, sizeof(a.key_name), "%s", NAME);
	a.time = T0;
	for (uint32_t i = 0; i < 4000; i++) {
		uint32_t v = i; /* every thread adds the same nonces: each is fresh exactly once */
		memcpy(a.nonce, &v, sizeof(v));
		int ret = pl_auth_nonces_add(r->c, &a, T0);
		if (ret == 0)
			r->fresh++;
		else if (ret == PL_EEXIST)
			r->replays++;
	}
	return NULL;
}

static void test_nonce_threads(void **state)
{
	struct pl_auth_nonces *c = NULL;
	struct race r[4];
	pthread_t t[4];
	int fresh = 0, replays = 0;

	(void)state;
	assert_int_equal(pl_auth_nonces_new(&c, 1u << 16, 1u << 12, 1u << 16, WINDOW), 0);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct race){c, (uint32_t)i, 0, 0};
		assert_int_equal(pthread_create(&t[i], NULL, race_main, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		fresh += r[i].fresh;
		replays += r[i].replays;
	}
	assert_int_equal(fresh, 4000);
	assert_int_equal(replays, 3 * 4000);
	pl_auth_nonces_free(c);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_documented_format),
             cmocka_unit_test(test_tampering_is_refused), cmocka_unit_test(test_time_window),
             cmocka_unit_test(test_sign_rejects_bad_input), cmocka_unit_test(test_random_nonce),
             cmocka_unit_test(test_parse_malformed), cmocka_unit_test(test_nonce_replay),
             cmocka_unit_test(test_nonce_bound_and_expiry), cmocka_unit_test(test_nonce_many),
             cmocka_unit_test(test_nonce_threads),
             cmocka_unit_test(test_nonce_key_cannot_starve_others),
             cmocka_unit_test(test_nonce_pool_returns), cmocka_unit_test(test_digest))
