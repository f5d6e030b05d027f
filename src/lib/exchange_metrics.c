/* The exchange's metrics: what the sequencer counted without a lock, written for a scrape. */
#include "exchange_int.h"

#include <parley/metrics.h>

/* Upper bounds of the batch size histogram (records) and of the latency ones (microseconds). */
static const uint64_t batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384};
static const uint64_t latency_bounds[] = {100,    250,    500,     1000,    2500,
                                          5000,   10000,  25000,   50000,   100000,
                                          250000, 500000, 1000000, 2500000, 10000000};

/* After the options are set: the age of the newest checkpoint counts from now. */
void pl__ex_metrics_init(struct pl_exchange *ex)
{
	for (size_t k = 0; k <= PL_KIND_COUNT; k++)
		atomic_init(&ex->m_records[k], 0);
	atomic_init(&ex->m_batch_failures, 0);
	atomic_init(&ex->m_published, ex_now(ex));
	/* The bounds are constants within PL_METRICS_BUCKETS_MAX: these cannot fail. */
	(void)!pl_metrics_hist_init(&ex->m_batch, batch_bounds, PL__ARRAY_LEN(batch_bounds));
	(void)!pl_metrics_hist_init(&ex->m_commit_us, latency_bounds,
	                            PL__ARRAY_LEN(latency_bounds));
	(void)!pl_metrics_hist_init(&ex->m_sync_us, latency_bounds, PL__ARRAY_LEN(latency_bounds));
}

int64_t pl_exchange_checkpoint_age(struct pl_exchange *ex, int64_t now)
{
	int64_t at = atomic_load_explicit(&ex->m_published, memory_order_relaxed);

	return now > at ? now - at : 0;
}

int pl_exchange_metrics_write(struct pl_exchange *ex, int64_t now, struct pl_buf *out)
{
	size_t start = out->len, qlen;
	uint64_t size;
	char labels[64];
	int ret;

	pthread_mutex_lock(&ex->mu);
	qlen = ex->qlen;
	pthread_mutex_unlock(&ex->mu);
	size = pl_exchange_size(ex);
	ret = pl_metrics_family(out, "parley_records_total", "counter", "Records logged, by kind.");
	for (size_t k = 1; ret == 0 && k <= PL_KIND_COUNT; k++) {
		snprintf(labels, sizeof(labels), "kind=\"%s\"",
		         pl_record_kind_name((enum pl_record_kind)k));
		ret = pl_metrics_sample(
		        out, "parley_records_total", labels,
		        (double)atomic_load_explicit(&ex->m_records[k], memory_order_relaxed));
	}
	if (ret == 0)
		ret = pl_metrics_family(out, "parley_batch_records", "histogram",
		                        "Records in each committed batch.");
	if (ret == 0)
		ret = pl_metrics_hist_write(out, "parley_batch_records", &ex->m_batch, 1);
	if (ret == 0)
		ret = pl_metrics_family(out, "parley_commit_seconds", "histogram",
		                        "Time to commit a batch and make it durable.");
	if (ret == 0)
		ret = pl_metrics_hist_write(out, "parley_commit_seconds", &ex->m_commit_us, 1e6);
	if (ret == 0)
		ret = pl_metrics_family(
		        out, "parley_fsync_seconds", "histogram",
		        "Time to sync a committed batch and its checkpoint to disk.");
	if (ret == 0)
		ret = pl_metrics_hist_write(out, "parley_fsync_seconds", &ex->m_sync_us, 1e6);
	if (ret == 0)
		ret = pl_metrics_family(out, "parley_batch_failures_total", "counter",
		                        "Batches that failed and were rolled back.");
	if (ret == 0)
		ret = pl_metrics_sample(
		        out, "parley_batch_failures_total", NULL,
		        (double)atomic_load_explicit(&ex->m_batch_failures, memory_order_relaxed));
	if (ret == 0)
		ret = pl_metrics_family(out, "parley_sequencer_queue", "gauge",
		                        "Submissions and other work waiting for the sequencer.");
	if (ret == 0)
		ret = pl_metrics_sample(out, "parley_sequencer_queue", NULL, (double)qlen);
	if (ret == 0)
		ret = pl_metrics_family(out, "parley_tree_size", "gauge",
		                        "Entries in the log under the newest checkpoint.");
	if (ret == 0)
		ret = pl_metrics_sample(out, "parley_tree_size", NULL, (double)size);
	if (ret == 0)
		ret = pl_metrics_family(out, "parley_checkpoint_age_seconds", "gauge",
		                        "Seconds since the newest checkpoint was published.");
	if (ret == 0)
		ret = pl_metrics_sample(out, "parley_checkpoint_age_seconds", NULL,
		                        (double)pl_exchange_checkpoint_age(ex, now));
	if (ret != 0 && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return ret;
}
