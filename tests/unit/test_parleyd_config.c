/* Unit tests of parleyd.conf: the documented defaults, every key, and what the parser refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "config.h"

#include "testutil.h"

static int parse(struct pl_parleyd_config *c, const char *text, struct pl_buf *err)
{
	return pl_parleyd_config_parse(c, text, strlen(text), err);
}

static void format(const struct pl_parleyd_config *c, struct pl_buf *out)
{
	pl_buf_init(out, PL_PARLEYD_CONF_MAX);
	assert_int_equal(pl_parleyd_config_format(c, out), 0);
}

static void test_defaults(void **state)
{
	struct pl_parleyd_config c;

	(void)state;
	pl_parleyd_config_default(&c);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_int_equal(c.http_threads, 2);
	assert_int_equal(c.http_nice, PL_PARLEYD_DEFAULT_HTTP_NICE);
	assert_int_equal(c.ex.batch_max, PL_EXCHANGE_DEFAULT_BATCH_MAX);
	assert_int_equal(c.ex.batch_age_us, PL_EXCHANGE_DEFAULT_BATCH_AGE_US);
	assert_int_equal(c.witness_interval_ms, PL_PARLEYD_WITNESS_INTERVAL_MS);
	assert_int_equal(c.ex.payload_retention_s, 86400);
	assert_int_equal(c.ex.payload_unreferenced_max, 0); /* 4 x payload_max, set at open */
	assert_true(c.rate_burst >= c.rate);
	assert_int_equal(c.nwitnesses, 0);
	assert_int_equal(c.ex.nlines, 0);
	assert_int_equal(c.ex.nauditors, 0);
	/* /metrics to this host only; /health checks nothing unless told to. */
	assert_int_equal(c.nmetrics_allow, 2);
	assert_int_equal(c.npublic_lines, 0);
	assert_int_equal(c.health_checkpoint_age, 0);
	assert_int_equal(c.health_witness_age, 0);
	assert_int_equal(c.nonce_max, PL_AUTH_NONCES_MAX);
	assert_int_equal(c.nonce_per_key, PL_AUTH_NONCES_PER_KEY);
	assert_true(c.upload_per_key == 2 * c.ex.payload_max);
	assert_true(c.upload_budget == 8 * c.ex.payload_max);
}

/* The upload allowances follow payload_max unless set; the nonce reserve is a key of its own. */
static void test_admission(void **state)
{
	struct pl_parleyd_config c;
	struct pl_buf err;

	(void)state;
	pl_buf_init(&err, 4096);
	pl_parleyd_config_default(&c);
	assert_int_equal(parse(&c, "payload_max = 1048576\n", &err), 0);
	assert_true(c.upload_per_key == 2 * 1048576);
	assert_true(c.upload_budget == 8 * 1048576);
	pl_parleyd_config_default(&c);
	assert_int_equal(parse(&c,
	                       "payload_max = 1048576\nupload_per_key = 1048576\n"
	                       "upload_budget = 3145728\nnonce_max = 64\nnonce_per_key = 16\n",
	                       &err),
	                 0);
	assert_true(c.upload_per_key == 1048576);
	assert_true(c.upload_budget == 3145728);
	assert_int_equal(c.nonce_max, 64);
	assert_int_equal(c.nonce_per_key, 16);
	assert_int_equal(err.len, 0);
	pl_buf_release(&err);
}

/* Every kind of value, with comments, blanks, tabs and surrounding spaces. */
static void test_valid(void **state)
{
	static const char text[] = "# an exchange\n"
	                           "origin = hotline.example\n"
	                           "\n"
	                           "listen=127.0.0.1:9000\n"
	                           "\tbatch_max = 64 \n"
	                           "batch_age_us = 0\n"
	                           "http_threads = 4\n"
	                           "http_nice = 0\n"
	                           "payload_max = 1048576\n"
	                           "payload_retention = 3600\n"
	                           "payload_unreferenced_max = 2097152\n"
	                           "rate = 10\n"
	                           "rate_burst = 20\n"
	                           "line = unc-kpa unc kpa every 3s window 2s\n"
	                           "line = liaison rok kpa at 09:00 UTC weekdays window 30m\n"
	                           "line = seoul rok kpa at 09:00,17:00 Asia/Seoul weekdays "
	                           "window 30m\n"
	                           "   # indented comment";
	struct pl_parleyd_config c;
	struct pl_buf err;

	(void)state;
	pl_buf_init(&err, 4096);
	pl_parleyd_config_default(&c);
	assert_int_equal(parse(&c, text, &err), 0);
	assert_string_equal(c.origin, "hotline.example");
	assert_string_equal(c.listen, "127.0.0.1:9000");
	assert_int_equal(c.ex.batch_max, 64);
	assert_int_equal(c.ex.batch_age_us, 0);
	assert_int_equal(c.http_threads, 4);
	assert_int_equal(c.http_nice, 0);
	assert_int_equal(c.ex.payload_max, 1048576);
	assert_int_equal(c.ex.payload_retention_s, 3600);
	assert_int_equal(c.ex.payload_unreferenced_max, 2097152);
	assert_int_equal(c.rate, 10);
	assert_int_equal(c.rate_burst, 20);
	assert_int_equal(c.ex.nlines, 3);
	assert_string_equal(c.ex.lines[1].name, "liaison");
	assert_string_equal(c.ex.lines[2].zone, "Asia/Seoul");
	assert_int_equal(err.len, 0);
	pl_buf_release(&err);
}

/* What is formatted parses back to the same settings, and formats the same again. */
static void test_round_trip(void **state)
{
	struct pl_parleyd_config a, b;
	struct pl_buf t1, t2;

	(void)state;
	pl_parleyd_config_default(&a);
	assert_int_equal(
	        parse(&a,
	              "origin = x.example\nhttp_nice = 19\nreaders = 3\n"
	              "payload_retention = 7200\npayload_unreferenced_max = 65536\n"
	              "line = l a b every 1h window 5m\n"
	              "auditors =  us-audit ,\tun-panel,x\n"
	              "public_lines = l\nmetrics_allow = 10.1.2.3\t ::ffff:10.1.2.4 fe80::1\n"
	              "health_checkpoint_age = 600\n",
	              NULL),
	        0);
	assert_int_equal(a.npublic_lines, 1);
	assert_int_equal(a.nmetrics_allow, 3);
	assert_int_equal(a.ex.nauditors, 3);
	assert_string_equal(a.ex.auditors[0], "us-audit");
	assert_string_equal(a.ex.auditors[1], "un-panel");
	assert_string_equal(a.ex.auditors[2], "x");
	format(&a, &t1);
	assert_non_null(strstr(t1.data, "\nhttp_nice = 19\n"));
	assert_non_null(strstr(t1.data, "\nauditors = us-audit, un-panel, x\n"));
	assert_non_null(strstr(t1.data, "\npublic_lines = l\n"));
	assert_non_null(strstr(t1.data, "\nmetrics_allow = 10.1.2.3 ::ffff:10.1.2.4 fe80::1\n"));
	assert_non_null(strstr(t1.data, "\nhealth_checkpoint_age = 600\n"));
	pl_parleyd_config_default(&b);
	assert_int_equal(pl_parleyd_config_parse(&b, t1.data, t1.len, NULL), 0);
	format(&b, &t2);
	assert_int_equal(t1.len, t2.len);
	assert_memory_equal(t1.data, t2.data, t1.len);
	assert_int_equal(b.http_nice, 19);
	assert_int_equal(b.ex.readers, 3);
	assert_int_equal(b.ex.payload_retention_s, 7200);
	assert_int_equal(b.ex.payload_unreferenced_max, 65536);
	assert_int_equal(b.ex.nauditors, 3);
	assert_int_equal(b.nmetrics_allow, 3);
	assert_int_equal(b.health_checkpoint_age, 600);
	pl_buf_release(&t1);
	pl_buf_release(&t2);
}

/* Input, the error code, and the words the message must carry. */
static const struct {
	const char *text;
	int code;
	const char *says;
} refused[] = {
        {"no_such_key = 1\n", PL_EMALFORMED, "line 1: unknown key: no_such_key"},
        {"# ok\nbatch_max 5\n", PL_EMALFORMED, "line 2: expected `key = value`"},
        {"= 5\n", PL_EMALFORMED, "expected `key = value`"},
        {"Batch_max = 5\n", PL_EMALFORMED, "expected `key = value`"},
        {"batch_max =\n", PL_EMALFORMED, "empty value: batch_max"},
        {"batch_max = 5\nbatch_max = 6\n", PL_EMALFORMED, "line 2: key set twice: batch_max"},
        {"batch_max = five\n", PL_EMALFORMED, "not a decimal number: batch_max"},
        {"batch_max = -1\n", PL_EMALFORMED, "not a decimal number"},
        {"batch_max = 0x10\n", PL_EMALFORMED, "not a decimal number"},
        {"batch_max = 1 2\n", PL_EMALFORMED, "not a decimal number"},
        {"batch_max = 99999999999999999999999\n", PL_EMALFORMED, "not a decimal number"},
        {"batch_max = 0\n", PL_ERANGE, "value out of range: batch_max"},
        {"batch_max = 65537\n", PL_ERANGE, "value out of range"},
        {"http_threads = 0\n", PL_ERANGE, "value out of range: http_threads"},
        {"http_nice = 20\n", PL_ERANGE, "value out of range: http_nice"},
        {"timer_interval_ms = 9\n", PL_ERANGE, "value out of range"},
        {"payload_max = 1023\n", PL_ERANGE, "value out of range: payload_max"},
        {"payload_retention = 59\n", PL_ERANGE, "value out of range: payload_retention"},
        {"payload_retention = 31536001\n", PL_ERANGE, "value out of range: payload_retention"},
        {"payload_retention = 1h\n", PL_EMALFORMED, "not a decimal number: payload_retention"},
        {"payload_unreferenced_max = 1023\n", PL_ERANGE,
         "value out of range: payload_unreferenced_max"},
        {"payload_unreferenced_max = 1099511627777\n", PL_ERANGE,
         "value out of range: payload_unreferenced_max"},
        {"rate = 10\nrate_burst = 5\n", PL_ERANGE, "rate_burst is smaller than rate"},
        {"nonce_per_key = 15\n", PL_ERANGE, "value out of range: nonce_per_key"},
        {"nonce_per_key = 16777217\n", PL_ERANGE, "value out of range: nonce_per_key"},
        {"nonce_per_key = 016\n", PL_EMALFORMED, "not a decimal number: nonce_per_key"},
        {"upload_per_key = 1023\n", PL_ERANGE, "value out of range: upload_per_key"},
        {"upload_budget = 1099511627777\n", PL_ERANGE, "value out of range: upload_budget"},
        {"upload_per_key = 1048575\n", PL_ERANGE, "upload_per_key is smaller than payload_max"},
        {"payload_max = 2048\nupload_per_key = 1024\n", PL_ERANGE,
         "upload_per_key is smaller than payload_max"},
        {"upload_per_key = 99999999\nupload_budget = 99999998\n", PL_ERANGE,
         "upload_budget is smaller than upload_per_key"},
        {"payload_max = 2048\nupload_budget = 3000\n", PL_ERANGE,
         "upload_budget is smaller than upload_per_key"},
        {"upload_budget = 5000\nupload_budget = 5000\n", PL_EMALFORMED,
         "key set twice: upload_budget"},
        {"origin = not an origin\n", PL_EMALFORMED, "not a valid origin"},
        {"listen = 127.0.0.1\n", PL_EMALFORMED, "not host:port: listen"},
        {"listen = 127.0.0.1:0\n", PL_EMALFORMED, "not host:port"},
        {"listen = 127.0.0.1:65536\n", PL_EMALFORMED, "not host:port"},
        {"listen = :8080\n", PL_EMALFORMED, "not host:port"},
        {"line = unc-kpa unc kpa\n", PL_EMALFORMED, "line 1: line:"},
        {"line = l a b every 1h window 5m\nline = l c d every 1h window 5m\n", PL_EMALFORMED,
         "line 2: line named twice: l"},
        {"line = l a b at 09:00 Mars/Olympus_Mons window 5m\n", PL_EMALFORMED,
         "line 1: unknown time zone (not in the tz database): Mars/Olympus_Mons"},
        {"line = l a b at 09:00 Asia window 5m\n", PL_EMALFORMED,
         "line 1: unknown time zone (not in the tz database): Asia"},
        {"line = l a b at 09:00 ../../etc/passwd window 5m\n", PL_EMALFORMED, "line 1: line:"},
        {"witness = not-a-url\n", PL_EMALFORMED, "line 1: witness:"},
        {"auditors = Audit\n", PL_EMALFORMED, "line 1: not a party name: auditors"},
        {"auditors = audit,\n", PL_EMALFORMED, "not a party name: auditors"},
        {"auditors = ,audit\n", PL_EMALFORMED, "not a party name: auditors"},
        {"auditors = a b\n", PL_EMALFORMED, "not a party name: auditors"},
        {"auditors = exchange\n", PL_EMALFORMED, "not a party name: auditors"},
        {"auditors = -a\n", PL_EMALFORMED, "not a party name: auditors"},
        {"auditors = a, b, a\n", PL_EMALFORMED, "auditor named twice: a"},
        {"auditors = a\nauditors = b\n", PL_EMALFORMED, "line 2: key set twice: auditors"},
        {"public_lines = Unc-kpa\n", PL_EMALFORMED, "line 1: not a line name: public_lines"},
        {"public_lines = a,\n", PL_EMALFORMED, "not a line name: public_lines"},
        {"public_lines = a, b, a\n", PL_EMALFORMED, "line named twice: a"},
        {"public_lines = a\npublic_lines = b\n", PL_EMALFORMED, "key set twice: public_lines"},
        {"metrics_allow = localhost\n", PL_EMALFORMED, "not an IP address: metrics_allow"},
        {"metrics_allow = 127.0.0.1/8\n", PL_EMALFORMED, "not an IP address: metrics_allow"},
        {"metrics_allow = 127.0.0.1,::1\n", PL_EMALFORMED, "not an IP address: metrics_allow"},
        {"metrics_allow = 127.0.0.1 127.0.0.1\n", PL_EMALFORMED, "address listed twice"},
        {"metrics_allow = ::1 0:0::1\n", PL_EMALFORMED, "address listed twice"},
        {"metrics_allow = 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8 "
         "1.1.1.9 1.1.1.10 1.1.1.11 1.1.1.12 1.1.1.13 1.1.1.14 1.1.1.15 1.1.1.16 1.1.1.17\n",
         PL_ETOOBIG, "too many addresses"},
        {"metrics_allow = none ::1\n", PL_EMALFORMED, "not an IP address: metrics_allow"},
        {"health_checkpoint_age = -1\n", PL_EMALFORMED, "not a decimal number"},
        {"health_witness_age = 31536001\n", PL_ERANGE, "value out of range"},
        {"auditors = a0,a1,a2,a3,a4,a5,a6,a7,a8,a9,b0,b1,b2,b3,b4,b5,b6\n", PL_ETOOBIG,
         "too many auditors"},
        {"header_timeout = 0\n", PL_ERANGE, "value out of range: header_timeout"},
        {"header_timeout = 3601\n", PL_ERANGE, "value out of range: header_timeout"},
        {"sse_per_key = 0\n", PL_ERANGE, "value out of range: sse_per_key"},
        {"sse_per_key = 65537\n", PL_ERANGE, "value out of range: sse_per_key"},
        {"max_per_ip = 0\n", PL_ERANGE, "value out of range: max_per_ip"},
        {"batch_max = 5\x01\n", PL_EMALFORMED, "line 1: control character"},
        {"batch_max = \xff\n", PL_EMALFORMED, "not UTF-8"},
};

/* A refused file says where and why, and leaves every setting as it was. */
static void test_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct pl_parleyd_config c, before;
		struct pl_buf err, t1, t2;
		int ret;

		pl_parleyd_config_default(&c);
		before = c;
		pl_buf_init(&err, 4096);
		ret = parse(&c, refused[i].text, &err);
		if (ret != refused[i].code || !err.data || !strstr(err.data, refused[i].says))
			fail_msg("case %zu (%s): got %d \"%s\", want %d \"%s\"", i, refused[i].text,
			         ret, err.data ? err.data : "", refused[i].code, refused[i].says);
		format(&c, &t1);
		format(&before, &t2);
		assert_int_equal(t1.len, t2.len);
		assert_memory_equal(t1.data, t2.data, t1.len);
		pl_buf_release(&err);
		pl_buf_release(&t1);
		pl_buf_release(&t2);
	}
}

/*
 * The connection limits: one address gets far fewer connections than all,
 * a request head has seconds, one key a few of the event streams; each key
 * parses and formats back.
 */
static void test_connection_limits(void **state)
{
	struct pl_parleyd_config c, d;
	struct pl_buf t;

	(void)state;
	pl_parleyd_config_default(&c);
	assert_int_equal(c.max_per_ip, PL_HTTP_PER_IP_MAX);
	assert_true(c.max_per_ip * 8 <= c.max_connections);
	assert_int_equal(c.header_timeout, PL_HTTP_HEADER_SECONDS);
	assert_true(c.header_timeout < c.connection_timeout);
	assert_int_equal(c.sse_per_key, PL_HTTP_STREAMS_PER_KEY);
	assert_true(c.sse_per_key < c.sse_max);
	assert_int_equal(parse(&c, "max_per_ip = 8\nheader_timeout = 2\nsse_per_key = 1\n", NULL),
	                 0);
	assert_int_equal(c.max_per_ip, 8);
	assert_int_equal(c.header_timeout, 2);
	assert_int_equal(c.sse_per_key, 1);
	format(&c, &t);
	assert_non_null(strstr(t.data, "\nheader_timeout = 2\n"));
	assert_non_null(strstr(t.data, "\nsse_per_key = 1\n"));
	pl_parleyd_config_default(&d);
	assert_int_equal(pl_parleyd_config_parse(&d, t.data, t.len, NULL), 0);
	assert_int_equal(d.max_per_ip, 8);
	assert_int_equal(d.header_timeout, 2);
	assert_int_equal(d.sse_per_key, 1);
	pl_buf_release(&t);
}

/* Lines longer than the parser reads, and files larger than it loads. */
static void test_too_long(void **state)
{
	size_t n = PL_PARLEYD_CONF_MAX + 1;
	char *text = malloc(n + 1);
	struct pl_parleyd_config c;
	struct pl_buf err;

	(void)state;
	assert_non_null(text);
	pl_parleyd_config_default(&c);
	pl_buf_init(&err, 4096);
	memset(text, '#', n);
	text[n] = '\0';
	assert_int_equal(pl_parleyd_config_parse(&c, text, n, &err), PL_ETOOBIG);
	assert_non_null(strstr(err.data, "file too large"));
	pl_buf_reset(&err);
	assert_int_equal(pl_parleyd_config_parse(&c, text, 2000, &err), PL_ETOOBIG);
	assert_non_null(strstr(err.data, "line 1: line too long"));
	pl_buf_release(&err);
	free(text);
}

/* metrics_allow: an address is allowed by its own family, or as IPv4 mapped into IPv6. */
static void test_metrics_allowed(void **state)
{
	struct pl_parleyd_config c;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;

	(void)state;
	pl_parleyd_config_default(&c);
	memset(&v4, 0, sizeof(v4));
	memset(&v6, 0, sizeof(v6));
	v4.sin_family = AF_INET;
	v6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr), 1);
	assert_true(pl_parleyd_config_metrics_allowed(&c, (struct sockaddr *)&v4));
	assert_int_equal(inet_pton(AF_INET6, "::1", &v6.sin6_addr), 1);
	assert_true(pl_parleyd_config_metrics_allowed(&c, (struct sockaddr *)&v6));
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.sin6_addr), 1);
	assert_true(pl_parleyd_config_metrics_allowed(&c, (struct sockaddr *)&v6));
	assert_int_equal(inet_pton(AF_INET, "127.0.0.2", &v4.sin_addr), 1);
	assert_false(pl_parleyd_config_metrics_allowed(&c, (struct sockaddr *)&v4));
	assert_int_equal(inet_pton(AF_INET6, "::2", &v6.sin6_addr), 1);
	assert_false(pl_parleyd_config_metrics_allowed(&c, (struct sockaddr *)&v6));
	assert_false(pl_parleyd_config_metrics_allowed(&c, NULL));
	assert_int_equal(parse(&c, "metrics_allow = none\n", NULL), 0);
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr), 1);
	assert_false(pl_parleyd_config_metrics_allowed(&c, (struct sockaddr *)&v4));
}

/*
 * What a reload may change: lines, witnesses, their interval, the auditors,
 * rate, rate_burst and poll_timeout;
 * any other key differing is named; an origin left out is the store's.
 */
static void test_fixed_change(void **state)
{
	static const struct {
		const char *text;
		const char *fixed; /* NULL: may change live */
	} cases[] = {
	        {"", NULL},
	        {"line = unc-kpa unc kpa every 12h window 30m\n", NULL},
	        {"auditors = us-nsc\n", NULL},
	        {"witness_interval_ms = 5000\n", NULL},
	        {"witness = https://w.example "
	         "witness.example+7184a3fe+BHh6F8QDYwoJfUqVVg+CKwt7Fc7iinDG0GKhYmB86e3s\n",
	         NULL},
	        {"origin = hotline.example\n", NULL},
	        {"origin = other.example\n", "origin"},
	        {"listen = 127.0.0.1:9999\n", "listen"},
	        {"batch_max = 7\n", "batch_max"},
	        {"payload_max = 2048\n", "payload_max"},
	        {"rate = 3\nrate_burst = 9\npoll_timeout = 7\n", NULL},
	        {"poll_timeout = 7\nconnection_timeout = 7\n", "connection_timeout"},
	        {"nonce_max = 99\n", "nonce_max"},
	        {"sse_max = 3\n", "sse_max"},
	        {"line = unc-kpa unc kpa every 12h window 30m\nhttp_threads = 9\n", "http_threads"},
	        {"public_lines = unc-kpa\n", "public_lines"},
	        {"metrics_allow = none\n", "metrics_allow"},
	        {"metrics_allow = 127.0.0.1 ::1\n", NULL},
	        {"health_checkpoint_age = 5\n", "health_checkpoint_age"},
	};
	struct pl_parleyd_config *run = malloc(sizeof(*run)), *next = malloc(sizeof(*next));

	(void)state;
	assert_non_null(run);
	assert_non_null(next);
	pl_parleyd_config_default(run);
	snprintf(run->origin, sizeof(run->origin), "hotline.example");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got;
		pl_parleyd_config_default(next);
		if (parse(next, cases[i].text, NULL) != 0)
			fail_msg("case %zu does not parse: %s", i, cases[i].text);
		got = pl_parleyd_config_fixed_change(run, next);
		if (!cases[i].fixed != !got || (got && strcmp(got, cases[i].fixed) != 0))
			fail_msg("%s: got %s, want %s", cases[i].text, got ? got : "(live)",
			         cases[i].fixed ? cases[i].fixed : "(live)");
	}
	free(run);
	free(next);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_defaults), cmocka_unit_test(test_valid),
             cmocka_unit_test(test_round_trip), cmocka_unit_test(test_refused),
             cmocka_unit_test(test_too_long), cmocka_unit_test(test_admission),
             cmocka_unit_test(test_connection_limits), cmocka_unit_test(test_metrics_allowed),
             cmocka_unit_test(test_fixed_change))
