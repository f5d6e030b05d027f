/* The store's backend interface, internal to libparley: what the exchange keeps and how. */
#ifndef PARLEY_STORE_H
#define PARLEY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/limits.h>
#include <parley/party.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

/*
 * The exchange's durable store: records, references, chain heads, Merkle
 * hashes, checkpoints, parties, inboxes, payloads and timers. This interface
 * is all the exchange knows of its storage; it speaks of those things, never
 * of files or journals, so that another backend (PostgreSQL) can fill it
 * without touching the exchange. store.c is the SQLite backend.
 *
 * The contract every backend keeps, and a new one is checked against
 * (tests/unit/test_store.c runs it on the SQLite one):
 *
 * Connections. A struct pl_store is one connection, used by one thread at a
 * time (the caller provides the locking, e.g. a pool of connections). Per
 * process at most one writer connection is open (pl_store_open(writer =
 * true)); any number of readers may read while it writes, and a reader
 * never blocks the writer nor waits for it beyond the backend's own short
 * locks. The caller keeps a second process out (the exchange's lock file).
 *
 * Atomicity. Everything the writer does between pl_store_begin() and
 * pl_store_commit() becomes visible all at once or not at all: after a
 * failed commit, a rollback or a crash, none of it is there. A write outside
 * a transaction is its own transaction.
 *
 * Durability. pl_store_commit() returns once the transaction survives a crash
 * of the process or of the machine; on a sequencer's writer
 * (pl_store_sequencer_start()) that point is pl_store_sync() instead, which
 * makes every commit before it durable. Nothing is reported durable before
 * it is.
 *
 * Ordering. The writer's commits are totally ordered. A reader's
 * pl_store_begin() takes a snapshot: its reads until the rollback see every
 * transaction committed before it began (made visible, on a sequencer's
 * writer, whether synced yet or not) and none after. A reader outside a
 * transaction sees the latest commit at each call. The writer sees its own
 * uncommitted writes.
 *
 * Errors. Every function returns 0 or a negative PL_E... code. A backend
 * failure (I/O, corruption, a lost connection) is PL_ESTORE, with the
 * backend's detail kept in pl_store_errmsg() for the operator's log; what
 * the store reads back is checked as hostile input and a value out of shape
 * is PL_ESTORE too, never a crash. Out-parameters are set only on success.
 *
 * Shape. Records are keyed by the log index with no holes; record ids and
 * payload hashes are looked up by value (the SQLite backend indexes an
 * 8-byte prefix and checks the full value on every lookup).
 */
struct pl_store;

#define PL_STORE_SCHEMA_VERSION 3
#define PL_STORE_KIND_MAX       15 /* bytes in a record kind */
#define PL_STORE_NAME_MAX       PL_PARTY_NAME_MAX
#define PL_STORE_KEY_TEXT_MAX   511 /* bytes in a stored key's text form */
/* bytes in a chain head's name: a party name, or "<party>+<hex key ID>" */
#define PL_STORE_CHAIN_MAX  (PL_RECORD_NAME_MAX + 1 + 2 * PL_KEYID_BYTES)
#define PL_STORE_ERRMSG_MAX 512

/*
 * The SQLite backend's file in the data directory (the exchange's
 * PL_EXCHANGE_DB_FILE; its WAL and shared-memory files sit beside it).
 */
#define PL_STORE_SQLITE_FILE "parley.db"

/*
 * The PostgreSQL backend (store_pg.c, built with -Dpostgresql): the data
 * directory's PL_STORE_LOCATION_FILE holds the database's libpq URI
 * (postgresql://... or postgres://..., one line of printable ASCII without
 * spaces, at most PL_STORE_URL_MAX bytes), written once by `parleyd init
 * --store` and read by every pl_store_probe/create/open of that directory:
 * the keys, the lock file and the published file stay in the directory,
 * the store is the database. Without that file the store is the SQLite file.
 */
#define PL_STORE_LOCATION_FILE "store.url"
#define PL_STORE_URL_MAX       1024

/*
 * Records in the new data directory dir that its store is the PostgreSQL
 * database at url (mode 0600: a URI may carry a password; better kept in
 * ~/.pgpass). Returns 0, PL_EEXIST (dir already names a store), PL_EMALFORMED
 * or PL_ETOOBIG (not such a URI), PL_EIO, PL_ENOMEM.
 */
int pl_store_locate(const char *dir, const char *url) PL_WUR;

/*
 * The parser of a location: text[0..len) (untrusted: a file's bytes) with
 * an optional final newline into out. 0, PL_EMALFORMED, PL_ETOOBIG.
 */
int pl__store_location_parse(const char *text, size_t len,
                             char out[static PL_STORE_URL_MAX + 1]) PL_WUR;

/*
 * The location recorded in dir into url: 0, PL_ENOTFOUND (none: SQLite),
 * PL_ESTORE (a file out of shape), PL_EIO, PL_ENOMEM.
 */
int pl__store_location(const char *dir, char url[static PL_STORE_URL_MAX + 1]) PL_WUR;

/*
 * pl_store_create() and pl_store_open() of the PostgreSQL store at url
 * itself (a location as pl_store_locate() takes it), for a migration into
 * it before any data directory names it. PL_EINVAL for a bad url; PL_ESTORE
 * when built without libpq.
 */
int pl_store_create_url(const char *url, const char *origin) PL_WUR;
int pl_store_open_url(struct pl_store **out, const char *url, bool writer,
                      struct pl_buf *err) PL_WUR;

/*
 * Whether a store exists in the data directory dir: 0, PL_ENOTFOUND (none),
 * PL_EIO (it cannot be looked at). Opens nothing, creates nothing.
 */
int pl_store_probe(const char *dir) PL_WUR;

/*
 * Creates a new store in the data directory dir with the schema and the
 * origin. Fails with PL_EEXIST when one exists there. Its files are created
 * mode 0600.
 */
int pl_store_create(const char *dir, const char *origin) PL_WUR;

/*
 * Opens the existing store of the data directory dir. writer selects a
 * connection that may write (one per process); readers are opened read-only.
 * Checks the schema version. Returns 0, PL_ENOTFOUND (no store), PL_ESTORE
 * (not a store, wrong schema, corrupt; detail appended to err if not NULL),
 * PL_ENOMEM.
 */
int pl_store_open(struct pl_store **out, const char *dir, bool writer, struct pl_buf *err) PL_WUR;

/*
 * Closes the connection (rolling back an open transaction; on a sequencer's
 * writer, stopping its upkeep as pl_store_maintain(s, true) does). NULL is a
 * no-op.
 */
void pl_store_close(struct pl_store *s);

/* The detail of the last PL_ESTORE on this connection ("" if none). */
const char *pl_store_errmsg(const struct pl_store *s);

/*
 * Transactions. pl_store_begin() on the writer takes the write lock at once
 * (BEGIN IMMEDIATE); on a reader it starts a read snapshot, so that several
 * reads see one state. pl_store_commit() returns once the transaction is
 * durable (on a sequencer's writer, pl_store_sequencer_start(): once
 * pl_store_sync() returns). pl_store_rollback() never fails (a failed
 * rollback closes nothing but is logged in errmsg).
 */
int pl_store_begin(struct pl_store *s) PL_WUR;
int pl_store_commit(struct pl_store *s) PL_WUR;
void pl_store_rollback(struct pl_store *s);

/*
 * Hands the writer s to a sequencer: one thread that commits batches and
 * tells no one of a batch before it is durable. From here on:
 *
 * - pl_store_commit() makes the batch atomic and visible (a reader that
 *   begins after it returns sees all of it) but not yet durable, so that the
 *   owner can make something of its own durable at the same time;
 * - pl_store_sync() makes every commit so far durable (a crash after it
 *   returns loses none of them); the owner calls it after each commit,
 *   before it tells anyone of the batch;
 * - pl_store_maintain(s, false) does the backend's upkeep, called between
 *   batches after the submitters are answered; it must stay cheap when there
 *   is nothing to do (it runs once per batch) and never block readers.
 *   pl_store_maintain(s, true), once no batch will follow, stops the upkeep
 *   and leaves the store as compact as it can (SQLite: the WAL copied into
 *   the database).
 *
 * Starts what background work the backend needs (SQLite: a checkpointer
 * thread on a connection of its own); pl_store_close() stops it. All four
 * calls on s are made by one thread at a time. pl_store_maintain() also
 * returns a failure of that background work since its last call, with its
 * detail in pl_store_errmsg(s).
 */
int pl_store_sequencer_start(struct pl_store *s) PL_WUR;
int pl_store_sync(struct pl_store *s) PL_WUR;
int pl_store_maintain(struct pl_store *s, bool last) PL_WUR;

/*
 * The fence of a log shared by several processes (PostgreSQL: several
 * parleyd on one database). A sequencer's writer whose view of the log is
 * stale (another sequencer committed meanwhile: the records it appends are
 * not at the log's end, or the checkpoint it puts is not past the log head)
 * fails that call with PL_ESTATE, its batch rolls back instead of forking
 * the log, and from then on pl_store_fenced(s) is true: the owner stops
 * sequencing and tells its submitters to retry (never acknowledges them).
 * Always false on SQLite, which one process holds alone.
 */
bool pl_store_fenced(const struct pl_store *s);

/*
 * Whether the exchange keeps its published file beside this store
 * (PL_EXCHANGE_PUBLISHED_FILE): marked once the file exists, so that a store
 * found without the file is known to have lost it, not to predate it.
 * published_mark is a writer's (in a transaction or not); published_marked
 * sets *out.
 */
int pl_store_published_mark(struct pl_store *s) PL_WUR;
int pl_store_published_marked(struct pl_store *s, bool *out) PL_WUR;

/* The origin recorded at creation, copied to out (PL_ORIGIN_MAX + 1 bytes). */
int pl_store_origin(struct pl_store *s, char out[static PL_ORIGIN_MAX + 1]) PL_WUR;

/*
 * The direct line `name` as the exchange was last configured with it, in its
 * parleyd.conf text form (pl_line_format(), at most PL_LINE_TEXT_MAX bytes):
 * kept so that a line taken out of the configuration can still be reported.
 * line_put replaces what was kept (a writer, in a transaction or not);
 * line_get appends the text to *text, or returns PL_ENOTFOUND.
 */
int pl_store_line_put(struct pl_store *s, const char *name, const char *text) PL_WUR;

/*
 * The key a named thing is kept under in the store's key-value table, for both
 * backends: prefix ("line", "chain"), a space, and name (a space is never
 * part of a name). PL_EINVAL for a bad name.
 */
#define PL__STORE_META_KEY_MAX (6 + PL_RECORD_NAME_MAX)
int pl__store_meta_key(char key[static PL__STORE_META_KEY_MAX + 1], const char *prefix,
                       const char *name) PL_WUR;
int pl_store_line_get(struct pl_store *s, const char *name, struct pl_buf *text) PL_WUR;

/*
 * The log index of the last `check` or `missed` of line `name` (the one the
 * next refers to with `ref previous`, docs/records.md §5.2). last_put records
 * it (a writer, in the transaction that logs the record); last_get sets
 * *index, or returns PL_ENOTFOUND when none was recorded (a line never
 * checked, or checked only before the chain began).
 */
int pl_store_line_last_put(struct pl_store *s, const char *name, uint64_t index) PL_WUR;
int pl_store_line_last_get(struct pl_store *s, const char *name, uint64_t *index) PL_WUR;

/*
 * Checks the file's own structure (SQLite's integrity_check: every page,
 * every record's format, every constraint, and every index against its
 * table, so that a damaged id index, which would make a record unfindable
 * by id, is found), for an offline verification. Calls fn(arg, problem) for each
 * problem found (at most PL_STORE_PROBLEMS_MAX; fn may be NULL) and sets *n to
 * their number. Returns 0 (with *n), or PL_ESTORE when the check itself
 * cannot run (the file is too damaged for it). Reads the whole file.
 */
#define PL_STORE_PROBLEMS_MAX 100
int pl_store_integrity_check(struct pl_store *s, void (*fn)(void *arg, const char *problem),
                             void *arg, size_t *n) PL_WUR;

/* ---- Records: the log entries, keyed by log index ---------------------- */

/* What the exchange indexes about a record beside its bytes. */
struct pl_store_record {
	uint64_t index;
	uint8_t id[PL_HASH_BYTES];
	char author[PL_STORE_NAME_MAX + 1];
	uint64_t seq;
	char kind[PL_STORE_KIND_MAX + 1];
};

/*
 * Appends a record at rec->index, which must be the current number of
 * records (PL_EINVAL otherwise: the log has no holes). PL_EEXIST when a
 * record with the same id exists.
 */
int pl_store_record_put(struct pl_store *s, const struct pl_store_record *rec, const char *note,
                        size_t len) PL_WUR;

/*
 * Reads the record at index: its metadata into *rec (if not NULL) and its
 * signed note appended to note (if not NULL). PL_ENOTFOUND past the end.
 */
int pl_store_record_get(struct pl_store *s, uint64_t index, struct pl_store_record *rec,
                        struct pl_buf *note) PL_WUR;

/* Index of the record with this id. PL_ENOTFOUND when none. */
int pl_store_record_find(struct pl_store *s, const uint8_t id[static PL_HASH_BYTES],
                         uint64_t *index) PL_WUR;

/*
 * The indexes of the records whose ids start with the first nbits bits of
 * prefix (32 <= nbits <= 256), in no set order, at most max, *n of them (0 when
 * none): the caller decides which count (need-to-know) before calling a
 * prefix ambiguous. PL_ETOOBIG when there are more than max; PL_EINVAL.
 */
int pl_store_record_find_prefix(struct pl_store *s, const uint8_t *prefix, unsigned nbits,
                                uint64_t *out, size_t max, size_t *n) PL_WUR;

/* Number of records (the next index). */
int pl_store_record_count(struct pl_store *s, uint64_t *count) PL_WUR;

/*
 * References between records (a convey names its send, a statement cites
 * records): from refers to to. pl_store_referrers() writes the indexes of
 * the records that refer to `to`, in log order, at most max, *n of them;
 * PL_ETOOBIG when there are more than max.
 */
int pl_store_ref_put(struct pl_store *s, uint64_t from, uint64_t to) PL_WUR;
int pl_store_referrers(struct pl_store *s, uint64_t to, uint64_t *out, size_t max,
                       size_t *n) PL_WUR;

/* The number of records that refer to `to`, counted up to max: *n = min(that number, max). */
int pl_store_ref_count(struct pl_store *s, uint64_t to, size_t max, size_t *n) PL_WUR;

/* ---- Chain heads: the last record of each author -------------------- */

/* The head of author's chain: its seq and log index. PL_ENOTFOUND when it has none. */
int pl_store_head_get(struct pl_store *s, const char *author, uint64_t *seq,
                      uint64_t *index) PL_WUR;
int pl_store_head_set(struct pl_store *s, const char *author, uint64_t seq, uint64_t index) PL_WUR;

/* ---- Merkle tree stored hashes (numbering of tlog.h) ----------------- */

/* Writes hashes[0..n) at stored indexes first, first + 1, ... (append only). */
int pl_store_hashes_put(struct pl_store *s, uint64_t first, const uint8_t (*hashes)[PL_HASH_BYTES],
                        size_t n) PL_WUR;

/* Reads the stored hashes at indexes[0..n); PL_ENOTFOUND for a missing one. */
int pl_store_hashes_get(struct pl_store *s, const uint64_t *indexes, size_t n,
                        uint8_t (*hashes)[PL_HASH_BYTES]) PL_WUR;

/* Number of stored hashes. */
int pl_store_hashes_count(struct pl_store *s, uint64_t *count) PL_WUR;

/* A tlog reader over this connection's stored hashes (valid while s is open). */
struct pl_tlog_reader pl_store_tlog_reader(struct pl_store *s);

/* ---- Thread index nodes, versioned by checkpoint size (store_tindex.c) -- */

/*
 * The nodes of the thread index (include/parley/tindex.h, docs/index.md §8),
 * by place (depth 0..256 and prefix, the bits past depth zero) and version:
 * the tree size of the checkpoint whose batch wrote them. What the calls
 * guarantee:
 *
 * - put(size, place, node) stores node as the place's node at version size,
 *   replacing only a node that place already had at that same version; the
 *   versions below stay as they were, so the tree as an older checkpoint
 *   committed to it can still be read. A writer, in the batch's transaction:
 *   a rollback takes the rows with it. Nothing is ever deleted.
 * - get(size, place) reads the node of the place at the newest version at or
 *   below size (PL_STORE_LATEST: the newest of all), or PL_ENOTFOUND when the
 *   place had none then (an empty subtree). Inside a read transaction it reads
 *   the snapshot of pl_store_begin(), so that a proof and the index record it
 *   is checked against come from one state.
 * - what a get reads back is checked for shape (an interior node of 64 bytes,
 *   a leaf of 80 with 1..PL_TINDEX_MAX_ENTRIES entries and its last index
 *   below 2^63): anything else is PL_ESTORE. Whether it hashes right is the
 *   caller's to check (a proof is verified against the signed root).
 */
int pl_store_tindex_put(struct pl_store *s, uint64_t size, unsigned depth,
                        const uint8_t prefix[static PL_HASH_BYTES],
                        const struct pl_tindex_node *node) PL_WUR;
int pl_store_tindex_get(struct pl_store *s, uint64_t size, unsigned depth,
                        const uint8_t prefix[static PL_HASH_BYTES],
                        struct pl_tindex_node *out) PL_WUR;

/* Whether the store holds any node at all (a store that never had a thread index holds none). */
int pl_store_tindex_empty(struct pl_store *s, bool *empty) PL_WUR;

/*
 * A view of the nodes for pl_tindex_open(): gets read at version read_size
 * (PL_STORE_LATEST for the newest), puts write at version write_size. The
 * view is the caller's and must outlive the tree opened over it; read_size
 * and write_size may change between the tree's calls (the sequencer sets
 * write_size to each batch's checkpoint size).
 */
struct pl_store_tindex {
	struct pl_store *s;
	uint64_t read_size, write_size;
};
struct pl_tindex_store pl_store_tindex_store(struct pl_store_tindex *v);

/*
 * Calls fn(arg, ref) for every reference of the log in log order of the
 * referring record (ref->index; ref->key the id referred to, ref->id the
 * referring record's), the order pl_tindex_update() takes them in. Stops at
 * fn's first non-zero return and returns it; else 0 or PL_ESTORE. For
 * building the map of a store that had none.
 */
int pl_store_refs_each(struct pl_store *s, int (*fn)(void *arg, const struct pl_tindex_ref *ref),
                       void *arg) PL_WUR;

/* ---- Checkpoints: one signed per batch, keyed by tree size ------------ */

int pl_store_checkpoint_put(struct pl_store *s, uint64_t size, const char *note, size_t len) PL_WUR;

/*
 * The checkpoint signed at tree size `size`, or with PL_STORE_LATEST the
 * latest one; *size_out (if not NULL) gets its size; its note is appended to
 * out. PL_ENOTFOUND when there is none.
 */
#define PL_STORE_LATEST UINT64_MAX
int pl_store_checkpoint_get(struct pl_store *s, uint64_t size, uint64_t *size_out,
                            struct pl_buf *out) PL_WUR;

/*
 * Replaces the note of the checkpoint at `size` by note[0..len) (the same
 * checkpoint with witness cosignatures added; the caller checks that) and
 * marks `size` as cosigned when it is the largest so marked. In the caller's
 * write transaction. Returns 0, PL_ENOTFOUND (no checkpoint at that size),
 * PL_EINVAL, PL_ESTORE.
 */
int pl_store_checkpoint_cosign(struct pl_store *s, uint64_t size, const char *note,
                               size_t len) PL_WUR;

/* The largest checkpoint marked cosigned, as pl_store_checkpoint_get(). PL_ENOTFOUND: none. */
int pl_store_checkpoint_cosigned(struct pl_store *s, uint64_t *size_out, struct pl_buf *out) PL_WUR;

/* ---- Parties: the directory, as the register/revoke records left it --- */

struct pl_store_party {
	int64_t pid; /* stable small integer, > 0; set by pl_store_party_put() */
	char name[PL_STORE_NAME_MAX + 1];
	char vkey[PL_STORE_KEY_TEXT_MAX + 1];     /* verifier key, text form */
	char enc_key[PL_PARTY_EKEY_TEXT_MAX + 1]; /* encryption key, text form */
	uint64_t register_index;
	bool revoked;
	uint64_t revoke_index;
};

/* Adds a party (pid is assigned and written back). PL_EEXIST for a known name. */
int pl_store_party_put(struct pl_store *s, struct pl_store_party *p) PL_WUR;

/* Marks a party revoked at the index of its revoke record. PL_ENOTFOUND, PL_ESTATE (already). */
int pl_store_party_revoke(struct pl_store *s, const char *name, uint64_t index) PL_WUR;

/*
 * A revoked party returns (docs/keys.md §3): its row takes p's vkey, enc_key
 * and register_index and is active again; its pid, and so its inbox, stay.
 * PL_ENOTFOUND (no such name), PL_ESTATE (the party is active), PL_EINVAL.
 */
int pl_store_party_return(struct pl_store *s, const struct pl_store_party *p) PL_WUR;

/*
 * The name of the chain head (pl_store_head_get()) that party's records
 * extend: the party's name, unless it returned with a key of its own chain,
 * whose head name chain_put set (at most PL_STORE_CHAIN_MAX bytes). chain_get
 * copies it to out (cap bytes), or the party's name when none was set.
 */
int pl_store_party_chain_put(struct pl_store *s, const char *name, const char *chain) PL_WUR;
int pl_store_party_chain_get(struct pl_store *s, const char *name, char *out, size_t cap) PL_WUR;

/* Looks a party up by name. PL_ENOTFOUND. */
int pl_store_party_get(struct pl_store *s, const char *name, struct pl_store_party *p) PL_WUR;

/* The whole directory in registration order: *out malloc'd (free()), *n entries. */
int pl_store_party_list(struct pl_store *s, struct pl_store_party **out, size_t *n) PL_WUR;

/* ---- Inboxes: who sees which record ------------------------------------ */

#define PL_STORE_PUBLIC 0 /* the pid of "everyone": public statements */

/* Makes the record at index visible to pid (PL_STORE_PUBLIC for everyone). Idempotent. */
int pl_store_inbox_put(struct pl_store *s, int64_t pid, uint64_t index) PL_WUR;

/*
 * The indexes >= after visible to pid (and, if with_public, to everyone), in
 * log order, at most max: *n written to out.
 */
int pl_store_inbox_list(struct pl_store *s, int64_t pid, bool with_public, uint64_t after,
                        uint64_t *out, size_t max, size_t *n) PL_WUR;

/* The indexes < before visible to pid alone, newest first, at most max: *n written to out. */
int pl_store_inbox_before(struct pl_store *s, int64_t pid, uint64_t before, uint64_t *out,
                          size_t max, size_t *n) PL_WUR;

/* ---- Payload blobs, content-addressed ---------------------------------- */

/*
 * What the store keeps about a blob beside its bytes. A blob is "referred
 * to" once a logged record names it in its `payload` line; until then only
 * its uploader may read it and it may be deleted (pl_store_payload_expire()).
 * Blobs stored before schema 2 have no known uploader ("") and count as
 * referred to (see the migration in store.c).
 */
struct pl_store_payload {
	size_t len;
	char uploader[PL_STORE_NAME_MAX + 1]; /* the party that stored it; "" when unknown */
	int64_t stored;                       /* Unix seconds of its (latest) upload */
	bool referred;
	int64_t ref_index; /* the first record that named it; -1 when none or not known */
};

/*
 * Stores a blob under its hash for uploader (a party name), at time now.
 * Storing the same hash again is a no-op returning 0, except that its own
 * uploader storing it again while no record refers to it moves its time to
 * now (a retry restarts its retention).
 */
int pl_store_payload_put(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                         const uint8_t *blob, size_t len, const char *uploader, int64_t now) PL_WUR;

/*
 * Reads a blob: *blob malloc'd (free()), *len. With blob NULL only checks
 * existence and size. PL_ENOTFOUND.
 */
int pl_store_payload_get(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                         uint8_t **blob, size_t *len) PL_WUR;

/*
 * Calls fn(arg, hash, hash_len, blob, len) for every stored blob, in the
 * order stored, with the bytes as the file holds them (hash_len is 32 unless
 * the file is damaged); the pointers are valid during the call only. Stops
 * at fn's first non-zero return and returns it; else 0 or PL_ESTORE. For an
 * offline verification: reads every blob.
 */
int pl_store_payload_each(struct pl_store *s,
                          int (*fn)(void *arg, const uint8_t *hash, size_t hash_len,
                                    const uint8_t *blob, size_t len),
                          void *arg) PL_WUR;

/* What is kept about a blob, without its bytes. PL_ENOTFOUND. */
int pl_store_payload_info(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                          struct pl_store_payload *info) PL_WUR;

/*
 * Marks the blob referred to by the record at index (a writer, in the
 * transaction logging the record); the first record to name it is kept. No
 * blob: no-op.
 */
int pl_store_payload_refer(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                           uint64_t index) PL_WUR;

/*
 * The bytes of the blobs uploader stored that no record refers to yet: one
 * lookup of a total the store keeps with every change of a blob.
 */
int pl_store_payload_pending(struct pl_store *s, const char *uploader, uint64_t *bytes) PL_WUR;

/*
 * Deletes up to max blobs that no record refers to and that were stored at
 * or before `before`, oldest first; *n is how many. A writer.
 */
int pl_store_payload_expire(struct pl_store *s, int64_t before, size_t max, size_t *n) PL_WUR;

/* ---- Timers: deadlines that survive restarts --------------------------- */

/* Arms a timer for the record at index, due at `due` (Unix seconds). Idempotent per index. */
int pl_store_timer_put(struct pl_store *s, uint64_t index, int64_t due) PL_WUR;

/* Disarms the timer of the record at index (no-op if none). */
int pl_store_timer_del(struct pl_store *s, uint64_t index) PL_WUR;

/* The due time of the timer of the record at index. PL_ENOTFOUND when none. */
int pl_store_timer_get(struct pl_store *s, uint64_t index, int64_t *due) PL_WUR;

/* The indexes of timers due at or before now, earliest first, at most max. */
int pl_store_timer_due(struct pl_store *s, int64_t now, uint64_t *out, size_t max,
                       size_t *n) PL_WUR;

#endif
