/* parleyd's waiting requests: long polls, event streams and their slots, the notifier thread. */
#include "http_private.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <parley/apicodec.h>
#include <parley/encoding.h>

#include "daemon/log.h"
#include "internal.h"

/*
 * Parses a decimal with no leading zeros, no sign, at most max. Runs on an MHD
 * worker, in the access handler.
 */
static bool parse_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	return pl_parse_u64(out, s, n, max) == 0;
}

/*
 * Takes r out of h->waiters; wait_lock held. Runs on the notifier thread, on
 * an MHD worker when r completes, or on the thread that stops the server.
 */
void pl__http_wait_unlink(struct pl_parleyd_http *h, struct req *r)
{
	HTTP_LIST_UNLINK(h->waiters, r, wnext, wprev);
	r->wnext = r->wprev = NULL;
	r->in_wait = false;
}

/*
 * Suspends the connection until the tree grows past r->size0, the deadline
 * passes or the server ends. Returns false (nothing suspended) when the tree
 * already grew or the server is ending: the caller reads again at once. Runs
 * on an MHD worker, in the access handler or the content reader.
 */
static bool wait_suspend(struct req *r, uint64_t deadline_ms)
{
	struct pl_parleyd_http *h = r->h;
	bool suspended = false;

	pthread_mutex_lock(&h->wait_lock);
	if (!h->ending && pl_exchange_size(h->ex) <= r->size0 && now_ms() < deadline_ms) {
		r->deadline_ms = deadline_ms;
		HTTP_LIST_PUSH(h->waiters, r, wnext, wprev);
		r->in_wait = true;
		/* Suspended under the lock so that the notifier cannot resume it first. */
		MHD_suspend_connection(r->conn);
		suspended = true;
	}
	pthread_mutex_unlock(&h->wait_lock);
	return suspended;
}

/*
 * Whether the client of a waiting request has closed its end: MHD does not
 * watch a suspended connection, so without this a stream whose client left
 * would hold its slot until its next heartbeat. Data sent meanwhile (a
 * pipelined request) counts as alive. Runs on the notifier thread.
 */
static bool peer_closed(const struct req *w)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(w->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	char c;
	ssize_t n;

	if (!ci)
		return false;
	n = recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/*
 * The notifier thread: resumes the waiting requests when the tree grows, their
 * deadline passes, their client leaves or the server ends; sweeps the
 * connections once a tick.
 */
void *pl__http_notifier_main(void *arg)
{
	struct pl_parleyd_http *h = arg;
	uint64_t last = pl_exchange_size(h->ex), checked = now_ms();

	while (!h->stop_notifier) {
		uint64_t t0 = now_ms(), size = pl_exchange_wait(h->ex, last, NOTIFY_TICK_MS), now;
		bool check;

		now = now_ms();
		/* Once a tick, not at every commit: the sequencer may commit a thousand times a
		 * second. */
		check = now - checked >= NOTIFY_TICK_MS;
		if (check)
			checked = now;
		pthread_mutex_lock(&h->wait_lock);
		for (struct req *w = h->waiters, *next; w; w = next) {
			bool wake = size > w->size0 || now >= w->deadline_ms || h->ending;
			next = w->wnext;
			if (!wake && check && peer_closed(w)) {
				w->peer_gone = true;
				wake = true;
			}
			if (wake) {
				pl__http_wait_unlink(h, w);
				MHD_resume_connection(w->conn);
			}
		}
		pthread_mutex_unlock(&h->wait_lock);
		if (check)
			pl__http_conn_sweep(h, now);
		if (size == last && now - t0 < NOTIFY_TICK_MS / 10) {
			/* The exchange is shut down and returns at once: do not spin. */
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		last = size;
	}
	return NULL;
}

/*
 * Resumes every waiting request, so that MHD can be stopped (it must not be
 * with a suspended connection). Runs on the thread that stops the server, once
 * the notifier thread has ended.
 */
void pl__http_wait_end(struct pl_parleyd_http *h)
{
	pthread_mutex_lock(&h->wait_lock);
	while (h->waiters) {
		struct req *w = h->waiters;
		pl__http_wait_unlink(h, w);
		MHD_resume_connection(w->conn);
	}
	pthread_mutex_unlock(&h->wait_lock);
}

/*
 * Reads a page of the inbox from r->cursor, noting the tree size first (for
 * wait_suspend()). Runs on an MHD worker, in the content reader.
 */
static int inbox_read(struct req *r, struct pl_exchange_list *l)
{
	memset(l, 0, sizeof(*l));
	r->size0 = pl_exchange_size(r->h->ex);
	return pl_exchange_inbox(r->h->ex, r->party, r->cursor, LIST_PAGE, l);
}

/*
 * GET /inbox as a long poll: waits up to wait seconds for a record. Runs on an
 * MHD worker, in the access handler. Again when resumed.
 */
static enum MHD_Result do_inbox_poll(struct req *r)
{
	uint64_t poll_max = atomic_load(&r->h->live_poll_timeout);
	uint64_t wait_s = (r->q.has & Q_WAIT) ? r->q.wait : poll_max;
	int err;

	if (wait_s > poll_max)
		wait_s = poll_max;
	if (r->deadline_ms == 0)
		r->deadline_ms = now_ms() + wait_s * 1000u;
	for (;;) {
		/* The tree size first, for wait_suspend(); then the answer's first chunk. */
		r->size0 = pl_exchange_size(r->h->ex);
		pl__http_list_begin(r, LS_INBOX);
		err = pl_apicodec_records_open(&r->out);
		if (!err)
			err = pl__http_list_fill(r);
		if (err || r->count > 0 || wait_s == 0 || r->h->ending ||
		    now_ms() >= r->deadline_ms)
			break;
		pl_buf_release(&r->out);
		if (wait_suspend(r, r->deadline_ms))
			return MHD_YES; /* resumed by the notifier; the handler runs again */
	}
	return pl__http_list_send(r, err, "inbox");
}

/*
 * Formats records as events into r->out, up to about LIST_CHUNK bytes, and
 * moves the cursor past what was formatted (or past the whole page). Runs on
 * an MHD worker, in the content reader.
 */
static int sse_format(struct req *r, const struct pl_exchange_list *l)
{
	int err = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (i > 0 && r->out.len >= LIST_CHUNK) {
			r->cursor = l->v[i].index; /* the rest on the next read */
			return 0;
		}
		err = pl_apicodec_sse_record(&r->out, &l->v[i]);
		if (err)
			return err;
	}
	if (l->next > r->cursor)
		r->cursor = l->next;
	return 0;
}

/*
 * MHD's content reader of an event stream: events, heartbeats, and waits in
 * between. Runs on an MHD worker, in the content reader.
 */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct req *r = cls;
	struct pl_parleyd_http *h = r->h;

	(void)pos;
	for (;;) {
		struct pl_exchange_list l;
		uint64_t now;
		int err;

		if (r->out_off < r->out.len) {
			size_t n = r->out.len - r->out_off;
			if (n > max)
				n = max;
			memcpy(buf, r->out.data + r->out_off, n);
			r->out_off += n;
			if (r->out_off == r->out.len) {
				/* Freed, not kept: hundreds of idle streams must not hold buffers.
				 */
				pl_buf_release(&r->out);
				r->out_off = 0;
			}
			return (ssize_t)n;
		}
		if (h->ending)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (r->peer_gone)
			return MHD_CONTENT_READER_END_WITH_ERROR; /* frees its slot now */
		err = inbox_read(r, &l);
		if (!err)
			err = sse_format(r, &l);
		pl_exchange_list_release(&l);
		if (err)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (r->out.len > 0)
			continue;
		now = now_ms();
		if (now >= r->beat_ms) {
			r->beat_ms = now + HEARTBEAT_MS;
			if (pl_buf_adds(&r->out, ": keep-alive\n\n") != 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			continue;
		}
		if (wait_suspend(r, r->beat_ms))
			return 0; /* resumed by the notifier; MHD calls again */
	}
}

/*
 * Takes an event-stream slot for r: at most sse_max in all and sse_per_key for
 * one key, so that one member cannot take every stream. NULL when taken, else
 * why not. Runs on an MHD worker, in the access handler.
 */
static const char *stream_take(struct req *r)
{
	struct pl_parleyd_http *h = r->h;
	const char *why = NULL;
	size_t mine = 0;

	pthread_mutex_lock(&h->stream_lock);
	for (const struct req *s = h->streams; s && mine < h->cfg.sse_per_key; s = s->snext)
		if (strcmp(s->party, r->party) == 0)
			mine++;
	if (h->nstreams >= h->cfg.sse_max)
		why = "too many open event streams";
	else if (mine >= h->cfg.sse_per_key)
		why = "too many open event streams for this key";
	if (!why) {
		HTTP_LIST_PUSH(h->streams, r, snext, sprev);
		h->nstreams++;
		r->sse = true;
	}
	pthread_mutex_unlock(&h->stream_lock);
	return why;
}

/* Gives back r's event-stream slot. Runs on an MHD worker, when its request completes. */
void pl__http_stream_put(struct pl_parleyd_http *h, struct req *r)
{
	pthread_mutex_lock(&h->stream_lock);
	HTTP_LIST_UNLINK(h->streams, r, snext, sprev);
	h->nstreams--;
	pthread_mutex_unlock(&h->stream_lock);
	r->sse = false;
}

/*
 * GET /inbox as an event stream (Accept: text/event-stream). Runs on an MHD
 * worker, in the access handler.
 */
static enum MHD_Result do_inbox_stream(struct req *r)
{
	struct MHD_Response *resp;
	const char *why = stream_take(r);

	if (why) {
		pl_daemon_log("warn", "http", "msg=\"event stream refused\" reason=\"%s\" party=%s",
		              why, r->party);
		return pl__http_send_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", why);
	}
	pl_buf_init(&r->out, SSE_BUFFER_MAX);
	r->beat_ms = now_ms() + HEARTBEAT_MS;
	if (pl_buf_adds(&r->out, "retry: 1000\n\n") != 0)
		return MHD_NO;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_read, r, NULL);
	if (!resp)
		return MHD_NO;
	pl__http_headers(resp, "text/event-stream", CACHE_NONE);
	return pl__http_queue(r, MHD_HTTP_OK, resp);
}

/*
 * GET /inbox: a page, a long poll or an event stream. Runs on an MHD worker,
 * in the access handler.
 */
enum MHD_Result pl__http_do_inbox(struct req *r)
{
	const char *accept, *last;

	if (r->deadline_ms != 0)
		return do_inbox_poll(r); /* resumed long poll */
	if (!(r->q.has & Q_AFTER)) {
		/* A reconnecting event source resumes from its last event id. */
		last = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Last-Event-ID");
		if (last && !parse_dec(last, strlen(last), INT64_MAX, &r->q.after))
			return pl__http_send_error(r, MHD_HTTP_BAD_REQUEST, "malformed",
			                           "bad Last-Event-ID");
	}
	r->cursor = r->q.after;
	accept = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	if (accept && strstr(accept, "text/event-stream"))
		return do_inbox_stream(r);
	return do_inbox_poll(r);
}
