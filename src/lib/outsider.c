/* An outsider's reading: public records, the directory and proofs checked against the log key. */
#include <parley/outsider.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/member.h>
#include <parley/proof.h>

#include "internal.h"

/* Says why o failed (one line) and returns err. */
static int fail(struct pl_outsider *o, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(struct pl_outsider *o, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, ap);
	va_end(ap);
	return err;
}

/* A client error met doing what, with the exchange's reason when it gave one. */
static int client_fail(struct pl_outsider *o, const char *what, int err)
{
	const struct pl_client_error *e = pl_client_last_error(o->client);

	if (e->status)
		return fail(o, err, "%s: the exchange answered %ld %s", what, e->status,
		            e->reason[0] ? e->reason : e->code);
	return fail(o, err, "%s: %s%s%s", what, pl_strerror(err), e->reason[0] ? ": " : "",
	            e->reason);
}

void pl_outsider_record_release(struct pl_outsider_record *r)
{
	if (!r)
		return;
	free(r->rec);
	free(r->text);
	pl_buf_release(&r->proof);
	memset(r, 0, sizeof(*r));
}

int pl_outsider_open(struct pl_outsider *o, const char *url, const struct pl_vkey *log_key)
{
	int err;

	memset(o, 0, sizeof(*o));
	o->log_key = *log_key;
	if (strlen(log_key->name) > PL_RECORD_ORIGIN_MAX ||
	    !pl_record_origin_is_valid(log_key->name, strlen(log_key->name)))
		return fail(o, PL_EINVAL, "log key %s: its name is not an exchange origin",
		            log_key->name);
	memcpy(o->origin, log_key->name, strlen(log_key->name) + 1);
	err = pl_client_new(&o->client, url, NULL, NULL);
	if (err)
		return fail(o, err, "exchange %s: %s", url, pl_strerror(err));
	return 0;
}

void pl_outsider_close(struct pl_outsider *o)
{
	if (!o)
		return;
	pl_client_free(o->client);
	if (o->has_dir)
		pl_directory_release(&o->dir);
	memset(o, 0, sizeof(*o));
}

/* The directory (GET /parties), every entry checked against its register record. */
static int directory(struct pl_outsider *o)
{
	struct pl_client_party *v = NULL;
	const char *why = NULL;
	size_t n = 0, bad = 0;
	int err;

	if (o->has_dir)
		return 0;
	err = pl_client_parties(o->client, &v, &n);
	if (err)
		return client_fail(o, "directory", err);
	err = pl_member_directory(&o->dir, &o->log_key, o->origin, v, n, &bad, &why);
	if (err && bad < n)
		err = fail(o, err, "directory entry %s: %s", v[bad].name,
		           why ? why : pl_strerror(err));
	else if (err)
		err = fail(o, err, "directory: %s", pl_strerror(err));
	else
		o->has_dir = true;
	pl_client_parties_free(v, n);
	return err;
}

/* Checks the entry e and its proof (fetched), into out. */
static int check_entry(struct pl_outsider *o, const struct pl_client_entry *e,
                       struct pl_outsider_record *out)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1], what[48];
	struct pl_outsider_record r;
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	struct pl_proof *p = NULL;
	const char *why = NULL;
	int err;

	memset(&r, 0, sizeof(r));
	pl_buf_init(&r.proof, PL_TLOG_PROOF_MAX_BYTES);
	pl_record_id_format(hex, e->id);
	snprintf(what, sizeof(what), "record %.16s", hex);
	r.rec = malloc(sizeof(*r.rec));
	r.text = malloc(e->note_len + 1);
	if (!cp || !r.rec || !r.text) {
		err = fail(o, PL_ENOMEM, "%s: out of memory", what);
		goto out;
	}
	memcpy(r.text, e->note, e->note_len);
	r.text[e->note_len] = '\0';
	r.len = e->note_len;
	r.index = e->index;
	err = pl_member_record_open(r.rec, r.id, r.text, r.len, &o->dir, o->origin, &why);
	if (err) {
		err = fail(o, err, "%s: %s", what, why ? why : pl_strerror(err));
		goto out;
	}
	if (memcmp(r.id, e->id, PL_RECORD_ID_BYTES) != 0) {
		err = fail(o, PL_EVERIFY, "%s: the exchange handed over another record", what);
		goto out;
	}
	err = pl_client_public_proof(o->client, hex, 0, &r.proof);
	if (err) {
		err = client_fail(o, what, err);
		goto out;
	}
	err = pl_member_proof_check(r.proof.data, r.proof.len, r.text, r.len, r.index, o->origin,
	                            &o->log_key, &p, cp);
	if (err) {
		err = fail(o, err, "%s: its proof %s%s", what, p ? "does not hold: " : "",
		           pl_strerror(err));
		goto out;
	}
	r.size = cp->size;
	*out = r;
	memset(&r, 0, sizeof(r));
out:
	pl_proof_free(p);
	pl_outsider_record_release(&r);
	free(cp);
	return err;
}

int pl_outsider_record(struct pl_outsider *o, const char *id, struct pl_outsider_record *out)
{
	struct pl_client_entry e;
	char what[96];
	int err;

	memset(&e, 0, sizeof(e));
	snprintf(what, sizeof(what), "record %.64s", id);
	err = directory(o);
	if (err)
		return err;
	err = pl_client_public_record(o->client, id, &e);
	if (err == PL_ENOTFOUND)
		err = fail(o, err, "%s: no public record has that id", what);
	else if (err)
		err = client_fail(o, what, err);
	if (!err)
		err = check_entry(o, &e, out);
	pl_client_entry_release(&e);
	return err;
}

int pl_outsider_statements(struct pl_outsider *o, uint64_t after, size_t max,
                           struct pl_outsider_record **v, size_t *n, uint64_t *next)
{
	struct pl_outsider_record *out = NULL;
	struct pl_client_list l;
	size_t k = 0;
	int err;

	memset(&l, 0, sizeof(l));
	err = directory(o);
	if (err)
		return err;
	err = pl_client_statements(o->client, after, &l);
	if (err)
		return client_fail(o, "statements", err);
	if (max == 0 || max > l.n)
		max = l.n;
	out = calloc(max ? max : 1, sizeof(*out));
	if (!out)
		err = fail(o, PL_ENOMEM, "statements: out of memory");
	for (size_t i = 0; !err && i < max; i++) {
		err = check_entry(o, &l.v[i], &out[k]);
		if (!err && out[k].rec->kind != PL_KIND_STATEMENT)
			err = fail(o, PL_EVERIFY,
			           "record at log #%llu: listed as a statement, it is not",
			           (unsigned long long)out[k].index);
		if (!err)
			k++;
	}
	if (err) {
		for (size_t i = 0; i <= k && out && i < max; i++)
			pl_outsider_record_release(&out[i]);
		free(out);
	} else {
		*v = out;
		*n = k;
		*next = max < l.n ? l.v[max].index : l.next;
	}
	pl_client_list_release(&l);
	return err;
}
