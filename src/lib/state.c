/* A client's local state: one SQLite file, prepared statements only, every row read back checked.
 */
#include <parley/state.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include <parley/party.h>
#include <parley/record.h>

#include "internal.h"
#include "sqlite.h"

#define SCHEMA_VERSION  2
#define BUSY_TIMEOUT_MS 5000

/* Every statement the state runs, prepared once per connection (sqlite.h). */
#define STATE_STATEMENTS(X)                                                                     \
	X(ST_VERSION, "PRAGMA user_version")                                                    \
	X(ST_CP_GET, "SELECT size, root, note, seen, seen_from FROM checkpoint WHERE "          \
	             "origin = ?1")                                                             \
	X(ST_CP_PUT, "INSERT INTO checkpoint(origin, size, root, note, seen, seen_from) "       \
	             "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(origin) DO UPDATE SET "        \
	             "size = excluded.size, root = excluded.root, note = excluded.note, "       \
	             "seen = excluded.seen, seen_from = excluded.seen_from WHERE "              \
	             "excluded.size > checkpoint.size")                                         \
	X(ST_HEAD_GET, "SELECT seq, id, time FROM head WHERE origin = ?1 AND party = ?2")       \
	X(ST_HEAD_DEL, "DELETE FROM head WHERE origin = ?1 AND party = ?2")                     \
	X(ST_HEAD_FORCE, "INSERT INTO head(origin, party, seq, id, time) VALUES(?1, ?2, ?3, "   \
	                 "?4, ?5) ON CONFLICT(origin, party) DO UPDATE SET seq = "              \
	                 "excluded.seq, id = excluded.id, time = excluded.time")                \
	X(ST_HEAD_PUT, "INSERT INTO head(origin, party, seq, id, time) VALUES(?1, ?2, ?3, "     \
	               "?4, ?5) ON CONFLICT(origin, party) DO UPDATE SET seq = "                \
	               "excluded.seq, id = excluded.id, time = excluded.time WHERE "            \
	               "excluded.seq > head.seq")                                               \
	X(ST_CURSOR_GET, "SELECT value FROM cursor WHERE origin = ?1 AND party = ?2 AND name "  \
	                 "= ?3")                                                                \
	X(ST_CURSOR_PUT, "INSERT INTO cursor(origin, party, name, value) VALUES(?1, ?2, ?3, "   \
	                 "?4) ON CONFLICT(origin, party, name) DO UPDATE SET value = "          \
	                 "excluded.value")                                                      \
	X(ST_OPENED_PUT, "INSERT OR REPLACE INTO opened(origin, party, id, plaintext, salt) "   \
	                 "VALUES(?1, ?2, ?3, ?4, ?5)")                                          \
	X(ST_OPENED_GET, "SELECT plaintext, salt FROM opened WHERE origin = ?1 AND party = ?2 " \
	                 "AND id = ?3")                                                         \
	X(ST_ACT_PUT, "INSERT OR IGNORE INTO act(origin, party, subject, kind, act) "           \
	              "VALUES(?1, ?2, ?3, ?4, ?5)")                                             \
	X(ST_ACT_GET, "SELECT act FROM act WHERE origin = ?1 AND party = ?2 AND subject = "     \
	              "?3 AND kind = ?4")                                                       \
	X(ST_REC_PUT, "INSERT OR IGNORE INTO record(origin, id, idx, text) VALUES(?1, ?2, "     \
	              "?3, ?4)")                                                                \
	X(ST_REC_GET, "SELECT idx, text FROM record WHERE origin = ?1 AND id = ?2")

enum state_stmt { STATE_STATEMENTS(PL__SQL_ENUM) ST_COUNT };

static const char *const state_sql[] = {STATE_STATEMENTS(PL__SQL_TEXT)};

static const char *const state_stmt_name[] = {STATE_STATEMENTS(PL__SQL_NAME)};

struct pl_state {
	struct pl__sql q;      /* the connection, its statements (state_sql), its errors */
	enum state_stmt which; /* the statement in use, named in its failure */
	char origin[PL_RECORD_ORIGIN_MAX + 1];
	char party[PL_PARTY_NAME_MAX + 1];
};

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS checkpoint("
        " origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL,"
        " note BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS head("
        " origin TEXT NOT NULL, party TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL,"
        " time INTEGER NOT NULL, PRIMARY KEY(origin, party));"
        "CREATE TABLE IF NOT EXISTS cursor("
        " origin TEXT NOT NULL, party TEXT NOT NULL, name TEXT NOT NULL,"
        " value INTEGER NOT NULL, PRIMARY KEY(origin, party, name));"
        "CREATE TABLE IF NOT EXISTS opened("
        " origin TEXT NOT NULL, party TEXT NOT NULL, id BLOB NOT NULL,"
        " plaintext BLOB NOT NULL, salt BLOB NOT NULL, PRIMARY KEY(origin, party, id));"
        "CREATE TABLE IF NOT EXISTS act("
        " origin TEXT NOT NULL, party TEXT NOT NULL, subject BLOB NOT NULL, kind TEXT NOT NULL,"
        " act BLOB NOT NULL, PRIMARY KEY(origin, party, subject, kind));"
        "CREATE TABLE IF NOT EXISTS record("
        " origin TEXT NOT NULL, id BLOB NOT NULL, idx INTEGER NOT NULL, text BLOB NOT NULL,"
        " PRIMARY KEY(origin, id));";

/*
 * Schema 1 to 2 (and a new file, made by the schema above, likewise): when
 * and from where the pinned checkpoint was received, for the evidence of two
 * histories. A checkpoint pinned before has neither (0, "").
 */
static const char migrate_2[] =
        "ALTER TABLE checkpoint ADD COLUMN seen INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE checkpoint ADD COLUMN seen_from TEXT NOT NULL DEFAULT '';";

/* Statement which, bound to nothing yet. Returns 0 or PL_ESTORE. */
static int prepare(struct pl_state *s, sqlite3_stmt **st, enum state_stmt which)
{
	s->which = which;
	return pl__sql_stmt(&s->q, which, st);
}

/* Binds the scope (origin, party) to parameters 1 and 2. */
static int bind_scope(struct pl_state *s, sqlite3_stmt *st)
{
	int rc = sqlite3_bind_text(st, 1, s->origin, -1, SQLITE_STATIC);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, s->party, -1, SQLITE_STATIC);
	return rc == SQLITE_OK ? 0 : pl__sql_fail(&s->q, state_stmt_name[s->which], rc);
}

/* Prepares which and binds the scope: the statements of one party's rows. */
static int prepare_scoped(struct pl_state *s, sqlite3_stmt **st, enum state_stmt which)
{
	int ret = prepare(s, st, which);

	return ret ? ret : bind_scope(s, *st);
}

/* Runs the statement in use, which returns no row. */
static int step_done(struct pl_state *s, sqlite3_stmt *st)
{
	return pl__sql_exec(&s->q, s->which, st);
}

/* Runs a write whose parameters bound (bound) or fails as the store: one ending for every put. */
static int step_bound(struct pl_state *s, sqlite3_stmt *st, bool bound)
{
	return bound ? step_done(s, st)
	             : pl__sql_bad(&s->q, "state: cannot bind %s", state_stmt_name[s->which]);
}

/* Runs the statement in use for at most one row: 0 (a row), PL_ENOTFOUND or PL_ESTORE. */
static int step_row(struct pl_state *s, sqlite3_stmt *st)
{
	return pl__sql_row(&s->q, s->which, st);
}

/* Checked column readers (sqlite.h), naming the statement in use. */
static int column_exact(struct pl_state *s, sqlite3_stmt *st, int col, uint8_t *out, size_t n)
{
	return pl__sql_col_exact(&s->q, st, col, out, n, state_stmt_name[s->which]);
}

static int column_blob(struct pl_state *s, sqlite3_stmt *st, int col, size_t min, size_t max,
                       const void **p, size_t *n)
{
	return pl__sql_col_blob(&s->q, st, col, min, max, p, n, state_stmt_name[s->which]);
}

static int column_u64(struct pl_state *s, sqlite3_stmt *st, int col, uint64_t *out)
{
	return pl__sql_col_u64(&s->q, st, col, out, state_stmt_name[s->which]);
}

/* Creates the file 0600 if missing, without following a symbolic link. */
static int create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return PL_EIO;
	close(fd);
	return 0;
}

int pl_state_open(struct pl_state **out, const char *path, const char *origin, const char *party)
{
	struct pl_state *s = NULL;
	sqlite3_stmt *st = NULL;
	size_t olen, plen;
	uint64_t version = 0;
	int ret = 0;

	if (!out || !path || !origin || !party) {
		ret = PL_EINVAL;
		goto out;
	}
	olen = strnlen(origin, PL_RECORD_ORIGIN_MAX + 1);
	plen = strnlen(party, PL_PARTY_NAME_MAX + 1);
	if (!pl_record_origin_is_valid(origin, olen) || !pl_party_name_is_valid(party, plen)) {
		ret = PL_EINVAL;
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		ret = PL_ENOMEM;
		goto out;
	}
	memcpy(s->origin, origin, olen + 1);
	memcpy(s->party, party, plen + 1);
	ret = create_private(path);
	if (ret)
		goto out;
	if (pl__sql_open(&s->q, path, true, BUSY_TIMEOUT_MS, state_sql, state_stmt_name,
	                 ST_COUNT) != 0) {
		ret = PL_EIO;
		goto out;
	}
	/* Not a database at all shows here, at the first read. */
	ret = prepare(s, &st, ST_VERSION);
	if (!ret)
		ret = step_row(s, st);
	if (!ret)
		ret = column_u64(s, st, 0, &version);
	pl__sql_done(st);
	st = NULL;
	if (ret) {
		ret = PL_ESTORE;
		goto out;
	}
	if (version > SCHEMA_VERSION) {
		ret = PL_ESTORE;
		goto out;
	}
	ret = pl__sql_script(&s->q, PL__SQL_PRAGMAS_DURABLE, "pragmas");
	if (!ret)
		ret = pl__sql_begin(&s->q, true);
	if (!ret)
		ret = pl__sql_script(&s->q, schema, "schema");
	if (!ret && version < 2)
		ret = pl__sql_script(&s->q, migrate_2, "migration 2");
	if (!ret)
		ret = pl__sql_script(&s->q, "PRAGMA user_version=2", "schema version");
	if (!ret)
		ret = pl__sql_commit(&s->q);
	if (ret) {
		pl__sql_rollback(&s->q);
		goto out;
	}
	*out = s;
	s = NULL;
out:
	pl_state_close(s);
	return ret;
}

void pl_state_close(struct pl_state *s)
{
	if (!s)
		return;
	pl__sql_close(&s->q);
	free(s);
}

void pl_state_checkpoint_release(struct pl_state_checkpoint *cp)
{
	if (!cp)
		return;
	free(cp->note);
	cp->note = NULL;
	cp->note_len = 0;
}

int pl_state_checkpoint_get(struct pl_state *s, struct pl_state_checkpoint *cp)
{
	sqlite3_stmt *st = NULL;
	struct pl_state_checkpoint c;
	const void *note;
	size_t n;
	int ret;

	memset(&c, 0, sizeof(c));
	ret = prepare(s, &st, ST_CP_GET);
	if (!ret && sqlite3_bind_text(st, 1, s->origin, -1, SQLITE_STATIC) != SQLITE_OK)
		ret = PL_ESTORE;
	if (!ret)
		ret = step_row(s, st);
	if (!ret)
		ret = column_u64(s, st, 0, &c.size);
	if (!ret)
		ret = column_exact(s, st, 1, c.root, PL_HASH_BYTES);
	if (!ret)
		ret = column_blob(s, st, 2, 1, PL_NOTE_MAX_BYTES, &note, &n);
	if (!ret) {
		const unsigned char *from = sqlite3_column_text(st, 4);
		int flen = sqlite3_column_bytes(st, 4);
		c.seen = sqlite3_column_int64(st, 3);
		if (sqlite3_column_type(st, 3) != SQLITE_INTEGER || c.seen < 0 || !from ||
		    flen < 0 || (size_t)flen >= sizeof(c.seen_from))
			ret = PL_ESTORE;
		else
			memcpy(c.seen_from, from, (size_t)flen + 1);
	}
	if (ret)
		goto out;
	c.note = malloc(n + 1);
	if (!c.note) {
		ret = PL_ENOMEM;
		goto out;
	}
	memcpy(c.note, note, n);
	c.note[n] = '\0';
	c.note_len = n;
	*cp = c;
out:
	pl__sql_done(st);
	return ret;
}

int pl_state_checkpoint_put(struct pl_state *s, uint64_t size,
                            const uint8_t root[static PL_HASH_BYTES], const char *note,
                            size_t note_len)
{
	return pl_state_checkpoint_put_seen(s, size, root, note, note_len, 0, "");
}

int pl_state_checkpoint_put_seen(struct pl_state *s, uint64_t size,
                                 const uint8_t root[static PL_HASH_BYTES], const char *note,
                                 size_t note_len, int64_t seen, const char *seen_from)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (!note || note_len == 0 || note_len > PL_NOTE_MAX_BYTES || size > INT64_MAX ||
	    seen < 0 || !seen_from || strlen(seen_from) > PL_PROFILE_URL_MAX) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = prepare(s, &st, ST_CP_PUT);
	if (!ret)
		ret = step_bound(
		        s, st,
		        sqlite3_bind_text(st, 1, s->origin, -1, SQLITE_STATIC) == SQLITE_OK &&
		                sqlite3_bind_int64(st, 2, (sqlite3_int64)size) == SQLITE_OK &&
		                sqlite3_bind_blob(st, 3, root, PL_HASH_BYTES, SQLITE_STATIC) ==
		                        SQLITE_OK &&
		                sqlite3_bind_blob(st, 4, note, (int)note_len, SQLITE_STATIC) ==
		                        SQLITE_OK &&
		                sqlite3_bind_int64(st, 5, seen) == SQLITE_OK &&
		                sqlite3_bind_text(st, 6, seen_from, -1, SQLITE_STATIC) ==
		                        SQLITE_OK);
out:
	pl__sql_done(st);
	return ret;
}

int pl_state_head_get(struct pl_state *s, struct pl_state_head *h)
{
	sqlite3_stmt *st = NULL;
	struct pl_state_head t;
	int ret;

	memset(&t, 0, sizeof(t));
	ret = prepare_scoped(s, &st, ST_HEAD_GET);
	if (!ret)
		ret = step_row(s, st);
	if (ret == PL_ENOTFOUND) {
		*h = t; /* no record yet */
		ret = 0;
		goto out;
	}
	if (!ret)
		ret = column_u64(s, st, 0, &t.seq);
	if (!ret)
		ret = column_exact(s, st, 1, t.id, PL_HASH_BYTES);
	if (ret)
		goto out;
	if (t.seq == 0 || sqlite3_column_type(st, 2) != SQLITE_INTEGER) {
		ret = PL_ESTORE;
		goto out;
	}
	t.time = sqlite3_column_int64(st, 2);
	*h = t;
out:
	pl__sql_done(st);
	return ret;
}

int pl_state_head_put(struct pl_state *s, const struct pl_state_head *h, bool force)
{
	enum state_stmt which;
	sqlite3_stmt *st = NULL;
	int ret;

	if (!h || (h->seq == 0 && !force) || h->seq > INT64_MAX) {
		ret = PL_EINVAL;
		goto out;
	}
	if (h->seq == 0) {
		ret = prepare_scoped(s, &st, ST_HEAD_DEL);
		if (!ret)
			ret = step_done(s, st);
		goto out;
	}
	which = force ? ST_HEAD_FORCE : ST_HEAD_PUT;
	ret = prepare_scoped(s, &st, which);
	if (!ret)
		ret = step_bound(s, st,
		                 sqlite3_bind_int64(st, 3, (sqlite3_int64)h->seq) == SQLITE_OK &&
		                         sqlite3_bind_blob(st, 4, h->id, PL_HASH_BYTES,
		                                           SQLITE_STATIC) == SQLITE_OK &&
		                         sqlite3_bind_int64(st, 5, h->time) == SQLITE_OK);
out:
	pl__sql_done(st);
	return ret;
}

static bool cursor_name_is_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, PL_STATE_CURSOR_NAME_MAX + 1);
	if (n == 0 || n > PL_STATE_CURSOR_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

int pl_state_cursor_get(struct pl_state *s, const char *name, uint64_t *cursor)
{
	sqlite3_stmt *st = NULL;
	uint64_t v = 0;
	int ret;

	if (!cursor_name_is_valid(name) || !cursor) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = prepare_scoped(s, &st, ST_CURSOR_GET);
	if (!ret && sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC) != SQLITE_OK)
		ret = PL_ESTORE;
	if (!ret)
		ret = step_row(s, st);
	if (!ret)
		ret = column_u64(s, st, 0, &v);
	else if (ret == PL_ENOTFOUND)
		ret = 0;
	if (!ret)
		*cursor = v;
out:
	pl__sql_done(st);
	return ret;
}

int pl_state_cursor_put(struct pl_state *s, const char *name, uint64_t cursor)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (!cursor_name_is_valid(name) || cursor > INT64_MAX) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = prepare_scoped(s, &st, ST_CURSOR_PUT);
	if (!ret)
		ret = step_bound(s, st,
		                 sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC) == SQLITE_OK &&
		                         sqlite3_bind_int64(st, 4, (sqlite3_int64)cursor) ==
		                                 SQLITE_OK);
out:
	pl__sql_done(st);
	return ret;
}

int pl_state_opened_put(struct pl_state *s, const uint8_t id[static PL_HASH_BYTES],
                        const uint8_t *plaintext, size_t len,
                        const uint8_t salt[static PL_HASH_BYTES])
{
	sqlite3_stmt *st = NULL;
	static const uint8_t empty[1];
	int ret;

	if (len > PL_BOX_MAX_BODY) {
		ret = PL_ETOOBIG;
		goto out;
	}
	ret = prepare_scoped(s, &st, ST_OPENED_PUT);
	/* A zero-length blob must still be a BLOB, not NULL: bind a real pointer. */
	if (!ret)
		ret = step_bound(
		        s, st,
		        sqlite3_bind_blob(st, 3, id, PL_HASH_BYTES, SQLITE_STATIC) == SQLITE_OK &&
		                sqlite3_bind_blob(st, 4, len ? plaintext : empty, (int)len,
		                                  SQLITE_STATIC) == SQLITE_OK &&
		                sqlite3_bind_blob(st, 5, salt, PL_HASH_BYTES, SQLITE_STATIC) ==
		                        SQLITE_OK);
out:
	pl__sql_done(st);
	return ret;
}

int pl_state_opened_get(struct pl_state *s, const uint8_t id[static PL_HASH_BYTES],
                        uint8_t **plaintext, size_t *len, uint8_t salt[static PL_HASH_BYTES])
{
	sqlite3_stmt *st = NULL;
	uint8_t salt_tmp[PL_HASH_BYTES];
	const void *p;
	uint8_t *copy = NULL;
	size_t n;
	int ret;

	ret = prepare_scoped(s, &st, ST_OPENED_GET);
	if (!ret && sqlite3_bind_blob(st, 3, id, PL_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK)
		ret = PL_ESTORE;
	if (!ret)
		ret = step_row(s, st);
	if (!ret)
		ret = column_exact(s, st, 1, salt_tmp, PL_HASH_BYTES);
	if (!ret)
		ret = column_blob(s, st, 0, 0, PL_BOX_MAX_BODY, &p, &n);
	if (ret)
		goto out;
	copy = malloc(n + 1);
	if (!copy) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (n > 0)
		memcpy(copy, p, n);
	copy[n] = 0;
	*plaintext = copy;
	*len = n;
	memcpy(salt, salt_tmp, PL_HASH_BYTES);
	copy = NULL;
out:
	pl__sql_done(st);
	sodium_memzero(salt_tmp, sizeof(salt_tmp));
	return ret;
}

void pl_state_plaintext_free(uint8_t *plaintext, size_t len)
{
	if (!plaintext)
		return;
	sodium_memzero(plaintext, len + 1);
	free(plaintext);
}

static bool kind_is_valid(const char *kind)
{
	enum pl_record_kind k;
	return kind && pl_record_kind_from_name(&k, kind, strnlen(kind, 32)) == 0;
}

/* Prepares an act statement with the scope, subject (?3) and kind (?4) bound. */
static int act_prepare(struct pl_state *s, sqlite3_stmt **st, enum state_stmt which,
                       const uint8_t subject[static PL_HASH_BYTES], const char *kind)
{
	int ret = kind_is_valid(kind) ? prepare_scoped(s, st, which) : PL_EINVAL;

	if (!ret &&
	    (sqlite3_bind_blob(*st, 3, subject, PL_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK ||
	     sqlite3_bind_text(*st, 4, kind, -1, SQLITE_STATIC) != SQLITE_OK))
		ret = PL_ESTORE;
	return ret;
}

int pl_state_act_put(struct pl_state *s, const uint8_t subject[static PL_HASH_BYTES],
                     const char *kind, const uint8_t act_id[static PL_HASH_BYTES])
{
	sqlite3_stmt *st = NULL;
	int ret = act_prepare(s, &st, ST_ACT_PUT, subject, kind);

	if (!ret)
		ret = step_bound(s, st,
		                 sqlite3_bind_blob(st, 5, act_id, PL_HASH_BYTES, SQLITE_STATIC) ==
		                         SQLITE_OK);
	pl__sql_done(st);
	return ret;
}

int pl_state_act_get(struct pl_state *s, const uint8_t subject[static PL_HASH_BYTES],
                     const char *kind, uint8_t act_id[PL_HASH_BYTES])
{
	sqlite3_stmt *st = NULL;
	uint8_t tmp[PL_HASH_BYTES];
	int ret = act_prepare(s, &st, ST_ACT_GET, subject, kind);

	if (!ret)
		ret = step_row(s, st);
	if (!ret)
		ret = column_exact(s, st, 0, tmp, PL_HASH_BYTES);
	if (!ret && act_id)
		memcpy(act_id, tmp, PL_HASH_BYTES);
	pl__sql_done(st);
	return ret;
}

int pl_state_record_put(struct pl_state *s, const uint8_t id[static PL_HASH_BYTES], uint64_t index,
                        const char *text, size_t len)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (!text || len == 0 || len > PL_RECORD_MAX_BYTES || index > INT64_MAX) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = prepare(s, &st, ST_REC_PUT);
	if (!ret)
		ret = step_bound(
		        s, st,
		        sqlite3_bind_text(st, 1, s->origin, -1, SQLITE_STATIC) == SQLITE_OK &&
		                sqlite3_bind_blob(st, 2, id, PL_HASH_BYTES, SQLITE_STATIC) ==
		                        SQLITE_OK &&
		                sqlite3_bind_int64(st, 3, (sqlite3_int64)index) == SQLITE_OK &&
		                sqlite3_bind_blob(st, 4, text, (int)len, SQLITE_STATIC) ==
		                        SQLITE_OK);
out:
	pl__sql_done(st);
	return ret;
}

int pl_state_record_get(struct pl_state *s, const uint8_t id[static PL_HASH_BYTES], uint64_t *index,
                        struct pl_buf *out)
{
	sqlite3_stmt *st = NULL;
	uint8_t check[PL_HASH_BYTES];
	uint64_t idx = 0;
	const void *p;
	size_t n;
	int ret;

	ret = prepare(s, &st, ST_REC_GET);
	if (!ret && (sqlite3_bind_text(st, 1, s->origin, -1, SQLITE_STATIC) != SQLITE_OK ||
	             sqlite3_bind_blob(st, 2, id, PL_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK))
		ret = PL_ESTORE;
	if (!ret)
		ret = step_row(s, st);
	if (!ret)
		ret = column_u64(s, st, 0, &idx);
	if (!ret)
		ret = column_blob(s, st, 1, 1, PL_RECORD_MAX_BYTES, &p, &n);
	if (ret)
		goto out;
	/* The row is keyed by the id: a text that does not hash to it is corruption. */
	pl_record_id(check, p, n);
	if (memcmp(check, id, PL_HASH_BYTES) != 0) {
		ret = PL_ESTORE;
		goto out;
	}
	ret = pl_buf_add(out, p, n);
	if (!ret && index)
		*index = idx;
out:
	pl__sql_done(st);
	return ret;
}
