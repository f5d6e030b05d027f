/* libFuzzer target: parleyd's request-target parser never crashes, and what it takes is sound. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/buf.h>
#include <parley/exchange.h>
#include <parley/record.h>
#include <parley/tiles.h>

#include "target.h"

/*
 * Input: "METHOD SP request-target", the first bytes of a request line: the
 * method is what comes before the first space when that is at most
 * METHOD_MAX bytes; otherwise the whole input is a GET's request-target.
 */
#define METHOD_MAX 15

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The query keys each route takes. */
static unsigned allowed_of(enum pl_parleyd_route r)
{
	switch (r) {
	case R_EXPLORER:
		return Q_BEFORE | Q_PARTY | Q_FROM | Q_TO;
	case R_PUBLIC_PROOF:
	case R_PROOF:
	case R_INDEX:
	case R_INDEX_RECORD:
		return Q_SIZE;
	case R_CONSISTENCY:
		return Q_OLD | Q_NEW;
	case R_STATEMENTS:
		return Q_AFTER;
	case R_INBOX:
		return Q_AFTER | Q_WAIT;
	case R_LINE:
		return Q_SINCE | Q_AFTER;
	default:
		return 0;
	}
}

/* What an accepted request-target s[0..n) must have given. */
static void check_accepted(const struct pl_parleyd_target *t, const char *method, const char *s,
                           size_t n)
{
	const char *qm = memchr(s, '?', n);
	size_t pn = qm ? (size_t)(qm - s) : n;
	bool takes_id = t->route == R_RECORD_GET || t->route == R_PROOF || t->route == R_THREAD ||
	                t->route == R_EXPLORER_STMT || t->route == R_PUBLIC_RECORD ||
	                t->route == R_PUBLIC_PROOF;
	/* Where the id starts: /records/, /threads/; /statement/; /record/; /proof/. */
	size_t id_at = t->route == R_EXPLORER_STMT   ? 11
	               : t->route == R_PUBLIC_RECORD ? 8
	               : t->route == R_PUBLIC_PROOF  ? 7
	                                             : 9;
	static const uint8_t zero[PL_HASH_BYTES];
	const struct pl_parleyd_query *q = &t->q;

	if (t->route == R_NONE || n == 0 || s[0] != '/')
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '%' ||
		    s[i] == '#')
			abort();
	if (t->is_post != (strcmp(method, "POST") == 0) ||
	    t->is_post != (t->route == R_PAYLOAD_POST || t->route == R_RECORD_POST))
		abort();

	/* An id is 8..64 hex digits, copied from its place in the path, and only where one goes. */
	if (t->id[t->id_len] != '\0' || strlen(t->id) != t->id_len)
		abort();
	if (takes_id) {
		if (t->id_len < PL_EXCHANGE_ID_PREFIX_MIN || t->id_len > PL_PARLEYD_ID_TEXT_MAX)
			abort();
		for (size_t i = 0; i < t->id_len; i++)
			if (!is_hex(t->id[i]))
				abort();
		if (pn < id_at + t->id_len || memcmp(s + id_at, t->id, t->id_len) != 0)
			abort();
		/* The explorer's ids are the whole rest of the path. */
		if (id_at != 9 && pn != id_at + t->id_len)
			abort();
	} else if (t->id_len != 0) {
		abort();
	}

	/* A line name is valid and is the rest of the path. */
	if (t->route == R_LINE) {
		if (!pl_record_name_is_valid(t->line, strlen(t->line)) ||
		    pn != 7 + strlen(t->line) || memcmp(s + 7, t->line, pn - 7) != 0)
			abort();
	} else if (t->line[0] != '\0') {
		abort();
	}

	/* An asset name is [a-z0-9][a-z0-9.-]* of at most PL_PARLEYD_ASSET_NAME_MAX bytes and is
	 * the rest of the path. */
	if (t->route == R_ASSET) {
		size_t an = strlen(t->asset);
		if (an == 0 || an > PL_PARLEYD_ASSET_NAME_MAX || t->asset[0] == '.' ||
		    t->asset[0] == '-' || pn != 8 + an || memcmp(s, "/assets/", 8) != 0 ||
		    memcmp(s + 8, t->asset, an) != 0)
			abort();
		for (size_t i = 0; i < an; i++)
			if (!((t->asset[i] >= 'a' && t->asset[i] <= 'z') ||
			      (t->asset[i] >= '0' && t->asset[i] <= '9') || t->asset[i] == '-' ||
			      t->asset[i] == '.'))
				abort();
	} else if (t->asset[0] != '\0') {
		abort();
	}

	/* A payload hash, or a thread index key, is the 64 hex digits of the path (the key in
	 * lowercase, as records write ids). */
	if (t->route == R_PAYLOAD_GET || t->route == R_INDEX) {
		size_t at = t->route == R_PAYLOAD_GET ? 10 : 7;
		uint8_t h[PL_HASH_BYTES];
		if (pn != at + PL_HASH_HEX_LEN ||
		    pl_hex_decode_exact(h, sizeof(h), s + at, PL_HASH_HEX_LEN) != 0 ||
		    memcmp(h, t->hash, sizeof(h)) != 0)
			abort();
		for (size_t i = 0; t->route == R_INDEX && i < PL_HASH_HEX_LEN; i++)
			if (s[at + i] >= 'A' && s[at + i] <= 'F')
				abort();
	} else if (memcmp(t->hash, zero, sizeof(zero)) != 0) {
		abort();
	}

	/* A tile is one that can exist, and its canonical path is the path. */
	if (t->route == R_TILE || t->route == R_ENTRIES) {
		struct pl_tile tile = {.n = t->tile,
		                       .level = t->level,
		                       .width = t->width ? t->width : PL_TILE_WIDTH,
		                       .entries = t->route == R_ENTRIES};
		struct pl_buf b;
		if (t->width >= PL_TILE_WIDTH || !pl_tiles_is_valid(&tile))
			abort();
		pl_buf_init(&b, PL_TILE_PATH_MAX);
		if (pl_tiles_path(&b, &tile) != 0 || b.len != pn - 1 ||
		    memcmp(b.data, s + 1, b.len) != 0)
			abort();
		pl_buf_release(&b);
	} else if (t->level || t->width || t->tile) {
		abort();
	}

	/* A query value is set only with its bit, only for a key the route takes, at most
	 * 2^63-1; no query at all leaves no bit. */
	if ((q->has & ~allowed_of(t->route)) != 0 || (!qm && q->has != 0))
		abort();
	if ((!(q->has & Q_AFTER) && q->after) || (!(q->has & Q_SIZE) && q->size) ||
	    (!(q->has & Q_OLD) && q->old) || (!(q->has & Q_NEW) && q->new_) ||
	    (!(q->has & Q_WAIT) && q->wait) || (!(q->has & Q_SINCE) && q->since))
		abort();
	if (q->after > INT64_MAX || q->size > INT64_MAX || q->old > INT64_MAX ||
	    q->new_ > INT64_MAX || q->wait > INT64_MAX || q->since > INT64_MAX ||
	    q->before > INT64_MAX || (!(q->has & Q_BEFORE) && q->before))
		abort();
	/* A party filter is a valid name; dates are whole days. */
	if ((q->has & Q_PARTY) ? !pl_record_name_is_valid(q->party, strlen(q->party))
	                       : q->party[0] != '\0')
		abort();
	if ((!(q->has & Q_FROM) && q->from) || (!(q->has & Q_TO) && q->to) || q->from % 86400 ||
	    q->to % 86400)
		abort();
}

/* The same parse, field by field (padding aside). */
static bool same(const struct pl_parleyd_target *a, const struct pl_parleyd_target *b)
{
	return a->route == b->route && a->is_post == b->is_post && a->id_len == b->id_len &&
	       strcmp(a->id, b->id) == 0 && strcmp(a->line, b->line) == 0 &&
	       strcmp(a->asset, b->asset) == 0 && memcmp(a->hash, b->hash, PL_HASH_BYTES) == 0 &&
	       a->level == b->level && a->width == b->width && a->tile == b->tile &&
	       a->q.has == b->q.has && a->q.after == b->q.after && a->q.size == b->q.size &&
	       a->q.old == b->q.old && a->q.new_ == b->q.new_ && a->q.wait == b->q.wait &&
	       a->q.since == b->q.since && a->q.before == b->q.before &&
	       strcmp(a->q.party, b->q.party) == 0 && a->q.from == b->q.from && a->q.to == b->q.to;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *sp = memchr(in, ' ', size);
	char method[METHOD_MAX + 1] = "GET", *copy;
	const char *s = in;
	size_t n = size;
	struct pl_parleyd_target t, again;
	unsigned st;

	if (sp && (size_t)(sp - in) <= METHOD_MAX) {
		memcpy(method, in, (size_t)(sp - in));
		method[sp - in] = '\0';
		s = sp + 1;
		n = size - (size_t)(sp - in) - 1;
	}
	/* An exact-length copy, so that a read past the target is caught. */
	copy = malloc(n ? n : 1);
	if (!copy)
		abort();
	memcpy(copy, s, n);
	st = pl_parleyd_target_parse(&t, method, copy, n);
	if (st == 0) {
		check_accepted(&t, method, copy, n);
		/* A GET's target reads the same as a HEAD's. */
		if (!t.is_post) {
			if (pl_parleyd_target_parse(&again, "HEAD", copy, n) != 0 ||
			    !same(&again, &t))
				abort();
		}
	} else if (st == 405) {
		bool known = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
		             strcmp(method, "POST") == 0;
		/* The Allow header names the method the path takes, when the method is one of ours.
		 */
		if (known != (t.route != R_NONE))
			abort();
	} else if (st != 400 && st != 404) {
		abort();
	}
	free(copy);
	return 0;
}
