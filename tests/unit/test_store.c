/*
 * The store's contract (store.h): schema, records, prefixes, hashes, parties, inboxes, timers.
 * Runs on SQLite; with PL_TEST_STORE_URL set (tests/pg_cluster.sh starts a server for it),
 * the same tests run on that PostgreSQL database, each on an emptied schema, and the few
 * that poke at SQLite's file are skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <parley/encoding.h>
#include <parley/exchange.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

#include "store.h"

#include "testutil.h"

#ifdef PL_HAVE_POSTGRESQL
#include <libpq-fe.h>
#endif

/* The PostgreSQL database the tests run on, or NULL for SQLite. */
static const char *pg_url;

/* Runs SQL on the PostgreSQL database behind the store's back. */
static void pg_sql(const char *sql)
{
#ifdef PL_HAVE_POSTGRESQL
	PGconn *c = PQconnectdb(pg_url);
	PGresult *r;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
#else
	(void)sql;
	fail_msg("built without PostgreSQL");
#endif
}

/* Skips a test that looks into SQLite's own file. */
#define SQLITE_ONLY()           \
	do {                    \
		if (pg_url)     \
			skip(); \
	} while (0)

struct fx {
	char dir[64];
	char path[128];
	struct pl_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pl_store_XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/parley.db", f->dir);
	if (pg_url) {
		pg_sql("SET client_min_messages = warning; DROP SCHEMA IF EXISTS public CASCADE; "
		       "CREATE SCHEMA public;");
		if (pl_store_locate(f->dir, pg_url) != 0)
			return -1;
	}
	if (pl_store_create(f->dir, "hotline.example") != 0)
		return -1;
	if (pl_store_open(&f->s, f->dir, true, NULL) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	char loc[128];

	pl_store_close(f->s);
	pl_test_remove_db(f->path);
	snprintf(loc, sizeof(loc), "%s/" PL_STORE_LOCATION_FILE, f->dir);
	unlink(loc);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The first 8 bytes of p as a big-endian integer. */
static uint64_t test_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* A record id whose first 8 bytes are prefix and the rest tag. */
static void make_id(uint8_t id[PL_HASH_BYTES], uint64_t prefix, uint8_t tag)
{
	for (int i = 0; i < 8; i++)
		id[i] = (uint8_t)(prefix >> (56 - 8 * i));
	memset(id + 8, tag, PL_HASH_BYTES - 8);
}

static void put_record(struct pl_store *s, uint64_t index, const uint8_t id[PL_HASH_BYTES],
                       const char *author, uint64_t seq, const char *kind)
{
	struct pl_store_record r;
	char note[64];

	memset(&r, 0, sizeof(r));
	r.index = index;
	memcpy(r.id, id, PL_HASH_BYTES);
	snprintf(r.author, sizeof(r.author), "%s", author);
	r.seq = seq;
	snprintf(r.kind, sizeof(r.kind), "%s", kind);
	snprintf(note, sizeof(note), "record %llu\n", (unsigned long long)index);
	assert_int_equal(pl_store_record_put(s, &r, note, strlen(note)), 0);
}

static void test_create_open(void **state)
{
	struct fx *f = *state;
	char origin[PL_ORIGIN_MAX + 1];
	struct pl_store *r = NULL;
	struct pl_buf err;
	struct stat sb;
	uint64_t n = 99;

	assert_int_equal(pl_store_origin(f->s, origin), 0);
	assert_string_equal(origin, "hotline.example");
	assert_int_equal(pl_store_create(f->dir, "other.example"), PL_EEXIST);
	assert_int_equal(pl_store_create(f->dir, ""), PL_EINVAL);
	assert_int_equal(stat(pg_url ? f->dir : f->path, &sb), 0);
	if (!pg_url)
		assert_int_equal(sb.st_mode & 0077, 0);
	assert_int_equal(pl_store_record_count(f->s, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pl_store_open(&r, f->dir, false, NULL), 0);
	pl_store_close(r);
	pl_buf_init(&err, 256);
	assert_int_equal(pl_store_open(&r, "/nonexistent", false, &err), PL_ENOTFOUND);
	pl_buf_release(&err);
	pl_store_close(NULL);
}

static void test_not_a_store(void **state)
{
	struct fx *f = *state;
	char p[200], d[160];
	struct pl_store *s = NULL;
	struct pl_buf err;
	int fd;

	SQLITE_ONLY();

	snprintf(d, sizeof(d), "%s/junk", f->dir);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(p, sizeof(p), "%s/" PL_STORE_SQLITE_FILE, d);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "this is not a database, not even close to one....", 50), 50);
	close(fd);
	pl_buf_init(&err, 512);
	assert_int_equal(pl_store_open(&s, d, true, &err), PL_ESTORE);
	assert_non_null(err.data);
	assert_non_null(strstr(err.data, "sqlite"));
	pl_buf_release(&err);
	unlink(p);
	rmdir(d);
}

static void test_records(void **state)
{
	struct fx *f = *state;
	struct pl_store_record r;
	struct pl_buf note;
	uint8_t id[PL_HASH_BYTES], other[PL_HASH_BYTES];
	uint64_t idx = 0, n = 0;

	pl_buf_init(&note, 1024);
	assert_int_equal(pl_store_begin(f->s), 0);
	make_id(id, 0x1122334455667788u, 1);
	put_record(f->s, 0, id, "unc", 1, "send");
	/* Same 8-byte prefix, different id: the collision check tells them apart. */
	make_id(other, 0x1122334455667788u, 2);
	put_record(f->s, 1, other, "unc", 2, "statement");
	assert_int_equal(pl_store_commit(f->s), 0);

	assert_int_equal(pl_store_record_count(f->s, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pl_store_record_find(f->s, id, &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(pl_store_record_find(f->s, other, &idx), 0);
	assert_int_equal(idx, 1);
	make_id(other, 0x1122334455667788u, 3);
	assert_int_equal(pl_store_record_find(f->s, other, &idx), PL_ENOTFOUND);

	assert_int_equal(pl_store_record_get(f->s, 1, &r, &note), 0);
	assert_string_equal(note.data, "record 1\n");
	assert_string_equal(r.author, "unc");
	assert_string_equal(r.kind, "statement");
	assert_int_equal(r.seq, 2);
	assert_int_equal(pl_store_record_get(f->s, 2, &r, NULL), PL_ENOTFOUND);
	assert_int_equal(pl_store_record_get(f->s, UINT64_MAX, &r, NULL), PL_ENOTFOUND);

	/* The log has no holes and no duplicate ids. */
	memset(&r, 0, sizeof(r));
	r.index = 5;
	make_id(r.id, 7, 7);
	assert_int_equal(pl_store_record_put(f->s, &r, "x\n", 2), PL_EINVAL);
	r.index = 2;
	memcpy(r.id, id, PL_HASH_BYTES);
	assert_int_equal(pl_store_record_put(f->s, &r, "x\n", 2), PL_EEXIST);
	pl_buf_release(&note);
}

static void test_prefix(void **state)
{
	struct fx *f = *state;
	uint8_t a[PL_HASH_BYTES], b[PL_HASH_BYTES], c[PL_HASH_BYTES], p[PL_HASH_BYTES];
	uint64_t idx[4] = {0};
	size_t n = 0;

	make_id(a, 0xabcdef0111000000u, 1);
	make_id(b, 0xabcdef0122000000u, 2);
	make_id(c, 0x0000000100000000u, 3); /* sorts below every signed-prefix trap */
	assert_int_equal(pl_store_begin(f->s), 0);
	put_record(f->s, 0, a, "a", 1, "send");
	put_record(f->s, 1, b, "b", 1, "send");
	put_record(f->s, 2, c, "c", 1, "send");
	assert_int_equal(pl_store_commit(f->s), 0);

	memcpy(p, a, sizeof(p));
	assert_int_equal(pl_store_record_find_prefix(f->s, p, 40, idx, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(idx[0], 0);
	assert_int_equal(pl_store_record_find_prefix(f->s, p, 36, idx, 4, &n), 0);
	assert_int_equal(n, 1);
	/* The first 32 (and 34) bits, abcdef01, are shared by a and b. */
	assert_int_equal(pl_store_record_find_prefix(f->s, p, 32, idx, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(idx[0] + idx[1], 1);
	assert_int_equal(pl_store_record_find_prefix(f->s, p, 34, idx, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pl_store_record_find_prefix(f->s, p, 34, idx, 1, &n), PL_ETOOBIG);
	assert_int_equal(pl_store_record_find_prefix(f->s, b, 256, idx, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(idx[0], 1);
	assert_int_equal(pl_store_record_find_prefix(f->s, c, 40, idx, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(idx[0], 2);
	/* Past 64 bits the full id decides. */
	memcpy(p, a, sizeof(p));
	p[9] ^= 1;
	assert_int_equal(pl_store_record_find_prefix(f->s, p, 80, idx, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pl_store_record_find_prefix(f->s, p, 64, idx, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pl_store_record_find_prefix(f->s, p, 16, idx, 4, &n), PL_EINVAL);
	make_id(p, 0xffffffff00000000u, 0);
	assert_int_equal(pl_store_record_find_prefix(f->s, p, 32, idx, 4, &n), 0);
	assert_int_equal(n, 0);
}

static void test_refs_heads(void **state)
{
	struct fx *f = *state;
	uint64_t out[4], seq = 0, idx = 0;
	size_t n = 0;

	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_ref_put(f->s, 3, 1), 0);
	assert_int_equal(pl_store_ref_put(f->s, 2, 1), 0);
	assert_int_equal(pl_store_ref_put(f->s, 2, 1), 0); /* idempotent */
	assert_int_equal(pl_store_ref_put(f->s, 4, 2), 0);
	assert_int_equal(pl_store_head_get(f->s, "unc", &seq, &idx), PL_ENOTFOUND);
	assert_int_equal(pl_store_head_set(f->s, "unc", 1, 7), 0);
	assert_int_equal(pl_store_head_set(f->s, "unc", 2, 9), 0);
	assert_int_equal(pl_store_commit(f->s), 0);
	assert_int_equal(pl_store_referrers(f->s, 1, out, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 3);
	assert_int_equal(pl_store_referrers(f->s, 1, out, 1, &n), PL_ETOOBIG);
	assert_int_equal(pl_store_referrers(f->s, 9, out, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pl_store_ref_count(f->s, 1, 10, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pl_store_ref_count(f->s, 1, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pl_store_ref_count(f->s, 9, 10, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pl_store_head_get(f->s, "unc", &seq, &idx), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(idx, 9);
}

static void test_hashes_tlog(void **state)
{
	struct fx *f = *state;
	struct pl_tlog_memstore *m = NULL;
	struct pl_tlog_reader mr, sr = pl_store_tlog_reader(f->s);
	uint8_t leaves[300][PL_HASH_BYTES], out[700][PL_HASH_BYTES];
	uint8_t r1[PL_HASH_BYTES], r2[PL_HASH_BYTES];
	uint64_t count = 0, size = 0;
	size_t nout = 0;

	assert_int_equal(pl_tlog_memstore_new(&m), 0);
	mr = pl_tlog_memstore_reader(m);
	for (int i = 0; i < 300; i++) {
		char leaf[24];
		snprintf(leaf, sizeof(leaf), "leaf %d", i);
		pl_tlog_leaf_hash(leaves[i], leaf, strlen(leaf));
	}
	/* Append in uneven batches through the store, and all at once in memory. */
	for (size_t done = 0, step = 1; done < 300; step = step * 3 + 1) {
		size_t k = 300 - done < step ? 300 - done : step;
		assert_int_equal(pl_store_begin(f->s), 0);
		assert_int_equal(pl_tlog_append(&sr, size,
		                                (const uint8_t(*)[PL_HASH_BYTES])leaves + done, k,
		                                out, 700, &nout),
		                 0);
		assert_int_equal(pl_store_hashes_put(f->s, pl_tlog_stored_count(size),
		                                     (const uint8_t(*)[PL_HASH_BYTES])out, nout),
		                 0);
		assert_int_equal(pl_store_commit(f->s), 0);
		size += k;
		done += k;
	}
	assert_int_equal(pl_tlog_memstore_append(m, (const uint8_t(*)[PL_HASH_BYTES])leaves, 300),
	                 0);
	assert_int_equal(pl_store_hashes_count(f->s, &count), 0);
	assert_int_equal(count, pl_tlog_stored_count(300));
	for (uint64_t s = 1; s <= 300; s += 37) {
		assert_int_equal(pl_tlog_tree_hash(&sr, s, r1), 0);
		assert_int_equal(pl_tlog_tree_hash(&mr, s, r2), 0);
		assert_memory_equal(r1, r2, PL_HASH_BYTES);
	}
	{
		uint64_t missing = count + 5;
		assert_int_equal(pl_store_hashes_get(f->s, &missing, 1, out), PL_ENOTFOUND);
	}
	/* Stored hashes are append-only: rewriting one fails. */
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_hashes_put(f->s, 0, (const uint8_t(*)[PL_HASH_BYTES])leaves, 1),
	                 PL_ESTORE);
	assert_non_null(strstr(pl_store_errmsg(f->s), pg_url ? "postgresql" : "sqlite"));
	pl_store_rollback(f->s);
	pl_tlog_memstore_free(m);
}

static void test_checkpoints(void **state)
{
	struct fx *f = *state;
	struct pl_buf b;
	uint64_t size = 0;

	pl_buf_init(&b, 1024);
	assert_int_equal(pl_store_checkpoint_get(f->s, PL_STORE_LATEST, &size, &b), PL_ENOTFOUND);
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_checkpoint_put(f->s, 0, "cp0\n", 4), 0);
	assert_int_equal(pl_store_checkpoint_put(f->s, 5, "cp5\n", 4), 0);
	assert_int_equal(pl_store_checkpoint_put(f->s, 3, "cp3\n", 4), 0);
	assert_int_equal(pl_store_commit(f->s), 0);
	assert_int_equal(pl_store_checkpoint_get(f->s, PL_STORE_LATEST, &size, &b), 0);
	assert_int_equal(size, 5);
	assert_string_equal(b.data, "cp5\n");
	pl_buf_reset(&b);
	assert_int_equal(pl_store_checkpoint_get(f->s, 3, &size, &b), 0);
	assert_string_equal(b.data, "cp3\n");
	assert_int_equal(pl_store_checkpoint_get(f->s, 4, NULL, &b), PL_ENOTFOUND);
	assert_int_equal(pl_store_checkpoint_put(f->s, 1, "", 0), PL_EINVAL);
	pl_buf_release(&b);
}

static void test_parties_inbox(void **state)
{
	struct fx *f = *state;
	struct pl_store_party p, q, *list = NULL;
	uint64_t out[10];
	size_t n = 0;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "unc");
	snprintf(p.vkey, sizeof(p.vkey), "hotline.example/unc+00000000+AAAA");
	snprintf(p.enc_key, sizeof(p.enc_key), "hotline.example/unc+x25519+AAAA");
	p.register_index = 0;
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_party_put(f->s, &p), 0);
	assert_true(p.pid > 0);
	q = p;
	assert_int_equal(pl_store_party_put(f->s, &q), PL_EEXIST);
	snprintf(q.name, sizeof(q.name), "kpa");
	q.register_index = 1;
	assert_int_equal(pl_store_party_put(f->s, &q), 0);
	assert_true(q.pid != p.pid);
	assert_int_equal(pl_store_party_revoke(f->s, "kpa", 4), 0);
	assert_int_equal(pl_store_party_revoke(f->s, "kpa", 5), PL_ESTATE);
	assert_int_equal(pl_store_party_revoke(f->s, "nobody", 5), PL_ENOTFOUND);

	assert_int_equal(pl_store_inbox_put(f->s, p.pid, 2), 0);
	assert_int_equal(pl_store_inbox_put(f->s, p.pid, 2), 0);
	assert_int_equal(pl_store_inbox_put(f->s, p.pid, 7), 0);
	assert_int_equal(pl_store_inbox_put(f->s, PL_STORE_PUBLIC, 3), 0);
	assert_int_equal(pl_store_inbox_put(f->s, PL_STORE_PUBLIC, 7), 0);
	assert_int_equal(pl_store_inbox_put(f->s, PL_STORE_PUBLIC, 9), 0);
	assert_int_equal(pl_store_inbox_put(f->s, q.pid, 4), 0);
	assert_int_equal(pl_store_commit(f->s), 0);

	assert_int_equal(pl_store_party_get(f->s, "kpa", &q), 0);
	assert_true(q.revoked);
	assert_int_equal(q.revoke_index, 4);
	assert_int_equal(pl_store_party_list(f->s, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "unc");
	assert_false(list[0].revoked);
	assert_string_equal(list[1].name, "kpa");
	free(list);

	/* Own and public entries merge in log order, without duplicates. */
	assert_int_equal(pl_store_inbox_list(f->s, p.pid, true, 0, out, 10, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 3);
	assert_int_equal(out[2], 7);
	assert_int_equal(out[3], 9);
	assert_int_equal(pl_store_inbox_list(f->s, p.pid, true, 3, out, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 3);
	assert_int_equal(out[1], 7);
	assert_int_equal(pl_store_inbox_list(f->s, p.pid, false, 0, out, 10, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pl_store_inbox_list(f->s, PL_STORE_PUBLIC, false, 8, out, 10, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 9);
}

/* docs/keys.md §3: a revoked party returns with a new key and a chain of its own. */
static void test_party_return(void **state)
{
	struct fx *f = *state;
	struct pl_store_party p, q;
	char chain[PL_STORE_CHAIN_MAX + 1], small[4], longer[PL_STORE_CHAIN_MAX + 2];

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "kpa");
	snprintf(p.vkey, sizeof(p.vkey), "hotline.example/kpa+00000000+AAAA");
	snprintf(p.enc_key, sizeof(p.enc_key), "hotline.example/kpa+x25519+AAAA");
	p.register_index = 2;
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_party_put(f->s, &p), 0);
	q = p;
	snprintf(q.vkey, sizeof(q.vkey), "hotline.example/kpa+11111111+BBBB");
	snprintf(q.enc_key, sizeof(q.enc_key), "hotline.example/kpa+x25519+BBBB");
	q.register_index = 9;
	/* Only a revoked party returns, and only a known one. */
	assert_int_equal(pl_store_party_return(f->s, &q), PL_ESTATE);
	assert_int_equal(pl_store_party_revoke(f->s, "kpa", 5), 0);
	snprintf(q.name, sizeof(q.name), "nobody");
	assert_int_equal(pl_store_party_return(f->s, &q), PL_ENOTFOUND);
	q.name[0] = '\0';
	assert_int_equal(pl_store_party_return(f->s, &q), PL_EINVAL);
	assert_int_equal(pl_store_party_return(f->s, NULL), PL_EINVAL);
	snprintf(q.name, sizeof(q.name), "kpa");
	assert_int_equal(pl_store_party_return(f->s, &q), 0);
	assert_int_equal(pl_store_party_get(f->s, "kpa", &q), 0);
	assert_false(q.revoked);
	assert_int_equal(q.pid, p.pid); /* the same party: its inbox stays */
	assert_int_equal(q.register_index, 9);
	assert_string_equal(q.vkey, "hotline.example/kpa+11111111+BBBB");
	assert_string_equal(q.enc_key, "hotline.example/kpa+x25519+BBBB");

	/* The chain head name: the party's own until set. */
	assert_int_equal(pl_store_party_chain_get(f->s, "kpa", chain, sizeof(chain)), 0);
	assert_string_equal(chain, "kpa");
	assert_int_equal(pl_store_party_chain_put(f->s, "kpa", "kpa+11111111"), 0);
	assert_int_equal(pl_store_party_chain_get(f->s, "kpa", chain, sizeof(chain)), 0);
	assert_string_equal(chain, "kpa+11111111");
	assert_int_equal(pl_store_party_chain_get(f->s, "kpa", small, sizeof(small)), PL_ETOOBIG);
	assert_int_equal(pl_store_party_chain_get(f->s, "", chain, sizeof(chain)), PL_EINVAL);
	assert_int_equal(pl_store_party_chain_get(f->s, "a b", chain, sizeof(chain)), PL_EINVAL);
	assert_int_equal(pl_store_party_chain_get(f->s, "kpa", NULL, 8), PL_EINVAL);
	assert_int_equal(pl_store_party_chain_put(f->s, "kpa", ""), PL_EINVAL);
	assert_int_equal(pl_store_party_chain_put(f->s, "kpa", NULL), PL_EINVAL);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(pl_store_party_chain_put(f->s, "kpa", longer), PL_EINVAL);
	assert_int_equal(pl_store_commit(f->s), 0);
	assert_int_equal(pl_store_party_chain_get(f->s, "kpa", chain, sizeof(chain)), 0);
	assert_string_equal(chain, "kpa+11111111");
}

static void test_payloads_timers(void **state)
{
	struct fx *f = *state;
	uint8_t h[PL_HASH_BYTES], h2[PL_HASH_BYTES], *blob = NULL;
	uint64_t due[8];
	size_t len = 0, n = 0;

	pl_sha256(h, "blob", 4);
	make_id(h2, 0, 0);
	memcpy(h2, h, 8); /* same prefix, different hash */
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_payload_put(f->s, h, (const uint8_t *)"blob", 4, "unc", 1), 0);
	assert_int_equal(pl_store_payload_put(f->s, h, (const uint8_t *)"blob", 4, "unc", 1), 0);
	assert_int_equal(pl_store_timer_put(f->s, 10, 1000), 0);
	assert_int_equal(pl_store_timer_put(f->s, 11, 900), 0);
	assert_int_equal(pl_store_timer_put(f->s, 12, 5000), 0);
	assert_int_equal(pl_store_timer_put(f->s, 12, 5000), 0);
	assert_int_equal(pl_store_commit(f->s), 0);
	assert_int_equal(pl_store_payload_get(f->s, h, &blob, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(blob, "blob", 4);
	free(blob);
	assert_int_equal(pl_store_payload_get(f->s, h, NULL, &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(pl_store_payload_get(f->s, h2, NULL, &len), PL_ENOTFOUND);

	assert_int_equal(pl_store_timer_due(f->s, 999, due, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(due[0], 11);
	assert_int_equal(pl_store_timer_due(f->s, 6000, due, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(due[0], 11);
	assert_int_equal(due[1], 10);
	assert_int_equal(due[2], 12);
	{
		int64_t when = 0;
		assert_int_equal(pl_store_timer_get(f->s, 11, &when), 0);
		assert_int_equal(when, 900);
		assert_int_equal(pl_store_timer_get(f->s, 12, &when), 0);
		assert_int_equal(when, 5000);
		assert_int_equal(pl_store_timer_get(f->s, 13, &when), PL_ENOTFOUND);
		assert_int_equal(when, 5000);
		assert_int_equal(pl_store_timer_get(f->s, UINT64_MAX, &when), PL_ENOTFOUND);
	}
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_timer_del(f->s, 10), 0);
	assert_int_equal(pl_store_timer_del(f->s, 99), 0);
	assert_int_equal(pl_store_commit(f->s), 0);
	assert_int_equal(pl_store_timer_due(f->s, 6000, due, 8, &n), 0);
	assert_int_equal(n, 2);
}

/*
 * A blob's uploader, time and whether a record refers to it; the bytes each
 * uploader holds unreferenced; the deletion of old unreferenced blobs.
 */
static void test_payload_state(void **state)
{
	struct fx *f = *state;
	struct pl_store_payload info;
	uint8_t h[PL_HASH_BYTES], h3[PL_HASH_BYTES], nope[PL_HASH_BYTES];
	uint64_t bytes = 0;
	size_t n = 99;

	pl_sha256(h, "blob", 4);
	pl_sha256(h3, "blob3", 5);
	pl_sha256(nope, "none", 4);
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_payload_put(f->s, h, (const uint8_t *)"blob", 4, "unc", 100), 0);
	assert_int_equal(pl_store_payload_info(f->s, h, &info), 0);
	assert_string_equal(info.uploader, "unc");
	assert_int_equal(info.stored, 100);
	assert_int_equal(info.len, 4);
	assert_false(info.referred);
	/* Another party storing the same bytes changes nothing; its uploader restarts the clock. */
	assert_int_equal(pl_store_payload_put(f->s, h, (const uint8_t *)"blob", 4, "kpa", 200), 0);
	assert_int_equal(pl_store_payload_info(f->s, h, &info), 0);
	assert_string_equal(info.uploader, "unc");
	assert_int_equal(info.stored, 100);
	assert_int_equal(pl_store_payload_put(f->s, h, (const uint8_t *)"blob", 4, "unc", 150), 0);
	assert_int_equal(pl_store_payload_info(f->s, h, &info), 0);
	assert_int_equal(info.stored, 150);
	assert_int_equal(pl_store_payload_put(f->s, h3, (const uint8_t *)"blob3", 5, "unc", 160),
	                 0);
	assert_int_equal(pl_store_payload_pending(f->s, "unc", &bytes), 0);
	assert_int_equal(bytes, 9);
	assert_int_equal(pl_store_payload_pending(f->s, "kpa", &bytes), 0);
	assert_int_equal(bytes, 0);
	/* Referred to: its readers' from now on, no longer the uploader's to count. */
	assert_int_equal(info.ref_index, -1);
	assert_int_equal(pl_store_payload_refer(f->s, h, 0), 0);
	assert_int_equal(pl_store_payload_refer(f->s, h, 7), 0); /* the first record is kept */
	assert_int_equal(pl_store_payload_refer(f->s, nope, 8), 0);
	assert_int_equal(pl_store_payload_info(f->s, h, &info), 0);
	assert_true(info.referred);
	assert_int_equal(info.ref_index, 0);
	assert_int_equal(pl_store_payload_pending(f->s, "unc", &bytes), 0);
	assert_int_equal(bytes, 5);
	assert_int_equal(pl_store_payload_put(f->s, h, (const uint8_t *)"blob", 4, "unc", 300), 0);
	assert_int_equal(pl_store_payload_info(f->s, h, &info), 0);
	assert_int_equal(info.stored, 150);
	/* Only unreferenced blobs stored at or before the limit go. */
	assert_int_equal(pl_store_payload_expire(f->s, 159, 10, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pl_store_payload_expire(f->s, 160, 10, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pl_store_commit(f->s), 0);
	assert_int_equal(pl_store_payload_info(f->s, h3, &info), PL_ENOTFOUND);
	assert_int_equal(pl_store_payload_get(f->s, h, NULL, &n), 0);
	assert_int_equal(pl_store_payload_pending(f->s, "unc", &bytes), 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(pl_store_payload_put(f->s, h, (const uint8_t *)"blob", 4, "", 1),
	                 PL_EINVAL);
}

/* Runs SQL on the store file behind the store's back. */
static void raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* Runs lite on the SQLite file, or pg on the PostgreSQL database, behind the store's back. */
static void raw_both(const struct fx *f, const char *lite, const char *pg)
{
	if (pg_url)
		pg_sql(pg);
	else
		raw_sql(f->path, lite);
}

/*
 * A store of schema 1 (payloads without uploader) opens and keeps working:
 * the writer brings it to schema 2, and its blobs count as referred to, so
 * their readers keep them and the retention never deletes them.
 */
static void test_migrate_v1(void **state)
{
	struct fx *f = *state;
	struct pl_store_payload info;
	struct pl_store *r = NULL;
	uint8_t h[PL_HASH_BYTES];
	uint64_t bytes = 1;
	size_t n = 1, len = 0;
	uint8_t *blob = NULL;
	char sql[512], hex[PL_HASH_HEX_LEN + 1];

	SQLITE_ONLY();

	pl_store_close(f->s);
	f->s = NULL;
	/* The payload table and version as schema 1 had them, with one blob. */
	pl_sha256(h, "old blob", 8);
	pl_hex_encode(hex, h, PL_HASH_BYTES);
	snprintf(sql, sizeof(sql),
	         "DROP TABLE payloads; DROP TABLE payload_pending;"
	         "DROP TABLE tindex; DROP TABLE tindex_deep;"
	         "CREATE TABLE payloads(hpfx INTEGER NOT NULL, hash BLOB NOT NULL,"
	         " data BLOB NOT NULL);"
	         "CREATE INDEX payloads_hpfx ON payloads(hpfx);"
	         "INSERT INTO payloads VALUES (%lld, x'%s', CAST('old blob' AS BLOB));"
	         "UPDATE meta SET value = 1 WHERE key = 'schema';",
	         (long long)(int64_t)(test_be64(h) ^ (UINT64_C(1) << 63)), hex);
	raw_sql(f->path, sql);

	/* A reader may look at it as it is; the writer migrates it. */
	assert_int_equal(pl_store_open(&r, f->dir, false, NULL), 0);
	pl_store_close(r);
	assert_int_equal(pl_store_open(&f->s, f->dir, true, NULL), 0);
	assert_int_equal(pl_store_payload_info(f->s, h, &info), 0);
	assert_string_equal(info.uploader, "");
	assert_true(info.referred);
	assert_int_equal(info.len, 8);
	assert_int_equal(pl_store_payload_get(f->s, h, &blob, &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(blob, "old blob", 8);
	free(blob);
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_payload_expire(f->s, INT64_MAX, 10, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pl_store_payload_put(f->s, h, (const uint8_t *)"old blob", 8, "unc", 5),
	                 0);
	assert_int_equal(pl_store_commit(f->s), 0);
	assert_int_equal(pl_store_payload_pending(f->s, "unc", &bytes), 0);
	assert_int_equal(bytes, 0);
	/* Migrated once: it opens again as schema 2. */
	pl_store_close(f->s);
	assert_int_equal(pl_store_open(&f->s, f->dir, true, NULL), 0);
	assert_int_equal(pl_store_payload_info(f->s, h, &info), 0);
	assert_true(info.referred);

	/* A store from a newer version is refused, by writers and readers. */
	pl_store_close(f->s);
	f->s = NULL;
	raw_sql(f->path, "UPDATE meta SET value = 4 WHERE key = 'schema';");
	assert_int_equal(pl_store_open(&r, f->dir, false, NULL), PL_ESTORE);
	assert_int_equal(pl_store_open(&f->s, f->dir, true, NULL), PL_ESTORE);
}

/* ---- Thread index nodes ---- */

static void node_interior(struct pl_tindex_node *n, uint8_t tag)
{
	memset(n, 0, sizeof(*n));
	memset(n->left, tag, PL_HASH_BYTES);
	memset(n->right, tag ^ 0xff, PL_HASH_BYTES);
}

static void node_leaf(struct pl_tindex_node *n, uint8_t tag, uint64_t count, uint64_t last)
{
	memset(n, 0, sizeof(*n));
	n->is_leaf = true;
	memset(n->path, tag, PL_HASH_BYTES);
	memset(n->chain, tag + 1, PL_HASH_BYTES);
	n->count = count;
	n->last = last;
}

static void expect_node(struct pl_store *s, uint64_t size, unsigned depth, const uint8_t *prefix,
                        const struct pl_tindex_node *want)
{
	struct pl_tindex_node got;

	memset(&got, 0xee, sizeof(got));
	if (!want) {
		assert_int_equal(pl_store_tindex_get(s, size, depth, prefix, &got), PL_ENOTFOUND);
		return;
	}
	assert_int_equal(pl_store_tindex_get(s, size, depth, prefix, &got), 0);
	assert_int_equal(got.is_leaf, want->is_leaf);
	if (want->is_leaf) {
		assert_memory_equal(got.path, want->path, PL_HASH_BYTES);
		assert_memory_equal(got.chain, want->chain, PL_HASH_BYTES);
		assert_int_equal(got.count, want->count);
		assert_int_equal(got.last, want->last);
	} else {
		assert_memory_equal(got.left, want->left, PL_HASH_BYTES);
		assert_memory_equal(got.right, want->right, PL_HASH_BYTES);
	}
}

/*
 * A place's node at every version that changed it: a get at version S reads
 * the newest at or below S, at shallow places (tindex) and deep ones
 * (tindex_deep) alike; a rollback takes a batch's nodes with it; a reader's
 * snapshot keeps the nodes it began with; nodes out of shape are refused.
 */
static void test_tindex_nodes(void **state)
{
	struct fx *f = *state;
	struct pl_tindex_node a, b, leaf, deep;
	struct pl_store *r = NULL;
	uint8_t zero[PL_HASH_BYTES] = {0}, p3[PL_HASH_BYTES] = {0}, q3[PL_HASH_BYTES] = {0};
	uint8_t p62[PL_HASH_BYTES], p63[PL_HASH_BYTES], p256[PL_HASH_BYTES];
	bool empty = false;

	node_interior(&a, 0x11);
	node_interior(&b, 0x22);
	node_leaf(&leaf, 0x33, 3, 41);
	node_leaf(&deep, 0x44, 1, 7);
	p3[0] = 0xa0; /* depth 3: 101 */
	q3[0] = 0xc0; /* depth 3: 110 */
	memset(p62, 0xff, sizeof(p62));
	memset(p62 + 7, 0, sizeof(p62) - 7);
	p62[7] = 0xfc; /* the first 62 bits set, the rest zero */
	memcpy(p63, p62, sizeof(p63));
	p63[7] = 0xfe;
	memset(p256, 0x5a, sizeof(p256));

	assert_int_equal(pl_store_tindex_empty(f->s, &empty), 0);
	assert_true(empty);
	expect_node(f->s, PL_STORE_LATEST, 0, zero, NULL);

	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_tindex_put(f->s, 5, 0, zero, &a), 0);
	assert_int_equal(pl_store_tindex_put(f->s, 5, 3, p3, &leaf), 0);
	assert_int_equal(pl_store_tindex_put(f->s, 5, 62, p62, &leaf), 0);
	assert_int_equal(pl_store_tindex_put(f->s, 5, 63, p63, &deep), 0);
	assert_int_equal(pl_store_tindex_put(f->s, 5, 256, p256, &deep), 0);
	assert_int_equal(pl_store_commit(f->s), 0);
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_tindex_put(f->s, 9, 0, zero, &b), 0);
	assert_int_equal(pl_store_tindex_put(f->s, 9, 63, p63, &leaf), 0);
	assert_int_equal(pl_store_commit(f->s), 0);
	assert_int_equal(pl_store_tindex_empty(f->s, &empty), 0);
	assert_false(empty);

	/* Versions: before 5 nothing; 5..8 the first nodes; from 9 on the second. */
	expect_node(f->s, 4, 0, zero, NULL);
	expect_node(f->s, 5, 0, zero, &a);
	expect_node(f->s, 8, 0, zero, &a);
	expect_node(f->s, 9, 0, zero, &b);
	expect_node(f->s, PL_STORE_LATEST, 0, zero, &b);
	expect_node(f->s, 4, 63, p63, NULL);
	expect_node(f->s, 8, 63, p63, &deep);
	expect_node(f->s, 100, 63, p63, &leaf);
	/* Places: the prefix's first depth bits name it; other places are empty. */
	expect_node(f->s, 9, 3, p3, &leaf);
	expect_node(f->s, 9, 3, q3, NULL);
	expect_node(f->s, 9, 2, p3, NULL);
	expect_node(f->s, 9, 62, p62, &leaf);
	expect_node(f->s, 9, 256, p256, &deep);
	expect_node(f->s, 9, 255, p256, NULL);
	{
		struct pl_tindex_node x;
		assert_int_equal(pl_store_tindex_get(f->s, 9, 257, p256, &x), PL_EINVAL);
		assert_int_equal(pl_store_tindex_put(f->s, 9, 257, p256, &a), PL_EINVAL);
	}

	/* A rolled-back batch leaves nothing; a reader's snapshot keeps what it began with. */
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_tindex_put(f->s, 12, 0, zero, &a), 0);
	expect_node(f->s, PL_STORE_LATEST, 0, zero, &a);
	pl_store_rollback(f->s);
	expect_node(f->s, PL_STORE_LATEST, 0, zero, &b);
	assert_int_equal(pl_store_open(&r, f->dir, false, NULL), 0);
	assert_int_equal(pl_store_begin(r), 0);
	expect_node(r, PL_STORE_LATEST, 0, zero, &b);
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_tindex_put(f->s, 14, 0, zero, &leaf), 0);
	assert_int_equal(pl_store_commit(f->s), 0);
	expect_node(r, PL_STORE_LATEST, 0, zero, &b);
	pl_store_rollback(r);
	expect_node(r, PL_STORE_LATEST, 0, zero, &leaf);
	expect_node(r, 13, 0, zero, &b);
	pl_store_close(r);

	/* Out of shape: a node of another size, a leaf without entries or past its limit. */
	raw_both(f, "UPDATE tindex SET node = x'00' WHERE size = 5 AND pos = 1;",
	         "UPDATE tindex SET node = '\\x00' WHERE size = 5 AND depth = 0;");
	assert_int_equal(pl_store_tindex_get(f->s, 5, 0, zero, &a), PL_ESTORE);
	raw_both(f, "UPDATE tindex SET node = zeroblob(80) WHERE size = 5 AND pos = 1;",
	         "UPDATE tindex SET node = decode(repeat('00', 80), 'hex') "
	         "WHERE size = 5 AND depth = 0;");
	assert_int_equal(pl_store_tindex_get(f->s, 5, 0, zero, &a), PL_ESTORE);
	raw_both(f, "UPDATE tindex SET node = zeroblob(100) WHERE size = 5 AND pos = 1;",
	         "UPDATE tindex SET node = decode(repeat('00', 100), 'hex') "
	         "WHERE size = 5 AND depth = 0;");
	assert_int_equal(pl_store_tindex_get(f->s, 5, 0, zero, &a), PL_ESTORE);
	expect_node(f->s, 9, 0, zero, &b);
}

/* Collects the refs pl_store_refs_each() gives. */
struct refs_seen {
	struct pl_tindex_ref r[8];
	size_t n;
};

static int refs_collect(void *arg, const struct pl_tindex_ref *ref)
{
	struct refs_seen *x = arg;

	assert_true(x->n < 8);
	x->r[x->n++] = *ref;
	return 0;
}

/*
 * Writes version size of t in one transaction: two refs, key kid[0] to id kid[1] at index i0
 * and key kid[2] to id kid[3] at index i1; root receives the new root.
 */
static void tindex_version(struct fx *f, struct pl_tindex *t, struct pl_store_tindex *v,
                           uint64_t size, const uint8_t *const kid[4], uint64_t i0, uint64_t i1,
                           uint8_t root[static PL_HASH_BYTES])
{
	struct pl_tindex_ref refs[2];
	const uint64_t index[2] = {i0, i1};

	for (int k = 0; k < 2; k++) {
		memcpy(refs[k].key, kid[2 * k], PL_HASH_BYTES);
		memcpy(refs[k].id, kid[2 * k + 1], PL_HASH_BYTES);
		refs[k].index = index[k];
	}
	v->write_size = size;
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_tindex_update(t, refs, 2), 0);
	assert_int_equal(pl_store_commit(f->s), 0);
	pl_tindex_root(t, root);
}

/*
 * A tree over the store's nodes: each update writes the nodes of one version,
 * a tree opened at an older version has the root it had then and proves
 * keys as they were; the log's refs feed the map in log order.
 */
static void test_tindex_versions(void **state)
{
	struct fx *f = *state;
	struct pl_store_tindex v = {.s = f->s, .read_size = PL_STORE_LATEST};
	struct pl_store_tindex old = {.s = f->s, .read_size = 3};
	struct pl_tindex_store ts = pl_store_tindex_store(&v), to = pl_store_tindex_store(&old);
	struct pl_tindex *t = NULL, *t3 = NULL;
	struct pl_tindex_proof *proof = NULL;
	struct pl_tindex_entry e[2];
	struct refs_seen seen = {.n = 0};
	uint8_t id[4][PL_HASH_BYTES], root3[PL_HASH_BYTES], root6[PL_HASH_BYTES], x[PL_HASH_BYTES];

	for (int i = 0; i < 4; i++)
		make_id(id[i], 0x1000 + (uint64_t)i, (uint8_t)i);
	/* Records 0..3: 1 and 2 refer to 0, 3 refers to 0 and 1. */
	assert_int_equal(pl_store_begin(f->s), 0);
	for (uint64_t i = 0; i < 4; i++)
		put_record(f->s, i, id[i], "unc", i + 1, "receive");
	assert_int_equal(pl_store_ref_put(f->s, 1, 0), 0);
	assert_int_equal(pl_store_ref_put(f->s, 2, 0), 0);
	assert_int_equal(pl_store_ref_put(f->s, 3, 1), 0);
	assert_int_equal(pl_store_ref_put(f->s, 3, 0), 0);
	assert_int_equal(pl_store_commit(f->s), 0);
	assert_int_equal(pl_store_refs_each(f->s, refs_collect, &seen), 0);
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.r[0].index, 1);
	assert_memory_equal(seen.r[0].key, id[0], PL_HASH_BYTES);
	assert_memory_equal(seen.r[0].id, id[1], PL_HASH_BYTES);
	assert_int_equal(seen.r[3].index, 3);

	assert_int_equal(pl_tindex_open(&t, &ts), 0);
	/* Version 3: 1 and 2 refer to 0. */
	tindex_version(f, t, &v, 3, (const uint8_t *[]){id[0], id[1], id[0], id[2]}, 1, 2, root3);
	/* Version 6: 3 refers to 0 and 1. */
	tindex_version(f, t, &v, 6, (const uint8_t *[]){id[0], id[3], id[1], id[3]}, 3, 3, root6);
	assert_memory_not_equal(root3, root6, PL_HASH_BYTES);

	/* Opened at version 3: the root then, and 0's two entries then, not three. */
	assert_int_equal(pl_tindex_open(&t3, &to), 0);
	pl_tindex_root(t3, x);
	assert_memory_equal(x, root3, PL_HASH_BYTES);
	e[0].index = 1;
	memcpy(e[0].id, id[1], PL_HASH_BYTES);
	e[1].index = 2;
	memcpy(e[1].id, id[2], PL_HASH_BYTES);
	assert_int_equal(pl_tindex_prove(t3, id[0], e, 2, &proof), 0);
	assert_int_equal(pl_tindex_proof_verify(proof, id[0], root3), 0);
	assert_int_equal(pl_tindex_proof_verify(proof, id[0], root6), PL_EPROOF);
	pl_tindex_proof_free(proof);
	proof = NULL;
	/* 1 had no entry at version 3, and has one now. */
	assert_int_equal(pl_tindex_prove(t3, id[1], NULL, 0, &proof), 0);
	assert_int_equal(pl_tindex_proof_verify(proof, id[1], root3), 0);
	pl_tindex_proof_free(proof);
	proof = NULL;
	e[0].index = 3;
	memcpy(e[0].id, id[3], PL_HASH_BYTES);
	assert_int_equal(pl_tindex_prove(t, id[1], e, 1, &proof), 0);
	assert_int_equal(pl_tindex_proof_verify(proof, id[1], root6), 0);
	pl_tindex_proof_free(proof);
	pl_tindex_free(t3);
	pl_tindex_free(t);
}

/*
 * A store of schema 2 (before the thread index) opens: the writer adds the
 * node tables, empty.
 */
static void test_migrate_v2(void **state)
{
	struct fx *f = *state;
	struct pl_tindex_node a;
	uint8_t zero[PL_HASH_BYTES] = {0};
	bool empty = false;

	SQLITE_ONLY();

	pl_store_close(f->s);
	f->s = NULL;
	raw_sql(f->path, "DROP TABLE tindex; DROP TABLE tindex_deep;"
	                 "UPDATE meta SET value = 2 WHERE key = 'schema';");
	assert_int_equal(pl_store_open(&f->s, f->dir, true, NULL), 0);
	assert_int_equal(pl_store_tindex_empty(f->s, &empty), 0);
	assert_true(empty);
	node_interior(&a, 1);
	assert_int_equal(pl_store_tindex_put(f->s, 1, 0, zero, &a), 0);
	expect_node(f->s, 1, 0, zero, &a);
}

/* Line definitions: kept under their name, replaced, read back by a reader; bad names refused. */
static void test_lines(void **state)
{
	struct fx *f = *state;
	struct pl_store *r = NULL;
	struct pl_buf text;
	char long_name[PL_RECORD_NAME_MAX + 2];

	pl_buf_init(&text, 1024);
	assert_int_equal(pl_store_line_get(f->s, "unc-kpa", &text), PL_ENOTFOUND);
	assert_int_equal(pl_store_line_put(f->s, "unc-kpa", "unc-kpa unc kpa every 3s window 2s"),
	                 0);
	assert_int_equal(pl_store_line_put(f->s, "liaison", "liaison rok kpa every 1h window 5m"),
	                 0);
	assert_int_equal(pl_store_line_put(f->s, "unc-kpa", "unc-kpa unc kpa every 12h window 30m"),
	                 0);
	assert_int_equal(pl_store_open(&r, f->dir, false, NULL), 0);
	assert_int_equal(pl_store_line_get(r, "unc-kpa", &text), 0);
	assert_string_equal(text.data, "unc-kpa unc kpa every 12h window 30m");
	pl_buf_reset(&text);
	assert_int_equal(pl_store_line_get(r, "liaison", &text), 0);
	assert_string_equal(text.data, "liaison rok kpa every 1h window 5m");
	/* The meta table's other keys are not lines. */
	assert_int_equal(pl_store_line_get(r, "origin", &text), PL_ENOTFOUND);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(pl_store_line_put(f->s, long_name, "x"), PL_EINVAL);
	assert_int_equal(pl_store_line_put(f->s, "a b", "x"), PL_EINVAL);
	assert_int_equal(pl_store_line_put(f->s, "", "x"), PL_EINVAL);
	assert_int_equal(pl_store_line_put(f->s, "l", NULL), PL_EINVAL);
	assert_int_equal(pl_store_line_get(r, "a b", &text), PL_EINVAL);
	pl_store_close(r);
	pl_buf_release(&text);
}

/* A line's last check: by name, apart from the line's text, replaced by each put. */
static void test_line_last(void **state)
{
	struct fx *f = *state;
	struct pl_store *r = NULL;
	struct pl_buf text;
	uint64_t idx = 99;

	pl_buf_init(&text, 1024);
	assert_int_equal(pl_store_line_last_get(f->s, "unc-kpa", &idx), PL_ENOTFOUND);
	assert_int_equal(idx, 99);
	assert_int_equal(pl_store_line_put(f->s, "unc-kpa", "unc-kpa unc kpa every 3s window 2s"),
	                 0);
	assert_int_equal(pl_store_line_last_get(f->s, "unc-kpa", &idx), PL_ENOTFOUND);
	assert_int_equal(pl_store_line_last_put(f->s, "unc-kpa", 7), 0);
	assert_int_equal(pl_store_line_last_put(f->s, "liaison", 0), 0);
	assert_int_equal(pl_store_line_last_put(f->s, "unc-kpa", 12), 0);
	assert_int_equal(pl_store_open(&r, f->dir, false, NULL), 0);
	assert_int_equal(pl_store_line_last_get(r, "unc-kpa", &idx), 0);
	assert_int_equal(idx, 12);
	assert_int_equal(pl_store_line_last_get(r, "liaison", &idx), 0);
	assert_int_equal(idx, 0);
	/* The line's text is untouched. */
	assert_int_equal(pl_store_line_get(r, "unc-kpa", &text), 0);
	assert_string_equal(text.data, "unc-kpa unc kpa every 3s window 2s");
	assert_int_equal(pl_store_line_last_put(f->s, "a b", 1), PL_EINVAL);
	assert_int_equal(pl_store_line_last_put(f->s, "", 1), PL_EINVAL);
	assert_int_equal(pl_store_line_last_put(f->s, "l", UINT64_MAX), PL_EINVAL);
	assert_int_equal(pl_store_line_last_get(r, "a b", &idx), PL_EINVAL);
	assert_int_equal(pl_store_line_last_get(r, "l", NULL), PL_EINVAL);
	pl_store_close(r);
	pl_buf_release(&text);
}

static void test_rollback_and_readers(void **state)
{
	struct fx *f = *state;
	struct pl_store *r = NULL;
	uint8_t id[PL_HASH_BYTES];
	uint64_t n = 9;

	assert_int_equal(pl_store_open(&r, f->dir, false, NULL), 0);
	assert_int_equal(pl_store_begin(f->s), 0);
	make_id(id, 42, 42);
	put_record(f->s, 0, id, "unc", 1, "send");
	/* A reader does not see the uncommitted record. */
	assert_int_equal(pl_store_record_count(r, &n), 0);
	assert_int_equal(n, 0);
	pl_store_rollback(f->s);
	assert_int_equal(pl_store_record_count(f->s, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pl_store_begin(f->s), 0);
	put_record(f->s, 0, id, "unc", 1, "send");
	assert_int_equal(pl_store_commit(f->s), 0);
	assert_int_equal(pl_store_record_count(r, &n), 0);
	assert_int_equal(n, 1);
	/* A reader cannot write. */
	assert_int_equal(pl_store_begin(r), 0);
	assert_int_equal(pl_store_head_set(r, "unc", 1, 0), PL_ESTORE);
	pl_store_rollback(r);
	/* Closing with an open transaction rolls it back. */
	assert_int_equal(pl_store_begin(f->s), 0);
	assert_int_equal(pl_store_head_set(f->s, "x", 1, 0), 0);
	pl_store_close(f->s);
	assert_int_equal(pl_store_open(&f->s, f->dir, true, NULL), 0);
	{
		uint64_t seq, idx;
		assert_int_equal(pl_store_head_get(f->s, "x", &seq, &idx), PL_ENOTFOUND);
	}
	pl_store_close(r);
}

static void count_problem(void *arg, const char *problem)
{
	(*(int *)arg)++;
	assert_non_null(strstr(problem, "hashes.h"));
}

/* The file's own structure: nothing to say of a sound store; a broken constraint is told. */
static void test_integrity_check(void **state)
{
	static const char *const steps[] = {
	        "PRAGMA writable_schema = ON",
	        "UPDATE sqlite_schema SET sql = replace(sql, 'h BLOB NOT NULL', 'h BLOB') "
	        "WHERE name = 'hashes'",
	        "PRAGMA writable_schema = RESET",
	        "INSERT INTO hashes(i, h) VALUES (0, NULL)",
	        "PRAGMA writable_schema = ON",
	        "UPDATE sqlite_schema SET sql = replace(sql, 'h BLOB', 'h BLOB NOT NULL') "
	        "WHERE name = 'hashes'",
	};
	struct fx *f = *state;
	sqlite3 *db = NULL;
	size_t n = 99;
	int seen = 0;

	SQLITE_ONLY();

	assert_int_equal(pl_store_integrity_check(f->s, count_problem, &seen, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(seen, 0);
	pl_store_close(f->s);
	f->s = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		assert_int_equal(sqlite3_exec(db, steps[i], NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(pl_store_open(&f->s, f->dir, false, NULL), 0);
	assert_int_equal(pl_store_integrity_check(f->s, count_problem, &seen, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(seen, 1);
}

/*
 * The sequencer's contract: a commit is visible to a reader that begins after
 * it, before its sync; pl_store_maintain() between commits keeps the files
 * bounded under a stream of commits (the WAL is copied into the database and
 * written again from its start, not appended to without end); its last call
 * leaves every commit in the database file.
 */
static void test_sequencer(void **state)
{
	struct fx *f = *state;
	struct pl_store *r = NULL;
	char wal[200];
	static uint8_t blob[6000];
	uint8_t h[PL_HASH_BYTES];
	struct stat st;
	off_t largest = 0;
	uint64_t n = 0;
	size_t len = 0;

	assert_string_equal(PL_STORE_SQLITE_FILE, PL_EXCHANGE_DB_FILE);
	assert_int_equal(pl_store_probe(f->dir), 0);
	assert_int_equal(pl_store_probe("/nonexistent"), PL_ENOTFOUND);
	assert_int_equal(pl_store_maintain(f->s, false), 0); /* no sequencer: nothing to do */
	assert_int_equal(pl_store_sequencer_start(f->s), 0);
	assert_int_equal(pl_store_sequencer_start(f->s), PL_EINVAL);
	assert_int_equal(pl_store_open(&r, f->dir, false, NULL), 0);
	assert_int_equal(pl_store_sequencer_start(r), PL_EINVAL);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	/* 1,200 commits of two pages or more each: 10 MB of WAL if it were never reused. */
	for (uint64_t i = 0; i < 1200; i++) {
		memset(h, 0, sizeof(h));
		memcpy(h, &i, sizeof(i));
		memset(blob, (int)(i % 251), sizeof(blob));
		assert_int_equal(pl_store_begin(f->s), 0);
		assert_int_equal(pl_store_payload_put(f->s, h, blob, sizeof(blob), "unc", 1), 0);
		assert_int_equal(pl_store_commit(f->s), 0);
		if (i % 100 == 0) {
			assert_int_equal(pl_store_begin(r), 0);
			assert_int_equal(pl_store_payload_get(r, h, NULL, &len), 0);
			assert_int_equal(len, sizeof(blob));
			pl_store_rollback(r);
		}
		assert_int_equal(pl_store_sync(f->s), 0);
		assert_int_equal(pl_store_maintain(f->s, false), 0);
		if (stat(wal, &st) == 0 && st.st_size > largest)
			largest = st.st_size;
	}
	assert_true(pg_url || largest > 0);
	assert_true(largest < 8 * 1024 * 1024);
	pl_store_close(r);
	assert_int_equal(pl_store_maintain(f->s, true), 0);
	assert_int_equal(pl_store_maintain(f->s, true), 0); /* stopped: a no-op */
	assert_true(pg_url || stat(f->path, &st) == 0);
	assert_true(pg_url || st.st_size > 1200 * 6000);
	assert_int_equal(pl_store_payload_pending(f->s, "unc", &n), 0);
	assert_int_equal(n, 1200 * 6000);
}

/* Collects the problems pl_store_integrity_check() tells. */
static void note_problem(void *arg, const char *problem)
{
	struct pl_buf *b = arg;

	assert_int_equal(pl_buf_addf(b, "%s;", problem), 0);
}

/* On PostgreSQL the check is of the log's shape: holes and hashes of the wrong length. */
static void test_integrity_shape(void **state)
{
	struct fx *f = *state;
	struct pl_buf seen;
	size_t n = 99;

	if (!pg_url)
		skip();
	pl_buf_init(&seen, 256);
	assert_int_equal(pl_store_integrity_check(f->s, note_problem, &seen, &n), 0);
	assert_int_equal(n, 0);
	pg_sql("INSERT INTO hashes(i, h) VALUES (5, '\\x00')");
	assert_int_equal(pl_store_integrity_check(f->s, note_problem, &seen, &n), 0);
	assert_int_equal(n, 2);
	assert_non_null(strstr(seen.data, "hashes: 5 indexes missing"));
	assert_non_null(strstr(seen.data, "hashes.h at 5 of 1 bytes"));
	pl_buf_release(&seen);
}

/*
 * The fence of a log that several processes share (PostgreSQL): one sequencer holds the lock;
 * a sequencer whose view is stale (another process committed behind its back) cannot begin a
 * batch (the head is not where its last commit left it), append where it believes the end is,
 * nor put a checkpoint that does not move the log head forward: PL_ESTATE, fenced, its
 * transaction rolled back, nothing forked.
 */
static void test_fence(void **state)
{
	struct fx *f = *state;
	struct pl_store *b = NULL, *c = NULL;
	struct pl_store_record rec;
	struct pl_buf cp;
	uint8_t id[PL_HASH_BYTES];
	uint64_t n = 0, size = 0;

	assert_false(pl_store_fenced(f->s));
	if (!pg_url)
		skip();
	assert_int_equal(pl_store_sequencer_start(f->s), 0);
	assert_int_equal(pl_store_open(&b, f->dir, true, NULL), 0);
	assert_int_equal(pl_store_sequencer_start(b), PL_ESTATE);
	assert_non_null(strstr(pl_store_errmsg(b), "another parleyd"));
	/* Behind the sequencer's back (as a split brain would): a record and its checkpoint. */
	assert_int_equal(pl_store_begin(b), 0);
	make_id(id, 1, 1);
	put_record(b, 0, id, "unc", 1, "send");
	assert_int_equal(pl_store_checkpoint_put(b, 1, "cp1\n", 4), 0);
	assert_int_equal(pl_store_commit(b), 0);
	/* The stale sequencer finds the head moved: its batch cannot begin; fenced. */
	memset(&rec, 0, sizeof(rec));
	make_id(rec.id, 2, 2);
	snprintf(rec.author, sizeof(rec.author), "kpa");
	rec.seq = 1;
	snprintf(rec.kind, sizeof(rec.kind), "send");
	assert_int_equal(pl_store_begin(f->s), PL_ESTATE);
	assert_non_null(strstr(pl_store_errmsg(f->s), "another sequencer"));
	assert_true(pl_store_fenced(f->s));
	/* Nor can it append where it believes the end is, in a transaction or not. */
	assert_int_equal(pl_store_record_put(f->s, &rec, "x\n", 2), PL_ESTATE);
	assert_int_equal(pl_store_begin(f->s), PL_ESTATE);
	pl_store_close(f->s);
	f->s = NULL;
	/* The next sequencer (the lock freed with the session) whose checkpoint is not past the
	 * head. */
	assert_int_equal(pl_store_open(&c, f->dir, true, NULL), 0);
	assert_int_equal(pl_store_sequencer_start(c), 0);
	assert_int_equal(pl_store_begin(c), 0);
	rec.index = 1;
	assert_int_equal(pl_store_record_put(c, &rec, "x\n", 2), 0);
	assert_int_equal(pl_store_checkpoint_put(c, 1, "cp1'\n", 5), PL_ESTORE); /* taken */
	pl_store_rollback(c);
	assert_int_equal(pl_store_begin(c), 0);
	assert_int_equal(pl_store_record_put(c, &rec, "x\n", 2), 0);
	assert_int_equal(pl_store_checkpoint_put(c, 0, "cp0\n", 4), PL_ESTATE); /* behind */
	assert_true(pl_store_fenced(c));
	pl_store_rollback(c);
	assert_int_equal(pl_store_begin(c), PL_ESTATE); /* fenced for good */
	/* Nothing of the losers is there; the winner's checkpoint is. */
	assert_int_equal(pl_store_record_count(b, &n), 0);
	assert_int_equal(n, 1);
	pl_buf_init(&cp, 64);
	assert_int_equal(pl_store_checkpoint_get(b, PL_STORE_LATEST, &size, &cp), 0);
	assert_int_equal(size, 1);
	assert_string_equal(cp.data, "cp1\n");
	pl_buf_release(&cp);
	assert_false(pl_store_fenced(b));
	pl_store_close(c);
	pl_store_close(b);
}

/* The data directory's store location: every malformed input refused, the good ones kept. */
static void test_location_parse(void **state)
{
	static const struct {
		const char *in;
		size_t len; /* 0: strlen */
		int want;
		const char *out;
	} cases[] = {
	        {"postgresql://parley@127.0.0.1:5432/parley\n", 0, 0,
	         "postgresql://parley@127.0.0.1:5432/parley"},
	        {"postgres://db.example/p?sslmode=verify-full", 0, 0,
	         "postgres://db.example/p?sslmode=verify-full"},
	        {"", 0, PL_EMALFORMED, NULL},
	        {"\n", 0, PL_EMALFORMED, NULL},
	        {"postgresql://", 0, 0, "postgresql://"},
	        {"mysql://db/x", 0, PL_EMALFORMED, NULL},
	        {"postgresql:/db", 0, PL_EMALFORMED, NULL},
	        {"host=db dbname=x", 0, PL_EMALFORMED, NULL},      /* key=value form: not a URI */
	        {"postgresql://db/x\n\n", 0, PL_EMALFORMED, NULL}, /* a second line */
	        {"postgresql://db/x\r\n", 0, PL_EMALFORMED, NULL},
	        {"postgresql://db/x y", 0, PL_EMALFORMED, NULL},
	        {"postgresql://db/\x7f", 0, PL_EMALFORMED, NULL},
	        {"postgresql://db/\xc3\xa9", 0, PL_EMALFORMED, NULL},
	        {"postgresql://db/x\0y", 19, PL_EMALFORMED, NULL},
	        {"POSTGRESQL://db/x", 0, PL_EMALFORMED, NULL},
	};
	char out[PL_STORE_URL_MAX + 1], big[PL_STORE_URL_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		int got = pl__store_location_parse(cases[i].in, len, out);
		if (got != cases[i].want)
			fail_msg("case %zu: %d, want %d", i, got, cases[i].want);
		if (cases[i].out)
			assert_string_equal(out, cases[i].out);
	}
	memset(big, 'a', sizeof(big));
	memcpy(big, "postgresql://", 13);
	assert_int_equal(pl__store_location_parse(big, PL_STORE_URL_MAX, out), 0);
	assert_int_equal(pl__store_location_parse(big, PL_STORE_URL_MAX + 1, out), PL_ETOOBIG);
	big[PL_STORE_URL_MAX] = '\n';
	assert_int_equal(pl__store_location_parse(big, PL_STORE_URL_MAX + 1, out), 0);
	assert_int_equal(pl__store_location_parse(NULL, 0, out), PL_EINVAL);
}

/* A data directory that names a store refuses another; a bad location is a store error. */
static void test_location_file(void **state)
{
	struct fx *f = *state;
	struct pl_store *s = NULL;
	char d[160], p[200];
	int fd;

	snprintf(d, sizeof(d), "%s/loc", f->dir);
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(pl_store_locate(d, "mysql://x/y"), PL_EMALFORMED);
	assert_int_equal(pl_store_locate(d, "postgresql://127.0.0.1:1/none"), 0);
	assert_int_equal(pl_store_locate(d, "postgresql://127.0.0.1:1/other"), PL_EEXIST);
	snprintf(p, sizeof(p), "%s/" PL_STORE_LOCATION_FILE, d);
	{
		struct stat sb;
		assert_int_equal(stat(p, &sb), 0);
		assert_int_equal(sb.st_mode & 0077, 0);
	}
	/* Nothing listens there: the store cannot be reached (a store error, not "none"). */
	assert_int_equal(pl_store_probe(d), PL_EIO);
	assert_int_equal(pl_store_open(&s, d, false, NULL), PL_ESTORE);
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "sqlite:///x\n", 12), 12);
	close(fd);
	assert_int_equal(pl_store_probe(d), PL_ESTORE);
	assert_int_equal(pl_store_open(&s, d, true, NULL), PL_ESTORE);
	unlink(p);
	rmdir(d);
}

/* The tests, on the backend PL_TEST_STORE_URL chooses (see the top of this file). */
int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_create_open, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_integrity_check, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_not_a_store, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sequencer, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_records, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_refs_heads, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hashes_tlog, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_checkpoints, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_party_return, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_parties_inbox, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_payloads_timers, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_payload_state, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_migrate_v2, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tindex_nodes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tindex_versions, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_line_last, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rollback_and_readers, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_fence, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_integrity_shape, setup, teardown),
	        cmocka_unit_test(test_location_parse),
	        cmocka_unit_test_setup_teardown(test_location_file, setup, teardown)};

	pg_url = getenv("PL_TEST_STORE_URL");
	if (pg_url && !*pg_url)
		pg_url = NULL;
	return pl_test_main(tests, NULL, NULL);
}
