/* Unit tests of author chains: the next-record rule, contiguous segments, and forks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <parley/chain.h>
#include <parley/encoding.h>

#include "testutil.h"

/* A made-up id: SHA-256 of "<seq>/<variant>", so two variants of one seq differ. */
static void fake_id(uint8_t id[PL_RECORD_ID_BYTES], uint64_t seq, int variant)
{
	char s[64];

	snprintf(s, sizeof(s), "%llu/%d", (unsigned long long)seq, variant);
	pl_sha256(id, s, strlen(s));
}

/* Fills links[0..n) as a valid chain from seq `first` (whose prev is variant 0 of first-1). */
static void make_chain(struct pl_chain_link *links, size_t n, uint64_t first)
{
	for (size_t i = 0; i < n; i++) {
		struct pl_chain_link *l = &links[i];
		memset(l, 0, sizeof(*l));
		l->seq = first + i;
		l->time = 1763341200 + (int64_t)(60 * i);
		fake_id(l->id, l->seq, 0);
		l->has_prev = l->seq > 1;
		if (l->has_prev)
			fake_id(l->prev, l->seq - 1, 0);
	}
}

static void test_link_set(void **state)
{
	struct pl_record r;
	struct pl_chain_link l;
	uint8_t id[PL_RECORD_ID_BYTES];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.seq = 7;
	r.time = 99;
	r.has = PL_RECORD_HAS_PREV;
	memset(r.prev, 0xab, sizeof(r.prev));
	memset(id, 0xcd, sizeof(id));
	pl_chain_link_set(&l, &r, id);
	assert_true(l.seq == 7 && l.time == 99 && l.has_prev);
	assert_memory_equal(l.prev, r.prev, PL_RECORD_ID_BYTES);
	assert_memory_equal(l.id, id, PL_RECORD_ID_BYTES);
	r.has = 0;
	r.seq = 1;
	pl_chain_link_set(&l, &r, id);
	assert_false(l.has_prev);
}

static void test_next(void **state)
{
	struct pl_chain_link c[3], x;
	const char *why = NULL;

	(void)state;
	make_chain(c, 3, 1);
	assert_int_equal(pl_chain_check_next(NULL, &c[0], &why), 0);
	assert_int_equal(pl_chain_check_next(&c[0], &c[1], &why), 0);
	assert_int_equal(pl_chain_check_next(&c[1], &c[2], NULL), 0);

	/* A key with no record must start at 1. */
	assert_int_equal(pl_chain_check_next(NULL, &c[1], &why), PL_ECHAIN);
	/* Skipping a seq. */
	assert_int_equal(pl_chain_check_next(&c[0], &c[2], &why), PL_ECHAIN);
	/* The same record again. */
	assert_int_equal(pl_chain_check_next(&c[1], &c[1], &why), PL_ECHAIN);
	assert_string_equal(why, "record is already the head of its chain");
	/* Another record with the head's seq: a fork. */
	x = c[1];
	fake_id(x.id, 2, 1);
	assert_int_equal(pl_chain_check_next(&c[1], &x, &why), PL_ECHAIN);
	assert_string_equal(why, "seq already used: a fork");
	/* An older seq. */
	assert_int_equal(pl_chain_check_next(&c[2], &c[0], &why), PL_ECHAIN);
	/* prev not the head's id. */
	x = c[2];
	x.prev[5] ^= 1;
	assert_int_equal(pl_chain_check_next(&c[1], &x, &why), PL_ECHAIN);
	assert_string_equal(why, "prev is not the id of the chain head");
	/* Time going backwards; equal time is fine. */
	x = c[2];
	x.time = c[1].time - 1;
	assert_int_equal(pl_chain_check_next(&c[1], &x, &why), PL_ECHAIN);
	x.time = c[1].time;
	assert_int_equal(pl_chain_check_next(&c[1], &x, &why), 0);
	/* Self-inconsistent links. */
	x = c[0];
	x.has_prev = true;
	assert_int_equal(pl_chain_check_next(NULL, &x, &why), PL_ECHAIN);
	x = c[1];
	x.has_prev = false;
	assert_int_equal(pl_chain_check_next(&c[0], &x, &why), PL_ECHAIN);
	x.seq = 0;
	assert_int_equal(pl_chain_check_next(NULL, &x, &why), PL_ECHAIN);
	/* Seq at the top of the range does not wrap. */
	x = c[1];
	x.seq = UINT64_MAX;
	assert_int_equal(pl_chain_check_next(&x, &c[0], &why), PL_ECHAIN);
}

static void test_segment(void **state)
{
	struct pl_chain_link c[10];
	const char *why = NULL;
	size_t bad = 99;

	(void)state;
	make_chain(c, 10, 1);
	assert_int_equal(pl_chain_check_segment(c, 10, &bad, &why), 0);
	assert_int_equal(bad, 99);
	/* Any contiguous part of it, starting anywhere. */
	assert_int_equal(pl_chain_check_segment(c + 4, 6, &bad, &why), 0);
	assert_int_equal(pl_chain_check_segment(c + 9, 1, &bad, &why), 0);
	assert_int_equal(pl_chain_check_segment(c, 0, &bad, &why), PL_EINVAL);

	/* A gap: link 6 missing from the list. */
	{
		struct pl_chain_link g[9];
		memcpy(g, c, 6 * sizeof(c[0]));
		memcpy(g + 6, c + 7, 3 * sizeof(c[0]));
		assert_int_equal(pl_chain_check_segment(g, 9, &bad, &why), PL_ECHAIN);
		assert_int_equal(bad, 6);
	}
	/* A link swapped for a fork of it. */
	fake_id(c[3].id, 4, 1);
	assert_int_equal(pl_chain_check_segment(c, 10, &bad, &why), PL_ECHAIN);
	assert_int_equal(bad, 4); /* the record after the fork no longer links to it */
	make_chain(c, 10, 1);
	/* Out of order. */
	{
		struct pl_chain_link t = c[2];
		c[2] = c[3];
		c[3] = t;
		assert_int_equal(pl_chain_check_segment(c, 10, &bad, &why), PL_ECHAIN);
		assert_int_equal(bad, 2);
	}
	make_chain(c, 10, 1);
	/* A first link that is inconsistent on its own. */
	c[0].has_prev = true;
	assert_int_equal(pl_chain_check_segment(c, 10, &bad, &why), PL_ECHAIN);
	assert_int_equal(bad, 0);
	/* bad and why are optional. */
	assert_int_equal(pl_chain_check_segment(c, 10, NULL, NULL), PL_ECHAIN);
}

static void test_forks(void **state)
{
	struct pl_chain_link c[12];
	struct pl_chain_fork f[8];
	size_t n = 99;

	(void)state;
	make_chain(c, 8, 1);
	assert_int_equal(pl_chain_find_forks(f, 8, &n, c, 8), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pl_chain_find_forks(f, 8, &n, c, 0), 0);
	assert_int_equal(n, 0);

	/* The same record listed twice is not a fork. */
	c[8] = c[2];
	assert_int_equal(pl_chain_find_forks(f, 8, &n, c, 9), 0);
	assert_int_equal(n, 0);

	/* Seq 6 signed twice (listed first at index 5), seq 2 three times. */
	c[9] = c[5];
	fake_id(c[9].id, 6, 1);
	c[10] = c[1];
	fake_id(c[10].id, 2, 1);
	c[11] = c[1];
	fake_id(c[11].id, 2, 2);
	assert_int_equal(pl_chain_find_forks(f, 8, &n, c, 12), 0);
	assert_int_equal(n, 3);
	/* Ascending seq; each pair is (first-listed, other). */
	assert_int_equal(f[0].a, 1);
	assert_int_equal(f[1].a, 1);
	assert_true((f[0].b == 10 && f[1].b == 11) || (f[0].b == 11 && f[1].b == 10));
	assert_int_equal(f[2].a, 5);
	assert_int_equal(f[2].b, 9);

	/* Fewer slots than forks: the count is still the total. */
	n = 0;
	assert_int_equal(pl_chain_find_forks(f, 1, &n, c, 12), 0);
	assert_int_equal(n, 3);
	assert_int_equal(f[0].a, 1);
	assert_int_equal(pl_chain_find_forks(NULL, 0, &n, c, 12), 0);
	assert_int_equal(n, 3);

	/* The first-listed record of a seq may sort after its fork by id. */
	{
		struct pl_chain_link d[3];
		make_chain(d, 1, 1);
		d[1] = d[0];
		d[2] = d[0];
		fake_id(d[1].id, 1, 7);
		fake_id(d[2].id, 1, 8);
		assert_int_equal(pl_chain_find_forks(f, 8, &n, d, 3), 0);
		assert_int_equal(n, 2);
		assert_int_equal(f[0].a, 0);
		assert_int_equal(f[1].a, 0);
		assert_true(f[0].b != 0 && f[1].b != 0 && f[0].b != f[1].b);
	}
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_link_set), cmocka_unit_test(test_next),
             cmocka_unit_test(test_segment), cmocka_unit_test(test_forks))
