/* The SQLite store's thread index nodes: each place's node at every checkpoint size. */
#include "store_pg.h"
#include "store_sqlite.h"

#include <string.h>

#include "internal.h"

#define STORE_TINDEX_HEAP_DEPTH 62 /* deepest place numbered in tindex; deeper: tindex_deep */
#define STORE_NODE_INTERIOR     (2 * PL_HASH_BYTES)
#define STORE_NODE_LEAF         (2 * PL_HASH_BYTES + 16)

_Static_assert(STORE_NODE_LEAF == PL__STORE_NODE_MAX, "one size of a stored node");

/* The heap number of a place at depth <= STORE_TINDEX_HEAP_DEPTH: 2^depth + its prefix. */
static int64_t store_tindex_pos(unsigned depth, const uint8_t prefix[static PL_HASH_BYTES])
{
	uint64_t bits = depth ? pl__get_be64(prefix) >> (64 - depth) : 0;

	return (int64_t)((UINT64_C(1) << depth) | bits);
}

/* A version as SQLite keeps it: PL_STORE_LATEST and anything past INT64_MAX is the newest. */
static int64_t store_tindex_version(uint64_t size)
{
	return size > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)size;
}

/* The stored form: an interior node's two hashes, or a leaf's path, chain, count and last. */
static size_t store_node_encode(uint8_t out[static STORE_NODE_LEAF], const struct pl_tindex_node *n)
{
	if (!n->is_leaf) {
		memcpy(out, n->left, PL_HASH_BYTES);
		memcpy(out + PL_HASH_BYTES, n->right, PL_HASH_BYTES);
		return STORE_NODE_INTERIOR;
	}
	memcpy(out, n->path, PL_HASH_BYTES);
	memcpy(out + PL_HASH_BYTES, n->chain, PL_HASH_BYTES);
	pl__put_be64(out + 2 * PL_HASH_BYTES, n->count);
	pl__put_be64(out + 2 * PL_HASH_BYTES + 8, n->last);
	return STORE_NODE_LEAF;
}

/* Reads back a stored node, checked for shape: hostile bytes are PL_ESTORE. */
static int store_node_decode(struct pl_store *s, const uint8_t *p, size_t n,
                             struct pl_tindex_node *out)
{
	memset(out, 0, sizeof(*out));
	if (n == STORE_NODE_INTERIOR) {
		memcpy(out->left, p, PL_HASH_BYTES);
		memcpy(out->right, p + PL_HASH_BYTES, PL_HASH_BYTES);
		return 0;
	}
	if (n != STORE_NODE_LEAF)
		return pl__sql_bad(&s->q, "tindex: a node of %zu bytes", n);
	out->is_leaf = true;
	memcpy(out->path, p, PL_HASH_BYTES);
	memcpy(out->chain, p + PL_HASH_BYTES, PL_HASH_BYTES);
	out->count = pl__get_be64(p + 2 * PL_HASH_BYTES);
	out->last = pl__get_be64(p + 2 * PL_HASH_BYTES + 8);
	if (out->count == 0 || out->count > PL_TINDEX_MAX_ENTRIES ||
	    out->last > (uint64_t)INT64_MAX)
		return pl__sql_bad(&s->q, "tindex: a leaf out of range");
	return 0;
}

/* The stored form of a node, for both backends (store_pg.h). */
size_t pl__store_node_encode(uint8_t out[static PL__STORE_NODE_MAX], const struct pl_tindex_node *n)
{
	return store_node_encode(out, n);
}

int pl__store_node_decode(struct pl_store *s, const uint8_t *p, size_t n,
                          struct pl_tindex_node *out)
{
	return store_node_decode(s, p, n, out);
}

/*
 * Prepares which, a statement on the node at depth and prefix (a heap position when shallow,
 * depth and prefix when deep), with the node's key and version bound; *col receives the next
 * parameter's number.
 */
static int store_tindex_stmt(struct pl_store *s, enum store_stmt which, unsigned depth,
                             const uint8_t prefix[static PL_HASH_BYTES], sqlite3_int64 version,
                             sqlite3_stmt **st, int *col)
{
	int ret = pl__sql_stmt(&s->q, which, st);

	if (ret)
		return ret;
	if (depth > STORE_TINDEX_HEAP_DEPTH) {
		sqlite3_bind_int(*st, 1, (int)depth);
		sqlite3_bind_blob(*st, 2, prefix, PL_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(*st, 3, version);
		*col = 4;
	} else {
		sqlite3_bind_int64(*st, 1, store_tindex_pos(depth, prefix));
		sqlite3_bind_int64(*st, 2, version);
		*col = 3;
	}
	return 0;
}

int pl_store_tindex_put(struct pl_store *s, uint64_t size, unsigned depth,
                        const uint8_t prefix[static PL_HASH_BYTES],
                        const struct pl_tindex_node *node)
{
	PL__STORE_PG(s, pl__store_pg_tindex_put(s, size, depth, prefix, node));
	bool deep = depth > STORE_TINDEX_HEAP_DEPTH;
	enum store_stmt which = deep ? ST_TINDEX_DEEP_PUT : ST_TINDEX_PUT;
	uint8_t blob[STORE_NODE_LEAF];
	size_t n = store_node_encode(blob, node);
	sqlite3_stmt *st;
	int col, ret;

	if (depth > PL_TINDEX_MAX_DEPTH || size > (uint64_t)INT64_MAX)
		return PL_EINVAL;
	ret = store_tindex_stmt(s, which, depth, prefix, (sqlite3_int64)size, &st, &col);
	if (ret)
		return ret;
	sqlite3_bind_blob(st, col, blob, (int)n, SQLITE_STATIC);
	return pl__sql_exec(&s->q, which, st);
}

int pl_store_tindex_get(struct pl_store *s, uint64_t size, unsigned depth,
                        const uint8_t prefix[static PL_HASH_BYTES], struct pl_tindex_node *out)
{
	PL__STORE_PG(s, pl__store_pg_tindex_get(s, size, depth, prefix, out));
	bool deep = depth > STORE_TINDEX_HEAP_DEPTH;
	enum store_stmt which = deep ? ST_TINDEX_DEEP_GET : ST_TINDEX_GET;
	const void *p = NULL;
	size_t n = 0;
	sqlite3_stmt *st;
	int col, ret;

	if (depth > PL_TINDEX_MAX_DEPTH)
		return PL_EINVAL;
	ret = store_tindex_stmt(s, which, depth, prefix, store_tindex_version(size), &st, &col);
	if (ret)
		return ret;
	ret = pl__sql_row(&s->q, which, st);
	if (!ret)
		ret = pl__sql_col_blob(&s->q, st, 0, STORE_NODE_INTERIOR, STORE_NODE_LEAF, &p, &n,
		                       "tindex node");
	if (!ret)
		ret = store_node_decode(s, p, n, out);
	pl__sql_done(st);
	return ret;
}

int pl_store_tindex_empty(struct pl_store *s, bool *empty)
{
	PL__STORE_PG(s, pl__store_pg_tindex_empty(s, empty));
	sqlite3_stmt *st;
	int ret = pl__sql_stmt(&s->q, ST_TINDEX_ANY, &st);

	if (ret)
		return ret;
	ret = pl__sql_row(&s->q, ST_TINDEX_ANY, st);
	pl__sql_done(st);
	if (ret == 0 || ret == PL_ENOTFOUND) {
		*empty = ret == PL_ENOTFOUND;
		ret = 0;
	}
	return ret;
}

/* The tree's get over a view. Thread: the view's connection's. */
static int store_view_get(void *ctx, unsigned depth, const uint8_t prefix[static PL_HASH_BYTES],
                          struct pl_tindex_node *out)
{
	struct pl_store_tindex *v = ctx;

	return pl_store_tindex_get(v->s, v->read_size, depth, prefix, out);
}

/* The tree's put over a view. Thread: the view's connection's. */
static int store_view_put(void *ctx, unsigned depth, const uint8_t prefix[static PL_HASH_BYTES],
                          const struct pl_tindex_node *node)
{
	struct pl_store_tindex *v = ctx;

	return pl_store_tindex_put(v->s, v->write_size, depth, prefix, node);
}

struct pl_tindex_store pl_store_tindex_store(struct pl_store_tindex *v)
{
	struct pl_tindex_store ts = {.get = store_view_get, .put = store_view_put, .ctx = v};

	return ts;
}

int pl_store_refs_each(struct pl_store *s, int (*fn)(void *arg, const struct pl_tindex_ref *ref),
                       void *arg)
{
	PL__STORE_PG(s, pl__store_pg_refs_each(s, fn, arg));
	struct pl_tindex_ref r;
	sqlite3_stmt *st = NULL;
	int ret = pl__sql_stmt(&s->q, ST_REF_EACH, &st);

	while (!ret && !(ret = pl__sql_row(&s->q, ST_REF_EACH, st))) {
		ret = pl__sql_col_u64(&s->q, st, 0, &r.index, "refs index");
		if (!ret)
			ret = pl__sql_col_exact(&s->q, st, 1, r.key, PL_HASH_BYTES, "refs key");
		if (!ret)
			ret = pl__sql_col_exact(&s->q, st, 2, r.id, PL_HASH_BYTES, "refs id");
		if (!ret)
			ret = fn(arg, &r);
	}
	pl__sql_done(st);
	return ret == PL_ENOTFOUND ? 0 : ret;
}
