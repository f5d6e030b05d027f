/* What the daemons' command lines share: dispatch, options, messages and exit codes. */
#ifndef PARLEY_DAEMON_CLI_H
#define PARLEY_DAEMON_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <parley/key.h>

/* The exit codes both daemons give the same meaning (parleyd(8), parley-witness(8)). */
enum {
	PL_DAEMON_EXIT_OK = 0,
	PL_DAEMON_EXIT_USAGE = 2,   /* usage, configuration or I/O error */
	PL_DAEMON_EXIT_REFUSED = 3, /* the operation was refused */
};

/* A command: one or two words on the command line, and what runs it. */
struct pl_daemon_cmd {
	const char *word, *word2;          /* word2 NULL for a one-word command */
	int (*run)(int argc, char **argv); /* argv[0] is the last word; returns the exit code */
};

/* A daemon's command line. */
struct pl_daemon_cli {
	const char *name;    /* program name, the prefix of every message */
	const char *version; /* printed by --version */
	void (*usage)(FILE *f);
	const struct pl_daemon_cmd *cmds; /* ends with a NULL word */
};

/*
 * The whole of main(): initialises libsodium, answers --help, -h and
 * --version, and runs the command argv names. cli must outlive the call (its
 * name and usage are used by the functions below). Returns the exit code.
 */
int pl_daemon_cli_main(const struct pl_daemon_cli *cli, int argc, char **argv);

/*
 * An option of a command: --name or -letter with a value, stored either as
 * the string (*str) or as a positive count at most max (*count).
 */
struct pl_daemon_opt {
	const char *name;
	char letter;
	const char **str;
	unsigned *count;
	unsigned max;
	bool once; /* str: given twice is a usage error (*str must start NULL) */
};

/*
 * Parses a command's options (opts ends with a NULL name; --help and -h are
 * added) with getopt_long, leaving optind at the first operand. Returns true to
 * go on; false when the command is over, with *code set: 0 after --help (usage
 * on stdout), 2 after a bad option or value (usage on stderr).
 */
bool pl_daemon_cli_opts(int argc, char **argv, const struct pl_daemon_opt *opts, int *code);

/*
 * Sends what the calling thread's command prints to out and err instead of
 * stdout and stderr (NULL, NULL: back to those): so that one command's code
 * runs either in its own process or for a client inside a daemon
 * (parleyd's control socket), its messages going where they are asked for.
 * Every function below writes through pl_daemon_out() and pl_daemon_err().
 * Thread-local; the streams stay the caller's to close.
 */
void pl_daemon_cli_streams(FILE *out, FILE *err);

/* The calling thread's output and message streams (stdout and stderr unless set). */
FILE *pl_daemon_out(void);
FILE *pl_daemon_err(void);

/* Prints the usage on the message stream; returns PL_DAEMON_EXIT_USAGE. */
int pl_daemon_cli_usage_error(void);

/* Prints "<name>: <what>: <strerror(err)>[: <detail>]" on the message stream. */
void pl_daemon_fail(const char *what, int err, const char *detail);

/*
 * Makes the data directory dir (0700) unless it exists. Returns 0, or PL_EIO
 * after printing "<name>: <dir>: <reason>" on stderr.
 */
int pl_daemon_data_dir_make(const char *dir);

/*
 * Reads the verifier key an option gives (its text form, or a file holding
 * it) into *vk. Returns 0, or the parse or load error after printing
 * "<name>: --vkey: <reason>: <arg>" on stderr.
 */
int pl_daemon_vkey_arg(struct pl_vkey *vk, const char *arg);

/*
 * Reports a failed `init` of the data directory dir: the message names why
 * (invalid for PL_EINVAL, exists for PL_EEXIST). Returns the exit code: 3
 * (refused) when dir already holds one, 2 otherwise.
 */
int pl_daemon_init_failed(const char *dir, int err, const char *invalid, const char *exists);

/* Prints vk's text form and a newline on stdout; returns the exit code (0 or 2). */
int pl_daemon_vkey_print(const struct pl_vkey *vk);

#endif
