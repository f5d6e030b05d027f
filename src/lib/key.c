/* Ed25519 signer and verifier keys: names, key IDs, text forms and key files. */
#include <parley/key.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <parley/encoding.h>

#include "internal.h"

#define SKEY_PREFIX "PRIVATE+KEY+"

/* Hex key ID, two '+' and base64(type || 32 bytes): the fixed tail of both text forms. */
#define KEYID_HEX_LEN (2 * PL_KEYID_BYTES)
#define KEYDATA_BYTES (1 + PL_ED25519_PK_BYTES)
#define KEYDATA_B64   PL_B64_LEN(KEYDATA_BYTES)
#define KEYTEXT_MAX   (sizeof(SKEY_PREFIX) - 1 + PL_KEY_NAME_MAX + 2 + KEYID_HEX_LEN + KEYDATA_B64)

/* A key file holds one key line and an optional newline: anything longer is not a key. */
#define KEYFILE_MAX (KEYTEXT_MAX + 1)

static bool type_is_known(uint8_t type)
{
	return type == PL_SIGTYPE_ED25519 || type == PL_SIGTYPE_COSIG_V1;
}

/*
 * Decodes the code point at s[*i] of a string already checked to be valid
 * UTF-8 and advances *i past it.
 */
static uint32_t utf8_next(const unsigned char *s, size_t *i)
{
	uint32_t c = s[*i];
	size_t k = 0;

	if (c >= 0xf0) {
		c &= 0x07;
		k = 3;
	} else if (c >= 0xe0) {
		c &= 0x0f;
		k = 2;
	} else if (c >= 0xc0) {
		c &= 0x1f;
		k = 1;
	}
	(*i)++;
	while (k--)
		c = c << 6 | (s[(*i)++] & 0x3f);
	return c;
}

/* The Unicode White_Space characters (what Go's unicode.IsSpace reports). */
static bool is_unicode_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

bool pl_key_name_is_valid(const char *name, size_t len)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0;

	if (len == 0 || len > PL_KEY_NAME_MAX || !pl_utf8_is_valid(name, len))
		return false;
	while (i < len) {
		uint32_t c = utf8_next(s, &i);
		/* Control characters cannot appear in a note, so no signature could carry them. */
		if (c < 0x20 || c == '+' || is_unicode_space(c))
			return false;
	}
	return true;
}

void pl_key_id(uint8_t out[static PL_KEYID_BYTES], const char *name, uint8_t type,
               const uint8_t pk[static PL_ED25519_PK_BYTES])
{
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];
	const uint8_t sep[2] = {'\n', type};

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
	crypto_hash_sha256_update(&st, sep, sizeof(sep));
	crypto_hash_sha256_update(&st, pk, PL_ED25519_PK_BYTES);
	crypto_hash_sha256_final(&st, h);
	memcpy(out, h, PL_KEYID_BYTES);
}

int pl_key_generate(struct pl_skey *sk, struct pl_vkey *vk, const char *name, uint8_t type)
{
	uint8_t pk[PL_ED25519_PK_BYTES];
	size_t n;
	int ret = PL_EINVAL;

	if (!name || !type_is_known(type))
		goto out;
	n = strnlen(name, PL_KEY_NAME_MAX + 1);
	if (!pl_key_name_is_valid(name, n))
		goto out;
	memset(sk, 0, sizeof(*sk));
	memcpy(sk->name, name, n);
	sk->type = type;
	crypto_sign_keypair(pk, sk->sk);
	pl_key_id(sk->id, sk->name, type, pk);
	pl_skey_public(sk, vk);
	ret = 0;
out:
	return ret;
}

void pl_skey_public(const struct pl_skey *sk, struct pl_vkey *vk)
{
	memset(vk, 0, sizeof(*vk));
	memcpy(vk->name, sk->name, sizeof(vk->name));
	vk->type = sk->type;
	memcpy(vk->id, sk->id, PL_KEYID_BYTES);
	/* libsodium's secret key is seed || public key. */
	memcpy(vk->pk, sk->sk + PL_ED25519_SEED_BYTES, PL_ED25519_PK_BYTES);
}

void pl_skey_clear(struct pl_skey *sk)
{
	if (sk)
		sodium_memzero(sk, sizeof(*sk));
}

bool pl_vkey_equal(const struct pl_vkey *a, const struct pl_vkey *b)
{
	return a->type == b->type && strcmp(a->name, b->name) == 0 &&
	       memcmp(a->id, b->id, PL_KEYID_BYTES) == 0 &&
	       memcmp(a->pk, b->pk, PL_ED25519_PK_BYTES) == 0;
}

/* Lowercase hex only: the text form has one spelling, so a key compares as text. */
static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

/*
 * Splits "<name>+<hex8>+<base64(type || 32 bytes)>" and decodes it. Key
 * material lands in data[] (33 bytes), which the caller wipes for secrets.
 * Checks the name, the shape and that the type (data[0]) is one this library
 * knows (PL_EKEY otherwise); the caller checks the key ID.
 */
static int split_key_text(char name[static PL_KEY_NAME_MAX + 1], uint8_t id[static PL_KEYID_BYTES],
                          uint8_t data[static KEYDATA_BYTES], const char *s, size_t len)
{
	const char *plus = memchr(s, '+', len);
	size_t nlen, rest;
	const char *p;

	if (!plus)
		return PL_EMALFORMED;
	nlen = (size_t)(plus - s);
	if (!pl_key_name_is_valid(s, nlen))
		return PL_EMALFORMED;
	p = plus + 1;
	rest = len - nlen - 1;
	if (rest != KEYID_HEX_LEN + 1 + KEYDATA_B64 || p[KEYID_HEX_LEN] != '+')
		return PL_EMALFORMED;
	if (!is_lower_hex(p, KEYID_HEX_LEN) ||
	    pl_hex_decode_exact(id, PL_KEYID_BYTES, p, KEYID_HEX_LEN))
		return PL_EMALFORMED;
	p += KEYID_HEX_LEN + 1;
	if (pl_b64_decode_exact(data, KEYDATA_BYTES, p, KEYDATA_B64))
		return PL_EMALFORMED;
	memcpy(name, s, nlen);
	name[nlen] = '\0';
	return type_is_known(data[0]) ? 0 : PL_EKEY;
}

int pl_vkey_parse(struct pl_vkey *vk, const char *s, size_t len)
{
	struct pl_vkey k;
	uint8_t data[KEYDATA_BYTES];
	uint8_t id[PL_KEYID_BYTES];
	int ret;

	memset(&k, 0, sizeof(k));
	ret = split_key_text(k.name, k.id, data, s, len);
	if (ret)
		goto out;
	k.type = data[0];
	memcpy(k.pk, data + 1, PL_ED25519_PK_BYTES);
	pl_key_id(id, k.name, k.type, k.pk);
	if (memcmp(id, k.id, PL_KEYID_BYTES) != 0) {
		ret = PL_EKEY;
		goto out;
	}
	*vk = k;
out:
	return ret;
}

int pl_skey_parse(struct pl_skey *sk, const char *s, size_t len)
{
	struct pl_skey k;
	uint8_t data[KEYDATA_BYTES];
	uint8_t pk[PL_ED25519_PK_BYTES];
	uint8_t id[PL_KEYID_BYTES];
	const size_t plen = sizeof(SKEY_PREFIX) - 1;
	int ret;

	memset(&k, 0, sizeof(k));
	memset(data, 0, sizeof(data));
	if (!pl__has_prefix(s, len, SKEY_PREFIX)) {
		ret = PL_EMALFORMED;
		goto out;
	}
	ret = split_key_text(k.name, k.id, data, s + plen, len - plen);
	if (ret)
		goto out;
	k.type = data[0];
	crypto_sign_seed_keypair(pk, k.sk, data + 1);
	pl_key_id(id, k.name, k.type, pk);
	if (memcmp(id, k.id, PL_KEYID_BYTES) != 0) {
		ret = PL_EKEY;
		goto out;
	}
	*sk = k;
out:
	if (ret)
		pl_skey_clear(sk);
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(data, sizeof(data));
	return ret;
}

/* Writes "<name>+<hex8>+<base64(type || material)>" to text (KEYTEXT_MAX + 1 bytes). */
static int format_key_text(char *text, size_t *len, const char *prefix, const char *name,
                           uint8_t type, const uint8_t id[static PL_KEYID_BYTES],
                           const uint8_t material[static PL_ED25519_PK_BYTES])
{
	uint8_t data[KEYDATA_BYTES];
	size_t plen = strlen(prefix);
	size_t nlen = strnlen(name, PL_KEY_NAME_MAX + 1);
	size_t o = 0;

	if (!pl_key_name_is_valid(name, nlen) || !type_is_known(type))
		return PL_EINVAL;
	memcpy(text + o, prefix, plen);
	o += plen;
	memcpy(text + o, name, nlen);
	o += nlen;
	text[o++] = '+';
	pl_hex_encode(text + o, id, PL_KEYID_BYTES);
	o += KEYID_HEX_LEN;
	text[o++] = '+';
	data[0] = type;
	memcpy(data + 1, material, PL_ED25519_PK_BYTES);
	pl_b64_encode(text + o, data, sizeof(data));
	o += KEYDATA_B64;
	sodium_memzero(data, sizeof(data));
	*len = o;
	return 0;
}

int pl_vkey_format(const struct pl_vkey *vk, struct pl_buf *out)
{
	char text[KEYTEXT_MAX + 1];
	size_t len;
	int ret;

	ret = format_key_text(text, &len, "", vk->name, vk->type, vk->id, vk->pk);
	if (ret)
		goto out;
	ret = pl_buf_add(out, text, len);
out:
	return ret;
}

int pl_skey_format(const struct pl_skey *sk, struct pl_buf *out)
{
	char text[KEYTEXT_MAX + 1];
	size_t len;
	int ret;

	/* The seed is the first half of libsodium's secret key. */
	ret = format_key_text(text, &len, SKEY_PREFIX, sk->name, sk->type, sk->id, sk->sk);
	if (ret)
		goto out;
	ret = pl_buf_add(out, text, len);
out:
	sodium_memzero(text, sizeof(text));
	return ret;
}

int pl__key_file_read_line(const char *path, bool secret, char *buf, size_t cap, size_t *len)
{
	struct stat st;
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
	int fd, ret, saved;

	if (secret)
		flags |= O_NOFOLLOW;
	fd = open(path, flags);
	if (fd < 0)
		return PL_EIO;
	if (fstat(fd, &st) != 0) {
		ret = PL_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		ret = PL_EIO;
		goto out;
	}
	if (secret && (st.st_mode & 077) != 0) {
		ret = PL_EDENIED;
		goto out;
	}
	ret = pl__read_small(fd, buf, cap, len);
	if (ret)
		goto out;
	if (*len > 0 && buf[*len - 1] == '\n')
		(*len)--;
out:
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

int pl_skey_load(struct pl_skey *sk, const char *path)
{
	char buf[KEYFILE_MAX];
	size_t len = 0;
	int ret;

	ret = pl__key_file_read_line(path, true, buf, sizeof(buf), &len);
	if (!ret)
		ret = pl_skey_parse(sk, buf, len);
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

int pl_vkey_load(struct pl_vkey *vk, const char *path)
{
	char buf[KEYFILE_MAX];
	size_t len = 0;
	int ret = pl__key_file_read_line(path, false, buf, sizeof(buf), &len);

	/* Public: nothing to wipe. */
	return ret ? ret : pl_vkey_parse(vk, buf, len);
}

int pl__sync_parent(const char *path)
{
	char parent[PATH_MAX];
	size_t n = strnlen(path, sizeof(parent));
	int fd, ret = 0;

	if (n == sizeof(parent))
		return PL_EIO;
	memcpy(parent, path, n + 1);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	while (n > 0 && parent[n - 1] != '/')
		n--;
	if (n == 0) {
		parent[0] = '.';
		n = 1;
	}
	parent[n] = '\0';
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return PL_EIO;
	/* Some file systems cannot fsync a directory; that is not a failure to write. */
	if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
		ret = PL_EIO;
	close(fd);
	return ret;
}

int pl_key_save(const char *path, const char *text, size_t len, unsigned mode)
{
	int fd, ret, saved;

	if (!path || !text || (mode & ~0777u) != 0 || len == 0 || len > KEYTEXT_MAX ||
	    memchr(text, '\n', len) || memchr(text, '\0', len)) {
		ret = PL_EINVAL;
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
	          (mode_t)mode);
	if (fd < 0) {
		ret = errno == EEXIST ? PL_EEXIST : PL_EIO;
		goto out;
	}
	/* The umask may have narrowed the mode; a key file gets exactly what was asked. */
	ret = fchmod(fd, (mode_t)mode) != 0 ? PL_EIO : 0;
	if (!ret)
		ret = pl__write_all(fd, text, len);
	if (!ret)
		ret = pl__write_all(fd, "\n", 1);
	if (!ret && fsync(fd) != 0)
		ret = PL_EIO;
	saved = errno;
	if (close(fd) != 0 && !ret) {
		saved = errno;
		ret = PL_EIO;
	}
	if (ret) {
		/* The file is ours (O_EXCL): leave no half-written key behind. */
		unlink(path);
		errno = saved;
		goto out;
	}
	ret = pl__sync_parent(path);
out:
	return ret;
}

/* Room for any key text, reserved up front so that secret text is never copied by realloc. */
#define KEY_TEXT_ROOM 1024

/* Builds dir/<name with '/' as '_'><suffix> into out. */
static int key_path(struct pl_buf *out, const char *dir, const char *name, const char *suffix)
{
	pl_buf_reset(out);
	if (pl_buf_adds(out, dir) || pl_buf_adds(out, "/"))
		return PL_ETOOBIG;
	for (const char *p = name; *p; p++) {
		char c = *p == '/' ? '_' : *p;
		if (pl_buf_add(out, &c, 1))
			return PL_ETOOBIG;
	}
	return pl_buf_adds(out, suffix) ? PL_ETOOBIG : 0;
}

/* Refuses an existing file (or a dangling link) before anything is written. */
static int key_absent(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		errno = EEXIST;
		return PL_EEXIST;
	}
	return errno == ENOENT ? 0 : PL_EIO;
}

/* Names the file a failure concerns, for the caller's message. */
static int key_failed(struct pl_buf *path, const struct pl_buf *file, int err)
{
	int saved = errno;

	if (path) {
		pl_buf_reset(path);
		if (file->data && pl_buf_adds(path, file->data) != 0)
			err = PL_ENOMEM;
	}
	errno = saved;
	return err;
}

int pl_key_create(const char *dir, const char *name, struct pl_vkey *vk, struct pl_buf *path)
{
	struct pl_skey sk;
	struct pl_vkey v;
	struct pl_buf skpath, vkpath, sktext, vktext, *at = &skpath;
	bool wrote_skey = false;
	int err;

	memset(&sk, 0, sizeof(sk));
	pl_buf_init(&skpath, PATH_MAX - 1);
	pl_buf_init(&vkpath, PATH_MAX - 1);
	pl_buf_init(&sktext, KEY_TEXT_ROOM);
	pl_buf_init(&vktext, KEY_TEXT_ROOM);
	if (!pl_key_name_is_valid(name, strlen(name))) {
		err = PL_EINVAL;
		goto out;
	}
	err = key_path(&skpath, dir, name, ".skey");
	if (!err)
		err = key_path(&vkpath, dir, name, ".vkey");
	if (!err)
		err = key_absent(skpath.data);
	if (!err && (err = key_absent(vkpath.data)) != 0)
		at = &vkpath;
	if (!err)
		err = pl_key_generate(&sk, &v, name, PL_SIGTYPE_ED25519);
	/* Reserve the whole room, then empty it: formatting will not reallocate. */
	if (!err && pl_buf_addf(&sktext, "%*s", KEY_TEXT_ROOM - 1, "") != 0)
		err = PL_ENOMEM;
	pl_buf_reset(&sktext);
	if (!err)
		err = pl_skey_format(&sk, &sktext);
	if (!err)
		err = pl_vkey_format(&v, &vktext);
	if (!err)
		err = pl_key_save(skpath.data, sktext.data, sktext.len, 0600);
	wrote_skey = !err;
	if (!err && (err = pl_key_save(vkpath.data, vktext.data, vktext.len, 0644)) != 0)
		at = &vkpath;
	if (!err) {
		wrote_skey = false;
		if (vk)
			*vk = v;
	}
out:
	if (err)
		err = key_failed(path, at, err);
	/* A lone signer key without its verifier key is of no use: take it back. */
	if (wrote_skey)
		unlink(skpath.data);
	pl_skey_clear(&sk);
	if (sktext.data)
		sodium_memzero(sktext.data, sktext.cap);
	pl_buf_release(&sktext);
	pl_buf_release(&vktext);
	pl_buf_release(&skpath);
	pl_buf_release(&vkpath);
	return err;
}
