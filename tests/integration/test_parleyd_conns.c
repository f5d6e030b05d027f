/* Holds parleyd's connections as a careless or hostile client would; checks others are served. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include <parley/auth.h>
#include <parley/client.h>
#include <parley/party.h>
#include <parley/record.h>

#include "driver_util.h"

#define ORIGIN    "hotline.example"
#define CONNS_MAX 256

static const char *ids_dir;
static uint16_t port;

/* ---- Raw connections to 127.0.0.1:port, from a chosen loopback address ---- */

/* A connected socket from src (a 127.x.y.z address), or -1. rcvbuf > 0 shrinks its buffer. */
static int conn_open(const char *src, int rcvbuf)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (src) {
		inet_pton(AF_INET, src, &sa.sin_addr);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			close(fd);
			return -1;
		}
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k <= 0)
			return false;
		s += k;
		n -= (size_t)k;
	}
	return true;
}

/* Whether the server has closed fd (end of stream or reset) within wait_ms. */
static bool conn_closed(int fd, int wait_ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	char buf[4096];
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, wait_ms) <= 0)
			return false;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return true;
		wait_ms = 0; /* data (an answer): see whether the end follows at once */
	}
}

/* The status of the answer on fd, read within wait_ms, or 0. */
static int read_status(int fd, int wait_ms)
{
	char buf[64];
	size_t len = 0;
	uint64_t until = ms_now() + (uint64_t)wait_ms;

	while (len < sizeof(buf) - 1) {
		struct pollfd p = {fd, POLLIN, 0};
		uint64_t now = ms_now();
		ssize_t n;
		if (now >= until || poll(&p, 1, (int)(until - now)) <= 0)
			return 0;
		n = recv(fd, buf + len, 1, 0); /* a byte at a time: what follows stays unread */
		if (n <= 0)
			return 0;
		len++;
		if (len >= 12 && memcmp(buf, "HTTP/1.1 ", 9) == 0)
			return (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	}
	return 0;
}

/* ---- Parties ---- */

static struct actor *actor_open(const char *name)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
	return actor_new(ids_dir, url, name);
}

/* A public statement of about len bytes, as the next record of a's chain. */
static int actor_state(struct actor *a, size_t len, unsigned n)
{
	struct pl_receipt rc = {0};
	struct pl_record r;
	struct pl_buf rec;
	const char *why = NULL;
	size_t i = 0;
	int ret;

	memset(&r, 0, sizeof(r));
	r.kind = PL_KIND_STATEMENT;
	r.has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
	r.cls = PL_CLASS_STATEMENT;
	i = (size_t)snprintf(r.body, sizeof(r.body), "Statement %u of %s.\n", n, a->id.name);
	for (; i + 80 < len && i + 80 < sizeof(r.body); i += 80) {
		memset(r.body + i, 'a' + (char)(i % 26), 79);
		r.body[i + 79] = '\n';
	}
	r.body_len = i;
	r.body[i] = '\0';
	snprintf(r.exchange, sizeof(r.exchange), "%s", ORIGIN);
	snprintf(r.author, sizeof(r.author), "%s", a->id.name);
	r.seq = a->seq + 1;
	if (a->seq) {
		r.has |= PL_RECORD_HAS_PREV;
		memcpy(r.prev, a->head, PL_HASH_BYTES);
	}
	r.time = (int64_t)time(NULL);
	pl_buf_init(&rec, PL_RECORD_MAX_BYTES);
	ret = pl_record_sign(&rec, &r, &a->id.skey, 1, &why);
	if (!ret)
		ret = pl_client_submit(a->c, rec.data, rec.len, &rc);
	if (!ret) {
		a->seq = r.seq;
		memcpy(a->head, rc.id, PL_HASH_BYTES);
	} else {
		fprintf(stderr, "%s: statement refused: %s %s\n", a->id.name, pl_strerror(ret),
		        why ? why : "");
	}
	pl_receipt_release(&rc);
	pl_buf_release(&rec);
	return ret;
}

struct filler {
	struct actor *a;
	unsigned n, done;
};

static void *fill_main(void *arg)
{
	struct filler *f = arg;

	for (unsigned i = 0; i < f->n; i++)
		if (actor_state(f->a, PL_RECORD_BODY_MAX - 256, i) == 0)
			f->done++;
	return NULL;
}

/* ---- Checks ---- */

/* Reads a whole GET answer from fd within wait_ms; the bytes read, or -1. */
static long read_all(int fd, int wait_ms)
{
	char buf[65536];
	long total = 0;
	uint64_t until = ms_now() + (uint64_t)wait_ms;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		uint64_t now = ms_now();
		ssize_t n;
		if (now >= until || poll(&p, 1, (int)(until - now)) <= 0)
			return -1;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -1;
		if (n == 0)
			return total;
		total += n;
	}
}

/*
 * A request for a whole list: every public statement, or (inbox) kpa's
 * inbox, which holds them too, without waiting. Its length, or 0.
 */
static size_t list_request(bool inbox, char *buf, size_t cap)
{
	static struct actor *kpa;
	struct pl_buf auth;
	int n = 0;

	if (!inbox)
		return (size_t)snprintf(buf, cap,
		                        "GET /statements HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		                        "Connection: close\r\n\r\n");
	if (!kpa)
		kpa = actor_open("kpa");
	pl_buf_init(&auth, PL_AUTH_HEADER_MAX);
	if (pl_auth_sign(&auth, &kpa->id.skey, "GET", "/inbox?wait=0", 13, "", 0,
	                 (uint64_t)time(NULL), NULL) == 0)
		n = snprintf(buf, cap,
		             "GET /inbox?wait=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		             "Authorization: %s\r\nConnection: close\r\n\r\n",
		             auth.data);
	pl_buf_release(&auth);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Sends a list request on a new connection; the connection, or -1. */
static int list_ask(bool inbox, int rcvbuf)
{
	char req[1024];
	size_t len = list_request(inbox, req, sizeof(req));
	int fd = len ? conn_open(NULL, rcvbuf) : -1;

	if (fd >= 0 && !send_all(fd, req, len)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The bytes of a whole list answer read by a client that reads, or -1. */
static long list_read_whole(bool inbox)
{
	int fd = list_ask(inbox, 0);
	long whole = fd >= 0 ? read_all(fd, 20000) : -1;

	if (fd >= 0)
		close(fd);
	return whole;
}

/*
 * Fills the log with about mib MiB of public statements from six parties at
 * once, then checks that the whole list reads back through the client.
 */
static int cmd_fill(unsigned kib)
{
	static const char *const names[] = {"rok-mnd", "unc", "kpa", "dprk", "us-nsc", "us-wh"};
	struct filler f[6];
	pthread_t t[6];
	unsigned per = (kib / 16 + 5) / 6, done = 0;
	struct pl_client_list l = {0};
	int ret;

	for (int i = 0; i < 6; i++) {
		f[i] = (struct filler){actor_open(names[i]), per, 0};
		pthread_create(&t[i], NULL, fill_main, &f[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		done += f[i].done;
	}
	check(done == 6 * per, "%u statements of about 16 KiB logged (%u wanted)", done, 6 * per);
	ret = pl_client_statements(f[0].a->c, 0, &l);
	check(ret == 0 && l.n == done,
	      "the client reads them all back in one streamed answer (%zu records, %s)", l.n,
	      pl_strerror(ret));
	pl_client_list_release(&l);
	for (int i = 0; i < 6; i++)
		actor_close(f[i].a);
	return fails ? 1 : 0;
}

/*
 * n clients ask for every statement (or, inbox, for a member's inbox, which
 * holds them too) and never read the answer. Each may cost the server a
 * connection's buffers, not the answer: its resident memory grows by less
 * than max_kib.
 */
static int cmd_memory(long pid, bool inbox, int n, long max_kib)
{
	const char *what = inbox ? "a member's inbox" : "every statement";
	int fds[CONNS_MAX];
	long before, after = 0, whole;
	int opened = 0;

	if (n > CONNS_MAX)
		n = CONNS_MAX;
	/* Warm up: the store's page cache and the workers' heaps reach their size. */
	for (int i = 0; i < 3; i++) {
		whole = list_read_whole(inbox);
		if (i == 0)
			check(whole > 1000000, "a reading client gets %s (%ld bytes)", what, whole);
	}
	sleep_ms(300);
	before = rss_kib(pid);
	for (int i = 0; i < n; i++) {
		fds[opened] = list_ask(inbox, 4096);
		if (fds[opened] < 0)
			break;
		opened++;
	}
	/* The server answers each at once; give it the time to, and take the largest size. */
	for (int i = 0; i < 10; i++) {
		long now;
		sleep_ms(200);
		now = rss_kib(pid);
		if (now > after)
			after = now;
	}
	check(opened == n, "%d clients ask for %s and do not read", opened, what);
	check(before > 0 && after > 0 && after - before < max_kib,
	      "the server's memory grows by less than %ld KiB (%ld KiB -> %ld KiB: %ld KiB, %ld "
	      "KiB a client)",
	      max_kib, before, after, after - before, opened ? (after - before) / opened : 0);
	/* Others are still served meanwhile. */
	whole = list_read_whole(inbox);
	check(whole > 1000000, "a reading client still gets %s (%ld bytes)", what, whole);
	for (int i = 0; i < opened; i++)
		close(fds[i]);
	return fails ? 1 : 0;
}

/*
 * n connections from 127.0.0.2 send a request head a byte at a time. Those
 * past per_ip are closed at once; a client from 127.0.0.1 is served at once
 * meanwhile; and the dribblers are closed once header_s seconds pass, though
 * they never stop sending.
 */
static int cmd_slow(int n, int per_ip, int header_s)
{
	static const char head[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
	int fds[CONNS_MAX], opened = 0, refused = 0, alive, fd, status;
	uint64_t t0, t1, closed_at[CONNS_MAX];
	bool closed[CONNS_MAX];

	if (n > CONNS_MAX)
		n = CONNS_MAX;
	t0 = ms_now();
	for (int i = 0; i < n; i++) {
		fds[opened] = conn_open("127.0.0.2", 0);
		if (fds[opened] < 0)
			break;
		closed[opened] = false;
		(void)send_all(fds[opened], head, sizeof(head) - 1);
		opened++;
	}
	check(opened == n, "%d connections opened from 127.0.0.2", opened);
	/* The server accepts them as fast as it can; those past the limit end at once. */
	for (t1 = ms_now(); opened - refused > per_ip && ms_now() - t1 < 1500;) {
		sleep_ms(50);
		for (int i = 0; i < opened; i++) {
			if (!closed[i] && conn_closed(fds[i], 0)) {
				closed[i] = true;
				closed_at[i] = ms_now();
				refused++;
			}
		}
	}
	check(opened - refused <= per_ip && refused >= opened - per_ip,
	      "those past %d from one address are closed at once (%d of %d)", per_ip, refused,
	      opened);

	/* Meanwhile another address is served at once. */
	t1 = ms_now();
	fd = conn_open("127.0.0.1", 0);
	status = fd >= 0 && send_all(fd, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 41)
	                 ? read_status(fd, 2000)
	                 : 0;
	if (fd >= 0)
		close(fd);
	check(status == 200, "a client from 127.0.0.1 is served meanwhile (%d after %llu ms)",
	      status, (unsigned long long)(ms_now() - t1));

	/* The dribblers keep sending a byte every 200 ms until they are closed. */
	for (alive = opened - refused;
	     alive > 0 && ms_now() - t0 < (uint64_t)header_s * 1000 + 3000;) {
		sleep_ms(200);
		for (int i = 0; i < opened; i++) {
			if (closed[i])
				continue;
			if (!send_all(fds[i], "a", 1) || conn_closed(fds[i], 0)) {
				closed[i] = true;
				closed_at[i] = ms_now();
				alive--;
			}
		}
	}
	{
		uint64_t first = UINT64_MAX, last = 0;
		for (int i = 0; i < opened; i++) {
			if (!closed[i] || closed_at[i] - t0 < 1000)
				continue;
			if (closed_at[i] < first)
				first = closed_at[i];
			if (closed_at[i] > last)
				last = closed_at[i];
		}
		check(alive == 0 && last > 0 && first - t0 >= (uint64_t)header_s * 1000 - 500 &&
		              last - t0 <= (uint64_t)header_s * 1000 + 2000,
		      "a connection still sending its head after %d s is closed (%d left open; "
		      "closed after %llu to %llu ms)",
		      header_s, alive,
		      first == UINT64_MAX ? 0ull : (unsigned long long)(first - t0),
		      (unsigned long long)(last ? last - t0 : 0));
	}
	for (int i = 0; i < opened; i++)
		close(fds[i]);
	return fails ? 1 : 0;
}

/*
 * n connections from 127.0.0.3 send a whole head of a record submission
 * without Authorization, then its body a byte every 200 ms: a body nobody
 * has authenticated must arrive within the same header_s deadline as a head,
 * so each is closed once header_s seconds pass, though it never stops sending.
 */
static int cmd_slowbody(int n, int header_s)
{
	static const char head[] = "POST /records HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	                           "Content-Length: 20000\r\n\r\n";
	int fds[CONNS_MAX], opened = 0, alive;
	uint64_t t0 = ms_now(), first = UINT64_MAX, last = 0;

	if (n > CONNS_MAX)
		n = CONNS_MAX;
	for (; opened < n; opened++) {
		fds[opened] = conn_open("127.0.0.3", 0);
		if (fds[opened] < 0 || !send_all(fds[opened], head, sizeof(head) - 1))
			break;
	}
	check(opened == n, "%d record submissions started from 127.0.0.3", opened);
	for (alive = opened; alive > 0 && ms_now() - t0 < (uint64_t)header_s * 1000 + 3000;) {
		sleep_ms(200);
		for (int i = 0; i < opened; i++) {
			if (fds[i] < 0)
				continue;
			if (!send_all(fds[i], "p", 1) || conn_closed(fds[i], 0)) {
				uint64_t at = ms_now() - t0;
				first = at < first ? at : first;
				last = at > last ? at : last;
				close(fds[i]);
				fds[i] = -1;
				alive--;
			}
		}
	}
	check(alive == 0 && first >= (uint64_t)header_s * 1000 - 500 &&
	              last <= (uint64_t)header_s * 1000 + 2000,
	      "a record body still arriving after %d s is closed (%d left open; closed after "
	      "%llu to %llu ms)",
	      header_s, alive, first == UINT64_MAX ? 0ull : (unsigned long long)first,
	      (unsigned long long)last);
	for (int i = 0; i < opened; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return fails ? 1 : 0;
}

/*
 * Opens an event stream of a's inbox on a raw connection, from a cursor past
 * the log's end so that it idles (as an agent's stream mostly does): its
 * status, and *fd open when 200.
 */
static int stream_open(struct actor *a, int *fd)
{
	struct pl_buf auth;
	char req[1024];
	int status = 0, n;

	*fd = conn_open(NULL, 0);
	if (*fd < 0)
		return 0;
	pl_buf_init(&auth, PL_AUTH_HEADER_MAX);
	if (pl_auth_sign(&auth, &a->id.skey, "GET", "/inbox", 6, "", 0, (uint64_t)time(NULL),
	                 NULL) == 0) {
		n = snprintf(
		        req, sizeof(req),
		        "GET /inbox HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
		        "Last-Event-ID: 1000000\r\nAuthorization: %s\r\n\r\n",
		        auth.data);
		if (n > 0 && (size_t)n < sizeof(req) && send_all(*fd, req, (size_t)n))
			status = read_status(*fd, 3000);
	}
	pl_buf_release(&auth);
	if (status != 200) {
		close(*fd);
		*fd = -1;
	}
	return status;
}

/*
 * One member opens event streams until refused: it gets per_key of them;
 * another member still gets one; and a stream its client closed frees its
 * slot within about a second.
 */
static int cmd_streams(int per_key)
{
	struct actor *kpa = actor_open("kpa"), *unc = actor_open("unc");
	int fds[32], n = 0, status = 0, fd = -1;
	uint64_t t0;

	while (n < 16) {
		status = stream_open(kpa, &fds[n]);
		if (status != 200)
			break;
		n++;
	}
	check(n == per_key && status == 503,
	      "one member gets %d event streams, then 503 (got %d, then %d)", per_key, n, status);
	status = stream_open(unc, &fd);
	check(status == 200, "another member still gets a stream (%d)", status);
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		close(fds[--n]);
		t0 = ms_now();
		do {
			sleep_ms(100);
			status = stream_open(kpa, &fds[n]);
		} while (status != 200 && ms_now() - t0 < 3000);
		check(status == 200 && ms_now() - t0 < 1500,
		      "a stream its client closed frees its slot at once (%d after %llu ms)",
		      status, (unsigned long long)(ms_now() - t0));
		if (status == 200)
			n++;
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	actor_close(kpa);
	actor_close(unc);
	return fails ? 1 : 0;
}

static void usage(void)
{
	fputs("usage: test_parleyd_conns fill PORT IDS KIB\n"
	      "       test_parleyd_conns memory PORT IDS PID statements|inbox CLIENTS MAX-KIB\n"
	      "       test_parleyd_conns slow PORT CONNECTIONS PER-IP HEADER-SECONDS\n"
	      "       test_parleyd_conns slowbody PORT CONNECTIONS HEADER-SECONDS\n"
	      "       test_parleyd_conns streams PORT IDS PER-KEY\n",
	      stderr);
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 2;
	if (argc < 3) {
		usage();
		return 2;
	}
	port = (uint16_t)strtoul(argv[2], NULL, 10);
	if (strcmp(argv[1], "fill") == 0 && argc == 5) {
		ids_dir = argv[3];
		return cmd_fill((unsigned)strtoul(argv[4], NULL, 10));
	}
	if (strcmp(argv[1], "memory") == 0 && argc == 8) {
		ids_dir = argv[3];
		return cmd_memory(strtol(argv[4], NULL, 10), strcmp(argv[5], "inbox") == 0,
		                  (int)strtol(argv[6], NULL, 10), strtol(argv[7], NULL, 10));
	}
	if (strcmp(argv[1], "slow") == 0 && argc == 6)
		return cmd_slow((int)strtol(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10),
		                (int)strtol(argv[5], NULL, 10));
	if (strcmp(argv[1], "slowbody") == 0 && argc == 5)
		return cmd_slowbody((int)strtol(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10));
	if (strcmp(argv[1], "streams") == 0 && argc == 5) {
		ids_dir = argv[3];
		return cmd_streams((int)strtol(argv[4], NULL, 10));
	}
	usage();
	return 2;
}
