/*
 * Unit tests of the replayed key directory: the log key, registers and revokes,
 * lookups by name and key ID, parties, the caller's per-key state, the bound on
 * keys, and the rules it hands pl_rules_check() (a revoked key never returns).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <parley/directory.h>
#include <parley/encoding.h>
#include <parley/record.h>
#include <parley/rules.h>

#include "testutil.h"

#define ORIGIN "hotline.example"

/* A verifier key with a made-up public key: the directory never verifies anything. */
static struct pl_vkey key_of(const char *party, uint8_t n)
{
	struct pl_vkey k;

	memset(&k, 0, sizeof(k));
	if (pl_record_key_name(k.name, ORIGIN, party) != 0)
		fail_msg("bad party %s", party);
	k.type = PL_SIGTYPE_ED25519;
	memset(k.pk, n, sizeof(k.pk));
	pl_key_id(k.id, k.name, k.type, k.pk);
	return k;
}

/* The log key: pl_record_key_name() names the exchange's key after the origin. */
static struct pl_vkey log_key(void)
{
	return key_of(PL_RECORD_EXCHANGE, 0xee);
}

/* The replay: the directory and the exchange's chain so far. */
struct replay {
	struct pl_directory d;
	uint64_t seq;
	uint8_t prev[PL_RECORD_ID_BYTES];
};

static void replay_start(struct replay *p, size_t extra, size_t max)
{
	struct pl_vkey lk = log_key();

	memset(p, 0, sizeof(*p));
	assert_int_equal(pl_directory_init(&p->d, &lk, extra, max), 0);
}

/* The next record of the exchange, of kind k about party with keys[0..n). */
static void exchange_record(struct replay *p, struct pl_record *r, enum pl_record_kind k,
                            const char *party, const struct pl_vkey *keys, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->kind = k;
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", PL_RECORD_EXCHANGE);
	r->seq = p->seq + 1;
	if (p->seq) {
		r->has |= PL_RECORD_HAS_PREV;
		memcpy(r->prev, p->prev, PL_RECORD_ID_BYTES);
	}
	r->time = 1763341200 + (int64_t)r->seq;
	r->has |= PL_RECORD_HAS_PARTY;
	snprintf(r->party, sizeof(r->party), "%s", party);
	r->nkeys = n;
	memcpy(r->keys, keys, n * sizeof(keys[0]));
}

/* Judges r as the exchange's next record; then, whatever the verdict, logs and applies it. */
static int replay(struct replay *p, const struct pl_record *r, const char **why)
{
	struct pl_rules_input in;
	uint8_t id[PL_RECORD_ID_BYTES];
	int ret;

	memset(id, 0, sizeof(id));
	memcpy(id, &r->seq, sizeof(r->seq));
	memset(&in, 0, sizeof(in));
	in.rec = r;
	in.id = id;
	ret = pl_directory_judge(&p->d, 0, &in, true, why);
	pl_directory_advance(&p->d, 0, r, id);
	assert_int_equal(pl_directory_apply(&p->d, r), 0);
	p->seq = r->seq;
	memcpy(p->prev, id, sizeof(id));
	return ret;
}

/* Registers (or revokes) the keys of party and checks the verdict. */
static void step(struct replay *p, enum pl_record_kind k, const char *party,
                 const struct pl_vkey *keys, size_t n, int want, const char *want_why)
{
	struct pl_record *r = malloc(sizeof(*r));
	const char *why = NULL;

	assert_non_null(r);
	exchange_record(p, r, k, party, keys, n);
	assert_int_equal(replay(p, r, &why), want);
	if (want_why)
		assert_string_equal(why, want_why);
	free(r);
}

static void test_init(void **state)
{
	struct pl_directory d;
	struct pl_vkey lk = log_key(), bad = key_of("kpa", 1);

	(void)state;
	assert_int_equal(pl_directory_init(&d, &lk, 0, PL_DIRECTORY_MAX_KEYS), 0);
	assert_string_equal(d.origin, ORIGIN);
	assert_int_equal(d.n, 1);
	assert_true(pl_vkey_equal(&d.keys[0], &lk));
	assert_int_equal(d.state[0].status, PL_KEY_ACTIVE);
	assert_false(d.state[0].has_head);
	assert_int_equal(pl_directory_find(&d, lk.name, lk.id), 0);
	assert_null(pl_directory_extra(&d, 0));
	pl_directory_release(&d);
	assert_null(d.keys);
	assert_int_equal(d.n, 0);
	pl_directory_release(&d); /* a released directory is a no-op */
	pl_directory_release(NULL);

	/* A key not named as an exchange origin; bounds out of range. */
	snprintf(bad.name, sizeof(bad.name), "Not An Origin");
	assert_int_equal(pl_directory_init(&d, &bad, 0, 8), PL_EINVAL);
	assert_null(d.keys);
	assert_int_equal(pl_directory_init(&d, &lk, 0, 0), PL_EINVAL);
	assert_int_equal(pl_directory_init(&d, &lk, 0, PL_DIRECTORY_MAX_KEYS + 1), PL_EINVAL);
	assert_int_equal(pl_directory_init(&d, &lk, SIZE_MAX, 8), PL_EINVAL);
	assert_int_equal(d.n, 0);
}

static void test_register_revoke(void **state)
{
	struct replay p;
	struct pl_vkey rok = key_of("rok-mnd", 1), unc = key_of("unc", 2);
	struct pl_vkey both[2] = {rok, unc};

	(void)state;
	replay_start(&p, 0, PL_DIRECTORY_MAX_KEYS);
	assert_int_equal(pl_directory_status(&p.d, &rok), PL_KEY_UNKNOWN);
	step(&p, PL_KIND_REGISTER, "rok-mnd", &rok, 1, 0, NULL);
	assert_int_equal(pl_directory_status(&p.d, &rok), PL_KEY_ACTIVE);
	assert_int_equal(pl_directory_find(&p.d, rok.name, rok.id), 1);
	assert_true(p.d.state[0].has_head);
	assert_int_equal(p.d.state[0].head.seq, 1);
	assert_false(p.d.state[1].has_head);

	step(&p, PL_KIND_REVOKE, "rok-mnd", &rok, 1, 0, NULL);
	assert_int_equal(pl_directory_status(&p.d, &rok), PL_KEY_REVOKED);
	assert_int_equal(pl_directory_find(&p.d, rok.name, rok.id), 1); /* stays in place */
	assert_int_equal(p.d.n, 2);

	/* A revoke of a key never registered breaks the rules; the replay keeps it, revoked. */
	step(&p, PL_KIND_REVOKE, "unc", &unc, 1, PL_ERULE, "a key it revokes is not active");
	assert_int_equal(pl_directory_status(&p.d, &unc), PL_KEY_REVOKED);
	assert_int_equal(p.d.n, 3);

	/* Revoking twice breaks them too. */
	step(&p, PL_KIND_REVOKE, "rok-mnd", &rok, 1, PL_ERULE, "a key it revokes is not active");

	/* Kinds other than register and revoke leave the keys alone. */
	{
		struct pl_record *r = malloc(sizeof(*r));
		assert_non_null(r);
		exchange_record(&p, r, PL_KIND_REGISTER, "unc", both, 2);
		r->kind = PL_KIND_STATEMENT;
		assert_int_equal(pl_directory_apply(&p.d, r), 0);
		assert_int_equal(pl_directory_status(&p.d, &unc), PL_KEY_REVOKED);
		free(r);
	}
	pl_directory_release(&p.d);
}

/* docs/records.md §7: "a revoked key never returns"; rotation adds a key beside the old. */
static void test_reregister(void **state)
{
	struct replay p;
	struct pl_vkey kpa = key_of("kpa", 3), kpa2 = key_of("kpa", 4), kpa3 = key_of("kpa", 10);
	struct pl_vkey both[2] = {kpa, kpa2}, later[2] = {kpa2, kpa3};

	(void)state;
	replay_start(&p, 0, PL_DIRECTORY_MAX_KEYS);
	step(&p, PL_KIND_REGISTER, "kpa", &kpa, 1, 0, NULL);
	/* Registering an active key again, alone, brings nothing new. */
	step(&p, PL_KIND_REGISTER, "kpa", &kpa, 1, PL_ERULE, "a register brings no new key");
	/* A new key alone: the party's active key must sign for it. */
	step(&p, PL_KIND_REGISTER, "kpa", &kpa2, 1, PL_ERULE,
	     "a new key of a registered party needs the signature of an active key");
	assert_int_equal(pl_directory_status(&p.d, &kpa2), PL_KEY_ACTIVE); /* as logged */
	assert_int_equal(p.d.n, 3);
	pl_directory_release(&p.d);

	/* Rotation: a new key beside the old, then the old one revoked; it cannot come back. */
	replay_start(&p, 0, PL_DIRECTORY_MAX_KEYS);
	step(&p, PL_KIND_REGISTER, "kpa", &kpa, 1, 0, NULL);
	step(&p, PL_KIND_REGISTER, "kpa", both, 2, 0, NULL);
	step(&p, PL_KIND_REVOKE, "kpa", &kpa, 1, 0, NULL);
	assert_true(pl_directory_party_is_active(&p.d, "kpa"));
	step(&p, PL_KIND_REGISTER, "kpa", both, 2, PL_ERULE,
	     "a key it registers was revoked, and never returns");
	/* The log holds it all the same: an auditor replays what the exchange logged. */
	assert_int_equal(pl_directory_status(&p.d, &kpa), PL_KEY_ACTIVE);
	assert_int_equal(p.d.n, 3);
	step(&p, PL_KIND_REGISTER, "kpa", later, 2, 0, NULL);
	{
		size_t active;
		bool known;
		pl_directory_party_keys(&p.d, "kpa", &active, &known);
		assert_int_equal(active, 3);
		assert_true(known);
		pl_directory_party_keys(&p.d, "unc", &active, &known);
		assert_int_equal(active, 0);
		assert_false(known);
		pl_directory_party_keys(&p.d, "Not A Name", &active, &known);
		assert_false(known);
	}
	pl_directory_release(&p.d);
}

static void test_lookups(void **state)
{
	struct replay p;
	struct pl_vkey unc = key_of("unc", 5), dprk = key_of("dprk", 6);
	struct pl_vkey other = key_of("unc", 7), renamed = unc, lk = log_key();

	(void)state;
	replay_start(&p, 0, PL_DIRECTORY_MAX_KEYS);
	step(&p, PL_KIND_REGISTER, "unc", &unc, 1, 0, NULL);
	step(&p, PL_KIND_REGISTER, "dprk", &dprk, 1, 0, NULL);

	assert_int_equal(pl_directory_find(&p.d, lk.name, lk.id), 0);
	assert_int_equal(pl_directory_find(&p.d, unc.name, unc.id), 1);
	assert_int_equal(pl_directory_find(&p.d, dprk.name, dprk.id), 2);
	/* The same name with another key ID, the same key ID under another name. */
	assert_int_equal(pl_directory_find(&p.d, unc.name, other.id), PL_DIRECTORY_NONE);
	snprintf(renamed.name, sizeof(renamed.name), "%s/unc2", ORIGIN);
	assert_int_equal(pl_directory_find(&p.d, renamed.name, unc.id), PL_DIRECTORY_NONE);
	assert_int_equal(pl_directory_status(&p.d, &renamed), PL_KEY_UNKNOWN);
	assert_int_equal(pl_directory_status(&p.d, &other), PL_KEY_UNKNOWN);

	/* Parties: registered while one of their keys is active. */
	assert_true(pl_directory_party_is_active(&p.d, "unc"));
	assert_true(pl_directory_party_is_active(&p.d, "dprk"));
	assert_false(pl_directory_party_is_active(&p.d, "kpa"));
	assert_false(pl_directory_party_is_active(&p.d, "Not A Name"));
	assert_false(pl_directory_party_is_active(&p.d, ""));
	{
		struct pl_vkey two[2] = {unc, other};
		step(&p, PL_KIND_REGISTER, "unc", two, 2, 0, NULL);
	}
	step(&p, PL_KIND_REVOKE, "unc", &unc, 1, 0, NULL);
	assert_true(pl_directory_party_is_active(&p.d, "unc"));
	step(&p, PL_KIND_REVOKE, "unc", &other, 1, 0, NULL);
	assert_false(pl_directory_party_is_active(&p.d, "unc"));
	assert_int_equal(p.d.n, 4);
	pl_directory_release(&p.d);
}

/* What the directory hands the rules: the signer's status and head, and the named parties. */
static void test_judge(void **state)
{
	struct replay p;
	struct pl_vkey rok = key_of("rok-mnd", 8), kpa = key_of("kpa", 9);
	struct pl_record *s = calloc(1, sizeof(*s));
	struct pl_rules_input in;
	uint8_t id[PL_RECORD_ID_BYTES] = {0x5e}, fork[PL_RECORD_ID_BYTES] = {0xf0};
	const char *why = NULL;

	(void)state;
	assert_non_null(s);
	replay_start(&p, 0, PL_DIRECTORY_MAX_KEYS);
	step(&p, PL_KIND_REGISTER, "rok-mnd", &rok, 1, 0, NULL);
	s->kind = PL_KIND_SEND;
	snprintf(s->exchange, sizeof(s->exchange), "%s", ORIGIN);
	snprintf(s->author, sizeof(s->author), "rok-mnd");
	s->seq = 1;
	s->time = 1763341300;
	s->has = PL_RECORD_HAS_CLASS;
	s->cls = PL_CLASS_MESSAGE;
	s->nto = 1;
	snprintf(s->to[0], sizeof(s->to[0]), "kpa");
	memset(&in, 0, sizeof(in));
	in.rec = s;
	in.id = id;

	/* kpa is not registered: refused when the directory is whole, not otherwise. */
	assert_int_equal(pl_directory_judge(&p.d, 1, &in, true, &why), PL_ERULE);
	assert_int_equal(pl_directory_judge(&p.d, 1, &in, false, &why), 0);
	step(&p, PL_KIND_REGISTER, "kpa", &kpa, 1, 0, NULL);
	assert_int_equal(pl_directory_judge(&p.d, 1, &in, true, &why), 0);

	/* The head: once rok-mnd has logged seq 1, another seq 1 is a fork. */
	pl_directory_advance(&p.d, 1, s, id);
	assert_true(p.d.state[1].has_head);
	in.id = fork;
	assert_int_equal(pl_directory_judge(&p.d, 1, &in, true, &why), PL_ECHAIN);
	s->seq = 2;
	s->has |= PL_RECORD_HAS_PREV;
	memcpy(s->prev, id, sizeof(id));
	assert_int_equal(pl_directory_judge(&p.d, 1, &in, true, &why), 0);

	/* A revoked signer, an unknown position. */
	step(&p, PL_KIND_REVOKE, "rok-mnd", &rok, 1, 0, NULL);
	assert_int_equal(pl_directory_judge(&p.d, 1, &in, true, &why), PL_ERULE);
	assert_string_equal(why, "signing key was revoked");
	assert_int_equal(pl_directory_judge(&p.d, p.d.n, &in, true, &why), PL_EINVAL);
	in.rec = NULL;
	assert_int_equal(pl_directory_judge(&p.d, 0, &in, true, &why), PL_EINVAL);
	pl_directory_advance(&p.d, p.d.n, s, id); /* out of range: ignored */
	free(s);
	pl_directory_release(&p.d);
}

/* The caller's per-key state: zeroed for each new key, aligned, kept as the arrays grow. */
static void test_extra(void **state)
{
	struct replay p;
	struct pl_vkey k;
	char party[16];

	(void)state;
	replay_start(&p, 3, PL_DIRECTORY_MAX_KEYS);
	assert_int_equal(p.d.extra_size, 3);
	for (uint8_t i = 0; i < 40; i++) {
		snprintf(party, sizeof(party), "p%u", (unsigned)i);
		k = key_of(party, i);
		step(&p, PL_KIND_REGISTER, party, &k, 1, 0, NULL);
		unsigned char *x = pl_directory_extra(&p.d, p.d.n - 1);
		assert_non_null(x);
		assert_int_equal((uintptr_t)x % alignof(max_align_t), 0);
		assert_int_equal(x[0] | x[1] | x[2], 0);
		memset(x, i + 1, 3);
	}
	for (size_t at = 1; at < p.d.n; at++) {
		unsigned char *x = pl_directory_extra(&p.d, at);
		assert_int_equal(x[0], at);
		assert_int_equal(x[2], at);
	}
	assert_null(pl_directory_extra(&p.d, p.d.n));
	pl_directory_release(&p.d);
}

/* The bound on keys: the last one that fits, then PL_ETOOBIG with the earlier keys kept. */
static void test_limits(void **state)
{
	struct replay p;
	struct pl_vkey keys[PL_RECORD_MAX_KEYS];
	struct pl_record *r = malloc(sizeof(*r));
	struct pl_vkey more = key_of("late", 0x40);

	(void)state;
	assert_non_null(r);
	for (uint8_t i = 0; i < PL_RECORD_MAX_KEYS; i++)
		keys[i] = key_of("many", (uint8_t)(0x30 + i));
	replay_start(&p, sizeof(size_t), 1 + PL_RECORD_MAX_KEYS + 1);
	step(&p, PL_KIND_REGISTER, "many", keys, PL_RECORD_MAX_KEYS, 0, NULL);
	assert_int_equal(p.d.n, 1 + PL_RECORD_MAX_KEYS);
	/* Re-registering a held key needs no room. */
	exchange_record(&p, r, PL_KIND_REGISTER, "many", &keys[1], 1);
	assert_int_equal(pl_directory_apply(&p.d, r), 0);
	r->keys[0] = more;
	assert_int_equal(pl_directory_apply(&p.d, r), 0);
	assert_int_equal(p.d.n, p.d.max);
	r->keys[0] = key_of("late", 0x41);
	assert_int_equal(pl_directory_apply(&p.d, r), PL_ETOOBIG);
	assert_int_equal(p.d.n, p.d.max);
	assert_int_equal(pl_directory_status(&p.d, &more), PL_KEY_ACTIVE);

	/* A record with more key lines than the grammar allows is not judged. */
	{
		struct pl_rules_input in;
		uint8_t id[PL_RECORD_ID_BYTES] = {1};
		r->nkeys = PL_RECORD_MAX_KEYS + 1;
		memset(&in, 0, sizeof(in));
		in.rec = r;
		in.id = id;
		assert_int_equal(pl_directory_judge(&p.d, 0, &in, true, NULL), PL_EINVAL);
	}
	free(r);
	pl_directory_release(&p.d);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_init), cmocka_unit_test(test_register_revoke),
             cmocka_unit_test(test_reregister), cmocka_unit_test(test_lookups),
             cmocka_unit_test(test_judge), cmocka_unit_test(test_extra),
             cmocka_unit_test(test_limits))
