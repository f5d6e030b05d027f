/* The one judgement of coordination: was a member's signal to a counterpart agreed in its group? */
#include <parley/coordination.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DAY_SECONDS 86400

const char *pl_coordination_verdict_name(enum pl_coordination_verdict v)
{
	switch (v) {
	case PL_COORDINATION_COORDINATED:
		return "coordinated";
	case PL_COORDINATION_UNCOORDINATED:
		return "uncoordinated";
	case PL_COORDINATION_OBJECTED:
		return "against objection";
	default:
		return "";
	}
}

/* The position of id among the versions, or SIZE_MAX. */
static size_t version_of(const uint8_t *id, const struct pl_coordination_record *versions,
                         size_t nversions)
{
	for (size_t i = 0; i < nversions; i++) {
		if (memcmp(versions[i].id, id, PL_RECORD_ID_BYTES) == 0)
			return i;
	}
	return SIZE_MAX;
}

bool pl_coordination_in_group(const struct pl_record *r,
                              const struct pl_coordination_record *versions, size_t nversions)
{
	const struct pl_record_ref *g;

	for (size_t i = 0; i < nversions; i++) {
		if (versions[i].rec == r)
			return true;
	}
	if (r->kind != PL_KIND_CONSULT && r->kind != PL_KIND_GROUP)
		return false;
	g = pl_record_ref_find(r, PL_ROLE_GROUP);
	return g && version_of(g->id, versions, nversions) != SIZE_MAX;
}

/* The first counterpart of group version g the act addresses, or NULL. */
static const char *addressed(const struct pl_record *act, const struct pl_record *g)
{
	if (act->kind == PL_KIND_STATEMENT)
		return g->nabout ? g->about[0] : NULL;
	for (size_t i = 0; i < act->nto && i < PL_RECORD_MAX_TO; i++) {
		if (pl_record_has_about(g, act->to[i]))
			return act->to[i];
	}
	if ((act->has & PL_RECORD_HAS_VIA) && pl_record_has_about(g, act->via))
		return act->via;
	return NULL;
}

/* Whether consult c stands for the act: its author's, in the window, the named one if any. */
static bool stands_for(const struct pl_coordination_input *in, const struct pl_record *g,
                       const struct pl_coordination_record *c)
{
	const struct pl_record *act = in->act.rec;
	const struct pl_record_ref *named = pl_record_ref_find(act, PL_ROLE_CONSULT);
	const struct pl_record_ref *in_group = pl_record_ref_find(c->rec, PL_ROLE_GROUP);
	int64_t from = act->time - (int64_t)g->window_days * DAY_SECONDS;

	if (c->rec->kind != PL_KIND_CONSULT || strcmp(c->rec->author, act->author) != 0)
		return false;
	if (c->index >= in->act.index || c->rec->time > act->time || c->rec->time < from)
		return false;
	if (named)
		return memcmp(named->id, c->id, PL_RECORD_ID_BYTES) == 0;
	return in_group && version_of(in_group->id, in->versions, in->nversions) != SIZE_MAX;
}

/* Whether advise a objects to consult c before the act, by a member of g. */
static bool objects(const struct pl_coordination_input *in, const struct pl_record *g,
                    const struct pl_coordination_record *a, const struct pl_coordination_record *c)
{
	const struct pl_record_ref *about = pl_record_ref_find(a->rec, PL_ROLE_CONSULT);

	return a->rec->kind == PL_KIND_ADVISE && about &&
	       memcmp(about->id, c->id, PL_RECORD_ID_BYTES) == 0 &&
	       (a->rec->has & PL_RECORD_HAS_POSITION) && a->rec->position == PL_POSITION_OBJECT &&
	       a->index < in->act.index && a->rec->time <= in->act.rec->time &&
	       pl_record_has_to(g, a->rec->author);
}

int pl_coordination_judge(const struct pl_coordination_input *in,
                          struct pl_coordination_result *out)
{
	struct pl_coordination_result res;
	const struct pl_record *act, *g;
	const char *cp;
	bool named[PL_RECORD_MAX_TO] = {false};
	int ret = PL_EINVAL;

	if (!in || !out || !in->act.rec || !in->act.id || in->nversions == 0 || !in->versions ||
	    (in->nconsults && !in->consults) || (in->nadvises && !in->advises))
		goto out;
	memset(&res, 0, sizeof(res));
	res.objection = SIZE_MAX;
	act = in->act.rec;
	ret = 0;
	res.version = SIZE_MAX;
	for (size_t i = 0; i < in->nversions; i++) {
		if (in->versions[i].index < in->act.index && in->versions[i].rec->time <= act->time)
			res.version = i;
	}
	if (res.version == SIZE_MAX)
		goto done;
	g = in->versions[res.version].rec;
	if (act->kind != PL_KIND_SEND &&
	    !(act->kind == PL_KIND_STATEMENT && act->cls == PL_CLASS_MEASURE))
		goto done;
	cp = addressed(act, g);
	if (!pl_record_has_to(g, act->author) || !cp)
		goto done;
	memcpy(res.counterpart, cp, strlen(cp) + 1);
	for (size_t i = 0; i < in->nconsults; i++) {
		const struct pl_record *c = in->consults[i].rec;
		if (!stands_for(in, g, &in->consults[i]))
			continue;
		if (res.nconsults < PL_RECORD_MAX_TO)
			res.consults[res.nconsults++] = i;
		for (size_t m = 0; m < g->nto && m < PL_RECORD_MAX_TO; m++)
			named[m] = named[m] || pl_record_has_to(c, g->to[m]);
		for (size_t a = 0; a < in->nadvises && res.objection == SIZE_MAX; a++) {
			if (objects(in, g, &in->advises[a], &in->consults[i]))
				res.objection = a;
		}
	}
	for (size_t m = 0; m < g->nto && m < PL_RECORD_MAX_TO; m++) {
		if (named[m] || strcmp(g->to[m], act->author) == 0)
			continue;
		memcpy(res.missing[res.nmissing++], g->to[m], strlen(g->to[m]) + 1);
	}
	if (res.nmissing == 0 && g->nto < 2)
		goto done; /* a group of one has nobody to consult */
	res.verdict = res.nmissing                ? PL_COORDINATION_UNCOORDINATED
	              : res.objection != SIZE_MAX ? PL_COORDINATION_OBJECTED
	                                          : PL_COORDINATION_COORDINATED;
done:
	*out = res;
out:
	return ret;
}

/* Appends to out[0..n) as snprintf() would, after what it holds. */
static void say_more(char *out, size_t n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void say_more(char *out, size_t n, const char *fmt, ...)
{
	size_t k = strnlen(out, n);
	va_list ap;

	if (k + 1 >= n)
		return;
	va_start(ap, fmt);
	vsnprintf(out + k, n - k, fmt, ap);
	va_end(ap);
}

/* "a", "a and b", "a, b and c". */
static void say_names(char *out, size_t n, const char (*names)[PL_RECORD_NAME_MAX + 1],
                      size_t count)
{
	for (size_t i = 0; i < count; i++)
		say_more(out, n, "%s%s", i == 0 ? "" : i + 1 == count ? " and " : ", ", names[i]);
}

static void say_id(char *out, size_t n, const char *what, const uint8_t *id)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	pl_record_id_format(hex, id);
	say_more(out, n, "%s %.8s", what, hex);
}

void pl_coordination_explain(char *out, size_t n, const struct pl_coordination_input *in,
                             const struct pl_coordination_result *res)
{
	const struct pl_record *g;

	if (n == 0)
		return;
	out[0] = '\0';
	if (!in || !res || res->verdict == PL_COORDINATION_NONE || res->version >= in->nversions)
		return;
	g = in->versions[res->version].rec;
	switch (res->verdict) {
	case PL_COORDINATION_UNCOORDINATED:
		say_more(out, n, "uncoordinated with ");
		say_names(out, n, res->missing, res->nmissing);
		say_more(out, n, " in group %s: %s not consulted in the %u days before it",
		         g->group, res->nmissing == 1 ? "was" : "were", (unsigned)g->window_days);
		if (res->nconsults) {
			say_more(out, n, " (");
			for (size_t i = 0; i < res->nconsults; i++)
				say_id(out, n, i ? ", consult" : "consult",
				       in->consults[res->consults[i]].id);
			say_more(out, n, " named only others)");
		}
		break;
	case PL_COORDINATION_OBJECTED: {
		const struct pl_record *a = in->advises[res->objection].rec;
		const struct pl_record_ref *c = pl_record_ref_find(a, PL_ROLE_CONSULT);
		say_more(out, n, "against objection in group %s: %s objected (", g->group,
		         a->author);
		say_id(out, n, "advise", in->advises[res->objection].id);
		say_more(out, n, ") to ");
		if (c)
			say_id(out, n, "consult", c->id);
		say_more(out, n, ", and it went out anyway");
		break;
	}
	default:
		say_more(out, n, "coordinated in group %s: ", g->group);
		for (size_t i = 0; i < res->nconsults; i++)
			say_id(out, n, i ? ", consult" : "consult",
			       in->consults[res->consults[i]].id);
		say_more(out, n,
		         " named every other member in the %u days before it, none objected",
		         (unsigned)g->window_days);
		break;
	}
}
