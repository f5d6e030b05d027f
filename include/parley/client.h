/* The HTTP client of an exchange's API (docs/api.md): one function per endpoint, parsed results. */
#ifndef PARLEY_CLIENT_H
#define PARLEY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>
#include <parley/receipt.h>

/*
 * A client of one exchange, over libcurl: http and https only, no redirects
 * followed, every answer bounded in size, connect and transfer timeouts, one
 * kept-alive connection reused. A client is used by one thread at a time
 * (make one per thread); different clients are independent.
 *
 * Return values of the endpoint functions: 0 on success; for an answer of
 * the server with an error status, the code of that status (docs/api.md):
 * 400 PL_EMALFORMED, 401 PL_EVERIFY, 403 PL_EDENIED, 404 PL_ENOTFOUND,
 * 409 PL_ECHAIN, 413 PL_ETOOBIG, 422 PL_ERULE, 429 and 503 PL_ESTATE (try
 * again later), 507 PL_ELIMIT (the party's unreferenced payloads are at
 * their limit), others PL_ENET; PL_ENET when the server could not be reached
 * or the transfer failed or timed out; PL_ETOOBIG when an answer exceeds the
 * limit; PL_EMALFORMED when an answer does not parse; PL_EINVAL for a
 * request that needs a key on a client without one. pl_client_last_error()
 * then tells the HTTP status and the server's reason.
 */
struct pl_client;

#define PL_CLIENT_REASON_MAX  512
#define PL_CLIENT_ENC_KEY_MAX 255 /* bytes of an encryption key text in the directory */

struct pl_client_options {
	long connect_timeout_ms; /* 0: 5 s */
	long timeout_ms;         /* whole request, 0: 30 s (a long poll adds its wait) */
	size_t response_max;     /* 0: PL_HTTP_RESPONSE_MAX */
};

/* What the last failed call learned. */
struct pl_client_error {
	long status;                       /* HTTP status, 0 when no answer came */
	char code[32];                     /* the server's error code, e.g. "conflict" */
	char reason[PL_CLIENT_REASON_MAX]; /* the server's reason or the transport error */
	bool has_head;                     /* 409 on a submission: the author's chain head */
	uint64_t head_seq, head_index;
	uint8_t head_id[PL_HASH_BYTES];
};

/*
 * Creates a client for the exchange at base_url ("http://host:port" or
 * "https://host[:port][/prefix]", no trailing slash needed). key, if not
 * NULL, signs the requests that need authentication; it is copied into
 * guarded memory and wiped by pl_client_free(). opts may be NULL.
 * Returns 0, PL_EINVAL (not an http(s) URL), PL_ENOMEM.
 */
int pl_client_new(struct pl_client **out, const char *base_url, const struct pl_skey *key,
                  const struct pl_client_options *opts) PL_WUR;

/* Frees the client and wipes its key. NULL is a no-op. */
void pl_client_free(struct pl_client *c);

/* The error details of the last call that failed (valid until the next call). */
const struct pl_client_error *pl_client_last_error(const struct pl_client *c);

/* One record as the API returns it; note is NUL-terminated and malloc'd. */
struct pl_client_entry {
	uint64_t index;
	uint8_t id[PL_HASH_BYTES];
	char *note;
	size_t note_len;
};

/* Records in log order; next is the cursor for what follows (when the endpoint gives one). */
struct pl_client_list {
	struct pl_client_entry *v;
	size_t n;
	uint64_t next;
};

/* A directory entry from GET /parties. register_record is malloc'd. */
struct pl_client_party {
	char name[PL_KEY_NAME_MAX + 1];
	struct pl_vkey vkey;
	char enc_key[PL_CLIENT_ENC_KEY_MAX + 1];
	uint64_t register_index;
	uint8_t register_id[PL_HASH_BYTES];
	char *register_record;
	size_t register_record_len;
	bool revoked;
	uint64_t revoke_index;
};

/* Release what the calls return. NULL or zeroed structs are no-ops. */
void pl_client_entry_release(struct pl_client_entry *e);
void pl_client_list_release(struct pl_client_list *l);
void pl_client_parties_free(struct pl_client_party *v, size_t n);

/* GET /health: 0 when the server answers. */
int pl_client_health(struct pl_client *c) PL_WUR;

/*
 * GET /log-key: the exchange's log verifier key, as the exchange itself
 * states it. Only as trustworthy as the network path: for trust on first use,
 * which the caller must say out loud. Returns 0 with *vk set, PL_EMALFORMED
 * for an answer that is not one verifier key line, or a client error.
 */
int pl_client_log_key(struct pl_client *c, struct pl_vkey *vk) PL_WUR;

/* GET /checkpoint: appends the signed checkpoint text to out (not verified here). */
int pl_client_checkpoint(struct pl_client *c, struct pl_buf *out) PL_WUR;

/*
 * GET /tile/<level>/<n>[.p/<width>] (width 0: a full tile) and
 * GET /tile/entries/<n>[.p/<width>] (authenticated): append the bytes to out.
 */
int pl_client_tile(struct pl_client *c, unsigned level, uint64_t n, unsigned width,
                   struct pl_buf *out) PL_WUR;
int pl_client_entry_bundle(struct pl_client *c, uint64_t n, unsigned width,
                           struct pl_buf *out) PL_WUR;

/* POST /payloads: stores a blob; writes its SHA-256 (checked against the answer) to hash. */
int pl_client_payload_put(struct pl_client *c, const uint8_t *blob, size_t len,
                          uint8_t hash[static PL_HASH_BYTES]) PL_WUR;

/* GET /payloads/<hash>: appends the blob to out; PL_EPROOF if its hash is not the one asked. */
int pl_client_payload_get(struct pl_client *c, const uint8_t hash[static PL_HASH_BYTES],
                          struct pl_buf *out) PL_WUR;

/*
 * POST /records: submits one signed record and waits for the durable answer.
 * On 409 the author's chain head is in pl_client_last_error(). Checks that
 * the answered id is SHA-256 of rec; the proof is the caller's to verify.
 */
int pl_client_submit(struct pl_client *c, const char *rec, size_t len,
                     struct pl_receipt *out) PL_WUR;

/* GET /records/<id> (id: 8 to 64 hex digits). Checks the id of a full-id answer. */
int pl_client_record(struct pl_client *c, const char *id, struct pl_client_entry *out) PL_WUR;

/* GET /records/<id>/proof[?size=N] (size 0: the latest): appends the tlog-proof text to out. */
int pl_client_proof(struct pl_client *c, const char *id, uint64_t size, struct pl_buf *out) PL_WUR;

/*
 * The explorer's public twins, without a request signature (docs/api.md, "The
 * explorer"): GET /record/<id> and GET /proof/<id>[?size=N], for public
 * records only (404, PL_ENOTFOUND, for any other). As pl_client_record() and
 * pl_client_proof().
 */
int pl_client_public_record(struct pl_client *c, const char *id,
                            struct pl_client_entry *out) PL_WUR;
int pl_client_public_proof(struct pl_client *c, const char *id, uint64_t size,
                           struct pl_buf *out) PL_WUR;

/*
 * GET /index[?size=N] (size 0: the newest checkpoint), public: appends to out
 * the signed index record that ends the checkpoint of that size, as logged,
 * and sets *index to its log index (from the Parley-Index header). Checks
 * nothing but its length and that the header is there: the caller proves the
 * record under the checkpoint and reads its root. PL_ENOTFOUND when that
 * checkpoint has no index record (signed before the thread index) or was
 * never signed.
 */
int pl_client_index_record(struct pl_client *c, uint64_t size, struct pl_buf *out,
                           uint64_t *index) PL_WUR;

/*
 * GET /index/<key>[?size=N] (size 0: the newest checkpoint): appends the
 * proof text of key's value in the thread index (docs/index.md §4.3) under the
 * index record that ends the checkpoint of that size. Checks nothing but its
 * length (at most PL_TINDEX_PROOF_MAX_BYTES): the caller parses and verifies
 * it against that record's root (pl_tindex_proof_open()). PL_ENOTFOUND when
 * that checkpoint has no index record, or key is no record the member may
 * read.
 */
int pl_client_index_proof(struct pl_client *c, const uint8_t key[static PL_HASH_BYTES],
                          uint64_t size, struct pl_buf *out) PL_WUR;

/* GET /consistency?old=M&new=N: writes *n hashes (at most PL_PROOF_MAX_HASHES). */
int pl_client_consistency(struct pl_client *c, uint64_t old_size, uint64_t new_size,
                          uint8_t hashes[][PL_HASH_BYTES], size_t *n) PL_WUR;

/* GET /threads/<id>, GET /statements?after=N. */
int pl_client_thread(struct pl_client *c, const char *id, struct pl_client_list *out) PL_WUR;
int pl_client_statements(struct pl_client *c, uint64_t after, struct pl_client_list *out) PL_WUR;

/* GET /parties: *out is an array of *n entries; free with pl_client_parties_free(). */
int pl_client_parties(struct pl_client *c, struct pl_client_party **out, size_t *n) PL_WUR;

/* One record of GET /lines/<name>, with its tlog-proof. Strings are malloc'd. */
struct pl_client_line_entry {
	uint64_t index;
	uint8_t id[PL_HASH_BYTES];
	char *note;
	size_t note_len;
	char *proof; /* c2sp.org/tlog-proof of the record, under the page's checkpoint */
	size_t proof_len;
};

/* A page of GET /lines/<name>: checks, each followed by its answers and unanswered. */
struct pl_client_line {
	struct pl_client_line_entry *v;
	size_t n;
	uint64_t size; /* tree size of the checkpoint the proofs are for */
	uint64_t next; /* the cursor for the next page */
	bool more;     /* checks were left for the next page */
};

/* Frees a page. NULL or a zeroed page is a no-op. */
void pl_client_line_release(struct pl_client_line *l);

/*
 * GET /lines/<line>?since=T&after=N (authenticated): one page of the line's
 * checks made at or after since (Unix seconds, >= 0) and logged at or after
 * index `after`. Checks each record's id against its text; the records'
 * signatures and the proofs are the caller's to verify. PL_EINVAL for a
 * line that is not a line name or a negative since.
 */
int pl_client_line(struct pl_client *c, const char *line, int64_t since, uint64_t after,
                   struct pl_client_line *out) PL_WUR;

/*
 * GET /inbox?after=CURSOR&wait=S as a long poll: returns as soon as records
 * are there, or after wait_s seconds with none (n == 0). out->next is the
 * cursor for the next call.
 */
int pl_client_inbox(struct pl_client *c, uint64_t after, unsigned wait_s,
                    struct pl_client_list *out) PL_WUR;

/*
 * GET /inbox?after=CURSOR with Accept: text/event-stream: calls fn for each
 * record as it arrives (e is valid during the call only) until fn returns
 * non-zero, max_ms milliseconds pass (0: no limit), or the stream ends.
 * *cursor is read as the starting cursor and advanced past each delivered
 * record, so a caller can resume. Returns 0 when fn stopped it, the time
 * was up or the server ended the stream, else as above.
 */
int pl_client_inbox_stream(struct pl_client *c, uint64_t *cursor,
                           int (*fn)(void *arg, const struct pl_client_entry *e), void *arg,
                           long max_ms) PL_WUR;

/* ---- Two histories: evidence of a split view ---------------------------- */

#define PL_CLIENT_SPLIT_VERSION    "parley/split-view/v1" /* first line of the evidence text */
#define PL_CLIENT_SPLIT_SOURCE_MAX (PL_PROFILE_PATH_MAX + PL_PROFILE_URL_MAX + 128)

/* One of the two signed checkpoints, exactly as it was received. */
struct pl_client_split_checkpoint {
	uint64_t size;
	uint8_t root[PL_HASH_BYTES];
	char *note; /* the signed checkpoint note, byte for byte, NUL-terminated (malloc'd) */
	size_t note_len;
	char source[PL_CLIENT_SPLIT_SOURCE_MAX]; /* where and when it was seen, for people */
};

/*
 * Evidence that an exchange showed two histories: two checkpoints signed by
 * its log key that cannot both be true, why, and the consistency proof the
 * exchange gave between them (its hashes as received, which do not verify)
 * or why it gave none. Made by pl_client_observe(); free with
 * pl_client_split_free(). The caller may fill log_key before formatting.
 */
struct pl_client_split {
	char reason[128];                        /* e.g. "same size, different roots" */
	int64_t detected;                        /* when, Unix seconds (the caller's clock) */
	char exchange[PL_PROFILE_URL_MAX + 1];   /* the client's base URL */
	char log_key[PL_CLIENT_REASON_MAX];      /* the pinned log key's text, or "" */
	struct pl_client_split_checkpoint seen;  /* the one pinned before */
	struct pl_client_split_checkpoint given; /* the one the exchange gives now */
	bool asked_proof;                        /* a consistency proof was asked for */
	uint64_t proof_old, proof_new;           /* the sizes it was asked between */
	uint8_t (*proof)[PL_HASH_BYTES];         /* its hashes (malloc'd), when one came */
	size_t nproof;
	bool has_proof;
	char proof_error[PL_CLIENT_REASON_MAX + 64]; /* when none came: the exchange's answer */
};

/* Frees the evidence. NULL is a no-op. */
void pl_client_split_free(struct pl_client_split *s);

/*
 * The check a client makes of every checkpoint it receives: is `given`
 * (size given_size, root given_root; its signed note given_note[0..given_len),
 * already verified with the pinned log key) one history with `seen`, the
 * checkpoint pinned before (seen_note may be NULL when not kept)? Equal sizes
 * need equal roots; otherwise the exchange must prove consistency from the
 * smaller to the larger (GET /consistency), and for an older checkpoint it
 * must still reach the size it signed before. seen_source says where the
 * pinned one was kept (e.g. the state file); now is the caller's clock.
 *
 * Returns 0 when they are one history; PL_EINCONSISTENT when they are not,
 * with *split set to the evidence (both notes byte for byte, the reason, the
 * proof or the exchange's refusal to give one); or the client's error when
 * the exchange could not be asked (pl_client_last_error() tells), with
 * *split untouched. Thread-safety: that of the client.
 */
int pl_client_observe(struct pl_client *c, uint64_t seen_size,
                      const uint8_t seen_root[static PL_HASH_BYTES], const char *seen_note,
                      size_t seen_len, const char *seen_source, uint64_t given_size,
                      const uint8_t given_root[static PL_HASH_BYTES], const char *given_note,
                      size_t given_len, int64_t now, struct pl_client_split **split) PL_WUR;

/*
 * Appends the evidence as the plain text docs/split-view.md specifies: a
 * version line, `key value` lines, then each checkpoint with its size, root,
 * source and byte count followed by exactly that many bytes of its signed
 * note, then the consistency proof or the reason none came. Returns 0 or a
 * pl_buf error.
 */
int pl_client_split_format(const struct pl_client_split *s, struct pl_buf *out) PL_WUR;

#endif
