/* The PostgreSQL backend of the store (store_pg.c, store_pg_data.c): how store.c forwards to it. */
#ifndef PARLEY_STORE_PG_H
#define PARLEY_STORE_PG_H

#include "store.h"

/*
 * struct pl_store (store_sqlite.h) is one connection of either backend: its
 * pg member is set on a PostgreSQL one, and each public pl_store_* of the
 * SQLite files starts with PL__STORE_PG(s, its pl__store_pg_* twin), so that
 * the SQLite code stays as it is. Every pl__store_pg_* keeps the contract of
 * its pl_store_* twin in store.h. Built without libpq (-Dpostgresql=disabled)
 * the forward is nothing, and a data directory that names a PostgreSQL store
 * fails to open with PL_ESTORE.
 */
#ifdef PL_HAVE_POSTGRESQL
#define PL__STORE_PG(s, call)          \
	do {                           \
		if ((s) && (s)->pg)    \
			return (call); \
	} while (0)
#else
#define PL__STORE_PG(s, call) ((void)0)
/*
 * A thread index node's stored form, shared by both backends (store_tindex.c):
 * encode writes it to out and returns its length; decode checks a stored one
 * for shape (PL_ESTORE with the detail in s's errmsg otherwise).
 */
#define PL__STORE_NODE_MAX    (2 * PL_HASH_BYTES + 16)
size_t pl__store_node_encode(uint8_t out[static PL__STORE_NODE_MAX],
                             const struct pl_tindex_node *n);
int pl__store_node_decode(struct pl_store *s, const uint8_t *p, size_t n,
                          struct pl_tindex_node *out) PL_WUR;

#endif

struct pl_store;
struct pl_buf;

/* Whether the database at url holds a store: 0, PL_ENOTFOUND, PL_EIO (it cannot be reached). */
int pl__store_pg_probe(const char *url) PL_WUR;
/* Creates the schema and the origin in the database at url; PL_EEXIST when it holds one. */
int pl__store_pg_create(const char *url, const char *origin) PL_WUR;
/* Opens a connection to the store at url, as pl_store_open() (detail appended to err). */
int pl__store_pg_open(struct pl_store **out, const char *url, bool writer,
                      struct pl_buf *err) PL_WUR;
/* Closes the connection s (rolling back an open transaction). */
void pl__store_pg_close(struct pl_store *s);
void pl__store_pg_rollback(struct pl_store *s);
bool pl__store_pg_fenced(const struct pl_store *s);

int pl__store_pg_begin(struct pl_store *s) PL_WUR;
int pl__store_pg_commit(struct pl_store *s) PL_WUR;
int pl__store_pg_sequencer_start(struct pl_store *s) PL_WUR;
int pl__store_pg_sync(struct pl_store *s) PL_WUR;
int pl__store_pg_maintain(struct pl_store *s, bool last) PL_WUR;
int pl__store_pg_published_mark(struct pl_store *s) PL_WUR;
int pl__store_pg_published_marked(struct pl_store *s, bool *out) PL_WUR;
int pl__store_pg_origin(struct pl_store *s, char out[static PL_ORIGIN_MAX + 1]) PL_WUR;
int pl__store_pg_line_put(struct pl_store *s, const char *name, const char *text) PL_WUR;
int pl__store_pg_line_get(struct pl_store *s, const char *name, struct pl_buf *text) PL_WUR;
int pl__store_pg_line_last_put(struct pl_store *s, const char *name, uint64_t index) PL_WUR;
int pl__store_pg_line_last_get(struct pl_store *s, const char *name, uint64_t *index) PL_WUR;
int pl__store_pg_integrity_check(struct pl_store *s, void (*fn)(void *arg, const char *problem),
                                 void *arg, size_t *n) PL_WUR;
int pl__store_pg_record_put(struct pl_store *s, const struct pl_store_record *rec, const char *note,
                            size_t len) PL_WUR;
int pl__store_pg_record_get(struct pl_store *s, uint64_t index, struct pl_store_record *rec,
                            struct pl_buf *note) PL_WUR;
int pl__store_pg_record_find(struct pl_store *s, const uint8_t id[static PL_HASH_BYTES],
                             uint64_t *index) PL_WUR;
int pl__store_pg_record_find_prefix(struct pl_store *s, const uint8_t *prefix, unsigned nbits,
                                    uint64_t *out, size_t max, size_t *n) PL_WUR;
int pl__store_pg_record_count(struct pl_store *s, uint64_t *count) PL_WUR;
int pl__store_pg_ref_put(struct pl_store *s, uint64_t from, uint64_t to) PL_WUR;
int pl__store_pg_referrers(struct pl_store *s, uint64_t to, uint64_t *out, size_t max,
                           size_t *n) PL_WUR;
int pl__store_pg_ref_count(struct pl_store *s, uint64_t to, size_t max, size_t *n) PL_WUR;
int pl__store_pg_head_get(struct pl_store *s, const char *author, uint64_t *seq,
                          uint64_t *index) PL_WUR;
int pl__store_pg_head_set(struct pl_store *s, const char *author, uint64_t seq,
                          uint64_t index) PL_WUR;
int pl__store_pg_hashes_put(struct pl_store *s, uint64_t first,
                            const uint8_t (*hashes)[PL_HASH_BYTES], size_t n) PL_WUR;
int pl__store_pg_hashes_get(struct pl_store *s, const uint64_t *indexes, size_t n,
                            uint8_t (*hashes)[PL_HASH_BYTES]) PL_WUR;
int pl__store_pg_hashes_count(struct pl_store *s, uint64_t *count) PL_WUR;
int pl__store_pg_tindex_put(struct pl_store *s, uint64_t size, unsigned depth,
                            const uint8_t prefix[static PL_HASH_BYTES],
                            const struct pl_tindex_node *node) PL_WUR;
int pl__store_pg_tindex_get(struct pl_store *s, uint64_t size, unsigned depth,
                            const uint8_t prefix[static PL_HASH_BYTES],
                            struct pl_tindex_node *out) PL_WUR;
int pl__store_pg_tindex_empty(struct pl_store *s, bool *empty) PL_WUR;
int pl__store_pg_refs_each(struct pl_store *s,
                           int (*fn)(void *arg, const struct pl_tindex_ref *ref), void *arg) PL_WUR;
int pl__store_pg_checkpoint_put(struct pl_store *s, uint64_t size, const char *note,
                                size_t len) PL_WUR;
int pl__store_pg_checkpoint_get(struct pl_store *s, uint64_t size, uint64_t *size_out,
                                struct pl_buf *out) PL_WUR;
int pl__store_pg_checkpoint_cosign(struct pl_store *s, uint64_t size, const char *note,
                                   size_t len) PL_WUR;
int pl__store_pg_checkpoint_cosigned(struct pl_store *s, uint64_t *size_out,
                                     struct pl_buf *out) PL_WUR;
int pl__store_pg_party_put(struct pl_store *s, struct pl_store_party *p) PL_WUR;
int pl__store_pg_party_revoke(struct pl_store *s, const char *name, uint64_t index) PL_WUR;
int pl__store_pg_party_return(struct pl_store *s, const struct pl_store_party *p) PL_WUR;
int pl__store_pg_party_chain_put(struct pl_store *s, const char *name, const char *chain) PL_WUR;
int pl__store_pg_party_chain_get(struct pl_store *s, const char *name, char *out,
                                 size_t cap) PL_WUR;
int pl__store_pg_party_get(struct pl_store *s, const char *name, struct pl_store_party *p) PL_WUR;
int pl__store_pg_party_list(struct pl_store *s, struct pl_store_party **out, size_t *n) PL_WUR;
int pl__store_pg_inbox_put(struct pl_store *s, int64_t pid, uint64_t index) PL_WUR;
int pl__store_pg_inbox_list(struct pl_store *s, int64_t pid, bool with_public, uint64_t after,
                            uint64_t *out, size_t max, size_t *n) PL_WUR;
int pl__store_pg_inbox_before(struct pl_store *s, int64_t pid, uint64_t before, uint64_t *out,
                              size_t max, size_t *n) PL_WUR;
int pl__store_pg_payload_put(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                             const uint8_t *blob, size_t len, const char *uploader,
                             int64_t now) PL_WUR;
int pl__store_pg_payload_get(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                             uint8_t **blob, size_t *len) PL_WUR;
int pl__store_pg_payload_each(struct pl_store *s,
                              int (*fn)(void *arg, const uint8_t *hash, size_t hash_len,
                                        const uint8_t *blob, size_t len),
                              void *arg) PL_WUR;
int pl__store_pg_payload_info(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                              struct pl_store_payload *info) PL_WUR;
int pl__store_pg_payload_refer(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                               uint64_t index) PL_WUR;
int pl__store_pg_payload_pending(struct pl_store *s, const char *uploader, uint64_t *bytes) PL_WUR;
int pl__store_pg_payload_expire(struct pl_store *s, int64_t before, size_t max, size_t *n) PL_WUR;
int pl__store_pg_timer_put(struct pl_store *s, uint64_t index, int64_t due) PL_WUR;
int pl__store_pg_timer_del(struct pl_store *s, uint64_t index) PL_WUR;
int pl__store_pg_timer_get(struct pl_store *s, uint64_t index, int64_t *due) PL_WUR;
int pl__store_pg_timer_due(struct pl_store *s, int64_t now, uint64_t *out, size_t max,
                           size_t *n) PL_WUR;

/*
 * A thread index node's stored form, shared by both backends (store_tindex.c):
 * encode writes it to out and returns its length; decode checks a stored one
 * for shape (PL_ESTORE with the detail in s's errmsg otherwise).
 */
#define PL__STORE_NODE_MAX (2 * PL_HASH_BYTES + 16)
size_t pl__store_node_encode(uint8_t out[static PL__STORE_NODE_MAX],
                             const struct pl_tindex_node *n);
int pl__store_node_decode(struct pl_store *s, const uint8_t *p, size_t n,
                          struct pl_tindex_node *out) PL_WUR;

#endif
