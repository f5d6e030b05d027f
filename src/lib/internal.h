/* Internals shared across libparley's modules; not part of the public API. */
#ifndef PARLEY_INTERNAL_H
#define PARLEY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "banned.h"

#define PL__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Big-endian integer stores and loads for wire formats. */
static inline void pl__put_be64(uint8_t p[static 8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t pl__get_be64(const uint8_t p[static 8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* True when s[0..n) starts with the NUL-terminated prefix. */
static inline int pl__has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(s, prefix, k) == 0;
}

/*
 * Reads the single line of a small key file into buf (cap bytes), without its
 * optional final newline. A secret file is opened without following a
 * symlink and refused when group or others have any permission on it.
 * Returns 0, PL_EIO (errno kept), PL_EDENIED or PL_ETOOBIG (longer than cap).
 * The caller wipes buf when it held a secret. Implemented in key.c.
 */
int pl__key_file_read_line(const char *path, bool secret, char *buf, size_t cap, size_t *len);

/*
 * Returns "dir/file" in a new string the caller frees, or NULL when out of
 * memory or longer than PATH_MAX. Implemented in buf.c.
 */
char *pl__path_join(const char *dir, const char *file);

#endif
