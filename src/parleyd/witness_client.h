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

/*
 * Before the exchange sequences anything (open it with manual timers and no
 * HTTP): the witnesses are a second witness of what it published. Asks each
 * of cfg's witnesses once, as pl_witness_cosign() does from size 0, for the
 * size it last cosigned of this log (c2sp.org/tlog-witness answers with 409
 * and that size) and, where it is not above the store's, has it cosign the
 * latest checkpoint. Returns PL_EINCONSISTENT when a witness has cosigned a
 * size above the store's, or another tree at the store's size (each logged
 * with both sizes): the store lost what was published, and sequencing would
 * fork the log. A witness that cannot be reached or does not follow the log
 * is logged and passed over. Otherwise 0, or PL_ENOMEM.
 */
int pl_parleyd_witness_check(struct pl_exchange *ex, const struct pl_parleyd_config *cfg);

/*
 * What the running client knows of each witness it asks, for the explorer,
 * /metrics and /health: the largest tree size it cosigned (0: none since the
 * client started), the Unix time of its last cosignature (or of the client's
 * start), the requests that failed, and the alarms (a witness that claims a
 * tree larger than the log's, or another tree at a size: the log or the
 * witness is wrong).
 */
struct pl_parleyd_witness_stats {
	uint64_t cosigned_size;
	int64_t last_cosigned;
	uint64_t failures;
	uint64_t alarms;
};

/*
 * Copies the witnesses the running client asks, in configuration order, and
 * (when st is not NULL) what it knows of each, at most max of them; returns
 * how many it copied. None when no client runs (no witness configured, or
 * between the stop and the start of a reload). The counters are atomics the
 * client's thread adds to without a lock; the list is read under a lock only
 * the readers and a (re)start take. Any thread.
 */
size_t pl_parleyd_witness_list(struct pl_witness_peer *peers, struct pl_parleyd_witness_stats *st,
                               size_t max);

/* Aborts any request in flight, joins the thread and frees w. NULL is a no-op. */
void pl_parleyd_witness_stop(struct pl_parleyd_witness *w);

#endif
