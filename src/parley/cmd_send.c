/* The verbs that author records: send, convey, decline, accept, refuse, statement, consult, advise,
 * group. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <parley/author.h>
#include <parley/timestamp.h>

#include "banned.h"

/* The authoring verb of a record kind, as a bit of cli_opt.only: each takes a subset of the
 * options. */
#define V(kind) (1u << PL_KIND_##kind)

/* One verb of this file: its command line and the kind of record it authors. */
struct verb_spec {
	struct cli_verb v;
	enum pl_record_kind kind;
};

static const struct verb_spec specs[] = {
        {{"send",
          "--to PARTY... [--via PARTY] [--class message|proposal|letter]\n"
          "           [--deadline TIME|+DURATION] [--reply-to ID] [--body-file FILE]\n"
          "           [--no-readable-by-via] [--profile DIR] [--json]",
          "Sends a message, proposal or letter to the parties named with --to (1 to 16),\n"
          "directly or through the intermediary named with --via. The body, read from\n"
          "FILE or standard input, is encrypted end to end (docs/payloads.md) to this\n"
          "party (so it can read it back and disclose it later), to every recipient,\n"
          "and, unless --no-readable-by-via, to the intermediary: by default an\n"
          "intermediary can read what it is asked to convey, so that its decision and\n"
          "its receipt are about the content. The blob is uploaded, the record signed\n"
          "and submitted, and the exchange's proof of it checked.\n"
          "\n"
          "TIME is RFC 3339 in UTC (2025-11-24T00:00:00Z); +DURATION counts from now in\n"
          "s, m, h, d or w units (+90m, +7d, +1d12h). A reply (--reply-to) answers a\n"
          "send this party received. --consult names the consultation this send\n"
          "follows (one this party made): a coordination group judges the send by it.\n"
          "It prints the kind, the record id, its log index and the size of the\n"
          "checkpoint that proves it.\n",
          NULL, NULL, V(SEND), false},
         PL_KIND_SEND},
        {{"convey", "ID [--profile DIR] [--json]",
          "As the intermediary of send ID (a record id or a unique prefix of at least 8\n"
          "hex digits), passes it on to its recipients. The exchange then makes it\n"
          "available to them. Only the send's intermediary may convey it, once, before\n"
          "its deadline; the exchange refuses otherwise (exit 3).\n",
          NULL, "record ID", V(CONVEY), false},
         PL_KIND_CONVEY},
        {{"decline", "ID --reason TEXT [--profile DIR] [--json]",
          "As the intermediary of send ID, declines to pass it on, for the reason given\n"
          "(one line, at most 280 bytes, public in the record). A decline needs no\n"
          "reading of the content.\n",
          NULL, "record ID", V(DECLINE), false},
         PL_KIND_DECLINE},
        {{"accept", "ID [--profile DIR] [--json]",
          "As a recipient of send ID, accepts it formally. Only after the exchange made\n"
          "it available to this party, once, before its deadline.\n",
          NULL, "record ID", V(ACCEPT), false},
         PL_KIND_ACCEPT},
        {{"refuse", "ID [--reason TEXT] [--profile DIR] [--json]",
          "As a recipient of send ID, refuses it formally, with an optional public reason\n"
          "(one line, at most 280 bytes). A refusal need not open the content.\n",
          NULL, "record ID", V(REFUSE), false},
         PL_KIND_REFUSE},
        {{"statement",
          "[--cites ID...] [--measure] [--reciprocates ID] [--consult ID]\n"
          "           [--suspends ID | --resumes ID | --ends ID]\n"
          "           [--body-file FILE] [--profile DIR] [--json]",
          "Makes a public statement: the body, read from FILE or standard input, is in\n"
          "the record itself, readable by everyone (at most 16 KiB of text; the first and\n"
          "last lines not empty). --cites names records the statement refers to (up to\n"
          "16); --measure marks it as the announcement of a measure. --reciprocates\n"
          "names another party's measure that this one answers in kind (it makes the\n"
          "statement a measure). --consult names the consultation it follows.\n"
          "--suspends, --resumes and --ends change the state of this party's own\n"
          "measure: ID is its latest state (the announcement, or the last change).\n",
          NULL, NULL, V(STATEMENT), false},
         PL_KIND_STATEMENT},
        {{"consult",
          "--with PARTY... [--deadline TIME|+DURATION] [--group ID]\n"
          "           [--body-file FILE] [--profile DIR] [--json]",
          "Shows a draft to allies before acting on it: the draft, read from FILE or\n"
          "standard input, is sealed to this party and the parties named with --with (1\n"
          "to 16), who answer with 'parley advise'. --deadline asks for advice by then.\n"
          "--group makes it a consultation of the coordination group whose current\n"
          "version is ID: this party and every party of --with must be its members.\n",
          NULL, NULL, V(CONSULT), false},
         PL_KIND_CONSULT},
        {{"advise",
          "ID --position concur|object|noted [--reason TEXT]\n"
          "           [--profile DIR] [--json]",
          "Answers consultation ID as one of the allies it named: concur, object or\n"
          "noted, with an optional public reason (one line, at most 280 bytes).\n",
          NULL, "record ID", V(ADVISE), false},
         PL_KIND_ADVISE},
        {{"group",
          "NAME --member PARTY... --about PARTY... --window DAYS [--changes ID]\n"
          "           [--profile DIR] [--json]",
          "Forms a coordination group NAME of this party and the parties named with\n"
          "--member, about the counterparts named with --about: a send or measure of a\n"
          "member to a counterpart is coordinated when the other members were consulted\n"
          "on it (parley consult --group) within the last DAYS days (1 to 365) and none\n"
          "objected. With --changes ID, changes the group whose current version is ID\n"
          "instead: the record states the whole new membership, and only a member of\n"
          "version ID may make it, once. Group records are read by their members only.\n",
          NULL, "group NAME", V(GROUP), false},
         PL_KIND_GROUP},
};

/* What the command line asked for. */
struct author_args {
	const struct verb_spec *spec;
	const char *profile;
	bool json;
	const char *id;
	const char *to[PL_RECORD_MAX_TO];
	size_t nto;
	const char *via;
	const char *cls;
	const char *deadline;
	const char *reply_to;
	const char *body_file;
	bool readable_by_via;
	const char *reason;
	const char *cites[PL_RECORD_MAX_REFS];
	size_t ncites;
	bool measure;
	const char *position;
	const char *consult;
	const char *group_ref;
	const char *reciprocates;
	const char *about[PL_RECORD_MAX_TO];
	size_t nabout;
	uint64_t window;
	const char *changes;
	const char *suspends, *resumes, *ends;
};

/* Reads the body from --body-file or standard input (pl_author_request.read_body). */
static int read_body(void *ctx, size_t max, struct pl_buf *body)
{
	const struct author_args *a = ctx;

	return cli_read_path("body", a->body_file ? a->body_file : "-", max, body) ? PL_EIO : 0;
}

/* Prints what was logged: one line, or JSON. r is the record as signed, text its note. */
static int print_receipt(const struct author_args *a, const struct pl_record *r,
                         const struct pl_receipt *rc, const struct pl_buf *text)
{
	char t[PL_TIMESTAMP_LEN + 1], hex[PL_RECORD_ID_HEX_LEN + 1];
	int ret = PL_EXIT_OK;

	if (pl_timestamp_format(t, r->time) != 0)
		t[0] = '\0';
	pl_record_id_format(hex, rc->id);
	if (a->json) {
		json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s%}", "kind",
		                      pl_record_kind_name(r->kind), "id", hex, "index",
		                      (json_int_t)rc->index, "tree_size", (json_int_t)rc->size,
		                      "seq", (json_int_t)r->seq, "time", t, "record",
		                      text->data ? text->data : "", text->len);
		ret = cli_print_json(j, "the receipt");
		json_decref(j);
	} else {
		printf("%s %s index %llu tree %llu\n", pl_record_kind_name(r->kind), hex,
		       (unsigned long long)rc->index, (unsigned long long)rc->size);
	}
	return ret;
}

static int run(const struct author_args *a)
{
	struct pl_session s;
	struct pl_receipt rc;
	struct pl_record *r = calloc(1, sizeof(*r));
	struct pl_buf text;
	struct pl_author_request req = {
	        .kind = a->spec->kind,
	        .about = a->spec->kind == PL_KIND_GROUP ? NULL : a->id,
	        .to = a->to,
	        .nto = a->nto,
	        .via = a->via,
	        .readable_by_via = a->readable_by_via,
	        .cls = a->measure                        ? PL_CLASS_MEASURE
	               : !a->cls                         ? 0
	               : strcmp(a->cls, "proposal") == 0 ? PL_CLASS_PROPOSAL
	               : strcmp(a->cls, "letter") == 0   ? PL_CLASS_LETTER
	                                                 : PL_CLASS_MESSAGE,
	        .deadline = a->deadline,
	        .reply_to = a->reply_to,
	        .reason = a->reason,
	        .cites = a->cites,
	        .ncites = a->ncites,
	        .position = !a->position                         ? 0
	                    : strcmp(a->position, "concur") == 0 ? PL_POSITION_CONCUR
	                    : strcmp(a->position, "object") == 0 ? PL_POSITION_OBJECT
	                                                         : PL_POSITION_NOTED,
	        .consult = a->consult,
	        .group_ref = a->group_ref,
	        .reciprocates = a->reciprocates,
	        .group = a->spec->kind == PL_KIND_GROUP ? a->id : NULL,
	        .counterparts = a->about,
	        .ncounterparts = a->nabout,
	        .window_days = (unsigned)a->window,
	        .changes = a->changes,
	        .measure = a->suspends  ? a->suspends
	                   : a->resumes ? a->resumes
	                                : a->ends,
	        .state = a->suspends  ? PL_MEASURE_SUSPENDED
	                 : a->resumes ? PL_MEASURE_RESUMED
	                              : PL_MEASURE_ENDED,
	        .read_body = read_body,
	        .ctx = (void *)a,
	};
	int ret;

	memset(&rc, 0, sizeof(rc));
	pl_buf_init(&text, PL_RECORD_MAX_BYTES);
	ret = session_open(&s, a->spec->v.name, a->profile);
	if (ret)
		goto out;
	if (!r) {
		cli_error("out of memory");
		ret = PL_EXIT_USAGE;
		goto out;
	}
	ret = session_said(&s, pl_author(&s, &req, r, &rc, &text));
	if (!ret)
		ret = print_receipt(a, r, &rc, &text);
	/* A record that refers to others must be listed under each in the next index. */
	if (!ret && r->nrefs)
		ret = session_index_check(&s, r, text.data, text.len, &rc, false);
out:
	pl_buf_release(&text);
	pl_receipt_release(&rc);
	free(r);
	session_close(&s);
	return ret;
}

/* Checks what the options of a verb say together. Returns an exit code. */
static int check_args(const struct author_args *a, const char *cmd)
{
	int ret = PL_EXIT_OK;

	if ((a->spec->v.bit & (V(SEND) | V(CONSULT))) && a->nto == 0) {
		ret = cli_usage(cmd, "needs at least one %s",
		                a->spec->v.bit == V(SEND) ? "--to" : "--with");
		goto out;
	}
	if (!!a->suspends + !!a->resumes + !!a->ends > 1) {
		ret = cli_usage(cmd, "one of --suspends, --resumes and --ends at most");
		goto out;
	}
	if (a->spec->kind == PL_KIND_GROUP && (a->nto == 0 || a->nabout == 0 || a->window == 0)) {
		ret = cli_usage(cmd, "needs --member, --about and --window");
		goto out;
	}
	if (a->spec->kind == PL_KIND_DECLINE && !a->reason) {
		ret = cli_usage(cmd, "needs --reason");
		goto out;
	}
	if (a->spec->kind == PL_KIND_ADVISE && !a->position) {
		ret = cli_usage(cmd, "needs --position concur|object|noted");
		goto out;
	}
	if (a->reason && (strlen(a->reason) == 0 || strlen(a->reason) > PL_RECORD_REASON_MAX ||
	                  strchr(a->reason, '\n') || a->reason[0] == ' ' ||
	                  a->reason[strlen(a->reason) - 1] == ' ')) {
		ret = cli_usage(cmd, "--reason: one line of 1 to %d bytes, no space at either end",
		                PL_RECORD_REASON_MAX);
		goto out;
	}
	if (!a->via && !a->readable_by_via) {
		ret = cli_usage(cmd, "--no-readable-by-via without --via");
		goto out;
	}
out:
	return ret;
}

/* Parses the arguments of the verb named argv[0] and runs it. */
static int author(int argc, char **argv)
{
	struct author_args a = {.readable_by_via = true};
	const unsigned sealed = V(SEND) | V(CONSULT), reasoned = V(DECLINE) | V(REFUSE) | V(ADVISE);
	const struct cli_opt opts[] = {
	        {'t', "to", CLI_LIST, a.to, "PARTY", "a recipient; repeat for several", &a.nto,
	         .max = PL_RECORD_MAX_TO, .only = V(SEND)},
	        {'v', "via", CLI_STR, &a.via, "PARTY", "the intermediary", .only = V(SEND)},
	        {'c', "class", CLI_CHOICE, &a.cls, "CLASS", "message (default), proposal or letter",
	         .choices = "message|proposal|letter", .only = V(SEND)},
	        {'d', "deadline", CLI_STR, &a.deadline, "WHEN", "reply by this time",
	         .only = sealed},
	        {'r', "reply-to", CLI_STR, &a.reply_to, "ID",
	         "the send this one answers (id or unique prefix)", .only = V(SEND)},
	        {'b', "body-file", CLI_STR, &a.body_file, "FILE",
	         "the body ('-' or none: standard input)", .only = sealed | V(STATEMENT)},
	        {0, "readable-by-via", CLI_FLAG, &a.readable_by_via, NULL,
	         "seal the body to the intermediary too (default)", .only = V(SEND)},
	        {0, "no-readable-by-via", CLI_UNFLAG, &a.readable_by_via, NULL,
	         "the intermediary relays without reading", .only = V(SEND)},
	        {'R', "reason", CLI_STR, &a.reason, "TEXT", "why", .only = reasoned},
	        {'C', "cites", CLI_LIST, a.cites, "ID", "a record cited; repeat for several",
	         &a.ncites, .max = PL_RECORD_MAX_REFS, .only = V(STATEMENT)},
	        {'m', "measure", CLI_FLAG, &a.measure, NULL, "class measure instead of statement",
	         .only = V(STATEMENT)},
	        {'W', "with", CLI_LIST, a.to, "PARTY", "an ally consulted; repeat for several",
	         &a.nto, .max = PL_RECORD_MAX_TO, .only = V(CONSULT)},
	        {'o', "position", CLI_CHOICE, &a.position, "POS", "concur, object or noted",
	         .choices = "concur|object|noted", .only = V(ADVISE)},
	        {0, "consult", CLI_STR, &a.consult, "ID", "the consultation this follows",
	         .only = V(SEND) | V(STATEMENT)},
	        {0, "reciprocates", CLI_STR, &a.reciprocates, "ID",
	         "another party's measure this one answers in kind", .only = V(STATEMENT)},
	        {0, "group", CLI_STR, &a.group_ref, "ID",
	         "the coordination group (its current version) consulted in", .only = V(CONSULT)},
	        {0, "member", CLI_LIST, a.to, "PARTY", "another member; repeat for several", &a.nto,
	         .max = PL_RECORD_MAX_TO - 1, .only = V(GROUP)},
	        {0, "about", CLI_LIST, a.about, "PARTY", "a counterpart; repeat for several",
	         &a.nabout, .max = PL_RECORD_MAX_TO, .only = V(GROUP)},
	        {0, "window", CLI_UINT, &a.window, "DAYS", "days before a signal to consult in",
	         .min = 1, .max = PL_RECORD_WINDOW_MAX_DAYS, .only = V(GROUP)},
	        {0, "changes", CLI_STR, &a.changes, "ID", "the version of the group this changes",
	         .only = V(GROUP)},
	        {0, "suspends", CLI_STR, &a.suspends, "ID", "suspend this party's measure",
	         .only = V(STATEMENT)},
	        {0, "resumes", CLI_STR, &a.resumes, "ID", "resume this party's suspended measure",
	         .only = V(STATEMENT)},
	        {0, "ends", CLI_STR, &a.ends, "ID", "end this party's measure",
	         .only = V(STATEMENT)},
	        CLI_OPT_PROFILE(&a.profile),
	        CLI_OPT_JSON(&a.json, "print the receipt as JSON"),
	        {0},
	};
	int ret;

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		if (strcmp(argv[0], specs[i].v.name) == 0)
			a.spec = &specs[i];
	}
	if (!a.spec)
		return cli_usage(argv[0], "not a verb that authors records");
	ret = cli_parse(&a.spec->v, opts, argc, argv, &a.id);
	if (ret >= 0)
		return ret;
	ret = check_args(&a, a.spec->v.name);
	return ret ? ret : run(&a);
}

int cmd_send(int argc, char **argv)
{
	return author(argc, argv);
}
