/* Shared plumbing of the parley tool: exit codes, messages, bounded reads, key arguments. */
#ifndef PARLEY_CLI_H
#define PARLEY_CLI_H

#include <stdbool.h>
#include <stddef.h>

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
int cmd_send(int argc, char **argv);
int cmd_convey(int argc, char **argv);
int cmd_decline(int argc, char **argv);
int cmd_accept(int argc, char **argv);
int cmd_refuse(int argc, char **argv);
int cmd_statement(int argc, char **argv);
int cmd_consult(int argc, char **argv);
int cmd_advise(int argc, char **argv);
int cmd_inbox(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_parties(int argc, char **argv);
/* parley log checkpoint, called by cmd_log() with the arguments after "log". */
int cmd_log_checkpoint(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_thread(int argc, char **argv);
/* parley log audit, called by cmd_log() with the arguments after "log". */
int cmd_log_audit(int argc, char **argv);
/* parley dossier (export a thread's offline evidence) and parley verify (check one). */
int cmd_dossier(int argc, char **argv);
int cmd_verify(int argc, char **argv);
/* parley line availability: how the ends of a direct line answered its checks. */
int cmd_line(int argc, char **argv);

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

/*
 * Reports what getopt_long() returned c ('?' or ':', the option string
 * starting with ':') complained about, and returns PL_EXIT_USAGE.
 */
int cli_bad_option(const char *cmd, int c, char **argv);

/*
 * Checks the operands left after getopt_long(): with id non-NULL exactly one,
 * the record ID, stored in *id; otherwise none. Returns PL_EXIT_OK, or
 * PL_EXIT_USAGE after printing what is wrong.
 */
int cli_operands(const char *cmd, int argc, char **argv, const char **id);

/*
 * Parses the options of a verb that takes only --profile, --json and --help
 * (help is its --help text), then its operands as cli_operands() does (id:
 * where the one record ID goes, or NULL for none). Returns -1 to go on;
 * otherwise the verb's exit code (0 after --help).
 */
int cli_profile_json_opts(const char *cmd, const char *help, int argc, char **argv,
                          const char **profile, bool *json, const char **id);

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
 * Writes s[0..len) to stdout and reports a write error. Returns PL_EXIT_OK
 * or PL_EXIT_USAGE.
 */
int cli_write_stdout(const char *s, size_t len);

/*
 * Describes a library error for a message; for PL_EIO adds the system's
 * reason (errno as left by the failing call).
 */
const char *cli_strerror(int err);

#endif
