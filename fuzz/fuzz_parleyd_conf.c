/* libFuzzer target: parleyd.conf parses strictly, and what parses formats back to the same
 * settings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_parleyd_config *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct pl_buf text, again, err;

	if (!a || !b)
		abort();
	pl_parleyd_config_default(a);
	pl_parleyd_config_default(b);
	pl_buf_init(&text, PL_PARLEYD_CONF_MAX);
	pl_buf_init(&again, PL_PARLEYD_CONF_MAX);
	pl_buf_init(&err, 4096);
	if (pl_parleyd_config_parse(a, (const char *)data, size, &err) == 0) {
		/* Settings survive a round trip through their own text form. */
		if (pl_parleyd_config_format(a, &text) != 0 ||
		    pl_parleyd_config_parse(b, text.data, text.len, NULL) != 0 ||
		    pl_parleyd_config_format(b, &again) != 0 || text.len != again.len ||
		    memcmp(text.data, again.data, text.len) != 0)
			abort();
		if (a->rate_burst < a->rate || a->ex.batch_max == 0)
			abort();
	} else {
		/* A refused file leaves the settings untouched and says why. */
		if (pl_parleyd_config_format(a, &text) != 0 ||
		    pl_parleyd_config_format(b, &again) != 0 || text.len != again.len ||
		    memcmp(text.data, again.data, text.len) != 0 || err.len == 0)
			abort();
	}
	pl_buf_release(&text);
	pl_buf_release(&again);
	pl_buf_release(&err);
	free(a);
	free(b);
	return 0;
}
