/* Dossiers: build, parse strictly and verify offline the evidence of one thread. */
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

#include "internal.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, after a shortened id */
#define ID_SHORT 8              /* hex digits of an id shown to people */
#define NO_ENTRY SIZE_MAX

/* ---- Failure reasons --------------------------------------------------------- */

/* Appends one reason line to why (when given) and returns code. */
static int fail(struct pl_buf *why, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(struct pl_buf *why, int code, const char *fmt, ...)
{
	char line[PL_DOSSIER_LINE_MAX + 1];
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
static void id_short(char out[static ID_SHORT + sizeof(ELLIPSIS)], const uint8_t *id)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	pl_record_id_format(hex, id);
	memcpy(out, hex, ID_SHORT);
	memcpy(out + ID_SHORT, ELLIPSIS, sizeof(ELLIPSIS));
}

static unsigned popcount(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

/* ---- The parsed file ----------------------------------------------------------- */

/* One log entry of the dossier: a record before the window (with its proof) or in it. */
struct dentry {
	uint64_t index;
	const char *msg; /* inside the JSON tree, which outlives every use */
	size_t len;
	uint8_t (*proof)[PL_HASH_BYTES];
	size_t nproof;
	uint8_t id[PL_RECORD_ID_BYTES];
	/* Set while verifying. */
	struct pl_record *rec; /* trimmed copy: the body stops at body_len */
	size_t signer;         /* index into the directory */
	bool thread;
};

struct ddisc {
	uint8_t id[PL_RECORD_ID_BYTES];
	uint8_t *plaintext; /* len bytes and a NUL */
	size_t len;
	uint8_t salt[PL_BOX_SALT_BYTES];
};

struct idpos {
	uint8_t id[PL_RECORD_ID_BYTES];
	size_t pos;
};

struct dossier {
	json_t *root;
	const char *origin;
	struct pl_vkey log_key;
	const char *checkpoint;
	size_t checkpoint_len;
	uint8_t subject[PL_RECORD_ID_BYTES];
	uint64_t start;
	uint8_t frontier[PL_DOSSIER_MAX_FRONTIER][PL_HASH_BYTES];
	size_t nfrontier;
	/* e[0..nproven) before the window, e[nproven..ne) the window: log order throughout. */
	struct dentry *e;
	size_t ne, nproven;
	struct ddisc *disc;
	size_t ndisc;
	/* Every entry's (id, position in e), sorted by id, for lookups by id. */
	struct idpos *by_id;
};

static void dossier_release(struct dossier *d)
{
	for (size_t i = 0; d->e && i < d->ne; i++) {
		free(d->e[i].proof);
		free(d->e[i].rec);
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
		ret = fail(why, PL_EMALFORMED, "dossier: %s is not an object", where);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!json_object_get(obj, names[i])) {
			ret = fail(why, PL_EMALFORMED, "dossier: %s lacks the field \"%s\"", where,
			           names[i]);
			goto out;
		}
	}
	/* Keys are unique and all n were found, so any other count means an unknown field. */
	if (json_object_size(obj) != n)
		ret = fail(why, PL_EMALFORMED, "dossier: %s has an unknown field", where);
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
		ret = fail(why, PL_EMALFORMED, "dossier: %s is not a string", where);
	else if (n == 0)
		ret = fail(why, PL_EMALFORMED, "dossier: %s is empty", where);
	else if (n > max)
		ret = fail(why, PL_ETOOBIG, "dossier: %s is too long", where);
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
		ret = fail(why, PL_EMALFORMED, "dossier: %s is not a log index", where);
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
		ret = fail(why, PL_EMALFORMED, "dossier: %s is not the base64 of a hash", where);
	return ret;
}

/* A JSON array of at most max elements. */
static int get_array(const json_t *v, size_t max, size_t *n, const char *where, struct pl_buf *why)
{
	int ret = 0;

	if (!json_is_array(v))
		ret = fail(why, PL_EMALFORMED, "dossier: %s is not an array", where);
	else if (json_array_size(v) > max)
		ret = fail(why, PL_ETOOBIG, "dossier: %s has too many elements", where);
	else
		*n = json_array_size(v);
	return ret;
}

static int parse_entry(struct dentry *e, const json_t *v, bool proven, size_t i, struct pl_buf *why)
{
	static const char *const wfields[] = {"index", "record"};
	static const char *const pfields[] = {"index", "record", "proof"};
	char where[64];
	const json_t *proof;
	size_t n = 0;
	int ret;

	snprintf(where, sizeof(where), "%s[%zu]", proven ? "proven" : "window.entries", i);
	ret = exact_fields(v, proven ? pfields : wfields, proven ? 3 : 2, where, why);
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
		ret = fail(why, PL_EMALFORMED, "dossier: %s: record is not a record id", where);
	if (ret == 0)
		ret = get_string(json_object_get(v, "salt"), PL_B64_LEN(PL_BOX_SALT_BYTES), &s, &n,
		                 where, why);
	if (ret == 0 && pl_b64_decode_exact(c->salt, PL_BOX_SALT_BYTES, s, n) != 0)
		ret = fail(why, PL_EMALFORMED, "dossier: %s: salt is not 32 bytes of base64",
		           where);
	if (ret != 0)
		goto out;
	/* A plaintext may be empty (a body of no bytes): its base64 is then "". */
	v = json_object_get(v, "plaintext");
	if (!json_is_string(v)) {
		ret = fail(why, PL_EMALFORMED, "dossier: %s: plaintext is not a string", where);
		goto out;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n > PL_B64_LEN(PL_BOX_MAX_BODY)) {
		ret = fail(why, PL_ETOOBIG, "dossier: %s: plaintext is too long", where);
		goto out;
	}
	c->plaintext = malloc(n / 4 * 3 + 1);
	if (!c->plaintext) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (pl_b64_decode(c->plaintext, n / 4 * 3, &outlen, s, n) != 0) {
		ret = fail(why, PL_EMALFORMED, "dossier: %s: plaintext is not base64", where);
		goto out;
	}
	if (outlen > PL_BOX_MAX_BODY) {
		ret = fail(why, PL_ETOOBIG, "dossier: %s: plaintext is too long", where);
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
		ret = fail(why, PL_EMALFORMED, "dossier: the window is empty");
	return ret;
}

/* Orders (id, position) pairs by id, for binary search. */
static int cmp_by_id(const void *a, const void *b)
{
	const struct idpos *x = a, *y = b;
	int c = memcmp(x->id, y->id, PL_RECORD_ID_BYTES);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* The pos of the pair with this id among ids[0..n) (sorted), or NO_ENTRY. */
static size_t idpos_find(const struct idpos *ids, size_t n,
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
static size_t find_id(const struct dossier *d, const uint8_t id[static PL_RECORD_ID_BYTES])
{
	return idpos_find(d->by_id, d->ne, id);
}

/*
 * Parses the JSON into d: the exact fields of docs/dossier.md §3, every
 * string bounded, every encoding exact, the indexes in order. Cryptography
 * comes later.
 */
static int dossier_parse(struct dossier *d, const char *json, size_t len, struct pl_buf *why)
{
	static const char *const fields[] = {"version", "origin", "log_key", "checkpoint",
	                                     "subject", "window", "proven",  "disclosures"};
	const json_t *v, *win, *proven, *disc;
	json_error_t je;
	const char *s = NULL;
	size_t n = 0, nwin = 0, nprov = 0, ndisc = 0;
	int ret;

	if (len > PL_DOSSIER_MAX_BYTES) {
		ret = fail(why, PL_ETOOBIG, "dossier: larger than %u bytes", PL_DOSSIER_MAX_BYTES);
		goto out;
	}
	d->root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!d->root) {
		ret = fail(why, PL_EMALFORMED, "dossier: not JSON: line %d: %s", je.line, je.text);
		goto out;
	}
	/* The version first: a later format is refused before any other field is read. */
	v = json_is_object(d->root) ? json_object_get(d->root, "version") : NULL;
	if (!json_is_string(v) || strcmp(json_string_value(v), PL_DOSSIER_VERSION) != 0 ||
	    json_string_length(v) != strlen(PL_DOSSIER_VERSION)) {
		ret = fail(why, PL_EMALFORMED, "dossier: version is not %s", PL_DOSSIER_VERSION);
		goto out;
	}
	ret = exact_fields(d->root, fields, PL__ARRAY_LEN(fields), "the dossier", why);
	if (ret == 0)
		ret = get_string(json_object_get(d->root, "origin"), PL_RECORD_ORIGIN_MAX,
		                 &d->origin, &n, "origin", why);
	if (ret == 0 && !pl_record_origin_is_valid(d->origin, n))
		ret = fail(why, PL_EMALFORMED, "dossier: origin is not a valid exchange origin");
	if (ret == 0)
		ret = get_string(json_object_get(d->root, "log_key"), PL_KEY_NAME_MAX + 64, &s, &n,
		                 "log_key", why);
	if (ret == 0 &&
	    (pl_vkey_parse(&d->log_key, s, n) != 0 || d->log_key.type != PL_SIGTYPE_ED25519))
		ret = fail(why, PL_EMALFORMED, "dossier: log_key is not an Ed25519 verifier key");
	if (ret == 0)
		ret = get_string(json_object_get(d->root, "checkpoint"), PL_NOTE_MAX_BYTES,
		                 &d->checkpoint, &d->checkpoint_len, "checkpoint", why);
	if (ret == 0)
		ret = get_string(json_object_get(d->root, "subject"), PL_RECORD_ID_HEX_LEN, &s, &n,
		                 "subject", why);
	if (ret == 0 && pl_record_id_parse(d->subject, s, n) != 0)
		ret = fail(why, PL_EMALFORMED, "dossier: subject is not a record id");
	win = json_object_get(d->root, "window");
	proven = json_object_get(d->root, "proven");
	disc = json_object_get(d->root, "disclosures");
	if (ret == 0)
		ret = parse_window(d, win, &nwin, why);
	if (ret == 0)
		ret = get_array(proven, PL_DOSSIER_MAX_PROVEN, &nprov, "proven", why);
	if (ret == 0)
		ret = get_array(disc, PL_DOSSIER_MAX_DISCLOSURES, &ndisc, "disclosures", why);
	if (ret != 0)
		goto out;
	d->e = calloc(nprov + nwin, sizeof(*d->e));
	d->disc = calloc(ndisc ? ndisc : 1, sizeof(*d->disc));
	d->by_id = calloc(nprov + nwin, sizeof(*d->by_id));
	if (!d->e || !d->disc || !d->by_id) {
		ret = PL_ENOMEM;
		goto out;
	}
	d->nproven = nprov;
	for (size_t i = 0; ret == 0 && i < nprov; i++, d->ne++)
		ret = parse_entry(&d->e[i], json_array_get(proven, i), true, i, why);
	for (size_t i = 0; ret == 0 && i < nwin; i++, d->ne++)
		ret = parse_entry(&d->e[nprov + i],
		                  json_array_get(json_object_get(win, "entries"), i), false, i,
		                  why);
	for (size_t i = 0; ret == 0 && i < ndisc; i++, d->ndisc++)
		ret = parse_disclosure(&d->disc[i], json_array_get(disc, i), i, why);
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
			ret = fail(why, PL_EPROOF,
			           "proven[%zu]: index %llu: proven records must be in increasing "
			           "log order, before the window",
			           i, (unsigned long long)e->index);
			goto out;
		}
		if (i >= nprov && e->index != d->start + (i - nprov)) {
			ret = fail(why, PL_EPROOF,
			           "window: entries[%zu] has index %llu, not %llu: the window must "
			           "hold every entry in order; one is missing, repeated or moved",
			           i - nprov, (unsigned long long)e->index,
			           (unsigned long long)(d->start + (i - nprov)));
			goto out;
		}
	}
	for (size_t i = 1; i < d->ndisc; i++) {
		if (memcmp(d->disc[i - 1].id, d->disc[i].id, PL_RECORD_ID_BYTES) >= 0) {
			ret = fail(why, PL_EMALFORMED,
			           "dossier: disclosures must be sorted by record id, each once");
			goto out;
		}
	}
out:
	return ret;
}

/* ---- Tree evidence --------------------------------------------------------------- */

/*
 * Recomputes the RFC 6962 root of the tree [0, start + nwindow) from the
 * frontier of start and the window's leaves: the frontier is a stack of
 * complete subtrees of decreasing height; each leaf is pushed and equal
 * heights merge; the remaining stack folds right to left into the root.
 */
static int window_root(const struct dossier *d, uint8_t root[static PL_HASH_BYTES],
                       struct pl_buf *why)
{
	uint8_t hash[PL_TLOG_MAX_LEVEL + 2][PL_HASH_BYTES];
	unsigned height[PL_TLOG_MAX_LEVEL + 2];
	size_t top = 0, k = 0;
	int ret = 0;

	if (d->nfrontier != popcount(d->start)) {
		ret = fail(why, PL_EPROOF,
		           "window: %zu frontier hashes given, but log #%llu needs %u to be placed",
		           d->nfrontier, (unsigned long long)d->start, popcount(d->start));
		goto out;
	}
	for (int bit = PL_TLOG_MAX_LEVEL; bit >= 0; bit--) {
		if (d->start & (UINT64_C(1) << bit)) {
			memcpy(hash[top], d->frontier[k++], PL_HASH_BYTES);
			height[top++] = (unsigned)bit;
		}
	}
	for (size_t i = d->nproven; i < d->ne; i++) {
		pl_tlog_leaf_hash(hash[top], d->e[i].msg, d->e[i].len);
		height[top++] = 0;
		while (top >= 2 && height[top - 1] == height[top - 2]) {
			pl_tlog_node_hash(hash[top - 2], hash[top - 2], hash[top - 1]);
			height[top - 2]++;
			top--;
		}
	}
	for (; top >= 2; top--)
		pl_tlog_node_hash(hash[top - 2], hash[top - 2], hash[top - 1]);
	memcpy(root, hash[0], PL_HASH_BYTES);
out:
	return ret;
}

/* The checkpoint: signed by the log key, of the dossier's origin; then the witness policy. */
static int check_checkpoint(const struct dossier *d, struct pl_checkpoint *cp,
                            const struct pl_vkey *witnesses, size_t nwitnesses, size_t quorum,
                            struct pl_dossier_report *rep, struct pl_buf *why)
{
	struct pl_note *note = NULL;
	bool *ok = NULL;
	size_t count = 0;
	int ret;

	ret = pl_checkpoint_open(cp, &note, d->checkpoint, d->checkpoint_len, d->origin,
	                         &d->log_key, 1);
	if (ret != 0) {
		ret = fail(why, ret == PL_EMALFORMED || ret == PL_ETOOBIG ? PL_EVERIFY : ret,
		           "checkpoint: not a checkpoint of %s signed by %s: %s", d->origin,
		           d->log_key.name, pl_strerror(ret));
		goto out;
	}
	if (nwitnesses == 0)
		goto out;
	ok = calloc(nwitnesses, sizeof(*ok));
	rep->cosigners = calloc(nwitnesses, sizeof(*rep->cosigners));
	if (!ok || !rep->cosigners) {
		ret = PL_ENOMEM;
		goto out;
	}
	/* A cosignature line naming a given witness must verify, whatever the quorum. */
	ret = pl_note_verify(note, witnesses, nwitnesses, ok);
	if (ret == PL_ENOKEY) {
		ret = 0;
	} else if (ret == PL_EAMBIGUOUS) {
		/* The caller's keys, not the evidence: two witness keys share a name and key id. */
		ret = fail(why, PL_EINVAL,
		           "witnesses: two of the given keys share a name and key id");
		goto out;
	} else if (ret != 0) {
		ret = fail(why, ret, "checkpoint: a witness cosignature does not verify: %s",
		           pl_strerror(ret));
		goto out;
	}
	for (size_t w = 0; w < nwitnesses; w++) {
		bool dup = false;
		for (size_t x = 0; x < w; x++)
			dup = dup || (ok[x] && pl_vkey_equal(&witnesses[x], &witnesses[w]));
		if (!ok[w] || dup)
			continue;
		count++;
		for (size_t s = 0; s < note->nsigs; s++) {
			struct pl_dossier_cosigner *c = &rep->cosigners[rep->ncosigners];
			uint64_t t;
			if (pl_cosignature_verify(&note->sigs[s], &witnesses[w], note->text,
			                          note->text_len, &t) != 0 ||
			    t > (uint64_t)PL_TIMESTAMP_MAX)
				continue;
			if (!rep->has_bound || (int64_t)t < rep->bound)
				rep->bound = (int64_t)t;
			rep->has_bound = true;
			/* One entry per witness: its earliest cosignature. */
			if (rep->ncosigners == count - 1) {
				c->key = witnesses[w];
				c->time = (int64_t)t;
				rep->ncosigners++;
			} else if ((int64_t)t < rep->cosigners[rep->ncosigners - 1].time) {
				rep->cosigners[rep->ncosigners - 1].time = (int64_t)t;
			}
		}
	}
	rep->witnesses_verified = count;
out:
	if (ret == 0 && count < quorum)
		ret = fail(why, PL_ENOKEY,
		           "checkpoint: cosigned by %zu of the given witnesses, %zu required",
		           count, quorum);
	free(ok);
	pl_note_free(note);
	return ret;
}

static int check_tree(const struct dossier *d, const struct pl_checkpoint *cp, struct pl_buf *why)
{
	uint64_t nwin = d->ne - d->nproven;
	uint8_t root[PL_HASH_BYTES];
	int ret = 0;

	if (d->start + nwin != cp->size) {
		ret = fail(why, PL_EPROOF,
		           "window: holds log #%llu to #%llu, but the checkpoint is at tree size "
		           "%llu: the window must run to the checkpoint",
		           (unsigned long long)d->start, (unsigned long long)(d->start + nwin - 1),
		           (unsigned long long)cp->size);
		goto out;
	}
	ret = window_root(d, root, why);
	if (ret != 0)
		goto out;
	if (memcmp(root, cp->root, PL_HASH_BYTES) != 0) {
		ret = fail(
		        why, PL_EPROOF,
		        "window: the %llu entries from log #%llu and the frontier do not hash to "
		        "the checkpoint's root: an entry is missing, added, altered or moved",
		        (unsigned long long)nwin, (unsigned long long)d->start);
		goto out;
	}
	for (size_t i = 0; i < d->nproven; i++) {
		const struct dentry *e = &d->e[i];
		uint8_t leaf[PL_HASH_BYTES];
		pl_tlog_leaf_hash(leaf, e->msg, e->len);
		if (pl_tlog_verify_inclusion(leaf, e->index, cp->size,
		                             (const uint8_t(*)[PL_HASH_BYTES])e->proof, e->nproof,
		                             cp->root) != 0) {
			ret = fail(
			        why, PL_EPROOF,
			        "log #%llu: the inclusion proof does not lead to the checkpoint's "
			        "root",
			        (unsigned long long)e->index);
			goto out;
		}
	}
out:
	return ret;
}

/* ---- Records, directory, chains, rules ---------------------------------------------- */

/*
 * The position in e of a key's latest record so far, or NO_ENTRY: the
 * dossier's own per-key state, beside the chain head the directory keeps.
 */
static size_t last_of(const struct pl_directory *dir, size_t key)
{
	const size_t *at = pl_directory_extra(dir, key);

	return dir->state[key].has_head ? *at : NO_ENTRY;
}

/*
 * Adds the record at position i to the log replayed so far: its key's
 * latest, and for a register or revoke a change of the directory.
 */
static int advance(const struct dossier *d, struct pl_replay_log *log, size_t i)
{
	const struct dentry *e = &d->e[i];
	size_t *at = pl_directory_extra(&log->dir, e->signer);

	*at = i;
	return pl_replay_log_add(log, e->rec, e->id, e->index, e->signer, e->msg, e->len);
}

/*
 * A register or revoke changes the directory for every later record. A key
 * registered twice, or revoked when not active, breaks the rules even outside
 * the thread; a revoke of a key whose register the dossier does not carry
 * (its key signs nothing here) is simply noted. These are pl_rules_check()'s
 * register and revoke rules but for that last case: the dossier holds only
 * the registers of the keys that sign its records, where the rules know the
 * whole directory, so they are checked here and not by judge(), before
 * advance() applies the record.
 */
static int directory_check(const struct pl_directory *dir, const struct pl_record *r,
                           uint64_t index, struct pl_buf *why)
{
	int ret = 0;

	for (size_t k = 0; ret == 0 && k < r->nkeys; k++) {
		enum pl_key_status st = pl_directory_status(dir, &r->keys[k]);
		if (r->kind == PL_KIND_REGISTER && st != PL_KEY_UNKNOWN)
			ret = fail(why, PL_ERULE,
			           "log #%llu: registers %s, a key registered before",
			           (unsigned long long)index, r->keys[k].name);
		else if (r->kind == PL_KIND_REVOKE && st == PL_KEY_REVOKED)
			ret = fail(why, PL_ERULE, "log #%llu: revokes %s, a key that is not active",
			           (unsigned long long)index, r->keys[k].name);
	}
	return ret;
}

/* A copy of a record that stops at the end of its body (most records have none). */
static struct pl_record *record_trim(const struct pl_record *r)
{
	size_t n = offsetof(struct pl_record, body) + r->body_len + 1;
	struct pl_record *c = malloc(n);

	if (c)
		memcpy(c, r, n);
	return c;
}

static bool subject_kind_is_valid(enum pl_record_kind k)
{
	return k == PL_KIND_SEND || k == PL_KIND_CONSULT || k == PL_KIND_CHECK ||
	       k == PL_KIND_STATEMENT;
}

/*
 * Runs pl_rules_check() on the thread record at position i, with what the log
 * held before it (the records added to log). Unlike parley log audit, which
 * hands the rules a missing ref as NULL, a ref the dossier does not hold is
 * its own failure here: the dossier may simply lack a record the log has, and
 * says so.
 */
static int judge(const struct dossier *d, const struct pl_replay_log *log, size_t i,
                 struct pl_buf *why)
{
	const struct dentry *e = &d->e[i];
	const struct pl_record *r = e->rec;
	const char *rwhy = "rule broken";
	int ret = 0;

	for (size_t k = 0; k < r->nrefs; k++) {
		char sid[ID_SHORT + sizeof(ELLIPSIS)];
		if (!pl_replay_log_find(log, r->refs[k].id, NULL)) {
			id_short(sid, r->refs[k].id);
			ret = fail(
			        why, PL_ERULE,
			        "log #%llu: refers to %s, which the dossier does not hold before "
			        "it",
			        (unsigned long long)e->index, sid);
			goto out;
		}
	}
	/*
	 * No check that the parties a record names are registered: the dossier
	 * carries only the registers of the keys that sign its records.
	 */
	ret = pl_replay_log_judge(log, r, e->id, e->signer, false, &rwhy);
	if (ret != 0 && ret != PL_ENOMEM)
		ret = fail(why, ret, "log #%llu: %s by %s breaks the rules: %s",
		           (unsigned long long)e->index, pl_record_kind_name(r->kind), r->author,
		           rwhy);
out:
	return ret;
}

/* True when some ref of r names a thread record logged before position i. */
static bool refers_to_thread(const struct dossier *d, const struct pl_record *r, size_t i)
{
	for (size_t k = 0; k < r->nrefs; k++) {
		size_t at = find_id(d, r->refs[k].id);
		if (at != NO_ENTRY && at < i && d->e[at].thread)
			return true;
	}
	return false;
}

/* Opens the record at position i with the keys registered before it. */
static int open_entry(struct dossier *d, const struct pl_directory *dir, size_t i,
                      struct pl_record *tmp, struct pl_buf *why)
{
	struct dentry *e = &d->e[i];
	struct pl_vkey signer;
	uint8_t id[PL_RECORD_ID_BYTES];
	const char *rwhy = "";
	int ret;

	ret = pl_record_open(tmp, id, &signer, e->msg, e->len, dir->keys, dir->n, &rwhy);
	if (ret == PL_ENOKEY) {
		ret = fail(why, ret,
		           "log #%llu: not signed by a key the dossier registers before it (%s)",
		           (unsigned long long)e->index, rwhy);
		goto out;
	}
	if (ret != 0) {
		ret = fail(why,
		           ret == PL_EMALFORMED || ret == PL_ETOOBIG || ret == PL_EINVAL ? PL_ERULE
		                                                                         : ret,
		           "log #%llu: the record does not open: %s", (unsigned long long)e->index,
		           rwhy);
		goto out;
	}
	if (strcmp(tmp->exchange, d->origin) != 0) {
		ret = fail(why, PL_EVERIFY, "log #%llu: a record of exchange %s, not %s",
		           (unsigned long long)e->index, tmp->exchange, d->origin);
		goto out;
	}
	e->signer = pl_directory_find(dir, signer.name, signer.id);
	if (e->signer == PL_DIRECTORY_NONE || dir->state[e->signer].status != PL_KEY_ACTIVE) {
		ret = fail(why, PL_ERULE, "log #%llu: signed by %s, a key revoked before it",
		           (unsigned long long)e->index, signer.name);
		goto out;
	}
	e->rec = record_trim(tmp);
	if (!e->rec)
		ret = PL_ENOMEM;
out:
	return ret;
}

/*
 * The chain of the key that signed position i: before the window, records of
 * a key only move forward (no fork among them); in the window, each record
 * follows its key's previous one, the first from its anchor (the record
 * its prev names, which must be among the proven records).
 */
static int chain_step(const struct dossier *d, const struct pl_directory *dir, size_t i,
                      struct pl_buf *why)
{
	const struct dentry *e = &d->e[i];
	size_t last = last_of(dir, e->signer);
	const struct pl_chain_link *head = &dir->state[e->signer].head;
	struct pl_chain_link link;
	const char *cwhy = "";
	int ret = 0;

	pl_chain_link_set(&link, e->rec, e->id);
	if (i < d->nproven) {
		if (last != NO_ENTRY && link.seq <= head->seq)
			ret = fail(why, PL_ECHAIN,
			           "log #%llu: seq %llu of %s after seq %llu at log #%llu: a fork",
			           (unsigned long long)e->index, (unsigned long long)link.seq,
			           dir->keys[e->signer].name, (unsigned long long)head->seq,
			           (unsigned long long)d->e[last].index);
		goto out;
	}
	if ((last == NO_ENTRY || last < d->nproven) && link.has_prev) {
		size_t at = find_id(d, link.prev);
		if (at == NO_ENTRY || at >= d->nproven) {
			ret = fail(
			        why, PL_ECHAIN,
			        "log #%llu: the dossier lacks the anchor of %s (the record before "
			        "seq %llu)",
			        (unsigned long long)e->index, dir->keys[e->signer].name,
			        (unsigned long long)link.seq);
			goto out;
		}
	}
	if (pl_chain_check_next(last == NO_ENTRY ? NULL : head, &link, &cwhy) != 0)
		ret = fail(why, PL_ECHAIN, "log #%llu: the chain of %s breaks: %s",
		           (unsigned long long)e->index, dir->keys[e->signer].name, cwhy);
out:
	return ret;
}

/* Each key's records in the window form one contiguous segment with no fork anywhere. */
static int check_segments(const struct dossier *d, const struct pl_directory *dir, size_t *nkeys,
                          struct pl_buf *why)
{
	struct pl_chain_link *links = calloc(d->ne ? d->ne : 1, sizeof(*links));
	struct pl_chain_fork fork;
	size_t used = 0;
	int ret = 0;

	if (!links) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < dir->n; k++) {
		size_t n = 0, nforks = 0, bad = 0, first = NO_ENTRY;
		const char *cwhy = "";
		for (size_t i = 0; i < d->ne; i++) {
			if (d->e[i].signer != k)
				continue;
			if (first == NO_ENTRY && i >= d->nproven)
				first = n;
			pl_chain_link_set(&links[n++], d->e[i].rec, d->e[i].id);
		}
		if (n == 0)
			continue;
		used++;
		ret = pl_chain_find_forks(&fork, 1, &nforks, links, n);
		if (ret == 0 && nforks > 0) {
			ret = fail(why, PL_ECHAIN, "chain of %s: two records with seq %llu: a fork",
			           dir->keys[k].name, (unsigned long long)links[fork.a].seq);
			goto out;
		}
		if (ret != 0 || first == NO_ENTRY)
			continue;
		/* The segment runs from the anchor (the last record before the window), if any. */
		if (first > 0)
			first--;
		if (pl_chain_check_segment(links + first, n - first, &bad, &cwhy) != 0) {
			ret = fail(why, PL_ECHAIN, "chain of %s: not contiguous in the window: %s",
			           dir->keys[k].name, cwhy);
			goto out;
		}
	}
	*nkeys = used;
out:
	free(links);
	return ret;
}

static int cmp_size(const void *a, const void *b)
{
	const size_t *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/*
 * One pass in log order: open each record with the keys registered before
 * it, follow each key's chain, mark the thread (the subject and every
 * window record that refers to a thread record), judge each thread record
 * by the rules with what came before it, and apply registers and revokes.
 */
static int check_records(struct dossier *d, size_t **thread_out, size_t *nthread_out, size_t *nkeys,
                         struct pl_buf *why)
{
	struct pl_replay_log log;
	struct pl_record *tmp = calloc(1, sizeof(*tmp));
	size_t *thread = calloc(d->ne, sizeof(*thread));
	size_t nthread = 0;
	int ret;

	memset(&log, 0, sizeof(log));
	if (!tmp || !thread) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_replay_log_init(&log, &d->log_key, sizeof(size_t));
	for (size_t i = 0; ret == 0 && i < d->ne; i++) {
		struct dentry *e = &d->e[i];
		ret = open_entry(d, &log.dir, i, tmp, why);
		if (ret != 0)
			goto out;
		if (i == d->nproven) {
			if (!subject_kind_is_valid(e->rec->kind)) {
				ret = fail(
				        why, PL_EMALFORMED,
				        "dossier: the subject is a %s; a dossier is about a send, "
				        "consult, check or statement",
				        pl_record_kind_name(e->rec->kind));
				goto out;
			}
			e->thread = true;
		} else if (i > d->nproven) {
			e->thread = refers_to_thread(d, e->rec, i);
		}
		ret = chain_step(d, &log.dir, i, why);
		if (ret == 0 && e->thread)
			ret = judge(d, &log, i, why);
		if (ret != 0)
			goto out;
		if (e->thread)
			thread[nthread++] = i;
		if (e->rec->kind == PL_KIND_REGISTER || e->rec->kind == PL_KIND_REVOKE)
			ret = directory_check(&log.dir, e->rec, e->index, why);
		if (ret == 0)
			ret = advance(d, &log, i);
		if (ret == PL_ETOOBIG)
			ret = fail(why, ret, "log #%llu: more keys than a dossier may name (%u)",
			           (unsigned long long)e->index, PL_DIRECTORY_MAX_KEYS);
	}
	if (ret == 0)
		ret = check_segments(d, &log.dir, nkeys, why);
out:
	if (ret == 0) {
		*thread_out = thread;
		*nthread_out = nthread;
		thread = NULL;
	}
	free(thread);
	free(tmp);
	pl_replay_log_release(&log);
	return ret;
}

static int check_disclosures(const struct dossier *d, struct pl_buf *why)
{
	int ret = 0;

	for (size_t i = 0; i < d->ndisc; i++) {
		const struct ddisc *c = &d->disc[i];
		size_t at = find_id(d, c->id);
		char sid[ID_SHORT + sizeof(ELLIPSIS)];
		id_short(sid, c->id);
		if (at == NO_ENTRY || !(d->e[at].rec->has & PL_RECORD_HAS_COMMIT)) {
			ret = fail(why, PL_ECOMMIT,
			           "disclosure of %s: the dossier holds no such record with a "
			           "commitment",
			           sid);
			goto out;
		}
		if (pl_box_disclosure_verify(d->e[at].rec->commit, c->salt, c->plaintext, c->len) !=
		    0) {
			ret = fail(why, PL_ECOMMIT,
			           "disclosure of %s: the plaintext and salt do not match the "
			           "record's "
			           "commitment",
			           sid);
			goto out;
		}
	}
out:
	return ret;
}

/* ---- The report: timeline and verdicts ----------------------------------------------- */

struct writer {
	struct pl_dossier_report *rep;
	const struct dossier *d;
	const size_t *thread;
	size_t nthread;
	size_t cap;
	int ret;
};

static void verdict(struct writer *w, enum pl_dossier_verdict_kind kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void verdict(struct writer *w, enum pl_dossier_verdict_kind kind, const char *fmt, ...)
{
	struct pl_dossier_report *r = w->rep;
	va_list ap;

	if (w->ret != 0)
		return;
	if (r->nverdicts == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		struct pl_dossier_verdict *v = realloc(r->verdicts, cap * sizeof(*v));
		if (!v) {
			w->ret = PL_ENOMEM;
			return;
		}
		r->verdicts = v;
		w->cap = cap;
	}
	r->verdicts[r->nverdicts].kind = kind;
	va_start(ap, fmt);
	vsnprintf(r->verdicts[r->nverdicts].text, sizeof(r->verdicts[0].text), fmt, ap);
	va_end(ap);
	r->nverdicts++;
}

/* What a record is called in a sentence: a send's class, else its kind. */
static const char *label(const struct pl_record *r)
{
	if (r->kind == PL_KIND_SEND && (r->has & PL_RECORD_HAS_CLASS))
		return pl_record_class_name(r->cls);
	return pl_record_kind_name(r->kind);
}

static void time_text(char out[static PL_TIMESTAMP_LEN + 1], int64_t t)
{
	if (pl_timestamp_format(out, t) != 0)
		memcpy(out, "(out of range)", sizeof("(out of range)"));
}

/* "a, b, c" of r's `to` lines. */
static void to_list(char *out, size_t n, const struct pl_record *r)
{
	size_t used = 0;

	out[0] = 0;
	for (size_t i = 0; i < r->nto && used < n; i++) {
		int k = snprintf(out + used, n - used, "%s%s", i ? ", " : "", r->to[i]);
		used += k > 0 ? (size_t)k : 0;
	}
}

/* snprintf() for descriptions, where a cut at n bytes is the intended bound. */
static void say(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* How a record refers to the record it acts on: "it" for the subject, else "<kind> <id>…". */
static void target_text(char *out, size_t n, const struct writer *w, const uint8_t *id)
{
	size_t at = find_id(w->d, id);
	char sid[ID_SHORT + sizeof(ELLIPSIS)];

	if (memcmp(id, w->d->subject, PL_RECORD_ID_BYTES) == 0) {
		snprintf(out, n, "it");
		return;
	}
	id_short(sid, id);
	snprintf(out, n, "%s %s", at == NO_ENTRY ? "record" : label(w->d->e[at].rec), sid);
}

/*
 * What a statement cites, each by kind and short id ("it" for the subject),
 * e.g. "proposal 1a2b3c4d… and letter 5e6f7a8b…"; with indexes, each held
 * record's log index follows it ("(log #12)").
 */
static void cites_text(char *out, size_t n, const struct writer *w, const struct pl_record *r,
                       bool indexes)
{
	size_t used = 0, k = 0, ncites = 0;

	out[0] = 0;
	for (size_t i = 0; i < r->nrefs; i++)
		ncites += r->refs[i].role == PL_ROLE_CITES;
	for (size_t i = 0; i < r->nrefs && used < n; i++) {
		char one[96];
		size_t at = find_id(w->d, r->refs[i].id);
		int len;
		if (r->refs[i].role != PL_ROLE_CITES)
			continue;
		target_text(one, sizeof(one), w, r->refs[i].id);
		len = snprintf(out + used, n - used, "%s%s",
		               k == 0            ? ""
		               : k + 1 == ncites ? " and "
		                                 : ", ",
		               one);
		used += len > 0 ? (size_t)len : 0;
		if (indexes && at != NO_ENTRY && used < n) {
			len = snprintf(out + used, n - used, " (log #%llu)",
			               (unsigned long long)w->d->e[at].index);
			used += len > 0 ? (size_t)len : 0;
		}
		k++;
	}
}

/* The first line of a body, shortened at a character boundary. */
static void body_line(char *out, size_t n, const struct pl_record *r)
{
	size_t len = 0, max = n > 200 ? 200 : n - 1;

	while (len < r->body_len && r->body[len] != '\n')
		len++;
	if (len > max) {
		len = max - (sizeof(ELLIPSIS) - 1);
		while (len > 0 && ((unsigned char)r->body[len] & 0xc0) == 0x80)
			len--;
		snprintf(out, n, "%.*s" ELLIPSIS, (int)len, r->body);
		return;
	}
	snprintf(out, n, "%.*s", (int)len, r->body);
}

/* True when the thread holds a receive by party of the record with this id. */
static bool received_by(const struct writer *w, const uint8_t *id, const char *party)
{
	for (size_t t = 0; id && t < w->nthread; t++) {
		const struct pl_record *r = w->d->e[w->thread[t]].rec;
		const struct pl_record_ref *x = pl_record_ref_find(r, PL_ROLE_SUBJECT);
		if (r->kind == PL_KIND_RECEIVE && strcmp(r->author, party) == 0 && x &&
		    memcmp(x->id, id, PL_RECORD_ID_BYTES) == 0)
			return true;
	}
	return false;
}

/* The timeline's description of one thread record. */
static void describe(char *out, size_t n, const struct writer *w, const struct pl_record *r)
{
	const struct pl_record_ref *t = pl_record_ref_find(r, pl_record_kind_target(r->kind));
	char tgt[96], list[PL_RECORD_MAX_TO * (PL_RECORD_NAME_MAX + 2) + 1], when[32];
	char line[256];

	tgt[0] = 0;
	if (t)
		target_text(tgt, sizeof(tgt), w, t->id);
	to_list(list, sizeof(list), r);
	when[0] = 0;
	if (r->has & PL_RECORD_HAS_DEADLINE) {
		char ts[PL_TIMESTAMP_LEN + 1];
		time_text(ts, r->deadline);
		snprintf(when, sizeof(when), " by %s", ts);
	}
	switch (r->kind) {
	case PL_KIND_SEND: {
		const struct pl_record_ref *rt = pl_record_ref_find(r, PL_ROLE_REPLY_TO);
		size_t k;
		if (rt)
			target_text(tgt, sizeof(tgt), w, rt->id);
		say(out, n, "%s a %s to %s", rt ? "replied with" : "sent", label(r), list);
		k = strlen(out);
		if (r->has & PL_RECORD_HAS_VIA)
			say(out + k, n - k, " via %s", r->via);
		k = strlen(out);
		if (rt)
			say(out + k, n - k, " answering %s", tgt);
		k = strlen(out);
		if (r->has & PL_RECORD_HAS_DEADLINE)
			say(out + k, n - k, ", reply%s", when);
		break;
	}
	case PL_KIND_AVAILABLE:
		say(out, n, "made %s available to %s", tgt, list);
		break;
	case PL_KIND_RECEIVE:
		say(out, n, "received %s", tgt);
		break;
	case PL_KIND_CONVEY:
		say(out, n, "conveyed %s", tgt);
		break;
	case PL_KIND_DECLINE:
		say(out, n, "declined %s: \"%s\"", tgt, r->reason);
		break;
	case PL_KIND_ACCEPT:
		say(out, n, "accepted %s", tgt);
		break;
	case PL_KIND_REFUSE:
		if (r->has & PL_RECORD_HAS_REASON)
			say(out, n, "refused %s: \"%s\"", tgt, r->reason);
		else
			say(out, n, "refused %s", tgt);
		break;
	case PL_KIND_EXPIRE:
		/* The intermediary may have received it: say so rather than "never acted". */
		say(out, n, "recorded that %s expired with no decision by %s%s%s%s", tgt, list,
		    (r->has & PL_RECORD_HAS_VIA) ? "; the intermediary " : "",
		    (r->has & PL_RECORD_HAS_VIA) ? r->via : "",
		    !(r->has & PL_RECORD_HAS_VIA) ? ""
		    : received_by(w, t ? t->id : NULL, r->via)
		            ? " received it but never conveyed or declined it"
		            : " never conveyed or declined it");
		break;
	case PL_KIND_STATEMENT: {
		const char *what = r->cls == PL_CLASS_MEASURE ? "announced a measure"
		                                              : "made a public statement";
		char cited[PL_DOSSIER_LINE_MAX / 2];
		cites_text(cited, sizeof(cited), w, r, false);
		body_line(line, sizeof(line), r);
		if (cited[0])
			say(out, n, "%s citing %s: \"%s\"", what, cited, line);
		else
			say(out, n, "%s: \"%s\"", what, line);
		break;
	}
	case PL_KIND_CONSULT:
		say(out, n, "consulted %s on a draft%s%s", list,
		    (r->has & PL_RECORD_HAS_DEADLINE) ? ", advice" : "", when);
		break;
	case PL_KIND_ADVISE:
		say(out, n, "advised on %s: %s%s%s%s", tgt, pl_position_name(r->position),
		    (r->has & PL_RECORD_HAS_REASON) ? " (\"" : "",
		    (r->has & PL_RECORD_HAS_REASON) ? r->reason : "",
		    (r->has & PL_RECORD_HAS_REASON) ? "\")" : "");
		break;
	case PL_KIND_CHECK:
		say(out, n, "checked line %s with %s%s%s", r->line, list,
		    (r->has & PL_RECORD_HAS_DEADLINE) ? ", answer" : "", when);
		break;
	case PL_KIND_ANSWER:
		say(out, n, "answered %s on line %s", tgt, r->line);
		break;
	case PL_KIND_UNANSWERED:
		say(out, n, "recorded %s unanswered by %s", tgt, list);
		break;
	default:
		say(out, n, "%s", pl_record_kind_name(r->kind));
		break;
	}
}

/* The first thread record of kind by author (any author when NULL) acting on the subject. */
static size_t thread_find(const struct writer *w, enum pl_record_kind kind, const char *author)
{
	for (size_t t = 0; t < w->nthread; t++) {
		const struct pl_record *r = w->d->e[w->thread[t]].rec;
		const struct pl_record_ref *x = pl_record_ref_find(r, pl_record_kind_target(kind));
		if (r->kind == kind && (!author || strcmp(r->author, author) == 0) && x &&
		    memcmp(x->id, w->d->subject, PL_RECORD_ID_BYTES) == 0)
			return w->thread[t];
	}
	return NO_ENTRY;
}

/* How many window records party authored after position i. */
static size_t count_after(const struct writer *w, const char *party, size_t i)
{
	size_t n = 0;

	for (size_t k = i + 1; k < w->d->ne; k++)
		n += strcmp(w->d->e[k].rec->author, party) == 0;
	return n;
}

/*
 * A proven absence: "NOT <what>: <party>'s N records after <since>, up to
 * checkpoint S, include no <missing> of it".
 */
static void absent(struct writer *w, const char *what, const char *party, size_t after,
                   const char *since, const char *missing)
{
	size_t n = count_after(w, party, after);
	unsigned long long size = (unsigned long long)w->rep->size;

	if (n == 0)
		verdict(w, PL_VERDICT_NOT_DONE,
		        "NOT %s: %s made no record %s, up to checkpoint %llu", what, party, since,
		        size);
	else
		verdict(w, PL_VERDICT_NOT_DONE,
		        "NOT %s: %s's %zu record%s %s, up to checkpoint %llu, include%s no %s of "
		        "it",
		        what, party, n, n == 1 ? "" : "s", since, size, n == 1 ? "s" : "", missing);
}

/* "<what> by <party> at <time> (log #i)" for the record at position i. */
static void done(struct writer *w, const char *what, size_t i, const char *extra)
{
	const struct dentry *e = &w->d->e[i];
	char ts[PL_TIMESTAMP_LEN + 1];

	time_text(ts, e->rec->time);
	verdict(w, PL_VERDICT_DONE, "%s by %s at %s (log #%llu)%s", what, e->rec->author, ts,
	        (unsigned long long)e->index, extra);
}

static void reason_text(char *out, size_t n, const struct pl_record *r)
{
	if (r->has & PL_RECORD_HAS_REASON)
		snprintf(out, n, ": reason \"%s\"", r->reason);
	else
		out[0] = 0;
}

/*
 * The verdicts of one party named by a send: received or not, then the one
 * of its two acts it took (yes: convey or accept; no: decline or refuse,
 * with its reason), or that it took neither (missing, e.g. "conveyed").
 */
static void verdicts_party(struct writer *w, const char *p, enum pl_record_kind yes,
                           const char *yes_word, enum pl_record_kind no, const char *no_word,
                           const char *missing, const char *acts)
{
	size_t a = w->d->nproven, got, act;
	char extra[PL_RECORD_REASON_MAX + 32];
	char what[PL_RECORD_NAME_MAX + 64];

	got = thread_find(w, PL_KIND_RECEIVE, p);
	if (got != NO_ENTRY) {
		done(w, "received", got, "");
	} else {
		snprintf(what, sizeof(what), "received by %s", p);
		absent(w, what, p, a, "after the send", "receive");
	}
	act = thread_find(w, yes, p);
	if (act != NO_ENTRY) {
		done(w, yes_word, act, "");
	} else if ((act = thread_find(w, no, p)) != NO_ENTRY) {
		reason_text(extra, sizeof(extra), w->d->e[act].rec);
		done(w, no_word, act, extra);
	} else {
		absent(w, missing, p, got != NO_ENTRY ? got : a,
		       got != NO_ENTRY ? "after receiving it" : "after the send", acts);
	}
}

/* The verdicts of a send: the intermediary's steps, each recipient's, the expiry. */
static void verdicts_send(struct writer *w, const struct pl_record *s)
{
	size_t act;

	if (s->has & PL_RECORD_HAS_VIA)
		verdicts_party(w, s->via, PL_KIND_CONVEY, "conveyed", PL_KIND_DECLINE, "declined",
		               "conveyed", "convey or decline");
	for (size_t k = 0; k < s->nto; k++) {
		char what[PL_RECORD_NAME_MAX + 64];
		snprintf(what, sizeof(what), "accepted or refused by %s", s->to[k]);
		verdicts_party(w, s->to[k], PL_KIND_ACCEPT, "accepted", PL_KIND_REFUSE, "refused",
		               what, "accept or refuse");
	}
	act = thread_find(w, PL_KIND_EXPIRE, NULL);
	if (act != NO_ENTRY) {
		const struct pl_record *x = w->d->e[act].rec;
		char ts[PL_TIMESTAMP_LEN + 1],
		        list[PL_RECORD_MAX_TO * (PL_RECORD_NAME_MAX + 2) + 1];
		time_text(ts, x->time);
		to_list(list, sizeof(list), x);
		verdict(w, PL_VERDICT_DONE,
		        "expired at %s (exchange, log #%llu): no decision by %s%s%s%s", ts,
		        (unsigned long long)w->d->e[act].index, list,
		        (x->has & PL_RECORD_HAS_VIA) ? "; " : "",
		        (x->has & PL_RECORD_HAS_VIA) ? x->via : "",
		        (x->has & PL_RECORD_HAS_VIA) ? " never conveyed or declined it" : "");
	}
}

/* Consult: each consulted party advised or not. Check: each end answered or not. */
static void verdicts_parties(struct writer *w, const struct pl_record *s, enum pl_record_kind act,
                             const char *verb, const char *since)
{
	for (size_t k = 0; k < s->nto; k++) {
		const char *p = s->to[k];
		char what[PL_RECORD_NAME_MAX + 64], extra[PL_RECORD_REASON_MAX + 64];
		size_t at = thread_find(w, act, p);
		if (at == NO_ENTRY) {
			snprintf(what, sizeof(what), "%s by %s", verb, p);
			absent(w, what, p, w->d->nproven, since, pl_record_kind_name(act));
			continue;
		}
		extra[0] = 0;
		if (act == PL_KIND_ADVISE) {
			const struct pl_record *r = w->d->e[at].rec;
			snprintf(extra, sizeof(extra), ": %s", pl_position_name(r->position));
			if (r->has & PL_RECORD_HAS_REASON) {
				size_t n = strlen(extra);
				snprintf(extra + n, sizeof(extra) - n, ", reason \"%s\"",
				         r->reason);
			}
		}
		done(w, verb, at, extra);
	}
}

/* The replies to the subject and the statements that cite the thread, in log order. */
static void verdicts_citations(struct writer *w)
{
	for (size_t t = 1; t < w->nthread; t++) {
		const struct dentry *e = &w->d->e[w->thread[t]];
		const struct pl_record *r = e->rec;
		const struct pl_record_ref *rt = pl_record_ref_find(r, PL_ROLE_REPLY_TO);
		char sid[ID_SHORT + sizeof(ELLIPSIS)], tgt[96];
		if (r->kind == PL_KIND_SEND && rt &&
		    memcmp(rt->id, w->d->subject, PL_RECORD_ID_BYTES) == 0) {
			id_short(sid, e->id);
			verdict(w, PL_VERDICT_DONE, "reply by %s: %s %s (log #%llu)", r->author,
			        label(r), sid, (unsigned long long)e->index);
		}
		if (r->kind != PL_KIND_STATEMENT)
			continue;
		tgt[0] = 0;
		for (size_t k = 0; k < r->nrefs && strcmp(tgt, "it") != 0; k++) {
			size_t at = find_id(w->d, r->refs[k].id);
			if (at != NO_ENTRY && w->d->e[at].thread)
				target_text(tgt, sizeof(tgt), w, r->refs[k].id);
		}
		verdict(w, PL_VERDICT_DONE, "%s by %s cites %s (log #%llu)",
		        r->cls == PL_CLASS_MEASURE ? "measure" : "statement", r->author, tgt,
		        (unsigned long long)e->index);
	}
}

static void verdicts_subject(struct writer *w)
{
	const struct dentry *e = &w->d->e[w->d->nproven];
	const struct pl_record *s = e->rec;
	char sid[ID_SHORT + sizeof(ELLIPSIS)], ts[PL_TIMESTAMP_LEN + 1], dl[PL_TIMESTAMP_LEN + 1];
	char list[PL_RECORD_MAX_TO * (PL_RECORD_NAME_MAX + 2) + 1];

	id_short(sid, e->id);
	time_text(ts, s->time);
	to_list(list, sizeof(list), s);
	dl[0] = 0;
	if (s->has & PL_RECORD_HAS_DEADLINE)
		time_text(dl, s->deadline);
	switch (s->kind) {
	case PL_KIND_SEND:
		verdict(w, PL_VERDICT_DONE, "%s %s from %s to %s%s%s: submitted %s (log #%llu)%s%s",
		        label(s), sid, s->author, list, (s->has & PL_RECORD_HAS_VIA) ? " via " : "",
		        (s->has & PL_RECORD_HAS_VIA) ? s->via : "", ts,
		        (unsigned long long)e->index, dl[0] ? ", reply by " : "", dl);
		verdicts_send(w, s);
		break;
	case PL_KIND_CONSULT:
		verdict(w, PL_VERDICT_DONE,
		        "consult %s from %s to %s: submitted %s (log #%llu)%s%s", sid, s->author,
		        list, ts, (unsigned long long)e->index, dl[0] ? ", advice by " : "", dl);
		verdicts_parties(w, s, PL_KIND_ADVISE, "advised", "after the consult");
		break;
	case PL_KIND_CHECK:
		verdict(w, PL_VERDICT_DONE, "check %s of line %s with %s: made %s (log #%llu)%s%s",
		        sid, s->line, list, ts, (unsigned long long)e->index,
		        dl[0] ? ", answer by " : "", dl);
		verdicts_parties(w, s, PL_KIND_ANSWER, "answered", "after the check");
		break;
	default: {
		char cited[PL_DOSSIER_LINE_MAX / 2];
		cites_text(cited, sizeof(cited), w, s, true);
		verdict(w, PL_VERDICT_DONE, "%s %s by %s: made %s (log #%llu)%s%s",
		        pl_record_kind_name(s->kind), sid, s->author, ts,
		        (unsigned long long)e->index, cited[0] ? ", citing " : "", cited);
		break;
	}
	}
	verdicts_citations(w);
}

/* True for the text a person may be shown as is: UTF-8, no control or invisible character. */
static bool is_showable(const uint8_t *s, size_t n)
{
	if (!pl_utf8_is_valid((const char *)s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return false;
		/* C1 controls U+0080..U+009F: C2 80..C2 9F. */
		if (c == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return false;
		/* U+200E/F, U+202A..E, U+2028/9, U+2066..9: E2 80 8E/8F, E2 80 A8..AE, E2 81
		 * A6..A9. */
		if (c == 0xe2 && i + 2 < n) {
			uint8_t b = s[i + 1], x = s[i + 2];
			if (b == 0x80 && (x == 0x8e || x == 0x8f || (x >= 0xa8 && x <= 0xae)))
				return false;
			if (b == 0x81 && x >= 0xa6 && x <= 0xa9)
				return false;
		}
		/* U+FEFF: EF BB BF. */
		if (c == 0xef && i + 2 < n && s[i + 1] == 0xbb && s[i + 2] == 0xbf)
			return false;
	}
	return true;
}

static int report_disclosures(struct writer *w)
{
	const struct dossier *d = w->d;
	struct pl_dossier_report *r = w->rep;
	int ret = 0;

	if (d->ndisc == 0)
		goto out;
	r->disclosed = calloc(d->ndisc, sizeof(*r->disclosed));
	if (!r->disclosed) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < d->ndisc; i++, r->ndisclosed++) {
		const struct ddisc *c = &d->disc[i];
		const struct dentry *e = &d->e[find_id(d, c->id)];
		struct pl_dossier_disclosed *x = &r->disclosed[i];
		char sid[ID_SHORT + sizeof(ELLIPSIS)];
		x->plaintext = malloc(c->len + 1);
		if (!x->plaintext) {
			ret = PL_ENOMEM;
			goto out;
		}
		memcpy(x->plaintext, c->plaintext, c->len + 1);
		x->len = c->len;
		memcpy(x->id, c->id, PL_RECORD_ID_BYTES);
		x->index = e->index;
		snprintf(x->author, sizeof(x->author), "%s", e->rec->author);
		x->is_text = is_showable(c->plaintext, c->len);
		id_short(sid, c->id);
		verdict(w, PL_VERDICT_DISCLOSED,
		        "disclosed: the content of %s %s (%zu bytes) matches the commitment %s "
		        "signed (log #%llu)",
		        label(e->rec), sid, c->len, e->rec->author, (unsigned long long)e->index);
	}
out:
	return ret;
}

static int report_events(struct writer *w)
{
	struct pl_dossier_report *r = w->rep;
	int ret = 0;

	r->events = calloc(w->nthread, sizeof(*r->events));
	if (!r->events) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (size_t t = 0; t < w->nthread; t++, r->nevents++) {
		const struct dentry *e = &w->d->e[w->thread[t]];
		struct pl_dossier_event *v = &r->events[t];
		v->index = e->index;
		memcpy(v->id, e->id, PL_RECORD_ID_BYTES);
		v->kind = e->rec->kind;
		snprintf(v->author, sizeof(v->author), "%s", e->rec->author);
		v->time = e->rec->time;
		v->contradicted = r->has_bound && e->rec->time > r->bound;
		describe(v->what, sizeof(v->what), w, e->rec);
	}
out:
	return ret;
}

static int build_report(struct writer *w, const struct pl_checkpoint *cp, size_t nkeys,
                        size_t nwitnesses)
{
	const struct dossier *d = w->d;
	struct pl_dossier_report *r = w->rep;
	char id[PL_KEYID_BYTES * 2 + 1], ts[PL_TIMESTAMP_LEN + 1];
	size_t nwin = d->ne - d->nproven;

	snprintf(r->origin, sizeof(r->origin), "%s", d->origin);
	r->log_key = d->log_key;
	r->size = cp->size;
	memcpy(r->root, cp->root, PL_HASH_BYTES);
	r->start = d->start;
	memcpy(r->subject, d->subject, PL_RECORD_ID_BYTES);
	r->subject_kind = d->e[d->nproven].rec->kind;
	if (d->e[d->nproven].rec->has & PL_RECORD_HAS_CLASS)
		r->subject_class = d->e[d->nproven].rec->cls;
	pl_hex_encode(id, d->log_key.id, PL_KEYID_BYTES);
	w->ret = report_events(w);

	verdict(w, PL_VERDICT_BASIS,
	        "checkpoint: tree size %llu of %s, signed by the log key %s+%s",
	        (unsigned long long)cp->size, d->origin, d->log_key.name, id);
	if (!r->log_key_pinned)
		verdict(w, PL_VERDICT_FLAG,
		        "caution: no log key was given; the key named in the dossier was used, so "
		        "check that %s+%s is the exchange's key",
		        d->log_key.name, id);
	if (nwitnesses == 0)
		verdict(w, PL_VERDICT_BASIS, "witnesses: none given");
	else
		verdict(w, PL_VERDICT_BASIS,
		        "witnesses: %zu of the %zu given cosigned it (%zu required)",
		        r->witnesses_verified, nwitnesses, r->witnesses_required);
	if (nwin == 1)
		verdict(w, PL_VERDICT_BASIS,
		        "window: the 1 record from log #%llu (the %s) up to checkpoint %llu is "
		        "present and hashes to its root",
		        (unsigned long long)d->start, pl_record_kind_name(r->subject_kind),
		        (unsigned long long)cp->size);
	else
		verdict(w, PL_VERDICT_BASIS,
		        "window: all %zu records from log #%llu (the %s) up to checkpoint %llu are "
		        "present and hash to its root",
		        nwin, (unsigned long long)d->start, pl_record_kind_name(r->subject_kind),
		        (unsigned long long)cp->size);
	verdict(w, PL_VERDICT_BASIS,
	        "checked: the signatures of %zu record%s by keys registered in the log, the "
	        "chain%s "
	        "of %zu key%s, the rules over the %zu record%s of the thread",
	        d->ne, d->ne == 1 ? "" : "s", nkeys == 1 ? "" : "s", nkeys, nkeys == 1 ? "" : "s",
	        w->nthread, w->nthread == 1 ? "" : "s");
	verdicts_subject(w);
	if (r->has_bound) {
		time_text(ts, r->bound);
		verdict(w, PL_VERDICT_TIME,
		        "existence: every record here existed by %s, when a witness first cosigned "
		        "checkpoint %llu",
		        ts, (unsigned long long)cp->size);
		for (size_t i = 0; i < d->ne; i++) {
			const struct pl_record *x = d->e[i].rec;
			char claim[PL_TIMESTAMP_LEN + 1];
			if (x->time <= r->bound)
				continue;
			time_text(claim, x->time);
			verdict(w, PL_VERDICT_FLAG,
			        "CONTRADICTED: %s claims %s for its %s (log #%llu), but the record "
			        "existed by %s",
			        x->author, claim, pl_record_kind_name(x->kind),
			        (unsigned long long)d->e[i].index, ts);
		}
	} else {
		verdict(w, PL_VERDICT_TIME,
		        "existence: no witness cosignature was verified; only the exchange's "
		        "checkpoint %llu vouches for when these records existed",
		        (unsigned long long)cp->size);
	}
	if (w->ret == 0)
		w->ret = report_disclosures(w);
	return w->ret;
}

bool pl_dossier_error_is_evidence(int err)
{
	return err != 0 && err != PL_EMALFORMED && err != PL_ETOOBIG && err != PL_EINVAL &&
	       err != PL_ENOMEM;
}

void pl_dossier_report_free(struct pl_dossier_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ndisclosed; i++)
		free(r->disclosed[i].plaintext);
	free(r->disclosed);
	free(r->cosigners);
	free(r->events);
	free(r->verdicts);
	free(r);
}

int pl_dossier_verify(struct pl_dossier_report **out, const char *json, size_t len,
                      const struct pl_vkey *log_key, const struct pl_vkey *witnesses,
                      size_t nwitnesses, size_t quorum, struct pl_buf *why)
{
	struct dossier d = {0};
	struct pl_dossier_report *rep = NULL;
	struct pl_checkpoint *cp = NULL;
	struct writer w = {0};
	size_t *thread = NULL, nthread = 0, nkeys = 0;
	int ret;

	if (!out || (!json && len) || quorum > nwitnesses || (nwitnesses && !witnesses)) {
		ret = PL_EINVAL;
		goto out;
	}
	for (size_t i = 0; i < nwitnesses; i++) {
		if (witnesses[i].type != PL_SIGTYPE_COSIG_V1) {
			ret = PL_EINVAL;
			goto out;
		}
	}
	rep = calloc(1, sizeof(*rep));
	cp = malloc(sizeof(*cp));
	if (!rep || !cp) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = dossier_parse(&d, json ? json : "", len, why);
	if (ret != 0)
		goto out;
	if (log_key && !pl_vkey_equal(log_key, &d.log_key)) {
		ret = fail(why, PL_ENOKEY, "log key: the dossier names %s, not the key given (%s)",
		           d.log_key.name, log_key->name);
		goto out;
	}
	if (strcmp(d.log_key.name, d.origin) != 0) {
		ret = fail(why, PL_EVERIFY, "log key: named %s, but the origin is %s",
		           d.log_key.name, d.origin);
		goto out;
	}
	rep->log_key_pinned = log_key != NULL;
	rep->witnesses_required = quorum;
	ret = check_checkpoint(&d, cp, witnesses, nwitnesses, quorum, rep, why);
	if (ret == 0)
		ret = check_tree(&d, cp, why);
	if (ret != 0)
		goto out;
	for (size_t i = 0; i < d.ne; i++) {
		pl_record_id(d.e[i].id, d.e[i].msg, d.e[i].len);
		memcpy(d.by_id[i].id, d.e[i].id, PL_RECORD_ID_BYTES);
		d.by_id[i].pos = i;
		d.e[i].signer = NO_ENTRY;
	}
	qsort(d.by_id, d.ne, sizeof(*d.by_id), cmp_by_id);
	for (size_t i = 1; i < d.ne; i++) {
		if (memcmp(d.by_id[i - 1].id, d.by_id[i].id, PL_RECORD_ID_BYTES) == 0) {
			ret = fail(why, PL_EPROOF, "log #%llu and log #%llu hold the same record",
			           (unsigned long long)d.e[d.by_id[i - 1].pos].index,
			           (unsigned long long)d.e[d.by_id[i].pos].index);
			goto out;
		}
	}
	if (memcmp(d.e[d.nproven].id, d.subject, PL_RECORD_ID_BYTES) != 0) {
		ret = fail(why, PL_EVERIFY,
		           "subject: the dossier's subject is not the record at log #%llu, where "
		           "the window starts",
		           (unsigned long long)d.start);
		goto out;
	}
	ret = check_records(&d, &thread, &nthread, &nkeys, why);
	if (ret == 0)
		ret = check_disclosures(&d, why);
	if (ret != 0)
		goto out;
	qsort(thread, nthread, sizeof(*thread), cmp_size);
	w.rep = rep;
	w.d = &d;
	w.thread = thread;
	w.nthread = nthread;
	ret = build_report(&w, cp, nkeys, nwitnesses);
out:
	if (ret == 0) {
		*out = rep;
		rep = NULL;
	}
	pl_dossier_report_free(rep);
	free(thread);
	free(cp);
	dossier_release(&d);
	return ret;
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
	s->rec = record_trim(tmp);
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
			size_t at = idpos_find(ids, total, r->refs[k].id);
			s[i].thread = at != NO_ENTRY && at >= np && at < i && s[at].thread;
		}
		for (size_t k = 0; k < nkeys && first; k++)
			first = !same_key(&s[keys[k]], &s[i]);
		if (first) {
			size_t at = NO_ENTRY;
			keys[nkeys++] = i;
			if (r->has & PL_RECORD_HAS_PREV)
				at = idpos_find(ids, total, r->prev);
			if ((r->has & PL_RECORD_HAS_PREV) && (at == NO_ENTRY || at >= np))
				ret = want_record(w, nw, cap, r->prev);
		}
		for (size_t k = 0; ret == 0 && s[i].thread && k < r->nrefs; k++) {
			if (idpos_find(ids, total, r->refs[k].id) == NO_ENTRY)
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
	qsort(ids, total, sizeof(*ids), cmp_by_id);
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
