/* Unit tests of a message's timeline in memory: targets, names, sentences and the status line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <parley/timeline.h>

#define MAXR 16

/* A thread built in memory: records, their items, the timeline over them. */
struct fixture {
	struct pl_record r[MAXR];
	struct pl_timeline_item v[MAXR];
	struct pl_timeline t;
};

static struct fixture fx;

static struct pl_record *add(enum pl_record_kind kind, const char *author, uint8_t id)
{
	size_t i = fx.t.n++;
	struct pl_record *r = &fx.r[i];

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	snprintf(r->author, sizeof(r->author), "%s", author);
	r->time = 1700000000 + (int64_t)i;
	fx.v[i].rec = r;
	memset(fx.v[i].id, id, PL_RECORD_ID_BYTES);
	pl_record_id_format(fx.v[i].hex, fx.v[i].id);
	return r;
}

/* Names party p (when not NULL) among r's to, and refers to the record 0xid... by role (when not
 * 0). */
static void about(struct pl_record *r, const char *p, enum pl_ref_role role, uint8_t id)
{
	if (p)
		snprintf(r->to[r->nto++], sizeof(r->to[0]), "%s", p);
	if (role) {
		r->refs[r->nrefs].role = role;
		memset(r->refs[r->nrefs].id, id, PL_RECORD_ID_BYTES);
		r->nrefs++;
	}
}

#define to(r, p)         about((r), (p), 0, 0)
#define ref(r, role, id) about((r), NULL, (role), (id))

static void reason(struct pl_record *r, const char *why)
{
	r->has |= PL_RECORD_HAS_REASON;
	snprintf(r->reason, sizeof(r->reason), "%s", why);
}

static void reset(void)
{
	memset(&fx, 0, sizeof(fx));
	fx.t.v = fx.v;
	fx.t.now = 1700000000;
}

/* A send and everything after it; 0xa1 is the send. */
static struct pl_record *send_via(const char *via, int64_t deadline)
{
	struct pl_record *s = add(PL_KIND_SEND, "rok-mnd", 0xa1);

	s->has |= PL_RECORD_HAS_CLASS;
	s->cls = PL_CLASS_LETTER;
	to(s, "kpa");
	if (via) {
		s->has |= PL_RECORD_HAS_VIA;
		snprintf(s->via, sizeof(s->via), "%s", via);
	}
	if (deadline) {
		s->has |= PL_RECORD_HAS_DEADLINE;
		s->deadline = deadline;
	}
	return s;
}

static void status_is(const char *want)
{
	struct pl_buf b;

	pl_buf_init(&b, 1 << 16);
	assert_int_equal(pl_timeline_status(&fx.t, &b), 0);
	assert_string_equal(b.data, want);
	pl_buf_release(&b);
}

static void link_a1(void)
{
	uint8_t id[PL_RECORD_ID_BYTES];

	memset(id, 0xa1, sizeof(id));
	assert_int_equal(pl_timeline_link(&fx.t, id), 0);
}

/* The exchange's expire of the send 0xa1 (to p, when not NULL) at time when; linked again. */
static void add_expire(const char *p, int64_t when)
{
	struct pl_record *r = add(PL_KIND_EXPIRE, "exchange", 0xb2);

	about(r, p, PL_ROLE_SUBJECT, 0xa1);
	r->time = when;
	link_a1();
}

static void test_conveyed(void **state)
{
	struct pl_record *r;

	(void)state;
	reset();
	send_via("unc", 0);
	r = add(PL_KIND_AVAILABLE, "exchange", 0xb1);
	to(r, "unc");
	ref(r, PL_ROLE_SUBJECT, 0xa1);
	ref(add(PL_KIND_RECEIVE, "unc", 0xb2), PL_ROLE_SUBJECT, 0xa1);
	link_a1();
	status_is(
	        "received (sealed) by unc, not yet conveyed to kpa; no public statement cites it");
	reset();
	send_via("unc", 0);
	ref(add(PL_KIND_RECEIVE, "unc", 0xb2), PL_ROLE_SUBJECT, 0xa1);
	ref(add(PL_KIND_CONVEY, "unc", 0xb3), PL_ROLE_SUBJECT, 0xa1);
	r = add(PL_KIND_AVAILABLE, "exchange", 0xb4);
	to(r, "kpa");
	ref(r, PL_ROLE_SUBJECT, 0xa1);
	ref(add(PL_KIND_RECEIVE, "kpa", 0xb5), PL_ROLE_SUBJECT, 0xa1);
	ref(add(PL_KIND_ACCEPT, "kpa", 0xb6), PL_ROLE_SUBJECT, 0xa1);
	r = add(PL_KIND_SEND, "kpa", 0xc1);
	r->has |= PL_RECORD_HAS_CLASS;
	r->cls = PL_CLASS_MESSAGE;
	to(r, "rok-mnd");
	ref(r, PL_ROLE_REPLY_TO, 0xa1);
	r = add(PL_KIND_AVAILABLE, "exchange", 0xc2);
	to(r, "rok-mnd");
	ref(r, PL_ROLE_SUBJECT, 0xc1);
	link_a1();
	assert_ptr_equal(fx.t.subject, &fx.v[0]);
	assert_null(fx.v[0].target);
	assert_ptr_equal(fx.v[1].target, &fx.v[0]);
	assert_ptr_equal(fx.v[6].target, &fx.v[0]); /* the reply answers the send */
	assert_ptr_equal(fx.v[7].target, &fx.v[6]); /* made the reply available */
	status_is("conveyed by unc; accepted by kpa; 1 reply; no public statement cites it");
	pl_timeline_describe(&fx.t);
	assert_string_equal(fx.v[2].what, "conveyed it to kpa");
	assert_string_equal(fx.v[5].what, "accepted it");
	assert_string_equal(fx.v[7].what, "made the reply "
	                                  "c1c1c1c1"
	                                  " available to rok-mnd");
}

static void test_declined_refused_expired(void **state)
{
	struct pl_record *r;

	(void)state;
	reset();
	send_via("unc", 0);
	ref(add(PL_KIND_RECEIVE, "unc", 0xb2), PL_ROLE_SUBJECT, 0xa1);
	r = add(PL_KIND_DECLINE, "unc", 0xb3);
	ref(r, PL_ROLE_SUBJECT, 0xa1);
	reason(r, "Outside the remit");
	r = add(PL_KIND_STATEMENT, "unc", 0xb4);
	ref(r, PL_ROLE_CITES, 0xa1);
	link_a1();
	status_is("received (sealed) by unc, declined: \"Outside the remit\"; never made available "
	          "to kpa; "
	          "1 public statement cites it");
	reset();
	send_via(NULL, 0);
	r = add(PL_KIND_REFUSE, "kpa", 0xb3);
	ref(r, PL_ROLE_SUBJECT, 0xa1);
	reason(r, "Not through this channel");
	link_a1();
	status_is("refused by kpa: \"Not through this channel\"; no public statement cites it");
	reset();
	send_via(NULL, 1700000000 - 10);
	r = add(PL_KIND_AVAILABLE, "exchange", 0xb1);
	to(r, "kpa");
	ref(r, PL_ROLE_SUBJECT, 0xa1);
	link_a1();
	status_is("made available to kpa (not received), no decision yet; deadline passed (expiry "
	          "not yet recorded); no public statement cites it");
	add_expire("kpa", 1699999995);
	status_is("made available to kpa (not received), neither accepted nor refused: expired at "
	          "2023-11-14T22:13:15Z; no public statement cites it");
}

static void test_via_overdue(void **state)
{
	(void)state;
	reset();
	send_via("unc", 1699999000);
	link_a1();
	status_is("not made available to unc, not conveyed to kpa by the deadline "
	          "2023-11-14T21:56:40Z (expiry not yet recorded); no public statement cites it");
	add_expire(NULL, 1699999001);
	status_is("not made available to unc, never conveyed to kpa: expired at "
	          "2023-11-14T21:56:41Z; no public statement cites it");
}

static void test_consult_statement(void **state)
{
	struct pl_record *r;

	(void)state;
	reset();
	r = add(PL_KIND_CONSULT, "rok-mnd", 0xa1);
	to(r, "kpa");
	to(r, "unc");
	r = add(PL_KIND_ADVISE, "unc", 0xb1);
	ref(r, PL_ROLE_CONSULT, 0xa1);
	r->has |= PL_RECORD_HAS_POSITION;
	r->position = PL_POSITION_NOTED;
	link_a1();
	status_is("kpa has not advised yet; unc advised noted; no public statement cites it");
	reset();
	r = add(PL_KIND_STATEMENT, "unc", 0xa1);
	r->has |= PL_RECORD_HAS_CLASS;
	r->cls = PL_CLASS_MEASURE;
	ref(r, PL_ROLE_CITES, 0xee);
	ref(r, PL_ROLE_CITES, 0xef);
	r = add(PL_KIND_STATEMENT, "dprk", 0xb1);
	ref(r, PL_ROLE_CITES, 0xa1);
	r = add(PL_KIND_STATEMENT, "rok", 0xb2);
	ref(r, PL_ROLE_CITES, 0xa1);
	link_a1();
	status_is("public measure by unc; 2 public statements cite it");
	pl_timeline_cite(&fx.t, "the proposal eeeeeeee", 0, 3);
	pl_timeline_cite(&fx.t, "the record efefefef", 1, 3);
	pl_timeline_cite(&fx.t, "the letter 12345678", 2, 3);
	assert_string_equal(fx.t.cited,
	                    "the proposal eeeeeeee, the record efefefef and the letter 12345678");
}

static void test_names_and_missing(void **state)
{
	uint8_t id[PL_RECORD_ID_BYTES];
	char b[64];
	struct pl_record *r;

	(void)state;
	reset();
	send_via(NULL, 0);
	r = add(PL_KIND_SEND, "kpa", 0xc1);
	ref(r, PL_ROLE_REPLY_TO, 0xa1);
	add(PL_KIND_CHECK, "exchange", 0xc2);
	r = add(PL_KIND_SEND, "kpa", 0xc3);
	r->has |= PL_RECORD_HAS_CLASS;
	r->cls = PL_CLASS_PROPOSAL;
	link_a1();
	pl_timeline_name(b, sizeof(b), &fx.t, NULL);
	assert_string_equal(b, "it");
	pl_timeline_name(b, sizeof(b), &fx.t, &fx.v[0]);
	assert_string_equal(b, "it");
	pl_timeline_name(b, sizeof(b), &fx.t, &fx.v[1]);
	assert_string_equal(b, "the reply c1c1c1c1");
	pl_timeline_name(b, sizeof(b), &fx.t, &fx.v[2]);
	assert_string_equal(b, "the check c2c2c2c2");
	pl_timeline_name(b, sizeof(b), &fx.t, &fx.v[3]);
	assert_string_equal(b, "the proposal c3c3c3c3");
	memset(id, 0x99, sizeof(id));
	assert_int_equal(pl_timeline_link(&fx.t, id), PL_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_conveyed),
	        cmocka_unit_test(test_declined_refused_expired),
	        cmocka_unit_test(test_via_overdue),
	        cmocka_unit_test(test_consult_statement),
	        cmocka_unit_test(test_names_and_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
