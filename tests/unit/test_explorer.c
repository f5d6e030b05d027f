/* Unit tests of the explorer's pages and feed over a real exchange: escaping, visibility, paging.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include <parley/box.h>
#include <parley/exchange.h>
#include <parley/explorer.h>
#include <parley/party.h>
#include <parley/receipt.h>
#include <parley/record.h>

#include "testutil.h"

#define ORIGIN  "hotline.example"
#define T0      INT64_C(1680825600) /* 2023-04-07T00:00:00Z */
#define DAY     86400
#define HOSTILE "<script>alert(\"x\")</script> & <b onclick='y'>"

struct party {
	const char *name;
	struct pl_skey sk;
	struct pl_vkey vk;
	uint8_t pk[PL_BOX_PK_BYTES];
	uint64_t seq;
	uint8_t head[PL_HASH_BYTES];
};

struct fx {
	char dir[64];
	struct pl_exchange *ex;
	struct pl_exchange_options o;
	int64_t now;
	struct party p[2];
	struct pl_explorer_site site;
	struct pl_buf page;
};

static int64_t fx_clock(void *arg)
{
	struct fx *f = arg;
	return __atomic_load_n(&f->now, __ATOMIC_SEQ_CST);
}

static void party_add(struct fx *f, struct party *p, const char *name)
{
	char kn[PL_KEY_NAME_MAX + 1];
	struct pl_box_keypair enc;
	struct pl_party_ekey ek;
	struct pl_buf v, e;

	p->name = name;
	snprintf(kn, sizeof(kn), "%s/%s", ORIGIN, name);
	assert_int_equal(pl_key_generate(&p->sk, &p->vk, kn, PL_SIGTYPE_ED25519), 0);
	pl_box_keypair_generate(&enc);
	memset(&ek, 0, sizeof(ek));
	snprintf(ek.name, sizeof(ek.name), "%s", kn);
	memcpy(ek.pk, enc.pk, sizeof(ek.pk));
	memcpy(p->pk, enc.pk, sizeof(p->pk));
	pl_buf_init(&v, 511);
	pl_buf_init(&e, 511);
	assert_int_equal(pl_vkey_format(&p->vk, &v), 0);
	assert_int_equal(pl_party_ekey_format(&ek, &e), 0);
	assert_int_equal(pl_exchange_party_add(f->ex, name, v.data, e.data, &p->sk, 1, NULL), 0);
	pl_box_keypair_clear(&enc);
	pl_buf_release(&v);
	pl_buf_release(&e);
}

/* A record of kind by p at time t, next on p's chain; the caller fills the rest. */
static struct pl_record *rec_new(struct fx *f, struct party *p, int64_t t, enum pl_record_kind k)
{
	struct pl_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", p->name);
	r->seq = p->seq + 1;
	if (p->seq) {
		r->has |= PL_RECORD_HAS_PREV;
		memcpy(r->prev, p->head, PL_HASH_BYTES);
	}
	f->now = t;
	r->time = t;
	r->kind = k;
	return r;
}

/* Signs and logs r (freed) as p; its id in id. */
static void log_record(struct fx *f, struct party *p, struct pl_record *r, uint8_t *id)
{
	struct pl_receipt rc;
	struct pl_buf msg;

	pl_buf_init(&msg, PL_RECORD_MAX_BYTES);
	assert_int_equal(pl_record_sign(&msg, r, &p->sk, 1, NULL), 0);
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(pl_exchange_submit(f->ex, msg.data, msg.len, &rc, NULL), 0);
	p->seq++;
	memcpy(p->head, rc.id, PL_HASH_BYTES);
	if (id)
		memcpy(id, rc.id, PL_HASH_BYTES);
	pl_receipt_release(&rc);
	pl_buf_release(&msg);
	free(r);
}

/* A private message from p to q, sealed to both: no one else may read it. */
static void send_private(struct fx *f, struct party *p, struct party *q, uint8_t id[PL_HASH_BYTES])
{
	struct pl_record *r = rec_new(f, p, T0 + 30, PL_KIND_SEND);
	uint8_t pks[2][PL_BOX_PK_BYTES], hash[PL_HASH_BYTES], *blob = NULL;
	const char *text = "A proposal for talks.";
	size_t len = 0;

	memcpy(pks[0], p->pk, PL_BOX_PK_BYTES);
	memcpy(pks[1], q->pk, PL_BOX_PK_BYTES);
	assert_int_equal(pl_box_seal(&blob, &len, r->commit, NULL, (const uint8_t *)text,
	                             strlen(text), (const uint8_t(*)[PL_BOX_PK_BYTES])pks, 2),
	                 0);
	assert_int_equal(pl_exchange_payload_put(f->ex, p->name, blob, len, hash), 0);
	pl_box_hash(r->payload, blob, len);
	r->payload_size = len;
	r->has |= PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT | PL_RECORD_HAS_CLASS;
	r->cls = PL_CLASS_PROPOSAL;
	pl_test_add_to(r, q->name);
	free(blob);
	log_record(f, p, r, id);
}

/* Logs a statement (a measure when measure) by p at time t; its id in id. */
static void statement(struct fx *f, struct party *p, int64_t t, const char *body, bool measure,
                      const uint8_t *cites, uint8_t id[PL_HASH_BYTES])
{
	struct pl_record *r = rec_new(f, p, t, PL_KIND_STATEMENT);

	r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
	r->cls = measure ? PL_CLASS_MEASURE : PL_CLASS_STATEMENT;
	r->body_len = (size_t)snprintf(r->body, sizeof(r->body), "%s\n", body);
	if (cites)
		pl_test_add_ref(r, PL_ROLE_CITES, cites);
	log_record(f, p, r, id);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pl_vkey vk;

	if (!f || pl_test_tmpdir(f->dir, sizeof(f->dir), "pl_explorer") ||
	    pl_exchange_init(f->dir, ORIGIN, &vk) != 0)
		return -1;
	f->now = T0;
	pl_exchange_options_default(&f->o);
	f->o.clock = fx_clock;
	f->o.clock_arg = f;
	f->o.manual_timers = true;
	if (pl_exchange_open(&f->ex, f->dir, &f->o, NULL) != 0)
		return -1;
	party_add(f, &f->p[0], "rok-mnd");
	party_add(f, &f->p[1], "unc");
	f->site.now = T0;
	pl_buf_init(&f->page, PL_EXPLORER_BYTES_MAX);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	static const char *const files[] = {"parley.db", "parley.db-wal", "parley.db-shm",
	                                    "log.key",   "log.vkey",      "parley.lock",
	                                    "published"};
	char p[128];

	pl_exchange_close(f->ex);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
		unlink(p);
	}
	rmdir(f->dir);
	for (size_t i = 0; i < 2; i++)
		pl_skey_clear(&f->p[i].sk);
	pl_buf_release(&f->page);
	free(f);
	return 0;
}

static bool has(const struct pl_buf *b, const char *s)
{
	return b->data && strstr(b->data, s) != NULL;
}

static size_t count(const struct pl_buf *b, const char *s)
{
	size_t n = 0;

	for (const char *p = b->data; p && (p = strstr(p, s)) != NULL; p++)
		n++;
	return n;
}

/* Pages escape what the log holds, show what is public and nothing of what is not. */
static void test_pages(void **state)
{
	struct fx *f = *state;
	struct pl_explorer_filter flt;
	uint8_t hostile[PL_HASH_BYTES], nowhere[PL_HASH_BYTES], citing[PL_HASH_BYTES];
	char hex[PL_RECORD_ID_HEX_LEN + 1], path[PL_RECORD_ID_HEX_LEN + 32];

	statement(f, &f->p[0], T0 + 60, HOSTILE, false, NULL, hostile);
	send_private(f, &f->p[1], &f->p[0], nowhere);
	statement(f, &f->p[1], T0 + DAY, "Loudspeakers off.", true, nowhere, citing);

	memset(&flt, 0, sizeof(flt));
	assert_int_equal(pl_explorer_statements(f->ex, &f->site, &flt, &f->page), 0);
	assert_true(has(&f->page, "<html lang=\"en\">"));
	assert_true(has(&f->page, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
	                          "&lt;b onclick=&#39;y&#39;&gt;"));
	assert_false(has(&f->page, "<script"));
	assert_false(has(&f->page, "<b "));
	assert_true(has(&f->page, "Measure by unc"));
	/* Newest first. */
	pl_record_id_format(hex, citing);
	assert_true(strstr(f->page.data, hex) < strstr(f->page.data, "Statement by rok-mnd"));
	/* A citation of a record anyone may not read reads "not public", with no link. */
	assert_true(has(&f->page, "not public"));
	pl_record_id_format(hex, nowhere);
	snprintf(path, sizeof(path), "/record/%s", hex);
	assert_false(has(&f->page, path));
	snprintf(path, sizeof(path), "/statement/%s", hex);
	assert_false(has(&f->page, path));

	/* Filters: by party, by day. */
	pl_buf_reset(&f->page);
	snprintf(flt.party, sizeof(flt.party), "unc");
	assert_int_equal(pl_explorer_statements(f->ex, &f->site, &flt, &f->page), 0);
	assert_int_equal(count(&f->page, "<article>"), 1);
	pl_buf_reset(&f->page);
	memset(&flt, 0, sizeof(flt));
	flt.has_from = flt.has_to = true;
	flt.from = T0;
	flt.to = T0 + DAY;
	assert_int_equal(pl_explorer_statements(f->ex, &f->site, &flt, &f->page), 0);
	assert_int_equal(count(&f->page, "<article>"), 1);
	assert_true(has(&f->page, "Statement by rok-mnd"));
	assert_true(has(&f->page, "value=\"2023-04-07\""));

	/* One statement's page, with the verifier's contract. */
	pl_buf_reset(&f->page);
	pl_record_id_format(hex, hostile);
	assert_int_equal(pl_explorer_statement(f->ex, &f->site, hex, 12, &f->page), 0);
	snprintf(path, sizeof(path), "data-proof=\"/proof/%s\"", hex);
	assert_true(has(&f->page, path));
	assert_true(has(&f->page, "data-author-key=\"hotline.example/rok-mnd+"));
	assert_int_equal(count(&f->page, "<script"), 1);
	/* The private send has no page, exactly as no record at all; out stays untouched. */
	pl_buf_reset(&f->page);
	pl_record_id_format(hex, nowhere);
	assert_int_equal(pl_explorer_statement(f->ex, &f->site, hex, 64, &f->page), PL_ENOTFOUND);
	assert_int_equal(f->page.len, 0);

	pl_buf_reset(&f->page);
	assert_int_equal(pl_explorer_directory(f->ex, &f->site, &f->page), 0);
	assert_true(has(&f->page, "<th scope=\"row\"><a href=\"/?party=unc\">unc</a></th>"));
	pl_buf_reset(&f->page);
	assert_int_equal(pl_explorer_log(f->ex, &f->site, &f->page), 0);
	assert_true(has(&f->page, "no witness"));
	/* Nothing of the send anywhere. */
	pl_record_id_format(hex, nowhere);
	assert_false(has(&f->page, hex));
	pl_buf_reset(&f->page);
	assert_int_equal(pl_explorer_feed(f->ex, &f->site, &f->page), 0);
	assert_false(has(&f->page, hex));
	assert_int_equal(count(&f->page, "<entry>"), 2);
	pl_buf_reset(&f->page);
	assert_int_equal(pl_explorer_lines(f->ex, &f->site, 0, 0, &f->page), 0);
	assert_true(has(&f->page, "publishes no line"));
}

/* The feed: one entry per statement, ids from the record ids, bodies escaped. */
static void test_feed(void **state)
{
	struct fx *f = *state;
	uint8_t id[PL_HASH_BYTES];
	char hex[PL_RECORD_ID_HEX_LEN + 1], want[64];

	assert_int_equal(pl_explorer_feed(f->ex, &f->site, &f->page), 0);
	assert_true(has(&f->page, "<feed xmlns=\"http://www.w3.org/2005/Atom\">"));
	assert_int_equal(count(&f->page, "<entry>"), 0);
	assert_true(has(&f->page, "<updated>2023-04-07T00:00:00Z</updated>"));
	statement(f, &f->p[0], T0 + 5, HOSTILE, false, NULL, id);
	pl_buf_reset(&f->page);
	assert_int_equal(pl_explorer_feed(f->ex, &f->site, &f->page), 0);
	assert_int_equal(count(&f->page, "<entry>"), 1);
	pl_record_id_format(hex, id);
	/* urn:uuid: the id's first 16 bytes, version 8 and the RFC 9562 variant. */
	snprintf(want, sizeof(want), "<id>urn:uuid:%.8s-%.4s-8%.3s-", hex, hex + 8, hex + 13);
	assert_true(has(&f->page, want));
	assert_true(has(&f->page, "&lt;script&gt;"));
	assert_false(has(&f->page, "<script"));
	assert_true(has(&f->page, "<updated>2023-04-07T00:00:05Z</updated>"));
}

/* Past one page, a link to the older ones; following it ends at the first statement. */
static void test_paging(void **state)
{
	struct fx *f = *state;
	struct pl_explorer_filter flt;
	char body[32];
	const char *a;
	size_t total = 0;

	for (int i = 0; i < PL_EXPLORER_PAGE + 3; i++) {
		snprintf(body, sizeof(body), "Statement %d.", i);
		statement(f, &f->p[i % 2], T0 + i, body, false, NULL, NULL);
	}
	memset(&flt, 0, sizeof(flt));
	for (int pages = 0; pages < 5; pages++) {
		pl_buf_reset(&f->page);
		assert_int_equal(pl_explorer_statements(f->ex, &f->site, &flt, &f->page), 0);
		total += count(&f->page, "<article>");
		a = strstr(f->page.data, "<a href=\"/?before=");
		if (!a)
			break;
		flt.before = strtoull(a + strlen("<a href=\"/?before="), NULL, 10);
		assert_true(flt.before > 0);
	}
	assert_int_equal(total, PL_EXPLORER_PAGE + 3);
	assert_true(has(&f->page, "Statement 0."));
}

/* The Content-Security-Policy admits the page's one style sheet and nothing from elsewhere. */
static void test_csp(void **state)
{
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, PL_EXPLORER_CSP_MAX);
	assert_int_equal(pl_explorer_csp(&b), 0);
	assert_true(has(&b, "default-src 'none'; style-src 'sha256-"));
	assert_true(has(&b, "frame-ancestors 'none'"));
	assert_false(has(&b, "unsafe-inline"));
	pl_buf_release(&b);
}

/* The exchange's metrics name every kind and are histograms that add up. */
static void test_metrics(void **state)
{
	struct fx *f = *state;

	statement(f, &f->p[1], T0 + 1, "counted", false, NULL, NULL);
	assert_int_equal(pl_exchange_metrics_write(f->ex, T0 + 100, &f->page), 0);
	assert_true(has(&f->page, "# TYPE parley_records_total counter\n"));
	assert_true(has(&f->page, "parley_records_total{kind=\"statement\"} 1\n"));
	assert_true(has(&f->page, "parley_records_total{kind=\"register\"} 2\n"));
	assert_true(has(&f->page, "# TYPE parley_commit_seconds histogram\n"));
	assert_true(has(&f->page, "parley_batch_records_bucket{le=\"+Inf\"} 3\n"));
	assert_true(has(&f->page, "parley_batch_records_count 3\n"));
	assert_true(has(&f->page, "parley_checkpoint_age_seconds 99\n"));
	assert_int_equal(pl_exchange_checkpoint_age(f->ex, T0 + 100), 99);
	assert_int_equal(pl_exchange_checkpoint_age(f->ex, T0), 0);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
             cmocka_unit_test_setup_teardown(test_feed, setup, teardown),
             cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
             cmocka_unit_test(test_csp),
             cmocka_unit_test_setup_teardown(test_metrics, setup, teardown))
