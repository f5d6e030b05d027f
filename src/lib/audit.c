/* A log audit: recompute the tree and the thread index from every entry, re-check every rule. */
#include <parley/audit.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <parley/directory.h>
#include <parley/note.h>
#include <parley/replay.h>
#include <parley/tiles.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

#include "banned.h"

/* Threads that open the records of one bundle at most (signature checks dominate the audit). */
#define AUDIT_THREADS_MAX 8

/*
 * The records of one bundle, opened ahead in parallel against the directory
 * as it stood before the bundle: err[i] is pl_record_open()'s result for
 * entry i. A record that did not open (a key registered within the bundle,
 * or a real failure) is opened again, in order, against the directory then.
 */
struct preopen {
	struct pl_record rec[PL_TILE_WIDTH];
	uint8_t id[PL_TILE_WIDTH][PL_RECORD_ID_BYTES];
	struct pl_vkey signer[PL_TILE_WIDTH];
	int err[PL_TILE_WIDTH];
	const struct pl_tiles_entry *ents;
	unsigned width;
	const struct pl_vkey *dir;
	size_t ndir;
};

/*
 * One entry bundle and its level-0 hash tile as fetched, its entries split
 * (pointing into bundle) and opened ahead. err is the fetch's: 0, the
 * source's code, or PL_EMALFORMED when the bundle does not split.
 */
struct fetched {
	uint64_t n;
	struct pl_tile t;
	struct pl_buf bundle, tile;
	struct pl_tiles_entry ents[PL_TILE_WIDTH];
	int err;
	struct preopen pre;
};

/* One opener's share: the entries i with i % step == first. */
struct opener {
	struct preopen *p;
	unsigned first, step;
};

/* One audit under way. */
struct audit {
	const struct pl_checkpoint *cp;
	const struct pl_audit_source *src;
	struct pl_audit_result *res;
	/* Every record that opened, in log order, and the directory they build. */
	struct pl_replay_log log;
	/* The tree recomputed from the entries. */
	struct pl_tlog_memstore *tree;
	struct preopen *pre; /* the bundle being audited, opened ahead */
	unsigned nthreads;
	/*
	 * The thread index recomputed from the entries (docs/index.md §8): the
	 * references seen since the last update, one update at each `index`
	 * record (or when the list is full: the root does not depend on the
	 * batching), then its root against the record's.
	 */
	struct pl_tindex_memstore *imem;
	struct pl_tindex *index;
	struct pl_tindex_ref *refs; /* PL_TINDEX_MAX_BATCH */
	size_t nrefs;
	bool index_broken;  /* an update failed or a root differed: no later root is compared */
	uint64_t last_kind; /* the kind of the last entry opened, 0 for none */
};

static void fail_at(struct audit *a, bool is_record, uint64_t index, const uint8_t *id,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Counts a failure and keeps the first one. */
static void fail_at(struct audit *a, bool is_record, uint64_t index, const uint8_t *id,
                    const char *fmt, ...)
{
	struct pl_audit_result *r = a->res;
	va_list ap;

	r->failures++;
	if (r->has_first)
		return;
	r->has_first = true;
	r->first_is_record = is_record;
	r->first_index = index;
	if (id)
		memcpy(r->first_id, id, PL_RECORD_ID_BYTES);
	va_start(ap, fmt);
	vsnprintf(r->first_reason, sizeof(r->first_reason), fmt, ap);
	va_end(ap);
}

static int error_at(struct audit *a, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Says why the audit could not finish; returns err. */
static int error_at(struct audit *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->res->error, sizeof(a->res->error), fmt, ap);
	va_end(ap);
	return err;
}

static void progress(struct audit *a, uint64_t done, bool last)
{
	if (a->src->progress)
		a->src->progress(a->src->ctx, done, last);
}

/* Reports a record that does not open, naming the key of its author's signature line. */
static void fail_open(struct audit *a, uint64_t index, const uint8_t *id, const char *e, size_t len,
                      int err, const char *why)
{
	struct pl_note *n = NULL;

	if (err == PL_EVERIFY && pl_note_parse(&n, e, len) == 0 && n->nsigs > 0)
		fail_at(a, true, index, id, "%s (key %s)", why ? why : pl_strerror(err),
		        n->sigs[0].name);
	else
		fail_at(a, true, index, id, "%s", why ? why : pl_strerror(err));
	pl_note_free(n);
}

/*
 * Adds the pending references to the recomputed index. A failure (a key
 * past PL_TINDEX_MAX_ENTRIES, which the exchange refuses at submission) is
 * counted at the record at index; no later root can then be compared.
 * Returns 0 or what stops the audit (PL_ENOMEM).
 */
static int index_flush(struct audit *a, uint64_t index, const uint8_t *id)
{
	int err = 0;

	if (a->nrefs > 0 && !a->index_broken)
		err = pl_tindex_update(a->index, a->refs, a->nrefs);
	a->nrefs = 0;
	if (err == PL_ENOMEM)
		return err;
	if (err) {
		a->index_broken = true;
		fail_at(a, true, index, id, "the thread index cannot be recomputed up to here: %s",
		        pl_strerror(err));
	}
	return 0;
}

/*
 * Lists the references of r (at index, id) for the index: each record id
 * its `ref` lines name, once. Returns 0 or what stops the audit.
 */
static int index_refs(struct audit *a, const struct pl_record *r, uint64_t index,
                      const uint8_t id[static PL_RECORD_ID_BYTES])
{
	int err = 0;

	for (size_t i = 0; i < r->nrefs && i < PL_RECORD_MAX_REFS && err == 0; i++) {
		bool again = false;
		for (size_t k = 0; k < i && !again; k++)
			again = memcmp(r->refs[k].id, r->refs[i].id, PL_RECORD_ID_BYTES) == 0;
		if (again)
			continue;
		if (a->nrefs == PL_TINDEX_MAX_BATCH)
			err = index_flush(a, index, id);
		memcpy(a->refs[a->nrefs].key, r->refs[i].id, PL_HASH_BYTES);
		memcpy(a->refs[a->nrefs].id, id, PL_HASH_BYTES);
		a->refs[a->nrefs++].index = index;
	}
	return err;
}

/*
 * An `index` record at index: the map of every record below it, recomputed,
 * must have the root it names. A difference is named with the evidence: the
 * index record (its log index and id) and both roots; later roots are not
 * compared (they differ for the same reason). Returns 0 or what stops the
 * audit.
 */
static int index_check(struct audit *a, const struct pl_record *r, uint64_t index,
                       const uint8_t id[static PL_RECORD_ID_BYTES])
{
	char want[PL_HASH_B64_LEN + 1], got[PL_HASH_B64_LEN + 1];
	uint8_t root[PL_HASH_BYTES];
	int err = index_flush(a, index, id);

	if (err || a->index_broken)
		return err;
	a->res->indexes++;
	pl_tindex_root(a->index, root);
	if (memcmp(root, r->index_root, PL_HASH_BYTES) != 0) {
		/* Every later root differs for the same reason: the first is the evidence. */
		a->index_broken = true;
		pl_b64_encode(want, root, PL_HASH_BYTES);
		pl_b64_encode(got, r->index_root, PL_HASH_BYTES);
		fail_at(a, true, index, id,
		        "index: the thread index of the %" PRIu64
		        " records below it has root %s, the record says %s",
		        index, want, got);
	}
	return 0;
}

/*
 * Opens and judges the record at index, the bytes e[0..len) of its entry.
 * Returns 0 (counted, failure or not) or a PL_E... code that stops the audit.
 */
static int audit_record(struct audit *a, uint64_t index, const char *e, size_t len, unsigned k)
{
	struct pl_record *r = &a->pre->rec[k];
	uint8_t *id = a->pre->id[k];
	struct pl_vkey *signer = &a->pre->signer[k];
	const char *why = NULL;
	uint64_t dup;
	size_t key;
	int ret = 0, err;

	a->res->records++;
	pl_record_id(id, e, len);
	if (pl_replay_log_find(&a->log, id, &dup)) {
		fail_at(a, true, index, id,
		        "the same record is logged twice (first at #%" PRIu64 ")", dup);
		goto out;
	}
	err = a->pre->err[k];
	if (err)
		err = pl_record_open(r, id, signer, e, len, a->log.dir.keys, a->log.dir.n, &why);
	if (err) {
		fail_open(a, index, id, e, len, err, why);
		goto out;
	}
	if (r->kind >= 1 && r->kind <= PL_KIND_COUNT)
		a->res->by_kind[r->kind]++;
	a->last_kind = r->kind;
	ret = r->kind == PL_KIND_INDEX ? index_check(a, r, index, id) : index_refs(a, r, index, id);
	if (ret)
		goto out;
	if (strcmp(r->exchange, a->cp->origin) != 0) {
		fail_at(a, true, index, id, "a record of the exchange '%s' in the log of '%s'",
		        r->exchange, a->cp->origin);
		goto out;
	}
	/* pl_record_open() verified it against the directory: not finding it cannot happen. */
	key = pl_directory_find(&a->log.dir, signer->name, signer->id);
	if (key == PL_DIRECTORY_NONE) {
		ret = PL_EINVAL;
		goto out;
	}
	/* The whole log's directory is at hand: the parties a record names must be registered. */
	err = pl_replay_log_judge(&a->log, r, id, key, true, &why);
	if (err == PL_ECHAIN || err == PL_ERULE || err == PL_EINVAL) {
		fail_at(a, true, index, id, "%s: %s", err == PL_ECHAIN ? "chain" : "rule",
		        why ? why : pl_strerror(err));
	} else if (err) {
		ret = err;
		goto out;
	}
	/* A record that broke a rule is in the log all the same: later records build on it. */
	ret = pl_replay_log_add(&a->log, r, id, index, key, e, len);
out:
	return ret;
}

static void *opener_run(void *arg)
{
	struct opener *o = arg;
	struct preopen *p = o->p;

	for (unsigned i = o->first; i < p->width; i += o->step)
		p->err[i] = pl_record_open(&p->rec[i], p->id[i], &p->signer[i],
		                           (const char *)p->ents[i].data, p->ents[i].len, p->dir,
		                           p->ndir, NULL);
	return NULL;
}

/* The openers of one bundle under way. */
struct openers {
	struct opener o[AUDIT_THREADS_MAX];
	pthread_t th[AUDIT_THREADS_MAX];
	bool started[AUDIT_THREADS_MAX];
	unsigned n;
};

/*
 * Starts opening the entries of f on a->nthreads threads, against the
 * directory as it stands; the caller may fetch the next bundle meanwhile,
 * but changes nothing the openers read until openers_finish().
 */
static void openers_start(struct audit *a, struct fetched *f, struct openers *w)
{
	struct preopen *p = &f->pre;

	p->ents = f->ents;
	p->width = f->t.width;
	p->dir = a->log.dir.keys;
	p->ndir = a->log.dir.n;
	w->n = a->nthreads;
	for (unsigned t = 0; t < w->n; t++) {
		w->o[t] = (struct opener){.p = p, .first = t, .step = w->n};
		w->started[t] = pthread_create(&w->th[t], NULL, opener_run, &w->o[t]) == 0;
	}
}

/* Waits for the openers; a share whose thread did not start is opened here. */
static void openers_finish(struct openers *w)
{
	for (unsigned t = 0; t < w->n; t++) {
		if (w->started[t])
			pthread_join(w->th[t], NULL);
		else
			opener_run(&w->o[t]);
	}
}

/* The width argument of the source for a tile: 0 for a full one. */
static unsigned src_width(const struct pl_tile *t)
{
	return t->width == PL_TILE_WIDTH ? 0 : t->width;
}

/* Checks the leaves of bundle n against its level-0 tile; counts what does not hold. */
static void check_leaves(struct audit *a, uint64_t n, const struct pl_tiles_entry *ents,
                         unsigned width, const struct pl_buf *tile, uint8_t leaves[][PL_HASH_BYTES])
{
	uint8_t id[PL_RECORD_ID_BYTES];
	unsigned bad = 0;
	int err;

	/* The leaves come back whatever the tile says: the tree is rebuilt from the entries. */
	err = pl_tiles_bundle_check(ents, width, (const uint8_t *)tile->data, tile->len, leaves,
	                            &bad);
	if (err == PL_EMALFORMED) {
		fail_at(a, false, 0, NULL, "hash tile 0/%" PRIu64 " has %zu bytes, not %u", n,
		        tile->len, width * PL_HASH_BYTES);
	} else if (err == PL_EPROOF) {
		pl_record_id(id, (const char *)ents[bad].data, ents[bad].len);
		fail_at(a, true, n * PL_TILE_WIDTH + bad, id,
		        "the entry does not hash to the leaf of hash tile 0/%" PRIu64, n);
	}
}

/*
 * Fetches entry bundle n and the level-0 hash tile of the same number into
 * f and splits the bundle; what failed is in f->err. Returns 0, or
 * PL_EINVAL when n is outside the tree (res->error set).
 */
static int fetch_bundle(struct audit *a, uint64_t n, struct fetched *f)
{
	f->n = n;
	pl_buf_reset(&f->bundle);
	pl_buf_reset(&f->tile);
	if (pl_tiles_tile_at(&f->t, a->cp->size, 0, n, true) != 0)
		return error_at(a, PL_EINVAL, "entry bundle %" PRIu64 " is outside the tree", n);
	f->err = a->src->bundle(a->src->ctx, n, src_width(&f->t), &f->bundle);
	if (!f->err)
		f->err = a->src->tile(a->src->ctx, 0, n, src_width(&f->t), &f->tile);
	if (f->err)
		return 0;
	a->res->bundles++;
	a->res->tiles++;
	if (pl_tiles_bundle_split((const uint8_t *)f->bundle.data, f->bundle.len, f->t.width,
	                          f->ents) != 0)
		f->err = PL_EMALFORMED;
	return 0;
}

/*
 * Audits the fetched bundle f, whose records were opened ahead: checks that
 * the bundle and its tile agree, appends the entries' leaf hashes to the
 * tree and audits each record. Returns 0, PL_EMALFORMED for a malformed
 * bundle (counted: the rest of the tree cannot be rebuilt), or what stops
 * the audit.
 */
static int audit_bundle(struct audit *a, struct fetched *f)
{
	uint8_t leaves[PL_TILE_WIDTH][PL_HASH_BYTES];
	uint64_t first = f->n * PL_TILE_WIDTH;
	int err = f->err;

	if (err == PL_EMALFORMED) {
		/* Without its entries the tree cannot be recomputed: nothing after holds. */
		fail_at(a, false, 0, NULL, "entry bundle %" PRIu64 " is malformed", f->n);
		return err;
	}
	if (err)
		return err;
	check_leaves(a, f->n, f->ents, f->t.width, &f->tile, leaves);
	err = pl_tlog_memstore_append(a->tree, (const uint8_t(*)[PL_HASH_BYTES])leaves, f->t.width);
	a->pre = &f->pre;
	for (unsigned i = 0; err == 0 && i < f->t.width; i++) {
		err = audit_record(a, first + i, (const char *)f->ents[i].data, f->ents[i].len, i);
		progress(a, first + i + 1, false);
	}
	if (err)
		err = error_at(a, err, "%s", pl_strerror(err));
	return err;
}

/*
 * Every bundle in order, two at a time: while the records of one are
 * opened on every core, the next is fetched (the source is called from
 * this thread only). Returns as audit_bundle() does.
 */
static int audit_bundles(struct audit *a, struct fetched *f[2])
{
	uint64_t nbundles = (a->cp->size + PL_TILE_WIDTH - 1) / PL_TILE_WIDTH;
	struct openers w;
	int err = 0;

	if (nbundles > 0)
		err = fetch_bundle(a, 0, f[0]);
	for (uint64_t n = 0; n < nbundles && err == 0; n++) {
		struct fetched *cur = f[n % 2];
		bool open = cur->err == 0;
		if (open)
			openers_start(a, cur, &w);
		if (n + 1 < nbundles)
			err = fetch_bundle(a, n + 1, f[(n + 1) % 2]);
		if (open)
			openers_finish(&w);
		if (!err)
			err = audit_bundle(a, cur);
	}
	return err;
}

/*
 * Compares every hash tile above level 0 with the one recomputed from the
 * entries, then the root with the checkpoint's. Returns 0 or what stops it.
 */
static int audit_tree(struct audit *a)
{
	static uint8_t want[PL_TILE_BYTES];
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(a->tree);
	uint8_t root[PL_HASH_BYTES];
	struct pl_buf got;
	int err = 0;

	pl_buf_init(&got, PL_TILE_BYTES);
	for (unsigned level = 1; level <= PL_TILE_MAX_LEVEL; level++) {
		struct pl_tile t;
		for (uint64_t n = 0; pl_tiles_tile_at(&t, a->cp->size, level, n, false) == 0; n++) {
			size_t len;
			pl_buf_reset(&got);
			err = a->src->tile(a->src->ctx, level, n, src_width(&t), &got);
			if (err)
				goto out;
			a->res->tiles++;
			err = pl_tiles_read_hash_tile(&rd, &t, want, &len);
			if (err) {
				err = error_at(a, err, "tile %u/%" PRIu64 ": %s", level, n,
				               pl_strerror(err));
				goto out;
			}
			if (got.len != len || memcmp(got.data, want, len) != 0)
				fail_at(a, false, 0, NULL,
				        "hash tile %u/%" PRIu64
				        " differs from the tree of the entries",
				        level, n);
		}
	}
	err = pl_tlog_tree_hash(&rd, a->cp->size, root);
	if (err) {
		err = error_at(a, err, "the tree: %s", pl_strerror(err));
		goto out;
	}
	if (memcmp(root, a->cp->root, PL_HASH_BYTES) != 0)
		fail_at(a, false, 0, NULL,
		        "the tree of the entries does not have the checkpoint's root");
out:
	pl_buf_release(&got);
	return err;
}

/* Opens the empty thread index the audit recomputes. Returns 0 or PL_ENOMEM. */
static int index_open(struct audit *a)
{
	struct pl_tindex_store st;
	int err;

	a->refs = calloc(PL_TINDEX_MAX_BATCH, sizeof(*a->refs));
	if (!a->refs)
		return PL_ENOMEM;
	err = pl_tindex_memstore_new(&a->imem);
	if (!err) {
		st = pl_tindex_memstore_store(a->imem);
		err = pl_tindex_open(&a->index, &st);
	}
	return err;
}

int pl_audit_run(const struct pl_checkpoint *cp, const struct pl_vkey *log_key,
                 const struct pl_audit_source *src, struct pl_audit_result *res)
{
	struct audit a;
	struct fetched *f[2] = {NULL, NULL};
	long cpus;
	int err = 0;

	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	a.cp = cp;
	a.src = src;
	a.res = res;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	a.nthreads = cpus < 1 ? 1 : cpus > AUDIT_THREADS_MAX ? AUDIT_THREADS_MAX : (unsigned)cpus;
	for (int k = 0; k < 2 && !err; k++) {
		f[k] = calloc(1, sizeof(*f[k]));
		if (!f[k])
			err = PL_ENOMEM;
		else
			pl_buf_init(&f[k]->bundle,
			            (size_t)PL_TILE_WIDTH * (2 + PL_ENTRY_MAX_BYTES));
		if (f[k])
			pl_buf_init(&f[k]->tile, PL_TILE_BYTES);
	}
	if (!err)
		err = pl_tlog_memstore_new(&a.tree);
	if (!err)
		err = pl_replay_log_init(&a.log, log_key, 0);
	if (!err)
		err = index_open(&a);
	if (err) {
		err = error_at(&a, err, "%s", pl_strerror(err));
		goto out;
	}
	progress(&a, 0, false);
	err = audit_bundles(&a, f);
	if (err && err != PL_EMALFORMED)
		goto out;
	progress(&a, res->records, true);
	/* Stores made before the index kind have none; once there is one, every checkpoint ends on
	 * one. */
	if (!err && res->by_kind[PL_KIND_INDEX] > 0 && a.last_kind != PL_KIND_INDEX)
		fail_at(&a, false, 0, NULL,
		        "the checkpoint's last entry (#%" PRIu64 ") is not an index record",
		        cp->size - 1);
	/* After a malformed bundle the rest of the tree cannot be rebuilt: no tree check. */
	err = err ? 0 : audit_tree(&a);
out:
	for (int k = 0; k < 2; k++) {
		if (f[k]) {
			pl_buf_release(&f[k]->bundle);
			pl_buf_release(&f[k]->tile);
		}
		free(f[k]);
	}
	pl_tindex_free(a.index);
	pl_tindex_memstore_free(a.imem);
	free(a.refs);
	pl_tlog_memstore_free(a.tree);
	pl_replay_log_release(&a.log);
	return err;
}
