/* Helpers shared by the unit-test programs. */
#include "testutil.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/tiles.h>
#include <parley/timestamp.h>
#include <parley/tlog.h>

char *pl_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

char *pl_test_read_vector(const char *dir, const char *name, size_t *len)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s/%s", PL_VECTORS_DIR, dir, name);
	return pl_test_read_file(path, len);
}

void pl_test_remove_db(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	char p[1024];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		unlink(p);
	}
}

void pl_test_fixed_key(struct pl_skey *sk, struct pl_vkey *vk, const char *keyname, uint8_t type)
{
	uint8_t seed[32], pk[PL_ED25519_PK_BYTES];

	memset(sk, 0, sizeof(*sk));
	pl_sha256(seed, keyname, strlen(keyname));
	assert_true(strlen(keyname) < sizeof(sk->name));
	memcpy(sk->name, keyname, strlen(keyname) + 1);
	sk->type = type;
	crypto_sign_seed_keypair(pk, sk->sk, seed);
	pl_key_id(sk->id, keyname, type, pk);
	pl_skey_public(sk, vk);
}

int pl_test_index_of(const char *const *names, int count, const char *name)
{
	for (int i = 0; i < count; i++) {
		if (strcmp(names[i], name) == 0)
			return i;
	}
	fail_msg("no key for %s", name);
	return -1;
}

void pl_test_load_vkey(struct pl_vkey *vk, const char *file)
{
	size_t len;
	char *s = pl_test_read_vector("note", file, &len);

	assert_true(len > 0 && s[len - 1] == '\n');
	assert_int_equal(pl_vkey_parse(vk, s, len - 1), 0);
	free(s);
}

int64_t pl_test_time(const char *s)
{
	int64_t t = 0;

	assert_int_equal(pl_timestamp_parse(&t, s, strlen(s)), 0);
	return t;
}

void pl_test_add_to(struct pl_record *r, const char *party)
{
	snprintf(r->to[r->nto], sizeof(r->to[0]), "%s", party);
	r->nto++;
}

void pl_test_add_ref(struct pl_record *r, enum pl_ref_role role, const uint8_t *id)
{
	r->refs[r->nrefs].role = role;
	memcpy(r->refs[r->nrefs].id, id, PL_RECORD_ID_BYTES);
	r->nrefs++;
}

void pl_test_set_via(struct pl_record *r, const char *party)
{
	snprintf(r->via, sizeof(r->via), "%s", party);
	r->has |= PL_RECORD_HAS_VIA;
}

void pl_test_set_deadline(struct pl_record *r, const char *time)
{
	r->deadline = pl_test_time(time);
	r->has |= PL_RECORD_HAS_DEADLINE;
}

void pl_test_set_message(struct pl_record *r, const char *rcpt, uint64_t payload_size)
{
	r->cls = PL_CLASS_MESSAGE;
	r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT;
	memset(r->payload, 0x11, sizeof(r->payload));
	memset(r->commit, 0x22, sizeof(r->commit));
	r->payload_size = payload_size;
	pl_test_add_to(r, rcpt);
}

char *pl_test_next_record_block(const char *doc, size_t *pos, size_t *len)
{
	static const char open[] = "\n```record\n";
	const char *start = strstr(doc + *pos, open), *end;
	char *out;

	if (!start)
		return NULL;
	start += sizeof(open) - 1;
	end = strstr(start, "\n```\n");
	assert_non_null(end);
	*len = (size_t)(end - start) + 1;
	out = malloc(*len + 1);
	assert_non_null(out);
	memcpy(out, start, *len);
	out[*len] = '\0';
	*pos = (size_t)(end - doc) + 4;
	return out;
}

size_t pl_test_doc_records(int (*append)(const char *note, size_t len, const char **why))
{
	size_t len, pos = 0, n = 0;
	char *doc = pl_test_read_file(PL_DOCS_DIR "/records.md", NULL), *block;

	while ((block = pl_test_next_record_block(doc, &pos, &len)) != NULL) {
		const char *why = NULL;
		int ret = append(block, len, &why);

		if (ret != 0)
			fail_msg("doc example %zu: %s (%s)", n + 1, pl_strerror(ret), why);
		free(block);
		n++;
	}
	free(doc);
	return n;
}

uint64_t pl_test_rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

uint64_t pl_test_rnd_below(uint64_t *state, uint64_t n)
{
	return pl_test_rnd(state) % n;
}

int pl__test_main(const char *name, const struct CMUnitTest *tests, size_t count,
                  CMFixtureFunction setup, CMFixtureFunction teardown)
{
	if (sodium_init() < 0)
		return 1;
	return _cmocka_run_group_tests(name, tests, count, setup, teardown);
}

int pl_test_memstore_tile(struct pl_tlog_memstore *ms, const struct pl_tile *t, uint8_t *out)
{
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(ms);
	static uint8_t tile[PL_TILE_BYTES];
	size_t len = 0;
	int ret = pl_tiles_read_hash_tile(&rd, t, tile, &len);

	if (ret == 0 && len != (size_t)t->width * PL_HASH_BYTES)
		ret = PL_EMALFORMED;
	if (ret == 0)
		memcpy(out, tile, len);
	return ret;
}

int pl_test_bundle(const struct pl_buf *recs, size_t nrecs, uint64_t n, unsigned width,
                   struct pl_buf *out)
{
	int ret = 0;

	for (unsigned i = 0; ret == 0 && i < width; i++) {
		size_t k = (size_t)n * PL_TILE_WIDTH + i;
		ret = k < nrecs ? pl_tiles_bundle_add(out, recs[k].data, recs[k].len) : PL_EINVAL;
	}
	return ret;
}

int pl_test_tmpdir(char *out, size_t cap, const char *prefix)
{
	const char *base = getenv("TMPDIR");
	int n = snprintf(out, cap, "%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix);

	return n > 0 && (size_t)n < cap && mkdtemp(out) ? 0 : -1;
}
