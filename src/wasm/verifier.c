/*
 * The entry points of libparley's verifier compiled to WebAssembly
 * (scripts/build-wasm): thin wrappers over pl_dossier_check_html(), so the
 * browser shows what the C code decides and words.
 */
#include <emscripten.h>
#include <stdlib.h>
#include <string.h>

#include <parley/dossier.h>

/*
 * Checks the dossier json[0..len) against the key texts (see
 * pl_dossier_check_html()). Returns a malloc'd NUL-terminated string: one
 * status byte ('V' verifies, 'E' the evidence does not hold, 'I' the input
 * cannot be checked) then the HTML page; NULL when out of memory. Free it
 * with pl_wasm_free().
 */
EMSCRIPTEN_KEEPALIVE char *pl_wasm_check(const char *json, size_t len, const char *log_key,
                                         const char *witnesses)
{
	struct pl_buf page;
	char *res = NULL;
	int err;

	pl_buf_init(&page, 8 * PL_DOSSIER_MAX_BYTES);
	err = pl_dossier_check_html(json, len, log_key, witnesses, &page);
	if (err != 0 && page.len == 0)
		goto out;
	res = malloc(page.len + 2);
	if (!res)
		goto out;
	res[0] = err == 0 ? 'V' : pl_dossier_error_is_evidence(err) ? 'E' : 'I';
	memcpy(res + 1, page.data, page.len);
	res[page.len + 1] = '\0';
out:
	pl_buf_release(&page);
	return res;
}

/*
 * Checks a statement (see pl_statement_check_html()): record[0..rlen) and
 * its tlog-proof proof[0..plen) against the key texts. Returns a malloc'd
 * NUL-terminated string: 'V' (verifies) or 'E' (does not), then the HTML
 * fragment; NULL when out of memory. Free it with pl_wasm_free().
 */
EMSCRIPTEN_KEEPALIVE char *pl_wasm_check_statement(const char *record, size_t rlen,
                                                   const char *proof, size_t plen,
                                                   const char *author_keys, const char *log_key,
                                                   const char *witnesses)
{
	struct pl_buf html;
	char *res = NULL;
	int err;

	pl_buf_init(&html, 1u << 20);
	err = pl_statement_check_html(record, rlen, proof, plen, author_keys, log_key, witnesses,
	                              &html);
	if (err != 0 && html.len == 0)
		goto out;
	res = malloc(html.len + 2);
	if (!res)
		goto out;
	res[0] = err == 0 ? 'V' : 'E';
	memcpy(res + 1, html.data, html.len);
	res[html.len + 1] = '\0';
out:
	pl_buf_release(&html);
	return res;
}

EMSCRIPTEN_KEEPALIVE void pl_wasm_free(void *p)
{
	free(p);
}
