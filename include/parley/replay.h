/* The replay: gathers what the rules read of the log before a record, from any source of it. */
#ifndef PARLEY_REPLAY_H
#define PARLEY_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/chain.h>
#include <parley/directory.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>
#include <parley/record.h>
#include <parley/rules.h>

/*
 * Where a replay reads the log logged before the record it judges. The
 * exchange implements it with its store (and its caches); struct
 * pl_replay_log implements it once in memory for every verifier that walks
 * a log in order. An index is whatever the source numbers records by (the
 * log index for both). Records a source hands out are malloc'd and become
 * the caller's (free()). Every member but party_is_active is required.
 */
struct pl_replay_source {
	/*
	 * The record logged with this id: 0 with *rec and *index, PL_ENOTFOUND,
	 * or the source's failure (PL_ENOMEM, PL_ESTORE...).
	 */
	int (*record)(void *arg, const uint8_t id[static PL_RECORD_ID_BYTES],
	              struct pl_record **rec, uint64_t *index);
	/*
	 * The chain head of the key that signed rec: 0 with *head and *index,
	 * PL_ENOTFOUND when that key has signed nothing yet, or a failure.
	 */
	int (*head)(void *arg, const struct pl_record *rec, struct pl_chain_link *head,
	            uint64_t *index);
	/*
	 * The siblings of a record about the one at index (whose id is id): the
	 * records logged that refer to it with their first ref of role role, in
	 * any order. 0 with *sib a malloc'd array of *n malloc'd records (both
	 * the caller's), PL_ETOOBIG when more than PL_RULES_MAX_SIBLINGS records
	 * refer to it (by any role), or a failure.
	 */
	int (*siblings)(void *arg, uint64_t index, const uint8_t id[static PL_RECORD_ID_BYTES],
	                enum pl_ref_role role, struct pl_record ***sib, size_t *n);
	/* The status of the key that signed rec. */
	enum pl_key_status (*signer)(void *arg, const struct pl_record *rec);
	/* The status of the key of rec's k-th `key` line (a register or revoke). */
	enum pl_key_status (*key)(void *arg, const struct pl_record *rec, size_t k);
	/* Optional, as pl_rules_input.party_is_active: NULL skips that check. */
	bool (*party_is_active)(void *arg, const char *party);
	/*
	 * For a register or revoke: how many active keys party holds and whether
	 * a key of it was ever registered (pl_rules_input.party_keys and
	 * party_known). NULL answers "none, never": a source that leaves it out
	 * judges every register as a new party's. Every source of the library
	 * sets it.
	 */
	void (*party)(void *arg, const char *party, size_t *active, bool *known);
	void *arg;
};

/*
 * What the rules read of the log for one record, gathered from a source by
 * pl_replay_gather(): the fields of struct pl_rules_input, plus where each
 * record is in the source. Owns the records it holds
 * (pl_replay_view_release()).
 */
struct pl_replay_view {
	const struct pl_replay_source *src;
	const struct pl_record *rec; /* borrowed from the caller */
	const uint8_t *id;           /* borrowed: PL_RECORD_ID_BYTES */
	/* refs[i] is the record rec->refs[i] names, or NULL when the log lacks it. */
	struct pl_record *refs[PL_RECORD_MAX_REFS];
	uint64_t ref_index[PL_RECORD_MAX_REFS];
	/* The ref naming the record rec acts on (its kind's target role), or -1. */
	int about;
	/* The records logged before rec about the same record (about >= 0). */
	struct pl_record **sib;
	size_t nsib;
	/* The last record of the key that signed rec (has_head). */
	struct pl_chain_link head;
	bool has_head;
	uint64_t head_index;
	enum pl_key_status signer;
	enum pl_key_status keys[PL_RECORD_MAX_KEYS];
	/* For a register or revoke: what src->party said of rec->party. */
	size_t party_keys;
	bool party_known;
};

/* pl_replay_gather(): a ref the log lacks ends the gathering (else refs[i] is NULL). */
#define PL_REPLAY_STRICT 1u

/*
 * Gathers from src what the rules read of the log before rec (whose id is
 * id): the chain head and status of its signer, the records its refs name,
 * the records about the same send, check or consult, and for a register or
 * revoke the status of each key. Returns 0 with *v filled (release it even
 * so), PL_ENOTFOUND (with PL_REPLAY_STRICT, a ref the log lacks), PL_ERULE
 * (more than PL_RULES_MAX_SIBLINGS records refer to the record rec is
 * about) or the source's failure; on failure *why (if not NULL) is set to a
 * static reason for the first two, and v holds nothing to release. rec and
 * id must outlive v. Thread-safe if src is.
 */
int pl_replay_gather(struct pl_replay_view *v, const struct pl_replay_source *src,
                     const struct pl_record *rec, const uint8_t id[static PL_RECORD_ID_BYTES],
                     unsigned flags, const char **why) PL_WUR;

/* Runs pl_rules_check() on what v gathered; returns what it returns. */
int pl_replay_check(const struct pl_replay_view *v, const char **why) PL_WUR;

/* Frees the records v holds and empties it. A zeroed view is a no-op. */
void pl_replay_view_release(struct pl_replay_view *v);

/*
 * A log replayed in memory, record after record in log order: the directory
 * its register and revoke records build (with each key's chain head), an
 * index of every record added by id, and for each record the chain of the
 * records about it. It is the pl_replay_source of parley log audit and of
 * the dossier verifier. To keep a whole log small it holds the text of the
 * records whose lines later rules read (sends, consults, checks and the
 * records about them) and only the kind and time of the others (statements,
 * registers, revokes), which is all a ref to them is judged on. Fields are
 * private but dir, which callers read (e.g. as pl_record_open()'s keys).
 * Not thread-safe for writing.
 */
struct pl_replay_log {
	struct pl_directory dir;
	struct pl__replay_seen *seen;
	size_t nseen, capseen;
	size_t *slots; /* open addressing over seen: positions + 1, 0 empty */
	size_t nslots;
	char *arena; /* the kept texts */
	size_t arena_len, arena_cap;
};

/*
 * Starts an empty log whose log key is log_key; its directory keeps
 * extra_size bytes of the caller's per key (pl_directory_init()). Returns 0,
 * PL_EINVAL or PL_ENOMEM; on failure l is zeroed. Release with
 * pl_replay_log_release().
 */
int pl_replay_log_init(struct pl_replay_log *l, const struct pl_vkey *log_key,
                       size_t extra_size) PL_WUR;

/* Frees what l holds and zeroes it. A zeroed log is a no-op. */
void pl_replay_log_release(struct pl_replay_log *l);

/* True when a record with this id was added, with its log index in *index (if not NULL). */
bool pl_replay_log_find(const struct pl_replay_log *l, const uint8_t id[static PL_RECORD_ID_BYTES],
                        uint64_t *index);

/*
 * Judges rec (whose id is id, signed by the key at position signer of
 * l->dir, that pl_record_open() verified against it) against the records
 * added so far, by pl_rules_check(); a ref to a record not added is the
 * rules' "not in the log". With parties true the parties rec names must be
 * registered: pass false when l holds only part of the log's directory.
 * Returns 0, PL_ECHAIN or PL_ERULE with *why (if not NULL) set to a static
 * reason, PL_EINVAL (signer not in the directory) or PL_ENOMEM.
 */
int pl_replay_log_judge(const struct pl_replay_log *l, const struct pl_record *rec,
                        const uint8_t id[static PL_RECORD_ID_BYTES], size_t signer, bool parties,
                        const char **why) PL_WUR;

/*
 * pl_replay_log_judge() with the chain head the caller gives (NULL: rec is
 * its key's first record) in place of the one the log holds: for a
 * verifier that holds only some records of a key (a version 2 dossier) and
 * vouches for the head itself. Same returns.
 */
int pl_replay_log_judge_head(const struct pl_replay_log *l, const struct pl_record *rec,
                             const uint8_t id[static PL_RECORD_ID_BYTES], size_t signer,
                             const struct pl_chain_link *head, bool parties,
                             const char **why) PL_WUR;

/*
 * Adds rec, logged at index with the signed note text[0..len) (whose id is
 * id), signed by the key at position signer, as the exchange did when it
 * logged it whatever the rules said: it becomes its key's chain head, the
 * records after it may refer to it, and a register or revoke changes the
 * directory (pl_directory_apply()). Returns 0, PL_EEXIST (a record with this
 * id was added before; nothing changes), PL_EINVAL (signer not in the
 * directory), PL_ETOOBIG (the directory is full) or PL_ENOMEM.
 */
int pl_replay_log_add(struct pl_replay_log *l, const struct pl_record *rec,
                      const uint8_t id[static PL_RECORD_ID_BYTES], uint64_t index, size_t signer,
                      const char *text, size_t len) PL_WUR;

#endif
