/* Unit tests of payload blobs: sealing, opening, tampering, equivocation, disclosure, the format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include <parley/box.h>
#include <parley/encoding.h>

#include "testutil.h"

#define NKEYS 4 /* three readers and one outsider */

static struct pl_box_keypair keys[NKEYS];
static uint8_t pks[NKEYS][PL_BOX_PK_BYTES];

static const char body[] = "Proposal for military talks to reset the MDL baseline, 2025-11-17.";

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	for (size_t i = 0; i < NKEYS; i++) {
		pl_box_keypair_generate(&keys[i]);
		memcpy(pks[i], keys[i].pk, PL_BOX_PK_BYTES);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < NKEYS; i++)
		pl_box_keypair_clear(&keys[i]);
	return 0;
}

/* Seals body to the first three keys. */
static void seal3(uint8_t **blob, size_t *len, uint8_t commit[static PL_BOX_COMMIT_BYTES],
                  uint8_t salt[static PL_BOX_SALT_BYTES])
{
	assert_int_equal(pl_box_seal(blob, len, commit, salt, (const uint8_t *)body, strlen(body),
	                             (const uint8_t(*)[PL_BOX_PK_BYTES])pks, 3),
	                 0);
}

static void test_seal_open_three_readers(void **state)
{
	uint8_t *blob, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	size_t len;

	(void)state;
	seal3(&blob, &len, commit, salt);
	assert_int_equal(len, PL_BOX_BLOB_BYTES(3, strlen(body)));
	for (size_t i = 0; i < 3; i++) {
		uint8_t *pt = NULL, got_salt[PL_BOX_SALT_BYTES];
		size_t pt_len = 0;
		assert_true(pl_box_has_reader(blob, len, pks[i]));
		assert_int_equal(pl_box_open(&pt, &pt_len, got_salt, blob, len, &keys[i], commit),
		                 0);
		assert_int_equal(pt_len, strlen(body));
		assert_memory_equal(pt, body, pt_len);
		assert_int_equal(pt[pt_len], 0);
		assert_memory_equal(got_salt, salt, sizeof(salt));
		assert_int_equal(pl_box_disclosure_verify(commit, got_salt, pt, pt_len), 0);
		pl_box_plaintext_free(pt, pt_len);
	}
	pl_box_plaintext_free(NULL, 0);
	free(blob);
}

static void test_fresh_key_and_salt_each_time(void **state)
{
	uint8_t *a, *b, ca[PL_BOX_COMMIT_BYTES], cb[PL_BOX_COMMIT_BYTES];
	uint8_t sa[PL_BOX_SALT_BYTES], sb[PL_BOX_SALT_BYTES];
	size_t la, lb;

	(void)state;
	seal3(&a, &la, ca, sa);
	seal3(&b, &lb, cb, sb);
	assert_int_equal(la, lb);
	assert_memory_not_equal(a, b, la);
	assert_memory_not_equal(ca, cb, sizeof(ca));
	assert_memory_not_equal(sa, sb, sizeof(sa));
	free(a);
	free(b);
}

static void test_empty_and_large_bodies(void **state)
{
	static const size_t sizes[] = {0, 1, 15, 16, 17, 1024, 1u << 20};
	uint8_t *src = malloc(1u << 20);

	(void)state;
	assert_non_null(src);
	randombytes_buf(src, 1u << 20);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint8_t *blob, *pt, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
		struct pl_box_info info;
		size_t len, pt_len;
		assert_int_equal(pl_box_seal(&blob, &len, commit, NULL, sizes[k] ? src : NULL,
		                             sizes[k], (const uint8_t(*)[PL_BOX_PK_BYTES])pks, 1),
		                 0);
		assert_int_equal(pl_box_parse(&info, blob, len), 0);
		assert_int_equal(info.body_len, sizes[k]);
		assert_int_equal(info.nreaders, 1);
		assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[0], commit), 0);
		assert_int_equal(pt_len, sizes[k]);
		assert_int_equal(pt[pt_len], 0);
		if (pt_len)
			assert_memory_equal(pt, src, pt_len);
		pl_box_plaintext_free(pt, pt_len);
		free(blob);
	}
	free(src);
}

static void test_non_reader_cannot_open(void **state)
{
	uint8_t *blob, *pt = NULL, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	struct pl_box_keypair mixed;
	size_t len, pt_len = 0;

	(void)state;
	seal3(&blob, &len, commit, salt);
	assert_false(pl_box_has_reader(blob, len, pks[3]));
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[3], commit),
	                 PL_ENOTFOUND);
	assert_null(pt);
	assert_int_equal(pt_len, 0);
	/* Claiming a reader's public key without its secret finds the slot but cannot open it. */
	memcpy(mixed.pk, keys[0].pk, PL_BOX_PK_BYTES);
	memcpy(mixed.sk, keys[3].sk, PL_BOX_SK_BYTES);
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &mixed, commit), PL_ECRYPTO);
	assert_null(pt);
	pl_box_keypair_clear(&mixed);
	free(blob);
}

static void test_wrong_commit(void **state)
{
	uint8_t *blob, *pt = NULL, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	uint8_t out_salt[PL_BOX_SALT_BYTES] = {0};
	size_t len, pt_len = 0;

	(void)state;
	seal3(&blob, &len, commit, salt);
	commit[7] ^= 0x20;
	assert_int_equal(pl_box_open(&pt, &pt_len, out_salt, blob, len, &keys[1], commit),
	                 PL_ECOMMIT);
	assert_null(pt);
	assert_int_equal(pt_len, 0);
	for (size_t i = 0; i < sizeof(out_salt); i++)
		assert_int_equal(out_salt[i], 0); /* out-parameters untouched on failure */
	free(blob);
}

/* Flipping any single bit anywhere in the blob stops every reader from opening it. */
static void test_every_bit_flip_detected(void **state)
{
	uint8_t *blob, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	size_t len;

	(void)state;
	seal3(&blob, &len, commit, salt);
	for (size_t pos = 0; pos < len; pos++) {
		uint8_t bit = (uint8_t)(1u << (pos % 8));
		blob[pos] ^= bit;
		for (size_t r = 0; r < 3; r++) {
			uint8_t *pt = NULL, s[PL_BOX_SALT_BYTES];
			size_t pt_len;
			int ret = pl_box_open(&pt, &pt_len, s, blob, len, &keys[r], commit);
			if (ret == 0)
				fail_msg("flip at byte %zu opened for reader %zu", pos, r);
			assert_null(pt);
		}
		blob[pos] ^= bit;
	}
	free(blob);
}

static void test_tampered_ciphertext_and_header(void **state)
{
	uint8_t *blob, *pt = NULL, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	size_t len, pt_len, hlen = PL_BOX_FIXED_BYTES + 3 * PL_BOX_SLOT_BYTES;

	(void)state;
	seal3(&blob, &len, commit, salt);
	/* Body byte, salt byte, Poly1305 tag byte. */
	blob[len - 20] ^= 1;
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[0], commit), PL_ECRYPTO);
	blob[len - 20] ^= 1;
	blob[hlen + 3] ^= 1;
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[0], commit), PL_ECRYPTO);
	blob[hlen + 3] ^= 1;
	blob[len - 1] ^= 0x80;
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[0], commit), PL_ECRYPTO);
	blob[len - 1] ^= 0x80;
	/* Another reader's sealed key: reader 0 still opens its slot, but the header is bound. */
	blob[PL_BOX_FIXED_BYTES + 2 * PL_BOX_SLOT_BYTES + 40] ^= 4;
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[0], commit), PL_ECRYPTO);
	blob[PL_BOX_FIXED_BYTES + 2 * PL_BOX_SLOT_BYTES + 40] ^= 4;
	/* Its own sealed key. */
	blob[PL_BOX_FIXED_BYTES + PL_BOX_TAG_BYTES + 1] ^= 4;
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[0], commit), PL_ECRYPTO);
	blob[PL_BOX_FIXED_BYTES + PL_BOX_TAG_BYTES + 1] ^= 4;
	/* Another reader's tag. */
	blob[PL_BOX_FIXED_BYTES + PL_BOX_SLOT_BYTES] ^= 1;
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[0], commit), PL_ECRYPTO);
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[1], commit),
	                 PL_ENOTFOUND);
	blob[PL_BOX_FIXED_BYTES + PL_BOX_SLOT_BYTES] ^= 1;
	/* The nonce changes every tag. */
	blob[10] ^= 1;
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[0], commit),
	                 PL_ENOTFOUND);
	blob[10] ^= 1;
	assert_null(pt);
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[0], commit), 0);
	pl_box_plaintext_free(pt, pt_len);
	free(blob);
}

static void test_swapped_slots(void **state)
{
	uint8_t *blob, *pt = NULL, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	uint8_t tmp[PL_BOX_SLOT_BYTES];
	uint8_t *s0, *s1;
	size_t len, pt_len;

	(void)state;
	seal3(&blob, &len, commit, salt);
	s0 = blob + PL_BOX_FIXED_BYTES;
	s1 = s0 + PL_BOX_SLOT_BYTES;
	/* Whole slots swapped: each reader finds its slot, but the header is not the sealed one. */
	memcpy(tmp, s0, sizeof(tmp));
	memcpy(s0, s1, sizeof(tmp));
	memcpy(s1, tmp, sizeof(tmp));
	for (size_t r = 0; r < 3; r++)
		assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[r], commit),
		                 PL_ECRYPTO);
	memcpy(s1, s0, sizeof(tmp));
	memcpy(s0, tmp, sizeof(tmp));
	/* Sealed keys swapped under the tags: the slot does not open for its tag's reader. */
	memcpy(tmp, s0 + PL_BOX_TAG_BYTES, PL_BOX_SLOT_BYTES - PL_BOX_TAG_BYTES);
	memcpy(s0 + PL_BOX_TAG_BYTES, s1 + PL_BOX_TAG_BYTES, PL_BOX_SLOT_BYTES - PL_BOX_TAG_BYTES);
	memcpy(s1 + PL_BOX_TAG_BYTES, tmp, PL_BOX_SLOT_BYTES - PL_BOX_TAG_BYTES);
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[0], commit), PL_ECRYPTO);
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[1], commit), PL_ECRYPTO);
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, len, &keys[2], commit), PL_ECRYPTO);
	assert_null(pt);
	free(blob);
}

/* The layout of docs/payloads.md, checked byte by byte against an independent computation. */
static void test_format_layout(void **state)
{
	uint8_t *blob, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	uint8_t expect[PL_HASH_BYTES], hash[PL_BOX_HASH_BYTES];
	struct pl_box_info info;
	size_t len, n = strlen(body);
	uint32_t ctlen;

	(void)state;
	seal3(&blob, &len, commit, salt);
	assert_memory_equal(blob, "PLBX", 4);
	assert_int_equal(blob[4], 1);
	assert_int_equal(blob[5], 3);
	ctlen = (uint32_t)blob[30] << 24 | (uint32_t)blob[31] << 16 | (uint32_t)blob[32] << 8 |
	        blob[33];
	assert_int_equal(ctlen, 32 + n + 16);
	assert_int_equal(len, 34 + 3 * 88 + ctlen);
	for (size_t i = 0; i < 3; i++) {
		uint8_t msg[20 + 24 + 32];
		memcpy(msg, "parley-box-v1-reader", 20);
		memcpy(msg + 20, blob + 6, 24);
		memcpy(msg + 44, pks[i], 32);
		pl_sha256(expect, msg, sizeof(msg));
		assert_memory_equal(blob + 34 + i * 88, expect, 8);
	}
	assert_int_equal(pl_box_parse(&info, blob, len), 0);
	assert_int_equal(info.version, 1);
	assert_int_equal(info.nreaders, 3);
	assert_int_equal(info.header_len, 34 + 3 * 88);
	assert_int_equal(info.body_len, n);
	assert_memory_equal(info.nonce, blob + 6, 24);
	/* The payload hash is SHA-256 of the whole blob. */
	pl_box_hash(hash, blob, len);
	pl_sha256(expect, blob, len);
	assert_memory_equal(hash, expect, sizeof(hash));
	/* The commitment is SHA-256(domain || salt || plaintext). */
	{
		uint8_t msg[20 + 32 + sizeof(body)];
		memcpy(msg, "parley-box-v1-commit", 20);
		memcpy(msg + 20, salt, 32);
		memcpy(msg + 52, body, n);
		pl_sha256(expect, msg, 52 + n);
		assert_memory_equal(commit, expect, sizeof(commit));
	}
	free(blob);
}

/* Fixed commitment vectors (an all-0x01 salt), computed independently with Python's hashlib. */
static void test_commit_vector(void **state)
{
	static const char abc[] =
	        "49c6825dcc90c29c109c327053c058dcc0a5236875182b2ba27c7b5061f24014";
	static const char empty[] =
	        "a831f8051a418736bde59bca0a949761323dc23a76bcb1f10e709cb7c57c5c35";
	uint8_t salt[PL_BOX_SALT_BYTES], c[PL_BOX_COMMIT_BYTES];
	char hex[2 * PL_BOX_COMMIT_BYTES + 1];

	(void)state;
	memset(salt, 1, sizeof(salt));
	pl_box_commit(c, salt, (const uint8_t *)"abc", 3);
	pl_hex_encode(hex, c, sizeof(c));
	assert_string_equal(hex, abc);
	assert_int_equal(pl_box_disclosure_verify(c, salt, (const uint8_t *)"abc", 3), 0);
	/* An empty plaintext commits to the salt alone. */
	pl_box_commit(c, salt, NULL, 0);
	pl_hex_encode(hex, c, sizeof(c));
	assert_string_equal(hex, empty);
	assert_int_equal(pl_box_disclosure_verify(c, salt, NULL, 0), 0);
}

static void test_disclosure(void **state)
{
	uint8_t *blob, *pt, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	uint8_t s[PL_BOX_SALT_BYTES];
	size_t len, pt_len;

	(void)state;
	seal3(&blob, &len, commit, salt);
	/* A recipient opens, then discloses (plaintext, salt); a third party checks the record. */
	assert_int_equal(pl_box_open(&pt, &pt_len, s, blob, len, &keys[2], commit), 0);
	assert_int_equal(pl_box_disclosure_verify(commit, s, pt, pt_len), 0);
	/* A wrong plaintext: one byte changed, one byte short, one byte long. */
	pt[0] ^= 1;
	assert_int_equal(pl_box_disclosure_verify(commit, s, pt, pt_len), PL_ECOMMIT);
	pt[0] ^= 1;
	assert_int_equal(pl_box_disclosure_verify(commit, s, pt, pt_len - 1), PL_ECOMMIT);
	assert_int_equal(pl_box_disclosure_verify(commit, s, pt, pt_len + 1), PL_ECOMMIT);
	assert_int_equal(pl_box_disclosure_verify(commit, s, NULL, 0), PL_ECOMMIT);
	/* A wrong salt. */
	s[31] ^= 0x40;
	assert_int_equal(pl_box_disclosure_verify(commit, s, pt, pt_len), PL_ECOMMIT);
	s[31] ^= 0x40;
	/* Another record's commitment. */
	commit[0] ^= 1;
	assert_int_equal(pl_box_disclosure_verify(commit, s, pt, pt_len), PL_ECOMMIT);
	commit[0] ^= 1;
	assert_int_equal(pl_box_disclosure_verify(commit, s, pt, PL_BOX_MAX_BODY + 1), PL_ETOOBIG);
	assert_int_equal(pl_box_disclosure_verify(commit, s, pt, pt_len), 0);
	pl_box_plaintext_free(pt, pt_len);
	free(blob);
}

static void test_seal_arguments(void **state)
{
	static const uint8_t zero[1][PL_BOX_PK_BYTES];
	/* A point of order 8 on Curve25519. */
	static const uint8_t order8[PL_BOX_PK_BYTES] = {
	        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	        0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	        0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
	};
	uint8_t one[PL_BOX_PK_BYTES] = {1};
	uint8_t(*many)[PL_BOX_PK_BYTES];
	uint8_t dup[2][PL_BOX_PK_BYTES];
	uint8_t mixed[2][PL_BOX_PK_BYTES];
	uint8_t *blob = NULL, commit[PL_BOX_COMMIT_BYTES];
	size_t len = 0;
	const uint8_t *pt = (const uint8_t *)body;

	(void)state;
	assert_int_equal(pl_box_seal(&blob, &len, commit, NULL, pt, 3, NULL, 0), PL_EINVAL);
	assert_int_equal(
	        pl_box_seal(&blob, &len, commit, NULL, NULL, 3, (const uint8_t(*)[32])pks, 1),
	        PL_EINVAL);
	assert_int_equal(pl_box_seal(&blob, &len, commit, NULL, pt, PL_BOX_MAX_BODY + 1,
	                             (const uint8_t(*)[32])pks, 1),
	                 PL_ETOOBIG);
	many = calloc(PL_BOX_MAX_READERS + 1, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i <= PL_BOX_MAX_READERS; i++) {
		struct pl_box_keypair kp;
		pl_box_keypair_generate(&kp);
		memcpy(many[i], kp.pk, PL_BOX_PK_BYTES);
		pl_box_keypair_clear(&kp);
	}
	assert_int_equal(pl_box_seal(&blob, &len, commit, NULL, pt, 3, (const uint8_t(*)[32])many,
	                             PL_BOX_MAX_READERS + 1),
	                 PL_ETOOBIG);
	assert_int_equal(pl_box_seal(&blob, &len, commit, NULL, pt, 3, (const uint8_t(*)[32])many,
	                             PL_BOX_MAX_READERS),
	                 0);
	assert_int_equal(len, PL_BOX_BLOB_BYTES(PL_BOX_MAX_READERS, 3));
	assert_true(pl_box_has_reader(blob, len, many[PL_BOX_MAX_READERS - 1]));
	assert_false(pl_box_has_reader(blob, len, many[PL_BOX_MAX_READERS]));
	free(blob);
	blob = NULL;
	len = 0;
	free(many);
	memcpy(dup[0], pks[1], 32);
	memcpy(dup[1], pks[1], 32);
	assert_int_equal(
	        pl_box_seal(&blob, &len, commit, NULL, pt, 3, (const uint8_t(*)[32])dup, 2),
	        PL_EINVAL);
	/* Low-order keys give no shared secret. */
	assert_false(pl_box_pk_is_valid(zero[0]));
	assert_false(pl_box_pk_is_valid(one));
	assert_false(pl_box_pk_is_valid(order8));
	assert_true(pl_box_pk_is_valid(pks[0]));
	assert_int_equal(pl_box_seal(&blob, &len, commit, NULL, pt, 3, zero, 1), PL_EKEY);
	memcpy(mixed[0], pks[0], 32);
	memcpy(mixed[1], order8, 32);
	assert_int_equal(
	        pl_box_seal(&blob, &len, commit, NULL, pt, 3, (const uint8_t(*)[32])mixed, 2),
	        PL_EKEY);
	assert_null(blob);
	assert_int_equal(len, 0);
}

static void test_keypair_from_secret(void **state)
{
	/* RFC 7748 §6.1: Alice's private and public keys. */
	static const uint8_t alice_sk[32] = {
	        0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1,
	        0x72, 0x51, 0xb2, 0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0,
	        0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a,
	};
	static const uint8_t alice_pk[32] = {
	        0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d,
	        0xdc, 0xb4, 0x3e, 0xf7, 0x5a, 0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38,
	        0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a,
	};
	struct pl_box_keypair kp;

	(void)state;
	assert_int_equal(pl_box_keypair_from_secret(&kp, alice_sk), 0);
	assert_memory_equal(kp.pk, alice_pk, 32);
	assert_true(pl_box_pk_is_valid(kp.pk));
	memset(&kp, 0xaa, sizeof(kp));
	assert_int_equal(pl_box_keypair_from_secret(&kp, keys[2].sk), 0);
	assert_memory_equal(kp.pk, keys[2].pk, PL_BOX_PK_BYTES);
	assert_memory_equal(kp.sk, keys[2].sk, PL_BOX_SK_BYTES);
	pl_box_keypair_clear(&kp);
	for (size_t i = 0; i < sizeof(kp); i++)
		assert_int_equal(((const uint8_t *)&kp)[i], 0);
}

/* Malformed blobs: each is derived from a valid one with a single change. */
enum mutation { TRUNCATE, APPEND, SET_BYTE, SET_CTLEN, DUP_TAG };

static const struct {
	const char *what;
	enum mutation op;
	size_t at;      /* new length, or byte offset */
	uint32_t value; /* byte value, or length field */
	int parse_ret;
} malformed[] = {
        {"empty", TRUNCATE, 0, 0, PL_EMALFORMED},
        {"inside magic", TRUNCATE, 3, 0, PL_EMALFORMED},
        {"after magic", TRUNCATE, 4, 0, PL_EMALFORMED},
        {"after version", TRUNCATE, 5, 0, PL_EMALFORMED},
        {"after count", TRUNCATE, 6, 0, PL_EMALFORMED},
        {"inside nonce", TRUNCATE, 20, 0, PL_EMALFORMED},
        {"after nonce", TRUNCATE, 30, 0, PL_EMALFORMED},
        {"inside length", TRUNCATE, 32, 0, PL_EMALFORMED},
        {"after length", TRUNCATE, 34, 0, PL_EMALFORMED},
        {"inside first tag", TRUNCATE, 38, 0, PL_EMALFORMED},
        {"after first tag", TRUNCATE, 42, 0, PL_EMALFORMED},
        {"inside first sealed key", TRUNCATE, 100, 0, PL_EMALFORMED},
        {"after first slot", TRUNCATE, 122, 0, PL_EMALFORMED},
        {"inside last slot", TRUNCATE, 250, 0, PL_EMALFORMED},
        {"after header", TRUNCATE, 298, 0, PL_EMALFORMED},
        {"inside salt", TRUNCATE, 310, 0, PL_EMALFORMED},
        {"after salt", TRUNCATE, 330, 0, PL_EMALFORMED},
        {"inside body", TRUNCATE, 340, 0, PL_EMALFORMED},
        {"inside Poly1305 tag", TRUNCATE, SIZE_MAX, 1, PL_EMALFORMED},
        {"one trailing byte", APPEND, 1, 0, PL_EMALFORMED},
        {"a trailing block", APPEND, 64, 0, PL_EMALFORMED},
        {"bad magic", SET_BYTE, 0, 'p', PL_EMALFORMED},
        {"bad magic end", SET_BYTE, 3, 'Y', PL_EMALFORMED},
        {"version 0", SET_BYTE, 4, 0, PL_EMALFORMED},
        {"version 2", SET_BYTE, 4, 2, PL_EMALFORMED},
        {"version 255", SET_BYTE, 4, 255, PL_EMALFORMED},
        {"no readers", SET_BYTE, 5, 0, PL_EMALFORMED},
        {"fewer readers than slots", SET_BYTE, 5, 2, PL_EMALFORMED},
        {"more readers than slots", SET_BYTE, 5, 4, PL_EMALFORMED},
        {"too many readers", SET_BYTE, 5, PL_BOX_MAX_READERS + 1, PL_ETOOBIG},
        {"255 readers", SET_BYTE, 5, 255, PL_ETOOBIG},
        {"length zero", SET_CTLEN, 0, 0, PL_EMALFORMED},
        {"length below overhead", SET_CTLEN, 0, 47, PL_EMALFORMED},
        {"length near 2^32", SET_CTLEN, 0, 0xfffffffe, PL_ETOOBIG},
        {"length overflow", SET_CTLEN, 0, 0xffffffff, PL_ETOOBIG},
        {"length past maximum", SET_CTLEN, 0, PL_BOX_MAX_BODY + 49, PL_ETOOBIG},
        {"length at maximum, blob short", SET_CTLEN, 0, PL_BOX_MAX_BODY + 48, PL_EMALFORMED},
        {"length one more", SET_CTLEN, 1, 0, PL_EMALFORMED},
        {"length one less", SET_CTLEN, 2, 0, PL_EMALFORMED},
        {"repeated tag", DUP_TAG, 0, 0, PL_EMALFORMED},
};

static void test_malformed_table(void **state)
{
	uint8_t *blob, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	size_t len;

	(void)state;
	seal3(&blob, &len, commit, salt);
	assert_int_equal(len, 298 + 48 + strlen(body));
	for (size_t k = 0; k < sizeof(malformed) / sizeof(malformed[0]); k++) {
		uint8_t *m = malloc(len + 64), *pt = NULL, s[PL_BOX_SALT_BYTES];
		struct pl_box_info info;
		size_t mlen = len, pt_len;
		uint32_t v = malformed[k].value;
		int ret;

		assert_non_null(m);
		memcpy(m, blob, len);
		switch (malformed[k].op) {
		case TRUNCATE:
			mlen = malformed[k].at == SIZE_MAX ? len - v : malformed[k].at;
			break;
		case APPEND:
			memset(m + len, 0, malformed[k].at);
			mlen = len + malformed[k].at;
			break;
		case SET_BYTE:
			m[malformed[k].at] = (uint8_t)v;
			break;
		case SET_CTLEN:
			if (malformed[k].at == 1)
				v = (uint32_t)(len - 298 + 1);
			else if (malformed[k].at == 2)
				v = (uint32_t)(len - 298 - 1);
			m[30] = (uint8_t)(v >> 24);
			m[31] = (uint8_t)(v >> 16);
			m[32] = (uint8_t)(v >> 8);
			m[33] = (uint8_t)v;
			break;
		case DUP_TAG:
			memcpy(m + 34 + 2 * 88, m + 34, 8);
			break;
		}
		ret = pl_box_parse(&info, m, mlen);
		if (ret != malformed[k].parse_ret)
			fail_msg("%s: parse returned %d, want %d", malformed[k].what, ret,
			         malformed[k].parse_ret);
		ret = pl_box_open(&pt, &pt_len, s, m, mlen, &keys[0], commit);
		if (ret != malformed[k].parse_ret)
			fail_msg("%s: open returned %d, want %d", malformed[k].what, ret,
			         malformed[k].parse_ret);
		assert_null(pt);
		assert_false(pl_box_has_reader(m, mlen, pks[0]));
		free(m);
	}
	{
		struct pl_box_info info;
		assert_int_equal(pl_box_parse(&info, NULL, 0), PL_EMALFORMED);
	}
	free(blob);
}

/*
 * Equivocation. Poly1305 is not key-committing: a malicious sender can pick
 * two content keys and one ciphertext that authenticates under both, seal
 * one key to reader A and the other to reader B, and so show the two readers
 * different plaintexts. This test builds such a blob with arithmetic modulo
 * 2^130 - 5 and checks that the AEAD alone accepts it for both readers while
 * the commitment catches it.
 */

/* An element of GF(2^130 - 5) in five 26-bit limbs. */
struct fe {
	uint64_t l[5];
};

#define M26 ((1ull << 26) - 1)

static void fe_carry(struct fe *a)
{
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < 4; i++) {
			a->l[i + 1] += a->l[i] >> 26;
			a->l[i] &= M26;
		}
		a->l[0] += 5 * (a->l[4] >> 26);
		a->l[4] &= M26;
	}
}

/* From a little-endian number below 2^130. */
static void fe_from_le(struct fe *a, const uint8_t *p, size_t n)
{
	memset(a, 0, sizeof(*a));
	for (size_t bit = 0; bit < 8 * n; bit++) {
		if (p[bit / 8] >> (bit % 8) & 1)
			a->l[bit / 26] |= 1ull << (bit % 26);
	}
}

/* Fully reduced, to 17 little-endian bytes. */
static void fe_to_le(uint8_t p[17], const struct fe *in)
{
	struct fe a = *in, g;

	fe_carry(&a);
	g = a;
	g.l[0] += 5;
	for (int i = 0; i < 4; i++) {
		g.l[i + 1] += g.l[i] >> 26;
		g.l[i] &= M26;
	}
	if (g.l[4] >> 26) { /* a >= p: a - p = a + 5 - 2^130 */
		g.l[4] &= M26;
		a = g;
	}
	memset(p, 0, 17);
	for (size_t bit = 0; bit < 130; bit++) {
		if (a.l[bit / 26] >> (bit % 26) & 1)
			p[bit / 8] |= (uint8_t)(1u << (bit % 8));
	}
}

static void fe_add(struct fe *r, const struct fe *a, const struct fe *b)
{
	for (int i = 0; i < 5; i++)
		r->l[i] = a->l[i] + b->l[i];
	fe_carry(r);
}

/* a - b, computed as a + 2p - b with carried inputs. */
static void fe_sub(struct fe *r, const struct fe *a, const struct fe *b)
{
	struct fe x = *a, y = *b;

	fe_carry(&x);
	fe_carry(&y);
	r->l[0] = x.l[0] + 2 * (M26 - 4) - y.l[0];
	for (int i = 1; i < 5; i++)
		r->l[i] = x.l[i] + 2 * M26 - y.l[i];
	fe_carry(r);
}

static void fe_mul(struct fe *r, const struct fe *a, const struct fe *b)
{
	uint64_t t[9] = {0};

	for (int i = 0; i < 5; i++) {
		for (int j = 0; j < 5; j++)
			t[i + j] += a->l[i] * b->l[j];
	}
	for (int k = 8; k >= 5; k--)
		t[k - 5] += 5 * t[k];
	for (int i = 0; i < 4; i++) {
		t[i + 1] += t[i] >> 26;
		t[i] &= M26;
	}
	t[0] += 5 * (t[4] >> 26);
	t[4] &= M26;
	for (int i = 0; i < 5; i++)
		r->l[i] = t[i];
	fe_carry(r);
}

/* a^(p-2) = 1/a. */
static void fe_inv(struct fe *r, const struct fe *a)
{
	static const uint8_t e[17] = {0xf9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03};
	struct fe acc = {{1, 0, 0, 0, 0}};

	for (int bit = 129; bit >= 0; bit--) {
		fe_mul(&acc, &acc, &acc);
		if (e[bit / 8] >> (bit % 8) & 1)
			fe_mul(&acc, &acc, a);
	}
	*r = acc;
}

/* The clamped r of a Poly1305 one-time key. */
static void poly_r(struct fe *r, const uint8_t otk[32])
{
	uint8_t rb[16];

	memcpy(rb, otk, 16);
	rb[3] &= 15;
	rb[7] &= 15;
	rb[11] &= 15;
	rb[15] &= 15;
	rb[4] &= 252;
	rb[8] &= 252;
	rb[12] &= 252;
	fe_from_le(r, rb, 16);
}

/* The Poly1305 accumulator (before s is added) over whole 16-byte blocks. */
static void poly_acc(struct fe *h, const uint8_t otk[32], const uint8_t *m, size_t n)
{
	struct fe r, blk;

	poly_r(&r, otk);
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < n; i += 16) {
		uint8_t b[17];
		memcpy(b, m + i, 16);
		b[16] = 1;
		fe_from_le(&blk, b, 17);
		fe_add(h, h, &blk);
		fe_mul(h, h, &r);
	}
}

/* The Poly1305 one-time key and subkey of XChaCha20-Poly1305 for (key, nonce). */
static void xchacha_keys(uint8_t otk[32], uint8_t sub[32], uint8_t n12[12], const uint8_t key[32],
                         const uint8_t nonce[24])
{
	crypto_core_hchacha20(sub, nonce, key, NULL);
	memset(n12, 0, 4);
	memcpy(n12 + 4, nonce + 16, 8);
	crypto_stream_chacha20_ietf(otk, 32, n12, sub);
}

static void put_le64(uint8_t p[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_equivocation_caught_by_commitment(void **state)
{
	enum { BODY = 64, MLEN = 32 + BODY, HLEN = 34 + 2 * 88, ADPAD = (HLEN + 15) / 16 * 16 };
	uint8_t readers[2][PL_BOX_PK_BYTES];
	uint8_t *blob, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	uint8_t k1[32], k2[32], otk1[32], otk2[32], sub1[32], sub2[32], n12[12];
	uint8_t m1[MLEN], ct[MLEN], mac[ADPAD + MLEN + 16], t1[16], t2[16];
	uint8_t *pt, pa[MLEN], pb[MLEN], ca[32], cb[32], s[32];
	size_t len, pt_len;
	bool found = false;

	(void)state;
	memcpy(readers[0], pks[0], 32); /* A, the malicious sender */
	memcpy(readers[1], pks[1], 32); /* B */
	assert_int_equal(pl_box_seal(&blob, &len, commit, salt, (const uint8_t *)body, BODY,
	                             (const uint8_t(*)[32])readers, 2),
	                 0);
	assert_int_equal(len, HLEN + MLEN + 16);
	/* A recovers its content key, draws a second one and seals it to B in B's slot. */
	assert_int_equal(crypto_box_seal_open(k1, blob + 34 + 8, 80, keys[0].pk, keys[0].sk), 0);
	randombytes_buf(k2, sizeof(k2));
	assert_int_equal(crypto_box_seal(blob + 34 + 88 + 8, k2, 32, pks[1]), 0);
	xchacha_keys(otk1, sub1, n12, k1, blob + 6);
	xchacha_keys(otk2, sub2, n12, k2, blob + 6);

	for (int attempt = 0; attempt < 400 && !found; attempt++) {
		struct fe r1, r2, e1, e2, h1, h2, dh, den, num, x, d;
		uint8_t xb[17], db[17];
		unsigned borrow = 0;

		/* A fresh salt each attempt; the last body block is left free. */
		randombytes_buf(m1, 32);
		memcpy(m1 + 32, body, BODY);
		crypto_stream_chacha20_ietf_xor_ic(ct, m1, MLEN, n12, 1, sub1);
		memset(ct + MLEN - 16, 0, 16);
		memset(mac, 0, sizeof(mac));
		memcpy(mac, blob, HLEN);
		memcpy(mac + ADPAD, ct, MLEN);
		put_le64(mac + ADPAD + MLEN, HLEN);
		put_le64(mac + ADPAD + MLEN + 8, MLEN);
		/* h_k(X) = h_k(0) + X * r_k^2: the free block is second to last. */
		poly_acc(&h1, otk1, mac, sizeof(mac));
		poly_acc(&h2, otk2, mac, sizeof(mac));
		poly_r(&r1, otk1);
		poly_r(&r2, otk2);
		fe_mul(&e1, &r1, &r1);
		fe_mul(&e2, &r2, &r2);
		fe_sub(&den, &e1, &e2);
		fe_sub(&dh, &h1, &h2);
		/* Want h1 - h2 = d + t * 2^128 with d = s2 - s1 mod 2^128, so the tags agree. */
		for (int i = 0; i < 16; i++) {
			unsigned v = (unsigned)otk2[16 + i] - otk1[16 + i] - borrow;
			db[i] = (uint8_t)v;
			borrow = (v >> 8) & 1;
		}
		for (uint8_t t = 0; t < 4 && !found; t++) {
			db[16] = t;
			fe_from_le(&d, db, 17);
			fe_sub(&num, &d, &dh);
			fe_inv(&x, &den);
			fe_mul(&x, &x, &num);
			fe_to_le(xb, &x);
			if (xb[16] != 0)
				continue; /* the block must be below 2^128 */
			memcpy(mac + ADPAD + MLEN - 16, xb, 16);
			crypto_onetimeauth_poly1305(t1, mac, sizeof(mac), otk1);
			crypto_onetimeauth_poly1305(t2, mac, sizeof(mac), otk2);
			if (memcmp(t1, t2, 16) == 0) {
				memcpy(ct + MLEN - 16, xb, 16);
				found = true;
			}
		}
	}
	assert_true(found);
	memcpy(blob + HLEN, ct, MLEN);
	memcpy(blob + HLEN + MLEN, t1, 16);

	/* The AEAD alone accepts the blob under both content keys, with different plaintexts. */
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
	                         pa, NULL, NULL, blob + HLEN, MLEN + 16, blob, HLEN, blob + 6, k1),
	                 0);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
	                         pb, NULL, NULL, blob + HLEN, MLEN + 16, blob, HLEN, blob + 6, k2),
	                 0);
	assert_memory_not_equal(pa, pb, MLEN);
	/* The record commits to what A sees; B's open fails on the commitment. */
	pl_box_commit(ca, pa, pa + 32, BODY);
	pl_box_commit(cb, pb, pb + 32, BODY);
	assert_int_equal(pl_box_open(&pt, &pt_len, s, blob, len, &keys[0], ca), 0);
	assert_memory_equal(pt, pa + 32, BODY);
	pl_box_plaintext_free(pt, pt_len);
	assert_int_equal(pl_box_open(&pt, &pt_len, s, blob, len, &keys[1], ca), PL_ECOMMIT);
	/* And the other way round: whichever plaintext the record names, the other reader objects.
	 */
	assert_int_equal(pl_box_open(&pt, &pt_len, s, blob, len, &keys[0], cb), PL_ECOMMIT);
	assert_int_equal(pl_box_open(&pt, &pt_len, s, blob, len, &keys[1], cb), 0);
	pl_box_plaintext_free(pt, pt_len);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	free(blob);
}

PL_TEST_MAIN(setup, teardown, cmocka_unit_test(test_seal_open_three_readers),
             cmocka_unit_test(test_fresh_key_and_salt_each_time),
             cmocka_unit_test(test_empty_and_large_bodies),
             cmocka_unit_test(test_non_reader_cannot_open), cmocka_unit_test(test_wrong_commit),
             cmocka_unit_test(test_every_bit_flip_detected),
             cmocka_unit_test(test_tampered_ciphertext_and_header),
             cmocka_unit_test(test_swapped_slots), cmocka_unit_test(test_format_layout),
             cmocka_unit_test(test_commit_vector), cmocka_unit_test(test_disclosure),
             cmocka_unit_test(test_seal_arguments), cmocka_unit_test(test_keypair_from_secret),
             cmocka_unit_test(test_malformed_table),
             cmocka_unit_test(test_equivocation_caught_by_commitment))
