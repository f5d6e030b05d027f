/* Unit tests of the need-to-know rule: every kind of record against every kind of reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <parley/visibility.h>

#include "testutil.h"

/*
 * The cast: snd writes the send or consult, rcp receives it (an ally of the
 * consult, an end of the line), rly relays the send, end is the line's other
 * end (and a second ally), oth has nothing to do with any of it. The last two
 * readers are an auditor (aud) and anyone at all (pub, no party).
 */
enum { SND, RCP, RLY, END, OTH, AUD, PUB, NREADERS };

static const struct pl_reader readers[NREADERS] = {
        {"snd", false}, {"rcp", false}, {"rly", false}, {"end", false},
        {"oth", false}, {"oth", true},  {NULL, false},
};

static const uint8_t some_id[PL_RECORD_ID_BYTES] = {1, 2, 3};

/* What the table's records act on. */
enum about { NONE, SEND, CONSULT, CHECK, GROUP };

/*
 * One row: a record of kind, by author, with `to` lines to1, to2 and `via`
 * (NULL: none), acting on about, and whom it reaches: one Y or N per reader,
 * in the order snd rcp rly end oth aud pub.
 */
static const struct row {
	const char *what;
	enum pl_record_kind kind;
	const char *author, *to1, *to2, *via;
	enum about about;
	const char *expect;
} rows[] = {
        {"send", PL_KIND_SEND, "snd", "rcp", NULL, "rly", NONE, "YYYNNYN"},
        {"direct send", PL_KIND_SEND, "snd", "rcp", NULL, NULL, NONE, "YYNNNYN"},
        {"reply to the send", PL_KIND_SEND, "rcp", "snd", NULL, NULL, NONE, "YYNNNYN"},
        {"receive by the relay", PL_KIND_RECEIVE, "rly", NULL, NULL, NULL, SEND, "YYYNNYN"},
        {"receive by a recipient", PL_KIND_RECEIVE, "rcp", NULL, NULL, NULL, SEND, "YYYNNYN"},
        {"convey", PL_KIND_CONVEY, "rly", NULL, NULL, NULL, SEND, "YYYNNYN"},
        {"decline", PL_KIND_DECLINE, "rly", NULL, NULL, NULL, SEND, "YYYNNYN"},
        {"accept", PL_KIND_ACCEPT, "rcp", NULL, NULL, NULL, SEND, "YYYNNYN"},
        {"refuse", PL_KIND_REFUSE, "rcp", NULL, NULL, NULL, SEND, "YYYNNYN"},
        {"available", PL_KIND_AVAILABLE, "exchange", "rly", NULL, NULL, SEND, "YYYNNYN"},
        {"expire", PL_KIND_EXPIRE, "exchange", "rcp", NULL, "rly", SEND, "YYYNNYN"},
        {"statement", PL_KIND_STATEMENT, "oth", NULL, NULL, NULL, NONE, "YYYYYYY"},
        {"consult", PL_KIND_CONSULT, "snd", "rcp", "end", NULL, NONE, "YYNYNYN"},
        {"advise", PL_KIND_ADVISE, "rcp", NULL, NULL, NULL, CONSULT, "YYNYNYN"},
        {"check", PL_KIND_CHECK, "exchange", "rcp", "end", NULL, NONE, "NYNYNYN"},
        {"answer", PL_KIND_ANSWER, "rcp", NULL, NULL, NULL, CHECK, "NYNYNYN"},
        {"unanswered", PL_KIND_UNANSWERED, "exchange", "end", NULL, NULL, CHECK, "NYNYNYN"},
        {"register", PL_KIND_REGISTER, "exchange", NULL, NULL, NULL, NONE, "YYYYYYY"},
        {"revoke", PL_KIND_REVOKE, "exchange", NULL, NULL, NULL, NONE, "YYYYYYY"},
        {"index", PL_KIND_INDEX, "exchange", NULL, NULL, NULL, NONE, "YYYYYYY"},
        {"missed", PL_KIND_MISSED, "exchange", "rcp", "end", NULL, NONE, "NYNYNYN"},
        /* A change of a group (snd, rcp) about oth to (snd, end): read by the members of
         * both versions, never by the counterpart. */
        {"group change", PL_KIND_GROUP, "snd", "snd", "end", NULL, GROUP, "YYNYNYN"},
        /* A consult in that group by snd to end only: the member rcp reads it too. */
        {"consult in a group", PL_KIND_CONSULT, "snd", "end", NULL, NULL, GROUP, "YYNYNYN"},
};

/* A record of kind by author, to[], via (NULL: none). */
static struct pl_record *mk(enum pl_record_kind kind, const char *author, const char *to1,
                            const char *to2, const char *via)
{
	struct pl_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->kind = kind;
	snprintf(r->author, sizeof(r->author), "%s", author);
	if (to1)
		pl_test_add_to(r, to1);
	if (to2)
		pl_test_add_to(r, to2);
	if (via)
		pl_test_set_via(r, via);
	return r;
}

/* The send, consult and check the table's records act on. */
static struct pl_record *mk_about(enum about a)
{
	switch (a) {
	case SEND:
		return mk(PL_KIND_SEND, "snd", "rcp", NULL, "rly");
	case CONSULT:
		return mk(PL_KIND_CONSULT, "snd", "rcp", "end", NULL);
	case CHECK:
		return mk(PL_KIND_CHECK, "exchange", "end", "rcp", NULL);
	case GROUP: {
		struct pl_record *g = mk(PL_KIND_GROUP, "snd", "rcp", "snd", NULL);
		snprintf(g->about[g->nabout++], sizeof(g->about[0]), "%s", "oth");
		return g;
	}
	default:
		return NULL;
	}
}

static void test_table(void **state)
{
	bool kinds[PL_KIND_COUNT + 1] = {false};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		struct pl_record *r = mk(w->kind, w->author, w->to1, w->to2, w->via);
		struct pl_record *a = mk_about(w->about);
		kinds[w->kind] = true;
		if (w->about != NONE) {
			pl_test_add_ref(r, pl_visibility_about_role(w->kind), some_id);
			assert_int_not_equal(pl_visibility_about_role(w->kind), 0);
		} else if (w->kind != PL_KIND_CONSULT) {
			/* A consult acts on a group only when made in one. */
			assert_int_equal(pl_visibility_about_role(w->kind), 0);
		}
		for (int k = 0; k < NREADERS; k++) {
			bool want = w->expect[k] == 'Y';
			if (pl_visibility_may_read(&readers[k], r, a) != want)
				fail_msg("%s: reader %d (%s%s): expected %s", w->what, k,
				         readers[k].party ? readers[k].party : "anyone",
				         readers[k].auditor ? ", auditor" : "",
				         want ? "readable" : "hidden");
		}
		assert_int_equal(pl_visibility_kind_is_public(w->kind), w->expect[PUB] == 'Y');
		free(r);
		free(a);
	}
	for (int k = 1; k <= PL_KIND_COUNT; k++)
		if (!kinds[k])
			fail_msg("kind %s has no row", pl_record_kind_name((enum pl_record_kind)k));
}

/* A record whose target is missing or of the wrong kind reaches only its own names. */
static void test_about_missing_or_wrong(void **state)
{
	struct pl_record *conv = mk(PL_KIND_CONVEY, "rly", NULL, NULL, NULL);
	struct pl_record *consult = mk(PL_KIND_CONSULT, "snd", "rcp", NULL, NULL);
	struct pl_record *send = mk_about(SEND);

	(void)state;
	pl_test_add_ref(conv, PL_ROLE_SUBJECT, some_id);
	assert_true(pl_visibility_may_read(&readers[RLY], conv, NULL));
	assert_false(pl_visibility_may_read(&readers[SND], conv, NULL));
	assert_false(pl_visibility_may_read(&readers[SND], conv, consult));
	assert_true(pl_visibility_may_read(&readers[SND], conv, send));
	/* A statement citing a send is public, but lends the send nothing. */
	assert_false(pl_visibility_may_read(&readers[OTH], send, NULL));
	free(conv);
	free(consult);
	free(send);
}

/* No reader, a reader without a party, and the exchange's reserved name read only what is public.
 */
static void test_no_party(void **state)
{
	struct pl_record *check = mk_about(CHECK);
	struct pl_record *st = mk(PL_KIND_STATEMENT, "snd", NULL, NULL, NULL);
	const struct pl_reader ex = {"exchange", false}, aud = {NULL, true};

	(void)state;
	assert_false(pl_visibility_may_read(NULL, check, NULL));
	assert_true(pl_visibility_may_read(NULL, st, NULL));
	assert_false(pl_visibility_may_read(&ex, check, NULL));
	assert_true(pl_visibility_may_read(&aud, check, NULL));
	assert_false(pl_visibility_may_read(&aud, NULL, NULL));
	free(check);
	free(st);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_table),
             cmocka_unit_test(test_about_missing_or_wrong), cmocka_unit_test(test_no_party))
