/* Author chains: contiguity of one key's records (seq, prev, time) and fork detection. */
#include <parley/chain.h>

#include <stdlib.h>

#include "internal.h"

void pl_chain_link_set(struct pl_chain_link *l, const struct pl_record *r,
                       const uint8_t id[static PL_RECORD_ID_BYTES])
{
	memset(l, 0, sizeof(*l));
	l->seq = r->seq;
	l->time = r->time;
	l->has_prev = (r->has & PL_RECORD_HAS_PREV) != 0;
	if (l->has_prev)
		memcpy(l->prev, r->prev, PL_RECORD_ID_BYTES);
	memcpy(l->id, id, PL_RECORD_ID_BYTES);
}

/* A link on its own: the first record of a key has "prev -", every later one names a prev. */
static const char *link_fault(const struct pl_chain_link *l)
{
	if (l->seq == 0)
		return "seq is 0";
	if ((l->seq == 1) != !l->has_prev)
		return "prev must be - exactly when seq is 1";
	return NULL;
}

int pl_chain_check_next(const struct pl_chain_link *head, const struct pl_chain_link *next,
                        const char **why)
{
	const char *fault = link_fault(next);

	if (!fault && !head && next->seq != 1)
		fault = "the key has no record yet: seq must be 1";
	if (!fault && head) {
		if (next->seq <= head->seq)
			fault = memcmp(next->id, head->id, PL_RECORD_ID_BYTES) == 0 &&
			                        next->seq == head->seq
			                ? "record is already the head of its chain"
			                : "seq already used: a fork";
		else if (next->seq != head->seq + 1)
			fault = "seq skips ahead of the chain head";
		else if (memcmp(next->prev, head->id, PL_RECORD_ID_BYTES) != 0)
			fault = "prev is not the id of the chain head";
		else if (next->time < head->time)
			fault = "time is before the chain head's";
	}
	if (fault && why)
		*why = fault;
	return fault ? PL_ECHAIN : 0;
}

int pl_chain_check_segment(const struct pl_chain_link *links, size_t n, size_t *bad,
                           const char **why)
{
	const char *fault = NULL;
	size_t at = 0;
	int ret = 0;

	if (n == 0) {
		ret = PL_EINVAL;
		goto out;
	}
	fault = link_fault(&links[0]);
	for (size_t i = 1; !fault && i < n; i++) {
		if (pl_chain_check_next(&links[i - 1], &links[i], &fault) != 0)
			at = i;
	}
	if (fault) {
		ret = PL_ECHAIN;
		if (bad)
			*bad = at;
		if (why)
			*why = fault;
	}
out:
	return ret;
}

/* Sort key for fork finding: seq, then id, then the order the caller listed the links in. */
struct fork_entry {
	uint64_t seq;
	const uint8_t *id;
	size_t index;
};

static int fork_entry_cmp(const void *pa, const void *pb)
{
	const struct fork_entry *a = pa, *b = pb;
	int c;

	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	c = memcmp(a->id, b->id, PL_RECORD_ID_BYTES);
	if (c != 0)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

int pl_chain_find_forks(struct pl_chain_fork *forks, size_t max, size_t *nforks,
                        const struct pl_chain_link *links, size_t n)
{
	struct fork_entry *e = NULL;
	size_t found = 0;
	int ret = 0;

	if (n > 0) {
		e = calloc(n, sizeof(*e));
		if (!e) {
			ret = PL_ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		e[i] = (struct fork_entry){links[i].seq, links[i].id, i};
	if (n > 1)
		qsort(e, n, sizeof(*e), fork_entry_cmp);
	for (size_t g = 0; g < n;) {
		size_t end = g, first = e[g].index;
		/* The group of one seq; its first-listed link is the one every other is paired
		 * with. */
		while (end < n && e[end].seq == e[g].seq) {
			if (e[end].index < first)
				first = e[end].index;
			end++;
		}
		for (size_t j = g; j < end; j++) {
			bool distinct_id =
			        j == g || memcmp(e[j].id, e[j - 1].id, PL_RECORD_ID_BYTES) != 0;
			if (!distinct_id ||
			    memcmp(e[j].id, links[first].id, PL_RECORD_ID_BYTES) == 0)
				continue;
			if (found < max)
				forks[found] = (struct pl_chain_fork){first, e[j].index};
			found++;
		}
		g = end;
	}
	*nforks = found;
out:
	free(e);
	return ret;
}
