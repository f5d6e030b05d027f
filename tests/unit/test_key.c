/* Unit tests of the key module: published keys, text forms, malformed keys, key files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <parley/encoding.h>
#include <parley/key.h>

#include "testutil.h"

#define NOTE_VECTOR(name, len) pl_test_read_vector("note", name, len)

/* Reads a vector file into a NUL-terminated heap string; fails the test if it is missing. */
/* A one-line vector file, without its newline. */
static char *read_line_vector(const char *name)
{
	size_t len;
	char *s = NOTE_VECTOR(name, &len);

	if (len > 0 && s[len - 1] == '\n')
		s[len - 1] = '\0';
	return s;
}

static void test_published_vkeys(void **state)
{
	static const struct {
		const char *file;
		uint8_t type;
		uint32_t id;
		const char *name;
	} cases[] = {
	        {"go-peter.vkey", PL_SIGTYPE_ED25519, 0xc74f20a3, "PeterNeumann"},
	        {"go-enoch.vkey", PL_SIGTYPE_ED25519, 0xaf0cfe78, "EnochRoot"},
	        {"spec-example.vkey", PL_SIGTYPE_ED25519, 0x530d903a, "example.com/foo"},
	        {"sumdb.vkey", PL_SIGTYPE_ED25519, 0x033de0ae, "sum.golang.org"},
	        {"monkeys.vkey", PL_SIGTYPE_ED25519, 0xdb4d9f7e, "monkeys"},
	        {"arche2025h1.vkey", PL_SIGTYPE_ED25519, 0xba2f06c0,
	         "arche2025h1.staging.ct.transparency.dev"},
	        {"remora.vkey", PL_SIGTYPE_COSIG_V1, 0xda77ade7, "remora.n621.de"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = read_line_vector(cases[i].file);
		struct pl_vkey vk;
		struct pl_buf b;
		uint8_t id[PL_KEYID_BYTES];

		assert_int_equal(pl_vkey_parse(&vk, text, strlen(text)), 0);
		assert_string_equal(vk.name, cases[i].name);
		assert_int_equal(vk.type, cases[i].type);
		assert_int_equal((uint32_t)vk.id[0] << 24 | (uint32_t)vk.id[1] << 16 |
		                         (uint32_t)vk.id[2] << 8 | vk.id[3],
		                 cases[i].id);
		pl_key_id(id, vk.name, vk.type, vk.pk);
		assert_memory_equal(id, vk.id, PL_KEYID_BYTES);
		/* The text form has one spelling: formatting gives back the same bytes. */
		pl_buf_init(&b, 1024);
		assert_int_equal(pl_vkey_format(&vk, &b), 0);
		assert_string_equal(b.data, text);
		pl_buf_release(&b);
		free(text);
	}
}

static void test_spec_example_public_key(void **state)
{
	char *text = read_line_vector("spec-example.vkey");
	struct pl_vkey vk;
	uint8_t want[PL_ED25519_PK_BYTES];
	const char *hex = "e932791ae6e7a840a46164c904786426d5e7821dd8b29a00d61cae72afdd4da4";

	(void)state;
	assert_int_equal(pl_hex_decode_exact(want, sizeof(want), hex, strlen(hex)), 0);
	assert_int_equal(pl_vkey_parse(&vk, text, strlen(text)), 0);
	assert_memory_equal(vk.pk, want, sizeof(want));
	free(text);
}

/* Published signer/verifier key pairs: each signer key must derive its verifier key. */
static void test_published_keypairs(void **state)
{
	size_t len;
	char *all = NOTE_VECTOR("keypairs.txt", &len);
	char *line = all;
	int pairs = 0;

	(void)state;
	while (*line) {
		char *nl = strchr(line, '\n');
		char *sp = strchr(line, ' ');
		struct pl_skey sk;
		struct pl_vkey vk, parsed;
		struct pl_buf b;

		assert_non_null(nl);
		assert_non_null(sp);
		*nl = '\0';
		*sp = '\0';
		assert_int_equal(pl_skey_parse(&sk, line, strlen(line)), 0);
		assert_int_equal(sk.type, PL_SIGTYPE_ED25519);
		pl_skey_public(&sk, &vk);
		assert_int_equal(pl_vkey_parse(&parsed, sp + 1, strlen(sp + 1)), 0);
		assert_true(pl_vkey_equal(&vk, &parsed));
		pl_buf_init(&b, 1024);
		assert_int_equal(pl_vkey_format(&vk, &b), 0);
		assert_string_equal(b.data, sp + 1);
		pl_buf_reset(&b);
		assert_int_equal(pl_skey_format(&sk, &b), 0);
		assert_string_equal(b.data, line);
		sodium_memzero(b.data, b.len);
		pl_buf_release(&b);
		pl_skey_clear(&sk);
		pairs++;
		line = nl + 1;
	}
	assert_int_equal(pairs, 8);
	free(all);
}

/* Builds "<name>+<id>+base64(type || pk)" with the right key ID for any type byte. */
static void make_vkey_text(char *out, size_t cap, const char *name, uint8_t type,
                           const uint8_t pk[PL_ED25519_PK_BYTES])
{
	uint8_t id[PL_KEYID_BYTES], data[1 + PL_ED25519_PK_BYTES];
	char hex[2 * PL_KEYID_BYTES + 1], b64[PL_B64_LEN(sizeof(data)) + 1];

	pl_key_id(id, name, type, pk);
	pl_hex_encode(hex, id, sizeof(id));
	data[0] = type;
	memcpy(data + 1, pk, PL_ED25519_PK_BYTES);
	pl_b64_encode(b64, data, sizeof(data));
	snprintf(out, cap, "%s+%s+%s", name, hex, b64);
}

/* The same Ed25519 key as a cosigner (type 0x04) has its own key ID. */
static void test_cosigner_key_id(void **state)
{
	char *text = read_line_vector("go-peter.vkey");
	struct pl_vkey vk, co;
	char cotext[512];

	(void)state;
	assert_int_equal(pl_vkey_parse(&vk, text, strlen(text)), 0);
	make_vkey_text(cotext, sizeof(cotext), vk.name, PL_SIGTYPE_COSIG_V1, vk.pk);
	assert_int_equal(pl_vkey_parse(&co, cotext, strlen(cotext)), 0);
	assert_int_equal(co.type, PL_SIGTYPE_COSIG_V1);
	assert_memory_equal(co.pk, vk.pk, PL_ED25519_PK_BYTES);
	assert_memory_not_equal(co.id, vk.id, PL_KEYID_BYTES);
	assert_false(pl_vkey_equal(&co, &vk));
	free(text);
}

#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PETER_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"

struct bad_key {
	const char *what;
	const char *text;
	int want;
};

static const struct bad_key bad_vkeys[] = {
        {"empty", "", PL_EMALFORMED},
        {"name only", "PeterNeumann", PL_EMALFORMED},
        {"no key data", "PeterNeumann+c74f20a3", PL_EMALFORMED},
        {"empty key data", "PeterNeumann+c74f20a3+", PL_EMALFORMED},
        {"empty name", "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PL_EMALFORMED},
        {"short key ID", "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         PL_EMALFORMED},
        {"long key ID", "PeterNeumann+c74f20a30+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         PL_EMALFORMED},
        {"uppercase key ID", "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         PL_EMALFORMED},
        {"non-hex key ID", "PeterNeumann+c74f20g3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         PL_EMALFORMED},
        {"wrong key ID", "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         PL_EKEY},
        {"wrong name for key ID",
         "PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PL_EKEY},
        {"bad base64 character",
         "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!", PL_EMALFORMED},
        {"url-safe base64", "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW",
         PL_EMALFORMED},
        {"key one byte short",
         "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10Q=", PL_EMALFORMED},
        {"key truncated", "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
         PL_EMALFORMED},
        /* Go's note_test.go: a longer key with its key ID adjusted. */
        {"key too long",
         "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
         PL_EMALFORMED},
        /* Go's note_test.go: an unknown algorithm byte with its key ID adjusted. */
        {"unknown type", "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         PL_EKEY},
        {"padding added",
         "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=", PL_EMALFORMED},
        {"trailing newline", PETER_VKEY "\n", PL_EMALFORMED},
        {"trailing CRLF", PETER_VKEY "\r\n", PL_EMALFORMED},
        {"trailing space", PETER_VKEY " ", PL_EMALFORMED},
        {"leading space", " " PETER_VKEY, PL_EMALFORMED},
        {"space in name", "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         PL_EMALFORMED},
        {"tab in name", "Peter\tNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         PL_EMALFORMED},
        {"no-break space in name",
         "Peter\xc2\xa0Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         PL_EMALFORMED},
        {"ideographic space in name",
         "Peter\xe3\x80\x80Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         PL_EMALFORMED},
        {"control character in name",
         "Peter\x01Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PL_EMALFORMED},
        {"invalid UTF-8 in name",
         "Peter\xffNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PL_EMALFORMED},
        {"'+' in name", "Peter+Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         PL_EMALFORMED},
        {"signer key given", PETER_SKEY, PL_EMALFORMED},
};

static const struct bad_key bad_skeys[] = {
        {"empty", "", PL_EMALFORMED},
        {"prefix only", "PRIVATE+KEY+", PL_EMALFORMED},
        {"verifier key given", PETER_VKEY, PL_EMALFORMED},
        {"lowercase prefix",
         "private+key+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
         PL_EMALFORMED},
        {"half prefix",
         "PRIVATE+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
         PL_EMALFORMED},
        {"wrong key ID",
         "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", PL_EKEY},
        {"wrong name",
         "PRIVATE+KEY+PeterNeuman+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", PL_EKEY},
        {"uppercase key ID",
         "PRIVATE+KEY+PeterNeumann+C74F20A3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
         PL_EMALFORMED},
        {"seed truncated",
         "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKD",
         PL_EMALFORMED},
        {"seed too long",
         "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFzAAAA",
         PL_EMALFORMED},
        {"bad base64",
         "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF*",
         PL_EMALFORMED},
        {"trailing newline", PETER_SKEY "\n", PL_EMALFORMED},
        {"trailing space", PETER_SKEY " ", PL_EMALFORMED},
        {"space in name",
         "PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
         PL_EMALFORMED},
};

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		if (b[i])
			return false;
	}
	return true;
}

static void test_bad_vkeys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_vkeys) / sizeof(bad_vkeys[0]); i++) {
		struct pl_vkey vk, sentinel;
		memset(&vk, 0xa5, sizeof(vk));
		sentinel = vk;
		int got = pl_vkey_parse(&vk, bad_vkeys[i].text, strlen(bad_vkeys[i].text));
		if (got != bad_vkeys[i].want)
			fail_msg("vkey case '%s': got %d, want %d", bad_vkeys[i].what, got,
			         bad_vkeys[i].want);
		/* No output on error. */
		assert_memory_equal(&vk, &sentinel, sizeof(vk));
	}
}

static void test_bad_skeys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_skeys) / sizeof(bad_skeys[0]); i++) {
		struct pl_skey sk;
		memset(&sk, 0xa5, sizeof(sk));
		int got = pl_skey_parse(&sk, bad_skeys[i].text, strlen(bad_skeys[i].text));
		if (got != bad_skeys[i].want)
			fail_msg("skey case '%s': got %d, want %d", bad_skeys[i].what, got,
			         bad_skeys[i].want);
		/* A failed signer-key parse leaves nothing behind: the struct is wiped. */
		assert_true(all_zero(&sk, sizeof(sk)));
	}
}

/* Both a wrong type byte (0x02, 0x05) with a correct key ID are refused as keys we cannot use. */
static void test_unsupported_type_with_right_id(void **state)
{
	uint8_t pk[PL_ED25519_PK_BYTES];
	char text[512];
	struct pl_vkey vk;
	static const uint8_t types[] = {0x00, 0x02, 0x03, 0x05, 0x06, 0xff};

	(void)state;
	memset(pk, 7, sizeof(pk));
	for (size_t i = 0; i < sizeof(types); i++) {
		make_vkey_text(text, sizeof(text), "example.com/k", types[i], pk);
		assert_int_equal(pl_vkey_parse(&vk, text, strlen(text)), PL_EKEY);
	}
	make_vkey_text(text, sizeof(text), "example.com/k", PL_SIGTYPE_ED25519, pk);
	assert_int_equal(pl_vkey_parse(&vk, text, strlen(text)), 0);
}

/* A key parser, for the manglings: 0 when text[0..len) parses. */
typedef int (*key_parser)(const char *text, size_t len);

static int parse_vkey(const char *text, size_t len)
{
	struct pl_vkey vk;

	return pl_vkey_parse(&vk, text, len);
}

static int parse_skey(const char *text, size_t len)
{
	struct pl_skey sk;
	int err = pl_skey_parse(&sk, text, len);

	pl_skey_clear(&sk);
	return err;
}

/* Go's note_test.go manglings: no proper substring and no one-byte change of key parses. */
static void check_manglings(key_parser parse, const char *key)
{
	char b[256];
	size_t n = strlen(key);

	assert_true(n < sizeof(b));
	memcpy(b, key, n + 1);
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			assert_int_not_equal(parse(b + i, j - i), 0);
		}
	}
	for (size_t i = 0; i < n; i++) {
		b[i]++;
		assert_int_not_equal(parse(b, n), 0);
		b[i]--;
	}
	assert_int_equal(parse(b, n), 0);
	sodium_memzero(b, sizeof(b));
}

static void test_vkey_manglings(void **state)
{
	(void)state;
	check_manglings(parse_vkey, PETER_VKEY);
}

static void test_skey_manglings(void **state)
{
	(void)state;
	check_manglings(parse_skey, PETER_SKEY);
}

static void test_key_names(void **state)
{
	static const struct {
		const char *name;
		bool valid;
	} cases[] = {
	        {"a", true},
	        {"example.com/log42", true},
	        {"Se\xc3\xb1or-1", true},
	        {"\xe6\x97\xa5\xe6\x9c\xac", true},
	        {"hotline.example/rok-mnd", true},
	        {"transparency.dev/DEV:witness-little-garden", true},
	        {"del\x7f", true}, /* not a control character under the note spec */
	        {"", false},
	        {"a b", false},
	        {"a+b", false},
	        {"+", false},
	        {"a\tb", false},
	        {"a\nb", false},
	        {"a\rb", false},
	        {"a\x01", false},
	        {"a\xc2\x85", false},     /* U+0085 NEXT LINE */
	        {"a\xc2\xa0", false},     /* U+00A0 NO-BREAK SPACE */
	        {"a\xe1\x9a\x80", false}, /* U+1680 OGHAM SPACE MARK */
	        {"a\xe2\x80\x83", false}, /* U+2003 EM SPACE */
	        {"a\xe2\x80\xa8", false}, /* U+2028 LINE SEPARATOR */
	        {"a\xe2\x80\xaf", false}, /* U+202F NARROW NO-BREAK SPACE */
	        {"a\xe3\x80\x80", false}, /* U+3000 IDEOGRAPHIC SPACE */
	        {"a\xff", false},         /* invalid UTF-8 */
	        {"a\xc0\xaf", false},     /* overlong */
	        {"a\xed\xa0\x80", false}, /* surrogate */
	        {"\xe2\x80\x94", true},   /* an em dash is a fine character in a name */
	        {"a\xe2\x80\x8b", true},  /* U+200B ZERO WIDTH SPACE is not White_Space */
	};
	char longname[PL_KEY_NAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (pl_key_name_is_valid(cases[i].name, strlen(cases[i].name)) != cases[i].valid)
			fail_msg("name case %zu: want %d", i, cases[i].valid);
	}
	assert_false(pl_key_name_is_valid("a\0b", 3));
	memset(longname, 'n', sizeof(longname));
	assert_true(pl_key_name_is_valid(longname, PL_KEY_NAME_MAX));
	assert_false(pl_key_name_is_valid(longname, PL_KEY_NAME_MAX + 1));
}

static void test_generate(void **state)
{
	static const uint8_t types[] = {PL_SIGTYPE_ED25519, PL_SIGTYPE_COSIG_V1};

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		struct pl_skey sk, sk2;
		struct pl_vkey vk, vk2;
		struct pl_buf b;
		uint8_t id[PL_KEYID_BYTES];

		assert_int_equal(pl_key_generate(&sk, &vk, "hotline.example/unc", types[i]), 0);
		assert_int_equal(vk.type, types[i]);
		assert_string_equal(vk.name, "hotline.example/unc");
		pl_key_id(id, vk.name, vk.type, vk.pk);
		assert_memory_equal(id, vk.id, PL_KEYID_BYTES);
		pl_skey_public(&sk, &vk2);
		assert_true(pl_vkey_equal(&vk, &vk2));

		pl_buf_init(&b, 1024);
		assert_int_equal(pl_vkey_format(&vk, &b), 0);
		assert_int_equal(pl_vkey_parse(&vk2, b.data, b.len), 0);
		assert_true(pl_vkey_equal(&vk, &vk2));
		pl_buf_reset(&b);
		assert_int_equal(pl_skey_format(&sk, &b), 0);
		assert_true(strncmp(b.data, "PRIVATE+KEY+hotline.example/unc+", 32) == 0);
		assert_int_equal(pl_skey_parse(&sk2, b.data, b.len), 0);
		assert_memory_equal(&sk, &sk2, sizeof(sk));
		sodium_memzero(b.data, b.len);
		pl_buf_release(&b);
		pl_skey_clear(&sk);
		pl_skey_clear(&sk2);
		assert_true(all_zero(&sk, sizeof(sk)));
	}
}

static void test_generate_rejects(void **state)
{
	struct pl_skey sk;
	struct pl_vkey vk;

	(void)state;
	memset(&sk, 0xa5, sizeof(sk));
	assert_int_equal(pl_key_generate(&sk, &vk, "bad name", PL_SIGTYPE_ED25519), PL_EINVAL);
	assert_int_equal(pl_key_generate(&sk, &vk, "a+b", PL_SIGTYPE_ED25519), PL_EINVAL);
	assert_int_equal(pl_key_generate(&sk, &vk, "", PL_SIGTYPE_ED25519), PL_EINVAL);
	assert_int_equal(pl_key_generate(&sk, &vk, "ok", 0x02), PL_EINVAL);
	assert_int_equal(pl_key_generate(&sk, &vk, NULL, PL_SIGTYPE_ED25519), PL_EINVAL);
	assert_int_equal(sk.type, 0xa5);
}

static void test_format_rejects_bad_struct(void **state)
{
	struct pl_vkey vk;
	struct pl_skey sk;
	struct pl_buf b;

	(void)state;
	assert_int_equal(pl_key_generate(&sk, &vk, "k", PL_SIGTYPE_ED25519), 0);
	pl_buf_init(&b, 1024);
	assert_int_equal(pl_buf_adds(&b, "x"), 0);
	vk.type = 0x02;
	assert_int_equal(pl_vkey_format(&vk, &b), PL_EINVAL);
	vk.type = PL_SIGTYPE_ED25519;
	vk.name[0] = '\0';
	assert_int_equal(pl_vkey_format(&vk, &b), PL_EINVAL);
	sk.name[0] = ' ';
	assert_int_equal(pl_skey_format(&sk, &b), PL_EINVAL);
	assert_string_equal(b.data, "x");
	pl_buf_release(&b);
	/* A buffer too small for the key: nothing written. */
	pl_buf_init(&b, 10);
	sk.name[0] = 'k';
	pl_skey_public(&sk, &vk);
	assert_int_equal(pl_vkey_format(&vk, &b), PL_ETOOBIG);
	assert_int_equal(b.len, 0);
	pl_buf_release(&b);
	pl_skey_clear(&sk);
}

/* A scratch directory for the key-file tests. */
static char tmpdir[256];

static int setup_dir(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/pl-key-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *content, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_key_files(void **state)
{
	struct pl_skey sk, loaded;
	struct pl_vkey vk, vloaded;
	struct pl_buf b;
	char spath[512], vpath[512];
	struct stat st;
	mode_t old;

	(void)state;
	path_in(spath, sizeof(spath), "log.key");
	path_in(vpath, sizeof(vpath), "log.pub");
	assert_int_equal(pl_key_generate(&sk, &vk, "hotline.example", PL_SIGTYPE_ED25519), 0);

	pl_buf_init(&b, 1024);
	assert_int_equal(pl_skey_format(&sk, &b), 0);
	/* Exactly the mode asked for, whatever the umask. */
	old = umask(0);
	assert_int_equal(pl_key_save(spath, b.data, b.len, 0600), 0);
	umask(077);
	sodium_memzero(b.data, b.len);
	pl_buf_reset(&b);
	assert_int_equal(pl_vkey_format(&vk, &b), 0);
	assert_int_equal(pl_key_save(vpath, b.data, b.len, 0644), 0);
	umask(old);
	assert_int_equal(stat(spath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(vpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_size, (off_t)b.len + 1);

	assert_int_equal(pl_skey_load(&loaded, spath), 0);
	assert_memory_equal(&loaded, &sk, sizeof(sk));
	assert_int_equal(pl_vkey_load(&vloaded, vpath), 0);
	assert_true(pl_vkey_equal(&vloaded, &vk));

	/* Never overwrite. */
	assert_int_equal(pl_key_save(vpath, b.data, b.len, 0644), PL_EEXIST);
	pl_buf_release(&b);
	pl_skey_clear(&sk);
	pl_skey_clear(&loaded);
}

/* A key pair made into new files: named after the key, never over an existing file. */
static void test_key_create(void **state)
{
	struct pl_vkey vk, loaded;
	struct pl_skey sk;
	struct pl_buf path;
	char spath[512], vpath[512];
	struct stat st;

	(void)state;
	pl_buf_init(&path, 1024);
	assert_int_equal(pl_key_create(tmpdir, "hotline.example/unc", &vk, &path), 0);
	path_in(spath, sizeof(spath), "hotline.example_unc.skey");
	path_in(vpath, sizeof(vpath), "hotline.example_unc.vkey");
	assert_int_equal(stat(spath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(pl_skey_load(&sk, spath), 0);
	assert_string_equal(sk.name, "hotline.example/unc");
	pl_skey_clear(&sk);
	assert_int_equal(pl_vkey_load(&loaded, vpath), 0);
	assert_true(pl_vkey_equal(&loaded, &vk));
	/* Either file there: nothing written, the file named. */
	assert_int_equal(pl_key_create(tmpdir, "hotline.example/unc", NULL, &path), PL_EEXIST);
	assert_string_equal(path.data, spath);
	assert_int_equal(unlink(spath), 0);
	assert_int_equal(pl_key_create(tmpdir, "hotline.example/unc", NULL, &path), PL_EEXIST);
	assert_string_equal(path.data, vpath);
	assert_int_not_equal(stat(spath, &st), 0);
	/* Not a key name; no such directory. */
	assert_int_equal(pl_key_create(tmpdir, "a b", NULL, NULL), PL_EINVAL);
	path_in(spath, sizeof(spath), "none/x");
	assert_int_equal(pl_key_create(spath, "x", NULL, &path), PL_EIO);
	pl_buf_release(&path);
}

static void test_secret_file_permissions(void **state)
{
	static const mode_t bad[] = {0640, 0604, 0620, 0602, 0610, 0601, 0644, 0660, 0666};
	const char *text = PETER_SKEY "\n";
	struct pl_skey sk;
	char path[512];

	(void)state;
	path_in(path, sizeof(path), "perm.key");
	write_file(path, text, strlen(text), 0600);
	assert_int_equal(pl_skey_load(&sk, path), 0);
	assert_string_equal(sk.name, "PeterNeumann");
	pl_skey_clear(&sk);
	write_file(path, text, strlen(text), 0400);
	assert_int_equal(pl_skey_load(&sk, path), 0);
	pl_skey_clear(&sk);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(chmod(path, bad[i]), 0);
		memset(&sk, 0xa5, sizeof(sk));
		assert_int_equal(pl_skey_load(&sk, path), PL_EDENIED);
	}
	unlink(path);
}

static void test_secret_file_symlink(void **state)
{
	const char *text = PETER_SKEY "\n";
	char path[512], link[512];
	struct pl_skey sk;
	struct pl_vkey vk;

	(void)state;
	path_in(path, sizeof(path), "target.key");
	path_in(link, sizeof(link), "link.key");
	write_file(path, text, strlen(text), 0600);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(pl_skey_load(&sk, link), PL_EIO);
	assert_int_equal(errno, ELOOP);
	/* Saving through a symbolic link is refused too (O_EXCL|O_NOFOLLOW). */
	assert_int_equal(pl_key_save(link, "x", 1, 0600), PL_EEXIST);
	unlink(link);

	/* Verifier keys are public: a link is fine. */
	path_in(path, sizeof(path), "target.pub");
	path_in(link, sizeof(link), "link.pub");
	write_file(path, PETER_VKEY, strlen(PETER_VKEY), 0644);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(pl_vkey_load(&vk, link), 0);
	unlink(link);
	unlink(path);
}

static void test_key_file_contents(void **state)
{
	static const struct {
		const char *what;
		const char *content;
		int want;
	} cases[] = {
	        {"no final newline", PETER_SKEY, 0},
	        {"final newline", PETER_SKEY "\n", 0},
	        {"two newlines", PETER_SKEY "\n\n", PL_EMALFORMED},
	        {"CRLF", PETER_SKEY "\r\n", PL_EMALFORMED},
	        {"two lines", PETER_SKEY "\n" PETER_SKEY "\n", PL_EMALFORMED},
	        {"leading blank line", "\n" PETER_SKEY, PL_EMALFORMED},
	        {"empty", "", PL_EMALFORMED},
	        {"verifier key", PETER_VKEY "\n", PL_EMALFORMED},
	};
	char path[512];

	(void)state;
	path_in(path, sizeof(path), "content.key");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pl_skey sk;
		write_file(path, cases[i].content, strlen(cases[i].content), 0600);
		int got = pl_skey_load(&sk, path);
		if (got != cases[i].want)
			fail_msg("key file case '%s': got %d, want %d", cases[i].what, got,
			         cases[i].want);
		pl_skey_clear(&sk);
		unlink(path);
	}
}

static void test_key_file_errors(void **state)
{
	char path[512], big[4096];
	struct pl_skey sk;
	struct pl_vkey vk;

	(void)state;
	path_in(path, sizeof(path), "missing.key");
	assert_int_equal(pl_skey_load(&sk, path), PL_EIO);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(pl_vkey_load(&vk, path), PL_EIO);
	assert_int_equal(errno, ENOENT);
	/* A directory is not a key file. */
	assert_int_equal(pl_vkey_load(&vk, tmpdir), PL_EIO);
	/* Oversize file. */
	path_in(path, sizeof(path), "big.pub");
	memset(big, 'A', sizeof(big));
	write_file(path, big, sizeof(big), 0644);
	assert_int_equal(pl_vkey_load(&vk, path), PL_ETOOBIG);
	unlink(path);
	/* Bad save arguments. */
	path_in(path, sizeof(path), "save.key");
	assert_int_equal(pl_key_save(path, "a\nb", 3, 0600), PL_EINVAL);
	assert_int_equal(pl_key_save(path, "a\0b", 3, 0600), PL_EINVAL);
	assert_int_equal(pl_key_save(path, "", 0, 0600), PL_EINVAL);
	assert_int_equal(pl_key_save(path, "a", 1, 01600), PL_EINVAL);
	assert_int_equal(pl_key_save(path, "a", 1, 04600), PL_EINVAL);
	assert_int_equal(access(path, F_OK), -1);
	path_in(path, sizeof(path), "no/such/dir.key");
	assert_int_equal(pl_key_save(path, "a", 1, 0600), PL_EIO);
	assert_int_equal(errno, ENOENT);
}

PL_TEST_MAIN(setup_dir, teardown_dir, cmocka_unit_test(test_published_vkeys),
             cmocka_unit_test(test_spec_example_public_key),
             cmocka_unit_test(test_published_keypairs), cmocka_unit_test(test_cosigner_key_id),
             cmocka_unit_test(test_bad_vkeys), cmocka_unit_test(test_bad_skeys),
             cmocka_unit_test(test_unsupported_type_with_right_id),
             cmocka_unit_test(test_vkey_manglings), cmocka_unit_test(test_skey_manglings),
             cmocka_unit_test(test_key_names), cmocka_unit_test(test_generate),
             cmocka_unit_test(test_generate_rejects),
             cmocka_unit_test(test_format_rejects_bad_struct), cmocka_unit_test(test_key_files),
             cmocka_unit_test(test_key_create), cmocka_unit_test(test_secret_file_permissions),
             cmocka_unit_test(test_secret_file_symlink), cmocka_unit_test(test_key_file_contents),
             cmocka_unit_test(test_key_file_errors))
