/* The stateful rules of the record vocabulary, run alike by the exchange and offline verifiers. */
#ifndef PARLEY_RULES_H
#define PARLEY_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/chain.h>
#include <parley/error.h>
#include <parley/record.h>

/* The most active signing keys one party may hold at once (docs/records.md §7). */
#define PL_PARTY_MAX_KEYS PL_RECORD_MAX_KEYS

/* Where a signing key stands in the directory, as the log says just before a record. */
enum pl_key_status {
	PL_KEY_UNKNOWN = 0, /* never registered */
	PL_KEY_ACTIVE,      /* registered and not revoked (the log key is always active) */
	PL_KEY_REVOKED,     /* registered, then revoked */
};

/*
 * Everything the rules need to judge one record against the log before it.
 * Records here are ones pl_record_open() accepted; none is modified.
 */
struct pl_rules_input {
	/* The record being judged and its id. */
	const struct pl_record *rec;
	const uint8_t *id; /* PL_RECORD_ID_BYTES */
	/* Status of the key that signed rec (the `signer` pl_record_open() returned). */
	enum pl_key_status signer;
	/* The last record of that key before rec, or NULL when rec is its first. */
	const struct pl_chain_link *head;
	/*
	 * refs[i] is the record whose id is rec->refs[i].id, found by the caller
	 * among the records logged before rec; NULL when there is none (which
	 * breaks the rules). Holds rec->nrefs pointers; may be NULL when
	 * rec->nrefs is 0.
	 */
	const struct pl_record *const *refs;
	/*
	 * Every record logged before rec that refers to the same record as rec
	 * does with its one subject, check or consult ref: for receive, convey,
	 * decline, accept, refuse, available and expire, those with
	 * `ref subject <that send>`; for answer and unanswered, those with
	 * `ref check <that check>`; for advise, those with `ref consult <that
	 * consult>`. Any order. Ignored for the other kinds. A record that does
	 * not refer to that id is a caller error (PL_EINVAL).
	 */
	const struct pl_record *const *siblings;
	size_t nsiblings;
	/* For register and revoke: the status of the key of each `key` line, in order. */
	const enum pl_key_status *keys;
	/*
	 * For register and revoke: how many active keys rec->party holds just
	 * before rec, and whether a key of it was ever registered (a party
	 * that left and may return). Both zero for a party never seen.
	 */
	size_t party_keys;
	bool party_known;
	/*
	 * Optional: whether a party currently has an active key. When set, the
	 * parties a record names (to, via, the ends of a check) must be active.
	 * NULL skips that check (an offline verifier may lack the directory).
	 */
	bool (*party_is_active)(void *arg, const char *party);
	void *arg;
};

/*
 * Judges in->rec against what the log held before it, by the rules of
 * docs/records.md: the signing key is active; for a register, each key is
 * new or an active key of the party that endorses the new ones (rotation),
 * the party holds at most PL_PARTY_MAX_KEYS, and a party that returns after
 * its last key was revoked refers to its previous register; for a revoke,
 * each revoked key is active, and an eviction names all of them; the chain
 * (seq, prev, time not before the head's); each ref names an earlier record
 * of the same exchange, of the kind its role requires, not later in time;
 * and the rules of rec's kind (who may author it, once-only events, order of
 * events, deadlines). Does not check the time against any clock: the
 * exchange applies its tolerance itself.
 *
 * Returns 0, PL_ECHAIN (chain), PL_ERULE (any other rule) or PL_EINVAL (the
 * input is inconsistent, e.g. a missing array), with *why (if not NULL) set
 * to a static, one-line reason. Pure function of its input; thread-safe.
 */
int pl_rules_check(const struct pl_rules_input *in, const char **why) PL_WUR;

#endif
