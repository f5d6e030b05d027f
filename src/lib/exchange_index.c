/* Serving the thread index: a key's proof under the root of the index record a checkpoint ends. */
#include <parley/exchange.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/note.h>
#include <parley/record.h>
#include <parley/tindex.h>

#include "exchange_int.h"
#include "internal.h"
#include "store.h"

bool (*pl__ex_index_omits)(const char *author);

/*
 * 0 when reader may read the record at index, PL_ENOTFOUND when it may not
 * (the answer for a record that does not exist), or the store's error: the
 * need-to-know rule of every other read (pl__ex_may_read()). Thread: any
 * reader's.
 */
static int ex_index_may_read(struct pl_exchange *ex, struct pl_store *s, const char *reader,
                             uint64_t index)
{
	struct pl_reader who = pl__ex_reader(ex, reader);
	bool yes = false;
	int ret;

	if (!reader || !reader[0])
		return PL_ENOTFOUND;
	ret = pl__ex_may_read(s, &who, index, &yes);
	return ret ? ret : yes ? 0 : PL_ENOTFOUND;
}

/*
 * The root that the checkpoint of tree size `size` commits to: the record at
 * size - 1, checked up to the published root a, must be an index record.
 * PL_ENOTFOUND when it is another kind (a checkpoint signed before the thread
 * index). The record itself goes to *keep when keep is not NULL (release it
 * with pl_exchange_entry_release()). Thread: any reader's.
 */
static int ex_index_root(struct pl_exchange *ex, struct pl_store *s, const struct ex_anchor *a,
                         uint64_t size, uint8_t root[static PL_HASH_BYTES],
                         struct pl_exchange_entry *keep)
{
	struct pl_exchange_entry e;
	struct pl_record *r = malloc(sizeof(*r));
	struct pl_note *n = NULL;
	int ret = r ? pl__ex_entry(ex, s, a, size - 1, &e) : PL_ENOMEM;

	if (ret) {
		free(r);
		return ret;
	}
	/* Checked up to the signed root: parsed, not verified again. */
	if (pl_note_parse(&n, e.note, e.note_len) != 0 ||
	    pl_record_parse(r, n->text, n->text_len, NULL) != 0)
		ret = pl__ex_damaged(ex, "a logged record does not parse");
	else if (r->kind != PL_KIND_INDEX)
		ret = PL_ENOTFOUND;
	else
		memcpy(root, r->index_root, PL_HASH_BYTES);
	pl_note_free(n);
	if (!ret && keep)
		*keep = e;
	else
		pl_exchange_entry_release(&e);
	free(r);
	return ret;
}

/*
 * The entries of the record at kidx under the index record at size - 1: the
 * records below size - 1 that refer to it (the refs table), in log order, with
 * their ids, into a new *out. Thread: any reader's.
 */
static int ex_index_entries(struct pl_store *s, uint64_t kidx, uint64_t size,
                            struct pl_tindex_entry **out, size_t *n)
{
	uint64_t *src = malloc(PL_TINDEX_MAX_ENTRIES * sizeof(*src));
	struct pl_tindex_entry *e = NULL;
	size_t nsrc = 0, k = 0;
	int ret = src ? 0 : PL_ENOMEM;

	if (!ret)
		ret = pl_store_referrers(s, kidx, src, PL_TINDEX_MAX_ENTRIES, &nsrc);
	if (!ret && nsrc) {
		e = calloc(nsrc, sizeof(*e));
		ret = e ? 0 : PL_ENOMEM;
	}
	for (size_t i = 0; !ret && i < nsrc && src[i] < size - 1; i++) {
		struct pl_store_record meta;
		ret = pl_store_record_get(s, src[i], &meta, NULL);
		if (!ret && !(pl__ex_index_omits && pl__ex_index_omits(meta.author))) {
			e[k].index = src[i];
			memcpy(e[k].id, meta.id, PL_HASH_BYTES);
			k++;
		}
	}
	free(src);
	if (ret) {
		free(e);
		return ret;
	}
	*out = e;
	*n = k;
	return 0;
}

/*
 * The proof of key under the tree as the checkpoint of size committed to it
 * (its nodes at versions up to size), verified against root, in text form.
 * Thread: any reader's.
 */
static int ex_index_prove(struct pl_exchange *ex, struct pl_store *s, uint64_t size,
                          const uint8_t key[static PL_HASH_BYTES], const struct pl_tindex_entry *e,
                          size_t n, const uint8_t root[static PL_HASH_BYTES], struct pl_buf *out)
{
	struct pl_store_tindex v = {.s = s, .read_size = size, .write_size = size};
	struct pl_tindex_store ts = pl_store_tindex_store(&v);
	struct pl_tindex_proof *p = NULL;
	struct pl_tindex *t = NULL;
	int ret = pl_tindex_open(&t, &ts);

	if (!ret)
		ret = pl_tindex_prove(t, key, e, n, &p);
	/* A node out of shape, or one that cannot be where it is. */
	if (ret == PL_ESTORE) {
		char why[EX_WHY_MAX];
		snprintf(why, sizeof(why),
		         "the thread index's nodes at checkpoint %llu do not "
		         "make a tree: %s",
		         (unsigned long long)size, pl_store_errmsg(s));
		ret = pl__ex_damaged(ex, why);
	}
	if (ret == PL_EPROOF)
		ret = pl__ex_damaged(ex, "the thread index's nodes do not hold the entries of a "
		                         "record that the log says refer to it");
	if (!ret && pl_tindex_proof_verify(p, key, root) != 0)
		ret = pl__ex_damaged(ex, "a proof from the thread index's nodes does not verify "
		                         "against the root of its index record");
	if (!ret)
		ret = pl_tindex_proof_format(out, p);
	pl_tindex_proof_free(p);
	pl_tindex_free(t);
	return ret;
}

/*
 * Takes a reader and opens one read snapshot on the checkpoint of tree size
 * *size (0: the newest, which *size is then set to), whose index record's root
 * goes to root (and the record to *keep when keep is not NULL). On success the
 * caller gives *sp back with ex_reader_put(); on failure nothing is held.
 * Thread: any reader's.
 */
static int ex_index_open(struct pl_exchange *ex, uint64_t *size, struct ex_anchor *a,
                         struct pl_store **sp, uint8_t root[static PL_HASH_BYTES],
                         struct pl_exchange_entry *keep)
{
	struct pl_store *s;
	struct pl_buf cp;
	int ret = pl__ex_anchor(ex, a);

	if (ret)
		return ret;
	if (*size == 0)
		*size = a->size;
	if (*size == 0 || *size > a->size)
		return PL_ENOTFOUND;
	pl_buf_init(&cp, PL_CHECKPOINT_MAX_BYTES + 4096);
	s = ex_reader_get(ex);
	/* One snapshot: the index record, the refs and the nodes agree. */
	ret = pl_store_begin(s);
	if (!ret)
		ret = pl_store_checkpoint_get(s, *size, NULL, &cp);
	if (!ret)
		ret = ex_index_root(ex, s, a, *size, root, keep);
	pl_buf_release(&cp);
	if (ret) {
		ex_note_error(ex, s, ret);
		ex_reader_put(ex, s);
		return ret;
	}
	*sp = s;
	return 0;
}

int pl_exchange_index_proof(struct pl_exchange *ex, const char *reader,
                            const uint8_t key[static PL_HASH_BYTES], uint64_t size,
                            struct pl_buf *out)
{
	struct pl_tindex_entry *e = NULL;
	uint8_t root[PL_HASH_BYTES];
	struct ex_anchor a;
	struct pl_store *s = NULL;
	uint64_t kidx = 0;
	size_t n = 0;
	int ret;

	if (!ex || !key || !out)
		return PL_EINVAL;
	ret = ex_index_open(ex, &size, &a, &s, root, NULL);
	if (ret)
		return ret;
	ret = pl_store_record_find(s, key, &kidx);
	if (!ret && kidx >= size)
		ret = PL_ENOTFOUND;
	if (!ret)
		ret = ex_index_may_read(ex, s, reader, kidx);
	if (!ret)
		ret = ex_index_entries(s, kidx, size, &e, &n);
	if (ret == PL_ETOOBIG)
		ret = pl__ex_damaged(ex, "more records refer to a record than the index holds");
	if (!ret)
		ret = ex_index_prove(ex, s, size, key, e, n, root, out);
	ex_note_error(ex, s, ret);
	ex_reader_put(ex, s);
	free(e);
	return ret;
}

int pl_exchange_index_record(struct pl_exchange *ex, uint64_t size, struct pl_exchange_entry *out)
{
	uint8_t root[PL_HASH_BYTES];
	struct ex_anchor a;
	struct pl_store *s = NULL;
	int ret;

	if (!ex || !out)
		return PL_EINVAL;
	ret = ex_index_open(ex, &size, &a, &s, root, out);
	if (!ret)
		ex_reader_put(ex, s);
	return ret;
}
