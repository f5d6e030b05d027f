/* Operators' metrics: lock-free counters and histograms, written in the Prometheus text format. */
#ifndef PARLEY_METRICS_H
#define PARLEY_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/error.h>

#define PL_METRICS_BUCKETS_MAX 16 /* finite buckets of one histogram */

/*
 * A histogram of non-negative integer observations (microseconds, records):
 * bounds[0..nbounds) ascending upper bounds (`le`), and one more bucket for
 * +Inf. Counts are atomics: any thread observes without a lock (one relaxed
 * add per bucket and for the sum and count), and a scrape reads a view that
 * may be an observation behind, as Prometheus clients' are. Initialise with
 * pl_metrics_hist_init(); nothing to free.
 */
struct pl_metrics_hist {
	uint64_t bounds[PL_METRICS_BUCKETS_MAX];
	size_t nbounds;
	atomic_uint_fast64_t buckets[PL_METRICS_BUCKETS_MAX + 1]; /* not cumulative */
	atomic_uint_fast64_t sum;
	atomic_uint_fast64_t count;
};

/* Sets h empty with bounds[0..n) (ascending, n <= PL_METRICS_BUCKETS_MAX). PL_EINVAL otherwise. */
int pl_metrics_hist_init(struct pl_metrics_hist *h, const uint64_t *bounds, size_t n) PL_WUR;

/* Counts one observation v. Lock-free; any thread. */
void pl_metrics_hist_observe(struct pl_metrics_hist *h, uint64_t v);

/*
 * Appends the `# HELP` and `# TYPE` lines of the family name (type "counter",
 * "gauge" or "histogram"; help one line of text) to out, in the Prometheus
 * text exposition format 0.0.4. Returns 0 or a pl_buf error.
 */
int pl_metrics_family(struct pl_buf *out, const char *name, const char *type,
                      const char *help) PL_WUR;

/*
 * Appends one sample `name{labels} value`: labels is NULL or the text inside
 * the braces, already escaped (`kind="send"`; label values from this project
 * are names and codes, never text from outside). Returns 0 or a pl_buf error.
 */
int pl_metrics_sample(struct pl_buf *out, const char *name, const char *labels,
                      double value) PL_WUR;

/*
 * Appends one label `name="value"` with value escaped as the format wants
 * (backslash, double quote and newline), for label values that come from
 * configuration (a witness's key name). Returns 0 or a pl_buf error.
 */
int pl_metrics_label(struct pl_buf *out, const char *name, const char *value) PL_WUR;

/*
 * Appends h as the samples of a histogram family name (its _bucket lines,
 * cumulative, then _sum and _count), each observation divided by scale (1e6
 * to write microseconds as seconds, 1 for counts). Returns 0 or a pl_buf
 * error.
 */
int pl_metrics_hist_write(struct pl_buf *out, const char *name, const struct pl_metrics_hist *h,
                          double scale) PL_WUR;

#endif
