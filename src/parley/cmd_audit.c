/* parley log audit: fetch the whole log, recompute its tree, and re-check every record's rules. */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <parley/chain.h>
#include <parley/checkpoint.h>
#include <parley/client.h>
#include <parley/directory.h>
#include <parley/encoding.h>
#include <parley/note.h>
#include <parley/record.h>
#include <parley/replay.h>
#include <parley/tiles.h>
#include <parley/tlog.h>

#include "session.h"
#include "banned.h"

static const char audit_help[] =
        "usage: parley log audit [--profile DIR] [--json]\n"
        "\n"
        "Audits the whole log of the exchange, as a member or a designated auditor: fetches\n"
        "the checkpoint (verified with the pinned log key and checked for consistency\n"
        "with the last one seen), every entry bundle and every hash tile; recomputes the\n"
        "Merkle tree from the entries and compares every tile and the root with what the\n"
        "exchange serves and signed; then opens every record in log order (grammar,\n"
        "signatures against the directory built from the log's own register and revoke\n"
        "records) and re-checks the rules the exchange enforces (chains, references,\n"
        "who may act on what, once, in which order). Prints the counts and the first\n"
        "failure with its log index and reason. Shows a progress bar on standard error\n"
        "when it is a terminal.\n"
        "\n"
        "Options:\n"
        "  -P, --profile DIR   the profile to use (default: $PARLEY_PROFILE, then\n"
        "                      ~/.config/parley)\n"
        "  -j, --json          print one JSON object instead of text\n"
        "  -h, --help          show this help\n"
        "\n"
        "Exit status: 0 the whole log holds; 1 something does not (a tile, the root, a\n"
        "record's signature, chain or rules, or two histories); 2 usage or I/O error;\n"
        "3 the exchange refused (e.g. not a member).\n";

#define AUDIT_REASON_MAX 256

struct audit {
	struct session s;
	bool json, progress;
	struct pl_checkpoint cp;
	/* Every record that opened, in log order, and the directory they build. */
	struct pl_replay_log log;
	/* The tree recomputed from the entries. */
	struct pl_tlog_memstore *tree;
	/* Counts and the first failure. */
	uint64_t records, bundles, tiles;
	uint64_t by_kind[PL_KIND_COUNT + 1];
	uint64_t failures;
	bool has_first;
	bool first_is_record; /* else the failure is about the tree, a tile or a bundle */
	uint64_t first_index; /* of a record failure */
	uint8_t first_id[PL_RECORD_ID_BYTES];
	char first_reason[AUDIT_REASON_MAX];
	double last_bar;
};

/* ---- Failures and progress ---- */

static void fail_at(struct audit *a, bool is_record, uint64_t index, const uint8_t *id,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Counts a failure and keeps the first one. */
static void fail_at(struct audit *a, bool is_record, uint64_t index, const uint8_t *id,
                    const char *fmt, ...)
{
	va_list ap;

	a->failures++;
	if (a->has_first)
		return;
	a->has_first = true;
	a->first_is_record = is_record;
	a->first_index = index;
	if (id)
		memcpy(a->first_id, id, PL_RECORD_ID_BYTES);
	va_start(ap, fmt);
	vsnprintf(a->first_reason, sizeof(a->first_reason), fmt, ap);
	va_end(ap);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Redraws the progress bar at most ten times a second, and always at the end. */
static void progress(struct audit *a, uint64_t done, bool last)
{
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

/* ---- One record ---- */

/* Reports a record that does not open, naming the key of its author's signature line. */
static void fail_open(struct audit *a, uint64_t index, const uint8_t *id, const char *e, size_t len,
                      int err, const char *why)
{
	struct pl_note *n = NULL;

	if (err == PL_EVERIFY && pl_note_parse(&n, e, len) == 0 && n->nsigs > 0)
		fail_at(a, true, index, id, "%s (key %s)", why ? why : pl_strerror(err),
		        n->sigs[0].name);
	else
		fail_at(a, true, index, id, "%s", why ? why : pl_strerror(err));
	pl_note_free(n);
}

/*
 * Opens and judges the record at index, the bytes e[0..len) of its entry.
 * Returns 0 (counted, failure or not) or a PL_E... code that stops the audit.
 */
static int audit_record(struct audit *a, uint64_t index, const char *e, size_t len)
{
	struct pl_record *r = malloc(sizeof(*r));
	uint8_t id[PL_RECORD_ID_BYTES];
	struct pl_vkey signer;
	const char *why = NULL;
	uint64_t dup;
	size_t key;
	int ret = 0, err;

	if (!r) {
		ret = PL_ENOMEM;
		goto out;
	}
	a->records++;
	pl_record_id(id, e, len);
	if (pl_replay_log_find(&a->log, id, &dup)) {
		fail_at(a, true, index, id,
		        "the same record is logged twice (first at #%" PRIu64 ")", dup);
		goto out;
	}
	err = pl_record_open(r, id, &signer, e, len, a->log.dir.keys, a->log.dir.n, &why);
	if (err) {
		fail_open(a, index, id, e, len, err, why);
		goto out;
	}
	if (r->kind >= 1 && r->kind <= PL_KIND_COUNT)
		a->by_kind[r->kind]++;
	if (strcmp(r->exchange, a->cp.origin) != 0) {
		fail_at(a, true, index, id, "a record of the exchange '%s' in the log of '%s'",
		        r->exchange, a->cp.origin);
		goto out;
	}
	/* pl_record_open() verified it against the directory: not finding it cannot happen. */
	key = pl_directory_find(&a->log.dir, signer.name, signer.id);
	if (key == PL_DIRECTORY_NONE) {
		ret = PL_EINVAL;
		goto out;
	}
	/* The whole log's directory is at hand: the parties a record names must be registered. */
	err = pl_replay_log_judge(&a->log, r, id, key, true, &why);
	if (err == PL_ECHAIN || err == PL_ERULE || err == PL_EINVAL) {
		fail_at(a, true, index, id, "%s: %s", err == PL_ECHAIN ? "chain" : "rule",
		        why ? why : pl_strerror(err));
	} else if (err) {
		ret = err;
		goto out;
	}
	/* A record that broke a rule is in the log all the same: later records build on it. */
	ret = pl_replay_log_add(&a->log, r, id, index, key, e, len);
out:
	free(r);
	return ret;
}

/* ---- Tiles and the tree ---- */

/* The width argument of the client for a tile: 0 for a full one. */
static unsigned client_width(const struct pl_tile *t)
{
	return t->width == PL_TILE_WIDTH ? 0 : t->width;
}

/*
 * Fetches entry bundle n and the level-0 hash tile of the same number,
 * checks that they agree, appends the entries' leaf hashes to the tree and
 * audits each record. Returns an exit code.
 */
static int audit_bundle(struct audit *a, uint64_t n)
{
	static struct pl_tiles_entry ents[PL_TILE_WIDTH];
	uint8_t leaves[PL_TILE_WIDTH][PL_HASH_BYTES];
	uint64_t first = n * PL_TILE_WIDTH;
	struct pl_buf bundle, tile;
	struct pl_tile t;
	unsigned bad = 0;
	int ret = PL_EXIT_USAGE, err;

	pl_buf_init(&bundle, (size_t)PL_TILE_WIDTH * (2 + PL_ENTRY_MAX_BYTES));
	pl_buf_init(&tile, PL_TILE_BYTES);
	if (pl_tiles_tile_at(&t, a->cp.size, 0, n, true) != 0) {
		cli_error("log audit: entry bundle %" PRIu64 " is outside the tree", n);
		goto out;
	}
	err = pl_client_entry_bundle(a->s.client, n, client_width(&t), &bundle);
	if (err) {
		ret = session_client_failed(&a->s, "an entry bundle", err);
		goto out;
	}
	err = pl_client_tile(a->s.client, 0, n, client_width(&t), &tile);
	if (err) {
		ret = session_client_failed(&a->s, "a hash tile", err);
		goto out;
	}
	a->bundles++;
	a->tiles++;
	err = pl_tiles_bundle_split((const uint8_t *)bundle.data, bundle.len, t.width, ents);
	if (err) {
		/* Without its entries the tree cannot be recomputed: nothing after holds. */
		fail_at(a, false, 0, NULL, "entry bundle %" PRIu64 " is malformed (%s)", n,
		        pl_strerror(err));
		ret = PL_EXIT_FAIL;
		goto out;
	}
	/* The leaves come back whatever the tile says: the tree is rebuilt from the entries. */
	err = pl_tiles_bundle_check(ents, t.width, (const uint8_t *)tile.data, tile.len, leaves,
	                            &bad);
	if (err == PL_EMALFORMED) {
		fail_at(a, false, 0, NULL, "hash tile 0/%" PRIu64 " has %zu bytes, not %u", n,
		        tile.len, t.width * PL_HASH_BYTES);
	} else if (err == PL_EPROOF) {
		uint8_t id[PL_RECORD_ID_BYTES];
		pl_record_id(id, (const char *)ents[bad].data, ents[bad].len);
		fail_at(a, true, first + bad, id,
		        "the entry does not hash to the leaf of hash tile 0/%" PRIu64, n);
	}
	err = pl_tlog_memstore_append(a->tree, (const uint8_t(*)[PL_HASH_BYTES])leaves, t.width);
	for (unsigned i = 0; err == 0 && i < t.width; i++) {
		err = audit_record(a, first + i, (const char *)ents[i].data, ents[i].len);
		progress(a, first + i + 1, false);
	}
	if (err) {
		cli_error("log audit: %s", pl_strerror(err));
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	pl_buf_release(&bundle);
	pl_buf_release(&tile);
	return ret;
}

/*
 * Compares every hash tile above level 0 with the one recomputed from the
 * entries, then the root with the checkpoint's. Returns an exit code.
 */
static int audit_tree(struct audit *a)
{
	static uint8_t want[PL_TILE_BYTES];
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(a->tree);
	uint8_t root[PL_HASH_BYTES];
	struct pl_buf got;
	int ret = PL_EXIT_USAGE, err;

	pl_buf_init(&got, PL_TILE_BYTES);
	for (unsigned level = 1; level <= PL_TILE_MAX_LEVEL; level++) {
		struct pl_tile t;
		for (uint64_t n = 0; pl_tiles_tile_at(&t, a->cp.size, level, n, false) == 0; n++) {
			size_t len;
			pl_buf_reset(&got);
			err = pl_client_tile(a->s.client, level, n, client_width(&t), &got);
			if (err) {
				ret = session_client_failed(&a->s, "a hash tile", err);
				goto out;
			}
			a->tiles++;
			err = pl_tiles_read_hash_tile(&rd, &t, want, &len);
			if (err) {
				cli_error("log audit: tile %u/%" PRIu64 ": %s", level, n,
				          pl_strerror(err));
				goto out;
			}
			if (got.len != len || memcmp(got.data, want, len) != 0)
				fail_at(a, false, 0, NULL,
				        "hash tile %u/%" PRIu64
				        " differs from the tree of the entries",
				        level, n);
		}
	}
	err = pl_tlog_tree_hash(&rd, a->cp.size, root);
	if (err) {
		cli_error("log audit: the tree: %s", pl_strerror(err));
		goto out;
	}
	if (memcmp(root, a->cp.root, PL_HASH_BYTES) != 0)
		fail_at(a, false, 0, NULL,
		        "the tree of the entries does not have the checkpoint's root");
	ret = PL_EXIT_OK;
out:
	pl_buf_release(&got);
	return ret;
}

/* ---- Report ---- */

static void report_failure(const struct audit *a)
{
	char hex[PL_RECORD_ID_HEX_LEN + 1];

	if (!a->has_first)
		return;
	if (a->first_is_record) {
		pl_record_id_format(hex, a->first_id);
		cli_error("record #%" PRIu64 " %.16s: %s", a->first_index, hex, a->first_reason);
	} else {
		cli_error("log %s at size %" PRIu64 ": %s", a->cp.origin, a->cp.size,
		          a->first_reason);
	}
}

static int print_text(const struct audit *a)
{
	char root[PL_HASH_B64_LEN + 1];
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	const char *sep = "";

	pl_b64_encode(root, a->cp.root, PL_HASH_BYTES);
	printf("log %s at size %" PRIu64 ", root %s\n", a->cp.origin, a->cp.size, root);
	printf("  fetched %" PRIu64 " entry bundle%s and %" PRIu64 " hash tile%s\n", a->bundles,
	       a->bundles == 1 ? "" : "s", a->tiles, a->tiles == 1 ? "" : "s");
	printf("  records: %" PRIu64, a->records);
	for (int k = 1; k <= PL_KIND_COUNT; k++) {
		if (a->by_kind[k] == 0)
			continue;
		printf("%s%" PRIu64 " %s", *sep ? sep : " (", a->by_kind[k],
		       pl_record_kind_name((enum pl_record_kind)k));
		sep = ", ";
	}
	printf("%s\n", *sep ? ")" : "");
	if (a->failures == 0) {
		printf("ok: every tile and the root match the entries, and every record's "
		       "signatures, chain, references and rules hold\n");
		return PL_EXIT_OK;
	}
	if (a->first_is_record) {
		pl_record_id_format(hex, a->first_id);
		printf("FAILED: %" PRIu64 " failure%s; the first at #%" PRIu64
		       " (record %.16s): %s\n",
		       a->failures, a->failures == 1 ? "" : "s", a->first_index, hex,
		       a->first_reason);
	} else {
		printf("FAILED: %" PRIu64 " failure%s; the first: %s\n", a->failures,
		       a->failures == 1 ? "" : "s", a->first_reason);
	}
	return PL_EXIT_FAIL;
}

static int print_json(const struct audit *a)
{
	json_t *root = json_object(), *kinds = json_object(), *first = NULL;
	char b64[PL_HASH_B64_LEN + 1], hex[PL_RECORD_ID_HEX_LEN + 1];
	char *text = NULL;
	bool ok = root && kinds;
	int ret = PL_EXIT_USAGE;

	pl_b64_encode(b64, a->cp.root, PL_HASH_BYTES);
	for (int k = 1; ok && k <= PL_KIND_COUNT; k++) {
		if (a->by_kind[k])
			ok = json_object_set_new(kinds, pl_record_kind_name((enum pl_record_kind)k),
			                         json_integer((json_int_t)a->by_kind[k])) == 0;
	}
	if (ok && a->has_first) {
		first = json_object();
		ok = first != NULL;
		if (ok && a->first_is_record) {
			pl_record_id_format(hex, a->first_id);
			ok = json_object_set_new(first, "index",
			                         json_integer((json_int_t)a->first_index)) == 0;
			ok = ok && json_object_set_new(first, "id", json_string(hex)) == 0;
		}
		ok = ok && json_object_set_new(first, "reason", json_string(a->first_reason)) == 0;
	}
	ok = ok && json_object_set_new(root, "origin", json_string(a->cp.origin)) == 0;
	ok = ok && json_object_set_new(root, "size", json_integer((json_int_t)a->cp.size)) == 0;
	ok = ok && json_object_set_new(root, "root", json_string(b64)) == 0;
	ok = ok && json_object_set_new(root, "bundles", json_integer((json_int_t)a->bundles)) == 0;
	ok = ok && json_object_set_new(root, "tiles", json_integer((json_int_t)a->tiles)) == 0;
	ok = ok && json_object_set_new(root, "records", json_integer((json_int_t)a->records)) == 0;
	ok = ok && json_object_set(root, "kinds", kinds) == 0;
	ok = ok &&
	     json_object_set_new(root, "failures", json_integer((json_int_t)a->failures)) == 0;
	ok = ok && json_object_set(root, "first_failure", first ? first : json_null()) == 0;
	ok = ok && json_object_set_new(root, "ok", json_boolean(a->failures == 0)) == 0;
	text = ok ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (!text) {
		cli_error("log audit: cannot format the JSON answer");
		goto out;
	}
	ret = cli_write_stdout(text, strlen(text));
	if (ret == PL_EXIT_OK)
		ret = cli_write_stdout("\n", 1);
	if (ret == PL_EXIT_OK && a->failures)
		ret = PL_EXIT_FAIL;
out:
	free(text);
	json_decref(first);
	json_decref(kinds);
	json_decref(root);
	return ret;
}

/* ---- The verb ---- */

static int run(struct audit *a)
{
	uint64_t nbundles;
	int ret, err;

	ret = session_refresh(&a->s, &a->cp, NULL);
	if (ret)
		goto out;
	err = pl_tlog_memstore_new(&a->tree);
	if (!err)
		err = pl_replay_log_init(&a->log, &a->s.profile.log_key, 0);
	if (err) {
		cli_error("log audit: %s", pl_strerror(err));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	nbundles = (a->cp.size + PL_TILE_WIDTH - 1) / PL_TILE_WIDTH;
	progress(a, 0, false);
	for (uint64_t n = 0; n < nbundles; n++) {
		ret = audit_bundle(a, n);
		if (ret == PL_EXIT_FAIL)
			break; /* a malformed bundle: the rest of the tree cannot be rebuilt */
		if (ret)
			goto out;
	}
	progress(a, a->records, true);
	if (ret == PL_EXIT_OK)
		ret = audit_tree(a);
	if (ret != PL_EXIT_OK && ret != PL_EXIT_FAIL)
		goto out;
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
	ret = cli_profile_json_opts("log audit", audit_help, argc, argv, &profile, &a.json);
	if (ret >= 0)
		goto out;
	if (optind != argc) {
		ret = cli_usage("log audit", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	a.progress = isatty(STDERR_FILENO) == 1;
	ret = session_open(&a.s, "log audit", profile);
	if (ret == PL_EXIT_OK)
		ret = run(&a);
out:
	session_close(&a.s);
	pl_tlog_memstore_free(a.tree);
	pl_replay_log_release(&a.log);
	memset(&a, 0, sizeof(a));
	return ret;
}
