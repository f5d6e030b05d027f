/* Unit tests of the metrics module: histogram buckets and the Prometheus text they are read in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <parley/metrics.h>

#include "testutil.h"

static void test_hist(void **state)
{
	static const uint64_t bounds[] = {10, 100, 1000};
	static const uint64_t bad[] = {10, 10};
	struct pl_metrics_hist h;
	struct pl_buf b;

	(void)state;
	assert_int_equal(pl_metrics_hist_init(&h, bad, 2), PL_EINVAL);
	assert_int_equal(pl_metrics_hist_init(&h, bounds, PL_METRICS_BUCKETS_MAX + 1), PL_EINVAL);
	assert_int_equal(pl_metrics_hist_init(&h, bounds, 3), 0);
	pl_metrics_hist_observe(&h, 0);
	pl_metrics_hist_observe(&h, 10); /* le is inclusive */
	pl_metrics_hist_observe(&h, 11);
	pl_metrics_hist_observe(&h, 5000); /* only in +Inf */
	pl_buf_init(&b, 4096);
	assert_int_equal(pl_metrics_hist_write(&b, "x_seconds", &h, 1000), 0);
	assert_string_equal(b.data, "x_seconds_bucket{le=\"0.01\"} 2\n"
	                            "x_seconds_bucket{le=\"0.1\"} 3\n"
	                            "x_seconds_bucket{le=\"1\"} 3\n"
	                            "x_seconds_bucket{le=\"+Inf\"} 4\n"
	                            "x_seconds_sum 5.021\n"
	                            "x_seconds_count 4\n");
	pl_buf_release(&b);
}

static void test_text(void **state)
{
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, 4096);
	assert_int_equal(pl_metrics_family(&b, "a_total", "counter", "As counted."), 0);
	assert_int_equal(pl_metrics_sample(&b, "a_total", "kind=\"send\"", 3), 0);
	assert_int_equal(pl_metrics_sample(&b, "a_total", NULL, 1e15), 0);
	assert_int_equal(pl_metrics_sample(&b, "a_total", NULL, 0.5), 0);
	assert_int_equal(pl_metrics_label(&b, "w", "a\"b\\c\nd"), 0);
	assert_string_equal(b.data, "# HELP a_total As counted.\n# TYPE a_total counter\n"
	                            "a_total{kind=\"send\"} 3\na_total 1000000000000000\n"
	                            "a_total 0.5\nw=\"a\\\"b\\\\c\\nd\"");
	pl_buf_release(&b);
	/* Past the maximum a label leaves nothing behind. */
	pl_buf_init(&b, 8);
	assert_int_equal(pl_metrics_label(&b, "w", "long value"), PL_ETOOBIG);
	assert_int_equal(b.len, 0);
	pl_buf_release(&b);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_hist), cmocka_unit_test(test_text))
