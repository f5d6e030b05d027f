/* Dossier build: the JSON file out, in either version, and what an exporter must fetch. */
#include <parley/dossier.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/note.h>
#include <parley/tiles.h>

#include "dossier_int.h"
#include "internal.h"
#include "banned.h"

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

/* The shape of one entry: a proof when proven, an index proof text exactly on a thread entry. */
static bool entry_shape_ok(const struct pl_dossier_entry *e, bool proven, bool thread)
{
	if (!e->record || e->record_len == 0 || e->record_len > PL_RECORD_MAX_BYTES ||
	    e->index > (uint64_t)INT64_MAX)
		return false;
	if (thread != (e->tindex_len != 0) || (thread && !e->tindex) ||
	    e->tindex_len > PL_TINDEX_PROOF_MAX_BYTES)
		return false;
	if (!proven)
		return e->nproof == 0;
	return e->nproof <= PL_TLOG_MAX_LEVEL && (e->nproof == 0 || e->proof);
}

/* Disclosures sorted by record id, each once, each plaintext within its bound. */
static bool disclosures_shape_ok(const struct pl_dossier_disclosure *d, size_t n)
{
	if (n && !d)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((d[i].len && !d[i].plaintext) || d[i].len > PL_BOX_MAX_BODY ||
		    (i > 0 && memcmp(d[i - 1].id, d[i].id, PL_RECORD_ID_BYTES) >= 0))
			return false;
	}
	return true;
}

static bool input_shape_ok(const struct pl_dossier_input *in)
{
	if (!in->log_key || in->log_key->type != PL_SIGTYPE_ED25519 || !in->checkpoint ||
	    in->checkpoint_len == 0 || in->checkpoint_len > PL_NOTE_MAX_BYTES || !in->window ||
	    in->nwindow == 0 || in->nfrontier != popcount(in->start) ||
	    (in->nfrontier && !in->frontier) || (in->nproven && !in->proven) ||
	    !pl_record_origin_is_valid(in->log_key->name, strlen(in->log_key->name)))
		return false;
	for (size_t i = 0; i < in->nwindow; i++) {
		if (!entry_shape_ok(&in->window[i], false, false) ||
		    in->window[i].index != in->start + i)
			return false;
	}
	for (size_t i = 0; i < in->nproven; i++) {
		if (!entry_shape_ok(&in->proven[i], true, false) ||
		    in->proven[i].index >= in->start ||
		    (i > 0 && in->proven[i].index <= in->proven[i - 1].index))
			return false;
	}
	return disclosures_shape_ok(in->disclosures, in->ndisclosures);
}

static json_t *build_entry_proof(const struct pl_dossier_entry *e, bool proven)
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

static json_t *build_entry(const struct pl_dossier_entry *e, bool proven)
{
	json_t *o = build_entry_proof(e, proven);

	if (o && e->tindex_len && !put(o, "tindex", text_string(e->tindex, e->tindex_len))) {
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

/*
 * The fields both versions open with: version, origin, log key, checkpoint
 * and the subject, the id of subject[0..subject_len). False on failure.
 */
static bool build_head(json_t *root, const char *version, const struct pl_vkey *log_key,
                       const char *checkpoint, size_t checkpoint_len, const char *subject,
                       size_t subject_len)
{
	char key[PL_KEY_NAME_MAX + 64], hex[PL_RECORD_ID_HEX_LEN + 1];
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_buf kb;
	bool ok;

	pl_buf_init(&kb, sizeof(key) - 1);
	ok = pl_vkey_format(log_key, &kb) == 0;
	pl_record_id(id, subject, subject_len);
	pl_record_id_format(hex, id);
	ok = ok && put(root, "version", json_string(version));
	ok = ok && put(root, "origin", json_string(log_key->name));
	ok = ok && put(root, "log_key", json_stringn(kb.data, kb.len));
	ok = ok && put(root, "checkpoint", text_string(checkpoint, checkpoint_len));
	ok = ok && put(root, "subject", json_string(hex));
	pl_buf_release(&kb);
	return ok;
}

/* The fields both versions close with: the proven records and the disclosures. */
static bool build_tail(json_t *root, const struct pl_dossier_entry *proven, size_t nproven,
                       const struct pl_dossier_disclosure *d, size_t nd)
{
	json_t *arr = NULL;
	bool ok = put(root, "proven", arr = json_array());

	for (size_t i = 0; ok && i < nproven; i++)
		ok = push(arr, build_entry(&proven[i], true));
	ok = ok && put(root, "disclosures", arr = json_array());
	for (size_t i = 0; ok && i < nd; i++)
		ok = push(arr, build_disclosure(&d[i]));
	return ok;
}

/*
 * Appends root as the file's text (one-space indentation, the fields in the
 * order they were set, a final newline) to out. Takes root. Returns 0,
 * PL_EINVAL (ok false: jansson refused a string that is not UTF-8, a record
 * that cannot be logged), PL_ETOOBIG or PL_ENOMEM; out is unchanged on error.
 */
static int dump(json_t *root, bool ok, struct pl_buf *out)
{
	char *text = NULL;
	size_t len;
	int ret = PL_EINVAL;

	if (!root || !ok)
		goto out;
	ret = PL_ENOMEM;
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
	json_decref(root);
	return ret;
}

int pl_dossier_build(struct pl_buf *out, const struct pl_dossier_input *in)
{
	json_t *root, *win, *arr = NULL;
	bool ok;

	if (!out || !in || !input_shape_ok(in))
		return PL_EINVAL;
	root = json_object();
	win = json_object();
	ok = root && win &&
	     build_head(root, PL_DOSSIER_VERSION_V1, in->log_key, in->checkpoint,
	                in->checkpoint_len, in->window[0].record, in->window[0].record_len);
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
	ok = ok && build_tail(root, in->proven, in->nproven, in->disclosures, in->ndisclosures);
	json_decref(win);
	return dump(root, ok, out);
}

/* The shape pl_dossier_build_v2() checks (include/parley/dossier.h). */
static bool input_v2_shape_ok(const struct pl_dossier_input_v2 *in)
{
	uint64_t below = in->index.index;

	if (!in->log_key || in->log_key->type != PL_SIGTYPE_ED25519 || !in->checkpoint ||
	    in->checkpoint_len == 0 || in->checkpoint_len > PL_NOTE_MAX_BYTES || !in->thread ||
	    in->nthread == 0 || in->nthread > PL_DOSSIER_MAX_THREAD ||
	    in->nproven > PL_DOSSIER_MAX_PROVEN || (in->nproven && !in->proven) ||
	    !entry_shape_ok(&in->index, true, false) ||
	    !pl_record_origin_is_valid(in->log_key->name, strlen(in->log_key->name)))
		return false;
	for (size_t i = 0; i < in->nthread; i++) {
		if (!entry_shape_ok(&in->thread[i], true, true) || in->thread[i].index >= below ||
		    (i > 0 && in->thread[i].index <= in->thread[i - 1].index))
			return false;
	}
	for (size_t i = 0; i < in->nproven; i++) {
		if (!entry_shape_ok(&in->proven[i], true, false) || in->proven[i].index >= below ||
		    (i > 0 && in->proven[i].index <= in->proven[i - 1].index))
			return false;
	}
	return disclosures_shape_ok(in->disclosures, in->ndisclosures);
}

int pl_dossier_build_v2(struct pl_buf *out, const struct pl_dossier_input_v2 *in)
{
	json_t *root, *arr = NULL;
	bool ok;

	if (!out || !in || !input_v2_shape_ok(in))
		return PL_EINVAL;
	root = json_object();
	ok = root && build_head(root, PL_DOSSIER_VERSION_V2, in->log_key, in->checkpoint,
	                        in->checkpoint_len, in->thread[0].record, in->thread[0].record_len);
	ok = ok && put(root, "index", build_entry(&in->index, true));
	ok = ok && put(root, "thread", arr = json_array());
	for (size_t i = 0; ok && i < in->nthread; i++)
		ok = push(arr, build_entry(&in->thread[i], true));
	ok = ok && build_tail(root, in->proven, in->nproven, in->disclosures, in->ndisclosures);
	return dump(root, ok, out);
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
 * of the first window record of each signing key. With whole (version 2),
 * every record of s[np..total) is of the thread, and no anchor is wanted.
 */
static int wants_window(struct scanned *s, size_t np, size_t total, const struct idpos *ids,
                        size_t *keys, bool whole, struct pl_dossier_want **w, size_t *nw,
                        size_t *cap)
{
	size_t nkeys = 0;
	int ret = 0;

	s[np].thread = true;
	for (size_t i = np; ret == 0 && i < total; i++) {
		const struct pl_record *r = s[i].rec;
		bool first = !whole;
		s[i].thread = s[i].thread || whole;
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
	if (nwindow > PL_DOSSIER_MAX_WINDOW)
		return PL_EINVAL;
	return pl__dossier_wants(out, nout, window, nwindow, proven, nproven, false);
}

int pl__dossier_wants(struct pl_dossier_want **out, size_t *nout,
                      const struct pl_dossier_entry *window, size_t nwindow,
                      const struct pl_dossier_entry *proven, size_t nproven, bool whole)
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
	ret = wants_window(s, nproven, total, ids, aux, whole, &w, &nw, &cap);
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
