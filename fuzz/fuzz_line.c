/* libFuzzer target: line schedules parse strictly, format canonically, and give sane due times. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/line.h>
#include <parley/timestamp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct pl_line l, l2;
	struct pl_buf b, b2;
	const char *why = NULL;
	int64_t due = 0, after;
	struct pl_tz *tz = NULL;

	if (pl_line_parse(&l, s, size, &why) != 0) {
		if (!why)
			abort(); /* every refusal says why */
		return 0;
	}
	pl_buf_init(&b, PL_LINE_TEXT_MAX);
	pl_buf_init(&b2, PL_LINE_TEXT_MAX);
	/* The canonical text parses back to the same schedule and is a fixed point. */
	if (pl_line_format(&l, &b) != 0 || pl_line_parse(&l2, b.data, b.len, NULL) != 0 ||
	    memcmp(&l, &l2, sizeof(l)) != 0 || pl_line_format(&l2, &b2) != 0 || b.len != b2.len ||
	    memcmp(b.data, b2.data, b.len) != 0)
		abort();
	/* A zoned line's zone: a made-up one, an hour of DST from March to October. */
	if (pl_line_is_zoned(&l)) {
		tz = calloc(1, sizeof(*tz));
		if (!tz)
			return 0;
		snprintf(tz->name, sizeof(tz->name), "%s", l.zone);
		tz->has_rule = tz->has_dst = true;
		tz->std = (int32_t)(size % 49) * 1800 - 12 * 3600;
		tz->dst = tz->std + 3600;
		tz->start = (struct pl_tz_change){3, 5, 0, 2 * 3600};
		tz->end = (struct pl_tz_change){10, 5, 0, 3 * 3600};
		if (pl_line_next(&l, 0, &due) != PL_EINVAL)
			abort(); /* a zoned line needs its zone */
	}
	/* Due times move forward, never further than a period or eight days and an hour. */
	after = (int64_t)((size * 7919u) % 100000u) * 86413 - 5000000000LL;
	for (int i = 0; i < 16; i++) {
		if (pl_line_next_in(&l, tz, after, &due) != 0)
			abort();
		if (due <= after ||
		    due - after > (l.mode == PL_LINE_EVERY ? l.period : 8 * 86400 + 3600))
			abort();
		after = due;
	}
	if (pl_line_next_in(&l, tz, PL_TIMESTAMP_MAX, &due) != 0 ||
	    pl_line_next_in(&l, tz, PL_TIMESTAMP_MAX + 1, &due) != PL_ERANGE)
		abort();
	pl_tz_free(tz);
	pl_buf_release(&b);
	pl_buf_release(&b2);
	return 0;
}
