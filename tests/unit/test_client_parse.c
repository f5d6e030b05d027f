/* Unit tests of the client's answer decoders (in apicodec.c): valid bodies, malformed tables. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <parley/client.h>

#include "internal.h"

#include "testutil.h"

#define SENTINEL 0xa5

/* Two records the bodies carry: the parsers only check that an id is their SHA-256. */
static const char R1[] = "r1";
static const char R2[] = "r2";

static char id1[PL_HASH_HEX_LEN + 1], id2[PL_HASH_HEX_LEN + 1], vkey_text[512];

static int setup(void **state)
{
	uint8_t h[PL_HASH_BYTES];
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_buf b;

	(void)state;
	pl_sha256(h, R1, strlen(R1));
	pl_hex_encode(id1, h, PL_HASH_BYTES);
	pl_sha256(h, R2, strlen(R2));
	pl_hex_encode(id2, h, PL_HASH_BYTES);
	if (pl_key_generate(&sk, &vk, "hotline.example/unc", PL_SIGTYPE_ED25519) != 0)
		return -1;
	pl_skey_clear(&sk);
	pl_buf_init(&b, sizeof(vkey_text) - 1);
	if (pl_vkey_format(&vk, &b) != 0)
		return -1;
	memcpy(vkey_text, b.data, b.len + 1);
	pl_buf_release(&b);
	return 0;
}

/*
 * A body from a template, in a buffer of exactly its length (no terminator,
 * so that a read past the end is caught by ASan): ' is ", @ the id of R1, #
 * the id of R2, ~ the id of R1 without its last digit, % a verifier key.
 */
static char *body(const char *t, size_t *len)
{
	struct pl_buf b;
	char *out;

	pl_buf_init(&b, 1u << 26);
	for (const char *p = t; *p; p++) {
		int ret;
		switch (*p) {
		case '\'':
			ret = pl_buf_add(&b, "\"", 1);
			break;
		case '@':
			ret = pl_buf_adds(&b, id1);
			break;
		case '#':
			ret = pl_buf_adds(&b, id2);
			break;
		case '~':
			ret = pl_buf_add(&b, id1, PL_HASH_HEX_LEN - 1);
			break;
		case '%':
			ret = pl_buf_adds(&b, vkey_text);
			break;
		default:
			ret = pl_buf_add(&b, p, 1);
		}
		assert_int_equal(ret, 0);
	}
	*len = b.len;
	out = malloc(b.len ? b.len : 1);
	assert_non_null(out);
	memcpy(out, b.data ? b.data : "", b.len);
	pl_buf_release(&b);
	return out;
}

static void assert_untouched(const void *p, size_t n)
{
	const unsigned char *q = p;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(q[i], SENTINEL);
}

struct bad {
	const char *name;
	const char *body;
	int code;
};

/* Cases any JSON body must refuse, whatever its endpoint. */
static const struct bad bad_json[] = {
        {.name = "empty", .body = "", .code = PL_EMALFORMED},
        {.name = "not JSON", .body = "hello", .code = PL_EMALFORMED},
        {.name = "null", .body = "null", .code = PL_EMALFORMED},
        {.name = "array", .body = "[]", .code = PL_EMALFORMED},
        {.name = "string", .body = "'records'", .code = PL_EMALFORMED},
        {.name = "empty object", .body = "{}", .code = PL_EMALFORMED},
        {.name = "open brace", .body = "{", .code = PL_EMALFORMED},
        {.name = "NUL byte", .body = "{\\u0000}", .code = PL_EMALFORMED},
        {.name = NULL},
};

/* ---- Receipt of POST /records ---- */

#define RECEIPT_OK "{'index':41,'id':'@','size':42,'proof':'proof\\ntext\\n','checkpoint':'cp\\n'}"

static void test_receipt_valid(void **state)
{
	struct pl_receipt r;
	const char *why = NULL;
	size_t n;
	char *b = body(RECEIPT_OK, &n);
	uint8_t h[PL_HASH_BYTES];

	(void)state;
	assert_int_equal(pl__client_receipt_parse(b, n, R1, strlen(R1), &r, &why), 0);
	assert_null(why);
	assert_int_equal(r.index, 41);
	assert_int_equal(r.size, 42);
	pl_sha256(h, R1, strlen(R1));
	assert_memory_equal(r.id, h, PL_HASH_BYTES);
	assert_int_equal(r.proof_len, 11);
	assert_string_equal(r.proof, "proof\ntext\n");
	assert_int_equal(r.checkpoint_len, 3);
	assert_string_equal(r.checkpoint, "cp\n");
	pl_receipt_release(&r);
	pl_receipt_release(&r); /* zeroed: a no-op */
	pl_receipt_release(NULL);
	free(b);

	/* Index 0 of a tree of size 1, empty strings. */
	b = body("{'index':0,'id':'@','size':1,'proof':'','checkpoint':''}", &n);
	assert_int_equal(pl__client_receipt_parse(b, n, R1, strlen(R1), &r, NULL), 0);
	assert_int_equal(r.index, 0);
	assert_int_equal(r.proof_len, 0);
	assert_string_equal(r.proof, "");
	pl_receipt_release(&r);
	free(b);
}

static const struct bad bad_receipt[] = {
        {.name = "trailing garbage", .body = RECEIPT_OK " x", .code = PL_EMALFORMED},
        {.name = "two objects", .body = RECEIPT_OK RECEIPT_OK, .code = PL_EMALFORMED},
        {.name = "truncated",
         .body = "{'index':41,'id':'@','size':42,'proof':'p','checkp",
         .code = PL_EMALFORMED},
        {.name = "no index",
         .body = "{'id':'@','size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "no id",
         .body = "{'index':41,'size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "no size",
         .body = "{'index':41,'id':'@','proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "no proof",
         .body = "{'index':41,'id':'@','size':42,'checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "no checkpoint",
         .body = "{'index':41,'id':'@','size':42,'proof':'p'}",
         .code = PL_EMALFORMED},
        {.name = "index a string",
         .body = "{'index':'41','id':'@','size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "index a real",
         .body = "{'index':41.0,'id':'@','size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "index negative",
         .body = "{'index':-1,'id':'@','size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "index null",
         .body = "{'index':null,'id':'@','size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "size over 2^63-1",
         .body = "{'index':41,'id':'@','size':9223372036854775808,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "size over 2^64",
         .body = "{'index':41,'id':'@','size':99999999999999999999999,'proof':'p','checkpoint':"
                 "'c'}",
         .code = PL_EMALFORMED},
        {.name = "index = size",
         .body = "{'index':42,'id':'@','size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "size 0",
         .body = "{'index':0,'id':'@','size':0,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "id short",
         .body = "{'index':41,'id':'~','size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "id long",
         .body = "{'index':41,'id':'@0','size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "id not hex",
         .body = "{'index':41,'id':'~g','size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "id a number",
         .body = "{'index':41,'id':1,'size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "proof a number",
         .body = "{'index':41,'id':'@','size':42,'proof':1,'checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "checkpoint an array",
         .body = "{'index':41,'id':'@','size':42,'proof':'p','checkpoint':['c']}",
         .code = PL_EMALFORMED},
        {.name = "duplicate key",
         .body = "{'index':41,'index':41,'id':'@','size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "NUL in proof",
         .body = "{'index':41,'id':'@','size':42,'proof':'p\\u0000','checkpoint':'c'}",
         .code = PL_EMALFORMED},
        {.name = "another record's id",
         .body = "{'index':41,'id':'#','size':42,'proof':'p','checkpoint':'c'}",
         .code = PL_EPROOF},
        {.name = NULL},
};

static void receipt_refused(const struct bad *t)
{
	struct pl_receipt r;
	const char *why = NULL;
	size_t n;
	char *b = body(t->body, &n);

	memset(&r, SENTINEL, sizeof(r));
	if (pl__client_receipt_parse(b, n, R1, strlen(R1), &r, &why) != t->code)
		fail_msg("receipt: %s: not refused with %d", t->name, t->code);
	assert_non_null(why);
	assert_untouched(&r, sizeof(r));
	free(b);
}

static void test_receipt_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; bad_json[i].name; i++)
		receipt_refused(&bad_json[i]);
	for (size_t i = 0; bad_receipt[i].name; i++)
		receipt_refused(&bad_receipt[i]);
}

/* ---- GET /records/<id> and its Parley-Index header ---- */

static void test_index_header(void **state)
{
	static const struct {
		const char *line;
		int code;
		uint64_t index;
	} t[] = {
	        {"Parley-Index: 41\r\n", 0, 41},
	        {"parley-index:0", 0, 0},
	        {"PARLEY-INDEX: \t9223372036854775807 \r\n", 0, INT64_MAX},
	        {"Parley-Index: 041\r\n", PL_EMALFORMED, 0},
	        {"Parley-Index: -1\r\n", PL_EMALFORMED, 0},
	        {"Parley-Index: +1\r\n", PL_EMALFORMED, 0},
	        {"Parley-Index: 1 2\r\n", PL_EMALFORMED, 0},
	        {"Parley-Index: 0x10\r\n", PL_EMALFORMED, 0},
	        {"Parley-Index: \r\n", PL_EMALFORMED, 0},
	        {"Parley-Index: 9223372036854775808\r\n", PL_EMALFORMED, 0},
	        {"Parley-Index: 18446744073709551616\r\n", PL_EMALFORMED, 0},
	        {"Parley-Index:", PL_ENOTFOUND, 0},
	        {"Parley-Indexes: 1\r\n", PL_ENOTFOUND, 0},
	        {"Content-Type: text/plain\r\n", PL_ENOTFOUND, 0},
	        {"HTTP/1.1 200 OK\r\n", PL_ENOTFOUND, 0},
	        {"\r\n", PL_ENOTFOUND, 0},
	};
	char longline[300];

	(void)state;
	for (size_t i = 0; i < PL__ARRAY_LEN(t); i++) {
		uint64_t v = 0x5a5a;
		size_t n = strlen(t[i].line);
		char *p = malloc(n + 1);
		assert_non_null(p);
		memcpy(p, t[i].line, n);
		if (pl__client_index_header(p, n, &v) != t[i].code)
			fail_msg("header %zu: not %d", i, t[i].code);
		assert_int_equal(v, t[i].code ? 0x5a5a : t[i].index);
		free(p);
	}
	/* An oversized Parley-Index line is refused, not truncated. */
	memset(longline, ' ', sizeof(longline));
	memcpy(longline, "Parley-Index:", 13);
	longline[sizeof(longline) - 1] = '7';
	assert_int_equal(pl__client_index_header(longline, sizeof(longline), &(uint64_t){0}),
	                 PL_EMALFORMED);
}

static void test_record(void **state)
{
	struct pl_client_entry e;
	const char *why = NULL;
	uint64_t index = 7;
	char prefix[9], upper[PL_HASH_HEX_LEN + 1];
	uint8_t h[PL_HASH_BYTES];

	(void)state;
	assert_int_equal(pl__client_record_parse(R1, strlen(R1), id1, &index, &e, &why), 0);
	assert_int_equal(e.index, 7);
	assert_int_equal(e.note_len, 2);
	assert_string_equal(e.note, R1);
	pl_sha256(h, R1, strlen(R1));
	assert_memory_equal(e.id, h, PL_HASH_BYTES);
	pl_client_entry_release(&e);
	pl_client_entry_release(NULL);

	/* An 8-digit prefix, in either case. */
	memcpy(prefix, id1, 8);
	prefix[8] = '\0';
	for (size_t i = 0; i < 8; i++)
		upper[i] = (char)(prefix[i] >= 'a' ? prefix[i] - 'a' + 'A' : prefix[i]);
	upper[8] = '\0';
	assert_int_equal(pl__client_record_parse(R1, strlen(R1), prefix, &index, &e, NULL), 0);
	pl_client_entry_release(&e);
	assert_int_equal(pl__client_record_parse(R1, strlen(R1), upper, &index, &e, NULL), 0);
	pl_client_entry_release(&e);

	/* An empty body is a record of its own hash: the parser checks, the caller judges. */
	pl_sha256(h, "", 0);
	pl_hex_encode(upper, h, PL_HASH_BYTES);
	assert_int_equal(pl__client_record_parse(NULL, 0, upper, &index, &e, NULL), 0);
	assert_int_equal(e.note_len, 0);
	assert_string_equal(e.note, "");
	pl_client_entry_release(&e);
}

static void test_record_malformed(void **state)
{
	static const struct {
		const char *name, *body, *id;
		bool has_index;
		int code;
	} t[] = {
	        {"no Parley-Index", "r1", NULL, false, PL_EMALFORMED},
	        {"another record", "r2", NULL, true, PL_EPROOF},
	        {"truncated record", "r", NULL, true, PL_EPROOF},
	        {"trailing byte", "r1\n", NULL, true, PL_EPROOF},
	        {"prefix of another", "r2", "", true, PL_EPROOF},
	        {"id of 7 digits", "r1", "0123456", true, PL_EINVAL},
	        {"id of 65 digits", "r1", "@0", true, PL_EINVAL},
	        {"id not hex", "r1", "0123456g", true, PL_EINVAL},
	};
	uint64_t index = 7;

	(void)state;
	for (size_t i = 0; i < PL__ARRAY_LEN(t); i++) {
		struct pl_client_entry e;
		char id[2 * PL_HASH_HEX_LEN + 2];
		size_t n;
		char *b = body(t[i].body, &n);
		int ret;

		if (!t[i].id)
			snprintf(id, sizeof(id), "%s", id1);
		else if (!t[i].id[0])
			snprintf(id, sizeof(id), "%.8s", id1);
		else if (strcmp(t[i].id, "@0") == 0)
			snprintf(id, sizeof(id), "%s0", id1);
		else
			snprintf(id, sizeof(id), "%s", t[i].id);
		memset(&e, SENTINEL, sizeof(e));
		ret = pl__client_record_parse(b, n, id, t[i].has_index ? &index : NULL, &e, NULL);
		if (ret != t[i].code)
			fail_msg("record: %s: %d, not %d", t[i].name, ret, t[i].code);
		assert_untouched(&e, sizeof(e));
		free(b);
	}
}

/* ---- Lists: thread, statements, inbox ---- */

static void test_list_valid(void **state)
{
	struct pl_client_list l;
	const char *why = NULL;
	size_t n;
	char *b = body("{'records':[{'index':3,'id':'@','record':'r1'},"
	               "{'index':9,'id':'#','record':'r2'}],'next':10}",
	               &n);

	(void)state;
	assert_int_equal(pl__client_list_parse(b, n, true, &l, &why), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.next, 10);
	assert_int_equal(l.v[0].index, 3);
	assert_string_equal(l.v[0].note, "r1");
	assert_int_equal(l.v[1].index, 9);
	assert_int_equal(l.v[1].note_len, 2);
	assert_string_equal(l.v[1].note, "r2");
	pl_client_list_release(&l);
	pl_client_list_release(&l);
	pl_client_list_release(NULL);
	/* A thread has no cursor; a cursor there is ignored. */
	assert_int_equal(pl__client_list_parse(b, n, false, &l, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.next, 0);
	pl_client_list_release(&l);
	free(b);

	b = body("{'records':[],'next':0}", &n);
	assert_int_equal(pl__client_list_parse(b, n, true, &l, NULL), 0);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	pl_client_list_release(&l);
	free(b);
	b = body("{'records':[]}", &n);
	assert_int_equal(pl__client_list_parse(b, n, false, &l, NULL), 0);
	assert_int_equal(l.n, 0);
	free(b);
}

/* Every body here is refused with want_next; those marked * also without. */
static const struct bad bad_list[] = {
        {.name = "*trailing garbage", .body = "{'records':[],'next':0}]", .code = PL_EMALFORMED},
        {.name = "*truncated",
         .body = "{'records':[{'index':3,'id':'@','record':'r1'}",
         .code = PL_EMALFORMED},
        {.name = "*records missing", .body = "{'next':0}", .code = PL_EMALFORMED},
        {.name = "*records an object", .body = "{'records':{},'next':0}", .code = PL_EMALFORMED},
        {.name = "*records null", .body = "{'records':null,'next':0}", .code = PL_EMALFORMED},
        {.name = "next missing", .body = "{'records':[]}", .code = PL_EMALFORMED},
        {.name = "next negative", .body = "{'records':[],'next':-1}", .code = PL_EMALFORMED},
        {.name = "next a string", .body = "{'records':[],'next':'0'}", .code = PL_EMALFORMED},
        {.name = "next a real", .body = "{'records':[],'next':1e3}", .code = PL_EMALFORMED},
        {.name = "next huge",
         .body = "{'records':[],'next':18446744073709551616}",
         .code = PL_EMALFORMED},
        {.name = "*duplicate records",
         .body = "{'records':[],'records':[],'next':0}",
         .code = PL_EMALFORMED},
        {.name = "*entry a string", .body = "{'records':['r1'],'next':0}", .code = PL_EMALFORMED},
        {.name = "*entry null", .body = "{'records':[null],'next':0}", .code = PL_EMALFORMED},
        {.name = "*entry without index",
         .body = "{'records':[{'id':'@','record':'r1'}],'next':0}",
         .code = PL_EMALFORMED},
        {.name = "*entry without id",
         .body = "{'records':[{'index':3,'record':'r1'}],'next':0}",
         .code = PL_EMALFORMED},
        {.name = "*entry without record",
         .body = "{'records':[{'index':3,'id':'@'}],'next':0}",
         .code = PL_EMALFORMED},
        {.name = "*entry index negative",
         .body = "{'records':[{'index':-3,'id':'@','record':'r1'}],'next':0}",
         .code = PL_EMALFORMED},
        {.name = "*entry index huge",
         .body = "{'records':[{'index':9223372036854775808,'id':'@','record':'r1'}],'next':0}",
         .code = PL_EMALFORMED},
        {.name = "*entry id short",
         .body = "{'records':[{'index':3,'id':'~','record':'r1'}],'next':0}",
         .code = PL_EMALFORMED},
        {.name = "*entry id not hex",
         .body = "{'records':[{'index':3,'id':'~x','record':'r1'}],'next':0}",
         .code = PL_EMALFORMED},
        {.name = "*entry record a number",
         .body = "{'records':[{'index':3,'id':'@','record':1}],'next':0}",
         .code = PL_EMALFORMED},
        {.name = "*second entry bad",
         .body = "{'records':[{'index':3,'id':'@','record':'r1'},{'index':4}],'next':0}",
         .code = PL_EMALFORMED},
        {.name = "*entry of another record",
         .body = "{'records':[{'index':3,'id':'@','record':'r1'},"
                 "{'index':4,'id':'@','record':'r2'}],'next':0}",
         .code = PL_EPROOF},
        {.name = NULL},
};

static void list_refused(const char *name, const char *t, bool want_next, int code)
{
	struct pl_client_list l;
	const char *why = NULL;
	size_t n;
	char *b = body(t, &n);
	int ret;

	memset(&l, SENTINEL, sizeof(l));
	ret = pl__client_list_parse(b, n, want_next, &l, &why);
	if (ret != code)
		fail_msg("list: %s: %d, not %d", name, ret, code);
	assert_non_null(why);
	assert_untouched(&l, sizeof(l));
	free(b);
}

/* {"records":[n entries of R1], "next": 0}. */
static char *many_entries(const char *head, size_t count, const char *item, const char *tail,
                          size_t *len)
{
	struct pl_buf b;
	char *s;

	pl_buf_init(&b, 1u << 26);
	assert_int_equal(pl_buf_adds(&b, head), 0);
	for (size_t i = 0; i < count; i++) {
		assert_int_equal(pl_buf_adds(&b, i ? "," : ""), 0);
		assert_int_equal(pl_buf_adds(&b, item), 0);
	}
	assert_int_equal(pl_buf_adds(&b, tail), 0);
	s = body(b.data, len);
	pl_buf_release(&b);
	return s;
}

static void test_list_malformed(void **state)
{
	struct pl_client_list l;
	size_t n;
	char *b;

	(void)state;
	for (size_t i = 0; bad_json[i].name; i++) {
		list_refused(bad_json[i].name, bad_json[i].body, true, bad_json[i].code);
		list_refused(bad_json[i].name, bad_json[i].body, false, bad_json[i].code);
	}
	for (size_t i = 0; bad_list[i].name; i++) {
		list_refused(bad_list[i].name, bad_list[i].body, true, bad_list[i].code);
		if (bad_list[i].name[0] == '*')
			list_refused(bad_list[i].name, bad_list[i].body, false, bad_list[i].code);
	}
	/* A page holds at most PL_HTTP_RECORDS_MAX_PAGE records. */
	b = many_entries("{'records':[", PL_HTTP_RECORDS_MAX_PAGE,
	                 "{'index':3,'id':'@','record':'r1'}", "],'next':4}", &n);
	assert_int_equal(pl__client_list_parse(b, n, true, &l, NULL), 0);
	assert_int_equal(l.n, PL_HTTP_RECORDS_MAX_PAGE);
	pl_client_list_release(&l);
	free(b);
	b = many_entries("{'records':[", PL_HTTP_RECORDS_MAX_PAGE + 1,
	                 "{'index':3,'id':'@','record':'r1'}", "],'next':4}", &n);
	memset(&l, SENTINEL, sizeof(l));
	assert_int_equal(pl__client_list_parse(b, n, true, &l, NULL), PL_EMALFORMED);
	assert_untouched(&l, sizeof(l));
	free(b);
}

/* ---- GET /lines/<name> ---- */

#define LINE_ENTRY_1 "{'index':40,'id':'@','record':'r1','proof':'p1'}"
#define LINE_ENTRY_2 "{'index':41,'id':'#','record':'r2','proof':'p2\\n'}"

static void test_line_valid(void **state)
{
	struct pl_client_line l;
	const char *why = NULL;
	size_t n;
	char *b = body("{'line':'unc-kpa','size':57,'next':55,'more':true,'records':[" LINE_ENTRY_1
	               "," LINE_ENTRY_2 "]}",
	               &n);

	(void)state;
	assert_int_equal(pl__client_line_parse(b, n, "unc-kpa", &l, &why), 0);
	assert_int_equal(l.size, 57);
	assert_int_equal(l.next, 55);
	assert_true(l.more);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].index, 40);
	assert_string_equal(l.v[0].note, "r1");
	assert_string_equal(l.v[0].proof, "p1");
	assert_int_equal(l.v[1].index, 41);
	assert_int_equal(l.v[1].proof_len, 3);
	assert_string_equal(l.v[1].proof, "p2\n");
	pl_client_line_release(&l);
	pl_client_line_release(&l);
	pl_client_line_release(NULL);
	free(b);

	b = body("{'line':'l','size':0,'next':0,'more':false,'records':[]}", &n);
	assert_int_equal(pl__client_line_parse(b, n, "l", &l, NULL), 0);
	assert_false(l.more);
	assert_int_equal(l.n, 0);
	pl_client_line_release(&l);
	/* The caller must say which line it asked for. */
	memset(&l, SENTINEL, sizeof(l));
	assert_int_equal(pl__client_line_parse(b, n, NULL, &l, NULL), PL_EINVAL);
	assert_untouched(&l, sizeof(l));
	free(b);
}

static const struct bad bad_line[] = {
        {.name = "another line",
         .body = "{'line':'unc-kp','size':1,'next':0,'more':false,'records':[]}",
         .code = PL_EMALFORMED},
        {.name = "a longer line",
         .body = "{'line':'unc-kpa2','size':1,'next':0,'more':false,'records':[]}",
         .code = PL_EMALFORMED},
        {.name = "line missing",
         .body = "{'size':1,'next':0,'more':false,'records':[]}",
         .code = PL_EMALFORMED},
        {.name = "line a number",
         .body = "{'line':1,'size':1,'next':0,'more':false,'records':[]}",
         .code = PL_EMALFORMED},
        {.name = "size missing",
         .body = "{'line':'unc-kpa','next':0,'more':false,'records':[]}",
         .code = PL_EMALFORMED},
        {.name = "size negative",
         .body = "{'line':'unc-kpa','size':-1,'next':0,'more':false,'records':[]}",
         .code = PL_EMALFORMED},
        {.name = "next missing",
         .body = "{'line':'unc-kpa','size':1,'more':false,'records':[]}",
         .code = PL_EMALFORMED},
        {.name = "next huge",
         .body = "{'line':'unc-kpa','size':1,'next':1e30,'more':false,'records':[]}",
         .code = PL_EMALFORMED},
        {.name = "more missing",
         .body = "{'line':'unc-kpa','size':1,'next':0,'records':[]}",
         .code = PL_EMALFORMED},
        {.name = "more a number",
         .body = "{'line':'unc-kpa','size':1,'next':0,'more':0,'records':[]}",
         .code = PL_EMALFORMED},
        {.name = "records missing",
         .body = "{'line':'unc-kpa','size':1,'next':0,'more':false}",
         .code = PL_EMALFORMED},
        {.name = "entry without proof",
         .body = "{'line':'unc-kpa','size':1,'next':0,'more':false,'records':[" LINE_ENTRY_1
                 ",{'index':41,'id':'#','record':'r2'}]}",
         .code = PL_EMALFORMED},
        {.name = "proof not a string",
         .body = "{'line':'unc-kpa','size':1,'next':0,'more':false,'records':["
                 "{'index':40,'id':'@','record':'r1','proof':{}}]}",
         .code = PL_EMALFORMED},
        {.name = "entry id short",
         .body = "{'line':'unc-kpa','size':1,'next':0,'more':false,'records':["
                 "{'index':40,'id':'~','record':'r1','proof':'p'}]}",
         .code = PL_EMALFORMED},
        {.name = "entry of another record",
         .body = "{'line':'unc-kpa','size':1,'next':0,'more':false,'records':[" LINE_ENTRY_1
                 ",{'index':41,'id':'@','record':'r2','proof':'p'}]}",
         .code = PL_EPROOF},
        {.name = "trailing garbage",
         .body = "{'line':'unc-kpa','size':1,'next':0,'more':false,'records':[]}\n\n{",
         .code = PL_EMALFORMED},
        {.name = "truncated",
         .body = "{'line':'unc-kpa','size':1,'next':0,'more':false,'records':[" LINE_ENTRY_1,
         .code = PL_EMALFORMED},
        {.name = NULL},
};

static void line_refused(const struct bad *t)
{
	struct pl_client_line l;
	const char *why = NULL;
	size_t n;
	char *b = body(t->body, &n);
	int ret;

	memset(&l, SENTINEL, sizeof(l));
	ret = pl__client_line_parse(b, n, "unc-kpa", &l, &why);
	if (ret != t->code)
		fail_msg("line: %s: %d, not %d", t->name, ret, t->code);
	assert_non_null(why);
	assert_untouched(&l, sizeof(l));
	free(b);
}

static void test_line_malformed(void **state)
{
	struct pl_client_line l;
	size_t n;
	char *b;

	(void)state;
	for (size_t i = 0; bad_json[i].name; i++)
		line_refused(&bad_json[i]);
	for (size_t i = 0; bad_line[i].name; i++)
		line_refused(&bad_line[i]);
	b = many_entries("{'line':'unc-kpa','size':1,'next':0,'more':false,'records':[",
	                 PL_HTTP_RECORDS_MAX_PAGE + 1, LINE_ENTRY_1, "]}", &n);
	memset(&l, SENTINEL, sizeof(l));
	assert_int_equal(pl__client_line_parse(b, n, "unc-kpa", &l, NULL), PL_EMALFORMED);
	assert_untouched(&l, sizeof(l));
	free(b);
}

/* ---- GET /parties ---- */

#define PARTY_UNC                                                                        \
	"{'name':'unc','vkey':'%','enc_key':'enc','register_index':3,'register_id':'@'," \
	"'register_record':'r1','revoked':false}"
#define PARTY_KPA                                                                     \
	"{'name':'kpa','vkey':'%','enc_key':'','register_index':4,'register_id':'#'," \
	"'register_record':'r2','revoked':true,'revoke_index':9}"

static void test_parties_valid(void **state)
{
	struct pl_client_party *v = NULL;
	const char *why = NULL;
	size_t n, k = 99;
	char *b = body("{'parties':[" PARTY_UNC "," PARTY_KPA "]}", &n);
	struct pl_vkey vk;
	uint8_t h[PL_HASH_BYTES];

	(void)state;
	assert_int_equal(pl_vkey_parse(&vk, vkey_text, strlen(vkey_text)), 0);
	assert_int_equal(pl__client_parties_parse(b, n, &v, &k, &why), 0);
	assert_int_equal(k, 2);
	assert_string_equal(v[0].name, "unc");
	assert_true(pl_vkey_equal(&v[0].vkey, &vk));
	assert_string_equal(v[0].enc_key, "enc");
	assert_int_equal(v[0].register_index, 3);
	pl_sha256(h, R1, strlen(R1));
	assert_memory_equal(v[0].register_id, h, PL_HASH_BYTES);
	assert_string_equal(v[0].register_record, "r1");
	assert_int_equal(v[0].register_record_len, 2);
	assert_false(v[0].revoked);
	assert_string_equal(v[1].name, "kpa");
	assert_string_equal(v[1].enc_key, "");
	assert_true(v[1].revoked);
	assert_int_equal(v[1].revoke_index, 9);
	pl_client_parties_free(v, k);
	pl_client_parties_free(NULL, 0);
	free(b);

	b = body("{'parties':[]}", &n);
	assert_int_equal(pl__client_parties_parse(b, n, &v, &k, NULL), 0);
	assert_int_equal(k, 0);
	pl_client_parties_free(v, k);
	free(b);
}

static const struct bad bad_parties[] = {
        {.name = "parties missing", .body = "{'party':[]}", .code = PL_EMALFORMED},
        {.name = "parties an object", .body = "{'parties':{}}", .code = PL_EMALFORMED},
        {.name = "trailing garbage", .body = "{'parties':[]}0", .code = PL_EMALFORMED},
        {.name = "truncated", .body = "{'parties':[" PARTY_UNC, .code = PL_EMALFORMED},
        {.name = "entry a number", .body = "{'parties':[1]}", .code = PL_EMALFORMED},
        {.name = "second entry bad",
         .body = "{'parties':[" PARTY_UNC ",{}]}",
         .code = PL_EMALFORMED},
        {.name = "name missing",
         .body = "{'parties':[{'vkey':'%','enc_key':'e','register_index':3,'register_id':'@',"
                 "'register_record':'r1','revoked':false}]}",
         .code = PL_EMALFORMED},
        {.name = "name a number",
         .body = "{'parties':[{'name':1,'vkey':'%','enc_key':'e','register_index':3,"
                 "'register_id':'@','register_record':'r1','revoked':false}]}",
         .code = PL_EMALFORMED},
        {.name = "vkey not a key",
         .body = "{'parties':[{'name':'unc','vkey':'unc+00000000+AAAA','enc_key':'e',"
                 "'register_index':3,'register_id':'@','register_record':'r1','revoked':false}]}",
         .code = PL_EMALFORMED},
        {.name = "vkey with a newline",
         .body = "{'parties':[{'name':'unc','vkey':'%\\n','enc_key':'e','register_index':3,"
                 "'register_id':'@','register_record':'r1','revoked':false}]}",
         .code = PL_EMALFORMED},
        {.name = "enc_key missing",
         .body = "{'parties':[{'name':'unc','vkey':'%','register_index':3,'register_id':'@',"
                 "'register_record':'r1','revoked':false}]}",
         .code = PL_EMALFORMED},
        {.name = "register_index negative",
         .body = "{'parties':[{'name':'unc','vkey':'%','enc_key':'e','register_index':-3,"
                 "'register_id':'@','register_record':'r1','revoked':false}]}",
         .code = PL_EMALFORMED},
        {.name = "register_id short",
         .body = "{'parties':[{'name':'unc','vkey':'%','enc_key':'e','register_index':3,"
                 "'register_id':'~','register_record':'r1','revoked':false}]}",
         .code = PL_EMALFORMED},
        {.name = "register_id not hex",
         .body = "{'parties':[{'name':'unc','vkey':'%','enc_key':'e','register_index':3,"
                 "'register_id':'~z','register_record':'r1','revoked':false}]}",
         .code = PL_EMALFORMED},
        {.name = "register_record missing",
         .body = "{'parties':[{'name':'unc','vkey':'%','enc_key':'e','register_index':3,"
                 "'register_id':'@','revoked':false}]}",
         .code = PL_EMALFORMED},
        {.name = "revoked a string",
         .body = "{'parties':[{'name':'unc','vkey':'%','enc_key':'e','register_index':3,"
                 "'register_id':'@','register_record':'r1','revoked':'false'}]}",
         .code = PL_EMALFORMED},
        {.name = "revoked without revoke_index",
         .body = "{'parties':[{'name':'unc','vkey':'%','enc_key':'e','register_index':3,"
                 "'register_id':'@','register_record':'r1','revoked':true}]}",
         .code = PL_EMALFORMED},
        {.name = "revoke_index huge",
         .body = "{'parties':[{'name':'unc','vkey':'%','enc_key':'e','register_index':3,"
                 "'register_id':'@','register_record':'r1','revoked':true,"
                 "'revoke_index':99999999999999999999}]}",
         .code = PL_EMALFORMED},
        {.name = "duplicate name",
         .body = "{'parties':[{'name':'unc','name':'unc','vkey':'%','enc_key':'e',"
                 "'register_index':3,'register_id':'@','register_record':'r1','revoked':false}]}",
         .code = PL_EMALFORMED},
        {.name = NULL},
};

static void parties_refused(const char *name, const char *t, int code)
{
	struct pl_client_party *v;
	const char *why = NULL;
	size_t n, k;
	char *b = body(t, &n);
	int ret;

	memset(&v, SENTINEL, sizeof(v));
	memset(&k, SENTINEL, sizeof(k));
	ret = pl__client_parties_parse(b, n, &v, &k, &why);
	if (ret != code)
		fail_msg("parties: %s: %d, not %d", name, ret, code);
	assert_non_null(why);
	assert_untouched(&v, sizeof(v));
	assert_untouched(&k, sizeof(k));
	free(b);
}

static void test_parties_malformed(void **state)
{
	struct pl_buf t;
	char big[PL_CLIENT_ENC_KEY_MAX + 2];

	(void)state;
	for (size_t i = 0; bad_json[i].name; i++)
		parties_refused(bad_json[i].name, bad_json[i].body, bad_json[i].code);
	for (size_t i = 0; bad_parties[i].name; i++)
		parties_refused(bad_parties[i].name, bad_parties[i].body, bad_parties[i].code);

	/* A name or an encryption key longer than its field. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pl_buf_init(&t, 4096);
	assert_int_equal(pl_buf_addf(&t,
	                             "{'parties':[{'name':'%.*s','vkey':'%%','enc_key':'e',"
	                             "'register_index':3,'register_id':'@','register_record':'r1',"
	                             "'revoked':false}]}",
	                             PL_KEY_NAME_MAX + 1, big),
	                 0);
	parties_refused("name too long", t.data, PL_EMALFORMED);
	pl_buf_reset(&t);
	assert_int_equal(pl_buf_addf(&t,
	                             "{'parties':[{'name':'unc','vkey':'%%','enc_key':'%s',"
	                             "'register_index':3,'register_id':'@','register_record':'r1',"
	                             "'revoked':false}]}",
	                             big),
	                 0);
	parties_refused("enc_key too long", t.data, PL_EMALFORMED);
	pl_buf_release(&t);
}

static void test_parties_too_many(void **state)
{
	struct pl_client_party *v;
	size_t n, k;
	char *b = many_entries("{'parties':[", PL_DIRECTORY_MAX_KEYS + 1, "0", "]}", &n);

	(void)state;
	memset(&v, SENTINEL, sizeof(v));
	memset(&k, SENTINEL, sizeof(k));
	assert_int_equal(pl__client_parties_parse(b, n, &v, &k, NULL), PL_EMALFORMED);
	assert_untouched(&v, sizeof(v));
	assert_untouched(&k, sizeof(k));
	free(b);
}

/* ---- GET /consistency ---- */

static void test_consistency(void **state)
{
	uint8_t hashes[PL_PROOF_MAX_HASHES][PL_HASH_BYTES], want[3][PL_HASH_BYTES];
	char b64[PL_HASH_B64_LEN + 1];
	struct pl_buf t;
	size_t n = 99;

	(void)state;
	pl_buf_init(&t, 1u << 20);
	for (int i = 0; i < 3; i++) {
		memset(want[i], 0x10 * (i + 1), PL_HASH_BYTES);
		want[i][0] = (uint8_t)i;
		pl_b64_encode(b64, want[i], PL_HASH_BYTES);
		assert_int_equal(pl_buf_addf(&t, "%s\n", b64), 0);
	}
	assert_int_equal(pl__client_consistency_parse(t.data, t.len, hashes, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(hashes, want, sizeof(want));
	/* Empty: old size 0 or old = new. */
	assert_int_equal(pl__client_consistency_parse(NULL, 0, hashes, &n, NULL), 0);
	assert_int_equal(n, 0);

	/* PL_PROOF_MAX_HASHES lines pass, one more does not. */
	pl_buf_reset(&t);
	for (int i = 0; i < PL_PROOF_MAX_HASHES; i++)
		assert_int_equal(pl_buf_addf(&t, "%s\n", b64), 0);
	assert_int_equal(pl__client_consistency_parse(t.data, t.len, hashes, &n, NULL), 0);
	assert_int_equal(n, PL_PROOF_MAX_HASHES);
	assert_int_equal(pl_buf_addf(&t, "%s\n", b64), 0);
	memset(hashes, SENTINEL, sizeof(hashes));
	memset(&n, SENTINEL, sizeof(n));
	assert_int_equal(pl__client_consistency_parse(t.data, t.len, hashes, &n, NULL),
	                 PL_EMALFORMED);
	assert_untouched(hashes, sizeof(hashes));
	assert_untouched(&n, sizeof(n));
	pl_buf_release(&t);
}

static void test_consistency_malformed(void **state)
{
	/* Each bad line alone, then after two good ones (nothing is written early). NULL: a NUL. */
	static const struct {
		const char *name, *tail;
	} t[] = {
	        {"no final newline", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
	        {"empty line", "\n"},
	        {"CRLF", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n"},
	        {"space", " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"},
	        {"31 bytes", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"},
	        {"33 bytes", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"},
	        {"no padding", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"},
	        {"non-canonical", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n"},
	        {"url alphabet", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_=\n"},
	        {"hex", "0000000000000000000000000000000000000000000000000000000000000000\n"},
	        {"NUL", NULL},
	        {"JSON", "[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]\n"},
	};
	static const char good[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

	(void)state;
	for (size_t i = 0; i < PL__ARRAY_LEN(t); i++) {
		uint8_t hashes[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
		const char *why = NULL;
		const char *tail = t[i].tail ? t[i].tail : good;
		size_t n, tl = strlen(tail);
		char *b;

		for (int alone = 0; alone < 2; alone++) {
			size_t len = 0;
			b = malloc(2 * strlen(good) + tl);
			assert_non_null(b);
			if (!alone) {
				memcpy(b, good, strlen(good));
				memcpy(b + strlen(good), good, strlen(good));
				len = 2 * strlen(good);
			}
			memcpy(b + len, tail, tl);
			if (!t[i].tail)
				b[len + 10] = '\0';
			len += tl;
			memset(hashes, SENTINEL, sizeof(hashes));
			memset(&n, SENTINEL, sizeof(n));
			if (pl__client_consistency_parse(b, len, hashes, &n, &why) != PL_EMALFORMED)
				fail_msg("consistency: %s: not refused", t[i].name);
			assert_non_null(why);
			assert_untouched(hashes, sizeof(hashes));
			assert_untouched(&n, sizeof(n));
			free(b);
		}
	}
}

/* ---- The event stream of GET /inbox ---- */

struct got {
	size_t n;
	uint64_t index[8];
	char note[8][8];
	size_t stop_after; /* 0: never stop */
};

static int on_record(void *arg, const struct pl_client_entry *e)
{
	struct got *g = arg;

	if (g->n < PL__ARRAY_LEN(g->index)) {
		g->index[g->n] = e->index;
		snprintf(g->note[g->n], sizeof(g->note[0]), "%s", e->note);
	}
	g->n++;
	return g->stop_after && g->n >= g->stop_after;
}

/* The stream the server sends: two records, a heartbeat between them. */
#define SSE_OK                                                               \
	"id: 4\nevent: record\ndata: {'index':3,'id':'@','record':'r1'}\n\n" \
	": keep-alive\n\n"                                                   \
	"id: 10\nevent: record\ndata: {'index':9,'id':'#','record':'r2'}\n\n"

/* Feeds s[0..n) in chunks of the sizes in sizes (cycled; 0: all at once). */
static int feed(struct pl__client_sse *p, const char *s, size_t n, const size_t *sizes,
                size_t nsizes)
{
	size_t i = 0, k = 0;
	int ret = 0;

	while (i < n && !ret) {
		size_t c = nsizes ? sizes[k++ % nsizes] : n;
		char *chunk;
		if (c > n - i)
			c = n - i;
		chunk = malloc(c);
		assert_non_null(chunk);
		memcpy(chunk, s + i, c);
		ret = pl__client_sse_feed(p, chunk, c);
		free(chunk);
		i += c;
	}
	return ret;
}

/* Feeds a template in the given chunks; returns the parser's answer. */
static int sse_run(const char *t, uint64_t *cursor, struct got *g, const size_t *sizes,
                   size_t nsizes)
{
	struct pl__client_sse *p = NULL;
	size_t n;
	char *b = body(t, &n);
	int ret;

	assert_int_equal(pl__client_sse_new(&p, cursor, on_record, g), 0);
	ret = feed(p, b, n, sizes, nsizes);
	/* An error sticks; a stopped parser reads nothing more. */
	if (ret)
		assert_int_equal(pl__client_sse_feed(p, "\n\n", 2), ret);
	pl__client_sse_free(p);
	free(b);
	return ret;
}

static void test_sse_valid(void **state)
{
	static const size_t one[] = {1}, odd[] = {3, 1, 7, 2, 50, 5}, two[] = {2};
	static const struct {
		const size_t *sizes;
		size_t n;
	} chunkings[] = {{NULL, 0}, {one, 1}, {two, 1}, {odd, PL__ARRAY_LEN(odd)}};

	(void)state;
	for (size_t i = 0; i < PL__ARRAY_LEN(chunkings); i++) {
		struct got g = {0};
		uint64_t cursor = 0;
		assert_int_equal(sse_run(SSE_OK, &cursor, &g, chunkings[i].sizes, chunkings[i].n),
		                 0);
		assert_int_equal(g.n, 2);
		assert_int_equal(g.index[0], 3);
		assert_string_equal(g.note[0], "r1");
		assert_int_equal(g.index[1], 9);
		assert_string_equal(g.note[1], "r2");
		assert_int_equal(cursor, 10);
	}
}

static void test_sse_framing(void **state)
{
	static const size_t one[] = {1};
	struct got g;
	uint64_t cursor;

	(void)state;
	/* CRLF ends of line, no space after the colon, unknown fields and events ignored. */
	memset(&g, 0, sizeof(g));
	cursor = 0;
	assert_int_equal(
	        sse_run("retry: 1000\r\nfoo: bar\r\nnocolon\r\n\r\n"
	                "event: other\ndata: not json\n\n"
	                "id:4\r\nevent:record\r\ndata:{'index':3,'id':'@','record':'r1'}\r\n\r\n",
	                &cursor, &g, one, 1),
	        0);
	assert_int_equal(g.n, 1);
	assert_int_equal(cursor, 4);
	/* An event's data over several lines, joined by newlines (JSON whitespace here). */
	memset(&g, 0, sizeof(g));
	cursor = 0;
	assert_int_equal(sse_run("event: record\ndata: {'index':3,\ndata: 'id':'@',\ndata:\n"
	                         "data: 'record':'r1'}\n\n",
	                         &cursor, &g, NULL, 0),
	                 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(cursor, 4); /* past the record, with no id line */
	/* An id alone moves the cursor; an older id or record does not move it back. */
	memset(&g, 0, sizeof(g));
	cursor = 20;
	assert_int_equal(sse_run("id: 30\n\nid: 5\nevent: record\ndata: "
	                         "{'index':3,'id':'@','record':'r1'}\n\n",
	                         &cursor, &g, NULL, 0),
	                 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(cursor, 30);
	/* An event without its blank line is not dispatched: the stream ended in it. */
	memset(&g, 0, sizeof(g));
	cursor = 0;
	assert_int_equal(sse_run("id: 4\nevent: record\ndata: {'index':3,'id':'@','record':'r1'}\n",
	                         &cursor, &g, NULL, 0),
	                 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(cursor, 0);
	/* A record event with no data is nothing. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(sse_run("event: record\n\nevent: record\ndata:\n\n", &cursor, &g, one, 1),
	                 0);
	assert_int_equal(g.n, 0);
}

static void test_sse_stop(void **state)
{
	static const size_t one[] = {1};
	struct pl__client_sse *p = NULL;
	struct got g = {.stop_after = 1};
	uint64_t cursor = 0;
	size_t n;
	char *b = body(SSE_OK, &n);

	(void)state;
	assert_int_equal(pl__client_sse_new(&p, &cursor, on_record, &g), 0);
	assert_false(pl__client_sse_is_stopped(p));
	assert_int_equal(feed(p, b, n, one, 1), 0);
	assert_true(pl__client_sse_is_stopped(p));
	assert_int_equal(g.n, 1);
	assert_int_equal(cursor, 4);
	/* Nothing more is read, not even a malformed line. */
	assert_int_equal(pl__client_sse_feed(p, "id: x\n\n", 7), 0);
	assert_int_equal(g.n, 1);
	pl__client_sse_free(p);
	pl__client_sse_free(NULL);
	free(b);

	assert_int_equal(pl__client_sse_new(&p, &cursor, NULL, &g), PL_EINVAL);
	assert_int_equal(pl__client_sse_new(&p, NULL, on_record, &g), PL_EINVAL);
}

static const struct bad bad_sse[] = {
        {.name = "id not a number", .body = "id: x\n\n", .code = PL_EMALFORMED},
        {.name = "id negative", .body = "id: -1\n\n", .code = PL_EMALFORMED},
        {.name = "id leading zero", .body = "id: 01\n\n", .code = PL_EMALFORMED},
        {.name = "id empty", .body = "id:\n\n", .code = PL_EMALFORMED},
        {.name = "id huge", .body = "id: 9223372036854775808\n\n", .code = PL_EMALFORMED},
        {.name = "id two spaces", .body = "id:  4\n\n", .code = PL_EMALFORMED},
        {.name = "data not JSON", .body = "event: record\ndata: hello\n\n", .code = PL_EMALFORMED},
        {.name = "data truncated JSON",
         .body = "event: record\ndata: {'index':3,'id':'@'\n\n",
         .code = PL_EMALFORMED},
        {.name = "data JSON and garbage",
         .body = "event: record\ndata: {'index':3,'id':'@','record':'r1'} x\n\n",
         .code = PL_EMALFORMED},
        {.name = "data an array",
         .body = "event: record\ndata: [{'index':3,'id':'@','record':'r1'}]\n\n",
         .code = PL_EMALFORMED},
        {.name = "entry without record",
         .body = "event: record\ndata: {'index':3,'id':'@'}\n\n",
         .code = PL_EMALFORMED},
        {.name = "entry index negative",
         .body = "event: record\ndata: {'index':-1,'id':'@','record':'r1'}\n\n",
         .code = PL_EMALFORMED},
        {.name = "entry id short",
         .body = "event: record\ndata: {'index':3,'id':'~','record':'r1'}\n\n",
         .code = PL_EMALFORMED},
        {.name = "entry of another record",
         .body = "event: record\ndata: {'index':3,'id':'#','record':'r1'}\n\n",
         .code = PL_EPROOF},
        {.name = NULL},
};

static void test_sse_malformed(void **state)
{
	static const size_t one[] = {1}, three[] = {3};

	(void)state;
	for (size_t i = 0; bad_sse[i].name; i++) {
		for (int k = 0; k < 3; k++) {
			struct got g = {0};
			uint64_t cursor = 2;
			int ret = sse_run(bad_sse[i].body, &cursor, &g,
			                  k == 0   ? NULL
			                  : k == 1 ? one
			                           : three,
			                  k ? 1 : 0);
			if (ret != bad_sse[i].code)
				fail_msg("sse: %s: %d, not %d", bad_sse[i].name, ret,
				         bad_sse[i].code);
			assert_int_equal(g.n, 0);
			assert_int_equal(cursor, 2);
		}
	}
}

static void test_sse_oversized(void **state)
{
	const size_t max = 8u * PL_RECORD_MAX_BYTES; /* the client's line and event limit */
	struct pl__client_sse *p = NULL;
	struct got g = {0};
	uint64_t cursor = 0;
	char *big = malloc(max + 2);
	size_t n;
	char *ok = body(SSE_OK, &n);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', max + 2);
	/* A comment line of exactly the limit passes, in two chunks; one more byte does not. */
	big[0] = ':';
	big[max] = '\n';
	assert_int_equal(pl__client_sse_new(&p, &cursor, on_record, &g), 0);
	assert_int_equal(pl__client_sse_feed(p, big, max / 2), 0);
	assert_int_equal(pl__client_sse_feed(p, big + max / 2, max + 1 - max / 2), 0);
	assert_int_equal(pl__client_sse_feed(p, ok, n), 0);
	assert_int_equal(g.n, 2);
	pl__client_sse_free(p);

	g.n = 0;
	cursor = 0;
	assert_int_equal(pl__client_sse_new(&p, &cursor, on_record, &g), 0);
	assert_int_equal(pl__client_sse_feed(p, big, max), 0);
	assert_int_equal(pl__client_sse_feed(p, "y", 1), PL_ETOOBIG);
	assert_int_equal(pl__client_sse_feed(p, ok, n), PL_ETOOBIG);
	assert_int_equal(g.n, 0);
	assert_int_equal(cursor, 0);
	pl__client_sse_free(p);

	/* An event's data over many lines, each small, is bounded too. */
	assert_int_equal(pl__client_sse_new(&p, &cursor, on_record, &g), 0);
	memcpy(big, "data: ", 6);
	big[1023] = '\n';
	{
		int ret = 0;
		for (size_t i = 0; i < 2 * max / 1024 && !ret; i++)
			ret = pl__client_sse_feed(p, big, 1024);
		assert_int_equal(ret, PL_ETOOBIG);
	}
	assert_int_equal(g.n, 0);
	pl__client_sse_free(p);
	free(big);
	free(ok);
}

/*
 * Two checkpoints of one size with different roots are two histories, with
 * no need to ask the exchange; the evidence keeps both notes byte for byte
 * in the documented text form. One size, one root: one history.
 */
static void test_split_same_size(void **state)
{
	static const char seen[] = "hotline.example\n5\nAAAA\n\n\xe2\x80\x94 hotline.example x\n";
	static const char given[] = "hotline.example\n5\nBBBB\n\n\xe2\x80\x94 hotline.example y\n";
	static const char want[] =
	        "parley/split-view/v1\n"
	        "exchange http://127.0.0.1:1\n"
	        "log-key hotline.example+00000000+K\n"
	        "detected 2025-11-17T01:00:00Z\n"
	        "reason same size, different roots\n"
	        "\n"
	        "checkpoint seen-before\n"
	        "size 5\n"
	        "root AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"
	        "source pinned in state.db\n"
	        "bytes 46\n"
	        "hotline.example\n5\nAAAA\n\n\xe2\x80\x94 hotline.example x\n"
	        "\n"
	        "checkpoint given-now\n"
	        "size 5\n"
	        "root AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n"
	        "source received from http://127.0.0.1:1 at 2025-11-17T01:00:00Z\n"
	        "bytes 46\n"
	        "hotline.example\n5\nBBBB\n\n\xe2\x80\x94 hotline.example y\n"
	        "\n"
	        "consistency none: the sizes are equal\n";
	struct pl_client *c = NULL;
	struct pl_client_split *sp = NULL;
	uint8_t r1[PL_HASH_BYTES], r2[PL_HASH_BYTES];
	struct pl_buf b;

	(void)state;
	memset(r1, 1, sizeof(r1));
	memset(r2, 2, sizeof(r2));
	assert_int_equal(pl_client_new(&c, "http://127.0.0.1:1", NULL, NULL), 0);
	assert_int_equal(pl_client_observe(c, 5, r1, seen, strlen(seen), "pinned in state.db", 5,
	                                   r1, seen, strlen(seen), 1763341200, &sp),
	                 0);
	assert_null(sp);
	assert_int_equal(pl_client_observe(c, 5, r1, seen, strlen(seen), "pinned in state.db", 5,
	                                   r2, given, strlen(given), 1763341200, &sp),
	                 PL_EINCONSISTENT);
	assert_non_null(sp);
	assert_false(sp->asked_proof);
	snprintf(sp->log_key, sizeof(sp->log_key), "hotline.example+00000000+K");
	pl_buf_init(&b, 1u << 16);
	assert_int_equal(pl_client_split_format(sp, &b), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	pl_buf_release(&b);
	pl_client_split_free(sp);
	sp = NULL;
	/* Different sizes need the exchange; unreachable, nothing is concluded. */
	assert_int_equal(pl_client_observe(c, 5, r1, seen, strlen(seen), "state", 6, r2, given,
	                                   strlen(given), 1763341200, &sp),
	                 PL_ENET);
	assert_null(sp);
	pl_client_split_free(NULL);
	pl_client_free(c);
}

PL_TEST_MAIN(setup, NULL, cmocka_unit_test(test_receipt_valid),
             cmocka_unit_test(test_receipt_malformed), cmocka_unit_test(test_index_header),
             cmocka_unit_test(test_record), cmocka_unit_test(test_record_malformed),
             cmocka_unit_test(test_list_valid), cmocka_unit_test(test_list_malformed),
             cmocka_unit_test(test_line_valid), cmocka_unit_test(test_line_malformed),
             cmocka_unit_test(test_parties_valid), cmocka_unit_test(test_parties_malformed),
             cmocka_unit_test(test_parties_too_many), cmocka_unit_test(test_consistency),
             cmocka_unit_test(test_consistency_malformed), cmocka_unit_test(test_sse_valid),
             cmocka_unit_test(test_sse_framing), cmocka_unit_test(test_sse_stop),
             cmocka_unit_test(test_sse_malformed), cmocka_unit_test(test_sse_oversized),
             cmocka_unit_test(test_split_same_size))
