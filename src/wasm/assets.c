/* Looking up the embedded browser files (assets.h). */
#include "assets.h"

#include <string.h>

const struct pl_asset *pl_asset_find(const char *name, size_t len)
{
	const struct pl_asset *found = NULL;

	for (size_t i = 0; i < pl_nassets && !found; i++) {
		if (strlen(pl_assets[i].name) == len && memcmp(pl_assets[i].name, name, len) == 0)
			found = &pl_assets[i];
	}
	return found;
}

int pl_assets_page(struct pl_dossier_page_assets *a)
{
	const struct pl_asset *s = pl_asset_find("libsodium-sumo.js", 17);
	const struct pl_asset *w = pl_asset_find("libsodium-wrappers.js", 21);
	const struct pl_asset *v = pl_asset_find("parley-verifier.js", 18);
	const struct pl_asset *g = pl_asset_find("dossier-page.js", 15);

	if (!s || !w || !v || !g)
		return PL_ENOTFOUND;
	*a = (struct pl_dossier_page_assets){
	        .sodium = s->data,
	        .sodium_len = s->len,
	        .wrappers = w->data,
	        .wrappers_len = w->len,
	        .verifier = v->data,
	        .verifier_len = v->len,
	        .glue = g->data,
	        .glue_len = g->len,
	};
	return 0;
}
