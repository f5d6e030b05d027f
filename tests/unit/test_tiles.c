/* Unit tests of the tiles module: paths, tile bytes, entry bundles, proofs from tiles alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <parley/tiles.h>
#include <parley/tlog.h>

#include "testutil.h"

typedef uint8_t hash_t[PL_HASH_BYTES];

static uint64_t rng_state = 0x2545f4914f6cdd1du;

/* Entry i of the test log: a few bytes whose length varies. */
static size_t make_entry(uint8_t *out, uint64_t i)
{
	size_t n = (size_t)(i % 37);
	for (size_t k = 0; k < n; k++)
		out[k] = (uint8_t)(i * 31 + k);
	return n;
}

static struct pl_tlog_memstore *store_of(uint64_t n)
{
	struct pl_tlog_memstore *m = NULL;
	hash_t *leaves = calloc(n ? n : 1, sizeof(hash_t));
	uint8_t e[64];

	assert_non_null(leaves);
	for (uint64_t i = 0; i < n; i++)
		pl_tlog_leaf_hash(leaves[i], e, make_entry(e, i));
	assert_int_equal(pl_tlog_memstore_new(&m), 0);
	assert_int_equal(pl_tlog_memstore_append(m, leaves, (size_t)n), 0);
	free(leaves);
	return m;
}

struct path_case {
	uint64_t n;
	unsigned level, width;
	bool entries;
	const char *path;
};

static const struct path_case path_cases[] = {
        {0, 0, 256, false, "tile/0/000"},
        {1, 0, 256, false, "tile/0/001"},
        {999, 0, 256, false, "tile/0/999"},
        {1000, 0, 256, false, "tile/0/x001/000"},
        {1234067, 0, 256, false, "tile/0/x001/x234/067"},
        {17, 2, 5, false, "tile/2/017.p/5"},
        {0, 7, 128, false, "tile/7/000.p/128"},
        {1000, 0, 8, true, "tile/entries/x001/000.p/8"},
        {0, 0, 1, true, "tile/entries/000.p/1"},
        {0, 0, 255, false, "tile/0/000.p/255"},
        {42, 1, 256, false, "tile/1/042"},
        {UINT64_C(36028797018963967), 0, 256, false, "tile/0/x036/x028/x797/x018/x963/967"},
};

/* Encoding and strict parsing agree with the spec's examples and with each other. */
static void test_paths(void **state)
{
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, 256);
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		struct pl_tile t = {
		        .n = c->n, .level = c->level, .width = c->width, .entries = c->entries};
		struct pl_tile got;

		pl_buf_reset(&b);
		assert_int_equal(pl_tiles_path(&b, &t), 0);
		assert_string_equal(b.data, c->path);
		assert_true(b.len <= PL_TILE_PATH_MAX);
		assert_int_equal(pl_tiles_parse_path(&got, c->path, strlen(c->path)), 0);
		assert_true(got.n == c->n && got.level == c->level && got.width == c->width &&
		            got.entries == c->entries);
	}
	/* Random round trips. */
	for (int i = 0; i < 20000; i++) {
		struct pl_tile t = {0}, got;
		t.level = (unsigned)pl_test_rnd_below(&rng_state, 8);
		t.entries = t.level == 0 && pl_test_rnd_below(&rng_state, 4) == 0;
		t.width = 1 + (unsigned)pl_test_rnd_below(&rng_state, 256);
		t.n = pl_test_rnd(&rng_state) >> pl_test_rnd_below(&rng_state, 64);
		if (!pl_tiles_is_valid(&t)) {
			pl_buf_reset(&b);
			assert_int_equal(pl_tiles_path(&b, &t), PL_EINVAL);
			continue;
		}
		pl_buf_reset(&b);
		assert_int_equal(pl_tiles_path(&b, &t), 0);
		assert_int_equal(pl_tiles_parse_path(&got, b.data, b.len), 0);
		assert_true(got.n == t.n && got.level == t.level && got.width == t.width &&
		            got.entries == t.entries);
	}
	pl_buf_release(&b);
}

struct bad_path {
	const char *path;
	int err;
};

static const struct bad_path bad_paths[] = {
        {"", PL_EMALFORMED},
        {"tile", PL_EMALFORMED},
        {"tile/", PL_EMALFORMED},
        {"/tile/0/000", PL_EMALFORMED},
        {"tiles/0/000", PL_EMALFORMED},
        {"Tile/0/000", PL_EMALFORMED},
        {"tile/0", PL_EMALFORMED},
        {"tile/0/", PL_EMALFORMED},
        {"tile//000", PL_EMALFORMED},
        {"tile/00/000", PL_EMALFORMED},
        {"tile/01/000", PL_EMALFORMED},
        {"tile/-1/000", PL_EMALFORMED},
        {"tile/+1/000", PL_EMALFORMED},
        {"tile/64/000", PL_EMALFORMED},
        {"tile/100/000", PL_EMALFORMED},
        {"tile/8/000", PL_ERANGE},
        {"tile/63/000.p/1", PL_ERANGE},
        {"tile/7/000", PL_ERANGE},
        {"tile/7/000.p/129", PL_ERANGE},
        {"tile/7/001.p/1", PL_ERANGE},
        {"tile/0/x036/x028/x797/x018/x963/968", PL_ERANGE},
        {"tile/0/0", PL_EMALFORMED},
        {"tile/0/00", PL_EMALFORMED},
        {"tile/0/0000", PL_EMALFORMED},
        {"tile/0/1234", PL_EMALFORMED},
        {"tile/0/000/", PL_EMALFORMED},
        {"tile/0/x000/001", PL_EMALFORMED},
        {"tile/0/x000/x001/000", PL_EMALFORMED},
        {"tile/0/x001", PL_EMALFORMED},
        {"tile/0/x001/", PL_EMALFORMED},
        {"tile/0/x01/000", PL_EMALFORMED},
        {"tile/0/X001/000", PL_EMALFORMED},
        {"tile/0/001/002", PL_EMALFORMED},
        {"tile/0/x001/x002", PL_EMALFORMED},
        {"tile/0/x001//002", PL_EMALFORMED},
        {"tile/0/x999/x999/x999/x999/x999/x999/x999/999", PL_EMALFORMED},
        {"tile/0/x018/x446/x744/x073/x709/x551/616", PL_EMALFORMED},
        {"tile/0/000.p/", PL_EMALFORMED},
        {"tile/0/000.p/0", PL_EMALFORMED},
        {"tile/0/000.p/00", PL_EMALFORMED},
        {"tile/0/000.p/07", PL_EMALFORMED},
        {"tile/0/000.p/256", PL_EMALFORMED},
        {"tile/0/000.p/1000", PL_EMALFORMED},
        {"tile/0/000.p/5/", PL_EMALFORMED},
        {"tile/0/000.p/5x", PL_EMALFORMED},
        {"tile/0/000.P/5", PL_EMALFORMED},
        {"tile/0/000.p5", PL_EMALFORMED},
        {"tile/0/000p/5", PL_EMALFORMED},
        {"tile/0/000 ", PL_EMALFORMED},
        {" tile/0/000", PL_EMALFORMED},
        {"tile/0/000\n", PL_EMALFORMED},
        {"tile/0/000?x=1", PL_EMALFORMED},
        {"tile/0/-01", PL_EMALFORMED},
        {"tile/0/+01", PL_EMALFORMED},
        {"tile/0/0a0", PL_EMALFORMED},
        {"tile/entries", PL_EMALFORMED},
        {"tile/entries/", PL_EMALFORMED},
        {"tile/entries/0", PL_EMALFORMED},
        {"tile/entries/000.p/0", PL_EMALFORMED},
        {"tile/entries/x000/000", PL_EMALFORMED},
        {"tile/entry/000", PL_EMALFORMED},
        {"tile/data/000", PL_EMALFORMED},
        {"tile/8/0/000", PL_EMALFORMED},
        {"tile/0/entries/000", PL_EMALFORMED},
};

static void test_bad_paths(void **state)
{
	struct pl_tile t = {.n = 77, .level = 3, .width = 9, .entries = true};

	(void)state;
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		const struct bad_path *c = &bad_paths[i];
		int rc = pl_tiles_parse_path(&t, c->path, strlen(c->path));
		if (rc != c->err)
			fail_msg("%s: got %d, want %d", c->path, rc, c->err);
		/* Out-parameters are untouched on failure. */
		assert_true(t.n == 77 && t.level == 3 && t.width == 9 && t.entries);
	}
	/* An embedded NUL is a byte like any other: rejected, not a terminator. */
	assert_int_equal(pl_tiles_parse_path(&t, "tile/0/000\0", 11), PL_EMALFORMED);
	assert_int_equal(pl_tiles_parse_path(&t, "tile/0/00\0", 10), PL_EMALFORMED);
	/* A length shorter than the string ends the input. */
	assert_int_equal(pl_tiles_parse_path(&t, "tile/0/000.p/5", 10), 0);
	assert_int_equal(t.width, 256);
}

/* The spec's worked example (size 70,000) and the size-256 note. */
static void test_tile_at(void **state)
{
	struct pl_tile t;

	(void)state;
	assert_int_equal(pl_tiles_tile_at(&t, 70000, 0, 272, false), 0);
	assert_int_equal(t.width, 256);
	assert_int_equal(pl_tiles_tile_at(&t, 70000, 0, 273, false), 0);
	assert_int_equal(t.width, 112);
	assert_int_equal(pl_tiles_tile_at(&t, 70000, 0, 274, false), PL_ENOTFOUND);
	assert_int_equal(pl_tiles_tile_at(&t, 70000, 0, 273, true), 0);
	assert_true(t.entries && t.width == 112);
	assert_int_equal(pl_tiles_tile_at(&t, 70000, 1, 0, false), 0);
	assert_int_equal(t.width, 256);
	assert_int_equal(pl_tiles_tile_at(&t, 70000, 1, 1, false), 0);
	assert_int_equal(t.width, 17);
	assert_int_equal(pl_tiles_tile_at(&t, 70000, 2, 0, false), 0);
	assert_int_equal(t.width, 1);
	assert_int_equal(pl_tiles_tile_at(&t, 70000, 3, 0, false), PL_ENOTFOUND);
	assert_int_equal(pl_tiles_tile_at(&t, 256, 0, 0, false), 0);
	assert_int_equal(t.width, 256);
	assert_int_equal(pl_tiles_tile_at(&t, 256, 0, 1, false), PL_ENOTFOUND);
	assert_int_equal(pl_tiles_tile_at(&t, 256, 1, 0, false), 0);
	assert_int_equal(t.width, 1);
	assert_int_equal(pl_tiles_tile_at(&t, 0, 0, 0, false), PL_ENOTFOUND);
	assert_int_equal(pl_tiles_tile_at(&t, 1, 8, 0, false), PL_ERANGE);
	assert_int_equal(pl_tiles_tile_at(&t, 1, 1, 0, true), PL_ERANGE);
	assert_int_equal(pl_tiles_tile_at(&t, PL_TLOG_MAX_SIZE, 7, 0, false), 0);
	assert_int_equal(t.width, 128);
	assert_true(pl_tiles_is_valid(&t));
}

/* Hash tiles from storage: level 0 holds leaf hashes, level 1 the roots of full level-0 tiles. */
static void test_hash_tile_bytes(void **state)
{
	const uint64_t n = 256 * 3 + 17;
	struct pl_tlog_memstore *m = store_of(n);
	struct pl_tlog_reader r = pl_tlog_memstore_reader(m);
	uint8_t *tile = malloc(PL_TILE_BYTES), *tile1 = malloc(PL_TILE_BYTES);
	struct pl_tile t;
	size_t len, len1;
	hash_t h;

	(void)state;
	assert_non_null(tile);
	assert_non_null(tile1);
	assert_int_equal(pl_tiles_tile_at(&t, n, 0, 3, false), 0);
	assert_int_equal(t.width, 17);
	assert_int_equal(pl_tiles_read_hash_tile(&r, &t, tile, &len), 0);
	assert_int_equal(len, 17 * PL_HASH_BYTES);
	for (unsigned i = 0; i < 17; i++) {
		uint8_t e[64];
		pl_tlog_leaf_hash(h, e, make_entry(e, 3 * 256 + i));
		assert_memory_equal(tile + i * PL_HASH_BYTES, h, PL_HASH_BYTES);
	}
	assert_int_equal(pl_tiles_tile_at(&t, n, 1, 0, false), 0);
	assert_int_equal(t.width, 3);
	assert_int_equal(pl_tiles_read_hash_tile(&r, &t, tile1, &len1), 0);
	assert_int_equal(len1, 3 * PL_HASH_BYTES);
	for (unsigned i = 0; i < 3; i++) {
		/* Root of the full level-0 tile i, from its bytes alone. */
		struct pl_tile t0 = {.n = i, .level = 0, .width = 256};
		hash_t row[256];
		assert_int_equal(pl_tiles_read_hash_tile(&r, &t0, tile, &len), 0);
		memcpy(row, tile, sizeof(row));
		for (size_t w = 256; w > 1; w /= 2)
			for (size_t j = 0; j < w / 2; j++)
				pl_tlog_node_hash(row[j], row[2 * j], row[2 * j + 1]);
		assert_memory_equal(tile1 + i * PL_HASH_BYTES, row[0], PL_HASH_BYTES);
	}
	/* A tile beyond what is stored is not found; a bundle is not a hash tile. */
	t.level = 0;
	t.n = 4;
	t.width = 1;
	assert_int_equal(pl_tiles_read_hash_tile(&r, &t, tile, &len), PL_ENOTFOUND);
	t.entries = true;
	assert_int_equal(pl_tiles_read_hash_tile(&r, &t, tile, &len), PL_EINVAL);
	free(tile);
	free(tile1);
	pl_tlog_memstore_free(m);
}

/*
 * The one check of a split bundle against its level-0 tile: every leaf hash
 * handed back whatever the result, the first entry that does not match
 * named, a tile of the wrong size refused.
 */
static void test_bundle_check(void **state)
{
	const uint64_t n = 300;
	struct pl_tlog_memstore *m = store_of(n);
	struct pl_tlog_reader r = pl_tlog_memstore_reader(m);
	struct pl_tiles_entry *ents = calloc(PL_TILE_WIDTH, sizeof(*ents));
	uint8_t *tile = malloc(PL_TILE_BYTES), e[64], h[PL_HASH_BYTES];
	uint8_t(*leaves)[PL_HASH_BYTES] = calloc(PL_TILE_WIDTH, PL_HASH_BYTES);
	struct pl_buf b;
	struct pl_tile t;
	unsigned bad = 999;
	size_t len;

	(void)state;
	assert_non_null(ents);
	assert_non_null(tile);
	assert_non_null(leaves);
	pl_buf_init(&b, 1 << 20);
	for (uint64_t i = 256; i < n; i++)
		assert_int_equal(pl_tiles_bundle_add(&b, e, make_entry(e, i)), 0);
	assert_int_equal(pl_tiles_tile_at(&t, n, 0, 1, false), 0);
	assert_int_equal(pl_tiles_read_hash_tile(&r, &t, tile, &len), 0);
	assert_int_equal(pl_tiles_bundle_split((uint8_t *)b.data, b.len, t.width, ents), 0);
	assert_int_equal(pl_tiles_bundle_check(ents, t.width, tile, len, leaves, &bad), 0);
	assert_int_equal(bad, 999);
	assert_memory_equal(leaves, tile, len);
	/* Entry 7 and 9 do not match: 7 is named; every leaf is still given. */
	tile[7 * PL_HASH_BYTES] ^= 1;
	tile[9 * PL_HASH_BYTES] ^= 1;
	memset(leaves, 0, (size_t)PL_TILE_WIDTH * PL_HASH_BYTES);
	assert_int_equal(pl_tiles_bundle_check(ents, t.width, tile, len, leaves, &bad), PL_EPROOF);
	assert_int_equal(bad, 7);
	pl_tlog_leaf_hash(h, ents[t.width - 1].data, ents[t.width - 1].len);
	assert_memory_equal(leaves[t.width - 1], h, PL_HASH_BYTES);
	assert_int_equal(pl_tiles_bundle_check(ents, t.width, tile, len, NULL, NULL), PL_EPROOF);
	/* A tile of another size, or none: malformed, and the leaves still given. */
	bad = 999;
	memset(leaves, 0, (size_t)PL_TILE_WIDTH * PL_HASH_BYTES);
	assert_int_equal(
	        pl_tiles_bundle_check(ents, t.width, tile, len - PL_HASH_BYTES, leaves, &bad),
	        PL_EMALFORMED);
	assert_int_equal(bad, 999);
	assert_memory_equal(leaves[0], tile, PL_HASH_BYTES);
	assert_int_equal(pl_tiles_bundle_check(ents, t.width, tile, len + 1, NULL, NULL),
	                 PL_EMALFORMED);
	assert_int_equal(pl_tiles_bundle_check(ents, t.width, NULL, len, NULL, NULL),
	                 PL_EMALFORMED);
	/* Widths outside 1..256. */
	assert_int_equal(pl_tiles_bundle_check(ents, 0, tile, 0, NULL, NULL), PL_EINVAL);
	assert_int_equal(pl_tiles_bundle_check(ents, 257, tile, len, NULL, NULL), PL_EINVAL);
	assert_int_equal(pl_tiles_bundle_check(NULL, t.width, tile, len, NULL, NULL), PL_EINVAL);
	pl_buf_release(&b);
	free(leaves);
	free(tile);
	free(ents);
	pl_tlog_memstore_free(m);
}

/* Entry bundles: build, split exactly, verify against the level-0 tile. */
static void test_bundles(void **state)
{
	const uint64_t n = 300;
	struct pl_tlog_memstore *m = store_of(n);
	struct pl_tlog_reader r = pl_tlog_memstore_reader(m);
	struct pl_tiles_entry *ents = calloc(PL_TILE_WIDTH, sizeof(*ents));
	uint8_t *tile = malloc(PL_TILE_BYTES), *big = calloc(1, 70000), e[64];
	struct pl_buf b;
	struct pl_tile t;
	size_t len;

	(void)state;
	assert_non_null(ents);
	assert_non_null(tile);
	assert_non_null(big);
	pl_buf_init(&b, 1 << 20);
	for (uint64_t i = 256; i < n; i++)
		assert_int_equal(pl_tiles_bundle_add(&b, e, make_entry(e, i)), 0);
	assert_int_equal(pl_tiles_tile_at(&t, n, 0, 1, false), 0);
	assert_int_equal(pl_tiles_read_hash_tile(&r, &t, tile, &len), 0);
	assert_int_equal(pl_tiles_bundle_verify((uint8_t *)b.data, b.len, tile, len), 0);
	assert_int_equal(pl_tiles_bundle_split((uint8_t *)b.data, b.len, t.width, ents), 0);
	for (unsigned i = 0; i < t.width; i++) {
		size_t k = make_entry(e, 256 + i);
		assert_int_equal(ents[i].len, k);
		assert_memory_equal(ents[i].data, e, k);
	}
	/* Too few, too many, truncated, trailing byte, tampered entry, bad tile. */
	assert_int_equal(pl_tiles_bundle_split((uint8_t *)b.data, b.len, t.width + 1, ents),
	                 PL_EMALFORMED);
	assert_int_equal(pl_tiles_bundle_split((uint8_t *)b.data, b.len, t.width - 1, ents),
	                 PL_EMALFORMED);
	assert_int_equal(pl_tiles_bundle_split((uint8_t *)b.data, b.len - 1, t.width, ents),
	                 PL_EMALFORMED);
	assert_int_equal(pl_tiles_bundle_split((uint8_t *)b.data, 1, 1, ents), PL_EMALFORMED);
	assert_int_equal(pl_tiles_bundle_split(NULL, 0, 1, ents), PL_EMALFORMED);
	assert_int_equal(pl_tiles_bundle_split((uint8_t *)b.data, b.len, 0, ents), PL_EINVAL);
	assert_int_equal(pl_tiles_bundle_split((uint8_t *)b.data, b.len, 257, ents), PL_EINVAL);
	assert_int_equal(pl_buf_add(&b, "", 1), 0);
	assert_int_equal(pl_tiles_bundle_verify((uint8_t *)b.data, b.len, tile, len),
	                 PL_EMALFORMED);
	b.len--;
	b.data[b.len - 1] ^= 1;
	assert_int_equal(pl_tiles_bundle_verify((uint8_t *)b.data, b.len, tile, len), PL_EPROOF);
	b.data[b.len - 1] ^= 1;
	assert_int_equal(pl_tiles_bundle_verify((uint8_t *)b.data, b.len, tile, len - 1),
	                 PL_EMALFORMED);
	assert_int_equal(pl_tiles_bundle_verify((uint8_t *)b.data, b.len, tile, 0), PL_EMALFORMED);
	/* Entry size limit, and an empty entry is fine. */
	pl_buf_reset(&b);
	assert_int_equal(pl_tiles_bundle_add(&b, big, PL_ENTRY_MAX_BYTES + 1), PL_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(pl_tiles_bundle_add(&b, big, PL_ENTRY_MAX_BYTES), 0);
	assert_int_equal(pl_tiles_bundle_add(&b, NULL, 0), 0);
	assert_int_equal(pl_tiles_bundle_split((uint8_t *)b.data, b.len, 2, ents), 0);
	assert_int_equal(ents[0].len, PL_ENTRY_MAX_BYTES);
	assert_int_equal(ents[1].len, 0);
	/* A full bounded buffer is left as it was. */
	pl_buf_release(&b);
	pl_buf_init(&b, 10);
	assert_int_equal(pl_tiles_bundle_add(&b, "abcdef", 6), 0);
	assert_int_equal(pl_tiles_bundle_add(&b, "abc", 3), PL_ETOOBIG);
	assert_int_equal(b.len, 8);
	pl_buf_release(&b);
	free(ents);
	free(tile);
	free(big);
	pl_tlog_memstore_free(m);
}

/* A client's tile cache: serves tiles from the store and records what was asked. */
struct fetcher {
	struct pl_tlog_reader store;
	struct pl_tile seen[256];
	size_t nseen;
	int corrupt; /* flip a byte in every tile served */
};

static int fetch_tile(void *ctx, const struct pl_tile *t, uint8_t *out)
{
	struct fetcher *f = ctx;
	size_t len;
	int rc = pl_tiles_read_hash_tile(&f->store, t, out, &len);

	if (rc == 0) {
		assert_int_equal(len, (size_t)t->width * PL_HASH_BYTES);
		if (f->corrupt)
			out[len / 2] ^= 0x40;
		if (f->nseen < 256)
			f->seen[f->nseen++] = *t;
	}
	return rc;
}

static bool in_list(const struct pl_tile *t, const struct pl_tile *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i].level == t->level && list[i].n == t->n && list[i].width == t->width &&
		    !list[i].entries)
			return true;
	}
	return false;
}

/* Checks that the view fetched only tiles from the announced list. */
static void check_fetched(const struct fetcher *f, const struct pl_tile *list, size_t n)
{
	for (size_t i = 0; i < f->nseen; i++)
		assert_true(in_list(&f->seen[i], list, n));
}

/* Tree hashes and proofs computed from tiles alone equal those from the store, and verify. */
static void test_tile_proofs(void **state)
{
	const uint64_t n = 70000;
	struct pl_tlog_memstore *m = store_of(n);
	struct pl_tlog_reader sr = pl_tlog_memstore_reader(m);
	struct fetcher *f = calloc(1, sizeof(*f));
	struct pl_tiles_view *v = malloc(sizeof(*v));
	struct pl_tile need[PL_TILES_FETCH_MAX];
	hash_t a[PL_PROOF_MAX_HASHES], b[PL_PROOF_MAX_HASHES], root, root2, leaf;
	uint64_t sizes[] = {1, 2, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537, 69999, 70000};
	size_t na, nb, nneed;

	(void)state;
	assert_non_null(f);
	assert_non_null(v);
	f->store = sr;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t size = sizes[s];
		struct pl_tiles_source src = {fetch_tile, f};
		struct pl_tlog_reader vr;

		pl_tiles_view_init(v, size, &src);
		vr = pl_tiles_view_reader(v);
		f->nseen = 0;
		assert_int_equal(pl_tiles_for_tree_hash(size, need, &nneed), 0);
		assert_int_equal(pl_tlog_tree_hash(&vr, size, root), 0);
		check_fetched(f, need, nneed);
		assert_int_equal(pl_tlog_tree_hash(&sr, size, root2), 0);
		assert_memory_equal(root, root2, PL_HASH_BYTES);
		for (int t = 0; t < 40; t++) {
			uint64_t idx = t == 0 ? size - 1 : pl_test_rnd_below(&rng_state, size);
			uint64_t old = t == 0 ? 1 : 1 + pl_test_rnd_below(&rng_state, size);
			uint64_t li = pl_tlog_stored_index(0, idx);

			f->nseen = 0;
			assert_int_equal(pl_tiles_for_inclusion(size, idx, need, &nneed), 0);
			assert_true(nneed <= 2 * (PL_TILE_MAX_LEVEL + 1));
			assert_int_equal(pl_tlog_prove_inclusion(&vr, size, idx, a, &na), 0);
			check_fetched(f, need, nneed);
			assert_int_equal(pl_tlog_prove_inclusion(&sr, size, idx, b, &nb), 0);
			assert_int_equal(na, nb);
			assert_memory_equal(a, b, na * PL_HASH_BYTES);
			assert_int_equal(sr.read(sr.ctx, &li, 1, &leaf), 0);
			assert_int_equal(pl_tlog_verify_inclusion(leaf, idx, size, a, na, root), 0);

			f->nseen = 0;
			assert_int_equal(pl_tiles_for_consistency(old, size, need, &nneed), 0);
			assert_int_equal(pl_tlog_prove_consistency(&vr, old, size, a, &na), 0);
			check_fetched(f, need, nneed);
			assert_int_equal(pl_tlog_prove_consistency(&sr, old, size, b, &nb), 0);
			assert_int_equal(na, nb);
			assert_memory_equal(a, b, na * PL_HASH_BYTES);
			assert_int_equal(pl_tlog_tree_hash(&sr, old, root2), 0);
			assert_int_equal(pl_tlog_verify_consistency(old, size, root2, root, a, na),
			                 0);
		}
		/* Beyond the view's tree: not found, without fetching. */
		assert_int_equal(pl_tlog_tree_hash(&vr, size + 1, root2), PL_ENOTFOUND);
	}
	/* Tampered tiles give hashes that do not verify against the real root. */
	{
		struct pl_tiles_source src = {fetch_tile, f};
		struct pl_tlog_reader vr;
		uint64_t idx = 12345, li = pl_tlog_stored_index(0, idx);

		f->corrupt = 1;
		pl_tiles_view_init(v, n, &src);
		vr = pl_tiles_view_reader(v);
		assert_int_equal(pl_tlog_tree_hash(&sr, n, root), 0);
		assert_int_equal(pl_tlog_tree_hash(&vr, n, root2), 0);
		assert_memory_not_equal(root, root2, PL_HASH_BYTES);
		assert_int_equal(pl_tlog_prove_inclusion(&vr, n, idx, a, &na), 0);
		assert_int_equal(sr.read(sr.ctx, &li, 1, &leaf), 0);
		assert_int_equal(pl_tlog_verify_inclusion(leaf, idx, n, a, na, root), PL_EPROOF);
	}
	/* Argument checks of the fetch lists. */
	assert_int_equal(pl_tiles_for_inclusion(5, 5, need, &nneed), PL_ERANGE);
	assert_int_equal(pl_tiles_for_consistency(6, 5, need, &nneed), PL_ERANGE);
	assert_int_equal(pl_tiles_for_consistency(5, 5, need, &nneed), 0);
	assert_int_equal(nneed, 0);
	assert_int_equal(pl_tiles_for_tree_hash(0, need, &nneed), 0);
	assert_int_equal(nneed, 0);
	/* The largest tree is one complete subtree: one partial level-7 tile holds its root. */
	assert_int_equal(pl_tiles_for_tree_hash(PL_TLOG_MAX_SIZE, need, &nneed), 0);
	assert_int_equal(nneed, 1);
	assert_true(need[0].level == 7 && need[0].n == 0 && need[0].width == 128);
	free(f);
	free(v);
	pl_tlog_memstore_free(m);
}

/* Worked fetch list: the inclusion proof of leaf 0 in a tree of 70,000. */
static void test_fetch_list(void **state)
{
	struct pl_tile need[PL_TILES_FETCH_MAX];
	size_t n;

	(void)state;
	assert_int_equal(pl_tiles_for_inclusion(70000, 0, need, &n), 0);
	/* Sorted, distinct, valid, starting with the leaf's own full level-0 tile. */
	for (size_t i = 0; i < n; i++)
		assert_true(pl_tiles_is_valid(&need[i]));
	for (size_t i = 1; i < n; i++)
		assert_true(need[i - 1].level < need[i].level ||
		            (need[i - 1].level == need[i].level && need[i - 1].n < need[i].n));
	assert_true(n >= 2 && n <= 6);
	assert_true(need[0].level == 0 && need[0].n == 0 && need[0].width == 256);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_paths), cmocka_unit_test(test_bad_paths),
             cmocka_unit_test(test_tile_at), cmocka_unit_test(test_hash_tile_bytes),
             cmocka_unit_test(test_bundles), cmocka_unit_test(test_bundle_check),
             cmocka_unit_test(test_tile_proofs), cmocka_unit_test(test_fetch_list))
