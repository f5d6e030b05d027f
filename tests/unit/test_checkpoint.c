/* Unit tests of checkpoints: published checkpoints, strict text form, signing and opening. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/encoding.h>

#include "testutil.h"

#define NOTE_VECTOR(name, len) pl_test_read_vector("note", name, len)

#define EM                     "\xe2\x80\x94"

static void b64_root(uint8_t root[PL_HASH_BYTES], const char *b64)
{
	assert_int_equal(pl_b64_decode_exact(root, PL_HASH_BYTES, b64, strlen(b64)), 0);
}

/* The Go checksum database's checkpoint, signed by its published key (and a second key). */
static void test_sumdb_checkpoint(void **state)
{
	struct pl_vkey keys[2];
	struct pl_checkpoint cp;
	struct pl_note *n = NULL;
	uint8_t root[PL_HASH_BYTES];
	bool verified[2];
	size_t len;
	char *msg = NOTE_VECTOR("sumdb-checkpoint.note", &len);

	(void)state;
	pl_test_load_vkey(&keys[0], "sumdb.vkey");
	pl_test_load_vkey(&keys[1], "monkeys.vkey");
	assert_int_equal(pl_checkpoint_open(&cp, &n, msg, len, "go.sum database tree", keys, 1), 0);
	assert_string_equal(cp.origin, "go.sum database tree");
	assert_int_equal(cp.size, 6476701);
	b64_root(root, "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=");
	assert_memory_equal(cp.root, root, PL_HASH_BYTES);
	assert_int_equal(cp.next, 0);
	assert_int_equal(cp.ext_len, 0);
	/* The handed-over note carries the other signature, checkable on its own. */
	assert_int_equal(pl_note_verify(n, keys, 2, verified), 0);
	assert_true(verified[0] && verified[1]);
	pl_note_free(n);

	/* Not the expected log. */
	memset(&cp, 0xa5, sizeof(cp));
	n = (struct pl_note *)keys;
	assert_int_equal(pl_checkpoint_open(&cp, &n, msg, len, "go.sum database", keys, 1),
	                 PL_EVERIFY);
	assert_ptr_equal(n, (struct pl_note *)keys);
	assert_int_equal(cp.size, 0xa5a5a5a5a5a5a5a5ull);
	/* Not signed by the key we expect for the log (same name, another key). */
	{
		struct pl_skey sk;
		struct pl_vkey other;
		assert_int_equal(pl_key_generate(&sk, &other, "sum.golang.org", 1), 0);
		pl_skey_clear(&sk);
		assert_int_equal(
		        pl_checkpoint_open(&cp, NULL, msg, len, "go.sum database tree", &other, 1),
		        PL_ENOKEY);
	}
	/* A changed size: the log key's signature no longer holds. */
	msg[22] = '7';
	assert_int_equal(pl_checkpoint_open(&cp, NULL, msg, len, "go.sum database tree", keys, 1),
	                 PL_EVERIFY);
	free(msg);
}

/* A real checkpoint of a CT log with witness cosignatures of several kinds. */
static void test_cosigned_real_checkpoint(void **state)
{
	struct pl_vkey log, remora;
	struct pl_checkpoint cp;
	struct pl_note *n = NULL;
	uint8_t root[PL_HASH_BYTES];
	bool verified;
	size_t len;
	char *msg = NOTE_VECTOR("arche2025h1-cosigned.note", &len);

	(void)state;
	pl_test_load_vkey(&log, "arche2025h1.vkey");
	pl_test_load_vkey(&remora, "remora.vkey");
	assert_int_equal(pl_checkpoint_open(&cp, &n, msg, len,
	                                    "arche2025h1.staging.ct.transparency.dev", &log, 1),
	                 0);
	assert_int_equal(cp.size, 1432088532);
	b64_root(root, "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=");
	assert_memory_equal(cp.root, root, PL_HASH_BYTES);
	assert_int_equal(n->nsigs, 6);
	assert_int_equal(pl_note_verify(n, &remora, 1, &verified), 0);
	assert_true(verified);
	pl_note_free(n);
	free(msg);
}

/* The checkpoint of the tlog-checkpoint spec. */
static void test_spec_checkpoint_text(void **state)
{
	const char *text = "example.com/behind-the-sofa\n20852163\n"
	                   "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	struct pl_checkpoint cp;
	struct pl_buf b;
	struct pl_note *n = NULL;
	size_t len;
	char *msg = NOTE_VECTOR("spec-cosigned-checkpoint.note", &len);

	(void)state;
	assert_int_equal(pl_checkpoint_parse(&cp, text, strlen(text)), 0);
	assert_string_equal(cp.origin, "example.com/behind-the-sofa");
	assert_int_equal(cp.size, 20852163);
	pl_buf_init(&b, PL_CHECKPOINT_MAX_BYTES);
	assert_int_equal(pl_checkpoint_format(&cp, &b), 0);
	assert_string_equal(b.data, text);
	pl_buf_release(&b);
	/* The spec's signed example carries exactly this text. */
	assert_int_equal(pl_note_parse(&n, msg, len), 0);
	assert_string_equal(n->text, text);
	assert_int_equal(n->nsigs, 2);
	pl_note_free(n);
	free(msg);
}

static void test_roundtrip_with_extensions(void **state)
{
	struct pl_checkpoint cp, back;
	struct pl_buf b;
	uint8_t root[PL_HASH_BYTES];
	char want[256], b64[PL_HASH_B64_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(root); i++)
		root[i] = (uint8_t)(i * 7);
	pl_b64_encode(b64, root, sizeof(root));
	assert_int_equal(pl_checkpoint_set(&cp, "hotline.example", 0, root), 0);
	pl_buf_init(&b, PL_CHECKPOINT_MAX_BYTES);
	assert_int_equal(pl_checkpoint_format(&cp, &b), 0);
	snprintf(want, sizeof(want), "hotline.example\n0\n%s\n", b64);
	assert_string_equal(b.data, want);
	assert_int_equal(pl_checkpoint_parse(&back, b.data, b.len), 0);
	assert_true(pl_checkpoint_equal(&cp, &back));

	assert_int_equal(pl_checkpoint_set(&cp, "hotline.example", PL_CHECKPOINT_MAX_SIZE, root),
	                 0);
	assert_int_equal(pl_checkpoint_add_extension(&cp, "ext one", 7), 0);
	assert_int_equal(pl_checkpoint_add_extension(&cp, "\xe2\x80\x94 two", 7), 0);
	pl_buf_reset(&b);
	assert_int_equal(pl_checkpoint_format(&cp, &b), 0);
	snprintf(want, sizeof(want),
	         "hotline.example\n9223372036854775807\n%s\next one\n" EM " two\n", b64);
	assert_string_equal(b.data, want);
	assert_int_equal(pl_checkpoint_parse(&back, b.data, b.len), 0);
	assert_int_equal(back.next, 2);
	assert_string_equal(back.ext, "ext one\n" EM " two\n");
	assert_true(pl_checkpoint_equal(&cp, &back));
	back.ext[0] = 'E';
	assert_false(pl_checkpoint_equal(&cp, &back));
	back = cp;
	back.size--;
	assert_false(pl_checkpoint_equal(&cp, &back));
	pl_buf_release(&b);
}

static void test_sign_and_open(void **state)
{
	struct pl_skey sk, other;
	struct pl_vkey vk[2];
	struct pl_checkpoint cp, got;
	struct pl_note *n = NULL;
	struct pl_buf b;
	uint8_t root[PL_HASH_BYTES];

	(void)state;
	memset(root, 0x42, sizeof(root));
	assert_int_equal(pl_key_generate(&sk, &vk[0], "hotline.example", PL_SIGTYPE_ED25519), 0);
	assert_int_equal(pl_key_generate(&other, &vk[1], "hotline.example", PL_SIGTYPE_ED25519), 0);
	assert_int_equal(pl_checkpoint_set(&cp, "hotline.example", 12, root), 0);
	assert_int_equal(pl_checkpoint_add_extension(&cp, "x", 1), 0);
	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_checkpoint_sign(&b, &cp, &sk), 0);
	assert_int_equal(pl_checkpoint_open(&got, NULL, b.data, b.len, "hotline.example", vk, 1),
	                 0);
	assert_true(pl_checkpoint_equal(&cp, &got));
	/* Key rotation: either of two log keys may be listed. */
	assert_int_equal(pl_checkpoint_open(&got, &n, b.data, b.len, "hotline.example", vk, 2), 0);
	assert_int_equal(n->nsigs, 1);
	pl_note_free(n);
	assert_int_equal(
	        pl_checkpoint_open(&got, NULL, b.data, b.len, "hotline.example", &vk[1], 1),
	        PL_ENOKEY);
	assert_int_equal(pl_checkpoint_open(&got, NULL, b.data, b.len, "hotline.example2", vk, 1),
	                 PL_EVERIFY);
	assert_int_equal(pl_checkpoint_open(&got, NULL, b.data, b.len, NULL, vk, 1), PL_EINVAL);
	pl_buf_release(&b);
	pl_skey_clear(&sk);
	pl_skey_clear(&other);
}

/* A note signed by the log key whose text is no checkpoint is refused after verification. */
static void test_open_not_a_checkpoint(void **state)
{
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_checkpoint cp;
	struct pl_note *n = (struct pl_note *)&vk;
	struct pl_buf b;
	const char *text = "hotline.example\n12\nnot base64\n";

	(void)state;
	assert_int_equal(pl_key_generate(&sk, &vk, "hotline.example", PL_SIGTYPE_ED25519), 0);
	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_note_sign(&b, text, strlen(text), &sk, 1), 0);
	assert_int_equal(pl_checkpoint_open(&cp, &n, b.data, b.len, "hotline.example", &vk, 1),
	                 PL_EMALFORMED);
	assert_ptr_equal(n, (struct pl_note *)&vk);
	assert_int_equal(pl_checkpoint_open(&cp, &n, "junk", 4, "hotline.example", &vk, 1),
	                 PL_EMALFORMED);
	pl_buf_release(&b);
	pl_skey_clear(&sk);
}

#define ROOT   "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
#define ORIGIN "example.com/behind-the-sofa"

struct bad_cp {
	const char *what;
	const char *text;
	int want;
};

static const struct bad_cp bad_checkpoints[] = {
        {"empty", "", PL_EMALFORMED},
        {"origin only", ORIGIN "\n", PL_EMALFORMED},
        {"no root", ORIGIN "\n5\n", PL_EMALFORMED},
        {"missing final newline", ORIGIN "\n5\n" ROOT, PL_EMALFORMED},
        {"empty origin", "\n5\n" ROOT "\n", PL_EMALFORMED},
        {"CRLF", ORIGIN "\r\n5\r\n" ROOT "\r\n", PL_EMALFORMED},
        {"control character in origin",
         "a\x01"
         "b\n5\n" ROOT "\n",
         PL_EMALFORMED},
        {"invalid UTF-8 in origin", "a\xff\n5\n" ROOT "\n", PL_EMALFORMED},
        {"empty size", ORIGIN "\n\n" ROOT "\n", PL_EMALFORMED},
        {"leading zero", ORIGIN "\n05\n" ROOT "\n", PL_EMALFORMED},
        {"double zero", ORIGIN "\n00\n" ROOT "\n", PL_EMALFORMED},
        {"negative size", ORIGIN "\n-5\n" ROOT "\n", PL_EMALFORMED},
        {"plus sign", ORIGIN "\n+5\n" ROOT "\n", PL_EMALFORMED},
        {"leading space", ORIGIN "\n 5\n" ROOT "\n", PL_EMALFORMED},
        {"trailing space", ORIGIN "\n5 \n" ROOT "\n", PL_EMALFORMED},
        {"hex size", ORIGIN "\n0x5\n" ROOT "\n", PL_EMALFORMED},
        {"decimal point", ORIGIN "\n5.0\n" ROOT "\n", PL_EMALFORMED},
        {"exponent", ORIGIN "\n5e3\n" ROOT "\n", PL_EMALFORMED},
        {"size 2^63", ORIGIN "\n9223372036854775808\n" ROOT "\n", PL_ETOOBIG},
        {"size 2^64", ORIGIN "\n18446744073709551616\n" ROOT "\n", PL_ETOOBIG},
        {"size 21 digits", ORIGIN "\n100000000000000000000\n" ROOT "\n", PL_EMALFORMED},
        {"root 31 bytes", ORIGIN "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n",
         PL_EMALFORMED},
        {"root 33 bytes", ORIGIN "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n",
         PL_EMALFORMED},
        {"root unpadded", ORIGIN "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
         PL_EMALFORMED},
        {"root non-canonical", ORIGIN "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
         PL_EMALFORMED},
        {"root bad character", ORIGIN "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2*=\n",
         PL_EMALFORMED},
        {"root url-safe", ORIGIN "\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",
         PL_EMALFORMED},
        {"root hex",
         ORIGIN "\n5\n0a51186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62\n",
         PL_EMALFORMED},
        {"root trailing space", ORIGIN "\n5\n" ROOT " \n", PL_EMALFORMED},
        {"empty root", ORIGIN "\n5\n\n", PL_EMALFORMED},
        {"empty extension line", ORIGIN "\n5\n" ROOT "\n\n", PL_EMALFORMED},
        {"empty line between extensions", ORIGIN "\n5\n" ROOT "\na\n\nb\n", PL_EMALFORMED},
        {"tab in extension", ORIGIN "\n5\n" ROOT "\na\tb\n", PL_EMALFORMED},
        {"extension missing newline", ORIGIN "\n5\n" ROOT "\next", PL_EMALFORMED},
        {"signed note given", ORIGIN "\n5\n" ROOT "\n\n" EM " k AAAAAAA=\n", PL_EMALFORMED},
};

static void check_bad(const char *what, const char *text, size_t len, int want)
{
	struct pl_checkpoint cp;
	uint8_t before[sizeof(cp)];

	memset(&cp, 0x5a, sizeof(cp));
	memcpy(before, &cp, sizeof(cp));
	int got = pl_checkpoint_parse(&cp, text, len);
	if (got != want)
		fail_msg("checkpoint case '%s': got %d, want %d", what, got, want);
	assert_memory_equal(&cp, before, sizeof(cp));
}

static void test_bad_checkpoints(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_checkpoints) / sizeof(bad_checkpoints[0]); i++)
		check_bad(bad_checkpoints[i].what, bad_checkpoints[i].text,
		          strlen(bad_checkpoints[i].text), bad_checkpoints[i].want);
	check_bad("NUL in origin", "a\0b\n5\n" ROOT "\n", 6 + strlen(ROOT) + 1, PL_EMALFORMED);
}

static void test_limits(void **state)
{
	struct pl_checkpoint cp;
	struct pl_buf b;
	char origin[PL_ORIGIN_MAX + 2];

	(void)state;
	pl_buf_init(&b, 2 * PL_CHECKPOINT_MAX_BYTES);

	/* Size bounds. */
	assert_int_equal(pl_buf_adds(&b, ORIGIN "\n9223372036854775807\n" ROOT "\n"), 0);
	assert_int_equal(pl_checkpoint_parse(&cp, b.data, b.len), 0);
	assert_int_equal(cp.size, PL_CHECKPOINT_MAX_SIZE);
	pl_buf_reset(&b);
	assert_int_equal(pl_buf_adds(&b, ORIGIN "\n0\n" ROOT "\n"), 0);
	assert_int_equal(pl_checkpoint_parse(&cp, b.data, b.len), 0);
	assert_int_equal(cp.size, 0);

	/* Origin length. */
	memset(origin, 'o', sizeof(origin));
	origin[PL_ORIGIN_MAX] = '\0';
	pl_buf_reset(&b);
	assert_int_equal(pl_buf_addf(&b, "%s\n1\n" ROOT "\n", origin), 0);
	assert_int_equal(pl_checkpoint_parse(&cp, b.data, b.len), 0);
	origin[PL_ORIGIN_MAX] = 'o';
	origin[PL_ORIGIN_MAX + 1] = '\0';
	pl_buf_reset(&b);
	assert_int_equal(pl_buf_addf(&b, "%s\n1\n" ROOT "\n", origin), 0);
	check_bad("origin too long", b.data, b.len, PL_ETOOBIG);

	/* Extension count. */
	pl_buf_reset(&b);
	assert_int_equal(pl_buf_adds(&b, ORIGIN "\n1\n" ROOT "\n"), 0);
	for (int i = 0; i < PL_CHECKPOINT_MAX_EXTENSIONS; i++)
		assert_int_equal(pl_buf_addf(&b, "ext %d\n", i), 0);
	assert_int_equal(pl_checkpoint_parse(&cp, b.data, b.len), 0);
	assert_int_equal(cp.next, PL_CHECKPOINT_MAX_EXTENSIONS);
	assert_int_equal(pl_buf_adds(&b, "one more\n"), 0);
	check_bad("too many extensions", b.data, b.len, PL_ETOOBIG);

	/* Total size. */
	pl_buf_reset(&b);
	assert_int_equal(pl_buf_adds(&b, ORIGIN "\n1\n" ROOT "\n"), 0);
	while (b.len < PL_CHECKPOINT_MAX_BYTES - 1)
		assert_int_equal(pl_buf_add(&b, "x", 1), 0);
	assert_int_equal(pl_buf_add(&b, "\n", 1), 0);
	assert_int_equal(pl_checkpoint_parse(&cp, b.data, b.len), 0);
	assert_int_equal(cp.ext_len, PL_CHECKPOINT_MAX_BYTES - strlen(ORIGIN "\n1\n" ROOT "\n"));
	b.data[b.len - 1] = 'x';
	assert_int_equal(pl_buf_add(&b, "\n", 1), 0);
	check_bad("too big", b.data, b.len, PL_ETOOBIG);
	pl_buf_release(&b);
}

static void test_set_and_extension_rejects(void **state)
{
	struct pl_checkpoint cp, before;
	uint8_t root[PL_HASH_BYTES] = {0};
	char origin[PL_ORIGIN_MAX + 2], big[PL_CHECKPOINT_MAX_BYTES];

	(void)state;
	assert_int_equal(pl_checkpoint_set(&cp, "log", 1, root), 0);
	before = cp;
	assert_int_equal(pl_checkpoint_set(&cp, "", 1, root), PL_EINVAL);
	assert_int_equal(pl_checkpoint_set(&cp, NULL, 1, root), PL_EINVAL);
	assert_int_equal(pl_checkpoint_set(&cp, "a\nb", 1, root), PL_EINVAL);
	assert_int_equal(pl_checkpoint_set(&cp, "a\x01", 1, root), PL_EINVAL);
	assert_int_equal(pl_checkpoint_set(&cp, "\xff", 1, root), PL_EINVAL);
	assert_int_equal(pl_checkpoint_set(&cp, "log", PL_CHECKPOINT_MAX_SIZE + 1, root),
	                 PL_EINVAL);
	memset(origin, 'o', sizeof(origin));
	origin[PL_ORIGIN_MAX + 1] = '\0';
	assert_int_equal(pl_checkpoint_set(&cp, origin, 1, root), PL_EINVAL);
	assert_true(pl_checkpoint_equal(&cp, &before));
	origin[PL_ORIGIN_MAX] = '\0';
	assert_int_equal(pl_checkpoint_set(&cp, origin, 1, root), 0);

	assert_int_equal(pl_checkpoint_set(&cp, "log", 1, root), 0);
	assert_int_equal(pl_checkpoint_add_extension(&cp, "", 0), PL_EINVAL);
	assert_int_equal(pl_checkpoint_add_extension(&cp, "a\nb", 3), PL_EINVAL);
	assert_int_equal(pl_checkpoint_add_extension(&cp, "a\r", 2), PL_EINVAL);
	assert_int_equal(pl_checkpoint_add_extension(&cp, "\xc3", 1), PL_EINVAL);
	assert_int_equal(cp.next, 0);
	for (int i = 0; i < PL_CHECKPOINT_MAX_EXTENSIONS; i++)
		assert_int_equal(pl_checkpoint_add_extension(&cp, "e", 1), 0);
	assert_int_equal(pl_checkpoint_add_extension(&cp, "e", 1), PL_ETOOBIG);
	assert_int_equal(cp.next, PL_CHECKPOINT_MAX_EXTENSIONS);
	assert_int_equal(pl_checkpoint_set(&cp, "log", 1, root), 0);
	memset(big, 'b', sizeof(big));
	assert_int_equal(pl_checkpoint_add_extension(&cp, big, sizeof(big)), PL_ETOOBIG);
	assert_int_equal(cp.ext_len, 0);
}

/* format refuses a struct that would not parse back (filled in by hand, wrongly). */
static void test_format_rejects(void **state)
{
	struct pl_checkpoint cp, bad;
	struct pl_buf b;
	uint8_t root[PL_HASH_BYTES] = {0};
	struct pl_skey sk;
	struct pl_vkey vk;

	(void)state;
	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_buf_adds(&b, "keep"), 0);
	assert_int_equal(pl_checkpoint_set(&cp, "log", 1, root), 0);
	assert_int_equal(pl_checkpoint_add_extension(&cp, "e", 1), 0);

	bad = cp;
	bad.origin[0] = '\0';
	assert_int_equal(pl_checkpoint_format(&bad, &b), PL_EINVAL);
	bad = cp;
	bad.origin[1] = '\n';
	assert_int_equal(pl_checkpoint_format(&bad, &b), PL_EINVAL);
	bad = cp;
	bad.size = PL_CHECKPOINT_MAX_SIZE + 1;
	assert_int_equal(pl_checkpoint_format(&bad, &b), PL_EINVAL);
	bad = cp;
	bad.next = 2;
	assert_int_equal(pl_checkpoint_format(&bad, &b), PL_EINVAL);
	bad = cp;
	bad.ext_len = 1; /* "e" without its newline */
	assert_int_equal(pl_checkpoint_format(&bad, &b), PL_EINVAL);
	bad = cp;
	bad.ext[0] = '\n'; /* an empty line */
	assert_int_equal(pl_checkpoint_format(&bad, &b), PL_EINVAL);
	bad = cp;
	bad.ext_len = sizeof(bad.ext);
	assert_int_equal(pl_checkpoint_format(&bad, &b), PL_EINVAL);
	assert_string_equal(b.data, "keep");

	/* Signing a bad struct or with a cosigner key fails the same way. */
	assert_int_equal(pl_key_generate(&sk, &vk, "log", PL_SIGTYPE_ED25519), 0);
	bad = cp;
	bad.next = 0;
	assert_int_equal(pl_checkpoint_sign(&b, &bad, &sk), PL_EINVAL);
	pl_skey_clear(&sk);
	assert_int_equal(pl_key_generate(&sk, &vk, "log", PL_SIGTYPE_COSIG_V1), 0);
	assert_int_equal(pl_checkpoint_sign(&b, &cp, &sk), PL_EINVAL);
	assert_string_equal(b.data, "keep");
	pl_skey_clear(&sk);
	pl_buf_release(&b);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_sumdb_checkpoint),
             cmocka_unit_test(test_cosigned_real_checkpoint),
             cmocka_unit_test(test_spec_checkpoint_text),
             cmocka_unit_test(test_roundtrip_with_extensions), cmocka_unit_test(test_sign_and_open),
             cmocka_unit_test(test_open_not_a_checkpoint), cmocka_unit_test(test_bad_checkpoints),
             cmocka_unit_test(test_limits), cmocka_unit_test(test_set_and_extension_rejects),
             cmocka_unit_test(test_format_rejects))
