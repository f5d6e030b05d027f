/* parleyd's public face: the explorer's pages and the Atom feed, answered to anyone. */
#include "http_private.h"

#include <stdlib.h>
#include <time.h>

#include <parley/explorer.h>

#include "internal.h"
#include "witness_client.h"

#define TEXT_HTML "text/html; charset=utf-8"
#define APP_ATOM  "application/atom+xml; charset=utf-8"

/*
 * What the explorer shows beside the log: the witnesses the running client
 * asks (peers has room for PL_PARLEYD_WITNESSES_MAX; they change with a
 * reload) and the public lines of the configuration. Any thread.
 */
static void site_of(const struct pl_parleyd_http *h, struct pl_explorer_site *site,
                    struct pl_witness_peer *peers)
{
	memset(site, 0, sizeof(*site));
	site->witnesses = peers;
	site->nwitnesses =
	        peers ? pl_parleyd_witness_list(peers, NULL, PL_PARLEYD_WITNESSES_MAX) : 0;
	site->lines = (const char(*)[PL_RECORD_NAME_MAX + 1]) h->cfg.public_lines;
	site->nlines = h->cfg.npublic_lines;
	site->now = (int64_t)time(NULL);
}

/*
 * Answers a page in b (which it takes) with the explorer's headers: its
 * strict Content-Security-Policy, no referrer, never framed. Runs on an MHD
 * worker, in the access handler.
 */
static enum MHD_Result send_page(struct req *r, const char *ctype, struct pl_buf *b)
{
	struct MHD_Response *resp;
	struct pl_buf csp;
	size_t len = 0;
	char *s = pl_buf_detach(b, &len);

	if (!s)
		return pl__http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		                           "out of memory");
	resp = MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(s);
		return MHD_NO;
	}
	pl__http_headers(resp, ctype, CACHE_CHECKPOINT);
	pl_buf_init(&csp, PL_EXPLORER_CSP_MAX);
	if (pl_explorer_csp(&csp) == 0)
		MHD_add_response_header(resp, "Content-Security-Policy", csp.data);
	pl_buf_release(&csp);
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	if (r->h->quiescing)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	return pl__http_queue(r, MHD_HTTP_OK, resp);
}

/*
 * GET /, /statement/<id>, /directory, /log, /lines and /statements.atom.
 * Runs on an MHD worker, in the access handler.
 */
enum MHD_Result pl__http_do_explorer(struct req *r)
{
	struct pl_witness_peer *peers = malloc(PL_PARLEYD_WITNESSES_MAX * sizeof(*peers));
	struct pl_explorer_site site;
	struct pl_explorer_filter f;
	struct pl_buf b;
	const char *ctype = TEXT_HTML;
	int err = PL_ENOTFOUND;

	if (!peers)
		return pl__http_send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
		                           "out of memory");
	site_of(r->h, &site, peers);
	pl_buf_init(&b, PL_EXPLORER_BYTES_MAX);
	switch (r->route) {
	case R_EXPLORER:
		memset(&f, 0, sizeof(f));
		f.before = r->q.has & Q_BEFORE ? r->q.before : 0;
		if (r->q.has & Q_PARTY)
			memcpy(f.party, r->q.party, sizeof(f.party));
		f.has_from = (r->q.has & Q_FROM) != 0;
		f.from = r->q.from;
		f.has_to = (r->q.has & Q_TO) != 0;
		f.to = r->q.to;
		err = pl_explorer_statements(r->h->ex, &site, &f, &b);
		break;
	case R_EXPLORER_STMT:
		err = pl_explorer_statement(r->h->ex, &site, r->id, r->id_len, &b);
		break;
	case R_EXPLORER_DIR:
		err = pl_explorer_directory(r->h->ex, &site, &b);
		break;
	case R_EXPLORER_LOG:
		err = pl_explorer_log(r->h->ex, &site, &b);
		break;
	case R_EXPLORER_LINES:
		err = pl_explorer_lines(r->h->ex, &site, r->q.has & Q_FROM ? r->q.from : 0,
		                        r->q.has & Q_TO ? r->q.to : 0, &b);
		break;
	case R_FEED:
		ctype = APP_ATOM;
		err = pl_explorer_feed(r->h->ex, &site, &b);
		break;
	default:
		break;
	}
	free(peers);
	if (err) {
		pl_buf_release(&b);
		return pl__http_send_lib_error(r, err, r->route == R_FEED ? "feed" : "page");
	}
	return send_page(r, ctype, &b);
}
