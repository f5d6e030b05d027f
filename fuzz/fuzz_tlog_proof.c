/* libFuzzer target: tlog-proof parsing (canonical round trip), verification, proof arithmetic. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/proof.h>
#include <parley/tlog.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key the seed corpus was signed with, so valid proofs reach the verifier. */
const char pl_fuzz_vkey_text[] =
        "hotline.example+6b3c948b+AaYwrWXefN9p2XP0XPn0Aykr6Z0M9dVmfLYYXyssMnra";

/* Interprets the input as raw proof material: the verifiers must not crash or misread. */
static void verify_raw(const uint8_t *data, size_t size)
{
	uint8_t a[PL_HASH_BYTES], b[PL_HASH_BYTES];
	uint64_t x, y;
	size_t n;

	if (size < 16 + 2 * PL_HASH_BYTES)
		return;
	memcpy(&x, data, 8);
	memcpy(&y, data + 8, 8);
	memcpy(a, data + 16, PL_HASH_BYTES);
	memcpy(b, data + 16 + PL_HASH_BYTES, PL_HASH_BYTES);
	data += 16 + 2 * PL_HASH_BYTES;
	size -= 16 + 2 * PL_HASH_BYTES;
	n = size / PL_HASH_BYTES;
	{
		uint8_t(*proof)[PL_HASH_BYTES] = n ? malloc(n * PL_HASH_BYTES) : NULL;
		if (n && proof == NULL)
			return;
		if (n)
			memcpy(proof, data, n * PL_HASH_BYTES);
		(void)!pl_tlog_verify_inclusion(a, x, y, (const uint8_t(*)[PL_HASH_BYTES])proof, n,
		                                b);
		(void)!pl_tlog_verify_consistency(x, y, a, b,
		                                  (const uint8_t(*)[PL_HASH_BYTES])proof, n);
		free(proof);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct pl_proof *p = NULL;
	struct pl_buf b;
	int rc;

	verify_raw(data, size);
	rc = pl_proof_parse(&p, text, size);
	if (rc != 0) {
		if (p != NULL)
			abort();
		return 0;
	}
	/* The text form is canonical: formatting the parsed proof gives back the input. */
	pl_buf_init(&b, PL_TLOG_PROOF_MAX_BYTES);
	if (pl_proof_format(&b, p->index, p->has_extra ? p->extra : NULL, p->extra_len,
	                    (const uint8_t(*)[PL_HASH_BYTES])p->hashes, p->nhashes, p->checkpoint,
	                    p->checkpoint_len) != 0 ||
	    b.len != size || memcmp(b.data, text, size) != 0)
		abort();
	pl_buf_release(&b);
	{
		uint8_t leaf[PL_HASH_BYTES];
		struct pl_note *note = NULL;
		pl_tlog_leaf_hash(leaf, "entry 7", 7);
		rc = pl_proof_verify(p, leaf, "hotline.example", &pl_fuzz_vkey, 1, NULL, &note);
		if ((rc == 0) != (note != NULL))
			abort();
		pl_note_free(note);
	}
	pl_proof_free(p);
	return 0;
}
