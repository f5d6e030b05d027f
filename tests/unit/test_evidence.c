/* Tests for evidence.c: the offline check of two histories and of an index lie. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/client.h>
#include <parley/encoding.h>
#include <parley/evidence.h>
#include <parley/tlog.h>

#include "testutil.h"

#define ORIGIN "hotline.example"

static struct pl_skey log_sk, other_sk;
static struct pl_vkey log_vk, other_vk;
/* A log of 8 leaves and its roots at every size, and a second history's root at 5. */
static uint8_t roots[9][PL_HASH_BYTES], forked5[PL_HASH_BYTES];
static struct pl_tlog_memstore *ms;
static char log_text[512]; /* log_vk's text form */

static int setup(void **state)
{
	uint8_t leaves[8][PL_HASH_BYTES];
	struct pl_tlog_reader r;

	(void)state;
	pl_test_fixed_key(&log_sk, &log_vk, ORIGIN, 0x01);
	pl_test_fixed_key(&other_sk, &other_vk, "other.example", 0x01);
	{
		struct pl_buf t;
		pl_buf_init(&t, sizeof(log_text));
		if (pl_vkey_format(&log_vk, &t) != 0 || t.len >= sizeof(log_text))
			return -1;
		memcpy(log_text, t.data, t.len);
		pl_buf_release(&t);
	}
	for (int i = 0; i < 8; i++)
		memset(leaves[i], 0x10 + i, PL_HASH_BYTES);
	if (pl_tlog_memstore_new(&ms) != 0 || pl_tlog_memstore_append(ms, leaves, 8) != 0)
		return -1;
	r = pl_tlog_memstore_reader(ms);
	for (uint64_t n = 0; n <= 8; n++)
		if (pl_tlog_tree_hash(&r, n, roots[n]) != 0)
			return -1;
	memset(forked5, 0xee, PL_HASH_BYTES);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pl_tlog_memstore_free(ms);
	return 0;
}

/* k: a checkpoint of size/root signed by sk, with its note in a malloc'd string. */
static void put_checkpoint(struct pl_client_split_checkpoint *k, uint64_t size, const uint8_t *root,
                           const struct pl_skey *sk, const char *origin)
{
	struct pl_checkpoint cp;
	struct pl_buf b;

	memset(k, 0, sizeof(*k));
	pl_buf_init(&b, 4096);
	assert_int_equal(pl_checkpoint_set(&cp, origin, size, root), 0);
	assert_int_equal(pl_checkpoint_sign(&b, &cp, sk), 0);
	k->size = size;
	memcpy(k->root, root, PL_HASH_BYTES);
	k->note = strndup(b.data, b.len);
	assert_non_null(k->note);
	k->note_len = b.len;
	snprintf(k->source, sizeof(k->source), "received from http://127.0.0.1:1 at test");
	pl_buf_release(&b);
}

enum proof_kind { NONE, GOOD, BAD, REFUSED };

/* The evidence file of seen and given, with the consistency part of kind pk. */
static void split_file(struct pl_buf *out, uint64_t seen_size, const uint8_t *seen_root,
                       uint64_t given_size, const uint8_t *given_root, const struct pl_skey *sk,
                       enum proof_kind pk)
{
	struct pl_client_split s;
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	struct pl_tlog_reader r = pl_tlog_memstore_reader(ms);

	memset(&s, 0, sizeof(s));
	snprintf(s.reason, sizeof(s.reason), "same size, different roots");
	s.detected = 1763341200;
	snprintf(s.exchange, sizeof(s.exchange), "http://127.0.0.1:1");
	snprintf(s.log_key, sizeof(s.log_key), "%s", log_text);
	put_checkpoint(&s.seen, seen_size, seen_root, sk, ORIGIN);
	put_checkpoint(&s.given, given_size, given_root, sk, ORIGIN);
	s.asked_proof = pk != NONE;
	s.proof_old = seen_size < given_size ? seen_size : given_size;
	s.proof_new = seen_size < given_size ? given_size : seen_size;
	if (pk == GOOD || pk == BAD) {
		assert_int_equal(
		        pl_tlog_prove_consistency(&r, s.proof_old, s.proof_new, proof, &s.nproof),
		        0);
		if (pk == BAD)
			proof[0][0] ^= 1;
		s.proof = proof;
		s.has_proof = true;
	}
	snprintf(s.proof_error, sizeof(s.proof_error), "HTTP 404 not_found: no such tree");
	pl_buf_init(out, 1 << 20);
	assert_int_equal(pl_client_split_format(&s, out), 0);
	free(s.seen.note);
	free(s.given.note);
}

static enum pl_evidence_verdict check(const struct pl_buf *b, const struct pl_vkey *key,
                                      struct pl_evidence *ev)
{
	assert_int_equal(pl_evidence_check(ev, b->data, b->len, key), 0);
	assert_int_equal(ev->kind, PL_EVIDENCE_SPLIT_VIEW);
	return ev->verdict;
}

static void test_split_view(void **state)
{
	static struct pl_evidence ev;
	struct pl_buf b;

	(void)state;
	/* Two roots for one size: the file alone proves it, with the key given or its own. */
	split_file(&b, 5, roots[5], 5, forked5, &log_sk, NONE);
	assert_int_equal(check(&b, &log_vk, &ev), PL_EVIDENCE_PROVEN);
	assert_true(ev.key_pinned);
	assert_string_equal(ev.why, "the log key " ORIGIN " signed two different roots for size 5");
	assert_string_equal(ev.exchange, "http://127.0.0.1:1");
	assert_string_equal(ev.reason, "same size, different roots");
	assert_int_equal(ev.detected, 1763341200);
	assert_int_equal(check(&b, NULL, &ev), PL_EVIDENCE_PROVEN);
	assert_false(ev.key_pinned);
	/* Against another key: nothing is proven. */
	assert_int_equal(check(&b, &other_vk, &ev), PL_EVIDENCE_NOT_PROVEN);
	assert_string_equal(ev.why,
	                    "the checkpoint seen before is not a checkpoint signed by the log key");
	pl_buf_release(&b);
	/* The same checkpoint twice shows nothing. */
	split_file(&b, 5, roots[5], 5, roots[5], &log_sk, NONE);
	assert_int_equal(check(&b, &log_vk, &ev), PL_EVIDENCE_NOT_PROVEN);
	pl_buf_release(&b);
	/* Different sizes: a proof that verifies clears the exchange... */
	split_file(&b, 3, roots[3], 8, roots[8], &log_sk, GOOD);
	assert_int_equal(check(&b, &log_vk, &ev), PL_EVIDENCE_NOT_PROVEN);
	assert_non_null(strstr(ev.why, "verifies: the two checkpoints are one history"));
	pl_buf_release(&b);
	/* ...one that does not, or a refusal, leaves it unsettled, in either order. */
	split_file(&b, 8, roots[8], 3, roots[3], &log_sk, BAD);
	assert_int_equal(check(&b, &log_vk, &ev), PL_EVIDENCE_UNSETTLED);
	assert_non_null(strstr(ev.why, "sizes 3 and 8 and the exchange gave a proof that does "
	                               "not verify"));
	pl_buf_release(&b);
	split_file(&b, 3, roots[3], 8, roots[8], &log_sk, REFUSED);
	assert_int_equal(check(&b, &log_vk, &ev), PL_EVIDENCE_UNSETTLED);
	assert_non_null(strstr(ev.why, "refused to prove them one history"));
	pl_buf_release(&b);
	/* Different sizes said to be equal. */
	split_file(&b, 3, roots[3], 8, roots[8], &log_sk, NONE);
	assert_int_equal(check(&b, &log_vk, &ev), PL_EVIDENCE_NOT_PROVEN);
	pl_buf_release(&b);
	/* Checkpoints another key signed, checked with the file's own key: not the log's. */
	split_file(&b, 5, roots[5], 5, forked5, &other_sk, NONE);
	assert_int_equal(check(&b, &log_vk, &ev), PL_EVIDENCE_NOT_PROVEN);
	pl_buf_release(&b);
}

/* Replaces the first occurrence of from in b by to. */
static void replace(struct pl_buf *b, const char *from, const char *to)
{
	size_t off = 0, fl = strlen(from), tl = strlen(to);
	struct pl_buf n;

	while (off + fl <= b->len && memcmp(b->data + off, from, fl) != 0)
		off++;
	assert_true(off + fl <= b->len);
	pl_buf_init(&n, 1 << 21);
	assert_int_equal(pl_buf_add(&n, b->data, off), 0);
	assert_int_equal(pl_buf_add(&n, to, tl), 0);
	assert_int_equal(pl_buf_add(&n, b->data + off + fl, b->len - off - fl), 0);
	pl_buf_release(b);
	*b = n;
}

/* A change to a good file that makes it malformed, and the start of the reason it gives. */
struct mangle {
	const char *from, *to, *line;
};

/* Each mangled copy of good is refused as malformed, saying where. */
static void expect_malformed(const struct pl_buf *good, const struct mangle *m, size_t n)
{
	static struct pl_evidence ev;
	struct pl_buf b;

	for (size_t i = 0; i < n; i++) {
		pl_buf_init(&b, 1 << 21);
		assert_int_equal(pl_buf_add(&b, good->data, good->len), 0);
		replace(&b, m[i].from, m[i].to);
		memset(&ev, 0, sizeof(ev));
		if (pl_evidence_check(&ev, b.data, b.len, &log_vk) != PL_EMALFORMED)
			fail_msg("case %zu (%s): not refused as malformed", i, m[i].to);
		if (strncmp(ev.why, m[i].line, strlen(m[i].line)) != 0)
			fail_msg("case %zu: says \"%s\", want it to start \"%s\"", i, ev.why,
			         m[i].line);
		pl_buf_release(&b);
	}
}

static void test_split_view_malformed(void **state)
{
	static const struct mangle cases[] = {
	        {"parley/split-view/v1\n", "parley/split-view/v2\n", "line 1:"},
	        {"exchange ", "exchanges ", "line 2:"},
	        {"\nlog-key ", "\nlog-key\n", "line 3:"},
	        {"detected 2025-11-17T01:00:00Z", "detected yesterday", "line 4:"},
	        {"reason same size", "reason \x01same size", "line 5:"},
	        {"\n\ncheckpoint seen-before", "\ncheckpoint seen-before", "line 6:"},
	        {"checkpoint seen-before", "checkpoint seen", "line 7:"},
	        {"size 5\n", "size -5\n", "line 8:"},
	        {"size 5\n", "size 05\n", "line 8:"},
	        {"\nroot ", "\nroot !!", "line 9:"},
	        {"\nbytes ", "\nbytes 9", "line "},
	        {"\nbytes ", "\nbytes x", "line 11:"},
	        {"consistency none: the sizes are equal", "consistency none", "line "},
	        {"consistency none: the sizes are equal\n",
	         "consistency none: the sizes are equal\nmore\n", "line "},
	        {"checkpoint given-now", "checkpoint given-later", "line "},
	};
	static struct pl_evidence ev;
	struct pl_buf good;

	(void)state;
	split_file(&good, 5, roots[5], 5, forked5, &log_sk, NONE);
	expect_malformed(&good, cases, sizeof(cases) / sizeof(cases[0]));
	/* Cut anywhere: malformed, never a crash or a verdict. */
	for (size_t n = 0; n < good.len; n += 7)
		assert_int_equal(pl_evidence_check(&ev, good.data, n, &log_vk), PL_EMALFORMED);
	assert_int_equal(pl_evidence_check(NULL, good.data, good.len, &log_vk), PL_EINVAL);
	assert_int_equal(pl_evidence_check(&ev, good.data, PL_EVIDENCE_MAX_BYTES + 1, &log_vk),
	                 PL_ETOOBIG);
	pl_buf_release(&good);
}

/* An index lie whose format holds but whose parts (each "X") are not what they claim. */
static void index_lie_text(struct pl_buf *b)
{
	static const char *const parts[] = {"index-record", "index-inclusion", "tindex-proof",
	                                    "record", "record-inclusion"};
	char key[PL_HASH_HEX_LEN + 1], id[PL_HASH_HEX_LEN + 1];
	uint8_t raw[PL_HASH_BYTES];

	memset(raw, 0x33, sizeof(raw));
	pl_hex_encode(key, raw, sizeof(raw));
	memset(raw, 0xc1, sizeof(raw));
	pl_hex_encode(id, raw, sizeof(raw));
	pl_buf_init(b, 4096);
	assert_int_equal(pl_buf_addf(b,
	                             "parley/index-lie/v1\nexchange http://127.0.0.1:1\nlog-key "
	                             "%s\ndetected 2025-11-17T01:00:00Z\nreason omission\nkey "
	                             "%s\nrecord 4 %s\nindex 9\n\n",
	                             log_text, key, id),
	                 0);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		assert_int_equal(pl_buf_addf(b, "%s bytes 2\nX\n\n", parts[i]), 0);
}

static void test_index_lie(void **state)
{
	static const struct mangle cases[] = {
	        {"reason omission", "reason forgery", "line "},
	        {"key 3333", "key 333", "line 6:"},
	        {"record 4 c1", "record 4c1", "line 7:"},
	        {"record 4 c1", "record x c1", "line 7:"},
	        {"index 9\n", "index nine\n", "line 8:"},
	        {"index 9\n\n", "index 9\n", "line 9:"},
	        {"index-record bytes 2", "index-record bytes 3", "line "},
	        {"tindex-proof bytes", "tindex bytes", "line 16:"},
	        {"record-inclusion bytes 2\nX\n\n", "record-inclusion bytes 2\nX\n", "line "},
	        {"record-inclusion bytes 2\nX\n\n", "record-inclusion bytes 90\nX\n\n", "line "},
	};
	static struct pl_evidence ev;
	struct pl_buf good;

	(void)state;
	index_lie_text(&good);
	/* It reads, and its parts prove nothing. */
	assert_int_equal(pl_evidence_check(&ev, good.data, good.len, &log_vk), 0);
	assert_int_equal(ev.kind, PL_EVIDENCE_INDEX_LIE);
	assert_int_equal(ev.verdict, PL_EVIDENCE_NOT_PROVEN);
	assert_string_equal(ev.why,
	                    "the index record is not an index record signed by the log key");
	assert_string_equal(ev.reason, "omission");
	expect_malformed(&good, cases, sizeof(cases) / sizeof(cases[0]));
	pl_buf_release(&good);
}

PL_TEST_MAIN(setup, teardown, cmocka_unit_test(test_split_view),
             cmocka_unit_test(test_split_view_malformed), cmocka_unit_test(test_index_lie))
