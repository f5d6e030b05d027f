/* libFuzzer target: the exchange's published file (two slots, each a signed checkpoint). */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/key.h>

#include "internal.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key that signed the seed corpus's checkpoints, so that valid slots reach every check. */
const char pl_fuzz_vkey_text[] =
        "hotline.example+90be85d4+AbGGr4ItdqnmDCQyIA0Nk/YvW0FlAzkTD74RRKZdMFyB";

/* Checks what a successful parse promises: a note that verifies, of the size and root told. */
static void check(const uint8_t *file, size_t len)
{
	struct pl__published *out = malloc(sizeof(*out));
	struct pl_checkpoint *cp = malloc(sizeof(*cp));

	if (!out || !cp)
		abort();
	if (pl__published_parse(out, file, len, "hotline.example", &pl_fuzz_vkey) == 0) {
		if (out->slot > 1 || out->note_len >= sizeof(out->note) ||
		    strlen(out->note) != out->note_len ||
		    pl_checkpoint_open(cp, NULL, out->note, out->note_len, "hotline.example",
		                       &pl_fuzz_vkey, 1) != 0 ||
		    cp->size != out->size || memcmp(cp->root, out->root, sizeof(cp->root)) != 0)
			abort();
	}
	free(out);
	free(cp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *file;

	/* As it comes (any length is refused but the file's own)... */
	check(data, size);
	/* ...and zero-padded or cut to the file's length, so that the slots are reached. */
	file = calloc(1, PL__PUBLISHED_BYTES);
	if (!file)
		abort();
	memcpy(file, data, size < PL__PUBLISHED_BYTES ? size : PL__PUBLISHED_BYTES);
	check(file, PL__PUBLISHED_BYTES);
	free(file);
	return 0;
}
