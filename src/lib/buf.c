/* Bounded growable byte buffer. */
#include <parley/buf.h>

#include <limits.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

void pl_buf_init(struct pl_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void pl_buf_release(struct pl_buf *b)
{
	free(b->data);
	pl_buf_init(b, b->max);
}

void pl_buf_reset(struct pl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void pl__buf_truncate(struct pl_buf *b, size_t len)
{
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

/* Makes room for n more bytes plus the terminator. */
static int buf_grow(struct pl_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return PL_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (!p)
		return PL_ENOMEM;
	b->data = p;
	b->cap = cap;
	b->data[b->len] = '\0';
	return 0;
}

int pl_buf_add(struct pl_buf *b, const void *p, size_t n)
{
	int ret = buf_grow(b, n);

	if (ret)
		return ret;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int pl_buf_adds(struct pl_buf *b, const char *s)
{
	return pl_buf_add(b, s, strlen(s));
}

int pl_buf_addf(struct pl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return PL_EINVAL;
	ret = buf_grow(b, (size_t)n);
	if (ret)
		return ret;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *pl_buf_detach(struct pl_buf *b, size_t *len)
{
	char *p;

	if (!b->data && buf_grow(b, 0))
		return NULL;
	p = b->data;
	if (len)
		*len = b->len;
	pl_buf_init(b, b->max);
	return p;
}

char *pl__path_join(const char *dir, const char *file)
{
	struct pl_buf b;

	pl_buf_init(&b, PATH_MAX);
	if (pl_buf_addf(&b, "%s/%s", dir, file)) {
		pl_buf_release(&b);
		return NULL;
	}
	return pl_buf_detach(&b, NULL);
}

/*
 * Reads a whole small file from fd into buf (cap bytes). Returns 0 with *len
 * set, PL_ETOOBIG when the file holds more than cap bytes, or PL_EIO.
 */
int pl__read_small(int fd, void *buf, size_t cap, size_t *len)
{
	size_t n = 0;

	for (;;) {
		char extra;
		ssize_t r;
		if (n == cap) {
			/* One more byte tells "exactly cap" from "too long". */
			r = read(fd, &extra, 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return PL_EIO;
			if (r > 0)
				return PL_ETOOBIG;
			break;
		}
		r = read(fd, (char *)buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return PL_EIO;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return 0;
}

int pl__read_path(const char *path, void *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ret, saved;

	if (fd < 0)
		return errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
	ret = pl__read_small(fd, buf, cap, len);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

int pl__grow(void *pp, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *p, *np;

	if (n < *cap)
		return 0;
	if (ncap > SIZE_MAX / elem)
		return PL_ENOMEM;
	memcpy(&p, pp, sizeof(p)); /* the caller's pointer, whatever its type */
	np = realloc(p, ncap * elem);
	if (!np)
		return PL_ENOMEM;
	memcpy(pp, &np, sizeof(np));
	*cap = ncap;
	return 0;
}

int pl__write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	for (size_t off = 0; off < len; off += (size_t)n) {
		n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			n = 0; /* interrupted before writing: again */
		else if (n <= 0)
			return PL_EIO;
	}
	return 0;
}
