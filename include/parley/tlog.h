/* RFC 6962 / RFC 9162 Merkle tree over SHA-256, with its hashes kept in caller-chosen storage. */
#ifndef PARLEY_TLOG_H
#define PARLEY_TLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/limits.h>

/*
 * Stored hashes.
 *
 * A tree of n leaves is kept as its "stored hashes": the hash of every
 * complete subtree, at every level. Level 0 holds the leaf hashes; the hash
 * of the level-l subtree number k covers leaves [k * 2^l, (k + 1) * 2^l).
 * Stored hashes are numbered in the order appends produce them (an index,
 * 0-based, dense), so a store is an append-only array indexed by a uint64:
 * appending leaf number n writes the leaf hash, then the hash of each
 * subtree that leaf completes, lowest level first. A tree of n leaves has
 * pl_tlog_stored_count(n) = 2n - popcount(n) stored hashes; the hashes of
 * the tree at any size m <= n are among them (no hash is ever rewritten).
 *
 * This numbering is the one used by Go's golang.org/x/mod/sumdb/tlog, so a
 * store written by either can be read by the other.
 */

#define PL_TLOG_MAX_LEVEL 63 /* levels are 0..63: a tree holds at most 2^63 leaves */
#define PL_TLOG_MAX_SIZE  (UINT64_C(1) << 63)

/* Most hashes one read callback is asked for (a full hash tile is 256 hashes). */
#define PL_TLOG_READ_MAX 256

/*
 * The tree code reads storage only through this callback, so hashes can live
 * in memory, in SQLite, or be recomputed from tiles.
 *
 * read(ctx, indexes, n, hashes) must write the stored hash with index
 * indexes[i] to hashes[i] for each i < n, and return 0; or return a negative
 * PL_E... code (PL_ENOTFOUND when an index is not stored, PL_ESTORE or
 * PL_EIO for a storage failure, PL_ENOMEM), which the caller passes back up
 * unchanged. The tree code guarantees 1 <= n <= PL_TLOG_READ_MAX and that
 * indexes are strictly increasing. The callback must return the hashes that
 * were appended: the tree code trusts them (a store that lies produces proofs
 * that do not verify, never a false "verified"). Whether the callback may be
 * called from several threads is up to its owner; the tree code adds no
 * locking and keeps no state between calls.
 */
struct pl_tlog_reader {
	int (*read)(void *ctx, const uint64_t *indexes, size_t n, uint8_t (*hashes)[PL_HASH_BYTES]);
	void *ctx;
};

/* Leaf hash: SHA-256(0x00 || data[0..len)). */
void pl_tlog_leaf_hash(uint8_t out[static PL_HASH_BYTES], const void *data, size_t len);

/* Interior node hash: SHA-256(0x01 || left || right). out may alias left or right. */
void pl_tlog_node_hash(uint8_t out[static PL_HASH_BYTES], const uint8_t left[static PL_HASH_BYTES],
                       const uint8_t right[static PL_HASH_BYTES]);

/* Hash of the empty tree: SHA-256 of the empty string. */
void pl_tlog_empty_hash(uint8_t out[static PL_HASH_BYTES]);

/*
 * Index of the stored hash of the level-`level` subtree number n (covering
 * leaves [n << level, (n + 1) << level)). level <= PL_TLOG_MAX_LEVEL and
 * (n + 1) << level <= PL_TLOG_MAX_SIZE, else the result is meaningless.
 */
uint64_t pl_tlog_stored_index(unsigned level, uint64_t n);

/* Inverse of pl_tlog_stored_index(): the level and subtree number of a stored index. */
void pl_tlog_stored_split(uint64_t index, unsigned *level, uint64_t *n);

/*
 * Number of stored hashes of a tree of size leaves (2 * size - popcount(size)).
 * It is also the index of the first hash that appending leaf number `size` writes.
 */
uint64_t pl_tlog_stored_count(uint64_t size);

/*
 * Appends count leaves (their leaf hashes, see pl_tlog_leaf_hash()) to a tree
 * of size leaves whose stored hashes r reads. Does not write anything: on
 * success it fills out[0..*nout) with the new stored hashes, which the caller
 * must store at indexes pl_tlog_stored_count(size) + 0, + 1, ..., in order;
 * *nout = pl_tlog_stored_count(size + count) - pl_tlog_stored_count(size),
 * which is at most 2 * count + 63. Reads at most popcount(size) old hashes in
 * one call (none when count == 0 or when no old subtree is completed); the
 * hashes of earlier leaves of the same batch come from out itself, so a batch
 * needs no write-then-read.
 * O(count + log size) hashing. Returns 0; PL_EINVAL for a NULL argument;
 * PL_ERANGE when size + count > PL_TLOG_MAX_SIZE; PL_ETOOBIG when out_cap is
 * smaller than *nout would be; or the reader's error. *nout is set only on
 * success; out may be written to on failure.
 */
int pl_tlog_append(const struct pl_tlog_reader *r, uint64_t size,
                   const uint8_t (*leaf_hashes)[PL_HASH_BYTES], size_t count,
                   uint8_t (*out)[PL_HASH_BYTES], size_t out_cap, size_t *nout) PL_WUR;

/*
 * Root hash of the tree at size leaves (0 <= size <= the stored size; the
 * empty hash for 0), read from r with one call of popcount(size) hashes.
 * Returns 0, PL_ERANGE when size > PL_TLOG_MAX_SIZE, or the reader's error
 * (PL_ENOTFOUND when size exceeds what is stored).
 */
int pl_tlog_tree_hash(const struct pl_tlog_reader *r, uint64_t size,
                      uint8_t out[static PL_HASH_BYTES]) PL_WUR;

/*
 * Inclusion proof (RFC 9162 §2.1.3.1) of leaf index in the tree at size
 * leaves: writes *nproof hashes to proof, which must hold
 * PL_PROOF_MAX_HASHES entries (a proof has at most 63). Returns 0,
 * PL_ERANGE when index >= size or size > PL_TLOG_MAX_SIZE, or the reader's
 * error. Reads r once. *nproof set only on success.
 */
int pl_tlog_prove_inclusion(const struct pl_tlog_reader *r, uint64_t size, uint64_t index,
                            uint8_t (*proof)[PL_HASH_BYTES], size_t *nproof) PL_WUR;

/*
 * Consistency proof (RFC 9162 §2.1.4.1) from the tree at old_size to the
 * tree at new_size: writes *nproof hashes to proof (room for
 * PL_PROOF_MAX_HASHES). The proof is empty when old_size is 0 or equals
 * new_size. Returns 0, PL_ERANGE when old_size > new_size or new_size >
 * PL_TLOG_MAX_SIZE, or the reader's error. Reads r once (not at all for an empty
 * proof). *nproof set only on success.
 */
int pl_tlog_prove_consistency(const struct pl_tlog_reader *r, uint64_t old_size, uint64_t new_size,
                              uint8_t (*proof)[PL_HASH_BYTES], size_t *nproof) PL_WUR;

/*
 * Verifies an inclusion proof (RFC 9162 §2.1.3.2): that leaf_hash is leaf
 * number index of the tree of size leaves whose root is root. Every hash is
 * exactly PL_HASH_BYTES (the array type); callers decoding proofs from
 * outside must reject any other length before calling. Returns 0 when the
 * proof holds; PL_EPROOF when it does not, including index >= size, a proof
 * of the wrong length for (index, size), and nproof > PL_PROOF_MAX_HASHES;
 * PL_EINVAL for NULL pointers (proof may be NULL when nproof is 0).
 * Allocates nothing; thread-safe; not constant-time (all inputs are public).
 */
int pl_tlog_verify_inclusion(const uint8_t leaf_hash[static PL_HASH_BYTES], uint64_t index,
                             uint64_t size, const uint8_t (*proof)[PL_HASH_BYTES], size_t nproof,
                             const uint8_t root[static PL_HASH_BYTES]) PL_WUR;

/*
 * Computes the root implied by an inclusion proof without comparing it:
 * the building block of pl_tlog_verify_inclusion(). Returns 0 with out set,
 * or PL_EPROOF when the proof has the wrong shape for (index, size).
 */
int pl_tlog_root_from_inclusion(uint8_t out[static PL_HASH_BYTES],
                                const uint8_t leaf_hash[static PL_HASH_BYTES], uint64_t index,
                                uint64_t size, const uint8_t (*proof)[PL_HASH_BYTES],
                                size_t nproof) PL_WUR;

/*
 * Verifies a consistency proof (RFC 9162 §2.1.4.2) that the tree of new_size
 * leaves with root new_root extends the tree of old_size leaves with root
 * old_root. Special cases, checked explicitly: old_size > new_size fails;
 * old_size == new_size holds iff the proof is empty and the roots are equal;
 * old_size == 0 holds iff the proof is empty and old_root is the empty hash
 * (every tree extends the empty tree). Returns 0 when the proof holds,
 * PL_EPROOF otherwise (also nproof > PL_PROOF_MAX_HASHES), PL_EINVAL for NULL
 * pointers. Allocates nothing; thread-safe.
 */
int pl_tlog_verify_consistency(uint64_t old_size, uint64_t new_size,
                               const uint8_t old_root[static PL_HASH_BYTES],
                               const uint8_t new_root[static PL_HASH_BYTES],
                               const uint8_t (*proof)[PL_HASH_BYTES], size_t nproof) PL_WUR;

/*
 * An in-memory store of stored hashes, for tests, benchmarks and tools that
 * hold a whole (small) log. It keeps 32 bytes per stored hash, about 64 bytes
 * per leaf. Not thread-safe for appends; concurrent reads are fine while no
 * append runs.
 */
struct pl_tlog_memstore;

/* Creates an empty store. Returns 0 with *out set, or PL_ENOMEM. Free with _free(). */
int pl_tlog_memstore_new(struct pl_tlog_memstore **out) PL_WUR;

/* Frees the store; NULL is a no-op. Readers obtained from it become invalid. */
void pl_tlog_memstore_free(struct pl_tlog_memstore *m);

/* Number of leaves appended so far. */
uint64_t pl_tlog_memstore_size(const struct pl_tlog_memstore *m);

/*
 * Appends count leaf hashes (pl_tlog_append() plus the write). Returns 0,
 * PL_ENOMEM or PL_ERANGE; on failure the store is unchanged.
 */
int pl_tlog_memstore_append(struct pl_tlog_memstore *m, const uint8_t (*leaf_hashes)[PL_HASH_BYTES],
                            size_t count) PL_WUR;

/* A reader over the store's hashes (PL_ENOTFOUND for an index not yet stored). */
struct pl_tlog_reader pl_tlog_memstore_reader(struct pl_tlog_memstore *m);

#endif
