/* parley thread: the timeline of a message and where it stands, as a person reads it. */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <parley/client.h>
#include <parley/record.h>
#include <parley/timeline.h>
#include <parley/timestamp.h>

#include "session.h"
#include "banned.h"

static const struct cli_verb thread_verb = {
        .name = "thread",
        .synopsis = "ID [--profile DIR] [--json]",
        .about =
                "Shows the timeline of the record ID (a send, a consult or a statement; its id or\n"
                "a unique prefix of at least 8 hex digits) and of every record that refers to it:\n"
                "sent, received by the intermediary, conveyed or declined, made available,\n"
                "received by the recipient, accepted or refused, expired, the replies and the\n"
                "public statements that cite it. One line per event (time, log index, actor,\n"
                "what happened), then one status line. Every record is verified against the\n"
                "exchange's directory, and the checkpoint against the pinned log key.\n",
        .status = "Exit status: 0 shown; 1 a record or the checkpoint does not verify; 2 usage or\n"
                  "I/O error; 3 the exchange refused (unknown or ambiguous id).\n",
        .operand = "record ID",
};

/* The thread's verified records (the timeline points into them) and its timeline. */
struct thread {
	struct session s;
	struct session_record *recs;
	struct pl_timeline tl;
	uint64_t size; /* tree size of the checkpoint the view is as of */
	bool json;
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
	const struct pl_timeline *tl = &t->tl;
	const struct pl_record *subj = tl->subject->rec;
	size_t aw = 8, iw = 1;
	char when[PL_TIMESTAMP_LEN + 1];

	for (size_t i = 0; i < tl->n; i++) {
		size_t a = strlen(tl->v[i].rec->author);
		char num[24];
		int w = snprintf(num, sizeof(num), "%" PRIu64, t->recs[i].index);
		aw = a > aw ? a : aw;
		iw = w > 0 && (size_t)w > iw ? (size_t)w : iw;
	}
	printf("%s %s from %s, as of log size %" PRIu64 "\n",
	       subj->kind == PL_KIND_SEND ? class_text(subj) : pl_record_kind_name(subj->kind),
	       tl->subject->hex, subj->author, t->size);
	for (size_t i = 0; i < tl->n; i++) {
		const struct pl_timeline_item *x = &tl->v[i];
		time_text(when, x->rec->time);
		printf("  %s  #%-*" PRIu64 "  %-*s  %s\n", when, (int)iw, t->recs[i].index, (int)aw,
		       x->rec->author, x->what);
	}
	printf("status: %s\n", status);
	return PL_EXIT_OK;
}

static int print_json(const struct thread *t, const char *status)
{
	const struct pl_timeline *tl = &t->tl;
	json_t *root = json_object(), *events = json_array();
	char when[PL_TIMESTAMP_LEN + 1];
	char *text = NULL;
	bool ok = root && events;
	int ret = PL_EXIT_USAGE;

	ok = ok && json_object_set_new(root, "subject", json_string(tl->subject->hex)) == 0;
	ok = ok &&
	     json_object_set_new(root, "kind",
	                         json_string(pl_record_kind_name(tl->subject->rec->kind))) == 0;
	ok = ok && json_object_set_new(root, "size", json_integer((json_int_t)t->size)) == 0;
	for (size_t i = 0; ok && i < tl->n; i++) {
		const struct pl_timeline_item *x = &tl->v[i];
		json_t *e = json_object();
		time_text(when, x->rec->time);
		ok = e && json_array_append_new(events, e) == 0;
		ok = ok && json_object_set_new(e, "index",
		                               json_integer((json_int_t)t->recs[i].index)) == 0;
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
	text = ok ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (!text) {
		cli_error("thread: cannot format the JSON answer");
		goto out;
	}
	ret = cli_write_stdout(text, strlen(text));
	if (ret == PL_EXIT_OK)
		ret = cli_write_stdout("\n", 1);
out:
	free(text);
	json_decref(events);
	json_decref(root);
	return ret;
}

/* ---- The verb ---- */

/*
 * Names what the statement subject cites (pl_timeline_cite()). Each cited
 * record is fetched and verified to learn its kind; one this party may not
 * read (the exchange refuses it) is named "the record 1a2b3c4d". Returns an
 * exit code.
 */
static int name_cited(struct thread *t)
{
	const struct pl_record *r = t->tl.subject->rec;
	size_t k = 0, ncites = 0;
	int ret = PL_EXIT_OK;

	for (size_t i = 0; i < r->nrefs; i++)
		ncites += r->refs[i].role == PL_ROLE_CITES;
	for (size_t i = 0; i < r->nrefs && ret == PL_EXIT_OK; i++) {
		struct pl_client_entry e;
		struct session_record sr;
		struct pl_timeline_item it;
		char hex[PL_RECORD_ID_HEX_LEN + 1], one[64];
		if (r->refs[i].role != PL_ROLE_CITES)
			continue;
		memset(&e, 0, sizeof(e));
		memset(&sr, 0, sizeof(sr));
		memset(&it, 0, sizeof(it));
		pl_record_id_format(hex, r->refs[i].id);
		if (pl_client_record(t->s.client, hex, &e) != 0) {
			snprintf(one, sizeof(one), "the record %.8s", hex);
		} else {
			ret = session_verify_entry(&t->s, &e, &sr);
			it.rec = sr.rec;
			memcpy(it.hex, sr.hex, sizeof(it.hex));
			if (ret == PL_EXIT_OK)
				pl_timeline_name(one, sizeof(one), &t->tl, &it);
		}
		pl_client_entry_release(&e);
		session_record_release(&sr);
		if (ret == PL_EXIT_OK)
			pl_timeline_cite(&t->tl, one, k++, ncites);
	}
	return ret;
}

/* Fetches the thread of arg and a checkpoint that covers it, and verifies every record. */
static int fetch(struct thread *t, struct session_record *subject, const char *arg)
{
	struct pl_client_list list;
	struct pl_checkpoint cp;
	int ret, err;

	memset(&list, 0, sizeof(list));
	ret = session_resolve(&t->s, arg, subject);
	if (ret)
		goto out;
	err = pl_client_thread(t->s.client, subject->hex, &list);
	if (err) {
		ret = session_client_failed(&t->s, "the thread", err);
		goto out;
	}
	/* After the thread, so that the checkpoint covers every record it holds. */
	ret = session_refresh(&t->s, &cp, NULL);
	if (ret)
		goto out;
	t->size = cp.size;
	t->recs = calloc(list.n ? list.n : 1, sizeof(*t->recs));
	t->tl.v = calloc(list.n ? list.n : 1, sizeof(*t->tl.v));
	if (!t->recs || !t->tl.v) {
		cli_error("thread: out of memory");
		ret = PL_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < list.n; i++) {
		struct session_record *sr = &t->recs[i];
		ret = session_verify_entry(&t->s, &list.v[i], sr);
		if (ret)
			goto out;
		t->tl.v[i].rec = sr->rec;
		memcpy(t->tl.v[i].id, sr->id, sizeof(sr->id));
		memcpy(t->tl.v[i].hex, sr->hex, sizeof(sr->hex));
		t->tl.n++;
		if (sr->index >= t->size)
			t->size = sr->index + 1;
	}
out:
	pl_client_list_release(&list);
	return ret;
}

static int load(struct thread *t, const char *arg)
{
	struct session_record subject;
	int ret;

	memset(&subject, 0, sizeof(subject));
	ret = fetch(t, &subject, arg);
	if (ret)
		goto out;
	if (pl_timeline_link(&t->tl, subject.id) != 0) {
		cli_error("record %s: the exchange's thread does not hold the record itself",
		          subject.hex);
		ret = PL_EXIT_FAIL;
		goto out;
	}
	if (t->tl.subject->rec->kind == PL_KIND_STATEMENT) {
		ret = name_cited(t);
		if (ret)
			goto out;
	}
	pl_timeline_describe(&t->tl);
out:
	session_record_release(&subject);
	return ret;
}

static int show(struct thread *t)
{
	struct pl_buf status;
	int ret;

	pl_buf_init(&status, 8 * PL_TIMELINE_WHAT_MAX);
	ret = pl_timeline_status(&t->tl, &status) ? PL_EXIT_USAGE : PL_EXIT_OK;
	if (ret) {
		cli_error("thread: out of memory");
		goto out;
	}
	ret = t->json ? print_json(t, status.data) : print_text(t, status.data);
out:
	pl_buf_release(&status);
	return ret;
}

int cmd_thread(int argc, char **argv)
{
	/* Static: a session holds large fixed-size members. */
	static struct thread t;
	const char *profile = NULL, *id = NULL;
	int ret;

	memset(&t, 0, sizeof(t));
	ret = cli_parse_profile_json(&thread_verb, argc, argv, &profile, &t.json, &id);
	if (ret >= 0)
		goto out;
	ret = session_open(&t.s, "thread", profile);
	if (ret)
		goto out;
	t.tl.now = session_now();
	ret = load(&t, id);
	if (ret == PL_EXIT_OK)
		ret = show(&t);
out:
	for (size_t i = 0; i < t.tl.n; i++)
		session_record_release(&t.recs[i]);
	free(t.recs);
	free(t.tl.v);
	session_close(&t.s);
	memset(&t, 0, sizeof(t));
	return ret;
}
