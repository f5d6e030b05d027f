/* libFuzzer target: the profile parser never crashes, and what it accepts formats back exactly. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <parley/buf.h>
#include <parley/profile.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_profile p, q;
	struct pl_buf b;
	const char *why = NULL;

	if (pl_profile_parse(&p, (const char *)data, size, &why) != 0) {
		if (!why)
			__builtin_trap(); /* every refusal says why */
		return 0;
	}
	/* One spelling per profile: formatting gives back the input, which parses to the same. */
	pl_buf_init(&b, PL_PROFILE_MAX_BYTES);
	if (pl_profile_format(&p, &b, &why) != 0 || b.len != size ||
	    memcmp(b.data, data, size) != 0)
		__builtin_trap();
	if (pl_profile_parse(&q, b.data, b.len, NULL) != 0 || strcmp(p.state, q.state) != 0 ||
	    strcmp(p.key_dir, q.key_dir) != 0 || strcmp(p.exchange, q.exchange) != 0)
		__builtin_trap();
	pl_buf_release(&b);
	return 0;
}
