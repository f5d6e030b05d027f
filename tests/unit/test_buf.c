/* Unit tests of the bounded buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <parley/buf.h>

#include "testutil.h"

static void test_add_within_bound(void **state)
{
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, 8);
	assert_int_equal(pl_buf_adds(&b, "abcd"), 0);
	assert_int_equal(pl_buf_addf(&b, "%d", 1234), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "abcd1234");
	assert_int_equal(pl_buf_add(&b, "x", 1), PL_ETOOBIG);
	assert_string_equal(b.data, "abcd1234");
	pl_buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.max, 8);
}

static void test_addf_past_bound_changes_nothing(void **state)
{
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, 6);
	assert_int_equal(pl_buf_adds(&b, "ab"), 0);
	assert_int_equal(pl_buf_addf(&b, "%s", "cdefg"), PL_ETOOBIG);
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "ab");
	pl_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	pl_buf_release(&b);
}

static void test_detach(void **state)
{
	struct pl_buf b;
	size_t len = 99;
	char *s;

	(void)state;
	pl_buf_init(&b, 100);
	s = pl_buf_detach(&b, &len);
	assert_non_null(s);
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	free(s);
	for (int i = 0; i < 50; i++)
		assert_int_equal(pl_buf_add(&b, "xy", 2), 0);
	s = pl_buf_detach(&b, &len);
	assert_int_equal(len, 100);
	assert_int_equal(strlen(s), 100);
	assert_null(b.data);
	free(s);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_add_within_bound),
             cmocka_unit_test(test_addf_past_bound_changes_nothing), cmocka_unit_test(test_detach))
