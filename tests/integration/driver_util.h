/* Helpers shared by the C programs that drive a running parleyd: TAP lines, actors, a clock. */
#ifndef PARLEY_DRIVER_UTIL_H
#define PARLEY_DRIVER_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <parley/client.h>
#include <parley/encoding.h>
#include <parley/party.h>

/* How many check()s have failed so far; a program's exit status is nonzero when it is. */
extern int fails;

/*
 * Prints one TAP line, unnumbered (the calling script numbers them): "ok - "
 * or "not ok - " and the formatted description. Counts a failure in fails.
 * Returns ok.
 */
bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A party as a driver plays it: its identity, its client, and the head of its chain. */
struct actor {
	struct pl_party id;
	struct pl_client *c;
	uint64_t seq;
	uint8_t head[PL_HASH_BYTES];
};

/*
 * Loads party name's identity from ids_dir and a client of the exchange at url
 * (actor_close() it). Exits with status 2 when either fails: nothing can be
 * tested then.
 */
struct actor *actor_new(const char *ids_dir, const char *url, const char *name);

/* Frees the actor, its client and its identity; actor_close(NULL) is a no-op. */
void actor_close(struct actor *a);

/* Milliseconds on the monotonic clock, for differences only. */
uint64_t ms_now(void);

/* Sleeps about ms milliseconds. */
void sleep_ms(long ms);

/* The resident set size of process pid in KiB, from /proc, or -1. */
long rss_kib(long pid);

#endif
