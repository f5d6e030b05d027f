/* RFC 3339 UTC timestamps to the second, the only time form in records. */
#ifndef PARLEY_TIMESTAMP_H
#define PARLEY_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/error.h>

/* Characters in "YYYY-MM-DDTHH:MM:SSZ". */
#define PL_TIMESTAMP_LEN 20

/* Range of representable times, in Unix seconds: 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define PL_TIMESTAMP_MIN (-62167219200LL)
#define PL_TIMESTAMP_MAX 253402300799LL

/*
 * Parses exactly "YYYY-MM-DDTHH:MM:SSZ" (s[0..len), len must be 20) into
 * Unix seconds. Upper-case 'T' and 'Z' only; no fraction, no offset, no
 * leap second (SS is 00..59); the day must exist in that month of the
 * proleptic Gregorian calendar. Returns 0 with *out set, or PL_EMALFORMED.
 * Pure function; thread-safe.
 */
int pl_timestamp_parse(int64_t *out, const char *s, size_t len) PL_WUR;

/*
 * Writes t as "YYYY-MM-DDTHH:MM:SSZ" plus a NUL to out. Returns 0, or
 * PL_ERANGE when t is outside [PL_TIMESTAMP_MIN, PL_TIMESTAMP_MAX] (out is
 * then untouched). Thread-safe.
 */
int pl_timestamp_format(char out[static PL_TIMESTAMP_LEN + 1], int64_t t) PL_WUR;

/* Appends the text of t to b. Returns 0, PL_ERANGE or a pl_buf_add() error. */
int pl_timestamp_append(struct pl_buf *b, int64_t t) PL_WUR;

/* Longest text pl_duration_parse() reads. */
#define PL_DURATION_TEXT_MAX 32

/*
 * Parses a duration s[0..len), such as "90s", "30m", "1h30m" or "2d": one
 * or more parts, each a decimal count (no sign, no leading zero but "0"
 * itself, at most 9 digits) and a unit s, m, h, d or w (seconds, minutes,
 * hours, days, weeks), nothing else, at most PL_DURATION_TEXT_MAX bytes, the
 * total at most max seconds. Returns 0 with *out set, PL_EMALFORMED or
 * PL_ERANGE (over max). Pure function; thread-safe.
 */
int pl_duration_parse(int64_t *out, const char *s, size_t len, int64_t max) PL_WUR;

#endif
