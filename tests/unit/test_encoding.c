/* Unit tests of base64, hex, SHA-256, decimal integers and UTF-8 validation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <parley/encoding.h>

#include "testutil.h"

/* RFC 4648 §10 test vectors. */
static const struct {
	const char *raw, *b64;
} rfc4648[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
};

static void test_b64_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		char enc[16];
		uint8_t dec[16];
		size_t n = strlen(rfc4648[i].raw), got = 99;
		pl_b64_encode(enc, (const uint8_t *)rfc4648[i].raw, n);
		assert_string_equal(enc, rfc4648[i].b64);
		assert_int_equal(pl_b64_decode(dec, sizeof(dec), &got, enc, strlen(enc)), 0);
		assert_int_equal(got, n);
		assert_memory_equal(dec, rfc4648[i].raw, n);
	}
}

static void test_b64_append(void **state)
{
	uint8_t raw[200];
	struct pl_buf b;
	char ref[PL_B64_LEN(200) + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 7);
	pl_b64_encode(ref, raw, sizeof(raw));
	pl_buf_init(&b, 1000);
	assert_int_equal(pl_buf_adds(&b, "x "), 0);
	assert_int_equal(pl_b64_append(&b, raw, sizeof(raw)), 0);
	assert_string_equal(b.data + 2, ref);
	pl_buf_release(&b);

	pl_buf_init(&b, 10);
	assert_int_equal(pl_b64_append(&b, raw, 9), PL_ETOOBIG);
	assert_int_equal(b.len, 0);
	pl_buf_release(&b);
}

/* Every input here must be rejected by the strict decoder. */
static const char *b64_malformed[] = {
        "Zg",       /* missing padding */
        "Zg=",      /* short padding */
        "Zh==",     /* non-zero unused bits */
        "Zm9=",     /* non-zero unused bits, one pad */
        "Zm9v\n",   /* trailing newline */
        " Zm9v",    /* leading space */
        "Zm 9v",    /* inner space */
        "Zm9v====", /* padding group */
        "Z===",     /* too much padding */
        "====",     /* only padding */
        "Zg==Zg==", /* padding in the middle */
        "Zm-v",     /* URL alphabet */
        "Zm_v",     /* URL alphabet */
        "Zm9\x80",  /* high byte */
};

static void test_b64_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(b64_malformed) / sizeof(b64_malformed[0]); i++) {
		uint8_t dec[16];
		size_t got = 0;
		const char *s = b64_malformed[i];
		int ret = pl_b64_decode(dec, sizeof(dec), &got, s, strlen(s));
		if (ret != PL_EMALFORMED)
			fail_msg("case %zu (%s) gave %d", i, s, ret);
	}
}

static void test_b64_exact(void **state)
{
	uint8_t out[3];
	uint8_t big[2];
	size_t got;

	(void)state;
	assert_int_equal(pl_b64_decode_exact(out, 3, "Zm9v", 4), 0);
	assert_int_equal(pl_b64_decode_exact(out, 3, "Zm8=", 4), PL_EMALFORMED);
	assert_int_equal(pl_b64_decode_exact(out, 2, "Zm9v", 4), PL_EMALFORMED);
	assert_int_equal(pl_b64_decode(big, sizeof(big), &got, "Zm9v", 4), PL_ETOOBIG);
}

static void test_hex(void **state)
{
	const uint8_t raw[] = {0x00, 0x7f, 0xab, 0xff};
	char enc[9];
	uint8_t dec[4];

	(void)state;
	pl_hex_encode(enc, raw, 4);
	assert_string_equal(enc, "007fabff");
	assert_int_equal(pl_hex_decode_exact(dec, 4, "007FABff", 8), 0);
	assert_memory_equal(dec, raw, 4);
	assert_int_equal(pl_hex_decode_exact(dec, 4, "007fabf", 7), PL_EMALFORMED);
	assert_int_equal(pl_hex_decode_exact(dec, 4, "007fabfg", 8), PL_EMALFORMED);
	assert_int_equal(pl_hex_decode_exact(dec, 4, "007fab f", 8), PL_EMALFORMED);
}

static void test_sha256(void **state)
{
	uint8_t h[PL_HASH_BYTES];
	char hex[PL_HASH_HEX_LEN + 1];

	(void)state;
	pl_sha256(h, "", 0);
	pl_hex_encode(hex, h, sizeof(h));
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	pl_sha256(h, "abc", 3);
	pl_hex_encode(hex, h, sizeof(h));
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_parse_u64(void **state)
{
	static const struct {
		const char *s;
		uint64_t max;
		int ret;
		uint64_t v;
	} cases[] = {
	        {"0", UINT64_MAX, 0, 0},
	        {"42", UINT64_MAX, 0, 42},
	        {"18446744073709551615", UINT64_MAX, 0, UINT64_MAX},
	        {"18446744073709551616", UINT64_MAX, PL_ERANGE, 0},
	        {"99999999999999999999", UINT64_MAX, PL_ERANGE, 0},
	        {"100", 99, PL_ERANGE, 0},
	        {"", UINT64_MAX, PL_EMALFORMED, 0},
	        {"01", UINT64_MAX, PL_EMALFORMED, 0},
	        {"-1", UINT64_MAX, PL_EMALFORMED, 0},
	        {"+1", UINT64_MAX, PL_EMALFORMED, 0},
	        {" 1", UINT64_MAX, PL_EMALFORMED, 0},
	        {"1 ", UINT64_MAX, PL_EMALFORMED, 0},
	        {"1e3", UINT64_MAX, PL_EMALFORMED, 0},
	        {"000000000000000000001", UINT64_MAX, PL_EMALFORMED, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int ret = pl_parse_u64(&v, cases[i].s, strlen(cases[i].s), cases[i].max);
		if (ret != cases[i].ret)
			fail_msg("case %zu (%s): got %d want %d", i, cases[i].s, ret, cases[i].ret);
		if (ret == 0)
			assert_true(v == cases[i].v);
		else
			assert_true(v == 12345);
	}
}

static void test_utf8(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
	        {"plain", true},
	        {"\xe2\x80\x94 dash", true},
	        {"\xf0\x9f\x98\x80", true},
	        {"\xc0\xaf", false},         /* overlong */
	        {"\xe0\x80\xaf", false},     /* overlong */
	        {"\xed\xa0\x80", false},     /* surrogate */
	        {"\xf4\x90\x80\x80", false}, /* > U+10FFFF */
	        {"\xe2\x80", false},         /* truncated */
	        {"\x80", false},             /* lone continuation */
	        {"\xff", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (pl_utf8_is_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
			fail_msg("utf8 case %zu", i);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_b64_vectors), cmocka_unit_test(test_b64_append),
             cmocka_unit_test(test_b64_malformed), cmocka_unit_test(test_b64_exact),
             cmocka_unit_test(test_hex), cmocka_unit_test(test_sha256),
             cmocka_unit_test(test_parse_u64), cmocka_unit_test(test_utf8))
