/* libFuzzer target: the Content-Digest parser must never crash and must accept one form only. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <parley/auth.h>
#include <parley/buf.h>
#include <parley/encoding.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hash[PL_HASH_BYTES], again[PL_HASH_BYTES];
	struct pl_buf b;

	if (pl_auth_digest_parse(hash, (const char *)data, size) != 0)
		return 0;
	/* Whatever parses is exactly the canonical text of its hash. */
	if (size != PL_AUTH_DIGEST_LEN)
		__builtin_trap();
	pl_buf_init(&b, 128);
	{
		char b64[PL_HASH_B64_LEN + 1];
		pl_b64_encode(b64, hash, PL_HASH_BYTES);
		if (pl_buf_addf(&b, PL_AUTH_DIGEST_PREFIX "%s:", b64) != 0 || b.len != size ||
		    memcmp(b.data, data, size) != 0)
			__builtin_trap();
	}
	if (pl_auth_digest_parse(again, b.data, b.len) != 0 ||
	    memcmp(again, hash, PL_HASH_BYTES) != 0)
		__builtin_trap();
	pl_buf_release(&b);
	return 0;
}
