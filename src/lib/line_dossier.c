/* The offline line report: a line's availability counted from a verified dossier of a check. */
#include <parley/line_report.h>

#include <inttypes.h>
#include <stdio.h>

#include <parley/dossier.h>
#include <parley/encoding.h>
#include <parley/record.h>

#include "dossier_int.h"
#include "internal.h"
#include "line_int.h"

#define NONE SIZE_MAX

/* The position of the event with this id among events[0..before), or NONE. */
static size_t event_find(const struct pl_dossier_report *d, size_t before,
                         const uint8_t id[static PL_RECORD_ID_BYTES])
{
	for (size_t i = 0; i < before && i < d->nevents; i++) {
		if (memcmp(d->events[i].id, id, PL_RECORD_ID_BYTES) == 0)
			return i;
	}
	return NONE;
}

static bool is_link(const struct pl_record *r)
{
	return r->kind == PL_KIND_CHECK || r->kind == PL_KIND_MISSED;
}

/* When a check was made, or a missed one fell due. */
static int64_t link_time(const struct pl_record *r)
{
	return r->kind == PL_KIND_MISSED ? r->due : r->time;
}

/*
 * The chain: every check and missed of the thread is of the subject's line
 * and, but the subject, names an earlier one of the thread as previous, no
 * two the same (a fork). *reached: one of them is at or after until.
 */
static int check_chain(const struct pl_dossier_report *d, const char *line, int64_t until,
                       bool *reached, struct pl_buf *why)
{
	bool *taken = calloc(d->nevents, sizeof(*taken));
	int ret = 0;

	if (!taken)
		return PL_ENOMEM;
	*reached = until == 0;
	for (size_t i = 0; ret == 0 && i < d->nevents; i++) {
		const struct pl_record *r = d->events[i].rec;
		const struct pl_record_ref *p;
		size_t at;
		if (!is_link(r))
			continue;
		if (strcmp(r->line, line) != 0) {
			ret = pl__dossier_fail(
			        why, PL_EPROOF, "log #%" PRIu64 ": a %s of line %s, not of %s",
			        d->events[i].index, pl_record_kind_name(r->kind), r->line, line);
			break;
		}
		if (until && link_time(r) >= until)
			*reached = true;
		if (i == 0)
			continue;
		p = pl_record_ref_find(r, PL_ROLE_PREVIOUS);
		at = p ? event_find(d, i, p->id) : NONE;
		if (at == NONE || !is_link(d->events[at].rec)) {
			ret = pl__dossier_fail(why, PL_EPROOF,
			                       "log #%" PRIu64
			                       ": a %s that names no earlier check of the "
			                       "dossier as previous: the chain is broken",
			                       d->events[i].index, pl_record_kind_name(r->kind));
		} else if (taken[at]) {
			ret = pl__dossier_fail(why, PL_ERULE,
			                       "log #%" PRIu64 ": a second %s after log #%" PRIu64
			                       ": the line's chain forks",
			                       d->events[i].index, pl_record_kind_name(r->kind),
			                       d->events[at].index);
		}
		if (ret == 0)
			taken[at] = true;
	}
	free(taken);
	return ret;
}

/* Judges the check at events[i] from the answers and unanswered of the thread about it. */
static int judge(const struct pl_dossier_report *d, size_t i, enum pl_line_outcome out[static 2],
                 struct pl_buf *why)
{
	const struct pl_record *rel[2 * PL_RECORD_MAX_TO + 2];
	uint8_t ids[2 * PL_RECORD_MAX_TO + 2][PL_RECORD_ID_BYTES];
	const size_t max = sizeof(rel) / sizeof(rel[0]);
	size_t n = 0;
	int ret = 0;

	for (size_t k = i + 1; ret == 0 && k < d->nevents; k++) {
		const struct pl_record *r = d->events[k].rec;
		const struct pl_record_ref *c = pl_record_ref_find(r, PL_ROLE_CHECK);
		if (!c || memcmp(c->id, d->events[i].id, PL_RECORD_ID_BYTES) != 0)
			continue;
		if (n == max)
			ret = PL_ERULE; /* more answers than a check can have */
		else {
			rel[n] = r;
			memcpy(ids[n++], d->events[k].id, PL_RECORD_ID_BYTES);
		}
	}
	if (ret == 0)
		ret = pl_line_judge(d->events[i].rec, d->events[i].id, rel,
		                    (const uint8_t(*)[PL_RECORD_ID_BYTES])ids, n, out);
	if (ret)
		ret = pl__dossier_fail(why, ret,
		                       "log #%" PRIu64 ": its answers break the rules: %s",
		                       d->events[i].index, pl_strerror(ret));
	return ret;
}

int pl_line_report_from_dossier(struct pl_line_report *lr, const struct pl_dossier_report *d,
                                bool *from_first, struct pl_buf *why)
{
	const struct pl_record *subject;
	bool reached = false;
	int ret = PL_EINVAL;

	if (!lr || !d || !from_first || d->nevents == 0 || !d->indexed ||
	    d->subject_kind != PL_KIND_CHECK || !d->events[0].rec ||
	    memcmp(d->events[0].id, d->subject, PL_RECORD_ID_BYTES) != 0 ||
	    (lr->until && lr->until <= lr->since)) {
		ret = pl__dossier_fail(why, PL_EINVAL, "not a version 2 dossier of a check");
		goto out;
	}
	subject = d->events[0].rec;
	if (lr->line && strcmp(lr->line, subject->line) != 0) {
		ret = pl__dossier_fail(why, PL_EPROOF,
		                       "the dossier is about a check of line %s, not %s",
		                       subject->line, lr->line);
		goto out;
	}
	lr->line = subject->line;
	if (lr->since == 0)
		lr->since = subject->time;
	/* Before the chain's first check, nothing can be proven of what the log holds. */
	*from_first = !pl_record_ref_find(subject, PL_ROLE_PREVIOUS) && lr->since <= subject->time;
	if (lr->since < subject->time && !*from_first) {
		ret = pl__dossier_fail(why, PL_EPROOF,
		                       "the dossier's check (log #%" PRIu64
		                       ") was made after the period "
		                       "began, and checks before it are not in the dossier",
		                       d->events[0].index);
		goto out;
	}
	ret = check_chain(d, subject->line, lr->until, &reached, why);
	if (ret == 0 && !reached)
		ret = pl__dossier_fail(why, PL_EPROOF,
		                       "checkpoint %" PRIu64
		                       " ends before the period does: no check of the "
		                       "line at or after its end is in the dossier",
		                       d->size);
	if (ret)
		goto out;
	pl_line_tally_init(&lr->tally, lr->line, lr->since, lr->until);
	lr->size = d->size;
	for (size_t i = 0; ret == 0 && i < d->nevents; i++) {
		const struct pl_record *c = d->events[i].rec;
		enum pl_line_outcome out[2] = {PL_LINE_PENDING, PL_LINE_PENDING};
		char hex[PL_RECORD_ID_HEX_LEN + 1];
		if (!is_link(c) || !pl_line_tally_covers(&lr->tally, link_time(c)))
			continue;
		if (c->kind == PL_KIND_CHECK)
			ret = judge(d, i, out, why);
		if (ret == 0)
			ret = c->kind == PL_KIND_CHECK ? pl_line_tally_add(&lr->tally, c, out)
			                               : pl_line_tally_add_missed(&lr->tally, c);
		pl_hex_encode(hex, d->events[i].id, PL_RECORD_ID_BYTES);
		hex[PL_RECORD_ID_HEX_LEN] = '\0';
		if (ret == 0)
			ret = pl__line_report_keep(lr, d->events[i].index, hex, c, out);
	}
out:
	return ret;
}
