/* An outsider's reading of an exchange: public records checked with nothing but the log key. */
#ifndef PARLEY_OUTSIDER_H
#define PARLEY_OUTSIDER_H

#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/checkpoint.h>
#include <parley/client.h>
#include <parley/directory.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/record.h>

/*
 * The press, a court, another government: no profile, no membership, no key
 * of its own. It pins the log key it got out of band, and checks everything
 * the exchange's public endpoints hand it against that key alone: the
 * directory (every register record signed by the log key and the party), each
 * record's signature against its author's registered key, and each record's
 * inclusion (its c2sp.org/tlog-proof) under a checkpoint the log key signed.
 * One thread at a time.
 */
struct pl_outsider {
	struct pl_client *client;
	struct pl_vkey log_key;
	char origin[PL_RECORD_ORIGIN_MAX + 1];
	struct pl_directory dir; /* fetched by the first read that needs it */
	bool has_dir;
	char why[512]; /* after a failure: the thing and the reason, one line */
};

/* One public record as it held: its text, parsed record, id, index and proof. */
struct pl_outsider_record {
	uint64_t index;
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_record *rec; /* malloc'd */
	char *text;            /* the signed record, NUL-terminated, malloc'd */
	size_t len;
	struct pl_buf proof; /* its c2sp.org/tlog-proof, as the exchange served it */
	uint64_t size;       /* the tree size of the checkpoint it is proven under */
};

/* Releases what a read filled in. A zeroed struct is a no-op. */
void pl_outsider_record_release(struct pl_outsider_record *r);

/*
 * Starts reading the exchange at url (http or https) for the log whose key is
 * log_key; the origin is the key's name. Returns 0, or PL_EINVAL/PL_ENOMEM
 * (o->why says which). Release with pl_outsider_close() on every path.
 */
int pl_outsider_open(struct pl_outsider *o, const char *url, const struct pl_vkey *log_key) PL_WUR;

/* Frees what o holds. A zeroed or closed o is a no-op. */
void pl_outsider_close(struct pl_outsider *o);

/*
 * Fetches a public record by id or id prefix (GET /record/<id>) and its proof
 * (GET /proof/<id>), and checks both: the record opens against the directory
 * (its author's registered key, its exchange the log's origin), and the proof
 * proves it at its index under a checkpoint signed by the log key. On success
 * fills *out (release it). Returns 0; PL_ENOTFOUND (no public record: o->why);
 * PL_EVERIFY, PL_ENOKEY, PL_EPROOF, PL_ERANGE, PL_EMALFORMED for evidence
 * that does not hold (o->why names it); a client error otherwise.
 */
int pl_outsider_record(struct pl_outsider *o, const char *id,
                       struct pl_outsider_record *out) PL_WUR;

/*
 * The public statements from log index `after` (GET /statements), each checked
 * as pl_outsider_record() checks one, at most max (0: one page of the
 * exchange's). *v (free each with pl_outsider_record_release(), then free())
 * and *n are set on success, *next to the cursor for what follows. Returns as
 * pl_outsider_record().
 */
int pl_outsider_statements(struct pl_outsider *o, uint64_t after, size_t max,
                           struct pl_outsider_record **v, size_t *n, uint64_t *next) PL_WUR;

#endif
