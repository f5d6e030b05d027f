/* Dossier build: the JSON file out, what an exporter must fetch, and the export from a source. */
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

/* A record before the window, with its inclusion proof under the checkpoint. */
struct held {
	uint64_t index;
	uint8_t id[PL_RECORD_ID_BYTES];
	char *text;
	size_t len;
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	size_t nproof;
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
	/* Records before the window, in index order, and their view for pl_dossier_build(). */
	struct held **held;
	size_t nheld, capheld;
	struct pl_dossier_entry *proven;
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

/* ---- Building ------------------------------------------------------------------------ */

/* A JSON string of bytes that must be UTF-8 without NUL (records, notes). */
static json_t *text_string(const char *s, size_t n)
{
	if (memchr(s, 0, n))
		return NULL;
	return json_stringn(s, n);
}

static json_t *hash_string(const uint8_t h[static PL_HASH_BYTES])
{
	char b64[PL_HASH_B64_LEN + 1];

	pl_b64_encode(b64, h, PL_HASH_BYTES);
	return json_string(b64);
}

/* Appends v to arr; false (and v released) on failure. */
static bool push(json_t *arr, json_t *v)
{
	return v && json_array_append_new(arr, v) == 0;
}

/* Sets obj[key] = v; false (and v released) on failure. */
static bool put(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0;
}

static bool entry_shape_ok(const struct pl_dossier_entry *e, bool proven)
{
	if (!e->record || e->record_len == 0 || e->record_len > PL_RECORD_MAX_BYTES ||
	    e->index > (uint64_t)INT64_MAX)
		return false;
	if (!proven)
		return e->nproof == 0;
	return e->nproof <= PL_TLOG_MAX_LEVEL && (e->nproof == 0 || e->proof);
}

static bool input_shape_ok(const struct pl_dossier_input *in)
{
	if (!in->log_key || in->log_key->type != PL_SIGTYPE_ED25519 || !in->checkpoint ||
	    in->checkpoint_len == 0 || in->checkpoint_len > PL_NOTE_MAX_BYTES || !in->window ||
	    in->nwindow == 0 || in->nfrontier != popcount(in->start) ||
	    (in->nfrontier && !in->frontier) || (in->nproven && !in->proven) ||
	    (in->ndisclosures && !in->disclosures) ||
	    !pl_record_origin_is_valid(in->log_key->name, strlen(in->log_key->name)))
		return false;
	for (size_t i = 0; i < in->nwindow; i++) {
		if (!entry_shape_ok(&in->window[i], false) || in->window[i].index != in->start + i)
			return false;
	}
	for (size_t i = 0; i < in->nproven; i++) {
		if (!entry_shape_ok(&in->proven[i], true) || in->proven[i].index >= in->start ||
		    (i > 0 && in->proven[i].index <= in->proven[i - 1].index))
			return false;
	}
	for (size_t i = 0; i < in->ndisclosures; i++) {
		const struct pl_dossier_disclosure *c = &in->disclosures[i];
		if ((c->len && !c->plaintext) || c->len > PL_BOX_MAX_BODY ||
		    (i > 0 && memcmp(in->disclosures[i - 1].id, c->id, PL_RECORD_ID_BYTES) >= 0))
			return false;
	}
	return true;
}

static json_t *build_entry(const struct pl_dossier_entry *e, bool proven)
{
	json_t *o = json_object(), *proof = proven ? json_array() : NULL;
	bool ok = o && (!proven || proof);

	ok = ok && put(o, "index", json_integer((json_int_t)e->index));
	ok = ok && put(o, "record", text_string(e->record, e->record_len));
	for (size_t k = 0; ok && proven && k < e->nproof; k++)
		ok = push(proof, hash_string(e->proof[k]));
	if (ok && proven) {
		ok = put(o, "proof", proof);
		proof = NULL;
	}
	json_decref(proof);
	if (!ok) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static json_t *build_disclosure(const struct pl_dossier_disclosure *c)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1], salt[PL_B64_LEN(PL_BOX_SALT_BYTES) + 1];
	char *b64 = malloc(PL_B64_LEN(c->len) + 1);
	json_t *o = json_object();
	bool ok = o && b64;

	if (ok) {
		pl_record_id_format(hex, c->id);
		pl_b64_encode(salt, c->salt, PL_BOX_SALT_BYTES);
		pl_b64_encode(b64, c->plaintext ? c->plaintext : (const uint8_t *)"", c->len);
	}
	ok = ok && put(o, "record", json_string(hex));
	ok = ok && put(o, "plaintext", json_string(b64));
	ok = ok && put(o, "salt", json_string(salt));
	free(b64);
	if (!ok) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

int pl_dossier_build(struct pl_buf *out, const struct pl_dossier_input *in)
{
	char key[PL_KEY_NAME_MAX + 64], hex[PL_RECORD_ID_HEX_LEN + 1];
	uint8_t subject[PL_RECORD_ID_BYTES];
	json_t *root = NULL, *win = NULL, *arr = NULL;
	struct pl_buf kb;
	char *text = NULL;
	size_t len;
	bool ok;
	int ret;

	pl_buf_init(&kb, sizeof(key) - 1);
	if (!out || !in || !input_shape_ok(in) || pl_vkey_format(in->log_key, &kb) != 0) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = PL_ENOMEM;
	pl_record_id(subject, in->window[0].record, in->window[0].record_len);
	pl_record_id_format(hex, subject);
	root = json_object();
	win = json_object();
	ok = root && win;
	ok = ok && put(root, "version", json_string(PL_DOSSIER_VERSION));
	ok = ok && put(root, "origin", json_string(in->log_key->name));
	ok = ok && put(root, "log_key", json_stringn(kb.data, kb.len));
	ok = ok && put(root, "checkpoint", text_string(in->checkpoint, in->checkpoint_len));
	ok = ok && put(root, "subject", json_string(hex));
	ok = ok && put(win, "start", json_integer((json_int_t)in->start));
	ok = ok && put(win, "frontier", arr = json_array());
	for (size_t i = 0; ok && i < in->nfrontier; i++)
		ok = push(arr, hash_string(in->frontier[i]));
	ok = ok && put(win, "entries", arr = json_array());
	for (size_t i = 0; ok && i < in->nwindow; i++)
		ok = push(arr, build_entry(&in->window[i], false));
	if (ok) {
		ok = put(root, "window", win);
		win = NULL;
	}
	ok = ok && put(root, "proven", arr = json_array());
	for (size_t i = 0; ok && i < in->nproven; i++)
		ok = push(arr, build_entry(&in->proven[i], true));
	ok = ok && put(root, "disclosures", arr = json_array());
	for (size_t i = 0; ok && i < in->ndisclosures; i++)
		ok = push(arr, build_disclosure(&in->disclosures[i]));
	if (!ok) {
		/* jansson refuses a string that is not UTF-8: a record that cannot be logged. */
		ret = PL_EINVAL;
		goto out;
	}
	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (!text)
		goto out;
	len = strlen(text);
	if (len + 1 > PL_DOSSIER_MAX_BYTES) {
		ret = PL_ETOOBIG;
		goto out;
	}
	ret = pl_buf_add(out, text, len);
	if (ret == 0) {
		ret = pl_buf_add(out, "\n", 1);
		if (ret != 0)
			out->len -= len;
	}
out:
	free(text);
	json_decref(win);
	json_decref(root);
	pl_buf_release(&kb);
	return ret;
}

int pl_dossier_frontier(const struct pl_tlog_reader *r, uint64_t start,
                        uint8_t (*out)[PL_HASH_BYTES], size_t *n)
{
	uint64_t idx[PL_DOSSIER_MAX_FRONTIER], at = 0;
	size_t k = 0;
	int ret = 0;

	if (!r || !out || !n) {
		ret = PL_EINVAL;
		goto out;
	}
	if (start > PL_TLOG_MAX_SIZE - 1) {
		ret = PL_ERANGE;
		goto out;
	}
	/* Left subtrees complete first, so their stored indexes increase as the reader wants. */
	for (int bit = PL_TLOG_MAX_LEVEL - 1; bit >= 0; bit--) {
		if (start & (UINT64_C(1) << bit)) {
			idx[k++] = pl_tlog_stored_index((unsigned)bit, at >> bit);
			at += UINT64_C(1) << bit;
		}
	}
	if (k > 0)
		ret = r->read(r->ctx, idx, k, out);
	if (ret == 0)
		*n = k;
out:
	return ret;
}

/* ---- What an exporter must fetch -------------------------------------------------------- */

/* A record read without verification: enough to know what the dossier needs around it. */
struct scanned {
	uint64_t index;
	bool thread;
	char signame[PL_KEY_NAME_MAX + 1];
	uint8_t sigid[PL_KEYID_BYTES];
	struct pl_record *rec;
};

static int scan(struct scanned *s, struct idpos *ip, size_t pos, const struct pl_dossier_entry *e,
                struct pl_record *tmp)
{
	struct pl_note *n = NULL;
	int ret;

	s->index = e->index;
	pl_record_id(ip->id, e->record, e->record_len);
	ip->pos = pos;
	ret = pl_note_parse(&n, e->record, e->record_len);
	if (ret == 0 && pl_record_parse(tmp, n->text, n->text_len, NULL) != 0)
		ret = PL_EMALFORMED;
	if (ret != 0) {
		ret = ret == PL_ENOMEM ? ret : PL_EMALFORMED;
		goto out;
	}
	snprintf(s->signame, sizeof(s->signame), "%s", n->sigs[0].name);
	memcpy(s->sigid, n->sigs[0].id, PL_KEYID_BYTES);
	s->rec = pl__dossier_record_trim(tmp);
	if (!s->rec)
		ret = PL_ENOMEM;
out:
	pl_note_free(n);
	return ret;
}

static bool same_key(const struct scanned *a, const struct scanned *b)
{
	return strcmp(a->signame, b->signame) == 0 &&
	       memcmp(a->sigid, b->sigid, PL_KEYID_BYTES) == 0;
}

/* True when one of the registers s[regs[0..nregs)], logged before index, brings x's key. */
static bool registered(const struct scanned *s, const size_t *regs, size_t nregs,
                       const struct scanned *x)
{
	for (size_t i = 0; i < nregs; i++) {
		const struct pl_record *r = s[regs[i]].rec;
		if (s[regs[i]].index >= x->index)
			continue;
		for (size_t k = 0; k < r->nkeys; k++) {
			if (strcmp(r->keys[k].name, x->signame) == 0 &&
			    memcmp(r->keys[k].id, x->sigid, PL_KEYID_BYTES) == 0)
				return true;
		}
	}
	return false;
}

static int want_add(struct pl_dossier_want **w, size_t *n, size_t *cap,
                    const struct pl_dossier_want *x)
{
	int ret = 0;

	for (size_t i = 0; i < *n; i++) {
		if ((*w)[i].kind == x->kind && memcmp((*w)[i].id, x->id, PL_RECORD_ID_BYTES) == 0 &&
		    strcmp((*w)[i].key_name, x->key_name) == 0 &&
		    memcmp((*w)[i].key_id, x->key_id, PL_KEYID_BYTES) == 0)
			goto out;
	}
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 8;
		struct pl_dossier_want *g = realloc(*w, c * sizeof(*g));
		if (!g) {
			ret = PL_ENOMEM;
			goto out;
		}
		*w = g;
		*cap = c;
	}
	(*w)[(*n)++] = *x;
out:
	return ret;
}

static int want_record(struct pl_dossier_want **w, size_t *n, size_t *cap, const uint8_t *id)
{
	struct pl_dossier_want x;

	memset(&x, 0, sizeof(x));
	x.kind = PL_DOSSIER_WANT_RECORD;
	memcpy(x.id, id, PL_RECORD_ID_BYTES);
	return want_add(w, n, cap, &x);
}

static int want_register(struct pl_dossier_want **w, size_t *n, size_t *cap,
                         const struct scanned *x)
{
	struct pl_dossier_want k;

	memset(&k, 0, sizeof(k));
	k.kind = PL_DOSSIER_WANT_REGISTER;
	snprintf(k.key_name, sizeof(k.key_name), "%s", x->signame);
	memcpy(k.key_id, x->sigid, PL_KEYID_BYTES);
	return want_add(w, n, cap, &k);
}

/*
 * Marks the thread among the window s[np..total) and lists the anchors and
 * the records before the window it refers to. keys[] collects the position
 * of the first window record of each signing key.
 */
static int wants_window(struct scanned *s, size_t np, size_t total, const struct idpos *ids,
                        size_t *keys, struct pl_dossier_want **w, size_t *nw, size_t *cap)
{
	size_t nkeys = 0;
	int ret = 0;

	s[np].thread = true;
	for (size_t i = np; ret == 0 && i < total; i++) {
		const struct pl_record *r = s[i].rec;
		bool first = true;
		for (size_t k = 0; k < r->nrefs && i > np && !s[i].thread; k++) {
			size_t at = pl__dossier_idpos_find(ids, total, r->refs[k].id);
			s[i].thread = at != NO_ENTRY && at >= np && at < i && s[at].thread;
		}
		for (size_t k = 0; k < nkeys && first; k++)
			first = !same_key(&s[keys[k]], &s[i]);
		if (first) {
			size_t at = NO_ENTRY;
			keys[nkeys++] = i;
			if (r->has & PL_RECORD_HAS_PREV)
				at = pl__dossier_idpos_find(ids, total, r->prev);
			if ((r->has & PL_RECORD_HAS_PREV) && (at == NO_ENTRY || at >= np))
				ret = want_record(w, nw, cap, r->prev);
		}
		for (size_t k = 0; ret == 0 && s[i].thread && k < r->nrefs; k++) {
			if (pl__dossier_idpos_find(ids, total, r->refs[k].id) == NO_ENTRY)
				ret = want_record(w, nw, cap, r->refs[k].id);
		}
	}
	return ret;
}

int pl_dossier_wants(struct pl_dossier_want **out, size_t *nout,
                     const struct pl_dossier_entry *window, size_t nwindow,
                     const struct pl_dossier_entry *proven, size_t nproven)
{
	struct scanned *s = NULL;
	struct idpos *ids = NULL;
	struct pl_record *tmp = NULL;
	struct pl_dossier_want *w = NULL;
	size_t *aux = NULL, n = 0, nw = 0, cap = 0, nregs = 0, total = nwindow + nproven;
	int ret = 0;

	if (!out || !nout || !window || nwindow == 0 || (nproven && !proven) ||
	    nwindow > PL_DOSSIER_MAX_WINDOW || nproven > PL_DOSSIER_MAX_PROVEN) {
		ret = PL_EINVAL;
		goto out;
	}
	s = calloc(total, sizeof(*s));
	ids = calloc(total, sizeof(*ids));
	aux = calloc(total, sizeof(*aux));
	tmp = calloc(1, sizeof(*tmp));
	if (!s || !ids || !aux || !tmp) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; ret == 0 && i < total; i++, n++)
		ret = scan(&s[i], &ids[i], i, i < nproven ? &proven[i] : &window[i - nproven], tmp);
	if (ret != 0)
		goto out;
	qsort(ids, total, sizeof(*ids), pl__dossier_cmp_by_id);
	ret = wants_window(s, nproven, total, ids, aux, &w, &nw, &cap);
	/* The register of every party key that signs one of them (aux now lists registers). */
	for (size_t i = 0; ret == 0 && i < total; i++) {
		if (s[i].rec->kind == PL_KIND_REGISTER)
			aux[nregs++] = i;
	}
	for (size_t i = 0; ret == 0 && i < total; i++) {
		if (strcmp(s[i].rec->author, PL_RECORD_EXCHANGE) != 0 &&
		    !registered(s, aux, nregs, &s[i]))
			ret = want_register(&w, &nw, &cap, &s[i]);
	}
out:
	if (ret == 0) {
		*out = nw ? w : NULL;
		*nout = nw;
		if (nw)
			w = NULL;
	}
	free(w);
	for (size_t i = 0; s && i < n; i++)
		free(s[i].rec);
	free(s);
	free(ids);
	free(aux);
	free(tmp);
	return ret;
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

/* Inserts h in x->held at position at, in index order. Returns 0 or an error. */
static int held_insert(struct pl_dossier_export *x, size_t at, struct held *h, struct pl_buf *why)
{
	int ret = 0;

	if (x->nheld == PL_DOSSIER_MAX_PROVEN) {
		ret = pl__dossier_fail(why, PL_ETOOBIG,
		                       "the dossier needs more than %d records before its window",
		                       PL_DOSSIER_MAX_PROVEN);
		goto out;
	}
	if (x->nheld == x->capheld) {
		size_t cap = x->capheld ? 2 * x->capheld : 32;
		struct held **v = realloc(x->held, cap * sizeof(*v));
		if (!v) {
			ret = pl__dossier_fail(why, PL_ENOMEM, "the proven records: out of memory");
			goto out;
		}
		x->held = v;
		x->capheld = cap;
	}
	memmove(&x->held[at + 1], &x->held[at], (x->nheld - at) * sizeof(x->held[0]));
	x->held[at] = h;
	x->nheld++;
out:
	return ret;
}

/*
 * Keeps a record before the window with its inclusion proof, computed from
 * the hash tiles and checked against the checkpoint's root at once, so that
 * a lie is named here rather than as a failed dossier. want, when not NULL,
 * is the id the source was asked for. Returns 0 or an error.
 */
static int hold(struct pl_dossier_export *x, uint64_t index, const char *text, size_t len,
                const uint8_t *want, struct pl_buf *why)
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
	for (at = 0; at < x->nheld && x->held[at]->index < index; at++)
		;
	if (at < x->nheld && x->held[at]->index == index) {
		/* Asked for twice (a register that is also referred to) is fine; another is not. */
		ret = memcmp(x->held[at]->id, h->id, PL_RECORD_ID_BYTES) == 0
		              ? 0
		              : pl__dossier_fail(
		                        why, PL_EPROOF,
		                        "%s: the exchange gave another record at the same place",
		                        what);
		goto out;
	}
	if (index >= x->start) {
		ret = pl__dossier_fail(why, PL_EPROOF,
		                       "%s: the exchange places it in the window, where it is not",
		                       what);
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
	ret = held_insert(x, at, h, why);
	if (ret == 0)
		h = NULL;
out:
	if (h)
		free(h->text);
	free(h);
	return ret;
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
	for (uint64_t n = 0; n * PL_TILE_WIDTH < x->start; n++) {
		unsigned width = 0;
		pl_buf_reset(&b);
		ret = fetch_bundle(x, n, &b, ents, &width, why);
		if (ret)
			goto out;
		for (unsigned i = 0; i < width; i++) {
			uint64_t index = n * PL_TILE_WIDTH + i;
			if (index >= x->start)
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
	                       w->key_name, x->start);
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

/* Points x->proven at the held records, in index order, for the library. */
static int proven_view(struct pl_dossier_export *x, struct pl_buf *why)
{
	struct pl_dossier_entry *v;
	int ret = 0;

	if (x->nheld) {
		v = realloc(x->proven, x->nheld * sizeof(*v));
		if (!v) {
			ret = pl__dossier_fail(why, PL_ENOMEM, "the proven records: out of memory");
			goto out;
		}
		x->proven = v;
	}
	for (size_t i = 0; i < x->nheld; i++) {
		x->proven[i].index = x->held[i]->index;
		x->proven[i].record = x->held[i]->text;
		x->proven[i].record_len = x->held[i]->len;
		x->proven[i].proof = (const uint8_t(*)[PL_HASH_BYTES])x->held[i]->proof;
		x->proven[i].nproof = x->held[i]->nproof;
	}
out:
	return ret;
}

/* Asks pl_dossier_wants() what is missing and fetches it, until nothing is (docs/dossier.md §2). */
static int fetch_proven(struct pl_dossier_export *x, struct pl_buf *why)
{
	struct pl_dossier_want *w = NULL;
	size_t nw = 0;
	int ret;

	for (int round = 0;; round++) {
		free(w);
		w = NULL;
		ret = proven_view(x, why);
		if (ret)
			goto out;
		ret = pl_dossier_wants(&w, &nw, x->window, x->nwindow, x->proven, x->nheld);
		if (ret) {
			ret = pl__dossier_fail(
			        why, ret, "the window from log #%" PRIu64 ": %s", x->start,
			        ret == PL_EMALFORMED ? "the exchange logged a record that does not "
			                               "parse"
			                             : pl_strerror(ret));
			goto out;
		}
		if (nw == 0)
			break;
		if (round == WANTS_ROUNDS) {
			ret = pl__dossier_fail(why, PL_EPROOF,
			                       "the window from log #%" PRIu64
			                       ": the records it needs before it keep growing",
			                       x->start);
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

int pl_dossier_export_collect(struct pl_dossier_export **out, const struct pl_dossier_source *src,
                              const struct pl_vkey *log_key,
                              const uint8_t subject[PL_RECORD_ID_BYTES], uint64_t start,
                              struct pl_buf *why)
{
	struct pl_dossier_export *x = NULL;
	struct pl_tiles_source ts;
	struct pl_tlog_reader rd;
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
	memcpy(x->subject, subject, PL_RECORD_ID_BYTES);
	short_id(x->sid, subject);
	pl_buf_init(&x->cpnote, PL_NOTE_MAX_BYTES);
	ret = fetch_checkpoint(x, why);
	if (ret)
		goto out;
	ts.read_tile = read_tile;
	ts.ctx = x;
	pl_tiles_view_init(&x->view, x->cp.size, &ts);
	ret = fetch_window(x, why);
	if (ret)
		goto out;
	rd = pl_tiles_view_reader(&x->view);
	ret = pl_dossier_frontier(&rd, start, x->frontier, &x->nfrontier);
	if (ret) {
		ret = tiles_failed(x, "the frontier of the window", ret, why);
		goto out;
	}
	ret = fetch_proven(x, why);
	if (ret == 0)
		ret = proven_view(x, why);
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
	for (size_t i = 0; i < x->nheld; i++) {
		if (memcmp(x->held[i]->id, id, PL_RECORD_ID_BYTES) == 0)
			return true;
	}
	return false;
}

void pl_dossier_export_info(const struct pl_dossier_export *x, struct pl_dossier_export_info *info)
{
	info->size = x->cp.size;
	info->start = x->start;
	info->nwindow = x->nwindow;
	info->nproven = x->nheld;
}

static int cmp_disclosure(const void *a, const void *b)
{
	const struct pl_dossier_disclosure *x = a, *y = b;

	return memcmp(x->id, y->id, PL_RECORD_ID_BYTES);
}

int pl_dossier_export_finish(const struct pl_dossier_export *x,
                             const struct pl_dossier_disclosure *d, size_t nd, struct pl_buf *out,
                             struct pl_dossier_report **rep, struct pl_buf *why)
{
	struct pl_dossier_disclosure sorted[PL_DOSSIER_MAX_DISCLOSURES];
	struct pl_dossier_report *r = NULL;
	struct pl_dossier_input in;
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
	in.nproven = x->nheld;
	in.disclosures = sorted;
	in.ndisclosures = nd;
	ret = pl_dossier_build(out, &in);
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
	for (size_t i = 0; i < x->nheld; i++) {
		free(x->held[i]->text);
		free(x->held[i]);
	}
	free(x->held);
	free(x->proven);
	for (size_t i = 0; i < x->ntiles; i++)
		free(x->tiles[i].hashes);
	free(x->tiles);
	pl_buf_release(&x->cpnote);
	free(x);
}
