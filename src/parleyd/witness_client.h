/* parleyd's witness client: a background thread that gets checkpoints cosigned by witnesses. */
#ifndef PARLEYD_WITNESS_CLIENT_H
#define PARLEYD_WITNESS_CLIENT_H

#include <parley/exchange.h>

#include "config.h"

struct pl_parleyd_witness;

/*
 * Starts the witness client of ex for cfg's witnesses (nothing to do and *out
 * NULL when there are none): its own thread and libcurl handle, never on the
 * sequencer's or the HTTP threads' path. Every witness_interval_ms, when the
 * log has grown past what a witness cosigned, it asks that witness
 * (pl_witness_cosign()) and stores the verified cosignatures with their
 * checkpoint (pl_exchange_checkpoint_cosign()); failures are logged and
 * retried with exponential back-off. Returns 0 or PL_ENOMEM.
 */
int pl_parleyd_witness_start(struct pl_parleyd_witness **out, struct pl_exchange *ex,
                             const struct pl_parleyd_config *cfg);

/* Aborts any request in flight, joins the thread and frees w. NULL is a no-op. */
void pl_parleyd_witness_stop(struct pl_parleyd_witness *w);

#endif
