/* The SQLite backend of the store, shared by its two files: store.c and store_seq.c. */
#ifndef PARLEY_STORE_SQLITE_H
#define PARLEY_STORE_SQLITE_H

#include <stdbool.h>

#include "sqlite.h"
#include "store.h"

struct store_tend;
struct store_pg;

/* Every statement the store runs, prepared once per connection. */
#define STORE_STATEMENTS(X)                                                                    \
	X(ST_BEGIN_W, "BEGIN IMMEDIATE")                                                       \
	X(ST_BEGIN_R, "BEGIN")                                                                 \
	X(ST_COMMIT, "COMMIT")                                                                 \
	X(ST_ROLLBACK, "ROLLBACK")                                                             \
	X(ST_META_GET, "SELECT value FROM meta WHERE key = ?1")                                \
	X(ST_META_PUT, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)")              \
	X(ST_REC_PUT, "INSERT INTO records(idx, idpfx, id, author, seq, kind, note) "          \
	              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")                                   \
	X(ST_REC_GET, "SELECT id, author, seq, kind, note FROM records WHERE idx = ?1")        \
	X(ST_REC_GET_META, "SELECT id, author, seq, kind FROM records WHERE idx = ?1")         \
	X(ST_REC_FIND, "SELECT idx, id FROM records WHERE idpfx = ?1")                         \
	X(ST_REC_RANGE, "SELECT idx, id FROM records WHERE idpfx BETWEEN ?1 AND ?2 LIMIT 64")  \
	X(ST_REC_COUNT, "SELECT idx FROM records ORDER BY idx DESC LIMIT 1")                   \
	X(ST_REF_PUT, "INSERT OR IGNORE INTO refs(dst, src) VALUES (?1, ?2)")                  \
	X(ST_REF_LIST, "SELECT src FROM refs WHERE dst = ?1 ORDER BY src LIMIT ?2")            \
	X(ST_REF_COUNT, "SELECT count(*) FROM (SELECT 1 FROM refs WHERE dst = ?1 LIMIT ?2)")   \
	X(ST_REF_EACH, "SELECT f.src, a.id, b.id FROM refs f JOIN records a ON a.idx = f.dst " \
	               "JOIN records b ON b.idx = f.src ORDER BY f.src, f.dst")                \
	X(ST_HEAD_GET, "SELECT seq, idx FROM heads WHERE author = ?1")                         \
	X(ST_HEAD_SET, "INSERT INTO heads(author, seq, idx) VALUES (?1, ?2, ?3) "              \
	               "ON CONFLICT(author) DO UPDATE SET seq = ?2, idx = ?3")                 \
	X(ST_HASH_PUT, "INSERT INTO hashes(i, h) VALUES (?1, ?2)")                             \
	X(ST_HASH_GET, "SELECT h FROM hashes WHERE i = ?1")                                    \
	X(ST_HASH_COUNT, "SELECT i FROM hashes ORDER BY i DESC LIMIT 1")                       \
	X(ST_CP_PUT, "INSERT INTO checkpoints(size, note) VALUES (?1, ?2)")                    \
	X(ST_CP_GET, "SELECT size, note FROM checkpoints WHERE size = ?1")                     \
	X(ST_CP_LATEST, "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")       \
	X(ST_CP_SET, "UPDATE checkpoints SET note = ?2 WHERE size = ?1")                       \
	X(ST_CP_COSIGNED_SET, "INSERT INTO meta(key, value) VALUES ('cosigned', ?1) "          \
	                      "ON CONFLICT(key) DO UPDATE SET value = ?1 "                     \
	                      "WHERE CAST(value AS INTEGER) < ?1")                             \
	X(ST_CP_COSIGNED, "SELECT c.size, c.note FROM checkpoints c JOIN meta m "              \
	                  "ON m.key = 'cosigned' AND c.size = CAST(m.value AS INTEGER)")       \
	X(ST_PARTY_PUT,                                                                        \
	  "INSERT INTO parties(name, vkey, enc_key, reg_idx) VALUES (?1, ?2, ?3, ?4)")         \
	X(ST_PARTY_GET, "SELECT pid, name, vkey, enc_key, reg_idx, revoke_idx FROM parties "   \
	                "WHERE name = ?1")                                                     \
	X(ST_PARTY_LIST, "SELECT pid, name, vkey, enc_key, reg_idx, revoke_idx FROM parties "  \
	                 "ORDER BY pid")                                                       \
	X(ST_PARTY_COUNT, "SELECT count(*) FROM parties")                                      \
	X(ST_PARTY_REVOKE, "UPDATE parties SET revoke_idx = ?2 WHERE name = ?1")               \
	X(ST_PARTY_RETURN, "UPDATE parties SET vkey = ?2, enc_key = ?3, reg_idx = ?4, "        \
	                   "revoke_idx = NULL WHERE name = ?1")                                \
	X(ST_PKEY_PUT,                                                                         \
	  "INSERT INTO party_keys(pid, vkey, chain, reg_idx) VALUES (?1, ?2, ?3, ?4)")         \
	X(ST_PKEY_LIST, "SELECT vkey, chain, reg_idx FROM party_keys WHERE pid = ?1 "          \
	                "ORDER BY reg_idx, vkey")                                              \
	X(ST_PKEY_DEL, "DELETE FROM party_keys WHERE pid = ?1 AND vkey = ?2")                  \
	X(ST_PKEY_DEL_ALL, "DELETE FROM party_keys WHERE pid = ?1")                            \
	X(ST_PARTY_ENC, "UPDATE parties SET enc_key = ?2 WHERE name = ?1")                     \
	X(ST_PARTY_VKEY, "UPDATE parties SET vkey = ?2 WHERE name = ?1")                       \
	X(ST_INBOX_PUT, "INSERT OR IGNORE INTO inbox(pid, idx) VALUES (?1, ?2)")               \
	X(ST_INBOX_LIST, "SELECT idx FROM inbox WHERE pid = ?1 AND idx >= ?2 ORDER BY idx "    \
	                 "LIMIT ?3")                                                           \
	X(ST_INBOX_BEFORE, "SELECT idx FROM inbox WHERE pid = ?1 AND idx < ?2 ORDER BY idx "   \
	                   "DESC LIMIT ?3")                                                    \
	X(ST_PAY_FIND, "SELECT rowid, hash, length(data), uploader, stored, referred "         \
	               "FROM payloads WHERE hpfx = ?1")                                        \
	X(ST_PAY_PUT, "INSERT INTO payloads(hpfx, hash, data, uploader, stored, size, "        \
	              "referred) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)")                          \
	X(ST_PAY_GET, "SELECT data FROM payloads WHERE rowid = ?1")                            \
	X(ST_PAY_EACH, "SELECT hash, data FROM payloads ORDER BY rowid")                       \
	X(ST_PAY_TOUCH, "UPDATE payloads SET stored = ?2 WHERE rowid = ?1")                    \
	X(ST_PAY_REFER, "UPDATE payloads SET referred = ?3 "                                   \
	                "WHERE hpfx = ?1 AND hash = ?2 AND referred = 0")                      \
	X(ST_PAY_PENDING, "SELECT bytes FROM payload_pending WHERE uploader = ?1")             \
	X(ST_PAY_EXPIRE, "DELETE FROM payloads WHERE rowid IN (SELECT rowid FROM payloads "    \
	                 "WHERE referred = 0 AND stored <= ?1 ORDER BY stored LIMIT ?2)")      \
	X(ST_TIMER_PUT, "INSERT OR IGNORE INTO timers(due, idx) VALUES (?1, ?2)")              \
	X(ST_TIMER_DEL, "DELETE FROM timers WHERE idx = ?1")                                   \
	X(ST_TIMER_GET, "SELECT due FROM timers WHERE idx = ?1")                               \
	X(ST_TIMER_DUE, "SELECT idx FROM timers WHERE due <= ?1 ORDER BY due, idx LIMIT ?2")   \
	X(ST_TINDEX_GET, "SELECT node FROM tindex WHERE pos = ?1 AND size <= ?2 "              \
	                 "ORDER BY size DESC LIMIT 1")                                         \
	X(ST_TINDEX_PUT, "INSERT OR REPLACE INTO tindex(pos, size, node) VALUES (?1, ?2, ?3)") \
	X(ST_TINDEX_DEEP_GET, "SELECT node FROM tindex_deep WHERE depth = ?1 AND prefix = ?2 " \
	                      "AND size <= ?3 ORDER BY size DESC LIMIT 1")                     \
	X(ST_TINDEX_DEEP_PUT, "INSERT OR REPLACE INTO tindex_deep(depth, prefix, size, node) " \
	                      "VALUES (?1, ?2, ?3, ?4)")                                       \
	X(ST_TINDEX_ANY, "SELECT 1 FROM tindex LIMIT 1")                                       \
	X(ST_INTEGRITY_CHECK, "PRAGMA integrity_check(100)") /* PL_STORE_PROBLEMS_MAX */

enum store_stmt { STORE_STATEMENTS(PL__SQL_ENUM) ST_COUNT };

/* One connection of the SQLite backend. */
struct pl_store {
	struct pl__sql q; /* the connection, its statements (store_sql) and its errors */
	bool writer;
	char *dir;      /* the data directory, for the checkpointer's connection */
	int wal_frames; /* WAL size after the last commit (the WAL hook's report) */
	struct store_tend *tend;
	struct store_pg *pg; /* set on a PostgreSQL connection (store_pg.h) */
};

/* Whether v fits SQLite's signed 64-bit integers. */
static inline bool store_u64_fits(uint64_t v)
{
	return v <= (uint64_t)INT64_MAX;
}

/* The key-value table (meta), store.c: put replaces; get gives PL_ENOTFOUND for none. */
int pl__store_meta_put(struct pl_store *s, const char *key, const char *value);
int pl__store_meta_get(struct pl_store *s, const char *key, char *out, size_t cap);

/* The name of statement k, for messages (store.c holds the table). */
const char *pl__store_stmt_name(enum store_stmt k);

/*
 * Stops a sequencer's upkeep (store_seq.c): joins the checkpointer thread,
 * frees what it kept and returns its connection for the caller to close
 * (NULL when s had none).
 */
struct pl_store *pl__store_tend_stop(struct pl_store *s);

#endif
