/* libFuzzer target: durations parse strictly, within their bound, and never past their length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/timestamp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t maxes[] = {0, 59, 86400, 10 * 365 * 86400LL, INT64_MAX};
	/* A copy of exactly size bytes, so that a read past the end is caught. */
	char *s = malloc(size ? size : 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		int64_t v = -1;
		int ret = pl_duration_parse(&v, s, size, maxes[i]);
		if (ret == 0 && (v < 0 || v > maxes[i] || size == 0 || size > PL_DURATION_TEXT_MAX))
			abort();
		if (ret != 0 && v != -1)
			abort();
		/* Accepted text ends in a unit and holds only digits and units. */
		if (ret == 0 && strchr("smhdw", s[size - 1]) == NULL)
			abort();
	}
	free(s);
	return 0;
}
