/* Unit tests of the tlog module: CT vectors, transparency-dev vectors, randomized cross-checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include <parley/encoding.h>
#include <parley/tlog.h>

#include "testutil.h"

typedef uint8_t hash_t[PL_HASH_BYTES];

/* A small deterministic generator, so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static void make_leaf(hash_t out, uint64_t i)
{
	uint8_t data[8];
	for (int k = 0; k < 8; k++)
		data[k] = (uint8_t)(i >> (8 * k));
	pl_tlog_leaf_hash(out, data, sizeof(data));
}

/* Reference Merkle Tree Hash of leaves[lo, hi), straight from RFC 9162 §2.1.1. */
static void ref_mth(hash_t out, const hash_t *leaves, uint64_t lo, uint64_t hi)
{
	uint64_t n = hi - lo, k = 1;
	hash_t l, r;

	if (n == 0) {
		pl_tlog_empty_hash(out);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[lo], PL_HASH_BYTES);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	ref_mth(l, leaves, lo, lo + k);
	ref_mth(r, leaves, lo + k, hi);
	pl_tlog_node_hash(out, l, r);
}

/* Reference PATH(m, D[lo:hi]) (RFC 9162 §2.1.3.1), appended leaf first. */
static void ref_path(hash_t *out, size_t *n, uint64_t m, const hash_t *leaves, uint64_t lo,
                     uint64_t hi)
{
	uint64_t k = 1;

	if (hi - lo <= 1)
		return;
	while (k * 2 < hi - lo)
		k *= 2;
	if (m < k) {
		ref_path(out, n, m, leaves, lo, lo + k);
		ref_mth(out[(*n)++], leaves, lo + k, hi);
	} else {
		ref_path(out, n, m - k, leaves, lo + k, hi);
		ref_mth(out[(*n)++], leaves, lo, lo + k);
	}
}

/* Reference SUBPROOF(m, D[lo:hi], b) (RFC 9162 §2.1.4.1). */
static void ref_subproof(hash_t *out, size_t *n, uint64_t m, const hash_t *leaves, uint64_t lo,
                         uint64_t hi, int b)
{
	uint64_t k = 1;

	if (m == hi - lo) {
		if (!b)
			ref_mth(out[(*n)++], leaves, lo, hi);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	if (m <= k) {
		ref_subproof(out, n, m, leaves, lo, lo + k, b);
		ref_mth(out[(*n)++], leaves, lo + k, hi);
	} else {
		ref_subproof(out, n, m - k, leaves, lo + k, hi, 0);
		ref_mth(out[(*n)++], leaves, lo, lo + k);
	}
}

static struct pl_tlog_memstore *store_with(const hash_t *leaves, uint64_t n)
{
	struct pl_tlog_memstore *m = NULL;
	assert_int_equal(pl_tlog_memstore_new(&m), 0);
	assert_int_equal(pl_tlog_memstore_append(m, leaves, (size_t)n), 0);
	assert_int_equal(pl_tlog_memstore_size(m), n);
	return m;
}

static hash_t *leaves_new(uint64_t n)
{
	hash_t *l = calloc(n ? n : 1, sizeof(hash_t));
	assert_non_null(l);
	for (uint64_t i = 0; i < n; i++)
		make_leaf(l[i], i);
	return l;
}

static void hex32(hash_t out, const char *s)
{
	assert_int_equal(pl_hex_decode_exact(out, PL_HASH_BYTES, s, strlen(s)), 0);
}

/* The classic CT leaves: leaf hashes, every stored node hash, and the roots of sizes 0..8. */
static void test_ct_vectors(void **state)
{
	json_error_t err;
	json_t *root = json_load_file(PL_VECTORS_DIR "/ct/rfc6962.json", 0, &err);
	json_t *leaves, *nodes, *roots, *v;
	struct pl_tlog_memstore *m;
	struct pl_tlog_reader r;
	hash_t lh[8], want, got;
	size_t i, level;

	(void)state;
	assert_non_null(root);
	leaves = json_object_get(root, "leaves");
	nodes = json_object_get(root, "node_hashes");
	roots = json_object_get(root, "roots");
	assert_int_equal(json_array_size(leaves), 8);
	assert_int_equal(json_array_size(roots), 9);
	json_array_foreach(leaves, i, v)
	{
		const char *s = json_string_value(v);
		uint8_t data[64];
		size_t n = strlen(s) / 2;
		assert_int_equal(pl_hex_decode_exact(data, n, s, strlen(s)), 0);
		pl_tlog_leaf_hash(lh[i], data, n);
	}
	assert_int_equal(pl_tlog_memstore_new(&m), 0);
	r = pl_tlog_memstore_reader(m);
	for (i = 0; i <= 8; i++) {
		if (i > 0)
			assert_int_equal(pl_tlog_memstore_append(m, &lh[i - 1], 1), 0);
		hex32(want, json_string_value(json_array_get(roots, i)));
		assert_int_equal(pl_tlog_tree_hash(&r, i, got), 0);
		assert_memory_equal(got, want, PL_HASH_BYTES);
	}
	/* Every complete subtree hash, read back through the stored-hash numbering. */
	json_array_foreach(nodes, level, v)
	{
		json_t *h;
		size_t k;
		json_array_foreach(v, k, h)
		{
			uint64_t idx = pl_tlog_stored_index((unsigned)level, k);
			hex32(want, json_string_value(h));
			assert_int_equal(r.read(r.ctx, &idx, 1, &got), 0);
			assert_memory_equal(got, want, PL_HASH_BYTES);
		}
	}
	/* Roots at every smaller size from the full store, too. */
	for (i = 0; i <= 8; i++) {
		hex32(want, json_string_value(json_array_get(roots, i)));
		assert_int_equal(pl_tlog_tree_hash(&r, i, got), 0);
		assert_memory_equal(got, want, PL_HASH_BYTES);
	}
	assert_int_equal(pl_tlog_tree_hash(&r, 9, got), PL_ENOTFOUND);
	pl_tlog_memstore_free(m);
	json_decref(root);
}

/* Reads an unsigned decimal following "key": in raw JSON text (values may exceed int64). */
static uint64_t raw_u64(const char *text, const char *key)
{
	char pat[64];
	const char *p, *e;
	uint64_t v;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(text, pat);
	assert_non_null(p);
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	for (e = p; *e >= '0' && *e <= '9'; e++)
		;
	assert_int_equal(pl_parse_u64(&v, p, (size_t)(e - p), UINT64_MAX), 0);
	return v;
}

/* Decodes a base64 hash; false when it is not exactly 32 bytes (the proof is then rejected). */
static bool b64_hash(hash_t out, json_t *v)
{
	const char *s = json_string_value(v);
	return s != NULL && pl_b64_decode_exact(out, PL_HASH_BYTES, s, strlen(s)) == 0;
}

/* Decodes the "proof" array; false when any element is not a 32-byte hash. */
static bool b64_proof(hash_t *out, size_t *n, json_t *proof)
{
	json_t *v;
	size_t i;

	*n = 0;
	if (json_is_null(proof))
		return true;
	if (json_array_size(proof) > PL_PROOF_MAX_HASHES)
		return false;
	json_array_foreach(proof, i, v)
	{
		if (!b64_hash(out[i], v))
			return false;
	}
	*n = json_array_size(proof);
	return true;
}

/* Runs one transparency-dev vector file; returns whether it ran as expected. */
static void run_vector(const char *path, bool inclusion, size_t *happy)
{
	size_t len;
	char *text = pl_test_read_file(path, &len);
	json_error_t err;
	json_t *j = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, &err);
	hash_t proof[PL_PROOF_MAX_HASHES], a, b;
	size_t np;
	bool want_err, ok;
	int rc = PL_EMALFORMED;

	if (j == NULL)
		fail_msg("%s: %s", path, err.text);
	want_err = json_is_true(json_object_get(j, "wantErr"));
	ok = b64_proof(proof, &np, json_object_get(j, "proof"));
	if (inclusion) {
		uint64_t idx = raw_u64(text, "leafIdx"), size = raw_u64(text, "treeSize");
		ok = ok && b64_hash(a, json_object_get(j, "leafHash")) &&
		     b64_hash(b, json_object_get(j, "root"));
		if (ok)
			rc = pl_tlog_verify_inclusion(a, idx, size, proof, np, b);
	} else {
		uint64_t s1 = raw_u64(text, "size1"), s2 = raw_u64(text, "size2");
		ok = ok && b64_hash(a, json_object_get(j, "root1")) &&
		     b64_hash(b, json_object_get(j, "root2"));
		if (ok)
			rc = pl_tlog_verify_consistency(s1, s2, a, b, proof, np);
	}
	if (want_err && rc == 0)
		fail_msg("%s: accepted, want an error", path);
	if (!want_err && rc != 0)
		fail_msg("%s: rejected (%d), want success", path, rc);
	if (!want_err)
		(*happy)++;
	json_decref(j);
	free(text);
}

static size_t run_vector_dir(const char *kind, size_t *happy)
{
	char dir[512];
	size_t count = 0;

	for (int sub = 0;; sub++) {
		DIR *d;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "%s/merkle/%s/%d", PL_VECTORS_DIR, kind, sub);
		d = opendir(dir);
		if (d == NULL)
			break;
		while ((e = readdir(d)) != NULL) {
			char path[1024];
			size_t n = strlen(e->d_name);
			if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			run_vector(path, strcmp(kind, "inclusion") == 0, happy);
			count++;
		}
		closedir(d);
	}
	return count;
}

/* Every transparency-dev/merkle inclusion and consistency vector, happy and mutated. */
static void test_merkle_vectors(void **state)
{
	size_t happy = 0, n;

	(void)state;
	n = run_vector_dir("inclusion", &happy);
	assert_int_equal(n, 82);
	assert_int_equal(happy, 5);
	happy = 0;
	n = run_vector_dir("consistency", &happy);
	assert_int_equal(n, 84);
	assert_int_equal(happy, 5);
}

static void test_stored_index(void **state)
{
	unsigned level;
	uint64_t n;

	(void)state;
	assert_int_equal(pl_tlog_stored_count(0), 0);
	assert_int_equal(pl_tlog_stored_count(1), 1);
	assert_int_equal(pl_tlog_stored_count(2), 3);
	assert_int_equal(pl_tlog_stored_count(3), 4);
	assert_int_equal(pl_tlog_stored_count(4), 7);
	assert_int_equal(pl_tlog_stored_index(0, 0), 0);
	assert_int_equal(pl_tlog_stored_index(0, 1), 1);
	assert_int_equal(pl_tlog_stored_index(1, 0), 2);
	assert_int_equal(pl_tlog_stored_index(0, 2), 3);
	assert_int_equal(pl_tlog_stored_index(2, 0), 6);
	assert_int_equal(pl_tlog_stored_index(62, 1), pl_tlog_stored_count(PL_TLOG_MAX_SIZE) - 2);
	assert_int_equal(pl_tlog_stored_index(63, 0), pl_tlog_stored_count(PL_TLOG_MAX_SIZE) - 1);
	/* Dense and invertible: walk the first indexes and some huge ones. */
	for (uint64_t i = 0; i < 100000; i++) {
		pl_tlog_stored_split(i, &level, &n);
		assert_int_equal(pl_tlog_stored_index(level, n), i);
	}
	for (int k = 0; k < 10000; k++) {
		uint64_t i = pl_test_rnd_below(&rng_state, pl_tlog_stored_count(PL_TLOG_MAX_SIZE));
		pl_tlog_stored_split(i, &level, &n);
		assert_true(level <= PL_TLOG_MAX_LEVEL);
		assert_int_equal(pl_tlog_stored_index(level, n), i);
	}
}

/* Empty-tree hash and the leaf/node hash prefixes. */
static void test_hashes(void **state)
{
	hash_t h, want, l, r;
	uint8_t buf[65];

	(void)state;
	pl_tlog_empty_hash(h);
	hex32(want, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_memory_equal(h, want, PL_HASH_BYTES);
	make_leaf(l, 1);
	make_leaf(r, 2);
	buf[0] = 1;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	pl_sha256(want, buf, sizeof(buf));
	pl_tlog_node_hash(h, l, r);
	assert_memory_equal(h, want, PL_HASH_BYTES);
	/* out may alias an input. */
	pl_tlog_node_hash(l, l, r);
	assert_memory_equal(l, want, PL_HASH_BYTES);
	/* The node hash (a dedicated two-block path on some CPUs) equals plain SHA-256. */
	for (int i = 0; i < 20000; i++) {
		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)pl_test_rnd(&rng_state);
		buf[0] = 1;
		memcpy(l, buf + 1, 32);
		memcpy(r, buf + 33, 32);
		pl_sha256(want, buf, sizeof(buf));
		pl_tlog_node_hash(h, l, r);
		assert_memory_equal(h, want, PL_HASH_BYTES);
		pl_tlog_node_hash(r, l, r);
		assert_memory_equal(r, want, PL_HASH_BYTES);
	}
	/* Leaf hashes of every length across several block boundaries equal plain SHA-256. */
	{
		uint8_t data[1 + 300];
		data[0] = 0x00;
		for (size_t n = 0; n <= 300; n++) {
			for (int rep = 0; rep < 8; rep++) {
				for (size_t k = 1; k <= n; k++)
					data[k] = (uint8_t)pl_test_rnd(&rng_state);
				pl_sha256(want, data, n + 1);
				pl_tlog_leaf_hash(h, data + 1, n);
				assert_memory_equal(h, want, PL_HASH_BYTES);
			}
		}
	}
}

/* Batched appends write exactly what leaf-by-leaf appends write. */
static void test_append_batches(void **state)
{
	const uint64_t n = 3000;
	hash_t *leaves = leaves_new(n), *a, *b;
	struct pl_tlog_memstore *one, *many;
	struct pl_tlog_reader ra, rb;
	uint64_t done = 0, total = pl_tlog_stored_count(n);

	(void)state;
	assert_int_equal(pl_tlog_memstore_new(&one), 0);
	assert_int_equal(pl_tlog_memstore_new(&many), 0);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(pl_tlog_memstore_append(one, &leaves[i], 1), 0);
	while (done < n) {
		uint64_t k = 1 + pl_test_rnd_below(&rng_state, 300);
		if (k > n - done)
			k = n - done;
		assert_int_equal(pl_tlog_memstore_append(many, leaves + done, (size_t)k), 0);
		done += k;
	}
	assert_int_equal(pl_tlog_memstore_append(many, leaves, 0), 0);
	ra = pl_tlog_memstore_reader(one);
	rb = pl_tlog_memstore_reader(many);
	a = calloc(256, sizeof(hash_t));
	b = calloc(256, sizeof(hash_t));
	assert_non_null(a);
	assert_non_null(b);
	for (uint64_t i = 0; i < total; i += 256) {
		uint64_t idx[256];
		size_t k = total - i < 256 ? (size_t)(total - i) : 256;
		for (size_t j = 0; j < k; j++)
			idx[j] = i + j;
		assert_int_equal(ra.read(ra.ctx, idx, k, a), 0);
		assert_int_equal(rb.read(rb.ctx, idx, k, b), 0);
		assert_memory_equal(a, b, k * PL_HASH_BYTES);
	}
	free(a);
	free(b);
	free(leaves);
	pl_tlog_memstore_free(one);
	pl_tlog_memstore_free(many);
}

/* Append reports the exact size of its output and refuses a short buffer. */
static void test_append_contract(void **state)
{
	hash_t leaves[4], out[16];
	struct pl_tlog_memstore *m = NULL;
	struct pl_tlog_reader r;
	size_t nout = 99;

	(void)state;
	for (int i = 0; i < 4; i++)
		make_leaf(leaves[i], (uint64_t)i);
	assert_int_equal(pl_tlog_memstore_new(&m), 0);
	r = pl_tlog_memstore_reader(m);
	assert_int_equal(pl_tlog_append(&r, 0, leaves, 4, out, 6, &nout), PL_ETOOBIG);
	assert_int_equal(nout, 99);
	assert_int_equal(pl_tlog_append(&r, 0, leaves, 4, out, 7, &nout), 0);
	assert_int_equal(nout, 7);
	assert_int_equal(pl_tlog_append(&r, 0, leaves, 0, out, 0, &nout), 0);
	assert_int_equal(nout, 0);
	/* The store has nothing: appending to a claimed size of 1 must read and fail. */
	assert_int_equal(pl_tlog_append(&r, 1, leaves, 1, out, 16, &nout), PL_ENOTFOUND);
	assert_int_equal(pl_tlog_append(&r, PL_TLOG_MAX_SIZE, leaves, 1, out, 16, &nout),
	                 PL_ERANGE);
	assert_int_equal(pl_tlog_append(NULL, 0, leaves, 1, out, 16, &nout), PL_EINVAL);
	pl_tlog_memstore_free(m);
}

static int failing_read(void *ctx, const uint64_t *indexes, size_t n,
                        uint8_t (*hashes)[PL_HASH_BYTES])
{
	(void)ctx;
	(void)indexes;
	(void)n;
	(void)hashes;
	return PL_ESTORE;
}

/* A storage error comes back unchanged from every reading function. */
static void test_reader_errors(void **state)
{
	struct pl_tlog_reader r = {failing_read, NULL};
	hash_t h, proof[PL_PROOF_MAX_HASHES], leaf;
	size_t n;

	(void)state;
	make_leaf(leaf, 0);
	assert_int_equal(pl_tlog_tree_hash(&r, 5, h), PL_ESTORE);
	assert_int_equal(pl_tlog_tree_hash(&r, 0, h), 0); /* the empty tree reads nothing */
	assert_int_equal(pl_tlog_prove_inclusion(&r, 5, 2, proof, &n), PL_ESTORE);
	assert_int_equal(pl_tlog_prove_consistency(&r, 3, 5, proof, &n), PL_ESTORE);
	assert_int_equal(pl_tlog_append(&r, 1, &leaf, 1, proof, PL_PROOF_MAX_HASHES, &n),
	                 PL_ESTORE);
	/* Appending to a power of two... plus one leaf needs no read. */
	assert_int_equal(pl_tlog_append(&r, 4, &leaf, 1, proof, PL_PROOF_MAX_HASHES, &n), 0);
	assert_int_equal(n, 1);
	/* Ranges are checked before any read. */
	assert_int_equal(pl_tlog_prove_inclusion(&r, 5, 5, proof, &n), PL_ERANGE);
	assert_int_equal(pl_tlog_prove_consistency(&r, 6, 5, proof, &n), PL_ERANGE);
	assert_int_equal(pl_tlog_prove_consistency(&r, 0, 5, proof, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pl_tlog_prove_consistency(&r, 5, 5, proof, &n), 0);
	assert_int_equal(n, 0);
}

/* Proofs produced from the store equal the RFC's recursive definitions and verify. */
static void test_random_cross_check(void **state)
{
	const uint64_t n = 1200;
	hash_t *leaves = leaves_new(n);
	struct pl_tlog_memstore *m = store_with(leaves, n);
	struct pl_tlog_reader r = pl_tlog_memstore_reader(m);
	hash_t proof[PL_PROOF_MAX_HASHES], ref[PL_PROOF_MAX_HASHES], root, root2, want;
	size_t np, nref;

	(void)state;
	for (uint64_t size = 0; size <= n;
	     size += (size < 70 ? 1 : 1 + pl_test_rnd_below(&rng_state, 40))) {
		ref_mth(want, leaves, 0, size);
		assert_int_equal(pl_tlog_tree_hash(&r, size, root), 0);
		assert_memory_equal(root, want, PL_HASH_BYTES);
		for (int t = 0; t < 8 && size > 0; t++) {
			uint64_t idx = t == 0 ? size - 1 : pl_test_rnd_below(&rng_state, size);
			assert_int_equal(pl_tlog_prove_inclusion(&r, size, idx, proof, &np), 0);
			nref = 0;
			ref_path(ref, &nref, idx, leaves, 0, size);
			assert_int_equal(np, nref);
			assert_memory_equal(proof, ref, np * PL_HASH_BYTES);
			assert_int_equal(
			        pl_tlog_verify_inclusion(leaves[idx], idx, size, proof, np, root),
			        0);
			/*
			 * Wrong index, truncated, extended, flipped bit: all fail. (A wrong
			 * size alone may not: a root does not commit to its tree's size.)
			 */
			if (size > 1)
				assert_int_equal(pl_tlog_verify_inclusion(leaves[idx],
				                                          (idx + 1) % size, size,
				                                          proof, np, root),
				                 PL_EPROOF);
			if (np > 0) {
				assert_int_equal(pl_tlog_verify_inclusion(leaves[idx], idx, size,
				                                          proof, np - 1, root),
				                 PL_EPROOF);
				proof[np - 1][pl_test_rnd_below(&rng_state, 32)] ^=
				        (uint8_t)(1u << pl_test_rnd_below(&rng_state, 8));
				assert_int_equal(pl_tlog_verify_inclusion(leaves[idx], idx, size,
				                                          proof, np, root),
				                 PL_EPROOF);
			}
			memcpy(proof[np], root, PL_HASH_BYTES);
			assert_int_equal(pl_tlog_verify_inclusion(leaves[idx], idx, size, proof,
			                                          np + 1, root),
			                 PL_EPROOF);
		}
		for (int t = 0; t < 8; t++) {
			uint64_t old = t == 0 ? size : pl_test_rnd_below(&rng_state, size + 1);
			assert_int_equal(pl_tlog_prove_consistency(&r, old, size, proof, &np), 0);
			nref = 0;
			if (old > 0 && old < size)
				ref_subproof(ref, &nref, old, leaves, 0, size, 1);
			assert_int_equal(np, nref);
			assert_memory_equal(proof, ref, np * PL_HASH_BYTES);
			assert_int_equal(pl_tlog_tree_hash(&r, old, root2), 0);
			assert_int_equal(
			        pl_tlog_verify_consistency(old, size, root2, root, proof, np), 0);
			if (old > 0 && old < size) {
				assert_int_equal(pl_tlog_verify_consistency(old, size, root, root2,
				                                            proof, np),
				                 PL_EPROOF);
				assert_int_equal(pl_tlog_verify_consistency(old - 1, size, root2,
				                                            root, proof, np),
				                 PL_EPROOF);
				proof[pl_test_rnd_below(&rng_state, np)]
				     [pl_test_rnd_below(&rng_state, 32)] ^= 0x10;
				assert_int_equal(pl_tlog_verify_consistency(old, size, root2, root,
				                                            proof, np),
				                 PL_EPROOF);
			}
		}
	}
	pl_tlog_memstore_free(m);
	free(leaves);
}

/* The explicit special cases of RFC 9162 §2.1.4.2 and the limits. */
static void test_verify_edges(void **state)
{
	hash_t empty, a, b, proof[PL_PROOF_MAX_HASHES + 1];

	(void)state;
	pl_tlog_empty_hash(empty);
	make_leaf(a, 0);
	make_leaf(b, 1);
	memset(proof, 0, sizeof(proof));
	/* From the empty tree: only with an empty proof and the empty root. */
	assert_int_equal(pl_tlog_verify_consistency(0, 5, empty, a, NULL, 0), 0);
	assert_int_equal(pl_tlog_verify_consistency(0, 0, empty, empty, NULL, 0), 0);
	assert_int_equal(pl_tlog_verify_consistency(0, 5, a, b, NULL, 0), PL_EPROOF);
	assert_int_equal(pl_tlog_verify_consistency(0, 5, empty, a, proof, 1), PL_EPROOF);
	/* Same size: roots equal, proof empty. */
	assert_int_equal(pl_tlog_verify_consistency(3, 3, a, a, NULL, 0), 0);
	assert_int_equal(pl_tlog_verify_consistency(3, 3, a, b, NULL, 0), PL_EPROOF);
	assert_int_equal(pl_tlog_verify_consistency(3, 3, a, a, proof, 1), PL_EPROOF);
	/* Shrinking, empty proof, oversize proof. */
	assert_int_equal(pl_tlog_verify_consistency(4, 3, a, b, proof, 1), PL_EPROOF);
	assert_int_equal(pl_tlog_verify_consistency(1, 2, a, b, NULL, 0), PL_EPROOF);
	assert_int_equal(pl_tlog_verify_consistency(1, 2, a, b, proof, PL_PROOF_MAX_HASHES + 1),
	                 PL_EPROOF);
	assert_int_equal(pl_tlog_verify_consistency(1, UINT64_MAX, a, b, proof, 1), PL_EPROOF);
	/* Inclusion: index out of range, single-leaf tree, oversize proof. */
	assert_int_equal(pl_tlog_verify_inclusion(a, 0, 0, NULL, 0, a), PL_EPROOF);
	assert_int_equal(pl_tlog_verify_inclusion(a, 0, 1, NULL, 0, a), 0);
	assert_int_equal(pl_tlog_verify_inclusion(a, 1, 1, NULL, 0, a), PL_EPROOF);
	assert_int_equal(pl_tlog_verify_inclusion(a, UINT64_MAX, 1, NULL, 0, a), PL_EPROOF);
	assert_int_equal(pl_tlog_verify_inclusion(a, 0, 2, proof, PL_PROOF_MAX_HASHES + 1, a),
	                 PL_EPROOF);
	assert_int_equal(pl_tlog_verify_inclusion(a, 0, 2, NULL, 1, a), PL_EPROOF);
	/* A proof as long as the biggest tree allows is shaped right for that tree only. */
	assert_int_equal(pl_tlog_verify_inclusion(a, 0, UINT64_MAX, proof, 64, a), PL_EPROOF);
}

/*
 * Large indexes: proofs in trees near 2^63 leaves through a synthetic store
 * whose leaves are all equal, so the hash of a complete subtree depends only
 * on its level and the store stays consistent without holding anything.
 */
static hash_t level_hash[64];

static int synthetic_read(void *ctx, const uint64_t *indexes, size_t n,
                          uint8_t (*hashes)[PL_HASH_BYTES])
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		unsigned level;
		uint64_t k;
		pl_tlog_stored_split(indexes[i], &level, &k);
		memcpy(hashes[i], level_hash[level], PL_HASH_BYTES);
	}
	return 0;
}

static void test_huge_tree(void **state)
{
	struct pl_tlog_reader r = {synthetic_read, NULL};
	hash_t proof[PL_PROOF_MAX_HASHES], root, leaf;
	uint64_t sizes[] = {PL_TLOG_MAX_SIZE, PL_TLOG_MAX_SIZE - 1, (UINT64_C(1) << 62) + 12345};
	size_t np;

	(void)state;
	make_leaf(level_hash[0], 42);
	for (int l = 1; l < 64; l++)
		pl_tlog_node_hash(level_hash[l], level_hash[l - 1], level_hash[l - 1]);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t size = sizes[s], idx = size - 1;
		uint64_t one = pl_tlog_stored_index(0, idx);
		assert_int_equal(pl_tlog_tree_hash(&r, size, root), 0);
		assert_int_equal(pl_tlog_prove_inclusion(&r, size, idx, proof, &np), 0);
		assert_true(np <= 63);
		assert_int_equal(synthetic_read(NULL, &one, 1, &leaf), 0);
		assert_int_equal(pl_tlog_verify_inclusion(leaf, idx, size, proof, np, root), 0);
	}
	assert_int_equal(pl_tlog_tree_hash(&r, PL_TLOG_MAX_SIZE + 1, root), PL_ERANGE);
	assert_int_equal(pl_tlog_prove_inclusion(&r, PL_TLOG_MAX_SIZE + 1, 0, proof, &np),
	                 PL_ERANGE);
	assert_int_equal(pl_tlog_prove_consistency(&r, 1, PL_TLOG_MAX_SIZE + 1, proof, &np),
	                 PL_ERANGE);
	assert_int_equal(pl_tlog_prove_consistency(&r, 12345, PL_TLOG_MAX_SIZE - 3, proof, &np), 0);
	assert_true(np <= PL_PROOF_MAX_HASHES);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_hashes), cmocka_unit_test(test_ct_vectors),
             cmocka_unit_test(test_merkle_vectors), cmocka_unit_test(test_stored_index),
             cmocka_unit_test(test_append_batches), cmocka_unit_test(test_append_contract),
             cmocka_unit_test(test_reader_errors), cmocka_unit_test(test_random_cross_check),
             cmocka_unit_test(test_verify_edges), cmocka_unit_test(test_huge_tree))
