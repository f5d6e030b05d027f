/* Need-to-know: whether a reader may read a record, from the record and the one it acts on. */
#include <parley/visibility.h>

#include <string.h>

enum pl_ref_role pl_visibility_about_role(enum pl_record_kind k)
{
	/* A consult made in a coordination group is read by the group's members. */
	return k == PL_KIND_CONSULT ? PL_ROLE_GROUP : pl_record_kind_target(k);
}

bool pl_visibility_kind_is_public(enum pl_record_kind k)
{
	return k == PL_KIND_STATEMENT || k == PL_KIND_REGISTER || k == PL_KIND_REVOKE ||
	       k == PL_KIND_INDEX;
}

/* The kind a reference of role must name (docs/records.md §5.2); 0 for the roles the rule skips. */
static enum pl_record_kind vis_target_kind(enum pl_ref_role role)
{
	switch (role) {
	case PL_ROLE_SUBJECT:
		return PL_KIND_SEND;
	case PL_ROLE_CONSULT:
		return PL_KIND_CONSULT;
	case PL_ROLE_CHECK:
		return PL_KIND_CHECK;
	case PL_ROLE_GROUP:
		return PL_KIND_GROUP;
	default:
		return 0;
	}
}

/* True when party wrote r or r names it in `to` or `via`. */
static bool vis_names(const struct pl_record *r, const char *party)
{
	return strcmp(r->author, party) == 0 || pl_record_has_to(r, party) ||
	       ((r->has & PL_RECORD_HAS_VIA) && strcmp(r->via, party) == 0);
}

bool pl_visibility_may_read(const struct pl_reader *who, const struct pl_record *rec,
                            const struct pl_record *about)
{
	enum pl_ref_role role;

	if (!rec)
		return false;
	if (pl_visibility_kind_is_public(rec->kind))
		return true;
	if (!who)
		return false;
	if (who->auditor)
		return true;
	/* The exchange's name is never a reader's: no party may hold it. */
	if (!who->party || strcmp(who->party, PL_RECORD_EXCHANGE) == 0)
		return false;
	if (vis_names(rec, who->party))
		return true;
	role = pl_visibility_about_role(rec->kind);
	if (!role || !about || about->kind != vis_target_kind(role))
		return false;
	/* The parties of the send, consult or check the record acts on. */
	return vis_names(about, who->party);
}
