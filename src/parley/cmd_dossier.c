/* parley dossier and parley verify: export a thread's offline evidence, and check one offline. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <parley/dossier.h>
#include <parley/member_export.h>
#include <parley/record.h>

#include "assets.h"
#include "session.h"
#include "banned.h"

static const struct cli_verb dossier_verb = {
        .name = "dossier",
        .synopsis = "ID --output FILE [--disclose ID ...] [--at SIZE] [--wait SECONDS]\n"
                    "                      [--profile DIR]",
        .about = "Exports the dossier of the thread of record ID (its id or a unique prefix of at\n"
                 "least 8 hex digits; for a record that acts on a send, consultation or check,\n"
                 "the thread of that one): one file of offline evidence that 'parley verify'\n"
                 "checks without the exchange (docs/dossier.md, format version 2). It holds the\n"
                 "exchange's latest checkpoint (or the one of --at), checked with the pinned log\n"
                 "key and for consistency with the last one seen, with every cosignature it\n"
                 "carries; its last entry, the index record, whose thread index lists every\n"
                 "record that refers to a record; the thread (the subject and every record that\n"
                 "refers to a thread record), each record with its inclusion proof computed\n"
                 "from the hash tiles and the index proof of its id; the register records of\n"
                 "the keys that sign them and the records the thread refers to, each proven;\n"
                 "and the plaintexts chosen with --disclose. Nothing else of the log is in it.\n"
                 "The dossier is verified before it is written; FILE is replaced atomically,\n"
                 "mode 0644.\n",
        .status = "Exit status: 0 written; 1 what the exchange gave does not verify, no\n"
                  "checkpoint covered ID in time, or the checkpoint does not end with an index\n"
                  "record (nothing is written); 2 usage or I/O error; 3 the exchange refused.\n",
        .operand = "record ID",
};

static const struct cli_verb verify_verb = {
        .name = "verify",
        .synopsis = "FILE [--log-key VKEY] [--witness VKEY ... [--quorum N]]\n"
                    "                          [--html OUT] [--page OUT] [--json]",
        .about = "Verifies a dossier offline, with no network, profile or local state\n"
                 "(docs/dossier.md), of either format version: the checkpoint's signature by\n"
                 "the log key and the witnesses' cosignatures; version 2: that the checkpoint's\n"
                 "last entry is an index record, the inclusion proof of every record, and that\n"
                 "the index proofs list every record that refers to a thread record, all in\n"
                 "the dossier; version 1: that the window holds every log entry from the\n"
                 "subject up to the checkpoint, the inclusion proof of every earlier record,\n"
                 "every key's chain; then every record's signatures and the rules over the\n"
                 "thread; every disclosed plaintext against its commitment. Then prints the\n"
                 "timeline and the verdicts, each saying what it rests on. FILE may be '-' for\n"
                 "standard input. VKEY is a verifier key (name+keyid+base64) or a file holding\n"
                 "one.\n",
        .status = "Exit status: 0 the dossier verifies; 1 it is a dossier but some evidence in it\n"
                  "does not hold, tampered or wrong (one line names it and why); 2 not a dossier\n"
                  "at all, usage or I/O error.\n",
        .operand = "dossier FILE",
};

/* Bytes of the one-line reason pl_dossier_verify() gives. */
#define WHY_MAX 2048
/* How long parley dossier waits, by default, for a checkpoint that covers its subject. */
#define DOSSIER_WAIT_SECONDS 10

/* ---- Files ---- */

/* cli_write_atomic(): a crash leaves the old file or the whole new one, never a part. */
static int write_atomic(const char *what, const char *path, const char *data, size_t len)
{
	return cli_write_atomic(what, path, data, len);
}

/* ---- The export ---- */

struct export
{
	struct pl_session s;
	const char *output;
	uint64_t wait_ms; /* for a checkpoint that covers the subject */
	uint64_t at;      /* --at: the size of the checkpoint to use, 0 for the newest */
	const char *disclose[PL_DOSSIER_MAX_DISCLOSURES];
	size_t ndisclose;
	struct pl_member_export x; /* what the library gathered, built and verified */
};

/* Says, once, that the export waits for a checkpoint that covers the subject. */
static void waiting(void *ctx, uint64_t covering, uint64_t size)
{
	(void)ctx;
	fprintf(stderr,
	        "parley dossier: waiting for a checkpoint that covers log #%" PRIu64
	        " (the exchange's newest covers %" PRIu64 " records)\n",
	        covering, size);
}

/* Exports the dossier of record id (pl_member_export()) and writes it. Returns an exit code. */
static int run_export(struct export *e, const char *id)
{
	const struct pl_record *subj;
	const struct pl_dossier_export_info *info = &e->x.info;
	char parts[160];
	int ret;

	e->x.subject = id;
	e->x.disclose = e->disclose;
	e->x.ndisclose = e->ndisclose;
	e->x.wait_ms = e->wait_ms;
	e->x.at = e->at;
	e->x.waiting = waiting;
	ret = session_said(&e->s, pl_member_export(&e->s, &e->x));
	if (ret == PL_EXIT_OK)
		ret = write_atomic("dossier", e->output, e->x.json.data, e->x.json.len);
	if (ret)
		return ret;
	subj = e->x.head.rec;
	if (info->version == 2)
		snprintf(parts, sizeof(parts),
		         "%zu thread record%s with their index proofs, %zu other record%s with "
		         "proofs",
		         info->nthread, info->nthread == 1 ? "" : "s", info->nproven,
		         info->nproven == 1 ? "" : "s");
	else
		snprintf(parts, sizeof(parts),
		         "%zu window record%s, %zu earlier record%s with proofs", info->nwindow,
		         info->nwindow == 1 ? "" : "s", info->nproven,
		         info->nproven == 1 ? "" : "s");
	printf("dossier %s: %s %s (log #%" PRIu64 ") up to checkpoint %" PRIu64
	       ": %s, %zu disclosure%s; verified with the pinned log key %s\n",
	       e->output,
	       subj->kind == PL_KIND_SEND ? pl_record_class_name(subj->cls)
	                                  : pl_record_kind_name(subj->kind),
	       e->x.head.hex, e->x.head.index, info->size, parts, e->x.ndisclosed,
	       e->x.ndisclosed == 1 ? "" : "s", e->s.profile.log_key.name);
	return PL_EXIT_OK;
}

static void export_release(struct export *e)
{
	pl_member_export_release(&e->x);
	session_close(&e->s);
	sodium_memzero(e, sizeof(*e));
}

int cmd_dossier(int argc, char **argv)
{
	/* Static: the session, the checkpoint and the disclosures are large. */
	static struct export e;
	const char *profile = NULL, *id = NULL;
	uint64_t wait_s = DOSSIER_WAIT_SECONDS;
	const struct cli_opt opts[] = {
	        CLI_OPT_STR('o', "output", &e.output, "FILE",
	                    "where to write the dossier (required)"),
	        {'d', "disclose", CLI_LIST, e.disclose, "ID",
	         "disclose the content of record ID, a send or\nconsultation of the dossier this "
	         "party can read, with\nthe salt of its commitment; may be repeated",
	         &e.ndisclose, .max = PL_DOSSIER_MAX_DISCLOSURES},
	        {'a', "at", CLI_UINT, &e.at, "SIZE",
	         "use the checkpoint of tree size SIZE, an earlier one\nthe exchange signed, "
	         "instead of the newest; it must\nend with an index record and cover ID",
	         .min = 1, .max = PL_TLOG_MAX_SIZE},
	        {'w', "wait", CLI_UINT, &wait_s, "SECONDS",
	         "how long to wait, at most, for a checkpoint that covers\nID: an exchange with "
	         "witnesses serves the newest\ncheckpoint they cosigned, which may not cover a "
	         "record\njust logged (0 to 3600, default 10)",
	         .max = 3600},
	        CLI_OPT_PROFILE(&profile),
	        {0},
	};
	int ret;

	memset(&e, 0, sizeof(e));
	ret = cli_parse(&dossier_verb, opts, argc, argv, &id);
	if (ret >= 0)
		goto out;
	if (!e.output || !e.output[0]) {
		ret = cli_usage("dossier", "missing --output FILE");
		goto out;
	}
	e.wait_ms = wait_s * 1000;
	ret = session_open(&e.s, "dossier", profile);
	if (ret == PL_EXIT_OK)
		ret = run_export(&e, id);
out:
	export_release(&e);
	return ret;
}

/* ---- parley verify ---- */

struct verify_args {
	const char *file;
	const char *html;
	const char *page;
	bool json;
	bool has_log_key;
	struct pl_vkey log_key;
	struct pl_vkey witnesses[CLI_MAX_KEYS];
	size_t nwitnesses;
	bool has_quorum;
	uint64_t quorum;
};

/* Says why a dossier did not verify (one line), in JSON too when asked. Returns the exit code. */
static int report_failure(const struct verify_args *a, int err, const struct pl_buf *why)
{
	const char *reason = why->len ? why->data : pl_strerror(err);
	bool is_input = !pl_dossier_error_is_evidence(err);
	json_t *o = NULL;
	char *text = NULL;
	int ret = is_input ? PL_EXIT_USAGE : PL_EXIT_FAIL;

	if (is_input)
		cli_error("dossier %s: %s: %s", a->file,
		          err == PL_ENOMEM   ? "out of memory"
		          : err == PL_EINVAL ? "cannot be checked with these arguments"
		                             : "not a well-formed dossier",
		          reason);
	else
		cli_error("dossier %s does not verify: %s", a->file, reason);
	if (!a->json)
		goto out;
	o = json_pack("{s:b, s:s, s:s, s:s}", "verifies", 0, "failure",
	              is_input ? "input" : "evidence", "error", pl_strerror(err), "reason", reason);
	text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (!text || cli_write_stdout(text, strlen(text)) || cli_write_stdout("\n", 1))
		ret = PL_EXIT_USAGE;
out:
	free(text);
	json_decref(o);
	return ret;
}

/*
 * Writes the self-verifying page of the dossier text[0..len) with the keys
 * given to a->page, whatever the dossier's verdict: the reader's browser
 * checks it. Returns an exit code.
 */
static int write_page(const struct verify_args *a, const struct pl_buf *text)
{
	struct pl_dossier_page_assets assets;
	struct pl_buf lk, wits, page;
	int ret = PL_EXIT_USAGE, err;

	pl_buf_init(&lk, PL_DOSSIER_PAGE_KEYS_MAX);
	pl_buf_init(&wits, PL_DOSSIER_PAGE_KEYS_MAX);
	pl_buf_init(&page, 2 * PL_DOSSIER_MAX_BYTES);
	if (pl_assets_page(&assets) != 0) {
		cli_error("--page: this parley was built without the browser verifier "
		          "(emscripten; see README)");
		goto out;
	}
	err = a->has_log_key ? pl_vkey_format(&a->log_key, &lk) : 0;
	for (size_t i = 0; err == 0 && i < a->nwitnesses; i++) {
		err = pl_vkey_format(&a->witnesses[i], &wits);
		if (err == 0)
			err = pl_buf_adds(&wits, "\n");
	}
	if (err == 0)
		err = pl_dossier_page(text->data ? text->data : "", text->len,
		                      lk.data ? lk.data : "", wits.data ? wits.data : "", &assets,
		                      &page);
	if (err) {
		cli_error("page %s: %s", a->page, pl_strerror(err));
		goto out;
	}
	ret = write_atomic("page", a->page, page.data, page.len);
out:
	pl_buf_release(&lk);
	pl_buf_release(&wits);
	pl_buf_release(&page);
	return ret;
}

static int verify_dossier(const struct verify_args *a)
{
	struct pl_dossier_report *rep = NULL;
	struct pl_buf text, why, page;
	size_t quorum = a->has_quorum ? (size_t)a->quorum : a->nwitnesses;
	int ret, err;

	pl_buf_init(&text, PL_DOSSIER_MAX_BYTES);
	pl_buf_init(&why, WHY_MAX);
	pl_buf_init(&page, PL_DOSSIER_MAX_BYTES);
	ret = cli_read_path("dossier", a->file, PL_DOSSIER_MAX_BYTES, &text);
	if (ret)
		goto out;
	if (a->page) {
		ret = write_page(a, &text);
		if (ret)
			goto out;
	}
	err = pl_dossier_verify(&rep, text.data ? text.data : "", text.len,
	                        a->has_log_key ? &a->log_key : NULL, a->witnesses, a->nwitnesses,
	                        quorum, &why);
	if (err) {
		ret = report_failure(a, err, &why);
		goto out;
	}
	/* Loud, and apart from the report, so that it is seen even when the report is piped. */
	if (!a->has_log_key)
		cli_error("WARNING: no --log-key given: the log key was taken from the dossier "
		          "itself, so this shows only that the dossier is consistent with itself, "
		          "not that the exchange signed it; give the exchange's published key "
		          "with --log-key");
	if (a->html) {
		err = pl_dossier_render_html(rep, &page);
		if (err) {
			cli_error("HTML page %s: %s", a->html, pl_strerror(err));
			ret = PL_EXIT_USAGE;
			goto out;
		}
		ret = write_atomic("HTML page", a->html, page.data, page.len);
		if (ret)
			goto out;
	}
	if (a->json) {
		pl_buf_reset(&page);
		err = pl_dossier_render_json(rep, &page);
		if (err) {
			cli_error("verify: cannot format the JSON answer");
			ret = PL_EXIT_USAGE;
			goto out;
		}
		ret = cli_write_stdout(page.data, page.len);
		goto out;
	}
	pl_buf_reset(&page);
	err = pl_dossier_render_text(rep, &page);
	if (err) {
		cli_error("verify: %s", pl_strerror(err));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	ret = cli_write_stdout(page.data, page.len);
out:
	pl_dossier_report_free(rep);
	pl_buf_release(&text);
	pl_buf_release(&why);
	pl_buf_release(&page);
	return ret;
}

/* Checks that the keys given are of the right kinds. Returns an exit code. */
static int check_keys(const struct verify_args *a)
{
	if (a->has_log_key && a->log_key.type != PL_SIGTYPE_ED25519)
		return cli_usage("verify", "--log-key %s: not an Ed25519 log key", a->log_key.name);
	for (size_t i = 0; i < a->nwitnesses; i++) {
		if (a->witnesses[i].type != PL_SIGTYPE_COSIG_V1)
			return cli_usage("verify",
			                 "--witness %s: not a witness cosignature key "
			                 "(c2sp.org/tlog-cosignature)",
			                 a->witnesses[i].name);
	}
	return PL_EXIT_OK;
}

int cmd_verify(int argc, char **argv)
{
	/* Static: the key array is too large for a comfortable stack frame. */
	static struct verify_args a;
	size_t nlog = 0;
	const struct cli_opt opts[] = {
	        {'l', "log-key", CLI_VKEY, &a.log_key, "VKEY",
	         "the exchange's published log key; without it the key\nnamed in the dossier is "
	         "used, which shows only that\nthe dossier is consistent with itself",
	         &nlog, .max = 1},
	        {'w', "witness", CLI_VKEY, a.witnesses, "VKEY",
	         "a witness's cosignature key; may be repeated", &a.nwitnesses,
	         .max = CLI_MAX_KEYS},
	        {'q', "quorum", CLI_UINT, &a.quorum, "N",
	         "how many of the given witnesses must have cosigned\n(default: all of them)",
	         .given = &a.has_quorum, .max = CLI_MAX_KEYS},
	        CLI_OPT_STR('H', "html", &a.html, "OUT",
	                    "also write the timeline and verdicts as one standalone\nHTML page (no "
	                    "script, no external asset) to OUT"),
	        CLI_OPT_STR('P', "page", &a.page, "OUT",
	                    "also write one self-contained HTML page that\nverifies the "
	                    "dossier in a browser, offline,\nagainst the keys given, to OUT "
	                    "(written\neven when the dossier does not verify)"),
	        CLI_OPT_FLAG('j', "json", &a.json, "print one JSON object instead of text"),
	        {0},
	};
	int ret;

	memset(&a, 0, sizeof(a));
	ret = cli_parse(&verify_verb, opts, argc, argv, &a.file);
	if (ret >= 0)
		goto out;
	a.has_log_key = nlog == 1;
	ret = check_keys(&a);
	if (ret)
		goto out;
	if (a.has_quorum && a.quorum > a.nwitnesses) {
		ret = cli_usage("verify", "--quorum %" PRIu64 " exceeds the %zu --witness given",
		                a.quorum, a.nwitnesses);
		goto out;
	}
	if (a.html && !a.html[0]) {
		ret = cli_usage("verify", "--html needs a file name");
		goto out;
	}
	if (a.page && !a.page[0]) {
		ret = cli_usage("verify", "--page needs a file name");
		goto out;
	}
	ret = verify_dossier(&a);
out:
	return ret;
}
