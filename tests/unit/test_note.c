/* Unit tests of signed notes: published vectors, verification rules, malformed notes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/encoding.h>
#include <parley/key.h>
#include <parley/note.h>

#include "testutil.h"

#define NOTE_VECTOR(name, len) pl_test_read_vector("note", name, len)

#define EM                     "\xe2\x80\x94"

static void load_skey(struct pl_skey *sk, const char *file)
{
	size_t len;
	char *s = NOTE_VECTOR(file, &len);

	assert_true(len > 0 && s[len - 1] == '\n');
	assert_int_equal(pl_skey_parse(sk, s, len - 1), 0);
	sodium_memzero(s, len);
	free(s);
}

/* The Go example: signing the text with PeterNeumann's key gives the published note. */
static void test_go_sign(void **state)
{
	struct pl_skey sk;
	struct pl_buf b;
	size_t tlen, nlen;
	char *text = NOTE_VECTOR("go-text.txt", &tlen);
	char *want = NOTE_VECTOR("go-peter.note", &nlen);

	(void)state;
	load_skey(&sk, "go-peter.skey");
	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_note_sign(&b, text, tlen, &sk, 1), 0);
	assert_int_equal(b.len, nlen);
	assert_memory_equal(b.data, want, nlen);
	pl_buf_release(&b);
	pl_skey_clear(&sk);
	free(text);
	free(want);
}

static void test_go_open(void **state)
{
	struct pl_vkey keys[2];
	struct pl_note *n = NULL;
	bool verified[2];
	size_t len, tlen;
	char *msg = NOTE_VECTOR("go-peter-enoch.note", &len);
	char *text = NOTE_VECTOR("go-text.txt", &tlen);

	(void)state;
	pl_test_load_vkey(&keys[0], "go-peter.vkey");
	pl_test_load_vkey(&keys[1], "go-enoch.vkey");

	/* One known, one unknown. */
	assert_int_equal(pl_note_open(&n, msg, len, keys, 1, verified), 0);
	assert_true(verified[0]);
	assert_int_equal(n->text_len, tlen);
	assert_memory_equal(n->text, text, tlen);
	assert_int_equal(n->nsigs, 2);
	assert_string_equal(n->sigs[0].name, "PeterNeumann");
	assert_int_equal(n->sigs[0].sig_len, PL_ED25519_SIG_BYTES);
	assert_memory_equal(n->sigs[0].id, "\xc7\x4f\x20\xa3", 4);
	assert_string_equal(n->sigs[1].name, "EnochRoot");
	assert_memory_equal(n->sigs[1].id, "\xaf\x0c\xfe\x78", 4);
	pl_note_free(n);
	n = NULL;

	/* Both known. */
	assert_int_equal(pl_note_open(&n, msg, len, keys, 2, verified), 0);
	assert_true(verified[0]);
	assert_true(verified[1]);
	pl_note_free(n);
	n = NULL;

	/* Only the second one known. */
	assert_int_equal(pl_note_open(&n, msg, len, &keys[1], 1, verified), 0);
	assert_true(verified[0]);
	pl_note_free(n);
	n = NULL;

	/* None known: the note must be rejected, and nothing handed out. */
	assert_int_equal(pl_note_open(&n, msg, len, NULL, 0, NULL), PL_ENOKEY);
	assert_null(n);
	free(msg);
	free(text);
}

static void test_spec_example(void **state)
{
	struct pl_vkey vk;
	struct pl_note *n = NULL;
	size_t len;
	char *msg = NOTE_VECTOR("spec-example.note", &len);

	(void)state;
	pl_test_load_vkey(&vk, "spec-example.vkey");
	assert_int_equal(pl_note_open(&n, msg, len, &vk, 1, NULL), 0);
	assert_string_equal(n->text, "This is an example message.\n");
	pl_note_free(n);
	free(msg);
}

/* The spec's poem: a text with a blank line inside, split at the LAST blank line. */
static void test_spec_blank_line_in_text(void **state)
{
	struct pl_note *n = NULL;
	struct pl_vkey vk;
	size_t len;
	char *msg = NOTE_VECTOR("spec-quasimodo.note", &len);

	(void)state;
	assert_int_equal(pl_note_parse(&n, msg, len), 0);
	assert_string_equal(n->text, "Ognuno sta solo sul cuor della terra\n"
	                             "trafitto da un raggio di sole:\n"
	                             "\n"
	                             "ed \xc3\xa8 subito sera.\n");
	assert_int_equal(n->nsigs, 1);
	assert_string_equal(n->sigs[0].name, "quasimodo.example/salvatore");
	assert_int_equal(n->sigs[0].sig_len, PL_ED25519_SIG_BYTES);
	/* Its key is not published: a note signed by no known key is refused. */
	pl_test_load_vkey(&vk, "go-peter.vkey");
	assert_int_equal(pl_note_verify(n, &vk, 1, NULL), PL_ENOKEY);
	pl_note_free(n);
	free(msg);
}

/* Adding EnochRoot's published signature to PeterNeumann's note gives Go's doubly-signed note. */
static void test_add_sig(void **state)
{
	struct pl_note *both = NULL;
	struct pl_buf b;
	size_t len, wlen;
	char *msg = NOTE_VECTOR("go-peter.note", &len);
	char *want = NOTE_VECTOR("go-peter-enoch.note", &wlen);

	(void)state;
	assert_int_equal(pl_note_parse(&both, want, wlen), 0);
	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_buf_add(&b, msg, len), 0);
	assert_int_equal(pl_note_add_sig(&b, both->sigs[1].name, both->sigs[1].id,
	                                 both->sigs[1].sig, both->sigs[1].sig_len),
	                 0);
	assert_int_equal(b.len, wlen);
	assert_memory_equal(b.data, want, wlen);
	/* The same key again: refused, buffer unchanged. */
	assert_int_equal(pl_note_add_sig(&b, both->sigs[1].name, both->sigs[1].id,
	                                 both->sigs[1].sig, both->sigs[1].sig_len),
	                 PL_EEXIST);
	assert_int_equal(pl_note_add_sig(&b, both->sigs[0].name, both->sigs[0].id,
	                                 both->sigs[0].sig, both->sigs[0].sig_len),
	                 PL_EEXIST);
	assert_int_equal(b.len, wlen);
	pl_buf_release(&b);
	pl_note_free(both);
	free(msg);
	free(want);
}

static void test_add_sig_errors(void **state)
{
	struct pl_buf b;
	uint8_t id[4] = {1, 2, 3, 4}, sig[PL_NOTE_SIG_MAX + 1];
	size_t len;
	char *msg = NOTE_VECTOR("go-peter.note", &len);

	(void)state;
	memset(sig, 9, sizeof(sig));
	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_buf_adds(&b, "not a note\n"), 0);
	assert_int_equal(pl_note_add_sig(&b, "k", id, sig, 64), PL_EMALFORMED);
	assert_string_equal(b.data, "not a note\n");
	pl_buf_reset(&b);
	assert_int_equal(pl_note_add_sig(&b, "k", id, sig, 64), PL_EMALFORMED);
	assert_int_equal(pl_buf_add(&b, msg, len), 0);
	assert_int_equal(pl_note_add_sig(&b, "bad name", id, sig, 64), PL_EINVAL);
	assert_int_equal(pl_note_add_sig(&b, "a+b", id, sig, 64), PL_EINVAL);
	assert_int_equal(pl_note_add_sig(&b, "", id, sig, 64), PL_EINVAL);
	assert_int_equal(pl_note_add_sig(&b, "k", id, sig, 0), PL_EINVAL);
	assert_int_equal(pl_note_add_sig(&b, "k", id, sig, PL_NOTE_SIG_MAX + 1), PL_ETOOBIG);
	assert_int_equal(b.len, len);
	/* Up to the signature limit, then no more. */
	for (int i = 1; i < PL_NOTE_MAX_SIGS; i++) {
		id[0] = (uint8_t)i;
		assert_int_equal(pl_note_add_sig(&b, "k", id, sig, 64), 0);
	}
	size_t full = b.len;
	id[0] = 0xff;
	assert_int_equal(pl_note_add_sig(&b, "k", id, sig, 64), PL_ETOOBIG);
	assert_int_equal(b.len, full);
	pl_buf_release(&b);
	/* A buffer with no room: unchanged. */
	pl_buf_init(&b, len + 10);
	assert_int_equal(pl_buf_add(&b, msg, len), 0);
	assert_int_equal(pl_note_add_sig(&b, "k", id, sig, 64), PL_ETOOBIG);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, msg, len);
	pl_buf_release(&b);
	free(msg);
}

/* Builds text + "\n" + the given signature lines into a heap string. */
static char *compose(const char *text, const char *const *lines, size_t nlines, size_t *len)
{
	struct pl_buf b;
	char *s;

	pl_buf_init(&b, 4 * PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_buf_adds(&b, text), 0);
	assert_int_equal(pl_buf_adds(&b, "\n"), 0);
	for (size_t i = 0; i < nlines; i++)
		assert_int_equal(pl_buf_adds(&b, lines[i]), 0);
	s = pl_buf_detach(&b, len);
	assert_non_null(s);
	return s;
}

#define GO_TEXT                                                      \
	"If you think cryptography is the answer to your problem,\n" \
	"then you don't know what your problem is.\n"
#define PETER_SIG                                                                               \
	EM " PeterNeumann "                                                                     \
	   "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6" \
	   "RyyBwJnAM=\n"
#define ENOCH_SIG                                                                               \
	EM " EnochRoot "                                                                        \
	   "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WW" \
	   "d1RvMc+QQ=\n"

/* A copy of line with "ABCD" inserted at byte 60, as Go's tests corrupt a signature. */
static void corrupt(char *out, size_t cap, const char *line)
{
	snprintf(out, cap, "%.60sABCD%s", line, line + 60);
}

static void test_go_open_rules(void **state)
{
	struct pl_vkey keys[2];
	struct pl_note *n = NULL;
	char bad_peter[256], bad_enoch[256];
	bool verified[2];
	size_t len;
	char *msg;

	(void)state;
	pl_test_load_vkey(&keys[0], "go-peter.vkey");
	pl_test_load_vkey(&keys[1], "go-enoch.vkey");
	corrupt(bad_peter, sizeof(bad_peter), PETER_SIG);
	corrupt(bad_enoch, sizeof(bad_enoch), ENOCH_SIG);

	/* A known key's signature that does not verify rejects the note. */
	{
		const char *lines[] = {bad_peter};
		msg = compose(GO_TEXT, lines, 1, &len);
		assert_int_equal(pl_note_open(&n, msg, len, keys, 1, NULL), PL_EVERIFY);
		assert_null(n);
		free(msg);
	}
	/* Repeated signatures: good ones by a known key are fine, bad ones by unknown keys ignored.
	 */
	{
		const char *lines[] = {PETER_SIG, PETER_SIG, ENOCH_SIG, ENOCH_SIG, bad_enoch};
		msg = compose(GO_TEXT, lines, 5, &len);
		assert_int_equal(pl_note_open(&n, msg, len, keys, 1, verified), 0);
		assert_true(verified[0]);
		assert_int_equal(n->nsigs, 5);
		pl_note_free(n);
		n = NULL;
		/* ...but once EnochRoot is known, its bad duplicate rejects the note. */
		assert_int_equal(pl_note_open(&n, msg, len, keys, 2, verified), PL_EVERIFY);
		assert_null(n);
		free(msg);
	}
	/* A bad duplicate after a good signature is not skipped either. */
	{
		const char *lines[] = {PETER_SIG, bad_peter};
		msg = compose(GO_TEXT, lines, 2, &len);
		assert_int_equal(pl_note_open(&n, msg, len, keys, 1, NULL), PL_EVERIFY);
		free(msg);
	}
	/* Too many signatures: refused before any verification, known key or not. */
	{
		const char *lines[101];
		for (size_t i = 0; i < 101; i++)
			lines[i] = PETER_SIG;
		msg = compose(GO_TEXT, lines, 101, &len);
		assert_int_equal(pl_note_open(&n, msg, len, keys, 1, NULL), PL_ETOOBIG);
		assert_int_equal(pl_note_open(&n, msg, len, NULL, 0, NULL), PL_ETOOBIG);
		free(msg);
		msg = compose(GO_TEXT, lines, PL_NOTE_MAX_SIGS + 1, &len);
		assert_int_equal(pl_note_parse(&n, msg, len), PL_ETOOBIG);
		{
			const char *why = NULL;
			assert_int_equal(pl_note_parse_why(&n, msg, len, &why), PL_ETOOBIG);
			assert_string_equal(why, "more than 64 signature lines");
		}
		free(msg);
		msg = compose(GO_TEXT, lines, PL_NOTE_MAX_SIGS, &len);
		assert_int_equal(pl_note_open(&n, msg, len, keys, 1, NULL), 0);
		assert_int_equal(n->nsigs, PL_NOTE_MAX_SIGS);
		pl_note_free(n);
		n = NULL;
		free(msg);
	}
}

/* Same name but another key ID, or same key ID but another name: not the known key. */
static void test_unknown_lookalikes(void **state)
{
	struct pl_vkey peter, other_id, other_name;
	struct pl_note *n = NULL;
	size_t len;
	char *msg = NOTE_VECTOR("go-peter.note", &len);

	(void)state;
	pl_test_load_vkey(&peter, "go-peter.vkey");
	other_id = peter;
	other_id.id[3] ^= 1;
	other_name = peter;
	memcpy(other_name.name, "PeterNeumanm", 13);
	assert_int_equal(pl_note_parse(&n, msg, len), 0);
	assert_int_equal(pl_note_verify(n, &other_id, 1, NULL), PL_ENOKEY);
	assert_int_equal(pl_note_verify(n, &other_name, 1, NULL), PL_ENOKEY);
	/* A key that claims Peter's name and ID but holds another public key fails loudly. */
	other_id = peter;
	other_id.pk[0] ^= 1;
	assert_int_equal(pl_note_verify(n, &other_id, 1, NULL), PL_EVERIFY);
	pl_note_free(n);
	free(msg);
}

static void test_ambiguous_keys(void **state)
{
	struct pl_vkey keys[3];
	struct pl_note *n = NULL;
	bool verified[3] = {true, true, true};
	size_t len;
	char *msg = NOTE_VECTOR("go-peter.note", &len);

	(void)state;
	pl_test_load_vkey(&keys[0], "go-enoch.vkey");
	pl_test_load_vkey(&keys[1], "go-peter.vkey");
	keys[2] = keys[1];
	assert_int_equal(pl_note_parse(&n, msg, len), 0);
	/* The same key listed twice is harmless. */
	assert_int_equal(pl_note_verify(n, keys, 3, verified), 0);
	assert_false(verified[0]);
	assert_true(verified[1]);
	assert_true(verified[2]);
	/* Two different keys under one name and key ID: the key list is unusable. */
	keys[2].pk[5] ^= 0x40;
	verified[0] = true;
	assert_int_equal(pl_note_verify(n, keys, 3, verified), PL_EAMBIGUOUS);
	assert_true(verified[0]); /* untouched on error */
	/* ...but only when a signature names them. */
	keys[1] = keys[0];
	keys[2] = keys[0];
	keys[2].pk[0] ^= 1;
	assert_int_equal(pl_note_verify(n, &keys[1], 2, NULL), PL_ENOKEY);
	pl_note_free(n);
	free(msg);
}

struct bad_note {
	const char *what;
	const char *msg;
	int want;
	const char *why; /* the reason pl_note_parse_why() gives, when the case pins it */
};

#define PETER_B64          \
	"x08go/ZJkuBS9UG/" \
	"SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="

static const struct bad_note bad_notes[] = {
        /* Go's note_test.go bad messages. */
        {"text only", GO_TEXT, PL_EMALFORMED, "no blank line before the signature lines"},
        {"blank line, no signature", GO_TEXT "\n", PL_EMALFORMED, "no signature line"},
        {"missing final newline", GO_TEXT "\n" EM " PeterNeumann " PETER_B64, PL_EMALFORMED,
         "last signature line does not end in a newline"},
        {"control character", "\x01" GO_TEXT "\n" PETER_SIG, PL_EMALFORMED,
         "note is not UTF-8 without control characters"},
        {"invalid UTF-8", "\xff" GO_TEXT "\n" PETER_SIG, PL_EMALFORMED,
         "note is not UTF-8 without control characters"},
        {"space in name", GO_TEXT "\n" EM " Bad Name " PETER_B64, PL_EMALFORMED, NULL},
        {"line after signatures", GO_TEXT "\n" PETER_SIG "Unexpected line.\n", PL_EMALFORMED,
         "malformed signature line"},
        /* More. */
        {"empty", "", PL_EMALFORMED, "no blank line before the signature lines"},
        {"newline only", "\n", PL_EMALFORMED, NULL},
        {"no blank line", GO_TEXT PETER_SIG, PL_EMALFORMED, NULL},
        {"blank line after signatures", GO_TEXT "\n" PETER_SIG "\n", PL_EMALFORMED,
         "no signature line"},
        {"CRLF text", "a\r\nb\r\n\r\n" PETER_SIG, PL_EMALFORMED, NULL},
        {"CRLF signature line", GO_TEXT "\n" EM " PeterNeumann " PETER_B64 "\r\n", PL_EMALFORMED,
         NULL},
        {"tab in text", "a\tb\n\n" PETER_SIG, PL_EMALFORMED,
         "note is not UTF-8 without control characters"},
        {"escape in text", "a\x1b[31mb\n\n" PETER_SIG, PL_EMALFORMED, NULL},
        {"overlong UTF-8",
         "a\xc0\xaf"
         "b\n\n" PETER_SIG,
         PL_EMALFORMED, NULL},
        {"surrogate", "a\xed\xa0\x80\n\n" PETER_SIG, PL_EMALFORMED, NULL},
        {"truncated UTF-8", "a\xe2\x80\n\n" PETER_SIG, PL_EMALFORMED, NULL},
        {"ASCII hyphen", GO_TEXT "\n- PeterNeumann " PETER_B64 "\n", PL_EMALFORMED, NULL},
        {"double hyphen", GO_TEXT "\n-- PeterNeumann " PETER_B64 "\n", PL_EMALFORMED, NULL},
        {"en dash", GO_TEXT "\n\xe2\x80\x93 PeterNeumann " PETER_B64 "\n", PL_EMALFORMED,
         "malformed signature line"},
        {"em dash without space", GO_TEXT "\n" EM "PeterNeumann " PETER_B64 "\n", PL_EMALFORMED,
         NULL},
        {"two spaces after dash", GO_TEXT "\n" EM "  PeterNeumann " PETER_B64 "\n", PL_EMALFORMED,
         NULL},
        {"two spaces after name", GO_TEXT "\n" EM " PeterNeumann  " PETER_B64 "\n", PL_EMALFORMED,
         NULL},
        {"no signature", GO_TEXT "\n" EM " PeterNeumann\n", PL_EMALFORMED, NULL},
        {"empty signature", GO_TEXT "\n" EM " PeterNeumann \n", PL_EMALFORMED, NULL},
        {"trailing space", GO_TEXT "\n" EM " PeterNeumann " PETER_B64 " \n", PL_EMALFORMED, NULL},
        {"'+' in name", GO_TEXT "\n" EM " Peter+Neumann " PETER_B64 "\n", PL_EMALFORMED, NULL},
        {"no-break space in name", GO_TEXT "\n" EM " Peter\xc2\xa0Neumann " PETER_B64 "\n",
         PL_EMALFORMED, NULL},
        {"bad base64 character", GO_TEXT "\n" EM " PeterNeumann x08go!ZJ\n", PL_EMALFORMED, NULL},
        {"url-safe base64", GO_TEXT "\n" EM " PeterNeumann x08go_ZJ\n", PL_EMALFORMED, NULL},
        {"unpadded base64",
         GO_TEXT "\n" EM " PeterNeumann "
                 "x08go/ZJkuBS9UG/"
                 "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n",
         PL_EMALFORMED, NULL},
        {"non-canonical base64", GO_TEXT "\n" EM " PeterNeumann AAAAAAB=\n", PL_EMALFORMED,
         "malformed signature line"},
        {"padding inside", GO_TEXT "\n" EM " PeterNeumann AA==AAAA\n", PL_EMALFORMED, NULL},
        {"key ID only", GO_TEXT "\n" EM " PeterNeumann AAAAAA==\n", PL_EMALFORMED, NULL},
        {"key ID short", GO_TEXT "\n" EM " PeterNeumann AAAA\n", PL_EMALFORMED, NULL},
        {"signature line in text only", EM " PeterNeumann " PETER_B64 "\n", PL_EMALFORMED, NULL},
        {"blank line and no text before", "\n" PETER_SIG, PL_EMALFORMED, NULL},
        {"NUL in text", "a\0b\n\n" PETER_SIG, PL_EMALFORMED,
         "note is not UTF-8 without control characters"},
};

/* Lengths of the entries above that hold a NUL byte. */
static size_t bad_note_len(const struct bad_note *c)
{
	if (strcmp(c->what, "NUL in text") == 0)
		return 5 + strlen(PETER_SIG);
	return strlen(c->msg);
}

static void test_bad_notes(void **state)
{
	struct pl_vkey vk;

	(void)state;
	pl_test_load_vkey(&vk, "go-peter.vkey");
	for (size_t i = 0; i < sizeof(bad_notes) / sizeof(bad_notes[0]); i++) {
		struct pl_note *sentinel = (struct pl_note *)&vk, *n = sentinel;
		size_t len = bad_note_len(&bad_notes[i]);
		const char *why = NULL;
		int got = pl_note_parse(&n, bad_notes[i].msg, len);
		if (got != bad_notes[i].want)
			fail_msg("note case '%s': got %d, want %d", bad_notes[i].what, got,
			         bad_notes[i].want);
		assert_ptr_equal(n, sentinel);
		/* The same refusal, with a reason that says what is wrong. */
		got = pl_note_parse_why(&n, bad_notes[i].msg, len, &why);
		if (got != bad_notes[i].want || !why || !*why ||
		    (bad_notes[i].why && strcmp(why, bad_notes[i].why) != 0))
			fail_msg("note case '%s': got %d '%s', want %d '%s'", bad_notes[i].what,
			         got, why ? why : "(none)", bad_notes[i].want,
			         bad_notes[i].why ? bad_notes[i].why : "(any)");
		assert_ptr_equal(n, sentinel);
		got = pl_note_open(&n, bad_notes[i].msg, len, &vk, 1, NULL);
		if (got != bad_notes[i].want)
			fail_msg("note case '%s' (open): got %d, want %d", bad_notes[i].what, got,
			         bad_notes[i].want);
		assert_ptr_equal(n, sentinel);
	}
}

static void test_oversize_note(void **state)
{
	struct pl_note *n = NULL;
	size_t len = PL_NOTE_MAX_BYTES + 1, slen = strlen(PETER_SIG);
	char *msg = malloc(len);

	(void)state;
	assert_non_null(msg);
	memset(msg, 'a', len);
	memcpy(msg + len - slen - 2, "\n\n", 2);
	memcpy(msg + len - slen, PETER_SIG, slen);
	assert_int_equal(pl_note_parse(&n, msg, len), PL_ETOOBIG);
	{
		const char *why = NULL;
		assert_int_equal(pl_note_parse_why(&n, msg, len, &why), PL_ETOOBIG);
		assert_string_equal(why, "note larger than 1 MiB");
	}
	/* One byte less is within the limit, and a success leaves the reason alone. */
	{
		const char *why = "untouched";
		assert_int_equal(pl_note_parse_why(&n, msg + 1, len - 1, &why), 0);
		assert_string_equal(why, "untouched");
		pl_note_free(n);
		n = NULL;
	}
	assert_int_equal(pl_note_parse(&n, msg + 1, len - 1), 0);
	assert_int_equal(n->text_len, len - 1 - slen - 1);
	pl_note_free(n);
	free(msg);
}

/* A huge unknown signature (a post-quantum cosignature, say) is ignored, not refused. */
static void test_long_unknown_signature(void **state)
{
	struct pl_vkey vk;
	struct pl_note *n = NULL;
	uint8_t raw[4 + 2420 + 8];
	char b64[PL_B64_LEN(sizeof(raw)) + 1], line[sizeof(b64) + 64];
	size_t len;
	char *msg;

	(void)state;
	pl_test_load_vkey(&vk, "go-peter.vkey");
	memset(raw, 0x5a, sizeof(raw));
	pl_b64_encode(b64, raw, sizeof(raw));
	snprintf(line, sizeof(line), EM " witness.example/pq %s\n", b64);
	{
		const char *lines[] = {PETER_SIG, line};
		msg = compose(GO_TEXT, lines, 2, &len);
	}
	assert_int_equal(pl_note_open(&n, msg, len, &vk, 1, NULL), 0);
	assert_int_equal(n->nsigs, 2);
	assert_int_equal(n->sigs[1].sig_len, 0);
	assert_memory_equal(n->sigs[1].id, "\x5a\x5a\x5a\x5a", 4);
	pl_note_free(n);
	n = NULL;
	free(msg);
	/* If it claims to be a known key, it cannot verify. */
	memcpy(raw, vk.id, 4);
	pl_b64_encode(b64, raw, sizeof(raw));
	snprintf(line, sizeof(line), EM " PeterNeumann %s\n", b64);
	{
		const char *lines[] = {PETER_SIG, line};
		msg = compose(GO_TEXT, lines, 2, &len);
	}
	assert_int_equal(pl_note_open(&n, msg, len, &vk, 1, NULL), PL_EVERIFY);
	free(msg);
}

static void test_sign_and_verify(void **state)
{
	static const char *texts[] = {
	        "a\n",
	        "\n",
	        "Note\n\n",                          /* ends in a blank line */
	        "a\n\nb\n\n\nc\n",                   /* blank lines inside */
	        "\xce\xb1\xce\xb2 \xe2\x80\x94 x\n", /* UTF-8, an em dash in the text */
	        EM " looks like a signature\n",
	};
	struct pl_skey sk[3];
	struct pl_vkey vk[3];

	(void)state;
	assert_int_equal(pl_key_generate(&sk[0], &vk[0], "hotline.example/rok-mnd", 1), 0);
	assert_int_equal(pl_key_generate(&sk[1], &vk[1], "hotline.example/unc", 1), 0);
	assert_int_equal(pl_key_generate(&sk[2], &vk[2], "hotline.example/kpa", 1), 0);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct pl_buf b;
		struct pl_note *n = NULL;
		bool verified[3];
		size_t tlen = strlen(texts[i]);

		pl_buf_init(&b, PL_NOTE_MAX_BYTES);
		assert_int_equal(pl_note_sign(&b, texts[i], tlen, sk, 2), 0);
		assert_int_equal(pl_note_open(&n, b.data, b.len, vk, 3, verified), 0);
		assert_int_equal(n->text_len, tlen);
		assert_memory_equal(n->text, texts[i], tlen);
		assert_int_equal(n->nsigs, 2);
		assert_true(verified[0]);
		assert_true(verified[1]);
		assert_false(verified[2]);
		for (size_t s = 0; s < 2; s++) {
			assert_int_equal(
			        pl_note_sig_verify(&n->sigs[s], &vk[s], n->text, n->text_len), 0);
			assert_int_equal(
			        pl_note_sig_verify(&n->sigs[s], &vk[1 - s], n->text, n->text_len),
			        PL_EINVAL);
			assert_int_equal(pl_note_sig_verify(&n->sigs[s], &vk[s], "b\n", 2),
			                 PL_EVERIFY);
		}
		pl_note_free(n);
		pl_buf_release(&b);
	}
	for (size_t k = 0; k < 3; k++)
		pl_skey_clear(&sk[k]);
}

/* The key to name when a note does not verify: the first given key whose line fails. */
static void test_failing_key(void **state)
{
	struct pl_skey sk[3];
	struct pl_vkey vk[3], some[2];
	struct pl_note *n = NULL;
	struct pl_buf b;

	(void)state;
	assert_int_equal(pl_key_generate(&sk[0], &vk[0], "hotline.example/rok-mnd", 1), 0);
	assert_int_equal(pl_key_generate(&sk[1], &vk[1], "hotline.example/unc", 1), 0);
	assert_int_equal(pl_key_generate(&sk[2], &vk[2], "hotline.example/kpa", 1), 0);
	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_note_sign(&b, "a\n", 2, sk, 2), 0);
	assert_int_equal(pl_note_parse(&n, b.data, b.len), 0);
	assert_null(pl_note_failing_key(n, vk, 3)); /* every line verifies */
	pl_note_free(n);
	b.data[0] = 'b'; /* the text changed after it was signed: no line verifies */
	assert_int_equal(pl_note_parse(&n, b.data, b.len), 0);
	some[0] = vk[2];
	some[1] = vk[1];
	assert_ptr_equal(pl_note_failing_key(n, some, 2), &some[1]);
	assert_ptr_equal(pl_note_failing_key(n, vk, 3), &vk[0]);
	assert_null(pl_note_failing_key(n, &vk[2], 1)); /* kpa signed no line */
	assert_int_equal(pl_note_verify(n, some, 2, NULL), PL_EVERIFY);
	pl_note_free(n);
	pl_buf_release(&b);
	for (size_t k = 0; k < 3; k++)
		pl_skey_clear(&sk[k]);
}

static void test_sign_rejects(void **state)
{
	struct pl_skey sk[2];
	struct pl_vkey vk;
	struct pl_buf b;

	(void)state;
	assert_int_equal(pl_key_generate(&sk[0], &vk, "k", PL_SIGTYPE_ED25519), 0);
	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	assert_int_equal(pl_buf_adds(&b, "keep"), 0);
	assert_int_equal(pl_note_sign(&b, "abc", 3, sk, 1), PL_EINVAL);
	assert_int_equal(pl_note_sign(&b, "", 0, sk, 1), PL_EINVAL);
	assert_int_equal(pl_note_sign(&b, "a\r\n", 3, sk, 1), PL_EINVAL);
	assert_int_equal(pl_note_sign(&b, "a\x01\n", 3, sk, 1), PL_EINVAL);
	assert_int_equal(pl_note_sign(&b, "\xff\n", 2, sk, 1), PL_EINVAL);
	assert_int_equal(pl_note_sign(&b, "a\n", 2, sk, 0), PL_EINVAL);
	assert_int_equal(pl_note_sign(&b, "a\n", 2, NULL, 1), PL_EINVAL);
	/* The same key twice. */
	sk[1] = sk[0];
	assert_int_equal(pl_note_sign(&b, "a\n", 2, sk, 2), PL_EINVAL);
	/* A cosigner key cannot make a plain signature. */
	assert_int_equal(pl_key_generate(&sk[1], &vk, "w", PL_SIGTYPE_COSIG_V1), 0);
	assert_int_equal(pl_note_sign(&b, "a\n", 2, &sk[1], 1), PL_EINVAL);
	assert_int_equal(pl_note_sign(&b, "a\n", 2, sk, 2), PL_EINVAL);
	assert_string_equal(b.data, "keep");
	pl_buf_release(&b);
	/* No room: unchanged. */
	pl_buf_init(&b, 40);
	assert_int_equal(pl_buf_adds(&b, "keep"), 0);
	assert_int_equal(pl_note_sign(&b, "a\n", 2, sk, 1), PL_ETOOBIG);
	assert_string_equal(b.data, "keep");
	pl_buf_release(&b);
	pl_skey_clear(&sk[0]);
	pl_skey_clear(&sk[1]);
}

static void test_text_is_valid(void **state)
{
	static const struct {
		const char *text;
		bool valid;
	} cases[] = {
	        {"a\n", true},        {"\n", true},      {"a\n\n", true},   {"a\n\nb\n", true},
	        {"\xc3\xa8\n", true}, {"a\x7f\n", true}, {"", false},       {"a", false},
	        {"a\r\n", false},     {"a\tb\n", false}, {"\xff\n", false}, {"a\xc3\n", false},
	        {"\x1b\n", false},    {"a\n\r", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (pl_note_text_is_valid(cases[i].text, strlen(cases[i].text)) != cases[i].valid)
			fail_msg("text case %zu: want %d", i, cases[i].valid);
	}
	assert_false(pl_note_text_is_valid("a\0\n", 3));
	assert_false(pl_note_text_is_valid(NULL, 0));
}

static void test_free_null(void **state)
{
	(void)state;
	pl_note_free(NULL);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_go_sign), cmocka_unit_test(test_go_open),
             cmocka_unit_test(test_spec_example), cmocka_unit_test(test_spec_blank_line_in_text),
             cmocka_unit_test(test_add_sig), cmocka_unit_test(test_add_sig_errors),
             cmocka_unit_test(test_go_open_rules), cmocka_unit_test(test_unknown_lookalikes),
             cmocka_unit_test(test_ambiguous_keys), cmocka_unit_test(test_bad_notes),
             cmocka_unit_test(test_oversize_note), cmocka_unit_test(test_long_unknown_signature),
             cmocka_unit_test(test_sign_and_verify), cmocka_unit_test(test_sign_rejects),
             cmocka_unit_test(test_failing_key), cmocka_unit_test(test_text_is_valid),
             cmocka_unit_test(test_free_null))
