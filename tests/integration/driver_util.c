/* Helpers shared by the C programs that drive a running parleyd: TAP lines, actors, a clock. */
#include "driver_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int fails;

bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		fails++;
	return ok;
}

struct actor *actor_new(const char *ids_dir, const char *url, const char *name)
{
	struct actor *a = calloc(1, sizeof(*a));

	if (!a || pl_party_load(&a->id, ids_dir, name) != 0 ||
	    pl_client_new(&a->c, url, &a->id.skey, NULL) != 0) {
		fprintf(stderr, "cannot open the identity of %s\n", name);
		exit(2);
	}
	return a;
}

void actor_close(struct actor *a)
{
	if (!a)
		return;
	pl_client_free(a->c);
	pl_party_clear(&a->id);
	free(a);
}

uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

long rss_kib(long pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}
