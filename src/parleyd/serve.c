/* `parleyd serve`: runs the HTTP API until SIGTERM or SIGINT, then stops in order. */
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <parley/buf.h>

#include "http.h"
#include "internal.h"
#include "log.h"
#include "witness_client.h"

#define DRAIN_MS 10000 /* longest wait for answers in flight once stopping */

/* Written by the signal handler, read by pl_parleyd_serve(): the only async-signal-safe way. */
static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (stop_pipe[1] >= 0)
		(void)!write(stop_pipe[1], &b, 1);
	errno = saved;
}

static int install_handlers(struct sigaction *old_term, struct sigaction *old_int)
{
	struct sigaction sa;

	if (pipe(stop_pipe) != 0)
		return PL_EIO;
	fcntl(stop_pipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(stop_pipe[1], F_SETFD, FD_CLOEXEC);
	fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, old_term);
	sigaction(SIGINT, &sa, old_int);
	/* A client that goes away must not kill the server. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void restore_handlers(const struct sigaction *old_term, const struct sigaction *old_int)
{
	sigaction(SIGTERM, old_term, NULL);
	sigaction(SIGINT, old_int, NULL);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	stop_pipe[0] = stop_pipe[1] = -1;
}

/* Blocks until a stop signal arrives; returns its number. */
static int wait_for_signal(void)
{
	struct pollfd p = {.fd = stop_pipe[0], .events = POLLIN};
	unsigned char b = 0;

	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (read(stop_pipe[0], &b, 1) == 1)
			return b;
	}
}

int pl_parleyd_serve(struct pl_exchange *ex, const struct pl_parleyd_config *cfg)
{
	struct sigaction old_term, old_int;
	struct pl_parleyd_http *h = NULL;
	struct pl_parleyd_witness *wc = NULL;
	struct pl_buf err;
	int ret, sig;

	pl_buf_init(&err, 512);
	ret = install_handlers(&old_term, &old_int);
	if (ret) {
		pl_parleyd_log("error", "serve", "msg=\"cannot set up signal handling\"");
		goto out;
	}
	ret = pl_parleyd_http_start(&h, ex, cfg, &err);
	if (ret) {
		pl_parleyd_log("error", "serve", "msg=\"%s\" listen=%s",
		               err.data ? err.data : pl_strerror(ret), cfg->listen);
		restore_handlers(&old_term, &old_int);
		goto out;
	}
	pl_parleyd_log("info", "serve", "msg=\"listening\" listen=%s port=%u origin=%s",
	               cfg->listen, (unsigned)pl_parleyd_http_port(h), pl_exchange_origin(ex));
	/* Witnesses are optional for serving: without the client the log is only unwitnessed. */
	if (pl_parleyd_witness_start(&wc, ex, cfg) != 0)
		pl_parleyd_log("error", "witness", "msg=\"cannot start the witness client\"");
	sig = wait_for_signal();
	pl_parleyd_log("info", "serve", "msg=\"stopping\" signal=%d", sig);
	pl_parleyd_witness_stop(wc);
	/* Stop accepting, then let the engine commit and answer what is queued (its checkpoint is
	 * published), then end polls and streams and wait for the last answers to go out. */
	pl_parleyd_http_quiesce(h);
	pl_exchange_shutdown(ex);
	pl_parleyd_http_stop(h, DRAIN_MS);
	restore_handlers(&old_term, &old_int);
	pl_parleyd_log("info", "serve", "msg=\"stopped\" size=%llu",
	               (unsigned long long)pl_exchange_size(ex));
	ret = 0;
out:
	pl_buf_release(&err);
	return ret;
}
