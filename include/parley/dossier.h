/* Dossiers: one file of offline evidence that settles what happened to a thread (docs/dossier.md).
 */
#ifndef PARLEY_DOSSIER_H
#define PARLEY_DOSSIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/box.h>
#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>
#include <parley/record.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

/*
 * The values of the "version" field. Version 2 (the thread and its index
 * proofs) is what an export writes; version 1 (the absence window) is still
 * read, and built by pl_dossier_build() for sources without an index.
 */
#define PL_DOSSIER_VERSION_V1 "parley/dossier/v1"
#define PL_DOSSIER_VERSION_V2 "parley/dossier/v2"
#define PL_DOSSIER_VERSION    PL_DOSSIER_VERSION_V2

/* Bytes of one timeline description or verdict line, without its NUL. */
#define PL_DOSSIER_LINE_MAX 1023

/* Frontier hashes of a window start: one per set bit of a 63-bit index. */
#define PL_DOSSIER_MAX_FRONTIER 63

/*
 * One log entry handed to pl_dossier_build(), pl_dossier_build_v2() or
 * pl_dossier_wants(): the record exactly as logged (record[0..record_len),
 * the signed note bytes) and its log index. For an entry outside the window,
 * proof[0..nproof) is its RFC 6962 inclusion path against the dossier's
 * checkpoint (leaf first, as pl_tlog_prove_inclusion() writes it); window
 * entries carry no proof (nproof 0). A thread entry of a version 2 dossier
 * also carries tindex[0..tindex_len), the text of the thread index proof of
 * its id (docs/index.md §4.3); every other entry has none (tindex_len 0).
 * Nothing here is owned by the dossier code.
 */
struct pl_dossier_entry {
	uint64_t index;
	const char *record;
	size_t record_len;
	const uint8_t (*proof)[PL_HASH_BYTES];
	size_t nproof;
	const char *tindex;
	size_t tindex_len;
};

/* A plaintext the exporter chooses to disclose, with the salt that pl_box_open() returned. */
struct pl_dossier_disclosure {
	uint8_t id[PL_RECORD_ID_BYTES]; /* the record whose `commit` it opens */
	const uint8_t *plaintext;
	size_t len;
	uint8_t salt[PL_BOX_SALT_BYTES];
};

/*
 * Everything a dossier holds (docs/dossier.md §2). The window is EVERY log
 * entry with index in [start, checkpoint size), in order, where start is the
 * index of the subject (the record the dossier is about, usually a send);
 * frontier[0..nfrontier) are the hashes of the maximal complete subtrees
 * covering [0, start), leftmost first (pl_dossier_frontier() reads them from
 * a tree). proven[] are the other records the verifier needs (the register
 * records of every signing key, each key's chain anchor, the records the
 * thread refers to before the window), in increasing index order, all below
 * start; pl_dossier_wants() lists them.
 */
struct pl_dossier_input {
	const struct pl_vkey *log_key; /* its name is the origin */
	const char *checkpoint;        /* the signed checkpoint note, verbatim, with cosignatures */
	size_t checkpoint_len;
	uint64_t start;
	const uint8_t (*frontier)[PL_HASH_BYTES];
	size_t nfrontier;
	const struct pl_dossier_entry *window;
	size_t nwindow;
	const struct pl_dossier_entry *proven;
	size_t nproven;
	const struct pl_dossier_disclosure *disclosures;
	size_t ndisclosures;
};

/*
 * Appends the JSON dossier of in to out (docs/dossier.md §3; at most
 * PL_DOSSIER_MAX_BYTES, a final newline included). The subject is the first
 * window entry. Checks the shape only: sizes within the limits of limits.h,
 * window indexes start, start + 1, ..., proven indexes increasing and below
 * start, popcount(start) frontier hashes, disclosures sorted by record id,
 * records and the checkpoint UTF-8 without NUL. It verifies no signature or
 * proof: run pl_dossier_verify() on the result to know it holds. Returns 0,
 * PL_EINVAL (a shape fault), PL_ETOOBIG or PL_ENOMEM; out is unchanged on
 * error. Thread-safe.
 */
int pl_dossier_build(struct pl_buf *out, const struct pl_dossier_input *in) PL_WUR;

/*
 * Everything a version 2 dossier holds (docs/dossier.md §2): the checkpoint
 * of size N; its last entry, the `index` record at N - 1, with its
 * inclusion proof; the thread (the subject first, then every record that
 * refers to a thread record, transitively), in log order, each with its
 * inclusion proof and the thread index proof of its id under the index
 * record's root; and the proven records (the register records of the keys
 * that sign the dossier's records, and the records the thread refers to
 * outside it), in log order, each with its inclusion proof.
 */
struct pl_dossier_input_v2 {
	const struct pl_vkey *log_key; /* its name is the origin */
	const char *checkpoint;        /* the signed checkpoint note, verbatim, with cosignatures */
	size_t checkpoint_len;
	struct pl_dossier_entry index; /* the index record at N - 1, with its proof */
	const struct pl_dossier_entry *thread;
	size_t nthread;
	const struct pl_dossier_entry *proven;
	size_t nproven;
	const struct pl_dossier_disclosure *disclosures;
	size_t ndisclosures;
};

/*
 * Appends the JSON version 2 dossier of in to out (docs/dossier.md §3),
 * with the shape checks of pl_dossier_build(): sizes within the limits of
 * limits.h, the thread's and the proven records' indexes increasing and
 * below the index record's, an index proof text on every thread entry and on
 * no other, disclosures sorted by record id. The subject is the first thread
 * entry. Verifies no signature or proof. Returns 0, PL_EINVAL (a shape
 * fault), PL_ETOOBIG or PL_ENOMEM; out is unchanged on error. Thread-safe.
 */
int pl_dossier_build_v2(struct pl_buf *out, const struct pl_dossier_input_v2 *in) PL_WUR;

/*
 * Reads from a tree the frontier of start: the stored hashes of the maximal
 * complete subtrees covering leaves [0, start), leftmost (largest) first,
 * popcount(start) of them, in one read. out holds PL_DOSSIER_MAX_FRONTIER
 * hashes. Returns 0 with *n set, PL_ERANGE (start above PL_TLOG_MAX_SIZE) or
 * the reader's error.
 */
int pl_dossier_frontier(const struct pl_tlog_reader *r, uint64_t start,
                        uint8_t (*out)[PL_HASH_BYTES], size_t *n) PL_WUR;

/* What an exporter still has to fetch for a dossier (pl_dossier_wants()). */
enum pl_dossier_want_kind {
	PL_DOSSIER_WANT_RECORD = 1, /* the record with this id, with its inclusion proof */
	PL_DOSSIER_WANT_REGISTER,   /* the register record that brought this key */
};

struct pl_dossier_want {
	enum pl_dossier_want_kind kind;
	uint8_t id[PL_RECORD_ID_BYTES];     /* PL_DOSSIER_WANT_RECORD */
	char key_name[PL_KEY_NAME_MAX + 1]; /* PL_DOSSIER_WANT_REGISTER */
	uint8_t key_id[PL_KEYID_BYTES];     /* PL_DOSSIER_WANT_REGISTER */
};

/*
 * Lists what the dossier of window[0..nwindow) (the entries from start, the
 * subject first) still lacks among proven[0..nproven): the chain anchor of
 * every key that signs a window record (the record its first window record
 * names as prev), every record before the window that a record of the
 * thread refers to, and the register record of every party key that signs
 * any of these records and is not registered by one of them. Fetch what is
 * listed, add it to proven and ask again until the list is empty (two rounds
 * at most). Parses records without verifying them. On success sets *out
 * (malloc'd, free() it; NULL when *nout is 0) and *nout. Returns 0,
 * PL_EINVAL (no window), PL_EMALFORMED (a record that does not parse) or
 * PL_ENOMEM. Thread-safe.
 */
int pl_dossier_wants(struct pl_dossier_want **out, size_t *nout,
                     const struct pl_dossier_entry *window, size_t nwindow,
                     const struct pl_dossier_entry *proven, size_t nproven) PL_WUR;

/* ---- Export ------------------------------------------------------------------ */

struct pl_tile;
struct pl_dossier_report;

/*
 * Where pl_dossier_export_collect() gets the log's evidence: an exchange for
 * a member client, a log in memory for a test. Each callback returns 0 or a
 * negative PL_E... code, which the export passes back unchanged, with the
 * thing it was fetching named in its reason. What a source gives is
 * untrusted: the export checks all of it against the checkpoint, which it
 * opens with the log key.
 *
 * checkpoint   appends to note the signed checkpoint (verbatim, with its
 *              cosignatures) of a tree of more than covering leaves when the
 *              source has one in its own time, else its newest;
 * tile         writes the t->width * 32 bytes of hash tile t to out;
 * bundle       appends to out entry bundle n of width entries;
 * record       appends to out the record with id, as logged (the signed
 *              note), and sets *index to its log index;
 * register_of  appends to out the register record that brought the key
 *              (key_name, key_id) and sets *index; PL_ENOTFOUND when the
 *              source does not know it, and then the export looks for it
 *              in the entry bundles before the window. May be NULL.
 * index_record appends to out the `index` record at size - 1, the last entry
 *              of the checkpoint of tree size size, as logged, and sets *index to
 *              size - 1. May be NULL: the export then reads it from its entry
 *              bundle. Either way the export checks it against the hash tiles.
 * index_proof  appends to out the text of the thread index proof of key
 *              (docs/index.md §4.3) under the root of the `index` record at
 *              size - 1, where size is the checkpoint's tree size (the
 *              exchange's GET /index/<key>?size=N). May be NULL: the export
 *              then makes a version 1 dossier (the absence window); with it,
 *              a version 2 dossier (the thread and its index proofs).
 */
struct pl_dossier_source {
	void *ctx;
	int (*checkpoint)(void *ctx, uint64_t covering, struct pl_buf *note);
	int (*tile)(void *ctx, const struct pl_tile *t, uint8_t *out);
	int (*bundle)(void *ctx, uint64_t n, unsigned width, struct pl_buf *out);
	int (*record)(void *ctx, const uint8_t id[PL_RECORD_ID_BYTES], struct pl_buf *out,
	              uint64_t *index);
	int (*register_of)(void *ctx, const char *key_name, const uint8_t key_id[PL_KEYID_BYTES],
	                   struct pl_buf *out, uint64_t *index);
	int (*index_proof)(void *ctx, const uint8_t key[32], uint64_t size, struct pl_buf *out);
	int (*index_record)(void *ctx, uint64_t size, struct pl_buf *out, uint64_t *index);
};

/* The evidence gathered for one dossier (opaque); pl_dossier_export_free() frees it. */
struct pl_dossier_export;

/* What an export holds, for a summary line. */
struct pl_dossier_export_info {
	unsigned version; /* 1 or 2 */
	uint64_t size;    /* the checkpoint's tree size */
	uint64_t start;   /* the subject's log index */
	size_t nwindow;   /* version 1: window entries, the subject first */
	size_t nthread;   /* version 2: thread records, the subject first */
	size_t nproven;   /* other records, each with its inclusion proof */
};

/*
 * Gathers from src the evidence of the dossier whose subject is the record
 * with id subject at log index start (docs/dossier.md §2): a checkpoint that
 * covers start, opened with log_key (its name is the origin); every entry
 * bundle of the window [start, size), each checked against its level-0 hash
 * tile (pl_tiles_bundle_check()), the first entry being the subject; the
 * frontier of start from the hash tiles; and what pl_dossier_wants() lists,
 * each with its inclusion proof computed from the hash tiles and checked
 * against the checkpoint's root at once. Tiles are fetched once each.
 *
 * When src->index_proof is set, gathers a version 2 dossier instead: the
 * checkpoint's last entry, which must be an `index` record (from its entry
 * bundle, checked against its hash tile); the thread, found through the
 * index proofs themselves (the subject's proof lists the records that refer
 * to it; each is fetched by id, checked to be at the index the proof gives
 * and to name the key, and its own proof asked for, and so on, at most
 * PL_DOSSIER_MAX_THREAD records), every proof verified against the index
 * record's root as it comes; then the register records of the keys that
 * sign these records and the records the thread refers to outside it. No
 * window: the cost grows with the thread and log2 of the log, not with the
 * traffic after the subject.
 *
 * On success returns 0 and sets *out. On failure sets nothing, appends to
 * why (when not NULL) one line naming what failed and why, and returns the
 * source's code for a fetch that failed, or: PL_ERANGE (no checkpoint
 * covers start), PL_ETOOBIG (the window, the thread or the other records
 * exceed the limits of limits.h), PL_EPROOF (a bundle, tile, proof or record
 * the source gave does not hold; version 2: a checkpoint whose last entry is
 * not an `index` record, or an index proof that does not hold), PL_EMALFORMED (a logged record or a
 * bundle that does not parse), PL_ENOTFOUND (no register record brings a key), PL_EVERIFY /
 * PL_ENOKEY (the checkpoint's signature), PL_EINVAL or PL_ENOMEM. Calls src from this thread,
 * during this call only (the export keeps no pointer to it); not thread-safe for one src.
 */
int pl_dossier_export_collect(struct pl_dossier_export **out, const struct pl_dossier_source *src,
                              const struct pl_vkey *log_key,
                              const uint8_t subject[PL_RECORD_ID_BYTES], uint64_t start,
                              struct pl_buf *why) PL_WUR;

/* True when the record with id is in x's dossier (in its window or before it). */
bool pl_dossier_export_holds(const struct pl_dossier_export *x,
                             const uint8_t id[PL_RECORD_ID_BYTES]);

/* Fills *info with what x holds. */
void pl_dossier_export_info(const struct pl_dossier_export *x, struct pl_dossier_export_info *info);

/*
 * Builds the dossier of x with the disclosures d[0..nd) (in any order, each
 * of a record x holds; the plaintexts are copied into the file, not kept)
 * and appends it to out, then verifies it as a reader will, with x's log key
 * and no witness: a dossier that does not verify is never handed out. On
 * success returns 0 and, when rep is not NULL, sets *rep (free with
 * pl_dossier_report_free()). On failure out is unchanged, why (when not
 * NULL) gets one line, and the code is PL_ETOOBIG, PL_ENOMEM, PL_EINVAL
 * (more than PL_DOSSIER_MAX_DISCLOSURES, or a record x does not hold) or
 * what pl_dossier_build() or pl_dossier_verify() returned.
 */
int pl_dossier_export_finish(const struct pl_dossier_export *x,
                             const struct pl_dossier_disclosure *d, size_t nd, struct pl_buf *out,
                             struct pl_dossier_report **rep, struct pl_buf *why) PL_WUR;

/* Frees x and everything it holds; NULL is a no-op. */
void pl_dossier_export_free(struct pl_dossier_export *x);

/* ---- Verification --------------------------------------------------------- */

/* One record of the thread, in log order. */
struct pl_dossier_event {
	uint64_t index; /* log index */
	uint8_t id[PL_RECORD_ID_BYTES];
	enum pl_record_kind kind;
	char author[PL_RECORD_NAME_MAX + 1]; /* a party, or "exchange" */
	int64_t time;                        /* what the author claimed */
	bool contradicted;                   /* time is later than the report's existence bound */
	char what[PL_DOSSIER_LINE_MAX + 1];  /* e.g. "declined it: reason \"...\"" */
	struct pl_record *rec;               /* the record, verified (owned by the report) */
};

/* What a verdict line rests on, for presentation. */
enum pl_dossier_verdict_kind {
	PL_VERDICT_BASIS = 1, /* what the evidence is: checkpoint, witnesses, index or window */
	PL_VERDICT_DONE,      /* a step that a signed record proves */
	PL_VERDICT_NOT_DONE,  /* a step the thread index (v2) or the window (v1) proves not taken */
	PL_VERDICT_TIME,      /* when the records provably existed */
	PL_VERDICT_FLAG,      /* a claim the evidence contradicts, or a caution */
	PL_VERDICT_DISCLOSED, /* a disclosed plaintext that matches its commitment */
};

struct pl_dossier_verdict {
	enum pl_dossier_verdict_kind kind;
	char text[PL_DOSSIER_LINE_MAX + 1];
};

/* A disclosure that verified: the plaintext matches the record's commitment. */
struct pl_dossier_disclosed {
	uint8_t id[PL_RECORD_ID_BYTES];
	uint64_t index;
	char author[PL_RECORD_NAME_MAX + 1];
	uint8_t *plaintext; /* len bytes, followed by a NUL not counted */
	size_t len;
	bool is_text; /* UTF-8 with no control or invisible character but newline and tab */
};

/* A given witness whose cosignature on the checkpoint verified, and when it cosigned. */
struct pl_dossier_cosigner {
	struct pl_vkey key; /* as the caller gave it (type 0x04) */
	int64_t time;       /* the cosignature's timestamp, Unix seconds */
};

/*
 * The result of a verification that succeeded. Allocated by
 * pl_dossier_verify(); free with pl_dossier_report_free().
 */
struct pl_dossier_report {
	char origin[PL_RECORD_ORIGIN_MAX + 1];
	struct pl_vkey log_key;
	bool log_key_pinned; /* false: the caller gave no key; the dossier's own was used */
	uint64_t size;       /* checkpoint tree size N */
	uint8_t root[PL_HASH_BYTES];
	uint64_t start;      /* the subject's log index; version 1: the window [start, size) */
	const char *version; /* PL_DOSSIER_VERSION_V1 or PL_DOSSIER_VERSION_V2 (static) */
	bool indexed;        /* version 2: absence rests on the thread index */
	uint8_t index_root[PL_HASH_BYTES]; /* version 2: the root of the index record at size - 1 */
	uint8_t subject[PL_RECORD_ID_BYTES];
	enum pl_record_kind subject_kind;
	enum pl_record_class subject_class; /* of a send or statement; 0 for other kinds */
	size_t witnesses_required;
	size_t witnesses_verified;
	bool has_bound; /* a witness cosigned: every record existed by bound */
	int64_t bound;  /* earliest verified cosignature timestamp, Unix seconds */
	/* The witnesses counted, in the order given (witnesses_verified of them). */
	struct pl_dossier_cosigner *cosigners;
	size_t ncosigners;
	struct pl_dossier_event *events;
	size_t nevents;
	struct pl_dossier_verdict *verdicts;
	size_t nverdicts;
	struct pl_dossier_disclosed *disclosed;
	size_t ndisclosed;
};

/*
 * Verifies a dossier json[0..len) offline, as docs/dossier.md §4 says:
 * the strict JSON shape; the checkpoint's signature by log_key (when
 * log_key is NULL, by the key the dossier names, and the report says the
 * key was not pinned); at least quorum cosignatures by distinct keys among
 * witnesses[0..nwitnesses) (type 0x04), every cosignature by a given witness
 * verifying; the window reconstructed with the frontier to the checkpoint's
 * root; the inclusion proof of every other record; every record's
 * signatures with pl_record_open() against the keys of the register records
 * logged before it; every key's chain; pl_rules_check() over the thread in
 * log order; every disclosure against its record's commitment.
 *
 * On success returns 0 and sets *out (free with pl_dossier_report_free()).
 * On failure sets nothing but, when why is not NULL, appends to why one
 * line (no newline) naming the evidence that failed and the reason, and
 * returns:
 *   PL_EMALFORMED / PL_ETOOBIG  the file is not a well-formed dossier
 *                               (JSON, fields, bounds, encodings, the order
 *                               of the disclosures, a subject of a kind no
 *                               dossier is about);
 *   PL_EINVAL                   bad arguments (quorum above nwitnesses, two
 *                               witness keys sharing a name and key id);
 *   PL_ENOMEM;
 *   any other code              the evidence does not hold: PL_ENOKEY,
 *                               PL_EVERIFY (signatures, origin), PL_EPROOF
 *                               (window, indexes, proofs), PL_ECHAIN,
 *                               PL_ERULE, PL_ECOMMIT (disclosures).
 * pl_dossier_error_is_evidence() tells the two classes apart.
 * Thread-safe.
 */
int pl_dossier_verify(struct pl_dossier_report **out, const char *json, size_t len,
                      const struct pl_vkey *log_key, const struct pl_vkey *witnesses,
                      size_t nwitnesses, size_t quorum, struct pl_buf *why) PL_WUR;

/*
 * True when err, a failure of pl_dossier_verify(), says that the evidence
 * does not hold (`parley verify` exits 1); false for 0 and for a file that
 * is not a dossier, bad arguments or no memory (exit 2). docs/dossier.md §4
 * lists every refusal and its class. Thread-safe.
 */
bool pl_dossier_error_is_evidence(int err);

/* True for the kinds that head a thread, and so a dossier: send, consult, check, statement. */
bool pl_dossier_is_subject_kind(enum pl_record_kind k);

/* Frees a report; NULL is a no-op. */
void pl_dossier_report_free(struct pl_dossier_report *r);

/*
 * Appends the plain-text timeline and verdicts of r to out (what `parley
 * verify` prints; every line ends in a newline). Record text in a report has
 * passed the record grammar (no control or invisible characters) and
 * disclosed plaintexts are shown only when is_text. Returns 0 or a pl_buf
 * error. Thread-safe.
 */
int pl_dossier_render_text(const struct pl_dossier_report *r, struct pl_buf *out) PL_WUR;

/*
 * Appends r as one JSON object (what `parley verify --json` prints:
 * verifies, version, origin, log_key, log_key_pinned, size, root, index_root
 * (version 2 only: the root of the index record that ends the checkpoint), start,
 * subject, subject_kind, subject_class, witnesses, existed_by, events,
 * verdicts, disclosed, in this order, indented by two spaces) and a newline
 * to out. Disclosed plaintexts are given as text only when
 * is_text, and always in base64. Returns 0, PL_ENOMEM or a pl_buf error;
 * out is unchanged on error. Thread-safe.
 */
int pl_dossier_render_json(const struct pl_dossier_report *r, struct pl_buf *out) PL_WUR;

/*
 * Appends a standalone HTML page of the same timeline and verdicts to out:
 * one document, inline CSS, no script and no external asset, every text
 * HTML-escaped. Returns 0 or a pl_buf error. Thread-safe.
 */
int pl_dossier_render_html(const struct pl_dossier_report *r, struct pl_buf *out) PL_WUR;

/* ---- In a browser --------------------------------------------------------------- */

/* Most witness keys pl_dossier_check_html() takes. */
#define PL_DOSSIER_PAGE_WITNESSES_MAX 64
/* Most bytes of the key texts pl_dossier_check_html() and pl_dossier_page() take. */
#define PL_DOSSIER_PAGE_KEYS_MAX (PL_DOSSIER_PAGE_WITNESSES_MAX * (PL_KEY_NAME_MAX + 80))

/*
 * Appends a standalone HTML page saying that a dossier does not verify
 * (pl_dossier_error_is_evidence(err)) or cannot be checked (anything else),
 * with reason, one line, HTML-escaped; no script, no external asset.
 * Returns 0 or a pl_buf error; out is unchanged on error. Thread-safe.
 */
int pl_dossier_render_failure_html(int err, const char *reason, struct pl_buf *out) PL_WUR;

/*
 * What the self-verifying page runs (compiled to WebAssembly): parses
 * log_key (one verifier key text, or "" for the dossier's own) and
 * witnesses (verifier key texts separated by white space, at most
 * PL_DOSSIER_PAGE_WITNESSES_MAX, all of which must have cosigned), verifies
 * json[0..len) with pl_dossier_verify() and appends to out the
 * pl_dossier_render_html() page, or the pl_dossier_render_failure_html()
 * page that names the reason (a key that does not parse is an input
 * failure). Returns 0 when the dossier verifies, else the error (out holds
 * the failure page unless the error is PL_ENOMEM or a pl_buf error).
 * Thread-safe.
 */
int pl_dossier_check_html(const char *json, size_t len, const char *log_key, const char *witnesses,
                          struct pl_buf *out) PL_WUR;

/* Most author keys pl_statement_check_html() takes. */
#define PL_STATEMENT_AUTHOR_KEYS_MAX 16

/*
 * What a statement page's script (/assets/parley-verify.js) runs in the
 * visitor's browser, compiled to WebAssembly: verifies that the signed
 * record record[0..rlen) opens (pl_record_open()) with one of author_keys
 * (Ed25519 verifier key texts separated by white space), and that the
 * c2sp.org/tlog-proof proof[0..plen) proves it included in a checkpoint of
 * the log whose origin is log_key's name, signed by log_key and cosigned by
 * every one of witnesses (pl_proof_check()). Appends to out one HTML
 * fragment (a <div id="pl-checked">, data-verified "yes" or "no") that says
 * plainly what was checked and against which keys, each shown in full, or
 * what does not hold. Returns 0 when all holds, else the error (out holds
 * the fragment unless the error is PL_ENOMEM or a pl_buf error).
 * Thread-safe.
 */
int pl_statement_check_html(const char *record, size_t rlen, const char *proof, size_t plen,
                            const char *author_keys, const char *log_key, const char *witnesses,
                            struct pl_buf *out) PL_WUR;

/* The scripts a self-verifying page embeds, built with the WebAssembly verifier. */
struct pl_dossier_page_assets {
	const char *sodium; /* libsodium's build (libsodium-sumo.js) */
	size_t sodium_len;
	const char *wrappers; /* libsodium-wrappers.js */
	size_t wrappers_len;
	const char *verifier; /* libparley's verifier, WebAssembly inlined (parley-verifier.js) */
	size_t verifier_len;
	const char *glue; /* the page's script (dossier-page.js) */
	size_t glue_len;
};

/*
 * Appends one self-contained HTML page to out that embeds the dossier
 * json[0..len) (base64), the key texts it is to be checked against
 * (log_key, or "" for the dossier's own; witnesses as for
 * pl_dossier_check_html()) and the scripts of a; opened from disk in a
 * browser it runs pl_dossier_check_html() on them and shows the result,
 * and lets the reader change the keys. The dossier is not verified here.
 * Returns 0, PL_EINVAL (a script holds "</script", keys too long) or a
 * pl_buf error; out is unchanged on error. Thread-safe.
 */
int pl_dossier_page(const char *json, size_t len, const char *log_key, const char *witnesses,
                    const struct pl_dossier_page_assets *a, struct pl_buf *out) PL_WUR;

#endif
