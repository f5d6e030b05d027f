/* parley: the command-line tool. Parses the global options and hands the rest to a verb. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "banned.h"

#ifndef PARLEY_VERSION
#define PARLEY_VERSION "unknown"
#endif

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
        {"keygen", cmd_keygen, "make a signing key, or a whole party identity"},
        {"note", cmd_note, "sign and verify signed notes"},
        {"log", cmd_log, "check evidence from a transparency log"},
};

static void usage(FILE *f)
{
	fputs("usage: parley [--help | --version] <verb> [<args>]\n"
	      "\n"
	      "Verbs:\n",
	      f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fputs("\n"
	      "'parley <verb> --help' describes a verb. Exit status: 0 ok, 1 the evidence does\n"
	      "not hold, 2 usage or I/O error, 3 the exchange refused. See parley(1).\n",
	      f);
}

/* Flushes stdout so that a failed write (a full disk, a closed pipe) is not reported as success. */
static int finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("standard output: %s", strerror(errno));
		if (code == PL_EXIT_OK)
			code = PL_EXIT_USAGE;
	}
	return code;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	const struct verb *verb = NULL;
	int c, ret;

	if (sodium_init() < 0) {
		cli_error("cannot initialise libsodium");
		ret = PL_EXIT_USAGE;
		goto out;
	}
	cli_getopt_reset();
	/* "+": stop at the verb, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			ret = PL_EXIT_OK;
			goto out;
		case 'V':
			printf("parley %s\n", PARLEY_VERSION);
			ret = PL_EXIT_OK;
			goto out;
		default:
			if (optopt)
				cli_error("unknown option '-%c'", optopt);
			else
				cli_error("unknown option '%s'", argv[optind - 1]);
			usage(stderr);
			ret = PL_EXIT_USAGE;
			goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[optind], verbs[i].name) == 0)
			verb = &verbs[i];
	}
	if (!verb) {
		cli_error("unknown verb '%s'", argv[optind]);
		usage(stderr);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	argc -= optind;
	argv += optind;
	cli_getopt_reset();
	ret = verb->run(argc, argv);
out:
	return finish(ret);
}
