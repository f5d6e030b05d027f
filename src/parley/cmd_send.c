/* The verbs that author records: send, convey, decline, accept, refuse, statement, consult, advise.
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include <parley/box.h>
#include <parley/encoding.h>
#include <parley/member.h>
#include <parley/party.h>
#include <parley/timestamp.h>

#include "banned.h"

/* The authoring verbs, as bits of cli_opt.only: each verb takes a subset of the options. */
enum {
	V_SEND = 1u << 0,
	V_CONVEY = 1u << 1,
	V_DECLINE = 1u << 2,
	V_ACCEPT = 1u << 3,
	V_REFUSE = 1u << 4,
	V_STATEMENT = 1u << 5,
	V_CONSULT = 1u << 6,
	V_ADVISE = 1u << 7,
};

/* Longest relative deadline: ten years. */
#define DEADLINE_MAX_SECONDS (10LL * 366 * 86400)

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
          "send this party received. It prints the kind, the record id, its log index\n"
          "and the size of the checkpoint that proves it.\n",
          NULL, NULL, V_SEND, false},
         PL_KIND_SEND},
        {{"convey", "ID [--profile DIR] [--json]",
          "As the intermediary of send ID (a record id or a unique prefix of at least 8\n"
          "hex digits), passes it on to its recipients. The exchange then makes it\n"
          "available to them. Only the send's intermediary may convey it, once, before\n"
          "its deadline; the exchange refuses otherwise (exit 3).\n",
          NULL, "record ID", V_CONVEY, false},
         PL_KIND_CONVEY},
        {{"decline", "ID --reason TEXT [--profile DIR] [--json]",
          "As the intermediary of send ID, declines to pass it on, for the reason given\n"
          "(one line, at most 280 bytes, public in the record). A decline needs no\n"
          "reading of the content.\n",
          NULL, "record ID", V_DECLINE, false},
         PL_KIND_DECLINE},
        {{"accept", "ID [--profile DIR] [--json]",
          "As a recipient of send ID, accepts it formally. Only after the exchange made\n"
          "it available to this party, once, before its deadline.\n",
          NULL, "record ID", V_ACCEPT, false},
         PL_KIND_ACCEPT},
        {{"refuse", "ID [--reason TEXT] [--profile DIR] [--json]",
          "As a recipient of send ID, refuses it formally, with an optional public reason\n"
          "(one line, at most 280 bytes). A refusal need not open the content.\n",
          NULL, "record ID", V_REFUSE, false},
         PL_KIND_REFUSE},
        {{"statement",
          "[--cites ID...] [--measure] [--body-file FILE]\n"
          "           [--profile DIR] [--json]",
          "Makes a public statement: the body, read from FILE or standard input, is in\n"
          "the record itself, readable by everyone (at most 16 KiB of text; the first and\n"
          "last lines not empty). --cites names records the statement refers to (up to\n"
          "16); --measure marks it as the announcement of a measure.\n",
          NULL, NULL, V_STATEMENT, false},
         PL_KIND_STATEMENT},
        {{"consult",
          "--with PARTY... [--deadline TIME|+DURATION]\n"
          "           [--body-file FILE] [--profile DIR] [--json]",
          "Shows a draft to allies before acting on it: the draft, read from FILE or\n"
          "standard input, is sealed to this party and the parties named with --with (1\n"
          "to 16), who answer with 'parley advise'. --deadline asks for advice by then.\n",
          NULL, NULL, V_CONSULT, false},
         PL_KIND_CONSULT},
        {{"advise",
          "ID --position concur|object|noted [--reason TEXT]\n"
          "           [--profile DIR] [--json]",
          "Answers consultation ID as one of the allies it named: concur, object or\n"
          "noted, with an optional public reason (one line, at most 280 bytes).\n",
          NULL, "record ID", V_ADVISE, false},
         PL_KIND_ADVISE},
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
};

/*
 * Parses +DURATION (a sequence of <number><unit>, units s m h d w) or an
 * RFC 3339 time. Returns 0 with *out set, or -1.
 */
static int parse_when(const char *s, int64_t base, int64_t *out)
{
	size_t n = strlen(s);
	int64_t d;

	if (s[0] != '+')
		return pl_timestamp_parse(out, s, n) == 0 ? 0 : -1;
	if (pl_duration_parse(&d, s + 1, n - 1, DEADLINE_MAX_SECONDS) != 0 || d == 0)
		return -1;
	*out = base + d;
	return 0;
}

/*
 * Fills r's `to` lines from names (sorted, distinct, each a member). For a
 * send or consult also collects the readers' X25519 keys after keys[0] (this
 * party's). Returns an exit code.
 */
static int add_parties(struct session *s, struct pl_record *r, const char *const *names, size_t n,
                       const char *opt, uint8_t (*keys)[PL_BOX_PK_BYTES], size_t *nkeys)
{
	int ret = PL_EXIT_USAGE;

	for (size_t i = 0; i < n; i++) {
		const struct pl_client_party *p;
		struct pl_party_ekey ek;

		ret = PL_EXIT_USAGE;
		if (!pl_party_name_is_valid(names[i], strlen(names[i]))) {
			cli_error("%s '%s': not a party name", opt, names[i]);
			goto out;
		}
		if (strcmp(names[i], s->profile.party) == 0) {
			cli_error("%s %s: that is this party itself", opt, names[i]);
			goto out;
		}
		if (pl_record_has_to(r, names[i])) {
			cli_error("%s %s: named twice", opt, names[i]);
			goto out;
		}
		p = session_party(s, names[i], &ret);
		if (!p)
			goto out;
		if (keys) {
			if (pl_party_ekey_parse(&ek, p->enc_key, strlen(p->enc_key)) != 0) {
				cli_error(
				        "party %s: its encryption key in the directory is unusable",
				        names[i]);
				ret = PL_EXIT_FAIL;
				goto out;
			}
			memcpy(keys[*nkeys], ek.pk, PL_BOX_PK_BYTES);
			(*nkeys)++;
		}
		if (pl_member_to_add(r, names[i]) != 0) {
			cli_error("%s %s: cannot be named", opt, names[i]);
			ret = PL_EXIT_USAGE;
			goto out;
		}
	}
	ret = PL_EXIT_OK;
out:
	return ret;
}

/*
 * Resolves a referenced record, checks its kind, adds the ref line, and
 * raises *min_time to its time. want 0 accepts any kind.
 */
static int add_ref(struct session *s, struct pl_record *r, const char *arg, enum pl_ref_role role,
                   enum pl_record_kind want, int64_t *min_time)
{
	struct session_record ref;
	char sid[17];
	int ret;

	memset(&ref, 0, sizeof(ref));
	ret = session_resolve(s, arg, &ref);
	if (ret)
		goto out;
	if (want && ref.rec->kind != want) {
		session_short_id(sid, ref.id);
		cli_error("record %s is a %s, not a %s", sid, pl_record_kind_name(ref.rec->kind),
		          pl_record_kind_name(want));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	if (pl_member_ref_add(r, role, ref.id) != 0) {
		session_short_id(sid, ref.id);
		cli_error("record %s: named twice", sid);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	if (ref.rec->time > *min_time)
		*min_time = ref.rec->time;
out:
	session_record_release(&ref);
	return ret;
}

/* Reads the body from --body-file or standard input. */
static int read_body(const struct author_args *a, size_t max, struct pl_buf *body)
{
	int ret = cli_read_path("body", a->body_file ? a->body_file : "-", max, body);

	if (!ret && body->len == 0) {
		cli_error("the body is empty");
		ret = PL_EXIT_USAGE;
	}
	return ret;
}

/* Seals the body to the readers, uploads the blob and sets payload and commit. */
static int seal_and_upload(struct session *s, struct pl_record *r, const struct pl_buf *body,
                           const uint8_t (*readers)[PL_BOX_PK_BYTES], size_t nreaders,
                           uint8_t salt[static PL_BOX_SALT_BYTES])
{
	const char *stage = NULL;
	int ret = PL_EXIT_OK, err;

	err = pl_member_payload_put(s->client, r, (const uint8_t *)body->data, body->len, readers,
	                            nreaders, salt, &stage);
	if (err && strcmp(stage, "seal") == 0) {
		cli_error("cannot seal the body: %s", pl_strerror(err));
		ret = PL_EXIT_USAGE;
	} else if (err) {
		ret = session_client_failed(s, "the payload", err);
	}
	return ret;
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
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) != 0) {
			cli_error("cannot print the receipt");
			ret = PL_EXIT_USAGE;
		}
		fputc('\n', stdout);
		json_decref(j);
	} else {
		printf("%s %s index %llu tree %llu\n", pl_record_kind_name(r->kind), hex,
		       (unsigned long long)rc->index, (unsigned long long)rc->size);
	}
	return ret;
}

/* Sets the reason line when the verb was given one. */
static void set_reason(struct pl_record *r, const char *reason)
{
	if (reason) {
		r->has |= PL_RECORD_HAS_REASON;
		memcpy(r->reason, reason, strlen(reason) + 1);
	}
}

/* A verb about one record: convey, decline, accept, refuse (of a send) or advise (a consult). */
static int build_about(struct session *s, const struct author_args *a, struct pl_record *r,
                       int64_t *min_time)
{
	int ret;

	if (r->kind != PL_KIND_ADVISE) {
		ret = add_ref(s, r, a->id, PL_ROLE_SUBJECT, PL_KIND_SEND, min_time);
		if (!ret)
			set_reason(r, a->reason);
		return ret;
	}
	ret = add_ref(s, r, a->id, PL_ROLE_CONSULT, PL_KIND_CONSULT, min_time);
	if (ret)
		return ret;
	r->has |= PL_RECORD_HAS_POSITION;
	r->position = strcmp(a->position, "concur") == 0   ? PL_POSITION_CONCUR
	              : strcmp(a->position, "object") == 0 ? PL_POSITION_OBJECT
	                                                   : PL_POSITION_NOTED;
	set_reason(r, a->reason);
	return PL_EXIT_OK;
}

/* A statement: its cites and its public body. */
static int build_statement(struct session *s, const struct author_args *a, struct pl_record *r,
                           int64_t *min_time, struct pl_buf *body)
{
	int ret = PL_EXIT_OK;

	r->has |= PL_RECORD_HAS_CLASS;
	r->cls = a->measure ? PL_CLASS_MEASURE : PL_CLASS_STATEMENT;
	for (size_t i = 0; !ret && i < a->ncites; i++)
		ret = add_ref(s, r, a->cites[i], PL_ROLE_CITES, 0, min_time);
	if (!ret)
		ret = read_body(a, PL_RECORD_BODY_MAX, body);
	if (ret)
		goto out;
	/* Text ends in a newline; a file usually does, a typed line may not. */
	if ((body->data[body->len - 1] != '\n' && pl_buf_add(body, "\n", 1) != 0) ||
	    body->len > PL_RECORD_BODY_MAX) {
		cli_error("the body is longer than %u bytes", PL_RECORD_BODY_MAX);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	r->has |= PL_RECORD_HAS_BODY;
	memcpy(r->body, body->data, body->len);
	r->body[body->len] = '\0';
	r->body_len = body->len;
out:
	return ret;
}

/* The intermediary of a send (--via), a reader unless --no-readable-by-via. */
static int add_via(struct session *s, const struct author_args *a, struct pl_record *r,
                   uint8_t (*readers)[PL_BOX_PK_BYTES], size_t *nreaders)
{
	const struct pl_client_party *p;
	struct pl_party_ekey ek;
	int ret = PL_EXIT_USAGE;

	if (!pl_party_name_is_valid(a->via, strlen(a->via)) ||
	    strcmp(a->via, s->profile.party) == 0 || pl_record_has_to(r, a->via)) {
		cli_error("--via %s: not a party other than this one and the recipients", a->via);
		goto out;
	}
	p = session_party(s, a->via, &ret);
	if (!p)
		goto out;
	r->has |= PL_RECORD_HAS_VIA;
	memcpy(r->via, a->via, strlen(a->via) + 1);
	if (a->readable_by_via) {
		if (pl_party_ekey_parse(&ek, p->enc_key, strlen(p->enc_key)) != 0) {
			cli_error("party %s: its encryption key in the directory is unusable",
			          a->via);
			ret = PL_EXIT_FAIL;
			goto out;
		}
		memcpy(readers[(*nreaders)++], ek.pk, PL_BOX_PK_BYTES);
	}
	ret = PL_EXIT_OK;
out:
	return ret;
}

/* A send or consult: its class, reply, parties, deadline, and the body sealed and uploaded. */
static int build_sealed(struct session *s, const struct author_args *a, struct pl_record *r,
                        int64_t *min_time, struct pl_buf *body,
                        uint8_t salt[static PL_BOX_SALT_BYTES], bool *sealed)
{
	uint8_t readers[1 + PL_RECORD_MAX_TO + 1][PL_BOX_PK_BYTES];
	size_t nreaders = 1;
	int ret = PL_EXIT_OK;

	memcpy(readers[0], s->me.ekey.pk, PL_BOX_PK_BYTES);
	if (r->kind == PL_KIND_SEND) {
		r->has |= PL_RECORD_HAS_CLASS;
		r->cls = !a->cls                           ? PL_CLASS_MESSAGE
		         : strcmp(a->cls, "proposal") == 0 ? PL_CLASS_PROPOSAL
		         : strcmp(a->cls, "letter") == 0   ? PL_CLASS_LETTER
		                                           : PL_CLASS_MESSAGE;
	}
	if (a->reply_to)
		ret = add_ref(s, r, a->reply_to, PL_ROLE_REPLY_TO, PL_KIND_SEND, min_time);
	if (!ret)
		ret = add_parties(s, r, a->to, a->nto, r->kind == PL_KIND_SEND ? "--to" : "--with",
		                  readers, &nreaders);
	if (!ret && a->via)
		ret = add_via(s, a, r, readers, &nreaders);
	if (!ret && a->deadline) {
		int64_t base = session_now();
		if (*min_time > base)
			base = *min_time;
		if (parse_when(a->deadline, base, &r->deadline) != 0) {
			cli_error("--deadline '%s': not an RFC 3339 UTC time nor +DURATION",
			          a->deadline);
			ret = PL_EXIT_USAGE;
			goto out;
		}
		r->has |= PL_RECORD_HAS_DEADLINE;
	}
	if (!ret)
		ret = read_body(a, PL_BOX_MAX_BODY, body);
	if (!ret)
		ret = seal_and_upload(s, r, body, (const uint8_t(*)[PL_BOX_PK_BYTES])readers,
		                      nreaders, salt);
	if (!ret)
		*sealed = true;
out:
	sodium_memzero(readers, sizeof(readers));
	return ret;
}

/* The kind-specific part of each verb: fills r, min_time and, for sealed bodies, body and salt. */
static int build(struct session *s, const struct author_args *a, struct pl_record *r,
                 int64_t *min_time, struct pl_buf *body, uint8_t salt[static PL_BOX_SALT_BYTES],
                 bool *sealed)
{
	int ret;

	r->kind = a->spec->kind;
	switch (r->kind) {
	case PL_KIND_CONVEY:
	case PL_KIND_DECLINE:
	case PL_KIND_ACCEPT:
	case PL_KIND_REFUSE:
	case PL_KIND_ADVISE:
		ret = build_about(s, a, r, min_time);
		break;
	case PL_KIND_STATEMENT:
		ret = build_statement(s, a, r, min_time, body);
		break;
	case PL_KIND_SEND:
	case PL_KIND_CONSULT:
		ret = build_sealed(s, a, r, min_time, body, salt, sealed);
		break;
	default:
		cli_error("%s: not a verb that authors records", a->spec->v.name);
		ret = PL_EXIT_USAGE;
		break;
	}
	return ret;
}

static int run(const struct author_args *a)
{
	struct session s;
	struct pl_receipt rc;
	struct pl_record *r = NULL;
	struct pl_buf body, text;
	uint8_t salt[PL_BOX_SALT_BYTES];
	int64_t min_time = 0;
	bool opened = false, sealed = false;
	char what[64];
	int ret;

	memset(&rc, 0, sizeof(rc));
	pl_buf_init(&body, PL_BOX_MAX_BODY + 1);
	pl_buf_init(&text, PL_RECORD_MAX_BYTES);
	ret = session_open(&s, a->spec->v.name, a->profile);
	if (ret)
		goto out;
	opened = true;
	r = calloc(1, sizeof(*r));
	if (!r) {
		cli_error("out of memory");
		ret = PL_EXIT_USAGE;
		goto out;
	}
	ret = build(&s, a, r, &min_time, &body, salt, &sealed);
	if (ret)
		goto out;
	if (a->id)
		snprintf(what, sizeof(what), "the %s of %.16s", a->spec->v.name, a->id);
	else
		snprintf(what, sizeof(what), "the %s", a->spec->v.name);
	ret = session_submit(&s, r, min_time, what, &rc, &text);
	if (ret)
		goto out;
	/* The author keeps what it sealed, to read it back and to disclose it later. */
	if (sealed &&
	    pl_state_opened_put(s.state, rc.id, (const uint8_t *)body.data, body.len, salt) != 0)
		cli_error("warning: local state %s: cannot keep a copy of the body",
		          s.profile.state);
	ret = print_receipt(a, r, &rc, &text);
out:
	sodium_memzero(salt, sizeof(salt));
	if (body.data)
		sodium_memzero(body.data, body.cap);
	pl_buf_release(&body);
	pl_buf_release(&text);
	pl_receipt_release(&rc);
	free(r);
	if (opened)
		session_close(&s);
	return ret;
}

/* Checks what the options of a verb say together. Returns an exit code. */
static int check_args(const struct author_args *a, const char *cmd)
{
	int ret = PL_EXIT_OK;

	if ((a->spec->v.bit & (V_SEND | V_CONSULT)) && a->nto == 0) {
		ret = cli_usage(cmd, "needs at least one %s",
		                a->spec->v.bit == V_SEND ? "--to" : "--with");
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
	const unsigned sealed = V_SEND | V_CONSULT, reasoned = V_DECLINE | V_REFUSE | V_ADVISE;
	const struct cli_opt opts[] = {
	        {'t', "to", CLI_LIST, a.to, "PARTY", "a recipient; repeat for several", &a.nto,
	         .max = PL_RECORD_MAX_TO, .only = V_SEND},
	        {'v', "via", CLI_STR, &a.via, "PARTY", "the intermediary", .only = V_SEND},
	        {'c', "class", CLI_CHOICE, &a.cls, "CLASS", "message (default), proposal or letter",
	         .choices = "message|proposal|letter", .only = V_SEND},
	        {'d', "deadline", CLI_STR, &a.deadline, "WHEN", "reply by this time",
	         .only = sealed},
	        {'r', "reply-to", CLI_STR, &a.reply_to, "ID",
	         "the send this one answers (id or unique prefix)", .only = V_SEND},
	        {'b', "body-file", CLI_STR, &a.body_file, "FILE",
	         "the body ('-' or none: standard input)", .only = sealed | V_STATEMENT},
	        {0, "readable-by-via", CLI_FLAG, &a.readable_by_via, NULL,
	         "seal the body to the intermediary too (default)", .only = V_SEND},
	        {0, "no-readable-by-via", CLI_UNFLAG, &a.readable_by_via, NULL,
	         "the intermediary relays without reading", .only = V_SEND},
	        {'R', "reason", CLI_STR, &a.reason, "TEXT", "why", .only = reasoned},
	        {'C', "cites", CLI_LIST, a.cites, "ID", "a record cited; repeat for several",
	         &a.ncites, .max = PL_RECORD_MAX_REFS, .only = V_STATEMENT},
	        {'m', "measure", CLI_FLAG, &a.measure, NULL, "class measure instead of statement",
	         .only = V_STATEMENT},
	        {'W', "with", CLI_LIST, a.to, "PARTY", "an ally consulted; repeat for several",
	         &a.nto, .max = PL_RECORD_MAX_TO, .only = V_CONSULT},
	        {'o', "position", CLI_CHOICE, &a.position, "POS", "concur, object or noted",
	         .choices = "concur|object|noted", .only = V_ADVISE},
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
