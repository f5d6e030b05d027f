/* libFuzzer target: payload blobs (parse, reader check, open) and the encryption key text form. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <parley/box.h>
#include <parley/party.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: one selector byte, then
 *   even: a 32-byte commitment and a blob, opened with the fixed key below;
 *   odd:  the text form of an encryption key.
 * The seeds in fuzz/corpus/box/ are sealed to the fixed key, so the fuzzer
 * starts from blobs that open.
 */
static struct pl_box_keypair me;

static void fuzz_blob(const uint8_t *data, size_t size)
{
	struct pl_box_info info;
	uint8_t *pt = NULL, salt[PL_BOX_SALT_BYTES];
	size_t pt_len = 0;
	bool parsed, reader;

	if (size < PL_BOX_COMMIT_BYTES)
		return;
	parsed = pl_box_parse(&info, data + PL_BOX_COMMIT_BYTES, size - PL_BOX_COMMIT_BYTES) == 0;
	reader = pl_box_has_reader(data + PL_BOX_COMMIT_BYTES, size - PL_BOX_COMMIT_BYTES, me.pk);
	if (reader && !parsed)
		abort();
	if (pl_box_open(&pt, &pt_len, salt, data + PL_BOX_COMMIT_BYTES, size - PL_BOX_COMMIT_BYTES,
	                &me, data) != 0) {
		if (pt)
			abort(); /* nothing is returned on failure */
		return;
	}
	/* Whatever opened is a valid disclosure against the same commitment. */
	if (!parsed || !reader || pt_len != info.body_len || pt[pt_len] != 0 ||
	    pl_box_disclosure_verify(data, salt, pt, pt_len) != 0)
		abort();
	pl_box_plaintext_free(pt, pt_len);
}

static void fuzz_ekey(const uint8_t *data, size_t size)
{
	struct pl_party_ekey ek, again;
	struct pl_buf b;

	if (pl_party_ekey_parse(&ek, (const char *)data, size) != 0)
		return;
	/* Text that parses is canonical: it formats back to the same bytes. */
	pl_buf_init(&b, PL_PARTY_EKEY_TEXT_MAX);
	if (pl_party_ekey_format(&ek, &b) != 0 || b.len != size ||
	    memcmp(b.data, data, size) != 0 || pl_party_ekey_parse(&again, b.data, b.len) != 0 ||
	    !pl_party_ekey_equal(&ek, &again))
		abort();
	pl_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		uint8_t sk[PL_BOX_SK_BYTES];
		if (sodium_init() < 0)
			abort();
		memset(sk, 0x42, sizeof(sk));
		if (pl_box_keypair_from_secret(&me, sk) != 0)
			abort();
		ready = true;
	}
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_blob(data + 1, size - 1);
	else
		fuzz_ekey(data + 1, size - 1);
	return 0;
}
