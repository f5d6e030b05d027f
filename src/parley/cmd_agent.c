/* parley agent: follows a party's inbox, opens what reaches it, and only then signs `receive`. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/box.h>
#include <parley/client.h>
#include <parley/record.h>
#include <parley/state.h>
#include <parley/timestamp.h>

#include "session.h"
#include "banned.h"

static const char agent_help[] =
        "usage: parley agent [--profile DIR] [--once] [--poll] [--no-answer]\n"
        "                    [--exec CMD [--exec-timeout SECONDS] [--exec-plaintext]]\n"
        "                    [--warn-before DURATION]\n"
        "\n"
        "Runs for the party of the profile: follows its inbox (a stream of server-sent\n"
        "events, or long polls when the exchange does not stream) and prints one line per\n"
        "arriving record. When a send is made available to the party, the agent fetches\n"
        "its payload, opens it with the party's key, checks it against the record's\n"
        "commitment and keeps the opened copy in the local state; only then does it sign\n"
        "and submit a `receive` record. Content it cannot open (the party is not one of\n"
        "the payload's readers, or it does not match its commitment) gets no receive.\n"
        "The draft of a consult naming the party is opened and kept the same way. A line\n"
        "check addressed to the party is answered at once with an `answer` record (unless\n"
        "--no-answer, or its deadline has passed). The\n"
        "agent resumes where it stopped, reconnects with a bounded exponential backoff,\n"
        "and exits cleanly on SIGINT or SIGTERM.\n"
        "\n"
        "Notifications: with --exec, CMD runs (by /bin/sh -c, the command exactly as\n"
        "given) once for each arriving record that another party or the exchange\n"
        "authored, after the agent acted on it, and once for each deadline warning. What\n"
        "happened is in its environment only, never in the command: PARLEY_EVENT\n"
        "(record or deadline), PARLEY_KIND, PARLEY_ID, PARLEY_AUTHOR, PARLEY_THREAD (the\n"
        "record it acts on, answers or cites, else its own id), PARLEY_INDEX,\n"
        "PARLEY_TIME, PARLEY_CLASS, PARLEY_DEADLINE, PARLEY_ROLE, PARLEY_SUMMARY,\n"
        "PARLEY_PARTY and PARLEY_EXCHANGE. Its standard input is empty unless\n"
        "--exec-plaintext; its output goes to the agent's standard error. A hook that\n"
        "fails or outlives --exec-timeout (then killed) is reported and the agent goes\n"
        "on. The agent warns (and runs the hook) once when the deadline of a send to\n"
        "this party, or through it as intermediary, that it saw made available is\n"
        "nearer than --warn-before and this party has recorded no decision on it\n"
        "(accept or refuse; convey or decline).\n"
        "\n"
        "Options:\n"
        "  -P, --profile DIR   the profile to use (default: $PARLEY_PROFILE, then\n"
        "                      ~/.config/parley)\n"
        "      --once          process what is pending in the inbox, then exit\n"
        "      --poll          long-poll the inbox instead of streaming it\n"
        "      --no-answer     do not answer line checks (the exchange then logs them\n"
        "                      as unanswered)\n"
        "      --exec CMD      run CMD for each record and deadline warning (above)\n"
        "      --exec-timeout SECONDS\n"
        "                      kill a hook still running after SECONDS (1 to 3600,\n"
        "                      default 10)\n"
        "      --exec-plaintext\n"
        "                      give the hook the opened content of a message or draft\n"
        "                      on its standard input (by default it never sees it)\n"
        "      --warn-before DURATION\n"
        "                      warn this long before an undecided deadline, e.g. 30m,\n"
        "                      2h, 1d (default 1h; 0s: never)\n"
        "  -h, --help          show this help\n"
        "\n"
        "Exit status: 0 stopped by a signal, or --once done; 1 the exchange showed two\n"
        "histories or a receipt that does not hold; 2 usage or I/O error; 3 the exchange\n"
        "refused the party.\n";

/* The inbox cursor of the agent in the local state (the inbox verb keeps its own). */
#define AGENT_CURSOR "agent"
/* How long one stream or long poll lasts before the agent looks at its signals again. */
#define AGENT_WINDOW_MS 1000
#define AGENT_POLL_S    1
/* Reconnection backoff: from the first delay, doubling, never above the last. */
#define AGENT_BACKOFF_FIRST_MS 250
#define AGENT_BACKOFF_MAX_MS   30000
/* Records taken from one stream before they are processed (the stream then resumes). */
#define AGENT_QUEUE_MAX 64
/* Pages of the inbox --once reads at most (each up to the exchange's page size). */
#define AGENT_ONCE_PAGES 10000
/* getopt_long values of the long-only options. */
#define AGENT_OPT_ONCE      0x200
#define AGENT_OPT_POLL      0x201
#define AGENT_OPT_NO_ANSWER 0x202
#define AGENT_OPT_EXEC      0x203
#define AGENT_OPT_EXEC_TIME 0x204
#define AGENT_OPT_EXEC_PT   0x205
#define AGENT_OPT_WARN      0x206
/* The hook: its default and longest time limit, and how often a running one is looked at. */
#define AGENT_HOOK_TIMEOUT_S     10
#define AGENT_HOOK_TIMEOUT_MAX_S 3600
#define AGENT_HOOK_TICK_MS       10
/* Variables the agent sets for a hook, the bytes of their text, and of PARLEY_SUMMARY. */
#define AGENT_HOOK_VARS        13
#define AGENT_HOOK_VARS_MAX    4096
#define AGENT_HOOK_SUMMARY_MAX 1024
/* Deadline warnings: the default lead, the longest, and how many sends are watched. */
#define AGENT_WARN_BEFORE_S   3600
#define AGENT_WARN_BEFORE_MAX (30 * 86400)
#define AGENT_WATCH_MAX       1024

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* A send to this party (or through it) with a deadline: warned about once, unless decided. */
struct watch {
	uint8_t id[PL_RECORD_ID_BYTES];
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	char author[PL_RECORD_NAME_MAX + 1];
	char cls[16];
	int64_t deadline;
	bool intermediary; /* this party is the send's via: its decision is convey or decline */
	bool done;         /* warned, decided or past */
};

struct agent {
	struct session s;
	uint64_t cursor;
	bool poll;
	bool no_answer;   /* --no-answer: line checks go unanswered */
	const char *exec; /* --exec: the hook's command, for /bin/sh -c */
	unsigned exec_timeout;
	bool exec_plaintext; /* --exec-plaintext: the hook reads the opened content */
	int64_t warn_before; /* --warn-before, seconds */
	struct watch watches[AGENT_WATCH_MAX];
	size_t nwatches;
	/* Records handed over by the stream callback, processed after it returns. */
	struct pl_client_entry q[AGENT_QUEUE_MAX];
	size_t nq;
	int qerr;
};

static void time_text(char out[static PL_TIMESTAMP_LEN + 1], int64_t when)
{
	if (pl_timestamp_format(out, when) != 0)
		snprintf(out, PL_TIMESTAMP_LEN + 1, "%s", "(out of range)");
}

/* Prints and flushes one line, so that a reader of a pipe sees each event as it happens. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* One line per arriving record: index, time, author, kind, id, and what it says. */
static void print_arrival(const struct session_record *sr)
{
	const struct pl_record *r = sr->rec;
	char when[PL_TIMESTAMP_LEN + 1];
	struct pl_buf sum;

	pl_buf_init(&sum, 4096);
	time_text(when, r->time);
	if (session_record_summary(r, &sum) != 0)
		pl_buf_reset(&sum);
	say("#%" PRIu64 " %s %s %s %.16s%s%s", sr->index, when, r->author,
	    pl_record_kind_name(r->kind), sr->hex, sum.len ? ": " : "", sum.len ? sum.data : "");
	pl_buf_release(&sum);
}

/* ---- Notifications: the --exec hook ---- */

/* The variables of one hook run: "NAME=value" strings in one buffer, NULL-terminated. */
struct hook_env {
	char text[AGENT_HOOK_VARS_MAX];
	size_t used;
	char *vars[AGENT_HOOK_VARS + 1];
	size_t n;
};

/* Adds NAME=value (value cut at the buffer's end, never a control character: see below). */
static void hook_set(struct hook_env *h, const char *name, const char *value)
{
	size_t room = sizeof(h->text) - h->used;
	int w = -1;

	/*
	 * Every value comes from a verified record (names, ids, times, a summary
	 * that passed the record grammar: no control character), or the agent.
	 */
	if (h->n < AGENT_HOOK_VARS && room >= 2)
		w = snprintf(h->text + h->used, room, "%s=%s", name, value ? value : "");
	if (w >= 0) {
		h->vars[h->n++] = h->text + h->used;
		h->used += (size_t)w < room ? (size_t)w + 1 : room;
		h->vars[h->n] = NULL;
	}
}

/* True when the environment entry e ("NAME=value") sets one of the hook's variables. */
static bool hook_overrides(const struct hook_env *h, const char *e)
{
	const char *eq = strchr(e, '=');
	size_t n = eq ? (size_t)(eq - e) : strlen(e);
	bool found = false;

	for (size_t i = 0; i < h->n && !found; i++)
		found = strncmp(h->vars[i], e, n) == 0 && h->vars[i][n] == '=';
	return found;
}

/* Writes what is left of in to fd without blocking; closes fd when done or refused. */
static void hook_feed(int *fd, const uint8_t *in, size_t len, size_t *sent)
{
	while (*fd >= 0 && *sent < len) {
		ssize_t w = write(*fd, in + *sent, len - *sent);
		if (w > 0) {
			*sent += (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		break; /* EPIPE: the hook does not read its input */
	}
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Runs the hook once: /bin/sh -c CMD, CMD exactly as the operator gave it,
 * with the agent's environment plus h's variables (what happened reaches the
 * hook only there, never in the command string), in its own process group,
 * standard input in[0..len) or empty, standard output to the agent's standard
 * error. Waits at most the time limit, then kills the group. Whatever the
 * hook does is reported and never stops the agent.
 */
static void hook_run(struct agent *ag, const struct hook_env *h, const uint8_t *in, size_t len)
{
	extern char **environ;
	char *argv[] = {"sh", "-c", (char *)ag->exec, NULL};
	char **envp = NULL;
	size_t nenv = 0, k = 0, sent = 0;
	int pipefd[2] = {-1, -1}, status = 0;
	long maxfd = sysconf(_SC_OPEN_MAX);
	int64_t deadline;
	pid_t pid;
	bool killed = false;

	for (char **e = environ; e && *e; e++)
		nenv++;
	envp = calloc(nenv + h->n + 1, sizeof(*envp));
	if (!envp) {
		say("  hook: out of memory: not run");
		goto out;
	}
	for (char **e = environ; e && *e; e++) {
		if (!hook_overrides(h, *e))
			envp[k++] = *e;
	}
	for (size_t i = 0; i < h->n; i++)
		envp[k++] = h->vars[i];
	envp[k] = NULL;
	if (in && pipe(pipefd) != 0) {
		say("  hook: cannot make its input pipe: %s: not run", strerror(errno));
		goto out;
	}
	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	pid = fork();
	if (pid < 0) {
		say("  hook: cannot start: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* The child: only async-signal-safe calls until execve. */
		int infd = in ? pipefd[0] : open("/dev/null", O_RDONLY);
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		if (infd < 0 || dup2(infd, 0) < 0 || dup2(2, 1) < 0)
			_exit(127);
		for (long fd = 3; fd < maxfd; fd++)
			close((int)fd);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	setpgid(pid, pid); /* also here: whichever runs first, the group exists before a kill */
	if (in) {
		close(pipefd[0]);
		pipefd[0] = -1;
		fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
	}
	deadline = monotonic_ms() + (int64_t)ag->exec_timeout * 1000;
	for (;;) {
		struct timespec tick = {.tv_sec = 0, .tv_nsec = AGENT_HOOK_TICK_MS * 1000000L};
		pid_t w;
		if (pipefd[1] >= 0)
			hook_feed(&pipefd[1], in, len, &sent);
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (monotonic_ms() >= deadline) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			killed = true;
			break;
		}
		nanosleep(&tick, NULL);
	}
	if (killed)
		say("  hook: still running after %u s: killed", ag->exec_timeout);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		say("  hook: done");
	else if (WIFEXITED(status))
		say("  hook: failed with exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		say("  hook: killed by signal %d", WTERMSIG(status));
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(envp);
}

/*
 * The id of the record whose thread this one belongs to: what it acts on,
 * answers or (a statement) first cites; else its own.
 */
static const uint8_t *thread_of(const struct session_record *sr)
{
	const struct pl_record *r = sr->rec;
	enum pl_ref_role role = pl_record_kind_target(r->kind);
	const struct pl_record_ref *ref = role ? pl_record_ref_find(r, role) : NULL;

	if (!ref)
		ref = pl_record_ref_find(r, PL_ROLE_REPLY_TO);
	if (!ref)
		ref = pl_record_ref_find(r, PL_ROLE_CITES);
	return ref ? ref->id : sr->id;
}

/* The hook for one arriving record; the opened content in[0..len) when asked for. */
static void hook_record(struct agent *ag, const struct session_record *sr, const uint8_t *in,
                        size_t len)
{
	static struct hook_env h;
	const struct pl_record *r = sr->rec;
	char idx[24], when[PL_TIMESTAMP_LEN + 1], dl[PL_TIMESTAMP_LEN + 1];
	char thread[PL_RECORD_ID_HEX_LEN + 1];
	struct pl_buf sum;

	memset(&h, 0, sizeof(h));
	pl_buf_init(&sum, 4096);
	if (session_record_summary(r, &sum) != 0)
		pl_buf_reset(&sum);
	/* A long public text is cut, at a character boundary, so every variable fits. */
	if (sum.len > AGENT_HOOK_SUMMARY_MAX) {
		size_t cut = AGENT_HOOK_SUMMARY_MAX;
		while (cut > 0 && ((unsigned char)sum.data[cut] & 0xc0) == 0x80)
			cut--;
		sum.data[cut] = '\0';
		sum.len = cut;
	}
	snprintf(idx, sizeof(idx), "%" PRIu64, sr->index);
	time_text(when, r->time);
	pl_record_id_format(thread, thread_of(sr));
	hook_set(&h, "PARLEY_EVENT", "record");
	hook_set(&h, "PARLEY_KIND", pl_record_kind_name(r->kind));
	hook_set(&h, "PARLEY_ID", sr->hex);
	hook_set(&h, "PARLEY_AUTHOR", r->author);
	hook_set(&h, "PARLEY_THREAD", thread);
	hook_set(&h, "PARLEY_INDEX", idx);
	hook_set(&h, "PARLEY_TIME", when);
	hook_set(&h, "PARLEY_CLASS",
	         (r->has & PL_RECORD_HAS_CLASS) ? pl_record_class_name(r->cls) : "");
	if (r->has & PL_RECORD_HAS_DEADLINE)
		time_text(dl, r->deadline);
	hook_set(&h, "PARLEY_DEADLINE", (r->has & PL_RECORD_HAS_DEADLINE) ? dl : "");
	hook_set(&h, "PARLEY_SUMMARY", sum.data ? sum.data : "");
	hook_set(&h, "PARLEY_PARTY", ag->s.profile.party);
	hook_set(&h, "PARLEY_EXCHANGE", ag->s.profile.exchange);
	pl_buf_release(&sum);
	hook_run(ag, &h, ag->exec_plaintext ? in : NULL, len);
}

/* ---- Deadline warnings ---- */

/* Starts watching a send made available to this party, when it has a deadline. */
static void watch_add(struct agent *ag, const struct session_record *send)
{
	const struct pl_record *r = send->rec;
	struct watch *w = NULL;
	const char *cls = (r->has & PL_RECORD_HAS_CLASS) ? pl_record_class_name(r->cls) : NULL;

	if (r->kind != PL_KIND_SEND || !(r->has & PL_RECORD_HAS_DEADLINE))
		goto out;
	for (size_t i = 0; i < ag->nwatches; i++) {
		if (memcmp(ag->watches[i].id, send->id, PL_RECORD_ID_BYTES) == 0)
			goto out; /* watched already */
		if (!w && ag->watches[i].done)
			w = &ag->watches[i]; /* a finished watch's slot is reused */
	}
	if (!w && ag->nwatches == AGENT_WATCH_MAX) {
		say("  not watching the deadline of %.16s: %d deadlines watched already", send->hex,
		    AGENT_WATCH_MAX);
		goto out;
	}
	if (!w)
		w = &ag->watches[ag->nwatches++];
	memset(w, 0, sizeof(*w));
	memcpy(w->id, send->id, PL_RECORD_ID_BYTES);
	snprintf(w->hex, sizeof(w->hex), "%s", send->hex);
	snprintf(w->author, sizeof(w->author), "%s", r->author);
	snprintf(w->cls, sizeof(w->cls), "%s", cls ? cls : "message");
	w->deadline = r->deadline;
	w->intermediary = (r->has & PL_RECORD_HAS_VIA) && strcmp(r->via, ag->s.profile.party) == 0;
out:
	return;
}

/* True when this party recorded its decision on the watched send (in its local state). */
static bool watch_decided(struct agent *ag, const struct watch *w)
{
	uint8_t act[PL_HASH_BYTES];
	const char *yes = w->intermediary ? "convey" : "accept";
	const char *no = w->intermediary ? "decline" : "refuse";

	return pl_state_act_get(ag->s.state, w->id, yes, act) == 0 ||
	       pl_state_act_get(ag->s.state, w->id, no, act) == 0;
}

/* A record of this party, or the exchange's expiry, that settles a watched send. */
static void watch_settle(struct agent *ag, const struct pl_record *r)
{
	const struct pl_record_ref *ref = pl_record_ref_find(r, PL_ROLE_SUBJECT);
	bool mine = strcmp(r->author, ag->s.profile.party) == 0;
	bool decides = r->kind == PL_KIND_ACCEPT || r->kind == PL_KIND_REFUSE ||
	               r->kind == PL_KIND_CONVEY || r->kind == PL_KIND_DECLINE;

	bool settles = ref && ((mine && decides) || r->kind == PL_KIND_EXPIRE);

	for (size_t i = 0; settles && i < ag->nwatches; i++) {
		if (memcmp(ag->watches[i].id, ref->id, PL_RECORD_ID_BYTES) == 0)
			ag->watches[i].done = true;
	}
}

/* "1h05m", "12m", "40s": how long until a deadline. */
static void span_text(char *out, size_t n, int64_t s)
{
	if (s >= 3600)
		snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, n, "%lldm", (long long)(s / 60));
	else
		snprintf(out, n, "%llds", (long long)s);
}

/*
 * Warns, once each, about the watched sends whose deadline is nearer than
 * --warn-before and on which this party has recorded no decision, and runs
 * the hook for each warning.
 */
static void check_deadlines(struct agent *ag)
{
	static struct hook_env h;
	int64_t now = session_now();

	for (size_t i = 0; i < ag->nwatches; i++) {
		struct watch *w = &ag->watches[i];
		char dl[PL_TIMESTAMP_LEN + 1], left[32], sum[256];
		const char *role = w->intermediary ? "intermediary" : "recipient";
		const char *acts =
		        w->intermediary ? "conveyed nor declined" : "accepted nor refused";
		if (w->done)
			continue;
		if (now >= w->deadline || watch_decided(ag, w)) {
			w->done = true;
			continue;
		}
		if (w->deadline - now > ag->warn_before)
			continue;
		w->done = true;
		time_text(dl, w->deadline);
		span_text(left, sizeof(left), w->deadline - now);
		snprintf(sum, sizeof(sum), "%s from %s: reply by %s (in %s), neither %s", w->cls,
		         w->author, dl, left, acts);
		say("deadline near: the %s %.16s from %s is due at %s (in %s), and %s has neither "
		    "%s it",
		    w->cls, w->hex, w->author, dl, left, ag->s.profile.party, acts);
		if (!ag->exec)
			continue;
		memset(&h, 0, sizeof(h));
		hook_set(&h, "PARLEY_EVENT", "deadline");
		hook_set(&h, "PARLEY_KIND", "send");
		hook_set(&h, "PARLEY_ID", w->hex);
		hook_set(&h, "PARLEY_AUTHOR", w->author);
		hook_set(&h, "PARLEY_THREAD", w->hex);
		hook_set(&h, "PARLEY_CLASS", w->cls);
		hook_set(&h, "PARLEY_DEADLINE", dl);
		hook_set(&h, "PARLEY_ROLE", role);
		hook_set(&h, "PARLEY_SUMMARY", sum);
		hook_set(&h, "PARLEY_PARTY", ag->s.profile.party);
		hook_set(&h, "PARLEY_EXCHANGE", ag->s.profile.exchange);
		hook_run(ag, &h, NULL, 0);
	}
}

/*
 * A send made available to this party: open its payload (the session keeps
 * the opened copy), and only when that worked sign the receive; watch its
 * deadline. When keep is not NULL and the content was opened, *keep and
 * *keep_len receive it (free it with pl_state_plaintext_free()). Returns an
 * exit code; a payload this party cannot read is not an error.
 */
static int receive(struct agent *ag, const uint8_t subject[static PL_RECORD_ID_BYTES],
                   uint8_t **keep, size_t *keep_len)
{
	struct session_record send;
	struct pl_receipt rc;
	struct pl_record *r = NULL;
	char hex[PL_RECORD_ID_HEX_LEN + 1], mine[PL_RECORD_ID_HEX_LEN + 1];
	uint8_t salt[PL_BOX_SALT_BYTES], act[PL_HASH_BYTES];
	uint8_t *pt = NULL;
	size_t len = 0;
	int ret, err;

	memset(&send, 0, sizeof(send));
	memset(&rc, 0, sizeof(rc));
	pl_record_id_format(hex, subject);
	err = pl_state_act_get(ag->s.state, subject, "receive", act);
	if (err == 0) {
		say("  already received %.16s", hex);
		/* From the local cache: its deadline is still watched after a restart. */
		if (session_resolve(&ag->s, hex, &send) == PL_EXIT_OK)
			watch_add(ag, &send);
		ret = PL_EXIT_OK;
		goto out;
	}
	if (err != PL_ENOTFOUND) {
		cli_error("agent: local state: %s", pl_strerror(err));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	ret = session_resolve(&ag->s, hex, &send);
	if (ret)
		goto out;
	if (send.rec->kind != PL_KIND_SEND) {
		say("  %.16s is a %s, not a send: nothing to receive", hex,
		    pl_record_kind_name(send.rec->kind));
		goto out;
	}
	watch_add(ag, &send);
	ret = session_payload(&ag->s, &send, &pt, &len, salt);
	if (ret == PL_EXIT_FAIL) {
		/* The blob and the record are evidence against the sender; no receive. */
		say("  could not open %.16s: it does not hold as sent; no receive signed", hex);
		ret = PL_EXIT_OK;
		goto out;
	}
	if (ret)
		goto out;
	if (!pt) {
		say("  %.16s is not sealed to %s: no receive signed", hex, ag->s.profile.party);
		goto out;
	}
	say("  opened %.16s: %zu bytes, commitment checked, copy kept", hex, len);
	r = calloc(1, sizeof(*r));
	if (!r) {
		cli_error("agent: out of memory");
		ret = PL_EXIT_USAGE;
		goto out;
	}
	r->kind = PL_KIND_RECEIVE;
	r->nrefs = 1;
	r->refs[0].role = PL_ROLE_SUBJECT;
	memcpy(r->refs[0].id, subject, PL_RECORD_ID_BYTES);
	ret = session_submit(&ag->s, r, send.rec->time, "the receive", &rc, NULL);
	if (ret)
		goto out;
	pl_record_id_format(mine, rc.id);
	say("  signed receive #%" PRIu64 " %.16s for %.16s", rc.index, mine, hex);
	if (keep && pt) {
		*keep = pt;
		*keep_len = len;
		pt = NULL;
	}
out:
	if (pt)
		pl_state_plaintext_free(pt, len);
	sodium_memzero(salt, sizeof(salt));
	free(r);
	pl_receipt_release(&rc);
	session_record_release(&send);
	return ret;
}

/*
 * A consult naming this party: open the draft and keep it (there is no
 * receipt for a draft); *keep as for receive().
 */
static int open_draft(struct agent *ag, const struct session_record *sr, uint8_t **keep,
                      size_t *keep_len)
{
	uint8_t salt[PL_BOX_SALT_BYTES];
	uint8_t *pt = NULL;
	size_t len = 0;
	int ret;

	ret = session_payload(&ag->s, sr, &pt, &len, salt);
	if (ret == PL_EXIT_FAIL) {
		say("  could not open the draft %.16s: it does not hold as sent", sr->hex);
		ret = PL_EXIT_OK;
	} else if (ret == PL_EXIT_OK && !pt) {
		say("  the draft %.16s is not sealed to %s", sr->hex, ag->s.profile.party);
	} else if (ret == PL_EXIT_OK) {
		say("  opened the draft %.16s: %zu bytes, commitment checked, copy kept", sr->hex,
		    len);
		if (keep && pt) {
			*keep = pt;
			*keep_len = len;
			pt = NULL;
		}
	}
	if (pt)
		pl_state_plaintext_free(pt, len);
	sodium_memzero(salt, sizeof(salt));
	return ret;
}

/*
 * A check of a line this party is an end of: answer it at once, unless told
 * not to, already done, or too late (the rules refuse an answer after the
 * deadline). Returns an exit code.
 */
static int answer(struct agent *ag, const struct session_record *check)
{
	struct pl_receipt rc;
	struct pl_record *r = NULL;
	char mine[PL_RECORD_ID_HEX_LEN + 1];
	uint8_t act[PL_HASH_BYTES];
	int ret = PL_EXIT_OK, err;

	memset(&rc, 0, sizeof(rc));
	if (ag->no_answer) {
		say("  not answering the check %.16s of %s (--no-answer)", check->hex,
		    check->rec->line);
		goto out;
	}
	err = pl_state_act_get(ag->s.state, check->id, "answer", act);
	if (err == 0) {
		say("  already answered %.16s", check->hex);
		goto out;
	}
	if (err != PL_ENOTFOUND) {
		cli_error("agent: local state: %s", pl_strerror(err));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	if ((check->rec->has & PL_RECORD_HAS_DEADLINE) && session_now() > check->rec->deadline) {
		say("  the check %.16s is past its deadline: too late to answer", check->hex);
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		cli_error("agent: out of memory");
		ret = PL_EXIT_USAGE;
		goto out;
	}
	r->kind = PL_KIND_ANSWER;
	r->has |= PL_RECORD_HAS_LINE;
	memcpy(r->line, check->rec->line, sizeof(r->line));
	r->nrefs = 1;
	r->refs[0].role = PL_ROLE_CHECK;
	memcpy(r->refs[0].id, check->id, PL_RECORD_ID_BYTES);
	ret = session_submit(&ag->s, r, check->rec->time, "the answer", &rc, NULL);
	if (ret)
		goto out;
	pl_record_id_format(mine, rc.id);
	say("  signed answer #%" PRIu64 " %.16s for the check %.16s of %s", rc.index, mine,
	    check->hex, check->rec->line);
out:
	free(r);
	pl_receipt_release(&rc);
	return ret;
}

/*
 * One record of the inbox: verify it, print it, act on it. A record that
 * does not verify is reported and skipped (it is the exchange's or its
 * author's evidence, not the agent's to act on). Returns an exit code; only
 * 1 (two histories, a receipt that does not hold) stops the agent.
 */
static int process(struct agent *ag, const struct pl_client_entry *e)
{
	struct session_record sr;
	const struct pl_record *r;
	const char *me = ag->s.profile.party;
	uint8_t *pt = NULL;
	size_t len = 0;
	uint8_t **keep = ag->exec && ag->exec_plaintext ? &pt : NULL;
	int ret;

	memset(&sr, 0, sizeof(sr));
	ret = session_verify_entry(&ag->s, e, &sr);
	if (ret) {
		say("#%" PRIu64 " does not verify: skipped", e->index);
		ret = ret == PL_EXIT_FAIL ? PL_EXIT_OK : ret;
		goto out;
	}
	r = sr.rec;
	print_arrival(&sr);
	if (r->kind == PL_KIND_AVAILABLE && r->nto == 1 && strcmp(r->to[0], me) == 0) {
		const struct pl_record_ref *ref = pl_record_ref_find(r, PL_ROLE_SUBJECT);
		if (ref)
			ret = receive(ag, ref->id, keep, &len);
	} else if (r->kind == PL_KIND_CONSULT && pl_record_has_to(r, me)) {
		ret = open_draft(ag, &sr, keep, &len);
	} else if (r->kind == PL_KIND_CHECK && pl_record_has_to(r, me)) {
		ret = answer(ag, &sr);
	}
	watch_settle(ag, r);
	/*
	 * What others did, after the agent acted on it; never this party's own
	 * records. Not when the record will be processed again (1: the agent
	 * stops; 2: it retries later), so that each record is notified once.
	 */
	if (ag->exec && strcmp(r->author, me) != 0 && (ret == PL_EXIT_OK || ret == PL_EXIT_REFUSED))
		hook_record(ag, &sr, pt, len);
out:
	if (pt)
		pl_state_plaintext_free(pt, len);
	session_record_release(&sr);
	return ret;
}

/* Saves the cursor past a processed record, so that a restarted agent resumes after it. */
static int advance(struct agent *ag, uint64_t next)
{
	int err;

	if (next <= ag->cursor)
		return PL_EXIT_OK;
	ag->cursor = next;
	err = pl_state_cursor_put(ag->s.state, AGENT_CURSOR, next);
	if (err) {
		cli_error("agent: local state: %s", pl_strerror(err));
		return PL_EXIT_USAGE;
	}
	return PL_EXIT_OK;
}

/*
 * Processes entries[0..n) in order and moves the cursor past each. Stops
 * without moving past a record on 1 (two histories, a receipt that does not
 * hold: the agent stops) and on 2 (the exchange unreachable or the local
 * state failing: the record is tried again after a pause). When the exchange
 * refused an act (3) the reason was printed and the agent moves on, so that
 * one bad send cannot wedge it.
 */
static int process_all(struct agent *ag, const struct pl_client_entry *v, size_t n)
{
	int ret = PL_EXIT_OK;

	for (size_t i = 0; i < n && !stopping; i++) {
		ret = process(ag, &v[i]);
		if (ret == PL_EXIT_FAIL || ret == PL_EXIT_USAGE)
			break;
		ret = advance(ag, v[i].index + 1);
		if (ret)
			break;
	}
	return ret;
}

/* The stream's callback: queue a copy (the client is busy until the stream returns). */
static int on_entry(void *arg, const struct pl_client_entry *e)
{
	struct agent *ag = arg;
	struct pl_client_entry *c = &ag->q[ag->nq];

	c->note = malloc(e->note_len + 1);
	if (!c->note) {
		ag->qerr = PL_ENOMEM;
		return 1;
	}
	memcpy(c->note, e->note, e->note_len);
	c->note[e->note_len] = '\0';
	c->note_len = e->note_len;
	c->index = e->index;
	memcpy(c->id, e->id, PL_RECORD_ID_BYTES);
	ag->nq++;
	/*
	 * Stop to act at once on what needs an act, or when the queue is full. A
	 * glance at the kind line is enough: a false hit (a body quoting such a
	 * line) only makes the agent process the queue earlier.
	 */
	return ag->nq == AGENT_QUEUE_MAX || strstr(c->note, "\nkind available\n") ||
	       strstr(c->note, "\nkind consult\n") || strstr(c->note, "\nkind check\n") || stopping;
}

static void queue_clear(struct agent *ag)
{
	for (size_t i = 0; i < ag->nq; i++)
		pl_client_entry_release(&ag->q[i]);
	ag->nq = 0;
}

/* Sleeps ms milliseconds, or less when a signal asks the agent to stop. */
static void pause_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (!stopping && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * One round: a stream window (or a long poll) from the cursor, then the
 * records it brought. Returns 0 or the PL_E... code of the client, with
 * *ret the exit code of the processing.
 */
static int round_once(struct agent *ag, int *ret)
{
	struct pl_client_list list;
	uint64_t cursor = ag->cursor;
	int err;

	*ret = PL_EXIT_OK;
	memset(&list, 0, sizeof(list));
	if (ag->poll) {
		err = pl_client_inbox(ag->s.client, ag->cursor, AGENT_POLL_S, &list);
		if (err == 0) {
			*ret = process_all(ag, list.v, list.n);
			if (*ret == PL_EXIT_OK && list.n == 0)
				*ret = advance(ag, list.next);
		}
		pl_client_list_release(&list);
		return err;
	}
	err = pl_client_inbox_stream(ag->s.client, &cursor, on_entry, ag, AGENT_WINDOW_MS);
	if (ag->qerr) {
		err = ag->qerr;
		ag->qerr = 0;
	}
	*ret = process_all(ag, ag->q, ag->nq);
	queue_clear(ag);
	return err;
}

/* The next pause of the backoff: the first delay, then doubling up to the bound. */
static long backoff(long delay)
{
	delay = delay ? delay * 2 : AGENT_BACKOFF_FIRST_MS;
	return delay > AGENT_BACKOFF_MAX_MS ? AGENT_BACKOFF_MAX_MS : delay;
}

/*
 * Follows the inbox until a signal, reconnecting with backoff. Returns 0,
 * or the exit code of what stops an agent for good: 1 (two histories, a
 * receipt that does not hold), 3 (the exchange refuses the party).
 */
static int follow(struct agent *ag)
{
	long delay = 0;
	int ret = PL_EXIT_OK, err;

	while (!stopping) {
		err = round_once(ag, &ret);
		if (ret == PL_EXIT_FAIL)
			break;
		check_deadlines(ag);
		if (err == 0 && ret == PL_EXIT_OK) {
			if (delay)
				say("reconnected to %s", ag->s.profile.exchange);
			delay = 0;
			continue;
		}
		if (err == 0) {
			/* Processing failed (printed already): try the same record again later. */
			delay = backoff(delay);
			say("retrying in %.2f s", (double)delay / 1000.0);
			pause_ms(delay);
			continue;
		}
		if (!ag->poll && err == PL_EMALFORMED) {
			/* The exchange answered, but not with an event stream: long-poll instead.
			 */
			say("the exchange does not stream the inbox: polling it instead");
			ag->poll = true;
			continue;
		}
		if (err == PL_EDENIED) {
			ret = session_client_failed(&ag->s, "the inbox", err);
			break;
		}
		delay = backoff(delay);
		{
			const struct pl_client_error *ce = pl_client_last_error(ag->s.client);
			say("inbox: %s%s%s; retrying in %.2f s", pl_strerror(err),
			    ce->reason[0] ? ": " : "", ce->reason, (double)delay / 1000.0);
		}
		pause_ms(delay);
	}
	return ret == PL_EXIT_FAIL || ret == PL_EXIT_REFUSED ? ret : PL_EXIT_OK;
}

/* --once: the pending inbox, page by page, then exit. */
static int drain(struct agent *ag)
{
	struct pl_client_list list;
	int ret = PL_EXIT_OK, err;

	for (unsigned page = 0; page < AGENT_ONCE_PAGES && !stopping; page++) {
		memset(&list, 0, sizeof(list));
		err = pl_client_inbox(ag->s.client, ag->cursor, 0, &list);
		if (err) {
			ret = session_client_failed(&ag->s, "the inbox", err);
			break;
		}
		ret = process_all(ag, list.v, list.n);
		if (ret == PL_EXIT_OK)
			ret = advance(ag, list.next);
		pl_client_list_release(&list);
		if (ret || list.n == 0)
			break;
	}
	if (ret == PL_EXIT_OK)
		check_deadlines(ag);
	return ret;
}

static void handle_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a sleep ends at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int cmd_agent(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"profile", required_argument, NULL, 'P'},
	        {"once", no_argument, NULL, AGENT_OPT_ONCE},
	        {"poll", no_argument, NULL, AGENT_OPT_POLL},
	        {"no-answer", no_argument, NULL, AGENT_OPT_NO_ANSWER},
	        {"exec", required_argument, NULL, AGENT_OPT_EXEC},
	        {"exec-timeout", required_argument, NULL, AGENT_OPT_EXEC_TIME},
	        {"exec-plaintext", no_argument, NULL, AGENT_OPT_EXEC_PT},
	        {"warn-before", required_argument, NULL, AGENT_OPT_WARN},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	/* Static: a session and the queue are large. */
	static struct agent ag;
	const char *profile = NULL;
	bool once = false;
	uint64_t v;
	int c, ret, err;

	memset(&ag, 0, sizeof(ag));
	ag.exec_timeout = AGENT_HOOK_TIMEOUT_S;
	ag.warn_before = AGENT_WARN_BEFORE_S;
	while ((c = getopt_long(argc, argv, ":P:h", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			profile = optarg;
			break;
		case AGENT_OPT_ONCE:
			once = true;
			break;
		case AGENT_OPT_POLL:
			ag.poll = true;
			break;
		case AGENT_OPT_NO_ANSWER:
			ag.no_answer = true;
			break;
		case AGENT_OPT_EXEC:
			if (!optarg[0]) {
				ret = cli_usage("agent", "--exec needs a command");
				goto out;
			}
			ag.exec = optarg;
			break;
		case AGENT_OPT_EXEC_TIME:
			if (pl_parse_u64(&v, optarg, strlen(optarg), AGENT_HOOK_TIMEOUT_MAX_S) !=
			            0 ||
			    v == 0) {
				ret = cli_usage(
				        "agent",
				        "--exec-timeout '%s': not a number of seconds from 1 "
				        "to %d",
				        optarg, AGENT_HOOK_TIMEOUT_MAX_S);
				goto out;
			}
			ag.exec_timeout = (unsigned)v;
			break;
		case AGENT_OPT_EXEC_PT:
			ag.exec_plaintext = true;
			break;
		case AGENT_OPT_WARN:
			if (pl_duration_parse(&ag.warn_before, optarg, strlen(optarg),
			                      AGENT_WARN_BEFORE_MAX) != 0) {
				ret = cli_usage(
				        "agent",
				        "--warn-before '%s': not a duration such as 30m, 2h "
				        "or 1d, at most 30d",
				        optarg);
				goto out;
			}
			break;
		case 'h':
			fputs(agent_help, stdout);
			ret = PL_EXIT_OK;
			goto out;
		default:
			ret = cli_bad_option("agent", c, argv);
			goto out;
		}
	}
	if (optind != argc) {
		ret = cli_usage("agent", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!ag.exec && ag.exec_plaintext) {
		ret = cli_usage("agent", "--exec-plaintext needs --exec");
		goto out;
	}
	stopping = 0;
	handle_signals();
	ret = session_open(&ag.s, "agent", profile);
	if (ret)
		goto out;
	err = pl_state_cursor_get(ag.s.state, AGENT_CURSOR, &ag.cursor);
	if (err) {
		cli_error("agent: local state: %s", pl_strerror(err));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	if (!once)
		say("agent for %s at %s, from log index %" PRIu64, ag.s.profile.party,
		    ag.s.profile.exchange, ag.cursor);
	ret = once ? drain(&ag) : follow(&ag);
	if (!once && ret == PL_EXIT_OK)
		say("agent for %s stopped at log index %" PRIu64, ag.s.profile.party, ag.cursor);
out:
	queue_clear(&ag);
	session_close(&ag.s);
	memset(&ag, 0, sizeof(ag));
	return ret;
}
