/* parleyd's witness client: asks each configured witness to cosign the newest checkpoint. */
#include "witness_client.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <parley/checkpoint.h>
#include <parley/cosignature.h>
#include <parley/witness.h>

#include "daemon/log.h"
#include "banned.h"

#define CONNECT_MS     2000
#define REQUEST_MS     5000
#define BACKOFF_MAX_MS 60000 /* longest wait between two tries of a failing witness */

/* What the client remembers of one witness (in memory: a restart asks again from 0). */
struct peer_state {
	uint64_t known;    /* the size the witness last cosigned, as it told us (0: unknown) */
	uint64_t done;     /* the largest size whose cosignature by it we stored */
	bool has_done;     /* done is meaningful */
	unsigned failures; /* in a row */
	int64_t next_ms;   /* monotonic time before which it is not asked again */
};

struct pl_parleyd_witness {
	struct pl_exchange *ex;
	size_t n;
	struct pl_witness_peer peers[PL_PARLEYD_WITNESSES_MAX];
	struct peer_state st[PL_PARLEYD_WITNESSES_MAX];
	uint32_t interval_ms;
	struct pl_witness_http *http;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_bool stopping;
};

/*
 * The witnesses of the running client and their counters, behind
 * pl_parleyd_witness_list(): one client per process. reg_n and reg_peers
 * change only under reg_mu, when a client starts or stops (its thread not
 * running); the counters are the client thread's, lock-free.
 */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pl_witness_peer reg_peers[PL_PARLEYD_WITNESSES_MAX];
static size_t reg_n;
static struct {
	atomic_uint_fast64_t cosigned_size;
	atomic_int_fast64_t last_cosigned;
	atomic_uint_fast64_t failures;
	atomic_uint_fast64_t alarms;
} stats[PL_PARLEYD_WITNESSES_MAX];

size_t pl_parleyd_witness_list(struct pl_witness_peer *peers, struct pl_parleyd_witness_stats *st,
                               size_t max)
{
	size_t n;

	pthread_mutex_lock(&reg_mu);
	n = reg_n < max ? reg_n : max;
	for (size_t i = 0; i < n; i++) {
		peers[i] = reg_peers[i];
		if (!st)
			continue;
		st[i].cosigned_size =
		        atomic_load_explicit(&stats[i].cosigned_size, memory_order_relaxed);
		st[i].last_cosigned =
		        atomic_load_explicit(&stats[i].last_cosigned, memory_order_relaxed);
		st[i].failures = atomic_load_explicit(&stats[i].failures, memory_order_relaxed);
		st[i].alarms = atomic_load_explicit(&stats[i].alarms, memory_order_relaxed);
	}
	pthread_mutex_unlock(&reg_mu);
	return n;
}

/* Makes w's witnesses the listed ones, their counters new (w's thread not running yet). */
static void registry_set(const struct pl_parleyd_witness *w)
{
	int64_t now = (int64_t)time(NULL);

	pthread_mutex_lock(&reg_mu);
	reg_n = w ? w->n : 0;
	for (size_t i = 0; i < reg_n; i++) {
		reg_peers[i] = w->peers[i];
		atomic_store_explicit(&stats[i].cosigned_size, 0, memory_order_relaxed);
		/* A witness's silence counts from the start, not from 1970. */
		atomic_store_explicit(&stats[i].last_cosigned, now, memory_order_relaxed);
		atomic_store_explicit(&stats[i].failures, 0, memory_order_relaxed);
		atomic_store_explicit(&stats[i].alarms, 0, memory_order_relaxed);
	}
	pthread_mutex_unlock(&reg_mu);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_cancelled(void *arg)
{
	struct pl_parleyd_witness *w = arg;

	return atomic_load(&w->stopping);
}

static int consistency(void *arg, uint64_t old_size, uint64_t new_size,
                       uint8_t hashes[][PL_HASH_BYTES], size_t *n)
{
	return pl_exchange_consistency(arg, old_size, new_size, hashes, n);
}

/* Exponential back-off from the interval, capped. */
static int64_t backoff_ms(const struct pl_parleyd_witness *w, unsigned failures)
{
	int64_t ms = w->interval_ms;

	for (unsigned i = 0; i < failures && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

/* One round: the latest checkpoint to every witness that has not cosigned it and is due. */
static void round_once(struct pl_parleyd_witness *w, struct pl_buf *note, struct pl_buf *lines,
                       struct pl_buf *detail)
{
	const struct pl_witness_transport t = {pl_witness_http_post, w->http};
	const struct pl_witness_proofs proofs = {consistency, w->ex};
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	int64_t now = mono_ms();
	int err;

	pl_buf_reset(note);
	pl_buf_reset(lines);
	if (!cp || pl_exchange_checkpoint(w->ex, note) != 0)
		goto out;
	err = pl_checkpoint_open(cp, NULL, note->data, note->len, pl_exchange_origin(w->ex),
	                         pl_exchange_vkey(w->ex), 1);
	if (err) {
		pl_daemon_log("error", "witness", "msg=\"own checkpoint does not open\" err=\"%s\"",
		              pl_strerror(err));
		goto out;
	}
	for (size_t i = 0; i < w->n && !atomic_load(&w->stopping); i++) {
		struct peer_state *s = &w->st[i];
		size_t mark = lines->len;
		if ((s->has_done && s->done >= cp->size) || now < s->next_ms)
			continue;
		pl_buf_reset(detail);
		err = pl_witness_cosign(&t, &proofs, &w->peers[i], &s->known, note->data, note->len,
		                        lines, detail);
		if (err) {
			/* A witness ahead of the log, or holding another tree at a size, is no
			 * outage: the log lost what it published or someone forks it. */
			bool alarm = err == PL_ERANGE || err == PL_EINCONSISTENT;
			lines->len = mark;
			atomic_fetch_add_explicit(&stats[i].failures, 1, memory_order_relaxed);
			if (alarm)
				atomic_fetch_add_explicit(&stats[i].alarms, 1,
				                          memory_order_relaxed);
			s->failures++;
			s->next_ms = now + backoff_ms(w, s->failures);
			if (alarm)
				pl_daemon_log(
				        "error", "witness",
				        "msg=\"ALARM: the witness disagrees with the log\" "
				        "witness=%s "
				        "url=%s size=%llu known=%llu err=\"%s\" detail=\"%s\"",
				        w->peers[i].key.name, w->peers[i].url,
				        (unsigned long long)cp->size, (unsigned long long)s->known,
				        pl_strerror(err), detail->data ? detail->data : "");
			pl_daemon_log(alarm ? "error" : "warn", "witness",
			              "msg=\"not cosigned\" witness=%s url=%s size=%llu err=\"%s\" "
			              "detail=\"%s\" failures=%u retry_ms=%lld",
			              w->peers[i].key.name, w->peers[i].url,
			              (unsigned long long)cp->size, pl_strerror(err),
			              detail->data ? detail->data : "", s->failures,
			              (long long)(s->next_ms - now));
			continue;
		}
		if (s->failures || !s->has_done)
			pl_daemon_log("info", "witness", "msg=\"cosigned\" witness=%s size=%llu",
			              w->peers[i].key.name, (unsigned long long)cp->size);
		s->failures = 0;
		s->next_ms = 0;
		s->done = cp->size;
		s->has_done = true;
		atomic_store_explicit(&stats[i].cosigned_size, cp->size, memory_order_relaxed);
		atomic_store_explicit(&stats[i].last_cosigned, (int64_t)time(NULL),
		                      memory_order_relaxed);
	}
	if (lines->len) {
		err = pl_exchange_checkpoint_cosign(w->ex, cp->size, lines->data, lines->len);
		if (err && err != PL_ESTATE)
			pl_daemon_log("error", "witness",
			              "msg=\"cannot store cosignatures\" size=%llu err=\"%s\"",
			              (unsigned long long)cp->size, pl_strerror(err));
	}
out:
	free(cp);
}

/* After a restart: the witnesses whose cosignature the stored cosigned checkpoint carries. */
static void remember_cosigned(struct pl_parleyd_witness *w)
{
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	struct pl_note *n = NULL;
	struct pl_buf note;

	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	if (!cp || pl_exchange_checkpoint_cosigned(w->ex, &note) != 0 ||
	    pl_checkpoint_open(cp, &n, note.data, note.len, pl_exchange_origin(w->ex),
	                       pl_exchange_vkey(w->ex), 1) != 0)
		goto out;
	for (size_t i = 0; i < w->n; i++) {
		for (size_t j = 0; j < n->nsigs; j++) {
			if (pl_cosignature_verify(&n->sigs[j], &w->peers[i].key, n->text,
			                          n->text_len, NULL) == 0) {
				w->st[i].known = w->st[i].done = cp->size;
				w->st[i].has_done = true;
				atomic_store_explicit(&stats[i].cosigned_size, cp->size,
				                      memory_order_relaxed);
			}
		}
	}
out:
	pl_note_free(n);
	pl_buf_release(&note);
	free(cp);
}

static void *witness_thread(void *arg)
{
	struct pl_parleyd_witness *w = arg;
	struct pl_buf note, lines, detail;

	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	pl_buf_init(&lines, PL_NOTE_MAX_BYTES);
	pl_buf_init(&detail, 512);
	remember_cosigned(w);
	while (!atomic_load(&w->stopping)) {
		struct timespec ts;
		round_once(w, &note, &lines, &detail);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += w->interval_ms / 1000;
		ts.tv_nsec += (long)(w->interval_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&w->mu);
		while (!atomic_load(&w->stopping) &&
		       pthread_cond_timedwait(&w->cv, &w->mu, &ts) == 0)
			;
		pthread_mutex_unlock(&w->mu);
	}
	pl_buf_release(&note);
	pl_buf_release(&lines);
	pl_buf_release(&detail);
	return NULL;
}

int pl_parleyd_witness_check(struct pl_exchange *ex, const struct pl_parleyd_config *cfg)
{
	const struct pl_witness_proofs proofs = {consistency, ex};
	struct pl_witness_http *http = NULL;
	struct pl_buf note, line, detail;
	uint64_t size = pl_exchange_size(ex);
	int ret = 0, err;

	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	pl_buf_init(&line, PL_NOTE_MAX_BYTES);
	pl_buf_init(&detail, 512);
	if (!cfg->nwitnesses)
		goto out;
	ret = pl_witness_http_new(&http, CONNECT_MS, REQUEST_MS, NULL, NULL);
	if (!ret)
		ret = pl_exchange_checkpoint(ex, &note);
	for (size_t i = 0; !ret && i < cfg->nwitnesses; i++) {
		const struct pl_witness_transport t = {pl_witness_http_post, http};
		const struct pl_witness_peer *p = &cfg->witnesses[i];
		uint64_t known = 0;
		pl_buf_reset(&line);
		pl_buf_reset(&detail);
		err = pl_witness_cosign(&t, &proofs, p, &known, note.data, note.len, &line,
		                        &detail);
		if (err == PL_ERANGE || err == PL_EINCONSISTENT) {
			pl_daemon_log("error", "witness",
			              "msg=\"witness %s cosigned %s %llu, but the store holds %llu "
			              "records: what was published is missing from the store; "
			              "refusing to sequence (see parleyd(8), RECOVERY)\" "
			              "witness=%s url=%s detail=\"%s\"",
			              p->key.name,
			              err == PL_ERANGE ? "tree size" : "another tree at size",
			              (unsigned long long)known, (unsigned long long)size,
			              p->key.name, p->url, detail.data ? detail.data : "");
			ret = PL_EINCONSISTENT;
		} else if (err) {
			pl_daemon_log("warn", "witness",
			              "msg=\"cannot learn what the witness cosigned; starting "
			              "without its word\" witness=%s url=%s err=\"%s\" "
			              "detail=\"%s\"",
			              p->key.name, p->url, pl_strerror(err),
			              detail.data ? detail.data : "");
		} else {
			pl_daemon_log("info", "witness",
			              "msg=\"witness agrees with the store\" witness=%s size=%llu",
			              p->key.name, (unsigned long long)size);
		}
	}
out:
	pl_witness_http_free(http);
	pl_buf_release(&note);
	pl_buf_release(&line);
	pl_buf_release(&detail);
	return ret;
}

int pl_parleyd_witness_start(struct pl_parleyd_witness **out, struct pl_exchange *ex,
                             const struct pl_parleyd_config *cfg)
{
	struct pl_parleyd_witness *w = NULL;
	pthread_condattr_t ca;
	int ret;

	*out = NULL;
	if (!cfg->nwitnesses)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return PL_ENOMEM;
	w->ex = ex;
	w->n = cfg->nwitnesses;
	memcpy(w->peers, cfg->witnesses, w->n * sizeof(w->peers[0]));
	w->interval_ms = cfg->witness_interval_ms ? cfg->witness_interval_ms
	                                          : PL_PARLEYD_WITNESS_INTERVAL_MS;
	atomic_init(&w->stopping, false);
	registry_set(w);
	ret = pl_witness_http_new(&w->http, CONNECT_MS, REQUEST_MS, is_cancelled, w);
	if (ret) {
		registry_set(NULL);
		free(w);
		return ret;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->thread, NULL, witness_thread, w) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		pl_witness_http_free(w->http);
		registry_set(NULL);
		free(w);
		return PL_ENOMEM;
	}
	pl_daemon_log("info", "witness",
	              "msg=\"witness client started\" witnesses=%zu "
	              "interval_ms=%u",
	              w->n, w->interval_ms);
	*out = w;
	return 0;
}

void pl_parleyd_witness_stop(struct pl_parleyd_witness *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->stopping, true);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	registry_set(NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	pl_witness_http_free(w->http);
	free(w);
}
