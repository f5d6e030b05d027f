/* The hook between parleyd's command line and its HTTP server. */
#ifndef PARLEYD_SERVE_H
#define PARLEYD_SERVE_H

#include <parley/buf.h>
#include <parley/exchange.h>

#include "config.h"
#include "control.h"

/* What `parleyd serve` runs beside the HTTP API; any member may be NULL. */
struct pl_parleyd_serve_hooks {
	/* The data directory, for the control socket, and what runs its requests. */
	const char *dir;
	pl_parleyd_control_fn control;
	void *control_arg;
	/*
	 * On SIGHUP: loads the configuration again as at start into *next
	 * (over the defaults), a message for the log in err; 0 or a PL_E... code.
	 */
	int (*reload)(void *arg, struct pl_parleyd_config *next, struct pl_buf *err);
	void *reload_arg;
};

/*
 * `parleyd serve`: serves the open exchange ex over HTTP on cfg->listen with
 * cfg's limits until SIGTERM or SIGINT (it installs the handlers), then stops
 * accepting and returns; main() then shuts the exchange down (finishing the
 * batch and publishing its checkpoint) and closes it. With hooks, it also
 * serves operator commands on the control socket of hooks->dir (control.h),
 * and on SIGHUP takes on a new configuration: the lines and auditors
 * (pl_exchange_reconfigure()) and the witnesses; a file that does not load,
 * or that changes a key fixed at start (pl_parleyd_config_fixed_change()),
 * is logged and changes nothing.
 * Returns 0 after a clean stop, or a PL_E... code (e.g. PL_ENET: cannot listen).
 */
int pl_parleyd_serve(struct pl_exchange *ex, const struct pl_parleyd_config *cfg,
                     const struct pl_parleyd_serve_hooks *hooks);

#endif
