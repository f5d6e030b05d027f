/* Unit tests of parleyd's control protocol: requests and answers, and every malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <parley/error.h>

#include "control.h"

#include "testutil.h"

/* A request formats, then parses back to the same arguments. */
static void test_request_round_trip(void **state)
{
	char *argv[] = {"party",      "add", "kpa",    "--data", "/srv/ex",
	                "--identity", "",    "a b\nc", NULL};
	struct pl_parleyd_control_req req;
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, PL_PARLEYD_CONTROL_REQUEST_MAX);
	assert_int_equal(pl_parleyd_control_request_format(8, argv, &b), 0);
	assert_int_equal(pl_parleyd_control_request_parse(&req, b.data, b.len), 0);
	assert_int_equal(req.argc, 8);
	for (int i = 0; i < 8; i++)
		assert_string_equal(req.argv[i], argv[i]);
	assert_null(req.argv[8]);
	pl_parleyd_control_request_release(&req);
	pl_parleyd_control_request_release(&req); /* released twice: a no-op */
	pl_buf_release(&b);
}

/* The exact wire form, as parleyd(8) shows it. */
static void test_request_wire(void **state)
{
	static const char wire[] = "parleyd-control/1 2\n5\nparty\n6\nrevoke\n";
	struct pl_parleyd_control_req req;

	(void)state;
	assert_int_equal(pl_parleyd_control_request_parse(&req, wire, sizeof(wire) - 1), 0);
	assert_int_equal(req.argc, 2);
	assert_string_equal(req.argv[1], "revoke");
	pl_parleyd_control_request_release(&req);
}

/* What the formatter refuses to send. */
static void test_request_format_limits(void **state)
{
	char *argv[PL_PARLEYD_CONTROL_ARGS_MAX + 1];
	char *big = malloc(PL_PARLEYD_CONTROL_ARG_MAX + 2);
	struct pl_buf b;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', PL_PARLEYD_CONTROL_ARG_MAX + 1);
	big[PL_PARLEYD_CONTROL_ARG_MAX + 1] = '\0';
	for (int i = 0; i <= PL_PARLEYD_CONTROL_ARGS_MAX; i++)
		argv[i] = "x";
	pl_buf_init(&b, PL_PARLEYD_CONTROL_REQUEST_MAX);
	assert_int_equal(pl_parleyd_control_request_format(0, argv, &b), PL_EINVAL);
	assert_int_equal(
	        pl_parleyd_control_request_format(PL_PARLEYD_CONTROL_ARGS_MAX + 1, argv, &b),
	        PL_EINVAL);
	assert_int_equal(pl_parleyd_control_request_format(PL_PARLEYD_CONTROL_ARGS_MAX, argv, &b),
	                 0);
	argv[1] = big;
	assert_int_equal(pl_parleyd_control_request_format(2, argv, &b), PL_EINVAL);
	big[PL_PARLEYD_CONTROL_ARG_MAX] = '\0';
	pl_buf_reset(&b);
	assert_int_equal(pl_parleyd_control_request_format(2, argv, &b), 0);
	free(big);
	pl_buf_release(&b);
}

struct bad_case {
	const char *name;
	const char *wire;
	size_t len; /* 0: strlen(wire) */
	int want;
};

/* Every malformed request the server may be sent. */
static void test_request_malformed(void **state)
{
	static const struct bad_case cases[] = {
	        {"empty", "", 0, PL_EMALFORMED},
	        {"no magic", "party\n", 0, PL_EMALFORMED},
	        {"other version", "parleyd-control/2 1\n5\nparty\n", 0, PL_EMALFORMED},
	        {"magic without space", "parleyd-control/1\n1\n5\nparty\n", 0, PL_EMALFORMED},
	        {"no argc", "parleyd-control/1 \n", 0, PL_EMALFORMED},
	        {"argc not a number", "parleyd-control/1 x\n", 0, PL_EMALFORMED},
	        {"argc negative", "parleyd-control/1 -1\n", 0, PL_EMALFORMED},
	        {"argc leading zero", "parleyd-control/1 01\n5\nparty\n", 0, PL_EMALFORMED},
	        {"argc zero", "parleyd-control/1 0\n", 0, PL_EMALFORMED},
	        {"argc over max", "parleyd-control/1 65\n", 0, PL_ETOOBIG},
	        {"argc huge", "parleyd-control/1 99999999999999999999999\n", 0, PL_EMALFORMED},
	        {"argc unterminated", "parleyd-control/1 1", 0, PL_EMALFORMED},
	        {"missing argument", "parleyd-control/1 2\n5\nparty\n", 0, PL_EMALFORMED},
	        {"length missing", "parleyd-control/1 1\nparty\n", 0, PL_EMALFORMED},
	        {"length with sign", "parleyd-control/1 1\n+5\nparty\n", 0, PL_EMALFORMED},
	        {"length over max", "parleyd-control/1 1\n4097\nparty\n", 0, PL_ETOOBIG},
	        {"length past the end", "parleyd-control/1 1\n9\nparty\n", 0, PL_EMALFORMED},
	        {"length short", "parleyd-control/1 1\n4\nparty\n", 0, PL_EMALFORMED},
	        {"no newline after argument", "parleyd-control/1 1\n5\nparty", 0, PL_EMALFORMED},
	        {"NUL inside argument", "parleyd-control/1 1\n5\npa\0ty\n", 28, PL_EMALFORMED},
	        {"trailing bytes", "parleyd-control/1 1\n5\nparty\nx", 0, PL_EMALFORMED},
	        {"trailing newline", "parleyd-control/1 1\n5\nparty\n\n", 0, PL_EMALFORMED},
	        {"CRLF", "parleyd-control/1 1\r\n5\r\nparty\r\n", 0, PL_EMALFORMED},
	};
	struct pl_parleyd_control_req req;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->wire);
		int ret;
		memset(&req, 0x5a, sizeof(req));
		ret = pl_parleyd_control_request_parse(&req, c->wire, len);
		if (ret != c->want)
			fail_msg("%s: got %d, want %d", c->name, ret, c->want);
		assert_int_equal(req.argc, 0x5a5a5a5a); /* untouched on error */
	}
}

/* A request over the whole-request limit is refused before it is read. */
static void test_request_too_big(void **state)
{
	size_t len = PL_PARLEYD_CONTROL_REQUEST_MAX + 1;
	char *buf = malloc(len);
	struct pl_parleyd_control_req req;

	(void)state;
	assert_non_null(buf);
	memset(buf, 'a', len);
	memcpy(buf, "parleyd-control/1 1\n", 20);
	assert_int_equal(pl_parleyd_control_request_parse(&req, buf, len), PL_ETOOBIG);
	free(buf);
}

static void test_answer_round_trip(void **state)
{
	struct pl_buf b;
	const char *o, *e;
	size_t ol, el;
	int code;

	(void)state;
	pl_buf_init(&b, PL_PARLEYD_CONTROL_ANSWER_MAX);
	assert_int_equal(pl_parleyd_control_answer_format(3, "out\n", 4, "err\n", 4, &b), 0);
	assert_string_equal(b.data, "parleyd-control/1 3 4 4\nout\nerr\n");
	assert_int_equal(pl_parleyd_control_answer_parse(b.data, b.len, &code, &o, &ol, &e, &el),
	                 0);
	assert_int_equal(code, 3);
	assert_int_equal(ol, 4);
	assert_memory_equal(o, "out\n", 4);
	assert_int_equal(el, 4);
	assert_memory_equal(e, "err\n", 4);
	pl_buf_reset(&b);
	assert_int_equal(pl_parleyd_control_answer_format(0, NULL, 0, NULL, 0, &b), 0);
	assert_int_equal(pl_parleyd_control_answer_parse(b.data, b.len, &code, &o, &ol, &e, &el),
	                 0);
	assert_int_equal(code, 0);
	assert_int_equal(ol + el, 0);
	pl_buf_reset(&b);
	assert_int_equal(pl_parleyd_control_answer_format(256, NULL, 0, NULL, 0, &b), PL_EINVAL);
	assert_int_equal(pl_parleyd_control_answer_format(-1, NULL, 0, NULL, 0, &b), PL_EINVAL);
	assert_int_equal(pl_parleyd_control_answer_format(0, "x", PL_PARLEYD_CONTROL_TEXT_MAX + 1,
	                                                  NULL, 0, &b),
	                 PL_EINVAL);
	pl_buf_release(&b);
}

/* Every malformed answer the client may be sent. */
static void test_answer_malformed(void **state)
{
	static const struct bad_case cases[] = {
	        {"empty", "", 0, PL_EMALFORMED},
	        {"no magic", "0 0 0\n", 0, PL_EMALFORMED},
	        {"code missing", "parleyd-control/1  0 0\n", 0, PL_EMALFORMED},
	        {"code over 255", "parleyd-control/1 256 0 0\n", 0, PL_ETOOBIG},
	        {"code leading zero", "parleyd-control/1 03 0 0\n", 0, PL_EMALFORMED},
	        {"lengths missing", "parleyd-control/1 0\n", 0, PL_EMALFORMED},
	        {"one length", "parleyd-control/1 0 0\n", 0, PL_EMALFORMED},
	        {"output over max", "parleyd-control/1 0 65537 0\n", 0, PL_ETOOBIG},
	        {"messages over max", "parleyd-control/1 0 0 65537\n", 0, PL_ETOOBIG},
	        {"shorter than said", "parleyd-control/1 0 4 0\nout", 0, PL_EMALFORMED},
	        {"longer than said", "parleyd-control/1 0 3 0\nout\n", 0, PL_EMALFORMED},
	        {"no end of head", "parleyd-control/1 0 0 0", 0, PL_EMALFORMED},
	        {"space before newline", "parleyd-control/1 0 0 0 \n", 0, PL_EMALFORMED},
	};
	const char *o = NULL, *e = NULL;
	size_t ol = 7, el = 7;
	int code = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		int ret = pl_parleyd_control_answer_parse(c->wire, strlen(c->wire), &code, &o, &ol,
		                                          &e, &el);
		if (ret != c->want)
			fail_msg("%s: got %d, want %d", c->name, ret, c->want);
		assert_int_equal(code, 7);
		assert_int_equal(ol, 7);
		assert_null(o);
	}
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_request_round_trip),
             cmocka_unit_test(test_request_wire), cmocka_unit_test(test_request_format_limits),
             cmocka_unit_test(test_request_malformed), cmocka_unit_test(test_request_too_big),
             cmocka_unit_test(test_answer_round_trip), cmocka_unit_test(test_answer_malformed))
