/* Unit tests of party identities: names, the encryption key text form, the identity directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include <parley/party.h>

#include "testutil.h"

#define ORIGIN "hotline.example"

/* A fresh temporary directory per test, removed with everything in it. */
struct tmpdir {
	char path[256];
};

static int setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t || pl_test_tmpdir(t->path, sizeof(t->path), "parley-party"))
		return -1;
	*state = t;
	return 0;
}

static void rm_tree(const char *path)
{
	static const char *const names[] = {"rok-mnd", "kpa", "unc", "other"};
	static const char *const exts[] = {".skey", ".vkey", ".dkey", ".ekey", ".target"};
	char p[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (size_t j = 0; j < sizeof(exts) / sizeof(exts[0]); j++) {
			snprintf(p, sizeof(p), "%s/%s%s", path, names[i], exts[j]);
			unlink(p);
		}
	}
	snprintf(p, sizeof(p), "%s/sub/rok-mnd.skey", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sub/rok-mnd.vkey", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sub/rok-mnd.dkey", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sub/rok-mnd.ekey", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sub", path);
	rmdir(p);
	rmdir(path);
}

static int teardown(void **state)
{
	struct tmpdir *t = *state;

	rm_tree(t->path);
	free(t);
	return 0;
}

static void file_path(char *out, size_t n, const char *dir, const char *name, const char *ext)
{
	int k = snprintf(out, n, "%s/%s%s", dir, name, ext);
	assert_true(k > 0 && (size_t)k < n);
}

/* Reads a small file whole; returns its length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	return n;
}

static void spit(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_party_names(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
	        {"rok-mnd", true},
	        {"kpa", true},
	        {"a", true},
	        {"0", true},
	        {"dprk-un", true},
	        {"us-wh2", true},
	        {"a-b-c-9", true},
	        {"exchange2", true},
	        {"exchang", true},
	        {"123456789012345678901234567890123456789012345678901234567890123", true},
	        {"1234567890123456789012345678901234567890123456789012345678901234", false},
	        {"", false},
	        {"exchange", false},
	        {"-kpa", false},
	        {"kpa-", false},
	        {"-", false},
	        {"Rok-mnd", false},
	        {"rok_mnd", false},
	        {"rok.mnd", false},
	        {"rok mnd", false},
	        {"rok/mnd", false},
	        {"..", false},
	        {"rok+mnd", false},
	        {"r\xc3\xb6k", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = pl_party_name_is_valid(cases[i].name, strlen(cases[i].name));
		if (got != cases[i].ok)
			fail_msg("name \"%s\": got %d", cases[i].name, got);
	}
	/* The length counts, not the terminator: an embedded NUL is not a name character. */
	assert_false(pl_party_name_is_valid("kpa\0x", 5));
	assert_true(pl_party_name_is_valid("kpa\0x", 3));
	assert_false(pl_party_name_is_valid(NULL, 0));
}

static void test_key_name(void **state)
{
	struct pl_buf b;
	char long_origin[PL_KEY_NAME_MAX + 2];

	(void)state;
	pl_buf_init(&b, 1024);
	assert_int_equal(pl_party_key_name(&b, ORIGIN, "rok-mnd"), 0);
	assert_string_equal(b.data, "hotline.example/rok-mnd");
	pl_buf_reset(&b);
	assert_int_equal(pl_party_key_name(&b, "example.com/hotline", "kpa"), 0);
	assert_string_equal(b.data, "example.com/hotline/kpa");
	pl_buf_reset(&b);
	assert_int_equal(pl_party_key_name(&b, ORIGIN, "exchange"), PL_EINVAL);
	assert_int_equal(pl_party_key_name(&b, ORIGIN, "Kpa"), PL_EINVAL);
	assert_int_equal(pl_party_key_name(&b, "", "kpa"), PL_EINVAL);
	assert_int_equal(pl_party_key_name(&b, "hotline.example/", "kpa"), PL_EINVAL);
	assert_int_equal(pl_party_key_name(&b, "hot line", "kpa"), PL_EINVAL);
	assert_int_equal(pl_party_key_name(&b, "hot+line", "kpa"), PL_EINVAL);
	assert_int_equal(pl_party_key_name(&b, "hot\tline", "kpa"), PL_EINVAL);
	memset(long_origin, 'o', sizeof(long_origin) - 1);
	long_origin[PL_KEY_NAME_MAX - 4] = '\0'; /* 251 + "/kpa" = 255: fits */
	assert_int_equal(pl_party_key_name(&b, long_origin, "kpa"), 0);
	assert_int_equal(b.len, PL_KEY_NAME_MAX);
	pl_buf_reset(&b);
	long_origin[PL_KEY_NAME_MAX - 4] = 'o';
	long_origin[PL_KEY_NAME_MAX - 3] = '\0'; /* one byte too many */
	assert_int_equal(pl_party_key_name(&b, long_origin, "kpa"), PL_EINVAL);
	assert_int_equal(b.len, 0);
	pl_buf_release(&b);
}

/* A known key in text form: the X25519 public key of RFC 7748 §6.1 (Alice). */
#define ALICE_PK_B64 "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define ALICE_TEXT   ORIGIN "/rok-mnd+x25519+" ALICE_PK_B64
#define DKEY_HEAD    "PRIVATE+X25519+" ORIGIN "/rok-mnd+"

static void test_ekey_text_round_trip(void **state)
{
	static const uint8_t alice_pk[32] = {
	        0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d,
	        0xdc, 0xb4, 0x3e, 0xf7, 0x5a, 0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38,
	        0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a,
	};
	struct pl_party_ekey ek, again;
	struct pl_buf b;

	(void)state;
	assert_int_equal(pl_party_ekey_parse(&ek, ALICE_TEXT, strlen(ALICE_TEXT)), 0);
	assert_string_equal(ek.name, ORIGIN "/rok-mnd");
	assert_memory_equal(ek.pk, alice_pk, 32);
	pl_buf_init(&b, 1024);
	assert_int_equal(pl_party_ekey_format(&ek, &b), 0);
	assert_string_equal(b.data, ALICE_TEXT);
	assert_int_equal(pl_party_ekey_parse(&again, b.data, b.len), 0);
	assert_true(pl_party_ekey_equal(&ek, &again));
	again.pk[0] ^= 1;
	assert_false(pl_party_ekey_equal(&ek, &again));
	pl_buf_release(&b);
	/* A bad name cannot be formatted. */
	memcpy(ek.name, "bad name", sizeof("bad name"));
	pl_buf_init(&b, 1024);
	assert_int_equal(pl_party_ekey_format(&ek, &b), PL_EINVAL);
	assert_int_equal(b.len, 0);
	pl_buf_release(&b);
}

static void test_ekey_text_malformed(void **state)
{
	static const struct {
		const char *text;
		int ret;
	} cases[] = {
	        {"", PL_EMALFORMED},
	        {ALICE_PK_B64, PL_EMALFORMED},
	        {"+x25519+" ALICE_PK_B64, PL_EMALFORMED},
	        {ORIGIN "/rok-mnd+X25519+" ALICE_PK_B64, PL_EMALFORMED},
	        {ORIGIN "/rok-mnd+ed25519+" ALICE_PK_B64, PL_EMALFORMED},
	        {ORIGIN "/rok-mnd+x25519" ALICE_PK_B64, PL_EMALFORMED},
	        {ORIGIN "/rok-mnd x25519 " ALICE_PK_B64, PL_EMALFORMED},
	        {ORIGIN "/rok-mnd+x25519+" ALICE_PK_B64 "\n", PL_EMALFORMED},
	        {ORIGIN "/rok-mnd+x25519+" ALICE_PK_B64 " ", PL_EMALFORMED},
	        {" " ORIGIN "/rok-mnd+x25519+" ALICE_PK_B64, PL_EMALFORMED},
	        {ORIGIN "/rok mnd+x25519+" ALICE_PK_B64, PL_EMALFORMED},
	        {ORIGIN "/a+b+x25519+" ALICE_PK_B64, PL_EMALFORMED},
	        {ORIGIN "/rok-mnd+x25519+x25519+" ALICE_PK_B64, PL_EMALFORMED},
	        /* Base64: short, long, unpadded, non-canonical final bits, bad alphabet. */
	        {ORIGIN "/rok-mnd+x25519+hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm=",
	         PL_EMALFORMED},
	        {ORIGIN "/rok-mnd+x25519+hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=A",
	         PL_EMALFORMED},
	        {ORIGIN "/rok-mnd+x25519+hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo",
	         PL_EMALFORMED},
	        {ORIGIN "/rok-mnd+x25519+hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmp=",
	         PL_EMALFORMED},
	        {ORIGIN "/rok-mnd+x25519+hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo=",
	         PL_EMALFORMED},
	        /* 33 bytes of key. */
	        {ORIGIN "/rok-mnd+x25519+AIUg8AmJMKdUdIt93LQ+91oNvzoNJjga9OukqY6qm05q",
	         PL_EMALFORMED},
	        /* Low-order points: no shared secret, refused as keys. */
	        {ORIGIN "/rok-mnd+x25519+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", PL_EKEY},
	        {ORIGIN "/rok-mnd+x25519+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", PL_EKEY},
	        {ORIGIN "/rok-mnd+x25519+4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA=", PL_EKEY},
	};
	struct pl_party_ekey ek;
	char longtext[PL_PARTY_EKEY_TEXT_MAX + 2];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = pl_party_ekey_parse(&ek, cases[i].text, strlen(cases[i].text));
		if (ret != cases[i].ret)
			fail_msg("\"%s\": got %d, want %d", cases[i].text, ret, cases[i].ret);
	}
	/* An embedded NUL in the name. */
	{
		static const char nul[] = "hot\0line/rok-mnd+x25519+" ALICE_PK_B64;
		assert_int_equal(pl_party_ekey_parse(&ek, nul, sizeof(nul) - 1), PL_EMALFORMED);
	}
	/* The longest name fits; one more byte does not. */
	n = PL_KEY_NAME_MAX;
	memset(longtext, 'n', n);
	memcpy(longtext + n, "+x25519+" ALICE_PK_B64, 8 + 44);
	assert_int_equal(pl_party_ekey_parse(&ek, longtext, n + 52), 0);
	assert_int_equal(strlen(ek.name), PL_KEY_NAME_MAX);
	memset(longtext, 'n', n + 1);
	memcpy(longtext + n + 1, "+x25519+" ALICE_PK_B64, 8 + 44);
	assert_int_equal(pl_party_ekey_parse(&ek, longtext, n + 53), PL_EMALFORMED);
}

static void test_create_load_round_trip(void **state)
{
	struct tmpdir *t = *state;
	struct pl_party made, loaded;
	struct pl_party_ekey ek;
	char p[512], text[512];
	uint8_t *blob, *pt, commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	size_t blob_len, pt_len;
	ssize_t n;

	assert_int_equal(pl_party_create(&made, t->path, ORIGIN, "rok-mnd"), 0);
	assert_string_equal(made.name, "rok-mnd");
	assert_string_equal(made.origin, ORIGIN);
	assert_string_equal(made.skey.name, ORIGIN "/rok-mnd");
	assert_string_equal(made.ekey.name, ORIGIN "/rok-mnd");
	assert_int_equal(made.skey.type, PL_SIGTYPE_ED25519);

	assert_int_equal(pl_party_load(&loaded, t->path, "rok-mnd"), 0);
	assert_string_equal(loaded.name, "rok-mnd");
	assert_string_equal(loaded.origin, ORIGIN);
	assert_true(pl_vkey_equal(&made.vkey, &loaded.vkey));
	assert_memory_equal(made.skey.sk, loaded.skey.sk, sizeof(made.skey.sk));
	assert_memory_equal(made.skey.id, loaded.skey.id, sizeof(made.skey.id));
	assert_true(pl_party_ekey_equal(&made.ekey, &loaded.ekey));
	assert_memory_equal(made.enc.pk, loaded.enc.pk, sizeof(made.enc.pk));
	assert_memory_equal(made.enc.sk, loaded.enc.sk, sizeof(made.enc.sk));

	/* Modes: secrets 0600, public halves 0644. */
	file_path(p, sizeof(p), t->path, "rok-mnd", ".skey");
	assert_int_equal(file_mode(p), 0600);
	file_path(p, sizeof(p), t->path, "rok-mnd", ".dkey");
	assert_int_equal(file_mode(p), 0600);
	n = slurp(p, text, sizeof(text) - 1);
	assert_true(n > 0);
	text[n] = '\0';
	assert_true(strncmp(text, DKEY_HEAD, strlen(DKEY_HEAD)) == 0);
	assert_int_equal(n, strlen(DKEY_HEAD) + 44 + 1);
	assert_int_equal(text[n - 1], '\n');
	file_path(p, sizeof(p), t->path, "rok-mnd", ".vkey");
	assert_int_equal(file_mode(p), 0644);
	file_path(p, sizeof(p), t->path, "rok-mnd", ".ekey");
	assert_int_equal(file_mode(p), 0644);
	/* The .ekey file is exactly the text an operator passes to `parleyd party add --enc-key`.
	 */
	n = slurp(p, text, sizeof(text) - 1);
	assert_true(n > 1);
	assert_int_equal(text[n - 1], '\n');
	assert_int_equal(pl_party_ekey_parse(&ek, text, (size_t)n - 1), 0);
	assert_true(pl_party_ekey_equal(&ek, &made.ekey));
	assert_int_equal(pl_party_ekey_load(&ek, p), 0);
	assert_true(pl_party_ekey_equal(&ek, &made.ekey));

	/* The loaded identity opens what was sealed to the published key. */
	assert_int_equal(pl_box_seal(&blob, &blob_len, commit, NULL, (const uint8_t *)"hello", 5,
	                             (const uint8_t(*)[PL_BOX_PK_BYTES])ek.pk, 1),
	                 0);
	assert_int_equal(pl_box_open(&pt, &pt_len, salt, blob, blob_len, &loaded.enc, commit), 0);
	assert_memory_equal(pt, "hello", 5);
	pl_box_plaintext_free(pt, pt_len);
	free(blob);

	pl_party_clear(&made);
	pl_party_clear(&loaded);
	for (size_t i = 0; i < sizeof(loaded); i++)
		assert_int_equal(((const uint8_t *)&loaded)[i], 0);
	pl_party_clear(NULL);
}

static void test_create_without_out_and_new_dir(void **state)
{
	struct tmpdir *t = *state;
	struct pl_party loaded;
	char sub[512], p[512];

	snprintf(sub, sizeof(sub), "%s/sub", t->path);
	assert_int_equal(pl_party_create(NULL, sub, ORIGIN, "rok-mnd"), 0);
	assert_int_equal(file_mode(sub) & 0777, 0700);
	file_path(p, sizeof(p), sub, "rok-mnd", ".skey");
	assert_int_equal(file_mode(p), 0600);
	assert_int_equal(pl_party_load(&loaded, sub, "rok-mnd"), 0);
	pl_party_clear(&loaded);
	/* Missing parent directory. */
	snprintf(sub, sizeof(sub), "%s/no/such", t->path);
	errno = 0;
	assert_int_equal(pl_party_create(NULL, sub, ORIGIN, "rok-mnd"), PL_EIO);
	assert_int_equal(errno, ENOENT);
}

static void test_create_refuses_overwrite(void **state)
{
	struct tmpdir *t = *state;
	struct pl_party id;
	char p[512], before[512], after[512];
	ssize_t nb, na;

	assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "rok-mnd"), 0);
	file_path(p, sizeof(p), t->path, "rok-mnd", ".dkey");
	nb = slurp(p, before, sizeof(before));
	memset(&id, 0x5a, sizeof(id));
	assert_int_equal(pl_party_create(&id, t->path, ORIGIN, "rok-mnd"), PL_EEXIST);
	assert_int_equal(((const uint8_t *)&id)[0], 0x5a); /* untouched on failure */
	na = slurp(p, after, sizeof(after));
	assert_int_equal(nb, na);
	assert_memory_equal(before, after, (size_t)nb);
	/* One stray file is enough to refuse, and nothing else is written. */
	file_path(p, sizeof(p), t->path, "kpa", ".ekey");
	spit(p, "not a key\n", 0644);
	assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "kpa"), PL_EEXIST);
	file_path(p, sizeof(p), t->path, "kpa", ".skey");
	assert_int_equal(access(p, F_OK), -1);
	file_path(p, sizeof(p), t->path, "kpa", ".vkey");
	assert_int_equal(access(p, F_OK), -1);
	file_path(p, sizeof(p), t->path, "kpa", ".dkey");
	assert_int_equal(access(p, F_OK), -1);
}

static void test_create_bad_arguments(void **state)
{
	struct tmpdir *t = *state;
	char p[512];

	assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "exchange"), PL_EINVAL);
	assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "Kpa"), PL_EINVAL);
	assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "../kpa"), PL_EINVAL);
	assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, ""), PL_EINVAL);
	assert_int_equal(pl_party_create(NULL, t->path, "", "kpa"), PL_EINVAL);
	assert_int_equal(pl_party_create(NULL, t->path, "hot line", "kpa"), PL_EINVAL);
	assert_int_equal(pl_party_create(NULL, NULL, ORIGIN, "kpa"), PL_EINVAL);
	assert_int_equal(pl_party_create(NULL, t->path, NULL, "kpa"), PL_EINVAL);
	file_path(p, sizeof(p), t->path, "kpa", ".skey");
	assert_int_equal(access(p, F_OK), -1);
	/* dir names a regular file. */
	file_path(p, sizeof(p), t->path, "other", ".target");
	spit(p, "x", 0644);
	assert_int_equal(pl_party_create(NULL, p, ORIGIN, "kpa"), PL_EIO);
}

static void test_symlinks_refused(void **state)
{
	struct tmpdir *t = *state;
	struct pl_party id;
	char link[512], target[512], real[512];

	/* create: a symlink in place of a key file, even dangling, is never written through. */
	file_path(link, sizeof(link), t->path, "kpa", ".dkey");
	file_path(target, sizeof(target), t->path, "kpa", ".target");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "kpa"), PL_EEXIST);
	assert_int_equal(access(target, F_OK), -1);
	unlink(link);

	/* load: secret files behind a symlink are refused. */
	assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "unc"), 0);
	file_path(real, sizeof(real), t->path, "unc", ".dkey");
	file_path(target, sizeof(target), t->path, "other", ".target");
	assert_int_equal(rename(real, target), 0);
	assert_int_equal(symlink(target, real), 0);
	errno = 0;
	assert_int_equal(pl_party_load(&id, t->path, "unc"), PL_EIO);
	assert_int_equal(errno, ELOOP);
	unlink(real);
	assert_int_equal(rename(target, real), 0);
	assert_int_equal(pl_party_load(&id, t->path, "unc"), 0);
	pl_party_clear(&id);

	file_path(real, sizeof(real), t->path, "unc", ".skey");
	assert_int_equal(rename(real, target), 0);
	assert_int_equal(symlink(target, real), 0);
	assert_int_equal(pl_party_load(&id, t->path, "unc"), PL_EIO);
	unlink(real);
	assert_int_equal(rename(target, real), 0);
}

static void test_load_permissions(void **state)
{
	struct tmpdir *t = *state;
	struct pl_party id;
	char p[512];

	assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "rok-mnd"), 0);
	file_path(p, sizeof(p), t->path, "rok-mnd", ".dkey");
	assert_int_equal(chmod(p, 0640), 0);
	assert_int_equal(pl_party_load(&id, t->path, "rok-mnd"), PL_EDENIED);
	assert_int_equal(chmod(p, 0604), 0);
	assert_int_equal(pl_party_load(&id, t->path, "rok-mnd"), PL_EDENIED);
	assert_int_equal(chmod(p, 0400), 0);
	assert_int_equal(pl_party_load(&id, t->path, "rok-mnd"), 0);
	pl_party_clear(&id);
	assert_int_equal(chmod(p, 0600), 0);
	file_path(p, sizeof(p), t->path, "rok-mnd", ".skey");
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(pl_party_load(&id, t->path, "rok-mnd"), PL_EDENIED);
	assert_int_equal(chmod(p, 0600), 0);
	/* Public halves may be world-readable. */
	assert_int_equal(pl_party_load(&id, t->path, "rok-mnd"), 0);
	pl_party_clear(&id);
}

/* Moves file ext of party from to party to (replacing it). */
static void swap_in(const char *dir, const char *from, const char *to, const char *ext)
{
	char a[512], b[512];

	file_path(a, sizeof(a), dir, from, ext);
	file_path(b, sizeof(b), dir, to, ext);
	assert_int_equal(rename(a, b), 0);
}

static void test_load_mismatched_files(void **state)
{
	struct tmpdir *t = *state;
	struct pl_party id;
	char p[512];

	memset(&id, 0x5a, sizeof(id));
	/* Missing files. */
	errno = 0;
	assert_int_equal(pl_party_load(&id, t->path, "rok-mnd"), PL_EIO);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(pl_party_load(&id, t->path, "exchange"), PL_EINVAL);
	assert_int_equal(pl_party_load(&id, t->path, "../x"), PL_EINVAL);
	assert_int_equal(((const uint8_t *)&id)[0], 0x5a);

	/* Each half taken from another identity of the same exchange. */
	static const char *const exts[] = {".vkey", ".ekey", ".dkey", ".skey"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "rok-mnd"), 0);
		assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "unc"), 0);
		swap_in(t->path, "unc", "rok-mnd", exts[i]);
		assert_int_equal(pl_party_load(&id, t->path, "rok-mnd"), PL_EKEY);
		rm_tree(t->path);
		assert_int_equal(mkdir(t->path, 0700), 0);
	}

	/* Files renamed to another party's name: the key names give them away. */
	assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "unc"), 0);
	for (size_t i = 0; i < 4; i++)
		swap_in(t->path, "unc", "kpa", exts[i]);
	assert_int_equal(pl_party_load(&id, t->path, "kpa"), PL_EKEY);

	/* Malformed and oversized secret files. */
	assert_int_equal(pl_party_create(NULL, t->path, ORIGIN, "rok-mnd"), 0);
	file_path(p, sizeof(p), t->path, "rok-mnd", ".dkey");
	spit(p, "PRIVATE+X25519+" ORIGIN "/rok-mnd+AAAA\n", 0600);
	assert_int_equal(pl_party_load(&id, t->path, "rok-mnd"), PL_EMALFORMED);
	spit(p, "PRIVATE+KEY+" ORIGIN "/rok-mnd+" ALICE_PK_B64 "\n", 0600);
	assert_int_equal(pl_party_load(&id, t->path, "rok-mnd"), PL_EMALFORMED);
	{
		char big[1024];
		memset(big, 'A', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		spit(p, big, 0600);
		assert_int_equal(pl_party_load(&id, t->path, "rok-mnd"), PL_ETOOBIG);
	}
	assert_int_equal(((const uint8_t *)&id)[0], 0x5a);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_party_names), cmocka_unit_test(test_key_name),
             cmocka_unit_test(test_ekey_text_round_trip),
             cmocka_unit_test(test_ekey_text_malformed),
             PL_TEST_FIXTURE(test_create_load_round_trip),
             PL_TEST_FIXTURE(test_create_without_out_and_new_dir),
             PL_TEST_FIXTURE(test_create_refuses_overwrite),
             PL_TEST_FIXTURE(test_create_bad_arguments), PL_TEST_FIXTURE(test_symlinks_refused),
             PL_TEST_FIXTURE(test_load_permissions), PL_TEST_FIXTURE(test_load_mismatched_files))
