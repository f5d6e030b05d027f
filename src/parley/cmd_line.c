/* parley line availability: how often each end of a direct line answered its checks, verified. */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <parley/client.h>
#include <parley/line.h>
#include <parley/member.h>
#include <parley/proof.h>
#include <parley/record.h>
#include <parley/timestamp.h>

#include "session.h"
#include "banned.h"

static const struct cli_verb line_verb = {
        .name = "line availability",
        .synopsis = "LINE [--since DATE] [--profile DIR] [--json]",
        .about =
                "Reports how each end of the direct line LINE answered the exchange's scheduled\n"
                "checks: the number N of checks since DATE, then per end \"answered K of N checks\n"
                "since DATE (U unanswered, P pending)\", K + U + P = N, then the checks it left\n"
                "unanswered. The counts come from the records themselves (each check, answer and\n"
                "unanswered), each verified against the exchange's directory and proven included\n"
                "under a checkpoint consistent with the one this client pinned; a check whose\n"
                "window is still open, or whose unanswered the exchange has not logged yet, is\n"
                "pending.\n",
        .status = "Exit status: 0 shown; 1 a record, a proof or the checkpoint does not hold; 2\n"
                  "usage or I/O error; 3 the exchange refused (unknown line, not a member).\n",
        .operand = "LINE",
};

/* Pages of GET /lines/<name> read at most. */
#define LINE_PAGES_MAX 100000
/* Checks one report holds at most (a summary each). */
#define LINE_CHECKS_MAX 1000000

/* What the report keeps of one judged check. */
struct line_check {
	uint64_t index;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int64_t time, deadline;
	char ends[2][PL_RECORD_NAME_MAX + 1];
	enum pl_line_outcome out[2];
};

/* The records of one page, verified, grouped by the check they are about. */
struct line_group {
	struct session_record check;
	struct session_record *rel;
	size_t nrel;
};

struct line_report {
	struct session s;
	const char *line;
	int64_t since;
	bool has_since;
	bool json;
	struct pl_line_tally tally;
	struct line_check *v;
	size_t n, cap;
	char *cp; /* the last checkpoint note checked with session_checkpoint() */
	size_t cp_len;
	uint64_t size;
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

/*
 * Verifies the tlog-proof of one verified record and checks its checkpoint
 * (once per distinct checkpoint) for consistency with the pinned one.
 */
static int prove(struct line_report *lr, const struct session_record *sr, const char *proof,
                 size_t proof_len)
{
	struct pl_proof *p = NULL;
	struct pl_checkpoint cp;
	char sid[17];
	int ret = PL_EXIT_FAIL, err;

	session_short_id(sid, sr->id);
	err = pl_member_proof_check(proof, proof_len, sr->text, sr->len, sr->index,
	                            lr->s.profile.origin, &lr->s.profile.log_key, &p, &cp);
	if (err == PL_ERANGE) {
		cli_error("line: proof of record %s: proves index %" PRIu64
		          ", but the exchange gave the record at %" PRIu64,
		          sid, p->index, sr->index);
		goto out;
	}
	if (err) {
		cli_error("line: proof of record %s: %s%s", sid, p ? "does not hold: " : "",
		          pl_strerror(err));
		goto out;
	}
	if (!lr->cp || lr->cp_len != p->checkpoint_len ||
	    memcmp(lr->cp, p->checkpoint, p->checkpoint_len) != 0) {
		ret = session_checkpoint(&lr->s, p->checkpoint, p->checkpoint_len, NULL);
		if (ret)
			goto out;
		free(lr->cp);
		lr->cp = p->checkpoint;
		lr->cp_len = p->checkpoint_len;
		p->checkpoint = NULL; /* kept */
		lr->size = cp.size;
	}
	ret = PL_EXIT_OK;
out:
	pl_proof_free(p);
	return ret;
}

static void groups_free(struct line_group *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++) {
		session_record_release(&g[i].check);
		for (size_t k = 0; k < g[i].nrel; k++)
			session_record_release(&g[i].rel[k]);
		free(g[i].rel);
	}
	free(g);
}

/* The group of the check with this id, or NULL. */
static struct line_group *group_of(struct line_group *g, size_t n, const uint8_t *id)
{
	for (size_t i = 0; i < n; i++) {
		if (memcmp(g[i].check.id, id, PL_RECORD_ID_BYTES) == 0)
			return &g[i];
	}
	return NULL;
}

/* Judges and counts the checks of one page; keeps a summary of each. */
static int judge_page(struct line_report *lr, struct line_group *g, size_t ng)
{
	for (size_t i = 0; i < ng; i++) {
		const struct pl_record *rel[2 * PL_RECORD_MAX_TO + 2];
		uint8_t ids[2 * PL_RECORD_MAX_TO + 2][PL_RECORD_ID_BYTES];
		const struct pl_record *c = g[i].check.rec;
		struct line_check *x;
		size_t max = sizeof(rel) / sizeof(rel[0]), nr = g[i].nrel < max ? g[i].nrel : max;
		enum pl_line_outcome out[2];
		int err;

		for (size_t k = 0; k < nr; k++) {
			rel[k] = g[i].rel[k].rec;
			memcpy(ids[k], g[i].rel[k].id, PL_RECORD_ID_BYTES);
		}
		err = pl_line_judge(c, g[i].check.id, rel,
		                    (const uint8_t(*)[PL_RECORD_ID_BYTES])ids, nr, out);
		if (!err && g[i].nrel > nr)
			err = PL_ERULE; /* more answers than a check can have */
		if (err) {
			cli_error("line: check %.16s: its answers break the rules: %s",
			          g[i].check.hex, pl_strerror(err));
			return PL_EXIT_FAIL;
		}
		if (c->time < lr->since)
			continue;
		err = pl_line_tally_add(&lr->tally, c, out);
		if (err) {
			cli_error("line: check %.16s: %s", g[i].check.hex, pl_strerror(err));
			return PL_EXIT_USAGE;
		}
		if (lr->n == lr->cap) {
			size_t ncap = lr->cap ? lr->cap * 2 : 64;
			struct line_check *nv =
			        ncap > LINE_CHECKS_MAX ? NULL : realloc(lr->v, ncap * sizeof(*nv));
			if (!nv) {
				cli_error("line: too many checks to report at once");
				return PL_EXIT_USAGE;
			}
			lr->v = nv;
			lr->cap = ncap;
		}
		x = &lr->v[lr->n++];
		memset(x, 0, sizeof(*x));
		x->index = g[i].check.index;
		memcpy(x->hex, g[i].check.hex, sizeof(x->hex));
		x->time = c->time;
		x->deadline = c->deadline;
		for (int e = 0; e < 2; e++) {
			memcpy(x->ends[e], c->to[e], sizeof(x->ends[e]));
			x->out[e] = out[e];
		}
	}
	return PL_EXIT_OK;
}

/*
 * One page: verify every record (signature, id, inclusion), group the
 * answers and unanswered under their check, judge and count.
 */
static int page(struct line_report *lr, const struct pl_client_line *pg)
{
	struct line_group *g = calloc(pg->n ? pg->n : 1, sizeof(*g));
	size_t ng = 0;
	int ret = PL_EXIT_OK;

	if (!g) {
		cli_error("line: out of memory");
		return PL_EXIT_USAGE;
	}
	for (size_t i = 0; i < pg->n && !ret; i++) {
		const struct pl_client_line_entry *le = &pg->v[i];
		struct pl_client_entry e = {
		        .index = le->index, .note = le->note, .note_len = le->note_len};
		struct session_record sr;
		const struct pl_record *r;

		memcpy(e.id, le->id, PL_RECORD_ID_BYTES);
		memset(&sr, 0, sizeof(sr));
		ret = session_verify_entry(&lr->s, &e, &sr);
		if (!ret)
			ret = prove(lr, &sr, le->proof, le->proof_len);
		if (ret) {
			session_record_release(&sr);
			break;
		}
		r = sr.rec;
		if (r->kind == PL_KIND_CHECK && strcmp(r->line, lr->line) == 0) {
			g[ng++].check = sr;
			continue;
		}
		if (r->kind == PL_KIND_ANSWER || r->kind == PL_KIND_UNANSWERED) {
			const struct pl_record_ref *ref = pl_record_ref_find(r, PL_ROLE_CHECK);
			struct line_group *x = ref ? group_of(g, ng, ref->id) : NULL;
			struct session_record *nr =
			        x ? realloc(x->rel, (x->nrel + 1) * sizeof(*nr)) : NULL;
			if (x && nr) {
				x->rel = nr;
				x->rel[x->nrel++] = sr;
				continue;
			}
			if (x)
				cli_error("line: out of memory");
			else
				cli_error("line: record %.16s: the exchange listed it without its "
				          "check",
				          sr.hex);
			ret = x ? PL_EXIT_USAGE : PL_EXIT_FAIL;
		} else {
			cli_error("line: record %.16s: a %s is not a record of line %s", sr.hex,
			          pl_record_kind_name(r->kind), lr->line);
			ret = PL_EXIT_FAIL;
		}
		session_record_release(&sr);
	}
	if (!ret)
		ret = judge_page(lr, g, ng);
	groups_free(g, ng);
	return ret;
}

static int load(struct line_report *lr)
{
	uint64_t after = 0;
	bool more;
	int ret = PL_EXIT_OK, err;

	pl_line_tally_init(&lr->tally, lr->line, lr->since);
	for (unsigned pages = 0; pages < LINE_PAGES_MAX; pages++) {
		struct pl_client_line pg;

		memset(&pg, 0, sizeof(pg));
		err = pl_client_line(lr->s.client, lr->line, lr->since > 0 ? lr->since : 0, after,
		                     &pg);
		if (err) {
			char what[PL_RECORD_NAME_MAX + 16];
			snprintf(what, sizeof(what), "line %s", lr->line);
			ret = session_client_failed(&lr->s, what, err);
			break;
		}
		ret = page(lr, &pg);
		if (!ret && pg.more && pg.next <= after) {
			cli_error("line: the exchange's cursor does not advance");
			ret = PL_EXIT_FAIL;
		}
		after = pg.next;
		more = pg.more;
		pl_client_line_release(&pg);
		if (ret || !more)
			break;
	}
	if (!ret && !lr->cp) {
		/* No record: still say as of which checkpoint. */
		struct pl_checkpoint cp;
		ret = session_refresh(&lr->s, &cp, NULL);
		if (!ret)
			lr->size = cp.size;
	}
	return ret;
}

static void time_text(char out[static PL_TIMESTAMP_LEN + 1], int64_t t)
{
	if (pl_timestamp_format(out, t) != 0)
		snprintf(out, PL_TIMESTAMP_LEN + 1, "%s", "(out of range)");
}

/* The time the report counts from: --since, else its first check. */
static int64_t report_since(const struct line_report *lr)
{
	if (lr->has_since || lr->n == 0)
		return lr->since;
	return lr->v[0].time;
}

static int print_text(const struct line_report *lr)
{
	char since[PL_TIMESTAMP_LEN + 1];
	struct pl_buf sentence;
	int ret = PL_EXIT_OK;

	pl_buf_init(&sentence, 1024);
	time_text(since, report_since(lr));
	if (lr->tally.checks == 0) {
		printf("line %s: no checks%s%s (as of tree size %" PRIu64 ")\n", lr->line,
		       lr->has_since ? " since " : "", lr->has_since ? since : "", lr->size);
		goto out;
	}
	printf("line %s: %" PRIu64 " check%s since %s, verified as of tree size %" PRIu64 "\n",
	       lr->line, lr->tally.checks, lr->tally.checks == 1 ? "" : "s", since, lr->size);
	for (size_t i = 0; i < lr->tally.nends; i++) {
		const struct pl_line_end_tally *e = &lr->tally.ends[i];
		pl_buf_reset(&sentence);
		if (pl_line_end_tally_format(e, report_since(lr), &sentence) != 0) {
			cli_error("line %s: the counts of %s do not add up", lr->line, e->end);
			ret = PL_EXIT_USAGE;
			goto out;
		}
		printf("%s\n", sentence.data);
		for (size_t k = 0; k < lr->n; k++) {
			const struct line_check *x = &lr->v[k];
			char when[PL_TIMESTAMP_LEN + 1];
			for (int j = 0; j < 2; j++) {
				if (strcmp(x->ends[j], e->end) != 0 ||
				    x->out[j] != PL_LINE_UNANSWERED)
					continue;
				time_text(when, x->time);
				printf("  unanswered: #%" PRIu64 " %s check %.16s\n", x->index,
				       when, x->hex);
			}
		}
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
	char *text = NULL;
	int ret = PL_EXIT_USAGE;

	time_text(since, report_since(lr));
	ends = json_array();
	checks = json_array();
	j = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}", "line", lr->line, "since", since,
	              "tree_size", (json_int_t)lr->size, "checks", (json_int_t)lr->tally.checks,
	              "ends", ends, "records", checks);
	for (size_t i = 0; j && i < lr->tally.nends; i++) {
		const struct pl_line_end_tally *e = &lr->tally.ends[i];
		json_t *un = json_array();
		for (size_t k = 0; un && k < lr->n; k++) {
			for (int x = 0; x < 2; x++) {
				if (strcmp(lr->v[k].ends[x], e->end) == 0 &&
				    lr->v[k].out[x] == PL_LINE_UNANSWERED)
					json_array_append_new(un,
					                      json_pack("{s:I, s:s}", "index",
					                                (json_int_t)lr->v[k].index,
					                                "id", lr->v[k].hex));
			}
		}
		json_array_append_new(
		        ends, json_pack("{s:s, s:I, s:I, s:I, s:I, s:o*}", "end", e->end, "checks",
		                        (json_int_t)e->checks, "answered", (json_int_t)e->answered,
		                        "unanswered", (json_int_t)e->unanswered, "pending",
		                        (json_int_t)e->pending, "unanswered_checks", un));
	}
	for (size_t k = 0; j && k < lr->n; k++) {
		const struct line_check *x = &lr->v[k];
		time_text(t1, x->time);
		time_text(t2, x->deadline);
		json_array_append_new(checks, json_pack("{s:I, s:s, s:s, s:s, s:{s:s, s:s}}",
		                                        "index", (json_int_t)x->index, "id", x->hex,
		                                        "time", t1, "deadline", t2, "outcome",
		                                        x->ends[0], outcome_name(x->out[0]),
		                                        x->ends[1], outcome_name(x->out[1])));
	}
	text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	if (!text) {
		cli_error("line: out of memory");
		goto out;
	}
	printf("%s\n", text);
	ret = PL_EXIT_OK;
out:
	free(text);
	json_decref(j);
	return ret;
}

/* --since DATE. */
static int take_since(void *to, const char *arg)
{
	struct line_report *lr = to;

	if (parse_since(arg, &lr->since) != 0)
		return cli_usage("line availability",
		                 "--since: '%s' is not YYYY-MM-DD nor YYYY-MM-DDTHH:MM:SSZ", arg);
	lr->has_since = true;
	return PL_EXIT_OK;
}

int cmd_line(int argc, char **argv)
{
	static const char *const subs[] = {"availability", NULL};
	/* Static: a session holds large fixed-size members. */
	static struct line_report lr;
	const char *profile = NULL;
	const struct cli_opt opts[] = {
	        {'s', "since", CLI_CALL, &lr, "DATE",
	         "count the checks made at or after DATE: YYYY-MM-DD (00:00\nUTC) or "
	         "YYYY-MM-DDTHH:MM:SSZ (default: every check)",
	         .call = take_since},
	        CLI_OPT_PROFILE(&profile),
	        CLI_OPT_JSON(&lr.json, "print one JSON object instead of text"),
	        {0},
	};
	size_t which;
	int ret;

	memset(&lr, 0, sizeof(lr));
	ret = cli_sub("line", &line_verb, opts, argc, argv, subs, &which);
	if (ret < 0)
		ret = cli_parse(&line_verb, opts, argc - 1, argv + 1, &lr.line);
	if (ret >= 0)
		goto out;
	if (!pl_record_name_is_valid(lr.line, strlen(lr.line))) {
		ret = cli_usage("line availability", "'%s' is not a line name", lr.line);
		goto out;
	}
	ret = session_open(&lr.s, "line", profile);
	if (ret)
		goto out;
	ret = load(&lr);
	if (!ret)
		ret = lr.json ? print_json(&lr) : print_text(&lr);
out:
	free(lr.v);
	free(lr.cp);
	session_close(&lr.s);
	memset(&lr, 0, sizeof(lr));
	return ret;
}
