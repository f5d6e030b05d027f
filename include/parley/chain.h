/* Author chains: each signing key's records linked by seq and prev, so absence is checkable. */
#ifndef PARLEY_CHAIN_H
#define PARLEY_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/error.h>
#include <parley/record.h>

/*
 * What the chain rules need of one record: its position in its key's chain,
 * its link to the previous record, its id and its time. Fill it with
 * pl_chain_link_set() from a record that pl_record_open() accepted.
 */
struct pl_chain_link {
	uint64_t seq;
	int64_t time;
	bool has_prev; /* false for "prev -" */
	uint8_t prev[PL_RECORD_ID_BYTES];
	uint8_t id[PL_RECORD_ID_BYTES];
};

/* Fills l from a record and its id. */
void pl_chain_link_set(struct pl_chain_link *l, const struct pl_record *r,
                       const uint8_t id[static PL_RECORD_ID_BYTES]);

/*
 * Checks that next may follow head in one key's chain: with head NULL (the
 * key has no record yet), next must be seq 1 with "prev -"; otherwise
 * next.seq = head.seq + 1, next.prev = head.id and next.time >= head.time.
 * A next with seq <= head.seq is a fork when its id differs from the record
 * that already holds that seq. Returns 0 or PL_ECHAIN with *why (if not
 * NULL) set to a static reason. Thread-safe.
 */
int pl_chain_check_next(const struct pl_chain_link *head, const struct pl_chain_link *next,
                        const char **why) PL_WUR;

/*
 * Checks that links[0..n) are a contiguous segment of one key's chain, in
 * order: each link follows the one before it as pl_chain_check_next() says,
 * and the first is self-consistent (seq 1 exactly when "prev -"). A
 * segment starting at seq 1 is the key's whole history up to its last link.
 * Returns 0, PL_EINVAL (n == 0), or PL_ECHAIN with *bad (if not NULL) the
 * index of the first link that does not follow and *why a static reason.
 * Thread-safe.
 */
int pl_chain_check_segment(const struct pl_chain_link *links, size_t n, size_t *bad,
                           const char **why) PL_WUR;

/* Two records of one key with the same seq and different ids: indexes into the links given. */
struct pl_chain_fork {
	size_t a, b;
};

/*
 * Finds forks among links[0..n) (records of one key, in any order, possibly
 * listed more than once): for each seq held by k > 1 distinct ids, reports
 * the k - 1 pairs (first, other), where first is the earliest-listed link of
 * that seq; pairs come in ascending seq. Writes at most max pairs to forks
 * and the total count to *nforks. Returns 0 or PL_ENOMEM (nothing set).
 * O(n log n). Thread-safe.
 */
int pl_chain_find_forks(struct pl_chain_fork *forks, size_t max, size_t *nforks,
                        const struct pl_chain_link *links, size_t n) PL_WUR;

#endif
