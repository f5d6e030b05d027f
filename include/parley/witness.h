/* A transparency-log witness (c2sp.org/tlog-witness): its logs, its durable view, its cosignatures.
 */
#ifndef PARLEY_WITNESS_H
#define PARLEY_WITNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/checkpoint.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>
#include <parley/note.h>

/* Files of a witness's data directory (docs/witness.md). */
#define PL_WITNESS_KEY_FILE  "witness.key"  /* signer key, type 0x04, mode 0600 */
#define PL_WITNESS_VKEY_FILE "witness.vkey" /* its verifier key, to publish */
#define PL_WITNESS_DB_FILE   "witness.db"   /* SQLite: the logs and the latest cosigned state */

/* Content-Type of a 409 answer that carries the size the witness knows. */
#define PL_WITNESS_SIZE_CTYPE     "text/x.tlog.size"

#define PL_WITNESS_SCHEMA_VERSION 1

/*
 * One add-checkpoint request body, parsed:
 *
 *     old <size>\n
 *     <base64 hash>\n            (0 to PL_WITNESS_PROOF_MAX lines)
 *     \n
 *     <signed checkpoint note>
 *
 * Release with pl_witness_request_release() (frees note). About 10 KiB:
 * allocate it rather than keep it on a small stack.
 */
struct pl_witness_request {
	uint64_t old_size;
	size_t nproof;
	uint8_t proof[PL_WITNESS_PROOF_MAX][PL_HASH_BYTES];
	size_t note_off;         /* where the signed checkpoint starts in the body */
	struct pl_note *note;    /* the signed checkpoint, not verified */
	struct pl_checkpoint cp; /* its text, parsed */
};

/*
 * Parses an add-checkpoint body body[0..len) (at most PL_WITNESS_REQUEST_MAX).
 * Strict: "old " and a decimal without sign or leading zeros, each proof line
 * the canonical padded base64 of exactly 32 bytes, one empty line, then a
 * signed note (pl_note_parse()) whose text is a checkpoint
 * (pl_checkpoint_parse()); every line ends in '\n'. The old size must not
 * exceed the checkpoint's size. Verifies nothing. Returns 0 with *req filled,
 * PL_EMALFORMED or PL_ETOOBIG (req untouched), or PL_ENOMEM. Thread-safe.
 */
int pl_witness_request_parse(struct pl_witness_request *req, const char *body, size_t len) PL_WUR;

/* Frees what pl_witness_request_parse() allocated; safe on a zeroed struct, NULL a no-op. */
void pl_witness_request_release(struct pl_witness_request *req);

/*
 * Creates a witness in the existing directory dir: a fresh cosignature key
 * (type PL_SIGTYPE_COSIG_V1) named name, written to PL_WITNESS_KEY_FILE
 * (0600) and PL_WITNESS_VKEY_FILE (0644), and an empty database. Returns 0
 * with *vk set to the verifier key, PL_EINVAL (bad name), PL_EEXIST (any of
 * the three files exists), PL_EIO, PL_ESTORE or PL_ENOMEM. Wipes the secret.
 */
int pl_witness_create(const char *dir, const char *name, struct pl_vkey *vk) PL_WUR;

/*
 * The witness: its signer key and a connection to its database. One per
 * process normally; several processes may share a directory (SQLite's write
 * lock serialises them). Every function below is thread-safe: the state is
 * read, checked and updated under one lock and one IMMEDIATE transaction, so
 * that no two inconsistent checkpoints are ever cosigned.
 */
struct pl_witness;

/*
 * Opens the witness in dir (key and database; WAL, synchronous=FULL).
 * Returns 0 with *out set (close with pl_witness_close()), PL_ENOTFOUND (no
 * witness there), PL_EDENIED (key file readable by others), PL_EKEY (not a
 * type 0x04 key), PL_ESTORE (not a witness database; detail appended to err if
 * not NULL), PL_EIO or PL_ENOMEM.
 */
int pl_witness_open(struct pl_witness **out, const char *dir, struct pl_buf *err) PL_WUR;

/* Wipes the key and closes the database. NULL is a no-op. */
void pl_witness_close(struct pl_witness *w);

/* The witness's verifier key (valid while w is open). */
const struct pl_vkey *pl_witness_vkey(const struct pl_witness *w);

/*
 * Declares that the witness follows the log origin (NUL-terminated, a
 * valid checkpoint origin) whose checkpoints key signs (an Ed25519 key,
 * type 0x01). A log may have several keys: call again to add one. The first
 * key of a log starts its state at size 0 (the empty tree). Returns 0,
 * PL_EINVAL (bad origin or key type), PL_EEXIST (this key already listed for
 * the origin), PL_ESTORE.
 */
int pl_witness_log_add(struct pl_witness *w, const char *origin, const struct pl_vkey *key) PL_WUR;

/* What the witness holds for one log. */
struct pl_witness_log {
	char origin[PL_ORIGIN_MAX + 1];
	uint64_t size;               /* latest cosigned size (0: none yet, or the empty tree) */
	uint8_t root[PL_HASH_BYTES]; /* its root hash */
	size_t nkeys;                /* verifier keys listed for the origin */
};

/*
 * The logs the witness follows, in origin order: *out malloc'd (free()), *n
 * entries (*out may be NULL when *n is 0). Returns 0, PL_ESTORE, PL_ENOMEM.
 */
int pl_witness_log_list(struct pl_witness *w, struct pl_witness_log **out, size_t *n) PL_WUR;

/*
 * Handles one add-checkpoint request body body[0..len) as c2sp.org/tlog-witness
 * says, in this order: parse (PL_EMALFORMED, PL_ETOOBIG: 400), the origin
 * followed (PL_ENOTFOUND: 404), a log key's signature verifies
 * (PL_ENOKEY, PL_EVERIFY, PL_EAMBIGUOUS: 403), old equals the latest cosigned
 * size (PL_ESTATE: 409, with that size stored in *known_size if not NULL:
 * the one out-parameter set on an error), at equal sizes the roots are equal
 * (PL_EINCONSISTENT: 409), the consistency proof from the stored root holds
 * (PL_EPROOF: 422). Then it durably records the new size, root and note,
 * and only after the commit cosigns the checkpoint at time now (POSIX
 * seconds) and appends the cosignature line "— <name> <base64>\n" to cosig.
 * Returns 0, one of the codes above, PL_ESTORE or PL_ENOMEM (500; the state
 * is then unchanged, or changed and not cosigned: never the reverse).
 * Thread-safe; serialised against every other update of the same database.
 */
int pl_witness_add_checkpoint(struct pl_witness *w, const char *body, size_t len, uint64_t now,
                              struct pl_buf *cosig, uint64_t *known_size) PL_WUR;

/* The HTTP status c2sp.org/tlog-witness prescribes for a pl_witness_add_checkpoint() result. */
unsigned pl_witness_http_status(int err);

/* ---- The log's side: asking witnesses to cosign ------------------------ */

/* Bytes of a witness's submission prefix (its base URL). */
#define PL_WITNESS_URL_MAX 1023

/*
 * One witness a log asks for cosignatures: its submission prefix
 * ("http://" or "https://", printable ASCII, no query, fragment or trailing
 * '/') and its cosignature verifier key (type PL_SIGTYPE_COSIG_V1). Plain
 * data, nothing to free.
 */
struct pl_witness_peer {
	char url[PL_WITNESS_URL_MAX + 1];
	struct pl_vkey key;
};

/*
 * Parses "URL VKEY" (one or more spaces or tabs between, none around) from
 * s[0..len): URL as above, VKEY a verifier key's text form of type 0x04.
 * Returns 0 with *p filled, or PL_EMALFORMED with *why (if not NULL) set to
 * a static reason (p unchanged).
 */
int pl_witness_peer_parse(struct pl_witness_peer *p, const char *s, size_t len,
                          const char **why) PL_WUR;

/* Appends "URL VKEY" (no newline) to out. Returns 0, PL_EINVAL or a pl_buf error. */
int pl_witness_peer_format(const struct pl_witness_peer *p, struct pl_buf *out) PL_WUR;

/*
 * Appends an add-checkpoint request body to out: "old <old_size>\n", the
 * nproof hashes (at most PL_WITNESS_PROOF_MAX) in base64, one per line, an
 * empty line and the signed checkpoint note[0..len) verbatim. Returns 0,
 * PL_EINVAL (too many hashes, empty note) or a pl_buf error (out unchanged).
 */
int pl_witness_request_format(struct pl_buf *out, uint64_t old_size,
                              const uint8_t (*proof)[PL_HASH_BYTES], size_t nproof,
                              const char *note, size_t len) PL_WUR;

/*
 * A witness's answer to one request: the HTTP status, the media type of
 * Content-Type (lower case, parameters dropped, "" when absent), the body
 * (the transport bounds it by PL_WITNESS_ANSWER_MAX) and, when no answer
 * came, why (for the operator's log). Init the body with pl_buf_init() and
 * release it with pl_buf_release().
 */
struct pl_witness_answer {
	unsigned status;
	char ctype[64];
	struct pl_buf body;
	char detail[256];
};

/*
 * Reads answer a to a request for the checkpoint whose note text is
 * text[0..len), from the witness whose key is key:
 *   200: the body is one or more signature lines; lines by other keys are
 *        ignored; each by key must be a v1 cosignature that verifies over the
 *        text (pl_cosignature_verify()). Returns 0 and appends that line,
 *        re-encoded, to line ("— <name> <base64>\n"), its time to *timestamp
 *        if not NULL. PL_ENOKEY: no line by key; PL_EVERIFY: one does not
 *        verify; PL_EMALFORMED: not signature lines.
 *   409 text/x.tlog.size: PL_ESTATE, with the witness's size in *known_size
 *        (the one out-parameter set on an error); PL_EMALFORMED if the body
 *        is not one decimal and a newline.
 *   409 otherwise: PL_EINCONSISTENT (the witness holds another tree at this
 *        size: evidence of a fork, or of a witness's fault).
 *   400, 413: PL_EINVAL; 403: PL_EDENIED (the witness does not trust the log
 *        key); 404: PL_ENOTFOUND (it does not follow the origin); 422:
 *        PL_EPROOF; anything else: PL_ENET.
 * Nothing is appended to line on error. Thread-safe.
 */
int pl_witness_answer_read(const struct pl_witness_answer *a, const struct pl_vkey *key,
                           const char *text, size_t len, struct pl_buf *line, uint64_t *known_size,
                           uint64_t *timestamp) PL_WUR;

/*
 * How a log reaches witnesses: post(arg, url, body, len, a) POSTs body to
 * url and returns 0 with *a filled when an HTTP answer came (whatever its
 * status), or PL_ENET (a->detail says why) or PL_ENOMEM.
 */
struct pl_witness_transport {
	int (*post)(void *arg, const char *url, const char *body, size_t len,
	            struct pl_witness_answer *a);
	void *arg;
};

/*
 * Where consistency proofs come from: consistency(arg, old, new, hashes, n)
 * writes the RFC 6962 proof from tree size old to new (0 < old <= new) to
 * hashes (room for PL_PROOF_MAX_HASHES) and its length to *n; returns 0 or
 * an error (pl_exchange_consistency() fits).
 */
struct pl_witness_proofs {
	int (*consistency)(void *arg, uint64_t old_size, uint64_t new_size,
	                   uint8_t hashes[][PL_HASH_BYTES], size_t *n);
	void *arg;
};

/*
 * Asks the witness peer to cosign the signed checkpoint note[0..len) (the
 * log's own, already trusted by the caller) with c2sp.org/tlog-witness:
 * POSTs to <url>/add-checkpoint with "old *known" and the consistency proof
 * from *known to the checkpoint's size; on a 409 that reports the witness's
 * size, retries once from that size. *known is the caller's memory of the
 * size the witness last cosigned (0 when unknown): it is updated whenever
 * the witness tells it (to the checkpoint's size on success). On success
 * appends the verified cosignature line to line and returns 0; otherwise
 * returns the pl_witness_answer_read() or transport error, PL_EMALFORMED
 * (note is not a checkpoint), PL_ERANGE (the witness claims a size above
 * the checkpoint's) or the proof source's error, and appends a one-line
 * reason to detail (if not NULL). Never returns an unverified line.
 * Thread-safe if the transport is (one call at a time per curl transport).
 */
int pl_witness_cosign(const struct pl_witness_transport *t, const struct pl_witness_proofs *proofs,
                      const struct pl_witness_peer *peer, uint64_t *known, const char *note,
                      size_t len, struct pl_buf *line, struct pl_buf *detail) PL_WUR;

/*
 * The libcurl transport: one connection kept alive per handle, http and
 * https only, no redirects, connect and whole-request timeouts in ms (0: 5000
 * and 10000), answers bounded by PL_WITNESS_ANSWER_MAX. cancelled (may be
 * NULL) is polled during a transfer; when it returns true the transfer is
 * aborted (PL_ENET), so that a stopping server never waits out a timeout.
 * Free with pl_witness_http_free(); NULL is a no-op. Not thread-safe: one
 * handle per thread. Returns 0, PL_ENOMEM.
 */
struct pl_witness_http;
int pl_witness_http_new(struct pl_witness_http **out, long connect_ms, long timeout_ms,
                        bool (*cancelled)(void *arg), void *cancel_arg) PL_WUR;
void pl_witness_http_free(struct pl_witness_http *h);

/* The transport function for struct pl_witness_transport; arg is a struct pl_witness_http. */
int pl_witness_http_post(void *arg, const char *url, const char *body, size_t len,
                         struct pl_witness_answer *a);

#endif
