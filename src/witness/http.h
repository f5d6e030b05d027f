/* parley-witness's HTTP interface (c2sp.org/tlog-witness add-checkpoint) on libmicrohttpd. */
#ifndef PARLEY_WITNESS_HTTP_H
#define PARLEY_WITNESS_HTTP_H

#include <stdint.h>

#include <parley/buf.h>
#include <parley/witness.h>

/* Limits of the server, from the command line (parley-witness(8)). */
struct pl_witness_http_config {
	const char *listen;       /* host:port; port 0 picks a free one */
	unsigned threads;         /* worker threads */
	unsigned max_connections; /* concurrent connections in all */
	unsigned max_per_ip;      /* concurrent connections from one address */
	unsigned timeout;         /* seconds of inactivity before a client is dropped */
};

struct pl_witness_http;

/*
 * Starts serving w on cfg->listen. w must stay open until
 * pl_witness_http_stop() returns. Returns 0 with *out set, PL_EINVAL (bad
 * listen address), PL_ENET (cannot listen; detail appended to err), PL_ENOMEM.
 */
int pl_witness_http_start(struct pl_witness_http **out, struct pl_witness *w,
                          const struct pl_witness_http_config *cfg, struct pl_buf *err);

/* The TCP port the server listens on. */
uint16_t pl_witness_http_port(const struct pl_witness_http *h);

/* Stops the server, waiting for requests in flight, and frees it. NULL is a no-op. */
void pl_witness_http_stop(struct pl_witness_http *h);

#endif
