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
	/* A returning party's previous register: parsed, or refused with a documented error. */
	{
		uint8_t prev[PL_RECORD_ID_BYTES], want[PL_RECORD_ID_BYTES] = {0};
		struct pl_directory d;
		bool more = false;
		int ret = pl_member_register_previous(s, size, prev);
		if (ret != 0 && ret != PL_ENOTFOUND && ret != PL_EMALFORMED && ret != PL_ETOOBIG &&
		    ret != PL_ENOMEM)
			abort();
		/* No log key verifies anything: the directory never takes the record's keys. */
		memcpy(log_key.name, "hotline.example", sizeof("hotline.example"));
		log_key.type = PL_SIGTYPE_ED25519;
		if (pl_directory_init(&d, &log_key, 0, 8) == 0) {
			why = NULL;
			ret = pl_member_directory_previous(&d, &log_key, "hotline.example", "kpa",
			                                   want, s, size, &more, prev, &why);
			if (ret == 0 || d.n != 1)
				abort();
			pl_directory_release(&d);
		}
	}
	free(s);
	return 0;
}
