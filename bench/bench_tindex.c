/* Benchmark: thread-index updates per key, proof sizes and verification, next to raw SHA-256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <parley/tindex.h>

#include "bench_util.h"

#define SECONDS  0.25 /* per figure */
#define NPROOFS  256  /* proofs prepared for the verification figures */
#define MAXBATCH 256
#define CHUNK    65536 /* keys per update while building a tree */

typedef uint8_t hash_t[PL_HASH_BYTES];

static uint64_t rng = 0x853c49e6748fea9bu;

/* Key number i of a tree: distinct, and reproducible without storing them. */
static void key_of(hash_t key, uint64_t i)
{
	memset(key, 0, PL_HASH_BYTES);
	memcpy(key, &i, sizeof(i));
	key[31] = 0x6b;
}

/* Raw SHA-256 of 65 bytes per second (libsodium): the unit of every other figure. */
static double baseline(void)
{
	uint8_t in[65] = {0}, out[PL_HASH_BYTES];
	double start = pl_bench_now(), t;
	long n = 0;

	do {
		for (int i = 0; i < 256; i++) {
			crypto_hash_sha256(out, in, sizeof(in));
			in[1] ^= out[0];
		}
		n += 256;
		t = pl_bench_now() - start;
	} while (t < SECONDS);
	return (double)n / t;
}

struct tree {
	struct pl_tindex_memstore *m;
	struct pl_tindex *t;
	uint64_t nkeys, next_index;
};

/* A tree of nkeys keys, one entry each. Returns 0 or -1. */
static int build(struct tree *tr, uint64_t nkeys)
{
	static struct pl_tindex_ref refs[CHUNK];
	struct pl_tindex_store s;

	if (pl_tindex_memstore_new(&tr->m) != 0)
		return -1;
	s = pl_tindex_memstore_store(tr->m);
	if (pl_tindex_open(&tr->t, &s) != 0)
		return -1;
	tr->nkeys = nkeys;
	for (uint64_t i = 0; i < nkeys; i += CHUNK) {
		size_t n = nkeys - i < CHUNK ? (size_t)(nkeys - i) : CHUNK;
		for (size_t k = 0; k < n; k++) {
			key_of(refs[k].key, i + k);
			memset(refs[k].id, 0x11, PL_HASH_BYTES);
			refs[k].index = i + k;
		}
		if (pl_tindex_update(tr->t, refs, n) != 0)
			return -1;
	}
	tr->next_index = nkeys;
	return 0;
}

/*
 * Batches of batch references to random keys of the first half of the tree
 * (so that the second half keeps one entry for the proofs), for about
 * SECONDS or maxbatches batches. Returns seconds per reference, or -1.
 */
static double update_cost(struct tree *tr, size_t batch, long maxbatches)
{
	struct pl_tindex_ref refs[MAXBATCH];
	uint64_t half = tr->nkeys / 2;
	double start = pl_bench_now(), t;
	long n = 0;

	do {
		for (size_t k = 0; k < batch; k++) {
			key_of(refs[k].key, pl_bench_rnd(&rng) % half);
			memset(refs[k].id, (int)(k & 0xff), PL_HASH_BYTES);
			refs[k].index = tr->next_index++;
		}
		if (pl_tindex_update(tr->t, refs, batch) != 0)
			return -1;
		n++;
		t = pl_bench_now() - start;
	} while (t < SECONDS && n < maxbatches);
	return t / ((double)n * (double)batch);
}

static struct pl_tindex_proof *proofs[NPROOFS];
static hash_t proof_keys[NPROOFS];

/* Proves NPROOFS keys of the second half (present) or never added (absent); mean text size. */
static double prepare_proofs(struct tree *tr, bool present)
{
	struct pl_tindex_entry e;
	struct pl_buf b;
	double bytes = 0;

	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	memset(e.id, 0x11, PL_HASH_BYTES);
	for (size_t i = 0; i < NPROOFS; i++) {
		uint64_t k =
		        present ? tr->nkeys / 2 + pl_bench_rnd(&rng) % (tr->nkeys - tr->nkeys / 2)
		                : tr->nkeys + pl_bench_rnd(&rng) % 1000000000;
		key_of(proof_keys[i], k);
		e.index = k;
		pl_tindex_proof_free(proofs[i]);
		proofs[i] = NULL;
		if (pl_tindex_prove(tr->t, proof_keys[i], &e, present ? 1 : 0, &proofs[i]) != 0)
			return -1;
		pl_buf_reset(&b);
		if (pl_tindex_proof_format(&b, proofs[i]) != 0)
			return -1;
		bytes += (double)b.len;
	}
	pl_buf_release(&b);
	return bytes / NPROOFS;
}

/* Seconds per verification of the prepared proofs, or -1. */
static double verify_cost(struct tree *tr)
{
	hash_t root;
	double start = pl_bench_now(), t;
	long n = 0;

	pl_tindex_root(tr->t, root);
	do {
		for (size_t i = 0; i < NPROOFS; i++) {
			if (pl_tindex_proof_verify(proofs[i], proof_keys[i], root) != 0)
				return -1;
		}
		n += NPROOFS;
		t = pl_bench_now() - start;
	} while (t < SECONDS);
	return t / (double)n;
}

int main(void)
{
	static const uint64_t sizes[] = {100, 10000, 1000000};
	double base, per_hash;
	int bad = 0;

	if (sodium_init() < 0)
		return 1;
	base = baseline();
	per_hash = 1.0 / base;
	printf("baseline raw sha256 of 65 bytes: %.0f ops/s (%.3f us)\n", base, per_hash * 1e6);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct tree tr = {0};
		double t = pl_bench_now(), c16, c256, psize, asize, vp, va;

		if (build(&tr, sizes[s]) != 0) {
			printf("tree of %llu keys: FAILED to build\n",
			       (unsigned long long)sizes[s]);
			return 1;
		}
		t = pl_bench_now() - t;
		printf("tree of %llu keys: built in %.2f s (%.1f sha256 each), %zu nodes\n",
		       (unsigned long long)sizes[s], t, t / per_hash / (double)sizes[s],
		       pl_tindex_memstore_count(tr.m));
		c16 = update_cost(&tr, 16, 4000);
		c256 = update_cost(&tr, 256, 250);
		psize = prepare_proofs(&tr, true);
		vp = verify_cost(&tr);
		asize = prepare_proofs(&tr, false);
		va = verify_cost(&tr);
		if (c16 < 0 || c256 < 0 || psize < 0 || asize < 0 || vp < 0 || va < 0) {
			printf("  FAILED\n");
			bad = 1;
		} else {
			printf("  update, batches of 16:  %.2f us per key (%.1f x sha256)\n",
			       c16 * 1e6, c16 / per_hash);
			printf("  update, batches of 256: %.2f us per key (%.1f x sha256)\n",
			       c256 * 1e6, c256 / per_hash);
			printf("  proof of presence (1 entry): %.0f bytes, verified in %.2f us "
			       "(%.1f x "
			       "sha256)\n",
			       psize, vp * 1e6, vp / per_hash);
			printf("  proof of absence: %.0f bytes, verified in %.2f us (%.1f x "
			       "sha256)\n",
			       asize, va * 1e6, va / per_hash);
		}
		for (size_t i = 0; i < NPROOFS; i++) {
			pl_tindex_proof_free(proofs[i]);
			proofs[i] = NULL;
		}
		pl_tindex_free(tr.t);
		pl_tindex_memstore_free(tr.m);
	}
	return bad;
}
