/* Unit tests of client profiles: the strict text form, malformed inputs, load and atomic save. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include <parley/key.h>
#include <parley/profile.h>

#include "testutil.h"

#define ORIGIN "hotline.example"

static char vkey_text[512];

/* A valid profile text with the given replacements (NULL keeps the default). */
static void make_text(char *out, size_t n, const char *exchange, const char *origin,
                      const char *party, const char *key_dir, const char *log_key,
                      const char *state)
{
	snprintf(out, n,
	         "parley/profile/v1\nexchange %s\norigin %s\nparty %s\nkey-dir %s\nlog-key %s\n"
	         "state %s\n",
	         exchange ? exchange : "http://127.0.0.1:8080", origin ? origin : ORIGIN,
	         party ? party : "rok-mnd", key_dir ? key_dir : "/home/me/keys",
	         log_key ? log_key : vkey_text, state ? state : "/home/me/state.db");
}

static int group_setup(void **state)
{
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_buf b;

	(void)state;
	if (sodium_init() < 0 || pl_key_generate(&sk, &vk, ORIGIN, PL_SIGTYPE_ED25519) != 0)
		return -1;
	pl_skey_clear(&sk);
	pl_buf_init(&b, sizeof(vkey_text) - 1);
	if (pl_vkey_format(&vk, &b) != 0)
		return -1;
	memcpy(vkey_text, b.data, b.len);
	vkey_text[b.len] = '\0';
	pl_buf_release(&b);
	return 0;
}

static void test_parse_format_roundtrip(void **state)
{
	char text[4096];
	struct pl_profile p;
	struct pl_buf b;
	const char *why = NULL;

	(void)state;
	make_text(text, sizeof(text), "https://hotline.example/api", NULL, NULL, "/home/me/my keys",
	          NULL, NULL);
	assert_int_equal(pl_profile_parse(&p, text, strlen(text), &why), 0);
	assert_string_equal(p.exchange, "https://hotline.example/api");
	assert_string_equal(p.origin, ORIGIN);
	assert_string_equal(p.party, "rok-mnd");
	assert_string_equal(p.key_dir, "/home/me/my keys");
	assert_string_equal(p.state, "/home/me/state.db");
	assert_string_equal(p.log_key.name, ORIGIN);
	pl_buf_init(&b, PL_PROFILE_MAX_BYTES);
	assert_int_equal(pl_profile_format(&p, &b, &why), 0);
	assert_int_equal(b.len, strlen(text));
	assert_memory_equal(b.data, text, b.len);
	pl_buf_release(&b);
}

/* Table-driven: every malformed text is refused with a reason, and *p is untouched. */
static void test_parse_malformed(void **state)
{
	char good[4096], t[4096], other_key[512];
	struct pl_profile p;
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_buf b;
	const char *why;

	(void)state;
	assert_int_equal(pl_key_generate(&sk, &vk, "other.example", PL_SIGTYPE_ED25519), 0);
	pl_skey_clear(&sk);
	pl_buf_init(&b, sizeof(other_key) - 1);
	assert_int_equal(pl_vkey_format(&vk, &b), 0);
	memcpy(other_key, b.data, b.len);
	other_key[b.len] = '\0';
	pl_buf_release(&b);
	make_text(good, sizeof(good), NULL, NULL, NULL, NULL, NULL, NULL);
	struct {
		const char *exchange, *origin, *party, *key_dir, *log_key, *state;
	} bad_fields[] = {
	        {"ftp://x", NULL, NULL, NULL, NULL, NULL},
	        {"http://", NULL, NULL, NULL, NULL, NULL},
	        {"http://a b", NULL, NULL, NULL, NULL, NULL},
	        {NULL, "bad origin", NULL, NULL, NULL, NULL},
	        {NULL, "a+b", NULL, NULL, NULL, NULL},
	        {NULL, NULL, "Rok", NULL, NULL, NULL},
	        {NULL, NULL, "exchange", NULL, NULL, NULL},
	        {NULL, NULL, "-rok", NULL, NULL, NULL},
	        {NULL, NULL, NULL, " /lead", NULL, NULL},
	        {NULL, NULL, NULL, "/trail ", NULL, NULL},
	        {NULL, NULL, NULL, "/tab\there", NULL, NULL},
	        {NULL, NULL, NULL, "/bad\xff", NULL, NULL},
	        {NULL, NULL, NULL, "/c1\xc2\x85", NULL, NULL},
	        {NULL, NULL, NULL, NULL, "not a key", NULL},
	        {NULL, NULL, NULL, NULL, other_key, NULL},
	        {NULL, NULL, NULL, NULL, NULL, "/del\x7f"},
	};
	for (size_t i = 0; i < sizeof(bad_fields) / sizeof(bad_fields[0]); i++) {
		make_text(t, sizeof(t), bad_fields[i].exchange, bad_fields[i].origin,
		          bad_fields[i].party, bad_fields[i].key_dir, bad_fields[i].log_key,
		          bad_fields[i].state);
		memset(&p, 0xa5, sizeof(p));
		why = NULL;
		if (pl_profile_parse(&p, t, strlen(t), &why) != PL_EMALFORMED) {
			print_error("case %zu accepted: %s\n", i, t);
			fail();
		}
		assert_non_null(why);
		assert_int_equal(((unsigned char *)&p)[0], 0xa5);
	}
	/* Structural faults on the good text. */
	const char *structural[] = {
	        "",
	        "parley/profile/v2\n",
	        "parley/profile/v1",
	        "parley/profile/v1\n",
	        "parley/profile/v1\nexchange http://x\n",
	};
	for (size_t i = 0; i < sizeof(structural) / sizeof(structural[0]); i++)
		assert_int_equal(pl_profile_parse(&p, structural[i], strlen(structural[i]), &why),
		                 PL_EMALFORMED);
	/* No final newline; trailing bytes; CRLF; a duplicated line; swapped lines. */
	assert_int_equal(pl_profile_parse(&p, good, strlen(good) - 1, &why), PL_EMALFORMED);
	assert_true((size_t)snprintf(t, sizeof(t), "%sextra\n", good) < sizeof(t));
	assert_int_equal(pl_profile_parse(&p, t, strlen(t), &why), PL_EMALFORMED);
	snprintf(t, sizeof(t), "%s", good);
	t[strlen(t) - 1] = '\r';
	assert_int_equal(pl_profile_parse(&p, t, strlen(t), &why), PL_EMALFORMED);
	snprintf(t, sizeof(t), "parley/profile/v1\norigin %s\nexchange http://x\n", ORIGIN);
	assert_int_equal(pl_profile_parse(&p, t, strlen(t), &why), PL_EMALFORMED);
	snprintf(t, sizeof(t), "parley/profile/v1\nexchange http://x\nexchange http://x\n");
	assert_int_equal(pl_profile_parse(&p, t, strlen(t), &why), PL_EMALFORMED);
	/* Size limit, before anything else. */
	{
		size_t n = PL_PROFILE_MAX_BYTES + 1;
		char *big = malloc(n);
		assert_non_null(big);
		memset(big, 'a', n);
		assert_int_equal(pl_profile_parse(&p, big, n, &why), PL_ETOOBIG);
		free(big);
	}
	/* Every prefix of the good text is refused (no partial profile passes). */
	for (size_t n = 0; n < strlen(good); n++)
		assert_int_not_equal(pl_profile_parse(&p, good, n, NULL), 0);
}

static void test_format_refuses_invalid(void **state)
{
	char text[4096];
	struct pl_profile p;
	struct pl_buf b;
	const char *why = NULL;

	(void)state;
	make_text(text, sizeof(text), NULL, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(pl_profile_parse(&p, text, strlen(text), NULL), 0);
	pl_buf_init(&b, PL_PROFILE_MAX_BYTES);
	memcpy(p.party, "Bad", 4);
	assert_int_equal(pl_profile_format(&p, &b, &why), PL_EINVAL);
	assert_int_equal(b.len, 0);
	assert_non_null(why);
	pl_buf_release(&b);
}

static void test_save_load(void **state)
{
	char dir[256], sub[300], path[400], text[4096];
	struct pl_profile p, q;
	struct stat st;
	const char *why = NULL;
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/parley-profile-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/p", dir);
	make_text(text, sizeof(text), NULL, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(pl_profile_parse(&p, text, strlen(text), NULL), 0);

	assert_int_equal(pl_profile_load(&q, sub, &why), PL_ENOTFOUND);
	assert_int_equal(pl_profile_save(&p, sub, false, &why), 0);
	snprintf(path, sizeof(path), "%s/profile", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(pl_profile_load(&q, sub, &why), 0);
	assert_memory_equal(&p.log_key, &q.log_key, sizeof(p.log_key));
	assert_string_equal(q.exchange, p.exchange);

	/* No overwrite without replace; replace swaps the file. */
	memcpy(p.party, "kpa", 4);
	assert_int_equal(pl_profile_save(&p, sub, false, &why), PL_EEXIST);
	assert_int_equal(pl_profile_load(&q, sub, &why), 0);
	assert_string_equal(q.party, "rok-mnd");
	assert_int_equal(pl_profile_save(&p, sub, true, &why), 0);
	assert_int_equal(pl_profile_load(&q, sub, &why), 0);
	assert_string_equal(q.party, "kpa");

	/* A symbolic link as the profile is not followed. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(pl_profile_load(&q, sub, &why), PL_EIO);
	assert_int_equal(pl_profile_save(&p, sub, false, &why), PL_EEXIST);
	assert_int_equal(unlink(path), 0);

	/* A damaged file reports why. */
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "parley/profile/v1\nbogus\n", 24), 24);
		close(fd);
		assert_int_equal(pl_profile_load(&q, sub, &why), PL_EMALFORMED);
		assert_non_null(why);
		unlink(path);
	}
	rmdir(sub);
	rmdir(dir);
}

static void test_url(void **state)
{
	(void)state;
	assert_true(pl_profile_url_is_valid("http://127.0.0.1:1", 18));
	assert_true(pl_profile_url_is_valid("https://h", 9));
	assert_false(pl_profile_url_is_valid("https://", 8));
	assert_false(pl_profile_url_is_valid("HTTP://h", 8));
	assert_false(pl_profile_url_is_valid("http://h\n", 9));
	assert_false(pl_profile_url_is_valid(NULL, 0));
}

PL_TEST_MAIN(group_setup, NULL, cmocka_unit_test(test_parse_format_roundtrip),
             cmocka_unit_test(test_parse_malformed), cmocka_unit_test(test_format_refuses_invalid),
             cmocka_unit_test(test_save_load), cmocka_unit_test(test_url))
