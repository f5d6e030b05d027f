/* Shared plumbing of the parley tool: exit codes, messages, bounded reads, key arguments. */
#ifndef PARLEY_CLI_H
#define PARLEY_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <parley/buf.h>
#include <parley/key.h>

/* Exit codes, documented in parley(1). Only main() returns them to the shell. */
enum cli_exit {
	PL_EXIT_OK = 0,      /* done; the evidence holds */
	PL_EXIT_FAIL = 1,    /* verification failed: the evidence does not hold */
	PL_EXIT_USAGE = 2,   /* bad usage, unreadable or malformed input, I/O error */
	PL_EXIT_REFUSED = 3, /* the exchange refused the request */
};

/* Most verifier keys one command accepts on its command line. */
#define CLI_MAX_KEYS 64

/* Most bytes of a path the tool builds from its arguments. */
#define CLI_PATH_MAX 4096

/*
 * The verbs. Each takes the arguments after the verb (argv[0] is the verb
 * itself), prints its own messages and returns an enum cli_exit value.
 */
int cmd_keygen(int argc, char **argv);
int cmd_note(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_init(int argc, char **argv);
/* send and every verb that authors a record: argv[0] says which. */
int cmd_send(int argc, char **argv);
int cmd_inbox(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_parties(int argc, char **argv);
/* parley log checkpoint, called by cmd_log() with the arguments after "log". */
int cmd_log_checkpoint(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_thread(int argc, char **argv);
/* parley log audit, called by cmd_log() with the arguments after "log". */
int cmd_log_audit(int argc, char **argv);
/* parley log proof (cmd_log() again) and parley statements: public evidence (cmd_public.c). */
int cmd_log_proof(int argc, char **argv);
int cmd_statements(int argc, char **argv);
/* parley dossier (export a thread's offline evidence) and parley verify (check one). */
int cmd_dossier(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_evidence(int argc, char **argv);
/* parley line availability: how the ends of a direct line answered its checks. */
int cmd_line(int argc, char **argv);
/* parley coordination: a group's signals over a period, judged; parley measures. */
int cmd_coordination(int argc, char **argv);
int cmd_measures(int argc, char **argv);

/* Prints "parley: <message>\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Prints "parley <cmd>: <message>" and a pointer to --help to stderr and
 * returns PL_EXIT_USAGE, so callers can write `return cli_usage(...)`.
 */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Rewinds getopt_long() so that the next verb parses its own argv from the
 * start. Needed because main() and each verb parse separate argument lists.
 */
void cli_getopt_reset(void);

/* What an option takes, and where cli_parse() puts it (cli_opt.to). */
enum cli_arg {
	CLI_FLAG,   /* no argument: *(bool *)to = true */
	CLI_UNFLAG, /* no argument: *(bool *)to = false */
	CLI_STR,    /* a string: *(const char **)to (the last one given) */
	CLI_LIST,   /* repeatable: ((const char **)to)[(*n)++], at most max */
	CLI_UINT,   /* a whole number from min to max: *(uint64_t *)to, and *given = true */
	CLI_CHOICE, /* one of the words of choices ("concur|object|noted"): *(const char **)to */
	CLI_VKEY, /* repeatable, a verifier key (cli_vkey_arg()): ((struct pl_vkey *)to)[(*n)++] */
	CLI_CALL, /* call(to, arg) returns 0, or an exit code after saying what is wrong */
};

/*
 * One option of a verb: its names, what it takes, where it goes and its line
 * in --help. A verb's options are an array ended by an entry with no name.
 */
struct cli_opt {
	char short_name;  /* 0: a long option only */
	const char *name; /* the long name, without "--" */
	enum cli_arg kind;
	void *to;
	const char *arg;     /* the argument's name in --help ("DIR"); NULL for flags */
	const char *help;    /* what it does; a '\n' continues on an indented line */
	size_t *n;           /* CLI_LIST, CLI_VKEY: how many were given */
	bool *given;         /* CLI_UINT (optional): set when the option is given */
	uint64_t min, max;   /* CLI_UINT: the bounds; CLI_LIST, CLI_VKEY: max is the most */
	const char *choices; /* CLI_CHOICE */
	int (*call)(void *to, const char *arg); /* CLI_CALL */
	unsigned only; /* 0: every verb; else the cli_verb.bit values that take it */
};

/* An option that takes no argument and sets *to (a bool) to true. */
#define CLI_OPT_FLAG(s_, n_, to_, help_)                                                         \
	{                                                                                        \
		.short_name = (s_), .name = (n_), .kind = CLI_FLAG, .to = (to_), .help = (help_) \
	}
/* An option that takes a string, kept in *to (a const char *). */
#define CLI_OPT_STR(s_, n_, to_, arg_, help_)                                                  \
	{                                                                                      \
		.short_name = (s_), .name = (n_), .kind = CLI_STR, .to = (to_), .arg = (arg_), \
		.help = (help_)                                                                \
	}
/* The --profile option, the same in every verb that talks to an exchange. */
#define CLI_OPT_PROFILE(p)                                                                      \
	{                                                                                       \
		.short_name = 'P', .name = "profile", .kind = CLI_STR, .to = (p), .arg = "DIR", \
		.help = "the profile to use (default: $PARLEY_PROFILE, then\n~/.config/parley)" \
	}
/* The --json option; what says what is printed. */
#define CLI_OPT_JSON(j, what)                                                                  \
	{                                                                                      \
		.short_name = 'j', .name = "json", .kind = CLI_FLAG, .to = (j), .help = (what) \
	}

/* One verb's command line and its --help text. */
struct cli_verb {
	const char *name;     /* as typed, in messages and the usage line: "send", "log audit" */
	const char *synopsis; /* the usage line after "usage: parley NAME " (may go on lines) */
	const char *about;    /* what it does, paragraphs ending in a newline */
	const char *status;   /* its exit status paragraph, or NULL */
	const char *operand;  /* the one operand ("record ID", "dossier FILE"), or NULL: none */
	unsigned bit;         /* which verb of a shared option table (cli_opt.only) */
	bool own_operands;    /* the verb checks its operands itself, from argv[optind] */
};

/*
 * Parses a verb's options (argv[0] is the verb) against opts, then its
 * operand: with v->operand exactly one, stored in *operand; otherwise none.
 * --help prints the help made of v and opts. Returns -1 to go on; otherwise
 * the exit code (0 after --help, 2 after saying what is wrong).
 */
int cli_parse(const struct cli_verb *v, const struct cli_opt *opts, int argc, char **argv,
              const char **operand);

/* cli_parse() for a verb whose only options are --profile and --json (one JSON object). */
int cli_parse_profile_json(const struct cli_verb *v, int argc, char **argv, const char **profile,
                           bool *json, const char **operand);

/* Prints the --help text of v with its options to f. */
void cli_help(FILE *f, const struct cli_verb *v, const struct cli_opt *opts);

/*
 * For verb, which has sub-commands (argv[1], one of subs, NULL-terminated):
 * "VERB --help" prints the help of v and opts and returns 0; a missing or
 * unknown sub-command returns 2 after saying so. Returns -1 with *which the
 * index of argv[1] in subs to go on.
 */
int cli_sub(const char *verb, const struct cli_verb *v, const struct cli_opt *opts, int argc,
            char **argv, const char *const *subs, size_t *which);

/*
 * Reads all of fd into out, at most max bytes. Returns 0, PL_ETOOBIG when the
 * input is longer (nothing more is read), PL_EIO (errno kept) or PL_ENOMEM.
 */
int cli_read_fd(int fd, size_t max, struct pl_buf *out);

/*
 * Reads a whole file ("-" means stdin) into out, at most max bytes. On error
 * prints "parley: <what> <path>: <reason>" and returns PL_EXIT_USAGE;
 * returns PL_EXIT_OK on success.
 */
int cli_read_path(const char *what, const char *path, size_t max, struct pl_buf *out);

/*
 * Loads a verifier key given on the command line either as the key text
 * itself (name+keyid+base64) or as the name of a file holding it. Prints the
 * reason and returns PL_EXIT_USAGE when it is neither.
 */
int cli_vkey_arg(const char *arg, struct pl_vkey *vk);

/*
 * Loads a signer key file (private: owner-only permissions). Prints the
 * reason and returns PL_EXIT_USAGE on failure; sk is wiped on failure.
 */
int cli_skey_file(const char *path, struct pl_skey *sk);

/*
 * Writes data[0..len) to path through a temporary file beside it (mode 0644,
 * fsynced, renamed over path, then the directory fsynced), so that a crash
 * leaves the old file or the whole new one, never a part. On failure prints
 * "parley: <what> <path>: <reason>". Returns an exit code.
 */
int cli_write_atomic(const char *what, const char *path, const char *data, size_t len);

/*
 * Writes s[0..len) to stdout and reports a write error. Returns PL_EXIT_OK
 * or PL_EXIT_USAGE.
 */
int cli_write_stdout(const char *s, size_t len);

/*
 * Prints j as indented JSON and a newline on stdout (j is not freed; NULL
 * counts as a failure, so that a failed json_pack() needs no check of its
 * own). what names the answer in the message of a failure. Exit code.
 */
struct json_t;
int cli_print_json(const struct json_t *j, const char *what);

/*
 * Describes a library error for a message; for PL_EIO adds the system's
 * reason (errno as left by the failing call).
 */
const char *cli_strerror(int err);

#endif
