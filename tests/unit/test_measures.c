/*
 * Unit tests of measures: rok-mnd's loudspeaker measure announced, suspended, resumed and ended;
 * dprk's noise broadcasts halted in reciprocation; changes that do not name the latest state.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <parley/measures.h>

#include "testutil.h"

#define MAXR 16

static struct pl_record *recs;
static uint8_t ids[MAXR][PL_RECORD_ID_BYTES];
static struct pl_coordination_record list[MAXR];
static size_t n;

/* A statement by author; class measure unless plain; a change of `changes` to st when given. */
static size_t add(const char *author, bool plain, size_t changes, enum pl_measure_state st,
                  size_t reciprocates)
{
	struct pl_record *r = &recs[n];

	memset(r, 0, offsetof(struct pl_record, body));
	r->kind = PL_KIND_STATEMENT;
	snprintf(r->author, sizeof(r->author), "%s", author);
	r->time = 1000 + (int64_t)n;
	r->cls = plain ? PL_CLASS_STATEMENT : PL_CLASS_MEASURE;
	r->has |= PL_RECORD_HAS_CLASS;
	memset(ids[n], 0, sizeof(ids[n]));
	ids[n][0] = (uint8_t)(n + 1);
	if (changes != SIZE_MAX) {
		pl_test_add_ref(r, PL_ROLE_CHANGES, ids[changes]);
		r->state = st;
		r->has |= PL_RECORD_HAS_STATE;
	}
	if (reciprocates != SIZE_MAX)
		pl_test_add_ref(r, PL_ROLE_RECIPROCATES, ids[reciprocates]);
	list[n].rec = r;
	list[n].id = ids[n];
	list[n].index = n;
	return n++;
}

#define NO SIZE_MAX

static void test_lifecycle_and_reciprocity(void **state)
{
	struct pl_measure *v = NULL;
	size_t nv = 0, m1, s1, r1, e1, m2, plain;

	(void)state;
	n = 0;
	m1 = add("rok-mnd", false, NO, 0, NO);
	plain = add("kpa", true, NO, 0, NO);
	m2 = add("dprk", false, NO, 0, m1);
	s1 = add("rok-mnd", false, m1, PL_MEASURE_SUSPENDED, NO);
	add("rok-mnd", false, m1, PL_MEASURE_ENDED, NO); /* names a state already changed */
	r1 = add("rok-mnd", false, s1, PL_MEASURE_RESUMED, NO);
	add("dprk", false, r1, PL_MEASURE_ENDED,
	    NO); /* another party's: not the latest of dprk's */
	e1 = add("rok-mnd", false, r1, PL_MEASURE_ENDED, NO);
	assert_int_equal(pl_measures_build(list, n, &v, &nv), 0);
	/* Two measures; the fork and the foreign change make measures of nothing. */
	assert_int_equal(nv, 2);
	assert_int_equal(v[0].announced, m1);
	assert_int_equal(v[0].state, PL_MEASURE_ENDED);
	assert_int_equal(v[0].last, e1);
	assert_int_equal(v[0].nchanges, 3);
	assert_int_equal(v[0].reciprocates, NO);
	assert_int_equal(v[1].announced, m2);
	assert_int_equal(v[1].state, PL_MEASURE_ANNOUNCED);
	assert_int_equal(v[1].last, m2);
	assert_int_equal(v[1].reciprocates, m1);
	(void)plain;
	free(v);
	/* A reciprocation made in a change counts; one of a plain statement does not. */
	n = 0;
	m1 = add("rok-mnd", false, NO, 0, NO);
	plain = add("kpa", true, NO, 0, NO);
	m2 = add("dprk", false, NO, 0, plain);
	add("dprk", false, m2, PL_MEASURE_SUSPENDED, s1 = m1);
	assert_int_equal(pl_measures_build(list, n, &v, &nv), 0);
	assert_int_equal(nv, 2);
	assert_int_equal(v[1].reciprocates, m1);
	assert_int_equal(v[1].state, PL_MEASURE_SUSPENDED);
	free(v);
	/* None at all. */
	assert_int_equal(pl_measures_build(list, 0, &v, &nv), 0);
	assert_int_equal(nv, 0);
	free(v);
}

static int setup(void **state)
{
	(void)state;
	recs = calloc(MAXR, sizeof(*recs));
	return recs ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(recs);
	return 0;
}

PL_TEST_MAIN(setup, teardown, cmocka_unit_test(test_lifecycle_and_reciprocity))
