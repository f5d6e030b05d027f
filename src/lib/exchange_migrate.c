/* parleyd migrate: an exchange's SQLite store moved into PostgreSQL, and checked after the move. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/exchange.h>

#include "exchange_int.h"
#include "internal.h"
#include "store.h"

#define MIG_PAGE 1024 /* indexes read at once from an inbox or the timers */

/* A migration's two stores and where it tells what failed. */
struct mig {
	struct pl_store *src, *dst;
	struct pl_buf *err;
};

/* Notes what failed (a store's detail, if any) in err; returns ret. */
static int mig_fail(struct mig *m, int ret, const char *what, struct pl_store *s)
{
	const char *d = s ? pl_store_errmsg(s) : "";

	if (m->err && !m->err->len)
		(void)!pl_buf_addf(m->err, "%s: %s%s%s", what, pl_strerror(ret), *d ? ": " : "", d);
	return ret;
}

/*
 * A check or missed at index i: the destination keeps it as its line's last (the next check's
 * `ref previous`); records come in log order, so the last one written wins.
 */
static int mig_line_last(struct mig *m, uint64_t i, const struct pl_store_record *rec)
{
	struct pl_store_record meta;
	struct pl_record *r;
	int ret;

	if (strcmp(rec->kind, pl_record_kind_name(PL_KIND_CHECK)) != 0 &&
	    strcmp(rec->kind, pl_record_kind_name(PL_KIND_MISSED)) != 0)
		return 0;
	r = malloc(sizeof(*r));
	ret = r ? pl__ex_load(m->src, i, r, &meta) : PL_ENOMEM;
	if (!ret)
		ret = pl_store_line_last_put(m->dst, r->line, i);
	free(r);
	return ret ? mig_fail(m, ret, "writing a line's last check", m->dst) : 0;
}

/* Records, their references, their authors' chain heads and each line's last check. */
static int mig_records(struct mig *m, uint64_t count)
{
	struct pl_store_record rec, got;
	struct pl_buf note, back;
	uint64_t seq, idx, seq2, idx2;
	int ret = 0;

	pl_buf_init(&note, 4096);
	pl_buf_init(&back, 4096);
	for (uint64_t i = 0; !ret && i < count; i++) {
		pl_buf_reset(&note);
		ret = pl_store_record_get(m->src, i, &rec, &note);
		if (ret) {
			ret = mig_fail(m, ret, "reading a record", m->src);
			break;
		}
		ret = pl_store_record_put(m->dst, &rec, note.data, note.len);
		if (ret)
			ret = mig_fail(m, ret, "writing a record", m->dst);
		/* The author's head as the source keeps it (the last one written wins). */
		if (!ret && pl_store_head_get(m->src, rec.author, &seq, &idx) == 0 &&
		    pl_store_head_get(m->dst, rec.author, &seq2, &idx2) != 0) {
			ret = pl_store_head_set(m->dst, rec.author, seq, idx);
			if (ret)
				ret = mig_fail(m, ret, "writing a chain head", m->dst);
		}
		if (!ret)
			ret = mig_line_last(m, i, &rec);
		/* Read back at once: the bytes and what is indexed about them. */
		pl_buf_reset(&back);
		if (!ret && (pl_store_record_get(m->dst, i, &got, &back) != 0 ||
		             back.len != note.len || memcmp(back.data, note.data, note.len) != 0 ||
		             memcmp(&got, &rec, sizeof(rec)) != 0))
			ret = mig_fail(m, PL_EDAMAGED, "a record read back", m->dst);
	}
	pl_buf_release(&note);
	pl_buf_release(&back);
	return ret;
}

/* One reference of the source, written to the destination (ids as looked up there). */
static int mig_ref(void *arg, const struct pl_tindex_ref *ref)
{
	struct mig *m = arg;
	uint64_t to;
	int ret = pl_store_record_find(m->dst, ref->key, &to);

	if (!ret)
		ret = pl_store_ref_put(m->dst, ref->index, to);
	return ret ? mig_fail(m, ret, "writing a reference", m->dst) : 0;
}

/* The Merkle tree's stored hashes, compared as they are written. */
static int mig_hashes(struct mig *m)
{
	uint8_t(*h)[PL_HASH_BYTES] = malloc(256 * PL_HASH_BYTES);
	uint8_t(*back)[PL_HASH_BYTES] = malloc(256 * PL_HASH_BYTES);
	uint64_t idx[256], n = 0;
	int ret = pl_store_hashes_count(m->src, &n);

	if (!h || !back)
		ret = PL_ENOMEM;
	for (uint64_t first = 0; !ret && first < n; first += 256) {
		size_t k = n - first < 256 ? (size_t)(n - first) : 256;
		for (size_t i = 0; i < k; i++)
			idx[i] = first + i;
		ret = pl_store_hashes_get(m->src, idx, k, h);
		if (ret) {
			ret = mig_fail(m, ret, "reading hashes", m->src);
			break;
		}
		ret = pl_store_hashes_put(m->dst, first, (const uint8_t(*)[PL_HASH_BYTES])h, k);
		if (!ret)
			ret = pl_store_hashes_get(m->dst, idx, k, back);
		if (ret)
			ret = mig_fail(m, ret, "writing hashes", m->dst);
		else if (memcmp(h, back, k * PL_HASH_BYTES) != 0)
			ret = mig_fail(m, PL_EDAMAGED, "hashes read back", m->dst);
	}
	free(h);
	free(back);
	return ret;
}

/* Every checkpoint (one per batch, at most one per tree size) and the latest cosigned one. */
static int mig_checkpoints(struct mig *m, uint64_t count)
{
	struct pl_buf cp, back;
	uint64_t size;
	int ret = 0, r;

	pl_buf_init(&cp, PL_CHECKPOINT_MAX_BYTES + 4096);
	pl_buf_init(&back, PL_CHECKPOINT_MAX_BYTES + 4096);
	for (uint64_t i = 0; !ret && i <= count; i++) {
		pl_buf_reset(&cp);
		r = pl_store_checkpoint_get(m->src, i, NULL, &cp);
		if (r == PL_ENOTFOUND)
			continue;
		if (r) {
			ret = mig_fail(m, r, "reading a checkpoint", m->src);
			break;
		}
		ret = pl_store_checkpoint_put(m->dst, i, cp.data, cp.len);
		pl_buf_reset(&back);
		if (!ret)
			ret = pl_store_checkpoint_get(m->dst, i, NULL, &back);
		if (ret)
			ret = mig_fail(m, ret, "writing a checkpoint", m->dst);
		else if (back.len != cp.len || memcmp(back.data, cp.data, cp.len) != 0)
			ret = mig_fail(m, PL_EDAMAGED, "a checkpoint read back", m->dst);
	}
	pl_buf_reset(&cp);
	r = ret ? 0 : pl_store_checkpoint_cosigned(m->src, &size, &cp);
	if (!ret && r == 0) {
		ret = pl_store_checkpoint_cosign(m->dst, size, cp.data, cp.len);
		if (ret)
			ret = mig_fail(m, ret, "marking the cosigned checkpoint", m->dst);
	} else if (!ret && r != PL_ENOTFOUND) {
		ret = mig_fail(m, r, "reading the cosigned checkpoint", m->src);
	}
	pl_buf_release(&cp);
	pl_buf_release(&back);
	return ret;
}

/* One inbox (pid, or PL_STORE_PUBLIC), page by page, under the destination's pid. */
static int mig_inbox(struct mig *m, int64_t from, int64_t to)
{
	uint64_t *v = malloc(MIG_PAGE * sizeof(*v)), after = 0;
	size_t n = MIG_PAGE;
	int ret = v ? 0 : PL_ENOMEM;

	while (!ret && n == MIG_PAGE) {
		ret = pl_store_inbox_list(m->src, from, false, after, v, MIG_PAGE, &n);
		for (size_t i = 0; !ret && i < n; i++)
			ret = pl_store_inbox_put(m->dst, to, v[i]);
		if (!ret && n)
			after = v[n - 1] + 1;
	}
	free(v);
	return ret ? mig_fail(m, ret, "copying an inbox", NULL) : 0;
}

/* The directory (new pids, mapped from the old ones), revocations and inboxes. */
static int mig_parties(struct mig *m)
{
	struct pl_store_party *v = NULL;
	size_t n = 0;
	int ret = pl_store_party_list(m->src, &v, &n);

	if (ret)
		return mig_fail(m, ret, "reading the directory", m->src);
	ret = mig_inbox(m, PL_STORE_PUBLIC, PL_STORE_PUBLIC);
	for (size_t i = 0; !ret && i < n; i++) {
		struct pl_store_party p = v[i];
		ret = pl_store_party_put(m->dst, &p);
		if (!ret && v[i].revoked)
			ret = pl_store_party_revoke(m->dst, p.name, v[i].revoke_index);
		if (ret) {
			ret = mig_fail(m, ret, "writing a party", m->dst);
			break;
		}
		ret = mig_inbox(m, v[i].pid, p.pid);
	}
	free(v);
	return ret;
}

/* One blob of the source with what is kept about it. */
static int mig_payload(void *arg, const uint8_t *hash, size_t hash_len, const uint8_t *blob,
                       size_t len)
{
	struct mig *m = arg;
	struct pl_store_payload info, got;
	int ret;

	if (hash_len != PL_HASH_BYTES)
		return mig_fail(m, PL_EDAMAGED, "a blob's hash", m->src);
	ret = pl_store_payload_info(m->src, hash, &info);
	if (ret)
		return mig_fail(m, ret, "reading a blob", m->src);
	/* A blob of schema 1 (no uploader, referred to by an unknown record) has no equal there. */
	if (!info.uploader[0] || (info.referred && info.ref_index < 0))
		return mig_fail(m, PL_ESTATE, "a blob stored before uploaders were kept", NULL);
	ret = pl_store_payload_put(m->dst, hash, blob, len, info.uploader, info.stored);
	if (!ret && info.referred)
		ret = pl_store_payload_refer(m->dst, hash, (uint64_t)info.ref_index);
	if (!ret)
		ret = pl_store_payload_info(m->dst, hash, &got);
	if (ret)
		return mig_fail(m, ret, "writing a blob", m->dst);
	if (memcmp(&got, &info, sizeof(got)) != 0)
		return mig_fail(m, PL_EDAMAGED, "a blob read back", m->dst);
	return 0;
}

/* The armed timers, with their due times. */
static int mig_timers(struct mig *m)
{
	uint64_t *v = NULL, *nv;
	size_t cap = MIG_PAGE / 2, n = 0;
	int64_t due;
	int ret = PL_ETOOBIG;

	/* All of them at once (due by the end of time), the array doubled until they fit. */
	while (ret == PL_ETOOBIG && cap < ((size_t)1 << 26)) {
		cap *= 2;
		nv = realloc(v, cap * sizeof(*v));
		if (!nv) {
			ret = PL_ENOMEM;
			break;
		}
		v = nv;
		ret = pl_store_timer_due(m->src, INT64_MAX, v, cap, &n);
	}
	for (size_t i = 0; !ret && i < n; i++) {
		ret = pl_store_timer_get(m->src, v[i], &due);
		if (!ret)
			ret = pl_store_timer_put(m->dst, v[i], due);
	}
	free(v);
	return ret ? mig_fail(m, ret, "copying the timers", NULL) : 0;
}

int pl_exchange_migrate(const char *dir, const char *url, struct pl_buf *err)
{
	struct mig m = {.err = err};
	char origin[PL_ORIGIN_MAX + 1], where[PL_STORE_URL_MAX + 1];
	uint64_t count = 0, n2 = 0;
	bool marked = false;
	int lockfd = -1, ret;

	if (!dir || !url)
		return PL_EINVAL;
	/* No exchange runs, none starts meanwhile. */
	ret = pl__ex_lock_file(dir, true, "the exchange is running; stop parleyd first", &lockfd,
	                       err);
	if (ret)
		goto out;
	ret = pl__store_location(dir, where);
	if (ret != PL_ENOTFOUND) {
		ret = mig_fail(&m, ret ? ret : PL_EEXIST, "the store is already in PostgreSQL",
		               NULL);
		goto out;
	}
	ret = pl_store_open(&m.src, dir, false, err);
	if (!ret)
		ret = pl_store_begin(m.src); /* one snapshot of the whole source */
	if (!ret)
		ret = pl_store_origin(m.src, origin);
	if (!ret)
		ret = pl_store_published_marked(m.src, &marked);
	if (ret) {
		ret = mig_fail(&m, ret, "opening the SQLite store", m.src);
		goto out;
	}
	ret = pl_store_create_url(url, origin);
	if (!ret)
		ret = pl_store_open_url(&m.dst, url, true, err);
	if (ret) {
		ret = mig_fail(&m, ret,
		               ret == PL_EEXIST ? "the database already holds a store"
		                                : "creating the PostgreSQL store",
		               NULL);
		goto out;
	}
	/* One transaction: the copy is there whole or not at all. */
	ret = pl_store_begin(m.dst);
	if (!ret)
		ret = pl_store_record_count(m.src, &count);
	if (!ret)
		ret = mig_records(&m, count);
	if (!ret)
		ret = pl_store_refs_each(m.src, mig_ref, &m);
	if (!ret)
		ret = mig_hashes(&m);
	if (!ret)
		ret = mig_checkpoints(&m, count);
	if (!ret)
		ret = mig_parties(&m);
	if (!ret)
		ret = pl_store_payload_each(m.src, mig_payload, &m);
	if (!ret)
		ret = mig_timers(&m);
	if (!ret && marked)
		ret = pl_store_published_mark(m.dst);
	if (!ret)
		ret = pl_store_record_count(m.dst, &n2);
	if (!ret && n2 != count)
		ret = mig_fail(&m, PL_EDAMAGED, "the record count read back", NULL);
	if (!ret)
		ret = pl_store_commit(m.dst);
	if (ret) {
		ret = mig_fail(&m, ret, "copying", m.dst);
		goto out;
	}
	/* From here on the data directory's store is the database. */
	ret = pl_store_locate(dir, url);
	if (ret)
		ret = mig_fail(&m, ret, "recording the store's location", NULL);
out:
	if (m.dst)
		pl_store_rollback(m.dst);
	pl_store_close(m.dst);
	if (m.src)
		pl_store_rollback(m.src);
	pl_store_close(m.src);
	if (lockfd >= 0)
		close(lockfd);
	sodium_memzero(where, sizeof(where));
	return ret;
}
