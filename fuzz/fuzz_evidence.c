/* libFuzzer target: the evidence file check (two histories, an index lie), with and without a
 * log key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/evidence.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char pl_fuzz_vkey_text[] =
        "hotline.example+891ecda2+AegQ4RLwQB0qit2QECNm2DGI0If+oC0zb6Q9iOSBZB08";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pl_evidence ev;
	const char *text = (const char *)data;

	for (int pinned = 0; pinned < 2; pinned++) {
		int err = pl_evidence_check(&ev, text, size, pinned ? &pl_fuzz_vkey : NULL);
		/* A verdict always comes with its words; a refusal of the format says where. */
		if (err == 0 && (ev.why[0] == '\0' || ev.verdict > PL_EVIDENCE_NOT_PROVEN))
			abort();
		if (err == PL_EMALFORMED && strncmp(ev.why, "line ", 5) != 0)
			abort();
	}
	return 0;
}
