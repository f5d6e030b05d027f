/* parleyd's control socket: the serving thread and the client (the codec: control_proto.c). */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include "control.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <parley/encoding.h>
#include <parley/error.h>

#include "daemon/cli.h"
#include "daemon/log.h"
#include "banned.h"

/* ---- Bounded socket I/O -------------------------------------------------------------------- */

/* Now on CLOCK_MONOTONIC in milliseconds. */
static int64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events, or the deadline: 0, or PL_ENET (timed out, or an error). */
static int ctl_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int64_t left;
	int n;

	for (;;) {
		left = deadline - ctl_now_ms();
		if (left <= 0)
			return PL_ENET;
		n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return PL_ENET;
	}
}

/* Reads fd to its end into in (bounded by in's maximum: PL_ETOOBIG) by the deadline. */
static int ctl_read_all(int fd, struct pl_buf *in, int64_t deadline)
{
	char chunk[4096];
	ssize_t n;
	int ret = 0;

	while (!ret) {
		ret = ctl_wait(fd, POLLIN, deadline);
		if (ret)
			break;
		n = read(fd, chunk, sizeof(chunk));
		if (n == 0)
			break;
		if (n < 0)
			ret = errno == EINTR || errno == EAGAIN ? 0 : PL_ENET;
		else
			ret = pl_buf_add(in, chunk, (size_t)n);
	}
	return ret;
}

/* Writes buf[0..len) to fd by the deadline. */
static int ctl_write_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	size_t done = 0;
	ssize_t n;
	int ret = 0;

	while (!ret && done < len) {
		ret = ctl_wait(fd, POLLOUT, deadline);
		if (ret)
			break;
		n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
		if (n < 0)
			ret = errno == EINTR || errno == EAGAIN ? 0 : PL_ENET;
		else
			done += (size_t)n;
	}
	return ret;
}

/* dir/PL_PARLEYD_CONTROL_FILE as a socket address. Returns 0 or PL_ETOOBIG. */
static int ctl_addr(struct sockaddr_un *sa, const char *dir)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, PL_PARLEYD_CONTROL_FILE);
	return n < 0 || (size_t)n >= sizeof(sa->sun_path) ? PL_ETOOBIG : 0;
}

/* ---- The server ---------------------------------------------------------------------------- */

struct pl_parleyd_control {
	int fd;      /* the listening socket */
	int stop[2]; /* a byte written to stop[1] ends the thread */
	pthread_t thread;
	bool started;
	struct sockaddr_un sa;
	pl_parleyd_control_fn fn;
	void *arg;
};

/*
 * The verb of a request as it may be logged: its first operand (an option
 * given apart from its value skips the value), if made of letters and '-'
 * only, or "?".
 */
static const char *ctl_verb(const struct pl_parleyd_control_req *req)
{
	const char *s = NULL;
	size_t n;

	for (int i = 1; i < req->argc && !s; i++) {
		const char *a = req->argv[i];
		if (a[0] != '-')
			s = a;
		else if (!strchr(a, '=') && (a[1] == '-' || !a[2]))
			i++;
	}
	n = s ? strlen(s) : 0;
	if (n == 0 || n > 32 || strspn(s, "abcdefghijklmnopqrstuvwxyz-") != n)
		return "?";
	return s;
}

/*
 * Runs one parsed request with the command's streams captured; sets the
 * answer's texts (malloc'd) and returns the exit code.
 */
static int ctl_run(struct pl_parleyd_control *c, struct pl_parleyd_control_req *req, char **obuf,
                   size_t *olen, char **ebuf, size_t *elen)
{
	FILE *o = open_memstream(obuf, olen), *e = open_memstream(ebuf, elen);
	int code = PL_DAEMON_EXIT_USAGE;

	if (o && e) {
		pl_daemon_cli_streams(o, e);
		/* The command parses its options as in its own process; its messages go to e. */
		optind = 0;
		opterr = 0;
		code = c->fn(c->arg, req->argc, req->argv);
		pl_daemon_cli_streams(NULL, NULL);
	}
	/* Closing a memory stream leaves its buffer (NULL if it never opened) to the caller. */
	if (o) {
		fclose(o);
	} else {
		*obuf = NULL;
		*olen = 0;
	}
	if (e) {
		fclose(e);
	} else {
		*ebuf = NULL;
		*elen = 0;
	}
	return code;
}

/* Serves the connection fd: one request, one answer, then it is closed. */
static void ctl_serve(struct pl_parleyd_control *c, int fd)
{
	struct pl_parleyd_control_req req;
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	struct pl_buf in, ans;
	char *obuf = NULL, *ebuf = NULL;
	const char *msg = NULL, *verb;
	size_t olen = 0, elen = 0;
	int64_t deadline = ctl_now_ms() + PL_PARLEYD_CONTROL_READ_MS;
	int code = PL_DAEMON_EXIT_USAGE, ret;

	memset(&req, 0, sizeof(req));
	pl_buf_init(&in, PL_PARLEYD_CONTROL_REQUEST_MAX);
	pl_buf_init(&ans, PL_PARLEYD_CONTROL_ANSWER_MAX);
	/* Who is asking, as the kernel says: the exchange's own user, or root. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) != 0 || crl != sizeof(cr) ||
	    (cr.uid != geteuid() && cr.uid != 0)) {
		pl_daemon_log("warn", "control", "msg=\"refused: not the exchange's user\" uid=%ld",
		              crl == sizeof(cr) ? (long)cr.uid : -1L);
		msg = "parleyd: control: not permitted: only the exchange's own user (or root) "
		      "may use its control socket\n";
		code = PL_DAEMON_EXIT_REFUSED;
		goto answer;
	}
	ret = ctl_read_all(fd, &in, deadline);
	if (!ret)
		ret = pl_parleyd_control_request_parse(&req, in.data, in.len);
	if (ret) {
		pl_daemon_log("warn", "control", "msg=\"request refused\" error=\"%s\"",
		              pl_strerror(ret));
		msg = "parleyd: control: request not understood, too big or too slow\n";
		goto answer;
	}
	if (strcmp(req.argv[0], "party") != 0) {
		msg = "parleyd: control: only party commands are served\n";
		goto answer;
	}
	verb = ctl_verb(&req); /* before the command's option parsing reorders argv */
	code = ctl_run(c, &req, &obuf, &olen, &ebuf, &elen);
	pl_daemon_log("info", "control", "command=\"party %s\" uid=%ld status=%d", verb,
	              (long)cr.uid, code);
answer:
	if (msg) {
		ebuf = strdup(msg);
		elen = ebuf ? strlen(ebuf) : 0;
	}
	/* A command that printed more than an answer holds is cut; its exit code stands. */
	if (olen > PL_PARLEYD_CONTROL_TEXT_MAX)
		olen = PL_PARLEYD_CONTROL_TEXT_MAX;
	if (elen > PL_PARLEYD_CONTROL_TEXT_MAX)
		elen = PL_PARLEYD_CONTROL_TEXT_MAX;
	if (code < 0 || code > 255)
		code = PL_DAEMON_EXIT_USAGE;
	if (pl_parleyd_control_answer_format(code, obuf, olen, ebuf, elen, &ans) == 0)
		(void)ctl_write_all(fd, ans.data, ans.len,
		                    ctl_now_ms() + PL_PARLEYD_CONTROL_READ_MS);
	pl_parleyd_control_request_release(&req);
	free(obuf);
	free(ebuf);
	pl_buf_release(&in);
	pl_buf_release(&ans);
}

/* Accepts and serves connections one at a time until stopped. Thread: the control thread. */
static void *ctl_thread(void *arg)
{
	struct pl_parleyd_control *c = arg;
	struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
	                      {.fd = c->stop[0], .events = POLLIN}};

	for (;;) {
		int fd;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		ctl_serve(c, fd);
		close(fd);
	}
	return NULL;
}

int pl_parleyd_control_start(struct pl_parleyd_control **out, const char *dir,
                             pl_parleyd_control_fn fn, void *arg)
{
	struct pl_parleyd_control *c = calloc(1, sizeof(*c));
	int ret = 0;

	if (!c)
		return PL_ENOMEM;
	c->fd = c->stop[0] = c->stop[1] = -1;
	c->fn = fn;
	c->arg = arg;
	ret = ctl_addr(&c->sa, dir);
	if (ret)
		goto out;
	if (pipe(c->stop) != 0) {
		ret = PL_EIO;
		goto out;
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		ret = PL_EIO;
		goto out;
	}
	/* A socket left by a server that died: the caller holds the exchange's lock. */
	(void)unlink(c->sa.sun_path);
	/* 0600 before anyone may connect: nobody connects before listen(). */
	if (bind(c->fd, (struct sockaddr *)&c->sa, sizeof(c->sa)) != 0 ||
	    chmod(c->sa.sun_path, 0600) != 0 || listen(c->fd, PL_PARLEYD_CONTROL_BACKLOG) != 0) {
		ret = PL_EIO;
		goto out;
	}
	if (pthread_create(&c->thread, NULL, ctl_thread, c) != 0) {
		ret = PL_ENOMEM;
		goto out;
	}
	c->started = true;
out:
	if (ret) {
		if (c->fd >= 0)
			(void)unlink(c->sa.sun_path);
		c->started = false;
		pl_parleyd_control_stop(c);
	} else {
		*out = c;
	}
	return ret;
}

void pl_parleyd_control_stop(struct pl_parleyd_control *c)
{
	if (!c)
		return;
	if (c->started) {
		(void)!write(c->stop[1], "x", 1);
		pthread_join(c->thread, NULL);
		(void)unlink(c->sa.sun_path);
	}
	if (c->fd >= 0)
		close(c->fd);
	if (c->stop[0] >= 0)
		close(c->stop[0]);
	if (c->stop[1] >= 0)
		close(c->stop[1]);
	free(c);
}

/* ---- The client ---------------------------------------------------------------------------- */

/* Whether a relative path names something here. */
static bool ctl_is_relative_path(const char *s)
{
	struct stat st;

	return s[0] && s[0] != '/' && stat(s, &st) == 0;
}

/*
 * The arguments as sent: each option's value that is a relative path to an
 * existing file made absolute (the server runs elsewhere); operands as they
 * are. *fresh[i] is what was allocated for argument i (freed by the caller).
 */
static int ctl_args_absolute(int argc, char **argv, char **sent, char **fresh)
{
	bool value = false, options = true;
	int ret = 0;

	for (int i = 0; !ret && i < argc; i++) {
		const char *a = argv[i], *eq = NULL;
		char *abs = NULL;
		sent[i] = argv[i];
		if (i > 0 && options && value && ctl_is_relative_path(a)) {
			abs = realpath(a, NULL);
			if (abs)
				sent[i] = fresh[i] = abs;
			value = false;
			continue;
		}
		value = false;
		if (i == 0 || !options || a[0] != '-' || !a[1])
			continue;
		if (strcmp(a, "--") == 0) {
			options = false;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			continue;
		eq = a[1] == '-' ? strchr(a, '=') : NULL;
		if (!eq) {
			value = a[1] == '-' || !a[2]; /* --opt VALUE or -o VALUE */
			continue;
		}
		if (ctl_is_relative_path(eq + 1)) {
			abs = realpath(eq + 1, NULL);
			if (abs) {
				size_t n = (size_t)(eq + 1 - a), m = strlen(abs);
				fresh[i] = malloc(n + m + 1);
				if (!fresh[i]) {
					ret = PL_ENOMEM;
				} else {
					memcpy(fresh[i], a, n);
					memcpy(fresh[i] + n, abs, m + 1);
					sent[i] = fresh[i];
				}
				free(abs);
			}
		}
	}
	return ret;
}

int pl_parleyd_control_call(const char *dir, int argc, char **argv, int *code)
{
	struct sockaddr_un sa;
	char *sent[PL_PARLEYD_CONTROL_ARGS_MAX] = {0}, *fresh[PL_PARLEYD_CONTROL_ARGS_MAX] = {0};
	struct pl_buf req, ans;
	const char *o, *e;
	size_t ol, el;
	int fd = -1, c, ret;

	pl_buf_init(&req, PL_PARLEYD_CONTROL_REQUEST_MAX);
	pl_buf_init(&ans, PL_PARLEYD_CONTROL_ANSWER_MAX);
	if (argc < 1 || argc > PL_PARLEYD_CONTROL_ARGS_MAX) {
		ret = PL_ETOOBIG;
		goto out;
	}
	/* A data directory whose socket path cannot exist has no server listening on it. */
	ret = ctl_addr(&sa, dir) ? PL_ENOTFOUND : 0;
	if (!ret) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ret = fd < 0 ? PL_ENET : 0;
	}
	if (!ret && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		ret = errno == EACCES || errno == EPERM                               ? PL_EDENIED
		      : errno == ENOENT || errno == ECONNREFUSED || errno == ENOTSOCK ? PL_ENOTFOUND
		                                                                      : PL_ENET;
	if (!ret)
		ret = ctl_args_absolute(argc, argv, sent, fresh);
	if (!ret)
		ret = pl_parleyd_control_request_format(argc, sent, &req);
	if (ret == PL_EINVAL)
		ret = PL_ETOOBIG;
	/* A server that refuses us answers without reading: its answer may still be there. */
	if (!ret) {
		(void)ctl_write_all(fd, req.data, req.len,
		                    ctl_now_ms() + PL_PARLEYD_CONTROL_READ_MS);
		(void)shutdown(fd, SHUT_WR);
		ret = ctl_read_all(fd, &ans, ctl_now_ms() + PL_PARLEYD_CONTROL_ANSWER_MS);
	}
	if (ret == PL_ENET && ans.len)
		ret = 0; /* the connection reset after the answer came */
	if (ret == PL_ETOOBIG)
		ret = PL_EMALFORMED; /* the server does not send that much */
	if (!ret)
		ret = pl_parleyd_control_answer_parse(ans.data, ans.len, &c, &o, &ol, &e, &el);
	if (!ret) {
		fwrite(o, 1, ol, stdout);
		fflush(stdout);
		fwrite(e, 1, el, stderr);
		*code = c;
	}
out:
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < PL_PARLEYD_CONTROL_ARGS_MAX; i++)
		free(fresh[i]);
	pl_buf_release(&req);
	pl_buf_release(&ans);
	return ret;
}
