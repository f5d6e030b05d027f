/*
 * Unit tests of the log audit's thread-index check (pl_audit_run()): a small log with `index`
 * records is built with libparley, and the audit recomputes each root from the records' refs.
 * An exchange that leaves a reference out of the index, invents one, or signs a checkpoint
 * that does not end on an index record is caught at that record, with its log index.
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

#include <parley/audit.h>
#include <parley/key.h>
#include <parley/record.h>
#include <parley/tiles.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

#include "testutil.h"

#define ORIGIN  "hotline.example"
#define LOG_MAX 16

enum { EX, PA, NACTORS };
static const char *const key_name[NACTORS] = {ORIGIN, ORIGIN "/ana"};
static struct pl_skey skeys[NACTORS];
static struct pl_vkey vkeys[NACTORS];

/* How the exchange of the test lies, if it does. */
enum lie {
	HONEST,
	NO_INDEX, /* a store made before the index kind: no index record at all */
	OMIT,     /* the second index leaves out one of s3's references */
	INVENT,   /* the second index lists s2 under a record nothing refers to it from */
	TAIL,     /* the checkpoint ends on a statement, after the last index */
};

struct log {
	struct pl_buf rec[LOG_MAX];
	uint8_t id[LOG_MAX][PL_RECORD_ID_BYTES];
	size_t n;
	struct {
		uint64_t seq;
		uint8_t id[PL_RECORD_ID_BYTES];
	} head[NACTORS]; /* each signer's chain: its last record */
	struct pl_tlog_memstore *ms;
	/* The index as the exchange keeps it, and the references since its last update. */
	struct pl_tindex_memstore *im;
	struct pl_tindex *t;
	struct pl_tindex_ref refs[LOG_MAX * PL_RECORD_MAX_REFS];
	size_t nrefs;
};

static int setup(void **state)
{
	(void)state;
	for (int k = 0; k < NACTORS; k++)
		pl_test_fixed_key(&skeys[k], &vkeys[k], key_name[k], PL_SIGTYPE_ED25519);
	return 0;
}

static struct pl_record *rnew(struct log *l, enum pl_record_kind kind, int actor)
{
	static struct pl_record r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	snprintf(r.exchange, sizeof(r.exchange), "%s", ORIGIN);
	snprintf(r.author, sizeof(r.author), "%s", actor == EX ? PL_RECORD_EXCHANGE : "ana");
	r.time = pl_test_time("2025-11-10T09:00:00Z") + (int64_t)l->n;
	return &r;
}

/* Signs r as actor (a register with ana's self-signature) and logs it; returns its index. */
static size_t add(struct log *l, struct pl_record *r, int actor)
{
	struct pl_skey keys[2] = {skeys[actor], skeys[PA]};
	uint8_t leaf[1][PL_HASH_BYTES];
	size_t i = l->n;

	assert_true(i < LOG_MAX);
	r->seq = ++l->head[actor].seq;
	if (r->seq > 1) {
		r->has |= PL_RECORD_HAS_PREV;
		memcpy(r->prev, l->head[actor].id, PL_RECORD_ID_BYTES);
	}
	pl_buf_init(&l->rec[i], PL_RECORD_MAX_BYTES);
	assert_int_equal(
	        pl_record_sign(&l->rec[i], r, keys, r->kind == PL_KIND_REGISTER ? 2 : 1, NULL), 0);
	pl_record_id(l->id[i], l->rec[i].data, l->rec[i].len);
	memcpy(l->head[actor].id, l->id[i], PL_RECORD_ID_BYTES);
	pl_tlog_leaf_hash(leaf[0], l->rec[i].data, l->rec[i].len);
	assert_int_equal(pl_tlog_memstore_append(l->ms, (const uint8_t(*)[PL_HASH_BYTES])leaf, 1),
	                 0);
	for (size_t k = 0; k < r->nrefs; k++) {
		struct pl_tindex_ref *x = &l->refs[l->nrefs++];
		memcpy(x->key, r->refs[k].id, PL_HASH_BYTES);
		memcpy(x->id, l->id[i], PL_HASH_BYTES);
		x->index = i;
	}
	l->n++;
	return i;
}

/* A statement by ana citing the records at cites[0..n). */
static size_t statement(struct log *l, const size_t *cites, size_t n)
{
	struct pl_record *r = rnew(l, PL_KIND_STATEMENT, PA);

	r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
	r->cls = PL_CLASS_STATEMENT;
	r->body_len = (size_t)snprintf(r->body, sizeof(r->body), "Statement %zu.\n", l->n);
	/* Refs go in the order of their text: by id, for one role. */
	for (size_t k = 0; k < n; k++)
		pl_test_add_ref(r, PL_ROLE_CITES, l->id[cites[k]]);
	if (n == 2 && memcmp(r->refs[0].id, r->refs[1].id, PL_RECORD_ID_BYTES) > 0) {
		struct pl_record_ref t = r->refs[0];
		r->refs[0] = r->refs[1];
		r->refs[1] = t;
	}
	return add(l, r, PA);
}

/*
 * The exchange's index record: the pending references (less the one it
 * omits, plus the one it invents) go into its map, and the record names the
 * map's root.
 */
static size_t index_record(struct log *l, const struct pl_tindex_ref *invent, size_t omit)
{
	struct pl_record *r;

	if (omit < l->nrefs)
		l->refs[omit] = l->refs[--l->nrefs];
	if (invent)
		l->refs[l->nrefs++] = *invent;
	if (l->nrefs)
		assert_int_equal(pl_tindex_update(l->t, l->refs, l->nrefs), 0);
	l->nrefs = 0;
	r = rnew(l, PL_KIND_INDEX, EX);
	r->has |= PL_RECORD_HAS_ROOT;
	pl_tindex_root(l->t, r->index_root);
	return add(l, r, EX);
}

/*
 * The log: ana registered, s1, an index, s2 citing s1, s3 citing s1 and
 * s2, an index (at #5). Returns the index of the second index record.
 */
static size_t build(struct log *l, enum lie lie)
{
	struct pl_tindex_store st;
	struct pl_tindex_ref fake;
	struct pl_record *r;
	size_t s1, s2, s3, last, both[2];

	memset(l, 0, sizeof(*l));
	assert_int_equal(pl_tlog_memstore_new(&l->ms), 0);
	assert_int_equal(pl_tindex_memstore_new(&l->im), 0);
	st = pl_tindex_memstore_store(l->im);
	assert_int_equal(pl_tindex_open(&l->t, &st), 0);
	r = rnew(l, PL_KIND_REGISTER, EX);
	r->has |= PL_RECORD_HAS_PARTY | PL_RECORD_HAS_ENC;
	snprintf(r->party, sizeof(r->party), "ana");
	r->keys[0] = vkeys[PA];
	r->nkeys = 1;
	snprintf(r->enc.name, sizeof(r->enc.name), "%s", key_name[PA]);
	memset(r->enc.pk, 0x42, sizeof(r->enc.pk));
	add(l, r, EX);
	s1 = statement(l, NULL, 0);
	if (lie != NO_INDEX)
		index_record(l, NULL, SIZE_MAX);
	s2 = statement(l, &s1, 1);
	both[0] = s1;
	both[1] = s2;
	s3 = statement(l, both, 2);
	/* What the exchange invents: s2 listed as referring to s3, which it cannot. */
	memcpy(fake.key, l->id[s3], PL_HASH_BYTES);
	memcpy(fake.id, l->id[s2], PL_HASH_BYTES);
	fake.index = s2;
	last = l->n;
	if (lie != NO_INDEX)
		last = index_record(l, lie == INVENT ? &fake : NULL, lie == OMIT ? 1 : SIZE_MAX);
	if (lie == TAIL)
		statement(l, &s3, 1);
	return last;
}

static void release(struct log *l)
{
	for (size_t i = 0; i < l->n; i++)
		pl_buf_release(&l->rec[i]);
	pl_tindex_free(l->t);
	pl_tindex_memstore_free(l->im);
	pl_tlog_memstore_free(l->ms);
}

static int src_bundle(void *ctx, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct log *l = ctx;
	int ret = 0;

	for (unsigned i = 0; ret == 0 && i < width; i++) {
		size_t k = (size_t)n * PL_TILE_WIDTH + i;
		ret = pl_tiles_bundle_add(out, l->rec[k].data, l->rec[k].len);
	}
	return ret;
}

static int src_tile(void *ctx, unsigned level, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct log *l = ctx;
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(l->ms);
	static uint8_t tile[PL_TILE_BYTES];
	struct pl_tile t;
	size_t len = 0;
	int ret = pl_tiles_tile_at(&t, l->n, level, n, false);

	(void)width;
	if (ret == 0)
		ret = pl_tiles_read_hash_tile(&rd, &t, tile, &len);
	return ret ? ret : pl_buf_add(out, tile, len);
}

/* Audits the log the exchange built with lie; *last is the second index record's index. */
static void audit(enum lie lie, struct pl_audit_result *res, size_t *last)
{
	static struct log l;
	const struct pl_audit_source src = {.ctx = &l, .bundle = src_bundle, .tile = src_tile};
	struct pl_tlog_reader rd;
	uint8_t root[PL_HASH_BYTES];
	struct pl_checkpoint cp;

	*last = build(&l, lie);
	rd = pl_tlog_memstore_reader(l.ms);
	assert_int_equal(pl_tlog_tree_hash(&rd, l.n, root), 0);
	assert_int_equal(pl_checkpoint_set(&cp, ORIGIN, l.n, root), 0);
	if (pl_audit_run(&cp, &vkeys[EX], &src, res) != 0)
		fail_msg("%s", res->error);
	if (res->has_first && res->first_is_record)
		assert_memory_equal(res->first_id, l.id[res->first_index], PL_RECORD_ID_BYTES);
	release(&l);
}

static void test_honest(void **state)
{
	static struct pl_audit_result res;
	size_t last;

	(void)state;
	audit(HONEST, &res, &last);
	if (res.failures)
		fail_msg("%s", res.first_reason);
	assert_int_equal(res.indexes, 2);
	assert_int_equal(res.by_kind[PL_KIND_INDEX], 2);
	/* A store made before the index kind: nothing to compare, nothing wrong. */
	audit(NO_INDEX, &res, &last);
	assert_int_equal(res.failures, 0);
	assert_int_equal(res.indexes, 0);
}

/* Each lie is one failure, at the index record that tells it (or about the checkpoint). */
static void test_lies(void **state)
{
	static struct pl_audit_result res;
	size_t last;

	(void)state;
	audit(OMIT, &res, &last);
	assert_int_equal(res.failures, 1);
	assert_true(res.first_is_record);
	assert_int_equal(res.first_index, last);
	assert_non_null(strstr(res.first_reason, "index: the thread index of the 5 records"));
	assert_non_null(strstr(res.first_reason, "the record says"));
	assert_int_equal(res.indexes, 2);
	audit(INVENT, &res, &last);
	assert_int_equal(res.failures, 1);
	assert_true(res.first_is_record);
	assert_int_equal(res.first_index, last);
	audit(TAIL, &res, &last);
	assert_int_equal(res.failures, 1);
	assert_false(res.first_is_record);
	assert_non_null(strstr(res.first_reason, "(#6) is not an index record"));
}

PL_TEST_MAIN(setup, NULL, cmocka_unit_test(test_honest), cmocka_unit_test(test_lies))
