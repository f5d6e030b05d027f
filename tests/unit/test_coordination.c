/*
 * Unit tests of the coordination judgement: a group of rok-mnd, rok-mou and us-wh about dprk and
 * kpa, with a seven-day window; us-wh's letter to kpa judged against every shape of
 * consultation (none, partial, late, early, objected, concurred, named, another member's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <parley/coordination.h>

#include "testutil.h"

#define DAY 86400
#define T0  1763971200 /* 2025-11-24T08:00:00Z: the group is formed */
#define MAX 8

/* The evidence of one case: records with their ids (the id's first byte numbers it). */
struct evidence {
	struct pl_record rec[3 * MAX + 1];
	uint8_t id[3 * MAX + 1][PL_RECORD_ID_BYTES];
	size_t n;
	struct pl_coordination_record versions[MAX], consults[MAX], advises[MAX];
	size_t nversions, nconsults, nadvises;
};

static struct evidence *ev;

static struct pl_record *add(struct pl_coordination_record *list, size_t *n,
                             enum pl_record_kind kind, const char *author, int64_t t)
{
	struct pl_record *r = &ev->rec[ev->n];

	memset(r, 0, offsetof(struct pl_record, body));
	r->kind = kind;
	snprintf(r->author, sizeof(r->author), "%s", author);
	r->time = t;
	memset(ev->id[ev->n], 0, PL_RECORD_ID_BYTES);
	ev->id[ev->n][0] = (uint8_t)(ev->n + 1);
	if (list) {
		list[*n].rec = r;
		list[*n].id = ev->id[ev->n];
		list[*n].index = ev->n;
		(*n)++;
	}
	ev->n++;
	return r;
}

/* A version of the group; the first has no ref. Members and counterparts, each sorted. */
static const struct pl_coordination_record *version(const char *author, int64_t t,
                                                    const char *const *members)
{
	struct pl_record *g = add(ev->versions, &ev->nversions, PL_KIND_GROUP, author, t);

	for (size_t i = 0; members[i]; i++)
		pl_test_add_to(g, members[i]);
	snprintf(g->group, sizeof(g->group), "allies-rok-us");
	snprintf(g->about[g->nabout++], sizeof(g->about[0]), "dprk");
	snprintf(g->about[g->nabout++], sizeof(g->about[0]), "kpa");
	g->window_days = 7;
	g->has |= PL_RECORD_HAS_GROUP | PL_RECORD_HAS_WINDOW;
	if (ev->nversions > 1)
		pl_test_add_ref(g, PL_ROLE_GROUP, ev->versions[ev->nversions - 2].id);
	return &ev->versions[ev->nversions - 1];
}

static const char *const ALL[] = {"rok-mnd", "rok-mou", "us-wh", NULL};

/* A consult by author at t to the parties of to (NULL-terminated), in the last version or none. */
static const struct pl_coordination_record *consult(const char *author, int64_t t,
                                                    const char *const *to, bool in_group)
{
	struct pl_record *c = add(ev->consults, &ev->nconsults, PL_KIND_CONSULT, author, t);

	for (size_t i = 0; to[i]; i++)
		pl_test_add_to(c, to[i]);
	if (in_group)
		pl_test_add_ref(c, PL_ROLE_GROUP, ev->versions[ev->nversions - 1].id);
	return &ev->consults[ev->nconsults - 1];
}

static void advise(const char *author, int64_t t, const struct pl_coordination_record *c,
                   enum pl_position pos)
{
	struct pl_record *a = add(ev->advises, &ev->nadvises, PL_KIND_ADVISE, author, t);

	pl_test_add_ref(a, PL_ROLE_CONSULT, c->id);
	a->position = pos;
	a->has |= PL_RECORD_HAS_POSITION;
}

/* The act: a send by author at t to rcpt (via: NULL for none), or a statement of class cls. */
static struct pl_coordination_record act_send(const char *author, int64_t t, const char *rcpt,
                                              const char *via)
{
	struct pl_record *s = add(NULL, NULL, PL_KIND_SEND, author, t);
	struct pl_coordination_record a = {s, ev->id[ev->n - 1], ev->n - 1};

	pl_test_set_message(s, rcpt, 100);
	s->cls = PL_CLASS_LETTER;
	if (via)
		pl_test_set_via(s, via);
	return a;
}

static struct pl_coordination_record act_statement(const char *author, int64_t t,
                                                   enum pl_record_class cls)
{
	struct pl_record *s = add(NULL, NULL, PL_KIND_STATEMENT, author, t);
	struct pl_coordination_record a = {s, ev->id[ev->n - 1], ev->n - 1};

	s->cls = cls;
	s->has |= PL_RECORD_HAS_CLASS;
	return a;
}

static struct pl_coordination_result judge(struct pl_coordination_record act)
{
	struct pl_coordination_input in = {
	        .act = act,
	        .versions = ev->versions,
	        .nversions = ev->nversions,
	        .consults = ev->consults,
	        .nconsults = ev->nconsults,
	        .advises = ev->advises,
	        .nadvises = ev->nadvises,
	};
	struct pl_coordination_result res;

	assert_int_equal(pl_coordination_judge(&in, &res), 0);
	return res;
}

static void fresh(void)
{
	ev->n = 0;
	ev->nversions = ev->nconsults = ev->nadvises = 0;
	version("us-wh", T0, ALL);
}

static const char *const MND_MOU[] = {"rok-mnd", "rok-mou", NULL};
static const char *const MND[] = {"rok-mnd", NULL};
static const char *const WH[] = {"us-wh", NULL};

static void test_not_consulted(void **state)
{
	struct pl_coordination_result r;

	(void)state;
	fresh();
	r = judge(act_send("us-wh", T0 + 10 * DAY, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_UNCOORDINATED);
	assert_string_equal(pl_coordination_verdict_name(r.verdict), "uncoordinated");
	assert_string_equal(r.counterpart, "kpa");
	assert_int_equal(r.version, 0);
	assert_int_equal(r.nconsults, 0);
	assert_int_equal(r.nmissing, 2);
	assert_string_equal(r.missing[0], "rok-mnd");
	assert_string_equal(r.missing[1], "rok-mou");
	assert_int_equal(r.objection, SIZE_MAX);
}

static void test_coordinated_and_window(void **state)
{
	struct pl_coordination_record a;
	struct pl_coordination_result r;
	const struct pl_coordination_record *c;

	(void)state;
	fresh();
	c = consult("us-wh", T0 + 9 * DAY, MND_MOU, true);
	advise("rok-mnd", T0 + 9 * DAY + 60, c, PL_POSITION_CONCUR);
	r = judge(act_send("us-wh", T0 + 10 * DAY, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_COORDINATED);
	assert_int_equal(r.nconsults, 1);
	assert_int_equal(r.consults[0], 0);
	assert_int_equal(r.nmissing, 0);
	/* Exactly at the window's start still counts; a second before it does not. */
	r = judge(act_send("us-wh", T0 + 16 * DAY, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_COORDINATED);
	r = judge(act_send("us-wh", T0 + 16 * DAY + 1, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_UNCOORDINATED);
	/* A consult after the act does not stand for it, by time or by log order. */
	r = judge(act_send("us-wh", T0 + 9 * DAY - 1, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_UNCOORDINATED);
	fresh();
	a = act_send("us-wh", T0 + DAY, "kpa", NULL);
	consult("us-wh", T0 + DAY, MND_MOU, true);
	r = judge(a);
	assert_int_equal(r.verdict, PL_COORDINATION_UNCOORDINATED);
	assert_int_equal(r.nconsults, 0);
}

static void test_partial_and_others(void **state)
{
	struct pl_coordination_result r;

	(void)state;
	fresh();
	consult("us-wh", T0 + DAY, MND, true);
	/* Another member's consult, and one outside the group, do not stand for us-wh's act. */
	consult("rok-mou", T0 + DAY, WH, true);
	consult("us-wh", T0 + DAY, MND_MOU, false);
	r = judge(act_send("us-wh", T0 + 2 * DAY, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_UNCOORDINATED);
	assert_int_equal(r.nconsults, 1);
	assert_int_equal(r.nmissing, 1);
	assert_string_equal(r.missing[0], "rok-mou");
}

static void test_objected(void **state)
{
	struct pl_coordination_result r;
	const struct pl_coordination_record *c;

	(void)state;
	fresh();
	c = consult("us-wh", T0 + DAY, MND_MOU, true);
	advise("rok-mou", T0 + DAY + 60, c, PL_POSITION_CONCUR);
	/* An objection after the act came too late to be overridden. */
	advise("rok-mnd", T0 + 3 * DAY, c, PL_POSITION_OBJECT);
	r = judge(act_send("us-wh", T0 + 2 * DAY, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_COORDINATED);
	r = judge(act_send("us-wh", T0 + 4 * DAY, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_OBJECTED);
	assert_string_equal(pl_coordination_verdict_name(r.verdict), "against objection");
	assert_int_equal(r.objection, 1);
	/* An objection by a party that is not a member weighs nothing. */
	fresh();
	c = consult("us-wh", T0 + DAY, MND_MOU, true);
	advise("kpa", T0 + DAY + 60, c, PL_POSITION_OBJECT);
	advise("rok-mnd", T0 + DAY + 60, c, PL_POSITION_NOTED);
	r = judge(act_send("us-wh", T0 + 2 * DAY, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_COORDINATED);
}

static void test_named_consult(void **state)
{
	struct pl_coordination_result r;
	struct pl_coordination_record a;
	const struct pl_coordination_record *full, *partial, *outside;

	(void)state;
	fresh();
	full = consult("us-wh", T0 + DAY, MND_MOU, true);
	partial = consult("us-wh", T0 + DAY, MND, true);
	outside = consult("us-wh", T0 + DAY, MND_MOU, false);
	/* The act names the partial consult: the full one does not stand for it. */
	a = act_send("us-wh", T0 + 2 * DAY, "kpa", NULL);
	pl_test_add_ref((struct pl_record *)a.rec, PL_ROLE_CONSULT, partial->id);
	r = judge(a);
	assert_int_equal(r.verdict, PL_COORDINATION_UNCOORDINATED);
	assert_int_equal(r.nconsults, 1);
	assert_int_equal(r.consults[0], 1);
	/* A consult made outside the group counts when the act names it. */
	a = act_send("us-wh", T0 + 2 * DAY, "kpa", NULL);
	pl_test_add_ref((struct pl_record *)a.rec, PL_ROLE_CONSULT, outside->id);
	r = judge(a);
	assert_int_equal(r.verdict, PL_COORDINATION_COORDINATED);
	assert_int_equal(r.consults[0], 2);
	(void)full;
}

static void test_not_the_groups_business(void **state)
{
	struct pl_coordination_result r;

	(void)state;
	fresh();
	r = judge(act_send("us-wh", T0 + DAY, "unc", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_NONE);
	assert_string_equal(pl_coordination_verdict_name(r.verdict), "");
	r = judge(act_send("unc", T0 + DAY, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_NONE);
	r = judge(act_send("us-wh", T0 - 1, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_NONE);
	r = judge(act_statement("us-wh", T0 + DAY, PL_CLASS_STATEMENT));
	assert_int_equal(r.verdict, PL_COORDINATION_NONE);
	/* Through a counterpart as intermediary, and a measure, are signals to the counterpart. */
	r = judge(act_send("us-wh", T0 + DAY, "unc", "dprk"));
	assert_int_equal(r.verdict, PL_COORDINATION_UNCOORDINATED);
	assert_string_equal(r.counterpart, "dprk");
	r = judge(act_statement("rok-mnd", T0 + DAY, PL_CLASS_MEASURE));
	assert_int_equal(r.verdict, PL_COORDINATION_UNCOORDINATED);
	assert_string_equal(r.missing[0], "rok-mou");
	assert_string_equal(r.missing[1], "us-wh");
	/* A group of one has nobody to consult. */
	fresh();
	version("us-wh", T0 + DAY, WH);
	r = judge(act_send("us-wh", T0 + 2 * DAY, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_NONE);
}

static void test_membership_changes(void **state)
{
	static const char *const MND_WH[] = {"rok-mnd", "us-wh", NULL};
	struct pl_coordination_result r;

	(void)state;
	fresh();
	version("rok-mnd", T0 + 5 * DAY, MND_WH);
	consult("us-wh", T0 + 5 * DAY, MND, true);
	/* After the change, rok-mou is no longer a member to consult. */
	r = judge(act_send("us-wh", T0 + 6 * DAY, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_COORDINATED);
	assert_int_equal(r.version, 1);
	/* Before it, rok-mou was. */
	r = judge(act_send("us-wh", T0 + 4 * DAY, "kpa", NULL));
	assert_int_equal(r.verdict, PL_COORDINATION_UNCOORDINATED);
	assert_int_equal(r.version, 0);
	assert_true(pl_coordination_in_group(ev->consults[0].rec, ev->versions, ev->nversions));
	assert_true(pl_coordination_in_group(ev->versions[1].rec, ev->versions, 1));
	assert_false(pl_coordination_in_group(ev->consults[0].rec, ev->versions, 1));
}

/* The one wording of each verdict, with the records it rests on. */
static void test_explain(void **state)
{
	struct pl_coordination_input in;
	struct pl_coordination_result r;
	const struct pl_coordination_record *c;
	char out[512];

	(void)state;
	fresh();
	memset(&in, 0, sizeof(in));
	in.act = act_send("us-wh", T0 + DAY, "kpa", NULL);
	in.versions = ev->versions;
	in.nversions = ev->nversions;
	in.consults = ev->consults;
	in.advises = ev->advises;
	assert_int_equal(pl_coordination_judge(&in, &r), 0);
	pl_coordination_explain(out, sizeof(out), &in, &r);
	assert_string_equal(out, "uncoordinated with rok-mnd and rok-mou in group allies-rok-us: "
	                         "were not consulted in the 7 days before it");
	c = consult("us-wh", T0 + DAY, MND_MOU, true);
	advise("rok-mou", T0 + DAY, c, PL_POSITION_OBJECT);
	in.act = act_send("us-wh", T0 + 2 * DAY, "kpa", NULL);
	in.nconsults = ev->nconsults;
	in.nadvises = ev->nadvises;
	assert_int_equal(pl_coordination_judge(&in, &r), 0);
	pl_coordination_explain(out, sizeof(out), &in, &r);
	/* The ids' first bytes number the records: consult 3, advise 4. */
	assert_string_equal(out, "against objection in group allies-rok-us: rok-mou objected "
	                         "(advise 04000000) to consult 03000000, and it went out anyway");
	ev->advises[0].rec = ev->versions[0].rec; /* no longer an advise */
	assert_int_equal(pl_coordination_judge(&in, &r), 0);
	pl_coordination_explain(out, sizeof(out), &in, &r);
	assert_string_equal(out, "coordinated in group allies-rok-us: consult 03000000 named every "
	                         "other member in the 7 days before it, none objected");
	/* Cut at the size given, and nothing for what is not the group's business. */
	pl_coordination_explain(out, 12, &in, &r);
	assert_string_equal(out, "coordinated");
	in.act = act_send("us-wh", T0 + 2 * DAY, "unc", NULL);
	assert_int_equal(pl_coordination_judge(&in, &r), 0);
	pl_coordination_explain(out, sizeof(out), &in, &r);
	assert_string_equal(out, "");
}

static void test_bad_input(void **state)
{
	struct pl_coordination_input in;
	struct pl_coordination_result r;

	(void)state;
	fresh();
	memset(&in, 0, sizeof(in));
	assert_int_equal(pl_coordination_judge(NULL, &r), PL_EINVAL);
	assert_int_equal(pl_coordination_judge(&in, &r), PL_EINVAL);
	in.act = act_send("us-wh", T0 + DAY, "kpa", NULL);
	assert_int_equal(pl_coordination_judge(&in, &r), PL_EINVAL);
	in.versions = ev->versions;
	in.nversions = 1;
	in.nconsults = 1;
	assert_int_equal(pl_coordination_judge(&in, &r), PL_EINVAL);
	in.nconsults = 0;
	assert_int_equal(pl_coordination_judge(&in, NULL), PL_EINVAL);
	assert_int_equal(pl_coordination_judge(&in, &r), 0);
}

static int setup(void **state)
{
	(void)state;
	ev = calloc(1, sizeof(*ev));
	return ev ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(ev);
	return 0;
}

PL_TEST_MAIN(setup, teardown, cmocka_unit_test(test_not_consulted),
             cmocka_unit_test(test_coordinated_and_window),
             cmocka_unit_test(test_partial_and_others), cmocka_unit_test(test_objected),
             cmocka_unit_test(test_named_consult), cmocka_unit_test(test_not_the_groups_business),
             cmocka_unit_test(test_membership_changes), cmocka_unit_test(test_explain),
             cmocka_unit_test(test_bad_input))
