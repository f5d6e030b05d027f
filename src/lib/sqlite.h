/* The one SQLite helper of libparley: open, a prepared-statement table, errors, transactions. */
#ifndef PARLEY_SQLITE_H
#define PARLEY_SQLITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include <parley/error.h>

/*
 * Used by the store's SQLite backend (store.c), the client's local state
 * (state.c) and the witness's store (witness.c). Each keeps every statement
 * it runs in one X-macro table:
 *
 *     #define FOO_STATEMENTS(X) X(FOO_GET, "SELECT ...") X(FOO_PUT, "INSERT ...")
 *     enum foo_stmt { FOO_STATEMENTS(PL__SQL_ENUM) FOO_COUNT };
 *     static const char *const foo_sql[] = {FOO_STATEMENTS(PL__SQL_TEXT)};
 *     static const char *const foo_names[] = {FOO_STATEMENTS(PL__SQL_NAME)};
 *
 * and hands it to pl__sql_open(): each statement is prepared on first use,
 * once per connection, and named in the detail of its failures. Every
 * SQLite failure becomes PL_ESTORE, with SQLite's message, code and the
 * statement's name kept in errmsg for the operator's log. A struct pl__sql
 * is used by one thread at a time.
 */
#define PL__SQL_ENUM(name, text) name,
#define PL__SQL_TEXT(name, text) text,
#define PL__SQL_NAME(name, text) #name,

#define PL__SQL_ERRMSG_MAX       512
#define PL__SQL_BUSY_MS          10000 /* how long a connection waits for another's lock */

/* What every durable file of the project is: a WAL, synced at each commit. */
#define PL__SQL_PRAGMAS_DURABLE "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;"

struct pl__sql {
	sqlite3 *db;
	const char *const *sql;   /* the statement table, n entries */
	const char *const *names; /* their names */
	size_t n;
	sqlite3_stmt **st; /* prepared on first use */
	char errmsg[PL__SQL_ERRMSG_MAX];
};

/*
 * Opens the SQLite file at path (read-write when writer, else read-only;
 * never creates it), with extended result codes and a busy timeout of
 * busy_ms, for the statement table sql/names[0..n) (static storage). q is
 * the caller's, zeroed or released. Returns 0, PL_ENOMEM or PL_ESTORE (the
 * detail in q->errmsg); on failure q is released.
 */
int pl__sql_open(struct pl__sql *q, const char *path, bool writer, int busy_ms,
                 const char *const *sql, const char *const *names, size_t n) PL_WUR;

/* Finalizes the statements and closes the connection. A zeroed q is a no-op. */
void pl__sql_close(struct pl__sql *q);

/* Keeps SQLite's detail of rc at where in q->errmsg; returns PL_ESTORE. */
int pl__sql_fail(struct pl__sql *q, const char *where, int rc);

/* Keeps a detail of the caller's (a value read back out of shape); returns PL_ESTORE. */
int pl__sql_bad(struct pl__sql *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs a script of statements with no result (pragmas, schema). 0 or PL_ESTORE. */
int pl__sql_script(struct pl__sql *q, const char *sql, const char *where) PL_WUR;

/* Statement `which` of the table, reset and unbound, prepared on first use. 0 or PL_ESTORE. */
int pl__sql_stmt(struct pl__sql *q, size_t which, sqlite3_stmt **out) PL_WUR;

/* Resets a statement after use so that it releases its snapshot and locks. NULL is a no-op. */
void pl__sql_done(sqlite3_stmt *st);

/* Steps statement which (st) that returns no row, then resets it. 0 or PL_ESTORE. */
int pl__sql_exec(struct pl__sql *q, size_t which, sqlite3_stmt *st) PL_WUR;

/*
 * Steps statement which (st) for its next row: 0 (a row), PL_ENOTFOUND (no
 * more) or PL_ESTORE. Leaves st for the caller's pl__sql_done().
 */
int pl__sql_row(struct pl__sql *q, size_t which, sqlite3_stmt *st) PL_WUR;

/*
 * Transactions. begin takes the write lock at once when immediate (BEGIN
 * IMMEDIATE), else at the first write (a read snapshot until then).
 * rollback does nothing outside a transaction and never fails.
 */
int pl__sql_begin(struct pl__sql *q, bool immediate) PL_WUR;
int pl__sql_commit(struct pl__sql *q) PL_WUR;
void pl__sql_rollback(struct pl__sql *q);

/*
 * Column readers: what a file holds is hostile input, so a value out of
 * shape is PL_ESTORE with the column and where in errmsg. col_text copies a
 * TEXT of fewer than cap bytes with its NUL; col_exact a BLOB of exactly n
 * bytes; col_blob points at a BLOB of min to max bytes (valid until the next
 * step or reset; a zero-length one may be NULL); col_u64 an INTEGER >= 0.
 */
int pl__sql_col_text(struct pl__sql *q, sqlite3_stmt *st, int col, char *out, size_t cap,
                     const char *where) PL_WUR;
int pl__sql_col_exact(struct pl__sql *q, sqlite3_stmt *st, int col, uint8_t *out, size_t n,
                      const char *where) PL_WUR;
int pl__sql_col_blob(struct pl__sql *q, sqlite3_stmt *st, int col, size_t min, size_t max,
                     const void **p, size_t *n, const char *where) PL_WUR;
int pl__sql_col_u64(struct pl__sql *q, sqlite3_stmt *st, int col, uint64_t *out,
                    const char *where) PL_WUR;

#endif
