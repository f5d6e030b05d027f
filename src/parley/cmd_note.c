/* parley note: sign a text read on stdin, or verify a signed note read on stdin. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <parley/limits.h>
#include <parley/note.h>

#include "banned.h"

static const struct cli_verb note_verb = {
        .name = "note",
        .synopsis = "sign --key SKEYFILE < text > note\n"
                    "       parley note verify --key VKEY [--key VKEY ...] < note > text",
        .about = "sign reads a text on standard input (UTF-8, ending in a newline, no control\n"
                 "characters but newlines) and writes it as a signed note (c2sp.org/signed-note)\n"
                 "signed by the Ed25519 signer key in SKEYFILE.\n"
                 "\n"
                 "verify reads a signed note on standard input and, when a signature by one of\n"
                 "the given keys verifies and none by them fails, prints the note's text. VKEY is\n"
                 "a verifier key (name+keyid+base64) or a file holding one. Signatures by other\n"
                 "keys are ignored.\n",
        .status = "Exit status: 0 signed, or the note verifies; 1 it does not verify; 2 usage,\n"
                  "malformed input or I/O error.\n",
};

static int note_sign(const char *keyfile)
{
	struct pl_skey sk;
	struct pl_buf in, out;
	int ret = PL_EXIT_USAGE, err;

	memset(&sk, 0, sizeof(sk));
	pl_buf_init(&in, PL_NOTE_MAX_BYTES);
	pl_buf_init(&out, PL_NOTE_MAX_BYTES);
	if (cli_skey_file(keyfile, &sk))
		goto out;
	if (cli_read_path("text", "-", PL_NOTE_MAX_BYTES, &in))
		goto out;
	if (in.len == 0) {
		cli_error("text (stdin): empty");
		goto out;
	}
	if (!pl_note_text_is_valid(in.data, in.len)) {
		cli_error("text (stdin): not a valid note text (must be UTF-8, end in a newline, "
		          "and have no control characters but newlines)");
		goto out;
	}
	err = pl_note_sign(&out, in.data, in.len, &sk, 1);
	if (err) {
		cli_error("note: cannot sign with key %s: %s", sk.name, pl_strerror(err));
		goto out;
	}
	ret = cli_write_stdout(out.data, out.len);
out:
	pl_skey_clear(&sk);
	pl_buf_release(&in);
	pl_buf_release(&out);
	return ret;
}

/* Names the first known key whose signature on n fails, for the message. */
static const char *failing_key(const struct pl_note *n, const struct pl_vkey *keys, size_t nkeys)
{
	const struct pl_vkey *k = pl_note_failing_key(n, keys, nkeys);

	return k ? k->name : "(unknown)";
}

static int note_verify(const struct pl_vkey *keys, size_t nkeys)
{
	struct pl_buf in;
	struct pl_note *n = NULL;
	int ret = PL_EXIT_USAGE, err;

	pl_buf_init(&in, PL_NOTE_MAX_BYTES);
	if (cli_read_path("note", "-", PL_NOTE_MAX_BYTES, &in))
		goto out;
	err = pl_note_parse(&n, in.data ? in.data : "", in.len);
	if (err) {
		cli_error("note (stdin): %s", pl_strerror(err));
		goto out;
	}
	err = pl_note_verify(n, keys, nkeys, NULL);
	if (err == PL_EVERIFY) {
		cli_error("note: signature does not verify for key %s",
		          failing_key(n, keys, nkeys));
		ret = PL_EXIT_FAIL;
		goto out;
	}
	if (err == PL_ENOKEY) {
		if (nkeys == 1)
			cli_error("note: not signed by key %s", keys[0].name);
		else
			cli_error("note: not signed by any of the %zu given keys", nkeys);
		ret = PL_EXIT_FAIL;
		goto out;
	}
	if (err) {
		cli_error("note: %s", pl_strerror(err));
		goto out;
	}
	ret = cli_write_stdout(n->text, n->text_len);
out:
	pl_note_free(n);
	pl_buf_release(&in);
	return ret;
}

int cmd_note(int argc, char **argv)
{
	static const char *const subs[] = {"sign", "verify", NULL};
	static struct pl_vkey vkeys[CLI_MAX_KEYS];
	const char *keyargs[CLI_MAX_KEYS];
	size_t nkeys = 0, which;
	const struct cli_opt opts[] = {
	        {'k', "key", CLI_LIST, keyargs, "KEY",
	         "the signer key file (sign) or a verifier key (verify)", &nkeys,
	         .max = CLI_MAX_KEYS},
	        {0},
	};
	bool sign;
	int ret;

	ret = cli_sub("note", &note_verb, opts, argc, argv, subs, &which);
	if (ret < 0)
		ret = cli_parse(&note_verb, opts, argc - 1, argv + 1, NULL);
	if (ret >= 0)
		goto out;
	sign = which == 0;
	if (nkeys == 0 || (sign && nkeys > 1)) {
		ret = cli_usage("note", sign && nkeys ? "sign takes one --key" : "%s needs --key",
		                subs[which]);
		goto out;
	}
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "parley note %s: reading the %s from standard input\n", subs[which],
		        sign ? "text" : "note");
	if (sign) {
		ret = note_sign(keyargs[0]);
		goto out;
	}
	for (size_t i = 0; i < nkeys; i++) {
		ret = cli_vkey_arg(keyargs[i], &vkeys[i]);
		if (ret)
			goto out;
	}
	ret = note_verify(vkeys, nkeys);
out:
	return ret;
}
