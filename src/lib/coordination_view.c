/* A coordination group as a member reads it, and the report of its members' signals over a period.
 */
#include <parley/coordination.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/client.h>
#include <parley/state.h>
#include <parley/tindex.h>

#include "internal.h"

void pl_coordination_group_release(struct pl_coordination_group *g)
{
	if (!g)
		return;
	for (size_t i = 0; g->recs && i < g->nrecs; i++)
		pl_session_record_release(&g->recs[i]);
	free(g->recs);
	free(g->versions);
	free(g->consults);
	free(g->advises);
	free(g->acts);
	memset(g, 0, sizeof(*g));
}

/* The first version of the group this party may read, from the version arg names. */
static int first_version(struct pl_session *s, const char *arg, struct pl_session_record *out)
{
	struct pl_session_record cur;
	int err;

	memset(&cur, 0, sizeof(cur));
	err = pl_session_resolve(s, arg, &cur);
	if (err)
		goto out;
	if (cur.rec->kind != PL_KIND_GROUP) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_EINVAL,
		                       "record %.16s is a %s, not a coordination group", cur.hex,
		                       pl_record_kind_name(cur.rec->kind));
		goto out;
	}
	for (size_t steps = 0; steps < PL_COORDINATION_MAX_RECORDS; steps++) {
		const struct pl_record_ref *back = pl_record_ref_find(cur.rec, PL_ROLE_GROUP);
		struct pl_client_entry e;
		struct pl_session_record prev;
		char hex[PL_RECORD_ID_HEX_LEN + 1];

		if (!back)
			break;
		memset(&e, 0, sizeof(e));
		memset(&prev, 0, sizeof(prev));
		pl_record_id_format(hex, back->id);
		/* A version from before this party joined is not its to read: start after it. */
		if (pl_client_record(s->client, hex, &e) != 0)
			break;
		err = pl_session_verify_entry(s, &e, &prev);
		pl_client_entry_release(&e);
		if (err)
			goto out;
		pl_session_record_release(&cur);
		cur = prev;
	}
	*out = cur;
	memset(&cur, 0, sizeof(cur));
out:
	pl_session_record_release(&cur);
	return err;
}

/* Appends recs[i] to a list of the group. */
static void list_add(struct pl_coordination_record *list, size_t *n,
                     const struct pl_session_record *r)
{
	list[*n].rec = r->rec;
	list[*n].id = r->id;
	list[*n].index = r->index;
	(*n)++;
}

/* Sorts the verified records of the thread into the judgement's lists. */
static void sort_out(struct pl_coordination_group *g)
{
	for (size_t i = 0; i < g->nrecs; i++) {
		const struct pl_session_record *r = &g->recs[i];
		enum pl_record_kind k = r->rec->kind;

		if (k == PL_KIND_GROUP &&
		    (g->nversions == 0 ||
		     pl_coordination_in_group(r->rec, g->versions, g->nversions)))
			list_add(g->versions, &g->nversions, r);
		else if (k == PL_KIND_CONSULT &&
		         pl_coordination_in_group(r->rec, g->versions, g->nversions))
			list_add(g->consults, &g->nconsults, r);
		else if (k == PL_KIND_ADVISE)
			list_add(g->advises, &g->nadvises, r);
		else if ((k == PL_KIND_SEND || k == PL_KIND_STATEMENT) &&
		         pl_record_ref_find(r->rec, PL_ROLE_CONSULT))
			list_add(g->acts, &g->nacts, r);
	}
}

/* Whether the thread holds the record with this id. */
static bool holds(const struct pl_coordination_group *g, const uint8_t id[static PL_HASH_BYTES])
{
	for (size_t i = 0; i < g->nrecs; i++) {
		if (memcmp(g->recs[i].id, id, PL_HASH_BYTES) == 0)
			return true;
	}
	return false;
}

/*
 * The root of the thread index at the checkpoint of tree size size: the
 * `index` record that ends it, verified as the exchange's and proven in the
 * log. PL_ENOTFOUND (quietly) when the exchange serves none.
 */
static int index_root(struct pl_session *s, uint64_t size, uint8_t root[static PL_HASH_BYTES])
{
	struct pl_client_entry e;
	struct pl_session_record r;
	struct pl_buf note;
	int err;

	memset(&e, 0, sizeof(e));
	memset(&r, 0, sizeof(r));
	pl_buf_init(&note, PL_RECORD_MAX_BYTES);
	err = pl_client_index_record(s->client, size, &note, &e.index);
	if (err == PL_ENOTFOUND)
		goto out;
	if (err) {
		err = pl_session_client_error(s, "the thread index record", err);
		goto out;
	}
	e.note = note.data;
	e.note_len = note.len;
	pl_record_id(e.id, note.data, note.len);
	err = pl_session_verify_entry(s, &e, &r);
	if (!err && r.rec->kind != PL_KIND_INDEX)
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, PL_EMALFORMED,
		                       "the record that ends checkpoint %llu is no index record",
		                       (unsigned long long)size);
	if (!err)
		err = pl_session_prove(s, &r, NULL);
	if (!err)
		memcpy(root, r.rec->index_root, PL_HASH_BYTES);
out:
	pl_session_record_release(&r);
	pl_buf_release(&note);
	return err;
}

/*
 * Every record the thread index lists under a version, below the checkpoint
 * of size `size`, is in the thread or not this party's to read.
 */
static int prove_complete(struct pl_session *s, struct pl_coordination_group *g, uint64_t size)
{
	uint8_t root[PL_HASH_BYTES];
	struct pl_buf text;
	int err;

	pl_buf_init(&text, PL_TINDEX_PROOF_MAX_BYTES);
	err = index_root(s, size, root);
	if (err == PL_ENOTFOUND) {
		err = 0; /* an exchange that keeps no index: nothing more to prove */
		goto out;
	}
	for (size_t v = 0; !err && v < g->nversions; v++) {
		struct pl_tindex_proof *p = NULL;
		char hex[PL_RECORD_ID_HEX_LEN + 1];
		pl_buf_reset(&text);
		pl_record_id_format(hex, g->versions[v].id);
		if (g->versions[v].index + 1 >= size)
			continue; /* logged after that checkpoint: nothing refers to it there */
		err = pl_client_index_proof(s->client, g->versions[v].id, size, &text);
		if (err) {
			err = pl_session_client_error(s, "the thread index proof of the group",
			                              err);
			break;
		}
		if (pl_tindex_proof_open(&p, text.data ? text.data : "", text.len,
		                         g->versions[v].id, root) != 0) {
			err = pl__session_fail(
			        s, PL_BLAME_EVIDENCE, PL_EVERIFY,
			        "group version %.16s: the thread index proof does not "
			        "verify under the index of checkpoint %llu",
			        hex, (unsigned long long)size);
			break;
		}
		for (size_t i = 0; !err && i < p->nentries; i++) {
			struct pl_client_entry e;
			char rh[PL_RECORD_ID_HEX_LEN + 1];
			if (holds(g, p->entries[i].id))
				continue;
			memset(&e, 0, sizeof(e));
			pl_record_id_format(rh, p->entries[i].id);
			/* One the exchange shows this party belongs in its thread: an omission. */
			if (pl_client_record(s->client, rh, &e) == 0)
				err = pl__session_fail(
				        s, PL_BLAME_EVIDENCE, PL_ENOTFOUND,
				        "the exchange's thread of group version %.16s "
				        "omits record %.16s, which the thread index lists",
				        hex, rh);
			pl_client_entry_release(&e);
		}
		pl_tindex_proof_free(p);
	}
	if (!err)
		g->indexed = size;
out:
	pl_buf_release(&text);
	return err;
}

int pl_coordination_group_load(struct pl_session *s, const char *arg,
                               struct pl_coordination_group *g)
{
	struct pl_session_record root;
	struct pl_client_list list;
	struct pl_checkpoint cp;
	uint64_t before;
	size_t n;
	int err;

	memset(&root, 0, sizeof(root));
	memset(&list, 0, sizeof(list));
	err = first_version(s, arg, &root);
	if (err)
		goto out;
	/* Before the thread, so that the thread holds everything the index lists at it. */
	err = pl_session_refresh(s, &cp, NULL);
	if (err)
		goto out;
	before = cp.size;
	err = pl_client_thread(s->client, root.hex, &list);
	if (err) {
		err = pl_session_client_error(s, "the group's thread", err);
		goto out;
	}
	/* After the thread, so that the checkpoint covers every record it holds. */
	err = pl_session_refresh(s, &cp, NULL);
	if (err)
		goto out;
	g->size = cp.size;
	n = list.n ? list.n : 1;
	g->recs = calloc(n, sizeof(*g->recs));
	g->versions = calloc(n, sizeof(*g->versions));
	g->consults = calloc(n, sizeof(*g->consults));
	g->advises = calloc(n, sizeof(*g->advises));
	g->acts = calloc(n, sizeof(*g->acts));
	if (!g->recs || !g->versions || !g->consults || !g->advises || !g->acts) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOMEM, "group: out of memory");
		goto out;
	}
	for (size_t i = 0; i < list.n && !err; i++) {
		err = pl_session_verify_entry(s, &list.v[i], &g->recs[i]);
		if (!err)
			g->nrecs++;
	}
	if (!err && (g->nrecs == 0 || memcmp(g->recs[0].id, root.id, PL_RECORD_ID_BYTES) != 0))
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, PL_ENOTFOUND,
		                       "record %s: the exchange's thread does not begin with the "
		                       "group record itself",
		                       root.hex);
	if (!err)
		sort_out(g);
	if (!err)
		err = prove_complete(s, g, before);
out:
	pl_client_list_release(&list);
	pl_session_record_release(&root);
	return err;
}

/* The judgement's input for act against what g holds. */
static struct pl_coordination_input group_input(const struct pl_coordination_group *g,
                                                const struct pl_record *act, const uint8_t *id,
                                                uint64_t index)
{
	const struct pl_coordination_input in = {
	        .act = {act, id, index},
	        .versions = g->versions,
	        .nversions = g->nversions,
	        .consults = g->consults,
	        .nconsults = g->nconsults,
	        .advises = g->advises,
	        .nadvises = g->nadvises,
	};

	return in;
}

int pl_coordination_group_of(struct pl_session *s, const struct pl_record *act,
                             struct pl_coordination_group *g)
{
	const struct pl_record_ref *c = pl_record_ref_find(act, PL_ROLE_CONSULT);
	const struct pl_record_ref *in_group;
	struct pl_client_entry e;
	struct pl_session_record consult;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int err = PL_ENOTFOUND;

	memset(&e, 0, sizeof(e));
	memset(&consult, 0, sizeof(consult));
	if (!c)
		goto out;
	pl_record_id_format(hex, c->id);
	/* A consult this party was not part of is not its to read: nothing to judge by. */
	if (pl_client_record(s->client, hex, &e) != 0)
		goto out;
	err = pl_session_verify_entry(s, &e, &consult);
	if (err)
		goto out;
	in_group = pl_record_ref_find(consult.rec, PL_ROLE_GROUP);
	err = PL_ENOTFOUND;
	if (!in_group)
		goto out;
	pl_record_id_format(hex, in_group->id);
	err = pl_coordination_group_load(s, hex, g);
out:
	pl_client_entry_release(&e);
	pl_session_record_release(&consult);
	return err;
}

int pl_coordination_group_judge(const struct pl_coordination_group *g,
                                const struct pl_session_record *act,
                                struct pl_coordination_result *out)
{
	const struct pl_coordination_input in = group_input(g, act->rec, act->id, act->index);

	return pl_coordination_judge(&in, out);
}

void pl_coordination_group_explain(char *out, size_t n, const struct pl_coordination_group *g,
                                   const struct pl_session_record *act,
                                   const struct pl_coordination_result *res)
{
	const struct pl_coordination_input in = group_input(g, act->rec, act->id, act->index);

	pl_coordination_explain(out, n, &in, res);
}

/* ---- The report ---- */

void pl_coordination_report_release(struct pl_coordination_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->v && i < r->n; i++)
		pl_session_record_release(&r->v[i].rec);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* What a report is being built from. */
struct reporting {
	struct pl_session *s;
	const struct pl_coordination_group *g;
	int64_t since, until;
	struct pl_coordination_report *out;
	size_t cap;
};

static bool already(const struct reporting *w, const uint8_t id[static PL_RECORD_ID_BYTES])
{
	for (size_t i = 0; i < w->out->n; i++) {
		if (memcmp(w->out->v[i].rec.id, id, PL_RECORD_ID_BYTES) == 0)
			return true;
	}
	return false;
}

/*
 * Judges a verified record and keeps it when it is an act of the period that
 * was the group's business; takes r over either way (*r is zeroed).
 */
static int consider(struct reporting *w, struct pl_session_record *r)
{
	struct pl_coordination_result res;
	int err = 0;

	if (r->rec->time < w->since || r->rec->time > w->until || already(w, r->id))
		goto out;
	if (pl_coordination_group_judge(w->g, r, &res) != 0 || res.verdict == PL_COORDINATION_NONE)
		goto out;
	if (pl__grow(&w->out->v, &w->cap, w->out->n, sizeof(*w->out->v), 16) != 0) {
		err = pl__session_fail(w->s, PL_BLAME_LOCAL, PL_ENOMEM,
		                       "coordination: out of memory");
		goto out;
	}
	w->out->v[w->out->n].rec = *r;
	w->out->v[w->out->n].res = res;
	w->out->n++;
	memset(r, 0, sizeof(*r));
out:
	pl_session_record_release(r);
	return err;
}

/* The acts of the group's thread: sends and statements that follow a consult. */
static int from_thread(struct reporting *w)
{
	int err = 0;

	for (size_t i = 0; i < w->g->nacts && !err; i++) {
		struct pl_session_record r;
		const struct pl_session_record *src = NULL;
		memset(&r, 0, sizeof(r));
		for (size_t k = 0; k < w->g->nrecs && !src; k++) {
			if (w->g->recs[k].rec == w->g->acts[i].rec)
				src = &w->g->recs[k];
		}
		if (!src)
			continue;
		err = pl_session_resolve(w->s, src->hex, &r);
		if (!err)
			err = consider(w, &r);
	}
	return err;
}

/* This party's own records, walked back along its chain from its head to the period's start. */
static int from_chain(struct reporting *w)
{
	struct pl_state_head head;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	uint8_t next[PL_RECORD_ID_BYTES];
	bool more;
	int err;

	if (pl_state_head_get(w->s->state, &head) != 0)
		return pl__session_fail(w->s, PL_BLAME_LOCAL, PL_ESTORE,
		                        "local state: cannot read this party's chain head");
	more = head.seq > 0;
	memcpy(next, head.id, sizeof(next));
	err = 0;
	for (size_t steps = 0; more && !err && steps < PL_COORDINATION_MAX_RECORDS; steps++) {
		struct pl_session_record r;
		memset(&r, 0, sizeof(r));
		pl_record_id_format(hex, next);
		err = pl_session_resolve(w->s, hex, &r);
		if (err)
			break;
		more = (r.rec->has & PL_RECORD_HAS_PREV) && r.rec->time >= w->since;
		memcpy(next, r.rec->prev, sizeof(next));
		err = consider(w, &r);
	}
	return err;
}

/* Every public measure (GET /statements, page after page). */
static int from_statements(struct reporting *w)
{
	uint64_t after = 0;
	int err = 0;

	for (size_t pages = 0; !err && pages < PL_COORDINATION_MAX_RECORDS; pages++) {
		struct pl_client_list list;
		memset(&list, 0, sizeof(list));
		err = pl_client_statements(w->s->client, after, &list);
		if (err) {
			err = pl_session_client_error(w->s, "the statements", err);
			break;
		}
		for (size_t i = 0; i < list.n && !err; i++) {
			struct pl_session_record r;
			memset(&r, 0, sizeof(r));
			err = pl_session_verify_entry(w->s, &list.v[i], &r);
			if (!err)
				err = consider(w, &r);
		}
		if (list.n == 0 || list.next <= after) {
			pl_client_list_release(&list);
			break;
		}
		after = list.next;
		pl_client_list_release(&list);
	}
	return err;
}

static int by_index(const void *a, const void *b)
{
	const struct pl_coordination_act *x = a, *y = b;

	return x->rec.index < y->rec.index ? -1 : x->rec.index > y->rec.index;
}

int pl_coordination_report(struct pl_session *s, const struct pl_coordination_group *g,
                           int64_t since, int64_t until, struct pl_coordination_report *out)
{
	struct reporting w = {s, g, since, until, out, 0};
	int err;

	memset(out, 0, sizeof(*out));
	err = from_thread(&w);
	if (!err)
		err = from_chain(&w);
	if (!err)
		err = from_statements(&w);
	if (!err && out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), by_index);
	return err;
}
