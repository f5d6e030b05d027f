/* libFuzzer target: a member's record id argument and a directory entry's register record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/member.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pl_record r;
	char out[PL_RECORD_ID_HEX_LEN + 1];
	struct pl_client_party p;
	struct pl_vkey log_key;
	const char *why = NULL;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	/* An accepted id is 8 to 64 lower-case hex digits, the argument's in any case. */
	if (pl_member_id_arg(out, s) == 0) {
		size_t n = strlen(out);
		if (n < PL_RECORD_ID_PREFIX_MIN || n > PL_RECORD_ID_HEX_LEN || n != strlen(s) ||
		    strspn(out, "0123456789abcdef") != n)
			abort();
	}
	/* Whatever the register record, the check says no or holds, and says why when not. */
	memset(&p, 0, sizeof(p));
	memset(&log_key, 0, sizeof(log_key));
	memcpy(log_key.name, "hotline.example", sizeof("hotline.example"));
	memcpy(p.name, "kpa", 4);
	p.register_record = s;
	p.register_record_len = size;
	if (pl_member_party_check(&p, "hotline.example", &log_key, &r, &why) == 0 || !why)
		abort();
	free(s);
	return 0;
}
