/* Unit tests of the exchange engine: the scenario flows, every refusal, proofs, restarts, crashes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include <parley/box.h>
#include <parley/checkpoint.h>
#include <parley/cosignature.h>
#include <parley/exchange.h>
#include <parley/line.h>
#include <parley/note.h>
#include <parley/party.h>
#include <parley/proof.h>
#include <parley/record.h>
#include <parley/tiles.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

#include "testutil.h"

#define ORIGIN          "hotline.example"
#define T0              INT64_C(1763341200) /* 2025-11-17T01:00:00Z */
#define HOUR            3600
#define NPARTY          8
#define PL__TEST_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A test party: its keys and where its chain stands. */
struct party {
	char name[PL_RECORD_NAME_MAX + 1];
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_box_keypair enc;
	char vtext[512];
	char etext[512];
	uint64_t seq;
	uint8_t head[PL_HASH_BYTES];
};

struct fx {
	char dir[64];
	struct pl_exchange *ex;
	struct pl_exchange_options o;
	int64_t now;
	struct party p[NPARTY];
};

enum { ROK_MND, ROK_MOU, UNC, KPA, DPRK, US_NSC, US_WH, OUTSIDER };

static const char *const party_names[NPARTY] = {
        "rok-mnd", "rok-mou", "unc", "kpa", "dprk", "us-nsc", "us-wh", "outsider",
};

static int64_t fx_clock(void *arg)
{
	struct fx *f = arg;
	return __atomic_load_n(&f->now, __ATOMIC_SEQ_CST);
}

static void party_make(struct party *p, const char *name)
{
	char kn[PL_KEY_NAME_MAX + 1];
	struct pl_party_ekey ek;
	struct pl_buf b;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(kn, sizeof(kn), "%s/%s", ORIGIN, name);
	assert_int_equal(pl_key_generate(&p->sk, &p->vk, kn, PL_SIGTYPE_ED25519), 0);
	pl_box_keypair_generate(&p->enc);
	memset(&ek, 0, sizeof(ek));
	snprintf(ek.name, sizeof(ek.name), "%s", kn);
	memcpy(ek.pk, p->enc.pk, sizeof(ek.pk));
	pl_buf_init(&b, 511);
	assert_int_equal(pl_vkey_format(&p->vk, &b), 0);
	snprintf(p->vtext, sizeof(p->vtext), "%s", b.data);
	pl_buf_reset(&b);
	assert_int_equal(pl_party_ekey_format(&ek, &b), 0);
	snprintf(p->etext, sizeof(p->etext), "%s", b.data);
	pl_buf_release(&b);
}

static void fx_open(struct fx *f)
{
	struct pl_buf err;
	int ret;

	pl_buf_init(&err, 1024);
	ret = pl_exchange_open(&f->ex, f->dir, &f->o, &err);
	if (ret)
		fprintf(stderr, "open: %s: %s\n", pl_strerror(ret), err.data ? err.data : "");
	assert_int_equal(ret, 0);
	pl_buf_release(&err);
}

static void fx_close(struct fx *f)
{
	pl_exchange_close(f->ex);
	f->ex = NULL;
}

/*
 * Runs sql on the exchange's database behind its back (waiting up to 5 s for its lock);
 * returns how many rows the last statement changed.
 */
static int db_exec(struct fx *f, const char *sql)
{
	char path[128];
	sqlite3 *db = NULL;
	int n;

	snprintf(path, sizeof(path), "%s/parley.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	n = sqlite3_changes(db);
	sqlite3_close(db);
	return n;
}

static void fx_register(struct fx *f, int i)
{
	assert_int_equal(pl_exchange_party_add(f->ex, f->p[i].name, f->p[i].vtext, f->p[i].etext,
	                                       &f->p[i].sk, 1, NULL),
	                 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pl_vkey vk;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pl_exchange_XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	if (pl_exchange_init(f->dir, ORIGIN, &vk) != 0)
		return -1;
	f->now = T0;
	pl_exchange_options_default(&f->o);
	f->o.clock = fx_clock;
	f->o.clock_arg = f;
	f->o.manual_timers = true;
	f->o.readers = 4;
	for (int i = 0; i < NPARTY; i++)
		party_make(&f->p[i], party_names[i]);
	fx_open(f);
	for (int i = 0; i < NPARTY - 1; i++) /* the outsider is never registered */
		fx_register(f, i);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	const char *files[] = {"parley.db", "parley.db-wal", "parley.db-shm", "log.key",
	                       "log.vkey",  "parley.lock",   "published",     "old.db",
	                       "big.db",    "published.big", "published.old"};
	char p[128];

	fx_close(f);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
		unlink(p);
	}
	rmdir(f->dir);
	for (int i = 0; i < NPARTY; i++) {
		pl_skey_clear(&f->p[i].sk);
		pl_box_keypair_clear(&f->p[i].enc);
	}
	free(f);
	return 0;
}

/* ---- Building and submitting records ---- */

static struct pl_record *rec_new(struct fx *f, struct party *p, enum pl_record_kind kind)
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
	r->time = f->now;
	r->kind = kind;
	return r;
}

static void rec_body(struct pl_record *r, const char *text)
{
	r->has |= PL_RECORD_HAS_BODY;
	r->body_len = (size_t)snprintf(r->body, sizeof(r->body), "%s\n", text);
}

/* Signs r as p (freeing r) into out. */
static void rec_sign(struct party *p, struct pl_record *r, struct pl_buf *out)
{
	const char *why = NULL;
	int ret = pl_record_sign(out, r, &p->sk, 1, &why);

	if (ret)
		fprintf(stderr, "sign: %s\n", why ? why : "?");
	assert_int_equal(ret, 0);
	free(r);
}

/*
 * Signs r as p (freeing r), submits it and returns the status; on success
 * advances p's chain and fills *rc (if not NULL; else releases it).
 */
static int submit(struct fx *f, struct party *p, struct pl_record *r, struct pl_receipt *rc,
                  struct pl_exchange_refusal *why)
{
	struct pl_receipt tmp;
	struct pl_buf msg;
	int ret;

	pl_buf_init(&msg, PL_RECORD_MAX_BYTES);
	rec_sign(p, r, &msg);
	memset(&tmp, 0, sizeof(tmp));
	ret = pl_exchange_submit(f->ex, msg.data, msg.len, rc ? rc : &tmp, why);
	if (ret == 0) {
		p->seq++;
		memcpy(p->head, (rc ? rc : &tmp)->id, PL_HASH_BYTES);
	}
	pl_receipt_release(&tmp);
	pl_buf_release(&msg);
	return ret;
}

/* Uploads a blob sealed to the readers and fills the record's payload and commit lines. */
static void rec_payload(struct fx *f, struct pl_record *r, const char *uploader, const int *readers,
                        size_t n)
{
	uint8_t pks[8][PL_BOX_PK_BYTES], hash[PL_HASH_BYTES], *blob = NULL;
	const char *text = "Proposal for military talks to reset the MDL baseline.";
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		memcpy(pks[i], f->p[readers[i]].enc.pk, PL_BOX_PK_BYTES);
	assert_int_equal(pl_box_seal(&blob, &len, r->commit, NULL, (const uint8_t *)text,
	                             strlen(text), (const uint8_t(*)[PL_BOX_PK_BYTES])pks, n),
	                 0);
	assert_int_equal(pl_exchange_payload_put(f->ex, uploader, blob, len, hash), 0);
	pl_box_hash(r->payload, blob, len);
	assert_memory_equal(hash, r->payload, PL_HASH_BYTES);
	r->payload_size = len;
	r->has |= PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT;
	free(blob);
}

/* A send from party s to recipient `to` (via `via` if >= 0) with a deadline, sealed to both. */
static struct pl_record *rec_send(struct fx *f, int s, int to, int via, int64_t deadline)
{
	struct pl_record *r = rec_new(f, &f->p[s], PL_KIND_SEND);
	int readers[3] = {s, to, via};

	r->has |= PL_RECORD_HAS_CLASS;
	r->cls = PL_CLASS_PROPOSAL;
	pl_test_add_to(r, f->p[to].name);
	if (via >= 0) {
		r->has |= PL_RECORD_HAS_VIA;
		snprintf(r->via, sizeof(r->via), "%s", f->p[via].name);
	}
	if (deadline) {
		r->has |= PL_RECORD_HAS_DEADLINE;
		r->deadline = deadline;
	}
	rec_payload(f, r, f->p[s].name, readers, via >= 0 ? 3 : 2);
	return r;
}

static struct pl_record *rec_about(struct fx *f, int author, enum pl_record_kind kind,
                                   const uint8_t send[PL_HASH_BYTES])
{
	struct pl_record *r = rec_new(f, &f->p[author], kind);

	pl_test_add_ref(r, PL_ROLE_SUBJECT, send);
	if (kind == PL_KIND_DECLINE) {
		r->has |= PL_RECORD_HAS_REASON;
		snprintf(r->reason, sizeof(r->reason), "outside the Armistice channel's remit");
	}
	return r;
}

static struct pl_record *rec_statement(struct fx *f, int author, const char *text,
                                       const uint8_t *cites)
{
	struct pl_record *r = rec_new(f, &f->p[author], PL_KIND_STATEMENT);

	r->has |= PL_RECORD_HAS_CLASS;
	r->cls = PL_CLASS_STATEMENT;
	rec_body(r, text);
	if (cites)
		pl_test_add_ref(r, PL_ROLE_CITES, cites);
	return r;
}

/* Submits and expects success; returns the receipt's index and id. */
static uint64_t ok(struct fx *f, int author, struct pl_record *r, uint8_t id[PL_HASH_BYTES])
{
	struct pl_receipt rc;
	struct pl_exchange_refusal why;
	uint64_t index;
	int ret;

	memset(&why, 0, sizeof(why));
	ret = submit(f, &f->p[author], r, &rc, &why);
	if (ret)
		fprintf(stderr, "refused: %s: %s\n", pl_strerror(ret), why.reason);
	assert_int_equal(ret, 0);
	if (id)
		memcpy(id, rc.id, PL_HASH_BYTES);
	index = rc.index;
	pl_receipt_release(&rc);
	return index;
}

/* Submits and expects the error; why is returned for inspection. */
static void refused(struct fx *f, int author, struct pl_record *r, int want,
                    struct pl_exchange_refusal *why)
{
	struct pl_exchange_refusal tmp;
	int ret = submit(f, &f->p[author], r, NULL, why ? why : &tmp);

	assert_int_equal(ret, want);
}

/* ---- Checking what the exchange hands out ---- */

/* Verifies a receipt's tlog-proof with the proof module: index, inclusion, the log's signature. */
static void verify_proof(struct fx *f, const char *proof, size_t len, const char *record,
                         size_t rlen, uint64_t index, struct pl_checkpoint *cp_out)
{
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	struct pl_proof *p = NULL;
	uint8_t leaf[PL_HASH_BYTES];

	assert_non_null(cp);
	assert_int_equal(pl_proof_parse(&p, proof, len), 0);
	assert_int_equal(p->index, index);
	pl_tlog_leaf_hash(leaf, record, rlen);
	assert_int_equal(pl_proof_verify(p, leaf, ORIGIN, pl_exchange_vkey(f->ex), 1, cp, NULL), 0);
	assert_int_equal(pl_proof_open(proof, len, record, rlen, ORIGIN, pl_exchange_vkey(f->ex), 1,
	                               NULL, NULL),
	                 0);
	/* Another record does not verify with it. */
	leaf[0] ^= 1;
	assert_int_equal(pl_proof_verify(p, leaf, ORIGIN, pl_exchange_vkey(f->ex), 1, NULL, NULL),
	                 PL_EPROOF);
	pl_proof_free(p);
	if (cp_out)
		*cp_out = *cp;
	free(cp);
}

/* Checks that the checkpoint at a is consistent with the one at b through the engine's proof. */
static void verify_consistent(struct fx *f, const struct pl_checkpoint *a,
                              const struct pl_checkpoint *b)
{
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	size_t n = 0;

	assert_int_equal(pl_exchange_consistency(f->ex, a->size, b->size, proof, &n), 0);
	assert_int_equal(pl_tlog_verify_consistency(a->size, b->size, a->root, b->root,
	                                            (const uint8_t(*)[PL_HASH_BYTES])proof, n),
	                 0);
}

static void latest_checkpoint(struct fx *f, struct pl_checkpoint *cp)
{
	struct pl_buf b;

	pl_buf_init(&b, 65536);
	assert_int_equal(pl_exchange_checkpoint(f->ex, &b), 0);
	assert_int_equal(
	        pl_checkpoint_open(cp, NULL, b.data, b.len, ORIGIN, pl_exchange_vkey(f->ex), 1), 0);
	pl_buf_release(&b);
}

/* The kind of the record at index, as its text says. */
static void expect_kind(struct fx *f, uint64_t index, const char *kind)
{
	struct pl_exchange_entry e;
	char want[32];

	assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, index, &e), 0);
	snprintf(want, sizeof(want), "\nkind %s\n", kind);
	if (!strstr(e.note, want))
		fprintf(stderr, "record %llu:\n%s", (unsigned long long)index, e.note);
	assert_non_null(strstr(e.note, want));
	pl_exchange_entry_release(&e);
}

/* How many records at indexes [from, to) are of kind. */
static uint64_t count_kind(struct fx *f, uint64_t from, uint64_t to, const char *kind)
{
	char want[32];
	uint64_t n = 0;

	snprintf(want, sizeof(want), "\nkind %s\n", kind);
	for (uint64_t i = from; i < to; i++) {
		struct pl_exchange_entry e;
		assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, i, &e), 0);
		n += strstr(e.note, want) != NULL;
		pl_exchange_entry_release(&e);
	}
	return n;
}

/* True when the party's inbox holds the record at index. */
static bool inbox_has(struct fx *f, int party, uint64_t index)
{
	struct pl_exchange_list l;
	bool found = false;

	assert_int_equal(pl_exchange_inbox(f->ex, f->p[party].name, 0, 1000, &l), 0);
	for (size_t i = 0; i < l.n; i++)
		found = found || l.v[i].index == index;
	pl_exchange_list_release(&l);
	return found;
}

/* ---- Tests ---- */

static void test_init_open(void **state)
{
	struct fx *f = *state;
	struct pl_exchange *second = NULL;
	struct pl_checkpoint cp;
	struct pl_vkey vk;
	struct pl_buf err;

	assert_int_equal(pl_exchange_init(f->dir, ORIGIN, &vk), PL_EEXIST);
	assert_int_equal(pl_exchange_init(f->dir, "bad origin", &vk), PL_EINVAL);
	assert_string_equal(pl_exchange_origin(f->ex), ORIGIN);
	assert_string_equal(pl_exchange_vkey(f->ex)->name, ORIGIN);
	latest_checkpoint(f, &cp);
	/* One register record per party, each in its batch, which an index record ends. */
	assert_int_equal(cp.size, 2 * (NPARTY - 1));
	assert_int_equal(pl_exchange_size(f->ex), 2 * (NPARTY - 1));
	for (uint64_t i = 0; i < 2 * (NPARTY - 1); i++)
		expect_kind(f, i, i % 2 ? "index" : "register");
	/* One process at a time. */
	pl_buf_init(&err, 512);
	assert_int_equal(pl_exchange_open(&second, f->dir, &f->o, &err), PL_ESTATE);
	assert_non_null(strstr(err.data, "another process"));
	pl_buf_release(&err);
	assert_int_equal(pl_exchange_open(&second, "/nonexistent", &f->o, NULL), PL_ENOTFOUND);
	pl_exchange_close(NULL);
}

static void test_parties(void **state)
{
	struct fx *f = *state;
	struct pl_exchange_party *list = NULL, one;
	struct pl_receipt rc;
	struct party stranger;
	size_t n = 0;

	assert_int_equal(pl_exchange_parties(f->ex, &list, &n), 0);
	assert_int_equal(n, NPARTY - 1);
	assert_string_equal(list[0].name, "rok-mnd");
	assert_true(pl_vkey_equal(&list[2].vkey, &f->p[UNC].vk));
	assert_string_equal(list[2].enc_key, f->p[UNC].etext);
	assert_int_equal(list[2].register_index, 4); /* after two registers and their indexes */
	free(list);
	expect_kind(f, 0, "register");

	/* Twice, with a key of another exchange, with a self key that does not match. */
	assert_int_equal(pl_exchange_party_add(f->ex, "unc", f->p[UNC].vtext, f->p[UNC].etext,
	                                       &f->p[UNC].sk, 1, NULL),
	                 PL_EEXIST);
	assert_int_equal(pl_exchange_party_add(f->ex, "outsider", f->p[UNC].vtext, f->p[UNC].etext,
	                                       &f->p[UNC].sk, 1, NULL),
	                 PL_EKEY);
	assert_int_equal(pl_exchange_party_add(f->ex, "outsider", f->p[OUTSIDER].vtext,
	                                       f->p[OUTSIDER].etext, &f->p[UNC].sk, 1, NULL),
	                 PL_EKEY);
	assert_int_equal(pl_exchange_party_add(f->ex, "outsider", f->p[OUTSIDER].vtext,
	                                       f->p[OUTSIDER].etext, NULL, 0, NULL),
	                 PL_EKEY); /* the register record carries the party's self-signature */
	assert_int_equal(pl_exchange_party_add(f->ex, "Bad Name", f->p[OUTSIDER].vtext,
	                                       f->p[OUTSIDER].etext, NULL, 0, NULL),
	                 PL_EINVAL);
	assert_int_equal(pl_exchange_party_add(f->ex, "exchange", f->p[OUTSIDER].vtext,
	                                       f->p[OUTSIDER].etext, NULL, 0, NULL),
	                 PL_EINVAL);
	assert_int_equal(pl_exchange_party_add(f->ex, "outsider", "junk", f->p[OUTSIDER].etext,
	                                       NULL, 0, NULL),
	                 PL_EMALFORMED);
	party_make(&stranger, "stranger");
	assert_int_equal(pl_exchange_party_add(f->ex, "stranger", stranger.vtext, "junk",
	                                       &stranger.sk, 1, NULL),
	                 PL_EMALFORMED);

	/* Revoke: a record, the directory says so, and the key can no longer submit. */
	assert_int_equal(pl_exchange_party_revoke(f->ex, "us-wh", &f->p[US_WH].sk, 1, &rc), 0);
	expect_kind(f, rc.index, "revoke");
	assert_int_equal(pl_exchange_party_get(f->ex, "us-wh", &one), 0);
	assert_true(one.revoked);
	assert_int_equal(one.revoke_index, rc.index);
	pl_receipt_release(&rc);
	assert_int_equal(pl_exchange_party_revoke(f->ex, "us-wh", &f->p[US_WH].sk, 1, NULL),
	                 PL_ENOTFOUND);
	assert_int_equal(pl_exchange_party_revoke(f->ex, "nobody", &f->p[US_WH].sk, 1, NULL),
	                 PL_ENOTFOUND);
	refused(f, US_WH, rec_statement(f, US_WH, "open to an exchange of letters", NULL),
	        PL_EDENIED, NULL);
	assert_int_equal(pl_exchange_party_get(f->ex, "nobody", &one), PL_ENOTFOUND);
	/* A party's inbox shows its own registration, not the others'. */
	assert_true(inbox_has(f, UNC, 4));
	assert_false(inbox_has(f, KPA, 4));
	/* Nobody's inbox shows the index records: they are the exchange's bookkeeping. */
	assert_false(inbox_has(f, UNC, 5));
	assert_false(inbox_has(f, ROK_MND, 1));
	pl_skey_clear(&stranger.sk);
}

/* docs/records.md's two steps: the exchange prepares the text, the party signs, the exchange logs.
 */
static void test_party_two_step(void **state)
{
	struct fx *f = *state;
	struct party np, other;
	struct pl_receipt rc;
	struct pl_exchange_party one;
	struct pl_buf text, note, stale;

	party_make(&np, "dprk-un");
	party_make(&other, "dprk-leader");
	pl_buf_init(&text, PL_RECORD_MAX_BYTES);
	pl_buf_init(&note, PL_RECORD_MAX_BYTES);
	pl_buf_init(&stale, PL_RECORD_MAX_BYTES);

	assert_int_equal(
	        pl_exchange_party_prepare(f->ex, false, "dprk-un", np.vtext, np.etext, &text), 0);
	assert_non_null(strstr(text.data, "\nkind register\n"));
	/* Signed by another key: refused. */
	assert_int_equal(pl_note_sign(&note, text.data, text.len, &other.sk, 1), 0);
	assert_int_not_equal(pl_exchange_party_complete(f->ex, note.data, note.len, NULL), 0);
	pl_buf_reset(&note);
	assert_int_equal(pl_note_sign(&note, text.data, text.len, &np.sk, 1), 0);
	assert_int_equal(pl_exchange_party_complete(f->ex, note.data, note.len, &rc), 0);
	expect_kind(f, rc.index, "register");
	pl_receipt_release(&rc);
	assert_int_equal(pl_exchange_party_get(f->ex, "dprk-un", &one), 0);
	assert_true(pl_vkey_equal(&one.vkey, &np.vk));
	/* The same note again, and a register of a known name. */
	assert_int_not_equal(pl_exchange_party_complete(f->ex, note.data, note.len, NULL), 0);
	pl_buf_reset(&text);
	assert_int_equal(
	        pl_exchange_party_prepare(f->ex, false, "dprk-un", np.vtext, np.etext, &text),
	        PL_EEXIST);
	/* The new member can act. */
	f->p[OUTSIDER] = np;
	ok(f, OUTSIDER, rec_statement(f, OUTSIDER, "the mission speaks", NULL), NULL);

	/* A prepared text goes stale once the exchange logs anything else. */
	pl_buf_reset(&text);
	assert_int_equal(pl_exchange_party_prepare(f->ex, false, "dprk-leader", other.vtext,
	                                           other.etext, &text),
	                 0);
	assert_int_equal(pl_note_sign(&stale, text.data, text.len, &other.sk, 1), 0);
	ok(f, ROK_MND, rec_send(f, ROK_MND, KPA, -1, 0), NULL); /* the exchange logs `available` */
	assert_int_equal(pl_exchange_party_complete(f->ex, stale.data, stale.len, NULL), PL_ECHAIN);

	/* Revoke in two steps, from the directory's key. */
	pl_buf_reset(&text);
	pl_buf_reset(&note);
	assert_int_equal(pl_exchange_party_prepare(f->ex, true, "dprk-un", NULL, NULL, &text), 0);
	assert_non_null(strstr(text.data, "\nkind revoke\n"));
	assert_int_equal(pl_note_sign(&note, text.data, text.len, &np.sk, 1), 0);
	assert_int_equal(pl_exchange_party_complete(f->ex, note.data, note.len, NULL), 0);
	assert_int_equal(pl_exchange_party_get(f->ex, "dprk-un", &one), 0);
	assert_true(one.revoked);
	assert_int_equal(pl_exchange_party_prepare(f->ex, true, "dprk-un", NULL, NULL, &text),
	                 PL_ENOTFOUND);
	assert_int_equal(pl_exchange_party_prepare(f->ex, true, "nobody", NULL, NULL, &text),
	                 PL_ENOTFOUND);

	/* Only a register or revoke of this exchange, signed by the party alone. */
	pl_buf_reset(&note);
	rec_sign(&f->p[UNC], rec_statement(f, UNC, "not a register", NULL), &note);
	assert_int_equal(pl_exchange_party_complete(f->ex, note.data, note.len, NULL), PL_EINVAL);
	assert_int_equal(pl_exchange_party_complete(f->ex, "junk", 4, NULL), PL_EMALFORMED);

	pl_buf_release(&text);
	pl_buf_release(&note);
	pl_buf_release(&stale);
	pl_skey_clear(&other.sk);
	memset(&f->p[OUTSIDER], 0, sizeof(f->p[OUTSIDER]));
	party_make(&f->p[OUTSIDER], "outsider");
}

/* The record at index, as any reader reads it, parsed from its note; the caller frees it. */
static struct pl_record *record_parsed_at(struct fx *f, uint64_t index)
{
	struct pl_exchange_entry e;
	struct pl_record *r = calloc(1, sizeof(*r));
	const char *sep;

	assert_non_null(r);
	assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, index, &e), 0);
	sep = strstr(e.note, "\n\n");
	assert_non_null(sep);
	assert_int_equal(pl_record_parse(r, e.note, (size_t)(sep - e.note) + 1, NULL), 0);
	pl_exchange_entry_release(&e);
	return r;
}

/* S1 (b), declined: a proposal via the UNC, received, then declined. */
static void test_s1_relay_declined(void **state)
{
	struct fx *f = *state;
	struct pl_exchange_refusal why;
	struct pl_exchange_list l;
	uint8_t send[PL_HASH_BYTES], *blob = NULL;
	uint64_t s, rcv, dec;
	size_t blen = 0;

	s = ok(f, ROK_MND, rec_send(f, ROK_MND, KPA, UNC, T0 + 7 * 24 * HOUR), send);
	expect_kind(f, s + 1, "available"); /* to the intermediary, in the same batch */
	expect_kind(f, s + 2, "index");     /* which ends with its index record */
	assert_int_equal(pl_exchange_size(f->ex), s + 3);
	assert_true(inbox_has(f, UNC, s));
	assert_true(inbox_has(f, UNC, s + 1));
	assert_false(inbox_has(f, KPA, s)); /* not before it is conveyed */
	assert_false(inbox_has(f, KPA, s + 1));

	/* The recipient cannot act on what never reached it; a stranger cannot relay it. */
	refused(f, KPA, rec_about(f, KPA, PL_KIND_RECEIVE, send), PL_ERULE, &why);
	assert_non_null(strstr(why.reason, "available"));
	refused(f, KPA, rec_about(f, KPA, PL_KIND_REFUSE, send), PL_ERULE, NULL);
	refused(f, KPA, rec_about(f, KPA, PL_KIND_CONVEY, send), PL_ERULE, &why);
	assert_non_null(strstr(why.reason, "intermediary"));

	f->now += HOUR;
	rcv = ok(f, UNC, rec_about(f, UNC, PL_KIND_RECEIVE, send), NULL);
	dec = ok(f, UNC, rec_about(f, UNC, PL_KIND_DECLINE, send), NULL);
	assert_true(inbox_has(f, ROK_MND, s + 1));
	assert_true(inbox_has(f, ROK_MND, rcv));
	assert_true(inbox_has(f, ROK_MND, dec));
	assert_false(inbox_has(f, KPA, dec));
	/* Conveyed or declined once. */
	refused(f, UNC, rec_about(f, UNC, PL_KIND_CONVEY, send), PL_ERULE, &why);
	refused(f, UNC, rec_about(f, UNC, PL_KIND_DECLINE, send), PL_ERULE, NULL);

	/* The blob only for its readers. */
	assert_int_equal(pl_exchange_payload_get(f->ex, "kpa", send, &blob, &blen), PL_ENOTFOUND);
	{
		struct pl_record *r = record_parsed_at(f, s);

		assert_int_equal(pl_exchange_payload_get(f->ex, "kpa", r->payload, &blob, &blen),
		                 0);
		assert_int_equal(blen, r->payload_size);
		free(blob);
		assert_int_equal(pl_exchange_payload_get(f->ex, "dprk", r->payload, &blob, &blen),
		                 PL_ENOTFOUND);
		assert_int_equal(
		        pl_exchange_payload_get(f->ex, "outsider", r->payload, &blob, &blen),
		        PL_ENOTFOUND);
		free(r);
	}

	/* A declined send does not expire. */
	f->now += 8 * 24 * HOUR;
	assert_int_equal(pl_exchange_run_timers(f->ex), 0);

	/* The thread: the send and every record about it. */
	assert_int_equal(pl_exchange_thread(f->ex, PL_EXCHANGE_READER_ALL, send, 0, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.v[0].index, s);
	assert_int_equal(l.v[1].index, s + 1);
	assert_int_equal(l.v[2].index, rcv);
	assert_int_equal(l.v[3].index, dec);
	pl_exchange_list_release(&l);
}

/* S1 (b), silence: the UNC receives and never acts; the deadline expires it. */
static void test_s1_relay_expired(void **state)
{
	struct fx *f = *state;
	uint8_t send[PL_HASH_BYTES];
	uint64_t s, e;
	struct pl_exchange_entry ent;

	s = ok(f, ROK_MND, rec_send(f, ROK_MND, KPA, UNC, T0 + 2 * HOUR), send);
	ok(f, UNC, rec_about(f, UNC, PL_KIND_RECEIVE, send), NULL);
	f->now = T0 + HOUR;
	assert_int_equal(pl_exchange_run_timers(f->ex), 0); /* not yet */
	f->now = T0 + 2 * HOUR + 1;
	assert_int_equal(pl_exchange_run_timers(f->ex), 1);
	e = pl_exchange_size(f->ex) - 2; /* the index record ends the batch */
	expect_kind(f, e, "expire");
	expect_kind(f, e + 1, "index");
	assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, e, &ent), 0);
	assert_non_null(strstr(ent.note, "\nvia unc\n"));
	assert_non_null(strstr(ent.note, "\nto kpa\n"));
	pl_exchange_entry_release(&ent);
	assert_int_equal(pl_exchange_run_timers(f->ex), 0); /* once */
	assert_true(inbox_has(f, ROK_MND, e));
	assert_true(inbox_has(f, UNC, e));
	assert_false(inbox_has(f, KPA, e));
	/* Too late to convey. */
	refused(f, UNC, rec_about(f, UNC, PL_KIND_CONVEY, send), PL_ERULE, NULL);
	(void)s;
}

/* S1 (b), conveyed: the UNC conveys, the KPA receives and accepts; nothing expires. */
static void test_s1_relay_conveyed(void **state)
{
	struct fx *f = *state;
	uint8_t send[PL_HASH_BYTES];
	uint64_t s, c, acc;

	s = ok(f, ROK_MND, rec_send(f, ROK_MND, KPA, UNC, T0 + 2 * HOUR), send);
	ok(f, UNC, rec_about(f, UNC, PL_KIND_RECEIVE, send), NULL);
	c = ok(f, UNC, rec_about(f, UNC, PL_KIND_CONVEY, send), NULL);
	expect_kind(f, c + 1, "available"); /* to the recipient, in the convey's batch */
	assert_true(inbox_has(f, KPA, c));
	assert_true(inbox_has(f, KPA, c + 1));
	ok(f, KPA, rec_about(f, KPA, PL_KIND_RECEIVE, send), NULL);
	acc = ok(f, KPA, rec_about(f, KPA, PL_KIND_ACCEPT, send), NULL);
	refused(f, KPA, rec_about(f, KPA, PL_KIND_ACCEPT, send), PL_ERULE, NULL);
	refused(f, KPA, rec_about(f, KPA, PL_KIND_RECEIVE, send), PL_ERULE, NULL);
	refused(f, UNC, rec_about(f, UNC, PL_KIND_ACCEPT, send), PL_ERULE, NULL);
	assert_true(inbox_has(f, ROK_MND, acc));
	assert_true(inbox_has(f, UNC, acc));
	f->now = T0 + 3 * HOUR;
	assert_int_equal(pl_exchange_run_timers(f->ex), 0);
	(void)s;
}

/* S1 (a): consulted the UNC, which advised; then public statements citing the records. */
static void test_s1_consult(void **state)
{
	struct fx *f = *state;
	struct pl_exchange_list l;
	struct pl_record *r;
	uint8_t consult[PL_HASH_BYTES];
	uint64_t c, a, st1, st2;
	int readers[2] = {ROK_MND, UNC};

	r = rec_new(f, &f->p[ROK_MND], PL_KIND_CONSULT);
	pl_test_add_to(r, "unc");
	rec_payload(f, r, "rok-mnd", readers, 2);
	c = ok(f, ROK_MND, r, consult);
	assert_true(inbox_has(f, UNC, c));
	assert_false(inbox_has(f, KPA, c));
	r = rec_new(f, &f->p[UNC], PL_KIND_ADVISE);
	pl_test_add_ref(r, PL_ROLE_CONSULT, consult);
	r->has |= PL_RECORD_HAS_POSITION;
	r->position = PL_POSITION_NOTED;
	a = ok(f, UNC, r, NULL);
	assert_true(inbox_has(f, ROK_MND, a));
	/* Only the consulted party advises, once. */
	r = rec_new(f, &f->p[KPA], PL_KIND_ADVISE);
	pl_test_add_ref(r, PL_ROLE_CONSULT, consult);
	r->has |= PL_RECORD_HAS_POSITION;
	r->position = PL_POSITION_CONCUR;
	refused(f, KPA, r, PL_ERULE, NULL);

	st1 = ok(f, ROK_MND,
	         rec_statement(f, ROK_MND, "Prior coordination with the UNC took place.", consult),
	         NULL);
	st2 = ok(f, UNC,
	         rec_statement(f, UNC,
	                       "We have not conveyed any messages or proposals specific to "
	                       "inter-Korean dialogue.",
	                       NULL),
	         NULL);
	assert_int_equal(pl_exchange_statements(f->ex, 0, 0, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].index, st1);
	assert_int_equal(l.v[1].index, st2);
	assert_int_equal(l.next, st2 + 1);
	pl_exchange_list_release(&l);
	assert_int_equal(pl_exchange_statements(f->ex, st1 + 1, 0, &l), 0);
	assert_int_equal(l.n, 1);
	pl_exchange_list_release(&l);
	assert_true(inbox_has(f, KPA, st2)); /* public */
	/* The consult's thread holds the advice and the statement that cites it. */
	assert_int_equal(pl_exchange_thread(f->ex, PL_EXCHANGE_READER_ALL, consult, 0, &l), 0);
	assert_int_equal(l.n, 3);
	pl_exchange_list_release(&l);
}

/* S3: two proposals with deadlines, no reply; both expire; the answer comes as a statement. */
static void test_s3_expire(void **state)
{
	struct fx *f = *state;
	uint8_t mil[PL_HASH_BYTES], red[PL_HASH_BYTES];
	uint64_t m, r, n0;

	m = ok(f, ROK_MND, rec_send(f, ROK_MND, KPA, -1, T0 + 4 * 24 * HOUR), mil);
	expect_kind(f, m + 1, "available");
	assert_true(inbox_has(f, KPA, m));
	assert_true(inbox_has(f, KPA, m + 1));
	r = ok(f, ROK_MOU, rec_send(f, ROK_MOU, KPA, -1, T0 + 5 * 24 * HOUR), red);
	expect_kind(f, r + 1, "available");

	f->now = T0 + 4 * 24 * HOUR + 60;
	n0 = pl_exchange_size(f->ex);
	assert_int_equal(pl_exchange_run_timers(f->ex), 1);
	expect_kind(f, n0, "expire");
	f->now = T0 + 6 * 24 * HOUR;
	assert_int_equal(pl_exchange_run_timers(f->ex), 1);
	expect_kind(f, n0 + 1, "index");
	expect_kind(f, n0 + 2, "expire");
	assert_true(inbox_has(f, KPA, n0));
	assert_true(inbox_has(f, ROK_MND, n0));
	/* Too late to refuse now. */
	refused(f, KPA, rec_about(f, KPA, PL_KIND_REFUSE, mil), PL_ERULE, NULL);
	/* An author's clock a little ahead of the exchange's: still made available. */
	{
		struct pl_record *ahead = rec_send(f, ROK_MND, KPA, -1, 0);
		ahead->time = f->now + 120;
		m = ok(f, ROK_MND, ahead, NULL);
		expect_kind(f, m + 1, "available");
	}
	ok(f, DPRK, rec_statement(f, DPRK, "riddled with sophistries", mil), NULL);
	ok(f, US_NSC,
	   rec_statement(f, US_NSC, "conditions must change before there is any scope for talks",
	                 NULL),
	   NULL);
}

/* Every refusal, with its code. */
static void test_rejections(void **state)
{
	struct fx *f = *state;
	struct pl_exchange_refusal why;
	struct pl_receipt rc;
	struct pl_record *r;
	struct pl_buf msg;
	uint8_t first[PL_HASH_BYTES], unknown[PL_HASH_BYTES];
	struct party saved;

	ok(f, UNC, rec_statement(f, UNC, "first", NULL), first);
	saved = f->p[UNC];
	ok(f, UNC, rec_statement(f, UNC, "second", NULL), NULL);

	/* Chain conflict: seq 2 again, with different content (a fork attempt). */
	f->p[UNC] = saved;
	memset(&why, 0, sizeof(why));
	refused(f, UNC, rec_statement(f, UNC, "second, rewritten", NULL), PL_ECHAIN, &why);
	assert_true(why.has_head);
	assert_int_equal(why.head_seq, 2);
	f->p[UNC].seq = 2;
	memcpy(f->p[UNC].head, why.head_id, PL_HASH_BYTES);
	/* A gap. */
	f->p[UNC].seq = 5;
	refused(f, UNC, rec_statement(f, UNC, "gap", NULL), PL_ECHAIN, &why);
	f->p[UNC].seq = 2;
	/* A first record that is not seq 1 for a key with no record. */
	f->p[KPA].seq = 3;
	memset(&why, 0, sizeof(why));
	refused(f, KPA, rec_statement(f, KPA, "no history", NULL), PL_ECHAIN, &why);
	assert_false(why.has_head);
	f->p[KPA].seq = 0;

	/* Unknown reference. */
	memset(unknown, 0x5a, sizeof(unknown));
	refused(f, UNC, rec_about(f, UNC, PL_KIND_CONVEY, unknown), PL_ENOTFOUND, NULL);
	refused(f, UNC, rec_statement(f, UNC, "cites nothing real", unknown), PL_ENOTFOUND, NULL);
	/* A reference of the wrong kind. */
	refused(f, UNC, rec_about(f, UNC, PL_KIND_CONVEY, first), PL_ERULE, NULL);

	/* Not a member, and a key of another exchange. */
	refused(f, OUTSIDER, rec_statement(f, OUTSIDER, "let me in", NULL), PL_EDENIED, NULL);
	{
		struct party other = f->p[UNC];
		struct pl_vkey ovk;
		assert_int_equal(
		        pl_key_generate(&other.sk, &ovk, "other.example/unc", PL_SIGTYPE_ED25519),
		        0);
		r = rec_statement(f, UNC, "elsewhere", NULL);
		snprintf(r->exchange, sizeof(r->exchange), "other.example");
		pl_buf_init(&msg, PL_RECORD_MAX_BYTES);
		rec_sign(&other, r, &msg);
		assert_int_equal(pl_exchange_submit(f->ex, msg.data, msg.len, &rc, &why),
		                 PL_EDENIED);
		pl_buf_release(&msg);
		pl_skey_clear(&other.sk);
	}

	/* Sending to a party that is not registered. */
	{
		int readers[2] = {ROK_MND, OUTSIDER};
		r = rec_new(f, &f->p[ROK_MND], PL_KIND_SEND);
		r->has |= PL_RECORD_HAS_CLASS;
		r->cls = PL_CLASS_MESSAGE;
		pl_test_add_to(r, "outsider");
		rec_payload(f, r, "rok-mnd", readers, 2);
		refused(f, ROK_MND, r, PL_ERULE, NULL);
	}

	/* A payload never uploaded, or of another size. */
	r = rec_send(f, ROK_MND, KPA, -1, 0);
	r->payload[0] ^= 1;
	refused(f, ROK_MND, r, PL_ENOTFOUND, NULL);
	r = rec_send(f, ROK_MND, KPA, -1, 0);
	r->payload_size++;
	refused(f, ROK_MND, r, PL_ERULE, NULL);

	/* Time too far from the exchange clock. */
	r = rec_statement(f, UNC, "from the future", NULL);
	r->time += 2 * HOUR;
	refused(f, UNC, r, PL_ERULE, &why);
	assert_non_null(strstr(why.reason, "clock"));

	/* Bad signature, garbage, too large, a kind only the exchange authors. */
	pl_buf_init(&msg, PL_RECORD_MAX_BYTES + 8);
	rec_sign(&f->p[UNC], rec_statement(f, UNC, "tampered", NULL), &msg);
	msg.data[msg.len - 10] = msg.data[msg.len - 10] == 'A' ? 'B' : 'A';
	assert_int_equal(pl_exchange_submit(f->ex, msg.data, msg.len, &rc, &why), PL_EVERIFY);
	assert_int_equal(pl_exchange_submit(f->ex, "garbage\n", 8, &rc, &why), PL_EMALFORMED);
	assert_int_equal(pl_exchange_submit(f->ex, msg.data, 0, &rc, &why), PL_EMALFORMED);
	pl_buf_reset(&msg);
	for (size_t i = 0; i <= PL_RECORD_MAX_BYTES; i++)
		assert_int_equal(pl_buf_add(&msg, "x", 1), 0);
	assert_int_equal(pl_exchange_submit(f->ex, msg.data, msg.len, &rc, &why), PL_ETOOBIG);
	pl_buf_release(&msg);
	r = rec_about(f, UNC, PL_KIND_AVAILABLE, first);
	pl_test_add_to(r, "kpa");
	pl_buf_init(&msg, PL_RECORD_MAX_BYTES);
	/* Only the exchange authors `available`. */
	rec_sign(&f->p[UNC], r, &msg);
	assert_int_equal(pl_exchange_submit(f->ex, msg.data, msg.len, &rc, &why), PL_EMALFORMED);
	pl_buf_release(&msg);

	/* The same record twice. */
	pl_buf_init(&msg, PL_RECORD_MAX_BYTES);
	rec_sign(&f->p[UNC], rec_statement(f, UNC, "once", NULL), &msg);
	assert_int_equal(pl_exchange_submit(f->ex, msg.data, msg.len, &rc, &why), 0);
	memset(&why, 0, sizeof(why));
	{
		struct pl_receipt rc2;
		struct pl_checkpoint cp;
		assert_int_equal(pl_exchange_submit(f->ex, msg.data, msg.len, &rc2, &why),
		                 PL_EEXIST);
		assert_int_equal(why.head_index, rc.index);
		/* The retry's receipt: the same record, proved under the latest checkpoint. */
		memset(&rc2, 0xff, sizeof(rc2));
		assert_int_equal(pl_exchange_receipt_get(f->ex, why.head_index, &rc2), 0);
		assert_int_equal(rc2.index, rc.index);
		assert_memory_equal(rc2.id, rc.id, PL_HASH_BYTES);
		assert_int_equal(rc2.size, pl_exchange_size(f->ex));
		verify_proof(f, rc2.proof, rc2.proof_len, msg.data, msg.len, rc.index, &cp);
		assert_int_equal(cp.size, rc2.size);
		assert_true(rc2.checkpoint_len > 0 && rc2.checkpoint[rc2.checkpoint_len] == '\0');
		assert_int_equal(strlen(rc2.checkpoint), rc2.checkpoint_len);
		assert_true(strstr(rc2.proof, rc2.checkpoint) != NULL);
		pl_receipt_release(&rc2);
		assert_null(rc2.proof);
		assert_int_equal(pl_exchange_receipt_get(f->ex, pl_exchange_size(f->ex), &rc2),
		                 PL_ENOTFOUND);
		assert_int_equal(pl_exchange_receipt_get(NULL, 0, &rc2), PL_EINVAL);
	}
	pl_receipt_release(&rc);
	pl_buf_release(&msg);
	assert_int_equal(pl_exchange_submit(NULL, "x", 1, &rc, NULL), PL_EINVAL);
}

/* Two records with the same seq reach one batch: the second is refused with the head. */
struct async_box {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int status[2];
	uint8_t id[2][PL_HASH_BYTES];
	struct pl_exchange_refusal why[2];
};

struct async_slot {
	struct async_box *box;
	int i;
};

static void async_done(void *arg, int status, struct pl_receipt *r,
                       const struct pl_exchange_refusal *why)
{
	struct async_slot *s = arg;

	pthread_mutex_lock(&s->box->mu);
	s->box->status[s->i] = status;
	if (status == 0)
		memcpy(s->box->id[s->i], r->id, PL_HASH_BYTES);
	else
		s->box->why[s->i] = *why;
	s->box->done++;
	pthread_cond_signal(&s->box->cv);
	pthread_mutex_unlock(&s->box->mu);
}

/*
 * Reopens the exchange so that two submissions always share one batch (it
 * waits up to 2 s for the second), with an empty box for their answers.
 */
static void reopen_in_pairs(struct fx *f, struct async_box *box)
{
	fx_close(f);
	f->o.batch_max = 2;
	f->o.batch_age_us = 2000000;
	f->o.batch_idle_us = 2000000;
	fx_open(f);
	memset(box, 0, sizeof(*box));
	pthread_mutex_init(&box->mu, NULL);
	pthread_cond_init(&box->cv, NULL);
}

static void test_same_seq_one_batch(void **state)
{
	struct fx *f = *state;
	struct async_box box;
	struct async_slot slot[2] = {{&box, 0}, {&box, 1}};
	struct pl_buf a, b;
	struct party saved = f->p[UNC];
	uint64_t size0;

	reopen_in_pairs(f, &box);
	pl_buf_init(&a, PL_RECORD_MAX_BYTES);
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	rec_sign(&f->p[UNC], rec_statement(f, UNC, "one", NULL), &a);
	rec_sign(&f->p[UNC], rec_statement(f, UNC, "the other", NULL), &b);
	size0 = pl_exchange_size(f->ex);
	assert_int_equal(pl_exchange_submit_async(
	                         f->ex, a.data, a.len,
	                         &(struct pl_exchange_done){.fn = async_done, .arg = &slot[0]}),
	                 0);
	assert_int_equal(pl_exchange_submit_async(
	                         f->ex, b.data, b.len,
	                         &(struct pl_exchange_done){.fn = async_done, .arg = &slot[1]}),
	                 0);
	pthread_mutex_lock(&box.mu);
	while (box.done < 2)
		pthread_cond_wait(&box.cv, &box.mu);
	pthread_mutex_unlock(&box.mu);
	assert_int_equal(box.status[0], 0);
	assert_int_equal(box.status[1], PL_ECHAIN);
	assert_true(box.why[1].has_head);
	assert_int_equal(box.why[1].head_seq, 1);
	assert_memory_equal(box.why[1].head_id, box.id[0], PL_HASH_BYTES);
	assert_int_equal(box.why[1].head_index, size0);
	assert_int_equal(pl_exchange_size(f->ex), size0 + 2); /* the statement and the index */
	/* A refused validation calls back at once, with the same error. */
	assert_int_equal(pl_exchange_submit_async(
	                         f->ex, "junk", 4,
	                         &(struct pl_exchange_done){.fn = async_done, .arg = &slot[0]}),
	                 PL_EMALFORMED);
	assert_int_equal(box.done, 3);
	assert_int_equal(box.status[0], PL_EMALFORMED);
	pl_buf_release(&a);
	pl_buf_release(&b);
	pthread_mutex_destroy(&box.mu);
	pthread_cond_destroy(&box.cv);
	(void)saved;
}

struct admit_seen {
	char key[PL_KEY_NAME_MAX + 1];
	bool allow;
};

static bool admit_note(void *arg, const char *key_name)
{
	struct admit_seen *a = arg;

	snprintf(a->key, sizeof(a->key), "%s", key_name);
	return a->allow;
}

static void done_ignore(void *arg, int status, struct pl_receipt *r,
                        const struct pl_exchange_refusal *why)
{
	(void)arg;
	(void)status;
	(void)r;
	(void)why;
}

/*
 * The admit hook is asked with the signing key's name once the signature
 * verified; a refusal is PL_ELIMIT and logs nothing. A record with a bad
 * signature never reaches it.
 */
static void test_admit_hook(void **state)
{
	struct fx *f = *state;
	struct admit_seen seen = {.allow = false};
	struct pl_exchange_done done = {.fn = done_ignore, .arg = &seen, .admit = admit_note};
	struct pl_buf a;
	uint64_t size0 = pl_exchange_size(f->ex);
	char *bad;

	pl_buf_init(&a, PL_RECORD_MAX_BYTES);
	rec_sign(&f->p[UNC], rec_statement(f, UNC, "limited", NULL), &a);
	bad = strdup(a.data);
	assert_non_null(bad);
	bad[strlen(bad) - 3] ^= 1; /* inside the signature's base64 */
	assert_int_not_equal(pl_exchange_submit_async(f->ex, bad, a.len, &done), 0);
	assert_string_equal(seen.key, "");
	assert_int_equal(pl_exchange_submit_async(f->ex, a.data, a.len, &done), PL_ELIMIT);
	assert_string_equal(seen.key, f->p[UNC].sk.name);
	assert_int_equal(pl_exchange_size(f->ex), size0);
	seen.allow = true;
	assert_int_equal(pl_exchange_submit_async(f->ex, a.data, a.len, &done), 0);
	free(bad);
	pl_buf_release(&a);
}

/* Proofs verify with the tlog module; checkpoints of successive batches are consistent. */
static void test_proofs_tiles(void **state)
{
	struct fx *f = *state;
	struct pl_checkpoint *cps = calloc(40, sizeof(*cps));
	uint8_t *tile = malloc(PL_TILE_BYTES), leaf[PL_HASH_BYTES];
	struct pl_buf b, t, cp;
	struct pl_exchange_entry e;
	uint64_t size;
	size_t ncps = 0;

	assert_non_null(cps);
	assert_non_null(tile);
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	pl_buf_init(&t, 1u << 20);
	pl_buf_init(&cp, 65536);
	/* 147 batches of a statement and its index record after the 14 entries of setup: 308. */
	for (int i = 0; i < 147; i++) {
		struct pl_receipt rc;
		char text[32];
		pl_buf_reset(&b);
		snprintf(text, sizeof(text), "statement %d", i);
		rec_sign(&f->p[i % 2 ? UNC : KPA], rec_statement(f, i % 2 ? UNC : KPA, text, NULL),
		         &b);
		assert_int_equal(pl_exchange_submit(f->ex, b.data, b.len, &rc, NULL), 0);
		f->p[i % 2 ? UNC : KPA].seq++;
		memcpy(f->p[i % 2 ? UNC : KPA].head, rc.id, PL_HASH_BYTES);
		if (i % 4 == 0 || i == 146) {
			verify_proof(f, rc.proof, rc.proof_len, b.data, b.len, rc.index,
			             &cps[ncps]);
			assert_int_equal(cps[ncps].size, rc.size);
			ncps++;
		}
		pl_receipt_release(&rc);
	}
	size = pl_exchange_size(f->ex);
	assert_int_equal(size, 308);
	for (size_t i = 0; i + 1 < ncps; i++)
		verify_consistent(f, &cps[i], &cps[i + 1]);
	verify_consistent(f, &cps[0], &cps[ncps - 1]);

	/* A proof at an older size verifies against that checkpoint. */
	pl_buf_reset(&t);
	assert_int_equal(pl_exchange_proof(f->ex, 3, cps[2].size, &t), 0);
	assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, 3, &e), 0);
	verify_proof(f, t.data, t.len, e.note, e.note_len, 3, NULL);
	pl_exchange_entry_release(&e);
	assert_int_equal(pl_exchange_proof(f->ex, 5, 4, &t), PL_ERANGE);
	assert_int_equal(pl_exchange_proof(f->ex, 5, size + 1, &t), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_checkpoint_at(f->ex, cps[1].size, &cp), 0);
	assert_int_equal(pl_exchange_checkpoint_at(f->ex, size + 5, &cp), PL_ENOTFOUND);

	/* Tiles: level 0 holds the leaf hashes, level 1 the root of the first full tile. */
	pl_buf_reset(&t);
	assert_int_equal(pl_exchange_tile(f->ex, 0, 0, 0, &t), 0);
	assert_int_equal(t.len, PL_TILE_BYTES);
	assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, 17, &e), 0);
	pl_tlog_leaf_hash(leaf, e.note, e.note_len);
	assert_memory_equal(t.data + 17 * PL_HASH_BYTES, leaf, PL_HASH_BYTES);
	pl_exchange_entry_release(&e);
	memcpy(tile, t.data, PL_TILE_BYTES);
	pl_buf_reset(&b);
	assert_int_equal(pl_exchange_entry_bundle(f->ex, PL_EXCHANGE_READER_ALL, 0, 0, &b),
	                 PL_ETOOBIG);
	{
		struct pl_buf big;
		pl_buf_init(&big, 64u << 20);
		assert_int_equal(
		        pl_exchange_entry_bundle(f->ex, PL_EXCHANGE_READER_ALL, 0, 0, &big), 0);
		assert_int_equal(pl_tiles_bundle_verify((const uint8_t *)big.data, big.len, tile,
		                                        PL_TILE_BYTES),
		                 0);
		pl_buf_reset(&big);
		assert_int_equal(
		        pl_exchange_entry_bundle(f->ex, PL_EXCHANGE_READER_ALL, 1, 52, &big), 0);
		pl_buf_reset(&t);
		assert_int_equal(pl_exchange_tile(f->ex, 0, 1, 52, &t), 0);
		assert_int_equal(t.len, 52 * PL_HASH_BYTES);
		assert_int_equal(pl_tiles_bundle_verify((const uint8_t *)big.data, big.len,
		                                        (const uint8_t *)t.data, t.len),
		                 0);
		pl_buf_release(&big);
	}
	pl_buf_reset(&t);
	assert_int_equal(pl_exchange_tile(f->ex, 0, 1, 0, &t), PL_ENOTFOUND); /* not full yet */
	assert_int_equal(pl_exchange_tile(f->ex, 0, 1, 53, &t), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_tile(f->ex, 0, 2, 1, &t), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_tile(f->ex, 1, 0, 1, &t), 0);
	assert_int_equal(t.len, PL_HASH_BYTES);
	{
		struct pl_checkpoint *c256 = malloc(sizeof(*c256));
		uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
		size_t n = 0;
		/* The level-1 hash is the root of the tree of the first 256 leaves. */
		assert_non_null(c256);
		assert_int_equal(pl_exchange_consistency(f->ex, 256, size, proof, &n), 0);
		assert_int_equal(pl_tlog_verify_consistency(
		                         256, size, (const uint8_t *)t.data, cps[ncps - 1].root,
		                         (const uint8_t(*)[PL_HASH_BYTES])proof, n),
		                 0);
		free(c256);
	}
	assert_int_equal(pl_exchange_tile(f->ex, 9, 0, 1, &t), PL_EINVAL);
	assert_int_equal(
	        pl_exchange_consistency(f->ex, 5, 4, (uint8_t(*)[PL_HASH_BYTES])tile, &ncps),
	        PL_ERANGE);
	pl_buf_release(&b);
	pl_buf_release(&t);
	pl_buf_release(&cp);
	free(tile);
	free(cps);
}

/* Records by id and prefix; inboxes; waiting for new entries. */
struct waker {
	struct fx *f;
	int delay_ms;
};

static void *wake_later(void *arg)
{
	struct waker *w = arg;
	struct timespec ts = {0, (long)w->delay_ms * 1000000L};

	nanosleep(&ts, NULL);
	ok(w->f, US_NSC, rec_statement(w->f, US_NSC, "late news", NULL), NULL);
	return NULL;
}

static void test_lookup_wait(void **state)
{
	struct fx *f = *state;
	struct pl_exchange_entry e;
	struct pl_exchange_list l;
	struct waker w = {f, 50};
	char hex[PL_HASH_HEX_LEN + 1];
	uint8_t id[PL_HASH_BYTES];
	pthread_t th;
	uint64_t idx, size;

	idx = ok(f, DPRK, rec_statement(f, DPRK, "statement", NULL), id);
	pl_hex_encode(hex, id, PL_HASH_BYTES);
	assert_int_equal(pl_exchange_record(f->ex, PL_EXCHANGE_READER_ALL, hex, 64, &e), 0);
	assert_int_equal(e.index, idx);
	assert_memory_equal(e.id, id, PL_HASH_BYTES);
	pl_exchange_entry_release(&e);
	hex[10] = (char)(hex[10] >= 'a' ? hex[10] - 32 : hex[10]); /* either case */
	assert_int_equal(pl_exchange_record(f->ex, PL_EXCHANGE_READER_ALL, hex, 12, &e), 0);
	assert_int_equal(e.index, idx);
	pl_exchange_entry_release(&e);
	assert_int_equal(pl_exchange_record(f->ex, PL_EXCHANGE_READER_ALL, hex, 7, &e),
	                 PL_EMALFORMED);
	assert_int_equal(pl_exchange_record(f->ex, PL_EXCHANGE_READER_ALL, "zzzzzzzzzz", 10, &e),
	                 PL_EMALFORMED);
	assert_int_equal(
	        pl_exchange_record(f->ex, PL_EXCHANGE_READER_ALL, "0000000000000000", 16, &e),
	        PL_ENOTFOUND);
	assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, 1000, &e),
	                 PL_ENOTFOUND);
	pl_exchange_entry_release(NULL);
	pl_exchange_list_release(NULL);

	assert_int_equal(pl_exchange_inbox(f->ex, "nobody", 0, 0, &l), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_inbox(f->ex, "kpa", 0, 2, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.next, l.v[1].index + 1);
	pl_exchange_list_release(&l);

	/* Long poll: nothing new times out; a new record wakes the waiter. */
	size = pl_exchange_size(f->ex);
	assert_int_equal(pl_exchange_wait(f->ex, size, 20), size);
	assert_int_equal(pthread_create(&th, NULL, wake_later, &w), 0);
	assert_true(pl_exchange_wait(f->ex, size, 5000) > size);
	pthread_join(th, NULL);
	assert_int_equal(pl_exchange_inbox(f->ex, "kpa", size, 0, &l), 0);
	assert_int_equal(l.n, 1); /* the statement is public */
	pl_exchange_list_release(&l);
}

static void test_payloads(void **state)
{
	struct fx *f = *state;
	uint8_t pk[1][PL_BOX_PK_BYTES], commit[PL_BOX_COMMIT_BYTES], hash[PL_HASH_BYTES],
	        h2[PL_HASH_BYTES], *blob = NULL, *got = NULL;
	size_t len = 0, glen = 0;

	memcpy(pk[0], f->p[KPA].enc.pk, PL_BOX_PK_BYTES);
	assert_int_equal(pl_box_seal(&blob, &len, commit, NULL, (const uint8_t *)"hi", 2,
	                             (const uint8_t(*)[PL_BOX_PK_BYTES])pk, 1),
	                 0);
	assert_int_equal(pl_exchange_payload_put(f->ex, "outsider", blob, len, hash), PL_EDENIED);
	assert_int_equal(pl_exchange_payload_put(f->ex, "unc", (const uint8_t *)"junk", 4, hash),
	                 PL_EMALFORMED);
	assert_int_equal(pl_exchange_payload_put(f->ex, "unc", blob, len, hash), 0);
	assert_int_equal(pl_exchange_payload_put(f->ex, "unc", blob, len, h2), 0);
	assert_memory_equal(hash, h2, PL_HASH_BYTES);
	/* No record refers to it yet: only its uploader has it, even though it is no reader. */
	assert_int_equal(pl_exchange_payload_get(f->ex, "unc", hash, &got, &glen), 0);
	assert_int_equal(glen, len);
	assert_memory_equal(got, blob, len);
	free(got);
	assert_int_equal(pl_exchange_payload_get(f->ex, "kpa", hash, &got, &glen), PL_ENOTFOUND);
	h2[0] ^= 1;
	assert_int_equal(pl_exchange_payload_get(f->ex, "kpa", h2, &got, &glen), PL_ENOTFOUND);
	free(blob);

	fx_close(f);
	f->o.payload_max = 1024;
	fx_open(f);
	blob = calloc(1, 2000);
	assert_int_equal(pl_exchange_payload_put(f->ex, "unc", blob, 2000, hash), PL_ETOOBIG);
	free(blob);
}

/*
 * Before a logged send refers to a blob only its uploader may fetch it; once
 * one does, whoever may read the send (its uploader still). Anyone else is
 * told there is no such blob.
 */
static void test_payload_readers_after_send(void **state)
{
	struct fx *f = *state;
	struct pl_record *r = rec_send(f, ROK_MND, KPA, -1, 0);
	uint8_t *got = NULL;
	size_t glen = 0;

	/* Sealed to rok-mnd and kpa, uploaded by rok-mnd; no send names it yet. */
	assert_int_equal(pl_exchange_payload_get(f->ex, "kpa", r->payload, &got, &glen),
	                 PL_ENOTFOUND);
	assert_int_equal(pl_exchange_payload_get(f->ex, "unc", r->payload, &got, &glen),
	                 PL_ENOTFOUND);
	assert_int_equal(pl_exchange_payload_get(f->ex, "rok-mnd", r->payload, &got, &glen), 0);
	free(got);
	{
		uint8_t h[PL_HASH_BYTES];
		memcpy(h, r->payload, PL_HASH_BYTES);
		assert_int_equal(submit(f, &f->p[ROK_MND], r, NULL, NULL), 0);
		assert_int_equal(pl_exchange_payload_get(f->ex, "kpa", h, &got, &glen), 0);
		free(got);
		assert_int_equal(pl_exchange_payload_get(f->ex, "rok-mnd", h, &got, &glen), 0);
		free(got);
		assert_int_equal(pl_exchange_payload_get(f->ex, "unc", h, &got, &glen),
		                 PL_ENOTFOUND);
	}
}

/* A blob sealed to kpa, uploaded by `uploader`, of about `size` bytes. */
static void put_blob(struct fx *f, const char *uploader, size_t size, int ret_want,
                     uint8_t hash[PL_HASH_BYTES], size_t *len)
{
	uint8_t pk[1][PL_BOX_PK_BYTES], commit[PL_BOX_COMMIT_BYTES], *blob = NULL;
	uint8_t *body = calloc(1, size);

	assert_non_null(body);
	randombytes_buf(body, size);
	memcpy(pk[0], f->p[KPA].enc.pk, PL_BOX_PK_BYTES);
	assert_int_equal(pl_box_seal(&blob, len, commit, NULL, body, size,
	                             (const uint8_t(*)[PL_BOX_PK_BYTES])pk, 1),
	                 0);
	assert_int_equal(pl_exchange_payload_put(f->ex, uploader, blob, *len, hash), ret_want);
	free(blob);
	free(body);
}

/*
 * Unreferenced blobs are deleted by the timer once payload_retention
 * seconds have passed; a send naming one then is refused as naming an
 * unknown payload. Referred blobs stay.
 */
static void test_payload_retention(void **state)
{
	struct fx *f = *state;
	struct pl_record *kept = NULL, *late = NULL;
	struct pl_exchange_refusal why;
	uint8_t h[PL_HASH_BYTES], *got = NULL;
	size_t len = 0, glen = 0;

	fx_close(f);
	f->o.payload_retention_s = 600;
	fx_open(f);
	put_blob(f, "unc", 100, 0, h, &len);
	kept = rec_send(f, ROK_MND, KPA, -1, 0);
	assert_int_equal(submit(f, &f->p[ROK_MND], kept, NULL, NULL), 0);
	late = rec_send(f, US_NSC, KPA, -1, 0);

	/* Within the window nothing goes. */
	__atomic_store_n(&f->now, T0 + 600 - 1, __ATOMIC_SEQ_CST);
	assert_true(pl_exchange_run_timers(f->ex) >= 0);
	assert_int_equal(pl_exchange_payload_get(f->ex, "unc", h, &got, &glen), 0);
	free(got);

	__atomic_store_n(&f->now, T0 + 600, __ATOMIC_SEQ_CST);
	assert_true(pl_exchange_run_timers(f->ex) >= 0);
	assert_int_equal(pl_exchange_payload_get(f->ex, "unc", h, &got, &glen), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_payload_get(f->ex, "us-nsc", late->payload, &got, &glen),
	                 PL_ENOTFOUND);
	/* The send that was logged keeps its blob. */
	{
		int cnt = 0;
		struct pl_exchange_list l = {0};
		assert_int_equal(pl_exchange_inbox(f->ex, "kpa", 0, 0, &l), 0);
		for (size_t i = 0; i < l.n; i++) {
			struct pl_record *r = calloc(1, sizeof(*r));
			struct pl_note *n = NULL;
			assert_non_null(r);
			assert_int_equal(pl_note_parse(&n, l.v[i].note, l.v[i].note_len), 0);
			assert_int_equal(pl_record_parse(r, n->text, n->text_len, NULL), 0);
			if (r->has & PL_RECORD_HAS_PAYLOAD) {
				assert_int_equal(pl_exchange_payload_get(f->ex, "kpa", r->payload,
				                                         &got, &glen),
				                 0);
				free(got);
				cnt++;
			}
			pl_note_free(n);
			free(r);
		}
		pl_exchange_list_release(&l);
		assert_int_equal(cnt, 1);
	}
	/* A send naming a deleted blob: an unknown payload. */
	late->time = f->now;
	memset(&why, 0, sizeof(why));
	assert_int_equal(submit(f, &f->p[US_NSC], late, NULL, &why), PL_ENOTFOUND);
	assert_string_equal(why.reason, "payload not uploaded");
}

/*
 * Each uploader may hold payload_unreferenced_max bytes of blobs no record
 * refers to; past it uploads are refused (PL_ELIMIT), and a send that refers
 * to one, or its deletion, makes room again. Others are not affected.
 */
static void test_payload_unreferenced_max(void **state)
{
	struct fx *f = *state;
	uint8_t h1[PL_HASH_BYTES], h2[PL_HASH_BYTES], h3[PL_HASH_BYTES];
	size_t l1 = 0, l2 = 0, l3 = 0;

	fx_close(f);
	f->o.payload_max = 4096;
	f->o.payload_unreferenced_max = 5000;
	f->o.payload_retention_s = 600;
	fx_open(f);
	put_blob(f, "unc", 2000, 0, h1, &l1);
	put_blob(f, "unc", 2000, 0, h2, &l2);
	put_blob(f, "unc", 2000, PL_ELIMIT, h3, &l3);
	/* Another uploader has its own allowance. */
	put_blob(f, "dprk", 3800, 0, h3, &l3);
	/* A send that refers to one makes room. */
	{
		struct pl_record *r = rec_new(f, &f->p[UNC], PL_KIND_SEND);
		uint8_t commit[PL_BOX_COMMIT_BYTES] = {0};
		r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT;
		r->cls = PL_CLASS_MESSAGE;
		pl_test_add_to(r, "kpa");
		memcpy(r->payload, h1, PL_HASH_BYTES);
		r->payload_size = l1;
		memcpy(r->commit, commit, sizeof(commit));
		assert_int_equal(submit(f, &f->p[UNC], r, NULL, NULL), 0);
	}
	put_blob(f, "unc", 2000, 0, h3, &l3);
	put_blob(f, "unc", 2000, PL_ELIMIT, h3, &l3);
	/* So does the retention. */
	__atomic_store_n(&f->now, T0 + 600, __ATOMIC_SEQ_CST);
	assert_true(pl_exchange_run_timers(f->ex) >= 0);
	put_blob(f, "unc", 2000, 0, h3, &l3);
}

/*
 * The sequencer's commits leave the WAL to a background checkpointer; it must
 * actually run, or the WAL grows without bound and the database file never
 * receives the log.
 */
static void test_wal_checkpointed(void **state)
{
	struct fx *f = *state;
	char path[sizeof(f->dir) + 16];
	struct stat st;

	/* One record per commit writes a few pages each: well past the checkpointer's 1000. */
	fx_close(f);
	f->o.batch_age_us = 1; /* no lingering: each record its own commit, at once */
	fx_open(f);
	for (int i = 0; i < 1600; i++)
		ok(f, UNC, rec_statement(f, UNC, "filling the log", NULL), NULL);
	snprintf(path, sizeof(path), "%s/parley.db", f->dir);
	memset(&st, 0, sizeof(st));
	/* The copy happens in the background: wait for it, a bounded time. */
	for (int i = 0; i < 200; i++) {
		assert_int_equal(stat(path, &st), 0);
		if (st.st_size > 128 * 1024)
			break;
		usleep(25000);
	}
	assert_true(st.st_size > 128 * 1024);
}

/* Everything survives a close and reopen; timers too. */
static void test_reopen(void **state)
{
	struct fx *f = *state;
	struct pl_checkpoint before, after;
	struct pl_exchange_party *list = NULL;
	uint8_t send[PL_HASH_BYTES];
	struct party saved;
	size_t n = 0;
	uint64_t s, size;

	s = ok(f, ROK_MND, rec_send(f, ROK_MND, KPA, -1, T0 + HOUR), send);
	ok(f, UNC, rec_statement(f, UNC, "before restart", NULL), NULL);
	latest_checkpoint(f, &before);
	size = pl_exchange_size(f->ex);
	fx_close(f);
	fx_open(f);
	assert_int_equal(pl_exchange_size(f->ex), size);
	latest_checkpoint(f, &after);
	assert_true(pl_checkpoint_equal(&before, &after));
	assert_int_equal(pl_exchange_parties(f->ex, &list, &n), 0);
	assert_int_equal(n, NPARTY - 1);
	free(list);
	expect_kind(f, s, "send");
	/* The chain continues where it stood; a replayed seq is still a conflict. */
	saved = f->p[UNC];
	f->p[UNC].seq--;
	refused(f, UNC, rec_statement(f, UNC, "fork after restart", NULL), PL_ECHAIN, NULL);
	f->p[UNC] = saved;
	ok(f, UNC, rec_statement(f, UNC, "after restart", NULL), NULL);
	latest_checkpoint(f, &after);
	verify_consistent(f, &before, &after);
	/* The deadline timer was stored: it fires after a restart. */
	fx_close(f);
	f->now = T0 + 2 * HOUR;
	fx_open(f);
	assert_int_equal(pl_exchange_run_timers(f->ex), 1);
	expect_kind(f, pl_exchange_size(f->ex) - 2, "expire");
	expect_kind(f, pl_exchange_size(f->ex) - 1, "index");
}

/* The root of the index record at index, which must be one. */
static void index_root_at(struct fx *f, uint64_t index, uint8_t root[PL_HASH_BYTES])
{
	struct pl_record *r = record_parsed_at(f, index);

	assert_int_equal(r->kind, PL_KIND_INDEX);
	memcpy(root, r->index_root, PL_HASH_BYTES);
	free(r);
}

/* key's proof at size, verified against the root of the index record at size - 1: its entries. */
static size_t index_entries(struct fx *f, const uint8_t key[PL_HASH_BYTES], uint64_t size,
                            uint64_t *idx)
{
	struct pl_tindex_proof *p = NULL;
	uint8_t root[PL_HASH_BYTES];
	struct pl_buf b;
	size_t n;

	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	assert_int_equal(pl_exchange_index_proof(f->ex, "rok-mnd", key, size, &b), 0);
	index_root_at(f, (size ? size : pl_exchange_size(f->ex)) - 1, root);
	assert_int_equal(pl_tindex_proof_open(&p, b.data, b.len, key, root), 0);
	n = p->nentries;
	for (size_t i = 0; i < n; i++)
		idx[i] = p->entries[i].index;
	pl_tindex_proof_free(p);
	pl_buf_release(&b);
	return n;
}

/*
 * The thread index as the exchange serves it: a send's proof at the newest
 * checkpoint lists every record about it, at an older one only those before
 * it, each verifying against the root of the index record its checkpoint ends
 * with; every checkpoint ends with one; unknown keys, later records, sizes
 * that are no checkpoint and damaged nodes are refused.
 */
static void test_index_proofs(void **state)
{
	struct fx *f = *state;
	struct pl_buf b, cp;
	uint8_t send[PL_HASH_BYTES], other[PL_HASH_BYTES], unknown[PL_HASH_BYTES];
	uint64_t s, rcv, acc, n1, n2, idx[8];

	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	pl_buf_init(&cp, 65536);
	s = ok(f, ROK_MND, rec_send(f, ROK_MND, KPA, -1, T0 + 2 * HOUR), send);
	n1 = pl_exchange_size(f->ex);
	assert_int_equal(n1, s + 3); /* the send, its available, the index */
	rcv = ok(f, KPA, rec_about(f, KPA, PL_KIND_RECEIVE, send), NULL);
	acc = ok(f, KPA, rec_about(f, KPA, PL_KIND_ACCEPT, send), NULL);
	ok(f, UNC, rec_statement(f, UNC, "citing it", send), other);
	n2 = pl_exchange_size(f->ex);

	/* Newest: the available, the receive, the accept and the statement citing it. */
	assert_int_equal(index_entries(f, send, 0, idx), 4);
	assert_int_equal(idx[0], s + 1);
	assert_int_equal(idx[1], rcv);
	assert_int_equal(idx[2], acc);
	assert_int_equal(idx[3], n2 - 2);
	assert_int_equal(index_entries(f, send, n2, idx), 4);
	/* At the send's own checkpoint: the available alone. */
	assert_int_equal(index_entries(f, send, n1, idx), 1);
	assert_int_equal(idx[0], s + 1);
	/* Nothing refers to the statement: absent, proven. */
	assert_int_equal(index_entries(f, other, n2, idx), 0);

	/* Every checkpoint since setup ends with an index record. */
	for (uint64_t size = 2; size <= n2; size++) {
		pl_buf_reset(&cp);
		if (pl_exchange_checkpoint_at(f->ex, size, &cp) == 0)
			expect_kind(f, size - 1, "index");
	}

	/* Refused alike: no such record, one logged after the checkpoint, no reader, a member
	 * that may not read it. */
	memset(unknown, 0x42, sizeof(unknown));
	assert_int_equal(pl_exchange_index_proof(f->ex, "unc", unknown, 0, &b), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_index_proof(f->ex, "unc", send, 0, &b), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_index_proof(f->ex, "dprk", send, n2, &b), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_index_proof(f->ex, "unc", other, n1, &b), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_index_proof(f->ex, "kpa", send, 0, &b), 0);
	pl_buf_reset(&b);
	assert_int_equal(pl_exchange_index_proof(f->ex, "", send, 0, &b), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_index_proof(f->ex, NULL, send, 0, &b), PL_ENOTFOUND);
	/* Sizes that are no checkpoint ending with an index record. */
	assert_int_equal(pl_exchange_index_proof(f->ex, "rok-mnd", send, n1 - 1, &b), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_index_proof(f->ex, "rok-mnd", send, n2 + 2, &b), PL_ENOTFOUND);
	assert_int_equal(b.len, 0);

	/* A damaged root node: a 500, never a proof against another root. */
	assert_true(db_exec(f, "UPDATE tindex SET node = zeroblob(64) WHERE pos = 1") > 0);
	assert_int_equal(pl_exchange_index_proof(f->ex, "rok-mnd", send, 0, &b), PL_EDAMAGED);
	assert_int_equal(pl_exchange_index_proof(f->ex, "rok-mnd", send, n1, &b), PL_EDAMAGED);
	pl_buf_release(&b);
	pl_buf_release(&cp);
}

/*
 * A record that would give another more than PL_TINDEX_MAX_ENTRIES entries in
 * the thread index is refused when it is judged. The referrers are counted from
 * the store's refs, so the test puts 4,095 there behind the exchange's back.
 */
static void test_index_entries_bound(void **state)
{
	struct fx *f = *state;
	struct pl_exchange_refusal why;
	uint8_t st[PL_HASH_BYTES], other[PL_HASH_BYTES];
	char sql[256];
	uint64_t target;

	target = ok(f, UNC, rec_statement(f, UNC, "much cited", NULL), st);
	ok(f, UNC, rec_statement(f, UNC, "little cited", NULL), other);
	fx_close(f);
	snprintf(sql, sizeof(sql),
	         "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < %d) "
	         "INSERT INTO refs(dst, src) SELECT %llu, 1000000 + n FROM k",
	         PL_TINDEX_MAX_ENTRIES - 1, (unsigned long long)target);
	assert_int_equal(db_exec(f, sql), PL_TINDEX_MAX_ENTRIES - 1);
	fx_open(f);
	/* The 4,096th referrer is taken; the next is refused, and only for that record. */
	ok(f, KPA, rec_statement(f, KPA, "the last one", st), NULL);
	refused(f, DPRK, rec_statement(f, DPRK, "one too many", st), PL_ERULE, &why);
	assert_non_null(strstr(why.reason, "too many records refer"));
	ok(f, DPRK, rec_statement(f, DPRK, "another one", other), NULL);
}

/*
 * A store from before the thread index (schema 2, no nodes) opens with its map
 * built from the log: the next index record holds for pl_exchange_verify(),
 * which recomputes it from the whole log, and proves the older records' refs.
 */
static void test_index_built_at_open(void **state)
{
	struct fx *f = *state;
	struct pl_exchange_verify_stats st;
	uint8_t send[PL_HASH_BYTES];
	uint64_t s, rcv, idx[8];

	s = ok(f, ROK_MND, rec_send(f, ROK_MND, KPA, -1, T0 + 2 * HOUR), send);
	rcv = ok(f, KPA, rec_about(f, KPA, PL_KIND_RECEIVE, send), NULL);
	fx_close(f);
	db_exec(f, "DROP TABLE tindex; DROP TABLE tindex_deep;"
	           "UPDATE meta SET value = 2 WHERE key = 'schema';");
	fx_open(f);
	ok(f, KPA, rec_about(f, KPA, PL_KIND_ACCEPT, send), NULL);
	assert_int_equal(index_entries(f, send, 0, idx), 3);
	assert_int_equal(idx[0], s + 1);
	assert_int_equal(idx[1], rcv);
	fx_close(f);
	assert_int_equal(pl_exchange_verify(f->dir, NULL, &st, NULL), 0);
	assert_int_equal(st.indexes, st.size / 2);
	fx_open(f);
}

static void dmg_finding(void *arg, const char *what);

/*
 * pl_exchange_verify() recomputes the thread index from the log: a sound log's
 * index records all hold, and one whose root was changed is named.
 */
static void test_verify_index(void **state)
{
	struct fx *f = *state;
	struct pl_exchange_verify_cb cb = {.finding = dmg_finding};
	struct pl_exchange_verify_stats st;
	struct pl_buf found;
	uint8_t send[PL_HASH_BYTES];
	char path[128], *note;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	uint64_t last;

	ok(f, ROK_MND, rec_send(f, ROK_MND, KPA, -1, T0 + 2 * HOUR), send);
	ok(f, KPA, rec_about(f, KPA, PL_KIND_RECEIVE, send), NULL);
	ok(f, UNC, rec_statement(f, UNC, "citing it", send), NULL);
	last = pl_exchange_size(f->ex) - 1;
	fx_close(f);
	pl_buf_init(&found, 1u << 16);
	cb.arg = &found;
	assert_int_equal(pl_exchange_verify(f->dir, &cb, &st, NULL), 0);
	assert_int_equal(st.indexes, st.size / 2);

	/* The root of the last index record changed (the hashes above it then differ too). */
	snprintf(path, sizeof(path), "%s/parley.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	        sqlite3_prepare_v2(db, "SELECT note FROM records WHERE idx = ?1", -1, &q, NULL),
	        SQLITE_OK);
	sqlite3_bind_int64(q, 1, (sqlite3_int64)last);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	note = strdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	assert_non_null(note);
	{
		char *at = strstr(note, "\nroot ");
		assert_non_null(at);
		at[6] = at[6] == 'A' ? 'B' : 'A';
	}
	assert_int_equal(
	        sqlite3_prepare_v2(db, "UPDATE records SET note = ?1 WHERE idx = ?2", -1, &q, NULL),
	        SQLITE_OK);
	sqlite3_bind_blob(q, 1, note, (int)strlen(note), SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)last);
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	/* ...and its leaf hash with it, so that the record is read as it now is. */
	{
		uint8_t leaf[PL_HASH_BYTES];
		pl_tlog_leaf_hash(leaf, note, strlen(note));
		assert_int_equal(sqlite3_prepare_v2(db, "UPDATE hashes SET h = ?1 WHERE i = ?2", -1,
		                                    &q, NULL),
		                 SQLITE_OK);
		sqlite3_bind_blob(q, 1, leaf, PL_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, (sqlite3_int64)pl_tlog_stored_index(0, last));
		assert_int_equal(sqlite3_step(q), SQLITE_DONE);
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	free(note);
	assert_int_equal(pl_exchange_verify(f->dir, &cb, &st, NULL), PL_EDAMAGED);
	if (!found.data || !strstr(found.data, "is not the thread index of the records before it"))
		fail_msg("findings: %s", found.data ? found.data : "");
	pl_buf_release(&found);
}

/* A store that was tampered with is refused instead of served. */
static void test_tampered_store(void **state)
{
	struct fx *f = *state;
	struct pl_exchange *ex = NULL;
	struct pl_buf err;

	ok(f, UNC, rec_statement(f, UNC, "evidence", NULL), NULL);
	fx_close(f);
	/* Rewrite the last statement's bytes (before its batch's index) behind the engine's back.
	 */
	assert_int_equal(db_exec(f, "UPDATE records SET note = replace(note, 'evidence', "
	                            "'EVIDENCE') WHERE idx = (SELECT max(idx) - 1 FROM records)"),
	                 1);
	pl_buf_init(&err, 1024);
	assert_int_equal(pl_exchange_open(&ex, f->dir, &f->o, &err), PL_ESTORE);
	assert_non_null(strstr(err.data, "leaf hash"));
	pl_buf_reset(&err);
	/* A store whose last checkpoint is gone is refused too. */
	db_exec(f, "UPDATE records SET note = replace(note, 'EVIDENCE', 'evidence'); DELETE FROM "
	           "checkpoints WHERE size = (SELECT max(size) FROM checkpoints)");
	assert_int_equal(pl_exchange_open(&ex, f->dir, &f->o, &err), PL_ESTORE);
	assert_non_null(strstr(err.data, "do not match"));
	pl_buf_release(&err);
}

/* Copies the file dir/from to dir/to (replacing it). */
static void fx_copy(struct fx *f, const char *from, const char *to)
{
	char src[128], dst[128];
	size_t len;
	char *data;
	FILE *o;

	snprintf(src, sizeof(src), "%s/%s", f->dir, from);
	snprintf(dst, sizeof(dst), "%s/%s", f->dir, to);
	data = pl_test_read_file(src, &len);
	o = fopen(dst, "wb");
	assert_non_null(o);
	assert_int_equal(fwrite(data, 1, len, o), len);
	assert_int_equal(fclose(o), 0);
	free(data);
}

/* pl_exchange_open() of f's directory that must fail with PL_ESTORE saying each of want[]. */
static void fx_refused(struct fx *f, const char *const *want, size_t n)
{
	struct pl_exchange *ex = NULL;
	struct pl_buf err;

	pl_buf_init(&err, 4096);
	assert_int_equal(pl_exchange_open(&ex, f->dir, &f->o, &err), PL_ESTORE);
	assert_null(ex);
	for (size_t i = 0; i < n; i++)
		if (!strstr(err.data, want[i]))
			fail_msg("refusal \"%s\" does not say \"%s\"", err.data, want[i]);
	pl_buf_release(&err);
	/* What the exchange refuses to open, the offline check finds. */
	assert_int_equal(pl_exchange_verify(f->dir, NULL, NULL, NULL), PL_EDAMAGED);
}

/*
 * G7 whatever happened to the store: a store behind the newest checkpoint the
 * exchange signed (parley.db restored from an older copy without its WAL) is
 * refused, naming both sizes; so is the published file lost, and a store that
 * went on from there to the same size by other records; the exchange with its
 * own store opens again.
 */
static void test_store_behind(void **state)
{
	struct fx *f = *state;
	struct party unc;
	char msg[256], pub[128];
	uint64_t small, big;

	ok(f, UNC, rec_statement(f, UNC, "kept", NULL), NULL);
	small = pl_exchange_size(f->ex);
	unc = f->p[UNC];
	fx_close(f);
	fx_copy(f, "parley.db", "old.db"); /* a backup of the database file alone */
	fx_copy(f, "published", "published.old");
	fx_open(f);
	ok(f, UNC, rec_statement(f, UNC, "lost one", NULL), NULL);
	ok(f, UNC, rec_statement(f, UNC, "lost two", NULL), NULL);
	big = pl_exchange_size(f->ex);
	fx_close(f);
	fx_copy(f, "parley.db", "big.db");

	/* The backup restored: two acknowledged records are gone, with their batches' indexes. */
	fx_copy(f, "old.db", "parley.db");
	snprintf(msg, sizeof(msg), "store holds %llu records but checkpoint %llu (root ",
	         (unsigned long long)small, (unsigned long long)big);
	{
		const char *const want[] = {msg, "4 acknowledged records are missing",
		                            "never delete published"};
		fx_refused(f, want, 3);
	}
	fx_copy(f, "published", "published.big");

	/* Without the file, a store that was kept with it is refused too... */
	snprintf(pub, sizeof(pub), "%s/published", f->dir);
	assert_int_equal(unlink(pub), 0);
	{
		const char *const want[] = {
		        "published is missing, but this store was kept with it"};
		fx_refused(f, want, 1);
	}
	/* ...but a store from before the file existed opens and creates it... */
	{
		assert_int_equal(db_exec(f, "DELETE FROM meta WHERE key = 'published'"), 1);
	}
	fx_open(f);
	assert_int_equal(pl_exchange_size(f->ex), small);
	f->p[UNC] = unc;
	ok(f, UNC, rec_statement(f, UNC, "another one", NULL), NULL);
	ok(f, UNC, rec_statement(f, UNC, "another two", NULL), NULL);
	assert_int_equal(pl_exchange_size(f->ex), big);
	fx_close(f);
	/* ...and the history it then signs at the published size is another one. */
	fx_copy(f, "published.big", "published");
	snprintf(msg, sizeof(msg), "while checkpoint %llu (root ", (unsigned long long)big);
	{
		const char *const want[] = {msg, "the store holds another history"};
		fx_refused(f, want, 2);
	}

	/* A file of which neither copy verifies tells nothing: refused too. */
	fx_copy(f, "big.db", "parley.db");
	fx_copy(f, "old.db", "published");
	{
		const char *const want[] = {"published: neither copy holds a checkpoint"};
		fx_refused(f, want, 1);
	}

	/* The exchange's own store and file: it opens and goes on. */
	fx_copy(f, "published.big", "published");
	fx_open(f);
	assert_int_equal(pl_exchange_size(f->ex), big);

	/* A store ahead of the file (a crash between a commit and the file's write) opens, and
	 * the file is brought up to it at once: the older store is then refused by it. */
	fx_close(f);
	fx_copy(f, "published.old", "published");
	fx_open(f);
	assert_int_equal(pl_exchange_size(f->ex), big);
	fx_close(f);
	fx_copy(f, "old.db", "parley.db");
	snprintf(msg, sizeof(msg), "store holds %llu records but checkpoint %llu (root ",
	         (unsigned long long)small, (unsigned long long)big);
	{
		const char *const want[] = {msg};
		fx_refused(f, want, 1);
	}
}

/* The number of records reader reads by id (the full id and a 12-digit prefix) among ids[0..n). */
static int readable(struct fx *f, const char *reader, const uint8_t (*ids)[PL_HASH_BYTES], int n)
{
	int count = 0;

	for (int i = 0; i < n; i++) {
		struct pl_exchange_entry e;
		char hex[PL_HASH_HEX_LEN + 1];
		int full, pfx;
		pl_hex_encode(hex, ids[i], PL_HASH_BYTES);
		full = pl_exchange_record(f->ex, reader, hex, PL_HASH_HEX_LEN, &e);
		if (!full)
			pl_exchange_entry_release(&e);
		pfx = pl_exchange_record(f->ex, reader, hex, 12, &e);
		if (!pfx)
			pl_exchange_entry_release(&e);
		assert_int_equal(full, pfx);
		assert_true(full == 0 || full == PL_ENOTFOUND);
		count += full == 0;
	}
	return count;
}

/* The number of records in reader's view of the thread of id, or -1 when it has none. */
static int thread_len(struct fx *f, const char *reader, const uint8_t id[PL_HASH_BYTES])
{
	struct pl_exchange_list l;
	int ret = pl_exchange_thread(f->ex, reader, id, 0, &l), n;

	if (ret == PL_ENOTFOUND)
		return -1;
	assert_int_equal(ret, 0);
	n = (int)l.n;
	pl_exchange_list_release(&l);
	return n;
}

/*
 * Need-to-know: a relayed proposal and its receipt reach its three parties,
 * the designated auditor and no one else; to the others every read answers
 * as if there were no such record, the thread and the blob included; a
 * statement reaches anyone; entry bundles are the auditors'.
 */
static void test_need_to_know(void **state)
{
	struct fx *f = *state;
	struct pl_record *r = rec_send(f, ROK_MND, KPA, UNC, T0 + 7 * 24 * HOUR);
	uint8_t ids[3][PL_HASH_BYTES], payload[PL_HASH_BYTES], *blob = NULL;
	const char *parties[] = {"rok-mnd", "unc", "kpa"};
	struct pl_exchange_entry e;
	struct pl_buf b;
	size_t blen = 0;
	uint64_t s;

	memcpy(payload, r->payload, PL_HASH_BYTES);
	s = ok(f, ROK_MND, r, ids[0]);
	ok(f, UNC, rec_about(f, UNC, PL_KIND_RECEIVE, ids[0]), ids[1]);
	ok(f, DPRK, rec_statement(f, DPRK, "A statement for everyone.", NULL), ids[2]);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(readable(f, parties[i], ids, 3), 3);
		assert_int_equal(thread_len(f, parties[i], ids[0]),
		                 3); /* send, available, receive */
		assert_int_equal(pl_exchange_payload_get(f->ex, parties[i], payload, &blob, &blen),
		                 0);
		free(blob);
	}
	assert_int_equal(readable(f, "dprk", ids, 3), 1);
	assert_int_equal(readable(f, NULL, ids, 3), 1);
	assert_int_equal(readable(f, "us-nsc", ids, 3), 1);
	assert_int_equal(thread_len(f, "dprk", ids[0]), -1);
	assert_int_equal(thread_len(f, "dprk", ids[2]), 1);
	assert_int_equal(pl_exchange_record_at(f->ex, "dprk", s, &e), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_record_at(f->ex, "dprk", s + 1, &e), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_payload_get(f->ex, "dprk", payload, &blob, &blen),
	                 PL_ENOTFOUND);
	pl_buf_init(&b, PL_TILE_WIDTH * (PL_ENTRY_MAX_BYTES + 2));
	assert_int_equal(pl_exchange_entry_bundle(f->ex, "rok-mnd", 0, 0, &b), PL_EDENIED);
	assert_int_equal(pl_exchange_entry_bundle(f->ex, NULL, 0, 0, &b), PL_EDENIED);
	assert_int_equal(b.len, 0);

	/* The same store, us-nsc now the auditor. */
	fx_close(f);
	snprintf(f->o.auditors[0], sizeof(f->o.auditors[0]), "us-nsc");
	f->o.nauditors = 1;
	fx_open(f);
	assert_int_equal(readable(f, "us-nsc", ids, 3), 3);
	assert_int_equal(readable(f, "dprk", ids, 3), 1);
	assert_int_equal(thread_len(f, "us-nsc", ids[0]), 3);
	assert_int_equal(pl_exchange_payload_get(f->ex, "us-nsc", payload, &blob, &blen), 0);
	free(blob);
	assert_int_equal(
	        pl_exchange_entry_bundle(f->ex, "us-nsc", 0, (unsigned)pl_exchange_size(f->ex), &b),
	        0);
	assert_true(b.len > 0);
	pl_buf_release(&b);
	f->o.nauditors = 0;
}

/* Lists line's checks (none here): the return code of pl_exchange_line(). */
static int line_list(struct fx *f, const char *line)
{
	struct pl_exchange_list l;
	bool more = false;
	int ret = pl_exchange_line(f->ex, PL_EXCHANGE_READER_ALL, line, 0, 0, 0, &l, &more);

	if (ret == 0)
		pl_exchange_list_release(&l);
	return ret;
}

/*
 * A line taken out of the configuration is still known under its name, as it
 * was last configured; what the store keeps of it is parsed as strictly as
 * the configuration, and a line never configured stays unknown.
 */
static void test_line_kept(void **state)
{
	static const char def[] = "unc-kpa unc kpa every 12h window 30m";
	struct fx *f = *state;

	fx_close(f);
	assert_int_equal(pl_line_parse(&f->o.lines[0], def, strlen(def), NULL), 0);
	f->o.nlines = 1;
	fx_open(f);
	assert_int_equal(line_list(f, "unc-kpa"), 0);
	{
		/* Its two ends read it; to anyone else it is no line at all. */
		const char *who[] = {"unc", "kpa", "rok-mnd", NULL};
		const int want[] = {0, 0, PL_ENOTFOUND, PL_ENOTFOUND};
		for (int i = 0; i < 4; i++) {
			struct pl_exchange_list l;
			bool more = false;
			int ret = pl_exchange_line(f->ex, who[i], "unc-kpa", 0, 0, 0, &l, &more);
			assert_int_equal(ret, want[i]);
			if (!ret)
				pl_exchange_list_release(&l);
		}
	}
	fx_close(f);
	f->o.nlines = 0;
	fx_open(f);
	assert_int_equal(line_list(f, "unc-kpa"), 0);
	assert_int_equal(line_list(f, "liaison"), PL_ENOTFOUND);
	assert_int_equal(line_list(f, "not a name"), PL_ENOTFOUND);
	fx_close(f);
	assert_int_equal(db_exec(f, "UPDATE meta SET value = 'unc-kpa unc unc every 1h window 5m'"
	                            " WHERE key = 'line unc-kpa'"),
	                 1);
	fx_open(f);
	assert_int_equal(line_list(f, "unc-kpa"), PL_ESTORE);
}

/* The kinds of line's records as pl_exchange_line() lists them ('c' check, 'u' unanswered, 'm'
 * missed, 'a' answer), into kinds; the missed records' due times into dues (at most 128). Each
 * check or missed after the first refers to the one before it with `ref previous`. */
static size_t line_kinds(struct fx *f, const char *line, char *kinds, int64_t *dues, size_t *nd)
{
	struct pl_exchange_list l;
	uint8_t last[PL_HASH_BYTES];
	bool more = false, chained = false;
	size_t n = 0;

	*nd = 0;
	assert_int_equal(pl_exchange_line(f->ex, PL_EXCHANGE_READER_ALL, line, 0, 0, 0, &l, &more),
	                 0);
	for (size_t i = 0; i < l.n && n < 255; i++) {
		struct pl_record *r = calloc(1, sizeof(*r));
		struct pl_note *note = NULL;
		assert_non_null(r);
		assert_int_equal(pl_note_parse(&note, l.v[i].note, l.v[i].note_len), 0);
		assert_int_equal(pl_record_parse(r, note->text, note->text_len, NULL), 0);
		kinds[n++] = r->kind == PL_KIND_CHECK        ? 'c'
		             : r->kind == PL_KIND_UNANSWERED ? 'u'
		             : r->kind == PL_KIND_MISSED     ? 'm'
		                                             : 'a';
		if (r->kind == PL_KIND_CHECK || r->kind == PL_KIND_MISSED) {
			const struct pl_record_ref *p = pl_record_ref_find(r, PL_ROLE_PREVIOUS);
			assert_int_equal(r->nrefs, chained ? 1 : 0);
			if (chained)
				assert_memory_equal(p->id, last, PL_HASH_BYTES);
			memcpy(last, l.v[i].id, PL_HASH_BYTES);
			chained = true;
		}
		if (r->kind == PL_KIND_MISSED && *nd < 128) {
			assert_true(r->due <= r->time);
			assert_int_equal(r->nto, 2);
			dues[(*nd)++] = r->due;
		}
		pl_note_free(note);
		free(r);
	}
	kinds[n] = '\0';
	pl_exchange_list_release(&l);
	return n;
}

/*
 * A check that falls due while the exchange is closed, or stalled past its window, is never
 * made up: the exchange logs a `missed` for it, apart from the ends' answers and silences. On
 * open, only for a line configured the same way when it last ran; at most
 * PL_EXCHANGE_MISSED_MAX per line in one pass.
 */
static void test_line_missed(void **state)
{
	static const char def[] = "unc-kpa unc kpa every 1h window 10m";
	static const char changed[] = "unc-kpa unc kpa every 1h window 20m";
	struct fx *f = *state;
	char kinds[256];
	int64_t dues[128];
	size_t nd;

	fx_close(f);
	assert_int_equal(pl_line_parse(&f->o.lines[0], def, strlen(def), NULL), 0);
	f->o.nlines = 1;
	fx_open(f);
	/* A new line: nothing before it was due. */
	__atomic_store_n(&f->now, T0 + HOUR + 60, __ATOMIC_SEQ_CST);
	assert_true(pl_exchange_run_timers(f->ex) >= 0);
	line_kinds(f, "unc-kpa", kinds, dues, &nd);
	assert_string_equal(kinds, "c");
	/* Closed for five hours: the four due times whose window closed meanwhile are missed,
	 * the fifth, in its window, is checked late; the first check's silence is the ends'. */
	fx_close(f);
	__atomic_store_n(&f->now, T0 + 6 * HOUR + 120, __ATOMIC_SEQ_CST);
	fx_open(f);
	assert_true(pl_exchange_run_timers(f->ex) >= 0);
	line_kinds(f, "unc-kpa", kinds, dues, &nd);
	assert_string_equal(kinds, "cummmmc");
	assert_int_equal(nd, 4);
	for (size_t i = 0; i < nd; i++)
		assert_true(dues[i] == T0 + (int64_t)(2 + i) * HOUR);
	/* Closed again, the line changed meanwhile: it starts afresh from now, nothing is missed
	 * (the late check's silence is logged). */
	fx_close(f);
	assert_int_equal(pl_line_parse(&f->o.lines[0], changed, strlen(changed), NULL), 0);
	__atomic_store_n(&f->now, T0 + 9 * HOUR + 60, __ATOMIC_SEQ_CST);
	fx_open(f);
	assert_true(pl_exchange_run_timers(f->ex) >= 0);
	line_kinds(f, "unc-kpa", kinds, dues, &nd);
	assert_string_equal(kinds, "cummmmcu");
	/* A stall of 100 hours while open: PL_EXCHANGE_MISSED_MAX missed, then from now on. */
	__atomic_store_n(&f->now, T0 + 109 * HOUR + 60, __ATOMIC_SEQ_CST);
	assert_true(pl_exchange_run_timers(f->ex) >= 0);
	line_kinds(f, "unc-kpa", kinds, dues, &nd);
	assert_int_equal(nd, 4 + PL_EXCHANGE_MISSED_MAX);
	assert_true(dues[4] == T0 + 10 * HOUR);
	assert_true(dues[nd - 1] == T0 + (10 + PL_EXCHANGE_MISSED_MAX - 1) * HOUR);
	__atomic_store_n(&f->now, T0 + 110 * HOUR + 60, __ATOMIC_SEQ_CST);
	assert_true(pl_exchange_run_timers(f->ex) >= 0);
	line_kinds(f, "unc-kpa", kinds, dues, &nd);
	assert_int_equal(nd, 4 + PL_EXCHANGE_MISSED_MAX);
	assert_int_equal(kinds[strlen(kinds) - 1], 'c');
	fx_close(f);
	f->o.nlines = 0;
	fx_open(f);
}

/*
 * pl_exchange_reconfigure(): on the open exchange, a line added is checked at
 * its next due time and reported, an auditor added reads the entry bundles;
 * taken out again, the line is no longer checked but still reported and the
 * auditor reads no more. Out-of-range options change nothing.
 */
static void test_reconfigure(void **state)
{
	static const char def[] = "unc-kpa unc kpa every 1h window 30m";
	struct fx *f = *state;
	struct pl_exchange_options *o = calloc(1, sizeof(*o));
	struct pl_buf b;

	assert_non_null(o);
	pl_buf_init(&b, PL_TILE_WIDTH * (PL_ENTRY_MAX_BYTES + 2));
	assert_int_equal(line_list(f, "unc-kpa"), PL_ENOTFOUND);
	assert_int_equal(pl_exchange_entry_bundle(f->ex, "us-nsc", 0, 1, &b), PL_EDENIED);
	f->now += 2 * HOUR;
	assert_int_equal(pl_exchange_run_timers(f->ex), 0); /* no line: no check */

	/* Out of range: refused, nothing changes. */
	pl_exchange_options_default(o);
	o->nlines = PL_EXCHANGE_LINES_MAX + 1;
	assert_int_equal(pl_exchange_reconfigure(f->ex, o), PL_EINVAL);
	o->nlines = 0;
	o->nauditors = PL_EXCHANGE_AUDITORS_MAX + 1;
	assert_int_equal(pl_exchange_reconfigure(f->ex, o), PL_EINVAL);
	assert_int_equal(pl_exchange_reconfigure(NULL, o), PL_EINVAL);
	assert_int_equal(pl_exchange_reconfigure(f->ex, NULL), PL_EINVAL);
	assert_int_equal(line_list(f, "unc-kpa"), PL_ENOTFOUND);

	/* A line and an auditor, live. */
	assert_int_equal(pl_line_parse(&o->lines[0], def, strlen(def), NULL), 0);
	o->nlines = 1;
	snprintf(o->auditors[0], sizeof(o->auditors[0]), "us-nsc");
	o->nauditors = 1;
	assert_int_equal(pl_exchange_reconfigure(f->ex, o), 0);
	assert_int_equal(line_list(f, "unc-kpa"), 0);
	assert_int_equal(pl_exchange_entry_bundle(f->ex, "us-nsc", 0, 1, &b), 0);
	assert_int_equal(pl_exchange_run_timers(f->ex), 0); /* not due yet: never made up */
	f->now += HOUR;
	assert_int_equal(pl_exchange_run_timers(f->ex), 1); /* the check */
	/* The same line again keeps its schedule: nothing is due twice. */
	assert_int_equal(pl_exchange_reconfigure(f->ex, o), 0);
	assert_int_equal(pl_exchange_run_timers(f->ex), 0);

	/* Both taken out: no more checks, the line still reported, no more auditor. */
	o->nlines = 0;
	o->nauditors = 0;
	assert_int_equal(pl_exchange_reconfigure(f->ex, o), 0);
	f->now += 2 * HOUR;
	assert_int_equal(pl_exchange_run_timers(f->ex), 1); /* the last check's unanswered */
	f->now += 2 * HOUR;
	assert_int_equal(pl_exchange_run_timers(f->ex), 0);
	assert_int_equal(line_list(f, "unc-kpa"), 0);
	pl_buf_reset(&b);
	assert_int_equal(pl_exchange_entry_bundle(f->ex, "us-nsc", 0, 1, &b), PL_EDENIED);
	pl_buf_release(&b);
	free(o);
}

/*
 * A line in a named zone, live: its zone is loaded by pl_exchange_reconfigure() (an unknown one
 * refused, nothing changed) and the check falls due at the zone's wall time.
 */
static void test_reconfigure_zone(void **state)
{
	static const char bad[] = "seoul unc kpa at 11:00 Mars/Olympus_Mons window 30m";
	static const char def[] = "seoul unc kpa at 11:00 Asia/Seoul window 30m";
	struct fx *f = *state;
	struct pl_exchange_options *o = calloc(1, sizeof(*o));

	assert_non_null(o);
	pl_exchange_options_default(o);
	assert_int_equal(pl_line_parse(&o->lines[0], bad, strlen(bad), NULL), 0);
	o->nlines = 1;
	assert_int_equal(pl_exchange_reconfigure(f->ex, o), PL_ENOTFOUND);
	assert_int_equal(line_list(f, "seoul"), PL_ENOTFOUND);
	assert_int_equal(pl_line_parse(&o->lines[0], def, strlen(def), NULL), 0);
	assert_int_equal(pl_exchange_reconfigure(f->ex, o), 0);
	/* T0 is 10:00 in Seoul (UTC+9): due at 11:00 KST, 02:00Z. */
	__atomic_store_n(&f->now, T0 + HOUR - 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pl_exchange_run_timers(f->ex), 0);
	__atomic_store_n(&f->now, T0 + HOUR, __ATOMIC_SEQ_CST);
	assert_int_equal(pl_exchange_run_timers(f->ex), 1);
	o->nlines = 0;
	assert_int_equal(pl_exchange_reconfigure(f->ex, o), 0);
	free(o);
}

/* A submitter on its own chain: concurrent (count, failures) or under a crash (fd). */
struct worker {
	struct fx *f;
	int party;
	int count;
	int failures;
	int fd; /* where a crash worker writes its acknowledgements */
};

/*
 * Submits a statement by w's party with body, without asserting (worker threads and
 * children call it); on success the party's chain moves on and rc holds the receipt.
 * Returns 0 or -1.
 */
static int submit_statement(struct worker *w, const char *body, struct pl_receipt *rc)
{
	struct party *p = &w->f->p[w->party];
	struct pl_record *r = rec_new(w->f, p, PL_KIND_STATEMENT);
	struct pl_buf msg;
	int ret = 0;

	r->has |= PL_RECORD_HAS_CLASS;
	r->cls = PL_CLASS_STATEMENT;
	rec_body(r, body);
	pl_buf_init(&msg, PL_RECORD_MAX_BYTES);
	if (pl_record_sign(&msg, r, &p->sk, 1, NULL) != 0 ||
	    pl_exchange_submit(w->f->ex, msg.data, msg.len, rc, NULL) != 0)
		ret = -1;
	pl_buf_release(&msg);
	free(r);
	if (ret == 0) {
		p->seq++;
		memcpy(p->head, rc->id, PL_HASH_BYTES);
	}
	return ret;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < w->count; i++) {
		struct pl_receipt rc;

		if (submit_statement(w, "concurrent", &rc) != 0) {
			w->failures++;
			continue;
		}
		pl_receipt_release(&rc);
	}
	return NULL;
}

/*
 * Under a sustained load the WAL is copied into the database and then written
 * again from its start: its file stays near the checkpointer's 1,000 pages
 * (about 4 MiB) instead of growing with every page the load writes. Seven
 * submitters keep the sequencer busy, which is when a checkpoint running
 * beside it alone would never catch up.
 */
static void test_wal_reused(void **state)
{
	struct fx *f = *state;
	char path[sizeof(f->dir) + 32];
	struct worker w[7];
	pthread_t th[7];
	struct stat st;
	off_t largest = 0;
	uint64_t size0 = pl_exchange_size(f->ex);
	bool running = true;

	snprintf(path, sizeof(path), "%s/parley.db-wal", f->dir);
	for (int i = 0; i < 7; i++) {
		w[i] = (struct worker){.f = f, .party = i, .count = 600};
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	/* Sample the WAL's size while the load runs (bounded: 4,200 records). */
	while (running) {
		running = pl_exchange_size(f->ex) < size0 + 7 * 600;
		if (stat(path, &st) == 0 && st.st_size > largest)
			largest = st.st_size;
		usleep(2000);
	}
	for (int i = 0; i < 7; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	/* The load wrote several times that many pages: 4,200 records, two or more each. */
	assert_true(largest > 0);
	assert_true(largest < 8 * 1024 * 1024);
}

static void test_concurrent(void **state)
{
	struct fx *f = *state;
	struct worker w[7];
	pthread_t th[7];
	struct pl_checkpoint mid, end;
	uint64_t size0 = pl_exchange_size(f->ex);

	latest_checkpoint(f, &mid);
	for (int i = 0; i < 7; i++) {
		w[i] = (struct worker){.f = f, .party = i, .count = 40};
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 7; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	/* Every record, and an index record at the end of each batch, however they fell. */
	latest_checkpoint(f, &end);
	assert_int_equal(end.size, pl_exchange_size(f->ex));
	assert_int_equal(end.size - count_kind(f, size0, end.size, "index"), size0 + 7 * 40);
	expect_kind(f, end.size - 1, "index");
	verify_consistent(f, &mid, &end);
}

/*
 * Crash safety: a child submits from several threads and reports each
 * acknowledgement through a pipe; it is killed with SIGKILL mid-load. Every
 * acknowledged record must be in the reopened log, at its index, and the new
 * checkpoint must be consistent with every checkpoint handed out.
 */
struct ack {
	uint64_t index;
	uint64_t size;
	uint8_t id[PL_HASH_BYTES];
	uint8_t root[PL_HASH_BYTES];
};

static void *crash_work(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		struct pl_receipt rc;
		struct pl_checkpoint *cp = malloc(sizeof(*cp));
		struct ack a;

		if (!cp || submit_statement(w, "under load", &rc) != 0)
			_exit(3);
		{
			const char *c = rc.checkpoint;
			if (pl_checkpoint_open(cp, NULL, c, rc.checkpoint_len, ORIGIN,
			                       pl_exchange_vkey(w->f->ex), 1) != 0)
				_exit(4);
		}
		a.index = rc.index;
		a.size = cp->size;
		memcpy(a.id, rc.id, PL_HASH_BYTES);
		memcpy(a.root, cp->root, PL_HASH_BYTES);
		free(cp);
		pl_receipt_release(&rc);
		if (write(w->fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
			_exit(5);
	}
	return NULL;
}

static void test_crash(void **state)
{
	struct fx *f = *state;
	struct ack *acks = calloc(100000, sizeof(*acks));
	size_t nacks = 0, got = 0;
	struct pl_checkpoint end;
	int fds[2], status = 0;
	time_t start;
	pid_t pid;

	assert_non_null(acks);
	fx_close(f);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct worker w[4];
		pthread_t th[4];
		close(fds[0]);
		fx_open(f);
		for (int i = 0; i < 4; i++) {
			w[i] = (struct worker){.f = f, .party = i, .fd = fds[1]};
			if (pthread_create(&th[i], NULL, crash_work, &w[i]) != 0)
				_exit(2);
		}
		for (;;)
			pause();
	}
	close(fds[1]);
	/* Read acknowledgements for a while, then kill the child in the middle of its load. */
	start = time(NULL);
	while (nacks < 100000 && time(NULL) - start < 2) {
		ssize_t n = read(fds[0], (char *)acks + got, sizeof(*acks));
		if (n <= 0)
			break;
		got += (size_t)n;
		nacks = got / sizeof(*acks);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status));
	/* Acknowledgements already in the pipe count too. */
	for (;;) {
		ssize_t n = read(fds[0], (char *)acks + got,
		                 (100000 - nacks) * sizeof(*acks) - (got % sizeof(*acks)));
		if (n <= 0)
			break;
		got += (size_t)n;
		nacks = got / sizeof(*acks);
	}
	close(fds[0]);
	assert_true(nacks > 10);

	fx_open(f);
	latest_checkpoint(f, &end);
	print_message("crash: %zu acknowledged records, tree size %llu after restart\n", nacks,
	              (unsigned long long)end.size);
	for (size_t i = 0; i < nacks; i++) {
		struct pl_exchange_entry e;
		struct pl_checkpoint old;
		assert_true(acks[i].index < end.size);
		assert_int_equal(
		        pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, acks[i].index, &e), 0);
		assert_memory_equal(e.id, acks[i].id, PL_HASH_BYTES);
		pl_exchange_entry_release(&e);
		if (i % 7 == 0 || i + 1 == nacks) {
			old.size = acks[i].size;
			memcpy(old.root, acks[i].root, PL_HASH_BYTES);
			verify_consistent(f, &old, &end);
		}
	}
	/* The log goes on after the crash. */
	f->p[UNC].seq = 0;
	{
		struct pl_exchange_refusal why;
		memset(&why, 0, sizeof(why));
		refused(f, UNC, rec_statement(f, UNC, "after the crash", NULL), PL_ECHAIN, &why);
		assert_true(why.has_head);
		f->p[UNC].seq = why.head_seq;
		memcpy(f->p[UNC].head, why.head_id, PL_HASH_BYTES);
	}
	ok(f, UNC, rec_statement(f, UNC, "after the crash", NULL), NULL);
	free(acks);
}

static void test_shutdown(void **state)
{
	struct fx *f = *state;
	struct pl_exchange_refusal why;
	struct pl_buf b;

	pl_exchange_shutdown(f->ex);
	pl_exchange_shutdown(f->ex);
	pl_buf_init(&b, 65536);
	assert_int_equal(pl_exchange_checkpoint(f->ex, &b), 0); /* reads still work */
	pl_buf_release(&b);
	refused(f, UNC, rec_statement(f, UNC, "too late", NULL), PL_ESTATE, &why);
	assert_int_equal(pl_exchange_run_timers(f->ex), PL_ESTATE);
	assert_int_equal(pl_exchange_wait(f->ex, 0, 1000), pl_exchange_size(f->ex));
}

/*
 * Witness cosignatures: stored with the checkpoint of their size, durably; the
 * newest cosigned checkpoint is served and verifies with the log's and the
 * witnesses' keys; bad input is refused and changes nothing.
 */
static void test_checkpoint_cosign(void **state)
{
	struct fx *f = *state;
	struct async_box box;
	struct async_slot slot[2] = {{&box, 0}, {&box, 1}};
	struct pl_skey wsk[2];
	struct pl_vkey wvk[2];
	struct pl_buf rec[2], text[3], line[2][3], b, lo_note, hi_note, latest;
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	struct pl_note *n = NULL;
	const char *names[2] = {"w1.example", "w2.example"};
	const char *bad[] = {
	        "hello\n",
	        "\xe2\x80\x94 w1.example AAAA\n",
	        "\xe2\x80\x94 w1.example\n",
	        "\n",
	};
	uint64_t sizes[3], t;
	struct pl_exchange_options saved_o;
	bool seen;

	assert_non_null(cp);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pl_key_generate(&wsk[i], &wvk[i], names[i], PL_SIGTYPE_COSIG_V1),
		                 0);
		pl_buf_init(&rec[i], PL_RECORD_MAX_BYTES);
	}
	for (int s = 0; s < 3; s++) {
		pl_buf_init(&text[s], PL_NOTE_MAX_BYTES);
		for (int i = 0; i < 2; i++)
			pl_buf_init(&line[i][s], 4096);
	}
	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	pl_buf_init(&lo_note, PL_NOTE_MAX_BYTES);
	pl_buf_init(&hi_note, PL_NOTE_MAX_BYTES);
	pl_buf_init(&latest, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_exchange_checkpoint_cosigned(f->ex, &b), PL_ENOTFOUND);

	/* Two records in one batch and its index: sizes lo (checkpointed), lo + 1 (none), hi = lo
	 * + 3.
	 */
	sizes[0] = pl_exchange_size(f->ex);
	saved_o = f->o;
	reopen_in_pairs(f, &box);
	rec_sign(&f->p[UNC], rec_statement(f, UNC, "one", NULL), &rec[0]);
	rec_sign(&f->p[KPA], rec_statement(f, KPA, "two", NULL), &rec[1]);
	for (int i = 0; i < 2; i++)
		assert_int_equal(
		        pl_exchange_submit_async(
		                f->ex, rec[i].data, rec[i].len,
		                &(struct pl_exchange_done){.fn = async_done, .arg = &slot[i]}),
		        0);
	pthread_mutex_lock(&box.mu);
	while (box.done < 2)
		pthread_cond_wait(&box.cv, &box.mu);
	pthread_mutex_unlock(&box.mu);
	assert_int_equal(box.status[0], 0);
	assert_int_equal(box.status[1], 0);
	sizes[1] = sizes[0] + 1;
	sizes[2] = sizes[0] + 3;
	assert_int_equal(pl_exchange_size(f->ex), sizes[2]);
	/* The rest is answered at once again, not after a lingering batch. */
	fx_close(f);
	f->o = saved_o;
	fx_open(f);
	assert_int_equal(pl_exchange_checkpoint_at(f->ex, sizes[1], &b), PL_ENOTFOUND);

	/* Each witness's line over the checkpoints at lo and hi. */
	for (int s = 0; s < 3; s += 2) {
		assert_int_equal(pl_exchange_checkpoint_at(f->ex, sizes[s], &text[s]), 0);
		assert_int_equal(pl_note_parse(&n, text[s].data, text[s].len), 0);
		for (int i = 0; i < 2; i++)
			assert_int_equal(pl_cosignature_sign(&line[i][s], &wsk[i], (uint64_t)T0 + i,
			                                     n->text, n->text_len),
			                 0);
		pl_note_free(n);
		n = NULL;
	}
	/* A line over hi's checkpoint for the gap size, for lo, beyond the tree: refused. */
	assert_int_equal(
	        pl_exchange_checkpoint_cosign(f->ex, sizes[1], line[0][2].data, line[0][2].len),
	        PL_ENOTFOUND);
	assert_int_equal(
	        pl_exchange_checkpoint_cosign(f->ex, sizes[2] + 1, line[0][2].data, line[0][2].len),
	        PL_ENOTFOUND);
	assert_int_equal(pl_exchange_checkpoint_cosign(f->ex, (uint64_t)INT64_MAX + 1,
	                                               line[0][2].data, line[0][2].len),
	                 PL_ENOTFOUND);
	assert_int_equal(
	        pl_exchange_checkpoint_cosign(f->ex, UINT64_MAX, line[0][2].data, line[0][2].len),
	        PL_ENOTFOUND);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		        pl_exchange_checkpoint_cosign(f->ex, sizes[0], bad[i], strlen(bad[i])),
		        PL_EMALFORMED);
	/* A good line without its newline, or followed by junk: the whole request fails. */
	assert_int_equal(
	        pl_exchange_checkpoint_cosign(f->ex, sizes[0], line[0][0].data, line[0][0].len - 1),
	        PL_EMALFORMED);
	pl_buf_reset(&b);
	assert_int_equal(pl_buf_add(&b, line[0][0].data, line[0][0].len), 0);
	assert_int_equal(pl_buf_adds(&b, "junk\n"), 0);
	assert_int_equal(pl_exchange_checkpoint_cosign(f->ex, sizes[0], b.data, b.len),
	                 PL_EMALFORMED);
	assert_int_equal(pl_exchange_checkpoint_cosign(f->ex, sizes[0], NULL, 0), PL_EINVAL);
	assert_int_equal(pl_exchange_checkpoint_cosign(f->ex, sizes[0], "", 0), PL_EINVAL);
	pl_buf_reset(&b);
	assert_int_equal(pl_exchange_checkpoint_cosigned(f->ex, &b), PL_ENOTFOUND);
	for (int s = 0; s < 3; s += 2) {
		pl_buf_reset(&b);
		assert_int_equal(pl_exchange_checkpoint_at(f->ex, sizes[s], &b), 0);
		assert_int_equal(b.len, text[s].len);
		assert_memory_equal(b.data, text[s].data, b.len);
	}

	/* lo cosigned by w1: it is the cosigned checkpoint, its read carries the line. */
	assert_int_equal(
	        pl_exchange_checkpoint_cosign(f->ex, sizes[0], line[0][0].data, line[0][0].len), 0);
	assert_int_equal(pl_exchange_checkpoint_cosigned(f->ex, &lo_note), 0);
	assert_int_equal(lo_note.len, text[0].len + line[0][0].len);
	assert_memory_equal(lo_note.data, text[0].data, text[0].len);
	assert_memory_equal(lo_note.data + text[0].len, line[0][0].data, line[0][0].len);
	pl_buf_reset(&b);
	assert_int_equal(pl_exchange_checkpoint_at(f->ex, sizes[0], &b), 0);
	assert_int_equal(b.len, lo_note.len);
	assert_memory_equal(b.data, lo_note.data, b.len);

	/* hi cosigned by both at once: now the newest, and the latest checkpoint carries them. */
	pl_buf_reset(&b);
	assert_int_equal(pl_buf_add(&b, line[0][2].data, line[0][2].len), 0);
	assert_int_equal(pl_buf_add(&b, line[1][2].data, line[1][2].len), 0);
	assert_int_equal(pl_exchange_checkpoint_cosign(f->ex, sizes[2], b.data, b.len), 0);
	assert_int_equal(pl_exchange_checkpoint_cosigned(f->ex, &hi_note), 0);
	assert_int_equal(hi_note.len, text[2].len + b.len);
	assert_int_equal(pl_exchange_checkpoint(f->ex, &latest), 0);
	assert_int_equal(latest.len, hi_note.len);
	assert_memory_equal(latest.data, hi_note.data, latest.len);

	/* w2 cosigns lo later: lo gains it, the newest stays hi; a repeated line is left out. */
	assert_int_equal(
	        pl_exchange_checkpoint_cosign(f->ex, sizes[0], line[1][0].data, line[1][0].len), 0);
	assert_int_equal(pl_buf_add(&lo_note, line[1][0].data, line[1][0].len), 0);
	assert_int_equal(
	        pl_exchange_checkpoint_cosign(f->ex, sizes[0], line[0][0].data, line[0][0].len), 0);
	/* Bad input after cosigning changes nothing either. */
	assert_int_equal(pl_exchange_checkpoint_cosign(f->ex, sizes[0], bad[0], strlen(bad[0])),
	                 PL_EMALFORMED);
	assert_int_equal(
	        pl_exchange_checkpoint_cosign(f->ex, sizes[1], line[0][0].data, line[0][0].len),
	        PL_ENOTFOUND);

	/* All of it survives a close and reopen. */
	fx_close(f);
	fx_open(f);
	pl_buf_reset(&b);
	assert_int_equal(pl_exchange_checkpoint_cosigned(f->ex, &b), 0);
	assert_int_equal(b.len, hi_note.len);
	assert_memory_equal(b.data, hi_note.data, b.len);
	pl_buf_reset(&b);
	assert_int_equal(pl_exchange_checkpoint(f->ex, &b), 0);
	assert_int_equal(b.len, hi_note.len);
	assert_memory_equal(b.data, hi_note.data, b.len);
	pl_buf_reset(&b);
	assert_int_equal(pl_exchange_checkpoint_at(f->ex, sizes[0], &b), 0);
	assert_int_equal(b.len, lo_note.len);
	assert_memory_equal(b.data, lo_note.data, b.len);

	/* Each verifies with the log's key and each witness's (the log signs first). */
	for (int s = 0; s < 3; s += 2) {
		const struct pl_buf *msg = s ? &hi_note : &lo_note;
		assert_int_equal(pl_checkpoint_open(cp, &n, msg->data, msg->len, ORIGIN,
		                                    pl_exchange_vkey(f->ex), 1),
		                 0);
		assert_int_equal(cp->size, sizes[s]);
		assert_int_equal(n->nsigs, 3);
		for (int i = 0; i < 2; i++) {
			seen = false;
			for (size_t k = 1; k < n->nsigs; k++) {
				if (strcmp(n->sigs[k].name, names[i]) != 0)
					continue;
				t = 0;
				assert_int_equal(pl_cosignature_verify(&n->sigs[k], &wvk[i],
				                                       n->text, n->text_len, &t),
				                 0);
				assert_int_equal(t, (uint64_t)T0 + i);
				assert_false(seen);
				seen = true;
			}
			assert_true(seen);
			/* The other witness's key does not verify its line. */
			assert_int_not_equal(pl_cosignature_verify(&n->sigs[1 + i], &wvk[1 - i],
			                                           n->text, n->text_len, NULL),
			                     0);
		}
		pl_note_free(n);
		n = NULL;
	}
	/* A newer checkpoint is the latest; the newest cosigned one is still hi. */
	ok(f, ROK_MND, rec_statement(f, ROK_MND, "after the witnesses", NULL), NULL);
	pl_buf_reset(&b);
	assert_int_equal(pl_exchange_checkpoint_cosigned(f->ex, &b), 0);
	assert_int_equal(b.len, hi_note.len);
	assert_memory_equal(b.data, hi_note.data, b.len);
	latest_checkpoint(f, cp);
	assert_int_equal(cp->size, sizes[2] + 2);

	for (int i = 0; i < 2; i++) {
		pl_skey_clear(&wsk[i]);
		pl_buf_release(&rec[i]);
	}
	for (int s = 0; s < 3; s++) {
		pl_buf_release(&text[s]);
		for (int i = 0; i < 2; i++)
			pl_buf_release(&line[i][s]);
	}
	pl_buf_release(&b);
	pl_buf_release(&lo_note);
	pl_buf_release(&hi_note);
	pl_buf_release(&latest);
	pthread_mutex_destroy(&box.mu);
	pthread_cond_destroy(&box.cv);
	free(cp);
}

/* ---- A damaged store: every read is checked, never wrong bytes ---- */

/* Each with its index, beside the 7 registers and theirs: 614, tiles 0/0 and 0/1 full, 0/2 partial.
 */
#define DMG_STATEMENTS 300
#define DMG_FLIPS      16 /* seeded random 4-byte flips */

/* What the exchange served before the damage: the reference every later read must equal. */
struct dmg_ref {
	uint64_t size;
	uint8_t (*id)[PL_HASH_BYTES];
	char **note;
	size_t *len;
	struct pl_buf tile00, tile01, tile02, tile10, bundle0, bundle2;
	struct pl_exchange_party *parties;
	size_t nparties;
};

/* Where a case damages parley.db, and what it must then do. */
enum dmg_kind {
	DMG_TEXT,   /* a byte inside a record's text */
	DMG_LEAF,   /* a byte of a stored leaf hash */
	DMG_NODE,   /* a byte of the stored hash of the level-1 subtree over leaves 0 and 1 */
	DMG_TILE1,  /* a byte of the stored hash one tile level up from tile 0/0 */
	DMG_ID,     /* a byte of a record's indexed id (past its 8-byte lookup prefix) */
	DMG_PARTY,  /* a byte of a party's encryption key in the directory */
	DMG_RANDOM, /* 4 bytes anywhere */
};

struct dmg_case {
	const char *name;
	enum dmg_kind kind;
	uint64_t index; /* the record concerned; for DMG_RANDOM the seed */
	bool refused;   /* the exchange refuses to open the store */
	/* reads that must fail with PL_EDAMAGED (when it opens) */
	bool record, record_by_id, tile00, tile10, bundle0, parties;
	const char *finding; /* what pl_exchange_verify() must say (NULL: only that it failed) */
};

static const struct dmg_case dmg_cases[] = {
        {"record text in a full tile", DMG_TEXT, 20, false, true, true, false, false, true, false,
         "record 20 does not match its leaf hash"},
        {"record text in a full tile, checked at open", DMG_TEXT, 300, false, true, true, false,
         false, false, false, "record 300 does not match its leaf hash"},
        {"record text among the newest", DMG_TEXT, 600, true, false, false, false, false, false,
         false, "record 600 does not match its leaf hash"},
        {"stored leaf hash in a full tile", DMG_LEAF, 10, false, true, true, true, false, true,
         true, "record 10 does not match its leaf hash"},
        {"stored hash above a full tile", DMG_TILE1, 0, true, false, false, false, false, false,
         false, "stored hash 510 (level 8, node 0)"},
        {"interior stored hash outside any tile", DMG_NODE, 0, false, false, false, false, false,
         false, false, "stored hash 2 (level 1, node 0)"},
        {"indexed id of a record", DMG_ID, 20, false, true, true, false, false, false, false,
         "record 20 does not hash to its id"},
        {"a party's key in the directory", DMG_PARTY, US_NSC, false, false, false, false, false,
         false, true, "the directory's keys of us-nsc differ from its register record"},
};

static void dmg_ref_load(struct fx *f, struct dmg_ref *r)
{
	memset(r, 0, sizeof(*r));
	r->size = pl_exchange_size(f->ex);
	r->id = calloc(r->size, sizeof(*r->id));
	r->note = calloc(r->size, sizeof(*r->note));
	r->len = calloc(r->size, sizeof(*r->len));
	assert_true(r->id && r->note && r->len);
	for (uint64_t i = 0; i < r->size; i++) {
		struct pl_exchange_entry e;
		assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, i, &e), 0);
		memcpy(r->id[i], e.id, PL_HASH_BYTES);
		r->note[i] = e.note;
		r->len[i] = e.note_len;
	}
	pl_buf_init(&r->tile00, PL_TILE_BYTES);
	pl_buf_init(&r->tile01, PL_TILE_BYTES);
	pl_buf_init(&r->tile02, PL_TILE_BYTES);
	pl_buf_init(&r->tile10, PL_TILE_BYTES);
	pl_buf_init(&r->bundle0, 64u << 20);
	pl_buf_init(&r->bundle2, 64u << 20);
	assert_int_equal(pl_exchange_tile(f->ex, 0, 0, 0, &r->tile00), 0);
	assert_int_equal(pl_exchange_tile(f->ex, 0, 1, 0, &r->tile01), 0);
	assert_int_equal(pl_exchange_tile(f->ex, 0, 2, r->size % 256, &r->tile02), 0);
	assert_int_equal(pl_exchange_tile(f->ex, 1, 0, 2, &r->tile10), 0);
	assert_int_equal(pl_exchange_entry_bundle(f->ex, PL_EXCHANGE_READER_ALL, 0, 0, &r->bundle0),
	                 0);
	assert_int_equal(pl_exchange_entry_bundle(f->ex, PL_EXCHANGE_READER_ALL, 2, r->size % 256,
	                                          &r->bundle2),
	                 0);
	assert_int_equal(pl_exchange_parties(f->ex, &r->parties, &r->nparties), 0);
	assert_int_equal(r->nparties, NPARTY - 1);
}

static void dmg_ref_release(struct dmg_ref *r)
{
	for (uint64_t i = 0; i < r->size; i++)
		free(r->note[i]);
	free(r->note);
	free(r->id);
	free(r->len);
	pl_buf_release(&r->tile00);
	pl_buf_release(&r->tile01);
	pl_buf_release(&r->tile02);
	pl_buf_release(&r->tile10);
	pl_buf_release(&r->bundle0);
	pl_buf_release(&r->bundle2);
	free(r->parties);
}

static void dmg_path(char *out, size_t n, const char *dir, const char *file)
{
	snprintf(out, n, "%s/%s", dir, file);
}

/* Reads a whole file (the store is a few hundred KiB). */
static uint8_t *dmg_slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *p;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	p = malloc((size_t)n);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return p;
}

static void dmg_spill(const char *path, const uint8_t *p, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* The offset of the only occurrence of needle in the file's bytes. */
static size_t dmg_find(const uint8_t *p, size_t len, const void *needle, size_t nlen)
{
	size_t at = SIZE_MAX, count = 0;

	for (size_t i = 0; i + nlen <= len; i++) {
		if (memcmp(p + i, needle, nlen) == 0) {
			at = i;
			count++;
		}
	}
	assert_int_equal(count, 1);
	return at;
}

/* xorshift64: the same flips on every run. */
static uint64_t dmg_rand(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

/* Damages the pristine bytes p[0..len) as case c says. */
static void dmg_apply(const struct dmg_case *c, const struct dmg_ref *r, uint8_t *p, size_t len)
{
	uint8_t h[PL_HASH_BYTES];
	char text[32];
	size_t at;

	switch (c->kind) {
	case DMG_TEXT:
		/* Statement k is at 14 + 2k: after the registers, each batch ends with an index. */
		snprintf(text, sizeof(text), "damage probe %03llu",
		         (unsigned long long)((c->index - 14) / 2 % 1000));
		at = dmg_find(p, len, text, strlen(text));
		p[at + strlen(text) - 1] ^= 0x01;
		break;
	case DMG_LEAF:
		pl_tlog_leaf_hash(h, r->note[c->index], r->len[c->index]);
		p[dmg_find(p, len, h, sizeof(h)) + 17] ^= 0x40;
		break;
	case DMG_NODE: {
		uint8_t l0[PL_HASH_BYTES], l1[PL_HASH_BYTES];
		pl_tlog_leaf_hash(l0, r->note[0], r->len[0]);
		pl_tlog_leaf_hash(l1, r->note[1], r->len[1]);
		pl_tlog_node_hash(h, l0, l1);
		p[dmg_find(p, len, h, sizeof(h)) + 3] ^= 0x80;
		break;
	}
	case DMG_TILE1:
		p[dmg_find(p, len, r->tile10.data, PL_HASH_BYTES) + 30] ^= 0x02;
		break;
	case DMG_ID:
		p[dmg_find(p, len, r->id[c->index], PL_HASH_BYTES) + 20] ^= 0x10;
		break;
	case DMG_PARTY: {
		/* The directory row holds the two keys' texts side by side. */
		const struct pl_exchange_party *q = &r->parties[c->index];
		struct pl_buf b;
		pl_buf_init(&b, 2048);
		assert_int_equal(pl_vkey_format(&q->vkey, &b), 0);
		assert_int_equal(pl_buf_adds(&b, q->enc_key), 0);
		at = dmg_find(p, len, b.data, b.len);
		p[at + b.len - 2] ^= 0x01;
		pl_buf_release(&b);
		break;
	}
	case DMG_RANDOM: {
		uint64_t st = 0x9e3779b97f4a7c15u * (c->index + 1);
		at = (size_t)(dmg_rand(&st) % (len - 4));
		for (size_t i = 0; i < 4; i++)
			p[at + i] ^= (uint8_t)(dmg_rand(&st) | 1);
		break;
	}
	}
}

/* A read's outcome: the reference bytes, or the damage refused. Returns true when refused. */
static bool dmg_outcome(const char *what, int ret, bool same)
{
	if (ret == 0 && !same)
		fprintf(stderr, "%s: served wrong bytes\n", what);
	if (ret != 0 && ret != PL_EDAMAGED && ret != PL_ESTORE)
		fprintf(stderr, "%s: %s\n", what, pl_strerror(ret));
	assert_true(ret == 0 ? same : ret == PL_EDAMAGED || ret == PL_ESTORE);
	return ret != 0;
}

static bool dmg_entry_same(const struct dmg_ref *r, const struct pl_exchange_entry *e)
{
	return e->index < r->size && e->note_len == r->len[e->index] &&
	       memcmp(e->note, r->note[e->index], e->note_len) == 0 &&
	       memcmp(e->id, r->id[e->index], PL_HASH_BYTES) == 0;
}

static bool dmg_parties_same(const struct dmg_ref *r, const struct pl_exchange_party *v, size_t n)
{
	if (n != r->nparties)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct pl_exchange_party *a = &r->parties[i], *b = &v[i];
		if (strcmp(a->name, b->name) != 0 || !pl_vkey_equal(&a->vkey, &b->vkey) ||
		    strcmp(a->enc_key, b->enc_key) != 0 || a->register_index != b->register_index ||
		    memcmp(a->register_id, b->register_id, PL_HASH_BYTES) != 0 ||
		    a->revoked != b->revoked)
			return false;
	}
	return true;
}

static bool dmg_list_same(const struct dmg_ref *r, const struct pl_exchange_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!dmg_entry_same(r, &l->v[i]))
			return false;
	return true;
}

/* A tile or bundle read: what it served equals the reference. */
static int dmg_tile_read(struct fx *f, bool bundle, unsigned level, uint64_t n, unsigned width,
                         const struct pl_buf *want, bool *same)
{
	struct pl_buf b;
	int ret;

	pl_buf_init(&b, 64u << 20);
	ret = bundle ? pl_exchange_entry_bundle(f->ex, PL_EXCHANGE_READER_ALL, n, width, &b)
	             : pl_exchange_tile(f->ex, level, n, width, &b);
	*same = ret == 0 && b.len == want->len && memcmp(b.data, want->data, b.len) == 0;
	pl_buf_release(&b);
	return ret;
}

/*
 * Every read that hands out stored records, bundles or tiles, over the whole
 * log: each serves the reference bytes or fails with the damage error. Returns
 * how many failed; *failed_record etc. tell which of the case's reads did.
 */
static int dmg_read_all(struct fx *f, const struct dmg_ref *r, const struct dmg_case *c,
                        bool got[6])
{
	struct pl_exchange_party *v = NULL;
	struct pl_exchange_entry e;
	struct pl_exchange_list l;
	size_t nv = 0;
	char hex[PL_HASH_HEX_LEN + 1], what[64];
	int failed = 0, ret;
	bool same;

	memset(got, 0, 6 * sizeof(*got));
	for (uint64_t i = 0; i < r->size; i++) {
		snprintf(what, sizeof(what), "record %llu", (unsigned long long)i);
		ret = pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, i, &e);
		same = ret == 0 && dmg_entry_same(r, &e);
		if (ret == 0)
			pl_exchange_entry_release(&e);
		if (dmg_outcome(what, ret, same)) {
			failed++;
			got[0] = got[0] || i == c->index;
		}
		pl_hex_encode(hex, r->id[i], PL_HASH_BYTES);
		ret = pl_exchange_record(f->ex, PL_EXCHANGE_READER_ALL, hex, PL_HASH_HEX_LEN, &e);
		/* A damaged id, or a damaged id index, finds nothing: nothing wrong is
		 * served, and the offline check below must find the damage. */
		if (ret == PL_ENOTFOUND &&
		    ((c->kind == DMG_ID && i == c->index) || c->kind == DMG_RANDOM))
			ret = PL_EDAMAGED;
		same = ret == 0 && dmg_entry_same(r, &e);
		if (ret == 0)
			pl_exchange_entry_release(&e);
		if (dmg_outcome(what, ret, same)) {
			failed++;
			got[1] = got[1] || i == c->index;
		}
	}
	ret = dmg_tile_read(f, false, 0, 0, 0, &r->tile00, &same);
	failed += got[2] = dmg_outcome("tile 0/0", ret, same);
	ret = dmg_tile_read(f, false, 0, 1, 0, &r->tile01, &same);
	failed += dmg_outcome("tile 0/1", ret, same);
	ret = dmg_tile_read(f, false, 0, 2, (unsigned)(r->size % 256), &r->tile02, &same);
	failed += dmg_outcome("tile 0/2.p", ret, same);
	ret = dmg_tile_read(f, false, 1, 0, 2, &r->tile10, &same);
	failed += got[3] = dmg_outcome("tile 1/0.p/2", ret, same);
	ret = dmg_tile_read(f, true, 0, 0, 0, &r->bundle0, &same);
	failed += got[4] = dmg_outcome("entries 0", ret, same);
	ret = dmg_tile_read(f, true, 0, 2, (unsigned)(r->size % 256), &r->bundle2, &same);
	failed += dmg_outcome("entries 2.p", ret, same);
	/* The list reads: statements, an inbox, a thread. */
	for (uint64_t after = 0; after < r->size; after += 100) {
		ret = pl_exchange_statements(f->ex, after, 100, &l);
		failed += dmg_outcome("statements", ret, ret == 0 && dmg_list_same(r, &l));
		if (ret == 0)
			pl_exchange_list_release(&l);
		ret = pl_exchange_inbox(f->ex, f->p[KPA].name, after, 100, &l);
		failed += dmg_outcome("inbox", ret, ret == 0 && dmg_list_same(r, &l));
		if (ret == 0)
			pl_exchange_list_release(&l);
	}
	/* The directory, as /parties serves it. */
	ret = pl_exchange_parties(f->ex, &v, &nv);
	failed += got[5] = dmg_outcome("parties", ret, ret == 0 && dmg_parties_same(r, v, nv));
	free(v);
	ret = pl_exchange_thread(f->ex, PL_EXCHANGE_READER_ALL, r->id[10], 0, &l);
	if (ret == PL_ENOTFOUND && c->kind == DMG_ID)
		ret = PL_EDAMAGED;
	failed += dmg_outcome("thread", ret, ret == 0 && dmg_list_same(r, &l));
	if (ret == 0)
		pl_exchange_list_release(&l);
	return failed;
}

static void dmg_finding(void *arg, const char *what)
{
	struct pl_buf *b = arg;

	assert_int_equal(pl_buf_addf(b, "%s\n", what), 0);
}

/*
 * A store damaged behind the exchange's back (a flipped byte in a record, in
 * a stored hash, in an indexed id, or anywhere at random) never makes a read
 * hand out wrong bytes: each read serves what was logged or fails with
 * PL_EDAMAGED (PL_ESTORE where SQLite itself finds its file damaged); and
 * pl_exchange_verify() finds the damage, while it passes a sound store.
 */
static void test_damaged_store(void **state)
{
	struct fx *f = *state;
	struct pl_exchange_verify_cb cb = {.finding = dmg_finding};
	struct pl_exchange_verify_stats st;
	struct dmg_ref ref;
	struct pl_buf found, err;
	char db[128], wal[128];
	uint8_t *pristine, *p;
	size_t len, ncases = PL__TEST_LEN(dmg_cases) + DMG_FLIPS;
	struct stat sb;

	for (int i = 0; i < DMG_STATEMENTS; i++) {
		char text[32];
		snprintf(text, sizeof(text), "damage probe %03d", i);
		ok(f, i % 2 ? UNC : KPA, rec_statement(f, i % 2 ? UNC : KPA, text, NULL), NULL);
	}
	dmg_ref_load(f, &ref);
	assert_int_equal(ref.size,
	                 2 * (DMG_STATEMENTS + 7)); /* each in its batch, with its index */
	fx_close(f);
	dmg_path(db, sizeof(db), f->dir, "parley.db");
	dmg_path(wal, sizeof(wal), f->dir, "parley.db-wal");
	assert_true(stat(wal, &sb) != 0 || sb.st_size == 0); /* all of it in parley.db */
	pristine = dmg_slurp(db, &len);
	pl_buf_init(&found, 1u << 20);
	pl_buf_init(&err, 1024);
	cb.arg = &found;
	/* A sound store passes, every record and hash counted. */
	assert_int_equal(pl_exchange_verify(f->dir, &cb, &st, &err), 0);
	assert_int_equal(st.findings, 0);
	assert_int_equal(st.size, ref.size);
	assert_int_equal(st.records, ref.size);
	assert_int_equal(st.hashes, pl_tlog_stored_count(ref.size) - ref.size);
	assert_int_equal(st.indexes, ref.size / 2); /* every other record ends a batch */
	for (size_t k = 0; k < ncases; k++) {
		struct dmg_case rnd = {
		        .name = "random 4-byte flip", .kind = DMG_RANDOM, .index = k};
		const struct dmg_case *c = k < PL__TEST_LEN(dmg_cases) ? &dmg_cases[k] : &rnd;
		bool got[6];
		int ret, failed = 0;

		p = malloc(len);
		assert_non_null(p);
		memcpy(p, pristine, len);
		dmg_apply(c, &ref, p, len);
		unlink(wal);
		dmg_spill(db, p, len);
		free(p);
		pl_buf_reset(&err);
		ret = pl_exchange_open(&f->ex, f->dir, &f->o, &err);
		fprintf(stderr, "# %s %llu: open %s %s\n", c->name, (unsigned long long)c->index,
		        pl_strerror(ret), err.data ? err.data : "");
		if (c->kind != DMG_RANDOM)
			assert_int_equal(ret != 0, c->refused);
		if (ret == 0) {
			failed = dmg_read_all(f, &ref, c, got);
			if (c->kind != DMG_RANDOM) {
				assert_int_equal(got[0], c->record);
				assert_int_equal(got[1], c->record_by_id);
				assert_int_equal(got[2], c->tile00);
				assert_int_equal(got[3], c->tile10);
				assert_int_equal(got[4], c->bundle0);
				assert_int_equal(got[5], c->parties);
			}
			fx_close(f);
		} else {
			assert_true(ret == PL_ESTORE || ret == PL_EDAMAGED);
			failed = 1;
		}
		/* The offline check finds whatever a read or the open found. */
		pl_buf_reset(&found);
		pl_buf_reset(&err);
		ret = pl_exchange_verify(f->dir, &cb, &st, &err);
		fprintf(stderr, "# verify: %s, %llu findings\n%s", pl_strerror(ret),
		        (unsigned long long)st.findings, found.data ? found.data : "");
		if (c->kind != DMG_RANDOM || failed)
			assert_int_equal(ret, PL_EDAMAGED);
		else
			assert_true(ret == 0 || ret == PL_EDAMAGED);
		if (c->finding)
			assert_non_null(strstr(found.data, c->finding));
	}
	/* Back to the sound store: it opens and serves again. */
	unlink(wal);
	dmg_spill(db, pristine, len);
	fx_open(f);
	{
		bool got[6];
		assert_int_equal(dmg_read_all(f, &ref, &dmg_cases[0], got), 0);
	}
	free(pristine);
	pl_buf_release(&found);
	pl_buf_release(&err);
	dmg_ref_release(&ref);
}

/* A payload blob damaged in the store is refused as damage, never handed out. */
static void test_damaged_payload(void **state)
{
	struct fx *f = *state;
	uint8_t pk[1][PL_BOX_PK_BYTES], commit[PL_BOX_COMMIT_BYTES], hash[PL_HASH_BYTES];
	uint8_t *blob = NULL, *got = NULL, *p;
	size_t len = 0, glen = 0, dblen;
	char db[128], wal[128];

	memcpy(pk[0], f->p[KPA].enc.pk, PL_BOX_PK_BYTES);
	assert_int_equal(pl_box_seal(&blob, &len, commit, NULL, (const uint8_t *)"damage me", 9,
	                             (const uint8_t(*)[PL_BOX_PK_BYTES])pk, 1),
	                 0);
	assert_int_equal(pl_exchange_payload_put(f->ex, "unc", blob, len, hash), 0);
	fx_close(f);
	dmg_path(db, sizeof(db), f->dir, "parley.db");
	dmg_path(wal, sizeof(wal), f->dir, "parley.db-wal");
	p = dmg_slurp(db, &dblen);
	/* The blob's last 32 bytes are ciphertext: unique in the file. */
	p[dmg_find(p, dblen, blob + len - 32, 32) + 5] ^= 0x20;
	unlink(wal);
	dmg_spill(db, p, dblen);
	free(p);
	fx_open(f);
	assert_int_equal(pl_exchange_payload_get(f->ex, "unc", hash, &got, &glen), PL_EDAMAGED);
	assert_null(got);
	free(blob);
	/* The offline check finds it too. */
	fx_close(f);
	{
		struct pl_exchange_verify_cb cb = {.finding = dmg_finding};
		struct pl_exchange_verify_stats st;
		struct pl_buf found;
		pl_buf_init(&found, 1u << 16);
		cb.arg = &found;
		assert_int_equal(pl_exchange_verify(f->dir, &cb, &st, NULL), PL_EDAMAGED);
		assert_int_equal(st.payloads, 1);
		assert_int_equal(st.findings, 1);
		assert_non_null(strstr(found.data, "does not hash to its name"));
		pl_buf_release(&found);
	}
	fx_open(f);
}

/* While the exchange runs, the offline check refuses to start. */
static void test_verify_running(void **state)
{
	struct fx *f = *state;
	struct pl_buf err;

	pl_buf_init(&err, 1024);
	assert_int_equal(pl_exchange_verify(f->dir, NULL, NULL, &err), PL_ESTATE);
	assert_non_null(strstr(err.data, "running"));
	fx_close(f);
	pl_buf_reset(&err);
	assert_int_equal(pl_exchange_verify(f->dir, NULL, NULL, &err), 0);
	fx_open(f);
	pl_buf_release(&err);
}

/* A reader of the newest record, its hash tile and an inbox while the tree grows. */
struct edge_reader {
	struct fx *f;
	int *stop;
	int reads, failures;
};

static void *edge_read(void *arg)
{
	struct edge_reader *r = arg;

	while (!__atomic_load_n(r->stop, __ATOMIC_SEQ_CST)) {
		uint64_t size = pl_exchange_size(r->f->ex), last = size - 1;
		struct pl_exchange_entry e;
		struct pl_exchange_list l;
		struct pl_buf t;
		uint8_t id[PL_HASH_BYTES];
		int ret = pl_exchange_record_at(r->f->ex, PL_EXCHANGE_READER_ALL, last, &e);
		if (ret == 0) {
			crypto_hash_sha256(id, (const uint8_t *)e.note, e.note_len);
			ret = memcmp(id, e.id, PL_HASH_BYTES) == 0 ? 0 : PL_EPROOF;
			pl_exchange_entry_release(&e);
		}
		pl_buf_init(&t, PL_TILE_BYTES);
		if (ret == 0)
			ret = pl_exchange_tile(r->f->ex, 0, last / PL_TILE_WIDTH,
			                       (unsigned)(last % PL_TILE_WIDTH) + 1, &t);
		pl_buf_release(&t);
		if (ret == 0)
			ret = pl_exchange_inbox(r->f->ex, r->f->p[KPA].name, last, 10, &l);
		if (ret == 0)
			pl_exchange_list_release(&l);
		r->reads++;
		r->failures += ret != 0;
	}
	return NULL;
}

/*
 * The tree's right edge is checked again when the tree has grown, reading
 * only what was appended since the last check, while readers of the newest
 * records are served throughout: a damaged hash among those appended is
 * found by a read of an older record of the same partial tile, whose own
 * leaf is sound.
 */
static void test_edge_grows(void **state)
{
	struct fx *f = *state;
	struct pl_exchange_entry e;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[128], why[512];
	uint64_t first, last = 0;

	/* Readers of the newest records while two writers grow the tree across a tile. */
	{
		struct edge_reader rd[4];
		struct worker w[2];
		pthread_t tr[4], tw[2];
		int stop = 0;
		for (int i = 0; i < 4; i++) {
			rd[i] = (struct edge_reader){f, &stop, 0, 0};
			assert_int_equal(pthread_create(&tr[i], NULL, edge_read, &rd[i]), 0);
		}
		for (int i = 0; i < 2; i++) {
			w[i] = (struct worker){.f = f, .party = i ? KPA : DPRK, .count = 150};
			assert_int_equal(pthread_create(&tw[i], NULL, work, &w[i]), 0);
		}
		for (int i = 0; i < 2; i++) {
			pthread_join(tw[i], NULL);
			assert_int_equal(w[i].failures, 0);
		}
		__atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
		for (int i = 0; i < 4; i++) {
			pthread_join(tr[i], NULL);
			assert_true(rd[i].reads > 0);
			assert_int_equal(rd[i].failures, 0);
		}
		assert_true(pl_exchange_size(f->ex) > PL_TILE_WIDTH);
	}
	/* The 12 entries below (six batches, each with its index) fit in one partial tile. */
	for (int i = 0; i < 10 && pl_exchange_size(f->ex) % PL_TILE_WIDTH > PL_TILE_WIDTH - 16; i++)
		ok(f, UNC, rec_statement(f, UNC, "pad", NULL), NULL);
	first = ok(f, UNC, rec_statement(f, UNC, "edge 0", NULL), NULL);
	assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, first, &e), 0);
	pl_exchange_entry_release(&e);
	for (int i = 1; i < 5; i++) {
		char text[32];
		snprintf(text, sizeof(text), "edge %d", i);
		last = ok(f, UNC, rec_statement(f, UNC, text, NULL), NULL);
		/* Each growth checks the edge again from what was read before. */
		assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, first, &e),
		                 0);
		pl_exchange_entry_release(&e);
	}
	/* A record logged after the last check; its leaf hash damaged behind the exchange's back.
	 */
	last = ok(f, KPA, rec_statement(f, KPA, "after", NULL), NULL);
	snprintf(path, sizeof(path), "%s/parley.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE hashes SET h = zeroblob(32) WHERE i = ?1",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)pl_tlog_stored_index(0, last));
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_close(db);
	assert_int_equal(first / PL_TILE_WIDTH, last / PL_TILE_WIDTH);
	assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, first, &e),
	                 PL_EDAMAGED);
	pl_exchange_last_error(f->ex, why, sizeof(why));
	assert_non_null(strstr(why, "damaged store: the partial hash tiles of tree size"));
	assert_int_equal(pl_exchange_record_at(f->ex, PL_EXCHANGE_READER_ALL, last, &e),
	                 PL_EDAMAGED);
	pl_exchange_last_error(f->ex, why, sizeof(why));
	assert_non_null(strstr(why, "does not match its leaf hash"));
	{
		struct pl_buf t;
		pl_buf_init(&t, PL_TILE_BYTES);
		assert_int_equal(pl_exchange_tile(f->ex, 0, last / PL_TILE_WIDTH, 1, &t),
		                 PL_EDAMAGED);
		pl_buf_release(&t);
	}
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test_setup_teardown(test_init_open, setup, teardown),
             cmocka_unit_test_setup_teardown(test_index_proofs, setup, teardown),
             cmocka_unit_test_setup_teardown(test_verify_index, setup, teardown),
             cmocka_unit_test_setup_teardown(test_index_entries_bound, setup, teardown),
             cmocka_unit_test_setup_teardown(test_index_built_at_open, setup, teardown),
             cmocka_unit_test_setup_teardown(test_parties, setup, teardown),
             cmocka_unit_test_setup_teardown(test_party_two_step, setup, teardown),
             cmocka_unit_test_setup_teardown(test_s1_relay_declined, setup, teardown),
             cmocka_unit_test_setup_teardown(test_s1_relay_expired, setup, teardown),
             cmocka_unit_test_setup_teardown(test_s1_relay_conveyed, setup, teardown),
             cmocka_unit_test_setup_teardown(test_s1_consult, setup, teardown),
             cmocka_unit_test_setup_teardown(test_s3_expire, setup, teardown),
             cmocka_unit_test_setup_teardown(test_rejections, setup, teardown),
             cmocka_unit_test_setup_teardown(test_admit_hook, setup, teardown),
             cmocka_unit_test_setup_teardown(test_same_seq_one_batch, setup, teardown),
             cmocka_unit_test_setup_teardown(test_proofs_tiles, setup, teardown),
             cmocka_unit_test_setup_teardown(test_lookup_wait, setup, teardown),
             cmocka_unit_test_setup_teardown(test_payloads, setup, teardown),
             cmocka_unit_test_setup_teardown(test_payload_readers_after_send, setup, teardown),
             cmocka_unit_test_setup_teardown(test_payload_retention, setup, teardown),
             cmocka_unit_test_setup_teardown(test_need_to_know, setup, teardown),
             cmocka_unit_test_setup_teardown(test_payload_unreferenced_max, setup, teardown),
             cmocka_unit_test_setup_teardown(test_wal_checkpointed, setup, teardown),
             cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
             cmocka_unit_test_setup_teardown(test_tampered_store, setup, teardown),
             cmocka_unit_test_setup_teardown(test_store_behind, setup, teardown),
             cmocka_unit_test_setup_teardown(test_damaged_store, setup, teardown),
             cmocka_unit_test_setup_teardown(test_verify_running, setup, teardown),
             cmocka_unit_test_setup_teardown(test_damaged_payload, setup, teardown),
             cmocka_unit_test_setup_teardown(test_edge_grows, setup, teardown),
             cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
             cmocka_unit_test_setup_teardown(test_wal_reused, setup, teardown),
             cmocka_unit_test_setup_teardown(test_line_kept, setup, teardown),
             cmocka_unit_test_setup_teardown(test_line_missed, setup, teardown),
             cmocka_unit_test_setup_teardown(test_reconfigure, setup, teardown),
             cmocka_unit_test_setup_teardown(test_reconfigure_zone, setup, teardown),
             cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
             cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
             cmocka_unit_test_setup_teardown(test_checkpoint_cosign, setup, teardown))
