/* The daemons' command lines: dispatch, options, messages and exit codes. */
#include "daemon/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>

#include "internal.h"

#define OPTS_MAX 16 /* options of one command, --help included */

/* The running daemon's command line, for its name and usage in messages. */
static const struct pl_daemon_cli *the_cli;

/* Where this thread's command writes (NULL: stdout and stderr); see pl_daemon_cli_streams(). */
static _Thread_local FILE *t_out, *t_err;

void pl_daemon_cli_streams(FILE *out, FILE *err)
{
	t_out = out;
	t_err = err;
}

FILE *pl_daemon_out(void)
{
	return t_out ? t_out : stdout;
}

FILE *pl_daemon_err(void)
{
	return t_err ? t_err : stderr;
}

static bool cmd_matches(const struct pl_daemon_cmd *c, int argc, char **argv)
{
	if (strcmp(argv[1], c->word) != 0)
		return false;
	return !c->word2 || (argc >= 3 && strcmp(argv[2], c->word2) == 0);
}

int pl_daemon_cli_main(const struct pl_daemon_cli *cli, int argc, char **argv)
{
	the_cli = cli;
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: cannot initialise libsodium\n", cli->name);
		return PL_DAEMON_EXIT_USAGE;
	}
	if (argc < 2)
		return pl_daemon_cli_usage_error();
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli->usage(stdout);
		return PL_DAEMON_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", cli->name, cli->version);
		return PL_DAEMON_EXIT_OK;
	}
	for (const struct pl_daemon_cmd *c = cli->cmds; c->word; c++) {
		int words = c->word2 ? 2 : 1;
		if (cmd_matches(c, argc, argv))
			return c->run(argc - words, argv + words);
	}
	fprintf(stderr, "%s: unknown command '%s'\n", cli->name, argv[1]);
	return pl_daemon_cli_usage_error();
}

/* A positive count, at most max. */
static int parse_count(const char *s, uint64_t max, unsigned *out)
{
	uint64_t v;

	if (pl_parse_u64(&v, s, strlen(s), max) != 0 || v == 0)
		return PL_EINVAL;
	*out = (unsigned)v;
	return 0;
}

bool pl_daemon_cli_opts(int argc, char **argv, const struct pl_daemon_opt *opts, int *code)
{
	struct option lo[OPTS_MAX + 1];
	char so[2 * OPTS_MAX + 1];
	size_t n = 0, k = 0;
	int c;

	for (; opts[n].name && n < OPTS_MAX - 1; n++) {
		lo[n] = (struct option){opts[n].name, required_argument, NULL, opts[n].letter};
		so[k++] = opts[n].letter;
		so[k++] = ':';
	}
	lo[n] = (struct option){"help", no_argument, NULL, 'h'};
	lo[n + 1] = (struct option){NULL, 0, NULL, 0};
	so[k++] = 'h';
	so[k] = '\0';
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct pl_daemon_opt *o = NULL;
		if (c == 'h') {
			the_cli->usage(pl_daemon_out());
			*code = PL_DAEMON_EXIT_OK;
			return false;
		}
		for (size_t i = 0; i < n && !o; i++)
			if (opts[i].letter == c)
				o = &opts[i];
		if (o && o->once && o->str && *o->str) {
			fprintf(pl_daemon_err(), "%s: --%s given more than once\n", the_cli->name,
			        o->name);
			*code = pl_daemon_cli_usage_error();
			return false;
		}
		if (!o || (o->count && parse_count(optarg, o->max, o->count) != 0)) {
			*code = pl_daemon_cli_usage_error();
			return false;
		}
		if (o->str)
			*o->str = optarg;
	}
	return true;
}

int pl_daemon_cli_usage_error(void)
{
	the_cli->usage(pl_daemon_err());
	return PL_DAEMON_EXIT_USAGE;
}

void pl_daemon_fail(const char *what, int err, const char *detail)
{
	fprintf(pl_daemon_err(), "%s: %s: %s%s%s\n", the_cli->name, what, pl_strerror(err),
	        detail && *detail ? ": " : "", detail ? detail : "");
}

int pl_daemon_data_dir_make(const char *dir)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(pl_daemon_err(), "%s: %s: %s\n", the_cli->name, dir, strerror(errno));
		return PL_EIO;
	}
	return 0;
}

int pl_daemon_vkey_arg(struct pl_vkey *vk, const char *arg)
{
	int ret = pl_vkey_parse(vk, arg, strlen(arg));

	if (ret)
		ret = pl_vkey_load(vk, arg);
	if (ret)
		pl_daemon_fail("--vkey", ret, arg);
	return ret;
}

int pl_daemon_init_failed(const char *dir, int err, const char *invalid, const char *exists)
{
	pl_daemon_fail(dir, err, err == PL_EINVAL ? invalid : err == PL_EEXIST ? exists : NULL);
	return err == PL_EEXIST ? PL_DAEMON_EXIT_REFUSED : PL_DAEMON_EXIT_USAGE;
}

int pl_daemon_vkey_print(const struct pl_vkey *vk)
{
	struct pl_buf text;
	int ret;

	pl_buf_init(&text, 1024);
	ret = pl_vkey_format(vk, &text);
	if (!ret)
		fprintf(pl_daemon_out(), "%s\n", text.data);
	pl_buf_release(&text);
	return ret ? PL_DAEMON_EXIT_USAGE : PL_DAEMON_EXIT_OK;
}
