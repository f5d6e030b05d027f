/* Client profiles: a strict line-based text file, parsed exactly and replaced atomically. */
#include <parley/profile.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <parley/encoding.h>
#include <parley/party.h>
#include <parley/record.h>

#include "internal.h"

/* The fields in their fixed order. */
enum field { F_EXCHANGE, F_ORIGIN, F_PARTY, F_KEY_DIR, F_LOG_KEY, F_STATE, F_COUNT };
static const char *const field_names[F_COUNT] = {
        "exchange", "origin", "party", "key-dir", "log-key", "state",
};

/* The longest verifier key text: name, '+', 8 hex digits, '+', base64 of type || key. */
#define VKEY_TEXT_MAX (PL_KEY_NAME_MAX + 2 + 8 + PL_B64_LEN(1 + PL_ED25519_PK_BYTES))

bool pl_profile_url_is_valid(const char *s, size_t len)
{
	size_t scheme;

	if (!s || len > PL_PROFILE_URL_MAX)
		return false;
	if (pl__has_prefix(s, len, "http://"))
		scheme = 7;
	else if (pl__has_prefix(s, len, "https://"))
		scheme = 8;
	else
		return false;
	if (len == scheme)
		return false; /* no host */
	for (size_t i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	}
	return true;
}

/* A free-text value (a path): non-empty, UTF-8, no control character, no edge space. */
static bool text_value_is_valid(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max || s[0] == ' ' || s[len - 1] == ' ')
		return false;
	if (!pl_utf8_is_valid(s, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
		/* C1 controls, U+0080..U+009F, are C2 80..C2 9F in UTF-8. */
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0)
			return false;
	}
	return true;
}

/* Copies s[0..len) as a NUL-terminated string into dst (the caller checked the size). */
static void copy_str(char *dst, const char *s, size_t len)
{
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* Checks one value and stores it in p. Returns 0 or PL_EMALFORMED with *why. */
static int set_field(struct pl_profile *p, enum field f, const char *v, size_t n, const char **why)
{
	int ret = 0;

	switch (f) {
	case F_EXCHANGE:
		if (!pl_profile_url_is_valid(v, n)) {
			*why = "exchange is not an http:// or https:// URL";
			ret = PL_EMALFORMED;
			goto out;
		}
		copy_str(p->exchange, v, n);
		break;
	case F_ORIGIN:
		if (!pl_record_origin_is_valid(v, n)) {
			*why = "origin is not a valid exchange origin";
			ret = PL_EMALFORMED;
			goto out;
		}
		copy_str(p->origin, v, n);
		break;
	case F_PARTY:
		if (!pl_party_name_is_valid(v, n)) {
			*why = "party is not a valid party name";
			ret = PL_EMALFORMED;
			goto out;
		}
		copy_str(p->party, v, n);
		break;
	case F_KEY_DIR:
	case F_STATE:
		if (!text_value_is_valid(v, n, PL_PROFILE_PATH_MAX)) {
			*why = f == F_STATE ? "state is not a usable path"
			                    : "key-dir is not a usable path";
			ret = PL_EMALFORMED;
			goto out;
		}
		copy_str(f == F_STATE ? p->state : p->key_dir, v, n);
		break;
	case F_LOG_KEY:
		if (n > VKEY_TEXT_MAX || pl_vkey_parse(&p->log_key, v, n) != 0 ||
		    p->log_key.type != PL_SIGTYPE_ED25519) {
			*why = "log-key is not an Ed25519 verifier key";
			ret = PL_EMALFORMED;
			goto out;
		}
		break;
	case F_COUNT:
		ret = PL_EMALFORMED;
		break;
	}
out:
	return ret;
}

int pl_profile_parse(struct pl_profile *p, const char *text, size_t len, const char **why)
{
	struct pl_profile tmp;
	const char *dummy, *s = text, *end = text + len;
	size_t vl = sizeof(PL_PROFILE_VERSION_LINE) - 1;
	int ret = 0;

	if (!why)
		why = &dummy;
	if (!p || !text) {
		*why = "no profile";
		ret = PL_EMALFORMED;
		goto out;
	}
	if (len > PL_PROFILE_MAX_BYTES) {
		*why = "profile too large";
		ret = PL_ETOOBIG;
		goto out;
	}
	memset(&tmp, 0, sizeof(tmp));
	if (len < vl + 1 || memcmp(s, PL_PROFILE_VERSION_LINE, vl) != 0 || s[vl] != '\n') {
		*why = "the first line is not " PL_PROFILE_VERSION_LINE;
		ret = PL_EMALFORMED;
		goto out;
	}
	s += vl + 1;
	for (int f = 0; f < F_COUNT; f++) {
		const char *nl = s < end ? memchr(s, '\n', (size_t)(end - s)) : NULL;
		size_t klen = strlen(field_names[f]);
		size_t n;

		if (!nl) {
			*why = s < end ? "a line does not end in a newline" : "a field is missing";
			ret = PL_EMALFORMED;
			goto out;
		}
		n = (size_t)(nl - s);
		if (n < klen + 2 || memcmp(s, field_names[f], klen) != 0 || s[klen] != ' ') {
			*why = "a line is not the expected field (wrong order, unknown or missing "
			       "key)";
			ret = PL_EMALFORMED;
			goto out;
		}
		ret = set_field(&tmp, (enum field)f, s + klen + 1, n - klen - 1, why);
		if (ret)
			goto out;
		s = nl + 1;
	}
	if (s != end) {
		*why = "bytes after the last field";
		ret = PL_EMALFORMED;
		goto out;
	}
	if (strcmp(tmp.log_key.name, tmp.origin) != 0) {
		*why = "log-key is not named after the origin";
		ret = PL_EMALFORMED;
		goto out;
	}
	*p = tmp;
out:
	return ret;
}

int pl_profile_format(const struct pl_profile *p, struct pl_buf *out, const char **why)
{
	struct pl_buf b;
	struct pl_profile check;
	const char *dummy;
	int ret = 0;

	if (!why)
		why = &dummy;
	pl_buf_init(&b, PL_PROFILE_MAX_BYTES);
	if (!p || !out) {
		*why = "no profile";
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_buf_addf(&b, "%s\nexchange %s\norigin %s\nparty %s\nkey-dir %s\nlog-key ",
	                  PL_PROFILE_VERSION_LINE, p->exchange, p->origin, p->party, p->key_dir);
	if (!ret)
		ret = pl_vkey_format(&p->log_key, &b);
	if (!ret)
		ret = pl_buf_addf(&b, "\nstate %s\n", p->state);
	if (ret) {
		*why = "a field does not fit";
		ret = PL_EINVAL;
		goto out;
	}
	/* The parser is the one definition of a valid profile. */
	if (pl_profile_parse(&check, b.data, b.len, why) != 0) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_buf_add(out, b.data, b.len);
out:
	pl_buf_release(&b);
	return ret;
}

/* Joins dir and name into out. Returns 0 or PL_EINVAL when it does not fit. */
static int join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= cap ? PL_EINVAL : 0;
}

int pl_profile_load(struct pl_profile *p, const char *dir, const char **why)
{
	char path[PL_PROFILE_PATH_MAX + 64];
	char buf[PL_PROFILE_MAX_BYTES];
	const char *dummy;
	size_t len = 0;
	int ret;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!p || !dir || join(path, sizeof(path), dir, PL_PROFILE_FILE))
		return PL_EINVAL;
	ret = pl__read_path(path, buf, PL_PROFILE_MAX_BYTES, &len);
	if (ret == PL_ETOOBIG)
		*why = "profile too large";
	return ret ? ret : pl_profile_parse(p, buf, len, why);
}

int pl_profile_save(const struct pl_profile *p, const char *dir, bool replace, const char **why)
{
	char path[PL_PROFILE_PATH_MAX + 64], tmp[PL_PROFILE_PATH_MAX + 64];
	struct pl_buf text;
	const char *dummy;
	struct stat st;
	int fd = -1, dfd = -1, ret = 0, saved;
	bool tmp_made = false;

	if (!why)
		why = &dummy;
	*why = NULL;
	pl_buf_init(&text, PL_PROFILE_MAX_BYTES);
	if (!p || !dir || join(path, sizeof(path), dir, PL_PROFILE_FILE) ||
	    join(tmp, sizeof(tmp), dir, PL_PROFILE_FILE ".tmp")) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_profile_format(p, &text, why);
	if (ret) {
		ret = PL_EINVAL;
		goto out;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		ret = PL_EIO;
		goto out;
	}
	if (!replace && lstat(path, &st) == 0) {
		ret = PL_EEXIST;
		goto out;
	}
	/* A temporary file left by a crash is ours to replace. */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		ret = PL_EIO;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = PL_EIO;
		goto out;
	}
	tmp_made = true;
	if (pl__write_all(fd, text.data, text.len) || fsync(fd) != 0) {
		ret = PL_EIO;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		ret = PL_EIO;
		goto out;
	}
	fd = -1;
	/* Without replace, link() refuses an existing target where rename() would not. */
	if (replace ? rename(tmp, path) != 0 : link(tmp, path) != 0) {
		ret = errno == EEXIST ? PL_EEXIST : PL_EIO;
		goto out;
	}
	if (!replace)
		(void)unlink(tmp);
	tmp_made = false;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		ret = PL_EIO;
		goto out;
	}
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (tmp_made)
		(void)unlink(tmp);
	if (dfd >= 0)
		close(dfd);
	pl_buf_release(&text);
	errno = saved;
	return ret;
}
