/* Measures: their lifecycle and reciprocity, built from the public record, and fetched for a
 * member.
 */
#include <parley/measures.h>

#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/client.h>

#include "internal.h"

#define NONE SIZE_MAX

/* The position among recs[0..upto) of the record with this id, or NONE. */
static size_t find(const struct pl_coordination_record *recs, size_t upto, const uint8_t *id)
{
	for (size_t i = upto; i > 0; i--) {
		if (memcmp(recs[i - 1].id, id, PL_RECORD_ID_BYTES) == 0)
			return i - 1;
	}
	return NONE;
}

static bool is_measure(const struct pl_record *r)
{
	return r->kind == PL_KIND_STATEMENT && (r->has & PL_RECORD_HAS_CLASS) &&
	       r->cls == PL_CLASS_MEASURE;
}

int pl_measures_build(const struct pl_coordination_record *recs, size_t n, struct pl_measure **out,
                      size_t *nout)
{
	size_t *owner = calloc(n ? n : 1, sizeof(*owner)); /* the measure of each record */
	struct pl_measure *v = calloc(n ? n : 1, sizeof(*v));
	size_t nv = 0;
	int ret = PL_ENOMEM;

	if (!owner || !v)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct pl_record *r = recs[i].rec;
		const struct pl_record_ref *ch = pl_record_ref_find(r, PL_ROLE_CHANGES);
		const struct pl_record_ref *rc = pl_record_ref_find(r, PL_ROLE_RECIPROCATES);
		size_t t, m;

		owner[i] = NONE;
		if (!is_measure(r))
			continue;
		if (!ch) {
			m = nv++;
			v[m].announced = v[m].last = i;
			v[m].state = PL_MEASURE_ANNOUNCED;
			v[m].reciprocates = NONE;
		} else {
			t = find(recs, i, ch->id);
			/* Only a change of the latest state moves the measure on (the rules' fork).
			 */
			if (t == NONE || owner[t] == NONE || v[owner[t]].last != t ||
			    !(r->has & PL_RECORD_HAS_STATE) ||
			    strcmp(recs[t].rec->author, r->author) != 0)
				continue;
			m = owner[t];
			v[m].last = i;
			v[m].state = r->state;
			v[m].nchanges++;
		}
		owner[i] = m;
		t = rc ? find(recs, i, rc->id) : NONE;
		if (t != NONE && owner[t] != NONE && owner[t] != m && v[m].reciprocates == NONE)
			v[m].reciprocates = v[owner[t]].announced;
	}
	*out = v;
	*nout = nv;
	v = NULL;
	ret = 0;
out:
	free(owner);
	free(v);
	return ret;
}

/* ---- For a member ---- */

void pl_measures_report_release(struct pl_measures_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->recs && i < r->nrecs; i++)
		pl_session_record_release(&r->recs[i]);
	free(r->recs);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Keeps the verified record when it is a measure of time not after until. */
static int keep(struct pl_session *s, struct pl_measures_report *r, size_t *cap,
                struct pl_session_record *sr, int64_t until)
{
	int err = 0;

	if (!is_measure(sr->rec) || sr->rec->time > until)
		goto out;
	if (r->nrecs >= PL_COORDINATION_MAX_RECORDS) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ETOOBIG,
		                       "measures: more than %d measures",
		                       PL_COORDINATION_MAX_RECORDS);
		goto out;
	}
	if (pl__grow(&r->recs, cap, r->nrecs, sizeof(*r->recs), 64) != 0) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOMEM, "measures: out of memory");
		goto out;
	}
	r->recs[r->nrecs++] = *sr;
	memset(sr, 0, sizeof(*sr));
out:
	pl_session_record_release(sr);
	return err;
}

/* Fetches and verifies every public statement, keeping the measures up to until. */
static int fetch(struct pl_session *s, struct pl_measures_report *r, int64_t until)
{
	uint64_t after = 0;
	size_t cap = 0;
	int err = 0;

	for (size_t pages = 0; !err && pages < PL_COORDINATION_MAX_RECORDS; pages++) {
		struct pl_client_list list;
		memset(&list, 0, sizeof(list));
		err = pl_client_statements(s->client, after, &list);
		if (err) {
			err = pl_session_client_error(s, "the statements", err);
			break;
		}
		for (size_t i = 0; i < list.n && !err; i++) {
			struct pl_session_record sr;
			memset(&sr, 0, sizeof(sr));
			err = pl_session_verify_entry(s, &list.v[i], &sr);
			if (!err)
				err = keep(s, r, &cap, &sr, until);
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

int pl_measures_load(struct pl_session *s, int64_t since, int64_t until,
                     struct pl_measures_report *r)
{
	struct pl_coordination_record *cr = NULL;
	struct pl_checkpoint cp;
	size_t k = 0;
	int err;

	memset(r, 0, sizeof(*r));
	err = fetch(s, r, until);
	if (!err)
		err = pl_session_refresh(s, &cp, NULL);
	if (err)
		goto out;
	r->size = cp.size;
	cr = calloc(r->nrecs ? r->nrecs : 1, sizeof(*cr));
	if (!cr) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOMEM, "measures: out of memory");
		goto out;
	}
	for (size_t i = 0; i < r->nrecs; i++) {
		cr[i].rec = r->recs[i].rec;
		cr[i].id = r->recs[i].id;
		cr[i].index = r->recs[i].index;
	}
	if (pl_measures_build(cr, r->nrecs, &r->v, &r->n) != 0) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOMEM, "measures: out of memory");
		goto out;
	}
	/* The period's: announced by until, and not ended before since. */
	for (size_t i = 0; i < r->n; i++) {
		const struct pl_measure *m = &r->v[i];
		if (m->state == PL_MEASURE_ENDED && r->recs[m->last].rec->time < since)
			continue;
		r->v[k++] = *m;
	}
	r->n = k;
out:
	free(cr);
	return err;
}
