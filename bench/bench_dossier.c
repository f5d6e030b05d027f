/*
 * Benchmark: the size and verification time of a dossier of one thread (a proposal via an
 * intermediary, made available, received, expired) with 10^2, 10^4 and 10^6 records of
 * other traffic between the send and the checkpoint: version 2 (the thread and its index
 * proofs) against version 1 (the absence window), side by side up to version 1's limit.
 * Times are given as multiples of one Ed25519 verification measured in the same run.
 *
 * Version 2 needs no record of the other traffic: it is leaves in the log's tree and keys
 * in the thread index. Version 1 carries it, so there it is real signed records (statements
 * of a third party).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <parley/checkpoint.h>
#include <parley/dossier.h>
#include <parley/record.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

#include "bench_util.h"

#define ORIGIN  "hotline.example"
#define SECONDS 0.25 /* at least, per verification figure */
#define V1_MAX  (PL_DOSSIER_MAX_WINDOW - 8)

enum { EX, ROK, UNC, KPA, NPARTIES };

static const char *const party_of[NPARTIES] = {"exchange", "rok-mnd", "unc", "kpa"};

struct party {
	struct pl_skey sk;
	struct pl_vkey vk;
	uint64_t seq;
	uint8_t head[PL_RECORD_ID_BYTES];
};

static struct party parties[NPARTIES];

/* A log in memory: the tree's leaves, and the text of the records it keeps. */
struct blog {
	struct pl_tlog_memstore *ms;
	char **text; /* by log index; NULL for a leaf of other traffic */
	size_t *len;
	size_t n, cap;
	int64_t time;
	struct pl_tindex_ref *refs; /* what the thread index holds */
	size_t nrefs, caprefs;
};

static int grow(struct blog *l)
{
	size_t cap = l->cap ? 2 * l->cap : 1024;
	char **t = realloc(l->text, cap * sizeof(*t));
	size_t *n = t ? realloc(l->len, cap * sizeof(*n)) : NULL;

	if (t)
		l->text = t;
	if (!t || !n)
		return -1;
	l->len = n;
	l->cap = cap;
	return 0;
}

static int leaf(struct blog *l, const uint8_t hash[PL_HASH_BYTES], char *text, size_t len)
{
	if (l->n == l->cap && grow(l) != 0)
		return -1;
	l->text[l->n] = text;
	l->len[l->n] = len;
	l->n++;
	return pl_tlog_memstore_append(l->ms, (const uint8_t(*)[PL_HASH_BYTES])hash, 1);
}

static int add_ref(struct blog *l, const uint8_t key[PL_HASH_BYTES],
                   const uint8_t id[PL_HASH_BYTES], uint64_t index)
{
	if (l->nrefs == l->caprefs) {
		size_t cap = l->caprefs ? 2 * l->caprefs : 1024;
		struct pl_tindex_ref *v = realloc(l->refs, cap * sizeof(*v));
		if (!v)
			return -1;
		l->refs = v;
		l->caprefs = cap;
	}
	memcpy(l->refs[l->nrefs].key, key, PL_HASH_BYTES);
	memcpy(l->refs[l->nrefs].id, id, PL_HASH_BYTES);
	l->refs[l->nrefs++].index = index;
	return 0;
}

/* Signs r as p's next record and logs it, its refs entered in the index; sets id. */
static int add(struct blog *l, struct pl_record *r, int p, uint8_t id[PL_RECORD_ID_BYTES])
{
	struct pl_skey keys[2];
	const char *why = NULL;
	uint8_t h[PL_HASH_BYTES];
	size_t nkeys = 1;
	struct pl_buf b;
	char *text;
	int ret;

	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", party_of[p]);
	r->time = ++l->time;
	r->seq = ++parties[p].seq;
	if (r->seq > 1) {
		r->has |= PL_RECORD_HAS_PREV;
		memcpy(r->prev, parties[p].head, PL_RECORD_ID_BYTES);
	}
	keys[0] = parties[p].sk;
	if (r->kind == PL_KIND_REGISTER) {
		for (int k = 1; k < NPARTIES; k++) {
			if (strcmp(r->party, party_of[k]) == 0)
				keys[nkeys++] = parties[k].sk;
		}
	}
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	if (pl_record_sign(&b, r, keys, nkeys, &why) != 0)
		return -1;
	pl_record_id(id, b.data, b.len);
	memcpy(parties[p].head, id, PL_RECORD_ID_BYTES);
	pl_tlog_leaf_hash(h, b.data, b.len);
	text = malloc(b.len + 1);
	if (!text)
		return -1;
	memcpy(text, b.data, b.len);
	text[b.len] = '\0';
	ret = leaf(l, h, text, b.len);
	for (size_t k = 0; ret == 0 && k < r->nrefs; k++)
		ret = add_ref(l, r->refs[k].id, id, l->n - 1);
	pl_buf_release(&b);
	return ret;
}

static struct pl_record *rnew(enum pl_record_kind kind)
{
	struct pl_record *r = calloc(1, sizeof(*r));

	if (r)
		r->kind = kind;
	return r;
}

static void ref_to(struct pl_record *r, const uint8_t *id)
{
	r->refs[0].role = PL_ROLE_SUBJECT;
	memcpy(r->refs[0].id, id, PL_RECORD_ID_BYTES);
	r->nrefs = 1;
}

static void to(struct pl_record *r, int p)
{
	snprintf(r->to[r->nto++], sizeof(r->to[0]), "%s", party_of[p]);
}

/* A record of kind to kpa via the unc, or NULL when out of memory. */
static struct pl_record *rnew_via_unc(enum pl_record_kind kind)
{
	struct pl_record *r = rnew(kind);

	if (r) {
		to(r, KPA);
		r->has |= PL_RECORD_HAS_VIA;
		snprintf(r->via, sizeof(r->via), "%s", party_of[UNC]);
	}
	return r;
}

static int add_register(struct blog *l, int p)
{
	struct pl_record *r = rnew(PL_KIND_REGISTER);
	uint8_t id[PL_RECORD_ID_BYTES];
	int ret;

	if (!r)
		return -1;
	r->has |= PL_RECORD_HAS_PARTY | PL_RECORD_HAS_ENC;
	snprintf(r->party, sizeof(r->party), "%s", party_of[p]);
	r->keys[0] = parties[p].vk;
	r->nkeys = 1;
	snprintf(r->enc.name, sizeof(r->enc.name), "%s", parties[p].vk.name);
	memset(r->enc.pk, 0x42 + p, sizeof(r->enc.pk));
	ret = add(l, r, EX, id);
	free(r);
	return ret;
}

/* The thread's records, by log index, and the subject's id. */
struct thread {
	size_t send, available, receive, expire;
	uint8_t id[PL_RECORD_ID_BYTES];
};

/* Adds r, by p, about the thread's subject; *pos receives its log index. */
static int add_about(struct blog *l, struct pl_record *r, int p, const struct thread *t,
                     size_t *pos)
{
	uint8_t id[PL_RECORD_ID_BYTES];

	ref_to(r, t->id);
	*pos = l->n;
	return add(l, r, p, id);
}

/* The send and what acts on it at once: made available to unc, received. */
static int add_send(struct blog *l, struct thread *t)
{
	struct pl_record *r = rnew_via_unc(PL_KIND_SEND);
	int ret;

	if (!r)
		return -1;
	r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT |
	          PL_RECORD_HAS_DEADLINE;
	r->cls = PL_CLASS_PROPOSAL;
	r->deadline = 2000000000;
	memset(r->payload, 0x11, sizeof(r->payload));
	memset(r->commit, 0x22, sizeof(r->commit));
	r->payload_size = 1200;
	t->send = l->n;
	ret = add(l, r, ROK, t->id);
	memset(r, 0, sizeof(*r));
	r->kind = PL_KIND_AVAILABLE;
	to(r, UNC);
	if (ret == 0)
		ret = add_about(l, r, EX, t, &t->available);
	memset(r, 0, sizeof(*r));
	r->kind = PL_KIND_RECEIVE;
	if (ret == 0)
		ret = add_about(l, r, UNC, t, &t->receive);
	free(r);
	return ret;
}

static int add_expire(struct blog *l, struct thread *t)
{
	struct pl_record *r = rnew_via_unc(PL_KIND_EXPIRE);
	int ret;

	if (!r)
		return -1;
	l->time = 2000000001;
	ret = add_about(l, r, EX, t, &t->expire);
	free(r);
	return ret;
}

/*
 * n records of other traffic: real statements by kpa when real (version 1 shows them),
 * else leaves and index keys only (one key each: what the record refers to).
 */
static int add_traffic(struct blog *l, size_t n, bool real, uint64_t *rng)
{
	struct pl_record *r = real ? rnew(PL_KIND_STATEMENT) : NULL;
	uint8_t h[PL_HASH_BYTES], key[PL_HASH_BYTES], id[PL_HASH_BYTES];
	int ret = real && !r ? -1 : 0;

	for (size_t i = 0; ret == 0 && i < n; i++) {
		if (real) {
			memset(r, 0, sizeof(*r));
			r->kind = PL_KIND_STATEMENT;
			r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
			r->cls = PL_CLASS_STATEMENT;
			r->body_len = (size_t)snprintf(r->body, 64, "Other traffic %zu.\n", i);
			ret = add(l, r, KPA, id);
			continue;
		}
		for (size_t k = 0; k < PL_HASH_BYTES; k += 8) {
			uint64_t x = pl_bench_rnd(rng), y = pl_bench_rnd(rng),
			         z = pl_bench_rnd(rng);
			memcpy(h + k, &x, 8);
			memcpy(key + k, &y, 8);
			memcpy(id + k, &z, 8);
		}
		ret = leaf(l, h, NULL, 0);
		if (ret == 0)
			ret = add_ref(l, key, id, l->n - 1);
	}
	free(r);
	return ret;
}

/* The index record at the end of the log, over every reference below it; tree kept in *t. */
static int add_index(struct blog *l, struct pl_tindex_memstore **ms, struct pl_tindex **t)
{
	struct pl_tindex_store st;
	struct pl_record *r = rnew(PL_KIND_INDEX);
	uint8_t id[PL_RECORD_ID_BYTES];
	int ret = r ? pl_tindex_memstore_new(ms) : -1;

	if (ret == 0) {
		st = pl_tindex_memstore_store(*ms);
		ret = pl_tindex_open(t, &st);
	}
	for (size_t i = 0; ret == 0 && i < l->nrefs; i += PL_TINDEX_MAX_BATCH) {
		size_t n = l->nrefs - i < PL_TINDEX_MAX_BATCH ? l->nrefs - i : PL_TINDEX_MAX_BATCH;
		ret = pl_tindex_update(*t, l->refs + i, n);
	}
	if (ret == 0) {
		r->has |= PL_RECORD_HAS_ROOT;
		pl_tindex_root(*t, r->index_root);
		ret = add(l, r, EX, id);
	}
	free(r);
	return ret;
}

static int signed_checkpoint(const struct blog *l, struct pl_buf *out)
{
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(l->ms);
	uint8_t root[PL_HASH_BYTES];
	struct pl_checkpoint cp;

	pl_buf_init(out, PL_NOTE_MAX_BYTES);
	if (pl_tlog_tree_hash(&rd, l->n, root) != 0 ||
	    pl_checkpoint_set(&cp, ORIGIN, l->n, root) != 0)
		return -1;
	return pl_checkpoint_sign(out, &cp, &parties[EX].sk);
}

/* Entry i of the log with its inclusion proof (into proof) and, when t, its index proof. */
static int entry(const struct blog *l, size_t i, uint8_t (*proof)[PL_HASH_BYTES],
                 const struct pl_tindex *t, struct pl_buf *tx, struct pl_dossier_entry *e)
{
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(l->ms);
	struct pl_tindex_entry ents[8];
	struct pl_tindex_proof *p = NULL;
	uint8_t id[PL_RECORD_ID_BYTES];
	size_t ne = 0;
	int ret;

	memset(e, 0, sizeof(*e));
	e->index = i;
	e->record = l->text[i];
	e->record_len = l->len[i];
	e->proof = (const uint8_t(*)[PL_HASH_BYTES])proof;
	ret = pl_tlog_prove_inclusion(&rd, l->n, i, proof, &e->nproof);
	if (ret || !t)
		return ret;
	pl_record_id(id, l->text[i], l->len[i]);
	for (size_t k = 0; k < l->nrefs && ne < 8; k++) {
		if (memcmp(l->refs[k].key, id, PL_HASH_BYTES) == 0) {
			ents[ne].index = l->refs[k].index;
			memcpy(ents[ne++].id, l->refs[k].id, PL_HASH_BYTES);
		}
	}
	pl_buf_init(tx, PL_TINDEX_PROOF_MAX_BYTES);
	ret = pl_tindex_prove(t, id, ents, ne, &p);
	if (ret == 0)
		ret = pl_tindex_proof_format(tx, p);
	pl_tindex_proof_free(p);
	e->tindex = tx->data;
	e->tindex_len = tx->len;
	return ret;
}

static void blog_free(struct blog *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->text[i]);
	free(l->text);
	free(l->len);
	free(l->refs);
	pl_tlog_memstore_free(l->ms);
	memset(l, 0, sizeof(*l));
}

static int new_log(struct blog *l, struct thread *t, size_t traffic, bool real, uint64_t *rng)
{
	int ret;

	memset(l, 0, sizeof(*l));
	for (int p = 0; p < NPARTIES; p++) {
		parties[p].seq = 0;
		memset(parties[p].head, 0, PL_RECORD_ID_BYTES);
	}
	l->time = 1700000000;
	ret = pl_tlog_memstore_new(&l->ms);
	for (int p = ROK; ret == 0 && p < NPARTIES; p++)
		ret = add_register(l, p);
	if (ret == 0)
		ret = add_send(l, t);
	if (ret == 0)
		ret = add_traffic(l, traffic, real, rng);
	if (ret == 0)
		ret = add_expire(l, t);
	return ret;
}

/* Verifies dossier d for about SECONDS (at least once); returns seconds per verification. */
static double verify_time(const struct pl_buf *d)
{
	double start = pl_bench_now(), t;
	long n = 0;

	do {
		struct pl_dossier_report *rep = NULL;
		if (pl_dossier_verify(&rep, d->data, d->len, &parties[EX].vk, NULL, 0, 0, NULL) !=
		    0)
			return -1;
		pl_dossier_report_free(rep);
		n++;
		t = pl_bench_now() - start;
	} while (t < SECONDS);
	return t / (double)n;
}

/* The version 2 dossier of the thread with traffic records between the send and the index. */
static int dossier_v2(size_t traffic, uint64_t *rng, struct pl_buf *out)
{
	static uint8_t proofs[8][PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	struct pl_tindex_memstore *ms = NULL;
	struct pl_tindex *t = NULL;
	struct pl_dossier_entry th[4], pr[2], ix = {0};
	struct pl_dossier_input_v2 in;
	struct pl_buf tx[4], cp;
	struct thread thr;
	struct blog l;
	size_t at[4];
	int ret;

	memset(tx, 0, sizeof(tx));
	memset(&cp, 0, sizeof(cp));
	ret = new_log(&l, &thr, traffic, false, rng);
	if (ret == 0)
		ret = add_index(&l, &ms, &t);
	at[0] = thr.send;
	at[1] = thr.available;
	at[2] = thr.receive;
	at[3] = thr.expire;
	for (size_t k = 0; ret == 0 && k < 4; k++)
		ret = entry(&l, at[k], proofs[k], t, &tx[k], &th[k]);
	/* The registers of rok-mnd and unc, who sign thread records. */
	for (size_t k = 0; ret == 0 && k < 2; k++)
		ret = entry(&l, k, proofs[4 + k], NULL, NULL, &pr[k]);
	if (ret == 0)
		ret = entry(&l, l.n - 1, proofs[6], NULL, NULL, &ix);
	if (ret == 0)
		ret = signed_checkpoint(&l, &cp);
	memset(&in, 0, sizeof(in));
	in.log_key = &parties[EX].vk;
	in.checkpoint = cp.data;
	in.checkpoint_len = cp.len;
	in.index = ix;
	in.thread = th;
	in.nthread = 4;
	in.proven = pr;
	in.nproven = 2;
	pl_buf_init(out, PL_DOSSIER_MAX_BYTES);
	if (ret == 0)
		ret = pl_dossier_build_v2(out, &in);
	for (size_t k = 0; k < 4; k++)
		pl_buf_release(&tx[k]);
	pl_buf_release(&cp);
	pl_tindex_free(t);
	pl_tindex_memstore_free(ms);
	blog_free(&l);
	return ret;
}

/* The version 1 dossier of the same thread: the window holds the traffic's records. */
static int dossier_v1(size_t traffic, uint64_t *rng, struct pl_buf *out)
{
	static uint8_t proofs[3][PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	uint8_t frontier[PL_DOSSIER_MAX_FRONTIER][PL_HASH_BYTES];
	struct pl_dossier_entry *win = NULL, pr[3];
	struct pl_dossier_want *w = NULL;
	struct pl_tlog_reader rd;
	struct pl_dossier_input in;
	struct thread thr;
	struct pl_buf cp;
	struct blog l;
	size_t nfrontier = 0, nw = 0, nwin;
	int ret;

	memset(&cp, 0, sizeof(cp));
	ret = new_log(&l, &thr, traffic, true, rng);
	nwin = l.n - thr.send;
	win = calloc(nwin, sizeof(*win));
	if (!win)
		ret = -1;
	for (size_t i = 0; ret == 0 && i < nwin; i++) {
		win[i].index = thr.send + i;
		win[i].record = l.text[thr.send + i];
		win[i].record_len = l.len[thr.send + i];
	}
	for (size_t k = 0; ret == 0 && k < 3; k++)
		ret = entry(&l, k, proofs[k], NULL, NULL, &pr[k]);
	/* The three registers are all it needs before the window. */
	if (ret == 0)
		ret = pl_dossier_wants(&w, &nw, win, nwin, pr, 3);
	free(w);
	if (ret == 0 && nw != 0)
		ret = -1;
	rd = pl_tlog_memstore_reader(l.ms);
	if (ret == 0)
		ret = pl_dossier_frontier(&rd, thr.send, frontier, &nfrontier);
	if (ret == 0)
		ret = signed_checkpoint(&l, &cp);
	memset(&in, 0, sizeof(in));
	in.log_key = &parties[EX].vk;
	in.checkpoint = cp.data;
	in.checkpoint_len = cp.len;
	in.start = thr.send;
	in.frontier = (const uint8_t(*)[PL_HASH_BYTES])frontier;
	in.nfrontier = nfrontier;
	in.window = win;
	in.nwindow = nwin;
	in.proven = pr;
	in.nproven = 3;
	pl_buf_init(out, PL_DOSSIER_MAX_BYTES);
	if (ret == 0)
		ret = pl_dossier_build(out, &in);
	free(win);
	pl_buf_release(&cp);
	blog_free(&l);
	return ret;
}

/* One Ed25519 verification's seconds: the unit of the times. */
static double baseline(void)
{
	uint8_t pk[32], sk[64], sig[64], msg[256] = {0};
	double start, t;
	long n = 0;

	crypto_sign_keypair(pk, sk);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	start = pl_bench_now();
	do {
		for (int i = 0; i < 64; i++)
			if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
				return -1;
		n += 64;
		t = pl_bench_now() - start;
	} while (t < SECONDS);
	return t / (double)n;
}

static int figure(const char *version, size_t traffic, const struct pl_buf *d, double unit)
{
	double t = verify_time(d);

	if (t < 0)
		return -1;
	printf("dossier %s, %8zu other records: %10zu bytes, verified in %8.2f ms (%.0f x one "
	       "Ed25519 verification)\n",
	       version, traffic, d->len, t * 1e3, t / unit);
	return 0;
}

int main(void)
{
	static const size_t v2_traffic[] = {100, 10000, 1000000};
	static const size_t v1_traffic[] = {100, 10000, V1_MAX};
	uint64_t rng = 0x9e3779b97f4a7c15u;
	double unit;
	int ret = 0;

	if (sodium_init() < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int p = 0; p < NPARTIES && ret == 0; p++) {
		char name[PL_KEY_NAME_MAX + 1];
		ret = pl_record_key_name(name, ORIGIN, party_of[p]);
		if (ret == 0)
			ret = pl_key_generate(&parties[p].sk, &parties[p].vk, name,
			                      PL_SIGTYPE_ED25519);
	}
	unit = baseline();
	if (ret != 0 || unit <= 0)
		return 1;
	printf("one Ed25519 verification: %.1f us\n", unit * 1e6);
	for (size_t k = 0; ret == 0 && k < 3; k++) {
		struct pl_buf d;
		ret = dossier_v2(v2_traffic[k], &rng, &d);
		if (ret == 0)
			ret = figure("v2", v2_traffic[k], &d, unit);
		pl_buf_release(&d);
	}
	for (size_t k = 0; ret == 0 && k < 3; k++) {
		struct pl_buf d;
		ret = dossier_v1(v1_traffic[k], &rng, &d);
		if (ret == 0)
			ret = figure("v1", v1_traffic[k], &d, unit);
		pl_buf_release(&d);
	}
	for (int p = 0; p < NPARTIES; p++)
		pl_skey_clear(&parties[p].sk);
	if (ret != 0)
		fprintf(stderr, "bench_dossier: failed (%d)\n", ret);
	return ret != 0;
}
