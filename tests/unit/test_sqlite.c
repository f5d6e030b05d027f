/* Tests of the one SQLite helper: the statement table, error detail, transactions, columns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sqlite.h"

#include "testutil.h"

#define T_STATEMENTS(X)                                 \
	X(T_PUT, "INSERT INTO t(k, v) VALUES (?1, ?2)") \
	X(T_GET, "SELECT v FROM t WHERE k = ?1")        \
	X(T_COUNT, "SELECT count(*) FROM t")            \
	X(T_BAD, "SELECT v FROM nowhere")

enum t_stmt { T_STATEMENTS(PL__SQL_ENUM) T_N };
static const char *const t_sql[] = {T_STATEMENTS(PL__SQL_TEXT)};
static const char *const t_names[] = {T_STATEMENTS(PL__SQL_NAME)};

struct fx {
	char dir[200];
	char path[220];
	struct pl__sql q;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	FILE *fp;

	if (!f)
		return -1;
	if (pl_test_tmpdir(f->dir, sizeof(f->dir), "pl_sqlite"))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	fp = fopen(f->path, "w"); /* the helper opens, never creates */
	if (!fp)
		return -1;
	fclose(fp);
	if (pl__sql_open(&f->q, f->path, true, 1000, t_sql, t_names, T_N) != 0)
		return -1;
	if (pl__sql_script(&f->q,
	                   PL__SQL_PRAGMAS_DURABLE "CREATE TABLE t(k INTEGER PRIMARY KEY, v);",
	                   "schema") != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pl__sql_close(&f->q);
	pl_test_remove_db(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void put(struct fx *f, int64_t k, const void *v, int len)
{
	sqlite3_stmt *st;

	assert_int_equal(pl__sql_stmt(&f->q, T_PUT, &st), 0);
	sqlite3_bind_int64(st, 1, k);
	if (len < 0)
		sqlite3_bind_int64(st, 2, *(const int64_t *)v);
	else
		sqlite3_bind_blob(st, 2, v, len, SQLITE_TRANSIENT);
	assert_int_equal(pl__sql_exec(&f->q, T_PUT, st), 0);
}

static uint64_t count(struct fx *f)
{
	sqlite3_stmt *st;
	uint64_t n = 99;

	assert_int_equal(pl__sql_stmt(&f->q, T_COUNT, &st), 0);
	assert_int_equal(pl__sql_row(&f->q, T_COUNT, st), 0);
	assert_int_equal(pl__sql_col_u64(&f->q, st, 0, &n, "count"), 0);
	pl__sql_done(st);
	return n;
}

/* Each statement is prepared once per connection and handed out reset and unbound. */
static void test_table(void **state)
{
	struct fx *f = *state;
	sqlite3_stmt *a, *b;
	uint8_t v[4] = {1, 2, 3, 4}, got[4];

	assert_int_equal(pl__sql_stmt(&f->q, T_GET, &a), 0);
	sqlite3_bind_int64(a, 1, 7);
	pl__sql_done(a);
	assert_int_equal(pl__sql_stmt(&f->q, T_GET, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(sqlite3_bind_parameter_count(b), 1);
	assert_int_equal(pl__sql_row(&f->q, T_GET, b), PL_ENOTFOUND);
	pl__sql_done(b);
	put(f, 7, v, 4);
	assert_int_equal(pl__sql_stmt(&f->q, T_GET, &b), 0);
	sqlite3_bind_int64(b, 1, 7);
	assert_int_equal(pl__sql_row(&f->q, T_GET, b), 0);
	assert_int_equal(pl__sql_col_exact(&f->q, b, 0, got, 4, "get"), 0);
	assert_memory_equal(got, v, 4);
	pl__sql_done(b);
	pl__sql_done(NULL);
}

/* Every failure is PL_ESTORE, with SQLite's message and the statement's name kept. */
static void test_errors(void **state)
{
	struct fx *f = *state;
	sqlite3_stmt *st = NULL;
	struct pl__sql q;
	int64_t one = 1;

	assert_int_equal(pl__sql_stmt(&f->q, T_BAD, &st), PL_ESTORE);
	assert_null(st);
	assert_non_null(strstr(f->q.errmsg, "no such table"));
	assert_non_null(strstr(f->q.errmsg, "T_BAD"));
	assert_int_equal(pl__sql_stmt(&f->q, T_N, &st), PL_ESTORE);
	put(f, 1, &one, -1);
	assert_int_equal(pl__sql_stmt(&f->q, T_PUT, &st), 0);
	sqlite3_bind_int64(st, 1, 1);
	assert_int_equal(pl__sql_exec(&f->q, T_PUT, st), PL_ESTORE); /* the key exists */
	assert_non_null(strstr(f->q.errmsg, "UNIQUE"));
	assert_non_null(strstr(f->q.errmsg, "T_PUT"));
	assert_int_equal(pl__sql_script(&f->q, "NOT SQL", "the script"), PL_ESTORE);
	assert_non_null(strstr(f->q.errmsg, "the script"));
	/* A missing file is not created. */
	assert_int_equal(pl__sql_open(&q, "/nonexistent/t.db", true, 10, t_sql, t_names, T_N),
	                 PL_ESTORE);
	assert_non_null(strstr(q.errmsg, "open"));
	assert_null(q.db);
	pl__sql_close(&q);
}

/* A transaction is all or nothing; rollback outside one does nothing. */
static void test_transactions(void **state)
{
	struct fx *f = *state;
	int64_t v = 5;

	pl__sql_rollback(&f->q);
	assert_int_equal(pl__sql_begin(&f->q, true), 0);
	put(f, 1, &v, -1);
	put(f, 2, &v, -1);
	pl__sql_rollback(&f->q);
	assert_int_equal(count(f), 0);
	assert_int_equal(pl__sql_begin(&f->q, false), 0);
	put(f, 1, &v, -1);
	assert_int_equal(pl__sql_commit(&f->q), 0);
	assert_int_equal(count(f), 1);
	assert_int_equal(pl__sql_commit(&f->q), PL_ESTORE); /* none open */
}

/* What a file holds is hostile: every column reader refuses a value out of shape. */
static void test_columns(void **state)
{
	static const struct {
		const char *value; /* SQL literal stored */
		int reader;        /* 0 text (cap 4), 1 exact (4), 2 blob (1..4), 3 u64 */
		int want;
	} cases[] = {
	        {"'abc'", 0, 0},
	        {"'abcd'", 0, PL_ESTORE},
	        {"NULL", 0, PL_ESTORE},
	        {"x'01020304'", 1, 0},
	        {"x'010203'", 1, PL_ESTORE},
	        {"'abcd'", 1, PL_ESTORE},
	        {"NULL", 1, PL_ESTORE},
	        {"x'01'", 2, 0},
	        {"x''", 2, PL_ESTORE},
	        {"x'0102030405'", 2, PL_ESTORE},
	        {"'ab'", 2, PL_ESTORE},
	        {"7", 3, 0},
	        {"-1", 3, PL_ESTORE},
	        {"'7'", 3, PL_ESTORE},
	        {"1.5", 3, PL_ESTORE},
	        {"NULL", 3, PL_ESTORE},
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char sql[128], text[4];
		uint8_t b4[4];
		const void *p;
		size_t n;
		uint64_t u;
		sqlite3_stmt *st;
		int ret = -1;

		snprintf(sql, sizeof(sql), "DELETE FROM t; INSERT INTO t(k, v) VALUES (1, %s);",
		         cases[i].value);
		assert_int_equal(pl__sql_script(&f->q, sql, "case"), 0);
		assert_int_equal(pl__sql_stmt(&f->q, T_GET, &st), 0);
		sqlite3_bind_int64(st, 1, 1);
		assert_int_equal(pl__sql_row(&f->q, T_GET, st), 0);
		f->q.errmsg[0] = '\0';
		switch (cases[i].reader) {
		case 0:
			ret = pl__sql_col_text(&f->q, st, 0, text, sizeof(text), "where");
			break;
		case 1:
			ret = pl__sql_col_exact(&f->q, st, 0, b4, 4, "where");
			break;
		case 2:
			ret = pl__sql_col_blob(&f->q, st, 0, 1, 4, &p, &n, "where");
			break;
		case 3:
			ret = pl__sql_col_u64(&f->q, st, 0, &u, "where");
			break;
		}
		pl__sql_done(st);
		if (ret != cases[i].want)
			fail_msg("case %zu (%s): got %d", i, cases[i].value, ret);
		if (ret)
			assert_non_null(strstr(f->q.errmsg, "where"));
	}
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test_setup_teardown(test_table, setup, teardown),
             cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
             cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
             cmocka_unit_test_setup_teardown(test_columns, setup, teardown))
