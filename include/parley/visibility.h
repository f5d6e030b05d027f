/* Need-to-know: the one rule deciding who may read a logged record. */
#ifndef PARLEY_VISIBILITY_H
#define PARLEY_VISIBILITY_H

#include <stdbool.h>

#include <parley/record.h>

/*
 * Who reads (docs/api.md, "Who reads what"). party is the authenticated
 * party's name, or NULL for anyone at all (a public read). An auditor
 * (parleyd.conf `auditors`) reads every record, whatever party says.
 */
struct pl_reader {
	const char *party;
	bool auditor;
};

/*
 * The role of the one `ref` of a record of kind k whose target the rule needs
 * (pl_record_kind_target(): the send of a receive, convey, decline, accept,
 * refuse, available or expire; the consult of an advise; the check of an
 * answer or unanswered; the version of a group that a group change
 * changes), the group version of a consult (`ref group`: a consult made in
 * a group is read by its members), or 0 when the rule needs rec alone. A
 * record may lack that ref (a consult made in no group): then `about` is
 * NULL. A caller that holds a log looks that record up and passes it as
 * `about` below.
 */
enum pl_ref_role pl_visibility_about_role(enum pl_record_kind k);

/*
 * True for the kinds anyone may read: statements, the directory's register
 * and revoke (the keys every verifier needs), and the exchange's `index`
 * records (its commitment to the thread index, docs/index.md).
 */
bool pl_visibility_kind_is_public(enum pl_record_kind k);

/*
 * Whether who may read rec. about is the record rec's reference of role
 * pl_visibility_about_role(rec->kind) names (NULL when the kind needs none,
 * or when the caller does not have it: then only rec's own lines count, which
 * never widens the audience). A member reads a record when:
 *
 *   - its kind is public (pl_visibility_kind_is_public());
 *   - it is the author;
 *   - it is named in the record's `to` or `via` (a send's recipients and
 *     intermediary, a consult's allies, a check's two ends, the parties an
 *     available, expire or unanswered reports on);
 *   - the record acts on a send (receive, convey, decline, accept, refuse,
 *     available, expire) and it is that send's author, a `to` or its `via`;
 *   - the record is an advise and it is the consult's author or one of the
 *     allies consulted;
 *   - the record is an answer or unanswered and it is an end of the check
 *     (the line's two parties).
 *
 * A send's `reply-to` and a statement's `cites` widen nothing: a reply is
 * read by its own parties, a statement by anyone. An `about` of the wrong
 * kind is ignored. Pure and thread-safe.
 */
bool pl_visibility_may_read(const struct pl_reader *who, const struct pl_record *rec,
                            const struct pl_record *about);

#endif
