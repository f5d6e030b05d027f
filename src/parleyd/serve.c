/* `parleyd serve`: runs the HTTP API until SIGTERM or SIGINT, then stops in order. */
#include "serve.h"

#include <parley/buf.h>

#include "daemon/log.h"
#include "daemon/serve.h"
#include "http.h"
#include "internal.h"
#include "witness_client.h"

#define DRAIN_MS 10000 /* longest wait for answers in flight once stopping */

int pl_parleyd_serve(struct pl_exchange *ex, const struct pl_parleyd_config *cfg)
{
	struct pl_parleyd_http *h = NULL;
	struct pl_parleyd_witness *wc = NULL;
	struct pl_buf err;
	int ret, sig;

	pl_buf_init(&err, 512);
	ret = pl_daemon_signals_install();
	if (ret) {
		pl_daemon_log("error", "serve", "msg=\"cannot set up signal handling\"");
		goto out;
	}
	ret = pl_parleyd_http_start(&h, ex, cfg, &err);
	if (ret) {
		pl_daemon_log("error", "serve", "msg=\"%s\" listen=%s",
		              err.data ? err.data : pl_strerror(ret), cfg->listen);
		pl_daemon_signals_restore();
		goto out;
	}
	pl_daemon_log("info", "serve", "msg=\"listening\" listen=%s port=%u origin=%s", cfg->listen,
	              (unsigned)pl_parleyd_http_port(h), pl_exchange_origin(ex));
	/* Witnesses are optional for serving: without the client the log is only unwitnessed. */
	if (pl_parleyd_witness_start(&wc, ex, cfg) != 0)
		pl_daemon_log("error", "witness", "msg=\"cannot start the witness client\"");
	sig = pl_daemon_signals_wait();
	pl_daemon_log("info", "serve", "msg=\"stopping\" signal=%d", sig);
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
	pl_buf_release(&err);
	return ret;
}
