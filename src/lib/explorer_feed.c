/* The explorer's Atom feed (RFC 4287) of public statements, escaped by the one HTML escaping. */
#include <parley/explorer.h>

#include <stdlib.h>
#include <string.h>

#include <parley/encoding.h>
#include <parley/html.h>
#include <parley/record.h>
#include <parley/timestamp.h>

#include "internal.h"

/*
 * A urn:uuid (RFC 9562 version 8, the layout for names hashed with something
 * newer than SHA-1) from the first 16 bytes of a SHA-256: stable, and unique
 * as the hash is.
 */
static int add_uuid(struct pl_buf *out, const uint8_t h[static PL_HASH_BYTES])
{
	uint8_t u[16];
	char hex[33];

	memcpy(u, h, sizeof(u));
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x80);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	pl_hex_encode(hex, u, sizeof(u));
	return pl_buf_addf(out, "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
	                   hex + 16, hex + 20);
}

static int add_time(struct pl_buf *out, int64_t t)
{
	char ts[PL_TIMESTAMP_LEN + 1];
	int ret = pl_timestamp_format(ts, t);

	/* A claimed time is always within the years a timestamp writes (the record grammar). */
	if (ret == 0)
		ret = pl_buf_adds(out, ts);
	return ret;
}

static int add_entry(struct pl_buf *out, const struct pl_exchange_entry *e,
                     const struct pl_record *rec)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	const char *what = (rec->has & PL_RECORD_HAS_CLASS) && rec->cls == PL_CLASS_MEASURE
	                           ? "Measure"
	                           : "Statement";
	int ret = pl_buf_adds(out, "<entry>\n<id>");

	pl_record_id_format(hex, e->id);
	if (ret == 0)
		ret = add_uuid(out, e->id);
	if (ret == 0)
		ret = pl_buf_addf(out, "</id>\n<title type=\"text\">%s by ", what);
	if (ret == 0)
		ret = pl_html_escapes(out, rec->author);
	if (ret == 0)
		ret = pl_buf_addf(out, " (log #%llu)</title>\n<updated>",
		                  (unsigned long long)e->index);
	if (ret == 0)
		ret = add_time(out, rec->time);
	if (ret == 0)
		ret = pl_buf_adds(out, "</updated>\n<published>");
	if (ret == 0)
		ret = add_time(out, rec->time);
	if (ret == 0)
		ret = pl_buf_adds(out, "</published>\n<author><name>");
	if (ret == 0)
		ret = pl_html_escapes(out, rec->author);
	if (ret == 0)
		ret = pl_buf_addf(out,
		                  "</name></author>\n<link rel=\"alternate\" type=\"text/html\" "
		                  "href=\"statement/%s\"/>\n<content type=\"text\">",
		                  hex);
	if (ret == 0 && (rec->has & PL_RECORD_HAS_BODY))
		ret = pl_html_escape(out, rec->body, rec->body_len);
	if (ret == 0)
		ret = pl_buf_adds(out, "</content>\n</entry>\n");
	return ret;
}

int pl_explorer_feed(struct pl_exchange *ex, const struct pl_explorer_site *site,
                     struct pl_buf *out)
{
	static const char feed_name[] = "parley statements feed\n";
	struct pl_record *rec = malloc(sizeof(*rec));
	struct pl_exchange_list l;
	struct pl_buf feed, name;
	uint8_t h[PL_HASH_BYTES];
	int64_t updated = site->now;
	int ret;

	memset(&l, 0, sizeof(l));
	pl_buf_init(&feed, PL_EXPLORER_BYTES_MAX);
	pl_buf_init(&name, sizeof(feed_name) + PL_ORIGIN_MAX);
	if (!rec)
		return PL_ENOMEM;
	ret = pl_exchange_statements_before(ex, 0, PL_EXPLORER_FEED_MAX, &l);
	/* The feed changes when a statement comes: its newest entry's time, else now. */
	if (ret == 0 && l.n > 0 && pl__explorer_entry_record(&l.v[0], rec) == 0)
		updated = rec->time;
	if (ret == 0)
		ret = pl_buf_adds(&name, feed_name);
	if (ret == 0)
		ret = pl_buf_adds(&name, pl_exchange_origin(ex));
	if (ret == 0)
		ret = pl_buf_adds(&feed, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		                         "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<id>");
	if (ret == 0) {
		pl_sha256(h, name.data, name.len);
		ret = add_uuid(&feed, h);
	}
	if (ret == 0)
		ret = pl_buf_adds(&feed, "</id>\n<title type=\"text\">Public statements of ");
	if (ret == 0)
		ret = pl_html_escapes(&feed, pl_exchange_origin(ex));
	if (ret == 0)
		ret = pl_buf_adds(&feed, "</title>\n<updated>");
	if (ret == 0)
		ret = add_time(&feed, updated);
	if (ret == 0)
		ret = pl_buf_adds(&feed, "</updated>\n<author><name>");
	if (ret == 0)
		ret = pl_html_escapes(&feed, pl_exchange_origin(ex));
	if (ret == 0)
		ret = pl_buf_adds(
		        &feed, "</name></author>\n<link rel=\"self\" type=\"application/atom+xml\" "
		               "href=\"statements.atom\"/>\n<link rel=\"alternate\" "
		               "type=\"text/html\" href=\"./\"/>\n<generator>Parley</generator>\n");
	for (size_t i = 0; ret == 0 && i < l.n; i++) {
		if (pl__explorer_entry_record(&l.v[i], rec) != 0 || rec->kind != PL_KIND_STATEMENT)
			continue;
		ret = add_entry(&feed, &l.v[i], rec);
	}
	if (ret == 0)
		ret = pl_buf_adds(&feed, "</feed>\n");
	if (ret == 0)
		ret = pl_buf_add(out, feed.data, feed.len);
	pl_exchange_list_release(&l);
	pl_buf_release(&feed);
	pl_buf_release(&name);
	free(rec);
	return ret;
}
