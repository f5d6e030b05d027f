/* libFuzzer target: the Authorization header parser must never crash and must be strict. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <parley/auth.h>
#include <parley/buf.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_auth a;
	struct pl_vkey vk;
	uint8_t hash[PL_HASH_BYTES] = {0};

	if (pl_auth_parse(&a, (const char *)data, size) != 0)
		return 0;
	/* Whatever parses is well formed: a printable key name and a time in range. */
	if (a.key_name[0] == '\0' || a.time > PL_AUTH_TIME_MAX)
		__builtin_trap();
	for (const char *c = a.key_name; *c; c++)
		if (*c <= ' ' || *c >= 0x7f || *c == '+')
			__builtin_trap();
	/* Verification of a parsed header against some key never crashes either. */
	memset(&vk, 0, sizeof(vk));
	memcpy(vk.name, a.key_name, sizeof(vk.name));
	vk.type = PL_SIGTYPE_ED25519;
	memcpy(vk.id, a.key_id, sizeof(vk.id));
	(void)!pl_auth_verify(&a, &vk, "GET", "/inbox?after=1", 14, hash, a.time, 60);
	return 0;
}
