/* libFuzzer target: signed-note parsing, verification and re-serialisation. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/encoding.h>
#include <parley/note.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The published Go example key, so that corpus notes signed by it reach the verifier. */
static const char peter[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
/* A cosigner key, to drive the cosignature path. */
static const char remora[] = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
static struct pl_vkey keys[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || pl_vkey_parse(&keys[0], peter, strlen(peter)) != 0 ||
	    pl_vkey_parse(&keys[1], remora, strlen(remora)) != 0)
		return -1;
	return 0;
}

/* Rebuilds the serialized note from its parts; the parser is strict, so it must match. */
static void check_reserialize(const struct pl_note *n, const char *msg, size_t len)
{
	struct pl_buf b;
	uint8_t raw[PL_KEYID_BYTES + PL_NOTE_SIG_MAX];

	for (size_t i = 0; i < n->nsigs; i++) {
		if (n->sigs[i].sig_len == 0)
			return; /* an oversize signature: its bytes were not kept */
	}
	pl_buf_init(&b, 2 * PL_NOTE_MAX_BYTES);
	if (pl_buf_add(&b, n->text, n->text_len) || pl_buf_add(&b, "\n", 1))
		abort();
	for (size_t i = 0; i < n->nsigs; i++) {
		const struct pl_note_sig *s = &n->sigs[i];
		memcpy(raw, s->id, PL_KEYID_BYTES);
		memcpy(raw + PL_KEYID_BYTES, s->sig, s->sig_len);
		if (pl_buf_addf(&b, "\xe2\x80\x94 %s ", s->name) ||
		    pl_b64_append(&b, raw, PL_KEYID_BYTES + s->sig_len) || pl_buf_add(&b, "\n", 1))
			abort();
	}
	if (b.len != len || memcmp(b.data, msg, len) != 0)
		abort();
	pl_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	struct pl_note *n = NULL, *again = NULL;
	struct pl_buf b;
	bool verified[2];
	const uint8_t id[PL_KEYID_BYTES] = {0xf0, 0x0d, 0xca, 0xfe};
	const uint8_t sig[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	int ret;

	const char *why = NULL;

	ret = pl_note_parse_why(&n, msg, size, &why);
	if (ret != 0) {
		struct pl_note *m = NULL;
		/* A refusal always says why, and pl_note_parse() refuses the same way. */
		if (!why || !*why || pl_note_parse(&m, msg, size) != ret || m)
			abort();
		return 0;
	}
	pl_note_free(n);
	n = NULL;
	if (pl_note_parse(&n, msg, size) != 0)
		abort();
	if (n->nsigs == 0 || n->nsigs > PL_NOTE_MAX_SIGS || n->text_len >= size ||
	    !pl_note_text_is_valid(n->text, n->text_len) || strlen(n->text) != n->text_len)
		abort();
	check_reserialize(n, msg, size);
	ret = pl_note_verify(n, keys, 2, verified);
	if (ret != 0 && ret != PL_ENOKEY && ret != PL_EVERIFY && ret != PL_EAMBIGUOUS)
		abort();

	/* Adding a signature keeps a parseable note with one more line. */
	pl_buf_init(&b, 2 * PL_NOTE_MAX_BYTES);
	if (pl_buf_add(&b, msg, size))
		abort();
	ret = pl_note_add_sig(&b, "fuzz.example", id, sig, sizeof(sig));
	if (ret == 0) {
		if (pl_note_parse(&again, b.data, b.len) != 0 || again->nsigs != n->nsigs + 1 ||
		    again->text_len != n->text_len)
			abort();
		pl_note_free(again);
	} else if (ret != PL_EEXIST && ret != PL_ETOOBIG) {
		abort();
	} else if (b.len != size) {
		abort();
	}
	pl_buf_release(&b);
	pl_note_free(n);
	return 0;
}
