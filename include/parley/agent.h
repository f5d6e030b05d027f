/* A party's agent: what it does for each record that reaches it, its deadline watch, its hook. */
#ifndef PARLEY_AGENT_H
#define PARLEY_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/error.h>
#include <parley/limits.h>
#include <parley/record.h>
#include <parley/timestamp.h>

/* Reconnection backoff: from the first delay, doubling, never above the last (ms). */
#define PL_AGENT_BACKOFF_FIRST_MS 250
#define PL_AGENT_BACKOFF_MAX_MS   30000
/* Sends whose deadline one agent watches at most. */
#define PL_AGENT_WATCH_MAX 1024
/* The hook: variables it is given, the bytes of their text, and of PARLEY_SUMMARY. */
#define PL_AGENT_HOOK_VARS        13
#define PL_AGENT_HOOK_VARS_MAX    4096
#define PL_AGENT_HOOK_SUMMARY_MAX 1024
/* How often a running hook is looked at, milliseconds. */
#define PL_AGENT_HOOK_TICK_MS 10

/* What the agent does with one verified record that reached its party. */
enum pl_agent_act {
	PL_AGENT_NONE = 0,       /* print it, nothing more */
	PL_AGENT_RECEIVE = 1,    /* a send made available to the party: open it, sign receive */
	PL_AGENT_OPEN_DRAFT = 2, /* a consult naming the party: open and keep its draft */
	PL_AGENT_ANSWER = 3,     /* a check of a line the party is an end of: answer it */
};

/*
 * What the agent of party me does with r: PL_AGENT_RECEIVE for an
 * `available` addressed to me alone with a subject (*subject then points
 * at the send's id inside r), PL_AGENT_OPEN_DRAFT for a consult naming me,
 * PL_AGENT_ANSWER for a check naming me, else PL_AGENT_NONE. Pure.
 */
enum pl_agent_act pl_agent_decide(const struct pl_record *r, const char *me,
                                  const uint8_t **subject);

/*
 * True when the text of a logged record (its note) may be one the agent
 * must act on (available, consult, check): a streaming agent stops taking
 * records to act at once. A body quoting such a kind line is a false hit,
 * which only makes it act earlier. note is NUL-terminated. Pure.
 */
bool pl_agent_note_wants_act(const char *note);

/*
 * The id of the record whose thread r (whose own id is own) belongs to:
 * what it acts on, answers or (a statement) first cites; else own. Points
 * into r or is own. Pure.
 */
const uint8_t *pl_agent_thread_of(const struct pl_record *r,
                                  const uint8_t own[static PL_RECORD_ID_BYTES]);

/* Why the agent does not answer a check, or PL_AGENT_ANSWER_NOW. */
enum pl_agent_answer {
	PL_AGENT_ANSWER_NOW = 0,
	PL_AGENT_ANSWER_OFF = 1,  /* --no-answer */
	PL_AGENT_ANSWER_DONE = 2, /* answered already (the local state says so) */
	PL_AGENT_ANSWER_LATE = 3, /* past its deadline: the rules refuse an answer */
};

/*
 * Whether to answer the check now: off when told not to, done when
 * answered already, late when now is past its deadline. Pure.
 */
enum pl_agent_answer pl_agent_answer_when(const struct pl_record *check, bool off, bool answered,
                                          int64_t now);

/* What reached the party when its agent fetched a send's content. */
enum pl_agent_content {
	PL_AGENT_CONTENT_OPENED = 0, /* opened with its key and checked against the commitment */
	PL_AGENT_CONTENT_SEALED = 1, /* not sealed to it: it holds the sealed message only */
	PL_AGENT_CONTENT_BAD = 2,    /* sealed to it, but does not open or match the commitment */
};

/* Whether the agent signs a `receive` of a send, and what that receive attests. */
enum pl_agent_receipt {
	PL_AGENT_RECEIPT_NONE = 0,   /* no receive */
	PL_AGENT_RECEIPT_OPENED = 1, /* the content reached the party */
	PL_AGENT_RECEIPT_SEALED =
	        2, /* the sealed message reached the intermediary (a blind relay) */
};

/*
 * Whether party me signs a `receive` of send, given what reached it (c):
 * opened content always; the sealed message only when me is the send's
 * `via` (a relay need not read what it relays; a recipient must); content
 * that does not hold never (the blob and the record are evidence against
 * the sender). Pure.
 */
enum pl_agent_receipt pl_agent_receipt_for(const struct pl_record *send, const char *me,
                                           enum pl_agent_content c);

/*
 * Fills *out (zeroed first) with the party's `receive` of the send whose id
 * is subject. The session fills author, seq, prev and time when it signs.
 * Pure.
 */
void pl_agent_receive_record(struct pl_record *out,
                             const uint8_t subject[static PL_RECORD_ID_BYTES]);

/*
 * Fills *out (zeroed first) with the party's `answer` of the check record
 * check whose id is id, carrying the check's line. The session fills the
 * rest when it signs. Pure.
 */
void pl_agent_answer_record(struct pl_record *out, const struct pl_record *check,
                            const uint8_t id[static PL_RECORD_ID_BYTES]);

struct pl_agent_watches;

/* How one act of the agent ended, as its I/O reports it. */
enum pl_agent_outcome {
	PL_AGENT_DONE = 0,    /* done, or nothing to do: the agent moves past the record */
	PL_AGENT_REFUSED = 1, /* the exchange refused the act (reason given): moves past it too */
	PL_AGENT_RETRY = 2,   /* the exchange or the local state failed: the record again later */
	PL_AGENT_STOP = 3,    /* evidence does not hold (two histories, a bad receipt): stop */
};

/*
 * The agent's I/O, behind callbacks: the session and local state of
 * `parley agent`, or memory in a test. Each act is called for the record
 * being handled and says how it ended. notify (NULL: no hook) runs the
 * hook for the record.
 */
struct pl_agent_io {
	void *ctx;
	enum pl_agent_outcome (*receive)(void *ctx,
	                                 const uint8_t subject[static PL_RECORD_ID_BYTES]);
	enum pl_agent_outcome (*open_draft)(void *ctx);
	enum pl_agent_outcome (*answer)(void *ctx);
	void (*notify)(void *ctx);
};

/*
 * Handles one verified record r that reached party me: does the act
 * pl_agent_decide() names through io, settles the watches r decides, then
 * notifies (io->notify) when another party or the exchange authored r and
 * the agent moves past it (so each record is notified once, after the
 * agent acted on it). Returns the act's outcome (PL_AGENT_DONE when none).
 */
enum pl_agent_outcome pl_agent_handle(struct pl_agent_watches *ws, const struct pl_record *r,
                                      const char *me, const struct pl_agent_io *io);

/* What a following agent does after one round of its inbox. */
enum pl_agent_next {
	PL_AGENT_NEXT_GO_ON = 0,     /* all went well: the next round at once */
	PL_AGENT_NEXT_RETRY = 1,     /* handling failed: the same records after a pause */
	PL_AGENT_NEXT_POLL = 2,      /* the exchange does not stream: long-poll instead */
	PL_AGENT_NEXT_DENIED = 3,    /* the exchange refuses the party: stop */
	PL_AGENT_NEXT_RECONNECT = 4, /* the inbox failed: again after a pause */
	PL_AGENT_NEXT_STOP = 5,      /* evidence does not hold: stop */
};

/*
 * The next step after a round whose inbox call returned err (0 or a
 * PL_E... code of the client) and whose records' handling ended with o,
 * the agent long-polling or not. Pure.
 */
enum pl_agent_next pl_agent_next(int err, enum pl_agent_outcome o, bool polling);

/* The next pause of the reconnection backoff after one of delay ms (0: none yet). Pure. */
long pl_agent_backoff(long delay);

/* ---- The deadline watch ------------------------------------------------ */

/* A send to the party (or through it) with a deadline: warned about once, unless decided. */
struct pl_agent_watch {
	uint8_t id[PL_RECORD_ID_BYTES];
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	char author[PL_RECORD_NAME_MAX + 1];
	char cls[16];
	int64_t deadline;
	bool intermediary; /* the party is the send's via: its decision is convey or decline */
	bool done;         /* warned, decided or past */
};

/* The sends one agent watches. Plain data: zero it to start; nothing to free. */
struct pl_agent_watches {
	struct pl_agent_watch v[PL_AGENT_WATCH_MAX];
	size_t n;
};

/*
 * Starts watching send (id its id) for party me when it is a send with a
 * deadline; a watch that is done gives its slot. Returns 0 (watched, or
 * nothing to watch) or PL_ETOOBIG when PL_AGENT_WATCH_MAX sends are watched.
 */
int pl_agent_watch_add(struct pl_agent_watches *ws, const struct pl_record *send,
                       const uint8_t id[static PL_RECORD_ID_BYTES], const char *me) PL_WUR;

/*
 * Settles the watches r decides: a decision (accept, refuse, convey,
 * decline) of party me, or the exchange's expire, on a watched send.
 */
void pl_agent_watch_settle(struct pl_agent_watches *ws, const struct pl_record *r, const char *me);

/*
 * Whether the party recorded act ("accept", "refuse", "convey", "decline")
 * on the send id: the agent's local state answers. True or false.
 */
typedef bool pl_agent_decided_fn(void *arg, const uint8_t id[static PL_RECORD_ID_BYTES],
                                 const char *act);

/*
 * The next watch to warn about: not done, its deadline still ahead of now
 * and at most warn_before seconds away, and no decision recorded (decided()
 * asked with the watch's yes and no acts). Watches past or decided are
 * marked done on the way; the one returned is marked done too (warned
 * once). NULL when none is left.
 */
struct pl_agent_watch *pl_agent_watch_next(struct pl_agent_watches *ws, int64_t now,
                                           int64_t warn_before, pl_agent_decided_fn *decided,
                                           void *arg);

/* The party's role in w's send: "intermediary" or "recipient" (static text). */
const char *pl_agent_watch_role(const struct pl_agent_watch *w);

/* What the party has not done yet: "conveyed nor declined" or "accepted nor refused". */
const char *pl_agent_watch_acts(const struct pl_agent_watch *w);

/* "1h05m", "12m", "40s": the time left s (seconds, ≥ 0) for people, into out[0..n). */
void pl_agent_span_format(char *out, size_t n, int64_t s);

/* ---- The hook's environment --------------------------------------------- */

/* The variables of one hook run: "NAME=value" strings in one buffer, NULL-terminated. */
struct pl_agent_env {
	char text[PL_AGENT_HOOK_VARS_MAX];
	size_t used;
	char *vars[PL_AGENT_HOOK_VARS + 1];
	size_t n;
};

/*
 * Adds NAME=value to h (NULL value: empty). A value is cut at the buffer's
 * end; a variable past PL_AGENT_HOOK_VARS is dropped. Values come from
 * verified records (no control character) or the agent.
 */
void pl_agent_env_set(struct pl_agent_env *h, const char *name, const char *value);

/*
 * Fills h (reset first) for one arriving record r of log index `index`, id
 * id: PARLEY_EVENT=record, KIND, ID, AUTHOR, THREAD, INDEX, TIME, CLASS,
 * DEADLINE, SUMMARY (summary cut at a character boundary to
 * PL_AGENT_HOOK_SUMMARY_MAX bytes), PARTY and EXCHANGE.
 */
void pl_agent_env_record(struct pl_agent_env *h, const struct pl_record *r,
                         const uint8_t id[static PL_RECORD_ID_BYTES], uint64_t index,
                         const char *summary, const char *party, const char *exchange);

/*
 * Fills h (reset first) for a deadline warning about w, now being now:
 * PARLEY_EVENT=deadline, KIND=send, ID, AUTHOR, THREAD, CLASS, DEADLINE,
 * ROLE, SUMMARY, PARTY and EXCHANGE.
 */
void pl_agent_env_deadline(struct pl_agent_env *h, const struct pl_agent_watch *w, int64_t now,
                           const char *party, const char *exchange);

/* True when the environment entry e ("NAME=value") sets one of h's variables. */
bool pl_agent_env_overrides(const struct pl_agent_env *h, const char *e);

/*
 * A new environment: every entry of base (NULL-terminated, may be NULL) that
 * h does not override, then h's variables; NULL-terminated. The strings
 * stay base's and h's: free() only the array. NULL when out of memory.
 */
char **pl_agent_env_merge(const struct pl_agent_env *h, char *const *base);

/* ---- The hook's run ---------------------------------------------------- */

/* How one hook run ended. */
enum pl_agent_hook_end {
	PL_AGENT_HOOK_DONE = 0,     /* exited with status 0 */
	PL_AGENT_HOOK_FAILED = 1,   /* exited with status `code` */
	PL_AGENT_HOOK_SIGNALED = 2, /* killed by signal `code` */
	PL_AGENT_HOOK_KILLED = 3,   /* outlived its time limit: its group was killed */
	PL_AGENT_HOOK_NO_PIPE = 4,  /* not started: its input pipe failed with errno `code` */
	PL_AGENT_HOOK_LOST = 5,     /* its end could not be learnt (waitpid failed) */
	PL_AGENT_HOOK_NO_FORK = 6,  /* not started: fork failed with errno `code` */
};

struct pl_agent_hook_result {
	enum pl_agent_hook_end end;
	int code; /* the exit status, signal, time limit or errno, as its end says */
};

/*
 * Runs cmd once by /bin/sh -c (cmd exactly as given), with the environment
 * envp (pl_agent_env_merge()), in its own process group, standard input
 * in[0..len) (in NULL: /dev/null), standard output to standard error.
 * Waits at most timeout_s seconds, then kills the group. Fills *res. Never
 * fails the caller: what happened is in *res. The caller ignores SIGPIPE.
 */
void pl_agent_hook_run(const char *cmd, char *const *envp, const uint8_t *in, size_t len,
                       unsigned timeout_s, struct pl_agent_hook_result *res);

#endif
