/* Dossier report: the timeline and verdicts of a verified dossier, as text, HTML and JSON. */
#include <parley/dossier.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include <parley/box.h>
#include <parley/chain.h>
#include <parley/checkpoint.h>
#include <parley/cosignature.h>
#include <parley/directory.h>
#include <parley/html.h>
#include <parley/note.h>
#include <parley/replay.h>
#include <parley/rules.h>
#include <parley/timestamp.h>

#include "dossier_int.h"
#include "internal.h"

/* ---- The report: timeline and verdicts ----------------------------------------------- */

struct writer {
	struct pl_dossier_report *rep;
	const struct dossier *d;
	const size_t *thread;
	size_t nthread;
	size_t cap;
	int ret;
};

static void verdict(struct writer *w, enum pl_dossier_verdict_kind kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void verdict(struct writer *w, enum pl_dossier_verdict_kind kind, const char *fmt, ...)
{
	struct pl_dossier_report *r = w->rep;
	va_list ap;

	if (w->ret != 0)
		return;
	if (r->nverdicts == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		struct pl_dossier_verdict *v = realloc(r->verdicts, cap * sizeof(*v));
		if (!v) {
			w->ret = PL_ENOMEM;
			return;
		}
		r->verdicts = v;
		w->cap = cap;
	}
	r->verdicts[r->nverdicts].kind = kind;
	va_start(ap, fmt);
	vsnprintf(r->verdicts[r->nverdicts].text, sizeof(r->verdicts[0].text), fmt, ap);
	va_end(ap);
	r->nverdicts++;
}

/* What a record is called in a sentence: a send's class, else its kind. */
static const char *label(const struct pl_record *r)
{
	if (r->kind == PL_KIND_SEND && (r->has & PL_RECORD_HAS_CLASS))
		return pl_record_class_name(r->cls);
	return pl_record_kind_name(r->kind);
}

static void time_text(char out[static PL_TIMESTAMP_LEN + 1], int64_t t)
{
	if (pl_timestamp_format(out, t) != 0)
		memcpy(out, "(out of range)", sizeof("(out of range)"));
}

/* "a, b, c" of r's `to` lines. */
static void to_list(char *out, size_t n, const struct pl_record *r)
{
	size_t used = 0;

	out[0] = 0;
	for (size_t i = 0; i < r->nto && used < n; i++) {
		int k = snprintf(out + used, n - used, "%s%s", i ? ", " : "", r->to[i]);
		used += k > 0 ? (size_t)k : 0;
	}
}

/* How a record refers to the record it acts on: "it" for the subject, else "<kind> <id>…". */
static void target_text(char *out, size_t n, const struct writer *w, const uint8_t *id)
{
	size_t at = pl__dossier_find_id(w->d, id);
	char sid[ID_SHORT + sizeof(ELLIPSIS)];

	if (memcmp(id, w->d->subject, PL_RECORD_ID_BYTES) == 0) {
		snprintf(out, n, "it");
		return;
	}
	pl__dossier_id_short(sid, id);
	snprintf(out, n, "%s %s", at == NO_ENTRY ? "record" : label(w->d->e[at].rec), sid);
}

/*
 * What a statement cites, each by kind and short id ("it" for the subject),
 * e.g. "proposal 1a2b3c4d… and letter 5e6f7a8b…"; with indexes, each held
 * record's log index follows it ("(log #12)").
 */
static void cites_text(char *out, size_t n, const struct writer *w, const struct pl_record *r,
                       bool indexes)
{
	size_t used = 0, k = 0, ncites = 0;

	out[0] = 0;
	for (size_t i = 0; i < r->nrefs; i++)
		ncites += r->refs[i].role == PL_ROLE_CITES;
	for (size_t i = 0; i < r->nrefs && used < n; i++) {
		char one[96];
		size_t at = pl__dossier_find_id(w->d, r->refs[i].id);
		int len;
		if (r->refs[i].role != PL_ROLE_CITES)
			continue;
		target_text(one, sizeof(one), w, r->refs[i].id);
		len = snprintf(out + used, n - used, "%s%s",
		               k == 0            ? ""
		               : k + 1 == ncites ? " and "
		                                 : ", ",
		               one);
		used += len > 0 ? (size_t)len : 0;
		if (indexes && at != NO_ENTRY && used < n) {
			len = snprintf(out + used, n - used, " (log #%llu)",
			               (unsigned long long)w->d->e[at].index);
			used += len > 0 ? (size_t)len : 0;
		}
		k++;
	}
}

/* True when the thread holds a receive by party of the record with this id. */
static bool received_by(const struct writer *w, const uint8_t *id, const char *party)
{
	for (size_t t = 0; id && t < w->nthread; t++) {
		const struct pl_record *r = w->d->e[w->thread[t]].rec;
		const struct pl_record_ref *x = pl_record_ref_find(r, PL_ROLE_SUBJECT);
		if (r->kind == PL_KIND_RECEIVE && strcmp(r->author, party) == 0 && x &&
		    memcmp(x->id, id, PL_RECORD_ID_BYTES) == 0)
			return true;
	}
	return false;
}

/*
 * What the report knows of the thread around r, in words, for
 * pl_record_describe(): how the record it acts on or answers is named,
 * what a statement cites, whether an expired send's intermediary received
 * it. tgt, ans and cited are the buffers the words are written to.
 */
static void report_context(struct pl_describe_context *c, const struct writer *w,
                           const struct pl_record *r, char tgt[static 96], char ans[static 96],
                           char cited[static PL_DOSSIER_LINE_MAX / 2])
{
	const struct pl_record_ref *t = pl_record_ref_find(r, pl_record_kind_target(r->kind));
	const struct pl_record_ref *rt =
	        r->kind == PL_KIND_SEND ? pl_record_ref_find(r, PL_ROLE_REPLY_TO) : NULL;

	memset(c, 0, sizeof(*c));
	c->voice = PL_DESCRIBE_REPORT;
	tgt[0] = 0;
	cited[0] = 0;
	if (t)
		target_text(tgt, 96, w, t->id);
	if (rt) {
		target_text(ans, 96, w, rt->id);
		c->answering = ans;
	}
	if (r->kind == PL_KIND_STATEMENT)
		cites_text(cited, PL_DOSSIER_LINE_MAX / 2, w, r, false);
	if (r->kind == PL_KIND_EXPIRE && (r->has & PL_RECORD_HAS_VIA))
		c->via_received = received_by(w, t ? t->id : NULL, r->via);
	c->target = tgt;
	c->cited = cited;
}

/* The first thread record of kind by author (any author when NULL) acting on the subject. */
static size_t thread_find(const struct writer *w, enum pl_record_kind kind, const char *author)
{
	for (size_t t = 0; t < w->nthread; t++) {
		const struct pl_record *r = w->d->e[w->thread[t]].rec;
		const struct pl_record_ref *x = pl_record_ref_find(r, pl_record_kind_target(kind));
		if (r->kind == kind && (!author || strcmp(r->author, author) == 0) && x &&
		    memcmp(x->id, w->d->subject, PL_RECORD_ID_BYTES) == 0)
			return w->thread[t];
	}
	return NO_ENTRY;
}

/* How many window records party authored after position i. */
static size_t count_after(const struct writer *w, const char *party, size_t i)
{
	size_t n = 0;

	for (size_t k = i + 1; k < w->d->ne; k++)
		n += strcmp(w->d->e[k].rec->author, party) == 0;
	return n;
}

/* The words before " by <author>" for the kinds a referrer names by its author. */
static const struct {
	enum pl_record_kind kind;
	const char *verb;
} referrer_verbs[] = {
        {PL_KIND_RECEIVE, "received"}, {PL_KIND_CONVEY, "conveyed"}, {PL_KIND_DECLINE, "declined"},
        {PL_KIND_ACCEPT, "accepted"},  {PL_KIND_REFUSE, "refused"},  {PL_KIND_ADVISE, "advised"},
        {PL_KIND_ANSWER, "answered"},  {PL_KIND_SEND, "reply"},      {PL_KIND_STATEMENT, "cited"},
};

/* How one record that refers to the subject is named in a verdict: "received by unc". */
static void referrer_text(char *out, size_t n, const struct pl_record *r)
{
	char list[PL_RECORD_MAX_TO * (PL_RECORD_NAME_MAX + 2) + 1];

	switch (r->kind) {
	case PL_KIND_AVAILABLE:
		to_list(list, sizeof(list), r);
		snprintf(out, n, "available to %s", list);
		return;
	case PL_KIND_EXPIRE:
		snprintf(out, n, "expired");
		return;
	case PL_KIND_UNANSWERED:
		snprintf(out, n, "unanswered");
		return;
	default:
		break;
	}
	for (size_t i = 0; i < sizeof(referrer_verbs) / sizeof(referrer_verbs[0]); i++) {
		if (referrer_verbs[i].kind == r->kind) {
			snprintf(out, n, "%s by %s", referrer_verbs[i].verb, r->author);
			return;
		}
	}
	snprintf(out, n, "%s by %s", pl_record_kind_name(r->kind), r->author);
}

/* Items of the list of referrers a verdict names before it says how many more. */
#define REFERRERS_SHOWN 8

/*
 * The records the thread index lists under the subject, in words, in log
 * order: "available to unc, received by unc, expired". Returns their count.
 */
static size_t referrers(const struct writer *w, char *out, size_t n)
{
	const struct pl_tindex_proof *p = w->d->e[w->d->subject_pos].tproof;
	size_t used = 0;

	out[0] = 0;
	for (size_t k = 0; k < p->nentries && used < n; k++) {
		size_t at = pl__dossier_find_id(w->d, p->entries[k].id);
		char one[PL_RECORD_MAX_TO * (PL_RECORD_NAME_MAX + 2) + 32];
		int len;
		if (k == REFERRERS_SHOWN) {
			snprintf(out + used, n - used, " and %zu more", p->nentries - k);
			break;
		}
		/* check_index() found every listed record in the dossier. */
		referrer_text(one, sizeof(one), w->d->e[at].rec);
		len = snprintf(out + used, n - used, "%s%s", k ? ", " : "", one);
		used += len > 0 ? (size_t)len : 0;
	}
	return p->nentries;
}

/*
 * A proven absence in a version 2 dossier, resting on the subject's index
 * proof: "NOT <what>: no receive by <party> among the N records that refer
 * to it, up to checkpoint S" for a receive, else "NOT <what>: the thread
 * index at checkpoint S lists N records that refer to it (...), none a
 * <missing>".
 */
static void absent_indexed(struct writer *w, const char *what, const char *party,
                           const char *missing)
{
	char list[PL_DOSSIER_LINE_MAX / 2];
	size_t n = referrers(w, list, sizeof(list));
	unsigned long long size = (unsigned long long)w->rep->size;
	bool vowel = strchr("aeiou", missing[0]) != NULL;

	if (n == 0)
		verdict(w, PL_VERDICT_NOT_DONE,
		        "NOT %s: the thread index at checkpoint %llu lists no record that refers "
		        "to it",
		        what, size);
	else if (strcmp(missing, "receive") == 0)
		verdict(w, PL_VERDICT_NOT_DONE,
		        "NOT %s: no receive by %s among the %zu record%s that refer%s to it, up to "
		        "checkpoint %llu",
		        what, party, n, n == 1 ? "" : "s", n == 1 ? "s" : "", size);
	else
		/* Only the intermediary may convey: the others' acts name who. */
		verdict(w, PL_VERDICT_NOT_DONE,
		        "NOT %s: the thread index at checkpoint %llu lists %zu record%s that "
		        "refer%s to it (%s), none a%s %s%s%s",
		        what, size, n, n == 1 ? "" : "s", n == 1 ? "s" : "", list, vowel ? "n" : "",
		        missing, strcmp(missing, "convey or decline") == 0 ? "" : " by ",
		        strcmp(missing, "convey or decline") == 0 ? "" : party);
}

/*
 * A proven absence: "NOT <what>: <party>'s N records after <since>, up to
 * checkpoint S, include no <missing> of it" (version 1, from the window).
 */
static void absent(struct writer *w, const char *what, const char *party, size_t after,
                   const char *since, const char *missing)
{
	size_t n = count_after(w, party, after);
	unsigned long long size = (unsigned long long)w->rep->size;

	if (w->d->version == 2)
		absent_indexed(w, what, party, missing);
	else if (n == 0)
		verdict(w, PL_VERDICT_NOT_DONE,
		        "NOT %s: %s made no record %s, up to checkpoint %llu", what, party, since,
		        size);
	else
		verdict(w, PL_VERDICT_NOT_DONE,
		        "NOT %s: %s's %zu record%s %s, up to checkpoint %llu, include%s no %s of "
		        "it",
		        what, party, n, n == 1 ? "" : "s", since, size, n == 1 ? "s" : "", missing);
}

/* "<what> by <party> at <time> (log #i)" for the record at position i. */
static void done(struct writer *w, const char *what, size_t i, const char *extra)
{
	const struct dentry *e = &w->d->e[i];
	char ts[PL_TIMESTAMP_LEN + 1];

	time_text(ts, e->rec->time);
	verdict(w, PL_VERDICT_DONE, "%s by %s at %s (log #%llu)%s", what, e->rec->author, ts,
	        (unsigned long long)e->index, extra);
}

static void reason_text(char *out, size_t n, const struct pl_record *r)
{
	if (r->has & PL_RECORD_HAS_REASON)
		snprintf(out, n, ": reason \"%s\"", r->reason);
	else
		out[0] = 0;
}

/*
 * The verdicts of one party named by a send: received or not, then the one
 * of its two acts it took (yes: convey or accept; no: decline or refuse,
 * with its reason), or that it took neither (missing, e.g. "conveyed").
 */
static void verdicts_party(struct writer *w, const char *p, enum pl_record_kind yes,
                           const char *yes_word, enum pl_record_kind no, const char *no_word,
                           const char *missing, const char *acts)
{
	size_t a = w->d->subject_pos, got, act;
	char extra[PL_RECORD_REASON_MAX + 32];
	char what[PL_RECORD_NAME_MAX + 64];

	got = thread_find(w, PL_KIND_RECEIVE, p);
	if (got != NO_ENTRY) {
		done(w, "received", got, "");
	} else {
		snprintf(what, sizeof(what), "received by %s", p);
		absent(w, what, p, a, "after the send", "receive");
	}
	act = thread_find(w, yes, p);
	if (act != NO_ENTRY) {
		done(w, yes_word, act, "");
	} else if ((act = thread_find(w, no, p)) != NO_ENTRY) {
		reason_text(extra, sizeof(extra), w->d->e[act].rec);
		done(w, no_word, act, extra);
	} else {
		absent(w, missing, p, got != NO_ENTRY ? got : a,
		       got != NO_ENTRY ? "after receiving it" : "after the send", acts);
	}
}

/* The verdicts of a send: the intermediary's steps, each recipient's, the expiry. */
static void verdicts_send(struct writer *w, const struct pl_record *s)
{
	size_t act;

	if (s->has & PL_RECORD_HAS_VIA)
		verdicts_party(w, s->via, PL_KIND_CONVEY, "conveyed", PL_KIND_DECLINE, "declined",
		               "conveyed", "convey or decline");
	for (size_t k = 0; k < s->nto; k++) {
		char what[PL_RECORD_NAME_MAX + 64];
		snprintf(what, sizeof(what), "accepted or refused by %s", s->to[k]);
		verdicts_party(w, s->to[k], PL_KIND_ACCEPT, "accepted", PL_KIND_REFUSE, "refused",
		               what, "accept or refuse");
	}
	act = thread_find(w, PL_KIND_EXPIRE, NULL);
	if (act != NO_ENTRY) {
		const struct pl_record *x = w->d->e[act].rec;
		char ts[PL_TIMESTAMP_LEN + 1],
		        list[PL_RECORD_MAX_TO * (PL_RECORD_NAME_MAX + 2) + 1];
		time_text(ts, x->time);
		to_list(list, sizeof(list), x);
		verdict(w, PL_VERDICT_DONE,
		        "expired at %s (exchange, log #%llu): no decision by %s%s%s%s", ts,
		        (unsigned long long)w->d->e[act].index, list,
		        (x->has & PL_RECORD_HAS_VIA) ? "; " : "",
		        (x->has & PL_RECORD_HAS_VIA) ? x->via : "",
		        (x->has & PL_RECORD_HAS_VIA) ? " never conveyed or declined it" : "");
	}
}

/* Consult: each consulted party advised or not. Check: each end answered or not. */
static void verdicts_parties(struct writer *w, const struct pl_record *s, enum pl_record_kind act,
                             const char *verb, const char *since)
{
	for (size_t k = 0; k < s->nto; k++) {
		const char *p = s->to[k];
		char what[PL_RECORD_NAME_MAX + 64], extra[PL_RECORD_REASON_MAX + 64];
		size_t at = thread_find(w, act, p);
		if (at == NO_ENTRY) {
			snprintf(what, sizeof(what), "%s by %s", verb, p);
			absent(w, what, p, w->d->subject_pos, since, pl_record_kind_name(act));
			continue;
		}
		extra[0] = 0;
		if (act == PL_KIND_ADVISE) {
			const struct pl_record *r = w->d->e[at].rec;
			snprintf(extra, sizeof(extra), ": %s", pl_position_name(r->position));
			if (r->has & PL_RECORD_HAS_REASON) {
				size_t n = strlen(extra);
				snprintf(extra + n, sizeof(extra) - n, ", reason \"%s\"",
				         r->reason);
			}
		}
		done(w, verb, at, extra);
	}
}

/* The replies to the subject and the statements that cite the thread, in log order. */
static void verdicts_citations(struct writer *w)
{
	for (size_t t = 1; t < w->nthread; t++) {
		const struct dentry *e = &w->d->e[w->thread[t]];
		const struct pl_record *r = e->rec;
		const struct pl_record_ref *rt = pl_record_ref_find(r, PL_ROLE_REPLY_TO);
		char sid[ID_SHORT + sizeof(ELLIPSIS)], tgt[96];
		if (r->kind == PL_KIND_SEND && rt &&
		    memcmp(rt->id, w->d->subject, PL_RECORD_ID_BYTES) == 0) {
			pl__dossier_id_short(sid, e->id);
			verdict(w, PL_VERDICT_DONE, "reply by %s: %s %s (log #%llu)", r->author,
			        label(r), sid, (unsigned long long)e->index);
		}
		if (r->kind != PL_KIND_STATEMENT)
			continue;
		tgt[0] = 0;
		for (size_t k = 0; k < r->nrefs && strcmp(tgt, "it") != 0; k++) {
			size_t at = pl__dossier_find_id(w->d, r->refs[k].id);
			if (at != NO_ENTRY && w->d->e[at].thread)
				target_text(tgt, sizeof(tgt), w, r->refs[k].id);
		}
		verdict(w, PL_VERDICT_DONE, "%s by %s cites %s (log #%llu)",
		        r->cls == PL_CLASS_MEASURE ? "measure" : "statement", r->author, tgt,
		        (unsigned long long)e->index);
	}
}

static void verdicts_subject(struct writer *w)
{
	const struct dentry *e = &w->d->e[w->d->subject_pos];
	const struct pl_record *s = e->rec;
	char sid[ID_SHORT + sizeof(ELLIPSIS)], ts[PL_TIMESTAMP_LEN + 1], dl[PL_TIMESTAMP_LEN + 1];
	char list[PL_RECORD_MAX_TO * (PL_RECORD_NAME_MAX + 2) + 1];

	pl__dossier_id_short(sid, e->id);
	time_text(ts, s->time);
	to_list(list, sizeof(list), s);
	dl[0] = 0;
	if (s->has & PL_RECORD_HAS_DEADLINE)
		time_text(dl, s->deadline);
	switch (s->kind) {
	case PL_KIND_SEND:
		verdict(w, PL_VERDICT_DONE, "%s %s from %s to %s%s%s: submitted %s (log #%llu)%s%s",
		        label(s), sid, s->author, list, (s->has & PL_RECORD_HAS_VIA) ? " via " : "",
		        (s->has & PL_RECORD_HAS_VIA) ? s->via : "", ts,
		        (unsigned long long)e->index, dl[0] ? ", reply by " : "", dl);
		verdicts_send(w, s);
		break;
	case PL_KIND_CONSULT:
		verdict(w, PL_VERDICT_DONE,
		        "consult %s from %s to %s: submitted %s (log #%llu)%s%s", sid, s->author,
		        list, ts, (unsigned long long)e->index, dl[0] ? ", advice by " : "", dl);
		verdicts_parties(w, s, PL_KIND_ADVISE, "advised", "after the consult");
		break;
	case PL_KIND_CHECK:
		verdict(w, PL_VERDICT_DONE, "check %s of line %s with %s: made %s (log #%llu)%s%s",
		        sid, s->line, list, ts, (unsigned long long)e->index,
		        dl[0] ? ", answer by " : "", dl);
		verdicts_parties(w, s, PL_KIND_ANSWER, "answered", "after the check");
		break;
	default: {
		char cited[PL_DOSSIER_LINE_MAX / 2];
		cites_text(cited, sizeof(cited), w, s, true);
		verdict(w, PL_VERDICT_DONE, "%s %s by %s: made %s (log #%llu)%s%s",
		        pl_record_kind_name(s->kind), sid, s->author, ts,
		        (unsigned long long)e->index, cited[0] ? ", citing " : "", cited);
		break;
	}
	}
	verdicts_citations(w);
}

/* True for the text a person may be shown as is: UTF-8, no control or invisible character. */
static bool is_showable(const uint8_t *s, size_t n)
{
	if (!pl_utf8_is_valid((const char *)s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return false;
		/* C1 controls U+0080..U+009F: C2 80..C2 9F. */
		if (c == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return false;
		/* U+200E/F, U+202A..E, U+2028/9, U+2066..9: E2 80 8E/8F, E2 80 A8..AE, E2 81
		 * A6..A9. */
		if (c == 0xe2 && i + 2 < n) {
			uint8_t b = s[i + 1], x = s[i + 2];
			if (b == 0x80 && (x == 0x8e || x == 0x8f || (x >= 0xa8 && x <= 0xae)))
				return false;
			if (b == 0x81 && x >= 0xa6 && x <= 0xa9)
				return false;
		}
		/* U+FEFF: EF BB BF. */
		if (c == 0xef && i + 2 < n && s[i + 1] == 0xbb && s[i + 2] == 0xbf)
			return false;
	}
	return true;
}

static int report_disclosures(struct writer *w)
{
	const struct dossier *d = w->d;
	struct pl_dossier_report *r = w->rep;
	int ret = 0;

	if (d->ndisc == 0)
		goto out;
	r->disclosed = calloc(d->ndisc, sizeof(*r->disclosed));
	if (!r->disclosed) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < d->ndisc; i++, r->ndisclosed++) {
		const struct ddisc *c = &d->disc[i];
		const struct dentry *e = &d->e[pl__dossier_find_id(d, c->id)];
		struct pl_dossier_disclosed *x = &r->disclosed[i];
		char sid[ID_SHORT + sizeof(ELLIPSIS)];
		x->plaintext = malloc(c->len + 1);
		if (!x->plaintext) {
			ret = PL_ENOMEM;
			goto out;
		}
		memcpy(x->plaintext, c->plaintext, c->len + 1);
		x->len = c->len;
		memcpy(x->id, c->id, PL_RECORD_ID_BYTES);
		x->index = e->index;
		snprintf(x->author, sizeof(x->author), "%s", e->rec->author);
		x->is_text = is_showable(c->plaintext, c->len);
		pl__dossier_id_short(sid, c->id);
		verdict(w, PL_VERDICT_DISCLOSED,
		        "disclosed: the content of %s %s (%zu bytes) matches the commitment %s "
		        "signed (log #%llu)",
		        label(e->rec), sid, c->len, e->rec->author, (unsigned long long)e->index);
	}
out:
	return ret;
}

static int report_events(struct writer *w)
{
	struct pl_dossier_report *r = w->rep;
	struct pl_describe_context c;
	char tgt[96], ans[96], cited[PL_DOSSIER_LINE_MAX / 2];
	int ret = 0;

	r->events = calloc(w->nthread, sizeof(*r->events));
	if (!r->events) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (size_t t = 0; t < w->nthread; t++, r->nevents++) {
		const struct dentry *e = &w->d->e[w->thread[t]];
		struct pl_dossier_event *v = &r->events[t];
		v->index = e->index;
		memcpy(v->id, e->id, PL_RECORD_ID_BYTES);
		v->kind = e->rec->kind;
		snprintf(v->author, sizeof(v->author), "%s", e->rec->author);
		v->time = e->rec->time;
		v->contradicted = r->has_bound && e->rec->time > r->bound;
		v->rec = pl__dossier_record_trim(e->rec);
		if (!v->rec) {
			ret = PL_ENOMEM;
			goto out;
		}
		report_context(&c, w, e->rec, tgt, ans, cited);
		pl_record_describe(v->what, sizeof(v->what), e->rec, &c);
	}
out:
	return ret;
}

static int build_report(struct writer *w, const struct pl_checkpoint *cp, size_t nkeys,
                        size_t nwitnesses)
{
	const struct dossier *d = w->d;
	struct pl_dossier_report *r = w->rep;
	char id[PL_KEYID_BYTES * 2 + 1], ts[PL_TIMESTAMP_LEN + 1];
	size_t nwin = d->ne - d->nproven;

	snprintf(r->origin, sizeof(r->origin), "%s", d->origin);
	r->log_key = d->log_key;
	r->size = cp->size;
	memcpy(r->root, cp->root, PL_HASH_BYTES);
	r->start = d->start;
	memcpy(r->subject, d->subject, PL_RECORD_ID_BYTES);
	r->subject_kind = d->e[d->subject_pos].rec->kind;
	if (d->e[d->subject_pos].rec->has & PL_RECORD_HAS_CLASS)
		r->subject_class = d->e[d->subject_pos].rec->cls;
	pl_hex_encode(id, d->log_key.id, PL_KEYID_BYTES);
	w->ret = report_events(w);

	verdict(w, PL_VERDICT_BASIS,
	        "checkpoint: tree size %llu of %s, signed by the log key %s+%s",
	        (unsigned long long)cp->size, d->origin, d->log_key.name, id);
	if (!r->log_key_pinned)
		verdict(w, PL_VERDICT_FLAG,
		        "caution: no log key was given; the key named in the dossier was used, so "
		        "check that %s+%s is the exchange's key",
		        d->log_key.name, id);
	if (nwitnesses == 0)
		verdict(w, PL_VERDICT_BASIS, "witnesses: none given");
	else
		verdict(w, PL_VERDICT_BASIS,
		        "witnesses: %zu of the %zu given cosigned it (%zu required)",
		        r->witnesses_verified, nwitnesses, r->witnesses_required);
	if (d->version == 2)
		verdict(w, PL_VERDICT_BASIS,
		        "thread index: the index record at log #%llu, the last entry of checkpoint "
		        "%llu, commits to every record below it; its proofs list every record "
		        "that refers to the %zu record%s of the thread, and all are here",
		        (unsigned long long)d->e[d->ne - 1].index, (unsigned long long)cp->size,
		        w->nthread, w->nthread == 1 ? "" : "s");
	else if (nwin == 1)
		verdict(w, PL_VERDICT_BASIS,
		        "window: the 1 record from log #%llu (the %s) up to checkpoint %llu is "
		        "present and hashes to its root",
		        (unsigned long long)d->start, pl_record_kind_name(r->subject_kind),
		        (unsigned long long)cp->size);
	else
		verdict(w, PL_VERDICT_BASIS,
		        "window: all %zu records from log #%llu (the %s) up to checkpoint %llu are "
		        "present and hash to its root",
		        nwin, (unsigned long long)d->start, pl_record_kind_name(r->subject_kind),
		        (unsigned long long)cp->size);
	if (d->version == 2)
		verdict(w, PL_VERDICT_BASIS,
		        "checked: the signatures of %zu record%s by keys registered in the log, "
		        "the "
		        "inclusion of each in checkpoint %llu, the rules over the %zu record%s of "
		        "the thread",
		        d->ne, d->ne == 1 ? "" : "s", (unsigned long long)cp->size, w->nthread,
		        w->nthread == 1 ? "" : "s");
	else
		verdict(w, PL_VERDICT_BASIS,
		        "checked: the signatures of %zu record%s by keys registered in the log, "
		        "the chain%s of %zu key%s, the rules over the %zu record%s of the thread",
		        d->ne, d->ne == 1 ? "" : "s", nkeys == 1 ? "" : "s", nkeys,
		        nkeys == 1 ? "" : "s", w->nthread, w->nthread == 1 ? "" : "s");
	verdicts_subject(w);
	if (r->has_bound) {
		time_text(ts, r->bound);
		verdict(w, PL_VERDICT_TIME,
		        "existence: every record here existed by %s, when a witness first cosigned "
		        "checkpoint %llu",
		        ts, (unsigned long long)cp->size);
		for (size_t i = 0; i < d->ne; i++) {
			const struct pl_record *x = d->e[i].rec;
			char claim[PL_TIMESTAMP_LEN + 1];
			if (x->time <= r->bound)
				continue;
			time_text(claim, x->time);
			verdict(w, PL_VERDICT_FLAG,
			        "CONTRADICTED: %s claims %s for its %s (log #%llu), but the record "
			        "existed by %s",
			        x->author, claim, pl_record_kind_name(x->kind),
			        (unsigned long long)d->e[i].index, ts);
		}
	} else {
		verdict(w, PL_VERDICT_TIME,
		        "existence: no witness cosignature was verified; only the exchange's "
		        "checkpoint %llu vouches for when these records existed",
		        (unsigned long long)cp->size);
	}
	if (w->ret == 0)
		w->ret = report_disclosures(w);
	return w->ret;
}
int pl__dossier_report_build(struct pl_dossier_report *rep, const struct dossier *d,
                             const size_t *thread, size_t nthread, const struct pl_checkpoint *cp,
                             size_t nkeys, size_t nwitnesses)
{
	struct writer w = {0};

	w.rep = rep;
	w.d = d;
	w.thread = thread;
	w.nthread = nthread;
	return build_report(&w, cp, nkeys, nwitnesses);
}

/* The name of each verdict kind, in the JSON report and as the HTML page's class: one table. */
static const char *const verdict_names[] = {
        [PL_VERDICT_BASIS] = "basis",       [PL_VERDICT_DONE] = "done",
        [PL_VERDICT_NOT_DONE] = "not-done", [PL_VERDICT_TIME] = "time",
        [PL_VERDICT_FLAG] = "flag",         [PL_VERDICT_DISCLOSED] = "disclosed",
};

/* The name of verdict kind k, or otherwise for a kind that has none. */
static const char *verdict_name(enum pl_dossier_verdict_kind k, const char *otherwise)
{
	size_t i = (size_t)k;

	return i < sizeof(verdict_names) / sizeof(verdict_names[0]) && verdict_names[i]
	               ? verdict_names[i]
	               : otherwise;
}

/* ---- Text ---------------------------------------------------------------------------- */

/* What the dossier is about, e.g. "proposal 1a2b3c4d…": a send's class, else the kind. */
static void subject_text(char *out, size_t n, const struct pl_dossier_report *r)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	const char *what = pl_record_kind_name(r->subject_kind);

	if (r->subject_kind == PL_KIND_SEND && pl_record_class_name(r->subject_class))
		what = pl_record_class_name(r->subject_class);
	pl_record_id_format(hex, r->subject);
	snprintf(out, n, "%s %.8s" ELLIPSIS, what ? what : "record", hex);
}

/* Appends each line of s[0..n) to out, each preceded by prefix. */
static int add_lines(struct pl_buf *out, const char *prefix, const char *s, size_t n)
{
	size_t at = 0;
	int ret = 0;

	while (ret == 0 && at < n) {
		const char *nl = memchr(s + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - (s + at)) : n - at;
		ret = pl_buf_addf(out, "%s%.*s\n", prefix, (int)len, s + at);
		at += len + 1;
	}
	return ret;
}

int pl_dossier_render_text(const struct pl_dossier_report *r, struct pl_buf *out)
{
	char subj[96], root[PL_HASH_B64_LEN + 1], ts[PL_TIMESTAMP_LEN + 1];
	size_t width = 8, start = out->len;
	int ret;

	subject_text(subj, sizeof(subj), r);
	pl_b64_encode(root, r->root, PL_HASH_BYTES);
	for (size_t i = 0; i < r->nevents; i++) {
		size_t n = strlen(r->events[i].author);
		width = n > width ? n : width;
	}
	ret = pl_buf_addf(out,
	                  "Parley dossier (%s) on %s\n"
	                  "Log %s, checkpoint at tree size %llu, root %s\n\n"
	                  "Timeline (log order; each time is what its author claimed):\n",
	                  r->version, subj, r->origin, (unsigned long long)r->size, root);
	for (size_t i = 0; ret == 0 && i < r->nevents; i++) {
		const struct pl_dossier_event *e = &r->events[i];
		time_text(ts, e->time);
		ret = pl_buf_addf(out, "  #%-6llu %s  %-*s  %s%s\n", (unsigned long long)e->index,
		                  ts, (int)width, e->author, e->what,
		                  e->contradicted ? " [claimed time contradicted]" : "");
	}
	if (ret == 0)
		ret = pl_buf_adds(out, "\nVerdicts:\n");
	for (size_t i = 0; ret == 0 && i < r->nverdicts; i++)
		ret = pl_buf_addf(out, "  %s\n", r->verdicts[i].text);
	for (size_t i = 0; ret == 0 && i < r->ndisclosed; i++) {
		const struct pl_dossier_disclosed *x = &r->disclosed[i];
		char hex[PL_RECORD_ID_HEX_LEN + 1];
		if (i == 0)
			ret = pl_buf_adds(out, "\nDisclosed content:\n");
		pl_record_id_format(hex, x->id);
		if (ret == 0)
			ret = pl_buf_addf(out,
			                  "  %.8s" ELLIPSIS " by %s (log #%llu), %zu bytes%s\n",
			                  hex, x->author, (unsigned long long)x->index, x->len,
			                  x->is_text ? ":" : " (not text, not shown)");
		if (ret == 0 && x->is_text)
			ret = add_lines(out, "    | ", (const char *)x->plaintext, x->len);
	}
	if (ret != 0)
		out->len = start;
	return ret;
}

/* ---- HTML ------------------------------------------------------------------------------ */

/* The library's one HTML escaping (html.c), under the names this file has always used. */
static int add_escaped(struct pl_buf *out, const char *s, size_t n)
{
	return pl_html_escape(out, s, n);
}

static int add_esc(struct pl_buf *out, const char *s)
{
	return pl_html_escapes(out, s);
}

static const char css[] =
        "body{font:16px/1.5 Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#1a1a1a;background:#fdfdfb}"
        "h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;"
        "border-bottom:1px solid #ccc}"
        ".sub{color:#555;margin-top:0}"
        "code,.mono,td.log,td.time{font-family:Menlo,Consolas,monospace;font-size:.9rem}"
        "ul.verdicts{list-style:none;padding:0}"
        "ul.verdicts li{padding:.3rem .6rem;margin:.2rem 0;border-left:4px solid #bbb}"
        "li.done{border-color:#2a7a2a}li.not-done{border-color:#b03030;font-weight:bold}"
        "li.time{border-color:#2a5aa0}li.flag{border-color:#d08000;background:#fff4e0}"
        "li.disclosed{border-color:#6a3a9a}li.basis{color:#444}"
        "table{border-collapse:collapse;width:100%}"
        "th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;"
        "border-bottom:1px solid #e4e4e4}"
        "tr.contradicted td{background:#fff4e0}"
        "pre{white-space:pre-wrap;background:#f3f3ef;padding:.6rem;border:1px solid #ddd}"
        "dt{font-weight:bold}dd{margin:0 0 .6rem 0;word-break:break-all}"
        "footer{margin-top:3rem;color:#666;font-size:.85rem}";

static int html_head(struct pl_buf *out, const struct pl_dossier_report *r)
{
	char subj[96];
	int ret;

	subject_text(subj, sizeof(subj), r);
	ret = pl_buf_adds(out,
	                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
	                  "'none'; style-src 'unsafe-inline'\">\n"
	                  "<meta name=\"viewport\" content=\"width=device-width, "
	                  "initial-scale=1\">\n<title>Parley dossier: ");
	if (ret == 0)
		ret = add_esc(out, subj);
	if (ret == 0)
		ret = pl_buf_addf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	if (ret == 0)
		ret = pl_buf_adds(out, "<h1>Parley dossier</h1>\n<p class=\"sub\">");
	if (ret == 0)
		ret = add_esc(out, subj);
	if (ret == 0)
		ret = pl_buf_adds(out, " &mdash; log ");
	if (ret == 0)
		ret = add_esc(out, r->origin);
	if (ret == 0)
		ret = pl_buf_addf(out, ", checkpoint at tree size %llu</p>\n",
		                  (unsigned long long)r->size);
	return ret;
}

static int html_verdicts(struct pl_buf *out, const struct pl_dossier_report *r)
{
	int ret = pl_buf_adds(out, "<h2>Verdicts</h2>\n<ul class=\"verdicts\">\n");

	for (size_t i = 0; ret == 0 && i < r->nverdicts; i++) {
		ret = pl_buf_addf(out, "<li class=\"%s\">",
		                  verdict_name(r->verdicts[i].kind, "basis"));
		if (ret == 0)
			ret = add_esc(out, r->verdicts[i].text);
		if (ret == 0)
			ret = pl_buf_adds(out, "</li>\n");
	}
	if (ret == 0)
		ret = pl_buf_adds(out, "</ul>\n");
	return ret;
}

static int html_timeline(struct pl_buf *out, const struct pl_dossier_report *r)
{
	char ts[PL_TIMESTAMP_LEN + 1], hex[PL_RECORD_ID_HEX_LEN + 1];
	int ret = pl_buf_adds(out, "<h2>Timeline</h2>\n<p>In log order. Each time is what the "
	                           "record's author claimed.</p>\n<table>\n<thead><tr><th>log"
	                           "</th><th>claimed time</th><th>who</th><th>what</th></tr>"
	                           "</thead>\n<tbody>\n");

	for (size_t i = 0; ret == 0 && i < r->nevents; i++) {
		const struct pl_dossier_event *e = &r->events[i];
		time_text(ts, e->time);
		pl_record_id_format(hex, e->id);
		ret = pl_buf_addf(out,
		                  "<tr%s><td class=\"log\" title=\"%s\">#%llu</td>"
		                  "<td class=\"time\">%s</td><td>",
		                  e->contradicted ? " class=\"contradicted\"" : "", hex,
		                  (unsigned long long)e->index, ts);
		if (ret == 0)
			ret = add_esc(out, e->author);
		if (ret == 0)
			ret = pl_buf_adds(out, "</td><td>");
		if (ret == 0)
			ret = add_esc(out, e->what);
		if (ret == 0 && e->contradicted)
			ret = pl_buf_adds(out, " <strong>(claimed time contradicted)</strong>");
		if (ret == 0)
			ret = pl_buf_adds(out, "</td></tr>\n");
	}
	if (ret == 0)
		ret = pl_buf_adds(out, "</tbody>\n</table>\n");
	return ret;
}

static int html_disclosed(struct pl_buf *out, const struct pl_dossier_report *r)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int ret = 0;

	if (r->ndisclosed)
		ret = pl_buf_adds(out, "<h2>Disclosed content</h2>\n");
	for (size_t i = 0; ret == 0 && i < r->ndisclosed; i++) {
		const struct pl_dossier_disclosed *x = &r->disclosed[i];
		pl_record_id_format(hex, x->id);
		ret = pl_buf_addf(out, "<p><span class=\"mono\">%.8s" ELLIPSIS "</span> by ", hex);
		if (ret == 0)
			ret = add_esc(out, x->author);
		if (ret == 0)
			ret = pl_buf_addf(out, " (log #%llu), %zu bytes%s</p>\n",
			                  (unsigned long long)x->index, x->len,
			                  x->is_text ? ":" : " (not text, not shown)");
		if (ret == 0 && x->is_text) {
			ret = pl_buf_adds(out, "<pre>");
			if (ret == 0)
				ret = add_escaped(out, (const char *)x->plaintext, x->len);
			if (ret == 0)
				ret = pl_buf_adds(out, "</pre>\n");
		}
	}
	return ret;
}

/* Each witness whose cosignature was relied on: its verifier key and when it cosigned. */
static int html_witnesses(struct pl_buf *out, const struct pl_dossier_report *r)
{
	char ts[PL_TIMESTAMP_LEN + 1];
	struct pl_buf key;
	int ret = pl_buf_adds(out, "<dt>Witnesses</dt>");

	pl_buf_init(&key, PL_KEY_NAME_MAX + 128);
	if (ret == 0 && r->ncosigners == 0)
		ret = pl_buf_adds(out, "<dd>none verified: only the log key vouches for this "
		                       "checkpoint</dd>\n");
	for (size_t i = 0; ret == 0 && i < r->ncosigners; i++) {
		const struct pl_dossier_cosigner *c = &r->cosigners[i];
		pl_buf_reset(&key);
		time_text(ts, c->time);
		ret = pl_vkey_format(&c->key, &key);
		if (ret == 0)
			ret = pl_buf_adds(out, "<dd class=\"witness\"><span class=\"mono\">");
		if (ret == 0)
			ret = add_escaped(out, key.data, key.len);
		if (ret == 0)
			ret = pl_buf_addf(
			        out, "</span> cosigned at <span class=\"mono\">%s</span></dd>\n",
			        ts);
	}
	pl_buf_release(&key);
	return ret;
}

static int html_evidence(struct pl_buf *out, const struct pl_dossier_report *r)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1], root[PL_HASH_B64_LEN + 1], kid[PL_KEYID_BYTES * 2 + 1];
	int ret;

	pl_record_id_format(hex, r->subject);
	pl_b64_encode(root, r->root, PL_HASH_BYTES);
	pl_hex_encode(kid, r->log_key.id, PL_KEYID_BYTES);
	ret = pl_buf_adds(out, "<h2>Evidence</h2>\n<dl>\n<dt>Log</dt><dd class=\"mono\">");
	if (ret == 0)
		ret = add_esc(out, r->origin);
	if (ret == 0)
		ret = pl_buf_adds(out, "</dd>\n<dt>Log key</dt><dd class=\"mono\">");
	if (ret == 0)
		ret = add_esc(out, r->log_key.name);
	if (ret == 0)
		ret = pl_buf_addf(out, "+%s%s</dd>\n", kid,
		                  r->log_key_pinned ? "" : " (not given by the reader)");
	if (ret == 0)
		ret = html_witnesses(out, r);
	if (ret == 0)
		ret = pl_buf_addf(
		        out, "<dt>Checkpoint</dt><dd class=\"mono\">tree size %llu, root %s</dd>\n",
		        (unsigned long long)r->size, root);
	if (ret == 0 && r->indexed) {
		pl_b64_encode(root, r->index_root, PL_HASH_BYTES);
		ret = pl_buf_addf(out,
		                  "<dt>Thread index</dt><dd class=\"mono\">the index record at log "
		                  "#%llu, root %s</dd>\n",
		                  (unsigned long long)(r->size - 1), root);
	} else if (ret == 0) {
		ret = pl_buf_addf(out, "<dt>Window</dt><dd>log #%llu to #%llu, every entry</dd>\n",
		                  (unsigned long long)r->start, (unsigned long long)(r->size - 1));
	}
	if (ret == 0)
		ret = pl_buf_addf(out, "<dt>Subject</dt><dd class=\"mono\">%s</dd>\n</dl>\n", hex);
	if (ret == 0)
		ret = pl_buf_addf(
		        out,
		        "<footer>Verified offline from the dossier file alone against the "
		        "keys above (%s).</footer>\n</body>\n</html>\n",
		        r->version);
	return ret;
}

int pl_dossier_render_html(const struct pl_dossier_report *r, struct pl_buf *out)
{
	size_t start = out->len;
	int ret;

	ret = html_head(out, r);
	if (ret == 0)
		ret = html_verdicts(out, r);
	if (ret == 0)
		ret = html_timeline(out, r);
	if (ret == 0)
		ret = html_disclosed(out, r);
	if (ret == 0)
		ret = html_evidence(out, r);
	if (ret != 0)
		out->len = start;
	return ret;
}

int pl_dossier_render_failure_html(int err, const char *reason, struct pl_buf *out)
{
	bool evidence = pl_dossier_error_is_evidence(err);
	const char *what = evidence           ? "This dossier does not verify."
	                   : err == PL_EINVAL ? "This dossier cannot be checked with these keys."
	                   : err == PL_ENOMEM ? "This dossier cannot be checked: out of memory."
	                                      : "This file is not a well-formed dossier.";
	size_t start = out->len;
	int ret;

	ret = pl_buf_addf(out,
	                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
	                  "'none'; style-src 'unsafe-inline'\">\n"
	                  "<title>Parley dossier: does not verify</title>\n<style>%s"
	                  ".refused{border-left:6px solid #b03030;padding:.6rem 1rem;"
	                  "background:#fbeaea}</style>\n</head>\n<body>\n<h1>Parley dossier</h1>\n"
	                  "<div class=\"refused\" id=\"pl-refused\" data-evidence=\"%s\">"
	                  "<p><strong>%s</strong></p>\n<p>Reason: <span class=\"reason\">",
	                  css, evidence ? "yes" : "no", what);
	if (ret == 0)
		ret = add_esc(out, reason && reason[0] ? reason : pl_strerror(err));
	if (ret == 0)
		ret = pl_buf_addf(out, "</span> (%s)</p></div>\n</body>\n</html>\n",
		                  pl_strerror(err));
	if (ret != 0)
		out->len = start;
	return ret;
}

/* ---- JSON ---------------------------------------------------------------------------- */

/* A JSON string of a time, or null when it cannot be written as one. */
static json_t *json_time(int64_t t)
{
	char s[PL_TIMESTAMP_LEN + 1];

	return pl_timestamp_format(s, t) == 0 ? json_string(s) : json_null();
}

/* Sets key of o to v, which it takes; false when v is NULL or o cannot take it. */
static bool json_put(json_t *o, const char *key, json_t *v)
{
	return v && json_object_set_new(o, key, v) == 0;
}

static json_t *json_events(const struct pl_dossier_report *r)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	json_t *a = json_array();
	bool ok = a != NULL;

	for (size_t i = 0; ok && i < r->nevents; i++) {
		const struct pl_dossier_event *x = &r->events[i];
		json_t *o = json_object();
		const char *kind = pl_record_kind_name(x->kind);
		pl_record_id_format(hex, x->id);
		ok = o && json_array_append_new(a, o) == 0;
		ok = ok && json_put(o, "index", json_integer((json_int_t)x->index));
		ok = ok && json_put(o, "id", json_string(hex));
		ok = ok && json_put(o, "kind", kind ? json_string(kind) : json_null());
		ok = ok && json_put(o, "author", json_string(x->author));
		ok = ok && json_put(o, "time", json_time(x->time));
		ok = ok && json_put(o, "contradicted", json_boolean(x->contradicted));
		ok = ok && json_put(o, "what", json_string(x->what));
	}
	if (!ok) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

static json_t *json_verdicts(const struct pl_dossier_report *r)
{
	json_t *a = json_array();
	bool ok = a != NULL;

	for (size_t i = 0; ok && i < r->nverdicts; i++) {
		json_t *o = json_object();
		ok = o && json_array_append_new(a, o) == 0;
		ok = ok &&
		     json_put(o, "kind", json_string(verdict_name(r->verdicts[i].kind, "other")));
		ok = ok && json_put(o, "text", json_string(r->verdicts[i].text));
	}
	if (!ok) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

static json_t *json_disclosed(const struct pl_dossier_report *r)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	struct pl_buf b64;
	json_t *a = json_array();
	bool ok = a != NULL;

	pl_buf_init(&b64, PL_B64_LEN(PL_BOX_MAX_BODY));
	for (size_t i = 0; ok && i < r->ndisclosed; i++) {
		const struct pl_dossier_disclosed *x = &r->disclosed[i];
		json_t *o = json_object();
		pl_record_id_format(hex, x->id);
		pl_buf_reset(&b64);
		ok = o && json_array_append_new(a, o) == 0;
		ok = ok && json_put(o, "record", json_string(hex));
		ok = ok && json_put(o, "index", json_integer((json_int_t)x->index));
		ok = ok && json_put(o, "author", json_string(x->author));
		ok = ok && json_put(o, "bytes", json_integer((json_int_t)x->len));
		/* Text as text; anything else in base64 only, so no reader mistakes it for text. */
		ok = ok && json_put(o, "text",
		                    x->is_text ? json_stringn((const char *)x->plaintext, x->len)
		                               : json_null());
		ok = ok && pl_b64_append(&b64, x->plaintext, x->len) == 0;
		ok = ok && json_put(o, "base64", json_stringn(b64.data ? b64.data : "", b64.len));
	}
	pl_buf_release(&b64);
	if (!ok) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

/* The witnesses relied on: each one's verifier key and when it cosigned. */
static json_t *json_cosigners(const struct pl_dossier_report *r)
{
	struct pl_buf key;
	json_t *a = json_array();
	bool ok = a != NULL;

	pl_buf_init(&key, 1024);
	for (size_t i = 0; ok && i < r->ncosigners; i++) {
		json_t *o = json_object();
		pl_buf_reset(&key);
		ok = o && json_array_append_new(a, o) == 0;
		ok = ok && pl_vkey_format(&r->cosigners[i].key, &key) == 0;
		ok = ok && json_put(o, "key", json_stringn(key.data, key.len));
		ok = ok && json_put(o, "time", json_time(r->cosigners[i].time));
	}
	pl_buf_release(&key);
	if (!ok) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

int pl_dossier_render_json(const struct pl_dossier_report *r, struct pl_buf *out)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1], root[PL_HASH_B64_LEN + 1];
	const char *kind = pl_record_kind_name(r->subject_kind);
	const char *cls = r->subject_class ? pl_record_class_name(r->subject_class) : NULL;
	struct pl_buf key;
	json_t *o = json_object(), *w = json_object();
	char *text = NULL;
	bool ok = o && w;
	size_t len0 = out->len;
	int ret = PL_ENOMEM;

	pl_buf_init(&key, 1024);
	pl_record_id_format(hex, r->subject);
	pl_b64_encode(root, r->root, PL_HASH_BYTES);
	ok = ok && pl_vkey_format(&r->log_key, &key) == 0;
	ok = ok && json_put(o, "verifies", json_true());
	ok = ok && json_put(o, "version", json_string(r->version));
	ok = ok && json_put(o, "origin", json_string(r->origin));
	ok = ok && json_put(o, "log_key", json_stringn(key.data ? key.data : "", key.len));
	ok = ok && json_put(o, "log_key_pinned", json_boolean(r->log_key_pinned));
	ok = ok && json_put(o, "size", json_integer((json_int_t)r->size));
	ok = ok && json_put(o, "root", json_string(root));
	if (r->indexed) {
		pl_b64_encode(root, r->index_root, PL_HASH_BYTES);
		ok = ok && json_put(o, "index_root", json_string(root));
	}
	ok = ok && json_put(o, "start", json_integer((json_int_t)r->start));
	ok = ok && json_put(o, "subject", json_string(hex));
	ok = ok && json_put(o, "subject_kind", kind ? json_string(kind) : json_null());
	ok = ok && json_put(o, "subject_class", cls ? json_string(cls) : json_null());
	ok = ok && json_put(w, "required", json_integer((json_int_t)r->witnesses_required));
	ok = ok && json_put(w, "verified", json_integer((json_int_t)r->witnesses_verified));
	ok = ok && json_put(w, "cosigners", json_cosigners(r));
	ok = ok && json_object_set(o, "witnesses", w) == 0;
	ok = ok && json_put(o, "existed_by", r->has_bound ? json_time(r->bound) : json_null());
	ok = ok && json_put(o, "events", json_events(r));
	ok = ok && json_put(o, "verdicts", json_verdicts(r));
	ok = ok && json_put(o, "disclosed", json_disclosed(r));
	text = ok ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (!text)
		goto out;
	ret = pl_buf_adds(out, text);
	if (ret == 0)
		ret = pl_buf_add(out, "\n", 1);
	if (ret)
		out->len = len0;
out:
	free(text);
	json_decref(w);
	json_decref(o);
	pl_buf_release(&key);
	return ret;
}
