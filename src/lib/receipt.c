/* The receipt of a logged record: its one release. */
#include <parley/receipt.h>

#include <stdlib.h>

#include "internal.h"

void pl_receipt_release(struct pl_receipt *r)
{
	if (!r)
		return;
	free(r->proof);
	free(r->checkpoint);
	memset(r, 0, sizeof(*r));
}
