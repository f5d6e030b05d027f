/* The key directory replayed from a log, shared by every verifier that walks records in order. */
#include <parley/directory.h>

#include <stdalign.h>
#include <stdlib.h>

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

int pl_directory_judge(const struct pl_directory *d, size_t signer, const struct pl_rules_input *in,
                       bool parties, const char **why)
{
	enum pl_key_status keys[PL_RECORD_MAX_KEYS];
	struct pl_rules_input x;
	int ret;

	if (signer >= d->n || !in->rec || in->rec->nkeys > PL_RECORD_MAX_KEYS) {
		if (why)
			*why = "the signer is not in the directory, or no record";
		ret = PL_EINVAL;
		goto out;
	}
	for (size_t i = 0; i < in->rec->nkeys; i++)
		keys[i] = pl_directory_status(d, &in->rec->keys[i]);
	memset(&x, 0, sizeof(x));
	x.rec = in->rec;
	x.id = in->id;
	x.refs = in->refs;
	x.siblings = in->siblings;
	x.nsiblings = in->nsiblings;
	x.signer = d->state[signer].status;
	x.head = d->state[signer].has_head ? &d->state[signer].head : NULL;
	x.keys = keys;
	if (parties) {
		x.party_is_active = pl_directory_party_is_active;
		x.arg = (void *)d; /* only read: the callback takes the rules' void * */
	}
	ret = pl_rules_check(&x, why);
out:
	return ret;
}
