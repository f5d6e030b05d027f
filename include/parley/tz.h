/* Named time zones: a TZif file (RFC 8536) of the system's tz database, and wall times in it. */
#ifndef PARLEY_TZ_H
#define PARLEY_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/error.h>

#define PL_TZ_DIR             "/usr/share/zoneinfo" /* where pl_tz_load() reads zones */
#define PL_TZ_NAME_MAX        63                    /* bytes of a zone name */
#define PL_TZ_FILE_MAX        65536                 /* bytes of one TZif file */
#define PL_TZ_TRANSITIONS_MAX 2048                  /* transitions of one zone */
#define PL_TZ_TYPES_MAX       256                   /* local time types of one zone */
#define PL_TZ_RULE_MAX        64                    /* bytes of the footer's TZ string */

/* One DST change of a footer rule: month m (1..12), week w (1..5, 5 the last), day d (0 Sunday). */
struct pl_tz_change {
	uint8_t m, w, d;
	int32_t at; /* seconds after local midnight, -167h..167h */
};

/*
 * A zone: its transitions (UTC instant, and the UT offset in effect from it
 * on) and, after the last, the footer's rule. Plain data, nothing to free
 * but itself (pl_tz_free()); read-only once loaded, so any thread may use it.
 */
struct pl_tz {
	char name[PL_TZ_NAME_MAX + 1];
	int32_t first; /* the UT offset before the first transition (type 0) */
	size_t n;      /* transitions */
	int64_t at[PL_TZ_TRANSITIONS_MAX];
	int32_t off[PL_TZ_TRANSITIONS_MAX];
	bool has_rule;                  /* a footer: it holds after the last transition */
	bool has_dst;                   /* ... with daylight saving time */
	int32_t std, dst;               /* the rule's UT offsets (seconds east of Greenwich) */
	struct pl_tz_change start, end; /* when DST starts (in standard time) and ends (in DST) */
};

/*
 * True when name[0..len) is a zone name as parleyd.conf writes one: 1 to
 * PL_TZ_NAME_MAX bytes of non-empty components separated by single `/`,
 * each of A-Z a-z 0-9 `_` `+` `-`, not starting with `-` (so no `.`, no
 * `..`, no absolute path). Says nothing of whether the zone exists. Pure.
 */
bool pl_tz_name_is_valid(const char *name, size_t len);

/*
 * Parses a TZif file data[0..len) of version 2 or later (its 64-bit data
 * block and its footer) into a new zone *out named `name`. Strict and
 * bounded: at most PL_TZ_FILE_MAX bytes, PL_TZ_TRANSITIONS_MAX transitions,
 * PL_TZ_TYPES_MAX types, no leap seconds, transitions ascending, offsets
 * within ±25 h, a footer TZ string of the forms `STD OFF` or `STD OFF DST
 * [OFF],Mm.w.d[/TIME],Mm.w.d[/TIME]` (names alphabetic or `<...>`).
 * Returns 0, PL_EMALFORMED (with *why, if not NULL, a static description),
 * PL_ETOOBIG, PL_EINVAL or PL_ENOMEM. Thread-safe.
 */
int pl_tz_parse(struct pl_tz **out, const char *name, const void *data, size_t len,
                const char **why) PL_WUR;

/*
 * Loads the zone `name` (pl_tz_name_is_valid()) from PL_TZ_DIR. Returns 0,
 * PL_EINVAL (a name that is not valid), PL_ENOTFOUND (no such zone),
 * PL_EIO, or what pl_tz_parse() returns. Thread-safe.
 */
int pl_tz_load(struct pl_tz **out, const char *name, const char **why) PL_WUR;

/* Frees a zone; NULL is fine. */
void pl_tz_free(struct pl_tz *tz);

/* The UT offset (seconds east) in effect at UTC instant t. Pure. */
int32_t pl_tz_offset(const struct pl_tz *tz, int64_t t);

/*
 * The UTC instant of the wall time `local` (seconds since 1970-01-01T00:00
 * local time). A wall time that happens twice (clocks set back) is its
 * first; one that does not happen (clocks set forward) is moved forward by
 * the gap (02:30 on a night that skips from 02:00 to 03:00 is 03:30). Pure.
 */
int64_t pl_tz_to_utc(const struct pl_tz *tz, int64_t local);

#endif
