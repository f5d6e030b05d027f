/* Named time zones: zone names, TZif files and footer rules (table of malformed files), offsets
 * and wall times against the system's tz database, daylight saving time both ways. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <parley/timestamp.h>
#include <parley/tz.h>

/* ---- A TZif writer for the tables ---- */

struct tzw {
	uint8_t b[8192];
	size_t n;
};

static void put(struct tzw *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	if (n)
		memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void put32(struct tzw *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	put(w, b, 4);
}

static void put64(struct tzw *w, int64_t v)
{
	put32(w, (uint32_t)((uint64_t)v >> 32));
	put32(w, (uint32_t)v);
}

static void header(struct tzw *w, char version, uint32_t time, uint32_t type, uint32_t chr)
{
	uint8_t z[15] = {0};

	put(w, "TZif", 4);
	put(w, &version, 1);
	put(w, z, 15);
	put32(w, 0); /* isut */
	put32(w, 0); /* isstd */
	put32(w, 0); /* leap */
	put32(w, time);
	put32(w, type);
	put32(w, chr);
}

/*
 * A version-2 file: transitions at[0..n) to types idx[], types off[0..k) (isdst 0), the
 * footer "\n" rule "\n".
 */
static void tzif(struct tzw *w, const int64_t *at, const uint8_t *idx, size_t n, const int32_t *off,
                 size_t k, const char *rule)
{
	w->n = 0;
	header(w, '2', 0, 1, 4);
	put32(w, 0);
	put(w, "\0\0UTC", 6); /* one type (isdst 0, desig 0) and "UTC\0" */
	header(w, '2', (uint32_t)n, (uint32_t)k, 4);
	for (size_t i = 0; i < n; i++)
		put64(w, at[i]);
	put(w, idx, n);
	for (size_t i = 0; i < k; i++) {
		put32(w, (uint32_t)off[i]);
		put(w, "\0\0", 2);
	}
	put(w, "UTC", 4);
	put(w, "\n", 1);
	put(w, rule, strlen(rule));
	put(w, "\n", 1);
}

static int64_t ts(const char *s)
{
	int64_t t = 0;

	assert_int_equal(pl_timestamp_parse(&t, s, strlen(s)), 0);
	return t;
}

/* ---- Names ---- */

static void test_names(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} rows[] = {
	        {"UTC", true},
	        {"Asia/Seoul", true},
	        {"America/Argentina/Buenos_Aires", true},
	        {"Etc/GMT+9", true},
	        {"Etc/GMT-14", true},
	        {"", false},
	        {"/etc/passwd", false},
	        {"../etc/passwd", false},
	        {"Asia/../../etc/passwd", false},
	        {"Asia//Seoul", false},
	        {"Asia/Seoul/", false},
	        {"Asia/.", false},
	        {"Asia/Seoul.tab", false},
	        {".hidden", false},
	        {"-Asia", false},
	        {"Asia Seoul", false},
	        {"Asia/Seoul\n", false},
	        {"Asia\\Seoul", false},
	        {"Ąsia", false},
	        {"a23456789012345678901234567890123456789012345678901234567890123", true},
	        {"a234567890123456789012345678901234567890123456789012345678901234", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (pl_tz_name_is_valid(rows[i].name, strlen(rows[i].name)) != rows[i].ok)
			fail_msg("%s: want %s", rows[i].name, rows[i].ok ? "valid" : "refused");
	}
	assert_false(pl_tz_name_is_valid(NULL, 0));
}

/* ---- Parsing ---- */

static void test_parse_good(void **state)
{
	static const int64_t at[2] = {0, 1000};
	static const uint8_t idx[2] = {1, 0};
	static const int32_t off[2] = {3600, 7200};
	struct pl_tz *tz = NULL;
	struct tzw w;

	(void)state;
	tzif(&w, at, idx, 2, off, 2, "");
	assert_int_equal(pl_tz_parse(&tz, "Test/Zone", w.b, w.n, NULL), 0);
	assert_string_equal(tz->name, "Test/Zone");
	assert_int_equal(tz->n, 2);
	assert_false(tz->has_rule);
	assert_int_equal(pl_tz_offset(tz, -1), 3600); /* type 0 before the first */
	assert_int_equal(pl_tz_offset(tz, 0), 7200);  /* from the first on */
	assert_int_equal(pl_tz_offset(tz, 999), 7200);
	assert_int_equal(pl_tz_offset(tz, 1000), 3600); /* the last holds without a rule */
	assert_int_equal(pl_tz_offset(tz, 1 << 30), 3600);
	pl_tz_free(tz);
	tz = NULL;
	/* Rule forms: fixed offsets, <...> names, a default DST offset, negative times. */
	{
		static const struct {
			const char *rule;
			int32_t std, dst;
			bool has_dst;
		} rules[] = {
		        {"KST-9", 9 * 3600, 9 * 3600, false},
		        {"<+0330>-3:30", 3 * 3600 + 1800, 3 * 3600 + 1800, false},
		        {"<-03>3", -3 * 3600, -3 * 3600, false},
		        {"EST5EDT,M3.2.0,M11.1.0", -5 * 3600, -4 * 3600, true},
		        {"IST-1GMT0,M10.5.0,M3.5.0/1", 3600, 0, true},
		        {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", -3 * 3600, -2 * 3600, true},
		        {"AEST-10AEDT,M10.1.0,M4.1.0/3", 10 * 3600, 11 * 3600, true},
		        {"XXX0YYY-1:30:15,M1.1.0/167,M12.5.6/-167", 0, 5415, true},
		};
		for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
			tzif(&w, NULL, NULL, 0, off, 1, rules[i].rule);
			if (pl_tz_parse(&tz, "T", w.b, w.n, NULL) != 0)
				fail_msg("rule %s refused", rules[i].rule);
			assert_true(tz->has_rule);
			assert_int_equal(tz->has_dst, rules[i].has_dst);
			assert_int_equal(tz->std, rules[i].std);
			assert_int_equal(tz->dst, rules[i].dst);
			pl_tz_free(tz);
			tz = NULL;
		}
	}
}

/* Every malformed file is refused, with a reason. */
static void test_parse_malformed(void **state)
{
	static const int64_t at[2] = {0, 1000};
	static const int32_t off[2] = {3600, 7200};
	static const uint8_t idx_ok[2] = {1, 0};
	static const uint8_t idx_bad[2] = {1, 2};
	static const int64_t at_down[2] = {1000, 1000};
	static const int32_t off_big[2] = {3600, 25 * 3600 + 1};
	static const struct {
		const char *what;
		const int64_t *at;
		const uint8_t *idx;
		const int32_t *off;
		const char *rule;
		int cut;   /* bytes cut from the end (negative: that many zero bytes added) */
		int patch; /* offset of one byte to change (-1: none) */
		uint8_t to;
		int want;
	} rows[] = {
	        {"bad magic", at, idx_ok, off, "", 0, 0, 'X', PL_EMALFORMED},
	        {"version 1", at, idx_ok, off, "", 0, 4, 0, PL_EMALFORMED},
	        {"version 5", at, idx_ok, off, "", 0, 4, '5', PL_EMALFORMED},
	        {"v2 header version 1", at, idx_ok, off, "", 0, 54 + 4, 0, PL_EMALFORMED},
	        {"truncated in the header", at, idx_ok, off, "", 0, -2, 0, PL_EMALFORMED},
	        {"truncated before the footer", at, idx_ok, off, "", 30, -1, 0, PL_EMALFORMED},
	        {"no footer's last newline", at, idx_ok, off, "", 1, -1, 0, PL_EMALFORMED},
	        {"bytes after the footer", at, idx_ok, off, "", -1, -1, 0, PL_EMALFORMED},
	        {"leap seconds", at, idx_ok, off, "", 0, 54 + 31, 1, PL_EMALFORMED},
	        {"no types", at, idx_ok, off, "", 0, 54 + 39, 0, PL_EMALFORMED},
	        {"no characters", at, idx_ok, off, "", 0, 54 + 43, 0, PL_EMALFORMED},
	        {"isut count not the types'", at, idx_ok, off, "", 0, 54 + 23, 1, PL_EMALFORMED},
	        {"too many transitions", at, idx_ok, off, "", 0, 54 + 34, 0x10, PL_ETOOBIG},
	        {"too many types", at, idx_ok, off, "", 0, 54 + 38, 0x10, PL_ETOOBIG},
	        {"transitions not ascending", at_down, idx_ok, off, "", 0, -1, 0, PL_EMALFORMED},
	        {"a transition to an unknown type", at, idx_bad, off, "", 0, -1, 0, PL_EMALFORMED},
	        {"an offset beyond 25 h", at, idx_ok, off_big, "", 0, -1, 0, PL_EMALFORMED},
	        {"isdst 2", at, idx_ok, off, "", 0, 98 + 16 + 2 + 4, 2, PL_EMALFORMED},
	        {"designation beyond the characters", at, idx_ok, off, "", 0, 98 + 16 + 2 + 5, 9,
	         PL_EMALFORMED},
	        {"rule: a short name", at, idx_ok, off, "UT0", 0, -1, 0, PL_EMALFORMED},
	        {"rule: no offset", at, idx_ok, off, "EST", 0, -1, 0, PL_EMALFORMED},
	        {"rule: an offset of 25 h", at, idx_ok, off, "EST25", 0, -1, 0, PL_EMALFORMED},
	        {"rule: minutes 60", at, idx_ok, off, "EST5:60", 0, -1, 0, PL_EMALFORMED},
	        {"rule: DST without changes", at, idx_ok, off, "EST5EDT", 0, -1, 0, PL_EMALFORMED},
	        {"rule: a Julian day", at, idx_ok, off, "EST5EDT,J60,J300", 0, -1, 0,
	         PL_EMALFORMED},
	        {"rule: a zero-based day", at, idx_ok, off, "EST5EDT,59,299", 0, -1, 0,
	         PL_EMALFORMED},
	        {"rule: month 13", at, idx_ok, off, "EST5EDT,M13.2.0,M11.1.0", 0, -1, 0,
	         PL_EMALFORMED},
	        {"rule: week 6", at, idx_ok, off, "EST5EDT,M3.6.0,M11.1.0", 0, -1, 0,
	         PL_EMALFORMED},
	        {"rule: day 7", at, idx_ok, off, "EST5EDT,M3.2.7,M11.1.0", 0, -1, 0, PL_EMALFORMED},
	        {"rule: a time of 168 h", at, idx_ok, off, "EST5EDT,M3.2.0/168,M11.1.0", 0, -1, 0,
	         PL_EMALFORMED},
	        {"rule: one change", at, idx_ok, off, "EST5EDT,M3.2.0", 0, -1, 0, PL_EMALFORMED},
	        {"rule: text after", at, idx_ok, off, "EST5EDT,M3.2.0,M11.1.0,", 0, -1, 0,
	         PL_EMALFORMED},
	        {"rule: an unclosed <", at, idx_ok, off, "<+03-3", 0, -1, 0, PL_EMALFORMED},
	        {"rule: a space", at, idx_ok, off, "EST 5", 0, -1, 0, PL_EMALFORMED},
	        {"rule: too long", at, idx_ok, off,
	         "<+0000000000000000000000000000000000000000000000000000000000000000>0", 0, -1, 0,
	         PL_EMALFORMED},
	};
	struct tzw w;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pl_tz *tz = NULL;
		const char *why = NULL;
		size_t len;
		int ret;
		tzif(&w, rows[i].at, rows[i].idx, 2, rows[i].off, 2, rows[i].rule);
		len = w.n;
		if (rows[i].cut > 0)
			len -= (size_t)rows[i].cut;
		else if (rows[i].cut < 0)
			len += (size_t)-rows[i].cut; /* the buffer's next bytes */
		if (rows[i].patch == -2)
			len = 30;
		else if (rows[i].patch >= 0)
			w.b[rows[i].patch] = rows[i].to;
		ret = pl_tz_parse(&tz, "T", w.b, len, &why);
		if (ret != rows[i].want)
			fail_msg("%s: got %s, want %s", rows[i].what, pl_strerror(ret),
			         pl_strerror(rows[i].want));
		if (!why)
			fail_msg("%s: refused without a reason", rows[i].what);
		assert_null(tz);
	}
	/* Too large a file; bad arguments. */
	{
		struct pl_tz *tz = NULL;
		uint8_t *big = calloc(1, PL_TZ_FILE_MAX + 1);
		assert_non_null(big);
		assert_int_equal(pl_tz_parse(&tz, "T", big, PL_TZ_FILE_MAX + 1, NULL), PL_ETOOBIG);
		free(big);
		assert_int_equal(pl_tz_parse(&tz, "../T", w.b, w.n, NULL), PL_EINVAL);
		assert_int_equal(pl_tz_parse(NULL, "T", w.b, w.n, NULL), PL_EINVAL);
		assert_int_equal(pl_tz_parse(&tz, "T", NULL, 1, NULL), PL_EINVAL);
		assert_int_equal(pl_tz_parse(&tz, "T", w.b, 0, NULL), PL_EMALFORMED);
	}
}

/* ---- The system's zones ---- */

static struct pl_tz *load(const char *name)
{
	struct pl_tz *tz = NULL;
	const char *why = NULL;
	int ret = pl_tz_load(&tz, name, &why);

	if (ret)
		fail_msg("%s: %s (%s): install tzdata", name, pl_strerror(ret), why ? why : "");
	return tz;
}

static void test_system_offsets(void **state)
{
	static const struct {
		const char *zone, *when;
		int32_t off;
	} rows[] = {
	        {"Asia/Seoul", "2026-01-15T00:00:00Z", 9 * 3600},
	        {"Asia/Seoul", "2026-07-15T00:00:00Z", 9 * 3600},
	        {"Asia/Seoul", "2080-07-15T00:00:00Z", 9 * 3600},
	        {"America/New_York", "2026-01-15T12:00:00Z", -5 * 3600},
	        {"America/New_York", "2026-07-15T12:00:00Z", -4 * 3600},
	        {"America/New_York", "2026-03-08T06:59:59Z", -5 * 3600},
	        {"America/New_York", "2026-03-08T07:00:00Z", -4 * 3600},
	        {"America/New_York", "2026-11-01T05:59:59Z", -4 * 3600},
	        {"America/New_York", "2026-11-01T06:00:00Z", -5 * 3600},
	        /* Past the file's transitions (2037 in a fat file): its footer rule. */
	        {"America/New_York", "2045-01-15T12:00:00Z", -5 * 3600},
	        {"America/New_York", "2045-07-15T12:00:00Z", -4 * 3600},
	        {"America/New_York", "2045-03-12T06:59:59Z", -5 * 3600},
	        {"America/New_York", "2045-03-12T07:00:00Z", -4 * 3600},
	        {"America/New_York", "2045-11-05T05:59:59Z", -4 * 3600},
	        {"America/New_York", "2045-11-05T06:00:00Z", -5 * 3600},
	        /* The southern hemisphere: DST across the new year. */
	        {"Australia/Sydney", "2026-01-15T00:00:00Z", 11 * 3600},
	        {"Australia/Sydney", "2026-07-15T00:00:00Z", 10 * 3600},
	        {"Australia/Sydney", "2045-01-15T00:00:00Z", 11 * 3600},
	        {"Australia/Sydney", "2045-07-15T00:00:00Z", 10 * 3600},
	        {"UTC", "2026-07-15T00:00:00Z", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pl_tz *tz = load(rows[i].zone);
		int32_t got = pl_tz_offset(tz, ts(rows[i].when));
		if (got != rows[i].off)
			fail_msg("%s at %s: offset %d, want %d", rows[i].zone, rows[i].when, got,
			         rows[i].off);
		pl_tz_free(tz);
	}
}

static void test_system_load(void **state)
{
	struct pl_tz *tz = NULL;

	(void)state;
	assert_int_equal(pl_tz_load(&tz, "Mars/Olympus_Mons", NULL), PL_ENOTFOUND);
	assert_int_equal(pl_tz_load(&tz, "../../etc/passwd", NULL), PL_EINVAL);
	assert_int_equal(pl_tz_load(&tz, "Asia", NULL), PL_ENOTFOUND); /* a directory */
	assert_null(tz);
}

/* Wall times to instants: a time skipped moves past the gap, a time repeated is its first. */
static void test_to_utc(void **state)
{
	static const struct {
		const char *zone, *local, *want;
	} rows[] = {
	        {"Asia/Seoul", "2026-12-08T09:00:00Z", "2026-12-08T00:00:00Z"},
	        {"America/New_York", "2026-01-15T09:00:00Z", "2026-01-15T14:00:00Z"},
	        {"America/New_York", "2026-07-15T09:00:00Z", "2026-07-15T13:00:00Z"},
	        {"America/New_York", "2026-03-08T01:59:00Z", "2026-03-08T06:59:00Z"},
	        {"America/New_York", "2026-03-08T02:30:00Z", "2026-03-08T07:30:00Z"}, /* skipped */
	        {"America/New_York", "2026-03-08T03:00:00Z", "2026-03-08T07:00:00Z"},
	        {"America/New_York", "2026-11-01T01:30:00Z", "2026-11-01T05:30:00Z"}, /* twice */
	        {"America/New_York", "2026-11-01T02:00:00Z", "2026-11-01T07:00:00Z"},
	        {"America/New_York", "2045-03-12T02:30:00Z", "2045-03-12T07:30:00Z"},
	        {"America/New_York", "2045-11-05T01:30:00Z", "2045-11-05T05:30:00Z"},
	        {"Australia/Sydney", "2026-04-05T02:30:00Z", "2026-04-04T15:30:00Z"}, /* twice */
	        {"Australia/Sydney", "2026-10-04T02:30:00Z", "2026-10-03T16:30:00Z"}, /* skipped */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pl_tz *tz = load(rows[i].zone);
		int64_t got = pl_tz_to_utc(tz, ts(rows[i].local));
		char g[PL_TIMESTAMP_LEN + 1];
		assert_int_equal(pl_timestamp_format(g, got), 0);
		if (strcmp(g, rows[i].want) != 0)
			fail_msg("%s %s: got %s, want %s", rows[i].zone, rows[i].local, g,
			         rows[i].want);
		pl_tz_free(tz);
	}
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_names), cmocka_unit_test(test_parse_good),
             cmocka_unit_test(test_parse_malformed), cmocka_unit_test(test_system_offsets),
             cmocka_unit_test(test_system_load), cmocka_unit_test(test_to_utc))
