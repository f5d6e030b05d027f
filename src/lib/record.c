/* Records: strict parse and format of the header grammar, stateless validation, ids. */
#include <parley/record.h>

#include <stdlib.h>

#include <parley/box.h>
#include <parley/encoding.h>
#include <parley/note.h>
#include <parley/party.h>
#include <parley/timestamp.h>

#include "internal.h"

/* Header lines in their fixed order; the enum value is the rank a line must not go below. */
enum field {
	F_EXCHANGE,
	F_AUTHOR,
	F_SEQ,
	F_PREV,
	F_TIME,
	F_KIND,
	F_CLASS,
	F_TO,
	F_VIA,
	F_DEADLINE,
	F_LINE,
	F_REF,
	F_PAYLOAD,
	F_COMMIT,
	F_REASON,
	F_POSITION,
	F_PARTY,
	F_KEY,
	F_ENC,
	F_ROOT,
	F_DUE,
	F_GROUP,
	F_ABOUT,
	F_WINDOW,
	F_STATE,
	F_COUNT
};

static const struct {
	const char *name;
	bool repeatable; /* sorted by value, distinct, counted */
} fields[F_COUNT] = {
        [F_EXCHANGE] = {"exchange", false}, [F_AUTHOR] = {"author", false},
        [F_SEQ] = {"seq", false},           [F_PREV] = {"prev", false},
        [F_TIME] = {"time", false},         [F_KIND] = {"kind", false},
        [F_CLASS] = {"class", false},       [F_TO] = {"to", true},
        [F_VIA] = {"via", false},           [F_DEADLINE] = {"deadline", false},
        [F_LINE] = {"line", false},         [F_REF] = {"ref", true},
        [F_PAYLOAD] = {"payload", false},   [F_COMMIT] = {"commit", false},
        [F_REASON] = {"reason", false},     [F_POSITION] = {"position", false},
        [F_PARTY] = {"party", false},       [F_KEY] = {"key", true},
        [F_ENC] = {"enc", false},           [F_ROOT] = {"root", false},
        [F_DUE] = {"due", false},           [F_GROUP] = {"group", false},
        [F_ABOUT] = {"about", true},        [F_WINDOW] = {"window", false},
        [F_STATE] = {"state", false},
};

static const char *const kind_names[PL_KIND_COUNT + 1] = {
        [PL_KIND_SEND] = "send",           [PL_KIND_RECEIVE] = "receive",
        [PL_KIND_CONVEY] = "convey",       [PL_KIND_DECLINE] = "decline",
        [PL_KIND_ACCEPT] = "accept",       [PL_KIND_REFUSE] = "refuse",
        [PL_KIND_STATEMENT] = "statement", [PL_KIND_CONSULT] = "consult",
        [PL_KIND_ADVISE] = "advise",       [PL_KIND_CHECK] = "check",
        [PL_KIND_ANSWER] = "answer",       [PL_KIND_AVAILABLE] = "available",
        [PL_KIND_EXPIRE] = "expire",       [PL_KIND_UNANSWERED] = "unanswered",
        [PL_KIND_REGISTER] = "register",   [PL_KIND_REVOKE] = "revoke",
        [PL_KIND_INDEX] = "index",         [PL_KIND_MISSED] = "missed",
        [PL_KIND_GROUP] = "group",
};

static const char *const class_names[] = {
        [PL_CLASS_MESSAGE] = "message", [PL_CLASS_PROPOSAL] = "proposal",
        [PL_CLASS_LETTER] = "letter",   [PL_CLASS_STATEMENT] = "statement",
        [PL_CLASS_MEASURE] = "measure",
};

static const char *const role_names[] = {
        [PL_ROLE_SUBJECT] = "subject", [PL_ROLE_REPLY_TO] = "reply-to",
        [PL_ROLE_CITES] = "cites",     [PL_ROLE_CHECK] = "check",
        [PL_ROLE_CONSULT] = "consult", [PL_ROLE_PREVIOUS] = "previous",
        [PL_ROLE_GROUP] = "group",     [PL_ROLE_RECIPROCATES] = "reciprocates",
        [PL_ROLE_CHANGES] = "changes",
};

static const char *const state_names[] = {
        [PL_MEASURE_ANNOUNCED] = "announced",
        [PL_MEASURE_SUSPENDED] = "suspended",
        [PL_MEASURE_RESUMED] = "resumed",
        [PL_MEASURE_ENDED] = "ended",
};

static const char *const position_names[] = {
        [PL_POSITION_CONCUR] = "concur",
        [PL_POSITION_OBJECT] = "object",
        [PL_POSITION_NOTED] = "noted",
};

/* Index of s[0..len) in names[1..n), or 0. */
static int name_lookup(const char *const *names, size_t n, const char *s, size_t len)
{
	for (size_t i = 1; i < n; i++) {
		if (names[i] && strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return (int)i;
	}
	return 0;
}

static const char *name_of(const char *const *names, size_t n, int v)
{
	return v > 0 && (size_t)v < n ? names[v] : NULL;
}

const char *pl_record_kind_name(enum pl_record_kind k)
{
	return name_of(kind_names, PL__ARRAY_LEN(kind_names), (int)k);
}

const char *pl_record_class_name(enum pl_record_class c)
{
	return name_of(class_names, PL__ARRAY_LEN(class_names), (int)c);
}

const char *pl_ref_role_name(enum pl_ref_role r)
{
	return name_of(role_names, PL__ARRAY_LEN(role_names), (int)r);
}

const char *pl_position_name(enum pl_position p)
{
	return name_of(position_names, PL__ARRAY_LEN(position_names), (int)p);
}

const char *pl_measure_state_name(enum pl_measure_state st)
{
	return name_of(state_names, PL__ARRAY_LEN(state_names), (int)st);
}

int pl_record_kind_from_name(enum pl_record_kind *k, const char *s, size_t len)
{
	int v = name_lookup(kind_names, PL__ARRAY_LEN(kind_names), s, len);

	if (v == 0)
		return PL_ENOTFOUND;
	*k = (enum pl_record_kind)v;
	return 0;
}

bool pl_record_kind_is_exchange(enum pl_record_kind k)
{
	return k == PL_KIND_CHECK || k == PL_KIND_AVAILABLE || k == PL_KIND_EXPIRE ||
	       k == PL_KIND_UNANSWERED || k == PL_KIND_REGISTER || k == PL_KIND_REVOKE ||
	       k == PL_KIND_INDEX || k == PL_KIND_MISSED;
}

/* ---- Value grammars ----------------------------------------------------- */

bool pl_record_name_is_valid(const char *s, size_t len)
{
	if (len == 0 || len > PL_RECORD_NAME_MAX || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

/* A party named in to/via/party: a name other than the reserved "exchange". */
static bool party_is_valid(const char *s, size_t len)
{
	return pl_party_name_is_valid(s, len);
}

bool pl_record_origin_is_valid(const char *s, size_t len)
{
	if (len == 0 || len > PL_RECORD_ORIGIN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '+')
			return false;
	}
	return true;
}

static bool reason_is_valid(const char *s, size_t len)
{
	return len > 0 && len <= PL_RECORD_REASON_MAX && s[0] != ' ' && s[len - 1] != ' ';
}

/*
 * UTF-8 with no C0 control but newline, no DEL, no C1 control, and none of
 * the invisible characters that can make text read differently from its
 * bytes: directional marks, embeddings, overrides and isolates, the line and
 * paragraph separators, and the byte order mark.
 */
static bool text_is_clean(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	if (!pl_utf8_is_valid(str, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((s[i] < 0x20 && s[i] != '\n') || s[i] == 0x7f)
			return false;
		if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return false;
		if (s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x80 &&
		    (s[i + 2] == 0x8e || s[i + 2] == 0x8f ||
		     (s[i + 2] >= 0xa8 && s[i + 2] <= 0xae)))
			return false;
		if (s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x81 && s[i + 2] >= 0xa6 &&
		    s[i + 2] <= 0xa9)
			return false;
		if (s[i] == 0xef && i + 2 < n && s[i + 1] == 0xbb && s[i + 2] == 0xbf)
			return false;
	}
	return true;
}

bool pl_record_reason_is_valid(const char *s, size_t len)
{
	return s && reason_is_valid(s, len) && !memchr(s, '\n', len) && text_is_clean(s, len);
}

static bool is_lower_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

int pl_record_id_parse(uint8_t id[static PL_RECORD_ID_BYTES], const char *s, size_t len)
{
	if (len != PL_RECORD_ID_HEX_LEN || !is_lower_hex(s, len))
		return PL_EMALFORMED;
	return pl_hex_decode_exact(id, PL_RECORD_ID_BYTES, s, len);
}

/* ---- Parser ------------------------------------------------------------- */

/* State between header lines: the rank reached and the previous value of a repeatable line. */
struct parser {
	struct pl_record *r;
	int rank;
	const char *prev_value;
	size_t prev_len;
	unsigned seen; /* bits of the always-present lines */
	const char *why;
};

#define ALWAYS_PRESENT                                                                             \
	((1u << F_EXCHANGE) | (1u << F_AUTHOR) | (1u << F_SEQ) | (1u << F_PREV) | (1u << F_TIME) | \
	 (1u << F_KIND))

static int fail(struct parser *p, int ret, const char *why)
{
	p->why = why;
	return ret;
}

/* Copies a validated value, whose length the grammar bounded to fit, into a fixed field. */
static void copy_str(char *dst, const char *s, size_t len)
{
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static int parse_ref(struct parser *p, const char *v, size_t n)
{
	struct pl_record *r = p->r;
	const char *sp = memchr(v, ' ', n);
	int role;

	if (r->nrefs == PL_RECORD_MAX_REFS)
		return fail(p, PL_ETOOBIG, "too many ref lines");
	if (!sp)
		return fail(p, PL_EMALFORMED, "ref without an id");
	role = name_lookup(role_names, PL__ARRAY_LEN(role_names), v, (size_t)(sp - v));
	if (role == 0)
		return fail(p, PL_EMALFORMED, "unknown ref role");
	if (pl_record_id_parse(r->refs[r->nrefs].id, sp + 1, n - (size_t)(sp - v) - 1) != 0)
		return fail(p, PL_EMALFORMED, "ref id is not 64 lowercase hex digits");
	r->refs[r->nrefs].role = (enum pl_ref_role)role;
	r->nrefs++;
	return 0;
}

static int parse_payload(struct parser *p, const char *v, size_t n)
{
	struct pl_record *r = p->r;

	if (n < PL_HASH_B64_LEN + 2 || v[PL_HASH_B64_LEN] != ' ')
		return fail(p, PL_EMALFORMED, "payload is not <base64 hash> <size>");
	if (pl_b64_decode_exact(r->payload, sizeof(r->payload), v, PL_HASH_B64_LEN) != 0)
		return fail(p, PL_EMALFORMED, "payload hash is not base64 of 32 bytes");
	if (pl_parse_u64(&r->payload_size, v + PL_HASH_B64_LEN + 1, n - PL_HASH_B64_LEN - 1,
	                 PL_BOX_MAX_BYTES) != 0 ||
	    r->payload_size == 0)
		return fail(p, PL_EMALFORMED, "payload size out of range");
	r->has |= PL_RECORD_HAS_PAYLOAD;
	return 0;
}

static int parse_key(struct parser *p, const char *v, size_t n)
{
	struct pl_record *r = p->r;
	struct pl_vkey *k;
	struct pl_buf b;
	int ret;

	if (r->nkeys == PL_RECORD_MAX_KEYS)
		return fail(p, PL_ETOOBIG, "too many key lines");
	k = &r->keys[r->nkeys];
	if (pl_vkey_parse(k, v, n) != 0 || k->type != PL_SIGTYPE_ED25519)
		return fail(p, PL_EMALFORMED, "key is not an Ed25519 verifier key");
	/* Only the one text form of a key, so that text and struct map one to one. */
	pl_buf_init(&b, PL_KEY_NAME_MAX + 64);
	ret = pl_vkey_format(k, &b);
	if (ret == 0 && (b.len != n || memcmp(b.data, v, n) != 0))
		ret = PL_EMALFORMED;
	pl_buf_release(&b);
	if (ret != 0)
		return fail(p, PL_EMALFORMED, "key is not in its canonical text form");
	r->nkeys++;
	return 0;
}

static int parse_enc(struct parser *p, const char *v, size_t n)
{
	struct pl_record *r = p->r;
	struct pl_buf b;
	int ret;

	if (pl_party_ekey_parse(&r->enc, v, n) != 0)
		return fail(p, PL_EMALFORMED, "enc is not a usable encryption key");
	pl_buf_init(&b, PL_PARTY_EKEY_TEXT_MAX);
	ret = pl_party_ekey_format(&r->enc, &b);
	if (ret == 0 && (b.len != n || memcmp(b.data, v, n) != 0))
		ret = PL_EMALFORMED;
	pl_buf_release(&b);
	if (ret != 0)
		return fail(p, PL_EMALFORMED, "enc is not in its canonical text form");
	r->has |= PL_RECORD_HAS_ENC;
	return 0;
}

static int parse_time(struct parser *p, int64_t *t, const char *v, size_t n)
{
	if (pl_timestamp_parse(t, v, n) != 0)
		return fail(p, PL_EMALFORMED, "time is not YYYY-MM-DDTHH:MM:SSZ");
	return 0;
}

/* Parses the value of one header line of field f. */
static int parse_value(struct parser *p, enum field f, const char *v, size_t n)
{
	struct pl_record *r = p->r;
	int x;

	switch (f) {
	case F_EXCHANGE:
		if (!pl_record_origin_is_valid(v, n))
			return fail(p, PL_EMALFORMED, "bad exchange origin");
		copy_str(r->exchange, v, n);
		return 0;
	case F_AUTHOR:
		if (!pl_record_name_is_valid(v, n))
			return fail(p, PL_EMALFORMED, "bad author name");
		copy_str(r->author, v, n);
		return 0;
	case F_SEQ:
		if (pl_parse_u64(&r->seq, v, n, INT64_MAX) != 0 || r->seq == 0)
			return fail(p, PL_EMALFORMED, "seq is not a decimal from 1");
		return 0;
	case F_PREV:
		if (n == 1 && v[0] == '-')
			return 0;
		if (pl_record_id_parse(r->prev, v, n) != 0)
			return fail(p, PL_EMALFORMED,
			            "prev is neither - nor 64 lowercase hex digits");
		r->has |= PL_RECORD_HAS_PREV;
		return 0;
	case F_TIME:
		return parse_time(p, &r->time, v, n);
	case F_KIND:
		x = name_lookup(kind_names, PL__ARRAY_LEN(kind_names), v, n);
		if (x == 0)
			return fail(p, PL_EMALFORMED, "unknown kind");
		r->kind = (enum pl_record_kind)x;
		return 0;
	case F_CLASS:
		x = name_lookup(class_names, PL__ARRAY_LEN(class_names), v, n);
		if (x == 0)
			return fail(p, PL_EMALFORMED, "unknown class");
		r->cls = (enum pl_record_class)x;
		r->has |= PL_RECORD_HAS_CLASS;
		return 0;
	case F_TO:
		if (r->nto == PL_RECORD_MAX_TO)
			return fail(p, PL_ETOOBIG, "too many to lines");
		if (!party_is_valid(v, n))
			return fail(p, PL_EMALFORMED, "bad party name in to");
		copy_str(r->to[r->nto], v, n);
		r->nto++;
		return 0;
	case F_VIA:
		if (!party_is_valid(v, n))
			return fail(p, PL_EMALFORMED, "bad party name in via");
		copy_str(r->via, v, n);
		r->has |= PL_RECORD_HAS_VIA;
		return 0;
	case F_DEADLINE:
		if (parse_time(p, &r->deadline, v, n) != 0)
			return fail(p, PL_EMALFORMED, "deadline is not YYYY-MM-DDTHH:MM:SSZ");
		r->has |= PL_RECORD_HAS_DEADLINE;
		return 0;
	case F_LINE:
		if (!pl_record_name_is_valid(v, n))
			return fail(p, PL_EMALFORMED, "bad line name");
		copy_str(r->line, v, n);
		r->has |= PL_RECORD_HAS_LINE;
		return 0;
	case F_REF:
		return parse_ref(p, v, n);
	case F_PAYLOAD:
		return parse_payload(p, v, n);
	case F_COMMIT:
		if (pl_b64_decode_exact(r->commit, sizeof(r->commit), v, n) != 0)
			return fail(p, PL_EMALFORMED, "commit is not base64 of 32 bytes");
		r->has |= PL_RECORD_HAS_COMMIT;
		return 0;
	case F_REASON:
		if (n > PL_RECORD_REASON_MAX)
			return fail(p, PL_ETOOBIG, "reason too long");
		if (!reason_is_valid(v, n))
			return fail(p, PL_EMALFORMED, "reason starts or ends with a space");
		copy_str(r->reason, v, n);
		r->has |= PL_RECORD_HAS_REASON;
		return 0;
	case F_POSITION:
		x = name_lookup(position_names, PL__ARRAY_LEN(position_names), v, n);
		if (x == 0)
			return fail(p, PL_EMALFORMED, "position is not concur, object or noted");
		r->position = (enum pl_position)x;
		r->has |= PL_RECORD_HAS_POSITION;
		return 0;
	case F_PARTY:
		if (!party_is_valid(v, n))
			return fail(p, PL_EMALFORMED, "bad party name in party");
		copy_str(r->party, v, n);
		r->has |= PL_RECORD_HAS_PARTY;
		return 0;
	case F_KEY:
		return parse_key(p, v, n);
	case F_ENC:
		return parse_enc(p, v, n);
	case F_ROOT:
		if (pl_b64_decode_exact(r->index_root, sizeof(r->index_root), v, n) != 0)
			return fail(p, PL_EMALFORMED, "root is not base64 of 32 bytes");
		r->has |= PL_RECORD_HAS_ROOT;
		return 0;
	case F_DUE:
		if (parse_time(p, &r->due, v, n) != 0)
			return fail(p, PL_EMALFORMED, "due is not YYYY-MM-DDTHH:MM:SSZ");
		r->has |= PL_RECORD_HAS_DUE;
		return 0;
	case F_GROUP:
		if (!pl_record_name_is_valid(v, n))
			return fail(p, PL_EMALFORMED, "bad group name");
		copy_str(r->group, v, n);
		r->has |= PL_RECORD_HAS_GROUP;
		return 0;
	case F_ABOUT:
		if (r->nabout == PL_RECORD_MAX_TO)
			return fail(p, PL_ETOOBIG, "too many about lines");
		if (!party_is_valid(v, n))
			return fail(p, PL_EMALFORMED, "bad party name in about");
		copy_str(r->about[r->nabout], v, n);
		r->nabout++;
		return 0;
	case F_WINDOW: {
		uint64_t d;
		if (pl_parse_u64(&d, v, n, PL_RECORD_WINDOW_MAX_DAYS) != 0 || d == 0)
			return fail(p, PL_EMALFORMED,
			            "window is not a number of days from 1 to 365");
		r->window_days = (uint32_t)d;
		r->has |= PL_RECORD_HAS_WINDOW;
		return 0;
	}
	case F_STATE:
		x = name_lookup(state_names, PL__ARRAY_LEN(state_names), v, n);
		/* "announced" is the state of a measure that changes none: never written. */
		if (x == 0 || x == PL_MEASURE_ANNOUNCED)
			return fail(p, PL_EMALFORMED, "state is not suspended, resumed or ended");
		r->state = (enum pl_measure_state)x;
		r->has |= PL_RECORD_HAS_STATE;
		return 0;
	case F_COUNT:
		break;
	}
	return fail(p, PL_EMALFORMED, "unknown line");
}

/* One header line s[0..n), without its newline: "<key> <value>", in order. */
static int parse_line(struct parser *p, const char *s, size_t n)
{
	const char *sp = memchr(s, ' ', n);
	size_t klen, vlen;
	int f;

	if (!sp)
		return fail(p, PL_EMALFORMED, "header line without a value");
	klen = (size_t)(sp - s);
	vlen = n - klen - 1;
	for (f = 0; f < F_COUNT; f++) {
		if (strlen(fields[f].name) == klen && memcmp(fields[f].name, s, klen) == 0)
			break;
	}
	if (f == F_COUNT)
		return fail(p, PL_EMALFORMED, "unknown header line");
	if (vlen == 0)
		return fail(p, PL_EMALFORMED, "empty value");
	if (f < p->rank)
		return fail(p, PL_EMALFORMED, "header lines out of order");
	if (f == p->rank) {
		size_t m = vlen < p->prev_len ? vlen : p->prev_len;
		int c = memcmp(sp + 1, p->prev_value, m);
		if (!fields[f].repeatable)
			return fail(p, PL_EMALFORMED, "duplicate header line");
		if (c < 0 || (c == 0 && vlen <= p->prev_len))
			return fail(p, PL_EMALFORMED, "repeated lines not sorted or not distinct");
	}
	p->rank = f;
	p->prev_value = sp + 1;
	p->prev_len = vlen;
	if (f <= F_KIND)
		p->seen |= 1u << f;
	return parse_value(p, (enum field)f, sp + 1, vlen);
}

/* Parses text into r (zeroed by the caller). */
static int parse_text(struct pl_record *r, const char *text, size_t len, const char **why)
{
	static const char version[] = PL_RECORD_VERSION_LINE "\n";
	struct parser p = {.r = r, .rank = -1};
	size_t pos;
	int ret = 0;

	if (len > PL_RECORD_TEXT_MAX) {
		ret = fail(&p, PL_ETOOBIG, "record text too long");
		goto out;
	}
	if (len == 0 || text[len - 1] != '\n') {
		ret = fail(&p, PL_EMALFORMED, "text does not end in a newline");
		goto out;
	}
	if (!text_is_clean(text, len)) {
		ret = fail(&p, PL_EMALFORMED, "invalid UTF-8 or a control character");
		goto out;
	}
	if (!pl__has_prefix(text, len, version)) {
		ret = fail(&p, PL_EMALFORMED, "first line is not " PL_RECORD_VERSION_LINE);
		goto out;
	}
	pos = sizeof(version) - 1;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (size_t)(nl - (text + pos));
		if (n == 0) {
			const char *body = nl + 1;
			size_t blen = len - (pos + 1);
			if (blen == 0 || body[0] == '\n' || (blen >= 2 && body[blen - 2] == '\n')) {
				ret = fail(&p, PL_EMALFORMED,
				           "body empty or starting or ending with a blank line");
				goto out;
			}
			if (blen > PL_RECORD_BODY_MAX) {
				ret = fail(&p, PL_ETOOBIG, "body too long");
				goto out;
			}
			memcpy(r->body, body, blen);
			r->body[blen] = '\0';
			r->body_len = blen;
			r->has |= PL_RECORD_HAS_BODY;
			break;
		}
		ret = parse_line(&p, text + pos, n);
		if (ret != 0)
			goto out;
		pos += n + 1;
	}
	if (p.seen != ALWAYS_PRESENT)
		ret = fail(&p, PL_EMALFORMED,
		           "missing one of exchange, author, seq, prev, time, kind");
out:
	if (ret != 0 && why)
		*why = p.why;
	return ret;
}

/*
 * A scratch record for the parser: zeroed up to the body, with an empty body. The body
 * buffer (most of the struct) is left as it is, since the parser writes only what it uses.
 */
static struct pl_record *record_alloc(void)
{
	struct pl_record *r = malloc(sizeof(*r));

	if (r) {
		memset(r, 0, offsetof(struct pl_record, body));
		r->body[0] = '\0';
	}
	return r;
}

/* Bytes of r worth copying: everything up to the body, and the body's used part. */
static void copy_record(struct pl_record *dst, const struct pl_record *src)
{
	memcpy(dst, src, offsetof(struct pl_record, body));
	memcpy(dst->body, src->body, src->body_len + 1);
}

int pl_record_parse(struct pl_record *r, const char *text, size_t len, const char **why)
{
	/* Parsed apart (the struct is large, so not on the stack) so that r is set only on success.
	 */
	struct pl_record *tmp = record_alloc();
	int ret;

	if (!tmp) {
		ret = PL_ENOMEM;
		if (why)
			*why = "out of memory";
		goto out;
	}
	ret = parse_text(tmp, text, len, why);
	if (ret == 0)
		copy_record(r, tmp);
out:
	free(tmp);
	return ret;
}

/* ---- Formatter ---------------------------------------------------------- */

/* Length of a NUL-terminated string stored in a field of cap bytes, or cap if unterminated. */
static size_t field_len(const char *s, size_t cap)
{
	const char *z = memchr(s, '\0', cap);

	return z ? (size_t)(z - s) : cap;
}

/* Appends "<key> <s>\n" for a string field, refusing an unterminated one. */
static int add_str(struct pl_buf *b, const char *key, const char *s, size_t cap)
{
	size_t n = field_len(s, cap);
	int ret;

	if (n == cap)
		return PL_EMALFORMED;
	ret = pl_buf_addf(b, "%s ", key);
	if (ret == 0)
		ret = pl_buf_add(b, s, n);
	if (ret == 0)
		ret = pl_buf_add(b, "\n", 1);
	return ret;
}

static int add_time(struct pl_buf *b, const char *key, int64_t t)
{
	int ret = pl_buf_addf(b, "%s ", key);

	if (ret == 0)
		ret = pl_timestamp_append(b, t);
	if (ret == PL_ERANGE)
		ret = PL_EMALFORMED;
	if (ret == 0)
		ret = pl_buf_add(b, "\n", 1);
	return ret;
}

static int add_id(struct pl_buf *b, const uint8_t id[static PL_RECORD_ID_BYTES])
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	pl_record_id_format(hex, id);
	return pl_buf_add(b, hex, PL_RECORD_ID_HEX_LEN);
}

static int add_b64(struct pl_buf *b, const char *key, const uint8_t *v, size_t n)
{
	int ret = pl_buf_addf(b, "%s ", key);

	if (ret == 0)
		ret = pl_b64_append(b, v, n);
	return ret;
}

static int add_named(struct pl_buf *b, const char *key, const char *name)
{
	if (!name)
		return PL_EMALFORMED;
	return pl_buf_addf(b, "%s %s\n", key, name);
}

/* Writes the lines of r; the grammar is checked afterwards by parsing the result. */
static int emit(const struct pl_record *r, struct pl_buf *b)
{
	int ret;

	if (r->nto > PL_RECORD_MAX_TO || r->nrefs > PL_RECORD_MAX_REFS ||
	    r->nabout > PL_RECORD_MAX_TO || r->nkeys > PL_RECORD_MAX_KEYS ||
	    r->body_len > PL_RECORD_BODY_MAX)
		return PL_ETOOBIG;
	ret = pl_buf_adds(b, PL_RECORD_VERSION_LINE "\n");
	if (ret == 0)
		ret = add_str(b, "exchange", r->exchange, sizeof(r->exchange));
	if (ret == 0)
		ret = add_str(b, "author", r->author, sizeof(r->author));
	if (ret == 0)
		ret = pl_buf_addf(b, "seq %llu\nprev ", (unsigned long long)r->seq);
	if (ret == 0)
		ret = r->has & PL_RECORD_HAS_PREV ? add_id(b, r->prev) : pl_buf_add(b, "-", 1);
	if (ret == 0)
		ret = pl_buf_add(b, "\n", 1);
	if (ret == 0)
		ret = add_time(b, "time", r->time);
	if (ret == 0)
		ret = add_named(b, "kind", pl_record_kind_name(r->kind));
	if (ret == 0 && (r->has & PL_RECORD_HAS_CLASS))
		ret = add_named(b, "class", pl_record_class_name(r->cls));
	for (size_t i = 0; ret == 0 && i < r->nto; i++)
		ret = add_str(b, "to", r->to[i], sizeof(r->to[i]));
	if (ret == 0 && (r->has & PL_RECORD_HAS_VIA))
		ret = add_str(b, "via", r->via, sizeof(r->via));
	if (ret == 0 && (r->has & PL_RECORD_HAS_DEADLINE))
		ret = add_time(b, "deadline", r->deadline);
	if (ret == 0 && (r->has & PL_RECORD_HAS_LINE))
		ret = add_str(b, "line", r->line, sizeof(r->line));
	for (size_t i = 0; ret == 0 && i < r->nrefs; i++) {
		const char *role = pl_ref_role_name(r->refs[i].role);
		ret = role ? pl_buf_addf(b, "ref %s ", role) : PL_EMALFORMED;
		if (ret == 0)
			ret = add_id(b, r->refs[i].id);
		if (ret == 0)
			ret = pl_buf_add(b, "\n", 1);
	}
	if (ret == 0 && (r->has & PL_RECORD_HAS_PAYLOAD)) {
		ret = add_b64(b, "payload", r->payload, sizeof(r->payload));
		if (ret == 0)
			ret = pl_buf_addf(b, " %llu\n", (unsigned long long)r->payload_size);
	}
	if (ret == 0 && (r->has & PL_RECORD_HAS_COMMIT)) {
		ret = add_b64(b, "commit", r->commit, sizeof(r->commit));
		if (ret == 0)
			ret = pl_buf_add(b, "\n", 1);
	}
	if (ret == 0 && (r->has & PL_RECORD_HAS_REASON))
		ret = add_str(b, "reason", r->reason, sizeof(r->reason));
	if (ret == 0 && (r->has & PL_RECORD_HAS_POSITION))
		ret = add_named(b, "position", pl_position_name(r->position));
	if (ret == 0 && (r->has & PL_RECORD_HAS_PARTY))
		ret = add_str(b, "party", r->party, sizeof(r->party));
	for (size_t i = 0; ret == 0 && i < r->nkeys; i++) {
		if (field_len(r->keys[i].name, sizeof(r->keys[i].name)) == sizeof(r->keys[i].name))
			ret = PL_EMALFORMED;
		if (ret == 0)
			ret = pl_buf_adds(b, "key ");
		if (ret == 0)
			ret = pl_vkey_format(&r->keys[i], b);
		if (ret == 0)
			ret = pl_buf_add(b, "\n", 1);
	}
	if (ret == 0 && (r->has & PL_RECORD_HAS_ENC)) {
		ret = pl_buf_adds(b, "enc ");
		if (ret == 0)
			ret = pl_party_ekey_format(&r->enc, b);
		if (ret == 0)
			ret = pl_buf_add(b, "\n", 1);
	}
	if (ret == 0 && (r->has & PL_RECORD_HAS_ROOT)) {
		ret = add_b64(b, "root", r->index_root, sizeof(r->index_root));
		if (ret == 0)
			ret = pl_buf_add(b, "\n", 1);
	}
	if (ret == 0 && (r->has & PL_RECORD_HAS_DUE))
		ret = add_time(b, "due", r->due);
	if (ret == 0 && (r->has & PL_RECORD_HAS_GROUP))
		ret = add_str(b, "group", r->group, sizeof(r->group));
	for (size_t i = 0; ret == 0 && i < r->nabout; i++)
		ret = add_str(b, "about", r->about[i], sizeof(r->about[i]));
	if (ret == 0 && (r->has & PL_RECORD_HAS_WINDOW))
		ret = pl_buf_addf(b, "window %u\n", (unsigned)r->window_days);
	if (ret == 0 && (r->has & PL_RECORD_HAS_STATE))
		ret = add_named(b, "state", pl_measure_state_name(r->state));
	if (ret == 0 && (r->has & PL_RECORD_HAS_BODY)) {
		ret = pl_buf_add(b, "\n", 1);
		if (ret == 0)
			ret = pl_buf_add(b, r->body, r->body_len);
	}
	return ret;
}

int pl_record_format(const struct pl_record *r, struct pl_buf *out, const char **why)
{
	struct pl_buf b;
	struct pl_record *check = NULL;
	const char *reason = "record cannot be written";
	int ret;

	/* Built apart so that out is unchanged on error. */
	pl_buf_init(&b, PL_RECORD_TEXT_MAX + 1);
	ret = emit(r, &b);
	if (ret == PL_ETOOBIG)
		reason = "record text too long";
	if (ret == 0) {
		/* The parser is the grammar: what it refuses, the formatter must not write. */
		check = record_alloc();
		ret = check ? parse_text(check, b.data, b.len, &reason) : PL_ENOMEM;
	}
	if (ret == 0)
		ret = pl_buf_add(out, b.data, b.len);
	if (ret != 0 && why)
		*why = reason;
	free(check);
	pl_buf_release(&b);
	return ret;
}

/* ---- Signing and validation -------------------------------------------- */

int pl_record_key_name(char out[static PL_KEY_NAME_MAX + 1], const char *origin, const char *author)
{
	size_t olen = strlen(origin), alen = strlen(author);

	if (!pl_record_origin_is_valid(origin, olen) || !pl_record_name_is_valid(author, alen))
		return PL_EINVAL;
	memcpy(out, origin, olen);
	if (strcmp(author, PL_RECORD_EXCHANGE) == 0) {
		out[olen] = '\0';
	} else {
		/* PL_RECORD_ORIGIN_MAX + 1 + PL_RECORD_NAME_MAX <= PL_KEY_NAME_MAX. */
		out[olen] = '/';
		memcpy(out + olen + 1, author, alen);
		out[olen + 1 + alen] = '\0';
	}
	return 0;
}

/*
 * How many signature lines a record carries: the author's, then one per key
 * of a (de)registration; an eviction (a revoke with a `reason`) carries the
 * exchange's alone (docs/records.md §6).
 */
static size_t expected_sigs(const struct pl_record *r)
{
	if (r->kind == PL_KIND_REVOKE && (r->has & PL_RECORD_HAS_REASON))
		return 1;
	if (r->kind == PL_KIND_REGISTER || r->kind == PL_KIND_REVOKE)
		return 1 + r->nkeys;
	return 1;
}

int pl_record_sign(struct pl_buf *out, const struct pl_record *r, const struct pl_skey *keys,
                   size_t nkeys, const char **why)
{
	char name[PL_KEY_NAME_MAX + 1];
	struct pl_buf text;
	const char *reason = "cannot sign";
	int ret;

	pl_buf_init(&text, PL_RECORD_TEXT_MAX);
	ret = pl_record_format(r, &text, &reason);
	if (ret == 0 && (nkeys != expected_sigs(r) || nkeys == 0)) {
		ret = PL_EINVAL;
		reason = "wrong number of signing keys for this kind";
	}
	if (ret == 0 && (pl_record_key_name(name, r->exchange, r->author) != 0 ||
	                 strcmp(name, keys[0].name) != 0)) {
		ret = PL_EINVAL;
		reason = "first key is not the author's";
	}
	for (size_t i = 1; ret == 0 && i < nkeys; i++) {
		if (strcmp(keys[i].name, r->keys[i - 1].name) != 0 ||
		    memcmp(keys[i].id, r->keys[i - 1].id, PL_KEYID_BYTES) != 0) {
			ret = PL_EINVAL;
			reason = "self-signing key does not match its key line";
		}
	}
	if (ret == 0) {
		ret = pl_note_sign(out, text.data, text.len, keys, nkeys);
		if (ret != 0)
			reason = "signing failed";
	}
	if (ret != 0 && why)
		*why = reason;
	pl_buf_release(&text);
	return ret;
}

/* Which optional lines (PL_RECORD_HAS_ bits, plus the counted ones below) a kind may carry. */
#define L_TO        (1u << 24)
#define L_REF       (1u << 25)
#define L_KEY       (1u << 26)
#define L_ABOUT     (1u << 27)
#define GROUP_LINES (PL_RECORD_HAS_GROUP | L_TO | L_ABOUT | PL_RECORD_HAS_WINDOW)

static uint32_t lines_of(const struct pl_record *r)
{
	uint32_t have = r->has & ~PL_RECORD_HAS_PREV;

	if (r->nto)
		have |= L_TO;
	if (r->nrefs)
		have |= L_REF;
	if (r->nkeys)
		have |= L_KEY;
	if (r->nabout)
		have |= L_ABOUT;
	return have;
}

#define PAYLOAD (PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT)

static const struct kind_lines {
	bool by_exchange;
	uint32_t required, optional;
	uint8_t to_min, to_max;
	enum pl_ref_role role; /* the only role allowed, 0 for none */
	uint8_t ref_max;
} kind_lines[PL_KIND_COUNT + 1] = {
        [PL_KIND_SEND] = {false, PL_RECORD_HAS_CLASS | L_TO | PAYLOAD,
                          PL_RECORD_HAS_VIA | PL_RECORD_HAS_DEADLINE | L_REF, 1, PL_RECORD_MAX_TO,
                          PL_ROLE_REPLY_TO, 2},
        [PL_KIND_RECEIVE] = {false, L_REF, 0, 0, 0, PL_ROLE_SUBJECT, 1},
        [PL_KIND_CONVEY] = {false, L_REF, 0, 0, 0, PL_ROLE_SUBJECT, 1},
        [PL_KIND_DECLINE] = {false, L_REF | PL_RECORD_HAS_REASON, 0, 0, 0, PL_ROLE_SUBJECT, 1},
        [PL_KIND_ACCEPT] = {false, L_REF, 0, 0, 0, PL_ROLE_SUBJECT, 1},
        [PL_KIND_REFUSE] = {false, L_REF, PL_RECORD_HAS_REASON, 0, 0, PL_ROLE_SUBJECT, 1},
        [PL_KIND_STATEMENT] = {false, PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY,
                               L_REF | PL_RECORD_HAS_STATE, 0, 0, PL_ROLE_CITES,
                               PL_RECORD_MAX_REFS},
        [PL_KIND_CONSULT] = {false, L_TO | PAYLOAD, PL_RECORD_HAS_DEADLINE | L_REF, 1,
                             PL_RECORD_MAX_TO, 0, 1},
        [PL_KIND_ADVISE] = {false, L_REF | PL_RECORD_HAS_POSITION, PL_RECORD_HAS_REASON, 0, 0,
                            PL_ROLE_CONSULT, 1},
        [PL_KIND_CHECK] = {true, PL_RECORD_HAS_LINE | L_TO | PL_RECORD_HAS_DEADLINE, L_REF, 2, 2,
                           PL_ROLE_PREVIOUS, 1},
        [PL_KIND_ANSWER] = {false, PL_RECORD_HAS_LINE | L_REF, 0, 0, 0, PL_ROLE_CHECK, 1},
        [PL_KIND_AVAILABLE] = {true, L_TO | L_REF, 0, 1, 1, PL_ROLE_SUBJECT, 1},
        [PL_KIND_EXPIRE] = {true, L_TO | L_REF, PL_RECORD_HAS_VIA, 1, PL_RECORD_MAX_TO,
                            PL_ROLE_SUBJECT, 1},
        [PL_KIND_UNANSWERED] = {true, PL_RECORD_HAS_LINE | L_TO | L_REF, 0, 1, 2, PL_ROLE_CHECK, 1},
        [PL_KIND_REGISTER] = {true, PL_RECORD_HAS_PARTY | L_KEY | PL_RECORD_HAS_ENC, L_REF, 0, 0,
                              PL_ROLE_PREVIOUS, 1},
        [PL_KIND_REVOKE] = {true, PL_RECORD_HAS_PARTY | L_KEY,
                            PL_RECORD_HAS_ENC | PL_RECORD_HAS_REASON, 0, 0, 0, 0},
        [PL_KIND_INDEX] = {true, PL_RECORD_HAS_ROOT, 0, 0, 0, 0, 0},
        [PL_KIND_MISSED] = {true, PL_RECORD_HAS_LINE | L_TO | PL_RECORD_HAS_DUE, L_REF, 2, 2,
                            PL_ROLE_PREVIOUS, 1},
        [PL_KIND_GROUP] = {false, GROUP_LINES, L_REF, 1, PL_RECORD_MAX_TO, PL_ROLE_GROUP, 1},
};

/* The further roles a kind takes beside its kind_lines role, each at most once. */
static const enum pl_ref_role more_roles[PL_KIND_COUNT + 1][3] = {
        [PL_KIND_SEND] = {PL_ROLE_CONSULT},
        [PL_KIND_STATEMENT] = {PL_ROLE_CONSULT, PL_ROLE_RECIPROCATES, PL_ROLE_CHANGES},
        [PL_KIND_CONSULT] = {PL_ROLE_GROUP},
};

static bool takes_role(enum pl_record_kind kind, enum pl_ref_role role)
{
	if (role == 0)
		return false;
	if (role == kind_lines[kind].role)
		return true;
	for (size_t i = 0; i < 3; i++) {
		if (more_roles[kind][i] == role)
			return true;
	}
	return false;
}

/* The lines, counts and values a record's kind requires or forbids. */
static int check_kind(const struct pl_record *r, const char **why)
{
	const struct kind_lines *k = &kind_lines[r->kind];
	uint32_t have = lines_of(r);
	bool by_exchange = strcmp(r->author, PL_RECORD_EXCHANGE) == 0;
	char name[PL_KEY_NAME_MAX + 1] = "";

	if (by_exchange != k->by_exchange) {
		*why = by_exchange ? "the exchange may not author this kind"
		                   : "only the exchange authors this kind";
		return PL_EMALFORMED;
	}
	if ((have & k->required) != k->required) {
		*why = "a line this kind requires is missing";
		return PL_EMALFORMED;
	}
	if (have & ~(k->required | k->optional)) {
		*why = "a line this kind forbids is present";
		return PL_EMALFORMED;
	}
	if (r->nto && (r->nto < k->to_min || r->nto > k->to_max)) {
		*why = "wrong number of to lines for this kind";
		return PL_EMALFORMED;
	}
	if (r->nrefs > k->ref_max) {
		*why = "too many ref lines for this kind";
		return PL_EMALFORMED;
	}
	for (size_t i = 0; i < r->nrefs; i++) {
		enum pl_ref_role role = r->refs[i].role;
		if (!takes_role(r->kind, role)) {
			*why = "a ref role this kind does not allow";
			return PL_EMALFORMED;
		}
		/* Refs are sorted by text, so a repeated role is next to its twin. */
		if (role != PL_ROLE_CITES && i > 0 && r->refs[i - 1].role == role) {
			*why = "more than one ref of a role this kind takes once";
			return PL_EMALFORMED;
		}
	}
	if (r->kind == PL_KIND_GROUP) {
		for (size_t i = 0; i < r->nabout; i++) {
			if (pl_record_has_to(r, r->about[i])) {
				*why = "a counterpart of a group is not one of its members";
				return PL_EMALFORMED;
			}
		}
	}
	if (r->kind == PL_KIND_STATEMENT && r->cls != PL_CLASS_MEASURE &&
	    (pl_record_ref_find(r, PL_ROLE_RECIPROCATES) ||
	     pl_record_ref_find(r, PL_ROLE_CHANGES))) {
		*why = "only a measure reciprocates or changes a measure";
		return PL_EMALFORMED;
	}
	if (r->kind == PL_KIND_STATEMENT && ((r->has & PL_RECORD_HAS_STATE) != 0) !=
	                                            (pl_record_ref_find(r, PL_ROLE_CHANGES) != 0)) {
		*why = "a measure has a state exactly when it changes one";
		return PL_EMALFORMED;
	}
	if ((r->has & PL_RECORD_HAS_CLASS) &&
	    (r->kind == PL_KIND_SEND) !=
	            (r->cls == PL_CLASS_MESSAGE || r->cls == PL_CLASS_PROPOSAL ||
	             r->cls == PL_CLASS_LETTER)) {
		*why = "class does not fit the kind";
		return PL_EMALFORMED;
	}
	if ((r->has & PL_RECORD_HAS_DEADLINE) && r->deadline <= r->time) {
		*why = "deadline is not after time";
		return PL_EMALFORMED;
	}
	if ((r->has & PL_RECORD_HAS_DUE) && r->due > r->time) {
		*why = "due is after time";
		return PL_EMALFORMED;
	}
	if (r->kind == PL_KIND_SEND || r->kind == PL_KIND_CONSULT) {
		if (pl_record_has_to(r, r->author)) {
			*why = "a party may not address itself";
			return PL_EMALFORMED;
		}
		if ((r->has & PL_RECORD_HAS_VIA) &&
		    (strcmp(r->via, r->author) == 0 || pl_record_has_to(r, r->via))) {
			*why = "via is the author or a recipient";
			return PL_EMALFORMED;
		}
	}
	if ((r->has & PL_RECORD_HAS_PARTY) &&
	    pl_record_key_name(name, r->exchange, r->party) != 0) {
		*why = "exchange origin and party do not make a key name";
		return PL_EMALFORMED;
	}
	for (size_t i = 0; i < r->nkeys; i++) {
		if (strcmp(name, r->keys[i].name) != 0) {
			*why = "key is not named <exchange>/<party>";
			return PL_EMALFORMED;
		}
	}
	if ((r->has & PL_RECORD_HAS_ENC) && strcmp(name, r->enc.name) != 0) {
		*why = "enc is not named <exchange>/<party>";
		return PL_EMALFORMED;
	}
	if ((r->seq == 1) == ((r->has & PL_RECORD_HAS_PREV) != 0)) {
		*why = "prev must be - exactly when seq is 1";
		return PL_ECHAIN;
	}
	return 0;
}

/* Finds the directory key with this name and key ID. */
static const struct pl_vkey *dir_find(const struct pl_vkey *dir, size_t ndir, const char *name,
                                      const uint8_t id[static PL_KEYID_BYTES])
{
	for (size_t i = 0; i < ndir; i++) {
		if (dir[i].type == PL_SIGTYPE_ED25519 && strcmp(dir[i].name, name) == 0 &&
		    memcmp(dir[i].id, id, PL_KEYID_BYTES) == 0)
			return &dir[i];
	}
	return NULL;
}

static int check_sig(const struct pl_note *n, size_t i, const struct pl_vkey *key, const char **why)
{
	if (!key || strcmp(n->sigs[i].name, key->name) != 0 ||
	    memcmp(n->sigs[i].id, key->id, PL_KEYID_BYTES) != 0) {
		*why = i == 0 ? "not signed by a directory key of the author"
		              : "self-signature is not by the key of its key line";
		return PL_ENOKEY;
	}
	if (pl_note_sig_verify(&n->sigs[i], key, n->text, n->text_len) != 0) {
		*why = "signature does not verify";
		return PL_EVERIFY;
	}
	return 0;
}

int pl_record_open(struct pl_record *r, uint8_t id[static PL_RECORD_ID_BYTES],
                   struct pl_vkey *signer, const char *msg, size_t len, const struct pl_vkey *dir,
                   size_t ndir, const char **why)
{
	struct pl_note *n = NULL;
	struct pl_record *tmp = NULL;
	const struct pl_vkey *author = NULL;
	char name[PL_KEY_NAME_MAX + 1];
	const char *reason = "malformed signed note";
	int ret;

	if (len > PL_RECORD_MAX_BYTES) {
		ret = PL_ETOOBIG;
		reason = "record too large";
		goto out;
	}
	ret = pl_note_parse_why(&n, msg, len, &reason);
	if (ret != 0)
		goto out;
	tmp = record_alloc();
	if (!tmp) {
		ret = PL_ENOMEM;
		reason = "out of memory";
		goto out;
	}
	ret = parse_text(tmp, n->text, n->text_len, &reason);
	if (ret == 0)
		ret = check_kind(tmp, &reason);
	if (ret != 0)
		goto out;
	if (n->nsigs != expected_sigs(tmp)) {
		ret = PL_ENOKEY;
		reason = "wrong number of signature lines";
		goto out;
	}
	if (pl_record_key_name(name, tmp->exchange, tmp->author) != 0) {
		ret = PL_EMALFORMED;
		goto out;
	}
	author = dir_find(dir, ndir, name, n->sigs[0].id);
	ret = check_sig(n, 0, author, &reason);
	for (size_t i = 1; ret == 0 && i < n->nsigs; i++)
		ret = check_sig(n, i, &tmp->keys[i - 1], &reason);
	if (ret != 0)
		goto out;
	pl_record_id(id, msg, len);
	copy_record(r, tmp);
	if (signer)
		*signer = *author;
out:
	if (ret != 0 && why)
		*why = reason;
	free(tmp);
	pl_note_free(n);
	return ret;
}

/* ---- Ids and small helpers --------------------------------------------- */

void pl_record_id(uint8_t id[static PL_RECORD_ID_BYTES], const char *msg, size_t len)
{
	pl_sha256(id, msg, len);
}

void pl_record_id_format(char out[static PL_RECORD_ID_HEX_LEN + 1],
                         const uint8_t id[static PL_RECORD_ID_BYTES])
{
	pl_hex_encode(out, id, PL_RECORD_ID_BYTES);
}

static bool prefix_is_valid(const char *prefix, size_t len)
{
	if (len < PL_RECORD_ID_PREFIX_MIN || len > PL_RECORD_ID_HEX_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = prefix[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static bool has_prefix(const uint8_t id[static PL_RECORD_ID_BYTES], const char *prefix, size_t len)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	pl_record_id_format(hex, id);
	for (size_t i = 0; i < len; i++) {
		char c = prefix[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (hex[i] != c)
			return false;
	}
	return true;
}

bool pl_record_id_has_prefix(const uint8_t id[static PL_RECORD_ID_BYTES], const char *prefix,
                             size_t len)
{
	return prefix_is_valid(prefix, len) && has_prefix(id, prefix, len);
}

int pl_record_id_match(size_t *index, const char *prefix, size_t len,
                       const uint8_t (*ids)[PL_RECORD_ID_BYTES], size_t n)
{
	size_t found = 0;
	bool any = false;
	int ret = 0;

	if (!prefix_is_valid(prefix, len)) {
		ret = PL_EMALFORMED;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!has_prefix(ids[i], prefix, len))
			continue;
		if (any && memcmp(ids[i], ids[found], PL_RECORD_ID_BYTES) != 0) {
			ret = PL_EAMBIGUOUS;
			goto out;
		}
		if (!any)
			found = i;
		any = true;
	}
	if (!any) {
		ret = PL_ENOTFOUND;
		goto out;
	}
	*index = found;
out:
	return ret;
}

const struct pl_record_ref *pl_record_ref_find(const struct pl_record *r, enum pl_ref_role role)
{
	for (size_t i = 0; i < r->nrefs && i < PL_RECORD_MAX_REFS; i++) {
		if (r->refs[i].role == role)
			return &r->refs[i];
	}
	return NULL;
}

bool pl_record_has_to(const struct pl_record *r, const char *party)
{
	for (size_t i = 0; i < r->nto && i < PL_RECORD_MAX_TO; i++) {
		if (strcmp(r->to[i], party) == 0)
			return true;
	}
	return false;
}

bool pl_record_has_about(const struct pl_record *r, const char *party)
{
	for (size_t i = 0; i < r->nabout && i < PL_RECORD_MAX_TO; i++) {
		if (strcmp(r->about[i], party) == 0)
			return true;
	}
	return false;
}

enum pl_ref_role pl_record_target(const struct pl_record *r)
{
	enum pl_ref_role role =
	        r->kind == PL_KIND_STATEMENT ? PL_ROLE_CHANGES : pl_record_kind_target(r->kind);

	if (role == PL_ROLE_CHANGES || role == PL_ROLE_GROUP)
		return pl_record_ref_find(r, role) ? role : 0;
	return role;
}

enum pl_ref_role pl_record_kind_target(enum pl_record_kind k)
{
	switch (k) {
	case PL_KIND_RECEIVE:
	case PL_KIND_CONVEY:
	case PL_KIND_DECLINE:
	case PL_KIND_ACCEPT:
	case PL_KIND_REFUSE:
	case PL_KIND_AVAILABLE:
	case PL_KIND_EXPIRE:
		return PL_ROLE_SUBJECT;
	case PL_KIND_ANSWER:
	case PL_KIND_UNANSWERED:
		return PL_ROLE_CHECK;
	case PL_KIND_ADVISE:
		return PL_ROLE_CONSULT;
	case PL_KIND_GROUP:
		return PL_ROLE_GROUP; /* optional: a group's first version refers to nothing */
	default:
		return 0;
	}
}
