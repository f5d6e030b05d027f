/* parleyd's control socket: operator commands reach the serving process over AF_UNIX. */
#ifndef PARLEYD_CONTROL_H
#define PARLEYD_CONTROL_H

#include <stddef.h>

#include <parley/buf.h>

/*
 * The socket, in the data directory: created mode 0600 by `parleyd serve`,
 * removed when it stops. Only a peer of the serving process's own user (or
 * root), as the kernel reports it (SO_PEERCRED), is served.
 */
#define PL_PARLEYD_CONTROL_FILE "parleyd.sock"

/* Bounds of the protocol (parleyd(8), "CONTROL SOCKET"). */
#define PL_PARLEYD_CONTROL_ARGS_MAX    64           /* arguments in a request */
#define PL_PARLEYD_CONTROL_ARG_MAX     4096         /* bytes in one argument */
#define PL_PARLEYD_CONTROL_REQUEST_MAX (64u * 1024) /* bytes in a request */
#define PL_PARLEYD_CONTROL_TEXT_MAX    (64u * 1024) /* bytes of output, and of messages */
#define PL_PARLEYD_CONTROL_ANSWER_MAX  (2u * PL_PARLEYD_CONTROL_TEXT_MAX + 64)
#define PL_PARLEYD_CONTROL_READ_MS     5000   /* a client's whole request, from accept */
#define PL_PARLEYD_CONTROL_ANSWER_MS   120000 /* the client's wait for the answer */
#define PL_PARLEYD_CONTROL_BACKLOG     4      /* connections waiting; one is served at a time */

/*
 * A request: the command's arguments, argv[0] the command word ("party").
 * The wire form (docs in parleyd(8)):
 *   "parleyd-control/1 <argc>\n" then, per argument, "<len>\n<len bytes>\n"
 * decimal numbers without leading zeros, argc 1..PL_PARLEYD_CONTROL_ARGS_MAX,
 * each argument at most PL_PARLEYD_CONTROL_ARG_MAX bytes and free of NUL,
 * nothing after the last one.
 */
struct pl_parleyd_control_req {
	int argc;
	char *argv[PL_PARLEYD_CONTROL_ARGS_MAX + 1]; /* NULL-terminated, into mem */
	char *mem;                                   /* owned */
};

/*
 * Appends the request for argv[0..argc) to out. Returns 0, PL_EINVAL (argc
 * out of range or an argument too long), or a pl_buf error.
 */
int pl_parleyd_control_request_format(int argc, char *const *argv, struct pl_buf *out);

/*
 * Parses buf[0..len) as a whole request into *req (its strings malloc'd in
 * req->mem; pl_parleyd_control_request_release() frees them). req is set
 * only on success. Returns 0, PL_EMALFORMED, PL_ETOOBIG, PL_ENOMEM.
 */
int pl_parleyd_control_request_parse(struct pl_parleyd_control_req *req, const char *buf,
                                     size_t len);

/* Frees what a parsed request holds; a zeroed request is a no-op. */
void pl_parleyd_control_request_release(struct pl_parleyd_control_req *req);

/*
 * An answer: the exit code (0..255) and what the command printed on its
 * output and message streams, each at most PL_PARLEYD_CONTROL_TEXT_MAX bytes:
 *   "parleyd-control/1 <code> <outlen> <errlen>\n" <out> <err>
 * with nothing after. format appends it to buf (PL_EINVAL for a code or
 * length out of range); parse points *out and *err into buf[0..len) and sets
 * the outputs only on success: 0, PL_EMALFORMED, PL_ETOOBIG.
 */
int pl_parleyd_control_answer_format(int code, const char *out, size_t outlen, const char *err,
                                     size_t errlen, struct pl_buf *buf);
int pl_parleyd_control_answer_parse(const char *buf, size_t len, int *code, const char **out,
                                    size_t *outlen, const char **err, size_t *errlen);

/*
 * What the server runs for a request: the command's code, printing through
 * pl_daemon_out() and pl_daemon_err() (src/daemon/cli.h); returns its exit code.
 */
typedef int (*pl_parleyd_control_fn)(void *arg, int argc, char **argv);

struct pl_parleyd_control;

/*
 * Listens on dir/PL_PARLEYD_CONTROL_FILE (a stale socket there is replaced:
 * the caller holds the exchange's lock) and serves requests whose argv[0] is
 * "party" with fn, one connection at a time on a thread of its own, each
 * bounded in size and time (above). On success *out owns the thread and the
 * socket. Returns 0, PL_ETOOBIG (path too long for a socket), PL_EIO, PL_ENOMEM.
 */
int pl_parleyd_control_start(struct pl_parleyd_control **out, const char *dir,
                             pl_parleyd_control_fn fn, void *arg);

/* Stops serving (after the request in progress), removes the socket, frees c. NULL: no-op. */
void pl_parleyd_control_stop(struct pl_parleyd_control *c);

/*
 * The client: when a server listens on dir's control socket, sends it
 * argv[0..argc) and waits for the answer, prints what the command printed on
 * stdout and stderr and sets *code to its exit code. A relative path given as
 * an option's value (an option value that names an existing file) is sent
 * made absolute, so it means what it means here. Returns 0 (answered),
 * PL_ENOTFOUND (no server listens: the caller runs the command itself),
 * PL_EDENIED (the server refused this user), PL_ENET (connection lost or timed
 * out), PL_EMALFORMED, PL_ETOOBIG, PL_ENOMEM.
 */
int pl_parleyd_control_call(const char *dir, int argc, char **argv, int *code);

#endif
