/*
 * Evidence in a browser: the checks the self-verifying dossier page and the
 * statement pages' script run (this file, compiled to WebAssembly with the
 * rest of the verify path), and the dossier page itself, one HTML file that
 * embeds the dossier and the verifier.
 */
#include <parley/dossier.h>
#include <parley/html.h>
#include <parley/proof.h>
#include <parley/record.h>
#include <parley/tlog.h>

#include <stdlib.h>
#include <string.h>

#include "dossier_int.h"
#include "internal.h"

/* Bytes of the one-line reason of a refusal. */
#define WHY_MAX 4096

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next white-space separated word of s at *pos: its start and length (0 at the end). */
static size_t next_word(const char *s, size_t *pos, const char **word)
{
	size_t i = *pos, n = 0;

	while (s[i] && is_space(s[i]))
		i++;
	*word = s + i;
	while (s[i + n] && !is_space(s[i + n]))
		n++;
	*pos = i + n;
	return n;
}

/*
 * Parses the white-space separated verifier key texts of text (each of type
 * type) into keys[0..max), *n of them. On failure appends a reason naming
 * what (e.g. "witness key") to why and returns PL_EINVAL.
 */
static int parse_key_list(const char *text, uint8_t type, struct pl_vkey *keys, size_t max,
                          size_t *n, const char *what, struct pl_buf *why)
{
	const char *w;
	size_t pos = 0, len;
	int ret = 0;

	*n = 0;
	if (strlen(text) > PL_DOSSIER_PAGE_KEYS_MAX) {
		ret = pl_buf_addf(why, "the %ss given are too long", what);
		goto fail;
	}
	while ((len = next_word(text, &pos, &w)) != 0) {
		if (*n == max) {
			ret = pl_buf_addf(why, "more than %zu %ss", max, what);
			goto fail;
		}
		if (pl_vkey_parse(&keys[*n], w, len) != 0 || keys[*n].type != type) {
			ret = pl_buf_addf(
			        why, "%s %zu is not %s verifier key", what, *n + 1,
			        type == PL_SIGTYPE_ED25519
			                ? "an Ed25519"
			                : "a witness cosignature (c2sp.org/tlog-cosignature)");
			goto fail;
		}
		(*n)++;
	}
	goto out;
fail:
	ret = ret ? ret : PL_EINVAL;
out:
	return ret;
}

/* Parses the key texts; on failure appends the reason to why and returns PL_EINVAL. */
static int parse_keys(const char *log_key, const char *witnesses, struct pl_vkey *lk, bool *has_lk,
                      struct pl_vkey *wits, size_t *nwits, struct pl_buf *why)
{
	size_t nlk = 0;
	int ret;

	ret = parse_key_list(log_key, PL_SIGTYPE_ED25519, lk, 1, &nlk, "log key", why);
	if (ret == 0)
		ret = parse_key_list(witnesses, PL_SIGTYPE_COSIG_V1, wits,
		                     PL_DOSSIER_PAGE_WITNESSES_MAX, nwits, "witness key", why);
	*has_lk = ret == 0 && nlk == 1;
	return ret;
}

int pl_dossier_check_html(const char *json, size_t len, const char *log_key, const char *witnesses,
                          struct pl_buf *out)
{
	struct pl_dossier_report *rep = NULL;
	struct pl_vkey lk, *wits;
	struct pl_buf why;
	size_t nwits = 0;
	bool has_lk = false;
	int err, ret;

	pl_buf_init(&why, WHY_MAX);
	wits = calloc(PL_DOSSIER_PAGE_WITNESSES_MAX, sizeof(*wits));
	if (!wits) {
		err = PL_ENOMEM;
		goto out;
	}
	err = parse_keys(log_key, witnesses, &lk, &has_lk, wits, &nwits, &why);
	if (err == 0)
		err = pl_dossier_verify(&rep, json, len, has_lk ? &lk : NULL, wits, nwits, nwits,
		                        &why);
	if (err == 0) {
		ret = pl_dossier_render_html(rep, out);
		if (ret)
			err = ret;
		goto out;
	}
	if (err != PL_ENOMEM) {
		ret = pl_dossier_render_failure_html(err, why.data ? why.data : "", out);
		if (ret)
			err = ret;
	}
out:
	pl_dossier_report_free(rep);
	free(wits);
	pl_buf_release(&why);
	return err;
}

/* Appends "<code>KEY</code>" for each of keys[0..n), separated by ", ". */
static int add_keys(struct pl_buf *out, const struct pl_vkey *keys, size_t n)
{
	struct pl_buf text;
	int ret = 0;

	pl_buf_init(&text, PL_KEY_NAME_MAX + 128);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		pl_buf_reset(&text);
		ret = pl_buf_adds(out, i ? ", <code>" : "<code>");
		if (ret == 0)
			ret = pl_vkey_format(&keys[i], &text);
		if (ret == 0)
			ret = pl_html_escape(out, text.data, text.len);
		if (ret == 0)
			ret = pl_buf_adds(out, "</code>");
	}
	pl_buf_release(&text);
	return ret;
}

/* The keys a statement is checked against, parsed. */
struct statement_keys {
	struct pl_vkey authors[PL_STATEMENT_AUTHOR_KEYS_MAX];
	size_t nauthors;
	struct pl_vkey log;
	size_t nlog;
	struct pl_vkey wits[PL_DOSSIER_PAGE_WITNESSES_MAX];
	size_t nwits;
};

/* The checks of pl_statement_check_html(); why says what fails. */
static int statement_check(const char *record, size_t rlen, const char *proof, size_t plen,
                           const struct statement_keys *k, struct pl_record *r,
                           uint8_t id[static PL_RECORD_ID_BYTES], struct pl_vkey *signer,
                           struct pl_checkpoint *cp, size_t *cosigned, uint64_t *index,
                           struct pl_buf *why)
{
	struct pl_proof *p = NULL;
	struct pl_proof_policy pol = {0};
	uint8_t leaf[PL_HASH_BYTES];
	const char *what = NULL;
	int ret;

	ret = pl_record_open(r, id, signer, record, rlen, k->authors, k->nauthors, &what);
	if (ret) {
		if (pl_buf_addf(why, "the statement's signature: %s",
		                what ? what : pl_strerror(ret)) != 0)
			ret = PL_ENOMEM;
		goto out;
	}
	ret = pl_proof_parse(&p, proof, plen);
	if (ret) {
		if (pl_buf_adds(why, "the proof is not a c2sp.org/tlog-proof") != 0)
			ret = PL_ENOMEM;
		goto out;
	}
	*index = p->index;
	pl_tlog_leaf_hash(leaf, record, rlen);
	pol.origin = k->log.name;
	pol.logkeys = &k->log;
	pol.nlogkeys = 1;
	pol.witkeys = k->wits;
	pol.nwitkeys = k->nwits;
	pol.need = k->nwits;
	ret = pl_proof_check(p, leaf, &pol, cp, cosigned, why);
	/*
	 * A record newer than the witnesses' last cosignature fails only their check: say so,
	 * so that a reader knows to look again rather than distrust the log.
	 */
	if (ret && k->nwits) {
		struct pl_buf scratch;
		size_t none;
		pl_buf_init(&scratch, WHY_MAX);
		pol.witkeys = NULL;
		pol.nwitkeys = 0;
		pol.need = 0;
		if (pl_proof_check(p, leaf, &pol, cp, &none, &scratch) == 0 &&
		    pl_buf_addf(why,
		                "; without the witnesses it holds: signed by its author and "
		                "included in the log key's checkpoint of tree size %llu, which "
		                "the witnesses given have not cosigned (a witness may still "
		                "cosign it: look again later)",
		                (unsigned long long)cp->size) != 0)
			ret = PL_ENOMEM;
		pl_buf_release(&scratch);
	}
out:
	pl_proof_free(p);
	return ret;
}

int pl_statement_check_html(const char *record, size_t rlen, const char *proof, size_t plen,
                            const char *author_keys, const char *log_key, const char *witnesses,
                            struct pl_buf *out)
{
	struct statement_keys *k = calloc(1, sizeof(*k));
	struct pl_record *r = calloc(1, sizeof(*r));
	struct pl_checkpoint *cp = calloc(1, sizeof(*cp));
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_vkey signer;
	struct pl_buf why;
	size_t cosigned = 0, start = out->len;
	uint64_t index = 0;
	int err, ret;

	pl_buf_init(&why, WHY_MAX);
	if (!k || !r || !cp) {
		err = PL_ENOMEM;
		goto out;
	}
	err = parse_key_list(author_keys, PL_SIGTYPE_ED25519, k->authors,
	                     PL_STATEMENT_AUTHOR_KEYS_MAX, &k->nauthors, "author key", &why);
	if (err == 0)
		err = parse_key_list(log_key, PL_SIGTYPE_ED25519, &k->log, 1, &k->nlog, "log key",
		                     &why);
	if (err == 0)
		err = parse_key_list(witnesses, PL_SIGTYPE_COSIG_V1, k->wits,
		                     PL_DOSSIER_PAGE_WITNESSES_MAX, &k->nwits, "witness key", &why);
	if (err == 0 && (k->nauthors == 0 || k->nlog == 0)) {
		err = pl_buf_adds(&why, "an author key and the log key are needed");
		err = err ? err : PL_EINVAL;
	}
	if (err == 0)
		err = statement_check(record, rlen, proof, plen, k, r, id, &signer, cp, &cosigned,
		                      &index, &why);
	if (err) {
		ret = pl_buf_adds(out, "<div id=\"pl-checked\" data-verified=\"no\"><p><strong>"
		                       "This statement does not verify.</strong> Reason: ");
		if (ret == 0)
			ret = pl_html_escape(out, why.len ? why.data : pl_strerror(err),
			                     why.len ? why.len : strlen(pl_strerror(err)));
		if (ret == 0)
			ret = pl_buf_addf(out, " (%s)</p></div>\n", pl_strerror(err));
		if (ret) {
			err = ret;
			out->len = start;
		}
		goto out;
	}
	pl_record_id_format(hex, id);
	ret = pl_buf_addf(out,
	                  "<div id=\"pl-checked\" data-verified=\"yes\"><p><strong>Verified in "
	                  "this browser</strong> by libparley's verifier (WebAssembly):</p>\n<ul>"
	                  "\n<li>This %s, record <code>%s</code>, is signed by its author's key ",
	                  pl_record_kind_name(r->kind), hex);
	if (ret == 0)
		ret = add_keys(out, &signer, 1);
	if (ret == 0)
		ret = pl_buf_addf(out,
		                  ".</li>\n<li>It is entry #%llu of the log, included in the "
		                  "checkpoint of tree size %llu signed by the log key ",
		                  (unsigned long long)index, (unsigned long long)cp->size);
	if (ret == 0)
		ret = add_keys(out, &k->log, 1);
	if (ret == 0 && k->nwits)
		ret = pl_buf_addf(out,
		                  ".</li>\n<li>That checkpoint is cosigned by all %zu "
		                  "witnesses given: ",
		                  k->nwits);
	if (ret == 0 && k->nwits)
		ret = add_keys(out, k->wits, k->nwits);
	if (ret == 0 && !k->nwits)
		ret = pl_buf_adds(out, ".</li>\n<li>No witness key was given: only the log key "
		                       "vouches for that checkpoint");
	if (ret == 0)
		ret = pl_buf_adds(out, ".</li>\n</ul>\n<p>Compare these keys with the ones the "
		                       "exchange and the witnesses publish.</p></div>\n");
	if (ret) {
		err = ret;
		out->len = start;
	}
out:
	free(k);
	free(r);
	free(cp);
	pl_buf_release(&why);
	return err;
}

/* True when a script's text may sit inside a <script> element as it is. */
static bool script_ok(const char *s, size_t n)
{
	static const char end[] = "</script";
	bool ok = true;

	for (size_t i = 0; ok && i + sizeof(end) - 1 <= n; i++) {
		size_t k = 0;
		/* ASCII case folding: the HTML parser ends a script at any case of the tag. */
		while (k < sizeof(end) - 1 &&
		       (s[i + k] | (s[i + k] >= 'A' && s[i + k] <= 'Z' ? 0x20 : 0)) == end[k])
			k++;
		ok = k < sizeof(end) - 1;
	}
	return ok;
}

static int add_script(struct pl_buf *out, const char *name, const char *s, size_t n)
{
	int ret = pl_buf_addf(out, "<script data-name=\"%s\">\n", name);

	if (ret == 0)
		ret = pl_buf_add(out, s, n);
	if (ret == 0)
		ret = pl_buf_adds(out, "\n</script>\n");
	return ret;
}

static const char page_css[] =
        "body{font:16px/1.5 Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#1a1a1a;background:#fdfdfb}"
        "#pl-status{padding:.5rem .8rem;border-left:6px solid #bbb;background:#f3f3ef}"
        "#pl-status[data-state=verified]{border-color:#2a7a2a;background:#eaf5ea}"
        "#pl-status[data-state=refused]{border-color:#b03030;background:#fbeaea}"
        "details{margin:1rem 0}label{display:block;margin:.4rem 0}"
        "textarea{width:100%;font-family:Menlo,Consolas,monospace;font-size:.85rem}";

int pl_dossier_page(const char *json, size_t len, const char *log_key, const char *witnesses,
                    const struct pl_dossier_page_assets *a, struct pl_buf *out)
{
	size_t start = out->len;
	char *b64 = NULL;
	int ret = 0;

	if (strlen(log_key) > PL_DOSSIER_PAGE_KEYS_MAX ||
	    strlen(witnesses) > PL_DOSSIER_PAGE_KEYS_MAX || len > PL_DOSSIER_MAX_BYTES ||
	    !script_ok(a->sodium, a->sodium_len) || !script_ok(a->wrappers, a->wrappers_len) ||
	    !script_ok(a->verifier, a->verifier_len) || !script_ok(a->glue, a->glue_len)) {
		ret = PL_EINVAL;
		goto out;
	}
	b64 = malloc(PL_B64_LEN(len) + 1);
	if (!b64) {
		ret = PL_ENOMEM;
		goto out;
	}
	pl_b64_encode(b64, (const uint8_t *)json, len);
	ret = pl_buf_addf(
	        out,
	        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	        "script-src 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'unsafe-inline'\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	        "<title>Parley dossier</title>\n<style>%s</style>\n</head>\n<body>\n"
	        "<p id=\"pl-status\" data-state=\"pending\" role=\"status\">Verifying this "
	        "dossier in this browser&hellip;</p>\n"
	        "<noscript><p>This page verifies the dossier it holds with JavaScript and "
	        "WebAssembly, offline. Without them, verify it with <code>parley verify"
	        "</code>.</p></noscript>\n"
	        "<details id=\"pl-keys-box\"><summary>The keys it is checked against</summary>\n"
	        "<form id=\"pl-keys\">\n<label>The exchange's log key (empty: the key the "
	        "dossier names, which shows only that it is consistent with itself)"
	        "<textarea id=\"pl-log-key\" rows=\"2\" spellcheck=\"false\">",
	        page_css);
	if (ret == 0)
		ret = pl_html_escape(out, log_key, strlen(log_key));
	if (ret == 0)
		ret = pl_buf_adds(out, "</textarea></label>\n<label>Witness keys, one a line (each "
		                       "must have cosigned the checkpoint)<textarea "
		                       "id=\"pl-witness-keys\" rows=\"3\" spellcheck=\"false\">");
	if (ret == 0)
		ret = pl_html_escape(out, witnesses, strlen(witnesses));
	if (ret == 0)
		ret = pl_buf_adds(out,
		                  "</textarea></label>\n<button type=\"submit\">Verify "
		                  "again with these keys</button>\n</form>\n</details>\n"
		                  "<div id=\"pl-report\"></div>\n"
		                  "<script type=\"application/octet-stream\" id=\"pl-dossier\">");
	if (ret == 0)
		ret = pl_buf_adds(out, b64);
	if (ret == 0)
		ret = pl_buf_adds(out, "</script>\n");
	if (ret == 0)
		ret = add_script(out, "libsodium", a->sodium, a->sodium_len);
	if (ret == 0)
		ret = add_script(out, "libsodium-wrappers", a->wrappers, a->wrappers_len);
	if (ret == 0)
		ret = add_script(out, "parley-verifier", a->verifier, a->verifier_len);
	if (ret == 0)
		ret = add_script(out, "dossier-page", a->glue, a->glue_len);
	if (ret == 0)
		ret = pl_buf_adds(out, "</body>\n</html>\n");
out:
	if (ret != 0)
		out->len = start;
	free(b64);
	return ret;
}
