/* Unit tests of the API codec: each encoder's exact text, and encode, decode, equal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include <parley/apicodec.h>
#include <parley/client.h>

#include "internal.h"

#include "testutil.h"

/* Text with every character JSON must escape, and UTF-8 beyond ASCII. */
#define AWKWARD "a \"quoted\" back\\slash\nnew line\ttab\r\x01\x1f\x7f caf\xc3\xa9 /"

/* Two records: the decoders check that an id is the SHA-256 of its record. */
static const char R1[] = "parley/record/v1\nkind statement\n\n\xe2\x80\x94 hotline.example/unc x\n";
static const char R2[] = "r2 \"with\" quotes\n";

static struct pl_exchange_entry entry(uint64_t index, const char *rec)
{
	struct pl_exchange_entry e;

	memset(&e, 0, sizeof(e));
	e.index = index;
	pl_sha256(e.id, rec, strlen(rec));
	e.note = (char *)rec;
	e.note_len = strlen(rec);
	return e;
}

/* b holds exactly want. */
static void assert_text(const struct pl_buf *b, const char *want)
{
	assert_non_null(b->data);
	assert_int_equal(b->len, strlen(want));
	assert_memory_equal(b->data, want, b->len);
}

/* b starts with prefix. */
static void assert_prefix(const struct pl_buf *b, const char *prefix)
{
	assert_non_null(b->data);
	assert_true(b->len >= strlen(prefix));
	assert_memory_equal(b->data, prefix, strlen(prefix));
}

/* ---- Strings ---- */

static void test_string(void **state)
{
	struct pl_buf b;
	json_t *j;

	(void)state;
	pl_buf_init(&b, 1024);
	assert_int_equal(pl_apicodec_string(&b, AWKWARD, sizeof(AWKWARD) - 1), 0);
	assert_text(&b,
	            "\"a \\\"quoted\\\" back\\\\slash\\nnew line\\ttab\\u000d\\u0001\\u001f\x7f "
	            "caf\xc3\xa9 /\"");
	pl_buf_release(&b);
	/* Every byte below 0x80 decodes back to itself. */
	for (unsigned c = 1; c < 0x80; c++) {
		char in[3] = {'x', (char)c, 'y'};
		json_error_t je;
		pl_buf_init(&b, 64);
		assert_int_equal(pl_apicodec_string(&b, in, sizeof(in)), 0);
		j = json_loadb(b.data, b.len, JSON_DECODE_ANY, &je);
		assert_non_null(j);
		assert_int_equal(json_string_length(j), sizeof(in));
		assert_memory_equal(json_string_value(j), in, sizeof(in));
		json_decref(j);
		pl_buf_release(&b);
	}
	/* Empty, and a buffer too small: its bound is the caller's. */
	pl_buf_init(&b, 64);
	assert_int_equal(pl_apicodec_string(&b, "", 0), 0);
	assert_text(&b, "\"\"");
	pl_buf_release(&b);
	pl_buf_init(&b, 8);
	assert_int_equal(pl_apicodec_string(&b, "\n\n\n\n\n", 5), PL_ETOOBIG);
	pl_buf_release(&b);
}

/* ---- The receipt ---- */

static void test_receipt(void **state)
{
	struct pl_receipt r, got;
	char want[1024], hex[PL_HASH_HEX_LEN + 1];
	const char *why = NULL;
	struct pl_buf b;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.index = 41;
	r.size = 42;
	pl_sha256(r.id, R1, strlen(R1));
	r.proof = (char *)"c2sp.org/tlog-proof@v1\nindex 41\nAAAA\n\n" AWKWARD;
	r.proof_len = strlen(r.proof);
	r.checkpoint = (char *)"hotline.example\n42\nroot\n\n\xe2\x80\x94 hotline.example sig\n";
	r.checkpoint_len = strlen(r.checkpoint);
	pl_buf_init(&b, 4096);
	assert_int_equal(pl_apicodec_receipt(&b, &r), 0);
	/* The wire format of docs/api.md, byte for byte as parleyd has always answered it. */
	pl_hex_encode(hex, r.id, PL_HASH_BYTES);
	snprintf(
	        want, sizeof(want),
	        "{\"index\":41,\"id\":\"%s\",\"size\":42,\"proof\":\"c2sp.org/tlog-proof@v1\\n"
	        "index 41\\nAAAA\\n\\na \\\"quoted\\\" back\\\\slash\\nnew line\\ttab\\u000d"
	        "\\u0001\\u001f\x7f caf\xc3\xa9 /\",\"checkpoint\":\"hotline.example\\n42\\nroot\\n"
	        "\\n\xe2\x80\x94 hotline.example sig\\n\"}",
	        hex);
	assert_text(&b, want);
	/* Decoded for the record submitted: the same receipt. */
	memset(&got, 0, sizeof(got));
	assert_int_equal(pl__client_receipt_parse(b.data, b.len, R1, strlen(R1), &got, &why), 0);
	assert_int_equal(got.index, r.index);
	assert_int_equal(got.size, r.size);
	assert_memory_equal(got.id, r.id, PL_HASH_BYTES);
	assert_int_equal(got.proof_len, r.proof_len);
	assert_memory_equal(got.proof, r.proof, r.proof_len);
	assert_int_equal(got.checkpoint_len, r.checkpoint_len);
	assert_memory_equal(got.checkpoint, r.checkpoint, r.checkpoint_len);
	pl_receipt_release(&got);
	assert_null(got.proof);
	assert_null(got.checkpoint);
	pl_receipt_release(&got); /* released twice: a no-op */
	pl_receipt_release(NULL);
	/* ...and refused for another record. */
	assert_int_equal(pl__client_receipt_parse(b.data, b.len, R2, strlen(R2), &got, &why),
	                 PL_EPROOF);
	pl_buf_release(&b);
	pl_buf_init(&b, 64);
	assert_int_equal(pl_apicodec_receipt(&b, &r), PL_ETOOBIG);
	pl_buf_release(&b);
}

/* ---- Lists ---- */

static void test_records(void **state)
{
	struct pl_exchange_entry e1 = entry(3, R1), e2 = entry(9, R2);
	struct pl_client_list l;
	char want[2048], h1[PL_HASH_HEX_LEN + 1], h2[PL_HASH_HEX_LEN + 1];
	struct pl_buf b;

	(void)state;
	pl_hex_encode(h1, e1.id, PL_HASH_BYTES);
	pl_hex_encode(h2, e2.id, PL_HASH_BYTES);
	/* Statements and an inbox: with the cursor. */
	pl_buf_init(&b, 4096);
	assert_int_equal(pl_apicodec_records_open(&b), 0);
	assert_int_equal(pl_apicodec_entry(&b, true, &e1, NULL, 0), 0);
	assert_int_equal(pl_apicodec_entry(&b, false, &e2, NULL, 0), 0);
	assert_int_equal(pl_apicodec_list_close(&b, true, 10), 0);
	snprintf(want, sizeof(want),
	         "{\"records\":[{\"index\":3,\"id\":\"%s\",\"record\":\"parley/record/v1\\nkind "
	         "statement\\n\\n\xe2\x80\x94 hotline.example/unc "
	         "x\\n\"},{\"index\":9,\"id\":\"%s\","
	         "\"record\":\"r2 \\\"with\\\" quotes\\n\"}],\"next\":10}",
	         h1, h2);
	assert_text(&b, want);
	assert_int_equal(pl__client_list_parse(b.data, b.len, true, &l, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.next, 10);
	assert_int_equal(l.v[0].index, 3);
	assert_memory_equal(l.v[0].id, e1.id, PL_HASH_BYTES);
	assert_int_equal(l.v[0].note_len, e1.note_len);
	assert_memory_equal(l.v[0].note, R1, e1.note_len);
	assert_int_equal(l.v[1].index, 9);
	assert_memory_equal(l.v[1].id, e2.id, PL_HASH_BYTES);
	assert_string_equal(l.v[1].note, R2);
	pl_client_list_release(&l);
	pl_buf_release(&b);

	/* A thread: no cursor; and an empty list. */
	pl_buf_init(&b, 4096);
	assert_int_equal(pl_apicodec_records_open(&b), 0);
	assert_int_equal(pl_apicodec_entry(&b, true, &e2, NULL, 0), 0);
	assert_int_equal(pl_apicodec_list_close(&b, false, 0), 0);
	assert_int_equal(pl__client_list_parse(b.data, b.len, true, &l, NULL), PL_EMALFORMED);
	assert_int_equal(pl__client_list_parse(b.data, b.len, false, &l, NULL), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].note, R2);
	pl_client_list_release(&l);
	pl_buf_reset(&b);
	assert_int_equal(pl_apicodec_records_open(&b), 0);
	assert_int_equal(pl_apicodec_list_close(&b, true, 0), 0);
	assert_text(&b, "{\"records\":[],\"next\":0}");
	assert_int_equal(pl__client_list_parse(b.data, b.len, true, &l, NULL), 0);
	assert_int_equal(l.n, 0);
	pl_client_list_release(&l);
	pl_buf_release(&b);
}

static void test_line(void **state)
{
	struct pl_exchange_entry e1 = entry(3, R1), e2 = entry(9, R2);
	static const char P1[] = "proof one\n", P2[] = "proof \"two\"\n";
	struct pl_client_line l;
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, 4096);
	assert_int_equal(pl_apicodec_line_open(&b, "pink-phone", 12, 10, true), 0);
	assert_int_equal(pl_apicodec_entry(&b, true, &e1, P1, strlen(P1)), 0);
	assert_int_equal(pl_apicodec_entry(&b, false, &e2, P2, strlen(P2)), 0);
	assert_int_equal(pl_apicodec_list_close(&b, false, 0), 0);
	assert_prefix(&b, "{\"line\":\"pink-phone\",\"size\":12,\"next\":10,\"more\":true,"
	                  "\"records\":[{\"index\":3,");
	assert_int_equal(pl__client_line_parse(b.data, b.len, "liaison", &l, NULL), PL_EMALFORMED);
	assert_int_equal(pl__client_line_parse(b.data, b.len, "pink-phone", &l, NULL), 0);
	assert_int_equal(l.size, 12);
	assert_int_equal(l.next, 10);
	assert_true(l.more);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].index, 3);
	assert_memory_equal(l.v[0].id, e1.id, PL_HASH_BYTES);
	assert_string_equal(l.v[0].note, R1);
	assert_string_equal(l.v[0].proof, P1);
	assert_int_equal(l.v[1].index, 9);
	assert_string_equal(l.v[1].note, R2);
	assert_int_equal(l.v[1].proof_len, strlen(P2));
	assert_string_equal(l.v[1].proof, P2);
	pl_client_line_release(&l);
	/* No more checks: "more" false. */
	pl_buf_reset(&b);
	assert_int_equal(pl_apicodec_line_open(&b, "pink-phone", 12, 10, false), 0);
	assert_int_equal(pl_apicodec_list_close(&b, false, 0), 0);
	assert_text(&b, "{\"line\":\"pink-phone\",\"size\":12,\"next\":10,\"more\":false,"
	                "\"records\":[]}");
	assert_int_equal(pl__client_line_parse(b.data, b.len, "pink-phone", &l, NULL), 0);
	assert_false(l.more);
	assert_int_equal(l.n, 0);
	pl_client_line_release(&l);
	pl_buf_release(&b);
}

/* ---- The directory ---- */

static void make_party(struct pl_exchange_party *p, const char *name, bool revoked)
{
	struct pl_skey sk;
	char key_name[PL_KEY_NAME_MAX + 1];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(key_name, sizeof(key_name), "hotline.example/%s", name);
	assert_int_equal(pl_key_generate(&sk, &p->vkey, key_name, PL_SIGTYPE_ED25519), 0);
	pl_skey_clear(&sk);
	snprintf(p->enc_key, sizeof(p->enc_key), "%s+enc+AAAA", key_name);
	p->register_index = revoked ? 1 : 2;
	p->revoked = revoked;
	p->revoke_index = revoked ? 7 : 0;
}

static void test_parties(void **state)
{
	struct pl_exchange_party p[2];
	struct pl_exchange_entry reg[2] = {entry(1, R1), entry(2, R2)};
	struct pl_client_party *v = NULL;
	struct pl_buf b;
	size_t n = 0;

	(void)state;
	make_party(&p[0], "unc", true);
	make_party(&p[1], "kpa-mission", false);
	pl_buf_init(&b, 8192);
	assert_int_equal(pl_apicodec_parties_open(&b), 0);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(pl_apicodec_party(&b, i == 0, &p[i], &reg[i]), 0);
	assert_int_equal(pl_apicodec_list_close(&b, false, 0), 0);
	assert_prefix(&b, "{\"parties\":[{\"name\":\"unc\",\"vkey\":\"hotline.example/unc+");
	assert_non_null(strstr(b.data, ",\"revoked\":true,\"revoke_index\":7}"));
	assert_non_null(strstr(b.data, ",\"revoked\":false}]}"));
	assert_int_equal(pl__client_parties_parse(b.data, b.len, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(v[i].name, p[i].name);
		assert_string_equal(v[i].vkey.name, p[i].vkey.name);
		assert_int_equal(v[i].vkey.type, p[i].vkey.type);
		assert_memory_equal(v[i].vkey.id, p[i].vkey.id, sizeof(p[i].vkey.id));
		assert_memory_equal(v[i].vkey.pk, p[i].vkey.pk, sizeof(p[i].vkey.pk));
		assert_string_equal(v[i].enc_key, p[i].enc_key);
		assert_int_equal(v[i].register_index, p[i].register_index);
		assert_memory_equal(v[i].register_id, reg[i].id, PL_HASH_BYTES);
		assert_int_equal(v[i].register_record_len, reg[i].note_len);
		assert_memory_equal(v[i].register_record, reg[i].note, reg[i].note_len);
		assert_int_equal(v[i].revoked, p[i].revoked);
		assert_int_equal(v[i].revoke_index, p[i].revoke_index);
	}
	pl_client_parties_free(v, n);
	pl_buf_release(&b);
}

/* ---- The event stream ---- */

struct got {
	size_t n;
	uint64_t index[4];
	char note[4][64];
};

static int on_record(void *arg, const struct pl_client_entry *e)
{
	struct got *g = arg;

	assert_true(g->n < 4 && e->note_len < 64);
	g->index[g->n] = e->index;
	memcpy(g->note[g->n], e->note, e->note_len + 1);
	g->n++;
	return 0;
}

static void test_sse(void **state)
{
	struct pl_exchange_entry e1 = entry(3, R1), e2 = entry(9, R2);
	struct pl__client_sse *p = NULL;
	struct got g = {0};
	uint64_t cursor = 0;
	char want[1024], h2[PL_HASH_HEX_LEN + 1];
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, 4096);
	assert_int_equal(pl_apicodec_sse_record(&b, &e1), 0);
	assert_prefix(&b, "id: 4\nevent: record\ndata: {\"index\":3,");
	pl_buf_reset(&b);
	assert_int_equal(pl_apicodec_sse_record(&b, &e2), 0);
	pl_hex_encode(h2, e2.id, PL_HASH_BYTES);
	snprintf(want, sizeof(want),
	         "id: 10\nevent: record\ndata: {\"index\":9,\"id\":\"%s\",\"record\":\"r2 "
	         "\\\"with\\\" quotes\\n\"}\n\n",
	         h2);
	assert_text(&b, want);
	pl_buf_reset(&b);
	assert_int_equal(pl_apicodec_sse_record(&b, &e1), 0);
	assert_int_equal(pl_apicodec_sse_record(&b, &e2), 0);
	assert_int_equal(pl__client_sse_new(&p, &cursor, on_record, &g), 0);
	assert_int_equal(pl__client_sse_feed(p, b.data, b.len), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.index[0], 3);
	assert_string_equal(g.note[0], R1);
	assert_int_equal(g.index[1], 9);
	assert_string_equal(g.note[1], R2);
	assert_int_equal(cursor, 10);
	pl__client_sse_free(p);
	pl_buf_release(&b);
}

/* ---- Payloads ---- */

static const char *const bad_payload[] = {
        "",
        "hello",
        "null",
        "[]",
        "{}",
        "{\"size\":4}",
        "{\"hash\":4,\"size\":4}",
        "{\"hash\":\"abc\",\"size\":4}",
        "{\"hash\":\"@@\",\"hash\":\"@@\",\"size\":4}",
        NULL,
};

static void test_payload(void **state)
{
	uint8_t sent[PL_HASH_BYTES], other[PL_HASH_BYTES];
	char hex[PL_HASH_HEX_LEN + 1], want[256];
	const char *why = NULL;
	struct pl_buf b;

	(void)state;
	pl_sha256(sent, "blob", 4);
	pl_sha256(other, "bolb", 4);
	pl_buf_init(&b, 256);
	assert_int_equal(pl_apicodec_payload(&b, sent, 4), 0);
	pl_hex_encode(hex, sent, PL_HASH_BYTES);
	snprintf(want, sizeof(want), "{\"hash\":\"%s\",\"size\":4}", hex);
	assert_text(&b, want);
	assert_int_equal(pl__client_payload_parse(b.data, b.len, sent, &why), 0);
	assert_int_equal(pl__client_payload_parse(b.data, b.len, other, &why), PL_EPROOF);
	assert_string_equal(why, "the server stored other bytes than were sent");
	pl_buf_release(&b);
	for (size_t i = 0; bad_payload[i]; i++) {
		struct pl_buf t;
		pl_buf_init(&t, 1024);
		/* @@ stands for the hash sent, as hex. */
		for (const char *c = bad_payload[i]; *c; c++) {
			bool hash = c[0] == '@' && c[1] == '@';
			assert_int_equal(hash ? pl_buf_adds(&t, hex) : pl_buf_add(&t, c, 1), 0);
			c += hash;
		}
		why = NULL;
		if (pl__client_payload_parse(t.data, t.len, sent, &why) != PL_EMALFORMED)
			fail_msg("payload answer %zu: %s: not refused", i, bad_payload[i]);
		assert_non_null(why);
		pl_buf_release(&t);
	}
}

/* ---- Errors ---- */

static const char *const bad_error[] = {
        "",
        "not JSON",
        "[\"error\"]",
        "{\"error\":1,\"reason\":2}",
        "{\"error\":\"x\",\"error\":\"y\"}",
        "{\"head\":{\"seq\":-1,\"id\":\"00\",\"index\":1}}",
        "{\"head\":{\"seq\":1,\"id\":\"00\",\"index\":1}}",
        "{\"head\":{\"seq\":1,\"index\":1}}",
        "{\"head\":[1,2,3]}",
        NULL,
};

static void test_error(void **state)
{
	struct pl_exchange_refusal chain;
	struct pl_client_error got;
	char want[512], hex[PL_HASH_HEX_LEN + 1];
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, 1024);
	assert_int_equal(pl_apicodec_error(&b, "not-found", "record: not found", NULL), 0);
	assert_text(&b, "{\"error\":\"not-found\",\"reason\":\"record: not found\"}");
	memset(&got, 0, sizeof(got));
	pl__client_error_parse(b.data, b.len, &got);
	assert_string_equal(got.code, "not-found");
	assert_string_equal(got.reason, "record: not found");
	assert_false(got.has_head);

	/* A chain conflict for a key with no record yet: head null. */
	memset(&chain, 0, sizeof(chain));
	pl_buf_reset(&b);
	assert_int_equal(pl_apicodec_error(&b, "conflict", AWKWARD, &chain), 0);
	assert_non_null(strstr(b.data, ",\"head\":null}"));
	memset(&got, 0, sizeof(got));
	pl__client_error_parse(b.data, b.len, &got);
	assert_string_equal(got.code, "conflict");
	assert_string_equal(got.reason, AWKWARD);
	assert_false(got.has_head);

	/* ...and with its head. */
	chain.has_head = true;
	chain.head_seq = 5;
	chain.head_index = 77;
	pl_sha256(chain.head_id, R1, strlen(R1));
	pl_hex_encode(hex, chain.head_id, PL_HASH_BYTES);
	pl_buf_reset(&b);
	assert_int_equal(pl_apicodec_error(&b, "conflict", "seq 7 is not 6", &chain), 0);
	snprintf(want, sizeof(want),
	         "{\"error\":\"conflict\",\"reason\":\"seq 7 is not 6\",\"head\":{\"seq\":5,\"id\":"
	         "\"%s\",\"index\":77}}",
	         hex);
	assert_text(&b, want);
	memset(&got, 0, sizeof(got));
	pl__client_error_parse(b.data, b.len, &got);
	assert_true(got.has_head);
	assert_int_equal(got.head_seq, 5);
	assert_int_equal(got.head_index, 77);
	assert_memory_equal(got.head_id, chain.head_id, PL_HASH_BYTES);
	pl_buf_release(&b);

	/* A reason that is not UTF-8 is not copied into the JSON. */
	pl_buf_init(&b, 1024);
	assert_int_equal(pl_apicodec_error(&b, "malformed", "bad \xff\xfe byte", NULL), 0);
	memset(&got, 0, sizeof(got));
	pl__client_error_parse(b.data, b.len, &got);
	assert_string_equal(got.code, "malformed");
	assert_string_equal(got.reason, "(a reason that is not UTF-8)");
	pl_buf_release(&b);

	/* What is not an error body leaves code, reason and head alone. */
	for (size_t i = 0; bad_error[i]; i++) {
		memset(&got, 0, sizeof(got));
		snprintf(got.reason, sizeof(got.reason), "kept");
		pl__client_error_parse(bad_error[i], strlen(bad_error[i]), &got);
		if (strcmp(got.reason, "kept") != 0 || got.code[0] || got.has_head)
			fail_msg("error body %zu: %s: taken", i, bad_error[i]);
	}
	pl__client_error_parse(NULL, 0, &got);
	assert_string_equal(got.reason, "kept");
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_string), cmocka_unit_test(test_receipt),
             cmocka_unit_test(test_records), cmocka_unit_test(test_line),
             cmocka_unit_test(test_parties), cmocka_unit_test(test_sse),
             cmocka_unit_test(test_payload), cmocka_unit_test(test_error))
