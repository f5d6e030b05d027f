/* evidence: the offline check of a member's evidence that its exchange lied. */
#include <parley/evidence.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/client.h>
#include <parley/encoding.h>
#include <parley/member.h>
#include <parley/note.h>
#include <parley/proof.h>
#include <parley/record.h>
#include <parley/timestamp.h>
#include <parley/tlog.h>

#include "internal.h"
#include "banned.h"

/* Where the reading of a file stands, for the next line and for messages. */
struct rd {
	const char *text;
	size_t len, pos;
	unsigned line; /* of the last line taken */
	struct pl_evidence *out;
};

/* Says where and why the file stops being one of the formats. */
static int bad(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct rd *r, const char *fmt, ...)
{
	char what[PL_EVIDENCE_WHY_MAX - 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(r->out->why, sizeof(r->out->why), "line %u: %s", r->line, what);
	return PL_EMALFORMED;
}

/* The verdict and its one line of words. Returns 0: the check itself went through. */
static int judged(struct pl_evidence *out, enum pl_evidence_verdict v, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int judged(struct pl_evidence *out, enum pl_evidence_verdict v, const char *fmt, ...)
{
	va_list ap;

	out->verdict = v;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
	return 0;
}

/* The next line, exactly expect. */
static int exact(struct rd *r, const char *expect)
{
	r->line++;
	if (!pl__next_line_is(r->text, r->len, &r->pos, expect))
		return bad(r, "expected \"%s\"", expect);
	return 0;
}

/* The next line, "<name> <value>": *v and *n its value (not empty). */
static int field(struct rd *r, const char *name, const char **v, size_t *n)
{
	size_t k = strlen(name), ln;
	const char *l;

	r->line++;
	if (!pl__next_line(r->text, r->len, &r->pos, &l, &ln) || ln <= k + 1 ||
	    memcmp(l, name, k) != 0 || l[k] != ' ')
		return bad(r, "expected \"%s ...\"", name);
	*v = l + k + 1;
	*n = ln - k - 1;
	return 0;
}

/* A field whose value is printable UTF-8 copied to dst[0..cap). */
static int text_field(struct rd *r, const char *name, char *dst, size_t cap)
{
	const char *v;
	size_t n;
	int err = field(r, name, &v, &n);

	if (err)
		return err;
	if (n >= cap || !pl_utf8_is_valid(v, n))
		return bad(r, "%s: too long or not UTF-8", name);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return bad(r, "%s: a control character", name);
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

/* A field whose value is a decimal below 2^63. */
static int number_field(struct rd *r, const char *name, uint64_t *out)
{
	const char *v;
	size_t n;
	int err = field(r, name, &v, &n);

	if (!err && pl_parse_u64(out, v, n, INT64_MAX) != 0)
		err = bad(r, "%s: not a number", name);
	return err;
}

/*
 * "<name> <n>" then exactly n bytes: *p points at them. Counts the lines they
 * hold, so that later messages name the right line.
 */
static int bytes_part(struct rd *r, const char *name, const char **p, size_t *n)
{
	uint64_t k;
	int err = number_field(r, name, &k);

	if (err)
		return err;
	if (k > r->len - r->pos)
		return bad(r, "%s: %llu bytes, but the file ends first", name,
		           (unsigned long long)k);
	*p = r->text + r->pos;
	*n = (size_t)k;
	r->pos += (size_t)k;
	for (size_t i = 0; i < *n; i++)
		r->line += (*p)[i] == '\n';
	return 0;
}

/* The header lines both formats share, after the version line. */
static int header(struct rd *r, char *log_key, size_t cap)
{
	struct pl_evidence *o = r->out;
	char when[PL_TIMESTAMP_LEN + 2];
	int err = text_field(r, "exchange", o->exchange, sizeof(o->exchange));

	if (!err)
		err = text_field(r, "log-key", log_key, cap);
	if (!err)
		err = text_field(r, "detected", when, sizeof(when));
	if (!err && pl_timestamp_parse(&o->detected, when, strlen(when)) != 0)
		err = bad(r, "detected: not a UTC time");
	if (!err)
		err = text_field(r, "reason", o->reason, sizeof(o->reason));
	return err;
}

static int end(struct rd *r)
{
	return r->pos == r->len ? 0 : bad(r, "more after the end of the evidence");
}

/* ---- Two histories (docs/split-view.md §3) ---- */

struct split_cp {
	uint64_t size;
	uint8_t root[PL_HASH_BYTES];
	const char *note;
	size_t note_len;
};

static int split_checkpoint(struct rd *r, const char *label, struct split_cp *k)
{
	const char *v;
	size_t n;
	char src[PL_EVIDENCE_WHY_MAX];
	int err = exact(r, "");

	if (!err)
		err = exact(r, label);
	if (!err)
		err = number_field(r, "size", &k->size);
	if (!err)
		err = field(r, "root", &v, &n);
	if (!err && pl_b64_decode_exact(k->root, PL_HASH_BYTES, v, n) != 0)
		err = bad(r, "root: not the base64 of a hash");
	if (!err)
		err = text_field(r, "source", src, sizeof(src));
	if (!err)
		err = bytes_part(r, "bytes", &k->note, &k->note_len);
	/* The writer ends a note that does not end in a newline with one. */
	if (!err && (k->note_len == 0 || k->note[k->note_len - 1] != '\n')) {
		if (r->pos == r->len || r->text[r->pos] != '\n')
			err = bad(r, "%s: no newline after the note", label);
		else
			r->pos++;
	}
	return err;
}

/* The consistency part: its kind, the sizes, the proof's hashes (malloc'd). */
struct split_proof {
	enum { PROOF_NONE, PROOF_REFUSED, PROOF_FAILS } kind;
	uint64_t old, new_;
	uint8_t (*hashes)[PL_HASH_BYTES];
	size_t n;
	char error[PL_EVIDENCE_WHY_MAX - 128];
};

#define NONE "consistency none: the sizes are equal"

static int split_consistency(struct rd *r, struct split_proof *p)
{
	const char *l, *sp;
	size_t ln;
	uint64_t n;
	int err = exact(r, "");

	if (err)
		return err;
	r->line++;
	if (!pl__next_line(r->text, r->len, &r->pos, &l, &ln))
		return bad(r, "expected \"consistency ...\"");
	if (ln == strlen(NONE) && memcmp(l, NONE, ln) == 0) {
		p->kind = PROOF_NONE;
		return end(r);
	}
	/* "consistency <old> <new> refused" or "... does-not-verify" */
	if (!pl__has_prefix(l, ln, "consistency "))
		return bad(r, "expected \"consistency ...\"");
	l += 12;
	ln -= 12;
	sp = memchr(l, ' ', ln);
	if (!sp || pl_parse_u64(&p->old, l, (size_t)(sp - l), INT64_MAX) != 0)
		return bad(r, "consistency: not two sizes");
	ln -= (size_t)(sp - l) + 1;
	l = sp + 1;
	sp = memchr(l, ' ', ln);
	if (!sp || pl_parse_u64(&p->new_, l, (size_t)(sp - l), INT64_MAX) != 0)
		return bad(r, "consistency: not two sizes");
	ln -= (size_t)(sp - l) + 1;
	l = sp + 1;
	if (ln == 7 && memcmp(l, "refused", 7) == 0) {
		p->kind = PROOF_REFUSED;
		err = text_field(r, "error", p->error, sizeof(p->error));
		return err ? err : end(r);
	}
	if (ln != 15 || memcmp(l, "does-not-verify", 15) != 0)
		return bad(r, "consistency: neither refused nor does-not-verify");
	p->kind = PROOF_FAILS;
	err = number_field(r, "hashes", &n);
	if (!err && n > PL_PROOF_MAX_HASHES)
		err = bad(r, "hashes: more than %u", PL_PROOF_MAX_HASHES);
	if (!err && n > 0 && !(p->hashes = calloc((size_t)n, PL_HASH_BYTES)))
		err = PL_ENOMEM;
	for (size_t i = 0; !err && i < n; i++) {
		r->line++;
		if (!pl__next_line(r->text, r->len, &r->pos, &l, &ln) ||
		    pl_b64_decode_exact(p->hashes[i], PL_HASH_BYTES, l, ln) != 0)
			err = bad(r, "hash %zu: not the base64 of a hash", i + 1);
	}
	p->n = (size_t)n;
	return err ? err : end(r);
}

/* Whether the log key signed k's note, and the note says what its lines say. */
static const char *split_signed(const struct split_cp *k, const struct pl_vkey *key)
{
	struct pl_checkpoint cp;

	if (k->note_len == 0)
		return "was not kept";
	if (pl_checkpoint_open(&cp, NULL, k->note, k->note_len, key->name, key, 1) != 0)
		return "is not a checkpoint signed by the log key";
	if (cp.size != k->size || memcmp(cp.root, k->root, PL_HASH_BYTES) != 0)
		return "says another size or root than the file's lines";
	return NULL;
}

static int split_view(struct rd *r, const struct pl_vkey *key)
{
	struct split_cp seen, given;
	struct split_proof p;
	const char *why;
	const struct split_cp *lo, *hi;
	int err = split_checkpoint(r, "checkpoint seen-before", &seen);

	memset(&p, 0, sizeof(p));
	if (!err)
		err = split_checkpoint(r, "checkpoint given-now", &given);
	if (!err)
		err = split_consistency(r, &p);
	if (err)
		goto out;
	if ((why = split_signed(&seen, key)) != NULL) {
		err = judged(r->out, PL_EVIDENCE_NOT_PROVEN, "the checkpoint seen before %s", why);
		goto out;
	}
	if ((why = split_signed(&given, key)) != NULL) {
		err = judged(r->out, PL_EVIDENCE_NOT_PROVEN, "the checkpoint given now %s", why);
		goto out;
	}
	if (seen.size == given.size) {
		err = memcmp(seen.root, given.root, PL_HASH_BYTES) != 0
		              ? judged(r->out, PL_EVIDENCE_PROVEN,
		                       "the log key %s signed two different roots for size %llu",
		                       key->name, (unsigned long long)seen.size)
		              : judged(r->out, PL_EVIDENCE_NOT_PROVEN,
		                       "both checkpoints state the same size and root");
		goto out;
	}
	lo = seen.size < given.size ? &seen : &given;
	hi = lo == &seen ? &given : &seen;
	if (p.kind == PROOF_FAILS && (p.old != lo->size || p.new_ != hi->size)) {
		err = judged(r->out, PL_EVIDENCE_NOT_PROVEN,
		             "the consistency proof is between sizes %llu and %llu, not the "
		             "checkpoints' %llu and %llu",
		             (unsigned long long)p.old, (unsigned long long)p.new_,
		             (unsigned long long)lo->size, (unsigned long long)hi->size);
	} else if (p.kind == PROOF_FAILS &&
	           pl_tlog_verify_consistency(lo->size, hi->size, lo->root, hi->root,
	                                      (const uint8_t(*)[PL_HASH_BYTES])p.hashes,
	                                      p.n) == 0) {
		err = judged(r->out, PL_EVIDENCE_NOT_PROVEN,
		             "the consistency proof in the file verifies: the two checkpoints are "
		             "one history");
	} else if (p.kind == PROOF_NONE) {
		err = judged(r->out, PL_EVIDENCE_NOT_PROVEN,
		             "the checkpoints' sizes differ (%llu and %llu) but the file says they "
		             "are equal",
		             (unsigned long long)lo->size, (unsigned long long)hi->size);
	} else {
		err = judged(r->out, PL_EVIDENCE_UNSETTLED,
		             "the log key %s signed checkpoints of sizes %llu and %llu and the "
		             "exchange %s; a consistency proof between them from any copy of the "
		             "log settles it (none can verify if these are two histories)",
		             key->name, (unsigned long long)lo->size, (unsigned long long)hi->size,
		             p.kind == PROOF_REFUSED ? "refused to prove them one history"
		                                     : "gave a proof that does not verify");
	}
out:
	free(p.hashes);
	return err;
}

/* ---- An index that omits or invents a record (docs/index.md §7.1) ---- */

/* The header's names for the parts, in their order. */
enum { PART_INDEX_RECORD, PART_INDEX_INCLUSION, PART_TINDEX, PART_RECORD, PART_INCLUSION, PARTS };
static const char *const part_names[PARTS] = {"index-record bytes", "index-inclusion bytes",
                                              "tindex-proof bytes", "record bytes",
                                              "record-inclusion bytes"};

struct index_lie {
	uint8_t key[PL_HASH_BYTES], id[PL_HASH_BYTES];
	uint64_t index, index_at;
	const char *part[PARTS];
	size_t len[PARTS];
};

static int hex_field(struct rd *r, const char *name, const char *v, size_t n, uint8_t *out)
{
	return pl_hex_decode_exact(out, PL_HASH_BYTES, v, n) == 0
	               ? 0
	               : bad(r, "%s: not 64 hex digits", name);
}

static int index_lie_read(struct rd *r, struct index_lie *e)
{
	const char *v, *sp;
	size_t n;
	int err = field(r, "key", &v, &n);

	if (!err)
		err = hex_field(r, "key", v, n, e->key);
	if (!err)
		err = field(r, "record", &v, &n);
	if (!err && (!(sp = memchr(v, ' ', n)) ||
	             pl_parse_u64(&e->index, v, (size_t)(sp - v), INT64_MAX) != 0))
		err = bad(r, "record: not a log index and an id");
	if (!err)
		err = hex_field(r, "record", sp + 1, n - (size_t)(sp + 1 - v), e->id);
	if (!err)
		err = number_field(r, "index", &e->index_at);
	if (!err)
		err = exact(r, "");
	for (size_t i = 0; !err && i < PARTS; i++) {
		err = bytes_part(r, part_names[i], &e->part[i], &e->len[i]);
		if (!err)
			err = exact(r, "");
	}
	return err ? err : end(r);
}

static bool names_key(const struct pl_record *rec, const uint8_t key[static PL_HASH_BYTES])
{
	for (size_t i = 0; i < rec->nrefs && i < PL_RECORD_MAX_REFS; i++)
		if (memcmp(rec->refs[i].id, key, PL_HASH_BYTES) == 0)
			return true;
	return false;
}

/* Checks every part of e; the verdict in r->out. */
static int index_lie_judge(struct rd *r, const struct index_lie *e, const struct pl_vkey *key,
                           struct pl_record *rec)
{
	struct pl_evidence *o = r->out;
	uint8_t iid[PL_RECORD_ID_BYTES], rid[PL_RECORD_ID_BYTES];
	char hex[PL_RECORD_ID_HEX_LEN + 1], khex[PL_RECORD_ID_HEX_LEN + 1];
	struct pl_proof *p = NULL;
	struct pl_checkpoint cp, rcp;
	uint8_t root[PL_HASH_BYTES];
	enum pl_member_index_verdict v;
	int err;

	if (pl_record_open(rec, iid, NULL, e->part[PART_INDEX_RECORD], e->len[PART_INDEX_RECORD],
	                   key, 1, NULL) != 0 ||
	    rec->kind != PL_KIND_INDEX)
		return judged(o, PL_EVIDENCE_NOT_PROVEN,
		              "the index record is not an index record signed by the log key");
	memcpy(root, rec->index_root, PL_HASH_BYTES);
	err = pl_member_proof_check(e->part[PART_INDEX_INCLUSION], e->len[PART_INDEX_INCLUSION],
	                            e->part[PART_INDEX_RECORD], e->len[PART_INDEX_RECORD],
	                            e->index_at, key->name, key, &p, &cp);
	pl_proof_free(p);
	p = NULL;
	if (err)
		return judged(o, PL_EVIDENCE_NOT_PROVEN,
		              "the index record's inclusion at log index %llu does not verify: %s",
		              (unsigned long long)e->index_at, pl_strerror(err));
	if (cp.size != e->index_at + 1)
		return judged(o, PL_EVIDENCE_NOT_PROVEN,
		              "the index record does not end the checkpoint it is proven in");
	pl_record_id(rid, e->part[PART_RECORD], e->len[PART_RECORD]);
	if (memcmp(rid, e->id, PL_HASH_BYTES) != 0)
		return judged(o, PL_EVIDENCE_NOT_PROVEN, "the record's bytes do not have its id");
	if (e->index >= e->index_at)
		return judged(o, PL_EVIDENCE_NOT_PROVEN,
		              "the record is not below the index record");
	/* Its author's key is not in the file: the log's inclusion vouches for the record. */
	if (pl__record_parse_unverified(rec, e->part[PART_RECORD], e->len[PART_RECORD]) != 0 ||
	    !names_key(rec, e->key))
		return judged(o, PL_EVIDENCE_NOT_PROVEN,
		              "the record names no reference to the key of the index proof");
	err = pl_member_proof_check(e->part[PART_INCLUSION], e->len[PART_INCLUSION],
	                            e->part[PART_RECORD], e->len[PART_RECORD], e->index, key->name,
	                            key, &p, &rcp);
	pl_proof_free(p);
	if (err)
		return judged(o, PL_EVIDENCE_NOT_PROVEN,
		              "the record's inclusion at log index %llu does not verify: %s",
		              (unsigned long long)e->index, pl_strerror(err));
	v = pl_member_index_judge(e->part[PART_TINDEX], e->len[PART_TINDEX], e->key, root, e->index,
	                          e->id);
	pl_record_id_format(hex, e->id);
	pl_record_id_format(khex, e->key);
	if (v == PL_MEMBER_INDEX_LISTED)
		return judged(o, PL_EVIDENCE_NOT_PROVEN,
		              "the index proof lists record %.16s at log index %llu", hex,
		              (unsigned long long)e->index);
	if (v == PL_MEMBER_INDEX_UNPROVEN)
		return judged(o, PL_EVIDENCE_NOT_PROVEN,
		              "the index proof does not lead to the index record's root");
	return judged(o, PL_EVIDENCE_PROVEN,
	              "the index the log key %s signed at checkpoint %llu %s record %.16s, which "
	              "names %.16s and which the log holds at index %llu (proven at checkpoint "
	              "%llu)",
	              key->name, (unsigned long long)cp.size,
	              v == PL_MEMBER_INDEX_OMITTED ? "leaves out" : "lists something else for", hex,
	              khex, (unsigned long long)e->index, (unsigned long long)rcp.size);
}

static int index_lie(struct rd *r, const struct pl_vkey *key)
{
	struct pl_record *rec = NULL;
	struct index_lie e;
	int err;

	memset(&e, 0, sizeof(e));
	err = index_lie_read(r, &e);
	if (!err && strcmp(r->out->reason, "omission") != 0 &&
	    strcmp(r->out->reason, "invention") != 0)
		err = bad(r, "reason: neither omission nor invention");
	if (!err && !(rec = malloc(sizeof(*rec))))
		err = PL_ENOMEM;
	if (!err)
		err = index_lie_judge(r, &e, key, rec);
	free(rec);
	return err;
}

/* ---- The check ---- */

int pl_evidence_check(struct pl_evidence *out, const char *text, size_t len,
                      const struct pl_vkey *log_key)
{
	char key_text[PL_CLIENT_REASON_MAX];
	struct pl_vkey own;
	struct rd r;
	int err = pl__text_bounds(out, text, len, PL_EVIDENCE_MAX_BYTES);

	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.text = text;
	r.len = len;
	r.out = out;
	r.line = 1;
	if (pl__next_line_is(text, len, &r.pos, PL_CLIENT_SPLIT_VERSION)) {
		out->kind = PL_EVIDENCE_SPLIT_VIEW;
	} else {
		r.pos = 0;
		if (!pl__next_line_is(text, len, &r.pos, PL_MEMBER_INDEX_LIE_VERSION))
			return bad(&r, "not a Parley evidence file of a known version");
		out->kind = PL_EVIDENCE_INDEX_LIE;
	}
	err = header(&r, key_text, sizeof(key_text));
	if (!err && !log_key) {
		r.line = 3;
		if (pl_vkey_parse(&own, key_text, strlen(key_text)) != 0)
			return bad(&r, "log-key: the file names no verifier key; give the log key");
		log_key = &own;
	}
	out->key_pinned = log_key != &own;
	if (!err)
		err = out->kind == PL_EVIDENCE_SPLIT_VIEW ? split_view(&r, log_key)
		                                          : index_lie(&r, log_key);
	return err;
}

const char *pl_evidence_kind_name(enum pl_evidence_kind k)
{
	return k == PL_EVIDENCE_SPLIT_VIEW ? "two histories" : "index lie";
}
