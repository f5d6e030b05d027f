/* Checks that a store still holds what the log committed to: for reads and `parleyd verify`. */
#include <parley/exchange.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/chain.h>
#include <parley/checkpoint.h>
#include <parley/note.h>
#include <parley/party.h>
#include <parley/record.h>
#include <parley/tiles.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

#include "exchange_int.h"
#include "internal.h"
#include "store.h"

#define CHECK_PREFIX      8    /* bytes of a hash shown in a finding (16 hex digits) */
#define CHECK_BATCH       256  /* stored hashes read at once by pl_exchange_verify() */
#define CHECK_PROGRESS    4096 /* items between two progress reports */
#define CHECK_FINDING_MAX 512  /* bytes in one finding */

/*
 * CHECK_PREFIX bytes of hash h in hex for people, where it differs from the
 * other hash o: its prefix, or "…" and the bytes from its first difference on.
 * Thread: any.
 */
static const char *check_hex(char out[static 2 * CHECK_PREFIX + 4], const uint8_t *h,
                             const uint8_t *o)
{
	size_t d = 0;

	while (d < PL_HASH_BYTES && h[d] == o[d])
		d++;
	if (d < CHECK_PREFIX || d == PL_HASH_BYTES)
		d = 0;
	else if (d > PL_HASH_BYTES - CHECK_PREFIX)
		d = PL_HASH_BYTES - CHECK_PREFIX;
	if (d) {
		memcpy(out, "…", 3);
		pl_hex_encode(out + 3, h + d, CHECK_PREFIX);
	} else {
		pl_hex_encode(out, h, CHECK_PREFIX);
	}
	return out;
}

/* Writes a description of damage to why and returns PL_EDAMAGED. Thread: any. */
static int check_damaged(char *why, size_t whylen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int check_damaged(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return PL_EDAMAGED;
}

/*
 * 0 when the hash h of record index's bytes is stored; else PL_EDAMAGED, with why saying
 * "record N <what>: <label> <stored>…, its bytes give <h>…". Thread: any.
 */
static int check_record_hash(uint64_t index, const uint8_t stored[static PL_HASH_BYTES],
                             const uint8_t h[static PL_HASH_BYTES], const char *what,
                             const char *label, char *why, size_t whylen)
{
	char a[2 * CHECK_PREFIX + 4], b[2 * CHECK_PREFIX + 4];

	if (sodium_memcmp(h, stored, PL_HASH_BYTES) == 0)
		return 0;
	return check_damaged(why, whylen, "record %llu %s: %s %s…, its bytes give %s…",
	                     (unsigned long long)index, what, label, check_hex(a, stored, h),
	                     check_hex(b, h, stored));
}

/*
 * Contract in internal.h.
 * Thread: any reader's of an open exchange, and open's (its reads' checks); the verifier's.
 */
int pl__check_record(uint64_t index, const uint8_t *id, const void *note, size_t len,
                     const uint8_t leaf[32], char *why, size_t whylen)
{
	uint8_t h[PL_HASH_BYTES];
	int ret;

	pl_tlog_leaf_hash(h, note, len);
	ret = check_record_hash(index, leaf, h, "does not match its leaf hash", "stored", why,
	                        whylen);
	if (ret == 0 && id) {
		crypto_hash_sha256(h, note, len);
		ret = check_record_hash(index, id, h, "does not hash to its id", "id", why, whylen);
	}
	return ret;
}

/* The root of the 256 hashes of a full tile: the stored hash one tile level up. Thread: any. */
static void check_tile_root(uint8_t out[static PL_HASH_BYTES], const uint8_t *tile)
{
	uint8_t row[PL_TILE_WIDTH / 2][PL_HASH_BYTES];
	size_t cnt;

	for (size_t j = 0; j < PL_TILE_WIDTH / 2; j++)
		pl_tlog_node_hash(row[j], tile + 2 * j * PL_HASH_BYTES,
		                  tile + (2 * j + 1) * PL_HASH_BYTES);
	for (cnt = PL_TILE_WIDTH / 2; cnt > 1; cnt /= 2) {
		for (size_t j = 0; j < cnt / 2; j++)
			pl_tlog_node_hash(row[j], row[2 * j], row[2 * j + 1]);
	}
	memcpy(out, row[0], PL_HASH_BYTES);
}

/*
 * Contract in internal.h.
 * Thread: any reader's of an open exchange, and open's (its reads' checks); the verifier's.
 */
int pl__check_full_tile(struct pl_store *s, unsigned level, uint64_t n, char *why, size_t whylen)
{
	struct pl_tlog_reader rd = pl_store_tlog_reader(s);
	struct pl_tile t = {.n = n, .level = level, .width = PL_TILE_WIDTH};
	uint8_t *data = NULL, root[PL_HASH_BYTES], up[PL_HASH_BYTES];
	char a[2 * CHECK_PREFIX + 4], b[2 * CHECK_PREFIX + 4];
	uint64_t ui;
	size_t len;
	int ret;

	if (level >= PL_TILE_MAX_LEVEL) {
		ret = PL_EINVAL;
		goto out;
	}
	data = malloc(PL_TILE_BYTES);
	if (!data) {
		ret = PL_ENOMEM;
		goto out;
	}
	ui = pl_tlog_stored_index(8 * (level + 1), n);
	ret = pl_tiles_read_hash_tile(&rd, &t, data, &len);
	if (!ret)
		ret = pl_store_hashes_get(s, &ui, 1, &up);
	if (ret)
		goto out;
	check_tile_root(root, data);
	if (sodium_memcmp(root, up, PL_HASH_BYTES) != 0)
		ret = check_damaged(why, whylen,
		                    "hash tile %u/%llu does not give the stored hash above it "
		                    "(stored hash %llu): stored %s…, the tile gives %s…",
		                    level, (unsigned long long)n, (unsigned long long)ui,
		                    check_hex(a, up, root), check_hex(b, root, up));
out:
	free(data);
	return ret;
}

_Static_assert(sizeof(((struct pl__edge *)0)->tiles) == (PL_TILE_MAX_LEVEL + 1) * PL_TILE_BYTES,
               "an edge holds one hash tile per tile level");

/* v >> bits, 0 once every bit is shifted out (a shift by 64 is undefined in C). Thread: any. */
static uint64_t check_shr(uint64_t v, unsigned bits)
{
	return bits >= 64 ? 0 : v >> bits;
}

/*
 * A tiles view's source serving an edge's tiles from memory.
 * Thread: any reader's of an open exchange, and open's (its reads' checks); the verifier's.
 */
static int check_edge_tile(void *ctx, const struct pl_tile *t, uint8_t *out)
{
	const struct pl__edge *e = ctx;
	uint64_t n = check_shr(e->size, 8 * (t->level + 1));
	unsigned w = (unsigned)(check_shr(e->size, 8 * t->level) % PL_TILE_WIDTH);

	if (t->level > PL_TILE_MAX_LEVEL || t->n != n || t->width != w)
		return PL_EINVAL; /* a tree hash reads only the partial tiles */
	memcpy(out, e->tiles[t->level], (size_t)w * PL_HASH_BYTES);
	return 0;
}

/*
 * Contract in internal.h.
 * Thread: any reader's of an open exchange, and open's (its reads' checks); the verifier's.
 */
int pl__check_edge(struct pl_store *s, uint64_t size, const uint8_t root[32],
                   const struct pl__edge *known, struct pl__edge *out, char *why, size_t whylen)
{
	struct pl_tiles_source src = {.read_tile = check_edge_tile, .ctx = out};
	struct pl_tiles_view *v = malloc(sizeof(*v));
	struct pl_tlog_reader rd;
	uint64_t idx[PL_TILE_WIDTH];
	uint8_t got[PL_HASH_BYTES];
	char a[2 * CHECK_PREFIX + 4], b[2 * CHECK_PREFIX + 4];
	int ret = 0;

	if (!v)
		return PL_ENOMEM;
	out->size = size;
	for (unsigned l = 0; !ret && l <= PL_TILE_MAX_LEVEL; l++) {
		uint64_t n = check_shr(size, 8 * (l + 1));
		unsigned w = (unsigned)(check_shr(size, 8 * l) % PL_TILE_WIDTH), from = 0;
		/* What known checked of the same tile stays checked: only its new hashes are read.
		 */
		if (known && known->size <= size && check_shr(known->size, 8 * (l + 1)) == n) {
			from = (unsigned)(check_shr(known->size, 8 * l) % PL_TILE_WIDTH);
			from = from > w ? 0 : from;
			memcpy(out->tiles[l], known->tiles[l], (size_t)from * PL_HASH_BYTES);
		}
		for (unsigned i = from; i < w; i++)
			idx[i - from] = pl_tlog_stored_index(8 * l, n * PL_TILE_WIDTH + i);
		if (w > from)
			ret = pl_store_hashes_get(
			        s, idx, w - from,
			        (uint8_t(*)[PL_HASH_BYTES])(out->tiles[l] +
			                                    (size_t)from * PL_HASH_BYTES));
	}
	if (!ret) {
		pl_tiles_view_init(v, size, &src);
		rd = pl_tiles_view_reader(v);
		ret = pl_tlog_tree_hash(&rd, size, got);
	}
	if (!ret && sodium_memcmp(got, root, PL_HASH_BYTES) != 0)
		ret = check_damaged(why, whylen,
		                    "the partial hash tiles of tree size %llu do not give the "
		                    "checkpoint's root: signed %s…, the tiles give %s…",
		                    (unsigned long long)size, check_hex(a, root, got),
		                    check_hex(b, got, root));
	free(v);
	return ret;
}

/* ---- pl_exchange_verify() ---- */

/* One author's chain head while the log is replayed. */
/* A party as its register and revoke records say it is. */
struct check_party {
	struct pl_store_party p;
	char chain[PL_STORE_CHAIN_MAX + 1]; /* its records' chain ("" for its own name) */
};

/* The state of one verification. */
struct check {
	const struct pl_exchange_verify_cb *cb;
	struct pl_exchange_verify_stats st;
	struct pl_store *s;
	struct ex_head *heads;
	size_t heads_cap, nheads;
	struct check_party *parties; /* in log order */
	size_t parties_cap, nparties;
	size_t nreturned; /* parties whose records extend a chain of another name */
	/* The thread index recomputed from the log (NULL once it cannot go on). */
	struct pl_tindex_memstore *tm;
	struct pl_tindex *tt;
	struct pl_tindex_ref *pending; /* the entries since the last index record */
	size_t npending;
	bool index_differs; /* the first mismatch was reported */
};

/*
 * Reports one finding (at most PL_EXCHANGE_VERIFY_FINDINGS_MAX of them) and counts it.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static void check_find(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_find(struct check *c, const char *fmt, ...)
{
	char what[CHECK_FINDING_MAX];
	va_list ap;

	c->st.findings++;
	if (c->st.findings > PL_EXCHANGE_VERIFY_FINDINGS_MAX || !c->cb || !c->cb->finding)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	c->cb->finding(c->cb->arg, what);
}

/*
 * Reports progress through the callback: every CHECK_PROGRESS items, and the last.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static void check_progress(struct check *c, const char *phase, uint64_t done, uint64_t total)
{
	if (c->cb && c->cb->progress && (done % CHECK_PROGRESS == 0 || done == total))
		c->cb->progress(c->cb->arg, phase, done, total);
}

/*
 * The head slot of author, the table grown to keep it at most half full. NULL: no memory.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static struct ex_head *check_head(struct check *c, const char *author)
{
	size_t i;

	if (2 * (c->nheads + 1) > c->heads_cap && !pl__ex_heads_grow(&c->heads, &c->heads_cap))
		return NULL;
	i = ex_head_slot(c->heads, c->heads_cap, author);
	if (!c->heads[i].author[0]) {
		snprintf(c->heads[i].author, sizeof(c->heads[i].author), "%s", author);
		c->nheads++;
	}
	return &c->heads[i];
}

/*
 * The directory's text forms of the keys a register record carries, as the
 * exchange indexed them when it logged it ("" for a key it lacks).
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static void check_party_texts(const struct pl_record *r,
                              char vkey[static PL_STORE_KEY_TEXT_MAX + 1],
                              char enc[static PL_PARTY_EKEY_TEXT_MAX + 1])
{
	struct pl_buf kb;

	vkey[0] = enc[0] = '\0';
	pl_buf_init(&kb, PL_STORE_KEY_TEXT_MAX);
	if (r->nkeys && pl_vkey_format(&r->keys[0], &kb) == 0)
		memcpy(vkey, kb.data, kb.len + 1);
	pl_buf_release(&kb);
	pl_buf_init(&kb, PL_PARTY_EKEY_TEXT_MAX);
	if ((r->has & PL_RECORD_HAS_ENC) && pl_party_ekey_format(&r->enc, &kb) == 0)
		memcpy(enc, kb.data, kb.len + 1);
	pl_buf_release(&kb);
}

/*
 * Contract in internal.h.
 * Thread: any reader's of an open exchange, and open's (its reads' checks); the verifier's.
 */
int pl__check_party(const struct pl_store_party *p, const char *note, size_t len, char *why,
                    size_t whylen)
{
	struct pl_record *r = malloc(sizeof(*r));
	struct pl_note *n = NULL;
	char vkey[PL_STORE_KEY_TEXT_MAX + 1], enc[PL_PARTY_EKEY_TEXT_MAX + 1];
	int ret;

	if (!r)
		return PL_ENOMEM;
	ret = pl_note_parse(&n, note, len);
	if (!ret)
		ret = pl_record_parse(r, n->text, n->text_len, NULL);
	if (ret || r->kind != PL_KIND_REGISTER || strcmp(r->party, p->name) != 0) {
		ret = check_damaged(why, whylen,
		                    "the directory names record %llu as the register of %s, which "
		                    "it is not",
		                    (unsigned long long)p->register_index, p->name);
		goto out;
	}
	check_party_texts(r, vkey, enc);
	if (strcmp(vkey, p->vkey) != 0 || strcmp(enc, p->enc_key) != 0)
		ret = check_damaged(why, whylen,
		                    "the directory's keys of %s differ from its register record "
		                    "(record %llu)",
		                    p->name, (unsigned long long)p->register_index);
out:
	pl_note_free(n);
	free(r);
	return ret;
}

/* The entry of party name, or NULL. Thread: the verifier's. */
static struct check_party *check_party_find(struct check *c, const char *name)
{
	for (size_t i = 0; i < c->nparties; i++)
		if (strcmp(c->parties[i].p.name, name) == 0)
			return &c->parties[i];
	return NULL;
}

/* The chain head name author's records extend, as the log's registers left it. */
static const char *check_chain(struct check *c, const char *author)
{
	const struct check_party *q = c->nreturned ? check_party_find(c, author) : NULL;

	return q && q->chain[0] ? q->chain : author;
}

/*
 * Keeps what a register or revoke record says of its party, for check_directory().
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_party_record(struct check *c, uint64_t index, const struct pl_record *r)
{
	struct check_party *q = check_party_find(c, r->party);

	if (r->kind == PL_KIND_REVOKE) {
		if (q) {
			q->p.revoked = true;
			q->p.revoke_index = index;
		}
		return 0;
	}
	if (q && pl_record_ref_find(r, PL_ROLE_PREVIOUS) && r->nkeys) {
		/* A return: the same entry, a new key, and that key's own chain. */
		char hex[2 * PL_KEYID_BYTES + 1];
		pl_hex_encode(hex, r->keys[0].id, PL_KEYID_BYTES);
		c->nreturned += q->chain[0] == '\0';
		snprintf(q->chain, sizeof(q->chain), "%s+%s", r->party, hex);
		q->p.revoked = false;
		q->p.revoke_index = 0;
		q->p.register_index = index;
		check_party_texts(r, q->p.vkey, q->p.enc_key);
		return 0;
	}
	if (pl__grow(&c->parties, &c->parties_cap, c->nparties, sizeof(*c->parties), 16))
		return PL_ENOMEM;
	q = &c->parties[c->nparties++];
	memset(q, 0, sizeof(*q));
	snprintf(q->p.name, sizeof(q->p.name), "%s", r->party);
	q->p.register_index = index;
	check_party_texts(r, q->p.vkey, q->p.enc_key);
	return 0;
}

/*
 * The directory the exchange authenticates and encrypts with (its parties
 * table) against what the register and revoke records of the log say.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_directory(struct check *c)
{
	struct pl_store_party *v = NULL;
	size_t n = 0;
	int ret;

	ret = pl_store_party_list(c->s, &v, &n);
	if (ret == PL_ESTORE) {
		check_find(c, "the directory cannot be read: %s", pl_store_errmsg(c->s));
		return 0;
	}
	if (ret)
		return ret;
	if (n != c->nparties)
		check_find(c, "the directory holds %zu parties; the log registered %zu", n,
		           c->nparties);
	for (size_t i = 0; i < n; i++) {
		const struct pl_store_party *q = NULL;
		for (size_t k = 0; k < c->nparties && !q; k++)
			if (strcmp(c->parties[k].p.name, v[i].name) == 0)
				q = &c->parties[k].p;
		if (!q)
			check_find(c, "the directory's party %s was never registered in the log",
			           v[i].name);
		else if (strcmp(q->vkey, v[i].vkey) != 0 || strcmp(q->enc_key, v[i].enc_key) != 0)
			check_find(c,
			           "the directory's keys of %s differ from its register record "
			           "(record %llu)",
			           v[i].name, (unsigned long long)q->register_index);
		else if (q->register_index != v[i].register_index || q->revoked != v[i].revoked ||
		         (q->revoked && q->revoke_index != v[i].revoke_index))
			check_find(c,
			           "the directory's entry for %s does not name its register and "
			           "revoke records",
			           v[i].name);
	}
	free(v);
	return 0;
}

/* Stops the index's recomputation, with a finding saying why. Thread: the verifier's. */
static void check_index_stop(struct check *c, uint64_t index, int ret)
{
	check_find(c, "the thread index cannot be recomputed past record %llu: %s",
	           (unsigned long long)index, pl_strerror(ret));
	pl_tindex_free(c->tt);
	c->tt = NULL;
}

/*
 * One record of the log for the thread index (docs/index.md §3, §7): its refs
 * become entries, and an index record's root must be the map of every record
 * before it, recomputed in memory in one pass. Only the first mismatch is a
 * finding: the ones after it follow from it. Returns 0 or PL_ENOMEM.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_index_step(struct check *c, uint64_t index, const struct pl_record *r,
                            const uint8_t id[static PL_HASH_BYTES])
{
	uint8_t root[PL_HASH_BYTES];
	int ret = 0;

	if (!c->tt)
		return 0;
	if (r->kind == PL_KIND_INDEX || c->npending + r->nrefs > PL_TINDEX_MAX_BATCH) {
		if (c->npending)
			ret = pl_tindex_update(c->tt, c->pending, c->npending);
		c->npending = 0;
		if (ret == PL_ENOMEM)
			return ret;
		if (ret)
			check_index_stop(c, index, ret);
	}
	if (c->tt && r->kind == PL_KIND_INDEX) {
		c->st.indexes++;
		pl_tindex_root(c->tt, root);
		if (!c->index_differs && sodium_memcmp(root, r->index_root, PL_HASH_BYTES) != 0) {
			char a[2 * CHECK_PREFIX + 4], b[2 * CHECK_PREFIX + 4];
			check_find(c,
			           "index record %llu: its root %s… is not the thread index of the "
			           "records before it, %s…",
			           (unsigned long long)index, check_hex(a, r->index_root, root),
			           check_hex(b, root, r->index_root));
			c->index_differs = true;
		}
	}
	for (size_t i = 0; c->tt && i < r->nrefs; i++) {
		struct pl_tindex_ref *t = &c->pending[c->npending];
		bool again = false;
		for (size_t k = 0; k < i && !again; k++)
			again = memcmp(r->refs[k].id, r->refs[i].id, PL_HASH_BYTES) == 0;
		if (again)
			continue;
		memcpy(t->key, r->refs[i].id, PL_HASH_BYTES);
		memcpy(t->id, id, PL_HASH_BYTES);
		t->index = index;
		c->npending++;
	}
	return 0;
}

/*
 * The record at index: its bytes against its leaf hash and its id, its
 * indexed fields against its text, its place in its author's chain.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_one_record(struct check *c, uint64_t index, struct pl_buf *b, struct pl_record *r)
{
	struct pl_store_record meta;
	struct pl_note *n = NULL;
	struct pl_chain_link link;
	struct ex_head *h;
	uint8_t leaf[PL_HASH_BYTES], id[PL_HASH_BYTES];
	uint64_t hi = pl_tlog_stored_index(0, index);
	char why[CHECK_FINDING_MAX];
	const char *reason = NULL;
	bool bytes_ok = false;
	int ret;

	pl_buf_reset(b);
	ret = pl_store_record_get(c->s, index, &meta, b);
	if (ret == PL_ESTORE || ret == PL_ENOTFOUND) {
		check_find(c, "record %llu cannot be read: %s", (unsigned long long)index,
		           ret == PL_ESTORE ? pl_store_errmsg(c->s) : "missing");
		return 0;
	}
	if (ret)
		return ret;
	ret = pl_store_hashes_get(c->s, &hi, 1, &leaf);
	if (ret == PL_ESTORE || ret == PL_ENOTFOUND) {
		check_find(c, "the leaf hash of record %llu (stored hash %llu) cannot be read: %s",
		           (unsigned long long)index, (unsigned long long)hi,
		           ret == PL_ESTORE ? pl_store_errmsg(c->s) : "missing");
		ret = 0;
	} else if (!ret) {
		pl_tlog_leaf_hash(id, b->data, b->len);
		bytes_ok = sodium_memcmp(id, leaf, PL_HASH_BYTES) == 0;
		if (pl__check_record(index, meta.id, b->data, b->len, leaf, why, sizeof(why)) != 0)
			check_find(c, "%s", why);
	}
	if (ret)
		return ret;
	/*
	 * Parsed only to follow the chains: the signatures were checked when it
	 * was logged. Damaged bytes (already found) say nothing of the chain: the
	 * author's next record then follows what the index says this one was.
	 */
	if (!bytes_ok || pl_note_parse(&n, b->data, b->len) != 0 ||
	    pl_record_parse(r, n->text, n->text_len, NULL) != 0) {
		if (bytes_ok)
			check_find(c, "record %llu does not parse as a record",
			           (unsigned long long)index);
		h = check_head(c, check_chain(c, meta.author));
		if (h) {
			h->link.seq = meta.seq;
			memcpy(h->link.id, meta.id, PL_HASH_BYTES);
		}
		ret = h ? 0 : PL_ENOMEM;
		goto out;
	}
	if (strcmp(r->author, meta.author) != 0 || r->seq != meta.seq ||
	    strcmp(pl_record_kind_name(r->kind), meta.kind) != 0) {
		check_find(c, "record %llu: its indexed author, seq or kind differ from its text",
		           (unsigned long long)index);
	}
	h = check_head(c, check_chain(c, r->author));
	if (!h) {
		ret = PL_ENOMEM;
		goto out;
	}
	crypto_hash_sha256(id, (const uint8_t *)b->data, b->len); /* whatever the index says */
	pl_chain_link_set(&link, r, id);
	if (pl_chain_check_next(h->link.seq ? &h->link : NULL, &link, &reason) != 0)
		check_find(c, "record %llu does not follow %s's record seq %llu in its chain: %s",
		           (unsigned long long)index, r->author, (unsigned long long)h->link.seq,
		           reason ? reason : "chain broken");
	h->link = link;
	if (r->kind == PL_KIND_REGISTER || r->kind == PL_KIND_REVOKE)
		ret = check_party_record(c, index, r);
	if (!ret)
		ret = check_index_step(c, index, r, id);
out:
	pl_note_free(n);
	return ret;
}

/*
 * pl_store_integrity_check()'s report of a problem, as a finding; arg is the check.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static void check_problem(void *arg, const char *problem)
{
	check_find(arg, "the store's file: %s", problem);
}

/*
 * The file's own structure: SQLite's pages and records, in every table.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_file(struct check *c)
{
	size_t n = 0;
	int ret;

	check_progress(c, "pages", 0, 1);
	ret = pl_store_integrity_check(c->s, check_problem, c, &n);
	if (ret == PL_ESTORE) {
		check_find(c, "the store's file cannot be checked: %s", pl_store_errmsg(c->s));
		ret = 0;
	}
	check_progress(c, "pages", 1, 1);
	return ret;
}

/*
 * pl_store_payload_each()'s visit of one blob: its bytes must hash to its name.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_one_payload(void *arg, const uint8_t *hash, size_t hash_len, const uint8_t *blob,
                             size_t len)
{
	struct check *c = arg;
	uint8_t got[PL_HASH_BYTES];
	char a[2 * CHECK_PREFIX + 4], b[2 * CHECK_PREFIX + 4];

	if (hash_len != PL_HASH_BYTES) {
		check_find(c, "a payload's name is %zu bytes, not %d", hash_len, PL_HASH_BYTES);
		return 0;
	}
	pl_sha256(got, blob, len);
	if (sodium_memcmp(got, hash, PL_HASH_BYTES) != 0)
		check_find(c, "payload %s… does not hash to its name: its bytes give %s…",
		           check_hex(a, hash, got), check_hex(b, got, hash));
	c->st.payloads++;
	return 0;
}

/*
 * Every payload blob: content-addressed, so each must hash to its name.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_payloads(struct check *c)
{
	int ret = pl_store_payload_each(c->s, check_one_payload, c);

	if (ret == PL_ESTORE) {
		check_find(c, "the payloads cannot be read: %s", pl_store_errmsg(c->s));
		ret = 0;
	}
	return ret;
}

/*
 * The file that remembers the newest checkpoint signed (PL_EXCHANGE_PUBLISHED_FILE):
 * the store must hold that tree, as pl_exchange_open() requires.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_published(struct check *c, const char *dir, const char *origin,
                           const struct pl_vkey *vk, uint64_t count)
{
	struct pl__published *pub = malloc(sizeof(*pub));
	char *path = pl__path_join(dir, PL_EXCHANGE_PUBLISHED_FILE);
	struct pl_tlog_reader rd = pl_store_tlog_reader(c->s);
	uint8_t root[PL_HASH_BYTES];
	bool marked = false;
	int ret;

	if (!pub || !path) {
		ret = PL_ENOMEM;
		goto out;
	}
	ret = pl__published_read(pub, path, origin, vk);
	if (ret == PL_ENOTFOUND) {
		ret = pl_store_published_marked(c->s, &marked);
		if (!ret && marked)
			check_find(c, "%s is missing, though the store was kept with it", path);
		goto out;
	}
	if (ret == PL_EMALFORMED || ret == PL_EINCONSISTENT) {
		check_find(c, "%s: %s", path,
		           ret == PL_EMALFORMED
		                   ? "no copy holds a checkpoint signed by the log key"
		                   : "two checkpoints of one size with different roots");
		ret = 0;
		goto out;
	}
	if (ret)
		goto out;
	if (count < pub->size) {
		check_find(c,
		           "the store holds %llu records, but checkpoint %llu was signed and "
		           "published: %llu acknowledged records are missing",
		           (unsigned long long)count, (unsigned long long)pub->size,
		           (unsigned long long)(pub->size - count));
		goto out;
	}
	ret = pl_tlog_tree_hash(&rd, pub->size, root);
	if (ret == PL_ESTORE || ret == PL_ENOTFOUND) {
		ret = 0; /* a missing hash is a finding of check_hashes() already */
	} else if (!ret && sodium_memcmp(root, pub->root, PL_HASH_BYTES) != 0) {
		char a[2 * CHECK_PREFIX + 4], b[2 * CHECK_PREFIX + 4];
		check_find(c,
		           "the store's tree at size %llu has root %s…, but the checkpoint signed "
		           "and published at that size has %s…: the store holds another history",
		           (unsigned long long)pub->size, check_hex(a, root, pub->root),
		           check_hex(b, pub->root, root));
	}
out:
	free(pub);
	free(path);
	return ret;
}

/*
 * Every record of the tree of size leaves.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_records(struct check *c, uint64_t size)
{
	struct pl_record *r = malloc(sizeof(*r));
	struct pl_tindex_store ts;
	struct pl_buf b;
	int ret = 0;

	c->pending = malloc(PL_TINDEX_MAX_BATCH * sizeof(*c->pending));
	if (!r || !c->pending || pl_tindex_memstore_new(&c->tm) != 0) {
		free(r);
		return PL_ENOMEM;
	}
	ts = pl_tindex_memstore_store(c->tm);
	if (pl_tindex_open(&c->tt, &ts) != 0) {
		free(r);
		return PL_ENOMEM;
	}
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	check_progress(c, "records", 0, size);
	for (uint64_t i = 0; !ret && i < size; i++) {
		ret = check_one_record(c, i, &b, r);
		c->st.records = i + 1;
		check_progress(c, "records", i + 1, size);
	}
	pl_buf_release(&b);
	free(r);
	return ret;
}

/*
 * Reads stored hashes idx[0..n) into h; a hash that cannot be read is a finding and zeroes.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_hashes_get(struct check *c, const uint64_t *idx, size_t n,
                            uint8_t (*h)[PL_HASH_BYTES], bool *ok)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		ret = pl_store_hashes_get(c->s, &idx[i], 1, &h[i]);
		ok[i] = ret == 0;
		if (ret == PL_ESTORE || ret == PL_ENOTFOUND) {
			check_find(c, "stored hash %llu cannot be read: %s",
			           (unsigned long long)idx[i],
			           ret == PL_ESTORE ? pl_store_errmsg(c->s) : "missing");
			memset(h[i], 0, PL_HASH_BYTES);
			ret = 0;
		}
	}
	return ret;
}

/*
 * Every interior stored hash of the tree of size leaves, recomputed from the
 * two below it, level by level (the leaves were checked with the records).
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_hashes(struct check *c, uint64_t size)
{
	uint64_t pidx[CHECK_BATCH / 2], cidx[CHECK_BATCH], done = 0;
	uint8_t(*ph)[PL_HASH_BYTES] = malloc(CHECK_BATCH / 2 * PL_HASH_BYTES);
	uint8_t(*ch)[PL_HASH_BYTES] = malloc(CHECK_BATCH * PL_HASH_BYTES);
	bool pok[CHECK_BATCH / 2], cok[CHECK_BATCH];
	uint64_t total = pl_tlog_stored_count(size) - size;
	char a[2 * CHECK_PREFIX + 4], b[2 * CHECK_PREFIX + 4];
	int ret = 0;

	if (!ph || !ch) {
		ret = PL_ENOMEM;
		goto out;
	}
	check_progress(c, "hashes", 0, total);
	for (unsigned l = 1; !ret && l <= PL_TLOG_MAX_LEVEL && (size >> l) > 0; l++) {
		uint64_t count = size >> l;
		for (uint64_t k0 = 0; !ret && k0 < count; k0 += CHECK_BATCH / 2) {
			size_t m = count - k0 < CHECK_BATCH / 2 ? (size_t)(count - k0)
			                                        : CHECK_BATCH / 2;
			for (size_t j = 0; j < m; j++) {
				pidx[j] = pl_tlog_stored_index(l, k0 + j);
				cidx[2 * j] = pl_tlog_stored_index(l - 1, 2 * (k0 + j));
				cidx[2 * j + 1] = pl_tlog_stored_index(l - 1, 2 * (k0 + j) + 1);
			}
			ret = check_hashes_get(c, pidx, m, ph, pok);
			if (!ret)
				ret = check_hashes_get(c, cidx, 2 * m, ch, cok);
			for (size_t j = 0; !ret && j < m; j++) {
				uint8_t h[PL_HASH_BYTES];
				if (!pok[j] || !cok[2 * j] || !cok[2 * j + 1])
					continue;
				pl_tlog_node_hash(h, ch[2 * j], ch[2 * j + 1]);
				if (sodium_memcmp(h, ph[j], PL_HASH_BYTES) != 0)
					check_find(
					        c,
					        "stored hash %llu (level %u, node %llu) is not the "
					        "hash of the two below it: stored %s…, they give "
					        "%s…",
					        (unsigned long long)pidx[j], l,
					        (unsigned long long)(k0 + j),
					        check_hex(a, ph[j], h), check_hex(b, h, ph[j]));
			}
			done += m;
			c->st.hashes = done;
			check_progress(c, "hashes", done, total);
		}
	}
out:
	free(ph);
	free(ch);
	return ret;
}

/*
 * The newest checkpoint: signed by the log key, for the store's origin, with its size.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_checkpoint(struct check *c, const char *origin, const struct pl_vkey *vk,
                            struct pl_checkpoint *cp)
{
	struct pl_buf note;
	uint64_t size = 0;
	int ret;

	pl_buf_init(&note, PL_CHECKPOINT_MAX_BYTES + 4096);
	ret = pl_store_checkpoint_get(c->s, PL_STORE_LATEST, &size, &note);
	if (ret == PL_ESTORE || ret == PL_ENOTFOUND) {
		check_find(c, "the newest checkpoint cannot be read: %s",
		           ret == PL_ESTORE ? pl_store_errmsg(c->s) : "there is none");
		ret = PL_ENOTFOUND;
		goto out;
	}
	if (ret)
		goto out;
	if (pl_checkpoint_open(cp, NULL, note.data, note.len, origin, vk, 1) != 0) {
		check_find(c,
		           "the newest checkpoint (size %llu) does not verify with the log key %s",
		           (unsigned long long)size, vk->name);
		ret = PL_ENOTFOUND;
	} else if (cp->size != size) {
		check_find(c, "the newest checkpoint is stored as size %llu but says %llu",
		           (unsigned long long)size, (unsigned long long)cp->size);
	}
out:
	pl_buf_release(&note);
	return ret;
}

/*
 * The newest checkpoint (check_checkpoint()) into *cp, *has_root when it is
 * signed, and the store's counts of records and hashes against its size;
 * without a signed size, what is stored is checked against itself. Returns 0,
 * PL_ESTORE when the store cannot be counted (a finding), or another error.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_sizes(struct check *c, const char *origin, const struct pl_vkey *vk,
                       struct pl_checkpoint *cp, bool *has_root, uint64_t *count, uint64_t *nhashes)
{
	int ret;

	ret = check_checkpoint(c, origin, vk, cp);
	*has_root = ret == 0;
	if (ret == PL_ENOTFOUND)
		ret = pl_store_record_count(c->s, &cp->size);
	if (!ret)
		ret = pl_store_record_count(c->s, count);
	if (!ret)
		ret = pl_store_hashes_count(c->s, nhashes);
	if (ret == PL_ESTORE) {
		check_find(c, "the store cannot be counted: %s", pl_store_errmsg(c->s));
		goto out;
	}
	if (ret)
		goto out;
	c->st.size = cp->size;
	if (*count != cp->size || *nhashes != pl_tlog_stored_count(cp->size))
		check_find(c,
		           "the store holds %llu records and %llu hashes; the newest checkpoint's "
		           "tree of %llu needs %llu and %llu",
		           (unsigned long long)*count, (unsigned long long)*nhashes,
		           (unsigned long long)cp->size, (unsigned long long)cp->size,
		           (unsigned long long)pl_tlog_stored_count(cp->size));
out:
	return ret;
}

/*
 * The stored hashes give the signed checkpoint cp's root, or that is a finding.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
static int check_root(struct check *c, const struct pl_checkpoint *cp)
{
	struct pl_tlog_reader rd = pl_store_tlog_reader(c->s);
	uint8_t root[PL_HASH_BYTES];
	int ret;

	ret = pl_tlog_tree_hash(&rd, cp->size, root);
	if (ret == PL_ESTORE || ret == PL_ENOTFOUND) {
		check_find(c, "the tree hash cannot be read: %s", pl_store_errmsg(c->s));
		ret = 0;
	} else if (!ret && sodium_memcmp(root, cp->root, PL_HASH_BYTES) != 0) {
		char a[2 * CHECK_PREFIX + 4], b[2 * CHECK_PREFIX + 4];
		check_find(c,
		           "the stored hashes do not give the newest checkpoint's root: "
		           "signed %s…, stored %s…",
		           check_hex(a, cp->root, root), check_hex(b, root, cp->root));
	}
	return ret;
}

/*
 * Contract in exchange.h.
 * Thread: the verifier's (pl_exchange_verify()'s caller), with no exchange open.
 */
int pl_exchange_verify(const char *dir, const struct pl_exchange_verify_cb *cb,
                       struct pl_exchange_verify_stats *stats, struct pl_buf *err)
{
	struct check c;
	struct pl_checkpoint *cp = NULL;
	struct pl_vkey vk;
	char origin[PL_ORIGIN_MAX + 1], url[PL_STORE_URL_MAX + 1];
	char *db = NULL, *vp = NULL;
	uint64_t count = 0, nhashes = 0, n;
	bool has_root = false;
	int lockfd = -1, ret;

	memset(&c, 0, sizeof(c));
	c.cb = cb;
	if (!dir)
		return PL_EINVAL;
	db = pl__path_join(dir, PL_EXCHANGE_DB_FILE);
	vp = pl__path_join(dir, PL_EXCHANGE_VKEY_FILE);
	cp = malloc(sizeof(*cp));
	if (!db || !vp || !cp) {
		ret = PL_ENOMEM;
		goto out;
	}
	/* A shared lock on the lock file a running exchange holds exclusively: PL_ESTATE while one
	 * runs, and none starts while the store is verified. No lock file: no exchange ever ran. */
	ret = pl__ex_lock_file(dir, false, "the exchange is running; stop parleyd first", &lockfd,
	                       err);
	if (ret)
		goto out;
	/* A store in PostgreSQL (store.h) has no file here: pl_store_open() tells. */
	if (pl__store_location(dir, url) == PL_ENOTFOUND && access(db, R_OK) != 0) {
		ret = errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
		if (err)
			(void)!pl_buf_addf(err, "%s: %s", db, strerror(errno));
		goto out;
	}
	ret = pl_vkey_load(&vk, vp);
	if (ret) {
		if (err)
			(void)!pl_buf_addf(err, "%s: %s", vp, pl_strerror(ret));
		goto out;
	}
	ret = pl_store_open(&c.s, dir, false, NULL);
	if (ret == PL_ESTORE) {
		check_find(&c, "%s cannot be opened as a store", db);
		goto done;
	}
	if (ret)
		goto out;
	ret = pl_store_begin(c.s);
	if (!ret)
		ret = pl_store_origin(c.s, origin);
	if (ret == PL_ESTORE) {
		check_find(&c, "the store cannot be read: %s", pl_store_errmsg(c.s));
		goto done;
	}
	if (ret)
		goto out;
	if (strcmp(origin, vk.name) != 0)
		check_find(&c, "the store's origin %s is not the name of the log key %s", origin,
		           vk.name);
	ret = check_sizes(&c, origin, &vk, cp, &has_root, &count, &nhashes);
	if (ret == PL_ESTORE)
		goto done;
	if (ret)
		goto out;
	n = count < cp->size ? count : cp->size;
	ret = check_file(&c);
	if (!ret)
		ret = check_records(&c, n);
	if (!ret)
		ret = check_hashes(&c, nhashes < pl_tlog_stored_count(n) ? 0 : n);
	if (!ret)
		ret = check_directory(&c);
	if (!ret)
		ret = check_payloads(&c);
	if (!ret)
		ret = check_published(&c, dir, origin, &vk, count);
	if (ret)
		goto out;
	if (has_root && nhashes >= pl_tlog_stored_count(cp->size))
		ret = check_root(&c, cp);
	if (ret)
		goto out;
done:
	ret = c.st.findings ? PL_EDAMAGED : 0;
	if (stats)
		*stats = c.st;
out:
	if (c.s)
		pl_store_rollback(c.s);
	pl_tindex_free(c.tt);
	pl_tindex_memstore_free(c.tm);
	free(c.pending);
	pl_store_close(c.s);
	if (lockfd >= 0)
		close(lockfd);
	free(c.heads);
	free(c.parties);
	free(cp);
	free(db);
	free(vp);
	return ret;
}
