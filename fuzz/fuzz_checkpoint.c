/* libFuzzer target: checkpoint text parsing (strict, round-trips) and signed checkpoint opening. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The Go checksum database key, so that its published checkpoint reaches the parser. */
const char pl_fuzz_vkey_text[] =
        "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct pl_checkpoint cp, back;
	struct pl_note *n = NULL;
	struct pl_buf b;

	if (pl_checkpoint_parse(&cp, text, size) == 0) {
		/* The text form is canonical: formatting gives back the input, which parses equal.
		 */
		pl_buf_init(&b, PL_CHECKPOINT_MAX_BYTES);
		if (pl_checkpoint_format(&cp, &b) != 0 || b.len != size ||
		    memcmp(b.data, text, size) != 0)
			abort();
		if (pl_checkpoint_parse(&back, b.data, b.len) != 0 ||
		    !pl_checkpoint_equal(&cp, &back))
			abort();
		pl_buf_release(&b);
	}
	/* The same bytes as a whole signed checkpoint. */
	if (pl_checkpoint_open(&cp, &n, text, size, "go.sum database tree", &pl_fuzz_vkey, 1) ==
	    0) {
		if (!n || strcmp(cp.origin, "go.sum database tree") != 0)
			abort();
		pl_note_free(n);
	}
	return 0;
}
