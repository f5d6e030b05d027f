/* Helpers shared by the benchmark programs: a clock, an operation rate, a report line. */
#include "bench_util.h"

#include <stdio.h>
#include <time.h>

double pl_bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double pl_bench_rate(int (*op)(void), int batch, double seconds)
{
	double start = pl_bench_now(), t;
	long n = 0;

	do {
		for (int i = 0; i < batch; i++) {
			if (op() != 0)
				return -1;
		}
		n += batch;
		t = pl_bench_now() - start;
	} while (t < seconds);
	return (double)n / t;
}

void pl_bench_report(const char *name, double r, double base)
{
	printf("%s: %.0f ops/s (%.2f x baseline)\n", name, r, base > 0 ? r / base : 0);
}

int pl_bench_figure(const char *name, int (*op)(void), double seconds, double base)
{
	double r = pl_bench_rate(op, 1, seconds);

	if (r < 0)
		return -1;
	pl_bench_report(name, r, base);
	return 0;
}

uint64_t pl_bench_rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}
