/* RFC 3339 UTC timestamps to the second, with our own civil-date arithmetic (no gmtime). */
#include <parley/timestamp.h>

#include <stdbool.h>

#include "internal.h"

#define SECONDS_PER_DAY 86400
/* Days from 0000-01-01 to 1970-01-01 in the proleptic Gregorian calendar. */
#define EPOCH_DAYS 719528
#define YEAR_MAX   9999

/* Days before the first of each month in a common year. */
static const int month_start[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* Days from 0000-01-01 to the first day of year y (0 <= y <= 10000): the leap years in [0, y). */
static int64_t days_before_year(int64_t y)
{
	return 365 * y + (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
}

/* Reads n decimal digits; -1 if any is not a digit. */
static int64_t digits(const char *s, size_t n)
{
	int64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int pl_timestamp_parse(int64_t *out, const char *s, size_t len)
{
	int64_t y, mo, d, h, mi, se, days;
	int ret = PL_EMALFORMED;

	if (len != PL_TIMESTAMP_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		goto out;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	se = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (int)mo) || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59)
		goto out;
	days = days_before_year(y) + month_start[mo - 1] + (mo > 2 && is_leap(y)) + d - 1;
	*out = (days - EPOCH_DAYS) * SECONDS_PER_DAY + h * 3600 + mi * 60 + se;
	ret = 0;
out:
	return ret;
}

static void put_digits(char *p, int64_t v, size_t n)
{
	for (size_t i = n; i > 0; i--) {
		p[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
}

int pl_timestamp_format(char out[static PL_TIMESTAMP_LEN + 1], int64_t t)
{
	int64_t days, secs, y;
	int m, doy, leap;
	int ret = PL_ERANGE;

	if (t < PL_TIMESTAMP_MIN || t > PL_TIMESTAMP_MAX)
		goto out;
	/* Shift to days since 0000-01-01 first, so both divisions act on non-negative numbers. */
	days = (t - PL_TIMESTAMP_MIN) / SECONDS_PER_DAY;
	secs = (t - PL_TIMESTAMP_MIN) % SECONDS_PER_DAY;
	/* An estimate from the mean Gregorian year (146097 days per 400 years), then corrected. */
	y = days * 400 / 146097;
	while (y > 0 && days_before_year(y) > days)
		y--;
	while (y < YEAR_MAX && days_before_year(y + 1) <= days)
		y++;
	doy = (int)(days - days_before_year(y));
	leap = is_leap(y);
	for (m = 12; m > 1; m--) {
		if (doy >= month_start[m - 1] + (m > 2 ? leap : 0))
			break;
	}
	doy -= month_start[m - 1] + (m > 2 ? leap : 0);

	put_digits(out, y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, doy + 1, 2);
	out[10] = 'T';
	put_digits(out + 11, secs / 3600, 2);
	out[13] = ':';
	put_digits(out + 14, secs / 60 % 60, 2);
	out[16] = ':';
	put_digits(out + 17, secs % 60, 2);
	out[19] = 'Z';
	out[20] = '\0';
	ret = 0;
out:
	return ret;
}

int pl_timestamp_append(struct pl_buf *b, int64_t t)
{
	char s[PL_TIMESTAMP_LEN + 1];
	int ret;

	ret = pl_timestamp_format(s, t);
	if (ret == 0)
		ret = pl_buf_add(b, s, PL_TIMESTAMP_LEN);
	return ret;
}

int pl_duration_parse(int64_t *out, const char *s, size_t len, int64_t max)
{
	int64_t total = 0;
	size_t i = 0;
	int ret = PL_EMALFORMED;

	if (!out || !s || len == 0 || len > PL_DURATION_TEXT_MAX || max < 0)
		goto out;
	while (i < len) {
		size_t j = i;
		int64_t v = 0, unit;
		while (j < len && s[j] >= '0' && s[j] <= '9' && j - i < 10)
			v = v * 10 + (s[j++] - '0');
		if (j == i || j - i > 9 || j == len || (s[i] == '0' && j - i > 1)) {
			ret = PL_EMALFORMED;
			goto out;
		}
		switch (s[j]) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'w':
			unit = 7 * 86400;
			break;
		default:
			ret = PL_EMALFORMED;
			goto out;
		}
		/* At most 9 digits times a week: no overflow; the sum is checked at each part. */
		total += v * unit;
		if (total > max) {
			ret = PL_ERANGE;
			goto out;
		}
		i = j + 1;
	}
	*out = total;
	ret = 0;
out:
	return ret;
}
