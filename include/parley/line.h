/* Direct lines: when the exchange checks a line (schedules), and how its ends answered (tally). */
#ifndef PARLEY_LINE_H
#define PARLEY_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/error.h>
#include <parley/limits.h>
#include <parley/record.h>
#include <parley/tz.h>

/*
 * A line schedule, as one parleyd.conf `line` directive writes it
 * (parleyd.conf(5)):
 *
 *     NAME END END every DURATION window DURATION
 *     NAME END END at HH:MM[,HH:MM]... ZONE [DAYS] window DURATION
 *
 * DURATION is a decimal count without leading zero and one unit (s, m, h, d);
 * DAYS is daily (the default), weekdays, weekends, or a comma-separated list
 * of mon, tue, wed, thu, fri, sat, sun in week order. Tokens are separated by
 * spaces or tabs. ZONE is UTC or the name of a zone of the tz database
 * (pl_tz_name_is_valid(), e.g. Asia/Seoul). A check falls due at every
 * multiple of the period since 1970-01-01T00:00:00Z (every), or at each
 * listed wall time of ZONE of each listed day of ZONE (at; pl_tz_to_utc()
 * says what a wall time that happens twice or not at all is); its ends must
 * answer within the window.
 */
enum pl_line_mode {
	PL_LINE_EVERY = 1,
	PL_LINE_AT = 2,
};

#define PL_LINE_TEXT_MAX   512         /* bytes of one schedule's text */
#define PL_LINE_TIMES_MAX  24          /* times of day in an `at` schedule */
#define PL_LINE_PERIOD_MAX (7 * 86400) /* longest `every` period, seconds */
#define PL_LINE_WINDOW_MAX 86400       /* longest answer window, seconds */
#define PL_LINE_DAYS_ALL   0x7f        /* every day of the week (bit 0 is Sunday) */

/* One parsed schedule. Plain data: copy it freely, nothing to free. */
struct pl_line {
	char name[PL_RECORD_NAME_MAX + 1];    /* the line, as the check's `line` */
	char ends[2][PL_RECORD_NAME_MAX + 1]; /* its two ends, as written; distinct */
	enum pl_line_mode mode;
	uint32_t period;                   /* PL_LINE_EVERY: seconds, 1..PL_LINE_PERIOD_MAX */
	size_t ntimes;                     /* PL_LINE_AT: 1..PL_LINE_TIMES_MAX */
	uint32_t times[PL_LINE_TIMES_MAX]; /* seconds after 00:00 in zone, ascending, distinct */
	char zone[PL_TZ_NAME_MAX + 1];     /* PL_LINE_AT: "UTC" or a tz database zone; else "" */
	uint8_t days; /* PL_LINE_AT: bit d set when weekday d (0 Sunday .. 6 Saturday) is checked */
	uint32_t window; /* seconds the ends have to answer: 1..PL_LINE_WINDOW_MAX, and at most the
	                    period of an `every` schedule */
};

/*
 * Parses one schedule text[0..len) (the value of a `line` directive, without
 * leading or trailing blanks) into *out. Strict: every token known, names
 * valid party names (docs/records.md §3), the two ends distinct, times
 * HH:MM with two digits each and ascending, days in week order without
 * repetition, durations in range. Returns 0 with *out set, or PL_EMALFORMED
 * / PL_ERANGE / PL_ETOOBIG with *why (if not NULL) set to a static
 * description of the fault; *out is untouched on failure. Thread-safe.
 */
int pl_line_parse(struct pl_line *out, const char *text, size_t len, const char **why) PL_WUR;

/*
 * Appends the canonical text of l to out (single spaces, the largest unit
 * that divides each duration exactly, `daily` omitted): parsing it gives l
 * back. Returns 0, PL_EINVAL for an l no parse could give, or a pl_buf error.
 */
int pl_line_format(const struct pl_line *l, struct pl_buf *out) PL_WUR;

/* True when l's due times depend on a zone other than UTC (pl_line_next_in() needs it). */
bool pl_line_is_zoned(const struct pl_line *l);

/*
 * The first time a check of l falls due strictly after `after` (Unix
 * seconds), in *due. after must lie in years 0000..9999 (PL_ERANGE
 * otherwise). tz is l's zone (pl_tz_load(l->zone)) when pl_line_is_zoned(l),
 * else NULL. Returns 0 or PL_EINVAL (an l no parse could give, or tz not
 * its zone). Pure.
 */
int pl_line_next_in(const struct pl_line *l, const struct pl_tz *tz, int64_t after,
                    int64_t *due) PL_WUR;

/* pl_line_next_in() for a line in UTC (PL_EINVAL for a zoned one). */
int pl_line_next(const struct pl_line *l, int64_t after, int64_t *due) PL_WUR;

/* ---- Tally: how the ends answered ------------------------------------- */

/* What became of one check at one end. */
enum pl_line_outcome {
	PL_LINE_PENDING = 0,    /* neither an answer nor an `unanswered` naming the end (yet) */
	PL_LINE_ANSWERED = 1,   /* the end's `answer` is logged */
	PL_LINE_UNANSWERED = 2, /* the exchange logged `unanswered` naming the end */
};

/*
 * Judges one check: for each of its two ends (check->to[0], check->to[1]),
 * the outcome given rel[0..n), the records that refer to it (those with a
 * `ref check` to another id are ignored). The caller has verified every
 * record (signatures, inclusion) and that check_id is the check's id.
 * Returns 0 with out[] set; PL_EINVAL when check is not a check with two
 * ends; PL_ERULE when the records contradict docs/records.md §7 (an answer
 * by a party that is not an end, on another line, twice, or from an end the
 * exchange also reports as unanswered; two `unanswered`; one naming a party
 * that is not an end). Pure.
 */
int pl_line_judge(const struct pl_record *check, const uint8_t check_id[static PL_RECORD_ID_BYTES],
                  const struct pl_record *const *rel, const uint8_t (*rel_ids)[PL_RECORD_ID_BYTES],
                  size_t n, enum pl_line_outcome out[static 2]) PL_WUR;

#define PL_LINE_TALLY_ENDS_MAX 8 /* distinct ends one tally counts (a line's ends may change) */

/* Counts for one end. */
struct pl_line_end_tally {
	char end[PL_RECORD_NAME_MAX + 1];
	uint64_t checks;     /* checks addressed to this end */
	uint64_t answered;   /* ... that it answered */
	uint64_t unanswered; /* ... that the exchange reported unanswered */
	uint64_t pending;    /* ... with neither yet */
	int64_t first, last; /* times of its first and last check */
};

/* The availability of one line over a period. Plain data: nothing to free. */
struct pl_line_tally {
	char line[PL_RECORD_NAME_MAX + 1];
	int64_t since;   /* checks before this time are not counted */
	int64_t until;   /* checks at or after this time are not counted (0: no end) */
	uint64_t checks; /* checks of the line counted */
	uint64_t missed; /* `missed` records counted: due in the period, the exchange down */
	size_t nends;
	struct pl_line_end_tally ends[PL_LINE_TALLY_ENDS_MAX]; /* in order of first appearance */
};

/*
 * Starts an empty tally of the line named `line` for checks at or after `since`
 * and, when until is not 0, before `until`.
 */
void pl_line_tally_init(struct pl_line_tally *t, const char *line, int64_t since, int64_t until);

/* True when time `when` is in the tally's period [since, until). */
bool pl_line_tally_covers(const struct pl_line_tally *t, int64_t when);

/*
 * Counts one `missed` record (the exchange's account of a check it did not
 * make, docs/records.md §7) in t->missed, apart from every end's counts: no
 * end was asked. One of another line or due outside the period is not
 * counted and is not an error. Returns 0 or PL_EINVAL (not a missed).
 */
int pl_line_tally_add_missed(struct pl_line_tally *t, const struct pl_record *missed) PL_WUR;

/*
 * Counts one judged check (out[] from pl_line_judge()). A check of another
 * line or outside the period is not counted and is not an error (returns 0).
 * Returns 0, PL_EINVAL (not a check with two ends), PL_ETOOBIG (more than
 * PL_LINE_TALLY_ENDS_MAX distinct ends); t is unchanged on error.
 */
int pl_line_tally_add(struct pl_line_tally *t, const struct pl_record *check,
                      const enum pl_line_outcome out[static 2]) PL_WUR;

/* The counts of one end, or NULL when no counted check named it. */
const struct pl_line_end_tally *pl_line_tally_end(const struct pl_line_tally *t, const char *end);

/*
 * Appends to out one end's counts as one line that adds up, e.g. "kpa
 * answered 0 of 2 checks since 2023-04-07T00:00:00Z (1 unanswered, 1
 * pending)": K answered of all N checks addressed to the end, then what the
 * others were, "check" or "checks" as N says; no parenthesis when all were
 * answered. since is the time the count starts from (--since, or the first
 * check); until, when not 0, where it ends (" until T" follows). When the
 * line made more checks (`line_checks`, its ends changed) N is said as "of
 * the N checks addressed to it", so that it does not read as the line's
 * count. Returns 0, PL_EINVAL (e NULL, or counts that do not add up) or a
 * pl_buf error. Thread-safe.
 */
int pl_line_end_tally_format(const struct pl_line_end_tally *e, uint64_t line_checks, int64_t since,
                             int64_t until, struct pl_buf *out) PL_WUR;

/*
 * Appends to out the line's own count as one line that the ends' lines add up
 * under, e.g. "line unc-kpa: 3 checks since 2023-04-07T00:00:00Z until
 * 2023-04-08T00:00:00Z, 1 more missed by the exchange (it was down), verified
 * as of tree size 57", or "line unc-kpa: no checks since ..." when it counted
 * none. since and until as for pl_line_end_tally_format(). Returns 0,
 * PL_EINVAL or a pl_buf error. Thread-safe.
 */
int pl_line_tally_format(const struct pl_line_tally *t, int64_t since, int64_t until, uint64_t size,
                         struct pl_buf *out) PL_WUR;

#endif
