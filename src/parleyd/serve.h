/* The hook between parleyd's command line and its HTTP server. */
#ifndef PARLEYD_SERVE_H
#define PARLEYD_SERVE_H

#include <parley/exchange.h>

#include "config.h"

/*
 * `parleyd serve`: serves the open exchange ex over HTTP on cfg->listen with
 * cfg's limits until SIGTERM or SIGINT (it installs the handlers), then stops
 * accepting and returns; main() then shuts the exchange down (finishing the
 * batch and publishing its checkpoint) and closes it.
 * Returns 0 after a clean stop, or a PL_E... code (e.g. PL_ENET: cannot listen).
 */
int pl_parleyd_serve(struct pl_exchange *ex, const struct pl_parleyd_config *cfg);

#endif
