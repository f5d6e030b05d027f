/* parley coordination: the signals of a group's members to its counterparts over a period, judged;
 * parley measures: the measures of a period, their state and what reciprocates what. */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <parley/coordination.h>
#include <parley/measures.h>
#include <parley/record.h>
#include <parley/timestamp.h>

#include "session.h"
#include "banned.h"

static const struct cli_verb coordination_verb = {
        .name = "coordination",
        .synopsis = "GROUP [--since DATE] [--until DATE] [--profile DIR] [--json]",
        .about = "Reports, for the coordination group of which GROUP (an id or a unique prefix)\n"
                 "is a version, every send or measure of a member to one of the group's\n"
                 "counterparts between DATE and DATE (both included; default: all), each\n"
                 "judged coordinated, uncoordinated (another member not consulted in the\n"
                 "group's window before it) or against objection (a member objected to the\n"
                 "consultation, and it went out anyway), with the records it rests on, then the\n"
                 "counts. It covers what this party may read: its own sends and measures (its\n"
                 "whole chain), every public measure, and the sends that follow a consultation\n"
                 "of the group. Every record is verified against the exchange's directory.\n",
        .status = "Exit status: 0 shown; 1 a record or the checkpoint does not verify; 2 usage or\n"
                  "I/O error; 3 the exchange refused (unknown id, not a group this party reads).\n",
        .operand = "GROUP",
};

struct coordination {
	struct pl_session s;
	struct pl_coordination_group g;
	struct pl_coordination_report r;
	int64_t since, until;
	bool json;
};

static void time_text(char out[static PL_TIMESTAMP_LEN + 1], int64_t t)
{
	if (pl_timestamp_format(out, t) != 0)
		snprintf(out, PL_TIMESTAMP_LEN + 1, "%s", "(out of range)");
}

/* "letter", "measure": what the act was. */
static const char *act_name(const struct pl_record *r)
{
	const char *c = (r->has & PL_RECORD_HAS_CLASS) ? pl_record_class_name(r->cls) : NULL;

	return c ? c : pl_record_kind_name(r->kind);
}

static void count(const struct coordination *c, uint64_t n[4])
{
	memset(n, 0, 4 * sizeof(n[0]));
	for (size_t i = 0; i < c->r.n; i++)
		n[c->r.v[i].res.verdict]++;
}

static int print_text(const struct coordination *c)
{
	const struct pl_record *g = c->g.versions[c->g.nversions - 1].rec;
	char when[PL_TIMESTAMP_LEN + 1], why[1024];
	uint64_t n[4];

	printf("group %s, %zu version%s, as of log size %" PRIu64 "\n", g->group, c->g.nversions,
	       c->g.nversions == 1 ? "" : "s", c->g.size);
	if (c->g.indexed)
		printf("its consultations proven complete by the thread index at log size %" PRIu64
		       "\n",
		       c->g.indexed);
	for (size_t i = 0; i < c->r.n; i++) {
		const struct pl_coordination_act *a = &c->r.v[i];
		time_text(when, a->rec.rec->time);
		pl_coordination_group_explain(why, sizeof(why), &c->g, &a->rec, &a->res);
		printf("  %s  #%" PRIu64 "  %s  %s %.16s to %s: %s\n", when, a->rec.index,
		       a->rec.rec->author, act_name(a->rec.rec), a->rec.hex, a->res.counterpart,
		       why);
	}
	count(c, n);
	printf("%" PRIu64 " coordinated, %" PRIu64 " uncoordinated, %" PRIu64
	       " against objection (as far as %s may read)\n",
	       n[PL_COORDINATION_COORDINATED], n[PL_COORDINATION_UNCOORDINATED],
	       n[PL_COORDINATION_OBJECTED], c->s.profile.party);
	return PL_EXIT_OK;
}

static int print_json(const struct coordination *c)
{
	const struct pl_record *g = c->g.versions[c->g.nversions - 1].rec;
	json_t *root = json_object(), *acts = json_array();
	char when[PL_TIMESTAMP_LEN + 1], why[1024], hex[PL_RECORD_ID_HEX_LEN + 1];
	uint64_t n[4];
	bool ok = root && acts;
	int ret;

	pl_record_id_format(hex, c->g.versions[c->g.nversions - 1].id);
	ok = ok && json_object_set_new(root, "group", json_string(g->group)) == 0;
	ok = ok && json_object_set_new(root, "version", json_string(hex)) == 0;
	ok = ok && json_object_set_new(root, "size", json_integer((json_int_t)c->g.size)) == 0;
	ok = ok &&
	     json_object_set_new(root, "indexed", json_integer((json_int_t)c->g.indexed)) == 0;
	for (size_t i = 0; ok && i < c->r.n; i++) {
		const struct pl_coordination_act *a = &c->r.v[i];
		json_t *e = json_object(), *missing, *rest;
		ok = e && json_array_append_new(acts, e) == 0;
		/* Each is handed to e below, which takes it even when that fails. */
		missing = ok ? json_array() : NULL;
		rest = ok ? json_array() : NULL;
		ok = ok && missing && rest;
		time_text(when, a->rec.rec->time);
		pl_coordination_group_explain(why, sizeof(why), &c->g, &a->rec, &a->res);
		if (!ok) {
			json_decref(missing);
			json_decref(rest);
			break;
		}
		for (size_t k = 0; ok && k < a->res.nmissing; k++)
			ok = json_array_append_new(missing, json_string(a->res.missing[k])) == 0;
		for (size_t k = 0; ok && k < a->res.nconsults; k++) {
			pl_record_id_format(hex, c->g.consults[a->res.consults[k]].id);
			ok = json_array_append_new(rest, json_string(hex)) == 0;
		}
		if (ok && a->res.objection != SIZE_MAX) {
			pl_record_id_format(hex, c->g.advises[a->res.objection].id);
			ok = json_object_set_new(e, "objection", json_string(hex)) == 0;
		}
		ok = ok && json_object_set_new(e, "id", json_string(a->rec.hex)) == 0;
		ok = ok &&
		     json_object_set_new(e, "index", json_integer((json_int_t)a->rec.index)) == 0;
		ok = ok && json_object_set_new(e, "time", json_string(when)) == 0;
		ok = ok && json_object_set_new(e, "author", json_string(a->rec.rec->author)) == 0;
		ok = ok && json_object_set_new(e, "act", json_string(act_name(a->rec.rec))) == 0;
		ok = ok &&
		     json_object_set_new(e, "counterpart", json_string(a->res.counterpart)) == 0;
		ok = ok && json_object_set_new(
		                   e, "verdict",
		                   json_string(pl_coordination_verdict_name(a->res.verdict))) == 0;
		ok = ok && json_object_set_new(e, "missing", missing) == 0;
		ok = ok && json_object_set_new(e, "consults", rest) == 0;
		ok = ok && json_object_set_new(e, "why", json_string(why)) == 0;
	}
	count(c, n);
	ok = ok && json_object_set(root, "acts", acts) == 0;
	ok = ok &&
	     json_object_set_new(root, "coordinated",
	                         json_integer((json_int_t)n[PL_COORDINATION_COORDINATED])) == 0;
	ok = ok &&
	     json_object_set_new(root, "uncoordinated",
	                         json_integer((json_int_t)n[PL_COORDINATION_UNCOORDINATED])) == 0;
	ok = ok && json_object_set_new(root, "against_objection",
	                               json_integer((json_int_t)n[PL_COORDINATION_OBJECTED])) == 0;
	ret = cli_print_json(ok ? root : NULL, "coordination");
	json_decref(acts);
	json_decref(root);
	return ret;
}

/* YYYY-MM-DD (midnight UTC; for --until, the end of that day) or a full timestamp. */
static int parse_date(const char *arg, bool end_of_day, int64_t *out)
{
	char buf[PL_TIMESTAMP_LEN + 1];
	size_t n = strlen(arg);
	int ret;

	if (n != 10)
		return pl_timestamp_parse(out, arg, n);
	snprintf(buf, sizeof(buf), "%sT00:00:00Z", arg);
	ret = pl_timestamp_parse(out, buf, PL_TIMESTAMP_LEN);
	if (ret == 0 && end_of_day)
		*out += 86399;
	return ret;
}

/* The verb whose --since or --until is being parsed, for its messages. */
static const char *period_verb = "coordination";

static int take_since(void *to, const char *arg)
{
	if (parse_date(arg, false, to) != 0)
		return cli_usage(period_verb,
		                 "--since: '%s' is not YYYY-MM-DD nor YYYY-MM-DDTHH:MM:SSZ", arg);
	return PL_EXIT_OK;
}

static int take_until(void *to, const char *arg)
{
	if (parse_date(arg, true, to) != 0)
		return cli_usage(period_verb,
		                 "--until: '%s' is not YYYY-MM-DD nor YYYY-MM-DDTHH:MM:SSZ", arg);
	return PL_EXIT_OK;
}

int cmd_coordination(int argc, char **argv)
{
	/* Static: a session holds large fixed-size members. */
	static struct coordination c;
	const char *profile = NULL, *group = NULL;
	const struct cli_opt opts[] = {
	        {'s', "since", CLI_CALL, &c.since, "DATE",
	         "the period's start: YYYY-MM-DD (00:00 UTC) or\nYYYY-MM-DDTHH:MM:SSZ",
	         .call = take_since},
	        {'u', "until", CLI_CALL, &c.until, "DATE",
	         "the period's end: YYYY-MM-DD (to 23:59:59 UTC) or\nYYYY-MM-DDTHH:MM:SSZ",
	         .call = take_until},
	        CLI_OPT_PROFILE(&profile),
	        CLI_OPT_JSON(&c.json, "print one JSON object instead of text"),
	        {0},
	};
	int ret;

	memset(&c, 0, sizeof(c));
	period_verb = "coordination";
	c.since = INT64_MIN;
	c.until = INT64_MAX;
	ret = cli_parse(&coordination_verb, opts, argc, argv, &group);
	if (ret >= 0)
		goto out;
	if (c.since > c.until) {
		ret = cli_usage("coordination", "--since is after --until");
		goto out;
	}
	ret = session_open(&c.s, "coordination", profile);
	if (ret)
		goto out;
	ret = session_said(&c.s, pl_coordination_group_load(&c.s, group, &c.g));
	if (!ret)
		ret = session_said(&c.s,
		                   pl_coordination_report(&c.s, &c.g, c.since, c.until, &c.r));
	if (!ret)
		ret = c.json ? print_json(&c) : print_text(&c);
out:
	pl_coordination_report_release(&c.r);
	pl_coordination_group_release(&c.g);
	session_close(&c.s);
	memset(&c, 0, sizeof(c));
	return ret;
}

/* ---- parley measures ---- */

static const struct cli_verb measures_verb = {
        .name = "measures",
        .synopsis = "[--since DATE] [--until DATE] [--profile DIR] [--json]",
        .about = "Lists the measures of the period (every public statement of class measure\n"
                 "announced by the end of it that had not ended before its start): each with\n"
                 "its author, its state as of the end of the period (announced, suspended,\n"
                 "resumed or ended, moved on by its author's changes), the measure it\n"
                 "reciprocates and the measures that reciprocate it. Every record is verified\n"
                 "against the exchange's directory.\n",
        .status = "Exit status: 0 shown; 1 a record or the checkpoint does not verify; 2 usage or\n"
                  "I/O error; 3 the exchange refused.\n",
};

struct measures {
	struct pl_session s;
	struct pl_measures_report r;
	int64_t since, until;
	bool json;
};

/*
 * The first line of a measure's body, cut at 60 bytes on a character boundary, "..." marking
 * a cut (its text passed the record grammar: UTF-8, no control character).
 */
static void first_line(char out[static 64], const struct pl_record *r)
{
	size_t k = 0;

	while (k < r->body_len && r->body[k] != '\n')
		k++;
	if (k > 60) {
		k = 57;
		while (k > 0 && ((unsigned char)r->body[k] & 0xc0) == 0x80)
			k--;
		memcpy(out, r->body, k);
		memcpy(out + k, "...", 4);
		return;
	}
	memcpy(out, r->body, k);
	out[k] = '\0';
}

static int print_measures_text(const struct measures *m)
{
	const struct pl_measures_report *r = &m->r;
	char when[PL_TIMESTAMP_LEN + 1], line[64];

	printf("%zu measure%s, as of log size %" PRIu64 "\n", r->n, r->n == 1 ? "" : "s", r->size);
	for (size_t i = 0; i < r->n; i++) {
		const struct pl_measure *x = &r->v[i];
		const struct pl_session_record *a = &r->recs[x->announced];
		time_text(when, a->rec->time);
		first_line(line, a->rec);
		printf("  %s  #%" PRIu64 "  %s  measure %.16s: %s", when, a->index, a->rec->author,
		       a->hex, pl_measure_state_name(x->state));
		if (x->nchanges) {
			time_text(when, r->recs[x->last].rec->time);
			printf(" since %s", when);
		}
		printf(": \"%s\"\n", line);
		if (x->reciprocates != SIZE_MAX)
			printf("      reciprocates %s's measure %.16s\n",
			       r->recs[x->reciprocates].rec->author, r->recs[x->reciprocates].hex);
		for (size_t k = 0; k < r->n; k++) {
			if (r->v[k].reciprocates == x->announced)
				printf("      reciprocated by %s's measure %.16s\n",
				       r->recs[r->v[k].announced].rec->author,
				       r->recs[r->v[k].announced].hex);
		}
	}
	return PL_EXIT_OK;
}

static int print_measures_json(const struct measures *m)
{
	const struct pl_measures_report *r = &m->r;
	json_t *root = json_object(), *list = json_array();
	char when[PL_TIMESTAMP_LEN + 1];
	bool ok = root && list;
	int ret;

	ok = ok && json_object_set_new(root, "size", json_integer((json_int_t)r->size)) == 0;
	for (size_t i = 0; ok && i < r->n; i++) {
		const struct pl_measure *x = &r->v[i];
		const struct pl_session_record *a = &r->recs[x->announced];
		json_t *e = json_object(), *by;
		ok = e && json_array_append_new(list, e) == 0;
		by = ok ? json_array() : NULL;
		ok = ok && by && json_object_set_new(e, "reciprocated_by", by) == 0;
		for (size_t k = 0; ok && k < r->n; k++) {
			if (r->v[k].reciprocates == x->announced)
				ok = json_array_append_new(
				             by, json_string(r->recs[r->v[k].announced].hex)) == 0;
		}
		time_text(when, a->rec->time);
		ok = ok && json_object_set_new(e, "id", json_string(a->hex)) == 0;
		ok = ok && json_object_set_new(e, "index", json_integer((json_int_t)a->index)) == 0;
		ok = ok && json_object_set_new(e, "time", json_string(when)) == 0;
		ok = ok && json_object_set_new(e, "author", json_string(a->rec->author)) == 0;
		ok = ok && json_object_set_new(e, "state",
		                               json_string(pl_measure_state_name(x->state))) == 0;
		ok = ok && json_object_set_new(e, "latest", json_string(r->recs[x->last].hex)) == 0;
		ok = ok &&
		     json_object_set_new(e, "changes", json_integer((json_int_t)x->nchanges)) == 0;
		ok = ok &&
		     json_object_set_new(e, "reciprocates",
		                         x->reciprocates == SIZE_MAX
		                                 ? json_null()
		                                 : json_string(r->recs[x->reciprocates].hex)) == 0;
	}
	ok = ok && json_object_set(root, "measures", list) == 0;
	ret = cli_print_json(ok ? root : NULL, "measures");
	json_decref(list);
	json_decref(root);
	return ret;
}

int cmd_measures(int argc, char **argv)
{
	/* Static: a session holds large fixed-size members. */
	static struct measures m;
	const char *profile = NULL;
	const struct cli_opt opts[] = {
	        {'s', "since", CLI_CALL, &m.since, "DATE",
	         "the period's start: YYYY-MM-DD (00:00 UTC) or\nYYYY-MM-DDTHH:MM:SSZ",
	         .call = take_since},
	        {'u', "until", CLI_CALL, &m.until, "DATE",
	         "the period's end: YYYY-MM-DD (to 23:59:59 UTC) or\nYYYY-MM-DDTHH:MM:SSZ",
	         .call = take_until},
	        CLI_OPT_PROFILE(&profile),
	        CLI_OPT_JSON(&m.json, "print one JSON object instead of text"),
	        {0},
	};
	int ret;

	memset(&m, 0, sizeof(m));
	period_verb = "measures";
	m.since = INT64_MIN;
	m.until = INT64_MAX;
	ret = cli_parse(&measures_verb, opts, argc, argv, NULL);
	if (ret >= 0)
		goto out;
	if (m.since > m.until) {
		ret = cli_usage("measures", "--since is after --until");
		goto out;
	}
	ret = session_open(&m.s, "measures", profile);
	if (ret)
		goto out;
	ret = session_said(&m.s, pl_measures_load(&m.s, m.since, m.until, &m.r));
	if (!ret)
		ret = m.json ? print_measures_json(&m) : print_measures_text(&m);
out:
	pl_measures_report_release(&m.r);
	session_close(&m.s);
	memset(&m, 0, sizeof(m));
	return ret;
}
