/* Dossier verify: every check of docs/dossier.md §4, offline, with the keys the reader gives. */
#include <parley/dossier.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include <parley/box.h>
#include <parley/chain.h>
#include <parley/checkpoint.h>
#include <parley/cosignature.h>
#include <parley/directory.h>
#include <parley/note.h>
#include <parley/replay.h>
#include <parley/rules.h>
#include <parley/timestamp.h>
#include <parley/tindex.h>

#include "dossier_int.h"
#include "internal.h"

/* ---- Tree evidence --------------------------------------------------------------- */

/*
 * Recomputes the RFC 6962 root of the tree [0, start + nwindow) from the
 * frontier of start and the window's leaves: the frontier is a stack of
 * complete subtrees of decreasing height; each leaf is pushed and equal
 * heights merge; the remaining stack folds right to left into the root.
 */
static int window_root(const struct dossier *d, uint8_t root[static PL_HASH_BYTES],
                       struct pl_buf *why)
{
	uint8_t hash[PL_TLOG_MAX_LEVEL + 2][PL_HASH_BYTES];
	unsigned height[PL_TLOG_MAX_LEVEL + 2];
	size_t top = 0, k = 0;
	int ret = 0;

	if (d->nfrontier != popcount(d->start)) {
		ret = pl__dossier_fail(
		        why, PL_EPROOF,
		        "window: %zu frontier hashes given, but log #%llu needs %u to be placed",
		        d->nfrontier, (unsigned long long)d->start, popcount(d->start));
		goto out;
	}
	for (int bit = PL_TLOG_MAX_LEVEL; bit >= 0; bit--) {
		if (d->start & (UINT64_C(1) << bit)) {
			memcpy(hash[top], d->frontier[k++], PL_HASH_BYTES);
			height[top++] = (unsigned)bit;
		}
	}
	for (size_t i = d->nproven; i < d->ne; i++) {
		pl_tlog_leaf_hash(hash[top], d->e[i].msg, d->e[i].len);
		height[top++] = 0;
		while (top >= 2 && height[top - 1] == height[top - 2]) {
			pl_tlog_node_hash(hash[top - 2], hash[top - 2], hash[top - 1]);
			height[top - 2]++;
			top--;
		}
	}
	for (; top >= 2; top--)
		pl_tlog_node_hash(hash[top - 2], hash[top - 2], hash[top - 1]);
	memcpy(root, hash[0], PL_HASH_BYTES);
out:
	return ret;
}

/* The checkpoint: signed by the log key, of the dossier's origin; then the witness policy. */
static int check_checkpoint(const struct dossier *d, struct pl_checkpoint *cp,
                            const struct pl_vkey *witnesses, size_t nwitnesses, size_t quorum,
                            struct pl_dossier_report *rep, struct pl_buf *why)
{
	struct pl_note *note = NULL;
	bool *ok = NULL;
	size_t count = 0;
	int ret;

	ret = pl_checkpoint_open(cp, &note, d->checkpoint, d->checkpoint_len, d->origin,
	                         &d->log_key, 1);
	if (ret != 0) {
		ret = pl__dossier_fail(why,
		                       ret == PL_EMALFORMED || ret == PL_ETOOBIG ? PL_EVERIFY : ret,
		                       "checkpoint: not a checkpoint of %s signed by %s: %s",
		                       d->origin, d->log_key.name, pl_strerror(ret));
		goto out;
	}
	if (nwitnesses == 0)
		goto out;
	ok = calloc(nwitnesses, sizeof(*ok));
	rep->cosigners = calloc(nwitnesses, sizeof(*rep->cosigners));
	if (!ok || !rep->cosigners) {
		ret = PL_ENOMEM;
		goto out;
	}
	/* A cosignature line naming a given witness must verify, whatever the quorum. */
	ret = pl_note_verify(note, witnesses, nwitnesses, ok);
	if (ret == PL_ENOKEY) {
		ret = 0;
	} else if (ret == PL_EAMBIGUOUS) {
		/* The caller's keys, not the evidence: two witness keys share a name and key id. */
		ret = pl__dossier_fail(why, PL_EINVAL,
		                       "witnesses: two of the given keys share a name and key id");
		goto out;
	} else if (ret != 0) {
		ret = pl__dossier_fail(why, ret,
		                       "checkpoint: a witness cosignature does not verify: %s",
		                       pl_strerror(ret));
		goto out;
	}
	for (size_t w = 0; w < nwitnesses; w++) {
		bool dup = false;
		for (size_t x = 0; x < w; x++)
			dup = dup || (ok[x] && pl_vkey_equal(&witnesses[x], &witnesses[w]));
		if (!ok[w] || dup)
			continue;
		count++;
		for (size_t s = 0; s < note->nsigs; s++) {
			struct pl_dossier_cosigner *c = &rep->cosigners[rep->ncosigners];
			uint64_t t;
			if (pl_cosignature_verify(&note->sigs[s], &witnesses[w], note->text,
			                          note->text_len, &t) != 0 ||
			    t > (uint64_t)PL_TIMESTAMP_MAX)
				continue;
			if (!rep->has_bound || (int64_t)t < rep->bound)
				rep->bound = (int64_t)t;
			rep->has_bound = true;
			/* One entry per witness: its earliest cosignature. */
			if (rep->ncosigners == count - 1) {
				c->key = witnesses[w];
				c->time = (int64_t)t;
				rep->ncosigners++;
			} else if ((int64_t)t < rep->cosigners[rep->ncosigners - 1].time) {
				rep->cosigners[rep->ncosigners - 1].time = (int64_t)t;
			}
		}
	}
	rep->witnesses_verified = count;
out:
	if (ret == 0 && count < quorum)
		ret = pl__dossier_fail(
		        why, PL_ENOKEY,
		        "checkpoint: cosigned by %zu of the given witnesses, %zu required", count,
		        quorum);
	free(ok);
	pl_note_free(note);
	return ret;
}

/* The inclusion proof of one entry leads from its leaf at its index to the checkpoint's root. */
static int check_inclusion(const struct dentry *e, const struct pl_checkpoint *cp,
                           struct pl_buf *why)
{
	uint8_t leaf[PL_HASH_BYTES];
	int ret = 0;

	pl_tlog_leaf_hash(leaf, e->msg, e->len);
	if (pl_tlog_verify_inclusion(leaf, e->index, cp->size,
	                             (const uint8_t(*)[PL_HASH_BYTES])e->proof, e->nproof,
	                             cp->root) != 0)
		ret = pl__dossier_fail(
		        why, PL_EPROOF,
		        "log #%llu: the inclusion proof does not lead to the checkpoint's root",
		        (unsigned long long)e->index);
	return ret;
}

static int check_tree(const struct dossier *d, const struct pl_checkpoint *cp, struct pl_buf *why)
{
	uint64_t nwin = d->ne - d->nproven;
	uint8_t root[PL_HASH_BYTES];
	int ret = 0;

	if (d->start + nwin != cp->size) {
		ret = pl__dossier_fail(
		        why, PL_EPROOF,
		        "window: holds log #%llu to #%llu, but the checkpoint is at tree size "
		        "%llu: the window must run to the checkpoint",
		        (unsigned long long)d->start, (unsigned long long)(d->start + nwin - 1),
		        (unsigned long long)cp->size);
		goto out;
	}
	ret = window_root(d, root, why);
	if (ret != 0)
		goto out;
	if (memcmp(root, cp->root, PL_HASH_BYTES) != 0) {
		ret = pl__dossier_fail(
		        why, PL_EPROOF,
		        "window: the %llu entries from log #%llu and the frontier do not hash to "
		        "the checkpoint's root: an entry is missing, added, altered or moved",
		        (unsigned long long)nwin, (unsigned long long)d->start);
		goto out;
	}
	for (size_t i = 0; ret == 0 && i < d->nproven; i++)
		ret = check_inclusion(&d->e[i], cp, why);
out:
	return ret;
}

/* ---- Records, directory, chains, rules ---------------------------------------------- */

/*
 * The position in e of a key's latest record so far, or NO_ENTRY: the
 * dossier's own per-key state, beside the chain head the directory keeps.
 */
static size_t last_of(const struct pl_directory *dir, size_t key)
{
	const size_t *at = pl_directory_extra(dir, key);

	return dir->state[key].has_head ? *at : NO_ENTRY;
}

/*
 * Adds the record at position i to the log replayed so far: its key's
 * latest, and for a register or revoke a change of the directory.
 */
static int advance(const struct dossier *d, struct pl_replay_log *log, size_t i)
{
	const struct dentry *e = &d->e[i];
	size_t *at = pl_directory_extra(&log->dir, e->signer);

	*at = i;
	return pl_replay_log_add(log, e->rec, e->id, e->index, e->signer, e->msg, e->len);
}

/*
 * A register or revoke changes the directory for every later record. A key
 * registered again after its revoke, a register that brings no new key, or a
 * revoke of a key not active breaks the rules even outside the thread; a
 * revoke of a key whose register the dossier does not carry (its key signs
 * nothing here) is simply noted. These are the parts of pl_rules_check()'s
 * register and revoke rules that a partial directory can judge: the dossier
 * holds only the registers of the keys that sign its records, where the rules
 * know the whole directory (how many keys a party holds, whether it returns),
 * so they are checked here and not by judge(), before advance() applies the
 * record. An active key in a register is the party's consent to a new one
 * (a rotation, docs/keys.md §2).
 */
static int directory_check(const struct pl_directory *dir, const struct pl_record *r,
                           uint64_t index, struct pl_buf *why)
{
	size_t fresh = 0;
	int ret = 0;

	for (size_t k = 0; ret == 0 && k < r->nkeys; k++) {
		enum pl_key_status st = pl_directory_status(dir, &r->keys[k]);
		fresh += st == PL_KEY_UNKNOWN;
		if (r->kind == PL_KIND_REGISTER && st == PL_KEY_REVOKED)
			ret = pl__dossier_fail(why, PL_ERULE,
			                       "log #%llu: registers %s, a key registered before",
			                       (unsigned long long)index, r->keys[k].name);
		else if (r->kind == PL_KIND_REVOKE && st == PL_KEY_REVOKED)
			ret = pl__dossier_fail(why, PL_ERULE,
			                       "log #%llu: revokes %s, a key that is not active",
			                       (unsigned long long)index, r->keys[k].name);
	}
	if (ret == 0 && r->kind == PL_KIND_REGISTER && fresh == 0)
		ret = pl__dossier_fail(why, PL_ERULE,
		                       "log #%llu: registers %s, a key registered before",
		                       (unsigned long long)index, r->keys[0].name);
	return ret;
}

struct pl_record *pl__dossier_record_trim(const struct pl_record *r)
{
	size_t n = offsetof(struct pl_record, body) + r->body_len + 1;
	struct pl_record *c = malloc(n);

	if (c)
		memcpy(c, r, n);
	return c;
}

bool pl_dossier_is_subject_kind(enum pl_record_kind k)
{
	return k == PL_KIND_SEND || k == PL_KIND_CONSULT || k == PL_KIND_CHECK ||
	       k == PL_KIND_STATEMENT;
}

/*
 * Runs pl_rules_check() on the thread record at position i, with what the log
 * held before it (the records added to log). Unlike parley log audit, which
 * hands the rules a missing ref as NULL, a ref the dossier does not hold is
 * its own failure here: the dossier may simply lack a record the log has, and
 * says so.
 */
static int judge(const struct dossier *d, const struct pl_replay_log *log, size_t i, bool own_head,
                 const struct pl_chain_link *head, struct pl_buf *why)
{
	const struct dentry *e = &d->e[i];
	const struct pl_record *r = e->rec;
	const char *rwhy = "rule broken";
	int ret = 0;

	for (size_t k = 0; k < r->nrefs; k++) {
		char sid[ID_SHORT + sizeof(ELLIPSIS)];
		if (!pl_replay_log_find(log, r->refs[k].id, NULL)) {
			pl__dossier_id_short(sid, r->refs[k].id);
			ret = pl__dossier_fail(
			        why, PL_ERULE,
			        "log #%llu: refers to %s, which the dossier does not hold before "
			        "it",
			        (unsigned long long)e->index, sid);
			goto out;
		}
	}
	/*
	 * No check that the parties a record names are registered: the dossier
	 * carries only the registers of the keys that sign its records.
	 */
	ret = own_head ? pl_replay_log_judge_head(log, r, e->id, e->signer, head, false, &rwhy)
	               : pl_replay_log_judge(log, r, e->id, e->signer, false, &rwhy);
	if (ret != 0 && ret != PL_ENOMEM)
		ret = pl__dossier_fail(why, ret, "log #%llu: %s by %s breaks the rules: %s",
		                       (unsigned long long)e->index, pl_record_kind_name(r->kind),
		                       r->author, rwhy);
out:
	return ret;
}

/* True when some ref of r names a thread record logged before position i. */
static bool refers_to_thread(const struct dossier *d, const struct pl_record *r, size_t i)
{
	for (size_t k = 0; k < r->nrefs; k++) {
		size_t at = pl__dossier_find_id(d, r->refs[k].id);
		if (at != NO_ENTRY && at < i && d->e[at].thread)
			return true;
	}
	return false;
}

/* Opens the record at position i with the keys registered before it. */
static int open_entry(struct dossier *d, const struct pl_directory *dir, size_t i,
                      struct pl_record *tmp, struct pl_buf *why)
{
	struct dentry *e = &d->e[i];
	struct pl_vkey signer;
	uint8_t id[PL_RECORD_ID_BYTES];
	const char *rwhy = "";
	int ret;

	ret = pl_record_open(tmp, id, &signer, e->msg, e->len, dir->keys, dir->n, &rwhy);
	if (ret == PL_ENOKEY) {
		ret = pl__dossier_fail(
		        why, ret,
		        "log #%llu: not signed by a key the dossier registers before it (%s)",
		        (unsigned long long)e->index, rwhy);
		goto out;
	}
	if (ret != 0) {
		ret = pl__dossier_fail(why,
		                       ret == PL_EMALFORMED || ret == PL_ETOOBIG || ret == PL_EINVAL
		                               ? PL_ERULE
		                               : ret,
		                       "log #%llu: the record does not open: %s",
		                       (unsigned long long)e->index, rwhy);
		goto out;
	}
	if (strcmp(tmp->exchange, d->origin) != 0) {
		ret = pl__dossier_fail(why, PL_EVERIFY,
		                       "log #%llu: a record of exchange %s, not %s",
		                       (unsigned long long)e->index, tmp->exchange, d->origin);
		goto out;
	}
	e->signer = pl_directory_find(dir, signer.name, signer.id);
	if (e->signer == PL_DIRECTORY_NONE || dir->state[e->signer].status != PL_KEY_ACTIVE) {
		ret = pl__dossier_fail(why, PL_ERULE,
		                       "log #%llu: signed by %s, a key revoked before it",
		                       (unsigned long long)e->index, signer.name);
		goto out;
	}
	e->rec = pl__dossier_record_trim(tmp);
	if (!e->rec)
		ret = PL_ENOMEM;
out:
	return ret;
}

/*
 * The chain of the key that signed position i: before the window, records of
 * a key only move forward (no fork among them); in the window, each record
 * follows its key's previous one, the first from its anchor (the record
 * its prev names, which must be among the proven records).
 */
static int chain_step(const struct dossier *d, const struct pl_directory *dir, size_t i,
                      struct pl_buf *why)
{
	const struct dentry *e = &d->e[i];
	size_t last = last_of(dir, e->signer);
	const struct pl_chain_link *head = &dir->state[e->signer].head;
	struct pl_chain_link link;
	const char *cwhy = "";
	int ret = 0;

	pl_chain_link_set(&link, e->rec, e->id);
	if (i < d->nproven) {
		if (last != NO_ENTRY && link.seq <= head->seq)
			ret = pl__dossier_fail(
			        why, PL_ECHAIN,
			        "log #%llu: seq %llu of %s after seq %llu at log #%llu: a fork",
			        (unsigned long long)e->index, (unsigned long long)link.seq,
			        dir->keys[e->signer].name, (unsigned long long)head->seq,
			        (unsigned long long)d->e[last].index);
		goto out;
	}
	if ((last == NO_ENTRY || last < d->nproven) && link.has_prev) {
		size_t at = pl__dossier_find_id(d, link.prev);
		if (at == NO_ENTRY || at >= d->nproven) {
			ret = pl__dossier_fail(
			        why, PL_ECHAIN,
			        "log #%llu: the dossier lacks the anchor of %s (the record before "
			        "seq %llu)",
			        (unsigned long long)e->index, dir->keys[e->signer].name,
			        (unsigned long long)link.seq);
			goto out;
		}
	}
	if (pl_chain_check_next(last == NO_ENTRY ? NULL : head, &link, &cwhy) != 0)
		ret = pl__dossier_fail(why, PL_ECHAIN, "log #%llu: the chain of %s breaks: %s",
		                       (unsigned long long)e->index, dir->keys[e->signer].name,
		                       cwhy);
out:
	return ret;
}

/* Each key's records in the window form one contiguous segment with no fork anywhere. */
static int check_segments(const struct dossier *d, const struct pl_directory *dir, size_t *nkeys,
                          struct pl_buf *why)
{
	struct pl_chain_link *links = calloc(d->ne ? d->ne : 1, sizeof(*links));
	struct pl_chain_fork fork;
	size_t used = 0;
	int ret = 0;

	if (!links) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < dir->n; k++) {
		size_t n = 0, nforks = 0, bad = 0, first = NO_ENTRY;
		const char *cwhy = "";
		for (size_t i = 0; i < d->ne; i++) {
			if (d->e[i].signer != k)
				continue;
			if (first == NO_ENTRY && i >= d->nproven)
				first = n;
			pl_chain_link_set(&links[n++], d->e[i].rec, d->e[i].id);
		}
		if (n == 0)
			continue;
		used++;
		ret = pl_chain_find_forks(&fork, 1, &nforks, links, n);
		if (ret == 0 && nforks > 0) {
			ret = pl__dossier_fail(
			        why, PL_ECHAIN, "chain of %s: two records with seq %llu: a fork",
			        dir->keys[k].name, (unsigned long long)links[fork.a].seq);
			goto out;
		}
		if (ret != 0 || first == NO_ENTRY)
			continue;
		/* The segment runs from the anchor (the last record before the window), if any. */
		if (first > 0)
			first--;
		if (pl_chain_check_segment(links + first, n - first, &bad, &cwhy) != 0) {
			ret = pl__dossier_fail(why, PL_ECHAIN,
			                       "chain of %s: not contiguous in the window: %s",
			                       dir->keys[k].name, cwhy);
			goto out;
		}
	}
	*nkeys = used;
out:
	free(links);
	return ret;
}

/* The subject, opened, is of a kind a dossier is about. */
static int subject_kind(const struct dossier *d, struct pl_buf *why)
{
	enum pl_record_kind k = d->e[d->subject_pos].rec->kind;

	if (pl_dossier_is_subject_kind(k))
		return 0;
	return pl__dossier_fail(why, PL_EMALFORMED,
	                        "dossier: the subject is a %s; a dossier is about a send, "
	                        "consult, check or statement",
	                        pl_record_kind_name(k));
}

/*
 * Applies the opened record at position i to the log replayed so far: a
 * register or revoke is checked against the directory (directory_check())
 * and changes it; the record becomes its key's latest (advance()).
 */
static int apply(const struct dossier *d, struct pl_replay_log *log, size_t i, struct pl_buf *why)
{
	const struct dentry *e = &d->e[i];
	int ret = 0;

	if (e->rec->kind == PL_KIND_REGISTER || e->rec->kind == PL_KIND_REVOKE)
		ret = directory_check(&log->dir, e->rec, e->index, why);
	if (ret == 0)
		ret = advance(d, log, i);
	if (ret == PL_ETOOBIG)
		ret = pl__dossier_fail(why, ret,
		                       "log #%llu: more keys than a dossier may name (%u)",
		                       (unsigned long long)e->index, PL_DIRECTORY_MAX_KEYS);
	return ret;
}

static int cmp_size(const void *a, const void *b)
{
	const size_t *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/*
 * Version 1, a step of the pass in log order: mark the thread (the subject
 * and every window record that refers to a thread record), follow the key's
 * chain, judge a thread record by the rules with what came before it.
 */
static int step_v1(struct dossier *d, const struct pl_replay_log *log, size_t i, struct pl_buf *why)
{
	struct dentry *e = &d->e[i];
	int ret;

	if (i == d->nproven)
		e->thread = true;
	else if (i > d->nproven)
		e->thread = refers_to_thread(d, e->rec, i);
	ret = chain_step(d, &log->dir, i, why);
	if (ret == 0 && e->thread)
		ret = judge(d, log, i, false, NULL, why);
	return ret;
}

/* ---- Version 2: the thread index -------------------------------------------------------- */

/*
 * The tree evidence of a version 2 dossier: its index record is the
 * checkpoint's last entry, and every record's inclusion proof (the index
 * record's too) leads to the checkpoint's root.
 */
static int check_tree_v2(const struct dossier *d, const struct pl_checkpoint *cp,
                         struct pl_buf *why)
{
	const struct dentry *ix = &d->e[d->ne - 1];
	int ret = 0;

	if (ix->index + 1 != cp->size) {
		ret = pl__dossier_fail(
		        why, PL_EPROOF,
		        "index: the dossier's index record is log #%llu, but the last entry of "
		        "checkpoint %llu is log #%llu: the index must be the checkpoint's own",
		        (unsigned long long)ix->index, (unsigned long long)cp->size,
		        (unsigned long long)(cp->size - 1));
		goto out;
	}
	for (size_t i = 0; ret == 0 && i < d->ne; i++)
		ret = check_inclusion(&d->e[i], cp, why);
out:
	return ret;
}

int pl__dossier_index_open(const char *msg, size_t len, const char *origin,
                           const struct pl_vkey *log_key, uint8_t root[static PL_HASH_BYTES],
                           char *what, size_t n)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	struct pl_note *note = NULL;
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_vkey signer;
	const char *rwhy = "";
	int ret;

	if (!r) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_record_open(r, id, &signer, msg, len, log_key, 1, &rwhy);
	if (ret == PL_ENOMEM)
		goto out;
	if (ret == 0 && r->kind == PL_KIND_INDEX && (r->has & PL_RECORD_HAS_ROOT) &&
	    strcmp(r->exchange, origin) == 0) {
		memcpy(root, r->index_root, PL_HASH_BYTES);
		goto out;
	}
	/* Say what it is when it reads as a record at all, whoever signed it. */
	if (ret != 0 && pl_note_parse(&note, msg, len) == 0 &&
	    pl_record_parse(r, note->text, note->text_len, NULL) == 0 && r->kind != PL_KIND_INDEX)
		ret = 0;
	if (ret == 0 && r->kind != PL_KIND_INDEX)
		snprintf(what, n, "a %s", pl_record_kind_name(r->kind));
	else if (ret == 0)
		snprintf(what, n, "an index record of exchange %s", r->exchange);
	else
		snprintf(what, n, "a record that does not open: %s", rwhy);
	ret = PL_EPROOF;
out:
	pl_note_free(note);
	free(r);
	return ret;
}

/*
 * Opens the checkpoint's last entry with the log key: it must be an `index`
 * record of the dossier's exchange, whose root every index proof leads to.
 */
static int open_index(const struct dossier *d, uint8_t root[static PL_HASH_BYTES],
                      struct pl_buf *why)
{
	const struct dentry *ix = &d->e[d->ne - 1];
	char what[PL_DOSSIER_LINE_MAX / 2];
	int ret = pl__dossier_index_open(ix->msg, ix->len, d->origin, &d->log_key, root, what,
	                                 sizeof(what));

	if (ret == PL_EPROOF)
		ret = pl__dossier_fail(
		        why, PL_EPROOF,
		        "index: log #%llu, the last entry of checkpoint %llu, is %s, "
		        "not an index record of %s signed by the log key: a version "
		        "2 dossier needs a checkpoint that ends with one",
		        (unsigned long long)ix->index, (unsigned long long)(ix->index + 1), what,
		        d->origin);
	return ret;
}

/* True when r names id in one of its ref lines. */
static bool names(const struct pl_record *r, const uint8_t id[static PL_RECORD_ID_BYTES])
{
	for (size_t k = 0; k < r->nrefs; k++) {
		if (memcmp(r->refs[k].id, id, PL_RECORD_ID_BYTES) == 0)
			return true;
	}
	return false;
}

/* True when the index proof p lists the record id. */
static bool lists(const struct pl_tindex_proof *p, const uint8_t id[static PL_RECORD_ID_BYTES])
{
	for (size_t k = 0; k < p->nentries; k++) {
		if (memcmp(p->entries[k].id, id, PL_RECORD_ID_BYTES) == 0)
			return true;
	}
	return false;
}

/*
 * One thread record's index proof: it leads to the root, and every entry it
 * lists is a thread record of the dossier, at that log index, that names
 * the record in a ref.
 */
static int check_proof(const struct dossier *d, size_t i, const uint8_t root[static PL_HASH_BYTES],
                       struct pl_buf *why)
{
	const struct dentry *e = &d->e[i];
	unsigned long long at = (unsigned long long)e->index;
	unsigned long long ixat = (unsigned long long)d->e[d->ne - 1].index;
	char sid[ID_SHORT + sizeof(ELLIPSIS)];
	int ret = 0;

	if (pl_tindex_proof_verify(e->tproof, e->id, root) != 0) {
		ret = pl__dossier_fail(
		        why, PL_EPROOF,
		        "log #%llu: its thread index proof does not lead to the root "
		        "of the index record at log #%llu",
		        at, ixat);
		goto out;
	}
	for (size_t k = 0; k < e->tproof->nentries; k++) {
		const struct pl_tindex_entry *x = &e->tproof->entries[k];
		size_t pos = pl__dossier_find_id(d, x->id);
		pl__dossier_id_short(sid, x->id);
		if (pos == NO_ENTRY || !d->e[pos].thread) {
			ret = pl__dossier_fail(
			        why, PL_EPROOF,
			        "log #%llu: the thread index lists %s (log #%llu) as "
			        "referring to it, but the dossier's thread does not "
			        "hold that record",
			        at, sid, (unsigned long long)x->index);
			goto out;
		}
		if (d->e[pos].index != x->index || !names(d->e[pos].rec, e->id)) {
			ret = pl__dossier_fail(
			        why, PL_EPROOF,
			        "log #%llu: the thread index lists %s at log #%llu as "
			        "referring to it, but the record there is log #%llu "
			        "and %s: an invented entry",
			        at, sid, (unsigned long long)x->index,
			        (unsigned long long)d->e[pos].index,
			        names(d->e[pos].rec, e->id) ? "names it" : "does not name it");
			goto out;
		}
	}
out:
	return ret;
}

/*
 * The thread is complete up to the checkpoint (docs/dossier.md §4, version
 * 2): every thread record's index proof holds (check_proof()); every record
 * of the dossier that names a thread record is listed under it (so it is a
 * thread record too); and every thread record but the subject names one.
 */
static int check_index(const struct dossier *d, const uint8_t root[static PL_HASH_BYTES],
                       struct pl_buf *why)
{
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < d->ne; i++) {
		const struct dentry *e = &d->e[i];
		bool linked = false;
		if (e->thread)
			ret = check_proof(d, i, root, why);
		for (size_t k = 0; ret == 0 && k < e->rec->nrefs; k++) {
			size_t pos = pl__dossier_find_id(d, e->rec->refs[k].id);
			if (pos == NO_ENTRY || !d->e[pos].thread)
				continue;
			linked = true;
			if (!lists(d->e[pos].tproof, e->id))
				ret = pl__dossier_fail(
				        why, PL_EPROOF,
				        "log #%llu refers to log #%llu of the thread, but the "
				        "thread "
				        "index does not list it there: the index omits a record",
				        (unsigned long long)e->index,
				        (unsigned long long)d->e[pos].index);
		}
		if (ret == 0 && e->thread && i != d->subject_pos && !linked)
			ret = pl__dossier_fail(
			        why, PL_EPROOF,
			        "log #%llu: in the thread, but it refers to no record "
			        "of the thread",
			        (unsigned long long)e->index);
	}
	return ret;
}

/*
 * A version 2 dossier holds only some records of a key, so the rules check
 * each against the head its own seq and prev name; the key's previous record
 * in the dossier is that head when its seq is the one before, and otherwise
 * lends its time (a key's times never go back). A key's records must still
 * move forward: a seq at or below an earlier one here is a fork or a
 * disorder.
 */
static int head_v2(const struct dossier *d, const struct pl_directory *dir, size_t i,
                   struct pl_chain_link *head, const struct pl_chain_link **out, struct pl_buf *why)
{
	const struct dentry *e = &d->e[i];
	const struct pl_directory_state *st = &dir->state[e->signer];
	struct pl_chain_link link;
	int ret = 0;

	pl_chain_link_set(&link, e->rec, e->id);
	*out = NULL;
	if (st->has_head && link.seq <= st->head.seq) {
		ret = pl__dossier_fail(why, PL_ECHAIN,
		                       "log #%llu: seq %llu of %s after its seq %llu: a fork",
		                       (unsigned long long)e->index, (unsigned long long)link.seq,
		                       dir->keys[e->signer].name, (unsigned long long)st->head.seq);
		goto out;
	}
	if (link.seq <= 1)
		goto out;
	if (st->has_head && st->head.seq + 1 == link.seq) {
		*head = st->head;
	} else {
		memset(head, 0, sizeof(*head));
		head->seq = link.seq - 1;
		head->has_prev = head->seq > 1;
		memcpy(head->id, link.prev, PL_RECORD_ID_BYTES);
		head->time = st->has_head ? st->head.time : INT64_MIN;
	}
	*out = head;
out:
	return ret;
}

/*
 * The rules over the thread, in log order, with every record of the
 * dossier before each: the siblings a rule reads are complete, since the
 * index proofs list every record about a thread record.
 */
static int replay_v2(struct dossier *d, size_t *thread, size_t *nthread, size_t *nkeys,
                     struct pl_buf *why)
{
	struct pl_replay_log log;
	int ret;

	*nthread = 0;
	*nkeys = 0;
	ret = pl_replay_log_init(&log, &d->log_key, sizeof(size_t));
	for (size_t i = 0; ret == 0 && i < d->ne; i++) {
		struct dentry *e = &d->e[i];
		struct pl_chain_link h;
		const struct pl_chain_link *head = NULL;
		ret = head_v2(d, &log.dir, i, &h, &head, why);
		if (ret == 0 && e->thread) {
			ret = judge(d, &log, i, true, head, why);
			thread[(*nthread)++] = i;
		}
		if (ret == 0)
			ret = pl_replay_log_add(&log, e->rec, e->id, e->index, e->signer, e->msg,
			                        e->len);
	}
	for (size_t k = 0; ret == 0 && k < log.dir.n; k++)
		*nkeys += log.dir.state[k].has_head;
	pl_replay_log_release(&log);
	return ret;
}

/*
 * One pass in log order: open each record with the keys registered before
 * it, check the subject's kind, and apply registers and revokes; version 1
 * follows each key's chain and judges the thread as it goes (step_v1()),
 * then checks each key's window segment. Version 2 then checks the thread
 * index (check_index()) and replays the rules over the thread (replay_v2()),
 * with root the index record's.
 */
static int check_records(struct dossier *d, const uint8_t *root, size_t **thread_out,
                         size_t *nthread_out, size_t *nkeys, struct pl_buf *why)
{
	struct pl_replay_log log;
	struct pl_record *tmp = calloc(1, sizeof(*tmp));
	size_t *thread = calloc(d->ne, sizeof(*thread));
	size_t nthread = 0;
	int ret;

	memset(&log, 0, sizeof(log));
	if (!tmp || !thread) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_replay_log_init(&log, &d->log_key, sizeof(size_t));
	for (size_t i = 0; ret == 0 && i < d->ne; i++) {
		ret = open_entry(d, &log.dir, i, tmp, why);
		if (ret == 0 && i == d->subject_pos)
			ret = subject_kind(d, why);
		if (ret == 0 && d->version == 1)
			ret = step_v1(d, &log, i, why);
		if (ret == 0 && d->version == 1 && d->e[i].thread)
			thread[nthread++] = i;
		if (ret == 0)
			ret = apply(d, &log, i, why);
	}
	if (ret == 0 && d->version == 1)
		ret = check_segments(d, &log.dir, nkeys, why);
	if (ret == 0 && d->version == 2)
		ret = check_index(d, root, why);
	if (ret == 0 && d->version == 2)
		ret = replay_v2(d, thread, &nthread, nkeys, why);
out:
	if (ret == 0) {
		*thread_out = thread;
		*nthread_out = nthread;
		thread = NULL;
	}
	free(thread);
	free(tmp);
	pl_replay_log_release(&log);
	return ret;
}

static int check_disclosures(const struct dossier *d, struct pl_buf *why)
{
	int ret = 0;

	for (size_t i = 0; i < d->ndisc; i++) {
		const struct ddisc *c = &d->disc[i];
		size_t at = pl__dossier_find_id(d, c->id);
		char sid[ID_SHORT + sizeof(ELLIPSIS)];
		pl__dossier_id_short(sid, c->id);
		if (at == NO_ENTRY || !(d->e[at].rec->has & PL_RECORD_HAS_COMMIT)) {
			ret = pl__dossier_fail(
			        why, PL_ECOMMIT,
			        "disclosure of %s: the dossier holds no such record with a "
			        "commitment",
			        sid);
			goto out;
		}
		if (pl_box_disclosure_verify(d->e[at].rec->commit, c->salt, c->plaintext, c->len) !=
		    0) {
			ret = pl__dossier_fail(
			        why, PL_ECOMMIT,
			        "disclosure of %s: the plaintext and salt do not match the "
			        "record's "
			        "commitment",
			        sid);
			goto out;
		}
	}
out:
	return ret;
}

bool pl_dossier_error_is_evidence(int err)
{
	return err != 0 && err != PL_EMALFORMED && err != PL_ETOOBIG && err != PL_EINVAL &&
	       err != PL_ENOMEM;
}

void pl_dossier_report_free(struct pl_dossier_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ndisclosed; i++)
		free(r->disclosed[i].plaintext);
	free(r->disclosed);
	free(r->cosigners);
	for (size_t i = 0; r->events && i < r->nevents; i++)
		free(r->events[i].rec);
	free(r->events);
	free(r->verdicts);
	free(r);
}

int pl_dossier_verify(struct pl_dossier_report **out, const char *json, size_t len,
                      const struct pl_vkey *log_key, const struct pl_vkey *witnesses,
                      size_t nwitnesses, size_t quorum, struct pl_buf *why)
{
	struct dossier d = {0};
	struct pl_dossier_report *rep = NULL;
	struct pl_checkpoint *cp = NULL;
	size_t *thread = NULL, nthread = 0, nkeys = 0;
	int ret;

	if (!out || (!json && len) || quorum > nwitnesses || (nwitnesses && !witnesses)) {
		ret = PL_EINVAL;
		goto out;
	}
	for (size_t i = 0; i < nwitnesses; i++) {
		if (witnesses[i].type != PL_SIGTYPE_COSIG_V1) {
			ret = PL_EINVAL;
			goto out;
		}
	}
	rep = calloc(1, sizeof(*rep));
	cp = malloc(sizeof(*cp));
	if (!rep || !cp) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl__dossier_parse(&d, json ? json : "", len, why);
	if (ret != 0)
		goto out;
	if (log_key && !pl_vkey_equal(log_key, &d.log_key)) {
		ret = pl__dossier_fail(why, PL_ENOKEY,
		                       "log key: the dossier names %s, not the key given (%s)",
		                       d.log_key.name, log_key->name);
		goto out;
	}
	if (strcmp(d.log_key.name, d.origin) != 0) {
		ret = pl__dossier_fail(why, PL_EVERIFY, "log key: named %s, but the origin is %s",
		                       d.log_key.name, d.origin);
		goto out;
	}
	rep->log_key_pinned = log_key != NULL;
	rep->witnesses_required = quorum;
	ret = check_checkpoint(&d, cp, witnesses, nwitnesses, quorum, rep, why);
	if (ret == 0)
		ret = d.version == 1 ? check_tree(&d, cp, why) : check_tree_v2(&d, cp, why);
	if (ret != 0)
		goto out;
	for (size_t i = 0; i < d.ne; i++) {
		pl_record_id(d.e[i].id, d.e[i].msg, d.e[i].len);
		memcpy(d.by_id[i].id, d.e[i].id, PL_RECORD_ID_BYTES);
		d.by_id[i].pos = i;
		d.e[i].signer = NO_ENTRY;
	}
	qsort(d.by_id, d.ne, sizeof(*d.by_id), pl__dossier_cmp_by_id);
	for (size_t i = 1; i < d.ne; i++) {
		if (memcmp(d.by_id[i - 1].id, d.by_id[i].id, PL_RECORD_ID_BYTES) == 0) {
			ret = pl__dossier_fail(why, PL_EPROOF,
			                       "log #%llu and log #%llu hold the same record",
			                       (unsigned long long)d.e[d.by_id[i - 1].pos].index,
			                       (unsigned long long)d.e[d.by_id[i].pos].index);
			goto out;
		}
	}
	if (memcmp(d.e[d.subject_pos].id, d.subject, PL_RECORD_ID_BYTES) != 0) {
		ret = pl__dossier_fail(why, PL_EVERIFY,
		                       "subject: the dossier's subject is not the record at log "
		                       "#%llu, where the %s starts",
		                       (unsigned long long)d.start,
		                       d.version == 1 ? "window" : "thread");
		goto out;
	}
	rep->version = d.version == 1 ? PL_DOSSIER_VERSION_V1 : PL_DOSSIER_VERSION_V2;
	rep->indexed = d.version == 2;
	if (d.version == 1) {
		ret = check_records(&d, NULL, &thread, &nthread, &nkeys, why);
	} else {
		ret = open_index(&d, rep->index_root, why);
		if (ret == 0)
			ret = check_records(&d, rep->index_root, &thread, &nthread, &nkeys, why);
	}
	if (ret == 0)
		ret = check_disclosures(&d, why);
	if (ret != 0)
		goto out;
	qsort(thread, nthread, sizeof(*thread), cmp_size);
	ret = pl__dossier_report_build(rep, &d, thread, nthread, cp, nkeys, nwitnesses);
out:
	if (ret == 0) {
		*out = rep;
		rep = NULL;
	}
	pl_dossier_report_free(rep);
	free(thread);
	free(cp);
	pl__dossier_release(&d);
	return ret;
}
