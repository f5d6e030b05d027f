/* Party identities: names, the encryption key text form, and the four key files of a party. */
#include <parley/party.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"

#define EKEY_INFIX    "+x25519+"
#define DKEY_PREFIX   "PRIVATE+X25519+"
#define KEY_B64_LEN   PL_B64_LEN(PL_BOX_PK_BYTES)
#define INFIX_LEN     (sizeof(EKEY_INFIX) - 1)
#define PREFIX_LEN    (sizeof(DKEY_PREFIX) - 1)
#define DKEY_TEXT_MAX (PREFIX_LEN + PL_KEY_NAME_MAX + 1 + KEY_B64_LEN)
/* A key file holds one line and an optional newline. */
#define KEYFILE_MAX (DKEY_TEXT_MAX + 1)

_Static_assert(PL_BOX_SK_BYTES == PL_BOX_PK_BYTES, "both X25519 keys encode to KEY_B64_LEN");
_Static_assert(PL_PARTY_EKEY_TEXT_MAX <= DKEY_TEXT_MAX, "one file buffer fits both forms");

/* The four files of an identity, in the order they are written. */
enum { F_SKEY, F_VKEY, F_DKEY, F_EKEY, F_COUNT };
static const char *const suffixes[F_COUNT] = {".skey", ".vkey", ".dkey", ".ekey"};
static const unsigned modes[F_COUNT] = {0600, 0644, 0600, 0644};

bool pl_party_name_is_valid(const char *name, size_t len)
{
	if (!name || len == 0 || len > PL_PARTY_NAME_MAX)
		return false;
	if (name[0] == '-' || name[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return !(len == sizeof(PL_PARTY_RESERVED) - 1 && memcmp(name, PL_PARTY_RESERVED, len) == 0);
}

int pl_party_key_name(struct pl_buf *out, const char *origin, const char *name)
{
	char kn[PL_KEY_NAME_MAX + 1];
	size_t olen, nlen;
	int ret = 0;

	if (!origin || !name) {
		ret = PL_EINVAL;
		goto out;
	}
	olen = strnlen(origin, PL_KEY_NAME_MAX + 1);
	nlen = strnlen(name, PL_PARTY_NAME_MAX + 1);
	if (!pl_party_name_is_valid(name, nlen) || olen == 0 || origin[olen - 1] == '/' ||
	    olen > PL_KEY_NAME_MAX - 1 - nlen) {
		ret = PL_EINVAL;
		goto out;
	}
	memcpy(kn, origin, olen);
	kn[olen] = '/';
	memcpy(kn + olen + 1, name, nlen);
	if (!pl_key_name_is_valid(kn, olen + 1 + nlen)) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_buf_add(out, kn, olen + 1 + nlen);
out:
	return ret;
}

int pl_party_ekey_parse(struct pl_party_ekey *ek, const char *s, size_t len)
{
	struct pl_party_ekey k;
	size_t nlen;
	int ret = 0;

	/* Key names hold no '+', so the infix sits at a fixed distance from the end. */
	if (!s || len > PL_PARTY_EKEY_TEXT_MAX || len < 1 + INFIX_LEN + KEY_B64_LEN) {
		ret = PL_EMALFORMED;
		goto out;
	}
	nlen = len - INFIX_LEN - KEY_B64_LEN;
	if (memcmp(s + nlen, EKEY_INFIX, INFIX_LEN) != 0 || !pl_key_name_is_valid(s, nlen)) {
		ret = PL_EMALFORMED;
		goto out;
	}
	memset(&k, 0, sizeof(k));
	memcpy(k.name, s, nlen);
	if (pl_b64_decode_exact(k.pk, sizeof(k.pk), s + nlen + INFIX_LEN, KEY_B64_LEN) != 0) {
		ret = PL_EMALFORMED;
		goto out;
	}
	if (!pl_box_pk_is_valid(k.pk)) {
		ret = PL_EKEY;
		goto out;
	}
	*ek = k;
out:
	return ret;
}

int pl_party_ekey_format(const struct pl_party_ekey *ek, struct pl_buf *out)
{
	char text[PL_PARTY_EKEY_TEXT_MAX + 1];
	size_t nlen = strnlen(ek->name, sizeof(ek->name));
	int ret = 0;

	if (!pl_key_name_is_valid(ek->name, nlen)) {
		ret = PL_EINVAL;
		goto out;
	}
	memcpy(text, ek->name, nlen);
	memcpy(text + nlen, EKEY_INFIX, INFIX_LEN);
	pl_b64_encode(text + nlen + INFIX_LEN, ek->pk, sizeof(ek->pk));
	ret = pl_buf_add(out, text, nlen + INFIX_LEN + KEY_B64_LEN);
out:
	return ret;
}

bool pl_party_ekey_equal(const struct pl_party_ekey *a, const struct pl_party_ekey *b)
{
	return strcmp(a->name, b->name) == 0 && memcmp(a->pk, b->pk, sizeof(a->pk)) == 0;
}

int pl_party_ekey_load(struct pl_party_ekey *ek, const char *path)
{
	char buf[KEYFILE_MAX];
	size_t len = 0;
	int ret;

	if (!path) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl__key_file_read_line(path, false, buf, sizeof(buf), &len);
	if (ret)
		goto out;
	ret = pl_party_ekey_parse(ek, buf, len);
out:
	return ret;
}

/* Writes the decryption key text PRIVATE+X25519+<name>+<base64 secret> to text. */
static void dkey_format(char text[static DKEY_TEXT_MAX + 1], size_t *len, const char *name,
                        const uint8_t sk[static PL_BOX_SK_BYTES])
{
	size_t nlen = strlen(name);

	memcpy(text, DKEY_PREFIX, PREFIX_LEN);
	memcpy(text + PREFIX_LEN, name, nlen);
	text[PREFIX_LEN + nlen] = '+';
	pl_b64_encode(text + PREFIX_LEN + nlen + 1, sk, PL_BOX_SK_BYTES);
	*len = PREFIX_LEN + nlen + 1 + KEY_B64_LEN;
}

/* Parses a decryption key text strictly; derives the public key. */
static int dkey_parse(char name[static PL_KEY_NAME_MAX + 1], struct pl_box_keypair *kp,
                      const char *s, size_t len)
{
	uint8_t sk[PL_BOX_SK_BYTES];
	size_t nlen;
	int ret = 0;

	if (len > DKEY_TEXT_MAX || len < PREFIX_LEN + 1 + 1 + KEY_B64_LEN ||
	    memcmp(s, DKEY_PREFIX, PREFIX_LEN) != 0 || s[len - KEY_B64_LEN - 1] != '+') {
		ret = PL_EMALFORMED;
		goto out;
	}
	nlen = len - PREFIX_LEN - 1 - KEY_B64_LEN;
	if (!pl_key_name_is_valid(s + PREFIX_LEN, nlen) ||
	    pl_b64_decode_exact(sk, sizeof(sk), s + len - KEY_B64_LEN, KEY_B64_LEN) != 0) {
		ret = PL_EMALFORMED;
		goto out;
	}
	ret = pl_box_keypair_from_secret(kp, sk);
	if (ret)
		goto out;
	memcpy(name, s + PREFIX_LEN, nlen);
	name[nlen] = '\0';
out:
	sodium_memzero(sk, sizeof(sk));
	return ret;
}

static int dkey_load(char name[static PL_KEY_NAME_MAX + 1], struct pl_box_keypair *kp,
                     const char *path)
{
	char buf[KEYFILE_MAX];
	size_t len = 0;
	int ret;

	ret = pl__key_file_read_line(path, true, buf, sizeof(buf), &len);
	if (ret)
		goto out;
	ret = dkey_parse(name, kp, buf, len);
out:
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

/* Builds dir/<name><suffix> for each of the four files. */
static int build_paths(struct pl_buf paths[static F_COUNT], const char *dir, const char *name)
{
	int ret = 0;

	for (size_t i = 0; i < F_COUNT && !ret; i++) {
		pl_buf_reset(&paths[i]);
		ret = pl_buf_addf(&paths[i], "%s/%s%s", dir, name, suffixes[i]);
	}
	return ret ? PL_EINVAL : 0;
}

/* Wipes a buffer that held secret text, then frees it. */
static void buf_wipe(struct pl_buf *b)
{
	if (b->data)
		sodium_memzero(b->data, b->cap);
	pl_buf_release(b);
}

/* Formats the text of file f of identity id into text, which must be empty. */
static int format_file(struct pl_buf *text, const struct pl_party *id, int f)
{
	char dtext[DKEY_TEXT_MAX + 1];
	size_t dlen;
	int ret = PL_EINVAL;

	switch (f) {
	case F_SKEY:
		/* text is empty, so the secret is copied once and never moved by a realloc. */
		ret = pl_skey_format(&id->skey, text);
		break;
	case F_VKEY:
		ret = pl_vkey_format(&id->vkey, text);
		break;
	case F_DKEY:
		dkey_format(dtext, &dlen, id->skey.name, id->enc.sk);
		ret = pl_buf_add(text, dtext, dlen);
		sodium_memzero(dtext, sizeof(dtext));
		break;
	case F_EKEY:
		ret = pl_party_ekey_format(&id->ekey, text);
		break;
	}
	return ret;
}

int pl_party_create(struct pl_party *p, const char *dir, const char *origin, const char *name)
{
	struct pl_party id;
	struct pl_buf kn, text, paths[F_COUNT];
	bool created[F_COUNT] = {false};
	bool made_dir = false;
	struct stat st;
	size_t nlen;
	int ret, saved;

	memset(&id, 0, sizeof(id));
	pl_buf_init(&kn, PL_KEY_NAME_MAX);
	pl_buf_init(&text, 2 * DKEY_TEXT_MAX);
	for (size_t i = 0; i < F_COUNT; i++)
		pl_buf_init(&paths[i], PATH_MAX - 1);
	if (!dir || !origin || !name) {
		ret = PL_EINVAL;
		goto out;
	}
	nlen = strnlen(name, PL_PARTY_NAME_MAX + 1);
	ret = pl_party_key_name(&kn, origin, name);
	if (ret) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = build_paths(paths, dir, name);
	if (ret)
		goto out;
	if (mkdir(dir, 0700) == 0) {
		made_dir = true;
		ret = pl__sync_parent(dir);
		if (ret)
			goto out;
	} else if (errno != EEXIST) {
		ret = PL_EIO;
		goto out;
	}
	if (stat(dir, &st) != 0) {
		ret = PL_EIO;
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		ret = PL_EIO;
		goto out;
	}
	/* Look before writing anything, so that a refusal leaves the directory as it was. */
	for (size_t i = 0; i < F_COUNT; i++) {
		if (lstat(paths[i].data, &st) == 0) {
			errno = EEXIST;
			ret = PL_EEXIST;
			goto out;
		}
		if (errno != ENOENT) {
			ret = PL_EIO;
			goto out;
		}
	}
	ret = pl_key_generate(&id.skey, &id.vkey, kn.data, PL_SIGTYPE_ED25519);
	if (ret)
		goto out;
	pl_box_keypair_generate(&id.enc);
	memcpy(id.ekey.name, kn.data, kn.len);
	memcpy(id.ekey.pk, id.enc.pk, sizeof(id.ekey.pk));
	memcpy(id.name, name, nlen);
	memcpy(id.origin, kn.data, kn.len - nlen - 1);
	/* O_EXCL in pl_key_save() still refuses a file that appeared since the look above. */
	for (int f = 0; f < F_COUNT; f++) {
		ret = format_file(&text, &id, f);
		if (!ret)
			ret = pl_key_save(paths[f].data, text.data, text.len, modes[f]);
		buf_wipe(&text);
		if (ret)
			goto out;
		created[f] = true;
	}
	if (p)
		*p = id;
out:
	if (ret) {
		saved = errno;
		for (size_t i = 0; i < F_COUNT; i++) {
			if (created[i])
				unlink(paths[i].data);
		}
		if (made_dir)
			rmdir(dir);
		errno = saved;
	}
	sodium_memzero(&id, sizeof(id));
	buf_wipe(&text);
	pl_buf_release(&kn);
	for (size_t i = 0; i < F_COUNT; i++)
		pl_buf_release(&paths[i]);
	return ret;
}

int pl_party_load(struct pl_party *p, const char *dir, const char *name)
{
	struct pl_party id;
	struct pl_vkey derived;
	struct pl_buf paths[F_COUNT];
	char dname[PL_KEY_NAME_MAX + 1];
	size_t nlen, klen;
	int ret;

	memset(&id, 0, sizeof(id));
	for (size_t i = 0; i < F_COUNT; i++)
		pl_buf_init(&paths[i], PATH_MAX - 1);
	if (!dir || !name) {
		ret = PL_EINVAL;
		goto out;
	}
	nlen = strnlen(name, PL_PARTY_NAME_MAX + 1);
	if (!pl_party_name_is_valid(name, nlen)) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = build_paths(paths, dir, name);
	if (ret)
		goto out;
	ret = pl_skey_load(&id.skey, paths[F_SKEY].data);
	if (ret)
		goto out;
	ret = pl_vkey_load(&id.vkey, paths[F_VKEY].data);
	if (ret)
		goto out;
	ret = dkey_load(dname, &id.enc, paths[F_DKEY].data);
	if (ret)
		goto out;
	ret = pl_party_ekey_load(&id.ekey, paths[F_EKEY].data);
	if (ret)
		goto out;
	/* The four files must be one identity: same name, matching halves. */
	pl_skey_public(&id.skey, &derived);
	klen = strlen(id.skey.name);
	if (id.skey.type != PL_SIGTYPE_ED25519 || !pl_vkey_equal(&derived, &id.vkey) ||
	    klen < nlen + 2 || id.skey.name[klen - nlen - 1] != '/' ||
	    memcmp(id.skey.name + klen - nlen, name, nlen) != 0 ||
	    strcmp(id.ekey.name, id.skey.name) != 0 || strcmp(dname, id.skey.name) != 0 ||
	    memcmp(id.ekey.pk, id.enc.pk, sizeof(id.ekey.pk)) != 0) {
		ret = PL_EKEY;
		goto out;
	}
	memcpy(id.name, name, nlen);
	memcpy(id.origin, id.skey.name, klen - nlen - 1);
	*p = id;
out:
	sodium_memzero(&id, sizeof(id));
	for (size_t i = 0; i < F_COUNT; i++)
		pl_buf_release(&paths[i]);
	return ret;
}

void pl_party_clear(struct pl_party *p)
{
	if (p)
		sodium_memzero(p, sizeof(*p));
}
