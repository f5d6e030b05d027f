/*
 * A test exchange that lies in its thread index: parleyd itself, run unchanged, with the
 * exchange's test-only hook set so that every reference made by the party named in
 * PARLEY_LIAR_OMITS is left out of the index it commits to and of the proofs it serves: a
 * consistent lie, signed like the truth. Never installed; test_index_liar.sh runs it.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "exchange_int.h"

/* parleyd's main(), built under this name for this program (tests/integration/meson.build). */
int pl_parleyd_main(int argc, char **argv);

static const char *omitted;

static bool omits(const char *author)
{
	return strcmp(author, omitted) == 0;
}

int main(int argc, char **argv)
{
	omitted = getenv("PARLEY_LIAR_OMITS");
	if (omitted && omitted[0])
		pl__ex_index_omits = omits;
	return pl_parleyd_main(argc, argv);
}
