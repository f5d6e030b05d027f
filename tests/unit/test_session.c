/*
 * Unit tests of the member session without an exchange to talk to: opening
 * a profile (none there, an identity missing or named for another exchange),
 * the clock, and how a failed call says why and whose fault it is (a
 * malformed record id, a checkpoint the log key did not sign, an exchange
 * that does not answer); and what a member authors, up to the submission
 * (pl_author()): a statement's body, an empty one, one over the limit, a
 * malformed reference, a kind no member authors; and an enrolment that
 * fails before anything is written (pl_enrol()); a line's report when the
 * exchange does not answer (pl_line_report_load()), a thread's
 * (pl_thread_load()) and a dossier export's (pl_member_export()). The calls
 * that need an
 * exchange run in the CLI's integration tests against a real parleyd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/author.h>
#include <parley/enrolment.h>
#include <parley/line_report.h>
#include <parley/member_export.h>
#include <parley/thread.h>
#include <parley/party.h>
#include <parley/session.h>

#include "testutil.h"

#define ORIGIN "hotline.example"

struct fixture {
	struct pl_profile profile; /* the profile in memory: no file in dir */
	char dir[256];             /* the key directory, the state beside it */
	char state[300];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pl_skey log_sk;

	if (!f || sodium_init() < 0 || pl_test_tmpdir(f->dir, sizeof(f->dir), "parley-session") ||
	    pl_party_create(NULL, f->dir, ORIGIN, "kpa") != 0)
		return -1;
	snprintf(f->state, sizeof(f->state), "%s/state.db", f->dir);
	snprintf(f->profile.exchange, sizeof(f->profile.exchange), "http://127.0.0.1:1");
	snprintf(f->profile.origin, sizeof(f->profile.origin), ORIGIN);
	snprintf(f->profile.party, sizeof(f->profile.party), "kpa");
	snprintf(f->profile.key_dir, sizeof(f->profile.key_dir), "%s", f->dir);
	snprintf(f->profile.state, sizeof(f->profile.state), "%s", f->state);
	pl_test_fixed_key(&log_sk, &f->profile.log_key, ORIGIN, PL_SIGTYPE_ED25519);
	pl_skey_clear(&log_sk);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const files[] = {"kpa.skey", "kpa.vkey", "kpa.dkey", "kpa.ekey"};
	char path[400];

	pl_test_remove_db(f->state);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int64_t fixed_clock(void)
{
	return 1764000000;
}

static void test_open_failures(void **state)
{
	struct fixture *f = *state;
	struct pl_session s;
	struct pl_profile p = f->profile;

	/* No profile file in the directory. */
	assert_int_equal(pl_session_open(&s, f->dir, NULL, NULL), PL_ENOTFOUND);
	assert_int_equal(s.blame, PL_BLAME_LOCAL);
	assert_non_null(strstr(s.why, "no profile in"));
	assert_null(s.client);
	/* No identity of that party in the key directory. */
	snprintf(p.party, sizeof(p.party), "rok");
	assert_int_not_equal(pl_session_open(&s, f->dir, &p, NULL), 0);
	assert_int_equal(s.blame, PL_BLAME_LOCAL);
	assert_memory_equal(s.why, "identity of rok in ", strlen("identity of rok in "));
	/* An identity named for another exchange. */
	p = f->profile;
	snprintf(p.origin, sizeof(p.origin), "other.example");
	assert_int_equal(pl_session_open(&s, f->dir, &p, NULL), PL_EINVAL);
	assert_non_null(strstr(s.why, "named for exchange 'hotline.example', not 'other.example'"));
	pl_session_close(&s);
	pl_session_close(&s);
}

static void test_open_and_clock(void **state)
{
	struct fixture *f = *state;
	struct pl_session s;

	assert_int_equal(pl_session_open(&s, f->dir, &f->profile, fixed_clock), 0);
	assert_non_null(s.client);
	assert_non_null(s.state);
	assert_string_equal(s.me.name, "kpa");
	assert_int_equal(pl_session_now(&s), 1764000000);
	s.clock = NULL;
	assert_true(pl_session_now(&s) > 1764000000);
	pl_session_close(&s);
}

static void test_failures_say_why(void **state)
{
	struct fixture *f = *state;
	static const char bad_note[] = "hotline.example\n1\nAAAA\n\n— hotline.example AAAA\n";
	struct pl_session s;
	struct pl_session_record r;
	int err;

	memset(&r, 0, sizeof(r));
	assert_int_equal(pl_session_open(&s, f->dir, &f->profile, NULL), 0);
	/* A malformed id: the member's fault, no request made. */
	assert_int_equal(pl_session_resolve(&s, "zz", &r), PL_EINVAL);
	assert_int_equal(s.blame, PL_BLAME_LOCAL);
	assert_string_equal(s.why, "record id 'zz': not 8 to 64 hex digits");
	assert_int_equal(pl_session_resolve(&s, "0123456x", &r), PL_EINVAL);
	assert_string_equal(s.why, "record id '0123456x': not hex digits");
	/* A checkpoint the pinned log key did not sign: the exchange's evidence. */
	assert_int_not_equal(pl_session_checkpoint(&s, bad_note, strlen(bad_note), NULL), 0);
	assert_int_equal(s.blame, PL_BLAME_EVIDENCE);
	assert_non_null(strstr(s.why, "does not verify with the pinned log key"));
	assert_null(s.split);
	/* An exchange that does not answer: nothing proven. */
	assert_null(pl_session_party(&s, "rok", &err));
	assert_int_not_equal(err, 0);
	assert_int_equal(s.blame, PL_BLAME_LOCAL);
	assert_memory_equal(s.why, "directory: exchange http://127.0.0.1:1: ",
	                    strlen("directory: exchange http://127.0.0.1:1: "));
	{
		struct pl_line_report lr = {.line = "l1"};

		assert_int_not_equal(pl_line_report_load(&s, &lr), 0);
		assert_int_equal(s.blame, PL_BLAME_LOCAL);
		assert_memory_equal(s.why, "line l1: exchange ", strlen("line l1: exchange "));
		assert_int_equal(lr.n, 0);
		pl_line_report_release(&lr);
		pl_line_report_release(&lr);
	}
	{
		struct pl_thread t;

		memset(&t, 0, sizeof(t));
		assert_int_equal(pl_thread_load(&s, "zz", &t), PL_EINVAL);
		assert_string_equal(s.why, "record id 'zz': not 8 to 64 hex digits");
		assert_int_not_equal(pl_thread_load(&s, "0123456789abcdef", &t), 0);
		assert_int_equal(s.blame, PL_BLAME_LOCAL);
		assert_memory_equal(s.why, "record 0123456789abcdef: exchange ",
		                    strlen("record 0123456789abcdef: exchange "));
		assert_int_equal(t.tl.n, 0);
		pl_thread_release(&t);
	}
	{
		struct pl_member_export x = {.subject = "zz"};

		assert_int_equal(pl_member_export(&s, &x), PL_EINVAL);
		assert_string_equal(s.why, "record id 'zz': not 8 to 64 hex digits");
		pl_member_export_release(&x);
		x.subject = "0123456789abcdef";
		assert_int_not_equal(pl_member_export(&s, &x), 0);
		assert_int_equal(s.blame, PL_BLAME_LOCAL);
		assert_memory_equal(s.why, "record 0123456789abcdef: exchange ",
		                    strlen("record 0123456789abcdef: exchange "));
		x.ndisclose = PL_DOSSIER_MAX_DISCLOSURES + 1;
		assert_int_equal(pl_member_export(&s, &x), PL_ETOOBIG);
		pl_member_export_release(&x);
		pl_member_export_release(&x);
	}
	pl_session_record_release(&r);
	pl_session_close(&s);
}

/* The body callback: hands over the text in ctx, or fails when ctx is NULL. */
static int body_from(void *ctx, size_t max, struct pl_buf *body)
{
	const char *text = ctx;

	if (!text)
		return PL_EIO;
	assert_true(strlen(text) <= max);
	return pl_buf_adds(body, text);
}

/* Runs pl_author() for req and returns its error; r is what it built. */
static int author(struct pl_session *s, struct pl_author_request *req, struct pl_record *r)
{
	struct pl_receipt rc;
	struct pl_buf text;
	int err;

	memset(&rc, 0, sizeof(rc));
	memset(r, 0, sizeof(*r));
	pl_buf_init(&text, PL_RECORD_MAX_BYTES);
	req->read_body = body_from;
	err = pl_author(s, req, r, &rc, &text);
	pl_receipt_release(&rc);
	pl_buf_release(&text);
	return err;
}

static void test_author_until_submission(void **state)
{
	struct fixture *f = *state;
	struct pl_record *r = calloc(1, sizeof(*r));
	struct pl_author_request req;
	struct pl_session s;
	char big[PL_RECORD_BODY_MAX + 1];

	assert_non_null(r);
	assert_int_equal(pl_session_open(&s, f->dir, &f->profile, NULL), 0);
	/* A statement's body gets its final newline; then the exchange does not answer. */
	req = (struct pl_author_request){.kind = PL_KIND_STATEMENT, .ctx = "no newline"};
	assert_int_not_equal(author(&s, &req, r), 0);
	assert_int_equal(s.blame, PL_BLAME_LOCAL);
	assert_memory_equal(s.why, "the statement: exchange ", strlen("the statement: exchange "));
	assert_int_equal(r->cls, PL_CLASS_STATEMENT);
	assert_string_equal(r->body, "no newline\n");
	req.cls = PL_CLASS_MEASURE;
	assert_int_not_equal(author(&s, &req, r), 0);
	assert_int_equal(r->cls, PL_CLASS_MEASURE);
	/* An empty body, one the final newline takes over the limit, one the caller could not read.
	 */
	req.ctx = "";
	assert_int_equal(author(&s, &req, r), PL_EINVAL);
	assert_string_equal(s.why, "the body is empty");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	req.ctx = big;
	assert_int_equal(author(&s, &req, r), PL_ETOOBIG);
	assert_non_null(strstr(s.why, "the body is longer than"));
	req.ctx = NULL;
	assert_int_equal(author(&s, &req, r), PL_EIO);
	assert_string_equal(s.why, "");
	/* A malformed reference: nothing asked of the exchange. */
	req = (struct pl_author_request){.kind = PL_KIND_CONVEY, .about = "zz"};
	assert_int_equal(author(&s, &req, r), PL_EINVAL);
	assert_string_equal(s.why, "record id 'zz': not 8 to 64 hex digits");
	/* What only the exchange authors. */
	req = (struct pl_author_request){.kind = PL_KIND_AVAILABLE};
	assert_int_equal(author(&s, &req, r), PL_EINVAL);
	assert_string_equal(s.why, "available: not a kind a member authors");
	pl_session_close(&s);
	free(r);
}

static void test_enrol_fails_before_writing(void **state)
{
	struct fixture *f = *state;
	struct pl_session s;
	struct pl_vkey other;
	struct pl_skey other_sk;
	struct stat st;
	char pdir[400];
	struct pl_enrolment e = {.exchange = "http://127.0.0.1:1",
	                         .party = "kpa",
	                         .key_dir = f->dir,
	                         .log_key = &f->profile.log_key};

	snprintf(pdir, sizeof(pdir), "%s/profile-dir", f->dir);
	e.profile_dir = pdir;
	/* The exchange does not answer: nothing proven, nothing written. */
	assert_int_not_equal(pl_enrol(&s, &e), 0);
	assert_int_equal(s.blame, PL_BLAME_LOCAL);
	assert_memory_equal(
	        s.why, "exchange http://127.0.0.1:1: ", strlen("exchange http://127.0.0.1:1: "));
	assert_false(e.trusted_on_first_use);
	assert_int_not_equal(stat(pdir, &st), 0);
	/* A log key named for another exchange. */
	pl_test_fixed_key(&other_sk, &other, "other.example", PL_SIGTYPE_ED25519);
	pl_skey_clear(&other_sk);
	e.log_key = &other;
	assert_int_equal(pl_enrol(&s, &e), PL_EINVAL);
	assert_string_equal(s.why, "log key named 'other.example', but the party's exchange is "
	                           "'hotline.example'");
	/* Not a URL; an identity that is not there. */
	e.log_key = NULL;
	e.exchange = "ftp://x";
	assert_int_equal(pl_enrol(&s, &e), PL_EINVAL);
	assert_string_equal(s.why, "exchange 'ftp://x': not an http:// or https:// URL");
	e.party = "rok";
	assert_int_not_equal(pl_enrol(&s, &e), 0);
	assert_memory_equal(s.why, "identity of rok in ", strlen("identity of rok in "));
	assert_int_not_equal(stat(pdir, &st), 0);
	pl_session_close(&s);
}

PL_TEST_MAIN(NULL, NULL, PL_TEST_FIXTURE(test_open_failures), PL_TEST_FIXTURE(test_open_and_clock),
             PL_TEST_FIXTURE(test_failures_say_why), PL_TEST_FIXTURE(test_author_until_submission),
             PL_TEST_FIXTURE(test_enrol_fails_before_writing))
