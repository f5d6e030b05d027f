/* The one replay of the rules: a record's rules input gathered from the log before it. */
#include <parley/replay.h>

#include <stdio.h>
#include <stdlib.h>

#include <parley/note.h>

#include "internal.h"

#define NONE SIZE_MAX

/* ---- Gathering from a source ---- */

int pl_replay_gather(struct pl_replay_view *v, const struct pl_replay_source *src,
                     const struct pl_record *rec, const uint8_t id[static PL_RECORD_ID_BYTES],
                     unsigned flags, const char **why)
{
	enum pl_ref_role role = pl_record_target(rec);
	const char *w = NULL;
	int ret;

	memset(v, 0, sizeof(*v));
	v->src = src;
	v->rec = rec;
	v->id = id;
	v->about = -1;
	ret = src->head(src->arg, rec, &v->head, &v->head_index);
	if (ret == 0)
		v->has_head = true;
	else if (ret != PL_ENOTFOUND)
		goto out;
	for (size_t i = 0; i < rec->nrefs && i < PL_RECORD_MAX_REFS; i++) {
		ret = src->record(src->arg, rec->refs[i].id, &v->refs[i], &v->ref_index[i]);
		if (ret == PL_ENOTFOUND && !(flags & PL_REPLAY_STRICT))
			continue; /* the rules say "refers to a record not in the log" */
		if (ret == PL_ENOTFOUND)
			w = "refers to a record not in the log";
		if (ret)
			goto out;
		if (role && rec->refs[i].role == role && v->about < 0)
			v->about = (int)i;
	}
	if (v->about >= 0) {
		ret = src->siblings(src->arg, v->ref_index[v->about], rec->refs[v->about].id, role,
		                    &v->sib, &v->nsib);
		if (ret == PL_ETOOBIG) {
			ret = PL_ERULE;
			w = "too many records about this record";
		}
		if (ret)
			goto out;
	}
	v->signer = src->signer(src->arg, rec);
	for (size_t k = 0; k < rec->nkeys && k < PL_RECORD_MAX_KEYS; k++)
		v->keys[k] = src->key(src->arg, rec, k);
	if ((rec->kind == PL_KIND_REGISTER || rec->kind == PL_KIND_REVOKE) && src->party)
		src->party(src->arg, rec->party, &v->party_keys, &v->party_known);
	ret = 0;
out:
	if (ret) {
		pl_replay_view_release(v);
		if (why && w)
			*why = w;
	}
	return ret;
}

int pl_replay_check(const struct pl_replay_view *v, const char **why)
{
	struct pl_rules_input in;

	memset(&in, 0, sizeof(in));
	in.rec = v->rec;
	in.id = v->id;
	in.signer = v->signer;
	in.head = v->has_head ? &v->head : NULL;
	in.refs = (const struct pl_record *const *)v->refs;
	in.siblings = (const struct pl_record *const *)v->sib;
	in.nsiblings = v->nsib;
	in.keys = v->keys;
	in.party_keys = v->party_keys;
	in.party_known = v->party_known;
	if (v->src) {
		in.party_is_active = v->src->party_is_active;
		in.arg = v->src->arg;
	}
	return pl_rules_check(&in, why);
}

void pl_replay_view_release(struct pl_replay_view *v)
{
	for (size_t i = 0; i < PL_RECORD_MAX_REFS; i++)
		free(v->refs[i]);
	for (size_t i = 0; i < v->nsib; i++)
		free(v->sib[i]);
	free(v->sib);
	memset(v, 0, sizeof(*v));
	v->about = -1;
}

/* ---- A log in memory ---- */

/*
 * One record added: what a ref to it reads, its text when later rules read
 * its lines, and its place among the records about the same one.
 */
struct pl__replay_seen {
	uint8_t id[PL_RECORD_ID_BYTES];
	uint64_t index;
	int64_t time;
	enum pl_record_kind kind;
	size_t text_off, text_len; /* text_len 0: no text kept */
	size_t first_child;        /* the last record about this one (NONE) */
	size_t next_sibling;       /* the previous record about the same one (NONE) */
	size_t nreferrers;         /* records that refer to this one, by any role */
};

static size_t slot_of(const uint8_t *id, size_t nslots)
{
	uint64_t h;

	memcpy(&h, id, sizeof(h)); /* ids are SHA-256: any 8 bytes are uniform */
	return (size_t)(h & (nslots - 1));
}

static size_t seen_find(const struct pl_replay_log *l, const uint8_t *id)
{
	if (l->nslots == 0)
		return NONE;
	for (size_t i = slot_of(id, l->nslots);; i = (i + 1) & (l->nslots - 1)) {
		size_t at = l->slots[i];
		if (at == 0)
			return NONE;
		if (memcmp(l->seen[at - 1].id, id, PL_RECORD_ID_BYTES) == 0)
			return at - 1;
	}
}

static void slot_put(size_t *slots, size_t nslots, const uint8_t *id, size_t pos)
{
	size_t i = slot_of(id, nslots);

	while (slots[i] != 0)
		i = (i + 1) & (nslots - 1);
	slots[i] = pos + 1;
}

/* Makes room for one more record in seen and its index (at most half full). */
static int seen_grow(struct pl_replay_log *l)
{
	if (2 * (l->nseen + 1) > l->nslots) {
		size_t n = l->nslots ? 2 * l->nslots : 1024;
		size_t *s = calloc(n, sizeof(*s));
		if (!s)
			return PL_ENOMEM;
		for (size_t k = 0; k < l->nseen; k++)
			slot_put(s, n, l->seen[k].id, k);
		free(l->slots);
		l->slots = s;
		l->nslots = n;
	}
	if (l->nseen == l->capseen) {
		size_t cap = l->capseen ? 2 * l->capseen : 1024;
		struct pl__replay_seen *v = realloc(l->seen, cap * sizeof(*v));
		if (!v)
			return PL_ENOMEM;
		l->seen = v;
		l->capseen = cap;
	}
	return 0;
}

/* Copies text[0..len) to the arena; *off is where it starts. */
static int arena_keep(struct pl_replay_log *l, const char *text, size_t len, size_t *off)
{
	if (len > l->arena_cap - l->arena_len) {
		size_t cap = l->arena_cap ? l->arena_cap : 1u << 20;
		char *g;
		while (len > cap - l->arena_len)
			cap *= 2;
		g = realloc(l->arena, cap);
		if (!g)
			return PL_ENOMEM;
		l->arena = g;
		l->arena_cap = cap;
	}
	memcpy(l->arena + l->arena_len, text, len);
	*off = l->arena_len;
	l->arena_len += len;
	return 0;
}

/*
 * Records whose lines later rules read: a send, consult, check or group, the
 * records about one, a register (the party a `ref previous` names), and a
 * measure (whose author and class a reciprocation is judged on).
 */
static bool keeps_text(const struct pl_record *r)
{
	enum pl_record_kind k = r->kind;

	if (k == PL_KIND_STATEMENT)
		return (r->has & PL_RECORD_HAS_CLASS) && r->cls == PL_CLASS_MEASURE;
	return k != PL_KIND_REVOKE && k != PL_KIND_INDEX;
}

/*
 * The record at pos as the rules read it, in a new record: parsed again from
 * its kept text (it opened when it was added), or for a kind that keeps none
 * one with only its kind, time and exchange, all a ref to it is judged on.
 */
static int seen_load(const struct pl_replay_log *l, size_t pos, struct pl_record **out)
{
	const struct pl__replay_seen *x = &l->seen[pos];
	struct pl_record *r = calloc(1, sizeof(*r));
	struct pl_note *n = NULL;
	int ret = 0;

	if (!r) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (x->text_len == 0) {
		r->kind = x->kind;
		r->time = x->time;
		snprintf(r->exchange, sizeof(r->exchange), "%s", l->dir.origin);
		goto out;
	}
	ret = pl_note_parse(&n, l->arena + x->text_off, x->text_len);
	if (ret == 0)
		ret = pl_record_parse(r, n->text, n->text_len, NULL);
out:
	pl_note_free(n);
	if (ret == 0)
		*out = r;
	else
		free(r);
	return ret;
}

int pl_replay_log_init(struct pl_replay_log *l, const struct pl_vkey *log_key, size_t extra_size)
{
	memset(l, 0, sizeof(*l));
	return pl_directory_init(&l->dir, log_key, extra_size, PL_DIRECTORY_MAX_KEYS);
}

void pl_replay_log_release(struct pl_replay_log *l)
{
	if (!l)
		return;
	pl_directory_release(&l->dir);
	free(l->seen);
	free(l->slots);
	free(l->arena);
	memset(l, 0, sizeof(*l));
}

bool pl_replay_log_find(const struct pl_replay_log *l, const uint8_t id[static PL_RECORD_ID_BYTES],
                        uint64_t *index)
{
	size_t at = seen_find(l, id);

	if (at != NONE && index)
		*index = l->seen[at].index;
	return at != NONE;
}

/* True when rec names id in one of its refs before refs[k]: a referrer counts once. */
static bool ref_repeats(const struct pl_record *rec, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		if (memcmp(rec->refs[i].id, rec->refs[k].id, PL_RECORD_ID_BYTES) == 0)
			return true;
	}
	return false;
}

int pl_replay_log_add(struct pl_replay_log *l, const struct pl_record *rec,
                      const uint8_t id[static PL_RECORD_ID_BYTES], uint64_t index, size_t signer,
                      const char *text, size_t len)
{
	enum pl_ref_role role = pl_record_target(rec);
	struct pl__replay_seen *x;
	size_t about = NONE, off = 0;
	int ret;

	if (seen_find(l, id) != NONE) {
		ret = PL_EEXIST;
		goto out;
	}
	if (signer >= l->dir.n) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = seen_grow(l);
	if (ret == 0 && keeps_text(rec))
		ret = arena_keep(l, text, len, &off);
	if (ret)
		goto out;
	for (size_t i = 0; i < rec->nrefs && i < PL_RECORD_MAX_REFS; i++) {
		size_t at = seen_find(l, rec->refs[i].id);
		if (at == NONE || ref_repeats(rec, i))
			continue;
		l->seen[at].nreferrers++;
		if (role && rec->refs[i].role == role && about == NONE)
			about = at;
	}
	x = &l->seen[l->nseen];
	memset(x, 0, sizeof(*x));
	memcpy(x->id, id, PL_RECORD_ID_BYTES);
	x->index = index;
	x->time = rec->time;
	x->kind = rec->kind;
	x->text_off = off;
	x->text_len = keeps_text(rec) ? len : 0;
	x->first_child = NONE;
	x->next_sibling = NONE;
	if (about != NONE) {
		x->next_sibling = l->seen[about].first_child;
		l->seen[about].first_child = l->nseen;
	}
	slot_put(l->slots, l->nslots, id, l->nseen);
	l->nseen++;
	pl_directory_advance(&l->dir, signer, rec, id);
	ret = pl_directory_apply(&l->dir, rec);
out:
	return ret;
}

/* ---- The log in memory as a source ---- */

/* A source over l for one record, signed by the key at position signer. */
struct log_source {
	const struct pl_replay_log *l;
	size_t signer;
	bool own_head;                    /* the caller's head, not the directory's */
	const struct pl_chain_link *head; /* own_head: the caller's, NULL for none */
};

static int log_record(void *arg, const uint8_t id[static PL_RECORD_ID_BYTES],
                      struct pl_record **rec, uint64_t *index)
{
	const struct log_source *c = arg;
	size_t at = seen_find(c->l, id);
	int ret = PL_ENOTFOUND;

	if (at != NONE)
		ret = seen_load(c->l, at, rec);
	if (ret == 0)
		*index = c->l->seen[at].index;
	return ret;
}

static int log_head(void *arg, const struct pl_record *rec, struct pl_chain_link *head,
                    uint64_t *index)
{
	const struct log_source *c = arg;
	const struct pl_directory_state *st = &c->l->dir.state[c->signer];
	size_t at;

	(void)rec;
	if (c->own_head) {
		if (!c->head)
			return PL_ENOTFOUND;
		*head = *c->head;
		at = seen_find(c->l, c->head->id);
		*index = at == NONE ? 0 : c->l->seen[at].index;
		return 0;
	}
	if (!st->has_head)
		return PL_ENOTFOUND;
	*head = st->head;
	at = seen_find(c->l, st->head.id);
	*index = at == NONE ? 0 : c->l->seen[at].index;
	return 0;
}

static int log_siblings(void *arg, uint64_t index, const uint8_t id[static PL_RECORD_ID_BYTES],
                        enum pl_ref_role role, struct pl_record ***sib, size_t *n)
{
	const struct log_source *c = arg;
	const struct pl_replay_log *l = c->l;
	size_t at = seen_find(l, id), k = 0, cap;
	struct pl_record **v = NULL;
	int ret = 0;

	(void)index;
	if (at == NONE) {
		ret = PL_ENOTFOUND;
		goto out;
	}
	if (l->seen[at].nreferrers > PL_RULES_MAX_SIBLINGS) {
		ret = PL_ETOOBIG;
		goto out;
	}
	/* Each record about this one is among the records that refer to it. */
	cap = l->seen[at].nreferrers;
	v = calloc(cap ? cap : 1, sizeof(*v));
	if (!v) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (size_t s = l->seen[at].first_child; s != NONE && k < cap;
	     s = l->seen[s].next_sibling) {
		const struct pl_record_ref *ref;
		ret = seen_load(l, s, &v[k]);
		if (ret)
			break;
		ref = pl_record_ref_find(v[k], role);
		if (ref && memcmp(ref->id, id, PL_RECORD_ID_BYTES) == 0)
			k++;
		else
			free(v[k]);
	}
out:
	if (ret == 0) {
		*sib = v;
		*n = k;
	} else {
		for (size_t i = 0; i < k; i++)
			free(v[i]);
		free(v);
	}
	return ret;
}

static enum pl_key_status log_signer(void *arg, const struct pl_record *rec)
{
	const struct log_source *c = arg;

	(void)rec;
	return c->l->dir.state[c->signer].status;
}

static enum pl_key_status log_key(void *arg, const struct pl_record *rec, size_t k)
{
	const struct log_source *c = arg;

	return pl_directory_status(&c->l->dir, &rec->keys[k]);
}

static bool log_party_is_active(void *arg, const char *party)
{
	const struct log_source *c = arg;

	/* The directory callback only reads: it takes the rules' void *. */
	return pl_directory_party_is_active((void *)&c->l->dir, party);
}

static void log_party(void *arg, const char *party, size_t *active, bool *known)
{
	const struct log_source *c = arg;

	pl_directory_party_keys(&c->l->dir, party, active, known);
}

/* Gathers from the log what the rules read before rec, and judges rec by them. */
static int judge_with(struct log_source *c, const struct pl_record *rec,
                      const uint8_t id[static PL_RECORD_ID_BYTES], bool parties, const char **why)
{
	const struct pl_replay_log *l = c->l;
	size_t signer = c->signer;
	struct pl_replay_source src = {
	        .record = log_record,
	        .head = log_head,
	        .siblings = log_siblings,
	        .signer = log_signer,
	        .key = log_key,
	        .party_is_active = parties ? log_party_is_active : NULL,
	        .party = log_party,
	        .arg = c,
	};
	struct pl_replay_view v;
	int ret;

	if (signer >= l->dir.n) {
		if (why)
			*why = "the signer is not in the directory";
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_replay_gather(&v, &src, rec, id, 0, why);
	if (ret == 0)
		ret = pl_replay_check(&v, why);
	pl_replay_view_release(&v);
out:
	return ret;
}

int pl_replay_log_judge(const struct pl_replay_log *l, const struct pl_record *rec,
                        const uint8_t id[static PL_RECORD_ID_BYTES], size_t signer, bool parties,
                        const char **why)
{
	struct log_source c = {.l = l, .signer = signer};

	return judge_with(&c, rec, id, parties, why);
}

int pl_replay_log_judge_head(const struct pl_replay_log *l, const struct pl_record *rec,
                             const uint8_t id[static PL_RECORD_ID_BYTES], size_t signer,
                             const struct pl_chain_link *head, bool parties, const char **why)
{
	struct log_source c = {.l = l, .signer = signer, .own_head = true, .head = head};

	return judge_with(&c, rec, id, parties, why);
}
