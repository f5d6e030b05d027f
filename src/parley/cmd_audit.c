/* parley log audit: fetch the whole log, recompute its tree, and re-check every record's rules. */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <parley/audit.h>
#include <parley/checkpoint.h>
#include <parley/client.h>
#include <parley/encoding.h>
#include <parley/record.h>

#include "session.h"
#include "banned.h"

static const struct cli_verb log_audit_verb = {
        .name = "log audit",
        .synopsis = "[--profile DIR] [--json]",
        .about = "Audits the whole log of the exchange, as one of its designated auditors (the\n"
                 "exchange's parleyd.conf `auditors`): a member reads only what concerns it, and\n"
                 "proves its own records' inclusion with hash tiles and checkpoints. Fetches\n"
                 "the checkpoint (verified with the pinned log key and checked for consistency\n"
                 "with the last one seen), every entry bundle and every hash tile; recomputes the\n"
                 "Merkle tree from the entries and compares every tile and the root with what the\n"
                 "exchange serves and signed; then opens every record in log order (grammar,\n"
                 "signatures against the directory built from the log's own register and revoke\n"
                 "records) and re-checks the rules the exchange enforces (chains, references,\n"
                 "who may act on what, once, in which order); recomputes the thread index from\n"
                 "every record's references and compares its root with every index record's.\n"
                 "Prints the counts and the first\n"
                 "failure with its log index and reason. Shows a progress bar on standard error\n"
                 "when it is a terminal.\n",
        .status = "Exit status: 0 the whole log holds; 1 something does not (a tile, the root, a\n"
                  "record's signature, chain or rules, or two histories); 2 usage or I/O error;\n"
                  "3 the exchange refused (e.g. not a member, or not an auditor).\n",
};

struct audit {
	struct pl_session s;
	bool json, progress;
	struct pl_checkpoint cp;
	struct pl_audit_result res;
	int fetch_ret; /* the exit code of a fetch that failed (its reason printed) */
	double last_bar;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Redraws the progress bar at most ten times a second, and always at the end. */
static void progress(void *ctx, uint64_t done, bool last)
{
	struct audit *a = ctx;
	uint64_t total = a->cp.size ? a->cp.size : 1;
	unsigned width = 40, fill = (unsigned)(done * width / total);
	double t = now_s();

	if (!a->progress || (!last && t - a->last_bar < 0.1))
		return;
	a->last_bar = t;
	fprintf(stderr, "\raudit [");
	for (unsigned i = 0; i < width; i++)
		fputc(i < fill ? '#' : ' ', stderr);
	fprintf(stderr, "] %" PRIu64 "/%" PRIu64 " records", done, a->cp.size);
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
}

/* The audit's source: the exchange's entry bundles and hash tiles. */
static int fetch_bundle(void *ctx, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct audit *a = ctx;
	int err = pl_client_entry_bundle(a->s.client, n, width, out);
	const struct pl_client_error *e = err ? pl_client_last_error(a->s.client) : NULL;

	if (e && e->status == 403) {
		/* Entry bundles hold everyone's records: need-to-know keeps them for auditors. */
		cli_error("log audit is for the exchange's auditors, and %s is not one: the "
		          "exchange names them in parleyd.conf (`auditors`). A member proves its "
		          "own records with their receipts and hash tiles.",
		          a->s.profile.party);
		a->fetch_ret = PL_EXIT_REFUSED;
	} else if (err) {
		a->fetch_ret = session_client_failed(&a->s, "an entry bundle", err);
	}
	return err;
}

static int fetch_tile(void *ctx, unsigned level, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct audit *a = ctx;
	int err = pl_client_tile(a->s.client, level, n, width, out);

	if (err)
		a->fetch_ret = session_client_failed(&a->s, "a hash tile", err);
	return err;
}

/* ---- Report ---- */

static void report_failure(const struct audit *a)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	if (!a->res.has_first)
		return;
	if (a->res.first_is_record) {
		pl_record_id_format(hex, a->res.first_id);
		cli_error("record #%" PRIu64 " %.16s: %s", a->res.first_index, hex,
		          a->res.first_reason);
	} else {
		cli_error("log %s at size %" PRIu64 ": %s", a->cp.origin, a->cp.size,
		          a->res.first_reason);
	}
}

static int print_text(const struct audit *a)
{
	char root[PL_HASH_B64_LEN + 1];
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	const char *sep = "";

	pl_b64_encode(root, a->cp.root, PL_HASH_BYTES);
	printf("log %s at size %" PRIu64 ", root %s\n", a->cp.origin, a->cp.size, root);
	printf("  fetched %" PRIu64 " entry bundle%s and %" PRIu64 " hash tile%s\n", a->res.bundles,
	       a->res.bundles == 1 ? "" : "s", a->res.tiles, a->res.tiles == 1 ? "" : "s");
	printf("  records: %" PRIu64, a->res.records);
	for (int k = 1; k <= PL_KIND_COUNT; k++) {
		if (a->res.by_kind[k] == 0)
			continue;
		printf("%s%" PRIu64 " %s", *sep ? sep : " (", a->res.by_kind[k],
		       pl_record_kind_name((enum pl_record_kind)k));
		sep = ", ";
	}
	printf("%s\n", *sep ? ")" : "");
	printf("  thread index: recomputed at %" PRIu64 " index record%s\n", a->res.indexes,
	       a->res.indexes == 1 ? "" : "s");
	if (a->res.failures == 0) {
		printf("ok: every tile and the root match the entries, every record's signatures, "
		       "chain, references and rules hold, and every index record's root is the "
		       "thread index of the log below it\n");
		return PL_EXIT_OK;
	}
	if (a->res.first_is_record) {
		pl_record_id_format(hex, a->res.first_id);
		printf("FAILED: %" PRIu64 " failure%s; the first at #%" PRIu64
		       " (record %.16s): %s\n",
		       a->res.failures, a->res.failures == 1 ? "" : "s", a->res.first_index, hex,
		       a->res.first_reason);
	} else {
		printf("FAILED: %" PRIu64 " failure%s; the first: %s\n", a->res.failures,
		       a->res.failures == 1 ? "" : "s", a->res.first_reason);
	}
	return PL_EXIT_FAIL;
}

static int print_json(const struct audit *a)
{
	json_t *root = json_object(), *kinds = json_object(), *first = NULL;
	char b64[PL_HASH_B64_LEN + 1], hex[PL_RECORD_ID_HEX_LEN + 1];
	bool ok = root && kinds;
	int ret = PL_EXIT_USAGE;

	pl_b64_encode(b64, a->cp.root, PL_HASH_BYTES);
	for (int k = 1; ok && k <= PL_KIND_COUNT; k++) {
		if (a->res.by_kind[k])
			ok = json_object_set_new(kinds, pl_record_kind_name((enum pl_record_kind)k),
			                         json_integer((json_int_t)a->res.by_kind[k])) == 0;
	}
	if (ok && a->res.has_first) {
		first = json_object();
		ok = first != NULL;
		if (ok && a->res.first_is_record) {
			pl_record_id_format(hex, a->res.first_id);
			ok = json_object_set_new(first, "index",
			                         json_integer((json_int_t)a->res.first_index)) == 0;
			ok = ok && json_object_set_new(first, "id", json_string(hex)) == 0;
		}
		ok = ok &&
		     json_object_set_new(first, "reason", json_string(a->res.first_reason)) == 0;
	}
	ok = ok && json_object_set_new(root, "origin", json_string(a->cp.origin)) == 0;
	ok = ok && json_object_set_new(root, "size", json_integer((json_int_t)a->cp.size)) == 0;
	ok = ok && json_object_set_new(root, "root", json_string(b64)) == 0;
	ok = ok &&
	     json_object_set_new(root, "bundles", json_integer((json_int_t)a->res.bundles)) == 0;
	ok = ok && json_object_set_new(root, "tiles", json_integer((json_int_t)a->res.tiles)) == 0;
	ok = ok &&
	     json_object_set_new(root, "indexes", json_integer((json_int_t)a->res.indexes)) == 0;
	ok = ok &&
	     json_object_set_new(root, "records", json_integer((json_int_t)a->res.records)) == 0;
	ok = ok && json_object_set(root, "kinds", kinds) == 0;
	ok = ok &&
	     json_object_set_new(root, "failures", json_integer((json_int_t)a->res.failures)) == 0;
	ok = ok && json_object_set(root, "first_failure", first ? first : json_null()) == 0;
	ok = ok && json_object_set_new(root, "ok", json_boolean(a->res.failures == 0)) == 0;
	ret = cli_print_json(ok ? root : NULL, "log audit");
	if (ret == PL_EXIT_OK && a->res.failures)
		ret = PL_EXIT_FAIL;
	json_decref(first);
	json_decref(kinds);
	json_decref(root);
	return ret;
}

/* ---- The verb ---- */

static int run(struct audit *a)
{
	const struct pl_audit_source src = {
	        .ctx = a, .bundle = fetch_bundle, .tile = fetch_tile, .progress = progress};
	int ret, err;

	ret = session_refresh(&a->s, &a->cp, NULL);
	if (ret)
		goto out;
	err = pl_audit_run(&a->cp, &a->s.profile.log_key, &src, &a->res);
	if (err && a->fetch_ret) {
		ret = a->fetch_ret;
		goto out;
	}
	if (err) {
		cli_error("log audit: %s", a->res.error);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	report_failure(a);
	ret = a->json ? print_json(a) : print_text(a);
out:
	return ret;
}

int cmd_log_audit(int argc, char **argv)
{
	/* Static: the session and the checkpoint are large. */
	static struct audit a;
	const char *profile = NULL;
	int ret;

	memset(&a, 0, sizeof(a));
	ret = cli_parse_profile_json(&log_audit_verb, argc, argv, &profile, &a.json, NULL);
	if (ret >= 0)
		goto out;
	a.progress = isatty(STDERR_FILENO) == 1;
	ret = session_open(&a.s, "log audit", profile);
	if (ret == PL_EXIT_OK)
		ret = run(&a);
out:
	session_close(&a.s);
	memset(&a, 0, sizeof(a));
	return ret;
}
