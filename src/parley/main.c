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
        {"init", cmd_init, "make a profile: the exchange, the party, the pinned log key"},
        {"send", cmd_send, "send a message, proposal or letter, sealed to its readers"},
        {"inbox", cmd_inbox, "list the records addressed to this party"},
        {"show", cmd_show, "show a record, its proof, and its content if readable"},
        {"thread", cmd_thread, "the timeline of a message and where it stands"},
        {"convey", cmd_send, "as the intermediary, pass a send on to its recipients"},
        {"decline", cmd_send, "as the intermediary, refuse to pass a send on"},
        {"accept", cmd_send, "as a recipient, accept a send"},
        {"refuse", cmd_send, "as a recipient, refuse a send"},
        {"statement", cmd_send, "make a public statement, citing records"},
        {"consult", cmd_send, "show allies a draft before sending it"},
        {"advise", cmd_send, "answer a consultation: concur, object or noted"},
        {"group", cmd_send, "form or change a coordination group of allies"},
        {"coordination", cmd_coordination, "whether a group's signals were coordinated"},
        {"measures", cmd_measures, "measures, their state and what reciprocates what"},
        {"parties", cmd_parties, "list the exchange's directory"},
        {"statements", cmd_statements, "read and verify public statements, no profile needed"},
        {"agent", cmd_agent, "follow the inbox; open what arrives, then sign receive"},
        {"line", cmd_line, "how the ends of a direct line answered its checks"},
        {"dossier", cmd_dossier, "export a thread's offline evidence to one file"},
        {"verify", cmd_verify, "verify a dossier offline and print its timeline"},
        {"evidence", cmd_evidence, "check a file of evidence that an exchange lied"},
        {"keygen", cmd_keygen, "make a signing key, or a whole party identity"},
        {"note", cmd_note, "sign and verify signed notes"},
        {"log", cmd_log, "check the exchange's log and evidence from a transparency log"},
};

static void usage(FILE *f)
{
	fputs("usage: parley [--help | --version] <verb> [<args>]\n"
	      "\n"
	      "Verbs:\n",
	      f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
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
