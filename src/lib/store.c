/* The SQLite backend of the store: the schema and every read and write, binds only. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <parley/line.h>

#include "internal.h"
#include "sqlite.h"
#include "store_pg.h"
#include "store_sqlite.h"

/*
 * When the data directory dir names a PostgreSQL store (PL_STORE_LOCATION_FILE), returns
 * call's result, with the location in scope as url; a location out of shape, or a build
 * without libpq, is PL_ESTORE.
 */
#ifdef PL_HAVE_POSTGRESQL
#define STORE_PG_CALL(call) (call)
#else
#define STORE_PG_CALL(call) PL_ESTORE
#endif
#define STORE_PG_DIR(dir, call)                                       \
	do {                                                          \
		char url[PL_STORE_URL_MAX + 1];                       \
		int where_ = pl__store_location(dir, url);            \
		if (where_ != PL_ENOTFOUND)                           \
			return where_ ? where_ : STORE_PG_CALL(call); \
	} while (0)

static const char *const store_sql[] = {STORE_STATEMENTS(PL__SQL_TEXT)};

static const char *const store_stmt_name[] = {STORE_STATEMENTS(PL__SQL_NAME)};

const char *pl__store_stmt_name(enum store_stmt k)
{
	return store_stmt_name[k];
}

/*
 * The schema. Tables are keyed by the log index or small integers; the only
 * indexes on random hashes are the 8-byte integer prefixes idpfx and hpfx.
 */
static const char store_schema[] =
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE records(idx INTEGER PRIMARY KEY, idpfx INTEGER NOT NULL, id BLOB NOT NULL,"
        " author TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, note BLOB NOT NULL);"
        "CREATE INDEX records_idpfx ON records(idpfx);"
        "CREATE TABLE refs(dst INTEGER NOT NULL, src INTEGER NOT NULL, PRIMARY KEY(dst, src))"
        " WITHOUT ROWID;"
        "CREATE TABLE heads(author TEXT PRIMARY KEY, seq INTEGER NOT NULL, idx INTEGER NOT NULL)"
        " WITHOUT ROWID;"
        "CREATE TABLE hashes(i INTEGER PRIMARY KEY, h BLOB NOT NULL);"
        "CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, note BLOB NOT NULL);"
        "CREATE TABLE parties(pid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
        " vkey TEXT NOT NULL, enc_key TEXT NOT NULL, reg_idx INTEGER NOT NULL, revoke_idx INTEGER);"
        "CREATE TABLE inbox(pid INTEGER NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY(pid, idx))"
        " WITHOUT ROWID;"
        "CREATE TABLE payloads(hpfx INTEGER NOT NULL, hash BLOB NOT NULL, data BLOB NOT NULL);"
        "CREATE INDEX payloads_hpfx ON payloads(hpfx);"
        "CREATE TABLE timers(due INTEGER NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY(due, idx))"
        " WITHOUT ROWID;"
        "CREATE UNIQUE INDEX timers_idx ON timers(idx);";

/*
 * Migrations: store_migrations[v - 1] takes a store from schema v to v + 1.
 * A new store is made by store_schema and then every migration, so that an
 * old store brought up to date and a new one have the same tables. Each runs
 * in the writer's transaction that also records the new version.
 *
 * 1 -> 2: what a payload's access and retention need: its uploader (the
 * authenticated party of POST /payloads), the time it was stored, its size,
 * and whether a logged record refers to it. A blob stored before has no
 * known uploader and counts as referred to: it was readable by its readers
 * from its upload on, most were uploaded for a send that was then logged,
 * and deleting one could take the content of a logged send with it.
 * Only unreferenced blobs are in the partial index that retention scans.
 * payload_pending holds each uploader's bytes of unreferenced blobs, kept by
 * triggers in the same transaction as every change of a blob, so that the
 * allowance check on upload is one lookup whatever the number of blobs.
 *
 * 2 -> 3: the thread index's nodes (store_tindex.c), each place's node at
 * every checkpoint size that changed it. A place at depth <= 62 is numbered
 * 2^depth + its prefix (the heap numbering) in tindex; a deeper one is keyed
 * by its depth and prefix in tindex_deep. A store brought up to date has
 * none: the exchange builds the map from the refs of the log it holds when
 * it opens it (pl_exchange_open()), so its older checkpoints have no index.
 *
 * 3 -> 4: party_keys, the active keys a party holds beside its row's vkey
 * (docs/keys.md §1): each with the chain head name its records extend and the
 * index of the register that added it. A store brought up to date has none.
 *
 * A payload's `referred` (schema 2 on) is 0 while no record refers to the blob, 1 when one does but
 * which one is not known (a blob referred to before the store kept it, or
 * stored before uploaders were recorded), and 2 + the log index of the first
 * record that named it otherwise (pl_store_payload_refer()), so that who may
 * fetch it follows who may read that record. Same column, same meaning of zero
 * and non-zero: no schema change, and an older exchange reads the store alike.
 */
static const char *const store_migrations[] = {
        "ALTER TABLE payloads ADD COLUMN uploader TEXT;"
        "ALTER TABLE payloads ADD COLUMN stored INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE payloads ADD COLUMN size INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE payloads ADD COLUMN referred INTEGER NOT NULL DEFAULT 1;"
        "CREATE INDEX payloads_expiry ON payloads(stored) WHERE referred = 0;"
        "CREATE TABLE payload_pending(uploader TEXT PRIMARY KEY, bytes INTEGER NOT NULL)"
        " WITHOUT ROWID;"
        "CREATE TRIGGER payloads_pending_put AFTER INSERT ON payloads"
        " WHEN NEW.referred = 0 BEGIN"
        " INSERT INTO payload_pending(uploader, bytes) VALUES (NEW.uploader, NEW.size)"
        " ON CONFLICT(uploader) DO UPDATE SET bytes = bytes + excluded.bytes; END;"
        "CREATE TRIGGER payloads_pending_refer AFTER UPDATE OF referred ON payloads"
        " WHEN OLD.referred = 0 AND NEW.referred <> 0 BEGIN"
        " UPDATE payload_pending SET bytes = bytes - OLD.size WHERE uploader = OLD.uploader;"
        " END;"
        "CREATE TRIGGER payloads_pending_delete AFTER DELETE ON payloads"
        " WHEN OLD.referred = 0 BEGIN"
        " UPDATE payload_pending SET bytes = bytes - OLD.size WHERE uploader = OLD.uploader;"
        " END;",
        "CREATE TABLE tindex(pos INTEGER NOT NULL, size INTEGER NOT NULL, node BLOB NOT NULL,"
        " PRIMARY KEY(pos, size)) WITHOUT ROWID;"
        "CREATE TABLE tindex_deep(depth INTEGER NOT NULL, prefix BLOB NOT NULL,"
        " size INTEGER NOT NULL, node BLOB NOT NULL, PRIMARY KEY(depth, prefix, size))"
        " WITHOUT ROWID;",
        ("CREATE TABLE party_keys(pid INTEGER NOT NULL, vkey TEXT NOT NULL, chain TEXT NOT NULL,"
         " reg_idx INTEGER NOT NULL, PRIMARY KEY(pid, vkey)) WITHOUT ROWID;"),
};

_Static_assert(sizeof(store_migrations) / sizeof(store_migrations[0]) ==
                       PL_STORE_SCHEMA_VERSION - 1,
               "one migration per schema version");

_Static_assert(PL_STORE_ERRMSG_MAX == PL__SQL_ERRMSG_MAX, "one size of error detail");

/* An 8-byte big-endian prefix as an integer that sorts like the bytes. */
static int64_t store_prefix64(const uint8_t p[static 8])
{
	return (int64_t)(pl__get_be64(p) ^ (UINT64_C(1) << 63));
}

/* Sets the pragmas every connection needs: durability first. */
static int store_configure(struct pl_store *s)
{
	static const char pragmas[] = PL__SQL_PRAGMAS_DURABLE "PRAGMA foreign_keys=OFF;"
	                                                      "PRAGMA cache_size=-4096;"
	                                                      "PRAGMA temp_store=MEMORY;"
	                                                      "PRAGMA journal_size_limit=67108864;";

	return pl__sql_script(&s->q, s->writer ? pragmas : "PRAGMA cache_size=-2048;", "pragmas");
}

static void store_free(struct pl_store *s)
{
	if (!s)
		return;
	pl__sql_close(&s->q);
	free(s->dir);
	free(s);
}

int pl_store_probe(const char *dir)
{
	struct stat sb;
	char *path;
	int ret = 0;

	if (!dir)
		return PL_EINVAL;
	STORE_PG_DIR(dir, pl__store_pg_probe(url));
	path = pl__path_join(dir, PL_STORE_SQLITE_FILE);
	if (!path)
		return PL_ENOMEM;
	if (stat(path, &sb) != 0)
		ret = errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
	free(path);
	return ret;
}

int pl_store_create(const char *dir, const char *origin)
{
	struct pl_store *s = NULL;
	sqlite3_stmt *st = NULL;
	char *path;
	int fd, rc, ret;

	if (!dir || !origin || !*origin || strlen(origin) > PL_ORIGIN_MAX)
		return PL_EINVAL;
	STORE_PG_DIR(dir, pl__store_pg_create(url, origin));
	path = pl__path_join(dir, PL_STORE_SQLITE_FILE);
	if (!path)
		return PL_ENOMEM;
	/* Create the file ourselves: exclusively, not through a symlink, owner-only. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = errno == EEXIST ? PL_EEXIST : PL_EIO;
		free(path);
		return ret;
	}
	close(fd);
	s = calloc(1, sizeof(*s));
	if (!s) {
		ret = PL_ENOMEM;
		goto fail;
	}
	s->writer = true;
	ret = pl__sql_open(&s->q, path, true, PL__SQL_BUSY_MS, store_sql, store_stmt_name,
	                   ST_COUNT);
	if (!ret)
		ret = store_configure(s);
	if (ret)
		goto fail;
	rc = sqlite3_exec(s->q.db, "BEGIN", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->q.db, store_schema, NULL, NULL, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < PL__ARRAY_LEN(store_migrations); i++)
		rc = sqlite3_exec(s->q.db, store_migrations[i], NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->q.db, "INSERT INTO meta(key, value) VALUES (?1, ?2)", -1,
		                        &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, "schema", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, PL_STORE_SCHEMA_VERSION);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_reset(st);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, "origin", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->q.db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		ret = PL_ESTORE;
		goto fail;
	}
	store_free(s);
	free(path);
	return 0;
fail:
	store_free(s);
	unlink(path);
	free(path);
	return ret;
}

/* Brings a store at schema `from` up to date, in one transaction. */
static int store_migrate(struct pl_store *s, int from)
{
	sqlite3_stmt *st;
	int rc, ret;

	rc = sqlite3_exec(s->q.db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (int v = from; rc == SQLITE_OK && v < PL_STORE_SCHEMA_VERSION; v++)
		rc = sqlite3_exec(s->q.db, store_migrations[v - 1], NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		ret = pl__sql_fail(&s->q, "migration", rc);
		goto out;
	}
	ret = pl__sql_stmt(&s->q, ST_META_PUT, &st);
	if (ret)
		goto out;
	sqlite3_bind_text(st, 1, "schema", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, PL_STORE_SCHEMA_VERSION);
	ret = pl__sql_exec(&s->q, ST_META_PUT, st);
	if (!ret) {
		rc = sqlite3_exec(s->q.db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			ret = pl__sql_fail(&s->q, "migration commit", rc);
	}
out:
	if (!sqlite3_get_autocommit(s->q.db))
		(void)sqlite3_exec(s->q.db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int pl_store_open(struct pl_store **out, const char *dir, bool writer, struct pl_buf *err)
{
	struct pl_store *s = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3_int64 version;
	char *path = NULL;
	int rc, ret;

	if (!out || !dir)
		return PL_EINVAL;
	STORE_PG_DIR(dir, pl__store_pg_open(out, url, writer, err));
	ret = pl_store_probe(dir);
	if (ret)
		goto out;
	s = calloc(1, sizeof(*s));
	path = pl__path_join(dir, PL_STORE_SQLITE_FILE);
	if (!s || !path || !(s->dir = strdup(dir))) {
		ret = PL_ENOMEM;
		goto out;
	}
	s->writer = writer;
	ret = pl__sql_open(&s->q, path, writer, PL__SQL_BUSY_MS, store_sql, store_stmt_name,
	                   ST_COUNT);
	if (!ret)
		ret = store_configure(s);
	if (ret)
		goto out;
	ret = pl__sql_stmt(&s->q, ST_META_GET, &st);
	if (ret)
		goto out;
	sqlite3_bind_text(st, 1, "schema", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ret = pl__sql_fail(&s->q, "schema", rc);
		pl__sql_done(st);
		goto out;
	}
	version = sqlite3_column_int64(st, 0);
	pl__sql_done(st);
	/* A reader may look at an older store (the writer brings it up to date). */
	if (version < 1 || version > PL_STORE_SCHEMA_VERSION ||
	    (writer && version < PL_STORE_SCHEMA_VERSION && store_migrate(s, (int)version) != 0)) {
		if (!s->q.errmsg[0] || version > PL_STORE_SCHEMA_VERSION || version < 1)
			snprintf(s->q.errmsg, sizeof(s->q.errmsg),
			         "store: schema version %lld, expected %d", (long long)version,
			         PL_STORE_SCHEMA_VERSION);
		ret = PL_ESTORE;
		goto out;
	}
	*out = s;
	s = NULL;
	ret = 0;
out:
	if (s && err && s->q.errmsg[0])
		(void)!pl_buf_adds(err, s->q.errmsg);
	store_free(s);
	free(path);
	return ret;
}

void pl_store_close(struct pl_store *s)
{
#ifdef PL_HAVE_POSTGRESQL
	if (s && s->pg) {
		pl__store_pg_close(s);
		return;
	}
#endif
	if (s && s->tend)
		pl_store_close(pl__store_tend_stop(s));
	if (s && s->q.db && !sqlite3_get_autocommit(s->q.db))
		pl_store_rollback(s);
	store_free(s);
}

bool pl_store_fenced(const struct pl_store *s)
{
	PL__STORE_PG(s, pl__store_pg_fenced(s));
	return false;
}

const char *pl_store_errmsg(const struct pl_store *s)
{
	return s ? s->q.errmsg : "";
}

/* Runs one of the transaction-control statements. */
static int store_control(struct pl_store *s, enum store_stmt which)
{
	sqlite3_stmt *st;
	int ret = pl__sql_stmt(&s->q, which, &st);

	if (ret)
		return ret;
	return pl__sql_exec(&s->q, which, st);
}

int pl_store_begin(struct pl_store *s)
{
	PL__STORE_PG(s, pl__store_pg_begin(s));
	return store_control(s, s->writer ? ST_BEGIN_W : ST_BEGIN_R);
}

int pl_store_commit(struct pl_store *s)
{
	PL__STORE_PG(s, pl__store_pg_commit(s));
	return store_control(s, ST_COMMIT);
}

void pl_store_rollback(struct pl_store *s)
{
#ifdef PL_HAVE_POSTGRESQL
	if (s->pg) {
		pl__store_pg_rollback(s);
		return;
	}
#endif
	if (sqlite3_get_autocommit(s->q.db))
		return;
	(void)store_control(s, ST_ROLLBACK);
}

/* Puts value under key in the key-value table (meta), replacing what was there. */
int pl__store_meta_put(struct pl_store *s, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int ret = pl__sql_stmt(&s->q, ST_META_PUT, &st);

	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return pl__sql_exec(&s->q, ST_META_PUT, st);
}

/* Copies the value under key (at most cap - 1 bytes) to out: 0, PL_ENOTFOUND, PL_ESTORE. */
int pl__store_meta_get(struct pl_store *s, const char *key, char *out, size_t cap)
{
	sqlite3_stmt *st;
	int rc, ret = pl__sql_stmt(&s->q, ST_META_GET, &st);

	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = pl__sql_col_text(&s->q, st, 0, out, cap, key);
	else
		ret = rc == SQLITE_DONE ? PL_ENOTFOUND : pl__sql_fail(&s->q, key, rc);
	pl__sql_done(st);
	return ret;
}

int pl_store_published_mark(struct pl_store *s)
{
	PL__STORE_PG(s, pl__store_pg_published_mark(s));
	return pl__store_meta_put(s, "published", "1");
}

int pl_store_published_marked(struct pl_store *s, bool *out)
{
	PL__STORE_PG(s, pl__store_pg_published_marked(s, out));
	char v[8];
	int ret = pl__store_meta_get(s, "published", v, sizeof(v));

	if (ret == 0 || ret == PL_ENOTFOUND) {
		*out = ret == 0;
		ret = 0;
	}
	return ret;
}

int pl_store_origin(struct pl_store *s, char out[static PL_ORIGIN_MAX + 1])
{
	PL__STORE_PG(s, pl__store_pg_origin(s, out));
	int ret = pl__store_meta_get(s, "origin", out, PL_ORIGIN_MAX + 1);

	return ret == PL_ENOTFOUND ? pl__sql_bad(&s->q, "store: no origin") : ret;
}

int pl_store_integrity_check(struct pl_store *s, void (*fn)(void *arg, const char *problem),
                             void *arg, size_t *n)
{
	PL__STORE_PG(s, pl__store_pg_integrity_check(s, fn, arg, n));
	const char *where = store_stmt_name[ST_INTEGRITY_CHECK];
	sqlite3_stmt *st;
	size_t k = 0;
	int rc, ret = pl__sql_stmt(&s->q, ST_INTEGRITY_CHECK, &st);

	if (ret)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (t && (strcmp(t, "ok") == 0 || strncmp(t, "*** in database ", 16) == 0))
			continue; /* nothing found; the heading of what follows */
		k++;
		if (fn)
			fn(arg, t ? t : "?");
	}
	if (rc != SQLITE_DONE)
		ret = pl__sql_fail(&s->q, where, rc);
	pl__sql_done(st);
	if (!ret)
		*n = k;
	return ret;
}

int pl_store_line_put(struct pl_store *s, const char *name, const char *text)
{
	PL__STORE_PG(s, pl__store_pg_line_put(s, name, text));
	char key[PL__STORE_META_KEY_MAX + 1];
	int ret = pl__store_meta_key(key, "line", name);

	if (!ret && (!text || strlen(text) > PL_LINE_TEXT_MAX))
		ret = PL_EINVAL;
	return ret ? ret : pl__store_meta_put(s, key, text);
}

int pl_store_line_get(struct pl_store *s, const char *name, struct pl_buf *text)
{
	PL__STORE_PG(s, pl__store_pg_line_get(s, name, text));
	char key[PL__STORE_META_KEY_MAX + 1], v[PL_LINE_TEXT_MAX + 1];
	int ret = pl__store_meta_key(key, "line", name);

	if (!ret && !text)
		ret = PL_EINVAL;
	if (!ret)
		ret = pl__store_meta_get(s, key, v, sizeof(v));
	if (!ret)
		ret = pl_buf_adds(text, v);
	return ret;
}

int pl_store_line_last_put(struct pl_store *s, const char *name, uint64_t index)
{
	PL__STORE_PG(s, pl__store_pg_line_last_put(s, name, index));
	char key[PL__STORE_META_KEY_MAX + 1], v[24];
	int ret = pl__store_meta_key(key, "last", name);

	if (!ret && index > INT64_MAX)
		ret = PL_EINVAL;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)index);
	return ret ? ret : pl__store_meta_put(s, key, v);
}

int pl_store_line_last_get(struct pl_store *s, const char *name, uint64_t *index)
{
	PL__STORE_PG(s, pl__store_pg_line_last_get(s, name, index));
	char key[PL__STORE_META_KEY_MAX + 1], v[24];
	uint64_t n;
	int ret = pl__store_meta_key(key, "last", name);

	if (!ret && !index)
		ret = PL_EINVAL;
	if (!ret)
		ret = pl__store_meta_get(s, key, v, sizeof(v));
	if (!ret && pl_parse_u64(&n, v, strlen(v), INT64_MAX) != 0)
		ret = pl__sql_bad(&s->q, "store: line %s: last check out of shape", name);
	if (!ret)
		*index = n;
	return ret;
}

/* ---- Records ---- */

int pl_store_record_put(struct pl_store *s, const struct pl_store_record *rec, const char *note,
                        size_t len)
{
	PL__STORE_PG(s, pl__store_pg_record_put(s, rec, note, len));
	sqlite3_stmt *st;
	uint64_t count, found;
	int ret;

	if (!rec || !note || len > INT32_MAX || !store_u64_fits(rec->seq))
		return PL_EINVAL;
	ret = pl_store_record_count(s, &count);
	if (ret)
		return ret;
	if (rec->index != count)
		return PL_EINVAL;
	ret = pl_store_record_find(s, rec->id, &found);
	if (ret == 0)
		return PL_EEXIST;
	if (ret != PL_ENOTFOUND)
		return ret;
	ret = pl__sql_stmt(&s->q, ST_REC_PUT, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)rec->index);
	sqlite3_bind_int64(st, 2, store_prefix64(rec->id));
	sqlite3_bind_blob(st, 3, rec->id, PL_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rec->author, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)rec->seq);
	sqlite3_bind_text(st, 6, rec->kind, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, note, (int)len, SQLITE_STATIC);
	return pl__sql_exec(&s->q, ST_REC_PUT, st);
}

int pl_store_record_get(struct pl_store *s, uint64_t index, struct pl_store_record *rec,
                        struct pl_buf *note)
{
	PL__STORE_PG(s, pl__store_pg_record_get(s, index, rec, note));
	struct pl_store_record r;
	enum store_stmt which = note ? ST_REC_GET : ST_REC_GET_META;
	const char *where = store_stmt_name[which];
	sqlite3_stmt *st;
	int rc, ret;

	if (!store_u64_fits(index))
		return PL_ENOTFOUND;
	ret = pl__sql_stmt(&s->q, which, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = PL_ENOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = pl__sql_fail(&s->q, where, rc);
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.index = index;
	ret = pl__sql_col_exact(&s->q, st, 0, r.id, PL_HASH_BYTES, where);
	if (!ret)
		ret = pl__sql_col_text(&s->q, st, 1, r.author, sizeof(r.author), where);
	if (!ret)
		ret = pl__sql_col_u64(&s->q, st, 2, &r.seq, where);
	if (!ret)
		ret = pl__sql_col_text(&s->q, st, 3, r.kind, sizeof(r.kind), where);
	if (ret)
		goto out;
	if (note) {
		const void *b = sqlite3_column_blob(st, 4);
		int n = sqlite3_column_bytes(st, 4);
		if (!b || n <= 0) {
			pl__sql_bad(&s->q, "store: empty record %llu", (unsigned long long)index);
			ret = PL_ESTORE;
			goto out;
		}
		ret = pl_buf_add(note, b, (size_t)n);
		if (ret)
			goto out;
	}
	if (rec)
		*rec = r;
out:
	pl__sql_done(st);
	return ret;
}

/*
 * Runs statement k, which selects rows by the 8-byte prefix of hash with the
 * full hash in column 1, up to the row whose full hash is hash: the prefix
 * may collide. Returns 0 with *st on that row (pl__sql_done() it), or
 * PL_ENOTFOUND or a store error with *st done.
 */
static int store_find_hash(struct pl_store *s, enum store_stmt k,
                           const uint8_t hash[static PL_HASH_BYTES], sqlite3_stmt **st)
{
	const char *where = store_stmt_name[k];
	uint8_t got[PL_HASH_BYTES];
	int rc, ret = pl__sql_stmt(&s->q, k, st);

	if (ret)
		return ret;
	sqlite3_bind_int64(*st, 1, store_prefix64(hash));
	while ((rc = sqlite3_step(*st)) == SQLITE_ROW) {
		ret = pl__sql_col_exact(&s->q, *st, 1, got, PL_HASH_BYTES, where);
		if (ret || memcmp(got, hash, PL_HASH_BYTES) == 0)
			break;
	}
	if (rc != SQLITE_ROW)
		ret = rc == SQLITE_DONE ? PL_ENOTFOUND : pl__sql_fail(&s->q, where, rc);
	if (ret)
		pl__sql_done(*st);
	return ret;
}

int pl_store_record_find(struct pl_store *s, const uint8_t id[static PL_HASH_BYTES],
                         uint64_t *index)
{
	PL__STORE_PG(s, pl__store_pg_record_find(s, id, index));
	sqlite3_stmt *st;
	uint64_t idx;
	int ret = store_find_hash(s, ST_REC_FIND, id, &st);

	if (ret)
		return ret;
	ret = pl__sql_col_u64(&s->q, st, 0, &idx, store_stmt_name[ST_REC_FIND]);
	if (!ret)
		*index = idx;
	pl__sql_done(st);
	return ret;
}

/* True when the first nbits bits of a and b agree. */
static bool store_bits_equal(const uint8_t *a, const uint8_t *b, unsigned nbits)
{
	unsigned full = nbits / 8, rest = nbits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00u >> rest);
		return (a[full] & mask) == (b[full] & mask);
	}
	return true;
}

int pl_store_record_find_prefix(struct pl_store *s, const uint8_t *prefix, unsigned nbits,
                                uint64_t *out, size_t max, size_t *n)
{
	PL__STORE_PG(s, pl__store_pg_record_find_prefix(s, prefix, nbits, out, max, n));
	const char *where = store_stmt_name[ST_REC_RANGE];
	uint8_t lo[8] = {0}, hi[8], got[PL_HASH_BYTES];
	sqlite3_stmt *st;
	uint64_t idx;
	size_t matches = 0;
	unsigned k = nbits < 64 ? nbits : 64;
	int rc, ret;

	if (!prefix || nbits < 32 || nbits > 256 || !out || !n)
		return PL_EINVAL;
	/* The id range sharing the first k bits, as idpfx bounds. */
	memcpy(lo, prefix, (k + 7) / 8);
	if (k % 8)
		lo[k / 8] &= (uint8_t)(0xff00u >> (k % 8));
	memcpy(hi, lo, 8);
	for (unsigned b = k; b < 64; b++)
		hi[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	ret = pl__sql_stmt(&s->q, ST_REC_RANGE, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, store_prefix64(lo));
	sqlite3_bind_int64(st, 2, store_prefix64(hi));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = pl__sql_col_u64(&s->q, st, 0, &idx, where);
		if (!ret)
			ret = pl__sql_col_exact(&s->q, st, 1, got, PL_HASH_BYTES, where);
		if (ret)
			goto out;
		if (!store_bits_equal(got, prefix, nbits))
			continue;
		if (matches == max) {
			ret = PL_ETOOBIG;
			goto out;
		}
		out[matches++] = idx;
	}
	if (rc != SQLITE_DONE) {
		ret = pl__sql_fail(&s->q, where, rc);
		goto out;
	}
	*n = matches;
out:
	pl__sql_done(st);
	return ret;
}

/* The last integer key of a table plus one (0 when empty), from a "... DESC LIMIT 1" query. */
static int store_next_key(struct pl_store *s, enum store_stmt which, uint64_t *count)
{
	sqlite3_stmt *st;
	uint64_t v;
	int rc, ret = pl__sql_stmt(&s->q, which, &st);

	if (ret)
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		*count = 0;
	} else if (rc == SQLITE_ROW) {
		ret = pl__sql_col_u64(&s->q, st, 0, &v, store_stmt_name[which]);
		if (!ret)
			*count = v + 1;
	} else {
		ret = pl__sql_fail(&s->q, store_stmt_name[which], rc);
	}
	pl__sql_done(st);
	return ret;
}

int pl_store_record_count(struct pl_store *s, uint64_t *count)
{
	PL__STORE_PG(s, pl__store_pg_record_count(s, count));
	return store_next_key(s, ST_REC_COUNT, count);
}

int pl_store_ref_put(struct pl_store *s, uint64_t from, uint64_t to)
{
	PL__STORE_PG(s, pl__store_pg_ref_put(s, from, to));
	sqlite3_stmt *st;
	int ret;

	if (!store_u64_fits(from) || !store_u64_fits(to))
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, ST_REF_PUT, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)to);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)from);
	return pl__sql_exec(&s->q, ST_REF_PUT, st);
}

/* Collects the first integer column of a query into out[0..max); PL_ETOOBIG past max. */
static int store_collect(struct pl_store *s, enum store_stmt which, sqlite3_stmt *st, uint64_t *out,
                         size_t max, size_t *n)
{
	size_t k = 0;
	uint64_t v;
	int rc, ret = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == max) {
			ret = PL_ETOOBIG;
			goto out;
		}
		ret = pl__sql_col_u64(&s->q, st, 0, &v, store_stmt_name[which]);
		if (ret)
			goto out;
		out[k++] = v;
	}
	if (rc != SQLITE_DONE) {
		ret = pl__sql_fail(&s->q, store_stmt_name[which], rc);
		goto out;
	}
	*n = k;
out:
	pl__sql_done(st);
	return ret;
}

/*
 * Prepares which, a query of the records that refer to to, with to and limit bound; max
 * (limit is max or max + 1) must fit in an INT32.
 */
static int store_ref_query(struct pl_store *s, enum store_stmt which, uint64_t to, size_t max,
                           uint64_t limit, sqlite3_stmt **st)
{
	int ret;

	if (!store_u64_fits(to) || max > INT32_MAX)
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, which, st);
	if (ret)
		return ret;
	sqlite3_bind_int64(*st, 1, (sqlite3_int64)to);
	sqlite3_bind_int64(*st, 2, (sqlite3_int64)limit);
	return 0;
}

int pl_store_ref_count(struct pl_store *s, uint64_t to, size_t max, size_t *n)
{
	PL__STORE_PG(s, pl__store_pg_ref_count(s, to, max, n));
	sqlite3_stmt *st;
	uint64_t v = 0;
	int ret;

	ret = store_ref_query(s, ST_REF_COUNT, to, max, max, &st);
	if (ret)
		return ret;
	ret = pl__sql_row(&s->q, ST_REF_COUNT, st);
	if (!ret)
		ret = pl__sql_col_u64(&s->q, st, 0, &v, store_stmt_name[ST_REF_COUNT]);
	pl__sql_done(st);
	if (!ret && v > max)
		ret = pl__sql_bad(&s->q, "%s: count out of range", store_stmt_name[ST_REF_COUNT]);
	if (!ret)
		*n = (size_t)v;
	return ret;
}

int pl_store_referrers(struct pl_store *s, uint64_t to, uint64_t *out, size_t max, size_t *n)
{
	PL__STORE_PG(s, pl__store_pg_referrers(s, to, out, max, n));
	sqlite3_stmt *st;
	int ret;

	ret = store_ref_query(s, ST_REF_LIST, to, max, (uint64_t)max + 1, &st);
	if (ret)
		return ret;
	return store_collect(s, ST_REF_LIST, st, out, max, n);
}

/* ---- Chain heads ---- */

int pl_store_head_get(struct pl_store *s, const char *author, uint64_t *seq, uint64_t *index)
{
	PL__STORE_PG(s, pl__store_pg_head_get(s, author, seq, index));
	const char *where = store_stmt_name[ST_HEAD_GET];
	sqlite3_stmt *st;
	uint64_t q, i;
	int rc, ret = pl__sql_stmt(&s->q, ST_HEAD_GET, &st);

	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = pl__sql_col_u64(&s->q, st, 0, &q, where);
		if (!ret)
			ret = pl__sql_col_u64(&s->q, st, 1, &i, where);
		if (!ret) {
			*seq = q;
			*index = i;
		}
	} else if (rc == SQLITE_DONE) {
		ret = PL_ENOTFOUND;
	} else {
		ret = pl__sql_fail(&s->q, where, rc);
	}
	pl__sql_done(st);
	return ret;
}

int pl_store_head_set(struct pl_store *s, const char *author, uint64_t seq, uint64_t index)
{
	PL__STORE_PG(s, pl__store_pg_head_set(s, author, seq, index));
	sqlite3_stmt *st;
	int ret;

	if (!store_u64_fits(seq) || !store_u64_fits(index))
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, ST_HEAD_SET, &st);
	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)index);
	return pl__sql_exec(&s->q, ST_HEAD_SET, st);
}

/* ---- Stored hashes ---- */

int pl_store_hashes_put(struct pl_store *s, uint64_t first, const uint8_t (*hashes)[PL_HASH_BYTES],
                        size_t n)
{
	PL__STORE_PG(s, pl__store_pg_hashes_put(s, first, hashes, n));
	sqlite3_stmt *st;
	int ret;

	if (n && (!hashes || first > (uint64_t)INT64_MAX - n))
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, ST_HASH_PUT, &st);
	for (size_t i = 0; !ret && i < n; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(first + i));
		sqlite3_bind_blob(st, 2, hashes[i], PL_HASH_BYTES, SQLITE_STATIC);
		ret = pl__sql_exec(&s->q, ST_HASH_PUT, st);
	}
	return ret;
}

int pl_store_hashes_get(struct pl_store *s, const uint64_t *indexes, size_t n,
                        uint8_t (*hashes)[PL_HASH_BYTES])
{
	PL__STORE_PG(s, pl__store_pg_hashes_get(s, indexes, n, hashes));
	const char *where = store_stmt_name[ST_HASH_GET];
	sqlite3_stmt *st;
	int rc, ret = pl__sql_stmt(&s->q, ST_HASH_GET, &st);

	for (size_t i = 0; !ret && i < n; i++) {
		if (!store_u64_fits(indexes[i]))
			return PL_ENOTFOUND;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)indexes[i]);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			ret = pl__sql_col_exact(&s->q, st, 0, hashes[i], PL_HASH_BYTES, where);
		else if (rc == SQLITE_DONE)
			ret = PL_ENOTFOUND;
		else
			ret = pl__sql_fail(&s->q, where, rc);
		pl__sql_done(st);
	}
	return ret;
}

int pl_store_hashes_count(struct pl_store *s, uint64_t *count)
{
	PL__STORE_PG(s, pl__store_pg_hashes_count(s, count));
	return store_next_key(s, ST_HASH_COUNT, count);
}

static int store_tlog_read(void *ctx, const uint64_t *indexes, size_t n,
                           uint8_t (*hashes)[PL_HASH_BYTES])
{
	return pl_store_hashes_get(ctx, indexes, n, hashes);
}

struct pl_tlog_reader pl_store_tlog_reader(struct pl_store *s)
{
	struct pl_tlog_reader r = {.read = store_tlog_read, .ctx = s};
	return r;
}

/* ---- Checkpoints ---- */

/* Runs a checkpoint write (ST_CP_PUT or ST_CP_SET): size in ?1, the note in ?2. */
static int store_checkpoint_write(struct pl_store *s, enum store_stmt which, uint64_t size,
                                  const char *note, size_t len)
{
	sqlite3_stmt *st;
	int ret;

	if (!note || !len || len > INT32_MAX || !store_u64_fits(size))
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, which, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	sqlite3_bind_blob(st, 2, note, (int)len, SQLITE_STATIC);
	return pl__sql_exec(&s->q, which, st);
}

/*
 * Steps a checkpoint query (columns: size, note) and takes its one row:
 * PL_ENOTFOUND without one. Resets st.
 */
static int store_checkpoint_read(struct pl_store *s, enum store_stmt which, sqlite3_stmt *st,
                                 uint64_t *size_out, struct pl_buf *out)
{
	const char *where = store_stmt_name[which];
	uint64_t got;
	int rc, ret;

	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = PL_ENOTFOUND;
	} else if (rc != SQLITE_ROW) {
		ret = pl__sql_fail(&s->q, where, rc);
	} else {
		const void *b = sqlite3_column_blob(st, 1);
		int n = sqlite3_column_bytes(st, 1);
		ret = pl__sql_col_u64(&s->q, st, 0, &got, where);
		if (!ret && (!b || n <= 0)) {
			pl__sql_bad(&s->q, "store: empty checkpoint");
			ret = PL_ESTORE;
		}
		if (!ret && out)
			ret = pl_buf_add(out, b, (size_t)n);
		if (!ret && size_out)
			*size_out = got;
	}
	pl__sql_done(st);
	return ret;
}

int pl_store_checkpoint_put(struct pl_store *s, uint64_t size, const char *note, size_t len)
{
	PL__STORE_PG(s, pl__store_pg_checkpoint_put(s, size, note, len));
	return store_checkpoint_write(s, ST_CP_PUT, size, note, len);
}

int pl_store_checkpoint_get(struct pl_store *s, uint64_t size, uint64_t *size_out,
                            struct pl_buf *out)
{
	PL__STORE_PG(s, pl__store_pg_checkpoint_get(s, size, size_out, out));
	enum store_stmt which = size == PL_STORE_LATEST ? ST_CP_LATEST : ST_CP_GET;
	sqlite3_stmt *st;
	int ret;

	if (size != PL_STORE_LATEST && !store_u64_fits(size))
		return PL_ENOTFOUND;
	ret = pl__sql_stmt(&s->q, which, &st);
	if (ret)
		return ret;
	if (which == ST_CP_GET)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	return store_checkpoint_read(s, which, st, size_out, out);
}

int pl_store_checkpoint_cosign(struct pl_store *s, uint64_t size, const char *note, size_t len)
{
	PL__STORE_PG(s, pl__store_pg_checkpoint_cosign(s, size, note, len));
	sqlite3_stmt *st;
	int ret;

	ret = store_checkpoint_write(s, ST_CP_SET, size, note, len);
	if (!ret && sqlite3_changes(s->q.db) != 1)
		ret = PL_ENOTFOUND;
	if (!ret)
		ret = pl__sql_stmt(&s->q, ST_CP_COSIGNED_SET, &st);
	if (!ret) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
		ret = pl__sql_exec(&s->q, ST_CP_COSIGNED_SET, st);
	}
	return ret;
}

int pl_store_checkpoint_cosigned(struct pl_store *s, uint64_t *size_out, struct pl_buf *out)
{
	PL__STORE_PG(s, pl__store_pg_checkpoint_cosigned(s, size_out, out));
	sqlite3_stmt *st;
	int ret;

	ret = pl__sql_stmt(&s->q, ST_CP_COSIGNED, &st);
	if (ret)
		return ret;
	return store_checkpoint_read(s, ST_CP_COSIGNED, st, size_out, out);
}

int pl_store_payload_each(struct pl_store *s,
                          int (*fn)(void *arg, const uint8_t *hash, size_t hash_len,
                                    const uint8_t *blob, size_t len),
                          void *arg)
{
	PL__STORE_PG(s, pl__store_pg_payload_each(s, fn, arg));
	sqlite3_stmt *st;
	int rc, ret = pl__sql_stmt(&s->q, ST_PAY_EACH, &st);

	if (ret)
		return ret;
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = fn(arg, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
		         sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
	if (!ret && rc != SQLITE_DONE)
		ret = pl__sql_fail(&s->q, store_stmt_name[ST_PAY_EACH], rc);
	pl__sql_done(st);
	return ret;
}

/* ---- Inboxes ---- */

int pl_store_inbox_put(struct pl_store *s, int64_t pid, uint64_t index)
{
	PL__STORE_PG(s, pl__store_pg_inbox_put(s, pid, index));
	sqlite3_stmt *st;
	int ret;

	if (pid < 0 || !store_u64_fits(index))
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, ST_INBOX_PUT, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
	return pl__sql_exec(&s->q, ST_INBOX_PUT, st);
}

/* One pid's inbox indexes >= after, at most max. */
static int store_inbox_one(struct pl_store *s, int64_t pid, uint64_t after, uint64_t *out,
                           size_t max, size_t *n)
{
	sqlite3_stmt *st;
	int ret = pl__sql_stmt(&s->q, ST_INBOX_LIST, &st);

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	return store_collect(s, ST_INBOX_LIST, st, out, max, n);
}

int pl_store_inbox_before(struct pl_store *s, int64_t pid, uint64_t before, uint64_t *out,
                          size_t max, size_t *n)
{
	PL__STORE_PG(s, pl__store_pg_inbox_before(s, pid, before, out, max, n));
	sqlite3_stmt *st;
	int ret;

	if (pid < 0 || max > INT32_MAX || !store_u64_fits(before))
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, ST_INBOX_BEFORE, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)before);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	return store_collect(s, ST_INBOX_BEFORE, st, out, max, n);
}

int pl_store_inbox_list(struct pl_store *s, int64_t pid, bool with_public, uint64_t after,
                        uint64_t *out, size_t max, size_t *n)
{
	PL__STORE_PG(s, pl__store_pg_inbox_list(s, pid, with_public, after, out, max, n));
	uint64_t *pub = NULL;
	size_t na = 0, nb = 0, i = 0, j = 0, k = 0;
	int ret;

	if (pid < 0 || max > INT32_MAX || !store_u64_fits(after))
		return PL_EINVAL;
	ret = store_inbox_one(s, pid, after, out, max, &na);
	if (ret || !with_public || pid == PL_STORE_PUBLIC || max == 0) {
		if (!ret)
			*n = na;
		return ret;
	}
	/* Two index range scans merged here beat one scan with a sort. */
	pub = malloc(max * sizeof(*pub));
	if (!pub)
		return PL_ENOMEM;
	ret = store_inbox_one(s, PL_STORE_PUBLIC, after, pub, max, &nb);
	if (ret)
		goto out;
	{
		uint64_t *own = malloc((na ? na : 1) * sizeof(*own));
		if (!own) {
			ret = PL_ENOMEM;
			goto out;
		}
		memcpy(own, out, na * sizeof(*own));
		while (k < max && (i < na || j < nb)) {
			if (j >= nb || (i < na && own[i] < pub[j]))
				out[k++] = own[i++];
			else if (i < na && own[i] == pub[j])
				out[k++] = own[i++], j++;
			else
				out[k++] = pub[j++];
		}
		free(own);
	}
	*n = k;
out:
	free(pub);
	return ret;
}

/* ---- Payloads ---- */

/* Finds a payload's rowid, size and (if info is not NULL) what is kept about it, by hash. */
static int store_payload_find(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                              int64_t *rowid, size_t *len, struct pl_store_payload *info)
{
	const char *where = store_stmt_name[ST_PAY_FIND];
	struct pl_store_payload p;
	sqlite3_stmt *st;
	uint64_t id, n, referred;
	int ret = store_find_hash(s, ST_PAY_FIND, hash, &st);

	if (ret)
		return ret;
	memset(&p, 0, sizeof(p));
	ret = pl__sql_col_u64(&s->q, st, 0, &id, where);
	if (!ret)
		ret = pl__sql_col_u64(&s->q, st, 2, &n, where);
	if (!ret && info && sqlite3_column_type(st, 3) != SQLITE_NULL)
		ret = pl__sql_col_text(&s->q, st, 3, p.uploader, sizeof(p.uploader), where);
	if (!ret && info)
		ret = pl__sql_col_u64(&s->q, st, 5, &referred, where);
	if (!ret && info) {
		p.len = (size_t)n;
		p.stored = sqlite3_column_int64(st, 4);
		p.referred = referred != 0;
		p.ref_index = referred >= 2 ? (int64_t)(referred - 2) : -1;
		*info = p;
	}
	if (!ret) {
		*rowid = (int64_t)id;
		*len = (size_t)n;
	}
	pl__sql_done(st);
	return ret;
}

int pl_store_payload_put(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                         const uint8_t *blob, size_t len, const char *uploader, int64_t now)
{
	PL__STORE_PG(s, pl__store_pg_payload_put(s, hash, blob, len, uploader, now));
	struct pl_store_payload info;
	sqlite3_stmt *st;
	int64_t rowid;
	size_t n;
	int ret;

	if (!blob || len > INT32_MAX || !uploader || !*uploader ||
	    strlen(uploader) > PL_STORE_NAME_MAX)
		return PL_EINVAL;
	ret = store_payload_find(s, hash, &rowid, &n, &info);
	if (ret == 0) {
		/* Its uploader storing it again before any record refers to it: a fresh start. */
		if (info.referred || strcmp(info.uploader, uploader) != 0)
			return 0;
		ret = pl__sql_stmt(&s->q, ST_PAY_TOUCH, &st);
		if (ret)
			return ret;
		sqlite3_bind_int64(st, 1, rowid);
		sqlite3_bind_int64(st, 2, now);
		return pl__sql_exec(&s->q, ST_PAY_TOUCH, st);
	}
	if (ret != PL_ENOTFOUND)
		return ret;
	ret = pl__sql_stmt(&s->q, ST_PAY_PUT, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, store_prefix64(hash));
	sqlite3_bind_blob(st, 2, hash, PL_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, uploader, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)len);
	return pl__sql_exec(&s->q, ST_PAY_PUT, st);
}

int pl_store_payload_info(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                          struct pl_store_payload *info)
{
	PL__STORE_PG(s, pl__store_pg_payload_info(s, hash, info));
	int64_t rowid;
	size_t n;

	if (!info)
		return PL_EINVAL;
	return store_payload_find(s, hash, &rowid, &n, info);
}

int pl_store_payload_refer(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                           uint64_t index)
{
	PL__STORE_PG(s, pl__store_pg_payload_refer(s, hash, index));
	sqlite3_stmt *st;
	int ret;

	if (index > (uint64_t)INT64_MAX - 2)
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, ST_PAY_REFER, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, store_prefix64(hash));
	sqlite3_bind_blob(st, 2, hash, PL_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)(index + 2));
	return pl__sql_exec(&s->q, ST_PAY_REFER, st);
}

int pl_store_payload_pending(struct pl_store *s, const char *uploader, uint64_t *bytes)
{
	PL__STORE_PG(s, pl__store_pg_payload_pending(s, uploader, bytes));
	const char *where = store_stmt_name[ST_PAY_PENDING];
	sqlite3_stmt *st;
	uint64_t v = 0;
	int rc, ret;

	if (!uploader || !bytes)
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, ST_PAY_PENDING, &st);
	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, uploader, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = pl__sql_col_u64(&s->q, st, 0, &v, where);
	else if (rc != SQLITE_DONE)
		ret = pl__sql_fail(&s->q, where, rc);
	if (!ret)
		*bytes = v;
	pl__sql_done(st);
	return ret;
}

int pl_store_payload_expire(struct pl_store *s, int64_t before, size_t max, size_t *n)
{
	PL__STORE_PG(s, pl__store_pg_payload_expire(s, before, max, n));
	sqlite3_stmt *st;
	int ret;

	if (!n || max > INT32_MAX)
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, ST_PAY_EXPIRE, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	ret = pl__sql_exec(&s->q, ST_PAY_EXPIRE, st);
	if (!ret)
		*n = (size_t)sqlite3_changes(s->q.db);
	return ret;
}

int pl_store_payload_get(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                         uint8_t **blob, size_t *len)
{
	PL__STORE_PG(s, pl__store_pg_payload_get(s, hash, blob, len));
	const char *where = store_stmt_name[ST_PAY_GET];
	sqlite3_stmt *st;
	int64_t rowid;
	size_t n;
	uint8_t *copy;
	int rc, ret = store_payload_find(s, hash, &rowid, &n, NULL);

	if (ret || !blob) {
		if (!ret)
			*len = n;
		return ret;
	}
	ret = pl__sql_stmt(&s->q, ST_PAY_GET, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, rowid);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ret = pl__sql_fail(&s->q, where, rc);
		goto out;
	}
	n = (size_t)sqlite3_column_bytes(st, 0);
	copy = malloc(n ? n : 1);
	if (!copy) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (n)
		memcpy(copy, sqlite3_column_blob(st, 0), n);
	*blob = copy;
	*len = n;
out:
	pl__sql_done(st);
	return ret;
}

/* ---- Timers ---- */

int pl_store_timer_put(struct pl_store *s, uint64_t index, int64_t due)
{
	PL__STORE_PG(s, pl__store_pg_timer_put(s, index, due));
	sqlite3_stmt *st;
	int ret;

	if (!store_u64_fits(index))
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, ST_TIMER_PUT, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, due);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
	return pl__sql_exec(&s->q, ST_TIMER_PUT, st);
}

int pl_store_timer_del(struct pl_store *s, uint64_t index)
{
	PL__STORE_PG(s, pl__store_pg_timer_del(s, index));
	sqlite3_stmt *st;
	int ret;

	if (!store_u64_fits(index))
		return 0;
	ret = pl__sql_stmt(&s->q, ST_TIMER_DEL, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
	return pl__sql_exec(&s->q, ST_TIMER_DEL, st);
}

int pl_store_timer_get(struct pl_store *s, uint64_t index, int64_t *due)
{
	PL__STORE_PG(s, pl__store_pg_timer_get(s, index, due));
	sqlite3_stmt *st;
	int ret;

	if (!due)
		return PL_EINVAL;
	if (!store_u64_fits(index))
		return PL_ENOTFOUND;
	ret = pl__sql_stmt(&s->q, ST_TIMER_GET, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
	ret = pl__sql_row(&s->q, ST_TIMER_GET, st);
	if (!ret)
		*due = sqlite3_column_int64(st, 0);
	pl__sql_done(st);
	return ret;
}

int pl_store_timer_due(struct pl_store *s, int64_t now, uint64_t *out, size_t max, size_t *n)
{
	PL__STORE_PG(s, pl__store_pg_timer_due(s, now, out, max, n));
	sqlite3_stmt *st;
	int ret;

	if (max > INT32_MAX)
		return PL_EINVAL;
	ret = pl__sql_stmt(&s->q, ST_TIMER_DUE, &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	return store_collect(s, ST_TIMER_DUE, st, out, max, n);
}
