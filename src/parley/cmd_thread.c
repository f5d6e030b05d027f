/* parley thread: the timeline of a message and where it stands, as a person reads it. */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <parley/coordination.h>
#include <parley/record.h>
#include <parley/thread.h>
#include <parley/timestamp.h>

#include "session.h"
#include "banned.h"

static const struct cli_verb thread_verb = {
        .name = "thread",
        .synopsis = "ID [--group GROUP] [--profile DIR] [--json]",
        .about =
                "Shows the timeline of the record ID (a send, a consult or a statement; its id or\n"
                "a unique prefix of at least 8 hex digits) and of every record that refers to it:\n"
                "sent, received by the intermediary, conveyed or declined, made available,\n"
                "received by the recipient, accepted or refused, expired, the replies and the\n"
                "public statements that cite it. One line per event (time, log index, actor,\n"
                "what happened), then one status line. Every record is verified against the\n"
                "exchange's directory, and the checkpoint against the pinned log key.\n"
                "\n"
                "A send or measure of a coordination group's member to one of the group's\n"
                "counterparts gets a coordination line: coordinated, uncoordinated or against\n"
                "objection, with the records it rests on (see parley coordination). The group\n"
                "is the one of the consultation the record names, or GROUP (an id or prefix of\n"
                "a version of the group) for a record that names none.\n",
        .status = "Exit status: 0 shown; 1 a record or the checkpoint does not verify; 2 usage or\n"
                  "I/O error; 3 the exchange refused (unknown or ambiguous id).\n",
        .operand = "record ID",
};

/* The thread's verified records (the timeline points into them) and its timeline. */
struct thread {
	struct pl_session s;
	struct pl_thread th;
	bool json;
	const char *group;
	struct pl_coordination_group g;
	bool judged; /* g holds the group the subject was judged by */
	struct pl_coordination_result res;
	char coordination[1024]; /* the verdict in words, "" for none */
};

static void time_text(char out[static PL_TIMESTAMP_LEN + 1], int64_t when)
{
	if (pl_timestamp_format(out, when) != 0)
		snprintf(out, PL_TIMESTAMP_LEN + 1, "%s", "(out of range)");
}

static const char *class_text(const struct pl_record *r)
{
	const char *c = (r->has & PL_RECORD_HAS_CLASS) ? pl_record_class_name(r->cls) : NULL;
	return c ? c : "message";
}

/* ---- Output ---- */

static int print_text(const struct thread *t, const char *status)
{
	const struct pl_timeline *tl = &t->th.tl;
	const struct pl_record *subj = tl->subject->rec;
	size_t aw = 8, iw = 1;
	char when[PL_TIMESTAMP_LEN + 1];

	for (size_t i = 0; i < tl->n; i++) {
		size_t a = strlen(tl->v[i].rec->author);
		char num[24];
		int w = snprintf(num, sizeof(num), "%" PRIu64, t->th.recs[i].index);
		aw = a > aw ? a : aw;
		iw = w > 0 && (size_t)w > iw ? (size_t)w : iw;
	}
	printf("%s %s from %s, as of log size %" PRIu64 "\n",
	       subj->kind == PL_KIND_SEND ? class_text(subj) : pl_record_kind_name(subj->kind),
	       tl->subject->hex, subj->author, t->th.size);
	for (size_t i = 0; i < tl->n; i++) {
		const struct pl_timeline_item *x = &tl->v[i];
		time_text(when, x->rec->time);
		printf("  %s  #%-*" PRIu64 "  %-*s  %s\n", when, (int)iw, t->th.recs[i].index,
		       (int)aw, x->rec->author, x->what);
	}
	printf("status: %s\n", status);
	if (t->coordination[0])
		printf("coordination: %s\n", t->coordination);
	return PL_EXIT_OK;
}

static int print_json(const struct thread *t, const char *status)
{
	const struct pl_timeline *tl = &t->th.tl;
	json_t *root = json_object(), *events = json_array();
	char when[PL_TIMESTAMP_LEN + 1];
	bool ok = root && events;
	int ret = PL_EXIT_USAGE;

	ok = ok && json_object_set_new(root, "subject", json_string(tl->subject->hex)) == 0;
	ok = ok &&
	     json_object_set_new(root, "kind",
	                         json_string(pl_record_kind_name(tl->subject->rec->kind))) == 0;
	ok = ok && json_object_set_new(root, "size", json_integer((json_int_t)t->th.size)) == 0;
	for (size_t i = 0; ok && i < tl->n; i++) {
		const struct pl_timeline_item *x = &tl->v[i];
		json_t *e = json_object();
		time_text(when, x->rec->time);
		ok = e && json_array_append_new(events, e) == 0;
		ok = ok && json_object_set_new(e, "index",
		                               json_integer((json_int_t)t->th.recs[i].index)) == 0;
		ok = ok && json_object_set_new(e, "id", json_string(x->hex)) == 0;
		ok = ok && json_object_set_new(e, "time", json_string(when)) == 0;
		ok = ok && json_object_set_new(e, "actor", json_string(x->rec->author)) == 0;
		ok = ok && json_object_set_new(e, "kind",
		                               json_string(pl_record_kind_name(x->rec->kind))) == 0;
		ok = ok && json_object_set_new(e, "about",
		                               x->target ? json_string(x->target->hex)
		                                         : json_null()) == 0;
		ok = ok && json_object_set_new(e, "what", json_string(x->what)) == 0;
	}
	ok = ok && json_object_set(root, "events", events) == 0;
	ok = ok && json_object_set_new(root, "status", json_string(status)) == 0;
	if (t->coordination[0]) {
		ok = ok &&
		     json_object_set_new(root, "coordination",
		                         json_pack("{s:s, s:s, s:s}", "verdict",
		                                   pl_coordination_verdict_name(t->res.verdict),
		                                   "counterpart", t->res.counterpart, "why",
		                                   t->coordination)) == 0;
	}
	ret = cli_print_json(ok ? root : NULL, "thread");
	json_decref(events);
	json_decref(root);
	return ret;
}

static int show(struct thread *t)
{
	struct pl_buf status;
	int ret;

	pl_buf_init(&status, 8 * PL_TIMELINE_WHAT_MAX);
	ret = pl_timeline_status(&t->th.tl, &status) ? PL_EXIT_USAGE : PL_EXIT_OK;
	if (ret) {
		cli_error("thread: out of memory");
		goto out;
	}
	ret = t->json ? print_json(t, status.data) : print_text(t, status.data);
out:
	pl_buf_release(&status);
	return ret;
}

/*
 * Judges the subject by the group of the consultation it names, or by
 * --group: sets t->coordination when it was the group's business.
 */
static int judge(struct thread *t)
{
	/* recs[i] is the record of tl.v[i]. */
	const struct pl_session_record *subj = &t->th.recs[t->th.tl.subject - t->th.tl.v];
	int err;

	if (t->group)
		err = pl_coordination_group_load(&t->s, t->group, &t->g);
	else
		err = pl_coordination_group_of(&t->s, subj->rec, &t->g);
	if (err == PL_ENOTFOUND && !t->group)
		return 0;
	if (err)
		return err;
	t->judged = true;
	err = pl_coordination_group_judge(&t->g, subj, &t->res);
	if (err == 0)
		pl_coordination_group_explain(t->coordination, sizeof(t->coordination), &t->g, subj,
		                              &t->res);
	return err;
}

int cmd_thread(int argc, char **argv)
{
	/* Static: a session holds large fixed-size members. */
	static struct thread t;
	const char *profile = NULL, *id = NULL;
	const struct cli_opt opts[] = {
	        CLI_OPT_STR('g', "group", &t.group, "GROUP",
	                    "judge coordination by this group (a version's id or prefix)"),
	        CLI_OPT_PROFILE(&profile),
	        CLI_OPT_JSON(&t.json, "print one JSON object instead of text"),
	        {0},
	};
	int ret;

	memset(&t, 0, sizeof(t));
	ret = cli_parse(&thread_verb, opts, argc, argv, &id);
	if (ret >= 0)
		goto out;
	ret = session_open(&t.s, "thread", profile);
	if (ret)
		goto out;
	ret = session_said(&t.s, pl_thread_load(&t.s, id, &t.th));
	if (ret == PL_EXIT_OK)
		ret = session_said(&t.s, judge(&t));
	if (ret == PL_EXIT_OK)
		ret = show(&t);
out:
	pl_coordination_group_release(&t.g);
	pl_thread_release(&t.th);
	session_close(&t.s);
	memset(&t, 0, sizeof(t));
	return ret;
}
