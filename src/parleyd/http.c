/* parleyd's HTTP API on libmicrohttpd: its callbacks, and its start and stop. */
#include "http_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <parley/auth.h>

#include "daemon/log.h"
#include "daemon/serve.h"

/*
 * MHD's access handler: the first call admits the request, the last answers
 * it. Runs on an MHD worker, in the access handler.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)url;
	(void)version;
	if (!r)
		return MHD_NO; /* no memory for the request when its line arrived */
	r->conn = conn;
	if (!r->started) {
		enum MHD_Result res;
		r->started = true;
		res = pl__http_first_call(r, method);
		/*
		 * The head is in: no head deadline now, except for a body nobody has
		 * authenticated (a record submitted without Authorization), which must
		 * arrive within the same deadline, so that no client holds a slot by
		 * dribbling a body it never has to prove it may send.
		 */
		if (r->c && !(r->is_post && !r->party[0] && !r->answered))
			atomic_store(&r->c->busy, true);
		return res;
	}
	if (r->peer_gone)
		return MHD_NO; /* a long poll whose client left: close without answering */
	if (*upload_size) {
		/* Copies: MHD's buffer is reused after we return. The declared length bounds it. */
		if (!r->answered && pl_buf_add(&r->body, upload, *upload_size) != 0)
			return pl__http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "too-large",
			                           "body larger than declared");
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	if (r->c)
		atomic_store(&r->c->busy, true); /* the whole request is in */
	if (r->early_status)
		return pl__http_send_error(r, r->early_status, r->early_code, r->early_reason);
	if (r->h->quiescing && !r->submitted && r->deadline_ms == 0)
		return pl__http_send_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		                           "the server is shutting down");
	return pl__http_dispatch(r);
}

/*
 * Called with the raw request-target before MHD unescapes it: the client
 * signed these bytes. Runs on an MHD worker, when a request line arrives.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct pl_parleyd_http *h = cls;
	size_t n = strlen(uri);
	struct req *r = calloc(1, sizeof(*r));
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (!r)
		return NULL;
	r->h = h;
	r->c = ci ? ci->socket_context : NULL;
	if (n > PL_HTTP_TARGET_MAX) {
		r->too_long = true;
		n = 0;
	}
	r->target = malloc(n + 1);
	if (!r->target) {
		free(r);
		return NULL;
	}
	memcpy(r->target, uri, n);
	r->target[n] = '\0';
	r->target_len = n;
	pl_buf_init(&r->body, 0);
	pl_buf_init(&r->out, 0);
	atomic_fetch_add(&h->inflight, 1);
	return r;
}

/* Frees a request once MHD is done with it. Runs on an MHD worker, when its request completes. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct pl_parleyd_http *h = cls;
	struct req *r = *con_cls;

	(void)conn;
	(void)toe;
	if (!r)
		return;
	if (r->in_wait) {
		pthread_mutex_lock(&h->wait_lock);
		if (r->in_wait)
			pl__http_wait_unlink(h, r);
		pthread_mutex_unlock(&h->wait_lock);
	}
	if (r->sse)
		pl__http_stream_put(h, r);
	if (r->c) {
		atomic_store(&r->c->since_ms, now_ms()); /* the next request head's time starts */
		atomic_store(&r->c->busy, false);
	}
	free(r->idx);
	free(r->names);
	if (r->reserved)
		pl__http_upload_release(r);
	pl_receipt_release(&r->receipt);
	pl_buf_release(&r->body);
	pl_buf_release(&r->out);
	free(r->target);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&h->inflight, 1);
}

/* ---- Lifecycle ---- */

/*
 * Makes the calling thread, and so every thread it starts (Linux threads
 * inherit their creator's nice value), yield to the exchange's threads by
 * `nice` more. The sequencer's commit waits on fdatasync; when it returns, the
 * sequencer should run at once, answer its batch and take the next, rather
 * than queue behind the verification of submissions that can only join a later
 * batch anyway. A failure costs speed, not correctness. Runs on the thread
 * that starts the server.
 */
static void lower_priority(unsigned nice)
{
	id_t tid = (id_t)syscall(SYS_gettid);
	int cur;

	if (!nice)
		return;
	errno = 0;
	cur = getpriority(PRIO_PROCESS, tid);
	if (cur == -1 && errno)
		return;
	if (setpriority(PRIO_PROCESS, tid, cur + (int)nice > 19 ? 19 : cur + (int)nice) != 0)
		pl_daemon_log("warn", "http",
		              "msg=\"cannot lower the workers' priority\" err=\"%s\"",
		              strerror(errno));
}

/*
 * Zero in a config field means "the documented default". Runs on the thread
 * that starts the server.
 */
static void fill_defaults(struct pl_parleyd_config *c)
{
	if (!c->http_threads)
		c->http_threads = 2;
	if (!c->max_connections)
		c->max_connections = PL_HTTP_CONNECTIONS_MAX;
	if (!c->max_per_ip)
		c->max_per_ip = PL_HTTP_PER_IP_MAX;
	if (c->max_per_ip > c->max_connections)
		c->max_per_ip = c->max_connections;
	if (!c->connection_timeout)
		c->connection_timeout = PL_HTTP_TIMEOUT_SECONDS;
	if (!c->header_timeout)
		c->header_timeout = PL_HTTP_HEADER_SECONDS;
	if (!c->max_headers)
		c->max_headers = PL_HTTP_HEADERS_MAX;
	if (!c->header_max)
		c->header_max = PL_HTTP_CONN_MEMORY / 2;
	if (!c->record_max || c->record_max > PL_RECORD_MAX_BYTES)
		c->record_max = PL_RECORD_MAX_BYTES;
	if (!c->rate)
		c->rate = PL_HTTP_RATE_PER_KEY;
	if (!c->rate_burst)
		c->rate_burst = PL_HTTP_BURST_PER_KEY;
	if (!c->auth_window)
		c->auth_window = PL_AUTH_WINDOW_SECONDS;
	if (!c->nonce_max)
		c->nonce_max = PL_AUTH_NONCES_MAX;
	if (!c->poll_timeout)
		c->poll_timeout = PL_HTTP_POLL_MAX_SECONDS;
	if (!c->sse_max)
		c->sse_max = PL_HTTP_STREAMS_MAX;
	if (!c->sse_per_key)
		c->sse_per_key = PL_HTTP_STREAMS_PER_KEY;
}

/*
 * Stops MHD (when it runs) and frees h and what it holds; NULL is a no-op.
 * Runs on the thread that starts or stops the server, with the notifier
 * thread ended and no request suspended.
 */
static void http_free(struct pl_parleyd_http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	pl_auth_nonces_free(h->nonces);
	pthread_mutex_destroy(&h->submit_lock);
	pthread_mutex_destroy(&h->wait_lock);
	pthread_mutex_destroy(&h->rate_lock);
	pthread_mutex_destroy(&h->upload_lock);
	free(h->uploads);
	pthread_mutex_destroy(&h->stream_lock);
	pthread_mutex_destroy(&h->conn_lock);
	free(h);
}

/* See http.h. Runs on the thread that starts the server. */
int pl_parleyd_http_start(struct pl_parleyd_http **out, struct pl_exchange *ex,
                          const struct pl_parleyd_config *cfg, struct pl_buf *err)
{
	struct pl_parleyd_http *h = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	const union MHD_DaemonInfo *info;
	unsigned flags;
	size_t mem;
	bool v6 = false;
	int ret;

	h = calloc(1, sizeof(*h));
	if (!h) {
		ret = PL_ENOMEM;
		goto out;
	}
	pthread_mutex_init(&h->submit_lock, NULL);
	pthread_mutex_init(&h->wait_lock, NULL);
	pthread_mutex_init(&h->rate_lock, NULL);
	pthread_mutex_init(&h->upload_lock, NULL);
	pthread_mutex_init(&h->stream_lock, NULL);
	pthread_mutex_init(&h->conn_lock, NULL);
	h->ex = ex;
	h->cfg = *cfg;
	fill_defaults(&h->cfg);
	pl_parleyd_http_limits_set(h, &h->cfg);
	h->payload_max =
	        cfg->ex.payload_max ? cfg->ex.payload_max : PL_EXCHANGE_DEFAULT_PAYLOAD_MAX;
	/* Only authenticated members draw on these (parleyd.conf(5)). */
	h->upload_per_key = h->cfg.upload_per_key
	                            ? (size_t)h->cfg.upload_per_key
	                            : PL_PARLEYD_UPLOAD_PER_KEY_FACTOR * h->payload_max;
	h->upload_budget = h->cfg.upload_budget ? (size_t)h->cfg.upload_budget
	                                        : PL_PARLEYD_UPLOAD_BUDGET_FACTOR * h->payload_max;
	snprintf(h->origin, sizeof(h->origin), "%s", pl_exchange_origin(ex));
	ret = pl_daemon_listen_resolve(h->cfg.listen, &ss, &sslen, &v6);
	if (ret) {
		if (err)
			(void)!pl_buf_addf(err, "bad listen address %s", h->cfg.listen);
		goto out;
	}
	/* Each key keeps its reserve of nonces; beyond it, at most a quarter of the shared pool. */
	if (!h->cfg.nonce_per_key)
		h->cfg.nonce_per_key = PL_AUTH_NONCES_PER_KEY;
	ret = pl_auth_nonces_new(&h->nonces, h->cfg.nonce_max, h->cfg.nonce_per_key,
	                         h->cfg.nonce_per_key + h->cfg.nonce_max / 4, h->cfg.auth_window);
	if (ret)
		goto out;
	/* The connection's memory pool holds the header block and upload chunks. */
	mem = (size_t)h->cfg.header_max * 2;
	if (mem < PL_HTTP_CONN_MEMORY / 2)
		mem = PL_HTTP_CONN_MEMORY / 2;
	/* The serving thread waits for a signal only: it may keep the workers' lower priority. */
	lower_priority(h->cfg.http_nice);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	        MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
	h->d = MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, pl_daemon_log_mhd,
	        h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
	        (unsigned)h->cfg.http_threads, MHD_OPTION_CONNECTION_LIMIT,
	        (unsigned)h->cfg.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	        (unsigned)h->cfg.max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned)h->cfg.connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
	        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	        h, MHD_OPTION_NOTIFY_CONNECTION, pl__http_on_connection, h,
	        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
	if (!h->d) {
		if (err)
			(void)!pl_buf_addf(err, "cannot listen on %s: %s", h->cfg.listen,
			                   strerror(errno));
		ret = PL_ENET;
		goto out;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	if (pthread_create(&h->notifier, NULL, pl__http_notifier_main, h) != 0) {
		ret = PL_ENOMEM;
		goto out;
	}
	h->notifier_started = true;
	*out = h;
	h = NULL;
	ret = 0;
out:
	http_free(h);
	return ret;
}

/* See http.h. Any thread. */
uint16_t pl_parleyd_http_port(const struct pl_parleyd_http *h)
{
	return h->port;
}

/* See http.h. Runs on the thread that stops the server. */
void pl_parleyd_http_quiesce(struct pl_parleyd_http *h)
{
	MHD_socket fd;

	if (h->quiescing)
		return;
	h->quiescing = true;
	fd = MHD_quiesce_daemon(h->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

/* See http.h. Runs on the thread that stops the server. */
void pl_parleyd_http_stop(struct pl_parleyd_http *h, int timeout_ms)
{
	uint64_t until;

	if (!h)
		return;
	pl_parleyd_http_quiesce(h);
	h->ending = true;
	until = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	while (atomic_load(&h->inflight) > 0 && now_ms() < until) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	/* MHD must not be stopped with a suspended connection: resume every waiter. */
	h->stop_notifier = true;
	if (h->notifier_started)
		pthread_join(h->notifier, NULL);
	pl__http_wait_end(h);
	if (atomic_load(&h->inflight) > 0)
		pl_daemon_log("warn", "http", "msg=\"stopping with requests in flight\" count=%ld",
		              (long)atomic_load(&h->inflight));
	http_free(h);
}

void pl_parleyd_http_limits_set(struct pl_parleyd_http *h, const struct pl_parleyd_config *cfg)
{
	if (cfg->rate)
		atomic_store(&h->live_rate, cfg->rate);
	if (cfg->rate_burst)
		atomic_store(&h->live_rate_burst, cfg->rate_burst);
	if (cfg->poll_timeout)
		atomic_store(&h->live_poll_timeout, cfg->poll_timeout);
}
