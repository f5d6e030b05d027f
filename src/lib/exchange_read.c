/* The reads: every record, tile and bundle handed out is checked up to the signed root first. */
#include <parley/exchange.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/note.h>
#include <parley/proof.h>
#include <parley/record.h>
#include <parley/tiles.h>
#include <parley/tlog.h>
#include <parley/visibility.h>

#include "exchange_int.h"
#include "internal.h"
#include "store.h"

/*
 * The store is a file and may have been damaged since the exchange wrote
 * it: every record, entry bundle and hash tile a read hands out is checked
 * first up to the signed root. A record gives its id and its leaf hash; its
 * leaf hash is in a level-0 tile; a full tile gives the stored hash one tile
 * level up, which is in a tile checked the same way, up to the tree's right
 * edge, whose partial tiles give the signed checkpoint's root. A full tile
 * never changes, so once checked it is remembered (a bit per tile and level);
 * the edge is checked again when the tree grew. Damage is PL_EDAMAGED, with
 * what failed kept for pl_exchange_last_error().
 */

/*
 * The published tree: the size and root of the checkpoint last signed. Read
 * it before a read snapshot starts, so that the snapshot holds that whole
 * tree (a batch is published after its commit).
 * Thread: any reader's.
 */
int pl__ex_anchor(struct pl_exchange *ex, struct ex_anchor *a)
{
	struct pl_checkpoint *cp = NULL;
	struct pl_note *n = NULL;
	char *text = NULL;
	size_t len = 0;
	int ret = 0;

	pthread_mutex_lock(&ex->st_mu);
	pthread_mutex_lock(&ex->vf_mu);
	if (ex->vf_size && ex->vf_size == ex->size) {
		a->size = ex->vf_size;
		memcpy(a->root, ex->vf_root, PL_HASH_BYTES);
	} else if (ex->checkpoint) {
		text = malloc(ex->checkpoint_len);
		len = ex->checkpoint_len;
		if (text)
			memcpy(text, ex->checkpoint, len);
		ret = text ? 0 : PL_ENOMEM;
	} else {
		ret = PL_ENOTFOUND;
	}
	pthread_mutex_unlock(&ex->vf_mu);
	pthread_mutex_unlock(&ex->st_mu);
	if (ret || !text)
		goto out;
	/* Signed by this exchange, in memory: parsed, not verified again. */
	cp = malloc(sizeof(*cp));
	ret = cp ? pl_note_parse(&n, text, len) : PL_ENOMEM;
	if (!ret)
		ret = pl_checkpoint_parse(cp, n->text, n->text_len);
	if (ret)
		goto out;
	a->size = cp->size;
	memcpy(a->root, cp->root, PL_HASH_BYTES);
	pthread_mutex_lock(&ex->vf_mu);
	if (a->size > ex->vf_size) {
		ex->vf_size = a->size;
		memcpy(ex->vf_root, a->root, PL_HASH_BYTES);
	}
	pthread_mutex_unlock(&ex->vf_mu);
out:
	pl_note_free(n);
	free(cp);
	free(text);
	return ret;
}

/* True when full tile <level>/<n> was checked already. Thread: any reader's. */
static bool ex_checked_get(struct pl_exchange *ex, unsigned level, uint64_t n)
{
	bool yes;

	pthread_mutex_lock(&ex->vf_mu);
	yes = n < ex->vf_ntiles[level] && (ex->vf_tiles[level][n / 8] >> (n % 8)) & 1;
	pthread_mutex_unlock(&ex->vf_mu);
	return yes;
}

/*
 * Remembers a checked full tile; beyond EX_CHECKED_MAX tiles, or without memory, it is not.
 * Thread: any reader's.
 */
static void ex_checked_set(struct pl_exchange *ex, unsigned level, uint64_t n)
{
	pthread_mutex_lock(&ex->vf_mu);
	if (n >= ex->vf_ntiles[level] && n < EX_CHECKED_MAX) {
		uint64_t bits = ex->vf_ntiles[level] ? 2 * ex->vf_ntiles[level] : 1024;
		uint8_t *p;
		while (bits <= n)
			bits *= 2;
		if (bits > EX_CHECKED_MAX)
			bits = EX_CHECKED_MAX;
		p = realloc(ex->vf_tiles[level], bits / 8);
		if (p) {
			memset(p + ex->vf_ntiles[level] / 8, 0, (bits - ex->vf_ntiles[level]) / 8);
			ex->vf_tiles[level] = p;
			ex->vf_ntiles[level] = bits;
		}
	}
	if (n < ex->vf_ntiles[level])
		ex->vf_tiles[level][n / 8] |= (uint8_t)(1u << (n % 8));
	pthread_mutex_unlock(&ex->vf_mu);
}

/*
 * The right edge of the anchor's tree, checked once per tree size; what the
 * last check read of the same tiles is not read again, so a check after a
 * batch costs about the batch's new hashes. One reader checks at a time: the
 * readers woken by a batch wait for the first instead of all doing its work.
 * Thread: any reader's.
 */
static int ex_edge_check(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a)
{
	struct pl__edge *known = NULL, *out = NULL;
	char why[EX_WHY_MAX];
	bool done;
	int ret;

	pthread_mutex_lock(&ex->vf_mu);
	while (ex->vf_edge_busy && ex->vf_edge != a->size)
		pthread_cond_wait(&ex->vf_edge_cv, &ex->vf_mu);
	done = ex->vf_edge == a->size;
	if (!done && ex->vf_edge_hashes && ex->vf_edge_hashes->size <= a->size) {
		known = malloc(sizeof(*known));
		if (known)
			memcpy(known, ex->vf_edge_hashes, sizeof(*known));
	}
	ex->vf_edge_busy = !done;
	pthread_mutex_unlock(&ex->vf_mu);
	if (done)
		return 0;
	out = malloc(sizeof(*out));
	ret = out ? pl__check_edge(s, a->size, a->root, known, out, why, sizeof(why)) : PL_ENOMEM;
	free(known);
	if (ret == PL_ENOTFOUND) {
		snprintf(why, sizeof(why),
		         "a hash of the partial tiles of tree size %llu is missing",
		         (unsigned long long)a->size);
		ret = PL_EDAMAGED;
	}
	if (ret == PL_EDAMAGED)
		ret = pl__ex_damaged(ex, why);
	pthread_mutex_lock(&ex->vf_mu);
	if (!ret && a->size > ex->vf_edge) {
		struct pl__edge *old = ex->vf_edge_hashes;
		ex->vf_edge = a->size;
		ex->vf_edge_hashes = out;
		out = old;
	}
	ex->vf_edge_busy = false;
	pthread_cond_broadcast(&ex->vf_edge_cv);
	pthread_mutex_unlock(&ex->vf_mu);
	free(out);
	return ret;
}

/*
 * Checks hash tile <level>/<n> of the anchor's tree up to the signed root:
 * each full tile against the stored hash above it, in the tile above, until
 * a tile already checked or the right edge.
 * Thread: any reader's.
 */
static int ex_tile_check(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                         unsigned level, uint64_t n)
{
	struct {
		unsigned level;
		uint64_t n;
	} path[PL_TILE_MAX_LEVEL + 1];
	char why[EX_WHY_MAX];
	size_t np = 0;
	int ret = 0;

	for (;;) {
		struct pl_tile t;
		ret = pl_tiles_tile_at(&t, a->size, level, n, false);
		if (ret)
			break;
		if (t.width < PL_TILE_WIDTH) {
			ret = ex_edge_check(ex, s, a);
			break;
		}
		if (ex_checked_get(ex, level, n))
			break;
		ret = pl__check_full_tile(s, level, n, why, sizeof(why));
		if (ret == PL_ENOTFOUND) {
			snprintf(why, sizeof(why), "hash tile %u/%llu: a stored hash is missing",
			         level, (unsigned long long)n);
			ret = PL_EDAMAGED;
		}
		if (ret == PL_EDAMAGED)
			ret = pl__ex_damaged(ex, why);
		if (ret || np == PL__ARRAY_LEN(path) - 1)
			break;
		path[np].level = level;
		path[np].n = n;
		np++;
		level++;
		n /= PL_TILE_WIDTH;
	}
	for (size_t i = 0; !ret && i < np; i++)
		ex_checked_set(ex, path[i].level, path[i].n);
	return ret;
}

/*
 * The one check of every read that hands out a stored record (by id, by
 * index, in a thread, an inbox, the statements, a line's page, the
 * directory): its bytes note[0..len) give its id and the stored leaf hash at
 * its index, whose tile is checked up to the anchor's signed root. index
 * must be below a->size. Returns 0, PL_EDAMAGED or the store's error.
 * Thread: any reader's, and open's (ex_check_store() checks the newest records).
 */
int pl__ex_check_entry(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                       uint64_t index, const uint8_t id[static PL_HASH_BYTES], const char *note,
                       size_t len)
{
	uint64_t hi = pl_tlog_stored_index(0, index);
	uint8_t leaf[PL_HASH_BYTES];
	char why[EX_WHY_MAX];
	int ret;

	ret = pl_store_hashes_get(s, &hi, 1, &leaf);
	if (ret == PL_ENOTFOUND) {
		snprintf(why, sizeof(why), "the leaf hash of record %llu is missing",
		         (unsigned long long)index);
		ret = pl__ex_damaged(ex, why);
	}
	if (!ret) {
		ret = pl__check_record(index, id, note, len, leaf, why, sizeof(why));
		if (ret == PL_EDAMAGED)
			ret = pl__ex_damaged(ex, why);
	}
	if (!ret)
		ret = ex_tile_check(ex, s, a, 0, index / PL_TILE_WIDTH);
	return ret;
}

/*
 * Who the party named reader is to this exchange (include/parley/visibility.h):
 * an auditor when parleyd.conf names it, or when it is the exchange's own view
 * (PL_EXCHANGE_READER_ALL); NULL is anyone at all.
 * Thread: any reader's.
 */
struct pl_reader pl__ex_reader(struct pl_exchange *ex, const char *reader)
{
	struct pl_reader who = {reader, false};

	if (reader && strcmp(reader, PL_EXCHANGE_READER_ALL) == 0)
		who.auditor = true;
	/* The auditors may change while serving (pl_exchange_reconfigure()). */
	pthread_rwlock_rdlock(&ex->cfg_lock);
	for (size_t i = 0; reader && !who.auditor && i < ex->o.nauditors; i++)
		who.auditor = strcmp(ex->o.auditors[i], reader) == 0;
	pthread_rwlock_unlock(&ex->cfg_lock);
	return who;
}

/*
 * Whether who may read the stored record whose row is meta and whose signed
 * note is note[0..len): the one rule (pl_visibility_may_read()), fed from the
 * store with the record and, when the rule needs it, the send, consult or
 * check it acts on. The cheap answers (an auditor, a public kind, the author)
 * come from the stored columns alone.
 * Thread: any reader's.
 */
static int ex_may_read_row(struct pl_store *s, const struct pl_reader *who,
                           const struct pl_store_record *meta, const char *note, size_t len,
                           bool *yes)
{
	struct pl_record *r = NULL, *about = NULL;
	const struct pl_record_ref *ref;
	enum pl_record_kind kind;
	struct pl_note *n = NULL;
	uint64_t at;
	int ret = 0;

	*yes = who->auditor;
	if (*yes)
		return 0;
	if (pl_record_kind_from_name(&kind, meta->kind, strlen(meta->kind)) != 0)
		return PL_ESTORE;
	*yes = pl_visibility_kind_is_public(kind) ||
	       (who->party && strcmp(who->party, meta->author) == 0);
	if (*yes || !who->party)
		return 0;
	r = malloc(sizeof(*r));
	if (!r)
		ret = PL_ENOMEM;
	else if (pl_note_parse(&n, note, len) != 0 ||
	         pl_record_parse(r, n->text, n->text_len, NULL) != 0)
		ret = PL_ESTORE;
	if (!ret)
		*yes = pl_visibility_may_read(who, r, NULL);
	ref = ret || *yes ? NULL : pl_record_ref_find(r, pl_visibility_about_role(r->kind));
	if (ref) {
		about = malloc(sizeof(*about));
		ret = about ? pl_store_record_find(s, ref->id, &at) : PL_ENOMEM;
		if (!ret)
			ret = pl__ex_load(s, at, about, NULL);
		if (ret == PL_ENOTFOUND) /* a logged reference names a logged record */
			ret = PL_ESTORE;
		if (!ret)
			*yes = pl_visibility_may_read(who, r, about);
	}
	pl_note_free(n);
	free(r);
	free(about);
	return ret;
}

/*
 * Whether who may read the stored record at index (ex_may_read_row()).
 * Returns 0 with *yes set, or the store's error (PL_ENOTFOUND: no such record).
 * Thread: any reader's.
 */
int pl__ex_may_read(struct pl_store *s, const struct pl_reader *who, uint64_t index, bool *yes)
{
	struct pl_store_record meta;
	struct pl_buf b;
	int ret;

	*yes = who->auditor;
	if (*yes)
		return 0;
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	ret = pl_store_record_get(s, index, &meta, &b);
	if (!ret)
		ret = ex_may_read_row(s, who, &meta, b.data, b.len, yes);
	pl_buf_release(&b);
	return ret;
}

/*
 * Reads one record of the anchor's tree into an entry, checked (pl__ex_check_entry()).
 * Thread: any reader's.
 */
int pl__ex_entry(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                 uint64_t index, struct pl_exchange_entry *e)
{
	const struct pl_reader all = {NULL, true};
	bool yes;

	return pl__ex_entry_for(ex, s, a, &all, index, e, &yes);
}

/*
 * Reads one record of the anchor's tree into an entry, checked, if who may
 * read it (*yes; e untouched when not): its row is read once for both.
 * Thread: any reader's.
 */
int pl__ex_entry_for(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                     const struct pl_reader *who, uint64_t index, struct pl_exchange_entry *e,
                     bool *yes)
{
	struct pl_store_record meta;
	struct pl_buf b;
	int ret;

	*yes = false;
	if (index >= a->size)
		return PL_ENOTFOUND; /* logged, not yet published */
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	ret = pl_store_record_get(s, index, &meta, &b);
	if (ret == PL_ENOTFOUND)
		ret = pl__ex_damaged(ex, "a published record is missing");
	if (!ret)
		ret = ex_may_read_row(s, who, &meta, b.data, b.len, yes);
	if (!ret && !*yes) {
		pl_buf_release(&b);
		return 0;
	}
	if (!ret)
		ret = pl__ex_check_entry(ex, s, a, index, meta.id, b.data, b.len);
	if (!ret) {
		e->index = index;
		memcpy(e->id, meta.id, PL_HASH_BYTES);
		e->note = pl_buf_detach(&b, &e->note_len);
		if (!e->note)
			ret = PL_ENOMEM;
	}
	pl_buf_release(&b);
	return ret;
}

/* Frees what an entry holds and zeroes it; NULL is a no-op. Thread: any. */
void pl_exchange_entry_release(struct pl_exchange_entry *e)
{
	if (!e)
		return;
	free(e->note);
	memset(e, 0, sizeof(*e));
}

/* Frees a list's entries and zeroes it; NULL is a no-op. Thread: any. */
void pl_exchange_list_release(struct pl_exchange_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].note);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The published tree size. Thread: any. */
uint64_t pl_exchange_size(struct pl_exchange *ex)
{
	uint64_t n;

	pthread_mutex_lock(&ex->st_mu);
	n = ex->size;
	pthread_mutex_unlock(&ex->st_mu);
	return n;
}

/*
 * Appends one of the published texts (*text, *len: fields of ex that
 * st_mu guards) to out; PL_ENOTFOUND while there is none.
 * Thread: any reader's.
 */
static int ex_published_copy(struct pl_exchange *ex, char *const *text, const size_t *len,
                             struct pl_buf *out)
{
	int ret;

	pthread_mutex_lock(&ex->st_mu);
	ret = *text ? pl_buf_add(out, *text, *len) : PL_ENOTFOUND;
	pthread_mutex_unlock(&ex->st_mu);
	return ret;
}

/* Appends the newest checkpoint (cosigned, when it is) to out. Thread: any reader's. */
int pl_exchange_checkpoint(struct pl_exchange *ex, struct pl_buf *out)
{
	if (!ex || !out)
		return PL_EINVAL;
	return ex_published_copy(ex, &ex->checkpoint, &ex->checkpoint_len, out);
}

/* Appends the newest cosigned checkpoint to out. Thread: any reader's. */
int pl_exchange_checkpoint_cosigned(struct pl_exchange *ex, struct pl_buf *out)
{
	if (!ex || !out)
		return PL_EINVAL;
	return ex_published_copy(ex, &ex->cosigned, &ex->cosigned_len, out);
}

/* The size of the newest cosigned checkpoint, 0 when none. Thread: any. */
uint64_t pl_exchange_cosigned_size(struct pl_exchange *ex)
{
	uint64_t n;

	pthread_mutex_lock(&ex->st_mu);
	n = ex->cosigned ? ex->cosigned_size : 0;
	pthread_mutex_unlock(&ex->st_mu);
	return n;
}

/* Appends the stored checkpoint of a published size to out. Thread: any reader's. */
int pl_exchange_checkpoint_at(struct pl_exchange *ex, uint64_t size, struct pl_buf *out)
{
	struct pl_store *s;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	if (size > pl_exchange_size(ex))
		return PL_ENOTFOUND;
	s = ex_reader_get(ex);
	ret = pl_store_checkpoint_get(s, size, NULL, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	return ret;
}

/*
 * Tile <level>/<n> of the published tree (an entry bundle when entries) cut
 * to width (0: the full width) into *t, with the anchor it is read under in
 * *a. PL_EINVAL for a width over PL_TILE_WIDTH or coordinates no tree has,
 * PL_ENOTFOUND for a width the published tree has not reached: a partial
 * tile is a prefix of the tile, of any width the tree has reached.
 * Thread: any reader's.
 */
static int ex_published_tile(struct pl_exchange *ex, unsigned level, uint64_t n, unsigned width,
                             bool entries, struct ex_anchor *a, struct pl_tile *t)
{
	int ret;

	if (width > PL_TILE_WIDTH)
		return PL_EINVAL;
	if (width == 0)
		width = PL_TILE_WIDTH;
	ret = pl__ex_anchor(ex, a);
	if (!ret)
		ret = pl_tiles_tile_at(t, a->size, level, n, entries);
	if (ret == PL_ERANGE)
		ret = PL_EINVAL;
	if (ret)
		return ret;
	if (width > t->width)
		return PL_ENOTFOUND;
	t->width = width;
	return 0;
}

/*
 * Appends hash tile <level>/<n> (width hashes) of the published tree, checked, to out.
 * Thread: any reader's.
 */
int pl_exchange_tile(struct pl_exchange *ex, unsigned level, uint64_t n, unsigned width,
                     struct pl_buf *out)
{
	struct pl_tile t;
	struct pl_tlog_reader rd;
	struct ex_anchor a;
	struct pl_store *s;
	uint8_t *data = NULL;
	size_t len = 0;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	ret = ex_published_tile(ex, level, n, width, false, &a, &t);
	if (ret)
		return ret;
	data = malloc(PL_TILE_BYTES);
	if (!data)
		return PL_ENOMEM;
	s = ex_reader_get(ex);
	rd = pl_store_tlog_reader(s);
	ret = pl_tiles_read_hash_tile(&rd, &t, data, &len);
	if (ret == PL_ENOTFOUND) /* within the published tree */
		ret = pl__ex_damaged(ex, "a hash of a published hash tile is missing");
	if (!ret)
		ret = ex_tile_check(ex, s, &a, level, n);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	if (!ret)
		ret = pl_buf_add(out, data, len);
	free(data);
	return ret;
}

/*
 * Appends entry bundle <n> (width records) of the published tree, each record checked, to out:
 * every record of the bundle, so for auditors only.
 * Thread: any reader's.
 */
int pl_exchange_entry_bundle(struct pl_exchange *ex, const char *reader, uint64_t n, unsigned width,
                             struct pl_buf *out)
{
	struct pl_tile t;
	struct pl_tlog_reader rd;
	struct ex_anchor a;
	struct pl_store *s;
	struct pl_buf note;
	uint8_t *leaves = NULL;
	char why[EX_WHY_MAX];
	size_t old, len;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	if (!pl__ex_reader(ex, reader).auditor)
		return PL_EDENIED;
	ret = ex_published_tile(ex, 0, n, width, true, &a, &t);
	if (ret)
		return ret;
	leaves = malloc(PL_TILE_BYTES);
	if (!leaves)
		return PL_ENOMEM;
	old = out->len;
	pl_buf_init(&note, PL_RECORD_MAX_BYTES);
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	/* Each entry against the level-0 tile, checked up to the signed root. */
	t.entries = false;
	rd = pl_store_tlog_reader(s);
	if (!ret)
		ret = pl_tiles_read_hash_tile(&rd, &t, leaves, &len);
	if (ret == PL_ENOTFOUND) /* within the published tree */
		ret = pl__ex_damaged(ex, "a leaf hash of a published entry bundle is missing");
	if (!ret)
		ret = ex_tile_check(ex, s, &a, 0, n);
	for (unsigned i = 0; !ret && i < t.width; i++) {
		uint64_t index = n * PL_TILE_WIDTH + i;
		pl_buf_reset(&note);
		ret = pl_store_record_get(s, index, NULL, &note);
		if (ret == PL_ENOTFOUND)
			ret = pl__ex_damaged(ex, "a record of a published entry bundle is missing");
		if (!ret &&
		    pl__check_record(index, NULL, note.data, note.len,
		                     leaves + (size_t)i * PL_HASH_BYTES, why, sizeof(why)) != 0)
			ret = pl__ex_damaged(ex, why);
		if (!ret)
			ret = pl_tiles_bundle_add(out, note.data, note.len);
	}
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	pl_buf_release(&note);
	free(leaves);
	if (ret)
		pl__buf_truncate(out, old);
	return ret;
}

/*
 * Decodes a hex id prefix (either case) to bits. Returns 0 or PL_EMALFORMED.
 * Thread: any reader's.
 */
static int ex_hex_prefix(uint8_t out[static PL_HASH_BYTES], unsigned *nbits, const char *s,
                         size_t len)
{
	if (len < PL_EXCHANGE_ID_PREFIX_MIN || len > PL_RECORD_ID_HEX_LEN)
		return PL_EMALFORMED;
	memset(out, 0, PL_HASH_BYTES);
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		unsigned v;
		if (ch >= '0' && ch <= '9')
			v = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v = (unsigned)(ch - 'A' + 10);
		else
			return PL_EMALFORMED;
		out[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
	}
	*nbits = (unsigned)len * 4;
	return 0;
}

/*
 * The one published record whose id starts with bits (nbits of them) that who may read, into
 * *index: the records who may not read are not counted, so that a prefix shared with one of
 * them is not ambiguous and one only they match is not found.
 * Thread: any reader's.
 */
static int ex_find_readable(struct pl_store *s, const struct pl_reader *who,
                            const struct ex_anchor *a, const uint8_t bits[static PL_HASH_BYTES],
                            unsigned nbits, uint64_t *index)
{
	uint64_t match[EX_PREFIX_MATCHES];
	size_t n = 0, found = 0;
	bool yes;
	int ret;

	if (nbits == 256) {
		ret = pl_store_record_find(s, bits, &match[0]);
		n = ret ? 0 : 1;
	} else {
		ret = pl_store_record_find_prefix(s, bits, nbits, match, EX_PREFIX_MATCHES, &n);
		if (ret == PL_ETOOBIG)
			ret = PL_EAMBIGUOUS;
	}
	for (size_t i = 0; !ret && i < n; i++) {
		if (match[i] >= a->size)
			continue; /* not published yet */
		ret = pl__ex_may_read(s, who, match[i], &yes);
		if (!ret && yes)
			match[found++] = match[i];
	}
	if (!ret && found == 0)
		ret = PL_ENOTFOUND;
	if (!ret && found > 1)
		ret = PL_EAMBIGUOUS;
	if (!ret)
		*index = match[0];
	return ret;
}

/*
 * The published record whose id starts with hex id[0..len) that reader may read, checked.
 * Thread: any reader's.
 */
int pl_exchange_record(struct pl_exchange *ex, const char *reader, const char *id, size_t len,
                       struct pl_exchange_entry *out)
{
	uint8_t bits[PL_HASH_BYTES];
	struct pl_reader who;
	struct ex_anchor a;
	struct pl_store *s;
	unsigned nbits;
	uint64_t index;
	int ret;

	if (!ex || !id || !out)
		return PL_EINVAL;
	who = pl__ex_reader(ex, reader);
	ret = ex_hex_prefix(bits, &nbits, id, len);
	if (!ret)
		ret = pl__ex_anchor(ex, &a);
	if (ret)
		return ret;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = ex_find_readable(s, &who, &a, bits, nbits, &index);
	if (!ret)
		ret = pl__ex_entry(ex, s, &a, index, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	return ret;
}

/* The published record at index if reader may read it, checked. Thread: any reader's. */
int pl_exchange_record_at(struct pl_exchange *ex, const char *reader, uint64_t index,
                          struct pl_exchange_entry *out)
{
	struct pl_reader who;
	struct ex_anchor a;
	struct pl_store *s;
	bool yes = false;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	who = pl__ex_reader(ex, reader);
	ret = pl__ex_anchor(ex, &a);
	if (ret)
		return ret;
	if (index >= a.size)
		return PL_ENOTFOUND;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl__ex_entry_for(ex, s, &a, &who, index, out, &yes);
	if (!ret && !yes)
		ret = PL_ENOTFOUND; /* as if there were none */
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	return ret;
}

/*
 * The tlog-proof text of the record at index under the signed checkpoint cp.
 * Thread: any reader's.
 */
static int ex_proof_text(struct pl_store *s, uint64_t index, const char *cp, size_t cplen,
                         struct pl_buf *out)
{
	struct pl_tlog_reader rd = pl_store_tlog_reader(s);
	int ret = pl_proof_build(out, &rd, index, NULL, 0, cp, cplen);

	/* Our own checkpoint no longer parses: the store is damaged. */
	return ret == PL_EINVAL ? PL_ESTORE : ret;
}

/*
 * The tlog-proof text of the record at index under the checkpoint of size (0: the newest).
 * Thread: any reader's.
 */
int pl_exchange_proof(struct pl_exchange *ex, uint64_t index, uint64_t size, struct pl_buf *out)
{
	struct pl_store *s;
	struct pl_buf cp;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	if (size == 0)
		size = pl_exchange_size(ex);
	if (size > pl_exchange_size(ex))
		return PL_ENOTFOUND;
	if (index >= size)
		return PL_ERANGE;
	pl_buf_init(&cp, PL_CHECKPOINT_MAX_BYTES + 4096);
	s = ex_reader_get(ex);
	ret = pl_store_checkpoint_get(s, size, NULL, &cp);
	if (!ret)
		ret = ex_proof_text(s, index, cp.data, cp.len, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	pl_buf_release(&cp);
	return ret;
}

/* The consistency proof between two published sizes. Thread: any reader's. */
int pl_exchange_consistency(struct pl_exchange *ex, uint64_t old_size, uint64_t new_size,
                            uint8_t hashes[][PL_HASH_BYTES], size_t *n)
{
	struct pl_tlog_reader rd;
	struct pl_store *s;
	int ret;

	if (!ex || !hashes || !n)
		return PL_EINVAL;
	if (old_size > new_size || new_size > pl_exchange_size(ex))
		return PL_ERANGE;
	s = ex_reader_get(ex);
	rd = pl_store_tlog_reader(s);
	ret = pl_tlog_prove_consistency(&rd, old_size, new_size, hashes, n);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	return ret;
}

/* qsort()'s order of uint64_t. Thread: any. */
static int ex_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * Fills a list with the records at idx[0..n) (sorted) that who may read, and
 * the cursor after them, each checked (pl__ex_entry()). Those beyond the
 * anchor's tree are not published yet: the list stops before them, its cursor
 * on the first.
 * Thread: any reader's.
 */
static int ex_list_fill(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                        const struct pl_reader *who, const uint64_t *idx, size_t n, uint64_t next,
                        struct pl_exchange_list *out)
{
	struct pl_exchange_list l;
	bool yes;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		if (idx[i] >= a->size) {
			n = i;
			break;
		}
	}
	memset(&l, 0, sizeof(l));
	l.v = calloc(n ? n : 1, sizeof(*l.v));
	if (!l.v)
		return PL_ENOMEM;
	for (size_t i = 0; !ret && i < n; i++) {
		ret = pl__ex_entry_for(ex, s, a, who, idx[i], &l.v[l.n], &yes);
		if (!ret && yes)
			l.n++;
	}
	l.next = n ? idx[n - 1] + 1 : next;
	if (ret)
		pl_exchange_list_release(&l);
	else
		*out = l;
	return ret;
}

/*
 * The record id and every published record that refers to it, directly or not, in log order,
 * as far as reader may read: the walk goes through the records it may read only, so that what
 * it lists says nothing of the others.
 * Thread: any reader's.
 */
int pl_exchange_thread(struct pl_exchange *ex, const char *reader,
                       const uint8_t id[static PL_HASH_BYTES], size_t max,
                       struct pl_exchange_list *out)
{
	struct pl_reader who;
	bool yes = false;
	struct ex_anchor a;
	struct pl_store *s;
	uint64_t *set = NULL, *kids = NULL;
	size_t nset = 0, done = 0, nk;
	uint64_t root;
	int ret;

	if (!ex || !id || !out)
		return PL_EINVAL;
	who = pl__ex_reader(ex, reader);
	ret = pl__ex_anchor(ex, &a);
	if (ret)
		return ret;
	set = malloc(EX_THREAD_MAX * sizeof(*set));
	kids = malloc(EX_THREAD_MAX * sizeof(*kids));
	if (!set || !kids) {
		free(set);
		free(kids);
		return PL_ENOMEM;
	}
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_record_find(s, id, &root);
	if (!ret && root >= a.size)
		ret = PL_ENOTFOUND;
	if (!ret)
		ret = pl__ex_may_read(s, &who, root, &yes);
	if (!ret && !yes)
		ret = PL_ENOTFOUND; /* as if there were none */
	if (!ret)
		set[nset++] = root;
	/* Breadth first over "refers to"; a record is listed once. */
	while (!ret && done < nset) {
		ret = pl_store_referrers(s, set[done++], kids, EX_THREAD_MAX, &nk);
		for (size_t i = 0; !ret && i < nk; i++) {
			bool seen = false;
			for (size_t j = 0; j < nset && !seen; j++)
				seen = set[j] == kids[i];
			if (!seen)
				ret = pl__ex_may_read(s, &who, kids[i], &yes);
			if (seen || ret || !yes)
				continue;
			if (nset == EX_THREAD_MAX)
				ret = PL_ETOOBIG;
			else
				set[nset++] = kids[i];
		}
	}
	if (!ret) {
		qsort(set, nset, sizeof(*set), ex_u64_cmp);
		if (max && nset > max)
			nset = max;
		ret = ex_list_fill(ex, s, &a, &who, set, nset, 0, out);
	}
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	free(set);
	free(kids);
	return ret;
}

/* A page size: max, or the default for 0, at most EX_PAGE_MAX. Thread: any. */
static size_t ex_page(size_t max)
{
	return max == 0 ? EX_PAGE_DEFAULT : max > EX_PAGE_MAX ? EX_PAGE_MAX : max;
}

/*
 * A page of the inbox of party pid (PL_STORE_PUBLIC: the statements) after the index after,
 * checked.
 * Thread: any reader's.
 */
static int ex_inbox_pid(struct pl_exchange *ex, const struct pl_reader *who, int64_t pid,
                        uint64_t after, size_t max, struct pl_exchange_list *out)
{
	struct ex_anchor a;
	struct pl_store *s;
	uint64_t idx[EX_PAGE_MAX];
	size_t n = 0;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	if (after > (uint64_t)INT64_MAX)
		after = (uint64_t)INT64_MAX;
	max = ex_page(max);
	ret = pl__ex_anchor(ex, &a);
	if (ret)
		return ret;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_inbox_list(s, pid, pid != PL_STORE_PUBLIC, after, idx, max, &n);
	if (!ret)
		ret = ex_list_fill(ex, s, &a, who, idx, n, after, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	return ret;
}

/* A page of the public statements after the index after. Thread: any reader's. */
int pl_exchange_statements(struct pl_exchange *ex, uint64_t after, size_t max,
                           struct pl_exchange_list *out)
{
	const struct pl_reader anyone = {NULL, false};

	return ex_inbox_pid(ex, &anyone, PL_STORE_PUBLIC, after, max, out);
}

/* A page of the public statements before the index before, newest first. Thread: any reader's. */
int pl_exchange_statements_before(struct pl_exchange *ex, uint64_t before, size_t max,
                                  struct pl_exchange_list *out)
{
	const struct pl_reader anyone = {NULL, false};
	struct pl_exchange_list l;
	struct ex_anchor a;
	struct pl_store *s;
	uint64_t idx[EX_PAGE_MAX];
	size_t n = 0;
	bool yes;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	max = ex_page(max);
	ret = pl__ex_anchor(ex, &a);
	if (ret)
		return ret;
	/* Only what the published checkpoint covers is handed out. */
	if (before == 0 || before > a.size)
		before = a.size;
	memset(&l, 0, sizeof(l));
	l.v = calloc(max, sizeof(*l.v));
	if (!l.v)
		return PL_ENOMEM;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_inbox_before(s, PL_STORE_PUBLIC, before, idx, max, &n);
	for (size_t i = 0; !ret && i < n; i++) {
		ret = pl__ex_entry_for(ex, s, &a, &anyone, idx[i], &l.v[l.n], &yes);
		if (!ret && yes)
			l.n++;
	}
	l.next = n == max ? idx[n - 1] : 0;
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	if (ret)
		pl_exchange_list_release(&l);
	else
		*out = l;
	return ret;
}

/* A page of party's inbox after the index after, checked. Thread: any reader's. */
int pl_exchange_inbox(struct pl_exchange *ex, const char *party, uint64_t after, size_t max,
                      struct pl_exchange_list *out)
{
	struct pl_reader who;
	int64_t pid = -1;

	if (!ex || !party || !out)
		return PL_EINVAL;
	pthread_rwlock_rdlock(&ex->dir_lock);
	{
		size_t i = ex_dir_find(ex, party);
		if (i != PL_DIRECTORY_NONE)
			pid = ex->members[i].pid;
	}
	pthread_rwlock_unlock(&ex->dir_lock);
	if (pid <= 0)
		return PL_ENOTFOUND;
	who = pl__ex_reader(ex, party);
	return ex_inbox_pid(ex, &who, pid, after, max, out);
}

/*
 * Waits up to timeout_ms for the tree to grow past size; returns the tree size then.
 * Thread: any reader's (a long poll).
 */
uint64_t pl_exchange_wait(struct pl_exchange *ex, uint64_t size, int timeout_ms)
{
	struct timespec ts = ex_deadline((int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000);
	uint64_t n;

	pthread_mutex_lock(&ex->st_mu);
	while (ex->size <= size && !ex->shut && timeout_ms > 0) {
		if (pthread_cond_timedwait(&ex->size_cv, &ex->st_mu, &ts) == ETIMEDOUT)
			break;
	}
	n = ex->size;
	pthread_mutex_unlock(&ex->st_mu);
	return n;
}

/*
 * Copies the configured line named name to *out: true, or false when there is
 * none. The lines may change while serving (pl_exchange_reconfigure()), so
 * the line is copied under the lock. Thread: any reader's.
 */
static bool ex_line_find(struct pl_exchange *ex, const char *name, struct pl_line *out)
{
	bool found = false;

	pthread_rwlock_rdlock(&ex->cfg_lock);
	for (size_t i = 0; !found && i < ex->o.nlines; i++) {
		found = strcmp(ex->o.lines[i].name, name) == 0;
		if (found)
			*out = ex->o.lines[i];
	}
	pthread_rwlock_unlock(&ex->cfg_lock);
	return found;
}

/*
 * The line named name: configured, or else as it was when last configured (into *kept).
 * Thread: any reader's.
 */
static int ex_line_get(struct pl_exchange *ex, struct pl_store *s, const char *name,
                       struct pl_line *kept, const struct pl_line **out)
{
	struct pl_buf text;
	int ret;

	if (ex_line_find(ex, name, kept)) {
		*out = kept;
		return 0;
	}
	pl_buf_init(&text, PL_LINE_TEXT_MAX + 1);
	ret = pl_store_line_get(s, name, &text);
	if (ret == PL_EINVAL)
		ret = PL_ENOTFOUND; /* not a name a line can have */
	/* Kept by this exchange, but the store is a file: parsed as strictly as the config. */
	if (!ret &&
	    (pl_line_parse(kept, text.data, text.len, NULL) != 0 || strcmp(kept->name, name) != 0))
		ret = PL_ESTORE;
	if (!ret)
		*out = kept;
	pl_buf_release(&text);
	return ret;
}

#define EX_LINE_SCAN 512  /* inbox indexes read at once while looking for checks */
#define EX_LINE_REFS 1024 /* records referring to one check (answers, unanswered, citations) */

/*
 * A page of the checks of a line since a time, each with its answers or unanswered, checked;
 * for the line's two ends and the auditors (to anyone else, as if there were no such line).
 * Thread: any reader's.
 */
int pl_exchange_line(struct pl_exchange *ex, const char *reader, const char *line, int64_t since,
                     uint64_t after, size_t max, struct pl_exchange_list *out, bool *more)
{
	struct pl_reader who;
	const struct pl_line *l = NULL;
	struct pl_line kept;
	struct pl_store_party p;
	struct pl_store_record meta;
	struct pl_record *r = NULL;
	struct pl_store *s = NULL;
	struct ex_anchor a;
	uint64_t *idx = NULL, *scan = NULL, *refs = NULL, size, cursor = after, next = after;
	size_t n = 0, cap, nchecks = 0;
	bool cut = false, found = false;
	int ret;

	if (!ex || !line || !out || !more)
		return PL_EINVAL;
	who = pl__ex_reader(ex, reader);
	if (max == 0 || max > PL_EXCHANGE_LINE_PAGE_MAX)
		max = PL_EXCHANGE_LINE_PAGE_MAX;
	cap = max * 3; /* a check, two answers or one unanswered */
	idx = malloc(cap * sizeof(*idx));
	scan = malloc(EX_LINE_SCAN * sizeof(*scan));
	refs = malloc(EX_LINE_REFS * sizeof(*refs));
	r = malloc(sizeof(*r));
	if (!idx || !scan || !refs || !r) {
		ret = PL_ENOMEM;
		goto out;
	}
	/* First: what the store shows beyond it is not published. */
	ret = pl__ex_anchor(ex, &a);
	if (ret)
		goto out;
	size = a.size;
	s = ex_reader_get(ex);
	ret = pl_store_begin(s);
	if (!ret)
		ret = ex_line_get(ex, s, line, &kept, &l);
	if (!ret && !who.auditor &&
	    (!reader || (strcmp(reader, l->ends[0]) != 0 && strcmp(reader, l->ends[1]) != 0)))
		ret = PL_ENOTFOUND;
	for (int e = 0; !ret && !found && e < 2; e++) {
		ret = pl_store_party_get(s, l->ends[e], &p);
		found = ret == 0;
		if (ret == PL_ENOTFOUND)
			ret = 0;
	}
	while (!ret && found && !cut) {
		size_t ns = 0;
		ret = pl_store_inbox_list(s, p.pid, false, cursor, scan, EX_LINE_SCAN, &ns);
		for (size_t i = 0; !ret && !cut && i < ns && scan[i] < size; i++) {
			size_t nr = 0;
			next = scan[i] + 1;
			ret = pl_store_record_get(s, scan[i], &meta, NULL);
			if (ret || (strcmp(meta.kind, pl_record_kind_name(PL_KIND_CHECK)) != 0 &&
			            strcmp(meta.kind, pl_record_kind_name(PL_KIND_MISSED)) != 0))
				continue;
			ret = pl__ex_load(s, scan[i], r, &meta);
			if (ret || strcmp(r->line, line) != 0 ||
			    (r->kind == PL_KIND_MISSED ? r->due : r->time) < since)
				continue;
			if (nchecks == max) {
				cut = true;
				next = scan[i];
				break;
			}
			ret = pl_store_referrers(s, scan[i], refs, EX_LINE_REFS, &nr);
			if (ret)
				break;
			idx[n++] = scan[i];
			nchecks++;
			for (size_t k = 0; !ret && k < nr && refs[k] < size && n < cap; k++) {
				ret = pl_store_record_get(s, refs[k], &meta, NULL);
				if (!ret &&
				    (strcmp(meta.kind, pl_record_kind_name(PL_KIND_ANSWER)) == 0 ||
				     strcmp(meta.kind, pl_record_kind_name(PL_KIND_UNANSWERED)) ==
				             0))
					idx[n++] = refs[k];
			}
		}
		if (ret || ns < EX_LINE_SCAN || scan[ns - 1] >= size)
			break;
		cursor = scan[ns - 1] + 1;
	}
	if (!ret)
		ret = ex_list_fill(ex, s, &a, &who, idx, n, next, out);
	if (!ret) {
		out->next = next;
		*more = cut;
	}
out:
	if (s) {
		ex_note_error(ex, s, ret);
		ex_reader_put(ex, s);
	}
	free(idx);
	free(scan);
	free(refs);
	free(r);
	return ret;
}
