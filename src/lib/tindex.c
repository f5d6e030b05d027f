/* The thread index: a canonical compressed sparse Merkle map, batched updates, proofs, text. */
#include <parley/tindex.h>

#include <stdlib.h>

#include <sodium.h>

#include "internal.h"

#define MAX_INDEX ((uint64_t)INT64_MAX)
#define MAX_DEPTH PL_TINDEX_MAX_DEPTH

#define TAG_PATH  "parley-tindex-v1-path"
#define TAG_ENTRY "parley-tindex-v1-entry"
#define TAG_LEAF  "parley-tindex-v1-leaf"
#define TAG_NODE  "parley-tindex-v1-node"
#define TAGLEN(t) (sizeof(t) - 1)

/* E = SHA-256("parley-tindex-v1-empty"); the unit test recomputes it. */
static const uint8_t empty_hash[PL_HASH_BYTES] = {0x79, 0xbc, 0xb5, 0xca, 0x33, 0xc9, 0xad, 0x83,
                                                  0x83, 0xa2, 0xde, 0x48, 0xfb, 0xb4, 0xfb, 0xc5,
                                                  0x4d, 0x62, 0xb6, 0x89, 0x2f, 0x47, 0x9e, 0x0e,
                                                  0x15, 0x45, 0xd0, 0x31, 0x84, 0xbb, 0xb4, 0xaa};

static const uint8_t zero_hash[PL_HASH_BYTES];

struct pl_tindex {
	struct pl_tindex_store s;
	uint8_t root[PL_HASH_BYTES];
	bool broken; /* a put failed mid-batch: the store no longer matches root */
};

static bool is_empty(const uint8_t h[static PL_HASH_BYTES])
{
	return memcmp(h, empty_hash, PL_HASH_BYTES) == 0;
}

static void path_of(uint8_t out[static PL_HASH_BYTES], const uint8_t key[static PL_HASH_BYTES])
{
	uint8_t in[TAGLEN(TAG_PATH) + PL_HASH_BYTES];

	memcpy(in, TAG_PATH, TAGLEN(TAG_PATH));
	memcpy(in + TAGLEN(TAG_PATH), key, PL_HASH_BYTES);
	crypto_hash_sha256(out, in, sizeof(in));
}

/* chain = SHA-256(TAG_ENTRY || chain || be64(index) || id); chain is updated in place. */
static void chain_next(uint8_t chain[static PL_HASH_BYTES], uint64_t index,
                       const uint8_t id[static PL_HASH_BYTES])
{
	uint8_t in[TAGLEN(TAG_ENTRY) + PL_HASH_BYTES + 8 + PL_HASH_BYTES];
	uint8_t *p = in;

	memcpy(p, TAG_ENTRY, TAGLEN(TAG_ENTRY));
	p += TAGLEN(TAG_ENTRY);
	memcpy(p, chain, PL_HASH_BYTES);
	p += PL_HASH_BYTES;
	pl__put_be64(p, index);
	p += 8;
	memcpy(p, id, PL_HASH_BYTES);
	crypto_hash_sha256(chain, in, sizeof(in));
}

static void leaf_hash(uint8_t out[static PL_HASH_BYTES], const uint8_t path[static PL_HASH_BYTES],
                      const uint8_t chain[static PL_HASH_BYTES])
{
	uint8_t in[TAGLEN(TAG_LEAF) + 2 * PL_HASH_BYTES];

	memcpy(in, TAG_LEAF, TAGLEN(TAG_LEAF));
	memcpy(in + TAGLEN(TAG_LEAF), path, PL_HASH_BYTES);
	memcpy(in + TAGLEN(TAG_LEAF) + PL_HASH_BYTES, chain, PL_HASH_BYTES);
	crypto_hash_sha256(out, in, sizeof(in));
}

/* out may alias left or right. */
static void node_hash(uint8_t out[static PL_HASH_BYTES], const uint8_t left[static PL_HASH_BYTES],
                      const uint8_t right[static PL_HASH_BYTES])
{
	uint8_t in[TAGLEN(TAG_NODE) + 2 * PL_HASH_BYTES];

	memcpy(in, TAG_NODE, TAGLEN(TAG_NODE));
	memcpy(in + TAGLEN(TAG_NODE), left, PL_HASH_BYTES);
	memcpy(in + TAGLEN(TAG_NODE) + PL_HASH_BYTES, right, PL_HASH_BYTES);
	crypto_hash_sha256(out, in, sizeof(in));
}

static void stored_hash(uint8_t out[static PL_HASH_BYTES], const struct pl_tindex_node *n)
{
	if (n->is_leaf)
		leaf_hash(out, n->path, n->chain);
	else
		node_hash(out, n->left, n->right);
}

/* Bit d of a path, most significant first. */
static unsigned bit_at(const uint8_t p[static PL_HASH_BYTES], unsigned d)
{
	return (p[d >> 3] >> (7 - (d & 7))) & 1u;
}

static void set_bit(uint8_t p[static PL_HASH_BYTES], unsigned d)
{
	p[d >> 3] |= (uint8_t)(0x80u >> (d & 7));
}

/* True when the first d bits of a and b are equal. */
static bool same_prefix(const uint8_t a[static PL_HASH_BYTES],
                        const uint8_t b[static PL_HASH_BYTES], unsigned d)
{
	unsigned full = d >> 3, rest = d & 7;

	if (memcmp(a, b, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ b[full]) >> (8 - rest)) == 0;
}

/*
 * Reads the node at (depth, prefix) that a parent names by a non-empty hash:
 * it must be there, and a leaf must lie below its place.
 */
static int read_child(const struct pl_tindex *t, unsigned depth,
                      const uint8_t prefix[static PL_HASH_BYTES], struct pl_tindex_node *out)
{
	int ret = t->s.get(t->s.ctx, depth, prefix, out);

	if (ret == PL_ENOTFOUND)
		ret = PL_ESTORE;
	else if (ret == 0 && ((out->is_leaf && !same_prefix(out->path, prefix, depth)) ||
	                      (!out->is_leaf && depth >= MAX_DEPTH)))
		ret = PL_ESTORE;
	return ret;
}

/* Reads the root node: 0 with *node, or 1 for an empty map, or an error. */
static int read_root(const struct pl_tindex *t, struct pl_tindex_node *node)
{
	int ret = t->s.get(t->s.ctx, 0, zero_hash, node);

	return ret == PL_ENOTFOUND ? 1 : ret;
}

int pl_tindex_open(struct pl_tindex **out, const struct pl_tindex_store *s)
{
	struct pl_tindex_node node;
	struct pl_tindex *t = NULL;
	int ret;

	if (out == NULL || s == NULL || s->get == NULL || s->put == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		ret = PL_ENOMEM;
		goto out;
	}
	t->s = *s;
	ret = read_root(t, &node);
	if (ret < 0)
		goto out;
	if (ret == 1)
		memcpy(t->root, empty_hash, PL_HASH_BYTES);
	else
		stored_hash(t->root, &node);
	*out = t;
	t = NULL;
	ret = 0;
out:
	free(t);
	return ret;
}

void pl_tindex_free(struct pl_tindex *t)
{
	free(t);
}

void pl_tindex_root(const struct pl_tindex *t, uint8_t out[static PL_HASH_BYTES])
{
	memcpy(out, t->root, PL_HASH_BYTES);
}

/* One reference of a batch, with its key's path. */
struct item {
	uint8_t path[PL_HASH_BYTES];
	const struct pl_tindex_ref *ref;
};

/* The references of one key: items[first .. first + count), in log order. */
struct group {
	const uint8_t *path;
	size_t first, count;
};

/* A node to put once the whole batch is computed. */
struct write {
	unsigned depth;
	uint8_t prefix[PL_HASH_BYTES];
	struct pl_tindex_node node;
};

struct batch {
	const struct pl_tindex *t;
	const struct item *items;
	struct write *writes;
	size_t nwrites, capwrites;
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = memcmp(x->path, y->path, PL_HASH_BYTES);

	if (c == 0)
		c = x->ref->index < y->ref->index ? -1 : x->ref->index > y->ref->index;
	return c;
}

static int queue_write(struct batch *b, unsigned depth, const uint8_t prefix[static PL_HASH_BYTES],
                       const struct pl_tindex_node *node)
{
	int ret = 0;

	if (b->nwrites == b->capwrites) {
		size_t cap = b->capwrites ? 2 * b->capwrites : 256;
		struct write *w = realloc(b->writes, cap * sizeof(*w));
		if (w == NULL) {
			ret = PL_ENOMEM;
			goto out;
		}
		b->writes = w;
		b->capwrites = cap;
	}
	b->writes[b->nwrites].depth = depth;
	memcpy(b->writes[b->nwrites].prefix, prefix, PL_HASH_BYTES);
	b->writes[b->nwrites].node = *node;
	b->nwrites++;
out:
	return ret;
}

/* Appends group g to the leaf cur (NULL: a new leaf), placed at (depth, prefix). */
static int extend_leaf(struct batch *b, unsigned depth, const uint8_t prefix[static PL_HASH_BYTES],
                       const struct group *g, const struct pl_tindex_node *cur,
                       uint8_t out[static PL_HASH_BYTES])
{
	struct pl_tindex_node n;
	int ret;

	if (cur != NULL) {
		n = *cur;
	} else {
		memset(&n, 0, sizeof(n));
		n.is_leaf = true;
		memcpy(n.path, g->path, PL_HASH_BYTES);
	}
	if (n.count + g->count > PL_TINDEX_MAX_ENTRIES) {
		ret = PL_ETOOBIG;
		goto out;
	}
	for (size_t i = 0; i < g->count; i++) {
		const struct pl_tindex_ref *r = b->items[g->first + i].ref;
		if (n.count > 0 && r->index <= n.last) {
			ret = PL_EINVAL;
			goto out;
		}
		chain_next(n.chain, r->index, r->id);
		n.last = r->index;
		n.count++;
	}
	ret = queue_write(b, depth, prefix, &n);
	if (ret == 0)
		leaf_hash(out, n.path, n.chain);
out:
	return ret;
}

/*
 * The new hash of the subtree at (depth, prefix), whose current content is
 * cur (NULL: empty), after adding groups g[0..n), n >= 1, all below this
 * place. Queues a write for every node that changes or moves. Each place is
 * visited at most once per batch, so no read needs an earlier write.
 */
static int update_subtree(struct batch *b, unsigned depth,
                          const uint8_t prefix[static PL_HASH_BYTES], const struct group *g,
                          size_t n, const struct pl_tindex_node *cur,
                          uint8_t out[static PL_HASH_BYTES])
{
	struct pl_tindex_node node, child;
	size_t split = 0;
	int ret = 0;

	if ((cur == NULL && n == 1) || (cur != NULL && cur->is_leaf && n == 1 &&
	                                memcmp(cur->path, g[0].path, PL_HASH_BYTES) == 0)) {
		ret = extend_leaf(b, depth, prefix, &g[0], cur, out);
		goto out;
	}
	/* Two keys or more below: an interior node. Distinct paths split before depth 256. */
	if (depth >= MAX_DEPTH) {
		ret = PL_ESTORE;
		goto out;
	}
	while (split < n && bit_at(g[split].path, depth) == 0)
		split++;
	memset(&node, 0, sizeof(node));
	for (unsigned side = 0; side < 2 && ret == 0; side++) {
		const struct group *gs = side ? g + split : g;
		size_t ns = side ? n - split : split;
		uint8_t *h = side ? node.right : node.left;
		const struct pl_tindex_node *cc = NULL;
		uint8_t cp[PL_HASH_BYTES];

		memcpy(cp, prefix, PL_HASH_BYTES);
		if (side)
			set_bit(cp, depth);
		if (cur == NULL) {
			memcpy(h, empty_hash, PL_HASH_BYTES);
		} else if (cur->is_leaf) {
			/* The leaf moves one level down, to its side. */
			if (bit_at(cur->path, depth) == side) {
				cc = cur;
				if (ns == 0) {
					leaf_hash(h, cur->path, cur->chain);
					ret = queue_write(b, depth + 1, cp, cur);
				}
			} else {
				memcpy(h, empty_hash, PL_HASH_BYTES);
			}
		} else {
			memcpy(h, side ? cur->right : cur->left, PL_HASH_BYTES);
			if (ns > 0 && !is_empty(h)) {
				ret = read_child(b->t, depth + 1, cp, &child);
				cc = &child;
			}
		}
		if (ret == 0 && ns > 0)
			ret = update_subtree(b, depth + 1, cp, gs, ns, cc, h);
	}
	if (ret == 0)
		ret = queue_write(b, depth, prefix, &node);
	if (ret == 0)
		node_hash(out, node.left, node.right);
out:
	return ret;
}

int pl_tindex_update(struct pl_tindex *t, const struct pl_tindex_ref *refs, size_t n)
{
	struct batch b = {0};
	struct item *items = NULL;
	struct group *groups = NULL;
	struct pl_tindex_node root;
	uint8_t newroot[PL_HASH_BYTES];
	size_t ngroups = 0;
	int ret;

	if (t == NULL || refs == NULL || n == 0 || n > PL_TINDEX_MAX_BATCH) {
		ret = PL_EINVAL;
		goto out;
	}
	if (t->broken) {
		ret = PL_ESTATE;
		goto out;
	}
	items = calloc(n, sizeof(*items));
	groups = calloc(n, sizeof(*groups));
	if (items == NULL || groups == NULL) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (refs[i].index > MAX_INDEX) {
			ret = PL_EINVAL;
			goto out;
		}
		/* Refs of one key usually come together: hash its path once. */
		if (i > 0 && memcmp(refs[i].key, refs[i - 1].key, PL_HASH_BYTES) == 0)
			memcpy(items[i].path, items[i - 1].path, PL_HASH_BYTES);
		else
			path_of(items[i].path, refs[i].key);
		items[i].ref = &refs[i];
	}
	qsort(items, n, sizeof(*items), item_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && memcmp(items[i].path, items[i - 1].path, PL_HASH_BYTES) == 0) {
			/* Sorted by index within a key: equal neighbours are one record twice. */
			if (items[i].ref->index == items[i - 1].ref->index) {
				ret = PL_EINVAL;
				goto out;
			}
			groups[ngroups - 1].count++;
			continue;
		}
		groups[ngroups].path = items[i].path;
		groups[ngroups].first = i;
		groups[ngroups].count = 1;
		ngroups++;
	}
	b.t = t;
	b.items = items;
	ret = read_root(t, &root);
	if (ret < 0)
		goto out;
	ret = update_subtree(&b, 0, zero_hash, groups, ngroups, ret == 1 ? NULL : &root, newroot);
	if (ret != 0)
		goto out;
	for (size_t i = 0; i < b.nwrites; i++) {
		ret = t->s.put(t->s.ctx, b.writes[i].depth, b.writes[i].prefix, &b.writes[i].node);
		if (ret != 0) {
			t->broken = i > 0;
			goto out;
		}
	}
	memcpy(t->root, newroot, PL_HASH_BYTES);
out:
	free(b.writes);
	free(groups);
	free(items);
	return ret;
}

/* Where a walk along a path ends. */
enum stop { STOP_EMPTY, STOP_LEAF };

/*
 * Walks from the root along path: *depth is the depth reached, *stop what is
 * there (the leaf in *leaf for STOP_LEAF, which may be another key's), and
 * siblings[d] (when siblings is not NULL) the sibling hash at each depth d
 * above it.
 */
static int walk(const struct pl_tindex *t, const uint8_t path[static PL_HASH_BYTES],
                unsigned *depth, enum stop *stop, struct pl_tindex_node *leaf,
                uint8_t (*siblings)[PL_HASH_BYTES])
{
	struct pl_tindex_node node;
	uint8_t prefix[PL_HASH_BYTES] = {0};
	unsigned d = 0;
	int ret;

	if (t->broken) {
		ret = PL_ESTATE;
		goto out;
	}
	ret = read_root(t, &node);
	if (ret < 0)
		goto out;
	if (ret == 1) {
		ret = 0;
		*stop = STOP_EMPTY;
		goto done;
	}
	while (!node.is_leaf) {
		unsigned b = bit_at(path, d);
		const uint8_t *child = b ? node.right : node.left;

		if (d >= MAX_DEPTH) {
			ret = PL_ESTORE;
			goto out;
		}
		if (siblings != NULL)
			memcpy(siblings[d], b ? node.left : node.right, PL_HASH_BYTES);
		if (b)
			set_bit(prefix, d);
		d++;
		if (is_empty(child)) {
			*stop = STOP_EMPTY;
			goto done;
		}
		ret = read_child(t, d, prefix, &node);
		if (ret != 0)
			goto out;
	}
	*stop = STOP_LEAF;
	*leaf = node;
done:
	*depth = d;
out:
	return ret;
}

int pl_tindex_lookup(const struct pl_tindex *t, const uint8_t key[static PL_HASH_BYTES],
                     uint64_t *count, uint64_t *last)
{
	struct pl_tindex_node leaf;
	uint8_t path[PL_HASH_BYTES];
	enum stop stop;
	unsigned depth;
	int ret;

	if (t == NULL || key == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	path_of(path, key);
	ret = walk(t, path, &depth, &stop, &leaf, NULL);
	if (ret != 0)
		goto out;
	if (stop != STOP_LEAF || memcmp(leaf.path, path, PL_HASH_BYTES) != 0) {
		ret = PL_ENOTFOUND;
		goto out;
	}
	if (count != NULL)
		*count = leaf.count;
	if (last != NULL)
		*last = leaf.last;
out:
	return ret;
}

/* The chain over entries[0..n), which must be in strictly increasing log order. */
static int chain_of(uint8_t out[static PL_HASH_BYTES], const struct pl_tindex_entry *entries,
                    size_t n)
{
	int ret = 0;

	memset(out, 0, PL_HASH_BYTES);
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (entries[i].index > MAX_INDEX ||
		    (i > 0 && entries[i].index <= entries[i - 1].index))
			ret = PL_EPROOF;
		else
			chain_next(out, entries[i].index, entries[i].id);
	}
	return ret;
}

int pl_tindex_prove(const struct pl_tindex *t, const uint8_t key[static PL_HASH_BYTES],
                    const struct pl_tindex_entry *entries, size_t nentries,
                    struct pl_tindex_proof **out)
{
	uint8_t path[PL_HASH_BYTES], chain[PL_HASH_BYTES];
	uint8_t(*sib)[PL_HASH_BYTES] = NULL;
	struct pl_tindex_proof *p = NULL;
	struct pl_tindex_node leaf;
	enum stop stop;
	unsigned depth;
	int ret;

	if (t == NULL || key == NULL || out == NULL || (entries == NULL && nentries > 0)) {
		ret = PL_EINVAL;
		goto out;
	}
	p = calloc(1, sizeof(*p));
	sib = calloc(MAX_DEPTH, PL_HASH_BYTES);
	if (p == NULL || sib == NULL) {
		ret = PL_ENOMEM;
		goto out;
	}
	path_of(path, key);
	ret = walk(t, path, &depth, &stop, &leaf, sib);
	if (ret != 0)
		goto out;
	memcpy(p->key, key, PL_HASH_BYTES);
	if (stop == STOP_LEAF && memcmp(leaf.path, path, PL_HASH_BYTES) == 0) {
		/* The caller's entries must be exactly the ones the leaf committed to. */
		if (nentries != leaf.count || chain_of(chain, entries, nentries) != 0 ||
		    memcmp(chain, leaf.chain, PL_HASH_BYTES) != 0) {
			ret = PL_EPROOF;
			goto out;
		}
		p->entries = malloc(nentries * sizeof(*p->entries));
		if (p->entries == NULL) {
			ret = PL_ENOMEM;
			goto out;
		}
		memcpy(p->entries, entries, nentries * sizeof(*p->entries));
		p->nentries = nentries;
	} else if (nentries > 0) {
		ret = PL_EPROOF;
		goto out;
	} else if (stop == STOP_LEAF) {
		p->has_other = true;
		memcpy(p->other_path, leaf.path, PL_HASH_BYTES);
		memcpy(p->other_chain, leaf.chain, PL_HASH_BYTES);
	}
	p->nsiblings = depth;
	for (unsigned i = 0; i < depth; i++)
		memcpy(p->siblings[i], sib[depth - 1 - i], PL_HASH_BYTES);
	*out = p;
	p = NULL;
out:
	free(sib);
	pl_tindex_proof_free(p);
	return ret;
}

void pl_tindex_proof_free(struct pl_tindex_proof *p)
{
	if (p != NULL) {
		free(p->entries);
		free(p);
	}
}

int pl_tindex_proof_verify(const struct pl_tindex_proof *p, const uint8_t key[static PL_HASH_BYTES],
                           const uint8_t root[static PL_HASH_BYTES])
{
	uint8_t path[PL_HASH_BYTES], h[PL_HASH_BYTES];
	size_t d;
	int ret = PL_EPROOF;

	if (p == NULL || key == NULL || root == NULL || (p->entries == NULL && p->nentries > 0)) {
		ret = PL_EINVAL;
		goto out;
	}
	d = p->nsiblings;
	if (memcmp(p->key, key, PL_HASH_BYTES) != 0 || d > MAX_DEPTH ||
	    p->nentries > PL_TINDEX_MAX_ENTRIES || (p->nentries > 0 && p->has_other))
		goto out;
	/* Canonical shape: the place's sibling is never empty, else its parent held one key. */
	if (d > 0 && is_empty(p->siblings[0]))
		goto out;
	path_of(path, key);
	if (p->nentries > 0) {
		if (chain_of(h, p->entries, p->nentries) != 0)
			goto out;
		leaf_hash(h, path, h);
	} else if (p->has_other) {
		/* Another key's leaf, at a place on this key's path. */
		if (memcmp(p->other_path, path, PL_HASH_BYTES) == 0 ||
		    !same_prefix(p->other_path, path, (unsigned)d))
			goto out;
		leaf_hash(h, p->other_path, p->other_chain);
	} else {
		memcpy(h, empty_hash, PL_HASH_BYTES);
	}
	for (size_t i = 0; i < d; i++) {
		if (bit_at(path, (unsigned)(d - 1 - i)))
			node_hash(h, p->siblings[i], h);
		else
			node_hash(h, h, p->siblings[i]);
	}
	if (memcmp(h, root, PL_HASH_BYTES) == 0)
		ret = 0;
out:
	return ret;
}

/* Checks what pl_tindex_proof_parse() would refuse in a proof about to be written. */
static int check_shape(const struct pl_tindex_proof *p)
{
	int ret = 0;

	if (p->nentries > PL_TINDEX_MAX_ENTRIES || p->nsiblings > MAX_DEPTH)
		ret = PL_ETOOBIG;
	else if ((p->nentries > 0 && (p->entries == NULL || p->has_other)) ||
	         (p->nsiblings > 0 && is_empty(p->siblings[0])))
		ret = PL_EINVAL;
	for (size_t i = 0; i < p->nentries && ret == 0; i++) {
		if (p->entries[i].index > MAX_INDEX ||
		    (i > 0 && p->entries[i].index <= p->entries[i - 1].index))
			ret = PL_EINVAL;
	}
	return ret;
}

int pl_tindex_proof_format(struct pl_buf *out, const struct pl_tindex_proof *p)
{
	char hex[PL_HASH_HEX_LEN + 1];
	struct pl_buf b;
	int ret;

	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	if (out == NULL || p == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = check_shape(p);
	if (ret != 0)
		goto out;
	pl_hex_encode(hex, p->key, PL_HASH_BYTES);
	ret = pl_buf_addf(&b, PL_TINDEX_PROOF_HEADER "\nkey %s\n", hex);
	for (size_t i = 0; i < p->nentries && ret == 0; i++) {
		pl_hex_encode(hex, p->entries[i].id, PL_HASH_BYTES);
		ret = pl_buf_addf(&b, "entry %llu %s\n", (unsigned long long)p->entries[i].index,
		                  hex);
	}
	if (ret == 0 && p->has_other) {
		ret = pl_buf_adds(&b, "other ");
		if (ret == 0)
			ret = pl_b64_append(&b, p->other_path, PL_HASH_BYTES);
		if (ret == 0)
			ret = pl_buf_adds(&b, " ");
		if (ret == 0)
			ret = pl_b64_append(&b, p->other_chain, PL_HASH_BYTES);
		if (ret == 0)
			ret = pl_buf_adds(&b, "\n");
	}
	for (size_t i = 0; i < p->nsiblings && ret == 0; i++) {
		if (is_empty(p->siblings[i]))
			ret = pl_buf_adds(&b, "-");
		else
			ret = pl_b64_append(&b, p->siblings[i], PL_HASH_BYTES);
		if (ret == 0)
			ret = pl_buf_adds(&b, "\n");
	}
	if (ret == 0)
		ret = pl_buf_add(out, b.data, b.len);
out:
	pl_buf_release(&b);
	return ret;
}

/* Exactly 64 lowercase hex digits. */
static int hex_id(uint8_t out[static PL_HASH_BYTES], const char *s, size_t n)
{
	int ret = n == PL_HASH_HEX_LEN ? 0 : PL_EMALFORMED;

	for (size_t i = 0; i < n && ret == 0; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			ret = PL_EMALFORMED;
	}
	if (ret == 0)
		ret = pl_hex_decode_exact(out, PL_HASH_BYTES, s, n);
	return ret;
}

/* "entry <index> <id>", appended to p->entries in strictly increasing order. */
static int parse_entry(struct pl_tindex_proof *p, size_t *cap, const char *s, size_t n)
{
	const char *sp = n > 0 ? memchr(s, ' ', n) : NULL;
	struct pl_tindex_entry e;
	int ret = PL_EMALFORMED;

	if (sp == NULL || pl_parse_u64(&e.index, s, (size_t)(sp - s), MAX_INDEX) != 0 ||
	    hex_id(e.id, sp + 1, n - (size_t)(sp - s) - 1) != 0 ||
	    (p->nentries > 0 && e.index <= p->entries[p->nentries - 1].index))
		goto out;
	if (p->nentries == PL_TINDEX_MAX_ENTRIES) {
		ret = PL_ETOOBIG;
		goto out;
	}
	if (p->nentries == *cap) {
		size_t c = *cap ? 2 * *cap : 8;
		struct pl_tindex_entry *a = realloc(p->entries, c * sizeof(*a));
		if (a == NULL) {
			ret = PL_ENOMEM;
			goto out;
		}
		p->entries = a;
		*cap = c;
	}
	p->entries[p->nentries++] = e;
	ret = 0;
out:
	return ret;
}

/* A sibling line: "-" for the empty hash, else base64 of 32 bytes other than it. */
static int parse_sibling(struct pl_tindex_proof *p, const char *s, size_t n)
{
	uint8_t *h;
	int ret = 0;

	if (p->nsiblings == MAX_DEPTH) {
		ret = PL_ETOOBIG;
		goto out;
	}
	h = p->siblings[p->nsiblings];
	if (n == 1 && s[0] == '-') {
		/* The place's own sibling is never empty (canonical shape). */
		if (p->nsiblings == 0)
			ret = PL_EMALFORMED;
		else
			memcpy(h, empty_hash, PL_HASH_BYTES);
	} else if (pl_b64_decode_exact(h, PL_HASH_BYTES, s, n) != 0 || is_empty(h)) {
		ret = PL_EMALFORMED;
	}
	if (ret == 0)
		p->nsiblings++;
out:
	return ret;
}

int pl_tindex_proof_parse(struct pl_tindex_proof **out, const char *text, size_t len)
{
	struct pl_tindex_proof *p = NULL;
	const char *line;
	size_t pos = 0, n, cap = 0;
	bool have;
	int ret;

	p = pl__parse_open(out, text, len, PL_TINDEX_PROOF_MAX_BYTES, sizeof(*p),
	                   PL_TINDEX_PROOF_HEADER, &pos, &ret);
	if (ret != 0)
		goto out;
	ret = PL_EMALFORMED;
	if (!pl__next_line(text, len, &pos, &line, &n) || !pl__has_prefix(line, n, "key ") ||
	    hex_id(p->key, line + 4, n - 4) != 0)
		goto out;
	have = pl__next_line(text, len, &pos, &line, &n);
	while (have && pl__has_prefix(line, n, "entry ")) {
		ret = parse_entry(p, &cap, line + 6, n - 6);
		if (ret != 0)
			goto out;
		have = pl__next_line(text, len, &pos, &line, &n);
	}
	ret = PL_EMALFORMED;
	if (have && p->nentries == 0 && pl__has_prefix(line, n, "other ")) {
		if (n != 6 + 2 * PL_HASH_B64_LEN + 1 || line[6 + PL_HASH_B64_LEN] != ' ' ||
		    pl_b64_decode_exact(p->other_path, PL_HASH_BYTES, line + 6, PL_HASH_B64_LEN) !=
		            0 ||
		    pl_b64_decode_exact(p->other_chain, PL_HASH_BYTES, line + 7 + PL_HASH_B64_LEN,
		                        PL_HASH_B64_LEN) != 0)
			goto out;
		p->has_other = true;
		have = pl__next_line(text, len, &pos, &line, &n);
	}
	for (; have; have = pl__next_line(text, len, &pos, &line, &n)) {
		ret = parse_sibling(p, line, n);
		if (ret != 0)
			goto out;
	}
	/* Every byte belongs to a line. */
	if (pos != len) {
		ret = PL_EMALFORMED;
		goto out;
	}
	*out = p;
	p = NULL;
	ret = 0;
out:
	pl_tindex_proof_free(p);
	return ret;
}

int pl_tindex_proof_open(struct pl_tindex_proof **out, const char *text, size_t len,
                         const uint8_t key[static PL_HASH_BYTES],
                         const uint8_t root[static PL_HASH_BYTES])
{
	struct pl_tindex_proof *p = NULL;
	int ret;

	if (out == NULL || key == NULL || root == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_tindex_proof_parse(&p, text, len);
	if (ret == 0)
		ret = pl_tindex_proof_verify(p, key, root);
	if (ret == 0) {
		*out = p;
		p = NULL;
	}
out:
	pl_tindex_proof_free(p);
	return ret;
}

/*
 * The in-memory store: nodes in one growing array, found through an
 * open-addressing table of their positions (slot = node number + 1; 0 is free).
 */
#define MEM_DATA 80 /* interior: left, right; leaf: path, chain, count, last */

struct mem_node {
	uint8_t prefix[PL_HASH_BYTES];
	uint8_t data[MEM_DATA];
	uint16_t depth;
	uint8_t is_leaf;
};

struct pl_tindex_memstore {
	struct mem_node *nodes;
	size_t nnodes, capnodes;
	uint32_t *slots;
	size_t nslots; /* a power of two, at least twice nnodes */
};

static uint64_t mem_hash(unsigned depth, const uint8_t prefix[static PL_HASH_BYTES])
{
	uint64_t h = (uint64_t)(depth + 1) * UINT64_C(0x9e3779b97f4a7c15);

	/* Only the first depth bits of a prefix can be set. */
	for (unsigned i = 0; i * 64 < depth; i++) {
		uint64_t w;
		memcpy(&w, prefix + 8 * i, 8);
		h ^= w;
		h *= UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 32;
	}
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	return h ^ (h >> 29);
}

/* The slot of (depth, prefix): the one holding it, or the free one where it would go. */
static size_t mem_find(const struct pl_tindex_memstore *m, unsigned depth,
                       const uint8_t prefix[static PL_HASH_BYTES])
{
	size_t mask = m->nslots - 1, i = (size_t)mem_hash(depth, prefix) & mask;

	while (m->slots[i] != 0) {
		const struct mem_node *n = &m->nodes[m->slots[i] - 1];
		if (n->depth == depth && memcmp(n->prefix, prefix, PL_HASH_BYTES) == 0)
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static int mem_get(void *ctx, unsigned depth, const uint8_t prefix[static PL_HASH_BYTES],
                   struct pl_tindex_node *out)
{
	struct pl_tindex_memstore *m = ctx;
	const struct mem_node *n;
	size_t i;
	int ret = PL_ENOTFOUND;

	if (m->nslots == 0)
		goto out;
	i = mem_find(m, depth, prefix);
	if (m->slots[i] == 0)
		goto out;
	n = &m->nodes[m->slots[i] - 1];
	memset(out, 0, sizeof(*out));
	out->is_leaf = n->is_leaf;
	if (n->is_leaf) {
		memcpy(out->path, n->data, PL_HASH_BYTES);
		memcpy(out->chain, n->data + 32, PL_HASH_BYTES);
		memcpy(&out->count, n->data + 64, 8);
		memcpy(&out->last, n->data + 72, 8);
	} else {
		memcpy(out->left, n->data, PL_HASH_BYTES);
		memcpy(out->right, n->data + 32, PL_HASH_BYTES);
	}
	ret = 0;
out:
	return ret;
}

/* Doubles the slot table (or makes the first one) and re-inserts every node. */
static int mem_grow_slots(struct pl_tindex_memstore *m)
{
	size_t nslots = m->nslots ? 2 * m->nslots : 1024;
	uint32_t *slots = calloc(nslots, sizeof(*slots)), *old = m->slots;
	size_t oldn = m->nslots;
	int ret = PL_ENOMEM;

	if (slots == NULL)
		goto out;
	m->slots = slots;
	m->nslots = nslots;
	for (size_t i = 0; i < oldn; i++) {
		if (old[i] != 0) {
			const struct mem_node *n = &m->nodes[old[i] - 1];
			m->slots[mem_find(m, n->depth, n->prefix)] = old[i];
		}
	}
	free(old);
	ret = 0;
out:
	return ret;
}

static int mem_put(void *ctx, unsigned depth, const uint8_t prefix[static PL_HASH_BYTES],
                   const struct pl_tindex_node *node)
{
	struct pl_tindex_memstore *m = ctx;
	struct mem_node *n;
	size_t i;
	int ret = PL_ENOMEM;

	if (depth > MAX_DEPTH) {
		ret = PL_EINVAL;
		goto out;
	}
	if (2 * (m->nnodes + 1) > m->nslots && mem_grow_slots(m) != 0)
		goto out;
	if (m->nnodes == m->capnodes) {
		size_t cap = m->capnodes ? 2 * m->capnodes : 512;
		struct mem_node *a = cap < UINT32_MAX ? realloc(m->nodes, cap * sizeof(*a)) : NULL;
		if (a == NULL)
			goto out;
		m->nodes = a;
		m->capnodes = cap;
	}
	i = mem_find(m, depth, prefix);
	if (m->slots[i] == 0) {
		n = &m->nodes[m->nnodes];
		memset(n, 0, sizeof(*n));
		memcpy(n->prefix, prefix, PL_HASH_BYTES);
		n->depth = (uint16_t)depth;
		m->slots[i] = (uint32_t)++m->nnodes;
	} else {
		n = &m->nodes[m->slots[i] - 1];
	}
	n->is_leaf = node->is_leaf;
	if (node->is_leaf) {
		memcpy(n->data, node->path, PL_HASH_BYTES);
		memcpy(n->data + 32, node->chain, PL_HASH_BYTES);
		memcpy(n->data + 64, &node->count, 8);
		memcpy(n->data + 72, &node->last, 8);
	} else {
		memcpy(n->data, node->left, PL_HASH_BYTES);
		memcpy(n->data + 32, node->right, PL_HASH_BYTES);
		memset(n->data + 64, 0, MEM_DATA - 64);
	}
	ret = 0;
out:
	return ret;
}

int pl_tindex_memstore_new(struct pl_tindex_memstore **out)
{
	struct pl_tindex_memstore *m = NULL;
	int ret = PL_EINVAL;

	if (out == NULL)
		goto out;
	m = calloc(1, sizeof(*m));
	ret = m != NULL ? 0 : PL_ENOMEM;
	if (ret == 0)
		*out = m;
out:
	return ret;
}

void pl_tindex_memstore_free(struct pl_tindex_memstore *m)
{
	if (m != NULL) {
		free(m->nodes);
		free(m->slots);
		free(m);
	}
}

struct pl_tindex_store pl_tindex_memstore_store(struct pl_tindex_memstore *m)
{
	struct pl_tindex_store s = {mem_get, mem_put, m};

	return s;
}

size_t pl_tindex_memstore_count(const struct pl_tindex_memstore *m)
{
	return m->nnodes;
}
