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

#define SCHEMA_VERSION  2
#define BUSY_TIMEOUT_MS 5000

struct pl_state {
	sqlite3 *db;
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

/* Prepares sql. Returns 0 or PL_ESTORE. */
static int prepare(struct pl_state *s, sqlite3_stmt **st, const char *sql)
{
	return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : PL_ESTORE;
}

/* Binds the scope (origin, party) to parameters 1 and 2. */
static int bind_scope(struct pl_state *s, sqlite3_stmt *st)
{
	if (sqlite3_bind_text(st, 1, s->origin, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, s->party, -1, SQLITE_STATIC) != SQLITE_OK)
		return PL_ESTORE;
	return 0;
}

/* Prepares sql and binds the scope: the statements of one party's rows. */
static int prepare_scoped(struct pl_state *s, sqlite3_stmt **st, const char *sql)
{
	int ret = prepare(s, st, sql);

	return ret ? ret : bind_scope(s, *st);
}

/* Runs a statement that returns no row. */
static int step_done(sqlite3_stmt *st)
{
	return sqlite3_step(st) == SQLITE_DONE ? 0 : PL_ESTORE;
}

/* Runs a write whose parameters bound (bound) or fails as the store: one ending for every put. */
static int step_bound(sqlite3_stmt *st, bool bound)
{
	return bound ? step_done(st) : PL_ESTORE;
}

/* Runs a statement expected to return at most one row: 0 (a row), PL_ENOTFOUND or PL_ESTORE. */
static int step_row(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? PL_ENOTFOUND : PL_ESTORE;
}

/* Reads a BLOB column of exactly n bytes into out. */
static int column_exact(sqlite3_stmt *st, int col, uint8_t *out, size_t n)
{
	const void *p;

	if (sqlite3_column_type(st, col) != SQLITE_BLOB ||
	    (size_t)sqlite3_column_bytes(st, col) != n)
		return PL_ESTORE;
	p = sqlite3_column_blob(st, col);
	if (!p)
		return PL_ESTORE;
	memcpy(out, p, n);
	return 0;
}

/*
 * Reads a BLOB column of min to max bytes without copying: *p stays valid
 * until the next step or finalize. A zero-length BLOB may come back with
 * *p NULL.
 */
static int column_blob(sqlite3_stmt *st, int col, size_t min, size_t max, const void **p, size_t *n)
{
	int len = sqlite3_column_bytes(st, col);
	const void *v = sqlite3_column_blob(st, col);

	if (sqlite3_column_type(st, col) != SQLITE_BLOB || len < 0 || (size_t)len < min ||
	    (size_t)len > max || (len > 0 && !v))
		return PL_ESTORE;
	*p = v;
	*n = (size_t)len;
	return 0;
}

/* Reads a non-negative INTEGER column. */
static int column_u64(sqlite3_stmt *st, int col, uint64_t *out)
{
	sqlite3_int64 v;

	if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
		return PL_ESTORE;
	v = sqlite3_column_int64(st, col);
	if (v < 0)
		return PL_ESTORE;
	*out = (uint64_t)v;
	return 0;
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
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		ret = PL_EIO;
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS) != SQLITE_OK) {
		ret = PL_ESTORE;
		goto out;
	}
	/* Not a database at all shows here, at the first read. */
	ret = prepare(s, &st, "PRAGMA user_version");
	if (!ret)
		ret = step_row(st);
	if (!ret)
		ret = column_u64(st, 0, &version);
	sqlite3_finalize(st);
	st = NULL;
	if (ret) {
		ret = PL_ESTORE;
		goto out;
	}
	if (version > SCHEMA_VERSION) {
		ret = PL_ESTORE;
		goto out;
	}
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
	                 NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		ret = PL_ESTORE;
		goto out;
	}
	if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    (version < 2 && sqlite3_exec(s->db, migrate_2, NULL, NULL, NULL) != SQLITE_OK) ||
	    sqlite3_exec(s->db, "PRAGMA user_version=2", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		ret = PL_ESTORE;
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
	sqlite3_close(s->db);
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
	ret = prepare(s, &st,
	              "SELECT size, root, note, seen, seen_from FROM checkpoint WHERE origin = ?1");
	if (!ret && sqlite3_bind_text(st, 1, s->origin, -1, SQLITE_STATIC) != SQLITE_OK)
		ret = PL_ESTORE;
	if (!ret)
		ret = step_row(st);
	if (!ret)
		ret = column_u64(st, 0, &c.size);
	if (!ret)
		ret = column_exact(st, 1, c.root, PL_HASH_BYTES);
	if (!ret)
		ret = column_blob(st, 2, 1, PL_NOTE_MAX_BYTES, &note, &n);
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
	sqlite3_finalize(st);
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
	ret = prepare(s, &st,
	              "INSERT INTO checkpoint(origin, size, root, note, seen, seen_from)"
	              " VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
	              " ON CONFLICT(origin) DO UPDATE SET size = excluded.size,"
	              " root = excluded.root, note = excluded.note, seen = excluded.seen,"
	              " seen_from = excluded.seen_from"
	              " WHERE excluded.size > checkpoint.size");
	if (!ret)
		ret = step_bound(
		        st, sqlite3_bind_text(st, 1, s->origin, -1, SQLITE_STATIC) == SQLITE_OK &&
		                    sqlite3_bind_int64(st, 2, (sqlite3_int64)size) == SQLITE_OK &&
		                    sqlite3_bind_blob(st, 3, root, PL_HASH_BYTES, SQLITE_STATIC) ==
		                            SQLITE_OK &&
		                    sqlite3_bind_blob(st, 4, note, (int)note_len, SQLITE_STATIC) ==
		                            SQLITE_OK &&
		                    sqlite3_bind_int64(st, 5, seen) == SQLITE_OK &&
		                    sqlite3_bind_text(st, 6, seen_from, -1, SQLITE_STATIC) ==
		                            SQLITE_OK);
out:
	sqlite3_finalize(st);
	return ret;
}

int pl_state_head_get(struct pl_state *s, struct pl_state_head *h)
{
	sqlite3_stmt *st = NULL;
	struct pl_state_head t;
	int ret;

	memset(&t, 0, sizeof(t));
	ret = prepare_scoped(s, &st,
	                     "SELECT seq, id, time FROM head WHERE origin = ?1 AND party = ?2");
	if (!ret)
		ret = step_row(st);
	if (ret == PL_ENOTFOUND) {
		*h = t; /* no record yet */
		ret = 0;
		goto out;
	}
	if (!ret)
		ret = column_u64(st, 0, &t.seq);
	if (!ret)
		ret = column_exact(st, 1, t.id, PL_HASH_BYTES);
	if (ret)
		goto out;
	if (t.seq == 0 || sqlite3_column_type(st, 2) != SQLITE_INTEGER) {
		ret = PL_ESTORE;
		goto out;
	}
	t.time = sqlite3_column_int64(st, 2);
	*h = t;
out:
	sqlite3_finalize(st);
	return ret;
}

int pl_state_head_put(struct pl_state *s, const struct pl_state_head *h, bool force)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (!h || (h->seq == 0 && !force) || h->seq > INT64_MAX) {
		ret = PL_EINVAL;
		goto out;
	}
	if (h->seq == 0) {
		ret = prepare_scoped(s, &st, "DELETE FROM head WHERE origin = ?1 AND party = ?2");
		if (!ret)
			ret = step_done(st);
		goto out;
	}
	ret = prepare_scoped(
	        s, &st,
	        force ? "INSERT INTO head(origin, party, seq, id, time) VALUES(?1, ?2, ?3, ?4, ?5)"
	                " ON CONFLICT(origin, party) DO UPDATE SET seq = excluded.seq,"
	                " id = excluded.id, time = excluded.time"
	              : "INSERT INTO head(origin, party, seq, id, time) VALUES(?1, ?2, ?3, ?4, ?5)"
	                " ON CONFLICT(origin, party) DO UPDATE SET seq = excluded.seq,"
	                " id = excluded.id, time = excluded.time"
	                " WHERE excluded.seq > head.seq");
	if (!ret)
		ret = step_bound(st,
		                 sqlite3_bind_int64(st, 3, (sqlite3_int64)h->seq) == SQLITE_OK &&
		                         sqlite3_bind_blob(st, 4, h->id, PL_HASH_BYTES,
		                                           SQLITE_STATIC) == SQLITE_OK &&
		                         sqlite3_bind_int64(st, 5, h->time) == SQLITE_OK);
out:
	sqlite3_finalize(st);
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
	ret = prepare_scoped(
	        s, &st, "SELECT value FROM cursor WHERE origin = ?1 AND party = ?2 AND name = ?3");
	if (!ret && sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC) != SQLITE_OK)
		ret = PL_ESTORE;
	if (!ret)
		ret = step_row(st);
	if (!ret)
		ret = column_u64(st, 0, &v);
	else if (ret == PL_ENOTFOUND)
		ret = 0;
	if (!ret)
		*cursor = v;
out:
	sqlite3_finalize(st);
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
	ret = prepare_scoped(
	        s, &st,
	        "INSERT INTO cursor(origin, party, name, value) VALUES(?1, ?2, ?3, ?4)"
	        " ON CONFLICT(origin, party, name) DO UPDATE SET value = excluded.value");
	if (!ret)
		ret = step_bound(
		        st, sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC) == SQLITE_OK &&
		                    sqlite3_bind_int64(st, 4, (sqlite3_int64)cursor) == SQLITE_OK);
out:
	sqlite3_finalize(st);
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
	ret = prepare_scoped(s, &st,
	                     "INSERT OR REPLACE INTO opened(origin, party, id, plaintext, salt)"
	                     " VALUES(?1, ?2, ?3, ?4, ?5)");
	/* A zero-length blob must still be a BLOB, not NULL: bind a real pointer. */
	if (!ret)
		ret = step_bound(
		        st,
		        sqlite3_bind_blob(st, 3, id, PL_HASH_BYTES, SQLITE_STATIC) == SQLITE_OK &&
		                sqlite3_bind_blob(st, 4, len ? plaintext : empty, (int)len,
		                                  SQLITE_STATIC) == SQLITE_OK &&
		                sqlite3_bind_blob(st, 5, salt, PL_HASH_BYTES, SQLITE_STATIC) ==
		                        SQLITE_OK);
out:
	sqlite3_finalize(st);
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

	ret = prepare_scoped(
	        s, &st,
	        "SELECT plaintext, salt FROM opened WHERE origin = ?1 AND party = ?2 AND id = ?3");
	if (!ret && sqlite3_bind_blob(st, 3, id, PL_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK)
		ret = PL_ESTORE;
	if (!ret)
		ret = step_row(st);
	if (!ret)
		ret = column_exact(st, 1, salt_tmp, PL_HASH_BYTES);
	if (!ret)
		ret = column_blob(st, 0, 0, PL_BOX_MAX_BODY, &p, &n);
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
	sqlite3_finalize(st);
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
static int act_prepare(struct pl_state *s, sqlite3_stmt **st, const char *sql,
                       const uint8_t subject[static PL_HASH_BYTES], const char *kind)
{
	int ret = kind_is_valid(kind) ? prepare_scoped(s, st, sql) : PL_EINVAL;

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
	int ret = act_prepare(s, &st,
	                      "INSERT OR IGNORE INTO act(origin, party, subject, kind, act)"
	                      " VALUES(?1, ?2, ?3, ?4, ?5)",
	                      subject, kind);

	if (!ret)
		ret = step_bound(st, sqlite3_bind_blob(st, 5, act_id, PL_HASH_BYTES,
		                                       SQLITE_STATIC) == SQLITE_OK);
	sqlite3_finalize(st);
	return ret;
}

int pl_state_act_get(struct pl_state *s, const uint8_t subject[static PL_HASH_BYTES],
                     const char *kind, uint8_t act_id[PL_HASH_BYTES])
{
	sqlite3_stmt *st = NULL;
	uint8_t tmp[PL_HASH_BYTES];
	int ret =
	        act_prepare(s, &st,
	                    "SELECT act FROM act WHERE origin = ?1 AND party = ?2 AND subject = ?3"
	                    " AND kind = ?4",
	                    subject, kind);

	if (!ret)
		ret = step_row(st);
	if (!ret)
		ret = column_exact(st, 0, tmp, PL_HASH_BYTES);
	if (!ret && act_id)
		memcpy(act_id, tmp, PL_HASH_BYTES);
	sqlite3_finalize(st);
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
	ret = prepare(s, &st,
	              "INSERT OR IGNORE INTO record(origin, id, idx, text) VALUES(?1, ?2, ?3, ?4)");
	if (!ret)
		ret = step_bound(
		        st, sqlite3_bind_text(st, 1, s->origin, -1, SQLITE_STATIC) == SQLITE_OK &&
		                    sqlite3_bind_blob(st, 2, id, PL_HASH_BYTES, SQLITE_STATIC) ==
		                            SQLITE_OK &&
		                    sqlite3_bind_int64(st, 3, (sqlite3_int64)index) == SQLITE_OK &&
		                    sqlite3_bind_blob(st, 4, text, (int)len, SQLITE_STATIC) ==
		                            SQLITE_OK);
out:
	sqlite3_finalize(st);
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

	ret = prepare(s, &st, "SELECT idx, text FROM record WHERE origin = ?1 AND id = ?2");
	if (!ret && (sqlite3_bind_text(st, 1, s->origin, -1, SQLITE_STATIC) != SQLITE_OK ||
	             sqlite3_bind_blob(st, 2, id, PL_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK))
		ret = PL_ESTORE;
	if (!ret)
		ret = step_row(st);
	if (!ret)
		ret = column_u64(st, 0, &idx);
	if (!ret)
		ret = column_blob(st, 1, 1, PL_RECORD_MAX_BYTES, &p, &n);
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
	sqlite3_finalize(st);
	return ret;
}
