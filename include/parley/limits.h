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

#endif
