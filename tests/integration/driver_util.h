/* Helpers shared by the C programs that drive a running parleyd: TAP lines, a clock, a sleep. */
#ifndef PARLEY_DRIVER_UTIL_H
#define PARLEY_DRIVER_UTIL_H

#include <stdbool.h>
#include <stdint.h>

/* How many check()s have failed so far; a program's exit status is nonzero when it is. */
extern int fails;

/*
 * Prints one TAP line, unnumbered (the calling script numbers them): "ok - "
 * or "not ok - " and the formatted description. Counts a failure in fails.
 * Returns ok.
 */
bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Milliseconds on the monotonic clock, for differences only. */
uint64_t ms_now(void);

/* Sleeps about ms milliseconds. */
void sleep_ms(long ms);

/* The resident set size of process pid in KiB, from /proc, or -1. */
long rss_kib(long pid);

#endif
