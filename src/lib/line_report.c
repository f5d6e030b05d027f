/* The availability report of a direct line as a member verifies it: pages fetched, records
 * verified and proven, answers grouped under their checks, judged and counted. */
#include <parley/line_report.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/client.h>
#include <parley/encoding.h>
#include <parley/member.h>
#include <parley/proof.h>
#include <parley/record.h>

#include "internal.h"
#include "line_int.h"

/* The records of one page, verified, grouped by the check they are about. */
struct line_group {
	struct pl_session_record check;
	struct pl_session_record *rel;
	size_t nrel;
};

void pl_line_report_release(struct pl_line_report *r)
{
	/* What was asked (line, since) stays; what was loaded goes. */
	if (r) {
		free(r->v);
		free(r->cp);
		r->v = NULL;
		r->cp = NULL;
		r->n = r->cap = r->cp_len = 0;
	}
}

/*
 * Verifies the tlog-proof of one verified record and checks its checkpoint
 * (once per distinct checkpoint) for consistency with the pinned one.
 */
static int prove(struct pl_session *s, struct pl_line_report *lr,
                 const struct pl_session_record *sr, const char *proof, size_t proof_len)
{
	struct pl_proof *p = NULL;
	struct pl_checkpoint cp;
	char sid[17];
	int err;

	pl_hex_encode(sid, sr->id, 8);
	sid[16] = '\0';
	err = pl_member_proof_check(proof, proof_len, sr->text, sr->len, sr->index,
	                            s->profile.origin, &s->profile.log_key, &p, &cp);
	if (err == PL_ERANGE) {
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, err,
		                       "line: proof of record %s: proves index %" PRIu64
		                       ", but the exchange gave the record at %" PRIu64,
		                       sid, p->index, sr->index);
	} else if (err) {
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, err, "line: proof of record %s: %s%s",
		                       sid, p ? "does not hold: " : "", pl_strerror(err));
	} else if (!lr->cp || lr->cp_len != p->checkpoint_len ||
	           memcmp(lr->cp, p->checkpoint, p->checkpoint_len) != 0) {
		err = pl_session_checkpoint(s, p->checkpoint, p->checkpoint_len, NULL);
		if (!err) {
			free(lr->cp);
			lr->cp = p->checkpoint;
			lr->cp_len = p->checkpoint_len;
			p->checkpoint = NULL; /* kept */
			lr->size = cp.size;
		}
	}
	pl_proof_free(p);
	return err;
}

static void groups_free(struct line_group *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++) {
		pl_session_record_release(&g[i].check);
		for (size_t k = 0; k < g[i].nrel; k++)
			pl_session_record_release(&g[i].rel[k]);
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

int pl__line_report_keep(struct pl_line_report *lr, uint64_t index,
                         const char hex[static PL_RECORD_ID_HEX_LEN + 1], const struct pl_record *c,
                         const enum pl_line_outcome out[static 2])
{
	struct pl_line_report_check *x;

	if (lr->n == lr->cap) {
		size_t ncap = lr->cap ? lr->cap * 2 : 64;
		struct pl_line_report_check *nv = ncap > PL_LINE_REPORT_CHECKS_MAX
		                                          ? NULL
		                                          : realloc(lr->v, ncap * sizeof(*nv));
		if (!nv)
			return PL_ETOOBIG;
		lr->v = nv;
		lr->cap = ncap;
	}
	x = &lr->v[lr->n++];
	memset(x, 0, sizeof(*x));
	x->index = index;
	memcpy(x->hex, hex, sizeof(x->hex));
	x->missed = c->kind == PL_KIND_MISSED;
	x->time = x->missed ? c->due : c->time;
	x->deadline = x->missed ? 0 : c->deadline;
	for (int e = 0; e < 2 && e < (int)c->nto; e++) {
		memcpy(x->ends[e], c->to[e], sizeof(x->ends[e]));
		x->out[e] = out[e];
	}
	return 0;
}

/* Keeps the summary of one judged check. */
static int keep(struct pl_session *s, struct pl_line_report *lr, const struct line_group *g,
                const enum pl_line_outcome out[static 2])
{
	if (pl__line_report_keep(lr, g->check.index, g->check.hex, g->check.rec, out) != 0)
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_ETOOBIG,
		                        "line: too many checks to report at once");
	return 0;
}

/* Judges and counts the checks of one page; keeps a summary of each. */
static int judge_page(struct pl_session *s, struct pl_line_report *lr, struct line_group *g,
                      size_t ng)
{
	const struct pl_record *rel[2 * PL_RECORD_MAX_TO + 2];
	uint8_t ids[2 * PL_RECORD_MAX_TO + 2][PL_RECORD_ID_BYTES];
	const size_t max = sizeof(rel) / sizeof(rel[0]);
	enum pl_line_outcome out[2];
	int err = 0;

	for (size_t i = 0; !err && i < ng; i++) {
		const struct pl_record *c = g[i].check.rec;
		size_t nr = g[i].nrel < max ? g[i].nrel : max;

		if (c->kind == PL_KIND_MISSED) {
			/* No end was asked: counted apart, whatever refers to it is not judged. */
			enum pl_line_outcome none[2] = {PL_LINE_PENDING, PL_LINE_PENDING};
			if (g[i].nrel)
				return pl__session_fail(
				        s, PL_BLAME_EVIDENCE, PL_ERULE,
				        "line: missed %.16s: the exchange listed records about it",
				        g[i].check.hex);
			if (!pl_line_tally_covers(&lr->tally, c->due))
				continue;
			err = pl_line_tally_add_missed(&lr->tally, c);
			if (!err)
				err = keep(s, lr, &g[i], none);
			continue;
		}
		for (size_t k = 0; k < nr; k++) {
			rel[k] = g[i].rel[k].rec;
			memcpy(ids[k], g[i].rel[k].id, PL_RECORD_ID_BYTES);
		}
		err = pl_line_judge(c, g[i].check.id, rel,
		                    (const uint8_t(*)[PL_RECORD_ID_BYTES])ids, nr, out);
		if (!err && g[i].nrel > nr)
			err = PL_ERULE; /* more answers than a check can have */
		if (err)
			return pl__session_fail(
			        s, PL_BLAME_EVIDENCE, err,
			        "line: check %.16s: its answers break the rules: %s",
			        g[i].check.hex, pl_strerror(err));
		if (!pl_line_tally_covers(&lr->tally, c->time))
			continue;
		err = pl_line_tally_add(&lr->tally, c, out);
		if (err)
			return pl__session_fail(s, PL_BLAME_LOCAL, err, "line: check %.16s: %s",
			                        g[i].check.hex, pl_strerror(err));
		err = keep(s, lr, &g[i], out);
	}
	return err;
}

/* Files one verified record of a page: a check opens a group, an answer joins its check's. */
static int file_record(struct pl_session *s, struct pl_line_report *lr, struct line_group *g,
                       size_t *ng, struct pl_session_record *sr)
{
	const struct pl_record *r = sr->rec;
	const struct pl_record_ref *ref;
	struct line_group *x;
	struct pl_session_record *nr;

	if ((r->kind == PL_KIND_CHECK || r->kind == PL_KIND_MISSED) &&
	    strcmp(r->line, lr->line) == 0) {
		g[(*ng)++].check = *sr;
		return 0;
	}
	if (r->kind != PL_KIND_ANSWER && r->kind != PL_KIND_UNANSWERED)
		return pl__session_fail(s, PL_BLAME_EVIDENCE, PL_ERULE,
		                        "line: record %.16s: a %s is not a record of line %s",
		                        sr->hex, pl_record_kind_name(r->kind), lr->line);
	ref = pl_record_ref_find(r, PL_ROLE_CHECK);
	x = ref ? group_of(g, *ng, ref->id) : NULL;
	if (!x)
		return pl__session_fail(
		        s, PL_BLAME_EVIDENCE, PL_ERULE,
		        "line: record %.16s: the exchange listed it without its check", sr->hex);
	nr = realloc(x->rel, (x->nrel + 1) * sizeof(*nr));
	if (!nr)
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOMEM, "line: out of memory");
	x->rel = nr;
	x->rel[x->nrel++] = *sr;
	return 0;
}

/*
 * One page: verify every record (signature, id, inclusion), group the
 * answers and unanswered under their check, judge and count; *past once a
 * check of the page is at or after lr->until (no later page counts).
 */
static int page(struct pl_session *s, struct pl_line_report *lr, const struct pl_client_line *pg,
                bool *past)
{
	struct line_group *g = calloc(pg->n ? pg->n : 1, sizeof(*g));
	size_t ng = 0;
	int err = 0;

	if (!g)
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOMEM, "line: out of memory");
	for (size_t i = 0; i < pg->n && !err; i++) {
		const struct pl_client_line_entry *le = &pg->v[i];
		struct pl_client_entry e = {
		        .index = le->index, .note = le->note, .note_len = le->note_len};
		struct pl_session_record sr;

		memcpy(e.id, le->id, PL_RECORD_ID_BYTES);
		memset(&sr, 0, sizeof(sr));
		err = pl_session_verify_entry(s, &e, &sr);
		if (!err)
			err = prove(s, lr, &sr, le->proof, le->proof_len);
		if (!err)
			err = file_record(s, lr, g, &ng, &sr);
		if (err)
			pl_session_record_release(&sr);
	}
	if (!err)
		err = judge_page(s, lr, g, ng);
	/* Checks come in log order, their times (a missed's due) in order: one at or after
	 * --until ends the period. */
	for (size_t i = 0; !err && lr->until && i < ng; i++) {
		const struct pl_record *c = g[i].check.rec;
		if ((c->kind == PL_KIND_MISSED ? c->due : c->time) >= lr->until)
			*past = true;
	}
	groups_free(g, ng);
	return err;
}

int pl_line_report_load(struct pl_session *s, struct pl_line_report *lr)
{
	char what[PL_RECORD_NAME_MAX + 16];
	struct pl_checkpoint cp;
	uint64_t after = 0;
	bool more, past = false;
	int err = 0;

	pl_line_tally_init(&lr->tally, lr->line, lr->since, lr->until);
	for (unsigned pages = 0; pages < PL_LINE_REPORT_PAGES_MAX; pages++) {
		struct pl_client_line pg;

		memset(&pg, 0, sizeof(pg));
		err = pl_client_line(s->client, lr->line, lr->since > 0 ? lr->since : 0, after,
		                     &pg);
		if (err) {
			snprintf(what, sizeof(what), "line %s", lr->line);
			err = pl_session_client_error(s, what, err);
			break;
		}
		err = page(s, lr, &pg, &past);
		if (!err && pg.more && pg.next <= after)
			err = pl__session_fail(s, PL_BLAME_EVIDENCE, PL_EMALFORMED,
			                       "line: the exchange's cursor does not advance");
		after = pg.next;
		more = pg.more;
		pl_client_line_release(&pg);
		if (err || !more || past)
			break;
	}
	/* No record: still say as of which checkpoint. */
	if (!err && !lr->cp) {
		err = pl_session_refresh(s, &cp, NULL);
		if (!err)
			lr->size = cp.size;
	}
	return err;
}
