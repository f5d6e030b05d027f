/* What the daemons' `serve` commands share: the stop signals and the listen address. */
#ifndef PARLEY_DAEMON_SERVE_H
#define PARLEY_DAEMON_SERVE_H

#include <stdbool.h>
#include <sys/socket.h>

/*
 * Routes SIGTERM and SIGINT to a self-pipe that pl_daemon_signals_wait()
 * reads, and ignores SIGPIPE (a client that goes away must not kill the
 * server). The previous handlers are kept for pl_daemon_signals_restore().
 * One installation per process at a time; not thread-safe.
 * Returns 0, or PL_EIO if the pipe cannot be made (errno tells why).
 */
int pl_daemon_signals_install(void);

/*
 * As pl_daemon_signals_install(), and routes SIGHUP (a reload) to the same
 * pipe; pl_daemon_signals_restore() puts its handler back too.
 */
int pl_daemon_signals_install_reload(void);

/*
 * Blocks until SIGTERM or SIGINT (or SIGHUP, when routed) arrives; returns its
 * number (0 if polling fails).
 */
int pl_daemon_signals_wait(void);

/* Puts back the handlers pl_daemon_signals_install() replaced and closes the pipe. */
void pl_daemon_signals_restore(void);

#define PL_DAEMON_LISTEN_MAX 255 /* bytes in a listen address */

/*
 * Splits a listen address, host:port or [v6]:port (port 0 to 65535), and
 * resolves it to one address in *ss (*len bytes, *v6 set for IPv6).
 * Returns 0, or PL_EINVAL; the outputs are set only on success.
 */
int pl_daemon_listen_resolve(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                             bool *v6);

#endif
