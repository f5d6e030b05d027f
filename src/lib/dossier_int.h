/* What the dossier files share: the parsed file, its lookups and the one way to give a reason. */
#ifndef PARLEY_DOSSIER_INT_H
#define PARLEY_DOSSIER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <parley/checkpoint.h>
#include <parley/dossier.h>
#include <parley/tindex.h>

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, after a shortened id */
#define ID_SHORT 8              /* hex digits of an id shown to people */
#define NO_ENTRY SIZE_MAX

static inline unsigned popcount(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

/*
 * One log entry of the dossier. Version 1: a record before the window (with
 * its proof) or in it. Version 2: a thread record (with its proof and its
 * index proof), another record (with its proof), or the index record.
 */
struct dentry {
	uint64_t index;
	const char *msg; /* inside the JSON tree, which outlives every use */
	size_t len;
	uint8_t (*proof)[PL_HASH_BYTES];
	size_t nproof;
	struct pl_tindex_proof *tproof; /* version 2, a thread record: its index proof */
	uint8_t id[PL_RECORD_ID_BYTES];
	/* Set while verifying (version 2: thread is set by the parser). */
	struct pl_record *rec; /* trimmed copy: the body stops at body_len */
	size_t signer;         /* index into the directory */
	bool thread;
};

struct ddisc {
	uint8_t id[PL_RECORD_ID_BYTES];
	uint8_t *plaintext; /* len bytes and a NUL */
	size_t len;
	uint8_t salt[PL_BOX_SALT_BYTES];
};

struct idpos {
	uint8_t id[PL_RECORD_ID_BYTES];
	size_t pos;
};

struct dossier {
	json_t *root;
	unsigned version; /* 1 or 2 */
	const char *origin;
	struct pl_vkey log_key;
	const char *checkpoint;
	size_t checkpoint_len;
	uint8_t subject[PL_RECORD_ID_BYTES];
	uint64_t start;
	uint8_t frontier[PL_DOSSIER_MAX_FRONTIER][PL_HASH_BYTES];
	size_t nfrontier;
	/*
	 * Log order throughout. Version 1: e[0..nproven) before the window,
	 * e[nproven..ne) the window. Version 2: the thread and the other
	 * records merged, then the index record last, at e[ne - 1].
	 */
	struct dentry *e;
	size_t ne, nproven;
	size_t subject_pos; /* the subject's position in e */
	size_t nthread;     /* version 2: the thread records in e */
	struct ddisc *disc;
	size_t ndisc;
	/* Every entry's (id, position in e), sorted by id, for lookups by id. */
	struct idpos *by_id;
};

/* Appends one reason line to why (when given) and returns code. */
int pl__dossier_fail(struct pl_buf *why, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Writes "<first 8 hex digits>…" of id to out. */
void pl__dossier_id_short(char out[static ID_SHORT + sizeof(ELLIPSIS)], const uint8_t *id);

/* A copy of a record that stops at the end of its body (most records have none); malloc'd. */
struct pl_record *pl__dossier_record_trim(const struct pl_record *r);

/*
 * Opens msg[0..len) as an index record of origin signed by log_key: 0 with
 * its root in root; PL_EPROOF when it is not one, with what it is in
 * what[0..n) ("a statement", "a record that does not open: ..."); PL_ENOMEM.
 */
int pl__dossier_index_open(const char *msg, size_t len, const char *origin,
                           const struct pl_vkey *log_key, uint8_t root[static PL_HASH_BYTES],
                           char *what, size_t n);

/* Frees what d holds and zeroes it; safe on a zeroed one. */
void pl__dossier_release(struct dossier *d);

/*
 * Parses the JSON into d: the exact fields of docs/dossier.md §3, every
 * string bounded, every encoding exact, the indexes in order. Cryptography
 * comes later (dossier_verify.c). Returns 0 or PL_EMALFORMED / PL_ETOOBIG /
 * PL_ENOMEM with a reason in why.
 */
int pl__dossier_parse(struct dossier *d, const char *json, size_t len, struct pl_buf *why);

/* Orders (id, position) pairs by id, for binary search. */
int pl__dossier_cmp_by_id(const void *a, const void *b);

/* The pos of the pair with this id among ids[0..n) (sorted), or NO_ENTRY. */
size_t pl__dossier_idpos_find(const struct idpos *ids, size_t n,
                              const uint8_t id[static PL_RECORD_ID_BYTES]);

/* The position in d->e of the entry with this id, or NO_ENTRY. */
size_t pl__dossier_find_id(const struct dossier *d, const uint8_t id[static PL_RECORD_ID_BYTES]);

/*
 * pl_dossier_wants() over window[0..nwindow) records from the subject on;
 * with whole (version 2) they are the thread, each of them a thread record
 * wherever it is in the log, and no chain anchor is wanted.
 */
int pl__dossier_wants(struct pl_dossier_want **out, size_t *nout,
                      const struct pl_dossier_entry *window, size_t nwindow,
                      const struct pl_dossier_entry *proven, size_t nproven, bool whole);

/*
 * Fills rep, a report of a dossier d that verified, with its timeline, the
 * verdicts and the disclosures: thread[0..nthread) are the positions in
 * d->e of the thread's records, in log order; cp is d's checkpoint; nkeys
 * the keys whose chains were checked. Returns 0 or PL_ENOMEM.
 */
int pl__dossier_report_build(struct pl_dossier_report *rep, const struct dossier *d,
                             const size_t *thread, size_t nthread, const struct pl_checkpoint *cp,
                             size_t nkeys, size_t nwitnesses);

#endif
