/* The one SQLite helper: open, prepared-statement tables, error mapping, transactions. */
#include "sqlite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pl__sql_open(struct pl__sql *q, const char *path, bool writer, int busy_ms,
                 const char *const *sql, const char *const *names, size_t n)
{
	int flags = (writer ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX;
	int rc, ret = 0;

	memset(q, 0, sizeof(*q));
	q->sql = sql;
	q->names = names;
	q->n = n;
	q->st = calloc(n ? n : 1, sizeof(*q->st));
	if (!q->st) {
		ret = PL_ENOMEM;
		goto out;
	}
	rc = sqlite3_open_v2(path, &q->db, flags, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_extended_result_codes(q->db, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(q->db, busy_ms);
	if (rc != SQLITE_OK)
		ret = pl__sql_fail(q, "open", rc);
out:
	if (ret) {
		char keep[PL__SQL_ERRMSG_MAX];
		memcpy(keep, q->errmsg, sizeof(keep));
		pl__sql_close(q);
		memcpy(q->errmsg, keep, sizeof(keep));
	}
	return ret;
}

void pl__sql_close(struct pl__sql *q)
{
	if (!q)
		return;
	for (size_t i = 0; q->st && i < q->n; i++)
		sqlite3_finalize(q->st[i]);
	free(q->st);
	sqlite3_close_v2(q->db);
	memset(q, 0, sizeof(*q));
}

int pl__sql_fail(struct pl__sql *q, const char *where, int rc)
{
	snprintf(q->errmsg, sizeof(q->errmsg), "sqlite: %s (%d) in %s",
	         q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc), rc, where);
	return PL_ESTORE;
}

int pl__sql_bad(struct pl__sql *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->errmsg, sizeof(q->errmsg), fmt, ap);
	va_end(ap);
	return PL_ESTORE;
}

int pl__sql_script(struct pl__sql *q, const char *sql, const char *where)
{
	int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : pl__sql_fail(q, where, rc);
}

int pl__sql_stmt(struct pl__sql *q, size_t which, sqlite3_stmt **out)
{
	int rc;

	if (which >= q->n)
		return pl__sql_bad(q, "sqlite: no statement %zu", which);
	if (!q->st[which]) {
		rc = sqlite3_prepare_v3(q->db, q->sql[which], -1, SQLITE_PREPARE_PERSISTENT,
		                        &q->st[which], NULL);
		if (rc != SQLITE_OK)
			return pl__sql_fail(q, q->names[which], rc);
	}
	*out = q->st[which];
	return 0;
}

void pl__sql_done(sqlite3_stmt *st)
{
	if (!st)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int pl__sql_exec(struct pl__sql *q, size_t which, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int ret = 0;

	if (rc != SQLITE_DONE)
		ret = pl__sql_fail(q, q->names[which], rc);
	pl__sql_done(st);
	return ret;
}

int pl__sql_row(struct pl__sql *q, size_t which, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? PL_ENOTFOUND : pl__sql_fail(q, q->names[which], rc);
}

int pl__sql_begin(struct pl__sql *q, bool immediate)
{
	return pl__sql_script(q, immediate ? "BEGIN IMMEDIATE" : "BEGIN", "begin");
}

int pl__sql_commit(struct pl__sql *q)
{
	return pl__sql_script(q, "COMMIT", "commit");
}

void pl__sql_rollback(struct pl__sql *q)
{
	if (q->db && !sqlite3_get_autocommit(q->db))
		(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
}

int pl__sql_col_text(struct pl__sql *q, sqlite3_stmt *st, int col, char *out, size_t cap,
                     const char *where)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);

	if (!t || n < 0 || (size_t)n >= cap)
		return pl__sql_bad(q, "store: bad text column %d in %s", col, where);
	memcpy(out, t, (size_t)n);
	out[n] = '\0';
	return 0;
}

int pl__sql_col_exact(struct pl__sql *q, sqlite3_stmt *st, int col, uint8_t *out, size_t n,
                      const char *where)
{
	const void *b = sqlite3_column_blob(st, col);

	if (!b || sqlite3_column_type(st, col) != SQLITE_BLOB ||
	    (size_t)sqlite3_column_bytes(st, col) != n)
		return pl__sql_bad(q, "store: bad blob column %d in %s", col, where);
	memcpy(out, b, n);
	return 0;
}

int pl__sql_col_blob(struct pl__sql *q, sqlite3_stmt *st, int col, size_t min, size_t max,
                     const void **p, size_t *n, const char *where)
{
	int len = sqlite3_column_bytes(st, col);
	const void *v = sqlite3_column_blob(st, col);

	if (sqlite3_column_type(st, col) != SQLITE_BLOB || len < 0 || (size_t)len < min ||
	    (size_t)len > max || (len > 0 && !v))
		return pl__sql_bad(q, "store: bad blob column %d in %s", col, where);
	*p = v;
	*n = (size_t)len;
	return 0;
}

int pl__sql_col_u64(struct pl__sql *q, sqlite3_stmt *st, int col, uint64_t *out, const char *where)
{
	sqlite3_int64 v = sqlite3_column_int64(st, col);

	if (v < 0 || sqlite3_column_type(st, col) != SQLITE_INTEGER)
		return pl__sql_bad(q, "store: bad integer column %d in %s", col, where);
	*out = (uint64_t)v;
	return 0;
}
