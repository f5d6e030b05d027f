/* parley log: check evidence from a transparency log (c2sp.org/tlog-proof). */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/encoding.h>
#include <parley/limits.h>
#include <parley/note.h>
#include <parley/proof.h>
#include <parley/tlog.h>

#include "banned.h"

static const struct cli_verb log_verb = {
        .name = "log",
        .synopsis = "checkpoint [--profile DIR] [--json]\n"
                    "       parley log audit [--profile DIR] [--json]\n"
                    "       parley log proof ID [-o FILE] [--profile DIR | --exchange URL\n"
                    "           --log-key VKEY]\n"
                    "       parley log verify-proof FILE --log-key VKEY [--origin ORIGIN]\n"
                    "           [--witness-key VKEY ... [--min-witnesses N]]\n"
                    "           (--entry ENTRYFILE | --leaf-hash BASE64)",
        .about = "checkpoint fetches the exchange's latest checkpoint, verifies it with the\n"
                 "pinned log key and checks that it is consistent with the last one this client\n"
                 "saw ('parley log checkpoint --help').\n"
                 "\n"
                 "audit fetches the whole log, recomputes its tree from the entries, and checks\n"
                 "every record's signatures, chain and rules ('parley log audit --help').\n"
                 "\n"
                 "proof writes a record's c2sp.org/tlog-proof, verified, for verify-proof or\n"
                 "anyone's tools ('parley log proof --help').\n"
                 "\n"
                 "verify-proof checks a c2sp.org/tlog-proof read from FILE ('-' for standard\n"
                 "input): that its checkpoint is signed by the log key and states the log's\n"
                 "origin, and that the entry is at the proof's index in the tree the checkpoint\n"
                 "commits to. The entry is given as the file of its bytes (its RFC 6962 leaf\n"
                 "hash is computed) or as that leaf hash in base64. VKEY is a verifier key\n"
                 "(name+keyid+base64) or a file holding one. On success it prints one line.\n",
        .status =
                "Exit status: 0 the proof holds; 1 it does not (a signature, the inclusion path,\n"
                "the origin or the witnesses); 2 usage, malformed input or I/O error.\n",
        .operand = "proof FILE",
};

struct verify_args {
	const char *file;
	const char *origin;
	const char *entry;
	const char *leaf_b64;
	struct pl_vkey logkeys[CLI_MAX_KEYS];
	size_t nlogkeys;
	struct pl_vkey witkeys[CLI_MAX_KEYS];
	size_t nwitkeys;
	uint64_t min_witnesses;
	bool has_min;
};

static int verify_proof(struct verify_args *a)
{
	const struct pl_proof_policy policy = {
	        .origin = a->origin,
	        .logkeys = a->logkeys,
	        .nlogkeys = a->nlogkeys,
	        .witkeys = a->witkeys,
	        .nwitkeys = a->nwitkeys,
	        .need = a->has_min ? (size_t)a->min_witnesses : a->nwitkeys,
	};
	static struct pl_checkpoint cp;
	struct pl_buf text, entry, why;
	struct pl_proof *p = NULL;
	uint8_t leaf[PL_HASH_BYTES];
	size_t cosigned = 0;
	int ret = PL_EXIT_USAGE, err;

	pl_buf_init(&text, PL_TLOG_PROOF_MAX_BYTES);
	pl_buf_init(&entry, PL_ENTRY_MAX_BYTES);
	pl_buf_init(&why, 1024);
	if (a->leaf_b64) {
		if (pl_b64_decode_exact(leaf, sizeof(leaf), a->leaf_b64, strlen(a->leaf_b64))) {
			cli_error("leaf hash '%s': not the base64 of %d bytes", a->leaf_b64,
			          PL_HASH_BYTES);
			goto out;
		}
	} else {
		if (cli_read_path("entry", a->entry, PL_ENTRY_MAX_BYTES, &entry))
			goto out;
		pl_tlog_leaf_hash(leaf, entry.data ? entry.data : "", entry.len);
	}
	if (cli_read_path("proof", a->file, PL_TLOG_PROOF_MAX_BYTES, &text))
		goto out;
	err = pl_proof_parse(&p, text.data ? text.data : "", text.len);
	if (err) {
		cli_error("proof %s: not a c2sp.org/tlog-proof: %s", a->file, pl_strerror(err));
		goto out;
	}
	err = pl_proof_check(p, leaf, &policy, &cp, &cosigned, &why);
	if (err) {
		cli_error("proof %s: %s", a->file, why.data ? why.data : pl_strerror(err));
		ret = err == PL_EPROOF || err == PL_EVERIFY || err == PL_ENOKEY ? PL_EXIT_FAIL
		                                                                : PL_EXIT_USAGE;
		goto out;
	}
	printf("proof %s: entry %" PRIu64 " is in %s at size %" PRIu64, a->file, p->index,
	       cp.origin, cp.size);
	if (a->nwitkeys)
		printf(", cosigned by %zu of %zu witnesses", cosigned, a->nwitkeys);
	printf("\n");
	ret = PL_EXIT_OK;
out:
	pl_proof_free(p);
	pl_buf_release(&text);
	pl_buf_release(&entry);
	pl_buf_release(&why);
	return ret;
}

int cmd_log(int argc, char **argv)
{
	static const char *const subs[] = {"audit", "checkpoint", "proof", "verify-proof", NULL};
	static int (*const run[])(int, char **) = {cmd_log_audit, cmd_log_checkpoint, cmd_log_proof,
	                                           NULL};
	/* Static: two key arrays are too large for a comfortable stack frame. */
	static struct verify_args a;
	const struct cli_opt opts[] = {
	        {'l', "log-key", CLI_VKEY, a.logkeys, "VKEY",
	         "the log's verifier key (required; may be repeated)", &a.nlogkeys,
	         .max = CLI_MAX_KEYS},
	        CLI_OPT_STR('O', "origin", &a.origin, "ORIGIN",
	                    "the origin the checkpoint must state (default: the\nname of the log "
	                    "key)"),
	        {'w', "witness-key", CLI_VKEY, a.witkeys, "VKEY",
	         "a witness's cosignature key; may be repeated", &a.nwitkeys, .max = CLI_MAX_KEYS},
	        {'m', "min-witnesses", CLI_UINT, &a.min_witnesses, "N",
	         "how many of the given witnesses must have cosigned\n(default: all of them)",
	         .given = &a.has_min, .max = CLI_MAX_KEYS},
	        CLI_OPT_STR('e', "entry", &a.entry, "ENTRYFILE",
	                    "the entry, raw bytes ('-' for standard input)"),
	        CLI_OPT_STR('H', "leaf-hash", &a.leaf_b64, "BASE64",
	                    "the entry's leaf hash instead of the entry"),
	        {0},
	};
	size_t which;
	int ret;

	memset(&a, 0, sizeof(a));
	ret = cli_sub("log", &log_verb, opts, argc, argv, subs, &which);
	if (ret >= 0)
		goto out;
	if (run[which]) {
		ret = run[which](argc - 1, argv + 1);
		goto out;
	}
	ret = cli_parse(&log_verb, opts, argc - 1, argv + 1, &a.file);
	if (ret >= 0)
		goto out;
	if (a.nlogkeys == 0) {
		ret = cli_usage("log", "verify-proof needs --log-key");
		goto out;
	}
	if (!a.entry == !a.leaf_b64) {
		ret = cli_usage("log", "verify-proof needs one of --entry and --leaf-hash");
		goto out;
	}
	if (a.entry && strcmp(a.entry, "-") == 0 && strcmp(a.file, "-") == 0) {
		ret = cli_usage("log", "the proof and the entry cannot both be standard input");
		goto out;
	}
	if (a.has_min && a.min_witnesses > a.nwitkeys) {
		ret = cli_usage("log", "--min-witnesses %" PRIu64 " exceeds the %zu --witness-key",
		                a.min_witnesses, a.nwitkeys);
		goto out;
	}
	if (!a.origin)
		a.origin = a.logkeys[0].name;
	ret = verify_proof(&a);
out:
	return ret;
}
