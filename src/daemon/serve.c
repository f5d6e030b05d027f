/* The daemons' stop signals (a self-pipe) and listen-address resolution. */
#include "daemon/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <parley/encoding.h>
#include <parley/error.h>

#include "internal.h"

/* Written by the signal handler, read by pl_daemon_signals_wait(): the only async-signal-safe way.
 */
static int stop_pipe[2] = {-1, -1};
static struct sigaction old_term, old_int, old_hup;
static bool hup_routed;

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (stop_pipe[1] >= 0)
		(void)!write(stop_pipe[1], &b, 1);
	errno = saved;
}

int pl_daemon_signals_install(void)
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
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
	/* A client that goes away must not kill the server. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int pl_daemon_signals_install_reload(void)
{
	struct sigaction sa;
	int ret = pl_daemon_signals_install();

	if (ret)
		return ret;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, &old_hup);
	hup_routed = true;
	return 0;
}

int pl_daemon_signals_wait(void)
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

void pl_daemon_signals_restore(void)
{
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
	if (hup_routed)
		sigaction(SIGHUP, &old_hup, NULL);
	hup_routed = false;
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	stop_pipe[0] = stop_pipe[1] = -1;
}

int pl_daemon_listen_resolve(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                             bool *v6)
{
	const char *colon = strrchr(listen, ':'), *port;
	struct addrinfo hints, *res = NULL;
	char host[PL_DAEMON_LISTEN_MAX + 1];
	size_t hn;
	uint64_t p;
	int ret;

	if (!colon) {
		ret = PL_EINVAL;
		goto out;
	}
	port = colon + 1;
	hn = (size_t)(colon - listen);
	if (pl_parse_u64(&p, port, strlen(port), 65535) != 0) {
		ret = PL_EINVAL;
		goto out;
	}
	/* [v6]:port: the brackets are not part of the host. */
	if (hn >= 2 && listen[0] == '[' && listen[hn - 1] == ']') {
		listen++;
		hn -= 2;
	} else if (hn == 0) {
		ret = PL_EINVAL;
		goto out;
	}
	if (hn >= sizeof(host)) {
		ret = PL_EINVAL;
		goto out;
	}
	memcpy(host, listen, hn);
	host[hn] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
		ret = PL_EINVAL;
		goto out;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = (socklen_t)res->ai_addrlen;
	*v6 = res->ai_family == AF_INET6;
	ret = 0;
out:
	if (res)
		freeaddrinfo(res);
	return ret;
}
