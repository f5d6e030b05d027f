/* parley-witness: a transparency-log witness's command line: init, log add/list, serve. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/encoding.h>
#include <parley/key.h>
#include <parley/witness.h>

#include "daemon/cli.h"
#include "daemon/log.h"
#include "daemon/serve.h"
#include "http.h"
#include "banned.h"

#ifndef PARLEY_VERSION
#define PARLEY_VERSION "unknown"
#endif

/* Exit codes, documented in parley-witness(8). */
enum {
	EXIT_OK = PL_DAEMON_EXIT_OK,
	EXIT_USAGE = PL_DAEMON_EXIT_USAGE, /* usage, configuration or I/O error */
	/* the operation was refused (exists already, unknown) */
	EXIT_REFUSED = PL_DAEMON_EXIT_REFUSED,
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

static int open_witness(struct pl_witness **w, const char *dir)
{
	struct pl_buf err;
	int ret;

	pl_buf_init(&err, 1024);
	ret = pl_witness_open(w, dir, &err);
	if (ret)
		pl_daemon_fail(dir, ret,
		               ret == PL_ENOTFOUND ? "no witness here (run init)" : err.data);
	pl_buf_release(&err);
	return ret;
}

static int cmd_init(int argc, char **argv)
{
	const char *name = NULL, *dir = NULL;
	const struct pl_daemon_opt opts[] = {
	        {.name = "name", .letter = 'n', .str = &name},
	        {.name = "data", .letter = 'd', .str = &dir},
	        {.name = NULL},
	};
	struct pl_vkey vk;
	int code, ret;

	if (!pl_daemon_cli_opts(argc, argv, opts, &code))
		return code;
	if (!name || !dir || optind != argc)
		return pl_daemon_cli_usage_error();
	if (pl_daemon_data_dir_make(dir) != 0)
		return EXIT_USAGE;
	ret = pl_witness_create(dir, name, &vk);
	if (ret)
		return pl_daemon_init_failed(dir, ret, "not a valid key name",
		                             "already holds a witness");
	return pl_daemon_vkey_print(&vk);
}

static int cmd_log_add(int argc, char **argv)
{
	const char *vkey = NULL, *dir = NULL, *origin;
	const struct pl_daemon_opt opts[] = {
	        {.name = "vkey", .letter = 'v', .str = &vkey},
	        {.name = "data", .letter = 'd', .str = &dir},
	        {.name = NULL},
	};
	struct pl_witness *w = NULL;
	struct pl_vkey vk;
	int ret, code = EXIT_USAGE;

	if (!pl_daemon_cli_opts(argc, argv, opts, &code))
		return code;
	if (!vkey || !dir || argc - optind != 1)
		return pl_daemon_cli_usage_error();
	origin = argv[optind];
	if (pl_daemon_vkey_arg(&vk, vkey) != 0)
		return EXIT_USAGE;
	if (vk.type != PL_SIGTYPE_ED25519) {
		pl_daemon_fail("--vkey", PL_EKEY, "a log key is an Ed25519 key (type 0x01)");
		return EXIT_USAGE;
	}
	if (open_witness(&w, dir) != 0)
		return EXIT_USAGE;
	ret = pl_witness_log_add(w, origin, &vk);
	if (ret) {
		pl_daemon_fail(origin, ret,
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
	const char *dir = NULL;
	const struct pl_daemon_opt opts[] = {
	        {.name = "data", .letter = 'd', .str = &dir},
	        {.name = NULL},
	};
	struct pl_witness *w = NULL;
	struct pl_witness_log *logs = NULL;
	size_t n = 0;
	int code, ret;

	if (!pl_daemon_cli_opts(argc, argv, opts, &code))
		return code;
	if (!dir || optind != argc)
		return pl_daemon_cli_usage_error();
	if (open_witness(&w, dir) != 0)
		return EXIT_USAGE;
	ret = pl_witness_log_list(w, &logs, &n);
	if (ret) {
		pl_daemon_fail(dir, ret, NULL);
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

static int cmd_serve(int argc, char **argv)
{
	struct pl_witness_http_config cfg = {
	        .listen = DEFAULT_LISTEN,
	        .threads = 2,
	        .max_connections = 256,
	        .max_per_ip = 64,
	        .timeout = 30,
	};
	const char *dir = NULL;
	const struct pl_daemon_opt opts[] = {
	        {.name = "data", .letter = 'd', .str = &dir},
	        {.name = "listen", .letter = 'l', .str = &cfg.listen},
	        {.name = "threads", .letter = 't', .count = &cfg.threads, .max = 64},
	        {.name = "max-connections",
	         .letter = 'm',
	         .count = &cfg.max_connections,
	         .max = 65536},
	        {.name = "max-per-ip", .letter = 'p', .count = &cfg.max_per_ip, .max = 65536},
	        {.name = "timeout", .letter = 'T', .count = &cfg.timeout, .max = 3600},
	        {.name = NULL},
	};
	struct pl_witness *w = NULL;
	struct pl_witness_http *h = NULL;
	struct pl_buf err;
	int sig, ret, code = EXIT_USAGE;

	if (!pl_daemon_cli_opts(argc, argv, opts, &code))
		return code;
	if (!dir || optind != argc)
		return pl_daemon_cli_usage_error();
	pl_buf_init(&err, 512);
	if (open_witness(&w, dir) != 0)
		goto out;
	if (pl_daemon_signals_install() != 0) {
		pl_daemon_fail("pipe", PL_EIO, strerror(errno));
		goto out;
	}
	ret = pl_witness_http_start(&h, w, &cfg, &err);
	if (ret) {
		pl_daemon_log("error", "serve", "msg=\"%s\"",
		              err.data ? err.data : pl_strerror(ret));
	} else {
		pl_daemon_log("info", "serve", "msg=\"listening\" listen=%s port=%u name=%s",
		              cfg.listen, (unsigned)pl_witness_http_port(h),
		              pl_witness_vkey(w)->name);
		sig = pl_daemon_signals_wait();
		pl_daemon_log("info", "serve", "msg=\"stopping\" signal=%d", sig);
		pl_witness_http_stop(h);
		code = EXIT_OK;
	}
	pl_daemon_signals_restore();
out:
	pl_witness_close(w);
	pl_buf_release(&err);
	return code;
}

int main(int argc, char **argv)
{
	static const struct pl_daemon_cmd cmds[] = {
	        {"init", NULL, cmd_init},    {"serve", NULL, cmd_serve},
	        {"log", "add", cmd_log_add}, {"log", "list", cmd_log_list},
	        {NULL, NULL, NULL},
	};
	static const struct pl_daemon_cli cli = {
	        .name = "parley-witness",
	        .version = PARLEY_VERSION,
	        .usage = usage,
	        .cmds = cmds,
	};

	return pl_daemon_cli_main(&cli, argc, argv);
}
