/* Unit tests of the witness: request parsing, what it accepts and refuses, durability, races. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/checkpoint.h>
#include <parley/cosignature.h>
#include <parley/encoding.h>
#include <parley/key.h>
#include <parley/note.h>
#include <parley/tlog.h>
#include <parley/witness.h>

#include "testutil.h"

#define ORIGIN "log.example"
#define NOW    1700000000u

struct fx {
	char dir[200];
	struct pl_witness *w;
	struct pl_skey lsk;
	struct pl_vkey lvk;
	struct pl_tlog_memstore *tree;
};

/* Appends leaves "leaf <i> <tag>" until the tree has n leaves. */
static void grow(struct pl_tlog_memstore *m, uint64_t n, int tag)
{
	while (pl_tlog_memstore_size(m) < n) {
		char leaf[64];
		uint8_t h[1][PL_HASH_BYTES];
		int len = snprintf(leaf, sizeof(leaf), "leaf %llu %d",
		                   (unsigned long long)pl_tlog_memstore_size(m), tag);
		pl_tlog_leaf_hash(h[0], leaf, (size_t)len);
		assert_int_equal(pl_tlog_memstore_append(m, (const uint8_t(*)[PL_HASH_BYTES])h, 1),
		                 0);
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pl_vkey wvk;

	if (!f || sodium_init() < 0)
		return -1;
	if (pl_test_tmpdir(f->dir, sizeof(f->dir), "pl_witness"))
		return -1;
	if (pl_witness_create(f->dir, "witness.example", &wvk) != 0)
		return -1;
	if (pl_witness_open(&f->w, f->dir, NULL) != 0)
		return -1;
	if (!pl_vkey_equal(&wvk, pl_witness_vkey(f->w)))
		return -1;
	if (pl_key_generate(&f->lsk, &f->lvk, ORIGIN, PL_SIGTYPE_ED25519) != 0)
		return -1;
	if (pl_witness_log_add(f->w, ORIGIN, &f->lvk) != 0)
		return -1;
	if (pl_tlog_memstore_new(&f->tree) != 0)
		return -1;
	*state = f;
	return 0;
}

static void rm_dir(const char *dir)
{
	static const char *const files[] = {PL_WITNESS_KEY_FILE, PL_WITNESS_VKEY_FILE,
	                                    PL_WITNESS_DB_FILE, "witness.db-wal", "witness.db-shm"};
	char p[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pl_witness_close(f->w);
	pl_tlog_memstore_free(f->tree);
	pl_skey_clear(&f->lsk);
	rm_dir(f->dir);
	free(f);
	return 0;
}

/* Appends the signed checkpoint of tree m at its size, signed by key, to out. */
static void signed_checkpoint(struct pl_buf *out, struct pl_tlog_memstore *m, const char *origin,
                              const struct pl_skey *key)
{
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	struct pl_tlog_reader r = pl_tlog_memstore_reader(m);
	uint8_t root[PL_HASH_BYTES];
	uint64_t n = pl_tlog_memstore_size(m);

	assert_non_null(cp);
	assert_int_equal(pl_tlog_tree_hash(&r, n, root), 0);
	assert_int_equal(pl_checkpoint_set(cp, origin, n, root), 0);
	assert_int_equal(pl_checkpoint_sign(out, cp, key), 0);
	free(cp);
}

/*
 * Builds an add-checkpoint body into out: "old <old>", the consistency proof
 * of m from proof_old to its size, the empty line, the checkpoint of m.
 */
static void make_body(struct pl_buf *out, struct pl_tlog_memstore *m, uint64_t old,
                      uint64_t proof_old, const char *origin, const struct pl_skey *key)
{
	struct pl_tlog_reader r = pl_tlog_memstore_reader(m);
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	size_t np = 0;

	pl_buf_reset(out);
	assert_int_equal(pl_buf_addf(out, "old %llu\n", (unsigned long long)old), 0);
	if (proof_old <= pl_tlog_memstore_size(m))
		assert_int_equal(pl_tlog_prove_consistency(&r, proof_old, pl_tlog_memstore_size(m),
		                                           proof, &np),
		                 0);
	for (size_t i = 0; i < np; i++) {
		assert_int_equal(pl_b64_append(out, proof[i], PL_HASH_BYTES), 0);
		assert_int_equal(pl_buf_adds(out, "\n"), 0);
	}
	assert_int_equal(pl_buf_adds(out, "\n"), 0);
	signed_checkpoint(out, m, origin, key);
}

/* Submits body; on success checks the cosignature over the checkpoint with the witness key. */
static int submit(struct fx *f, const struct pl_buf *body, uint64_t *known)
{
	struct pl_buf cosig, note;
	struct pl_witness_request req;
	struct pl_note *n = NULL;
	bool verified[1] = {false};
	int ret;

	pl_buf_init(&cosig, 4096);
	pl_buf_init(&note, PL_WITNESS_REQUEST_MAX * 2);
	ret = pl_witness_add_checkpoint(f->w, body->data, body->len, NOW, &cosig, known);
	if (ret == 0) {
		/* The answer is one signature line that verifies when added to the note. */
		assert_int_equal(pl_witness_request_parse(&req, body->data, body->len), 0);
		assert_int_equal(
		        pl_buf_add(&note, body->data + req.note_off, body->len - req.note_off), 0);
		assert_int_equal(pl_buf_add(&note, cosig.data, cosig.len), 0);
		assert_int_equal(pl_note_parse(&n, note.data, note.len), 0);
		assert_int_equal(pl_note_verify(n, pl_witness_vkey(f->w), 1, verified), 0);
		assert_true(verified[0]);
		{
			uint64_t ts = 0;
			assert_int_equal(pl_cosignature_timestamp(&ts, &n->sigs[n->nsigs - 1]), 0);
			assert_int_equal(ts, NOW);
		}
		assert_memory_equal(cosig.data, "\xe2\x80\x94 witness.example ", 19);
		assert_int_equal(cosig.data[cosig.len - 1], '\n');
		pl_note_free(n);
		pl_witness_request_release(&req);
	}
	pl_buf_release(&cosig);
	pl_buf_release(&note);
	return ret;
}

/* The state the witness holds for ORIGIN. */
static uint64_t state_size(struct fx *f)
{
	struct pl_witness_log *logs = NULL;
	size_t n = 0;
	uint64_t size = UINT64_MAX;

	assert_int_equal(pl_witness_log_list(f->w, &logs, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(logs[i].origin, ORIGIN) == 0)
			size = logs[i].size;
	free(logs);
	return size;
}

static void test_parse(void **state)
{
	static const char cp[] = "log.example\n2\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"
	                         "\xe2\x80\x94 log.example AAAAAAE=\n";
	static const char h[] = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
	static const struct {
		const char *head; /* before the checkpoint */
		const char *tail; /* the checkpoint (cp when NULL) */
		int want;
	} cases[] = {
	        {"old 0\n\n", NULL, 0},
	        {"old 1\n", NULL, 0}, /* with the proof line below */
	        {"old 2\n\n", NULL, 0},
	        {"", NULL, PL_EMALFORMED},
	        {"old\n\n", NULL, PL_EMALFORMED},
	        {"old 01\n\n", NULL, PL_EMALFORMED},
	        {"old -1\n\n", NULL, PL_EMALFORMED},
	        {"old +1\n\n", NULL, PL_EMALFORMED},
	        {"old 1 \n\n", NULL, PL_EMALFORMED},
	        {"Old 1\n\n", NULL, PL_EMALFORMED},
	        {"old  1\n\n", NULL, PL_EMALFORMED},
	        {"old 1\r\n\n", NULL, PL_EMALFORMED},
	        {"old 3\n\n", NULL, PL_EMALFORMED}, /* old above the checkpoint's size */
	        {"old 99999999999999999999\n\n", NULL, PL_EMALFORMED},
	        {"old 0\n", NULL,
	         PL_EMALFORMED}, /* no empty line: the note's text is not a proof */
	        {"old 0\nnot base64\n\n", NULL, PL_EMALFORMED},
	        {"old 0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n\n", NULL, PL_EMALFORMED},
	        {"old 0\nAAAA\n\n", NULL, PL_EMALFORMED},
	        {"old 0\n\n", "log.example\n2\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
	         PL_EMALFORMED}, /* no signature */
	        {"old 0\n\n", "log.example\n2\nxx\n\n\xe2\x80\x94 log.example AAAAAAE=\n",
	         PL_EMALFORMED}, /* not a checkpoint */
	        {"old 0\n\n",
	         "log.example\n2\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"
	         "\xe2\x80\x94 log.example AAAAAAE=",
	         PL_EMALFORMED}, /* no newline */
	        {"old 0\n\n", "", PL_EMALFORMED},
	};
	struct pl_witness_request *req = calloc(1, sizeof(*req));
	struct pl_buf b;

	(void)state;
	assert_non_null(req);
	pl_buf_init(&b, 2 * PL_WITNESS_REQUEST_MAX);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pl_buf_reset(&b);
		assert_int_equal(pl_buf_adds(&b, cases[i].head), 0);
		if (i == 1)
			assert_int_equal(pl_buf_addf(&b, "%s\n", h), 0);
		assert_int_equal(pl_buf_adds(&b, cases[i].tail ? cases[i].tail : cp), 0);
		req->old_size = 12345;
		int ret = pl_witness_request_parse(req, b.data, b.len);
		if (ret != cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, ret, cases[i].want);
		if (ret == 0) {
			assert_int_equal(req->cp.size, 2);
			assert_string_equal(req->cp.origin, "log.example");
			assert_int_equal(req->nproof, i == 1 ? 1 : 0);
			assert_memory_equal(b.data + req->note_off, "log.example\n", 12);
			pl_witness_request_release(req);
		} else {
			assert_int_equal(req->old_size, 12345); /* untouched on error */
		}
	}
	/* 63 proof lines are allowed, 64 are not. */
	for (size_t n = 63; n <= 64; n++) {
		pl_buf_reset(&b);
		assert_int_equal(pl_buf_adds(&b, "old 1\n"), 0);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(pl_buf_adds(&b, h), 0);
		assert_int_equal(pl_buf_addf(&b, "\n%s", cp), 0);
		assert_int_equal(pl_witness_request_parse(req, b.data, b.len),
		                 n == 63 ? 0 : PL_ETOOBIG);
		pl_witness_request_release(req);
	}
	/* Larger than the limit. */
	pl_buf_reset(&b);
	assert_int_equal(pl_buf_adds(&b, "old 0\n\n"), 0);
	while (b.len <= PL_WITNESS_REQUEST_MAX)
		assert_int_equal(pl_buf_adds(&b, cp), 0);
	assert_int_equal(pl_witness_request_parse(req, b.data, b.len), PL_ETOOBIG);
	pl_witness_request_release(NULL);
	pl_buf_release(&b);
	free(req);
}

static void test_grow(void **state)
{
	struct fx *f = *state;
	struct pl_buf b;
	uint64_t known = 0;

	pl_buf_init(&b, PL_WITNESS_REQUEST_MAX);
	/* The empty tree, then 3, then 7, then 7 again: each cosigned. */
	make_body(&b, f->tree, 0, 0, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), 0);
	grow(f->tree, 3, 0);
	make_body(&b, f->tree, 0, 0, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), 0);
	assert_int_equal(state_size(f), 3);
	grow(f->tree, 7, 0);
	make_body(&b, f->tree, 3, 3, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), 0);
	assert_int_equal(state_size(f), 7);
	make_body(&b, f->tree, 7, 7, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), 0);
	grow(f->tree, 300, 0);
	make_body(&b, f->tree, 7, 7, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), 0);
	assert_int_equal(state_size(f), 300);
	pl_buf_release(&b);
}

static void test_refuse(void **state)
{
	struct fx *f = *state;
	struct pl_tlog_memstore *fork = NULL;
	struct pl_skey other, other_log;
	struct pl_vkey ovk;
	struct pl_buf b;
	uint64_t known = 0;

	pl_buf_init(&b, PL_WITNESS_REQUEST_MAX);
	assert_int_equal(pl_key_generate(&other, &ovk, ORIGIN, PL_SIGTYPE_ED25519), 0);
	assert_int_equal(pl_key_generate(&other_log, &ovk, "other.example", PL_SIGTYPE_ED25519), 0);
	assert_int_equal(pl_tlog_memstore_new(&fork), 0);
	grow(f->tree, 10, 0);
	make_body(&b, f->tree, 0, 0, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), 0);
	grow(f->tree, 20, 0);

	/* Unknown origin: 404. */
	make_body(&b, f->tree, 0, 0, "other.example", &other_log);
	assert_int_equal(submit(f, &b, &known), PL_ENOTFOUND);
	assert_int_equal(pl_witness_http_status(PL_ENOTFOUND), 404);
	/* Signed by a key of the same name the witness does not know: 403. */
	make_body(&b, f->tree, 10, 10, ORIGIN, &other);
	assert_int_equal(submit(f, &b, &known), PL_ENOKEY);
	assert_int_equal(pl_witness_http_status(PL_ENOKEY), 403);
	/* A known key whose signature is altered: 403. */
	make_body(&b, f->tree, 10, 10, ORIGIN, &f->lsk);
	b.data[b.len - 5] = b.data[b.len - 5] == 'A' ? 'B' : 'A';
	assert_int_equal(pl_witness_http_status(submit(f, &b, &known)), 403);
	/* Stale old size: 409 with the known size. */
	known = 0;
	make_body(&b, f->tree, 5, 5, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), PL_ESTATE);
	assert_int_equal(known, 10);
	assert_int_equal(pl_witness_http_status(PL_ESTATE), 409);
	/* old 0 for a log already cosigned: 409 too (how a client learns the size). */
	known = 0;
	make_body(&b, f->tree, 0, 0, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), PL_ESTATE);
	assert_int_equal(known, 10);
	/* A proof for the wrong old size: 422. */
	make_body(&b, f->tree, 10, 9, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), PL_EPROOF);
	assert_int_equal(pl_witness_http_status(PL_EPROOF), 422);
	/* A fork: same first 9 leaves, then different. Its proof holds for its own tree only. */
	grow(fork, 9, 0);
	grow(fork, 20, 1);
	make_body(&b, fork, 10, 10, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), PL_EPROOF);
	/* Rollback to a smaller tree: old above the size is 400; old at its size is 409. */
	{
		struct pl_tlog_memstore *small = NULL;
		assert_int_equal(pl_tlog_memstore_new(&small), 0);
		grow(small, 5, 0);
		make_body(&b, small, 10, 5, ORIGIN, &f->lsk);
		assert_int_equal(submit(f, &b, &known), PL_EMALFORMED);
		assert_int_equal(pl_witness_http_status(PL_EMALFORMED), 400);
		known = 0;
		make_body(&b, small, 5, 5, ORIGIN, &f->lsk);
		assert_int_equal(submit(f, &b, &known), PL_ESTATE);
		assert_int_equal(known, 10);
		pl_tlog_memstore_free(small);
	}
	/* Same size, different root: 409 without a size. */
	{
		struct pl_tlog_memstore *twin = NULL;
		assert_int_equal(pl_tlog_memstore_new(&twin), 0);
		grow(twin, 10, 2);
		make_body(&b, twin, 10, 10, ORIGIN, &f->lsk);
		assert_int_equal(submit(f, &b, &known), PL_EINCONSISTENT);
		assert_int_equal(pl_witness_http_status(PL_EINCONSISTENT), 409);
		pl_tlog_memstore_free(twin);
	}
	/* Same size and root but a proof line: 422. */
	{
		struct pl_tlog_memstore *same = NULL;
		assert_int_equal(pl_tlog_memstore_new(&same), 0);
		grow(same, 10, 0);
		make_body(&b, same, 10, 10, ORIGIN, &f->lsk);
		/* Insert a proof line after "old 10\n". */
		struct pl_buf c;
		pl_buf_init(&c, PL_WITNESS_REQUEST_MAX);
		assert_int_equal(
		        pl_buf_adds(&c, "old 10\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"),
		        0);
		assert_int_equal(pl_buf_add(&c, b.data + 7, b.len - 7), 0);
		assert_int_equal(submit(f, &c, &known), PL_EPROOF);
		pl_buf_release(&c);
		pl_tlog_memstore_free(same);
	}
	/* Malformed bodies: 400. */
	assert_int_equal(pl_witness_add_checkpoint(f->w, "old 0\n\n", 7, NOW, &b, NULL),
	                 PL_EMALFORMED);
	assert_int_equal(pl_witness_add_checkpoint(f->w, "", 0, NOW, &b, NULL), PL_EMALFORMED);
	/* Nothing changed; the honest next checkpoint still goes through. */
	assert_int_equal(state_size(f), 10);
	make_body(&b, f->tree, 10, 10, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), 0);
	assert_int_equal(state_size(f), 20);
	assert_int_equal(pl_witness_http_status(0), 200);
	assert_int_equal(pl_witness_http_status(PL_ESTORE), 500);
	pl_tlog_memstore_free(fork);
	pl_skey_clear(&other);
	pl_skey_clear(&other_log);
	pl_buf_release(&b);
}

static void test_keys_and_reopen(void **state)
{
	struct fx *f = *state;
	struct pl_skey k2, wk;
	struct pl_vkey v2, wv;
	struct pl_buf b;
	uint64_t known = 0;

	pl_buf_init(&b, PL_WITNESS_REQUEST_MAX);
	assert_int_equal(pl_witness_create(f->dir, "witness.example", &wv), PL_EEXIST);
	assert_int_equal(pl_witness_log_add(f->w, ORIGIN, &f->lvk), PL_EEXIST);
	assert_int_equal(pl_witness_log_add(f->w, "", &f->lvk), PL_EINVAL);
	assert_int_equal(pl_key_generate(&wk, &wv, "w2", PL_SIGTYPE_COSIG_V1), 0);
	assert_int_equal(pl_witness_log_add(f->w, ORIGIN, &wv), PL_EINVAL);
	/* A second key for the log (a rotation): either signs. */
	assert_int_equal(pl_key_generate(&k2, &v2, ORIGIN "/2", PL_SIGTYPE_ED25519), 0);
	assert_int_equal(pl_witness_log_add(f->w, ORIGIN, &v2), 0);
	grow(f->tree, 4, 0);
	make_body(&b, f->tree, 0, 0, ORIGIN, &k2);
	assert_int_equal(submit(f, &b, &known), 0);
	/* The state survives a close (the durable state is what answers). */
	pl_witness_close(f->w);
	f->w = NULL;
	assert_int_equal(pl_witness_open(&f->w, f->dir, NULL), 0);
	assert_int_equal(state_size(f), 4);
	make_body(&b, f->tree, 0, 0, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), PL_ESTATE);
	assert_int_equal(known, 4);
	{
		struct pl_witness_log *logs = NULL;
		size_t n = 0;
		assert_int_equal(pl_witness_log_list(f->w, &logs, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(logs[0].nkeys, 2);
		free(logs);
	}
	{
		struct pl_witness *w2 = NULL;
		assert_int_equal(pl_witness_open(&w2, "/nonexistent-dir", NULL), PL_ENOTFOUND);
		assert_null(w2);
	}
	pl_skey_clear(&k2);
	pl_skey_clear(&wk);
	pl_buf_release(&b);
}

/* Several threads race different trees of the same size from the same old size. */
struct racer {
	struct fx *f;
	struct pl_buf body;
	int ret;
	uint64_t known;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct pl_buf cosig;

	pl_buf_init(&cosig, 4096);
	r->ret = pl_witness_add_checkpoint(r->f->w, r->body.data, r->body.len, NOW, &cosig,
	                                   &r->known);
	pl_buf_release(&cosig);
	return NULL;
}

static void test_race(void **state)
{
	enum { N = 8 };
	struct fx *f = *state;
	struct racer r[N];
	pthread_t t[N];
	int wins = 0;

	for (int i = 0; i < N; i++) {
		struct pl_tlog_memstore *m = NULL;
		assert_int_equal(pl_tlog_memstore_new(&m), 0);
		grow(m, 4 + (uint64_t)i % 3, i);
		r[i].f = f;
		r[i].known = 0;
		pl_buf_init(&r[i].body, PL_WITNESS_REQUEST_MAX);
		make_body(&r[i].body, m, 0, 0, ORIGIN, &f->lsk);
		pl_tlog_memstore_free(m);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < N; i++) {
		if (r[i].ret == 0)
			wins++;
		else
			assert_int_equal(r[i].ret, PL_ESTATE);
		pl_buf_release(&r[i].body);
	}
	/* Every fork started from old 0: exactly one can have been cosigned. */
	assert_int_equal(wins, 1);
	for (int i = 0; i < N; i++)
		if (r[i].ret)
			assert_int_equal(r[i].known, state_size(f));
}

/* ---- The log's side: pl_witness_cosign() against a real witness and canned answers ---- */

struct fake {
	struct fx *f;
	bool real;         /* answer with f->w; else with the canned answer below */
	bool fail;         /* no answer at all (transport failure) */
	unsigned status;   /* canned */
	const char *ctype; /* canned */
	const char *body;  /* canned (NULL: answer_body) */
	struct pl_buf *answer_body;
	int calls;
	uint64_t olds[4]; /* the old size of each request */
};

static int fake_post(void *arg, const char *url, const char *body, size_t len,
                     struct pl_witness_answer *a)
{
	struct fake *k = arg;
	struct pl_witness_request req;
	uint64_t known = 0;
	int err;

	assert_non_null(strstr(url, "/add-checkpoint"));
	assert_int_equal(pl_witness_request_parse(&req, body, len), 0);
	if (k->calls < 4)
		k->olds[k->calls] = req.old_size;
	k->calls++;
	pl_witness_request_release(&req);
	if (k->fail) {
		snprintf(a->detail, sizeof(a->detail), "connection refused");
		return PL_ENET;
	}
	if (!k->real) {
		a->status = k->status;
		snprintf(a->ctype, sizeof(a->ctype), "%s", k->ctype ? k->ctype : "");
		if (k->body)
			return pl_buf_adds(&a->body, k->body);
		return pl_buf_add(&a->body, k->answer_body->data, k->answer_body->len);
	}
	err = pl_witness_add_checkpoint(k->f->w, body, len, NOW, &a->body, &known);
	a->status = pl_witness_http_status(err);
	if (err == PL_ESTATE) {
		snprintf(a->ctype, sizeof(a->ctype), "%s", PL_WITNESS_SIZE_CTYPE);
		return pl_buf_addf(&a->body, "%llu\n", (unsigned long long)known);
	}
	snprintf(a->ctype, sizeof(a->ctype), "text/plain");
	return 0;
}

static int mem_consistency(void *arg, uint64_t old_size, uint64_t new_size,
                           uint8_t hashes[][PL_HASH_BYTES], size_t *n)
{
	struct pl_tlog_reader r = pl_tlog_memstore_reader(arg);

	return pl_tlog_prove_consistency(&r, old_size, new_size, hashes, n);
}

/* Cosigns the current tree of f through fake k; checks a returned line verifies over the note. */
static int cosign(struct fx *f, struct fake *k, const struct pl_witness_peer *peer, uint64_t *known,
                  struct pl_buf *detail)
{
	const struct pl_witness_transport t = {fake_post, k};
	const struct pl_witness_proofs pr = {mem_consistency, f->tree};
	struct pl_buf note, line;
	struct pl_note *n = NULL;
	bool verified[1] = {false};
	int ret;

	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	pl_buf_init(&line, 4096);
	signed_checkpoint(&note, f->tree, ORIGIN, &f->lsk);
	k->calls = 0;
	ret = pl_witness_cosign(&t, &pr, peer, known, note.data, note.len, &line, detail);
	if (ret == 0) {
		assert_int_equal(pl_buf_add(&note, line.data, line.len), 0);
		assert_int_equal(pl_note_parse(&n, note.data, note.len), 0);
		assert_int_equal(pl_note_verify(n, &peer->key, 1, verified), 0);
		assert_true(verified[0]);
		assert_int_equal(n->nsigs, 2);
		pl_note_free(n);
	} else {
		assert_int_equal(line.len, 0);
		if (detail)
			assert_true(detail->len > 0);
	}
	pl_buf_release(&note);
	pl_buf_release(&line);
	return ret;
}

static void test_client_real(void **state)
{
	struct fx *f = *state;
	struct fake k = {.f = f, .real = true};
	struct pl_witness_peer peer;
	uint64_t known = 0;

	memset(&peer, 0, sizeof(peer));
	snprintf(peer.url, sizeof(peer.url), "http://127.0.0.1:1");
	peer.key = *pl_witness_vkey(f->w);

	/* A witness that never saw the log: old 0, no proof, one request. */
	grow(f->tree, 5, 0);
	assert_int_equal(cosign(f, &k, &peer, &known, NULL), 0);
	assert_int_equal(k.calls, 1);
	assert_int_equal(known, 5);
	/* Grown: a proof from what it cosigned. */
	grow(f->tree, 9, 0);
	assert_int_equal(cosign(f, &k, &peer, &known, NULL), 0);
	assert_int_equal(k.calls, 1);
	assert_int_equal(k.olds[0], 5);
	assert_int_equal(known, 9);
	/* After a restart the client knows nothing: 409 tells the size, one retry from it. */
	known = 0;
	grow(f->tree, 12, 0);
	assert_int_equal(cosign(f, &k, &peer, &known, NULL), 0);
	assert_int_equal(k.calls, 2);
	assert_int_equal(k.olds[0], 0);
	assert_int_equal(k.olds[1], 9);
	assert_int_equal(known, 12);
	assert_int_equal(state_size(f), 12);
	/* The same size again (a restart after the witness cosigned it): it cosigns again. */
	known = 0;
	assert_int_equal(cosign(f, &k, &peer, &known, NULL), 0);
	assert_int_equal(k.calls, 2);
	assert_int_equal(k.olds[1], 12);
	/* A client that believes a wrong size is corrected once; a second 409 fails. */
	known = 3;
	grow(f->tree, 13, 0);
	assert_int_equal(cosign(f, &k, &peer, &known, NULL), 0);
	assert_int_equal(k.calls, 2);
	assert_int_equal(known, 13);
}

static void test_client_answers(void **state)
{
	struct fx *f = *state;
	struct pl_skey wsk, osk;
	struct pl_vkey wvk, ovk;
	struct pl_witness_peer peer;
	struct pl_buf note, good, other, bad, detail;
	struct pl_note *n = NULL;
	struct fake k = {.f = f};
	uint64_t known;
	static const struct {
		unsigned status;
		const char *ctype;
		const char *body;
		int want;
		int calls;
	} canned[] = {
	        {200, "text/plain", "", PL_EMALFORMED, 1},
	        {200, "text/plain", "hello\n", PL_EMALFORMED, 1},
	        {200, "text/plain", "\xe2\x80\x94 w.example AAAA\n", PL_EMALFORMED, 1},
	        {200, "text/plain", "\xe2\x80\x94 w.example\n", PL_EMALFORMED, 1},
	        {409, PL_WITNESS_SIZE_CTYPE, "3\n", PL_ESTATE, 2},
	        {409, PL_WITNESS_SIZE_CTYPE, "x\n", PL_EMALFORMED, 1},
	        {409, PL_WITNESS_SIZE_CTYPE, "03\n", PL_EMALFORMED, 1},
	        {409, PL_WITNESS_SIZE_CTYPE, "3", PL_EMALFORMED, 1},
	        {409, PL_WITNESS_SIZE_CTYPE, "100\n", PL_ERANGE, 1},
	        {409, "text/plain", "roots differ\n", PL_EINCONSISTENT, 1},
	        {400, "text/plain", "bad\n", PL_EINVAL, 1},
	        {413, "text/plain", "", PL_EINVAL, 1},
	        {403, "text/plain", "", PL_EDENIED, 1},
	        {404, "text/plain", "unknown log\n", PL_ENOTFOUND, 1},
	        {422, "text/plain", "", PL_EPROOF, 1},
	        {500, "text/plain", "", PL_ENET, 1},
	        {302, "text/plain", "", PL_ENET, 1},
	};

	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	pl_buf_init(&good, 4096);
	pl_buf_init(&other, PL_WITNESS_ANSWER_MAX);
	pl_buf_init(&bad, 4096);
	pl_buf_init(&detail, 1024);
	assert_int_equal(pl_key_generate(&wsk, &wvk, "w.example", PL_SIGTYPE_COSIG_V1), 0);
	assert_int_equal(pl_key_generate(&osk, &ovk, "other.example", PL_SIGTYPE_COSIG_V1), 0);
	memset(&peer, 0, sizeof(peer));
	snprintf(peer.url, sizeof(peer.url), "https://w.example/sub");
	peer.key = wvk;
	grow(f->tree, 7, 0);
	signed_checkpoint(&note, f->tree, ORIGIN, &f->lsk);
	assert_int_equal(pl_note_parse(&n, note.data, note.len), 0);
	assert_int_equal(pl_cosignature_sign(&good, &wsk, NOW, n->text, n->text_len), 0);
	assert_int_equal(pl_cosignature_sign(&other, &osk, NOW, n->text, n->text_len), 0);
	/* A cosignature by the right key over another time: it does not verify. */
	assert_int_equal(pl_cosignature_sign(&bad, &wsk, NOW + 1, n->text, n->text_len), 0);
	{
		/* Swap the 8 timestamp bytes of bad's signature for good's time. */
		struct pl_buf msg;
		struct pl_note *bn = NULL;
		uint8_t raw[PL_KEYID_BYTES + PL_COSIGNATURE_SIG_BYTES];
		pl_buf_init(&msg, PL_NOTE_MAX_BYTES);
		assert_int_equal(pl_buf_add(&msg, note.data, note.len), 0);
		assert_int_equal(pl_buf_add(&msg, bad.data, bad.len), 0);
		assert_int_equal(pl_note_parse(&bn, msg.data, msg.len), 0);
		memcpy(raw, bn->sigs[1].id, PL_KEYID_BYTES);
		memcpy(raw + PL_KEYID_BYTES, bn->sigs[1].sig, PL_COSIGNATURE_SIG_BYTES);
		raw[PL_KEYID_BYTES + 7] ^= 1; /* NOW + 1 -> NOW */
		pl_buf_reset(&bad);
		assert_int_equal(pl_buf_addf(&bad, "\xe2\x80\x94 w.example "), 0);
		assert_int_equal(pl_b64_append(&bad, raw, sizeof(raw)), 0);
		assert_int_equal(pl_buf_adds(&bad, "\n"), 0);
		pl_note_free(bn);
		pl_buf_release(&msg);
	}

	/* 200 with the good line beside another witness's: the good one, re-encoded. */
	k.status = 200;
	k.ctype = "text/plain";
	k.answer_body = &other;
	assert_int_equal(pl_buf_add(&other, good.data, good.len), 0);
	known = 0;
	assert_int_equal(cosign(f, &k, &peer, &known, &detail), 0);
	assert_int_equal(known, 7);
	/* 200 with only another witness's line: not ours. */
	pl_buf_reset(&other);
	assert_int_equal(pl_cosignature_sign(&other, &osk, NOW, n->text, n->text_len), 0);
	known = 0;
	pl_buf_reset(&detail);
	assert_int_equal(cosign(f, &k, &peer, &known, &detail), PL_ENOKEY);
	assert_int_equal(known, 0);
	/* 200 with a bad cosignature by our witness, alone or beside a good one. */
	k.answer_body = &bad;
	pl_buf_reset(&detail);
	assert_int_equal(cosign(f, &k, &peer, &known, &detail), PL_EVERIFY);
	assert_int_equal(pl_buf_add(&bad, good.data, good.len), 0);
	pl_buf_reset(&detail);
	assert_int_equal(cosign(f, &k, &peer, &known, &detail), PL_EVERIFY);
	assert_int_equal(known, 0);

	/*
	 * Deployed witnesses also cosign with key types this library does not know
	 * (ML-DSA: a 3309-byte signature, under the witness's own name with another
	 * key ID, or under another name). Such lines are ignored, never fatal: the
	 * Ed25519 cosignature beside them is taken, and an answer with only those
	 * lines is "no cosignature by our key", not a malformed answer.
	 */
	{
		static const char *const names[] = {"w.example", "pq.example"};
		uint8_t *pq = calloc(1, PL_KEYID_BYTES + 3309);
		assert_non_null(pq);
		for (size_t i = 0; i < 2; i++) {
			pl_buf_reset(&other);
			memset(pq, 0xa5, PL_KEYID_BYTES + 3309);
			assert_int_equal(pl_buf_addf(&other, "\xe2\x80\x94 %s ", names[i]), 0);
			assert_int_equal(pl_b64_append(&other, pq, PL_KEYID_BYTES + 3309), 0);
			assert_int_equal(pl_buf_adds(&other, "\n"), 0);
			k.status = 200;
			k.ctype = "text/plain";
			k.body = NULL;
			k.answer_body = &other;
			known = 0;
			pl_buf_reset(&detail);
			assert_int_equal(cosign(f, &k, &peer, &known, &detail), PL_ENOKEY);
			assert_int_equal(pl_buf_add(&other, good.data, good.len), 0);
			known = 0;
			assert_int_equal(cosign(f, &k, &peer, &known, &detail), 0);
			assert_int_equal(known, 7);
		}
		free(pq);
	}

	for (size_t i = 0; i < sizeof(canned) / sizeof(canned[0]); i++) {
		k.status = canned[i].status;
		k.ctype = canned[i].ctype;
		k.body = canned[i].body;
		known = 0;
		pl_buf_reset(&detail);
		print_message("canned answer %zu\n", i);
		assert_int_equal(cosign(f, &k, &peer, &known, &detail), canned[i].want);
		assert_int_equal(k.calls, canned[i].calls);
		if (canned[i].want == PL_ESTATE) {
			assert_int_equal(k.olds[1], 3);
			assert_int_equal(known, 3);
		}
	}
	/* No answer at all. */
	k.fail = true;
	pl_buf_reset(&detail);
	assert_int_equal(cosign(f, &k, &peer, &known, &detail), PL_ENET);
	assert_non_null(strstr(detail.data, "connection refused"));

	pl_note_free(n);
	pl_skey_clear(&wsk);
	pl_skey_clear(&osk);
	pl_buf_release(&note);
	pl_buf_release(&good);
	pl_buf_release(&other);
	pl_buf_release(&bad);
	pl_buf_release(&detail);
}

static void test_peer_parse(void **state)
{
	struct pl_skey sk;
	struct pl_vkey cvk, evk;
	struct pl_buf ck, ek, line, out;
	struct pl_witness_peer p;
	const char *why = NULL;
	static const char *const bad_urls[] = {
	        "ftp://w.example",    "http://",   "https://w.example/",   "http://w.example?x=1",
	        "http://w.example#f", "w.example", "http://w.exa\x7fmple",
	};

	(void)state;
	pl_buf_init(&ck, 1024);
	pl_buf_init(&ek, 1024);
	pl_buf_init(&line, 4096);
	pl_buf_init(&out, 4096);
	assert_int_equal(pl_key_generate(&sk, &cvk, "w.example", PL_SIGTYPE_COSIG_V1), 0);
	pl_skey_clear(&sk);
	assert_int_equal(pl_key_generate(&sk, &evk, "w.example", PL_SIGTYPE_ED25519), 0);
	pl_skey_clear(&sk);
	assert_int_equal(pl_vkey_format(&cvk, &ck), 0);
	assert_int_equal(pl_vkey_format(&evk, &ek), 0);

	assert_int_equal(pl_buf_addf(&line, "http://127.0.0.1:7380 \t %s", ck.data), 0);
	assert_int_equal(pl_witness_peer_parse(&p, line.data, line.len, &why), 0);
	assert_string_equal(p.url, "http://127.0.0.1:7380");
	assert_true(pl_vkey_equal(&p.key, &cvk));
	assert_int_equal(pl_witness_peer_format(&p, &out), 0);
	assert_int_equal(out.len, strlen("http://127.0.0.1:7380 ") + ck.len);

	/* An Ed25519 key is not a cosignature key. */
	pl_buf_reset(&line);
	assert_int_equal(pl_buf_addf(&line, "http://w.example %s", ek.data), 0);
	assert_int_equal(pl_witness_peer_parse(&p, line.data, line.len, &why), PL_EMALFORMED);
	assert_non_null(strstr(why, "0x04"));
	for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
		pl_buf_reset(&line);
		assert_int_equal(pl_buf_addf(&line, "%s %s", bad_urls[i], ck.data), 0);
		assert_int_equal(pl_witness_peer_parse(&p, line.data, line.len, &why),
		                 PL_EMALFORMED);
	}
	assert_int_equal(pl_witness_peer_parse(&p, "http://w.example", 16, &why), PL_EMALFORMED);
	assert_int_equal(pl_witness_peer_parse(&p, "http://w.example ", 17, &why), PL_EMALFORMED);
	assert_int_equal(pl_witness_peer_parse(&p, ck.data, ck.len, &why), PL_EMALFORMED);
	pl_buf_reset(&line);
	assert_int_equal(pl_buf_addf(&line, "http://w.example %s junk", ck.data), 0);
	assert_int_equal(pl_witness_peer_parse(&p, line.data, line.len, &why), PL_EMALFORMED);
	pl_buf_release(&ck);
	pl_buf_release(&ek);
	pl_buf_release(&line);
	pl_buf_release(&out);
}

/* The body the client builds parses back with the witness's own parser. */
static void test_request_format(void **state)
{
	struct fx *f = *state;
	struct pl_tlog_reader r = pl_tlog_memstore_reader(f->tree);
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	struct pl_witness_request *req = calloc(1, sizeof(*req));
	struct pl_buf note, body;
	size_t np = 0;

	assert_non_null(req);
	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	pl_buf_init(&body, PL_WITNESS_REQUEST_MAX);
	grow(f->tree, 1000, 0);
	signed_checkpoint(&note, f->tree, ORIGIN, &f->lsk);
	assert_int_equal(pl_tlog_prove_consistency(&r, 333, 1000, proof, &np), 0);
	assert_int_equal(pl_witness_request_format(&body, 333,
	                                           (const uint8_t(*)[PL_HASH_BYTES])proof, np,
	                                           note.data, note.len),
	                 0);
	assert_int_equal(pl_witness_request_parse(req, body.data, body.len), 0);
	assert_int_equal(req->old_size, 333);
	assert_int_equal(req->nproof, np);
	assert_memory_equal(req->proof, proof, np * PL_HASH_BYTES);
	assert_int_equal(req->cp.size, 1000);
	pl_witness_request_release(req);
	assert_int_equal(pl_witness_request_format(&body, 0, NULL, PL_WITNESS_PROOF_MAX + 1,
	                                           note.data, note.len),
	                 PL_EINVAL);
	free(req);
	pl_buf_release(&note);
	pl_buf_release(&body);
}

/*
 * Old size 0, as c2sp.org/tlog-witness says: the first request of a log, with an
 * empty proof; a checkpoint of size 0 is the empty tree (its root, the hash of
 * nothing) and cosigned as such; any proof line from size 0 is refused (422).
 */
static void test_old_zero(void **state)
{
	struct fx *f = *state;
	struct pl_buf b, c;
	uint64_t known = 0;

	pl_buf_init(&b, PL_WITNESS_REQUEST_MAX);
	pl_buf_init(&c, PL_WITNESS_REQUEST_MAX);
	/* The empty tree, from a witness that never saw the log: cosigned, state unchanged. */
	make_body(&b, f->tree, 0, 0, ORIGIN, &f->lsk);
	assert_int_equal(submit(f, &b, &known), 0);
	assert_int_equal(state_size(f), 0);
	/* A size-0 checkpoint that claims another root: a different tree at that size. */
	{
		struct pl_checkpoint *cp = malloc(sizeof(*cp));
		uint8_t root[PL_HASH_BYTES];
		assert_non_null(cp);
		memset(root, 7, sizeof(root));
		assert_int_equal(pl_checkpoint_set(cp, ORIGIN, 0, root), 0);
		assert_int_equal(pl_buf_adds(&c, "old 0\n\n"), 0);
		assert_int_equal(pl_checkpoint_sign(&c, cp, &f->lsk), 0);
		assert_int_equal(submit(f, &c, &known), PL_EINCONSISTENT);
		assert_int_equal(pl_witness_http_status(PL_EINCONSISTENT), 409);
		free(cp);
	}
	/* From 0 to 5 with a proof line: the proof from size 0 must be empty. */
	grow(f->tree, 5, 0);
	make_body(&b, f->tree, 0, 0, ORIGIN, &f->lsk);
	pl_buf_reset(&c);
	assert_int_equal(pl_buf_adds(&c, "old 0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"),
	                 0);
	assert_int_equal(pl_buf_add(&c, b.data + 6, b.len - 6), 0);
	assert_int_equal(submit(f, &c, &known), PL_EPROOF);
	assert_int_equal(state_size(f), 0);
	/* The same without the line is the log's first cosignature. */
	assert_int_equal(submit(f, &b, &known), 0);
	assert_int_equal(state_size(f), 5);
	pl_buf_release(&b);
	pl_buf_release(&c);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_parse),
             cmocka_unit_test_setup_teardown(test_grow, setup, teardown),
             cmocka_unit_test_setup_teardown(test_refuse, setup, teardown),
             cmocka_unit_test_setup_teardown(test_old_zero, setup, teardown),
             cmocka_unit_test_setup_teardown(test_keys_and_reopen, setup, teardown),
             cmocka_unit_test_setup_teardown(test_race, setup, teardown),
             cmocka_unit_test_setup_teardown(test_client_real, setup, teardown),
             cmocka_unit_test_setup_teardown(test_client_answers, setup, teardown),
             cmocka_unit_test(test_peer_parse),
             cmocka_unit_test_setup_teardown(test_request_format, setup, teardown))
