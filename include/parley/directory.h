/* The key directory as a log replays it: which key is active or revoked, and its chain head. */
#ifndef PARLEY_DIRECTORY_H
#define PARLEY_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/chain.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>
#include <parley/record.h>
#include <parley/rules.h>

/* What pl_directory_find() returns for a key the directory does not hold. */
#define PL_DIRECTORY_NONE SIZE_MAX

/* Where one key stands after the records replayed so far. */
struct pl_directory_state {
	enum pl_key_status status; /* PL_KEY_ACTIVE or PL_KEY_REVOKED */
	bool has_head;             /* the key has signed a replayed record */
	struct pl_chain_link head; /* the latest of them (has_head) */
};

/*
 * The directory an auditor rebuilds by replaying a log in order: the log key,
 * then every key a register or revoke record names, each with its status and
 * its chain head, plus extra_size bytes of the caller's own state per key.
 * A key is known by its name and key ID, as a signature line names it.
 * Positions are stable: a key keeps the position it was added at until
 * release. Fields are read-only for callers; keys[0..n) is the array
 * pl_record_open() takes as its dir. Not thread-safe for writing; readers
 * may share a directory no one writes.
 */
struct pl_directory {
	char origin[PL_RECORD_ORIGIN_MAX + 1]; /* the log key's name */
	struct pl_vkey *keys;
	struct pl_directory_state *state; /* state[i] goes with keys[i] */
	size_t n, cap, max;
	unsigned char *extra; /* cap blocks of stride bytes, zeroed when their key is added */
	size_t extra_size, stride;
};

/*
 * Starts a directory for the log whose log key is log_key (named after the
 * log's origin): it holds log_key, active, at position 0. extra_size (0 for
 * none) is how many bytes of state the caller keeps per key
 * (pl_directory_extra()); max_keys (1 to PL_DIRECTORY_MAX_KEYS) bounds how
 * many keys it may ever hold, the log key included. Returns 0, PL_EINVAL
 * (log_key not named as a valid exchange origin, a bound out of range) or
 * PL_ENOMEM; on failure d is left zeroed. Release with
 * pl_directory_release().
 */
int pl_directory_init(struct pl_directory *d, const struct pl_vkey *log_key, size_t extra_size,
                      size_t max_keys) PL_WUR;

/* Frees what d holds and zeroes it. A zeroed directory is a no-op. */
void pl_directory_release(struct pl_directory *d);

/* The position of the key with this name and key ID, or PL_DIRECTORY_NONE. */
size_t pl_directory_find(const struct pl_directory *d, const char *name,
                         const uint8_t id[static PL_KEYID_BYTES]);

/* The status of the key k (by its name and key ID): PL_KEY_UNKNOWN when d does not hold it. */
enum pl_key_status pl_directory_status(const struct pl_directory *d, const struct pl_vkey *k);

/*
 * True when party (a party name, not a key name) holds an active key, i.e.
 * is registered (docs/records.md §7). Its signature fits
 * pl_rules_input.party_is_active, with a struct pl_directory as arg.
 */
bool pl_directory_party_is_active(void *d, const char *party);

/*
 * How many keys of party (a party name) are active, in *active, and whether
 * d holds any key of it, active or revoked, in *known. Fits
 * pl_replay_source.party with a struct pl_directory as arg.
 */
void pl_directory_party_keys(const struct pl_directory *d, const char *party, size_t *active,
                             bool *known);

/*
 * Applies a logged register or revoke record r to the directory, as the
 * exchange did when it logged it: each key of a register becomes active
 * (added, or made active again), each key of a revoke revoked (added as
 * revoked when unknown). Whether r was allowed to do so is pl_rules_check()'s
 * question (pl_directory_judge()), asked before: a log that broke the rules
 * still builds on what it logged. Other kinds change nothing. Returns 0,
 * PL_ETOOBIG (the directory would hold more than its max_keys) or
 * PL_ENOMEM; on failure the keys of r before the failing one are applied.
 */
int pl_directory_apply(struct pl_directory *d, const struct pl_record *r) PL_WUR;

/* Makes the record r with id (signed by the key at position at) that key's chain head. */
void pl_directory_advance(struct pl_directory *d, size_t at, const struct pl_record *r,
                          const uint8_t id[static PL_RECORD_ID_BYTES]);

/*
 * The caller's extra_size bytes for the key at position at (zero when the key
 * was added, aligned for any type), or NULL when extra_size is 0. Valid until
 * the next pl_directory_apply() or release.
 */
void *pl_directory_extra(const struct pl_directory *d, size_t at);

/*
 * Runs pl_rules_check() on in->rec, signed by the key at position signer,
 * with what the directory says just before it: the signer's status and chain
 * head, and for a register or revoke the status of each of its keys. The
 * caller gives in->rec, in->id, in->refs, in->siblings and in->nsiblings
 * (the records it kept); the rest of *in is ignored. With parties true the
 * parties a record names must be registered (pl_directory_party_is_active());
 * pass false when d holds only part of the log's directory. Returns what
 * pl_rules_check() returns (0, PL_ECHAIN, PL_ERULE with *why set, or
 * PL_EINVAL, also for a signer d does not hold), or PL_ENOMEM. It is the
 * replay's (pl_replay_gather()) with d and the caller's records as its
 * source; a whole log in memory is struct pl_replay_log's. Thread-safe if no
 * one writes d.
 */
int pl_directory_judge(const struct pl_directory *d, size_t signer, const struct pl_rules_input *in,
                       bool parties, const char **why) PL_WUR;

#endif
