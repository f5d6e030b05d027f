/* c2sp.org/tlog-tiles: tile paths, hash tiles from storage or to a tree view, entry bundles. */
#include <parley/tiles.h>

#include "internal.h"

#define MAX_GROUPS 7 /* 3-digit groups in a uint64 */

/* Number of tree-level-8L hashes a tree of PL_TLOG_MAX_SIZE leaves has. */
static uint64_t level_units(uint64_t tree_size, unsigned level)
{
	return tree_size >> (8 * level);
}

bool pl_tiles_is_valid(const struct pl_tile *t)
{
	bool ok = t != NULL && t->level <= PL_TILE_MAX_LEVEL && t->width >= 1 &&
	          t->width <= PL_TILE_WIDTH && (!t->entries || t->level == 0);

	if (ok) {
		uint64_t units = level_units(PL_TLOG_MAX_SIZE, t->level);
		ok = t->width <= units && t->n <= (units - t->width) / PL_TILE_WIDTH;
	}
	return ok;
}

int pl_tiles_path(struct pl_buf *out, const struct pl_tile *t)
{
	unsigned groups[MAX_GROUPS];
	size_t ng = 0;
	uint64_t n;
	int ret;

	if (out == NULL || !pl_tiles_is_valid(t)) {
		ret = PL_EINVAL;
		goto out;
	}
	n = t->n;
	do {
		groups[ng++] = (unsigned)(n % 1000);
		n /= 1000;
	} while (n > 0);
	if (t->entries)
		ret = pl_buf_adds(out, "tile/entries/");
	else
		ret = pl_buf_addf(out, "tile/%u/", t->level);
	while (ret == 0 && ng > 1)
		ret = pl_buf_addf(out, "x%03u/", groups[--ng]);
	if (ret == 0)
		ret = pl_buf_addf(out, "%03u", groups[0]);
	if (ret == 0 && t->width < PL_TILE_WIDTH)
		ret = pl_buf_addf(out, ".p/%u", t->width);
out:
	return ret;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parses exactly three digits at s[*i]. */
static bool parse_group(const char *s, size_t len, size_t *i, unsigned *g)
{
	bool ok = len - *i >= 3 && is_digit(s[*i]) && is_digit(s[*i + 1]) && is_digit(s[*i + 2]);

	if (ok) {
		*g = (unsigned)(s[*i] - '0') * 100 + (unsigned)(s[*i + 1] - '0') * 10 +
		     (unsigned)(s[*i + 2] - '0');
		*i += 3;
	}
	return ok;
}

/* Parses a canonical decimal of at most maxdigits digits at s[*i], up to a non-digit. */
static bool parse_small(const char *s, size_t len, size_t *i, size_t maxdigits, unsigned *v)
{
	size_t start = *i;
	uint64_t x;
	bool ok;

	while (*i < len && is_digit(s[*i]) && *i - start <= maxdigits)
		(*i)++;
	ok = *i - start <= maxdigits && pl_parse_u64(&x, s + start, *i - start, UINT32_MAX) == 0;
	if (ok)
		*v = (unsigned)x;
	return ok;
}

int pl_tiles_parse_path(struct pl_tile *out, const char *s, size_t len)
{
	struct pl_tile t = {0};
	size_t i = 0, ng = 0;
	unsigned level = 0, g;
	uint64_t n = 0;
	int ret = PL_EMALFORMED;

	if (s == NULL || out == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	if (!pl__has_prefix(s, len, "tile/"))
		goto out;
	i = 5;
	if (pl__has_prefix(s + i, len - i, "entries/")) {
		t.entries = true;
		i += 8;
	} else {
		if (!parse_small(s, len, &i, 2, &level) || level > 63)
			goto out;
		if (i == len || s[i] != '/')
			goto out;
		i++;
	}
	/* N: "xDDD/" elements, then a final "DDD". */
	for (;;) {
		bool more = i < len && s[i] == 'x';
		if (more)
			i++;
		if (!parse_group(s, len, &i, &g))
			goto out;
		if (ng == 0 && more && g == 0)
			goto out; /* a superfluous leading x000 element */
		if (++ng > MAX_GROUPS || n > (UINT64_MAX - g) / 1000)
			goto out;
		n = n * 1000 + g;
		if (!more)
			break;
		if (i == len || s[i] != '/')
			goto out;
		i++;
	}
	t.width = PL_TILE_WIDTH;
	if (i < len) {
		if (!pl__has_prefix(s + i, len - i, ".p/"))
			goto out;
		i += 3;
		if (!parse_small(s, len, &i, 3, &t.width) || t.width < 1 ||
		    t.width >= PL_TILE_WIDTH)
			goto out;
		if (i != len)
			goto out;
	}
	t.level = level;
	t.n = n;
	if (!pl_tiles_is_valid(&t)) {
		ret = PL_ERANGE;
		goto out;
	}
	*out = t;
	ret = 0;
out:
	return ret;
}

int pl_tiles_tile_at(struct pl_tile *out, uint64_t tree_size, unsigned level, uint64_t n,
                     bool entries)
{
	struct pl_tile t = {0};
	uint64_t units, full;
	int ret = 0;

	if (out == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	if (level > PL_TILE_MAX_LEVEL || (entries && level != 0) || tree_size > PL_TLOG_MAX_SIZE) {
		ret = PL_ERANGE;
		goto out;
	}
	units = level_units(tree_size, level);
	full = units / PL_TILE_WIDTH;
	if (n < full) {
		t.width = PL_TILE_WIDTH;
	} else if (n == full && units % PL_TILE_WIDTH != 0) {
		t.width = (unsigned)(units % PL_TILE_WIDTH);
	} else {
		ret = PL_ENOTFOUND;
		goto out;
	}
	t.level = level;
	t.n = n;
	t.entries = entries;
	*out = t;
out:
	return ret;
}

int pl_tiles_read_hash_tile(const struct pl_tlog_reader *r, const struct pl_tile *t,
                            uint8_t out[static PL_TILE_BYTES], size_t *len)
{
	uint64_t idx[PL_TILE_WIDTH];
	int ret;

	if (r == NULL || len == NULL || !pl_tiles_is_valid(t) || t->entries) {
		ret = PL_EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < t->width; i++)
		idx[i] = pl_tlog_stored_index(8 * t->level, t->n * PL_TILE_WIDTH + i);
	ret = r->read(r->ctx, idx, t->width, (uint8_t(*)[PL_HASH_BYTES])out);
	if (ret == 0)
		*len = (size_t)t->width * PL_HASH_BYTES;
out:
	return ret;
}

int pl_tiles_bundle_add(struct pl_buf *bundle, const void *entry, size_t len)
{
	uint8_t prefix[2];
	int ret;

	if (bundle == NULL || (entry == NULL && len > 0)) {
		ret = PL_EINVAL;
		goto out;
	}
	if (len > PL_ENTRY_MAX_BYTES || bundle->len > bundle->max ||
	    len + 2 > bundle->max - bundle->len) {
		ret = PL_ETOOBIG;
		goto out;
	}
	prefix[0] = (uint8_t)(len >> 8);
	prefix[1] = (uint8_t)len;
	ret = pl_buf_add(bundle, prefix, sizeof(prefix));
	if (ret != 0 || len == 0)
		goto out;
	ret = pl_buf_add(bundle, entry, len);
	if (ret != 0) {
		/* Keep the bundle as it was: drop the prefix just added. */
		bundle->len -= sizeof(prefix);
		bundle->data[bundle->len] = '\0';
	}
out:
	return ret;
}

int pl_tiles_bundle_split(const uint8_t *b, size_t len, unsigned width,
                          struct pl_tiles_entry out[static PL_TILE_WIDTH])
{
	struct pl_tiles_entry tmp[PL_TILE_WIDTH];
	size_t off = 0;
	int ret = PL_EMALFORMED;

	if (width < 1 || width > PL_TILE_WIDTH || out == NULL || (b == NULL && len > 0)) {
		ret = PL_EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < width; i++) {
		size_t n;
		if (len - off < 2)
			goto out;
		n = (size_t)b[off] << 8 | b[off + 1];
		off += 2;
		if (len - off < n)
			goto out;
		tmp[i].data = b + off;
		tmp[i].len = n;
		off += n;
	}
	if (off != len)
		goto out;
	memcpy(out, tmp, width * sizeof(tmp[0]));
	ret = 0;
out:
	return ret;
}

int pl_tiles_bundle_check(const struct pl_tiles_entry *ents, unsigned width, const uint8_t *tile,
                          size_t tile_len, uint8_t (*leaves)[PL_HASH_BYTES], unsigned *bad)
{
	uint8_t h[PL_HASH_BYTES];
	unsigned first_bad = width;
	int ret = 0;

	if (ents == NULL || width == 0 || width > PL_TILE_WIDTH) {
		ret = PL_EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < width; i++) {
		pl_tlog_leaf_hash(h, ents[i].data, ents[i].len);
		if (leaves)
			memcpy(leaves[i], h, PL_HASH_BYTES);
		if (first_bad == width && tile && tile_len == (size_t)width * PL_HASH_BYTES &&
		    memcmp(h, tile + (size_t)i * PL_HASH_BYTES, PL_HASH_BYTES) != 0)
			first_bad = i;
	}
	if (tile == NULL || tile_len != (size_t)width * PL_HASH_BYTES)
		ret = PL_EMALFORMED;
	else if (first_bad < width)
		ret = PL_EPROOF;
	if (ret == PL_EPROOF && bad)
		*bad = first_bad;
out:
	return ret;
}

int pl_tiles_bundle_verify(const uint8_t *b, size_t len, const uint8_t *tile, size_t tile_len)
{
	struct pl_tiles_entry e[PL_TILE_WIDTH];
	size_t width;
	int ret;

	if (tile == NULL || tile_len == 0 || tile_len % PL_HASH_BYTES != 0 ||
	    tile_len > PL_TILE_BYTES) {
		ret = PL_EMALFORMED;
		goto out;
	}
	width = tile_len / PL_HASH_BYTES;
	ret = pl_tiles_bundle_split(b, len, (unsigned)width, e);
	if (ret == PL_EINVAL)
		ret = PL_EMALFORMED;
	if (ret == 0)
		ret = pl_tiles_bundle_check(e, (unsigned)width, tile, tile_len, NULL, NULL);
out:
	return ret;
}

/*
 * The tiles a proof needs are found by running the proof on a reader that
 * records which stored hashes it asks for; each stored hash comes from
 * exactly one tile, so the list cannot drift from what the view reads.
 */
#define MAX_RECORDED 512

struct recorder {
	uint64_t idx[MAX_RECORDED];
	size_t n;
};

static int record_read(void *ctx, const uint64_t *indexes, size_t n,
                       uint8_t (*hashes)[PL_HASH_BYTES])
{
	struct recorder *rec = ctx;
	int ret = 0;

	if (n > MAX_RECORDED - rec->n) {
		ret = PL_ERANGE;
		goto out;
	}
	memcpy(rec->idx + rec->n, indexes, n * sizeof(indexes[0]));
	rec->n += n;
	memset(hashes, 0, n * PL_HASH_BYTES);
out:
	return ret;
}

/* Level and position, in tree level 8 * level, of the first tile hash a stored hash covers. */
static void tile_source(uint64_t index, unsigned *level, uint64_t *pos)
{
	unsigned l;
	uint64_t k;

	pl_tlog_stored_split(index, &l, &k);
	*level = l / 8;
	*pos = k << (l % 8);
}

static int tile_cmp(const struct pl_tile *a, const struct pl_tile *b)
{
	int c = 0;

	if (a->level != b->level)
		c = a->level < b->level ? -1 : 1;
	else if (a->n != b->n)
		c = a->n < b->n ? -1 : 1;
	return c;
}

/* Maps recorded stored indexes to a sorted, distinct list of tiles at tree_size. */
static int recorded_tiles(const struct recorder *rec, uint64_t tree_size,
                          struct pl_tile out[static PL_TILES_FETCH_MAX], size_t *nout)
{
	struct pl_tile tiles[PL_TILES_FETCH_MAX];
	size_t nt = 0;
	int ret = 0;

	for (size_t i = 0; i < rec->n && ret == 0; i++) {
		struct pl_tile t;
		unsigned level;
		uint64_t pos;
		size_t j;
		int c = 1;

		tile_source(rec->idx[i], &level, &pos);
		ret = pl_tiles_tile_at(&t, tree_size, level, pos / PL_TILE_WIDTH, false);
		if (ret != 0)
			break;
		for (j = nt; j > 0 && (c = tile_cmp(&tiles[j - 1], &t)) > 0; j--)
			;
		if (j > 0 && c == 0)
			continue;
		if (nt == PL_TILES_FETCH_MAX) {
			ret = PL_ERANGE;
			break;
		}
		memmove(&tiles[j + 1], &tiles[j], (nt - j) * sizeof(tiles[0]));
		tiles[j] = t;
		nt++;
	}
	if (ret == 0) {
		memcpy(out, tiles, nt * sizeof(tiles[0]));
		*nout = nt;
	}
	return ret;
}

/* The proofs whose tiles tiles_for() records. */
enum tiles_proof { TILES_TREE_HASH, TILES_INCLUSION, TILES_CONSISTENCY };

/*
 * Computes the proof `what` (of `index` for an inclusion, from `old_size` for a
 * consistency) over a recorder and lists the tiles it read.
 */
static int tiles_for(enum tiles_proof what, uint64_t old_size, uint64_t index, uint64_t tree_size,
                     struct pl_tile *out, size_t *n)
{
	struct recorder rec = {.n = 0};
	struct pl_tlog_reader r = {record_read, &rec};
	uint8_t h[PL_HASH_BYTES];
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	size_t np;
	int ret;

	if (out == NULL || n == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	switch (what) {
	case TILES_TREE_HASH:
		ret = pl_tlog_tree_hash(&r, tree_size, h);
		break;
	case TILES_INCLUSION:
		ret = pl_tlog_prove_inclusion(&r, tree_size, index, proof, &np);
		break;
	default:
		ret = pl_tlog_prove_consistency(&r, old_size, tree_size, proof, &np);
		break;
	}
	if (ret == 0)
		ret = recorded_tiles(&rec, tree_size, out, n);
out:
	return ret;
}

int pl_tiles_for_tree_hash(uint64_t tree_size, struct pl_tile out[static PL_TILES_FETCH_MAX],
                           size_t *n)
{
	return tiles_for(TILES_TREE_HASH, 0, 0, tree_size, out, n);
}

int pl_tiles_for_inclusion(uint64_t tree_size, uint64_t index,
                           struct pl_tile out[static PL_TILES_FETCH_MAX], size_t *n)
{
	return tiles_for(TILES_INCLUSION, 0, index, tree_size, out, n);
}

int pl_tiles_for_consistency(uint64_t old_size, uint64_t tree_size,
                             struct pl_tile out[static PL_TILES_FETCH_MAX], size_t *n)
{
	return tiles_for(TILES_CONSISTENCY, old_size, 0, tree_size, out, n);
}

void pl_tiles_view_init(struct pl_tiles_view *v, uint64_t tree_size,
                        const struct pl_tiles_source *src)
{
	memset(&v->cached, 0, sizeof(v->cached));
	v->tree_size = tree_size;
	v->src = *src;
	v->has_cached = false;
}

/* Makes the view's cache hold tile t. */
static int view_load(struct pl_tiles_view *v, const struct pl_tile *t)
{
	int ret = 0;

	if (v->has_cached && tile_cmp(&v->cached, t) == 0 && v->cached.width == t->width)
		goto out;
	v->has_cached = false;
	ret = v->src.read_tile(v->src.ctx, t, v->data);
	if (ret != 0)
		goto out;
	v->cached = *t;
	v->has_cached = true;
out:
	return ret;
}

static int view_read(void *ctx, const uint64_t *indexes, size_t n, uint8_t (*hashes)[PL_HASH_BYTES])
{
	struct pl_tiles_view *v = ctx;
	uint8_t row[PL_TILE_WIDTH / 2][PL_HASH_BYTES];
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++) {
		struct pl_tile t;
		unsigned l, r;
		uint64_t k, pos;
		size_t cnt, off;

		pl_tlog_stored_split(indexes[i], &l, &k);
		if (l > 63 || k + 1 > (v->tree_size >> l)) {
			ret = PL_ENOTFOUND;
			break;
		}
		r = l % 8;
		pos = k << r;
		ret = pl_tiles_tile_at(&t, v->tree_size, l / 8, pos / PL_TILE_WIDTH, false);
		if (ret == 0)
			ret = view_load(v, &t);
		if (ret != 0)
			break;
		off = (size_t)(pos % PL_TILE_WIDTH);
		if (r == 0) {
			memcpy(hashes[i], v->data + off * PL_HASH_BYTES, PL_HASH_BYTES);
			continue;
		}
		/* Hash 2^r tile hashes up to their subtree root, one level at a time. */
		cnt = (size_t)1 << r;
		for (size_t j = 0; j < cnt / 2; j++)
			pl_tlog_node_hash(row[j], v->data + (off + 2 * j) * PL_HASH_BYTES,
			                  v->data + (off + 2 * j + 1) * PL_HASH_BYTES);
		for (cnt /= 2; cnt > 1; cnt /= 2) {
			for (size_t j = 0; j < cnt / 2; j++)
				pl_tlog_node_hash(row[j], row[2 * j], row[2 * j + 1]);
		}
		memcpy(hashes[i], row[0], PL_HASH_BYTES);
	}
	return ret;
}

struct pl_tlog_reader pl_tiles_view_reader(struct pl_tiles_view *v)
{
	struct pl_tlog_reader r = {view_read, v};
	return r;
}
