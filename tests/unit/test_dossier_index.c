/*
 * Unit tests of version 2 dossiers: a small log in memory whose every batch ends with an
 * `index` record over a thread index (a tindex memstore), the S1(b) thread on it (rok-mnd's
 * proposal to kpa via unc, received by unc, never conveyed, expired, and a statement citing
 * the expiry), exported through an in-memory pl_dossier_source and verified to exact
 * verdict lines; then a table of index-specific tamperings and malformed files, each
 * refused with its code and reason, and an exchange that lies in its index.
 *
 * `test_dossier_index --write-seed FILE` writes the honest dossier (the fuzz seed
 * fuzz/corpus/dossier/s1b-v2.json).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include <parley/box.h>
#include <parley/checkpoint.h>
#include <parley/dossier.h>
#include <parley/encoding.h>
#include <parley/note.h>
#include <parley/record.h>
#include <parley/tiles.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

#include "testutil.h"

#define ORIGIN  "hotline.example"
#define LOG_MAX 64
#define NONE    SIZE_MAX

enum { EX, ROK, UNC, KPA, NACTORS };

static const char *const party_of[NACTORS] = {"exchange", "rok-mnd", "unc", "kpa"};
static struct pl_skey skeys[NACTORS];
static struct pl_vkey vkeys[NACTORS];

static int setup_keys(void **state)
{
	char name[PL_KEY_NAME_MAX + 1];

	(void)state;
	for (int i = 0; i < NACTORS; i++) {
		if (pl_record_key_name(name, ORIGIN, party_of[i]) != 0)
			return -1;
		pl_test_fixed_key(&skeys[i], &vkeys[i], name, PL_SIGTYPE_ED25519);
	}
	return 0;
}

static int teardown_keys(void **state)
{
	(void)state;
	for (int i = 0; i < NACTORS; i++)
		pl_skey_clear(&skeys[i]);
	return 0;
}

/* ---- A log whose batches end with an index record ------------------------------------------ */

/* How the exchange keeps its index: honestly, or leaving out or inventing an entry. */
struct lies {
	size_t omit;       /* the refs of this record are not entered (NONE: none) */
	size_t invent_key; /* this record is listed under invent_key ... */
	size_t invent_rec; /* ... though it does not name it (NONE: none) */
};

struct lg {
	struct pl_buf rec[LOG_MAX];
	uint8_t id[LOG_MAX][PL_RECORD_ID_BYTES];
	struct pl_record *parsed[LOG_MAX];
	size_t n;
	uint64_t seq[NACTORS];
	uint8_t head[NACTORS][PL_RECORD_ID_BYTES];
	struct pl_tlog_memstore *ms;
	struct lies lie;
	int64_t last_time;
	/* The subject and the records of its thread. */
	size_t send, available, receive, message, accept, expire, statement;
};

static struct pl_record *rnew(enum pl_record_kind kind, int actor, const char *time)
{
	struct pl_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->kind = kind;
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", party_of[actor]);
	r->time = time ? pl_test_time(time) : 0;
	return r;
}

/* Signs r as actor's next record and logs it; returns its index. r is kept in l->parsed. */
static size_t add(struct lg *l, struct pl_record *r, int actor)
{
	struct pl_skey keys[2];
	size_t nkeys = 1, i = l->n;
	const char *why = NULL;
	uint8_t leaf[1][PL_HASH_BYTES];

	assert_true(i < LOG_MAX);
	r->seq = ++l->seq[actor];
	if (r->seq > 1) {
		r->has |= PL_RECORD_HAS_PREV;
		memcpy(r->prev, l->head[actor], PL_RECORD_ID_BYTES);
	}
	if (r->time == 0)
		r->time = l->last_time;
	l->last_time = r->time;
	keys[0] = skeys[actor];
	for (int k = 1; r->kind == PL_KIND_REGISTER && k < NACTORS; k++) {
		if (strcmp(r->party, party_of[k]) == 0)
			keys[nkeys++] = skeys[k];
	}
	pl_buf_init(&l->rec[i], PL_RECORD_MAX_BYTES);
	assert_int_equal(pl_record_sign(&l->rec[i], r, keys, nkeys, &why), 0);
	pl_record_id(l->id[i], l->rec[i].data, l->rec[i].len);
	memcpy(l->head[actor], l->id[i], PL_RECORD_ID_BYTES);
	pl_tlog_leaf_hash(leaf[0], l->rec[i].data, l->rec[i].len);
	assert_int_equal(pl_tlog_memstore_append(l->ms, (const uint8_t(*)[PL_HASH_BYTES])leaf, 1),
	                 0);
	l->parsed[i] = r;
	l->n++;
	return i;
}

/* The references of the log's records below below, as the exchange (with its lies) indexes them. */
static size_t map_refs(const struct lg *l, uint64_t below, struct pl_tindex_ref *out)
{
	size_t n = 0;

	for (size_t i = 0; i < below; i++) {
		const struct pl_record *r = l->parsed[i];
		for (size_t k = 0; k < r->nrefs && i != l->lie.omit; k++) {
			memcpy(out[n].key, r->refs[k].id, PL_HASH_BYTES);
			memcpy(out[n].id, l->id[i], PL_HASH_BYTES);
			out[n++].index = i;
		}
		if (i == l->lie.invent_rec) {
			memcpy(out[n].key, l->id[l->lie.invent_key], PL_HASH_BYTES);
			memcpy(out[n].id, l->id[i], PL_HASH_BYTES);
			out[n++].index = i;
		}
	}
	return n;
}

/* The exchange's index over the records below below: a tree in a fresh memstore. */
static struct pl_tindex *index_over(const struct lg *l, uint64_t below,
                                    struct pl_tindex_memstore **ms)
{
	struct pl_tindex_ref refs[LOG_MAX * PL_RECORD_MAX_REFS];
	struct pl_tindex_store st;
	struct pl_tindex *t = NULL;
	size_t n = map_refs(l, below, refs);

	assert_int_equal(pl_tindex_memstore_new(ms), 0);
	st = pl_tindex_memstore_store(*ms);
	assert_int_equal(pl_tindex_open(&t, &st), 0);
	if (n)
		assert_int_equal(pl_tindex_update(t, refs, n), 0);
	return t;
}

/* Ends a batch: the index record over every record before it. */
static size_t seal(struct lg *l)
{
	struct pl_tindex_memstore *ms = NULL;
	struct pl_tindex *t = index_over(l, l->n, &ms);
	struct pl_record *r = rnew(PL_KIND_INDEX, EX, NULL);

	r->has |= PL_RECORD_HAS_ROOT;
	pl_tindex_root(t, r->index_root);
	pl_tindex_free(t);
	pl_tindex_memstore_free(ms);
	return add(l, r, EX);
}

static size_t add_register(struct lg *l, int party, const char *time)
{
	struct pl_record *r = rnew(PL_KIND_REGISTER, EX, time);
	char xname[PL_KEY_NAME_MAX + 16];
	uint8_t secret[32];
	struct pl_box_keypair kp;

	r->has |= PL_RECORD_HAS_PARTY | PL_RECORD_HAS_ENC;
	snprintf(r->party, sizeof(r->party), "%s", party_of[party]);
	r->keys[0] = vkeys[party];
	r->nkeys = 1;
	snprintf(xname, sizeof(xname), "x25519 %s", vkeys[party].name);
	pl_sha256(secret, xname, strlen(xname));
	assert_int_equal(pl_box_keypair_from_secret(&kp, secret), 0);
	snprintf(r->enc.name, sizeof(r->enc.name), "%s", vkeys[party].name);
	memcpy(r->enc.pk, kp.pk, sizeof(kp.pk));
	pl_box_keypair_clear(&kp);
	return add(l, r, EX);
}

static size_t add_ref(struct lg *l, enum pl_record_kind kind, int actor, const char *time,
                      size_t target)
{
	struct pl_record *r = rnew(kind, actor, time);

	pl_test_add_ref(r, PL_ROLE_SUBJECT, l->id[target]);
	return add(l, r, actor);
}

static size_t add_available(struct lg *l, const char *time, size_t target, int to)
{
	struct pl_record *r = rnew(PL_KIND_AVAILABLE, EX, time);

	pl_test_add_to(r, party_of[to]);
	pl_test_add_ref(r, PL_ROLE_SUBJECT, l->id[target]);
	return add(l, r, EX);
}

/*
 * The log, 17 records: the registers; S1(b), rok-mnd's proposal to kpa via unc (log #4),
 * made available to unc and received by it; unc's own message to kpa, accepted (other
 * traffic); the expiry; rok-mnd's statement citing the expiry. Each batch ends with an
 * index record.
 */
static void build_log(struct lg *l, const struct lies *lie)
{
	struct pl_record *r;

	memset(l, 0, sizeof(*l));
	l->lie.omit = l->lie.invent_rec = NONE;
	if (lie)
		l->lie = *lie;
	assert_int_equal(pl_tlog_memstore_new(&l->ms), 0);
	add_register(l, ROK, "2025-11-10T09:00:00Z");
	add_register(l, UNC, "2025-11-10T09:05:00Z");
	add_register(l, KPA, "2025-11-10T09:10:00Z");
	seal(l);
	r = rnew(PL_KIND_SEND, ROK, "2025-11-17T01:00:00Z");
	pl_test_set_message(r, party_of[KPA], 1200);
	r->cls = PL_CLASS_PROPOSAL;
	pl_test_set_via(r, party_of[UNC]);
	pl_test_set_deadline(r, "2025-11-24T00:00:00Z");
	l->send = add(l, r, ROK);
	l->available = add_available(l, "2025-11-17T01:00:01Z", l->send, UNC);
	seal(l);
	l->receive = add_ref(l, PL_KIND_RECEIVE, UNC, "2025-11-17T01:00:02Z", l->send);
	r = rnew(PL_KIND_SEND, UNC, "2025-11-17T09:00:00Z");
	pl_test_set_message(r, party_of[KPA], 300);
	l->message = add(l, r, UNC);
	add_available(l, "2025-11-17T09:00:01Z", l->message, KPA);
	seal(l);
	l->accept = add_ref(l, PL_KIND_ACCEPT, KPA, "2025-11-17T10:00:00Z", l->message);
	seal(l);
	r = rnew(PL_KIND_EXPIRE, EX, "2025-11-24T00:00:01Z");
	pl_test_add_to(r, party_of[KPA]);
	pl_test_set_via(r, party_of[UNC]);
	pl_test_add_ref(r, PL_ROLE_SUBJECT, l->id[l->send]);
	l->expire = add(l, r, EX);
	seal(l);
	r = rnew(PL_KIND_STATEMENT, ROK, "2025-11-24T06:00:00Z");
	r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
	r->cls = PL_CLASS_STATEMENT;
	pl_test_add_ref(r, PL_ROLE_CITES, l->id[l->expire]);
	snprintf(r->body, 64, "unc never conveyed our proposal.\n");
	r->body_len = strlen(r->body);
	l->statement = add(l, r, ROK);
	seal(l);
}

static void free_log(struct lg *l)
{
	for (size_t i = 0; i < l->n; i++) {
		pl_buf_release(&l->rec[i]);
		free(l->parsed[i]);
	}
	pl_tlog_memstore_free(l->ms);
	memset(l, 0, sizeof(*l));
}

/* The signed checkpoint of the tree at size. */
static void checkpoint(const struct lg *l, uint64_t size, struct pl_buf *out)
{
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(l->ms);
	uint8_t root[PL_HASH_BYTES];
	struct pl_checkpoint cp;

	assert_int_equal(pl_tlog_tree_hash(&rd, size, root), 0);
	assert_int_equal(pl_checkpoint_set(&cp, ORIGIN, size, root), 0);
	pl_buf_init(out, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_checkpoint_sign(out, &cp, &skeys[EX]), 0);
}

/* The text of the index proof of record key under the index record at size - 1. */
static void index_proof(const struct lg *l, size_t key, uint64_t size, struct pl_buf *out)
{
	struct pl_tindex_ref refs[LOG_MAX * PL_RECORD_MAX_REFS];
	struct pl_tindex_entry ents[LOG_MAX];
	struct pl_tindex_memstore *ms = NULL;
	struct pl_tindex *t = index_over(l, size - 1, &ms);
	struct pl_tindex_proof *p = NULL;
	size_t n = map_refs(l, size - 1, refs), ne = 0;

	for (size_t i = 0; i < n; i++) {
		if (memcmp(refs[i].key, l->id[key], PL_HASH_BYTES) != 0)
			continue;
		ents[ne].index = refs[i].index;
		memcpy(ents[ne++].id, refs[i].id, PL_HASH_BYTES);
	}
	assert_int_equal(pl_tindex_prove(t, l->id[key], ents, ne, &p), 0);
	pl_buf_init(out, PL_TINDEX_PROOF_MAX_BYTES);
	assert_int_equal(pl_tindex_proof_format(out, p), 0);
	pl_tindex_proof_free(p);
	pl_tindex_free(t);
	pl_tindex_memstore_free(ms);
}

/* ---- The log as a pl_dossier_source ----------------------------------------------------- */

struct memsrc {
	const struct lg *l;
	uint64_t size; /* the checkpoint it serves */
	size_t nproofs;
	bool no_bundles; /* serves the index record by itself, and no entry bundle */
};

static int mem_checkpoint(void *ctx, uint64_t covering, struct pl_buf *note)
{
	struct memsrc *m = ctx;
	struct pl_buf cp;
	int ret;

	(void)covering;
	checkpoint(m->l, m->size, &cp);
	ret = pl_buf_add(note, cp.data, cp.len);
	pl_buf_release(&cp);
	return ret;
}

static int mem_tile(void *ctx, const struct pl_tile *t, uint8_t *out)
{
	struct memsrc *m = ctx;

	return pl_test_memstore_tile(m->l->ms, t, out);
}

static int mem_bundle(void *ctx, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct memsrc *m = ctx;

	if (m->no_bundles)
		return PL_ENOTFOUND;
	return pl_test_bundle(m->l->rec, m->l->n, n, width, out);
}

static int mem_index_record(void *ctx, uint64_t size, struct pl_buf *out, uint64_t *index)
{
	struct memsrc *m = ctx;

	*index = size - 1;
	return pl_buf_add(out, m->l->rec[size - 1].data, m->l->rec[size - 1].len);
}

static int mem_record(void *ctx, const uint8_t id[PL_RECORD_ID_BYTES], struct pl_buf *out,
                      uint64_t *index)
{
	struct memsrc *m = ctx;

	for (size_t i = 0; i < m->l->n; i++) {
		if (memcmp(m->l->id[i], id, PL_RECORD_ID_BYTES) == 0) {
			*index = i;
			return pl_buf_add(out, m->l->rec[i].data, m->l->rec[i].len);
		}
	}
	return PL_ENOTFOUND;
}

static int mem_register(void *ctx, const char *key_name, const uint8_t key_id[PL_KEYID_BYTES],
                        struct pl_buf *out, uint64_t *index)
{
	struct memsrc *m = ctx;

	for (size_t i = 0; i < m->l->n; i++) {
		const struct pl_record *r = m->l->parsed[i];
		if (r->kind == PL_KIND_REGISTER && strcmp(r->keys[0].name, key_name) == 0 &&
		    memcmp(r->keys[0].id, key_id, PL_KEYID_BYTES) == 0) {
			*index = i;
			return pl_buf_add(out, m->l->rec[i].data, m->l->rec[i].len);
		}
	}
	return PL_ENOTFOUND;
}

static int mem_index_proof(void *ctx, const uint8_t key[32], uint64_t size, struct pl_buf *out)
{
	struct memsrc *m = ctx;
	struct pl_buf b;
	int ret;

	m->nproofs++;
	for (size_t i = 0; i < m->l->n; i++) {
		if (memcmp(m->l->id[i], key, PL_RECORD_ID_BYTES) != 0)
			continue;
		index_proof(m->l, i, size, &b);
		ret = pl_buf_add(out, b.data, b.len);
		pl_buf_release(&b);
		return ret;
	}
	return PL_ENOTFOUND;
}

static void memsrc_init(struct pl_dossier_source *src, struct memsrc *m, const struct lg *l,
                        uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->l = l;
	m->size = size;
	memset(src, 0, sizeof(*src));
	src->ctx = m;
	src->checkpoint = mem_checkpoint;
	src->tile = mem_tile;
	src->bundle = mem_bundle;
	src->record = mem_record;
	src->register_of = mem_register;
	src->index_proof = mem_index_proof;
}

/*
 * Exports the dossier of the send at the checkpoint of size, with a source that serves the
 * index record by itself and no entry bundle when no_bundles; returns the export's code.
 */
static int export_from(const struct lg *l, uint64_t size, bool no_bundles, struct pl_buf *out,
                       struct pl_dossier_report **rep, struct pl_buf *why)
{
	struct pl_dossier_source src;
	struct memsrc m;
	struct pl_dossier_export *x = NULL;
	int ret;

	memsrc_init(&src, &m, l, size);
	if (no_bundles) {
		m.no_bundles = true;
		src.index_record = mem_index_record;
	}
	pl_buf_init(out, PL_DOSSIER_MAX_BYTES);
	ret = pl_dossier_export_collect(&x, &src, &vkeys[EX], l->id[l->send], l->send, why);
	if (ret == 0)
		ret = pl_dossier_export_finish(x, NULL, 0, out, rep, why);
	pl_dossier_export_free(x);
	return ret;
}

static int export(const struct lg *l, uint64_t size, struct pl_buf *out,
                  struct pl_dossier_report **rep, struct pl_buf *why)
{
	return export_from(l, size, false, out, rep, why);
}

static int verify(const struct pl_buf *b, struct pl_dossier_report **rep, struct pl_buf *why)
{
	return pl_dossier_verify(rep, b->data, b->len, &vkeys[EX], NULL, 0, 0, why);
}

static const char *short_id(const struct lg *l, size_t i)
{
	static char buf[4][16];
	static int k;
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	k = (k + 1) % 4;
	pl_record_id_format(hex, l->id[i]);
	snprintf(buf[k], sizeof(buf[k]), "%.8s\xe2\x80\xa6", hex);
	return buf[k];
}

static bool has_verdict(const struct pl_dossier_report *rep, const char *want)
{
	for (size_t i = 0; i < rep->nverdicts; i++) {
		if (strcmp(rep->verdicts[i].text, want) == 0)
			return true;
	}
	print_error("no verdict \"%s\" among:\n", want);
	for (size_t i = 0; i < rep->nverdicts; i++)
		print_error("  %s\n", rep->verdicts[i].text);
	return false;
}

/* ---- The honest export ------------------------------------------------------------------- */

static void test_export_v2(void **state)
{
	struct pl_dossier_report *rep = NULL, *rep2 = NULL;
	struct pl_buf out, why, text;
	struct lg l;
	char want[512];
	json_t *root;

	(void)state;
	build_log(&l, NULL);
	assert_int_equal(l.n, 17);
	pl_buf_init(&why, 4096);
	assert_int_equal(export(&l, l.n, &out, &rep, &why), 0);
	assert_int_equal(why.len, 0);
	assert_int_equal(verify(&out, &rep2, &why), 0);
	assert_string_equal(rep2->version, PL_DOSSIER_VERSION_V2);
	assert_true(rep2->indexed);
	/* The thread: the send, available, receive, expiry and the statement citing it. */
	assert_int_equal(rep2->nevents, 5);
	assert_int_equal(rep2->events[0].index, l.send);
	assert_int_equal(rep2->events[4].index, l.statement);
	assert_true(has_verdict(rep2, "NOT conveyed: the thread index at checkpoint 17 lists 3 "
	                              "records that refer to it (available to unc, received by "
	                              "unc, expired), none a convey or decline"));
	assert_true(has_verdict(rep2, "NOT received by kpa: no receive by kpa among the 3 "
	                              "records that refer to it, up to checkpoint 17"));
	assert_true(has_verdict(rep2, "NOT accepted or refused by kpa: the thread index at "
	                              "checkpoint 17 lists 3 records that refer to it (available "
	                              "to unc, received by unc, expired), none an accept or "
	                              "refuse by kpa"));
	assert_true(has_verdict(rep2, "received by unc at 2025-11-17T01:00:02Z (log #7)"));
	snprintf(want, sizeof(want), "statement by rok-mnd cites expire %s (log #%zu)",
	         short_id(&l, l.expire), l.statement);
	assert_true(has_verdict(rep2, want));
	assert_true(has_verdict(rep2, "thread index: the index record at log #16, the last "
	                              "entry of checkpoint 17, commits to every record below "
	                              "it; its proofs list every record that refers to the 5 "
	                              "records of the thread, and all are here"));
	/* Nothing unrelated: unc's message to kpa, its availability and kpa's accept are out. */
	root = json_loadb(out.data, out.len, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_array_size(json_object_get(root, "thread")), 5);
	for (size_t i = l.message; i <= l.accept; i++) {
		char hex[PL_RECORD_ID_HEX_LEN + 1];
		pl_record_id_format(hex, l.id[i]);
		assert_null(strstr(out.data, hex));
	}
	/* Registers of the keys that sign the thread: rok-mnd and unc, not kpa. */
	assert_int_equal(json_array_size(json_object_get(root, "proven")), 2);
	json_decref(root);
	pl_buf_init(&text, 1 << 16);
	assert_int_equal(pl_dossier_render_text(rep2, &text), 0);
	assert_non_null(strstr(text.data, "Parley dossier (parley/dossier/v2)"));
	pl_buf_reset(&text);
	assert_int_equal(pl_dossier_render_json(rep2, &text), 0);
	assert_non_null(strstr(text.data, "\"version\": \"parley/dossier/v2\""));
	assert_non_null(strstr(text.data, "\"index_root\": \""));
	pl_buf_reset(&text);
	assert_int_equal(pl_dossier_render_html(rep2, &text), 0);
	assert_non_null(strstr(text.data, "<dt>Thread index</dt>"));
	assert_null(strstr(text.data, "<dt>Window</dt>"));
	pl_buf_release(&text);
	pl_dossier_report_free(rep);
	pl_dossier_report_free(rep2);
	pl_buf_release(&out);
	pl_buf_release(&why);
	free_log(&l);
}

/* A source that serves the index record by itself needs no entry bundle: the same file. */
static void test_export_no_bundles(void **state)
{
	struct pl_buf a, b, why;
	struct lg l;

	(void)state;
	build_log(&l, NULL);
	pl_buf_init(&why, 4096);
	assert_int_equal(export_from(&l, l.n, false, &a, NULL, &why), 0);
	assert_int_equal(export_from(&l, l.n, true, &b, NULL, &why), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	pl_buf_release(&a);
	pl_buf_release(&b);
	/* The record it serves is checked: an altered one is refused. */
	l.rec[l.n - 1].data[l.rec[l.n - 1].len - 3] ^= 1;
	assert_int_equal(export_from(&l, l.n, true, &b, NULL, &why), PL_EPROOF);
	assert_non_null(strstr(why.data, "not an index record"));
	pl_buf_release(&b);
	pl_buf_release(&why);
	free_log(&l);
}

/* An earlier checkpoint: the thread as it stood then; a checkpoint that is not an index's. */
static void test_export_at(void **state)
{
	struct pl_dossier_report *rep = NULL;
	struct pl_buf out, why;
	struct lg l;

	(void)state;
	build_log(&l, NULL);
	pl_buf_init(&why, 4096);
	/* Checkpoint 11 ends with the index record at #10: available and receive, no expiry. */
	assert_int_equal(export(&l, 11, &out, &rep, &why), 0);
	assert_int_equal(rep->nevents, 3);
	assert_true(has_verdict(rep, "NOT conveyed: the thread index at checkpoint 11 lists 2 "
	                             "records that refer to it (available to unc, received by "
	                             "unc), none a convey or decline"));
	pl_dossier_report_free(rep);
	rep = NULL;
	pl_buf_release(&out);
	/* Checkpoint 16 ends with the statement: no index record commits to it. */
	assert_int_equal(export(&l, 16, &out, &rep, &why), PL_EPROOF);
	assert_null(rep);
	assert_non_null(strstr(why.data, "checkpoint 16: its last entry (log #15) is a statement, "
	                                 "not an index record"));
	pl_buf_release(&out);
	pl_buf_release(&why);
	free_log(&l);
}

/* ---- A dossier put together by hand, for the tamperings ---------------------------------- */

/* The JSON entry of record i: with its inclusion proof at size and, for a thread record,
 * the index proof of the map at tsize. */
static json_t *entry(const struct lg *l, size_t i, uint64_t size, uint64_t tsize, bool thread)
{
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(l->ms);
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	size_t nproof = 0;
	json_t *o = json_object(), *arr = json_array();

	assert_int_equal(pl_tlog_prove_inclusion(&rd, size, i, proof, &nproof), 0);
	for (size_t k = 0; k < nproof; k++) {
		char b64[PL_HASH_B64_LEN + 1];
		pl_b64_encode(b64, proof[k], PL_HASH_BYTES);
		json_array_append_new(arr, json_string(b64));
	}
	json_object_set_new(o, "index", json_integer((json_int_t)i));
	json_object_set_new(o, "record", json_stringn(l->rec[i].data, l->rec[i].len));
	json_object_set_new(o, "proof", arr);
	if (thread) {
		struct pl_buf b;
		index_proof(l, i, tsize, &b);
		json_object_set_new(o, "tindex", json_stringn(b.data, b.len));
		pl_buf_release(&b);
	}
	return o;
}

/* Inserts e into the array at its log order. */
static void insert_ordered(json_t *arr, json_t *e)
{
	json_int_t at = json_integer_value(json_object_get(e, "index"));
	size_t k = 0;

	while (k < json_array_size(arr) &&
	       json_integer_value(json_object_get(json_array_get(arr, k), "index")) < at)
		k++;
	json_array_insert_new(arr, k, e);
}

/* Drops the array element whose index is at. */
static void drop_index(json_t *arr, size_t at)
{
	for (size_t k = 0; k < json_array_size(arr); k++) {
		if ((size_t)json_integer_value(json_object_get(json_array_get(arr, k), "index")) ==
		    at) {
			json_array_remove(arr, k);
			return;
		}
	}
	fail_msg("no entry at log #%zu", at);
}

static json_t *thread_entry_at(json_t *root, size_t at)
{
	json_t *arr = json_object_get(root, "thread");

	for (size_t k = 0; k < json_array_size(arr); k++) {
		json_t *e = json_array_get(arr, k);
		if ((size_t)json_integer_value(json_object_get(e, "index")) == at)
			return e;
	}
	fail_msg("no thread entry at log #%zu", at);
	return NULL;
}

/* Rewrites one thread entry's index proof text: drops its first entry line, or adds one. */
static void edit_tindex(json_t *root, size_t at, bool drop, const struct lg *l)
{
	json_t *e = thread_entry_at(root, at);
	const char *t = json_string_value(json_object_get(e, "tindex"));
	char buf[8192], line[128], hex[PL_RECORD_ID_HEX_LEN + 1];
	const char *p = strstr(t, "\nentry ");

	assert_non_null(p);
	if (!drop) {
		/* Where the invented entry sorts: before the expiry's. */
		snprintf(line, sizeof(line), "\nentry %zu ", l->expire);
		p = strstr(t, line);
		assert_non_null(p);
	}
	if (drop) {
		const char *end = strchr(p + 1, '\n');
		snprintf(buf, sizeof(buf), "%.*s%s", (int)(p - t), t, end);
	} else {
		pl_record_id_format(hex, l->id[l->message]);
		snprintf(line, sizeof(line), "\nentry %zu %s", l->message, hex);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - t), t, line, p);
	}
	json_object_set_new(e, "tindex", json_string(buf));
}

/* ---- The tamperings ------------------------------------------------------------------------ */

static struct lg *tl; /* the honest log the tamperings start from */

/* A stale index: the index record of an earlier batch, with its proof in this tree. */
static void t_stale_index(json_t *root)
{
	json_object_set_new(root, "index", entry(tl, 14, tl->n, 0, false));
}

/* Stale proofs: every thread record's index proof under the root of an earlier index record. */
static void t_stale_proofs(json_t *root)
{
	json_t *arr = json_object_get(root, "thread");

	for (size_t k = 0; k < json_array_size(arr); k++) {
		json_t *e = json_array_get(arr, k);
		size_t at = (size_t)json_integer_value(json_object_get(e, "index"));
		struct pl_buf b;
		index_proof(tl, at, 15, &b);
		json_object_set_new(e, "tindex", json_stringn(b.data, b.len));
		pl_buf_release(&b);
	}
}

/* An index from another checkpoint: the checkpoint of size 15 beside the index of size 17. */
static void t_other_checkpoint(json_t *root)
{
	struct pl_buf cp;

	checkpoint(tl, 15, &cp);
	json_object_set_new(root, "checkpoint", json_stringn(cp.data, cp.len));
	pl_buf_release(&cp);
}

/* A proof that omits an entry: the send's proof without its first entry line. */
static void t_proof_omits(json_t *root)
{
	edit_tindex(root, tl->send, true, tl);
}

/* An invented entry: unc's message listed under the send, in the proof's text. */
static void t_proof_invents(json_t *root)
{
	edit_tindex(root, tl->send, false, tl);
}

/* A key left out: the receive, listed under the send, is not in the thread. */
static void t_drop_thread_record(json_t *root)
{
	drop_index(json_object_get(root, "thread"), tl->receive);
}

/* A thread record without its index proof at all. */
static void t_drop_tindex(json_t *root)
{
	json_object_del(thread_entry_at(root, tl->expire), "tindex");
}

/* A record that refers to the thread, moved out of it (among the proven records). */
static void t_thread_to_proven(json_t *root)
{
	drop_index(json_object_get(root, "thread"), tl->statement);
	insert_ordered(json_object_get(root, "proven"), entry(tl, tl->statement, tl->n, 0, false));
}

/* An unrelated record in the thread (kpa's accept of another message), with its proofs. */
static void t_unrelated(json_t *root)
{
	insert_ordered(json_object_get(root, "thread"), entry(tl, tl->accept, tl->n, tl->n, true));
	/* kpa's register, which kpa's accept needs (log #2). */
	insert_ordered(json_object_get(root, "proven"), entry(tl, 2, tl->n, 0, false));
}

/*
 * A checkpoint whose last entry is not an index record: checkpoint 16, which ends with
 * the statement, every proof in its tree, the statement in the place of the index record.
 */
static void t_not_index(json_t *root)
{
	static const size_t thread[] = {4, 5, 7, 13}, proven[] = {0, 1};
	json_t *t = json_array(), *p = json_array();
	struct pl_buf cp;

	checkpoint(tl, 16, &cp);
	json_object_set_new(root, "checkpoint", json_stringn(cp.data, cp.len));
	pl_buf_release(&cp);
	json_object_set_new(root, "index", entry(tl, tl->statement, 16, 0, false));
	for (size_t i = 0; i < 4; i++)
		json_array_append_new(t, entry(tl, thread[i], 16, 17, true));
	for (size_t i = 0; i < 2; i++)
		json_array_append_new(p, entry(tl, proven[i], 16, 0, false));
	json_object_set_new(root, "thread", t);
	json_object_set_new(root, "proven", p);
}

/* A malformed index proof text. */
static void t_tindex_garbage(json_t *root)
{
	json_object_set_new(thread_entry_at(root, tl->send), "tindex",
	                    json_string("parley/tindex-proof/v1\nkey nope\n"));
}

/* A version 2 file that carries a version 1 window. */
static void t_window_field(json_t *root)
{
	json_object_set_new(root, "window", json_object());
}

static void t_nothing(json_t *root)
{
	(void)root;
}

/* ---- Malformed version 2 files ---- */

static void t_thread_empty(json_t *root)
{
	json_object_set_new(root, "thread", json_array());
}

static void t_thread_not_array(json_t *root)
{
	json_object_set_new(root, "thread", json_object());
}

static void t_index_not_object(json_t *root)
{
	json_object_set_new(root, "index", json_integer(16));
}

static void t_index_with_tindex(json_t *root)
{
	json_object_set_new(json_object_get(root, "index"), "tindex", json_string("x"));
}

static void t_proven_with_tindex(json_t *root)
{
	json_object_set_new(json_array_get(json_object_get(root, "proven"), 0), "tindex",
	                    json_string("x"));
}

static void t_tindex_empty(json_t *root)
{
	json_object_set_new(thread_entry_at(root, tl->send), "tindex", json_string(""));
}

static void t_tindex_huge(json_t *root)
{
	size_t n = PL_TINDEX_PROOF_MAX_BYTES + 1;
	char *big = malloc(n + 1);

	assert_non_null(big);
	memset(big, 'a', n);
	big[n] = 0;
	json_object_set_new(thread_entry_at(root, tl->send), "tindex", json_string(big));
	free(big);
}

static void t_thread_disorder(json_t *root)
{
	json_t *arr = json_object_get(root, "thread"), *second = json_array_get(arr, 1);

	json_incref(second);
	json_array_remove(arr, 1);
	json_array_insert_new(arr, 2, second);
}

static void t_thread_and_proven(json_t *root)
{
	insert_ordered(json_object_get(root, "proven"), entry(tl, tl->receive, tl->n, 0, false));
}

static void t_subject_not_first(json_t *root)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	pl_record_id_format(hex, tl->id[tl->receive]);
	json_object_set_new(root, "subject", json_string(hex));
}

struct tamper {
	const char *name;
	void (*apply)(json_t *root);
	int code;
	const char *reason; /* a part of the reason line */
};

static const struct tamper tampers[] = {
        {"nothing", t_nothing, 0, NULL},
        {"stale index", t_stale_index, PL_EPROOF, "before the index record (log #14)"},
        {"stale proofs", t_stale_proofs, PL_EPROOF,
         "its thread index proof does not lead to the root"},
        {"index from another checkpoint", t_other_checkpoint, PL_EPROOF, "log #"},
        {"proof omits an entry", t_proof_omits, PL_EPROOF,
         "its thread index proof does not lead to the root"},
        {"proof invents an entry", t_proof_invents, PL_EPROOF,
         "its thread index proof does not lead to the root"},
        {"a thread record left out", t_drop_thread_record, PL_EPROOF,
         "the dossier's thread does not hold that record"},
        {"a thread record without its index proof", t_drop_tindex, PL_EMALFORMED,
         "lacks the field \"tindex\""},
        {"a referrer moved out of the thread", t_thread_to_proven, PL_EPROOF,
         "the dossier's thread does not hold that record"},
        {"an unrelated record in the thread", t_unrelated, PL_EPROOF,
         "refers to no record of the thread"},
        {"last entry not an index record", t_not_index, PL_EPROOF,
         "index: log #15, the last entry of checkpoint 16, is a statement, not an index "
         "record"},
        {"malformed index proof", t_tindex_garbage, PL_EMALFORMED,
         "thread[0].tindex is not a thread index proof"},
        {"a window in version 2", t_window_field, PL_EMALFORMED, "unknown field"},
        {"an empty thread", t_thread_empty, PL_EMALFORMED, "the thread is empty"},
        {"a thread that is not an array", t_thread_not_array, PL_EMALFORMED,
         "thread is not an array"},
        {"an index that is not an object", t_index_not_object, PL_EMALFORMED,
         "index is not an object"},
        {"an index record with an index proof", t_index_with_tindex, PL_EMALFORMED,
         "index has an unknown field"},
        {"a proven record with an index proof", t_proven_with_tindex, PL_EMALFORMED,
         "proven[0] has an unknown field"},
        {"an empty index proof", t_tindex_empty, PL_EMALFORMED, "thread[0].tindex is empty"},
        {"an index proof over its bound", t_tindex_huge, PL_ETOOBIG,
         "thread[0].tindex is too long"},
        {"thread out of log order", t_thread_disorder, PL_EPROOF, "increasing log order"},
        {"a record in the thread and among the proven", t_thread_and_proven, PL_EPROOF,
         "are both log #7"},
        {"a subject that does not start the thread", t_subject_not_first, PL_EVERIFY,
         "where the thread starts"},
};

static void test_tamper_table(void **state)
{
	struct lg l;
	struct pl_buf clean, why;

	(void)state;
	build_log(&l, NULL);
	tl = &l;
	pl_buf_init(&why, 4096);
	assert_int_equal(export(&l, l.n, &clean, NULL, &why), 0);
	for (size_t k = 0; k < sizeof(tampers) / sizeof(tampers[0]); k++) {
		const struct tamper *t = &tampers[k];
		struct pl_dossier_report *rep = NULL;
		json_t *root = json_loadb(clean.data, clean.len, 0, NULL);
		char *text;
		int ret;
		assert_non_null(root);
		t->apply(root);
		text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		json_decref(root);
		pl_buf_reset(&why);
		ret = pl_dossier_verify(&rep, text, strlen(text), &vkeys[EX], NULL, 0, 0, &why);
		if (getenv("PL_TEST_VERBOSE"))
			print_message("%s: %d %s\n", t->name, ret, why.len ? why.data : "");
		if (ret != t->code || (t->reason && !strstr(why.data ? why.data : "", t->reason)))
			fail_msg("tampering \"%s\": got %d (%s), want %d with \"%s\"", t->name, ret,
			         why.len ? why.data : "", t->code, t->reason ? t->reason : "");
		assert_int_equal(pl_dossier_error_is_evidence(ret),
		                 pl_dossier_error_is_evidence(t->code));
		pl_dossier_report_free(rep);
		free(text);
	}
	pl_buf_release(&clean);
	pl_buf_release(&why);
	free_log(&l);
}

/* ---- An exchange that lies in its index ----------------------------------------------------- */

static void test_lying_index(void **state)
{
	struct pl_dossier_report *rep = NULL;
	struct pl_buf out, why, clean;
	struct lies lie = {.omit = NONE, .invent_rec = NONE};
	struct lg l;
	json_t *root;
	char *text;

	(void)state;
	pl_buf_init(&why, 4096);
	/* Omission: the statement's citation is not entered; a dossier holding it is refused. */
	build_log(&l, NULL);
	lie.omit = l.statement;
	free_log(&l);
	build_log(&l, &lie);
	assert_int_equal(export(&l, l.n, &clean, NULL, &why), 0);
	root = json_loadb(clean.data, clean.len, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(root, "thread")), 4);
	insert_ordered(json_object_get(root, "thread"), entry(&l, l.statement, l.n, l.n, true));
	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	pl_buf_reset(&why);
	assert_int_equal(pl_dossier_verify(&rep, text, strlen(text), &vkeys[EX], NULL, 0, 0, &why),
	                 PL_EPROOF);
	assert_non_null(strstr(why.data, "the thread index does not list it there: the index "
	                                 "omits a record"));
	free(text);
	pl_buf_release(&clean);
	free_log(&l);

	/* Invention: unc's message listed under the send; the export refuses to write it. */
	lie.omit = NONE;
	build_log(&l, NULL);
	lie.invent_key = l.send;
	lie.invent_rec = l.message;
	free_log(&l);
	build_log(&l, &lie);
	pl_buf_reset(&why);
	assert_int_equal(export(&l, l.n, &out, &rep, &why), PL_EPROOF);
	assert_null(rep);
	assert_int_equal(out.len, 0);
	assert_non_null(strstr(why.data, "an invented entry"));
	pl_buf_release(&out);
	pl_buf_release(&why);
	free_log(&l);
}

/* ---- Building, by shape ------------------------------------------------------------------ */

static void test_build_v2_shape(void **state)
{
	struct pl_dossier_input_v2 in;
	struct pl_dossier_entry thread[2], ix;
	struct pl_buf cp, out;
	uint8_t proof[1][PL_HASH_BYTES] = {{0}};
	struct lg l;

	(void)state;
	build_log(&l, NULL);
	checkpoint(&l, l.n, &cp);
	pl_buf_init(&out, PL_DOSSIER_MAX_BYTES);
	memset(&in, 0, sizeof(in));
	memset(thread, 0, sizeof(thread));
	memset(&ix, 0, sizeof(ix));
	ix.index = l.n - 1;
	ix.record = l.rec[l.n - 1].data;
	ix.record_len = l.rec[l.n - 1].len;
	ix.proof = (const uint8_t(*)[PL_HASH_BYTES])proof;
	ix.nproof = 1;
	thread[0] = ix;
	thread[0].index = l.send;
	thread[0].tindex = "x";
	thread[0].tindex_len = 1;
	thread[1] = thread[0];
	thread[1].index = l.receive;
	in.log_key = &vkeys[EX];
	in.checkpoint = cp.data;
	in.checkpoint_len = cp.len;
	in.index = ix;
	in.thread = thread;
	in.nthread = 2;
	assert_int_equal(pl_dossier_build_v2(&out, &in), 0);
	assert_non_null(strstr(out.data, "\"version\": \"parley/dossier/v2\""));
	/* A thread entry without its index proof; an index proof on the index record. */
	thread[1].tindex_len = 0;
	assert_int_equal(pl_dossier_build_v2(&out, &in), PL_EINVAL);
	thread[1].tindex_len = 1;
	in.index.tindex = "x";
	in.index.tindex_len = 1;
	assert_int_equal(pl_dossier_build_v2(&out, &in), PL_EINVAL);
	in.index = ix;
	/* Out of order, or at or after the index record. */
	thread[1].index = l.send;
	assert_int_equal(pl_dossier_build_v2(&out, &in), PL_EINVAL);
	thread[1].index = l.n - 1;
	assert_int_equal(pl_dossier_build_v2(&out, &in), PL_EINVAL);
	thread[1].index = l.receive;
	in.nthread = 0;
	assert_int_equal(pl_dossier_build_v2(&out, &in), PL_EINVAL);
	pl_buf_release(&out);
	pl_buf_release(&cp);
	free_log(&l);
}

/* Writes the honest dossier to path: the fuzz target's version 2 seed. */
static int write_seed(const char *path)
{
	struct pl_buf out, why;
	struct lg l;
	FILE *f;
	int ret = -1;

	build_log(&l, NULL);
	pl_buf_init(&why, 4096);
	if (export(&l, l.n, &out, NULL, &why) == 0 && (f = fopen(path, "w")) != NULL) {
		ret = fwrite(out.data, 1, out.len, f) == out.len ? 0 : -1;
		ret = fclose(f) == 0 ? ret : -1;
	}
	pl_buf_release(&out);
	pl_buf_release(&why);
	free_log(&l);
	return ret;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_export_v2),   cmocka_unit_test(test_export_no_bundles),
	        cmocka_unit_test(test_export_at),   cmocka_unit_test(test_tamper_table),
	        cmocka_unit_test(test_lying_index), cmocka_unit_test(test_build_v2_shape),
	};

	if (argc == 3 && strcmp(argv[1], "--write-seed") == 0) {
		int ret = setup_keys(NULL) == 0 ? write_seed(argv[2]) : -1;
		teardown_keys(NULL);
		return ret == 0 ? 0 : 1;
	}
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
