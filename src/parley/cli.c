/* Shared plumbing of the parley tool: messages, option parsing, bounded reads, key arguments. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <jansson.h>

#include <parley/encoding.h>
#include <parley/limits.h>
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

/* Most options of one verb, --help not counted. */
#define CLI_OPTS_MAX 32
/* The getopt_long() value of the long-only option i of a table. */
#define CLI_LONG_VAL(i) (0x100 + (int)(i))
/* The column where the options' descriptions start in --help, at the most. */
#define CLI_HELP_COLUMN 24

static bool opt_is_for(const struct cli_verb *v, const struct cli_opt *o)
{
	return !o->only || (o->only & v->bit);
}

static bool opt_takes_arg(const struct cli_opt *o)
{
	return o->kind != CLI_FLAG && o->kind != CLI_UNFLAG;
}

/* Formats "  -x, --name ARG" of o (of --help when o is NULL) into out; returns its width. */
static int opt_head(char out[static 64], const struct cli_opt *o)
{
	if (!o)
		return snprintf(out, 64, "  -h, --help");
	if (o->short_name)
		return snprintf(out, 64, "  -%c, --%s%s%s", o->short_name, o->name,
		                o->arg ? " " : "", o->arg ? o->arg : "");
	return snprintf(out, 64, "      --%s%s%s", o->name, o->arg ? " " : "",
	                o->arg ? o->arg : "");
}

/* Writes one option's line: its head, then its text from column col, each '\n' indented. */
static void opt_line(FILE *f, int col, const struct cli_opt *o, const char *text)
{
	char head[64];
	int at = opt_head(head, o);

	fputs(head, f);
	if (at + 2 > col) {
		fputc('\n', f);
		at = 0;
	}
	fprintf(f, "%*s", col - at, "");
	for (const char *p = text; *p; p++) {
		fputc(*p, f);
		if (*p == '\n')
			fprintf(f, "%*s", col, "");
	}
	fputc('\n', f);
}

void cli_help(FILE *f, const struct cli_verb *v, const struct cli_opt *opts)
{
	char head[64];
	int col = 14, w;

	for (size_t i = 0; opts && opts[i].name; i++) {
		w = opt_is_for(v, &opts[i]) ? opt_head(head, &opts[i]) + 2 : 0;
		if (w > col && w <= CLI_HELP_COLUMN)
			col = w;
	}
	fprintf(f, "usage: parley %s %s\n\n%s\nOptions:\n", v->name, v->synopsis, v->about);
	for (size_t i = 0; opts && opts[i].name; i++) {
		if (opt_is_for(v, &opts[i]))
			opt_line(f, col, &opts[i], opts[i].help);
	}
	opt_line(f, col, NULL, "show this help");
	if (v->status)
		fprintf(f, "\n%s", v->status);
}

/* Takes the argument of option o. Returns -1 to go on, else the exit code. */
static int opt_take(const struct cli_verb *v, const struct cli_opt *o, const char *arg)
{
	size_t len = arg ? strlen(arg) : 0;
	const char *p;
	uint64_t u;
	int ret = -1;

	switch (o->kind) {
	case CLI_FLAG:
	case CLI_UNFLAG:
		*(bool *)o->to = o->kind == CLI_FLAG;
		break;
	case CLI_STR:
		*(const char **)o->to = arg;
		break;
	case CLI_LIST:
	case CLI_VKEY:
		if (*o->n == o->max)
			return cli_usage(v->name, "more than %llu --%s", (unsigned long long)o->max,
			                 o->name);
		if (o->kind == CLI_LIST)
			((const char **)o->to)[*o->n] = arg;
		else if (cli_vkey_arg(arg, &((struct pl_vkey *)o->to)[*o->n]))
			return PL_EXIT_USAGE;
		(*o->n)++;
		break;
	case CLI_UINT:
		if (pl_parse_u64(&u, arg, len, o->max) != 0 || u < o->min)
			return cli_usage(v->name, "--%s '%s': not a number from %llu to %llu",
			                 o->name, arg, (unsigned long long)o->min,
			                 (unsigned long long)o->max);
		*(uint64_t *)o->to = u;
		if (o->given)
			*o->given = true;
		break;
	case CLI_CHOICE:
		for (p = o->choices; p; p = strchr(p, '|'), p = p ? p + 1 : NULL) {
			if (strncmp(p, arg, len) == 0 && (p[len] == '|' || p[len] == '\0')) {
				*(const char **)o->to = arg;
				return -1;
			}
		}
		return cli_usage(v->name, "--%s '%s': one of %s", o->name, arg, o->choices);
	case CLI_CALL:
		ret = o->call(o->to, arg);
		if (ret == 0)
			ret = -1;
		break;
	}
	return ret;
}

/* Says what getopt_long() returned c for ('?' or ':') and returns PL_EXIT_USAGE. */
static int bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";

	if (c == ':')
		return cli_usage(cmd, "option '%s' needs an argument", arg);
	if (optopt > 0 && optopt < 0x100)
		return cli_usage(cmd, "unknown option '-%c'", optopt);
	return cli_usage(cmd, "unknown option '%s'", arg);
}

int cli_parse(const struct cli_verb *v, const struct cli_opt *opts, int argc, char **argv,
              const char **operand)
{
	struct option lo[CLI_OPTS_MAX + 2];
	char shorts[3 * CLI_OPTS_MAX + 4] = ":h";
	size_t nlo = 0, ns = 2, i;
	int c;

	for (i = 0; opts[i].name && nlo < CLI_OPTS_MAX; i++) {
		if (!opt_is_for(v, &opts[i]))
			continue;
		lo[nlo].name = opts[i].name;
		lo[nlo].has_arg = opt_takes_arg(&opts[i]) ? required_argument : no_argument;
		lo[nlo].flag = NULL;
		lo[nlo].val = opts[i].short_name ? opts[i].short_name : CLI_LONG_VAL(i);
		nlo++;
		if (opts[i].short_name) {
			shorts[ns++] = opts[i].short_name;
			if (opt_takes_arg(&opts[i]))
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = '\0';
	lo[nlo++] = (struct option){"help", no_argument, NULL, 'h'};
	lo[nlo] = (struct option){NULL, 0, NULL, 0};
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		int ret = -1;

		if (c == 'h') {
			cli_help(stdout, v, opts);
			return PL_EXIT_OK;
		}
		for (i = 0; opts[i].name; i++) {
			if (opt_is_for(v, &opts[i]) &&
			    c == (opts[i].short_name ? opts[i].short_name : CLI_LONG_VAL(i)))
				break;
		}
		if (c == '?' || c == ':' || !opts[i].name)
			return bad_option(v->name, c, argv);
		ret = opt_take(v, &opts[i], optarg);
		if (ret >= 0)
			return ret;
	}
	if (v->own_operands)
		return -1;
	if (v->operand && argc - optind != 1)
		return cli_usage(v->name, argc == optind ? "missing the %s" : "more than one %s",
		                 v->operand);
	if (!v->operand && optind != argc)
		return cli_usage(v->name, "unexpected argument '%s'", argv[optind]);
	if (v->operand)
		*operand = argv[optind];
	return -1;
}

int cli_parse_profile_json(const struct cli_verb *v, int argc, char **argv, const char **profile,
                           bool *json, const char **operand)
{
	const struct cli_opt opts[] = {
	        CLI_OPT_PROFILE(profile),
	        CLI_OPT_JSON(json, "print one JSON object instead of text"),
	        {0},
	};

	return cli_parse(v, opts, argc, argv, operand);
}

int cli_sub(const char *verb, const struct cli_verb *v, const struct cli_opt *opts, int argc,
            char **argv, const char *const *subs, size_t *which)
{
	char names[256];
	size_t n = 0, len = 0;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		cli_help(stdout, v, opts);
		return PL_EXIT_OK;
	}
	for (n = 0; subs[n]; n++) {
		if (argc >= 2 && strcmp(argv[1], subs[n]) == 0) {
			*which = n;
			return -1;
		}
	}
	names[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
		                        i == 0       ? ""
		                        : i + 1 == n ? " or "
		                                     : ", ",
		                        subs[i]);
	if (argc < 2)
		return cli_usage(verb, "missing sub-command (%s)", names);
	return cli_usage(verb, "unknown sub-command '%s' (%s)", argv[1], names);
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

int cli_print_json(const json_t *j, const char *what)
{
	char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	int ret = PL_EXIT_USAGE;

	if (!text)
		cli_error("%s: cannot format the JSON answer", what);
	else if ((ret = cli_write_stdout(text, strlen(text))) == PL_EXIT_OK)
		ret = cli_write_stdout("\n", 1);
	free(text);
	return ret;
}

const char *cli_strerror(int err)
{
	return err == PL_EIO && errno != 0 ? strerror(errno) : pl_strerror(err);
}

/* ---- Files ---- */

static int write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;
	int ret = 0;

	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -1;
			break;
		}
		off += (size_t)w;
	}
	return ret;
}

/*
 * Writes data[0..len) to path through a temporary file beside it (mode 0644,
 * fsynced, renamed over path, then the directory fsynced), so that a crash
 * leaves the old file or the whole new one, never a part. Returns an exit code.
 */
int cli_write_atomic(const char *what, const char *path, const char *data, size_t len)
{
	char tmp[CLI_PATH_MAX], dir[CLI_PATH_MAX];
	const char *slash = strrchr(path, '/');
	bool made = false;
	int fd = -1, dfd = -1, ret = PL_EXIT_USAGE, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		cli_error("%s %s: the path is too long", what, path);
		goto out;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		cli_error("%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	made = true;
	/* Explicit, so that the umask neither widens nor narrows what a reader is handed. */
	if (fchmod(fd, 0644) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		cli_error("%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	n = close(fd);
	fd = -1;
	if (n != 0 || rename(tmp, path) != 0) {
		cli_error("%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	made = false;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		cli_error("%s %s: written, but its directory cannot be synced: %s", what, path,
		          strerror(errno));
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (made)
		unlink(tmp);
	return ret;
}
