/*
 * Unit tests of the member's checks: directory entries against their register
 * records (log key at position 0 of the directory built), record id arguments,
 * inclusion proofs and receipts, and payload blobs against their records; and
 * of how a member builds a record (its parties, refs and place on its chain)
 * and lists one (its summary line and its JSON); the evidence of two histories
 * kept in a file of its own.
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

#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <parley/box.h>
#include <parley/buf.h>
#include <parley/checkpoint.h>
#include <parley/member.h>
#include <parley/party.h>
#include <parley/record.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

#include "testutil.h"

#define ORIGIN "hotline.example"

/* The exchange's log key and two parties, each with a signed register record. */
struct fixture {
	struct pl_skey log_sk;
	struct pl_vkey log_vk;
	struct pl_skey sk[2];
	struct pl_client_party p[2];
	struct pl_box_keypair enc[2];
	struct pl_record *scratch;
};

static const char *const names[2] = {"kpa", "unc"};

/* Signs the register record of party i (exchange seq i + 1) into its directory entry. */
static void make_party(struct fixture *f, size_t i)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	struct pl_skey keys[2];
	struct pl_buf text, ek;
	char name[PL_KEY_NAME_MAX + 1];

	assert_non_null(r);
	assert_int_equal(pl_record_key_name(name, ORIGIN, names[i]), 0);
	assert_int_equal(pl_key_generate(&f->sk[i], &f->p[i].vkey, name, PL_SIGTYPE_ED25519), 0);
	pl_box_keypair_generate(&f->enc[i]);
	r->kind = PL_KIND_REGISTER;
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", PL_RECORD_EXCHANGE);
	r->seq = 1;
	r->time = 1763341200;
	r->has = PL_RECORD_HAS_PARTY | PL_RECORD_HAS_ENC;
	snprintf(r->party, sizeof(r->party), "%s", names[i]);
	r->nkeys = 1;
	r->keys[0] = f->p[i].vkey;
	snprintf(r->enc.name, sizeof(r->enc.name), "%s", name);
	memcpy(r->enc.pk, f->enc[i].pk, PL_BOX_PK_BYTES);
	keys[0] = f->log_sk;
	keys[1] = f->sk[i];
	pl_buf_init(&text, PL_RECORD_MAX_BYTES);
	pl_buf_init(&ek, PL_PARTY_EKEY_TEXT_MAX + 1);
	assert_int_equal(pl_record_sign(&text, r, keys, 2, NULL), 0);
	assert_int_equal(pl_party_ekey_format(&r->enc, &ek), 0);
	snprintf(f->p[i].name, sizeof(f->p[i].name), "%s", names[i]);
	snprintf(f->p[i].enc_key, sizeof(f->p[i].enc_key), "%s", ek.data);
	f->p[i].register_index = i;
	pl_record_id(f->p[i].register_id, text.data, text.len);
	f->p[i].register_record = malloc(text.len + 1);
	assert_non_null(f->p[i].register_record);
	memcpy(f->p[i].register_record, text.data, text.len + 1);
	f->p[i].register_record_len = text.len;
	pl_buf_release(&text);
	pl_buf_release(&ek);
	free(r);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char name[PL_KEY_NAME_MAX + 1];

	assert_non_null(f);
	assert_int_equal(pl_record_key_name(name, ORIGIN, PL_RECORD_EXCHANGE), 0);
	assert_int_equal(pl_key_generate(&f->log_sk, &f->log_vk, name, PL_SIGTYPE_ED25519), 0);
	make_party(f, 0);
	make_party(f, 1);
	f->scratch = malloc(sizeof(*f->scratch));
	assert_non_null(f->scratch);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < 2; i++)
		free(f->p[i].register_record);
	free(f->scratch);
	free(f);
	return 0;
}

static void test_party_check(void **state)
{
	struct fixture *f = *state;
	struct pl_client_party p;
	const char *why = NULL;

	assert_int_equal(pl_member_party_check(&f->p[0], ORIGIN, &f->log_vk, f->scratch, &why), 0);
	assert_int_equal(f->scratch->kind, PL_KIND_REGISTER);
	/* Another exchange's origin. */
	assert_int_equal(
	        pl_member_party_check(&f->p[0], "other.example", &f->log_vk, f->scratch, &why),
	        PL_EVERIFY);
	assert_string_equal(why, "the register record is for another party or exchange");
	/* Another party's name on the entry. */
	p = f->p[0];
	snprintf(p.name, sizeof(p.name), "%s", "unc");
	assert_int_equal(pl_member_party_check(&p, ORIGIN, &f->log_vk, f->scratch, &why),
	                 PL_EVERIFY);
	assert_string_equal(why, "the register record is for another party or exchange");
	/* The register id of another record. */
	p = f->p[0];
	memcpy(p.register_id, f->p[1].register_id, PL_RECORD_ID_BYTES);
	assert_int_equal(pl_member_party_check(&p, ORIGIN, &f->log_vk, f->scratch, &why),
	                 PL_EVERIFY);
	assert_string_equal(why, "the register record is not the one the entry names");
	/* A key the register record does not carry. */
	p = f->p[0];
	p.vkey = f->p[1].vkey;
	assert_int_equal(pl_member_party_check(&p, ORIGIN, &f->log_vk, f->scratch, &why),
	                 PL_EVERIFY);
	assert_string_equal(why, "the entry's key is not in its register record");
	/* Another encryption key. */
	p = f->p[0];
	memcpy(p.enc_key, f->p[1].enc_key, sizeof(p.enc_key));
	assert_int_equal(pl_member_party_check(&p, ORIGIN, &f->log_vk, f->scratch, &why),
	                 PL_EVERIFY);
	assert_string_equal(why, "the entry's encryption key is not its register record's");
	/* Signed by another log key: does not open. */
	assert_int_not_equal(
	        pl_member_party_check(&f->p[0], ORIGIN, &f->p[1].vkey, f->scratch, &why), 0);
	/* Not a signed record at all. */
	p = f->p[0];
	p.register_record = "not a record\n";
	p.register_record_len = strlen(p.register_record);
	why = NULL;
	assert_int_not_equal(pl_member_party_check(&p, ORIGIN, &f->log_vk, f->scratch, &why), 0);
	assert_string_equal(why, "not a register record");
}

static void test_directory(void **state)
{
	struct fixture *f = *state;
	struct pl_client_party v[3];
	struct pl_directory d;
	const char *why = NULL;
	size_t bad = 99;

	memset(&d, 0, sizeof(d));
	assert_int_equal(pl_member_directory(&d, &f->log_vk, ORIGIN, f->p, 2, &bad, &why), 0);
	assert_int_equal(bad, 2);
	/* The library's convention: the log key at 0, then the entries' keys. */
	assert_int_equal(d.n, 3);
	assert_true(pl_vkey_equal(&d.keys[0], &f->log_vk));
	assert_int_equal(pl_directory_find(&d, f->p[0].vkey.name, f->p[0].vkey.id), 1);
	assert_int_equal(pl_directory_find(&d, f->p[1].vkey.name, f->p[1].vkey.id), 2);
	assert_int_equal(pl_directory_status(&d, &f->p[1].vkey), PL_KEY_ACTIVE);
	pl_directory_release(&d);
	/* An empty directory holds the log key alone. */
	assert_int_equal(pl_member_directory(&d, &f->log_vk, ORIGIN, f->p, 0, &bad, &why), 0);
	assert_int_equal(d.n, 1);
	pl_directory_release(&d);
	/* The same entry twice: one key. */
	v[0] = f->p[0];
	v[1] = f->p[1];
	v[2] = f->p[0];
	assert_int_equal(pl_member_directory(&d, &f->log_vk, ORIGIN, v, 3, &bad, &why), 0);
	assert_int_equal(d.n, 3);
	pl_directory_release(&d);
	/* A bad entry is named, and nothing is built. */
	v[1].vkey = f->p[0].vkey;
	assert_int_equal(pl_member_directory(&d, &f->log_vk, ORIGIN, v, 3, &bad, &why), PL_EVERIFY);
	assert_int_equal(bad, 1);
	assert_string_equal(why, "the entry's key is not in its register record");
	assert_null(d.keys);
	assert_int_equal(d.n, 0);
}

/* docs/keys.md §3: a returning party's register names its previous one, whose keys still open. */
static void test_previous(void **state)
{
	struct fixture *f = *state;
	struct pl_record *r = calloc(1, sizeof(*r));
	struct pl_skey keys[2], new_sk;
	struct pl_vkey new_vk, other_vk;
	struct pl_skey other_sk;
	struct pl_directory d;
	struct pl_buf ret;
	uint8_t prev[PL_RECORD_ID_BYTES], ret_id[PL_RECORD_ID_BYTES];
	char name[PL_KEY_NAME_MAX + 1];
	const char *why = NULL;
	const struct pl_client_party *kpa = &f->p[0];
	bool more = true;

	assert_non_null(r);
	/* kpa's return: a new key, and a ref to its first register. */
	assert_int_equal(pl_record_key_name(name, ORIGIN, "kpa"), 0);
	assert_int_equal(pl_key_generate(&new_sk, &new_vk, name, PL_SIGTYPE_ED25519), 0);
	r->kind = PL_KIND_REGISTER;
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", PL_RECORD_EXCHANGE);
	r->seq = 5;
	r->has = PL_RECORD_HAS_PARTY | PL_RECORD_HAS_ENC | PL_RECORD_HAS_PREV;
	r->time = 1763341300;
	snprintf(r->party, sizeof(r->party), "kpa");
	r->nkeys = 1;
	r->keys[0] = new_vk;
	snprintf(r->enc.name, sizeof(r->enc.name), "%s", name);
	memcpy(r->enc.pk, f->enc[0].pk, PL_BOX_PK_BYTES);
	pl_test_add_ref(r, PL_ROLE_PREVIOUS, kpa->register_id);
	keys[0] = f->log_sk;
	keys[1] = new_sk;
	pl_buf_init(&ret, PL_RECORD_MAX_BYTES);
	assert_int_equal(pl_record_sign(&ret, r, keys, 2, NULL), 0);
	pl_record_id(ret_id, ret.data, ret.len);

	/* What a register names. */
	assert_int_equal(pl_member_register_previous(ret.data, ret.len, prev), 0);
	assert_memory_equal(prev, kpa->register_id, sizeof(prev));
	assert_int_equal(
	        pl_member_register_previous(kpa->register_record, kpa->register_record_len, prev),
	        PL_ENOTFOUND);
	assert_int_equal(pl_member_register_previous("not a note\n", 11, prev), PL_EMALFORMED);

	/* The previous register's keys enter the directory, revoked. */
	assert_int_equal(pl_member_directory(&d, &f->log_vk, ORIGIN, NULL, 0, NULL, &why), 0);
	assert_int_equal(pl_member_directory_previous(&d, &f->log_vk, ORIGIN, "kpa",
	                                              kpa->register_id, kpa->register_record,
	                                              kpa->register_record_len, &more, prev, &why),
	                 0);
	assert_false(more);
	assert_int_equal(pl_directory_status(&d, &kpa->vkey), PL_KEY_REVOKED);
	/* A register that names one further back says so. */
	assert_int_equal(pl_member_directory_previous(&d, &f->log_vk, ORIGIN, "kpa", ret_id,
	                                              ret.data, ret.len, &more, prev, &why),
	                 0);
	assert_true(more);
	assert_memory_equal(prev, kpa->register_id, sizeof(prev));
	/* Refused: another id than the one named, another party, another exchange, another log. */
	assert_int_equal(pl_member_directory_previous(&d, &f->log_vk, ORIGIN, "kpa",
	                                              f->p[1].register_id, kpa->register_record,
	                                              kpa->register_record_len, &more, prev, &why),
	                 PL_EINVAL);
	assert_string_equal(why, "the previous register is not the party's register it names");
	assert_int_equal(pl_member_directory_previous(&d, &f->log_vk, ORIGIN, "unc",
	                                              kpa->register_id, kpa->register_record,
	                                              kpa->register_record_len, &more, prev, &why),
	                 PL_EINVAL);
	assert_int_equal(pl_member_directory_previous(&d, &f->log_vk, "other.example", "kpa",
	                                              kpa->register_id, kpa->register_record,
	                                              kpa->register_record_len, &more, prev, &why),
	                 PL_EINVAL);
	assert_int_equal(pl_key_generate(&other_sk, &other_vk, ORIGIN, PL_SIGTYPE_ED25519), 0);
	assert_int_equal(pl_member_directory_previous(&d, &other_vk, ORIGIN, "kpa",
	                                              kpa->register_id, kpa->register_record,
	                                              kpa->register_record_len, &more, prev, &why),
	                 PL_ENOKEY);
	pl_directory_release(&d);
	pl_buf_release(&ret);
	pl_skey_clear(&new_sk);
	pl_skey_clear(&other_sk);
	free(r);
}

static void test_record_open(void **state)
{
	struct fixture *f = *state;
	struct pl_directory d, lonely;
	struct pl_client_party *p = &f->p[1];
	struct pl_skey other_sk;
	struct pl_vkey other_vk;
	uint8_t id[PL_RECORD_ID_BYTES];
	const char *why = NULL;

	assert_int_equal(pl_key_generate(&other_sk, &other_vk, ORIGIN, PL_SIGTYPE_ED25519), 0);
	assert_int_equal(pl_member_directory(&d, &f->log_vk, ORIGIN, f->p, 2, NULL, &why), 0);
	assert_int_equal(pl_member_directory(&lonely, &other_vk, ORIGIN, f->p, 0, NULL, &why), 0);
	assert_int_equal(pl_member_record_open(f->scratch, id, p->register_record,
	                                       p->register_record_len, &d, ORIGIN, &why),
	                 0);
	assert_memory_equal(id, p->register_id, sizeof(id));
	assert_string_equal(f->scratch->party, "unc");
	/* Made for another exchange: said, with the record to name it. */
	assert_int_equal(pl_member_record_open(f->scratch, id, p->register_record,
	                                       p->register_record_len, &d, "other.example", &why),
	                 PL_EINVAL);
	assert_string_equal(f->scratch->exchange, ORIGIN);
	/* Its author's key is not in the directory (another log's). */
	assert_int_equal(pl_member_record_open(f->scratch, id, p->register_record,
	                                       p->register_record_len, &lonely, ORIGIN, &why),
	                 PL_ENOKEY);
	/* One byte changed: it does not open. */
	p = &f->p[0];
	p->register_record[p->register_record_len - 3] ^= 1;
	assert_int_not_equal(pl_member_record_open(f->scratch, id, p->register_record,
	                                           p->register_record_len, &d, ORIGIN, &why),
	                     0);
	p->register_record[p->register_record_len - 3] ^= 1;
	pl_directory_release(&d);
	pl_directory_release(&lonely);
}

/* Malformed and well-formed record id arguments. */
static void test_id_arg(void **state)
{
	static const struct {
		const char *arg;
		int want;
		const char *out;
	} cases[] = {
	        {"3f9a12bc", 0, "3f9a12bc"},
	        {"3F9A12BCdE", 0, "3f9a12bcde"},
	        {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0,
	         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	        {"", PL_ERANGE, NULL},
	        {"3f9a12b", PL_ERANGE, NULL},
	        {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", PL_ERANGE,
	         NULL},
	        {"3f9a12bg", PL_EMALFORMED, NULL},
	        {"3f9a 12bc", PL_EMALFORMED, NULL},
	        {"+3f9a12bc", PL_EMALFORMED, NULL},
	        {"3f9a12bc\n", PL_EMALFORMED, NULL},
	        {"0x3f9a12bc", PL_EMALFORMED, NULL},
	};
	char out[PL_RECORD_ID_HEX_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(out, "untouched", 10);
		assert_int_equal(pl_member_id_arg(out, cases[i].arg), cases[i].want);
		assert_string_equal(out, cases[i].out ? cases[i].out : "untouched");
	}
}

/* A log of two entries, entry and "other", its checkpoint signed by key, the proof of entry. */
static void prove(struct pl_buf *proof, struct pl_buf *note, const struct pl_skey *key,
                  const char *entry, uint64_t index_claimed)
{
	struct pl_checkpoint cp;
	uint8_t a[PL_HASH_BYTES], b[PL_HASH_BYTES], root[PL_HASH_BYTES];

	pl_tlog_leaf_hash(a, entry, strlen(entry));
	pl_tlog_leaf_hash(b, "other", 5);
	pl_tlog_node_hash(root, a, b);
	assert_int_equal(pl_checkpoint_set(&cp, ORIGIN, 2, root), 0);
	assert_int_equal(pl_checkpoint_sign(note, &cp, key), 0);
	assert_int_equal(pl_proof_format(proof, index_claimed, NULL, 0,
	                                 (const uint8_t(*)[PL_HASH_BYTES])b, 1, note->data,
	                                 note->len),
	                 0);
}

static void test_proof_check(void **state)
{
	struct fixture *f = *state;
	struct pl_buf proof, note;
	struct pl_checkpoint cp;
	struct pl_proof *p = NULL;
	const char *e = "a record\n";

	pl_buf_init(&proof, PL_TLOG_PROOF_MAX_BYTES);
	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	prove(&proof, &note, &f->log_sk, e, 0);
	assert_int_equal(pl_member_proof_check(proof.data, proof.len, e, strlen(e), 0, ORIGIN,
	                                       &f->log_vk, &p, &cp),
	                 0);
	assert_non_null(p);
	assert_int_equal(cp.size, 2);
	assert_int_equal(p->checkpoint_len, note.len);
	pl_proof_free(p);
	/* Any index, when the caller does not know it. */
	assert_int_equal(pl_member_proof_check(proof.data, proof.len, e, strlen(e), UINT64_MAX,
	                                       ORIGIN, &f->log_vk, &p, &cp),
	                 0);
	pl_proof_free(p);
	/* It holds, but for another index than the one the exchange gave. */
	assert_int_equal(pl_member_proof_check(proof.data, proof.len, e, strlen(e), 1, ORIGIN,
	                                       &f->log_vk, &p, &cp),
	                 PL_ERANGE);
	assert_non_null(p);
	assert_int_equal(p->index, 0);
	pl_proof_free(p);
	/* Another entry: the path does not lead to the root. */
	assert_int_equal(pl_member_proof_check(proof.data, proof.len, "forged\n", 7, 0, ORIGIN,
	                                       &f->log_vk, &p, &cp),
	                 PL_EPROOF);
	assert_non_null(p);
	pl_proof_free(p);
	/* Another log key. */
	assert_int_not_equal(pl_member_proof_check(proof.data, proof.len, e, strlen(e), 0, ORIGIN,
	                                           &f->p[0].vkey, &p, &cp),
	                     0);
	pl_proof_free(p);
	/* Not a proof: nothing parsed. */
	assert_int_equal(
	        pl_member_proof_check("garbage\n", 8, e, strlen(e), 0, ORIGIN, &f->log_vk, &p, &cp),
	        PL_EMALFORMED);
	assert_null(p);
	assert_int_equal(
	        pl_member_proof_check(NULL, 0, e, strlen(e), 0, ORIGIN, &f->log_vk, &p, &cp),
	        PL_EMALFORMED);
	assert_null(p);
	pl_buf_release(&proof);
	pl_buf_release(&note);
}

static void test_receipt_check(void **state)
{
	struct fixture *f = *state;
	struct pl_buf proof, note;
	struct pl_receipt rc;
	struct pl_checkpoint cp;
	struct pl_proof *p = NULL;
	const char *e = "a record\n";

	pl_buf_init(&proof, PL_TLOG_PROOF_MAX_BYTES);
	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	prove(&proof, &note, &f->log_sk, e, 0);
	memset(&rc, 0, sizeof(rc));
	rc.index = 0;
	rc.size = 2;
	rc.proof = proof.data;
	rc.proof_len = proof.len;
	rc.checkpoint = note.data;
	rc.checkpoint_len = note.len;
	assert_int_equal(pl_member_receipt_check(&rc, e, strlen(e), ORIGIN, &f->log_vk, &p, &cp),
	                 0);
	assert_int_equal(cp.size, 2);
	pl_proof_free(p);
	/* The receipt names another index or size than its proof. */
	rc.index = 1;
	assert_int_equal(pl_member_receipt_check(&rc, e, strlen(e), ORIGIN, &f->log_vk, &p, &cp),
	                 PL_ERANGE);
	assert_non_null(p);
	pl_proof_free(p);
	rc.index = 0;
	rc.size = 3;
	assert_int_equal(pl_member_receipt_check(&rc, e, strlen(e), ORIGIN, &f->log_vk, &p, &cp),
	                 PL_ERANGE);
	pl_proof_free(p);
	rc.size = 2;
	/* Its checkpoint is another signature of the same tree (Ed25519 is deterministic: cut). */
	rc.checkpoint_len = note.len - 1;
	assert_int_equal(pl_member_receipt_check(&rc, e, strlen(e), ORIGIN, &f->log_vk, &p, &cp),
	                 PL_EINCONSISTENT);
	pl_proof_free(p);
	/* A proof of another record. */
	rc.checkpoint_len = note.len;
	assert_int_equal(pl_member_receipt_check(&rc, "other\n", 6, ORIGIN, &f->log_vk, &p, &cp),
	                 PL_EPROOF);
	pl_proof_free(p);
	/* No proof. */
	rc.proof = NULL;
	rc.proof_len = 0;
	assert_int_equal(pl_member_receipt_check(&rc, e, strlen(e), ORIGIN, &f->log_vk, &p, &cp),
	                 PL_EMALFORMED);
	assert_null(p);
	pl_buf_release(&proof);
	pl_buf_release(&note);
}

static void test_payload_open(void **state)
{
	struct fixture *f = *state;
	struct pl_record *r = f->scratch;
	uint8_t readers[1][PL_BOX_PK_BYTES];
	uint8_t salt[PL_BOX_SALT_BYTES], got_salt[PL_BOX_SALT_BYTES];
	uint8_t *blob = NULL, *plain = NULL;
	size_t blob_len = 0, plain_len = 0;
	const char *body = "the body\n";

	memset(r, 0, sizeof(*r));
	memcpy(readers[0], f->enc[0].pk, PL_BOX_PK_BYTES);
	assert_int_equal(pl_box_seal(&blob, &blob_len, r->commit, salt, (const uint8_t *)body,
	                             strlen(body), (const uint8_t(*)[PL_BOX_PK_BYTES])readers, 1),
	                 0);
	/* No payload line: nothing to open. */
	assert_int_equal(
	        pl_member_payload_open(&plain, &plain_len, got_salt, r, blob, blob_len, &f->enc[0]),
	        PL_EINVAL);
	r->has = PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT;
	pl_box_hash(r->payload, blob, blob_len);
	r->payload_size = blob_len;
	assert_int_equal(
	        pl_member_payload_open(&plain, &plain_len, got_salt, r, blob, blob_len, &f->enc[0]),
	        0);
	assert_int_equal(plain_len, strlen(body));
	assert_memory_equal(plain, body, plain_len);
	assert_memory_equal(got_salt, salt, sizeof(salt));
	pl_box_plaintext_free(plain, plain_len);
	plain = NULL;
	/* Not the size the record says. */
	assert_int_equal(pl_member_payload_open(&plain, &plain_len, got_salt, r, blob, blob_len - 1,
	                                        &f->enc[0]),
	                 PL_ERANGE);
	assert_null(plain);
	/* Sealed to others only. */
	assert_int_equal(
	        pl_member_payload_open(&plain, &plain_len, got_salt, r, blob, blob_len, &f->enc[1]),
	        PL_ENOTFOUND);
	/* Another commitment: evidence against the author. */
	r->commit[0] ^= 1;
	assert_int_equal(
	        pl_member_payload_open(&plain, &plain_len, got_salt, r, blob, blob_len, &f->enc[0]),
	        PL_ECOMMIT);
	assert_null(plain);
	free(blob);
}

static void test_to_add(void **state)
{
	struct pl_record *r = ((struct fixture *)*state)->scratch;
	char name[16];

	memset(r, 0, sizeof(*r));
	assert_int_equal(pl_member_to_add(r, "unc"), 0);
	assert_int_equal(pl_member_to_add(r, "dprk"), 0);
	assert_int_equal(pl_member_to_add(r, "kpa"), 0);
	assert_int_equal(r->nto, 3);
	assert_string_equal(r->to[0], "dprk");
	assert_string_equal(r->to[1], "kpa");
	assert_string_equal(r->to[2], "unc");
	assert_int_equal(pl_member_to_add(r, "kpa"), PL_EEXIST);
	assert_int_equal(pl_member_to_add(r, "Kpa"), PL_EINVAL);
	assert_int_equal(pl_member_to_add(r, ""), PL_EINVAL);
	assert_int_equal(pl_member_to_add(r, "-kpa"), PL_EINVAL);
	assert_int_equal(pl_member_to_add(r, "exchange"), PL_EINVAL);
	assert_int_equal(r->nto, 3);
	for (int i = 0; r->nto < PL_RECORD_MAX_TO; i++) {
		snprintf(name, sizeof(name), "p%02d", i);
		assert_int_equal(pl_member_to_add(r, name), 0);
	}
	assert_int_equal(pl_member_to_add(r, "zz"), PL_ETOOBIG);
	for (size_t i = 1; i < r->nto; i++)
		assert_true(strcmp(r->to[i - 1], r->to[i]) < 0);
}

static void test_ref_add(void **state)
{
	struct pl_record *r = ((struct fixture *)*state)->scratch;
	uint8_t a[PL_RECORD_ID_BYTES], b[PL_RECORD_ID_BYTES];

	memset(r, 0, sizeof(*r));
	memset(a, 0xaa, sizeof(a));
	memset(b, 0x11, sizeof(b));
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_CITES, a), 0);
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_SUBJECT, b), 0);
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_CITES, b), 0);
	/* Ordered by their text: "cites 11…", "cites aa…", "subject 11…". */
	assert_int_equal(r->nrefs, 3);
	assert_int_equal(r->refs[0].role, PL_ROLE_CITES);
	assert_memory_equal(r->refs[0].id, b, sizeof(b));
	assert_int_equal(r->refs[1].role, PL_ROLE_CITES);
	assert_memory_equal(r->refs[1].id, a, sizeof(a));
	assert_int_equal(r->refs[2].role, PL_ROLE_SUBJECT);
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_CITES, a), PL_EEXIST);
	assert_int_equal(r->nrefs, 3);
	for (uint8_t i = 0; r->nrefs < PL_RECORD_MAX_REFS; i++) {
		memset(a, i, sizeof(a));
		assert_int_equal(pl_member_ref_add(r, PL_ROLE_REPLY_TO, a), 0);
	}
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_CHECK, a), PL_ETOOBIG);
	/* The subject, last in order, is what the act is about. */
	assert_ptr_equal(pl_member_act_subject(r), &r->refs[r->nrefs - 1]);
}

static void test_place(void **state)
{
	struct pl_record *r = ((struct fixture *)*state)->scratch;
	struct pl_state_head h;

	memset(r, 0, sizeof(*r));
	memset(&h, 0, sizeof(h));
	/* The chain's first record: no prev, the clock's time. */
	r->has = PL_RECORD_HAS_PREV;
	memset(r->prev, 7, sizeof(r->prev));
	assert_int_equal(pl_member_place(r, ORIGIN, "kpa", &h, 1000, 0), 0);
	assert_string_equal(r->exchange, ORIGIN);
	assert_string_equal(r->author, "kpa");
	assert_int_equal(r->seq, 1);
	assert_false(r->has & PL_RECORD_HAS_PREV);
	assert_int_equal(r->prev[0], 0);
	assert_int_equal(r->time, 1000);
	/* After a head: its id, never before its time nor the records referred to. */
	h.seq = 4;
	memset(h.id, 9, sizeof(h.id));
	h.time = 2000;
	assert_int_equal(pl_member_place(r, ORIGIN, "kpa", &h, 1000, 0), 0);
	assert_int_equal(r->seq, 5);
	assert_true(r->has & PL_RECORD_HAS_PREV);
	assert_memory_equal(r->prev, h.id, sizeof(h.id));
	assert_int_equal(r->time, 2000);
	assert_int_equal(pl_member_place(r, ORIGIN, "kpa", &h, 1000, 3000), 0);
	assert_int_equal(r->time, 3000);
	assert_int_equal(pl_member_place(r, ORIGIN, "kpa", &h, 4000, 3000), 0);
	assert_int_equal(r->time, 4000);
	/* A deadline must come after the record's time. */
	r->has |= PL_RECORD_HAS_DEADLINE;
	r->deadline = 4000;
	assert_int_equal(pl_member_place(r, ORIGIN, "kpa", &h, 4000, 0), PL_ERANGE);
	r->deadline = 4001;
	assert_int_equal(pl_member_place(r, ORIGIN, "kpa", &h, 4000, 0), 0);
	/* A head's time of 0 with seq 0 never holds the clock back. */
	memset(&h, 0, sizeof(h));
	r->has = 0;
	assert_int_equal(pl_member_place(r, ORIGIN, "kpa", &h, 5, 0), 0);
	assert_int_equal(r->time, 5);
}

static void test_act_subject(void **state)
{
	struct pl_record *r = ((struct fixture *)*state)->scratch;
	uint8_t id[PL_RECORD_ID_BYTES];

	memset(r, 0, sizeof(*r));
	memset(id, 1, sizeof(id));
	assert_null(pl_member_act_subject(r));
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_CITES, id), 0);
	assert_null(pl_member_act_subject(r));
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_CHECK, id), 0);
	assert_int_equal(pl_member_act_subject(r)->role, PL_ROLE_CHECK);
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_CONSULT, id), 0);
	assert_int_equal(pl_member_act_subject(r)->role, PL_ROLE_CONSULT);
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_SUBJECT, id), 0);
	assert_int_equal(pl_member_act_subject(r)->role, PL_ROLE_SUBJECT);
}

/* A record of kind k by kpa at 2025-11-17T01:00:00Z, with nothing else. */
static void blank(struct pl_record *r, enum pl_record_kind k)
{
	memset(r, 0, sizeof(*r));
	r->kind = k;
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", "kpa");
	r->seq = 3;
	r->time = 1763341200;
}

static void body(struct pl_record *r, const char *text)
{
	r->has |= PL_RECORD_HAS_BODY;
	r->body_len = strlen(text);
	memcpy(r->body, text, r->body_len + 1);
}

static void expect_summary(const struct pl_record *r, const char *want)
{
	struct pl_buf b;

	pl_buf_init(&b, 4096);
	assert_int_equal(pl_buf_adds(&b, ">"), 0);
	assert_int_equal(pl_member_record_summary(r, &b), 0);
	assert_int_equal(pl_buf_add(&b, "", 1), 0);
	assert_string_equal(b.data + 1, want);
	pl_buf_release(&b);
}

static void test_record_summary(void **state)
{
	struct pl_record *r = ((struct fixture *)*state)->scratch;
	uint8_t a[PL_RECORD_ID_BYTES], c[PL_RECORD_ID_BYTES];

	memset(a, 0x11, sizeof(a));
	memset(c, 0x3f, sizeof(c));
	blank(r, PL_KIND_SEND);
	r->has = PL_RECORD_HAS_CLASS | PL_RECORD_HAS_VIA | PL_RECORD_HAS_DEADLINE;
	r->cls = PL_CLASS_PROPOSAL;
	assert_int_equal(pl_member_to_add(r, "unc"), 0);
	assert_int_equal(pl_member_to_add(r, "dprk"), 0);
	snprintf(r->via, sizeof(r->via), "%s", "rok-mnd");
	r->deadline = 1763942400;
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_REPLY_TO, a), 0);
	expect_summary(r, "proposal to dprk,unc via rok-mnd replying to 1111111111111111, reply "
	                  "by 2025-11-24T00:00:00Z");
	r->kind = PL_KIND_CONSULT;
	r->has &= ~(unsigned)PL_RECORD_HAS_VIA;
	expect_summary(r, "draft to dprk,unc replying to 1111111111111111, advise by "
	                  "2025-11-24T00:00:00Z");
	blank(r, PL_KIND_STATEMENT);
	r->has = PL_RECORD_HAS_CLASS;
	r->cls = PL_CLASS_STATEMENT;
	body(r, "We stand by the hotline.\n");
	expect_summary(r, "We stand by the hotline.");
	body(r, "First line.\nSecond line.\n");
	expect_summary(r, "First line....");
	r->cls = PL_CLASS_MEASURE;
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_CITES, c), 0);
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_CITES, a), 0);
	body(r, "0123456789012345678901234567890123456789012345678901234567890123456789\n");
	expect_summary(r, "measure citing 1111111111111111,3f3f3f3f3f3f3f3f: "
	                  "012345678901234567890123456789012345678901234567890123456789...");
	r->cls = PL_CLASS_STATEMENT;
	expect_summary(r, "citing 1111111111111111,3f3f3f3f3f3f3f3f: "
	                  "012345678901234567890123456789012345678901234567890123456789...");
	blank(r, PL_KIND_ADVISE);
	r->has = PL_RECORD_HAS_POSITION | PL_RECORD_HAS_REASON;
	r->position = PL_POSITION_OBJECT;
	snprintf(r->reason, sizeof(r->reason), "%s", "Too soon");
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_CONSULT, c), 0);
	expect_summary(r, "object on 3f3f3f3f3f3f3f3f: Too soon");
	blank(r, PL_KIND_DECLINE);
	r->has = PL_RECORD_HAS_REASON;
	snprintf(r->reason, sizeof(r->reason), "%s", "Outside the remit");
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_SUBJECT, a), 0);
	expect_summary(r, "of 1111111111111111: Outside the remit");
	blank(r, PL_KIND_AVAILABLE);
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_SUBJECT, a), 0);
	assert_int_equal(pl_member_to_add(r, "unc"), 0);
	r->has = PL_RECORD_HAS_VIA;
	snprintf(r->via, sizeof(r->via), "%s", "rok-mnd");
	expect_summary(r, "of 1111111111111111 to unc via rok-mnd");
	blank(r, PL_KIND_CHECK);
	r->has = PL_RECORD_HAS_LINE;
	snprintf(r->line, sizeof(r->line), "%s", "red");
	expect_summary(r, "line red");
	assert_int_equal(pl_member_to_add(r, "unc"), 0);
	expect_summary(r, "line red to unc");
	blank(r, PL_KIND_REVOKE);
	r->has = PL_RECORD_HAS_PARTY;
	snprintf(r->party, sizeof(r->party), "%s", "dprk");
	expect_summary(r, "party dprk");
}

static void test_record_json(void **state)
{
	struct pl_record *r = ((struct fixture *)*state)->scratch;
	uint8_t a[PL_RECORD_ID_BYTES];
	const char *text = "the signed text\n";
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	json_t *o, *v;

	memset(a, 0x11, sizeof(a));
	blank(r, PL_KIND_SEND);
	r->has = PL_RECORD_HAS_CLASS | PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT |
	         PL_RECORD_HAS_DEADLINE;
	r->cls = PL_CLASS_LETTER;
	r->deadline = 1763942400;
	r->payload_size = 321;
	assert_int_equal(pl_member_to_add(r, "unc"), 0);
	assert_int_equal(pl_member_ref_add(r, PL_ROLE_REPLY_TO, a), 0);
	o = pl_member_record_json(r, 7, text, strlen(text));
	assert_non_null(o);
	pl_record_id(a, text, strlen(text));
	pl_record_id_format(hex, a);
	assert_int_equal(json_integer_value(json_object_get(o, "index")), 7);
	assert_string_equal(json_string_value(json_object_get(o, "id")), hex);
	assert_string_equal(json_string_value(json_object_get(o, "time")), "2025-11-17T01:00:00Z");
	assert_string_equal(json_string_value(json_object_get(o, "author")), "kpa");
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 3);
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "send");
	assert_string_equal(json_string_value(json_object_get(o, "class")), "letter");
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "to"), 0)), "unc");
	assert_string_equal(json_string_value(json_object_get(o, "deadline")),
	                    "2025-11-24T00:00:00Z");
	v = json_array_get(json_object_get(o, "refs"), 0);
	assert_string_equal(json_string_value(json_object_get(v, "role")), "reply-to");
	assert_string_equal(json_string_value(json_object_get(v, "id")),
	                    "1111111111111111111111111111111111111111111111111111111111111111");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "payload"), "size")),
	                 321);
	assert_non_null(json_object_get(o, "commit"));
	assert_null(json_object_get(o, "via"));
	assert_null(json_object_get(o, "reason"));
	assert_string_equal(json_string_value(json_object_get(o, "record")), text);
	json_decref(o);
	/* No index when it is not known. */
	o = pl_member_record_json(r, UINT64_MAX, text, strlen(text));
	assert_non_null(o);
	assert_null(json_object_get(o, "index"));
	json_decref(o);
}

static void test_payload_put_fails(void **state)
{
	struct fixture *f = *state;
	struct pl_record *r = f->scratch;
	struct pl_client *c = NULL;
	uint8_t readers[1][PL_BOX_PK_BYTES], salt[PL_BOX_SALT_BYTES];
	const char *stage = NULL;

	/* Nothing listens on port 1 of the loopback: the upload fails, r keeps its lines. */
	assert_int_equal(pl_client_new(&c, "http://127.0.0.1:1", NULL, NULL), 0);
	memset(r, 0, sizeof(*r));
	memcpy(readers[0], f->enc[0].pk, PL_BOX_PK_BYTES);
	assert_int_not_equal(pl_member_payload_put(c, r, (const uint8_t *)"body\n", 5,
	                                           (const uint8_t(*)[PL_BOX_PK_BYTES])readers, 1,
	                                           salt, &stage),
	                     0);
	assert_string_equal(stage, "upload");
	assert_int_equal(r->has, 0);
	assert_int_equal(r->payload_size, 0);
	/* No reader: nothing to seal, nothing sent. */
	assert_int_not_equal(pl_member_payload_put(c, r, (const uint8_t *)"body\n", 5,
	                                           (const uint8_t(*)[PL_BOX_PK_BYTES])readers, 0,
	                                           salt, &stage),
	                     0);
	assert_string_equal(stage, "seal");
	assert_int_equal(r->has, 0);
	pl_client_free(c);
}

/* Reads a whole small file into out (NUL-terminated). Returns its length. */
static size_t slurp(const char *path, char *out, size_t cap)
{
	FILE *fp = fopen(path, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(out, 1, cap - 1, fp);
	out[n] = '\0';
	fclose(fp);
	return n;
}

static void test_evidence_save(void **state)
{
	struct fixture *f = *state;
	struct pl_client_split sp;
	struct pl_buf want;
	struct stat st;
	char dir[256], st_path[300], path[PL_PROFILE_PATH_MAX + 1], want_path[400];
	char got[16384];
	const char *base = getenv("TMPDIR"), *stage = NULL;

	snprintf(dir, sizeof(dir), "%s/pl-member-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(st_path, sizeof(st_path), "%s/state.db", dir);
	memset(&sp, 0, sizeof(sp));
	snprintf(sp.reason, sizeof(sp.reason), "%s", "same size, different roots");
	sp.detected = 1763341200;
	snprintf(sp.exchange, sizeof(sp.exchange), "%s", "http://127.0.0.1:1");
	sp.seen.size = sp.given.size = 5;
	sp.given.root[0] = 1;
	assert_int_equal(pl_member_evidence_save(&sp, &f->log_vk, st_path, path, &stage), 0);
	snprintf(want_path, sizeof(want_path), "%s/split-view-20251117T010000Z.txt", dir);
	assert_string_equal(path, want_path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* The file is the evidence's format, with the pinned log key's text. */
	pl_buf_init(&want, 16384);
	assert_int_equal(pl_client_split_format(&sp, &want), 0);
	assert_int_equal(slurp(path, got, sizeof(got)), want.len);
	assert_memory_equal(got, want.data, want.len);
	assert_non_null(strstr(got, f->log_vk.name));
	/* A second detection in the same second: a new file, the first one kept. */
	assert_int_equal(pl_member_evidence_save(&sp, &f->log_vk, st_path, path, &stage), 0);
	snprintf(want_path, sizeof(want_path), "%s/split-view-20251117T010000Z-2.txt", dir);
	assert_string_equal(path, want_path);
	assert_int_equal(unlink(path), 0);
	snprintf(want_path, sizeof(want_path), "%s/split-view-20251117T010000Z.txt", dir);
	assert_int_equal(unlink(want_path), 0);
	/* No directory in the state path; a directory that is not there. */
	assert_int_equal(pl_member_evidence_save(&sp, &f->log_vk, "state.db", path, &stage),
	                 PL_EINVAL);
	snprintf(st_path, sizeof(st_path), "%s/gone/state.db", dir);
	assert_int_equal(pl_member_evidence_save(&sp, &f->log_vk, st_path, path, &stage), PL_EIO);
	assert_string_equal(stage, "create");
	assert_int_equal(rmdir(dir), 0);
	pl_buf_release(&want);
}

/*
 * An index whose map holds, under the key 0x11..., the entries (3, a1...)
 * and (7, a2...), and under 0x22... the entry (5, b1...): its root, and the
 * proof text of key under it (entries as the map holds them).
 */
static void index_proof(const uint8_t key[static PL_HASH_BYTES], uint8_t root[PL_HASH_BYTES],
                        struct pl_buf *text)
{
	struct pl_tindex_ref refs[3];
	struct pl_tindex_entry ents[2];
	struct pl_tindex_memstore *m;
	struct pl_tindex_store st;
	struct pl_tindex_proof *p = NULL;
	struct pl_tindex *t;
	size_t n = 0;

	memset(refs, 0, sizeof(refs));
	memset(refs[0].key, 0x11, PL_HASH_BYTES);
	memset(refs[0].id, 0xa1, PL_HASH_BYTES);
	refs[0].index = 3;
	memset(refs[1].key, 0x11, PL_HASH_BYTES);
	memset(refs[1].id, 0xa2, PL_HASH_BYTES);
	refs[1].index = 7;
	memset(refs[2].key, 0x22, PL_HASH_BYTES);
	memset(refs[2].id, 0xb1, PL_HASH_BYTES);
	refs[2].index = 5;
	assert_int_equal(pl_tindex_memstore_new(&m), 0);
	st = pl_tindex_memstore_store(m);
	assert_int_equal(pl_tindex_open(&t, &st), 0);
	assert_int_equal(pl_tindex_update(t, refs, 3), 0);
	for (size_t i = 0; i < 3; i++) {
		if (memcmp(refs[i].key, key, PL_HASH_BYTES) != 0)
			continue;
		ents[n].index = refs[i].index;
		memcpy(ents[n++].id, refs[i].id, PL_HASH_BYTES);
	}
	assert_int_equal(pl_tindex_prove(t, key, ents, n, &p), 0);
	assert_int_equal(pl_tindex_proof_format(text, p), 0);
	pl_tindex_root(t, root);
	pl_tindex_proof_free(p);
	pl_tindex_free(t);
	pl_tindex_memstore_free(m);
}

/* Whether an index proof lists a member's record: the table of the verdicts. */
static void test_index_judge(void **state)
{
	static const struct {
		uint8_t key, id;
		uint64_t index;
		bool bad_root, cut;
		enum pl_member_index_verdict want;
	} cases[] = {
	        {0x11, 0xa1, 3, false, false, PL_MEMBER_INDEX_LISTED},
	        {0x11, 0xa2, 7, false, false, PL_MEMBER_INDEX_LISTED},
	        {0x22, 0xb1, 5, false, false, PL_MEMBER_INDEX_LISTED},
	        {0x11, 0xa3, 9, false, false, PL_MEMBER_INDEX_OMITTED},  /* not listed */
	        {0x33, 0xc1, 4, false, false, PL_MEMBER_INDEX_OMITTED},  /* key absent */
	        {0x11, 0xa3, 7, false, false, PL_MEMBER_INDEX_INVENTED}, /* another id at 7 */
	        {0x11, 0xa1, 4, false, false, PL_MEMBER_INDEX_INVENTED}, /* its id at another */
	        {0x11, 0xa1, 3, true, false, PL_MEMBER_INDEX_UNPROVEN},  /* another root */
	        {0x11, 0xa1, 3, false, true, PL_MEMBER_INDEX_UNPROVEN},  /* does not parse */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t key[PL_HASH_BYTES], id[PL_HASH_BYTES], root[PL_HASH_BYTES];
		struct pl_buf text;
		pl_buf_init(&text, PL_TINDEX_PROOF_MAX_BYTES);
		memset(key, cases[i].key, sizeof(key));
		memset(id, cases[i].id, sizeof(id));
		index_proof(key, root, &text);
		root[0] ^= cases[i].bad_root;
		if (pl_member_index_judge(text.data, text.len - cases[i].cut, key, root,
		                          cases[i].index, id) != cases[i].want)
			fail_msg("case %zu", i);
		pl_buf_release(&text);
	}
	assert_string_equal(pl_member_index_verdict_name(PL_MEMBER_INDEX_OMITTED), "omission");
	assert_string_equal(pl_member_index_verdict_name(PL_MEMBER_INDEX_INVENTED), "invention");
}

/* The evidence of an omission: its text, byte for byte, and its file. */
static void test_index_lie(void **state)
{
	static const char want[] =
	        "parley/index-lie/v1\n"
	        "exchange http://127.0.0.1:1\n"
	        "log-key hotline.example+12345678+AAAA\n"
	        "detected 2025-11-17T01:00:00Z\n"
	        "reason omission\n"
	        "key 3333333333333333333333333333333333333333333333333333333333333333\n"
	        "record 4 c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1\n"
	        "index 9\n"
	        "\n"
	        "index-record bytes 3\nIR\n\n"
	        "index-inclusion bytes 3\nIP\n\n"
	        "tindex-proof bytes 3\nTP\n\n"
	        "record bytes 2\nR\n\n"
	        "record-inclusion bytes 3\nRP\n\n";
	struct pl_member_index_lie e = {
	        .exchange = "http://127.0.0.1:1",
	        .log_key = "hotline.example+12345678+AAAA",
	        .detected = 1763341200,
	        .verdict = PL_MEMBER_INDEX_OMITTED,
	        .index = 4,
	        .index_at = 9,
	        .index_record = "IR\n",
	        .index_record_len = 3,
	        .index_inclusion = "IP\n",
	        .index_inclusion_len = 3,
	        .tindex_proof = "TP\n",
	        .tindex_proof_len = 3,
	        .record = "R\n",
	        .record_len = 2,
	        .record_inclusion = "RP\n",
	        .record_inclusion_len = 3,
	};
	char dir[256], st_path[300], path[PL_PROFILE_PATH_MAX + 1], want_path[400], got[1024];
	const char *base = getenv("TMPDIR"), *stage = NULL;
	struct pl_buf out;
	struct stat st;

	(void)state;
	memset(e.key, 0x33, PL_HASH_BYTES);
	memset(e.id, 0xc1, PL_HASH_BYTES);
	pl_buf_init(&out, 4096);
	assert_int_equal(pl_member_index_lie_format(&e, &out), 0);
	assert_int_equal(out.len, sizeof(want) - 1);
	assert_memory_equal(out.data, want, out.len);
	/* What is not evidence, or not whole, is refused and nothing is written. */
	pl_buf_reset(&out);
	e.verdict = PL_MEMBER_INDEX_UNPROVEN;
	assert_int_equal(pl_member_index_lie_format(&e, &out), PL_EINVAL);
	e.verdict = PL_MEMBER_INDEX_INVENTED;
	e.record_len = 1;
	assert_int_equal(pl_member_index_lie_format(&e, &out), PL_EINVAL);
	e.record_len = 2;
	e.exchange = "http://x\nreason forged";
	assert_int_equal(pl_member_index_lie_format(&e, &out), PL_EINVAL);
	e.exchange = "http://127.0.0.1:1";
	e.index = 9;
	assert_int_equal(pl_member_index_lie_format(&e, &out), PL_EINVAL);
	assert_int_equal(out.len, 0);
	e.index = 4;
	e.verdict = PL_MEMBER_INDEX_OMITTED;
	/* The file beside the local state. */
	snprintf(dir, sizeof(dir), "%s/pl-member-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(st_path, sizeof(st_path), "%s/state.db", dir);
	assert_int_equal(pl_member_index_lie_save(&e, st_path, path, &stage), 0);
	snprintf(want_path, sizeof(want_path), "%s/index-lie-20251117T010000Z.txt", dir);
	assert_string_equal(path, want_path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(slurp(path, got, sizeof(got)), sizeof(want) - 1);
	assert_memory_equal(got, want, sizeof(want) - 1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	pl_buf_release(&out);
}

/*
 * A log of two entries: kpa's statement citing 0x33... (#0), then the
 * exchange's index record (#1), whose root lists the statement under that
 * key, or (lie) leaves it out. The source serves them as an exchange would.
 */
struct ilog {
	struct pl_buf rec[2], note, rc_proof;
	uint8_t id[2][PL_HASH_BYTES], leaf[2][PL_HASH_BYTES], key[PL_HASH_BYTES];
	struct pl_record mine;
	struct pl_receipt rc;
	struct pl_skey *log_sk;
	bool lie;
	int fail_at; /* 1 record_at, 2 inclusion, 3 index_proof fail with PL_ENET */
};

static int ilog_record_at(void *ctx, uint64_t index, struct pl_buf *out)
{
	struct ilog *l = ctx;

	if (l->fail_at == 1)
		return PL_ENET;
	assert_true(index < 2);
	return pl_buf_add(out, l->rec[index].data, l->rec[index].len);
}

static int ilog_inclusion(void *ctx, const char *hex, uint64_t size, struct pl_buf *out)
{
	struct ilog *l = ctx;
	char want[PL_HASH_HEX_LEN + 1];

	if (l->fail_at == 2)
		return PL_ENET;
	assert_int_equal(size, 2);
	pl_hex_encode(want, l->id[1], PL_HASH_BYTES);
	assert_string_equal(hex, want);
	return pl_proof_format(out, 1, NULL, 0, (const uint8_t(*)[PL_HASH_BYTES])l->leaf[0], 1,
	                       l->note.data, l->note.len);
}

static int ilog_index_proof(void *ctx, const uint8_t key[static PL_HASH_BYTES], uint64_t size,
                            struct pl_buf *out)
{
	struct ilog *l = ctx;
	struct pl_tindex_memstore *m;
	struct pl_tindex_store st;
	struct pl_tindex_proof *p = NULL;
	struct pl_tindex_entry e = {.index = 0};
	struct pl_tindex_ref ref = {.index = 0};
	struct pl_tindex *t;
	int err;

	if (l->fail_at == 3)
		return PL_ENET;
	assert_int_equal(size, 2);
	memcpy(ref.key, l->key, PL_HASH_BYTES);
	memcpy(ref.id, l->id[0], PL_HASH_BYTES);
	memcpy(e.id, l->id[0], PL_HASH_BYTES);
	assert_int_equal(pl_tindex_memstore_new(&m), 0);
	st = pl_tindex_memstore_store(m);
	assert_int_equal(pl_tindex_open(&t, &st), 0);
	if (!l->lie)
		assert_int_equal(pl_tindex_update(t, &ref, 1), 0);
	assert_int_equal(pl_tindex_prove(t, key, &e, l->lie ? 0 : 1, &p), 0);
	err = pl_tindex_proof_format(out, p);
	pl_tindex_proof_free(p);
	pl_tindex_free(t);
	pl_tindex_memstore_free(m);
	return err;
}

static void ilog_build(struct fixture *f, struct ilog *l, bool lie)
{
	struct pl_record *r = f->scratch;
	struct pl_tindex_memstore *m;
	struct pl_tindex_store st;
	struct pl_tindex_ref ref = {.index = 0};
	struct pl_tindex *t;
	struct pl_checkpoint cp;
	uint8_t root[PL_HASH_BYTES];

	memset(l, 0, sizeof(*l));
	l->lie = lie;
	memset(l->key, 0x33, PL_HASH_BYTES);
	for (int i = 0; i < 2; i++)
		pl_buf_init(&l->rec[i], PL_RECORD_MAX_BYTES);
	pl_buf_init(&l->note, PL_NOTE_MAX_BYTES);
	pl_buf_init(&l->rc_proof, PL_TLOG_PROOF_MAX_BYTES);
	memset(r, 0, sizeof(*r));
	r->kind = PL_KIND_STATEMENT;
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", names[0]);
	r->seq = 1;
	r->time = 1763341200;
	r->has = PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
	r->cls = PL_CLASS_STATEMENT;
	r->body_len = (size_t)snprintf(r->body, sizeof(r->body), "On the record.\n");
	pl_test_add_ref(r, PL_ROLE_CITES, l->key);
	assert_int_equal(pl_record_sign(&l->rec[0], r, &f->sk[0], 1, NULL), 0);
	l->mine = *r;
	pl_record_id(l->id[0], l->rec[0].data, l->rec[0].len);
	/* The exchange's index: what it commits to for the log below #1. */
	memcpy(ref.key, l->key, PL_HASH_BYTES);
	memcpy(ref.id, l->id[0], PL_HASH_BYTES);
	assert_int_equal(pl_tindex_memstore_new(&m), 0);
	st = pl_tindex_memstore_store(m);
	assert_int_equal(pl_tindex_open(&t, &st), 0);
	if (!lie)
		assert_int_equal(pl_tindex_update(t, &ref, 1), 0);
	memset(r, 0, sizeof(*r));
	r->kind = PL_KIND_INDEX;
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", PL_RECORD_EXCHANGE);
	r->seq = 1;
	r->time = 1763341201;
	r->has = PL_RECORD_HAS_ROOT;
	pl_tindex_root(t, r->index_root);
	pl_tindex_free(t);
	pl_tindex_memstore_free(m);
	assert_int_equal(pl_record_sign(&l->rec[1], r, &f->log_sk, 1, NULL), 0);
	pl_record_id(l->id[1], l->rec[1].data, l->rec[1].len);
	for (int i = 0; i < 2; i++)
		pl_tlog_leaf_hash(l->leaf[i], l->rec[i].data, l->rec[i].len);
	pl_tlog_node_hash(root, l->leaf[0], l->leaf[1]);
	assert_int_equal(pl_checkpoint_set(&cp, ORIGIN, 2, root), 0);
	assert_int_equal(pl_checkpoint_sign(&l->note, &cp, &f->log_sk), 0);
	assert_int_equal(pl_proof_format(&l->rc_proof, 0, NULL, 0,
	                                 (const uint8_t(*)[PL_HASH_BYTES])l->leaf[1], 1,
	                                 l->note.data, l->note.len),
	                 0);
	l->rc.index = 0;
	l->rc.size = 2;
	memcpy(l->rc.id, l->id[0], PL_HASH_BYTES);
	l->rc.proof = l->rc_proof.data;
	l->rc.proof_len = l->rc_proof.len;
	l->rc.checkpoint = l->note.data;
	l->rc.checkpoint_len = l->note.len;
}

static void ilog_release(struct ilog *l)
{
	for (int i = 0; i < 2; i++)
		pl_buf_release(&l->rec[i]);
	pl_buf_release(&l->note);
	pl_buf_release(&l->rc_proof);
}

static int ilog_check(struct fixture *f, struct ilog *l, struct pl_member_index_found *found)
{
	const struct pl_member_index_source src = {.ctx = l,
	                                           .record_at = ilog_record_at,
	                                           .inclusion = ilog_inclusion,
	                                           .index_proof = ilog_index_proof};

	return pl_member_index_check(&src, &l->rc, &l->mine, l->rec[0].data, l->rec[0].len, ORIGIN,
	                             &f->log_vk, found);
}

/* The first index after a member's record, fetched and judged: honest, then lying. */
static void test_index_check(void **state)
{
	struct fixture *f = *state;
	static struct ilog l;
	struct pl_member_index_found found;

	ilog_build(f, &l, false);
	assert_int_equal(ilog_check(f, &l, &found), 0);
	assert_int_equal(found.verdict, PL_MEMBER_INDEX_LISTED);
	assert_int_equal(found.nkeys, 1);
	assert_int_equal(found.index_at, 1);
	pl_member_index_found_release(&found);
	/* The source fails: its error, as is. */
	for (l.fail_at = 1; l.fail_at <= 3; l.fail_at++) {
		assert_int_equal(ilog_check(f, &l, &found), PL_ENET);
		pl_member_index_found_release(&found);
	}
	/* The record is the checkpoint's last entry: there is no index after it. */
	l.fail_at = 0;
	l.rc.index = 1;
	assert_int_equal(ilog_check(f, &l, &found), PL_ERANGE);
	pl_member_index_found_release(&found);
	ilog_release(&l);
	/* The index leaves the statement out: the evidence is kept whole. */
	ilog_build(f, &l, true);
	assert_int_equal(ilog_check(f, &l, &found), 0);
	assert_int_equal(found.verdict, PL_MEMBER_INDEX_OMITTED);
	assert_memory_equal(found.key, l.key, PL_HASH_BYTES);
	assert_int_equal(found.index_record.len, l.rec[1].len);
	assert_memory_equal(found.index_record.data, l.rec[1].data, l.rec[1].len);
	assert_non_null(strstr(found.index_inclusion.data, "index 1\n"));
	assert_non_null(strstr(found.tindex_proof.data, "parley/tindex-proof/v1\nkey 3333"));
	pl_member_index_found_release(&found);
	ilog_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_party_check),       cmocka_unit_test(test_directory),
	        cmocka_unit_test(test_record_open),       cmocka_unit_test(test_id_arg),
	        cmocka_unit_test(test_proof_check),       cmocka_unit_test(test_receipt_check),
	        cmocka_unit_test(test_payload_open),      cmocka_unit_test(test_to_add),
	        cmocka_unit_test(test_ref_add),           cmocka_unit_test(test_place),
	        cmocka_unit_test(test_act_subject),       cmocka_unit_test(test_record_summary),
	        cmocka_unit_test(test_record_json),       cmocka_unit_test(test_evidence_save),
	        cmocka_unit_test(test_payload_put_fails), cmocka_unit_test(test_index_judge),
	        cmocka_unit_test(test_index_lie),         cmocka_unit_test(test_previous),
	        cmocka_unit_test(test_index_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
