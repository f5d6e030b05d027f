/* Benchmark: durable submissions through the exchange engine, next to raw Ed25519 verify and
 * fdatasync. */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/encoding.h>
#include <parley/exchange.h>
#include <parley/party.h>
#include <parley/record.h>

#include "bench_util.h"

#define ORIGIN     "bench.example"
#define SUBMITTERS 32
#define PER_THREAD 600  /* pre-signed records per submitter */
#define LAT_RATE   1000 /* records per second in the latency run */
#define LAT_COUNT  1000
#define SECONDS    1.0 /* per baseline */

/* Ops per second of op() over about SECONDS. */
static double rate(int (*op)(void *), void *arg)
{
	double t0 = pl_bench_now(), t;
	long n = 0;

	do {
		for (int i = 0; i < 64; i++)
			if (op(arg) != 0)
				return 0;
		n += 64;
		t = pl_bench_now() - t0;
	} while (t < SECONDS);
	return (double)n / t;
}

/* Reads of the logged records by index, in turn, as reader. */
struct reads {
	struct pl_exchange *ex;
	const char *reader;
	uint64_t size, next;
};

static int op_read(void *arg)
{
	struct reads *r = arg;
	struct pl_exchange_entry e;
	int ret = pl_exchange_record_at(r->ex, r->reader, r->next++ % r->size, &e);

	if (ret == 0)
		pl_exchange_entry_release(&e);
	return ret;
}

static uint8_t vk_pk[crypto_sign_PUBLICKEYBYTES], vk_sig[crypto_sign_BYTES], vk_msg[400];

static int op_verify(void *arg)
{
	(void)arg;
	return crypto_sign_verify_detached(vk_sig, vk_msg, sizeof(vk_msg), vk_pk);
}

static int op_fdatasync(void *arg)
{
	int fd = *(int *)arg;
	char b[64] = {0};

	if (pwrite(fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	return fdatasync(fd);
}

/* One submitter: its party and its pre-signed records. */
struct submitter {
	struct pl_exchange *ex;
	char name[32];
	struct pl_skey sk;
	struct pl_vkey vk;
	char vtext[512], etext[512];
	char **msgs;
	size_t *lens;
	int n, failures;
	double *lat;
};

static int make_party(struct submitter *s, int i)
{
	char kn[PL_KEY_NAME_MAX + 1];
	struct pl_box_keypair kp;
	struct pl_party_ekey ek;
	struct pl_buf b;
	int ret;

	snprintf(s->name, sizeof(s->name), "p%d", i);
	snprintf(kn, sizeof(kn), "%s/%s", ORIGIN, s->name);
	ret = pl_key_generate(&s->sk, &s->vk, kn, PL_SIGTYPE_ED25519);
	pl_box_keypair_generate(&kp);
	memset(&ek, 0, sizeof(ek));
	snprintf(ek.name, sizeof(ek.name), "%s", kn);
	memcpy(ek.pk, kp.pk, sizeof(ek.pk));
	pl_box_keypair_clear(&kp);
	pl_buf_init(&b, 511);
	if (!ret)
		ret = pl_vkey_format(&s->vk, &b);
	if (!ret)
		snprintf(s->vtext, sizeof(s->vtext), "%s", b.data);
	pl_buf_reset(&b);
	if (!ret)
		ret = pl_party_ekey_format(&ek, &b);
	if (!ret)
		snprintf(s->etext, sizeof(s->etext), "%s", b.data);
	pl_buf_release(&b);
	return ret;
}

/* --cites: each statement of a chain after its first cites the one before (a reference). */
static bool cites;

/* Signs n statements of s's chain in advance: the chain is known before submission. */
static int presign(struct submitter *s, int n)
{
	struct pl_record *r = calloc(1, sizeof(*r));
	uint8_t prev[PL_RECORD_ID_BYTES];
	int64_t t = (int64_t)time(NULL);

	s->msgs = calloc((size_t)n, sizeof(*s->msgs));
	s->lens = calloc((size_t)n, sizeof(*s->lens));
	if (!r || !s->msgs || !s->lens)
		return -1;
	for (int i = 0; i < n; i++) {
		struct pl_buf out;
		memset(r, 0, sizeof(*r));
		snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
		snprintf(r->author, sizeof(r->author), "%s", s->name);
		r->seq = (uint64_t)i + 1;
		if (i) {
			r->has |= PL_RECORD_HAS_PREV;
			memcpy(r->prev, prev, sizeof(prev));
		}
		r->time = t;
		r->kind = PL_KIND_STATEMENT;
		r->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
		r->cls = PL_CLASS_STATEMENT;
		r->body_len = (size_t)snprintf(r->body, sizeof(r->body),
		                               "Statement number %d of a benchmark run.\n", i);
		if (cites && i) {
			r->nrefs = 1;
			r->refs[0].role = PL_ROLE_CITES;
			memcpy(r->refs[0].id, prev, sizeof(prev));
		}
		pl_buf_init(&out, PL_RECORD_MAX_BYTES);
		if (pl_record_sign(&out, r, &s->sk, 1, NULL) != 0)
			return -1;
		s->msgs[i] = pl_buf_detach(&out, &s->lens[i]);
		pl_record_id(prev, s->msgs[i], s->lens[i]);
	}
	s->n = n;
	free(r);
	return 0;
}

static void *submit_all(void *arg)
{
	struct submitter *s = arg;

	for (int i = 0; i < s->n; i++) {
		struct pl_receipt rc;
		if (pl_exchange_submit(s->ex, s->msgs[i], s->lens[i], &rc, NULL) != 0) {
			s->failures++;
			continue;
		}
		pl_receipt_release(&rc);
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/*
 * Usage: bench_exchange                 the benchmark (a temporary store, removed after)
 *        bench_exchange --load N DIR    logs about N statements from SUBMITTERS parties into a
 *                                       new exchange in DIR (which must not exist) and keeps it,
 *                                       so that parleyd can be measured serving a large log
 *        bench_exchange --load N DIR --cites
 *                                       the same, each statement citing its party's previous
 *                                       one, so that the thread index has a key per record
 *        bench_exchange --baseline      prints the raw Ed25519 verify rate only
 */
int main(int argc, char **argv)
{
	static struct submitter subs[SUBMITTERS + 1];
	int per_thread = PER_THREAD;
	bool keep = false;
	uint64_t load = 0;
	struct pl_exchange *ex = NULL;
	struct pl_exchange_options opts;
	struct pl_vkey logvk;
	pthread_t th[SUBMITTERS];
	char tmpdir[] = "/tmp/pl_bench_exchange_XXXXXX";
	char *dir = tmpdir;
	char path[4200];
	double verify, sync, t0, t, *lat;
	long total = 0, fails = 0;
	int fd, ret = 1;

	if (argc == 2 && strcmp(argv[1], "--baseline") == 0) {
		uint8_t sk[crypto_sign_SECRETKEYBYTES];
		if (sodium_init() < 0)
			return 1;
		crypto_sign_keypair(vk_pk, sk);
		randombytes_buf(vk_msg, sizeof(vk_msg));
		crypto_sign_detached(vk_sig, NULL, vk_msg, sizeof(vk_msg), sk);
		sodium_memzero(sk, sizeof(sk));
		printf("baseline ed25519 verify (1 core): %.0f ops/s\n", rate(op_verify, NULL));
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "--load") == 0 && strcmp(argv[4], "--cites") == 0) {
		cites = true;
		argc = 4;
	}
	if (argc == 4 && strcmp(argv[1], "--load") == 0) {
		if (pl_parse_u64(&load, argv[2], strlen(argv[2]), 100000000) != 0 ||
		    load < SUBMITTERS || strlen(argv[3]) > 4000 || mkdir(argv[3], 0700) != 0) {
			fprintf(stderr,
			        "bench_exchange: --load N DIR: N >= %d, DIR must not exist\n",
			        SUBMITTERS);
			return 2;
		}
		dir = argv[3];
		keep = true;
		per_thread = (int)(load / SUBMITTERS);
	} else if (argc != 1) {
		fprintf(stderr, "usage: bench_exchange [--load N DIR [--cites] | --baseline]\n");
		return 2;
	}
	if (sodium_init() < 0 || (!keep && !mkdtemp(dir)))
		return 1;

	/* Baselines, measured in this run. */
	{
		uint8_t sk[crypto_sign_SECRETKEYBYTES];
		crypto_sign_keypair(vk_pk, sk);
		randombytes_buf(vk_msg, sizeof(vk_msg));
		crypto_sign_detached(vk_sig, NULL, vk_msg, sizeof(vk_msg), sk);
		sodium_memzero(sk, sizeof(sk));
	}
	verify = rate(op_verify, NULL);
	snprintf(path, sizeof(path), "%s/sync", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 1;
	sync = rate(op_fdatasync, &fd);
	close(fd);
	unlink(path);
	printf("baseline ed25519 verify (1 core): %.0f ops/s\n", verify);
	printf("baseline fdatasync: %.0f ops/s\n", sync);

	/* A large load is signed long before its last record is submitted: its time holds. */
	pl_exchange_options_default(&opts);
	if (keep)
		opts.time_tolerance_s = 7 * 86400;
	if (pl_exchange_init(dir, ORIGIN, &logvk) != 0 ||
	    pl_exchange_open(&ex, dir, &opts, NULL) != 0)
		goto out;
	for (int i = 0; i <= SUBMITTERS; i++) {
		subs[i].ex = ex;
		if (make_party(&subs[i], i) != 0 ||
		    pl_exchange_party_add(ex, subs[i].name, subs[i].vtext, subs[i].etext,
		                          &subs[i].sk, 1, NULL) != 0 ||
		    presign(&subs[i], i == SUBMITTERS ? LAT_COUNT : per_thread) != 0)
			goto out;
	}

	/* Sustained durable submissions from SUBMITTERS concurrent submitters. */
	t0 = pl_bench_now();
	for (int i = 0; i < SUBMITTERS; i++)
		if (pthread_create(&th[i], NULL, submit_all, &subs[i]) != 0)
			goto out;
	for (int i = 0; i < SUBMITTERS; i++) {
		pthread_join(th[i], NULL);
		total += subs[i].n;
		fails += subs[i].failures;
	}
	t = pl_bench_now() - t0;
	printf("durable submissions, %d submitters: %.0f ops/s (%.2f x fdatasync, %.2f x ed25519 "
	       "verify)%s\n",
	       SUBMITTERS, (double)(total - fails) / t, (double)(total - fails) / t / sync,
	       (double)(total - fails) / t / verify, fails ? " FAILURES" : "");

	if (keep) {
		printf("kept %ld records in %s (tree size %llu)\n", total - fails, dir,
		       (unsigned long long)pl_exchange_size(ex));
		ret = fails ? 1 : 0;
		goto out;
	}

	/* Submit-to-proof latency at LAT_RATE records per second from one submitter. */
	lat = calloc(LAT_COUNT, sizeof(*lat));
	if (!lat)
		goto out;
	t0 = pl_bench_now();
	for (int i = 0; i < LAT_COUNT; i++) {
		struct pl_receipt rc;
		double due = t0 + (double)i / LAT_RATE, s;
		while ((s = pl_bench_now()) < due) {
			struct timespec ts = {0, (long)((due - s) * 1e9)};
			nanosleep(&ts, NULL);
		}
		s = pl_bench_now();
		if (pl_exchange_submit(ex, subs[SUBMITTERS].msgs[i], subs[SUBMITTERS].lens[i], &rc,
		                       NULL) != 0)
			goto out;
		lat[i] = pl_bench_now() - s;
		pl_receipt_release(&rc);
	}
	qsort(lat, LAT_COUNT, sizeof(*lat), cmp_double);
	printf("submit-to-proof latency at %d/s: p50 %.2f ms, p99 %.2f ms (%.2f x fdatasync "
	       "time)\n",
	       LAT_RATE, lat[LAT_COUNT / 2] * 1e3, lat[LAT_COUNT * 99 / 100] * 1e3,
	       lat[LAT_COUNT / 2] * sync);
	free(lat);

	/* Reads: the exchange's own view against a member's, which need-to-know checks. */
	{
		struct reads all = {ex, PL_EXCHANGE_READER_ALL, pl_exchange_size(ex), 0};
		struct reads member = {ex, subs[0].name, pl_exchange_size(ex), 0};
		double r_all, r_member;
		/* One pass first, so that both runs find every tile already checked. */
		for (uint64_t i = 0; i < all.size; i++)
			if (op_read(&all) != 0)
				goto out;
		r_all = rate(op_read, &all);
		r_member = rate(op_read, &member);
		printf("record by index, checked: %.0f reads/s as the exchange's own view, %.0f/s "
		       "as "
		       "a member (need-to-know: %.2f x)\n",
		       r_all, r_member, r_all > 0 ? r_member / r_all : 0);
	}
	ret = fails ? 1 : 0;
out:
	pl_exchange_close(ex);
	for (int i = 0; i <= SUBMITTERS; i++) {
		for (int k = 0; k < subs[i].n; k++)
			free(subs[i].msgs[k]);
		free(subs[i].msgs);
		free(subs[i].lens);
		pl_skey_clear(&subs[i].sk);
	}
	if (!keep) {
		const char *files[] = {"parley.db", "parley.db-wal", "parley.db-shm", "log.key",
		                       "log.vkey",  "parley.lock",   "published"};
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
			unlink(path);
		}
		rmdir(dir);
	}
	return ret;
}
