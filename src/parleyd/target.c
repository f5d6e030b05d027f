/* The request-target of parleyd's API: strict, bounded routing and parsing of untrusted bytes. */
#include "target.h"

#include <string.h>

#include <parley/exchange.h>
#include <parley/record.h>
#include <parley/tiles.h>
#include <parley/timestamp.h>

#include "internal.h"

/* The statuses of a refusal (RFC 9110), without depending on an HTTP library. */
#define STATUS_BAD_REQUEST        400
#define STATUS_NOT_FOUND          404
#define STATUS_METHOD_NOT_ALLOWED 405

/* Parses a decimal with no leading zeros, no sign, at most max. */
static bool parse_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	return pl_parse_u64(out, s, n, max) == 0;
}

/* A record id in a path: 8 to 64 hex digits (a full id or a prefix). */
static bool id_text_is_valid(const char *s, size_t n)
{
	if (n < PL_EXCHANGE_ID_PREFIX_MIN || n > PL_PARLEYD_ID_TEXT_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static bool take_id(struct pl_parleyd_target *t, const char *s, size_t n)
{
	if (!id_text_is_valid(s, n))
		return false;
	memcpy(t->id, s, n);
	t->id[n] = '\0';
	t->id_len = n;
	return true;
}

/* A date YYYY-MM-DD as the Unix time of its first second, through the one timestamp parser. */
static bool parse_date(const char *s, size_t n, int64_t *out)
{
	char ts[PL_TIMESTAMP_LEN + 1];

	if (n != 10)
		return false;
	memcpy(ts, s, 10);
	memcpy(ts + 10, "T00:00:00Z", 11);
	return pl_timestamp_parse(out, ts, PL_TIMESTAMP_LEN) == 0;
}

/* The value of a query key that is not decimal: 0 to take it, -1 to refuse, 1 when empty. */
static int parse_text_value(struct pl_parleyd_query *q, unsigned bit, const char *v, size_t n)
{
	if (n == 0)
		return 1;
	if (bit == Q_PARTY) {
		if (!pl_record_name_is_valid(v, n))
			return -1;
		memcpy(q->party, v, n);
		q->party[n] = '\0';
		return 0;
	}
	if (!parse_date(v, n, bit == Q_FROM ? &q->from : &q->to))
		return -1;
	if (bit == Q_TO)
		q->to += 86400; /* through the end of that day */
	return 0;
}

/* Parses "k=v&k=v" with only the keys in allowed, each once, values decimal (or text). */
static bool parse_query(const char *s, size_t n, unsigned allowed, struct pl_parleyd_query *q)
{
	static const struct {
		const char *name;
		unsigned bit;
		size_t off; /* of a decimal value; 0 for a text one */
	} keys[] = {
	        {"after", Q_AFTER, offsetof(struct pl_parleyd_query, after)},
	        {"size", Q_SIZE, offsetof(struct pl_parleyd_query, size)},
	        {"old", Q_OLD, offsetof(struct pl_parleyd_query, old)},
	        {"new", Q_NEW, offsetof(struct pl_parleyd_query, new_)},
	        {"wait", Q_WAIT, offsetof(struct pl_parleyd_query, wait)},
	        {"since", Q_SINCE, offsetof(struct pl_parleyd_query, since)},
	        {"before", Q_BEFORE, offsetof(struct pl_parleyd_query, before)},
	        {"party", Q_PARTY, 0},
	        {"from", Q_FROM, 0},
	        {"to", Q_TO, 0},
	};
	unsigned seen = 0;
	size_t i = 0;

	memset(q, 0, sizeof(*q));
	while (i < n) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t end = amp ? (size_t)(amp - s) : n;
		const char *eq = memchr(s + i, '=', end - i);
		size_t k;
		bool found = false;

		if (!eq)
			return false;
		for (k = 0; k < PL__ARRAY_LEN(keys); k++) {
			size_t kl = strlen(keys[k].name);
			if ((size_t)(eq - (s + i)) == kl && memcmp(s + i, keys[k].name, kl) == 0) {
				found = true;
				break;
			}
		}
		if (!found || !(allowed & keys[k].bit) || (seen & keys[k].bit))
			return false;
		seen |= keys[k].bit;
		if (keys[k].off == 0) {
			int r = parse_text_value(q, keys[k].bit, eq + 1,
			                         (size_t)(s + end - eq - 1));
			if (r < 0)
				return false;
			if (r == 0)
				q->has |= keys[k].bit;
		} else {
			if (!parse_dec(eq + 1, (size_t)(s + end - eq - 1), INT64_MAX,
			               (uint64_t *)((char *)q + keys[k].off)))
				return false;
			q->has |= keys[k].bit;
		}
		i = end + (amp ? 1 : 0);
		if (amp && i == n)
			return false; /* trailing '&' */
	}
	return true;
}

/* A file name under /assets/: [a-z0-9][a-z0-9.-]*, at most PL_PARLEYD_ASSET_NAME_MAX bytes. */
static bool asset_name_is_valid(const char *s, size_t n)
{
	if (n == 0 || n > PL_PARLEYD_ASSET_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static bool path_is(const char *p, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

unsigned pl_parleyd_target_parse(struct pl_parleyd_target *t, const char *method, const char *s,
                                 size_t n)
{
	const char *p = s, *qm;
	size_t pn;
	unsigned allowed = 0, status = STATUS_BAD_REQUEST;
	bool post = strcmp(method, "POST") == 0;

	memset(t, 0, sizeof(*t));
	if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		status = STATUS_METHOD_NOT_ALLOWED;
		goto out;
	}
	if (n == 0 || s[0] != '/')
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '%' ||
		    s[i] == '#')
			goto out; /* 400: nothing in this API needs escaping */
	qm = memchr(s, '?', n);
	pn = qm ? (size_t)(qm - s) : n;

	t->is_post = post;
	status = STATUS_NOT_FOUND;
	if (path_is(p, pn, "/health")) {
		t->route = R_HEALTH;
	} else if (path_is(p, pn, "/")) {
		t->route = R_EXPLORER;
		allowed = Q_BEFORE | Q_PARTY | Q_FROM | Q_TO;
	} else if (path_is(p, pn, "/directory")) {
		t->route = R_EXPLORER_DIR;
	} else if (path_is(p, pn, "/log")) {
		t->route = R_EXPLORER_LOG;
	} else if (path_is(p, pn, "/lines")) {
		t->route = R_EXPLORER_LINES;
		allowed = Q_FROM | Q_TO;
	} else if (path_is(p, pn, "/statements.atom")) {
		t->route = R_FEED;
	} else if (path_is(p, pn, "/metrics")) {
		t->route = R_METRICS;
	} else if ((pn > 11 && memcmp(p, "/statement/", 11) == 0) ||
	           (pn > 8 && memcmp(p, "/record/", 8) == 0) ||
	           (pn > 7 && memcmp(p, "/proof/", 7) == 0)) {
		size_t skip = p[1] == 's' ? 11 : p[1] == 'r' ? 8 : 7;
		t->route = p[1] == 's'   ? R_EXPLORER_STMT
		           : p[1] == 'r' ? R_PUBLIC_RECORD
		                         : R_PUBLIC_PROOF;
		allowed = t->route == R_PUBLIC_PROOF ? Q_SIZE : 0;
		if (!take_id(t, p + skip, pn - skip)) {
			status = STATUS_BAD_REQUEST;
			goto out;
		}
	} else if (path_is(p, pn, "/checkpoint")) {
		t->route = R_CHECKPOINT;
	} else if (path_is(p, pn, "/log-key")) {
		t->route = R_LOG_KEY;
	} else if (pn > 6 && memcmp(p, "/tile/", 6) == 0) {
		struct pl_tile tile;
		/* The library's strict tlog-tiles path parser; anything else is no tile. */
		if (pl_tiles_parse_path(&tile, p + 1, pn - 1) != 0)
			goto out;
		t->route = tile.entries ? R_ENTRIES : R_TILE;
		t->level = tile.level;
		t->tile = tile.n;
		t->width = tile.width == PL_TILE_WIDTH ? 0 : tile.width;
	} else if (path_is(p, pn, "/payloads")) {
		t->route = R_PAYLOAD_POST;
	} else if (pn > 10 && memcmp(p, "/payloads/", 10) == 0) {
		t->route = R_PAYLOAD_GET;
		if (pl_hex_decode_exact(t->hash, PL_HASH_BYTES, p + 10, pn - 10) != 0) {
			status = STATUS_BAD_REQUEST;
			goto out;
		}
	} else if (path_is(p, pn, "/records")) {
		t->route = R_RECORD_POST;
	} else if (pn > 9 && memcmp(p, "/records/", 9) == 0) {
		const char *id = p + 9, *slash = memchr(id, '/', pn - 9);
		size_t id_len;
		if (slash && path_is(slash, (size_t)(p + pn - slash), "/proof")) {
			t->route = R_PROOF;
			allowed = Q_SIZE;
			id_len = (size_t)(slash - id);
		} else if (!slash) {
			t->route = R_RECORD_GET;
			id_len = pn - 9;
		} else {
			goto out; /* 404 */
		}
		if (!take_id(t, id, id_len)) {
			status = STATUS_BAD_REQUEST;
			goto out;
		}
	} else if (path_is(p, pn, "/consistency")) {
		t->route = R_CONSISTENCY;
		allowed = Q_OLD | Q_NEW;
	} else if (pn > 9 && memcmp(p, "/threads/", 9) == 0) {
		t->route = R_THREAD;
		if (!take_id(t, p + 9, pn - 9)) {
			status = STATUS_BAD_REQUEST;
			goto out;
		}
	} else if (path_is(p, pn, "/index")) {
		t->route = R_INDEX_RECORD;
		allowed = Q_SIZE;
	} else if (pn > 7 && memcmp(p, "/index/", 7) == 0) {
		t->route = R_INDEX;
		allowed = Q_SIZE;
		/* The key: a full record id, exactly as records write it. */
		if (pl_record_id_parse(t->hash, p + 7, pn - 7) != 0) {
			status = STATUS_BAD_REQUEST;
			goto out;
		}
	} else if (path_is(p, pn, "/parties")) {
		t->route = R_PARTIES;
	} else if (path_is(p, pn, "/statements")) {
		t->route = R_STATEMENTS;
		allowed = Q_AFTER;
	} else if (path_is(p, pn, "/inbox")) {
		t->route = R_INBOX;
		allowed = Q_AFTER | Q_WAIT;
	} else if (pn > 7 && memcmp(p, "/lines/", 7) == 0) {
		t->route = R_LINE;
		allowed = Q_SINCE | Q_AFTER;
		if (!pl_record_name_is_valid(p + 7, pn - 7))
			goto out; /* 404: no such line */
		memcpy(t->line, p + 7, pn - 7);
		t->line[pn - 7] = '\0';
	} else if (pn > 8 && memcmp(p, "/assets/", 8) == 0) {
		t->route = R_ASSET;
		if (!asset_name_is_valid(p + 8, pn - 8))
			goto out; /* 404: no such file */
		memcpy(t->asset, p + 8, pn - 8);
		t->asset[pn - 8] = '\0';
	} else {
		goto out; /* 404 */
	}
	if ((t->route == R_PAYLOAD_POST || t->route == R_RECORD_POST) != post) {
		status = STATUS_METHOD_NOT_ALLOWED;
		goto out;
	}
	if (qm && !parse_query(qm + 1, n - pn - 1, allowed, &t->q)) {
		status = STATUS_BAD_REQUEST;
		goto out;
	}
	status = 0;
out:
	return status;
}
