/* RFC 6962 / RFC 9162 Merkle tree: stored-hash numbering, appends, tree hashes, proofs. */
#include <parley/tlog.h>

#include <stdlib.h>

#include <sodium.h>

#include "internal.h"

/*
 * Proof production works on "ranges" [lo, hi) of leaves whose Merkle Tree
 * Hash (RFC 9162 §2.1.1) the proof needs. Every range the RFC's recursion
 * produces starts at a multiple of a power of two at least as large as the
 * range, so it splits, left to right, into complete subtrees of decreasing
 * size ("blocks"), one per set bit of hi - lo; its hash is the right fold of
 * the blocks' hashes. At most one range per proof is not itself complete, so
 * a proof needs fewer than 2 * 64 blocks.
 */
#define MAX_RANGES 64
#define MAX_BLOCKS 256

struct range {
	uint64_t lo, hi;
};

struct plan {
	struct range ranges[MAX_RANGES];
	size_t nranges;
	uint64_t idx[MAX_BLOCKS]; /* stored indexes of every block, sorted, unique */
	size_t nidx;
};

/* Bit count without a libgcc call (no -mpopcnt here): stored indexes are computed often. */
static unsigned popcount64(uint64_t x)
{
	x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
	return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* Largest power of two strictly less than n, for n >= 2. */
static uint64_t split_point(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

void pl_tlog_leaf_hash(uint8_t out[static PL_HASH_BYTES], const void *data, size_t len)
{
	crypto_hash_sha256_state st;
	const uint8_t prefix = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

void pl_tlog_node_hash(uint8_t out[static PL_HASH_BYTES], const uint8_t left[static PL_HASH_BYTES],
                       const uint8_t right[static PL_HASH_BYTES])
{
	uint8_t in[1 + 2 * PL_HASH_BYTES];

	in[0] = 0x01;
	memcpy(in + 1, left, PL_HASH_BYTES);
	memcpy(in + 1 + PL_HASH_BYTES, right, PL_HASH_BYTES);
	crypto_hash_sha256(out, in, sizeof(in));
}

void pl_tlog_empty_hash(uint8_t out[static PL_HASH_BYTES])
{
	crypto_hash_sha256(out, (const unsigned char *)"", 0);
}

uint64_t pl_tlog_stored_count(uint64_t size)
{
	return 2 * size - popcount64(size);
}

uint64_t pl_tlog_stored_index(unsigned level, uint64_t n)
{
	/* Written right after the hash of its last leaf, one slot per level. */
	uint64_t last = ((n + 1) << level) - 1;
	return pl_tlog_stored_count(last) + level;
}

void pl_tlog_stored_split(uint64_t index, unsigned *level, uint64_t *n)
{
	/* Find the leaf m whose append wrote index: stored_count(m) <= index < stored_count(m+1).
	 */
	uint64_t m = index / 2;

	while (pl_tlog_stored_count(m + 1) <= index)
		m++;
	*level = (unsigned)(index - pl_tlog_stored_count(m));
	*n = m >> *level;
}

/* Stored index of the block (complete subtree) [lo, lo + 2^level). */
static uint64_t block_index(uint64_t lo, unsigned level)
{
	return pl_tlog_stored_index(level, lo >> level);
}

static int plan_add_range(struct plan *p, uint64_t lo, uint64_t hi)
{
	int ret = PL_ERANGE;

	if (p->nranges < MAX_RANGES) {
		p->ranges[p->nranges].lo = lo;
		p->ranges[p->nranges].hi = hi;
		p->nranges++;
		ret = 0;
	}
	return ret;
}

/* Reverses the ranges: the recursion finds them root first, proofs list them leaf first. */
static void plan_reverse(struct plan *p)
{
	for (size_t i = 0, j = p->nranges; i + 1 < j; i++, j--) {
		struct range t = p->ranges[i];
		p->ranges[i] = p->ranges[j - 1];
		p->ranges[j - 1] = t;
	}
}

/* Inserts a stored index keeping idx sorted and unique. */
static int plan_add_index(struct plan *p, uint64_t x)
{
	size_t i = p->nidx;
	int ret = 0;

	while (i > 0 && p->idx[i - 1] > x)
		i--;
	if (i > 0 && p->idx[i - 1] == x)
		goto out;
	if (p->nidx == MAX_BLOCKS) {
		ret = PL_ERANGE;
		goto out;
	}
	memmove(&p->idx[i + 1], &p->idx[i], (p->nidx - i) * sizeof(p->idx[0]));
	p->idx[i] = x;
	p->nidx++;
out:
	return ret;
}

static size_t plan_find(const struct plan *p, uint64_t x)
{
	size_t lo = 0, hi = p->nidx;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->idx[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Collects the stored indexes of every block of every range. */
static int plan_collect(struct plan *p)
{
	int ret = 0;

	p->nidx = 0;
	for (size_t i = 0; i < p->nranges && ret == 0; i++) {
		uint64_t lo = p->ranges[i].lo, left = p->ranges[i].hi - p->ranges[i].lo;
		for (int level = 63; level >= 0 && ret == 0; level--) {
			if (!(left >> level & 1))
				continue;
			ret = plan_add_index(p, block_index(lo, (unsigned)level));
			lo += UINT64_C(1) << level;
		}
	}
	return ret;
}

/*
 * Reads the planned hashes in one call (in chunks of PL_TLOG_READ_MAX) and
 * writes the hash of each range to out[i].
 */
static int plan_compute(const struct pl_tlog_reader *r, const struct plan *p,
                        uint8_t (*out)[PL_HASH_BYTES])
{
	uint8_t hashes[MAX_BLOCKS][PL_HASH_BYTES];
	int ret = 0;

	for (size_t off = 0; off < p->nidx && ret == 0; off += PL_TLOG_READ_MAX) {
		size_t n = p->nidx - off < PL_TLOG_READ_MAX ? p->nidx - off : PL_TLOG_READ_MAX;
		ret = r->read(r->ctx, p->idx + off, n, hashes + off);
	}
	for (size_t i = 0; i < p->nranges && ret == 0; i++) {
		uint64_t lo = p->ranges[i].lo, left = p->ranges[i].hi - p->ranges[i].lo;
		unsigned levels[64];
		uint64_t starts[64];
		size_t nb = 0;

		for (int level = 63; level >= 0; level--) {
			if (!(left >> level & 1))
				continue;
			levels[nb] = (unsigned)level;
			starts[nb++] = lo;
			lo += UINT64_C(1) << level;
		}
		/* Right fold: H(b0, H(b1, ... H(b_{k-2}, b_{k-1}))). */
		memcpy(out[i], hashes[plan_find(p, block_index(starts[nb - 1], levels[nb - 1]))],
		       PL_HASH_BYTES);
		for (size_t b = nb - 1; b-- > 0;)
			pl_tlog_node_hash(out[i],
			                  hashes[plan_find(p, block_index(starts[b], levels[b]))],
			                  out[i]);
	}
	return ret;
}

int pl_tlog_append(const struct pl_tlog_reader *r, uint64_t size,
                   const uint8_t (*leaf_hashes)[PL_HASH_BYTES], size_t count,
                   uint8_t (*out)[PL_HASH_BYTES], size_t out_cap, size_t *nout)
{
	uint8_t frontier[64][PL_HASH_BYTES];
	const uint8_t
	        *pending[64]; /* pending[j]: a complete level-j subtree awaiting its sibling */
	uint64_t want[64];
	unsigned want_level[64];
	size_t nwant = 0, k = 0;
	uint64_t end, total;
	int ret = 0;

	if (r == NULL || nout == NULL || (count > 0 && (leaf_hashes == NULL || out == NULL))) {
		ret = PL_EINVAL;
		goto out;
	}
	if (size > PL_TLOG_MAX_SIZE || count > PL_TLOG_MAX_SIZE - size) {
		ret = PL_ERANGE;
		goto out;
	}
	end = size + count;
	total = pl_tlog_stored_count(end) - pl_tlog_stored_count(size);
	if (total > out_cap) {
		ret = PL_ETOOBIG;
		goto out;
	}
	/*
	 * The only old hashes an append can need are the tree's frontier: for
	 * each set bit j of size, the level-j subtree just left of position
	 * size, and only if the batch completes its right sibling. Those
	 * siblings end further right as j grows, so the scan stops at the
	 * first one the batch does not complete.
	 */
	for (uint64_t bits = size; bits != 0; bits &= bits - 1) {
		unsigned j = (unsigned)__builtin_ctzll(bits);
		if ((((size >> j) + 1) << j) > end)
			break;
		want[nwant] = pl_tlog_stored_index(j, (size >> j) - 1);
		want_level[nwant++] = j;
	}
	if (nwant > 0) {
		uint8_t got[64][PL_HASH_BYTES];
		ret = r->read(r->ctx, want, nwant, got);
		if (ret != 0)
			goto out;
		for (size_t i = 0; i < nwant; i++) {
			memcpy(frontier[want_level[i]], got[i], PL_HASH_BYTES);
			pending[want_level[i]] = frontier[want_level[i]];
		}
	}
	/*
	 * Each leaf is hashed up through the levels where it completes a
	 * subtree (its trailing one bits); the top hash then waits as a left
	 * sibling. Everything lands in out in stored-index order.
	 */
	for (uint64_t m = size; m < end; m++) {
		unsigned j;
		memcpy(out[k], leaf_hashes[m - size], PL_HASH_BYTES);
		k++;
		for (j = 0; m >> j & 1; j++) {
			pl_tlog_node_hash(out[k], pending[j], out[k - 1]);
			k++;
		}
		pending[j] = out[k - 1];
	}
	*nout = k;
out:
	return ret;
}

int pl_tlog_tree_hash(const struct pl_tlog_reader *r, uint64_t size,
                      uint8_t out[static PL_HASH_BYTES])
{
	struct plan p;
	uint8_t h[1][PL_HASH_BYTES];
	int ret;

	if (r == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	if (size > PL_TLOG_MAX_SIZE) {
		ret = PL_ERANGE;
		goto out;
	}
	if (size == 0) {
		pl_tlog_empty_hash(out);
		ret = 0;
		goto out;
	}
	p.nranges = 0;
	ret = plan_add_range(&p, 0, size);
	if (ret == 0)
		ret = plan_collect(&p);
	if (ret == 0)
		ret = plan_compute(r, &p, h);
	if (ret == 0)
		memcpy(out, h[0], PL_HASH_BYTES);
out:
	return ret;
}

/* Computes the planned ranges' hashes into proof (already in leaf-to-root order). */
static int plan_finish(const struct pl_tlog_reader *r, struct plan *p,
                       uint8_t (*proof)[PL_HASH_BYTES], size_t *nproof)
{
	int ret = 0;

	plan_reverse(p);
	if (p->nranges > 0) {
		ret = plan_collect(p);
		if (ret == 0)
			ret = plan_compute(r, p, proof);
	}
	if (ret == 0)
		*nproof = p->nranges;
	return ret;
}

int pl_tlog_prove_inclusion(const struct pl_tlog_reader *r, uint64_t size, uint64_t index,
                            uint8_t (*proof)[PL_HASH_BYTES], size_t *nproof)
{
	struct plan p;
	uint64_t lo = 0, hi = size;
	int ret = 0;

	if (r == NULL || proof == NULL || nproof == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	if (size > PL_TLOG_MAX_SIZE || index >= size) {
		ret = PL_ERANGE;
		goto out;
	}
	/* RFC 9162 §2.1.3.1, PATH(m, D[lo:hi]), walked from the root down. */
	p.nranges = 0;
	while (hi - lo > 1 && ret == 0) {
		uint64_t k = split_point(hi - lo);
		if (index - lo < k) {
			ret = plan_add_range(&p, lo + k, hi);
			hi = lo + k;
		} else {
			ret = plan_add_range(&p, lo, lo + k);
			lo += k;
		}
	}
	if (ret == 0)
		ret = plan_finish(r, &p, proof, nproof);
out:
	return ret;
}

int pl_tlog_prove_consistency(const struct pl_tlog_reader *r, uint64_t old_size, uint64_t new_size,
                              uint8_t (*proof)[PL_HASH_BYTES], size_t *nproof)
{
	struct plan p;
	uint64_t lo = 0, hi = new_size;
	bool whole = true; /* SUBPROOF's b: the old tree is a prefix of D[lo:hi] from lo = 0 */
	int ret = 0;

	if (r == NULL || proof == NULL || nproof == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	if (new_size > PL_TLOG_MAX_SIZE || old_size > new_size) {
		ret = PL_ERANGE;
		goto out;
	}
	p.nranges = 0;
	if (old_size == 0 || old_size == new_size) {
		*nproof = 0;
		goto out;
	}
	/* RFC 9162 §2.1.4.1, SUBPROOF(m, D[lo:hi], b), walked from the root down. */
	while (ret == 0) {
		uint64_t k;
		if (old_size == hi) {
			if (!whole)
				ret = plan_add_range(&p, lo, hi);
			break;
		}
		k = split_point(hi - lo);
		if (old_size <= lo + k) {
			ret = plan_add_range(&p, lo + k, hi);
			hi = lo + k;
		} else {
			ret = plan_add_range(&p, lo, lo + k);
			lo += k;
			whole = false;
		}
	}
	if (ret == 0)
		ret = plan_finish(r, &p, proof, nproof);
out:
	return ret;
}

int pl_tlog_root_from_inclusion(uint8_t out[static PL_HASH_BYTES],
                                const uint8_t leaf_hash[static PL_HASH_BYTES], uint64_t index,
                                uint64_t size, const uint8_t (*proof)[PL_HASH_BYTES], size_t nproof)
{
	uint8_t r[PL_HASH_BYTES];
	uint64_t fn = index, sn;
	int ret = PL_EPROOF;

	if (index >= size || nproof > PL_PROOF_MAX_HASHES || (nproof > 0 && proof == NULL))
		goto out;
	/* RFC 9162 §2.1.3.2. */
	sn = size - 1;
	memcpy(r, leaf_hash, PL_HASH_BYTES);
	for (size_t i = 0; i < nproof; i++) {
		if (sn == 0)
			goto out;
		if ((fn & 1) || fn == sn) {
			pl_tlog_node_hash(r, proof[i], r);
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			pl_tlog_node_hash(r, r, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		goto out;
	memcpy(out, r, PL_HASH_BYTES);
	ret = 0;
out:
	return ret;
}

int pl_tlog_verify_inclusion(const uint8_t leaf_hash[static PL_HASH_BYTES], uint64_t index,
                             uint64_t size, const uint8_t (*proof)[PL_HASH_BYTES], size_t nproof,
                             const uint8_t root[static PL_HASH_BYTES])
{
	uint8_t got[PL_HASH_BYTES];
	int ret;

	if (leaf_hash == NULL || root == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_tlog_root_from_inclusion(got, leaf_hash, index, size, proof, nproof);
	if (ret == 0 && memcmp(got, root, PL_HASH_BYTES) != 0)
		ret = PL_EPROOF;
out:
	return ret;
}

int pl_tlog_verify_consistency(uint64_t old_size, uint64_t new_size,
                               const uint8_t old_root[static PL_HASH_BYTES],
                               const uint8_t new_root[static PL_HASH_BYTES],
                               const uint8_t (*proof)[PL_HASH_BYTES], size_t nproof)
{
	uint8_t fr[PL_HASH_BYTES], sr[PL_HASH_BYTES], empty[PL_HASH_BYTES];
	uint64_t fn, sn;
	size_t i;
	int ret = PL_EPROOF;

	if (old_root == NULL || new_root == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	if (old_size > new_size || new_size > PL_TLOG_MAX_SIZE || nproof > PL_PROOF_MAX_HASHES ||
	    (nproof > 0 && proof == NULL))
		goto out;
	if (old_size == new_size) {
		if (nproof == 0 && memcmp(old_root, new_root, PL_HASH_BYTES) == 0)
			ret = 0;
		goto out;
	}
	if (old_size == 0) {
		pl_tlog_empty_hash(empty);
		if (nproof == 0 && memcmp(old_root, empty, PL_HASH_BYTES) == 0)
			ret = 0;
		goto out;
	}
	/* RFC 9162 §2.1.4.2, 0 < old_size < new_size. */
	if (nproof == 0)
		goto out;
	fn = old_size - 1;
	sn = new_size - 1;
	/*
	 * Step 2 prepends old_root when old_size is a power of two; instead of
	 * copying, start from old_root and walk the whole proof.
	 */
	if ((old_size & (old_size - 1)) == 0) {
		memcpy(fr, old_root, PL_HASH_BYTES);
		i = 0;
	} else {
		memcpy(fr, proof[0], PL_HASH_BYTES);
		i = 1;
	}
	memcpy(sr, fr, PL_HASH_BYTES);
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < nproof; i++) {
		if (sn == 0)
			goto out;
		if ((fn & 1) || fn == sn) {
			pl_tlog_node_hash(fr, proof[i], fr);
			pl_tlog_node_hash(sr, proof[i], sr);
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			pl_tlog_node_hash(sr, sr, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn == 0 && memcmp(fr, old_root, PL_HASH_BYTES) == 0 &&
	    memcmp(sr, new_root, PL_HASH_BYTES) == 0)
		ret = 0;
out:
	return ret;
}

/* In-memory store: one growable array of stored hashes. */
struct pl_tlog_memstore {
	uint8_t (*hashes)[PL_HASH_BYTES];
	uint64_t nhashes; /* == pl_tlog_stored_count(size) */
	uint64_t cap;
	uint64_t size;
};

int pl_tlog_memstore_new(struct pl_tlog_memstore **out)
{
	struct pl_tlog_memstore *m;
	int ret = 0;

	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		ret = PL_ENOMEM;
		goto out;
	}
	*out = m;
out:
	return ret;
}

void pl_tlog_memstore_free(struct pl_tlog_memstore *m)
{
	if (m != NULL) {
		free(m->hashes);
		free(m);
	}
}

uint64_t pl_tlog_memstore_size(const struct pl_tlog_memstore *m)
{
	return m->size;
}

static int memstore_read(void *ctx, const uint64_t *indexes, size_t n,
                         uint8_t (*hashes)[PL_HASH_BYTES])
{
	const struct pl_tlog_memstore *m = ctx;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		if (indexes[i] >= m->nhashes) {
			ret = PL_ENOTFOUND;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		memcpy(hashes[i], m->hashes[indexes[i]], PL_HASH_BYTES);
out:
	return ret;
}

struct pl_tlog_reader pl_tlog_memstore_reader(struct pl_tlog_memstore *m)
{
	struct pl_tlog_reader r = {memstore_read, m};
	return r;
}

int pl_tlog_memstore_append(struct pl_tlog_memstore *m, const uint8_t (*leaf_hashes)[PL_HASH_BYTES],
                            size_t count)
{
	struct pl_tlog_reader r = pl_tlog_memstore_reader(m);
	uint64_t need;
	size_t nout;
	int ret = 0;

	if (m->size > PL_TLOG_MAX_SIZE || count > PL_TLOG_MAX_SIZE - m->size) {
		ret = PL_ERANGE;
		goto out;
	}
	need = pl_tlog_stored_count(m->size + count);
	if (need > m->cap) {
		uint64_t cap = m->cap ? m->cap : 64;
		void *p;
		while (cap < need)
			cap *= 2;
		if (cap > SIZE_MAX / PL_HASH_BYTES) {
			ret = PL_ENOMEM;
			goto out;
		}
		p = realloc(m->hashes, (size_t)cap * PL_HASH_BYTES);
		if (p == NULL) {
			ret = PL_ENOMEM;
			goto out;
		}
		m->hashes = p;
		m->cap = cap;
	}
	/* New hashes go straight into the free tail, so nothing is copied twice. */
	ret = pl_tlog_append(&r, m->size, leaf_hashes, count, m->hashes + m->nhashes,
	                     (size_t)(m->cap - m->nhashes), &nout);
	if (ret != 0)
		goto out;
	m->nhashes += nout;
	m->size += count;
out:
	return ret;
}
