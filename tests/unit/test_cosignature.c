/* Unit tests of cosignatures: the spec's message, real witness cosignatures, sign and verify. */
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
#include <parley/cosignature.h>
#include <parley/encoding.h>

#include "testutil.h"

#define NOTE_VECTOR(name, len) pl_test_read_vector("note", name, len)

#define EM                     "\xe2\x80\x94"

static const struct pl_note_sig *find_sig(const struct pl_note *n, const char *name)
{
	for (size_t i = 0; i < n->nsigs; i++) {
		if (strcmp(n->sigs[i].name, name) == 0)
			return &n->sigs[i];
	}
	fail_msg("no signature by %s", name);
	return &n->sigs[0]; /* not reached: fail_msg() ends the test */
}

#define SOFA "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

/* The signed message of the tlog-cosignature spec, byte for byte. */
static void test_spec_message(void **state)
{
	struct pl_buf b;
	size_t len;
	char *want = NOTE_VECTOR("spec-cosignature-message.txt", &len);

	(void)state;
	pl_buf_init(&b, 4096);
	assert_int_equal(pl_cosignature_message(&b, 1679315147, SOFA, strlen(SOFA)), 0);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, want, len);
	pl_buf_reset(&b);
	assert_int_equal(pl_cosignature_message(&b, 0, "a\n", 2), 0);
	assert_string_equal(b.data, "cosignature/v1\ntime 0\na\n");
	pl_buf_reset(&b);
	assert_int_equal(pl_cosignature_message(&b, PL_COSIGNATURE_MAX_TIME, "a\n", 2), 0);
	assert_string_equal(b.data, "cosignature/v1\ntime 9223372036854775807\na\n");
	assert_int_equal(pl_buf_adds(&b, "|"), 0);
	size_t keep = b.len;
	assert_int_equal(pl_cosignature_message(&b, PL_COSIGNATURE_MAX_TIME + 1, "a\n", 2),
	                 PL_EINVAL);
	assert_int_equal(pl_cosignature_message(&b, 1, "a", 1), PL_EINVAL);
	assert_int_equal(b.len, keep);
	pl_buf_release(&b);
	free(want);
}

/* The spec's cosigned checkpoint: the witness line carries the time of the spec's message. */
static void test_spec_cosignature_timestamp(void **state)
{
	struct pl_note *n = NULL;
	uint64_t t = 0;
	size_t len;
	char *msg = NOTE_VECTOR("spec-cosigned-checkpoint.note", &len);

	(void)state;
	assert_int_equal(pl_note_parse(&n, msg, len), 0);
	assert_int_equal(pl_cosignature_timestamp(&t, find_sig(n, "witness.example.com/w1")), 0);
	assert_int_equal(t, 1679315147);
	/* The log's plain Ed25519 signature is not a cosignature. */
	t = 7;
	assert_int_equal(pl_cosignature_timestamp(&t, find_sig(n, "example.com/behind-the-sofa")),
	                 PL_EMALFORMED);
	assert_int_equal(t, 7);
	pl_note_free(n);
	free(msg);
}

/* Timestamps of published cosignature lines (transparency-dev/formats tests and the spec). */
static void test_published_timestamps(void **state)
{
	size_t len;
	char *all = NOTE_VECTOR("cosig-timestamps.txt", &len);
	char *line = all;
	int count = 0;

	(void)state;
	while (*line) {
		char *nl = strchr(line, '\n'), *sp = strchr(line, ' ');
		struct pl_note *n = NULL;
		struct pl_buf b;
		uint64_t t = 0;

		assert_non_null(nl);
		assert_non_null(sp);
		*nl = '\0';
		*sp = '\0';
		pl_buf_init(&b, 4096);
		assert_int_equal(pl_buf_addf(&b, "x\n\n" EM " w %s\n", line), 0);
		assert_int_equal(pl_note_parse(&n, b.data, b.len), 0);
		if (strcmp(sp + 1, "-") == 0) {
			assert_int_equal(pl_cosignature_timestamp(&t, &n->sigs[0]), PL_EMALFORMED);
		} else {
			assert_int_equal(pl_cosignature_timestamp(&t, &n->sigs[0]), 0);
			assert_int_equal(t, strtoull(sp + 1, NULL, 10));
		}
		pl_note_free(n);
		pl_buf_release(&b);
		count++;
		line = nl + 1;
	}
	assert_int_equal(count, 3);
	free(all);
}

/* A real witness cosignature (remora.n621.de) on a real CT log checkpoint. */
static void test_real_cosignature(void **state)
{
	struct pl_vkey remora, log;
	struct pl_note *n = NULL;
	const struct pl_note_sig *s;
	uint64_t t = 0;
	bool verified[2];
	size_t len;
	char *msg = NOTE_VECTOR("arche2025h1-cosigned.note", &len);

	(void)state;
	pl_test_load_vkey(&remora, "remora.vkey");
	pl_test_load_vkey(&log, "arche2025h1.vkey");
	assert_int_equal(pl_note_parse(&n, msg, len), 0);
	s = find_sig(n, "remora.n621.de");
	assert_int_equal(s->sig_len, PL_COSIGNATURE_SIG_BYTES);
	assert_int_equal(pl_cosignature_verify(s, &remora, n->text, n->text_len, &t), 0);
	assert_int_equal(t, 1779573024);
	assert_int_equal(pl_note_sig_verify(s, &remora, n->text, n->text_len), 0);
	{
		struct pl_vkey both[2] = {log, remora};
		assert_int_equal(pl_note_verify(n, both, 2, verified), 0);
		assert_true(verified[0] && verified[1]);
	}
	/* Another text, or another log key with the same public key, does not verify. */
	assert_int_equal(pl_cosignature_verify(s, &remora, n->text, n->text_len - 1, NULL),
	                 PL_EVERIFY);
	assert_int_equal(pl_cosignature_verify(s, &log, n->text, n->text_len, NULL), PL_EINVAL);
	n->text[45] ^= 1;
	t = 5;
	assert_int_equal(pl_cosignature_verify(s, &remora, n->text, n->text_len, &t), PL_EVERIFY);
	assert_int_equal(t, 5);
	assert_int_equal(pl_note_verify(n, &remora, 1, NULL), PL_EVERIFY);
	pl_note_free(n);
	free(msg);
}

static void test_sign_verify(void **state)
{
	struct pl_skey log_sk, w_sk;
	struct pl_vkey log_vk, w_vk;
	struct pl_checkpoint cp;
	struct pl_buf msg, line;
	struct pl_note *n = NULL;
	uint8_t root[PL_HASH_BYTES];
	bool verified[2];
	uint64_t t = 0;
	char *copy;
	size_t copy_len;

	(void)state;
	memset(root, 3, sizeof(root));
	assert_int_equal(pl_key_generate(&log_sk, &log_vk, "hotline.example", 1), 0);
	assert_int_equal(pl_key_generate(&w_sk, &w_vk, "witness.example/w1", 4), 0);
	assert_int_equal(pl_checkpoint_set(&cp, "hotline.example", 100, root), 0);
	assert_int_equal(pl_checkpoint_add_extension(&cp, "covered too", 11), 0);
	pl_buf_init(&msg, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_checkpoint_sign(&msg, &cp, &log_sk), 0);
	copy_len = msg.len;
	copy = malloc(copy_len);
	assert_non_null(copy);
	memcpy(copy, msg.data, copy_len);

	/* The witness signs a line; the log appends it. */
	assert_int_equal(pl_note_parse(&n, msg.data, msg.len), 0);
	pl_buf_init(&line, 1024);
	assert_int_equal(pl_cosignature_sign(&line, &w_sk, 1700000000, n->text, n->text_len), 0);
	assert_true(strncmp(line.data, EM " witness.example/w1 ", 23) == 0);
	assert_int_equal(line.data[line.len - 1], '\n');
	pl_note_free(n);
	n = NULL;
	assert_int_equal(pl_buf_add(&msg, line.data, line.len), 0);
	{
		struct pl_vkey keys[2] = {log_vk, w_vk};
		assert_int_equal(pl_note_open(&n, msg.data, msg.len, keys, 2, verified), 0);
		assert_true(verified[0] && verified[1]);
	}
	assert_int_equal(pl_cosignature_verify(&n->sigs[1], &w_vk, n->text, n->text_len, &t), 0);
	assert_int_equal(t, 1700000000);
	assert_int_equal(pl_cosignature_timestamp(&t, &n->sigs[1]), 0);
	assert_int_equal(t, 1700000000);
	/* The timestamp is signed: changing it breaks the signature. */
	{
		struct pl_note_sig s = n->sigs[1];
		s.sig[7] ^= 1;
		assert_int_equal(pl_cosignature_verify(&s, &w_vk, n->text, n->text_len, NULL),
		                 PL_EVERIFY);
		s.sig[7] ^= 1;
		s.sig[0] = 0x80; /* above 2^63 - 1 */
		assert_int_equal(pl_cosignature_verify(&s, &w_vk, n->text, n->text_len, NULL),
		                 PL_EVERIFY);
		assert_int_equal(pl_cosignature_timestamp(&t, &s), PL_EMALFORMED);
		s = n->sigs[1];
		s.sig_len--;
		assert_int_equal(pl_cosignature_verify(&s, &w_vk, n->text, n->text_len, NULL),
		                 PL_EVERIFY);
	}
	/* Extension lines are covered (c2sp.org/tlog-cosignature). */
	{
		char *alt = malloc(n->text_len);
		assert_non_null(alt);
		memcpy(alt, n->text, n->text_len);
		alt[n->text_len - 2] = '0';
		assert_int_equal(pl_cosignature_verify(&n->sigs[1], &w_vk, alt, n->text_len, NULL),
		                 PL_EVERIFY);
		free(alt);
	}
	/* A plain Ed25519 key cannot verify a cosignature, nor the reverse. */
	assert_int_equal(pl_cosignature_verify(&n->sigs[0], &log_vk, n->text, n->text_len, NULL),
	                 PL_EINVAL);
	pl_note_free(n);
	n = NULL;

	/* pl_cosignature_add gives the same note, since Ed25519 is deterministic. */
	{
		struct pl_buf again;
		pl_buf_init(&again, PL_NOTE_MAX_BYTES);
		assert_int_equal(pl_buf_add(&again, copy, copy_len), 0);
		assert_int_equal(pl_cosignature_add(&again, &w_sk, 1700000000), 0);
		assert_int_equal(again.len, msg.len);
		assert_memory_equal(again.data, msg.data, msg.len);
		/* Twice by the same witness: refused, unchanged. */
		assert_int_equal(pl_cosignature_add(&again, &w_sk, 1700000001), PL_EEXIST);
		assert_int_equal(again.len, msg.len);
		pl_buf_release(&again);
	}
	pl_buf_release(&line);
	pl_buf_release(&msg);
	free(copy);
	pl_skey_clear(&log_sk);
	pl_skey_clear(&w_sk);
}

/* The opened checkpoint's note lets a client check witnesses and their times. */
static void test_checkpoint_then_witnesses(void **state)
{
	struct pl_skey log_sk, w_sk[2];
	struct pl_vkey log_vk, w_vk[2];
	struct pl_checkpoint cp, got;
	struct pl_note *n = NULL;
	struct pl_buf msg;
	uint8_t root[PL_HASH_BYTES] = {1};
	bool verified[2];

	(void)state;
	assert_int_equal(pl_key_generate(&log_sk, &log_vk, "hotline.example", 1), 0);
	assert_int_equal(pl_key_generate(&w_sk[0], &w_vk[0], "w1.example", 4), 0);
	assert_int_equal(pl_key_generate(&w_sk[1], &w_vk[1], "w2.example", 4), 0);
	assert_int_equal(pl_checkpoint_set(&cp, "hotline.example", 7, root), 0);
	pl_buf_init(&msg, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_checkpoint_sign(&msg, &cp, &log_sk), 0);
	assert_int_equal(pl_cosignature_add(&msg, &w_sk[1], 1234), 0);
	assert_int_equal(
	        pl_checkpoint_open(&got, &n, msg.data, msg.len, "hotline.example", &log_vk, 1), 0);
	assert_int_equal(pl_note_verify(n, w_vk, 2, verified), 0);
	assert_false(verified[0]);
	assert_true(verified[1]);
	pl_note_free(n);
	/* Witness keys alone are not log keys: the origin's key must sign. */
	assert_int_equal(
	        pl_checkpoint_open(&got, NULL, msg.data, msg.len, "hotline.example", &w_vk[0], 1),
	        PL_ENOKEY);
	pl_buf_release(&msg);
	pl_skey_clear(&log_sk);
	pl_skey_clear(&w_sk[0]);
	pl_skey_clear(&w_sk[1]);
}

static void test_sign_rejects(void **state)
{
	struct pl_skey ed, co;
	struct pl_vkey vk;
	struct pl_buf b;

	(void)state;
	assert_int_equal(pl_key_generate(&ed, &vk, "log", PL_SIGTYPE_ED25519), 0);
	assert_int_equal(pl_key_generate(&co, &vk, "w", PL_SIGTYPE_COSIG_V1), 0);
	pl_buf_init(&b, 4096);
	assert_int_equal(pl_buf_adds(&b, "keep"), 0);
	assert_int_equal(pl_cosignature_sign(&b, &ed, 1, SOFA, strlen(SOFA)), PL_EINVAL);
	assert_int_equal(
	        pl_cosignature_sign(&b, &co, PL_COSIGNATURE_MAX_TIME + 1, SOFA, strlen(SOFA)),
	        PL_EINVAL);
	assert_int_equal(pl_cosignature_sign(&b, &co, 1, "no newline", 10), PL_EINVAL);
	assert_int_equal(pl_cosignature_sign(&b, &co, 1, "a\r\n", 3), PL_EINVAL);
	assert_int_equal(pl_cosignature_add(&b, &co, 1), PL_EMALFORMED);
	assert_string_equal(b.data, "keep");
	pl_buf_release(&b);
	/* No room for the line: unchanged. */
	pl_buf_init(&b, 20);
	assert_int_equal(pl_cosignature_sign(&b, &co, 1, SOFA, strlen(SOFA)), PL_ETOOBIG);
	assert_int_equal(b.len, 0);
	pl_buf_release(&b);
	/* A large text takes the heap path and still verifies. */
	{
		size_t big = 100000;
		char *text = malloc(big);
		struct pl_note *n = NULL;
		uint64_t t = 0;
		assert_non_null(text);
		memset(text, 'z', big);
		text[big - 1] = '\n';
		pl_buf_init(&b, PL_NOTE_MAX_BYTES);
		assert_int_equal(pl_buf_add(&b, text, big), 0);
		assert_int_equal(pl_buf_add(&b, "\n", 1), 0);
		assert_int_equal(pl_cosignature_sign(&b, &co, 42, text, big), 0);
		assert_int_equal(pl_note_parse(&n, b.data, b.len), 0);
		assert_int_equal(pl_cosignature_verify(&n->sigs[0], &vk, n->text, n->text_len, &t),
		                 0);
		assert_int_equal(t, 42);
		pl_note_free(n);
		pl_buf_release(&b);
		free(text);
	}
	pl_skey_clear(&ed);
	pl_skey_clear(&co);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_spec_message),
             cmocka_unit_test(test_spec_cosignature_timestamp),
             cmocka_unit_test(test_published_timestamps), cmocka_unit_test(test_real_cosignature),
             cmocka_unit_test(test_sign_verify), cmocka_unit_test(test_checkpoint_then_witnesses),
             cmocka_unit_test(test_sign_rejects))
