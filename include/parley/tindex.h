/* The thread index: a sparse Merkle map from a record's id to the records that refer to it. */
#ifndef PARLEY_TINDEX_H
#define PARLEY_TINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/limits.h>

/*
 * docs/index.md is normative; in short:
 *
 * A key is a record id (32 bytes). Its value is the list of its entries,
 * each the id and log index of a record whose `ref` lines name the key, in
 * log order; a key without entries is absent. The key sits at the place
 * given by the bits of its path P = SHA-256("parley-tindex-v1-path" || key),
 * most significant bit first, 0 to the left. Hashes, all SHA-256 and none
 * an RFC 6962 leaf or node hash:
 *
 *     empty subtree   E   = SHA-256("parley-tindex-v1-empty")
 *     entry chain     C_0 = 32 zero bytes
 *                     C_i = SHA-256("parley-tindex-v1-entry" || C_(i-1) ||
 *                                   be64(index_i) || id_i)
 *     leaf            L   = SHA-256("parley-tindex-v1-leaf" || P || C_n)
 *     interior node   N   = SHA-256("parley-tindex-v1-node" || left || right)
 *
 * The tree is the canonical compressed binary trie of the paths: an empty
 * subtree hashes to E, a subtree holding one key is that key's leaf (at
 * whatever depth), and a subtree holding two or more keys is an interior
 * node over its two halves. Hence the root is a function of the map alone,
 * and a key's place is reached in about log2(n) steps.
 */

#define PL_TINDEX_PROOF_HEADER "parley/tindex-proof/v1"

/* One entry: a record that refers to the key, and where the log holds it. */
struct pl_tindex_entry {
	uint64_t index; /* log index, below 2^63 */
	uint8_t id[PL_HASH_BYTES];
};

/* One reference to add: record id at log index refers to key. */
struct pl_tindex_ref {
	uint8_t key[PL_HASH_BYTES];
	uint8_t id[PL_HASH_BYTES];
	uint64_t index;
};

/*
 * A stored node. An interior node keeps its children's hashes (E for an
 * empty child), so that an update reads one node per level; a leaf keeps its
 * key's path, its entry chain, the number of entries and the log index of the
 * last one. An empty subtree is not stored.
 */
struct pl_tindex_node {
	bool is_leaf;
	uint8_t left[PL_HASH_BYTES], right[PL_HASH_BYTES]; /* interior */
	uint8_t path[PL_HASH_BYTES], chain[PL_HASH_BYTES]; /* leaf */
	uint64_t count, last;                              /* leaf */
};

/*
 * Node storage, by position: depth 0..256 and prefix, the first depth bits of
 * the paths below that place (the bits past depth are zero). The root is at
 * depth 0. The tree code reads and writes nodes only through this interface,
 * so they can live in memory or in the exchange's store.
 *
 * get(ctx, depth, prefix, out) fills *out and returns 0, or returns
 * PL_ENOTFOUND when nothing is stored there, or another negative PL_E... code
 * (PL_ESTORE, PL_EIO, PL_ENOMEM), which the caller passes back up.
 * put(ctx, depth, prefix, node) stores node at the place, replacing what was
 * there; returns 0 or a negative PL_E... code. Nodes are only ever added or
 * replaced, never removed. The tree code trusts what get returns (a store that
 * lies makes roots an auditor rejects and proofs that do not verify, never a
 * false "verified"), adds no locking and keeps nothing between calls.
 */
struct pl_tindex_store {
	int (*get)(void *ctx, unsigned depth, const uint8_t prefix[static PL_HASH_BYTES],
	           struct pl_tindex_node *out);
	int (*put)(void *ctx, unsigned depth, const uint8_t prefix[static PL_HASH_BYTES],
	           const struct pl_tindex_node *node);
	void *ctx;
};

/* A tree over a store. Not thread-safe: one thread updates and proves. */
struct pl_tindex;

/*
 * Opens the tree held by s (an empty store is the empty map) and reads its
 * root. s is copied; its ctx must outlive the tree. Returns 0 with *out set,
 * PL_EINVAL, PL_ENOMEM or the store's error. Free with pl_tindex_free().
 */
int pl_tindex_open(struct pl_tindex **out, const struct pl_tindex_store *s) PL_WUR;

/* Frees the tree (not its store); NULL is a no-op. */
void pl_tindex_free(struct pl_tindex *t);

/* The current root hash (E for the empty map). */
void pl_tindex_root(const struct pl_tindex *t, uint8_t out[static PL_HASH_BYTES]);

/*
 * Adds refs[0..n) (1 <= n <= PL_TINDEX_MAX_BATCH): each appends the entry
 * (index, id) to its key. Refs may come in any order; for each key, every new
 * index must be above the key's last one and, within the call, distinct
 * (one entry per referring record). Hashes O(distinct keys x log n): the
 * upper levels are shared by the keys of one call, so a batch is cheapest as
 * one call. Reads the store first, then writes every changed node. Returns 0
 * with the root updated; PL_EINVAL (NULL, n out of range, an index at or above
 * 2^63, not above the key's last, or given twice for a key); PL_ETOOBIG (a key
 * would pass PL_TINDEX_MAX_ENTRIES); PL_ENOMEM; PL_ESTORE (the store holds a
 * node that cannot be there); or the store's error. On an error before any
 * write nothing changed; when a put fails, the store holds part of the batch:
 * the tree then refuses everything with PL_ESTATE, and the caller must discard
 * the store's changes (roll back its transaction) and reopen.
 */
int pl_tindex_update(struct pl_tindex *t, const struct pl_tindex_ref *refs, size_t n) PL_WUR;

/*
 * Reads the leaf of key: *count entries, the last at log index *last (either
 * pointer may be NULL). Returns 0, PL_ENOTFOUND when key has no entry,
 * PL_EINVAL, PL_ESTATE or the store's error.
 */
int pl_tindex_lookup(const struct pl_tindex *t, const uint8_t key[static PL_HASH_BYTES],
                     uint64_t *count, uint64_t *last) PL_WUR;

/*
 * A proof of key's value under a root: either its entries (present), or that
 * its place holds an empty subtree or another key's leaf (absent). Allocated
 * by pl_tindex_prove() and pl_tindex_proof_parse(); free with
 * pl_tindex_proof_free().
 */
struct pl_tindex_proof {
	uint8_t key[PL_HASH_BYTES];
	size_t nentries;                 /* 0: absent */
	struct pl_tindex_entry *entries; /* nentries, in log order; owned */
	bool has_other;                  /* absent, and another key's leaf is at its place */
	uint8_t other_path[PL_HASH_BYTES], other_chain[PL_HASH_BYTES];
	size_t nsiblings; /* the depth of the place */
	/* Deepest first: siblings[i] is the sibling at depth nsiblings - 1 - i; E for empty. */
	uint8_t siblings[PL_TINDEX_MAX_DEPTH][PL_HASH_BYTES];
};

/*
 * Proves key's value under the current root. The tree keeps only a chain
 * hash per key, so the caller supplies the key's entries as its own store
 * holds them: entries[0..nentries), exactly the key's entries in log order
 * (nentries 0 for a key it believes absent). Returns 0 with *out set;
 * PL_EPROOF when the entries given do not hash to the key's leaf (or are
 * given for an absent key, or none for a present one); PL_EINVAL; PL_ESTATE;
 * PL_ENOMEM; PL_ESTORE; or the store's error.
 */
int pl_tindex_prove(const struct pl_tindex *t, const uint8_t key[static PL_HASH_BYTES],
                    const struct pl_tindex_entry *entries, size_t nentries,
                    struct pl_tindex_proof **out) PL_WUR;

/* Frees a proof; NULL is a no-op. */
void pl_tindex_proof_free(struct pl_tindex_proof *p);

/*
 * Verifies that p proves the value of key under root: p->key is key, the
 * proof's shape is canonical, and its hashes lead to root. On 0 the proof
 * holds: p->nentries entries (0: key is absent). Returns PL_EPROOF when it
 * does not hold; PL_EINVAL for NULL. Allocates nothing; thread-safe.
 */
int pl_tindex_proof_verify(const struct pl_tindex_proof *p, const uint8_t key[static PL_HASH_BYTES],
                           const uint8_t root[static PL_HASH_BYTES]) PL_WUR;

/*
 * Appends the text form of p to out:
 *
 *     parley/tindex-proof/v1
 *     key <64 lowercase hex>
 *     entry <log index> <64 lowercase hex>   (present: 1..PL_TINDEX_MAX_ENTRIES,
 *                                             indexes strictly increasing)
 *     other <base64 path> <base64 chain>     (absent, another key's leaf at the place)
 *     <base64 hash> or -                     (0..PL_TINDEX_MAX_DEPTH siblings, deepest
 *                                             first; - is the empty subtree)
 *
 * every line ending in '\n'. Checks nothing cryptographic, but refuses what
 * pl_tindex_proof_parse() would: PL_EINVAL (entries out of order, entries
 * with has_other, a deepest sibling E), PL_ETOOBIG (counts over their limits),
 * or a pl_buf error; out is unchanged on error.
 */
int pl_tindex_proof_format(struct pl_buf *out, const struct pl_tindex_proof *p) PL_WUR;

/*
 * Strictly parses the text form text[0..len), at most
 * PL_TINDEX_PROOF_MAX_BYTES: exact header; lowercase hex; decimals without
 * sign or leading zeros, below 2^63; canonical padded base64 of exactly 32
 * bytes, never E (which is spelled -); the deepest sibling not -; every line
 * ending in '\n' and nothing after the last. Verifies nothing. Returns 0 with
 * *out set, PL_EMALFORMED, PL_ETOOBIG, PL_EINVAL or PL_ENOMEM; *out untouched
 * on error.
 */
int pl_tindex_proof_parse(struct pl_tindex_proof **out, const char *text, size_t len) PL_WUR;

/*
 * pl_tindex_proof_parse() then pl_tindex_proof_verify(). Returns 0 with *out
 * set (free with pl_tindex_proof_free()), or either function's error.
 */
int pl_tindex_proof_open(struct pl_tindex_proof **out, const char *text, size_t len,
                         const uint8_t key[static PL_HASH_BYTES],
                         const uint8_t root[static PL_HASH_BYTES]) PL_WUR;

/*
 * An in-memory node store, for tests, benchmarks and an auditor's replay.
 * About 120 bytes per node; a map of n keys has about 2.4 n nodes. Not
 * thread-safe.
 */
struct pl_tindex_memstore;

/* Creates an empty store. Returns 0 with *out set, or PL_ENOMEM. */
int pl_tindex_memstore_new(struct pl_tindex_memstore **out) PL_WUR;

/* Frees the store; NULL is a no-op. Trees opened over it must be freed first. */
void pl_tindex_memstore_free(struct pl_tindex_memstore *m);

/* The store interface over m. */
struct pl_tindex_store pl_tindex_memstore_store(struct pl_tindex_memstore *m);

/* Number of nodes stored. */
size_t pl_tindex_memstore_count(const struct pl_tindex_memstore *m);

#endif
