/*
 * Unit tests of records: the examples of docs/records.md (generated here from fixed keys and
 * compared byte for byte), round trips of every kind, tables of grammar, kind and signature
 * faults, limits, and the id helpers. Run with --examples to print the doc's example section.
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

#include <parley/box.h>
#include <parley/encoding.h>
#include <parley/note.h>
#include <parley/party.h>
#include <parley/record.h>
#include <parley/timestamp.h>
#include <parley/tindex.h>

#include "testutil.h"

#define ORIGIN "hotline.example"

/* ---- Fixed test keys ------------------------------------------------------ */

/*
 * The example parties. Signing seed: SHA-256 of the key name. Encryption
 * secret: SHA-256 of "x25519 " followed by the key name.
 */
enum { EX, ROK, UNC, KPA, NACTORS };

struct actor {
	const char *party;
	char keyname[PL_KEY_NAME_MAX + 1];
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_party_ekey ek;
	uint64_t seq;
	uint8_t head[PL_RECORD_ID_BYTES];
};

static struct actor actors[NACTORS] = {
        [EX] = {.party = "exchange"},
        [ROK] = {.party = "rok-mnd"},
        [UNC] = {.party = "unc"},
        [KPA] = {.party = "kpa"},
};

static void setup_actors(void)
{
	for (int i = 0; i < NACTORS; i++) {
		struct actor *a = &actors[i];
		char label[PL_KEY_NAME_MAX + 16];
		uint8_t secret[32];
		struct pl_box_keypair kp;
		assert_int_equal(pl_record_key_name(a->keyname, ORIGIN, a->party), 0);
		pl_test_fixed_key(&a->sk, &a->vk, a->keyname, PL_SIGTYPE_ED25519);
		snprintf(label, sizeof(label), "x25519 %s", a->keyname);
		pl_sha256(secret, label, strlen(label));
		assert_int_equal(pl_box_keypair_from_secret(&kp, secret), 0);
		memset(&a->ek, 0, sizeof(a->ek));
		memcpy(a->ek.name, a->keyname, strlen(a->keyname) + 1);
		memcpy(a->ek.pk, kp.pk, sizeof(a->ek.pk));
		pl_box_keypair_clear(&kp);
		a->seq = 0;
	}
}

static void label_hash(uint8_t out[32], const char *what, int n)
{
	char label[64];

	snprintf(label, sizeof(label), "%s %d", what, n);
	pl_sha256(out, label, strlen(label));
}

/* ---- The example log of docs/records.md ---------------------------------- */

struct example {
	const char *title;
	char *note;
	size_t len;
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_record rec;
};

#define MAX_EXAMPLES 40
static struct example examples[MAX_EXAMPLES];
static size_t nexamples;

/* Fills the lines every record has; the caller adds the kind's own lines. */
static struct pl_record *draft(int who, enum pl_record_kind kind, const char *time)
{
	struct pl_record *r = &examples[nexamples].rec;

	assert_true(nexamples < MAX_EXAMPLES);
	memset(r, 0, sizeof(*r));
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", actors[who].party);
	r->seq = actors[who].seq + 1;
	if (r->seq > 1) {
		memcpy(r->prev, actors[who].head, PL_RECORD_ID_BYTES);
		r->has |= PL_RECORD_HAS_PREV;
	}
	r->time = pl_test_time(time);
	r->kind = kind;
	return r;
}

/* Signs the drafted record (with the party's self-signature for register/revoke) and keeps it. */
static struct example *commit_example(int who, int party, const char *title)
{
	struct example *e = &examples[nexamples];
	struct pl_skey keys[2];
	struct pl_buf b;
	const char *why = NULL;
	size_t nkeys = 1;
	int ret;

	keys[0] = actors[who].sk;
	if (party >= 0)
		keys[nkeys++] = actors[party].sk;
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	ret = pl_record_sign(&b, &e->rec, keys, nkeys, &why);
	if (ret != 0)
		fail_msg("example %zu: %s", nexamples + 1, why);
	e->note = pl_buf_detach(&b, &e->len);
	assert_non_null(e->note);
	pl_record_id(e->id, e->note, e->len);
	e->title = title;
	actors[who].seq++;
	memcpy(actors[who].head, e->id, PL_RECORD_ID_BYTES);
	nexamples++;
	sodium_memzero(keys, sizeof(keys));
	return e;
}

static void add_ref(struct pl_record *r, enum pl_ref_role role, const struct example *e)
{
	pl_test_add_ref(r, role, e->id);
}

static void set_payload(struct pl_record *r, int n, uint64_t size)
{
	label_hash(r->payload, "payload", n);
	r->payload_size = size;
	label_hash(r->commit, "commit", n);
	r->has |= PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT;
}

static void set_reason(struct pl_record *r, const char *reason)
{
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	r->has |= PL_RECORD_HAS_REASON;
}

static void set_body(struct pl_record *r, const char *body)
{
	r->body_len = (size_t)snprintf(r->body, sizeof(r->body), "%s", body);
	r->has |= PL_RECORD_HAS_BODY;
}

static void set_class(struct pl_record *r, enum pl_record_class c)
{
	r->cls = c;
	r->has |= PL_RECORD_HAS_CLASS;
}

static void set_line(struct pl_record *r, const char *line)
{
	snprintf(r->line, sizeof(r->line), "%s", line);
	r->has |= PL_RECORD_HAS_LINE;
}

static void registration(int party, enum pl_record_kind kind, const char *time, bool enc,
                         const char *title)
{
	struct pl_record *r = draft(EX, kind, time);

	snprintf(r->party, sizeof(r->party), "%s", actors[party].party);
	r->has |= PL_RECORD_HAS_PARTY;
	r->keys[0] = actors[party].vk;
	r->nkeys = 1;
	if (enc) {
		r->enc = actors[party].ek;
		r->has |= PL_RECORD_HAS_ENC;
	}
	commit_example(EX, party, title);
}

/*
 * The root of the thread index of the examples so far, as a log from index 0:
 * every distinct ref of the example at index i is the entry (i, its id).
 */
static void index_root(uint8_t root[static PL_HASH_BYTES])
{
	struct pl_tindex_memstore *m = NULL;
	struct pl_tindex *t = NULL;
	struct pl_tindex_store st;
	struct pl_tindex_ref refs[MAX_EXAMPLES * PL_RECORD_MAX_REFS];
	size_t n = 0;

	for (size_t i = 0; i < nexamples; i++) {
		const struct pl_record *r = &examples[i].rec;
		for (size_t k = 0; k < r->nrefs; k++) {
			/* refs are sorted and distinct by text; one record names an id once here */
			memcpy(refs[n].key, r->refs[k].id, PL_HASH_BYTES);
			memcpy(refs[n].id, examples[i].id, PL_HASH_BYTES);
			refs[n].index = i;
			n++;
		}
	}
	assert_int_equal(pl_tindex_memstore_new(&m), 0);
	st = pl_tindex_memstore_store(m);
	assert_int_equal(pl_tindex_open(&t, &st), 0);
	assert_int_equal(pl_tindex_update(t, refs, n), 0);
	pl_tindex_root(t, root);
	pl_tindex_free(t);
	pl_tindex_memstore_free(m);
}

/* Builds the example log: one coherent history that uses every kind. */
static void build_examples(void)
{
	struct pl_record *r;
	struct example *consult, *advise, *s1, *decline, *s2, *s3, *s4, *check;

	for (size_t i = 0; i < nexamples; i++)
		free(examples[i].note);
	nexamples = 0;
	setup_actors();

	registration(ROK, PL_KIND_REGISTER, "2025-11-10T09:00:00Z", true,
	             "register: the exchange enters rok-mnd's keys in the directory");
	registration(UNC, PL_KIND_REGISTER, "2025-11-10T09:05:00Z", true, "register: unc");
	registration(KPA, PL_KIND_REGISTER, "2025-11-10T09:10:00Z", true, "register: kpa");

	r = draft(ROK, PL_KIND_CONSULT, "2025-11-14T10:00:00Z");
	pl_test_add_to(r, "unc");
	pl_test_set_deadline(r, "2025-11-16T12:00:00Z");
	set_payload(r, 1, 1210);
	consult = commit_example(ROK, -1, "consult: rok-mnd shows unc a draft proposal");

	r = draft(UNC, PL_KIND_ADVISE, "2025-11-15T08:00:00Z");
	add_ref(r, PL_ROLE_CONSULT, consult);
	set_reason(r, "The Command takes no part in inter-Korean talks");
	r->position = PL_POSITION_NOTED;
	r->has |= PL_RECORD_HAS_POSITION;
	advise = commit_example(UNC, -1, "advise: unc notes the draft");

	r = draft(ROK, PL_KIND_STATEMENT, "2025-11-17T01:00:00Z");
	set_class(r, PL_CLASS_STATEMENT);
	add_ref(r, PL_ROLE_CITES, consult);
	add_ref(r, PL_ROLE_CITES, advise);
	if (memcmp(consult->id, advise->id, PL_RECORD_ID_BYTES) > 0) {
		struct pl_record_ref t = r->refs[0];
		r->refs[0] = r->refs[1];
		r->refs[1] = t;
	}
	set_body(r, "The Ministry of National Defense proposes military talks with the North\n"
	            "to reset the baseline of the Military Demarcation Line.\n");
	commit_example(ROK, -1, "statement: rok-mnd's public proposal, citing the consultation");

	r = draft(ROK, PL_KIND_SEND, "2025-11-17T01:05:00Z");
	set_class(r, PL_CLASS_PROPOSAL);
	pl_test_add_to(r, "kpa");
	pl_test_set_via(r, "unc");
	pl_test_set_deadline(r, "2025-11-24T00:00:00Z");
	set_payload(r, 2, 1830);
	s1 = commit_example(ROK, -1,
	                    "send: rok-mnd's proposal to kpa, via unc, reply by 24 November");

	r = draft(EX, PL_KIND_AVAILABLE, "2025-11-17T01:05:01Z");
	pl_test_add_to(r, "unc");
	add_ref(r, PL_ROLE_SUBJECT, s1);
	commit_example(EX, -1, "available: the exchange made it available to unc");

	r = draft(UNC, PL_KIND_RECEIVE, "2025-11-17T01:06:00Z");
	add_ref(r, PL_ROLE_SUBJECT, s1);
	commit_example(UNC, -1, "receive: unc's agent fetched it");

	r = draft(UNC, PL_KIND_DECLINE, "2025-11-18T09:00:00Z");
	add_ref(r, PL_ROLE_SUBJECT, s1);
	set_reason(r, "Outside the Armistice channel's remit");
	decline = commit_example(UNC, -1, "decline: unc will not pass it on");

	r = draft(UNC, PL_KIND_STATEMENT, "2025-11-20T10:00:00Z");
	set_class(r, PL_CLASS_STATEMENT);
	add_ref(r, PL_ROLE_CITES, decline);
	set_body(r, "We have not conveyed any messages or proposals specific to inter-Korean "
	            "dialogue.\n");
	commit_example(UNC, -1, "statement: unc's public account, citing its decline");

	r = draft(UNC, PL_KIND_SEND, "2025-11-20T11:00:00Z");
	set_class(r, PL_CLASS_MESSAGE);
	pl_test_add_to(r, "kpa");
	pl_test_set_deadline(r, "2025-11-21T12:00:00Z");
	set_payload(r, 3, 905);
	s2 = commit_example(UNC, -1, "send: unc's own message to kpa on the direct line");

	r = draft(EX, PL_KIND_AVAILABLE, "2025-11-20T11:00:01Z");
	pl_test_add_to(r, "kpa");
	add_ref(r, PL_ROLE_SUBJECT, s2);
	commit_example(EX, -1, "available: made available to kpa");

	r = draft(KPA, PL_KIND_ACCEPT, "2025-11-20T11:30:00Z");
	add_ref(r, PL_ROLE_SUBJECT, s2);
	commit_example(KPA, -1, "accept: kpa accepts it");

	r = draft(ROK, PL_KIND_SEND, "2025-11-21T09:00:00Z");
	set_class(r, PL_CLASS_LETTER);
	pl_test_add_to(r, "kpa");
	pl_test_set_via(r, "unc");
	pl_test_set_deadline(r, "2025-11-27T00:00:00Z");
	set_payload(r, 4, 2410);
	s3 = commit_example(ROK, -1, "send: a letter from rok-mnd to kpa, via unc");

	r = draft(EX, PL_KIND_AVAILABLE, "2025-11-21T09:00:01Z");
	pl_test_add_to(r, "unc");
	add_ref(r, PL_ROLE_SUBJECT, s3);
	commit_example(EX, -1, "available: made available to unc");

	r = draft(UNC, PL_KIND_CONVEY, "2025-11-21T10:00:00Z");
	add_ref(r, PL_ROLE_SUBJECT, s3);
	commit_example(UNC, -1, "convey: unc passes it on");

	r = draft(EX, PL_KIND_AVAILABLE, "2025-11-21T10:00:01Z");
	pl_test_add_to(r, "kpa");
	add_ref(r, PL_ROLE_SUBJECT, s3);
	commit_example(EX, -1, "available: now made available to kpa");

	r = draft(KPA, PL_KIND_REFUSE, "2025-11-21T10:10:00Z");
	add_ref(r, PL_ROLE_SUBJECT, s3);
	set_reason(r, "Not accepted through this channel");
	commit_example(KPA, -1, "refuse: kpa refuses the letter without opening it");

	r = draft(ROK, PL_KIND_SEND, "2025-11-21T11:00:00Z");
	set_class(r, PL_CLASS_PROPOSAL);
	pl_test_add_to(r, "kpa");
	pl_test_set_deadline(r, "2025-11-22T00:00:00Z");
	set_payload(r, 5, 1544);
	s4 = commit_example(ROK, -1, "send: a proposal straight to kpa, reply by 22 November");

	r = draft(EX, PL_KIND_AVAILABLE, "2025-11-21T11:00:01Z");
	pl_test_add_to(r, "kpa");
	add_ref(r, PL_ROLE_SUBJECT, s4);
	commit_example(EX, -1, "available: made available to kpa");

	r = draft(EX, PL_KIND_EXPIRE, "2025-11-22T00:00:01Z");
	pl_test_add_to(r, "kpa");
	add_ref(r, PL_ROLE_SUBJECT, s4);
	commit_example(EX, -1, "expire: the deadline passed with no accept or refuse");

	r = draft(EX, PL_KIND_CHECK, "2025-11-22T09:00:00Z");
	set_line(r, "unc-kpa");
	pl_test_add_to(r, "kpa");
	pl_test_add_to(r, "unc");
	pl_test_set_deadline(r, "2025-11-22T09:15:00Z");
	check = commit_example(EX, -1, "check: the morning check of the unc-kpa line");

	r = draft(UNC, PL_KIND_ANSWER, "2025-11-22T09:00:20Z");
	set_line(r, "unc-kpa");
	add_ref(r, PL_ROLE_CHECK, check);
	commit_example(UNC, -1, "answer: unc's end answers");

	r = draft(EX, PL_KIND_UNANSWERED, "2025-11-22T09:15:00Z");
	set_line(r, "unc-kpa");
	pl_test_add_to(r, "kpa");
	add_ref(r, PL_ROLE_CHECK, check);
	commit_example(EX, -1, "unanswered: kpa's end did not answer");

	r = draft(ROK, PL_KIND_GROUP, "2025-11-22T10:00:00Z");
	pl_test_add_to(r, "rok-mnd");
	pl_test_add_to(r, "unc");
	snprintf(r->group, sizeof(r->group), "%s", "allies-unc-rok");
	snprintf(r->about[r->nabout++], sizeof(r->about[0]), "%s", "kpa");
	r->window_days = 7;
	r->has |= PL_RECORD_HAS_GROUP | PL_RECORD_HAS_WINDOW;
	commit_example(ROK, -1,
	               "group: rok-mnd forms a coordination group with unc about kpa, whose "
	               "members consult each other within 7 days before signalling kpa");

	registration(KPA, PL_KIND_REVOKE, "2025-11-23T00:00:00Z", true,
	             "revoke: kpa's keys leave the directory");

	r = draft(EX, PL_KIND_INDEX, "2025-11-23T00:00:00Z");
	index_root(r->index_root);
	r->has |= PL_RECORD_HAS_ROOT;
	commit_example(EX, -1,
	               "index: the exchange commits to the thread index of every record above, "
	               "as the last entry of the batch");

	r = draft(EX, PL_KIND_MISSED, "2025-11-23T00:00:00Z");
	set_line(r, "unc-kpa");
	pl_test_add_to(r, "kpa");
	pl_test_add_to(r, "unc");
	r->due = pl_test_time("2025-11-22T21:00:00Z");
	r->has |= PL_RECORD_HAS_DUE;
	commit_example(EX, -1,
	               "missed: back after an outage, the exchange records the evening check of "
	               "the unc-kpa line that fell due while it was down");
}

/* Everyone's verifier keys: the directory the examples verify against. */
static void directory(struct pl_vkey dir[NACTORS])
{
	for (int i = 0; i < NACTORS; i++)
		dir[i] = actors[i].vk;
}

static int setup(void **state)
{
	(void)state;
	build_examples();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < nexamples; i++)
		free(examples[i].note);
	nexamples = 0;
	return 0;
}

static const struct example *example_of(enum pl_record_kind k)
{
	for (size_t i = 0; i < nexamples; i++) {
		if (examples[i].rec.kind == k)
			return &examples[i];
	}
	fail_msg("no example of kind %d", (int)k);
	return &examples[0]; /* not reached: fail_msg() does not return */
}

/* ---- docs/records.md ----------------------------------------------------- */

/* Every ```record block of the spec is a valid signed record, and the blocks are the examples. */
static void test_doc_examples(void **state)
{
	struct pl_vkey dir[NACTORS];
	size_t doclen, pos = 0, len, n = 0;
	char *doc = pl_test_read_file(PL_DOCS_DIR "/records.md", &doclen);
	char *block;
	bool kinds[PL_KIND_COUNT + 1] = {false};

	(void)state;
	directory(dir);
	while ((block = pl_test_next_record_block(doc, &pos, &len)) != NULL) {
		struct pl_record r;
		uint8_t id[PL_RECORD_ID_BYTES];
		const char *why = NULL;
		int ret = pl_record_open(&r, id, NULL, block, len, dir, NACTORS, &why);
		if (ret != 0)
			fail_msg("doc example %zu: %s (%s)", n + 1, pl_strerror(ret), why);
		kinds[r.kind] = true;
		assert_true(n < nexamples);
		if (len != examples[n].len || memcmp(block, examples[n].note, len) != 0)
			fail_msg("doc example %zu differs from the generated one: run "
			         "test_record --examples",
			         n + 1);
		free(block);
		n++;
	}
	assert_int_equal(n, nexamples);
	for (int k = 1; k <= PL_KIND_COUNT; k++) {
		if (!kinds[k])
			fail_msg("no doc example of kind %s", pl_record_kind_name(k));
	}
	free(doc);
}

/* ---- Round trips ----------------------------------------------------------- */

static void test_round_trip_every_kind(void **state)
{
	struct pl_vkey dir[NACTORS];

	(void)state;
	directory(dir);
	for (size_t i = 0; i < nexamples; i++) {
		const struct example *e = &examples[i];
		struct pl_note *note = NULL;
		struct pl_record *r = calloc(1, sizeof(*r)), *o = calloc(1, sizeof(*o));
		struct pl_buf text, again;
		struct pl_vkey signer;
		uint8_t id[PL_RECORD_ID_BYTES];
		const char *why = NULL;

		assert_non_null(r);
		assert_non_null(o);
		assert_int_equal(pl_note_parse(&note, e->note, e->len), 0);
		/* text -> struct -> text is the identity. */
		assert_int_equal(pl_record_parse(r, note->text, note->text_len, &why), 0);
		pl_buf_init(&text, PL_RECORD_TEXT_MAX);
		assert_int_equal(pl_record_format(r, &text, &why), 0);
		assert_int_equal(text.len, note->text_len);
		assert_memory_equal(text.data, note->text, text.len);
		/* struct -> text of the generator's struct too. */
		pl_buf_init(&again, PL_RECORD_TEXT_MAX);
		assert_int_equal(pl_record_format(&e->rec, &again, &why), 0);
		assert_string_equal(again.data, text.data);
		/* Open gives the same record, the id, and the author's key. */
		assert_int_equal(
		        pl_record_open(o, id, &signer, e->note, e->len, dir, NACTORS, &why), 0);
		assert_memory_equal(id, e->id, PL_RECORD_ID_BYTES);
		pl_buf_reset(&again);
		assert_int_equal(pl_record_format(o, &again, &why), 0);
		assert_string_equal(again.data, text.data);
		assert_string_equal(signer.name, note->sigs[0].name);
		assert_int_equal(o->kind, e->rec.kind);
		assert_int_equal(o->has, e->rec.has);
		pl_buf_release(&text);
		pl_buf_release(&again);
		pl_note_free(note);
		free(r);
		free(o);
	}
}

/* ---- Grammar faults ------------------------------------------------------ */

/*
 * Returns a malloc'd copy of s with the first occurrence of find replaced by
 * rep. A find ending in '*' matches from its prefix to the end of that line,
 * newline included; "$" is the end of s.
 */
static char *replace(const char *s, const char *find, const char *rep)
{
	size_t n = strlen(s), f = strlen(find), k = strlen(rep), off;
	const char *hit;
	char *out;

	if (strcmp(find, "$") == 0) {
		hit = s + n;
		f = 0;
	} else if (find[f - 1] == '*') {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(f - 1), find);
		hit = strstr(s, prefix);
		if (hit)
			f = (size_t)(strchr(hit, '\n') - hit) + 1;
	} else {
		hit = strstr(s, find);
	}
	if (!hit)
		fail_msg("\"%s\" not found in the base record", find);
	off = (size_t)(hit - s);
	out = malloc(n - f + k + 1);
	assert_non_null(out);
	memcpy(out, s, off);
	memcpy(out + off, rep, k);
	memcpy(out + off + k, s + off + f, n - off - f + 1);
	return out;
}

/* The text of an example (without its signatures), malloc'd. */
static char *text_of(const struct example *e)
{
	struct pl_note *n = NULL;
	char *t;

	assert_int_equal(pl_note_parse(&n, e->note, e->len), 0);
	t = strdup(n->text);
	assert_non_null(t);
	pl_note_free(n);
	return t;
}

#define ID_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_0 "0000000000000000000000000000000000000000000000000000000000000000"

static const struct {
	const char *what, *find, *rep;
	int want;
} send_faults[] = {
        {"version line", "parley/record/v1\n", "parley/record/v2\n", PL_EMALFORMED},
        {"no version line", "parley/record/v1\n", "", PL_EMALFORMED},
        {"lines out of order", "to kpa\nvia unc\n", "via unc\nto kpa\n", PL_EMALFORMED},
        {"exchange after author", "exchange hotline.example\nauthor rok-mnd\n",
         "author rok-mnd\nexchange hotline.example\n", PL_EMALFORMED},
        {"duplicate line", "kind send\n", "kind send\nkind send\n", PL_EMALFORMED},
        {"duplicate to", "to kpa\n", "to kpa\nto kpa\n", PL_EMALFORMED},
        {"unsorted to", "to kpa\n", "to kpa\nto dprk\n", PL_EMALFORMED},
        {"unknown line", "kind send\n", "kind send\ncolour red\n", PL_EMALFORMED},
        {"upper-case key", "kind send\n", "Kind send\n", PL_EMALFORMED},
        {"missing kind", "kind send\n", "", PL_EMALFORMED},
        {"missing exchange", "exchange hotline.example\n", "", PL_EMALFORMED},
        {"missing seq", "seq 3\n", "", PL_EMALFORMED},
        {"line without value", "via unc\n", "via\n", PL_EMALFORMED},
        {"empty value", "via unc\n", "via \n", PL_EMALFORMED},
        {"trailing space", "via unc\n", "via unc \n", PL_EMALFORMED},
        {"double space", "via unc\n", "via  unc\n", PL_EMALFORMED},
        {"bad time", "time 2025-11-17T01:05:00Z", "time 2025-11-17T25:05:00Z", PL_EMALFORMED},
        {"time with offset", "time 2025-11-17T01:05:00Z", "time 2025-11-17T01:05:00+00:00",
         PL_EMALFORMED},
        {"bad deadline", "deadline 2025-11-24T00:00:00Z", "deadline 2025-11-31T00:00:00Z",
         PL_EMALFORMED},
        {"seq 0", "seq 3\n", "seq 0\n", PL_EMALFORMED},
        {"seq leading zero", "seq 3\n", "seq 02\n", PL_EMALFORMED},
        {"seq sign", "seq 3\n", "seq +2\n", PL_EMALFORMED},
        {"seq too large", "seq 3\n", "seq 9223372036854775808\n", PL_EMALFORMED},
        {"prev upper-case", "prev *",
         "prev 0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n", PL_EMALFORMED},
        {"prev short", "prev *", "prev 0123\n", PL_EMALFORMED},
        {"prev two dashes", "prev *", "prev --\n", PL_EMALFORMED},
        {"unknown kind", "kind send\n", "kind post\n", PL_EMALFORMED},
        {"unknown class", "class proposal\n", "class memo\n", PL_EMALFORMED},
        {"reserved party", "to kpa\n", "to exchange\n", PL_EMALFORMED},
        {"upper-case party", "to kpa\n", "to KPA\n", PL_EMALFORMED},
        {"leading hyphen", "via unc\n", "via -unc\n", PL_EMALFORMED},
        {"trailing hyphen", "via unc\n", "via unc-\n", PL_EMALFORMED},
        {"underscore", "via unc\n", "via u_nc\n", PL_EMALFORMED},
        {"name of 64", "via unc\n",
         "via aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", PL_EMALFORMED},
        {"origin with plus", "exchange hotline.example\n", "exchange hot+line\n", PL_EMALFORMED},
        {"origin with space", "exchange hotline.example\n", "exchange hot line\n", PL_EMALFORMED},
        {"payload size 0", " 1830\n", " 0\n", PL_EMALFORMED},
        {"payload size missing", " 1830\n", "\n", PL_EMALFORMED},
        {"payload size huge", " 1830\n", " 99999999999\n", PL_EMALFORMED},
        {"payload hash short", "payload ", "payload AAAA", PL_EMALFORMED},
        {"commit not base64", "commit ", "commit !", PL_EMALFORMED},
        {"commit 31 bytes", "commit *", "commit AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
         PL_EMALFORMED},
        {"commit with padding bits", "commit *",
         "commit AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", PL_EMALFORMED},
        {"ref unknown role", "payload ", "ref answers " ID_A "\npayload ", PL_EMALFORMED},
        {"ref upper-case id", "payload ",
         "ref reply-to 0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\npayload ",
         PL_EMALFORMED},
        {"ref short id", "payload ", "ref reply-to 0123\npayload ", PL_EMALFORMED},
        {"ref no id", "payload ", "ref reply-to\npayload ", PL_EMALFORMED},
        {"a line after the last allowed one", "$", "class letter\n", PL_EMALFORMED},
        {"state ended parses", "$", "state ended\n", 0},
        {"state announced is never written", "$", "state announced\n", PL_EMALFORMED},
        {"unknown state", "$", "state paused\n", PL_EMALFORMED},
        {"state upper-case", "$", "state Ended\n", PL_EMALFORMED},
        {"window parses", "$", "window 30\n", 0},
        {"window 0", "$", "window 0\n", PL_EMALFORMED},
        {"window 366", "$", "window 366\n", PL_EMALFORMED},
        {"group line parses", "$", "group allies\n", 0},
        {"group name with a space", "$", "group al lies\n", PL_EMALFORMED},
        {"about parses", "$", "about kpa\n", 0},
        {"about the exchange", "$", "about exchange\n", PL_EMALFORMED},
        {"about unsorted", "$", "about kpa\nabout dprk\n", PL_EMALFORMED},
        {"about after window", "$", "window 3\nabout kpa\n", PL_EMALFORMED},
        {"state before window", "$", "state ended\nwindow 3\n", PL_EMALFORMED},
        {"ref reciprocates parses", "payload ", "ref reciprocates " ID_A "\npayload ", 0},
        {"ref changes parses", "payload ", "ref changes " ID_A "\npayload ", 0},
        {"ref group parses", "payload ", "ref group " ID_A "\npayload ", 0},
        {"CRLF", "kind send\n", "kind send\r\n", PL_EMALFORMED},
        {"CR", "kind send\n", "kind send\r", PL_EMALFORMED},
        {"tab", "via unc\n", "via\tunc\n", PL_EMALFORMED},
        {"SOH", "via unc\n", "via u\001nc\n", PL_EMALFORMED},
        {"DEL", "via unc\n", "via unc\x7f\n", PL_EMALFORMED},
        {"invalid UTF-8", "via unc\n", "via unc\xff\n", PL_EMALFORMED},
        {"overlong UTF-8", "via unc\n", "via unc\xc0\xaf\n", PL_EMALFORMED},
        {"byte order mark", "parley", "\xef\xbb\xbfparley", PL_EMALFORMED},
};

/* Characters that may not appear, placed in the body of a statement where text is free. */
static const struct {
	const char *what, *rep;
} body_faults[] = {
        {"C1 control", "North\xc2\x85\n"},
        {"bidi override", "North\xe2\x80\xae\n"},
        {"bidi isolate", "North\xe2\x81\xa6\n"},
        {"left-to-right mark", "North\xe2\x80\x8e\n"},
        {"line separator", "North\xe2\x80\xa8\n"},
        {"byte order mark", "North\xef\xbb\xbf\n"},
        {"tab", "North\t\n"},
        {"CR", "North\r\n"},
        {"DEL", "North\x7f\n"},
        {"invalid UTF-8", "North\xe2\x80\n"},
        {"surrogate", "North\xed\xa0\x80\n"},
        {"escape", "North\x1b[31m\n"},
};

static void test_body_faults(void **state)
{
	char *base = text_of(example_of(PL_KIND_STATEMENT));
	struct pl_record r;

	(void)state;
	for (size_t i = 0; i < sizeof(body_faults) / sizeof(body_faults[0]); i++) {
		char *t = replace(base, "North\n", body_faults[i].rep);
		const char *why = NULL;
		int ret = pl_record_parse(&r, t, strlen(t), &why);
		if (ret != PL_EMALFORMED)
			fail_msg("%s: got %s", body_faults[i].what, pl_strerror(ret));
		free(t);
	}
	free(base);
}

static void test_send_faults(void **state)
{
	char *base = text_of(example_of(PL_KIND_SEND));
	struct pl_record r;

	(void)state;
	for (size_t i = 0; i < sizeof(send_faults) / sizeof(send_faults[0]); i++) {
		char *t = replace(base, send_faults[i].find, send_faults[i].rep);
		const char *why = NULL;
		int ret;
		memset(&r, 0x5a, sizeof(r.has));
		ret = pl_record_parse(&r, t, strlen(t), &why);
		if (ret != send_faults[i].want)
			fail_msg("%s: got %s", send_faults[i].what, pl_strerror(ret));
		if (ret == 0) {
			free(t);
			continue; /* a grammar the parser takes (the kind rules are
			             pl_record_open()'s) */
		}
		assert_non_null(why);
		/* Out-parameter untouched on failure. */
		assert_true(r.has == 0x5a5a5a5a);
		free(t);
	}
	free(base);
}

/* Text-level faults that need more than a substitution. */
static void test_text_faults(void **state)
{
	char *base = text_of(example_of(PL_KIND_STATEMENT));
	size_t n = strlen(base);
	struct pl_record *r = calloc(1, sizeof(*r));
	char *t;
	const char *why;

	(void)state;
	assert_non_null(r);
	/* Without its final newline. */
	assert_int_equal(pl_record_parse(r, base, n - 1, &why), PL_EMALFORMED);
	/* Empty input. */
	assert_int_equal(pl_record_parse(r, base, 0, &why), PL_EMALFORMED);
	/* A trailing byte after the final newline. */
	t = malloc(n + 2);
	assert_non_null(t);
	memcpy(t, base, n);
	t[n] = 'x';
	t[n + 1] = '\0';
	assert_int_equal(pl_record_parse(r, t, n + 1, &why), PL_EMALFORMED);
	/* A NUL inside the text. */
	t[n] = '\0';
	t[n / 2] = '\0';
	assert_int_equal(pl_record_parse(r, t, n, &why), PL_EMALFORMED);
	free(t);
	/* Body that starts or ends with a blank line, or is empty. */
	t = replace(base, "\n\nThe Ministry", "\n\n\nThe Ministry");
	assert_int_equal(pl_record_parse(r, t, strlen(t), &why), PL_EMALFORMED);
	free(t);
	t = replace(base, "Line.\n", "Line.\n\n");
	assert_int_equal(pl_record_parse(r, t, strlen(t), &why), PL_EMALFORMED);
	free(t);
	t = strdup(base);
	assert_non_null(t);
	strstr(t, "\n\nThe Ministry")[2] = '\0';
	assert_int_equal(pl_record_parse(r, t, strlen(t), &why), PL_EMALFORMED);
	free(t);
	/* Blank lines inside the body are fine. */
	t = replace(base, "North\n", "North\n\n");
	assert_int_equal(pl_record_parse(r, t, strlen(t), &why), 0);
	assert_true(r->has & PL_RECORD_HAS_BODY);
	free(t);
	/* Body text may be any clean UTF-8. */
	t = replace(base, "North", "North \xea\xb5\xad\xeb\xb0\xa9\xeb\xb6\x80 \xe2\x80\x94 ok");
	assert_int_equal(pl_record_parse(r, t, strlen(t), &why), 0);
	free(t);
	free(r);
	free(base);
}

/* Everything at its limit is accepted; one more is refused. */
static void test_limits(void **state)
{
	struct pl_record *r = calloc(1, sizeof(*r)), *back = calloc(1, sizeof(*back));
	struct pl_buf b;
	const char *why;

	(void)state;
	assert_non_null(r);
	assert_non_null(back);
	*r = example_of(PL_KIND_STATEMENT)->rec;
	/* Body of exactly PL_RECORD_BODY_MAX bytes: lines of 63 'x' and a newline. */
	for (size_t i = 0; i < PL_RECORD_BODY_MAX; i++)
		r->body[i] = (i % 64 == 63) ? '\n' : 'x';
	r->body[PL_RECORD_BODY_MAX] = '\0';
	r->body_len = PL_RECORD_BODY_MAX;
	/* 16 cites. */
	r->nrefs = PL_RECORD_MAX_REFS;
	for (size_t i = 0; i < PL_RECORD_MAX_REFS; i++) {
		r->refs[i].role = PL_ROLE_CITES;
		memset(r->refs[i].id, (int)(0x10 + i), PL_RECORD_ID_BYTES);
	}
	pl_buf_init(&b, PL_RECORD_TEXT_MAX);
	assert_int_equal(pl_record_format(r, &b, &why), 0);
	assert_int_equal(pl_record_parse(back, b.data, b.len, &why), 0);
	assert_int_equal(back->body_len, PL_RECORD_BODY_MAX);
	assert_int_equal(back->nrefs, PL_RECORD_MAX_REFS);
	/* One more body byte. */
	pl_buf_reset(&b);
	r->body_len = PL_RECORD_BODY_MAX + 1;
	assert_int_equal(pl_record_format(r, &b, &why), PL_ETOOBIG);
	assert_int_equal(b.len, 0);
	r->body_len = PL_RECORD_BODY_MAX;
	/* One more ref. */
	r->nrefs = PL_RECORD_MAX_REFS + 1;
	assert_int_equal(pl_record_format(r, &b, &why), PL_ETOOBIG);
	r->nrefs = PL_RECORD_MAX_REFS;
	pl_buf_release(&b);

	/* Parse-side: a 17th ref line, 17 to lines, a long reason, a long body. */
	{
		char *base = text_of(example_of(PL_KIND_SEND)), *t;
		char many[PL_RECORD_MAX_TO * 8 + 64];
		size_t o = 0;
		for (int i = 0; i <= PL_RECORD_MAX_TO; i++)
			o += (size_t)snprintf(many + o, sizeof(many) - o, "to p%02d\n", i);
		t = replace(base, "to kpa\n", many);
		assert_int_equal(pl_record_parse(back, t, strlen(t), &why), PL_ETOOBIG);
		free(t);
		{
			char line[PL_RECORD_REASON_MAX + 32];
			int k = snprintf(line, sizeof(line), "reason %0*d\n", PL_RECORD_REASON_MAX,
			                 7);
			assert_true(k > 0);
			t = replace(base, "$", line);
			assert_int_equal(pl_record_parse(back, t, strlen(t), &why), 0);
			free(t);
			k = snprintf(line, sizeof(line), "reason %0*d\n", PL_RECORD_REASON_MAX + 1,
			             7);
			assert_true(k > 0);
			t = replace(base, "$", line);
			assert_int_equal(pl_record_parse(back, t, strlen(t), &why), PL_ETOOBIG);
			free(t);
		}
		/* A 63-byte party name is fine. */
		t = replace(
		        base, "via unc\n",
		        "via aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
		assert_int_equal(pl_record_parse(back, t, strlen(t), &why), 0);
		free(t);
		/* Text over PL_RECORD_TEXT_MAX. */
		t = malloc(PL_RECORD_TEXT_MAX + 2);
		assert_non_null(t);
		memset(t, 'x', PL_RECORD_TEXT_MAX + 1);
		t[PL_RECORD_TEXT_MAX] = '\n';
		assert_int_equal(pl_record_parse(back, t, PL_RECORD_TEXT_MAX + 1, &why),
		                 PL_ETOOBIG);
		free(t);
		free(base);
	}
	free(r);
	free(back);
}

/* ---- Kind rules (stateless) ---------------------------------------------- */

static const struct {
	enum pl_record_kind kind;
	const char *what, *find, *rep;
	int want;
} kind_faults[] = {
        {PL_KIND_SEND, "send without to", "to kpa\n", "", PL_EMALFORMED},
        {PL_KIND_SEND, "send without class", "class proposal\n", "", PL_EMALFORMED},
        {PL_KIND_SEND, "send of class statement", "class proposal\n", "class statement\n",
         PL_EMALFORMED},
        {PL_KIND_SEND, "send without payload", "payload *", "", PL_EMALFORMED},
        {PL_KIND_SEND, "send to itself", "to kpa\n", "to kpa\nto rok-mnd\n", PL_EMALFORMED},
        {PL_KIND_SEND, "send via a recipient", "to kpa\nvia unc\n", "to kpa\nvia kpa\n",
         PL_EMALFORMED},
        {PL_KIND_SEND, "send via itself", "via unc\n", "via rok-mnd\n", PL_EMALFORMED},
        {PL_KIND_SEND, "send with a body", "$", "\nbody\n", PL_EMALFORMED},
        {PL_KIND_SEND, "send with a cites ref", "payload ", "ref cites " ID_A "\npayload ",
         PL_EMALFORMED},
        {PL_KIND_SEND, "send with a line", "payload ", "line x\npayload ", PL_EMALFORMED},
        {PL_KIND_SEND, "deadline before time", "deadline 2025-11-24T00:00:00Z",
         "deadline 2025-11-17T01:05:00Z", PL_EMALFORMED},
        {PL_KIND_SEND, "by the exchange", "author rok-mnd", "author exchange", PL_EMALFORMED},
        {PL_KIND_SEND, "seq 1 with a prev", "seq 3\n", "seq 1\n", PL_ECHAIN},
        {PL_KIND_RECEIVE, "receive without subject", "ref subject", "ref cites", PL_EMALFORMED},
        {PL_KIND_RECEIVE, "receive with two subjects", "ref subject ",
         "ref subject " ID_0 "\nref subject ", PL_EMALFORMED},
        {PL_KIND_RECEIVE, "receive with a to", "ref subject", "to kpa\nref subject", PL_EMALFORMED},
        {PL_KIND_DECLINE, "decline without reason",
         "reason Outside the Armistice channel's remit\n", "", PL_EMALFORMED},
        {PL_KIND_CONVEY, "convey with a reason", "$", "reason because\n", PL_EMALFORMED},
        {PL_KIND_ACCEPT, "accept with a reason", "$", "reason because\n", PL_EMALFORMED},
        {PL_KIND_RECEIVE, "receive with a commit", "$",
         "commit AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", PL_EMALFORMED},
        {PL_KIND_ACCEPT, "accept by the exchange", "author kpa", "author exchange", PL_EMALFORMED},
        {PL_KIND_STATEMENT, "statement without body",
         "\nThe Ministry of National Defense "
         "proposes military talks with the North\nto reset the baseline of the Military "
         "Demarcation Line.\n",
         "", PL_EMALFORMED},
        {PL_KIND_STATEMENT, "statement of class letter", "class statement", "class letter",
         PL_EMALFORMED},
        {PL_KIND_STATEMENT, "statement with a to", "ref cites", "to kpa\nref cites", PL_EMALFORMED},
        {PL_KIND_CONSULT, "consult without to", "to unc\n", "", PL_EMALFORMED},
        {PL_KIND_CONSULT, "consult with a class", "to unc\n", "class proposal\nto unc\n",
         PL_EMALFORMED},
        {PL_KIND_CONSULT, "consult without commit", "commit *", "", PL_EMALFORMED},
        {PL_KIND_ADVISE, "advise without position", "position noted\n", "", PL_EMALFORMED},
        {PL_KIND_ADVISE, "advise with a subject ref", "ref consult", "ref subject", PL_EMALFORMED},
        {PL_KIND_CHECK, "check with one end", "to kpa\n", "", PL_EMALFORMED},
        {PL_KIND_CHECK, "check with three ends", "to unc\n", "to unc\nto zz\n", PL_EMALFORMED},
        {PL_KIND_CHECK, "check without line", "line unc-kpa\n", "", PL_EMALFORMED},
        {PL_KIND_CHECK, "check without deadline", "deadline 2025-11-22T09:15:00Z\n", "",
         PL_EMALFORMED},
        {PL_KIND_CHECK, "check by a party", "author exchange", "author unc", PL_EMALFORMED},
        {PL_KIND_ANSWER, "answer without line", "line unc-kpa\n", "", PL_EMALFORMED},
        {PL_KIND_ANSWER, "answer without check", "ref check", "ref cites", PL_EMALFORMED},
        {PL_KIND_AVAILABLE, "available to two", "to unc\n", "to unc\nto zz\n", PL_EMALFORMED},
        {PL_KIND_AVAILABLE, "available without to", "to unc\n", "", PL_EMALFORMED},
        {PL_KIND_EXPIRE, "expire without to", "to kpa\n", "", PL_EMALFORMED},
        {PL_KIND_UNANSWERED, "unanswered without line", "line unc-kpa\n", "", PL_EMALFORMED},
        {PL_KIND_UNANSWERED, "unanswered with three", "to kpa\n", "to a\nto b\nto kpa\n",
         PL_EMALFORMED},
        {PL_KIND_REGISTER, "register without enc", "enc *", "", PL_EMALFORMED},
        {PL_KIND_REGISTER, "register with a to", "party ", "to kpa\nparty ", PL_EMALFORMED},
        {PL_KIND_REGISTER, "register without party", "party rok-mnd\n", "", PL_EMALFORMED},
        {PL_KIND_REGISTER, "register of another party's key", "party rok-mnd\n", "party unc\n",
         PL_EMALFORMED},
        {PL_KIND_REGISTER, "register by a party", "author exchange", "author rok-mnd",
         PL_EMALFORMED},
        {PL_KIND_REVOKE, "revoke without key", "key *", "", PL_EMALFORMED},
        /* docs/records.md §5: a returning party's register names its previous register. */
        {PL_KIND_REGISTER, "register with a previous ref", "party ",
         "ref previous " ID_A "\nparty ", 0},
        {PL_KIND_REGISTER, "register with two previous refs", "party ",
         "ref previous " ID_0 "\nref previous " ID_A "\nparty ", PL_EMALFORMED},
        {PL_KIND_REGISTER, "register with a subject ref", "party ", "ref subject " ID_A "\nparty ",
         PL_EMALFORMED},
        {PL_KIND_REGISTER, "register with a reason", "party ", "reason Returns\nparty ",
         PL_EMALFORMED},
        {PL_KIND_ADVISE, "previous ref on an advise", "ref consult", "ref previous", PL_EMALFORMED},
        {PL_KIND_REVOKE, "previous ref on a revoke", "party ", "ref previous " ID_A "\nparty ",
         PL_EMALFORMED},
        /* An eviction (a revoke with a reason) carries the exchange's signature alone. */
        {PL_KIND_REVOKE, "eviction with a self-signature", "party ", "reason Expelled\nparty ",
         PL_ENOKEY},
        {PL_KIND_ADVISE, "advise with an unknown position", "position noted", "position maybe",
         PL_EMALFORMED},
        {PL_KIND_INDEX, "index without root", "root *", "", PL_EMALFORMED},
        {PL_KIND_INDEX, "index with a ref", "kind index\n", "kind index\nref cites " ID_A "\n",
         PL_EMALFORMED},
        {PL_KIND_INDEX, "index with a to", "kind index\n", "kind index\nto kpa\n", PL_EMALFORMED},
        {PL_KIND_INDEX, "index with a body", "$", "\nbody\n", PL_EMALFORMED},
        {PL_KIND_INDEX, "index with a party", "kind index\n", "kind index\nparty kpa\n",
         PL_EMALFORMED},
        {PL_KIND_INDEX, "index by a party", "author exchange", "author unc", PL_EMALFORMED},
        {PL_KIND_INDEX, "root of 31 bytes", "root *",
         "root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", PL_EMALFORMED},
        {PL_KIND_INDEX, "root of 33 bytes", "root *",
         "root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", PL_EMALFORMED},
        {PL_KIND_INDEX, "root with padding bits", "root *",
         "root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", PL_EMALFORMED},
        {PL_KIND_INDEX, "root unpadded", "root *",
         "root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", PL_EMALFORMED},
        {PL_KIND_INDEX, "root in hex", "root *", "root " ID_A "\n", PL_EMALFORMED},
        {PL_KIND_INDEX, "root in url-safe base64", "root *",
         "root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_=\n", PL_EMALFORMED},
        {PL_KIND_INDEX, "root twice", "root *",
         "root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
         "root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
         PL_EMALFORMED},
        {PL_KIND_INDEX, "root with a trailing space", "root *",
         "root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \n", PL_EMALFORMED},
        {PL_KIND_INDEX, "root empty", "root *", "root \n", PL_EMALFORMED},
        {PL_KIND_INDEX, "zero root", "root *",
         "root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 0},
        {PL_KIND_MISSED, "missed without due", "due *", "", PL_EMALFORMED},
        {PL_KIND_MISSED, "missed due after its time", "due *", "due 2025-11-23T00:00:01Z\n",
         PL_EMALFORMED},
        {PL_KIND_MISSED, "missed due at its time", "due *", "due 2025-11-23T00:00:00Z\n", 0},
        {PL_KIND_MISSED, "missed due malformed", "due *", "due 2025-11-22 21:00:00\n",
         PL_EMALFORMED},
        {PL_KIND_MISSED, "missed due twice", "due *",
         "due 2025-11-22T21:00:00Z\ndue 2025-11-22T21:00:00Z\n", PL_EMALFORMED},
        {PL_KIND_MISSED, "missed with one end", "to kpa\n", "", PL_EMALFORMED},
        {PL_KIND_MISSED, "missed without line", "line unc-kpa\n", "", PL_EMALFORMED},
        {PL_KIND_MISSED, "missed with a deadline", "line unc-kpa\n",
         "deadline 2025-11-24T00:00:00Z\nline unc-kpa\n", PL_EMALFORMED},
        {PL_KIND_MISSED, "missed with a check ref", "due *",
         "ref check " ID_A "\ndue 2025-11-22T21:00:00Z\n", PL_EMALFORMED},
        {PL_KIND_MISSED, "missed by a party", "author exchange", "author unc", PL_EMALFORMED},
        {PL_KIND_MISSED, "missed with a previous ref", "due *",
         "ref previous " ID_A "\ndue 2025-11-22T21:00:00Z\n", 0},
        {PL_KIND_MISSED, "missed with two previous refs", "due *",
         "ref previous " ID_A "\nref previous " ID_0 "\ndue 2025-11-22T21:00:00Z\n", PL_EMALFORMED},
        {PL_KIND_CHECK, "check with a previous ref", "$", "ref previous " ID_A "\n", 0},
        {PL_KIND_CHECK, "check with a check ref", "$", "ref check " ID_A "\n", PL_EMALFORMED},
        {PL_KIND_CHECK, "check with two previous refs", "$",
         "ref previous " ID_A "\nref previous " ID_0 "\n", PL_EMALFORMED},
        {PL_KIND_ANSWER, "answer with a previous ref", "ref check", "ref previous", PL_EMALFORMED},
        {PL_KIND_UNANSWERED, "unanswered with a previous ref", "ref check", "ref previous",
         PL_EMALFORMED},
        {PL_KIND_CHECK, "check with a due", "$", "due 2025-11-22T08:00:00Z\n", PL_EMALFORMED},
        {PL_KIND_INDEX, "due before root", "root ", "due 2025-11-22T21:00:00Z\nroot ",
         PL_EMALFORMED},
        {PL_KIND_REGISTER, "register with a root", "$",
         "root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", PL_EMALFORMED},
        {PL_KIND_REGISTER, "root before enc", "enc ",
         "root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nenc ", PL_EMALFORMED},
        {PL_KIND_GROUP, "group without window", "window 7\n", "", PL_EMALFORMED},
        {PL_KIND_GROUP, "window 0", "window 7\n", "window 0\n", PL_EMALFORMED},
        {PL_KIND_GROUP, "window 366", "window 7\n", "window 366\n", PL_EMALFORMED},
        {PL_KIND_GROUP, "window 365", "window 7\n", "window 365\n", 0},
        {PL_KIND_GROUP, "window leading zero", "window 7\n", "window 07\n", PL_EMALFORMED},
        {PL_KIND_GROUP, "window signed", "window 7\n", "window +7\n", PL_EMALFORMED},
        {PL_KIND_GROUP, "window in words", "window 7\n", "window seven\n", PL_EMALFORMED},
        {PL_KIND_GROUP, "window twice", "window 7\n", "window 7\nwindow 8\n", PL_EMALFORMED},
        {PL_KIND_GROUP, "group without about", "about kpa\n", "", PL_EMALFORMED},
        {PL_KIND_GROUP, "group without name", "group allies-unc-rok\n", "", PL_EMALFORMED},
        {PL_KIND_GROUP, "group without members", "to rok-mnd\nto unc\n", "", PL_EMALFORMED},
        {PL_KIND_GROUP, "group name upper-case", "group allies", "group Allies", PL_EMALFORMED},
        {PL_KIND_GROUP, "group name reserved party ok", "group allies-unc-rok", "group exchange",
         0},
        {PL_KIND_GROUP, "about a member", "about kpa\n", "about unc\n", PL_EMALFORMED},
        {PL_KIND_GROUP, "about the exchange", "about kpa\n", "about exchange\n", PL_EMALFORMED},
        {PL_KIND_GROUP, "about twice", "about kpa\n", "about kpa\nabout kpa\n", PL_EMALFORMED},
        {PL_KIND_GROUP, "about unsorted", "about kpa\n", "about kpa\nabout dprk\n", PL_EMALFORMED},
        {PL_KIND_GROUP, "about before group", "group allies-unc-rok\nabout kpa\n",
         "about kpa\ngroup allies-unc-rok\n", PL_EMALFORMED},
        {PL_KIND_GROUP, "group by the exchange", "author rok-mnd", "author exchange",
         PL_EMALFORMED},
        {PL_KIND_GROUP, "group changing a version", "group allies",
         "ref group " ID_A "\ngroup allies", 0},
        {PL_KIND_GROUP, "group changing two versions", "group allies",
         "ref group " ID_0 "\nref group " ID_A "\ngroup allies", PL_EMALFORMED},
        {PL_KIND_GROUP, "group with a subject ref", "group allies",
         "ref subject " ID_A "\ngroup allies", PL_EMALFORMED},
        {PL_KIND_GROUP, "group with a deadline", "group allies",
         "deadline 2026-01-01T00:00:00Z\ngroup allies", PL_EMALFORMED},
        {PL_KIND_GROUP, "group with a body", "$", "\nbody\n", PL_EMALFORMED},
        {PL_KIND_SEND, "send with a group line", "$", "group allies\n", PL_EMALFORMED},
        {PL_KIND_SEND, "send with a window", "$", "window 7\n", PL_EMALFORMED},
        {PL_KIND_SEND, "send following a consult", "payload ", "ref consult " ID_A "\npayload ", 0},
        {PL_KIND_SEND, "send replying and following a consult", "payload ",
         "ref consult " ID_A "\nref reply-to " ID_0 "\npayload ", 0},
        {PL_KIND_SEND, "send following two consults", "payload ",
         "ref consult " ID_0 "\nref consult " ID_A "\npayload ", PL_EMALFORMED},
        {PL_KIND_SEND, "send replying twice", "payload ",
         "ref reply-to " ID_0 "\nref reply-to " ID_A "\npayload ", PL_EMALFORMED},
        {PL_KIND_SEND, "send with a group ref", "payload ", "ref group " ID_A "\npayload ",
         PL_EMALFORMED},
        {PL_KIND_SEND, "send reciprocating", "payload ", "ref reciprocates " ID_A "\npayload ",
         PL_EMALFORMED},
        {PL_KIND_STATEMENT, "statement following a consult", "\n\nThe Ministry",
         "\nref consult " ID_A "\n\nThe Ministry", 0},
        {PL_KIND_STATEMENT, "statement reciprocating", "\n\nThe Ministry",
         "\nref reciprocates " ID_A "\n\nThe Ministry", PL_EMALFORMED},
        {PL_KIND_STATEMENT, "statement with a state", "\n\nThe Ministry",
         "\nstate ended\n\nThe Ministry", PL_EMALFORMED},
        {PL_KIND_STATEMENT, "statement changing a measure", "\n\nThe Ministry",
         "\nref changes " ID_A "\nstate ended\n\nThe Ministry", PL_EMALFORMED},
        {PL_KIND_STATEMENT, "measure changing a measure", "class statement\n",
         "class measure\nref changes " ID_A "\n", PL_EMALFORMED},
        {PL_KIND_SEND, "send with a state", "$", "state ended\n", PL_EMALFORMED},
        {PL_KIND_CONSULT, "consult in a group", "payload ", "ref group " ID_A "\npayload ", 0},
        {PL_KIND_CONSULT, "consult following a consult", "payload ",
         "ref consult " ID_A "\npayload ", PL_EMALFORMED},
        {PL_KIND_ADVISE, "advise with a group ref too", "reason ", "ref group " ID_A "\nreason ",
         PL_EMALFORMED},
};

/* Signs text with the keys the kind calls for (author, and the party for a registration). */
static char *sign_text(const char *text, const struct pl_record *like, size_t *len)
{
	struct pl_skey keys[2];
	struct pl_buf b;
	size_t n = 0;
	char *out;

	for (int i = 0; i < NACTORS; i++) {
		if (strcmp(actors[i].party, like->author) == 0)
			keys[n++] = actors[i].sk;
	}
	assert_int_equal(n, 1);
	if (like->kind == PL_KIND_REGISTER || like->kind == PL_KIND_REVOKE) {
		for (int i = 0; i < NACTORS; i++) {
			if (strcmp(actors[i].party, like->party) == 0)
				keys[n++] = actors[i].sk;
		}
	}
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	assert_int_equal(pl_note_sign(&b, text, strlen(text), keys, n), 0);
	out = pl_buf_detach(&b, len);
	sodium_memzero(keys, sizeof(keys));
	return out;
}

static void test_kind_faults(void **state)
{
	struct pl_vkey dir[NACTORS];
	struct pl_record *r = calloc(1, sizeof(*r));

	(void)state;
	assert_non_null(r);
	directory(dir);
	for (size_t i = 0; i < sizeof(kind_faults) / sizeof(kind_faults[0]); i++) {
		const struct example *e = example_of(kind_faults[i].kind);
		char *base = text_of(e), *t, *note;
		uint8_t id[PL_RECORD_ID_BYTES];
		const char *why = NULL;
		size_t len;
		int ret;
		t = replace(base, kind_faults[i].find, kind_faults[i].rep);
		note = sign_text(t, &e->rec, &len);
		ret = pl_record_open(r, id, NULL, note, len, dir, NACTORS, &why);
		if (ret != kind_faults[i].want)
			fail_msg("%s: got %s (%s)", kind_faults[i].what, pl_strerror(ret),
			         why ? why : "");
		free(note);
		free(t);
		free(base);
	}
	free(r);
}

/* ---- Signatures ------------------------------------------------------------ */

static void expect_open(const char *what, const char *note, size_t len, int want)
{
	struct pl_vkey dir[NACTORS];
	struct pl_record *r = calloc(1, sizeof(*r));
	uint8_t id[PL_RECORD_ID_BYTES] = {0};
	const char *why = NULL;
	int ret;

	assert_non_null(r);
	directory(dir);
	ret = pl_record_open(r, id, NULL, note, len, dir, NACTORS, &why);
	if (ret != want)
		fail_msg("%s: got %s (%s)", what, pl_strerror(ret), why ? why : "");
	if (ret != 0) {
		/* Nothing set on failure. */
		for (size_t i = 0; i < PL_RECORD_ID_BYTES; i++)
			assert_int_equal(id[i], 0);
	}
	free(r);
}

/* docs/records.md §6: an eviction is the exchange's alone, and says why; a revoke without reason
 * is not. */
static void test_eviction_signatures(void **state)
{
	const struct example *e = example_of(PL_KIND_REVOKE);
	char *base = text_of(e),
	     *evict = replace(base, "party ", "reason Expelled by the others\nparty ");
	struct pl_skey keys[2] = {actors[EX].sk, actors[KPA].sk};
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	assert_int_equal(pl_note_sign(&b, evict, strlen(evict), keys, 1), 0);
	expect_open("eviction by the exchange alone", b.data, b.len, 0);
	pl_buf_reset(&b);
	assert_int_equal(pl_note_sign(&b, base, strlen(base), keys, 1), 0);
	expect_open("eviction without reason", b.data, b.len, PL_ENOKEY);
	pl_buf_reset(&b);
	assert_int_equal(pl_note_sign(&b, evict, strlen(evict), keys, 2), 0);
	expect_open("eviction with the party's signature", b.data, b.len, PL_ENOKEY);
	pl_buf_release(&b);
	sodium_memzero(keys, sizeof(keys));
	free(evict);
	free(base);
}

static void test_signatures(void **state)
{
	const struct example *send = example_of(PL_KIND_SEND);
	const struct example *reg = example_of(PL_KIND_REGISTER);
	char *text = text_of(send), *rtext = text_of(reg), *m;
	struct pl_skey keys[3];
	struct pl_buf b;

	(void)state;
	expect_open("the example", send->note, send->len, 0);

	/* Missing signature: the text alone, or the text and its blank line. */
	expect_open("text alone", text, strlen(text), PL_EMALFORMED);
	m = replace(text, "$", "\n");
	expect_open("no signature line", m, strlen(m), PL_EMALFORMED);
	free(m);

	/* Signed by another party's key. */
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	keys[0] = actors[KPA].sk;
	assert_int_equal(pl_note_sign(&b, text, strlen(text), keys, 1), 0);
	expect_open("signed by kpa", b.data, b.len, PL_ENOKEY);
	pl_buf_reset(&b);

	/* A key with the author's name that is not in the directory. */
	{
		struct pl_vkey vk;
		pl_test_fixed_key(&keys[0], &vk, "hotline.example/rok-mnd-other",
		                  PL_SIGTYPE_ED25519);
		snprintf(keys[0].name, sizeof(keys[0].name), "%s", actors[ROK].keyname);
		pl_key_id(keys[0].id, keys[0].name, PL_SIGTYPE_ED25519,
		          keys[0].sk + PL_ED25519_SEED_BYTES);
		assert_int_equal(pl_note_sign(&b, text, strlen(text), keys, 1), 0);
		expect_open("unknown key of the author", b.data, b.len, PL_ENOKEY);
		pl_buf_reset(&b);
	}

	/* Author's signature plus an extra one: the id would be malleable. */
	keys[0] = actors[ROK].sk;
	keys[1] = actors[UNC].sk;
	assert_int_equal(pl_note_sign(&b, text, strlen(text), keys, 2), 0);
	expect_open("extra signature", b.data, b.len, PL_ENOKEY);
	pl_buf_reset(&b);

	/* A signature that does not verify: flip one bit in the last base64 group. */
	m = strdup(send->note);
	assert_non_null(m);
	m[send->len - 4] = m[send->len - 4] == 'A' ? 'B' : 'A';
	expect_open("bad signature", m, send->len, PL_EVERIFY);
	free(m);

	/* Bytes after the signatures. */
	m = malloc(send->len + 2);
	assert_non_null(m);
	memcpy(m, send->note, send->len);
	memcpy(m + send->len, "x", 2);
	expect_open("trailing bytes", m, send->len + 1, PL_EMALFORMED);
	expect_open("missing final newline", m, send->len - 1, PL_EMALFORMED);
	free(m);

	/* CRLF line endings throughout. */
	{
		size_t n = 0;
		m = malloc(send->len * 2 + 1);
		assert_non_null(m);
		for (size_t i = 0; i < send->len; i++) {
			if (send->note[i] == '\n')
				m[n++] = '\r';
			m[n++] = send->note[i];
		}
		expect_open("CRLF", m, n, PL_EMALFORMED);
		free(m);
	}

	/* Register: the exchange alone, the party alone, the wrong order, the wrong party. */
	keys[0] = actors[EX].sk;
	assert_int_equal(pl_note_sign(&b, rtext, strlen(rtext), keys, 1), 0);
	expect_open("register without self-signature", b.data, b.len, PL_ENOKEY);
	pl_buf_reset(&b);
	keys[0] = actors[ROK].sk;
	keys[1] = actors[EX].sk;
	assert_int_equal(pl_note_sign(&b, rtext, strlen(rtext), keys, 2), 0);
	expect_open("register signatures swapped", b.data, b.len, PL_ENOKEY);
	pl_buf_reset(&b);
	keys[0] = actors[EX].sk;
	keys[1] = actors[UNC].sk;
	assert_int_equal(pl_note_sign(&b, rtext, strlen(rtext), keys, 2), 0);
	expect_open("register self-signed by another party", b.data, b.len, PL_ENOKEY);
	pl_buf_reset(&b);
	keys[1] = actors[ROK].sk;
	keys[2] = actors[KPA].sk;
	assert_int_equal(pl_note_sign(&b, rtext, strlen(rtext), keys, 3), 0);
	expect_open("register with a third signature", b.data, b.len, PL_ENOKEY);
	pl_buf_reset(&b);

	/* Too large. */
	m = calloc(1, PL_RECORD_MAX_BYTES + 1);
	assert_non_null(m);
	expect_open("oversize", m, PL_RECORD_MAX_BYTES + 1, PL_ETOOBIG);
	free(m);

	pl_buf_release(&b);
	sodium_memzero(keys, sizeof(keys));
	free(text);
	free(rtext);
}

static void test_sign_errors(void **state)
{
	const struct example *send = example_of(PL_KIND_SEND);
	const struct example *reg = example_of(PL_KIND_REGISTER);
	struct pl_skey keys[2];
	struct pl_buf b;
	const char *why;

	(void)state;
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	keys[0] = actors[UNC].sk;
	assert_int_equal(pl_record_sign(&b, &send->rec, keys, 1, &why), PL_EINVAL);
	keys[0] = actors[ROK].sk;
	keys[1] = actors[UNC].sk;
	assert_int_equal(pl_record_sign(&b, &send->rec, keys, 2, &why), PL_EINVAL);
	assert_int_equal(pl_record_sign(&b, &send->rec, keys, 0, &why), PL_EINVAL);
	keys[0] = actors[EX].sk;
	assert_int_equal(pl_record_sign(&b, &reg->rec, keys, 1, &why), PL_EINVAL);
	assert_int_equal(pl_record_sign(&b, &reg->rec, keys, 2, &why), PL_EINVAL);
	assert_int_equal(b.len, 0);
	keys[1] = actors[ROK].sk;
	assert_int_equal(pl_record_sign(&b, &reg->rec, keys, 2, &why), 0);
	assert_int_equal(b.len, reg->len);
	assert_memory_equal(b.data, reg->note, reg->len);
	pl_buf_release(&b);
	sodium_memzero(keys, sizeof(keys));
}

/* pl_record_format() refuses what the parser would refuse, and leaves out unchanged. */
static void test_format_faults(void **state)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	const struct pl_record *base = &example_of(PL_KIND_SEND)->rec;
	struct pl_buf b;
	const char *why;

	(void)state;
	assert_non_null(r);
	pl_buf_init(&b, PL_RECORD_TEXT_MAX);
	assert_int_equal(pl_buf_adds(&b, "keep"), 0);

	*r = *base;
	memset(r->author, 'a', sizeof(r->author)); /* unterminated */
	assert_int_not_equal(pl_record_format(r, &b, &why), 0);
	*r = *base;
	r->kind = (enum pl_record_kind)99;
	assert_int_equal(pl_record_format(r, &b, &why), PL_EMALFORMED);
	*r = *base;
	r->time = PL_TIMESTAMP_MAX + 1;
	assert_int_equal(pl_record_format(r, &b, &why), PL_EMALFORMED);
	*r = *base;
	r->nto = PL_RECORD_MAX_TO + 1;
	assert_int_equal(pl_record_format(r, &b, &why), PL_ETOOBIG);
	*r = *base;
	snprintf(r->to[1], sizeof(r->to[1]), "a");
	r->nto = 2; /* "kpa", "a": not sorted */
	assert_int_equal(pl_record_format(r, &b, &why), PL_EMALFORMED);
	*r = *base;
	r->seq = 0;
	assert_int_equal(pl_record_format(r, &b, &why), PL_EMALFORMED);
	*r = *base;
	snprintf(r->via, sizeof(r->via), "exchange");
	assert_int_equal(pl_record_format(r, &b, &why), PL_EMALFORMED);
	*r = *base;
	r->payload_size = 0;
	assert_int_equal(pl_record_format(r, &b, &why), PL_EMALFORMED);
	*r = *base;
	r->has |= PL_RECORD_HAS_POSITION;
	r->position = (enum pl_position)0;
	assert_int_equal(pl_record_format(r, &b, &why), PL_EMALFORMED);
	*r = *base;
	r->has |= PL_RECORD_HAS_REASON;
	snprintf(r->reason, sizeof(r->reason), " padded");
	assert_int_equal(pl_record_format(r, &b, &why), PL_EMALFORMED);
	assert_string_equal(b.data, "keep");

	/* Fields whose bit is clear are ignored. */
	*r = *base;
	snprintf(r->line, sizeof(r->line), "NOT A NAME");
	assert_int_equal(pl_record_format(r, &b, &why), 0);
	assert_null(strstr(b.data, "\nline "));
	pl_buf_release(&b);
	free(r);
}

/* ---- Ids and names ---------------------------------------------------------- */

static void test_ids(void **state)
{
	uint8_t ids[4][PL_RECORD_ID_BYTES], id[PL_RECORD_ID_BYTES];
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	size_t idx = 99;

	(void)state;
	memset(ids, 0, sizeof(ids));
	assert_int_equal(pl_record_id_parse(ids[0], ID_A, 64), 0);
	memcpy(ids[1], ids[0], PL_RECORD_ID_BYTES);
	ids[1][31] ^= 1; /* shares 62 hex digits with ids[0] */
	ids[2][0] = 0xfe;
	memcpy(ids[3], ids[0], PL_RECORD_ID_BYTES); /* a duplicate listing */
	pl_record_id_format(hex, ids[0]);
	assert_string_equal(hex, ID_A);

	assert_int_equal(pl_record_id_parse(id, "0123", 4), PL_EMALFORMED);
	assert_int_equal(
	        pl_record_id_parse(
	                id, "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", 64),
	        PL_EMALFORMED);
	assert_int_equal(pl_record_id_parse(id, ID_A "0", 65), PL_EMALFORMED);

	assert_true(pl_record_id_has_prefix(ids[0], "01234567", 8));
	assert_true(pl_record_id_has_prefix(ids[0], "0123456789ABCDEF", 16));
	assert_true(pl_record_id_has_prefix(ids[0], ID_A, 64));
	assert_false(pl_record_id_has_prefix(ids[0], "0123456", 7));
	assert_false(pl_record_id_has_prefix(ids[0], "0123456x", 8));
	assert_false(pl_record_id_has_prefix(ids[0], "12345678", 8));
	assert_false(pl_record_id_has_prefix(ids[0], ID_A "0", 65));

	assert_int_equal(pl_record_id_match(&idx, "fe000000", 8, (const uint8_t(*)[32])ids, 4), 0);
	assert_int_equal(idx, 2);
	assert_int_equal(pl_record_id_match(&idx, "01234567", 8, (const uint8_t(*)[32])ids, 4),
	                 PL_EAMBIGUOUS);
	assert_int_equal(pl_record_id_match(&idx, ID_A, 64, (const uint8_t(*)[32])ids, 4), 0);
	assert_int_equal(idx, 0); /* listed twice, one match */
	assert_int_equal(pl_record_id_match(&idx, "ffffffff", 8, (const uint8_t(*)[32])ids, 4),
	                 PL_ENOTFOUND);
	idx = 77;
	assert_int_equal(pl_record_id_match(&idx, "fe00", 4, (const uint8_t(*)[32])ids, 4),
	                 PL_EMALFORMED);
	assert_int_equal(idx, 77);
	assert_int_equal(pl_record_id_match(&idx, "fe000000", 8, NULL, 0), PL_ENOTFOUND);

	/* The id is SHA-256 of the whole signed note. */
	pl_record_id(id, examples[0].note, examples[0].len);
	{
		uint8_t want[32];
		crypto_hash_sha256(want, (const uint8_t *)examples[0].note, examples[0].len);
		assert_memory_equal(id, want, 32);
	}
}

static void test_names(void **state)
{
	char name[PL_KEY_NAME_MAX + 1];
	enum pl_record_kind k;
	char origin[PL_RECORD_ORIGIN_MAX + 2];

	(void)state;
	assert_int_equal(pl_record_key_name(name, ORIGIN, "rok-mnd"), 0);
	assert_string_equal(name, "hotline.example/rok-mnd");
	assert_int_equal(pl_record_key_name(name, ORIGIN, "exchange"), 0);
	assert_string_equal(name, "hotline.example");
	assert_int_equal(pl_record_key_name(name, ORIGIN, "Bad"), PL_EINVAL);
	assert_int_equal(pl_record_key_name(name, "hot line", "unc"), PL_EINVAL);
	memset(origin, 'o', sizeof(origin));
	origin[PL_RECORD_ORIGIN_MAX] = '\0';
	assert_int_equal(pl_record_key_name(
	                         name, origin,
	                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	                 0);
	assert_true(pl_key_name_is_valid(name, strlen(name)));
	origin[PL_RECORD_ORIGIN_MAX] = 'o';
	origin[PL_RECORD_ORIGIN_MAX + 1] = '\0';
	assert_int_equal(pl_record_key_name(name, origin, "unc"), PL_EINVAL);

	assert_true(pl_record_name_is_valid("a", 1));
	assert_true(pl_record_name_is_valid("dprk-un", 7));
	assert_true(pl_record_name_is_valid("exchange", 8));
	assert_false(pl_record_name_is_valid("", 0));
	assert_false(pl_record_name_is_valid("-a", 2));
	assert_false(pl_record_name_is_valid("a-", 2));
	assert_false(pl_record_name_is_valid("a.b", 3));
	assert_false(pl_record_name_is_valid("A", 1));

	for (int i = 1; i <= PL_KIND_COUNT; i++) {
		const char *s = pl_record_kind_name((enum pl_record_kind)i);
		assert_non_null(s);
		assert_int_equal(pl_record_kind_from_name(&k, s, strlen(s)), 0);
		assert_int_equal(k, i);
	}
	assert_null(pl_record_kind_name((enum pl_record_kind)0));
	assert_null(pl_record_kind_name((enum pl_record_kind)(PL_KIND_COUNT + 1)));
	assert_int_equal(pl_record_kind_from_name(&k, "sen", 3), PL_ENOTFOUND);
	assert_string_equal(pl_record_class_name(PL_CLASS_MEASURE), "measure");
	assert_string_equal(pl_ref_role_name(PL_ROLE_REPLY_TO), "reply-to");
	assert_string_equal(pl_position_name(PL_POSITION_OBJECT), "object");
	assert_true(pl_record_kind_is_exchange(PL_KIND_EXPIRE));
	assert_true(pl_record_kind_is_exchange(PL_KIND_INDEX));
	assert_false(pl_record_kind_is_exchange(PL_KIND_ANSWER));
	assert_int_equal(pl_record_kind_from_name(&k, "index", 5), 0);
	assert_int_equal(k, PL_KIND_INDEX);
}

/* ---- The doc's example section, printed for pasting ------------------------ */

static void print_examples(void)
{
	build_examples();
	for (size_t i = 0; i < nexamples; i++) {
		char hex[PL_RECORD_ID_HEX_LEN + 1];
		pl_record_id_format(hex, examples[i].id);
		printf("%zu. %s. Id `%.16s…`.\n\n```record\n%.*s```\n\n", i + 1, examples[i].title,
		       hex, (int)examples[i].len, examples[i].note);
	}
	teardown(NULL);
}

/* ---- One describer, two voices ------------------------------------------------------------ */

/* A record with only what pl_record_describe() reads (calloc'd: a record is large). */
static struct pl_record *bare(enum pl_record_kind kind, const char *author)
{
	struct pl_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->kind = kind;
	snprintf(r->author, sizeof(r->author), "%s", author);
	return r;
}

static void expect_describe(const struct pl_record *r, const struct pl_describe_context *c,
                            const char *want)
{
	char out[1024];

	pl_record_describe(out, sizeof(out), r, c);
	assert_string_equal(out, want);
}

/*
 * Every kind in both voices: the dossier report's words and parley thread's,
 * from one describer; what the caller knows (the target, a reply, the
 * citations, a receive) comes in through the context.
 */
static void test_describe(void **state)
{
	struct pl_describe_context rep = {.voice = PL_DESCRIBE_REPORT, .target = "it", .cited = ""};
	struct pl_describe_context thr = {.voice = PL_DESCRIBE_THREAD, .target = "it", .cited = ""};
	struct pl_record *send = bare(PL_KIND_SEND, "rok-mnd"), *r;
	char out[16];

	(void)state;
	send->cls = PL_CLASS_PROPOSAL;
	send->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_VIA | PL_RECORD_HAS_DEADLINE;
	pl_test_add_to(send, "kpa");
	pl_test_add_to(send, "nk");
	pl_test_add_to(send, "ri");
	snprintf(send->via, sizeof(send->via), "unc");
	send->deadline = 1763942400; /* 2025-11-24T00:00:00Z */
	expect_describe(send, &rep,
	                "sent a proposal to kpa, nk, ri via unc, reply by 2025-11-24T00:00:00Z");
	expect_describe(send, &thr,
	                "sent a proposal to kpa, nk and ri via unc, reply by 2025-11-24T00:00:00Z");
	rep.answering = "letter 1a2b3c4d\xe2\x80\xa6";
	thr.answering = "the letter 1a2b3c4d";
	expect_describe(send, &rep,
	                "replied with a proposal to kpa, nk, ri via unc answering letter "
	                "1a2b3c4d\xe2\x80\xa6, reply by 2025-11-24T00:00:00Z");
	expect_describe(send, &thr,
	                "replied with a proposal to kpa, nk and ri via unc, reply by "
	                "2025-11-24T00:00:00Z, answering the letter 1a2b3c4d");
	rep.answering = thr.answering = NULL;
	/* Cut at the size given, NUL-terminated. */
	pl_record_describe(out, sizeof(out), send, &thr);
	assert_string_equal(out, "sent a proposal");

	r = bare(PL_KIND_RECEIVE, "unc");
	expect_describe(r, &rep, "received it");
	expect_describe(r, &thr, "received it (content reached it)");
	thr.target_rec = send;
	expect_describe(r, &thr, "received it for relay (the sealed message reached it)");
	rep.target_rec = send;
	expect_describe(r, &rep, "received it (sealed) for relay");
	rep.target_rec = NULL;
	r->kind = PL_KIND_CONVEY;
	expect_describe(r, &rep, "conveyed it");
	expect_describe(r, &thr, "conveyed it to kpa, nk and ri");
	thr.target_rec = NULL;
	expect_describe(r, &thr, "conveyed it");
	r->kind = PL_KIND_DECLINE;
	snprintf(r->reason, sizeof(r->reason), "not our channel");
	r->has |= PL_RECORD_HAS_REASON;
	expect_describe(r, &rep, "declined it: \"not our channel\"");
	expect_describe(r, &thr, "declined to convey it: \"not our channel\"");
	r->kind = PL_KIND_REFUSE;
	expect_describe(r, &rep, "refused it: \"not our channel\"");
	r->has &= ~PL_RECORD_HAS_REASON;
	expect_describe(r, &thr, "refused it");
	r->kind = PL_KIND_ACCEPT;
	expect_describe(r, &rep, "accepted it");
	free(r);

	r = bare(PL_KIND_EXPIRE, "exchange");
	pl_test_add_to(r, "kpa");
	expect_describe(r, &rep, "recorded that it expired with no decision by kpa");
	expect_describe(r, &thr, "recorded that it expired with no decision by kpa");
	r->has |= PL_RECORD_HAS_VIA;
	snprintf(r->via, sizeof(r->via), "unc");
	expect_describe(r, &rep,
	                "recorded that it expired with no decision by kpa; the intermediary unc "
	                "never conveyed or declined it");
	rep.via_received = true;
	expect_describe(r, &rep,
	                "recorded that it expired with no decision by kpa; the intermediary unc "
	                "received it but never conveyed or declined it");
	rep.via_received = false;
	expect_describe(r, &thr,
	                "recorded that it expired: unc never conveyed or declined it, so it never "
	                "reached kpa");
	r->kind = PL_KIND_AVAILABLE;
	expect_describe(r, &thr, "made it available to kpa");
	free(r);

	r = bare(PL_KIND_STATEMENT, "us-wh");
	r->body_len = (size_t)snprintf(r->body, sizeof(r->body), "%s\n%s",
	                               "We remain open to talks without preconditions, and we say "
	                               "so once more today.",
	                               "Second line.");
	r->has |= PL_RECORD_HAS_BODY;
	rep.cited = "proposal 4f12c30d\xe2\x80\xa6";
	thr.cited = "the proposal 4f12c30d";
	expect_describe(r, &rep,
	                "made a public statement citing proposal 4f12c30d\xe2\x80\xa6: \"We remain "
	                "open to talks without preconditions, and we say so once more today.\"");
	expect_describe(
	        r, &thr,
	        "made a public statement, citing the proposal 4f12c30d: \"We remain open to "
	        "talks without preconditions, and we say so once more t\xe2\x80\xa6\"");
	rep.cited = thr.cited = "";
	r->cls = PL_CLASS_MEASURE;
	r->has |= PL_RECORD_HAS_CLASS;
	r->body_len = (size_t)snprintf(r->body, sizeof(r->body), "Closed.");
	expect_describe(r, &rep, "announced a measure: \"Closed.\"");
	expect_describe(r, &thr, "announced a measure: \"Closed.\"");
	free(r);

	r = bare(PL_KIND_CHECK, "exchange");
	pl_test_add_to(r, "kpa");
	pl_test_add_to(r, "unc");
	snprintf(r->line, sizeof(r->line), "pink");
	r->has |= PL_RECORD_HAS_LINE | PL_RECORD_HAS_DEADLINE;
	r->deadline = 1763942400;
	expect_describe(r, &rep, "checked line pink with kpa, unc, answer by 2025-11-24T00:00:00Z");
	expect_describe(r, &thr, "checked the line pink between kpa and unc");
	r->kind = PL_KIND_ANSWER;
	expect_describe(r, &rep, "answered it on line pink");
	expect_describe(r, &thr, "answered the check of the line pink");
	r->kind = PL_KIND_UNANSWERED;
	expect_describe(r, &rep, "recorded it unanswered by kpa, unc");
	expect_describe(r, &thr,
	                "recorded that kpa and unc did not answer the check of the line pink");
	r->kind = PL_KIND_MISSED;
	r->has |= PL_RECORD_HAS_DUE;
	r->due = 1763942400 - 3600;
	expect_describe(r, &rep,
	                "missed the check of line pink with kpa, unc due 2025-11-23T23:00:00Z (the "
	                "exchange was down)");
	expect_describe(
	        r, &thr,
	        "recorded that it missed the check of the line pink between kpa and unc due "
	        "at 2025-11-23T23:00:00Z: it was down");
	r->has &= ~PL_RECORD_HAS_DUE;
	r->kind = PL_KIND_CONSULT;
	expect_describe(r, &rep, "consulted kpa, unc on a draft, advice by 2025-11-24T00:00:00Z");
	expect_describe(r, &thr,
	                "consulted kpa and unc on a draft, advice by 2025-11-24T00:00:00Z");
	r->kind = PL_KIND_ADVISE;
	r->position = PL_POSITION_OBJECT;
	expect_describe(r, &rep, "advised on it: object");
	r->kind = PL_KIND_REGISTER;
	snprintf(r->party, sizeof(r->party), "kpa");
	expect_describe(r, &rep, "register");
	expect_describe(r, &thr, "registered the party kpa");
	r->kind = PL_KIND_REVOKE;
	expect_describe(r, &thr, "revoked keys of the party kpa");
	/* docs/records.md §6: an eviction is the operator's, and the timeline says so. */
	r->has |= PL_RECORD_HAS_REASON;
	snprintf(r->reason, sizeof(r->reason), "Expelled");
	expect_describe(
	        r, &thr,
	        "evicted the party kpa (the operator, without its signature): \"Expelled\"");
	expect_describe(r, &rep, "eviction of kpa by the operator: \"Expelled\"");
	r->has &= ~PL_RECORD_HAS_REASON;
	r->kind = PL_KIND_REGISTER;
	r->nrefs = 0;
	pl_test_add_ref(r, PL_ROLE_PREVIOUS, r->prev);
	expect_describe(r, &thr, "registered the party kpa again, after its previous register");
	r->nrefs = 0;
	r->nkeys = 2;
	expect_describe(r, &thr, "registered keys of the party kpa, signed by each");
	r->nkeys = 0;
	r->kind = PL_KIND_INDEX;
	expect_describe(r, &rep, "index");
	expect_describe(r, &thr, "committed to the thread index");
	free(r);
	free(send);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_doc_examples),  cmocka_unit_test(test_round_trip_every_kind),
	        cmocka_unit_test(test_send_faults),   cmocka_unit_test(test_body_faults),
	        cmocka_unit_test(test_text_faults),   cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_kind_faults),   cmocka_unit_test(test_eviction_signatures),
	        cmocka_unit_test(test_signatures),    cmocka_unit_test(test_sign_errors),
	        cmocka_unit_test(test_format_faults), cmocka_unit_test(test_ids),
	        cmocka_unit_test(test_names),         cmocka_unit_test(test_describe),
	};

	if (sodium_init() < 0)
		return 1;
	if (argc == 2 && strcmp(argv[1], "--examples") == 0) {
		print_examples();
		return 0;
	}
	return pl_test_main(tests, setup, teardown);
}
