/* parley-witness's HTTP server: POST /add-checkpoint and GET /health, bounded, on libmicrohttpd. */
#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include <parley/encoding.h>
#include <parley/limits.h>

#include "daemon/log.h"
#include "daemon/serve.h"
#include "banned.h"

#define TEXT_PLAIN  "text/plain; charset=utf-8"
#define CONN_MEMORY (32u * 1024u) /* per-connection pool: header block and upload chunks */
#define HEADERS_MAX 64

struct pl_witness_http {
	struct MHD_Daemon *d;
	struct pl_witness *w;
	uint16_t port;
};

/* One request: its route and its bounded body. */
struct req {
	bool started, answered, add;
	unsigned early; /* a status decided from the headers, sent on the final call */
	const char *early_msg;
	struct pl_buf body;
};

static enum MHD_Result send_text(struct MHD_Connection *conn, struct req *r, unsigned status,
                                 const char *ctype, const char *text, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->add ? "POST" : "GET");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	r->answered = true;
	return ret;
}

static enum MHD_Result send_msg(struct MHD_Connection *conn, struct req *r, unsigned status,
                                const char *msg)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "%s\n", msg);

	return send_text(conn, r, status, TEXT_PLAIN, line,
	                 n < 0                      ? 0
	                 : (size_t)n < sizeof(line) ? (size_t)n
	                                            : sizeof(line) - 1);
}

static const char *reason_of(int err)
{
	switch (err) {
	case PL_ENOTFOUND:
		return "unknown log origin";
	case PL_ENOKEY:
	case PL_EVERIFY:
	case PL_EAMBIGUOUS:
		return "no signature by a known key of this log verifies";
	case PL_EINCONSISTENT:
		return "a different tree of this size was cosigned";
	case PL_EPROOF:
		return "the consistency proof does not hold";
	case PL_EMALFORMED:
	case PL_ETOOBIG:
	case PL_EINVAL:
		return "malformed add-checkpoint request";
	default:
		return "internal error";
	}
}

static enum MHD_Result do_add(struct pl_witness_http *h, struct MHD_Connection *conn, struct req *r)
{
	struct pl_buf cosig;
	uint64_t known = 0;
	time_t now = time(NULL);
	enum MHD_Result res;
	int ret;

	pl_buf_init(&cosig, 4096);
	ret = pl_witness_add_checkpoint(h->w, r->body.data, r->body.len,
	                                now < 0 ? 0 : (uint64_t)now, &cosig, &known);
	if (!ret) {
		res = send_text(conn, r, MHD_HTTP_OK, TEXT_PLAIN, cosig.data, cosig.len);
		pl_daemon_log("info", "cosign", "status=200");
	} else if (ret == PL_ESTATE) {
		char line[32];
		int n = snprintf(line, sizeof(line), "%" PRIu64 "\n", known);
		res = send_text(conn, r, MHD_HTTP_CONFLICT, PL_WITNESS_SIZE_CTYPE, line, (size_t)n);
		pl_daemon_log("info", "refuse", "status=409 known=%" PRIu64, known);
	} else {
		unsigned st = pl_witness_http_status(ret);
		res = send_msg(conn, r, st, reason_of(ret));
		pl_daemon_log(st >= 500 ? "error" : "info", "refuse", "status=%u error=\"%s\"", st,
		              pl_strerror(ret));
	}
	pl_buf_release(&cosig);
	return res;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
	unsigned *n = cls;

	(void)kind;
	(void)key;
	(void)value;
	(*n)++;
	return MHD_YES;
}

/* First call: the headers are in. Routes and checks the declared body size. */
static void first_call(struct MHD_Connection *conn, struct req *r, const char *url,
                       const char *method)
{
	const char *cl =
	        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	           strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	unsigned nh = 0;
	uint64_t len = 0;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &nh);
	r->add = strcmp(url, "/add-checkpoint") == 0;
	if (nh > HEADERS_MAX) {
		r->early = MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
		r->early_msg = "too many header fields";
	} else if (r->add && !post) {
		r->early = MHD_HTTP_METHOD_NOT_ALLOWED;
		r->early_msg = "add-checkpoint takes a POST";
	} else if (!r->add && strcmp(url, "/health") != 0) {
		r->early = MHD_HTTP_NOT_FOUND;
		r->early_msg = "no such resource";
	} else if (!r->add && !get) {
		r->early = MHD_HTTP_METHOD_NOT_ALLOWED;
		r->early_msg = "health takes a GET";
	} else if (cl && pl_parse_u64(&len, cl, strlen(cl), UINT64_MAX) != 0) {
		r->early = MHD_HTTP_BAD_REQUEST;
		r->early_msg = "bad Content-Length";
	} else if (len > PL_WITNESS_REQUEST_MAX) {
		r->early = MHD_HTTP_CONTENT_TOO_LARGE;
		r->early_msg = "request larger than the limit";
	}
	/* A chunked body is bounded by the buffer's maximum as it arrives. */
	pl_buf_init(&r->body, PL_WITNESS_REQUEST_MAX);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct pl_witness_http *h = cls;
	struct req *r = *con_cls;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		first_call(conn, r, url, method);
		/* An error found in the headers is answered now: the body is never read. */
		if (r->early && (r->early == MHD_HTTP_CONTENT_TOO_LARGE ||
		                 r->early == MHD_HTTP_BAD_REQUEST || r->add))
			return send_msg(conn, r, r->early, r->early_msg);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->answered && !r->early && pl_buf_add(&r->body, upload, *upload_size) != 0)
			return send_msg(conn, r, MHD_HTTP_CONTENT_TOO_LARGE,
			                "request larger than the limit");
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	if (r->early)
		return send_msg(conn, r, r->early, r->early_msg);
	if (!r->add)
		return send_msg(conn, r, MHD_HTTP_OK, "ok");
	return do_add(h, conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!r)
		return;
	pl_buf_release(&r->body);
	free(r);
	*con_cls = NULL;
}

int pl_witness_http_start(struct pl_witness_http **out, struct pl_witness *w,
                          const struct pl_witness_http_config *cfg, struct pl_buf *err)
{
	struct pl_witness_http *h;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	const union MHD_DaemonInfo *info;
	bool v6 = false;
	int ret;

	if (!cfg->listen || strlen(cfg->listen) > PL_DAEMON_LISTEN_MAX ||
	    pl_daemon_listen_resolve(cfg->listen, &ss, &sslen, &v6) != 0) {
		if (err)
			(void)!pl_buf_addf(err, "bad listen address %s", cfg->listen);
		return PL_EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return PL_ENOMEM;
	h->w = w;
	h->d = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	                (v6 ? MHD_USE_IPv6 : 0),
	        0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, pl_daemon_log_mhd, h,
	        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
	        cfg->threads, MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
	        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
	        cfg->timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_LISTENING_ADDRESS_REUSE,
	        1u, MHD_OPTION_END);
	if (!h->d) {
		if (err)
			(void)!pl_buf_addf(err, "cannot listen on %s: %s", cfg->listen,
			                   strerror(errno));
		ret = PL_ENET;
		free(h);
		return ret;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	*out = h;
	return 0;
}

uint16_t pl_witness_http_port(const struct pl_witness_http *h)
{
	return h->port;
}

void pl_witness_http_stop(struct pl_witness_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
