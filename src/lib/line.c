/* Line schedules (parse, format, next due time) and the tally of how a line's ends answered. */
#include <parley/line.h>

#include <inttypes.h>
#include <stdio.h>

#include <parley/encoding.h>
#include <parley/timestamp.h>

#include "internal.h"

#define DAY_SECONDS  86400
#define LINE_TOKENS  10   /* more than a valid schedule has, so one extra token is seen */
#define DAYS_WEEK    0x3e /* mon..fri */
#define DAYS_WEEKEND 0x41 /* sat, sun */

/* Day names in the order a list must follow (Monday first); the bit is the weekday number. */
static const struct {
	const char *name;
	unsigned bit;
} line_days[7] = {
        {"mon", 1}, {"tue", 2}, {"wed", 3}, {"thu", 4}, {"fri", 5}, {"sat", 6}, {"sun", 0},
};

struct token {
	const char *s;
	size_t n;
};

static bool tok_is(const struct token *t, const char *lit)
{
	return t->n == strlen(lit) && memcmp(t->s, lit, t->n) == 0;
}

/* Splits s[0..len) at runs of spaces and tabs; *n tokens, at most max (one more is an error). */
static size_t line_split(const char *s, size_t len, struct token *v, size_t max)
{
	size_t i = 0, n = 0;

	while (i < len && n < max) {
		size_t b;
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		b = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		v[n].s = s + b;
		v[n].n = i - b;
		n++;
	}
	return n;
}

static bool line_all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return n > 0;
}

/* A duration: decimal without leading zero, then s, m, h or d; 1..max seconds. */
static int line_duration(uint32_t *out, const struct token *t, uint32_t max, const char **why)
{
	static const struct {
		char unit;
		uint32_t seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', DAY_SECONDS}};
	uint64_t v;
	int ret;

	if (t->n < 2) {
		*why = "a duration is a number and a unit (s, m, h, d)";
		return PL_EMALFORMED;
	}
	for (size_t u = 0; u < PL__ARRAY_LEN(units); u++) {
		if (t->s[t->n - 1] != units[u].unit)
			continue;
		ret = pl_parse_u64(&v, t->s, t->n - 1, max);
		if (ret == PL_EMALFORMED && t->s[0] != '0' && line_all_digits(t->s, t->n - 1))
			ret = PL_ERANGE; /* more digits than any count */
		if (ret == PL_ERANGE || (ret == 0 && (v == 0 || v * units[u].seconds > max))) {
			*why = "duration out of range";
			return PL_ERANGE;
		}
		if (ret) {
			*why = "a duration is a decimal number without leading zero, then a unit";
			return PL_EMALFORMED;
		}
		*out = (uint32_t)(v * units[u].seconds);
		return 0;
	}
	*why = "a duration ends in a unit: s, m, h or d";
	return PL_EMALFORMED;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "HH:MM[,HH:MM]...", ascending. */
static int line_times(struct pl_line *l, const struct token *t, const char **why)
{
	size_t i = 0;

	l->ntimes = 0;
	while (i < t->n) {
		const char *p = t->s + i;
		unsigned hh, mm;
		uint32_t v;

		if (t->n - i < 5 || !is_digit(p[0]) || !is_digit(p[1]) || p[2] != ':' ||
		    !is_digit(p[3]) || !is_digit(p[4]) || (t->n - i > 5 && p[5] != ',')) {
			*why = "a time of day is HH:MM (two digits each), times separated by "
			       "commas";
			return PL_EMALFORMED;
		}
		hh = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
		mm = (unsigned)(p[3] - '0') * 10 + (unsigned)(p[4] - '0');
		if (hh > 23 || mm > 59) {
			*why = "time of day out of range (00:00 to 23:59)";
			return PL_ERANGE;
		}
		v = hh * 3600 + mm * 60;
		if (l->ntimes == PL_LINE_TIMES_MAX) {
			*why = "too many times of day";
			return PL_ETOOBIG;
		}
		if (l->ntimes && v <= l->times[l->ntimes - 1]) {
			*why = "times of day must be listed in ascending order, each once";
			return PL_EMALFORMED;
		}
		l->times[l->ntimes++] = v;
		i += 5;
		if (i < t->n) {
			i++; /* the comma */
			if (i == t->n) {
				*why = "a list of times ends in a comma";
				return PL_EMALFORMED;
			}
		}
	}
	return 0;
}

/* daily, weekdays, weekends, or "mon,tue,..." in week order. */
static int line_days_parse(uint8_t *out, const struct token *t, const char **why)
{
	size_t i = 0, next = 0;
	uint8_t days = 0;

	if (tok_is(t, "daily")) {
		*out = PL_LINE_DAYS_ALL;
		return 0;
	}
	if (tok_is(t, "weekdays")) {
		*out = DAYS_WEEK;
		return 0;
	}
	if (tok_is(t, "weekends")) {
		*out = DAYS_WEEKEND;
		return 0;
	}
	while (i < t->n) {
		size_t d;
		for (d = next; d < 7; d++) {
			if (t->n - i >= 3 && memcmp(t->s + i, line_days[d].name, 3) == 0)
				break;
		}
		if (d == 7 || (t->n - i > 3 && t->s[i + 3] != ',')) {
			*why = "days are daily, weekdays, weekends, or mon,tue,... in week order, "
			       "each once";
			return PL_EMALFORMED;
		}
		days |= (uint8_t)(1u << line_days[d].bit);
		next = d + 1;
		i += 3;
		if (i < t->n && ++i == t->n) {
			*why = "a list of days ends in a comma";
			return PL_EMALFORMED;
		}
	}
	*out = days;
	return 0;
}

/* A word of the schedule's grammar (days, window): never a zone, which must come first. */
static bool line_is_keyword(const struct token *t)
{
	if (tok_is(t, "daily") || tok_is(t, "weekdays") || tok_is(t, "weekends") ||
	    tok_is(t, "window"))
		return true;
	for (size_t d = 0; d < 7; d++) {
		if (t->n >= 3 && memcmp(t->s, line_days[d].name, 3) == 0 &&
		    (t->n == 3 || t->s[3] == ','))
			return true;
	}
	return false;
}

static int line_name(char out[static PL_RECORD_NAME_MAX + 1], const struct token *t,
                     const char *what, const char **why)
{
	if (!pl_record_name_is_valid(t->s, t->n)) {
		*why = what;
		return PL_EMALFORMED;
	}
	memcpy(out, t->s, t->n);
	out[t->n] = '\0';
	return 0;
}

int pl_line_parse(struct pl_line *out, const char *text, size_t len, const char **why)
{
	struct token t[LINE_TOKENS];
	struct pl_line l;
	const char *w = NULL;
	size_t n, k;
	int ret;

	if (!why)
		why = &w;
	if (!out || (!text && len)) {
		*why = "no schedule";
		return PL_EINVAL;
	}
	if (len > PL_LINE_TEXT_MAX) {
		*why = "schedule too long";
		return PL_ETOOBIG;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)text[i] < 0x20 && text[i] != '\t') {
			*why = "control character";
			return PL_EMALFORMED;
		}
	}
	memset(&l, 0, sizeof(l));
	n = line_split(text, len, t, LINE_TOKENS);
	if (n < 7) {
		*why = "expected NAME END END every|at ... window DURATION";
		return PL_EMALFORMED;
	}
	ret = line_name(l.name, &t[0], "line name: 1 to 63 of a-z 0-9 -, not at either end", why);
	if (!ret)
		ret = line_name(l.ends[0], &t[1], "first end: not a party name", why);
	if (!ret)
		ret = line_name(l.ends[1], &t[2], "second end: not a party name", why);
	if (ret)
		return ret;
	if (strcmp(l.ends[0], "exchange") == 0 || strcmp(l.ends[1], "exchange") == 0) {
		*why = "the exchange is not a party: it cannot be an end";
		return PL_EMALFORMED;
	}
	if (strcmp(l.ends[0], l.ends[1]) == 0) {
		*why = "the two ends are the same party";
		return PL_EMALFORMED;
	}
	k = 4;
	if (tok_is(&t[3], "every")) {
		l.mode = PL_LINE_EVERY;
		ret = line_duration(&l.period, &t[4], PL_LINE_PERIOD_MAX, why);
		if (ret)
			return ret;
		k = 5;
	} else if (tok_is(&t[3], "at")) {
		l.mode = PL_LINE_AT;
		ret = line_times(&l, &t[4], why);
		if (ret)
			return ret;
		if (n < 8 || !pl_tz_name_is_valid(t[5].s, t[5].n) || line_is_keyword(&t[5])) {
			*why = "times of day are followed by a time zone (UTC, or a tz database "
			       "name such as Asia/Seoul)";
			return PL_EMALFORMED;
		}
		memcpy(l.zone, t[5].s, t[5].n);
		l.zone[t[5].n] = '\0';
		k = 6;
		l.days = PL_LINE_DAYS_ALL;
		if (k < n && !tok_is(&t[k], "window")) {
			ret = line_days_parse(&l.days, &t[k], why);
			if (ret)
				return ret;
			k++;
		}
	} else {
		*why = "expected `every DURATION` or `at HH:MM[,HH:MM]... ZONE` after the ends";
		return PL_EMALFORMED;
	}
	if (k + 2 != n || !tok_is(&t[k], "window")) {
		*why = n > k + 2 ? "unexpected text after the window"
		                 : "expected `window DURATION` at the end";
		return PL_EMALFORMED;
	}
	ret = line_duration(&l.window, &t[k + 1], PL_LINE_WINDOW_MAX, why);
	if (ret)
		return ret;
	if (l.mode == PL_LINE_EVERY && l.window > l.period) {
		*why = "the window is longer than the period";
		return PL_ERANGE;
	}
	*out = l;
	return 0;
}

/* A NUL-terminated name inside its array, valid as a party or line name. */
static bool line_name_is_valid(const char name[static PL_RECORD_NAME_MAX + 1])
{
	const char *nul = memchr(name, '\0', PL_RECORD_NAME_MAX + 1);

	return nul && pl_record_name_is_valid(name, (size_t)(nul - name));
}

static bool line_is_valid(const struct pl_line *l)
{
	if (!line_name_is_valid(l->name) || !line_name_is_valid(l->ends[0]) ||
	    !line_name_is_valid(l->ends[1]) || strcmp(l->ends[0], l->ends[1]) == 0 ||
	    l->window == 0 || l->window > PL_LINE_WINDOW_MAX)
		return false;
	if (l->mode == PL_LINE_EVERY)
		return l->period >= 1 && l->period <= PL_LINE_PERIOD_MAX && l->window <= l->period;
	if (l->mode != PL_LINE_AT || l->ntimes == 0 || l->ntimes > PL_LINE_TIMES_MAX ||
	    (l->days & PL_LINE_DAYS_ALL) == 0 || (l->days & ~PL_LINE_DAYS_ALL) != 0 ||
	    !memchr(l->zone, '\0', sizeof(l->zone)) ||
	    !pl_tz_name_is_valid(l->zone, strlen(l->zone)))
		return false;
	for (size_t i = 0; i < l->ntimes; i++) {
		if (l->times[i] >= DAY_SECONDS || l->times[i] % 60 != 0 ||
		    (i && l->times[i] <= l->times[i - 1]))
			return false;
	}
	return true;
}

static int line_duration_append(struct pl_buf *out, uint32_t s)
{
	if (s % DAY_SECONDS == 0)
		return pl_buf_addf(out, "%ud", s / DAY_SECONDS);
	if (s % 3600 == 0)
		return pl_buf_addf(out, "%uh", s / 3600);
	if (s % 60 == 0)
		return pl_buf_addf(out, "%um", s / 60);
	return pl_buf_addf(out, "%us", s);
}

int pl_line_format(const struct pl_line *l, struct pl_buf *out)
{
	int ret;

	if (!l || !out || !line_is_valid(l))
		return PL_EINVAL;
	ret = pl_buf_addf(out, "%s %s %s ", l->name, l->ends[0], l->ends[1]);
	if (!ret && l->mode == PL_LINE_EVERY) {
		ret = pl_buf_adds(out, "every ");
		if (!ret)
			ret = line_duration_append(out, l->period);
	} else if (!ret) {
		ret = pl_buf_adds(out, "at ");
		for (size_t i = 0; !ret && i < l->ntimes; i++)
			ret = pl_buf_addf(out, "%s%02u:%02u", i ? "," : "", l->times[i] / 3600,
			                  l->times[i] / 60 % 60);
		if (!ret)
			ret = pl_buf_addf(out, " %s", l->zone);
		if (!ret && l->days == DAYS_WEEK)
			ret = pl_buf_adds(out, " weekdays");
		else if (!ret && l->days == DAYS_WEEKEND)
			ret = pl_buf_adds(out, " weekends");
		else if (!ret && l->days != PL_LINE_DAYS_ALL) {
			const char *sep = " ";
			for (size_t d = 0; !ret && d < 7; d++) {
				if (!(l->days & (1u << line_days[d].bit)))
					continue;
				ret = pl_buf_addf(out, "%s%s", sep, line_days[d].name);
				sep = ",";
			}
		}
	}
	if (!ret)
		ret = pl_buf_adds(out, " window ");
	if (!ret)
		ret = line_duration_append(out, l->window);
	return ret;
}

/* floor(a / b) for b > 0. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

bool pl_line_is_zoned(const struct pl_line *l)
{
	return l && l->mode == PL_LINE_AT && strcmp(l->zone, "UTC") != 0;
}

/* The first due time after `after` of an `at` line in zone tz: the least of the next days'. */
static int line_next_zoned(const struct pl_line *l, const struct pl_tz *tz, int64_t after,
                           int64_t *due)
{
	int64_t day = floor_div(after + pl_tz_offset(tz, after), DAY_SECONDS), best = INT64_MAX;

	/* A day either side of after's local day, and the week after it: some time is in it. */
	for (int64_t d = day - 1; d <= day + 9; d++) {
		int64_t wd = d + 4 - floor_div(d + 4, 7) * 7;
		if (!(l->days & (1u << wd)))
			continue;
		for (size_t i = 0; i < l->ntimes; i++) {
			int64_t t = pl_tz_to_utc(tz, d * DAY_SECONDS + l->times[i]);
			if (t > after && t < best)
				best = t;
		}
	}
	if (best == INT64_MAX)
		return PL_EINVAL; /* unreachable for a valid schedule */
	*due = best;
	return 0;
}

int pl_line_next(const struct pl_line *l, int64_t after, int64_t *due)
{
	return pl_line_next_in(l, NULL, after, due);
}

int pl_line_next_in(const struct pl_line *l, const struct pl_tz *tz, int64_t after, int64_t *due)
{
	int64_t day;

	if (!l || !due || !line_is_valid(l) || pl_line_is_zoned(l) != (tz != NULL) ||
	    (tz && strcmp(tz->name, l->zone) != 0))
		return PL_EINVAL;
	if (after < PL_TIMESTAMP_MIN || after > PL_TIMESTAMP_MAX)
		return PL_ERANGE;
	if (l->mode == PL_LINE_EVERY) {
		*due = (floor_div(after, l->period) + 1) * (int64_t)l->period;
		return 0;
	}
	if (tz)
		return line_next_zoned(l, tz, after, due);
	day = floor_div(after, DAY_SECONDS);
	/* Some weekday is checked, so the next check is at most eight days away. */
	for (int64_t d = day; d <= day + 8; d++) {
		int64_t wd = d + 4 - floor_div(d + 4, 7) * 7; /* 1970-01-01 was a Thursday */
		if (!(l->days & (1u << wd)))
			continue;
		for (size_t i = 0; i < l->ntimes; i++) {
			int64_t t = d * DAY_SECONDS + l->times[i];
			if (t > after) {
				*due = t;
				return 0;
			}
		}
	}
	return PL_EINVAL; /* unreachable for a valid schedule */
}

/* ---- Tally ---- */

static bool ref_is(const struct pl_record *r, const uint8_t id[static PL_RECORD_ID_BYTES])
{
	for (size_t i = 0; i < r->nrefs; i++) {
		if (r->refs[i].role == PL_ROLE_CHECK &&
		    memcmp(r->refs[i].id, id, PL_RECORD_ID_BYTES) == 0)
			return true;
	}
	return false;
}

/* The index of name among the check's ends, or -1. */
static int end_of(const struct pl_record *check, const char *name)
{
	for (int e = 0; e < 2; e++) {
		if (strcmp(check->to[e], name) == 0)
			return e;
	}
	return -1;
}

int pl_line_judge(const struct pl_record *check, const uint8_t check_id[static PL_RECORD_ID_BYTES],
                  const struct pl_record *const *rel, const uint8_t (*rel_ids)[PL_RECORD_ID_BYTES],
                  size_t n, enum pl_line_outcome out[static 2])
{
	enum pl_line_outcome o[2] = {PL_LINE_PENDING, PL_LINE_PENDING};
	bool seen_unanswered = false;

	if (!check || check->kind != PL_KIND_CHECK || check->nto != 2 ||
	    !(check->has & PL_RECORD_HAS_LINE) || (n && (!rel || !rel_ids)))
		return PL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct pl_record *r = rel[i];
		if (!r || memcmp(rel_ids[i], check_id, PL_RECORD_ID_BYTES) == 0 ||
		    !ref_is(r, check_id))
			continue;
		if (!(r->has & PL_RECORD_HAS_LINE) || strcmp(r->line, check->line) != 0)
			return PL_ERULE;
		if (r->kind == PL_KIND_ANSWER) {
			int e = end_of(check, r->author);
			if (e < 0 || o[e] != PL_LINE_PENDING)
				return PL_ERULE;
			o[e] = PL_LINE_ANSWERED;
		} else if (r->kind == PL_KIND_UNANSWERED) {
			if (seen_unanswered || r->nto == 0)
				return PL_ERULE;
			seen_unanswered = true;
			for (size_t k = 0; k < r->nto; k++) {
				int e = end_of(check, r->to[k]);
				if (e < 0 || o[e] != PL_LINE_PENDING)
					return PL_ERULE;
				o[e] = PL_LINE_UNANSWERED;
			}
		}
	}
	/* An unanswered names every end that had not answered: none may stay pending. */
	if (seen_unanswered && (o[0] == PL_LINE_PENDING || o[1] == PL_LINE_PENDING))
		return PL_ERULE;
	out[0] = o[0];
	out[1] = o[1];
	return 0;
}

void pl_line_tally_init(struct pl_line_tally *t, const char *line, int64_t since, int64_t until)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->line, sizeof(t->line), "%s", line ? line : "");
	t->since = since;
	t->until = until;
}

bool pl_line_tally_covers(const struct pl_line_tally *t, int64_t when)
{
	return when >= t->since && (t->until == 0 || when < t->until);
}

int pl_line_tally_add_missed(struct pl_line_tally *t, const struct pl_record *missed)
{
	if (!t || !missed || missed->kind != PL_KIND_MISSED ||
	    !(missed->has & PL_RECORD_HAS_LINE) || !(missed->has & PL_RECORD_HAS_DUE))
		return PL_EINVAL;
	if (strcmp(missed->line, t->line) == 0 && pl_line_tally_covers(t, missed->due))
		t->missed++;
	return 0;
}

static struct pl_line_end_tally *tally_find(struct pl_line_tally *t, const char *end)
{
	for (size_t i = 0; i < t->nends; i++) {
		if (strcmp(t->ends[i].end, end) == 0)
			return &t->ends[i];
	}
	return NULL;
}

int pl_line_tally_add(struct pl_line_tally *t, const struct pl_record *check,
                      const enum pl_line_outcome out[static 2])
{
	struct pl_line_end_tally *e[2];
	size_t fresh = 0;

	if (!t || !check || check->kind != PL_KIND_CHECK || check->nto != 2 ||
	    !(check->has & PL_RECORD_HAS_LINE))
		return PL_EINVAL;
	if (strcmp(check->line, t->line) != 0 || !pl_line_tally_covers(t, check->time))
		return 0;
	for (int k = 0; k < 2; k++) {
		if (out[k] != PL_LINE_PENDING && out[k] != PL_LINE_ANSWERED &&
		    out[k] != PL_LINE_UNANSWERED)
			return PL_EINVAL;
		e[k] = tally_find(t, check->to[k]);
		if (!e[k])
			fresh++;
	}
	if (t->nends + fresh > PL_LINE_TALLY_ENDS_MAX)
		return PL_ETOOBIG;
	for (int k = 0; k < 2; k++) {
		if (!e[k]) {
			e[k] = &t->ends[t->nends++];
			memset(e[k], 0, sizeof(*e[k]));
			snprintf(e[k]->end, sizeof(e[k]->end), "%s", check->to[k]);
			e[k]->first = check->time;
		}
		e[k]->checks++;
		e[k]->last = check->time;
		if (out[k] == PL_LINE_ANSWERED)
			e[k]->answered++;
		else if (out[k] == PL_LINE_UNANSWERED)
			e[k]->unanswered++;
		else
			e[k]->pending++;
	}
	t->checks++;
	return 0;
}

const struct pl_line_end_tally *pl_line_tally_end(const struct pl_line_tally *t, const char *end)
{
	for (size_t i = 0; t && end && i < t->nends; i++) {
		if (strcmp(t->ends[i].end, end) == 0)
			return &t->ends[i];
	}
	return NULL;
}

/* Appends " since S" and, when until is not 0, " until U". */
static int line_period_append(struct pl_buf *out, int64_t since, int64_t until)
{
	char when[PL_TIMESTAMP_LEN + 1];
	int ret;

	if (pl_timestamp_format(when, since) != 0)
		snprintf(when, sizeof(when), "%s", "(out of range)");
	ret = pl_buf_addf(out, " since %s", when);
	if (ret == 0 && until != 0) {
		if (pl_timestamp_format(when, until) != 0)
			snprintf(when, sizeof(when), "%s", "(out of range)");
		ret = pl_buf_addf(out, " until %s", when);
	}
	return ret;
}

int pl_line_end_tally_format(const struct pl_line_end_tally *e, uint64_t line_checks, int64_t since,
                             int64_t until, struct pl_buf *out)
{
	int ret;

	if (!e || !out || e->answered + e->unanswered + e->pending != e->checks ||
	    e->answered > e->checks || e->checks > line_checks) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_buf_addf(out, "%s answered %" PRIu64 " of %s%" PRIu64 " check%s%s", e->end,
	                  e->answered, e->checks < line_checks ? "the " : "", e->checks,
	                  e->checks == 1 ? "" : "s",
	                  e->checks < line_checks ? " addressed to it" : "");
	if (ret == 0)
		ret = line_period_append(out, since, until);
	if (ret == 0 && e->unanswered && e->pending)
		ret = pl_buf_addf(out, " (%" PRIu64 " unanswered, %" PRIu64 " pending)",
		                  e->unanswered, e->pending);
	else if (ret == 0 && (e->unanswered || e->pending))
		ret = pl_buf_addf(out, " (%" PRIu64 " %s)", e->unanswered + e->pending,
		                  e->unanswered ? "unanswered" : "pending");
out:
	return ret;
}

int pl_line_tally_format(const struct pl_line_tally *t, int64_t since, int64_t until, uint64_t size,
                         struct pl_buf *out)
{
	int ret;

	if (!t || !out) {
		ret = PL_EINVAL;
		goto out;
	}
	if (t->checks == 0)
		ret = pl_buf_addf(out, "line %s: no checks", t->line);
	else
		ret = pl_buf_addf(out, "line %s: %" PRIu64 " check%s", t->line, t->checks,
		                  t->checks == 1 ? "" : "s");
	if (ret == 0)
		ret = line_period_append(out, since, until);
	if (ret == 0 && t->missed)
		ret = pl_buf_addf(out, ", %s%" PRIu64 " missed by the exchange (it was down)",
		                  t->checks ? "and " : "but ", t->missed);
	if (ret == 0)
		ret = pl_buf_addf(out, ", verified as of tree size %" PRIu64, size);
out:
	return ret;
}
