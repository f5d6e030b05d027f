/* Unit tests of the client's local state: scopes, monotonic checkpoint and head, cursors, copies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>
#include <sqlite3.h>

#include <parley/record.h>
#include <parley/state.h>

#include "testutil.h"

#define ORIGIN "hotline.example"

struct fixture {
	char dir[256];
	char path[300];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || sodium_init() < 0 || pl_test_tmpdir(f->dir, sizeof(f->dir), "parley-state"))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pl_test_remove_db(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_open_scope(void **state)
{
	struct fixture *f = *state;
	struct pl_state *s = NULL;
	struct stat st;

	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "Bad Party"), PL_EINVAL);
	assert_int_equal(pl_state_open(&s, f->path, "bad origin", "rok"), PL_EINVAL);
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	pl_state_close(s);
	pl_state_close(NULL);
	/* Reopening is fine; the schema exists. */
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), 0);
	pl_state_close(s);
}

static void test_not_a_database(void **state)
{
	struct fixture *f = *state;
	struct pl_state *s = NULL;
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fputs("this is not SQLite, just text long enough to be a header ......................\n",
	      fp);
	fclose(fp);
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), PL_ESTORE);
	assert_null(s);
}

static void test_newer_schema(void **state)
{
	struct fixture *f = *state;
	struct pl_state *s = NULL;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), PL_ESTORE);
}

/*
 * The pinned checkpoint keeps when and from where it came; a state of
 * schema 1 opens, keeps its checkpoint, and says neither is recorded.
 */
static void test_checkpoint_seen(void **state)
{
	struct fixture *f = *state;
	struct pl_state *s = NULL;
	struct pl_state_checkpoint cp;
	uint8_t r1[32];
	sqlite3 *db;

	memset(r1, 1, sizeof(r1));
	memset(&cp, 0, sizeof(cp));
	/* A schema-1 file with a pinned checkpoint. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "CREATE TABLE checkpoint(origin TEXT PRIMARY KEY,"
	                              " size INTEGER NOT NULL, root BLOB NOT NULL,"
	                              " note BLOB NOT NULL);"
	                              "INSERT INTO checkpoint VALUES ('" ORIGIN "', 4,"
	                              " zeroblob(32), CAST('note4' AS BLOB));"
	                              "PRAGMA user_version=1;",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), 0);
	assert_int_equal(pl_state_checkpoint_get(s, &cp), 0);
	assert_int_equal(cp.size, 4);
	assert_string_equal(cp.note, "note4");
	assert_int_equal(cp.seen, 0);
	assert_string_equal(cp.seen_from, "");
	pl_state_checkpoint_release(&cp);
	assert_int_equal(pl_state_checkpoint_put_seen(s, 5, r1, "note5", 5, 1763341200,
	                                              "http://127.0.0.1:8080"),
	                 0);
	assert_int_equal(pl_state_checkpoint_get(s, &cp), 0);
	assert_int_equal(cp.size, 5);
	assert_int_equal(cp.seen, 1763341200);
	assert_string_equal(cp.seen_from, "http://127.0.0.1:8080");
	pl_state_checkpoint_release(&cp);
	assert_int_equal(pl_state_checkpoint_put_seen(s, 6, r1, "note6", 5, -1, ""), PL_EINVAL);
	pl_state_close(s);
	/* Opened again: already schema 2. */
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), 0);
	assert_int_equal(pl_state_checkpoint_get(s, &cp), 0);
	assert_int_equal(cp.seen, 1763341200);
	pl_state_checkpoint_release(&cp);
	pl_state_close(s);
}

static void test_checkpoint_monotonic(void **state)
{
	struct fixture *f = *state;
	struct pl_state *s = NULL, *other = NULL;
	struct pl_state_checkpoint cp;
	uint8_t r1[32], r2[32];

	memset(r1, 1, sizeof(r1));
	memset(r2, 2, sizeof(r2));
	memset(&cp, 0, sizeof(cp));
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), 0);
	assert_int_equal(pl_state_checkpoint_get(s, &cp), PL_ENOTFOUND);
	assert_int_equal(pl_state_checkpoint_put(s, 5, r1, "note5", 5), 0);
	assert_int_equal(pl_state_checkpoint_get(s, &cp), 0);
	assert_int_equal(cp.size, 5);
	assert_memory_equal(cp.root, r1, 32);
	assert_string_equal(cp.note, "note5");
	pl_state_checkpoint_release(&cp);
	/* A smaller or equal tree does not replace it. */
	assert_int_equal(pl_state_checkpoint_put(s, 3, r2, "note3", 5), 0);
	assert_int_equal(pl_state_checkpoint_put(s, 5, r2, "other", 5), 0);
	assert_int_equal(pl_state_checkpoint_get(s, &cp), 0);
	assert_int_equal(cp.size, 5);
	assert_memory_equal(cp.root, r1, 32);
	pl_state_checkpoint_release(&cp);
	assert_int_equal(pl_state_checkpoint_put(s, 9, r2, "note9", 5), 0);
	/* The checkpoint is per exchange: another party of the same exchange sees it. */
	assert_int_equal(pl_state_open(&other, f->path, ORIGIN, "kpa"), 0);
	assert_int_equal(pl_state_checkpoint_get(other, &cp), 0);
	assert_int_equal(cp.size, 9);
	pl_state_checkpoint_release(&cp);
	pl_state_close(other);
	assert_int_equal(pl_state_open(&other, f->path, "other.example", "kpa"), 0);
	assert_int_equal(pl_state_checkpoint_get(other, &cp), PL_ENOTFOUND);
	pl_state_close(other);
	assert_int_equal(pl_state_checkpoint_put(s, 10, r2, "", 0), PL_EINVAL);
	assert_int_equal(pl_state_checkpoint_put(s, (uint64_t)INT64_MAX + 1, r2, "x", 1),
	                 PL_EINVAL);
	pl_state_checkpoint_release(NULL);
	pl_state_close(s);
}

static void test_head(void **state)
{
	struct fixture *f = *state;
	struct pl_state *s = NULL, *other = NULL;
	struct pl_state_head h, g;

	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), 0);
	assert_int_equal(pl_state_head_get(s, &h), 0);
	assert_int_equal(h.seq, 0);
	memset(&h, 0, sizeof(h));
	assert_int_equal(pl_state_head_put(s, &h, false), PL_EINVAL);
	h.seq = 3;
	memset(h.id, 3, sizeof(h.id));
	h.time = 1000;
	assert_int_equal(pl_state_head_put(s, &h, false), 0);
	h.seq = 2;
	memset(h.id, 2, sizeof(h.id));
	assert_int_equal(pl_state_head_put(s, &h, false), 0); /* ignored: older */
	assert_int_equal(pl_state_head_get(s, &g), 0);
	assert_int_equal(g.seq, 3);
	assert_int_equal(g.time, 1000);
	assert_int_equal(g.id[0], 3);
	assert_int_equal(pl_state_head_put(s, &h, true), 0); /* the exchange's word wins */
	assert_int_equal(pl_state_head_get(s, &g), 0);
	assert_int_equal(g.seq, 2);
	/* Heads are per party. */
	assert_int_equal(pl_state_open(&other, f->path, ORIGIN, "kpa"), 0);
	assert_int_equal(pl_state_head_get(other, &g), 0);
	assert_int_equal(g.seq, 0);
	pl_state_close(other);
	/* Forgetting the head. */
	memset(&h, 0, sizeof(h));
	assert_int_equal(pl_state_head_put(s, &h, true), 0);
	assert_int_equal(pl_state_head_get(s, &g), 0);
	assert_int_equal(g.seq, 0);
	pl_state_close(s);
}

static void test_cursor(void **state)
{
	struct fixture *f = *state;
	struct pl_state *s = NULL;
	uint64_t c = 99;

	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), 0);
	assert_int_equal(pl_state_cursor_get(s, "inbox", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(pl_state_cursor_put(s, "inbox", 42), 0);
	assert_int_equal(pl_state_cursor_put(s, "agent", 7), 0);
	assert_int_equal(pl_state_cursor_get(s, "inbox", &c), 0);
	assert_int_equal(c, 42);
	assert_int_equal(pl_state_cursor_get(s, "agent", &c), 0);
	assert_int_equal(c, 7);
	assert_int_equal(pl_state_cursor_put(s, "inbox", 3), 0); /* cursors may move back */
	assert_int_equal(pl_state_cursor_get(s, "inbox", &c), 0);
	assert_int_equal(c, 3);
	assert_int_equal(pl_state_cursor_get(s, "Inbox", &c), PL_EINVAL);
	assert_int_equal(pl_state_cursor_get(s, "", &c), PL_EINVAL);
	assert_int_equal(pl_state_cursor_put(s, "a-very-long-cursor-name-over-32-bytes", 1),
	                 PL_EINVAL);
	pl_state_close(s);
}

static void test_opened(void **state)
{
	struct fixture *f = *state;
	struct pl_state *s = NULL;
	uint8_t id[32], salt[32], got_salt[32], *p = NULL;
	size_t n = 0;

	memset(id, 7, sizeof(id));
	memset(salt, 9, sizeof(salt));
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), 0);
	assert_int_equal(pl_state_opened_get(s, id, &p, &n, got_salt), PL_ENOTFOUND);
	assert_int_equal(pl_state_opened_put(s, id, (const uint8_t *)"hello", 5, salt), 0);
	assert_int_equal(pl_state_opened_get(s, id, &p, &n, got_salt), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(p[5], 0);
	assert_memory_equal(got_salt, salt, 32);
	pl_state_plaintext_free(p, n);
	/* Replace, and an empty body. */
	assert_int_equal(pl_state_opened_put(s, id, NULL, 0, salt), 0);
	assert_int_equal(pl_state_opened_get(s, id, &p, &n, got_salt), 0);
	assert_int_equal(n, 0);
	pl_state_plaintext_free(p, n);
	pl_state_plaintext_free(NULL, 0);
	pl_state_close(s);
	/* Copies are per party. */
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "kpa"), 0);
	assert_int_equal(pl_state_opened_get(s, id, &p, &n, got_salt), PL_ENOTFOUND);
	pl_state_close(s);
}

static void test_act(void **state)
{
	struct fixture *f = *state;
	struct pl_state *s = NULL;
	uint8_t subj[32], a1[32], a2[32], got[32];

	memset(subj, 1, sizeof(subj));
	memset(a1, 2, sizeof(a1));
	memset(a2, 3, sizeof(a2));
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "unc"), 0);
	assert_int_equal(pl_state_act_get(s, subj, "receive", got), PL_ENOTFOUND);
	assert_int_equal(pl_state_act_put(s, subj, "receive", a1), 0);
	assert_int_equal(pl_state_act_put(s, subj, "receive", a2), 0); /* first kept */
	assert_int_equal(pl_state_act_get(s, subj, "receive", got), 0);
	assert_memory_equal(got, a1, 32);
	assert_int_equal(pl_state_act_get(s, subj, "receive", NULL), 0);
	assert_int_equal(pl_state_act_get(s, subj, "convey", got), PL_ENOTFOUND);
	assert_int_equal(pl_state_act_put(s, subj, "frobnicate", a1), PL_EINVAL);
	pl_state_close(s);
}

static void test_record_cache(void **state)
{
	struct fixture *f = *state;
	struct pl_state *s = NULL;
	static const char rec[] = "a record text\n";
	uint8_t id[32], wrong[32];
	uint64_t idx = 0;
	struct pl_buf b;

	pl_record_id(id, rec, strlen(rec));
	memset(wrong, 0xee, sizeof(wrong));
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), 0);
	assert_int_equal(pl_state_record_get(s, id, &idx, &b), PL_ENOTFOUND);
	assert_int_equal(pl_state_record_put(s, id, 12, rec, strlen(rec)), 0);
	assert_int_equal(pl_state_record_put(s, id, 12, rec, strlen(rec)), 0);
	assert_int_equal(pl_state_record_get(s, id, &idx, &b), 0);
	assert_int_equal(idx, 12);
	assert_int_equal(b.len, strlen(rec));
	assert_memory_equal(b.data, rec, b.len);
	/* A row whose text does not hash to its id is corruption, not a record. */
	assert_int_equal(pl_state_record_put(s, wrong, 13, rec, strlen(rec)), 0);
	pl_buf_reset(&b);
	assert_int_equal(pl_state_record_get(s, wrong, &idx, &b), PL_ESTORE);
	assert_int_equal(pl_state_record_put(s, id, 1, rec, 0), PL_EINVAL);
	pl_state_close(s);
	pl_buf_release(&b);
}

static void test_damaged_rows(void **state)
{
	struct fixture *f = *state;
	struct pl_state *s = NULL;
	struct pl_state_head h;
	struct pl_state_checkpoint cp;
	uint8_t root[32];
	sqlite3 *db;

	memset(root, 1, sizeof(root));
	memset(&h, 0, sizeof(h));
	h.seq = 1;
	assert_int_equal(pl_state_open(&s, f->path, ORIGIN, "rok-mnd"), 0);
	assert_int_equal(pl_state_head_put(s, &h, false), 0);
	assert_int_equal(pl_state_checkpoint_put(s, 1, root, "n", 1), 0);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	        sqlite3_exec(db,
	                     "UPDATE head SET id = x'00'; UPDATE checkpoint SET root = 'x';"
	                     "UPDATE checkpoint SET size = -1;",
	                     NULL, NULL, NULL),
	        SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(pl_state_head_get(s, &h), PL_ESTORE);
	memset(&cp, 0, sizeof(cp));
	assert_int_equal(pl_state_checkpoint_get(s, &cp), PL_ESTORE);
	pl_state_close(s);
}

PL_TEST_MAIN(NULL, NULL, PL_TEST_FIXTURE(test_open_scope), PL_TEST_FIXTURE(test_not_a_database),
             PL_TEST_FIXTURE(test_newer_schema), PL_TEST_FIXTURE(test_checkpoint_monotonic),
             PL_TEST_FIXTURE(test_checkpoint_seen), PL_TEST_FIXTURE(test_head),
             PL_TEST_FIXTURE(test_cursor), PL_TEST_FIXTURE(test_opened), PL_TEST_FIXTURE(test_act),
             PL_TEST_FIXTURE(test_record_cache), PL_TEST_FIXTURE(test_damaged_rows))
