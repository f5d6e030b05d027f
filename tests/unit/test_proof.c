/* Unit tests of the proof module: c2sp.org/tlog-proof@v1 build, format, strict parse, verify. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <parley/checkpoint.h>
#include <parley/key.h>
#include <parley/note.h>
#include <parley/proof.h>
#include <parley/tlog.h>

#include "testutil.h"

#define ORIGIN  "hotline.example"
#define NLEAVES 1000

typedef uint8_t hash_t[PL_HASH_BYTES];

/* Shared fixture: a log of NLEAVES entries, a log key, a witness key, signed checkpoints. */
struct fixture {
	struct pl_tlog_memstore *m;
	struct pl_skey log_sk, wit_sk, other_sk;
	struct pl_vkey log_vk, wit_vk, other_vk;
	struct pl_buf note;   /* checkpoint at NLEAVES signed by the log */
	struct pl_buf cosig;  /* the same checkpoint signed by the log and the witness */
	struct pl_buf proof;  /* proof of entry 77 under note, no extra */
	struct pl_buf proofx; /* proof of entry 77 under cosig, with extra */
};

static size_t make_entry(char *out, uint64_t i)
{
	return (size_t)snprintf(out, 64, "entry %llu", (unsigned long long)i);
}

static void sign_checkpoint(struct fixture *f, struct pl_buf *out, uint64_t size,
                            const struct pl_skey *keys, size_t nkeys)
{
	struct pl_checkpoint cp;
	struct pl_tlog_reader r = pl_tlog_memstore_reader(f->m);
	struct pl_buf text;
	hash_t root;

	assert_int_equal(pl_tlog_tree_hash(&r, size, root), 0);
	assert_int_equal(pl_checkpoint_set(&cp, ORIGIN, size, root), 0);
	pl_buf_init(&text, PL_CHECKPOINT_MAX_BYTES);
	assert_int_equal(pl_checkpoint_format(&cp, &text), 0);
	assert_int_equal(pl_note_sign(out, text.data, text.len, keys, nkeys), 0);
	pl_buf_release(&text);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	hash_t *leaves = calloc(NLEAVES, sizeof(hash_t));
	struct pl_tlog_reader r;
	struct pl_skey both[2];
	const uint8_t extra[] = {'v', 'r', 'f', 0, 1, 2};
	char e[64];

	if (f == NULL || leaves == NULL || sodium_init() < 0)
		return -1;
	for (uint64_t i = 0; i < NLEAVES; i++)
		pl_tlog_leaf_hash(leaves[i], e, make_entry(e, i));
	if (pl_tlog_memstore_new(&f->m) != 0 || pl_tlog_memstore_append(f->m, leaves, NLEAVES) != 0)
		return -1;
	free(leaves);
	if (pl_key_generate(&f->log_sk, &f->log_vk, ORIGIN, PL_SIGTYPE_ED25519) != 0 ||
	    pl_key_generate(&f->wit_sk, &f->wit_vk, "witness.example", PL_SIGTYPE_ED25519) != 0 ||
	    pl_key_generate(&f->other_sk, &f->other_vk, ORIGIN, PL_SIGTYPE_ED25519) != 0)
		return -1;
	pl_buf_init(&f->note, 1 << 16);
	pl_buf_init(&f->cosig, 1 << 16);
	pl_buf_init(&f->proof, PL_TLOG_PROOF_MAX_BYTES);
	pl_buf_init(&f->proofx, PL_TLOG_PROOF_MAX_BYTES);
	sign_checkpoint(f, &f->note, NLEAVES, &f->log_sk, 1);
	both[0] = f->log_sk;
	both[1] = f->wit_sk;
	sign_checkpoint(f, &f->cosig, NLEAVES, both, 2);
	pl_skey_clear(&both[0]);
	pl_skey_clear(&both[1]);
	r = pl_tlog_memstore_reader(f->m);
	if (pl_proof_build(&f->proof, &r, 77, NULL, 0, f->note.data, f->note.len) != 0 ||
	    pl_proof_build(&f->proofx, &r, 77, extra, sizeof(extra), f->cosig.data, f->cosig.len) !=
	            0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pl_tlog_memstore_free(f->m);
	pl_skey_clear(&f->log_sk);
	pl_skey_clear(&f->wit_sk);
	pl_skey_clear(&f->other_sk);
	pl_buf_release(&f->note);
	pl_buf_release(&f->cosig);
	pl_buf_release(&f->proof);
	pl_buf_release(&f->proofx);
	free(f);
	return 0;
}

/* Builds, parses and verifies proofs for many entries, with the entry and its leaf hash. */
static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct pl_tlog_reader r = pl_tlog_memstore_reader(f->m);
	struct pl_buf b;
	char e[64];

	pl_buf_init(&b, PL_TLOG_PROOF_MAX_BYTES);
	for (uint64_t i = 0; i < NLEAVES; i += (i < 20 ? 1 : 37)) {
		struct pl_proof *p = NULL;
		struct pl_checkpoint cp;
		hash_t leaf;
		size_t n = make_entry(e, i);

		pl_buf_reset(&b);
		assert_int_equal(pl_proof_build(&b, &r, i, NULL, 0, f->note.data, f->note.len), 0);
		assert_int_equal(pl_proof_parse(&p, b.data, b.len), 0);
		assert_int_equal(p->index, i);
		assert_false(p->has_extra);
		assert_int_equal(p->checkpoint_len, f->note.len);
		assert_memory_equal(p->checkpoint, f->note.data, f->note.len);
		pl_tlog_leaf_hash(leaf, e, n);
		assert_int_equal(pl_proof_verify(p, leaf, ORIGIN, &f->log_vk, 1, &cp, NULL), 0);
		assert_int_equal(cp.size, NLEAVES);
		assert_int_equal(
		        pl_proof_open(b.data, b.len, e, n, ORIGIN, &f->log_vk, 1, NULL, NULL), 0);
		/* Another entry's proof does not prove this one. */
		n = make_entry(e, i + 1);
		assert_int_equal(
		        pl_proof_open(b.data, b.len, e, n, ORIGIN, &f->log_vk, 1, NULL, NULL),
		        PL_EPROOF);
		pl_proof_free(p);
	}
	pl_buf_release(&b);
}

/* The exact text: a golden for the 8 classic CT leaves, entry 5 (vectors inclusion/2). */
static void test_golden_text(void **state)
{
	static const char *const ct_leaves[] = {"",
	                                        "00",
	                                        "10",
	                                        "2021",
	                                        "3031",
	                                        "40414243",
	                                        "5051525354555657",
	                                        "606162636465666768696a6b6c6d6e6f"};
	struct fixture *f = *state;
	struct pl_tlog_memstore *m = NULL;
	struct pl_tlog_reader r;
	struct pl_checkpoint cp;
	struct pl_buf note, b, want;
	struct pl_proof *p = NULL;
	hash_t root;
	uint8_t data[16];

	assert_int_equal(pl_tlog_memstore_new(&m), 0);
	for (size_t i = 0; i < 8; i++) {
		hash_t h;
		size_t n = strlen(ct_leaves[i]) / 2;
		assert_int_equal(pl_hex_decode_exact(data, n, ct_leaves[i], 2 * n), 0);
		pl_tlog_leaf_hash(h, data, n);
		assert_int_equal(pl_tlog_memstore_append(m, &h, 1), 0);
	}
	r = pl_tlog_memstore_reader(m);
	assert_int_equal(pl_tlog_tree_hash(&r, 8, root), 0);
	assert_int_equal(pl_checkpoint_set(&cp, ORIGIN, 8, root), 0);
	pl_buf_init(&note, 1 << 16);
	pl_buf_init(&b, PL_TLOG_PROOF_MAX_BYTES);
	pl_buf_init(&want, PL_TLOG_PROOF_MAX_BYTES);
	assert_int_equal(pl_checkpoint_sign(&note, &cp, &f->log_sk), 0);
	assert_int_equal(pl_proof_build(&b, &r, 5, (const uint8_t *)"hi", 2, note.data, note.len),
	                 0);
	assert_int_equal(pl_buf_adds(&want, "c2sp.org/tlog-proof@v1\n"
	                                    "extra aGk=\n"
	                                    "index 5\n"
	                                    "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=\n"
	                                    "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=\n"
	                                    "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=\n"
	                                    "\n"),
	                 0);
	assert_int_equal(pl_buf_add(&want, note.data, note.len), 0);
	assert_int_equal(b.len, want.len);
	assert_memory_equal(b.data, want.data, b.len);
	assert_int_equal(pl_proof_parse(&p, b.data, b.len), 0);
	assert_true(p->has_extra && p->extra_len == 2 && memcmp(p->extra, "hi", 2) == 0);
	assert_int_equal(p->nhashes, 3);
	assert_int_equal(pl_proof_open(b.data, b.len, "\x40\x41\x42\x43", 4, ORIGIN, &f->log_vk, 1,
	                               NULL, NULL),
	                 0);
	pl_proof_free(p);
	pl_buf_release(&note);
	pl_buf_release(&b);
	pl_buf_release(&want);
	pl_tlog_memstore_free(m);
}

/* Keys: log key required, wrong origin or key refused, witness cosignature left to policy. */
static void test_keys_and_witnesses(void **state)
{
	struct fixture *f = *state;
	struct pl_vkey keys[2];
	struct pl_note *note = NULL;
	struct pl_checkpoint cp;
	bool seen[2] = {false, false};
	char e[64];
	size_t n = make_entry(e, 77);

	memset(&cp, 0x5a, sizeof(cp));
	/* Not signed by any key we know. */
	assert_int_equal(pl_proof_open(f->proof.data, f->proof.len, e, n, ORIGIN, &f->other_vk, 1,
	                               &cp, &note),
	                 PL_ENOKEY);
	assert_null(note);
	assert_int_equal(cp.size, 0x5a5a5a5a5a5a5a5aULL);
	assert_int_equal(
	        pl_proof_open(f->proof.data, f->proof.len, e, n, ORIGIN, &f->wit_vk, 1, NULL, NULL),
	        PL_ENOKEY);
	assert_int_equal(
	        pl_proof_open(f->proof.data, f->proof.len, e, n, ORIGIN, NULL, 0, NULL, NULL),
	        PL_ENOKEY);
	/* Right key, wrong origin. */
	assert_int_equal(pl_proof_open(f->proof.data, f->proof.len, e, n, "other.example",
	                               &f->log_vk, 1, NULL, NULL),
	                 PL_EVERIFY);
	/* One of several log keys is enough. */
	keys[0] = f->other_vk;
	keys[1] = f->log_vk;
	assert_int_equal(
	        pl_proof_open(f->proof.data, f->proof.len, e, n, ORIGIN, keys, 2, NULL, NULL), 0);
	/* The cosigned proof: the log key verifies it; the returned note carries the witness. */
	assert_int_equal(pl_proof_open(f->proofx.data, f->proofx.len, e, n, ORIGIN, &f->log_vk, 1,
	                               &cp, &note),
	                 0);
	assert_non_null(note);
	assert_int_equal(cp.size, NLEAVES);
	keys[0] = f->wit_vk;
	keys[1] = f->log_vk;
	assert_int_equal(pl_note_verify(note, keys, 2, seen), 0);
	assert_true(seen[0] && seen[1]);
	pl_note_free(note);
	/* Without the witness signature, the witness policy finds nothing. */
	assert_int_equal(pl_proof_open(f->proof.data, f->proof.len, e, n, ORIGIN, &f->log_vk, 1,
	                               NULL, &note),
	                 0);
	assert_int_equal(pl_note_verify(note, &f->wit_vk, 1, NULL), PL_ENOKEY);
	pl_note_free(note);
}

/* What a reader's policy makes of a proof: each way it does not hold is said in words. */
static void test_check_policy(void **state)
{
	struct fixture *f = *state;
	struct pl_proof *p = NULL, *px = NULL;
	struct pl_checkpoint cp;
	struct pl_buf why;
	hash_t leaf, other;
	char e[64];
	size_t cosigned = 99;
	struct pl_proof_policy pol = {.origin = ORIGIN, .logkeys = &f->log_vk, .nlogkeys = 1};
	static const struct {
		const char *origin;
		int logkey; /* 0: the log's, 1: another */
		size_t nwit, need;
		bool cosigned_proof, other_leaf;
		int err;
		const char *why;
	} cases[] = {
	        {ORIGIN, 0, 0, 0, false, false, 0, ""},
	        {ORIGIN, 0, 1, 1, true, false, 0, ""},
	        {ORIGIN, 0, 1, 0, false, false, 0, ""},
	        {ORIGIN, 0, 0, 0, false, true, PL_EPROOF,
	         "entry is not at index 77 of hotline.example at size 1000: the inclusion proof "
	         "does not hold"},
	        {ORIGIN, 1, 0, 0, false, false, PL_ENOKEY,
	         "checkpoint is not signed by log key hotline.example"},
	        {"other.example", 0, 0, 0, false, false, PL_EVERIFY,
	         "checkpoint is for log 'hotline.example', not 'other.example'"},
	        {ORIGIN, 0, 1, 1, false, false, PL_ENOKEY,
	         "checkpoint cosigned by 0 of the given witnesses, 1 required"},
	};

	pl_buf_init(&why, 1024);
	pl_tlog_leaf_hash(leaf, e, make_entry(e, 77));
	pl_tlog_leaf_hash(other, e, make_entry(e, 78));
	assert_int_equal(pl_proof_parse(&p, f->proof.data, f->proof.len), 0);
	assert_int_equal(pl_proof_parse(&px, f->proofx.data, f->proofx.len), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pl_buf_reset(&why);
		pol.origin = cases[i].origin;
		pol.logkeys = cases[i].logkey ? &f->other_vk : &f->log_vk;
		pol.witkeys = &f->wit_vk;
		pol.nwitkeys = cases[i].nwit;
		pol.need = cases[i].need;
		assert_int_equal(pl_proof_check(cases[i].cosigned_proof ? px : p,
		                                cases[i].other_leaf ? other : leaf, &pol, &cp,
		                                &cosigned, &why),
		                 cases[i].err);
		assert_string_equal(why.data ? why.data : "", cases[i].why);
		if (!cases[i].err) {
			assert_int_equal(cp.size, NLEAVES);
			assert_int_equal(cosigned, cases[i].cosigned_proof ? 1 : 0);
		}
	}
	pl_proof_free(p);
	pl_proof_free(px);
	pl_buf_release(&why);
}

/* Replaces the first occurrence of from with to in src, into out. */
static void replace(struct pl_buf *out, const struct pl_buf *src, const char *from, const char *to)
{
	const char *p = strstr(src->data, from);

	assert_non_null(p);
	pl_buf_reset(out);
	assert_int_equal(pl_buf_add(out, src->data, (size_t)(p - src->data)), 0);
	assert_int_equal(pl_buf_adds(out, to), 0);
	assert_int_equal(pl_buf_adds(out, p + strlen(from)), 0);
}

struct mutation {
	const char *from, *to;
	int err;
};

/* Edits of the valid proof (index 77 of 1000, with extra) that must not parse. */
static const struct mutation mutations[] = {
        {"c2sp.org/tlog-proof@v1\n", "", PL_EMALFORMED},
        {"c2sp.org/tlog-proof@v1\n", "c2sp.org/tlog-proof@v2\n", PL_EMALFORMED},
        {"c2sp.org/tlog-proof@v1\n", "c2sp.org/tlog-proof@v1 \n", PL_EMALFORMED},
        {"c2sp.org/tlog-proof@v1\n", "c2sp.org/tlog-proof@v1\r\n", PL_EMALFORMED},
        {"c2sp.org/tlog-proof@v1\n", "\nc2sp.org/tlog-proof@v1\n", PL_EMALFORMED},
        {"c2sp.org/tlog-proof@v1\n", "C2SP.org/tlog-proof@v1\n", PL_EMALFORMED},
        {"extra dnJmAAEC\n", "extra \n", PL_EMALFORMED},
        {"extra dnJmAAEC\n", "extra dnJmAAEC=\n", PL_EMALFORMED},
        {"extra dnJmAAEC\n", "extra dnJmAAE\n", PL_EMALFORMED},
        {"extra dnJmAAEC\n", "extra  dnJmAAEC\n", PL_EMALFORMED},
        {"extra dnJmAAEC\n", "extra dnJmAAEC \n", PL_EMALFORMED},
        {"extra dnJmAAEC\n", "Extra dnJmAAEC\n", PL_EMALFORMED},
        {"extra dnJmAAEC\n", "extra dnJmAAEC\nextra dnJmAAEC\n", PL_EMALFORMED},
        {"extra dnJmAAEC\nindex 77\n", "index 77\nextra dnJmAAEC\n", PL_EMALFORMED},
        {"extra dnJmAAEC\n", "extra dnJm_AEC\n", PL_EMALFORMED},
        {"index 77\n", "", PL_EMALFORMED},
        {"index 77\n", "index 077\n", PL_EMALFORMED},
        {"index 77\n", "index +77\n", PL_EMALFORMED},
        {"index 77\n", "index -77\n", PL_EMALFORMED},
        {"index 77\n", "index 77 \n", PL_EMALFORMED},
        {"index 77\n", "index  77\n", PL_EMALFORMED},
        {"index 77\n", "index\t77\n", PL_EMALFORMED},
        {"index 77\n", "index \n", PL_EMALFORMED},
        {"index 77\n", "index 0x4d\n", PL_EMALFORMED},
        {"index 77\n", "Index 77\n", PL_EMALFORMED},
        {"index 77\n", "index 9223372036854775808\n", PL_EMALFORMED},
        {"index 77\n", "index 18446744073709551616\n", PL_EMALFORMED},
        {"index 77\n", "index 77\nindex 77\n", PL_EMALFORMED},
        {"\n\nhotline.example\n", "\nhotline.example\n", PL_EMALFORMED},
        {"\n\nhotline.example\n", "\n\n\nhotline.example\n", PL_EMALFORMED},
        {"\n\nhotline.example\n", "\n \nhotline.example\n", PL_EMALFORMED},
        {"\n\nhotline.example\n", "\n\r\nhotline.example\n", PL_EMALFORMED},
        {"hotline.example\n1000\n", "hotline.example\n01000\n", PL_EMALFORMED},
        {"hotline.example\n1000\n", "hotline.example\n", PL_EMALFORMED},
        {"\n\xe2\x80\x94 ", "\n", PL_EMALFORMED},
};

static void test_malformed(void **state)
{
	struct fixture *f = *state;
	struct pl_buf b;
	struct pl_proof *p = (struct pl_proof *)&b; /* any non-NULL marker */
	struct pl_proof *marker = p;

	pl_buf_init(&b, 2 * PL_TLOG_PROOF_MAX_BYTES);
	assert_int_equal(pl_proof_parse(&p, f->proofx.data, f->proofx.len), 0);
	pl_proof_free(p);
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		const struct mutation *mu = &mutations[i];
		int rc;
		replace(&b, &f->proofx, mu->from, mu->to);
		p = marker;
		rc = pl_proof_parse(&p, b.data, b.len);
		if (rc != mu->err)
			fail_msg("mutation %zu (%s -> %s): got %d, want %d", i, mu->from, mu->to,
			         rc, mu->err);
		assert_ptr_equal(p, marker);
	}
	/* Hash lines: short, long, non-canonical, not base64, 31 bytes. */
	{
		const char *h = strchr(strstr(f->proof.data, "index "), '\n') + 1;
		char line[45];
		static const char *const bad[] = {
		        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
		        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n",
		        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
		        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!=\n",
		        " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		};
		memcpy(line, h, 44);
		line[44] = '\0';
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char from[46];
			snprintf(from, sizeof(from), "%s\n", line);
			replace(&b, &f->proof, from, bad[i]);
			p = marker;
			assert_int_equal(pl_proof_parse(&p, b.data, b.len), PL_EMALFORMED);
			assert_ptr_equal(p, marker);
		}
	}
	/* Nothing after the blank line, or a checkpoint followed by anything. */
	{
		const char *cut = strstr(f->proof.data, "\n\n") + 2;
		p = marker;
		assert_int_equal(pl_proof_parse(&p, f->proof.data, (size_t)(cut - f->proof.data)),
		                 PL_EMALFORMED);
		pl_buf_reset(&b);
		assert_int_equal(pl_buf_add(&b, f->proof.data, f->proof.len), 0);
		assert_int_equal(pl_buf_adds(&b, "x"), 0);
		assert_int_equal(pl_proof_parse(&p, b.data, b.len), PL_EMALFORMED);
		assert_int_equal(pl_buf_adds(&b, "\n"), 0);
		assert_int_equal(pl_proof_parse(&p, b.data, b.len), PL_EMALFORMED);
		assert_ptr_equal(p, marker);
	}
	/* Every strict prefix of a single-signature proof is refused. */
	for (size_t n = 0; n < f->proof.len; n++) {
		p = marker;
		assert_int_not_equal(pl_proof_parse(&p, f->proof.data, n), 0);
		assert_ptr_equal(p, marker);
	}
	/* Limits: too many hashes, too big. */
	{
		const char *after = strchr(strstr(f->proof.data, "index "), '\n') + 1;
		pl_buf_reset(&b);
		assert_int_equal(pl_buf_add(&b, f->proof.data, (size_t)(after - f->proof.data)), 0);
		for (int i = 0; i < PL_PROOF_MAX_HASHES + 1; i++)
			assert_int_equal(
			        pl_buf_adds(&b, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"),
			        0);
		assert_int_equal(pl_buf_adds(&b, "\n"), 0);
		assert_int_equal(pl_buf_add(&b, f->note.data, f->note.len), 0);
		assert_int_equal(pl_proof_parse(&p, b.data, b.len), PL_ETOOBIG);
		assert_int_equal(pl_proof_parse(&p, b.data, PL_TLOG_PROOF_MAX_BYTES + 1),
		                 PL_ETOOBIG);
		assert_ptr_equal(p, marker);
	}
	/* Extra data over its limit. */
	{
		uint8_t *big = calloc(1, PL_TLOG_PROOF_EXTRA_MAX + 3);
		struct pl_buf x;
		assert_non_null(big);
		pl_buf_init(&x, 2 * PL_TLOG_PROOF_MAX_BYTES);
		assert_int_equal(pl_buf_adds(&x, "c2sp.org/tlog-proof@v1\nextra "), 0);
		assert_int_equal(pl_b64_append(&x, big, PL_TLOG_PROOF_EXTRA_MAX + 3), 0);
		assert_int_equal(pl_buf_adds(&x, strstr(f->proof.data, "\nindex ")), 0);
		assert_int_equal(pl_proof_parse(&p, x.data, x.len), PL_ETOOBIG);
		pl_buf_release(&x);
		free(big);
	}
	assert_int_equal(pl_proof_parse(NULL, f->proof.data, f->proof.len), PL_EINVAL);
	pl_buf_release(&b);
}

/* No single-byte change to an extra-less proof both parses and verifies. */
static void test_every_byte_matters(void **state)
{
	struct fixture *f = *state;
	char *t = malloc(f->proof.len);
	char e[64];
	size_t n = make_entry(e, 77);

	assert_non_null(t);
	for (size_t i = 0; i < f->proof.len; i++) {
		static const uint8_t flips[] = {0x01, 0x20, 0x80};
		for (size_t k = 0; k < sizeof(flips); k++) {
			memcpy(t, f->proof.data, f->proof.len);
			t[i] = (char)(t[i] ^ flips[k]);
			assert_int_not_equal(pl_proof_open(t, f->proof.len, e, n, ORIGIN,
			                                   &f->log_vk, 1, NULL, NULL),
			                     0);
		}
	}
	free(t);
}

/* Format and build refuse what would not parse back, and an index past the tree. */
static void test_format_and_build_errors(void **state)
{
	struct fixture *f = *state;
	struct pl_tlog_reader r = pl_tlog_memstore_reader(f->m);
	hash_t hashes[PL_PROOF_MAX_HASHES + 1];
	uint8_t *extra = calloc(1, PL_TLOG_PROOF_EXTRA_MAX + 1);
	struct pl_buf b;
	struct pl_proof *p = NULL;
	char e[64];
	size_t n = make_entry(e, 5);

	assert_non_null(extra);
	memset(hashes, 0, sizeof(hashes));
	pl_buf_init(&b, PL_TLOG_PROOF_MAX_BYTES);
	assert_int_equal(pl_proof_build(&b, &r, NLEAVES, NULL, 0, f->note.data, f->note.len),
	                 PL_ERANGE);
	assert_int_equal(pl_proof_build(&b, &r, 0, NULL, 0, "junk\n", 5), PL_EINVAL);
	assert_int_equal(pl_proof_format(&b, 0, NULL, 0, hashes, 0, "junk\n", 5), PL_EINVAL);
	assert_int_equal(pl_proof_format(&b, 0, extra, 0, hashes, 0, f->note.data, f->note.len),
	                 PL_EINVAL);
	assert_int_equal(pl_proof_format(&b, 0, extra, PL_TLOG_PROOF_EXTRA_MAX + 1, hashes, 0,
	                                 f->note.data, f->note.len),
	                 PL_ETOOBIG);
	assert_int_equal(pl_proof_format(&b, 0, NULL, 0, hashes, PL_PROOF_MAX_HASHES + 1,
	                                 f->note.data, f->note.len),
	                 PL_ETOOBIG);
	assert_int_equal(pl_proof_format(&b, (uint64_t)1 << 63, NULL, 0, hashes, 0, f->note.data,
	                                 f->note.len),
	                 PL_EINVAL);
	assert_int_equal(b.len, 0);
	/* The largest extra fits and parses. */
	assert_int_equal(pl_proof_format(&b, 5, extra, PL_TLOG_PROOF_EXTRA_MAX, hashes, 0,
	                                 f->note.data, f->note.len),
	                 0);
	assert_int_equal(pl_proof_parse(&p, b.data, b.len), 0);
	assert_int_equal(p->extra_len, PL_TLOG_PROOF_EXTRA_MAX);
	/* Well-formed but wrong: an empty path for entry 5 of 1000 does not verify. */
	assert_int_equal(pl_proof_open(b.data, b.len, e, n, ORIGIN, &f->log_vk, 1, NULL, NULL),
	                 PL_EPROOF);
	pl_proof_free(p);
	/* An index at or past the checkpoint's size never verifies. */
	pl_buf_reset(&b);
	assert_int_equal(
	        pl_proof_format(&b, NLEAVES, NULL, 0, hashes, 10, f->note.data, f->note.len), 0);
	assert_int_equal(pl_proof_open(b.data, b.len, e, n, ORIGIN, &f->log_vk, 1, NULL, NULL),
	                 PL_EPROOF);
	/* The reader's error comes back. */
	{
		struct pl_tlog_memstore *empty = NULL;
		struct pl_tlog_reader er;
		assert_int_equal(pl_tlog_memstore_new(&empty), 0);
		er = pl_tlog_memstore_reader(empty);
		assert_int_equal(pl_proof_build(&b, &er, 3, NULL, 0, f->note.data, f->note.len),
		                 PL_ENOTFOUND);
		pl_tlog_memstore_free(empty);
	}
	pl_proof_free(NULL);
	pl_buf_release(&b);
	free(extra);
}

/* A proof under an older checkpoint stays valid; a checkpoint of size 0 proves nothing. */
static void test_sizes(void **state)
{
	struct fixture *f = *state;
	struct pl_tlog_reader r = pl_tlog_memstore_reader(f->m);
	struct pl_buf note, b;
	char e[64];
	size_t n = make_entry(e, 0);

	pl_buf_init(&note, 1 << 16);
	pl_buf_init(&b, PL_TLOG_PROOF_MAX_BYTES);
	for (uint64_t size = 1; size <= 9; size++) {
		pl_buf_reset(&note);
		pl_buf_reset(&b);
		sign_checkpoint(f, &note, size, &f->log_sk, 1);
		assert_int_equal(pl_proof_build(&b, &r, size - 1, NULL, 0, note.data, note.len), 0);
		n = make_entry(e, size - 1);
		assert_int_equal(
		        pl_proof_open(b.data, b.len, e, n, ORIGIN, &f->log_vk, 1, NULL, NULL), 0);
	}
	pl_buf_reset(&note);
	pl_buf_reset(&b);
	sign_checkpoint(f, &note, 0, &f->log_sk, 1);
	assert_int_equal(pl_proof_build(&b, &r, 0, NULL, 0, note.data, note.len), PL_ERANGE);
	assert_int_equal(pl_proof_format(&b, 0, NULL, 0, NULL, 0, note.data, note.len), 0);
	assert_int_equal(pl_proof_open(b.data, b.len, e, n, ORIGIN, &f->log_vk, 1, NULL, NULL),
	                 PL_EPROOF);
	pl_buf_release(&note);
	pl_buf_release(&b);
}

PL_TEST_MAIN(setup, teardown, cmocka_unit_test(test_round_trip), cmocka_unit_test(test_golden_text),
             cmocka_unit_test(test_keys_and_witnesses), cmocka_unit_test(test_check_policy),
             cmocka_unit_test(test_malformed), cmocka_unit_test(test_every_byte_matters),
             cmocka_unit_test(test_format_and_build_errors), cmocka_unit_test(test_sizes))
