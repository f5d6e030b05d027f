/* Where an exchange's store lives: the SQLite file in the data directory, or a PostgreSQL database.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"
#include "store_pg.h"

int pl__store_location_parse(const char *text, size_t len, char out[static PL_STORE_URL_MAX + 1])
{
	static const char *const schemes[] = {"postgresql://", "postgres://"};
	bool scheme = false;
	size_t n = len;

	if (!text)
		return PL_EINVAL;
	/* One line: an optional final newline, nothing after it. */
	if (n > 0 && text[n - 1] == '\n')
		n--;
	if (n == 0)
		return PL_EMALFORMED;
	if (n > PL_STORE_URL_MAX)
		return PL_ETOOBIG;
	/* Printable ASCII without spaces: libpq's URI form, percent-encoded where it must be. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] <= 0x20 || (unsigned char)text[i] >= 0x7f)
			return PL_EMALFORMED;
	for (size_t i = 0; i < PL__ARRAY_LEN(schemes); i++)
		scheme = scheme || (n > strlen(schemes[i]) - 1 &&
		                    memcmp(text, schemes[i], strlen(schemes[i])) == 0);
	if (!scheme)
		return PL_EMALFORMED;
	memcpy(out, text, n);
	out[n] = '\0';
	return 0;
}

int pl__store_location(const char *dir, char url[static PL_STORE_URL_MAX + 1])
{
	char buf[PL_STORE_URL_MAX + 2];
	char *path;
	size_t len = 0;
	int ret;

	if (!dir)
		return PL_EINVAL;
	path = pl__path_join(dir, PL_STORE_LOCATION_FILE);
	if (!path)
		return PL_ENOMEM;
	ret = pl__read_path(path, buf, sizeof(buf), &len);
	if (ret == PL_ETOOBIG)
		ret = PL_ESTORE;
	if (!ret)
		ret = pl__store_location_parse(buf, len, url) ? PL_ESTORE : 0;
	free(path);
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

int pl_store_locate(const char *dir, const char *url)
{
	char checked[PL_STORE_URL_MAX + 1];
	char *path = NULL;
	int fd = -1, ret;

	if (!dir || !url)
		return PL_EINVAL;
	ret = pl__store_location_parse(url, strlen(url), checked);
	if (ret)
		goto out;
	path = pl__path_join(dir, PL_STORE_LOCATION_FILE);
	if (!path) {
		ret = PL_ENOMEM;
		goto out;
	}
	/* Owner-only: the address may carry a password. Never through a symlink, never over one. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = errno == EEXIST ? PL_EEXIST : PL_EIO;
		goto out;
	}
	ret = pl__write_all(fd, checked, strlen(checked));
	if (!ret)
		ret = pl__write_all(fd, "\n", 1);
	if (!ret && fsync(fd) != 0)
		ret = PL_EIO;
	if (!ret)
		ret = pl__sync_parent(path);
	if (ret)
		unlink(path);
out:
	if (fd >= 0)
		close(fd);
	free(path);
	sodium_memzero(checked, sizeof(checked));
	return ret;
}

/* The PostgreSQL backend's call, or PL_ESTORE in a build without it. */
#ifdef PL_HAVE_POSTGRESQL
#define STORE_PG_CALL(call) (call)
#else
#define STORE_PG_CALL(call) PL_ESTORE
#endif

int pl_store_create_url(const char *url, const char *origin)
{
	char u[PL_STORE_URL_MAX + 1];

	if (!url || !origin || !*origin || strlen(origin) > PL_ORIGIN_MAX ||
	    pl__store_location_parse(url, strlen(url), u) != 0)
		return PL_EINVAL;
	return STORE_PG_CALL(pl__store_pg_create(u, origin));
}

int pl_store_open_url(struct pl_store **out, const char *url, bool writer, struct pl_buf *err)
{
	char u[PL_STORE_URL_MAX + 1];

	if (!out || !url || pl__store_location_parse(url, strlen(url), u) != 0)
		return PL_EINVAL;
	return STORE_PG_CALL(pl__store_pg_open(out, u, writer, err));
}

int pl__store_meta_key(char key[static PL__STORE_META_KEY_MAX + 1], const char *prefix,
                       const char *name)
{
	size_t p = strlen(prefix), n = name ? strlen(name) : 0;

	if (n == 0 || n > PL_RECORD_NAME_MAX || p > 5 || strchr(name, ' '))
		return PL_EINVAL;
	memcpy(key, prefix, p);
	key[p] = ' ';
	memcpy(key + p + 1, name, n + 1);
	return 0;
}
