/* libFuzzer target: TZif files parse strictly and boundedly; offsets and wall times stay sane. */
#include <stdint.h>
#include <stdlib.h>

#include <parley/tz.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_tz *tz = NULL;
	const char *why = NULL;
	int ret = pl_tz_parse(&tz, "Fuzz/Zone", data, size, &why);

	if (ret) {
		if (tz || (ret != PL_ENOMEM && !why))
			abort(); /* nothing made; every refusal says why */
		return 0;
	}
	if (tz->n > PL_TZ_TRANSITIONS_MAX)
		abort();
	/* Offsets within ±25 h; a wall time maps to an instant whose wall time is near it. */
	for (int64_t t = -4000000000LL; t <= 8000000000LL; t += 86400 * 97 + 3607) {
		int32_t off = pl_tz_offset(tz, t);
		int64_t u;
		if (off < -25 * 3600 || off > 25 * 3600)
			abort();
		u = pl_tz_to_utc(tz, t);
		if (u + pl_tz_offset(tz, u) < t - 3 * 86400 ||
		    u + pl_tz_offset(tz, u) > t + 3 * 86400)
			abort();
	}
	pl_tz_free(tz);
	return 0;
}
