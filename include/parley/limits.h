/* Every bound on outside input, in one place. Parsers reject anything larger. */
#ifndef PARLEY_LIMITS_H
#define PARLEY_LIMITS_H

/* Signed notes (c2sp.org/signed-note). */
#define PL_NOTE_MAX_BYTES (1u << 20) /* whole note, text and signatures */
#define PL_NOTE_MAX_SIGS  64         /* signature lines in one note */
#define PL_KEY_NAME_MAX   255        /* bytes in a key name */
#define PL_NOTE_SIG_MAX   256        /* decoded bytes of one signature */

/* Checkpoints (c2sp.org/tlog-checkpoint). */
#define PL_ORIGIN_MAX                255  /* bytes in a log origin line */
#define PL_CHECKPOINT_MAX_EXTENSIONS 16   /* extension lines after the root */
#define PL_CHECKPOINT_MAX_BYTES      8192 /* checkpoint text */

/* Merkle proofs: a tree of at most 2^63 leaves needs at most 2*63 hashes. */
#define PL_PROOF_MAX_HASHES 128

/* tlog-tiles. */
#define PL_TILE_HEIGHT     8
#define PL_TILE_WIDTH      256
#define PL_ENTRY_MAX_BYTES 65535 /* one entry in an entry bundle */

/* tlog-proof (c2sp.org/tlog-proof). */
#define PL_TLOG_PROOF_MAX_BYTES (64u * 1024u)
#define PL_TLOG_PROOF_EXTRA_MAX 4096 /* decoded bytes of the optional extra data */

/* Request authentication (docs/api.md) and the HTTP API. */
#define PL_AUTH_HEADER_MAX       512           /* bytes in an Authorization header value */
#define PL_AUTH_WINDOW_SECONDS   60            /* accepted clock difference, either way */
#define PL_AUTH_NONCES_MAX       (1u << 19)    /* nonces in the pool shared by all keys */
#define PL_AUTH_NONCES_PER_KEY   4096          /* nonces each key may always have remembered */
#define PL_HTTP_TARGET_MAX       1024          /* bytes in a request-target (path and query) */
#define PL_HTTP_HEADERS_MAX      64            /* header fields in one request */
#define PL_HTTP_CONN_MEMORY      (64u * 1024u) /* per-connection buffer: bounds the header block */
#define PL_HTTP_CONNECTIONS_MAX  1024          /* concurrent connections */
#define PL_HTTP_PER_IP_MAX       64            /* concurrent connections from one address */
#define PL_HTTP_TIMEOUT_SECONDS  30            /* idle time before a connection is closed */
#define PL_HTTP_HEADER_SECONDS   5             /* to send a whole request head */
#define PL_HTTP_POLL_MAX_SECONDS 60            /* longest long poll */
#define PL_HTTP_RECORDS_MAX_PAGE 1000          /* records in one inbox or thread answer */
#define PL_HTTP_STREAMS_MAX      256           /* open event streams */
#define PL_HTTP_STREAMS_PER_KEY  4             /* open event streams of one key */
#define PL_HTTP_RATE_PER_KEY     2000          /* requests per second per key, sustained */
#define PL_HTTP_BURST_PER_KEY    4000          /* requests per key in a burst */
#define PL_HTTP_RESPONSE_MAX     (64u << 20)   /* bytes a client accepts in one answer */

/* Payload blobs and party identities (docs/payloads.md). */
#define PL_BOX_MAX_READERS 32         /* reader slots in one blob */
#define PL_BOX_MAX_BODY    (8u << 20) /* plaintext bytes in one blob */
#define PL_PARTY_NAME_MAX  63         /* bytes in a party name */

/* Records (docs/records.md). */
#define PL_RECORD_MAX_BYTES  (32u * 1024u) /* whole signed record, text and signatures */
#define PL_RECORD_TEXT_MAX   (24u * 1024u) /* record text: header, blank line, body */
#define PL_RECORD_BODY_MAX   (16u * 1024u) /* public body */
#define PL_RECORD_ORIGIN_MAX 191 /* exchange origin, so that <origin>/<party> is a key name */
#define PL_RECORD_NAME_MAX   63  /* party and line names */
#define PL_RECORD_MAX_TO     16  /* `to` lines */
#define PL_RECORD_MAX_REFS   16  /* `ref` lines */
#define PL_RECORD_MAX_KEYS   4   /* `key` lines of a register or revoke */
#define PL_RECORD_REASON_MAX 280 /* bytes of a `reason` */

/*
 * Records that may refer to one record (by any role) when a record about it
 * is judged: the rules read each of its siblings, so past this the record
 * about it is refused, by the exchange and by every replay alike.
 */
#define PL_RULES_MAX_SIBLINGS 1024

/* Dossiers (docs/dossier.md). */
#define PL_DOSSIER_MAX_BYTES       (64u << 20) /* the whole JSON file */
#define PL_DOSSIER_MAX_WINDOW      65536       /* entries in the absence window (v1) */
#define PL_DOSSIER_MAX_THREAD      4096        /* records of the thread (v2) */
#define PL_DOSSIER_MAX_PROVEN      4096        /* other records, each with a proof */
#define PL_DOSSIER_MAX_DISCLOSURES 64          /* disclosed plaintexts */

/* A key directory replayed from a log (include/parley/directory.h). */
#define PL_DIRECTORY_MAX_KEYS (1u << 19) /* keys: above what a largest dossier can name */

/* Client profiles and local state (include/parley/profile.h, state.h). */
#define PL_PROFILE_MAX_BYTES 16384 /* the whole profile file */
#define PL_PROFILE_URL_MAX   1024  /* bytes of the exchange's base URL */
#define PL_PROFILE_PATH_MAX  4095  /* bytes of a path in a profile */

/* Witness (c2sp.org/tlog-witness, docs/witness.md). */
#define PL_WITNESS_REQUEST_MAX (64u * 1024u) /* bytes in an add-checkpoint body */
#define PL_WITNESS_PROOF_MAX   63            /* consistency proof lines the spec allows */
#define PL_WITNESS_ANSWER_MAX  (16u * 1024u) /* bytes a log reads of a witness's answer */

/* The thread index (docs/index.md, include/parley/tindex.h). */
#define PL_TINDEX_MAX_DEPTH       256            /* siblings in a proof: one per bit of a path */
#define PL_TINDEX_MAX_ENTRIES     4096           /* records that refer to one record */
#define PL_TINDEX_MAX_BATCH       65536          /* references added by one update */
#define PL_TINDEX_PROOF_MAX_BYTES (512u * 1024u) /* a proof's text, its entries and hashes */

/* An evidence file (include/parley/evidence.h): two notes, or five parts, and their headers. */
#define PL_EVIDENCE_MAX_BYTES (2u * PL_NOTE_MAX_BYTES + 64u * 1024u)

/* Coordination and measures (include/parley/coordination.h, measures.h). */
#define PL_RECORD_WINDOW_MAX_DAYS   365   /* a group's `window` */
#define PL_COORDINATION_MAX_RECORDS 10000 /* a chain walked, or measures kept, for one report */

#endif
