/* The exchange's memory, outside its store, of the newest checkpoint it signed (published). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <parley/checkpoint.h>

#include "internal.h"

/*
 * Why this layout. The sequencer rewrites the file once per batch, hundreds
 * of times a second, so it must cost one fdatasync() of data already
 * allocated and nothing else: no rename (a second sync, of the directory), no
 * change of the file's size (which fdatasync() would have to record too). So
 * the file is made once at its full size, two slots of one page each, and a
 * batch overwrites in place the slot that does not hold the newest
 * checkpoint. A write torn by a crash can then only damage the slot being
 * written, never the other one, which still holds the checkpoint signed
 * before: that one was durable before the torn one was begun, and the torn
 * one was never handed out (nothing signed at a size leaves the process
 * before its slot is durable). A torn slot cannot pass for a valid one,
 * smaller or not: the slot must hold, byte for byte, a note that verifies
 * with the log key, so the note's own signature is the checksum.
 */

#define PUBLISHED_MAGIC "parley/published/v1 "

static bool published_slot_is_empty(const uint8_t *p)
{
	for (size_t i = 0; i < PL__PUBLISHED_SLOT; i++)
		if (p[i])
			return false;
	return true;
}

int pl__published_slot_format(uint8_t slot[static PL__PUBLISHED_SLOT], const char *note, size_t len)
{
	char head[sizeof(PUBLISHED_MAGIC) + 24];
	int n;

	if (!note || len == 0)
		return PL_EINVAL;
	n = snprintf(head, sizeof(head), "%s%zu\n", PUBLISHED_MAGIC, len);
	if (n < 0 || (size_t)n >= sizeof(head) || len > PL__PUBLISHED_SLOT - (size_t)n)
		return PL_ETOOBIG;
	memset(slot, 0, PL__PUBLISHED_SLOT);
	memcpy(slot, head, (size_t)n);
	memcpy(slot + n, note, len);
	return 0;
}

/*
 * One slot: PUBLISHED_MAGIC, the note's length in decimal (no leading zero),
 * '\n', the note, zero bytes to the end. Returns 0 with the checkpoint in
 * *cp and the note's place, PL_ENOTFOUND (all zeros: never written) or
 * PL_EMALFORMED (anything else, including a note that does not verify).
 */
static int published_slot_parse(const uint8_t *p, const char *origin, const struct pl_vkey *vk,
                                struct pl_checkpoint *cp, size_t *off, size_t *len)
{
	const size_t m = sizeof(PUBLISHED_MAGIC) - 1;
	size_t i, n = 0;

	if (published_slot_is_empty(p))
		return PL_ENOTFOUND;
	if (memcmp(p, PUBLISHED_MAGIC, m) != 0)
		return PL_EMALFORMED;
	for (i = m; i < m + 5 && p[i] >= '0' && p[i] <= '9'; i++) {
		if (i > m && n == 0)
			return PL_EMALFORMED; /* a leading zero */
		n = n * 10 + (size_t)(p[i] - '0');
	}
	if (i == m || p[i] != '\n' || n == 0 || n > PL__PUBLISHED_SLOT - i - 1)
		return PL_EMALFORMED;
	i++;
	for (size_t k = i + n; k < PL__PUBLISHED_SLOT; k++)
		if (p[k])
			return PL_EMALFORMED;
	if (pl_checkpoint_open(cp, NULL, (const char *)p + i, n, origin, vk, 1) != 0)
		return PL_EMALFORMED;
	*off = i;
	*len = n;
	return 0;
}

int pl__published_parse(struct pl__published *out, const uint8_t *file, size_t len,
                        const char *origin, const struct pl_vkey *vk)
{
	struct pl_checkpoint *cp = NULL;
	uint64_t size[2];
	uint8_t root[2][PL_HASH_BYTES];
	size_t off[2], nlen[2];
	int st[2], best, ret;

	if (!out || (!file && len) || !origin || !vk)
		return PL_EINVAL;
	if (len != PL__PUBLISHED_BYTES)
		return PL_EMALFORMED;
	cp = malloc(sizeof(*cp));
	if (!cp)
		return PL_ENOMEM;
	for (int s = 0; s < 2; s++) {
		st[s] = published_slot_parse(file + (size_t)s * PL__PUBLISHED_SLOT, origin, vk, cp,
		                             &off[s], &nlen[s]);
		if (!st[s]) {
			size[s] = cp->size;
			memcpy(root[s], cp->root, PL_HASH_BYTES);
		}
	}
	if (st[0] && st[1]) {
		ret = PL_EMALFORMED;
		goto out;
	}
	if (!st[0] && !st[1] && size[0] == size[1] &&
	    memcmp(root[0], root[1], PL_HASH_BYTES) != 0) {
		ret = PL_EINCONSISTENT; /* two trees signed at one size */
		goto out;
	}
	best = st[0] ? 1 : st[1] ? 0 : size[1] > size[0] ? 1 : 0;
	out->size = size[best];
	memcpy(out->root, root[best], PL_HASH_BYTES);
	out->slot = (unsigned)best;
	out->other_torn = st[1 - best] == PL_EMALFORMED;
	memcpy(out->note, file + (size_t)best * PL__PUBLISHED_SLOT + off[best], nlen[best]);
	out->note[nlen[best]] = '\0';
	out->note_len = nlen[best];
	ret = 0;
out:
	free(cp);
	return ret;
}

int pl__published_read(struct pl__published *out, const char *path, const char *origin,
                       const struct pl_vkey *vk)
{
	uint8_t *file = malloc(PL__PUBLISHED_BYTES + 1);
	size_t got = 0;
	int ret;

	if (!file)
		return PL_ENOMEM;
	ret = pl__read_path(path, file, PL__PUBLISHED_BYTES, &got);
	if (ret == PL_ETOOBIG)
		ret = PL_EMALFORMED; /* longer than the file should be */
	if (!ret)
		ret = pl__published_parse(out, file, got, origin, vk);
	free(file);
	return ret;
}

static int published_write_all(int fd, const uint8_t *p, size_t n, off_t at)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return PL_EIO;
		p += w;
		n -= (size_t)w;
		at += w;
	}
	return 0;
}

/* fsync() of the directory, so that a new name in it survives a power loss. */
static int published_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return PL_EIO;
	ret = fsync(fd) == 0 ? 0 : PL_EIO;
	close(fd);
	return ret;
}

int pl__published_create(const char *dir, const char *file, const char *note, size_t len)
{
	uint8_t *buf = calloc(1, PL__PUBLISHED_BYTES);
	char *path = pl__path_join(dir, file), *tmp = NULL;
	int fd = -1, ret;

	if (!buf || !path) {
		ret = PL_ENOMEM;
		goto out;
	}
	tmp = malloc(strlen(path) + 5);
	if (!tmp) {
		ret = PL_ENOMEM;
		goto out;
	}
	memcpy(tmp, path, strlen(path));
	memcpy(tmp + strlen(path), ".new", 5);
	ret = pl__published_slot_format(buf, note, len);
	if (ret)
		goto out;
	/* Whole under a temporary name first: a crash here leaves no half file under the real one.
	 */
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = PL_EIO;
		goto out;
	}
	ret = published_write_all(fd, buf, PL__PUBLISHED_BYTES, 0);
	if (!ret && fsync(fd) != 0)
		ret = PL_EIO;
	if (close(fd) != 0 && !ret)
		ret = PL_EIO;
	fd = -1;
	if (!ret && rename(tmp, path) != 0)
		ret = PL_EIO;
	if (!ret)
		ret = published_sync_dir(dir);
	if (ret)
		(void)unlink(tmp);
out:
	free(buf);
	free(path);
	free(tmp);
	return ret;
}

int pl__published_open(const char *dir, const char *file, int *fd)
{
	char *path = pl__path_join(dir, file);
	int ret = 0;

	if (!path)
		return PL_ENOMEM;
	*fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		ret = errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
	free(path);
	return ret;
}

int pl__published_write(int fd, unsigned slot, const char *note, size_t len)
{
	uint8_t buf[PL__PUBLISHED_SLOT];
	int ret;

	if (slot > 1)
		return PL_EINVAL;
	ret = pl__published_slot_format(buf, note, len);
	if (!ret)
		ret = published_write_all(fd, buf, sizeof(buf), (off_t)slot * PL__PUBLISHED_SLOT);
	return ret;
}

int pl__published_sync(int fd)
{
	int rc;

	do
		rc = fdatasync(fd);
	while (rc != 0 && errno == EINTR);
	return rc == 0 ? 0 : PL_EIO;
}
