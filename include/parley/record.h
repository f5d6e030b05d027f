/* Records: the signed, line-based evidence that every step leaves (docs/records.md). */
#ifndef PARLEY_RECORD_H
#define PARLEY_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>
#include <parley/party.h>

#define PL_RECORD_VERSION_LINE  "parley/record/v1"
#define PL_RECORD_EXCHANGE      "exchange" /* author of the exchange's own records */
#define PL_RECORD_ID_BYTES      32         /* SHA-256 of the whole signed note */
#define PL_RECORD_ID_HEX_LEN    64
#define PL_RECORD_ID_PREFIX_MIN 8  /* hex digits in the shortest id prefix people may type */
#define PL_RECORD_DIGEST_BYTES  32 /* `payload` hash and `commit` */

/* The evidence vocabulary (`kind`). Values are stable. */
enum pl_record_kind {
	PL_KIND_SEND = 1,
	PL_KIND_RECEIVE,
	PL_KIND_CONVEY,
	PL_KIND_DECLINE,
	PL_KIND_ACCEPT,
	PL_KIND_REFUSE,
	PL_KIND_STATEMENT,
	PL_KIND_CONSULT,
	PL_KIND_ADVISE,
	PL_KIND_CHECK,
	PL_KIND_ANSWER,
	PL_KIND_AVAILABLE,
	PL_KIND_EXPIRE,
	PL_KIND_UNANSWERED,
	PL_KIND_REGISTER,
	PL_KIND_REVOKE,
	PL_KIND_INDEX, /* the exchange's commitment to the thread index (docs/index.md §5) */
	/* a check the exchange did not make: it was down when it fell due (docs/records.md §7) */
	PL_KIND_MISSED,
	PL_KIND_GROUP, /* a coordination group created or changed by a member (records.md §5) */
};
#define PL_KIND_COUNT 19

/* `class` of a send (message, proposal, letter) or a statement (statement, measure). */
enum pl_record_class {
	PL_CLASS_MESSAGE = 1,
	PL_CLASS_PROPOSAL,
	PL_CLASS_LETTER,
	PL_CLASS_STATEMENT,
	PL_CLASS_MEASURE,
};

/* Role of a `ref` line. */
enum pl_ref_role {
	PL_ROLE_SUBJECT =
	        1, /* the send a receive/convey/decline/accept/refuse/available/expire is about */
	PL_ROLE_REPLY_TO, /* the send that a send answers */
	PL_ROLE_CITES,    /* a record that a statement cites */
	PL_ROLE_CHECK,    /* the check that an answer or unanswered is about */
	PL_ROLE_CONSULT,  /* the consult that an advise answers, or a send or statement follows */
	PL_ROLE_PREVIOUS, /* the register a returning party's new register follows; the line's
	                     check or missed before a check or missed */
	PL_ROLE_GROUP,    /* the group version a group change changes, or a consult is made in */
	PL_ROLE_RECIPROCATES, /* another party's measure that a measure answers in kind */
	PL_ROLE_CHANGES,      /* the latest state of its author's measure that a measure changes */
};

/* `state` of a measure that changes another (a measure without one is announced). */
enum pl_measure_state {
	PL_MEASURE_ANNOUNCED = 1, /* never written: the state of a measure that changes none */
	PL_MEASURE_SUSPENDED,
	PL_MEASURE_RESUMED,
	PL_MEASURE_ENDED,
};

/* `position` of an advise. */
enum pl_position {
	PL_POSITION_CONCUR = 1,
	PL_POSITION_OBJECT,
	PL_POSITION_NOTED,
};

/* Bits of pl_record.has: which optional single lines are present. */
#define PL_RECORD_HAS_PREV     (1u << 0) /* prev is an id (else the line reads "prev -") */
#define PL_RECORD_HAS_CLASS    (1u << 1)
#define PL_RECORD_HAS_VIA      (1u << 2)
#define PL_RECORD_HAS_DEADLINE (1u << 3)
#define PL_RECORD_HAS_LINE     (1u << 4)
#define PL_RECORD_HAS_PAYLOAD  (1u << 5)
#define PL_RECORD_HAS_COMMIT   (1u << 6)
#define PL_RECORD_HAS_REASON   (1u << 7)
#define PL_RECORD_HAS_POSITION (1u << 8)
#define PL_RECORD_HAS_PARTY    (1u << 9)
#define PL_RECORD_HAS_ENC      (1u << 10)
#define PL_RECORD_HAS_BODY     (1u << 11)
#define PL_RECORD_HAS_ROOT     (1u << 12) /* an index record's `root` */
#define PL_RECORD_HAS_GROUP    (1u << 13) /* a group record's `group` name */
#define PL_RECORD_HAS_WINDOW   (1u << 14) /* a group record's `window` in days */
#define PL_RECORD_HAS_DUE      (1u << 15) /* a missed record's `due` */
#define PL_RECORD_HAS_STATE    (1u << 16) /* a measure's `state` */

/* One `ref <role> <id>` line. */
struct pl_record_ref {
	enum pl_ref_role role;
	uint8_t id[PL_RECORD_ID_BYTES];
};

/*
 * A parsed record: the header lines in their fixed order. Plain data with
 * fixed-size fields (nothing to free). Strings are NUL-terminated. The
 * always-present lines (exchange, author, seq, prev, time, kind) have no
 * flag; every other single line is present exactly when its PL_RECORD_HAS_
 * bit is set in has; repeatable lines are counted. Fields whose bit is clear
 * are zero after parsing and ignored by formatting; so are the bytes of body
 * past body_len + 1, whose content is unspecified (compare with
 * pl_record_format(), not memcmp()).
 * To build a record, zero the struct, fill it and call pl_record_format().
 */
struct pl_record {
	uint32_t has;
	enum pl_record_kind kind;
	char exchange[PL_RECORD_ORIGIN_MAX + 1];
	char author[PL_RECORD_NAME_MAX + 1]; /* a party, or PL_RECORD_EXCHANGE */
	uint64_t seq;                        /* 1 for a key's first record */
	uint8_t prev[PL_RECORD_ID_BYTES];    /* PL_RECORD_HAS_PREV */
	int64_t time;                        /* Unix seconds */
	enum pl_record_class cls;            /* PL_RECORD_HAS_CLASS */
	size_t nto;
	char to[PL_RECORD_MAX_TO][PL_RECORD_NAME_MAX + 1]; /* sorted, distinct */
	char via[PL_RECORD_NAME_MAX + 1];                  /* PL_RECORD_HAS_VIA */
	int64_t deadline;                                  /* PL_RECORD_HAS_DEADLINE */
	char line[PL_RECORD_NAME_MAX + 1];                 /* PL_RECORD_HAS_LINE */
	size_t nrefs;
	struct pl_record_ref refs[PL_RECORD_MAX_REFS]; /* sorted by their text, distinct */
	uint8_t payload[PL_RECORD_DIGEST_BYTES]; /* PL_RECORD_HAS_PAYLOAD: SHA-256 of the blob */
	uint64_t payload_size;                   /* bytes of the blob */
	uint8_t commit[PL_RECORD_DIGEST_BYTES];  /* PL_RECORD_HAS_COMMIT */
	char reason[PL_RECORD_REASON_MAX + 1];   /* PL_RECORD_HAS_REASON */
	enum pl_position position;               /* PL_RECORD_HAS_POSITION */
	char party[PL_RECORD_NAME_MAX + 1];      /* PL_RECORD_HAS_PARTY */
	size_t nkeys;
	struct pl_vkey keys[PL_RECORD_MAX_KEYS]; /* sorted by their text, distinct */
	struct pl_party_ekey enc;                /* PL_RECORD_HAS_ENC: encryption key */
	uint8_t index_root[PL_HASH_BYTES];       /* PL_RECORD_HAS_ROOT: the thread index's root */
	int64_t due; /* PL_RECORD_HAS_DUE: when the missed check fell due, not after time */
	char group[PL_RECORD_NAME_MAX + 1]; /* PL_RECORD_HAS_GROUP: a group's name */
	size_t nabout;                      /* a group's counterparts: sorted, distinct */
	char about[PL_RECORD_MAX_TO][PL_RECORD_NAME_MAX + 1];
	uint32_t window_days;        /* PL_RECORD_HAS_WINDOW: 1..PL_RECORD_WINDOW_MAX_DAYS */
	enum pl_measure_state state; /* PL_RECORD_HAS_STATE: suspended, resumed or ended */
	/* PL_RECORD_HAS_BODY: the public body, ending in a newline. Kept last so
	 * that copies can stop at body_len. */
	size_t body_len;
	char body[PL_RECORD_BODY_MAX + 1];
};

/*
 * Parses a record text (the text of a signed note, text[0..len), including
 * its final newline; no signatures): the version line, the header lines in
 * their fixed order with their value grammars and the limits of limits.h,
 * the optional body. Grammar and limits only: which lines a kind requires,
 * and signatures, are pl_record_open()'s business. Returns 0 with *r set, or
 * PL_EMALFORMED / PL_ETOOBIG, with *why (if not NULL) set to a static
 * description of the first fault; *r is untouched on failure. Thread-safe.
 */
int pl_record_parse(struct pl_record *r, const char *text, size_t len, const char **why) PL_WUR;

/*
 * Appends the text of r to out, so that pl_record_parse() of the result
 * gives back r and pl_record_format() of that gives back the same bytes.
 * Checks the same grammar and limits as the parser (r must be something the
 * parser could have produced). Returns 0, PL_EMALFORMED or PL_ETOOBIG (with
 * *why set), or a pl_buf error; on error out is unchanged. Thread-safe.
 */
int pl_record_format(const struct pl_record *r, struct pl_buf *out, const char **why) PL_WUR;

/*
 * Formats r and appends the signed note to out, signed by keys[0..nkeys) in
 * that order. keys[0] must be the author's key (named by
 * pl_record_key_name()); a register or revoke then takes one key per `key`
 * line, in the order of those lines (the party's self-signatures). Returns
 * 0, PL_EINVAL (wrong number or names of keys), the pl_record_format()
 * errors, or a pl_buf error. Does not check kind rules. Thread-safe.
 */
int pl_record_sign(struct pl_buf *out, const struct pl_record *r, const struct pl_skey *keys,
                   size_t nkeys, const char **why) PL_WUR;

/*
 * The one stateless validation of a signed record msg[0..len): size, the
 * signed-note syntax, the record grammar, the lines each kind requires or
 * forbids, the values each kind allows, and the signatures: exactly one
 * signature line, by the author's key (`<exchange>/<author>`, or
 * `<exchange>` for the exchange), which must be one of dir[0..ndir) and
 * verify; for register and revoke, the exchange's signature followed by one
 * self-signature per `key` line, in order, each verifying with that key.
 * No other signature line is allowed (an extra line would change the id).
 * dir is typically every key ever registered plus the log key: whether the
 * key was active when the record was logged is pl_rules_check()'s question.
 *
 * On success returns 0 and sets *r, id (the record id) and, if signer is
 * not NULL, *signer (the author key that verified). On failure sets nothing
 * but *why (if not NULL, a static description) and returns PL_ETOOBIG,
 * PL_EMALFORMED, PL_ECHAIN (seq and prev disagree), PL_ENOKEY (a signature
 * line missing, extra or by a key not in dir), PL_EVERIFY (a signature does
 * not verify), or PL_ENOMEM. Stateful rules are pl_rules_check()'s.
 * Thread-safe (dir is only read).
 */
int pl_record_open(struct pl_record *r, uint8_t id[static PL_RECORD_ID_BYTES],
                   struct pl_vkey *signer, const char *msg, size_t len, const struct pl_vkey *dir,
                   size_t ndir, const char **why) PL_WUR;

/*
 * Writes to out the name of the key that signs records of author at origin:
 * "<origin>/<author>", or "<origin>" for PL_RECORD_EXCHANGE. Returns 0 or
 * PL_EINVAL (bad origin or author name).
 */
int pl_record_key_name(char out[static PL_KEY_NAME_MAX + 1], const char *origin,
                       const char *author) PL_WUR;

/*
 * True when s[0..len) is a valid party or line name: 1 to
 * PL_RECORD_NAME_MAX of [a-z0-9-], not starting or ending with '-'.
 * ("exchange" is a valid name; it is reserved as a party by the grammar.)
 */
bool pl_record_name_is_valid(const char *s, size_t len);

/*
 * True when s[0..len) may be the value of a `reason` line: 1 to
 * PL_RECORD_REASON_MAX bytes of clean UTF-8 text (docs/records.md §2) on one
 * line, not starting or ending with a space.
 */
bool pl_record_reason_is_valid(const char *s, size_t len);

/* True when s[0..len) is a valid exchange origin (see docs/records.md). */
bool pl_record_origin_is_valid(const char *s, size_t len);

/* ---- Ids ---------------------------------------------------------------- */

/* The id of a signed record: SHA-256 of all of msg[0..len). */
void pl_record_id(uint8_t id[static PL_RECORD_ID_BYTES], const char *msg, size_t len);

/* Writes the 64 lowercase hex digits of id plus a NUL to out. */
void pl_record_id_format(char out[static PL_RECORD_ID_HEX_LEN + 1],
                         const uint8_t id[static PL_RECORD_ID_BYTES]);

/* Parses exactly 64 lowercase hex digits. Returns 0 or PL_EMALFORMED; id set only on success. */
int pl_record_id_parse(uint8_t id[static PL_RECORD_ID_BYTES], const char *s, size_t len) PL_WUR;

/*
 * True when prefix[0..len) is PL_RECORD_ID_PREFIX_MIN to 64 hex digits
 * (either case, as people type them) that begin the hex form of id.
 */
bool pl_record_id_has_prefix(const uint8_t id[static PL_RECORD_ID_BYTES], const char *prefix,
                             size_t len);

/*
 * Finds the one id among ids[0..n) that prefix[0..len) begins. Returns 0 with
 * *index set, PL_EMALFORMED (not 8..64 hex digits), PL_ENOTFOUND or
 * PL_EAMBIGUOUS (more than one distinct id matches; the same id listed twice
 * is one match).
 */
int pl_record_id_match(size_t *index, const char *prefix, size_t len,
                       const uint8_t (*ids)[PL_RECORD_ID_BYTES], size_t n) PL_WUR;

/* ---- Vocabulary --------------------------------------------------------- */

/* Names as written in records; NULL for a value outside the enum. */
const char *pl_record_kind_name(enum pl_record_kind k);
const char *pl_record_class_name(enum pl_record_class c);
const char *pl_ref_role_name(enum pl_ref_role r);
const char *pl_position_name(enum pl_position p);
/* "announced", "suspended", "resumed", "ended". */
const char *pl_measure_state_name(enum pl_measure_state s);

/* Looks up a kind by its name s[0..len). Returns 0 or PL_ENOTFOUND. */
int pl_record_kind_from_name(enum pl_record_kind *k, const char *s, size_t len) PL_WUR;

/* True for the kinds only the exchange authors (check, available, expire, unanswered, register,
 * revoke, index). */
bool pl_record_kind_is_exchange(enum pl_record_kind k);

/*
 * The role of the one `ref` that ties a record of kind k to the record it acts
 * on: PL_ROLE_SUBJECT for receive, convey, decline, accept, refuse, available
 * and expire (the send); PL_ROLE_CHECK for answer and unanswered;
 * PL_ROLE_CONSULT for advise; PL_ROLE_GROUP for group (the version a change
 * changes; a group's first version has no such ref); 0 for the kinds that
 * act on no record.
 */
enum pl_ref_role pl_record_kind_target(enum pl_record_kind k);

/*
 * The role of the ref that ties r to the record it acts on, whose siblings
 * the rules read: pl_record_kind_target(r->kind), except that a group's
 * first version acts on none, and that a statement acts on the measure it
 * changes (PL_ROLE_CHANGES) when it changes one, else on none.
 */
enum pl_ref_role pl_record_target(const struct pl_record *r);

/*
 * The first `ref` of r with this role, or NULL. The kinds that refer to one
 * record (receive, convey, decline, accept, refuse, available, expire: subject;
 * answer, unanswered: check; advise: consult) carry exactly one.
 */
const struct pl_record_ref *pl_record_ref_find(const struct pl_record *r, enum pl_ref_role role);

/* True when party is one of r's `to` lines. */
bool pl_record_has_to(const struct pl_record *r, const char *party);

/* True when party is one of r's `about` lines (a group's counterparts). */
bool pl_record_has_about(const struct pl_record *r, const char *party);

/* ---- Describing a record (src/lib/record_describe.c) ---- */

/*
 * The two wordings of a timeline: PL_DESCRIBE_REPORT is the dossier
 * report's (`parley verify`: terse, each record beside verdicts that say
 * what it rests on; names listed with commas); PL_DESCRIBE_THREAD is
 * `parley thread`'s (a sentence a person reads alone: "declined to convey
 * it", "(content reached it)"; names listed "a, b and c").
 */
enum pl_describe_voice {
	PL_DESCRIBE_REPORT = 1,
	PL_DESCRIBE_THREAD,
};

/*
 * What the caller knows of the thread around a record, already in words,
 * for pl_record_describe(). Strings are NUL-terminated and not kept.
 */
struct pl_describe_context {
	enum pl_describe_voice voice;
	const char *target;                 /* how the record it acts on is named: "it", or
	                                       "proposal 1a2b3c4d…"; "" for none */
	const struct pl_record *target_rec; /* that record, when the caller holds it, else NULL */
	const char *answering;              /* a send that replies: how the record it answers is
	                                       named; NULL when it is not a reply in this thread */
	const char *cited;                  /* a statement: what it cites, in words; "" for none */
	bool via_received;                  /* an expire: the intermediary received the send */
};

/*
 * Writes to out[0..n) (n > 0, NUL-terminated, cut at n bytes) one sentence
 * of what r did, as a timeline says it ("declined it: \"...\"", "sent a
 * proposal to kpa via unc, reply by ..."), in c's voice. r has passed the
 * record grammar, so the text it quotes is safe on a terminal. This is the
 * one describer of a record: the dossier report and `parley thread` use it.
 * Thread-safe.
 */
void pl_record_describe(char *out, size_t n, const struct pl_record *r,
                        const struct pl_describe_context *c);

#endif
