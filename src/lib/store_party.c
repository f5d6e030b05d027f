/* The SQLite backend's parties: their rows, their keys and their chain head names. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "internal.h"
#include "sqlite.h"
#include "store_pg.h"
#include "store_sqlite.h"
#include "banned.h"

/* ---- Parties ---- */

/* Reads a parties row (pid, name, vkey, enc_key, reg_idx, revoke_idx). */
static int store_party_row(struct pl_store *s, sqlite3_stmt *st, struct pl_store_party *p,
                           const char *where)
{
	uint64_t pid = 0;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = pl__sql_col_u64(&s->q, st, 0, &pid, where);
	if (!ret)
		ret = pl__sql_col_text(&s->q, st, 1, p->name, sizeof(p->name), where);
	if (!ret)
		ret = pl__sql_col_text(&s->q, st, 2, p->vkey, sizeof(p->vkey), where);
	if (!ret)
		ret = pl__sql_col_text(&s->q, st, 3, p->enc_key, sizeof(p->enc_key), where);
	if (!ret)
		ret = pl__sql_col_u64(&s->q, st, 4, &p->register_index, where);
	if (!ret && sqlite3_column_type(st, 5) != SQLITE_NULL) {
		ret = pl__sql_col_u64(&s->q, st, 5, &p->revoke_index, where);
		p->revoked = true;
	}
	p->pid = (int64_t)pid;
	return ret;
}

int pl_store_party_put(struct pl_store *s, struct pl_store_party *p)
{
	PL__STORE_PG(s, pl__store_pg_party_put(s, p));
	struct pl_store_party old;
	sqlite3_stmt *st;
	int ret;

	if (!p || !p->name[0] || !store_u64_fits(p->register_index))
		return PL_EINVAL;
	ret = pl_store_party_get(s, p->name, &old);
	if (ret == 0)
		return PL_EEXIST;
	if (ret != PL_ENOTFOUND)
		return ret;
	ret = pl__sql_stmt(&s->q, ST_PARTY_PUT, &st);
	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->vkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->enc_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)p->register_index);
	ret = pl__sql_exec(&s->q, ST_PARTY_PUT, st);
	if (!ret) {
		p->pid = (int64_t)sqlite3_last_insert_rowid(s->q.db);
		p->revoked = false;
		p->revoke_index = 0;
	}
	return ret;
}

/* Deletes one added key of party pid (vkey), or all of them (vkey NULL). */
static int store_pkey_del(struct pl_store *s, int64_t pid, const char *vkey)
{
	PL__STORE_PG(s, pl__store_pg_pkey_del(s, pid, vkey));
	enum store_stmt which = vkey ? ST_PKEY_DEL : ST_PKEY_DEL_ALL;
	sqlite3_stmt *st;
	int ret = pl__sql_stmt(&s->q, which, &st);

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, pid);
	if (vkey)
		sqlite3_bind_text(st, 2, vkey, -1, SQLITE_STATIC);
	return pl__sql_exec(&s->q, which, st);
}

int pl_store_party_revoke(struct pl_store *s, const char *name, uint64_t index)
{
	PL__STORE_PG(s, pl__store_pg_party_revoke(s, name, index));
	struct pl_store_party p;
	sqlite3_stmt *st;
	int ret;

	if (!store_u64_fits(index))
		return PL_EINVAL;
	ret = pl_store_party_get(s, name, &p);
	if (ret)
		return ret;
	if (p.revoked)
		return PL_ESTATE;
	ret = store_pkey_del(s, p.pid, NULL);
	if (!ret)
		ret = pl__sql_stmt(&s->q, ST_PARTY_REVOKE, &st);
	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
	return pl__sql_exec(&s->q, ST_PARTY_REVOKE, st);
}

/* The keys party_keys holds for pid, in the order they were added, appended to out[*n]. */
static int store_pkey_list(struct pl_store *s, int64_t pid,
                           struct pl_store_party_key out[static PL_RECORD_MAX_KEYS], size_t *n)
{
	PL__STORE_PG(s, pl__store_pg_pkey_list(s, pid, out, n));
	const char *where = pl__store_stmt_name(ST_PKEY_LIST);
	sqlite3_stmt *st;
	int rc = SQLITE_DONE, ret = pl__sql_stmt(&s->q, ST_PKEY_LIST, &st);

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, pid);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct pl_store_party_key *k = &out[*n];
		if (*n == PL_RECORD_MAX_KEYS) {
			ret = PL_EDAMAGED;
			break;
		}
		memset(k, 0, sizeof(*k));
		ret = pl__sql_col_text(&s->q, st, 0, k->vkey, sizeof(k->vkey), where);
		if (!ret)
			ret = pl__sql_col_text(&s->q, st, 1, k->chain, sizeof(k->chain), where);
		if (!ret)
			ret = pl__sql_col_u64(&s->q, st, 2, &k->register_index, where);
		if (!ret)
			(*n)++;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = pl__sql_fail(&s->q, where, rc);
	pl__sql_done(st);
	return ret;
}

/* Adds a party_keys row for pid. */
static int store_pkey_put(struct pl_store *s, int64_t pid, const struct pl_store_party_key *k)
{
	PL__STORE_PG(s, pl__store_pg_pkey_put(s, pid, k));
	sqlite3_stmt *st;
	int ret = pl__sql_stmt(&s->q, ST_PKEY_PUT, &st);

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, k->vkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, k->chain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)k->register_index);
	return pl__sql_exec(&s->q, ST_PKEY_PUT, st);
}

/* Sets party name's enc_key (enc) or vkey to text. */
static int store_party_set(struct pl_store *s, const char *name, bool enc, const char *text)
{
	PL__STORE_PG(s, pl__store_pg_party_set(s, name, enc, text));
	enum store_stmt which = enc ? ST_PARTY_ENC : ST_PARTY_VKEY;
	sqlite3_stmt *st;
	int ret = pl__sql_stmt(&s->q, which, &st);

	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	return pl__sql_exec(&s->q, which, st);
}

int pl_store_party_keys(struct pl_store *s, const char *name,
                        struct pl_store_party_key out[static PL_RECORD_MAX_KEYS], size_t *n)
{
	struct pl_store_party p;
	int ret;

	if (!name || !out || !n)
		return PL_EINVAL;
	*n = 0;
	ret = pl_store_party_get(s, name, &p);
	if (ret || p.revoked)
		return ret;
	memset(&out[0], 0, sizeof(out[0]));
	memcpy(out[0].vkey, p.vkey, sizeof(p.vkey));
	out[0].register_index = p.register_index;
	ret = pl_store_party_chain_get(s, name, out[0].chain, sizeof(out[0].chain));
	if (!ret) {
		*n = 1;
		ret = store_pkey_list(s, p.pid, out, n);
	}
	if (ret)
		*n = 0;
	return ret;
}

int pl_store_party_key_add(struct pl_store *s, const char *name, const struct pl_store_party_key *k,
                           const char *enc_key)
{
	struct pl_store_party_key have[PL_RECORD_MAX_KEYS];
	struct pl_store_party p;
	size_t n = 0;
	int ret;

	if (!name || !k || !k->vkey[0] || !k->chain[0] || !enc_key || !enc_key[0] ||
	    strlen(enc_key) > PL_PARTY_EKEY_TEXT_MAX || !store_u64_fits(k->register_index))
		return PL_EINVAL;
	ret = pl_store_party_get(s, name, &p);
	if (!ret && p.revoked)
		ret = PL_ESTATE;
	if (!ret)
		ret = pl_store_party_keys(s, name, have, &n);
	for (size_t i = 0; !ret && i < n; i++)
		if (strcmp(have[i].vkey, k->vkey) == 0)
			ret = PL_EEXIST;
	if (!ret && n >= PL_RECORD_MAX_KEYS)
		ret = PL_ELIMIT;
	if (!ret)
		ret = store_pkey_put(s, p.pid, k);
	if (!ret)
		ret = store_party_set(s, name, true, enc_key);
	return ret;
}

int pl_store_party_key_revoke(struct pl_store *s, const char *name, const char *vkey,
                              uint64_t index, bool *last)
{
	struct pl_store_party_key have[PL_RECORD_MAX_KEYS];
	struct pl_store_party p;
	size_t n = 0, at = PL_RECORD_MAX_KEYS;
	int ret;

	if (last)
		*last = false;
	if (!name || !vkey || !store_u64_fits(index))
		return PL_EINVAL;
	ret = pl_store_party_get(s, name, &p);
	if (!ret)
		ret = pl_store_party_keys(s, name, have, &n);
	for (size_t i = 0; !ret && i < n; i++)
		if (strcmp(have[i].vkey, vkey) == 0)
			at = i;
	if (!ret && at == PL_RECORD_MAX_KEYS)
		ret = PL_ENOTFOUND;
	if (ret)
		return ret;
	if (n == 1) {
		if (last)
			*last = true;
		return pl_store_party_revoke(s, name, index);
	}
	if (at > 0)
		return store_pkey_del(s, p.pid, vkey);
	/* The row's key leaves: the oldest added key takes its place. */
	ret = store_party_set(s, name, false, have[1].vkey);
	if (!ret)
		ret = pl_store_party_chain_put(s, name, have[1].chain);
	if (!ret)
		ret = store_pkey_del(s, p.pid, have[1].vkey);
	return ret;
}

int pl_store_party_return(struct pl_store *s, const struct pl_store_party *p)
{
	PL__STORE_PG(s, pl__store_pg_party_return(s, p));
	struct pl_store_party old;
	sqlite3_stmt *st;
	int ret;

	if (!p || !p->name[0] || !store_u64_fits(p->register_index))
		return PL_EINVAL;
	ret = pl_store_party_get(s, p->name, &old);
	if (ret)
		return ret;
	if (!old.revoked)
		return PL_ESTATE;
	ret = pl__sql_stmt(&s->q, ST_PARTY_RETURN, &st);
	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->vkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->enc_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)p->register_index);
	return pl__sql_exec(&s->q, ST_PARTY_RETURN, st);
}

int pl_store_party_chain_put(struct pl_store *s, const char *name, const char *chain)
{
	PL__STORE_PG(s, pl__store_pg_party_chain_put(s, name, chain));
	char key[PL__STORE_META_KEY_MAX + 1];
	int ret = pl__store_meta_key(key, "chain", name);

	if (!ret && (!chain || !chain[0] || strlen(chain) > PL_STORE_CHAIN_MAX))
		ret = PL_EINVAL;
	return ret ? ret : pl__store_meta_put(s, key, chain);
}

int pl_store_party_chain_get(struct pl_store *s, const char *name, char *out, size_t cap)
{
	PL__STORE_PG(s, pl__store_pg_party_chain_get(s, name, out, cap));
	char key[PL__STORE_META_KEY_MAX + 1], v[PL_STORE_CHAIN_MAX + 1];
	int ret = pl__store_meta_key(key, "chain", name);

	if (!ret && (!out || cap == 0))
		ret = PL_EINVAL;
	if (!ret)
		ret = pl__store_meta_get(s, key, v, sizeof(v));
	if (ret == PL_ENOTFOUND) /* a chain never renamed: the party's own name */
		ret = snprintf(v, sizeof(v), "%s", name) < 0 ? PL_EINVAL : 0;
	if (!ret && strlen(v) >= cap)
		ret = PL_ETOOBIG;
	if (!ret)
		memcpy(out, v, strlen(v) + 1);
	return ret;
}

int pl_store_party_get(struct pl_store *s, const char *name, struct pl_store_party *p)
{
	PL__STORE_PG(s, pl__store_pg_party_get(s, name, p));
	const char *where = pl__store_stmt_name(ST_PARTY_GET);
	struct pl_store_party got;
	sqlite3_stmt *st;
	int rc, ret = pl__sql_stmt(&s->q, ST_PARTY_GET, &st);

	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = store_party_row(s, st, &got, where);
		if (!ret)
			*p = got;
	} else if (rc == SQLITE_DONE) {
		ret = PL_ENOTFOUND;
	} else {
		ret = pl__sql_fail(&s->q, where, rc);
	}
	pl__sql_done(st);
	return ret;
}

int pl_store_party_list(struct pl_store *s, struct pl_store_party **out, size_t *n)
{
	PL__STORE_PG(s, pl__store_pg_party_list(s, out, n));
	const char *where = pl__store_stmt_name(ST_PARTY_LIST);
	struct pl_store_party *v = NULL;
	sqlite3_stmt *st;
	size_t k = 0, cap = 0;
	int rc, ret = pl__sql_stmt(&s->q, ST_PARTY_LIST, &st);

	if (ret)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct pl_store_party *nv = realloc(v, ncap * sizeof(*v));
			if (!nv) {
				ret = PL_ENOMEM;
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		ret = store_party_row(s, st, &v[k], where);
		if (ret)
			goto out;
		k++;
	}
	if (rc != SQLITE_DONE) {
		ret = pl__sql_fail(&s->q, where, rc);
		goto out;
	}
	*out = v;
	*n = k;
	v = NULL;
out:
	pl__sql_done(st);
	free(v);
	return ret;
}
