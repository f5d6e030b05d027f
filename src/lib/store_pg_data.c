/* The PostgreSQL store's data: records, refs, heads, hashes, checkpoints, parties, inboxes,
 * payloads, timers, thread index. */
#include "store_pg_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool pg_fits(uint64_t v)
{
	return v <= (uint64_t)INT64_MAX;
}

/* Collects the first int8 column of r's rows into out[0..max): PL_ETOOBIG past max. */
static int pg_collect(struct pl_store *s, enum pg_stmt which, const PGresult *r, uint64_t *out,
                      size_t max, size_t *n)
{
	size_t k = (size_t)PQntuples(r);
	int ret = 0;

	if (k > max)
		return PL_ETOOBIG;
	for (size_t i = 0; !ret && i < k; i++)
		ret = pl__pg_u64(s, r, (int)i, 0, &out[i], pl__pg_name(which));
	if (!ret)
		*n = k;
	return ret;
}

/* Runs a query of one optional int8 "last key" row: the next key (0 when none). */
static int pg_next_key(struct pl_store *s, enum pg_stmt which, uint64_t *count)
{
	PGresult *r = NULL;
	uint64_t v = 0;
	int ret = pl__pg_run(s, which, NULL, &r);

	if (!ret && PQntuples(r) > 0) {
		ret = pl__pg_u64(s, r, 0, 0, &v, pl__pg_name(which));
		if (!ret && v == (uint64_t)INT64_MAX)
			ret = pl__sql_bad(&s->q, "store: %s: out of range", pl__pg_name(which));
		v++;
	}
	if (!ret)
		*count = v;
	PQclear(r);
	return ret;
}

/* ---- Records ---- */

int pl__store_pg_record_put(struct pl_store *s, const struct pl_store_record *rec, const char *note,
                            size_t len)
{
	struct pg_args a = {0};
	uint64_t count, found;
	int ret;

	if (!rec || !note || len > INT32_MAX || !pg_fits(rec->seq))
		return PL_EINVAL;
	ret = pl__store_pg_record_count(s, &count);
	if (ret)
		return ret;
	if (rec->index != count && s->pg->sequencer) {
		/* The log is not where this sequencer believes: another one appended. */
		s->pg->fenced = true;
		pl__sql_bad(&s->q,
		            "store: record %" PRIu64 " appended at %" PRIu64
		            ": another sequencer committed",
		            rec->index, count);
		return PL_ESTATE;
	}
	if (rec->index != count)
		return PL_EINVAL;
	ret = pl__store_pg_record_find(s, rec->id, &found);
	if (ret == 0)
		return PL_EEXIST;
	if (ret != PL_ENOTFOUND)
		return ret;
	pl__pg_arg_i64(&a, (int64_t)rec->index);
	pl__pg_arg_bytes(&a, rec->id, PL_HASH_BYTES);
	pl__pg_arg_text(&a, rec->author);
	pl__pg_arg_i64(&a, (int64_t)rec->seq);
	pl__pg_arg_text(&a, rec->kind);
	pl__pg_arg_bytes(&a, note, len);
	return pl__pg_run(s, SP_REC_PUT, &a, NULL);
}

int pl__store_pg_record_get(struct pl_store *s, uint64_t index, struct pl_store_record *rec,
                            struct pl_buf *note)
{
	enum pg_stmt which = note ? SP_REC_GET : SP_REC_GET_META;
	const char *where = pl__pg_name(which);
	struct pl_store_record got;
	struct pg_args a = {0};
	PGresult *r = NULL;
	const uint8_t *b;
	size_t n;
	int ret;

	if (!pg_fits(index))
		return PL_ENOTFOUND;
	pl__pg_arg_i64(&a, (int64_t)index);
	ret = pl__pg_run(s, which, &a, &r);
	if (ret)
		goto out;
	if (PQntuples(r) == 0) {
		ret = PL_ENOTFOUND;
		goto out;
	}
	memset(&got, 0, sizeof(got));
	got.index = index;
	ret = pl__pg_exact(s, r, 0, 0, got.id, PL_HASH_BYTES, where);
	if (!ret)
		ret = pl__pg_text(s, r, 0, 1, got.author, sizeof(got.author), where);
	if (!ret)
		ret = pl__pg_u64(s, r, 0, 2, &got.seq, where);
	if (!ret)
		ret = pl__pg_text(s, r, 0, 3, got.kind, sizeof(got.kind), where);
	if (!ret && note) {
		ret = pl__pg_blob(s, r, 0, 4, &b, &n, where);
		if (!ret && n == 0)
			ret = pl__sql_bad(&s->q, "store: empty record %" PRIu64, index);
		if (!ret)
			ret = pl_buf_add(note, b, n);
	}
	if (!ret && rec)
		*rec = got;
out:
	PQclear(r);
	return ret;
}

int pl__store_pg_record_find(struct pl_store *s, const uint8_t id[static PL_HASH_BYTES],
                             uint64_t *index)
{
	struct pg_args a = {0};
	PGresult *r = NULL;
	uint64_t v;
	int ret;

	pl__pg_arg_bytes(&a, id, PL_HASH_BYTES);
	ret = pl__pg_run(s, SP_REC_FIND, &a, &r);
	if (!ret && PQntuples(r) == 0)
		ret = PL_ENOTFOUND;
	if (!ret)
		ret = pl__pg_u64(s, r, 0, 0, &v, pl__pg_name(SP_REC_FIND));
	if (!ret)
		*index = v;
	PQclear(r);
	return ret;
}

int pl__store_pg_record_find_prefix(struct pl_store *s, const uint8_t *prefix, unsigned nbits,
                                    uint64_t *out, size_t max, size_t *n)
{
	uint8_t lo[PL_HASH_BYTES] = {0}, hi[PL_HASH_BYTES];
	struct pg_args a = {0};
	PGresult *r = NULL;
	int ret;

	if (!prefix || nbits < 32 || nbits > 256 || !out || !n || max > INT32_MAX)
		return PL_EINVAL;
	/* The ids sharing the first nbits bits: from the prefix with zeros to it with ones. */
	memcpy(lo, prefix, (nbits + 7) / 8);
	if (nbits % 8)
		lo[nbits / 8] &= (uint8_t)(0xff00u >> (nbits % 8));
	memcpy(hi, lo, sizeof(hi));
	for (unsigned b = nbits; b < 256; b++)
		hi[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	pl__pg_arg_bytes(&a, lo, sizeof(lo));
	pl__pg_arg_bytes(&a, hi, sizeof(hi));
	pl__pg_arg_i64(&a, (int64_t)max + 1);
	ret = pl__pg_run(s, SP_REC_RANGE, &a, &r);
	if (!ret)
		ret = pg_collect(s, SP_REC_RANGE, r, out, max, n);
	PQclear(r);
	return ret;
}

int pl__store_pg_record_count(struct pl_store *s, uint64_t *count)
{
	return pg_next_key(s, SP_REC_COUNT, count);
}

/* ---- References and chain heads ---- */

int pl__store_pg_ref_put(struct pl_store *s, uint64_t from, uint64_t to)
{
	struct pg_args a = {0};

	if (!pg_fits(from) || !pg_fits(to))
		return PL_EINVAL;
	pl__pg_arg_i64(&a, (int64_t)to);
	pl__pg_arg_i64(&a, (int64_t)from);
	return pl__pg_run(s, SP_REF_PUT, &a, NULL);
}

int pl__store_pg_referrers(struct pl_store *s, uint64_t to, uint64_t *out, size_t max, size_t *n)
{
	struct pg_args a = {0};
	PGresult *r = NULL;
	int ret;

	if (max > INT32_MAX)
		return PL_EINVAL;
	if (!pg_fits(to)) {
		*n = 0;
		return 0;
	}
	pl__pg_arg_i64(&a, (int64_t)to);
	pl__pg_arg_i64(&a, (int64_t)max + 1);
	ret = pl__pg_run(s, SP_REF_LIST, &a, &r);
	if (!ret)
		ret = pg_collect(s, SP_REF_LIST, r, out, max, n);
	PQclear(r);
	return ret;
}

int pl__store_pg_ref_count(struct pl_store *s, uint64_t to, size_t max, size_t *n)
{
	struct pg_args a = {0};
	PGresult *r = NULL;
	uint64_t v;
	int ret;

	if (max > INT32_MAX)
		return PL_EINVAL;
	if (!pg_fits(to)) {
		*n = 0;
		return 0;
	}
	pl__pg_arg_i64(&a, (int64_t)to);
	pl__pg_arg_i64(&a, (int64_t)max);
	ret = pl__pg_run(s, SP_REF_COUNT, &a, &r);
	if (!ret)
		ret = pl__pg_u64(s, r, 0, 0, &v, pl__pg_name(SP_REF_COUNT));
	if (!ret)
		*n = (size_t)(v < max ? v : max);
	PQclear(r);
	return ret;
}

int pl__store_pg_head_get(struct pl_store *s, const char *author, uint64_t *seq, uint64_t *index)
{
	const char *where = pl__pg_name(SP_HEAD_GET);
	struct pg_args a = {0};
	PGresult *r = NULL;
	uint64_t q, i;
	int ret;

	if (!author)
		return PL_EINVAL;
	pl__pg_arg_text(&a, author);
	ret = pl__pg_run(s, SP_HEAD_GET, &a, &r);
	if (!ret && PQntuples(r) == 0)
		ret = PL_ENOTFOUND;
	if (!ret)
		ret = pl__pg_u64(s, r, 0, 0, &q, where);
	if (!ret)
		ret = pl__pg_u64(s, r, 0, 1, &i, where);
	if (!ret) {
		*seq = q;
		*index = i;
	}
	PQclear(r);
	return ret;
}

int pl__store_pg_head_set(struct pl_store *s, const char *author, uint64_t seq, uint64_t index)
{
	struct pg_args a = {0};

	if (!author || !pg_fits(seq) || !pg_fits(index))
		return PL_EINVAL;
	pl__pg_arg_text(&a, author);
	pl__pg_arg_i64(&a, (int64_t)seq);
	pl__pg_arg_i64(&a, (int64_t)index);
	return pl__pg_run(s, SP_HEAD_SET, &a, NULL);
}

/* ---- Merkle hashes ---- */

int pl__store_pg_hashes_put(struct pl_store *s, uint64_t first,
                            const uint8_t (*hashes)[PL_HASH_BYTES], size_t n)
{
	int ret = 0;

	if (n && (!hashes || !pg_fits(first) || n > (uint64_t)INT64_MAX - first))
		return PL_EINVAL;
	for (size_t i = 0; !ret && i < n; i++) {
		struct pg_args a = {0};
		pl__pg_arg_i64(&a, (int64_t)(first + i));
		pl__pg_arg_bytes(&a, hashes[i], PL_HASH_BYTES);
		ret = pl__pg_run(s, SP_HASH_PUT, &a, NULL);
	}
	return ret;
}

int pl__store_pg_hashes_get(struct pl_store *s, const uint64_t *indexes, size_t n,
                            uint8_t (*hashes)[PL_HASH_BYTES])
{
	const char *where = pl__pg_name(SP_HASH_GET);
	struct pg_args a = {0};
	struct pl_buf list;
	PGresult *r = NULL;
	int ret = 0;

	if (n == 0)
		return 0;
	if (!indexes || !hashes)
		return PL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!pg_fits(indexes[i]))
			return PL_ENOTFOUND;
	/* One round trip for a proof's hashes: the indexes as an int8[] literal. */
	pl_buf_init(&list, 64 + n * 21);
	ret = pl_buf_adds(&list, "{");
	for (size_t i = 0; !ret && i < n; i++)
		ret = pl_buf_addf(&list, "%s%" PRIu64, i ? "," : "", indexes[i]);
	if (!ret)
		ret = pl_buf_adds(&list, "}");
	if (ret)
		goto out;
	pl__pg_arg_literal(&a, list.data);
	ret = pl__pg_run(s, SP_HASH_GET, &a, &r);
	if (ret)
		goto out;
	{
		int rows = PQntuples(r);
		for (size_t i = 0; !ret && i < n; i++) {
			bool found = false;
			/* Few rows (a proof's): a scan per index beats a sort. */
			for (int k = 0; !ret && !found && k < rows; k++) {
				uint64_t got;
				ret = pl__pg_u64(s, r, k, 0, &got, where);
				if (!ret && got == indexes[i]) {
					ret = pl__pg_exact(s, r, k, 1, hashes[i], PL_HASH_BYTES,
					                   where);
					found = true;
				}
			}
			if (!ret && !found)
				ret = PL_ENOTFOUND;
		}
	}
out:
	PQclear(r);
	pl_buf_release(&list);
	return ret;
}

int pl__store_pg_hashes_count(struct pl_store *s, uint64_t *count)
{
	return pg_next_key(s, SP_HASH_COUNT, count);
}

/* ---- Checkpoints ---- */

/* Takes the one checkpoint row of r (size, note): PL_ENOTFOUND without one. */
static int pg_checkpoint_read(struct pl_store *s, enum pg_stmt which, const PGresult *r,
                              uint64_t *size_out, struct pl_buf *out)
{
	const char *where = pl__pg_name(which);
	const uint8_t *b;
	uint64_t got;
	size_t n;
	int ret;

	if (PQntuples(r) == 0)
		return PL_ENOTFOUND;
	ret = pl__pg_u64(s, r, 0, 0, &got, where);
	if (!ret)
		ret = pl__pg_blob(s, r, 0, 1, &b, &n, where);
	if (!ret && n == 0)
		ret = pl__sql_bad(&s->q, "store: empty checkpoint");
	if (!ret && out)
		ret = pl_buf_add(out, b, n);
	if (!ret && size_out)
		*size_out = got;
	return ret;
}

int pl__store_pg_checkpoint_put(struct pl_store *s, uint64_t size, const char *note, size_t len)
{
	struct pg_args a = {0}, h = {0};
	PGresult *r = NULL;
	int ret;

	if (!note || !len || len > INT32_MAX || !pg_fits(size))
		return PL_EINVAL;
	pl__pg_arg_i64(&a, (int64_t)size);
	pl__pg_arg_bytes(&a, note, len);
	ret = pl__pg_run(s, SP_CP_PUT, &a, NULL);
	/*
	 * The fence: the head moves only forward. For a sequencer a head already
	 * at or past size means another one committed this size: its batch must
	 * roll back, not fork the log (docs/postgresql.md).
	 */
	pl__pg_arg_i64(&h, (int64_t)size);
	if (!ret)
		ret = pl__pg_run(s, SP_HEAD_CAS, &h, &r);
	if (!ret && s->pg->sequencer && strcmp(PQcmdTuples(r), "1") != 0) {
		pl__sql_bad(&s->q,
		            "store: the log head is at or past %" PRIu64
		            ": another sequencer committed",
		            size);
		s->pg->fenced = true;
		ret = PL_ESTATE;
	}
	/* The head once this transaction commits (at once outside one). */
	if (!ret && strcmp(PQcmdTuples(r), "1") == 0) {
		if (PQtransactionStatus(s->pg->conn) == PQTRANS_IDLE)
			s->pg->head = (int64_t)size;
		else
			s->pg->pending = (int64_t)size;
	}
	PQclear(r);
	return ret;
}

int pl__store_pg_checkpoint_get(struct pl_store *s, uint64_t size, uint64_t *size_out,
                                struct pl_buf *out)
{
	enum pg_stmt which = size == PL_STORE_LATEST ? SP_CP_LATEST : SP_CP_GET;
	struct pg_args a = {0};
	PGresult *r = NULL;
	int ret;

	if (size != PL_STORE_LATEST && !pg_fits(size))
		return PL_ENOTFOUND;
	if (which == SP_CP_GET)
		pl__pg_arg_i64(&a, (int64_t)size);
	ret = pl__pg_run(s, which, &a, &r);
	if (!ret)
		ret = pg_checkpoint_read(s, which, r, size_out, out);
	PQclear(r);
	return ret;
}

int pl__store_pg_checkpoint_cosign(struct pl_store *s, uint64_t size, const char *note, size_t len)
{
	struct pg_args a = {0}, c = {0};
	char dec[24];
	PGresult *r = NULL;
	int ret;

	if (!note || !len || len > INT32_MAX || !pg_fits(size))
		return PL_EINVAL;
	pl__pg_arg_i64(&a, (int64_t)size);
	pl__pg_arg_bytes(&a, note, len);
	ret = pl__pg_run(s, SP_CP_SET, &a, &r);
	if (!ret && strcmp(PQcmdTuples(r), "1") != 0)
		ret = PL_ENOTFOUND;
	snprintf(dec, sizeof(dec), "%" PRIu64, size);
	pl__pg_arg_text(&c, dec);
	if (!ret)
		ret = pl__pg_run(s, SP_CP_COSIGNED_SET, &c, NULL);
	PQclear(r);
	return ret;
}

int pl__store_pg_checkpoint_cosigned(struct pl_store *s, uint64_t *size_out, struct pl_buf *out)
{
	PGresult *r = NULL;
	int ret = pl__pg_run(s, SP_CP_COSIGNED, NULL, &r);

	if (!ret)
		ret = pg_checkpoint_read(s, SP_CP_COSIGNED, r, size_out, out);
	PQclear(r);
	return ret;
}

/* ---- Parties ---- */

/* Reads a parties row (pid, name, vkey, enc_key, reg_idx, revoke_idx). */
static int pg_party_row(struct pl_store *s, const PGresult *r, int row, struct pl_store_party *p,
                        const char *where)
{
	uint64_t pid = 0;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = pl__pg_u64(s, r, row, 0, &pid, where);
	if (!ret)
		ret = pl__pg_text(s, r, row, 1, p->name, sizeof(p->name), where);
	if (!ret)
		ret = pl__pg_text(s, r, row, 2, p->vkey, sizeof(p->vkey), where);
	if (!ret)
		ret = pl__pg_text(s, r, row, 3, p->enc_key, sizeof(p->enc_key), where);
	if (!ret)
		ret = pl__pg_u64(s, r, row, 4, &p->register_index, where);
	if (!ret && !PQgetisnull(r, row, 5)) {
		ret = pl__pg_u64(s, r, row, 5, &p->revoke_index, where);
		p->revoked = true;
	}
	if (!ret && (pid == 0 || pid > (uint64_t)INT64_MAX))
		ret = pl__sql_bad(&s->q, "store: %s: pid out of range", where);
	p->pid = (int64_t)pid;
	return ret;
}

int pl__store_pg_party_put(struct pl_store *s, struct pl_store_party *p)
{
	struct pl_store_party old;
	struct pg_args a = {0};
	PGresult *r = NULL;
	uint64_t pid;
	int ret;

	if (!p || !p->name[0] || !pg_fits(p->register_index))
		return PL_EINVAL;
	ret = pl__store_pg_party_get(s, p->name, &old);
	if (ret == 0)
		return PL_EEXIST;
	if (ret != PL_ENOTFOUND)
		return ret;
	pl__pg_arg_text(&a, p->name);
	pl__pg_arg_text(&a, p->vkey);
	pl__pg_arg_text(&a, p->enc_key);
	pl__pg_arg_i64(&a, (int64_t)p->register_index);
	ret = pl__pg_run(s, SP_PARTY_PUT, &a, &r);
	if (!ret)
		ret = pl__pg_u64(s, r, 0, 0, &pid, pl__pg_name(SP_PARTY_PUT));
	if (!ret) {
		p->pid = (int64_t)pid;
		p->revoked = false;
		p->revoke_index = 0;
	}
	PQclear(r);
	return ret;
}

int pl__store_pg_party_revoke(struct pl_store *s, const char *name, uint64_t index)
{
	struct pl_store_party p;
	struct pg_args a = {0};
	int ret;

	if (!pg_fits(index))
		return PL_EINVAL;
	ret = pl__store_pg_party_get(s, name, &p);
	if (ret)
		return ret;
	if (p.revoked)
		return PL_ESTATE;
	pl__pg_arg_text(&a, name);
	pl__pg_arg_i64(&a, (int64_t)index);
	return pl__pg_run(s, SP_PARTY_REVOKE, &a, NULL);
}

int pl__store_pg_party_return(struct pl_store *s, const struct pl_store_party *p)
{
	struct pl_store_party old;
	struct pg_args a = {0};
	int ret;

	if (!p || !p->name[0] || !pg_fits(p->register_index))
		return PL_EINVAL;
	ret = pl__store_pg_party_get(s, p->name, &old);
	if (ret)
		return ret;
	if (!old.revoked)
		return PL_ESTATE;
	pl__pg_arg_text(&a, p->name);
	pl__pg_arg_text(&a, p->vkey);
	pl__pg_arg_text(&a, p->enc_key);
	pl__pg_arg_i64(&a, (int64_t)p->register_index);
	return pl__pg_run(s, SP_PARTY_RETURN, &a, NULL);
}

int pl__store_pg_party_get(struct pl_store *s, const char *name, struct pl_store_party *p)
{
	struct pl_store_party got;
	struct pg_args a = {0};
	PGresult *r = NULL;
	int ret;

	if (!name || !p)
		return PL_EINVAL;
	pl__pg_arg_text(&a, name);
	ret = pl__pg_run(s, SP_PARTY_GET, &a, &r);
	if (!ret && PQntuples(r) == 0)
		ret = PL_ENOTFOUND;
	if (!ret)
		ret = pg_party_row(s, r, 0, &got, pl__pg_name(SP_PARTY_GET));
	if (!ret)
		*p = got;
	PQclear(r);
	return ret;
}

int pl__store_pg_party_list(struct pl_store *s, struct pl_store_party **out, size_t *n)
{
	struct pl_store_party *v = NULL;
	PGresult *r = NULL;
	size_t k = 0;
	int ret = pl__pg_run(s, SP_PARTY_LIST, NULL, &r);

	if (ret)
		goto out;
	k = (size_t)PQntuples(r);
	v = calloc(k ? k : 1, sizeof(*v));
	if (!v) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; !ret && i < k; i++)
		ret = pg_party_row(s, r, (int)i, &v[i], pl__pg_name(SP_PARTY_LIST));
	if (ret)
		goto out;
	*out = v;
	*n = k;
	v = NULL;
out:
	PQclear(r);
	free(v);
	return ret;
}

/* ---- Inboxes ---- */

int pl__store_pg_inbox_put(struct pl_store *s, int64_t pid, uint64_t index)
{
	struct pg_args a = {0};

	if (pid < 0 || !pg_fits(index))
		return PL_EINVAL;
	pl__pg_arg_i64(&a, pid);
	pl__pg_arg_i64(&a, (int64_t)index);
	return pl__pg_run(s, SP_INBOX_PUT, &a, NULL);
}

int pl__store_pg_inbox_list(struct pl_store *s, int64_t pid, bool with_public, uint64_t after,
                            uint64_t *out, size_t max, size_t *n)
{
	struct pg_args a = {0};
	PGresult *r = NULL;
	int ret;

	if (pid < 0 || max > INT32_MAX || !pg_fits(after))
		return PL_EINVAL;
	pl__pg_arg_i64(&a, pid);
	pl__pg_arg_i64(&a, with_public ? PL_STORE_PUBLIC : pid);
	pl__pg_arg_i64(&a, (int64_t)after);
	pl__pg_arg_i64(&a, (int64_t)max);
	ret = pl__pg_run(s, SP_INBOX_LIST, &a, &r);
	if (!ret)
		ret = pg_collect(s, SP_INBOX_LIST, r, out, max, n);
	PQclear(r);
	return ret;
}

int pl__store_pg_inbox_before(struct pl_store *s, int64_t pid, uint64_t before, uint64_t *out,
                              size_t max, size_t *n)
{
	struct pg_args a = {0};
	PGresult *r = NULL;
	int ret;

	if (pid < 0 || max > INT32_MAX || !pg_fits(before))
		return PL_EINVAL;
	pl__pg_arg_i64(&a, pid);
	pl__pg_arg_i64(&a, (int64_t)before);
	pl__pg_arg_i64(&a, (int64_t)max);
	ret = pl__pg_run(s, SP_INBOX_BEFORE, &a, &r);
	if (!ret)
		ret = pg_collect(s, SP_INBOX_BEFORE, r, out, max, n);
	PQclear(r);
	return ret;
}

/* ---- Payloads ---- */

/* Finds a payload's key, size and (if info is not NULL) what is kept about it, by hash. */
static int pg_payload_find(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                           int64_t *key, size_t *len, struct pl_store_payload *info)
{
	const char *where = pl__pg_name(SP_PAY_FIND);
	struct pl_store_payload p;
	struct pg_args a = {0};
	PGresult *r = NULL;
	uint64_t k, n, referred = 0;
	int64_t stored = 0;
	int ret;

	pl__pg_arg_bytes(&a, hash, PL_HASH_BYTES);
	ret = pl__pg_run(s, SP_PAY_FIND, &a, &r);
	if (!ret && PQntuples(r) == 0)
		ret = PL_ENOTFOUND;
	memset(&p, 0, sizeof(p));
	if (!ret)
		ret = pl__pg_u64(s, r, 0, 0, &k, where);
	if (!ret)
		ret = pl__pg_u64(s, r, 0, 1, &n, where);
	if (!ret && !PQgetisnull(r, 0, 2))
		ret = pl__pg_text(s, r, 0, 2, p.uploader, sizeof(p.uploader), where);
	if (!ret)
		ret = pl__pg_i64(s, r, 0, 3, &stored, where);
	if (!ret)
		ret = pl__pg_u64(s, r, 0, 4, &referred, where);
	if (!ret && info) {
		p.len = (size_t)n;
		p.stored = stored;
		p.referred = referred != 0;
		p.ref_index = referred >= 2 ? (int64_t)(referred - 2) : -1;
		*info = p;
	}
	if (!ret) {
		*key = (int64_t)k;
		*len = (size_t)n;
	}
	PQclear(r);
	return ret;
}

int pl__store_pg_payload_put(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                             const uint8_t *blob, size_t len, const char *uploader, int64_t now)
{
	struct pl_store_payload info;
	struct pg_args a = {0};
	int64_t key;
	size_t n;
	int ret;

	if (!blob || len > INT32_MAX || !uploader || !*uploader ||
	    strlen(uploader) > PL_STORE_NAME_MAX)
		return PL_EINVAL;
	ret = pg_payload_find(s, hash, &key, &n, &info);
	if (ret == 0) {
		/* Its uploader storing it again before any record refers to it: a fresh start. */
		if (info.referred || strcmp(info.uploader, uploader) != 0)
			return 0;
		pl__pg_arg_i64(&a, key);
		pl__pg_arg_i64(&a, now);
		return pl__pg_run(s, SP_PAY_TOUCH, &a, NULL);
	}
	if (ret != PL_ENOTFOUND)
		return ret;
	pl__pg_arg_bytes(&a, hash, PL_HASH_BYTES);
	pl__pg_arg_bytes(&a, blob, len);
	pl__pg_arg_text(&a, uploader);
	pl__pg_arg_i64(&a, now);
	pl__pg_arg_i64(&a, (int64_t)len);
	return pl__pg_run(s, SP_PAY_PUT, &a, NULL);
}

int pl__store_pg_payload_get(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                             uint8_t **blob, size_t *len)
{
	struct pg_args a = {0};
	PGresult *r = NULL;
	const uint8_t *b;
	uint8_t *copy;
	int64_t key;
	size_t n;
	int ret = pg_payload_find(s, hash, &key, &n, NULL);

	if (ret || !blob) {
		if (!ret)
			*len = n;
		return ret;
	}
	pl__pg_arg_i64(&a, key);
	ret = pl__pg_run(s, SP_PAY_GET, &a, &r);
	if (!ret)
		ret = pl__pg_blob(s, r, 0, 0, &b, &n, pl__pg_name(SP_PAY_GET));
	if (ret)
		goto out;
	copy = malloc(n ? n : 1);
	if (!copy) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (n)
		memcpy(copy, b, n);
	*blob = copy;
	*len = n;
out:
	PQclear(r);
	return ret;
}

int pl__store_pg_payload_each(struct pl_store *s,
                              int (*fn)(void *arg, const uint8_t *hash, size_t hash_len,
                                        const uint8_t *blob, size_t len),
                              void *arg)
{
	const char *where = pl__pg_name(SP_PAY_EACH);
	PGresult *r = NULL;
	int ret = pl__pg_run(s, SP_PAY_EACH, NULL, &r);

	for (int i = 0; !ret && i < PQntuples(r); i++) {
		const uint8_t *h, *b;
		size_t hn, bn;
		ret = pl__pg_blob(s, r, i, 0, &h, &hn, where);
		if (!ret)
			ret = pl__pg_blob(s, r, i, 1, &b, &bn, where);
		if (!ret)
			ret = fn(arg, h, hn, b, bn);
	}
	PQclear(r);
	return ret;
}

int pl__store_pg_payload_info(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                              struct pl_store_payload *info)
{
	int64_t key;
	size_t n;

	if (!info)
		return PL_EINVAL;
	return pg_payload_find(s, hash, &key, &n, info);
}

int pl__store_pg_payload_refer(struct pl_store *s, const uint8_t hash[static PL_HASH_BYTES],
                               uint64_t index)
{
	struct pg_args a = {0};

	if (index > (uint64_t)INT64_MAX - 2)
		return PL_EINVAL;
	pl__pg_arg_bytes(&a, hash, PL_HASH_BYTES);
	pl__pg_arg_i64(&a, (int64_t)(index + 2));
	return pl__pg_run(s, SP_PAY_REFER, &a, NULL);
}

int pl__store_pg_payload_pending(struct pl_store *s, const char *uploader, uint64_t *bytes)
{
	struct pg_args a = {0};
	PGresult *r = NULL;
	uint64_t v = 0;
	int ret;

	if (!uploader || !bytes)
		return PL_EINVAL;
	pl__pg_arg_text(&a, uploader);
	ret = pl__pg_run(s, SP_PAY_PENDING, &a, &r);
	if (!ret && PQntuples(r) > 0)
		ret = pl__pg_u64(s, r, 0, 0, &v, pl__pg_name(SP_PAY_PENDING));
	if (!ret)
		*bytes = v;
	PQclear(r);
	return ret;
}

int pl__store_pg_payload_expire(struct pl_store *s, int64_t before, size_t max, size_t *n)
{
	struct pg_args a = {0};
	PGresult *r = NULL;
	uint64_t v;
	int ret;

	if (!n || max > INT32_MAX)
		return PL_EINVAL;
	pl__pg_arg_i64(&a, before);
	pl__pg_arg_i64(&a, (int64_t)max);
	ret = pl__pg_run(s, SP_PAY_EXPIRE, &a, &r);
	if (!ret)
		ret = pl__pg_u64(s, r, 0, 0, &v, pl__pg_name(SP_PAY_EXPIRE));
	if (!ret)
		*n = (size_t)v;
	PQclear(r);
	return ret;
}

/* ---- Timers ---- */

int pl__store_pg_timer_put(struct pl_store *s, uint64_t index, int64_t due)
{
	struct pg_args a = {0};

	if (!pg_fits(index))
		return PL_EINVAL;
	pl__pg_arg_i64(&a, due);
	pl__pg_arg_i64(&a, (int64_t)index);
	return pl__pg_run(s, SP_TIMER_PUT, &a, NULL);
}

int pl__store_pg_timer_del(struct pl_store *s, uint64_t index)
{
	struct pg_args a = {0};

	if (!pg_fits(index))
		return 0;
	pl__pg_arg_i64(&a, (int64_t)index);
	return pl__pg_run(s, SP_TIMER_DEL, &a, NULL);
}

int pl__store_pg_timer_get(struct pl_store *s, uint64_t index, int64_t *due)
{
	struct pg_args a = {0};
	PGresult *r = NULL;
	int64_t v;
	int ret;

	if (!due)
		return PL_EINVAL;
	if (!pg_fits(index))
		return PL_ENOTFOUND;
	pl__pg_arg_i64(&a, (int64_t)index);
	ret = pl__pg_run(s, SP_TIMER_GET, &a, &r);
	if (!ret && PQntuples(r) == 0)
		ret = PL_ENOTFOUND;
	if (!ret)
		ret = pl__pg_i64(s, r, 0, 0, &v, pl__pg_name(SP_TIMER_GET));
	if (!ret)
		*due = v;
	PQclear(r);
	return ret;
}

int pl__store_pg_timer_due(struct pl_store *s, int64_t now, uint64_t *out, size_t max, size_t *n)
{
	struct pg_args a = {0};
	PGresult *r = NULL;
	int ret;

	if (max > INT32_MAX)
		return PL_EINVAL;
	pl__pg_arg_i64(&a, now);
	pl__pg_arg_i64(&a, (int64_t)max);
	ret = pl__pg_run(s, SP_TIMER_DUE, &a, &r);
	if (!ret)
		ret = pg_collect(s, SP_TIMER_DUE, r, out, max, n);
	PQclear(r);
	return ret;
}

/* ---- Thread index nodes ---- */

/* The place's key: its depth and its prefix with the bits past depth zero. */
static void pg_tindex_place(struct pg_args *a, uint8_t key[static PL_HASH_BYTES], unsigned depth,
                            const uint8_t prefix[static PL_HASH_BYTES])
{
	memset(key, 0, PL_HASH_BYTES);
	memcpy(key, prefix, (depth + 7) / 8);
	if (depth % 8)
		key[depth / 8] &= (uint8_t)(0xff00u >> (depth % 8));
	pl__pg_arg_i64(a, (int64_t)depth);
	pl__pg_arg_bytes(a, key, PL_HASH_BYTES);
}

int pl__store_pg_tindex_put(struct pl_store *s, uint64_t size, unsigned depth,
                            const uint8_t prefix[static PL_HASH_BYTES],
                            const struct pl_tindex_node *node)
{
	uint8_t key[PL_HASH_BYTES], enc[PL__STORE_NODE_MAX];
	struct pg_args a = {0};
	size_t n;

	if (!prefix || !node || depth > 256 || !pg_fits(size))
		return PL_EINVAL;
	n = pl__store_node_encode(enc, node);
	pg_tindex_place(&a, key, depth, prefix);
	pl__pg_arg_i64(&a, (int64_t)size);
	pl__pg_arg_bytes(&a, enc, n);
	return pl__pg_run(s, SP_TINDEX_PUT, &a, NULL);
}

int pl__store_pg_tindex_get(struct pl_store *s, uint64_t size, unsigned depth,
                            const uint8_t prefix[static PL_HASH_BYTES], struct pl_tindex_node *out)
{
	uint8_t key[PL_HASH_BYTES];
	struct pg_args a = {0};
	PGresult *r = NULL;
	const uint8_t *b;
	size_t n;
	int ret;

	if (!prefix || !out || depth > 256)
		return PL_EINVAL;
	pg_tindex_place(&a, key, depth, prefix);
	pl__pg_arg_i64(&a, size > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)size);
	ret = pl__pg_run(s, SP_TINDEX_GET, &a, &r);
	if (!ret && PQntuples(r) == 0)
		ret = PL_ENOTFOUND;
	if (!ret)
		ret = pl__pg_blob(s, r, 0, 0, &b, &n, "tindex node");
	if (!ret)
		ret = pl__store_node_decode(s, b, n, out);
	PQclear(r);
	return ret;
}

int pl__store_pg_tindex_empty(struct pl_store *s, bool *empty)
{
	PGresult *r = NULL;
	int ret = pl__pg_run(s, SP_TINDEX_ANY, NULL, &r);

	if (!ret)
		*empty = PQntuples(r) == 0;
	PQclear(r);
	return ret;
}

int pl__store_pg_refs_each(struct pl_store *s,
                           int (*fn)(void *arg, const struct pl_tindex_ref *ref), void *arg)
{
	struct pl_tindex_ref ref;
	PGresult *r = NULL;
	int ret = pl__pg_run(s, SP_REF_EACH, NULL, &r);

	for (int i = 0; !ret && i < PQntuples(r); i++) {
		ret = pl__pg_u64(s, r, i, 0, &ref.index, "refs index");
		if (!ret)
			ret = pl__pg_exact(s, r, i, 1, ref.key, PL_HASH_BYTES, "refs key");
		if (!ret)
			ret = pl__pg_exact(s, r, i, 2, ref.id, PL_HASH_BYTES, "refs id");
		if (!ret)
			ret = fn(arg, &ref);
	}
	PQclear(r);
	return ret;
}
