/*
 * The browser verifier's files, embedded in the binaries at build time
 * (scripts/embed-assets) when the WebAssembly build is available
 * (meson -Dwasm): libsodium's build, libsodium-wrappers, libparley's
 * verifier and the scripts of the pages. Empty otherwise.
 */
#ifndef PARLEY_ASSETS_H
#define PARLEY_ASSETS_H

#include <stddef.h>

#include <parley/dossier.h>

struct pl_asset {
	const char *name; /* e.g. "parley-verifier.js" */
	const char *mime; /* its Content-Type */
	const char *data;
	size_t len;
};

/* The embedded files, pl_nassets of them, then an entry of NULLs. */
extern const struct pl_asset pl_assets[];
extern const size_t pl_nassets;

/* The embedded file named name[0..len), or NULL. */
const struct pl_asset *pl_asset_find(const char *name, size_t len);

/*
 * Fills a with the scripts a self-verifying dossier page embeds. Returns 0,
 * or PL_ENOTFOUND when this build has no browser verifier.
 */
int pl_assets_page(struct pl_dossier_page_assets *a);

#endif
