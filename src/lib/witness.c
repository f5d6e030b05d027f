/* The witness: parses add-checkpoint requests, checks them against its durable view, cosigns. */
#include <parley/witness.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include <parley/cosignature.h>
#include <parley/tlog.h>

#include "internal.h"
#include "sqlite.h"
#include "transport.h"

#define WITNESS_KEYS_MAX  16 /* verifier keys one log may list */
#define WITNESS_VKEY_TEXT (PL_KEY_NAME_MAX + 64)

/*
 * logs: one row per followed log, its latest cosigned size and root, and the
 * signed checkpoint that brought it there (evidence, for the operator).
 * log_keys: the verifier keys of each log, in text form.
 */
static const char witness_schema[] =
        "CREATE TABLE logs(origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL,"
        " note BLOB, updated INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE log_keys(origin TEXT NOT NULL, vkey TEXT NOT NULL,"
        " PRIMARY KEY(origin, vkey)) WITHOUT ROWID;";

/* Every statement the witness's store runs, prepared once per connection (sqlite.h). */
#define WITNESS_STATEMENTS(X)                                                            \
	X(WS_VERSION, "PRAGMA user_version")                                             \
	X(WS_LOG_ADD, "INSERT OR IGNORE INTO logs(origin, size, root, note, updated) "   \
	              "VALUES (?1, 0, ?2, NULL, 0)")                                     \
	X(WS_KEY_ADD, "INSERT OR IGNORE INTO log_keys(origin, vkey) VALUES (?1, ?2)")    \
	X(WS_LOG_LIST, "SELECT origin, size, root, (SELECT count(*) FROM log_keys k "    \
	               "WHERE k.origin = l.origin) FROM logs l ORDER BY origin")         \
	X(WS_KEYS, "SELECT vkey FROM log_keys WHERE origin = ?1 ORDER BY vkey")          \
	X(WS_STATE, "SELECT size, root FROM logs WHERE origin = ?1")                     \
	X(WS_STATE_SET, "UPDATE logs SET size = ?2, root = ?3, note = ?4, updated = ?5 " \
	                "WHERE origin = ?1")

enum witness_stmt { WITNESS_STATEMENTS(PL__SQL_ENUM) WS_COUNT };

static const char *const witness_sql[] = {WITNESS_STATEMENTS(PL__SQL_TEXT)};

static const char *const witness_stmt_name[] = {WITNESS_STATEMENTS(PL__SQL_NAME)};

/* Durability first: a cosigned state must survive power loss before the answer leaves. */
static const char witness_pragmas[] =
        PL__SQL_PRAGMAS_DURABLE "PRAGMA foreign_keys=OFF;PRAGMA temp_store=MEMORY;";

struct pl_witness {
	pthread_mutex_t lock; /* one update at a time on q: check and write are one step */
	struct pl__sql q;     /* the connection, its statements (witness_sql), its errors */
	struct pl_skey *key;  /* sodium_malloc'd */
	struct pl_vkey vkey;
};

/* ---- Request parsing ---- */

/* Finds the end of the line starting at p (the '\n'), or NULL when there is none. */
static const char *line_end(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

int pl_witness_request_parse(struct pl_witness_request *req, const char *body, size_t len)
{
	struct pl_witness_request *r = NULL;
	const char *p = body, *end = body + len, *nl;
	int ret;

	if (!req || (!body && len)) {
		ret = PL_EINVAL;
		goto out;
	}
	if (len > PL_WITNESS_REQUEST_MAX) {
		ret = PL_ETOOBIG;
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		ret = PL_ENOMEM;
		goto out;
	}
	/* The old size line. */
	nl = line_end(p, end);
	if (!nl || !pl__has_prefix(p, (size_t)(nl - p), "old ") ||
	    pl_parse_u64(&r->old_size, p + 4, (size_t)(nl - p) - 4, PL_CHECKPOINT_MAX_SIZE) != 0) {
		ret = PL_EMALFORMED;
		goto out;
	}
	p = nl + 1;
	/* Proof lines up to the empty line. */
	for (;;) {
		nl = line_end(p, end);
		if (!nl) {
			ret = PL_EMALFORMED;
			goto out;
		}
		if (nl == p)
			break;
		if (r->nproof == PL_WITNESS_PROOF_MAX) {
			ret = PL_ETOOBIG;
			goto out;
		}
		if (pl_b64_decode_exact(r->proof[r->nproof], PL_HASH_BYTES, p, (size_t)(nl - p)) !=
		    0) {
			ret = PL_EMALFORMED;
			goto out;
		}
		r->nproof++;
		p = nl + 1;
	}
	p = nl + 1;
	r->note_off = (size_t)(p - body);
	/* The rest is the signed checkpoint. */
	ret = pl_note_parse(&r->note, p, (size_t)(end - p));
	if (ret == PL_EINVAL)
		ret = PL_EMALFORMED;
	if (!ret)
		ret = pl_checkpoint_parse(&r->cp, r->note->text, r->note->text_len);
	if (ret)
		goto out;
	if (r->old_size > r->cp.size) {
		ret = PL_EMALFORMED;
		goto out;
	}
	*req = *r;
	r->note = NULL;
	ret = 0;
out:
	if (r) {
		pl_note_free(r->note);
		free(r);
	}
	return ret;
}

void pl_witness_request_release(struct pl_witness_request *req)
{
	if (!req)
		return;
	pl_note_free(req->note);
	req->note = NULL;
}

/* ---- Files and database ---- */

/* Keeps SQLite's detail for the operator and maps the failure to PL_ESTORE. */
static int witness_db_create(const char *path)
{
	struct pl__sql q;
	char sql[64];
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? PL_EEXIST : PL_EIO;
	close(fd);
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d;", PL_WITNESS_SCHEMA_VERSION);
	ret = pl__sql_open(&q, path, true, PL__SQL_BUSY_MS, witness_sql, witness_stmt_name,
	                   WS_COUNT);
	if (!ret)
		ret = pl__sql_script(&q, witness_pragmas, "pragmas");
	if (!ret)
		ret = pl__sql_begin(&q, false);
	if (!ret)
		ret = pl__sql_script(&q, witness_schema, "schema");
	if (!ret)
		ret = pl__sql_script(&q, sql, "schema version");
	if (!ret)
		ret = pl__sql_commit(&q);
	ret = ret ? PL_ESTORE : 0;
	pl__sql_close(&q);
	if (ret)
		unlink(path);
	return ret;
}

int pl_witness_create(const char *dir, const char *name, struct pl_vkey *vk)
{
	struct pl_skey sk;
	struct pl_vkey pub;
	struct pl_buf text;
	char *kp = NULL, *vp = NULL, *db = NULL;
	struct stat sb;
	int ret;

	memset(&sk, 0, sizeof(sk));
	pl_buf_init(&text, 1024);
	if (!dir || !name || !vk) {
		ret = PL_EINVAL;
		goto out;
	}
	kp = pl__path_join(dir, PL_WITNESS_KEY_FILE);
	vp = pl__path_join(dir, PL_WITNESS_VKEY_FILE);
	db = pl__path_join(dir, PL_WITNESS_DB_FILE);
	if (!kp || !vp || !db) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (lstat(kp, &sb) == 0 || lstat(vp, &sb) == 0 || lstat(db, &sb) == 0) {
		ret = PL_EEXIST;
		goto out;
	}
	ret = pl_key_generate(&sk, &pub, name, PL_SIGTYPE_COSIG_V1);
	if (!ret)
		ret = pl_skey_format(&sk, &text);
	if (!ret)
		ret = pl_key_save(kp, text.data, text.len, 0600);
	if (text.data)
		sodium_memzero(text.data, text.len);
	pl_buf_reset(&text);
	if (!ret)
		ret = pl_vkey_format(&pub, &text);
	if (!ret)
		ret = pl_key_save(vp, text.data, text.len, 0644);
	if (!ret)
		ret = witness_db_create(db);
	if (ret)
		goto out;
	*vk = pub;
out:
	pl_skey_clear(&sk);
	if (text.data)
		sodium_memzero(text.data, text.len);
	pl_buf_release(&text);
	free(kp);
	free(vp);
	free(db);
	return ret;
}

int pl_witness_open(struct pl_witness **out, const char *dir, struct pl_buf *err)
{
	struct pl_witness *w = NULL;
	sqlite3_stmt *st = NULL;
	char *kp = NULL, *db = NULL;
	struct stat sb;
	int rc, ret;

	if (!out || !dir)
		return PL_EINVAL;
	kp = pl__path_join(dir, PL_WITNESS_KEY_FILE);
	db = pl__path_join(dir, PL_WITNESS_DB_FILE);
	w = calloc(1, sizeof(*w));
	if (!kp || !db || !w) {
		ret = PL_ENOMEM;
		goto out;
	}
	pthread_mutex_init(&w->lock, NULL);
	if (stat(db, &sb) != 0 || stat(kp, &sb) != 0) {
		ret = errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
		goto out;
	}
	w->key = sodium_malloc(sizeof(*w->key));
	if (!w->key) {
		ret = PL_ENOMEM;
		goto out;
	}
	memset(w->key, 0, sizeof(*w->key));
	ret = pl_skey_load(w->key, kp);
	if (!ret && w->key->type != PL_SIGTYPE_COSIG_V1)
		ret = PL_EKEY;
	if (ret) {
		if (err)
			(void)!pl_buf_addf(err, "%s: %s", kp, pl_strerror(ret));
		goto out;
	}
	pl_skey_public(w->key, &w->vkey);
	ret = pl__sql_open(&w->q, db, true, PL__SQL_BUSY_MS, witness_sql, witness_stmt_name,
	                   WS_COUNT);
	if (!ret)
		ret = pl__sql_script(&w->q, witness_pragmas, "pragmas");
	if (!ret)
		ret = pl__sql_stmt(&w->q, WS_VERSION, &st);
	if (!ret) {
		rc = pl__sql_row(&w->q, WS_VERSION, st);
		if (!rc && sqlite3_column_int(st, 0) != PL_WITNESS_SCHEMA_VERSION)
			rc = pl__sql_fail(&w->q, "open", SQLITE_NOTADB);
		else if (rc)
			rc = pl__sql_fail(&w->q, "open",
			                  rc == PL_ENOTFOUND ? SQLITE_NOTADB : SQLITE_ERROR);
		ret = rc;
		pl__sql_done(st);
	}
	if (ret) {
		if (err)
			(void)!pl_buf_addf(err, "%s: %s", db, w->q.errmsg);
		goto out;
	}
	*out = w;
	w = NULL;
	ret = 0;
out:
	pl_witness_close(w);
	free(kp);
	free(db);
	return ret;
}

void pl_witness_close(struct pl_witness *w)
{
	if (!w)
		return;
	if (w->key) {
		pl_skey_clear(w->key);
		sodium_free(w->key);
	}
	pl__sql_close(&w->q);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

const struct pl_vkey *pl_witness_vkey(const struct pl_witness *w)
{
	return &w->vkey;
}

/* True when origin is a valid checkpoint origin line. */
static bool origin_is_valid(const char *origin)
{
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	uint8_t zero[PL_HASH_BYTES] = {0};
	bool ok = cp && pl_checkpoint_set(cp, origin, 0, zero) == 0;

	free(cp);
	return ok;
}

int pl_witness_log_add(struct pl_witness *w, const char *origin, const struct pl_vkey *key)
{
	sqlite3_stmt *st = NULL;
	struct pl_buf text;
	uint8_t empty[PL_HASH_BYTES];
	bool locked = false, began = false;
	int rc, ret;

	pl_buf_init(&text, WITNESS_VKEY_TEXT);
	if (!w || !origin || !key || key->type != PL_SIGTYPE_ED25519 || !origin_is_valid(origin)) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_vkey_format(key, &text);
	if (ret)
		goto out;
	pthread_mutex_lock(&w->lock);
	locked = true;
	ret = pl__sql_begin(&w->q, true);
	if (ret)
		goto out;
	began = true;
	pl_tlog_empty_hash(empty);
	ret = pl__sql_stmt(&w->q, WS_LOG_ADD, &st);
	if (ret)
		goto out;
	sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, empty, PL_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	pl__sql_done(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		ret = pl__sql_fail(&w->q, "log add", rc);
		goto out;
	}
	ret = pl__sql_stmt(&w->q, WS_KEY_ADD, &st);
	if (ret)
		goto out;
	sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text.data, (int)text.len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = pl__sql_fail(&w->q, "log key add", rc);
		goto out;
	}
	if (sqlite3_changes(w->q.db) == 0) {
		ret = PL_EEXIST;
		goto out;
	}
	ret = pl__sql_commit(&w->q);
	if (!ret)
		began = false;
out:
	pl__sql_done(st);
	if (began)
		pl__sql_rollback(&w->q);
	if (locked)
		pthread_mutex_unlock(&w->lock);
	pl_buf_release(&text);
	return ret;
}

int pl_witness_log_list(struct pl_witness *w, struct pl_witness_log **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct pl_witness_log *v = NULL, *nv;
	size_t count = 0, cap = 0;
	int rc, ret;

	if (!w || !out || !n)
		return PL_EINVAL;
	pthread_mutex_lock(&w->lock);
	ret = pl__sql_stmt(&w->q, WS_LOG_LIST, &st);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *o = sqlite3_column_text(st, 0);
		int olen = sqlite3_column_bytes(st, 0);
		sqlite3_int64 size = sqlite3_column_int64(st, 1);
		sqlite3_int64 nk = sqlite3_column_int64(st, 3);

		if (!o || olen <= 0 || olen > PL_ORIGIN_MAX || size < 0 || nk < 0 ||
		    sqlite3_column_bytes(st, 2) != PL_HASH_BYTES) {
			pl__sql_bad(&w->q, "witness: bad row in logs");
			ret = PL_ESTORE;
			break;
		}
		if (count == cap) {
			cap = cap ? 2 * cap : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				ret = PL_ENOMEM;
				break;
			}
			v = nv;
		}
		memset(&v[count], 0, sizeof(v[count]));
		memcpy(v[count].origin, o, (size_t)olen);
		v[count].size = (uint64_t)size;
		memcpy(v[count].root, sqlite3_column_blob(st, 2), PL_HASH_BYTES);
		v[count].nkeys = (size_t)nk;
		count++;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = pl__sql_fail(&w->q, "log list", rc);
	pl__sql_done(st);
	pthread_mutex_unlock(&w->lock);
	if (ret) {
		free(v);
		return ret;
	}
	*out = v;
	*n = count;
	return 0;
}

/* ---- add-checkpoint ---- */

/*
 * Loads the verifier keys listed for origin into keys (at most
 * WITNESS_KEYS_MAX). PL_ENOTFOUND when the origin is not followed.
 */
static int witness_keys(struct pl_witness *w, const char *origin, struct pl_vkey *keys,
                        size_t *nkeys)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int rc, ret;

	ret = pl__sql_stmt(&w->q, WS_KEYS, &st);
	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < WITNESS_KEYS_MAX) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		int len = sqlite3_column_bytes(st, 0);

		/* The database is hostile input too: a bad key is an error, never skipped. */
		if (!t || len <= 0 || pl_vkey_parse(&keys[n], t, (size_t)len) != 0) {
			pl__sql_bad(&w->q, "witness: bad key of log %s", origin);
			ret = PL_ESTORE;
			goto out;
		}
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ret = pl__sql_fail(&w->q, "log keys", rc);
		goto out;
	}
	if (n == 0) {
		ret = PL_ENOTFOUND;
		goto out;
	}
	*nkeys = n;
	ret = 0;
out:
	pl__sql_done(st);
	return ret;
}

/* Reads the latest cosigned size and root of origin (in the caller's transaction). */
static int witness_state(struct pl_witness *w, const char *origin, uint64_t *size,
                         uint8_t root[static PL_HASH_BYTES])
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 v;
	int rc, ret;

	ret = pl__sql_stmt(&w->q, WS_STATE, &st);
	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = PL_ENOTFOUND;
	} else if (rc != SQLITE_ROW) {
		ret = pl__sql_fail(&w->q, "log state", rc);
	} else {
		v = sqlite3_column_int64(st, 0);
		if (v < 0 || sqlite3_column_bytes(st, 1) != PL_HASH_BYTES) {
			pl__sql_bad(&w->q, "witness: bad state of log %s", origin);
			ret = PL_ESTORE;
		} else {
			*size = (uint64_t)v;
			memcpy(root, sqlite3_column_blob(st, 1), PL_HASH_BYTES);
		}
	}
	pl__sql_done(st);
	return ret;
}

static int witness_state_set(struct pl_witness *w, const struct pl_witness_request *r,
                             const char *note, size_t note_len, uint64_t now)
{
	sqlite3_stmt *st = NULL;
	int rc, ret;

	ret = pl__sql_stmt(&w->q, WS_STATE_SET, &st);
	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, r->cp.origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)r->cp.size);
	sqlite3_bind_blob(st, 3, r->cp.root, PL_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, note, (int)note_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		ret = pl__sql_fail(&w->q, "log update", rc);
	else if (sqlite3_changes(w->q.db) != 1)
		ret = PL_ENOTFOUND;
	pl__sql_done(st);
	return ret;
}

/*
 * The check-and-update step, under the lock and in one IMMEDIATE transaction:
 * verification of the log's signature, the old size, the roots, the proof.
 */
static int witness_accept(struct pl_witness *w, const struct pl_witness_request *r,
                          const char *note, size_t note_len, uint64_t now, uint64_t *known_size)
{
	struct pl_vkey keys[WITNESS_KEYS_MAX];
	uint8_t root[PL_HASH_BYTES];
	uint64_t size = 0;
	size_t nkeys = 0;
	bool began = false;
	int ret;

	ret = pl__sql_begin(&w->q, true);
	if (ret)
		goto out;
	began = true;
	ret = witness_keys(w, r->cp.origin, keys, &nkeys);
	if (ret)
		goto out;
	/* Signatures by keys the witness does not know are ignored (spec). */
	ret = pl_note_verify(r->note, keys, nkeys, NULL);
	if (ret)
		goto out;
	ret = witness_state(w, r->cp.origin, &size, root);
	if (ret)
		goto out;
	if (r->old_size != size) {
		if (known_size)
			*known_size = size;
		ret = PL_ESTATE;
		goto out;
	}
	if (r->cp.size == size) {
		/* Same size again: cosign it again only when it is the same tree. */
		if (sodium_memcmp(root, r->cp.root, PL_HASH_BYTES) != 0)
			ret = PL_EINCONSISTENT;
		else if (r->nproof != 0)
			ret = PL_EPROOF;
		goto out;
	}
	/* The proof is checked against OUR root at the old size, never a client's. */
	ret = pl_tlog_verify_consistency(size, r->cp.size, root, r->cp.root,
	                                 (const uint8_t(*)[PL_HASH_BYTES])r->proof, r->nproof);
	if (ret) {
		ret = PL_EPROOF;
		goto out;
	}
	ret = witness_state_set(w, r, note, note_len, now);
	if (ret)
		goto out;
	ret = pl__sql_commit(&w->q);
	if (!ret)
		began = false;
out:
	if (began)
		pl__sql_rollback(&w->q);
	return ret;
}

int pl_witness_add_checkpoint(struct pl_witness *w, const char *body, size_t len, uint64_t now,
                              struct pl_buf *cosig, uint64_t *known_size)
{
	struct pl_witness_request *r = NULL;
	const char *note;
	int ret;

	if (!w || !cosig || (!body && len)) {
		ret = PL_EINVAL;
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_witness_request_parse(r, body, len);
	if (ret)
		goto out;
	note = body + r->note_off;
	pthread_mutex_lock(&w->lock);
	ret = witness_accept(w, r, note, (size_t)(body + len - note), now, known_size);
	pthread_mutex_unlock(&w->lock);
	if (ret)
		goto out;
	/* Only now, with the state durable, does a cosignature leave. */
	ret = pl_cosignature_sign(cosig, w->key, now, r->note->text, r->note->text_len);
out:
	pl_witness_request_release(r);
	free(r);
	return ret;
}

unsigned pl_witness_http_status(int err)
{
	switch (err) {
	case 0:
		return 200;
	case PL_EMALFORMED:
	case PL_ETOOBIG:
	case PL_EINVAL:
		return 400;
	case PL_ENOKEY:
	case PL_EVERIFY:
	case PL_EAMBIGUOUS:
		return 403;
	case PL_ENOTFOUND:
		return 404;
	case PL_ESTATE:
	case PL_EINCONSISTENT:
		return 409;
	case PL_EPROOF:
		return 422;
	default:
		return 500;
	}
}

/* ---- The log's side: asking witnesses to cosign ---- */

static bool peer_url_is_valid(const char *s, size_t n)
{
	if (n > PL_WITNESS_URL_MAX ||
	    (!pl__has_prefix(s, n, "http://") && !pl__has_prefix(s, n, "https://")))
		return false;
	if (n <= strlen("https://") - (s[4] == ':') || s[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#')
			return false;
	}
	return true;
}

int pl_witness_peer_parse(struct pl_witness_peer *p, const char *s, size_t len, const char **why)
{
	struct pl_witness_peer tmp;
	size_t u = 0, k;
	const char *reason = NULL;
	int ret;

	if (!p || (!s && len)) {
		ret = PL_EINVAL;
		goto out;
	}
	while (u < len && s[u] != ' ' && s[u] != '\t')
		u++;
	k = u;
	while (k < len && (s[k] == ' ' || s[k] == '\t'))
		k++;
	if (u == 0 || k == u || k == len) {
		reason = "expected URL VKEY";
		ret = PL_EMALFORMED;
		goto out;
	}
	if (!peer_url_is_valid(s, u)) {
		reason = "URL: not an http:// or https:// prefix without query or trailing /";
		ret = PL_EMALFORMED;
		goto out;
	}
	memset(&tmp, 0, sizeof(tmp));
	memcpy(tmp.url, s, u);
	if (pl_vkey_parse(&tmp.key, s + k, len - k) != 0) {
		reason = "VKEY: not a verifier key";
		ret = PL_EMALFORMED;
		goto out;
	}
	if (tmp.key.type != PL_SIGTYPE_COSIG_V1) {
		reason = "VKEY: not a witness cosignature key (type 0x04)";
		ret = PL_EMALFORMED;
		goto out;
	}
	*p = tmp;
	ret = 0;
out:
	if (ret && why)
		*why = reason ? reason : "invalid";
	return ret;
}

int pl_witness_peer_format(const struct pl_witness_peer *p, struct pl_buf *out)
{
	size_t mark;
	int ret;

	if (!p || !out || !peer_url_is_valid(p->url, strnlen(p->url, sizeof(p->url))))
		return PL_EINVAL;
	mark = out->len;
	ret = pl_buf_addf(out, "%s ", p->url);
	if (!ret)
		ret = pl_vkey_format(&p->key, out);
	if (ret)
		out->len = mark;
	return ret;
}

int pl_witness_request_format(struct pl_buf *out, uint64_t old_size,
                              const uint8_t (*proof)[PL_HASH_BYTES], size_t nproof,
                              const char *note, size_t len)
{
	char b64[PL_B64_LEN(PL_HASH_BYTES) + 1];
	size_t mark;
	int ret;

	if (!out || !note || !len || nproof > PL_WITNESS_PROOF_MAX || (nproof && !proof))
		return PL_EINVAL;
	mark = out->len;
	ret = pl_buf_addf(out, "old %llu\n", (unsigned long long)old_size);
	for (size_t i = 0; !ret && i < nproof; i++) {
		pl_b64_encode(b64, proof[i], PL_HASH_BYTES);
		ret = pl_buf_addf(out, "%s\n", b64);
	}
	if (!ret)
		ret = pl_buf_add(out, "\n", 1);
	if (!ret)
		ret = pl_buf_add(out, note, len);
	if (ret)
		out->len = mark;
	return ret;
}

/* The 200 answer: the signature lines by key, each verified; the first is kept. */
static int answer_cosigned(const struct pl_witness_answer *a, const struct pl_vkey *key,
                           const char *text, size_t len, struct pl_buf *line, uint64_t *timestamp)
{
	struct pl_note *n = NULL;
	struct pl_buf msg;
	const struct pl_note_sig *good = NULL;
	uint64_t ts = 0, t;
	char *b64 = NULL;
	uint8_t *raw = NULL;
	int ret;

	pl_buf_init(&msg, PL_NOTE_MAX_BYTES);
	/* The spec's own way to read the answer: the lines after the checkpoint's text form a
	 * note, parsed strictly; the text is ours, so only the lines can make it fail. */
	if (!a->body.len || a->body.data[a->body.len - 1] != '\n') {
		ret = PL_EMALFORMED;
		goto out;
	}
	ret = pl_buf_add(&msg, text, len);
	if (!ret)
		ret = pl_buf_add(&msg, "\n", 1);
	if (!ret)
		ret = pl_buf_add(&msg, a->body.data, a->body.len);
	if (ret) {
		ret = ret == PL_ENOMEM ? ret : PL_EMALFORMED;
		goto out;
	}
	if (pl_note_parse(&n, msg.data, msg.len) != 0 || n->text_len != len) {
		ret = PL_EMALFORMED;
		goto out;
	}
	for (size_t i = 0; i < n->nsigs; i++) {
		const struct pl_note_sig *s = &n->sigs[i];
		if (strcmp(s->name, key->name) != 0 || memcmp(s->id, key->id, PL_KEYID_BYTES) != 0)
			continue;
		if (pl_cosignature_verify(s, key, text, len, &t) != 0) {
			ret = PL_EVERIFY;
			goto out;
		}
		if (!good) {
			good = s;
			ts = t;
		}
	}
	if (!good) {
		ret = PL_ENOKEY;
		goto out;
	}
	raw = malloc(PL_KEYID_BYTES + good->sig_len);
	b64 = malloc(PL_B64_LEN(PL_KEYID_BYTES + good->sig_len) + 1);
	if (!raw || !b64) {
		ret = PL_ENOMEM;
		goto out;
	}
	memcpy(raw, good->id, PL_KEYID_BYTES);
	memcpy(raw + PL_KEYID_BYTES, good->sig, good->sig_len);
	pl_b64_encode(b64, raw, PL_KEYID_BYTES + good->sig_len);
	ret = pl_buf_addf(line, "\xe2\x80\x94 %s %s\n", good->name, b64);
	if (!ret && timestamp)
		*timestamp = ts;
out:
	free(raw);
	free(b64);
	pl_note_free(n);
	pl_buf_release(&msg);
	return ret;
}

int pl_witness_answer_read(const struct pl_witness_answer *a, const struct pl_vkey *key,
                           const char *text, size_t len, struct pl_buf *line, uint64_t *known_size,
                           uint64_t *timestamp)
{
	uint64_t size;

	if (!a || !key || !text || !len || !line || key->type != PL_SIGTYPE_COSIG_V1)
		return PL_EINVAL;
	switch (a->status) {
	case 200:
		return answer_cosigned(a, key, text, len, line, timestamp);
	case 409:
		if (strcmp(a->ctype, PL_WITNESS_SIZE_CTYPE) != 0)
			return PL_EINCONSISTENT;
		if (a->body.len < 2 || a->body.data[a->body.len - 1] != '\n' ||
		    pl_parse_u64(&size, a->body.data, a->body.len - 1, PL_CHECKPOINT_MAX_SIZE) != 0)
			return PL_EMALFORMED;
		if (known_size)
			*known_size = size;
		return PL_ESTATE;
	case 400:
	case 413:
		return PL_EINVAL;
	case 403:
		return PL_EDENIED;
	case 404:
		return PL_ENOTFOUND;
	case 422:
		return PL_EPROOF;
	default:
		return PL_ENET;
	}
}

/* Appends a short, printable excerpt of the answer's body to detail. */
static void cosign_detail(struct pl_buf *detail, const struct pl_witness_answer *a, int err)
{
	size_t n = 0;

	if (!detail)
		return;
	if (a->status == 0) {
		(void)!pl_buf_addf(detail, "%s", a->detail[0] ? a->detail : pl_strerror(err));
		return;
	}
	while (n < a->body.len && n < 80 && a->body.data[n] >= 0x20 && a->body.data[n] < 0x7f &&
	       a->body.data[n] != '"')
		n++;
	(void)!pl_buf_addf(detail, "HTTP %u: %s%s%.*s", a->status, pl_strerror(err), n ? ": " : "",
	                   (int)n, n ? a->body.data : "");
}

int pl_witness_cosign(const struct pl_witness_transport *t, const struct pl_witness_proofs *proofs,
                      const struct pl_witness_peer *peer, uint64_t *known, const char *note,
                      size_t len, struct pl_buf *line, struct pl_buf *detail)
{
	uint8_t(*proof)[PL_HASH_BYTES] = NULL;
	struct pl_witness_answer a;
	struct pl_checkpoint *cp = NULL;
	struct pl_note *n = NULL;
	struct pl_buf body;
	char url[PL_WITNESS_URL_MAX + sizeof("/add-checkpoint")];
	uint64_t old, reported = 0;
	size_t np = 0;
	int ret;

	memset(&a, 0, sizeof(a));
	pl_buf_init(&a.body, PL_WITNESS_ANSWER_MAX);
	pl_buf_init(&body, PL_WITNESS_REQUEST_MAX);
	if (!t || !t->post || !proofs || !proofs->consistency || !peer || !known || !note ||
	    !line) {
		ret = PL_EINVAL;
		goto out;
	}
	proof = malloc(PL_PROOF_MAX_HASHES * sizeof(*proof));
	cp = malloc(sizeof(*cp));
	if (!proof || !cp) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (pl_note_parse(&n, note, len) != 0 ||
	    pl_checkpoint_parse(cp, n->text, n->text_len) != 0) {
		ret = PL_EMALFORMED;
		if (detail)
			(void)!pl_buf_adds(detail, "the log's checkpoint does not parse");
		goto out;
	}
	snprintf(url, sizeof(url), "%s/add-checkpoint", peer->url);
	old = *known;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (old > cp->size) {
			ret = PL_ERANGE;
			if (detail)
				(void)!pl_buf_addf(detail,
				                   "the witness has cosigned size %llu, above ours "
				                   "(%llu)",
				                   (unsigned long long)old,
				                   (unsigned long long)cp->size);
			goto out;
		}
		np = 0;
		if (old > 0 && old < cp->size) {
			ret = proofs->consistency(proofs->arg, old, cp->size, proof, &np);
			if (!ret && np > PL_WITNESS_PROOF_MAX)
				ret = PL_ETOOBIG;
			if (ret) {
				if (detail)
					(void)!pl_buf_addf(
					        detail, "consistency proof %llu..%llu: %s",
					        (unsigned long long)old,
					        (unsigned long long)cp->size, pl_strerror(ret));
				goto out;
			}
		}
		pl_buf_reset(&body);
		ret = pl_witness_request_format(&body, old, (const uint8_t(*)[PL_HASH_BYTES])proof,
		                                np, note, len);
		if (ret)
			goto out;
		pl_buf_reset(&a.body);
		a.status = 0;
		a.ctype[0] = a.detail[0] = '\0';
		ret = t->post(t->arg, url, body.data, body.len, &a);
		if (ret) {
			cosign_detail(detail, &a, ret);
			goto out;
		}
		ret = pl_witness_answer_read(&a, &peer->key, n->text, n->text_len, line, &reported,
		                             NULL);
		if (ret == PL_ESTATE) {
			*known = reported;
			old = reported;
			continue;
		}
		break;
	}
	if (ret)
		cosign_detail(detail, &a, ret);
	else
		*known = cp->size;
out:
	pl_note_free(n);
	free(cp);
	free(proof);
	pl_buf_release(&body);
	pl_buf_release(&a.body);
	return ret;
}

/* ---- The libcurl transport (transport.h) ---- */

struct pl_witness_http {
	struct pl__http http;
	long connect_ms, timeout_ms;
	bool (*cancelled)(void *arg);
	void *cancel_arg;
};

int pl_witness_http_new(struct pl_witness_http **out, long connect_ms, long timeout_ms,
                        bool (*cancelled)(void *arg), void *cancel_arg)
{
	struct pl_witness_http *h = NULL;
	int ret;

	if (!out) {
		ret = PL_EINVAL;
		goto out;
	}
	h = calloc(1, sizeof(*h));
	if (!h || pl__http_init(&h->http) != 0) {
		ret = PL_ENOMEM;
		goto out;
	}
	h->connect_ms = connect_ms > 0 ? connect_ms : 5000;
	h->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	h->cancelled = cancelled;
	h->cancel_arg = cancel_arg;
	*out = h;
	h = NULL;
	ret = 0;
out:
	pl_witness_http_free(h);
	return ret;
}

void pl_witness_http_free(struct pl_witness_http *h)
{
	if (!h)
		return;
	pl__http_release(&h->http);
	free(h);
}

static size_t http_on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct pl_witness_answer *a = arg;
	size_t n = size * nmemb;

	/* A short count makes curl fail the transfer: an answer over the bound is refused. */
	return pl_buf_add(&a->body, p, n) == 0 ? n : 0;
}

static size_t http_on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	static const char name[] = "content-type:";
	struct pl_witness_answer *a = arg;
	size_t n = size * nmemb, i = 0, k = 0;

	if (n < sizeof(name) - 1)
		return n;
	for (i = 0; i < sizeof(name) - 1; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != name[i])
			return n;
	}
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	while (i < n && k < sizeof(a->ctype) - 1 && p[i] != ';' && p[i] != ' ' && p[i] != '\t' &&
	       p[i] != '\r' && p[i] != '\n') {
		char c = p[i++];
		a->ctype[k++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	a->ctype[k] = '\0';
	return n;
}

int pl_witness_http_post(void *arg, const char *url, const char *body, size_t len,
                         struct pl_witness_answer *a)
{
	struct pl_witness_http *h = arg;
	struct curl_slist *hdrs = NULL, *tmp;
	long status = 0;
	int ret;

	if (!h || !url || !body || !a)
		return PL_EINVAL;
	a->status = 0;
	a->ctype[0] = a->detail[0] = '\0';
	hdrs = curl_slist_append(NULL, "Content-Type: text/plain");
	tmp = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
	if (!tmp) {
		ret = PL_ENOMEM;
		goto out;
	}
	hdrs = tmp;
	{
		struct pl__http_request rq = {.url = url,
		                              .post = true,
		                              .body = body,
		                              .body_len = len,
		                              .headers = hdrs,
		                              .user_agent = "parleyd-witness-client",
		                              .connect_ms = h->connect_ms,
		                              .timeout_ms = h->timeout_ms,
		                              .response_max = PL_WITNESS_ANSWER_MAX,
		                              .on_body = http_on_body,
		                              .body_arg = a,
		                              .on_header = http_on_header,
		                              .header_arg = a,
		                              .cancelled = h->cancelled,
		                              .cancel_arg = h->cancel_arg};
		ret = pl__http_perform(&h->http, &rq, &status, NULL);
	}
	if (ret) {
		snprintf(a->detail, sizeof(a->detail), "%s", h->http.detail);
		ret = PL_ENET;
		goto out;
	}
	a->status = status > 0 && status < 1000 ? (unsigned)status : 0;
	ret = a->status ? 0 : PL_ENET;
	if (ret)
		snprintf(a->detail, sizeof(a->detail), "no HTTP status");
out:
	curl_slist_free_all(hdrs);
	return ret;
}
