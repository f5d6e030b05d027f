/* Tiled transparency logs (c2sp.org/tlog-tiles): tile paths, hash tiles, entry bundles. */
#ifndef PARLEY_TILES_H
#define PARLEY_TILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/limits.h>
#include <parley/tlog.h>

/*
 * A tile at level L holds up to 256 consecutive hashes of tree level 8 * L
 * (level 0: leaf hashes; level 1: roots of full level-0 tiles; ...). Tile
 * number n at level L covers leaves [n * 256^(L+1), (n + 1) * 256^(L+1)).
 * A tree of size s has, at each level L, floor(s / 256^(L+1)) full tiles and
 * possibly one partial tile of width floor(s / 256^L) mod 256.
 * Entry bundles mirror the level-0 tiles, holding the entries themselves.
 */

#define PL_TILE_BYTES      (PL_TILE_WIDTH * PL_HASH_BYTES) /* a full hash tile: 8192 bytes */
#define PL_TILE_MAX_LEVEL  7  /* a tree of at most 2^63 leaves has no level-8 tile */
#define PL_TILE_PATH_MAX   64 /* longest path pl_tiles_path() writes, without NUL */
#define PL_TILES_FETCH_MAX 64 /* most tiles any one proof needs */

/*
 * One tile or entry bundle. width is 1..255 for a partial tile, 256 for a
 * full one. level is 0..PL_TILE_MAX_LEVEL and must be 0 for entry bundles.
 */
struct pl_tile {
	uint64_t n;
	unsigned level;
	unsigned width;
	bool entries; /* an entry bundle (tile/entries/...) rather than a hash tile */
};

/*
 * True when t names a tile that can exist: level and width in range, and
 * the tile's leaves lie within PL_TLOG_MAX_SIZE.
 */
bool pl_tiles_is_valid(const struct pl_tile *t);

/*
 * Appends t's path relative to the log prefix, e.g. "tile/0/x001/x234/067",
 * "tile/2/000.p/17" or "tile/entries/x001/234.p/8", with no leading slash.
 * Returns 0, PL_EINVAL for an invalid tile, or a pl_buf error.
 */
int pl_tiles_path(struct pl_buf *out, const struct pl_tile *t) PL_WUR;

/*
 * Strictly parses a path as pl_tiles_path() writes it, from s[0..len) (no
 * leading slash, no query, no trailing bytes): each element of N exactly
 * three digits, "x" on all but the last, no superfluous leading "x000"
 * element, L and W decimal with no leading zeros, W in 1..255 (a full tile
 * has no ".p/" suffix). Returns 0 with *out set; PL_EMALFORMED; or PL_ERANGE
 * for a well-formed path naming a tile that cannot exist (level above
 * PL_TILE_MAX_LEVEL, leaves beyond PL_TLOG_MAX_SIZE).
 */
int pl_tiles_parse_path(struct pl_tile *out, const char *s, size_t len) PL_WUR;

/*
 * The tile (level, n), or the entry bundle n when entries is true (level 0),
 * as it is in a tree of tree_size leaves: full, or partial with its width.
 * Returns 0 with *out set, PL_ENOTFOUND when the tree has no such tile yet
 * (it would be empty), PL_ERANGE for level > PL_TILE_MAX_LEVEL or tree_size >
 * PL_TLOG_MAX_SIZE.
 */
int pl_tiles_tile_at(struct pl_tile *out, uint64_t tree_size, unsigned level, uint64_t n,
                     bool entries) PL_WUR;

/*
 * The bytes of hash tile t read from storage: t->width concatenated 32-byte
 * hashes of tree level 8 * t->level, written to out (room for PL_TILE_BYTES),
 * *len = t->width * 32. The store must hold every leaf the tile covers
 * (otherwise the reader's PL_ENOTFOUND comes back). One read of t->width
 * hashes. Returns 0, PL_EINVAL for an invalid tile or an entry bundle, or the
 * reader's error. Tile bytes for one (level, n, width) never change, so they
 * may be cached forever.
 */
int pl_tiles_read_hash_tile(const struct pl_tlog_reader *r, const struct pl_tile *t,
                            uint8_t out[static PL_TILE_BYTES], size_t *len) PL_WUR;

/*
 * Appends one entry to an entry bundle being built in bundle: a big-endian
 * uint16 length, then the entry. The caller keeps the count (at most
 * PL_TILE_WIDTH). Returns 0, PL_ETOOBIG for an entry longer than
 * PL_ENTRY_MAX_BYTES, or a pl_buf error (bundle unchanged on error).
 */
int pl_tiles_bundle_add(struct pl_buf *bundle, const void *entry, size_t len) PL_WUR;

/* One entry of a parsed bundle: points into the bundle's bytes. */
struct pl_tiles_entry {
	const uint8_t *data;
	size_t len;
};

/*
 * Splits an entry bundle b[0..len) that must hold exactly width entries
 * (1..256) and nothing after them. Writes width entries to out (pointers
 * into b). Returns 0, PL_EMALFORMED (truncated entry, too few or too many
 * entries, trailing bytes) or PL_EINVAL for a bad width.
 */
int pl_tiles_bundle_split(const uint8_t *b, size_t len, unsigned width,
                          struct pl_tiles_entry out[static PL_TILE_WIDTH]) PL_WUR;

/*
 * The one check of an entry bundle against its hash tile: the entries
 * ents[0..width) of entry bundle n (as pl_tiles_bundle_split() gives them)
 * against the level-0 hash tile of the same number and width,
 * tile[0..tile_len). When leaves is not NULL it receives every entry's leaf
 * hash (width of them) whatever the result, so that a caller can go on
 * rebuilding the tree past a bad tile. Returns 0 when each entry hashes to
 * the tile's hash at its position; PL_EMALFORMED when tile_len is not width
 * hashes (or tile is NULL); PL_EPROOF when an entry does not match, with
 * *bad (when not NULL) set to the first one that does not; PL_EINVAL for a
 * width outside 1..256. The tile must itself be authenticated (e.g. through
 * a proof to a checkpoint). Allocates nothing; thread-safe.
 */
int pl_tiles_bundle_check(const struct pl_tiles_entry *ents, unsigned width, const uint8_t *tile,
                          size_t tile_len, uint8_t (*leaves)[PL_HASH_BYTES], unsigned *bad) PL_WUR;

/*
 * Verifies that entry bundle b[0..len) matches the level-0 hash tile
 * tile[0..tile_len) of the same number and width: same count, and each
 * entry's leaf hash equal to the tile's hash at the same position. The tile
 * must itself be authenticated (e.g. through a proof to a checkpoint).
 * Returns 0, PL_EMALFORMED for a malformed bundle or tile, PL_EPROOF when an
 * entry does not match. Allocates nothing.
 */
int pl_tiles_bundle_verify(const uint8_t *b, size_t len, const uint8_t *tile,
                           size_t tile_len) PL_WUR;

/*
 * Which hash tiles a client of a tree of tree_size leaves must fetch to
 * compute, from tiles alone: the tree hash (pl_tiles_for_tree_hash), the
 * inclusion proof of leaf index (pl_tiles_for_inclusion), or the consistency
 * proof from old_size (pl_tiles_for_consistency). Writes *n distinct tiles
 * (at most PL_TILES_FETCH_MAX) to out, sorted by level then number, each
 * with the width it has at tree_size. Returns 0, or PL_ERANGE for sizes or
 * indexes out of range (as the pl_tlog_prove_* functions).
 */
int pl_tiles_for_tree_hash(uint64_t tree_size, struct pl_tile out[static PL_TILES_FETCH_MAX],
                           size_t *n) PL_WUR;
int pl_tiles_for_inclusion(uint64_t tree_size, uint64_t index,
                           struct pl_tile out[static PL_TILES_FETCH_MAX], size_t *n) PL_WUR;
int pl_tiles_for_consistency(uint64_t old_size, uint64_t tree_size,
                             struct pl_tile out[static PL_TILES_FETCH_MAX], size_t *n) PL_WUR;

/*
 * Where a tile view gets tiles: read_tile(ctx, t, out) writes the t->width *
 * 32 bytes of hash tile t to out and returns 0, or returns a negative PL_E...
 * code (passed back unchanged). Tiles are untrusted: a wrong tile yields
 * hashes that fail verification against the checkpoint, never a false
 * success.
 */
struct pl_tiles_source {
	int (*read_tile)(void *ctx, const struct pl_tile *t, uint8_t *out);
	void *ctx;
};

/*
 * A view of the tree of tree_size leaves through its tiles: it serves the
 * stored hashes of pl_tlog.h by recomputing them from the tiles (each stored
 * hash at tree level 8L + k is the root of 2^k hashes of one level-L tile),
 * so pl_tlog_tree_hash(), pl_tlog_prove_inclusion() and
 * pl_tlog_prove_consistency() run on a client that holds only a checkpoint
 * and the tiles pl_tiles_for_*() named. Initialise with pl_tiles_view_init();
 * the fields are private. Holds one tile (8 KiB) as a cache; not thread-safe.
 * Needs no release.
 */
struct pl_tiles_view {
	uint64_t tree_size;
	struct pl_tiles_source src;
	struct pl_tile cached;
	bool has_cached;
	uint8_t data[PL_TILE_BYTES];
};

/* Sets up v over tree_size leaves (<= PL_TLOG_MAX_SIZE) and src. Allocates nothing. */
void pl_tiles_view_init(struct pl_tiles_view *v, uint64_t tree_size,
                        const struct pl_tiles_source *src);

/*
 * A stored-hash reader over v, valid while v lives. Reading a hash outside
 * the view's tree yields PL_ENOTFOUND.
 */
struct pl_tlog_reader pl_tiles_view_reader(struct pl_tiles_view *v);

#endif
