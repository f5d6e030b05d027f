/* parleyd's operators' endpoints: /metrics in the Prometheus text format, and /health. */
#include "http_private.h"

#include <stdio.h>
#include <stdlib.h>

#include <parley/metrics.h>

#include "daemon/log.h"
#include "internal.h"
#include "witness_client.h"

#define TEXT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_MAX  (1u << 20)

/* The statuses counted apart; any other is counted as the last slot's "other". */
static const unsigned statuses[STATUS_SLOTS - 1] = {200, 201, 304, 400, 401, 403, 404, 405, 408,
                                                    409, 413, 414, 422, 429, 500, 503, 507};

/* The route's name in the `route` label (R_NONE: a request no route took). */
static const char *const route_names[ROUTES] = {
        [R_NONE] = "none",
        [R_HEALTH] = "health",
        [R_CHECKPOINT] = "checkpoint",
        [R_LOG_KEY] = "log_key",
        [R_TILE] = "tile",
        [R_ENTRIES] = "entries",
        [R_PAYLOAD_POST] = "payload_post",
        [R_PAYLOAD_GET] = "payload_get",
        [R_RECORD_POST] = "record_post",
        [R_RECORD_GET] = "record_get",
        [R_PROOF] = "proof",
        [R_CONSISTENCY] = "consistency",
        [R_THREAD] = "thread",
        [R_PARTIES] = "parties",
        [R_STATEMENTS] = "statements",
        [R_INBOX] = "inbox",
        [R_LINE] = "line",
        [R_INDEX] = "index",
        [R_INDEX_RECORD] = "index_record",
        [R_EXPLORER] = "explorer",
        [R_EXPLORER_STMT] = "explorer_statement",
        [R_EXPLORER_DIR] = "explorer_directory",
        [R_EXPLORER_LOG] = "explorer_log",
        [R_EXPLORER_LINES] = "explorer_lines",
        [R_FEED] = "feed",
        [R_PUBLIC_RECORD] = "public_record",
        [R_PUBLIC_PROOF] = "public_proof",
        [R_METRICS] = "metrics",
};

void pl__http_count(struct pl_parleyd_http *h, enum pl_parleyd_route route, unsigned status)
{
	size_t slot = 0;

	while (slot < STATUS_SLOTS - 1 && statuses[slot] != status)
		slot++;
	if ((unsigned)route < ROUTES)
		atomic_fetch_add_explicit(&h->answers[route][slot], 1, memory_order_relaxed);
}

/* The answers counted so far, by route and status; only the pairs that happened. */
static int write_answers(struct pl_parleyd_http *h, struct pl_buf *out)
{
	char labels[96];
	int ret = pl_metrics_family(out, "parley_http_requests_total", "counter",
	                            "Requests answered, by route and HTTP status.");

	for (size_t rt = 0; ret == 0 && rt < ROUTES; rt++) {
		for (size_t s = 0; ret == 0 && s < STATUS_SLOTS; s++) {
			uint64_t v = atomic_load_explicit(&h->answers[rt][s], memory_order_relaxed);
			if (v == 0)
				continue;
			if (s < STATUS_SLOTS - 1)
				snprintf(labels, sizeof(labels), "route=\"%s\",code=\"%u\"",
				         route_names[rt] ? route_names[rt] : "none", statuses[s]);
			else
				snprintf(labels, sizeof(labels), "route=\"%s\",code=\"other\"",
				         route_names[rt] ? route_names[rt] : "none");
			ret = pl_metrics_sample(out, "parley_http_requests_total", labels,
			                        (double)v);
		}
	}
	return ret;
}

/* Connections, requests in progress, long polls and event streams, counted now. */
static int write_connections(struct pl_parleyd_http *h, struct pl_buf *out)
{
	size_t conns = 0, waiting = 0, streams;
	int ret;

	pthread_mutex_lock(&h->conn_lock);
	for (struct conn *c = h->conns; c; c = c->next)
		conns++;
	pthread_mutex_unlock(&h->conn_lock);
	pthread_mutex_lock(&h->wait_lock);
	for (struct req *r = h->waiters; r; r = r->wnext)
		waiting++;
	pthread_mutex_unlock(&h->wait_lock);
	pthread_mutex_lock(&h->stream_lock);
	streams = h->nstreams;
	pthread_mutex_unlock(&h->stream_lock);
	ret = pl_metrics_family(out, "parley_http_connections", "gauge", "Open TCP connections.");
	if (ret == 0)
		ret = pl_metrics_sample(out, "parley_http_connections", NULL, (double)conns);
	if (ret == 0)
		ret = pl_metrics_family(out, "parley_http_requests_in_progress", "gauge",
		                        "Requests between their first byte and their answer.");
	if (ret == 0)
		ret = pl_metrics_sample(out, "parley_http_requests_in_progress", NULL,
		                        (double)atomic_load(&h->inflight));
	if (ret == 0)
		ret = pl_metrics_family(out, "parley_http_waiting", "gauge",
		                        "Long polls and event streams waiting for records.");
	if (ret == 0)
		ret = pl_metrics_sample(out, "parley_http_waiting", NULL, (double)waiting);
	if (ret == 0)
		ret = pl_metrics_family(out, "parley_http_streams", "gauge", "Open event streams.");
	if (ret == 0)
		ret = pl_metrics_sample(out, "parley_http_streams", NULL, (double)streams);
	return ret;
}

/* Each configured witness: what it cosigned, how long ago, how often it failed. */
static int write_witnesses(struct pl_parleyd_http *h, int64_t now, struct pl_buf *out)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
	        {"parley_witness_cosigned_size", "gauge",
	         "The largest tree size the witness cosigned since parleyd started."},
	        {"parley_witness_lag_entries", "gauge",
	         "Entries of the log the witness has not cosigned yet."},
	        {"parley_witness_lag_seconds", "gauge",
	         "Seconds since the witness last cosigned (or since parleyd started)."},
	        {"parley_witness_failures_total", "counter",
	         "Cosigning requests to the witness that failed."},
	        {"parley_witness_alarms_total", "counter",
	         "Answers in which the witness claimed a larger tree than the log's."},
	};
	struct pl_witness_peer *peers = malloc(PL_PARLEYD_WITNESSES_MAX * sizeof(*peers));
	struct pl_parleyd_witness_stats st[PL_PARLEYD_WITNESSES_MAX];
	uint64_t size = pl_exchange_size(h->ex);
	size_t n;
	int ret = 0;

	if (!peers)
		return PL_ENOMEM;
	n = pl_parleyd_witness_list(peers, st, PL_PARLEYD_WITNESSES_MAX);
	for (size_t f = 0; ret == 0 && n && f < PL__ARRAY_LEN(fam); f++) {
		ret = pl_metrics_family(out, fam[f].name, fam[f].type, fam[f].help);
		for (size_t i = 0; ret == 0 && i < n; i++) {
			struct pl_buf labels;
			double v;
			pl_buf_init(&labels, 2 * PL_KEY_NAME_MAX + 16);
			ret = pl_metrics_label(&labels, "witness", peers[i].key.name);
			switch (f) {
			case 0:
				v = (double)st[i].cosigned_size;
				break;
			case 1:
				v = size > st[i].cosigned_size
				            ? (double)(size - st[i].cosigned_size)
				            : 0;
				break;
			case 2:
				v = now > st[i].last_cosigned ? (double)(now - st[i].last_cosigned)
				                              : 0;
				break;
			case 3:
				v = (double)st[i].failures;
				break;
			default:
				v = (double)st[i].alarms;
				break;
			}
			if (ret == 0)
				ret = pl_metrics_sample(out, fam[f].name, labels.data, v);
			pl_buf_release(&labels);
		}
	}
	free(peers);
	return ret;
}

enum MHD_Result pl__http_do_metrics(struct req *r)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	int64_t now = (int64_t)time(NULL);
	struct pl_buf b;
	size_t len = 0;
	char *s;
	int err;

	if (!ci || !pl_parleyd_config_metrics_allowed(&r->h->cfg, ci->client_addr))
		return pl__http_send_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
		                           "metrics are read from the addresses in parleyd.conf "
		                           "metrics_allow only");
	pl_buf_init(&b, METRICS_MAX);
	err = pl_exchange_metrics_write(r->h->ex, now, &b);
	if (err == 0)
		err = write_answers(r->h, &b);
	if (err == 0)
		err = write_connections(r->h, &b);
	if (err == 0)
		err = write_witnesses(r->h, now, &b);
	if (err || !(s = pl_buf_detach(&b, &len))) {
		pl_buf_release(&b);
		return pl__http_send_lib_error(r, err ? err : PL_ENOMEM, "metrics");
	}
	return pl__http_send_bytes(r, MHD_HTTP_OK, TEXT_METRICS, NULL, s, len, true);
}

enum MHD_Result pl__http_do_health(struct req *r)
{
	const struct pl_parleyd_config *c = &r->h->cfg;
	struct pl_parleyd_witness_stats st[PL_PARLEYD_WITNESSES_MAX];
	struct pl_witness_peer *peers = NULL;
	int64_t now = (int64_t)time(NULL), age;
	char why[PL_KEY_NAME_MAX + 160];
	size_t n = 0;

	why[0] = '\0';
	age = pl_exchange_checkpoint_age(r->h->ex, now);
	if (c->health_checkpoint_age && age > (int64_t)c->health_checkpoint_age)
		snprintf(why, sizeof(why),
		         "unhealthy: the newest checkpoint is %lld s old (health_checkpoint_age "
		         "%u)\n",
		         (long long)age, c->health_checkpoint_age);
	if (!why[0] && c->health_witness_age) {
		peers = malloc(PL_PARLEYD_WITNESSES_MAX * sizeof(*peers));
		if (peers)
			n = pl_parleyd_witness_list(peers, st, PL_PARLEYD_WITNESSES_MAX);
		else
			snprintf(why, sizeof(why), "unhealthy: out of memory\n");
	}
	for (size_t i = 0; !why[0] && i < n; i++) {
		/* A witness that is up to date has nothing to cosign: that is no silence. */
		if (st[i].cosigned_size >= pl_exchange_size(r->h->ex))
			continue;
		if (now - st[i].last_cosigned > (int64_t)c->health_witness_age)
			snprintf(why, sizeof(why),
			         "unhealthy: witness %s has not cosigned for %lld s "
			         "(health_witness_age %u)\n",
			         peers[i].key.name, (long long)(now - st[i].last_cosigned),
			         c->health_witness_age);
	}
	free(peers);
	if (why[0])
		return pl__http_send_bytes(r, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT_PLAIN, NULL, why,
		                           strlen(why), false);
	return pl__http_send_bytes(r, MHD_HTTP_OK, TEXT_PLAIN, NULL, (void *)"ok\n", 3, false);
}
