/* The receipt of a logged record: what the exchange answers a submitter and the client checks. */
#ifndef PARLEY_RECEIPT_H
#define PARLEY_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include <parley/encoding.h>

/*
 * One receipt end to end: the exchange assembles it (pl_exchange_submit(),
 * pl_exchange_receipt_get()), parleyd encodes it as the answer to POST
 * /records (pl_apicodec_receipt(), docs/api.md), the client decodes it
 * (pl_client_submit()) and the CLI checks it: the proof must verify for the
 * record under the checkpoint, at index and size.
 *
 * Ownership: whoever filled the struct owns proof and checkpoint (malloc'd,
 * NUL-terminated, lengths without the NUL); pl_receipt_release() frees both.
 * A receipt may be moved by copying the struct and zeroing the source.
 */
struct pl_receipt {
	uint64_t index;            /* the record's log index */
	uint8_t id[PL_HASH_BYTES]; /* SHA-256 of the signed record */
	uint64_t size;             /* tree size of the checkpoint the proof is for */
	char *proof;               /* c2sp.org/tlog-proof text (includes the checkpoint) */
	size_t proof_len;
	char *checkpoint; /* the signed checkpoint the proof is for */
	size_t checkpoint_len;
};

/* Frees the receipt's strings and zeroes it. NULL or a zeroed receipt is a no-op. */
void pl_receipt_release(struct pl_receipt *r);

#endif
