/* Benchmark: records parsed and verified per second, next to raw Ed25519 verification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <parley/chain.h>
#include <parley/note.h>
#include <parley/record.h>
#include <parley/rules.h>

#include "bench_util.h"

#define SECONDS  1.0 /* per figure */
#define NRECORDS 256 /* distinct records, cycled, so no cache holds one answer */
#define ORIGIN   "hotline.example"

static struct pl_skey sk;
static struct pl_vkey dir[2];
static char *notes[NRECORDS];
static size_t lens[NRECORDS];
static struct pl_note *parsed[NRECORDS];
static struct pl_record *recs[NRECORDS], *out_rec;
static uint8_t ids[NRECORDS][PL_RECORD_ID_BYTES];
static size_t cur;

static size_t next(void)
{
	cur = (cur + 1) % NRECORDS;
	return cur;
}

/* What every verifier does at the least: one Ed25519 verification of the note text. */
static int op_raw_verify(void)
{
	const struct pl_note *n = parsed[next()];

	return crypto_sign_verify_detached(n->sigs[0].sig, (const uint8_t *)n->text, n->text_len,
	                                   dir[1].pk);
}

static int op_raw_sha256(void)
{
	uint8_t h[32];
	size_t i = next();

	return crypto_hash_sha256(h, (const uint8_t *)notes[i], lens[i]);
}

/* The whole stateless validation: note syntax, grammar, kind lines, signature, id. */
static int op_open(void)
{
	uint8_t id[PL_RECORD_ID_BYTES];
	size_t i = next();

	return pl_record_open(out_rec, id, NULL, notes[i], lens[i], dir, 2, NULL);
}

static int op_parse(void)
{
	const struct pl_note *n = parsed[next()];

	return pl_record_parse(out_rec, n->text, n->text_len, NULL);
}

/* The rules of a send: chain head, signer status, the send's own rule. */
static int op_rules(void)
{
	size_t i = next();
	struct pl_chain_link head;
	struct pl_rules_input in;

	memset(&in, 0, sizeof(in));
	in.rec = recs[i];
	in.id = ids[i];
	in.signer = PL_KEY_ACTIVE;
	if (i > 0) {
		pl_chain_link_set(&head, recs[i - 1], ids[i - 1]);
		in.head = &head;
	}
	return pl_rules_check(&in, NULL);
}

/*
 * Measures op and its baseline in alternating slices of 50 ms, so that a load change on a
 * shared machine hits both alike; returns 0 and both rates, or -1 if an operation failed.
 */
static int paired_rate(int (*op)(void), int (*base)(void), double *op_rate, double *base_rate)
{
	double t_op = 0, t_base = 0;
	long n_op = 0, n_base = 0;

	for (int round = 0; round < 40; round++) {
		int (*f)(void) = round % 2 ? op : base;
		double start = pl_bench_now(), t;
		long n = 0;
		do {
			if (f() != 0)
				return -1;
			n++;
			t = pl_bench_now() - start;
		} while (t < SECONDS / 20);
		if (f == op) {
			t_op += t;
			n_op += n;
		} else {
			t_base += t;
			n_base += n;
		}
	}
	*op_rate = (double)n_op / t_op;
	*base_rate = (double)n_base / t_base;
	return 0;
}

/* NRECORDS consecutive sends of one key, each about the size of a real one. */
static int make_records(void)
{
	struct pl_vkey logvk;
	struct pl_skey logsk;
	struct pl_buf b;
	int ret;

	ret = pl_key_generate(&sk, &dir[1], ORIGIN "/rok-mnd", PL_SIGTYPE_ED25519);
	if (ret == 0)
		ret = pl_key_generate(&logsk, &logvk, ORIGIN, PL_SIGTYPE_ED25519);
	pl_skey_clear(&logsk);
	if (ret != 0)
		return -1;
	dir[0] = logvk;
	out_rec = calloc(1, sizeof(*out_rec));
	if (!out_rec)
		return -1;
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	for (size_t i = 0; i < NRECORDS && ret == 0; i++) {
		struct pl_record *r = calloc(1, sizeof(*r));
		if (!r)
			return -1;
		snprintf(r->exchange, sizeof(r->exchange), ORIGIN);
		snprintf(r->author, sizeof(r->author), "rok-mnd");
		r->seq = i + 1;
		if (i > 0) {
			memcpy(r->prev, ids[i - 1], PL_RECORD_ID_BYTES);
			r->has |= PL_RECORD_HAS_PREV;
		}
		r->time = 1763341200 + (int64_t)i;
		r->kind = PL_KIND_SEND;
		r->cls = PL_CLASS_PROPOSAL;
		snprintf(r->to[0], sizeof(r->to[0]), "kpa");
		r->nto = 1;
		snprintf(r->via, sizeof(r->via), "unc");
		r->deadline = r->time + 7 * 86400;
		randombytes_buf(r->payload, sizeof(r->payload));
		r->payload_size = 1830;
		randombytes_buf(r->commit, sizeof(r->commit));
		r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_VIA | PL_RECORD_HAS_DEADLINE |
		          PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT;
		pl_buf_reset(&b);
		ret = pl_record_sign(&b, r, &sk, 1, NULL);
		if (ret == 0) {
			notes[i] = pl_buf_detach(&b, &lens[i]);
			pl_record_id(ids[i], notes[i], lens[i]);
			ret = notes[i] ? pl_note_parse(&parsed[i], notes[i], lens[i]) : -1;
		}
		recs[i] = r;
	}
	pl_buf_release(&b);
	return ret;
}

int main(void)
{
	double verify_base, hash_base, r;
	int ret = 1;

	if (sodium_init() < 0 || make_records() != 0)
		goto out;
	verify_base = pl_bench_rate(op_raw_verify, 1, SECONDS);
	hash_base = pl_bench_rate(op_raw_sha256, 1, SECONDS);
	if (verify_base <= 0 || hash_base <= 0)
		goto out;
	printf("baseline: raw Ed25519 verify of a %zu-byte record text: %.0f ops/s\n",
	       parsed[0]->text_len, verify_base);
	printf("baseline: raw SHA-256 of the %zu-byte signed record: %.0f ops/s\n", lens[0],
	       hash_base);
	/* The target: at least 0.80 x the raw verification rate, measured side by side. */
	if (paired_rate(op_open, op_raw_verify, &r, &verify_base) != 0)
		goto out;
	pl_bench_report("records parsed and verified (pl_record_open)", r, verify_base);
	if (pl_bench_figure("record texts parsed (pl_record_parse)", op_parse, SECONDS,
	                    hash_base) ||
	    pl_bench_figure("records judged (pl_rules_check, chain and common rules)", op_rules,
	                    SECONDS, hash_base))
		goto out;
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench_record: setup or operation failed\n");
	pl_skey_clear(&sk);
	for (size_t i = 0; i < NRECORDS; i++) {
		free(notes[i]);
		free(recs[i]);
		pl_note_free(parsed[i]);
	}
	free(out_rec);
	return ret;
}
