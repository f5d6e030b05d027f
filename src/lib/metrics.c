/* Lock-free counters and histograms, and the Prometheus text format (0.0.4) they are read in. */
#include <parley/metrics.h>

#include <string.h>

#include "internal.h"

int pl_metrics_hist_init(struct pl_metrics_hist *h, const uint64_t *bounds, size_t n)
{
	if (n > PL_METRICS_BUCKETS_MAX)
		return PL_EINVAL;
	for (size_t i = 1; i < n; i++)
		if (bounds[i] <= bounds[i - 1])
			return PL_EINVAL;
	memset(h, 0, sizeof(*h));
	memcpy(h->bounds, bounds, n * sizeof(*bounds));
	h->nbounds = n;
	for (size_t i = 0; i <= PL_METRICS_BUCKETS_MAX; i++)
		atomic_init(&h->buckets[i], 0);
	atomic_init(&h->sum, 0);
	atomic_init(&h->count, 0);
	return 0;
}

void pl_metrics_hist_observe(struct pl_metrics_hist *h, uint64_t v)
{
	size_t i = 0;

	while (i < h->nbounds && v > h->bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

int pl_metrics_family(struct pl_buf *out, const char *name, const char *type, const char *help)
{
	return pl_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A value as Prometheus reads it: integers exactly, others with enough digits. */
static int add_value(struct pl_buf *out, double v)
{
	if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v)
		return pl_buf_addf(out, "%.0f", v);
	return pl_buf_addf(out, "%.9g", v);
}

int pl_metrics_sample(struct pl_buf *out, const char *name, const char *labels, double value)
{
	int ret =
	        labels ? pl_buf_addf(out, "%s{%s} ", name, labels) : pl_buf_addf(out, "%s ", name);

	if (ret == 0)
		ret = add_value(out, value);
	if (ret == 0)
		ret = pl_buf_adds(out, "\n");
	return ret;
}

int pl_metrics_label(struct pl_buf *out, const char *name, const char *value)
{
	size_t start = out->len;
	int ret = pl_buf_addf(out, "%s=\"", name);

	for (const char *p = value; ret == 0 && *p; p++) {
		if (*p == '\\' || *p == '"')
			ret = pl_buf_addf(out, "\\%c", *p);
		else if (*p == '\n')
			ret = pl_buf_adds(out, "\\n");
		else
			ret = pl_buf_add(out, p, 1);
	}
	if (ret == 0)
		ret = pl_buf_adds(out, "\"");
	if (ret != 0 && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return ret;
}

int pl_metrics_hist_write(struct pl_buf *out, const char *name, const struct pl_metrics_hist *h,
                          double scale)
{
	uint64_t cum = 0;
	int ret = 0;

	for (size_t i = 0; ret == 0 && i <= h->nbounds; i++) {
		cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
		ret = pl_buf_addf(out, "%s_bucket{le=\"", name);
		if (ret == 0)
			ret = i < h->nbounds ? add_value(out, (double)h->bounds[i] / scale)
			                     : pl_buf_adds(out, "+Inf");
		if (ret == 0)
			ret = pl_buf_addf(out, "\"} %llu\n", (unsigned long long)cum);
	}
	if (ret == 0)
		ret = pl_buf_addf(out, "%s_sum ", name);
	if (ret == 0)
		ret = add_value(out, (double)atomic_load_explicit(&h->sum, memory_order_relaxed) /
		                             scale);
	/* The count is the buckets' total read above, so that _count equals the +Inf bucket. */
	if (ret == 0)
		ret = pl_buf_addf(out, "\n%s_count %llu\n", name, (unsigned long long)cum);
	return ret;
}
