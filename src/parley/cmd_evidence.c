/* parley evidence: checks, offline, a file of evidence that an exchange lied. */
#include "cli.h"

#include <stdio.h>

#include <parley/evidence.h>
#include <parley/limits.h>
#include <parley/timestamp.h>

#include "banned.h"

static const struct cli_verb evidence_verb = {
        .name = "evidence",
        .synopsis = "FILE [--log-key VKEY]",
        .operand = "evidence FILE",
        .about = "Checks an evidence file that a member kept when its exchange lied: two\n"
                 "histories (split-view-*.txt, docs/split-view.md) or a thread index that\n"
                 "leaves out or replaces one of its records (index-lie-*.txt, docs/index.md\n"
                 "section 7.1). Every part is checked against the log key VKEY (a verifier key\n"
                 "or a file holding one), offline; without --log-key, against the key the\n"
                 "file names, with a caution: compare it with the exchange's published key.\n"
                 "\n"
                 "Prints what the file is, then PROVEN (the file alone proves the lie: two\n"
                 "roots signed for one size, a signed index that omits a logged record),\n"
                 "UNSETTLED (two signed checkpoints of different sizes that the exchange did\n"
                 "not prove one history: a consistency proof from any copy of the log settles\n"
                 "it), or NOT PROVEN, with the reason.\n",
        .status = "Exit status: 0 the file proves the lie; 1 it does not (unsettled or not\n"
                  "proven); 2 usage, a malformed file or I/O error.\n",
};

static const char *verdict_word(enum pl_evidence_verdict v)
{
	switch (v) {
	case PL_EVIDENCE_PROVEN:
		return "PROVEN";
	case PL_EVIDENCE_UNSETTLED:
		return "UNSETTLED";
	default:
		return "NOT PROVEN";
	}
}

int cmd_evidence(int argc, char **argv)
{
	static struct pl_evidence ev; /* large: not on the stack */
	struct pl_vkey key;
	const char *file = NULL, *key_arg = NULL;
	const struct cli_opt opts[] = {
	        CLI_OPT_STR('l', "log-key", &key_arg, "VKEY",
	                    "the exchange's log key (default: the one the file\nnames, with a "
	                    "caution)"),
	        {0},
	};
	char when[PL_TIMESTAMP_LEN + 1];
	struct pl_buf in;
	int ret, err;

	pl_buf_init(&in, PL_EVIDENCE_MAX_BYTES);
	ret = cli_parse(&evidence_verb, opts, argc, argv, &file);
	if (ret >= 0)
		goto out;
	ret = PL_EXIT_USAGE;
	if (key_arg && cli_vkey_arg(key_arg, &key) != PL_EXIT_OK)
		goto out;
	if (cli_read_path("evidence", file, PL_EVIDENCE_MAX_BYTES, &in) != PL_EXIT_OK)
		goto out;
	err = pl_evidence_check(&ev, in.data, in.len, key_arg ? &key : NULL);
	if (err) {
		cli_error("evidence %s: %s%s%s", file, pl_strerror(err), ev.why[0] ? ": " : "",
		          ev.why);
		goto out;
	}
	if (pl_timestamp_format(when, ev.detected) != 0)
		when[0] = '\0';
	printf("%s: %s, from %s, detected %s: %s\n", file, pl_evidence_kind_name(ev.kind),
	       ev.exchange, when, ev.reason);
	if (!ev.key_pinned)
		printf("caution: checked against the log key the file names; compare it with the "
		       "exchange's published log key\n");
	printf("%s: %s\n", verdict_word(ev.verdict), ev.why);
	ret = ev.verdict == PL_EVIDENCE_PROVEN ? PL_EXIT_OK : PL_EXIT_FAIL;
out:
	pl_buf_release(&in);
	return ret;
}
