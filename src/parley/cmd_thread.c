/* parley thread: the timeline of a message and where it stands, as a person reads it. */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <parley/client.h>
#include <parley/record.h>
#include <parley/timestamp.h>

#include "session.h"
#include "banned.h"

static const char thread_help[] =
        "usage: parley thread ID [--profile DIR] [--json]\n"
        "\n"
        "Shows the timeline of the record ID (a send, a consult or a statement; its id or\n"
        "a unique prefix of at least 8 hex digits) and of every record that refers to it:\n"
        "sent, received by the intermediary, conveyed or declined, made available,\n"
        "received by the recipient, accepted or refused, expired, the replies and the\n"
        "public statements that cite it. One line per event (time, log index, actor,\n"
        "what happened), then one status line. Every record is verified against the\n"
        "exchange's directory, and the checkpoint against the pinned log key.\n"
        "\n"
        "Options:\n"
        "  -P, --profile DIR   the profile to use (default: $PARLEY_PROFILE, then\n"
        "                      ~/.config/parley)\n"
        "  -j, --json          print one JSON object instead of text\n"
        "  -h, --help          show this help\n"
        "\n"
        "Exit status: 0 shown; 1 a record or the checkpoint does not verify; 2 usage or\n"
        "I/O error; 3 the exchange refused (unknown or ambiguous id).\n";

/* Bytes of one event description. */
#define THREAD_WHAT_MAX 1536
#define THREAD_LIST_MAX 1100 /* 16 names of 63 bytes and their separators */

/* One record of the thread, verified, and the thread record it acts on or cites. */
struct item {
	struct session_record r;
	const struct item
	        *target; /* NULL for the subject and records about nothing in the thread */
	char what[THREAD_WHAT_MAX];
};

struct thread {
	struct session s;
	struct item *v;
	size_t n;
	const struct item *subject;
	uint64_t size; /* tree size of the checkpoint the view is as of */
	int64_t now;
	bool json;
	char cited[THREAD_LIST_MAX]; /* what a statement subject cites, "the proposal 1a2b3c4d" */
};

static const struct item *find_id(const struct thread *t, const uint8_t *id)
{
	for (size_t i = 0; i < t->n; i++) {
		if (memcmp(t->v[i].r.id, id, PL_RECORD_ID_BYTES) == 0)
			return &t->v[i];
	}
	return NULL;
}

/* The record of the thread that x acts on, answers or cites first: its one target. */
static const struct item *find_target(const struct thread *t, const struct item *x)
{
	static const enum pl_ref_role order[] = {PL_ROLE_SUBJECT, PL_ROLE_CONSULT, PL_ROLE_CHECK,
	                                         PL_ROLE_REPLY_TO, PL_ROLE_CITES};
	const struct pl_record *r = x->r.rec;

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (size_t i = 0; i < r->nrefs; i++) {
			const struct item *hit;
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
static void target_text(char *out, size_t n, const struct thread *t, const struct item *x)
{
	const struct pl_record *r;

	if (!x || x == t->subject) {
		snprintf(out, n, "it");
		return;
	}
	r = x->r.rec;
	if (r->kind == PL_KIND_SEND && pl_record_ref_find(r, PL_ROLE_REPLY_TO))
		snprintf(out, n, "the reply %.8s", x->r.hex);
	else if (r->kind == PL_KIND_SEND && (r->has & PL_RECORD_HAS_CLASS))
		snprintf(out, n, "the %s %.8s", pl_record_class_name(r->cls), x->r.hex);
	else
		snprintf(out, n, "the %s %.8s", pl_record_kind_name(r->kind), x->r.hex);
}

static const char *class_text(const struct pl_record *r)
{
	const char *c = (r->has & PL_RECORD_HAS_CLASS) ? pl_record_class_name(r->cls) : NULL;
	return c ? c : "message";
}

/* The sentence of one event, from the record and the thread record it is about. */
static void event_what(const struct thread *t, struct item *x)
{
	const struct pl_record *r = x->r.rec;
	struct pl_describe_context c;
	char tgt[64];

	target_text(tgt, sizeof(tgt), t, x->target);
	memset(&c, 0, sizeof(c));
	c.voice = PL_DESCRIBE_THREAD;
	c.target = tgt;
	c.target_rec = x->target ? x->target->r.rec : NULL;
	if (r->kind == PL_KIND_SEND && pl_record_ref_find(r, PL_ROLE_REPLY_TO) && x->target)
		c.answering = tgt;
	/* The subject cites records outside its thread: name them, not "it". */
	c.cited = x == t->subject ? t->cited : x->target ? tgt : "";
	pl_record_describe(x->what, sizeof(x->what), r, &c);
}

/* ---- Status ---- */

/* The first record about the subject of kind k, by author (any when NULL), naming to (any). */
static const struct item *act(const struct thread *t, enum pl_record_kind k, const char *author,
                              const char *to)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct item *x = &t->v[i];
		const struct pl_record *r = x->r.rec;
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
static void count_answers(const struct thread *t, size_t *replies, size_t *cites)
{
	*replies = 0;
	*cites = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct item *x = &t->v[i];
		const struct pl_record *r = x->r.rec;
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
	char part[THREAD_WHAT_MAX];
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

/* How far a send got towards party p: received, made available, or neither. */
static void reached_text(char *out, size_t n, const struct thread *t, const char *p)
{
	if (act(t, PL_KIND_RECEIVE, p, NULL))
		snprintf(out, n, "received by %s", p);
	else if (act(t, PL_KIND_AVAILABLE, NULL, p))
		snprintf(out, n, "made available to %s (not received)", p);
	else
		snprintf(out, n, "not made available to %s", p);
}

/* Where one recipient stands once the send could reach it. */
static int recipient_status(const struct thread *t, struct pl_buf *b, const char *p,
                            const struct item *expired)
{
	const struct item *x;
	char reached[128], when[PL_TIMESTAMP_LEN + 1];

	if ((x = act(t, PL_KIND_ACCEPT, p, NULL)))
		return add_part(b, "accepted by %s", p);
	if ((x = act(t, PL_KIND_REFUSE, p, NULL)))
		return (x->r.rec->has & PL_RECORD_HAS_REASON)
		               ? add_part(b, "refused by %s: \"%s\"", p, x->r.rec->reason)
		               : add_part(b, "refused by %s", p);
	reached_text(reached, sizeof(reached), t, p);
	if (expired && pl_record_has_to(expired->r.rec, p)) {
		time_text(when, expired->r.rec->time);
		return add_part(b, "%s, neither accepted nor refused: expired at %s", reached,
		                when);
	}
	return add_part(b, "%s, no decision yet", reached);
}

static int send_status(const struct thread *t, struct pl_buf *b)
{
	const struct pl_record *s = t->subject->r.rec;
	const struct item *expired = act(t, PL_KIND_EXPIRE, NULL, NULL);
	const struct item *x;
	bool overdue = (s->has & PL_RECORD_HAS_DEADLINE) && t->now > s->deadline;
	char list[THREAD_LIST_MAX], reached[128], when[PL_TIMESTAMP_LEN + 1];
	int ret = 0;

	name_list(list, sizeof(list), s->to, s->nto);
	if (s->has & PL_RECORD_HAS_VIA) {
		const char *via = s->via;
		reached_text(reached, sizeof(reached), t, via);
		if ((x = act(t, PL_KIND_DECLINE, via, NULL))) {
			ret = add_part(b, "%s, declined: \"%s\"", reached, x->r.rec->reason);
			if (ret == 0)
				ret = add_part(b, "never made available to %s", list);
			goto out;
		}
		if (!act(t, PL_KIND_CONVEY, via, NULL)) {
			if (expired) {
				time_text(when, expired->r.rec->time);
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

static int consult_status(const struct thread *t, struct pl_buf *b)
{
	const struct pl_record *c = t->subject->r.rec;
	bool overdue = (c->has & PL_RECORD_HAS_DEADLINE) && t->now > c->deadline;
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < c->nto; i++) {
		const struct item *x = act(t, PL_KIND_ADVISE, c->to[i], NULL);
		if (x)
			ret = add_part(b, "%s advised %s", c->to[i],
			               pl_position_name(x->r.rec->position));
		else
			ret = add_part(b, "%s %s", c->to[i],
			               overdue ? "gave no advice before the deadline"
			                       : "has not advised yet");
	}
	return ret;
}

/* The one status line: where the subject stands as of the checkpoint. */
static int status_text(const struct thread *t, struct pl_buf *b)
{
	const struct pl_record *r = t->subject->r.rec;
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

/* ---- Output ---- */

static int print_text(const struct thread *t, const char *status)
{
	size_t aw = 8, iw = 1;
	char when[PL_TIMESTAMP_LEN + 1];

	for (size_t i = 0; i < t->n; i++) {
		size_t a = strlen(t->v[i].r.rec->author);
		char num[24];
		int w = snprintf(num, sizeof(num), "%" PRIu64, t->v[i].r.index);
		aw = a > aw ? a : aw;
		iw = w > 0 && (size_t)w > iw ? (size_t)w : iw;
	}
	printf("%s %s from %s, as of log size %" PRIu64 "\n",
	       t->subject->r.rec->kind == PL_KIND_SEND
	               ? class_text(t->subject->r.rec)
	               : pl_record_kind_name(t->subject->r.rec->kind),
	       t->subject->r.hex, t->subject->r.rec->author, t->size);
	for (size_t i = 0; i < t->n; i++) {
		const struct item *x = &t->v[i];
		time_text(when, x->r.rec->time);
		printf("  %s  #%-*" PRIu64 "  %-*s  %s\n", when, (int)iw, x->r.index, (int)aw,
		       x->r.rec->author, x->what);
	}
	printf("status: %s\n", status);
	return PL_EXIT_OK;
}

static int print_json(const struct thread *t, const char *status)
{
	json_t *root = json_object(), *events = json_array();
	char when[PL_TIMESTAMP_LEN + 1];
	char *text = NULL;
	bool ok = root && events;
	int ret = PL_EXIT_USAGE;

	ok = ok && json_object_set_new(root, "subject", json_string(t->subject->r.hex)) == 0;
	ok = ok &&
	     json_object_set_new(root, "kind",
	                         json_string(pl_record_kind_name(t->subject->r.rec->kind))) == 0;
	ok = ok && json_object_set_new(root, "size", json_integer((json_int_t)t->size)) == 0;
	for (size_t i = 0; ok && i < t->n; i++) {
		const struct item *x = &t->v[i];
		json_t *e = json_object();
		time_text(when, x->r.rec->time);
		ok = e && json_array_append_new(events, e) == 0;
		ok = ok &&
		     json_object_set_new(e, "index", json_integer((json_int_t)x->r.index)) == 0;
		ok = ok && json_object_set_new(e, "id", json_string(x->r.hex)) == 0;
		ok = ok && json_object_set_new(e, "time", json_string(when)) == 0;
		ok = ok && json_object_set_new(e, "actor", json_string(x->r.rec->author)) == 0;
		ok = ok &&
		     json_object_set_new(e, "kind",
		                         json_string(pl_record_kind_name(x->r.rec->kind))) == 0;
		ok = ok && json_object_set_new(e, "about",
		                               x->target ? json_string(x->target->r.hex)
		                                         : json_null()) == 0;
		ok = ok && json_object_set_new(e, "what", json_string(x->what)) == 0;
	}
	ok = ok && json_object_set(root, "events", events) == 0;
	ok = ok && json_object_set_new(root, "status", json_string(status)) == 0;
	text = ok ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (!text) {
		cli_error("thread: cannot format the JSON answer");
		goto out;
	}
	ret = cli_write_stdout(text, strlen(text));
	if (ret == PL_EXIT_OK)
		ret = cli_write_stdout("\n", 1);
out:
	free(text);
	json_decref(events);
	json_decref(root);
	return ret;
}

/* ---- The verb ---- */

/*
 * Names what the statement subject cites in t->cited: "the proposal
 * 1a2b3c4d and the statement 5e6f7a8b". Each cited record is fetched and
 * verified to learn its kind; one this party may not read (the exchange
 * refuses it) is named "the record 1a2b3c4d". Returns an exit code.
 */
static int name_cited(struct thread *t)
{
	const struct pl_record *r = t->subject->r.rec;
	size_t used = 0, k = 0, ncites = 0;
	int ret = PL_EXIT_OK;

	for (size_t i = 0; i < r->nrefs; i++)
		ncites += r->refs[i].role == PL_ROLE_CITES;
	for (size_t i = 0; i < r->nrefs && ret == PL_EXIT_OK && used < sizeof(t->cited); i++) {
		struct pl_client_entry e;
		struct item it;
		char hex[PL_RECORD_ID_HEX_LEN + 1], one[64];
		int w;
		if (r->refs[i].role != PL_ROLE_CITES)
			continue;
		memset(&e, 0, sizeof(e));
		memset(&it, 0, sizeof(it));
		pl_record_id_format(hex, r->refs[i].id);
		if (pl_client_record(t->s.client, hex, &e) != 0) {
			snprintf(one, sizeof(one), "the record %.8s", hex);
		} else {
			ret = session_verify_entry(&t->s, &e, &it.r);
			if (ret == PL_EXIT_OK)
				target_text(one, sizeof(one), t, &it);
		}
		pl_client_entry_release(&e);
		session_record_release(&it.r);
		if (ret != PL_EXIT_OK)
			break;
		w = snprintf(t->cited + used, sizeof(t->cited) - used, "%s%s",
		             k == 0            ? ""
		             : k + 1 == ncites ? " and "
		                               : ", ",
		             one);
		used += w > 0 ? (size_t)w : 0;
		k++;
	}
	return ret;
}

static int load(struct thread *t, const char *arg)
{
	struct session_record subject;
	struct pl_client_list list;
	struct pl_checkpoint cp;
	int ret, err;

	memset(&subject, 0, sizeof(subject));
	memset(&list, 0, sizeof(list));
	ret = session_resolve(&t->s, arg, &subject);
	if (ret)
		goto out;
	err = pl_client_thread(t->s.client, subject.hex, &list);
	if (err) {
		ret = session_client_failed(&t->s, "the thread", err);
		goto out;
	}
	/* After the thread, so that the checkpoint covers every record it holds. */
	ret = session_refresh(&t->s, &cp, NULL);
	if (ret)
		goto out;
	t->size = cp.size;
	t->v = calloc(list.n ? list.n : 1, sizeof(*t->v));
	if (!t->v) {
		cli_error("thread: out of memory");
		ret = PL_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < list.n; i++) {
		ret = session_verify_entry(&t->s, &list.v[i], &t->v[i].r);
		if (ret)
			goto out;
		t->n++;
		if (t->v[i].r.index >= t->size)
			t->size = t->v[i].r.index + 1;
	}
	t->subject = find_id(t, subject.id);
	if (!t->subject) {
		cli_error("record %s: the exchange's thread does not hold the record itself",
		          subject.hex);
		ret = PL_EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < t->n; i++)
		t->v[i].target = &t->v[i] == t->subject ? NULL : find_target(t, &t->v[i]);
	if (t->subject->r.rec->kind == PL_KIND_STATEMENT) {
		ret = name_cited(t);
		if (ret)
			goto out;
	}
	for (size_t i = 0; i < t->n; i++)
		event_what(t, &t->v[i]);
out:
	pl_client_list_release(&list);
	session_record_release(&subject);
	return ret;
}

static int show(struct thread *t)
{
	struct pl_buf status;
	int ret;

	pl_buf_init(&status, 8 * THREAD_WHAT_MAX);
	ret = status_text(t, &status) ? PL_EXIT_USAGE : PL_EXIT_OK;
	if (ret) {
		cli_error("thread: out of memory");
		goto out;
	}
	ret = t->json ? print_json(t, status.data) : print_text(t, status.data);
out:
	pl_buf_release(&status);
	return ret;
}

int cmd_thread(int argc, char **argv)
{
	/* Static: a session holds large fixed-size members. */
	static struct thread t;
	const char *profile = NULL;
	int ret;

	memset(&t, 0, sizeof(t));
	ret = cli_profile_json_opts("thread", thread_help, argc, argv, &profile, &t.json);
	if (ret >= 0)
		goto out;
	if (argc - optind != 1) {
		ret = cli_usage("thread", argc == optind ? "missing the record ID"
		                                         : "more than one record ID");
		goto out;
	}
	ret = session_open(&t.s, "thread", profile);
	if (ret)
		goto out;
	t.now = session_now();
	ret = load(&t, argv[optind]);
	if (ret == PL_EXIT_OK)
		ret = show(&t);
out:
	for (size_t i = 0; i < t.n; i++)
		session_record_release(&t.v[i].r);
	free(t.v);
	session_close(&t.s);
	memset(&t, 0, sizeof(t));
	return ret;
}
