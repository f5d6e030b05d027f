/* The key directory replayed from a log, shared by every verifier that walks records in order. */
#include <parley/directory.h>

#include <stdalign.h>
#include <stdlib.h>

#include <parley/replay.h>

#include "internal.h"

/* Makes room for one more key: the arrays grow together, so a failure leaves d as it was. */
static int grow(struct pl_directory *d)
{
	size_t cap = d->cap ? 2 * d->cap : 16;
	struct pl_vkey *keys;
	struct pl_directory_state *state;
	unsigned char *extra;

	if (cap > d->max)
		cap = d->max;
	keys = realloc(d->keys, cap * sizeof(*keys));
	if (!keys)
		return PL_ENOMEM;
	d->keys = keys;
	state = realloc(d->state, cap * sizeof(*state));
	if (!state)
		return PL_ENOMEM;
	d->state = state;
	if (d->stride) {
		extra = realloc(d->extra, cap * d->stride);
		if (!extra)
			return PL_ENOMEM;
		d->extra = extra;
	}
	d->cap = cap;
	return 0;
}

/* Gives the key k the status st, adding it when d does not hold it yet. */
static int set_status(struct pl_directory *d, const struct pl_vkey *k, enum pl_key_status st)
{
	size_t at = pl_directory_find(d, k->name, k->id);
	int ret = 0;

	if (at != PL_DIRECTORY_NONE) {
		d->state[at].status = st;
		goto out;
	}
	if (d->n == d->max) {
		ret = PL_ETOOBIG;
		goto out;
	}
	if (d->n == d->cap && (ret = grow(d)) != 0)
		goto out;
	d->keys[d->n] = *k;
	memset(&d->state[d->n], 0, sizeof(d->state[0]));
	d->state[d->n].status = st;
	if (d->stride)
		memset(d->extra + d->n * d->stride, 0, d->stride);
	d->n++;
out:
	return ret;
}

int pl_directory_init(struct pl_directory *d, const struct pl_vkey *log_key, size_t extra_size,
                      size_t max_keys)
{
	size_t n = strnlen(log_key->name, sizeof(log_key->name));
	/* Blocks of extra state start at multiples of the strictest alignment. */
	size_t align = alignof(max_align_t);
	int ret = 0;

	memset(d, 0, sizeof(*d));
	if (n > PL_RECORD_ORIGIN_MAX || !pl_record_origin_is_valid(log_key->name, n) ||
	    extra_size > SIZE_MAX / 2 / PL_DIRECTORY_MAX_KEYS || max_keys == 0 ||
	    max_keys > PL_DIRECTORY_MAX_KEYS) {
		ret = PL_EINVAL;
		goto out;
	}
	memcpy(d->origin, log_key->name, n + 1);
	d->max = max_keys;
	d->extra_size = extra_size;
	d->stride = (extra_size + align - 1) / align * align;
	ret = set_status(d, log_key, PL_KEY_ACTIVE);
out:
	if (ret != 0)
		pl_directory_release(d);
	return ret;
}

void pl_directory_release(struct pl_directory *d)
{
	if (!d)
		return;
	free(d->keys);
	free(d->state);
	free(d->extra);
	memset(d, 0, sizeof(*d));
}

size_t pl_directory_find(const struct pl_directory *d, const char *name,
                         const uint8_t id[static PL_KEYID_BYTES])
{
	for (size_t i = 0; i < d->n; i++) {
		if (memcmp(d->keys[i].id, id, PL_KEYID_BYTES) == 0 &&
		    strcmp(d->keys[i].name, name) == 0)
			return i;
	}
	return PL_DIRECTORY_NONE;
}

enum pl_key_status pl_directory_status(const struct pl_directory *d, const struct pl_vkey *k)
{
	size_t at = pl_directory_find(d, k->name, k->id);

	return at == PL_DIRECTORY_NONE ? PL_KEY_UNKNOWN : d->state[at].status;
}

bool pl_directory_party_is_active(void *arg, const char *party)
{
	const struct pl_directory *d = arg;
	char name[PL_KEY_NAME_MAX + 1];

	if (pl_record_key_name(name, d->origin, party) != 0)
		return false;
	for (size_t i = 0; i < d->n; i++) {
		if (d->state[i].status == PL_KEY_ACTIVE && strcmp(d->keys[i].name, name) == 0)
			return true;
	}
	return false;
}

void pl_directory_party_keys(const struct pl_directory *d, const char *party, size_t *active,
                             bool *known)
{
	char name[PL_KEY_NAME_MAX + 1];

	*active = 0;
	*known = false;
	if (pl_record_key_name(name, d->origin, party) != 0)
		return;
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->keys[i].name, name) != 0)
			continue;
		*known = true;
		*active += d->state[i].status == PL_KEY_ACTIVE;
	}
}

int pl_directory_apply(struct pl_directory *d, const struct pl_record *r)
{
	enum pl_key_status st = r->kind == PL_KIND_REGISTER ? PL_KEY_ACTIVE : PL_KEY_REVOKED;
	int ret = 0;

	if (r->kind != PL_KIND_REGISTER && r->kind != PL_KIND_REVOKE)
		goto out;
	for (size_t i = 0; ret == 0 && i < r->nkeys && i < PL_RECORD_MAX_KEYS; i++)
		ret = set_status(d, &r->keys[i], st);
out:
	return ret;
}

void pl_directory_advance(struct pl_directory *d, size_t at, const struct pl_record *r,
                          const uint8_t id[static PL_RECORD_ID_BYTES])
{
	if (at >= d->n)
		return;
	pl_chain_link_set(&d->state[at].head, r, id);
	d->state[at].has_head = true;
}

void *pl_directory_extra(const struct pl_directory *d, size_t at)
{
	if (d->extra_size == 0 || at >= d->n)
		return NULL;
	return d->extra + at * d->stride;
}

/* The directory and the records a caller kept, as the replay's source for one record. */
struct dir_source {
	const struct pl_directory *d;
	size_t signer;
	const struct pl_rules_input *in;
};

/* A copy of r (NULL stays NULL) in *out; PL_ENOMEM. */
static int dir_copy(const struct pl_record *r, struct pl_record **out)
{
	struct pl_record *c = NULL;

	if (r) {
		c = malloc(sizeof(*c));
		if (!c)
			return PL_ENOMEM;
		memcpy(c, r, sizeof(*c));
	}
	*out = c;
	return 0;
}

static int dir_record(void *arg, const uint8_t id[static PL_RECORD_ID_BYTES],
                      struct pl_record **rec, uint64_t *index)
{
	const struct dir_source *c = arg;
	const struct pl_record *r = c->in->rec;

	for (size_t i = 0; i < r->nrefs; i++) {
		if (memcmp(r->refs[i].id, id, PL_RECORD_ID_BYTES) == 0 && c->in->refs[i]) {
			*index = i;
			return dir_copy(c->in->refs[i], rec);
		}
	}
	return PL_ENOTFOUND;
}

static int dir_head(void *arg, const struct pl_record *rec, struct pl_chain_link *head,
                    uint64_t *index)
{
	const struct dir_source *c = arg;

	(void)rec;
	if (!c->d->state[c->signer].has_head)
		return PL_ENOTFOUND;
	*head = c->d->state[c->signer].head;
	*index = 0;
	return 0;
}

/* The caller's siblings, as it gave them (the rules refuse one that does not fit). */
static int dir_siblings(void *arg, uint64_t index, const uint8_t id[static PL_RECORD_ID_BYTES],
                        enum pl_ref_role role, struct pl_record ***sib, size_t *n)
{
	const struct dir_source *c = arg;
	struct pl_record **v = calloc(c->in->nsiblings ? c->in->nsiblings : 1, sizeof(*v));
	size_t k = 0;
	int ret = v ? 0 : PL_ENOMEM;

	(void)index;
	(void)id;
	(void)role;
	for (; ret == 0 && k < c->in->nsiblings; k++)
		ret = dir_copy(c->in->siblings[k], &v[k]);
	if (ret == 0) {
		*sib = v;
		*n = k;
	} else {
		for (size_t i = 0; v && i < k; i++)
			free(v[i]);
		free(v);
	}
	return ret;
}

static enum pl_key_status dir_signer(void *arg, const struct pl_record *rec)
{
	const struct dir_source *c = arg;

	(void)rec;
	return c->d->state[c->signer].status;
}

static enum pl_key_status dir_key(void *arg, const struct pl_record *rec, size_t k)
{
	const struct dir_source *c = arg;

	return pl_directory_status(c->d, &rec->keys[k]);
}

static bool dir_party_is_active(void *arg, const char *party)
{
	const struct dir_source *c = arg;

	return pl_directory_party_is_active((void *)c->d, party);
}

static void dir_party(void *arg, const char *party, size_t *active, bool *known)
{
	const struct dir_source *c = arg;

	pl_directory_party_keys(c->d, party, active, known);
}

int pl_directory_judge(const struct pl_directory *d, size_t signer, const struct pl_rules_input *in,
                       bool parties, const char **why)
{
	struct dir_source c = {.d = d, .signer = signer, .in = in};
	struct pl_replay_source src = {
	        .record = dir_record,
	        .head = dir_head,
	        .siblings = dir_siblings,
	        .signer = dir_signer,
	        .key = dir_key,
	        .party_is_active = parties ? dir_party_is_active : NULL,
	        .party = dir_party,
	        .arg = &c,
	};
	struct pl_replay_view v;
	const char *w = "incomplete rules input";
	int ret = PL_EINVAL;

	if (signer >= d->n || !in->rec || in->rec->nkeys > PL_RECORD_MAX_KEYS) {
		w = "the signer is not in the directory, or no record";
		goto out;
	}
	if (!in->id || (in->rec->nrefs && !in->refs) || (in->nsiblings && !in->siblings))
		goto out;
	/* The replay reads the directory, and the records the caller kept, as its log. */
	w = NULL;
	ret = pl_replay_gather(&v, &src, in->rec, in->id, 0, &w);
	if (ret == 0)
		ret = pl_replay_check(&v, &w);
	pl_replay_view_release(&v);
out:
	if (ret != 0 && why && w)
		*why = w;
	return ret;
}
