/* libFuzzer target: the witness's add-checkpoint request parser (c2sp.org/tlog-witness body). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/tlog.h>
#include <parley/witness.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_witness_request *req = calloc(1, sizeof(*req));
	uint8_t empty[PL_HASH_BYTES];

	if (!req)
		return 0;
	if (pl_witness_request_parse(req, (const char *)data, size) == 0) {
		/* What the parser promises: bounded proof, old within the checkpoint, note inside.
		 */
		if (req->nproof > PL_WITNESS_PROOF_MAX || req->old_size > req->cp.size ||
		    req->note_off >= size || !req->note || req->note->nsigs == 0 ||
		    data[req->note_off - 1] != '\n')
			abort();
		/* The witness's next step on this input must not misbehave either. */
		pl_tlog_empty_hash(empty);
		(void)!pl_tlog_verify_consistency(req->old_size, req->cp.size, empty, req->cp.root,
		                                  (const uint8_t(*)[PL_HASH_BYTES])req->proof,
		                                  req->nproof);
		pl_witness_request_release(req);
	}
	free(req);
	return 0;
}
