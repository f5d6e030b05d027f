/* Benchmark of the real parleyd over HTTP: durable submissions, latency, delivery, with baselines.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <sodium.h>

#include <parley/box.h>
#include <parley/client.h>
#include <parley/encoding.h>
#include <parley/party.h>
#include <parley/record.h>

#include "driver_util.h"

#define ORIGIN    "bench.example"
#define CLIENTS   32
#define RUNS      3    /* sustained runs, back to back: their median and range are reported */
#define RUN_MS    3000 /* each */
#define CHAIN_MAX 4500 /* pre-signed records per client */
#define RATE      1000 /* records per second for the latency run */
#define RATE_MS   2000
#define SENDS     200 /* sends for the delivery run */

static char dir[PATH_MAX], parleyd[PATH_MAX], url[64];
static pid_t server = -1;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench_parleyd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (server > 0)
		kill(server, SIGKILL);
	exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_ms(uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[(size_t)((double)(n - 1) * p)] / 1e6;
}

/* ---- The server ---- */

static int run(char *const argv[])
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static unsigned free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* The parleyd beside this program in the build tree, or $PARLEYD. */
static void find_parleyd(void)
{
	const char *env = getenv("PARLEYD");
	char self[PATH_MAX - 32];
	ssize_t n;

	if (env) {
		snprintf(parleyd, sizeof(parleyd), "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		die("cannot find myself");
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(parleyd, sizeof(parleyd), "%s/../src/parleyd/parleyd", self);
	if (access(parleyd, X_OK) != 0)
		die("no parleyd at %s (set PARLEYD)", parleyd);
}

static void make_store(int nparties)
{
	char data[PATH_MAX + 8], ids[PATH_MAX + 8], conf[PATH_MAX + 16], name[32];
	FILE *f;

	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(ids, sizeof(ids), "%s/ids", dir);
	if (mkdir(ids, 0700) != 0)
		die("mkdir %s", ids);
	if (run((char *[]){parleyd, "init", "--origin", ORIGIN, "--data", data, NULL}) != 0)
		die("parleyd init failed");
	for (int i = 0; i < nparties; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		if (pl_party_create(NULL, ids, ORIGIN, name) != 0)
			die("cannot create party %s", name);
		if (run((char *[]){parleyd, "party", "add", name, "--data", data, "--identity", ids,
		                   NULL}) != 0)
			die("parleyd party add %s failed", name);
	}
	snprintf(conf, sizeof(conf), "%s/bench.conf", dir);
	f = fopen(conf, "w");
	if (!f)
		die("cannot write %s", conf);
	/* Rates and windows that a benchmark must not run into; the rest as shipped. */
	fputs("payload_max = 1048576\nrate = 1000000\nrate_burst = 10000000\n", f);
	/* Extra parleyd.conf lines to compare tunings, e.g. BENCH_CONF="batch_idle_us = 500". */
	if (getenv("BENCH_CONF"))
		fprintf(f, "%s\n", getenv("BENCH_CONF"));
	fclose(f);
}

static void start_server(void)
{
	char data[PATH_MAX + 8], conf[PATH_MAX + 16], listen[32];
	unsigned port = free_port();
	struct pl_client *c = NULL;

	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(conf, sizeof(conf), "%s/bench.conf", dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(url, sizeof(url), "http://%s", listen);
	server = fork();
	if (server == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 2);
		execv(parleyd, (char *[]){parleyd, "serve", "--data", data, "--config", conf,
		                          "--listen", listen, NULL});
		_exit(127);
	}
	if (pl_client_new(&c, url, NULL, NULL) != 0)
		die("client");
	for (int i = 0; i < 200; i++) {
		if (pl_client_health(c) == 0) {
			pl_client_free(c);
			return;
		}
		usleep(20000);
	}
	die("parleyd does not answer on %s", url);
}

/* CPU time parleyd has used so far (all its threads, user and system), in seconds. */
static double server_cpu_s(void)
{
	char path[64], buf[1024];
	unsigned long long ut = 0, st = 0;
	const char *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)server);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15 (utime, stime) follow the command name in parentheses. */
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 14; field++)
		p = strchr(p + 1, ' ');
	if (p) {
		char *end;
		ut = strtoull(p + 1, &end, 10);
		st = strtoull(end, NULL, 10);
	}
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- Baselines ---- */

static double baseline_verify(void)
{
	unsigned char pk[32], sk[64], sig[64], msg[200];
	uint64_t t0, n = 0;

	randombytes_buf(msg, sizeof(msg));
	crypto_sign_keypair(pk, sk);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	t0 = now_ns();
	while (now_ns() - t0 < 1000000000u) {
		for (int i = 0; i < 100; i++)
			if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
				die("verify");
		n += 100;
	}
	return (double)n * 1e9 / (double)(now_ns() - t0);
}

static double baseline_fdatasync(void)
{
	char path[PATH_MAX + 16], buf[64];
	uint64_t t0, n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/sync", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open %s", path);
	memset(buf, 'x', sizeof(buf));
	t0 = now_ns();
	while (now_ns() - t0 < 1000000000u) {
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fdatasync(fd) != 0)
			die("fdatasync");
		n++;
	}
	close(fd);
	unlink(path);
	return (double)n * 1e9 / (double)(now_ns() - t0);
}

/*
 * A load generator on raw sockets, as wrk is: nconn kept-alive HTTP/1.1 connections, each
 * with one request in flight, driven by one thread with epoll. It costs the shared CPU far
 * less than libcurl clients would, so the figures are the server's.
 */

#define WIRE_MAX 64

struct wire_conn {
	int fd;
	char buf[16384];
	size_t got;
	uint64_t n, errors;
	bool done;
};

/* The next request of connection i into buf (at most cap bytes): its length, 0 when none. */
typedef size_t (*wire_next)(void *arg, int i, char *buf, size_t cap);

static int wire_connect(void)
{
	struct sockaddr_in sa;
	const char *colon = strrchr(url, ':');
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("cannot connect to %s", url);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static bool wire_send(struct wire_conn *c, int i, wire_next next, void *arg)
{
	char req[PL_RECORD_MAX_BYTES + 512];
	size_t len = next(arg, i, req, sizeof(req)), off = 0;

	if (len == 0)
		return false;
	while (off < len) {
		ssize_t w = send(c->fd, req + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			die("send: %s", strerror(errno));
		off += (size_t)w;
	}
	return true;
}

static const char *find(const char *h, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(h + i, needle, m) == 0)
			return h + i;
	return NULL;
}

/* A whole response in c->buf: its status, and its length in *used; 0 when incomplete. */
static int wire_response(const struct wire_conn *c, size_t *used)
{
	const char *end = find(c->buf, c->got, "\r\n\r\n"), *cl;
	size_t head, body;

	if (!end)
		return 0;
	head = (size_t)(end - c->buf) + 4;
	cl = find(c->buf, head, "Content-Length:");
	if (!cl || c->got < 12)
		die("a response without Content-Length");
	body = strtoul(cl + 15, NULL, 10);
	if (c->got < head + body)
		return 0;
	*used = head + body;
	return atoi(c->buf + 9);
}

/* Runs nconn connections for at most ms milliseconds: responses per second with `want`. */
static double wire_run(int nconn, uint64_t ms, int want, wire_next next, void *arg,
                       double *cpu_share)
{
	struct wire_conn *c = calloc((size_t)nconn, sizeof(*c));
	struct epoll_event ev[WIRE_MAX];
	struct rusage ru0, ru1;
	uint64_t t0, until, n = 0, errors = 0;
	int ep = epoll_create1(0), live = 0;

	if (!c || ep < 0 || nconn > WIRE_MAX)
		die("wire_run");
	for (int i = 0; i < nconn; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		c[i].fd = wire_connect();
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &e) != 0)
			die("epoll_ctl");
	}
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_ns();
	until = t0 + ms * 1000000u;
	for (int i = 0; i < nconn; i++) {
		if (wire_send(&c[i], i, next, arg)) {
			live++;
		} else {
			epoll_ctl(ep, EPOLL_CTL_DEL, c[i].fd, NULL);
			c[i].done = true;
		}
	}
	while (live > 0) {
		int k = epoll_wait(ep, ev, WIRE_MAX, 1000);
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		if (k == 0)
			die("the server stopped answering");
		for (int j = 0; j < k; j++) {
			struct wire_conn *w = &c[ev[j].data.u32];
			ssize_t r = recv(w->fd, w->buf + w->got, sizeof(w->buf) - w->got, 0);
			size_t used;
			int status;
			if (r <= 0)
				die("the server closed a connection");
			w->got += (size_t)r;
			status = wire_response(w, &used);
			if (status == 0)
				continue;
			memmove(w->buf, w->buf + used, w->got - used);
			w->got -= used;
			if (status == want)
				w->n++;
			else
				w->errors++;
			if (w->errors || now_ns() >= until ||
			    !wire_send(w, (int)ev[j].data.u32, next, arg)) {
				/*
				 * Out of the epoll set: the server may close an idle
				 * kept-alive connection while the others still run, and
				 * that is no failure of a connection with nothing asked.
				 */
				epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL);
				w->done = true;
				live--;
			}
		}
	}
	{
		uint64_t t1 = now_ns();
		getrusage(RUSAGE_SELF, &ru1);
		*cpu_share = ((double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
		              (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		              (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
		              (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6) /
		             ((double)(t1 - t0) / 1e9);
		for (int i = 0; i < nconn; i++) {
			n += c[i].n;
			errors += c[i].errors;
			close(c[i].fd);
		}
		close(ep);
		free(c);
		if (errors)
			fprintf(stderr, "bench_parleyd: %llu requests failed\n",
			        (unsigned long long)errors);
		return (double)n * 1e9 / (double)(t1 - t0);
	}
}

static size_t next_health(void *arg, int i, char *buf, size_t cap)
{
	(void)arg;
	(void)i;
	return (size_t)snprintf(buf, cap, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

/* A no-op request to the same server, 32 kept-alive connections. */
static double baseline_http(void)
{
	double cpu;

	return wire_run(CLIENTS, 2000, 200, next_health, NULL, &cpu);
}

/* ---- Clients: a party, its client, its chain ---- */

struct chain {
	struct pl_party id;
	struct pl_client *c;
	uint64_t seq;
	uint8_t head[PL_HASH_BYTES];
	char **pre; /* pre-signed records (the chain is known in advance: ids are local) */
	size_t *pre_len;
	size_t npre, next;
};

static void chain_open(struct chain *ch, int i)
{
	char ids[PATH_MAX + 8], name[32];

	memset(ch, 0, sizeof(*ch));
	snprintf(ids, sizeof(ids), "%s/ids", dir);
	snprintf(name, sizeof(name), "p%d", i);
	if (pl_party_load(&ch->id, ids, name) != 0 ||
	    pl_client_new(&ch->c, url, &ch->id.skey, NULL))
		die("cannot load %s", name);
}

static void chain_close(struct chain *ch)
{
	for (size_t i = 0; i < ch->npre; i++)
		free(ch->pre[i]);
	free(ch->pre);
	free(ch->pre_len);
	pl_client_free(ch->c);
	pl_party_clear(&ch->id);
}

/* Signs the next record of the chain: a statement, or a send to `to` with a payload. */
static char *chain_sign(struct chain *ch, const char *to, const uint8_t *payload, size_t psize,
                        size_t *len)
{
	static const char body[] = "A statement of the benchmark, of a typical length for a public "
	                           "statement by a ministry.\n";
	struct pl_record *r = calloc(1, sizeof(*r));
	struct pl_buf out;
	const char *why;
	char *s;

	if (!r)
		die("oom");
	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", ch->id.name);
	r->seq = ch->seq + 1;
	if (ch->seq) {
		r->has |= PL_RECORD_HAS_PREV;
		memcpy(r->prev, ch->head, PL_HASH_BYTES);
	}
	r->time = (int64_t)time(NULL);
	r->has |= PL_RECORD_HAS_CLASS;
	if (to) {
		r->kind = PL_KIND_SEND;
		r->cls = PL_CLASS_MESSAGE;
		snprintf(r->to[0], sizeof(r->to[0]), "%s", to);
		r->nto = 1;
		r->has |= PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT;
		memcpy(r->payload, payload, PL_HASH_BYTES);
		r->payload_size = psize;
		memcpy(r->commit, payload,
		       PL_HASH_BYTES); /* any 32 bytes: the exchange cannot check */
	} else {
		r->kind = PL_KIND_STATEMENT;
		r->cls = PL_CLASS_STATEMENT;
		r->has |= PL_RECORD_HAS_BODY;
		r->body_len = sizeof(body) - 1;
		memcpy(r->body, body, sizeof(body));
	}
	pl_buf_init(&out, PL_RECORD_MAX_BYTES);
	if (pl_record_sign(&out, r, &ch->id.skey, 1, &why) != 0)
		die("sign: %s", why ? why : "?");
	free(r);
	s = pl_buf_detach(&out, len);
	if (!s)
		die("oom");
	ch->seq++;
	pl_sha256(ch->head, s, *len);
	return s;
}

static void chain_presign(struct chain *ch, size_t n)
{
	ch->pre = calloc(n, sizeof(*ch->pre));
	ch->pre_len = calloc(n, sizeof(*ch->pre_len));
	if (!ch->pre || !ch->pre_len)
		die("oom");
	for (size_t i = 0; i < n; i++)
		ch->pre[i] = chain_sign(ch, NULL, NULL, 0, &ch->pre_len[i]);
	ch->npre = n;
}

/* ---- Sustained durable submissions ---- */

/* The next pre-signed record of client i's chain, as a whole request. */
static size_t next_record(void *arg, int i, char *buf, size_t cap)
{
	struct chain *ch = (struct chain *)arg + i;
	size_t k = ch->next, head;

	if (k >= ch->npre)
		return 0;
	head = (size_t)snprintf(buf, cap,
	                        "POST /records HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
	                        "text/plain; charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
	                        ch->pre_len[k]);
	if (head + ch->pre_len[k] > cap)
		die("request too large");
	memcpy(buf + head, ch->pre[k], ch->pre_len[k]);
	ch->next++;
	return head + ch->pre_len[k];
}

/* Records per second; *server_us is parleyd's CPU time per record (all cores). */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * RUNS sustained runs back to back: rate[] sorted, so that rate[RUNS / 2] is
 * the median. One run on this shared machine can be 25% off; three in a row
 * show how far. The CPU figures are over all of them.
 */
static void bench_sustained(struct chain *chains, double rate[static RUNS], double *cpu_share,
                            double *server_us)
{
	double cpu0 = server_cpu_s(), share = 0;
	size_t n = 0;

	for (int r = 0; r < RUNS; r++) {
		double s = 0;
		rate[r] = wire_run(CLIENTS, RUN_MS, 201, next_record, chains, &s);
		share += s / RUNS;
	}
	qsort(rate, RUNS, sizeof(rate[0]), cmp_double);
	for (int i = 0; i < CLIENTS; i++)
		n += chains[i].next;
	*cpu_share = share;
	*server_us = n ? (server_cpu_s() - cpu0) * 1e6 / (double)n : 0;
}

/* ---- Latency at a fixed rate ---- */

#define PACERS 8

struct pacer {
	pthread_t t;
	struct chain *ch;
	uint64_t start, period;
	uint64_t *lat;
	size_t n, cap;
};

static void *pace_main(void *arg)
{
	struct pacer *p = arg;

	for (size_t k = 0; k < p->cap; k++) {
		uint64_t due = p->start + k * p->period, t;
		struct pl_receipt rc;
		size_t len;
		char *rec = chain_sign(p->ch, NULL, NULL, 0, &len);
		while ((t = now_ns()) < due)
			usleep((useconds_t)((due - t) / 1000 > 1000 ? 1000 : (due - t) / 1000 + 1));
		/* Open loop: latency counts from when the record was due, not when it was sent. */
		if (pl_client_submit(p->ch->c, rec, len, &rc) != 0) {
			free(rec);
			break;
		}
		p->lat[p->n++] = now_ns() - due;
		pl_receipt_release(&rc);
		free(rec);
	}
	return NULL;
}

static void bench_latency(struct chain *chains, double fsync_rate)
{
	struct pacer p[PACERS];
	size_t per = (size_t)RATE * RATE_MS / 1000 / PACERS, n = 0;
	uint64_t *all = calloc(per * PACERS, sizeof(*all)), t0 = now_ns() + 50000000u;

	for (int i = 0; i < PACERS; i++) {
		p[i] = (struct pacer){.ch = &chains[i],
		                      .start = t0 + (uint64_t)i * 1000000000u / RATE,
		                      .period = 1000000000ull * PACERS / RATE,
		                      .lat = calloc(per, sizeof(uint64_t)),
		                      .cap = per};
		pthread_create(&p[i].t, NULL, pace_main, &p[i]);
	}
	for (int i = 0; i < PACERS; i++) {
		pthread_join(p[i].t, NULL);
		memcpy(all + n, p[i].lat, p[i].n * sizeof(*all));
		n += p[i].n;
		free(p[i].lat);
	}
	printf("submit-to-proof latency at %d records/s (%zu records):\n", RATE, n);
	printf("  p50: %.2f ms (%.2f x fdatasync)\n", pct_ms(all, n, 0.50),
	       pct_ms(all, n, 0.50) / (1000.0 / fsync_rate));
	printf("  p99: %.2f ms (%.2f x fdatasync)\n", pct_ms(all, n, 0.99),
	       pct_ms(all, n, 0.99) / (1000.0 / fsync_rate));
	free(all);
}

/* ---- Delivery: acknowledgement to arrival on the recipient's stream ---- */

#define ARRIVALS (4 * SENDS) /* each send brings its `available` record too */

struct arrivals {
	pthread_mutex_t lock;
	uint8_t ids[ARRIVALS][PL_HASH_BYTES];
	uint64_t at[ARRIVALS];
	size_t n;
	bool stop;
};

static int on_arrival(void *arg, const struct pl_client_entry *e)
{
	struct arrivals *a = arg;
	uint64_t t = now_ns();
	bool stop;

	pthread_mutex_lock(&a->lock);
	if (a->n < ARRIVALS) {
		memcpy(a->ids[a->n], e->id, PL_HASH_BYTES);
		a->at[a->n++] = t;
	}
	stop = a->stop;
	pthread_mutex_unlock(&a->lock);
	return stop;
}

struct receiver {
	struct chain *ch;
	struct arrivals *a;
	uint64_t cursor;
};

static void *receive_main(void *arg)
{
	struct receiver *r = arg;

	(void)!pl_client_inbox_stream(r->ch->c, &r->cursor, on_arrival, r->a, 4000 + SENDS * 20);
	return NULL;
}

static void bench_delivery(struct chain *sender, struct chain *recv, double http_rate)
{
	struct arrivals *a = calloc(1, sizeof(*a));
	struct receiver rv = {recv, a, 0};
	uint8_t ids[SENDS][PL_HASH_BYTES], pk[2][PL_BOX_PK_BYTES], commit[32], hash[32];
	uint64_t ack[SENDS], lat[SENDS], from_submit[SENDS], sent_at[SENDS];
	uint8_t *blob = NULL;
	size_t blen = 0, n = 0, m = 0;
	struct pl_buf cp;
	pthread_t t;

	pthread_mutex_init(&a->lock, NULL);
	/* Start the stream at the current end of the log. */
	pl_buf_init(&cp, 1u << 16);
	if (pl_client_checkpoint(recv->c, &cp) == 0) {
		const char *nl = strchr(cp.data, '\n');
		rv.cursor = nl ? strtoull(nl + 1, NULL, 10) : 0;
	}
	pl_buf_release(&cp);
	memcpy(pk[0], sender->id.ekey.pk, PL_BOX_PK_BYTES);
	memcpy(pk[1], recv->id.ekey.pk, PL_BOX_PK_BYTES);
	if (pl_box_seal(&blob, &blen, commit, NULL, (const uint8_t *)"hello", 5,
	                (const uint8_t(*)[PL_BOX_PK_BYTES])pk, 2) != 0 ||
	    pl_client_payload_put(sender->c, blob, blen, hash) != 0)
		die("cannot upload a payload");
	free(blob);
	pthread_create(&t, NULL, receive_main, &rv);
	usleep(200000);
	for (size_t i = 0; i < SENDS; i++) {
		struct pl_receipt rc;
		size_t len;
		char *rec = chain_sign(sender, recv->id.name, hash, blen, &len);
		sent_at[i] = now_ns();
		if (pl_client_submit(sender->c, rec, len, &rc) != 0) {
			free(rec);
			break;
		}
		ack[i] = now_ns();
		memcpy(ids[i], rc.id, PL_HASH_BYTES);
		pl_receipt_release(&rc);
		free(rec);
		n++;
		usleep(5000);
	}
	usleep(300000);
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < a->n; k++) {
			if (memcmp(a->ids[k], ids[i], PL_HASH_BYTES) == 0) {
				/* The stream may see the record before the sender has its answer.
				 */
				lat[m] = a->at[k] > ack[i] ? a->at[k] - ack[i] : 0;
				from_submit[m++] = a->at[k] - sent_at[i];
				break;
			}
		}
	}
	pthread_mutex_unlock(&a->lock);
	/* Wake the stream with one more record so that it sees the stop flag. */
	{
		struct pl_receipt rc;
		size_t len;
		char *rec = chain_sign(sender, recv->id.name, hash, blen, &len);
		if (pl_client_submit(sender->c, rec, len, &rc) == 0)
			pl_receipt_release(&rc);
		free(rec);
	}
	pthread_join(t, NULL);
	printf("send to inbox stream (%zu of %zu sends seen):\n", m, n);
	printf("  ack-to-arrival p50: %.3f ms (%.2f x no-op request)\n", pct_ms(lat, m, 0.5),
	       pct_ms(lat, m, 0.5) / (1000.0 / http_rate * CLIENTS));
	printf("  submit-to-arrival p50: %.3f ms (%.2f x no-op request)\n",
	       pct_ms(from_submit, m, 0.5),
	       pct_ms(from_submit, m, 0.5) / (1000.0 / http_rate * CLIENTS));
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static void cleanup(void)
{
	char cmd[PATH_MAX + 16];

	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = -1;
	}
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_parleyd: cannot remove %s\n", dir);
	}
}

int main(void)
{
	struct chain *chains;
	double verify, fsync_rate, http, sustained, rate[RUNS], load_cpu, server_us;
	const char *tmp = getenv("TMPDIR");
	long rss;

	if (sodium_init() < 0)
		return 1;
	find_parleyd();
	snprintf(dir, sizeof(dir), "%s/bench-parleyd.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp");
	atexit(cleanup);
	make_store(CLIENTS + 2);
	start_server();

	verify = baseline_verify();
	fsync_rate = baseline_fdatasync();
	printf("baseline raw Ed25519 verify: %.0f ops/s (1.00 x baseline)\n", verify);
	printf("baseline raw fdatasync: %.0f ops/s (1.00 x baseline)\n", fsync_rate);
	http = baseline_http();
	printf("baseline no-op HTTP request (GET /health, %d clients): %.0f ops/s (%.2f x "
	       "verify)\n",
	       CLIENTS, http, http / verify);

	chains = calloc(CLIENTS + 2, sizeof(*chains));
	for (int i = 0; i < CLIENTS + 2; i++)
		chain_open(&chains[i], i);
	for (int i = 0; i < CLIENTS; i++)
		chain_presign(&chains[i], CHAIN_MAX);
	bench_sustained(chains, rate, &load_cpu, &server_us);
	sustained = rate[RUNS / 2];
	printf("durable submissions, %d clients: %.0f records/s (%.2f x fdatasync, %.2f x verify, "
	       "%.2f x no-op HTTP)\n",
	       CLIENTS, sustained, sustained / fsync_rate, sustained / verify, sustained / http);
	printf("  median of %d runs of %d s back to back: %.0f, %.0f, %.0f records/s\n", RUNS,
	       RUN_MS / 1000, rate[0], rate[1], rate[2]);
	printf("  parleyd CPU time per record: %.0f us (%.2f x one verify)\n", server_us,
	       server_us / (1e6 / verify));
	printf("  load generator's share of one core during the run: %.0f%%\n", load_cpu * 100);
	/* The chains moved on by what was submitted; continue them from there. */
	for (int i = 0; i < CLIENTS; i++) {
		struct chain *ch = &chains[i];
		size_t done = ch->next;
		ch->seq -= ch->npre - done;
		if (done > 0)
			pl_sha256(ch->head, ch->pre[done - 1], ch->pre_len[done - 1]);
	}
	bench_latency(chains, fsync_rate);
	bench_delivery(&chains[CLIENTS], &chains[CLIENTS + 1], http);
	rss = rss_kib((long)server);
	printf("parleyd resident memory after the run: %ld KiB\n", rss);
	for (int i = 0; i < CLIENTS + 2; i++)
		chain_close(&chains[i]);
	free(chains);
	return 0;
}
