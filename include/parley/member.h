/* A member's checks of what its exchange hands over: directory, ids, proofs, receipts, payloads. */
#ifndef PARLEY_MEMBER_H
#define PARLEY_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include <parley/box.h>
#include <parley/checkpoint.h>
#include <parley/client.h>
#include <parley/directory.h>
#include <parley/key.h>
#include <parley/proof.h>
#include <parley/receipt.h>
#include <parley/record.h>
#include <parley/state.h>

/*
 * Checks one entry of the exchange's directory (GET /parties) against its
 * register record: the record opens with the log key log_key and the keys
 * it registers, its id is the one the entry names, it registers that party
 * at the exchange origin, and it carries the entry's key and encryption key.
 * scratch (caller-allocated, large) receives the parsed register record.
 * Returns 0, PL_EVERIFY when the entry and its record disagree, or what
 * parsing and pl_record_open() return; on every failure *why (if not NULL)
 * is a static description. Thread-safe.
 */
int pl_member_party_check(const struct pl_client_party *p, const char *origin,
                          const struct pl_vkey *log_key, struct pl_record *scratch,
                          const char **why) PL_WUR;

/*
 * Builds the directory of a member from the exchange's entries v[0..n): each
 * entry checked with pl_member_party_check(), then its key added to d, which
 * starts as pl_directory_init() leaves it (log_key at position 0) and holds
 * one key per distinct entry key after it, active (a revoked party's key stays:
 * its old records still open). *bad (if not NULL) is the position of the
 * entry whose check failed, or n when none did; *why then as in
 * pl_member_party_check(). Returns 0 (release d with pl_directory_release()),
 * the checks' errors, PL_EINVAL or PL_ENOMEM; on failure d is left zeroed.
 * Thread-safe.
 */
int pl_member_directory(struct pl_directory *d, const struct pl_vkey *log_key, const char *origin,
                        const struct pl_client_party *v, size_t n, size_t *bad,
                        const char **why) PL_WUR;

/* How many registers back pl_session_directory() follows a returning party's `ref previous`. */
#define PL_MEMBER_PREVIOUS_MAX 16

/*
 * The register a party's register names with `ref previous` (a party that
 * returned, docs/keys.md §3): note[0..len) is a signed register record (its
 * syntax only is read here; pl_member_party_check() checked it). Returns 0
 * with prev set, PL_ENOTFOUND when it names none, or PL_EMALFORMED.
 * Thread-safe.
 */
int pl_member_register_previous(const char *note, size_t len,
                                uint8_t prev[static PL_RECORD_ID_BYTES]) PL_WUR;

/*
 * Adds to d the keys of an earlier register of party, so that the records
 * its old keys signed still open: note[0..len) must be the record whose id is
 * want, a register of party at origin, signed by log_key and by every key it
 * lists (pl_record_open()). Its keys enter d revoked (a party returns only
 * once all its keys were revoked). Returns 0 with *has_prev and prev set to
 * the register it names in turn, or PL_EINVAL (another record, party or
 * exchange; *why set), pl_record_open()'s errors, PL_ETOOBIG, PL_ENOMEM.
 * Thread-safe if no one else writes d.
 */
int pl_member_directory_previous(struct pl_directory *d, const struct pl_vkey *log_key,
                                 const char *origin, const char *party,
                                 const uint8_t want[static PL_RECORD_ID_BYTES], const char *note,
                                 size_t len, bool *has_prev,
                                 uint8_t prev[static PL_RECORD_ID_BYTES], const char **why) PL_WUR;

/*
 * Opens a record text[0..len) the exchange handed over against the member's
 * directory d (pl_record_open()) and checks that it was made for exchange
 * origin. On success r and id are set. Returns 0, pl_record_open()'s errors
 * (*why set when it said why; PL_ENOKEY for an author d does not hold yet),
 * or PL_EINVAL when the record is another exchange's (r is set then, so that
 * the caller can name it). Thread-safe if no one writes d.
 */
int pl_member_record_open(struct pl_record *r, uint8_t id[static PL_RECORD_ID_BYTES],
                          const char *text, size_t len, const struct pl_directory *d,
                          const char *origin, const char **why) PL_WUR;

/*
 * Normalizes a record id or id prefix as a member types it: 8 to 64 hex
 * digits, either case, written to out in lower case and NUL-terminated.
 * Returns 0, PL_ERANGE (too short or too long) or PL_EMALFORMED (not hex
 * digits); out is set only on success.
 */
int pl_member_id_arg(char out[static PL_RECORD_ID_HEX_LEN + 1], const char *arg) PL_WUR;

/*
 * Checks the inclusion proof proof[0..proof_len) of the log entry
 * text[0..len) under the log key log_key of origin: it parses, verifies, and
 * when index is not UINT64_MAX proves that index. *out is the parsed proof
 * whenever it parses, also on failure (free it with pl_proof_free(); its
 * checkpoint is the signed text), else NULL; cp is its checkpoint, set once
 * it verified. Returns 0, pl_proof_parse() errors (*out NULL),
 * pl_proof_verify() errors, or PL_ERANGE when it proves another index (which
 * pl_proof_verify() never returns). Thread-safe.
 */
int pl_member_proof_check(const char *proof, size_t proof_len, const char *text, size_t len,
                          uint64_t index, const char *origin, const struct pl_vkey *log_key,
                          struct pl_proof **out, struct pl_checkpoint *cp) PL_WUR;

/*
 * Checks the receipt rc of the exchange for the record text[0..len) it
 * logged: its proof holds (pl_member_proof_check()) for the receipt's index
 * at the receipt's size, and the receipt's checkpoint is the signed one the
 * proof verified. *out and cp as in pl_member_proof_check(). Returns 0, the
 * proof's errors, PL_ERANGE (index or size differ) or PL_EINCONSISTENT
 * (another checkpoint). Thread-safe.
 */
int pl_member_receipt_check(const struct pl_receipt *rc, const char *text, size_t len,
                            const char *origin, const struct pl_vkey *log_key,
                            struct pl_proof **out, struct pl_checkpoint *cp) PL_WUR;

/*
 * Opens the payload blob[0..blob_len) of record r with this member's
 * encryption key: it must be r's payload (size, then pl_box_open() against
 * r's commitment). On success *plain (free with pl_box_plaintext_free()),
 * *plain_len and salt are set. Returns 0, PL_ERANGE (not the size the record
 * says), PL_ENOTFOUND (no slot for this member), PL_ECRYPTO or PL_ECOMMIT
 * (the blob and the record are evidence against the author), PL_EINVAL (r
 * carries no payload) or another pl_box_open() error. Thread-safe.
 */
int pl_member_payload_open(uint8_t **plain, size_t *plain_len,
                           uint8_t salt[static PL_BOX_SALT_BYTES], const struct pl_record *r,
                           const uint8_t *blob, size_t blob_len,
                           const struct pl_box_keypair *me) PL_WUR;

/*
 * Adds the `to` line of party name to r, keeping the lines sorted and
 * distinct. Returns 0, PL_EINVAL (not a party name), PL_EEXIST (named
 * already) or PL_ETOOBIG (r has PL_RECORD_MAX_TO already); r is unchanged
 * on failure.
 */
int pl_member_to_add(struct pl_record *r, const char *name) PL_WUR;

/*
 * Adds the ref line "<role> <id>" to r, keeping the lines sorted by their
 * text (role name, then id) and distinct. Returns 0, PL_EEXIST (that role
 * and id already) or PL_ETOOBIG (r has PL_RECORD_MAX_REFS already); r is
 * unchanged on failure.
 */
int pl_member_ref_add(struct pl_record *r, enum pl_ref_role role,
                      const uint8_t id[static PL_RECORD_ID_BYTES]) PL_WUR;

/*
 * Places a record that party authors at exchange origin on its chain, after
 * head (seq 0: the chain's first record): sets exchange, author, seq, prev,
 * and time as the latest of now, the head's time and min_time (the latest
 * time of the records r refers to: docs/records.md section 7). Returns 0,
 * PL_EINVAL (a name too long) or PL_ERANGE (r's deadline is not after that
 * time); r's other lines are left as they are.
 */
int pl_member_place(struct pl_record *r, const char *origin, const char *party,
                    const struct pl_state_head *head, int64_t now, int64_t min_time) PL_WUR;

/*
 * The reference that makes r an act about another record, as the member's
 * local state notes it: its subject, else the consultation it advises on,
 * else the line check it answers; NULL for none.
 */
const struct pl_record_ref *pl_member_act_subject(const struct pl_record *r);

/*
 * Appends a one-line description of a record for a member's listing to out,
 * e.g. "proposal to kpa via unc, reply by 2025-11-24T00:00:00Z" or "of
 * 3f9a12bc4d5e6f70: Outside the remit" (no author, kind, id nor time: the
 * caller prints those). Returns 0 or a pl_buf error. Thread-safe.
 */
int pl_member_record_summary(const struct pl_record *r, struct pl_buf *out) PL_WUR;

/*
 * A JSON object (jansson's json_t) describing a verified record r whose signed
 * text is text[0..len): index (left out when UINT64_MAX), id, time, author,
 * seq, kind, and every line the record carries (class, to, via, deadline,
 * line, refs as {role, id}, payload as {hash, size}, commit, reason,
 * position, party, body), plus "record", the signed text. NULL when out of
 * memory. The caller json_decref()s it. Thread-safe.
 */
struct json_t *pl_member_record_json(const struct pl_record *r, uint64_t index, const char *text,
                                     size_t len);

/*
 * Seals body[0..len) to readers[0..nreaders) (pl_box_seal(): the author's own
 * key first, so that it can read it back), uploads the blob to the exchange
 * with c (POST /payloads), and sets r's payload (hash, size) and commit
 * lines; salt receives the commitment's salt, which the author keeps to
 * disclose the content later. Returns 0, or pl_box_seal()'s errors with
 * *stage "seal", or pl_client_payload_put()'s with *stage "upload" (then
 * pl_client_last_error(c) says more); r is unchanged on failure. Uses c:
 * one thread at a time, as the client.
 */
int pl_member_payload_put(struct pl_client *c, struct pl_record *r, const uint8_t *body, size_t len,
                          const uint8_t (*readers)[PL_BOX_PK_BYTES], size_t nreaders,
                          uint8_t salt[static PL_BOX_SALT_BYTES], const char **stage) PL_WUR;

/*
 * Writes the evidence of two histories sp (pl_client_observe()), with the
 * pinned log key's text filled in from log_key, to a new file
 * split-view-<time>.txt in the directory of the local state file state
 * (docs/split-view.md section 2: never over an older file, mode 0644, synced
 * to disk), and its path to path. Returns 0, PL_ENOMEM, PL_EINVAL (state
 * names no directory), PL_ETOOBIG (the path would be too long: path holds
 * the directory then) or PL_EIO with errno set and *stage saying what
 * failed ("create", "write" or "sync" the file in path). Not thread-safe
 * for the same directory within one second.
 */
int pl_member_evidence_save(struct pl_client_split *sp, const struct pl_vkey *log_key,
                            const char *state, char path[static PL_PROFILE_PATH_MAX + 1],
                            const char **stage) PL_WUR;

/* ---- The thread index: a member's check of its own records ---- */

/* What a member's check of one of its records under one key found (docs/index.md §7). */
enum pl_member_index_verdict {
	PL_MEMBER_INDEX_LISTED = 0,   /* the proof holds and lists the record */
	PL_MEMBER_INDEX_OMITTED = 1,  /* the proof holds and does not list it: evidence */
	PL_MEMBER_INDEX_INVENTED = 2, /* the proof holds and lists another id at the record's log
	                                 index, or the record's id at another index: evidence */
	PL_MEMBER_INDEX_UNPROVEN = 3, /* the proof does not parse or does not verify against the
	                                 root: not evidence, the exchange failed to prove */
};

/*
 * Judges the index proof proof[0..len) (docs/index.md §4.3, as the
 * exchange served it) of key under root (the root of an `index` record
 * whose inclusion the caller proved), for the member's record id at log
 * index, which names key in a `ref` and lies below that index record.
 * Pure; thread-safe.
 */
enum pl_member_index_verdict pl_member_index_judge(const char *proof, size_t len,
                                                   const uint8_t key[static PL_HASH_BYTES],
                                                   const uint8_t root[static PL_HASH_BYTES],
                                                   uint64_t index,
                                                   const uint8_t id[static PL_HASH_BYTES]);

/* A short word for a verdict: "listed", "omission", "invention", "unproven" (static). */
const char *pl_member_index_verdict_name(enum pl_member_index_verdict v);

/*
 * The evidence of an index that omits or invents a member's record
 * (docs/index.md §7.1). Every text is signed or verifiable as given: the
 * caller keeps the bytes as received. Strings need not be NUL-terminated;
 * they are borrowed.
 */
struct pl_member_index_lie {
	const char *exchange; /* the exchange's base URL, as the profile names it */
	const char *log_key;  /* the pinned log verifier key, in its text form */
	int64_t detected;
	enum pl_member_index_verdict verdict; /* OMITTED or INVENTED */
	uint8_t key[PL_HASH_BYTES];           /* the id the record names in a `ref` */
	uint64_t index;                       /* the member's record: its log index, its id */
	uint8_t id[PL_HASH_BYTES];
	uint64_t index_at; /* the `index` record: its log index (a checkpoint's size - 1) */
	const char *index_record, *index_inclusion, *tindex_proof, *record, *record_inclusion;
	size_t index_record_len, index_inclusion_len, tindex_proof_len, record_len,
	        record_inclusion_len;
};

/* The first line of the evidence text. */
#define PL_MEMBER_INDEX_LIE_VERSION "parley/index-lie/v1"

/*
 * Appends the text of e (docs/index.md §7.1, version 1) to out. Returns 0,
 * PL_EINVAL (a verdict that is not evidence, a missing part, a text that
 * does not end in a newline, an exchange or log key with a control
 * character) or a pl_buf error.
 */
int pl_member_index_lie_format(const struct pl_member_index_lie *e, struct pl_buf *out) PL_WUR;

/*
 * Writes e to a new file index-lie-<time>.txt beside the local state file
 * state, as pl_member_evidence_save() does for two histories (never over an
 * older file, mode 0644, synced), its path to path. Returns as
 * pl_member_evidence_save() does, or pl_member_index_lie_format()'s errors.
 */
int pl_member_index_lie_save(const struct pl_member_index_lie *e, const char *state,
                             char path[static PL_PROFILE_PATH_MAX + 1], const char **stage) PL_WUR;

/*
 * Where the index check reads what the exchange serves: the client of a
 * member (parley agent) or memory (tests). Each appends to out and returns
 * 0 or a negative PL_E... code, returned as is.
 */
struct pl_member_index_source {
	void *ctx;
	/* The record at log index `index`, its signed note as logged. */
	int (*record_at)(void *ctx, uint64_t index, struct pl_buf *out);
	/* The c2sp.org/tlog-proof of the record whose id is hex, at tree size size. */
	int (*inclusion)(void *ctx, const char *hex, uint64_t size, struct pl_buf *out);
	/* The index proof of key at size (GET /index/<key>?size=N). */
	int (*index_proof)(void *ctx, const uint8_t key[static PL_HASH_BYTES], uint64_t size,
	                   struct pl_buf *out);
};

/* What the check of one record found; the parts of the evidence when it is evidence. */
struct pl_member_index_found {
	enum pl_member_index_verdict verdict; /* LISTED when every key lists the record */
	uint8_t key[PL_HASH_BYTES];           /* the key of the verdict, when not LISTED */
	uint64_t index_at;                    /* the `index` record's log index */
	size_t nkeys;                         /* keys checked */
	struct pl_buf index_record, index_inclusion, tindex_proof;
};

/* Frees what f holds and zeroes it. A zeroed f is a no-op. */
void pl_member_index_found_release(struct pl_member_index_found *f);

/*
 * The first index after a member's record r (text[0..len)), which the
 * exchange logged with the receipt rc: the `index` record at rc->size - 1,
 * the last entry of the receipt's checkpoint. Checks the receipt
 * (pl_member_receipt_check()), reads that record and its inclusion proof at
 * rc->size (the same checkpoint), then for each id r names in a `ref`, once,
 * the index proof at rc->size, judged by pl_member_index_judge(); stops at
 * the first that is not listed. Fills *out (zeroed first; release it).
 * Returns 0 (out->verdict says), PL_ENOTFOUND when the checkpoint's last
 * entry is not an index record (an exchange that keeps no index) or r is
 * that entry, PL_EINCONSISTENT when the index record's proof carries
 * another checkpoint of that size (two histories), the receipt's or the
 * proof's errors, or the source's.
 */
int pl_member_index_check(const struct pl_member_index_source *src, const struct pl_receipt *rc,
                          const struct pl_record *r, const char *text, size_t len,
                          const char *origin, const struct pl_vkey *log_key,
                          struct pl_member_index_found *out) PL_WUR;

#endif
