/* libFuzzer target: strict base64, hex, decimal and UTF-8 parsing; what decodes re-encodes exactly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/encoding.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	uint8_t raw[4096];
	size_t n;
	uint64_t v;

	if (size > 5000)
		return 0;
	/* One spelling per byte string: a canonical decoder's output encodes back to its input. */
	if (pl_b64_decode(raw, sizeof(raw), &n, s, size) == 0) {
		char *enc = malloc(PL_B64_LEN(n) + 1);
		if (!enc)
			abort();
		pl_b64_encode(enc, raw, n);
		if (strlen(enc) != size || memcmp(enc, s, size) != 0)
			abort();
		free(enc);
	}
	if (size % 2 == 0 && size / 2 <= sizeof(raw) &&
	    pl_hex_decode_exact(raw, size / 2, s, size) == 0) {
		char enc[2 * sizeof(raw) + 1];
		pl_hex_encode(enc, raw, size / 2);
		for (size_t i = 0; i < size; i++)
			if (enc[i] != (s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]))
				abort();
	}
	if (pl_parse_u64(&v, s, size, UINT64_MAX) == 0) {
		char dec[24];
		int k = snprintf(dec, sizeof(dec), "%llu", (unsigned long long)v);
		if (k < 0 || (size_t)k != size || memcmp(dec, s, size) != 0)
			abort();
	}
	(void)pl_utf8_is_valid(s, size);
	return 0;
}
