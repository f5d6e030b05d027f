/* The public explorer's HTML pages: what anyone may read of the log, escaped, without script. */
#include <parley/explorer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/cosignature.h>
#include <parley/encoding.h>
#include <parley/html.h>
#include <parley/line.h>
#include <parley/member.h>
#include <parley/note.h>
#include <parley/record.h>
#include <parley/timestamp.h>

#include "internal.h"

/* The one style sheet; the Content-Security-Policy admits it by its hash. */
static const char css[] =
        "body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:52rem;"
        "margin:0 auto;padding:0 1rem;color:#1a1a1a;background:#fdfdfb}"
        "header{border-bottom:1px solid #ccc;padding:.6rem 0}"
        "header p{margin:0;font-weight:bold}"
        "nav ul{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:1rem}"
        "a{color:#1a4f8a}a:focus{outline:2px solid #1a4f8a}"
        "h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.6rem}"
        "article{border-bottom:1px solid #e4e4e4;padding:.4rem 0 .8rem}"
        ".meta{color:#555;font-size:.9rem;margin:0}"
        ".body{white-space:pre-wrap;overflow-wrap:anywhere;margin:.4rem 0}"
        "code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;"
        "overflow-wrap:anywhere}"
        "table{border-collapse:collapse;width:100%;display:block;overflow-x:auto}"
        "th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;"
        "border-bottom:1px solid #e4e4e4}"
        "form{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin:1rem 0}"
        "label{display:flex;flex-direction:column;font-size:.9rem}"
        "input,button{font:inherit;padding:.2rem .4rem}"
        "footer{margin:2rem 0;color:#555;font-size:.85rem}";

int pl_explorer_csp(struct pl_buf *out)
{
	uint8_t h[PL_HASH_BYTES];
	char b64[PL_HASH_B64_LEN + 1];

	pl_sha256(h, css, sizeof(css) - 1);
	pl_b64_encode(b64, h, sizeof(h));
	return pl_buf_addf(out,
	                   "default-src 'none'; style-src 'sha256-%s'; script-src 'self' "
	                   "'wasm-unsafe-eval'; connect-src 'self'; img-src 'self'; "
	                   "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
	                   b64);
}

/* ---- Shared pieces ------------------------------------------------------------------------ */

/* Parses the record of a logged entry (the exchange checked it against the signed tree). */
int pl__explorer_entry_record(const struct pl_exchange_entry *e, struct pl_record *rec)
{
	struct pl_note *n = NULL;
	int ret = pl_note_parse(&n, e->note, e->note_len);

	if (ret == 0)
		ret = pl_record_parse(rec, n->text, n->text_len, NULL);
	pl_note_free(n);
	return ret;
}

/* A time element: the machine-readable time and the same text for people. */
static int add_time_element(struct pl_buf *out, int64_t t)
{
	char ts[PL_TIMESTAMP_LEN + 1];

	if (pl_timestamp_format(ts, t) != 0)
		return pl_buf_adds(out, "?");
	return pl_buf_addf(out, "<time datetime=\"%s\">%s</time>", ts, ts);
}

static int page_head(struct pl_buf *out, struct pl_exchange *ex, const char *title)
{
	int ret = pl_buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	                           "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	                           "content=\"width=device-width, initial-scale=1\">\n<title>");

	if (ret == 0)
		ret = pl_html_escapes(out, title);
	if (ret == 0)
		ret = pl_buf_adds(out, " &mdash; ");
	if (ret == 0)
		ret = pl_html_escapes(out, pl_exchange_origin(ex));
	if (ret == 0)
		ret = pl_buf_addf(out,
		                  "</title>\n<link rel=\"alternate\" type=\"application/atom+xml\" "
		                  "title=\"Public statements\" href=\"/statements.atom\">\n"
		                  "<style>%s</style>\n</head>\n<body>\n<header>\n<p>",
		                  css);
	if (ret == 0)
		ret = pl_html_escapes(out, pl_exchange_origin(ex));
	if (ret == 0)
		ret = pl_buf_adds(out, "</p>\n<nav aria-label=\"Explorer\"><ul>"
		                       "<li><a href=\"/\">Statements</a></li>"
		                       "<li><a href=\"/directory\">Directory</a></li>"
		                       "<li><a href=\"/log\">Log and witnesses</a></li>"
		                       "<li><a href=\"/lines\">Lines</a></li>"
		                       "<li><a href=\"/statements.atom\">Atom feed</a></li>"
		                       "</ul></nav>\n</header>\n<main>\n<h1>");
	if (ret == 0)
		ret = pl_html_escapes(out, title);
	if (ret == 0)
		ret = pl_buf_adds(out, "</h1>\n");
	return ret;
}

static int page_foot(struct pl_buf *out)
{
	return pl_buf_adds(out, "</main>\n<footer>Every record shown here is a signed record of "
	                        "this exchange's transparency log. Check any of them yourself: "
	                        "its proof is at <code>/proof/&lt;id&gt;</code> "
	                        "(<code>parley log proof</code>, <code>parley log "
	                        "verify-proof</code>).</footer>\n</body>\n</html>\n");
}

/* The text of a verifier key, escaped. */
static int add_vkey(struct pl_buf *out, const struct pl_vkey *k)
{
	struct pl_buf t;
	int ret;

	pl_buf_init(&t, PL_KEY_NAME_MAX + 128);
	ret = pl_vkey_format(k, &t);
	if (ret == 0)
		ret = pl_html_escape(out, t.data, t.len);
	pl_buf_release(&t);
	return ret;
}

/* Runs a page: its content into a scratch buffer, appended to out only when all of it is made. */
static int page_finish(struct pl_buf *out, struct pl_buf *page, int ret)
{
	if (ret == 0)
		ret = page_foot(page);
	if (ret == 0)
		ret = pl_buf_add(out, page->data, page->len);
	pl_buf_release(page);
	return ret;
}

/* ---- Statements --------------------------------------------------------------------------- */

/* What a statement cites, each as far as anyone may read it. */
static int add_cites(struct pl_exchange *ex, struct pl_buf *out, const struct pl_record *rec)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	size_t ncites = 0;
	int ret = 0;

	for (size_t i = 0; i < rec->nrefs; i++)
		ncites += rec->refs[i].role == PL_ROLE_CITES;
	if (ncites == 0)
		return 0;
	ret = pl_buf_adds(out, "<p class=\"meta\">Cites:</p>\n<ul>\n");
	for (size_t i = 0; ret == 0 && i < rec->nrefs; i++) {
		struct pl_exchange_entry e;
		struct pl_record *c;
		int err;

		if (rec->refs[i].role != PL_ROLE_CITES)
			continue;
		pl_record_id_format(hex, rec->refs[i].id);
		memset(&e, 0, sizeof(e));
		/* Read as anyone: a record that is not public is answered as one that does not
		 * exist. */
		err = pl_exchange_record(ex, NULL, hex, PL_RECORD_ID_HEX_LEN, &e);
		c = err == 0 ? malloc(sizeof(*c)) : NULL;
		if (c && pl__explorer_entry_record(&e, c) == 0) {
			const char *page = c->kind == PL_KIND_STATEMENT ? "statement" : "record";
			ret = pl_buf_addf(out, "<li><a href=\"/%s/%s\">%s by ", page, hex,
			                  pl_record_kind_name(c->kind));
			if (ret == 0)
				ret = pl_html_escapes(out, c->author);
			if (ret == 0)
				ret = pl_buf_addf(out, ", log #%llu</a></li>\n",
				                  (unsigned long long)e.index);
		} else if (err == PL_ENOTFOUND || err == 0) {
			ret = pl_buf_addf(
			        out,
			        "<li><code>%.16s&hellip;</code>: not public (a record only "
			        "its parties read, or none at all)</li>\n",
			        hex);
		} else {
			ret = err;
		}
		free(c);
		pl_exchange_entry_release(&e);
	}
	if (ret == 0)
		ret = pl_buf_adds(out, "</ul>\n");
	return ret;
}

/* One statement as an article; with its heading a link to its own page unless alone. */
static int add_statement(struct pl_exchange *ex, struct pl_buf *out,
                         const struct pl_exchange_entry *e, const struct pl_record *rec, bool alone)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	const char *cls = rec->has & PL_RECORD_HAS_CLASS ? pl_record_class_name(rec->cls) : NULL;
	int ret;

	pl_record_id_format(hex, e->id);
	ret = pl_buf_adds(out, alone ? "<article>\n" : "<article>\n<h2>");
	if (ret == 0 && !alone)
		ret = pl_buf_addf(out, "<a href=\"/statement/%s\">", hex);
	if (ret == 0 && !alone)
		ret = pl_buf_adds(out, cls && strcmp(cls, "measure") == 0 ? "Measure by "
		                                                          : "Statement by ");
	if (ret == 0 && !alone)
		ret = pl_html_escapes(out, rec->author);
	if (ret == 0 && !alone)
		ret = pl_buf_adds(out, "</a></h2>\n");
	if (ret == 0)
		ret = pl_buf_adds(out, "<p class=\"meta\"><a href=\"/?party=");
	if (ret == 0)
		ret = pl_html_escapes(out, rec->author);
	if (ret == 0)
		ret = pl_buf_adds(out, "\">");
	if (ret == 0)
		ret = pl_html_escapes(out, rec->author);
	if (ret == 0)
		ret = pl_buf_addf(out, "</a> &middot; %s &middot; claimed time ",
		                  cls ? cls : "statement");
	if (ret == 0)
		ret = add_time_element(out, rec->time);
	if (ret == 0)
		ret = pl_buf_addf(out,
		                  " &middot; log #%llu &middot; <a href=\"/proof/%s\">proof</a>"
		                  "</p>\n",
		                  (unsigned long long)e->index, hex);
	if (ret == 0 && (rec->has & PL_RECORD_HAS_BODY)) {
		ret = pl_buf_adds(out, "<p class=\"body\">");
		if (ret == 0)
			ret = pl_html_escape(out, rec->body, rec->body_len);
		if (ret == 0)
			ret = pl_buf_adds(out, "</p>\n");
	}
	if (ret == 0)
		ret = add_cites(ex, out, rec);
	if (ret == 0)
		ret = pl_buf_adds(out, "</article>\n");
	return ret;
}

static bool filter_keeps(const struct pl_explorer_filter *f, const struct pl_record *rec)
{
	if (rec->kind != PL_KIND_STATEMENT)
		return false;
	if (f->party[0] && strcmp(f->party, rec->author) != 0)
		return false;
	if (f->has_from && rec->time < f->from)
		return false;
	if (f->has_to && rec->time >= f->to)
		return false;
	return true;
}

/* The filter as a query string for a link (its values are names and dates: nothing to escape). */
static int add_filter_query(struct pl_buf *out, const struct pl_explorer_filter *f)
{
	char ts[PL_TIMESTAMP_LEN + 1];
	int ret = 0;

	if (f->party[0])
		ret = pl_buf_addf(out, "&amp;party=%s", f->party);
	if (ret == 0 && f->has_from && pl_timestamp_format(ts, f->from) == 0)
		ret = pl_buf_addf(out, "&amp;from=%.10s", ts);
	/* to is the end of the day the reader named: name that day again. */
	if (ret == 0 && f->has_to && pl_timestamp_format(ts, f->to - 86400) == 0)
		ret = pl_buf_addf(out, "&amp;to=%.10s", ts);
	return ret;
}

static int add_filter_form(struct pl_buf *out, const struct pl_explorer_filter *f)
{
	char from[PL_TIMESTAMP_LEN + 1] = "", to[PL_TIMESTAMP_LEN + 1] = "";
	int ret;

	if (f->has_from && pl_timestamp_format(from, f->from) != 0)
		from[0] = '\0';
	if (f->has_to && pl_timestamp_format(to, f->to - 86400) != 0)
		to[0] = '\0';
	from[10] = '\0'; /* the date alone */
	to[10] = '\0';
	ret = pl_buf_adds(out, "<form method=\"get\" action=\"/\" role=\"search\">"
	                       "<label>Party <input name=\"party\" value=\"");
	if (ret == 0)
		ret = pl_html_escapes(out, f->party);
	if (ret == 0)
		ret = pl_buf_addf(
		        out,
		        "\" pattern=\"[a-z0-9-]*\" maxlength=\"%d\"></label>"
		        "<label>From <input type=\"date\" name=\"from\" value=\"%s\"></label>"
		        "<label>To <input type=\"date\" name=\"to\" value=\"%s\"></label>"
		        "<button type=\"submit\">Filter</button></form>\n",
		        PL_RECORD_NAME_MAX, from, to);
	return ret;
}

int pl_explorer_statements(struct pl_exchange *ex, const struct pl_explorer_site *site,
                           const struct pl_explorer_filter *f, struct pl_buf *out)
{
	struct pl_record *rec = malloc(sizeof(*rec));
	struct pl_buf page;
	uint64_t before = f->before, next = 0;
	size_t shown = 0, scanned = 0;
	bool more = true;
	int ret;

	(void)site;
	pl_buf_init(&page, PL_EXPLORER_BYTES_MAX);
	if (!rec)
		return PL_ENOMEM;
	ret = page_head(&page, ex, "Public statements and measures");
	if (ret == 0)
		ret = pl_buf_adds(&page,
		                  "<p>What the parties of this exchange said in public, newest "
		                  "first. Each is signed by its author and logged; the time is "
		                  "the one its author claimed.</p>\n");
	if (ret == 0)
		ret = add_filter_form(&page, f);
	while (ret == 0 && more && shown < PL_EXPLORER_PAGE && scanned < PL_EXPLORER_SCAN_MAX) {
		struct pl_exchange_list l;
		size_t i;

		memset(&l, 0, sizeof(l));
		ret = pl_exchange_statements_before(ex, before, PL_EXPLORER_PAGE, &l);
		if (ret)
			break;
		for (i = 0; ret == 0 && i < l.n && shown < PL_EXPLORER_PAGE; i++) {
			scanned++;
			next = l.v[i].index;
			if (pl__explorer_entry_record(&l.v[i], rec) != 0 || !filter_keeps(f, rec))
				continue;
			ret = add_statement(ex, &page, &l.v[i], rec, false);
			shown++;
		}
		/* More exist when this page was cut short or the exchange has an older one. */
		more = i < l.n || l.next != 0;
		before = l.next;
		pl_exchange_list_release(&l);
	}
	if (ret == 0 && shown == 0)
		ret = pl_buf_adds(&page, "<p>No public statement matches.</p>\n");
	if (ret == 0 && more && next > 0) {
		ret = pl_buf_addf(&page, "<nav aria-label=\"Pages\"><p><a href=\"/?before=%llu",
		                  (unsigned long long)next);
		if (ret == 0)
			ret = add_filter_query(&page, f);
		if (ret == 0)
			ret = pl_buf_adds(&page,
			                  "\" rel=\"next\">Older statements</a></p></nav>\n");
	}
	free(rec);
	return page_finish(out, &page, ret);
}

/*
 * Appends the keys author signed with at log index `at`, space-separated: those of its
 * register in force then. A party that returned after revocation has earlier registers,
 * each named by the next one's `ref previous` (docs/keys.md): a statement made before
 * its return was signed by a key of one of them, not by the key it holds now. Appends
 * nothing for an author the directory does not hold.
 */
static int add_author_keys(struct pl_buf *out, struct pl_exchange *ex, const char *author,
                           uint64_t at)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	struct pl_exchange_party p;
	struct pl_exchange_entry e;
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_record *reg;
	int ret = 0;

	if (pl_exchange_party_get(ex, author, &p) != 0)
		return 0;
	if (p.register_index < at)
		return add_vkey(out, &p.vkey);
	if (!(reg = malloc(sizeof(*reg))))
		return PL_ENOMEM;
	memcpy(id, p.register_id, PL_RECORD_ID_BYTES);
	for (int hops = 0; hops <= PL_EXPLORER_REGISTERS_MAX; hops++) {
		bool found;
		memset(&e, 0, sizeof(e));
		pl_record_id_format(hex, id);
		if (pl_exchange_record(ex, NULL, hex, PL_RECORD_ID_HEX_LEN, &e) != 0)
			break;
		found = e.index < at;
		if (found && pl__record_parse_unverified(reg, e.note, e.note_len) == 0) {
			for (size_t i = 0; ret == 0 && i < reg->nkeys; i++) {
				if (i > 0)
					ret = pl_buf_adds(out, " ");
				if (ret == 0)
					ret = add_vkey(out, &reg->keys[i]);
			}
		}
		if (!found && pl_member_register_previous(e.note, e.note_len, id) != 0)
			found = true; /* the first register is after it: no key signed it then */
		pl_exchange_entry_release(&e);
		if (found)
			break;
	}
	free(reg);
	return ret;
}

int pl_explorer_statement(struct pl_exchange *ex, const struct pl_explorer_site *site,
                          const char *id, size_t len, struct pl_buf *out)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1], key[PL_KEY_NAME_MAX + 1];
	struct pl_record *rec = malloc(sizeof(*rec));
	struct pl_exchange_entry e;
	struct pl_buf page;
	int ret;

	memset(&e, 0, sizeof(e));
	pl_buf_init(&page, PL_EXPLORER_BYTES_MAX);
	if (!rec)
		return PL_ENOMEM;
	ret = pl_exchange_record(ex, NULL, id, len, &e);
	if (ret == 0 && (pl__explorer_entry_record(&e, rec) != 0 || rec->kind != PL_KIND_STATEMENT))
		ret = PL_ENOTFOUND; /* the directory and index records are public, but no statement
		                     */
	if (ret)
		goto out;
	pl_record_id_format(hex, e.id);
	snprintf(key, sizeof(key), "%s by %s",
	         (rec->has & PL_RECORD_HAS_CLASS) && rec->cls == PL_CLASS_MEASURE ? "Measure"
	                                                                          : "Statement",
	         rec->author);
	ret = page_head(&page, ex, key);
	if (ret == 0)
		ret = add_statement(ex, &page, &e, rec, true);
	/* The contract with the in-browser verifier (docs/api.md, "The explorer"). */
	if (ret == 0)
		ret = pl_buf_addf(&page,
		                  "<section id=\"pl-verify\" aria-labelledby=\"pl-verify-h\" "
		                  "data-record=\"/record/%s\" data-proof=\"/proof/%s\" "
		                  "data-checkpoint=\"/checkpoint\" data-author-key=\"",
		                  hex, hex);
	if (ret == 0) {
		char author[PL_RECORD_NAME_MAX + 1];
		snprintf(author, sizeof(author), "%s", rec->author);
		ret = add_author_keys(&page, ex, author, e.index);
	}
	if (ret == 0)
		ret = pl_buf_adds(&page, "\" data-log-key=\"");
	if (ret == 0)
		ret = add_vkey(&page, pl_exchange_vkey(ex));
	if (ret == 0)
		ret = pl_buf_adds(&page, "\" data-witness-keys=\"");
	for (size_t i = 0; ret == 0 && i < site->nwitnesses; i++) {
		if (i > 0)
			ret = pl_buf_adds(&page, " ");
		if (ret == 0)
			ret = add_vkey(&page, &site->witnesses[i].key);
	}
	if (ret == 0)
		ret = pl_buf_addf(
		        &page,
		        "\">\n<h2 id=\"pl-verify-h\">Check it yourself</h2>\n"
		        "<p>Fetch <a href=\"/record/%s\">the signed record</a> and "
		        "<a href=\"/proof/%s\">its proof of inclusion</a>, then run:</p>\n"
		        "<pre><code>parley log verify-proof proof.txt --entry record.txt "
		        "--log-key '",
		        hex, hex);
	if (ret == 0)
		ret = add_vkey(&page, pl_exchange_vkey(ex));
	for (size_t i = 0; ret == 0 && i < site->nwitnesses; i++) {
		ret = pl_buf_adds(&page, "' \\\n    --witness-key '");
		if (ret == 0)
			ret = add_vkey(&page, &site->witnesses[i].key);
	}
	if (ret == 0)
		ret = pl_buf_adds(&page,
		                  "'</code></pre>\n<p>Compare these keys with the ones the "
		                  "exchange and its witnesses publish elsewhere.</p>\n"
		                  "</section>\n"
		                  "<script src=\"/assets/parley-verify.js\" defer></script>\n");
	ret = page_finish(out, &page, ret);
out:
	pl_buf_release(&page);
	pl_exchange_entry_release(&e);
	free(rec);
	return ret;
}

/* ---- The directory ----------------------------------------------------------------------- */

/* The claimed time of the public record at index, or "?" when it cannot be read. */
static int add_record_time(struct pl_exchange *ex, struct pl_buf *out, uint64_t index,
                           struct pl_record *rec)
{
	struct pl_exchange_entry e;
	int ret;

	memset(&e, 0, sizeof(e));
	if (pl_exchange_record_at(ex, NULL, index, &e) == 0 &&
	    pl__explorer_entry_record(&e, rec) == 0)
		ret = add_time_element(out, rec->time);
	else
		ret = pl_buf_adds(out, "?");
	pl_exchange_entry_release(&e);
	return ret;
}

int pl_explorer_directory(struct pl_exchange *ex, const struct pl_explorer_site *site,
                          struct pl_buf *out)
{
	struct pl_record *rec = malloc(sizeof(*rec));
	struct pl_exchange_party *v = NULL;
	struct pl_buf page;
	size_t n = 0;
	int ret;

	(void)site;
	pl_buf_init(&page, PL_EXPLORER_BYTES_MAX);
	if (!rec)
		return PL_ENOMEM;
	ret = pl_exchange_parties(ex, &v, &n);
	if (ret == 0)
		ret = page_head(&page, ex, "Directory");
	if (ret == 0)
		ret = pl_buf_adds(
		        &page, "<p>The parties of this exchange and their signing keys, in the "
		               "order they were registered. Each entry is a <code>register</code> "
		               "record in the log, signed by the exchange and by the party "
		               "itself.</p>\n<table>\n<thead><tr><th scope=\"col\">party</th>"
		               "<th scope=\"col\">signing key</th><th scope=\"col\">registered"
		               "</th><th scope=\"col\">revoked</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; ret == 0 && i < n; i++) {
		char hex[PL_RECORD_ID_HEX_LEN + 1];
		pl_record_id_format(hex, v[i].register_id);
		ret = pl_buf_adds(&page, "<tr><th scope=\"row\"><a href=\"/?party=");
		if (ret == 0)
			ret = pl_html_escapes(&page, v[i].name);
		if (ret == 0)
			ret = pl_buf_adds(&page, "\">");
		if (ret == 0)
			ret = pl_html_escapes(&page, v[i].name);
		if (ret == 0)
			ret = pl_buf_adds(&page, "</a></th><td class=\"mono\">");
		if (ret == 0)
			ret = add_vkey(&page, &v[i].vkey);
		if (ret == 0)
			ret = pl_buf_addf(&page, "</td><td><a href=\"/record/%s\">log #%llu</a>, ",
			                  hex, (unsigned long long)v[i].register_index);
		if (ret == 0)
			ret = add_record_time(ex, &page, v[i].register_index, rec);
		if (ret == 0)
			ret = pl_buf_adds(&page, "</td><td>");
		if (ret == 0 && v[i].revoked) {
			ret = pl_buf_addf(&page, "log #%llu, ",
			                  (unsigned long long)v[i].revoke_index);
			if (ret == 0)
				ret = add_record_time(ex, &page, v[i].revoke_index, rec);
		} else if (ret == 0) {
			ret = pl_buf_adds(&page, "&mdash;");
		}
		if (ret == 0)
			ret = pl_buf_adds(&page, "</td></tr>\n");
	}
	if (ret == 0)
		ret = pl_buf_adds(&page, "</tbody>\n</table>\n");
	free(v);
	free(rec);
	return page_finish(out, &page, ret);
}

/* ---- The log and its witnesses -------------------------------------------------------------- */

/* Which configured witness cosigned the checkpoint note text[0..len) with sigs, and when. */
static int add_cosigners(struct pl_buf *out, const struct pl_explorer_site *site,
                         const struct pl_note *n)
{
	int ret = pl_buf_adds(out, "<table>\n<thead><tr><th scope=\"col\">witness key</th>"
	                           "<th scope=\"col\">cosigned</th></tr></thead>\n<tbody>\n");

	for (size_t w = 0; ret == 0 && w < site->nwitnesses; w++) {
		const struct pl_vkey *k = &site->witnesses[w].key;
		uint64_t ts = 0;
		bool found = false;
		for (size_t i = 0; !found && i < n->nsigs; i++)
			found = pl_cosignature_verify(&n->sigs[i], k, n->text, n->text_len, &ts) ==
			        0;
		ret = pl_buf_adds(out, "<tr><td class=\"mono\">");
		if (ret == 0)
			ret = add_vkey(out, k);
		if (ret == 0)
			ret = pl_buf_adds(out, found ? "</td><td>at " : "</td><td>not this one");
		if (ret == 0 && found)
			ret = ts > INT64_MAX ? pl_buf_adds(out, "?")
			                     : add_time_element(out, (int64_t)ts);
		if (ret == 0)
			ret = pl_buf_adds(out, "</td></tr>\n");
	}
	if (ret == 0)
		ret = pl_buf_adds(out, "</tbody>\n</table>\n");
	return ret;
}

/* One checkpoint: its size and root, and when it has them its cosignatures. */
static int add_checkpoint(struct pl_buf *out, const struct pl_explorer_site *site,
                          const struct pl_buf *signed_cp)
{
	static struct pl_checkpoint cp_zero;
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	char root[PL_HASH_B64_LEN + 1];
	struct pl_note *n = NULL;
	int ret;

	if (!cp)
		return PL_ENOMEM;
	*cp = cp_zero;
	ret = pl_note_parse(&n, signed_cp->data, signed_cp->len);
	if (ret == 0)
		ret = pl_checkpoint_parse(cp, n->text, n->text_len);
	if (ret == 0) {
		pl_b64_encode(root, cp->root, PL_HASH_BYTES);
		ret = pl_buf_addf(out,
		                  "<p>Tree size <strong>%llu</strong>, root <code>%s</code>.</p>\n",
		                  (unsigned long long)cp->size, root);
	}
	if (ret == 0 && site->nwitnesses)
		ret = add_cosigners(out, site, n);
	if (ret == 0)
		ret = pl_buf_adds(out, "<pre><code>");
	if (ret == 0)
		ret = pl_html_escape(out, signed_cp->data, signed_cp->len);
	if (ret == 0)
		ret = pl_buf_adds(out, "</code></pre>\n");
	pl_note_free(n);
	free(cp);
	return ret;
}

int pl_explorer_log(struct pl_exchange *ex, const struct pl_explorer_site *site, struct pl_buf *out)
{
	struct pl_buf page, cp;
	int ret, err;

	pl_buf_init(&page, PL_EXPLORER_BYTES_MAX);
	pl_buf_init(&cp, PL_CHECKPOINT_MAX_BYTES + PL_NOTE_MAX_SIGS * 512);
	ret = page_head(&page, ex, "Log and witnesses");
	if (ret == 0)
		ret = pl_buf_adds(&page, "<h2>Log key</h2>\n<p class=\"mono\">");
	if (ret == 0)
		ret = add_vkey(&page, pl_exchange_vkey(ex));
	if (ret == 0)
		ret = pl_buf_adds(&page, "</p>\n<h2>Newest checkpoint</h2>\n");
	if (ret == 0) {
		err = pl_exchange_checkpoint(ex, &cp);
		if (err == 0)
			ret = add_checkpoint(&page, site, &cp);
		else if (err == PL_ENOTFOUND)
			ret = pl_buf_adds(&page, "<p>None yet.</p>\n");
		else
			ret = err;
	}
	if (ret == 0 && site->nwitnesses) {
		ret = pl_buf_adds(&page, "<h2>Newest checkpoint the witnesses cosigned</h2>\n");
		pl_buf_reset(&cp);
		err = ret ? ret : pl_exchange_checkpoint_cosigned(ex, &cp);
		if (ret == 0 && err == 0)
			ret = add_checkpoint(&page, site, &cp);
		else if (ret == 0 && err == PL_ENOTFOUND)
			ret = pl_buf_adds(&page,
			                  "<p>No witness has cosigned a checkpoint yet.</p>\n");
		else if (ret == 0)
			ret = err;
	} else if (ret == 0) {
		ret = pl_buf_adds(&page, "<p>This exchange names no witness: only its own key "
		                         "vouches for its checkpoints.</p>\n");
	}
	pl_buf_release(&cp);
	return page_finish(out, &page, ret);
}

/* ---- Public lines --------------------------------------------------------------------------- */

/* True for the records that start a group of a line page: a check, or a missed check. */
static bool starts_group(const struct pl_exchange_entry *e, struct pl_record *rec)
{
	return pl__explorer_entry_record(e, rec) == 0 &&
	       (rec->kind == PL_KIND_CHECK || rec->kind == PL_KIND_MISSED);
}

/*
 * Counts one group of a line page into t: l->v[from] (a check, judged with the
 * records about it up to to; or a missed check, counted apart).
 */
static int tally_group(struct pl_line_tally *t, const struct pl_exchange_list *l, size_t from,
                       size_t to, struct pl_record *recs)
{
	const struct pl_record *rel[PL_LINE_TALLY_ENDS_MAX * 2];
	uint8_t ids[PL_LINE_TALLY_ENDS_MAX * 2][PL_RECORD_ID_BYTES];
	enum pl_line_outcome oc[2];
	size_t n = 0;
	int ret = pl__explorer_entry_record(&l->v[from], &recs[0]);

	if (ret == 0 && recs[0].kind == PL_KIND_MISSED)
		return pl_line_tally_add_missed(t, &recs[0]);
	for (size_t i = from + 1; ret == 0 && i < to && n < PL_LINE_TALLY_ENDS_MAX * 2; i++) {
		ret = pl__explorer_entry_record(&l->v[i], &recs[n + 1]);
		rel[n] = &recs[n + 1];
		memcpy(ids[n], l->v[i].id, PL_RECORD_ID_BYTES);
		n++;
	}
	if (ret == 0)
		ret = pl_line_judge(&recs[0], l->v[from].id, rel,
		                    (const uint8_t(*)[PL_RECORD_ID_BYTES])ids, n, oc);
	if (ret == 0)
		ret = pl_line_tally_add(t, &recs[0], oc);
	return ret;
}

/* The tally of the line named name since `since`, from every page of its checks. */
static int line_tally(struct pl_exchange *ex, const char *name, int64_t since, int64_t until,
                      struct pl_line_tally *t)
{
	struct pl_record *recs = calloc(PL_LINE_TALLY_ENDS_MAX * 2 + 1, sizeof(*recs));
	uint64_t after = 0;
	bool more = true;
	int ret = recs ? 0 : PL_ENOMEM;

	pl_line_tally_init(t, name, since, until);
	/* Bounded: a month of checks every minute is 44,640, 175 pages. */
	for (unsigned pages = 0; ret == 0 && more && pages < 256; pages++) {
		struct pl_exchange_list l;
		size_t i = 0;

		memset(&l, 0, sizeof(l));
		ret = pl_exchange_line(ex, PL_EXCHANGE_READER_ALL, name, since, after, 0, &l,
		                       &more);
		while (ret == 0 && i < l.n) {
			size_t j = i + 1;
			while (j < l.n && !starts_group(&l.v[j], &recs[0]))
				j++;
			ret = tally_group(t, &l, i, j, recs);
			i = j;
		}
		after = l.next;
		pl_exchange_list_release(&l);
	}
	free(recs);
	return ret;
}

int pl_explorer_lines(struct pl_exchange *ex, const struct pl_explorer_site *site, int64_t since,
                      int64_t until, struct pl_buf *out)
{
	bool chosen = since != 0 || until != 0;
	struct pl_line_tally *t = malloc(sizeof(*t));
	struct pl_buf page;
	int ret;

	pl_buf_init(&page, PL_EXPLORER_BYTES_MAX);
	if (!t)
		return PL_ENOMEM;
	if (since == 0)
		since = site->now - (int64_t)PL_EXPLORER_LINE_DAYS * 86400;
	ret = page_head(&page, ex, "Direct lines");
	if (ret == 0)
		ret = pl_buf_adds(&page,
		                  "<p>The exchange checks each direct line on its schedule and "
		                  "logs every check, every answer and every check left "
		                  "unanswered. ");
	if (ret == 0 && !chosen)
		ret = pl_buf_addf(&page, "Over the last %d days:</p>\n", PL_EXPLORER_LINE_DAYS);
	else if (ret == 0)
		ret = pl_buf_adds(&page, "Over the period asked for:</p>\n");
	if (ret == 0)
		ret = pl_buf_adds(&page, "<form method=\"get\" action=\"/lines\"><label>From "
		                         "<input type=\"date\" name=\"from\"></label> <label>To "
		                         "<input type=\"date\" name=\"to\"></label> <button "
		                         "type=\"submit\">Show</button></form>\n");
	if (ret == 0 && site->nlines == 0)
		ret = pl_buf_adds(&page, "<p>This exchange publishes no line.</p>\n");
	for (size_t i = 0; ret == 0 && i < site->nlines; i++) {
		int err = line_tally(ex, site->lines[i], since, until, t);
		ret = pl_buf_adds(&page, "<h2>");
		if (ret == 0)
			ret = pl_html_escapes(&page, site->lines[i]);
		if (ret == 0)
			ret = pl_buf_adds(&page, "</h2>\n");
		if (ret == 0 && err == PL_ENOTFOUND)
			ret = pl_buf_adds(&page, "<p>No such line at this exchange.</p>\n");
		else if (ret == 0 && err)
			ret = err;
		if (ret == 0 && !err) {
			struct pl_buf line;
			pl_buf_init(&line, 1024);
			/* The line's own count first, then each end's, which add up under it. */
			ret = pl_line_tally_format(t, since, until, pl_exchange_size(ex), &line);
			if (ret == 0)
				ret = pl_buf_adds(&page, "<p>");
			if (ret == 0)
				ret = pl_html_escape(&page, line.data, line.len);
			if (ret == 0)
				ret = pl_buf_adds(&page, t->nends ? "</p>\n<ul>\n" : "</p>\n");
			for (size_t e = 0; ret == 0 && e < t->nends; e++) {
				pl_buf_reset(&line);
				ret = pl_line_end_tally_format(&t->ends[e], t->checks, since, until,
				                               &line);
				if (ret == 0)
					ret = pl_buf_adds(&page, "<li>");
				if (ret == 0)
					ret = pl_html_escape(&page, line.data, line.len);
				if (ret == 0)
					ret = pl_buf_adds(&page, e + 1 == t->nends
					                                 ? "</li>\n</ul>\n"
					                                 : "</li>\n");
			}
			pl_buf_release(&line);
		}
	}
	free(t);
	return page_finish(out, &page, ret);
}
