/* parley dossier and parley verify: export a thread's offline evidence, and check one offline. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <parley/client.h>
#include <parley/dossier.h>
#include <parley/encoding.h>
#include <parley/note.h>
#include <parley/proof.h>
#include <parley/record.h>
#include <parley/tiles.h>
#include <parley/timestamp.h>
#include <parley/tlog.h>

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
                    "                          [--html OUT] [--json]",
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

static int write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;
	int ret = 0;

	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -1;
			break;
		}
		off += (size_t)w;
	}
	return ret;
}

/*
 * Writes data[0..len) to path through a temporary file beside it (mode 0644,
 * fsynced, renamed over path, then the directory fsynced), so that a crash
 * leaves the old file or the whole new one, never a part. Returns an exit code.
 */
static int write_atomic(const char *what, const char *path, const char *data, size_t len)
{
	char tmp[CLI_PATH_MAX], dir[CLI_PATH_MAX];
	const char *slash = strrchr(path, '/');
	bool made = false;
	int fd = -1, dfd = -1, ret = PL_EXIT_USAGE, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		cli_error("%s %s: the path is too long", what, path);
		goto out;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		cli_error("%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	made = true;
	/* Explicit, so that the umask neither widens nor narrows what a reader is handed. */
	if (fchmod(fd, 0644) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		cli_error("%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	n = close(fd);
	fd = -1;
	if (n != 0 || rename(tmp, path) != 0) {
		cli_error("%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	made = false;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		cli_error("%s %s: written, but its directory cannot be synced: %s", what, path,
		          strerror(errno));
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (made)
		unlink(tmp);
	return ret;
}

/* ---- The export ---- */

/* A disclosure and the opened copy it points to (wiped and freed at the end). */
struct disclosed {
	struct pl_dossier_disclosure d;
	uint8_t *plain;
};

/*
 * The first fetch from the exchange that failed, so that it is reported as
 * every other command reports the exchange (refusals exit 3), whatever the
 * library was doing when it needed it.
 */
struct fetched {
	int err;
	char what[96];
	bool reported; /* already said, with exit code code */
	int code;
	bool wrong_size;
	size_t got, want;
};

struct export
{
	struct session s;
	const char *output;
	uint64_t wait_ms; /* for a checkpoint that covers the subject */
	uint64_t at;      /* --at: the size of the checkpoint to use, 0 for the newest */
	const char *disclose[PL_DOSSIER_MAX_DISCLOSURES];
	size_t ndisclose;
	struct session_record subject;
	char sid[17]; /* the subject's short id, for messages */
	struct fetched fetched;
	struct pl_dossier_export *x; /* the evidence the library gathered */
	struct disclosed disc[PL_DOSSIER_MAX_DISCLOSURES];
	size_t ndisc;
	struct pl_buf json;
};

/* ---- The exchange as the dossier's source ---- */

static int source_failed(struct fetched *f, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int source_failed(struct fetched *f, int err, const char *fmt, ...)
{
	va_list ap;

	if (!f->err) {
		f->err = err;
		va_start(ap, fmt);
		vsnprintf(f->what, sizeof(f->what), fmt, ap);
		va_end(ap);
	}
	return err;
}

/*
 * Fetches the checkpoint after the subject, so that it covers it. An exchange
 * with witnesses serves the newest checkpoint they cosigned, which lags a
 * record just logged by a witness round: polls for one that covers the
 * subject, at most wait_ms. The library reports one that never came.
 */
/*
 * The checkpoint of size e->at (--at): the one the exchange includes in the
 * subject's tlog-proof at that size, checked as every checkpoint is.
 */
static int checkpoint_at(struct export *e, struct pl_buf *note)
{
	struct pl_proof *p = NULL;
	struct pl_buf b;
	int ret, err;

	pl_buf_init(&b, PL_TLOG_PROOF_MAX_BYTES);
	if (e->at <= e->subject.index) {
		cli_error("--at %" PRIu64 ": the checkpoint of that size does not cover record "
		          "%.16s (log #%" PRIu64 ")",
		          e->at, e->subject.hex, e->subject.index);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	err = pl_client_proof(e->s.client, e->subject.hex, e->at, &b);
	if (err == 0)
		err = pl_proof_parse(&p, b.data ? b.data : "", b.len);
	if (err == PL_ENOTFOUND) {
		cli_error("--at %" PRIu64 ": the exchange signed no checkpoint of that size",
		          e->at);
		ret = PL_EXIT_FAIL;
	} else if (err == PL_EMALFORMED || err == PL_ETOOBIG) {
		cli_error("--at %" PRIu64 ": the exchange's proof of record %.16s is malformed",
		          e->at, e->subject.hex);
		ret = PL_EXIT_FAIL;
	} else if (err) {
		ret = session_client_failed(&e->s, "checkpoint", err);
	} else {
		ret = session_checkpoint(&e->s, p->checkpoint, p->checkpoint_len, NULL);
	}
	if (ret == 0 && pl_buf_add(note, p->checkpoint, p->checkpoint_len) != 0) {
		cli_error("checkpoint: out of memory");
		ret = PL_EXIT_USAGE;
	}
out:
	pl_proof_free(p);
	pl_buf_release(&b);
	return ret;
}

static int src_checkpoint(void *ctx, uint64_t covering, struct pl_buf *note)
{
	const struct timespec tick = {0, 100 * 1000 * 1000};
	struct export *e = ctx;
	struct pl_checkpoint cp;
	uint64_t waited = 0;
	int ret;

	if (e->at) {
		ret = checkpoint_at(e, note);
		goto out;
	}
	for (;;) {
		pl_buf_reset(note);
		ret = session_refresh(&e->s, &cp, note);
		if (ret || cp.size > covering || waited >= e->wait_ms)
			break;
		if (waited == 0)
			fprintf(stderr,
			        "parley dossier: waiting for a checkpoint that covers log #%" PRIu64
			        " (the exchange's newest covers %" PRIu64 " records)\n",
			        covering, cp.size);
		nanosleep(&tick, NULL);
		waited += 100;
	}
out:
	if (ret) {
		/* session_refresh() said why. */
		e->fetched.reported = true;
		e->fetched.code = ret;
		return PL_EPROOF;
	}
	return 0;
}

/* GET /tile/<L>/<N>[.p/<W>], exactly the tile's bytes. */
static int src_tile(void *ctx, const struct pl_tile *t, uint8_t *out)
{
	struct export *e = ctx;
	size_t want = (size_t)t->width * PL_HASH_BYTES;
	struct pl_buf b;
	int ret;

	pl_buf_init(&b, PL_TILE_BYTES);
	ret = pl_client_tile(e->s.client, t->level, t->n, t->width == PL_TILE_WIDTH ? 0 : t->width,
	                     &b);
	if (ret == 0 && b.len != want) {
		ret = source_failed(&e->fetched, PL_EMALFORMED, "hash tile %u/%" PRIu64, t->level,
		                    t->n);
		if (e->fetched.err == ret && !e->fetched.wrong_size) {
			e->fetched.wrong_size = true;
			e->fetched.got = b.len;
			e->fetched.want = want;
		}
	} else if (ret) {
		ret = source_failed(&e->fetched, ret, "hash tile %u/%" PRIu64, t->level, t->n);
	} else {
		memcpy(out, b.data, want);
	}
	pl_buf_release(&b);
	return ret;
}

/* GET /tile/entries/<N>[.p/<W>]. */
static int src_bundle(void *ctx, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct export *e = ctx;
	const struct pl_client_error *ce;
	int ret;

	ret = pl_client_entry_bundle(e->s.client, n, width == PL_TILE_WIDTH ? 0 : width, out);
	ce = ret ? pl_client_last_error(e->s.client) : NULL;
	if (ce && ce->status == 403 && !e->fetched.err && !e->fetched.reported) {
		/*
		 * Need-to-know: an entry bundle holds others' records, so only auditors read
		 * it; the export reads one only for a register the directory no longer names.
		 */
		cli_error("entry bundle %" PRIu64 ": it holds others' records, and only the "
		          "exchange's auditors (its parleyd.conf `auditors`) may read it; %s is "
		          "not one",
		          n, e->s.profile.party);
		e->fetched.reported = true;
		e->fetched.code = PL_EXIT_REFUSED;
	} else if (ret) {
		ret = source_failed(&e->fetched, ret, "entry bundle %" PRIu64, n);
	}
	return ret;
}

/* GET /records/<id>. */
static int src_record(void *ctx, const uint8_t id[PL_RECORD_ID_BYTES], struct pl_buf *out,
                      uint64_t *index)
{
	struct export *e = ctx;
	struct pl_client_entry ent;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int ret;

	memset(&ent, 0, sizeof(ent));
	pl_record_id_format(hex, id);
	ret = pl_client_record(e->s.client, hex, &ent);
	if (ret) {
		ret = source_failed(&e->fetched, ret, "record %.16s", hex);
		goto out;
	}
	ret = pl_buf_add(out, ent.note, ent.note_len);
	if (ret == 0)
		*index = ent.index;
out:
	pl_client_entry_release(&ent);
	return ret;
}

/*
 * The register record of a key the directory names (session_directory()
 * checked it against its entry); PL_ENOTFOUND for a key it no longer names,
 * which the library then looks for in the entry bundles.
 */
static int src_register(void *ctx, const char *key_name, const uint8_t key_id[PL_KEYID_BYTES],
                        struct pl_buf *out, uint64_t *index)
{
	struct export *e = ctx;
	int ret;

	ret = session_directory(&e->s, false);
	if (ret) {
		e->fetched.reported = true;
		e->fetched.code = ret;
		return PL_EPROOF;
	}
	for (size_t i = 0; i < e->s.nparties; i++) {
		const struct pl_client_party *p = &e->s.parties[i];
		if (strcmp(p->vkey.name, key_name) == 0 &&
		    memcmp(p->vkey.id, key_id, PL_KEYID_BYTES) == 0) {
			ret = pl_buf_add(out, p->register_record, p->register_record_len);
			if (ret == 0)
				*index = p->register_index;
			return ret;
		}
	}
	return PL_ENOTFOUND;
}

/* GET /index/<id>?size=N: the thread index proof of a record, under the checkpoint's index. */
static int src_index_proof(void *ctx, const uint8_t key[32], uint64_t size, struct pl_buf *out)
{
	struct export *e = ctx;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int ret;

	ret = pl_client_index_proof(e->s.client, key, size, out);
	if (ret) {
		pl_record_id_format(hex, key);
		ret = source_failed(&e->fetched, ret, "the thread index proof of record %.16s",
		                    hex);
	}
	return ret;
}

/* GET /index?size=N: the index record that ends the checkpoint, public. */
static int src_index_record(void *ctx, uint64_t size, struct pl_buf *out, uint64_t *index)
{
	struct export *e = ctx;
	int ret;

	ret = pl_client_index_record(e->s.client, size, out, index);
	if (ret)
		ret = source_failed(&e->fetched, ret, "the index record of checkpoint %" PRIu64,
		                    size);
	return ret;
}

/* Reports a failure of the export: the exchange's, as the session does, or the library's reason. */
static int export_failed(struct export *e, int err, const struct pl_buf *why)
{
	const struct fetched *f = &e->fetched;
	const char *reason = why->len ? why->data : pl_strerror(err);

	if (f->reported)
		return f->code;
	if (f->err && f->wrong_size) {
		cli_error("%s: the exchange sent %zu bytes, not %zu", f->what, f->got, f->want);
		return PL_EXIT_FAIL;
	}
	if (f->err && f->err != PL_ENOMEM)
		return session_client_failed(&e->s, f->what, err);
	cli_error("%s", reason);
	return err == PL_ENOMEM || err == PL_ETOOBIG ? PL_EXIT_USAGE : PL_EXIT_FAIL;
}

/* ---- The export ---- */

/*
 * Resolves the subject: the record ID, or for a record that acts on another
 * (a receive, a decline, an advice...) the send, consultation or check it
 * acts on, which heads the thread. Returns an exit code.
 */
static int find_subject(struct export *e, const char *arg)
{
	struct session_record r;
	enum pl_ref_role role;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int ret;

	memset(&r, 0, sizeof(r));
	ret = session_resolve(&e->s, arg, &r);
	if (ret)
		goto out;
	role = pl_record_kind_target(r.rec->kind);
	if (role) {
		const struct pl_record_ref *ref = pl_record_ref_find(r.rec, role);
		if (!ref) {
			cli_error("record %.16s: a %s that names no record it acts on", r.hex,
			          pl_record_kind_name(r.rec->kind));
			ret = PL_EXIT_FAIL;
			goto out;
		}
		pl_record_id_format(hex, ref->id);
		session_record_release(&r);
		ret = session_resolve(&e->s, hex, &r);
		if (ret)
			goto out;
	}
	if (!pl_dossier_is_subject_kind(r.rec->kind)) {
		cli_error("record %.16s: a %s heads no thread; give a send, consultation, check or "
		          "statement",
		          r.hex, pl_record_kind_name(r.rec->kind));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	if (r.index == UINT64_MAX) {
		cli_error("record %.16s: the exchange did not say where it is in the log", r.hex);
		ret = PL_EXIT_FAIL;
		goto out;
	}
	e->subject = r;
	memset(&r, 0, sizeof(r));
	session_short_id(e->sid, e->subject.id);
out:
	session_record_release(&r);
	return ret;
}

/*
 * Adds the disclosure of record arg: the opened copy in the local state, or
 * the payload fetched and opened with this party's key (session_payload()
 * checks it against the record's commitment). Returns an exit code.
 */
static int add_disclosure(struct export *e, const char *arg)
{
	struct session_record r;
	uint8_t salt[PL_BOX_SALT_BYTES];
	uint8_t *plain = NULL;
	size_t len = 0;
	int ret;

	memset(&r, 0, sizeof(r));
	ret = session_resolve(&e->s, arg, &r);
	if (ret)
		goto out;
	for (size_t i = 0; i < e->ndisc; i++) {
		if (memcmp(e->disc[i].d.id, r.id, PL_RECORD_ID_BYTES) == 0)
			goto out; /* named twice */
	}
	ret = PL_EXIT_USAGE;
	if (!pl_dossier_export_holds(e->x, r.id)) {
		cli_error("record %.16s: not in the dossier of %s (not of its thread, nor a record "
		          "the thread refers to), so it cannot be disclosed in it",
		          r.hex, e->sid);
		goto out;
	}
	if (!(r.rec->has & PL_RECORD_HAS_COMMIT)) {
		cli_error("record %.16s: a %s seals no content, so there is nothing to disclose",
		          r.hex, pl_record_kind_name(r.rec->kind));
		goto out;
	}
	ret = session_payload(&e->s, &r, &plain, &len, salt);
	if (ret)
		goto out;
	if (!plain) {
		cli_error("record %.16s: %s is not one of its readers, so it cannot disclose it",
		          r.hex, e->s.profile.party);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	memcpy(e->disc[e->ndisc].d.id, r.id, PL_RECORD_ID_BYTES);
	e->disc[e->ndisc].d.plaintext = plain;
	e->disc[e->ndisc].d.len = len;
	memcpy(e->disc[e->ndisc].d.salt, salt, PL_BOX_SALT_BYTES);
	e->disc[e->ndisc].plain = plain;
	e->ndisc++;
	plain = NULL;
out:
	pl_state_plaintext_free(plain, len);
	sodium_memzero(salt, sizeof(salt));
	session_record_release(&r);
	return ret;
}

/*
 * Builds the dossier from what was gathered and verifies it with the pinned
 * log key, as a reader will: a dossier that does not verify is never
 * written. Returns an exit code.
 */
static int build(struct export *e)
{
	struct pl_dossier_disclosure d[PL_DOSSIER_MAX_DISCLOSURES];
	struct pl_buf why;
	int ret = PL_EXIT_OK, err;

	pl_buf_init(&why, WHY_MAX);
	for (size_t i = 0; i < e->ndisc; i++)
		d[i] = e->disc[i].d;
	err = pl_dossier_export_finish(e->x, d, e->ndisc, &e->json, NULL, &why);
	if (err) {
		cli_error("%s", why.len ? why.data : pl_strerror(err));
		ret = err == PL_ENOMEM || err == PL_ETOOBIG ? PL_EXIT_USAGE : PL_EXIT_FAIL;
	}
	sodium_memzero(d, sizeof(d));
	pl_buf_release(&why);
	return ret;
}

static int run_export(struct export *e, const char *id)
{
	const struct pl_dossier_source src = {
	        .ctx = e,
	        .checkpoint = src_checkpoint,
	        .tile = src_tile,
	        .bundle = src_bundle,
	        .record = src_record,
	        .register_of = src_register,
	        .index_proof = src_index_proof,
	        .index_record = src_index_record,
	};
	struct pl_dossier_export_info info;
	char parts[160];
	struct pl_buf why;
	int ret, err;

	pl_buf_init(&why, WHY_MAX);
	pl_buf_init(&e->json, PL_DOSSIER_MAX_BYTES);
	ret = find_subject(e, id);
	if (ret)
		goto out;
	err = pl_dossier_export_collect(&e->x, &src, &e->s.profile.log_key, e->subject.id,
	                                e->subject.index, &why);
	if (err) {
		ret = export_failed(e, err, &why);
		goto out;
	}
	for (size_t i = 0; ret == PL_EXIT_OK && i < e->ndisclose; i++)
		ret = add_disclosure(e, e->disclose[i]);
	if (ret == PL_EXIT_OK)
		ret = build(e);
	if (ret == PL_EXIT_OK)
		ret = write_atomic("dossier", e->output, e->json.data, e->json.len);
	if (ret)
		goto out;
	pl_dossier_export_info(e->x, &info);
	if (info.version == 2)
		snprintf(parts, sizeof(parts),
		         "%zu thread record%s with their index proofs, %zu other record%s with "
		         "proofs",
		         info.nthread, info.nthread == 1 ? "" : "s", info.nproven,
		         info.nproven == 1 ? "" : "s");
	else
		snprintf(parts, sizeof(parts),
		         "%zu window record%s, %zu earlier record%s with proofs", info.nwindow,
		         info.nwindow == 1 ? "" : "s", info.nproven, info.nproven == 1 ? "" : "s");
	printf("dossier %s: %s %s (log #%" PRIu64 ") up to checkpoint %" PRIu64
	       ": %s, %zu disclosure%s; verified with the pinned log key %s\n",
	       e->output,
	       e->subject.rec->kind == PL_KIND_SEND ? pl_record_class_name(e->subject.rec->cls)
	                                            : pl_record_kind_name(e->subject.rec->kind),
	       e->subject.hex, e->subject.index, info.size, parts, e->ndisc,
	       e->ndisc == 1 ? "" : "s", e->s.profile.log_key.name);
out:
	pl_buf_release(&why);
	return ret;
}

static void export_release(struct export *e)
{
	pl_dossier_export_free(e->x);
	for (size_t i = 0; i < e->ndisc; i++)
		pl_state_plaintext_free(e->disc[i].plain, e->disc[i].d.len);
	/* The file holds the disclosed plaintexts too: no copy is left behind in memory. */
	if (e->json.data)
		sodium_memzero(e->json.data, e->json.len);
	pl_buf_release(&e->json);
	session_record_release(&e->subject);
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
	         "instead "
	         "of the newest; it must\nend with an index record and cover ID",
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
	ret = verify_dossier(&a);
out:
	return ret;
}
