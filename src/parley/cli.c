/* Shared plumbing of the parley tool: messages, option parsing, bounded reads, key arguments. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <parley/encoding.h>
#include <parley/error.h>

#include "banned.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("parley: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "parley %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'parley %s --help'.\n", cmd);
	return PL_EXIT_USAGE;
}

void cli_getopt_reset(void)
{
#ifdef __GLIBC__
	optind = 0; /* glibc: also forget the state of a previous scan */
#else
	optind = 1;
#endif
	opterr = 0; /* each verb prints its own message */
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";

	if (c == ':')
		cli_usage(cmd, "option '%s' needs an argument", arg);
	else if (optopt)
		cli_usage(cmd, "unknown option '-%c'", optopt);
	else
		cli_usage(cmd, "unknown option '%s'", arg);
	return PL_EXIT_USAGE;
}

int cli_operands(const char *cmd, int argc, char **argv, const char **id)
{
	if (id && argc - optind != 1)
		return cli_usage(cmd, argc == optind ? "missing the record ID"
		                                     : "more than one record ID");
	if (!id && optind != argc)
		return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (id)
		*id = argv[optind];
	return PL_EXIT_OK;
}

int cli_profile_json_opts(const char *cmd, const char *help, int argc, char **argv,
                          const char **profile, bool *json, const char **id)
{
	static const struct option opts[] = {
	        {"profile", required_argument, NULL, 'P'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, ":P:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			*profile = optarg;
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs(help, stdout);
			return PL_EXIT_OK;
		default:
			return cli_bad_option(cmd, c, argv);
		}
	}
	return cli_operands(cmd, argc, argv, id) ? PL_EXIT_USAGE : -1;
}

int cli_read_fd(int fd, size_t max, struct pl_buf *out)
{
	char chunk[8192];
	ssize_t n;
	int ret = 0;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = PL_EIO;
			goto out;
		}
		if (n == 0)
			break;
		if ((size_t)n > max || out->len > max - (size_t)n) {
			ret = PL_ETOOBIG;
			goto out;
		}
		ret = pl_buf_add(out, chunk, (size_t)n);
		if (ret)
			goto out;
	}
out:
	return ret;
}

int cli_read_path(const char *what, const char *path, size_t max, struct pl_buf *out)
{
	int fd = -1, ret = PL_EXIT_USAGE, err;
	bool is_stdin = strcmp(path, "-") == 0;
	const char *shown = is_stdin ? "(stdin)" : path;

	if (is_stdin) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("%s %s: %s", what, shown, strerror(errno));
			goto out;
		}
	}
	err = cli_read_fd(fd, max, out);
	if (err == PL_ETOOBIG) {
		cli_error("%s %s: longer than the limit of %zu bytes", what, shown, max);
		goto out;
	}
	if (err) {
		cli_error("%s %s: %s", what, shown, cli_strerror(err));
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	if (fd >= 0 && !is_stdin)
		close(fd);
	return ret;
}

/* The longest verifier key text: name, '+', 8 hex digits, '+', base64 of type || key. */
#define CLI_VKEY_TEXT_MAX (PL_KEY_NAME_MAX + 2 + 8 + PL_B64_LEN(1 + PL_ED25519_PK_BYTES))

int cli_vkey_arg(const char *arg, struct pl_vkey *vk)
{
	struct pl_buf text;
	int ret = PL_EXIT_USAGE, err;

	pl_buf_init(&text, CLI_VKEY_TEXT_MAX + 1);
	/* Key text first: a valid key text is never the name of the file that holds one. */
	err = pl_vkey_parse(vk, arg, strlen(arg));
	if (err == 0) {
		ret = PL_EXIT_OK;
		goto out;
	}
	if (access(arg, F_OK) != 0 && strchr(arg, '+')) {
		cli_error("verifier key %s: %s", arg, pl_strerror(err));
		goto out;
	}
	if (cli_read_path("verifier key file", arg, CLI_VKEY_TEXT_MAX + 1, &text))
		goto out;
	/* One line, an optional final newline. */
	if (text.len > 0 && text.data[text.len - 1] == '\n')
		text.len--;
	err = pl_vkey_parse(vk, text.data ? text.data : "", text.len);
	if (err) {
		cli_error("verifier key file %s: %s", arg, pl_strerror(err));
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	pl_buf_release(&text);
	return ret;
}

int cli_skey_file(const char *path, struct pl_skey *sk)
{
	int err = pl_skey_load(sk, path);

	if (err == PL_EIO)
		cli_error("signer key file %s: %s", path, strerror(errno));
	else if (err == PL_EDENIED)
		cli_error("signer key file %s: readable by others; make it private (chmod 600)",
		          path);
	else if (err)
		cli_error("signer key file %s: %s", path, pl_strerror(err));
	return err ? PL_EXIT_USAGE : PL_EXIT_OK;
}

int cli_write_stdout(const char *s, size_t len)
{
	int ret = PL_EXIT_OK;

	if (len && fwrite(s, 1, len, stdout) != len) {
		cli_error("standard output: %s", strerror(errno));
		ret = PL_EXIT_USAGE;
	}
	return ret;
}

const char *cli_strerror(int err)
{
	return err == PL_EIO && errno != 0 ? strerror(errno) : pl_strerror(err);
}
