/* A member's checks of what its exchange hands over: directory, ids, proofs, receipts, payloads. */
#include <parley/member.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/note.h>
#include <parley/party.h>
#include <parley/profile.h>
#include <parley/timestamp.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

#include "internal.h"
#include "banned.h"

int pl__record_parse_unverified(struct pl_record *r, const char *msg, size_t len)
{
	struct pl_note *n = NULL;
	int err = pl_note_parse(&n, msg, len);

	if (!err)
		err = pl_record_parse(r, n->text, n->text_len, NULL);
	pl_note_free(n);
	return err;
}

int pl_member_party_check(const struct pl_client_party *p, const char *origin,
                          const struct pl_vkey *log_key, struct pl_record *r, const char **why)
{
	struct pl_vkey dir[1 + PL_RECORD_MAX_KEYS];
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_buf ek;
	const char *w = "not a register record";
	bool has_key = false;
	int err;

	pl_buf_init(&ek, PL_PARTY_EKEY_TEXT_MAX + 1);
	err = pl__record_parse_unverified(r, p->register_record, p->register_record_len);
	if (err)
		goto out;
	dir[0] = *log_key;
	for (size_t i = 0; i < r->nkeys && i < PL_RECORD_MAX_KEYS; i++)
		dir[1 + i] = r->keys[i];
	err = pl_record_open(r, id, NULL, p->register_record, p->register_record_len, dir,
	                     1 + r->nkeys, &w);
	if (err)
		goto out;
	err = PL_EVERIFY;
	if (memcmp(id, p->register_id, PL_RECORD_ID_BYTES) != 0) {
		w = "the register record is not the one the entry names";
		goto out;
	}
	if (r->kind != PL_KIND_REGISTER || strcmp(r->party, p->name) != 0 ||
	    strcmp(r->exchange, origin) != 0) {
		w = "the register record is for another party or exchange";
		goto out;
	}
	for (size_t i = 0; i < r->nkeys; i++)
		has_key = has_key || pl_vkey_equal(&r->keys[i], &p->vkey);
	if (!has_key) {
		w = "the entry's key is not in its register record";
		goto out;
	}
	if (pl_party_ekey_format(&r->enc, &ek) != 0 || ek.len != strlen(p->enc_key) ||
	    memcmp(ek.data, p->enc_key, ek.len) != 0) {
		w = "the entry's encryption key is not its register record's";
		goto out;
	}
	err = 0;
out:
	if (err && why)
		*why = w;
	pl_buf_release(&ek);
	return err;
}

int pl_member_directory(struct pl_directory *d, const struct pl_vkey *log_key, const char *origin,
                        const struct pl_client_party *v, size_t n, size_t *bad, const char **why)
{
	struct pl_directory dir;
	struct pl_record *r = NULL;
	size_t failed = n;
	int err;

	memset(&dir, 0, sizeof(dir));
	err = PL_EINVAL;
	if (n >= PL_DIRECTORY_MAX_KEYS)
		goto out;
	/* Room for the keys of returning parties' earlier registers too. */
	err = pl_directory_init(&dir, log_key, 0, PL_DIRECTORY_MAX_KEYS);
	if (err)
		goto out;
	err = PL_ENOMEM;
	r = malloc(sizeof(*r));
	if (!r)
		goto out;
	for (size_t i = 0; i < n; i++) {
		err = pl_member_party_check(&v[i], origin, log_key, r, why);
		if (err) {
			failed = i;
			goto out;
		}
		/* Only the entry's key: the register's other keys have entries of their own. */
		r->keys[0] = v[i].vkey;
		r->nkeys = 1;
		err = pl_directory_apply(&dir, r);
		if (err)
			goto out;
	}
	*d = dir;
	memset(&dir, 0, sizeof(dir));
	err = 0;
out:
	if (bad)
		*bad = failed;
	free(r);
	pl_directory_release(&dir);
	return err;
}

int pl_member_register_previous(const char *note, size_t len,
                                uint8_t prev[static PL_RECORD_ID_BYTES])
{
	struct pl_record *r = malloc(sizeof(*r));
	const struct pl_record_ref *ref;
	int err = r ? pl__record_parse_unverified(r, note, len) : PL_ENOMEM;

	if (!err && r->kind != PL_KIND_REGISTER)
		err = PL_EMALFORMED;
	if (!err) {
		ref = pl_record_ref_find(r, PL_ROLE_PREVIOUS);
		if (ref)
			memcpy(prev, ref->id, PL_RECORD_ID_BYTES);
		else
			err = PL_ENOTFOUND;
	}
	free(r);
	return err;
}

int pl_member_directory_previous(struct pl_directory *d, const struct pl_vkey *log_key,
                                 const char *origin, const char *party,
                                 const uint8_t want[static PL_RECORD_ID_BYTES], const char *note,
                                 size_t len, bool *has_prev,
                                 uint8_t prev[static PL_RECORD_ID_BYTES], const char **why)
{
	struct pl_record *r = malloc(sizeof(*r));
	uint8_t id[PL_RECORD_ID_BYTES];
	const struct pl_record_ref *ref;
	const char *w = NULL;
	int err = r ? 0 : PL_ENOMEM;

	if (!err)
		err = pl_record_open(r, id, NULL, note, len, log_key, 1, &w);
	if (!err && (memcmp(id, want, PL_RECORD_ID_BYTES) != 0 || r->kind != PL_KIND_REGISTER ||
	             strcmp(r->party, party) != 0 || strcmp(r->exchange, origin) != 0)) {
		err = PL_EINVAL;
		w = "the previous register is not the party's register it names";
	}
	if (!err)
		err = pl_directory_apply(d, r);
	if (!err) {
		r->kind = PL_KIND_REVOKE; /* its keys all left before the party returned */
		err = pl_directory_apply(d, r);
	}
	if (!err) {
		ref = pl_record_ref_find(r, PL_ROLE_PREVIOUS);
		*has_prev = ref != NULL;
		if (ref)
			memcpy(prev, ref->id, PL_RECORD_ID_BYTES);
	}
	if (err && why)
		*why = w;
	free(r);
	return err;
}

int pl_member_record_open(struct pl_record *r, uint8_t id[static PL_RECORD_ID_BYTES],
                          const char *text, size_t len, const struct pl_directory *d,
                          const char *origin, const char **why)
{
	int err = pl_record_open(r, id, NULL, text, len, d->keys, d->n, why);

	if (!err && strcmp(r->exchange, origin) != 0)
		err = PL_EINVAL;
	return err;
}

int pl_member_id_arg(char out[static PL_RECORD_ID_HEX_LEN + 1], const char *arg)
{
	char lower[PL_RECORD_ID_HEX_LEN + 1];
	size_t n = strnlen(arg, PL_RECORD_ID_HEX_LEN + 1);
	int err = PL_ERANGE;

	if (n < PL_RECORD_ID_PREFIX_MIN || n > PL_RECORD_ID_HEX_LEN)
		goto out;
	err = PL_EMALFORMED;
	for (size_t i = 0; i < n; i++) {
		char c = arg[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			goto out;
		lower[i] = c;
	}
	lower[n] = '\0';
	memcpy(out, lower, n + 1);
	err = 0;
out:
	return err;
}

int pl_member_proof_check(const char *proof, size_t proof_len, const char *text, size_t len,
                          uint64_t index, const char *origin, const struct pl_vkey *log_key,
                          struct pl_proof **out, struct pl_checkpoint *cp)
{
	struct pl_checkpoint pcp;
	struct pl_proof *p = NULL;
	uint8_t leaf[PL_HASH_BYTES];
	int err;

	err = pl_proof_parse(&p, proof ? proof : "", proof_len);
	if (err)
		goto out;
	pl_tlog_leaf_hash(leaf, text, len);
	err = pl_proof_verify(p, leaf, origin, log_key, 1, &pcp, NULL);
	if (err)
		goto out;
	*cp = pcp;
	if (index != UINT64_MAX && p->index != index)
		err = PL_ERANGE;
out:
	*out = p;
	return err;
}

int pl_member_receipt_check(const struct pl_receipt *rc, const char *text, size_t len,
                            const char *origin, const struct pl_vkey *log_key,
                            struct pl_proof **out, struct pl_checkpoint *cp)
{
	struct pl_proof *p = NULL;
	int err;

	err = pl_member_proof_check(rc->proof, rc->proof_len, text, len, UINT64_MAX, origin,
	                            log_key, &p, cp);
	if (err)
		goto out;
	if (p->index != rc->index || cp->size != rc->size)
		err = PL_ERANGE;
	/* The proof carries the signed checkpoint it verified; the receipt's copy must be it. */
	else if (rc->checkpoint_len != p->checkpoint_len ||
	         memcmp(rc->checkpoint, p->checkpoint, p->checkpoint_len) != 0)
		err = PL_EINCONSISTENT;
out:
	*out = p;
	return err;
}

int pl_member_payload_open(uint8_t **plain, size_t *plain_len,
                           uint8_t salt[static PL_BOX_SALT_BYTES], const struct pl_record *r,
                           const uint8_t *blob, size_t blob_len, const struct pl_box_keypair *me)
{
	int err = PL_EINVAL;

	if (!(r->has & PL_RECORD_HAS_PAYLOAD) || !(r->has & PL_RECORD_HAS_COMMIT))
		goto out;
	err = PL_ERANGE;
	if (blob_len != r->payload_size)
		goto out;
	err = pl_box_open(plain, plain_len, salt, blob, blob_len, me, r->commit);
out:
	return err;
}

int pl_member_to_add(struct pl_record *r, const char *name)
{
	size_t n = strnlen(name, PL_RECORD_NAME_MAX + 1), at;
	int err = PL_EINVAL;

	if (n > PL_RECORD_NAME_MAX || !pl_party_name_is_valid(name, n))
		goto out;
	err = PL_EEXIST;
	if (pl_record_has_to(r, name))
		goto out;
	err = PL_ETOOBIG;
	if (r->nto >= PL_RECORD_MAX_TO)
		goto out;
	for (at = r->nto; at > 0 && strcmp(r->to[at - 1], name) > 0; at--)
		memcpy(r->to[at], r->to[at - 1], sizeof(r->to[at]));
	memcpy(r->to[at], name, n + 1);
	r->nto++;
	err = 0;
out:
	return err;
}

/* Ref lines are ordered by their text "<role> <hex id>": role name, then id bytes. */
static int cmp_ref(enum pl_ref_role role, const uint8_t *id, const struct pl_record_ref *y)
{
	int c = strcmp(pl_ref_role_name(role), pl_ref_role_name(y->role));

	return c ? c : memcmp(id, y->id, PL_RECORD_ID_BYTES);
}

int pl_member_ref_add(struct pl_record *r, enum pl_ref_role role,
                      const uint8_t id[static PL_RECORD_ID_BYTES])
{
	size_t at;
	int err = PL_EEXIST;

	for (size_t i = 0; i < r->nrefs; i++) {
		if (r->refs[i].role == role && memcmp(r->refs[i].id, id, PL_RECORD_ID_BYTES) == 0)
			goto out;
	}
	err = PL_ETOOBIG;
	if (r->nrefs >= PL_RECORD_MAX_REFS)
		goto out;
	for (at = r->nrefs; at > 0 && cmp_ref(role, id, &r->refs[at - 1]) < 0; at--)
		r->refs[at] = r->refs[at - 1];
	r->refs[at].role = role;
	memcpy(r->refs[at].id, id, PL_RECORD_ID_BYTES);
	r->nrefs++;
	err = 0;
out:
	return err;
}

int pl_member_place(struct pl_record *r, const char *origin, const char *party,
                    const struct pl_state_head *head, int64_t now, int64_t min_time)
{
	size_t no = strnlen(origin, sizeof(r->exchange)), np = strnlen(party, sizeof(r->author));
	int64_t t = now;
	int err = PL_EINVAL;

	if (no >= sizeof(r->exchange) || np >= sizeof(r->author))
		goto out;
	memcpy(r->exchange, origin, no + 1);
	memcpy(r->author, party, np + 1);
	r->seq = head->seq + 1;
	if (head->seq > 0) {
		r->has |= PL_RECORD_HAS_PREV;
		memcpy(r->prev, head->id, sizeof(r->prev));
	} else {
		r->has &= ~PL_RECORD_HAS_PREV;
		memset(r->prev, 0, sizeof(r->prev));
	}
	/* Never before the chain's head nor the records referred to (records.md section 7). */
	if (head->seq > 0 && head->time > t)
		t = head->time;
	if (min_time > t)
		t = min_time;
	r->time = t;
	err = PL_ERANGE;
	if ((r->has & PL_RECORD_HAS_DEADLINE) && r->deadline <= r->time)
		goto out;
	err = 0;
out:
	return err;
}

const struct pl_record_ref *pl_member_act_subject(const struct pl_record *r)
{
	const struct pl_record_ref *ref = pl_record_ref_find(r, PL_ROLE_SUBJECT);

	if (!ref)
		ref = pl_record_ref_find(r, PL_ROLE_CONSULT);
	if (!ref)
		ref = pl_record_ref_find(r, PL_ROLE_CHECK);
	return ref;
}

/* The first 16 hex digits of an id, as listings name records. */
static void short_id(char out[static 17], const uint8_t id[static PL_RECORD_ID_BYTES])
{
	pl_hex_encode(out, id, 8);
	out[16] = '\0';
}

/* Appends names joined by commas. */
static int add_names(struct pl_buf *b, const char (*names)[PL_RECORD_NAME_MAX + 1], size_t n)
{
	int err = 0;

	for (size_t i = 0; !err && i < n; i++)
		err = pl_buf_addf(b, "%s%s", i ? "," : "", names[i]);
	return err;
}

/* Appends " <role> <short id>" for each ref of a role, joined by commas. */
static int add_refs(struct pl_buf *b, const struct pl_record *r, enum pl_ref_role role)
{
	char sid[17];
	bool first = true;
	int err = 0;

	for (size_t i = 0; !err && i < r->nrefs; i++) {
		if (r->refs[i].role != role)
			continue;
		short_id(sid, r->refs[i].id);
		err = pl_buf_addf(b, "%s%s", first ? "" : ",", sid);
		first = false;
	}
	return err;
}

int pl_member_record_summary(const struct pl_record *r, struct pl_buf *b)
{
	size_t start = b->len;
	const struct pl_record_ref *ref;
	char t[PL_TIMESTAMP_LEN + 1], sid[17];
	int err = 0;

	switch (r->kind) {
	case PL_KIND_SEND:
	case PL_KIND_CONSULT:
		if (r->kind == PL_KIND_SEND)
			err = pl_buf_addf(b, "%s to ", pl_record_class_name(r->cls));
		else
			err = pl_buf_adds(b, "draft to ");
		if (!err)
			err = add_names(b, r->to, r->nto);
		if (!err && (r->has & PL_RECORD_HAS_VIA))
			err = pl_buf_addf(b, " via %s", r->via);
		if (!err && (ref = pl_record_ref_find(r, PL_ROLE_REPLY_TO))) {
			short_id(sid, ref->id);
			err = pl_buf_addf(b, " replying to %s", sid);
		}
		if (!err && (r->has & PL_RECORD_HAS_DEADLINE) &&
		    pl_timestamp_format(t, r->deadline) == 0)
			err = pl_buf_addf(b, ", %s by %s",
			                  r->kind == PL_KIND_SEND ? "reply" : "advise", t);
		break;
	case PL_KIND_STATEMENT: {
		const char *nl = memchr(r->body, '\n', r->body_len);
		size_t n = nl ? (size_t)(nl - r->body) : r->body_len;
		bool more = n > 60 || (nl && (size_t)(nl - r->body) + 1 < r->body_len);

		/* "statement statement" would stutter: only a measure names its class. */
		err = pl_buf_adds(b, r->cls == PL_CLASS_MEASURE ? "measure" : "");
		if (!err && (r->has & PL_RECORD_HAS_STATE) &&
		    (ref = pl_record_ref_find(r, PL_ROLE_CHANGES))) {
			short_id(sid, ref->id);
			err = pl_buf_addf(b, " %s (changing %s)", pl_measure_state_name(r->state),
			                  sid);
		}
		if (!err && (ref = pl_record_ref_find(r, PL_ROLE_RECIPROCATES))) {
			short_id(sid, ref->id);
			err = pl_buf_addf(b, " reciprocating %s", sid);
		}
		if (!err && pl_record_ref_find(r, PL_ROLE_CITES)) {
			err = pl_buf_adds(b, r->cls == PL_CLASS_MEASURE ? " citing " : "citing ");
			if (!err)
				err = add_refs(b, r, PL_ROLE_CITES);
		}
		if (!err)
			err = pl_buf_addf(b, "%s%.*s%s", b->len > start ? ": " : "",
			                  (int)(n > 60 ? 60 : n), r->body, more ? "..." : "");
		break;
	}
	case PL_KIND_ADVISE:
		err = pl_buf_addf(b, "%s on ", pl_position_name(r->position));
		if (!err)
			err = add_refs(b, r, PL_ROLE_CONSULT);
		break;
	case PL_KIND_CHECK:
	case PL_KIND_ANSWER:
	case PL_KIND_UNANSWERED:
	case PL_KIND_MISSED:
		err = pl_buf_addf(b, "line %s", r->line);
		if (!err && r->nto) {
			err = pl_buf_adds(b, " to ");
			if (!err)
				err = add_names(b, r->to, r->nto);
		}
		break;
	case PL_KIND_REGISTER:
	case PL_KIND_REVOKE:
		err = pl_buf_addf(b, "party %s", r->party);
		break;
	case PL_KIND_INDEX:
		short_id(sid, r->index_root);
		err = pl_buf_addf(b, "thread index root %s", sid);
		break;
	case PL_KIND_GROUP:
		err = pl_buf_addf(b, "%s of ", r->group);
		if (!err)
			err = add_names(b, r->to, r->nto);
		if (!err)
			err = pl_buf_adds(b, " about ");
		if (!err)
			err = add_names(b, r->about, r->nabout);
		if (!err)
			err = pl_buf_addf(b, ", window %u days", (unsigned)r->window_days);
		if (!err && (ref = pl_record_ref_find(r, PL_ROLE_GROUP))) {
			short_id(sid, ref->id);
			err = pl_buf_addf(b, ", changing %s", sid);
		}
		break;
	default:
		/* receive, convey, decline, accept, refuse, available, expire: about a send */
		err = pl_buf_adds(b, "of ");
		if (!err)
			err = add_refs(b, r, PL_ROLE_SUBJECT);
		if (!err && r->nto) {
			err = pl_buf_adds(b, " to ");
			if (!err)
				err = add_names(b, r->to, r->nto);
		}
		if (!err && (r->has & PL_RECORD_HAS_VIA))
			err = pl_buf_addf(b, " via %s", r->via);
		break;
	}
	if (!err && (r->has & PL_RECORD_HAS_REASON))
		err = pl_buf_addf(b, ": %s", r->reason);
	return err;
}

/* Sets key to a string value, unless it is NULL (then the object is left incomplete: NULL). */
static bool put(json_t *o, const char *key, json_t *v)
{
	return v && json_object_set_new(o, key, v) == 0;
}

json_t *pl_member_record_json(const struct pl_record *r, uint64_t index, const char *text,
                              size_t len)
{
	uint8_t id[PL_RECORD_ID_BYTES];
	char t[PL_TIMESTAMP_LEN + 1], hex[PL_RECORD_ID_HEX_LEN + 1];
	char b64[PL_B64_LEN(PL_RECORD_DIGEST_BYTES) + 1];
	json_t *o = json_object(), *a;
	bool ok = o != NULL;

	pl_record_id(id, text, len);
	pl_record_id_format(hex, id);
	if (ok && index != UINT64_MAX)
		ok = put(o, "index", json_integer((json_int_t)index));
	ok = ok && put(o, "id", json_string(hex));
	ok = ok && pl_timestamp_format(t, r->time) == 0 && put(o, "time", json_string(t));
	ok = ok && put(o, "author", json_string(r->author));
	ok = ok && put(o, "seq", json_integer((json_int_t)r->seq));
	ok = ok && put(o, "kind", json_string(pl_record_kind_name(r->kind)));
	if (ok && (r->has & PL_RECORD_HAS_CLASS))
		ok = put(o, "class", json_string(pl_record_class_name(r->cls)));
	if (ok && r->nto) {
		ok = put(o, "to", a = json_array());
		for (size_t i = 0; ok && i < r->nto; i++)
			ok = json_array_append_new(a, json_string(r->to[i])) == 0;
	}
	if (ok && (r->has & PL_RECORD_HAS_VIA))
		ok = put(o, "via", json_string(r->via));
	if (ok && (r->has & PL_RECORD_HAS_DEADLINE))
		ok = pl_timestamp_format(t, r->deadline) == 0 && put(o, "deadline", json_string(t));
	if (ok && (r->has & PL_RECORD_HAS_LINE))
		ok = put(o, "line", json_string(r->line));
	if (ok && r->nrefs) {
		ok = put(o, "refs", a = json_array());
		for (size_t i = 0; ok && i < r->nrefs; i++) {
			pl_record_id_format(hex, r->refs[i].id);
			ok = json_array_append_new(a, json_pack("{s:s, s:s}", "role",
			                                        pl_ref_role_name(r->refs[i].role),
			                                        "id", hex)) == 0;
		}
	}
	if (ok && (r->has & PL_RECORD_HAS_PAYLOAD)) {
		pl_b64_encode(b64, r->payload, PL_RECORD_DIGEST_BYTES);
		ok = put(o, "payload",
		         json_pack("{s:s, s:I}", "hash", b64, "size", (json_int_t)r->payload_size));
	}
	if (ok && (r->has & PL_RECORD_HAS_COMMIT)) {
		pl_b64_encode(b64, r->commit, PL_RECORD_DIGEST_BYTES);
		ok = put(o, "commit", json_string(b64));
	}
	if (ok && (r->has & PL_RECORD_HAS_REASON))
		ok = put(o, "reason", json_string(r->reason));
	if (ok && (r->has & PL_RECORD_HAS_POSITION))
		ok = put(o, "position", json_string(pl_position_name(r->position)));
	if (ok && (r->has & PL_RECORD_HAS_PARTY))
		ok = put(o, "party", json_string(r->party));
	if (ok && (r->has & PL_RECORD_HAS_GROUP))
		ok = put(o, "group", json_string(r->group));
	if (ok && r->nabout) {
		ok = put(o, "about", a = json_array());
		for (size_t i = 0; ok && i < r->nabout; i++)
			ok = json_array_append_new(a, json_string(r->about[i])) == 0;
	}
	if (ok && (r->has & PL_RECORD_HAS_WINDOW))
		ok = put(o, "window", json_integer((json_int_t)r->window_days));
	if (ok && (r->has & PL_RECORD_HAS_STATE))
		ok = put(o, "state", json_string(pl_measure_state_name(r->state)));
	if (ok && (r->has & PL_RECORD_HAS_BODY))
		ok = put(o, "body", json_stringn(r->body, r->body_len));
	ok = ok && put(o, "record", json_stringn(text, len));
	if (!ok) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

int pl_member_payload_put(struct pl_client *c, struct pl_record *r, const uint8_t *body, size_t len,
                          const uint8_t (*readers)[PL_BOX_PK_BYTES], size_t nreaders,
                          uint8_t salt[static PL_BOX_SALT_BYTES], const char **stage)
{
	uint8_t commit[PL_BOX_COMMIT_BYTES], hash[PL_HASH_BYTES];
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	int err;

	*stage = "seal";
	err = pl_box_seal(&blob, &blob_len, commit, salt, body, len, readers, nreaders);
	if (err)
		goto out;
	*stage = "upload";
	err = pl_client_payload_put(c, blob, blob_len, hash);
	if (err)
		goto out;
	memcpy(r->commit, commit, sizeof(commit));
	memcpy(r->payload, hash, sizeof(hash));
	r->payload_size = blob_len;
	r->has |= PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT;
out:
	free(blob);
	return err;
}

/* Writes all of text[0..len) to fd. Returns 0, or -1 with errno set. */
static int write_all(int fd, const char *text, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/*
 * Writes text[0..len) to a new file <prefix>-<time>.txt (-2, -3, ... after
 * it when taken) in the directory of the local state file state: mode 0644,
 * synced. Returns as pl_member_evidence_save() does.
 */
static int evidence_write(const char *state, const char *prefix, int64_t detected, const char *text,
                          size_t len, char path[static PL_PROFILE_PATH_MAX + 1], const char **stage)
{
	char dir[PL_PROFILE_PATH_MAX + 1], stamp[PL_TIMESTAMP_LEN + 1], compact[32];
	const char *slash = strrchr(state, '/');
	size_t k = 0;
	int fd = -1, err = PL_EINVAL, saved = 0;

	*stage = NULL;
	if (!slash || (size_t)(slash - state) >= sizeof(dir))
		goto out;
	memcpy(dir, state, (size_t)(slash - state));
	dir[slash - state] = '\0';
	if (pl_timestamp_format(stamp, detected) != 0)
		snprintf(stamp, sizeof(stamp), "0");
	for (size_t i = 0; stamp[i] && k + 1 < sizeof(compact); i++)
		if (stamp[i] != '-' && stamp[i] != ':')
			compact[k++] = stamp[i];
	compact[k] = '\0';
	/* Several detections in one second get -2, -3, ...: none overwrites another. */
	for (int n = 1; fd < 0 && n <= 100; n++) {
		int w = n == 1 ? snprintf(path, PL_PROFILE_PATH_MAX + 1, "%s/%s-%s.txt", dir,
		                          prefix, compact)
		               : snprintf(path, PL_PROFILE_PATH_MAX + 1, "%s/%s-%s-%d.txt", dir,
		                          prefix, compact, n);
		if (w < 0 || (size_t)w >= PL_PROFILE_PATH_MAX + 1) {
			memcpy(path, dir, strlen(dir) + 1);
			err = PL_ETOOBIG;
			goto out;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	err = PL_EIO;
	if (fd < 0) {
		*stage = "create";
		goto out;
	}
	if (write_all(fd, text, len) != 0) {
		*stage = "write";
		goto out;
	}
	if (fsync(fd) != 0) {
		*stage = "sync";
		goto out;
	}
	err = 0;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return err;
}

int pl_member_evidence_save(struct pl_client_split *sp, const struct pl_vkey *log_key,
                            const char *state, char path[static PL_PROFILE_PATH_MAX + 1],
                            const char **stage)
{
	struct pl_buf text, vk;
	int err = PL_ENOMEM, saved;

	pl_buf_init(&text, 4 * PL_NOTE_MAX_BYTES);
	pl_buf_init(&vk, 1024);
	*stage = NULL;
	if (pl_vkey_format(log_key, &vk) == 0)
		snprintf(sp->log_key, sizeof(sp->log_key), "%s", vk.data);
	if (pl_client_split_format(sp, &text) == 0)
		err = evidence_write(state, "split-view", sp->detected, text.data, text.len, path,
		                     stage);
	saved = errno;
	pl_buf_release(&text);
	pl_buf_release(&vk);
	errno = saved;
	return err;
}

/* ---- The thread index: a member's check of its own records ---- */

enum pl_member_index_verdict pl_member_index_judge(const char *proof, size_t len,
                                                   const uint8_t key[static PL_HASH_BYTES],
                                                   const uint8_t root[static PL_HASH_BYTES],
                                                   uint64_t index,
                                                   const uint8_t id[static PL_HASH_BYTES])
{
	struct pl_tindex_proof *p = NULL;
	enum pl_member_index_verdict v = PL_MEMBER_INDEX_UNPROVEN;

	if (pl_tindex_proof_open(&p, proof, len, key, root) != 0)
		goto out;
	v = PL_MEMBER_INDEX_OMITTED;
	for (size_t i = 0; i < p->nentries; i++) {
		bool at = p->entries[i].index == index;
		bool same = memcmp(p->entries[i].id, id, PL_HASH_BYTES) == 0;
		if (at && same) {
			v = PL_MEMBER_INDEX_LISTED;
			break;
		}
		/* Another record at its place, or itself at another: the log says otherwise. */
		if (at || same) {
			v = PL_MEMBER_INDEX_INVENTED;
			break;
		}
	}
out:
	pl_tindex_proof_free(p);
	return v;
}

const char *pl_member_index_verdict_name(enum pl_member_index_verdict v)
{
	switch (v) {
	case PL_MEMBER_INDEX_LISTED:
		return "listed";
	case PL_MEMBER_INDEX_OMITTED:
		return "omission";
	case PL_MEMBER_INDEX_INVENTED:
		return "invention";
	default:
		return "unproven";
	}
}

/* True when s[0..len) is one or more lines, the last ending in a newline. */
static bool is_text(const char *s, size_t len)
{
	return s && len > 0 && s[len - 1] == '\n';
}

/* True when s is a non-empty header value without a control character. */
static bool is_value(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Appends "<name> bytes <len>\n", the bytes, and a blank line. */
static int add_part(struct pl_buf *out, const char *name, const char *text, size_t len)
{
	int err = pl_buf_addf(out, "%s bytes %zu\n", name, len);

	if (!err)
		err = pl_buf_add(out, text, len);
	if (!err)
		err = pl_buf_adds(out, "\n");
	return err;
}

int pl_member_index_lie_format(const struct pl_member_index_lie *e, struct pl_buf *out)
{
	char key[PL_HASH_HEX_LEN + 1], id[PL_HASH_HEX_LEN + 1], when[PL_TIMESTAMP_LEN + 1];
	size_t old = out->len;
	int err = PL_EINVAL;

	if ((e->verdict != PL_MEMBER_INDEX_OMITTED && e->verdict != PL_MEMBER_INDEX_INVENTED) ||
	    !is_value(e->exchange) || !is_value(e->log_key) ||
	    !is_text(e->index_record, e->index_record_len) ||
	    !is_text(e->index_inclusion, e->index_inclusion_len) ||
	    !is_text(e->tindex_proof, e->tindex_proof_len) || !is_text(e->record, e->record_len) ||
	    !is_text(e->record_inclusion, e->record_inclusion_len) || e->index >= e->index_at ||
	    pl_timestamp_format(when, e->detected) != 0)
		return err;
	pl_hex_encode(key, e->key, PL_HASH_BYTES);
	pl_hex_encode(id, e->id, PL_HASH_BYTES);
	err = pl_buf_addf(out,
	                  "%s\nexchange %s\nlog-key %s\ndetected %s\nreason %s\n"
	                  "key %s\nrecord %llu %s\nindex %llu\n\n",
	                  PL_MEMBER_INDEX_LIE_VERSION, e->exchange, e->log_key, when,
	                  pl_member_index_verdict_name(e->verdict), key,
	                  (unsigned long long)e->index, id, (unsigned long long)e->index_at);
	if (!err)
		err = add_part(out, "index-record", e->index_record, e->index_record_len);
	if (!err)
		err = add_part(out, "index-inclusion", e->index_inclusion, e->index_inclusion_len);
	if (!err)
		err = add_part(out, "tindex-proof", e->tindex_proof, e->tindex_proof_len);
	if (!err)
		err = add_part(out, "record", e->record, e->record_len);
	if (!err)
		err = add_part(out, "record-inclusion", e->record_inclusion,
		               e->record_inclusion_len);
	if (err)
		pl__buf_truncate(out, old);
	return err;
}

int pl_member_index_lie_save(const struct pl_member_index_lie *e, const char *state,
                             char path[static PL_PROFILE_PATH_MAX + 1], const char **stage)
{
	struct pl_buf text;
	int err, saved;

	*stage = NULL;
	pl_buf_init(&text, 8 * PL_NOTE_MAX_BYTES + PL_TINDEX_PROOF_MAX_BYTES);
	err = pl_member_index_lie_format(e, &text);
	if (!err)
		err = evidence_write(state, "index-lie", e->detected, text.data, text.len, path,
		                     stage);
	saved = errno;
	pl_buf_release(&text);
	errno = saved;
	return err;
}

void pl_member_index_found_release(struct pl_member_index_found *f)
{
	if (!f)
		return;
	pl_buf_release(&f->index_record);
	pl_buf_release(&f->index_inclusion);
	pl_buf_release(&f->tindex_proof);
	memset(f, 0, sizeof(*f));
}

/*
 * Reads the `index` record at f->index_at and proves it under a checkpoint
 * of rc->size, the one of *want (the receipt's); sets root. Returns 0,
 * PL_ENOTFOUND (not an index record), PL_EINCONSISTENT, or what failed.
 */
static int index_record_get(const struct pl_member_index_source *src, const struct pl_receipt *rc,
                            const struct pl_checkpoint *want, const char *origin,
                            const struct pl_vkey *log_key, struct pl_member_index_found *f,
                            uint8_t root[static PL_HASH_BYTES])
{
	struct pl_record *ir = malloc(sizeof(*ir));
	uint8_t id[PL_RECORD_ID_BYTES];
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	struct pl_proof *p = NULL;
	struct pl_checkpoint cp;
	int err = ir ? 0 : PL_ENOMEM;

	if (!err)
		err = src->record_at(src->ctx, f->index_at, &f->index_record);
	if (!err && pl_record_open(ir, id, NULL, f->index_record.data, f->index_record.len, log_key,
	                           1, NULL) != 0)
		err = PL_ENOTFOUND; /* not the exchange's: not an index record either */
	if (!err && ir->kind != PL_KIND_INDEX)
		err = PL_ENOTFOUND;
	if (!err) {
		pl_record_id_format(hex, id);
		err = src->inclusion(src->ctx, hex, rc->size, &f->index_inclusion);
	}
	if (!err)
		err = pl_member_proof_check(f->index_inclusion.data, f->index_inclusion.len,
		                            f->index_record.data, f->index_record.len, f->index_at,
		                            origin, log_key, &p, &cp);
	if (!err && (cp.size != want->size || memcmp(cp.root, want->root, PL_HASH_BYTES) != 0))
		err = PL_EINCONSISTENT;
	if (!err)
		memcpy(root, ir->index_root, PL_HASH_BYTES);
	pl_proof_free(p);
	free(ir);
	return err;
}

int pl_member_index_check(const struct pl_member_index_source *src, const struct pl_receipt *rc,
                          const struct pl_record *r, const char *text, size_t len,
                          const char *origin, const struct pl_vkey *log_key,
                          struct pl_member_index_found *out)
{
	uint8_t root[PL_HASH_BYTES];
	struct pl_proof *p = NULL;
	struct pl_checkpoint cp;
	int err;

	memset(out, 0, sizeof(*out));
	pl_buf_init(&out->index_record, PL_RECORD_MAX_BYTES);
	pl_buf_init(&out->index_inclusion, PL_TLOG_PROOF_MAX_BYTES);
	pl_buf_init(&out->tindex_proof, PL_TINDEX_PROOF_MAX_BYTES);
	err = pl_member_receipt_check(rc, text, len, origin, log_key, &p, &cp);
	pl_proof_free(p);
	if (err)
		return err;
	if (rc->size < 2 || rc->index >= rc->size - 1)
		return PL_ENOTFOUND;
	out->index_at = rc->size - 1;
	err = index_record_get(src, rc, &cp, origin, log_key, out, root);
	for (size_t i = 0; !err && i < r->nrefs && i < PL_RECORD_MAX_REFS; i++) {
		bool again = false;
		for (size_t k = 0; k < i && !again; k++)
			again = memcmp(r->refs[k].id, r->refs[i].id, PL_HASH_BYTES) == 0;
		if (again)
			continue;
		pl_buf_reset(&out->tindex_proof);
		err = src->index_proof(src->ctx, r->refs[i].id, rc->size, &out->tindex_proof);
		if (err)
			break;
		out->nkeys++;
		out->verdict = pl_member_index_judge(out->tindex_proof.data, out->tindex_proof.len,
		                                     r->refs[i].id, root, rc->index, rc->id);
		if (out->verdict != PL_MEMBER_INDEX_LISTED) {
			memcpy(out->key, r->refs[i].id, PL_HASH_BYTES);
			break;
		}
	}
	return err;
}
