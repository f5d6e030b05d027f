/* `parleyd serve`: runs the HTTP API and the control socket until SIGTERM or SIGINT; SIGHUP
 * reloads. */
#include "serve.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <parley/buf.h>
#include <parley/error.h>

#include "daemon/log.h"
#include "daemon/serve.h"
#include "http.h"
#include "internal.h"
#include "witness_client.h"

#define DRAIN_MS 10000 /* longest wait for answers in flight once stopping */

/* Whether two configurations name other witnesses or ask them at another pace. */
static bool serve_witnesses_differ(const struct pl_parleyd_config *a,
                                   const struct pl_parleyd_config *b)
{
	return a->nwitnesses != b->nwitnesses || a->witness_interval_ms != b->witness_interval_ms ||
	       memcmp(a->witnesses, b->witnesses, a->nwitnesses * sizeof(a->witnesses[0])) != 0;
}

/*
 * SIGHUP: loads the configuration again and takes on what may change live
 * into run (the lines and auditors through the exchange's sequencer, the
 * request limits through the HTTP server's atomics, the witnesses by
 * restarting their client), or nothing at all, saying why.
 * Thread: the main one (the witness client is stopped before run changes).
 */
static void serve_reload(struct pl_exchange *ex, struct pl_parleyd_http *h,
                         struct pl_parleyd_config *run, const struct pl_parleyd_serve_hooks *hk,
                         struct pl_parleyd_witness **wc)
{
	struct pl_parleyd_config *next = malloc(sizeof(*next));
	const char *key;
	struct pl_buf err;
	int ret;

	pl_buf_init(&err, 1024);
	if (!next) {
		ret = PL_ENOMEM;
		pl_daemon_log("error", "reload", "msg=\"configuration not reloaded\" error=\"%s\"",
		              pl_strerror(ret));
		goto out;
	}
	pl_parleyd_config_default(next);
	ret = hk->reload(hk->reload_arg, next, &err);
	if (ret) {
		pl_daemon_log("error", "reload",
		              "msg=\"configuration not reloaded; the running one stays\" "
		              "error=\"%s\" detail=\"%s\"",
		              pl_strerror(ret), err.data ? err.data : "");
		goto out;
	}
	key = pl_parleyd_config_fixed_change(run, next);
	if (key) {
		pl_daemon_log("error", "reload",
		              "msg=\"cannot change while serving (restart parleyd to apply it); "
		              "configuration not reloaded, the running one stays\" key=%s",
		              key);
		goto out;
	}
	ret = pl_exchange_reconfigure(ex, &next->ex);
	if (ret) {
		pl_daemon_log("error", "reload",
		              "msg=\"configuration not reloaded; the running one stays\" "
		              "error=\"%s\"",
		              pl_strerror(ret));
		goto out;
	}
	pl_parleyd_http_limits_set(h, next);
	run->rate = next->rate;
	run->rate_burst = next->rate_burst;
	run->poll_timeout = next->poll_timeout;
	run->ex.nlines = next->ex.nlines;
	memcpy(run->ex.lines, next->ex.lines, sizeof(run->ex.lines));
	run->ex.nauditors = next->ex.nauditors;
	memcpy(run->ex.auditors, next->ex.auditors, sizeof(run->ex.auditors));
	if (serve_witnesses_differ(run, next)) {
		pl_parleyd_witness_stop(*wc);
		*wc = NULL;
		run->nwitnesses = next->nwitnesses;
		memcpy(run->witnesses, next->witnesses, sizeof(run->witnesses));
		run->witness_interval_ms = next->witness_interval_ms;
		if (pl_parleyd_witness_start(wc, ex, run) != 0)
			pl_daemon_log("error", "witness",
			              "msg=\"cannot start the witness client\"");
	}
	pl_daemon_log("info", "reload",
	              "msg=\"configuration reloaded\" lines=%zu auditors=%zu witnesses=%zu",
	              run->ex.nlines, run->ex.nauditors, run->nwitnesses);
out:
	free(next);
	pl_buf_release(&err);
}

int pl_parleyd_serve(struct pl_exchange *ex, const struct pl_parleyd_config *cfg,
                     const struct pl_parleyd_serve_hooks *hooks)
{
	struct pl_parleyd_http *h = NULL;
	struct pl_parleyd_witness *wc = NULL;
	struct pl_parleyd_control *ctl = NULL;
	struct pl_parleyd_config *run = malloc(sizeof(*run));
	struct pl_buf err;
	int ret, sig;

	pl_buf_init(&err, 512);
	if (!run) {
		ret = PL_ENOMEM;
		goto out;
	}
	*run = *cfg;
	ret = hooks && hooks->reload ? pl_daemon_signals_install_reload()
	                             : pl_daemon_signals_install();
	if (ret) {
		pl_daemon_log("error", "serve", "msg=\"cannot set up signal handling\"");
		goto out;
	}
	ret = pl_parleyd_http_start(&h, ex, run, &err);
	if (ret) {
		pl_daemon_log("error", "serve", "msg=\"%s\" listen=%s",
		              err.data ? err.data : pl_strerror(ret), run->listen);
		pl_daemon_signals_restore();
		goto out;
	}
	pl_daemon_log("info", "serve", "msg=\"listening\" listen=%s port=%u origin=%s", run->listen,
	              (unsigned)pl_parleyd_http_port(h), pl_exchange_origin(ex));
	/* Operator commands are optional for serving: without the socket they wait for a stop. */
	if (hooks && hooks->dir && hooks->control) {
		ret = pl_parleyd_control_start(&ctl, hooks->dir, hooks->control,
		                               hooks->control_arg);
		if (ret)
			pl_daemon_log("error", "control",
			              "msg=\"cannot open the control socket\" error=\"%s\"",
			              pl_strerror(ret));
		ret = 0;
	}
	/* Witnesses are optional for serving: without the client the log is only unwitnessed. */
	if (pl_parleyd_witness_start(&wc, ex, run) != 0)
		pl_daemon_log("error", "witness", "msg=\"cannot start the witness client\"");
	while ((sig = pl_daemon_signals_wait()) == SIGHUP) {
		pl_daemon_log("info", "reload", "msg=\"reloading the configuration\"");
		serve_reload(ex, h, run, hooks, &wc);
	}
	pl_daemon_log("info", "serve", "msg=\"stopping\" signal=%d", sig);
	/* No operator command after this: the one in progress finishes first. */
	pl_parleyd_control_stop(ctl);
	pl_parleyd_witness_stop(wc);
	/* Stop accepting, then let the engine commit and answer what is queued (its checkpoint is
	 * published), then end polls and streams and wait for the last answers to go out. */
	pl_parleyd_http_quiesce(h);
	pl_exchange_shutdown(ex);
	pl_parleyd_http_stop(h, DRAIN_MS);
	pl_daemon_signals_restore();
	pl_daemon_log("info", "serve", "msg=\"stopped\" size=%llu",
	              (unsigned long long)pl_exchange_size(ex));
	ret = 0;
out:
	free(run);
	pl_buf_release(&err);
	return ret;
}
