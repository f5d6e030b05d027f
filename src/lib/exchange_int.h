/* The exchange's private state, shared by src/lib/exchange*.c: not part of the API. */
#ifndef PARLEY_EXCHANGE_INT_H
#define PARLEY_EXCHANGE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <parley/box.h>
#include <parley/chain.h>
#include <parley/directory.h>
#include <parley/exchange.h>
#include <parley/metrics.h>
#include <parley/party.h>
#include <parley/record.h>
#include <parley/replay.h>
#include <parley/tiles.h>
#include <parley/tindex.h>
#include <parley/visibility.h>

#include "internal.h"
#include "store.h"

#define EX_THREAD_MAX     10000 /* records in one thread answer */
#define EX_PAGE_DEFAULT   100
#define EX_PAGE_MAX       1000
#define EX_PREFIX_MATCHES 64  /* records one id prefix is looked up among */
#define EX_VERIFY_TAIL    256 /* newest records re-hashed against the tree on open */
#define EX_CHECKED_MAX    (UINT64_C(1) << 24) /* full tiles per level remembered as checked */
#define EX_WHY_MAX        320                 /* bytes in what a check found */
#define EX_TIMERS_MAX     1024                /* deadlines fired in one batch */
#define EX_AUDIENCE_MAX   (2 * PL_RECORD_MAX_TO + 8) /* parties one record reaches */

enum ex_item_type {
	EX_RECORD,
	EX_PAYLOAD,
	EX_PARTY_ADD,
	EX_PARTY_REVOKE,
	EX_PARTY_SIGNED,
	EX_TIMERS,
	EX_COSIGN,
	EX_CONFIG,
};

/* One unit of work for the sequencer, and its result. */
struct ex_item {
	struct ex_item *next;
	enum ex_item_type type;
	/* EX_RECORD: the signed record (owned), parsed, and its id. */
	char *msg;
	size_t len;
	struct pl_record *rec;
	uint8_t id[PL_HASH_BYTES];
	/* EX_PAYLOAD: the blob and its uploader (borrowed from the waiting caller), its hash. */
	const uint8_t *blob;
	size_t blob_len;
	const char *uploader;
	uint8_t hash[PL_HASH_BYTES];
	/* EX_PARTY_ADD / EX_PARTY_REVOKE. */
	struct ex_party_req *party;
	/* EX_CONFIG: the lines and auditors to run with (borrowed from the waiting caller). */
	const struct pl_exchange_options *opts;
	/* EX_CONFIG: the zone of each of opts->lines checked in one (NULL: UTC), loaded by the
	 * caller; the sequencer takes each it runs with (and sets it NULL). */
	struct pl_tz **tz;
	/* Results. */
	int status;
	bool appended;
	uint64_t index;
	uint64_t size; /* tree size of the batch's checkpoint */
	int count;     /* EX_TIMERS: records appended */
	struct pl_exchange_refusal why;
	struct pl_receipt receipt;
	/* Completion: a waiting thread (cv) or a callback. */
	bool done;
	bool async;
	bool cv_init;
	pthread_cond_t cv;
	struct pl_exchange_done cb;
	int64_t enqueued_us;
};

/* A party operation requested by the operator. */
struct ex_party_req {
	char name[PL_RECORD_NAME_MAX + 1];
	struct pl_vkey vkey;
	struct pl_party_ekey enc;
	const struct pl_skey *self;
	size_t nself;
	char reason[PL_RECORD_REASON_MAX + 1]; /* a revoke with a reason: an eviction */
};

/* What the directory cache keeps of a party, parallel to keys[1..]. */
struct ex_member {
	char name[PL_RECORD_NAME_MAX + 1];
	char chain[PL_STORE_CHAIN_MAX + 1]; /* its records' chain head name (store.h) */
	int64_t pid;
	bool revoked;
	bool has_enc;
	uint8_t enc_pk[PL_BOX_PK_BYTES];
};

/* One chain's committed head (struct pl_exchange's head cache), by its head name (store.h). */
struct ex_head {
	char author[PL_STORE_CHAIN_MAX + 1];
	struct pl_chain_link link;
	uint64_t index;
};

struct pl_exchange {
	int lockfd; /* holds DIR/parley.lock: one process serves a store */
	char *dir;
	char origin[PL_ORIGIN_MAX + 1];
	struct pl_skey key;
	struct pl_vkey vkey;
	struct pl_exchange_options o;
	/* Next due time of each checked line (o.lines); the sequencer's, once open. */
	int64_t line_next[PL_EXCHANGE_LINES_MAX];
	/* The zone of each line checked at wall times of one (NULL: UTC); loaded by open and
	 * pl_exchange_reconfigure(); the sequencer's, as line_next. */
	struct pl_tz *line_tz[PL_EXCHANGE_LINES_MAX];
	/*
	 * What may change while serving (pl_exchange_reconfigure()): o.lines,
	 * o.nlines, o.auditors, o.nauditors. Only the sequencer writes them
	 * (under the write lock, with line_next, which is its alone); it reads
	 * them without the lock, any other thread under the read lock.
	 */
	pthread_rwlock_t cfg_lock;

	/* The writer: used by the sequencer thread only (and by open). */
	struct pl_store *w;
	/*
	 * The thread index (docs/index.md) over the writer's nodes: the
	 * sequencer's alone (and open's). NULL after a failed batch until the next
	 * one reopens it.
	 */
	struct pl_tindex *tindex;
	struct pl_store_tindex tiv;

	/* Read connections. */
	pthread_mutex_t pool_mu;
	pthread_cond_t pool_cv;
	struct pl_store **pool;
	size_t npool, nfree;
	struct pl_store **free_stores;

	/* The sequencer's queue. */
	pthread_mutex_t mu;
	pthread_cond_t q_cv;
	pthread_cond_t timer_cv;
	struct ex_item *head, *tail;
	size_t qlen;
	bool stopping;
	pthread_t seq_thread, timer_thread;
	bool seq_started, timer_started;
	pthread_mutex_t shut_mu;
	bool shut;

	/*
	 * The published file (PL_EXCHANGE_PUBLISHED_FILE): the slot that holds the
	 * newest checkpoint signed, and the syncer thread that fdatasyncs the file
	 * while the sequencer syncs the store (sync_asked/sync_done count requests).
	 * Once a commit could not be made durable, failed stops every batch; once
	 * another process sequenced the log (pl_store_fenced()), fenced does, and
	 * the submitters are told to retry (PL_ESTATE).
	 */
	int pubfd;
	unsigned pub_slot;
	pthread_t sync_thread;
	bool sync_started, sync_stop;
	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;
	uint64_t sync_asked, sync_done;
	int sync_ret, sync_errno;
	bool failed, fenced;

	/* Published state: tree size and its checkpoint. */
	pthread_mutex_t st_mu;
	pthread_cond_t size_cv;
	uint64_t size;
	char *checkpoint;
	size_t checkpoint_len;
	/* The newest checkpoint with witness cosignatures (NULL: none yet). */
	char *cosigned;
	size_t cosigned_len;
	uint64_t cosigned_size;

	/* Directory cache for validation: keys[0] is the log key, as in pl_directory. */
	pthread_rwlock_t dir_lock;
	struct pl_vkey *keys;
	struct ex_member *members;
	size_t nkeys;

	/* Committed chain heads by author, for validation before the sequencer. */
	pthread_mutex_t head_mu;
	struct ex_head *heads;
	size_t heads_cap, nheads;

	pthread_mutex_t err_mu;
	char lasterr[PL_STORE_ERRMSG_MAX];

	/*
	 * What the reads have checked against the signed root (ex_tile_check()):
	 * a bit per full hash tile of each level (a full tile never changes), the
	 * tree size whose right edge (its partial tiles) was checked, and the
	 * published tree last read from its checkpoint.
	 */
	pthread_mutex_t vf_mu;
	uint8_t *vf_tiles[PL_TILE_MAX_LEVEL + 1];
	uint64_t vf_ntiles[PL_TILE_MAX_LEVEL + 1]; /* bits allocated per level */
	uint64_t vf_edge;                          /* 0: no edge checked yet */
	struct pl__edge *vf_edge_hashes;           /* its hashes (NULL: none kept) */
	bool vf_edge_busy;                         /* a reader is checking an edge */
	pthread_cond_t vf_edge_cv;                 /* signalled when it is done */
	uint64_t vf_size;
	uint8_t vf_root[PL_HASH_BYTES];

	/*
	 * Operators' metrics (pl_exchange_metrics_write()): atomics and lock-free
	 * histograms, so that the sequencer takes no lock for them. m_published is
	 * the Unix time (exchange clock) the newest checkpoint was published, or
	 * the exchange opened.
	 */
	atomic_uint_fast64_t m_records[PL_KIND_COUNT + 1];
	atomic_uint_fast64_t m_batch_failures;
	atomic_int_fast64_t m_published;
	struct pl_metrics_hist m_batch, m_commit_us, m_sync_us;
};

/* A tree the reads are checked against: its size and the root its signed checkpoint gives. */
struct ex_anchor {
	uint64_t size;
	uint8_t root[PL_HASH_BYTES];
};

/* State of the batch being built inside the writer's transaction. */
struct ex_batch {
	uint64_t size0;
	uint64_t n;
	uint8_t (*leaves)[PL_HASH_BYTES];
	size_t cap;
	uint8_t (*hashes)[PL_HASH_BYTES]; /* the stored hashes the batch added */
	size_t nhashes;
	struct ex_head *heads; /* the chain heads it moved, in order, for the cache */
	size_t nheads, heads_cap;
	struct pl_tindex_ref *trefs; /* (referred id, record id, index) of its records, in order */
	size_t ntrefs, trefs_cap;
	bool wrote;
	bool dir_changed;
	uint32_t kinds[PL_KIND_COUNT + 1]; /* records appended, by kind, for the metrics */
};

/* Where the judge reads party status: the cache (callers) or the store (sequencer). */
struct ex_judge_ctx {
	struct pl_exchange *ex;
	struct pl_store *s;
	bool from_store;
	const struct ex_batch *b; /* in the sequencer: the batch being built */
	/* For the record being judged: the status of its keys, its chain's name and head. */
	const enum pl_key_status *keys;
	char chain[PL_STORE_CHAIN_MAX + 1];
	struct pl_chain_link head;
	bool has_head;
	uint64_t head_index;
};

/*
 * Which thread runs what: the sequencer thread alone writes the store (ex->w)
 * and runs the batches (exchange_seq.c, exchange_own.c); a submitter's thread
 * (an HTTP worker) checks and judges its record before queuing it
 * (exchange_submit.c, exchange_judge.c); any reader thread reads through the
 * pool of read connections (exchange_read.c); the timer thread queues the
 * deadlines; open and close run alone (exchange_life.c). Each function says
 * which of them run it.
 */

/* Now on CLOCK_MONOTONIC, in microseconds. Thread: any. */
static inline int64_t ex_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * The exchange's clock in seconds: the options' clock when set (tests), else time().
 * Thread: any.
 */
static inline int64_t ex_now(const struct pl_exchange *ex)
{
	return ex->o.clock ? ex->o.clock(ex->o.clock_arg) : (int64_t)time(NULL);
}

/* Absolute CLOCK_MONOTONIC deadline us microseconds from now. Thread: any. */
static inline struct timespec ex_deadline(int64_t us)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += us / 1000000;
	ts.tv_nsec += (us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* Keeps a store failure's detail for the operator (pl_exchange_last_error()). Thread: any. */
static inline int ex_note_error(struct pl_exchange *ex, struct pl_store *s, int ret)
{
	if (ret == PL_ESTORE && s) {
		pthread_mutex_lock(&ex->err_mu);
		snprintf(ex->lasterr, sizeof(ex->lasterr), "%s", pl_store_errmsg(s));
		pthread_mutex_unlock(&ex->err_mu);
	}
	return ret;
}

/* Says why a submission was refused (why may be NULL; reason NULL: "refused"). Thread: any. */
static inline void ex_refuse(struct pl_exchange_refusal *why, const char *reason)
{
	if (why)
		snprintf(why->reason, sizeof(why->reason), "%s", reason ? reason : "refused");
}

/*
 * Takes a read connection from the pool, waiting while every one is taken.
 * Thread: any reader's or submitter's.
 */
static inline struct pl_store *ex_reader_get(struct pl_exchange *ex)
{
	struct pl_store *s;

	pthread_mutex_lock(&ex->pool_mu);
	while (ex->nfree == 0)
		pthread_cond_wait(&ex->pool_cv, &ex->pool_mu);
	s = ex->free_stores[--ex->nfree];
	pthread_mutex_unlock(&ex->pool_mu);
	return s;
}

/*
 * Ends the read connection's snapshot and gives it back to the pool.
 * Thread: the one that took s.
 */
static inline void ex_reader_put(struct pl_exchange *ex, struct pl_store *s)
{
	pl_store_rollback(s);
	pthread_mutex_lock(&ex->pool_mu);
	ex->free_stores[ex->nfree++] = s;
	pthread_cond_signal(&ex->pool_cv);
	pthread_mutex_unlock(&ex->pool_mu);
}

/*
 * The position in the directory cache of party name, or PL_DIRECTORY_NONE
 * when it holds none (the log key, at position 0, is no party's), as
 * pl_directory_find() answers. Thread: any, with dir_lock held.
 */
static inline size_t ex_dir_find(const struct pl_exchange *ex, const char *name)
{
	for (size_t i = 1; i < ex->nkeys; i++)
		if (strcmp(ex->members[i].name, name) == 0)
			return i;
	return PL_DIRECTORY_NONE;
}

/*
 * The committed-head cache (exchange.c) and the verifier's table of heads
 * (exchange_check.c): the slot of author in table t of cap slots (a power of
 * two), its own or the free one it would take.
 * Thread: any, under head_mu; or the verifier's, with no exchange open.
 */
static inline size_t ex_head_slot(const struct ex_head *t, size_t cap, const char *author)
{
	uint64_t hv = 1469598103934665603u;
	size_t i;

	for (const char *c = author; *c; c++)
		hv = (hv ^ (unsigned char)*c) * 1099511628211u;
	for (i = (size_t)hv & (cap - 1); t[i].author[0] && strcmp(t[i].author, author) != 0;
	     i = (i + 1) & (cap - 1))
		;
	return i;
}

bool pl__ex_heads_grow(struct ex_head **heads, size_t *cap);

/*
 * The cached committed head of author into *link and *index; false when the cache has none.
 * Thread: a submitter's (judging before the sequencer) or the sequencer's.
 */
static inline bool ex_head_get(struct pl_exchange *ex, const char *author,
                               struct pl_chain_link *link, uint64_t *index)
{
	bool found = false;

	pthread_mutex_lock(&ex->head_mu);
	if (ex->heads_cap) {
		const struct ex_head *h =
		        &ex->heads[ex_head_slot(ex->heads, ex->heads_cap, author)];
		if (h->author[0]) {
			*link = h->link;
			*index = h->index;
			found = true;
		}
	}
	pthread_mutex_unlock(&ex->head_mu);
	return found;
}

/* Frees sib[0..n) and the array itself (pl__ex_siblings()). Thread: any. */
static inline void ex_sib_free(struct pl_record **sib, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(sib[i]);
	free(sib);
}

/*
 * True when one of sib[0..n) is of kind k (and by author, unless NULL).
 * Thread: any (the sequencer's, mostly).
 */
static inline bool ex_sib_by(struct pl_record *const *sib, size_t n, enum pl_record_kind k,
                             const char *author)
{
	for (size_t i = 0; i < n; i++)
		if (sib[i]->kind == k && (!author || strcmp(sib[i]->author, author) == 0))
			return true;
	return false;
}

/* exchange.c */
int pl__ex_cond_init(pthread_cond_t *cv);
int pl__ex_load(struct pl_store *s, uint64_t index, struct pl_record *out,
                struct pl_store_record *meta);
int pl__ex_damaged(struct pl_exchange *ex, const char *why);
int pl__ex_dir_load(struct pl_exchange *ex, struct pl_store *s);
void pl__ex_head_put(struct pl_exchange *ex, const char *author, const struct pl_chain_link *link,
                     uint64_t index);

/* exchange_judge.c */
int pl__ex_siblings(struct pl_store *s, uint64_t index, const uint8_t id[static PL_HASH_BYTES],
                    enum pl_ref_role role, struct pl_record ***out, size_t *n);
enum pl_key_status pl__ex_party_status(struct ex_judge_ctx *c, const char *name);
int pl__ex_chain_of(struct ex_judge_ctx *c, const char *author,
                    char out[static PL_STORE_CHAIN_MAX + 1]);
bool pl__ex_batch_head(struct pl_exchange *ex, const struct ex_batch *b, const char *author,
                       struct pl_chain_link *link, uint64_t *index);
int pl__ex_judge(struct ex_judge_ctx *c, const struct pl_record *rec,
                 const uint8_t id[static PL_HASH_BYTES], const enum pl_key_status *keys,
                 struct pl_replay_view *v, struct pl_exchange_refusal *why);

/* exchange_seq.c */
int pl__ex_append(struct pl_exchange *ex, struct ex_batch *b, struct ex_judge_ctx *c,
                  const char *msg, size_t len, const struct pl_record *rec,
                  const uint8_t id[static PL_HASH_BYTES], const struct pl_replay_view *v,
                  uint64_t *index);
int pl__ex_enqueue(struct pl_exchange *ex, struct ex_item *it);
int pl__ex_run_sync(struct pl_exchange *ex, struct ex_item *it);
int pl__ex_start_threads(struct pl_exchange *ex);

/* exchange_own.c */
int pl__ex_chain_fields(struct pl_exchange *ex, struct pl_store *s, const struct ex_batch *b,
                        struct pl_record *r);
int pl__ex_tindex_open(struct pl_exchange *ex);

/*
 * Test-only, never set by parleyd: when set, the thread index leaves out
 * every reference made by a record whose author it returns true for, in the
 * sequencer's updates and in the proofs served alike, so that a test
 * exchange lies consistently (tests/integration/parleyd_liar.c). Set before the
 * exchange opens. Thread: read by the sequencer and any reader's.
 */
extern bool (*pl__ex_index_omits)(const char *author);
int pl__ex_append_index(struct pl_exchange *ex, struct ex_batch *b);
int pl__ex_append_available(struct pl_exchange *ex, struct ex_batch *b, int64_t not_before,
                            const uint8_t id[static PL_HASH_BYTES],
                            const char (*parties)[PL_RECORD_NAME_MAX + 1], size_t n);
int pl__ex_party_record(struct pl_store *s, struct ex_party_req *q, bool revoke,
                        struct pl_record *r, enum pl_key_status *status,
                        struct pl_exchange_refusal *why);
int pl__ex_seq_party(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it);
int pl__ex_seq_signed(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it);
int pl__ex_seq_timers(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it);
int pl__ex_seq_config(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it);
void pl__ex_config_apply(struct pl_exchange *ex, struct ex_item *items);

/* exchange_submit.c */
int pl__ex_receipt_make(struct pl_tlog_reader *rd, uint64_t index,
                        const uint8_t id[static PL_HASH_BYTES], uint64_t size, const char *cp,
                        size_t cplen, char **take, struct pl_receipt *out);
int pl__ex_receipt(struct pl_exchange *ex, struct pl_store *s, uint64_t index, uint64_t size,
                   struct pl_receipt *out);

/* exchange_read.c */
int pl__ex_anchor(struct pl_exchange *ex, struct ex_anchor *a);
int pl__ex_check_entry(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                       uint64_t index, const uint8_t id[static PL_HASH_BYTES], const char *note,
                       size_t len);
int pl__ex_entry(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                 uint64_t index, struct pl_exchange_entry *e);
struct pl_reader pl__ex_reader(struct pl_exchange *ex, const char *reader);
int pl__ex_may_read(struct pl_store *s, const struct pl_reader *who, uint64_t index, bool *yes);
int pl__ex_entry_for(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                     const struct pl_reader *who, uint64_t index, struct pl_exchange_entry *e,
                     bool *yes);

/* Sets the metrics of a new exchange empty (exchange_metrics.c). Thread: open's. */
void pl__ex_metrics_init(struct pl_exchange *ex);

#endif
