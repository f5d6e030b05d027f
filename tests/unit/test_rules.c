/*
 * Unit tests of the stateful rules: a small in-memory log replays the examples of
 * docs/records.md through pl_record_open() and pl_rules_check(), then a table of records
 * that break each rule of each kind is appended to it and must be refused.
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

#include <parley/chain.h>
#include <parley/encoding.h>
#include <parley/record.h>
#include <parley/note.h>
#include <parley/rules.h>
#include <parley/timestamp.h>

#include "testutil.h"

#define ORIGIN "hotline.example"

/* ---- Fixed keys (the seeds of docs/records.md §9) -------------------------- */

enum { EX, ROK, UNC, KPA, DPRK, NACTORS };

static const char *const party_of[NACTORS] = {"exchange", "rok-mnd", "unc", "kpa", "dprk"};
static struct pl_skey skeys[NACTORS];
static struct pl_vkey vkeys[NACTORS];

/* ---- A minimal log: what an exchange or an auditor keeps to run the rules ------ */

#define LOG_MAX 128
#define DIR_MAX 16

struct entry {
	struct pl_record *rec;
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_vkey signer;
};

struct minilog {
	struct entry e[LOG_MAX];
	size_t n;
	/* Every key ever registered (and the log key), with its status. */
	struct pl_vkey dir[DIR_MAX];
	enum pl_key_status status[DIR_MAX];
	size_t ndir;
};

static struct minilog lg;

static void log_reset(void)
{
	for (size_t i = 0; i < lg.n; i++)
		free(lg.e[i].rec);
	memset(&lg, 0, sizeof(lg));
	lg.dir[0] = vkeys[EX];
	lg.status[0] = PL_KEY_ACTIVE;
	lg.ndir = 1;
}

static size_t dir_find(const struct pl_vkey *k)
{
	for (size_t i = 0; i < lg.ndir; i++) {
		if (pl_vkey_equal(&lg.dir[i], k))
			return i;
	}
	return SIZE_MAX;
}

static enum pl_key_status status_of(const struct pl_vkey *k)
{
	size_t i = dir_find(k);

	return i == SIZE_MAX ? PL_KEY_UNKNOWN : lg.status[i];
}

static bool party_is_active(void *arg, const char *party)
{
	char name[PL_KEY_NAME_MAX + 1];

	(void)arg;
	if (pl_record_key_name(name, ORIGIN, party) != 0)
		return false;
	for (size_t i = 0; i < lg.ndir; i++) {
		if (strcmp(lg.dir[i].name, name) == 0 && lg.status[i] == PL_KEY_ACTIVE)
			return true;
	}
	return false;
}

/* How many active keys party holds, and whether it ever held one. */
static void party_keys(const char *party, size_t *active, bool *known)
{
	char name[PL_KEY_NAME_MAX + 1];

	*active = 0;
	*known = false;
	assert_int_equal(pl_record_key_name(name, ORIGIN, party), 0);
	for (size_t i = 0; i < lg.ndir; i++) {
		if (strcmp(lg.dir[i].name, name) != 0)
			continue;
		*known = true;
		*active += lg.status[i] == PL_KEY_ACTIVE;
	}
}

static const struct pl_record *find_id(const uint8_t id[PL_RECORD_ID_BYTES])
{
	for (size_t i = 0; i < lg.n; i++) {
		if (memcmp(lg.e[i].id, id, PL_RECORD_ID_BYTES) == 0)
			return lg.e[i].rec;
	}
	return NULL;
}

/* The chain head of a key: its last record in the log. */
static bool head_of(const struct pl_vkey *k, struct pl_chain_link *head)
{
	for (size_t i = lg.n; i > 0; i--) {
		if (pl_vkey_equal(&lg.e[i - 1].signer, k)) {
			pl_chain_link_set(head, lg.e[i - 1].rec, lg.e[i - 1].id);
			return true;
		}
	}
	return false;
}

/* Validates and judges a signed record; appends it when both pass. */
static int log_append(const char *note, size_t len, const char **why)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	const struct pl_record *refs[PL_RECORD_MAX_REFS], *sib[LOG_MAX];
	enum pl_key_status keys[PL_RECORD_MAX_KEYS];
	struct pl_chain_link head;
	struct pl_rules_input in;
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_vkey signer;
	size_t nsib = 0;
	enum pl_ref_role role;
	int ret;

	assert_non_null(r);
	ret = pl_record_open(r, id, &signer, note, len, lg.dir, lg.ndir, why);
	if (ret != 0)
		goto out;
	memset(&in, 0, sizeof(in));
	in.rec = r;
	in.id = id;
	in.signer = status_of(&signer);
	in.head = head_of(&signer, &head) ? &head : NULL;
	for (size_t i = 0; i < r->nrefs; i++)
		refs[i] = find_id(r->refs[i].id);
	in.refs = refs;
	role = pl_record_target(r);
	if (role) {
		const struct pl_record_ref *t = pl_record_ref_find(r, role);
		for (size_t i = 0; i < lg.n; i++) {
			const struct pl_record_ref *x = pl_record_ref_find(lg.e[i].rec, role);
			if (x && memcmp(x->id, t->id, PL_RECORD_ID_BYTES) == 0)
				sib[nsib++] = lg.e[i].rec;
		}
	}
	in.siblings = sib;
	in.nsiblings = nsib;
	for (size_t i = 0; i < r->nkeys; i++)
		keys[i] = status_of(&r->keys[i]);
	in.keys = keys;
	if (r->has & PL_RECORD_HAS_PARTY)
		party_keys(r->party, &in.party_keys, &in.party_known);
	in.party_is_active = party_is_active;
	ret = pl_rules_check(&in, why);
	if (ret != 0)
		goto out;
	/* The directory follows the log. */
	for (size_t i = 0; i < r->nkeys; i++) {
		size_t d = dir_find(&r->keys[i]);
		if (r->kind == PL_KIND_REGISTER && d != SIZE_MAX) {
			lg.status[d] = PL_KEY_ACTIVE; /* a key signing for a new one stays */
		} else if (r->kind == PL_KIND_REGISTER) {
			assert_true(lg.ndir < DIR_MAX);
			lg.dir[lg.ndir] = r->keys[i];
			lg.status[lg.ndir++] = PL_KEY_ACTIVE;
		} else {
			lg.status[d] = PL_KEY_REVOKED;
		}
	}
	assert_true(lg.n < LOG_MAX);
	lg.e[lg.n].rec = r;
	memcpy(lg.e[lg.n].id, id, PL_RECORD_ID_BYTES);
	lg.e[lg.n].signer = signer;
	lg.n++;
	r = NULL;
out:
	free(r);
	return ret;
}

/* ---- docs/records.md ------------------------------------------------------- */

/* Appends every ```record block of the doc, in order; returns how many. */
static size_t replay_doc(void)
{
	log_reset();
	return pl_test_doc_records(log_append);
}

/*
 * Replays the doc, then forgets its examples from kpa's revoke (26) on (the index that ends the
 * batch, and what follows it) so that kpa may still act.
 */
static void replay_doc_kpa_active(void)
{
	replay_doc();
	assert_true(lg.n >= 28);
	assert_int_equal(lg.e[27].rec->kind, PL_KIND_INDEX);
	assert_int_equal(lg.e[26].rec->kind, PL_KIND_REVOKE);
	while (lg.n > 26) {
		lg.n--;
		free(lg.e[lg.n].rec);
	}
	lg.status[dir_find(&vkeys[KPA])] = PL_KEY_ACTIVE;
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
	log_reset();
	sodium_memzero(skeys, sizeof(skeys));
	return 0;
}

/* The doc's examples, numbered from 1 as in the doc. */
static const struct entry *ex(size_t n)
{
	assert_true(n >= 1 && n <= lg.n);
	return &lg.e[n - 1];
}

static void test_doc_replay(void **state)
{
	size_t n;

	(void)state;
	n = replay_doc();
	assert_true(n >= 29);
	assert_int_equal(lg.e[27].rec->kind, PL_KIND_INDEX);
	/* A missed check is the exchange's own account: no rule refuses it, kpa revoked or not. */
	assert_int_equal(lg.e[28].rec->kind, PL_KIND_MISSED);
	assert_int_equal(lg.n, n);
	/* Example 27 revoked kpa. */
	assert_int_equal(status_of(&vkeys[KPA]), PL_KEY_REVOKED);
	assert_int_equal(status_of(&vkeys[UNC]), PL_KEY_ACTIVE);
	assert_false(party_is_active(NULL, "kpa"));
}

/* ---- Building new records on top of the doc's log ---------------------------- */

/* A record by party at time, chained after that party's last record. */
static struct pl_record *mk(int who, enum pl_record_kind kind, const char *time)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	struct pl_chain_link head;

	assert_non_null(r);
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", party_of[who]);
	r->kind = kind;
	r->time = pl_test_time(time);
	r->seq = 1;
	if (head_of(&vkeys[who], &head)) {
		r->seq = head.seq + 1;
		memcpy(r->prev, head.id, PL_RECORD_ID_BYTES);
		r->has |= PL_RECORD_HAS_PREV;
	}
	return r;
}

/* A statement of class cls by who at time, with body as its text. */
static struct pl_record *mk_statement(int who, const char *time, enum pl_record_class cls,
                                      const char *body)
{
	struct pl_record *r = mk(who, PL_KIND_STATEMENT, time);

	r->cls = cls;
	r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
	r->body_len = (size_t)snprintf(r->body, sizeof(r->body), "%s", body);
	return r;
}

static void ref(struct pl_record *r, enum pl_ref_role role, const struct entry *e)
{
	pl_test_add_ref(r, role, e->id);
}

static void payload(struct pl_record *r)
{
	memset(r->payload, 0x11, sizeof(r->payload));
	memset(r->commit, 0x22, sizeof(r->commit));
	r->payload_size = 500;
	r->has |= PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT;
}

static void line(struct pl_record *r, const char *name)
{
	snprintf(r->line, sizeof(r->line), "%s", name);
	r->has |= PL_RECORD_HAS_LINE;
}

static void reason(struct pl_record *r, const char *text)
{
	snprintf(r->reason, sizeof(r->reason), "%s", text);
	r->has |= PL_RECORD_HAS_REASON;
}

/* Signs r with its author's key (and the party's, for a registration) and appends it. */
static int submit(struct pl_record *r, const char **why)
{
	struct pl_skey keys[2];
	struct pl_buf b;
	size_t nkeys = 1;
	int ret;

	keys[0] = skeys[pl_test_index_of(party_of, NACTORS, r->author)];
	if (r->kind == PL_KIND_REGISTER || r->kind == PL_KIND_REVOKE)
		keys[nkeys++] = skeys[pl_test_index_of(party_of, NACTORS, r->party)];
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	ret = pl_record_sign(&b, r, keys, nkeys, why);
	if (ret == 0)
		ret = log_append(b.data, b.len, why);
	pl_buf_release(&b);
	sodium_memzero(keys, sizeof(keys));
	free(r);
	return ret;
}

static void expect(struct pl_record *r, int want, const char *what)
{
	const char *why = NULL;
	int ret = submit(r, &why);

	if (ret != want)
		fail_msg("%s: got %s (%s), want %s", what, pl_strerror(ret), why ? why : "",
		         pl_strerror(want));
	if (want != 0)
		assert_non_null(why);
}

/* A fresh send; returns its entry once logged. */
static const struct entry *new_send(int who, const char *rcpt, const char *via_party,
                                    const char *time, const char *dl)
{
	struct pl_record *r = mk(who, PL_KIND_SEND, time);

	pl_test_set_message(r, rcpt, 500);
	if (via_party)
		pl_test_set_via(r, via_party);
	if (dl)
		pl_test_set_deadline(r, dl);
	expect(r, 0, "a new send");
	return &lg.e[lg.n - 1];
}

static void make_available(const struct entry *s, const char *party, const char *time)
{
	struct pl_record *r = mk(EX, PL_KIND_AVAILABLE, time);

	pl_test_add_to(r, party);
	ref(r, PL_ROLE_SUBJECT, s);
	expect(r, 0, "available");
}

static void act(int who, enum pl_record_kind kind, const struct entry *s, const char *time,
                int want, const char *what)
{
	struct pl_record *r = mk(who, kind, time);

	ref(r, PL_ROLE_SUBJECT, s);
	if (kind == PL_KIND_DECLINE)
		reason(r, "no");
	expect(r, want, what);
}

/* The exchange's expire of send s at time, naming rcpt (and via_party when not NULL). */
static void expire(const struct entry *s, const char *time, const char *rcpt, const char *via_party,
                   int want, const char *what)
{
	struct pl_record *r = mk(EX, PL_KIND_EXPIRE, time);

	pl_test_add_to(r, rcpt);
	if (via_party)
		pl_test_set_via(r, via_party);
	ref(r, PL_ROLE_SUBJECT, s);
	expect(r, want, what);
}

/* ---- Rules of a send's life -------------------------------------------------- */

/* Doc numbering: 7 send via unc (declined at 10); 12 unc->kpa (accepted); 15 letter via unc
 * (conveyed, refused); 20 direct send (expired); 23 check; 26 kpa revoked. */
static void test_relay_rules(void **state)
{
	const struct entry *s;

	(void)state;
	replay_doc();
	/* kpa is revoked at the end of the doc: its records are refused from now on. */
	act(KPA, PL_KIND_RECEIVE, ex(15), "2025-11-23T01:00:00Z", PL_ERULE, "revoked signer");
	replay_doc_kpa_active();

	act(UNC, PL_KIND_CONVEY, ex(7), "2025-11-23T01:00:00Z", PL_ERULE, "convey after decline");
	act(UNC, PL_KIND_DECLINE, ex(7), "2025-11-23T01:00:00Z", PL_ERULE, "second decline");
	act(KPA, PL_KIND_RECEIVE, ex(7), "2025-11-23T01:00:00Z", PL_ERULE,
	    "receive of what was never made available");
	act(KPA, PL_KIND_ACCEPT, ex(7), "2025-11-23T01:00:00Z", PL_ERULE,
	    "accept of a relayed send never conveyed");
	act(UNC, PL_KIND_RECEIVE, ex(7), "2025-11-23T01:00:00Z", PL_ERULE, "second receive");
	act(KPA, PL_KIND_ACCEPT, ex(15), "2025-11-23T01:00:00Z", PL_ERULE, "accept after refuse");
	act(KPA, PL_KIND_REFUSE, ex(15), "2025-11-23T01:00:00Z", PL_ERULE, "second refuse");
	act(UNC, PL_KIND_ACCEPT, ex(15), "2025-11-23T01:00:00Z", PL_ERULE, "accept by the via");
	act(ROK, PL_KIND_REFUSE, ex(15), "2025-11-23T01:00:00Z", PL_ERULE, "refuse by the sender");
	act(KPA, PL_KIND_CONVEY, ex(15), "2025-11-23T01:00:00Z", PL_ERULE, "convey by a recipient");
	act(KPA, PL_KIND_ACCEPT, ex(20), "2025-11-22T01:00:00Z", PL_ERULE,
	    "accept after the deadline");
	act(KPA, PL_KIND_ACCEPT, ex(20), "2025-11-21T23:00:00Z", PL_ERULE,
	    "accept before the deadline but after an expire");

	/* A fresh relayed send, step by step. */
	s = new_send(ROK, "kpa", "unc", "2025-11-22T10:00:00Z", "2025-11-25T00:00:00Z");
	act(UNC, PL_KIND_CONVEY, s, "2025-11-22T10:01:00Z", PL_ERULE,
	    "convey before it was made available");
	act(UNC, PL_KIND_RECEIVE, s, "2025-11-22T10:01:00Z", PL_ERULE,
	    "receive before it was made available");
	{
		struct pl_record *r = mk(EX, PL_KIND_AVAILABLE, "2025-11-22T10:01:00Z");
		pl_test_add_to(r, "kpa");
		ref(r, PL_ROLE_SUBJECT, s);
		expect(r, PL_ERULE, "available to a recipient before the convey");
		r = mk(EX, PL_KIND_AVAILABLE, "2025-11-22T10:01:00Z");
		pl_test_add_to(r, "rok-mnd");
		ref(r, PL_ROLE_SUBJECT, s);
		expect(r, PL_ERULE, "available to the sender");
	}
	make_available(s, "unc", "2025-11-22T10:01:00Z");
	{
		struct pl_record *r = mk(EX, PL_KIND_AVAILABLE, "2025-11-22T10:01:30Z");
		pl_test_add_to(r, "unc");
		ref(r, PL_ROLE_SUBJECT, s);
		expect(r, PL_ERULE, "available twice");
	}
	act(KPA, PL_KIND_DECLINE, s, "2025-11-22T10:02:00Z", PL_ERULE, "decline by a recipient");
	act(UNC, PL_KIND_RECEIVE, s, "2025-11-22T10:02:00Z", 0, "receive by the via");
	act(UNC, PL_KIND_CONVEY, s, "2025-11-25T00:00:01Z", PL_ERULE, "convey after the deadline");
	act(UNC, PL_KIND_CONVEY, s, "2025-11-22T10:03:00Z", 0, "convey");
	act(UNC, PL_KIND_CONVEY, s, "2025-11-22T10:04:00Z", PL_ERULE, "second convey");
	act(UNC, PL_KIND_DECLINE, s, "2025-11-22T10:04:00Z", PL_ERULE, "decline after convey");
	act(KPA, PL_KIND_REFUSE, s, "2025-11-22T10:04:00Z", PL_ERULE,
	    "refuse before it was made available to the recipient");
	make_available(s, "kpa", "2025-11-22T10:05:00Z");
	act(KPA, PL_KIND_ACCEPT, s, "2025-11-22T10:06:00Z", 0, "accept without opening");
}

static void test_expire_rules(void **state)
{
	const struct entry *s;

	(void)state;
	replay_doc_kpa_active();
	/* The declined send (7) cannot expire; the expired one (20) cannot expire again. */
	expire(ex(7), "2025-11-24T00:00:01Z", "kpa", "unc", PL_ERULE, "expire of a declined send");
	expire(ex(20), "2025-11-24T00:00:01Z", "kpa", NULL, PL_ERULE, "second expire");
	/* The refused letter (15): every recipient decided. */
	expire(ex(15), "2025-11-27T00:00:01Z", "kpa", NULL, PL_ERULE,
	       "expire when every recipient decided");

	/* A relayed send that the intermediary never touches. */
	s = new_send(ROK, "kpa", "unc", "2025-11-22T12:00:00Z", "2025-11-23T12:00:00Z");
	make_available(s, "unc", "2025-11-22T12:00:01Z");
	expire(s, "2025-11-23T11:59:59Z", "kpa", "unc", PL_ERULE, "expire before the deadline");
	expire(s, "2025-11-23T12:00:00Z", "kpa", NULL, PL_ERULE,
	       "expire of an unrelayed send without its via");
	expire(s, "2025-11-23T12:00:00Z", "kpa", "unc", 0, "expire: the intermediary never acted");
	act(UNC, PL_KIND_CONVEY, s, "2025-11-23T11:00:00Z", PL_ERULE, "convey after the expire");

	/* A send without a deadline never expires. */
	s = new_send(ROK, "kpa", NULL, "2025-11-23T13:00:00Z", NULL);
	expire(s, "2025-11-30T00:00:00Z", "kpa", NULL, PL_ERULE,
	       "expire of a send without deadline");

	/* Conveyed, made available, undecided: the expire names the recipient, not the via. */
	s = new_send(ROK, "kpa", "unc", "2025-11-23T14:00:00Z", "2025-11-24T14:00:00Z");
	make_available(s, "unc", "2025-11-23T14:00:01Z");
	act(UNC, PL_KIND_CONVEY, s, "2025-11-23T14:01:00Z", 0, "convey");
	expire(s, "2025-11-24T14:00:00Z", "kpa", "unc", PL_ERULE,
	       "expire naming an intermediary that conveyed");
	expire(s, "2025-11-24T14:00:00Z", "unc", NULL, PL_ERULE,
	       "expire naming the wrong recipients");
	expire(s, "2025-11-24T14:00:00Z", "kpa", NULL, 0, "expire of the undecided recipient");
}

static void test_reply_and_refs(void **state)
{
	struct pl_record *r;
	uint8_t unknown[PL_RECORD_ID_BYTES];

	(void)state;
	replay_doc();
	/* kpa answers unc's message (12); unc answers its own message: not a reply. */
	r = mk(KPA, PL_KIND_SEND, "2025-11-22T10:00:00Z");
	pl_test_set_message(r, "unc", 500);
	ref(r, PL_ROLE_REPLY_TO, ex(12));
	expect(r, PL_ERULE, "reply by a revoked key");
	lg.status[dir_find(&vkeys[KPA])] = PL_KEY_ACTIVE;
	r = mk(KPA, PL_KIND_SEND, "2025-11-22T10:00:00Z");
	pl_test_set_message(r, "unc", 500);
	ref(r, PL_ROLE_REPLY_TO, ex(12));
	expect(r, 0, "reply by the recipient");
	r = mk(ROK, PL_KIND_SEND, "2025-11-22T10:00:00Z");
	pl_test_set_message(r, "unc", 500);
	ref(r, PL_ROLE_REPLY_TO, ex(12));
	expect(r, PL_ERULE, "reply by a stranger to the send");
	r = mk(ROK, PL_KIND_SEND, "2025-11-22T10:00:00Z");
	pl_test_set_message(r, "dprk", 500);
	expect(r, PL_ERULE, "send to an unregistered party");

	/* References: unknown, wrong kind, later in time. */
	r = mk_statement(UNC, "2025-11-22T10:00:00Z", PL_CLASS_STATEMENT, "Hello.\n");
	memset(unknown, 0x42, sizeof(unknown));
	r->refs[0].role = PL_ROLE_CITES;
	memcpy(r->refs[0].id, unknown, sizeof(unknown));
	r->nrefs = 1;
	expect(r, PL_ERULE, "cites an unknown record");
	r = mk(UNC, PL_KIND_RECEIVE, "2025-11-22T10:00:00Z");
	ref(r, PL_ROLE_SUBJECT, ex(11));
	expect(r, PL_ERULE, "subject that is a statement");
	r = mk(UNC, PL_KIND_RECEIVE, "2025-11-17T01:04:00Z");
	ref(r, PL_ROLE_SUBJECT, ex(7));
	expect(r, PL_ECHAIN, "time before the chain head");
	r = mk_statement(UNC, "2025-11-22T10:00:00Z", PL_CLASS_MEASURE, "Measure.\n");
	ref(r, PL_ROLE_CITES, ex(6));
	expect(r, 0, "a statement citing another party's");
	r = mk_statement(ROK, "2025-11-22T10:00:00Z", PL_CLASS_STATEMENT, "Later.\n");
	ref(r, PL_ROLE_CITES, ex(27));
	expect(r, PL_ERULE, "cites a record from a later time");
}

/* An index record (28 of the examples): the exchange's, chained, and in no thread. */
static void test_index_rules(void **state)
{
	struct pl_record *r;

	(void)state;
	replay_doc();
	assert_int_equal(ex(28)->rec->kind, PL_KIND_INDEX);
	r = mk_statement(UNC, "2025-11-23T10:00:00Z", PL_CLASS_STATEMENT, "Index.\n");
	ref(r, PL_ROLE_CITES, ex(28));
	expect(r, PL_ERULE, "a statement citing an index record");
	r = mk(UNC, PL_KIND_RECEIVE, "2025-11-23T10:00:00Z");
	ref(r, PL_ROLE_SUBJECT, ex(28));
	expect(r, PL_ERULE, "a receive of an index record");
	r = mk(EX, PL_KIND_INDEX, "2025-11-23T10:00:00Z");
	memset(r->index_root, 0x5a, sizeof(r->index_root));
	r->has |= PL_RECORD_HAS_ROOT;
	expect(r, 0, "the next index record");
	r = mk(EX, PL_KIND_INDEX, "2025-11-23T10:00:00Z");
	r->has |= PL_RECORD_HAS_ROOT;
	r->seq = 1;
	r->has &= ~PL_RECORD_HAS_PREV;
	expect(r, PL_ECHAIN, "an index record off the exchange's chain");
	r = mk(EX, PL_KIND_INDEX, "2025-11-23T09:59:00Z");
	r->has |= PL_RECORD_HAS_ROOT;
	expect(r, PL_ECHAIN, "an index record before the exchange's head");
}

/* An answer or unanswered about one check, and what the rules must say of it. */
struct line_step {
	int who;
	enum pl_record_kind kind;
	const char *time, *line;
	const char *to[2]; /* the ends an unanswered names */
	int want;
	const char *what;
};

/* Check 23 of the examples was answered by unc, then recorded unanswered by kpa. */
static const struct line_step after_23[] = {
        {UNC, PL_KIND_ANSWER, "2025-11-23T09:00:00Z", "unc-kpa", {NULL}, PL_ERULE, "second answer"},
        {KPA,
         PL_KIND_ANSWER,
         "2025-11-23T09:00:00Z",
         "unc-kpa",
         {NULL},
         PL_ERULE,
         "answer after the unanswered"},
};

/* A new check of unc-kpa with kpa and unc, answer by 09:15. */
static const struct line_step new_check[] = {
        {ROK,
         PL_KIND_ANSWER,
         "2025-11-23T09:01:00Z",
         "unc-kpa",
         {NULL},
         PL_ERULE,
         "answer by a party not at an end"},
        {UNC,
         PL_KIND_ANSWER,
         "2025-11-23T09:01:00Z",
         "liaison",
         {NULL},
         PL_ERULE,
         "answer on another line"},
        {UNC,
         PL_KIND_ANSWER,
         "2025-11-23T09:15:01Z",
         "unc-kpa",
         {NULL},
         PL_ERULE,
         "answer after the deadline"},
        {EX,
         PL_KIND_UNANSWERED,
         "2025-11-23T09:14:00Z",
         "unc-kpa",
         {"kpa", "unc"},
         PL_ERULE,
         "unanswered before the deadline"},
        {KPA, PL_KIND_ANSWER, "2025-11-23T09:02:00Z", "unc-kpa", {NULL}, 0, "kpa answers"},
        {EX,
         PL_KIND_UNANSWERED,
         "2025-11-23T09:15:00Z",
         "unc-kpa",
         {"kpa", "unc"},
         PL_ERULE,
         "unanswered naming an end that answered"},
        {EX,
         PL_KIND_UNANSWERED,
         "2025-11-23T09:15:00Z",
         "liaison",
         {"unc"},
         PL_ERULE,
         "unanswered on another line"},
        {EX,
         PL_KIND_UNANSWERED,
         "2025-11-23T09:15:00Z",
         "unc-kpa",
         {"unc"},
         0,
         "unanswered by unc"},
        {EX,
         PL_KIND_UNANSWERED,
         "2025-11-23T09:16:00Z",
         "unc-kpa",
         {"unc"},
         PL_ERULE,
         "second unanswered"},
};

/* Submits steps[0..n) about check in order, each judged against the log before it. */
static void line_steps(const struct entry *check, const struct line_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pl_record *r = mk(steps[i].who, steps[i].kind, steps[i].time);
		line(r, steps[i].line);
		for (size_t k = 0; k < 2 && steps[i].to[k]; k++)
			pl_test_add_to(r, steps[i].to[k]);
		ref(r, PL_ROLE_CHECK, check);
		expect(r, steps[i].want, steps[i].what);
	}
}

static void test_consult_and_check_rules(void **state)
{
	struct pl_record *r;

	(void)state;
	replay_doc();
	lg.status[dir_find(&vkeys[KPA])] = PL_KEY_ACTIVE;
	/* Consult 4 named unc only, with a deadline of 16 November 12:00. */
	r = mk(KPA, PL_KIND_ADVISE, "2025-11-15T09:00:00Z");
	ref(r, PL_ROLE_CONSULT, ex(4));
	r->position = PL_POSITION_OBJECT;
	r->has |= PL_RECORD_HAS_POSITION;
	expect(r, PL_ECHAIN, "advise with a time before kpa's head");
	r = mk(KPA, PL_KIND_ADVISE, "2025-11-23T09:00:00Z");
	ref(r, PL_ROLE_CONSULT, ex(4));
	r->position = PL_POSITION_OBJECT;
	r->has |= PL_RECORD_HAS_POSITION;
	expect(r, PL_ERULE, "advise by a party not consulted");
	r = mk(UNC, PL_KIND_ADVISE, "2025-11-23T09:00:00Z");
	ref(r, PL_ROLE_CONSULT, ex(4));
	r->position = PL_POSITION_CONCUR;
	r->has |= PL_RECORD_HAS_POSITION;
	expect(r, PL_ERULE, "second advise");

	/* Check 23 (unc-kpa, answered by unc, unanswered by kpa), then a new check. */
	line_steps(ex(23), after_23, sizeof(after_23) / sizeof(after_23[0]));
	r = mk(EX, PL_KIND_CHECK, "2025-11-23T09:00:00Z");
	line(r, "unc-kpa");
	pl_test_add_to(r, "kpa");
	pl_test_add_to(r, "unc");
	pl_test_set_deadline(r, "2025-11-23T09:15:00Z");
	expect(r, 0, "a new check");
	line_steps(&lg.e[lg.n - 1], new_check, sizeof(new_check) / sizeof(new_check[0]));
	r = mk(EX, PL_KIND_CHECK, "2025-11-23T10:00:00Z");
	line(r, "mil-line");
	pl_test_add_to(r, "dprk");
	pl_test_add_to(r, "unc");
	pl_test_set_deadline(r, "2025-11-23T10:15:00Z");
	expect(r, PL_ERULE, "check of an unregistered end");
	r = mk(ROK, PL_KIND_CONSULT, "2025-11-23T11:00:00Z");
	pl_test_add_to(r, "kpa");
	pl_test_add_to(r, "unc");
	pl_test_set_deadline(r, "2025-11-23T12:00:00Z");
	payload(r);
	expect(r, 0, "a new consult");
	{
		const struct entry *c = &lg.e[lg.n - 1];
		r = mk(UNC, PL_KIND_ADVISE, "2025-11-23T12:00:01Z");
		ref(r, PL_ROLE_CONSULT, c);
		r->position = PL_POSITION_CONCUR;
		r->has |= PL_RECORD_HAS_POSITION;
		expect(r, PL_ERULE, "advise after the consult's deadline");
		r = mk(UNC, PL_KIND_ADVISE, "2025-11-23T11:30:00Z");
		ref(r, PL_ROLE_CONSULT, c);
		r->position = PL_POSITION_CONCUR;
		r->has |= PL_RECORD_HAS_POSITION;
		expect(r, 0, "advise in time");
	}
}

/* A check (dl set) or missed of line at time, with `ref previous` to prev when not NULL. */
static struct pl_record *mk_line_record(const char *time, const char *name, const char *dl,
                                        const struct entry *prev)
{
	struct pl_record *r = mk(EX, dl ? PL_KIND_CHECK : PL_KIND_MISSED, time);

	line(r, name);
	pl_test_add_to(r, "kpa");
	pl_test_add_to(r, "unc");
	if (dl) {
		pl_test_set_deadline(r, dl);
	} else {
		r->due = r->time;
		r->has |= PL_RECORD_HAS_DUE;
	}
	if (prev)
		ref(r, PL_ROLE_PREVIOUS, prev);
	return r;
}

/* The chain of a line's checks: `ref previous` names a check or missed of the same line. */
struct chain_step {
	const char *line;
	bool check; /* a check, or else a missed */
	int prev;   /* the example it names as previous (0: none; -1: the last logged record) */
	int want;
	const char *what;
};

static const struct chain_step chain_steps[] = {
        {"unc-kpa", true, 24, PL_ERULE, "previous is an answer"},
        {"unc-kpa", true, 25, PL_ERULE, "previous is an unanswered"},
        {"unc-kpa", false, 28, PL_ERULE, "previous is an index record"},
        {"unc-kpa", true, 15, PL_ERULE, "previous is a send"},
        {"unc-kpa", true, 2, PL_ERULE, "previous is a register"},
        {"liaison", true, 29, PL_ERULE, "previous is the missed of another line"},
        {"liaison", false, 23, PL_ERULE, "previous is the check of another line"},
        {"unc-kpa", true, 0, 0, "a check before the chain began has no previous"},
        {"unc-kpa", true, 29, 0, "a check after the missed of its line"},
        {"unc-kpa", false, -1, 0, "a missed after the check of its line"},
        {"unc-kpa", true, -1, 0, "a check after that missed"},
        {"liaison", true, 0, 0, "the first check of another line"},
        {"unc-kpa", true, -1, PL_ERULE, "a check naming the other line's check"},
};

static void test_line_chain_rules(void **state)
{
	const struct pl_record *last;
	struct pl_record *r;
	uint8_t nowhere[PL_RECORD_ID_BYTES];
	struct entry ghost;

	(void)state;
	replay_doc();
	lg.status[dir_find(&vkeys[KPA])] = PL_KEY_ACTIVE;
	for (size_t i = 0; i < sizeof(chain_steps) / sizeof(chain_steps[0]); i++) {
		const struct chain_step *c = &chain_steps[i];
		const struct entry *prev = c->prev > 0 ? ex((size_t)c->prev) : NULL;
		if (c->prev < 0)
			prev = &lg.e[lg.n - 1];
		r = mk_line_record("2025-11-23T09:00:00Z", c->line,
		                   c->check ? "2025-11-23T09:15:00Z" : NULL, prev);
		expect(r, c->want, c->what);
	}
	last = lg.e[lg.n - 1].rec;
	assert_int_equal(last->kind, PL_KIND_CHECK);
	assert_string_equal(last->line, "liaison");
	/* A previous not in the log; one with a later time; a previous by the wrong role. */
	memset(nowhere, 0x5a, sizeof(nowhere));
	memcpy(ghost.id, nowhere, sizeof(nowhere));
	r = mk_line_record("2025-11-23T09:00:00Z", "unc-kpa", "2025-11-23T09:15:00Z", &ghost);
	expect(r, PL_ERULE, "previous not in the log");
	r = mk_line_record("2025-11-23T10:00:00Z", "liaison", "2025-11-23T10:15:00Z", NULL);
	expect(r, 0, "a later check of liaison");
	r = mk_line_record("2025-11-23T10:00:00Z", "liaison", "2025-11-23T10:15:00Z", NULL);
	r->refs[0].role = PL_ROLE_CHECK;
	memcpy(r->refs[0].id, lg.e[lg.n - 1].id, PL_RECORD_ID_BYTES);
	r->nrefs = 1;
	expect(r, PL_EMALFORMED, "a check with ref check");
	r = mk_line_record("2025-11-23T10:00:00Z", "liaison", "2025-11-23T10:15:00Z",
	                   &lg.e[lg.n - 1]);
	ref(r, PL_ROLE_PREVIOUS, &lg.e[lg.n - 1]);
	expect(r, PL_EMALFORMED, "two previous refs");
}

/* A register or revoke of one party's key, and what the rules say of it after the doc's log. */
struct key_step {
	enum pl_record_kind kind;
	const char *party;
	int key;     /* whose key of vkeys[] */
	size_t enc;  /* for a register: the doc record whose enc it reuses */
	bool rename; /* the enc key takes the name of the party's key */
	int want;
	const char *what;
};

static const struct key_step key_steps[] = {
        /* kpa's key was revoked: it can be neither registered again nor revoked again. */
        {PL_KIND_REGISTER, "kpa", KPA, 3, false, PL_ERULE, "register of a revoked key"},
        {PL_KIND_REVOKE, "kpa", KPA, 0, false, PL_ERULE, "revoke of a revoked key"},
        {PL_KIND_REGISTER, "unc", UNC, 2, false, PL_ERULE, "register of an active key"},
        /* dprk's key is new. */
        {PL_KIND_REGISTER, "dprk", DPRK, 3, true, 0, "register of a new party"},
};

/* A group record by who at time: members a and b (sorted; b may be NULL), about kpa. */
static struct pl_record *mk_group(int who, const char *time, const char *name, const char *a,
                                  const char *b, const struct entry *changes)
{
	struct pl_record *r = mk(who, PL_KIND_GROUP, time);

	pl_test_add_to(r, a);
	if (b)
		pl_test_add_to(r, b);
	snprintf(r->group, sizeof(r->group), "%s", name);
	snprintf(r->about[r->nabout++], sizeof(r->about[0]), "%s", "kpa");
	r->window_days = 7;
	r->has |= PL_RECORD_HAS_GROUP | PL_RECORD_HAS_WINDOW;
	if (changes)
		ref(r, PL_ROLE_GROUP, changes);
	return r;
}

/* A consult by who to a, made in group g (NULL: in none). */
static struct pl_record *mk_consult(int who, const char *time, const char *a, const struct entry *g)
{
	struct pl_record *r = mk(who, PL_KIND_CONSULT, time);

	pl_test_add_to(r, a);
	payload(r);
	if (g)
		ref(r, PL_ROLE_GROUP, g);
	return r;
}

/* A change of the state of measure m by who. */
static struct pl_record *mk_change(int who, const char *time, const struct entry *m,
                                   enum pl_measure_state st)
{
	struct pl_record *r = mk_statement(who, time, PL_CLASS_MEASURE, "A change.\n");

	ref(r, PL_ROLE_CHANGES, m);
	r->state = st;
	r->has |= PL_RECORD_HAS_STATE;
	return r;
}

/*
 * Coordination groups (example 26: rok-mnd and unc about kpa): created and changed only by
 * members, one history; consults in a group stay among its members; a send or statement
 * follows only its author's own consult; a measure reciprocates another party's measure.
 */
static void test_group_rules(void **state)
{
	struct pl_record *r;
	const struct entry *g, *g2, *c, *m, *s1, *e1;

	(void)state;
	replay_doc_kpa_active();
	g = ex(26);
	assert_int_equal(g->rec->kind, PL_KIND_GROUP);
	/* Creation and change. */
	expect(mk_group(UNC, "2025-11-22T11:00:00Z", "other", "rok-mnd", NULL, NULL), PL_ERULE,
	       "a group created by a party not among its members");
	expect(mk_group(KPA, "2025-11-22T11:00:00Z", "allies-unc-rok", "rok-mnd", "unc", g),
	       PL_ERULE, "a group change by a non-member");
	expect(mk_group(UNC, "2025-11-22T11:00:00Z", "renamed", "rok-mnd", "unc", g), PL_ERULE,
	       "a group change that renames the group");
	r = mk(UNC, PL_KIND_GROUP, "2025-11-22T11:00:00Z");
	ref(r, PL_ROLE_GROUP, ex(4));
	pl_test_add_to(r, "unc");
	snprintf(r->group, sizeof(r->group), "%s", "allies-unc-rok");
	snprintf(r->about[r->nabout++], sizeof(r->about[0]), "%s", "kpa");
	r->window_days = 7;
	r->has |= PL_RECORD_HAS_GROUP | PL_RECORD_HAS_WINDOW;
	expect(r, PL_ERULE, "a group change of a record that is not a group");
	expect(mk_group(UNC, "2025-11-22T11:00:00Z", "allies-unc-rok", "rok-mnd", "unc", g), 0,
	       "a group change by a member");
	g2 = ex(lg.n);
	expect(mk_group(ROK, "2025-11-22T11:00:00Z", "allies-unc-rok", "rok-mnd", NULL, g),
	       PL_ERULE, "a second change of the same version (a fork)");
	/* Consults in a group. */
	expect(mk_consult(KPA, "2025-11-22T12:00:00Z", "unc", g2), PL_ERULE,
	       "a consult in a group by a non-member");
	expect(mk_consult(ROK, "2025-11-22T12:00:00Z", "kpa", g2), PL_ERULE,
	       "a consult in a group of a party not in it");
	r = mk_consult(ROK, "2025-11-22T12:00:00Z", "unc", NULL);
	ref(r, PL_ROLE_GROUP, ex(7));
	expect(r, PL_ERULE, "a consult whose group ref names a send");
	expect(mk_consult(ROK, "2025-11-22T12:00:00Z", "unc", g2), 0, "a consult in the group");
	c = ex(lg.n);
	/* What a send or statement follows. */
	r = mk(ROK, PL_KIND_SEND, "2025-11-22T13:00:00Z");
	pl_test_set_message(r, "kpa", 500);
	ref(r, PL_ROLE_CONSULT, ex(7));
	expect(r, PL_ERULE, "a consult ref to a record that is not a consult");
	r = mk(UNC, PL_KIND_SEND, "2025-11-22T13:00:00Z");
	pl_test_set_message(r, "kpa", 500);
	ref(r, PL_ROLE_CONSULT, c);
	expect(r, PL_ERULE, "a send following another party's consult");
	r = mk(ROK, PL_KIND_SEND, "2025-11-22T13:00:00Z");
	pl_test_set_message(r, "kpa", 500);
	ref(r, PL_ROLE_CONSULT, c);
	expect(r, 0, "a send following its author's consult");
	r = mk_statement(ROK, "2025-11-22T13:00:00Z", PL_CLASS_MEASURE, "Loudspeakers off.\n");
	ref(r, PL_ROLE_CONSULT, c);
	expect(r, 0, "a measure following its author's consult");
	m = ex(lg.n);
	/* Reciprocity. */
	r = mk_statement(ROK, "2025-11-22T14:00:00Z", PL_CLASS_MEASURE, "More.\n");
	ref(r, PL_ROLE_RECIPROCATES, m);
	expect(r, PL_ERULE, "a reciprocation of one's own measure");
	r = mk_statement(KPA, "2025-11-22T14:00:00Z", PL_CLASS_MEASURE, "Noise off.\n");
	ref(r, PL_ROLE_RECIPROCATES, ex(6));
	expect(r, PL_ERULE, "a reciprocation of a statement that is not a measure");
	r = mk_statement(KPA, "2025-11-22T14:00:00Z", PL_CLASS_MEASURE, "Noise off.\n");
	ref(r, PL_ROLE_RECIPROCATES, m);
	expect(r, 0, "a reciprocation of another party's measure");
	/* The life of rok-mnd's measure: suspended, resumed, ended, then nothing. */
	expect(mk_change(KPA, "2025-11-22T15:00:00Z", m, PL_MEASURE_SUSPENDED), PL_ERULE,
	       "a change of another party's measure");
	expect(mk_change(ROK, "2025-11-22T15:00:00Z", ex(6), PL_MEASURE_SUSPENDED), PL_ERULE,
	       "a change of a statement that is no measure");
	expect(mk_change(ROK, "2025-11-22T15:00:00Z", m, PL_MEASURE_RESUMED), PL_ERULE,
	       "a resume of a measure never suspended");
	expect(mk_change(ROK, "2025-11-22T15:00:00Z", m, PL_MEASURE_SUSPENDED), 0,
	       "a suspend of the measure");
	s1 = ex(lg.n);
	expect(mk_change(ROK, "2025-11-22T15:00:00Z", m, PL_MEASURE_ENDED), PL_ERULE,
	       "a second change of the same state (a fork)");
	expect(mk_change(ROK, "2025-11-22T15:00:00Z", s1, PL_MEASURE_SUSPENDED), PL_ERULE,
	       "a suspend of a suspended measure");
	expect(mk_change(ROK, "2025-11-22T16:00:00Z", s1, PL_MEASURE_RESUMED), 0,
	       "a resume of the suspended measure");
	expect(mk_change(ROK, "2025-11-22T17:00:00Z", ex(lg.n), PL_MEASURE_ENDED), 0,
	       "an end of the resumed measure");
	e1 = ex(lg.n);
	expect(mk_change(ROK, "2025-11-22T18:00:00Z", e1, PL_MEASURE_SUSPENDED), PL_ERULE,
	       "a suspend of an ended measure");
	expect(mk_change(ROK, "2025-11-22T18:00:00Z", e1, PL_MEASURE_RESUMED), PL_ERULE,
	       "a resume of an ended measure");
	r = mk_statement(KPA, "2025-11-22T18:00:00Z", PL_CLASS_MEASURE, "Noise off.\n");
	ref(r, PL_ROLE_RECIPROCATES, e1);
	expect(r, PL_ERULE, "a reciprocation of an ended measure");
}

static void test_registration_rules(void **state)
{
	(void)state;
	replay_doc();
	for (size_t i = 0; i < sizeof(key_steps) / sizeof(key_steps[0]); i++) {
		const struct key_step *k = &key_steps[i];
		struct pl_record *r = mk(EX, k->kind, "2025-11-24T00:00:00Z");
		snprintf(r->party, sizeof(r->party), "%s", k->party);
		r->has |= PL_RECORD_HAS_PARTY;
		r->keys[0] = vkeys[k->key];
		r->nkeys = 1;
		if (k->kind == PL_KIND_REGISTER) {
			r->has |= PL_RECORD_HAS_ENC;
			r->enc = ex(k->enc)->rec->enc;
		}
		if (k->rename)
			snprintf(r->enc.name, sizeof(r->enc.name), "%s", vkeys[k->key].name);
		expect(r, k->want, k->what);
	}
	assert_true(party_is_active(NULL, "dprk"));
}

/* ---- Several keys per party: rotation, return, eviction (docs/records.md §7) ---- */

/* The keys of the lifecycle table: the doc's, and new keys of rok-mnd and kpa. */
enum { K_ROK, K_UNC, K_KPA, K_ROK2, K_ROK3, K_ROK4, K_ROK5, K_KPA2, K_UNC2, NKEYS };
static const int key_party[NKEYS] = {ROK, UNC, KPA, ROK, ROK, ROK, ROK, KPA, UNC};

struct life_step {
	enum pl_record_kind kind;         /* register, revoke, or a statement signed by keys[0] */
	int party;                        /* of party_of[] */
	int keys[PL_RECORD_MAX_KEYS + 1]; /* K_ + 1 (0 ends the list) */
	const char *reason; /* a revoke with a reason: an eviction, the exchange's alone */
	int previous;       /* a register's `ref previous`: step number + 1, or -doc example */
	bool drop_last_sig; /* sign with every key, then drop the last signature line */
	int want;
	const char *what;
};

#define K(x) ((x) + 1)

static const struct life_step life_steps[] = {
        /* 0 */ {PL_KIND_REGISTER,
                 ROK,
                 {K(K_ROK2)},
                 NULL,
                 0,
                 false,
                 PL_ERULE,
                 "a new key signed by itself alone"},
        /* 1 */
        {PL_KIND_REGISTER,
         ROK,
         {K(K_ROK), K(K_ROK2)},
         NULL,
         0,
         true,
         PL_ENOKEY,
         "a register signed by only one of the two keys"},
        /* 2 */
        {PL_KIND_REGISTER,
         ROK,
         {K(K_ROK), K(K_ROK2)},
         NULL,
         0,
         false,
         0,
         "rotation: the new key with the signatures of the old and the new"},
        /* 3 */
        {PL_KIND_STATEMENT,
         ROK,
         {K(K_ROK2)},
         NULL,
         0,
         false,
         0,
         "the second key starts its own chain"},
        /* 4 */
        {PL_KIND_STATEMENT,
         ROK,
         {K(K_ROK)},
         NULL,
         0,
         false,
         0,
         "the first key goes on with its chain (overlap)"},
        /* 5 */
        {PL_KIND_REGISTER,
         ROK,
         {K(K_ROK), K(K_ROK3), K(K_ROK4)},
         NULL,
         0,
         false,
         0,
         "a third and a fourth key"},
        /* 6 */
        {PL_KIND_REGISTER, ROK, {K(K_ROK2), K(K_ROK5)}, NULL, 0, false, PL_ERULE, "a fifth key"},
        /* 7 */ {PL_KIND_REVOKE, ROK, {K(K_ROK)}, NULL, 0, false, 0, "the old key leaves"},
        /* 8 */
        {PL_KIND_STATEMENT,
         ROK,
         {K(K_ROK)},
         NULL,
         0,
         false,
         PL_ERULE,
         "a record signed after its key's revoke"},
        /* 9 */
        {PL_KIND_STATEMENT, ROK, {K(K_ROK2)}, NULL, 0, false, 0, "a record by a key still active"},
        /* 10 */
        {PL_KIND_REGISTER,
         ROK,
         {K(K_ROK2), K(K_ROK)},
         NULL,
         0,
         false,
         PL_ERULE,
         "a revoked key reused"},
        /* 11 */
        {PL_KIND_REVOKE,
         ROK,
         {K(K_ROK2)},
         "Lost with its device",
         0,
         false,
         PL_ERULE,
         "an eviction that leaves the party a key"},
        /* 12 */
        {PL_KIND_REVOKE,
         ROK,
         {K(K_ROK2), K(K_ROK3), K(K_ROK4)},
         NULL,
         0,
         true,
         PL_ENOKEY,
         "an eviction without reason"},
        /* 13 */
        {PL_KIND_REVOKE,
         ROK,
         {K(K_ROK2), K(K_ROK3), K(K_ROK4)},
         "Expelled by the other members",
         0,
         false,
         0,
         "the operator evicts rok-mnd"},
        /* 14 */
        {PL_KIND_STATEMENT,
         ROK,
         {K(K_ROK2)},
         NULL,
         0,
         false,
         PL_ERULE,
         "a record of an evicted party"},
        /* 15 */
        {PL_KIND_REGISTER,
         ROK,
         {K(K_ROK5)},
         NULL,
         0,
         false,
         PL_ERULE,
         "a return without a previous ref"},
        /* 16 */
        {PL_KIND_REGISTER,
         ROK,
         {K(K_ROK5)},
         NULL,
         -4,
         false,
         PL_ERULE,
         "a previous ref to a non-register"},
        /* 17 */
        {PL_KIND_REGISTER,
         ROK,
         {K(K_ROK5)},
         NULL,
         -2,
         false,
         PL_ERULE,
         "a previous ref to another party's register"},
        /* 18 */
        {PL_KIND_REGISTER,
         ROK,
         {K(K_ROK5)},
         NULL,
         6,
         false,
         0,
         "rok-mnd returns, after its register of step 5"},
        /* 19 */
        {PL_KIND_STATEMENT, ROK, {K(K_ROK5)}, NULL, 0, false, 0, "the returned party's key signs"},
        /* 20 */
        {PL_KIND_REGISTER,
         KPA,
         {K(K_KPA2)},
         NULL,
         -3,
         false,
         0,
         "kpa, revoked in the doc, returns"},
        /* 21 */
        {PL_KIND_REGISTER,
         UNC,
         {K(K_UNC), K(K_UNC2)},
         NULL,
         -2,
         false,
         PL_ERULE,
         "an active party does not return"},
};

/* Builds the record of step st (at time t) signed as it says, and appends it. */
static int life_submit(const struct life_step *st, const struct entry *const *done,
                       const struct pl_skey *sk, const struct pl_vkey *vk, int64_t t,
                       const char **why)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	struct pl_skey keys[PL_RECORD_MAX_KEYS + 2];
	struct pl_chain_link head;
	struct pl_buf b;
	size_t n = 0, nk = 0;
	int ret;

	assert_non_null(r);
	while (nk < PL_RECORD_MAX_KEYS + 1 && st->keys[nk])
		nk++;
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	r->time = t;
	if (st->kind == PL_KIND_STATEMENT) {
		const struct pl_vkey *k = &vk[st->keys[0] - 1];
		snprintf(r->author, sizeof(r->author), "%s", party_of[st->party]);
		r->kind = PL_KIND_STATEMENT;
		r->cls = PL_CLASS_STATEMENT;
		r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
		r->body_len = (size_t)snprintf(r->body, sizeof(r->body), "Signed by one key.\n");
		r->seq = 1;
		if (head_of(k, &head)) {
			r->seq = head.seq + 1;
			memcpy(r->prev, head.id, PL_RECORD_ID_BYTES);
			r->has |= PL_RECORD_HAS_PREV;
		}
		keys[n++] = sk[st->keys[0] - 1];
	} else {
		snprintf(r->author, sizeof(r->author), "%s", PL_RECORD_EXCHANGE);
		r->kind = st->kind;
		r->seq = 1;
		if (head_of(&vkeys[EX], &head)) {
			r->seq = head.seq + 1;
			memcpy(r->prev, head.id, PL_RECORD_ID_BYTES);
			r->has |= PL_RECORD_HAS_PREV;
		}
		r->has |= PL_RECORD_HAS_PARTY;
		snprintf(r->party, sizeof(r->party), "%s", party_of[st->party]);
		keys[n++] = skeys[EX];
		/* Key lines are sorted by their text; sign in that order. */
		for (size_t i = 0; i < nk; i++) {
			struct pl_buf x, y;
			size_t at = r->nkeys;
			pl_buf_init(&x, 512);
			pl_buf_init(&y, 512);
			assert_int_equal(pl_vkey_format(&vk[st->keys[i] - 1], &x), 0);
			while (at > 0) {
				pl_buf_reset(&y);
				assert_int_equal(pl_vkey_format(&r->keys[at - 1], &y), 0);
				if (strcmp(y.data, x.data) < 0)
					break;
				r->keys[at] = r->keys[at - 1];
				at--;
			}
			r->keys[at] = vk[st->keys[i] - 1];
			r->nkeys++;
			pl_buf_release(&x);
			pl_buf_release(&y);
		}
		if (st->kind == PL_KIND_REGISTER) {
			r->has |= PL_RECORD_HAS_ENC;
			r->enc = ex(1)->rec->enc;
			snprintf(r->enc.name, sizeof(r->enc.name), "%s", r->keys[0].name);
		}
		if (st->reason)
			reason(r, st->reason);
		if (st->previous < 0)
			pl_test_add_ref(r, PL_ROLE_PREVIOUS, ex((size_t)-st->previous)->id);
		else if (st->previous > 0)
			pl_test_add_ref(r, PL_ROLE_PREVIOUS, done[st->previous - 1]->id);
		for (size_t i = 0; i < r->nkeys && !st->reason; i++) {
			for (size_t j = 0; j < NKEYS; j++) {
				if (pl_vkey_equal(&vk[j], &r->keys[i]))
					keys[n++] = sk[j];
			}
		}
	}
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	if (st->drop_last_sig) {
		/* Every signature but the last: the note pl_record_sign() would refuse to make. */
		struct pl_buf text;
		pl_buf_init(&text, PL_RECORD_TEXT_MAX);
		assert_int_equal(pl_record_format(r, &text, why), 0);
		assert_int_equal(pl_note_sign(&b, text.data, text.len, keys, n - 1), 0);
		pl_buf_release(&text);
		ret = log_append(b.data, b.len, why);
	} else {
		ret = pl_record_sign(&b, r, keys, n, why);
		if (ret == 0)
			ret = log_append(b.data, b.len, why);
	}
	pl_buf_release(&b);
	sodium_memzero(keys, sizeof(keys));
	free(r);
	return ret;
}

static void test_key_lifecycle(void **state)
{
	struct pl_skey sk[NKEYS];
	struct pl_vkey vk[NKEYS];
	const struct entry *done[sizeof(life_steps) / sizeof(life_steps[0])];
	int64_t t = pl_test_time("2025-11-24T00:00:00Z");
	size_t active;
	bool known;

	(void)state;
	replay_doc();
	for (int i = 0; i < NKEYS; i++) {
		char name[PL_KEY_NAME_MAX + 1];
		if (i <= K_KPA) {
			sk[i] = skeys[i + 1];
			vk[i] = vkeys[i + 1];
			continue;
		}
		assert_int_equal(pl_record_key_name(name, ORIGIN, party_of[key_party[i]]), 0);
		assert_int_equal(pl_key_generate(&sk[i], &vk[i], name, PL_SIGTYPE_ED25519), 0);
	}
	for (size_t i = 0; i < sizeof(life_steps) / sizeof(life_steps[0]); i++) {
		const struct life_step *st = &life_steps[i];
		const char *why = NULL;
		int ret = life_submit(st, done, sk, vk, t + (int64_t)i, &why);
		if (ret != st->want)
			fail_msg("step %zu, %s: got %s (%s), want %s", i, st->what,
			         pl_strerror(ret), why ? why : "", pl_strerror(st->want));
		done[i] = ret == 0 ? &lg.e[lg.n - 1] : NULL;
	}
	party_keys("rok-mnd", &active, &known);
	assert_int_equal(active, 1);
	assert_true(known);
	assert_true(party_is_active(NULL, "kpa"));
	sodium_memzero(sk, sizeof(sk));
}

static void test_chain_rules(void **state)
{
	struct pl_record *r;

	(void)state;
	replay_doc();
	r = mk(UNC, PL_KIND_RECEIVE, "2025-11-23T00:00:00Z");
	ref(r, PL_ROLE_SUBJECT, ex(15));
	r->seq++;
	expect(r, PL_ECHAIN, "seq skips one");
	r = mk(UNC, PL_KIND_RECEIVE, "2025-11-23T00:00:00Z");
	ref(r, PL_ROLE_SUBJECT, ex(15));
	r->seq--;
	expect(r, PL_ECHAIN, "seq reused: a fork");
	r = mk(UNC, PL_KIND_RECEIVE, "2025-11-23T00:00:00Z");
	ref(r, PL_ROLE_SUBJECT, ex(15));
	r->prev[0] ^= 1;
	expect(r, PL_ECHAIN, "prev is not the head");
	r = mk(UNC, PL_KIND_RECEIVE, "2025-11-23T00:00:00Z");
	ref(r, PL_ROLE_SUBJECT, ex(15));
	expect(r, 0, "receive that follows the head");
	/* The doc's first exchange record again: a fork of seq 1. */
	{
		const char *why;
		struct pl_record *first = calloc(1, sizeof(*first));
		assert_non_null(first);
		*first = *ex(1)->rec;
		first->time += 1;
		assert_int_equal(submit(first, &why), PL_ECHAIN);
	}
}

/* Inputs the rules refuse as caller errors. */
static void test_bad_input(void **state)
{
	struct pl_rules_input in;
	const struct pl_record *refs[1], *sib[1];
	struct pl_chain_link head;
	const char *why = NULL;

	(void)state;
	replay_doc();
	assert_int_equal(pl_rules_check(NULL, &why), PL_EINVAL);
	memset(&in, 0, sizeof(in));
	assert_int_equal(pl_rules_check(&in, &why), PL_EINVAL);
	/* The receive of example 9 judged with example 7 as its ref and example 8 as sibling. */
	in.rec = ex(9)->rec;
	in.id = ex(9)->id;
	in.signer = PL_KEY_ACTIVE;
	pl_chain_link_set(&head, ex(5)->rec, ex(5)->id); /* unc's head before 9 */
	in.head = &head;
	assert_int_equal(pl_rules_check(&in, &why), PL_EINVAL); /* refs missing */
	refs[0] = ex(7)->rec;
	in.refs = refs;
	sib[0] = ex(8)->rec;
	in.siblings = sib;
	in.nsiblings = 1;
	assert_int_equal(pl_rules_check(&in, &why), 0);
	/* Unknown and revoked signers. */
	in.signer = PL_KEY_UNKNOWN;
	assert_int_equal(pl_rules_check(&in, &why), PL_ERULE);
	in.signer = PL_KEY_REVOKED;
	assert_int_equal(pl_rules_check(&in, &why), PL_ERULE);
	in.signer = PL_KEY_ACTIVE;
	/* A sibling about another send. */
	sib[0] = ex(13)->rec;
	assert_int_equal(pl_rules_check(&in, &why), PL_EINVAL);
	/* No sibling: not made available. */
	in.nsiblings = 0;
	assert_int_equal(pl_rules_check(&in, &why), PL_ERULE);
	/* A NULL ref: a record not in the log. */
	refs[0] = NULL;
	in.nsiblings = 1;
	sib[0] = ex(8)->rec;
	assert_int_equal(pl_rules_check(&in, &why), PL_ERULE);
	/* A ref to a record of another exchange. */
	{
		struct pl_record *other = calloc(1, sizeof(*other));
		assert_non_null(other);
		*other = *ex(7)->rec;
		snprintf(other->exchange, sizeof(other->exchange), "other.example");
		refs[0] = other;
		assert_int_equal(pl_rules_check(&in, &why), PL_ERULE);
		assert_string_equal(why, "refers to a record of another exchange");
		free(other);
	}
	/* A register without key statuses. */
	memset(&in, 0, sizeof(in));
	in.rec = ex(1)->rec;
	in.id = ex(1)->id;
	in.signer = PL_KEY_ACTIVE;
	assert_int_equal(pl_rules_check(&in, &why), PL_EINVAL);
}

PL_TEST_MAIN(setup, teardown, cmocka_unit_test(test_doc_replay), cmocka_unit_test(test_relay_rules),
             cmocka_unit_test(test_expire_rules), cmocka_unit_test(test_reply_and_refs),
             cmocka_unit_test(test_index_rules), cmocka_unit_test(test_consult_and_check_rules),
             cmocka_unit_test(test_line_chain_rules), cmocka_unit_test(test_registration_rules),
             cmocka_unit_test(test_key_lifecycle), cmocka_unit_test(test_chain_rules),
             cmocka_unit_test(test_bad_input), cmocka_unit_test(test_group_rules))
