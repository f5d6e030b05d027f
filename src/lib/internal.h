/* Internals shared across libparley's modules; not part of the public API. */
#ifndef PARLEY_INTERNAL_H
#define PARLEY_INTERNAL_H

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

#endif
