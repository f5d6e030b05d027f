/*
 * Unit tests of the replay: the examples of docs/records.md replayed through a
 * pl_replay_log (open, judge, add) as parley log audit does; the rules input it
 * gathers (refs from kept text and from kind-and-time stubs, siblings, chain
 * heads, key and party statuses); the one siblings cap, the exchange's; and the
 * gathering contract against a source written here.
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

#include <sodium.h>

#include <parley/encoding.h>
#include <parley/limits.h>
#include <parley/party.h>
#include <parley/record.h>
#include <parley/replay.h>
#include <parley/timestamp.h>

#include "testutil.h"

#define ORIGIN "hotline.example"

/* ---- Fixed keys (the seeds of docs/records.md §9) -------------------------- */

enum { EX, ROK, UNC, KPA, NACTORS };

static const char *const party_of[NACTORS] = {"exchange", "rok-mnd", "unc", "kpa"};
static struct pl_skey skeys[NACTORS];
static struct pl_vkey vkeys[NACTORS];

/* ---- The log, as parley log audit replays it ---------------------------------- */

#define IDS_MAX 2048

static struct pl_replay_log lg;
static uint8_t ids[IDS_MAX][PL_RECORD_ID_BYTES]; /* ids[i]: the record at log index i */
static uint64_t nlogged;

static void log_reset(void)
{
	pl_replay_log_release(&lg);
	assert_int_equal(pl_replay_log_init(&lg, &vkeys[EX], 0), 0);
	nlogged = 0;
}

/*
 * Opens the signed record note[0..len) against the log's directory and judges
 * it; adds it when the verdict is 0, or whatever it is when always is true
 * (a log keeps what broke the rules). Returns the verdict.
 */
static int log_append(const char *note, size_t len, bool always, const char **why)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_vkey signer;
	size_t key;
	int ret;

	assert_non_null(r);
	ret = pl_record_open(r, id, &signer, note, len, lg.dir.keys, lg.dir.n, why);
	if (ret != 0)
		goto out;
	key = pl_directory_find(&lg.dir, signer.name, signer.id);
	assert_true(key != PL_DIRECTORY_NONE);
	ret = pl_replay_log_judge(&lg, r, id, key, true, why);
	if (ret == 0 || always) {
		assert_true(nlogged < IDS_MAX);
		assert_int_equal(pl_replay_log_add(&lg, r, id, nlogged, key, note, len), 0);
		memcpy(ids[nlogged++], id, PL_RECORD_ID_BYTES);
	}
out:
	free(r);
	return ret;
}

static int log_append_doc(const char *note, size_t len, const char **why)
{
	return log_append(note, len, false, why);
}

/* Appends every ```record block of docs/records.md, in order; returns how many. */
static size_t replay_doc(void)
{
	log_reset();
	return pl_test_doc_records(log_append_doc);
}

/* The doc's examples, numbered from 1 as in the doc. */
static const uint8_t *ex(size_t n)
{
	assert_true(n >= 1 && n <= nlogged);
	return ids[n - 1];
}

/* A record by party at time, chained after that party's key's head in the log. */
static struct pl_record *mk(int who, enum pl_record_kind kind, const char *time)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	size_t k = pl_directory_find(&lg.dir, vkeys[who].name, vkeys[who].id);

	assert_non_null(r);
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", party_of[who]);
	r->kind = kind;
	r->time = pl_test_time(time);
	r->seq = 1;
	if (k != PL_DIRECTORY_NONE && lg.dir.state[k].has_head) {
		r->seq = lg.dir.state[k].head.seq + 1;
		memcpy(r->prev, lg.dir.state[k].head.id, PL_RECORD_ID_BYTES);
		r->has |= PL_RECORD_HAS_PREV;
	}
	return r;
}

static struct pl_record *statement(int who, const char *time, const uint8_t *cites)
{
	struct pl_record *r = mk(who, PL_KIND_STATEMENT, time);

	r->cls = PL_CLASS_STATEMENT;
	r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
	r->body_len = (size_t)snprintf(r->body, sizeof(r->body), "Noted.\n");
	if (cites)
		pl_test_add_ref(r, PL_ROLE_CITES, cites);
	return r;
}

/* Signs r with its author's key and appends it as log_append() does; frees r. */
static int submit(struct pl_record *r, bool always, const char **why)
{
	struct pl_buf b;
	int ret;

	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	ret = pl_record_sign(&b, r, &skeys[pl_test_index_of(party_of, NACTORS, r->author)], 1, why);
	if (ret == 0)
		ret = log_append(b.data, b.len, always, why);
	pl_buf_release(&b);
	free(r);
	return ret;
}

/* Submits r and checks the verdict and, for a refusal, its reason. */
static void expect(struct pl_record *r, int want, const char *want_why)
{
	const char *why = NULL;
	int ret = submit(r, false, &why);

	if (ret != want)
		fail_msg("want %s (%s), got %s (%s)", pl_strerror(want), want_why ? want_why : "",
		         pl_strerror(ret), why ? why : "");
	if (want_why)
		assert_string_equal(why, want_why);
}

static void act(int who, enum pl_record_kind kind, const uint8_t *about, const char *time, int want,
                const char *want_why)
{
	struct pl_record *r = mk(who, kind, time);

	pl_test_add_ref(r, pl_record_kind_target(kind), about);
	if (kind == PL_KIND_DECLINE) {
		snprintf(r->reason, sizeof(r->reason), "no");
		r->has |= PL_RECORD_HAS_REASON;
	}
	if (kind == PL_KIND_ADVISE) {
		r->position = PL_POSITION_CONCUR;
		r->has |= PL_RECORD_HAS_POSITION;
	}
	expect(r, want, want_why);
}

static int setup(void **state)
{
	(void)state;
	pl_test_party_keys(skeys, vkeys, ORIGIN, party_of, NACTORS);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pl_replay_log_release(&lg);
	sodium_memzero(skeys, sizeof(skeys));
	return 0;
}

/* ---- The doc's log ----------------------------------------------------------- */

/* Every example holds; the directory, the chain heads and the id index follow the log. */
static void test_doc_replay(void **state)
{
	uint8_t unknown[PL_RECORD_ID_BYTES];
	uint64_t index = 99;
	size_t n, k;

	(void)state;
	n = replay_doc();
	assert_true(n >= 26);
	assert_int_equal(nlogged, n);
	for (size_t i = 0; i < n; i++) {
		assert_true(pl_replay_log_find(&lg, ids[i], &index));
		assert_int_equal(index, i);
	}
	memset(unknown, 0x42, sizeof(unknown));
	index = 99;
	assert_false(pl_replay_log_find(&lg, unknown, &index));
	assert_int_equal(index, 99);
	assert_true(pl_replay_log_find(&lg, ids[0], NULL));
	/* The last example revoked kpa; the log key and the others stay active. */
	assert_int_equal(pl_directory_status(&lg.dir, &vkeys[KPA]), PL_KEY_REVOKED);
	assert_int_equal(pl_directory_status(&lg.dir, &vkeys[UNC]), PL_KEY_ACTIVE);
	assert_int_equal(pl_directory_status(&lg.dir, &vkeys[EX]), PL_KEY_ACTIVE);
	assert_memory_equal(lg.dir.keys[0].id, vkeys[EX].id, PL_KEYID_BYTES);
	/* The exchange's head is its last record, the revoke. */
	k = pl_directory_find(&lg.dir, vkeys[EX].name, vkeys[EX].id);
	assert_true(lg.dir.state[k].has_head);
	assert_memory_equal(lg.dir.state[k].head.id, ids[n - 1], PL_RECORD_ID_BYTES);
}

/* What the log gathers for the rules: each kind of input, seen through a verdict. */
static void test_gathered(void **state)
{
	uint8_t unknown[PL_RECORD_ID_BYTES];
	struct pl_record *r;

	(void)state;
	replay_doc();
	/* Siblings parsed again from kept text: the decline (10) of the send via unc (7). */
	act(UNC, PL_KIND_DECLINE, ex(7), "2025-11-23T01:00:00Z", PL_ERULE,
	    "the send was already conveyed or declined");
	act(UNC, PL_KIND_ADVISE, ex(4), "2025-11-23T01:00:00Z", PL_ERULE,
	    "this party already advised");
	/* The referenced record from kept text: a receive by a party the send does not name. */
	act(ROK, PL_KIND_RECEIVE, ex(12), "2025-11-23T01:00:00Z", PL_ERULE,
	    "only the intermediary or a recipient receives");
	/* A statement is kept as its kind and time: enough to refuse it as a subject. */
	act(UNC, PL_KIND_RECEIVE, ex(6), "2025-11-23T01:00:00Z", PL_ERULE,
	    "refers to a record of the wrong kind for its role");
	r = statement(UNC, "2025-11-23T01:00:00Z", ex(6));
	expect(r, 0, NULL);
	r = statement(UNC, "2025-11-01T00:00:00Z", NULL);
	expect(r, PL_ECHAIN, NULL);
	r = statement(UNC, "2025-11-23T02:00:00Z", ex(27));
	expect(r, 0, NULL);
	/* A ref not in the log, handed to the rules as NULL. */
	memset(unknown, 0x42, sizeof(unknown));
	act(UNC, PL_KIND_RECEIVE, unknown, "2025-11-23T03:00:00Z", PL_ERULE,
	    "refers to a record not in the log");
	/* Key statuses: kpa was revoked; the parties a record names must be registered. */
	act(KPA, PL_KIND_ACCEPT, ex(20), "2025-11-23T03:00:00Z", PL_ERULE,
	    "signing key was revoked");
	r = mk(ROK, PL_KIND_SEND, "2025-11-23T03:00:00Z");
	pl_test_set_message(r, "kpa", 10);
	expect(r, PL_ERULE, "names a party that is not registered");
}

/*
 * The one siblings cap, the exchange's: a record about one that more than
 * PL_RULES_MAX_SIBLINGS records refer to (by any role, citations included)
 * is refused. parley log audit used to read up to 4096 and pass it.
 */
static void test_siblings_cap(void **state)
{
	uint8_t send[PL_RECORD_ID_BYTES];
	struct pl_record *r;
	const char *why = NULL;
	char t[PL_TIMESTAMP_LEN + 1];
	size_t k;

	(void)state;
	assert_int_equal(PL_RULES_MAX_SIBLINGS, 1024);
	replay_doc();
	r = mk(ROK, PL_KIND_SEND, "2025-11-24T00:00:00Z");
	pl_test_set_message(r, "unc", 10);
	expect(r, 0, NULL);
	memcpy(send, ids[nlogged - 1], sizeof(send));
	r = mk(EX, PL_KIND_AVAILABLE, "2025-11-24T00:00:01Z");
	pl_test_add_to(r, "unc");
	pl_test_add_ref(r, PL_ROLE_SUBJECT, send);
	expect(r, 0, NULL);
	/* With the available, PL_RULES_MAX_SIBLINGS records refer to the send. */
	for (k = 1; k < PL_RULES_MAX_SIBLINGS; k++) {
		assert_int_equal(
		        pl_timestamp_format(t, pl_test_time("2025-11-24T01:00:00Z") + (int64_t)k),
		        0);
		r = statement(ROK, t, send);
		expect(r, 0, NULL);
	}
	act(UNC, PL_KIND_ACCEPT, send, "2025-11-24T03:00:00Z", 0, NULL);
	/* The accept is one more: a receive now finds too many. */
	act(UNC, PL_KIND_RECEIVE, send, "2025-11-24T03:00:01Z", PL_ERULE,
	    "too many records about this record");
	/* A log keeps what the rules refused; a record that broke them still counts. */
	r = mk(UNC, PL_KIND_RECEIVE, "2025-11-24T03:00:02Z");
	pl_test_add_ref(r, PL_ROLE_SUBJECT, send);
	assert_int_equal(submit(r, true, &why), PL_ERULE);
	assert_string_equal(why, "too many records about this record");
}

/* What adding asks of the caller, and a signer outside the directory. */
static void test_add(void **state)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_vkey bad;
	const char *why = NULL;

	(void)state;
	assert_non_null(r);
	replay_doc();
	memcpy(id, ids[5], sizeof(id));
	r->kind = PL_KIND_STATEMENT;
	assert_int_equal(pl_replay_log_add(&lg, r, id, 99, 0, "x", 1), PL_EEXIST);
	memset(id, 0x77, sizeof(id));
	assert_int_equal(pl_replay_log_add(&lg, r, id, 99, lg.dir.n, "x", 1), PL_EINVAL);
	assert_false(pl_replay_log_find(&lg, id, NULL));
	assert_int_equal(pl_replay_log_judge(&lg, r, id, lg.dir.n, true, &why), PL_EINVAL);
	assert_non_null(why);
	free(r);
	/* A zeroed log releases to nothing, twice. */
	pl_replay_log_release(&lg);
	pl_replay_log_release(&lg);
	pl_replay_log_release(NULL);
	bad = vkeys[EX];
	snprintf(bad.name, sizeof(bad.name), "not an origin");
	assert_int_equal(pl_replay_log_init(&lg, &bad, 0), PL_EINVAL);
	assert_null(lg.seen);
}

/* ---- The gathering contract, against a source written here -------------------- */

/* A source of a send, an available to kpa and a receive, with failures on demand. */
struct fake {
	struct pl_record send, avail;
	uint8_t send_id[PL_RECORD_ID_BYTES];
	int fail_record, fail_siblings, fail_head;
	bool has_head;
	int calls_signer;
};

static struct pl_record *copy(const struct pl_record *r)
{
	struct pl_record *c = malloc(sizeof(*c));

	assert_non_null(c);
	memcpy(c, r, sizeof(*c));
	return c;
}

static int fake_record(void *arg, const uint8_t id[static PL_RECORD_ID_BYTES],
                       struct pl_record **rec, uint64_t *index)
{
	struct fake *f = arg;

	if (f->fail_record)
		return f->fail_record;
	if (memcmp(id, f->send_id, PL_RECORD_ID_BYTES) != 0)
		return PL_ENOTFOUND;
	*rec = copy(&f->send);
	*index = 7;
	return 0;
}

static int fake_head(void *arg, const struct pl_record *rec, struct pl_chain_link *head,
                     uint64_t *index)
{
	struct fake *f = arg;

	(void)rec;
	if (f->fail_head)
		return f->fail_head;
	if (!f->has_head)
		return PL_ENOTFOUND;
	memset(head, 0, sizeof(*head));
	head->seq = 4;
	memset(head->id, 0x44, sizeof(head->id));
	*index = 5;
	return 0;
}

static int fake_siblings(void *arg, uint64_t index, const uint8_t id[static PL_RECORD_ID_BYTES],
                         enum pl_ref_role role, struct pl_record ***sib, size_t *n)
{
	struct fake *f = arg;

	assert_int_equal(index, 7);
	assert_memory_equal(id, f->send_id, PL_RECORD_ID_BYTES);
	assert_int_equal(role, PL_ROLE_SUBJECT);
	if (f->fail_siblings)
		return f->fail_siblings;
	*sib = calloc(1, sizeof(**sib));
	assert_non_null(*sib);
	(*sib)[0] = copy(&f->avail);
	*n = 1;
	return 0;
}

static enum pl_key_status fake_signer(void *arg, const struct pl_record *rec)
{
	struct fake *f = arg;

	(void)rec;
	f->calls_signer++;
	return PL_KEY_ACTIVE;
}

static enum pl_key_status fake_key(void *arg, const struct pl_record *rec, size_t k)
{
	(void)arg;
	(void)rec;
	return k == 0 ? PL_KEY_UNKNOWN : PL_KEY_REVOKED;
}

static void fake_init(struct fake *f, struct pl_record *rcv)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->send.exchange, sizeof(f->send.exchange), "%s", ORIGIN);
	snprintf(f->send.author, sizeof(f->send.author), "rok-mnd");
	f->send.kind = PL_KIND_SEND;
	f->send.time = 1000;
	f->send.nto = 1;
	snprintf(f->send.to[0], sizeof(f->send.to[0]), "kpa");
	memset(f->send_id, 0x5e, sizeof(f->send_id));
	f->avail = f->send;
	snprintf(f->avail.author, sizeof(f->avail.author), "%s", PL_RECORD_EXCHANGE);
	f->avail.kind = PL_KIND_AVAILABLE;
	f->avail.nrefs = 1;
	f->avail.refs[0].role = PL_ROLE_SUBJECT;
	memcpy(f->avail.refs[0].id, f->send_id, PL_RECORD_ID_BYTES);
	memset(rcv, 0, sizeof(*rcv));
	*rcv = f->avail;
	snprintf(rcv->author, sizeof(rcv->author), "kpa");
	rcv->kind = PL_KIND_RECEIVE;
	rcv->nto = 0;
	rcv->seq = 1;
	rcv->time = 2000;
}

static void test_gather_source(void **state)
{
	struct fake f;
	struct pl_record *rcv = malloc(sizeof(*rcv));
	struct pl_replay_source src = {
	        .record = fake_record,
	        .head = fake_head,
	        .siblings = fake_siblings,
	        .signer = fake_signer,
	        .key = fake_key,
	        .arg = &f,
	};
	struct pl_replay_view v;
	uint8_t id[PL_RECORD_ID_BYTES];
	uint8_t unknown[PL_RECORD_ID_BYTES];
	const char *why = NULL;

	(void)state;
	assert_non_null(rcv);
	memset(id, 0x1d, sizeof(id));
	memset(unknown, 0x42, sizeof(unknown));

	/* Everything found: the receive holds; the view says where each record is. */
	fake_init(&f, rcv);
	assert_int_equal(pl_replay_gather(&v, &src, rcv, id, PL_REPLAY_STRICT, &why), 0);
	assert_int_equal(v.about, 0);
	assert_non_null(v.refs[0]);
	assert_int_equal(v.ref_index[0], 7);
	assert_int_equal(v.nsib, 1);
	assert_false(v.has_head);
	assert_int_equal(v.signer, PL_KEY_ACTIVE);
	assert_int_equal(f.calls_signer, 1);
	assert_int_equal(pl_replay_check(&v, &why), 0);
	pl_replay_view_release(&v);
	assert_null(v.sib);
	assert_int_equal(v.about, -1);
	pl_replay_view_release(&v);

	/* The head: the receive must follow it. */
	f.has_head = true;
	assert_int_equal(pl_replay_gather(&v, &src, rcv, id, 0, &why), 0);
	assert_true(v.has_head);
	assert_int_equal(v.head_index, 5);
	assert_int_equal(pl_replay_check(&v, &why), PL_ECHAIN);
	pl_replay_view_release(&v);
	f.has_head = false;

	/* A ref the source lacks: NULL for the rules, or the end of a strict gathering. */
	memcpy(rcv->refs[0].id, unknown, sizeof(unknown));
	assert_int_equal(pl_replay_gather(&v, &src, rcv, id, 0, &why), 0);
	assert_null(v.refs[0]);
	assert_int_equal(v.about, -1);
	assert_int_equal(v.nsib, 0);
	assert_int_equal(pl_replay_check(&v, &why), PL_ERULE);
	assert_string_equal(why, "refers to a record not in the log");
	pl_replay_view_release(&v);
	why = NULL;
	assert_int_equal(pl_replay_gather(&v, &src, rcv, id, PL_REPLAY_STRICT, &why), PL_ENOTFOUND);
	assert_string_equal(why, "refers to a record not in the log");
	assert_null(v.refs[0]);
	memcpy(rcv->refs[0].id, f.send_id, sizeof(f.send_id));

	/* Too many records about the send: a rule. Any other failure is the source's. */
	f.fail_siblings = PL_ETOOBIG;
	why = NULL;
	assert_int_equal(pl_replay_gather(&v, &src, rcv, id, 0, &why), PL_ERULE);
	assert_string_equal(why, "too many records about this record");
	assert_null(v.refs[0]);
	f.fail_siblings = PL_ESTORE;
	why = NULL;
	assert_int_equal(pl_replay_gather(&v, &src, rcv, id, 0, &why), PL_ESTORE);
	assert_null(why);
	f.fail_siblings = 0;
	f.fail_record = PL_ENOMEM;
	assert_int_equal(pl_replay_gather(&v, &src, rcv, id, 0, &why), PL_ENOMEM);
	f.fail_record = 0;
	f.fail_head = PL_ESTORE;
	assert_int_equal(pl_replay_gather(&v, &src, rcv, id, 0, &why), PL_ESTORE);
	f.fail_head = 0;

	/* A register: each key's status comes from the source. */
	memset(rcv, 0, sizeof(*rcv));
	snprintf(rcv->exchange, sizeof(rcv->exchange), "%s", ORIGIN);
	snprintf(rcv->author, sizeof(rcv->author), "%s", PL_RECORD_EXCHANGE);
	rcv->kind = PL_KIND_REGISTER;
	rcv->seq = 1;
	rcv->nkeys = 2;
	rcv->keys[0] = vkeys[ROK];
	rcv->keys[1] = vkeys[UNC];
	assert_int_equal(pl_replay_gather(&v, &src, rcv, id, 0, &why), 0);
	assert_int_equal(v.keys[0], PL_KEY_UNKNOWN);
	assert_int_equal(v.keys[1], PL_KEY_REVOKED);
	assert_int_equal(pl_replay_check(&v, &why), PL_ERULE);
	assert_string_equal(why, "a key it registers was revoked, and never returns");
	pl_replay_view_release(&v);
	free(rcv);
}

/* rok-mnd's encryption key of the doc (example 1). */
#define ENC_ROK "hotline.example/rok-mnd+x25519+0z9VkmrHuEtJawJJwgRvSzds+sLKvCDDwnDP0QTMYE0="

/* How the text forms of a and b compare (key lines are sorted by it). */
static int key_cmp(const struct pl_vkey *a, const struct pl_vkey *b)
{
	struct pl_buf x, y;
	int c;

	pl_buf_init(&x, 512);
	pl_buf_init(&y, 512);
	assert_int_equal(pl_vkey_format(a, &x), 0);
	assert_int_equal(pl_vkey_format(b, &y), 0);
	c = strcmp(x.data, y.data);
	pl_buf_release(&x);
	pl_buf_release(&y);
	return c;
}

/* A new key of rok-mnd whose text sorts after after's. */
static void key_sorted_after(struct pl_skey *sk, struct pl_vkey *vk, const struct pl_vkey *after)
{
	for (int tries = 0; tries < 1000; tries++) {
		assert_int_equal(pl_key_generate(sk, vk, after->name, PL_SIGTYPE_ED25519), 0);
		if (key_cmp(vk, after) > 0)
			break;
	}
	assert_true(key_cmp(vk, after) > 0);
}

/* ---- Several keys per party, replayed (docs/records.md §7) ---------------------------- */

enum { R_ROK, R_ROK2, R_ROK3, R_ROK4, R_ROK5, R_ROK6, R_UNC, NRKEYS };

static struct pl_skey rsk[NRKEYS];
static struct pl_vkey rvk[NRKEYS];

struct key_row {
	enum pl_record_kind kind; /* register, revoke, or a statement by keys[0] */
	int keys[4];              /* R_ + 1, in the order of their key lines; 0 ends */
	const char *reason;       /* an eviction */
	int previous;             /* register: ref previous to row n - 1; -n: doc example n */
	int want;
	const char *why;
};

#define RK(x) ((x) + 1)

/* Runs in order after the doc's log, in which kpa was revoked. */
static const struct key_row key_rows[] = {
        /* 0 */ {PL_KIND_REGISTER,
                 {RK(R_ROK2)},
                 NULL,
                 0,
                 PL_ERULE,
                 "a new key of a registered party needs the signature of an active key"},
        /* 1 */ {PL_KIND_REGISTER, {RK(R_ROK), RK(R_ROK2)}, NULL, 0, 0, NULL},
        /* 2 */ {PL_KIND_STATEMENT, {RK(R_ROK2)}, NULL, 0, 0, NULL},
        /* 3 */ {PL_KIND_REGISTER, {RK(R_ROK), RK(R_ROK3), RK(R_ROK4)}, NULL, 0, 0, NULL},
        /* 4 */
        {PL_KIND_REGISTER,
         {RK(R_ROK), RK(R_ROK5)},
         NULL,
         0,
         PL_ERULE,
         "a party holds at most 4 active keys"},
        /* 5 */ {PL_KIND_REVOKE, {RK(R_ROK)}, NULL, 0, 0, NULL},
        /* 6 */ {PL_KIND_STATEMENT, {RK(R_ROK)}, NULL, 0, PL_ERULE, "signing key was revoked"},
        /* 7 */
        {PL_KIND_REGISTER,
         {RK(R_ROK), RK(R_ROK2)},
         NULL,
         0,
         PL_ERULE,
         "a key it registers was revoked, and never returns"},
        /* 8 */ {PL_KIND_REVOKE, {RK(R_ROK2), RK(R_ROK3), RK(R_ROK4)}, "Expelled", 0, 0, NULL},
        /* 9 */ {PL_KIND_STATEMENT, {RK(R_ROK2)}, NULL, 0, PL_ERULE, "signing key was revoked"},
        /* 10 */
        {PL_KIND_REGISTER,
         {RK(R_ROK5)},
         NULL,
         0,
         PL_ERULE,
         "a returning party's register refers to its previous one"},
        /* 11 */
        {PL_KIND_REGISTER,
         {RK(R_ROK5)},
         NULL,
         -6,
         PL_ERULE,
         "refers to a record of the wrong kind for its role"},
        /* 12 */
        {PL_KIND_REGISTER,
         {RK(R_ROK5)},
         NULL,
         -3,
         PL_ERULE,
         "the previous register is another party's"},
        /* 13 */ {PL_KIND_REGISTER, {RK(R_ROK5)}, NULL, 4, 0, NULL},
        /* 14 */ {PL_KIND_STATEMENT, {RK(R_ROK5)}, NULL, 0, 0, NULL},
        /* 15 */
        {PL_KIND_REGISTER,
         {RK(R_ROK5), RK(R_ROK6)},
         NULL,
         14,
         PL_ERULE,
         "only a party with no active key returns"},
};

static int key_row_submit(const struct key_row *k, const uint64_t *at, int64_t t, const char **why)
{
	struct pl_record *r;
	struct pl_skey keys[6];
	struct pl_buf b;
	size_t n = 0;
	int ret;

	if (k->kind == PL_KIND_STATEMENT) {
		/* mk() chains after the key of who; use the row's key instead. */
		size_t d = pl_directory_find(&lg.dir, rvk[k->keys[0] - 1].name,
		                             rvk[k->keys[0] - 1].id);
		r = statement(ROK, "2025-11-24T00:00:00Z", NULL);
		r->seq = 1;
		r->has &= ~PL_RECORD_HAS_PREV;
		if (d != PL_DIRECTORY_NONE && lg.dir.state[d].has_head) {
			r->seq = lg.dir.state[d].head.seq + 1;
			memcpy(r->prev, lg.dir.state[d].head.id, PL_RECORD_ID_BYTES);
			r->has |= PL_RECORD_HAS_PREV;
		}
		keys[n++] = rsk[k->keys[0] - 1];
	} else {
		r = mk(EX, k->kind, "2025-11-24T00:00:00Z");
		r->has |= PL_RECORD_HAS_PARTY;
		snprintf(r->party, sizeof(r->party), "rok-mnd");
		keys[n++] = skeys[EX];
		for (size_t i = 0; i < 4 && k->keys[i]; i++) {
			r->keys[r->nkeys++] = rvk[k->keys[i] - 1];
			if (!k->reason)
				keys[n++] = rsk[k->keys[i] - 1];
		}
		if (k->kind == PL_KIND_REGISTER) {
			r->has |= PL_RECORD_HAS_ENC;
			assert_int_equal(pl_party_ekey_parse(&r->enc, ENC_ROK, strlen(ENC_ROK)), 0);
		}
		if (k->reason) {
			snprintf(r->reason, sizeof(r->reason), "%s", k->reason);
			r->has |= PL_RECORD_HAS_REASON;
		}
		if (k->previous < 0)
			pl_test_add_ref(r, PL_ROLE_PREVIOUS, ex((size_t)-k->previous));
		else if (k->previous > 0)
			pl_test_add_ref(r, PL_ROLE_PREVIOUS, ids[at[k->previous - 1]]);
	}
	r->time = t;
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	ret = pl_record_sign(&b, r, keys, n, why);
	if (ret == 0)
		ret = log_append(b.data, b.len, false, why);
	pl_buf_release(&b);
	sodium_memzero(keys, sizeof(keys));
	free(r);
	return ret;
}

static void test_keys(void **state)
{
	uint64_t at[sizeof(key_rows) / sizeof(key_rows[0])];
	int64_t t = pl_test_time("2025-11-24T00:00:00Z");
	size_t active;
	bool known;

	(void)state;
	replay_doc();
	/* rok-mnd's first key is the doc's; the others are new, named alike, and sort after the
	 * ones before (key lines are sorted). */
	rsk[R_ROK] = skeys[ROK];
	rvk[R_ROK] = vkeys[ROK];
	rsk[R_UNC] = skeys[UNC];
	rvk[R_UNC] = vkeys[UNC];
	/* Each after the first, then sorted among themselves: generating each after the one
	 * before would narrow the room left above the last one with every key. */
	for (int i = R_ROK2; i <= R_ROK6; i++)
		key_sorted_after(&rsk[i], &rvk[i], &rvk[R_ROK]);
	for (int i = R_ROK2 + 1; i <= R_ROK6; i++)
		for (int k = i; k > R_ROK2 && key_cmp(&rvk[k - 1], &rvk[k]) > 0; k--) {
			struct pl_skey ts = rsk[k];
			struct pl_vkey tv = rvk[k];
			rsk[k] = rsk[k - 1];
			rvk[k] = rvk[k - 1];
			rsk[k - 1] = ts;
			rvk[k - 1] = tv;
		}
	for (size_t i = 0; i < sizeof(key_rows) / sizeof(key_rows[0]); i++) {
		const char *why = NULL;
		int ret = key_row_submit(&key_rows[i], at, t + (int64_t)i, &why);
		if (ret != key_rows[i].want)
			fail_msg("row %zu: want %s (%s), got %s (%s)", i,
			         pl_strerror(key_rows[i].want),
			         key_rows[i].why ? key_rows[i].why : "", pl_strerror(ret),
			         why ? why : "");
		if (key_rows[i].why)
			assert_string_equal(why, key_rows[i].why);
		at[i] = nlogged - 1;
	}
	pl_directory_party_keys(&lg.dir, "rok-mnd", &active, &known);
	assert_int_equal(active, 1);
	assert_true(known);
	pl_directory_party_keys(&lg.dir, "kpa", &active, &known);
	assert_int_equal(active, 0);
	assert_true(known);
	sodium_memzero(rsk, sizeof(rsk));
}

PL_TEST_MAIN(setup, teardown, cmocka_unit_test(test_keys), cmocka_unit_test(test_doc_replay),
             cmocka_unit_test(test_gathered), cmocka_unit_test(test_siblings_cap),
             cmocka_unit_test(test_add), cmocka_unit_test(test_gather_source))
