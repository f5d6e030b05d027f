/* The one describer of a record: its timeline sentence, in a report's or a thread's words. */
#include <parley/record.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <parley/timestamp.h>

#include "banned.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */
/* Bytes of a statement's first line quoted: in a report, in a thread. */
#define REPORT_QUOTE_MAX 200
#define THREAD_QUOTE_MAX 72
/* Bytes of the names of `to`, listed, and of a send's own words in a thread. */
#define LIST_MAX 1100
#define SEND_MAX 1280

/* snprintf() for descriptions, where a cut at n bytes is the intended bound. */
static void say(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* Appends to out[0..n) what say() would write, after what is there. */
static void say_more(char *out, size_t n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void say_more(char *out, size_t n, const char *fmt, ...)
{
	size_t k = strlen(out);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out + k, n - k, fmt, ap);
	va_end(ap);
}

static void time_text(char out[static PL_TIMESTAMP_LEN + 1], int64_t t)
{
	if (pl_timestamp_format(out, t) != 0)
		memcpy(out, "(out of range)", sizeof("(out of range)"));
}

/* The names of r's `to` lines: "a, b, c" in a report, "a, b and c" in a thread. */
static void names_list(char *out, size_t n, const char (*names)[PL_RECORD_NAME_MAX + 1],
                       size_t count, enum pl_describe_voice v)
{
	size_t used = 0;

	out[0] = 0;
	for (size_t i = 0; i < count && used < n; i++) {
		const char *sep = i == 0                                      ? ""
		                  : v == PL_DESCRIBE_THREAD && i + 1 == count ? " and "
		                                                              : ", ";
		int k = snprintf(out + used, n - used, "%s%s", sep, names[i]);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

static void to_list(char *out, size_t n, const struct pl_record *r, enum pl_describe_voice v)
{
	names_list(out, n, r->to, r->nto < PL_RECORD_MAX_TO ? r->nto : PL_RECORD_MAX_TO, v);
}

/*
 * The first line of r's public body, quoted. A report cuts it at 200 bytes
 * and marks only the cut; a thread cuts it at 72 and marks any line left
 * out too. Cuts fall on a character boundary.
 */
static void quote(char *out, size_t n, const struct pl_record *r, enum pl_describe_voice v)
{
	size_t len = 0, max = v == PL_DESCRIBE_THREAD ? THREAD_QUOTE_MAX : REPORT_QUOTE_MAX;
	bool cut = false;

	if (v == PL_DESCRIBE_THREAD && !(r->has & PL_RECORD_HAS_BODY)) {
		say(out, n, "%s", "");
		return;
	}
	while (len < r->body_len && r->body[len] != '\n')
		len++;
	if (len > max) {
		len = v == PL_DESCRIBE_THREAD ? max : max - (sizeof(ELLIPSIS) - 1);
		while (len > 0 && ((unsigned char)r->body[len] & 0xc0) == 0x80)
			len--;
		cut = true;
	} else if (v == PL_DESCRIBE_THREAD && len + 1 < r->body_len) {
		cut = true; /* more lines follow */
	}
	say(out, n, "\"%.*s%s\"", (int)len, r->body, cut ? ELLIPSIS : "");
}

/* What a record is called in a sentence: a send's class, else its kind (a thread: "message"). */
static const char *label(const struct pl_record *r, enum pl_describe_voice v)
{
	const char *c = NULL;

	if (r->kind == PL_KIND_SEND && (r->has & PL_RECORD_HAS_CLASS))
		c = pl_record_class_name(r->cls);
	if (!c)
		c = v == PL_DESCRIBE_THREAD ? "message" : pl_record_kind_name(r->kind);
	return c;
}

/* A send: "sent a proposal to kpa via unc, reply by T", or a reply "replied with ...". */
static void describe_send(char *out, size_t n, const struct pl_record *r,
                          const struct pl_describe_context *c, const char *list)
{
	char when[PL_TIMESTAMP_LEN + 1], sub[SEND_MAX];
	bool thread = c->voice == PL_DESCRIBE_THREAD;
	/* A thread cuts the send's own words at SEND_MAX first; a report cuts only the sentence. */
	size_t ns = thread || n > sizeof(sub) ? sizeof(sub) : n;

	when[0] = 0;
	if (r->has & PL_RECORD_HAS_DEADLINE)
		time_text(when, r->deadline);
	/* A thread says the send's own words first, then what it answers; a report the reverse. */
	say(sub, ns, "a %s to %s", label(r, c->voice), list);
	if (r->has & PL_RECORD_HAS_VIA)
		say_more(sub, ns, " via %s", r->via);
	if (!thread && c->answering)
		say_more(sub, ns, " answering %s", c->answering);
	if (r->has & PL_RECORD_HAS_DEADLINE)
		say_more(sub, ns, ", reply by %s", when);
	if (thread && c->answering)
		say(out, n, "replied with %s, answering %s", sub, c->answering);
	else
		say(out, n, "%s %s", c->answering ? "replied with" : "sent", sub);
}

/* An expire: who made no decision, and what the intermediary did or did not do. */
static void describe_expire(char *out, size_t n, const struct pl_record *r,
                            const struct pl_describe_context *c, const char *list)
{
	bool via = r->has & PL_RECORD_HAS_VIA;

	if (c->voice == PL_DESCRIBE_THREAD && via)
		say(out, n,
		    "recorded that %s expired: %s never conveyed or declined it, so it never "
		    "reached %s",
		    c->target, r->via, list);
	else if (c->voice == PL_DESCRIBE_THREAD || !via)
		say(out, n, "recorded that %s expired with no decision by %s", c->target, list);
	else
		/* The intermediary may have received it: say so rather than "never acted". */
		say(out, n,
		    "recorded that %s expired with no decision by %s; the intermediary %s%s",
		    c->target, list, r->via,
		    c->via_received ? " received it but never conveyed or declined it"
		                    : " never conveyed or declined it");
}

/* A statement: "made a public statement citing ...: \"its first line\"". */
static void describe_statement(char *out, size_t n, const struct pl_record *r,
                               const struct pl_describe_context *c)
{
	bool reciprocal = pl_record_ref_find(r, PL_ROLE_RECIPROCATES) != NULL;
	const char *what = r->cls != PL_CLASS_MEASURE ? "made a public statement"
	                   : !(r->has & PL_RECORD_HAS_STATE)
	                           ? (reciprocal ? "announced a measure in reciprocation"
	                                         : "announced a measure")
	                   : r->state == PL_MEASURE_SUSPENDED ? "suspended its measure"
	                   : r->state == PL_MEASURE_RESUMED   ? "resumed its measure"
	                                                      : "ended its measure";
	const char *cited = c->cited ? c->cited : "";
	char body[256];

	quote(body, sizeof(body), r, c->voice);
	if (c->voice == PL_DESCRIBE_THREAD)
		say(out, n, "%s%s%s: %s", what, cited[0] ? ", citing " : "", cited, body);
	else
		say(out, n, "%s%s%s: %s", what, cited[0] ? " citing " : "", cited, body);
}

/* A line check, its answer, or its absence. */
static void describe_line(char *out, size_t n, const struct pl_record *r,
                          const struct pl_describe_context *c, const char *list)
{
	char when[PL_TIMESTAMP_LEN + 1];
	bool thread = c->voice == PL_DESCRIBE_THREAD;

	if (r->kind == PL_KIND_MISSED) {
		time_text(when, r->due);
		if (thread)
			say(out, n,
			    "recorded that it missed the check of the line %s between %s due "
			    "at %s: it was down",
			    r->line, list, when);
		else
			say(out, n,
			    "missed the check of line %s with %s due %s (the exchange was down)",
			    r->line, list, when);
	} else if (r->kind == PL_KIND_CHECK && thread) {
		say(out, n, "checked the line %s between %s", r->line, list);
	} else if (r->kind == PL_KIND_CHECK) {
		say(out, n, "checked line %s with %s", r->line, list);
		if (r->has & PL_RECORD_HAS_DEADLINE) {
			time_text(when, r->deadline);
			say_more(out, n, ", answer by %s", when);
		}
	} else if (r->kind == PL_KIND_ANSWER) {
		if (thread)
			say(out, n, "answered the check of the line %s", r->line);
		else
			say(out, n, "answered %s on line %s", c->target, r->line);
	} else if (thread) {
		say(out, n, "recorded that %s did not answer the check of the line %s", list,
		    r->line);
	} else {
		say(out, n, "recorded %s unanswered by %s", c->target, list);
	}
}

/* What an intermediary or a recipient did with the record it acts on. */
static void describe_step(char *out, size_t n, const struct pl_record *r,
                          const struct pl_describe_context *c, char *list, size_t nlist)
{
	const struct pl_record *tr = c->target_rec;
	bool thread = c->voice == PL_DESCRIBE_THREAD;

	switch (r->kind) {
	case PL_KIND_RECEIVE:
		/*
		 * An intermediary's receive attests the sealed message, which it may
		 * not be able to read (a blind relay); a recipient's, the content.
		 */
		if (tr && (tr->has & PL_RECORD_HAS_VIA) && strcmp(tr->via, r->author) == 0)
			say(out, n,
			    thread ? "received %s for relay (the sealed message reached it)"
			           : "received %s (sealed) for relay",
			    c->target);
		else if (!thread)
			say(out, n, "received %s", c->target);
		else
			say(out, n, "received %s (content reached it)", c->target);
		break;
	case PL_KIND_CONVEY:
		if (thread && tr) {
			to_list(list, nlist, tr, c->voice);
			say(out, n, "conveyed %s to %s", c->target, list);
		} else {
			say(out, n, "conveyed %s", c->target);
		}
		break;
	case PL_KIND_DECLINE:
		say(out, n, "declined %s%s: \"%s\"", thread ? "to convey " : "", c->target,
		    r->reason);
		break;
	case PL_KIND_ACCEPT:
		say(out, n, "accepted %s", c->target);
		break;
	default: /* PL_KIND_REFUSE */
		if (r->has & PL_RECORD_HAS_REASON)
			say(out, n, "refused %s: \"%s\"", c->target, r->reason);
		else
			say(out, n, "refused %s", c->target);
		break;
	}
}

/*
 * A register or revoke: who acted matters (docs/records.md §6). An eviction
 * (a revoke with a reason) is the operator's alone; a register naming a
 * previous one is a party's return; several keys are a rotation.
 */
static void describe_keys(char *out, size_t n, const struct pl_record *r, bool thread)
{
	bool evict = r->kind == PL_KIND_REVOKE && (r->has & PL_RECORD_HAS_REASON);

	if (evict)
		say(out, n,
		    thread ? "evicted the party %s (the operator, without its signature): \"%s\""
		           : "eviction of %s by the operator: \"%s\"",
		    r->party, r->reason);
	else if (!thread)
		say(out, n, "%s", pl_record_kind_name(r->kind));
	else if (r->kind == PL_KIND_REGISTER && pl_record_ref_find(r, PL_ROLE_PREVIOUS))
		say(out, n, "registered the party %s again, after its previous register", r->party);
	else if (r->kind == PL_KIND_REGISTER && r->nkeys > 1)
		say(out, n, "registered keys of the party %s, signed by each", r->party);
	else
		say(out, n, "%s the party %s",
		    r->kind == PL_KIND_REGISTER ? "registered" : "revoked keys of", r->party);
}

void pl_record_describe(char *out, size_t n, const struct pl_record *r,
                        const struct pl_describe_context *c)
{
	char list[LIST_MAX], when[PL_TIMESTAMP_LEN + 1];
	bool thread = c->voice == PL_DESCRIBE_THREAD;

	to_list(list, sizeof(list), r, c->voice);
	switch (r->kind) {
	case PL_KIND_SEND:
		describe_send(out, n, r, c, list);
		break;
	case PL_KIND_AVAILABLE:
		say(out, n, "made %s available to %s", c->target, list);
		break;
	case PL_KIND_RECEIVE:
	case PL_KIND_CONVEY:
	case PL_KIND_DECLINE:
	case PL_KIND_ACCEPT:
	case PL_KIND_REFUSE:
		describe_step(out, n, r, c, list, sizeof(list));
		break;
	case PL_KIND_EXPIRE:
		describe_expire(out, n, r, c, list);
		break;
	case PL_KIND_STATEMENT:
		describe_statement(out, n, r, c);
		break;
	case PL_KIND_CONSULT:
		say(out, n, "consulted %s on a draft", list);
		if (r->has & PL_RECORD_HAS_DEADLINE) {
			time_text(when, r->deadline);
			say_more(out, n, ", advice by %s", when);
		}
		break;
	case PL_KIND_ADVISE:
		say(out, n, "advised on %s: %s%s%s%s", c->target, pl_position_name(r->position),
		    (r->has & PL_RECORD_HAS_REASON) ? " (\"" : "",
		    (r->has & PL_RECORD_HAS_REASON) ? r->reason : "",
		    (r->has & PL_RECORD_HAS_REASON) ? "\")" : "");
		break;
	case PL_KIND_CHECK:
	case PL_KIND_ANSWER:
	case PL_KIND_UNANSWERED:
	case PL_KIND_MISSED:
		describe_line(out, n, r, c, list);
		break;
	case PL_KIND_REGISTER:
	case PL_KIND_REVOKE:
		describe_keys(out, n, r, thread);
		break;
	case PL_KIND_GROUP: {
		char about[LIST_MAX];
		names_list(about, sizeof(about), r->about,
		           r->nabout < PL_RECORD_MAX_TO ? r->nabout : PL_RECORD_MAX_TO, c->voice);
		say(out, n, "%s the coordination group %s: members %s, about %s, window %u days",
		    r->nrefs ? "changed" : "formed", r->group, list, about,
		    (unsigned)r->window_days);
		break;
	}
	case PL_KIND_INDEX:
		/* The exchange's bookkeeping: no thread shows it, but a log listing may. */
		say(out, n, "%s", thread ? "committed to the thread index" : "index");
		break;
	default:
		say(out, n, "%s", thread ? "" : pl_record_kind_name(r->kind));
		break;
	}
}
