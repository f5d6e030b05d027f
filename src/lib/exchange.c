/* The exchange engine: validation in the callers' threads, one sequencer, durable batches. */
#include <parley/exchange.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/box.h>
#include <parley/chain.h>
#include <parley/checkpoint.h>
#include <parley/note.h>
#include <parley/party.h>
#include <parley/proof.h>
#include <parley/record.h>
#include <parley/replay.h>
#include <parley/rules.h>
#include <parley/tiles.h>
#include <parley/tlog.h>

#include "internal.h"
#include "store.h"

#define EX_THREAD_MAX   10000 /* records in one thread answer */
#define EX_PAGE_DEFAULT 100
#define EX_PAGE_MAX     1000
#define EX_VERIFY_TAIL  256                 /* newest records re-hashed against the tree on open */
#define EX_CHECKED_MAX  (UINT64_C(1) << 24) /* full tiles per level remembered as checked */
#define EX_WHY_MAX      320                 /* bytes in what a check found */
#define EX_TIMERS_MAX   1024                /* deadlines fired in one batch */
#define EX_AUDIENCE_MAX (2 * PL_RECORD_MAX_TO + 8) /* parties one record reaches */

enum ex_item_type {
	EX_RECORD,
	EX_PAYLOAD,
	EX_PARTY_ADD,
	EX_PARTY_REVOKE,
	EX_PARTY_SIGNED,
	EX_TIMERS,
	EX_COSIGN,
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
};

/* What the directory cache keeps of a party, parallel to keys[1..]. */
struct ex_member {
	char name[PL_RECORD_NAME_MAX + 1];
	int64_t pid;
	bool revoked;
	bool has_enc;
	uint8_t enc_pk[PL_BOX_PK_BYTES];
};

/* One author's committed chain head (struct pl_exchange's head cache). */
struct ex_head {
	char author[PL_RECORD_NAME_MAX + 1];
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

	/* The writer: used by the sequencer thread only (and by open). */
	struct pl_store *w;

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
	 * Once a commit could not be made durable, failed stops every batch.
	 */
	int pubfd;
	unsigned pub_slot;
	pthread_t sync_thread;
	bool sync_started, sync_stop;
	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;
	uint64_t sync_asked, sync_done;
	int sync_ret, sync_errno;
	bool failed;

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

	/* Directory cache for validation: keys[0] is the log key. */
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
};

/* A tree the reads are checked against: its size and the root its signed checkpoint gives. */
struct ex_anchor {
	uint64_t size;
	uint8_t root[PL_HASH_BYTES];
};

static int ex_receipt_make(struct pl_tlog_reader *rd, uint64_t index,
                           const uint8_t id[static PL_HASH_BYTES], uint64_t size, const char *cp,
                           size_t cplen, char **take, struct pl_receipt *out);
static int ex_receipt(struct pl_exchange *ex, struct pl_store *s, uint64_t index, uint64_t size,
                      struct pl_receipt *out);
static int ex_inbox_pid(struct pl_exchange *ex, int64_t pid, uint64_t after, size_t max,
                        struct pl_exchange_list *out);
static int ex_entry(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                    uint64_t index, struct pl_exchange_entry *e);

/* ---- Small helpers ---- */

static int64_t ex_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t ex_now(const struct pl_exchange *ex)
{
	return ex->o.clock ? ex->o.clock(ex->o.clock_arg) : (int64_t)time(NULL);
}

/* Absolute CLOCK_MONOTONIC deadline us microseconds from now. */
static struct timespec ex_deadline(int64_t us)
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

static int ex_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	int rc;

	if (pthread_condattr_init(&a))
		return PL_ENOMEM;
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	rc = pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
	return rc ? PL_ENOMEM : 0;
}

/* Keeps a store failure's detail for the operator (pl_exchange_last_error()). */
static int ex_note_error(struct pl_exchange *ex, struct pl_store *s, int ret)
{
	if (ret == PL_ESTORE && s) {
		pthread_mutex_lock(&ex->err_mu);
		snprintf(ex->lasterr, sizeof(ex->lasterr), "%s", pl_store_errmsg(s));
		pthread_mutex_unlock(&ex->err_mu);
	}
	return ret;
}

static void ex_refuse(struct pl_exchange_refusal *why, const char *reason)
{
	if (why)
		snprintf(why->reason, sizeof(why->reason), "%s", reason ? reason : "refused");
}

/* ---- Read connections ---- */

static struct pl_store *ex_reader_get(struct pl_exchange *ex)
{
	struct pl_store *s;

	pthread_mutex_lock(&ex->pool_mu);
	while (ex->nfree == 0)
		pthread_cond_wait(&ex->pool_cv, &ex->pool_mu);
	s = ex->free_stores[--ex->nfree];
	pthread_mutex_unlock(&ex->pool_mu);
	return s;
}

static void ex_reader_put(struct pl_exchange *ex, struct pl_store *s)
{
	pl_store_rollback(s);
	pthread_mutex_lock(&ex->pool_mu);
	ex->free_stores[ex->nfree++] = s;
	pthread_cond_signal(&ex->pool_cv);
	pthread_mutex_unlock(&ex->pool_mu);
}

/* ---- Records in the store ---- */

/*
 * Loads and parses the record at index. The store is not trusted blindly: a
 * record that no longer parses is a corrupt store.
 */
static int ex_load(struct pl_store *s, uint64_t index, struct pl_record *out,
                   struct pl_store_record *meta)
{
	struct pl_buf b;
	struct pl_note *n = NULL;
	int ret;

	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	ret = pl_store_record_get(s, index, meta, &b);
	if (ret)
		goto out;
	ret = pl_note_parse(&n, b.data, b.len);
	if (!ret)
		ret = pl_record_parse(out, n->text, n->text_len, NULL);
	if (ret)
		ret = PL_ESTORE;
out:
	pl_note_free(n);
	pl_buf_release(&b);
	return ret;
}

/* ---- Checking what the store hands out ---- */

/*
 * The store is a file and may have been damaged since the exchange wrote
 * it: every record, entry bundle and hash tile a read hands out is checked
 * first up to the signed root. A record gives its id and its leaf hash; its
 * leaf hash is in a level-0 tile; a full tile gives the stored hash one tile
 * level up, which is in a tile checked the same way, up to the tree's right
 * edge, whose partial tiles give the signed checkpoint's root. A full tile
 * never changes, so once checked it is remembered (a bit per tile and level);
 * the edge is checked again when the tree grew. Damage is PL_EDAMAGED, with
 * what failed kept for pl_exchange_last_error().
 */

/* Keeps what a check found for the operator and returns PL_EDAMAGED. */
static int ex_damaged(struct pl_exchange *ex, const char *why)
{
	pthread_mutex_lock(&ex->err_mu);
	snprintf(ex->lasterr, sizeof(ex->lasterr), "damaged store: %s", why);
	pthread_mutex_unlock(&ex->err_mu);
	return PL_EDAMAGED;
}

/*
 * The published tree: the size and root of the checkpoint last signed. Read
 * it before a read snapshot starts, so that the snapshot holds that whole
 * tree (a batch is published after its commit).
 */
static int ex_anchor(struct pl_exchange *ex, struct ex_anchor *a)
{
	struct pl_checkpoint *cp = NULL;
	struct pl_note *n = NULL;
	char *text = NULL;
	size_t len = 0;
	int ret = 0;

	pthread_mutex_lock(&ex->st_mu);
	pthread_mutex_lock(&ex->vf_mu);
	if (ex->vf_size && ex->vf_size == ex->size) {
		a->size = ex->vf_size;
		memcpy(a->root, ex->vf_root, PL_HASH_BYTES);
	} else if (ex->checkpoint) {
		text = malloc(ex->checkpoint_len);
		len = ex->checkpoint_len;
		if (text)
			memcpy(text, ex->checkpoint, len);
		ret = text ? 0 : PL_ENOMEM;
	} else {
		ret = PL_ENOTFOUND;
	}
	pthread_mutex_unlock(&ex->vf_mu);
	pthread_mutex_unlock(&ex->st_mu);
	if (ret || !text)
		goto out;
	/* Signed by this exchange, in memory: parsed, not verified again. */
	cp = malloc(sizeof(*cp));
	ret = cp ? pl_note_parse(&n, text, len) : PL_ENOMEM;
	if (!ret)
		ret = pl_checkpoint_parse(cp, n->text, n->text_len);
	if (ret)
		goto out;
	a->size = cp->size;
	memcpy(a->root, cp->root, PL_HASH_BYTES);
	pthread_mutex_lock(&ex->vf_mu);
	if (a->size > ex->vf_size) {
		ex->vf_size = a->size;
		memcpy(ex->vf_root, a->root, PL_HASH_BYTES);
	}
	pthread_mutex_unlock(&ex->vf_mu);
out:
	pl_note_free(n);
	free(cp);
	free(text);
	return ret;
}

static bool ex_checked_get(struct pl_exchange *ex, unsigned level, uint64_t n)
{
	bool yes;

	pthread_mutex_lock(&ex->vf_mu);
	yes = n < ex->vf_ntiles[level] && (ex->vf_tiles[level][n / 8] >> (n % 8)) & 1;
	pthread_mutex_unlock(&ex->vf_mu);
	return yes;
}

/* Remembers a checked full tile; beyond EX_CHECKED_MAX tiles, or without memory, it is not. */
static void ex_checked_set(struct pl_exchange *ex, unsigned level, uint64_t n)
{
	pthread_mutex_lock(&ex->vf_mu);
	if (n >= ex->vf_ntiles[level] && n < EX_CHECKED_MAX) {
		uint64_t bits = ex->vf_ntiles[level] ? 2 * ex->vf_ntiles[level] : 1024;
		uint8_t *p;
		while (bits <= n)
			bits *= 2;
		if (bits > EX_CHECKED_MAX)
			bits = EX_CHECKED_MAX;
		p = realloc(ex->vf_tiles[level], bits / 8);
		if (p) {
			memset(p + ex->vf_ntiles[level] / 8, 0, (bits - ex->vf_ntiles[level]) / 8);
			ex->vf_tiles[level] = p;
			ex->vf_ntiles[level] = bits;
		}
	}
	if (n < ex->vf_ntiles[level])
		ex->vf_tiles[level][n / 8] |= (uint8_t)(1u << (n % 8));
	pthread_mutex_unlock(&ex->vf_mu);
}

/*
 * The right edge of the anchor's tree, checked once per tree size; what the
 * last check read of the same tiles is not read again, so a check after a
 * batch costs about the batch's new hashes. One reader checks at a time: the
 * readers woken by a batch wait for the first instead of all doing its work.
 */
static int ex_edge_check(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a)
{
	struct pl__edge *known = NULL, *out = NULL;
	char why[EX_WHY_MAX];
	bool done;
	int ret;

	pthread_mutex_lock(&ex->vf_mu);
	while (ex->vf_edge_busy && ex->vf_edge != a->size)
		pthread_cond_wait(&ex->vf_edge_cv, &ex->vf_mu);
	done = ex->vf_edge == a->size;
	if (!done && ex->vf_edge_hashes && ex->vf_edge_hashes->size <= a->size) {
		known = malloc(sizeof(*known));
		if (known)
			memcpy(known, ex->vf_edge_hashes, sizeof(*known));
	}
	ex->vf_edge_busy = !done;
	pthread_mutex_unlock(&ex->vf_mu);
	if (done)
		return 0;
	out = malloc(sizeof(*out));
	ret = out ? pl__check_edge(s, a->size, a->root, known, out, why, sizeof(why)) : PL_ENOMEM;
	free(known);
	if (ret == PL_ENOTFOUND) {
		snprintf(why, sizeof(why),
		         "a hash of the partial tiles of tree size %llu is missing",
		         (unsigned long long)a->size);
		ret = PL_EDAMAGED;
	}
	if (ret == PL_EDAMAGED)
		ret = ex_damaged(ex, why);
	pthread_mutex_lock(&ex->vf_mu);
	if (!ret && a->size > ex->vf_edge) {
		struct pl__edge *old = ex->vf_edge_hashes;
		ex->vf_edge = a->size;
		ex->vf_edge_hashes = out;
		out = old;
	}
	ex->vf_edge_busy = false;
	pthread_cond_broadcast(&ex->vf_edge_cv);
	pthread_mutex_unlock(&ex->vf_mu);
	free(out);
	return ret;
}

/*
 * Checks hash tile <level>/<n> of the anchor's tree up to the signed root:
 * each full tile against the stored hash above it, in the tile above, until
 * a tile already checked or the right edge.
 */
static int ex_tile_check(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                         unsigned level, uint64_t n)
{
	struct {
		unsigned level;
		uint64_t n;
	} path[PL_TILE_MAX_LEVEL + 1];
	char why[EX_WHY_MAX];
	size_t np = 0;
	int ret = 0;

	for (;;) {
		struct pl_tile t;
		ret = pl_tiles_tile_at(&t, a->size, level, n, false);
		if (ret)
			break;
		if (t.width < PL_TILE_WIDTH) {
			ret = ex_edge_check(ex, s, a);
			break;
		}
		if (ex_checked_get(ex, level, n))
			break;
		ret = pl__check_full_tile(s, level, n, why, sizeof(why));
		if (ret == PL_ENOTFOUND) {
			snprintf(why, sizeof(why), "hash tile %u/%llu: a stored hash is missing",
			         level, (unsigned long long)n);
			ret = PL_EDAMAGED;
		}
		if (ret == PL_EDAMAGED)
			ret = ex_damaged(ex, why);
		if (ret || np == PL__ARRAY_LEN(path) - 1)
			break;
		path[np].level = level;
		path[np].n = n;
		np++;
		level++;
		n /= PL_TILE_WIDTH;
	}
	for (size_t i = 0; !ret && i < np; i++)
		ex_checked_set(ex, path[i].level, path[i].n);
	return ret;
}

/*
 * The one check of every read that hands out a stored record (by id, by
 * index, in a thread, an inbox, the statements, a line's page, the
 * directory): its bytes note[0..len) give its id and the stored leaf hash at
 * its index, whose tile is checked up to the anchor's signed root. index
 * must be below a->size. Returns 0, PL_EDAMAGED or the store's error.
 */
static int ex_check_entry(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                          uint64_t index, const uint8_t id[static PL_HASH_BYTES], const char *note,
                          size_t len)
{
	uint64_t hi = pl_tlog_stored_index(0, index);
	uint8_t leaf[PL_HASH_BYTES];
	char why[EX_WHY_MAX];
	int ret;

	ret = pl_store_hashes_get(s, &hi, 1, &leaf);
	if (ret == PL_ENOTFOUND) {
		snprintf(why, sizeof(why), "the leaf hash of record %llu is missing",
		         (unsigned long long)index);
		ret = ex_damaged(ex, why);
	}
	if (!ret) {
		ret = pl__check_record(index, id, note, len, leaf, why, sizeof(why));
		if (ret == PL_EDAMAGED)
			ret = ex_damaged(ex, why);
	}
	if (!ret)
		ret = ex_tile_check(ex, s, a, 0, index / PL_TILE_WIDTH);
	return ret;
}

/* ---- The directory cache ---- */

/* Decodes an `enc` key text (party module form) to its X25519 public key. */
static bool ex_enc_pk(const char *enc, uint8_t pk[static PL_BOX_PK_BYTES])
{
	struct pl_party_ekey ek;

	if (pl_party_ekey_parse(&ek, enc, strlen(enc)) != 0)
		return false;
	memcpy(pk, ek.pk, PL_BOX_PK_BYTES);
	return true;
}

/* Rebuilds the directory cache from the store (at open and after register/revoke). */
static int ex_dir_load(struct pl_exchange *ex, struct pl_store *s)
{
	struct pl_store_party *v = NULL;
	struct pl_vkey *keys = NULL;
	struct ex_member *members = NULL;
	size_t n = 0;
	int ret;

	ret = pl_store_party_list(s, &v, &n);
	if (ret)
		goto out;
	keys = calloc(n + 1, sizeof(*keys));
	members = calloc(n + 1, sizeof(*members));
	if (!keys || !members) {
		ret = PL_ENOMEM;
		goto out;
	}
	keys[0] = ex->vkey;
	for (size_t i = 0; i < n; i++) {
		ret = pl_vkey_parse(&keys[i + 1], v[i].vkey, strlen(v[i].vkey));
		if (ret) {
			ret = PL_ESTORE;
			goto out;
		}
		snprintf(members[i + 1].name, sizeof(members[i + 1].name), "%s", v[i].name);
		members[i + 1].pid = v[i].pid;
		members[i + 1].revoked = v[i].revoked;
		members[i + 1].has_enc = ex_enc_pk(v[i].enc_key, members[i + 1].enc_pk);
	}
	pthread_rwlock_wrlock(&ex->dir_lock);
	free(ex->keys);
	free(ex->members);
	ex->keys = keys;
	ex->members = members;
	ex->nkeys = n + 1;
	pthread_rwlock_unlock(&ex->dir_lock);
	keys = NULL;
	members = NULL;
out:
	free(v);
	free(keys);
	free(members);
	return ret;
}

/* Index in the cache of a party by name (0 when unknown: slot 0 is the log key). Lock held. */
static size_t ex_dir_find(const struct pl_exchange *ex, const char *name)
{
	for (size_t i = 1; i < ex->nkeys; i++)
		if (strcmp(ex->members[i].name, name) == 0)
			return i;
	return 0;
}

/* ---- The committed-head cache ---- */

/*
 * Validation before the sequencer reads each author's chain head from here
 * instead of loading and parsing the head record. Entries only move forward
 * (a chain never shrinks), so a head loaded from an older snapshot can never
 * replace a newer one. The sequencer, which judges inside its transaction,
 * reads the store.
 */

static size_t ex_head_slot(const struct ex_head *t, size_t cap, const char *author)
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

/* Doubles the table; false (the cache unchanged) without memory. Under head_mu. */
static bool ex_heads_grow(struct pl_exchange *ex)
{
	size_t cap = ex->heads_cap ? ex->heads_cap * 2 : 64;
	struct ex_head *t = calloc(cap, sizeof(*t));

	if (!t)
		return false;
	for (size_t i = 0; i < ex->heads_cap; i++)
		if (ex->heads[i].author[0])
			t[ex_head_slot(t, cap, ex->heads[i].author)] = ex->heads[i];
	free(ex->heads);
	ex->heads = t;
	ex->heads_cap = cap;
	return true;
}

static bool ex_head_get(struct pl_exchange *ex, const char *author, struct pl_chain_link *link,
                        uint64_t *index)
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

/* Records a committed head unless the cache already holds a later one; best effort. */
static void ex_head_put(struct pl_exchange *ex, const char *author,
                        const struct pl_chain_link *link, uint64_t index)
{
	pthread_mutex_lock(&ex->head_mu);
	if (2 * (ex->nheads + 1) <= ex->heads_cap || ex_heads_grow(ex)) {
		struct ex_head *h = &ex->heads[ex_head_slot(ex->heads, ex->heads_cap, author)];
		if (!h->author[0]) {
			snprintf(h->author, sizeof(h->author), "%s", author);
			ex->nheads++;
			h->link = *link;
			h->index = index;
		} else if (link->seq > h->link.seq) {
			h->link = *link;
			h->index = index;
		}
	}
	pthread_mutex_unlock(&ex->head_mu);
}

/* ---- Judging a record against the log ---- */

static void ex_sib_free(struct pl_record **sib, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(sib[i]);
	free(sib);
}

/* True when one of sib[0..n) is of kind k (and by author, unless NULL). */
static bool ex_sib_by(struct pl_record *const *sib, size_t n, enum pl_record_kind k,
                      const char *author)
{
	for (size_t i = 0; i < n; i++)
		if (sib[i]->kind == k && (!author || strcmp(sib[i]->author, author) == 0))
			return true;
	return false;
}

/*
 * Loads the records that refer to the record at index (whose id is id) with
 * a ref of this role: the siblings the rules read. PL_ETOOBIG past
 * PL_RULES_MAX_SIBLINGS. On success *out is a malloc'd array (ex_sib_free()).
 */
static int ex_siblings(struct pl_store *s, uint64_t index, const uint8_t id[static PL_HASH_BYTES],
                       enum pl_ref_role role, struct pl_record ***out, size_t *n)
{
	struct pl_record **sib = NULL;
	uint64_t *refs = NULL;
	size_t nrefs = 0, k = 0;
	int ret;

	refs = malloc(PL_RULES_MAX_SIBLINGS * sizeof(*refs));
	sib = calloc(PL_RULES_MAX_SIBLINGS, sizeof(*sib));
	if (!refs || !sib) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_store_referrers(s, index, refs, PL_RULES_MAX_SIBLINGS, &nrefs);
	for (size_t i = 0; !ret && i < nrefs; i++) {
		struct pl_record *r = malloc(sizeof(*r));
		const struct pl_record_ref *ref;
		if (!r) {
			ret = PL_ENOMEM;
			break;
		}
		ret = ex_load(s, refs[i], r, NULL);
		ref = ret ? NULL : pl_record_ref_find(r, role);
		if (ref && memcmp(ref->id, id, PL_HASH_BYTES) == 0)
			sib[k++] = r;
		else
			free(r);
	}
	if (!ret) {
		*out = sib;
		*n = k;
		sib = NULL;
		k = 0;
	}
out:
	ex_sib_free(sib, k);
	free(refs);
	return ret;
}

/* Where the judge reads party status: the cache (callers) or the store (sequencer). */
struct ex_batch;

struct ex_judge_ctx {
	struct pl_exchange *ex;
	struct pl_store *s;
	bool from_store;
	const struct ex_batch *b; /* in the sequencer: the batch being built */
	/* For the record being judged: the status of its keys, and its author's head. */
	const enum pl_key_status *keys;
	struct pl_chain_link head;
	bool has_head;
	uint64_t head_index;
};

static bool ex_judge_head(const struct ex_judge_ctx *c, const char *author,
                          struct pl_chain_link *link, uint64_t *index);

static enum pl_key_status ex_party_status(struct ex_judge_ctx *c, const char *name)
{
	enum pl_key_status st = PL_KEY_UNKNOWN;

	if (strcmp(name, PL_RECORD_EXCHANGE) == 0)
		return PL_KEY_ACTIVE;
	if (c->from_store) {
		struct pl_store_party p;
		if (pl_store_party_get(c->s, name, &p) == 0)
			st = p.revoked ? PL_KEY_REVOKED : PL_KEY_ACTIVE;
	} else {
		size_t i;
		pthread_rwlock_rdlock(&c->ex->dir_lock);
		i = ex_dir_find(c->ex, name);
		if (i)
			st = c->ex->members[i].revoked ? PL_KEY_REVOKED : PL_KEY_ACTIVE;
		pthread_rwlock_unlock(&c->ex->dir_lock);
	}
	return st;
}

static bool ex_party_is_active(void *arg, const char *party)
{
	return ex_party_status(arg, party) == PL_KEY_ACTIVE;
}

/* Fills why with the author's chain head for a PL_ECHAIN answer. */
static void ex_refuse_head(struct pl_exchange_refusal *why, const struct pl_replay_view *v)
{
	if (!why)
		return;
	why->has_head = v->has_head;
	if (v->has_head) {
		why->head_seq = v->head.seq;
		memcpy(why->head_id, v->head.id, PL_HASH_BYTES);
		why->head_index = v->head_index;
	}
}

/* The author's chain head into c: from memory when it can be, else from the store. */
static int ex_judge_head_read(struct ex_judge_ctx *c, const char *author)
{
	struct pl_record *headrec = NULL;
	struct pl_store_record meta;
	uint64_t seq;
	int ret = 0;

	c->has_head = ex_judge_head(c, author, &c->head, &c->head_index);
	if (c->has_head)
		goto out;
	ret = pl_store_head_get(c->s, author, &seq, &c->head_index);
	if (ret == PL_ENOTFOUND) {
		ret = 0;
		goto out;
	}
	if (ret)
		goto out;
	headrec = malloc(sizeof(*headrec));
	if (!headrec) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = ex_load(c->s, c->head_index, headrec, &meta);
	if (ret)
		goto out;
	pl_chain_link_set(&c->head, headrec, meta.id);
	c->has_head = true;
	if (!c->from_store)
		ex_head_put(c->ex, author, &c->head, c->head_index);
out:
	free(headrec);
	return ret;
}

/* The exchange's store as the replay's source (struct pl_replay_source); arg is the ctx. */
static int ex_src_record(void *arg, const uint8_t id[static PL_RECORD_ID_BYTES],
                         struct pl_record **rec, uint64_t *index)
{
	struct ex_judge_ctx *c = arg;
	struct pl_record *r = NULL;
	int ret;

	ret = pl_store_record_find(c->s, id, index);
	if (ret)
		goto out;
	r = malloc(sizeof(*r));
	ret = r ? ex_load(c->s, *index, r, NULL) : PL_ENOMEM;
	if (ret == 0) {
		*rec = r;
		r = NULL;
	}
out:
	free(r);
	return ret;
}

/* The head ex_judge() read before looking for a duplicate. */
static int ex_src_head(void *arg, const struct pl_record *rec, struct pl_chain_link *head,
                       uint64_t *index)
{
	const struct ex_judge_ctx *c = arg;

	(void)rec;
	if (!c->has_head)
		return PL_ENOTFOUND;
	*head = c->head;
	*index = c->head_index;
	return 0;
}

static int ex_src_siblings(void *arg, uint64_t index, const uint8_t id[static PL_RECORD_ID_BYTES],
                           enum pl_ref_role role, struct pl_record ***sib, size_t *n)
{
	const struct ex_judge_ctx *c = arg;

	return ex_siblings(c->s, index, id, role, sib, n);
}

static enum pl_key_status ex_src_signer(void *arg, const struct pl_record *rec)
{
	return ex_party_status(arg, rec->author);
}

/* A register or revoke of the exchange's names one key, whose status its caller knows. */
static enum pl_key_status ex_src_key(void *arg, const struct pl_record *rec, size_t k)
{
	const struct ex_judge_ctx *c = arg;

	(void)rec;
	return c->keys && k == 0 ? c->keys[0] : PL_KEY_UNKNOWN;
}

/*
 * Reads what the rules need about rec from s and judges it: duplicates,
 * then the replay (the author's chain head, the records it refers to, the
 * records about the same send), its payload, then pl_rules_check(). In the
 * sequencer s is the writer inside the batch's transaction, so records
 * earlier in the same batch count. Returns 0 with *v filled (release it),
 * or the refusal.
 */
static int ex_judge(struct ex_judge_ctx *c, const struct pl_record *rec,
                    const uint8_t id[static PL_HASH_BYTES], const enum pl_key_status *keys,
                    struct pl_replay_view *v, struct pl_exchange_refusal *why)
{
	const struct pl_replay_source src = {
	        .record = ex_src_record,
	        .head = ex_src_head,
	        .siblings = ex_src_siblings,
	        .signer = ex_src_signer,
	        .key = ex_src_key,
	        .party_is_active = ex_party_is_active,
	        .arg = c,
	};
	struct pl_store *s = c->s;
	uint64_t found;
	const char *w = NULL;
	int ret;

	memset(v, 0, sizeof(*v));
	v->about = -1;
	c->keys = keys;
	ret = ex_judge_head_read(c, rec->author);
	if (ret)
		goto out;

	/* Already logged? Only a record at or before its author's head can be. */
	if (c->has_head && rec->seq <= c->head.seq) {
		ret = pl_store_record_find(s, id, &found);
		if (ret == 0) {
			ret = PL_EEXIST;
			ex_refuse(why, "record already logged");
			if (why)
				why->head_index = found;
			goto out;
		}
		if (ret != PL_ENOTFOUND)
			goto out;
	}

	/* The records it refers to must all be logged; too many about one is refused. */
	ret = pl_replay_gather(v, &src, rec, id, PL_REPLAY_STRICT, &w);
	if (ret) {
		if (w)
			ex_refuse(why, w);
		goto out;
	}

	/* Its payload must be here already, and of the stated size. */
	if (rec->has & PL_RECORD_HAS_PAYLOAD) {
		size_t plen;
		ret = pl_store_payload_get(s, rec->payload, NULL, &plen);
		if (ret == PL_ENOTFOUND) {
			ex_refuse(why, "payload not uploaded");
			goto out;
		}
		if (ret)
			goto out;
		if (plen != rec->payload_size) {
			ret = PL_ERULE;
			ex_refuse(why, "payload size differs from the record's");
			goto out;
		}
	}

	ret = pl_replay_check(v, &w);
	if (ret == PL_EINVAL)
		ret = PL_ERULE;
	if (ret) {
		ex_refuse(why, w);
		if (ret == PL_ECHAIN)
			ex_refuse_head(why, v);
	}
out:
	if (ret == PL_ESTORE)
		ex_note_error(c->ex, s, ret);
	if (ret)
		pl_replay_view_release(v);
	return ret;
}

/* ---- The sequencer's batch ---- */

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
	bool wrote;
	bool dir_changed;
};

/*
 * An author's chain head without reading the store. Before the sequencer: the
 * committed-head cache. In the sequencer: the batch's own latest record by the
 * author, else the cache, which holds exactly the committed head of every
 * author it knows (entries only move forward, and the sequencer updates them
 * after each commit, before its next batch).
 */
static bool ex_judge_head(const struct ex_judge_ctx *c, const char *author,
                          struct pl_chain_link *link, uint64_t *index)
{
	for (size_t i = c->b ? c->b->nheads : 0; i-- > 0;) {
		const struct ex_head *h = &c->b->heads[i];
		if (strcmp(h->author, author) == 0) {
			*link = h->link;
			*index = h->index;
			return true;
		}
	}
	return ex_head_get(c->ex, author, link, index);
}

#define EX_MEMO_CACHE 128

/*
 * A stored-hash reader for the proofs of one batch: the batch's own new
 * hashes from memory, and the few older ones every proof of the batch shares
 * read once from the store. Used by the sequencer thread only.
 */
struct ex_memo {
	struct pl_store *s;
	uint64_t first;
	const struct ex_batch *b;
	size_t nc;
	uint64_t idx[EX_MEMO_CACHE];
	uint8_t val[EX_MEMO_CACHE][PL_HASH_BYTES];
};

static int ex_memo_read(void *ctx, const uint64_t *indexes, size_t n,
                        uint8_t (*hashes)[PL_HASH_BYTES])
{
	struct ex_memo *m = ctx;
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		uint64_t x = indexes[i];
		size_t k;
		if (x >= m->first && x - m->first < m->b->nhashes) {
			memcpy(hashes[i], m->b->hashes[x - m->first], PL_HASH_BYTES);
			continue;
		}
		for (k = 0; k < m->nc && m->idx[k] != x; k++)
			;
		if (k < m->nc) {
			memcpy(hashes[i], m->val[k], PL_HASH_BYTES);
			continue;
		}
		ret = pl_store_hashes_get(m->s, &x, 1, &hashes[i]);
		if (!ret && m->nc < EX_MEMO_CACHE) {
			m->idx[m->nc] = x;
			memcpy(m->val[m->nc++], hashes[i], PL_HASH_BYTES);
		}
	}
	return ret;
}

/*
 * The parties that should see rec in their inbox (pids; PL_STORE_PUBLIC for
 * all): those it names, and the author, intermediary and recipients of the
 * send it is about. Until a relayed send is conveyed its recipients see
 * nothing of it.
 */
static size_t ex_audience(struct ex_judge_ctx *c, const struct pl_record *rec,
                          const struct pl_replay_view *v, int64_t out[static EX_AUDIENCE_MAX])
{
	const char *names[EX_AUDIENCE_MAX];
	size_t nn = 0, n = 0;
	bool hide_to = rec->kind == PL_KIND_SEND && (rec->has & PL_RECORD_HAS_VIA);

	if (rec->kind == PL_KIND_STATEMENT)
		out[n++] = PL_STORE_PUBLIC;
	if (v && v->about >= 0) {
		const struct pl_record *a = v->refs[v->about];
		bool relayed = (a->has & PL_RECORD_HAS_VIA) != 0;
		bool conveyed = rec->kind == PL_KIND_CONVEY ||
		                ex_sib_by(v->sib, v->nsib, PL_KIND_CONVEY, NULL);
		hide_to = relayed && !conveyed;
		names[nn++] = a->author;
		if (relayed)
			names[nn++] = a->via;
		for (size_t i = 0; !hide_to && i < a->nto; i++)
			names[nn++] = a->to[i];
	}
	for (size_t i = 0; !hide_to && i < rec->nto; i++)
		names[nn++] = rec->to[i];
	if (rec->has & PL_RECORD_HAS_VIA)
		names[nn++] = rec->via;
	if (rec->has & PL_RECORD_HAS_PARTY)
		names[nn++] = rec->party;
	for (size_t i = 0; i < nn && n < EX_AUDIENCE_MAX; i++) {
		struct pl_store_party p;
		if (strcmp(names[i], rec->author) == 0 || strcmp(names[i], PL_RECORD_EXCHANGE) == 0)
			continue;
		if (pl_store_party_get(c->s, names[i], &p) == 0)
			out[n++] = p.pid;
	}
	return n;
}

/*
 * Appends one judged record to the batch: its row, references, chain head,
 * inboxes, timer, directory change, and its leaf hash.
 */
static int ex_append(struct pl_exchange *ex, struct ex_batch *b, struct ex_judge_ctx *c,
                     const char *msg, size_t len, const struct pl_record *rec,
                     const uint8_t id[static PL_HASH_BYTES], const struct pl_replay_view *v,
                     uint64_t *index)
{
	struct pl_store *s = ex->w;
	struct pl_store_record meta;
	int64_t pids[EX_AUDIENCE_MAX];
	size_t np;
	uint64_t idx = b->size0 + b->n;
	int ret = 0;

	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		uint8_t(*nl)[PL_HASH_BYTES] = realloc(b->leaves, ncap * sizeof(*nl));
		if (!nl)
			return PL_ENOMEM;
		b->leaves = nl;
		b->cap = ncap;
	}
	memset(&meta, 0, sizeof(meta));
	meta.index = idx;
	memcpy(meta.id, id, PL_HASH_BYTES);
	snprintf(meta.author, sizeof(meta.author), "%s", rec->author);
	meta.seq = rec->seq;
	snprintf(meta.kind, sizeof(meta.kind), "%s", pl_record_kind_name(rec->kind));
	if (b->nheads == b->heads_cap) {
		size_t ncap = b->heads_cap ? b->heads_cap * 2 : 64;
		struct ex_head *nh = realloc(b->heads, ncap * sizeof(*nh));
		if (!nh)
			return PL_ENOMEM;
		b->heads = nh;
		b->heads_cap = ncap;
	}
	ret = pl_store_record_put(s, &meta, msg, len);
	for (size_t i = 0; !ret && i < rec->nrefs; i++)
		ret = pl_store_ref_put(s, idx, v->ref_index[i]);
	if (!ret)
		ret = pl_store_head_set(s, rec->author, rec->seq, idx);
	if (ret)
		return ret;
	{
		struct ex_head *h = &b->heads[b->nheads++];
		snprintf(h->author, sizeof(h->author), "%s", rec->author);
		pl_chain_link_set(&h->link, rec, id);
		h->index = idx;
	}
	if (rec->kind == PL_KIND_REGISTER) {
		struct pl_store_party p;
		struct pl_buf kb;
		memset(&p, 0, sizeof(p));
		snprintf(p.name, sizeof(p.name), "%s", rec->party);
		pl_buf_init(&kb, sizeof(p.vkey) - 1);
		ret = rec->nkeys ? pl_vkey_format(&rec->keys[0], &kb) : PL_EINVAL;
		if (!ret)
			memcpy(p.vkey, kb.data, kb.len + 1);
		pl_buf_reset(&kb);
		if (!ret)
			ret = pl_party_ekey_format(&rec->enc, &kb);
		if (!ret)
			memcpy(p.enc_key, kb.data, kb.len + 1);
		pl_buf_release(&kb);
		p.register_index = idx;
		if (!ret)
			ret = pl_store_party_put(s, &p);
		b->dir_changed = true;
	} else if (rec->kind == PL_KIND_REVOKE) {
		ret = pl_store_party_revoke(s, rec->party, idx);
		b->dir_changed = true;
	}
	if (ret)
		return ret;
	np = ex_audience(c, rec, v, pids);
	for (size_t i = 0; !ret && i < np; i++)
		ret = pl_store_inbox_put(s, pids[i], idx);
	/* From now on the blob is its readers', and it is kept. */
	if (!ret && (rec->has & PL_RECORD_HAS_PAYLOAD))
		ret = pl_store_payload_refer(s, rec->payload);
	if (!ret && rec->kind == PL_KIND_SEND && (rec->has & PL_RECORD_HAS_DEADLINE))
		ret = pl_store_timer_put(s, idx, rec->deadline);
	/* One second past a check's deadline, so that an answer made at the deadline is in. */
	if (!ret && rec->kind == PL_KIND_CHECK)
		ret = pl_store_timer_put(s, idx, rec->deadline + 1);
	if (ret)
		return ret;
	pl_tlog_leaf_hash(b->leaves[b->n], msg, len);
	b->n++;
	*index = idx;
	return 0;
}

/*
 * Sets the chain lines of an exchange record from the exchange's head in s:
 * origin, author, seq, prev, and the time: now, but not before the head's nor
 * before the time already in r (that of the record that caused it, whose
 * author's clock may run a little ahead of ours).
 */
static int ex_chain_fields(struct pl_exchange *ex, struct pl_store *s, struct pl_record *r)
{
	struct pl_store_record meta;
	struct pl_record *h = NULL;
	uint64_t seq, hidx;
	int64_t now = ex_now(ex);
	int ret;

	if (now < r->time)
		now = r->time;

	memcpy(r->exchange, ex->origin, strlen(ex->origin) + 1); /* checked at open */
	snprintf(r->author, sizeof(r->author), "%s", PL_RECORD_EXCHANGE);
	ret = pl_store_head_get(s, PL_RECORD_EXCHANGE, &seq, &hidx);
	if (ret == PL_ENOTFOUND) {
		r->seq = 1;
		r->has &= ~PL_RECORD_HAS_PREV;
		ret = 0;
	} else if (ret == 0) {
		h = malloc(sizeof(*h));
		ret = h ? ex_load(s, hidx, h, &meta) : PL_ENOMEM;
		if (!ret) {
			r->seq = seq + 1;
			r->has |= PL_RECORD_HAS_PREV;
			memcpy(r->prev, meta.id, PL_HASH_BYTES);
			if (now < h->time)
				now = h->time; /* the chain never goes back in time */
		}
	}
	r->time = now;
	free(h);
	return ret;
}

/*
 * Judges and appends one signed exchange record. A record the rules refuse
 * is not appended and is not an error (returns 1, why says why): e.g. an
 * expiry after the recipient answered.
 */
static int ex_append_msg(struct pl_exchange *ex, struct ex_batch *b, const char *msg, size_t len,
                         const struct pl_record *r, const enum pl_key_status *keys,
                         struct pl_exchange_refusal *why, uint64_t *index)
{
	struct ex_judge_ctx c = {.ex = ex, .s = ex->w, .from_store = true, .b = b};
	uint8_t id[PL_HASH_BYTES];
	struct pl_replay_view v;
	int ret;

	pl_record_id(id, msg, len);
	ret = ex_judge(&c, r, id, keys, &v, why);
	if (ret == PL_ERULE || ret == PL_ECHAIN || ret == PL_ENOTFOUND || ret == PL_EEXIST)
		return 1;
	if (ret)
		return ret;
	ret = ex_append(ex, b, &c, msg, len, r, id, &v, index);
	pl_replay_view_release(&v);
	return ret;
}

/*
 * Completes, signs (with the self-signing keys of a register or revoke),
 * judges and appends one exchange record. Returns as ex_append_msg(), or
 * PL_EINVAL / PL_EMALFORMED when the record cannot be signed.
 */
static int ex_append_own(struct pl_exchange *ex, struct ex_batch *b, struct pl_record *r,
                         const struct pl_skey *self, size_t nself, const enum pl_key_status *keys,
                         struct pl_exchange_refusal *why, uint64_t *index)
{
	struct pl_skey *signers = NULL;
	struct pl_buf msg;
	const char *w = NULL;
	int ret;

	pl_buf_init(&msg, PL_RECORD_MAX_BYTES);
	ret = ex_chain_fields(ex, ex->w, r);
	if (ret)
		goto out;
	signers = sodium_malloc((1 + nself) * sizeof(*signers));
	if (!signers) {
		ret = PL_ENOMEM;
		goto out;
	}
	signers[0] = ex->key;
	for (size_t i = 0; i < nself; i++)
		signers[1 + i] = self[i];
	ret = pl_record_sign(&msg, r, signers, 1 + nself, &w);
	sodium_memzero(signers, (1 + nself) * sizeof(*signers));
	sodium_free(signers);
	if (ret) {
		ex_refuse(why, w);
		ret = ret == PL_EINVAL ? PL_EINVAL : PL_EMALFORMED;
		goto out;
	}
	ret = ex_append_msg(ex, b, msg.data, msg.len, r, keys, why, index);
out:
	pl_buf_release(&msg);
	return ret;
}

/* A fresh exchange record of kind about the record (a send, or a check) whose id is given. */
static struct pl_record *ex_about(enum pl_record_kind kind, const uint8_t id[static PL_HASH_BYTES])
{
	struct pl_record *r = calloc(1, sizeof(*r));

	if (r) {
		r->kind = kind;
		r->nrefs = 1;
		r->refs[0].role = pl_record_kind_target(kind); /* subject, or check */
		memcpy(r->refs[0].id, id, PL_HASH_BYTES);
	}
	return r;
}

/*
 * Makes the send with this id available to each of parties[0..n): one
 * `available` record per party, as the rules want.
 */
static int ex_append_available(struct pl_exchange *ex, struct ex_batch *b, int64_t not_before,
                               const uint8_t id[static PL_HASH_BYTES],
                               const char (*parties)[PL_RECORD_NAME_MAX + 1], size_t n)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		struct pl_record *r = ex_about(PL_KIND_AVAILABLE, id);
		uint64_t index;
		if (!r)
			return PL_ENOMEM;
		r->nto = 1;
		memcpy(r->to[0], parties[i], sizeof(r->to[0]));
		r->time = not_before;
		ret = ex_append_own(ex, b, r, NULL, 0, NULL, NULL, &index);
		free(r);
	}
	return ret < 0 ? ret : 0;
}

/*
 * Loads the exchange's subject at index (a send or a check) into a new *rec,
 * and the records about it in role into *sib (ex_sib_free()). On failure
 * nothing is returned to free.
 */
static int ex_load_about(struct pl_exchange *ex, uint64_t index, enum pl_ref_role role,
                         struct pl_record **rec, struct pl_store_record *meta,
                         struct pl_record ***sib, size_t *nsib)
{
	struct pl_record *r = malloc(sizeof(*r));
	int ret = r ? ex_load(ex->w, index, r, meta) : PL_ENOMEM;

	if (!ret)
		ret = ex_siblings(ex->w, index, meta->id, role, sib, nsib);
	if (ret)
		free(r);
	else
		*rec = r;
	return ret;
}

/*
 * The deadline of the send at send_index passed: appends the `expire` its
 * state calls for (a relayed send nobody conveyed expires for its
 * intermediary and every recipient; otherwise for the recipients that
 * neither accepted nor refused), or nothing when there is nothing to expire.
 */
static int ex_append_expire(struct pl_exchange *ex, struct ex_batch *b, uint64_t send_index)
{
	struct pl_record *send = NULL, *r = NULL;
	struct pl_record **sib = NULL;
	struct pl_store_record meta;
	size_t nsib = 0;
	uint64_t index;
	bool relayed, stalled;
	int ret;

	ret = ex_load_about(ex, send_index, PL_ROLE_SUBJECT, &send, &meta, &sib, &nsib);
	if (ret)
		goto out;
	relayed = (send->has & PL_RECORD_HAS_VIA) != 0;
	stalled = relayed && !ex_sib_by(sib, nsib, PL_KIND_CONVEY, NULL);
	if (ex_sib_by(sib, nsib, PL_KIND_EXPIRE, NULL) ||
	    (relayed && ex_sib_by(sib, nsib, PL_KIND_DECLINE, NULL)))
		goto out;
	r = ex_about(PL_KIND_EXPIRE, meta.id);
	if (!r) {
		ret = PL_ENOMEM;
		goto out;
	}
	r->time = send->deadline > send->time ? send->deadline : send->time;
	if (stalled) {
		r->has |= PL_RECORD_HAS_VIA;
		memcpy(r->via, send->via, sizeof(r->via));
	}
	for (size_t i = 0; i < send->nto; i++) {
		if (!stalled && (ex_sib_by(sib, nsib, PL_KIND_ACCEPT, send->to[i]) ||
		                 ex_sib_by(sib, nsib, PL_KIND_REFUSE, send->to[i])))
			continue;
		memcpy(r->to[r->nto++], send->to[i], sizeof(r->to[0]));
	}
	if (r->nto)
		ret = ex_append_own(ex, b, r, NULL, 0, NULL, NULL, &index);
out:
	ex_sib_free(sib, nsib);
	free(send);
	free(r);
	return ret < 0 ? ret : 0;
}

/*
 * The window of the check at check_index closed: appends the `unanswered`
 * naming the ends that did not answer, or nothing when both did (or it is
 * already logged).
 */
static int ex_append_unanswered(struct pl_exchange *ex, struct ex_batch *b, uint64_t check_index)
{
	struct pl_record *check = NULL, *r = NULL;
	struct pl_record **sib = NULL;
	struct pl_store_record meta;
	size_t nsib = 0;
	uint64_t index;
	int ret;

	ret = ex_load_about(ex, check_index, PL_ROLE_CHECK, &check, &meta, &sib, &nsib);
	if (ret || ex_sib_by(sib, nsib, PL_KIND_UNANSWERED, NULL))
		goto out;
	r = ex_about(PL_KIND_UNANSWERED, meta.id);
	if (!r) {
		ret = PL_ENOMEM;
		goto out;
	}
	r->has |= PL_RECORD_HAS_LINE;
	memcpy(r->line, check->line, sizeof(r->line));
	r->time = check->deadline;
	for (size_t i = 0; i < check->nto; i++) {
		if (!ex_sib_by(sib, nsib, PL_KIND_ANSWER, check->to[i]))
			memcpy(r->to[r->nto++], check->to[i], sizeof(r->to[0]));
	}
	if (r->nto)
		ret = ex_append_own(ex, b, r, NULL, 0, NULL, NULL, &index);
out:
	ex_sib_free(sib, nsib);
	free(check);
	free(r);
	return ret < 0 ? ret : 0;
}

/* A timer fired for the record at index: a send's deadline (expire) or a check's (unanswered). */
static int ex_append_deadline(struct pl_exchange *ex, struct ex_batch *b, uint64_t index)
{
	struct pl_store_record meta;
	int ret = pl_store_record_get(ex->w, index, &meta, NULL);

	if (ret)
		return ret;
	if (strcmp(meta.kind, pl_record_kind_name(PL_KIND_CHECK)) == 0)
		return ex_append_unanswered(ex, b, index);
	return ex_append_expire(ex, b, index);
}

/*
 * Logs a check of line l that fell due at `due`, to both ends, answer by
 * due + window. A check the rules refuse (an end not registered) or that
 * can no longer be made (its window already closed by the exchange's clock)
 * is skipped, not an error.
 */
static int ex_append_check(struct pl_exchange *ex, struct ex_batch *b, const struct pl_line *l,
                           int64_t due)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	bool swap;
	uint64_t index;
	int ret;

	if (!r)
		return PL_ENOMEM;
	r->kind = PL_KIND_CHECK;
	r->has |= PL_RECORD_HAS_LINE | PL_RECORD_HAS_DEADLINE;
	memcpy(r->line, l->name, sizeof(r->line));
	/* The `to` lines are sorted by their bytes (docs/records.md §2). */
	swap = strcmp(l->ends[0], l->ends[1]) > 0;
	r->nto = 2;
	memcpy(r->to[0], l->ends[swap ? 1 : 0], sizeof(r->to[0]));
	memcpy(r->to[1], l->ends[swap ? 0 : 1], sizeof(r->to[1]));
	r->time = due;
	r->deadline = due + l->window;
	ret = ex_append_own(ex, b, r, NULL, 0, NULL, NULL, &index);
	free(r);
	if (ret == PL_EMALFORMED || ret == PL_EINVAL)
		ret = 0; /* the chain's time had already reached the deadline */
	return ret < 0 ? ret : 0;
}

/*
 * Logs a check of every line whose due time has come, then schedules its
 * next one. A due time whose window passed before the exchange could log it
 * (it was closed or stalled) is skipped: checks are never made up.
 */
static int ex_append_checks(struct pl_exchange *ex, struct ex_batch *b)
{
	int64_t now = ex_now(ex);
	int ret = 0;

	for (size_t i = 0; !ret && i < ex->o.nlines; i++) {
		const struct pl_line *l = &ex->o.lines[i];
		if (ex->line_next[i] > now)
			continue;
		if (now < ex->line_next[i] + l->window)
			ret = ex_append_check(ex, b, l, ex->line_next[i]);
		if (pl_line_next(l, now, &ex->line_next[i]) != 0)
			ex->line_next[i] = INT64_MAX; /* beyond year 9999 */
	}
	return ret;
}

/* Runs one submitted record through the batch. Refusals stay with the item. */
static int ex_seq_record(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	struct ex_judge_ctx c = {.ex = ex, .s = ex->w, .from_store = true, .b = b};
	struct pl_replay_view v;
	int ret;

	ret = ex_judge(&c, it->rec, it->id, NULL, &v, &it->why);
	if (ret == PL_ESTORE || ret == PL_ENOMEM)
		return ret;
	if (ret) {
		it->status = ret;
		return 0;
	}
	ret = ex_append(ex, b, &c, it->msg, it->len, it->rec, it->id, &v, &it->index);
	if (!ret) {
		it->appended = true;
		/*
		 * A direct send is available to its recipients at once; a relayed
		 * one to its intermediary at once and to the recipients when
		 * conveyed.
		 */
		const struct pl_record *r = it->rec;
		if (r->kind == PL_KIND_SEND && (r->has & PL_RECORD_HAS_VIA))
			ret = ex_append_available(ex, b, r->time, it->id, &r->via, 1);
		else if (r->kind == PL_KIND_SEND)
			ret = ex_append_available(ex, b, r->time, it->id, r->to, r->nto);
		else if (r->kind == PL_KIND_CONVEY && v.about >= 0)
			ret = ex_append_available(ex, b, r->time, r->refs[v.about].id,
			                          v.refs[v.about]->to, v.refs[v.about]->nto);
	}
	pl_replay_view_release(&v);
	return ret;
}

/*
 * Fills r with the lines of a register (revoke false) or revoke of party q
 * as the directory in s stands, and the status of its key. Returns 0, or a
 * refusal: PL_EEXIST (already registered), PL_ENOTFOUND (no such active
 * party), PL_EKEY (the key is not the party's), with why set.
 */
static int ex_party_record(struct pl_store *s, struct ex_party_req *q, bool revoke,
                           struct pl_record *r, enum pl_key_status *status,
                           struct pl_exchange_refusal *why)
{
	struct pl_store_party p;
	int ret = pl_store_party_get(s, q->name, &p);

	if (!revoke) {
		if (ret == 0) {
			ex_refuse(why, "party already registered");
			return PL_EEXIST;
		}
		if (ret != PL_ENOTFOUND)
			return ret;
		*status = PL_KEY_UNKNOWN;
		r->kind = PL_KIND_REGISTER;
		r->has |= PL_RECORD_HAS_ENC;
		r->enc = q->enc;
	} else {
		struct pl_vkey stored;
		if (ret == 0 && p.revoked)
			ret = PL_ENOTFOUND;
		if (ret == PL_ENOTFOUND)
			ex_refuse(why, "no such active party");
		if (ret)
			return ret;
		if (pl_vkey_parse(&stored, p.vkey, strlen(p.vkey)) != 0)
			return PL_ESTORE;
		if (q->vkey.name[0] && !pl_vkey_equal(&stored, &q->vkey)) {
			ex_refuse(why, "not the party's registered key");
			return PL_EKEY;
		}
		q->vkey = stored;
		*status = PL_KEY_ACTIVE;
		r->kind = PL_KIND_REVOKE;
	}
	r->has |= PL_RECORD_HAS_PARTY;
	snprintf(r->party, sizeof(r->party), "%s", q->name);
	r->nkeys = 1;
	r->keys[0] = q->vkey;
	return 0;
}

/* Maps a party operation's outcome onto its item: refusals stay with the item. */
static int ex_party_outcome(struct ex_item *it, int ret)
{
	if (ret == 1) {
		it->status = it->why.has_head ? PL_ECHAIN : PL_ERULE;
		return 0;
	}
	if (ret == PL_EINVAL || ret == PL_EMALFORMED) {
		/* The record cannot be signed: the self-signing keys do not fit. */
		it->status = PL_EKEY;
		return 0;
	}
	if (ret == PL_EEXIST || ret == PL_ENOTFOUND || ret == PL_EKEY) {
		it->status = ret;
		return 0;
	}
	if (ret == 0)
		it->appended = true;
	return ret;
}

static int ex_seq_party(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	struct ex_party_req *q = it->party;
	struct pl_record *r = calloc(1, sizeof(*r));
	enum pl_key_status status;
	int ret;

	if (!r)
		return PL_ENOMEM;
	ret = ex_party_record(ex->w, q, it->type == EX_PARTY_REVOKE, r, &status, &it->why);
	if (!ret)
		ret = ex_append_own(ex, b, r, q->self, q->nself, &status, &it->why, &it->index);
	free(r);
	return ex_party_outcome(it, ret);
}

/* A register or revoke the party signed itself (pl_exchange_party_complete()). */
static int ex_seq_signed(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	struct ex_party_req q;
	struct pl_record *r = calloc(1, sizeof(*r));
	enum pl_key_status status;
	int ret;

	if (!r)
		return PL_ENOMEM;
	memset(&q, 0, sizeof(q));
	snprintf(q.name, sizeof(q.name), "%s", it->rec->party);
	q.vkey = it->rec->keys[0];
	q.enc = it->rec->enc;
	/* The directory may have changed since the text was prepared. */
	ret = ex_party_record(ex->w, &q, it->rec->kind == PL_KIND_REVOKE, r, &status, &it->why);
	if (!ret)
		ret = ex_append_msg(ex, b, it->msg, it->len, it->rec, &status, &it->why,
		                    &it->index);
	free(r);
	return ex_party_outcome(it, ret);
}

static int ex_seq_timers(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	uint64_t due[EX_TIMERS_MAX];
	uint64_t n0 = b->n;
	size_t n = 0;
	int ret;

	/* Blobs no record referred to within payload_retention seconds go first. */
	ret = pl_store_payload_expire(ex->w, ex_now(ex) - (int64_t)ex->o.payload_retention_s,
	                              EX_TIMERS_MAX, &n);
	if (!ret && n)
		b->wrote = true;
	if (!ret)
		ret = pl_store_timer_due(ex->w, ex_now(ex), due, EX_TIMERS_MAX, &n);
	for (size_t i = 0; !ret && i < n; i++) {
		ret = ex_append_deadline(ex, b, due[i]);
		if (!ret)
			ret = pl_store_timer_del(ex->w, due[i]);
		b->wrote = true;
	}
	if (!ret)
		ret = ex_append_checks(ex, b);
	if (!ret)
		it->count = (int)(b->n - n0);
	return ret;
}

/*
 * EX_COSIGN: adds the cosignature lines it->msg to the stored checkpoint of
 * size it->index; on success it->msg becomes the whole new note (published
 * after the commit). A line by a key that already signed it is left out.
 */
static int ex_seq_cosign(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	struct pl_note *lines = NULL;
	struct pl_buf note, msg;
	int ret;

	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	pl_buf_init(&msg, PL_NOTE_MAX_BYTES);
	ret = pl_store_checkpoint_get(ex->w, it->index, NULL, &note);
	/* The lines parse as the signatures of a note whose text is a placeholder. */
	if (!ret)
		ret = pl_buf_add(&msg, "-\n\n", 3);
	if (!ret)
		ret = pl_buf_add(&msg, it->msg, it->len);
	if (!ret && pl_note_parse(&lines, msg.data, msg.len) != 0)
		ret = PL_EMALFORMED;
	for (size_t i = 0; !ret && lines && i < lines->nsigs; i++) {
		const struct pl_note_sig *sg = &lines->sigs[i];
		ret = pl_note_add_sig(&note, sg->name, sg->id, sg->sig, sg->sig_len);
		if (ret == PL_EEXIST)
			ret = 0;
	}
	if (!ret)
		ret = pl_store_checkpoint_cosign(ex->w, it->index, note.data, note.len);
	if (!ret) {
		free(it->msg);
		it->msg = pl_buf_detach(&note, &it->len);
		ret = it->msg ? 0 : PL_ENOMEM;
		b->wrote = true;
	}
	it->status = ret == PL_ENOTFOUND || ret == PL_EMALFORMED || ret == PL_ETOOBIG ? ret : 0;
	pl_note_free(lines);
	pl_buf_release(&note);
	pl_buf_release(&msg);
	/* A bad request fails alone; only a store failure fails the batch. */
	return it->status ? 0 : ret;
}

/* After the commit: the newest cosigned checkpoint, and the latest one if it is that one. */
static void ex_publish_cosigned(struct pl_exchange *ex, struct ex_item *items)
{
	for (struct ex_item *it = items; it; it = it->next) {
		char *a, *c;
		if (it->type != EX_COSIGN || it->status || !it->msg)
			continue;
		a = malloc(it->len + 1);
		c = malloc(it->len + 1);
		if (!a || !c) {
			free(a);
			free(c);
			continue;
		}
		memcpy(a, it->msg, it->len);
		a[it->len] = '\0';
		memcpy(c, a, it->len + 1);
		pthread_mutex_lock(&ex->st_mu);
		if (!ex->cosigned || it->index >= ex->cosigned_size) {
			free(ex->cosigned);
			ex->cosigned = a;
			ex->cosigned_len = it->len;
			ex->cosigned_size = it->index;
			a = NULL;
		}
		if (it->index == ex->size) {
			free(ex->checkpoint);
			ex->checkpoint = c;
			ex->checkpoint_len = it->len;
			c = NULL;
		}
		pthread_mutex_unlock(&ex->st_mu);
		free(a);
		free(c);
	}
}

/*
 * Stores an uploaded blob. A new one must fit in its uploader's allowance of
 * unreferenced bytes (payload_unreferenced_max), so that nobody fills the
 * disk within the retention window; a refusal is the item's (PL_ELIMIT).
 */
static int ex_seq_payload(struct pl_exchange *ex, struct ex_batch *b, struct ex_item *it)
{
	struct pl_store_payload info;
	uint64_t pending = 0;
	int ret = pl_store_payload_info(ex->w, it->hash, &info);

	if (ret == PL_ENOTFOUND) {
		ret = pl_store_payload_pending(ex->w, it->uploader, &pending);
		if (!ret && pending + it->blob_len > ex->o.payload_unreferenced_max) {
			it->status = PL_ELIMIT;
			return 0;
		}
	}
	if (!ret)
		ret = pl_store_payload_put(ex->w, it->hash, it->blob, it->blob_len, it->uploader,
		                           ex_now(ex));
	if (!ret)
		b->wrote = true;
	return ret;
}

/* Extends the tree by the batch's leaves and signs its checkpoint, in the transaction. */
static int ex_seal(struct pl_exchange *ex, struct ex_batch *b, struct pl_buf *cpnote)
{
	struct pl_tlog_reader rd = pl_store_tlog_reader(ex->w);
	struct pl_checkpoint *cp = NULL;
	uint8_t(*hashes)[PL_HASH_BYTES] = NULL;
	uint8_t root[PL_HASH_BYTES];
	size_t cap = 2 * b->n + 64, nh = 0;
	uint64_t size = b->size0 + b->n;
	int ret;

	hashes = malloc(cap * sizeof(*hashes));
	cp = malloc(sizeof(*cp));
	if (!hashes || !cp) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_tlog_append(&rd, b->size0, (const uint8_t(*)[PL_HASH_BYTES])b->leaves, b->n,
	                     hashes, cap, &nh);
	if (!ret)
		ret = pl_store_hashes_put(ex->w, pl_tlog_stored_count(b->size0),
		                          (const uint8_t(*)[PL_HASH_BYTES])hashes, nh);
	if (!ret) {
		b->hashes = hashes;
		b->nhashes = nh;
		hashes = NULL;
		ret = pl_tlog_tree_hash(&rd, size, root);
	}
	if (!ret)
		ret = pl_checkpoint_set(cp, ex->origin, size, root);
	if (!ret)
		ret = pl_checkpoint_sign(cpnote, cp, &ex->key);
	if (!ret)
		ret = pl_store_checkpoint_put(ex->w, size, cpnote->data, cpnote->len);
out:
	free(hashes);
	free(cp);
	return ret;
}

/* Hands out an item's result: wakes its waiter or calls its callback. */
static void ex_complete(struct pl_exchange *ex, struct ex_item *it)
{
	if (it->async) {
		if (it->status == 0 && it->appended && !it->receipt.proof)
			it->status = ex_receipt(ex, NULL, it->index, it->size, &it->receipt);
		it->cb.fn(it->cb.arg, it->status, it->status ? NULL : &it->receipt, &it->why);
		pl_receipt_release(&it->receipt);
		free(it->msg);
		free(it->rec);
		free(it);
		return;
	}
	pthread_mutex_lock(&ex->mu);
	it->done = true;
	pthread_cond_signal(&it->cv);
	pthread_mutex_unlock(&ex->mu);
}

/* Fdatasyncs the published file on request, so that its sync runs beside the store's. */
static void *ex_syncer(void *arg)
{
	struct pl_exchange *ex = arg;

	pthread_mutex_lock(&ex->sync_mu);
	for (;;) {
		uint64_t gen;
		int ret;
		while (ex->sync_done == ex->sync_asked && !ex->sync_stop)
			pthread_cond_wait(&ex->sync_cv, &ex->sync_mu);
		if (ex->sync_done == ex->sync_asked)
			break;
		gen = ex->sync_asked;
		pthread_mutex_unlock(&ex->sync_mu);
		ret = pl__published_sync(ex->pubfd);
		pthread_mutex_lock(&ex->sync_mu);
		ex->sync_ret = ret;
		ex->sync_errno = ret ? errno : 0;
		ex->sync_done = gen;
		pthread_cond_broadcast(&ex->sync_cv);
	}
	pthread_mutex_unlock(&ex->sync_mu);
	return NULL;
}

/*
 * Makes the batch just committed durable, before anyone hears of it. The
 * commit has made it visible but not durable (pl_store_sequencer_start()); the
 * batch's checkpoint cp (NULL when the batch signed none) then goes to the
 * published file's free slot, and the two syncs run at once: the syncer
 * thread fdatasyncs the file while this thread syncs the store. So G7 costs
 * no second sync in series, and a process killed at any point leaves the
 * file at most as new as the store (open accepts a store ahead of the file,
 * never one behind it). Only a power loss between the two syncs' ends can
 * leave the file one batch ahead of the store; open then refuses, as it must
 * when it cannot tell that from a lost WAL. A failure here leaves the store
 * and the published state apart: the exchange fails every later batch until
 * it is opened again.
 */
static int ex_durable(struct pl_exchange *ex, const struct pl_buf *cp)
{
	uint64_t gen = 0;
	int ret = 0, err = 0, wal;

	if (cp) {
		ret = pl__published_write(ex->pubfd, 1 - ex->pub_slot, cp->data, cp->len);
		err = ret ? errno : 0;
		if (!ret) {
			pthread_mutex_lock(&ex->sync_mu);
			gen = ++ex->sync_asked;
			pthread_cond_signal(&ex->sync_cv);
			pthread_mutex_unlock(&ex->sync_mu);
		}
	}
	wal = ex_note_error(ex, ex->w, pl_store_sync(ex->w));
	if (gen) {
		pthread_mutex_lock(&ex->sync_mu);
		while (ex->sync_done < gen)
			pthread_cond_wait(&ex->sync_cv, &ex->sync_mu);
		ret = ex->sync_ret;
		err = ex->sync_errno;
		pthread_mutex_unlock(&ex->sync_mu);
	}
	if (ret) {
		pthread_mutex_lock(&ex->err_mu);
		snprintf(ex->lasterr, sizeof(ex->lasterr), "%s: cannot make it durable: %s",
		         PL_EXCHANGE_PUBLISHED_FILE, strerror(err));
		pthread_mutex_unlock(&ex->err_mu);
		ret = PL_ESTORE;
	} else if (cp) {
		ex->pub_slot = 1 - ex->pub_slot;
	}
	ret = ret ? ret : wal;
	if (ret)
		ex->failed = true;
	return ret;
}

/* Runs one batch: every item in one transaction, one checkpoint, one commit. */
static void ex_run_batch(struct pl_exchange *ex, struct ex_item *items)
{
	struct ex_batch b;
	struct pl_buf cp;
	struct ex_item *it, *next;
	int ret;

	memset(&b, 0, sizeof(b));
	pl_buf_init(&cp, PL_CHECKPOINT_MAX_BYTES + 4096);
	pthread_mutex_lock(&ex->st_mu);
	b.size0 = ex->size;
	pthread_mutex_unlock(&ex->st_mu);

	ret = ex->failed ? PL_ESTORE : pl_store_begin(ex->w);
	for (it = items; !ret && it; it = it->next) {
		switch (it->type) {
		case EX_RECORD:
			ret = ex_seq_record(ex, &b, it);
			break;
		case EX_PAYLOAD:
			ret = ex_seq_payload(ex, &b, it);
			break;
		case EX_PARTY_ADD:
		case EX_PARTY_REVOKE:
			ret = ex_seq_party(ex, &b, it);
			break;
		case EX_PARTY_SIGNED:
			ret = ex_seq_signed(ex, &b, it);
			break;
		case EX_TIMERS:
			ret = ex_seq_timers(ex, &b, it);
			break;
		case EX_COSIGN:
			ret = ex_seq_cosign(ex, &b, it);
			break;
		}
	}
	if (!ret && b.n)
		ret = ex_seal(ex, &b, &cp);
	if (!ret && (b.n || b.wrote)) {
		ret = pl_store_commit(ex->w);
		if (!ret)
			ret = ex_durable(ex, b.n ? &cp : NULL);
	} else {
		pl_store_rollback(ex->w);
	}

	if (ret) {
		/* Every item that was not refused fails. Nothing of the batch is kept, unless
		 * its commit could not be made durable: then the exchange stops (ex_durable()). */
		if (!ex->failed)
			ex_note_error(ex, ex->w, ret);
		pl_store_rollback(ex->w);
		for (it = items; it; it = it->next) {
			if (it->status == 0) {
				it->status = ret;
				ex_refuse(&it->why, "store error");
			}
			it->appended = false;
		}
	} else if (b.n) {
		struct ex_memo *m = calloc(1, sizeof(*m));
		char *text = strdup(cp.data);
		/* Durable: publish the checkpoint (streams and long polls learn of it first)... */
		if (b.dir_changed)
			(void)ex_dir_load(ex, ex->w);
		pthread_mutex_lock(&ex->st_mu);
		ex->size = b.size0 + b.n;
		if (text) {
			free(ex->checkpoint);
			ex->checkpoint = text;
			ex->checkpoint_len = cp.len;
		}
		pthread_cond_broadcast(&ex->size_cv);
		pthread_mutex_unlock(&ex->st_mu);
		/* Before anyone is answered: an author's next record must find this head. */
		for (size_t i = 0; i < b.nheads; i++)
			ex_head_put(ex, b.heads[i].author, &b.heads[i].link, b.heads[i].index);
		if (ex->o.on_append)
			ex->o.on_append(ex->o.on_append_arg, b.size0 + b.n);
		/* ...then the submitters' proofs, from the batch's hashes in memory. A proof
		 * that fails here is computed again from the store when it is handed out. */
		for (it = items; m && it; it = it->next) {
			struct pl_tlog_reader rd = {.read = ex_memo_read, .ctx = m};
			if (it->type != EX_RECORD || !it->appended)
				continue;
			m->s = ex->w;
			m->first = pl_tlog_stored_count(b.size0);
			m->b = &b;
			it->size = b.size0 + b.n;
			if (ex_receipt_make(&rd, it->index, it->id, it->size, cp.data, cp.len, NULL,
			                    &it->receipt) != 0)
				pl_receipt_release(&it->receipt);
		}
		free(m);
	}
	if (!ret)
		ex_publish_cosigned(ex, items);
	for (it = items; it; it = next) {
		next = it->next;
		it->size = b.size0 + b.n;
		ex_complete(ex, it);
	}
	/* The store's upkeep, after the submitters are answered. */
	if (!ret)
		(void)ex_note_error(ex, ex->w, pl_store_maintain(ex->w, false));
	free(b.leaves);
	free(b.hashes);
	free(b.heads);
	pl_buf_release(&cp);
}

static void *ex_sequencer(void *arg)
{
	struct pl_exchange *ex = arg;

	pthread_mutex_lock(&ex->mu);
	for (;;) {
		struct ex_item *batch, *last;
		size_t n;

		while (!ex->head && !ex->stopping)
			pthread_cond_wait(&ex->q_cv, &ex->mu);
		if (!ex->head)
			break;
		/*
		 * Linger while submissions keep arriving, up to the batch's age or
		 * size: a slice in which none arrived ends it.
		 */
		if (ex->o.batch_age_us > 1 && !ex->stopping) {
			int64_t until = ex->head->enqueued_us + ex->o.batch_age_us;
			while (ex->qlen < ex->o.batch_max && !ex->stopping) {
				int64_t now = ex_mono_us();
				int64_t slice = until - now;
				size_t before = ex->qlen;
				struct timespec ts;
				if (slice <= 0)
					break;
				if (slice > ex->o.batch_idle_us)
					slice = ex->o.batch_idle_us;
				ts = ex_deadline(slice);
				pthread_cond_timedwait(&ex->q_cv, &ex->mu, &ts);
				if (ex->qlen == before)
					break; /* idle: nobody else is coming soon */
			}
		}
		batch = ex->head;
		last = batch;
		for (n = 1; n < ex->o.batch_max && last->next; n++)
			last = last->next;
		ex->head = last->next;
		if (!ex->head)
			ex->tail = NULL;
		last->next = NULL;
		ex->qlen -= n;
		pthread_mutex_unlock(&ex->mu);
		ex_run_batch(ex, batch);
		pthread_mutex_lock(&ex->mu);
	}
	pthread_mutex_unlock(&ex->mu);
	return NULL;
}

/* Queues an item. Returns PL_ESTATE after shutdown. */
static int ex_enqueue(struct pl_exchange *ex, struct ex_item *it)
{
	int ret = 0;

	it->next = NULL;
	it->enqueued_us = ex_mono_us();
	pthread_mutex_lock(&ex->mu);
	if (ex->stopping) {
		ret = PL_ESTATE;
	} else {
		if (ex->tail)
			ex->tail->next = it;
		else
			ex->head = it;
		ex->tail = it;
		ex->qlen++;
		/*
		 * Wake the sequencer for a first item or a full batch only: while it
		 * lingers it looks at the queue once per idle slice, so the arrivals
		 * in between cost no thread switch each.
		 */
		if (ex->qlen == 1 || ex->qlen == ex->o.batch_max)
			pthread_cond_signal(&ex->q_cv);
	}
	pthread_mutex_unlock(&ex->mu);
	return ret;
}

/* Queues a synchronous item and waits for the sequencer to finish it. */
static int ex_run_sync(struct pl_exchange *ex, struct ex_item *it)
{
	int ret;

	if (ex_cond_init(&it->cv))
		return PL_ENOMEM;
	it->cv_init = true;
	ret = ex_enqueue(ex, it);
	if (!ret) {
		pthread_mutex_lock(&ex->mu);
		while (!it->done)
			pthread_cond_wait(&it->cv, &ex->mu);
		pthread_mutex_unlock(&ex->mu);
		ret = it->status;
	}
	pthread_cond_destroy(&it->cv);
	it->cv_init = false;
	return ret;
}

static void *ex_timer_thread(void *arg)
{
	struct pl_exchange *ex = arg;

	for (;;) {
		struct timespec ts = ex_deadline((int64_t)ex->o.timer_interval_ms * 1000);
		bool stop;

		pthread_mutex_lock(&ex->mu);
		if (!ex->stopping)
			pthread_cond_timedwait(&ex->timer_cv, &ex->mu, &ts);
		stop = ex->stopping;
		pthread_mutex_unlock(&ex->mu);
		if (stop)
			break;
		(void)pl_exchange_run_timers(ex);
	}
	return NULL;
}

/* ---- Receipts ---- */

/* The tlog-proof text of the record at index under the signed checkpoint cp. */
static int ex_proof_text(struct pl_store *s, uint64_t index, const char *cp, size_t cplen,
                         struct pl_buf *out)
{
	struct pl_tlog_reader rd = pl_store_tlog_reader(s);
	int ret = pl_proof_build(out, &rd, index, NULL, 0, cp, cplen);

	/* Our own checkpoint no longer parses: the store is damaged. */
	return ret == PL_EINVAL ? PL_ESTORE : ret;
}

/*
 * Assembles a receipt: the one place that does, for the batch (rd reads its
 * hashes in memory) and for the store. The tlog-proof of the record at
 * index, whose id is given, read through rd, under the signed checkpoint
 * cp[0..cplen) at tree size size. When take is not NULL, *take is cp as a
 * malloc'd string and is taken on success (*take set to NULL); else cp is
 * copied. On success fills *out (pl_receipt_release()); else *out untouched.
 */
static int ex_receipt_make(struct pl_tlog_reader *rd, uint64_t index,
                           const uint8_t id[static PL_HASH_BYTES], uint64_t size, const char *cp,
                           size_t cplen, char **take, struct pl_receipt *out)
{
	struct pl_receipt r;
	struct pl_buf proof;
	int ret;

	memset(&r, 0, sizeof(r));
	pl_buf_init(&proof, PL_TLOG_PROOF_MAX_BYTES);
	ret = pl_proof_build(&proof, rd, index, NULL, 0, cp, cplen);
	if (ret == PL_EINVAL)
		ret = PL_ESTORE; /* our own checkpoint no longer parses: the store is damaged */
	if (ret)
		goto out;
	r.index = index;
	memcpy(r.id, id, PL_HASH_BYTES);
	r.size = size;
	r.proof = pl_buf_detach(&proof, &r.proof_len);
	if (r.proof && take) {
		r.checkpoint = *take;
		*take = NULL;
	} else if (r.proof && (r.checkpoint = malloc(cplen + 1)) != NULL) {
		memcpy(r.checkpoint, cp, cplen);
		r.checkpoint[cplen] = '\0';
	}
	if (!r.checkpoint) {
		pl_receipt_release(&r);
		ret = PL_ENOMEM;
		goto out;
	}
	r.checkpoint_len = cplen;
	*out = r;
out:
	pl_buf_release(&proof);
	return ret;
}

/* The receipt of the record at index under the checkpoint at size, read from the store s
 * (NULL: a reader's). */
static int ex_receipt(struct pl_exchange *ex, struct pl_store *s, uint64_t index, uint64_t size,
                      struct pl_receipt *out)
{
	struct pl_store *own = NULL;
	struct pl_tlog_reader rd;
	struct pl_store_record meta;
	struct pl_buf cp;
	char *text = NULL;
	size_t len = 0;
	int ret;

	pl_buf_init(&cp, PL_CHECKPOINT_MAX_BYTES + 4096);
	if (!s)
		s = own = ex_reader_get(ex);
	ret = pl_store_record_get(s, index, &meta, NULL);
	if (!ret)
		ret = pl_store_checkpoint_get(s, size, NULL, &cp);
	if (!ret && !(text = pl_buf_detach(&cp, &len)))
		ret = PL_ENOMEM;
	if (!ret) {
		rd = pl_store_tlog_reader(s);
		ret = ex_receipt_make(&rd, index, meta.id, size, text, len, &text, out);
	}
	ex_note_error(ex, s, ret);
	if (own)
		ex_reader_put(ex, own);
	free(text);
	pl_buf_release(&cp);
	return ret;
}

int pl_exchange_receipt_get(struct pl_exchange *ex, uint64_t index, struct pl_receipt *out)
{
	struct pl_exchange_entry e;
	struct ex_anchor a;
	struct pl_store *s;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	ret = ex_anchor(ex, &a);
	if (ret)
		return ret;
	memset(&e, 0, sizeof(e));
	s = ex_reader_get(ex);
	/* Read and checked as GET /records reads it: a damaged store answers no receipt. */
	ret = ex_entry(ex, s, &a, index, &e);
	if (!ret)
		ret = ex_receipt(ex, s, index, a.size, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	pl_exchange_entry_release(&e);
	return ret;
}

/* ---- Submissions ---- */

/*
 * The stateless check and the caller-side stateful check of a submission.
 * On success *itp is a new queued-to-be item owning a copy of the record.
 */
static int ex_prepare(struct pl_exchange *ex, const char *msg, size_t len,
                      const struct pl_exchange_done *done, struct ex_item **itp,
                      struct pl_exchange_refusal *why)
{
	struct ex_judge_ctx c = {.ex = ex, .from_store = false};
	struct ex_item *it = NULL;
	struct pl_vkey signer;
	struct pl_replay_view v;
	const char *w = NULL;
	int64_t now, skew;
	int ret;

	if (!msg || len == 0) {
		ret = PL_EMALFORMED;
		ex_refuse(why, "empty record");
		goto out;
	}
	if (len > PL_RECORD_MAX_BYTES) {
		ret = PL_ETOOBIG;
		ex_refuse(why, "record too large");
		goto out;
	}
	it = calloc(1, sizeof(*it));
	if (!it || !(it->rec = malloc(sizeof(*it->rec))) || !(it->msg = malloc(len + 1))) {
		ret = PL_ENOMEM;
		goto out;
	}
	memcpy(it->msg, msg, len);
	it->msg[len] = '\0';
	it->len = len;
	it->type = EX_RECORD;

	pthread_rwlock_rdlock(&ex->dir_lock);
	ret = pl_record_open(it->rec, it->id, &signer, it->msg, len, ex->keys, ex->nkeys, &w);
	pthread_rwlock_unlock(&ex->dir_lock);
	if (ret == PL_ENOKEY)
		ret = PL_EDENIED; /* not signed by a registered key: not a member */
	if (ret) {
		ex_refuse(why, w);
		goto out;
	}
	if (strcmp(it->rec->exchange, ex->origin) != 0) {
		ret = PL_ERULE;
		ex_refuse(why, "record is for another exchange");
		goto out;
	}
	if (strcmp(it->rec->author, PL_RECORD_EXCHANGE) == 0 ||
	    pl_record_kind_is_exchange(it->rec->kind)) {
		ret = PL_EDENIED;
		ex_refuse(why, "only the exchange authors this kind of record");
		goto out;
	}
	if (ex_party_status(&c, it->rec->author) != PL_KEY_ACTIVE) {
		ret = PL_EDENIED;
		ex_refuse(why, "author is not an active member");
		goto out;
	}
	if (done && done->admit && !done->admit(done->arg, signer.name)) {
		ret = PL_ELIMIT;
		ex_refuse(why, "too many requests for this key");
		goto out;
	}
	now = ex_now(ex);
	skew = it->rec->time > now ? it->rec->time - now : now - it->rec->time;
	if (skew > (int64_t)ex->o.time_tolerance_s) {
		ret = PL_ERULE;
		ex_refuse(why, "record time too far from the exchange clock");
		goto out;
	}
	c.s = ex_reader_get(ex);
	ret = pl_store_begin(c.s);
	if (!ret)
		ret = ex_judge(&c, it->rec, it->id, NULL, &v, why);
	ex_note_error(ex, c.s, ret);
	ex_reader_put(ex, c.s);
	if (ret)
		goto out;
	pl_replay_view_release(&v);
	*itp = it;
	it = NULL;
out:
	if (it) {
		free(it->msg);
		free(it->rec);
		free(it);
	}
	return ret;
}

int pl_exchange_submit(struct pl_exchange *ex, const char *rec, size_t len, struct pl_receipt *out,
                       struct pl_exchange_refusal *why)
{
	struct pl_exchange_refusal tmp;
	struct ex_item *it = NULL;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	if (!why)
		why = &tmp;
	memset(why, 0, sizeof(*why));
	ret = ex_prepare(ex, rec, len, NULL, &it, why);
	if (ret)
		return ret;
	ret = ex_run_sync(ex, it);
	if (ret == 0 && it->receipt.proof) {
		*out = it->receipt;
		memset(&it->receipt, 0, sizeof(it->receipt));
	} else if (ret == 0 && it->appended) {
		ret = ex_receipt(ex, NULL, it->index, it->size, out);
	} else if (ret) {
		*why = it->why;
	}
	free(it->msg);
	free(it->rec);
	free(it);
	return ret;
}

int pl_exchange_submit_async(struct pl_exchange *ex, const char *rec, size_t len,
                             const struct pl_exchange_done *done)
{
	struct pl_exchange_refusal why;
	struct ex_item *it = NULL;
	int ret;

	if (!ex || !done || !done->fn)
		return PL_EINVAL;
	memset(&why, 0, sizeof(why));
	ret = ex_prepare(ex, rec, len, done, &it, &why);
	if (!ret) {
		it->async = true;
		it->cb = *done;
		ret = ex_enqueue(ex, it);
		if (ret) {
			ex_refuse(&why, "exchange is shutting down");
			free(it->msg);
			free(it->rec);
			free(it);
		}
	}
	if (ret)
		done->fn(done->arg, ret, NULL, &why);
	return ret;
}

/* ---- Payloads ---- */

int pl_exchange_payload_put(struct pl_exchange *ex, const char *uploader, const uint8_t *blob,
                            size_t len, uint8_t hash[static PL_HASH_BYTES])
{
	struct ex_item it;
	struct pl_box_info info;
	bool member;
	int ret;

	if (!ex || !uploader || (!blob && len))
		return PL_EINVAL;
	if (len > ex->o.payload_max)
		return PL_ETOOBIG;
	pthread_rwlock_rdlock(&ex->dir_lock);
	{
		size_t i = ex_dir_find(ex, uploader);
		member = i && !ex->members[i].revoked;
	}
	pthread_rwlock_unlock(&ex->dir_lock);
	if (!member)
		return PL_EDENIED;
	ret = pl_box_parse(&info, blob, len);
	if (ret)
		return ret == PL_ETOOBIG ? PL_ETOOBIG : PL_EMALFORMED;
	memset(&it, 0, sizeof(it));
	it.type = EX_PAYLOAD;
	it.blob = blob;
	it.blob_len = len;
	it.uploader = uploader;
	pl_box_hash(it.hash, blob, len);
	ret = ex_run_sync(ex, &it);
	if (!ret)
		memcpy(hash, it.hash, PL_HASH_BYTES);
	return ret;
}

int pl_exchange_payload_get(struct pl_exchange *ex, const char *reader,
                            const uint8_t hash[static PL_HASH_BYTES], uint8_t **blob, size_t *len)
{
	struct pl_store *s;
	struct pl_store_payload info;
	uint8_t pk[PL_BOX_PK_BYTES];
	uint8_t *b = NULL;
	size_t n = 0;
	bool member = false, has_pk = false, allowed;
	int ret;

	if (!ex || !reader || !blob || !len)
		return PL_EINVAL;
	pthread_rwlock_rdlock(&ex->dir_lock);
	{
		size_t i = ex_dir_find(ex, reader);
		member = i && !ex->members[i].revoked;
		if (member && ex->members[i].has_enc) {
			memcpy(pk, ex->members[i].enc_pk, sizeof(pk));
			has_pk = true;
		}
	}
	pthread_rwlock_unlock(&ex->dir_lock);
	s = ex_reader_get(ex);
	/* One read snapshot, so that the blob and its state agree. */
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_payload_info(s, hash, &info);
	if (!ret)
		ret = pl_store_payload_get(s, hash, &b, &n);
	ex_note_error(ex, s, ret);
	pl_store_rollback(s);
	ex_reader_put(ex, s);
	if (ret)
		goto out;
	/* Content-addressed: bytes that do not hash to their name are damage, never served. */
	{
		uint8_t got[PL_HASH_BYTES];
		pl_sha256(got, b, n);
		if (sodium_memcmp(got, hash, PL_HASH_BYTES) != 0) {
			char why[EX_WHY_MAX], want_hex[17], got_hex[17];
			pl_hex_encode(want_hex, hash, 8);
			pl_hex_encode(got_hex, got, 8);
			snprintf(why, sizeof(why),
			         "payload %s… does not hash to its name: its bytes give %s…",
			         want_hex, got_hex);
			ret = ex_damaged(ex, why);
			goto out;
		}
	}
	/* Before a logged record refers to it, only its uploader; after, only its readers. */
	if (info.referred)
		allowed = has_pk && pl_box_has_reader(b, n, pk);
	else
		allowed = member && strcmp(info.uploader, reader) == 0;
	if (!allowed) {
		ret = PL_EDENIED;
		goto out;
	}
	*blob = b;
	*len = n;
	b = NULL;
out:
	free(b);
	return ret;
}

/* ---- Parties ---- */

static int ex_party_op(struct pl_exchange *ex, enum ex_item_type type, struct ex_party_req *q,
                       struct pl_receipt *out)
{
	struct ex_item it;
	int ret;

	memset(&it, 0, sizeof(it));
	it.type = type;
	it.party = q;
	ret = ex_run_sync(ex, &it);
	if (!ret && it.appended && out)
		ret = ex_receipt(ex, NULL, it.index, it.size, out);
	return ret;
}

/* Checks and fills the request to register name with these key texts. */
static int ex_party_req_add(struct pl_exchange *ex, struct ex_party_req *q, const char *name,
                            const char *vkey_text, const char *enc_key_text)
{
	char keyname[PL_KEY_NAME_MAX + 1];
	int ret;

	memset(q, 0, sizeof(*q));
	if (!pl_record_name_is_valid(name, strlen(name)) || strcmp(name, PL_RECORD_EXCHANGE) == 0)
		return PL_EINVAL;
	snprintf(q->name, sizeof(q->name), "%s", name);
	ret = pl_vkey_parse(&q->vkey, vkey_text, strlen(vkey_text));
	if (ret)
		return ret;
	ret = pl_record_key_name(keyname, ex->origin, name);
	if (ret)
		return ret;
	if (strcmp(q->vkey.name, keyname) != 0 || q->vkey.type != PL_SIGTYPE_ED25519)
		return PL_EKEY;
	ret = pl_party_ekey_parse(&q->enc, enc_key_text, strlen(enc_key_text));
	if (ret)
		return ret;
	return strcmp(q->enc.name, keyname) != 0 ? PL_EKEY : 0;
}

int pl_exchange_party_prepare(struct pl_exchange *ex, bool revoke, const char *name,
                              const char *vkey_text, const char *enc_key_text, struct pl_buf *text)
{
	struct pl_exchange_refusal why;
	struct pl_record *r = NULL;
	struct pl_store *s;
	struct ex_party_req q;
	enum pl_key_status status;
	const char *w = NULL;
	int ret;

	if (!ex || !name || !text || (!revoke && (!vkey_text || !enc_key_text)))
		return PL_EINVAL;
	if (revoke) {
		memset(&q, 0, sizeof(q));
		if (!pl_record_name_is_valid(name, strlen(name)))
			return PL_ENOTFOUND;
		snprintf(q.name, sizeof(q.name), "%s", name);
	} else {
		ret = ex_party_req_add(ex, &q, name, vkey_text, enc_key_text);
		if (ret)
			return ret;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return PL_ENOMEM;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = ex_party_record(s, &q, revoke, r, &status, &why);
	if (!ret)
		ret = ex_chain_fields(ex, s, r);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	if (!ret)
		ret = pl_record_format(r, text, &w);
	free(r);
	return ret;
}

int pl_exchange_party_complete(struct pl_exchange *ex, const char *msg, size_t len,
                               struct pl_receipt *out)
{
	struct pl_note *n = NULL;
	struct ex_item it;
	struct pl_buf full;
	const char *w = NULL;
	int ret;

	if (!ex || !msg)
		return PL_EINVAL;
	if (len > PL_RECORD_MAX_BYTES)
		return PL_ETOOBIG;
	memset(&it, 0, sizeof(it));
	pl_buf_init(&full, PL_RECORD_MAX_BYTES);
	it.type = EX_PARTY_SIGNED;
	it.rec = malloc(sizeof(*it.rec));
	if (!it.rec) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_note_parse(&n, msg, len);
	if (!ret)
		ret = pl_record_parse(it.rec, n->text, n->text_len, &w);
	if (ret)
		goto out;
	/* Our own record, of a kind the party signs too, signed by nobody but the party. */
	if (strcmp(it.rec->exchange, ex->origin) != 0 ||
	    strcmp(it.rec->author, PL_RECORD_EXCHANGE) != 0 ||
	    (it.rec->kind != PL_KIND_REGISTER && it.rec->kind != PL_KIND_REVOKE) ||
	    it.rec->nkeys != 1 || n->nsigs != it.rec->nkeys) {
		/* (The directory keeps one signing key per party.) */
		ret = PL_EINVAL;
		goto out;
	}
	for (size_t i = 0; i < n->nsigs; i++) {
		ret = pl_note_sig_verify(&n->sigs[i], &it.rec->keys[i], n->text, n->text_len);
		if (ret) {
			ret = PL_EVERIFY;
			goto out;
		}
	}
	/* The exchange's signature first, then the party's, as docs/records.md orders them. */
	ret = pl_note_sign(&full, n->text, n->text_len, &ex->key, 1);
	for (size_t i = 0; !ret && i < n->nsigs; i++)
		ret = pl_note_add_sig(&full, n->sigs[i].name, n->sigs[i].id, n->sigs[i].sig,
		                      n->sigs[i].sig_len);
	if (!ret)
		ret = pl_record_open(it.rec, it.id, NULL, full.data, full.len, &ex->vkey, 1, &w);
	if (ret)
		goto out;
	it.msg = full.data;
	it.len = full.len;
	ret = ex_run_sync(ex, &it);
	if (!ret && it.appended && out)
		ret = ex_receipt(ex, NULL, it.index, it.size, out);
out:
	pl_note_free(n);
	pl_buf_release(&full);
	free(it.rec);
	return ret;
}

int pl_exchange_party_add(struct pl_exchange *ex, const char *name, const char *vkey_text,
                          const char *enc_key_text, const struct pl_skey *self, size_t nself,
                          struct pl_receipt *out)
{
	struct ex_party_req q;
	int ret;

	if (!ex || !name || !vkey_text || !enc_key_text || (nself && !self) ||
	    nself > PL_RECORD_MAX_KEYS)
		return PL_EINVAL;
	ret = ex_party_req_add(ex, &q, name, vkey_text, enc_key_text);
	if (ret)
		return ret;
	for (size_t i = 0; i < nself; i++) {
		struct pl_vkey pub;
		pl_skey_public(&self[i], &pub);
		if (!pl_vkey_equal(&pub, &q.vkey))
			return PL_EKEY;
	}
	q.self = self;
	q.nself = nself;
	return ex_party_op(ex, EX_PARTY_ADD, &q, out);
}

int pl_exchange_party_revoke(struct pl_exchange *ex, const char *name, const struct pl_skey *self,
                             size_t nself, struct pl_receipt *out)
{
	struct ex_party_req q;

	if (!ex || !name || (nself && !self) || nself > PL_RECORD_MAX_KEYS)
		return PL_EINVAL;
	if (!pl_record_name_is_valid(name, strlen(name)))
		return PL_ENOTFOUND;
	memset(&q, 0, sizeof(q));
	snprintf(q.name, sizeof(q.name), "%s", name);
	q.self = self;
	q.nself = nself;
	return ex_party_op(ex, EX_PARTY_REVOKE, &q, out);
}

static void ex_party_copy(struct pl_exchange_party *d, const struct pl_store_party *p)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", p->name);
	if (pl_vkey_parse(&d->vkey, p->vkey, strlen(p->vkey)) != 0)
		memset(&d->vkey, 0, sizeof(d->vkey));
	snprintf(d->enc_key, sizeof(d->enc_key), "%s", p->enc_key);
	d->register_index = p->register_index;
	d->revoked = p->revoked;
	d->revoke_index = p->revoke_index;
}

int pl_exchange_party_get(struct pl_exchange *ex, const char *name, struct pl_exchange_party *out)
{
	struct pl_store *s;
	struct pl_store_party p;
	struct pl_store_record meta;
	int ret;

	if (!ex || !name || !out)
		return PL_EINVAL;
	s = ex_reader_get(ex);
	ret = pl_store_party_get(s, name, &p);
	if (!ret)
		ret = pl_store_record_get(s, p.register_index, &meta, NULL);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	if (!ret) {
		ex_party_copy(out, &p);
		memcpy(out->register_id, meta.id, PL_HASH_BYTES);
	}
	return ret;
}

int pl_exchange_parties(struct pl_exchange *ex, struct pl_exchange_party **out, size_t *n)
{
	struct ex_anchor a;
	struct pl_store *s;
	struct pl_store_party *v = NULL;
	struct pl_exchange_party *d = NULL;
	size_t k = 0, m = 0;
	int ret;

	if (!ex || !out || !n)
		return PL_EINVAL;
	ret = ex_anchor(ex, &a);
	if (ret)
		return ret;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_party_list(s, &v, &k);
	if (!ret) {
		d = calloc(k ? k : 1, sizeof(*d));
		if (!d)
			ret = PL_ENOMEM;
	}
	/* Each entry as its register record, checked, says: what /parties serves. */
	for (size_t i = 0; !ret && i < k; i++) {
		struct pl_exchange_entry e;
		char why[EX_WHY_MAX];
		memset(&e, 0, sizeof(e));
		if (v[i].register_index >= a.size)
			continue; /* registered, not yet published */
		ret = ex_entry(ex, s, &a, v[i].register_index, &e);
		if (!ret && pl__check_party(&v[i], e.note, e.note_len, why, sizeof(why)) != 0)
			ret = ex_damaged(ex, why);
		if (!ret) {
			ex_party_copy(&d[m], &v[i]);
			memcpy(d[m++].register_id, e.id, PL_HASH_BYTES);
		}
		pl_exchange_entry_release(&e);
	}
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	if (!ret) {
		*out = d;
		*n = m;
		d = NULL;
	}
	free(d);
	free(v);
	return ret;
}

/* ---- Reads ---- */

void pl_exchange_entry_release(struct pl_exchange_entry *e)
{
	if (!e)
		return;
	free(e->note);
	memset(e, 0, sizeof(*e));
}

void pl_exchange_list_release(struct pl_exchange_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].note);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

uint64_t pl_exchange_size(struct pl_exchange *ex)
{
	uint64_t n;

	pthread_mutex_lock(&ex->st_mu);
	n = ex->size;
	pthread_mutex_unlock(&ex->st_mu);
	return n;
}

int pl_exchange_checkpoint(struct pl_exchange *ex, struct pl_buf *out)
{
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	pthread_mutex_lock(&ex->st_mu);
	ret = ex->checkpoint ? pl_buf_add(out, ex->checkpoint, ex->checkpoint_len) : PL_ENOTFOUND;
	pthread_mutex_unlock(&ex->st_mu);
	return ret;
}

int pl_exchange_checkpoint_cosigned(struct pl_exchange *ex, struct pl_buf *out)
{
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	pthread_mutex_lock(&ex->st_mu);
	ret = ex->cosigned ? pl_buf_add(out, ex->cosigned, ex->cosigned_len) : PL_ENOTFOUND;
	pthread_mutex_unlock(&ex->st_mu);
	return ret;
}

int pl_exchange_checkpoint_cosign(struct pl_exchange *ex, uint64_t size, const char *lines,
                                  size_t len)
{
	struct ex_item it;
	int ret;

	if (!ex || !lines || !len || len > PL_NOTE_MAX_BYTES)
		return PL_EINVAL;
	if (size > pl_exchange_size(ex))
		return PL_ENOTFOUND; /* and never PL_STORE_LATEST's meaning */
	memset(&it, 0, sizeof(it));
	it.type = EX_COSIGN;
	it.index = size;
	it.msg = malloc(len);
	if (!it.msg)
		return PL_ENOMEM;
	memcpy(it.msg, lines, len);
	it.len = len;
	ret = ex_run_sync(ex, &it);
	free(it.msg);
	return ret;
}

int pl_exchange_checkpoint_at(struct pl_exchange *ex, uint64_t size, struct pl_buf *out)
{
	struct pl_store *s;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	if (size > pl_exchange_size(ex))
		return PL_ENOTFOUND;
	s = ex_reader_get(ex);
	ret = pl_store_checkpoint_get(s, size, NULL, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	return ret;
}

int pl_exchange_tile(struct pl_exchange *ex, unsigned level, uint64_t n, unsigned width,
                     struct pl_buf *out)
{
	struct pl_tile t;
	struct pl_tlog_reader rd;
	struct ex_anchor a;
	struct pl_store *s;
	uint8_t *data = NULL;
	size_t len = 0;
	int ret;

	if (!ex || !out || width > PL_TILE_WIDTH)
		return PL_EINVAL;
	if (width == 0)
		width = PL_TILE_WIDTH;
	ret = ex_anchor(ex, &a);
	if (!ret)
		ret = pl_tiles_tile_at(&t, a.size, level, n, false);
	if (ret == PL_ERANGE)
		ret = PL_EINVAL;
	if (ret)
		return ret;
	/* A partial tile is a prefix of the tile: any width the tree has reached. */
	if (width > t.width)
		return PL_ENOTFOUND;
	t.width = width;
	data = malloc(PL_TILE_BYTES);
	if (!data)
		return PL_ENOMEM;
	s = ex_reader_get(ex);
	rd = pl_store_tlog_reader(s);
	ret = pl_tiles_read_hash_tile(&rd, &t, data, &len);
	if (ret == PL_ENOTFOUND) /* within the published tree */
		ret = ex_damaged(ex, "a hash of a published hash tile is missing");
	if (!ret)
		ret = ex_tile_check(ex, s, &a, level, n);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	if (!ret)
		ret = pl_buf_add(out, data, len);
	free(data);
	return ret;
}

int pl_exchange_entry_bundle(struct pl_exchange *ex, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct pl_tile t;
	struct pl_tlog_reader rd;
	struct ex_anchor a;
	struct pl_store *s;
	struct pl_buf note;
	uint8_t *leaves = NULL;
	char why[EX_WHY_MAX];
	size_t old, len;
	int ret;

	if (!ex || !out || width > PL_TILE_WIDTH)
		return PL_EINVAL;
	if (width == 0)
		width = PL_TILE_WIDTH;
	ret = ex_anchor(ex, &a);
	if (!ret)
		ret = pl_tiles_tile_at(&t, a.size, 0, n, true);
	if (ret == PL_ERANGE)
		ret = PL_EINVAL;
	if (ret)
		return ret;
	if (width > t.width)
		return PL_ENOTFOUND;
	leaves = malloc(PL_TILE_BYTES);
	if (!leaves)
		return PL_ENOMEM;
	old = out->len;
	pl_buf_init(&note, PL_RECORD_MAX_BYTES);
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	/* Each entry against the level-0 tile, checked up to the signed root. */
	t.entries = false;
	t.width = width;
	rd = pl_store_tlog_reader(s);
	if (!ret)
		ret = pl_tiles_read_hash_tile(&rd, &t, leaves, &len);
	if (ret == PL_ENOTFOUND) /* within the published tree */
		ret = ex_damaged(ex, "a leaf hash of a published entry bundle is missing");
	if (!ret)
		ret = ex_tile_check(ex, s, &a, 0, n);
	for (unsigned i = 0; !ret && i < width; i++) {
		uint64_t index = n * PL_TILE_WIDTH + i;
		pl_buf_reset(&note);
		ret = pl_store_record_get(s, index, NULL, &note);
		if (ret == PL_ENOTFOUND)
			ret = ex_damaged(ex, "a record of a published entry bundle is missing");
		if (!ret &&
		    pl__check_record(index, NULL, note.data, note.len,
		                     leaves + (size_t)i * PL_HASH_BYTES, why, sizeof(why)) != 0)
			ret = ex_damaged(ex, why);
		if (!ret)
			ret = pl_tiles_bundle_add(out, note.data, note.len);
	}
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	pl_buf_release(&note);
	free(leaves);
	if (ret) {
		out->len = old;
		if (out->data)
			out->data[old] = '\0';
	}
	return ret;
}

/* Reads one record of the anchor's tree into an entry, checked (ex_check_entry()). */
static int ex_entry(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                    uint64_t index, struct pl_exchange_entry *e)
{
	struct pl_store_record meta;
	struct pl_buf b;
	int ret;

	if (index >= a->size)
		return PL_ENOTFOUND; /* logged, not yet published */
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	ret = pl_store_record_get(s, index, &meta, &b);
	if (ret == PL_ENOTFOUND)
		ret = ex_damaged(ex, "a published record is missing");
	if (!ret)
		ret = ex_check_entry(ex, s, a, index, meta.id, b.data, b.len);
	if (!ret) {
		e->index = index;
		memcpy(e->id, meta.id, PL_HASH_BYTES);
		e->note = pl_buf_detach(&b, &e->note_len);
		if (!e->note)
			ret = PL_ENOMEM;
	}
	pl_buf_release(&b);
	return ret;
}

/* Decodes a hex id prefix (either case) to bits. Returns 0 or PL_EMALFORMED. */
static int ex_hex_prefix(uint8_t out[static PL_HASH_BYTES], unsigned *nbits, const char *s,
                         size_t len)
{
	if (len < PL_EXCHANGE_ID_PREFIX_MIN || len > PL_RECORD_ID_HEX_LEN)
		return PL_EMALFORMED;
	memset(out, 0, PL_HASH_BYTES);
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		unsigned v;
		if (ch >= '0' && ch <= '9')
			v = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v = (unsigned)(ch - 'A' + 10);
		else
			return PL_EMALFORMED;
		out[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
	}
	*nbits = (unsigned)len * 4;
	return 0;
}

int pl_exchange_record(struct pl_exchange *ex, const char *id, size_t len,
                       struct pl_exchange_entry *out)
{
	uint8_t bits[PL_HASH_BYTES];
	struct ex_anchor a;
	struct pl_store *s;
	unsigned nbits;
	uint64_t index;
	int ret;

	if (!ex || !id || !out)
		return PL_EINVAL;
	ret = ex_hex_prefix(bits, &nbits, id, len);
	if (!ret)
		ret = ex_anchor(ex, &a);
	if (ret)
		return ret;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret && nbits == 256)
		ret = pl_store_record_find(s, bits, &index);
	else if (!ret)
		ret = pl_store_record_find_prefix(s, bits, nbits, &index);
	if (!ret)
		ret = ex_entry(ex, s, &a, index, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	return ret;
}

int pl_exchange_record_at(struct pl_exchange *ex, uint64_t index, struct pl_exchange_entry *out)
{
	struct ex_anchor a;
	struct pl_store *s;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	ret = ex_anchor(ex, &a);
	if (ret)
		return ret;
	if (index >= a.size)
		return PL_ENOTFOUND;
	s = ex_reader_get(ex);
	ret = ex_entry(ex, s, &a, index, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	return ret;
}

int pl_exchange_proof(struct pl_exchange *ex, uint64_t index, uint64_t size, struct pl_buf *out)
{
	struct pl_store *s;
	struct pl_buf cp;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	if (size == 0)
		size = pl_exchange_size(ex);
	if (size > pl_exchange_size(ex))
		return PL_ENOTFOUND;
	if (index >= size)
		return PL_ERANGE;
	pl_buf_init(&cp, PL_CHECKPOINT_MAX_BYTES + 4096);
	s = ex_reader_get(ex);
	ret = pl_store_checkpoint_get(s, size, NULL, &cp);
	if (!ret)
		ret = ex_proof_text(s, index, cp.data, cp.len, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	pl_buf_release(&cp);
	return ret;
}

int pl_exchange_consistency(struct pl_exchange *ex, uint64_t old_size, uint64_t new_size,
                            uint8_t hashes[][PL_HASH_BYTES], size_t *n)
{
	struct pl_tlog_reader rd;
	struct pl_store *s;
	int ret;

	if (!ex || !hashes || !n)
		return PL_EINVAL;
	if (old_size > new_size || new_size > pl_exchange_size(ex))
		return PL_ERANGE;
	s = ex_reader_get(ex);
	rd = pl_store_tlog_reader(s);
	ret = pl_tlog_prove_consistency(&rd, old_size, new_size, hashes, n);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	return ret;
}

static int ex_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * Fills a list with the records at idx[0..n) (sorted), and the cursor after
 * them, each checked (ex_entry()). Those beyond the anchor's tree are not
 * published yet: the list stops before them, its cursor on the first.
 */
static int ex_list_fill(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                        const uint64_t *idx, size_t n, uint64_t next, struct pl_exchange_list *out)
{
	struct pl_exchange_list l;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		if (idx[i] >= a->size) {
			n = i;
			break;
		}
	}
	memset(&l, 0, sizeof(l));
	l.v = calloc(n ? n : 1, sizeof(*l.v));
	if (!l.v)
		return PL_ENOMEM;
	for (size_t i = 0; !ret && i < n; i++) {
		ret = ex_entry(ex, s, a, idx[i], &l.v[i]);
		if (!ret)
			l.n++;
	}
	l.next = n ? idx[n - 1] + 1 : next;
	if (ret)
		pl_exchange_list_release(&l);
	else
		*out = l;
	return ret;
}

int pl_exchange_thread(struct pl_exchange *ex, const uint8_t id[static PL_HASH_BYTES], size_t max,
                       struct pl_exchange_list *out)
{
	struct ex_anchor a;
	struct pl_store *s;
	uint64_t *set = NULL, *kids = NULL;
	size_t nset = 0, done = 0, nk;
	uint64_t root;
	int ret;

	if (!ex || !id || !out)
		return PL_EINVAL;
	ret = ex_anchor(ex, &a);
	if (ret)
		return ret;
	set = malloc(EX_THREAD_MAX * sizeof(*set));
	kids = malloc(EX_THREAD_MAX * sizeof(*kids));
	if (!set || !kids) {
		free(set);
		free(kids);
		return PL_ENOMEM;
	}
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_record_find(s, id, &root);
	if (!ret && root >= a.size)
		ret = PL_ENOTFOUND;
	if (!ret)
		set[nset++] = root;
	/* Breadth first over "refers to"; a record is listed once. */
	while (!ret && done < nset) {
		ret = pl_store_referrers(s, set[done++], kids, EX_THREAD_MAX, &nk);
		for (size_t i = 0; !ret && i < nk; i++) {
			bool seen = false;
			for (size_t j = 0; j < nset && !seen; j++)
				seen = set[j] == kids[i];
			if (seen)
				continue;
			if (nset == EX_THREAD_MAX)
				ret = PL_ETOOBIG;
			else
				set[nset++] = kids[i];
		}
	}
	if (!ret) {
		qsort(set, nset, sizeof(*set), ex_u64_cmp);
		if (max && nset > max)
			nset = max;
		ret = ex_list_fill(ex, s, &a, set, nset, 0, out);
	}
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	free(set);
	free(kids);
	return ret;
}

static size_t ex_page(size_t max)
{
	return max == 0 ? EX_PAGE_DEFAULT : max > EX_PAGE_MAX ? EX_PAGE_MAX : max;
}

int pl_exchange_statements(struct pl_exchange *ex, uint64_t after, size_t max,
                           struct pl_exchange_list *out)
{
	return ex_inbox_pid(ex, PL_STORE_PUBLIC, after, max, out);
}

static int ex_inbox_pid(struct pl_exchange *ex, int64_t pid, uint64_t after, size_t max,
                        struct pl_exchange_list *out)
{
	struct ex_anchor a;
	struct pl_store *s;
	uint64_t idx[EX_PAGE_MAX];
	size_t n = 0;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	if (after > (uint64_t)INT64_MAX)
		after = (uint64_t)INT64_MAX;
	max = ex_page(max);
	ret = ex_anchor(ex, &a);
	if (ret)
		return ret;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_inbox_list(s, pid, pid != PL_STORE_PUBLIC, after, idx, max, &n);
	if (!ret)
		ret = ex_list_fill(ex, s, &a, idx, n, after, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	return ret;
}

int pl_exchange_inbox(struct pl_exchange *ex, const char *party, uint64_t after, size_t max,
                      struct pl_exchange_list *out)
{
	int64_t pid = -1;

	if (!ex || !party || !out)
		return PL_EINVAL;
	pthread_rwlock_rdlock(&ex->dir_lock);
	{
		size_t i = ex_dir_find(ex, party);
		if (i)
			pid = ex->members[i].pid;
	}
	pthread_rwlock_unlock(&ex->dir_lock);
	if (pid <= 0)
		return PL_ENOTFOUND;
	return ex_inbox_pid(ex, pid, after, max, out);
}

uint64_t pl_exchange_wait(struct pl_exchange *ex, uint64_t size, int timeout_ms)
{
	struct timespec ts = ex_deadline((int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000);
	uint64_t n;

	pthread_mutex_lock(&ex->st_mu);
	while (ex->size <= size && !ex->shut && timeout_ms > 0) {
		if (pthread_cond_timedwait(&ex->size_cv, &ex->st_mu, &ts) == ETIMEDOUT)
			break;
	}
	n = ex->size;
	pthread_mutex_unlock(&ex->st_mu);
	return n;
}

static const struct pl_line *ex_line_find(const struct pl_exchange *ex, const char *name)
{
	for (size_t i = 0; i < ex->o.nlines; i++) {
		if (strcmp(ex->o.lines[i].name, name) == 0)
			return &ex->o.lines[i];
	}
	return NULL;
}

/*
 * Keeps each configured line's definition in the store, so that a line later
 * taken out of the configuration can still be reported (pl_exchange_line()).
 */
static int ex_lines_keep(struct pl_exchange *ex)
{
	struct pl_buf text;
	int ret = 0;

	if (ex->o.nlines == 0)
		return 0;
	pl_buf_init(&text, PL_LINE_TEXT_MAX + 1);
	ret = pl_store_begin(ex->w);
	for (size_t i = 0; !ret && i < ex->o.nlines; i++) {
		pl_buf_reset(&text);
		ret = pl_line_format(&ex->o.lines[i], &text);
		if (!ret)
			ret = pl_store_line_put(ex->w, ex->o.lines[i].name, text.data);
	}
	if (!ret)
		ret = pl_store_commit(ex->w);
	else
		pl_store_rollback(ex->w);
	pl_buf_release(&text);
	return ret;
}

/* The line named name: configured, or else as it was when last configured (into *kept). */
static int ex_line_get(struct pl_exchange *ex, struct pl_store *s, const char *name,
                       struct pl_line *kept, const struct pl_line **out)
{
	struct pl_buf text;
	int ret;

	*out = ex_line_find(ex, name);
	if (*out)
		return 0;
	pl_buf_init(&text, PL_LINE_TEXT_MAX + 1);
	ret = pl_store_line_get(s, name, &text);
	if (ret == PL_EINVAL)
		ret = PL_ENOTFOUND; /* not a name a line can have */
	/* Kept by this exchange, but the store is a file: parsed as strictly as the config. */
	if (!ret &&
	    (pl_line_parse(kept, text.data, text.len, NULL) != 0 || strcmp(kept->name, name) != 0))
		ret = PL_ESTORE;
	if (!ret)
		*out = kept;
	pl_buf_release(&text);
	return ret;
}

#define EX_LINE_SCAN 512  /* inbox indexes read at once while looking for checks */
#define EX_LINE_REFS 1024 /* records referring to one check (answers, unanswered, citations) */

int pl_exchange_line(struct pl_exchange *ex, const char *line, int64_t since, uint64_t after,
                     size_t max, struct pl_exchange_list *out, bool *more)
{
	const struct pl_line *l = NULL;
	struct pl_line kept;
	struct pl_store_party p;
	struct pl_store_record meta;
	struct pl_record *r = NULL;
	struct pl_store *s = NULL;
	struct ex_anchor a;
	uint64_t *idx = NULL, *scan = NULL, *refs = NULL, size, cursor = after, next = after;
	size_t n = 0, cap, nchecks = 0;
	bool cut = false, found = false;
	int ret;

	if (!ex || !line || !out || !more)
		return PL_EINVAL;
	if (max == 0 || max > PL_EXCHANGE_LINE_PAGE_MAX)
		max = PL_EXCHANGE_LINE_PAGE_MAX;
	cap = max * 3; /* a check, two answers or one unanswered */
	idx = malloc(cap * sizeof(*idx));
	scan = malloc(EX_LINE_SCAN * sizeof(*scan));
	refs = malloc(EX_LINE_REFS * sizeof(*refs));
	r = malloc(sizeof(*r));
	if (!idx || !scan || !refs || !r) {
		ret = PL_ENOMEM;
		goto out;
	}
	/* First: what the store shows beyond it is not published. */
	ret = ex_anchor(ex, &a);
	if (ret)
		goto out;
	size = a.size;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = ex_line_get(ex, s, line, &kept, &l);
	for (int e = 0; !ret && !found && e < 2; e++) {
		ret = pl_store_party_get(s, l->ends[e], &p);
		found = ret == 0;
		if (ret == PL_ENOTFOUND)
			ret = 0;
	}
	while (!ret && found && !cut) {
		size_t ns = 0;
		ret = pl_store_inbox_list(s, p.pid, false, cursor, scan, EX_LINE_SCAN, &ns);
		for (size_t i = 0; !ret && !cut && i < ns && scan[i] < size; i++) {
			size_t nr = 0;
			next = scan[i] + 1;
			ret = pl_store_record_get(s, scan[i], &meta, NULL);
			if (ret || strcmp(meta.kind, pl_record_kind_name(PL_KIND_CHECK)) != 0)
				continue;
			ret = ex_load(s, scan[i], r, &meta);
			if (ret || strcmp(r->line, line) != 0 || r->time < since)
				continue;
			if (nchecks == max) {
				cut = true;
				next = scan[i];
				break;
			}
			ret = pl_store_referrers(s, scan[i], refs, EX_LINE_REFS, &nr);
			if (ret)
				break;
			idx[n++] = scan[i];
			nchecks++;
			for (size_t k = 0; !ret && k < nr && refs[k] < size && n < cap; k++) {
				ret = pl_store_record_get(s, refs[k], &meta, NULL);
				if (!ret &&
				    (strcmp(meta.kind, pl_record_kind_name(PL_KIND_ANSWER)) == 0 ||
				     strcmp(meta.kind, pl_record_kind_name(PL_KIND_UNANSWERED)) ==
				             0))
					idx[n++] = refs[k];
			}
		}
		if (ret || ns < EX_LINE_SCAN || scan[ns - 1] >= size)
			break;
		cursor = scan[ns - 1] + 1;
	}
	if (!ret)
		ret = ex_list_fill(ex, s, &a, idx, n, next, out);
	if (!ret) {
		out->next = next;
		*more = cut;
	}
out:
	if (s) {
		ex_note_error(ex, s, ret);
		ex_reader_put(ex, s);
	}
	free(idx);
	free(scan);
	free(refs);
	free(r);
	return ret;
}

int pl_exchange_run_timers(struct pl_exchange *ex)
{
	struct ex_item it;
	int ret;

	if (!ex)
		return PL_EINVAL;
	memset(&it, 0, sizeof(it));
	it.type = EX_TIMERS;
	ret = ex_run_sync(ex, &it);
	return ret ? ret : it.count;
}

/* ---- Life cycle ---- */

void pl_exchange_options_default(struct pl_exchange_options *o)
{
	memset(o, 0, sizeof(*o));
	o->batch_max = PL_EXCHANGE_DEFAULT_BATCH_MAX;
	o->batch_age_us = PL_EXCHANGE_DEFAULT_BATCH_AGE_US;
	o->batch_idle_us = PL_EXCHANGE_DEFAULT_IDLE_US;
	o->time_tolerance_s = PL_EXCHANGE_DEFAULT_TIME_TOLERANCE;
	o->timer_interval_ms = PL_EXCHANGE_DEFAULT_TIMER_MS;
	o->payload_max = PL_EXCHANGE_DEFAULT_PAYLOAD_MAX;
	o->payload_retention_s = PL_EXCHANGE_DEFAULT_PAYLOAD_RETENTION;
	o->readers = PL_EXCHANGE_DEFAULT_READERS;
}

/* Writes text plus a newline to a new file of the given mode. */
static int ex_write_key(const char *dir, const char *file, const char *text, size_t len,
                        unsigned mode)
{
	char *path = pl__path_join(dir, file);
	int ret;

	if (!path)
		return PL_ENOMEM;
	ret = pl_key_save(path, text, len, mode);
	free(path);
	return ret;
}

int pl_exchange_init(const char *dir, const char *origin, struct pl_vkey *vk)
{
	struct pl_skey sk;
	struct pl_vkey pub;
	struct pl_buf text, cpnote;
	struct pl_checkpoint *cp = NULL;
	struct pl_store *s = NULL;
	char *kp = NULL, *vp = NULL, *pp = NULL;
	uint8_t empty[PL_HASH_BYTES];
	struct stat sb;
	int ret;

	memset(&sk, 0, sizeof(sk));
	pl_buf_init(&text, 1024);
	pl_buf_init(&cpnote, PL_CHECKPOINT_MAX_BYTES + 4096);
	if (!dir || !origin || !pl_record_origin_is_valid(origin, strlen(origin)))
		return PL_EINVAL;
	kp = pl__path_join(dir, PL_EXCHANGE_KEY_FILE);
	vp = pl__path_join(dir, PL_EXCHANGE_VKEY_FILE);
	pp = pl__path_join(dir, PL_EXCHANGE_PUBLISHED_FILE);
	cp = malloc(sizeof(*cp));
	if (!kp || !vp || !pp || !cp) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (pl_store_probe(dir) == 0 || stat(kp, &sb) == 0 || stat(vp, &sb) == 0 ||
	    stat(pp, &sb) == 0) {
		ret = PL_EEXIST;
		goto out;
	}
	ret = pl_key_generate(&sk, &pub, origin, PL_SIGTYPE_ED25519);
	if (ret)
		goto out;
	ret = pl_skey_format(&sk, &text);
	if (!ret)
		ret = ex_write_key(dir, PL_EXCHANGE_KEY_FILE, text.data, text.len, 0600);
	if (ret)
		goto out;
	pl_buf_reset(&text);
	ret = pl_vkey_format(&pub, &text);
	if (!ret)
		ret = ex_write_key(dir, PL_EXCHANGE_VKEY_FILE, text.data, text.len, 0644);
	if (!ret)
		ret = pl_store_create(dir, origin);
	if (ret)
		goto out;
	/* The empty tree's checkpoint, so that /checkpoint answers from the start. */
	pl_tlog_empty_hash(empty);
	ret = pl_checkpoint_set(cp, origin, 0, empty);
	if (!ret)
		ret = pl_checkpoint_sign(&cpnote, cp, &sk);
	/* What the exchange signed, remembered outside the store (pl_exchange_open()), and the
	 * store marked as kept with it. */
	if (!ret)
		ret = pl__published_create(dir, PL_EXCHANGE_PUBLISHED_FILE, cpnote.data,
		                           cpnote.len);
	if (!ret)
		ret = pl_store_open(&s, dir, true, NULL);
	if (!ret)
		ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_checkpoint_put(s, 0, cpnote.data, cpnote.len);
	if (!ret)
		ret = pl_store_published_mark(s);
	if (!ret)
		ret = pl_store_commit(s);
	if (ret)
		goto out;
	*vk = pub;
out:
	pl_store_close(s);
	if (text.data)
		sodium_memzero(text.data, text.len);
	pl_buf_release(&text);
	pl_buf_release(&cpnote);
	pl_skey_clear(&sk);
	free(cp);
	free(kp);
	free(vp);
	free(pp);
	return ret;
}

/*
 * Checks that the store is one consistent log before serving it: the latest
 * checkpoint is signed by our key, the record count and the stored hashes
 * match its size, the stored hashes give its root, and the newest records
 * hash to the stored leaves. Sets the published size and checkpoint.
 */
static int ex_check_store(struct pl_exchange *ex, struct pl_buf *err)
{
	struct pl_store *s = ex->w;
	struct pl_tlog_reader rd = pl_store_tlog_reader(s);
	struct pl_checkpoint *cp = NULL;
	struct pl_buf note, rec;
	uint64_t size, count, nhashes;
	uint8_t root[PL_HASH_BYTES];
	struct ex_anchor anchor;
	char why[EX_WHY_MAX];
	const char *bad = NULL;
	int ret;

	pl_buf_init(&note, PL_CHECKPOINT_MAX_BYTES + 4096);
	pl_buf_init(&rec, PL_RECORD_MAX_BYTES);
	cp = malloc(sizeof(*cp));
	if (!cp) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_checkpoint_get(s, PL_STORE_LATEST, &size, &note);
	if (!ret)
		ret = pl_store_record_count(s, &count);
	if (!ret)
		ret = pl_store_hashes_count(s, &nhashes);
	if (ret) {
		bad = "cannot read the log";
		goto out;
	}
	ret = PL_ESTORE;
	if (pl_checkpoint_open(cp, NULL, note.data, note.len, ex->origin, &ex->vkey, 1) != 0 ||
	    cp->size != size) {
		bad = "latest checkpoint does not verify with the log key";
		goto out;
	}
	if (count != size || nhashes != pl_tlog_stored_count(size)) {
		bad = "records or hashes do not match the latest checkpoint";
		goto out;
	}
	if (pl_tlog_tree_hash(&rd, size, root) != 0 ||
	    sodium_memcmp(root, cp->root, PL_HASH_BYTES) != 0) {
		bad = "stored hashes do not give the checkpoint's root";
		goto out;
	}
	/* The newest records, checked up to the root as reads check them (which remember it). */
	anchor.size = size;
	memcpy(anchor.root, cp->root, PL_HASH_BYTES);
	for (uint64_t i = size > EX_VERIFY_TAIL ? size - EX_VERIFY_TAIL : 0; i < size; i++) {
		struct pl_store_record meta;
		pl_buf_reset(&rec);
		if (pl_store_record_get(s, i, &meta, &rec) != 0) {
			bad = "cannot read a record";
			goto out;
		}
		ret = ex_check_entry(ex, s, &anchor, i, meta.id, rec.data, rec.len);
		if (ret) {
			pl_exchange_last_error(ex, why, sizeof(why));
			bad = ret == PL_EDAMAGED ? why : "cannot check a record";
			ret = PL_ESTORE;
			goto out;
		}
	}
	ex->size = size;
	ex->checkpoint = pl_buf_detach(&note, &ex->checkpoint_len);
	ret = ex->checkpoint ? 0 : PL_ENOMEM;
	/* The newest cosigned checkpoint, if witnesses ever cosigned one. */
	if (!ret) {
		ret = pl_store_checkpoint_cosigned(s, &ex->cosigned_size, &note);
		if (!ret)
			ex->cosigned = pl_buf_detach(&note, &ex->cosigned_len);
		ret = ret == PL_ENOTFOUND ? 0 : ret ? ret : ex->cosigned ? 0 : PL_ENOMEM;
		if (ret)
			bad = "cannot read the cosigned checkpoint";
	}
out:
	pl_store_rollback(s);
	if (bad && err)
		(void)!pl_buf_addf(err, "store: %s%s%s", bad,
		                   ret == PL_ESTORE && *pl_store_errmsg(s) ? ": " : "",
		                   ret == PL_ESTORE ? pl_store_errmsg(s) : "");
	if (bad)
		ret = ret ? ret : PL_ESTORE;
	free(cp);
	pl_buf_release(&note);
	pl_buf_release(&rec);
	return ret;
}

/* Appends the exchange's own note of the checkpoint cp (note[0..len), maybe cosigned) to out. */
static int ex_own_note(struct pl_exchange *ex, const char *note, size_t len, struct pl_buf *out)
{
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	int ret;

	/* Ed25519 is deterministic: signing the text again gives the very note first signed. */
	ret = cp ? pl_checkpoint_open(cp, NULL, note, len, ex->origin, &ex->vkey, 1) : PL_ENOMEM;
	if (!ret)
		ret = pl_checkpoint_sign(out, cp, &ex->key);
	free(cp);
	return ret;
}

/*
 * Holds the store to what the exchange signed before (G7): the newest
 * checkpoint in the published file must be in the store (the store at least
 * that large, its tree at that size giving that root), or else the exchange
 * would sign a second history at sizes it already signed. An exchange made
 * before the file existed (its store not marked) gets one; a marked store
 * without the file is refused. Then brings the file up to the store's
 * latest checkpoint, which open is about to serve, and keeps it open for the
 * sequencer. After ex_check_store().
 */
static int ex_check_published(struct pl_exchange *ex, struct pl_buf *err)
{
	struct pl__published *pub = malloc(sizeof(*pub));
	char *path = pl__path_join(ex->dir, PL_EXCHANGE_PUBLISHED_FILE);
	struct pl_tlog_reader rd = pl_store_tlog_reader(ex->w);
	struct pl_buf own;
	uint8_t root[PL_HASH_BYTES];
	char want[PL_HASH_B64_LEN + 1], got[PL_HASH_B64_LEN + 1];
	int ret;

	pl_buf_init(&own, PL__PUBLISHED_SLOT);
	if (!pub || !path) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = ex_own_note(ex, ex->checkpoint, ex->checkpoint_len, &own);
	if (ret)
		goto out;
	ret = pl__published_read(pub, path, ex->origin, &ex->vkey);
	if (ret == PL_ENOTFOUND) {
		bool marked = false;
		ret = pl_store_published_marked(ex->w, &marked);
		if (!ret && marked) {
			if (err)
				(void)!pl_buf_addf(err,
				                   "%s is missing, but this store was kept with "
				                   "it: the newest "
				                   "checkpoint the exchange signed is unknown, so "
				                   "it cannot tell "
				                   "whether its store (%llu records) lost records. "
				                   "Restore the data "
				                   "directory as a whole from a copy taken at one "
				                   "moment; never "
				                   "create or delete %s to force a start",
				                   path, (unsigned long long)ex->size,
				                   PL_EXCHANGE_PUBLISHED_FILE);
			ret = PL_ESTORE;
			goto out;
		}
		/* Made before the file existed: what it signed so far is what its store holds. */
		if (!ret)
			ret = pl__published_create(ex->dir, PL_EXCHANGE_PUBLISHED_FILE, own.data,
			                           own.len);
		if (!ret)
			ret = pl_store_published_mark(ex->w);
		if (!ret)
			ret = pl__published_open(ex->dir, PL_EXCHANGE_PUBLISHED_FILE, &ex->pubfd);
		if (ret && err)
			(void)!pl_buf_addf(err, "%s: cannot create it: %s", path, pl_strerror(ret));
		ex->pub_slot = 0;
		goto out;
	}
	if (ret) {
		if (err)
			(void)!pl_buf_addf(
			        err,
			        "%s: %s: the newest checkpoint the exchange signed is unknown, so "
			        "it "
			        "cannot tell whether its store lost records; restore the data "
			        "directory "
			        "from a copy taken at one moment",
			        path,
			        ret == PL_EMALFORMED
			                ? "neither copy holds a checkpoint signed by the "
			                  "log key (the file is damaged)"
			        : ret == PL_EINCONSISTENT
			                ? "it holds two checkpoints of one size with "
			                  "different roots"
			                : pl_strerror(ret));
		ret = ret == PL_EIO ? PL_EIO : PL_ESTORE;
		goto out;
	}
	pl_b64_encode(want, pub->root, PL_HASH_BYTES);
	if (ex->size < pub->size) {
		if (err)
			(void)!pl_buf_addf(
			        err,
			        "store holds %llu records but checkpoint %llu (root %s) was signed "
			        "and "
			        "published: %llu acknowledged records are missing (a lost or "
			        "damaged "
			        "%s-wal, or %s restored without its WAL). Restore the data "
			        "directory, "
			        "%s together with its %s-wal, from a copy taken at one moment at "
			        "or "
			        "after that checkpoint; never delete %s to force a start: the "
			        "exchange "
			        "would sign a second history and fork the log",
			        (unsigned long long)ex->size, (unsigned long long)pub->size, want,
			        (unsigned long long)(pub->size - ex->size), PL_EXCHANGE_DB_FILE,
			        PL_EXCHANGE_DB_FILE, PL_EXCHANGE_DB_FILE, PL_EXCHANGE_DB_FILE,
			        PL_EXCHANGE_PUBLISHED_FILE);
		ret = PL_ESTORE;
		goto out;
	}
	ret = pl_store_begin(ex->w);
	if (!ret)
		ret = pl_tlog_tree_hash(&rd, pub->size, root);
	pl_store_rollback(ex->w);
	if (!ret && sodium_memcmp(root, pub->root, PL_HASH_BYTES) != 0) {
		pl_b64_encode(got, root, PL_HASH_BYTES);
		if (err)
			(void)!pl_buf_addf(
			        err,
			        "store holds %llu records, but its tree at size %llu has root %s "
			        "while "
			        "checkpoint %llu (root %s) was signed and published: the store "
			        "holds "
			        "another history. Restore the data directory from a copy taken at "
			        "one "
			        "moment at or after that checkpoint; never delete %s to force a "
			        "start",
			        (unsigned long long)ex->size, (unsigned long long)pub->size, got,
			        (unsigned long long)pub->size, want, PL_EXCHANGE_PUBLISHED_FILE);
		ret = PL_ESTORE;
		goto out;
	}
	if (ret) {
		if (err)
			(void)!pl_buf_addf(err, "store: cannot read its tree at size %llu: %s",
			                   (unsigned long long)pub->size, pl_store_errmsg(ex->w));
		ret = PL_ESTORE;
		goto out;
	}
	ex->pub_slot = pub->slot;
	ret = pl__published_open(ex->dir, PL_EXCHANGE_PUBLISHED_FILE, &ex->pubfd);
	/* The store is ahead (a commit whose checkpoint was never handed out): remember it now. */
	if (!ret && ex->size > pub->size) {
		ret = pl__published_write(ex->pubfd, 1 - ex->pub_slot, own.data, own.len);
		if (!ret)
			ret = pl__published_sync(ex->pubfd);
		if (!ret)
			ex->pub_slot = 1 - ex->pub_slot;
	}
	if (ret && err)
		(void)!pl_buf_addf(err, "%s: %s", path, pl_strerror(ret));
out:
	pl_buf_release(&own);
	free(pub);
	free(path);
	return ret;
}

/*
 * Takes the data directory's lock, so that a second process (a `parleyd
 * party add` while `parleyd serve` runs) cannot append behind the
 * sequencer's back.
 */
static int ex_lock(struct pl_exchange *ex, struct pl_buf *err)
{
	char *path = pl__path_join(ex->dir, PL_EXCHANGE_LOCK_FILE);
	int ret = 0;

	if (!path)
		return PL_ENOMEM;
	ex->lockfd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (ex->lockfd < 0) {
		ret = PL_EIO;
		if (err)
			(void)!pl_buf_addf(err, "%s: %s", path, strerror(errno));
	} else if (flock(ex->lockfd, LOCK_EX | LOCK_NB) != 0) {
		ret = errno == EWOULDBLOCK ? PL_ESTATE : PL_EIO;
		if (err)
			(void)!pl_buf_addf(err, "%s: %s", path,
			                   ret == PL_ESTATE
			                           ? "another process has the exchange open"
			                           : strerror(errno));
	}
	free(path);
	return ret;
}

/* The options of an exchange being opened: the defaults for what opts leaves 0. */
static void ex_options(struct pl_exchange *ex, const struct pl_exchange_options *opts)
{
	pl_exchange_options_default(&ex->o);
	if (opts) {
		struct pl_exchange_options d = ex->o;
		ex->o = *opts;
		if (!ex->o.batch_max)
			ex->o.batch_max = d.batch_max;
		if (!ex->o.batch_idle_us)
			ex->o.batch_idle_us = d.batch_idle_us;
		if (!ex->o.time_tolerance_s)
			ex->o.time_tolerance_s = d.time_tolerance_s;
		if (!ex->o.timer_interval_ms)
			ex->o.timer_interval_ms = d.timer_interval_ms;
		if (!ex->o.payload_max)
			ex->o.payload_max = d.payload_max;
		if (!ex->o.payload_retention_s)
			ex->o.payload_retention_s = d.payload_retention_s;
		if (!ex->o.readers)
			ex->o.readers = d.readers;
	}
	if (!ex->o.payload_unreferenced_max)
		ex->o.payload_unreferenced_max =
		        PL_EXCHANGE_UNREFERENCED_PER_PAYLOAD_MAX * ex->o.payload_max;
	if (ex->o.nlines > PL_EXCHANGE_LINES_MAX)
		ex->o.nlines = PL_EXCHANGE_LINES_MAX;
	/* Checks resume at the next due time from now: none is made up for the closed time. */
	for (size_t i = 0; i < ex->o.nlines; i++) {
		if (pl_line_next(&ex->o.lines[i], ex_now(ex), &ex->line_next[i]) != 0)
			ex->line_next[i] = INT64_MAX;
	}
}

/* Starts the exchange's threads: the published file's syncer, the sequencer, the timers. */
static int ex_start_threads(struct pl_exchange *ex)
{
	int ret = PL_ENOMEM;

	if (pthread_create(&ex->sync_thread, NULL, ex_syncer, ex) != 0)
		goto out;
	ex->sync_started = true;
	if (pthread_create(&ex->seq_thread, NULL, ex_sequencer, ex) != 0)
		goto out;
	ex->seq_started = true;
	if (!ex->o.manual_timers) {
		if (pthread_create(&ex->timer_thread, NULL, ex_timer_thread, ex) != 0)
			goto out;
		ex->timer_started = true;
	}
	ret = 0;
out:
	return ret;
}

int pl_exchange_open(struct pl_exchange **out, const char *dir,
                     const struct pl_exchange_options *opts, struct pl_buf *errdetail)
{
	struct pl_exchange *ex = NULL;
	char *kp = NULL, *vp = NULL;
	char origin[PL_ORIGIN_MAX + 1];
	struct pl_vkey filevk;
	int ret;

	if (!out || !dir)
		return PL_EINVAL;
	ex = calloc(1, sizeof(*ex));
	if (!ex)
		return PL_ENOMEM;
	ex->lockfd = -1;
	ex->pubfd = -1;
	pthread_mutex_init(&ex->sync_mu, NULL);
	pthread_mutex_init(&ex->pool_mu, NULL);
	pthread_mutex_init(&ex->mu, NULL);
	pthread_mutex_init(&ex->shut_mu, NULL);
	pthread_mutex_init(&ex->st_mu, NULL);
	pthread_mutex_init(&ex->err_mu, NULL);
	pthread_mutex_init(&ex->head_mu, NULL);
	pthread_mutex_init(&ex->vf_mu, NULL);
	pthread_rwlock_init(&ex->dir_lock, NULL);
	if (ex_cond_init(&ex->pool_cv) || ex_cond_init(&ex->q_cv) || ex_cond_init(&ex->sync_cv) ||
	    ex_cond_init(&ex->timer_cv) || ex_cond_init(&ex->size_cv) ||
	    ex_cond_init(&ex->vf_edge_cv)) {
		ret = PL_ENOMEM;
		goto fail;
	}
	ex_options(ex, opts);
	ex->dir = strdup(dir);
	kp = pl__path_join(dir, PL_EXCHANGE_KEY_FILE);
	vp = pl__path_join(dir, PL_EXCHANGE_VKEY_FILE);
	if (!ex->dir || !kp || !vp) {
		ret = PL_ENOMEM;
		goto fail;
	}
	ret = pl_store_probe(dir);
	if (!ret)
		ret = ex_lock(ex, errdetail);
	if (!ret)
		ret = pl_store_open(&ex->w, dir, true, errdetail);
	if (ret)
		goto fail;
	ret = pl_store_origin(ex->w, origin);
	if (ret)
		goto fail;
	if (!pl_record_origin_is_valid(origin, strlen(origin))) {
		ret = PL_ESTORE;
		if (errdetail)
			(void)!pl_buf_addf(errdetail, "store: origin is not valid");
		goto fail;
	}
	snprintf(ex->origin, sizeof(ex->origin), "%s", origin);
	ret = pl_skey_load(&ex->key, kp);
	if (ret) {
		if (errdetail)
			(void)!pl_buf_addf(errdetail, "%s: %s", PL_EXCHANGE_KEY_FILE,
			                   pl_strerror(ret));
		goto fail;
	}
	pl_skey_public(&ex->key, &ex->vkey);
	if (strcmp(ex->vkey.name, ex->origin) != 0 ||
	    (pl_vkey_load(&filevk, vp) == 0 && !pl_vkey_equal(&filevk, &ex->vkey))) {
		ret = PL_EKEY;
		if (errdetail)
			(void)!pl_buf_addf(errdetail,
			                   "log key does not match the store's origin or %s",
			                   PL_EXCHANGE_VKEY_FILE);
		goto fail;
	}
	ret = ex_check_store(ex, errdetail);
	if (!ret)
		ret = ex_check_published(ex, errdetail);
	if (!ret)
		ret = ex_dir_load(ex, ex->w);
	if (!ret)
		ret = ex_lines_keep(ex);
	if (ret)
		goto fail;
	ex->pool = calloc(ex->o.readers, sizeof(*ex->pool));
	ex->free_stores = calloc(ex->o.readers, sizeof(*ex->free_stores));
	if (!ex->pool || !ex->free_stores) {
		ret = PL_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < ex->o.readers; i++) {
		ret = pl_store_open(&ex->pool[i], dir, false, errdetail);
		if (ret)
			goto fail;
		ex->npool++;
		ex->free_stores[ex->nfree++] = ex->pool[i];
	}
	/* From here on the sequencer syncs each commit itself (ex_durable()). */
	ret = pl_store_sequencer_start(ex->w);
	if (ret) {
		if (errdetail)
			(void)!pl_buf_adds(errdetail, pl_store_errmsg(ex->w));
		goto fail;
	}
	ret = ex_start_threads(ex);
	if (ret)
		goto fail;
	*out = ex;
	ex = NULL;
	ret = 0;
fail:
	free(kp);
	free(vp);
	pl_exchange_close(ex);
	return ret;
}

void pl_exchange_shutdown(struct pl_exchange *ex)
{
	if (!ex)
		return;
	pthread_mutex_lock(&ex->shut_mu);
	if (!ex->shut) {
		pthread_mutex_lock(&ex->mu);
		ex->stopping = true;
		pthread_cond_broadcast(&ex->q_cv);
		pthread_cond_broadcast(&ex->timer_cv);
		pthread_mutex_unlock(&ex->mu);
		if (ex->timer_started)
			pthread_join(ex->timer_thread, NULL);
		if (ex->seq_started)
			pthread_join(ex->seq_thread, NULL);
		if (ex->sync_started) {
			pthread_mutex_lock(&ex->sync_mu);
			ex->sync_stop = true;
			pthread_cond_broadcast(&ex->sync_cv);
			pthread_mutex_unlock(&ex->sync_mu);
			pthread_join(ex->sync_thread, NULL);
		}
		ex->timer_started = ex->seq_started = ex->sync_started = false;
		/* No batch follows: the store's last upkeep. */
		if (ex->w)
			(void)!pl_store_maintain(ex->w, true);
		pthread_mutex_lock(&ex->st_mu);
		ex->shut = true;
		pthread_cond_broadcast(&ex->size_cv);
		pthread_mutex_unlock(&ex->st_mu);
	}
	pthread_mutex_unlock(&ex->shut_mu);
}

void pl_exchange_close(struct pl_exchange *ex)
{
	if (!ex)
		return;
	pl_exchange_shutdown(ex);
	for (size_t i = 0; i < ex->npool; i++)
		pl_store_close(ex->pool[i]);
	free(ex->pool);
	free(ex->free_stores);
	pl_store_close(ex->w);
	pl_skey_clear(&ex->key);
	free(ex->keys);
	free(ex->members);
	free(ex->checkpoint);
	free(ex->cosigned);
	free(ex->dir);
	if (ex->pubfd >= 0)
		close(ex->pubfd);
	if (ex->lockfd >= 0)
		close(ex->lockfd); /* releases the lock */
	pthread_cond_destroy(&ex->pool_cv);
	pthread_cond_destroy(&ex->q_cv);
	pthread_cond_destroy(&ex->timer_cv);
	pthread_cond_destroy(&ex->size_cv);
	pthread_cond_destroy(&ex->sync_cv);
	pthread_mutex_destroy(&ex->sync_mu);
	pthread_mutex_destroy(&ex->pool_mu);
	pthread_mutex_destroy(&ex->mu);
	pthread_mutex_destroy(&ex->shut_mu);
	pthread_mutex_destroy(&ex->st_mu);
	pthread_mutex_destroy(&ex->err_mu);
	pthread_mutex_destroy(&ex->head_mu);
	pthread_mutex_destroy(&ex->vf_mu);
	pthread_cond_destroy(&ex->vf_edge_cv);
	pthread_rwlock_destroy(&ex->dir_lock);
	free(ex->heads);
	for (size_t i = 0; i < PL__ARRAY_LEN(ex->vf_tiles); i++)
		free(ex->vf_tiles[i]);
	free(ex->vf_edge_hashes);
	free(ex);
}

const char *pl_exchange_origin(const struct pl_exchange *ex)
{
	return ex->origin;
}

const struct pl_vkey *pl_exchange_vkey(const struct pl_exchange *ex)
{
	return &ex->vkey;
}

void pl_exchange_last_error(struct pl_exchange *ex, char *out, size_t outlen)
{
	if (!out || !outlen)
		return;
	pthread_mutex_lock(&ex->err_mu);
	snprintf(out, outlen, "%s", ex->lasterr);
	pthread_mutex_unlock(&ex->err_mu);
}
