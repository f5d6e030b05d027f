/* libFuzzer target: the data directory's store location (store.url: a postgresql:// URI). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a successful parse promises: one line of printable ASCII, a postgres scheme, bounded. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[PL_STORE_URL_MAX + 1];
	size_t n;

	if (pl__store_location_parse((const char *)data, size, out) != 0)
		return 0;
	n = strlen(out);
	if (n == 0 || n > PL_STORE_URL_MAX || n > size || memcmp(out, data, n) != 0 ||
	    (strncmp(out, "postgresql://", 13) != 0 && strncmp(out, "postgres://", 11) != 0))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] <= 0x20 || (unsigned char)out[i] >= 0x7f)
			abort();
	return 0;
}
