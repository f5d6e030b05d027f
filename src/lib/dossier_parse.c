/* Dossier parse: the JSON file in, strictly, as docs/dossier.md §3 defines it. */
#include <parley/dossier.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include <parley/box.h>
#include <parley/chain.h>
#include <parley/checkpoint.h>
#include <parley/cosignature.h>
#include <parley/directory.h>
#include <parley/note.h>
#include <parley/replay.h>
#include <parley/rules.h>
#include <parley/timestamp.h>

#include "dossier_int.h"
#include "internal.h"

/* ---- Failure reasons --------------------------------------------------------- */

int pl__dossier_fail(struct pl_buf *why, int code, const char *fmt, ...)
{
	/* Room for a reason that quotes another (the export quotes the verifier's). */
	char line[2 * (PL_DOSSIER_LINE_MAX + 1)];
	va_list ap;
	int ignored;

	if (why) {
		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		/* A reason that does not fit is lost, never the verdict. */
		ignored = pl_buf_adds(why, line);
		(void)ignored;
	}
	return code;
}

/* Writes "<first 8 hex digits>…" of id to out. */
void pl__dossier_id_short(char out[static ID_SHORT + sizeof(ELLIPSIS)], const uint8_t *id)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	pl_record_id_format(hex, id);
	memcpy(out, hex, ID_SHORT);
	memcpy(out + ID_SHORT, ELLIPSIS, sizeof(ELLIPSIS));
}

void pl__dossier_release(struct dossier *d)
{
	for (size_t i = 0; d->e && i < d->ne; i++) {
		free(d->e[i].proof);
		free(d->e[i].rec);
		pl_tindex_proof_free(d->e[i].tproof);
	}
	for (size_t i = 0; d->disc && i < d->ndisc; i++)
		free(d->disc[i].plaintext);
	free(d->e);
	free(d->disc);
	free(d->by_id);
	json_decref(d->root);
	memset(d, 0, sizeof(*d));
}

/* ---- Strict JSON shape ----------------------------------------------------------- */

/* Checks that obj is an object with exactly the fields names[0..n), all present. */
static int exact_fields(const json_t *obj, const char *const *names, size_t n, const char *where,
                        struct pl_buf *why)
{
	int ret = 0;

	if (!json_is_object(obj)) {
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: %s is not an object", where);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!json_object_get(obj, names[i])) {
			ret = pl__dossier_fail(why, PL_EMALFORMED,
			                       "dossier: %s lacks the field \"%s\"", where,
			                       names[i]);
			goto out;
		}
	}
	/* Keys are unique and all n were found, so any other count means an unknown field. */
	if (json_object_size(obj) != n)
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: %s has an unknown field",
		                       where);
out:
	return ret;
}

/* A string of 1..max bytes (jansson has checked it is UTF-8 without NUL). */
static int get_string(const json_t *v, size_t max, const char **s, size_t *len, const char *where,
                      struct pl_buf *why)
{
	size_t n = json_is_string(v) ? json_string_length(v) : 0;
	int ret = 0;

	if (!json_is_string(v))
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: %s is not a string", where);
	else if (n == 0)
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: %s is empty", where);
	else if (n > max)
		ret = pl__dossier_fail(why, PL_ETOOBIG, "dossier: %s is too long", where);
	if (ret == 0) {
		*s = json_string_value(v);
		*len = n;
	}
	return ret;
}

/* A log index: a JSON integer from 0 to 2^63 - 1 (jansson refuses larger, reals are refused). */
static int get_index(const json_t *v, uint64_t *out, const char *where, struct pl_buf *why)
{
	int ret = 0;

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: %s is not a log index", where);
	else
		*out = (uint64_t)json_integer_value(v);
	return ret;
}

/* Padded canonical base64 of exactly 32 bytes. */
static int get_hash(const json_t *v, uint8_t out[static PL_HASH_BYTES], const char *where,
                    struct pl_buf *why)
{
	const char *s = NULL;
	size_t n = 0;
	int ret = get_string(v, PL_HASH_B64_LEN, &s, &n, where, why);

	if (ret == 0 && pl_b64_decode_exact(out, PL_HASH_BYTES, s, n) != 0)
		ret = pl__dossier_fail(why, PL_EMALFORMED,
		                       "dossier: %s is not the base64 of a hash", where);
	return ret;
}

/* A JSON array of at most max elements. */
static int get_array(const json_t *v, size_t max, size_t *n, const char *where, struct pl_buf *why)
{
	int ret = 0;

	if (!json_is_array(v))
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: %s is not an array", where);
	else if (json_array_size(v) > max)
		ret = pl__dossier_fail(why, PL_ETOOBIG, "dossier: %s has too many elements", where);
	else
		*n = json_array_size(v);
	return ret;
}

/* The parts of a dossier that hold log entries, and the fields each entry has. */
enum part { WINDOW, PROVEN, THREAD, INDEX };

static const char *const part_name[] = {
        [WINDOW] = "window.entries", [PROVEN] = "proven", [THREAD] = "thread", [INDEX] = "index"};
static const char *const entry_fields[] = {"index", "record", "proof", "tindex"};
static const size_t part_nfields[] = {[WINDOW] = 2, [PROVEN] = 3, [THREAD] = 4, [INDEX] = 3};

/* A thread record's index proof: its text form, strictly (docs/index.md §4.3). */
static int parse_tindex(struct dentry *e, const json_t *v, const char *where, struct pl_buf *why)
{
	char field[80];
	const char *s = NULL;
	size_t n = 0;
	int ret;

	snprintf(field, sizeof(field), "%s.tindex", where);
	ret = get_string(v, PL_TINDEX_PROOF_MAX_BYTES, &s, &n, field, why);
	if (ret == 0)
		ret = pl_tindex_proof_parse(&e->tproof, s, n);
	else
		goto out;
	if (ret == PL_EMALFORMED || ret == PL_ETOOBIG || ret == PL_EINVAL)
		ret = pl__dossier_fail(why, ret == PL_ETOOBIG ? PL_ETOOBIG : PL_EMALFORMED,
		                       "dossier: %s is not a thread index proof", field);
out:
	return ret;
}

static int parse_entry(struct dentry *e, const json_t *v, enum part part, size_t i,
                       struct pl_buf *why)
{
	bool proven = part != WINDOW;
	char where[64];
	const json_t *proof;
	size_t n = 0;
	int ret;

	if (part == INDEX)
		snprintf(where, sizeof(where), "index");
	else
		snprintf(where, sizeof(where), "%s[%zu]", part_name[part], i);
	ret = exact_fields(v, entry_fields, part_nfields[part], where, why);
	if (ret == 0 && part == THREAD)
		ret = parse_tindex(e, json_object_get(v, "tindex"), where, why);
	if (ret == 0)
		ret = get_index(json_object_get(v, "index"), &e->index, where, why);
	if (ret == 0)
		ret = get_string(json_object_get(v, "record"), PL_RECORD_MAX_BYTES, &e->msg,
		                 &e->len, where, why);
	if (ret != 0 || !proven)
		goto out;
	proof = json_object_get(v, "proof");
	ret = get_array(proof, PL_TLOG_MAX_LEVEL, &n, where, why);
	if (ret != 0 || n == 0)
		goto out;
	e->proof = calloc(n, sizeof(*e->proof));
	if (!e->proof) {
		ret = PL_ENOMEM;
		goto out;
	}
	e->nproof = n;
	for (size_t k = 0; k < n && ret == 0; k++)
		ret = get_hash(json_array_get(proof, k), e->proof[k], where, why);
out:
	return ret;
}

static int parse_disclosure(struct ddisc *c, const json_t *v, size_t i, struct pl_buf *why)
{
	static const char *const fields[] = {"record", "plaintext", "salt"};
	char where[64];
	const char *s = NULL;
	size_t n = 0, outlen;
	int ret;

	snprintf(where, sizeof(where), "disclosures[%zu]", i);
	ret = exact_fields(v, fields, 3, where, why);
	if (ret == 0)
		ret = get_string(json_object_get(v, "record"), PL_RECORD_ID_HEX_LEN, &s, &n, where,
		                 why);
	if (ret == 0 && pl_record_id_parse(c->id, s, n) != 0)
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: %s: record is not a record id",
		                       where);
	if (ret == 0)
		ret = get_string(json_object_get(v, "salt"), PL_B64_LEN(PL_BOX_SALT_BYTES), &s, &n,
		                 where, why);
	if (ret == 0 && pl_b64_decode_exact(c->salt, PL_BOX_SALT_BYTES, s, n) != 0)
		ret = pl__dossier_fail(why, PL_EMALFORMED,
		                       "dossier: %s: salt is not 32 bytes of base64", where);
	if (ret != 0)
		goto out;
	/* A plaintext may be empty (a body of no bytes): its base64 is then "". */
	v = json_object_get(v, "plaintext");
	if (!json_is_string(v)) {
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: %s: plaintext is not a string",
		                       where);
		goto out;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n > PL_B64_LEN(PL_BOX_MAX_BODY)) {
		ret = pl__dossier_fail(why, PL_ETOOBIG, "dossier: %s: plaintext is too long",
		                       where);
		goto out;
	}
	c->plaintext = malloc(n / 4 * 3 + 1);
	if (!c->plaintext) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (pl_b64_decode(c->plaintext, n / 4 * 3, &outlen, s, n) != 0) {
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: %s: plaintext is not base64",
		                       where);
		goto out;
	}
	if (outlen > PL_BOX_MAX_BODY) {
		ret = pl__dossier_fail(why, PL_ETOOBIG, "dossier: %s: plaintext is too long",
		                       where);
		goto out;
	}
	c->plaintext[outlen] = 0;
	c->len = outlen;
out:
	return ret;
}

static int parse_window(struct dossier *d, const json_t *w, size_t *nwin, struct pl_buf *why)
{
	static const char *const fields[] = {"start", "frontier", "entries"};
	const json_t *fr;
	int ret;

	ret = exact_fields(w, fields, 3, "window", why);
	if (ret == 0)
		ret = get_index(json_object_get(w, "start"), &d->start, "window.start", why);
	fr = json_object_get(w, "frontier");
	if (ret == 0)
		ret = get_array(fr, PL_DOSSIER_MAX_FRONTIER, &d->nfrontier, "window.frontier", why);
	for (size_t i = 0; ret == 0 && i < d->nfrontier; i++)
		ret = get_hash(json_array_get(fr, i), d->frontier[i], "window.frontier", why);
	if (ret == 0)
		ret = get_array(json_object_get(w, "entries"), PL_DOSSIER_MAX_WINDOW, nwin,
		                "window.entries", why);
	if (ret == 0 && *nwin == 0)
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: the window is empty");
	return ret;
}

/* Orders (id, position) pairs by id, for binary search. */
int pl__dossier_cmp_by_id(const void *a, const void *b)
{
	const struct idpos *x = a, *y = b;
	int c = memcmp(x->id, y->id, PL_RECORD_ID_BYTES);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* The pos of the pair with this id among ids[0..n) (sorted), or NO_ENTRY. */
size_t pl__dossier_idpos_find(const struct idpos *ids, size_t n,
                              const uint8_t id[static PL_RECORD_ID_BYTES])
{
	size_t lo = 0, hi = n, found = NO_ENTRY;

	while (lo < hi && found == NO_ENTRY) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(ids[mid].id, id, PL_RECORD_ID_BYTES);
		if (c == 0)
			found = ids[mid].pos;
		else if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return found;
}

/* The position in e of the entry with this id, or NO_ENTRY. */
size_t pl__dossier_find_id(const struct dossier *d, const uint8_t id[static PL_RECORD_ID_BYTES])
{
	return pl__dossier_idpos_find(d->by_id, d->ne, id);
}

/* The fields both versions share, after "version": origin, log key, checkpoint, subject. */
static int parse_head(struct dossier *d, struct pl_buf *why)
{
	const char *s = NULL;
	size_t n = 0;
	int ret;

	ret = get_string(json_object_get(d->root, "origin"), PL_RECORD_ORIGIN_MAX, &d->origin, &n,
	                 "origin", why);
	if (ret == 0 && !pl_record_origin_is_valid(d->origin, n))
		ret = pl__dossier_fail(why, PL_EMALFORMED,
		                       "dossier: origin is not a valid exchange origin");
	if (ret == 0)
		ret = get_string(json_object_get(d->root, "log_key"), PL_KEY_NAME_MAX + 64, &s, &n,
		                 "log_key", why);
	if (ret == 0 &&
	    (pl_vkey_parse(&d->log_key, s, n) != 0 || d->log_key.type != PL_SIGTYPE_ED25519))
		ret = pl__dossier_fail(why, PL_EMALFORMED,
		                       "dossier: log_key is not an Ed25519 verifier key");
	if (ret == 0)
		ret = get_string(json_object_get(d->root, "checkpoint"), PL_NOTE_MAX_BYTES,
		                 &d->checkpoint, &d->checkpoint_len, "checkpoint", why);
	if (ret == 0)
		ret = get_string(json_object_get(d->root, "subject"), PL_RECORD_ID_HEX_LEN, &s, &n,
		                 "subject", why);
	if (ret == 0 && pl_record_id_parse(d->subject, s, n) != 0)
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: subject is not a record id");
	return ret;
}

/* Allocates d's entries (n of them, and the id table) and room for ndisc disclosures. */
static int alloc_entries(struct dossier *d, size_t n, size_t ndisc)
{
	d->e = calloc(n ? n : 1, sizeof(*d->e));
	d->disc = calloc(ndisc ? ndisc : 1, sizeof(*d->disc));
	d->by_id = calloc(n ? n : 1, sizeof(*d->by_id));
	return d->e && d->disc && d->by_id ? 0 : PL_ENOMEM;
}

static int parse_disclosures(struct dossier *d, const json_t *disc, size_t ndisc,
                             struct pl_buf *why)
{
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < ndisc; i++, d->ndisc++)
		ret = parse_disclosure(&d->disc[i], json_array_get(disc, i), i, why);
	for (size_t i = 1; ret == 0 && i < d->ndisc; i++) {
		if (memcmp(d->disc[i - 1].id, d->disc[i].id, PL_RECORD_ID_BYTES) >= 0)
			ret = pl__dossier_fail(
			        why, PL_EMALFORMED,
			        "dossier: disclosures must be sorted by record id, each once");
	}
	return ret;
}

/* Version 1: the window, the proven records before it, the disclosures. */
static int parse_v1(struct dossier *d, struct pl_buf *why)
{
	static const char *const fields[] = {"version", "origin", "log_key", "checkpoint",
	                                     "subject", "window", "proven",  "disclosures"};
	const json_t *win, *proven, *disc;
	size_t nwin = 0, nprov = 0, ndisc = 0;
	int ret;

	ret = exact_fields(d->root, fields, PL__ARRAY_LEN(fields), "the dossier", why);
	if (ret == 0)
		ret = parse_head(d, why);
	win = json_object_get(d->root, "window");
	proven = json_object_get(d->root, "proven");
	disc = json_object_get(d->root, "disclosures");
	if (ret == 0)
		ret = parse_window(d, win, &nwin, why);
	if (ret == 0)
		ret = get_array(proven, PL_DOSSIER_MAX_PROVEN, &nprov, "proven", why);
	if (ret == 0)
		ret = get_array(disc, PL_DOSSIER_MAX_DISCLOSURES, &ndisc, "disclosures", why);
	if (ret == 0)
		ret = alloc_entries(d, nprov + nwin, ndisc);
	if (ret != 0)
		goto out;
	d->nproven = nprov;
	d->subject_pos = nprov;
	for (size_t i = 0; ret == 0 && i < nprov; i++, d->ne++)
		ret = parse_entry(&d->e[i], json_array_get(proven, i), PROVEN, i, why);
	for (size_t i = 0; ret == 0 && i < nwin; i++, d->ne++)
		ret = parse_entry(&d->e[nprov + i],
		                  json_array_get(json_object_get(win, "entries"), i), WINDOW, i,
		                  why);
	if (ret == 0)
		ret = parse_disclosures(d, disc, ndisc, why);
	if (ret != 0)
		goto out;
	/*
	 * Indexes: the proven ones increasing and below the window, the window
	 * contiguous. The file is well-formed by now; indexes that do not follow
	 * are evidence that does not hold (an entry missing, repeated or moved),
	 * not a malformed file.
	 */
	for (size_t i = 0; i < d->ne; i++) {
		const struct dentry *e = &d->e[i];
		if (i < nprov &&
		    ((i > 0 && e->index <= d->e[i - 1].index) || e->index >= d->start)) {
			ret = pl__dossier_fail(
			        why, PL_EPROOF,
			        "proven[%zu]: index %llu: proven records must be in increasing "
			        "log order, before the window",
			        i, (unsigned long long)e->index);
			goto out;
		}
		if (i >= nprov && e->index != d->start + (i - nprov)) {
			ret = pl__dossier_fail(
			        why, PL_EPROOF,
			        "window: entries[%zu] has index %llu, not %llu: the window must "
			        "hold every entry in order; one is missing, repeated or moved",
			        i - nprov, (unsigned long long)e->index,
			        (unsigned long long)(d->start + (i - nprov)));
			goto out;
		}
	}
out:
	return ret;
}

/*
 * Parses the entries of one part (thread or proven) into tmp[0..n), and
 * checks that their indexes increase and lie below the index record's.
 */
static int parse_part(struct dentry *tmp, const json_t *arr, size_t n, enum part part,
                      uint64_t below, struct pl_buf *why)
{
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = parse_entry(&tmp[i], json_array_get(arr, i), part, i, why);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		if ((i > 0 && tmp[i].index <= tmp[i - 1].index) || tmp[i].index >= below)
			ret = pl__dossier_fail(
			        why, PL_EPROOF,
			        "%s[%zu]: index %llu: the %s records must be in increasing log "
			        "order, before the index record (log #%llu)",
			        part_name[part], i, (unsigned long long)tmp[i].index,
			        part_name[part], (unsigned long long)below);
	}
	return ret;
}

/*
 * Merges the thread t[0..nt) and the proven records p[0..np) into d->e in
 * log order, then the index record. The entries move (their allocations
 * with them). An index held by both parts is evidence that does not hold.
 */
static int merge_v2(struct dossier *d, struct dentry *t, size_t nt, struct dentry *p, size_t np,
                    const struct dentry *ix, struct pl_buf *why)
{
	size_t a = 0, b = 0;
	int ret = 0;

	while (a < nt || b < np) {
		bool take_t = b == np || (a < nt && t[a].index < p[b].index);
		if (a < nt && b < np && t[a].index == p[b].index) {
			ret = pl__dossier_fail(why, PL_EPROOF,
			                       "thread[%zu] and proven[%zu] are both log #%llu", a,
			                       b, (unsigned long long)t[a].index);
			break;
		}
		d->e[d->ne] = take_t ? t[a] : p[b];
		d->e[d->ne].thread = take_t;
		if (take_t && a == 0)
			d->subject_pos = d->ne;
		memset(take_t ? &t[a++] : &p[b++], 0, sizeof(*t));
		d->ne++;
	}
	if (ret == 0)
		d->e[d->ne++] = *ix;
	return ret;
}

/* Version 2: the index record, the thread with its index proofs, the proven records. */
static int parse_v2(struct dossier *d, struct pl_buf *why)
{
	static const char *const fields[] = {"version", "subject",    "origin",
	                                     "log_key", "checkpoint", "index",
	                                     "thread",  "proven",     "disclosures"};
	const json_t *thread, *proven, *disc;
	struct dentry ix, *t = NULL, *p = NULL;
	size_t nt = 0, np = 0, ndisc = 0;
	int ret;

	memset(&ix, 0, sizeof(ix));
	ret = exact_fields(d->root, fields, PL__ARRAY_LEN(fields), "the dossier", why);
	if (ret == 0)
		ret = parse_head(d, why);
	thread = json_object_get(d->root, "thread");
	proven = json_object_get(d->root, "proven");
	disc = json_object_get(d->root, "disclosures");
	if (ret == 0)
		ret = parse_entry(&ix, json_object_get(d->root, "index"), INDEX, 0, why);
	if (ret == 0)
		ret = get_array(thread, PL_DOSSIER_MAX_THREAD, &nt, "thread", why);
	if (ret == 0 && nt == 0)
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: the thread is empty");
	if (ret == 0)
		ret = get_array(proven, PL_DOSSIER_MAX_PROVEN, &np, "proven", why);
	if (ret == 0)
		ret = get_array(disc, PL_DOSSIER_MAX_DISCLOSURES, &ndisc, "disclosures", why);
	if (ret == 0)
		ret = alloc_entries(d, nt + np + 1, ndisc);
	if (ret != 0)
		goto out;
	t = calloc(nt, sizeof(*t));
	p = calloc(np ? np : 1, sizeof(*p));
	if (!t || !p) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = parse_part(t, thread, nt, THREAD, ix.index, why);
	if (ret == 0)
		ret = parse_part(p, proven, np, PROVEN, ix.index, why);
	if (ret == 0)
		ret = parse_disclosures(d, disc, ndisc, why);
	if (ret == 0)
		ret = merge_v2(d, t, nt, p, np, &ix, why);
	if (ret == 0) {
		memset(&ix, 0, sizeof(ix));
		d->nthread = nt;
		d->nproven = np;
		d->start = d->e[d->subject_pos].index;
	}
out:
	for (size_t i = 0; t && i < nt; i++) {
		free(t[i].proof);
		pl_tindex_proof_free(t[i].tproof);
	}
	for (size_t i = 0; p && i < np; i++)
		free(p[i].proof);
	free(ix.proof);
	free(t);
	free(p);
	return ret;
}

/*
 * Parses the JSON into d: the exact fields of docs/dossier.md §3, every
 * string bounded, every encoding exact, the indexes in order. Cryptography
 * comes later.
 */
int pl__dossier_parse(struct dossier *d, const char *json, size_t len, struct pl_buf *why)
{
	const json_t *v;
	json_error_t je;
	int ret;

	if (len > PL_DOSSIER_MAX_BYTES) {
		ret = pl__dossier_fail(why, PL_ETOOBIG, "dossier: larger than %u bytes",
		                       PL_DOSSIER_MAX_BYTES);
		goto out;
	}
	d->root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!d->root) {
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: not JSON: line %d: %s",
		                       je.line, je.text);
		goto out;
	}
	/* The version first: a later format is refused before any other field is read. */
	v = json_is_object(d->root) ? json_object_get(d->root, "version") : NULL;
	if (json_is_string(v) && json_string_length(v) == strlen(PL_DOSSIER_VERSION_V1) &&
	    strcmp(json_string_value(v), PL_DOSSIER_VERSION_V1) == 0) {
		d->version = 1;
		ret = parse_v1(d, why);
	} else if (json_is_string(v) && json_string_length(v) == strlen(PL_DOSSIER_VERSION_V2) &&
	           strcmp(json_string_value(v), PL_DOSSIER_VERSION_V2) == 0) {
		d->version = 2;
		ret = parse_v2(d, why);
	} else {
		ret = pl__dossier_fail(why, PL_EMALFORMED, "dossier: version is not %s or %s",
		                       PL_DOSSIER_VERSION_V1, PL_DOSSIER_VERSION_V2);
	}
out:
	return ret;
}
