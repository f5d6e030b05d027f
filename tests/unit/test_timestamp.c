/* Unit tests of RFC 3339 UTC timestamps: vectors, every day of the range, malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <parley/timestamp.h>

#include "testutil.h"

/* Values computed independently (Python's calendar.timegm). */
static const struct {
	const char *text;
	int64_t t;
} vectors[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59Z", -1},
        {"2025-11-17T01:00:00Z", 1763341200},
        {"2000-02-29T12:34:56Z", 951827696},
        {"1900-03-01T00:00:00Z", -2203891200LL},
        {"1600-02-29T23:59:59Z", -11670912001LL},
        {"2400-02-29T00:00:00Z", 13574563200LL},
        {"0001-01-01T00:00:00Z", -62135596800LL},
        {"2038-01-19T03:14:08Z", 2147483648LL},
        {"0000-01-01T00:00:00Z", PL_TIMESTAMP_MIN},
        {"9999-12-31T23:59:59Z", PL_TIMESTAMP_MAX},
};

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		int64_t t = 42;
		char out[PL_TIMESTAMP_LEN + 1];
		assert_int_equal(pl_timestamp_parse(&t, vectors[i].text, strlen(vectors[i].text)),
		                 0);
		assert_true(t == vectors[i].t);
		assert_int_equal(pl_timestamp_format(out, vectors[i].t), 0);
		assert_string_equal(out, vectors[i].text);
	}
}

static int days_in(int y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : len[m - 1];
}

/* Walks every day of years 0000..9999 with a naive calendar and checks both directions. */
static void test_every_day(void **state)
{
	int y = 0, m = 1, d = 1;
	int64_t t = PL_TIMESTAMP_MIN;

	(void)state;
	for (;;) {
		char want[48], got[PL_TIMESTAMP_LEN + 1];
		int64_t back = 0, tt = t + 86399;
		snprintf(want, sizeof(want), "%04d-%02d-%02dT23:59:59Z", y, m, d);
		assert_int_equal(pl_timestamp_format(got, tt), 0);
		if (strcmp(got, want) != 0)
			fail_msg("%lld: got %s want %s", (long long)tt, got, want);
		assert_int_equal(pl_timestamp_parse(&back, want, PL_TIMESTAMP_LEN), 0);
		assert_true(back == tt);
		if (y == 9999 && m == 12 && d == 31)
			break;
		t += 86400;
		if (++d > days_in(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	assert_true(t + 86399 == PL_TIMESTAMP_MAX);
}

static void test_time_of_day(void **state)
{
	(void)state;
	for (int64_t s = 0; s < 86400; s += 7) {
		char out[PL_TIMESTAMP_LEN + 1];
		int64_t back;
		assert_int_equal(pl_timestamp_format(out, 1763337600 + s), 0);
		assert_int_equal(pl_timestamp_parse(&back, out, PL_TIMESTAMP_LEN), 0);
		assert_true(back == 1763337600 + s);
	}
}

static void test_range(void **state)
{
	char out[PL_TIMESTAMP_LEN + 1] = "untouched";
	struct pl_buf b;

	(void)state;
	assert_int_equal(pl_timestamp_format(out, PL_TIMESTAMP_MAX + 1), PL_ERANGE);
	assert_int_equal(pl_timestamp_format(out, PL_TIMESTAMP_MIN - 1), PL_ERANGE);
	assert_int_equal(pl_timestamp_format(out, INT64_MIN), PL_ERANGE);
	assert_int_equal(pl_timestamp_format(out, INT64_MAX), PL_ERANGE);
	assert_string_equal(out, "untouched");

	pl_buf_init(&b, 64);
	assert_int_equal(pl_buf_adds(&b, "time "), 0);
	assert_int_equal(pl_timestamp_append(&b, 0), 0);
	assert_string_equal(b.data, "time 1970-01-01T00:00:00Z");
	assert_int_equal(pl_timestamp_append(&b, INT64_MAX), PL_ERANGE);
	pl_buf_release(&b);
}

static const char *malformed[] = {
        "",
        "2025-11-17T01:00:00",       /* no Z */
        "2025-11-17T01:00:00z",      /* lower-case z */
        "2025-11-17t01:00:00Z",      /* lower-case t */
        "2025-11-17 01:00:00Z",      /* space separator */
        "2025-11-17T01:00:00+00:00", /* offset */
        "2025-11-17T01:00:00.5Z",    /* fraction */
        "2025-11-17T01:00:00ZZ",     /* trailing byte */
        " 2025-11-17T01:00:00Z",     /* leading space */
        "2025-1-17T01:00:00Z",       /* short month */
        "2025-13-17T01:00:00Z",      /* month 13 */
        "2025-00-17T01:00:00Z",      /* month 0 */
        "2025-11-00T01:00:00Z",      /* day 0 */
        "2025-11-31T01:00:00Z",      /* 31 November */
        "2025-02-29T01:00:00Z",      /* not a leap year */
        "1900-02-29T01:00:00Z",      /* century, not a leap year */
        "2025-11-17T24:00:00Z",      /* hour 24 */
        "2025-11-17T01:60:00Z",      /* minute 60 */
        "2025-11-17T01:00:60Z",      /* leap second */
        "+025-11-17T01:00:00Z",      /* sign */
        "2025-11-17T01:0a:00Z",      /* letter */
        "2025/11/17T01:00:00Z",      /* wrong separators */
        "20251117T010000Z",          /* basic format */
        "１０２５-11-17T01:00:00Z",  /* non-ASCII digits */
};

static void test_malformed(void **state)
{
	int64_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		t = 7;
		if (pl_timestamp_parse(&t, malformed[i], strlen(malformed[i])) != PL_EMALFORMED)
			fail_msg("accepted \"%s\"", malformed[i]);
		assert_true(t == 7);
	}
	/* An embedded NUL where the Z should be. */
	assert_int_equal(pl_timestamp_parse(&t, "2025-11-17T01:00:00\0", 20), PL_EMALFORMED);
}

/* Durations: the accepted forms, and a table of what is refused and why. */
static void test_duration(void **state)
{
	static const struct {
		const char *s;
		int ret;
		int64_t want;
	} cases[] = {
	        {"0s", 0, 0},
	        {"90s", 0, 90},
	        {"30m", 0, 1800},
	        {"1h", 0, 3600},
	        {"1h30m", 0, 5400},
	        {"2d", 0, 172800},
	        {"1w", 0, 604800},
	        {"1w1d1h1m1s", 0, 694861},
	        {"2591999s", 0, 2591999},
	        {"", PL_EMALFORMED, 0},
	        {"1", PL_EMALFORMED, 0},           /* no unit */
	        {"h", PL_EMALFORMED, 0},           /* no count */
	        {"01h", PL_EMALFORMED, 0},         /* leading zero */
	        {"-1h", PL_EMALFORMED, 0},         /* sign */
	        {"+1h", PL_EMALFORMED, 0},         /* sign */
	        {"1H", PL_EMALFORMED, 0},          /* unit case */
	        {"1y", PL_EMALFORMED, 0},          /* unknown unit */
	        {"1h ", PL_EMALFORMED, 0},         /* trailing blank */
	        {" 1h", PL_EMALFORMED, 0},         /* leading blank */
	        {"1h30", PL_EMALFORMED, 0},        /* a count without its unit */
	        {"1.5h", PL_EMALFORMED, 0},        /* fraction */
	        {"1000000000s", PL_EMALFORMED, 0}, /* ten digits */
	        {"1h\n", PL_EMALFORMED, 0},
	        {"1s1s1s1s1s1s1s1s1s1s1s1s1s1s1s1s1s", PL_EMALFORMED, 0}, /* 34 bytes */
	        {"31d", PL_ERANGE, 0}, /* over the 30 days given as max below */
	        {"4w1d23h59m60s1s", PL_ERANGE, 0},
	        {"4w1d23h59m60s", 0, 30 * 86400},
	        {"999999999s", PL_ERANGE, 0}, /* nine digits: well-formed, but too long */
	};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -1;
		assert_int_equal(pl_duration_parse(&v, cases[i].s, strlen(cases[i].s), 30 * 86400),
		                 cases[i].ret);
		if (cases[i].ret == 0)
			assert_true(v == cases[i].want);
		else
			assert_true(v == -1); /* untouched on failure */
	}
	assert_int_equal(pl_duration_parse(&v, "1h", 2, -1), PL_EMALFORMED);
	assert_int_equal(pl_duration_parse(NULL, "1h", 2, 10), PL_EMALFORMED);
	/* A NUL inside is not a unit. */
	assert_int_equal(pl_duration_parse(&v, "1h\0", 3, 7200), PL_EMALFORMED);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_vectors), cmocka_unit_test(test_every_day),
             cmocka_unit_test(test_time_of_day), cmocka_unit_test(test_range),
             cmocka_unit_test(test_malformed), cmocka_unit_test(test_duration))
