/* Dossier export: the evidence of one dossier gathered from a source, checked as it comes. */
#include <parley/dossier.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <parley/checkpoint.h>
#include <parley/note.h>
#include <parley/tiles.h>
#include <parley/tindex.h>

#include "dossier_int.h"
#include "internal.h"
#include "banned.h"

/* Bytes of an entry bundle at most: each entry and its length prefix. */
#define BUNDLE_MAX ((size_t)PL_TILE_WIDTH * (2 + PL_ENTRY_MAX_BYTES))
/* Rounds of pl_dossier_wants(): two suffice (anchors and references, then their registers). */
#define WANTS_ROUNDS 3

/* One hash tile fetched, kept: a frontier, the window and the proofs share most of them. */
struct tile_copy {
	struct pl_tile t;
	uint8_t *hashes; /* t.width hashes */
};

/*
 * A record outside the window (version 1: before it), with its inclusion
 * proof under the checkpoint; a thread record of version 2 also keeps the
 * text of its index proof.
 */
struct held {
	uint64_t index;
	uint8_t id[PL_RECORD_ID_BYTES];
	char *text;
	size_t len;
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	size_t nproof;
	char *tindex;
	size_t tindex_len;
};

/* Held records in index order, at most max of them; what names them in reasons. */
struct heldlist {
	struct held **v;
	size_t n, cap, max;
	const char *what;
};

struct pl_dossier_export {
	const struct pl_dossier_source *src;
	struct pl_vkey log_key;
	uint8_t subject[PL_RECORD_ID_BYTES];
	char sid[17]; /* the subject's short id, for reasons */
	struct pl_checkpoint cp;
	struct pl_buf cpnote;
	struct tile_copy *tiles;
	size_t ntiles, captiles;
	struct pl_tiles_view view;
	/* The window [start, size): entry bundles kept whole, entries pointing into them. */
	uint64_t start;
	struct pl_buf *bundles;
	size_t nbundles;
	struct pl_dossier_entry *window;
	uint8_t (*ids)[PL_RECORD_ID_BYTES];
	size_t nwindow;
	uint8_t frontier[PL_DOSSIER_MAX_FRONTIER][PL_HASH_BYTES];
	size_t nfrontier;
	/*
	 * Version 1: the records before the window; version 2: the records
	 * outside the thread. In index order, each below limit, and their view
	 * for pl_dossier_build().
	 */
	struct heldlist held;
	uint64_t limit;
	struct pl_dossier_entry *proven;
	/* Version 2: the index record at size - 1 and its root, the thread and its view. */
	unsigned version;
	struct held *ix;
	uint8_t root[PL_HASH_BYTES];
	struct heldlist thread;
	struct pl_dossier_entry *thread_view;
	/* The first tile fetch that failed, named in the reason of the call that needed it. */
	int tile_err;
	struct pl_tile tile_failed;
};

static void short_id(char out[static 17], const uint8_t *id)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	pl_record_id_format(hex, id);
	memcpy(out, hex, 16);
	out[16] = '\0';
}

/* ---- The export: hash tiles, each fetched once ---- */

/* A pl_tiles_source: from the kept tiles, else from the source (then kept). */
static int read_tile(void *ctx, const struct pl_tile *t, uint8_t *out)
{
	struct pl_dossier_export *x = ctx;
	size_t want = (size_t)t->width * PL_HASH_BYTES;
	uint8_t *h = NULL;
	int ret = 0;

	for (size_t i = 0; i < x->ntiles; i++) {
		const struct pl_tile *k = &x->tiles[i].t;
		if (k->level == t->level && k->n == t->n && k->width == t->width) {
			memcpy(out, x->tiles[i].hashes, want);
			goto out;
		}
	}
	if (x->ntiles == x->captiles) {
		size_t cap = x->captiles ? 2 * x->captiles : 64;
		struct tile_copy *v = realloc(x->tiles, cap * sizeof(*v));
		if (!v) {
			ret = PL_ENOMEM;
			goto out;
		}
		x->tiles = v;
		x->captiles = cap;
	}
	h = malloc(want);
	if (!h) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = x->src->tile(x->src->ctx, t, h);
	if (ret)
		goto out;
	x->tiles[x->ntiles].t = *t;
	x->tiles[x->ntiles].hashes = h;
	x->ntiles++;
	memcpy(out, h, want);
	h = NULL;
out:
	if (ret && !x->tile_err) {
		x->tile_err = ret;
		x->tile_failed = *t;
	}
	free(h);
	return ret;
}

/* Says why a call that read hashes through the tiles failed: the tile, when one did. */
static int tiles_failed(const struct pl_dossier_export *x, const char *what, int err,
                        struct pl_buf *why)
{
	if (x->tile_err && x->tile_err != PL_ENOMEM)
		return pl__dossier_fail(why, x->tile_err, "hash tile %u/%" PRIu64,
		                        x->tile_failed.level, x->tile_failed.n);
	return pl__dossier_fail(why, err, "%s: %s", what, pl_strerror(err));
}

/* ---- The window ---- */

/*
 * Fetches entry bundle n of the tree at the checkpoint into b, checks it
 * against the level-0 hash tile of the same number and splits it into ents.
 * Returns 0 with *width set, or an error with its reason in why.
 */
static int fetch_bundle(struct pl_dossier_export *x, uint64_t n, struct pl_buf *b,
                        struct pl_tiles_entry ents[static PL_TILE_WIDTH], unsigned *width,
                        struct pl_buf *why)
{
	uint8_t *tile = NULL;
	struct pl_tile t;
	int ret;

	if (pl_tiles_tile_at(&t, x->cp.size, 0, n, true) != 0) {
		ret = pl__dossier_fail(why, PL_EINVAL,
		                       "entry bundle %" PRIu64
		                       ": outside the tree of size %" PRIu64,
		                       n, x->cp.size);
		goto out;
	}
	ret = x->src->bundle(x->src->ctx, n, t.width, b);
	if (ret) {
		ret = pl__dossier_fail(why, ret, "entry bundle %" PRIu64, n);
		goto out;
	}
	tile = malloc(PL_TILE_BYTES);
	if (!tile) {
		ret = pl__dossier_fail(why, PL_ENOMEM, "entry bundle %" PRIu64 ": out of memory",
		                       n);
		goto out;
	}
	t.entries = false;
	ret = read_tile(x, &t, tile);
	if (ret) {
		ret = pl__dossier_fail(why, ret, "hash tile 0/%" PRIu64, n);
		goto out;
	}
	ret = pl_tiles_bundle_split((const uint8_t *)b->data, b->len, t.width, ents);
	if (ret == 0)
		ret = pl_tiles_bundle_check(ents, t.width, tile, (size_t)t.width * PL_HASH_BYTES,
		                            NULL, NULL);
	if (ret) {
		ret = pl__dossier_fail(
		        why, ret == PL_EPROOF ? PL_EPROOF : PL_EMALFORMED,
		        "entry bundle %" PRIu64 ": %s", n,
		        ret == PL_EPROOF ? "an entry does not hash to its leaf in the hash tile"
		                         : "malformed");
		goto out;
	}
	*width = t.width;
out:
	free(tile);
	return ret;
}

/* Fetches every entry in [start, size), the window, and checks that it starts with the subject. */
static int fetch_window(struct pl_dossier_export *x, struct pl_buf *why)
{
	struct pl_tiles_entry ents[PL_TILE_WIDTH];
	uint64_t start = x->start, size = x->cp.size, first, last;
	int ret;

	if (start >= size) {
		ret = pl__dossier_fail(
		        why, PL_ERANGE,
		        "record %s: at log #%" PRIu64 ", beyond the checkpoint of size %" PRIu64
		        " (an exchange with witnesses serves the newest checkpoint they"
		        " cosigned: try again, or --wait longer)",
		        x->sid, start, size);
		goto out;
	}
	if (size - start > PL_DOSSIER_MAX_WINDOW) {
		ret = pl__dossier_fail(why, PL_ETOOBIG,
		                       "record %s: the window from log #%" PRIu64
		                       " up to checkpoint %" PRIu64 " holds %" PRIu64
		                       " records, more than a dossier can (%d)",
		                       x->sid, start, size, size - start, PL_DOSSIER_MAX_WINDOW);
		goto out;
	}
	first = start / PL_TILE_WIDTH;
	last = (size - 1) / PL_TILE_WIDTH;
	x->nwindow = (size_t)(size - start);
	x->window = calloc(x->nwindow, sizeof(*x->window));
	x->ids = calloc(x->nwindow, sizeof(*x->ids));
	x->bundles = calloc((size_t)(last - first + 1), sizeof(*x->bundles));
	if (!x->window || !x->ids || !x->bundles) {
		ret = pl__dossier_fail(why, PL_ENOMEM, "the window: out of memory");
		goto out;
	}
	for (uint64_t n = first; n <= last; n++) {
		struct pl_buf *b = &x->bundles[x->nbundles++];
		unsigned width = 0;
		pl_buf_init(b, BUNDLE_MAX);
		ret = fetch_bundle(x, n, b, ents, &width, why);
		if (ret)
			goto out;
		for (unsigned i = 0; i < width; i++) {
			uint64_t index = n * PL_TILE_WIDTH + i;
			size_t k;
			if (index < start)
				continue;
			k = (size_t)(index - start);
			x->window[k].index = index;
			x->window[k].record = (const char *)ents[i].data;
			x->window[k].record_len = ents[i].len;
			pl_record_id(x->ids[k], (const char *)ents[i].data, ents[i].len);
		}
	}
	if (memcmp(x->ids[0], x->subject, PL_RECORD_ID_BYTES) != 0) {
		ret = pl__dossier_fail(why, PL_EPROOF,
		                       "record %s: the exchange named log #%" PRIu64
		                       " as its place, but the log holds another record there",
		                       x->sid, start);
		goto out;
	}
	ret = 0;
out:
	return ret;
}

/* ---- The records before the window ---- */

/* Inserts h in l at position at, in index order. Returns 0 or an error. */
static int held_insert(struct heldlist *l, size_t at, struct held *h, struct pl_buf *why)
{
	int ret = 0;

	if (l->n == l->max) {
		ret = pl__dossier_fail(why, PL_ETOOBIG, "the dossier needs more than %zu %s",
		                       l->max, l->what);
		goto out;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct held **v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			ret = pl__dossier_fail(why, PL_ENOMEM, "the %s: out of memory", l->what);
			goto out;
		}
		l->v = v;
		l->cap = cap;
	}
	memmove(&l->v[at + 1], &l->v[at], (l->n - at) * sizeof(l->v[0]));
	l->v[at] = h;
	l->n++;
out:
	return ret;
}

static void held_free(struct held *h)
{
	if (h) {
		free(h->text);
		free(h->tindex);
		free(h);
	}
}

static void heldlist_release(struct heldlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		held_free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The held record of l with this id, or NULL. */
static struct held *held_find(const struct heldlist *l, const uint8_t id[PL_RECORD_ID_BYTES])
{
	for (size_t i = 0; i < l->n; i++) {
		if (memcmp(l->v[i]->id, id, PL_RECORD_ID_BYTES) == 0)
			return l->v[i];
	}
	return NULL;
}

/*
 * Keeps a record in l (below x->limit) with its inclusion proof, computed
 * from the hash tiles and checked against the checkpoint's root at once, so
 * that a lie is named here rather than as a failed dossier. want, when not
 * NULL, is the id the source was asked for. Returns 0 or an error.
 */
static int hold_in(struct pl_dossier_export *x, struct heldlist *l, uint64_t index,
                   const char *text, size_t len, const uint8_t *want, struct pl_buf *why)
{
	struct pl_tlog_reader rd = pl_tiles_view_reader(&x->view);
	struct held *h = NULL;
	uint8_t leaf[PL_HASH_BYTES];
	char sid[17], what[80];
	size_t at;
	int ret;

	h = calloc(1, sizeof(*h));
	if (!h) {
		ret = pl__dossier_fail(why, PL_ENOMEM, "the proven records: out of memory");
		goto out;
	}
	pl_record_id(h->id, text, len);
	short_id(sid, h->id);
	snprintf(what, sizeof(what), "record %s at log #%" PRIu64, sid, index);
	if (want && memcmp(want, h->id, PL_RECORD_ID_BYTES) != 0) {
		ret = pl__dossier_fail(why, PL_EPROOF,
		                       "%s: the exchange gave it for another record", what);
		goto out;
	}
	for (at = 0; at < l->n && l->v[at]->index < index; at++)
		;
	if (at < l->n && l->v[at]->index == index) {
		/* Asked for twice (a register that is also referred to) is fine; another is not. */
		ret = memcmp(l->v[at]->id, h->id, PL_RECORD_ID_BYTES) == 0
		              ? 0
		              : pl__dossier_fail(
		                        why, PL_EPROOF,
		                        "%s: the exchange gave another record at the same place",
		                        what);
		goto out;
	}
	if (index >= x->limit) {
		ret = pl__dossier_fail(why, PL_EPROOF, "%s: the exchange places it %s", what,
		                       x->version == 1
		                               ? "in the window, where it is not"
		                               : "at or after the checkpoint's index record");
		goto out;
	}
	ret = pl_tlog_prove_inclusion(&rd, x->cp.size, index, h->proof, &h->nproof);
	if (ret) {
		ret = tiles_failed(x, what, ret, why);
		goto out;
	}
	pl_tlog_leaf_hash(leaf, text, len);
	if (pl_tlog_verify_inclusion(leaf, index, x->cp.size,
	                             (const uint8_t(*)[PL_HASH_BYTES])h->proof, h->nproof,
	                             x->cp.root) != 0) {
		ret = pl__dossier_fail(
		        why, PL_EPROOF,
		        "%s: not in the tree of checkpoint %" PRIu64
		        ": its inclusion proof from the exchange's hash tiles does not hold",
		        what, x->cp.size);
		goto out;
	}
	h->text = malloc(len + 1);
	if (!h->text) {
		ret = pl__dossier_fail(why, PL_ENOMEM, "the proven records: out of memory");
		goto out;
	}
	memcpy(h->text, text, len);
	h->text[len] = '\0';
	h->len = len;
	h->index = index;
	ret = held_insert(l, at, h, why);
	if (ret == 0)
		h = NULL;
out:
	held_free(h);
	return ret;
}

static int hold(struct pl_dossier_export *x, uint64_t index, const char *text, size_t len,
                const uint8_t *want, struct pl_buf *why)
{
	return hold_in(x, &x->held, index, text, len, want, why);
}

/* True when the register record msg[0..len) brings the key (name, id). */
static bool registers_key(const char *msg, size_t len, const char *name, const uint8_t *id)
{
	struct pl_note *n = NULL;
	struct pl_record *r = malloc(sizeof(*r));
	bool yes = false;

	if (!r || pl_note_parse(&n, msg, len) != 0 ||
	    pl_record_parse(r, n->text, n->text_len, NULL) != 0 || r->kind != PL_KIND_REGISTER)
		goto out;
	for (size_t i = 0; i < r->nkeys && !yes; i++)
		yes = strcmp(r->keys[i].name, name) == 0 &&
		      memcmp(r->keys[i].id, id, PL_KEYID_BYTES) == 0;
out:
	pl_note_free(n);
	free(r);
	return yes;
}

/*
 * The register record of a key the source does not name (its party has
 * changed keys since): the first register before the window that brings it,
 * searched in the entry bundles. Returns 0 or an error.
 */
static int scan_register(struct pl_dossier_export *x, const struct pl_dossier_want *w,
                         struct pl_buf *why)
{
	struct pl_tiles_entry ents[PL_TILE_WIDTH];
	struct pl_buf b;
	int ret;

	pl_buf_init(&b, BUNDLE_MAX);
	for (uint64_t n = 0; n * PL_TILE_WIDTH < x->limit; n++) {
		unsigned width = 0;
		pl_buf_reset(&b);
		ret = fetch_bundle(x, n, &b, ents, &width, why);
		if (ret)
			goto out;
		for (unsigned i = 0; i < width; i++) {
			uint64_t index = n * PL_TILE_WIDTH + i;
			if (index >= x->limit)
				break;
			if (registers_key((const char *)ents[i].data, ents[i].len, w->key_name,
			                  w->key_id)) {
				ret = hold(x, index, (const char *)ents[i].data, ents[i].len, NULL,
				           why);
				goto out;
			}
		}
	}
	ret = pl__dossier_fail(why, PL_ENOTFOUND,
	                       "key %s: no register record brings it before log #%" PRIu64,
	                       w->key_name, x->limit);
out:
	pl_buf_release(&b);
	return ret;
}

/* Fetches one thing pl_dossier_wants() asked for and holds it. Returns 0 or an error. */
static int fetch_want(struct pl_dossier_export *x, const struct pl_dossier_want *w,
                      struct pl_buf *why)
{
	const struct pl_dossier_source *s = x->src;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	struct pl_buf b;
	uint64_t index = 0;
	int ret;

	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	if (w->kind == PL_DOSSIER_WANT_REGISTER) {
		ret = s->register_of ? s->register_of(s->ctx, w->key_name, w->key_id, &b, &index)
		                     : PL_ENOTFOUND;
		if (ret == 0)
			ret = hold(x, index, b.data ? b.data : "", b.len, NULL, why);
		else if (ret == PL_ENOTFOUND)
			ret = scan_register(x, w, why);
		else
			ret = pl__dossier_fail(why, ret, "the register record of key %s",
			                       w->key_name);
		goto out;
	}
	pl_record_id_format(hex, w->id);
	ret = s->record(s->ctx, w->id, &b, &index);
	if (ret) {
		ret = pl__dossier_fail(why, ret, "record %.16s", hex);
		goto out;
	}
	ret = hold(x, index, b.data ? b.data : "", b.len, w->id, why);
out:
	pl_buf_release(&b);
	return ret;
}

/* Points *view at the records of l, in index order, for the library. */
static int list_view(const struct heldlist *l, struct pl_dossier_entry **view, struct pl_buf *why)
{
	struct pl_dossier_entry *v;
	int ret = 0;

	if (l->n) {
		v = realloc(*view, l->n * sizeof(*v));
		if (!v) {
			ret = pl__dossier_fail(why, PL_ENOMEM, "the %s: out of memory", l->what);
			goto out;
		}
		*view = v;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct held *h = l->v[i];
		(*view)[i].index = h->index;
		(*view)[i].record = h->text;
		(*view)[i].record_len = h->len;
		(*view)[i].proof = (const uint8_t(*)[PL_HASH_BYTES])h->proof;
		(*view)[i].nproof = h->nproof;
		(*view)[i].tindex = h->tindex;
		(*view)[i].tindex_len = h->tindex_len;
	}
out:
	return ret;
}

/*
 * Asks pl_dossier_wants() what is missing and fetches it, until nothing is
 * (docs/dossier.md §2): version 1 from the window, version 2 from the thread.
 */
static int fetch_proven(struct pl_dossier_export *x, struct pl_buf *why)
{
	struct pl_dossier_want *w = NULL;
	const struct pl_dossier_entry *from = x->version == 1 ? x->window : x->thread_view;
	size_t nfrom = x->version == 1 ? x->nwindow : x->thread.n, nw = 0;
	char what[64];
	int ret;

	if (x->version == 1)
		snprintf(what, sizeof(what), "the window from log #%" PRIu64, x->start);
	else
		snprintf(what, sizeof(what), "the thread of %s", x->sid);
	for (int round = 0;; round++) {
		free(w);
		w = NULL;
		ret = list_view(&x->held, &x->proven, why);
		if (ret)
			goto out;
		ret = pl__dossier_wants(&w, &nw, from, nfrom, x->proven, x->held.n,
		                        x->version == 2);
		if (ret) {
			ret = pl__dossier_fail(why, ret, "%s: %s", what,
			                       ret == PL_EMALFORMED
			                               ? "the exchange logged a record "
			                                 "that does not parse"
			                               : pl_strerror(ret));
			goto out;
		}
		if (nw == 0)
			break;
		if (round == WANTS_ROUNDS) {
			ret = pl__dossier_fail(why, PL_EPROOF,
			                       "%s: the records it needs outside it keep growing",
			                       what);
			goto out;
		}
		for (size_t k = 0; k < nw; k++) {
			ret = fetch_want(x, &w[k], why);
			if (ret)
				goto out;
		}
	}
	ret = 0;
out:
	free(w);
	return ret;
}

/* ---- Version 2: the index record and the thread ---- */

/*
 * Fetches the checkpoint's last entry from its entry bundle (checked
 * against its hash tile), which must be an `index` record signed by the log
 * key, and keeps it with its inclusion proof and its root.
 */
static int fetch_index(struct pl_dossier_export *x, struct pl_buf *why)
{
	struct pl_tiles_entry ents[PL_TILE_WIDTH];
	struct heldlist one = {.max = 1, .what = "index records"};
	uint64_t last = x->cp.size - 1;
	unsigned width = 0, k = (unsigned)(last % PL_TILE_WIDTH);
	char what[PL_DOSSIER_LINE_MAX / 2];
	struct pl_buf b;
	int ret;

	pl_buf_init(&b, BUNDLE_MAX);
	if (x->src->index_record) {
		uint64_t at = 0;
		ret = x->src->index_record(x->src->ctx, x->cp.size, &b, &at);
		if (ret == 0 && at != last)
			ret = pl__dossier_fail(why, PL_EPROOF,
			                       "checkpoint %" PRIu64
			                       ": the exchange gave the record "
			                       "at log #%" PRIu64 " for its last entry",
			                       x->cp.size, at);
		else if (ret)
			ret = pl__dossier_fail(why, ret, "the index record of checkpoint %" PRIu64,
			                       x->cp.size);
		ents[k].data = (const uint8_t *)(b.data ? b.data : "");
		ents[k].len = b.len;
	} else {
		ret = fetch_bundle(x, last / PL_TILE_WIDTH, &b, ents, &width, why);
	}
	if (ret)
		goto out;
	ret = pl__dossier_index_open((const char *)ents[k].data, ents[k].len, x->log_key.name,
	                             &x->log_key, x->root, what, sizeof(what));
	if (ret) {
		ret = pl__dossier_fail(why, ret,
		                       "checkpoint %" PRIu64 ": its last entry (log #%" PRIu64
		                       ") is %s, not an index record signed by the log key: a "
		                       "dossier needs a checkpoint that ends with one",
		                       x->cp.size, last,
		                       ret == PL_EPROOF ? what : pl_strerror(ret));
		goto out;
	}
	x->limit = x->cp.size; /* the index record itself is held here */
	ret = hold_in(x, &one, last, (const char *)ents[k].data, ents[k].len, NULL, why);
	x->limit = last;
	if (ret == 0) {
		x->ix = one.v[0];
		one.n = 0;
	}
out:
	heldlist_release(&one);
	pl_buf_release(&b);
	return ret;
}

/*
 * Fetches the index proof of the thread record h, verifies it against the
 * index record's root, and fetches every record it lists that the thread
 * does not hold yet: each must be at the index the proof gives and name h.
 * Returns 0 or an error.
 */
static int follow(struct pl_dossier_export *x, struct held *h, struct pl_buf *why)
{
	struct pl_tindex_proof *p = NULL;
	struct pl_buf b, rec;
	char sid[17], lid[17];
	int ret;

	short_id(sid, h->id);
	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	pl_buf_init(&rec, PL_NOTE_MAX_BYTES);
	ret = x->src->index_proof(x->src->ctx, h->id, x->cp.size, &b);
	if (ret) {
		ret = pl__dossier_fail(why, ret, "the thread index proof of record %s", sid);
		goto out;
	}
	ret = pl_tindex_proof_open(&p, b.data ? b.data : "", b.len, h->id, x->root);
	if (ret) {
		ret = pl__dossier_fail(why, ret == PL_ENOMEM ? ret : PL_EPROOF,
		                       "record %s: the exchange's thread index proof does not hold "
		                       "under the root of the index record at log #%" PRIu64 ": %s",
		                       sid, x->limit, pl_strerror(ret));
		goto out;
	}
	for (size_t k = 0; k < p->nentries; k++) {
		const struct pl_tindex_entry *e = &p->entries[k];
		const struct held *got = held_find(&x->thread, e->id);
		uint64_t index = 0;
		short_id(lid, e->id);
		if (got && got->index == e->index)
			continue;
		if (got) {
			ret = pl__dossier_fail(
			        why, PL_EPROOF,
			        "record %s: the thread index lists record %s at log #%" PRIu64
			        ", but it is at log #%" PRIu64,
			        sid, lid, e->index, got->index);
			goto out;
		}
		pl_buf_reset(&rec);
		ret = x->src->record(x->src->ctx, e->id, &rec, &index);
		if (ret) {
			ret = pl__dossier_fail(why, ret, "record %s", lid);
			goto out;
		}
		if (index != e->index) {
			ret = pl__dossier_fail(
			        why, PL_EPROOF,
			        "record %s: the thread index lists it at log #%" PRIu64
			        ", but the exchange places it at log #%" PRIu64,
			        lid, e->index, index);
			goto out;
		}
		ret = hold_in(x, &x->thread, index, rec.data ? rec.data : "", rec.len, e->id, why);
		if (ret)
			goto out;
	}
	h->tindex = b.data;
	h->tindex_len = b.len;
	memset(&b, 0, sizeof(b));
out:
	pl_tindex_proof_free(p);
	pl_buf_release(&rec);
	pl_buf_release(&b);
	return ret;
}

/*
 * The thread, through the index proofs themselves: the subject first; then,
 * for each thread record whose proof is not fetched yet, its proof and the
 * records it lists, until every thread record has its proof (at most
 * PL_DOSSIER_MAX_THREAD records, each followed once).
 */
static int fetch_thread(struct pl_dossier_export *x, struct pl_buf *why)
{
	struct pl_buf b;
	uint64_t index = 0;
	int ret;

	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	ret = x->src->record(x->src->ctx, x->subject, &b, &index);
	if (ret) {
		ret = pl__dossier_fail(why, ret, "record %s", x->sid);
		goto out;
	}
	if (index != x->start) {
		ret = pl__dossier_fail(why, PL_EPROOF,
		                       "record %s: the exchange placed it at log #%" PRIu64
		                       ", and now at log #%" PRIu64,
		                       x->sid, x->start, index);
		goto out;
	}
	ret = hold_in(x, &x->thread, index, b.data ? b.data : "", b.len, x->subject, why);
	for (size_t q = 0; ret == 0 && q < x->thread.n; q++) {
		if (x->thread.v[q]->tindex)
			continue;
		ret = follow(x, x->thread.v[q], why);
		q = SIZE_MAX; /* from the first again: what follow() added may sort anywhere */
	}
	if (ret == 0)
		ret = list_view(&x->thread, &x->thread_view, why);
out:
	pl_buf_release(&b);
	return ret;
}

/* Version 2 after the checkpoint: the index record, the thread, then the other records. */
static int collect_v2(struct pl_dossier_export *x, struct pl_buf *why)
{
	int ret;

	if (x->start >= x->cp.size) {
		ret = pl__dossier_fail(
		        why, PL_ERANGE,
		        "record %s: at log #%" PRIu64 ", beyond the checkpoint of size %" PRIu64
		        " (an exchange with witnesses serves the newest checkpoint they"
		        " cosigned: try again, or --wait longer)",
		        x->sid, x->start, x->cp.size);
		goto out;
	}
	ret = fetch_index(x, why);
	if (ret == 0)
		ret = fetch_thread(x, why);
	if (ret == 0)
		ret = fetch_proven(x, why);
	if (ret == 0)
		ret = list_view(&x->held, &x->proven, why);
out:
	return ret;
}

/* ---- The whole export ---- */

/* Fetches and opens the checkpoint that should cover the subject. Returns 0 or an error. */
static int fetch_checkpoint(struct pl_dossier_export *x, struct pl_buf *why)
{
	int ret;

	ret = x->src->checkpoint(x->src->ctx, x->start, &x->cpnote);
	if (ret) {
		ret = pl__dossier_fail(why, ret, "the checkpoint");
		goto out;
	}
	ret = pl_checkpoint_open(&x->cp, NULL, x->cpnote.data ? x->cpnote.data : "", x->cpnote.len,
	                         x->log_key.name, &x->log_key, 1);
	if (ret)
		ret = pl__dossier_fail(why, ret, "the checkpoint: %s (log key %s)",
		                       pl_strerror(ret), x->log_key.name);
out:
	return ret;
}

/* Version 1 after the checkpoint: the window, its frontier, the records before it. */
static int collect_v1(struct pl_dossier_export *x, struct pl_buf *why)
{
	struct pl_tlog_reader rd;
	int ret;

	ret = fetch_window(x, why);
	if (ret)
		goto out;
	rd = pl_tiles_view_reader(&x->view);
	ret = pl_dossier_frontier(&rd, x->start, x->frontier, &x->nfrontier);
	if (ret) {
		ret = tiles_failed(x, "the frontier of the window", ret, why);
		goto out;
	}
	ret = fetch_proven(x, why);
	if (ret == 0)
		ret = list_view(&x->held, &x->proven, why);
out:
	return ret;
}

int pl_dossier_export_collect(struct pl_dossier_export **out, const struct pl_dossier_source *src,
                              const struct pl_vkey *log_key,
                              const uint8_t subject[PL_RECORD_ID_BYTES], uint64_t start,
                              struct pl_buf *why)
{
	struct pl_dossier_export *x = NULL;
	struct pl_tiles_source ts;
	int ret;

	if (!out || !src || !src->checkpoint || !src->tile || !src->bundle || !src->record ||
	    !log_key || !subject) {
		ret = pl__dossier_fail(why, PL_EINVAL, "dossier export: missing arguments");
		goto out;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		ret = pl__dossier_fail(why, PL_ENOMEM, "dossier export: out of memory");
		goto out;
	}
	x->src = src;
	x->log_key = *log_key;
	x->start = start;
	x->version = src->index_proof ? 2 : 1;
	x->limit = start;
	x->held.max = PL_DOSSIER_MAX_PROVEN;
	x->held.what = x->version == 1 ? "records before its window" : "records outside the thread";
	x->thread.max = PL_DOSSIER_MAX_THREAD;
	x->thread.what = "thread records";
	memcpy(x->subject, subject, PL_RECORD_ID_BYTES);
	short_id(x->sid, subject);
	pl_buf_init(&x->cpnote, PL_NOTE_MAX_BYTES);
	ret = fetch_checkpoint(x, why);
	if (ret)
		goto out;
	ts.read_tile = read_tile;
	ts.ctx = x;
	pl_tiles_view_init(&x->view, x->cp.size, &ts);
	ret = x->version == 1 ? collect_v1(x, why) : collect_v2(x, why);
	if (ret)
		goto out;
	x->src = NULL; /* the source is the caller's, for this call only */
	*out = x;
	x = NULL;
out:
	pl_dossier_export_free(x);
	return ret;
}

bool pl_dossier_export_holds(const struct pl_dossier_export *x,
                             const uint8_t id[PL_RECORD_ID_BYTES])
{
	for (size_t i = 0; i < x->nwindow; i++) {
		if (memcmp(x->ids[i], id, PL_RECORD_ID_BYTES) == 0)
			return true;
	}
	return held_find(&x->held, id) || held_find(&x->thread, id);
}

void pl_dossier_export_info(const struct pl_dossier_export *x, struct pl_dossier_export_info *info)
{
	info->version = x->version;
	info->size = x->cp.size;
	info->start = x->start;
	info->nwindow = x->nwindow;
	info->nthread = x->thread.n;
	info->nproven = x->held.n;
}

static int cmp_disclosure(const void *a, const void *b)
{
	const struct pl_dossier_disclosure *x = a, *y = b;

	return memcmp(x->id, y->id, PL_RECORD_ID_BYTES);
}

/* Builds the dossier of x, in x's version, with the disclosures d[0..nd) (sorted). */
static int build(const struct pl_dossier_export *x, const struct pl_dossier_disclosure *d,
                 size_t nd, struct pl_buf *out)
{
	struct pl_dossier_input in;
	struct pl_dossier_input_v2 in2;
	struct pl_dossier_entry ix;

	if (x->version == 2) {
		memset(&in2, 0, sizeof(in2));
		memset(&ix, 0, sizeof(ix));
		ix.index = x->ix->index;
		ix.record = x->ix->text;
		ix.record_len = x->ix->len;
		ix.proof = (const uint8_t(*)[PL_HASH_BYTES])x->ix->proof;
		ix.nproof = x->ix->nproof;
		in2.log_key = &x->log_key;
		in2.checkpoint = x->cpnote.data;
		in2.checkpoint_len = x->cpnote.len;
		in2.index = ix;
		in2.thread = x->thread_view;
		in2.nthread = x->thread.n;
		in2.proven = x->proven;
		in2.nproven = x->held.n;
		in2.disclosures = d;
		in2.ndisclosures = nd;
		return pl_dossier_build_v2(out, &in2);
	}
	memset(&in, 0, sizeof(in));
	in.log_key = &x->log_key;
	in.checkpoint = x->cpnote.data;
	in.checkpoint_len = x->cpnote.len;
	in.start = x->start;
	in.frontier = (const uint8_t(*)[PL_HASH_BYTES])x->frontier;
	in.nfrontier = x->nfrontier;
	in.window = x->window;
	in.nwindow = x->nwindow;
	in.proven = x->proven;
	in.nproven = x->held.n;
	in.disclosures = d;
	in.ndisclosures = nd;
	return pl_dossier_build(out, &in);
}

int pl_dossier_export_finish(const struct pl_dossier_export *x,
                             const struct pl_dossier_disclosure *d, size_t nd, struct pl_buf *out,
                             struct pl_dossier_report **rep, struct pl_buf *why)
{
	struct pl_dossier_disclosure sorted[PL_DOSSIER_MAX_DISCLOSURES];
	struct pl_dossier_report *r = NULL;
	struct pl_buf reason;
	size_t len0 = out ? out->len : 0;
	int ret;

	pl_buf_init(&reason, PL_DOSSIER_LINE_MAX + 1);
	if (!x || !out || nd > PL_DOSSIER_MAX_DISCLOSURES || (nd && !d)) {
		ret = pl__dossier_fail(why, PL_EINVAL, "dossier of %s: bad arguments",
		                       x ? x->sid : "?");
		goto out;
	}
	for (size_t i = 0; i < nd; i++) {
		if (!pl_dossier_export_holds(x, d[i].id)) {
			ret = pl__dossier_fail(why, PL_EINVAL,
			                       "dossier of %s: a disclosure of a record not in it",
			                       x->sid);
			goto out;
		}
		sorted[i] = d[i];
	}
	qsort(sorted, nd, sizeof(sorted[0]), cmp_disclosure);
	ret = build(x, sorted, nd, out);
	if (ret) {
		if (ret == PL_ETOOBIG || ret == PL_ENOMEM)
			ret = pl__dossier_fail(why, ret, "dossier of %s: %s", x->sid,
			                       ret == PL_ETOOBIG ? "larger than a dossier may be"
			                                         : pl_strerror(ret));
		else
			ret = pl__dossier_fail(
			        why, ret,
			        "dossier of %s: what the exchange gave does not make a dossier "
			        "(%s); nothing written",
			        x->sid, pl_strerror(ret));
		goto out;
	}
	ret = pl_dossier_verify(&r, out->data, out->len, &x->log_key, NULL, 0, 0, &reason);
	if (ret) {
		ret = pl__dossier_fail(
		        why, ret,
		        "dossier of %s: what the exchange gave does not verify, so nothing is "
		        "written: %s",
		        x->sid, reason.len ? reason.data : pl_strerror(ret));
		/* The file holds the disclosed plaintexts: no copy is left behind. */
		sodium_memzero(out->data + len0, out->len - len0);
		out->len = len0;
		goto out;
	}
	if (rep) {
		*rep = r;
		r = NULL;
	}
out:
	sodium_memzero(sorted, sizeof(sorted));
	pl_buf_release(&reason);
	pl_dossier_report_free(r);
	return ret;
}

void pl_dossier_export_free(struct pl_dossier_export *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nbundles; i++)
		pl_buf_release(&x->bundles[i]);
	free(x->bundles);
	free(x->window);
	free(x->ids);
	heldlist_release(&x->held);
	heldlist_release(&x->thread);
	held_free(x->ix);
	free(x->thread_view);
	free(x->proven);
	for (size_t i = 0; i < x->ntiles; i++)
		free(x->tiles[i].hashes);
	free(x->tiles);
	pl_buf_release(&x->cpnote);
	free(x);
}
