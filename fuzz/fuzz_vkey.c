/* libFuzzer target: verifier and signer key text forms parse strictly and round-trip exactly. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/key.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct pl_vkey vk, derived;
	struct pl_skey sk;
	struct pl_buf b;

	pl_buf_init(&b, 4096);
	if (pl_vkey_parse(&vk, s, size) == 0) {
		/* One spelling per key: what parses formats back to the same bytes. */
		if (pl_vkey_format(&vk, &b) != 0 || b.len != size || memcmp(b.data, s, size) != 0)
			abort();
		if (!pl_key_name_is_valid(vk.name, strlen(vk.name)))
			abort();
	}
	pl_buf_reset(&b);
	if (pl_skey_parse(&sk, s, size) == 0) {
		if (pl_skey_format(&sk, &b) != 0 || b.len != size || memcmp(b.data, s, size) != 0)
			abort();
		pl_skey_public(&sk, &derived);
		pl_buf_reset(&b);
		if (pl_vkey_format(&derived, &b) != 0 || pl_vkey_parse(&vk, b.data, b.len) != 0 ||
		    !pl_vkey_equal(&vk, &derived))
			abort();
		pl_skey_clear(&sk);
	}
	if (b.data)
		sodium_memzero(b.data, b.len);
	pl_buf_release(&b);
	return 0;
}
