/* Unit tests of the agent's rules in memory: its acts, the deadline watch, the hook's environment
 * and run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>

#include <parley/agent.h>
#include <parley/timestamp.h>

static struct pl_record *rec(enum pl_record_kind kind, const char *author)
{
	static struct pl_record r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	snprintf(r.author, sizeof(r.author), "%s", author);
	r.time = 1700000000;
	return &r;
}

static void add_to(struct pl_record *r, const char *to)
{
	snprintf(r->to[r->nto++], sizeof(r->to[0]), "%s", to);
}

static void add_ref(struct pl_record *r, enum pl_ref_role role, uint8_t fill)
{
	r->refs[r->nrefs].role = role;
	memset(r->refs[r->nrefs].id, fill, PL_RECORD_ID_BYTES);
	r->nrefs++;
}

/* What the agent of kpa does with each record: the table of its acts. */
static void test_decide(void **state)
{
	static const struct {
		enum pl_record_kind kind;
		const char *to[2];
		bool subject;
		enum pl_agent_act want;
	} cases[] = {
	        {PL_KIND_AVAILABLE, {"kpa", NULL}, true, PL_AGENT_RECEIVE},
	        {PL_KIND_AVAILABLE, {"kpa", NULL}, false, PL_AGENT_NONE}, /* no subject */
	        {PL_KIND_AVAILABLE, {"unc", NULL}, true, PL_AGENT_NONE},  /* someone else's */
	        {PL_KIND_AVAILABLE, {"kpa", "unc"}, true, PL_AGENT_NONE}, /* not to kpa alone */
	        {PL_KIND_CONSULT, {"unc", "kpa"}, false, PL_AGENT_OPEN_DRAFT},
	        {PL_KIND_CONSULT, {"unc", NULL}, false, PL_AGENT_NONE},
	        {PL_KIND_CHECK, {"kpa", "rok"}, false, PL_AGENT_ANSWER},
	        {PL_KIND_CHECK, {"rok", NULL}, false, PL_AGENT_NONE},
	        {PL_KIND_SEND, {"kpa", NULL}, false, PL_AGENT_NONE},
	        {PL_KIND_EXPIRE, {"kpa", NULL}, true, PL_AGENT_NONE},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pl_record *r = rec(cases[i].kind, "exchange");
		const uint8_t *subject = NULL;
		for (size_t k = 0; k < 2 && cases[i].to[k]; k++)
			add_to(r, cases[i].to[k]);
		if (cases[i].subject)
			add_ref(r, PL_ROLE_SUBJECT, 0x5a);
		if (pl_agent_decide(r, "kpa", &subject) != cases[i].want)
			fail_msg("case %zu", i);
		if (cases[i].want == PL_AGENT_RECEIVE)
			assert_ptr_equal(subject, r->refs[0].id);
	}
}

/*
 * Whether unc or kpa signs a receive of a send from rok via unc, given what
 * reached it: the blind relay signs for the sealed message, a recipient
 * only for content it opened, nobody for content that does not hold.
 */
static void test_receipt_for(void **state)
{
	static const struct {
		const char *me;
		bool via;
		enum pl_agent_content c;
		enum pl_agent_receipt want;
	} cases[] = {
	        {"unc", true, PL_AGENT_CONTENT_OPENED, PL_AGENT_RECEIPT_OPENED},
	        {"unc", true, PL_AGENT_CONTENT_SEALED, PL_AGENT_RECEIPT_SEALED},
	        {"unc", true, PL_AGENT_CONTENT_BAD, PL_AGENT_RECEIPT_NONE},
	        {"kpa", true, PL_AGENT_CONTENT_OPENED, PL_AGENT_RECEIPT_OPENED},
	        {"kpa", true, PL_AGENT_CONTENT_SEALED, PL_AGENT_RECEIPT_NONE},
	        {"kpa", true, PL_AGENT_CONTENT_BAD, PL_AGENT_RECEIPT_NONE},
	        {"kpa", false, PL_AGENT_CONTENT_OPENED, PL_AGENT_RECEIPT_OPENED},
	        {"kpa", false, PL_AGENT_CONTENT_SEALED, PL_AGENT_RECEIPT_NONE},
	        {"unc", false, PL_AGENT_CONTENT_SEALED, PL_AGENT_RECEIPT_NONE}, /* no via */
	};
	struct pl_record *r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = rec(PL_KIND_SEND, "rok");
		add_to(r, "kpa");
		if (cases[i].via) {
			r->has |= PL_RECORD_HAS_VIA;
			snprintf(r->via, sizeof(r->via), "unc");
		}
		if (pl_agent_receipt_for(r, cases[i].me, cases[i].c) != cases[i].want)
			fail_msg("case %zu", i);
	}
	/* Only a send is received. */
	r = rec(PL_KIND_CONSULT, "rok");
	add_to(r, "unc");
	assert_int_equal(pl_agent_receipt_for(r, "unc", PL_AGENT_CONTENT_OPENED),
	                 PL_AGENT_RECEIPT_NONE);
}

static void test_note_wants_act(void **state)
{
	(void)state;
	assert_true(pl_agent_note_wants_act("parley/1\nkind available\nsubject x\n"));
	assert_true(pl_agent_note_wants_act("parley/1\nkind consult\n"));
	assert_true(pl_agent_note_wants_act("parley/1\nkind check\n"));
	assert_false(pl_agent_note_wants_act("parley/1\nkind send\n"));
	assert_false(pl_agent_note_wants_act("parley/1\nkind checks\n"));
	assert_false(pl_agent_note_wants_act("kind check\n")); /* a kind line follows another */
}

static void test_thread_of(void **state)
{
	uint8_t own[PL_RECORD_ID_BYTES];
	struct pl_record *r;

	(void)state;
	memset(own, 0x11, sizeof(own));
	r = rec(PL_KIND_SEND, "unc");
	assert_ptr_equal(pl_agent_thread_of(r, own), own);
	add_ref(r, PL_ROLE_REPLY_TO, 0x22);
	assert_ptr_equal(pl_agent_thread_of(r, own), r->refs[0].id);
	r = rec(PL_KIND_STATEMENT, "unc");
	add_ref(r, PL_ROLE_CITES, 0x33);
	assert_ptr_equal(pl_agent_thread_of(r, own), r->refs[0].id);
	r = rec(PL_KIND_ANSWER, "kpa");
	add_ref(r, PL_ROLE_CHECK, 0x44);
	assert_ptr_equal(pl_agent_thread_of(r, own), r->refs[0].id);
	r = rec(PL_KIND_ACCEPT, "kpa");
	add_ref(r, PL_ROLE_SUBJECT, 0x55);
	assert_ptr_equal(pl_agent_thread_of(r, own), r->refs[0].id);
}

static void test_answer_when(void **state)
{
	struct pl_record *c = rec(PL_KIND_CHECK, "exchange");

	(void)state;
	assert_int_equal(pl_agent_answer_when(c, false, false, 1), PL_AGENT_ANSWER_NOW);
	c->has |= PL_RECORD_HAS_DEADLINE;
	c->deadline = 100;
	assert_int_equal(pl_agent_answer_when(c, false, false, 100), PL_AGENT_ANSWER_NOW);
	assert_int_equal(pl_agent_answer_when(c, false, false, 101), PL_AGENT_ANSWER_LATE);
	assert_int_equal(pl_agent_answer_when(c, false, true, 50), PL_AGENT_ANSWER_DONE);
	assert_int_equal(pl_agent_answer_when(c, true, true, 500), PL_AGENT_ANSWER_OFF);
}

static void test_acts_records(void **state)
{
	static struct pl_record out;
	struct pl_record *c = rec(PL_KIND_CHECK, "exchange");
	uint8_t id[PL_RECORD_ID_BYTES];

	(void)state;
	memset(id, 0x77, sizeof(id));
	snprintf(c->line, sizeof(c->line), "unc-kpa");
	c->has |= PL_RECORD_HAS_LINE;
	pl_agent_answer_record(&out, c, id);
	assert_int_equal(out.kind, PL_KIND_ANSWER);
	assert_true(out.has & PL_RECORD_HAS_LINE);
	assert_string_equal(out.line, "unc-kpa");
	assert_int_equal(out.nrefs, 1);
	assert_int_equal(out.refs[0].role, PL_ROLE_CHECK);
	assert_memory_equal(out.refs[0].id, id, sizeof(id));
	pl_agent_receive_record(&out, id);
	assert_int_equal(out.kind, PL_KIND_RECEIVE);
	assert_int_equal(out.has, 0);
	assert_int_equal(out.nrefs, 1);
	assert_int_equal(out.refs[0].role, PL_ROLE_SUBJECT);
	assert_memory_equal(out.refs[0].id, id, sizeof(id));
}

static void test_backoff(void **state)
{
	static const long want[] = {250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
	long d = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		d = pl_agent_backoff(d);
		assert_int_equal(d, want[i]);
	}
}

/* The local state of the watch tests: the acts kpa recorded, in memory. */
struct acts {
	uint8_t id[PL_RECORD_ID_BYTES];
	const char *act;
	unsigned asked;
};

static bool decided(void *arg, const uint8_t id[static PL_RECORD_ID_BYTES], const char *act)
{
	struct acts *a = arg;

	a->asked++;
	return a->act && strcmp(a->act, act) == 0 && memcmp(a->id, id, sizeof(a->id)) == 0;
}

static struct pl_record *send_rec(int64_t deadline, const char *via)
{
	struct pl_record *r = rec(PL_KIND_SEND, "unc");

	r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_DEADLINE;
	r->cls = PL_CLASS_PROPOSAL;
	r->deadline = deadline;
	if (via) {
		r->has |= PL_RECORD_HAS_VIA;
		snprintf(r->via, sizeof(r->via), "%s", via);
	}
	return r;
}

static void test_watch(void **state)
{
	static struct pl_agent_watches ws;
	struct acts a = {.act = NULL};
	uint8_t id1[PL_RECORD_ID_BYTES], id2[PL_RECORD_ID_BYTES], id3[PL_RECORD_ID_BYTES];
	struct pl_agent_watch *w;
	struct pl_record *r;

	(void)state;
	memset(&ws, 0, sizeof(ws));
	memset(id1, 1, sizeof(id1));
	memset(id2, 2, sizeof(id2));
	memset(id3, 3, sizeof(id3));
	/* Not a send, or no deadline: nothing watched. */
	assert_int_equal(pl_agent_watch_add(&ws, rec(PL_KIND_SEND, "unc"), id1, "kpa"), 0);
	assert_int_equal(ws.n, 0);
	assert_int_equal(pl_agent_watch_add(&ws, send_rec(10000, NULL), id1, "kpa"), 0);
	assert_int_equal(pl_agent_watch_add(&ws, send_rec(10000, NULL), id1, "kpa"), 0);
	assert_int_equal(ws.n, 1);
	assert_string_equal(ws.v[0].cls, "proposal");
	assert_string_equal(ws.v[0].author, "unc");
	assert_false(ws.v[0].intermediary);
	assert_string_equal(pl_agent_watch_role(&ws.v[0]), "recipient");
	assert_int_equal(pl_agent_watch_add(&ws, send_rec(20000, "kpa"), id2, "kpa"), 0);
	assert_true(ws.v[1].intermediary);
	assert_string_equal(pl_agent_watch_acts(&ws.v[1]), "conveyed nor declined");
	/* Far from both deadlines: no warning. */
	assert_null(pl_agent_watch_next(&ws, 1000, 3600, decided, &a));
	/* Within the lead of the first: warned once. */
	w = pl_agent_watch_next(&ws, 7000, 3600, decided, &a);
	assert_non_null(w);
	assert_memory_equal(w->id, id1, sizeof(id1));
	assert_null(pl_agent_watch_next(&ws, 7000, 3600, decided, &a));
	/* The second decided in the local state (convey, as intermediary): never warned. */
	memcpy(a.id, id2, sizeof(id2));
	a.act = "convey";
	assert_null(pl_agent_watch_next(&ws, 19000, 3600, decided, &a));
	assert_true(ws.v[1].done);
	/* A send still listed, even done, is not watched again. */
	assert_int_equal(pl_agent_watch_add(&ws, send_rec(30000, NULL), id2, "kpa"), 0);
	assert_int_equal(ws.n, 2);
	assert_true(ws.v[1].done);
	/* A finished watch's slot is reused by another send. */
	assert_int_equal(pl_agent_watch_add(&ws, send_rec(30000, NULL), id3, "kpa"), 0);
	assert_int_equal(ws.n, 2);
	assert_memory_equal(ws.v[0].id, id3, sizeof(id3));
	assert_false(ws.v[0].done);
	/* kpa's refuse settles it; unc's accept would not. */
	r = rec(PL_KIND_ACCEPT, "unc");
	add_ref(r, PL_ROLE_SUBJECT, 3);
	pl_agent_watch_settle(&ws, r, "kpa");
	assert_false(ws.v[0].done);
	r = rec(PL_KIND_REFUSE, "kpa");
	add_ref(r, PL_ROLE_SUBJECT, 3);
	pl_agent_watch_settle(&ws, r, "kpa");
	assert_true(ws.v[0].done);
	/* The exchange's expire settles, whoever the party. */
	assert_int_equal(pl_agent_watch_add(&ws, send_rec(40000, NULL), id1, "kpa"), 0);
	r = rec(PL_KIND_EXPIRE, "exchange");
	add_ref(r, PL_ROLE_SUBJECT, 1);
	pl_agent_watch_settle(&ws, r, "kpa");
	assert_null(pl_agent_watch_next(&ws, 39999, 3600, decided, &a));
	/* A deadline already past is dropped without a warning. */
	a.act = NULL;
	memset(id3, 4, sizeof(id3));
	assert_int_equal(pl_agent_watch_add(&ws, send_rec(50000, NULL), id3, "kpa"), 0);
	assert_memory_equal(ws.v[0].id, id3, sizeof(id3));
	assert_null(pl_agent_watch_next(&ws, 50000, 3600, decided, &a));
	assert_true(ws.v[0].done);
}

static void test_watch_full(void **state)
{
	static struct pl_agent_watches ws;
	uint8_t id[PL_RECORD_ID_BYTES];

	(void)state;
	memset(&ws, 0, sizeof(ws));
	for (size_t i = 0; i < PL_AGENT_WATCH_MAX; i++) {
		memset(id, 0, sizeof(id));
		memcpy(id, &i, sizeof(i));
		assert_int_equal(pl_agent_watch_add(&ws, send_rec(10000, NULL), id, "kpa"), 0);
	}
	memset(id, 0xff, sizeof(id));
	assert_int_equal(pl_agent_watch_add(&ws, send_rec(10000, NULL), id, "kpa"), PL_ETOOBIG);
	ws.v[7].done = true;
	assert_int_equal(pl_agent_watch_add(&ws, send_rec(10000, NULL), id, "kpa"), 0);
	assert_memory_equal(ws.v[7].id, id, sizeof(id));
}

/* The I/O of pl_agent_handle() in memory: which acts ran, with what outcome. */
struct io_log {
	enum pl_agent_outcome give;
	unsigned receives, drafts, answers, notifies;
	uint8_t subject[PL_RECORD_ID_BYTES];
};

static enum pl_agent_outcome mem_receive(void *ctx,
                                         const uint8_t subject[static PL_RECORD_ID_BYTES])
{
	struct io_log *l = ctx;

	l->receives++;
	memcpy(l->subject, subject, PL_RECORD_ID_BYTES);
	return l->give;
}

static enum pl_agent_outcome mem_draft(void *ctx)
{
	struct io_log *l = ctx;

	l->drafts++;
	return l->give;
}

static enum pl_agent_outcome mem_answer(void *ctx)
{
	struct io_log *l = ctx;

	l->answers++;
	return l->give;
}

static void mem_notify(void *ctx)
{
	struct io_log *l = ctx;

	l->notifies++;
}

static void test_handle(void **state)
{
	static struct pl_agent_watches ws;
	struct io_log l;
	const struct pl_agent_io io = {.ctx = &l,
	                               .receive = mem_receive,
	                               .open_draft = mem_draft,
	                               .answer = mem_answer,
	                               .notify = mem_notify};
	const struct pl_agent_io quiet = {
	        .ctx = &l, .receive = mem_receive, .open_draft = mem_draft, .answer = mem_answer};
	uint8_t want[PL_RECORD_ID_BYTES];
	struct pl_record *r;

	(void)state;
	memset(&ws, 0, sizeof(ws));
	memset(want, 0x5a, sizeof(want));
	/* Made available to kpa: received, then notified. */
	memset(&l, 0, sizeof(l));
	r = rec(PL_KIND_AVAILABLE, "exchange");
	add_to(r, "kpa");
	add_ref(r, PL_ROLE_SUBJECT, 0x5a);
	assert_int_equal(pl_agent_handle(&ws, r, "kpa", &io), PL_AGENT_DONE);
	assert_int_equal(l.receives, 1);
	assert_memory_equal(l.subject, want, sizeof(want));
	assert_int_equal(l.notifies, 1);
	/* Refused by the exchange: moved past, so notified; to retry or stop: not. */
	l.give = PL_AGENT_REFUSED;
	assert_int_equal(pl_agent_handle(&ws, r, "kpa", &io), PL_AGENT_REFUSED);
	assert_int_equal(l.notifies, 2);
	l.give = PL_AGENT_RETRY;
	assert_int_equal(pl_agent_handle(&ws, r, "kpa", &io), PL_AGENT_RETRY);
	l.give = PL_AGENT_STOP;
	assert_int_equal(pl_agent_handle(&ws, r, "kpa", &io), PL_AGENT_STOP);
	assert_int_equal(l.notifies, 2);
	assert_int_equal(l.receives, 4);
	/* A consult, a check: the draft opened, the check answered; no hook without notify. */
	memset(&l, 0, sizeof(l));
	r = rec(PL_KIND_CONSULT, "rok");
	add_to(r, "kpa");
	assert_int_equal(pl_agent_handle(&ws, r, "kpa", &quiet), PL_AGENT_DONE);
	r = rec(PL_KIND_CHECK, "exchange");
	add_to(r, "kpa");
	add_to(r, "unc");
	assert_int_equal(pl_agent_handle(&ws, r, "kpa", &quiet), PL_AGENT_DONE);
	assert_int_equal(l.drafts, 1);
	assert_int_equal(l.answers, 1);
	assert_int_equal(l.notifies, 0);
	/* kpa's own record: no act, never notified; it settles the watch it decides. */
	assert_int_equal(pl_agent_watch_add(&ws, send_rec(10000, NULL), want, "kpa"), 0);
	r = rec(PL_KIND_ACCEPT, "kpa");
	add_ref(r, PL_ROLE_SUBJECT, 0x5a);
	l.give = PL_AGENT_STOP; /* never asked */
	assert_int_equal(pl_agent_handle(&ws, r, "kpa", &io), PL_AGENT_DONE);
	assert_int_equal(l.notifies + l.receives + l.drafts + l.answers, 2);
	assert_true(ws.v[0].done);
}

static void test_next(void **state)
{
	(void)state;
	assert_int_equal(pl_agent_next(0, PL_AGENT_DONE, false), PL_AGENT_NEXT_GO_ON);
	assert_int_equal(pl_agent_next(0, PL_AGENT_REFUSED, true), PL_AGENT_NEXT_GO_ON);
	assert_int_equal(pl_agent_next(0, PL_AGENT_RETRY, false), PL_AGENT_NEXT_RETRY);
	assert_int_equal(pl_agent_next(0, PL_AGENT_STOP, false), PL_AGENT_NEXT_STOP);
	assert_int_equal(pl_agent_next(PL_ENET, PL_AGENT_STOP, false), PL_AGENT_NEXT_STOP);
	assert_int_equal(pl_agent_next(PL_EMALFORMED, PL_AGENT_DONE, false), PL_AGENT_NEXT_POLL);
	assert_int_equal(pl_agent_next(PL_EMALFORMED, PL_AGENT_DONE, true),
	                 PL_AGENT_NEXT_RECONNECT);
	assert_int_equal(pl_agent_next(PL_EDENIED, PL_AGENT_DONE, false), PL_AGENT_NEXT_DENIED);
	assert_int_equal(pl_agent_next(PL_ENET, PL_AGENT_RETRY, false), PL_AGENT_NEXT_RECONNECT);
}

static void test_span(void **state)
{
	char b[32];

	(void)state;
	pl_agent_span_format(b, sizeof(b), 40);
	assert_string_equal(b, "40s");
	pl_agent_span_format(b, sizeof(b), 720);
	assert_string_equal(b, "12m");
	pl_agent_span_format(b, sizeof(b), 3900);
	assert_string_equal(b, "1h05m");
}

static const char *env_get(const struct pl_agent_env *h, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < h->n; i++) {
		if (strncmp(h->vars[i], name, n) == 0 && h->vars[i][n] == '=')
			return h->vars[i] + n + 1;
	}
	return NULL;
}

static void test_env_record(void **state)
{
	static struct pl_agent_env h;
	static char sum[2000];
	struct pl_record *r = send_rec(1700003600, NULL);
	uint8_t id[PL_RECORD_ID_BYTES];
	const char *s;

	(void)state;
	memset(id, 0xab, sizeof(id));
	add_ref(r, PL_ROLE_REPLY_TO, 0xcd);
	/* A summary over the limit, a two-byte character across the cut. */
	memset(sum, 'a', sizeof(sum) - 1);
	memcpy(sum + PL_AGENT_HOOK_SUMMARY_MAX - 1, "\xc3\xa9", 2);
	pl_agent_env_record(&h, r, id, 42, sum, "kpa", "hotline.example");
	assert_int_equal(h.n, 12);
	assert_null(h.vars[12]);
	assert_string_equal(env_get(&h, "PARLEY_EVENT"), "record");
	assert_string_equal(env_get(&h, "PARLEY_KIND"), "send");
	assert_string_equal(env_get(&h, "PARLEY_ID"),
	                    "abababababababababababababababababababababababababababababababab");
	assert_string_equal(env_get(&h, "PARLEY_THREAD"),
	                    "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd");
	assert_string_equal(env_get(&h, "PARLEY_INDEX"), "42");
	assert_string_equal(env_get(&h, "PARLEY_TIME"), "2023-11-14T22:13:20Z");
	assert_string_equal(env_get(&h, "PARLEY_CLASS"), "proposal");
	assert_string_equal(env_get(&h, "PARLEY_DEADLINE"), "2023-11-14T23:13:20Z");
	assert_string_equal(env_get(&h, "PARLEY_PARTY"), "kpa");
	assert_string_equal(env_get(&h, "PARLEY_EXCHANGE"), "hotline.example");
	s = env_get(&h, "PARLEY_SUMMARY");
	assert_int_equal(strlen(s), PL_AGENT_HOOK_SUMMARY_MAX - 1);
	assert_null(env_get(&h, "PARLEY_ROLE"));
	/* No class, no deadline: empty variables, still set. */
	r = rec(PL_KIND_STATEMENT, "unc");
	pl_agent_env_record(&h, r, id, 1, NULL, "kpa", "x");
	assert_string_equal(env_get(&h, "PARLEY_CLASS"), "");
	assert_string_equal(env_get(&h, "PARLEY_DEADLINE"), "");
	assert_string_equal(env_get(&h, "PARLEY_SUMMARY"), "");
	assert_string_equal(env_get(&h, "PARLEY_THREAD"), env_get(&h, "PARLEY_ID"));
}

static void test_env_deadline(void **state)
{
	static struct pl_agent_env h;
	static struct pl_agent_watches ws;
	uint8_t id[PL_RECORD_ID_BYTES];

	(void)state;
	memset(&ws, 0, sizeof(ws));
	memset(id, 0x01, sizeof(id));
	assert_int_equal(pl_agent_watch_add(&ws, send_rec(1700003600, "kpa"), id, "kpa"), 0);
	pl_agent_env_deadline(&h, &ws.v[0], 1700003600 - 900, "kpa", "hotline.example");
	assert_string_equal(env_get(&h, "PARLEY_EVENT"), "deadline");
	assert_string_equal(env_get(&h, "PARLEY_KIND"), "send");
	assert_string_equal(env_get(&h, "PARLEY_ROLE"), "intermediary");
	assert_string_equal(env_get(&h, "PARLEY_THREAD"), env_get(&h, "PARLEY_ID"));
	assert_string_equal(env_get(&h, "PARLEY_SUMMARY"),
	                    "proposal from unc: reply by 2023-11-14T23:13:20Z (in 15m), neither "
	                    "conveyed nor declined");
	assert_null(env_get(&h, "PARLEY_INDEX"));
}

static void test_env_limits_merge(void **state)
{
	static struct pl_agent_env h;
	static char big[PL_AGENT_HOOK_VARS_MAX * 2];
	char *base[] = {"PATH=/bin", "PARLEY_ID=forged", "PARLEY_IDX=kept", "HOME", NULL};
	char **envp;

	(void)state;
	memset(&h, 0, sizeof(h));
	pl_agent_env_set(&h, "PARLEY_ID", "abc");
	envp = pl_agent_env_merge(&h, base);
	assert_non_null(envp);
	assert_string_equal(envp[0], "PATH=/bin");
	assert_string_equal(envp[1], "PARLEY_IDX=kept");
	assert_string_equal(envp[2], "HOME");
	assert_string_equal(envp[3], "PARLEY_ID=abc");
	assert_null(envp[4]);
	free(envp);
	/* A value past the buffer is cut; variables past the count are dropped. */
	memset(big, 'x', sizeof(big) - 1);
	pl_agent_env_set(&h, "PARLEY_SUMMARY", big);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.used, sizeof(h.text));
	assert_int_equal(strlen(h.vars[1]), sizeof(h.text) - 1 - strlen("PARLEY_ID=abc") - 1);
	pl_agent_env_set(&h, "PARLEY_KIND", "send");
	assert_int_equal(h.n, 2);
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < PL_AGENT_HOOK_VARS + 3; i++)
		pl_agent_env_set(&h, "V", "1");
	assert_int_equal(h.n, PL_AGENT_HOOK_VARS);
	assert_null(h.vars[PL_AGENT_HOOK_VARS]);
}

/* The hook's run, by the real /bin/sh: its variables, its input, its ends. */
static void test_hook_run(void **state)
{
	static struct pl_agent_env h;
	struct pl_agent_hook_result res;
	char *envp[2] = {NULL, NULL};
	static const uint8_t in[] = "opened content\n";

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	memset(&h, 0, sizeof(h));
	pl_agent_env_set(&h, "PARLEY_KIND", "send");
	envp[0] = h.vars[0];
	pl_agent_hook_run("test \"$PARLEY_KIND\" = send", envp, NULL, 0, 10, &res);
	assert_int_equal(res.end, PL_AGENT_HOOK_DONE);
	pl_agent_hook_run("exit 3", envp, NULL, 0, 10, &res);
	assert_int_equal(res.end, PL_AGENT_HOOK_FAILED);
	assert_int_equal(res.code, 3);
	pl_agent_hook_run("test \"$(cat)\" = 'opened content'", envp, in, sizeof(in) - 1, 10, &res);
	assert_int_equal(res.end, PL_AGENT_HOOK_DONE);
	pl_agent_hook_run("read x; test -z \"$x\"", envp, NULL, 0, 10, &res);
	assert_int_equal(res.end, PL_AGENT_HOOK_DONE); /* no input: /dev/null */
	pl_agent_hook_run("kill -TERM $$", envp, NULL, 0, 10, &res);
	assert_int_equal(res.end, PL_AGENT_HOOK_SIGNALED);
	assert_int_equal(res.code, SIGTERM);
	pl_agent_hook_run("sleep 30", envp, NULL, 0, 1, &res);
	assert_int_equal(res.end, PL_AGENT_HOOK_KILLED);
	assert_int_equal(res.code, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_decide),       cmocka_unit_test(test_note_wants_act),
	        cmocka_unit_test(test_thread_of),    cmocka_unit_test(test_answer_when),
	        cmocka_unit_test(test_acts_records), cmocka_unit_test(test_backoff),
	        cmocka_unit_test(test_watch),        cmocka_unit_test(test_watch_full),
	        cmocka_unit_test(test_span),         cmocka_unit_test(test_env_record),
	        cmocka_unit_test(test_env_deadline), cmocka_unit_test(test_env_limits_merge),
	        cmocka_unit_test(test_hook_run),     cmocka_unit_test(test_handle),
	        cmocka_unit_test(test_next),         cmocka_unit_test(test_receipt_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
