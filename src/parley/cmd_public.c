/* The verbs of public evidence: parley log proof (a record's tlog-proof) and parley statements. */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <parley/member.h>
#include <parley/outsider.h>
#include <parley/timestamp.h>

#include "session.h"
#include "banned.h"

static const struct cli_verb proof_verb = {
        .name = "log proof",
        .synopsis = "ID [-o FILE] [--profile DIR]\n"
                    "       parley log proof ID --exchange URL --log-key VKEY [-o FILE]",
        .about = "Writes the c2sp.org/tlog-proof of record ID (8 to 64 hex digits) to FILE, or\n"
                 "to standard output: its inclusion in the log under a checkpoint signed by the\n"
                 "log key. As a member (a profile), for a record this party may read: the proof\n"
                 "is verified with the pinned log key and its checkpoint checked for\n"
                 "consistency with the last one this client saw. With --exchange and\n"
                 "--log-key, and no profile at all, for a public record (a statement, a\n"
                 "register or revoke, an index record) from the exchange's public endpoints:\n"
                 "the record is checked against its author's registered key and the proof\n"
                 "against the log key. 'parley log verify-proof FILE --entry RECORD --log-key\n"
                 "VKEY' checks the file again, anywhere; so does Go's golang.org/x/mod.\n",
        .status = "Exit status: 0 written; 1 the record or its proof does not hold; 2 usage or\n"
                  "I/O error; 3 the exchange refused (404: no such record for this reader).\n",
        .operand = "record ID",
};

static const struct cli_verb statements_verb = {
        .name = "statements",
        .synopsis = "--exchange URL --log-key VKEY [--after INDEX] [--max N] [--json]",
        .about = "Reads the exchange's public statements and measures from log index INDEX\n"
                 "(default 0) with no profile and no membership, and checks each one: its\n"
                 "signature against its author's key in the exchange's directory (every entry\n"
                 "of which is checked against its register record, signed by the log key), and\n"
                 "its inclusion in the log under a checkpoint signed by the log key. Prints one\n"
                 "line per statement (log index, id, author, class, claimed time, body's first\n"
                 "line), then the index to continue --after; with --json one object.\n",
        .status =
                "Exit status: 0 every statement holds; 1 one does not (named, with why); 2 usage\n"
                "or I/O error; 3 the exchange refused.\n",
};

/* The exit code of an outsider's read that failed with err (o->why says what). */
static int outsider_exit(const struct pl_outsider *o, int err)
{
	cli_error("%s", o->why);
	switch (err) {
	case PL_EVERIFY:
	case PL_ENOKEY:
	case PL_EPROOF:
	case PL_ERANGE:
	case PL_EMALFORMED:
	case PL_ECHAIN:
		return PL_EXIT_FAIL;
	case PL_ENOTFOUND:
	case PL_EDENIED:
	case PL_ERULE:
	case PL_ESTATE:
		return PL_EXIT_REFUSED;
	default:
		return PL_EXIT_USAGE;
	}
}

/* Writes the proof text to output, or to stdout when output is NULL or "-". */
static int write_proof(const char *output, const struct pl_buf *proof)
{
	if (!output || strcmp(output, "-") == 0)
		return cli_write_stdout(proof->data, proof->len);
	return cli_write_atomic("proof", output, proof->data, proof->len);
}

/* parley log proof ID as a member. */
static int proof_member(const char *id, const char *profile, const char *output)
{
	struct pl_session s;
	struct pl_session_record r;
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	struct pl_buf proof;
	int ret;

	memset(&r, 0, sizeof(r));
	pl_buf_init(&proof, PL_TLOG_PROOF_MAX_BYTES);
	if (!cp) {
		cli_error("out of memory");
		free(cp);
		return PL_EXIT_USAGE;
	}
	ret = session_open(&s, "log proof", profile);
	if (ret)
		goto out_nosession;
	ret = session_resolve(&s, id, &r);
	if (!ret)
		ret = session_prove_text(&s, &r, cp, &proof);
	if (!ret)
		ret = write_proof(output, &proof);
	if (!ret && output && strcmp(output, "-") != 0)
		fprintf(stderr,
		        "parley: proof of record %.16s (log #%" PRIu64 ") at size %" PRIu64
		        " written to %s\n",
		        r.hex, r.index, cp->size, output);
	pl_session_record_release(&r);
	session_close(&s);
out_nosession:
	pl_buf_release(&proof);
	free(cp);
	return ret;
}

/* parley log proof ID --exchange URL --log-key VKEY, as an outsider. */
static int proof_outsider(const char *id, const char *url, const struct pl_vkey *log_key,
                          const char *output)
{
	static struct pl_outsider o;
	struct pl_outsider_record r;
	int ret, err;

	memset(&r, 0, sizeof(r));
	err = pl_outsider_open(&o, url, log_key);
	if (!err)
		err = pl_outsider_record(&o, id, &r);
	if (err) {
		ret = outsider_exit(&o, err);
		goto out;
	}
	ret = write_proof(output, &r.proof);
	if (!ret && output && strcmp(output, "-") != 0)
		fprintf(stderr,
		        "parley: proof of public record %.16s (log #%" PRIu64 ") at size %" PRIu64
		        " written to %s\n",
		        id, r.index, r.size, output);
out:
	pl_outsider_record_release(&r);
	pl_outsider_close(&o);
	return ret;
}

int cmd_log_proof(int argc, char **argv)
{
	const char *id = NULL, *profile = NULL, *output = NULL, *url = NULL;
	static struct pl_vkey logkeys[1];
	size_t nlogkeys = 0;
	const struct cli_opt opts[] = {
	        CLI_OPT_STR('o', "output", &output, "FILE",
	                    "where to write the proof (default: standard output)"),
	        CLI_OPT_PROFILE(&profile),
	        CLI_OPT_STR('x', "exchange", &url, "URL",
	                    "read a public record from this exchange, with no profile"),
	        {'l', "log-key", CLI_VKEY, logkeys, "VKEY",
	         "with --exchange: the log's verifier key, pinned out of band", &nlogkeys,
	         .max = 1},
	        {0},
	};
	int ret = cli_parse(&proof_verb, opts, argc, argv, &id);

	if (ret >= 0)
		return ret;
	if (!url != !nlogkeys)
		return cli_usage("log proof", "--exchange and --log-key go together");
	if (url && profile)
		return cli_usage("log proof", "--exchange reads as an outsider: no --profile");
	return url ? proof_outsider(id, url, &logkeys[0], output)
	           : proof_member(id, profile, output);
}

/* The first line of a statement's body, for one line of output. */
static void first_line(char *out, size_t cap, const struct pl_record *rec)
{
	size_t n = 0;

	if (rec->has & PL_RECORD_HAS_BODY)
		while (n < rec->body_len && rec->body[n] != '\n' && n + 1 < cap)
			n++;
	memcpy(out, rec->body, n);
	out[n] = '\0';
}

int cmd_statements(int argc, char **argv)
{
	static struct pl_vkey logkeys[1];
	static struct pl_outsider o;
	const char *url = NULL;
	uint64_t after = 0, max = 0, next = 0;
	struct pl_outsider_record *v = NULL;
	size_t nlogkeys = 0, n = 0;
	bool json = false;
	json_t *j = NULL, *arr = NULL;
	const struct cli_opt opts[] = {
	        CLI_OPT_STR('x', "exchange", &url, "URL", "the exchange (required)"),
	        {'l', "log-key", CLI_VKEY, logkeys, "VKEY",
	         "the log's verifier key, pinned out of band (required)", &nlogkeys, .max = 1},
	        {'a', "after", CLI_UINT, &after, "INDEX", "start at this log index (default 0)",
	         .max = INT64_MAX},
	        {'n', "max", CLI_UINT, &max, "N",
	         "at most N statements (default: one page of the\nexchange's, up to 1,000)",
	         .min = 1, .max = 1000},
	        CLI_OPT_JSON(&json, "print a JSON object: the statements and the next index"),
	        {0},
	};
	int ret = cli_parse(&statements_verb, opts, argc, argv, NULL), err;

	if (ret >= 0)
		return ret;
	if (!url || !nlogkeys)
		return cli_usage("statements", "--exchange and --log-key are required");
	err = pl_outsider_open(&o, url, &logkeys[0]);
	if (!err)
		err = pl_outsider_statements(&o, after, (size_t)max, &v, &n, &next);
	if (err) {
		ret = outsider_exit(&o, err);
		goto out;
	}
	if (json) {
		arr = json_array();
		for (size_t i = 0; arr && i < n; i++) {
			json_t *e =
			        pl_member_record_json(v[i].rec, v[i].index, v[i].text, v[i].len);
			if (e)
				json_object_set_new(e, "proven_at_size",
				                    json_integer((json_int_t)v[i].size));
			if (!e || json_array_append_new(arr, e) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		j = arr ? json_pack("{s:o, s:I}", "statements", arr, "next", (json_int_t)next)
		        : NULL;
		ret = cli_print_json(j, "statements");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char hex[PL_RECORD_ID_HEX_LEN + 1], ts[PL_TIMESTAMP_LEN + 1], line[121];
		const struct pl_record *rec = v[i].rec;
		pl_record_id_format(hex, v[i].id);
		if (pl_timestamp_format(ts, rec->time) != 0)
			snprintf(ts, sizeof(ts), "?");
		first_line(line, sizeof(line), rec);
		printf("%" PRIu64 " %s %s %s %s %s\n", v[i].index, hex, rec->author,
		       (rec->has & PL_RECORD_HAS_CLASS) ? pl_record_class_name(rec->cls)
		                                        : "statement",
		       ts, line);
	}
	printf("verified %zu statement%s against the log key; next --after %" PRIu64 "\n", n,
	       n == 1 ? "" : "s", next);
	ret = PL_EXIT_OK;
out:
	json_decref(j);
	for (size_t i = 0; v && i < n; i++)
		pl_outsider_record_release(&v[i]);
	free(v);
	pl_outsider_close(&o);
	return ret;
}
