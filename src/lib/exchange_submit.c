/* Submissions and receipts: records, payloads, cosignatures and party operations. */
#include <parley/exchange.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <parley/box.h>
#include <parley/note.h>
#include <parley/party.h>
#include <parley/proof.h>
#include <parley/record.h>
#include <parley/replay.h>
#include <parley/tlog.h>

#include "exchange_int.h"
#include "internal.h"
#include "store.h"

/*
 * Assembles a receipt: the one place that does, for the batch (rd reads its
 * hashes in memory) and for the store. The tlog-proof of the record at
 * index, whose id is given, read through rd, under the signed checkpoint
 * cp[0..cplen) at tree size size. When take is not NULL, *take is cp as a
 * malloc'd string and is taken on success (*take set to NULL); else cp is
 * copied. On success fills *out (pl_receipt_release()); else *out untouched.
 * Thread: the sequencer's (the batch's hashes in memory) or any reader's (the store).
 */
int pl__ex_receipt_make(struct pl_tlog_reader *rd, uint64_t index,
                        const uint8_t id[static PL_HASH_BYTES], uint64_t size, const char *cp,
                        size_t cplen, char **take, struct pl_receipt *out)
{
	struct pl_receipt r;
	struct pl_buf proof;
	int ret;

	memset(&r, 0, sizeof(r));
	pl_buf_init(&proof, PL_TLOG_PROOF_MAX_BYTES);
	ret = pl_proof_build(&proof, rd, index, NULL, 0, cp, cplen);
	if (ret == PL_EINVAL)
		ret = PL_ESTORE; /* our own checkpoint no longer parses: the store is damaged */
	if (ret)
		goto out;
	r.index = index;
	memcpy(r.id, id, PL_HASH_BYTES);
	r.size = size;
	r.proof = pl_buf_detach(&proof, &r.proof_len);
	if (r.proof && take) {
		r.checkpoint = *take;
		*take = NULL;
	} else if (r.proof && (r.checkpoint = malloc(cplen + 1)) != NULL) {
		memcpy(r.checkpoint, cp, cplen);
		r.checkpoint[cplen] = '\0';
	}
	if (!r.checkpoint) {
		pl_receipt_release(&r);
		ret = PL_ENOMEM;
		goto out;
	}
	r.checkpoint_len = cplen;
	*out = r;
out:
	pl_buf_release(&proof);
	return ret;
}

/* The receipt of the record at index under the checkpoint at size, read from the store s
 * (NULL: a reader's).
 * Thread: a submitter's, any reader's, or the sequencer's for an async item whose proof from memory
 * failed (ex_complete()).
 */
int pl__ex_receipt(struct pl_exchange *ex, struct pl_store *s, uint64_t index, uint64_t size,
                   struct pl_receipt *out)
{
	struct pl_store *own = NULL;
	struct pl_tlog_reader rd;
	struct pl_store_record meta;
	struct pl_buf cp;
	char *text = NULL;
	size_t len = 0;
	int ret;

	pl_buf_init(&cp, PL_CHECKPOINT_MAX_BYTES + 4096);
	if (!s)
		s = own = ex_reader_get(ex);
	ret = pl_store_record_get(s, index, &meta, NULL);
	if (!ret)
		ret = pl_store_checkpoint_get(s, size, NULL, &cp);
	if (!ret && !(text = pl_buf_detach(&cp, &len)))
		ret = PL_ENOMEM;
	if (!ret) {
		rd = pl_store_tlog_reader(s);
		ret = pl__ex_receipt_make(&rd, index, meta.id, size, text, len, &text, out);
	}
	ex_note_error(ex, s, ret);
	if (own)
		ex_reader_put(ex, own);
	free(text);
	pl_buf_release(&cp);
	return ret;
}

/*
 * The receipt of the published record at index, read and checked as a read of it is.
 * Thread: any reader's.
 */
int pl_exchange_receipt_get(struct pl_exchange *ex, uint64_t index, struct pl_receipt *out)
{
	struct pl_exchange_entry e;
	struct ex_anchor a;
	struct pl_store *s;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	ret = pl__ex_anchor(ex, &a);
	if (ret)
		return ret;
	memset(&e, 0, sizeof(e));
	s = ex_reader_get(ex);
	/* Read and checked as GET /records reads it: a damaged store answers no receipt. */
	ret = pl__ex_entry(ex, s, &a, index, &e);
	if (!ret)
		ret = pl__ex_receipt(ex, s, index, a.size, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	pl_exchange_entry_release(&e);
	return ret;
}

/*
 * The stateless check and the caller-side stateful check of a submission.
 * On success *itp is a new queued-to-be item owning a copy of the record.
 * Thread: a submitter's (an HTTP worker, POST /records).
 */
static int ex_prepare(struct pl_exchange *ex, const char *msg, size_t len,
                      const struct pl_exchange_done *done, struct ex_item **itp,
                      struct pl_exchange_refusal *why)
{
	struct ex_judge_ctx c = {.ex = ex, .from_store = false};
	struct ex_item *it = NULL;
	struct pl_vkey signer;
	struct pl_replay_view v;
	const char *w = NULL;
	int64_t now, skew;
	int ret;

	if (!msg || len == 0) {
		ret = PL_EMALFORMED;
		ex_refuse(why, "empty record");
		goto out;
	}
	if (len > PL_RECORD_MAX_BYTES) {
		ret = PL_ETOOBIG;
		ex_refuse(why, "record too large");
		goto out;
	}
	it = calloc(1, sizeof(*it));
	if (!it || !(it->rec = malloc(sizeof(*it->rec))) || !(it->msg = malloc(len + 1))) {
		ret = PL_ENOMEM;
		goto out;
	}
	memcpy(it->msg, msg, len);
	it->msg[len] = '\0';
	it->len = len;
	it->type = EX_RECORD;

	pthread_rwlock_rdlock(&ex->dir_lock);
	ret = pl_record_open(it->rec, it->id, &signer, it->msg, len, ex->keys, ex->nkeys, &w);
	pthread_rwlock_unlock(&ex->dir_lock);
	if (ret == PL_ENOKEY)
		ret = PL_EDENIED; /* not signed by a registered key: not a member */
	if (ret) {
		ex_refuse(why, w);
		goto out;
	}
	if (strcmp(it->rec->exchange, ex->origin) != 0) {
		ret = PL_ERULE;
		ex_refuse(why, "record is for another exchange");
		goto out;
	}
	if (strcmp(it->rec->author, PL_RECORD_EXCHANGE) == 0 ||
	    pl_record_kind_is_exchange(it->rec->kind)) {
		ret = PL_EDENIED;
		ex_refuse(why, "only the exchange authors this kind of record");
		goto out;
	}
	if (pl__ex_party_status(&c, it->rec->author) != PL_KEY_ACTIVE) {
		ret = PL_EDENIED;
		ex_refuse(why, "author is not an active member");
		goto out;
	}
	if (done && done->admit && !done->admit(done->arg, signer.name)) {
		ret = PL_ELIMIT;
		ex_refuse(why, "too many requests for this key");
		goto out;
	}
	now = ex_now(ex);
	skew = it->rec->time > now ? it->rec->time - now : now - it->rec->time;
	if (skew > (int64_t)ex->o.time_tolerance_s) {
		ret = PL_ERULE;
		ex_refuse(why, "record time too far from the exchange clock");
		goto out;
	}
	c.s = ex_reader_get(ex);
	ret = pl_store_begin(c.s);
	if (!ret)
		ret = pl__ex_judge(&c, it->rec, it->id, NULL, &v, why);
	ex_note_error(ex, c.s, ret);
	ex_reader_put(ex, c.s);
	if (ret)
		goto out;
	pl_replay_view_release(&v);
	*itp = it;
	it = NULL;
out:
	if (it) {
		free(it->msg);
		free(it->rec);
		free(it);
	}
	return ret;
}

/*
 * Judges a record here, has the sequencer append it, and waits for its receipt.
 * Thread: a submitter's (POST /records); it waits for the sequencer's batch.
 */
int pl_exchange_submit(struct pl_exchange *ex, const char *rec, size_t len, struct pl_receipt *out,
                       struct pl_exchange_refusal *why)
{
	struct pl_exchange_refusal tmp;
	struct ex_item *it = NULL;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	if (!why)
		why = &tmp;
	memset(why, 0, sizeof(*why));
	ret = ex_prepare(ex, rec, len, NULL, &it, why);
	if (ret)
		return ret;
	ret = pl__ex_run_sync(ex, it);
	if (ret == 0 && it->receipt.proof) {
		*out = it->receipt;
		memset(&it->receipt, 0, sizeof(it->receipt));
	} else if (ret == 0 && it->appended) {
		ret = pl__ex_receipt(ex, NULL, it->index, it->size, out);
	} else if (ret) {
		*why = it->why;
	}
	free(it->msg);
	free(it->rec);
	free(it);
	return ret;
}

/*
 * Judges a record here and queues it; done hears of it after the commit.
 * Thread: a submitter's (an HTTP worker); done runs there on a refusal, else on the sequencer.
 */
int pl_exchange_submit_async(struct pl_exchange *ex, const char *rec, size_t len,
                             const struct pl_exchange_done *done)
{
	struct pl_exchange_refusal why;
	struct ex_item *it = NULL;
	int ret;

	if (!ex || !done || !done->fn)
		return PL_EINVAL;
	memset(&why, 0, sizeof(why));
	ret = ex_prepare(ex, rec, len, done, &it, &why);
	if (!ret) {
		it->async = true;
		it->cb = *done;
		ret = pl__ex_enqueue(ex, it);
		if (ret) {
			ex_refuse(&why, "exchange is shutting down");
			free(it->msg);
			free(it->rec);
			free(it);
		}
	}
	if (ret)
		done->fn(done->arg, ret, NULL, &why);
	return ret;
}

/*
 * Stores a member's sealed blob: checked here, stored by the sequencer.
 * Thread: a submitter's; it waits for the sequencer's batch.
 */
int pl_exchange_payload_put(struct pl_exchange *ex, const char *uploader, const uint8_t *blob,
                            size_t len, uint8_t hash[static PL_HASH_BYTES])
{
	struct ex_item it;
	struct pl_box_info info;
	bool member;
	int ret;

	if (!ex || !uploader || (!blob && len))
		return PL_EINVAL;
	if (len > ex->o.payload_max)
		return PL_ETOOBIG;
	pthread_rwlock_rdlock(&ex->dir_lock);
	{
		size_t i = ex_dir_find(ex, uploader);
		member = i != PL_DIRECTORY_NONE && !ex->members[i].revoked;
	}
	pthread_rwlock_unlock(&ex->dir_lock);
	if (!member)
		return PL_EDENIED;
	ret = pl_box_parse(&info, blob, len);
	if (ret)
		return ret == PL_ETOOBIG ? PL_ETOOBIG : PL_EMALFORMED;
	memset(&it, 0, sizeof(it));
	it.type = EX_PAYLOAD;
	it.blob = blob;
	it.blob_len = len;
	it.uploader = uploader;
	pl_box_hash(it.hash, blob, len);
	ret = pl__ex_run_sync(ex, &it);
	if (!ret)
		memcpy(hash, it.hash, PL_HASH_BYTES);
	return ret;
}

/* Hands a blob to a party allowed to read it, checked against its name. Thread: any reader's. */
int pl_exchange_payload_get(struct pl_exchange *ex, const char *reader,
                            const uint8_t hash[static PL_HASH_BYTES], uint8_t **blob, size_t *len)
{
	struct pl_store *s;
	struct pl_store_payload info;
	uint8_t pk[PL_BOX_PK_BYTES];
	uint8_t *b = NULL;
	size_t n = 0;
	bool member = false, has_pk = false, allowed, reads_ref = false;
	struct pl_reader who;
	int ret;

	if (!ex || !reader || !blob || !len)
		return PL_EINVAL;
	who = pl__ex_reader(ex, reader);
	pthread_rwlock_rdlock(&ex->dir_lock);
	{
		size_t i = ex_dir_find(ex, reader);
		member = i != PL_DIRECTORY_NONE && !ex->members[i].revoked;
		if (member && ex->members[i].has_enc) {
			memcpy(pk, ex->members[i].enc_pk, sizeof(pk));
			has_pk = true;
		}
	}
	pthread_rwlock_unlock(&ex->dir_lock);
	s = ex_reader_get(ex);
	/* One read snapshot, so that the blob and its state agree. */
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_payload_info(s, hash, &info);
	if (!ret)
		ret = pl_store_payload_get(s, hash, &b, &n);
	if (!ret && info.ref_index >= 0)
		ret = pl__ex_may_read(s, &who, (uint64_t)info.ref_index, &reads_ref);
	ex_note_error(ex, s, ret);
	pl_store_rollback(s);
	ex_reader_put(ex, s);
	if (ret)
		goto out;
	/* Content-addressed: bytes that do not hash to their name are damage, never served. */
	{
		uint8_t got[PL_HASH_BYTES];
		pl_sha256(got, b, n);
		if (sodium_memcmp(got, hash, PL_HASH_BYTES) != 0) {
			char why[EX_WHY_MAX], want_hex[17], got_hex[17];
			pl_hex_encode(want_hex, hash, 8);
			pl_hex_encode(got_hex, got, 8);
			snprintf(why, sizeof(why),
			         "payload %s… does not hash to its name: its bytes give %s…",
			         want_hex, got_hex);
			ret = pl__ex_damaged(ex, why);
			goto out;
		}
	}
	/*
	 * Its uploader; once a logged record names it, whoever may read that record (need-to-know),
	 * or, when the store did not keep which record (older stores), the parties it is sealed to
	 * and the auditors. Anyone else is told there is no such blob.
	 */
	allowed = member && strcmp(info.uploader, reader) == 0;
	if (!allowed && info.referred && info.ref_index >= 0)
		allowed = reads_ref;
	else if (!allowed && info.referred)
		allowed = who.auditor || (has_pk && pl_box_has_reader(b, n, pk));
	if (!allowed) {
		ret = PL_ENOTFOUND;
		goto out;
	}
	*blob = b;
	*len = n;
	b = NULL;
out:
	free(b);
	return ret;
}

/*
 * Adds witnesses' cosignature lines to the stored checkpoint of size (EX_COSIGN).
 * Thread: a submitter's (a witness's cosignatures); it waits for the sequencer's batch.
 */
int pl_exchange_checkpoint_cosign(struct pl_exchange *ex, uint64_t size, const char *lines,
                                  size_t len)
{
	struct ex_item it;
	int ret;

	if (!ex || !lines || !len || len > PL_NOTE_MAX_BYTES)
		return PL_EINVAL;
	if (size > pl_exchange_size(ex))
		return PL_ENOTFOUND; /* and never PL_STORE_LATEST's meaning */
	memset(&it, 0, sizeof(it));
	it.type = EX_COSIGN;
	it.index = size;
	it.msg = malloc(len);
	if (!it.msg)
		return PL_ENOMEM;
	memcpy(it.msg, lines, len);
	it.len = len;
	ret = pl__ex_run_sync(ex, &it);
	free(it.msg);
	return ret;
}

/*
 * Runs a party operation through the sequencer, then reads its receipt (out may be NULL).
 * Thread: the operator's (a party operation; parleyd's own or an HTTP worker).
 */
static int ex_party_op(struct pl_exchange *ex, enum ex_item_type type, struct ex_party_req *q,
                       struct pl_receipt *out)
{
	struct ex_item it;
	int ret;

	memset(&it, 0, sizeof(it));
	it.type = type;
	it.party = q;
	ret = pl__ex_run_sync(ex, &it);
	if (!ret && it.appended && out)
		ret = pl__ex_receipt(ex, NULL, it.index, it.size, out);
	return ret;
}

/*
 * Checks and fills the request to register name with these key texts.
 * Thread: the operator's (a party operation; parleyd's own or an HTTP worker).
 */
static int ex_party_req_add(struct pl_exchange *ex, struct ex_party_req *q, const char *name,
                            const char *vkey_text, const char *enc_key_text)
{
	char keyname[PL_KEY_NAME_MAX + 1];
	int ret;

	memset(q, 0, sizeof(*q));
	if (!pl_record_name_is_valid(name, strlen(name)) || strcmp(name, PL_RECORD_EXCHANGE) == 0)
		return PL_EINVAL;
	snprintf(q->name, sizeof(q->name), "%s", name);
	ret = pl_vkey_parse(&q->vkey, vkey_text, strlen(vkey_text));
	if (ret)
		return ret;
	ret = pl_record_key_name(keyname, ex->origin, name);
	if (ret)
		return ret;
	if (strcmp(q->vkey.name, keyname) != 0 || q->vkey.type != PL_SIGTYPE_ED25519)
		return PL_EKEY;
	ret = pl_party_ekey_parse(&q->enc, enc_key_text, strlen(enc_key_text));
	if (ret)
		return ret;
	return strcmp(q->enc.name, keyname) != 0 ? PL_EKEY : 0;
}

/*
 * The text of a register or revoke for the party to sign itself (pl_exchange_party_complete()).
 * Thread: the operator's (a party operation; parleyd's own or an HTTP worker).
 */
int pl_exchange_party_prepare(struct pl_exchange *ex, bool revoke, const char *name,
                              const char *vkey_text, const char *enc_key_text, struct pl_buf *text)
{
	struct pl_exchange_refusal why;
	struct pl_record *r = NULL;
	struct pl_store *s;
	struct ex_party_req q;
	enum pl_key_status status;
	const char *w = NULL;
	int ret;

	if (!ex || !name || !text || (!revoke && (!vkey_text || !enc_key_text)))
		return PL_EINVAL;
	if (revoke) {
		memset(&q, 0, sizeof(q));
		if (!pl_record_name_is_valid(name, strlen(name)))
			return PL_ENOTFOUND;
		snprintf(q.name, sizeof(q.name), "%s", name);
	} else {
		ret = ex_party_req_add(ex, &q, name, vkey_text, enc_key_text);
		if (ret)
			return ret;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return PL_ENOMEM;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl__ex_party_record(s, &q, revoke, r, &status, &why);
	if (!ret)
		ret = pl__ex_chain_fields(ex, s, NULL, r);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	if (!ret)
		ret = pl_record_format(r, text, &w);
	free(r);
	return ret;
}

/*
 * Logs a register or revoke the party signed: the exchange's signature first, then the sequencer.
 * Thread: the operator's (a party operation; parleyd's own or an HTTP worker).
 */
int pl_exchange_party_complete(struct pl_exchange *ex, const char *msg, size_t len,
                               struct pl_receipt *out)
{
	struct pl_note *n = NULL;
	struct ex_item it;
	struct pl_buf full;
	const char *w = NULL;
	int ret;

	if (!ex || !msg)
		return PL_EINVAL;
	if (len > PL_RECORD_MAX_BYTES)
		return PL_ETOOBIG;
	memset(&it, 0, sizeof(it));
	pl_buf_init(&full, PL_RECORD_MAX_BYTES);
	it.type = EX_PARTY_SIGNED;
	it.rec = malloc(sizeof(*it.rec));
	if (!it.rec) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_note_parse(&n, msg, len);
	if (!ret)
		ret = pl_record_parse(it.rec, n->text, n->text_len, &w);
	if (ret)
		goto out;
	/* Our own record, of a kind the party signs too, signed by nobody but the party. */
	if (strcmp(it.rec->exchange, ex->origin) != 0 ||
	    strcmp(it.rec->author, PL_RECORD_EXCHANGE) != 0 ||
	    (it.rec->kind != PL_KIND_REGISTER && it.rec->kind != PL_KIND_REVOKE) ||
	    it.rec->nkeys != 1 || n->nsigs != it.rec->nkeys) {
		/* (The directory keeps one signing key per party.) */
		ret = PL_EINVAL;
		goto out;
	}
	for (size_t i = 0; i < n->nsigs; i++) {
		ret = pl_note_sig_verify(&n->sigs[i], &it.rec->keys[i], n->text, n->text_len);
		if (ret) {
			ret = PL_EVERIFY;
			goto out;
		}
	}
	/* The exchange's signature first, then the party's, as docs/records.md orders them. */
	ret = pl_note_sign(&full, n->text, n->text_len, &ex->key, 1);
	for (size_t i = 0; !ret && i < n->nsigs; i++)
		ret = pl_note_add_sig(&full, n->sigs[i].name, n->sigs[i].id, n->sigs[i].sig,
		                      n->sigs[i].sig_len);
	if (!ret)
		ret = pl_record_open(it.rec, it.id, NULL, full.data, full.len, &ex->vkey, 1, &w);
	if (ret)
		goto out;
	it.msg = full.data;
	it.len = full.len;
	ret = pl__ex_run_sync(ex, &it);
	if (!ret && it.appended && out)
		ret = pl__ex_receipt(ex, NULL, it.index, it.size, out);
out:
	pl_note_free(n);
	pl_buf_release(&full);
	free(it.rec);
	return ret;
}

/*
 * Registers a party, signed by the exchange and the party keys self[0..nself).
 * Thread: the operator's (a party operation; parleyd's own or an HTTP worker).
 */
int pl_exchange_party_add(struct pl_exchange *ex, const char *name, const char *vkey_text,
                          const char *enc_key_text, const struct pl_skey *self, size_t nself,
                          struct pl_receipt *out)
{
	struct ex_party_req q;
	int ret;

	if (!ex || !name || !vkey_text || !enc_key_text || (nself && !self) ||
	    nself > PL_RECORD_MAX_KEYS)
		return PL_EINVAL;
	ret = ex_party_req_add(ex, &q, name, vkey_text, enc_key_text);
	if (ret)
		return ret;
	for (size_t i = 0; i < nself; i++) {
		struct pl_vkey pub;
		pl_skey_public(&self[i], &pub);
		if (!pl_vkey_equal(&pub, &q.vkey))
			return PL_EKEY;
	}
	q.self = self;
	q.nself = nself;
	return ex_party_op(ex, EX_PARTY_ADD, &q, out);
}

/*
 * Revokes a party, signed by the exchange and the party keys self[0..nself).
 * Thread: the operator's (a party operation; parleyd's own or an HTTP worker).
 */
int pl_exchange_party_revoke(struct pl_exchange *ex, const char *name, const struct pl_skey *self,
                             size_t nself, struct pl_receipt *out)
{
	struct ex_party_req q;

	if (!ex || !name || (nself && !self) || nself > PL_RECORD_MAX_KEYS)
		return PL_EINVAL;
	if (!pl_record_name_is_valid(name, strlen(name)))
		return PL_ENOTFOUND;
	memset(&q, 0, sizeof(q));
	snprintf(q.name, sizeof(q.name), "%s", name);
	q.self = self;
	q.nself = nself;
	return ex_party_op(ex, EX_PARTY_REVOKE, &q, out);
}

/*
 * Evicts a party: a revoke of its key signed by the exchange alone, with reason.
 * Thread: the operator's (a party operation; parleyd's own or an HTTP worker).
 */
int pl_exchange_party_evict(struct pl_exchange *ex, const char *name, const char *reason,
                            struct pl_receipt *out)
{
	struct ex_party_req q;

	if (!ex || !name || !reason)
		return PL_EINVAL;
	if (!pl_record_reason_is_valid(reason, strlen(reason)))
		return PL_EMALFORMED;
	if (!pl_record_name_is_valid(name, strlen(name)))
		return PL_ENOTFOUND;
	memset(&q, 0, sizeof(q));
	snprintf(q.name, sizeof(q.name), "%s", name);
	snprintf(q.reason, sizeof(q.reason), "%s", reason);
	return ex_party_op(ex, EX_PARTY_REVOKE, &q, out);
}

/*
 * A party as the API gives it, from the store's row (its register id aside).
 * Thread: any reader's.
 */
static void ex_party_copy(struct pl_exchange_party *d, const struct pl_store_party *p)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", p->name);
	if (pl_vkey_parse(&d->vkey, p->vkey, strlen(p->vkey)) != 0)
		memset(&d->vkey, 0, sizeof(d->vkey));
	snprintf(d->enc_key, sizeof(d->enc_key), "%s", p->enc_key);
	d->register_index = p->register_index;
	d->revoked = p->revoked;
	d->revoke_index = p->revoke_index;
}

/* One party as the store holds it, with its register record's id. Thread: any reader's. */
int pl_exchange_party_get(struct pl_exchange *ex, const char *name, struct pl_exchange_party *out)
{
	struct pl_store *s;
	struct pl_store_party p;
	struct pl_store_record meta;
	int ret;

	if (!ex || !name || !out)
		return PL_EINVAL;
	s = ex_reader_get(ex);
	ret = pl_store_party_get(s, name, &p);
	if (!ret)
		ret = pl_store_record_get(s, p.register_index, &meta, NULL);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	if (!ret) {
		ex_party_copy(out, &p);
		memcpy(out->register_id, meta.id, PL_HASH_BYTES);
	}
	return ret;
}

/*
 * Every published party, each checked against its register record (GET /parties).
 * Thread: any reader's.
 */
int pl_exchange_parties(struct pl_exchange *ex, struct pl_exchange_party **out, size_t *n)
{
	struct ex_anchor a;
	struct pl_store *s;
	struct pl_store_party *v = NULL;
	struct pl_exchange_party *d = NULL;
	size_t k = 0, m = 0;
	int ret;

	if (!ex || !out || !n)
		return PL_EINVAL;
	ret = pl__ex_anchor(ex, &a);
	if (ret)
		return ret;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_party_list(s, &v, &k);
	if (!ret) {
		d = calloc(k ? k : 1, sizeof(*d));
		if (!d)
			ret = PL_ENOMEM;
	}
	/* Each entry as its register record, checked, says: what /parties serves. */
	for (size_t i = 0; !ret && i < k; i++) {
		struct pl_exchange_entry e;
		char why[EX_WHY_MAX];
		memset(&e, 0, sizeof(e));
		if (v[i].register_index >= a.size)
			continue; /* registered, not yet published */
		ret = pl__ex_entry(ex, s, &a, v[i].register_index, &e);
		if (!ret && pl__check_party(&v[i], e.note, e.note_len, why, sizeof(why)) != 0)
			ret = pl__ex_damaged(ex, why);
		if (!ret) {
			ex_party_copy(&d[m], &v[i]);
			memcpy(d[m++].register_id, e.id, PL_HASH_BYTES);
		}
		pl_exchange_entry_release(&e);
	}
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	if (!ret) {
		*out = d;
		*n = m;
		d = NULL;
	}
	free(d);
	free(v);
	return ret;
}
