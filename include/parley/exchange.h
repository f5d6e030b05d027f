/* The exchange engine: validates, sequences and durably logs records; serves what parleyd
 * publishes. */
#ifndef PARLEY_EXCHANGE_H
#define PARLEY_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/box.h>
#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>
#include <parley/line.h>
#include <parley/party.h>
#include <parley/receipt.h>

/*
 * One exchange: a log key, a store in a data directory, one sequencer thread
 * that owns the Merkle tree, and a timer thread for deadlines.
 *
 * Threading: after pl_exchange_open() every function below may be called from
 * any number of threads at once, except pl_exchange_close(). Submissions are
 * validated in the caller's thread (signatures are the CPU cost, so they are
 * checked in parallel) and then queued to the sequencer, which appends a
 * whole batch, its chain heads, its Merkle hashes and one signed checkpoint in
 * one transaction, commits, writes the checkpoint to the published file,
 * syncs the WAL while a companion thread syncs that file, and only then
 * acknowledges each submitter. The code (src/lib/exchange*.c, one file per
 * part, around src/lib/exchange_int.h) says beside each function which of
 * these threads runs it.
 *
 * Files in the data directory (created by pl_exchange_init()):
 *   parley.db   the store (SQLite, WAL)       log.key   the log's signer key (0600)
 *   log.vkey    the log's verifier key         parley.lock  held while open (one process)
 *   published   the newest checkpoint the exchange signed, kept outside the store (G7):
 *               two 4096-byte slots written in turn, each empty or
 *               "parley/published/v1 <length>\n" and the signed note, then zeros. Each
 *               batch's checkpoint is made durable there, beside the commit's own sync,
 *               before anything signed at its size leaves the exchange. Back up and
 *               restore the directory as a whole; deleting this file to force a start
 *               would let the exchange fork its log.
 * parley.lock is locked exclusively by pl_exchange_open() and shared by
 * pl_exchange_verify(), so that neither runs beside an open exchange.
 */
struct pl_exchange;

#define PL_EXCHANGE_AUTHOR         "exchange" /* author of the exchange's own records */
#define PL_EXCHANGE_DB_FILE        "parley.db"
#define PL_EXCHANGE_KEY_FILE       "log.key"
#define PL_EXCHANGE_VKEY_FILE      "log.vkey"
#define PL_EXCHANGE_LOCK_FILE      "parley.lock"
#define PL_EXCHANGE_PUBLISHED_FILE "published"
#define PL_EXCHANGE_REASON_MAX     256 /* bytes in a refusal reason, NUL included */
#define PL_EXCHANGE_ID_PREFIX_MIN  8   /* hex digits in the shortest accepted id prefix */

/* Defaults of struct pl_exchange_options, tuned for low latency. */
#define PL_EXCHANGE_DEFAULT_BATCH_MAX         256
#define PL_EXCHANGE_DEFAULT_BATCH_AGE_US      1000
#define PL_EXCHANGE_DEFAULT_IDLE_US           100
#define PL_EXCHANGE_DEFAULT_TIME_TOLERANCE    300 /* seconds */
#define PL_EXCHANGE_DEFAULT_TIMER_MS          1000
#define PL_EXCHANGE_DEFAULT_PAYLOAD_MAX       PL_BOX_MAX_BYTES /* the largest well-formed blob */
#define PL_EXCHANGE_DEFAULT_READERS           8                /* pooled read connections */
#define PL_EXCHANGE_DEFAULT_PAYLOAD_RETENTION 86400 /* seconds an unreferenced blob is kept */
/* payload_unreferenced_max by default: this many times payload_max. */
#define PL_EXCHANGE_UNREFERENCED_PER_PAYLOAD_MAX 4
#define PL_EXCHANGE_LINES_MAX                    32  /* checked lines */
#define PL_EXCHANGE_LINE_PAGE_MAX                256 /* checks in one pl_exchange_line() page */
#define PL_EXCHANGE_AUDITORS_MAX                 16  /* designated auditors */
#define PL_EXCHANGE_MISSED_MAX                   64  /* missed one pass logs per line at most */
/*
 * The reader name of the exchange's own view: every record (its operator's
 * tools and tests). No request can carry it: no party may hold the name.
 */
#define PL_EXCHANGE_READER_ALL PL_EXCHANGE_AUTHOR

/*
 * Tunables, filled by pl_exchange_options_default() and then from
 * parleyd.conf. Zero in a numeric field means "the default", except in
 * batch_age_us, where it means "do not wait for more records".
 */
struct pl_exchange_options {
	/* A batch is flushed when it holds batch_max records, when its oldest record
	 * has waited batch_age_us, or as soon as no submission arrived for
	 * batch_idle_us (so a lone submission is hardly held back). Records that
	 * arrive while a batch commits form the next one. */
	uint32_t batch_max;
	uint32_t batch_age_us;
	/* How long no submission may arrive for the queue to count as idle
	 * (0: PL_EXCHANGE_DEFAULT_IDLE_US). */
	uint32_t batch_idle_us;
	/* Largest accepted difference between a record's time and the exchange
	 * clock, in seconds. */
	uint32_t time_tolerance_s;
	/* How often the timer thread looks for passed deadlines. */
	uint32_t timer_interval_ms;
	/* Largest payload blob accepted by pl_exchange_payload_put(). */
	uint64_t payload_max;
	/* Seconds a blob no logged record refers to is kept after its upload; the
	 * timer thread then deletes it (0: PL_EXCHANGE_DEFAULT_PAYLOAD_RETENTION). */
	uint32_t payload_retention_s;
	/* Bytes of unreferenced blobs one uploader may hold at once; an upload
	 * past it is refused (0: PL_EXCHANGE_UNREFERENCED_PER_PAYLOAD_MAX times
	 * payload_max). */
	uint64_t payload_unreferenced_max;
	/* Read connections kept open for the read functions. */
	uint32_t readers;
	/* Wall clock in Unix seconds; NULL means time(). Tests inject one to make
	 * deadlines pass. Called from any thread. */
	int64_t (*clock)(void *arg);
	void *clock_arg;
	/* When true no timer thread runs; deadlines fire only in
	 * pl_exchange_run_timers(). For tests. */
	bool manual_timers;
	/*
	 * Called from the sequencer thread after each durable commit, with the new
	 * tree size, before the submitters are woken. Must not block and must not
	 * call back into the exchange (use it to wake SSE streams or long polls of
	 * the HTTP layer; or use pl_exchange_wait()). May be NULL.
	 */
	void (*on_append)(void *arg, uint64_t size);
	void *on_append_arg;
	/*
	 * The checked lines (parleyd.conf `line`): at each due time the timer
	 * logs a `check` of the line to both ends, with the window as its
	 * deadline, and once the deadline has passed an `unanswered` naming the
	 * ends that did not answer. Deadlines survive a restart. A due time the
	 * exchange could not check in its window (it was closed or stalled) is
	 * never made up: it logs a `missed` for it instead, on restart for a line
	 * configured the same way when it last ran (at most
	 * PL_EXCHANGE_MISSED_MAX per line and pass, the earliest first).
	 */
	size_t nlines;
	struct pl_line lines[PL_EXCHANGE_LINES_MAX];
	/*
	 * The designated auditors (parleyd.conf `auditors`): parties that read
	 * every record and the entry bundles (docs/api.md, "Who reads what").
	 * Everyone else reads what concerns it (include/parley/visibility.h).
	 */
	size_t nauditors;
	char auditors[PL_EXCHANGE_AUDITORS_MAX][PL_RECORD_NAME_MAX + 1];
};

/* Fills o with the defaults above and no callbacks. */
void pl_exchange_options_default(struct pl_exchange_options *o);

/*
 * Creates a new exchange in the existing, empty-enough directory dir: the
 * store (with origin recorded in it), a fresh log key (log.key, mode 0600),
 * log.vkey and the published file holding the empty tree's checkpoint. origin is the log's origin
 * line and key name (e.g. "hotline.example"). On success copies the log's verifier key to *vk.
 * Returns 0, PL_EINVAL (bad origin), PL_EEXIST (dir already holds a store, a
 * key or a published file), PL_EIO, PL_ESTORE. Not thread-safe with an open exchange on the same
 * dir.
 */
int pl_exchange_init(const char *dir, const char *origin, struct pl_vkey *vk) PL_WUR;

/*
 * pl_exchange_init() with the store in the PostgreSQL database at url (a
 * libpq URI: postgresql://[user@]host[:port]/dbname[?...]) instead of the
 * SQLite file: records the location in dir (store.url, mode 0600; a password
 * belongs in ~/.pgpass, not in the URI), where every later open of dir finds
 * it, and creates the schema there (docs/postgresql.md). On failure dir names
 * no store. Returns what pl_exchange_init() does, and PL_EMALFORMED or
 * PL_ETOOBIG for a url that is not such a URI, PL_EEXIST when dir already
 * names a store or the database holds one.
 */
int pl_exchange_init_store(const char *dir, const char *origin, const char *url,
                           struct pl_vkey *vk) PL_WUR;

/*
 * Moves the SQLite store of the stopped exchange in dir into the PostgreSQL
 * database at url, which must hold no store: records, references, chain
 * heads, stored hashes, every checkpoint and the cosigned one, parties and
 * their revocations, inboxes, payloads with their uploaders and references,
 * timers, in one transaction, each read back and compared as it is written;
 * then records url as dir's store (as pl_exchange_init_store() does). The SQLite
 * file is left as it was, unused. Not copied, because the exchange makes
 * them again when it opens the store: the thread index's nodes (built from
 * the references; older checkpoints then have none) and the lines' texts
 * (from parleyd.conf). Run pl_exchange_verify() on dir afterwards. Returns
 * 0, PL_ESTATE (the exchange runs, or a blob predates uploaders), PL_EEXIST
 * (already moved, or the database holds a store), PL_EDAMAGED (something
 * read back differs), PL_ESTORE, PL_EIO, PL_ENOMEM, with what failed
 * appended to err (may be NULL).
 */
int pl_exchange_migrate(const char *dir, const char *url, struct pl_buf *err) PL_WUR;

/*
 * Opens the exchange in dir, checks the store (schema; the latest
 * checkpoint verifies with the log key; record count and stored hashes match
 * its size; the stored hashes give its root; the newest records hash to their
 * leaves) and holds it to the newest checkpoint the exchange signed, read from
 * PL_EXCHANGE_PUBLISHED_FILE: a store smaller than that checkpoint, or whose
 * tree at its size gives another root, is refused with PL_ESTORE and a
 * detail naming both sizes, what is missing and how to recover, so that a
 * damaged store is refused instead of forking the tree. A store ahead of the
 * file is accepted and the file brought up to it; without the file, a store
 * made before the file existed gets one from its store, while a store that
 * was kept with one (it records that) is refused. Then
 * starts the sequencer, its file syncer, the WAL checkpointer and the timer
 * thread. opts may be NULL for the
 * defaults. On success *out owns everything; free with pl_exchange_close(). Returns 0, PL_ENOTFOUND
 * (no store), PL_ESTORE (corrupt or unreadable store, a store behind what was published, or a
 * published file of which no copy verifies; see errdetail), PL_EIO (key or published file),
 * PL_ESTATE (another process has it open), PL_EKEY (log key does not match), PL_ENOMEM. If
 * errdetail is not NULL, a description of a failure is appended to it.
 */
int pl_exchange_open(struct pl_exchange **out, const char *dir,
                     const struct pl_exchange_options *opts, struct pl_buf *errdetail) PL_WUR;

/*
 * Changes, while the exchange serves, what opts says of the checked lines
 * (nlines, lines) and the auditors (nauditors, auditors); every other field
 * of opts is ignored (it is fixed at open). Sequenced like a record: the
 * sequencer keeps each line's definition in the store, commits, and only then
 * swaps the new set in, so a reader sees the old set or the new one, never a
 * mix. A line whose definition is unchanged keeps its schedule; a new or
 * changed one is first due at its next time from now (no check is made up);
 * a line taken out is no longer checked but still reported
 * (pl_exchange_line()). opts is read only during the call. The zones of
 * lines checked in one (pl_line_is_zoned()) are loaded first (pl_tz_load()).
 * Returns 0, PL_EINVAL (NULL, or more than the maxima), PL_ENOTFOUND (a line's
 * time zone is not in the tz database) or another pl_tz_load() error, PL_ESTATE
 * (shutting down), PL_ESTORE. Thread: any but the sequencer's; waits for the commit.
 */
int pl_exchange_reconfigure(struct pl_exchange *ex, const struct pl_exchange_options *opts) PL_WUR;

/*
 * Stops accepting submissions (they then fail with PL_ESTATE), lets the
 * sequencer finish and commit what is queued (publishing its checkpoint),
 * stops the timers and wakes every pl_exchange_wait(). Idempotent;
 * safe from any thread, including a signal-watching one. Reads keep working
 * until pl_exchange_close().
 */
void pl_exchange_shutdown(struct pl_exchange *ex);

/* Shuts down (as above) and frees everything. NULL is a no-op. No other call may be in flight. */
void pl_exchange_close(struct pl_exchange *ex);

/* The log's origin and verifier key. Valid until pl_exchange_close(). */
const char *pl_exchange_origin(const struct pl_exchange *ex);
const struct pl_vkey *pl_exchange_vkey(const struct pl_exchange *ex);

/*
 * Copies into out (NUL-terminated, truncated to outlen) the detail of the
 * last store error (SQLite's message and the statement it came from), for the
 * operator's log; never for clients. Thread-safe.
 */
void pl_exchange_last_error(struct pl_exchange *ex, char *out, size_t outlen);

/* ---- Submissions ------------------------------------------------------ */

/*
 * Why a submission was refused, for the client: a one-line reason, and for
 * PL_ECHAIN the author's current chain head (has_head false when the key has
 * no record yet, so the next record must be its first).
 */
struct pl_exchange_refusal {
	char reason[PL_EXCHANGE_REASON_MAX];
	bool has_head;
	uint64_t head_seq;
	uint8_t head_id[PL_HASH_BYTES];
	uint64_t head_index;
};

/*
 * Submits one signed record (rec[0..len), the whole signed note) and waits
 * until it is durably committed. The record's author must be a registered,
 * unrevoked party; authenticating the HTTP request that carried it is the
 * caller's business (compare the authenticated party with the record's author
 * if the caller requires it).
 *
 * Checks, in order: size (PL_ETOOBIG), grammar and exchange name
 * (PL_EMALFORMED), author registered and not revoked (PL_EDENIED), signature
 * (PL_EVERIFY), references to unknown records or payloads (PL_ENOTFOUND),
 * time tolerance and the record rules (PL_ERULE), chain seq/prev (PL_ECHAIN,
 * with the head in *why; a second record with the same seq in one batch is
 * refused this way too). A record already in the log is PL_EEXIST with its
 * index in why->head_index. Store failures are PL_ESTORE; after shutdown
 * PL_ESTATE.
 *
 * On success fills *out (the caller releases it with pl_receipt_release()).
 * On failure *out is untouched and, if why is not NULL, *why explains. Blocks
 * the calling thread for about one batch.
 */
int pl_exchange_submit(struct pl_exchange *ex, const char *rec, size_t len, struct pl_receipt *out,
                       struct pl_exchange_refusal *why) PL_WUR;

/*
 * Called once per pl_exchange_submit_async(): status is 0 with r filled, or
 * an error with r NULL and why filled. r and its strings are valid during the
 * call and released right after it returns; a callback that keeps a string
 * takes it by copying the pointer and setting the field to NULL.
 * Runs on the caller's thread when validation fails, else on the sequencer
 * thread after the commit: it must be quick and must not call back into the
 * exchange (e.g. resume a suspended HTTP connection).
 */
struct pl_exchange_done {
	void (*fn)(void *arg, int status, struct pl_receipt *r,
	           const struct pl_exchange_refusal *why);
	void *arg;
	/*
	 * Optional: asked once the record's signature has verified, with the
	 * name of the key that made it, before any rule is judged; false refuses
	 * the submission with PL_ELIMIT. Lets a server rate-limit submissions
	 * per key when the record's own signature is what authenticates them.
	 * Runs on the caller's thread.
	 */
	bool (*admit)(void *arg, const char *key_name);
};

/*
 * Like pl_exchange_submit() but returns after validation and queueing. The
 * record is copied. Returns 0 when queued (done->fn is then called exactly
 * once later), or the validation error (done->fn is called before return with
 * the same error). Lets an event-driven server keep many submissions in
 * flight with few threads.
 */
int pl_exchange_submit_async(struct pl_exchange *ex, const char *rec, size_t len,
                             const struct pl_exchange_done *done);

/*
 * The receipt of the record already logged at index, as a retried
 * submission of it is answered (idempotently): its tlog-proof under the
 * latest signed checkpoint. The record is read and checked as
 * pl_exchange_record_at() reads it. On success fills *out (the caller
 * releases it with pl_receipt_release()). Returns 0, PL_ENOTFOUND (index not
 * below the latest checkpoint's size), PL_EDAMAGED, PL_ESTORE, PL_ENOMEM.
 * Thread-safe.
 */
int pl_exchange_receipt_get(struct pl_exchange *ex, uint64_t index, struct pl_receipt *out) PL_WUR;

/*
 * Stores a payload blob (the ciphertext of a message, docs/payloads.md),
 * content-addressed by SHA-256, written to hash. uploader is the
 * authenticated party, which must be a member, and is recorded: until a
 * logged record names the blob in its `payload` line only the uploader may
 * fetch it, and if none does within payload_retention_s the timer deletes
 * it (a record naming it then is refused as naming an unknown payload).
 * The blob's readers are the parties whose registered encryption key has a
 * reader slot in it (pl_box_has_reader()). Storing the same bytes again
 * succeeds (by its uploader, before a record refers to it, its retention
 * starts again). Durable on return. Returns 0, PL_ETOOBIG (over
 * payload_max), PL_EMALFORMED (not a well-formed blob), PL_EDENIED
 * (uploader not a member), PL_ELIMIT (the uploader's unreferenced blobs
 * would exceed payload_unreferenced_max bytes), PL_ESTORE, PL_ESTATE.
 */
int pl_exchange_payload_put(struct pl_exchange *ex, const char *uploader, const uint8_t *blob,
                            size_t len, uint8_t hash[static PL_HASH_BYTES]) PL_WUR;

/*
 * Fetches a payload blob for reader, an active member (or an auditor).
 * Its uploader may; once a logged record names the blob, so may whoever may
 * read the first record that named it (need-to-know, as for records). A blob
 * whose naming record the store did not keep (a blob stored before uploaders
 * were recorded counts as referred to) goes to the parties it is sealed to
 * and the auditors. On success *blob is malloc'd (free()), *len its size.
 * Returns 0, PL_ENOTFOUND (no such blob, deleted unreferenced, or one reader
 * may not have: the two answer alike), PL_ESTORE.
 */
int pl_exchange_payload_get(struct pl_exchange *ex, const char *reader,
                            const uint8_t hash[static PL_HASH_BYTES], uint8_t **blob,
                            size_t *len) PL_WUR;

/* ---- Parties (operator commands) -------------------------------------- */

/*
 * A directory entry. Strings are NUL-terminated copies owned by the caller's
 * struct (fixed-size, nothing to free).
 */
struct pl_exchange_party {
	char name[PL_KEY_NAME_MAX + 1];           /* party name, e.g. "unc" */
	struct pl_vkey vkey;                      /* signing key, named <origin>/<name> */
	char enc_key[PL_PARTY_EKEY_TEXT_MAX + 1]; /* encryption key, party module text form */
	uint64_t register_index;                  /* log index of its register record */
	uint8_t register_id[PL_HASH_BYTES];
	bool revoked;
	uint64_t revoke_index; /* valid when revoked */
};

/*
 * Registers a party by appending an exchange-signed `register` record (the
 * directory is itself in the log). vkey_text is the party's verifier key
 * (its name must be <origin>/<name>), enc_key_text its encryption key in the
 * party module's text form (same key name). docs/records.md requires every
 * register to carry the party's self-signature: self[0..nself) is the
 * party's signer key (one: the directory keeps one signing key per party).
 * An operator who holds only the public keys uses pl_exchange_party_prepare()
 * and pl_exchange_party_complete() instead. A revoked party returns this way
 * (docs/keys.md §3): the register names its previous one (`ref previous`),
 * its directory entry takes the new key, and its old key is refused.
 * Waits for the commit; *out as for
 * pl_exchange_submit() (may be NULL). Returns 0, PL_EINVAL (bad name),
 * PL_EMALFORMED (bad key text), PL_EKEY (wrong key names, or self missing or
 * not the key of vkey_text), PL_EEXIST (name already registered), PL_ERULE,
 * PL_ESTORE, PL_ESTATE.
 */
int pl_exchange_party_add(struct pl_exchange *ex, const char *name, const char *vkey_text,
                          const char *enc_key_text, const struct pl_skey *self, size_t nself,
                          struct pl_receipt *out) PL_WUR;

/*
 * Revokes a party by appending an exchange-signed `revoke` record; its key
 * may no longer submit or authenticate. self as for pl_exchange_party_add()
 * (a revoke carries the self-signature of the key leaving). Returns 0,
 * PL_ENOTFOUND (no such active party), PL_EKEY (self missing or not the
 * party's key), PL_ERULE, PL_ESTORE, PL_ESTATE. *out as above (may be NULL).
 */
int pl_exchange_party_revoke(struct pl_exchange *ex, const char *name, const struct pl_skey *self,
                             size_t nself, struct pl_receipt *out) PL_WUR;

/*
 * Evicts a party without its signature (docs/records.md §6, §7): appends a
 * `revoke` of every active key of the party, signed by the exchange alone,
 * whose `reason` line (reason: one line of clean text, 1 to
 * PL_RECORD_REASON_MAX bytes) says why; timelines and dossiers show the
 * operator acted, not the party. Its key may no longer submit or
 * authenticate. Waits for the commit; *out as for pl_exchange_submit() (may
 * be NULL). Returns 0, PL_EINVAL, PL_EMALFORMED (a reason the record grammar
 * refuses), PL_ENOTFOUND (no such active party), PL_ERULE, PL_ESTORE,
 * PL_ESTATE.
 */
int pl_exchange_party_evict(struct pl_exchange *ex, const char *name, const char *reason,
                            struct pl_receipt *out) PL_WUR;

/*
 * The first of the two steps docs/records.md describes for a register or
 * revoke when the party's signer key is elsewhere: appends to text the
 * record text (no signatures) that the exchange would log now, with its next
 * seq and prev, for the party to sign with each key of its `key` lines (e.g.
 * `parley note sign`). For a revoke (revoke true) the keys come from the
 * directory and vkey_text, enc_key_text may be NULL. Returns 0, PL_EINVAL,
 * PL_EMALFORMED/PL_EKEY (bad keys), PL_EEXIST (already registered),
 * PL_ENOTFOUND (no such active party), PL_ESTORE, or a pl_buf error.
 */
int pl_exchange_party_prepare(struct pl_exchange *ex, bool revoke, const char *name,
                              const char *vkey_text, const char *enc_key_text,
                              struct pl_buf *text) PL_WUR;

/*
 * The second step: msg[0..len) is the prepared text as a signed note
 * carrying exactly the party's self-signatures, in the order of the `key`
 * lines. Checks them, adds the exchange's signature before them and logs the
 * record; waits for the commit; *out (may be NULL) as for pl_exchange_submit().
 * Returns 0, PL_EMALFORMED (not such a note), PL_EINVAL (not a register or
 * revoke of this exchange, or the wrong signatures), PL_EVERIFY (a
 * self-signature does not verify), PL_ECHAIN (the exchange logged other
 * records since the text was prepared: prepare again), PL_EEXIST,
 * PL_ENOTFOUND, PL_ERULE, PL_ESTORE, PL_ESTATE.
 */
int pl_exchange_party_complete(struct pl_exchange *ex, const char *msg, size_t len,
                               struct pl_receipt *out) PL_WUR;

/* Looks up a party by name (revoked ones too). Returns 0, PL_ENOTFOUND, PL_ESTORE. */
int pl_exchange_party_get(struct pl_exchange *ex, const char *name,
                          struct pl_exchange_party *out) PL_WUR;

/*
 * The directory, in registration order: *out is a malloc'd array of *n
 * entries (free()). Returns 0, PL_ENOMEM, PL_ESTORE.
 */
int pl_exchange_parties(struct pl_exchange *ex, struct pl_exchange_party **out, size_t *n) PL_WUR;

/* ---- Reads -------------------------------------------------------------- */

/*
 * The store is not trusted to be what the exchange wrote: every read below
 * that hands out records, an entry bundle or a hash tile checks them first,
 * up to the signed root of the published checkpoint: a record against its id
 * and the stored leaf hash at its index; an entry bundle's entries against
 * the level-0 tile; a hash tile against the stored hash one tile level up,
 * and so on to the tree's right edge, whose partial tiles must give the
 * checkpoint's root. A full tile once checked is remembered. When a check
 * fails the read returns PL_EDAMAGED, never the damaged bytes, and what
 * failed (the record index or tile, expected and found hash prefixes) is kept
 * for pl_exchange_last_error(). Records logged but not yet published (the
 * moment between a batch's commit and its checkpoint) are not handed out.
 */

/* One logged record. */
struct pl_exchange_entry {
	uint64_t index;
	uint8_t id[PL_HASH_BYTES];
	char *note; /* the signed record, NUL-terminated; owned by the list or entry */
	size_t note_len;
};

/* A list of records in log order; next is the cursor to pass for what follows. */
struct pl_exchange_list {
	struct pl_exchange_entry *v;
	size_t n;
	uint64_t next;
};

/* Free what a read returned. NULL or zeroed structs are no-ops. */
void pl_exchange_entry_release(struct pl_exchange_entry *e);
void pl_exchange_list_release(struct pl_exchange_list *l);

/* Current tree size (the size of the latest published checkpoint). */
uint64_t pl_exchange_size(struct pl_exchange *ex);

/*
 * Appends the latest signed checkpoint (or, with pl_exchange_checkpoint_at(),
 * the one signed at exactly tree size `size`) to out.
 * Returns 0, PL_ENOTFOUND, PL_ESTORE, or the pl_buf error.
 */
int pl_exchange_checkpoint(struct pl_exchange *ex, struct pl_buf *out) PL_WUR;
int pl_exchange_checkpoint_at(struct pl_exchange *ex, uint64_t size, struct pl_buf *out) PL_WUR;

/*
 * Witness cosignatures (docs/witness.md). pl_exchange_checkpoint_cosign()
 * adds cosignature lines[0..len) (one or more "— name base64\n" lines, each
 * already verified by the caller against a configured witness key) to the
 * stored checkpoint of tree size `size`, through the sequencer, so that the
 * writer connection stays the sequencer's; durable on return. A line by a key
 * that already signed that checkpoint is left out. It then counts as
 * cosigned; the newest such checkpoint is what
 * pl_exchange_checkpoint_cosigned() appends to out (PL_ENOTFOUND when none),
 * and checkpoint reads at that size carry the lines from then on.
 * Returns 0, PL_EINVAL, PL_ENOTFOUND (no checkpoint at size), PL_EMALFORMED
 * (not signature lines), PL_ETOOBIG (signature limit), PL_ESTORE, PL_ESTATE
 * (shut down). Thread-safe.
 */
int pl_exchange_checkpoint_cosign(struct pl_exchange *ex, uint64_t size, const char *lines,
                                  size_t len) PL_WUR;
int pl_exchange_checkpoint_cosigned(struct pl_exchange *ex, struct pl_buf *out) PL_WUR;

/*
 * The tree size of the newest checkpoint a witness cosigned, 0 when none.
 * Thread-safe.
 */
uint64_t pl_exchange_cosigned_size(struct pl_exchange *ex);

/*
 * Appends the bytes of hash tile <level>/<n> (width 0 or PL_TILE_WIDTH means
 * a full tile, otherwise 1..PL_TILE_WIDTH-1 for a partial tile) as
 * c2sp.org/tlog-tiles serves them, for the current tree: a partial tile of
 * any width the tree has reached (a prefix of the full tile; once full, a
 * tile never changes). Returns 0, PL_ENOTFOUND (the tree is not yet that
 * large), PL_EINVAL (level or width out of range), PL_EDAMAGED, PL_ESTORE, a
 * pl_buf error.
 */
int pl_exchange_tile(struct pl_exchange *ex, unsigned level, uint64_t n, unsigned width,
                     struct pl_buf *out) PL_WUR;

/*
 * Same for the entry bundle tile/entries/<n>[.p/<width>]: each record as a
 * big-endian uint16 length and its bytes. A bundle holds every record of its
 * stretch of the log, so only an auditor reads it: PL_EDENIED for any other
 * reader (hash tiles are public, and prove a member's own records).
 */
int pl_exchange_entry_bundle(struct pl_exchange *ex, const char *reader, uint64_t n, unsigned width,
                             struct pl_buf *out) PL_WUR;

/*
 * Need-to-know: every read below that hands out records takes the reader,
 * the authenticated party's name (NULL: anyone, who reads only public
 * records; PL_EXCHANGE_READER_ALL: the exchange's own view), and hands out
 * only what it may read (include/parley/visibility.h; the parties named by
 * the options' auditors read everything). A record the reader may not read
 * is answered exactly as a record that does not exist (PL_ENOTFOUND), and a
 * list leaves it out without a trace in its count or cursor.
 */

/*
 * Finds a record by id text: the 64 hex digits of the full id (the record
 * module's form), or a prefix of at least PL_EXCHANGE_ID_PREFIX_MIN hex
 * digits (either case); only the records reader may read count.
 * Returns 0 with *out filled (release it), PL_EMALFORMED, PL_ENOTFOUND,
 * PL_EAMBIGUOUS (prefix matches several), PL_EDAMAGED, PL_ESTORE.
 */
int pl_exchange_record(struct pl_exchange *ex, const char *reader, const char *id, size_t len,
                       struct pl_exchange_entry *out) PL_WUR;

/* Same by log index. */
int pl_exchange_record_at(struct pl_exchange *ex, const char *reader, uint64_t index,
                          struct pl_exchange_entry *out) PL_WUR;

/*
 * Appends the c2sp.org/tlog-proof of the record at index against the
 * checkpoint at tree size `size` (0: the latest) to out. size must be one at
 * which a checkpoint was signed (every batch signs one). Returns 0,
 * PL_ENOTFOUND, PL_ERANGE (index >= size), PL_ESTORE.
 */
int pl_exchange_proof(struct pl_exchange *ex, uint64_t index, uint64_t size,
                      struct pl_buf *out) PL_WUR;

/*
 * Consistency proof between tree sizes old_size <= new_size <= current
 * size: writes *n hashes (at most PL_PROOF_MAX_HASHES) to hashes.
 * Returns 0, PL_ERANGE, PL_ESTORE.
 */
int pl_exchange_consistency(struct pl_exchange *ex, uint64_t old_size, uint64_t new_size,
                            uint8_t hashes[][PL_HASH_BYTES], size_t *n) PL_WUR;

/*
 * The proof of key's value in the thread index (docs/index.md §4.3, text
 * form) under the root of the `index` record at size - 1, the last entry of
 * the checkpoint of tree size `size` (0: the newest signed one), appended to
 * out. Its entries are exactly the records at indexes below size - 1 that
 * refer to key, in log order. key must be a record at an index below size
 * that reader (an authenticated party name) may read; a record it may not
 * read and an id that is no record answer alike, so that the answer does not
 * tell that a record exists. The index record is checked up to the signed
 * root, and the proof is verified against its root before it is handed out.
 * Returns 0, PL_ENOTFOUND (no checkpoint of that size ending with an index
 * record, or no such record for reader), PL_EDAMAGED, PL_ESTORE, PL_ENOMEM.
 * Thread-safe.
 */
int pl_exchange_index_proof(struct pl_exchange *ex, const char *reader,
                            const uint8_t key[static PL_HASH_BYTES], uint64_t size,
                            struct pl_buf *out) PL_WUR;

/*
 * The index record that ends the checkpoint of tree size `size` (0: the
 * newest), the record at size - 1, into *out (release it with
 * pl_exchange_entry_release()). Public: it holds only the thread index's root
 * (docs/index.md §5). Returns 0, PL_ENOTFOUND (no checkpoint of that size, or
 * one whose last entry is no index record: signed before the thread index),
 * PL_EDAMAGED, PL_ESTORE, PL_ENOMEM, PL_EINVAL. Thread-safe.
 */
int pl_exchange_index_record(struct pl_exchange *ex, uint64_t size,
                             struct pl_exchange_entry *out) PL_WUR;

/*
 * A thread: the record with this id (usually a send) and every record that
 * refers to it, transitively, in log order, as far as reader may read them
 * (the walk goes only through records it may read). Returns 0, PL_ENOTFOUND
 * (no such record, or one reader may not read), PL_EDAMAGED, PL_ESTORE,
 * PL_ENOMEM. At most `max` records (0: no limit but PL_ETOOBIG beyond an
 * internal cap).
 */
int pl_exchange_thread(struct pl_exchange *ex, const char *reader,
                       const uint8_t id[static PL_HASH_BYTES], size_t max,
                       struct pl_exchange_list *out) PL_WUR;

/* Public statements with log index >= after, at most max (0: a default page). */
int pl_exchange_statements(struct pl_exchange *ex, uint64_t after, size_t max,
                           struct pl_exchange_list *out) PL_WUR;

/*
 * Public statements with log index < before (0 or past the tree: from the
 * newest), newest first, at most max (0: a default page); out->next is the
 * `before` of the next older page (0 when this one reached the first
 * statement). Returns as pl_exchange_statements(). Thread-safe.
 */
int pl_exchange_statements_before(struct pl_exchange *ex, uint64_t before, size_t max,
                                  struct pl_exchange_list *out) PL_WUR;

/*
 * The inbox of a party: records with log index >= after that it should see —
 * those naming it as `to`, `via` or `party`; the records about a send,
 * consult or check it authored, relays or receives (receive, convey,
 * decline, accept, refuse, available, expire, advise, answer); and public
 * statements — at most max (0: a default page; at most 1000). The
 * recipients of a relayed send see nothing of it until it is conveyed. A
 * party's inbox is filled in the transaction that logs the record, so a
 * record is in it as soon as the tree size covers it. out->next is the
 * cursor for the next call (after the last record returned; `after` when
 * none). Only records the party may read are listed (an auditor's inbox is
 * still its own). For a long poll: read pl_exchange_size() first, then the inbox,
 * and if it is empty pl_exchange_wait() on that size. Returns 0 (possibly
 * with n == 0), PL_ENOTFOUND (no such party), PL_EDAMAGED, PL_ESTORE.
 */
int pl_exchange_inbox(struct pl_exchange *ex, const char *party, uint64_t after, size_t max,
                      struct pl_exchange_list *out) PL_WUR;

/*
 * The checks of the configured line named `line` made at or after `since`
 * (Unix seconds) and logged at index >= after, each followed by the
 * `answer` and `unanswered` records about it, and its `missed` records due
 * at or after `since` (each counts as a check here), all within the current tree
 * size, at most max checks (0 or above PL_EXCHANGE_LINE_PAGE_MAX: that
 * many). The checks are found in the inbox of the line's first registered
 * end, so a page costs a scan of that inbox from `after`. out->next is the
 * cursor for the next page; *more tells whether checks were left out.
 * Only the line's two ends and the auditors read it: to any other reader it
 * is PL_ENOTFOUND, as a line that does not exist.
 * Returns 0, PL_ENOTFOUND (no such line in the configuration), PL_ETOOBIG
 * (a check with too many records referring to it), PL_EDAMAGED, PL_ESTORE,
 * PL_ENOMEM.
 */
int pl_exchange_line(struct pl_exchange *ex, const char *reader, const char *line, int64_t since,
                     uint64_t after, size_t max, struct pl_exchange_list *out, bool *more) PL_WUR;

/*
 * Blocks until the tree size exceeds `size`, timeout_ms passes or the
 * exchange shuts down; returns the tree size then. For long polls: read the
 * inbox, and if empty wait with the cursor, then read again.
 */
uint64_t pl_exchange_wait(struct pl_exchange *ex, uint64_t size, int timeout_ms);

/* ---- Metrics ----------------------------------------------------------- */

/*
 * Appends the exchange's metrics to out in the Prometheus text format 0.0.4
 * (each family documented in parleyd(8)): records logged by kind, batch
 * sizes, commit and sync latency histograms, failed batches, the sequencer's
 * queue depth, the tree size and the age of the newest checkpoint (seconds
 * since it was published, or since the exchange opened when none was since;
 * by the exchange clock at now). The counters are atomics the sequencer
 * updates without a lock. Returns 0 or a pl_buf error. Thread-safe.
 */
int pl_exchange_metrics_write(struct pl_exchange *ex, int64_t now, struct pl_buf *out) PL_WUR;

/*
 * Seconds since the newest checkpoint was published (or the exchange opened),
 * by the exchange clock at now; 0 when the clock went back. Thread-safe.
 */
int64_t pl_exchange_checkpoint_age(struct pl_exchange *ex, int64_t now);

/* ---- Timers ------------------------------------------------------------ */

/*
 * Fires every timer due at the exchange clock now (an `expire` record for each
 * send whose deadline passed undecided, an `unanswered` for each check whose
 * window closed with an end silent, a `check` of each line that fell due), in one batch, and waits
 * for the commit. The timer thread calls this; tests call it after moving the clock. Returns the
 * number of records appended (>= 0) or an error.
 */
int pl_exchange_run_timers(struct pl_exchange *ex);

/* ---- Offline verification ------------------------------------------------ */

#define PL_EXCHANGE_VERIFY_FINDINGS_MAX 1000 /* findings reported (all are counted) */

/*
 * What pl_exchange_verify() tells its caller while it runs; every field may
 * be NULL. progress(arg, phase, done, total) reports a phase ("records",
 * then "hashes") every few thousand items and at its end; finding(arg, what)
 * reports one piece of damage as one line of text (what failed, where,
 * expected and found hash prefixes), valid during the call.
 */
struct pl_exchange_verify_cb {
	void (*progress)(void *arg, const char *phase, uint64_t done, uint64_t total);
	void (*finding)(void *arg, const char *what);
	void *arg;
};

/* What a verification went through. */
struct pl_exchange_verify_stats {
	uint64_t size;     /* tree size of the newest checkpoint */
	uint64_t records;  /* records checked */
	uint64_t hashes;   /* interior stored hashes recomputed */
	uint64_t payloads; /* payload blobs checked against their names */
	uint64_t indexes;  /* index records whose root was recomputed from the log */
	uint64_t findings; /* pieces of damage found */
};

/*
 * Verifies the whole exchange in dir, read-only, while no exchange has it
 * open: the newest checkpoint is signed by log.vkey for the store's origin
 * and its tree size matches the records and hashes stored; every record
 * gives its stored leaf hash and hashes to its id, its indexed fields agree
 * with its text and it follows the previous record of its author's chain;
 * every interior stored hash is the hash of the two below it; the stored
 * hashes give the checkpoint's root; every payload blob hashes to its name;
 * every index record's root is the thread index of the records before it,
 * recomputed from the log in one pass (the first one that differs is a
 * finding); and the store holds the tree of the newest checkpoint the exchange signed
 * (PL_EXCHANGE_PUBLISHED_FILE). Holds the data directory's lock shared
 * meanwhile, so that no exchange opens the store under it. Damage does not
 * stop the verification: each piece is a finding.
 * Returns 0 (sound; *stats filled if not NULL), PL_EDAMAGED (findings were
 * reported; *stats filled), PL_ESTATE (an exchange has the directory open),
 * PL_ENOTFOUND (no store), PL_EIO or PL_EMALFORMED/PL_EKEY (log.vkey or the
 * store cannot be read), PL_ENOMEM; a description of a failure other than
 * damage is appended to err (may be NULL). Thread-safe; takes time linear
 * in the log.
 */
int pl_exchange_verify(const char *dir, const struct pl_exchange_verify_cb *cb,
                       struct pl_exchange_verify_stats *stats, struct pl_buf *err) PL_WUR;

#endif
