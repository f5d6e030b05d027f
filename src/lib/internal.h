/* Internals shared across libparley's modules; not part of the public API. */
#ifndef PARLEY_INTERNAL_H
#define PARLEY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/error.h>

#include "banned.h"

#define PL__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Big-endian integer stores and loads for wire formats. */
static inline void pl__put_be64(uint8_t p[static 8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t pl__get_be64(const uint8_t p[static 8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* True when s[0..n) starts with the NUL-terminated prefix. */
static inline int pl__has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(s, prefix, k) == 0;
}

struct pl_record;
/*
 * Parses the signed record msg[0..len) without verifying a signature (to
 * learn the keys a register brings, or what a record the log vouches for
 * says). Returns 0, pl_note_parse()'s or pl_record_parse()'s errors.
 */
int pl__record_parse_unverified(struct pl_record *r, const char *msg, size_t len);

/*
 * Takes the next '\n'-terminated line from text[*pos..len): *line points at
 * it, *n is its length without the newline, *pos moves past the newline.
 * False when no newline is left (nothing is set then).
 */
static inline bool pl__next_line(const char *text, size_t len, size_t *pos, const char **line,
                                 size_t *n)
{
	const char *nl = len > *pos ? memchr(text + *pos, '\n', len - *pos) : NULL;

	if (nl != NULL) {
		*line = text + *pos;
		*n = (size_t)(nl - *line);
		*pos += *n + 1;
	}
	return nl != NULL;
}

/* Takes the next line of text[*pos..len) and is true when it is exactly expect. */
static inline bool pl__next_line_is(const char *text, size_t len, size_t *pos, const char *expect)
{
	const char *line;
	size_t n;

	return pl__next_line(text, len, pos, &line, &n) && n == strlen(expect) &&
	       memcmp(line, expect, n) == 0;
}

/*
 * The bounds a text parser checks first: PL_EINVAL without somewhere to put
 * the result (out NULL) or with a NULL text of some length, PL_ETOOBIG over
 * max bytes, otherwise 0.
 */
static inline int pl__text_bounds(const void *out, const char *text, size_t len, size_t max)
{
	if (out == NULL || (text == NULL && len > 0))
		return PL_EINVAL;
	return len > max ? PL_ETOOBIG : 0;
}

/*
 * The opening a line-based parser of an object shares: the bounds
 * (pl__text_bounds()), a zeroed object of size bytes, and the first line,
 * which must be header (*pos then follows it). Returns the object (the
 * caller frees it, on every path), or NULL when the bounds or the memory
 * failed; *ret is 0, the bounds' error, PL_ENOMEM, or PL_EMALFORMED for
 * another first line.
 */
static inline void *pl__parse_open(const void *out, const char *text, size_t len, size_t max,
                                   size_t size, const char *header, size_t *pos, int *ret)
{
	void *obj;

	*ret = pl__text_bounds(out, text, len, max);
	if (*ret != 0)
		return NULL;
	obj = calloc(1, size);
	if (obj == NULL)
		*ret = PL_ENOMEM;
	else if (!pl__next_line_is(text, len, pos, header))
		*ret = PL_EMALFORMED;
	return obj;
}

/*
 * Reads the single line of a small key file into buf (cap bytes), without its
 * optional final newline. A secret file is opened without following a
 * symlink and refused when group or others have any permission on it.
 * Returns 0, PL_EIO (errno kept), PL_EDENIED or PL_ETOOBIG (longer than cap).
 * The caller wipes buf when it held a secret. Implemented in key.c.
 */
int pl__key_file_read_line(const char *path, bool secret, char *buf, size_t cap, size_t *len);

/*
 * Makes a new entry at path (a file, or a directory with or without a final
 * '/') durable by syncing the directory that holds it; a file system that
 * cannot sync a directory is let be. Returns 0 or PL_EIO. Implemented in key.c.
 */
int pl__sync_parent(const char *path);

/*
 * Returns "dir/file" in a new string the caller frees, or NULL when out of
 * memory or longer than PATH_MAX. Implemented in buf.c.
 */
char *pl__path_join(const char *dir, const char *file);

struct pl_buf;

/*
 * Cuts b back to its first len bytes (len <= b->len), still NUL-terminated:
 * how a builder takes back what it appended before failing. Implemented in buf.c.
 */
void pl__buf_truncate(struct pl_buf *b, size_t len);

/*
 * Takes the data directory dir's exchange lock file, without waiting: the
 * writer creates it (owner-only, never through a symlink) and locks it
 * exclusively; a reader locks an existing one shared and takes a missing one
 * as no lock (0 with *fd -1). *fd is the open file (or -1), which the caller
 * closes to release the lock, whatever is returned. Returns 0, PL_ENOMEM,
 * PL_EIO, or PL_ESTATE when the other side holds the lock, with "path: why"
 * (why being `busy` for PL_ESTATE) added to err when err is not NULL.
 * Implemented in exchange_life.c.
 */
int pl__ex_lock_file(const char *dir, bool writer, const char *busy, int *fd, struct pl_buf *err);

/*
 * Reads a whole small file from fd into buf (cap bytes). Returns 0 with *len
 * set, PL_ETOOBIG when the file holds more than cap bytes, or PL_EIO.
 * Implemented in buf.c.
 */
int pl__read_small(int fd, void *buf, size_t cap, size_t *len);

/*
 * Opens path without following a final symbolic link and reads it whole as
 * pl__read_small() does. Returns 0 with *len set, PL_ENOTFOUND when there is
 * no such file, PL_ETOOBIG, or PL_EIO (errno kept). Implemented in buf.c.
 */
int pl__read_path(const char *path, void *buf, size_t cap, size_t *len);

/* Writes all of buf[0..len) to fd, resuming after signals. Returns 0 or PL_EIO. In buf.c. */
int pl__write_all(int fd, const void *buf, size_t len);

/*
 * Makes room in an array for one more element at position n: pp points to
 * the array's pointer (any object pointer type), *cap is its length in
 * elements of elem bytes; doubles it (from `first` elements) when n == *cap.
 * Returns 0, or PL_ENOMEM with the array and *cap unchanged.
 */
int pl__grow(void *pp, size_t *cap, size_t n, size_t elem, size_t first);

/*
 * The parsers of the exchange's answers (docs/api.md), callable without HTTP
 * so that they are tested and fuzzed; the pl_client_ endpoints call them.
 * body[0..len) is the untrusted answer (body may be NULL when len is 0).
 * Each returns 0 and fills the outputs, as the endpoint's function does (and
 * released the same way), or PL_EMALFORMED, PL_EPROOF (an id that is not
 * SHA-256 of its record), PL_EINVAL (a bad argument of the caller's) or
 * PL_ENOMEM; on error the outputs are untouched, nothing is kept, and *why
 * (when why is not NULL) may be set to a static reason for people.
 * Thread-safe: no shared state. Implemented in apicodec.c, each beside the
 * encoder parleyd answers with (include/parley/apicodec.h).
 */
struct pl_client_entry;
struct pl_client_list;
struct pl_receipt;
struct pl_client_line;
struct pl_client_party;
struct pl__client_sse;

struct pl_client_error;

/* POST /records: rec[0..rec_len) is the record submitted, whose SHA-256 the id must be. */
int pl__client_receipt_parse(const char *body, size_t len, const char *rec, size_t rec_len,
                             struct pl_receipt *out, const char **why);

/*
 * One header line (its CRLF included or not): 0 with *index for a valid
 * Parley-Index, PL_ENOTFOUND for another header, PL_EMALFORMED for a
 * Parley-Index whose value is not a decimal up to 2^63-1.
 */
int pl__client_index_header(const char *p, size_t n, uint64_t *index);

/*
 * GET /records/<id>: id is the one asked (8 to 64 hex digits, else
 * PL_EINVAL), index the value of the Parley-Index header (NULL when none came).
 */
int pl__client_record_parse(const char *body, size_t len, const char *id, const uint64_t *index,
                            struct pl_client_entry *out, const char **why);

/* {"records": [...]} with "next" required when want_next (statements, inbox), not (thread). */
int pl__client_list_parse(const char *body, size_t len, bool want_next, struct pl_client_list *out,
                          const char **why);

/* GET /lines/<line>: the answer must name the line asked. */
int pl__client_line_parse(const char *body, size_t len, const char *line,
                          struct pl_client_line *out, const char **why);

/* GET /parties: *out is an array of *n, for pl_client_parties_free(). */
int pl__client_parties_parse(const char *body, size_t len, struct pl_client_party **out, size_t *n,
                             const char **why);

/* POST /payloads: the hash answered must be sent, the SHA-256 of the blob sent. */
int pl__client_payload_parse(const char *body, size_t len, const uint8_t sent[static 32],
                             const char **why);

/*
 * An error answer, best effort (it only explains a status): sets err's code,
 * reason and chain head from what the body has; leaves the rest alone.
 */
void pl__client_error_parse(const char *body, size_t len, struct pl_client_error *err);

/* Whether id names a record as a request may: 8 to 64 hex digits. */
bool pl__client_id_is_valid(const char *id);

/* GET /consistency: one base64 hash per line, at most PL_PROOF_MAX_HASHES (32: PL_HASH_BYTES). */
int pl__client_consistency_parse(const char *body, size_t len, uint8_t hashes[][32], size_t *n,
                                 const char **why);

/*
 * The text/event-stream of GET /inbox, fed in chunks of any size. fn is
 * called for each record event (e valid during the call only); *cursor is
 * advanced past each record delivered and to each event's id. After fn
 * returns non-zero the parser is stopped: feeding reads nothing more.
 * pl__client_sse_feed() returns 0, PL_EMALFORMED (a bad id or record),
 * PL_EPROOF (an id that is not the record's hash), PL_ETOOBIG (a line or an
 * event over the limit) or PL_ENOMEM, and after an error returns it again
 * without reading. _free(NULL) is a no-op.
 */
int pl__client_sse_new(struct pl__client_sse **out, uint64_t *cursor,
                       int (*fn)(void *arg, const struct pl_client_entry *e), void *arg);
int pl__client_sse_feed(struct pl__client_sse *s, const char *p, size_t n);
bool pl__client_sse_is_stopped(const struct pl__client_sse *s);
void pl__client_sse_free(struct pl__client_sse *s);

/*
 * The exchange's file PL_EXCHANGE_PUBLISHED_FILE (include/parley/exchange.h):
 * the newest checkpoint the exchange signed, kept outside its store so that
 * a store that lost records is refused instead of forking the log. Two slots
 * of PL__PUBLISHED_SLOT bytes, each empty (all zeros) or
 *
 *     "parley/published/v1 " <decimal length> "\n" <signed checkpoint note> <zeros>
 *
 * written in turn (published.c says why). Implemented in published.c.
 */
#define PL__PUBLISHED_SLOT  4096
#define PL__PUBLISHED_BYTES (2 * PL__PUBLISHED_SLOT)

struct pl_vkey;

/* What the file remembers: the newer valid slot. */
struct pl__published {
	uint64_t size;
	uint8_t root[32];
	unsigned slot;   /* the slot that holds it (0 or 1); the next write goes to the other */
	bool other_torn; /* the other slot is neither empty nor valid (a write was torn) */
	size_t note_len;
	char note[PL__PUBLISHED_SLOT]; /* the signed note, NUL-terminated */
};

/*
 * Parses the file's bytes file[0..len): exactly PL__PUBLISHED_BYTES, each
 * slot empty or holding, byte for byte, a checkpoint note of origin that
 * verifies with vk (the log key). Returns 0 with *out set to the slot of the
 * larger size, PL_EMALFORMED (wrong length, or no slot valid),
 * PL_EINCONSISTENT (both valid at one size with different roots), PL_EINVAL
 * or PL_ENOMEM; out is untouched on error. Thread-safe.
 */
int pl__published_parse(struct pl__published *out, const uint8_t *file, size_t len,
                        const char *origin, const struct pl_vkey *vk) PL_WUR;

/* Reads and parses the file at path: as above, or PL_ENOTFOUND (no file), PL_EIO. */
int pl__published_read(struct pl__published *out, const char *path, const char *origin,
                       const struct pl_vkey *vk) PL_WUR;

/* Fills a whole slot with note[0..len). Returns 0, PL_EINVAL, PL_ETOOBIG. */
int pl__published_slot_format(uint8_t slot[static PL__PUBLISHED_SLOT], const char *note,
                              size_t len) PL_WUR;

/*
 * Makes dir/file, durably, at its full size with note in slot 0 and slot 1
 * empty: written under a temporary name, synced, renamed over any old file,
 * and the directory synced. Returns 0, PL_ETOOBIG, PL_EIO, PL_ENOMEM.
 */
int pl__published_create(const char *dir, const char *file, const char *note, size_t len) PL_WUR;

/* Opens dir/file for pl__published_write() (*fd, close() it). 0, PL_ENOTFOUND, PL_EIO. */
int pl__published_open(const char *dir, const char *file, int *fd) PL_WUR;

/*
 * Overwrites slot (0 or 1) in place with note[0..len), without syncing;
 * pl__published_sync() makes it durable (fdatasync: the file's size and
 * blocks never change). Return 0, PL_EINVAL, PL_ETOOBIG, PL_EIO.
 */
int pl__published_write(int fd, unsigned slot, const char *note, size_t len) PL_WUR;
int pl__published_sync(int fd) PL_WUR;

/*
 * The checks that what a store holds is still what the log committed to,
 * shared by the exchange's reads and by pl_exchange_verify(). Each returns
 * 0, PL_EDAMAGED with a description for the operator written to
 * why[0..whylen) (what failed, where, expected and found hash prefixes), or
 * the store's error. Implemented in exchange_check.c.
 */
struct pl_store;

/*
 * A stored record: its bytes note[0..len) give its leaf hash, which must be
 * the stored level-0 hash leaf, and, when id is not NULL, hash (SHA-256) to
 * id. Reads nothing.
 */
int pl__check_record(uint64_t index, const uint8_t *id, const void *note, size_t len,
                     const uint8_t leaf[32], char *why, size_t whylen);

/*
 * The full hash tile <level>/<n>: the subtree root its 256 hashes give must be
 * the stored hash one tile level up (tree level 8 * (level + 1), number n),
 * which the caller must in turn check. Reads the tile and that hash from s.
 */
int pl__check_full_tile(struct pl_store *s, unsigned level, uint64_t n, char *why, size_t whylen);

/* The right edge of a tree: the hashes of its partial tile at each tile level. */
struct pl__edge {
	uint64_t size;
	uint8_t tiles[8][256 * 32]; /* tile level l: (size >> 8l) % 256 hashes of 32 bytes */
};

/*
 * The right edge of the tree of size leaves: the root that the tree's
 * partial tiles give (every hash of each of them counts, as in a tile
 * client's tree hash) must be root, the signed checkpoint's. The hashes are
 * read from s into *out, except those known (not NULL: an edge checked
 * before, of a smaller or equal tree) already holds of the same tiles.
 */
int pl__check_edge(struct pl_store *s, uint64_t size, const uint8_t root[32],
                   const struct pl__edge *known, struct pl__edge *out, char *why, size_t whylen);

struct pl_store_party;

/*
 * A directory entry p against its register record note[0..len) (the bytes
 * at p->register_index, already checked): the record registers p->name with
 * the keys p holds, in the text forms the exchange indexes. Reads nothing.
 */
int pl__check_party(const struct pl_store_party *p, const char *note, size_t len, char *why,
                    size_t whylen);

/*
 * Says why a pl_session_* call fails (printf-style, into s->why) and whose
 * fault it is (blame: an enum pl_session_blame). Returns err, or PL_EINVAL
 * when err is 0.
 */
struct pl_session;
int pl__session_fail(struct pl_session *s, int blame, int err, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* The explorer (explorer.c, explorer_feed.c): the record of a logged entry, parsed (the
 * exchange checked its bytes against the signed tree). 0 or the parsers' errors. */
struct pl_exchange_entry;
struct pl_record;
int pl__explorer_entry_record(const struct pl_exchange_entry *e, struct pl_record *rec);

#endif
