/* A message's timeline: which record each one acts on, what each did, and where the message stands.
 */
#include <parley/timeline.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <parley/timestamp.h>

#include "banned.h"

static const struct pl_timeline_item *find_id(const struct pl_timeline *t, const uint8_t *id)
{
	for (size_t i = 0; i < t->n; i++) {
		if (memcmp(t->v[i].id, id, PL_RECORD_ID_BYTES) == 0)
			return &t->v[i];
	}
	return NULL;
}

/* The record of the thread that x acts on, answers or cites first: its one target. */
static const struct pl_timeline_item *find_target(const struct pl_timeline *t,
                                                  const struct pl_timeline_item *x)
{
	static const enum pl_ref_role order[] = {PL_ROLE_SUBJECT, PL_ROLE_CONSULT, PL_ROLE_CHECK,
	                                         PL_ROLE_REPLY_TO, PL_ROLE_CITES};
	const struct pl_record *r = x->rec;

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (size_t i = 0; i < r->nrefs; i++) {
			const struct pl_timeline_item *hit;
			if (r->refs[i].role != order[k])
				continue;
			hit = find_id(t, r->refs[i].id);
			if (hit && hit != x)
				return hit;
		}
	}
	return NULL;
}

static void time_text(char out[static PL_TIMESTAMP_LEN + 1], int64_t when)
{
	if (pl_timestamp_format(out, when) != 0)
		snprintf(out, PL_TIMESTAMP_LEN + 1, "%s", "(out of range)");
}

/* "kpa", "kpa and unc", "a, b and c". */
static void name_list(char *out, size_t n, const char (*names)[PL_RECORD_NAME_MAX + 1], size_t k)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < k && at < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == k ? " and " : ", ";
		int w = snprintf(out + at, n - at, "%s%s", sep, names[i]);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

/* How the timeline names a record: "it" for the subject, else by kind and short id. */
void pl_timeline_name(char *out, size_t n, const struct pl_timeline *t,
                      const struct pl_timeline_item *x)
{
	const struct pl_record *r;

	if (!x || x == t->subject) {
		snprintf(out, n, "it");
		return;
	}
	r = x->rec;
	if (r->kind == PL_KIND_SEND && pl_record_ref_find(r, PL_ROLE_REPLY_TO))
		snprintf(out, n, "the reply %.8s", x->hex);
	else if (r->kind == PL_KIND_SEND && (r->has & PL_RECORD_HAS_CLASS))
		snprintf(out, n, "the %s %.8s", pl_record_class_name(r->cls), x->hex);
	else
		snprintf(out, n, "the %s %.8s", pl_record_kind_name(r->kind), x->hex);
}

/* The sentence of one event, from the record and the thread record it is about. */
static void event_what(const struct pl_timeline *t, struct pl_timeline_item *x)
{
	const struct pl_record *r = x->rec;
	struct pl_describe_context c;
	char tgt[64];

	pl_timeline_name(tgt, sizeof(tgt), t, x->target);
	memset(&c, 0, sizeof(c));
	c.voice = PL_DESCRIBE_THREAD;
	c.target = tgt;
	c.target_rec = x->target ? x->target->rec : NULL;
	if (r->kind == PL_KIND_SEND && pl_record_ref_find(r, PL_ROLE_REPLY_TO) && x->target)
		c.answering = tgt;
	/* The subject cites records outside its thread: name them, not "it". */
	c.cited = x == t->subject ? t->cited : x->target ? tgt : "";
	pl_record_describe(x->what, sizeof(x->what), r, &c);
}

/* ---- Status ---- */

/* The first record about the subject of kind k, by author (any when NULL), naming to (any). */
static const struct pl_timeline_item *act(const struct pl_timeline *t, enum pl_record_kind k,
                                          const char *author, const char *to)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct pl_timeline_item *x = &t->v[i];
		const struct pl_record *r = x->rec;
		if (x->target != t->subject || r->kind != k)
			continue;
		if (author && strcmp(r->author, author) != 0)
			continue;
		if (to && !pl_record_has_to(r, to))
			continue;
		return x;
	}
	return NULL;
}

/* Counts the replies to the subject and the statements that cite it. */
static void count_answers(const struct pl_timeline *t, size_t *replies, size_t *cites)
{
	*replies = 0;
	*cites = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct pl_timeline_item *x = &t->v[i];
		const struct pl_record *r = x->rec;
		if (x->target != t->subject)
			continue;
		if (r->kind == PL_KIND_SEND)
			(*replies)++;
		if (r->kind == PL_KIND_STATEMENT)
			(*cites)++;
	}
}

static int add_part(struct pl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends "; " and a formatted part (no separator for the first). */
static int add_part(struct pl_buf *b, const char *fmt, ...)
{
	char part[PL_TIMELINE_WHAT_MAX];
	va_list ap;
	int ret = 0;

	va_start(ap, fmt);
	vsnprintf(part, sizeof(part), fmt, ap);
	va_end(ap);
	if (b->len > 0)
		ret = pl_buf_adds(b, "; ");
	if (ret == 0)
		ret = pl_buf_adds(b, part);
	return ret;
}

/*
 * How far a send got towards party p: received, made available, or
 * neither. An intermediary receives the sealed message, which it may not
 * be able to read: "received (sealed) by unc".
 */
static void reached_text(char *out, size_t n, const struct pl_timeline *t, const char *p)
{
	const struct pl_record *s = t->subject->rec;
	bool via = (s->has & PL_RECORD_HAS_VIA) && strcmp(s->via, p) == 0;

	if (act(t, PL_KIND_RECEIVE, p, NULL))
		snprintf(out, n, "received%s by %s", via ? " (sealed)" : "", p);
	else if (act(t, PL_KIND_AVAILABLE, NULL, p))
		snprintf(out, n, "made available to %s (not received)", p);
	else
		snprintf(out, n, "not made available to %s", p);
}

/* Where one recipient stands once the send could reach it. */
static int recipient_status(const struct pl_timeline *t, struct pl_buf *b, const char *p,
                            const struct pl_timeline_item *expired)
{
	const struct pl_timeline_item *x;
	char reached[128], when[PL_TIMESTAMP_LEN + 1];

	if ((x = act(t, PL_KIND_ACCEPT, p, NULL)))
		return add_part(b, "accepted by %s", p);
	if ((x = act(t, PL_KIND_REFUSE, p, NULL)))
		return (x->rec->has & PL_RECORD_HAS_REASON)
		               ? add_part(b, "refused by %s: \"%s\"", p, x->rec->reason)
		               : add_part(b, "refused by %s", p);
	reached_text(reached, sizeof(reached), t, p);
	if (expired && pl_record_has_to(expired->rec, p)) {
		time_text(when, expired->rec->time);
		return add_part(b, "%s, neither accepted nor refused: expired at %s", reached,
		                when);
	}
	return add_part(b, "%s, no decision yet", reached);
}

static int send_status(const struct pl_timeline *t, struct pl_buf *b)
{
	const struct pl_record *s = t->subject->rec;
	const struct pl_timeline_item *expired = act(t, PL_KIND_EXPIRE, NULL, NULL);
	const struct pl_timeline_item *x;
	bool overdue = (s->has & PL_RECORD_HAS_DEADLINE) && t->now > s->deadline;
	char list[PL_TIMELINE_LIST_MAX], reached[128], when[PL_TIMESTAMP_LEN + 1];
	int ret = 0;

	name_list(list, sizeof(list), s->to, s->nto);
	if (s->has & PL_RECORD_HAS_VIA) {
		const char *via = s->via;
		reached_text(reached, sizeof(reached), t, via);
		if ((x = act(t, PL_KIND_DECLINE, via, NULL))) {
			ret = add_part(b, "%s, declined: \"%s\"", reached, x->rec->reason);
			if (ret == 0)
				ret = add_part(b, "never made available to %s", list);
			goto out;
		}
		if (!act(t, PL_KIND_CONVEY, via, NULL)) {
			if (expired) {
				time_text(when, expired->rec->time);
				ret = add_part(b, "%s, never conveyed to %s: expired at %s",
				               reached, list, when);
			} else if (overdue) {
				time_text(when, s->deadline);
				ret = add_part(
				        b,
				        "%s, not conveyed to %s by the deadline %s (expiry not "
				        "yet recorded)",
				        reached, list, when);
			} else {
				ret = add_part(b, "%s, not yet conveyed to %s", reached, list);
			}
			goto out;
		}
		ret = add_part(b, "conveyed by %s", via);
	}
	for (size_t i = 0; ret == 0 && i < s->nto; i++)
		ret = recipient_status(t, b, s->to[i], expired);
	if (ret == 0 && overdue && !expired && s->nto > 0) {
		bool open = false;
		for (size_t i = 0; i < s->nto; i++)
			open = open || (!act(t, PL_KIND_ACCEPT, s->to[i], NULL) &&
			                !act(t, PL_KIND_REFUSE, s->to[i], NULL));
		if (open)
			ret = add_part(b, "deadline passed (expiry not yet recorded)");
	}
out:
	return ret;
}

static int consult_status(const struct pl_timeline *t, struct pl_buf *b)
{
	const struct pl_record *c = t->subject->rec;
	bool overdue = (c->has & PL_RECORD_HAS_DEADLINE) && t->now > c->deadline;
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < c->nto; i++) {
		const struct pl_timeline_item *x = act(t, PL_KIND_ADVISE, c->to[i], NULL);
		if (x)
			ret = add_part(b, "%s advised %s", c->to[i],
			               pl_position_name(x->rec->position));
		else
			ret = add_part(b, "%s %s", c->to[i],
			               overdue ? "gave no advice before the deadline"
			                       : "has not advised yet");
	}
	return ret;
}

/* The one status line: where the subject stands as of the checkpoint. */
int pl_timeline_status(const struct pl_timeline *t, struct pl_buf *b)
{
	const struct pl_record *r = t->subject->rec;
	size_t replies, cites;
	int ret = 0;

	switch (r->kind) {
	case PL_KIND_SEND:
		ret = send_status(t, b);
		break;
	case PL_KIND_CONSULT:
		ret = consult_status(t, b);
		break;
	case PL_KIND_STATEMENT:
		ret = add_part(b, "public %s by %s",
		               (r->has & PL_RECORD_HAS_CLASS) && r->cls == PL_CLASS_MEASURE
		                       ? "measure"
		                       : "statement",
		               r->author);
		break;
	default:
		ret = add_part(b, "%s by %s", pl_record_kind_name(r->kind), r->author);
		break;
	}
	count_answers(t, &replies, &cites);
	if (ret == 0 && replies)
		ret = add_part(b, "%zu %s", replies, replies == 1 ? "reply" : "replies");
	if (ret == 0 && cites == 0)
		ret = add_part(b, "no public statement cites it");
	else if (ret == 0)
		ret = add_part(b, "%zu public statement%s cite%s it", cites, cites == 1 ? "" : "s",
		               cites == 1 ? "s" : "");
	return ret;
}

int pl_timeline_link(struct pl_timeline *t, const uint8_t subject[static PL_RECORD_ID_BYTES])
{
	t->subject = find_id(t, subject);
	if (!t->subject)
		return PL_ENOTFOUND;
	for (size_t i = 0; i < t->n; i++)
		t->v[i].target = &t->v[i] == t->subject ? NULL : find_target(t, &t->v[i]);
	return 0;
}

void pl_timeline_cite(struct pl_timeline *t, const char *name, size_t k, size_t ncites)
{
	size_t used = strlen(t->cited);

	if (used + 1 < sizeof(t->cited))
		snprintf(t->cited + used, sizeof(t->cited) - used, "%s%s",
		         k == 0            ? ""
		         : k + 1 == ncites ? " and "
		                           : ", ",
		         name);
}

void pl_timeline_describe(struct pl_timeline *t)
{
	for (size_t i = 0; i < t->n; i++)
		event_what(t, &t->v[i]);
}
