/* A thread as a member sees it: fetched, every record verified, and laid out as a timeline. */
#include <parley/thread.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/client.h>
#include <parley/record.h>

#include "internal.h"

void pl_thread_release(struct pl_thread *t)
{
	if (!t)
		return;
	/* Every record verified has its item; a failed verification leaves nothing behind. */
	for (size_t i = 0; t->recs && i < t->tl.n; i++)
		pl_session_record_release(&t->recs[i]);
	free(t->recs);
	free(t->tl.v);
	memset(t, 0, sizeof(*t));
}

/*
 * Names what the statement subject cites (pl_timeline_cite()). Each cited
 * record is fetched and verified to learn its kind; one this party may not
 * read (the exchange refuses it) is named "the record 1a2b3c4d".
 */
static int name_cited(struct pl_session *s, struct pl_thread *t)
{
	const struct pl_record *r = t->tl.subject->rec;
	size_t k = 0, ncites = 0;
	int err = 0;

	for (size_t i = 0; i < r->nrefs; i++)
		ncites += r->refs[i].role == PL_ROLE_CITES;
	for (size_t i = 0; i < r->nrefs && !err; i++) {
		struct pl_client_entry e;
		struct pl_session_record sr;
		struct pl_timeline_item it;
		char hex[PL_RECORD_ID_HEX_LEN + 1], one[64];

		if (r->refs[i].role != PL_ROLE_CITES)
			continue;
		memset(&e, 0, sizeof(e));
		memset(&sr, 0, sizeof(sr));
		memset(&it, 0, sizeof(it));
		pl_record_id_format(hex, r->refs[i].id);
		if (pl_client_record(s->client, hex, &e) != 0) {
			snprintf(one, sizeof(one), "the record %.8s", hex);
		} else {
			err = pl_session_verify_entry(s, &e, &sr);
			it.rec = sr.rec;
			memcpy(it.hex, sr.hex, sizeof(it.hex));
			if (!err)
				pl_timeline_name(one, sizeof(one), &t->tl, &it);
		}
		pl_client_entry_release(&e);
		pl_session_record_release(&sr);
		if (!err)
			pl_timeline_cite(&t->tl, one, k++, ncites);
	}
	return err;
}

/* Fetches the thread of arg and a checkpoint that covers it, and verifies every record. */
static int fetch(struct pl_session *s, struct pl_thread *t, struct pl_session_record *subject,
                 const char *arg)
{
	struct pl_client_list list;
	struct pl_checkpoint cp;
	int err;

	memset(&list, 0, sizeof(list));
	err = pl_session_resolve(s, arg, subject);
	if (err)
		goto out;
	err = pl_client_thread(s->client, subject->hex, &list);
	if (err) {
		err = pl_session_client_error(s, "the thread", err);
		goto out;
	}
	/* After the thread, so that the checkpoint covers every record it holds. */
	err = pl_session_refresh(s, &cp, NULL);
	if (err)
		goto out;
	t->size = cp.size;
	t->recs = calloc(list.n ? list.n : 1, sizeof(*t->recs));
	t->tl.v = calloc(list.n ? list.n : 1, sizeof(*t->tl.v));
	if (!t->recs || !t->tl.v) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOMEM, "thread: out of memory");
		goto out;
	}
	for (size_t i = 0; i < list.n && !err; i++) {
		struct pl_session_record *sr = &t->recs[i];

		err = pl_session_verify_entry(s, &list.v[i], sr);
		if (err)
			break;
		t->tl.v[i].rec = sr->rec;
		memcpy(t->tl.v[i].id, sr->id, sizeof(sr->id));
		memcpy(t->tl.v[i].hex, sr->hex, sizeof(sr->hex));
		t->tl.n++;
		if (sr->index >= t->size)
			t->size = sr->index + 1;
	}
out:
	pl_client_list_release(&list);
	return err;
}

int pl_thread_load(struct pl_session *s, const char *arg, struct pl_thread *t)
{
	struct pl_session_record subject;
	int err;

	memset(&subject, 0, sizeof(subject));
	t->tl.now = pl_session_now(s);
	err = fetch(s, t, &subject, arg);
	if (err)
		goto out;
	if (pl_timeline_link(&t->tl, subject.id) != 0) {
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, PL_ENOTFOUND,
		                       "record %s: the exchange's thread does not hold the record "
		                       "itself",
		                       subject.hex);
		goto out;
	}
	if (t->tl.subject->rec->kind == PL_KIND_STATEMENT) {
		err = name_cited(s, t);
		if (err)
			goto out;
	}
	pl_timeline_describe(&t->tl);
out:
	pl_session_record_release(&subject);
	return err;
}
