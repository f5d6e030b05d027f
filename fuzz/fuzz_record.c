/* libFuzzer target: record text parsing and formatting (exact round trip), and validation. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/encoding.h>
#include <parley/note.h>
#include <parley/record.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The keys of the examples in docs/records.md (seed = SHA-256 of the key name). */
static const char *const names[] = {"hotline.example", "hotline.example/rok-mnd",
                                    "hotline.example/unc", "hotline.example/kpa"};
static struct pl_vkey dir[4];
static struct pl_record *rec, *back;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		uint8_t seed[32], pk[32], sk[64];
		pl_sha256(seed, names[i], strlen(names[i]));
		crypto_sign_seed_keypair(pk, sk, seed);
		memset(&dir[i], 0, sizeof(dir[i]));
		memcpy(dir[i].name, names[i], strlen(names[i]));
		dir[i].type = PL_SIGTYPE_ED25519;
		memcpy(dir[i].pk, pk, sizeof(pk));
		pl_key_id(dir[i].id, names[i], PL_SIGTYPE_ED25519, pk);
		sodium_memzero(sk, sizeof(sk));
	}
	rec = calloc(1, sizeof(*rec));
	back = calloc(1, sizeof(*back));
	return rec && back ? 0 : -1;
}

/* A text the parser accepts formats back to the same bytes, and parses again. */
static void round_trip(const char *text, size_t len)
{
	struct pl_buf b;

	if (pl_record_parse(rec, text, len, NULL) != 0)
		return;
	pl_buf_init(&b, PL_RECORD_TEXT_MAX);
	if (pl_record_format(rec, &b, NULL) != 0 || b.len != len || memcmp(b.data, text, len) != 0)
		abort();
	if (pl_record_parse(back, b.data, b.len, NULL) != 0 || back->has != rec->has ||
	    back->kind != rec->kind || back->body_len != rec->body_len)
		abort();
	pl_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_vkey signer;
	const char *why = NULL;
	int ret;

	/* The input as a bare record text. */
	round_trip(msg, size);

	/* The input as a reason: a valid one is one line (docs/records.md §2). */
	if (pl_record_reason_is_valid(msg, size) && (size == 0 || memchr(msg, '\n', size)))
		abort();

	/* The input as a signed record: only the documented errors, and a text that round-trips. */
	ret = pl_record_open(rec, id, &signer, msg, size, dir, 4, &why);
	switch (ret) {
	case 0: {
		struct pl_note *n = NULL;
		uint8_t want[PL_RECORD_ID_BYTES];
		if (pl_note_parse(&n, msg, size) != 0)
			abort();
		round_trip(n->text, n->text_len);
		pl_sha256(want, msg, size);
		if (memcmp(id, want, sizeof(want)) != 0 ||
		    strcmp(signer.name, n->sigs[0].name) != 0)
			abort();
		pl_note_free(n);
		break;
	}
	case PL_ETOOBIG:
	case PL_EMALFORMED:
	case PL_ECHAIN:
	case PL_ENOKEY:
	case PL_EVERIFY:
		if (!why)
			abort();
		break;
	default:
		abort();
	}
	return 0;
}
