/* Unit tests of line schedules (parse, format, next due time) and of the availability tally. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <parley/dossier.h>
#include <parley/line.h>
#include <parley/line_report.h>
#include <parley/timestamp.h>

#include "testutil.h"

static int64_t ts(const char *s)
{
	int64_t t = 0;

	assert_int_equal(pl_timestamp_parse(&t, s, strlen(s)), 0);
	return t;
}

static void parse_ok(struct pl_line *l, const char *s)
{
	const char *why = NULL;
	int ret = pl_line_parse(l, s, strlen(s), &why);

	if (ret)
		fail_msg("%s: %s", s, why ? why : "?");
}

/* Input and the canonical text it formats to. */
static const struct {
	const char *in, *canon;
} valid[] = {
        {"unc-kpa unc kpa every 3s window 2s", NULL},
        {"unc-kpa unc kpa every 12h window 30m", NULL},
        {"unc-kpa  unc\tkpa every 720m window 1800s", "unc-kpa unc kpa every 12h window 30m"},
        {"liaison rok kpa at 09:00,17:00 UTC weekdays window 30m", NULL},
        {"liaison rok kpa at 09:00,17:00 UTC mon,tue,wed,thu,fri window 30m",
         "liaison rok kpa at 09:00,17:00 UTC weekdays window 30m"},
        {"liaison rok kpa at 09:00 UTC daily window 1h", "liaison rok kpa at 09:00 UTC window 1h"},
        {"liaison rok kpa at 00:00,23:59 UTC window 1d", NULL},
        {"liaison rok kpa at 06:30 UTC sat,sun window 90s",
         "liaison rok kpa at 06:30 UTC weekends window 90s"},
        {"l a b at 12:00 UTC mon,wed,sun window 7m", NULL},
        {"liaison rok kpa at 09:00,17:00 Asia/Seoul weekdays window 30m", NULL},
        {"l a b at 09:00 CET window 1h", NULL},
        {"l a b at 02:30 America/New_York daily window 1h",
         "l a b at 02:30 America/New_York window 1h"},
        {"l a b every 7d window 1d", NULL},
        {"l a b every 1s window 1s", NULL},
};

static void test_parse_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		struct pl_line l, l2;
		struct pl_buf b;
		const char *canon = valid[i].canon ? valid[i].canon : valid[i].in;

		parse_ok(&l, valid[i].in);
		pl_buf_init(&b, PL_LINE_TEXT_MAX);
		assert_int_equal(pl_line_format(&l, &b), 0);
		assert_int_equal(b.len, strlen(canon));
		assert_memory_equal(b.data, canon, b.len);
		parse_ok(&l2, b.data);
		assert_memory_equal(&l, &l2, sizeof(l));
		pl_buf_release(&b);
	}
}

static void test_parse_fields(void **state)
{
	struct pl_line l;

	(void)state;
	parse_ok(&l, "liaison rok kpa at 09:00,17:00 UTC weekdays window 30m");
	assert_string_equal(l.name, "liaison");
	assert_string_equal(l.ends[0], "rok");
	assert_string_equal(l.ends[1], "kpa");
	assert_int_equal(l.mode, PL_LINE_AT);
	assert_int_equal(l.ntimes, 2);
	assert_int_equal(l.times[0], 9 * 3600);
	assert_int_equal(l.times[1], 17 * 3600);
	assert_int_equal(l.days, 0x3e);
	assert_int_equal(l.window, 1800);
	parse_ok(&l, "unc-kpa unc kpa every 3s window 2s");
	assert_int_equal(l.mode, PL_LINE_EVERY);
	assert_int_equal(l.period, 3);
	assert_int_equal(l.window, 2);
}

/* Malformed or out-of-range schedules and the error each must give. */
static const struct {
	const char *in;
	int err;
} bad[] = {
        {"", PL_EMALFORMED},
        {"unc-kpa unc kpa", PL_EMALFORMED},
        {"unc-kpa unc kpa every 3s", PL_EMALFORMED},
        {"unc-kpa unc kpa every 3s window", PL_EMALFORMED},
        {"unc-kpa unc kpa every 3s window 2s extra", PL_EMALFORMED},
        {"unc-kpa unc kpa every 3s window 2s window 2s", PL_EMALFORMED},
        {"unc-kpa unc kpa hourly 3s window 2s", PL_EMALFORMED},
        {"Unc-kpa unc kpa every 3s window 2s", PL_EMALFORMED},
        {"-unc unc kpa every 3s window 2s", PL_EMALFORMED},
        {"unc-kpa unc unc every 3s window 2s", PL_EMALFORMED},
        {"unc-kpa unc exchange every 3s window 2s", PL_EMALFORMED},
        {"unc-kpa unc kp_a every 3s window 2s", PL_EMALFORMED},
        {"unc-kpa unc kpa every 0s window 2s", PL_ERANGE},
        {"unc-kpa unc kpa every 03s window 2s", PL_EMALFORMED},
        {"unc-kpa unc kpa every 3 window 2s", PL_EMALFORMED},
        {"unc-kpa unc kpa every s window 2s", PL_EMALFORMED},
        {"unc-kpa unc kpa every 3w window 2s", PL_EMALFORMED},
        {"unc-kpa unc kpa every -3s window 2s", PL_EMALFORMED},
        {"unc-kpa unc kpa every 3S window 2s", PL_EMALFORMED},
        {"unc-kpa unc kpa every 8d window 2s", PL_ERANGE},
        {"unc-kpa unc kpa every 99999999999999999999999s window 2s", PL_ERANGE},
        {"unc-kpa unc kpa every 3s window 4s", PL_ERANGE},
        {"unc-kpa unc kpa every 3d window 2d", PL_ERANGE},
        {"unc-kpa unc kpa every 3s window 0s", PL_ERANGE},
        {"l a b at 09:00 window 1h", PL_EMALFORMED},
        {"l a b at 09:00 ../etc/passwd window 1h", PL_EMALFORMED},
        {"l a b at 09:00 /etc/localtime window 1h", PL_EMALFORMED},
        {"l a b at 09:00 Asia//Seoul window 1h", PL_EMALFORMED},
        {"l a b at 09:00 Asia/Seoul/ window 1h", PL_EMALFORMED},
        {"l a b at 09:00 -Asia window 1h", PL_EMALFORMED},
        {"l a b at 09:00 Asia\\Seoul window 1h", PL_EMALFORMED},
        {"l a b at 09:00 a234567890123456789012345678901234567890123456789012345678901234 "
         "window 1h",
         PL_EMALFORMED},
        {"l a b at 09:00 weekdays window 1h", PL_EMALFORMED},
        {"l a b at 09:00 mon,tue window 1h", PL_EMALFORMED},
        {"l a b at 09:00 sun window 1h", PL_EMALFORMED},
        {"l a b at 09:00 daily window 1h", PL_EMALFORMED},
        {"l a b at 9:00 UTC window 1h", PL_EMALFORMED},
        {"l a b at 09:0 UTC window 1h", PL_EMALFORMED},
        {"l a b at 09.00 UTC window 1h", PL_EMALFORMED},
        {"l a b at 24:00 UTC window 1h", PL_ERANGE},
        {"l a b at 09:60 UTC window 1h", PL_ERANGE},
        {"l a b at 17:00,09:00 UTC window 1h", PL_EMALFORMED},
        {"l a b at 09:00,09:00 UTC window 1h", PL_EMALFORMED},
        {"l a b at 09:00, UTC window 1h", PL_EMALFORMED},
        {"l a b at 09:00,,10:00 UTC window 1h", PL_EMALFORMED},
        {"l a b at ,09:00 UTC window 1h", PL_EMALFORMED},
        {"l a b at 09:00:00 UTC window 1h", PL_EMALFORMED},
        {"l a b at 09:00 UTC weekday window 1h", PL_EMALFORMED},
        {"l a b at 09:00 UTC tue,mon window 1h", PL_EMALFORMED},
        {"l a b at 09:00 UTC mon,mon window 1h", PL_EMALFORMED},
        {"l a b at 09:00 UTC mon, window 1h", PL_EMALFORMED},
        {"l a b at 09:00 UTC Mon window 1h", PL_EMALFORMED},
        {"l a b at 09:00 UTC monday window 1h", PL_EMALFORMED},
        {"l a b at 09:00 UTC weekdays daily window 1h", PL_EMALFORMED},
        {"l a b at 09:00 UTC window 2d", PL_ERANGE},
        {"l a b at 09:00 UTC window 1h\n", PL_EMALFORMED},
        {"l a b at 09:00 UTC window 1h\x01", PL_EMALFORMED},
        {"l a b at 00:00,01:00,02:00,03:00,04:00,05:00,06:00,07:00,08:00,09:00,10:00,11:00,"
         "12:00,13:00,14:00,15:00,16:00,17:00,18:00,19:00,20:00,21:00,22:00,23:00,23:30 UTC "
         "window 1m",
         PL_ETOOBIG},
};

static void test_parse_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pl_line l;
		const char *why = NULL;
		int ret;

		memset(&l, 0xa5, sizeof(l));
		ret = pl_line_parse(&l, bad[i].in, strlen(bad[i].in), &why);
		if (ret != bad[i].err)
			fail_msg("case %zu \"%s\": got %d, want %d", i, bad[i].in, ret, bad[i].err);
		assert_non_null(why);
		for (size_t k = 0; k < sizeof(l); k++)
			assert_int_equal(((unsigned char *)&l)[k], 0xa5); /* untouched */
	}
}

static void test_parse_limits(void **state)
{
	char big[PL_LINE_TEXT_MAX + 2];
	struct pl_line l;
	struct pl_buf b;

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_int_equal(pl_line_parse(&l, big, sizeof(big), NULL), PL_ETOOBIG);
	assert_int_equal(pl_line_parse(NULL, "x", 1, NULL), PL_EINVAL);
	/* Every time of the day once a hour: 24 is the most. */
	parse_ok(&l, "l a b at 00:00,01:00,02:00,03:00,04:00,05:00,06:00,07:00,08:00,09:00,"
	             "10:00,11:00,12:00,13:00,14:00,15:00,16:00,17:00,18:00,19:00,20:00,21:00,"
	             "22:00,23:00 UTC window 1m");
	assert_int_equal(l.ntimes, 24);
	/* Formatting refuses what no parse gives. */
	pl_buf_init(&b, PL_LINE_TEXT_MAX);
	l.days = 0;
	assert_int_equal(pl_line_format(&l, &b), PL_EINVAL);
	memset(&l, 0, sizeof(l));
	assert_int_equal(pl_line_format(&l, &b), PL_EINVAL);
	pl_buf_release(&b);
}

static void test_next_every(void **state)
{
	struct pl_line l;
	int64_t due = 0;

	(void)state;
	parse_ok(&l, "unc-kpa unc kpa every 3s window 2s");
	assert_int_equal(pl_line_next(&l, 0, &due), 0);
	assert_true(due == 3);
	assert_int_equal(pl_line_next(&l, 2, &due), 0);
	assert_true(due == 3);
	assert_int_equal(pl_line_next(&l, 3, &due), 0);
	assert_true(due == 6);
	assert_int_equal(pl_line_next(&l, -1, &due), 0);
	assert_true(due == 0);
	assert_int_equal(pl_line_next(&l, -3, &due), 0);
	assert_true(due == 0);
	assert_int_equal(pl_line_next(&l, -4, &due), 0);
	assert_true(due == -3);
	parse_ok(&l, "unc-kpa unc kpa every 12h window 30m");
	assert_int_equal(pl_line_next(&l, ts("2023-04-07T11:59:59Z"), &due), 0);
	assert_true(due == ts("2023-04-07T12:00:00Z"));
	assert_int_equal(pl_line_next(&l, ts("2023-04-07T12:00:00Z"), &due), 0);
	assert_true(due == ts("2023-04-08T00:00:00Z"));
	assert_int_equal(pl_line_next(&l, PL_TIMESTAMP_MAX + 1, &due), PL_ERANGE);
	assert_int_equal(pl_line_next(&l, PL_TIMESTAMP_MIN - 1, &due), PL_ERANGE);
	assert_int_equal(pl_line_next(&l, PL_TIMESTAMP_MIN, &due), 0);
	assert_int_equal(pl_line_next(&l, PL_TIMESTAMP_MAX, &due), 0);
}

static void test_next_at(void **state)
{
	struct pl_line l;
	int64_t due = 0;

	(void)state;
	parse_ok(&l, "liaison rok kpa at 09:00,17:00 UTC weekdays window 30m");
	/* 2023-04-07 was a Friday. */
	assert_int_equal(pl_line_next(&l, ts("2023-04-07T08:59:59Z"), &due), 0);
	assert_true(due == ts("2023-04-07T09:00:00Z"));
	assert_int_equal(pl_line_next(&l, ts("2023-04-07T09:00:00Z"), &due), 0);
	assert_true(due == ts("2023-04-07T17:00:00Z"));
	assert_int_equal(pl_line_next(&l, ts("2023-04-07T17:00:00Z"), &due), 0);
	assert_true(due == ts("2023-04-10T09:00:00Z")); /* over the weekend */
	assert_int_equal(pl_line_next(&l, ts("2023-04-08T12:00:00Z"), &due), 0);
	assert_true(due == ts("2023-04-10T09:00:00Z"));
	parse_ok(&l, "l a b at 06:30 UTC sun window 1h");
	assert_int_equal(pl_line_next(&l, ts("2023-04-09T06:30:00Z"), &due), 0);
	assert_true(due == ts("2023-04-16T06:30:00Z")); /* a week later */
	assert_int_equal(pl_line_next(&l, ts("1969-12-28T06:29:59Z"), &due), 0);
	assert_true(due == ts("1969-12-28T06:30:00Z")); /* before the epoch */
	parse_ok(&l, "l a b at 00:00 UTC window 1h");
	assert_int_equal(pl_line_next(&l, ts("2024-02-28T00:00:00Z"), &due), 0);
	assert_true(due == ts("2024-02-29T00:00:00Z"));
	assert_int_equal(pl_line_next(&l, PL_TIMESTAMP_MAX, &due), 0);
	assert_true(due == PL_TIMESTAMP_MAX + 1);
}

/* Due times in a named zone: its wall times and days, daylight saving time both ways. */
static void test_next_zoned(void **state)
{
	static const struct {
		const char *sched, *after, *want;
	} rows[] = {
	        /* 09:00 and 17:00 in Seoul (UTC+9) on weekdays; 2026-12-08 is a Tuesday. */
	        {"l a b at 09:00,17:00 Asia/Seoul weekdays window 30m", "2026-12-07T23:59:59Z",
	         "2026-12-08T00:00:00Z"},
	        {"l a b at 09:00,17:00 Asia/Seoul weekdays window 30m", "2026-12-08T00:00:00Z",
	         "2026-12-08T08:00:00Z"},
	        /* Friday 17:00 KST, then Monday 09:00 KST (Sunday 24:00 UTC). */
	        {"l a b at 09:00,17:00 Asia/Seoul weekdays window 30m", "2026-12-11T08:00:00Z",
	         "2026-12-14T00:00:00Z"},
	        /* The local day is not the UTC day: Monday 07:00 KST is Sunday in UTC. */
	        {"l a b at 07:00 Asia/Seoul mon window 1h", "2026-12-12T00:00:00Z",
	         "2026-12-13T22:00:00Z"},
	        /* New York: EST in winter, EDT in summer. */
	        {"l a b at 09:00 America/New_York window 1h", "2026-01-15T00:00:00Z",
	         "2026-01-15T14:00:00Z"},
	        {"l a b at 09:00 America/New_York window 1h", "2026-07-15T00:00:00Z",
	         "2026-07-15T13:00:00Z"},
	        /* The night clocks go forward, 02:30 does not happen: it is 03:30 EDT. */
	        {"l a b at 02:30 America/New_York window 1h", "2026-03-07T08:00:00Z",
	         "2026-03-08T07:30:00Z"},
	        {"l a b at 02:30 America/New_York window 1h", "2026-03-08T07:30:00Z",
	         "2026-03-09T06:30:00Z"},
	        /* The night they go back, 01:30 happens twice: one check, at the first. */
	        {"l a b at 01:30 America/New_York window 1h", "2026-10-31T06:00:00Z",
	         "2026-11-01T05:30:00Z"},
	        {"l a b at 01:30 America/New_York window 1h", "2026-11-01T05:30:00Z",
	         "2026-11-02T06:30:00Z"},
	        /* Past the zone file's transitions, its rule. */
	        {"l a b at 09:00 America/New_York window 1h", "2045-07-15T00:00:00Z",
	         "2045-07-15T13:00:00Z"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pl_line l;
		struct pl_tz *tz = NULL;
		char got[PL_TIMESTAMP_LEN + 1];
		int64_t due = 0;
		parse_ok(&l, rows[i].sched);
		assert_true(pl_line_is_zoned(&l));
		assert_int_equal(pl_tz_load(&tz, l.zone, NULL), 0);
		assert_int_equal(pl_line_next_in(&l, tz, ts(rows[i].after), &due), 0);
		assert_int_equal(pl_timestamp_format(got, due), 0);
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("%s after %s: got %s, want %s", rows[i].sched, rows[i].after, got,
			         rows[i].want);
		/* Without its zone, or with another, there is no answer. */
		assert_int_equal(pl_line_next(&l, ts(rows[i].after), &due), PL_EINVAL);
		snprintf(tz->name, sizeof(tz->name), "Europe/Paris");
		assert_int_equal(pl_line_next_in(&l, tz, ts(rows[i].after), &due), PL_EINVAL);
		pl_tz_free(tz);
	}
	/* A line in UTC takes no zone. */
	{
		struct pl_line l;
		struct pl_tz *tz = NULL;
		int64_t due;
		parse_ok(&l, "l a b at 09:00 UTC window 1h");
		assert_false(pl_line_is_zoned(&l));
		assert_int_equal(pl_tz_load(&tz, "UTC", NULL), 0);
		assert_int_equal(pl_line_next_in(&l, tz, 0, &due), PL_EINVAL);
		assert_int_equal(pl_line_next_in(&l, NULL, 0, &due), 0);
		pl_tz_free(tz);
	}
}

/* Weekday of a time (0 Sunday), counted naively from a known Sunday. */
static int weekday(int64_t t)
{
	int64_t d = (t - ts("1970-01-04T00:00:00Z")) / 86400;

	if ((t - ts("1970-01-04T00:00:00Z")) % 86400 < 0)
		d--;
	return (int)(((d % 7) + 7) % 7);
}

static bool is_due(const struct pl_line *l, int64_t t)
{
	int64_t sod = ((t % 86400) + 86400) % 86400;

	if (l->mode == PL_LINE_EVERY)
		return ((t % l->period) + l->period) % l->period == 0;
	if (!(l->days & (1u << weekday(t))))
		return false;
	for (size_t i = 0; i < l->ntimes; i++) {
		if (sod == l->times[i])
			return true;
	}
	return false;
}

/* pl_line_next() against a minute-by-minute walk: no due time is skipped. */
static void test_next_walk(void **state)
{
	static const char *const scheds[] = {
	        "l a b at 09:00,17:00 UTC weekdays window 30m",
	        "l a b at 00:00,12:34,23:59 UTC mon,thu,sun window 1m",
	        "l a b every 7m window 1m",
	        "l a b every 1d window 1h",
	};

	(void)state;
	for (size_t s = 0; s < sizeof(scheds) / sizeof(scheds[0]); s++) {
		struct pl_line l;
		int64_t start = ts("2023-04-01T00:00:00Z"), t = start - 60, due;

		parse_ok(&l, scheds[s]);
		assert_int_equal(pl_line_next(&l, t, &due), 0);
		for (int64_t m = start; m < start + 15 * 86400; m += 60) {
			if (is_due(&l, m)) {
				assert_true(due == m);
				assert_int_equal(pl_line_next(&l, m, &due), 0);
				assert_true(due > m);
			} else {
				assert_true(due > m);
			}
			/* From any second in between, the answer is the same. */
			if (m % 3600 == 0) {
				int64_t d2;
				assert_int_equal(pl_line_next(&l, m + 17, &d2), 0);
				assert_true(d2 > m + 17);
				assert_true(d2 == due || (is_due(&l, m) && d2 >= due));
			}
		}
	}
}

/* ---- judge and tally ---- */

static struct pl_record *mk(enum pl_record_kind kind, const char *author, int64_t time)
{
	struct pl_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->kind = kind;
	snprintf(r->author, sizeof(r->author), "%s", author);
	r->time = time;
	r->has |= PL_RECORD_HAS_LINE;
	snprintf(r->line, sizeof(r->line), "unc-kpa");
	return r;
}

static struct pl_record *mk_check(int64_t time)
{
	struct pl_record *r = mk(PL_KIND_CHECK, "exchange", time);

	r->nto = 2;
	snprintf(r->to[0], sizeof(r->to[0]), "kpa");
	snprintf(r->to[1], sizeof(r->to[1]), "unc");
	r->has |= PL_RECORD_HAS_DEADLINE;
	r->deadline = time + 2;
	return r;
}

static struct pl_record *mk_about(enum pl_record_kind kind, const char *author,
                                  const uint8_t id[static PL_RECORD_ID_BYTES])
{
	struct pl_record *r = mk(kind, author, 100);

	r->nrefs = 1;
	r->refs[0].role = PL_ROLE_CHECK;
	memcpy(r->refs[0].id, id, PL_RECORD_ID_BYTES);
	return r;
}

static void test_judge(void **state)
{
	uint8_t cid[PL_RECORD_ID_BYTES], other[PL_RECORD_ID_BYTES];
	uint8_t ids[4][PL_RECORD_ID_BYTES];
	struct pl_record *check = mk_check(100);
	struct pl_record *ans_unc, *ans_kpa, *una_kpa, *una_both, *ans_x, *ans_other;
	const struct pl_record *rel[4];
	enum pl_line_outcome o[2];

	(void)state;
	memset(cid, 1, sizeof(cid));
	memset(other, 2, sizeof(other));
	for (int i = 0; i < 4; i++)
		memset(ids[i], 10 + i, sizeof(ids[i]));
	ans_unc = mk_about(PL_KIND_ANSWER, "unc", cid);
	ans_kpa = mk_about(PL_KIND_ANSWER, "kpa", cid);
	ans_x = mk_about(PL_KIND_ANSWER, "rok", cid);
	ans_other = mk_about(PL_KIND_ANSWER, "kpa", other);
	una_kpa = mk_about(PL_KIND_UNANSWERED, "exchange", cid);
	una_kpa->nto = 1;
	snprintf(una_kpa->to[0], sizeof(una_kpa->to[0]), "kpa");
	una_both = mk_about(PL_KIND_UNANSWERED, "exchange", cid);
	una_both->nto = 2;
	snprintf(una_both->to[0], sizeof(una_both->to[0]), "kpa");
	snprintf(una_both->to[1], sizeof(una_both->to[1]), "unc");

	/* Nothing yet: both pending. */
	assert_int_equal(pl_line_judge(check, cid, NULL, NULL, 0, o), 0);
	assert_int_equal(o[0], PL_LINE_PENDING);
	assert_int_equal(o[1], PL_LINE_PENDING);
	/* unc answered, kpa did not. */
	rel[0] = ans_unc;
	rel[1] = una_kpa;
	rel[2] = ans_other; /* about another check: ignored */
	assert_int_equal(pl_line_judge(check, cid, rel, ids, 3, o), 0);
	assert_int_equal(o[0], PL_LINE_UNANSWERED); /* kpa */
	assert_int_equal(o[1], PL_LINE_ANSWERED);   /* unc */
	/* Both answered. */
	rel[0] = ans_kpa;
	rel[1] = ans_unc;
	assert_int_equal(pl_line_judge(check, cid, rel, ids, 2, o), 0);
	assert_int_equal(o[0], PL_LINE_ANSWERED);
	assert_int_equal(o[1], PL_LINE_ANSWERED);
	/* Neither. */
	rel[0] = una_both;
	assert_int_equal(pl_line_judge(check, cid, rel, ids, 1, o), 0);
	assert_int_equal(o[0], PL_LINE_UNANSWERED);
	assert_int_equal(o[1], PL_LINE_UNANSWERED);

	/* Contradictions the rules forbid. */
	rel[0] = ans_kpa;
	rel[1] = una_kpa; /* answered and reported unanswered */
	assert_int_equal(pl_line_judge(check, cid, rel, ids, 2, o), PL_ERULE);
	rel[0] = ans_unc;
	rel[1] = ans_unc; /* twice */
	assert_int_equal(pl_line_judge(check, cid, rel, ids, 2, o), PL_ERULE);
	rel[0] = ans_x; /* not an end */
	assert_int_equal(pl_line_judge(check, cid, rel, ids, 1, o), PL_ERULE);
	rel[0] = una_kpa; /* unanswered leaves unc neither answered nor named */
	assert_int_equal(pl_line_judge(check, cid, rel, ids, 1, o), PL_ERULE);
	rel[0] = una_kpa;
	rel[1] = una_kpa;
	assert_int_equal(pl_line_judge(check, cid, rel, ids, 2, o), PL_ERULE);
	snprintf(ans_unc->line, sizeof(ans_unc->line), "other");
	rel[0] = ans_unc;
	assert_int_equal(pl_line_judge(check, cid, rel, ids, 1, o), PL_ERULE);
	/* Not a check. */
	assert_int_equal(pl_line_judge(ans_kpa, cid, NULL, NULL, 0, o), PL_EINVAL);

	free(check);
	free(ans_unc);
	free(ans_kpa);
	free(ans_x);
	free(ans_other);
	free(una_kpa);
	free(una_both);
}

static void test_tally(void **state)
{
	struct pl_line_tally t;
	const struct pl_line_end_tally *e;
	const enum pl_line_outcome unc_only[2] = {PL_LINE_UNANSWERED, PL_LINE_ANSWERED};
	const enum pl_line_outcome pend[2] = {PL_LINE_PENDING, PL_LINE_ANSWERED};
	const enum pl_line_outcome odd[2] = {PL_LINE_PENDING, (enum pl_line_outcome)7};
	int64_t since = ts("2023-04-07T00:00:00Z");

	(void)state;
	pl_line_tally_init(&t, "unc-kpa", since, 0);
	for (int i = 0; i < 5; i++) {
		struct pl_record *c = mk_check(since - 3600 + i * 1800); /* the first two: before */
		assert_int_equal(pl_line_tally_add(&t, c, i == 4 ? pend : unc_only), 0);
		free(c);
	}
	{
		struct pl_record *c = mk_check(since + 10);
		snprintf(c->line, sizeof(c->line), "liaison"); /* another line: ignored */
		assert_int_equal(pl_line_tally_add(&t, c, unc_only), 0);
		assert_int_equal(pl_line_tally_add(&t, c, odd), 0); /* ignored before judged */
		snprintf(c->line, sizeof(c->line), "unc-kpa");
		assert_int_equal(pl_line_tally_add(&t, c, odd), PL_EINVAL);
		c->kind = PL_KIND_ANSWER;
		assert_int_equal(pl_line_tally_add(&t, c, unc_only), PL_EINVAL);
		free(c);
	}
	assert_int_equal(t.checks, 3);
	assert_int_equal(t.nends, 2);
	e = pl_line_tally_end(&t, "kpa");
	assert_non_null(e);
	assert_int_equal(e->checks, 3);
	assert_int_equal(e->answered, 0);
	assert_int_equal(e->unanswered, 2);
	assert_int_equal(e->pending, 1);
	assert_true(e->first == since);
	assert_true(e->last == since + 3600);
	e = pl_line_tally_end(&t, "unc");
	assert_non_null(e);
	assert_int_equal(e->checks, 3);
	assert_int_equal(e->answered, 3);
	assert_int_equal(e->unanswered, 0);
	assert_null(pl_line_tally_end(&t, "rok"));
	assert_int_equal(t.missed, 0);
}

/* A missed record of the line, due at `due`. */
static struct pl_record *mk_missed(int64_t due)
{
	struct pl_record *m = mk_check(due);

	m->kind = PL_KIND_MISSED;
	m->has &= ~PL_RECORD_HAS_DEADLINE;
	m->has |= PL_RECORD_HAS_DUE;
	m->due = due;
	m->time = due + 600;
	return m;
}

/* --until: [since, until) counted, the rest not; missed counted apart from every end. */
static void test_tally_period_missed(void **state)
{
	static const struct {
		const char *what;
		bool missed;
		int64_t at; /* seconds after since */
		bool counted;
	} rows[] = {
	        {"a check before since", false, -1, false},
	        {"a check at since", false, 0, true},
	        {"a check just before until", false, 3599, true},
	        {"a check at until", false, 3600, false},
	        {"a missed before since", true, -1, false},
	        {"a missed at since", true, 0, true},
	        {"a missed due before until, logged after it", true, 3599, true},
	        {"a missed at until", true, 3600, false},
	};
	const enum pl_line_outcome out[2] = {PL_LINE_UNANSWERED, PL_LINE_ANSWERED};
	int64_t since = ts("2023-04-07T00:00:00Z");
	struct pl_line_tally t;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pl_record *r = rows[i].missed ? mk_missed(since + rows[i].at)
		                                     : mk_check(since + rows[i].at);
		pl_line_tally_init(&t, "unc-kpa", since, since + 3600);
		if (rows[i].missed)
			assert_int_equal(pl_line_tally_add_missed(&t, r), 0);
		else
			assert_int_equal(pl_line_tally_add(&t, r, out), 0);
		if ((rows[i].missed ? t.missed : t.checks) != (rows[i].counted ? 1u : 0u))
			fail_msg("%s: counted %s", rows[i].what, rows[i].counted ? "no" : "it");
		/* A missed is no end's check. */
		if (rows[i].missed)
			assert_int_equal(t.nends, 0);
		free(r);
	}
	/* Not a missed, or another line's. */
	{
		struct pl_record *c = mk_check(since);
		pl_line_tally_init(&t, "unc-kpa", since, 0);
		assert_int_equal(pl_line_tally_add_missed(&t, c), PL_EINVAL);
		free(c);
		c = mk_missed(since);
		snprintf(c->line, sizeof(c->line), "liaison");
		assert_int_equal(pl_line_tally_add_missed(&t, c), 0);
		assert_int_equal(t.missed, 0);
		c->has &= ~PL_RECORD_HAS_DUE;
		assert_int_equal(pl_line_tally_add_missed(&t, c), PL_EINVAL);
		assert_int_equal(pl_line_tally_add_missed(NULL, c), PL_EINVAL);
		free(c);
	}
}

/* The line's own sentence: its checks, the missed apart, the period, the tree size. */
static void test_tally_line_format(void **state)
{
	static const struct {
		uint64_t checks, missed;
		bool until;
		const char *want;
	} cases[] = {
	        {2, 0, false,
	         "line unc-kpa: 2 checks since 2023-04-07T00:00:00Z, verified as of tree size 57"},
	        {1, 0, true,
	         "line unc-kpa: 1 check since 2023-04-07T00:00:00Z until 2023-04-08T00:00:00Z, "
	         "verified as of tree size 57"},
	        {3, 1, false,
	         "line unc-kpa: 3 checks since 2023-04-07T00:00:00Z, and 1 missed by the exchange "
	         "(it was down), verified as of tree size 57"},
	        {0, 2, false,
	         "line unc-kpa: no checks since 2023-04-07T00:00:00Z, but 2 missed by the "
	         "exchange (it was down), verified as of tree size 57"},
	        {0, 0, true,
	         "line unc-kpa: no checks since 2023-04-07T00:00:00Z until 2023-04-08T00:00:00Z, "
	         "verified as of tree size 57"},
	};
	struct pl_line_tally t;
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, 1024);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pl_line_tally_init(&t, "unc-kpa", 0, 0);
		t.checks = cases[i].checks;
		t.missed = cases[i].missed;
		pl_buf_reset(&b);
		assert_int_equal(pl_line_tally_format(
		                         &t, ts("2023-04-07T00:00:00Z"),
		                         cases[i].until ? ts("2023-04-08T00:00:00Z") : 0, 57, &b),
		                 0);
		assert_string_equal(b.data, cases[i].want);
	}
	assert_int_equal(pl_line_tally_format(NULL, 0, 0, 0, &b), PL_EINVAL);
	pl_buf_release(&b);
}

/* One end's line: K of N, the rest named, "check" or "checks" as N says; the sums hold. */
static void test_tally_format(void **state)
{
	static const struct {
		uint64_t answered, unanswered, pending;
		const char *want;
	} cases[] = {
	        {0, 1, 1,
	         "kpa answered 0 of 2 checks since 2023-04-07T00:00:00Z (1 unanswered, 1 "
	         "pending)"},
	        {0, 0, 1, "kpa answered 0 of 1 check since 2023-04-07T00:00:00Z (1 pending)"},
	        {0, 1, 0, "kpa answered 0 of 1 check since 2023-04-07T00:00:00Z (1 unanswered)"},
	        {1, 0, 0, "kpa answered 1 of 1 check since 2023-04-07T00:00:00Z"},
	        {5, 0, 0, "kpa answered 5 of 5 checks since 2023-04-07T00:00:00Z"},
	        {3, 2, 0, "kpa answered 3 of 5 checks since 2023-04-07T00:00:00Z (2 unanswered)"},
	        {3, 0, 2, "kpa answered 3 of 5 checks since 2023-04-07T00:00:00Z (2 pending)"},
	        {0, 0, 0, "kpa answered 0 of 0 checks since 2023-04-07T00:00:00Z"},
	};
	struct pl_line_end_tally e;
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, 1024);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		snprintf(e.end, sizeof(e.end), "kpa");
		e.answered = cases[i].answered;
		e.unanswered = cases[i].unanswered;
		e.pending = cases[i].pending;
		e.checks = e.answered + e.unanswered + e.pending;
		pl_buf_reset(&b);
		assert_int_equal(
		        pl_line_end_tally_format(&e, e.checks, ts("2023-04-07T00:00:00Z"), 0, &b),
		        0);
		assert_string_equal(b.data, cases[i].want);
	}
	/* The line made more checks than this end had (its ends changed): said so, to add up. */
	pl_buf_reset(&b);
	assert_int_equal(pl_line_end_tally_format(&e, e.checks + 1, ts("2023-04-07T00:00:00Z"),
	                                          ts("2023-04-08T00:00:00Z"), &b),
	                 0);
	assert_string_equal(b.data, "kpa answered 0 of the 0 checks addressed to it since "
	                            "2023-04-07T00:00:00Z until 2023-04-08T00:00:00Z");
	e.pending = e.checks = 1;
	pl_buf_reset(&b);
	assert_int_equal(pl_line_end_tally_format(&e, 2, ts("2023-04-07T00:00:00Z"), 0, &b), 0);
	assert_string_equal(b.data, "kpa answered 0 of the 1 check addressed to it since "
	                            "2023-04-07T00:00:00Z (1 pending)");
	/* More than the line's checks: refused. */
	assert_int_equal(pl_line_end_tally_format(&e, 0, 0, 0, &b), PL_EINVAL);
	/* Counts that do not add up are refused, not printed. */
	e.checks = e.answered + e.unanswered + e.pending + 1;
	pl_buf_reset(&b);
	assert_int_equal(pl_line_end_tally_format(&e, e.checks, 0, 0, &b), PL_EINVAL);
	assert_int_equal(b.len, 0);
	assert_int_equal(pl_line_end_tally_format(NULL, 0, 0, 0, &b), PL_EINVAL);
	pl_buf_release(&b);
}

static void test_tally_ends_max(void **state)
{
	struct pl_line_tally t;
	const enum pl_line_outcome ok[2] = {PL_LINE_ANSWERED, PL_LINE_ANSWERED};

	(void)state;
	pl_line_tally_init(&t, "unc-kpa", 0, 0);
	for (int i = 0; i < PL_LINE_TALLY_ENDS_MAX / 2; i++) {
		struct pl_record *c = mk_check(10);
		snprintf(c->to[0], sizeof(c->to[0]), "a%d", i);
		snprintf(c->to[1], sizeof(c->to[1]), "b%d", i);
		assert_int_equal(pl_line_tally_add(&t, c, ok), 0);
		free(c);
	}
	{
		struct pl_record *c = mk_check(10);
		struct pl_line_tally before = t;
		snprintf(c->to[0], sizeof(c->to[0]), "a0");
		snprintf(c->to[1], sizeof(c->to[1]), "z");
		assert_int_equal(pl_line_tally_add(&t, c, ok), PL_ETOOBIG);
		assert_memory_equal(&t, &before, sizeof(t));
		snprintf(c->to[1], sizeof(c->to[1]), "b1");
		assert_int_equal(pl_line_tally_add(&t, c, ok), 0);
		free(c);
	}
	assert_int_equal(t.nends, PL_LINE_TALLY_ENDS_MAX);
	assert_int_equal(pl_line_tally_end(&t, "a0")->checks, 2);
}

/* ---- The offline line report, counted from a verified dossier's thread ---- */

/* A thread as pl_dossier_verify() would give it; what each tamper changes before counting. */
enum { C1, A1, U1, C2, A2, M3, C4, NEV };

static void ev_set(struct pl_dossier_report *d, size_t i, struct pl_record *r)
{
	d->events[i].index = 10 + i;
	memset(d->events[i].id, (int)(i + 1), PL_RECORD_ID_BYTES);
	d->events[i].kind = r->kind;
	d->events[i].time = r->time;
	d->events[i].rec = r;
}

static void ev_previous(struct pl_dossier_report *d, size_t i, size_t prev)
{
	struct pl_record *r = d->events[i].rec;

	r->nrefs = 1;
	r->refs[0].role = PL_ROLE_PREVIOUS;
	memcpy(r->refs[0].id, d->events[prev].id, PL_RECORD_ID_BYTES);
}

/* C1 (unc answered, kpa unanswered), C2 (unc answered), M3 (missed), C4, chained. */
static struct pl_dossier_report *chain_report(void)
{
	struct pl_dossier_report *d = calloc(1, sizeof(*d));
	struct pl_record *m;

	assert_non_null(d);
	d->events = calloc(NEV, sizeof(*d->events));
	assert_non_null(d->events);
	d->nevents = NEV;
	d->indexed = true;
	d->size = 40;
	d->subject_kind = PL_KIND_CHECK;
	ev_set(d, C1, mk_check(100));
	memcpy(d->subject, d->events[C1].id, PL_RECORD_ID_BYTES);
	ev_set(d, A1, mk_about(PL_KIND_ANSWER, "unc", d->events[C1].id));
	ev_set(d, U1, mk_about(PL_KIND_UNANSWERED, "exchange", d->events[C1].id));
	d->events[U1].rec->nto = 1;
	snprintf(d->events[U1].rec->to[0], sizeof(d->events[U1].rec->to[0]), "kpa");
	ev_set(d, C2, mk_check(110));
	ev_previous(d, C2, C1);
	ev_set(d, A2, mk_about(PL_KIND_ANSWER, "unc", d->events[C2].id));
	m = mk_check(125);
	m->kind = PL_KIND_MISSED;
	m->has = (m->has & ~PL_RECORD_HAS_DEADLINE) | PL_RECORD_HAS_DUE;
	m->deadline = 0;
	m->due = 120;
	ev_set(d, M3, m);
	ev_previous(d, M3, C2);
	ev_set(d, C4, mk_check(130));
	ev_previous(d, C4, M3);
	return d;
}

static void t_none(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)d;
	(void)lr;
}
static void t_chain_cut(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)lr;
	memset(d->events[C2].rec->refs[0].id, 0x77, PL_RECORD_ID_BYTES);
}
static void t_fork(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)lr;
	ev_previous(d, M3, C1);
}
static void t_previous_answer(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)lr;
	ev_previous(d, C4, A2);
}
static void t_other_line(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)lr;
	snprintf(d->events[C4].rec->line, sizeof(d->events[C4].rec->line), "liaison");
}
static void t_not_check(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)lr;
	d->subject_kind = PL_KIND_SEND;
}
static void t_not_indexed(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)lr;
	d->indexed = false;
}
static void t_until_past(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)d;
	lr->until = 131;
}
static void t_until_reached(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)d;
	lr->until = 130;
}
static void t_since_before_chained(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	ev_previous(d, C1, C4); /* C1 names an earlier check, not in the dossier */
	lr->since = 99;
}
static void t_since_at_chained(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	ev_previous(d, C1, C4);
	lr->since = 100;
}
static void t_since_before_first(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)d;
	lr->since = 1;
}
static void t_other_name(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)d;
	lr->line = "liaison";
}
static void t_answer_twice(struct pl_dossier_report *d, struct pl_line_report *lr)
{
	(void)lr;
	d->events[A2].rec->refs[0] = d->events[A1].rec->refs[0]; /* unc answers C1 twice */
}

static const struct {
	const char *what;
	void (*tamper)(struct pl_dossier_report *, struct pl_line_report *);
	int want;
	bool from_first;
	uint64_t checks, missed;
} from_dossier[] = {
        {"the honest thread", t_none, 0, true, 3, 1},
        {"a check whose previous is not in the dossier", t_chain_cut, PL_EPROOF, false, 0, 0},
        {"two checks after the same one", t_fork, PL_ERULE, false, 0, 0},
        {"a previous that is an answer", t_previous_answer, PL_EPROOF, false, 0, 0},
        {"a check of another line", t_other_line, PL_EPROOF, false, 0, 0},
        {"a dossier of a send", t_not_check, PL_EINVAL, false, 0, 0},
        {"a version 1 dossier", t_not_indexed, PL_EINVAL, false, 0, 0},
        {"a period past the chain's last check", t_until_past, PL_EPROOF, false, 0, 0},
        {"a period up to the chain's last check", t_until_reached, 0, true, 2, 1},
        {"a period from before a chained check", t_since_before_chained, PL_EPROOF, false, 0, 0},
        {"a period from a chained check", t_since_at_chained, 0, false, 3, 1},
        {"a period from before the chain's first", t_since_before_first, 0, true, 3, 1},
        {"a line of another name", t_other_name, PL_EPROOF, false, 0, 0},
        {"an end that answered twice", t_answer_twice, PL_ERULE, false, 0, 0},
};

static void test_report_from_dossier(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(from_dossier) / sizeof(from_dossier[0]); i++) {
		struct pl_dossier_report *d = chain_report();
		struct pl_line_report lr;
		struct pl_buf why;
		bool first = false;
		int ret;

		memset(&lr, 0, sizeof(lr));
		pl_buf_init(&why, 1024);
		from_dossier[i].tamper(d, &lr);
		ret = pl_line_report_from_dossier(&lr, d, &first, &why);
		if (ret != from_dossier[i].want)
			fail_msg("%s: got %s (%s), want %s", from_dossier[i].what, pl_strerror(ret),
			         why.len ? why.data : "", pl_strerror(from_dossier[i].want));
		if (ret) {
			assert_true(why.len > 0);
		} else {
			const struct pl_line_end_tally *kpa = pl_line_tally_end(&lr.tally, "kpa");
			assert_int_equal(first, from_dossier[i].from_first);
			assert_int_equal(lr.tally.checks, from_dossier[i].checks);
			assert_int_equal(lr.tally.missed, from_dossier[i].missed);
			assert_string_equal(lr.line, "unc-kpa");
			assert_int_equal(lr.size, 40);
			assert_int_equal(lr.n, from_dossier[i].checks + from_dossier[i].missed);
			assert_non_null(kpa);
			assert_int_equal(kpa->unanswered, 1);
			assert_int_equal(kpa->answered, 0);
		}
		pl_line_report_release(&lr);
		pl_buf_release(&why);
		pl_dossier_report_free(d);
	}
	assert_int_equal(pl_line_report_from_dossier(NULL, NULL, NULL, NULL), PL_EINVAL);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_parse_valid), cmocka_unit_test(test_parse_fields),
             cmocka_unit_test(test_parse_malformed), cmocka_unit_test(test_parse_limits),
             cmocka_unit_test(test_next_every), cmocka_unit_test(test_next_at),
             cmocka_unit_test(test_next_walk), cmocka_unit_test(test_judge),
             cmocka_unit_test(test_tally), cmocka_unit_test(test_tally_format),
             cmocka_unit_test(test_tally_ends_max), cmocka_unit_test(test_tally_period_missed),
             cmocka_unit_test(test_tally_line_format), cmocka_unit_test(test_next_zoned),
             cmocka_unit_test(test_report_from_dossier))
