/* What a member authors: each kind of record built from what the member asked, its body sealed
 * and uploaded, then signed, submitted and proven through the session. */
#include <parley/author.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <parley/box.h>
#include <parley/encoding.h>
#include <parley/member.h>
#include <parley/party.h>
#include <parley/timestamp.h>

#include "internal.h"

/* Readers of a sealed body at the most: this party, the recipients, the intermediary. */
#define AUTHOR_READERS_MAX (1 + PL_RECORD_MAX_TO + 1)

/* One authoring: the request, the record being built and what it needs along the way. */
struct authoring {
	struct pl_session *s;
	const struct pl_author_request *a;
	struct pl_record *r;
	int64_t min_time; /* the latest time of the records r refers to */
	uint8_t readers[AUTHOR_READERS_MAX][PL_BOX_PK_BYTES];
	size_t nreaders;
	struct pl_buf body;
	uint8_t salt[PL_BOX_SALT_BYTES];
	bool sealed;
};

/* The first 16 hex digits of an id, for messages. */
static void short_id(char out[static 17], const uint8_t id[static PL_RECORD_ID_BYTES])
{
	pl_hex_encode(out, id, 8);
	out[16] = '\0';
}

/*
 * Parses +DURATION (a sequence of <number><unit>, units s m h d w) counted
 * from base, or an RFC 3339 time. Returns 0 with *out set, or -1.
 */
static int parse_when(const char *s, int64_t base, int64_t *out)
{
	size_t n = strlen(s);
	int64_t d;

	if (s[0] != '+')
		return pl_timestamp_parse(out, s, n) == 0 ? 0 : -1;
	if (pl_duration_parse(&d, s + 1, n - 1, PL_AUTHOR_DEADLINE_MAX_SECONDS) != 0 || d == 0)
		return -1;
	*out = base + d;
	return 0;
}

/* Adds a party's X25519 key to the readers of the body. */
static int add_reader(struct authoring *w, const struct pl_client_party *p)
{
	struct pl_party_ekey ek;

	if (pl_party_ekey_parse(&ek, p->enc_key, strlen(p->enc_key)) != 0)
		return pl__session_fail(w->s, PL_BLAME_EVIDENCE, PL_EKEY,
		                        "party %s: its encryption key in the directory is unusable",
		                        p->name);
	memcpy(w->readers[w->nreaders++], ek.pk, PL_BOX_PK_BYTES);
	return 0;
}

/*
 * Fills r's `to` lines from the request's names (sorted, distinct, each a
 * member other than this party); for a sealed body each is a reader too.
 */
static int add_parties(struct authoring *w, const char *opt, bool readers)
{
	struct pl_session *s = w->s;
	const struct pl_client_party *p;
	const char *name;
	int err = 0;

	for (size_t i = 0; !err && i < w->a->nto; i++) {
		name = w->a->to[i];
		if (!pl_party_name_is_valid(name, strlen(name)))
			return pl__session_fail(s, PL_BLAME_LOCAL, PL_EINVAL,
			                        "%s '%s': not a party name", opt, name);
		if (strcmp(name, s->profile.party) == 0)
			return pl__session_fail(s, PL_BLAME_LOCAL, PL_EINVAL,
			                        "%s %s: that is this party itself", opt, name);
		if (pl_record_has_to(w->r, name))
			return pl__session_fail(s, PL_BLAME_LOCAL, PL_EINVAL, "%s %s: named twice",
			                        opt, name);
		p = pl_session_party(s, name, &err);
		if (p && readers)
			err = add_reader(w, p);
		if (!err && pl_member_to_add(w->r, name) != 0)
			err = pl__session_fail(s, PL_BLAME_LOCAL, PL_EINVAL,
			                       "%s %s: cannot be named", opt, name);
	}
	return err;
}

/*
 * Resolves a referenced record, checks its kind (want 0: any), adds the ref
 * line, and raises min_time to its time.
 */
static int add_ref(struct authoring *w, const char *arg, enum pl_ref_role role,
                   enum pl_record_kind want)
{
	struct pl_session_record ref;
	char sid[17];
	int err;

	memset(&ref, 0, sizeof(ref));
	err = pl_session_resolve(w->s, arg, &ref);
	if (err)
		goto out;
	short_id(sid, ref.id);
	if (want && ref.rec->kind != want)
		err = pl__session_fail(
		        w->s, PL_BLAME_LOCAL, PL_EINVAL, "record %s is a %s, not a %s", sid,
		        pl_record_kind_name(ref.rec->kind), pl_record_kind_name(want));
	else if (pl_member_ref_add(w->r, role, ref.id) != 0)
		err = pl__session_fail(w->s, PL_BLAME_LOCAL, PL_EINVAL, "record %s: named twice",
		                       sid);
	else if (ref.rec->time > w->min_time)
		w->min_time = ref.rec->time;
out:
	pl_session_record_release(&ref);
	return err;
}

/* Sets the reason line when the member gave one. */
static void set_reason(struct pl_record *r, const char *reason)
{
	if (reason) {
		r->has |= PL_RECORD_HAS_REASON;
		memcpy(r->reason, reason, strlen(reason) + 1);
	}
}

/* A verb about one record: convey, decline, accept, refuse (of a send) or advise (a consult). */
static int build_about(struct authoring *w)
{
	bool advise = w->r->kind == PL_KIND_ADVISE;
	int err;

	err = add_ref(w, w->a->about, advise ? PL_ROLE_CONSULT : PL_ROLE_SUBJECT,
	              advise ? PL_KIND_CONSULT : PL_KIND_SEND);
	if (err)
		return err;
	if (advise) {
		w->r->has |= PL_RECORD_HAS_POSITION;
		w->r->position = w->a->position;
	}
	set_reason(w->r, w->a->reason);
	return 0;
}

/* Reads the body through the caller; an empty one is refused. */
static int read_body(struct authoring *w, size_t max)
{
	int err = w->a->read_body(w->a->ctx, max, &w->body);

	if (err) {
		w->s->why[0] = '\0';
		return err;
	}
	if (w->body.len == 0)
		return pl__session_fail(w->s, PL_BLAME_LOCAL, PL_EINVAL, "the body is empty");
	return 0;
}

/* A statement: its cites and its public body. */
static int build_statement(struct authoring *w)
{
	struct pl_record *r = w->r;
	struct pl_buf *body = &w->body;
	int err = 0;

	r->has |= PL_RECORD_HAS_CLASS;
	r->cls = w->a->cls ? w->a->cls : PL_CLASS_STATEMENT;
	for (size_t i = 0; !err && i < w->a->ncites; i++)
		err = add_ref(w, w->a->cites[i], PL_ROLE_CITES, 0);
	if (!err && w->a->consult)
		err = add_ref(w, w->a->consult, PL_ROLE_CONSULT, PL_KIND_CONSULT);
	if (!err && w->a->reciprocates) {
		r->cls = PL_CLASS_MEASURE;
		err = add_ref(w, w->a->reciprocates, PL_ROLE_RECIPROCATES, PL_KIND_STATEMENT);
	}
	if (!err && w->a->measure) {
		r->cls = PL_CLASS_MEASURE;
		r->state = w->a->state;
		r->has |= PL_RECORD_HAS_STATE;
		err = add_ref(w, w->a->measure, PL_ROLE_CHANGES, PL_KIND_STATEMENT);
	}
	if (!err)
		err = read_body(w, PL_RECORD_BODY_MAX);
	if (err)
		return err;
	/* Text ends in a newline; a file usually does, a typed line may not. */
	if ((body->data[body->len - 1] != '\n' && pl_buf_add(body, "\n", 1) != 0) ||
	    body->len > PL_RECORD_BODY_MAX)
		return pl__session_fail(w->s, PL_BLAME_LOCAL, PL_ETOOBIG,
		                        "the body is longer than %u bytes", PL_RECORD_BODY_MAX);
	r->has |= PL_RECORD_HAS_BODY;
	memcpy(r->body, body->data, body->len);
	r->body[body->len] = '\0';
	r->body_len = body->len;
	return 0;
}

/* The intermediary of a send (via), a reader unless not readable_by_via. */
static int add_via(struct authoring *w)
{
	struct pl_session *s = w->s;
	const char *via = w->a->via;
	const struct pl_client_party *p;
	int err;

	if (!pl_party_name_is_valid(via, strlen(via)) || strcmp(via, s->profile.party) == 0 ||
	    pl_record_has_to(w->r, via))
		return pl__session_fail(
		        s, PL_BLAME_LOCAL, PL_EINVAL,
		        "--via %s: not a party other than this one and the recipients", via);
	p = pl_session_party(s, via, &err);
	if (!p)
		return err;
	w->r->has |= PL_RECORD_HAS_VIA;
	memcpy(w->r->via, via, strlen(via) + 1);
	return w->a->readable_by_via ? add_reader(w, p) : 0;
}

/* Seals the body to the readers, uploads the blob and sets payload and commit. */
static int seal_and_upload(struct authoring *w)
{
	const char *stage = NULL;
	int err;

	err = pl_member_payload_put(w->s->client, w->r, (const uint8_t *)w->body.data, w->body.len,
	                            (const uint8_t(*)[PL_BOX_PK_BYTES])w->readers, w->nreaders,
	                            w->salt, &stage);
	if (err && strcmp(stage, "seal") == 0)
		return pl__session_fail(w->s, PL_BLAME_LOCAL, err, "cannot seal the body: %s",
		                        pl_strerror(err));
	if (err)
		return pl_session_client_error(w->s, "the payload", err);
	w->sealed = true;
	return 0;
}

/* A send or consult: its class, reply, parties, deadline, and the body sealed and uploaded. */
static int build_sealed(struct authoring *w)
{
	struct pl_record *r = w->r;
	bool send = r->kind == PL_KIND_SEND;
	int64_t base;
	int err = 0;

	memcpy(w->readers[0], w->s->me.ekey.pk, PL_BOX_PK_BYTES);
	w->nreaders = 1;
	if (send) {
		r->has |= PL_RECORD_HAS_CLASS;
		r->cls = w->a->cls ? w->a->cls : PL_CLASS_MESSAGE;
	}
	if (w->a->reply_to)
		err = add_ref(w, w->a->reply_to, PL_ROLE_REPLY_TO, PL_KIND_SEND);
	if (!err && send && w->a->consult)
		err = add_ref(w, w->a->consult, PL_ROLE_CONSULT, PL_KIND_CONSULT);
	if (!err && !send && w->a->group_ref)
		err = add_ref(w, w->a->group_ref, PL_ROLE_GROUP, PL_KIND_GROUP);
	if (!err)
		err = add_parties(w, send ? "--to" : "--with", true);
	if (!err && w->a->via)
		err = add_via(w);
	if (!err && w->a->deadline) {
		base = pl_session_now(w->s);
		if (w->min_time > base)
			base = w->min_time;
		if (parse_when(w->a->deadline, base, &r->deadline) != 0)
			return pl__session_fail(w->s, PL_BLAME_LOCAL, PL_EINVAL,
			                        "--deadline '%s': not an RFC 3339 UTC time nor "
			                        "+DURATION",
			                        w->a->deadline);
		r->has |= PL_RECORD_HAS_DEADLINE;
	}
	if (!err)
		err = read_body(w, PL_BOX_MAX_BODY);
	return err ? err : seal_and_upload(w);
}

/* Adds a counterpart's `about` line, keeping the lines sorted and distinct. */
static int add_about(struct authoring *w, const char *name)
{
	struct pl_record *r = w->r;
	size_t n = strlen(name), at;

	if (!pl_party_name_is_valid(name, n) || pl_record_has_about(r, name) ||
	    pl_record_has_to(r, name) || r->nabout >= PL_RECORD_MAX_TO)
		return pl__session_fail(w->s, PL_BLAME_LOCAL, PL_EINVAL,
		                        "--about %s: not a party name, named twice, a member, or "
		                        "one too many",
		                        name);
	for (at = r->nabout; at > 0 && strcmp(r->about[at - 1], name) > 0; at--)
		memcpy(r->about[at], r->about[at - 1], sizeof(r->about[at]));
	memcpy(r->about[at], name, n + 1);
	r->nabout++;
	return 0;
}

/*
 * A group: its name, its members (this party and the others named), the
 * counterparts it coordinates about, its window, and the version it changes.
 */
static int build_group(struct authoring *w)
{
	struct pl_record *r = w->r;
	const struct pl_author_request *a = w->a;
	size_t n = a->group ? strlen(a->group) : 0;
	int err = 0;

	if (!pl_record_name_is_valid(a->group ? a->group : "", n))
		return pl__session_fail(w->s, PL_BLAME_LOCAL, PL_EINVAL,
		                        "group name '%s': 1 to %d of a-z, 0-9 and -",
		                        a->group ? a->group : "", PL_RECORD_NAME_MAX);
	if (a->window_days < 1 || a->window_days > PL_RECORD_WINDOW_MAX_DAYS)
		return pl__session_fail(w->s, PL_BLAME_LOCAL, PL_EINVAL, "--window: 1 to %d days",
		                        PL_RECORD_WINDOW_MAX_DAYS);
	memcpy(r->group, a->group, n + 1);
	r->window_days = a->window_days;
	r->has |= PL_RECORD_HAS_GROUP | PL_RECORD_HAS_WINDOW;
	if (a->changes)
		err = add_ref(w, a->changes, PL_ROLE_GROUP, PL_KIND_GROUP);
	if (!err)
		err = add_parties(w, "--member", false);
	if (!err && pl_member_to_add(r, w->s->profile.party) != 0)
		err = pl__session_fail(w->s, PL_BLAME_LOCAL, PL_EINVAL,
		                       "a group has at most %d members", PL_RECORD_MAX_TO);
	for (size_t i = 0; !err && i < a->ncounterparts; i++) {
		if (!pl_session_party(w->s, a->counterparts[i], &err))
			break;
		err = add_about(w, a->counterparts[i]);
	}
	if (!err && r->nabout == 0)
		err = pl__session_fail(w->s, PL_BLAME_LOCAL, PL_EINVAL,
		                       "a group needs at least one --about");
	return err;
}

/* The kind-specific part of the record. */
static int build(struct authoring *w)
{
	w->r->kind = w->a->kind;
	switch (w->r->kind) {
	case PL_KIND_CONVEY:
	case PL_KIND_DECLINE:
	case PL_KIND_ACCEPT:
	case PL_KIND_REFUSE:
	case PL_KIND_ADVISE:
		return build_about(w);
	case PL_KIND_STATEMENT:
		return build_statement(w);
	case PL_KIND_SEND:
	case PL_KIND_CONSULT:
		return build_sealed(w);
	case PL_KIND_GROUP:
		return build_group(w);
	default:
		return pl__session_fail(w->s, PL_BLAME_LOCAL, PL_EINVAL,
		                        "%s: not a kind a member authors",
		                        pl_record_kind_name(w->r->kind));
	}
}

int pl_author(struct pl_session *s, const struct pl_author_request *a, struct pl_record *r,
              struct pl_receipt *rc, struct pl_buf *text)
{
	struct authoring *w = calloc(1, sizeof(*w));
	char what[64];
	int err;

	if (!w)
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOMEM, "out of memory");
	w->s = s;
	w->a = a;
	w->r = r;
	pl_buf_init(&w->body, PL_BOX_MAX_BODY + 1);
	err = build(w);
	if (err)
		goto out;
	if (a->about)
		snprintf(what, sizeof(what), "the %s of %.16s", pl_record_kind_name(a->kind),
		         a->about);
	else
		snprintf(what, sizeof(what), "the %s", pl_record_kind_name(a->kind));
	err = pl_session_submit(s, r, w->min_time, what, rc, text);
	/* The author keeps what it sealed, to read it back and to disclose it later. */
	if (!err && w->sealed &&
	    pl_state_opened_put(s->state, rc->id, (const uint8_t *)w->body.data, w->body.len,
	                        w->salt) != 0)
		snprintf(s->warning, sizeof(s->warning),
		         "local state %.900s: cannot keep a copy of the body", s->profile.state);
out:
	if (w->body.data)
		sodium_memzero(w->body.data, w->body.cap);
	pl_buf_release(&w->body);
	sodium_memzero(w, sizeof(*w));
	free(w);
	return err;
}
