/* The stateful rules of the vocabulary: who may act on which record, once, in which order. */
#include <parley/rules.h>

#include "internal.h"

/* A rule's verdict: the code and a static reason, or none. */
struct verdict {
	int ret;
	const char *why;
};

static bool broke(struct verdict *v, int ret, const char *why)
{
	v->ret = ret;
	v->why = why;
	return false;
}

/*
 * The kind a ref of this role in a record of kind `from` must point at; 0 when any kind will
 * do, or when the kind's own rule says (the previous of a check or missed: either).
 */
static enum pl_record_kind role_target_kind(enum pl_ref_role role, enum pl_record_kind from)
{
	if (role == PL_ROLE_PREVIOUS && from != PL_KIND_REGISTER)
		return 0;
	switch (role) {
	case PL_ROLE_SUBJECT:
	case PL_ROLE_REPLY_TO:
		return PL_KIND_SEND;
	case PL_ROLE_CHECK:
		return PL_KIND_CHECK;
	case PL_ROLE_CONSULT:
		return PL_KIND_CONSULT;
	case PL_ROLE_PREVIOUS:
		return PL_KIND_REGISTER;
	case PL_ROLE_GROUP:
		return PL_KIND_GROUP;
	case PL_ROLE_RECIPROCATES:
	case PL_ROLE_CHANGES:
		return PL_KIND_STATEMENT;
	default:
		return 0;
	}
}

/* True when some sibling of kind k was authored by author (any author when NULL). */
static bool sibling_by(const struct pl_rules_input *in, enum pl_record_kind k, const char *author)
{
	for (size_t i = 0; i < in->nsiblings; i++) {
		const struct pl_record *s = in->siblings[i];
		if (s->kind == k && (!author || strcmp(s->author, author) == 0))
			return true;
	}
	return false;
}

/* True when some sibling of kind k names party in its `to` lines. */
static bool sibling_to(const struct pl_rules_input *in, enum pl_record_kind k, const char *party)
{
	for (size_t i = 0; i < in->nsiblings; i++) {
		const struct pl_record *s = in->siblings[i];
		if (s->kind == k && pl_record_has_to(s, party))
			return true;
	}
	return false;
}

static bool is_via(const struct pl_record *send, const char *party)
{
	return (send->has & PL_RECORD_HAS_VIA) && strcmp(send->via, party) == 0;
}

/* The record must fall no later than the target's deadline, and no expire may have closed it. */
static bool within_deadline(const struct pl_rules_input *in, const struct pl_record *target,
                            struct verdict *v)
{
	if ((target->has & PL_RECORD_HAS_DEADLINE) && in->rec->time > target->deadline)
		return broke(v, PL_ERULE, "after the deadline");
	if (sibling_by(in, PL_KIND_EXPIRE, NULL) || sibling_by(in, PL_KIND_UNANSWERED, NULL))
		return broke(v, PL_ERULE, "the deadline has already been recorded as passed");
	return true;
}

/* True when rec's `to` lines are exactly the names of target's `to` for which keep() holds. */
static bool to_is_exactly(const struct pl_rules_input *in, const struct pl_record *target,
                          bool (*keep)(const struct pl_rules_input *, const char *))
{
	const struct pl_record *r = in->rec;
	size_t n = 0;

	for (size_t i = 0; i < target->nto; i++) {
		if (!keep(in, target->to[i]))
			continue;
		/* Both lists are sorted, so the kept names must match rec's in order. */
		if (n >= r->nto || strcmp(r->to[n], target->to[i]) != 0)
			return false;
		n++;
	}
	return n == r->nto;
}

static bool undecided(const struct pl_rules_input *in, const char *party)
{
	return !sibling_by(in, PL_KIND_ACCEPT, party) && !sibling_by(in, PL_KIND_REFUSE, party);
}

static bool unanswering(const struct pl_rules_input *in, const char *party)
{
	return !sibling_by(in, PL_KIND_ANSWER, party);
}

static bool any(const struct pl_rules_input *in, const char *party)
{
	(void)in;
	(void)party;
	return true;
}

static bool parties_active(const struct pl_rules_input *in, struct verdict *v)
{
	const struct pl_record *r = in->rec;

	if (!in->party_is_active)
		return true;
	for (size_t i = 0; i < r->nto; i++) {
		if (!in->party_is_active(in->arg, r->to[i]))
			return broke(v, PL_ERULE, "names a party that is not registered");
	}
	if ((r->has & PL_RECORD_HAS_VIA) && !in->party_is_active(in->arg, r->via))
		return broke(v, PL_ERULE, "names an intermediary that is not registered");
	return true;
}

/* The record rec's ref of this role names, or NULL. */
static const struct pl_record *ref_of(const struct pl_rules_input *in, enum pl_ref_role role)
{
	for (size_t i = 0; i < in->rec->nrefs; i++) {
		if (in->rec->refs[i].role == role)
			return in->refs[i];
	}
	return NULL;
}

/*
 * The refs a send or statement adds to what it says: the consultation it
 * follows (its author's own), and for a measure, another party's measure it
 * reciprocates.
 */
static bool rules_follows(const struct pl_rules_input *in, struct verdict *v)
{
	const struct pl_record *r = in->rec;
	const struct pl_record *c = ref_of(in, PL_ROLE_CONSULT);
	const struct pl_record *m = ref_of(in, PL_ROLE_RECIPROCATES);

	if (c && strcmp(c->author, r->author) != 0)
		return broke(v, PL_ERULE, "follows a consultation its author did not make");
	if (m && (!(m->has & PL_RECORD_HAS_CLASS) || m->cls != PL_CLASS_MEASURE))
		return broke(v, PL_ERULE, "reciprocates a statement that is not a measure");
	if (m && strcmp(m->author, r->author) == 0)
		return broke(v, PL_ERULE, "reciprocates its author's own measure");
	if (m && (m->has & PL_RECORD_HAS_STATE) && m->state == PL_MEASURE_ENDED)
		return broke(v, PL_ERULE, "reciprocates a measure that has ended");
	return true;
}

/*
 * A change of a measure's state (suspended, resumed, ended) is its author's,
 * names the measure's latest state, which no other change has changed, and
 * moves it on: announced or resumed to suspended or ended, suspended to
 * resumed or ended, ended to nothing.
 */
static bool rules_changes(const struct pl_rules_input *in, struct verdict *v)
{
	const struct pl_record *r = in->rec;
	const struct pl_record *m = ref_of(in, PL_ROLE_CHANGES);
	enum pl_measure_state from;

	if (!m)
		return true;
	from = (m->has & PL_RECORD_HAS_STATE) ? m->state : PL_MEASURE_ANNOUNCED;
	if (!(m->has & PL_RECORD_HAS_CLASS) || m->cls != PL_CLASS_MEASURE)
		return broke(v, PL_ERULE, "changes a statement that is not a measure");
	if (strcmp(m->author, r->author) != 0)
		return broke(v, PL_ERULE, "changes another party's measure");
	if (sibling_by(in, PL_KIND_STATEMENT, NULL))
		return broke(v, PL_ERULE,
		             "changes a state of the measure that was already changed");
	if (from == PL_MEASURE_ENDED)
		return broke(v, PL_ERULE, "changes a measure that has ended");
	if (r->state == PL_MEASURE_RESUMED && from != PL_MEASURE_SUSPENDED)
		return broke(v, PL_ERULE, "resumes a measure that is not suspended");
	if (r->state == PL_MEASURE_SUSPENDED && from == PL_MEASURE_SUSPENDED)
		return broke(v, PL_ERULE, "suspends a measure already suspended");
	return true;
}

/*
 * group: a first version (no ref) has its author among its members; a change
 * is by a member of the version it changes, keeps the group's name, and
 * changes a version no other change has (one history per group).
 */
static bool rules_group(const struct pl_rules_input *in, const struct pl_record *g,
                        struct verdict *v)
{
	const struct pl_record *r = in->rec;

	if (!parties_active(in, v))
		return false;
	if (!g) {
		if (!pl_record_has_to(r, r->author))
			return broke(v, PL_ERULE, "a group is created by one of its members");
		return true;
	}
	if (!pl_record_has_to(g, r->author))
		return broke(v, PL_ERULE, "only a member of a group changes it");
	if (strcmp(g->group, r->group) != 0)
		return broke(v, PL_ERULE, "a change keeps the group's name");
	if (sibling_by(in, PL_KIND_GROUP, NULL))
		return broke(v, PL_ERULE, "this version of the group was already changed");
	return true;
}

/* consult: one made in a group is by a member, to members of that version. */
static bool rules_consult(const struct pl_rules_input *in, struct verdict *v)
{
	const struct pl_record *r = in->rec;
	const struct pl_record *g = ref_of(in, PL_ROLE_GROUP);

	if (!parties_active(in, v))
		return false;
	if (!g)
		return true;
	if (!pl_record_has_to(g, r->author))
		return broke(v, PL_ERULE, "only a member consults in a group");
	for (size_t i = 0; i < r->nto; i++) {
		if (!pl_record_has_to(g, r->to[i]))
			return broke(v, PL_ERULE, "consults in a group a party not in it");
	}
	return true;
}

/* send: replies come from a party the answered send reached. */
static bool rules_send(const struct pl_rules_input *in, struct verdict *v)
{
	const struct pl_record *r = in->rec;
	const struct pl_record *s = ref_of(in, PL_ROLE_REPLY_TO);

	if (!parties_active(in, v) || !rules_follows(in, v))
		return false;
	if (s) {
		if (!pl_record_has_to(s, r->author) && !is_via(s, r->author))
			return broke(
			        v, PL_ERULE,
			        "a reply comes from a recipient or the intermediary of the send");
	}
	return true;
}

static bool rules_receive(const struct pl_rules_input *in, const struct pl_record *s,
                          struct verdict *v)
{
	const char *a = in->rec->author;

	if (!pl_record_has_to(s, a) && !is_via(s, a))
		return broke(v, PL_ERULE, "only the intermediary or a recipient receives");
	if (!sibling_to(in, PL_KIND_AVAILABLE, a))
		return broke(v, PL_ERULE, "the send was not made available to this party");
	if (sibling_by(in, PL_KIND_RECEIVE, a))
		return broke(v, PL_ERULE, "already received by this party");
	return true;
}

/* convey and decline: the intermediary's one decision. */
static bool rules_relay(const struct pl_rules_input *in, const struct pl_record *s,
                        struct verdict *v)
{
	const char *a = in->rec->author;

	if (!is_via(s, a))
		return broke(v, PL_ERULE, "only the send's intermediary conveys or declines");
	if (sibling_by(in, PL_KIND_CONVEY, NULL) || sibling_by(in, PL_KIND_DECLINE, NULL))
		return broke(v, PL_ERULE, "the send was already conveyed or declined");
	if (in->rec->kind == PL_KIND_CONVEY && !sibling_to(in, PL_KIND_AVAILABLE, a))
		return broke(v, PL_ERULE, "the send was not made available to the intermediary");
	return within_deadline(in, s, v);
}

/* accept and refuse: each recipient's one decision, on what was made available to it. */
static bool rules_decide(const struct pl_rules_input *in, const struct pl_record *s,
                         struct verdict *v)
{
	const char *a = in->rec->author;

	if (!pl_record_has_to(s, a))
		return broke(v, PL_ERULE, "only a recipient accepts or refuses");
	if (!sibling_to(in, PL_KIND_AVAILABLE, a))
		return broke(v, PL_ERULE, "the send was not made available to this recipient");
	if (!undecided(in, a))
		return broke(v, PL_ERULE, "this recipient already accepted or refused");
	return within_deadline(in, s, v);
}

static bool rules_available(const struct pl_rules_input *in, const struct pl_record *s,
                            struct verdict *v)
{
	const char *p = in->rec->to[0];

	if (!pl_record_has_to(s, p) && !is_via(s, p))
		return broke(v, PL_ERULE, "made available to a party the send does not name");
	if ((s->has & PL_RECORD_HAS_VIA) && !is_via(s, p) && !sibling_by(in, PL_KIND_CONVEY, NULL))
		return broke(v, PL_ERULE, "a relayed send reaches recipients only once conveyed");
	if (sibling_to(in, PL_KIND_AVAILABLE, p))
		return broke(v, PL_ERULE, "already made available to this party");
	return true;
}

/*
 * expire: after the deadline, once. If the intermediary never acted, it names
 * the intermediary and every recipient; otherwise exactly the recipients that
 * neither accepted nor refused.
 */
static bool rules_expire(const struct pl_rules_input *in, const struct pl_record *s,
                         struct verdict *v)
{
	const struct pl_record *r = in->rec;
	bool relayed = (s->has & PL_RECORD_HAS_VIA) != 0;
	bool stalled = relayed && !sibling_by(in, PL_KIND_CONVEY, NULL);

	if (!(s->has & PL_RECORD_HAS_DEADLINE))
		return broke(v, PL_ERULE, "the send has no deadline");
	if (r->time < s->deadline)
		return broke(v, PL_ERULE, "before the send's deadline");
	if (sibling_by(in, PL_KIND_EXPIRE, NULL))
		return broke(v, PL_ERULE, "the send already expired");
	if (relayed && sibling_by(in, PL_KIND_DECLINE, NULL))
		return broke(v, PL_ERULE, "the intermediary declined the send");
	if (stalled) {
		if (!(r->has & PL_RECORD_HAS_VIA) || strcmp(r->via, s->via) != 0 ||
		    !to_is_exactly(in, s, any))
			return broke(v, PL_ERULE,
			             "an unrelayed send expires for its intermediary and all "
			             "recipients");
		return true;
	}
	if (r->has & PL_RECORD_HAS_VIA)
		return broke(v, PL_ERULE, "the intermediary conveyed the send");
	if (!to_is_exactly(in, s, undecided))
		return broke(v, PL_ERULE, "expire must name exactly the undecided recipients");
	return true;
}

static bool rules_advise(const struct pl_rules_input *in, const struct pl_record *c,
                         struct verdict *v)
{
	const char *a = in->rec->author;

	if (!pl_record_has_to(c, a))
		return broke(v, PL_ERULE, "only a consulted party advises");
	if (sibling_by(in, PL_KIND_ADVISE, a))
		return broke(v, PL_ERULE, "this party already advised");
	if ((c->has & PL_RECORD_HAS_DEADLINE) && in->rec->time > c->deadline)
		return broke(v, PL_ERULE, "after the consult's deadline");
	return true;
}

static bool rules_answer(const struct pl_rules_input *in, const struct pl_record *k,
                         struct verdict *v)
{
	const char *a = in->rec->author;

	if (strcmp(in->rec->line, k->line) != 0)
		return broke(v, PL_ERULE, "line differs from the check's");
	if (!pl_record_has_to(k, a))
		return broke(v, PL_ERULE, "only an end of the line answers");
	if (sibling_by(in, PL_KIND_ANSWER, a))
		return broke(v, PL_ERULE, "this end already answered");
	return within_deadline(in, k, v);
}

static bool rules_unanswered(const struct pl_rules_input *in, const struct pl_record *k,
                             struct verdict *v)
{
	if (strcmp(in->rec->line, k->line) != 0)
		return broke(v, PL_ERULE, "line differs from the check's");
	if (in->rec->time < k->deadline)
		return broke(v, PL_ERULE, "before the check's deadline");
	if (sibling_by(in, PL_KIND_UNANSWERED, NULL))
		return broke(v, PL_ERULE, "the check was already recorded unanswered");
	if (!to_is_exactly(in, k, unanswering))
		return broke(v, PL_ERULE,
		             "unanswered must name exactly the ends that did not answer");
	return true;
}

/*
 * check and missed: the `previous` ref, when there is one (a record logged
 * before the chain began has none), names a check or missed of the same line.
 */
static bool rules_line_chain(const struct pl_rules_input *in, struct verdict *v)
{
	const struct pl_record *p = in->rec->nrefs ? in->refs[0] : NULL;

	if (p && p->kind != PL_KIND_CHECK && p->kind != PL_KIND_MISSED)
		return broke(v, PL_ERULE, "previous is not a check or missed");
	if (p && strcmp(p->line, in->rec->line) != 0)
		return broke(v, PL_ERULE, "previous is of another line");
	/* A missed asked no party: its ends need not be registered still. */
	return in->rec->kind == PL_KIND_MISSED || parties_active(in, v);
}

/*
 * register: every key is new, or an active key of the party that signs for the
 * new ones (rotation); a party holds at most PL_PARTY_MAX_KEYS; a party that
 * left returns with a `ref previous` to one of its registers, and only then.
 */
static bool rules_register(const struct pl_rules_input *in, struct verdict *v)
{
	const struct pl_record *r = in->rec;
	const struct pl_record *prev = r->nrefs ? in->refs[0] : NULL;
	size_t fresh = 0, held = 0;

	for (size_t i = 0; i < r->nkeys; i++) {
		if (in->keys[i] == PL_KEY_REVOKED)
			return broke(v, PL_ERULE,
			             "a key it registers was revoked, and never returns");
		if (in->keys[i] == PL_KEY_ACTIVE)
			held++;
		else
			fresh++;
	}
	if (fresh == 0)
		return broke(v, PL_ERULE, "a register brings no new key");
	if (in->party_keys > 0 && held == 0)
		return broke(
		        v, PL_ERULE,
		        "a new key of a registered party needs the signature of an active key");
	if (in->party_keys + fresh > PL_PARTY_MAX_KEYS)
		return broke(v, PL_ERULE, "a party holds at most 4 active keys");
	if (prev && in->party_keys > 0)
		return broke(v, PL_ERULE, "only a party with no active key returns");
	if (prev && strcmp(prev->party, r->party) != 0)
		return broke(v, PL_ERULE, "the previous register is another party's");
	if (!prev && in->party_known && in->party_keys == 0)
		return broke(v, PL_ERULE,
		             "a returning party's register refers to its previous one");
	return true;
}

/* revoke: every key is active; an eviction (with a reason, the exchange's alone) names all. */
static bool rules_revoke(const struct pl_rules_input *in, struct verdict *v)
{
	const struct pl_record *r = in->rec;

	for (size_t i = 0; i < r->nkeys; i++) {
		if (in->keys[i] != PL_KEY_ACTIVE)
			return broke(v, PL_ERULE, "a key it revokes is not active");
	}
	if ((r->has & PL_RECORD_HAS_REASON) && r->nkeys != in->party_keys)
		return broke(v, PL_ERULE, "an eviction revokes every active key of the party");
	return true;
}

/* Each ref names an earlier record of this exchange, of the kind its role requires. */
static bool refs_hold(const struct pl_rules_input *in, struct verdict *v)
{
	const struct pl_record *r = in->rec;

	for (size_t i = 0; i < r->nrefs; i++) {
		const struct pl_record *t = in->refs[i];
		enum pl_record_kind want = role_target_kind(r->refs[i].role, r->kind);
		if (!t)
			return broke(v, PL_ERULE, "refers to a record not in the log");
		if (strcmp(t->exchange, r->exchange) != 0)
			return broke(v, PL_ERULE, "refers to a record of another exchange");
		if (want && t->kind != want)
			return broke(v, PL_ERULE,
			             "refers to a record of the wrong kind for its role");
		if (t->kind == PL_KIND_INDEX)
			return broke(v, PL_ERULE,
			             "refers to an index record, which is in no thread");
		if (t->time > r->time)
			return broke(v, PL_ERULE, "refers to a record from a later time");
	}
	return true;
}

/* Siblings must all point at the same target as rec; anything else is a caller error. */
static bool siblings_fit(const struct pl_rules_input *in, enum pl_ref_role role, struct verdict *v)
{
	const struct pl_record_ref *mine = pl_record_ref_find(in->rec, role);

	for (size_t i = 0; i < in->nsiblings; i++) {
		const struct pl_record *s = in->siblings[i];
		const struct pl_record_ref *theirs = s ? pl_record_ref_find(s, role) : NULL;
		if (!theirs || memcmp(theirs->id, mine->id, PL_RECORD_ID_BYTES) != 0)
			return broke(v, PL_EINVAL, "a sibling does not refer to the same record");
	}
	return true;
}

static bool rules_kind(const struct pl_rules_input *in, struct verdict *v)
{
	const struct pl_record *t = in->rec->nrefs ? in->refs[0] : NULL;

	switch (in->rec->kind) {
	case PL_KIND_SEND:
		return rules_send(in, v);
	case PL_KIND_RECEIVE:
		return rules_receive(in, t, v);
	case PL_KIND_CONVEY:
	case PL_KIND_DECLINE:
		return rules_relay(in, t, v);
	case PL_KIND_ACCEPT:
	case PL_KIND_REFUSE:
		return rules_decide(in, t, v);
	case PL_KIND_CONSULT:
		return rules_consult(in, v);
	case PL_KIND_CHECK:
	case PL_KIND_MISSED:
		return rules_line_chain(in, v);
	case PL_KIND_ADVISE:
		return rules_advise(in, t, v);
	case PL_KIND_ANSWER:
		return rules_answer(in, t, v);
	case PL_KIND_AVAILABLE:
		return rules_available(in, t, v);
	case PL_KIND_EXPIRE:
		return rules_expire(in, t, v);
	case PL_KIND_UNANSWERED:
		return rules_unanswered(in, t, v);
	case PL_KIND_REGISTER:
		return rules_register(in, v);
	case PL_KIND_REVOKE:
		return rules_revoke(in, v);
	case PL_KIND_STATEMENT:
		return rules_follows(in, v) && rules_changes(in, v);
	case PL_KIND_GROUP:
		return rules_group(in, ref_of(in, PL_ROLE_GROUP), v);
	case PL_KIND_INDEX:
		/* Author and no refs are stateless (pl_record_open()); the root is the auditor's.
		 */
		return true;
	}
	return broke(v, PL_EINVAL, "unknown kind");
}

int pl_rules_check(const struct pl_rules_input *in, const char **why)
{
	struct verdict v = {PL_EINVAL, "incomplete rules input"};
	const struct pl_record *r = in ? in->rec : NULL;
	struct pl_chain_link link;
	enum pl_ref_role role;

	if (!r || !in->id || (r->nrefs && !in->refs) || (in->nsiblings && !in->siblings) ||
	    ((r->kind == PL_KIND_REGISTER || r->kind == PL_KIND_REVOKE) && r->nkeys && !in->keys))
		goto out;
	role = pl_record_target(r);
	if (role && !pl_record_ref_find(r, role))
		goto out;
	v.ret = 0;
	if (in->signer != PL_KEY_ACTIVE) {
		broke(&v, PL_ERULE,
		      in->signer == PL_KEY_REVOKED ? "signing key was revoked"
		                                   : "signing key was never registered");
		goto out;
	}
	pl_chain_link_set(&link, r, in->id);
	if (pl_chain_check_next(in->head, &link, &v.why) != 0) {
		v.ret = PL_ECHAIN;
		goto out;
	}
	if (!refs_hold(in, &v) || (role && !siblings_fit(in, role, &v)))
		goto out;
	rules_kind(in, &v);
out:
	if (v.ret != 0 && why)
		*why = v.why;
	return v.ret;
}
