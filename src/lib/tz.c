/* Named time zones: TZif files (RFC 8536) and their footer rules, parsed strictly. */
#include <parley/tz.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define TZ_HEADER    44
#define TZ_DAY       86400
#define TZ_OFF_MAX   (25 * 3600)  /* the largest UT offset taken, either way */
#define TZ_RULE_TIME (167 * 3600) /* the largest rule time (RFC 8536 §3.3.1) */

bool pl_tz_name_is_valid(const char *name, size_t len)
{
	size_t comp = 0;

	if (!name || len == 0 || len > PL_TZ_NAME_MAX)
		return false;
	/* No `.` at all: no `..`, no hidden file; no leading `/`, no empty component. */
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? name[i] : '/';
		if (c == '/') {
			if (comp == 0)
				return false;
			comp = 0;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '+' || c == '-'))
			return false;
		if (comp == 0 && c == '-')
			return false;
		comp++;
	}
	return true;
}

/* ---- The footer's TZ string ---- */

struct rule_parser {
	const char *s, *end;
};

/* A zone abbreviation: three or more letters, or `<` [A-Za-z0-9+-]{3,} `>`. */
static bool rule_name(struct rule_parser *p)
{
	size_t n = 0;

	if (p->s < p->end && *p->s == '<') {
		p->s++;
		while (p->s < p->end && *p->s != '>') {
			char c = *p->s++;
			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			      (c >= '0' && c <= '9') || c == '+' || c == '-'))
				return false;
			n++;
		}
		if (p->s == p->end)
			return false;
		p->s++;
		return n >= 3;
	}
	while (p->s < p->end &&
	       ((*p->s >= 'A' && *p->s <= 'Z') || (*p->s >= 'a' && *p->s <= 'z'))) {
		p->s++;
		n++;
	}
	return n >= 3;
}

/* A decimal of 1..maxd digits, at most max. */
static bool rule_num(struct rule_parser *p, int maxd, int32_t max, int32_t *v)
{
	int d = 0;

	*v = 0;
	while (p->s < p->end && *p->s >= '0' && *p->s <= '9' && d < maxd) {
		*v = *v * 10 + (*p->s++ - '0');
		d++;
	}
	return d > 0 && *v <= max && !(p->s < p->end && *p->s >= '0' && *p->s <= '9');
}

/* [+-]hh[:mm[:ss]], hh at most maxh: seconds in *v. */
static bool rule_hms(struct rule_parser *p, int32_t maxh, int32_t *v)
{
	int32_t h, m = 0, sec = 0, sign = 1;

	if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
		sign = *p->s++ == '-' ? -1 : 1;
	if (!rule_num(p, 3, maxh, &h))
		return false;
	if (p->s < p->end && *p->s == ':') {
		p->s++;
		if (!rule_num(p, 2, 59, &m))
			return false;
		if (p->s < p->end && *p->s == ':') {
			p->s++;
			if (!rule_num(p, 2, 59, &sec))
				return false;
		}
	}
	*v = sign * (h * 3600 + m * 60 + sec);
	return true;
}

/* ,Mm.w.d[/TIME] */
static bool rule_change(struct rule_parser *p, struct pl_tz_change *c)
{
	int32_t m, w, d;

	if (p->end - p->s < 2 || p->s[0] != ',' || p->s[1] != 'M')
		return false; /* the Jn and n forms are not taken */
	p->s += 2;
	if (!rule_num(p, 2, 12, &m) || m < 1 || p->s == p->end || *p->s++ != '.' ||
	    !rule_num(p, 1, 5, &w) || w < 1 || p->s == p->end || *p->s++ != '.' ||
	    !rule_num(p, 1, 6, &d))
		return false;
	c->m = (uint8_t)m;
	c->w = (uint8_t)w;
	c->d = (uint8_t)d;
	c->at = 2 * 3600;
	if (p->s < p->end && *p->s == '/') {
		p->s++;
		return rule_hms(p, 167, &c->at);
	}
	return true;
}

/* The footer's TZ string s[0..n) into tz (has_rule, has_dst, std, dst, start, end). */
static int rule_parse(struct pl_tz *tz, const char *s, size_t n)
{
	struct rule_parser p = {s, s + n};
	int32_t off;

	if (n == 0)
		return 0; /* no rule: the last transition's offset holds */
	if (!rule_name(&p) || !rule_hms(&p, 24, &off))
		return PL_EMALFORMED;
	tz->std = -off; /* POSIX counts west of Greenwich */
	tz->dst = tz->std;
	tz->has_rule = true;
	if (p.s == p.end)
		return 0;
	if (!rule_name(&p))
		return PL_EMALFORMED;
	tz->dst = tz->std + 3600;
	if (p.s < p.end && *p.s != ',') {
		if (!rule_hms(&p, 24, &off))
			return PL_EMALFORMED;
		tz->dst = -off;
	}
	if (!rule_change(&p, &tz->start) || !rule_change(&p, &tz->end) || p.s != p.end)
		return PL_EMALFORMED;
	tz->has_dst = true;
	return 0;
}

/* ---- TZif ---- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tz_counts {
	uint32_t isut, isstd, leap, time, type, chr;
};

/* A header at p (len bytes left): its counts, and the size of the data block after it. */
static int tz_header(const uint8_t *p, size_t len, struct tz_counts *c, unsigned tsize,
                     uint64_t *block, const char **why)
{
	if (len < TZ_HEADER || memcmp(p, "TZif", 4) != 0) {
		*why = "not a TZif file";
		return PL_EMALFORMED;
	}
	if (p[4] < '2' || p[4] > '4') {
		*why = "a TZif file before version 2";
		return PL_EMALFORMED;
	}
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chr = be32(p + 40);
	if (c->type == 0 || c->chr == 0 || (c->isut && c->isut != c->type) ||
	    (c->isstd && c->isstd != c->type)) {
		*why = "inconsistent TZif counts";
		return PL_EMALFORMED;
	}
	if (c->leap) {
		*why = "a zone with leap seconds";
		return PL_EMALFORMED;
	}
	if (c->time > PL_TZ_TRANSITIONS_MAX || c->type > PL_TZ_TYPES_MAX) {
		*why = "too many transitions or types";
		return PL_ETOOBIG;
	}
	*block = (uint64_t)c->time * (tsize + 1) + (uint64_t)c->type * 6 + c->chr +
	         (uint64_t)c->leap * (tsize + 4) + c->isstd + c->isut;
	if (*block > len - TZ_HEADER) {
		*why = "a truncated TZif file";
		return PL_EMALFORMED;
	}
	return 0;
}

/* The 64-bit block at p with counts c into tz. */
static int tz_block(struct pl_tz *tz, const uint8_t *p, const struct tz_counts *c, const char **why)
{
	const uint8_t *idx = p + (size_t)c->time * 8, *types = idx + c->time;
	int32_t off[PL_TZ_TYPES_MAX];

	for (uint32_t i = 0; i < c->type; i++) {
		const uint8_t *t = types + (size_t)i * 6;
		int64_t o = (int32_t)be32(t);
		if (o < -TZ_OFF_MAX || o > TZ_OFF_MAX || t[4] > 1 || t[5] >= c->chr) {
			*why = "a local time type out of range";
			return PL_EMALFORMED;
		}
		off[i] = (int32_t)o;
	}
	tz->first = off[0];
	for (uint32_t i = 0; i < c->time; i++) {
		tz->at[i] = be64(p + (size_t)i * 8);
		if ((i && tz->at[i] <= tz->at[i - 1]) || idx[i] >= c->type) {
			*why = "transitions not ascending, or of an unknown type";
			return PL_EMALFORMED;
		}
		tz->off[i] = off[idx[i]];
	}
	tz->n = c->time;
	return 0;
}

int pl_tz_parse(struct pl_tz **out, const char *name, const void *data, size_t len,
                const char **why)
{
	const uint8_t *p = data;
	struct tz_counts c1, c2;
	struct pl_tz *tz = NULL;
	const char *w = NULL, *foot, *nl;
	uint64_t b1, b2;
	size_t at;
	int ret;

	if (!why)
		why = &w;
	if (!out || !name || (!data && len) || !pl_tz_name_is_valid(name, strlen(name))) {
		ret = PL_EINVAL;
		goto out;
	}
	if (len > PL_TZ_FILE_MAX) {
		*why = "a TZif file too large";
		ret = PL_ETOOBIG;
		goto out;
	}
	ret = tz_header(p, len, &c1, 4, &b1, why);
	if (ret)
		goto out;
	at = TZ_HEADER + (size_t)b1;
	ret = tz_header(p + at, len - at, &c2, 8, &b2, why);
	if (ret)
		goto out;
	at += TZ_HEADER;
	tz = calloc(1, sizeof(*tz));
	if (!tz) {
		ret = PL_ENOMEM;
		goto out;
	}
	snprintf(tz->name, sizeof(tz->name), "%s", name);
	ret = tz_block(tz, p + at, &c2, why);
	if (ret)
		goto out;
	at += (size_t)b2;
	/* The footer: "\n" TZ string "\n", and nothing after. */
	foot = (const char *)p + at;
	nl = len - at >= 2 && foot[0] == '\n' ? memchr(foot + 1, '\n', len - at - 1) : NULL;
	if (!nl || (size_t)(nl - foot) + 1 != len - at ||
	    (size_t)(nl - foot) - 1 > PL_TZ_RULE_MAX) {
		*why = "no footer, or one with more after it";
		ret = PL_EMALFORMED;
		goto out;
	}
	ret = rule_parse(tz, foot + 1, (size_t)(nl - foot) - 1);
	if (ret) {
		*why = "a footer rule that is not `STD OFF[DST[OFF],Mm.w.d[/T],Mm.w.d[/T]]`";
		goto out;
	}
	*out = tz;
	tz = NULL;
out:
	free(tz);
	return ret;
}

int pl_tz_load(struct pl_tz **out, const char *name, const char **why)
{
	char path[sizeof(PL_TZ_DIR) + PL_TZ_NAME_MAX + 2];
	uint8_t *buf = NULL;
	size_t len = 0;
	ssize_t got;
	int fd = -1, ret;

	if (!out || !name || !pl_tz_name_is_valid(name, strlen(name))) {
		ret = PL_EINVAL;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", PL_TZ_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = errno == ENOENT || errno == ENOTDIR ? PL_ENOTFOUND : PL_EIO;
		goto out;
	}
	buf = malloc(PL_TZ_FILE_MAX + 1);
	if (!buf) {
		ret = PL_ENOMEM;
		goto out;
	}
	/* One byte more than the largest file: a larger one is seen. */
	while (len <= PL_TZ_FILE_MAX) {
		got = read(fd, buf + len, PL_TZ_FILE_MAX + 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	if (got < 0) {
		ret = errno == EISDIR ? PL_ENOTFOUND : PL_EIO;
		goto out;
	}
	ret = pl_tz_parse(out, name, buf, len, why);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

void pl_tz_free(struct pl_tz *tz)
{
	free(tz);
}

/* ---- Wall times ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The year of day z since 1970-01-01. */
static int64_t year_of_days(int64_t z)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return y + (mp >= 10);
}

/* Local seconds of change c in year y. */
static int64_t change_local(int64_t y, const struct pl_tz_change *c)
{
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int64_t d1 = days_from_civil(y, c->m, 1);
	unsigned wd1 = (unsigned)(floor_div(d1 + 4, 7) * -7 + d1 + 4); /* 1970-01-01: Thursday */
	unsigned day = 1 + (c->d + 7 - wd1) % 7 + 7 * (c->w - 1u);
	unsigned last = mdays[c->m - 1];

	if (c->m == 2 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		last = 28;
	while (day > last)
		day -= 7;
	return days_from_civil(y, c->m, day) * TZ_DAY + c->at;
}

/* The footer rule's offset at t. */
static int32_t rule_offset(const struct pl_tz *tz, int64_t t)
{
	int64_t y, s, e;

	if (!tz->has_dst)
		return tz->std;
	y = year_of_days(floor_div(t + tz->std, TZ_DAY));
	s = change_local(y, &tz->start) - tz->std;
	e = change_local(y, &tz->end) - tz->dst;
	if (s < e)
		return t >= s && t < e ? tz->dst : tz->std;
	return t >= e && t < s ? tz->std : tz->dst;
}

int32_t pl_tz_offset(const struct pl_tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->n;

	if (tz->n == 0 || t < tz->at[0])
		return tz->n == 0 && tz->has_rule ? rule_offset(tz, t) : tz->first;
	/* The last transition at or before t: at[lo] <= t < at[hi]. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	if (lo == tz->n - 1 && tz->has_rule)
		return rule_offset(tz, t);
	return tz->off[lo];
}

int64_t pl_tz_to_utc(const struct pl_tz *tz, int64_t local)
{
	/* The offsets a day either side: a wall time is in one of them. */
	int32_t a = pl_tz_offset(tz, local - TZ_DAY), b = pl_tz_offset(tz, local + TZ_DAY);
	int64_t ta = local - a, tb = local - b;
	bool va = ta + pl_tz_offset(tz, ta) == local, vb = tb + pl_tz_offset(tz, tb) == local;

	if (va && vb)
		return ta < tb ? ta : tb; /* it happens twice: the first */
	if (vb)
		return tb;
	return ta; /* valid, or in a gap: the offset before it moves it past the gap */
}
