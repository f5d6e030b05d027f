/* Helpers shared by the benchmark programs: a clock, an operation rate, a report line. */
#ifndef PARLEY_BENCH_UTIL_H
#define PARLEY_BENCH_UTIL_H

#include <stdint.h>

/* Seconds on the monotonic clock, for differences only. */
double pl_bench_now(void);

/*
 * Calls op in batches of `batch` for about `seconds` and returns operations per
 * second, or -1 as soon as op returns nonzero.
 */
double pl_bench_rate(int (*op)(void), int batch, double seconds);

/* Prints "name: N ops/s (R x baseline)"; R is 0 when base is not positive. */
void pl_bench_report(const char *name, double r, double base);

/*
 * Measures op as pl_bench_rate() does (one call a batch) and reports it
 * against base; returns 0, or -1 if op failed (nothing is printed then).
 */
int pl_bench_figure(const char *name, int (*op)(void), double seconds, double base);

/* The next value of a xorshift64 generator whose state is *state (not zero). */
uint64_t pl_bench_rnd(uint64_t *state);

#endif
