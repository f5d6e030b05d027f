/* Bounded growable byte buffer: every buffer that grows from outside input has a maximum. */
#ifndef PARLEY_BUF_H
#define PARLEY_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/error.h>

/*
 * A byte string that grows up to max bytes. data is always NUL-terminated
 * (the terminator is not counted in len and not counted against max), so a
 * buffer holding text can be passed where a C string is expected.
 * Initialise with pl_buf_init(); release with pl_buf_release().
 */
struct pl_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* Sets up an empty buffer that may hold at most max bytes. Allocates nothing. */
void pl_buf_init(struct pl_buf *b, size_t max);

/* Frees the storage and leaves b empty and reusable with the same maximum. */
void pl_buf_release(struct pl_buf *b);

/* Empties b, keeping its storage. */
void pl_buf_reset(struct pl_buf *b);

/* Appends bytes. Returns 0, PL_ETOOBIG past max, or PL_ENOMEM; on error b is unchanged. */
int pl_buf_add(struct pl_buf *b, const void *p, size_t n) PL_WUR;

/* Appends a NUL-terminated string. Same returns as pl_buf_add(). */
int pl_buf_adds(struct pl_buf *b, const char *s) PL_WUR;

/* Appends printf-formatted text. Same returns as pl_buf_add(). */
int pl_buf_addf(struct pl_buf *b, const char *fmt, ...) PL_WUR
        __attribute__((format(printf, 2, 3)));

/*
 * Hands the storage to the caller (free() it) and leaves b empty.
 * Returns a NUL-terminated string even when b was never written; NULL only on
 * allocation failure. *len, if not NULL, receives the length.
 */
char *pl_buf_detach(struct pl_buf *b, size_t *len);

#endif
