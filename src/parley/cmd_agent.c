/* parley agent: follows a party's inbox, opens what reaches it, and signs `receive` for it. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/agent.h>
#include <parley/box.h>
#include <parley/client.h>
#include <parley/record.h>
#include <parley/state.h>
#include <parley/timestamp.h>

#include "session.h"
#include "banned.h"

static const struct cli_verb agent_verb = {
        .name = "agent",
        .synopsis = "[--profile DIR] [--once] [--poll] [--no-answer]\n"
                    "                    [--exec CMD [--exec-timeout SECONDS] [--exec-plaintext]]\n"
                    "                    [--warn-before DURATION]",
        .about =
                "Runs for the party of the profile: follows its inbox (a stream of server-sent\n"
                "events, or long polls when the exchange does not stream) and prints one line per\n"
                "arriving record. When a send is made available to the party, the agent fetches\n"
                "its payload, opens it with the party's key, checks it against the record's\n"
                "commitment and keeps the opened copy in the local state; only then does it sign\n"
                "and submit a `receive` record. A send's intermediary that is not one of the\n"
                "payload's readers (sent with --no-readable-by-via) signs its receive unread:\n"
                "the sealed message reached it, and it relays it blind. Content that does not\n"
                "match its commitment, and content not sealed to a recipient, get no receive.\n"
                "After each receive or answer it signs, the agent checks that the thread index\n"
                "ending the receipt's checkpoint lists it under every record it refers to; if\n"
                "not, it keeps the evidence beside the local state (index-lie-<time>.txt) and\n"
                "stops.\n"
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
                "(accept or refuse; convey or decline).\n",
        .status = "Exit status: 0 stopped by a signal, or --once done; 1 the exchange showed two\n"
                  "histories, a receipt that does not hold, or a thread index that leaves out or\n"
                  "misstates this party's record; 2 usage or I/O error; 3 the exchange refused\n"
                  "the party.\n",
};

/* The inbox cursor of the agent in the local state (the inbox verb keeps its own). */
#define AGENT_CURSOR "agent"
/* How long one stream or long poll lasts before the agent looks at its signals again. */
#define AGENT_WINDOW_MS 1000
#define AGENT_POLL_S    1
/* Records taken from one stream before they are processed (the stream then resumes). */
#define AGENT_QUEUE_MAX 64
/* Pages of the inbox --once reads at most (each up to the exchange's page size). */
#define AGENT_ONCE_PAGES 10000
/* The hook's default and longest time limit; the default lead of a deadline warning, the longest.
 */
#define AGENT_HOOK_TIMEOUT_S     10
#define AGENT_HOOK_TIMEOUT_MAX_S 3600
#define AGENT_WARN_BEFORE_S      3600
#define AGENT_WARN_BEFORE_MAX    (30 * 86400)

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

struct agent {
	struct pl_session s;
	uint64_t cursor;
	bool poll;
	bool no_answer;   /* --no-answer: line checks go unanswered */
	const char *exec; /* --exec: the hook's command, for /bin/sh -c */
	unsigned exec_timeout;
	bool exec_plaintext; /* --exec-plaintext: the hook reads the opened content */
	int64_t warn_before; /* --warn-before, seconds */
	struct pl_agent_watches watches;
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
static void print_arrival(const struct pl_session_record *sr)
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

/* Runs the hook with h's variables (pl_agent_hook_run()) and reports how it ended. */
static void hook_run(struct agent *ag, const struct pl_agent_env *h, const uint8_t *in, size_t len)
{
	extern char **environ;
	struct pl_agent_hook_result res;
	char **envp = pl_agent_env_merge(h, environ);

	if (!envp) {
		say("  hook: out of memory: not run");
		return;
	}
	pl_agent_hook_run(ag->exec, envp, in, len, ag->exec_timeout, &res);
	free(envp);
	if (res.end == PL_AGENT_HOOK_NO_PIPE)
		say("  hook: cannot make its input pipe: %s: not run", strerror(res.code));
	else if (res.end == PL_AGENT_HOOK_NO_FORK)
		say("  hook: cannot start: %s", strerror(res.code));
	else if (res.end == PL_AGENT_HOOK_KILLED)
		say("  hook: still running after %u s: killed", ag->exec_timeout);
	else if (res.end == PL_AGENT_HOOK_DONE)
		say("  hook: done");
	else if (res.end == PL_AGENT_HOOK_FAILED)
		say("  hook: failed with exit status %d", res.code);
	else if (res.end == PL_AGENT_HOOK_SIGNALED)
		say("  hook: killed by signal %d", res.code);
}

/* The hook for one arriving record; the opened content in[0..len) when asked for. */
static void hook_record(struct agent *ag, const struct pl_session_record *sr, const uint8_t *in,
                        size_t len)
{
	static struct pl_agent_env h;
	struct pl_buf sum;

	pl_buf_init(&sum, 4096);
	if (session_record_summary(sr->rec, &sum) != 0)
		pl_buf_reset(&sum);
	pl_agent_env_record(&h, sr->rec, sr->id, sr->index, sum.data ? sum.data : "",
	                    ag->s.profile.party, ag->s.profile.exchange);
	pl_buf_release(&sum);
	hook_run(ag, &h, ag->exec_plaintext ? in : NULL, len);
}

/* ---- Deadline warnings ---- */

/* Starts watching a send made available to this party, when it has a deadline. */
static void watch_add(struct agent *ag, const struct pl_session_record *send)
{
	if (pl_agent_watch_add(&ag->watches, send->rec, send->id, ag->s.profile.party) != 0)
		say("  not watching the deadline of %.16s: %d deadlines watched already", send->hex,
		    PL_AGENT_WATCH_MAX);
}

/* The watch's question to the local state: did this party record act on the send id? */
static bool decided(void *arg, const uint8_t id[static PL_RECORD_ID_BYTES], const char *act)
{
	struct agent *ag = arg;
	uint8_t h[PL_HASH_BYTES];

	return pl_state_act_get(ag->s.state, id, act, h) == 0;
}

/*
 * Warns, once each, about the watched sends whose deadline is nearer than
 * --warn-before and on which this party has recorded no decision, and runs
 * the hook for each warning.
 */
static void check_deadlines(struct agent *ag)
{
	static struct pl_agent_env h;
	int64_t now = session_now();
	struct pl_agent_watch *w;

	while ((w = pl_agent_watch_next(&ag->watches, now, ag->warn_before, decided, ag))) {
		char dl[PL_TIMESTAMP_LEN + 1], left[32];
		time_text(dl, w->deadline);
		pl_agent_span_format(left, sizeof(left), w->deadline - now);
		say("deadline near: the %s %.16s from %s is due at %s (in %s), and %s has neither "
		    "%s it",
		    w->cls, w->hex, w->author, dl, left, ag->s.profile.party,
		    pl_agent_watch_acts(w));
		if (!ag->exec)
			continue;
		pl_agent_env_deadline(&h, w, now, ag->s.profile.party, ag->s.profile.exchange);
		hook_run(ag, &h, NULL, 0);
	}
}

/*
 * A send made available to this party: open its payload (the session keeps
 * the opened copy), and sign the receive when pl_agent_receipt_for() says
 * so: for content opened, or, as the send's intermediary, for the sealed
 * message it cannot read (a blind relay's receipt); watch its deadline.
 * When keep is not NULL and the content was opened, *keep and *keep_len
 * receive it (free it with pl_state_plaintext_free()). Returns an exit
 * code; a payload this party cannot read is not an error.
 */
static int receive(struct agent *ag, const uint8_t subject[static PL_RECORD_ID_BYTES],
                   uint8_t **keep, size_t *keep_len)
{
	struct pl_session_record send;
	struct pl_receipt rc;
	struct pl_record *r = NULL;
	char hex[PL_RECORD_ID_HEX_LEN + 1], mine[PL_RECORD_ID_HEX_LEN + 1];
	uint8_t salt[PL_BOX_SALT_BYTES], act[PL_HASH_BYTES];
	uint8_t *pt = NULL;
	size_t len = 0;
	enum pl_agent_content got = PL_AGENT_CONTENT_OPENED;
	enum pl_agent_receipt receipt;
	struct pl_buf text;
	int ret, err;

	memset(&send, 0, sizeof(send));
	memset(&rc, 0, sizeof(rc));
	pl_buf_init(&text, PL_RECORD_MAX_BYTES);
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
	if (ret == PL_EXIT_FAIL)
		got = PL_AGENT_CONTENT_BAD;
	else if (ret)
		goto out;
	else if (!pt)
		got = PL_AGENT_CONTENT_SEALED;
	ret = PL_EXIT_OK;
	receipt = pl_agent_receipt_for(send.rec, ag->s.profile.party, got);
	if (got == PL_AGENT_CONTENT_BAD) {
		/* The blob and the record are evidence against the sender; no receive. */
		say("  could not open %.16s: it does not hold as sent; no receive signed", hex);
		goto out;
	}
	if (receipt == PL_AGENT_RECEIPT_NONE) {
		say("  %.16s is not sealed to %s: no receive signed", hex, ag->s.profile.party);
		goto out;
	}
	if (receipt == PL_AGENT_RECEIPT_SEALED)
		say("  %.16s is sealed to its recipients only: relaying it unread", hex);
	else
		say("  opened %.16s: %zu bytes, commitment checked, copy kept", hex, len);
	r = calloc(1, sizeof(*r));
	if (!r) {
		cli_error("agent: out of memory");
		ret = PL_EXIT_USAGE;
		goto out;
	}
	pl_agent_receive_record(r, subject);
	ret = session_submit(&ag->s, r, send.rec->time, "the receive", &rc, &text);
	if (ret)
		goto out;
	pl_record_id_format(mine, rc.id);
	say("  signed receive%s #%" PRIu64 " %.16s for %.16s",
	    receipt == PL_AGENT_RECEIPT_SEALED ? " (sealed)" : "", rc.index, mine, hex);
	ret = session_index_check(&ag->s, r, text.data, text.len, &rc, true);
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
	pl_buf_release(&text);
	pl_session_record_release(&send);
	return ret;
}

/*
 * A consult naming this party: open the draft and keep it (there is no
 * receipt for a draft); *keep as for receive().
 */
static int open_draft(struct agent *ag, const struct pl_session_record *sr, uint8_t **keep,
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
static int answer(struct agent *ag, const struct pl_session_record *check)
{
	struct pl_receipt rc;
	struct pl_record *r = NULL;
	char mine[PL_RECORD_ID_HEX_LEN + 1];
	uint8_t act[PL_HASH_BYTES];
	struct pl_buf text;
	int ret = PL_EXIT_OK, err;

	memset(&rc, 0, sizeof(rc));
	pl_buf_init(&text, PL_RECORD_MAX_BYTES);
	err = ag->no_answer ? PL_ENOTFOUND
	                    : pl_state_act_get(ag->s.state, check->id, "answer", act);
	if (err != 0 && err != PL_ENOTFOUND) {
		cli_error("agent: local state: %s", pl_strerror(err));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	switch (pl_agent_answer_when(check->rec, ag->no_answer, err == 0, session_now())) {
	case PL_AGENT_ANSWER_OFF:
		say("  not answering the check %.16s of %s (--no-answer)", check->hex,
		    check->rec->line);
		goto out;
	case PL_AGENT_ANSWER_DONE:
		say("  already answered %.16s", check->hex);
		goto out;
	case PL_AGENT_ANSWER_LATE:
		say("  the check %.16s is past its deadline: too late to answer", check->hex);
		goto out;
	case PL_AGENT_ANSWER_NOW:
		break;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		cli_error("agent: out of memory");
		ret = PL_EXIT_USAGE;
		goto out;
	}
	pl_agent_answer_record(r, check->rec, check->id);
	ret = session_submit(&ag->s, r, check->rec->time, "the answer", &rc, &text);
	if (ret)
		goto out;
	pl_record_id_format(mine, rc.id);
	say("  signed answer #%" PRIu64 " %.16s for the check %.16s of %s", rc.index, mine,
	    check->hex, check->rec->line);
	ret = session_index_check(&ag->s, r, text.data, text.len, &rc, true);
out:
	free(r);
	pl_receipt_release(&rc);
	pl_buf_release(&text);
	return ret;
}

/* The record being handled, for the agent's I/O callbacks (pl_agent_handle()). */
struct handling {
	struct agent *ag;
	const struct pl_session_record *sr;
	uint8_t *pt; /* the opened content, kept for the hook with --exec-plaintext */
	size_t len;
};

static enum pl_agent_outcome outcome_of(int exit_code)
{
	if (exit_code == PL_EXIT_OK || exit_code == PL_EXIT_REFUSED)
		return exit_code == PL_EXIT_OK ? PL_AGENT_DONE : PL_AGENT_REFUSED;
	return exit_code == PL_EXIT_FAIL ? PL_AGENT_STOP : PL_AGENT_RETRY;
}

static int exit_of(enum pl_agent_outcome o)
{
	static const int code[] = {
	        [PL_AGENT_DONE] = PL_EXIT_OK,
	        [PL_AGENT_REFUSED] = PL_EXIT_REFUSED,
	        [PL_AGENT_RETRY] = PL_EXIT_USAGE,
	        [PL_AGENT_STOP] = PL_EXIT_FAIL,
	};
	return code[o];
}

static enum pl_agent_outcome io_receive(void *ctx, const uint8_t subject[static PL_RECORD_ID_BYTES])
{
	struct handling *h = ctx;

	return outcome_of(receive(h->ag, subject, h->ag->exec_plaintext ? &h->pt : NULL, &h->len));
}

static enum pl_agent_outcome io_open_draft(void *ctx)
{
	struct handling *h = ctx;

	return outcome_of(open_draft(h->ag, h->sr, h->ag->exec_plaintext ? &h->pt : NULL, &h->len));
}

static enum pl_agent_outcome io_answer(void *ctx)
{
	struct handling *h = ctx;

	return outcome_of(answer(h->ag, h->sr));
}

static void io_notify(void *ctx)
{
	struct handling *h = ctx;

	hook_record(h->ag, h->sr, h->pt, h->len);
}

/*
 * One record of the inbox: verify it, print it, act on it
 * (pl_agent_handle()). A record that does not verify is reported and
 * skipped (it is the exchange's or its author's evidence, not the agent's
 * to act on). Returns an exit code; only 1 (two histories, a receipt that
 * does not hold) stops the agent.
 */
static int process(struct agent *ag, const struct pl_client_entry *e)
{
	struct pl_session_record sr;
	struct handling h = {.ag = ag, .sr = &sr};
	const struct pl_agent_io io = {
	        .ctx = &h,
	        .receive = io_receive,
	        .open_draft = io_open_draft,
	        .answer = io_answer,
	        .notify = ag->exec ? io_notify : NULL,
	};
	int ret;

	memset(&sr, 0, sizeof(sr));
	ret = session_verify_entry(&ag->s, e, &sr);
	if (ret) {
		say("#%" PRIu64 " does not verify: skipped", e->index);
		ret = ret == PL_EXIT_FAIL ? PL_EXIT_OK : ret;
		goto out;
	}
	print_arrival(&sr);
	ret = exit_of(pl_agent_handle(&ag->watches, sr.rec, ag->s.profile.party, &io));
out:
	if (h.pt)
		pl_state_plaintext_free(h.pt, h.len);
	pl_session_record_release(&sr);
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
	return ag->nq == AGENT_QUEUE_MAX || pl_agent_note_wants_act(c->note) || stopping;
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

/*
 * Follows the inbox until a signal, reconnecting with backoff. Returns 0,
 * or the exit code of what stops an agent for good: 1 (two histories, a
 * receipt that does not hold), 3 (the exchange refuses the party).
 */
static int follow(struct agent *ag)
{
	enum pl_agent_next next = PL_AGENT_NEXT_GO_ON;
	long delay = 0;
	int ret = PL_EXIT_OK, err;

	while (!stopping && next != PL_AGENT_NEXT_DENIED) {
		const struct pl_client_error *ce;
		err = round_once(ag, &ret);
		next = pl_agent_next(err, outcome_of(ret), ag->poll);
		if (next == PL_AGENT_NEXT_STOP)
			break;
		check_deadlines(ag);
		if (next == PL_AGENT_NEXT_GO_ON && delay)
			say("reconnected to %s", ag->s.profile.exchange);
		if (next == PL_AGENT_NEXT_GO_ON)
			delay = 0;
		if (next == PL_AGENT_NEXT_POLL) {
			say("the exchange does not stream the inbox: polling it instead");
			ag->poll = true;
		}
		if (next == PL_AGENT_NEXT_DENIED)
			ret = session_client_failed(&ag->s, "the inbox", err);
		if (next != PL_AGENT_NEXT_RETRY && next != PL_AGENT_NEXT_RECONNECT)
			continue;
		delay = pl_agent_backoff(delay);
		ce = pl_client_last_error(ag->s.client);
		/* Processing failed (printed already): the same record again later. */
		if (next == PL_AGENT_NEXT_RETRY)
			say("retrying in %.2f s", (double)delay / 1000.0);
		else
			say("inbox: %s%s%s; retrying in %.2f s", pl_strerror(err),
			    ce->reason[0] ? ": " : "", ce->reason, (double)delay / 1000.0);
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

/* --exec CMD: a command, not an empty string. */
static int take_exec(void *to, const char *arg)
{
	if (!arg[0])
		return cli_usage("agent", "--exec needs a command");
	*(const char **)to = arg;
	return PL_EXIT_OK;
}

/* --warn-before DURATION. */
static int take_warn_before(void *to, const char *arg)
{
	if (pl_duration_parse(to, arg, strlen(arg), AGENT_WARN_BEFORE_MAX) != 0)
		return cli_usage("agent",
		                 "--warn-before '%s': not a duration such as 30m, 2h or 1d, at "
		                 "most 30d",
		                 arg);
	return PL_EXIT_OK;
}

int cmd_agent(int argc, char **argv)
{
	/* Static: a session and the queue are large. */
	static struct agent ag;
	const char *profile = NULL;
	bool once = false;
	uint64_t exec_timeout = AGENT_HOOK_TIMEOUT_S;
	const struct cli_opt opts[] = {
	        CLI_OPT_PROFILE(&profile),
	        CLI_OPT_FLAG(0, "once", &once, "process what is pending in the inbox, then exit"),
	        CLI_OPT_FLAG(0, "poll", &ag.poll, "long-poll the inbox instead of streaming it"),
	        CLI_OPT_FLAG(
	                0, "no-answer", &ag.no_answer,
	                "do not answer line checks (the exchange then logs them\nas unanswered)"),
	        {0, "exec", CLI_CALL, &ag.exec, "CMD",
	         "run CMD for each record and deadline warning (above)", .call = take_exec},
	        {0, "exec-timeout", CLI_UINT, &exec_timeout, "SECONDS",
	         "kill a hook still running after SECONDS (1 to 3600,\ndefault 10)", .min = 1,
	         .max = AGENT_HOOK_TIMEOUT_MAX_S},
	        CLI_OPT_FLAG(0, "exec-plaintext", &ag.exec_plaintext,
	                     "give the hook the opened content of a message or draft\non its "
	                     "standard input "
	                     "(by default it never sees it)"),
	        {0, "warn-before", CLI_CALL, &ag.warn_before, "DURATION",
	         "warn this long before an undecided deadline, e.g. 30m,\n2h, 1d (default 1h; 0s: "
	         "never)",
	         .call = take_warn_before},
	        {0},
	};
	int ret, err;

	memset(&ag, 0, sizeof(ag));
	ag.warn_before = AGENT_WARN_BEFORE_S;
	ret = cli_parse(&agent_verb, opts, argc, argv, NULL);
	if (ret >= 0)
		goto out;
	ag.exec_timeout = (unsigned)exec_timeout;
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
