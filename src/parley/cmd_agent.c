/* parley agent: follows a party's inbox, opens what reaches it, and only then signs `receive`. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        "Options:\n"
        "  -P, --profile DIR   the profile to use (default: $PARLEY_PROFILE, then\n"
        "                      ~/.config/parley)\n"
        "      --once          process what is pending in the inbox, then exit\n"
        "      --poll          long-poll the inbox instead of streaming it\n"
        "      --no-answer     do not answer line checks (the exchange then logs them\n"
        "                      as unanswered)\n"
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

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

struct agent {
	struct session s;
	uint64_t cursor;
	bool poll;
	bool no_answer; /* --no-answer: line checks go unanswered */
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

/*
 * A send made available to this party: open its payload (the session keeps
 * the opened copy), and only when that worked sign the receive. Returns an
 * exit code; a payload this party cannot read is not an error.
 */
static int receive(struct agent *ag, const uint8_t subject[static PL_RECORD_ID_BYTES])
{
	struct session_record send;
	struct session_receipt rc;
	struct pl_record *r = NULL;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
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
	ret = session_submit(&ag->s, r, send.rec->time, "the receive", &rc);
	if (ret)
		goto out;
	say("  signed receive #%" PRIu64 " %.16s for %.16s", rc.index, rc.hex, hex);
out:
	if (pt)
		pl_state_plaintext_free(pt, len);
	sodium_memzero(salt, sizeof(salt));
	free(r);
	session_receipt_release(&rc);
	session_record_release(&send);
	return ret;
}

/* A consult naming this party: open the draft and keep it (there is no receipt for a draft). */
static int open_draft(struct agent *ag, const struct session_record *sr)
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
	struct session_receipt rc;
	struct pl_record *r = NULL;
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
	ret = session_submit(&ag->s, r, check->rec->time, "the answer", &rc);
	if (ret)
		goto out;
	say("  signed answer #%" PRIu64 " %.16s for the check %.16s of %s", rc.index, rc.hex,
	    check->hex, check->rec->line);
out:
	free(r);
	session_receipt_release(&rc);
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
			ret = receive(ag, ref->id);
	} else if (r->kind == PL_KIND_CONSULT && pl_record_has_to(r, me)) {
		ret = open_draft(ag, &sr);
	} else if (r->kind == PL_KIND_CHECK && pl_record_has_to(r, me)) {
		ret = answer(ag, &sr);
	}
out:
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
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	/* Static: a session and the queue are large. */
	static struct agent ag;
	const char *profile = NULL;
	bool once = false;
	int c, ret, err;

	memset(&ag, 0, sizeof(ag));
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
