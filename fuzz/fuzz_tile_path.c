/* libFuzzer target: strict tile path parsing (canonical round trip) and tile widths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/tiles.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct pl_tile t, back, at;
	struct pl_buf b;
	int rc;

	rc = pl_tiles_parse_path(&t, s, size);
	if (rc != 0) {
		if (rc != PL_EMALFORMED && rc != PL_ERANGE)
			abort();
		return 0;
	}
	/* Exactly one spelling per tile: formatting gives back the input. */
	if (!pl_tiles_is_valid(&t))
		abort();
	pl_buf_init(&b, PL_TILE_PATH_MAX);
	if (pl_tiles_path(&b, &t) != 0 || b.len != size || memcmp(b.data, s, size) != 0)
		abort();
	if (pl_tiles_parse_path(&back, b.data, b.len) != 0 || back.n != t.n ||
	    back.level != t.level || back.width != t.width || back.entries != t.entries)
		abort();
	pl_buf_release(&b);
	/* The smallest tree holding this tile has it at exactly this width. */
	{
		uint64_t units = t.n * PL_TILE_WIDTH + t.width;
		uint64_t size_needed = units << (8 * t.level);
		if (pl_tiles_tile_at(&at, size_needed, t.level, t.n, t.entries) != 0 ||
		    at.width != t.width)
			abort();
	}
	return 0;
}
