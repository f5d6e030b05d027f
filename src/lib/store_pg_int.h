/* The PostgreSQL store's private parts, shared by store_pg.c and store_pg_data.c. */
#ifndef PARLEY_STORE_PG_INT_H
#define PARLEY_STORE_PG_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store_pg.h"
#include "store_sqlite.h"

/*
 * Every statement the backend runs, prepared once per connection on first
 * use and named in the detail of its failures. Parameters and results are
 * binary: integers int8, ids and bytes bytea, names text; every parameter
 * is cast so that its type never depends on inference.
 */
#define PG_STATEMENTS(X)                                                                        \
	X(SP_BEGIN_R, "BEGIN ISOLATION LEVEL REPEATABLE READ")                                  \
	X(SP_BEGIN_W, "BEGIN ISOLATION LEVEL READ COMMITTED")                                   \
	X(SP_HEAD_LOCK, "SELECT size FROM head FOR UPDATE")                                     \
	X(SP_LOG_HEAD, "SELECT size FROM head")                                                 \
	X(SP_HEAD_CAS, "UPDATE head SET size = $1::int8 WHERE size < $1::int8")                 \
	X(SP_COMMIT, "COMMIT")                                                                  \
	X(SP_ROLLBACK, "ROLLBACK")                                                              \
	X(SP_SEQ_LOCK, "SELECT pg_try_advisory_lock($1::int8)")                                 \
	X(SP_META_GET, "SELECT value FROM meta WHERE key = $1::text")                           \
	X(SP_META_PUT, "INSERT INTO meta(key, value) VALUES ($1::text, $2::text) "              \
	               "ON CONFLICT (key) DO UPDATE SET value = excluded.value")                \
	X(SP_REC_PUT, "INSERT INTO records(idx, id, author, seq, kind, note) VALUES "           \
	              "($1::int8, $2::bytea, $3::text, $4::int8, $5::text, $6::bytea)")         \
	X(SP_REC_GET, "SELECT id, author, seq, kind, note FROM records WHERE idx = $1::int8")   \
	X(SP_REC_GET_META, "SELECT id, author, seq, kind FROM records WHERE idx = $1::int8")    \
	X(SP_REC_FIND, "SELECT idx FROM records WHERE id = $1::bytea")                          \
	X(SP_REC_RANGE, "SELECT idx FROM records WHERE id BETWEEN $1::bytea AND $2::bytea "     \
	                "LIMIT $3::int8")                                                       \
	X(SP_REC_COUNT, "SELECT idx FROM records ORDER BY idx DESC LIMIT 1")                    \
	X(SP_REF_PUT, "INSERT INTO refs(dst, src) VALUES ($1::int8, $2::int8) "                 \
	              "ON CONFLICT DO NOTHING")                                                 \
	X(SP_REF_LIST, "SELECT src FROM refs WHERE dst = $1::int8 ORDER BY src LIMIT $2::int8") \
	X(SP_REF_COUNT, "SELECT count(*) FROM (SELECT 1 FROM refs WHERE dst = $1::int8 "        \
	                "LIMIT $2::int8) t")                                                    \
	X(SP_REF_EACH, "SELECT f.src, a.id, b.id FROM refs f JOIN records a ON a.idx = f.dst "  \
	               "JOIN records b ON b.idx = f.src ORDER BY f.src, f.dst")                 \
	X(SP_HEAD_GET, "SELECT seq, idx FROM heads WHERE author = $1::text")                    \
	X(SP_HEAD_SET, "INSERT INTO heads(author, seq, idx) VALUES ($1::text, $2::int8, "       \
	               "$3::int8) ON CONFLICT (author) DO UPDATE SET seq = excluded.seq, "      \
	               "idx = excluded.idx")                                                    \
	X(SP_HASH_PUT, "INSERT INTO hashes(i, h) VALUES ($1::int8, $2::bytea)")                 \
	X(SP_HASH_GET, "SELECT i, h FROM hashes WHERE i = ANY($1::int8[])")                     \
	X(SP_HASH_COUNT, "SELECT i FROM hashes ORDER BY i DESC LIMIT 1")                        \
	X(SP_CP_PUT, "INSERT INTO checkpoints(size, note) VALUES ($1::int8, $2::bytea)")        \
	X(SP_CP_GET, "SELECT size, note FROM checkpoints WHERE size = $1::int8")                \
	X(SP_CP_LATEST, "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")        \
	X(SP_CP_SET, "UPDATE checkpoints SET note = $2::bytea WHERE size = $1::int8")           \
	X(SP_CP_COSIGNED_SET, "INSERT INTO meta(key, value) VALUES ('cosigned', $1::text) "     \
	                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value "         \
	                      "WHERE meta.value::int8 < excluded.value::int8")                  \
	X(SP_CP_COSIGNED, "SELECT c.size, c.note FROM checkpoints c JOIN meta m "               \
	                  "ON m.key = 'cosigned' AND c.size = m.value::int8")                   \
	X(SP_PARTY_PUT, "INSERT INTO parties(name, vkey, enc_key, reg_idx) VALUES "             \
	                "($1::text, $2::text, $3::text, $4::int8) RETURNING pid")               \
	X(SP_PARTY_GET, "SELECT pid, name, vkey, enc_key, reg_idx, revoke_idx FROM parties "    \
	                "WHERE name = $1::text")                                                \
	X(SP_PARTY_LIST, "SELECT pid, name, vkey, enc_key, reg_idx, revoke_idx FROM parties "   \
	                 "ORDER BY pid")                                                        \
	X(SP_PARTY_REVOKE, "UPDATE parties SET revoke_idx = $2::int8 WHERE name = $1::text")    \
	X(SP_PARTY_RETURN, "UPDATE parties SET vkey = $2::text, enc_key = $3::text, "           \
	                   "reg_idx = $4::int8, revoke_idx = NULL WHERE name = $1::text")       \
	X(SP_INBOX_PUT, "INSERT INTO inbox(pid, idx) VALUES ($1::int8, $2::int8) "              \
	                "ON CONFLICT DO NOTHING")                                               \
	X(SP_INBOX_LIST, "SELECT DISTINCT idx FROM inbox WHERE pid IN ($1::int8, $2::int8) "    \
	                 "AND idx >= $3::int8 ORDER BY idx LIMIT $4::int8")                     \
	X(SP_INBOX_BEFORE, "SELECT idx FROM inbox WHERE pid = $1::int8 AND idx < $2::int8 "     \
	                   "ORDER BY idx DESC LIMIT $3::int8")                                  \
	X(SP_PAY_FIND, "SELECT n, octet_length(data)::int8, uploader, stored, referred "        \
	               "FROM payloads WHERE hash = $1::bytea")                                  \
	X(SP_PAY_PUT, "WITH p AS (INSERT INTO payloads(hash, data, uploader, stored, size, "    \
	              "referred) VALUES ($1::bytea, $2::bytea, $3::text, $4::int8, $5::int8, "  \
	              "0) RETURNING uploader, size) INSERT INTO payload_pending(uploader, "     \
	              "bytes) SELECT uploader, size FROM p ON CONFLICT (uploader) DO UPDATE "   \
	              "SET bytes = payload_pending.bytes + excluded.bytes")                     \
	X(SP_PAY_GET, "SELECT data FROM payloads WHERE n = $1::int8")                           \
	X(SP_PAY_EACH, "SELECT hash, data FROM payloads ORDER BY n")                            \
	X(SP_PAY_TOUCH, "UPDATE payloads SET stored = $2::int8 WHERE n = $1::int8")             \
	X(SP_PAY_REFER, "WITH r AS (UPDATE payloads SET referred = $2::int8 "                   \
	                "WHERE hash = $1::bytea AND referred = 0 RETURNING uploader, size) "    \
	                "UPDATE payload_pending p SET bytes = p.bytes - r.size FROM r "         \
	                "WHERE p.uploader = r.uploader")                                        \
	X(SP_PAY_PENDING, "SELECT bytes FROM payload_pending WHERE uploader = $1::text")        \
	X(SP_PAY_EXPIRE, "WITH d AS (DELETE FROM payloads WHERE n IN (SELECT n FROM payloads "  \
	                 "WHERE referred = 0 AND stored <= $1::int8 ORDER BY stored "           \
	                 "LIMIT $2::int8) RETURNING uploader, size), t AS (SELECT uploader, "   \
	                 "sum(size) AS s FROM d GROUP BY uploader), u AS (UPDATE "              \
	                 "payload_pending p SET bytes = p.bytes - t.s FROM t "                  \
	                 "WHERE p.uploader = t.uploader) SELECT count(*) FROM d")               \
	X(SP_TIMER_PUT, "INSERT INTO timers(due, idx) VALUES ($1::int8, $2::int8) "             \
	                "ON CONFLICT DO NOTHING")                                               \
	X(SP_TIMER_DEL, "DELETE FROM timers WHERE idx = $1::int8")                              \
	X(SP_TIMER_GET, "SELECT due FROM timers WHERE idx = $1::int8")                          \
	X(SP_TIMER_DUE, "SELECT idx FROM timers WHERE due <= $1::int8 ORDER BY due, idx "       \
	                "LIMIT $2::int8")                                                       \
	X(SP_TINDEX_GET, "SELECT node FROM tindex WHERE depth = $1::int8 AND "                  \
	                 "prefix = $2::bytea AND size <= $3::int8 ORDER BY size DESC LIMIT 1")  \
	X(SP_TINDEX_PUT, "INSERT INTO tindex(depth, prefix, size, node) VALUES ($1::int8, "     \
	                 "$2::bytea, $3::int8, $4::bytea) ON CONFLICT (depth, prefix, size) "   \
	                 "DO UPDATE SET node = excluded.node")                                  \
	X(SP_TINDEX_ANY, "SELECT 1::int8 FROM tindex LIMIT 1")                                  \
	X(SP_INTEGRITY, "SELECT p FROM ("                                                       \
	                "SELECT 'records: ' || (coalesce(max(idx) + 1, 0) - count(*)) || "      \
	                "' indexes missing' AS p FROM records "                                 \
	                "HAVING coalesce(max(idx) + 1, 0) <> count(*) UNION ALL "               \
	                "SELECT 'hashes: ' || (coalesce(max(i) + 1, 0) - count(*)) || "         \
	                "' indexes missing' FROM hashes "                                       \
	                "HAVING coalesce(max(i) + 1, 0) <> count(*) UNION ALL "                 \
	                "SELECT 'records.id at ' || idx || ' of ' || octet_length(id) || "      \
	                "' bytes' FROM records WHERE octet_length(id) <> 32 UNION ALL "         \
	                "SELECT 'hashes.h at ' || i || ' of ' || octet_length(h) || ' bytes' "  \
	                "FROM hashes WHERE octet_length(h) <> 32 UNION ALL "                    \
	                "SELECT 'checkpoints: none' WHERE NOT EXISTS "                          \
	                "(SELECT 1 FROM checkpoints) AND EXISTS (SELECT 1 FROM records)"        \
	                ") t LIMIT 100") /* PL_STORE_PROBLEMS_MAX */

enum pg_stmt { PG_STATEMENTS(PL__SQL_ENUM) SP_COUNT };

/* One PostgreSQL connection's state beside struct pl_store. */
struct store_pg {
	PGconn *conn;
	bool writer;
	bool sequencer;  /* pl_store_sequencer_start() took the log: its lock is this session's */
	bool fenced;     /* lost the log to another sequencer (pl_store_fenced()) */
	int64_t head;    /* a sequencer's: the log head as its last commit left it */
	int64_t pending; /* the head its open transaction's checkpoint moves to (-2: none) */
	bool prepared[SP_COUNT];
};

#define PG_ARGS_MAX 8

/* The parameters of one statement, binary. */
struct pg_args {
	int n;
	const char *v[PG_ARGS_MAX];
	int len[PG_ARGS_MAX];
	int fmt[PG_ARGS_MAX];
	uint8_t num[PG_ARGS_MAX][8];
};

void pl__pg_arg_i64(struct pg_args *a, int64_t v);
void pl__pg_arg_bytes(struct pg_args *a, const void *p, size_t len);
void pl__pg_arg_text(struct pg_args *a, const char *t);
/* A parameter in PostgreSQL's text form (an array literal, a decimal in a text column). */
void pl__pg_arg_literal(struct pg_args *a, const char *t);

/*
 * Runs statement which with args a (NULL: none). Returns 0 with *res (the
 * caller PQclear()s it; res NULL: cleared here), or PL_ESTORE with
 * PostgreSQL's detail and the statement's name in s's errmsg.
 */
int pl__pg_run(struct pl_store *s, enum pg_stmt which, const struct pg_args *a, PGresult **res);

/* Column readers: a value out of shape is PL_ESTORE with where in errmsg (store.h: hostile). */
int pl__pg_u64(struct pl_store *s, const PGresult *r, int row, int col, uint64_t *out,
               const char *where);
int pl__pg_i64(struct pl_store *s, const PGresult *r, int row, int col, int64_t *out,
               const char *where);
int pl__pg_text(struct pl_store *s, const PGresult *r, int row, int col, char *out, size_t cap,
                const char *where);
int pl__pg_exact(struct pl_store *s, const PGresult *r, int row, int col, uint8_t *out, size_t n,
                 const char *where);
int pl__pg_blob(struct pl_store *s, const PGresult *r, int row, int col, const uint8_t **p,
                size_t *n, const char *where);

/* The name of statement which, for diagnostics. */
const char *pl__pg_name(enum pg_stmt which);

#endif
