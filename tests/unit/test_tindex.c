/* Unit tests of the thread index: roots, batched updates, proofs, their strict text form. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <parley/tindex.h>

#include "testutil.h"

typedef uint8_t hash_t[PL_HASH_BYTES];

/*
 * An independent model of docs/index.md: the map as a list of (path, chain),
 * its root by the recursive definition. It shares no code with the library.
 */
struct model_key {
	hash_t key, path, chain;
	size_t n;
	struct pl_tindex_entry e[64];
};

struct model {
	struct model_key *k;
	size_t n, cap;
};

static void sha(hash_t out, const char *tag, const void *a, size_t alen, const void *b, size_t blen)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)tag, strlen(tag));
	crypto_hash_sha256_update(&st, a, alen);
	crypto_hash_sha256_update(&st, b, blen);
	crypto_hash_sha256_final(&st, out);
}

static void model_empty(hash_t out)
{
	sha(out, "parley-tindex-v1-empty", "", 0, "", 0);
}

static struct model_key *model_find(struct model *m, const hash_t key)
{
	for (size_t i = 0; i < m->n; i++) {
		if (memcmp(m->k[i].key, key, PL_HASH_BYTES) == 0)
			return &m->k[i];
	}
	return NULL;
}

static void model_add(struct model *m, const hash_t key, uint64_t index, const hash_t id)
{
	struct model_key *k = model_find(m, key);
	uint8_t be[8 + PL_HASH_BYTES];

	if (k == NULL) {
		if (m->n == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 16;
			m->k = realloc(m->k, m->cap * sizeof(*m->k));
			assert_non_null(m->k);
		}
		k = &m->k[m->n++];
		memset(k, 0, sizeof(*k));
		memcpy(k->key, key, PL_HASH_BYTES);
		sha(k->path, "parley-tindex-v1-path", key, PL_HASH_BYTES, "", 0);
	}
	assert_true(k->n < 64);
	k->e[k->n].index = index;
	memcpy(k->e[k->n].id, id, PL_HASH_BYTES);
	k->n++;
	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(index >> (56 - 8 * i));
	memcpy(be + 8, id, PL_HASH_BYTES);
	sha(k->chain, "parley-tindex-v1-entry", k->chain, PL_HASH_BYTES, be, sizeof(be));
}

static int model_bit(const hash_t p, unsigned d)
{
	return (p[d / 8] >> (7 - d % 8)) & 1;
}

/* Root of the keys ks[0..n) (pointers) below depth d. */
static void model_sub(hash_t out, struct model_key **ks, size_t n, unsigned d)
{
	struct model_key **l, **r;
	size_t nl = 0, nr = 0;
	hash_t hl, hr;
	uint8_t both[2 * PL_HASH_BYTES];

	if (n == 0) {
		model_empty(out);
		return;
	}
	if (n == 1) {
		sha(out, "parley-tindex-v1-leaf", ks[0]->path, PL_HASH_BYTES, ks[0]->chain,
		    PL_HASH_BYTES);
		return;
	}
	l = calloc(n, sizeof(*l));
	r = calloc(n, sizeof(*r));
	assert_true(l != NULL && r != NULL);
	for (size_t i = 0; i < n; i++) {
		if (model_bit(ks[i]->path, d))
			r[nr++] = ks[i];
		else
			l[nl++] = ks[i];
	}
	model_sub(hl, l, nl, d + 1);
	model_sub(hr, r, nr, d + 1);
	memcpy(both, hl, PL_HASH_BYTES);
	memcpy(both + PL_HASH_BYTES, hr, PL_HASH_BYTES);
	sha(out, "parley-tindex-v1-node", both, sizeof(both), "", 0);
	free(l);
	free(r);
}

static void model_root(struct model *m, hash_t out)
{
	struct model_key **ks = calloc(m->n + 1, sizeof(*ks));

	assert_non_null(ks);
	for (size_t i = 0; i < m->n; i++)
		ks[i] = &m->k[i];
	model_sub(out, ks, m->n, 0);
	free(ks);
}

static void model_free(struct model *m)
{
	free(m->k);
	memset(m, 0, sizeof(*m));
}

/* A tree over a fresh in-memory store. */
struct tree {
	struct pl_tindex_memstore *m;
	struct pl_tindex *t;
};

static void tree_new(struct tree *tr)
{
	struct pl_tindex_store s;

	assert_int_equal(pl_tindex_memstore_new(&tr->m), 0);
	s = pl_tindex_memstore_store(tr->m);
	assert_int_equal(pl_tindex_open(&tr->t, &s), 0);
}

static void tree_free(struct tree *tr)
{
	pl_tindex_free(tr->t);
	pl_tindex_memstore_free(tr->m);
}

static void fill(hash_t h, uint8_t b)
{
	memset(h, b, PL_HASH_BYTES);
}

static void hex32(hash_t out, const char *hex)
{
	assert_int_equal(pl_hex_decode_exact(out, PL_HASH_BYTES, hex, strlen(hex)), 0);
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static void rnd_hash(hash_t h)
{
	for (int i = 0; i < 4; i++) {
		uint64_t v = pl_test_rnd(&rng);
		memcpy(h + 8 * i, &v, 8);
	}
}

/* The three small maps of the vectors: keys 0x11.., 0x22.., 0x33.., ids 0xa1.. and so on. */
static const struct {
	uint8_t key, id;
	uint64_t index;
} small_refs[] = {{0x11, 0xa1, 3}, {0x22, 0xb1, 5}, {0x11, 0xa2, 7}, {0x33, 0xc1, 9}};

static void small_ref(struct pl_tindex_ref *r, size_t i)
{
	fill(r->key, small_refs[i].key);
	fill(r->id, small_refs[i].id);
	r->index = small_refs[i].index;
}

/* Roots of small maps, fixed here as computed by an independent implementation of the spec. */
static void test_vectors(void **state)
{
	static const char *const want[] = {
	        "79bcb5ca33c9ad8383a2de48fbb4fbc54d62b6892f479e0e1545d03184bbb4aa", /* {} = E */
	        "7b12332b5c4012a46d5ee1b5c6da43fcde70bdff736283fba5af7c27bf8986bd",
	        "920fe37bee8c60168acf2045d2fbf1c1f437bb3b874b6d89d82d4d0ee05ee7bb",
	        "063cb328a8552221f92fd8c61a1365370cb51f22392207020cad851ba968cdd8",
	};
	struct pl_tindex_ref r[4];
	struct tree tr;
	hash_t root, w, e;

	(void)state;
	model_empty(e);
	hex32(w, want[0]);
	assert_memory_equal(e, w, PL_HASH_BYTES);
	tree_new(&tr);
	pl_tindex_root(tr.t, root);
	assert_memory_equal(root, w, PL_HASH_BYTES);
	/* {0x11: (3, a1)} */
	small_ref(&r[0], 0);
	assert_int_equal(pl_tindex_update(tr.t, r, 1), 0);
	pl_tindex_root(tr.t, root);
	hex32(w, want[1]);
	assert_memory_equal(root, w, PL_HASH_BYTES);
	/* + {0x22: (5, b1)}, {0x11: (7, a2)} */
	small_ref(&r[0], 1);
	small_ref(&r[1], 2);
	assert_int_equal(pl_tindex_update(tr.t, r, 2), 0);
	pl_tindex_root(tr.t, root);
	hex32(w, want[2]);
	assert_memory_equal(root, w, PL_HASH_BYTES);
	/* + {0x33: (9, c1)} */
	small_ref(&r[0], 3);
	assert_int_equal(pl_tindex_update(tr.t, r, 1), 0);
	pl_tindex_root(tr.t, root);
	hex32(w, want[3]);
	assert_memory_equal(root, w, PL_HASH_BYTES);
	tree_free(&tr);
	/* All four at once, in another order: the same root. */
	tree_new(&tr);
	for (size_t i = 0; i < 4; i++)
		small_ref(&r[i], 3 - i);
	assert_int_equal(pl_tindex_update(tr.t, r, 4), 0);
	pl_tindex_root(tr.t, root);
	assert_memory_equal(root, w, PL_HASH_BYTES);
	tree_free(&tr);
}

/* The small map of four refs, in one tree. */
static void small_tree(struct tree *tr)
{
	struct pl_tindex_ref r[4];

	tree_new(tr);
	for (size_t i = 0; i < 4; i++)
		small_ref(&r[i], i);
	assert_int_equal(pl_tindex_update(tr->t, r, 4), 0);
}

static void check_text(const struct pl_tindex_proof *p, const char *want)
{
	struct pl_buf b;

	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	assert_int_equal(pl_tindex_proof_format(&b, p), 0);
	assert_string_equal(b.data, want);
	pl_buf_release(&b);
}

static const char golden_present[] =
        "parley/tindex-proof/v1\n"
        "key 1111111111111111111111111111111111111111111111111111111111111111\n"
        "entry 3 a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1\n"
        "entry 7 a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2\n"
        "nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPpg=\n"
        "-\n"
        "-\n"
        "wBKgBCGqLDYv6WJ6iZiukuzfXPXz6b24oUmU5L+1vBA=\n"
        "-\n";

static const char golden_empty[] =
        "parley/tindex-proof/v1\n"
        "key 4444444444444444444444444444444444444444444444444444444444444444\n"
        "Vokk9HLrE1Q5Kr5kVjFzqc6vnqsYVUA4uzGuGpLOXtE=\n";

static const char golden_other[] =
        "parley/tindex-proof/v1\n"
        "key 5555555555555555555555555555555555555555555555555555555555555555\n"
        "other la2I2BqVuUark6m2wzrK2AXL+nkocPCW4+t0KiSXvR0= "
        "P+sJohw/VzkfoNhb1N+qaQzJ4/TvUTCJ6sng77kxVg8=\n"
        "jQ03YyjPX4nxf12u4JIYTGYdiwqzWmh1XgRZaKaEJL4=\n"
        "-\n";

/* The exact text of the three kinds of proof, fixed by an independent implementation. */
static void test_golden_proofs(void **state)
{
	struct pl_tindex_entry e[2];
	struct pl_tindex_proof *p = NULL, *q = NULL;
	struct tree tr;
	hash_t key, root;

	(void)state;
	small_tree(&tr);
	pl_tindex_root(tr.t, root);
	fill(key, 0x11);
	e[0].index = 3;
	fill(e[0].id, 0xa1);
	e[1].index = 7;
	fill(e[1].id, 0xa2);
	assert_int_equal(pl_tindex_prove(tr.t, key, e, 2, &p), 0);
	assert_int_equal(p->nentries, 2);
	assert_int_equal(p->nsiblings, 5);
	check_text(p, golden_present);
	assert_int_equal(
	        pl_tindex_proof_open(&q, golden_present, strlen(golden_present), key, root), 0);
	assert_int_equal(q->nentries, 2);
	assert_memory_equal(q->entries, e, sizeof(e));
	pl_tindex_proof_free(p);
	pl_tindex_proof_free(q);

	fill(key, 0x44);
	assert_int_equal(pl_tindex_prove(tr.t, key, NULL, 0, &p), 0);
	assert_int_equal(p->nentries, 0);
	assert_false(p->has_other);
	check_text(p, golden_empty);
	assert_int_equal(pl_tindex_proof_open(&q, golden_empty, strlen(golden_empty), key, root),
	                 0);
	pl_tindex_proof_free(p);
	pl_tindex_proof_free(q);

	fill(key, 0x55);
	assert_int_equal(pl_tindex_prove(tr.t, key, NULL, 0, &p), 0);
	assert_true(p->has_other);
	check_text(p, golden_other);
	assert_int_equal(pl_tindex_proof_open(&q, golden_other, strlen(golden_other), key, root),
	                 0);
	assert_int_equal(q->nentries, 0);
	pl_tindex_proof_free(p);
	pl_tindex_proof_free(q);

	/* A proof of one key proves nothing about another. */
	fill(key, 0x66);
	q = (struct pl_tindex_proof *)&tr;
	assert_int_equal(pl_tindex_proof_open(&q, golden_empty, strlen(golden_empty), key, root),
	                 PL_EPROOF);
	assert_ptr_equal(q, (struct pl_tindex_proof *)&tr);
	tree_free(&tr);
}

/*
 * Every single-bit change of a proof's text, and of each hash or number of
 * its parsed form, makes it fail: it no longer parses or no longer verifies.
 */
static void check_tamper(const char *text, const hash_t key, const hash_t root)
{
	size_t len = strlen(text);
	char *t = malloc(len + 1);
	struct pl_tindex_proof *p = NULL;

	assert_non_null(t);
	memcpy(t, text, len + 1);
	assert_int_equal(pl_tindex_proof_open(&p, t, len, key, root), 0);
	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			struct pl_tindex_proof *q = NULL;
			t[i] ^= (char)(1 << b);
			if (pl_tindex_proof_open(&q, t, len, key, root) == 0)
				fail_msg("bit %d of byte %zu flipped still verifies", b, i);
			t[i] ^= (char)(1 << b);
		}
	}
	/* Binary tampering, past what the parser would catch. */
	for (size_t i = 0; i < p->nsiblings; i++) {
		for (int b = 0; b < 256; b++) {
			p->siblings[i][b / 8] ^= (uint8_t)(1 << (b % 8));
			assert_int_equal(pl_tindex_proof_verify(p, key, root), PL_EPROOF);
			p->siblings[i][b / 8] ^= (uint8_t)(1 << (b % 8));
		}
	}
	for (size_t i = 0; i < p->nentries; i++) {
		for (int b = 0; b < 256; b++) {
			p->entries[i].id[b / 8] ^= (uint8_t)(1 << (b % 8));
			assert_int_equal(pl_tindex_proof_verify(p, key, root), PL_EPROOF);
			p->entries[i].id[b / 8] ^= (uint8_t)(1 << (b % 8));
		}
		for (int b = 0; b < 64; b++) {
			p->entries[i].index ^= UINT64_C(1) << b;
			assert_int_equal(pl_tindex_proof_verify(p, key, root), PL_EPROOF);
			p->entries[i].index ^= UINT64_C(1) << b;
		}
	}
	if (p->has_other) {
		for (int b = 0; b < 256; b++) {
			p->other_path[b / 8] ^= (uint8_t)(1 << (b % 8));
			assert_int_equal(pl_tindex_proof_verify(p, key, root), PL_EPROOF);
			p->other_path[b / 8] ^= (uint8_t)(1 << (b % 8));
			p->other_chain[b / 8] ^= (uint8_t)(1 << (b % 8));
			assert_int_equal(pl_tindex_proof_verify(p, key, root), PL_EPROOF);
			p->other_chain[b / 8] ^= (uint8_t)(1 << (b % 8));
		}
	}
	/* Dropping an entry, a sibling, or the other leaf. */
	if (p->nentries > 0) {
		p->nentries--;
		assert_int_equal(pl_tindex_proof_verify(p, key, root), PL_EPROOF);
		p->nentries++;
	}
	if (p->nsiblings > 0) {
		p->nsiblings--;
		assert_int_equal(pl_tindex_proof_verify(p, key, root), PL_EPROOF);
		p->nsiblings++;
	}
	if (p->has_other) {
		p->has_other = false;
		assert_int_equal(pl_tindex_proof_verify(p, key, root), PL_EPROOF);
		p->has_other = true;
	}
	assert_int_equal(pl_tindex_proof_verify(p, key, root), 0);
	pl_tindex_proof_free(p);
	free(t);
}

static void test_tamper(void **state)
{
	hash_t key, root;

	(void)state;
	hex32(root, "063cb328a8552221f92fd8c61a1365370cb51f22392207020cad851ba968cdd8");
	fill(key, 0x11);
	check_tamper(golden_present, key, root);
	fill(key, 0x44);
	check_tamper(golden_empty, key, root);
	fill(key, 0x55);
	check_tamper(golden_other, key, root);
}

/* Adds refs[0..n) to tr and the model in batches of size batch (the last may be shorter). */
static void add_in_batches(struct tree *tr, struct model *m, const struct pl_tindex_ref *refs,
                           size_t n, size_t batch)
{
	for (size_t i = 0; i < n; i += batch) {
		size_t k = n - i < batch ? n - i : batch;
		assert_int_equal(pl_tindex_update(tr->t, refs + i, k), 0);
	}
	for (size_t i = 0; m != NULL && i < n; i++)
		model_add(m, refs[i].key, refs[i].index, refs[i].id);
}

/*
 * A log of refs: nkeys random keys, each ref to a random one of them (so
 * keys collect several entries), log indexes increasing.
 */
static struct pl_tindex_ref *make_refs(size_t n, size_t nkeys)
{
	struct pl_tindex_ref *r = calloc(n, sizeof(*r));
	hash_t *keys = calloc(nkeys, sizeof(*keys));

	assert_true(r != NULL && keys != NULL);
	for (size_t i = 0; i < nkeys; i++)
		rnd_hash(keys[i]);
	for (size_t i = 0; i < n; i++) {
		memcpy(r[i].key, keys[i < nkeys ? i : pl_test_rnd(&rng) % nkeys], PL_HASH_BYTES);
		rnd_hash(r[i].id);
		r[i].index = 1000 + 3 * i;
	}
	free(keys);
	return r;
}

/* Batches of any size, and the refs of a batch in any order, give the root of building at once. */
static void test_batches(void **state)
{
	static const size_t sizes[] = {1, 2, 16, 255, 256, 1000, 3000};
	const size_t n = 3000;
	struct pl_tindex_ref *refs = make_refs(n, 700);
	struct model m = {0};
	hash_t want, root, first;

	(void)state;
	for (size_t i = 0; i < n; i++)
		model_add(&m, refs[i].key, refs[i].index, refs[i].id);
	model_root(&m, want);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct tree tr;
		tree_new(&tr);
		add_in_batches(&tr, NULL, refs, n, sizes[s]);
		pl_tindex_root(tr.t, root);
		assert_memory_equal(root, want, PL_HASH_BYTES);
		tree_free(&tr);
	}
	/* Within each batch of 100, reversed: order inside one call does not matter. */
	{
		struct pl_tindex_ref *rev = calloc(n, sizeof(*rev));
		struct tree tr;
		assert_non_null(rev);
		for (size_t i = 0; i < n; i++)
			rev[i] = refs[(i / 100) * 100 + 99 - i % 100];
		tree_new(&tr);
		add_in_batches(&tr, NULL, rev, n, 100);
		pl_tindex_root(tr.t, root);
		assert_memory_equal(root, want, PL_HASH_BYTES);
		/* Reopening the store gives the same root. */
		{
			struct pl_tindex *t2 = NULL;
			struct pl_tindex_store s = pl_tindex_memstore_store(tr.m);
			assert_int_equal(pl_tindex_open(&t2, &s), 0);
			pl_tindex_root(t2, first);
			assert_memory_equal(first, want, PL_HASH_BYTES);
			pl_tindex_free(t2);
		}
		tree_free(&tr);
		free(rev);
	}
	model_free(&m);
	free(refs);
}

/* Proves key from the model's entries (or absence), checks it, and returns its text form. */
static void prove_and_check(struct tree *tr, struct model *m, const hash_t key, const hash_t root,
                            const hash_t other_root)
{
	struct model_key *k = model_find(m, key);
	struct pl_tindex_proof *p = NULL, *q = NULL;
	uint64_t count, last;
	struct pl_buf b;

	assert_int_equal(pl_tindex_prove(tr->t, key, k ? k->e : NULL, k ? k->n : 0, &p), 0);
	assert_int_equal(pl_tindex_proof_verify(p, key, root), 0);
	assert_int_equal(p->nentries, k ? k->n : 0);
	assert_int_equal(pl_tindex_proof_verify(p, key, other_root), PL_EPROOF);
	if (k != NULL) {
		assert_int_equal(pl_tindex_lookup(tr->t, key, &count, &last), 0);
		assert_int_equal(count, k->n);
		assert_int_equal(last, k->e[k->n - 1].index);
		/* The entries the caller gives must be the leaf's. */
		if (k->n > 1)
			assert_int_equal(pl_tindex_prove(tr->t, key, k->e, k->n - 1, &q),
			                 PL_EPROOF);
		assert_int_equal(pl_tindex_prove(tr->t, key, NULL, 0, &q), PL_EPROOF);
		assert_null(q);
	} else {
		struct pl_tindex_entry e = {5, {0}};
		assert_int_equal(pl_tindex_lookup(tr->t, key, &count, &last), PL_ENOTFOUND);
		assert_int_equal(pl_tindex_prove(tr->t, key, &e, 1, &q), PL_EPROOF);
	}
	/* Text round trip. */
	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	assert_int_equal(pl_tindex_proof_format(&b, p), 0);
	assert_int_equal(pl_tindex_proof_open(&q, b.data, b.len, key, root), 0);
	assert_int_equal(q->nentries, p->nentries);
	assert_int_equal(q->nsiblings, p->nsiblings);
	assert_int_equal(q->has_other, p->has_other);
	assert_memory_equal(q->siblings, p->siblings, p->nsiblings * PL_HASH_BYTES);
	pl_tindex_proof_free(q);
	pl_buf_release(&b);
	pl_tindex_proof_free(p);
}

/* 10^4 random keys: the root of the model, and proofs of present and absent keys. */
static void test_random_10k(void **state)
{
	const size_t nkeys = 10000, n = 16000;
	struct pl_tindex_ref *refs = make_refs(n, nkeys);
	struct model m = {0};
	struct tree tr;
	hash_t want, root, before;
	size_t others = 0;

	(void)state;
	tree_new(&tr);
	/* An older root, to check that proofs do not verify against it. */
	add_in_batches(&tr, &m, refs, n - 1, 256);
	pl_tindex_root(tr.t, before);
	add_in_batches(&tr, &m, refs + n - 1, 1, 1);
	pl_tindex_root(tr.t, root);
	model_root(&m, want);
	assert_memory_equal(root, want, PL_HASH_BYTES);
	for (size_t i = 0; i < 200; i++)
		prove_and_check(&tr, &m, refs[pl_test_rnd(&rng) % n].key, root, before);
	prove_and_check(&tr, &m, refs[n - 1].key, root, before);
	for (size_t i = 0; i < 200; i++) {
		struct pl_tindex_proof *p = NULL;
		hash_t key;
		rnd_hash(key);
		assert_int_equal(pl_tindex_prove(tr.t, key, NULL, 0, &p), 0);
		assert_int_equal(pl_tindex_proof_verify(p, key, root), 0);
		assert_int_equal(p->nentries, 0);
		others += p->has_other;
		pl_tindex_proof_free(p);
		prove_and_check(&tr, &m, key, root, before);
	}
	/* Both kinds of absence occur in a map this size. */
	assert_true(others > 0 && others < 200);
	tree_free(&tr);
	model_free(&m);
	free(refs);
}

/*
 * Keys whose paths share long prefixes (found by search), so that proofs hold
 * runs of empty siblings and leaves move down many levels at once.
 */
static void test_deep_paths(void **state)
{
	enum { NKEYS = 6 };
	struct pl_tindex_ref r[NKEYS];
	struct model m = {0};
	struct tree tr;
	hash_t root, want, path0, key, prev, empty;
	size_t found = 0;
	uint64_t c = 0;

	(void)state;
	model_empty(empty);
	memcpy(root, empty, PL_HASH_BYTES);
	/* Keys whose paths start with the same 10 bits as the first one's. */
	while (found < NKEYS) {
		hash_t k, p;
		memset(k, 0, sizeof(k));
		memcpy(k, &c, sizeof(c));
		c++;
		sha(p, "parley-tindex-v1-path", k, PL_HASH_BYTES, "", 0);
		if (found == 0)
			memcpy(path0, p, PL_HASH_BYTES);
		else if (p[0] != path0[0] || (p[1] & 0xc0) != (path0[1] & 0xc0))
			continue;
		memcpy(r[found].key, k, PL_HASH_BYTES);
		fill(r[found].id, (uint8_t)found);
		r[found].index = found;
		found++;
	}
	tree_new(&tr);
	/* One at a time: each insert pushes an existing leaf down. */
	for (size_t i = 0; i < NKEYS; i++) {
		memcpy(prev, root, PL_HASH_BYTES);
		assert_int_equal(pl_tindex_update(tr.t, &r[i], 1), 0);
		model_add(&m, r[i].key, r[i].index, r[i].id);
		pl_tindex_root(tr.t, root);
		model_root(&m, want);
		assert_memory_equal(root, want, PL_HASH_BYTES);
	}
	for (size_t i = 0; i < NKEYS; i++) {
		struct pl_tindex_proof *p = NULL;
		assert_int_equal(
		        pl_tindex_prove(tr.t, r[i].key, &(struct pl_tindex_entry){0}, 0, &p),
		        PL_EPROOF);
		prove_and_check(&tr, &m, r[i].key, root, prev);
		assert_int_equal(
		        pl_tindex_prove(tr.t, r[i].key, model_find(&m, r[i].key)->e, 1, &p), 0);
		assert_true(p->nsiblings >= 10);
		/* All keys share the first ten bits: the siblings there are empty. */
		for (size_t d = 0; d < 10; d++)
			assert_memory_equal(p->siblings[p->nsiblings - 1 - d], empty,
			                    PL_HASH_BYTES);
		pl_tindex_proof_free(p);
	}
	/* A key absent, whose path starts like theirs, lands on the empty side of a node. */
	memset(key, 0xee, sizeof(key));
	prove_and_check(&tr, &m, key, root, prev);
	tree_free(&tr);
	model_free(&m);
}

static void model_node(hash_t out, const hash_t l, const hash_t r)
{
	uint8_t both[2 * PL_HASH_BYTES];

	memcpy(both, l, PL_HASH_BYTES);
	memcpy(both + PL_HASH_BYTES, r, PL_HASH_BYTES);
	sha(out, "parley-tindex-v1-node", both, sizeof(both), "", 0);
}

/*
 * Roots of trees that are not canonical (an exchange that built its tree
 * wrong): proofs through their odd places are refused, though they hash up.
 */
static void test_non_canonical(void **state)
{
	struct pl_tindex_proof *p = NULL;
	struct model m = {0};
	hash_t k11, k44, x, leaf, root, empty;

	(void)state;
	model_empty(empty);
	fill(k11, 0x11); /* its path starts with bit 1 */
	fill(k44, 0x44); /* its path starts with bit 0 */
	fill(x, 0x5a);
	model_add(&m, k11, 3, x);
	sha(leaf, "parley-tindex-v1-leaf", m.k[0].path, PL_HASH_BYTES, m.k[0].chain, PL_HASH_BYTES);
	assert_int_equal(pl_tindex_proof_parse(&p, golden_present, strlen(golden_present)), 0);
	p->nentries = 1;
	p->entries[0].index = 3;
	memcpy(p->entries[0].id, x, PL_HASH_BYTES);
	/* A leaf alone under a node, beside an empty subtree. */
	model_node(root, empty, leaf);
	p->nsiblings = 1;
	memcpy(p->siblings[0], empty, PL_HASH_BYTES);
	assert_int_equal(pl_tindex_proof_verify(p, k11, root), PL_EPROOF);
	/* The same leaf as the whole tree: canonical, and it verifies. */
	p->nsiblings = 0;
	assert_int_equal(pl_tindex_proof_verify(p, k11, leaf), 0);
	/* Its own leaf shown as "another key's": refused. */
	p->nentries = 0;
	p->has_other = true;
	memcpy(p->other_path, m.k[0].path, PL_HASH_BYTES);
	memcpy(p->other_chain, m.k[0].chain, PL_HASH_BYTES);
	memcpy(p->key, k11, PL_HASH_BYTES);
	assert_int_equal(pl_tindex_proof_verify(p, k11, leaf), PL_EPROOF);
	/* Another key's leaf on the wrong side of the root, where k44 would be: refused. */
	model_node(root, leaf, x);
	memcpy(p->key, k44, PL_HASH_BYTES);
	p->nsiblings = 1;
	memcpy(p->siblings[0], x, PL_HASH_BYTES);
	assert_int_equal(pl_tindex_proof_verify(p, k44, root), PL_EPROOF);
	/* On its own side it would be a fine absence proof for a key on that side. */
	model_node(root, x, leaf);
	fill(k44, 0x55); /* path b773: bit 1, then 0, where 0x11's has 1 */
	memcpy(p->key, k44, PL_HASH_BYTES);
	assert_int_equal(pl_tindex_proof_verify(p, k44, root), 0);
	pl_tindex_proof_free(p);
	model_free(&m);
}

/* Bad updates change nothing: order, duplicates, index range, count, limits. */
static void test_update_errors(void **state)
{
	struct pl_tindex_ref r[3];
	struct tree tr;
	hash_t root, after;
	size_t nodes;

	(void)state;
	memset(r, 0, sizeof(r));
	small_tree(&tr);
	pl_tindex_root(tr.t, root);
	nodes = pl_tindex_memstore_count(tr.m);
	/* Not above the key's last index (7). */
	small_ref(&r[0], 0);
	r[0].index = 7;
	assert_int_equal(pl_tindex_update(tr.t, r, 1), PL_EINVAL);
	r[0].index = 6;
	assert_int_equal(pl_tindex_update(tr.t, r, 1), PL_EINVAL);
	/* The same index twice for one key in one call, with a good ref beside. */
	small_ref(&r[0], 0);
	r[0].index = 20;
	r[1] = r[0];
	fill(r[1].id, 0x99);
	fill(r[2].key, 0x77);
	r[2].index = 21;
	assert_int_equal(pl_tindex_update(tr.t, r, 3), PL_EINVAL);
	/* An index at 2^63. */
	r[0].index = UINT64_C(1) << 63;
	assert_int_equal(pl_tindex_update(tr.t, r, 1), PL_EINVAL);
	assert_int_equal(pl_tindex_update(tr.t, r, 0), PL_EINVAL);
	assert_int_equal(pl_tindex_update(tr.t, NULL, 1), PL_EINVAL);
	assert_int_equal(pl_tindex_update(tr.t, r, PL_TINDEX_MAX_BATCH + 1), PL_EINVAL);
	pl_tindex_root(tr.t, after);
	assert_memory_equal(root, after, PL_HASH_BYTES);
	assert_int_equal(pl_tindex_memstore_count(tr.m), nodes);
	/* The same key twice at increasing indexes in one call is fine. */
	r[0].index = 20;
	r[1].index = 21;
	assert_int_equal(pl_tindex_update(tr.t, r, 2), 0);
	tree_free(&tr);
	/* A key with PL_TINDEX_MAX_ENTRIES entries takes no more. */
	{
		struct pl_tindex_ref *many = calloc(PL_TINDEX_MAX_ENTRIES + 1, sizeof(*many));
		uint64_t count;
		assert_non_null(many);
		for (size_t i = 0; i <= PL_TINDEX_MAX_ENTRIES; i++) {
			fill(many[i].key, 0x42);
			many[i].index = i;
		}
		tree_new(&tr);
		assert_int_equal(pl_tindex_update(tr.t, many, PL_TINDEX_MAX_ENTRIES + 1),
		                 PL_ETOOBIG);
		assert_int_equal(pl_tindex_update(tr.t, many, PL_TINDEX_MAX_ENTRIES), 0);
		assert_int_equal(pl_tindex_update(tr.t, many + PL_TINDEX_MAX_ENTRIES, 1),
		                 PL_ETOOBIG);
		assert_int_equal(pl_tindex_lookup(tr.t, many[0].key, &count, NULL), 0);
		assert_int_equal(count, PL_TINDEX_MAX_ENTRIES);
		tree_free(&tr);
		free(many);
	}
}

/* A store that fails on demand. */
struct flaky {
	struct pl_tindex_store inner;
	int fail_get_after, fail_put_after; /* -1: never */
};

static int flaky_get(void *ctx, unsigned depth, const uint8_t prefix[static PL_HASH_BYTES],
                     struct pl_tindex_node *out)
{
	struct flaky *f = ctx;

	if (f->fail_get_after == 0)
		return PL_EIO;
	if (f->fail_get_after > 0)
		f->fail_get_after--;
	return f->inner.get(f->inner.ctx, depth, prefix, out);
}

static int flaky_put(void *ctx, unsigned depth, const uint8_t prefix[static PL_HASH_BYTES],
                     const struct pl_tindex_node *node)
{
	struct flaky *f = ctx;

	if (f->fail_put_after == 0)
		return PL_ESTORE;
	if (f->fail_put_after > 0)
		f->fail_put_after--;
	return f->inner.put(f->inner.ctx, depth, prefix, node);
}

/* A store error is passed back; a failed read changes nothing; a torn write stops the tree. */
static void test_store_errors(void **state)
{
	struct pl_tindex_memstore *m = NULL;
	struct flaky f;
	struct pl_tindex_store s = {flaky_get, flaky_put, &f};
	struct pl_tindex *t = NULL;
	struct pl_tindex_ref r[4];
	struct pl_tindex_proof *p = NULL;
	hash_t root, after;

	(void)state;
	assert_int_equal(pl_tindex_memstore_new(&m), 0);
	f.inner = pl_tindex_memstore_store(m);
	f.fail_get_after = -1;
	f.fail_put_after = -1;
	assert_int_equal(pl_tindex_open(&t, &s), 0);
	for (size_t i = 0; i < 4; i++)
		small_ref(&r[i], i);
	assert_int_equal(pl_tindex_update(t, r, 3), 0);
	pl_tindex_root(t, root);
	/* The second read fails: nothing written. */
	f.fail_get_after = 1;
	assert_int_equal(pl_tindex_update(t, &r[3], 1), PL_EIO);
	pl_tindex_root(t, after);
	assert_memory_equal(root, after, PL_HASH_BYTES);
	f.fail_get_after = -1;
	/* The first write fails: nothing written, the tree goes on. */
	f.fail_put_after = 0;
	assert_int_equal(pl_tindex_update(t, &r[3], 1), PL_ESTORE);
	f.fail_put_after = -1;
	assert_int_equal(pl_tindex_prove(t, r[3].key, NULL, 0, &p), 0);
	pl_tindex_proof_free(p);
	/* A later write fails: the tree refuses everything until reopened. */
	f.fail_put_after = 1;
	assert_int_equal(pl_tindex_update(t, &r[3], 1), PL_ESTORE);
	f.fail_put_after = -1;
	assert_int_equal(pl_tindex_update(t, &r[3], 1), PL_ESTATE);
	assert_int_equal(pl_tindex_lookup(t, r[0].key, NULL, NULL), PL_ESTATE);
	p = NULL;
	assert_int_equal(pl_tindex_prove(t, r[0].key, NULL, 0, &p), PL_ESTATE);
	assert_null(p);
	pl_tindex_free(t);
	/* Opening fails when the root cannot be read. */
	f.fail_get_after = 0;
	t = NULL;
	assert_int_equal(pl_tindex_open(&t, &s), PL_EIO);
	assert_null(t);
	pl_tindex_memstore_free(m);
}

struct mutation {
	const char *from, *to;
	int err;
};

/* Edits of golden_present, golden_other or golden_empty that must not parse. */
static const struct mutation mutations[] = {
        {"parley/tindex-proof/v1\n", "", PL_EMALFORMED},
        {"parley/tindex-proof/v1\n", "parley/tindex-proof/v2\n", PL_EMALFORMED},
        {"parley/tindex-proof/v1\n", "parley/tindex-proof/v1 \n", PL_EMALFORMED},
        {"parley/tindex-proof/v1\n", "parley/tindex-proof/v1\r\n", PL_EMALFORMED},
        {"parley/tindex-proof/v1\n", "\nparley/tindex-proof/v1\n", PL_EMALFORMED},
        {"key 1111", "key  1111", PL_EMALFORMED},
        {"key 1111", "Key 1111", PL_EMALFORMED},
        {"key 1111", "key 111", PL_EMALFORMED},
        {"key 1111", "key 11111", PL_EMALFORMED},
        {"key 1111", "key 111A", PL_EMALFORMED},
        {"key 1111", "key 111g", PL_EMALFORMED},
        {"1111\nentry 3", "1111 \nentry 3", PL_EMALFORMED},
        {"key 1111111111111111111111111111111111111111111111111111111111111111\n", "",
         PL_EMALFORMED},
        {"entry 3 a1", "entry 03 a1", PL_EMALFORMED},
        {"entry 3 a1", "entry +3 a1", PL_EMALFORMED},
        {"entry 3 a1", "entry -3 a1", PL_EMALFORMED},
        {"entry 3 a1", "entry  3 a1", PL_EMALFORMED},
        {"entry 3 a1", "entry 3  a1", PL_EMALFORMED},
        {"entry 3 a1", "entry 3\ta1", PL_EMALFORMED},
        {"entry 3 a1", "entry 3a1", PL_EMALFORMED},
        {"entry 3 a1", "entry a1", PL_EMALFORMED},
        {"entry 3 a1", "entry 9223372036854775808 a1", PL_EMALFORMED},
        {"entry 3 a1", "entry 18446744073709551616 a1", PL_EMALFORMED},
        {"entry 3 a1", "Entry 3 a1", PL_EMALFORMED},
        {"entry 3 a1", "entry 3 A1", PL_EMALFORMED},
        {"entry 7", "entry 3", PL_EMALFORMED}, /* not increasing */
        {"entry 7", "entry 2", PL_EMALFORMED},
        {"a1a1\nentry", "a1a1 \nentry", PL_EMALFORMED},
        {"a1a1\nentry", "a1\nentry", PL_EMALFORMED},
        {"a2a2\nnrR2",
         "a2a2\nother la2I2BqVuUark6m2wzrK2AXL+nkocPCW4+t0KiSXvR0= "
         "P+sJohw/VzkfoNhb1N+qaQzJ4/TvUTCJ6sng77kxVg8=\nnrR2",
         PL_EMALFORMED}, /* entries and other */
        {"a2a2\nnrR2", "a2a2\n\nnrR2", PL_EMALFORMED},
        {"nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPpg=\n", "-\n", PL_EMALFORMED},
        {"nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPpg=\n",
         "eby1yjPJrYODot5I+7T7xU1itokvR54OFUXQMYS7tKo=\n", PL_EMALFORMED}, /* E spelled out */
        {"-\n-\nwBK", "eby1yjPJrYODot5I+7T7xU1itokvR54OFUXQMYS7tKo=\n-\nwBK", PL_EMALFORMED},
        {"nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPpg=\n",
         "nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPpg\n", PL_EMALFORMED},
        {"nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPpg=\n",
         "nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPph=\n", PL_EMALFORMED}, /* non-canonical */
        {"nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPpg=\n",
         "nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPpg=\r\n", PL_EMALFORMED},
        {"nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPpg=\n",
         " nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPpg=\n", PL_EMALFORMED},
        {"nrR2vIjTj1X+HCFClEETY8g8/Mk73lftm3I8BXQrPpg=\n",
         "nrR2vIjTj1X-HCFClEETY8g8/Mk73lftm3I8BXQrPpg=\n", PL_EMALFORMED},
        {"-\n-\nwBK", "- \n-\nwBK", PL_EMALFORMED},
        {"-\n-\nwBK", "--\n-\nwBK", PL_EMALFORMED},
        {"-\n-\nwBK", "\n-\nwBK", PL_EMALFORMED},
        {"vBA=\n-\n",
         "vBA=\n-\nentry 9 c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1\n",
         PL_EMALFORMED},
        {"vBA=\n-\n", "vBA=\n-", PL_EMALFORMED},
        {"vBA=\n-\n", "vBA=\n-\n\n", PL_EMALFORMED},
        {"vBA=\n-\n", "vBA=\n-\nx", PL_EMALFORMED},
        {"vBA=\n-\n", "vBA=\n-\n-\n\0", PL_EMALFORMED},
        /* golden_other */
        {"other la2I", "other  la2I", PL_EMALFORMED},
        {"other la2I", "Other la2I", PL_EMALFORMED},
        {"other la2I", "other\tla2I", PL_EMALFORMED},
        {"XL+nkocPCW4+t0KiSXvR0= P+sJ", "XL+nkocPCW4+t0KiSXvR0=  P+sJ", PL_EMALFORMED},
        {"XL+nkocPCW4+t0KiSXvR0= P+sJ", "XL+nkocPCW4+t0KiSXvR0=P+sJ", PL_EMALFORMED},
        {"XL+nkocPCW4+t0KiSXvR0= P+sJ", "XL+nkocPCW4+t0KiSXvR1= P+sJ", PL_EMALFORMED},
        {"Vg8=\njQ03", "Vg8= \njQ03", PL_EMALFORMED},
        {"Vg8=\njQ03",
         "Vg8=\nother la2I2BqVuUark6m2wzrK2AXL+nkocPCW4+t0KiSXvR0= "
         "P+sJohw/VzkfoNhb1N+qaQzJ4/TvUTCJ6sng77kxVg8=\njQ03",
         PL_EMALFORMED},
        {"Vg8=\njQ03",
         "Vg8=\nentry 9 c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1\njQ03",
         PL_EMALFORMED},
        /* golden_empty */
        {"4444\nVokk", "4444\n-\nVokk", PL_EMALFORMED},
        {"4444\nVokk", "4444\nother\nVokk", PL_EMALFORMED},
        {"4444\nVokk", "4444\nentry\nVokk", PL_EMALFORMED},
        {"4444\nVokk", "4444\nentry 1\nVokk", PL_EMALFORMED},
};

/* Replaces the first occurrence of from in src with to (to_len bytes). */
static char *replace(const char *src, const char *from, const char *to, size_t to_len, size_t *len)
{
	const char *p = strstr(src, from);
	size_t head, tail;
	char *out;

	if (p == NULL)
		return NULL;
	head = (size_t)(p - src);
	tail = strlen(p + strlen(from));
	out = malloc(head + to_len + tail + 1);
	assert_non_null(out);
	memcpy(out, src, head);
	memcpy(out + head, to, to_len);
	memcpy(out + head + to_len, p + strlen(from), tail + 1);
	*len = head + to_len + tail;
	return out;
}

static void test_malformed(void **state)
{
	static const char *const goldens[] = {golden_present, golden_other, golden_empty};
	struct pl_tindex_proof *marker = (struct pl_tindex_proof *)&marker, *p;

	(void)state;
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		const struct mutation *mu = &mutations[i];
		/* The one mutation with a NUL byte gives its length explicitly. */
		size_t to_len = strlen(mu->to) + (strcmp(mu->to, "vBA=\n-\n-\n") == 0);
		char *t = NULL;
		size_t len = 0;
		int rc;

		for (size_t g = 0; g < 3 && t == NULL; g++)
			t = replace(goldens[g], mu->from, mu->to, to_len, &len);
		if (t == NULL)
			fail_msg("mutation %zu: '%s' is in no golden proof", i, mu->from);
		p = marker;
		rc = pl_tindex_proof_parse(&p, t, len);
		if (rc != mu->err)
			fail_msg("mutation %zu (%s -> %s): got %d, want %d", i, mu->from, mu->to,
			         rc, mu->err);
		assert_ptr_equal(p, marker);
		free(t);
	}
	/* Every strict prefix of a proof either does not parse or does not verify. */
	{
		hash_t key, root;
		hex32(root, "063cb328a8552221f92fd8c61a1365370cb51f22392207020cad851ba968cdd8");
		fill(key, 0x11);
		for (size_t n = 0; n < strlen(golden_present); n++) {
			p = marker;
			assert_int_not_equal(pl_tindex_proof_open(&p, golden_present, n, key, root),
			                     0);
			assert_ptr_equal(p, marker);
		}
	}
	/* Limits: too big, too many siblings, too many entries. */
	{
		struct pl_buf b;
		pl_buf_init(&b, 2 * PL_TINDEX_PROOF_MAX_BYTES);
		assert_int_equal(pl_buf_adds(&b, golden_empty), 0);
		for (int i = 0; i < PL_TINDEX_MAX_DEPTH; i++)
			assert_int_equal(
			        pl_buf_adds(&b, "Vokk9HLrE1Q5Kr5kVjFzqc6vnqsYVUA4uzGuGpLOXtE=\n"),
			        0);
		p = marker;
		assert_int_equal(pl_tindex_proof_parse(&p, b.data, b.len), PL_ETOOBIG);
		assert_int_equal(pl_tindex_proof_parse(&p, b.data, PL_TINDEX_PROOF_MAX_BYTES + 1),
		                 PL_ETOOBIG);
		pl_buf_reset(&b);
		assert_int_equal(pl_buf_adds(&b, "parley/tindex-proof/v1\nkey "
		                                 "4444444444444444444444444444444444444444444444444"
		                                 "444444444444444\n"),
		                 0);
		for (int i = 0; i <= PL_TINDEX_MAX_ENTRIES; i++)
			assert_int_equal(
			        pl_buf_addf(&b,
			                    "entry %d 0000000000000000000000000000000000000000"
			                    "000000000000000000000000\n",
			                    i),
			        0);
		assert_int_equal(pl_tindex_proof_parse(&p, b.data, b.len), PL_ETOOBIG);
		assert_ptr_equal(p, marker);
		pl_buf_release(&b);
	}
	assert_int_equal(pl_tindex_proof_parse(NULL, golden_empty, strlen(golden_empty)),
	                 PL_EINVAL);
	assert_int_equal(pl_tindex_proof_parse(&p, NULL, 5), PL_EINVAL);
}

/* What the formatter refuses: the shapes the parser would. */
static void test_format_refuses(void **state)
{
	struct pl_tindex_proof *p = NULL;
	struct pl_buf b;
	hash_t key;

	(void)state;
	fill(key, 0x11);
	assert_int_equal(pl_tindex_proof_parse(&p, golden_present, strlen(golden_present)), 0);
	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	p->entries[1].index = 3;
	assert_int_equal(pl_tindex_proof_format(&b, p), PL_EINVAL);
	p->entries[1].index = 7;
	p->has_other = true;
	assert_int_equal(pl_tindex_proof_format(&b, p), PL_EINVAL);
	p->has_other = false;
	memcpy(p->siblings[0], p->siblings[1], PL_HASH_BYTES); /* the empty hash */
	assert_int_equal(pl_tindex_proof_format(&b, p), PL_EINVAL);
	p->nsiblings = PL_TINDEX_MAX_DEPTH + 1;
	assert_int_equal(pl_tindex_proof_format(&b, p), PL_ETOOBIG);
	assert_int_equal(b.len, 0);
	pl_buf_release(&b);
	pl_tindex_proof_free(p);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_vectors), cmocka_unit_test(test_golden_proofs),
             cmocka_unit_test(test_tamper), cmocka_unit_test(test_batches),
             cmocka_unit_test(test_random_10k), cmocka_unit_test(test_deep_paths),
             cmocka_unit_test(test_update_errors), cmocka_unit_test(test_store_errors),
             cmocka_unit_test(test_malformed), cmocka_unit_test(test_format_refuses),
             cmocka_unit_test(test_non_canonical))
