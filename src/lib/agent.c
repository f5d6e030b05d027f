/* A party's agent: what it does for each record that reaches it, its deadline watch, its hook. */
#include <parley/agent.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

enum pl_agent_act pl_agent_decide(const struct pl_record *r, const char *me,
                                  const uint8_t **subject)
{
	const struct pl_record_ref *ref;
	enum pl_agent_act act = PL_AGENT_NONE;

	if (r->kind == PL_KIND_AVAILABLE && r->nto == 1 && strcmp(r->to[0], me) == 0) {
		ref = pl_record_ref_find(r, PL_ROLE_SUBJECT);
		if (ref) {
			*subject = ref->id;
			act = PL_AGENT_RECEIVE;
		}
	} else if (r->kind == PL_KIND_CONSULT && pl_record_has_to(r, me)) {
		act = PL_AGENT_OPEN_DRAFT;
	} else if (r->kind == PL_KIND_CHECK && pl_record_has_to(r, me)) {
		act = PL_AGENT_ANSWER;
	}
	return act;
}

bool pl_agent_note_wants_act(const char *note)
{
	return strstr(note, "\nkind available\n") || strstr(note, "\nkind consult\n") ||
	       strstr(note, "\nkind check\n");
}

const uint8_t *pl_agent_thread_of(const struct pl_record *r,
                                  const uint8_t own[static PL_RECORD_ID_BYTES])
{
	enum pl_ref_role role = pl_record_kind_target(r->kind);
	const struct pl_record_ref *ref = role ? pl_record_ref_find(r, role) : NULL;

	if (!ref)
		ref = pl_record_ref_find(r, PL_ROLE_REPLY_TO);
	if (!ref)
		ref = pl_record_ref_find(r, PL_ROLE_CITES);
	return ref ? ref->id : own;
}

enum pl_agent_answer pl_agent_answer_when(const struct pl_record *check, bool off, bool answered,
                                          int64_t now)
{
	if (off)
		return PL_AGENT_ANSWER_OFF;
	if (answered)
		return PL_AGENT_ANSWER_DONE;
	if ((check->has & PL_RECORD_HAS_DEADLINE) && now > check->deadline)
		return PL_AGENT_ANSWER_LATE;
	return PL_AGENT_ANSWER_NOW;
}

enum pl_agent_receipt pl_agent_receipt_for(const struct pl_record *send, const char *me,
                                           enum pl_agent_content c)
{
	bool via = (send->has & PL_RECORD_HAS_VIA) && strcmp(send->via, me) == 0;

	if (send->kind != PL_KIND_SEND || c == PL_AGENT_CONTENT_BAD)
		return PL_AGENT_RECEIPT_NONE;
	if (c == PL_AGENT_CONTENT_OPENED)
		return PL_AGENT_RECEIPT_OPENED;
	return via ? PL_AGENT_RECEIPT_SEALED : PL_AGENT_RECEIPT_NONE;
}

void pl_agent_receive_record(struct pl_record *out,
                             const uint8_t subject[static PL_RECORD_ID_BYTES])
{
	memset(out, 0, sizeof(*out));
	out->kind = PL_KIND_RECEIVE;
	out->nrefs = 1;
	out->refs[0].role = PL_ROLE_SUBJECT;
	memcpy(out->refs[0].id, subject, PL_RECORD_ID_BYTES);
}

void pl_agent_answer_record(struct pl_record *out, const struct pl_record *check,
                            const uint8_t id[static PL_RECORD_ID_BYTES])
{
	memset(out, 0, sizeof(*out));
	out->kind = PL_KIND_ANSWER;
	out->has |= PL_RECORD_HAS_LINE;
	memcpy(out->line, check->line, sizeof(out->line));
	out->nrefs = 1;
	out->refs[0].role = PL_ROLE_CHECK;
	memcpy(out->refs[0].id, id, PL_RECORD_ID_BYTES);
}

enum pl_agent_outcome pl_agent_handle(struct pl_agent_watches *ws, const struct pl_record *r,
                                      const char *me, const struct pl_agent_io *io)
{
	const uint8_t *subject = NULL;
	enum pl_agent_outcome o = PL_AGENT_DONE;

	switch (pl_agent_decide(r, me, &subject)) {
	case PL_AGENT_RECEIVE:
		o = io->receive(io->ctx, subject);
		break;
	case PL_AGENT_OPEN_DRAFT:
		o = io->open_draft(io->ctx);
		break;
	case PL_AGENT_ANSWER:
		o = io->answer(io->ctx);
		break;
	case PL_AGENT_NONE:
		break;
	}
	pl_agent_watch_settle(ws, r, me);
	/* Not when the record is handled again (retry, stop): each is notified once. */
	if (io->notify && strcmp(r->author, me) != 0 &&
	    (o == PL_AGENT_DONE || o == PL_AGENT_REFUSED))
		io->notify(io->ctx);
	return o;
}

enum pl_agent_next pl_agent_next(int err, enum pl_agent_outcome o, bool polling)
{
	if (o == PL_AGENT_STOP)
		return PL_AGENT_NEXT_STOP;
	if (err == 0)
		return o == PL_AGENT_RETRY ? PL_AGENT_NEXT_RETRY : PL_AGENT_NEXT_GO_ON;
	/* The exchange answered, but not with an event stream. */
	if (!polling && err == PL_EMALFORMED)
		return PL_AGENT_NEXT_POLL;
	if (err == PL_EDENIED)
		return PL_AGENT_NEXT_DENIED;
	return PL_AGENT_NEXT_RECONNECT;
}

long pl_agent_backoff(long delay)
{
	delay = delay > 0 ? delay * 2 : PL_AGENT_BACKOFF_FIRST_MS;
	return delay > PL_AGENT_BACKOFF_MAX_MS ? PL_AGENT_BACKOFF_MAX_MS : delay;
}

/* ---- The deadline watch ---- */

int pl_agent_watch_add(struct pl_agent_watches *ws, const struct pl_record *send,
                       const uint8_t id[static PL_RECORD_ID_BYTES], const char *me)
{
	struct pl_agent_watch *w = NULL;
	const char *cls =
	        (send->has & PL_RECORD_HAS_CLASS) ? pl_record_class_name(send->cls) : NULL;
	int ret = 0;

	if (send->kind != PL_KIND_SEND || !(send->has & PL_RECORD_HAS_DEADLINE))
		goto out;
	for (size_t i = 0; i < ws->n; i++) {
		if (memcmp(ws->v[i].id, id, PL_RECORD_ID_BYTES) == 0)
			goto out; /* watched already */
		if (!w && ws->v[i].done)
			w = &ws->v[i]; /* a finished watch's slot is reused */
	}
	if (!w && ws->n == PL_AGENT_WATCH_MAX) {
		ret = PL_ETOOBIG;
		goto out;
	}
	if (!w)
		w = &ws->v[ws->n++];
	memset(w, 0, sizeof(*w));
	memcpy(w->id, id, PL_RECORD_ID_BYTES);
	pl_record_id_format(w->hex, id);
	snprintf(w->author, sizeof(w->author), "%s", send->author);
	snprintf(w->cls, sizeof(w->cls), "%s", cls ? cls : "message");
	w->deadline = send->deadline;
	w->intermediary = (send->has & PL_RECORD_HAS_VIA) && strcmp(send->via, me) == 0;
out:
	return ret;
}

void pl_agent_watch_settle(struct pl_agent_watches *ws, const struct pl_record *r, const char *me)
{
	const struct pl_record_ref *ref = pl_record_ref_find(r, PL_ROLE_SUBJECT);
	bool mine = strcmp(r->author, me) == 0;
	bool decides = r->kind == PL_KIND_ACCEPT || r->kind == PL_KIND_REFUSE ||
	               r->kind == PL_KIND_CONVEY || r->kind == PL_KIND_DECLINE;
	bool settles = ref && ((mine && decides) || r->kind == PL_KIND_EXPIRE);

	for (size_t i = 0; settles && i < ws->n; i++) {
		if (memcmp(ws->v[i].id, ref->id, PL_RECORD_ID_BYTES) == 0)
			ws->v[i].done = true;
	}
}

struct pl_agent_watch *pl_agent_watch_next(struct pl_agent_watches *ws, int64_t now,
                                           int64_t warn_before, pl_agent_decided_fn *decided,
                                           void *arg)
{
	struct pl_agent_watch *found = NULL;

	for (size_t i = 0; i < ws->n && !found; i++) {
		struct pl_agent_watch *w = &ws->v[i];
		const char *yes = w->intermediary ? "convey" : "accept";
		const char *no = w->intermediary ? "decline" : "refuse";
		if (w->done)
			continue;
		if (now >= w->deadline || decided(arg, w->id, yes) || decided(arg, w->id, no)) {
			w->done = true;
			continue;
		}
		if (w->deadline - now > warn_before)
			continue;
		w->done = true;
		found = w;
	}
	return found;
}

const char *pl_agent_watch_role(const struct pl_agent_watch *w)
{
	return w->intermediary ? "intermediary" : "recipient";
}

const char *pl_agent_watch_acts(const struct pl_agent_watch *w)
{
	return w->intermediary ? "conveyed nor declined" : "accepted nor refused";
}

void pl_agent_span_format(char *out, size_t n, int64_t s)
{
	if (s >= 3600)
		snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, n, "%lldm", (long long)(s / 60));
	else
		snprintf(out, n, "%llds", (long long)s);
}

/* ---- The hook's environment ---- */

static void time_text(char out[static PL_TIMESTAMP_LEN + 1], int64_t when)
{
	if (pl_timestamp_format(out, when) != 0)
		snprintf(out, PL_TIMESTAMP_LEN + 1, "%s", "(out of range)");
}

void pl_agent_env_set(struct pl_agent_env *h, const char *name, const char *value)
{
	size_t room = sizeof(h->text) - h->used;
	int w = -1;

	if (h->n < PL_AGENT_HOOK_VARS && room >= 2)
		w = snprintf(h->text + h->used, room, "%s=%s", name, value ? value : "");
	if (w >= 0) {
		h->vars[h->n++] = h->text + h->used;
		h->used += (size_t)w < room ? (size_t)w + 1 : room;
		h->vars[h->n] = NULL;
	}
}

void pl_agent_env_record(struct pl_agent_env *h, const struct pl_record *r,
                         const uint8_t id[static PL_RECORD_ID_BYTES], uint64_t index,
                         const char *summary, const char *party, const char *exchange)
{
	char idx[24], when[PL_TIMESTAMP_LEN + 1], dl[PL_TIMESTAMP_LEN + 1];
	char hex[PL_RECORD_ID_HEX_LEN + 1], thread[PL_RECORD_ID_HEX_LEN + 1];
	char sum[PL_AGENT_HOOK_SUMMARY_MAX + 1];
	size_t cut = strlen(summary ? summary : "");

	memset(h, 0, sizeof(*h));
	/* A long public text is cut, at a character boundary, so every variable fits. */
	if (cut > PL_AGENT_HOOK_SUMMARY_MAX) {
		cut = PL_AGENT_HOOK_SUMMARY_MAX;
		while (cut > 0 && ((unsigned char)summary[cut] & 0xc0) == 0x80)
			cut--;
	}
	snprintf(sum, sizeof(sum), "%.*s", (int)cut, summary ? summary : "");
	snprintf(idx, sizeof(idx), "%" PRIu64, index);
	time_text(when, r->time);
	pl_record_id_format(hex, id);
	pl_record_id_format(thread, pl_agent_thread_of(r, id));
	pl_agent_env_set(h, "PARLEY_EVENT", "record");
	pl_agent_env_set(h, "PARLEY_KIND", pl_record_kind_name(r->kind));
	pl_agent_env_set(h, "PARLEY_ID", hex);
	pl_agent_env_set(h, "PARLEY_AUTHOR", r->author);
	pl_agent_env_set(h, "PARLEY_THREAD", thread);
	pl_agent_env_set(h, "PARLEY_INDEX", idx);
	pl_agent_env_set(h, "PARLEY_TIME", when);
	pl_agent_env_set(h, "PARLEY_CLASS",
	                 (r->has & PL_RECORD_HAS_CLASS) ? pl_record_class_name(r->cls) : "");
	if (r->has & PL_RECORD_HAS_DEADLINE)
		time_text(dl, r->deadline);
	pl_agent_env_set(h, "PARLEY_DEADLINE", (r->has & PL_RECORD_HAS_DEADLINE) ? dl : "");
	pl_agent_env_set(h, "PARLEY_SUMMARY", sum);
	pl_agent_env_set(h, "PARLEY_PARTY", party);
	pl_agent_env_set(h, "PARLEY_EXCHANGE", exchange);
}

void pl_agent_env_deadline(struct pl_agent_env *h, const struct pl_agent_watch *w, int64_t now,
                           const char *party, const char *exchange)
{
	char dl[PL_TIMESTAMP_LEN + 1], left[32], sum[256];

	memset(h, 0, sizeof(*h));
	time_text(dl, w->deadline);
	pl_agent_span_format(left, sizeof(left), w->deadline - now);
	snprintf(sum, sizeof(sum), "%s from %s: reply by %s (in %s), neither %s", w->cls, w->author,
	         dl, left, pl_agent_watch_acts(w));
	pl_agent_env_set(h, "PARLEY_EVENT", "deadline");
	pl_agent_env_set(h, "PARLEY_KIND", "send");
	pl_agent_env_set(h, "PARLEY_ID", w->hex);
	pl_agent_env_set(h, "PARLEY_AUTHOR", w->author);
	pl_agent_env_set(h, "PARLEY_THREAD", w->hex);
	pl_agent_env_set(h, "PARLEY_CLASS", w->cls);
	pl_agent_env_set(h, "PARLEY_DEADLINE", dl);
	pl_agent_env_set(h, "PARLEY_ROLE", pl_agent_watch_role(w));
	pl_agent_env_set(h, "PARLEY_SUMMARY", sum);
	pl_agent_env_set(h, "PARLEY_PARTY", party);
	pl_agent_env_set(h, "PARLEY_EXCHANGE", exchange);
}

bool pl_agent_env_overrides(const struct pl_agent_env *h, const char *e)
{
	const char *eq = strchr(e, '=');
	size_t n = eq ? (size_t)(eq - e) : strlen(e);
	bool found = false;

	for (size_t i = 0; i < h->n && !found; i++)
		found = strncmp(h->vars[i], e, n) == 0 && h->vars[i][n] == '=';
	return found;
}

char **pl_agent_env_merge(const struct pl_agent_env *h, char *const *base)
{
	char **envp;
	size_t nenv = 0, k = 0;

	for (char *const *e = base; e && *e; e++)
		nenv++;
	envp = calloc(nenv + h->n + 1, sizeof(*envp));
	if (!envp)
		return NULL;
	for (char *const *e = base; e && *e; e++) {
		if (!pl_agent_env_overrides(h, *e))
			envp[k++] = *e;
	}
	for (size_t i = 0; i < h->n; i++)
		envp[k++] = h->vars[i];
	envp[k] = NULL;
	return envp;
}

/* ---- The hook's run ---- */

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

/* The child after fork: only async-signal-safe calls until execve. */
static void hook_child(const char *cmd, char *const *envp, int infd, long maxfd)
{
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	if (infd < 0 || dup2(infd, 0) < 0 || dup2(2, 1) < 0)
		_exit(127);
	for (long fd = 3; fd < maxfd; fd++)
		close((int)fd);
	execve("/bin/sh", argv, envp);
	_exit(127);
}

/* Feeds and waits for the hook pid until it ends or the deadline; kills its group then. */
static bool hook_wait(pid_t pid, int *infd, const uint8_t *in, size_t len, unsigned timeout_s,
                      int *status)
{
	int64_t deadline = monotonic_ms() + (int64_t)timeout_s * 1000;
	size_t sent = 0;

	for (;;) {
		struct timespec tick = {.tv_sec = 0, .tv_nsec = PL_AGENT_HOOK_TICK_MS * 1000000L};
		pid_t w;
		if (*infd >= 0)
			hook_feed(infd, in, len, &sent);
		w = waitpid(pid, status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			return false;
		if (monotonic_ms() >= deadline) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return true;
		}
		nanosleep(&tick, NULL);
	}
}

void pl_agent_hook_run(const char *cmd, char *const *envp, const uint8_t *in, size_t len,
                       unsigned timeout_s, struct pl_agent_hook_result *res)
{
	int pipefd[2] = {-1, -1}, status = 0;
	long maxfd = sysconf(_SC_OPEN_MAX);
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (in && pipe(pipefd) != 0) {
		res->end = PL_AGENT_HOOK_NO_PIPE;
		res->code = errno;
		goto out;
	}
	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	pid = fork();
	if (pid < 0) {
		res->end = PL_AGENT_HOOK_NO_FORK;
		res->code = errno;
		goto out;
	}
	if (pid == 0)
		hook_child(cmd, envp, in ? pipefd[0] : open("/dev/null", O_RDONLY), maxfd);
	setpgid(pid, pid); /* also here: whichever runs first, the group exists before a kill */
	if (in) {
		close(pipefd[0]);
		pipefd[0] = -1;
		fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
	}
	if (hook_wait(pid, &pipefd[1], in, len, timeout_s, &status)) {
		res->end = PL_AGENT_HOOK_KILLED;
		res->code = (int)timeout_s;
	} else if (WIFEXITED(status)) {
		res->code = WEXITSTATUS(status);
		res->end = res->code == 0 ? PL_AGENT_HOOK_DONE : PL_AGENT_HOOK_FAILED;
	} else if (WIFSIGNALED(status)) {
		res->end = PL_AGENT_HOOK_SIGNALED;
		res->code = WTERMSIG(status);
	} else {
		res->end = PL_AGENT_HOOK_LOST;
	}
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
}
