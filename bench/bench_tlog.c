/* Benchmark: Merkle appends, proofs produced and verified at 1M leaves, next to raw SHA-256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <parley/tiles.h>
#include <parley/tlog.h>

#include "bench_util.h"

#define SECONDS 0.5 /* per figure */
#define NLEAVES 1000000u
#define NPROOFS 4096 /* proofs prepared for the verification figures */

typedef uint8_t hash_t[PL_HASH_BYTES];

static uint64_t rng = 0x853c49e6748fea9bu;

static struct pl_tlog_memstore *store;
static struct pl_tlog_reader reader;
static hash_t root, sink;

struct incl {
	uint64_t index;
	hash_t leaf;
	size_t n;
	hash_t proof[64];
};

struct cons {
	uint64_t old;
	hash_t old_root;
	size_t n;
	hash_t proof[PL_PROOF_MAX_HASHES];
};

static struct incl *incls;
static struct cons *conss;
static size_t cursor;

/* The baseline: a raw SHA-256 (libsodium) of the 65 bytes of one node hash. */
static int op_raw_sha256(void)
{
	uint8_t in[1 + 2 * PL_HASH_BYTES];

	in[0] = 0x01;
	memcpy(in + 1, sink, PL_HASH_BYTES);
	memcpy(in + 1 + PL_HASH_BYTES, root, PL_HASH_BYTES);
	return crypto_hash_sha256(sink, in, sizeof(in));
}

static int op_prove_inclusion(void)
{
	hash_t proof[PL_PROOF_MAX_HASHES];
	size_t n;

	return pl_tlog_prove_inclusion(&reader, NLEAVES, pl_bench_rnd(&rng) % NLEAVES, proof, &n);
}

static int op_verify_inclusion(void)
{
	const struct incl *c = &incls[cursor++ % NPROOFS];

	return pl_tlog_verify_inclusion(c->leaf, c->index, NLEAVES,
	                                (const uint8_t(*)[PL_HASH_BYTES])c->proof, c->n, root);
}

static int op_prove_consistency(void)
{
	hash_t proof[PL_PROOF_MAX_HASHES];
	size_t n;

	return pl_tlog_prove_consistency(&reader, 1 + pl_bench_rnd(&rng) % (NLEAVES - 1), NLEAVES,
	                                 proof, &n);
}

static int op_verify_consistency(void)
{
	const struct cons *c = &conss[cursor++ % NPROOFS];

	return pl_tlog_verify_consistency(c->old, NLEAVES, c->old_root, root,
	                                  (const uint8_t(*)[PL_HASH_BYTES])c->proof, c->n);
}

/* A client holding tiles: hash tiles served straight from the store into a view. */
static int serve_tile(void *ctx, const struct pl_tile *t, uint8_t *out)
{
	size_t len;

	(void)ctx;
	return pl_tiles_read_hash_tile(&reader, t, out, &len);
}

static struct pl_tiles_view view;

static int op_prove_inclusion_tiles(void)
{
	struct pl_tlog_reader vr = pl_tiles_view_reader(&view);
	hash_t proof[PL_PROOF_MAX_HASHES];
	size_t n;

	return pl_tlog_prove_inclusion(&vr, NLEAVES, pl_bench_rnd(&rng) % NLEAVES, proof, &n);
}

static int report(const char *name, double r, double base, const char *base_name)
{
	if (r < 0) {
		printf("%s: FAILED\n", name);
		return 1;
	}
	printf("%s: %.0f ops/s (%.2f x %s)\n", name, r, r / base, base_name);
	return 0;
}

/* Producing and verifying one kind of proof at 1M leaves, and the verification target. */
static int proof_figures(const char *kind, int (*prove)(void), int (*verify)(void), double node)
{
	char name[64];
	double v;
	int bad;

	snprintf(name, sizeof(name), "%s proof produced at 1M", kind);
	bad = report(name, pl_bench_rate(prove, 64, SECONDS), node, "node-hash baseline");
	v = pl_bench_rate(verify, 64, SECONDS);
	snprintf(name, sizeof(name), "%s proof verified at 1M", kind);
	bad |= report(name, v, node, "node-hash baseline");
	printf("%s verification target 80000/s: %s\n", kind, v >= 80000 ? "met" : "MISSED");
	return bad;
}

int main(void)
{
	hash_t *batch;
	double node, two_nodes, append, t;
	uint8_t entry[64];
	int bad = 0;

	if (sodium_init() < 0 || pl_tlog_memstore_new(&store) != 0)
		return 1;
	reader = pl_tlog_memstore_reader(store);
	memset(entry, 0x5a, sizeof(entry));
	node = pl_bench_rate(op_raw_sha256, 64, SECONDS);
	two_nodes = node / 2;
	printf("baseline raw sha256 of 65 bytes: %.0f ops/s\n", node);
	printf("baseline two node hashes per leaf: %.0f ops/s\n", two_nodes);

	/* Appends one leaf at a time, hashing a 64-byte entry each time, as a sequencer would. */
	t = pl_bench_now();
	for (uint32_t i = 0; i < NLEAVES; i++) {
		hash_t leaf;
		memcpy(entry, &i, sizeof(i));
		pl_tlog_leaf_hash(leaf, entry, sizeof(entry));
		if (pl_tlog_memstore_append(store, (const uint8_t(*)[PL_HASH_BYTES]) & leaf, 1) !=
		    0)
			return 1;
	}
	append = NLEAVES / (pl_bench_now() - t);
	bad |= report("append one leaf (64-byte entry) up to 1M leaves", append, two_nodes,
	              "two-node-hash baseline");
	if (pl_tlog_tree_hash(&reader, NLEAVES, root) != 0)
		return 1;

	/* Batched appends of ready leaf hashes into a second store, 1,000 per batch. */
	{
		struct pl_tlog_memstore *m2;
		batch = malloc(1000 * sizeof(hash_t));
		if (batch == NULL || pl_tlog_memstore_new(&m2) != 0)
			return 1;
		t = pl_bench_now();
		for (uint32_t i = 0; i < NLEAVES; i += 1000) {
			for (uint32_t k = 0; k < 1000; k++) {
				memcpy(entry, &(uint32_t){i + k}, sizeof(uint32_t));
				pl_tlog_leaf_hash(batch[k], entry, sizeof(entry));
			}
			if (pl_tlog_memstore_append(m2, (const uint8_t(*)[PL_HASH_BYTES])batch,
			                            1000) != 0)
				return 1;
		}
		bad |= report("append in batches of 1,000 up to 1M leaves",
		              NLEAVES / (pl_bench_now() - t), two_nodes, "two-node-hash baseline");
		pl_tlog_memstore_free(m2);
		free(batch);
	}

	incls = calloc(NPROOFS, sizeof(*incls));
	conss = calloc(NPROOFS, sizeof(*conss));
	if (incls == NULL || conss == NULL)
		return 1;
	for (size_t i = 0; i < NPROOFS; i++) {
		uint64_t li;
		incls[i].index = pl_bench_rnd(&rng) % NLEAVES;
		li = pl_tlog_stored_index(0, incls[i].index);
		if (reader.read(reader.ctx, &li, 1, &incls[i].leaf) != 0 ||
		    pl_tlog_prove_inclusion(&reader, NLEAVES, incls[i].index, incls[i].proof,
		                            &incls[i].n) != 0)
			return 1;
		conss[i].old = 1 + pl_bench_rnd(&rng) % (NLEAVES - 1);
		if (pl_tlog_tree_hash(&reader, conss[i].old, conss[i].old_root) != 0 ||
		    pl_tlog_prove_consistency(&reader, conss[i].old, NLEAVES, conss[i].proof,
		                              &conss[i].n) != 0)
			return 1;
	}
	bad |= proof_figures("inclusion", op_prove_inclusion, op_verify_inclusion, node);
	bad |= proof_figures("consistency", op_prove_consistency, op_verify_consistency, node);
	{
		struct pl_tiles_source src = {serve_tile, NULL};
		pl_tiles_view_init(&view, NLEAVES, &src);
		bad |= report("inclusion proof produced from tiles at 1M",
		              pl_bench_rate(op_prove_inclusion_tiles, 64, SECONDS), node,
		              "node-hash baseline");
	}
	printf("append target 0.40 x two-node-hash baseline: %s\n",
	       append >= 0.4 * two_nodes ? "met" : "MISSED");
	free(incls);
	free(conss);
	pl_tlog_memstore_free(store);
	return bad;
}
