/* Renders a verified dossier's timeline and verdicts as plain text and as a standalone HTML page.
 */
#include <parley/dossier.h>

#include <stdio.h>

#include <parley/key.h>
#include <parley/record.h>
#include <parley/timestamp.h>

#include "internal.h"

#define ELLIPSIS "\xe2\x80\xa6"

static void time_text(char out[static PL_TIMESTAMP_LEN + 1], int64_t t)
{
	if (pl_timestamp_format(out, t) != 0)
		memcpy(out, "(out of range)", sizeof("(out of range)"));
}

/* What the dossier is about, e.g. "proposal 1a2b3c4d…": a send's class, else the kind. */
static void subject_text(char *out, size_t n, const struct pl_dossier_report *r)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	const char *what = pl_record_kind_name(r->subject_kind);

	if (r->subject_kind == PL_KIND_SEND && pl_record_class_name(r->subject_class))
		what = pl_record_class_name(r->subject_class);
	pl_record_id_format(hex, r->subject);
	snprintf(out, n, "%s %.8s" ELLIPSIS, what ? what : "record", hex);
}

/* Appends each line of s[0..n) to out, each preceded by prefix. */
static int add_lines(struct pl_buf *out, const char *prefix, const char *s, size_t n)
{
	size_t at = 0;
	int ret = 0;

	while (ret == 0 && at < n) {
		const char *nl = memchr(s + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - (s + at)) : n - at;
		ret = pl_buf_addf(out, "%s%.*s\n", prefix, (int)len, s + at);
		at += len + 1;
	}
	return ret;
}

int pl_dossier_render_text(const struct pl_dossier_report *r, struct pl_buf *out)
{
	char subj[96], root[PL_HASH_B64_LEN + 1], ts[PL_TIMESTAMP_LEN + 1];
	size_t width = 8, start = out->len;
	int ret;

	subject_text(subj, sizeof(subj), r);
	pl_b64_encode(root, r->root, PL_HASH_BYTES);
	for (size_t i = 0; i < r->nevents; i++) {
		size_t n = strlen(r->events[i].author);
		width = n > width ? n : width;
	}
	ret = pl_buf_addf(out,
	                  "Parley dossier (%s) on %s\n"
	                  "Log %s, checkpoint at tree size %llu, root %s\n\n"
	                  "Timeline (log order; each time is what its author claimed):\n",
	                  PL_DOSSIER_VERSION, subj, r->origin, (unsigned long long)r->size, root);
	for (size_t i = 0; ret == 0 && i < r->nevents; i++) {
		const struct pl_dossier_event *e = &r->events[i];
		time_text(ts, e->time);
		ret = pl_buf_addf(out, "  #%-6llu %s  %-*s  %s%s\n", (unsigned long long)e->index,
		                  ts, (int)width, e->author, e->what,
		                  e->contradicted ? " [claimed time contradicted]" : "");
	}
	if (ret == 0)
		ret = pl_buf_adds(out, "\nVerdicts:\n");
	for (size_t i = 0; ret == 0 && i < r->nverdicts; i++)
		ret = pl_buf_addf(out, "  %s\n", r->verdicts[i].text);
	for (size_t i = 0; ret == 0 && i < r->ndisclosed; i++) {
		const struct pl_dossier_disclosed *x = &r->disclosed[i];
		char hex[PL_RECORD_ID_HEX_LEN + 1];
		if (i == 0)
			ret = pl_buf_adds(out, "\nDisclosed content:\n");
		pl_record_id_format(hex, x->id);
		if (ret == 0)
			ret = pl_buf_addf(out,
			                  "  %.8s" ELLIPSIS " by %s (log #%llu), %zu bytes%s\n",
			                  hex, x->author, (unsigned long long)x->index, x->len,
			                  x->is_text ? ":" : " (not text, not shown)");
		if (ret == 0 && x->is_text)
			ret = add_lines(out, "    | ", (const char *)x->plaintext, x->len);
	}
	if (ret != 0)
		out->len = start;
	return ret;
}

/* ---- HTML ------------------------------------------------------------------------------ */

/* Appends s[0..n) with the five characters that matter in HTML text and attributes escaped. */
static int add_escaped(struct pl_buf *out, const char *s, size_t n)
{
	size_t from = 0;
	int ret = 0;

	for (size_t i = 0; ret == 0 && i <= n; i++) {
		const char *rep = NULL;
		if (i < n) {
			switch (s[i]) {
			case '&':
				rep = "&amp;";
				break;
			case '<':
				rep = "&lt;";
				break;
			case '>':
				rep = "&gt;";
				break;
			case '"':
				rep = "&quot;";
				break;
			case '\'':
				rep = "&#39;";
				break;
			default:
				continue;
			}
		}
		ret = pl_buf_add(out, s + from, i - from);
		if (ret == 0 && rep)
			ret = pl_buf_adds(out, rep);
		from = i + 1;
	}
	return ret;
}

static int add_esc(struct pl_buf *out, const char *s)
{
	return add_escaped(out, s, strlen(s));
}

static const char *verdict_class(enum pl_dossier_verdict_kind k)
{
	switch (k) {
	case PL_VERDICT_BASIS:
		return "basis";
	case PL_VERDICT_DONE:
		return "done";
	case PL_VERDICT_NOT_DONE:
		return "not-done";
	case PL_VERDICT_TIME:
		return "time";
	case PL_VERDICT_FLAG:
		return "flag";
	case PL_VERDICT_DISCLOSED:
		return "disclosed";
	}
	return "basis";
}

static const char css[] =
        "body{font:16px/1.5 Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#1a1a1a;background:#fdfdfb}"
        "h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;"
        "border-bottom:1px solid #ccc}"
        ".sub{color:#555;margin-top:0}"
        "code,.mono,td.log,td.time{font-family:Menlo,Consolas,monospace;font-size:.9rem}"
        "ul.verdicts{list-style:none;padding:0}"
        "ul.verdicts li{padding:.3rem .6rem;margin:.2rem 0;border-left:4px solid #bbb}"
        "li.done{border-color:#2a7a2a}li.not-done{border-color:#b03030;font-weight:bold}"
        "li.time{border-color:#2a5aa0}li.flag{border-color:#d08000;background:#fff4e0}"
        "li.disclosed{border-color:#6a3a9a}li.basis{color:#444}"
        "table{border-collapse:collapse;width:100%}"
        "th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;"
        "border-bottom:1px solid #e4e4e4}"
        "tr.contradicted td{background:#fff4e0}"
        "pre{white-space:pre-wrap;background:#f3f3ef;padding:.6rem;border:1px solid #ddd}"
        "dt{font-weight:bold}dd{margin:0 0 .6rem 0;word-break:break-all}"
        "footer{margin-top:3rem;color:#666;font-size:.85rem}";

static int html_head(struct pl_buf *out, const struct pl_dossier_report *r)
{
	char subj[96];
	int ret;

	subject_text(subj, sizeof(subj), r);
	ret = pl_buf_adds(out,
	                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
	                  "'none'; style-src 'unsafe-inline'\">\n"
	                  "<meta name=\"viewport\" content=\"width=device-width, "
	                  "initial-scale=1\">\n<title>Parley dossier: ");
	if (ret == 0)
		ret = add_esc(out, subj);
	if (ret == 0)
		ret = pl_buf_addf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	if (ret == 0)
		ret = pl_buf_adds(out, "<h1>Parley dossier</h1>\n<p class=\"sub\">");
	if (ret == 0)
		ret = add_esc(out, subj);
	if (ret == 0)
		ret = pl_buf_adds(out, " &mdash; log ");
	if (ret == 0)
		ret = add_esc(out, r->origin);
	if (ret == 0)
		ret = pl_buf_addf(out, ", checkpoint at tree size %llu</p>\n",
		                  (unsigned long long)r->size);
	return ret;
}

static int html_verdicts(struct pl_buf *out, const struct pl_dossier_report *r)
{
	int ret = pl_buf_adds(out, "<h2>Verdicts</h2>\n<ul class=\"verdicts\">\n");

	for (size_t i = 0; ret == 0 && i < r->nverdicts; i++) {
		ret = pl_buf_addf(out, "<li class=\"%s\">", verdict_class(r->verdicts[i].kind));
		if (ret == 0)
			ret = add_esc(out, r->verdicts[i].text);
		if (ret == 0)
			ret = pl_buf_adds(out, "</li>\n");
	}
	if (ret == 0)
		ret = pl_buf_adds(out, "</ul>\n");
	return ret;
}

static int html_timeline(struct pl_buf *out, const struct pl_dossier_report *r)
{
	char ts[PL_TIMESTAMP_LEN + 1], hex[PL_RECORD_ID_HEX_LEN + 1];
	int ret = pl_buf_adds(out, "<h2>Timeline</h2>\n<p>In log order. Each time is what the "
	                           "record's author claimed.</p>\n<table>\n<thead><tr><th>log"
	                           "</th><th>claimed time</th><th>who</th><th>what</th></tr>"
	                           "</thead>\n<tbody>\n");

	for (size_t i = 0; ret == 0 && i < r->nevents; i++) {
		const struct pl_dossier_event *e = &r->events[i];
		time_text(ts, e->time);
		pl_record_id_format(hex, e->id);
		ret = pl_buf_addf(out,
		                  "<tr%s><td class=\"log\" title=\"%s\">#%llu</td>"
		                  "<td class=\"time\">%s</td><td>",
		                  e->contradicted ? " class=\"contradicted\"" : "", hex,
		                  (unsigned long long)e->index, ts);
		if (ret == 0)
			ret = add_esc(out, e->author);
		if (ret == 0)
			ret = pl_buf_adds(out, "</td><td>");
		if (ret == 0)
			ret = add_esc(out, e->what);
		if (ret == 0 && e->contradicted)
			ret = pl_buf_adds(out, " <strong>(claimed time contradicted)</strong>");
		if (ret == 0)
			ret = pl_buf_adds(out, "</td></tr>\n");
	}
	if (ret == 0)
		ret = pl_buf_adds(out, "</tbody>\n</table>\n");
	return ret;
}

static int html_disclosed(struct pl_buf *out, const struct pl_dossier_report *r)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int ret = 0;

	if (r->ndisclosed)
		ret = pl_buf_adds(out, "<h2>Disclosed content</h2>\n");
	for (size_t i = 0; ret == 0 && i < r->ndisclosed; i++) {
		const struct pl_dossier_disclosed *x = &r->disclosed[i];
		pl_record_id_format(hex, x->id);
		ret = pl_buf_addf(out, "<p><span class=\"mono\">%.8s" ELLIPSIS "</span> by ", hex);
		if (ret == 0)
			ret = add_esc(out, x->author);
		if (ret == 0)
			ret = pl_buf_addf(out, " (log #%llu), %zu bytes%s</p>\n",
			                  (unsigned long long)x->index, x->len,
			                  x->is_text ? ":" : " (not text, not shown)");
		if (ret == 0 && x->is_text) {
			ret = pl_buf_adds(out, "<pre>");
			if (ret == 0)
				ret = add_escaped(out, (const char *)x->plaintext, x->len);
			if (ret == 0)
				ret = pl_buf_adds(out, "</pre>\n");
		}
	}
	return ret;
}

/* Each witness whose cosignature was relied on: its verifier key and when it cosigned. */
static int html_witnesses(struct pl_buf *out, const struct pl_dossier_report *r)
{
	char ts[PL_TIMESTAMP_LEN + 1];
	struct pl_buf key;
	int ret = pl_buf_adds(out, "<dt>Witnesses</dt>");

	pl_buf_init(&key, PL_KEY_NAME_MAX + 128);
	if (ret == 0 && r->ncosigners == 0)
		ret = pl_buf_adds(out, "<dd>none verified: only the log key vouches for this "
		                       "checkpoint</dd>\n");
	for (size_t i = 0; ret == 0 && i < r->ncosigners; i++) {
		const struct pl_dossier_cosigner *c = &r->cosigners[i];
		pl_buf_reset(&key);
		time_text(ts, c->time);
		ret = pl_vkey_format(&c->key, &key);
		if (ret == 0)
			ret = pl_buf_adds(out, "<dd class=\"witness\"><span class=\"mono\">");
		if (ret == 0)
			ret = add_escaped(out, key.data, key.len);
		if (ret == 0)
			ret = pl_buf_addf(
			        out, "</span> cosigned at <span class=\"mono\">%s</span></dd>\n",
			        ts);
	}
	pl_buf_release(&key);
	return ret;
}

static int html_evidence(struct pl_buf *out, const struct pl_dossier_report *r)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1], root[PL_HASH_B64_LEN + 1], kid[PL_KEYID_BYTES * 2 + 1];
	int ret;

	pl_record_id_format(hex, r->subject);
	pl_b64_encode(root, r->root, PL_HASH_BYTES);
	pl_hex_encode(kid, r->log_key.id, PL_KEYID_BYTES);
	ret = pl_buf_adds(out, "<h2>Evidence</h2>\n<dl>\n<dt>Log</dt><dd class=\"mono\">");
	if (ret == 0)
		ret = add_esc(out, r->origin);
	if (ret == 0)
		ret = pl_buf_adds(out, "</dd>\n<dt>Log key</dt><dd class=\"mono\">");
	if (ret == 0)
		ret = add_esc(out, r->log_key.name);
	if (ret == 0)
		ret = pl_buf_addf(out, "+%s%s</dd>\n", kid,
		                  r->log_key_pinned ? "" : " (not given by the reader)");
	if (ret == 0)
		ret = html_witnesses(out, r);
	if (ret == 0)
		ret = pl_buf_addf(out,
		                  "<dt>Checkpoint</dt><dd class=\"mono\">tree size %llu, "
		                  "root %s</dd>\n<dt>Window</dt><dd>log #%llu to #%llu, every entry"
		                  "</dd>\n<dt>Subject</dt><dd class=\"mono\">%s</dd>\n</dl>\n",
		                  (unsigned long long)r->size, root, (unsigned long long)r->start,
		                  (unsigned long long)(r->size - 1), hex);
	if (ret == 0)
		ret = pl_buf_addf(
		        out,
		        "<footer>Verified offline from the dossier file alone against the "
		        "keys above (%s).</footer>\n</body>\n</html>\n",
		        PL_DOSSIER_VERSION);
	return ret;
}

int pl_dossier_render_html(const struct pl_dossier_report *r, struct pl_buf *out)
{
	size_t start = out->len;
	int ret;

	ret = html_head(out, r);
	if (ret == 0)
		ret = html_verdicts(out, r);
	if (ret == 0)
		ret = html_timeline(out, r);
	if (ret == 0)
		ret = html_disclosed(out, r);
	if (ret == 0)
		ret = html_evidence(out, r);
	if (ret != 0)
		out->len = start;
	return ret;
}
