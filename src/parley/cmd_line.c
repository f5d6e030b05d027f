/* parley line availability: how often each end of a direct line answered its checks, verified. */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <parley/dossier.h>
#include <parley/line_report.h>
#include <parley/record.h>
#include <parley/timestamp.h>

#include "session.h"
#include "banned.h"

static const struct cli_verb line_verb = {
        .name = "line availability",
        .synopsis = "LINE [--since DATE] [--until DATE] [--profile DIR] [--json]",
        .about = "Reports how each end of the direct line LINE answered the exchange's scheduled\n"
                 "checks: the number N of checks made from DATE (--since) up to DATE (--until),\n"
                 "then per end \"answered K of N checks since DATE (U unanswered, P pending)\",\n"
                 "K + U + P = N, then the checks it left unanswered. Checks that fell due while\n"
                 "the exchange was down are not among the N: the exchange logged them as missed\n"
                 "by itself, and they are counted apart (\"and M missed by the exchange\") and\n"
                 "listed, never as an end's silence. The counts come from the records themselves\n"
                 "(each check, answer, unanswered and missed), each verified against the\n"
                 "exchange's directory and proven included under a checkpoint consistent with the\n"
                 "one this client pinned; a check whose window is still open, or whose unanswered\n"
                 "the exchange has not logged yet, is pending. parley line verify FILE counts the\n"
                 "same offline, from a dossier of a check (see parley line verify --help).\n",
        .status = "Exit status: 0 shown; 1 a record, a proof or the checkpoint does not hold; 2\n"
                  "usage or I/O error; 3 the exchange refused (unknown line, not a member).\n",
        .operand = "LINE",
};

static const struct cli_verb verify_verb = {
        .name = "line verify",
        .synopsis = "FILE --log-key VKEY [--since DATE] [--until DATE] [--json]",
        .about = "Verifies FILE offline, a dossier of a check of a direct line (parley dossier\n"
                 "CHECK-ID, made at a checkpoint after the period), as parley verify does, then\n"
                 "reports the line's availability over the period in the words of parley line\n"
                 "availability. The dossier's thread holds every later check of the line up to\n"
                 "its checkpoint, each naming the one before it, with its answers and\n"
                 "unanswered, and the thread index proves none is left out: so it proves that\n"
                 "no check of the period is missing when its check was made at or before DATE\n"
                 "(--since, by default the check's time) and, with --until, a later check of the\n"
                 "line is in it. Checks logged before the line's chain began are not counted.\n",
        .status = "Exit status: 0 shown; 1 the dossier does not verify or does not cover the\n"
                  "period; 2 usage or I/O error, or a file that is not a dossier of a check.\n",
        .operand = "FILE",
};

/* A report and what the command line asked of it. */
struct line_report {
	struct pl_session s;
	struct pl_line_report r;
	bool has_since, has_until;
	bool json;
};

/* YYYY-MM-DD (midnight UTC) or a full timestamp. */
static int parse_since(const char *arg, int64_t *out)
{
	char buf[PL_TIMESTAMP_LEN + 1];
	size_t n = strlen(arg);

	if (n == 10) {
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", arg);
		return pl_timestamp_parse(out, buf, PL_TIMESTAMP_LEN);
	}
	return pl_timestamp_parse(out, arg, n);
}

static void time_text(char out[static PL_TIMESTAMP_LEN + 1], int64_t t)
{
	if (pl_timestamp_format(out, t) != 0)
		snprintf(out, PL_TIMESTAMP_LEN + 1, "%s", "(out of range)");
}

/* The time the report counts from: --since, else its first check. */
static int64_t report_since(const struct line_report *lr)
{
	if (lr->has_since || lr->r.n == 0)
		return lr->r.since;
	return lr->r.v[0].time;
}

/* The time the report counts up to: --until, or 0 (up to the checkpoint). */
static int64_t report_until(const struct line_report *lr)
{
	return lr->has_until ? lr->r.until : 0;
}

static int print_text(const struct line_report *lr)
{
	struct pl_buf sentence;
	char when[PL_TIMESTAMP_LEN + 1];
	int ret = PL_EXIT_OK;

	pl_buf_init(&sentence, 1024);
	if (pl_line_tally_format(&lr->r.tally, report_since(lr), report_until(lr), lr->r.size,
	                         &sentence) != 0) {
		cli_error("line %s: the counts cannot be said", lr->r.line);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	printf("%s\n", sentence.data);
	for (size_t i = 0; i < lr->r.tally.nends; i++) {
		const struct pl_line_end_tally *e = &lr->r.tally.ends[i];
		pl_buf_reset(&sentence);
		if (pl_line_end_tally_format(e, lr->r.tally.checks, report_since(lr),
		                             report_until(lr), &sentence) != 0) {
			cli_error("line %s: the counts of %s do not add up", lr->r.line, e->end);
			ret = PL_EXIT_USAGE;
			goto out;
		}
		printf("%s\n", sentence.data);
		for (size_t k = 0; k < lr->r.n; k++) {
			const struct pl_line_report_check *x = &lr->r.v[k];
			for (int j = 0; j < 2; j++) {
				if (x->missed || strcmp(x->ends[j], e->end) != 0 ||
				    x->out[j] != PL_LINE_UNANSWERED)
					continue;
				time_text(when, x->time);
				printf("  unanswered: #%" PRIu64 " %s check %.16s\n", x->index,
				       when, x->hex);
			}
		}
	}
	for (size_t k = 0; k < lr->r.n; k++) {
		const struct pl_line_report_check *x = &lr->r.v[k];
		if (!x->missed)
			continue;
		time_text(when, x->time);
		printf("missed by the exchange: #%" PRIu64 " due %s, missed %.16s\n", x->index,
		       when, x->hex);
	}
out:
	pl_buf_release(&sentence);
	return ret;
}

static const char *outcome_name(enum pl_line_outcome o)
{
	return o == PL_LINE_ANSWERED     ? "answered"
	       : o == PL_LINE_UNANSWERED ? "unanswered"
	                                 : "pending";
}

static int print_json(const struct line_report *lr)
{
	char since[PL_TIMESTAMP_LEN + 1], t1[PL_TIMESTAMP_LEN + 1], t2[PL_TIMESTAMP_LEN + 1];
	json_t *j, *ends, *checks;
	int ret = PL_EXIT_USAGE;

	time_text(since, report_since(lr));
	ends = json_array();
	checks = json_array();
	j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "line", lr->r.line, "since", since,
	              "tree_size", (json_int_t)lr->r.size, "checks", (json_int_t)lr->r.tally.checks,
	              "missed", (json_int_t)lr->r.tally.missed, "ends", ends, "records", checks);
	if (j && lr->has_until) {
		time_text(t1, lr->r.until);
		json_object_set_new(j, "until", json_string(t1));
	}
	for (size_t i = 0; j && i < lr->r.tally.nends; i++) {
		const struct pl_line_end_tally *e = &lr->r.tally.ends[i];
		json_t *un = json_array();
		for (size_t k = 0; un && k < lr->r.n; k++) {
			for (int x = 0; x < 2; x++) {
				if (!lr->r.v[k].missed && strcmp(lr->r.v[k].ends[x], e->end) == 0 &&
				    lr->r.v[k].out[x] == PL_LINE_UNANSWERED)
					json_array_append_new(
					        un, json_pack("{s:I, s:s}", "index",
					                      (json_int_t)lr->r.v[k].index, "id",
					                      lr->r.v[k].hex));
			}
		}
		json_array_append_new(
		        ends, json_pack("{s:s, s:I, s:I, s:I, s:I, s:o*}", "end", e->end, "checks",
		                        (json_int_t)e->checks, "answered", (json_int_t)e->answered,
		                        "unanswered", (json_int_t)e->unanswered, "pending",
		                        (json_int_t)e->pending, "unanswered_checks", un));
	}
	for (size_t k = 0; j && k < lr->r.n; k++) {
		const struct pl_line_report_check *x = &lr->r.v[k];
		time_text(t1, x->time);
		if (x->missed) {
			json_array_append_new(checks, json_pack("{s:I, s:s, s:s, s:s}", "index",
			                                        (json_int_t)x->index, "id", x->hex,
			                                        "missed", "exchange", "due", t1));
			continue;
		}
		time_text(t2, x->deadline);
		json_array_append_new(checks, json_pack("{s:I, s:s, s:s, s:s, s:{s:s, s:s}}",
		                                        "index", (json_int_t)x->index, "id", x->hex,
		                                        "time", t1, "deadline", t2, "outcome",
		                                        x->ends[0], outcome_name(x->out[0]),
		                                        x->ends[1], outcome_name(x->out[1])));
	}
	ret = cli_print_json(j, "line");
	json_decref(j);
	return ret;
}

/* --since DATE. */
static int take_since(void *to, const char *arg)
{
	struct line_report *lr = to;

	if (parse_since(arg, &lr->r.since) != 0)
		return cli_usage("line availability",
		                 "--since: '%s' is not YYYY-MM-DD nor YYYY-MM-DDTHH:MM:SSZ", arg);
	lr->has_since = true;
	return PL_EXIT_OK;
}

/* --until DATE. */
static int take_until(void *to, const char *arg)
{
	struct line_report *lr = to;

	if (parse_since(arg, &lr->r.until) != 0)
		return cli_usage("line availability",
		                 "--until: '%s' is not YYYY-MM-DD nor YYYY-MM-DDTHH:MM:SSZ", arg);
	lr->has_until = true;
	return PL_EXIT_OK;
}

/* Bytes of the one-line reason a verification gives. */
#define LINE_WHY_MAX 1024

/* parley line verify: the dossier verified, then the line counted from it. */
static int verify_report(struct line_report *lr, const char *file, const struct pl_vkey *log_key)
{
	struct pl_dossier_report *rep = NULL;
	struct pl_buf text, why;
	bool from_first = false;
	int ret, err;

	pl_buf_init(&text, PL_DOSSIER_MAX_BYTES);
	pl_buf_init(&why, LINE_WHY_MAX);
	ret = cli_read_path("dossier", file, PL_DOSSIER_MAX_BYTES, &text);
	if (ret)
		goto out;
	err = pl_dossier_verify(&rep, text.data ? text.data : "", text.len, log_key, NULL, 0, 0,
	                        &why);
	if (!err)
		err = pl_line_report_from_dossier(&lr->r, rep, &from_first, &why);
	if (err) {
		bool evidence = pl_dossier_error_is_evidence(err);
		cli_error("line report %s %s: %s", file,
		          evidence ? "does not verify" : "cannot be read",
		          why.len ? why.data : pl_strerror(err));
		ret = evidence ? PL_EXIT_FAIL : PL_EXIT_USAGE;
		goto out;
	}
	lr->has_since = true;
	ret = lr->json ? print_json(lr) : print_text(lr);
	if (ret == PL_EXIT_OK && !lr->json && from_first)
		printf("the chain of line %s begins at check %.16s: no check logged before it is "
		       "counted\n",
		       lr->r.line, lr->r.n ? lr->r.v[0].hex : "");
out:
	pl_dossier_report_free(rep);
	pl_buf_release(&text);
	pl_buf_release(&why);
	return ret;
}

int cmd_line(int argc, char **argv)
{
	static const char *const subs[] = {"availability", "verify", NULL};
	static struct pl_vkey log_key;
	const char *file = NULL;
	size_t nlog = 0;
	/* Static: a session holds large fixed-size members. */
	static struct line_report lr;
	const char *profile = NULL;
	const struct cli_opt opts[] = {
	        {'s', "since", CLI_CALL, &lr, "DATE",
	         "count the checks made at or after DATE: YYYY-MM-DD (00:00\nUTC) or "
	         "YYYY-MM-DDTHH:MM:SSZ (default: every check)",
	         .call = take_since},
	        {'u', "until", CLI_CALL, &lr, "DATE",
	         "count the checks made before DATE, same forms (default:\nup to the checkpoint)",
	         .call = take_until},
	        CLI_OPT_PROFILE(&profile),
	        CLI_OPT_JSON(&lr.json, "print one JSON object instead of text"),
	        {0},
	};
	const struct cli_opt vopts[] = {
	        {'l', "log-key", CLI_VKEY, &log_key, "VKEY",
	         "the exchange's published log key (required)", &nlog, .max = 1},
	        {'s', "since", CLI_CALL, &lr, "DATE",
	         "count the checks made at or after DATE, in the forms of\nline availability "
	         "(default: the dossier's check's time)",
	         .call = take_since},
	        {'u', "until", CLI_CALL, &lr, "DATE",
	         "count the checks made before DATE (default: up to the\ndossier's checkpoint)",
	         .call = take_until},
	        CLI_OPT_JSON(&lr.json, "print one JSON object instead of text"),
	        {0},
	};
	size_t which;
	int ret;

	memset(&lr, 0, sizeof(lr));
	ret = cli_sub("line", &line_verb, opts, argc, argv, subs, &which);
	if (ret < 0 && which == 1) {
		ret = cli_parse(&verify_verb, vopts, argc - 1, argv + 1, &file);
		if (ret < 0 && nlog != 1)
			ret = cli_usage("line verify", "--log-key is required");
		if (ret < 0 && log_key.type != PL_SIGTYPE_ED25519)
			ret = cli_usage("line verify", "--log-key %s: not an Ed25519 log key",
			                log_key.name);
		if (ret < 0 && lr.has_until && lr.r.until <= lr.r.since)
			ret = cli_usage("line verify", "--until must be after --since");
		if (ret < 0)
			ret = verify_report(&lr, file, &log_key);
		goto out;
	}
	if (ret < 0)
		ret = cli_parse(&line_verb, opts, argc - 1, argv + 1, &lr.r.line);
	if (ret >= 0)
		goto out;
	if (!pl_record_name_is_valid(lr.r.line, strlen(lr.r.line))) {
		ret = cli_usage("line availability", "'%s' is not a line name", lr.r.line);
		goto out;
	}
	if (lr.has_until && lr.r.until <= lr.r.since) {
		ret = cli_usage("line availability", "--until must be after --since");
		goto out;
	}
	ret = session_open(&lr.s, "line", profile);
	if (ret)
		goto out;
	ret = session_said(&lr.s, pl_line_report_load(&lr.s, &lr.r));
	if (!ret)
		ret = lr.json ? print_json(&lr) : print_text(&lr);
out:
	pl_line_report_release(&lr.r);
	session_close(&lr.s);
	memset(&lr, 0, sizeof(lr));
	return ret;
}
