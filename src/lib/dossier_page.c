/*
 * Dossier in a browser: the check the self-verifying page runs (this file,
 * compiled to WebAssembly with the rest of the verify path) and the page
 * itself, one HTML file that embeds the dossier and the verifier.
 */
#include <parley/dossier.h>

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

/* Parses the key texts; on failure appends the reason to why and returns PL_EINVAL. */
static int parse_keys(const char *log_key, const char *witnesses, struct pl_vkey *lk,
                      bool *has_lk, struct pl_vkey *wits, size_t *nwits, struct pl_buf *why)
{
	const char *w;
	size_t pos = 0, n;
	int ret = 0;

	*has_lk = false;
	*nwits = 0;
	if (strlen(log_key) > PL_DOSSIER_PAGE_KEYS_MAX ||
	    strlen(witnesses) > PL_DOSSIER_PAGE_KEYS_MAX) {
		ret = pl_buf_adds(why, "the keys given are too long");
		goto fail;
	}
	n = next_word(log_key, &pos, &w);
	if (n) {
		if (pl_vkey_parse(lk, w, n) != 0 || lk->type != PL_SIGTYPE_ED25519) {
			ret = pl_buf_adds(why, "the log key given is not an Ed25519 verifier key");
			goto fail;
		}
		*has_lk = true;
		if (next_word(log_key, &pos, &w)) {
			ret = pl_buf_adds(why, "give one log key");
			goto fail;
		}
	}
	pos = 0;
	while ((n = next_word(witnesses, &pos, &w)) != 0) {
		if (*nwits == PL_DOSSIER_PAGE_WITNESSES_MAX) {
			ret = pl_buf_addf(why, "more than %d witness keys",
			                  PL_DOSSIER_PAGE_WITNESSES_MAX);
			goto fail;
		}
		if (pl_vkey_parse(&wits[*nwits], w, n) != 0 ||
		    wits[*nwits].type != PL_SIGTYPE_COSIG_V1) {
			ret = pl_buf_addf(why,
			                  "witness key %zu is not a witness cosignature verifier key "
			                  "(c2sp.org/tlog-cosignature)",
			                  *nwits + 1);
			goto fail;
		}
		(*nwits)++;
	}
	return 0;
fail:
	return ret ? ret : PL_EINVAL;
}

int pl_dossier_check_html(const char *json, size_t len, const char *log_key,
                          const char *witnesses, struct pl_buf *out)
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

/* True when a script's text may sit inside a <script> element as it is. */
static bool script_ok(const char *s, size_t n)
{
	static const char end[] = "</script";

	for (size_t i = 0; i + sizeof(end) - 1 <= n; i++) {
		size_t k = 0;
		while (k < sizeof(end) - 1 && (s[i + k] | (s[i + k] >= 'A' && s[i + k] <= 'Z' ? 0x20 : 0)) == end[k])
			k++;
		if (k == sizeof(end) - 1)
			return false;
	}
	return true;
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
		ret = pl__html_escape(out, log_key, strlen(log_key));
	if (ret == 0)
		ret = pl_buf_adds(out, "</textarea></label>\n<label>Witness keys, one a line (each "
		                       "must have cosigned the checkpoint)<textarea "
		                       "id=\"pl-witness-keys\" rows=\"3\" spellcheck=\"false\">");
	if (ret == 0)
		ret = pl__html_escape(out, witnesses, strlen(witnesses));
	if (ret == 0)
		ret = pl_buf_adds(out, "</textarea></label>\n<button type=\"submit\">Verify "
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
