/* Tests of the one curl transport against a one-shot HTTP server on 127.0.0.1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <parley/buf.h>

#include "transport.h"

#include "testutil.h"

/* A server that answers one connection with a canned answer, after delay_ms. */
struct server {
	int fd;
	unsigned short port;
	const char *answer;
	int delay_ms;
	char request[4096]; /* what it received: head and body */
	size_t request_len;
	pthread_t th;
};

static void *serve_one(void *arg)
{
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	size_t want = 0;

	if (c < 0)
		return NULL;
	/* Read the head, then a body of Content-Length bytes (bounded by the buffer). */
	while (s->request_len < sizeof(s->request) - 1) {
		ssize_t n = read(c, s->request + s->request_len,
		                 sizeof(s->request) - 1 - s->request_len);
		char *end;
		if (n <= 0)
			break;
		s->request_len += (size_t)n;
		s->request[s->request_len] = '\0';
		end = strstr(s->request, "\r\n\r\n");
		if (end && !want) {
			const char *cl = strstr(s->request, "Content-Length: ");
			want = (size_t)(end + 4 - s->request) +
			       (cl ? strtoul(cl + 16, NULL, 10) : 0);
		}
		if (want && s->request_len >= want)
			break;
	}
	if (s->delay_ms)
		usleep((useconds_t)s->delay_ms * 1000);
	(void)!write(c, s->answer, strlen(s->answer));
	close(c);
	return NULL;
}

static void server_start(struct server *s, const char *answer, int delay_ms)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->answer = answer;
	s->delay_ms = delay_ms;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 1), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, serve_one, s), 0);
}

static void server_stop(struct server *s)
{
	/* A request that never connected leaves accept() waiting: end it. */
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->th, NULL);
	close(s->fd);
}

struct got {
	struct pl_buf body;
	char ctype[64];
	int headers;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct got *g = arg;

	return pl_buf_add(&g->body, p, size * nmemb) == 0 ? size * nmemb : 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct got *g = arg;
	size_t n = size * nmemb;

	g->headers++;
	if (n > 14 && strncmp(p, "Content-Type: ", 14) == 0)
		snprintf(g->ctype, sizeof(g->ctype), "%.*s", (int)(n - 16), p + 14);
	return n;
}

static bool cancel_now(void *arg)
{
	(void)arg;
	return true;
}

/* Runs one request against a server answering `answer`; returns perform's result. */
static int run(const char *answer, int delay_ms, struct pl__http_request *rq, struct got *g,
               long *status, struct server *s)
{
	struct pl__http h;
	char url[64];
	int ret;

	server_start(s, answer, delay_ms);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", s->port);
	rq->url = url;
	rq->user_agent = "test";
	rq->connect_ms = 2000;
	if (!rq->timeout_ms)
		rq->timeout_ms = 5000;
	if (!rq->response_max)
		rq->response_max = 1024;
	rq->on_body = on_body;
	rq->body_arg = g;
	assert_int_equal(pl__http_init(&h), 0);
	ret = pl__http_perform(&h, rq, status, NULL);
	if (ret)
		assert_true(h.detail[0] != '\0');
	pl__http_release(&h);
	server_stop(s);
	return ret;
}

#define OK_ANSWER                                                                   \
	"HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n" \
	"Connection: close\r\n\r\nhello"

/* A POST goes out with its body and headers; the answer's status, body and headers come back. */
static void test_post(void **state)
{
	struct pl__http_request rq = {.post = true, .body = "ping", .body_len = 4};
	struct got g;
	struct server s;
	struct curl_slist *hdrs = curl_slist_append(NULL, "X-Test: yes");
	long status = 0;

	(void)state;
	memset(&g, 0, sizeof(g));
	pl_buf_init(&g.body, 1024);
	rq.headers = hdrs;
	rq.on_header = on_header;
	rq.header_arg = &g;
	assert_int_equal(run(OK_ANSWER, 0, &rq, &g, &status, &s), 0);
	assert_int_equal(status, 201);
	assert_int_equal(g.body.len, 5);
	assert_memory_equal(g.body.data, "hello", 5);
	assert_string_equal(g.ctype, "text/plain");
	assert_true(g.headers >= 3);
	assert_non_null(strstr(s.request, "POST /x HTTP/1.1\r\n"));
	assert_non_null(strstr(s.request, "X-Test: yes\r\n"));
	assert_non_null(strstr(s.request, "User-Agent: test\r\n"));
	assert_non_null(strstr(s.request, "\r\n\r\nping"));
	curl_slist_free_all(hdrs);
	pl_buf_release(&g.body);
}

/* Every failure is mapped, with curl's detail kept; nothing but http and https is spoken. */
static void test_failures(void **state)
{
	static const char big[] = "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n";
	static const char redirect[] = "HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\n"
	                               "Content-Length: 0\r\n\r\n";
	struct pl__http_request rq;
	struct pl__http h;
	struct got g;
	struct server s;
	long status = -1;

	(void)state;
	memset(&g, 0, sizeof(g));
	pl_buf_init(&g.body, 4096);
	/* An answer declared larger than the bound. */
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(run(big, 0, &rq, &g, &status, &s), PL_ETOOBIG);
	/* A redirect is not followed: its status is the answer. */
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(run(redirect, 0, &rq, &g, &status, &s), 0);
	assert_int_equal(status, 302);
	/* A server slower than the timeout. */
	memset(&rq, 0, sizeof(rq));
	rq.timeout_ms = 200;
	assert_int_equal(run(OK_ANSWER, 1000, &rq, &g, &status, &s), PL_ENET);
	/* A transfer the caller cancels. */
	memset(&rq, 0, sizeof(rq));
	rq.cancelled = cancel_now;
	assert_int_equal(run(OK_ANSWER, 0, &rq, &g, &status, &s), PL_ENET);
	/* Other protocols are refused before anything is opened. */
	assert_int_equal(pl__http_init(&h), 0);
	memset(&rq, 0, sizeof(rq));
	rq.url = "file:///etc/passwd";
	rq.connect_ms = 1000;
	rq.timeout_ms = 1000;
	rq.response_max = 1 << 20;
	rq.on_body = on_body;
	rq.body_arg = &g;
	pl_buf_reset(&g.body);
	status = -1;
	assert_int_equal(pl__http_perform(&h, &rq, &status, NULL), PL_ENET);
	assert_int_equal(status, 0);
	assert_int_equal(g.body.len, 0);
	assert_true(h.detail[0] != '\0');
	pl__http_release(&h);
	pl__http_release(&h); /* released: a no-op */
	pl_buf_release(&g.body);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_post), cmocka_unit_test(test_failures))
