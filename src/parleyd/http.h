/* parleyd's HTTP API (docs/api.md) on libmicrohttpd, between the network and the exchange engine.
 */
#ifndef PARLEYD_HTTP_H
#define PARLEYD_HTTP_H

#include <stdint.h>

#include <parley/buf.h>
#include <parley/exchange.h>

#include "config.h"

struct pl_parleyd_http;

/*
 * Starts serving ex on cfg->listen (host:port; port 0 picks a free one) with
 * cfg's limits, on an internal epoll thread pool. ex must stay open until
 * pl_parleyd_http_stop() returns. On success *out owns the server.
 * Returns 0, PL_EINVAL (bad listen address), PL_ENET (cannot listen; detail
 * appended to err if not NULL), PL_ENOMEM.
 */
int pl_parleyd_http_start(struct pl_parleyd_http **out, struct pl_exchange *ex,
                          const struct pl_parleyd_config *cfg, struct pl_buf *err);

/*
 * Takes on cfg's limits that may change while serving: rate, rate_burst and
 * poll_timeout (0 keeps the current value). Requests read them as they come;
 * a long poll already waiting keeps its deadline. Thread-safe.
 */
void pl_parleyd_http_limits_set(struct pl_parleyd_http *h, const struct pl_parleyd_config *cfg);

/* The TCP port the server listens on. */
uint16_t pl_parleyd_http_port(const struct pl_parleyd_http *h);

/*
 * Stops accepting connections and new requests on kept-alive connections get
 * 503. Requests in flight continue: call pl_exchange_shutdown() next so that
 * queued submissions are committed and answered, then pl_parleyd_http_stop().
 */
void pl_parleyd_http_quiesce(struct pl_parleyd_http *h);

/*
 * Ends long polls and event streams, waits up to timeout_ms for the requests
 * in flight to finish, stops the threads and frees everything. NULL is a no-op.
 */
void pl_parleyd_http_stop(struct pl_parleyd_http *h, int timeout_ms);

#endif
