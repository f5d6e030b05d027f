/*
 * Unit tests of dossiers: a real small log is built with libparley (registers, the S1(b)
 * thread, where unc receives rok-mnd's proposal and never conveys it, and the S2 thread,
 * where dprk-un declines us-wh's letter), put in an in-memory tlog, exported as dossiers
 * and verified to exact verdict lines; then a table of tamperings that must each fail.
 * The same logs feed the log audit (pl_audit_run()).
 *
 * `test_dossier --write-vectors` rewrites the golden files in tests/vectors/dossier/.
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

#include <jansson.h>
#include <sodium.h>

#include <parley/audit.h>
#include <parley/html.h>
#include <parley/box.h>
#include <parley/checkpoint.h>
#include <parley/cosignature.h>
#include <parley/dossier.h>
#include <parley/encoding.h>
#include <parley/record.h>
#include <parley/tiles.h>
#include <parley/timestamp.h>
#include <parley/tlog.h>

#include "dossier_int.h"
#include "testutil.h"

#define ORIGIN  "hotline.example"
#define WITNESS "witness.example"
#define LOG_MAX 64

/* ---- Fixed keys: the seed of each key is SHA-256 of its name (docs/records.md §9) ---------- */

enum { EX, ROK, UNC, KPA, USWH, DPRKUN, LEADER, DPRK, NACTORS };

static const char *const party_of[NACTORS] = {
        "exchange", "rok-mnd", "unc", "kpa", "us-wh", "dprk-un", "dprk-leader", "dprk",
};
static struct pl_skey skeys[NACTORS], wit_sk, other_wit_sk;
static struct pl_vkey vkeys[NACTORS], wit_vk, other_wit_vk;
static struct pl_party_ekey ekeys[NACTORS];

static int setup_keys(void **state)
{
	char name[PL_KEY_NAME_MAX + 1], xname[PL_KEY_NAME_MAX + 16];
	uint8_t secret[32];
	struct pl_box_keypair kp;

	(void)state;
	for (int i = 0; i < NACTORS; i++) {
		if (pl_record_key_name(name, ORIGIN, party_of[i]) != 0)
			return -1;
		pl_test_fixed_key(&skeys[i], &vkeys[i], name, PL_SIGTYPE_ED25519);
		snprintf(xname, sizeof(xname), "x25519 %s", name);
		pl_sha256(secret, xname, strlen(xname));
		if (pl_box_keypair_from_secret(&kp, secret) != 0)
			return -1;
		snprintf(ekeys[i].name, sizeof(ekeys[i].name), "%s", name);
		memcpy(ekeys[i].pk, kp.pk, sizeof(kp.pk));
		pl_box_keypair_clear(&kp);
	}
	pl_test_fixed_key(&wit_sk, &wit_vk, WITNESS, PL_SIGTYPE_COSIG_V1);
	pl_test_fixed_key(&other_wit_sk, &other_wit_vk, "other-witness.example",
	                  PL_SIGTYPE_COSIG_V1);
	return 0;
}

static int teardown_keys(void **state)
{
	(void)state;
	for (int i = 0; i < NACTORS; i++)
		pl_skey_clear(&skeys[i]);
	pl_skey_clear(&wit_sk);
	pl_skey_clear(&other_wit_sk);
	return 0;
}

/* ---- A log in memory -------------------------------------------------------------------- */

/* Ways a dishonest exchange could have logged the S1(b) story. */
enum twist {
	HONEST,
	CONVEY_BY_KPA, /* kpa, a recipient, "conveys" the send: only the via party may */
	BAD_SIG,       /* a record whose signature does not verify */
	FORK,          /* two records of unc with the same seq */
	EXPIRE_EARLY,  /* an expire before the send's deadline */
	LATE_CLAIM,    /* unc claims a time after the checkpoint was cosigned */
	RELAYED,       /* honest, and then a letter conveyed by unc, refused and answered by kpa */
};

struct fx {
	struct pl_buf rec[LOG_MAX];
	uint8_t id[LOG_MAX][PL_RECORD_ID_BYTES];
	size_t n;
	uint64_t seq[NACTORS];
	uint8_t head[NACTORS][PL_RECORD_ID_BYTES];
	struct pl_tlog_memstore *ms;
	/* The two subjects, and the disclosed plaintexts. */
	size_t s1b, s2;
};

static const uint8_t salt1[PL_BOX_SALT_BYTES] = {
        0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
        0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
        0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
};
static const uint8_t salt2[PL_BOX_SALT_BYTES] = {
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
        0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
        0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01,
};
static const char proposal_text[] =
        "The Ministry of National Defense proposes military talks to reset the\n"
        "baseline of the Military Demarcation Line.\n";
static const char letter_text[] = "Dear Chairman, I remain open to an exchange of letters.\n";

static struct pl_record *rnew(enum pl_record_kind kind, int actor, const char *time)
{
	struct pl_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->kind = kind;
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", party_of[actor]);
	r->time = pl_test_time(time);
	return r;
}

/* Adds `to` lines; callers pass them in byte order, as the grammar requires. */
static void rto(struct pl_record *r, int actor)
{
	snprintf(r->to[r->nto++], sizeof(r->to[0]), "%s", party_of[actor]);
}

static void rref(struct pl_record *r, enum pl_ref_role role, const uint8_t *id)
{
	r->refs[r->nrefs].role = role;
	memcpy(r->refs[r->nrefs].id, id, PL_RECORD_ID_BYTES);
	r->nrefs++;
	/* Keep the lines sorted by their text; same roles here, so by id. */
	for (size_t i = r->nrefs - 1; i > 0; i--) {
		struct pl_record_ref t;
		if (memcmp(r->refs[i - 1].id, r->refs[i].id, PL_RECORD_ID_BYTES) <= 0)
			break;
		t = r->refs[i - 1];
		r->refs[i - 1] = r->refs[i];
		r->refs[i] = t;
	}
}

static void rbody(struct pl_record *r, const char *body)
{
	r->has |= PL_RECORD_HAS_BODY;
	r->body_len = strlen(body);
	memcpy(r->body, body, r->body_len + 1);
}

static void rsend(struct pl_record *r, enum pl_record_class cls, int via, const char *deadline,
                  const char *plaintext, const uint8_t *salt, int n)
{
	char p[32];

	r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT;
	r->cls = cls;
	if (via >= 0) {
		r->has |= PL_RECORD_HAS_VIA;
		snprintf(r->via, sizeof(r->via), "%s", party_of[via]);
	}
	if (deadline) {
		r->has |= PL_RECORD_HAS_DEADLINE;
		r->deadline = pl_test_time(deadline);
	}
	snprintf(p, sizeof(p), "payload %d", n);
	pl_sha256(r->payload, p, strlen(p));
	r->payload_size = 1000 + (uint64_t)n;
	pl_box_commit(r->commit, salt, (const uint8_t *)plaintext, strlen(plaintext));
}

/* Signs r as actor's next record, logs it and returns its index; r is freed. */
static size_t add(struct fx *f, struct pl_record *r, int actor, bool corrupt_sig)
{
	struct pl_skey keys[2];
	size_t nkeys = 1, i = f->n;
	const char *why = NULL;
	uint8_t leaf[1][PL_HASH_BYTES];

	assert_true(i < LOG_MAX);
	r->seq = ++f->seq[actor];
	if (r->seq > 1) {
		r->has |= PL_RECORD_HAS_PREV;
		memcpy(r->prev, f->head[actor], PL_RECORD_ID_BYTES);
	}
	keys[0] = skeys[actor];
	for (int k = 1; r->kind == PL_KIND_REGISTER && k < NACTORS; k++) {
		/* The party's self-signature. */
		if (strcmp(r->party, party_of[k]) == 0)
			keys[nkeys++] = skeys[k];
	}
	pl_buf_init(&f->rec[i], PL_RECORD_MAX_BYTES);
	assert_int_equal(pl_record_sign(&f->rec[i], r, keys, nkeys, &why), 0);
	if (corrupt_sig) {
		/* A base64 digit in the middle of the signature: still well-formed, no longer
		 * valid. */
		char *c = f->rec[i].data + f->rec[i].len - 20;
		*c = *c == 'A' ? 'B' : 'A';
	}
	pl_record_id(f->id[i], f->rec[i].data, f->rec[i].len);
	memcpy(f->head[actor], f->id[i], PL_RECORD_ID_BYTES);
	pl_tlog_leaf_hash(leaf[0], f->rec[i].data, f->rec[i].len);
	assert_int_equal(pl_tlog_memstore_append(f->ms, (const uint8_t(*)[PL_HASH_BYTES])leaf, 1),
	                 0);
	f->n++;
	free(r);
	return i;
}

static size_t add_register(struct fx *f, int party, const char *time)
{
	struct pl_record *r = rnew(PL_KIND_REGISTER, EX, time);

	r->has |= PL_RECORD_HAS_PARTY | PL_RECORD_HAS_ENC;
	snprintf(r->party, sizeof(r->party), "%s", party_of[party]);
	r->keys[0] = vkeys[party];
	r->nkeys = 1;
	r->enc = ekeys[party];
	return add(f, r, EX, false);
}

static size_t add_ref(struct fx *f, enum pl_record_kind kind, int actor, const char *time,
                      size_t target)
{
	struct pl_record *r = rnew(kind, actor, time);

	rref(r, kind == PL_KIND_ANSWER ? PL_ROLE_CHECK : PL_ROLE_SUBJECT, f->id[target]);
	return add(f, r, actor, false);
}

static size_t add_available(struct fx *f, const char *time, size_t target, int to)
{
	struct pl_record *r = rnew(PL_KIND_AVAILABLE, EX, time);

	rto(r, to);
	rref(r, PL_ROLE_SUBJECT, f->id[target]);
	return add(f, r, EX, false);
}

static size_t add_message(struct fx *f, int from, int to, const char *time, const char *deadline,
                          int n, bool corrupt)
{
	struct pl_record *r = rnew(PL_KIND_SEND, from, time);

	rto(r, to);
	rsend(r, PL_CLASS_MESSAGE, -1, deadline, "notice", salt1, n);
	return add(f, r, from, corrupt);
}

static size_t add_statement(struct fx *f, int actor, const char *time, enum pl_record_class cls,
                            const char *body, const size_t *cites, size_t ncites)
{
	struct pl_record *r = rnew(PL_KIND_STATEMENT, actor, time);

	r->has |= PL_RECORD_HAS_CLASS;
	r->cls = cls;
	for (size_t i = 0; i < ncites; i++)
		rref(r, PL_ROLE_CITES, f->id[cites[i]]);
	rbody(r, body);
	return add(f, r, actor, false);
}

/* Log #27..: a letter rok-mnd -> kpa via unc, conveyed, refused, answered; dprk cites the refusal.
 */
static void build_relayed(struct fx *f)
{
	struct pl_record *r;
	size_t letter, refusal, consult, check;

	r = rnew(PL_KIND_SEND, ROK, "2025-11-25T09:00:00Z");
	rto(r, KPA);
	rsend(r, PL_CLASS_LETTER, UNC, "2025-11-28T00:00:00Z", letter_text, salt2, 27);
	letter = add(f, r, ROK, false);
	add_available(f, "2025-11-25T09:00:01Z", letter, UNC);
	add_ref(f, PL_KIND_RECEIVE, UNC, "2025-11-25T09:00:05Z", letter);
	add_ref(f, PL_KIND_CONVEY, UNC, "2025-11-25T10:00:00Z", letter);
	add_available(f, "2025-11-25T10:00:01Z", letter, KPA);
	add_ref(f, PL_KIND_RECEIVE, KPA, "2025-11-25T10:05:00Z", letter);
	r = rnew(PL_KIND_REFUSE, KPA, "2025-11-25T10:10:00Z");
	rref(r, PL_ROLE_SUBJECT, f->id[letter]);
	r->has |= PL_RECORD_HAS_REASON;
	snprintf(r->reason, sizeof(r->reason), "Not accepted through this channel");
	refusal = add(f, r, KPA, false);
	r = rnew(PL_KIND_SEND, KPA, "2025-11-25T11:00:00Z");
	rto(r, ROK);
	rref(r, PL_ROLE_REPLY_TO, f->id[letter]);
	rsend(r, PL_CLASS_MESSAGE, -1, NULL, "No.", salt1, 34);
	add(f, r, KPA, false);
	add_statement(f, DPRK, "2025-11-25T12:00:00Z", PL_CLASS_STATEMENT,
	              "The puppet's letter was returned unopened.\n", &refusal, 1);

	/* Log #36..: a consult that unc advises on; a line check that kpa does not answer. */
	r = rnew(PL_KIND_CONSULT, ROK, "2025-11-25T13:00:00Z");
	rto(r, UNC);
	rsend(r, PL_CLASS_MESSAGE, -1, "2025-11-25T18:00:00Z", "draft", salt1, 36);
	r->has &= ~(uint32_t)PL_RECORD_HAS_CLASS;
	consult = add(f, r, ROK, false);
	r = rnew(PL_KIND_ADVISE, UNC, "2025-11-25T13:30:00Z");
	rref(r, PL_ROLE_CONSULT, f->id[consult]);
	r->has |= PL_RECORD_HAS_POSITION | PL_RECORD_HAS_REASON;
	r->position = PL_POSITION_NOTED;
	snprintf(r->reason, sizeof(r->reason), "The Command takes no part in inter-Korean talks");
	add(f, r, UNC, false);
	r = rnew(PL_KIND_CHECK, EX, "2025-11-25T14:00:00Z");
	rto(r, KPA);
	rto(r, UNC);
	r->has |= PL_RECORD_HAS_DEADLINE | PL_RECORD_HAS_LINE;
	r->deadline = pl_test_time("2025-11-25T14:15:00Z");
	snprintf(r->line, sizeof(r->line), "unc-kpa");
	check = add(f, r, EX, false);
	r = rnew(PL_KIND_ANSWER, UNC, "2025-11-25T14:00:20Z");
	r->has |= PL_RECORD_HAS_LINE;
	snprintf(r->line, sizeof(r->line), "unc-kpa");
	rref(r, PL_ROLE_CHECK, f->id[check]);
	add(f, r, UNC, false);
	r = rnew(PL_KIND_UNANSWERED, EX, "2025-11-25T14:15:00Z");
	rto(r, KPA);
	r->has |= PL_RECORD_HAS_LINE;
	snprintf(r->line, sizeof(r->line), "unc-kpa");
	rref(r, PL_ROLE_CHECK, f->id[check]);
	add(f, r, EX, false);
}

/*
 * The log: registers; unc's own message to kpa; S1(b) (rok-mnd's proposal to kpa via unc,
 * received by unc's agent, never conveyed, expired); S2 (us-wh's letter to dprk-leader via
 * dprk-un, declined; us-wh and dprk cite it); unrelated records of unc, kpa and rok-mnd.
 */
static void build_log(struct fx *f, enum twist tw)
{
	struct pl_record *r;
	size_t m7, m13, s, measure, cites[2];
	uint8_t head[PL_RECORD_ID_BYTES], next[PL_RECORD_ID_BYTES];

	memset(f, 0, sizeof(*f));
	assert_int_equal(pl_tlog_memstore_new(&f->ms), 0);
	add_register(f, ROK, "2025-11-10T09:00:00Z");
	add_register(f, UNC, "2025-11-10T09:05:00Z");
	add_register(f, KPA, "2025-11-10T09:10:00Z");
	add_register(f, USWH, "2025-11-10T09:15:00Z");
	add_register(f, DPRKUN, "2025-11-10T09:20:00Z");
	add_register(f, LEADER, "2025-11-10T09:25:00Z");
	add_register(f, DPRK, "2025-11-10T09:30:00Z");
	m7 = add_message(f, UNC, KPA, "2025-11-15T08:00:00Z", "2025-11-16T08:00:00Z", 7, false);
	add_available(f, "2025-11-15T08:00:01Z", m7, KPA);
	add_ref(f, PL_KIND_ACCEPT, KPA, "2025-11-15T09:00:00Z", m7);

	/* S1(b): log #10. */
	r = rnew(PL_KIND_SEND, ROK, "2025-11-17T01:00:00Z");
	rto(r, KPA);
	rsend(r, PL_CLASS_PROPOSAL, UNC, "2025-11-24T00:00:00Z", proposal_text, salt1, 10);
	f->s1b = add(f, r, ROK, false);
	add_available(f, "2025-11-17T01:00:01Z", f->s1b, UNC);
	add_ref(f, PL_KIND_RECEIVE, UNC, "2025-11-17T01:00:02Z", f->s1b);
	if (tw == CONVEY_BY_KPA)
		add_ref(f, PL_KIND_CONVEY, KPA, "2025-11-17T02:00:00Z", f->s1b);
	m13 = add_message(f, UNC, KPA, "2025-11-17T09:00:00Z", "2025-11-25T09:00:00Z", 13,
	                  tw == BAD_SIG);
	add_available(f, "2025-11-17T09:00:01Z", m13, KPA);

	/* S2: us-wh's letter via dprk-un, declined. */
	r = rnew(PL_KIND_SEND, USWH, "2025-11-18T14:00:00Z");
	rto(r, LEADER);
	rsend(r, PL_CLASS_LETTER, DPRKUN, "2025-11-30T00:00:00Z", letter_text, salt2, 15);
	f->s2 = add(f, r, USWH, false);
	add_available(f, "2025-11-18T14:00:01Z", f->s2, DPRKUN);
	r = rnew(PL_KIND_DECLINE, DPRKUN, "2025-11-18T16:00:00Z");
	rref(r, PL_ROLE_SUBJECT, f->id[f->s2]);
	r->has |= PL_RECORD_HAS_REASON;
	snprintf(r->reason, sizeof(r->reason), "The mission does not accept this letter");
	add(f, r, DPRKUN, false);

	add_statement(f, UNC, "2025-11-20T10:00:00Z", PL_CLASS_STATEMENT,
	              "We have not conveyed any messages or proposals specific to inter-Korean "
	              "dialogue.\n",
	              NULL, 0);
	cites[0] = f->s2;
	add_statement(f, USWH, "2025-11-20T15:00:00Z", PL_CLASS_STATEMENT,
	              "The President is open to an exchange of letters.\n", cites, 1);
	measure =
	        add_statement(f, ROK, "2025-11-21T06:00:00Z", PL_CLASS_MEASURE,
	                      "Loudspeaker broadcasts toward the North are suspended.\n", NULL, 0);
	cites[1] = measure;
	add_statement(f, DPRK, "2025-11-21T12:00:00Z", PL_CLASS_MEASURE,
	              "Noise broadcasts toward the South are halted in kind.\n", cites, 2);
	add_ref(f, PL_KIND_RECEIVE, KPA, "2025-11-21T13:00:00Z", m13);
	memcpy(head, f->head[UNC], sizeof(head));
	s = add_message(f, UNC, KPA, "2025-11-22T08:00:00Z", NULL, 23, false);
	if (tw == FORK) {
		/* A second record of unc with the seq just used: another history. */
		uint64_t seq = f->seq[UNC];
		memcpy(next, f->head[UNC], sizeof(next));
		f->seq[UNC] = seq - 1;
		memcpy(f->head[UNC], head, sizeof(head));
		add_statement(f, UNC, "2025-11-22T08:30:00Z", PL_CLASS_STATEMENT,
		              "Another history.\n", NULL, 0);
		f->seq[UNC] = seq;
		memcpy(f->head[UNC], next, sizeof(next));
	}
	add_available(f, "2025-11-22T08:00:01Z", s, KPA);
	r = rnew(PL_KIND_EXPIRE, EX,
	         tw == EXPIRE_EARLY ? "2025-11-23T00:00:00Z" : "2025-11-24T00:00:01Z");
	rto(r, KPA);
	r->has |= PL_RECORD_HAS_VIA;
	snprintf(r->via, sizeof(r->via), "unc");
	rref(r, PL_ROLE_SUBJECT, f->id[f->s1b]);
	add(f, r, EX, false);
	add_statement(f, UNC, tw == LATE_CLAIM ? "2025-12-01T00:00:00Z" : "2025-11-24T00:05:00Z",
	              PL_CLASS_STATEMENT, "The Command acts on the Armistice line only.\n", NULL,
	              0);
	if (tw == RELAYED)
		build_relayed(f);
}

static void free_log(struct fx *f)
{
	for (size_t i = 0; i < f->n; i++)
		pl_buf_release(&f->rec[i]);
	pl_tlog_memstore_free(f->ms);
	memset(f, 0, sizeof(*f));
}

#define COSIGN_TIME "2025-11-24T00:10:00Z"
static const char *cosign_time = COSIGN_TIME;

/* The signed checkpoint of the tree at size, cosigned by the witness (when cosign). */
static void checkpoint(struct fx *f, uint64_t size, bool cosign, struct pl_buf *out)
{
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(f->ms);
	uint8_t root[PL_HASH_BYTES];
	struct pl_checkpoint cp;

	assert_int_equal(pl_tlog_tree_hash(&rd, size, root), 0);
	assert_int_equal(pl_checkpoint_set(&cp, ORIGIN, size, root), 0);
	pl_buf_init(out, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_checkpoint_sign(out, &cp, &skeys[EX]), 0);
	if (cosign)
		assert_int_equal(
		        pl_cosignature_add(out, &wit_sk, (uint64_t)pl_test_time(cosign_time)), 0);
}

/* The position in f of the register record that brought key (name, id). */
static size_t find_register(const struct fx *f, const char *name, const uint8_t *id)
{
	char line[PL_RECORD_NAME_MAX + 32];

	for (int k = 1; k < NACTORS; k++) {
		if (strcmp(vkeys[k].name, name) != 0 ||
		    memcmp(vkeys[k].id, id, PL_KEYID_BYTES) != 0)
			continue;
		snprintf(line, sizeof(line), "kind register\nparty %s\n", party_of[k]);
		for (size_t i = 0; i < f->n; i++) {
			if (strstr(f->rec[i].data, line))
				return i;
		}
	}
	fail_msg("no register for %s", name);
	return 0;
}

static size_t find_record(const struct fx *f, const uint8_t *id)
{
	for (size_t i = 0; i < f->n; i++) {
		if (memcmp(f->id[i], id, PL_RECORD_ID_BYTES) == 0)
			return i;
	}
	fail_msg("no such record");
	return 0;
}

struct proven_set {
	struct pl_dossier_entry e[LOG_MAX];
	uint8_t proof[LOG_MAX][PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	size_t n;
};

static void proven_add(struct proven_set *p, struct fx *f, size_t i, uint64_t size)
{
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(f->ms);
	size_t k = p->n, nproof = 0;

	for (size_t j = 0; j < p->n; j++) {
		if (p->e[j].index == i)
			return;
	}
	assert_int_equal(pl_tlog_prove_inclusion(&rd, size, i, p->proof[k], &nproof), 0);
	p->e[k].index = i;
	p->e[k].record = f->rec[i].data;
	p->e[k].record_len = f->rec[i].len;
	p->e[k].proof = (const uint8_t(*)[PL_HASH_BYTES])p->proof[k];
	p->e[k].nproof = nproof;
	p->n++;
	/* Keep them in log order. */
	for (size_t j = k; j > 0 && p->e[j - 1].index > p->e[j].index; j--) {
		struct pl_dossier_entry t = p->e[j - 1];
		p->e[j - 1] = p->e[j];
		p->e[j] = t;
	}
}

/*
 * Exports the dossier of the record at start as the CLI will: the window, then what
 * pl_dossier_wants() asks for until it asks for nothing, the frontier, the checkpoint.
 */
static void export(struct fx *f, size_t start, const struct pl_dossier_disclosure *disc,
                   size_t ndisc, bool cosign, struct pl_buf *out)
{
	static struct proven_set p;
	struct pl_dossier_entry win[LOG_MAX];
	uint8_t frontier[PL_DOSSIER_MAX_FRONTIER][PL_HASH_BYTES];
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(f->ms);
	struct pl_dossier_input in;
	struct pl_buf cp;
	size_t nfrontier = 0, rounds = 0;
	uint64_t size = f->n;

	memset(&p, 0, sizeof(p));
	memset(win, 0, sizeof(win));
	for (size_t i = start; i < f->n; i++) {
		win[i - start].index = i;
		win[i - start].record = f->rec[i].data;
		win[i - start].record_len = f->rec[i].len;
	}
	for (;;) {
		struct pl_dossier_want *w = NULL;
		size_t nw = 0;
		assert_int_equal(pl_dossier_wants(&w, &nw, win, f->n - start, p.e, p.n), 0);
		if (nw == 0)
			break;
		assert_true(++rounds <= 2);
		for (size_t k = 0; k < nw; k++) {
			size_t i = w[k].kind == PL_DOSSIER_WANT_RECORD
			                   ? find_record(f, w[k].id)
			                   : find_register(f, w[k].key_name, w[k].key_id);
			proven_add(&p, f, i, size);
		}
		free(w);
	}
	assert_int_equal(pl_dossier_frontier(&rd, start, frontier, &nfrontier), 0);
	checkpoint(f, size, cosign, &cp);
	memset(&in, 0, sizeof(in));
	in.log_key = &vkeys[EX];
	in.checkpoint = cp.data;
	in.checkpoint_len = cp.len;
	in.start = start;
	in.frontier = (const uint8_t(*)[PL_HASH_BYTES])frontier;
	in.nfrontier = nfrontier;
	in.window = win;
	in.nwindow = f->n - start;
	in.proven = p.e;
	in.nproven = p.n;
	in.disclosures = disc;
	in.ndisclosures = ndisc;
	pl_buf_init(out, PL_DOSSIER_MAX_BYTES);
	assert_int_equal(pl_dossier_build(out, &in), 0);
	pl_buf_release(&cp);
}

static void disclosure(struct pl_dossier_disclosure *d, const struct fx *f, size_t i,
                       const char *text, const uint8_t *salt)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->id, f->id[i], PL_RECORD_ID_BYTES);
	d->plaintext = (const uint8_t *)text;
	d->len = strlen(text);
	memcpy(d->salt, salt, PL_BOX_SALT_BYTES);
}

static void export_s1b(struct fx *f, struct pl_buf *out)
{
	struct pl_dossier_disclosure d;

	disclosure(&d, f, f->s1b, proposal_text, salt1);
	export(f, f->s1b, &d, 1, true, out);
}

static void export_s2(struct fx *f, struct pl_buf *out)
{
	struct pl_dossier_disclosure d;

	disclosure(&d, f, f->s2, letter_text, salt2);
	export(f, f->s2, &d, 1, true, out);
}

static int verify(const struct pl_buf *b, struct pl_dossier_report **rep, struct pl_buf *why)
{
	return pl_dossier_verify(rep, b->data, b->len, &vkeys[EX], &wit_vk, 1, 1, why);
}

/*
 * The dossier of the thread from start, cosigned once the whole thread is
 * logged (so that no record's time is contradicted), into b; verified.
 */
static struct pl_dossier_report *export_late(struct fx *f, size_t start, struct pl_buf *b)
{
	struct pl_dossier_report *rep = NULL;

	cosign_time = "2025-11-26T00:00:00Z";
	export(f, start, NULL, 0, true, b);
	cosign_time = COSIGN_TIME;
	assert_int_equal(verify(b, &rep, NULL), 0);
	return rep;
}

/* Frees a report and the dossier it came from. */
static void release(struct pl_dossier_report *rep, struct pl_buf *b)
{
	pl_dossier_report_free(rep);
	pl_buf_release(b);
}

/* "1a2b3c4d…" of record i. */
static const char *short_id(const struct fx *f, size_t i)
{
	static char s[4][16];
	static int k;
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	k = (k + 1) % 4;
	pl_record_id_format(hex, f->id[i]);
	snprintf(s[k], sizeof(s[k]), "%.8s\xe2\x80\xa6", hex);
	return s[k];
}

static void expect_verdicts(const struct pl_dossier_report *rep, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n && i < rep->nverdicts; i++)
		assert_string_equal(rep->verdicts[i].text, want[i]);
	assert_int_equal(rep->nverdicts, n);
}

static const char *log_key_id(void)
{
	static char hex[PL_KEYID_BYTES * 2 + 1];

	pl_hex_encode(hex, vkeys[EX].id, PL_KEYID_BYTES);
	return hex;
}

/* ---- The untampered dossiers --------------------------------------------------------------- */

static void test_s1b(void **state)
{
	struct fx f;
	struct pl_buf b, why;
	struct pl_dossier_report *rep = NULL;
	char want[16][PL_DOSSIER_LINE_MAX + 1];
	const char *wantp[16];

	(void)state;
	build_log(&f, HONEST);
	export_s1b(&f, &b);
	pl_buf_init(&why, 4096);
	assert_int_equal(verify(&b, &rep, &why), 0);
	assert_int_equal(why.len, 0);

	snprintf(want[0], sizeof(want[0]),
	         "checkpoint: tree size 27 of hotline.example, signed by the log key "
	         "hotline.example+%s",
	         log_key_id());
	snprintf(want[1], sizeof(want[1]), "witnesses: 1 of the 1 given cosigned it (1 required)");
	snprintf(want[2], sizeof(want[2]),
	         "window: all 17 records from log #10 (the send) up to checkpoint 27 are present "
	         "and hash to its root");
	snprintf(want[3], sizeof(want[3]),
	         "checked: the signatures of 26 records by keys registered in the log, the chains "
	         "of 7 keys, the rules over the 4 records of the thread");
	snprintf(want[4], sizeof(want[4]),
	         "proposal %s from rok-mnd to kpa via unc: submitted 2025-11-17T01:00:00Z (log "
	         "#10), reply by 2025-11-24T00:00:00Z",
	         short_id(&f, f.s1b));
	snprintf(want[5], sizeof(want[5]), "received by unc at 2025-11-17T01:00:02Z (log #12)");
	snprintf(want[6], sizeof(want[6]),
	         "NOT conveyed: unc's 4 records after receiving it, up to checkpoint 27, include "
	         "no convey or decline of it");
	snprintf(want[7], sizeof(want[7]),
	         "NOT received by kpa: kpa's 1 record after the send, up to checkpoint 27, "
	         "includes no receive of it");
	snprintf(want[8], sizeof(want[8]),
	         "NOT accepted or refused by kpa: kpa's 1 record after the send, up to "
	         "checkpoint 27, includes no accept or refuse of it");
	snprintf(want[9], sizeof(want[9]),
	         "expired at 2025-11-24T00:00:01Z (exchange, log #25): no decision by kpa; unc "
	         "never conveyed or declined it");
	snprintf(want[10], sizeof(want[10]),
	         "existence: every record here existed by 2025-11-24T00:10:00Z, when a witness "
	         "first cosigned checkpoint 27");
	snprintf(want[11], sizeof(want[11]),
	         "disclosed: the content of proposal %s (%zu bytes) matches the commitment "
	         "rok-mnd signed (log #10)",
	         short_id(&f, f.s1b), strlen(proposal_text));
	for (int i = 0; i < 12; i++)
		wantp[i] = want[i];
	expect_verdicts(rep, wantp, 12);
	assert_int_equal(rep->verdicts[6].kind, PL_VERDICT_NOT_DONE);
	assert_int_equal(rep->verdicts[5].kind, PL_VERDICT_DONE);

	/* The timeline: the thread in log order. */
	assert_int_equal(rep->nevents, 4);
	assert_int_equal(rep->events[0].index, 10);
	assert_string_equal(rep->events[0].what,
	                    "sent a proposal to kpa via unc, reply by 2025-11-24T00:00:00Z");
	assert_string_equal(rep->events[1].what, "made it available to unc");
	assert_string_equal(rep->events[2].author, "unc");
	assert_string_equal(rep->events[2].what, "received it");
	assert_string_equal(rep->events[3].what,
	                    "recorded that it expired with no decision by kpa; the intermediary "
	                    "unc received it but never conveyed or declined it");
	for (size_t i = 0; i < rep->nevents; i++)
		assert_false(rep->events[i].contradicted);
	assert_true(rep->has_bound);
	assert_int_equal(rep->bound, pl_test_time(COSIGN_TIME));
	assert_int_equal(rep->ndisclosed, 1);
	assert_true(rep->disclosed[0].is_text);
	assert_memory_equal(rep->disclosed[0].plaintext, proposal_text, strlen(proposal_text));
	assert_true(rep->log_key_pinned);
	assert_int_equal(rep->start, 10);
	assert_int_equal(rep->size, 27);

	pl_dossier_report_free(rep);
	pl_buf_release(&why);
	pl_buf_release(&b);
	free_log(&f);
}

static void test_s2(void **state)
{
	struct fx f;
	struct pl_buf b;
	struct pl_dossier_report *rep = NULL;
	char want[16][PL_DOSSIER_LINE_MAX + 1];
	const char *wantp[16];

	(void)state;
	build_log(&f, HONEST);
	export_s2(&f, &b);
	assert_int_equal(verify(&b, &rep, NULL), 0);

	snprintf(want[0], sizeof(want[0]),
	         "checkpoint: tree size 27 of hotline.example, signed by the log key "
	         "hotline.example+%s",
	         log_key_id());
	snprintf(want[1], sizeof(want[1]), "witnesses: 1 of the 1 given cosigned it (1 required)");
	snprintf(want[2], sizeof(want[2]),
	         "window: all 12 records from log #15 (the send) up to checkpoint 27 are present "
	         "and hash to its root");
	snprintf(want[3], sizeof(want[3]),
	         "checked: the signatures of 22 records by keys registered in the log, the chains "
	         "of 7 keys, the rules over the 5 records of the thread");
	snprintf(want[4], sizeof(want[4]),
	         "letter %s from us-wh to dprk-leader via dprk-un: submitted 2025-11-18T14:00:00Z "
	         "(log #15), reply by 2025-11-30T00:00:00Z",
	         short_id(&f, f.s2));
	snprintf(want[5], sizeof(want[5]),
	         "NOT received by dprk-un: dprk-un's 1 record after the send, up to checkpoint 27, "
	         "includes no receive of it");
	snprintf(want[6], sizeof(want[6]),
	         "declined by dprk-un at 2025-11-18T16:00:00Z (log #17): reason \"The mission "
	         "does not accept this letter\"");
	snprintf(want[7], sizeof(want[7]),
	         "NOT received by dprk-leader: dprk-leader made no record after the send, up to "
	         "checkpoint 27");
	snprintf(want[8], sizeof(want[8]),
	         "NOT accepted or refused by dprk-leader: dprk-leader made no record after the "
	         "send, up to checkpoint 27");
	snprintf(want[9], sizeof(want[9]), "statement by us-wh cites it (log #19)");
	snprintf(want[10], sizeof(want[10]), "measure by dprk cites it (log #21)");
	snprintf(want[11], sizeof(want[11]),
	         "existence: every record here existed by 2025-11-24T00:10:00Z, when a witness "
	         "first cosigned checkpoint 27");
	snprintf(want[12], sizeof(want[12]),
	         "disclosed: the content of letter %s (%zu bytes) matches the commitment us-wh "
	         "signed (log #15)",
	         short_id(&f, f.s2), strlen(letter_text));
	for (int i = 0; i < 13; i++)
		wantp[i] = want[i];
	expect_verdicts(rep, wantp, 13);
	assert_int_equal(rep->nevents, 5);
	assert_string_equal(rep->events[2].what,
	                    "declined it: \"The mission does not accept this letter\"");
	assert_string_equal(rep->events[4].what,
	                    "announced a measure citing it and statement e35af988\xe2\x80\xa6: "
	                    "\"Noise broadcasts toward the South are halted in kind.\"");
	release(rep, &b);
	free_log(&f);
}

/* Without witnesses, the dossier still verifies but says that only the exchange vouches for time.
 */
static void test_no_witness(void **state)
{
	struct fx f;
	struct pl_buf b;
	struct pl_dossier_report *rep = NULL;
	bool seen = false;

	(void)state;
	build_log(&f, HONEST);
	export(&f, f.s1b, NULL, 0, false, &b);
	assert_int_equal(pl_dossier_verify(&rep, b.data, b.len, &vkeys[EX], NULL, 0, 0, NULL), 0);
	assert_false(rep->has_bound);
	assert_int_equal(rep->witnesses_verified, 0);
	assert_string_equal(rep->verdicts[1].text, "witnesses: none given");
	for (size_t i = 0; i < rep->nverdicts; i++)
		seen = seen || strcmp(rep->verdicts[i].text,
		                      "existence: no witness cosignature was verified; only the "
		                      "exchange's checkpoint 27 vouches for when these records "
		                      "existed") == 0;
	assert_true(seen);
	pl_dossier_report_free(rep);
	rep = NULL;
	/* A witness given but not required, absent from the checkpoint: fine, and said. */
	assert_int_equal(pl_dossier_verify(&rep, b.data, b.len, &vkeys[EX], &wit_vk, 1, 0, NULL),
	                 0);
	assert_string_equal(rep->verdicts[1].text,
	                    "witnesses: 0 of the 1 given cosigned it (0 required)");
	pl_dossier_report_free(rep);
	rep = NULL;
	/* No log key given: the dossier's own is used, with a caution. */
	assert_int_equal(pl_dossier_verify(&rep, b.data, b.len, NULL, NULL, 0, 0, NULL), 0);
	assert_false(rep->log_key_pinned);
	assert_int_equal(rep->verdicts[1].kind, PL_VERDICT_FLAG);
	assert_non_null(strstr(rep->verdicts[1].text, "no log key was given"));
	release(rep, &b);
	free_log(&f);
}

/* A claimed time later than the cosignature is flagged, not hidden. */
static void test_late_claim(void **state)
{
	struct fx f;
	struct pl_buf b;
	struct pl_dossier_report *rep = NULL;
	bool seen = false;

	(void)state;
	build_log(&f, LATE_CLAIM);
	export_s1b(&f, &b);
	assert_int_equal(verify(&b, &rep, NULL), 0);
	for (size_t i = 0; i < rep->nverdicts; i++) {
		if (rep->verdicts[i].kind != PL_VERDICT_FLAG)
			continue;
		assert_string_equal(rep->verdicts[i].text,
		                    "CONTRADICTED: unc claims 2025-12-01T00:00:00Z for its "
		                    "statement (log #26), but the record existed by "
		                    "2025-11-24T00:10:00Z");
		seen = true;
	}
	assert_true(seen);
	/* unc's later statement counts among its records after receiving the proposal. */
	assert_non_null(strstr(rep->verdicts[6].text, "unc's 4 records after receiving it"));
	release(rep, &b);
	free_log(&f);
}

/* The steps of a conveyed send: relay, delivery, refusal with its reason, a reply, a citation. */
static void test_relayed(void **state)
{
	struct fx f;
	struct pl_buf b;
	struct pl_dossier_report *rep = NULL;
	char want[8][PL_DOSSIER_LINE_MAX + 1];
	size_t first;

	(void)state;
	build_log(&f, RELAYED);
	rep = export_late(&f, 27, &b);
	snprintf(want[0], sizeof(want[0]),
	         "letter %s from rok-mnd to kpa via unc: submitted 2025-11-25T09:00:00Z (log #27), "
	         "reply by 2025-11-28T00:00:00Z",
	         short_id(&f, 27));
	snprintf(want[1], sizeof(want[1]), "received by unc at 2025-11-25T09:00:05Z (log #29)");
	snprintf(want[2], sizeof(want[2]), "conveyed by unc at 2025-11-25T10:00:00Z (log #30)");
	snprintf(want[3], sizeof(want[3]), "received by kpa at 2025-11-25T10:05:00Z (log #32)");
	snprintf(want[4], sizeof(want[4]),
	         "refused by kpa at 2025-11-25T10:10:00Z (log #33): reason \"Not accepted through "
	         "this channel\"");
	snprintf(want[5], sizeof(want[5]), "reply by kpa: message %s (log #34)", short_id(&f, 34));
	snprintf(want[6], sizeof(want[6]), "statement by dprk cites refuse %s (log #35)",
	         short_id(&f, 33));
	snprintf(want[7], sizeof(want[7]),
	         "existence: every record here existed by 2025-11-26T00:00:00Z, when a witness "
	         "first cosigned checkpoint 41");
	/* After the four basis lines. */
	first = 4;
	assert_int_equal(rep->nverdicts, first + 8);
	for (size_t i = 0; i < 8; i++)
		assert_string_equal(rep->verdicts[first + i].text, want[i]);
	assert_int_equal(rep->nevents, 9);
	assert_string_equal(rep->events[7].what, "replied with a message to rok-mnd answering it");
	release(rep, &b);

	/* A consult: who advised what. */
	rep = export_late(&f, 36, &b);
	snprintf(want[0], sizeof(want[0]),
	         "consult %s from rok-mnd to unc: submitted 2025-11-25T13:00:00Z (log #36), advice "
	         "by 2025-11-25T18:00:00Z",
	         short_id(&f, 36));
	assert_string_equal(rep->verdicts[4].text, want[0]);
	assert_string_equal(rep->verdicts[5].text,
	                    "advised by unc at 2025-11-25T13:30:00Z (log #37): noted, reason \"The "
	                    "Command takes no part in inter-Korean talks\"");
	assert_string_equal(rep->events[0].what,
	                    "consulted unc on a draft, advice by 2025-11-25T18:00:00Z");
	assert_string_equal(rep->events[1].what,
	                    "advised on it: noted (\"The Command takes no part in inter-Korean "
	                    "talks\")");
	release(rep, &b);

	/* A line check: one end answered, the other's silence is proven. */
	rep = export_late(&f, 38, &b);
	snprintf(want[0], sizeof(want[0]),
	         "check %s of line unc-kpa with kpa, unc: made 2025-11-25T14:00:00Z (log #38), "
	         "answer by 2025-11-25T14:15:00Z",
	         short_id(&f, 38));
	assert_string_equal(rep->verdicts[4].text, want[0]);
	assert_string_equal(rep->verdicts[5].text,
	                    "NOT answered by kpa: kpa made no record after the check, up to "
	                    "checkpoint 41");
	assert_string_equal(rep->verdicts[6].text,
	                    "answered by unc at 2025-11-25T14:00:20Z (log #39)");
	assert_int_equal(rep->nevents, 3);
	assert_string_equal(rep->events[2].what, "recorded it unanswered by kpa");
	release(rep, &b);

	/* A statement's own dossier names what it cites: kind, short id, log index. */
	rep = export_late(&f, 35, &b);
	snprintf(want[0], sizeof(want[0]), "made a public statement citing refuse %s: \"",
	         short_id(&f, 33));
	assert_int_equal(strncmp(rep->events[0].what, want[0], strlen(want[0])), 0);
	snprintf(want[1], sizeof(want[1]), "statement %s by dprk: made ", short_id(&f, 35));
	assert_int_equal(strncmp(rep->verdicts[4].text, want[1], strlen(want[1])), 0);
	snprintf(want[2], sizeof(want[2]), "(log #35), citing refuse %s (log #33)",
	         short_id(&f, 33));
	assert_non_null(strstr(rep->verdicts[4].text, want[2]));
	assert_null(strstr(rep->events[0].what, "this thread"));
	release(rep, &b);
	free_log(&f);
}

/* ---- Tamperings: each must fail, with a reason ------------------------------------------ */

static json_t *entries(json_t *root)
{
	return json_object_get(json_object_get(root, "window"), "entries");
}

static json_t *proven(json_t *root)
{
	return json_object_get(root, "proven");
}

/* Replaces the string field key of obj by the result of flipping character at pos. */
static void flip_char(json_t *obj, const char *key, size_t pos, char to)
{
	const char *s = json_string_value(json_object_get(obj, key));
	char *c = strdup(s);

	assert_non_null(c);
	assert_true(pos < strlen(c));
	assert_true(c[pos] != to);
	c[pos] = to;
	json_object_set_new(obj, key, json_string(c));
	free(c);
}

/* Flips one bit of a base64 hash string in place, keeping it canonical base64. */
static json_t *flip_hash(json_t *s)
{
	uint8_t h[PL_HASH_BYTES];
	char b64[PL_HASH_B64_LEN + 1];

	assert_int_equal(
	        pl_b64_decode_exact(h, PL_HASH_BYTES, json_string_value(s), json_string_length(s)),
	        0);
	h[5] ^= 0x10;
	pl_b64_encode(b64, h, PL_HASH_BYTES);
	return json_string(b64);
}

/* The position in proven[] of the entry with this log index. */
static size_t proven_at(json_t *root, uint64_t index)
{
	json_t *p = proven(root);

	for (size_t i = 0; i < json_array_size(p); i++) {
		if ((uint64_t)json_integer_value(json_object_get(json_array_get(p, i), "index")) ==
		    index)
			return i;
	}
	fail_msg("no proven entry at %llu", (unsigned long long)index);
	return 0;
}

static struct fx *tfx; /* the honest log the tamperings start from */

static void t_drop_entry(json_t *root)
{
	json_array_remove(entries(root), 3);
}

static void t_drop_renumber(json_t *root)
{
	json_t *e = entries(root);

	json_array_remove(e, 3);
	for (size_t i = 3; i < json_array_size(e); i++)
		json_object_set_new(json_array_get(e, i), "index",
		                    json_integer(10 + (json_int_t)i));
	json_object_set_new(json_object_get(root, "window"), "start", json_integer(10));
	/* Pad the end so the window still reaches the checkpoint. */
	json_array_append_new(e, json_deep_copy(json_array_get(e, json_array_size(e) - 1)));
	json_object_set_new(json_array_get(e, json_array_size(e) - 1), "index", json_integer(26));
}

static void t_reorder(json_t *root)
{
	json_t *e = entries(root);
	json_t *a = json_object_get(json_array_get(e, 2), "record");
	json_t *b = json_object_get(json_array_get(e, 3), "record");

	json_incref(a);
	json_incref(b);
	json_object_set_new(json_array_get(e, 2), "record", b);
	json_object_set_new(json_array_get(e, 3), "record", a);
}

static void t_substitute(json_t *root)
{
	/* unc's receive (log #12) replaced by dprk-un's decline of the letter (log #17). */
	json_object_set_new(json_array_get(entries(root), 2), "record",
	                    json_string(tfx->rec[17].data));
}

static void t_older_checkpoint(json_t *root)
{
	struct pl_buf cp;

	checkpoint(tfx, 20, true, &cp);
	json_object_set_new(root, "checkpoint", json_string(cp.data));
	pl_buf_release(&cp);
}

static void t_edit_window_record(json_t *root)
{
	/* "time 2025-11-17T01:00:02Z" of unc's receive becomes ...03Z. */
	json_t *e = json_array_get(entries(root), 2);
	const char *s = json_string_value(json_object_get(e, "record"));
	const char *t = strstr(s, "01:00:02Z");

	assert_non_null(t);
	flip_char(e, "record", (size_t)(t - s) + 7, '3');
}

static void t_edit_proven_record(json_t *root)
{
	json_t *e = json_array_get(proven(root), 0);
	const char *s = json_string_value(json_object_get(e, "record"));

	flip_char(e, "record", (size_t)(strstr(s, "09:00:00Z") - s) + 1, '8');
}

static void t_edit_proof_hash(json_t *root)
{
	json_t *pr = json_object_get(json_array_get(proven(root), 1), "proof");

	json_array_set_new(pr, 0, flip_hash(json_array_get(pr, 0)));
}

static void t_edit_frontier(json_t *root)
{
	json_t *fr = json_object_get(json_object_get(root, "window"), "frontier");

	json_array_set_new(fr, 0, flip_hash(json_array_get(fr, 0)));
}

static void t_edit_checkpoint_size(json_t *root)
{
	/* "hotline.example\n27\n" becomes "...\n28\n": the log's signature no longer covers it. */
	flip_char(root, "checkpoint", strlen(ORIGIN) + 2, '8');
}

/* Flips a base64 digit in the middle of the signature line starting with prefix. */
static void flip_sig(json_t *obj, const char *key, const char *prefix)
{
	const char *s = json_string_value(json_object_get(obj, key));
	const char *line = strstr(s, prefix);
	size_t pos;

	assert_non_null(line);
	pos = (size_t)(line - s) + strlen(prefix) + 20;
	flip_char(obj, key, pos, s[pos] == 'A' ? 'B' : 'A');
}

static void t_edit_checkpoint_sig(json_t *root)
{
	flip_sig(root, "checkpoint", "\xe2\x80\x94 " ORIGIN " ");
}

static void t_edit_cosig(json_t *root)
{
	flip_sig(root, "checkpoint", "\xe2\x80\x94 " WITNESS " ");
}

static void t_drop_cosig(json_t *root)
{
	const char *s = json_string_value(json_object_get(root, "checkpoint"));
	const char *line = strstr(s, "\xe2\x80\x94 " WITNESS " ");
	char *c = strndup(s, (size_t)(line - s));

	json_object_set_new(root, "checkpoint", json_string(c));
	free(c);
}

static void t_other_witness_cosig(json_t *root)
{
	/* A cosignature by a witness the verifier does not trust instead of the one it does. */
	struct pl_buf b;

	t_drop_cosig(root);
	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_buf_adds(&b, json_string_value(json_object_get(root, "checkpoint"))),
	                 0);
	assert_int_equal(pl_cosignature_add(&b, &other_wit_sk, (uint64_t)pl_test_time(COSIGN_TIME)),
	                 0);
	json_object_set_new(root, "checkpoint", json_string(b.data));
	pl_buf_release(&b);
}

static void t_edit_plaintext(json_t *root)
{
	json_t *d = json_array_get(json_object_get(root, "disclosures"), 0);

	flip_char(d, "plaintext", 0, 'X');
}

static void t_empty_plaintext(json_t *root)
{
	json_t *d = json_array_get(json_object_get(root, "disclosures"), 0);

	json_object_set_new(d, "plaintext", json_string(""));
}

static void t_edit_salt(json_t *root)
{
	json_t *d = json_array_get(json_object_get(root, "disclosures"), 0);

	flip_char(d, "salt", 0, 'X');
}

static void t_drop_register(json_t *root)
{
	json_array_remove(proven(root), proven_at(root, 1)); /* unc's register */
}

static void t_drop_anchor(json_t *root)
{
	json_array_remove(proven(root), proven_at(root, 7)); /* unc's record before the window */
}

static void t_duplicate_entry(json_t *root)
{
	json_t *e = entries(root);

	json_array_insert(e, 3, json_array_get(e, 2));
}

static void t_duplicate_proven(json_t *root)
{
	json_t *p = proven(root);
	json_t *copy = json_deep_copy(json_array_get(p, proven_at(root, 2)));

	/* kpa's register again, as if it were log #5 (dprk-leader's, not in this dossier). */
	json_object_set_new(copy, "index", json_integer(5));
	json_array_insert_new(p, proven_at(root, 6), copy);
}

static void t_change_proven_index(json_t *root)
{
	json_object_set_new(json_array_get(proven(root), proven_at(root, 6)), "index",
	                    json_integer(5));
}

static void t_truncate(json_t *root)
{
	json_t *e = entries(root);

	json_array_remove(e, json_array_size(e) - 1);
}

static void t_origin(json_t *root)
{
	json_object_set_new(root, "origin", json_string("hotline.evil"));
}

static void t_subject(json_t *root)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	pl_record_id_format(hex, tfx->id[tfx->s2]);
	json_object_set_new(root, "subject", json_string(hex));
}

static void t_start(json_t *root)
{
	/* Begin the window one entry later: the subject is no longer at its start. */
	json_array_remove(entries(root), 0);
	json_object_set_new(json_object_get(root, "window"), "start", json_integer(11));
}

static void t_disclose_unknown(json_t *root)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	pl_record_id_format(hex, tfx->id[0]); /* rok-mnd's register: no commitment */
	json_object_set_new(json_array_get(json_object_get(root, "disclosures"), 0), "record",
	                    json_string(hex));
}

static void t_unknown_field(json_t *root)
{
	json_object_set_new(json_array_get(entries(root), 0), "note", json_string("trust me"));
}

static void t_version(json_t *root)
{
	json_object_set_new(root, "version", json_string("parley/dossier/v9"));
}

static void t_proven_order(json_t *root)
{
	json_t *p = proven(root);
	json_t *first = json_array_get(p, 0);

	json_incref(first);
	json_array_remove(p, 0);
	json_array_insert_new(p, 1, first);
}

static void t_proven_in_window(json_t *root)
{
	json_t *p = proven(root);

	json_object_set_new(json_array_get(p, json_array_size(p) - 1), "index", json_integer(11));
}

static void t_nothing(json_t *root)
{
	(void)root;
}

struct tamper {
	const char *name;
	enum twist twist; /* the log the dossier is exported from */
	void (*edit)(json_t *root);
	bool wrong_log_key;
	int exit;           /* parley verify's: 1 the evidence does not hold, 2 not a dossier */
	int want;           /* the error */
	const char *reason; /* a part of the reason line */
};

static const struct tamper tampers[] = {
        {"drop a window entry", HONEST, t_drop_entry, false, 1, PL_EPROOF, "must hold every entry"},
        {"drop a window entry and renumber", HONEST, t_drop_renumber, false, 1, PL_EPROOF,
         "do not hash to the checkpoint's root"},
        {"reorder two window entries", HONEST, t_reorder, false, 1, PL_EPROOF,
         "do not hash to the checkpoint's root"},
        {"substitute a record of another thread", HONEST, t_substitute, false, 1, PL_EPROOF,
         "do not hash"},
        {"swap the checkpoint for an older one", HONEST, t_older_checkpoint, false, 1, PL_EPROOF,
         "the window must run to the checkpoint"},
        {"edit a byte of a window record", HONEST, t_edit_window_record, false, 1, PL_EPROOF,
         "do not hash"},
        {"edit a byte of a proven record", HONEST, t_edit_proven_record, false, 1, PL_EPROOF,
         "inclusion proof"},
        {"edit a byte of a proof hash", HONEST, t_edit_proof_hash, false, 1, PL_EPROOF,
         "inclusion proof"},
        {"edit a frontier hash", HONEST, t_edit_frontier, false, 1, PL_EPROOF, "do not hash"},
        {"edit the checkpoint's text", HONEST, t_edit_checkpoint_size, false, 1, PL_EVERIFY,
         "checkpoint"},
        {"edit the checkpoint's signature", HONEST, t_edit_checkpoint_sig, false, 1, PL_EVERIFY,
         "checkpoint"},
        {"edit the witness cosignature", HONEST, t_edit_cosig, false, 1, PL_EVERIFY,
         "witness cosignature does not verify"},
        {"remove the witness cosignature", HONEST, t_drop_cosig, false, 1, PL_ENOKEY,
         "cosigned by 0"},
        {"cosigned by an unknown witness only", HONEST, t_other_witness_cosig, false, 1, PL_ENOKEY,
         "cosigned by 0"},
        {"edit a disclosed plaintext", HONEST, t_edit_plaintext, false, 1, PL_ECOMMIT,
         "do not match the record's commitment"},
        {"disclose an empty plaintext", HONEST, t_empty_plaintext, false, 1, PL_ECOMMIT,
         "do not match the record's commitment"},
        {"edit a disclosure's salt", HONEST, t_edit_salt, false, 1, PL_ECOMMIT,
         "do not match the record's commitment"},
        {"disclose a record the dossier does not hold", HONEST, t_disclose_unknown, false, 1,
         PL_ECOMMIT, "holds no such record"},
        {"remove a register record", HONEST, t_drop_register, false, 1, PL_ENOKEY,
         "not signed by a key the dossier registers"},
        {"remove a chain anchor", HONEST, t_drop_anchor, false, 1, PL_ECHAIN, "lacks the anchor"},
        {"duplicate a window entry", HONEST, t_duplicate_entry, false, 1, PL_EPROOF,
         "must hold every entry"},
        {"duplicate a proven entry", HONEST, t_duplicate_proven, false, 1, PL_EPROOF,
         "inclusion proof"},
        {"change a proven record's index", HONEST, t_change_proven_index, false, 1, PL_EPROOF,
         "inclusion proof"},
        {"move a proven record after another", HONEST, t_proven_order, false, 1, PL_EPROOF,
         "increasing log order"},
        {"a proven record inside the window", HONEST, t_proven_in_window, false, 1, PL_EPROOF,
         "before the window"},
        {"truncate the window", HONEST, t_truncate, false, 1, PL_EPROOF,
         "the window must run to the checkpoint"},
        {"change the origin", HONEST, t_origin, false, 1, PL_EVERIFY, "origin"},
        {"change the subject", HONEST, t_subject, false, 1, PL_EVERIFY, "subject"},
        {"start the window after the subject", HONEST, t_start, false, 1, PL_EPROOF,
         "frontier hashes"},
        {"an unknown field", HONEST, t_unknown_field, false, 2, PL_EMALFORMED, "unknown field"},
        {"another version", HONEST, t_version, false, 2, PL_EMALFORMED, "version"},
        {"verify against another log key", HONEST, t_nothing, true, 1, PL_ENOKEY, "log key"},
        {"a convey forged by a non-via party", CONVEY_BY_KPA, t_nothing, false, 1, PL_ERULE,
         "only the send's intermediary conveys or declines"},
        {"a record whose signature does not verify", BAD_SIG, t_nothing, false, 1, PL_EVERIFY,
         "does not open"},
        {"a fork in the intermediary's chain", FORK, t_nothing, false, 1, PL_ECHAIN, "fork"},
        {"an expire before the deadline", EXPIRE_EARLY, t_nothing, false, 1, PL_ERULE,
         "before the send's deadline"},
};

/*
 * The browser's check of a tampered dossier (pl_dossier_check_html(), what
 * the self-verifying page runs) refuses it with the same error and shows the
 * reason. With PL_TAMPER_DIR set, writes the tampered copy there as NN.json
 * and a line "NN<TAB>log key<TAB>witness key<TAB>exit<TAB>reason<TAB>name" to
 * DIR/tampers.tsv, for the browser test (tests/integration/test_browser.sh).
 */
static void check_page(const struct tamper *t, size_t i, const char *text)
{
	const char *dir = getenv("PL_TAMPER_DIR");
	struct pl_buf lk, wk, page, reason;
	char path[4096];
	FILE *f;

	pl_buf_init(&lk, 4096);
	pl_buf_init(&wk, 4096);
	pl_buf_init(&page, 1u << 24);
	pl_buf_init(&reason, 4096);
	assert_int_equal(pl_vkey_format(t->wrong_log_key ? &vkeys[UNC] : &vkeys[EX], &lk), 0);
	assert_int_equal(pl_vkey_format(&wit_vk, &wk), 0);
	assert_int_equal(pl_dossier_check_html(text, strlen(text), lk.data, wk.data, &page),
	                 t->want);
	assert_non_null(strstr(page.data, t->exit == 1
	                                          ? "This dossier does not verify."
	                                          : "This file is not a well-formed dossier."));
	assert_int_equal(pl_html_escape(&reason, t->reason, strlen(t->reason)), 0);
	if (!strstr(page.data, reason.data))
		fail_msg("tampering \"%s\": the page lacks \"%s\"", t->name, reason.data);
	if (dir) {
		snprintf(path, sizeof(path), "%s/%02zu.json", dir, i);
		f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fputs(text, f) >= 0, 1);
		assert_int_equal(fclose(f), 0);
		snprintf(path, sizeof(path), "%s/tampers.tsv", dir);
		f = fopen(path, i ? "a" : "w");
		assert_non_null(f);
		fprintf(f, "%02zu\t%s\t%s\t%d\t%s\t%s\n", i, lk.data, wk.data, t->exit, t->reason,
		        t->name);
		assert_int_equal(fclose(f), 0);
	}
	pl_buf_release(&lk);
	pl_buf_release(&wk);
	pl_buf_release(&page);
	pl_buf_release(&reason);
}

static void test_tamper_table(void **state)
{
	static struct fx logs[EXPIRE_EARLY + 1];
	struct pl_buf clean[EXPIRE_EARLY + 1];
	struct pl_dossier_report *rep = NULL;
	struct pl_vkey wits[2];

	(void)state;
	for (int t = HONEST; t <= EXPIRE_EARLY; t++) {
		build_log(&logs[t], (enum twist)t);
		export_s1b(&logs[t], &clean[t]);
	}
	tfx = &logs[HONEST];
	/* The untampered dossier passes... */
	assert_int_equal(verify(&clean[HONEST], &rep, NULL), 0);
	pl_dossier_report_free(rep);
	/* ...and each tampering fails, for its reason. */
	for (size_t i = 0; i < sizeof(tampers) / sizeof(tampers[0]); i++) {
		const struct tamper *t = &tampers[i];
		json_error_t je;
		json_t *root = json_loadb(clean[t->twist].data, clean[t->twist].len, 0, &je);
		struct pl_buf why;
		char *text;
		int ret;

		assert_non_null(root);
		t->edit(root);
		text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		assert_non_null(text);
		pl_buf_init(&why, 4096);
		rep = NULL;
		ret = pl_dossier_verify(&rep, text, strlen(text),
		                        t->wrong_log_key ? &vkeys[UNC] : &vkeys[EX], &wit_vk, 1, 1,
		                        &why);
		if (ret != t->want || !strstr(why.data, t->reason))
			fail_msg("tampering \"%s\": got %d (%s), want %d with \"%s\"", t->name, ret,
			         why.data, t->want, t->reason);
		if (pl_dossier_error_is_evidence(ret) != (t->exit == 1))
			fail_msg("tampering \"%s\": %s is classed as exit %d, want %d", t->name,
			         pl_strerror(ret), pl_dossier_error_is_evidence(ret) ? 1 : 2,
			         t->exit);
		assert_null(rep);
		check_page(t, i, text);
		pl_buf_release(&why);
		free(text);
		json_decref(root);
	}
	/* Two witness keys with one name and key id: the arguments, not the evidence (exit 2). */
	wits[0] = wit_vk;
	wits[1] = wit_vk;
	wits[1].pk[0] ^= 1;
	{
		struct pl_buf why;
		int ret;
		pl_buf_init(&why, 4096);
		ret = pl_dossier_verify(&rep, clean[HONEST].data, clean[HONEST].len, &vkeys[EX],
		                        wits, 2, 1, &why);
		assert_int_equal(ret, PL_EINVAL);
		assert_non_null(strstr(why.data, "share a name and key id"));
		assert_false(pl_dossier_error_is_evidence(ret));
		pl_buf_release(&why);
	}
	assert_false(pl_dossier_error_is_evidence(0));
	assert_false(pl_dossier_error_is_evidence(PL_ENOMEM));
	for (int t = HONEST; t <= EXPIRE_EARLY; t++) {
		pl_buf_release(&clean[t]);
		free_log(&logs[t]);
	}
}

/* The key texts the browser's check takes: each malformed list refused, with its reason. */
static void test_check_html_keys(void **state)
{
	static struct fx f;
	struct pl_buf clean, lk, wk, other, page, many;
	struct {
		const char *log_key, *witnesses; /* NULL: the right one */
		int want;
		const char *reason;
	} rows[] = {
	        {NULL, NULL, 0, "Verdicts"},
	        {"", NULL, 0, "not given by the reader"},
	        {"  \n", "", 0, "witnesses: none given"},
	        {"hotline.example+12345678+AQ", NULL, PL_EINVAL, "log key 1 is not an Ed25519"},
	        {"garbage", NULL, PL_EINVAL, "log key 1 is not an Ed25519"},
	        {"WIT", NULL, PL_EINVAL, "log key 1 is not an Ed25519"},
	        {"LOG LOG", NULL, PL_EINVAL, "more than 1 log keys"},
	        {NULL, "LOG", PL_EINVAL, "witness key 1 is not a witness cosignature"},
	        {NULL, "WIT x", PL_EINVAL, "witness key 2 is not a witness cosignature"},
	        {NULL, "MANY", PL_EINVAL, "more than 64 witness keys"},
	        {NULL, "OTHER", PL_ENOKEY, "cosigned by 0"},
	};

	(void)state;
	build_log(&f, HONEST);
	export_s1b(&f, &clean);
	pl_buf_init(&lk, 4096);
	pl_buf_init(&wk, 4096);
	pl_buf_init(&other, 4096);
	pl_buf_init(&many, 1u << 16);
	assert_int_equal(pl_vkey_format(&vkeys[EX], &lk), 0);
	assert_int_equal(pl_vkey_format(&wit_vk, &wk), 0);
	assert_int_equal(pl_vkey_format(&other_wit_vk, &other), 0);
	for (int i = 0; i < 65; i++) {
		assert_int_equal(pl_buf_add(&many, wk.data, wk.len), 0);
		assert_int_equal(pl_buf_adds(&many, "\n"), 0);
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *l = !rows[i].log_key                      ? lk.data
		                : strcmp(rows[i].log_key, "LOG") == 0 ? lk.data
		                : strcmp(rows[i].log_key, "WIT") == 0 ? wk.data
		                                                      : rows[i].log_key;
		const char *w = !rows[i].witnesses                        ? wk.data
		                : strcmp(rows[i].witnesses, "LOG") == 0   ? lk.data
		                : strcmp(rows[i].witnesses, "MANY") == 0  ? many.data
		                : strcmp(rows[i].witnesses, "OTHER") == 0 ? other.data
		                                                          : rows[i].witnesses;
		char two[8192];
		int ret;

		if (rows[i].log_key && strcmp(rows[i].log_key, "LOG LOG") == 0) {
			snprintf(two, sizeof(two), "%s %s", lk.data, lk.data);
			l = two;
		}
		if (rows[i].witnesses && strcmp(rows[i].witnesses, "WIT x") == 0) {
			snprintf(two, sizeof(two), "%s x", wk.data);
			w = two;
		}
		pl_buf_init(&page, 1u << 24);
		ret = pl_dossier_check_html(clean.data, clean.len, l, w, &page);
		if (ret != rows[i].want || !strstr(page.data, rows[i].reason))
			fail_msg("row %zu: got %d, want %d with \"%s\"", i, ret, rows[i].want,
			         rows[i].reason);
		pl_buf_release(&page);
	}
	pl_buf_release(&clean);
	pl_buf_release(&lk);
	pl_buf_release(&wk);
	pl_buf_release(&other);
	pl_buf_release(&many);
	free_log(&f);
}

/* ---- What the exporter fetches; the frontier --------------------------------------------- */

static void test_wants(void **state)
{
	struct fx f;
	struct pl_dossier_entry win[LOG_MAX];
	struct pl_dossier_want *w = NULL;
	size_t nw = 0, nrec = 0, nreg = 0;
	bool anchor[LOG_MAX] = {false};

	(void)state;
	build_log(&f, HONEST);
	memset(win, 0, sizeof(win));
	for (size_t i = f.s1b; i < f.n; i++) {
		win[i - f.s1b].index = i;
		win[i - f.s1b].record = f.rec[i].data;
		win[i - f.s1b].record_len = f.rec[i].len;
	}
	assert_int_equal(pl_dossier_wants(&w, &nw, win, f.n - f.s1b, NULL, 0), 0);
	for (size_t k = 0; k < nw; k++) {
		if (w[k].kind == PL_DOSSIER_WANT_RECORD) {
			anchor[find_record(&f, w[k].id)] = true;
			nrec++;
		} else {
			assert_int_equal(w[k].kind, PL_DOSSIER_WANT_REGISTER);
			find_register(&f, w[k].key_name, w[k].key_id);
			nreg++;
		}
	}
	/* The anchors of unc (log #7), the exchange (#8) and kpa (#9); six parties' registers. */
	assert_int_equal(nrec, 3);
	assert_true(anchor[7] && anchor[8] && anchor[9]);
	assert_int_equal(nreg, 6);
	free(w);

	/* Bad arguments and unparsable records. */
	assert_int_equal(pl_dossier_wants(&w, &nw, win, 0, NULL, 0), PL_EINVAL);
	assert_int_equal(pl_dossier_wants(NULL, &nw, win, 1, NULL, 0), PL_EINVAL);
	win[0].record = "not a record\n";
	win[0].record_len = strlen(win[0].record);
	assert_int_equal(pl_dossier_wants(&w, &nw, win, 1, NULL, 0), PL_EMALFORMED);
	free_log(&f);
}

static void test_frontier(void **state)
{
	struct fx f;
	struct pl_tlog_reader rd;
	uint8_t fr[PL_DOSSIER_MAX_FRONTIER][PL_HASH_BYTES], h[PL_HASH_BYTES], l8[PL_HASH_BYTES],
	        l9[PL_HASH_BYTES];
	size_t n = 99;

	(void)state;
	build_log(&f, HONEST);
	rd = pl_tlog_memstore_reader(f.ms);
	assert_int_equal(pl_dossier_frontier(&rd, 0, fr, &n), 0);
	assert_int_equal(n, 0);
	/* 10 = 8 + 2: the subtrees [0, 8) and [8, 10). */
	assert_int_equal(pl_dossier_frontier(&rd, 10, fr, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pl_tlog_tree_hash(&rd, 8, h), 0);
	assert_memory_equal(fr[0], h, PL_HASH_BYTES);
	pl_tlog_leaf_hash(l8, f.rec[8].data, f.rec[8].len);
	pl_tlog_leaf_hash(l9, f.rec[9].data, f.rec[9].len);
	pl_tlog_node_hash(h, l8, l9);
	assert_memory_equal(fr[1], h, PL_HASH_BYTES);
	/* 27 = 16 + 8 + 2 + 1. */
	assert_int_equal(pl_dossier_frontier(&rd, 27, fr, &n), 0);
	assert_int_equal(n, 4);
	/* Past the tree: the reader's error. */
	assert_int_equal(pl_dossier_frontier(&rd, 40, fr, &n), PL_ENOTFOUND);
	assert_int_equal(pl_dossier_frontier(&rd, UINT64_MAX, fr, &n), PL_ERANGE);
	free_log(&f);
}

/* Every dossier of the log verifies: a window may start at any record, and at log #0. */
static void test_every_start(void **state)
{
	struct fx f;

	(void)state;
	build_log(&f, RELAYED);
	cosign_time = "2025-11-26T00:00:00Z";
	for (size_t start = 0; start < f.n; start++) {
		struct pl_dossier_report *rep = NULL;
		struct pl_buf b, why;
		const char *k = strstr(f.rec[start].data, "\nkind ");
		/* Only sends, consults, checks and statements are subjects. */
		if (!k || !(strncmp(k, "\nkind send\n", 11) == 0 ||
		            strncmp(k, "\nkind statement\n", 16) == 0 ||
		            strncmp(k, "\nkind consult\n", 14) == 0 ||
		            strncmp(k, "\nkind check\n", 12) == 0))
			continue;
		export(&f, start, NULL, 0, true, &b);
		pl_buf_init(&why, 4096);
		if (verify(&b, &rep, &why) != 0)
			fail_msg("start %zu: %s", start, why.data);
		assert_int_equal(rep->start, start);
		assert_true(rep->nevents >= 1);
		pl_dossier_report_free(rep);
		pl_buf_release(&why);
		pl_buf_release(&b);
	}
	cosign_time = COSIGN_TIME;
	free_log(&f);
}

/* ---- Builder and parser faults ------------------------------------------------------------ */

static void test_build_errors(void **state)
{
	struct fx f;
	struct pl_dossier_entry win[2];
	uint8_t fr[2][PL_HASH_BYTES] = {{0}};
	struct pl_dossier_input in;
	struct pl_buf cp, out;

	(void)state;
	build_log(&f, HONEST);
	checkpoint(&f, f.n, false, &cp);
	memset(win, 0, sizeof(win));
	for (int i = 0; i < 2; i++) {
		win[i].index = 10 + (uint64_t)i;
		win[i].record = f.rec[10 + i].data;
		win[i].record_len = f.rec[10 + i].len;
	}
	memset(&in, 0, sizeof(in));
	in.log_key = &vkeys[EX];
	in.checkpoint = cp.data;
	in.checkpoint_len = cp.len;
	in.start = 10;
	in.frontier = (const uint8_t(*)[PL_HASH_BYTES])fr;
	in.nfrontier = 2;
	in.window = win;
	in.nwindow = 2;
	pl_buf_init(&out, PL_DOSSIER_MAX_BYTES);
	/* Well shaped (it does not verify: the window stops short of the checkpoint). */
	assert_int_equal(pl_dossier_build(&out, &in), 0);
	assert_true(out.len > 0);
	pl_buf_reset(&out);
	in.nfrontier = 1; /* popcount(10) is 2 */
	assert_int_equal(pl_dossier_build(&out, &in), PL_EINVAL);
	in.nfrontier = 2;
	win[1].index = 12; /* a gap */
	assert_int_equal(pl_dossier_build(&out, &in), PL_EINVAL);
	win[1].index = 11;
	in.log_key = &wit_vk; /* not an Ed25519 log key */
	assert_int_equal(pl_dossier_build(&out, &in), PL_EINVAL);
	in.log_key = &vkeys[EX];
	in.nwindow = 0;
	assert_int_equal(pl_dossier_build(&out, &in), PL_EINVAL);
	in.nwindow = 2;
	win[0].record = "bad \xff utf-8\n";
	win[0].record_len = strlen(win[0].record);
	assert_int_equal(pl_dossier_build(&out, &in), PL_EINVAL);
	assert_int_equal(out.len, 0);
	assert_int_equal(pl_dossier_build(NULL, &in), PL_EINVAL);
	pl_buf_release(&out);
	pl_buf_release(&cp);
	free_log(&f);
}

static void test_verify_args(void **state)
{
	struct pl_dossier_report *rep = NULL;

	(void)state;
	assert_int_equal(pl_dossier_verify(NULL, "{}", 2, NULL, NULL, 0, 0, NULL), PL_EINVAL);
	assert_int_equal(pl_dossier_verify(&rep, "{}", 2, NULL, NULL, 0, 1, NULL), PL_EINVAL);
	/* A witness key must be a cosignature key. */
	assert_int_equal(pl_dossier_verify(&rep, "{}", 2, NULL, &vkeys[UNC], 1, 1, NULL),
	                 PL_EINVAL);
	assert_null(rep);
	pl_dossier_report_free(NULL);
}

/* Replaces the first occurrence of from in s by to. */
static char *replaced(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);

	assert_non_null(p);
	assert_non_null(out);
	snprintf(out, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return out;
}

static void test_parse_faults(void **state)
{
	static const struct {
		const char *from, *to;
		int want;
	} edits[] = {
	        {"{", "[", PL_EMALFORMED}, /* not an object */
	        {"\"version\": \"parley/dossier/v1\"", "\"version\": 1", PL_EMALFORMED},
	        {"\"origin\": \"hotline.example\",", "", PL_EMALFORMED}, /* a field missing */
	        {"\"origin\": \"hotline.example\"", "\"origin\": \"hotline example\"",
	         PL_EMALFORMED}, /* bad origin */
	        {"\"origin\": \"hotline.example\"",
	         "\"origin\": \"hotline.example\", \"origin\": \"x\"", PL_EMALFORMED}, /* dup */
	        {"\"start\": 10", "\"start\": -10", PL_EMALFORMED},
	        {"\"start\": 10", "\"start\": 10.0", PL_EMALFORMED},
	        {"\"start\": 10", "\"start\": \"10\"", PL_EMALFORMED},
	        {"\"start\": 10", "\"start\": 99999999999999999999999", PL_EMALFORMED},
	        {"\"index\": 10", "\"index\": 1e1", PL_EMALFORMED},
	        {"\"subject\": \"", "\"subject\": \"A", PL_ETOOBIG}, /* 65 digits */
	        {"\"log_key\": \"hotline.example+", "\"log_key\": \"hotline.example+0",
	         PL_EMALFORMED},
	        {"\"frontier\": [", "\"frontier\": [\"AAAA\", ", PL_EMALFORMED}, /* short hash */
	        {"\"frontier\": [", "\"frontier\": [17, ", PL_EMALFORMED},
	        {"\"proof\": [", "\"proof\": [\"\", ", PL_EMALFORMED}, /* empty string */
	        {"\"entries\": [", "\"entries\": [], \"x\": [", PL_EMALFORMED},
	        {"\"disclosures\": [", "\"disclosures\": {}, \"y\": [", PL_EMALFORMED},
	        {"\"record\": \"parley", "\"record\": \"\\u0000parley", PL_EMALFORMED}, /* NUL */
	        {"\"salt\": \"", "\"salt\": \"=", PL_ETOOBIG}, /* 45 characters */
	        {"\"salt\": \"", "\"salt\": 0, \"w\": \"", PL_EMALFORMED},
	        {"\"plaintext\": \"", "\"plaintext\": \"*", PL_EMALFORMED},
	        {"\"checkpoint\": \"", "\"checkpoint\": 7, \"z\": \"", PL_EMALFORMED},
	};
	struct fx f;
	struct pl_buf b, why;
	struct pl_dossier_report *rep = NULL;

	(void)state;
	build_log(&f, HONEST);
	export_s1b(&f, &b);
	pl_buf_init(&why, 4096);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *t = replaced(b.data, edits[i].from, edits[i].to);
		int ret = pl_dossier_verify(&rep, t, strlen(t), &vkeys[EX], &wit_vk, 1, 1, &why);
		if (ret != edits[i].want)
			fail_msg("edit %zu (%s): got %d (%s)", i, edits[i].to, ret, why.data);
		assert_true(why.len > 0);
		assert_null(rep);
		pl_buf_reset(&why);
		free(t);
	}
	/* Trailing bytes, truncation, nothing at all. */
	assert_int_equal(pl_buf_adds(&b, "x"), 0);
	assert_int_equal(verify(&b, &rep, NULL), PL_EMALFORMED);
	assert_int_equal(pl_dossier_verify(&rep, b.data, b.len / 2, NULL, NULL, 0, 0, NULL),
	                 PL_EMALFORMED);
	assert_int_equal(pl_dossier_verify(&rep, NULL, 0, NULL, NULL, 0, 0, NULL), PL_EMALFORMED);
	assert_int_equal(
	        pl_dossier_verify(&rep, "", PL_DOSSIER_MAX_BYTES + 1, NULL, NULL, 0, 0, NULL),
	        PL_ETOOBIG);
	pl_buf_release(&why);
	pl_buf_release(&b);
	free_log(&f);
}

/* ---- Rendering ----------------------------------------------------------------------------- */

/*
 * The JSON report: one object, its fields in order, every verdict's kind by
 * the name the HTML page gives its line as a class, and a final newline.
 */
static void test_render_json(void **state)
{
	static const char *const names[] = {
	        [PL_VERDICT_BASIS] = "basis",       [PL_VERDICT_DONE] = "done",
	        [PL_VERDICT_NOT_DONE] = "not-done", [PL_VERDICT_TIME] = "time",
	        [PL_VERDICT_FLAG] = "flag",         [PL_VERDICT_DISCLOSED] = "disclosed",
	};
	struct fx f;
	struct pl_buf b, out, html;
	struct pl_dossier_report *rep = NULL;
	json_t *root, *v;
	json_error_t jerr;
	const char *key;
	size_t i = 0, nnot = 0;
	static const char *const order[] = {
	        "verifies",   "version", "origin",   "log_key",      "log_key_pinned", "size",
	        "root",       "start",   "subject",  "subject_kind", "subject_class",  "witnesses",
	        "existed_by", "events",  "verdicts", "disclosed",
	};

	(void)state;
	build_log(&f, HONEST);
	export_s1b(&f, &b);
	assert_int_equal(verify(&b, &rep, NULL), 0);
	pl_buf_init(&out, 1 << 20);
	pl_buf_init(&html, 1 << 20);
	assert_int_equal(pl_buf_adds(&out, "x"), 0);
	assert_int_equal(pl_dossier_render_json(rep, &out), 0);
	assert_int_equal(out.data[0], 'x');
	assert_int_equal(out.data[out.len - 1], '\n');
	assert_int_equal(out.data[out.len - 2], '}');
	root = json_loadb(out.data + 1, out.len - 1, 0, &jerr);
	assert_non_null(root);
	json_object_foreach(root, key, v)
	{
		assert_true(i < sizeof(order) / sizeof(order[0]));
		assert_string_equal(key, order[i++]);
	}
	assert_int_equal(i, sizeof(order) / sizeof(order[0]));
	assert_true(json_is_true(json_object_get(root, "verifies")));
	assert_int_equal(json_array_size(json_object_get(root, "events")), rep->nevents);
	v = json_object_get(root, "verdicts");
	assert_int_equal(json_array_size(v), rep->nverdicts);
	assert_int_equal(pl_dossier_render_html(rep, &html), 0);
	for (i = 0; i < rep->nverdicts; i++) {
		const char *k = json_string_value(json_object_get(json_array_get(v, i), "kind"));
		char cls[64];
		assert_non_null(k);
		assert_string_equal(k, names[rep->verdicts[i].kind]);
		snprintf(cls, sizeof(cls), "<li class=\"%s\">", k);
		assert_non_null(strstr(html.data, cls));
		nnot += strcmp(k, "not-done") == 0;
		assert_string_equal(
		        json_string_value(json_object_get(json_array_get(v, i), "text")),
		        rep->verdicts[i].text);
	}
	assert_true(nnot > 0);
	v = json_array_get(json_object_get(root, "disclosed"), 0);
	assert_string_equal(json_string_value(json_object_get(v, "text")), proposal_text);
	json_decref(root);
	pl_buf_release(&html);
	pl_buf_release(&out);
	release(rep, &b);
	free_log(&f);
}

static void test_render(void **state)
{
	struct fx f;
	struct pl_buf b, out;
	struct pl_dossier_report *rep = NULL;

	(void)state;
	build_log(&f, HONEST);
	export_s1b(&f, &b);
	assert_int_equal(verify(&b, &rep, NULL), 0);
	pl_buf_init(&out, 1 << 20);
	assert_int_equal(pl_dossier_render_text(rep, &out), 0);
	assert_non_null(strstr(out.data, "\nVerdicts:\n"));
	assert_non_null(
	        strstr(out.data, "  #12     2025-11-17T01:00:02Z  unc       received it\n"));
	assert_non_null(strstr(out.data, "    | The Ministry of National Defense proposes"));
	pl_buf_reset(&out);

	/* HTML: one standalone page, everything escaped. */
	snprintf(rep->events[0].what, sizeof(rep->events[0].what),
	         "<script>alert(1)</script> & \"quoted\" 'single'");
	snprintf(rep->verdicts[0].text, sizeof(rep->verdicts[0].text), "<img src=x>");
	assert_int_equal(pl_dossier_render_html(rep, &out), 0);
	assert_true(strncmp(out.data, "<!DOCTYPE html>\n", 16) == 0);
	assert_non_null(strstr(out.data, "</html>\n"));
	assert_null(strstr(out.data, "<script"));
	assert_null(strstr(out.data, "<img"));
	assert_null(strstr(out.data, "http://"));
	assert_null(strstr(out.data, "https://"));
	assert_null(strstr(out.data, " href="));
	assert_non_null(strstr(out.data, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; "
	                                 "&quot;quoted&quot; &#39;single&#39;"));
	assert_non_null(strstr(out.data, "<li class=\"not-done\">NOT conveyed: unc&#39;s 4"));
	/* The page names the witness key relied on, and when it cosigned. */
	{
		struct pl_buf vk;
		char want[512];
		pl_buf_init(&vk, 512);
		assert_int_equal(pl_vkey_format(&wit_vk, &vk), 0);
		assert_int_equal(rep->ncosigners, 1);
		assert_true(rep->cosigners[0].time == pl_test_time(COSIGN_TIME));
		snprintf(want, sizeof(want),
		         "<dt>Witnesses</dt><dd class=\"witness\"><span class=\"mono\">%s</span> "
		         "cosigned at <span class=\"mono\">" COSIGN_TIME "</span></dd>\n",
		         vk.data);
		assert_non_null(strstr(out.data, want));
		pl_buf_release(&vk);
	}
	/* A buffer too small leaves out unchanged. */
	{
		struct pl_buf small;
		pl_buf_init(&small, 100);
		assert_int_equal(pl_buf_adds(&small, "keep"), 0);
		assert_int_equal(pl_dossier_render_html(rep, &small), PL_ETOOBIG);
		assert_int_equal(pl_dossier_render_text(rep, &small), PL_ETOOBIG);
		assert_string_equal(small.data, "keep");
		pl_buf_release(&small);
	}
	pl_dossier_report_free(rep);
	pl_buf_release(&out);
	pl_buf_release(&b);
	free_log(&f);
}

/* ---- Golden files --------------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
		s = malloc((size_t)n + 1);
		if (s && fread(s, 1, (size_t)n, fp) == (size_t)n) {
			s[n] = 0;
			*len = (size_t)n;
		} else {
			free(s);
			s = NULL;
		}
	}
	fclose(fp);
	return s;
}

static int spit(const char *path, const char *s, size_t n)
{
	FILE *fp = fopen(path, "wb");
	int ok = fp && fwrite(s, 1, n, fp) == n;

	if (fp && fclose(fp) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* The dossier of a scenario and its plain-text rendering. */
static void golden(int which, struct pl_buf *json, struct pl_buf *text)
{
	struct fx f;
	struct pl_dossier_report *rep = NULL;

	build_log(&f, HONEST);
	if (which == 0)
		export_s1b(&f, json);
	else
		export_s2(&f, json);
	assert_int_equal(verify(json, &rep, NULL), 0);
	pl_buf_init(text, 1 << 20);
	assert_int_equal(pl_dossier_render_text(rep, text), 0);
	pl_dossier_report_free(rep);
	free_log(&f);
}

static const char *const golden_names[2] = {"s1b", "s2"};

static void test_golden(void **state)
{
	(void)state;
	for (int k = 0; k < 2; k++) {
		char path[1024];
		struct pl_buf json, text, again;
		struct pl_dossier_report *rep = NULL;
		size_t n = 0;
		char *want;

		golden(k, &json, &text);
		snprintf(path, sizeof(path), "%s/dossier/%s.json", PL_VECTORS_DIR, golden_names[k]);
		want = slurp(path, &n);
		assert_non_null(want);
		/* Export is deterministic: the same log gives the same bytes. */
		assert_int_equal(n, json.len);
		assert_memory_equal(want, json.data, n);
		/* The stored file verifies and reads as the stored timeline. */
		assert_int_equal(pl_dossier_verify(&rep, want, n, &vkeys[EX], &wit_vk, 1, 1, NULL),
		                 0);
		pl_buf_init(&again, 1 << 20);
		assert_int_equal(pl_dossier_render_text(rep, &again), 0);
		free(want);
		snprintf(path, sizeof(path), "%s/dossier/%s.txt", PL_VECTORS_DIR, golden_names[k]);
		want = slurp(path, &n);
		assert_non_null(want);
		assert_int_equal(n, again.len);
		assert_memory_equal(want, again.data, n);
		assert_string_equal(text.data, again.data);
		free(want);
		pl_dossier_report_free(rep);
		pl_buf_release(&again);
		pl_buf_release(&text);
		pl_buf_release(&json);
	}
}

/* ---- The export, from a log in memory ------------------------------------------------------ */

/* Ways an in-memory source lies or fails, for the export's checks. */
enum src_twist {
	SRC_HONEST,
	SRC_NO_DIRECTORY, /* knows no register record: the export scans the bundles */
	SRC_BAD_TILE,     /* a level-0 hash tile with one hash flipped */
	SRC_OTHER_RECORD, /* answers a record by id with another record */
	SRC_SHORT_CP,     /* a checkpoint that does not cover the subject */
	SRC_NET_DOWN,     /* entry bundles fail with a network error */
};

/* A pl_dossier_source over the log of a struct fx, up to its whole size. */
struct memsrc {
	struct fx *f;
	enum src_twist tw;
	size_t ncalls_tile;
	size_t ncalls_register;
};

static int mem_checkpoint(void *ctx, uint64_t covering, struct pl_buf *note)
{
	struct memsrc *m = ctx;
	struct pl_buf cp;
	int ret;

	checkpoint(m->f, m->tw == SRC_SHORT_CP ? covering : m->f->n, true, &cp);
	ret = pl_buf_add(note, cp.data, cp.len);
	pl_buf_release(&cp);
	return ret;
}

static int mem_tile(void *ctx, const struct pl_tile *t, uint8_t *out)
{
	struct memsrc *m = ctx;
	int ret;

	m->ncalls_tile++;
	ret = pl_test_memstore_tile(m->f->ms, t, out);
	if (ret == 0 && m->tw == SRC_BAD_TILE && t->level == 0 && t->width > 12)
		out[12 * PL_HASH_BYTES] ^= 1;
	return ret;
}

static int mem_bundle(void *ctx, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct memsrc *m = ctx;

	if (m->tw == SRC_NET_DOWN)
		return PL_ENET;
	return pl_test_bundle(m->f->rec, m->f->n, n, width, out);
}

static int mem_record(void *ctx, const uint8_t id[PL_RECORD_ID_BYTES], struct pl_buf *out,
                      uint64_t *index)
{
	struct memsrc *m = ctx;
	size_t i = find_record(m->f, id);

	if (m->tw == SRC_OTHER_RECORD)
		i = i ? i - 1 : i + 1;
	*index = i;
	return pl_buf_add(out, m->f->rec[i].data, m->f->rec[i].len);
}

static int mem_register(void *ctx, const char *key_name, const uint8_t key_id[PL_KEYID_BYTES],
                        struct pl_buf *out, uint64_t *index)
{
	struct memsrc *m = ctx;
	size_t i;

	m->ncalls_register++;
	if (m->tw == SRC_NO_DIRECTORY)
		return PL_ENOTFOUND;
	i = find_register(m->f, key_name, key_id);
	*index = i;
	return pl_buf_add(out, m->f->rec[i].data, m->f->rec[i].len);
}

static void memsrc_init(struct pl_dossier_source *src, struct memsrc *m, struct fx *f,
                        enum src_twist tw)
{
	memset(m, 0, sizeof(*m));
	m->f = f;
	m->tw = tw;
	memset(src, 0, sizeof(*src));
	src->ctx = m;
	src->checkpoint = mem_checkpoint;
	src->tile = mem_tile;
	src->bundle = mem_bundle;
	src->record = mem_record;
	src->register_of = mem_register;
}

/*
 * Round trip: the export gathers S1(b)'s evidence from a log in memory,
 * builds the dossier and verifies it; the file is byte for byte the one
 * assembled by hand from the same log, and it verifies with the witness.
 * With a source that knows no directory, the export finds every register
 * record in the entry bundles instead, and the file is the same.
 */
static void test_export_round_trip(void **state)
{
	static const enum src_twist twists[] = {SRC_HONEST, SRC_NO_DIRECTORY};
	struct pl_dossier_disclosure d;
	struct fx f;
	struct pl_buf want, got, why;

	(void)state;
	build_log(&f, HONEST);
	export_s1b(&f, &want);
	disclosure(&d, &f, f.s1b, proposal_text, salt1);
	for (size_t k = 0; k < sizeof(twists) / sizeof(twists[0]); k++) {
		struct pl_dossier_source src;
		struct memsrc m;
		struct pl_dossier_export *x = NULL;
		struct pl_dossier_export_info info;
		struct pl_dossier_report *rep = NULL, *rep2 = NULL;

		memsrc_init(&src, &m, &f, twists[k]);
		pl_buf_init(&got, PL_DOSSIER_MAX_BYTES);
		pl_buf_init(&why, 4096);
		assert_int_equal(
		        pl_dossier_export_collect(&x, &src, &vkeys[EX], f.id[f.s1b], f.s1b, &why),
		        0);
		assert_int_equal(why.len, 0);
		pl_dossier_export_info(x, &info);
		assert_int_equal(info.size, f.n);
		assert_int_equal(info.start, f.s1b);
		assert_int_equal(info.nwindow, f.n - f.s1b);
		assert_true(info.nproven > 0);
		assert_true(pl_dossier_export_holds(x, f.id[f.s1b]));
		assert_true(pl_dossier_export_holds(x, f.id[f.n - 1]));
		assert_true(m.ncalls_register > 0);
		/* Each tile is fetched once, however often the proofs need it. */
		assert_true(m.ncalls_tile <= 2 + info.nproven);
		assert_int_equal(pl_dossier_export_finish(x, &d, 1, &got, &rep, &why), 0);
		assert_non_null(rep);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, want.len);
		assert_int_equal(verify(&got, &rep2, &why), 0);
		assert_int_equal(rep2->ndisclosed, 1);
		assert_int_equal(rep->nevents, rep2->nevents);
		pl_dossier_report_free(rep);
		pl_dossier_report_free(rep2);
		pl_dossier_export_free(x);
		pl_buf_release(&got);
		pl_buf_release(&why);
	}
	pl_buf_release(&want);
	free_log(&f);
}

/*
 * A source that lies or fails: the export stops at the first thing that
 * does not hold, names it, and hands back nothing.
 */
static void test_export_refusals(void **state)
{
	static const struct {
		enum src_twist tw;
		int err;
		const char *reason;
	} table[] = {
	        {SRC_BAD_TILE, PL_EPROOF, "an entry does not hash to its leaf in the hash tile"},
	        {SRC_OTHER_RECORD, PL_EPROOF, "the exchange gave it for another record"},
	        {SRC_SHORT_CP, PL_ERANGE, "beyond the checkpoint of size"},
	        {SRC_NET_DOWN, PL_ENET, "entry bundle 0"},
	};
	struct pl_dossier_disclosure d;
	struct fx f;

	(void)state;
	build_log(&f, HONEST);
	for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
		struct pl_dossier_source src;
		struct memsrc m;
		struct pl_dossier_export *x = NULL;
		struct pl_buf why;

		memsrc_init(&src, &m, &f, table[k].tw);
		pl_buf_init(&why, 4096);
		assert_int_equal(
		        pl_dossier_export_collect(&x, &src, &vkeys[EX], f.id[f.s2], f.s2, &why),
		        table[k].err);
		assert_null(x);
		assert_non_null(why.data);
		if (!strstr(why.data, table[k].reason))
			fail_msg("case %zu: %s", k, why.data);
		pl_buf_release(&why);
	}
	{
		/* The subject is not where the source says it is. */
		struct pl_dossier_source src;
		struct memsrc m;
		struct pl_dossier_export *x = NULL;
		struct pl_buf why, out;
		size_t outside;

		memsrc_init(&src, &m, &f, SRC_HONEST);
		pl_buf_init(&why, 4096);
		assert_int_equal(
		        pl_dossier_export_collect(&x, &src, &vkeys[EX], f.id[f.s2], f.s2 - 1, &why),
		        PL_EPROOF);
		assert_non_null(strstr(why.data, "the log holds another record there"));
		/* A checkpoint signed by another key than the log key given. */
		pl_buf_reset(&why);
		assert_int_equal(
		        pl_dossier_export_collect(&x, &src, &vkeys[ROK], f.id[f.s2], f.s2, &why),
		        PL_ENOKEY);
		assert_null(x);
		/* A disclosure of a record outside the dossier is refused, and nothing built. */
		assert_int_equal(
		        pl_dossier_export_collect(&x, &src, &vkeys[EX], f.id[f.s2], f.s2, NULL), 0);
		for (outside = 0; outside < f.s2 && pl_dossier_export_holds(x, f.id[outside]);
		     outside++)
			;
		assert_true(outside < f.s2);
		disclosure(&d, &f, outside, proposal_text, salt1);
		pl_buf_init(&out, PL_DOSSIER_MAX_BYTES);
		assert_int_equal(pl_dossier_export_finish(x, &d, 1, &out, NULL, NULL), PL_EINVAL);
		assert_int_equal(out.len, 0);
		pl_dossier_export_free(x);
		pl_buf_release(&out);
		pl_buf_release(&why);
	}
	free_log(&f);
}

/* Writes the golden files (and the keys that verify them) into dir. */
static int write_vectors(const char *dir)
{
	char path[1024];
	struct pl_buf json, text, key;
	int ret = 0;

	for (int k = 0; k < 2 && ret == 0; k++) {
		golden(k, &json, &text);
		snprintf(path, sizeof(path), "%s/%s.json", dir, golden_names[k]);
		ret = spit(path, json.data, json.len);
		snprintf(path, sizeof(path), "%s/%s.txt", dir, golden_names[k]);
		if (ret == 0)
			ret = spit(path, text.data, text.len);
		pl_buf_release(&json);
		pl_buf_release(&text);
	}
	pl_buf_init(&key, 1024);
	if (ret == 0 && pl_vkey_format(&vkeys[EX], &key) == 0 && pl_buf_adds(&key, "\n") == 0) {
		snprintf(path, sizeof(path), "%s/log.vkey", dir);
		ret = spit(path, key.data, key.len);
	}
	pl_buf_reset(&key);
	if (ret == 0 && pl_vkey_format(&wit_vk, &key) == 0 && pl_buf_adds(&key, "\n") == 0) {
		snprintf(path, sizeof(path), "%s/witness.vkey", dir);
		ret = spit(path, key.data, key.len);
	}
	pl_buf_release(&key);
	return ret;
}

/* The kinds that head a thread: the verifier's and `parley dossier`'s one rule. */
static void test_subject_kinds(void **state)
{
	(void)state;
	for (int k = 1; k <= PL_KIND_COUNT; k++) {
		bool want = k == PL_KIND_SEND || k == PL_KIND_CONSULT || k == PL_KIND_CHECK ||
		            k == PL_KIND_STATEMENT;
		if (pl_dossier_is_subject_kind((enum pl_record_kind)k) != want)
			fail_msg("kind %s", pl_record_kind_name((enum pl_record_kind)k));
	}
	assert_false(pl_dossier_is_subject_kind((enum pl_record_kind)0));
}

/* ---- The log audit over the same logs (pl_audit_run()) ---- */

/* The audit's source over a log in memory; a tampering of the answers it gives. */
enum audit_twist { AUD_HONEST, AUD_BAD_LEAF, AUD_BAD_BUNDLE, AUD_NET_DOWN, AUD_SHORT_TILE };

struct audsrc {
	struct fx *f;
	enum audit_twist tw;
	uint64_t last_done;
	unsigned lasts;
};

static int aud_bundle(void *ctx, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct audsrc *m = ctx;
	int ret = m->tw == AUD_NET_DOWN ? PL_ENET : 0;

	if (m->tw == AUD_BAD_BUNDLE)
		return pl_buf_add(out, "\xff", 1);
	for (unsigned i = 0; ret == 0 && i < width; i++) {
		size_t k = (size_t)n * PL_TILE_WIDTH + i;
		ret = pl_tiles_bundle_add(out, m->f->rec[k].data, m->f->rec[k].len);
	}
	return ret;
}

static int aud_tile(void *ctx, unsigned level, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct audsrc *m = ctx;
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(m->f->ms);
	static uint8_t tile[PL_TILE_BYTES];
	struct pl_tile t;
	size_t len = 0;
	int ret = pl_tiles_tile_at(&t, m->f->n, level, n, false);

	assert_int_equal(t.width, width ? width : PL_TILE_WIDTH);
	if (ret == 0)
		ret = pl_tiles_read_hash_tile(&rd, &t, tile, &len);
	if (ret == 0 && m->tw == AUD_BAD_LEAF)
		tile[3 * PL_HASH_BYTES] ^= 1;
	if (ret == 0 && m->tw == AUD_SHORT_TILE)
		len--;
	return ret ? ret : pl_buf_add(out, tile, len);
}

static void aud_progress(void *ctx, uint64_t done, bool last)
{
	struct audsrc *m = ctx;

	assert_true(done >= m->last_done);
	m->last_done = done;
	m->lasts += last;
}

/* Audits the log built with twist tw, served with tampering at, against a checkpoint of it. */
static int audit_of(enum twist tw, enum audit_twist at, bool bad_root, struct pl_audit_result *res)
{
	static struct fx f;
	struct audsrc m = {.f = &f, .tw = at};
	const struct pl_audit_source src = {
	        .ctx = &m, .bundle = aud_bundle, .tile = aud_tile, .progress = aud_progress};
	struct pl_tlog_reader rd;
	uint8_t root[PL_HASH_BYTES];
	struct pl_checkpoint cp;
	int ret;

	build_log(&f, tw);
	rd = pl_tlog_memstore_reader(f.ms);
	assert_int_equal(pl_tlog_tree_hash(&rd, f.n, root), 0);
	root[0] ^= bad_root;
	assert_int_equal(pl_checkpoint_set(&cp, ORIGIN, f.n, root), 0);
	ret = pl_audit_run(&cp, &vkeys[EX], &src, res);
	if (ret == 0 && at != AUD_BAD_BUNDLE) {
		assert_int_equal(m.last_done, f.n);
		assert_int_equal(m.lasts, 1);
	}
	free_log(&f);
	return ret;
}

static void test_audit(void **state)
{
	static struct pl_audit_result res;

	(void)state;
	if (audit_of(HONEST, AUD_HONEST, false, &res) != 0)
		fail_msg("%s", res.error);
	assert_int_equal(res.failures, 0);
	assert_false(res.has_first);
	assert_int_equal(res.bundles, 1);
	assert_int_equal(res.tiles, 1);
	assert_int_equal(res.by_kind[PL_KIND_REGISTER], 7);
	assert_int_equal(res.by_kind[PL_KIND_EXPIRE], 1);
	assert_true(res.records > 20);
	/* A record whose signature does not verify: named with its key. */
	assert_int_equal(audit_of(BAD_SIG, AUD_HONEST, false, &res), 0);
	assert_true(res.failures >= 1);
	assert_true(res.first_is_record);
	assert_non_null(strstr(res.first_reason, "(key "));
	/* Two histories of one party; a recipient that conveys. */
	assert_int_equal(audit_of(FORK, AUD_HONEST, false, &res), 0);
	assert_true(res.first_is_record);
	assert_memory_equal(res.first_reason, "chain: ", 7);
	assert_int_equal(audit_of(CONVEY_BY_KPA, AUD_HONEST, false, &res), 0);
	assert_memory_equal(res.first_reason, "rule: ", 6);
	assert_int_equal(res.first_index, 13);
	/* The tree: a leaf that is not the entry's, a short tile, a root not the entries'. */
	assert_int_equal(audit_of(HONEST, AUD_BAD_LEAF, false, &res), 0);
	assert_true(res.first_is_record);
	assert_int_equal(res.first_index, 3);
	assert_string_equal(res.first_reason,
	                    "the entry does not hash to the leaf of hash tile 0/0");
	assert_int_equal(audit_of(HONEST, AUD_SHORT_TILE, false, &res), 0);
	assert_false(res.first_is_record);
	assert_non_null(strstr(res.first_reason, "hash tile 0/0 has "));
	assert_int_equal(audit_of(HONEST, AUD_HONEST, true, &res), 0);
	assert_int_equal(res.failures, 1);
	assert_string_equal(res.first_reason,
	                    "the tree of the entries does not have the checkpoint's root");
	/* A malformed bundle ends the audit, counted; a source that fails stops it. */
	assert_int_equal(audit_of(HONEST, AUD_BAD_BUNDLE, false, &res), 0);
	assert_int_equal(res.failures, 1);
	assert_int_equal(res.records, 0);
	assert_memory_equal(res.first_reason, "entry bundle 0 is malformed", 27);
	assert_int_equal(audit_of(HONEST, AUD_NET_DOWN, false, &res), PL_ENET);
	assert_string_equal(res.error, "");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_s1b),
	        cmocka_unit_test(test_s2),
	        cmocka_unit_test(test_no_witness),
	        cmocka_unit_test(test_late_claim),
	        cmocka_unit_test(test_relayed),
	        cmocka_unit_test(test_tamper_table),
	        cmocka_unit_test(test_check_html_keys),
	        cmocka_unit_test(test_wants),
	        cmocka_unit_test(test_frontier),
	        cmocka_unit_test(test_every_start),
	        cmocka_unit_test(test_build_errors),
	        cmocka_unit_test(test_verify_args),
	        cmocka_unit_test(test_parse_faults),
	        cmocka_unit_test(test_render),
	        cmocka_unit_test(test_golden),
	        cmocka_unit_test(test_render_json),
	        cmocka_unit_test(test_export_round_trip),
	        cmocka_unit_test(test_export_refusals),
	        cmocka_unit_test(test_audit),
	        cmocka_unit_test(test_subject_kinds),
	};

	if (sodium_init() < 0)
		return 1;
	if (argc == 2 && strcmp(argv[1], "--write-vectors") == 0) {
		int ret = setup_keys(NULL) == 0 ? write_vectors(PL_VECTORS_DIR "/dossier") : -1;
		teardown_keys(NULL);
		return ret == 0 ? 0 : 1;
	}
	return pl_test_main(tests, setup_keys, teardown_keys);
}
