/* parley-witness: a transparency-log witness's command line: init, log add/list, serve. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/encoding.h>
#include <parley/key.h>
#include <parley/witness.h>

#include "http.h"
#include "banned.h"

#ifndef PARLEY_VERSION
#define PARLEY_VERSION "unknown"
#endif

/* Exit codes, documented in parley-witness(8). */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 2,   /* usage, configuration or I/O error */
	EXIT_REFUSED = 3, /* the operation was refused (exists already, unknown) */
};

#define DEFAULT_LISTEN "127.0.0.1:7380"

static void usage(FILE *f)
{
	fputs("usage: parley-witness init --name NAME --data DIR\n"
	      "       parley-witness log add ORIGIN --vkey VKEY --data DIR\n"
	      "       parley-witness log list --data DIR\n"
	      "       parley-witness serve --data DIR [--listen HOST:PORT] [--threads N]\n"
	      "                            [--max-connections N] [--max-per-ip N] [--timeout S]\n"
	      "       parley-witness --help | --version\n"
	      "\n"
	      "VKEY is a log's verifier key (text form, or a file holding it). The witness\n"
	      "cosigns a log's checkpoints (c2sp.org/tlog-witness) only when each is\n"
	      "consistent with the last one it cosigned. See parley-witness(8).\n"
	      "Exit status: 0 ok, 2 usage, configuration or I/O error, 3 refused.\n",
	      f);
}

static void fail(const char *what, int err, const char *detail)
{
	fprintf(stderr, "parley-witness: %s: %s%s%s\n", what, pl_strerror(err),
	        detail && *detail ? ": " : "", detail ? detail : "");
}

static int open_witness(struct pl_witness **w, const char *dir)
{
	struct pl_buf err;
	int ret;

	pl_buf_init(&err, 1024);
	ret = pl_witness_open(w, dir, &err);
	if (ret)
		fail(dir, ret, ret == PL_ENOTFOUND ? "no witness here (run init)" : err.data);
	pl_buf_release(&err);
	return ret;
}

static int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"name", required_argument, NULL, 'n'},
	        {"data", required_argument, NULL, 'd'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct pl_vkey vk;
	struct pl_buf text;
	const char *name = NULL, *dir = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, "n:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!name || !dir || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "parley-witness: %s: %s\n", dir, strerror(errno));
		return EXIT_USAGE;
	}
	ret = pl_witness_create(dir, name, &vk);
	if (ret) {
		fail(dir, ret,
		     ret == PL_EINVAL   ? "not a valid key name"
		     : ret == PL_EEXIST ? "already holds a witness"
		                        : NULL);
		return ret == PL_EEXIST ? EXIT_REFUSED : EXIT_USAGE;
	}
	pl_buf_init(&text, 1024);
	ret = pl_vkey_format(&vk, &text);
	if (!ret)
		printf("%s\n", text.data);
	pl_buf_release(&text);
	return ret ? EXIT_USAGE : EXIT_OK;
}

static int cmd_log_add(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"vkey", required_argument, NULL, 'v'},
	        {"data", required_argument, NULL, 'd'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct pl_witness *w = NULL;
	struct pl_vkey vk;
	const char *vkey = NULL, *dir = NULL, *origin;
	int c, ret, code = EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "v:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			vkey = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!vkey || !dir || argc - optind != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	origin = argv[optind];
	ret = pl_vkey_parse(&vk, vkey, strlen(vkey));
	if (ret)
		ret = pl_vkey_load(&vk, vkey);
	if (ret) {
		fail("--vkey", ret, vkey);
		return EXIT_USAGE;
	}
	if (vk.type != PL_SIGTYPE_ED25519) {
		fail("--vkey", PL_EKEY, "a log key is an Ed25519 key (type 0x01)");
		return EXIT_USAGE;
	}
	if (open_witness(&w, dir) != 0)
		return EXIT_USAGE;
	ret = pl_witness_log_add(w, origin, &vk);
	if (ret) {
		fail(origin, ret,
		     ret == PL_EINVAL   ? "not a valid origin"
		     : ret == PL_EEXIST ? "this key is already listed for the log"
		                        : NULL);
		code = ret == PL_EEXIST ? EXIT_REFUSED : EXIT_USAGE;
		goto out;
	}
	printf("witnessing %s key %s\n", origin, vk.name);
	code = EXIT_OK;
out:
	pl_witness_close(w);
	return code;
}

static int cmd_log_list(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"data", required_argument, NULL, 'd'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct pl_witness *w = NULL;
	struct pl_witness_log *logs = NULL;
	const char *dir = NULL;
	size_t n = 0;
	int c, ret;

	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!dir || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (open_witness(&w, dir) != 0)
		return EXIT_USAGE;
	ret = pl_witness_log_list(w, &logs, &n);
	if (ret) {
		fail(dir, ret, NULL);
	} else {
		for (size_t i = 0; i < n; i++) {
			char root[PL_HASH_B64_LEN + 1];
			pl_b64_encode(root, logs[i].root, PL_HASH_BYTES);
			printf("%s size %" PRIu64 " root %s keys %zu\n", logs[i].origin,
			       logs[i].size, root, logs[i].nkeys);
		}
	}
	free(logs);
	pl_witness_close(w);
	return ret ? EXIT_USAGE : EXIT_OK;
}

/* Written by the signal handler, read by cmd_serve(): the only async-signal-safe way. */
static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (stop_pipe[1] >= 0)
		(void)!write(stop_pipe[1], &b, 1);
	errno = saved;
}

/* Blocks until SIGTERM or SIGINT; returns its number. */
static int wait_for_signal(void)
{
	struct pollfd p = {.fd = stop_pipe[0], .events = POLLIN};
	unsigned char b = 0;

	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (read(stop_pipe[0], &b, 1) == 1)
			return b;
	}
}

/* Parses a positive count option, at most max. */
static int parse_count(const char *s, uint64_t max, unsigned *out)
{
	uint64_t v;

	if (pl_parse_u64(&v, s, strlen(s), max) != 0 || v == 0)
		return PL_EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"data", required_argument, NULL, 'd'},
	        {"listen", required_argument, NULL, 'l'},
	        {"threads", required_argument, NULL, 't'},
	        {"max-connections", required_argument, NULL, 'm'},
	        {"max-per-ip", required_argument, NULL, 'p'},
	        {"timeout", required_argument, NULL, 'T'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct pl_witness_http_config cfg = {
	        .listen = DEFAULT_LISTEN,
	        .threads = 2,
	        .max_connections = 256,
	        .max_per_ip = 64,
	        .timeout = 30,
	};
	struct pl_witness *w = NULL;
	struct pl_witness_http *h = NULL;
	struct sigaction sa, old_term, old_int;
	struct pl_buf err;
	const char *dir = NULL;
	int c, sig, ret, code = EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "d:l:t:m:p:T:h", opts, NULL)) != -1) {
		ret = 0;
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'l':
			cfg.listen = optarg;
			break;
		case 't':
			ret = parse_count(optarg, 64, &cfg.threads);
			break;
		case 'm':
			ret = parse_count(optarg, 65536, &cfg.max_connections);
			break;
		case 'p':
			ret = parse_count(optarg, 65536, &cfg.max_per_ip);
			break;
		case 'T':
			ret = parse_count(optarg, 3600, &cfg.timeout);
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			ret = PL_EINVAL;
			break;
		}
		if (ret) {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!dir || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	pl_buf_init(&err, 512);
	if (open_witness(&w, dir) != 0)
		goto out;
	if (pipe(stop_pipe) != 0) {
		fail("pipe", PL_EIO, strerror(errno));
		goto out;
	}
	fcntl(stop_pipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(stop_pipe[1], F_SETFD, FD_CLOEXEC);
	fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
	signal(SIGPIPE, SIG_IGN);
	ret = pl_witness_http_start(&h, w, &cfg, &err);
	if (ret) {
		pl_witness_log("error", "serve", "msg=\"%s\"",
		               err.data ? err.data : pl_strerror(ret));
	} else {
		pl_witness_log("info", "serve", "msg=\"listening\" listen=%s port=%u name=%s",
		               cfg.listen, (unsigned)pl_witness_http_port(h),
		               pl_witness_vkey(w)->name);
		sig = wait_for_signal();
		pl_witness_log("info", "serve", "msg=\"stopping\" signal=%d", sig);
		pl_witness_http_stop(h);
		code = EXIT_OK;
	}
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	stop_pipe[0] = stop_pipe[1] = -1;
out:
	pl_witness_close(w);
	pl_buf_release(&err);
	return code;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fputs("parley-witness: cannot initialise libsodium\n", stderr);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("parley-witness %s\n", PARLEY_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "log") == 0 && argc >= 3 && strcmp(argv[2], "add") == 0)
		return cmd_log_add(argc - 2, argv + 2);
	if (strcmp(argv[1], "log") == 0 && argc >= 3 && strcmp(argv[2], "list") == 0)
		return cmd_log_list(argc - 2, argv + 2);
	fprintf(stderr, "parley-witness: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
