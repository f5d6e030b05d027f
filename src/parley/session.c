/* How the verbs word the member session: the profile's place, messages and exit codes, and the
 * evidence of two histories. */
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <parley/encoding.h>
#include <parley/member.h>
#include <parley/timestamp.h>

#include "banned.h"

void session_short_id(char out[static 17], const uint8_t id[static PL_RECORD_ID_BYTES])
{
	pl_hex_encode(out, id, 8);
	out[16] = '\0';
}

int64_t session_now(void)
{
	const char *env = getenv("PARLEY_NOW");
	uint64_t v;

	if (env && pl_parse_u64(&v, env, strlen(env), (uint64_t)PL_TIMESTAMP_MAX) == 0)
		return (int64_t)v;
	return (int64_t)time(NULL);
}

/* Writes "<a>/<b>" into out. Returns false when it does not fit. */
static bool path_join(char out[static CLI_PATH_MAX], const char *a, const char *b)
{
	int n = snprintf(out, CLI_PATH_MAX, "%s/%s", a, b);
	return n > 0 && n < CLI_PATH_MAX;
}

int session_profile_dir(char out[static CLI_PATH_MAX], const char *arg, bool *is_explicit)
{
	const char *env = getenv(SESSION_PROFILE_ENV), *base;
	bool expl = true;
	int ret = PL_EXIT_USAGE;

	if (!arg && env && env[0])
		arg = env;
	if (arg) {
		if (strlen(arg) == 0 || strlen(arg) >= CLI_PATH_MAX) {
			cli_error("profile directory '%s': empty or too long", arg);
			goto out;
		}
		memcpy(out, arg, strlen(arg) + 1);
	} else {
		expl = false;
		base = getenv("XDG_CONFIG_HOME");
		if (base && base[0] == '/') {
			if (!path_join(out, base, "parley")) {
				cli_error("XDG_CONFIG_HOME is too long");
				goto out;
			}
		} else {
			char tmp[CLI_PATH_MAX];
			base = getenv("HOME");
			if (!base || base[0] != '/') {
				cli_error("no profile directory: set HOME, or give --profile DIR");
				goto out;
			}
			if (!path_join(tmp, base, ".config") || !path_join(out, tmp, "parley")) {
				cli_error("HOME is too long");
				goto out;
			}
		}
	}
	if (is_explicit)
		*is_explicit = expl;
	ret = PL_EXIT_OK;
out:
	return ret;
}

/* Prints a checkpoint for a message: size and root, then its signed note, indented. */
static void describe_checkpoint(const char *label, uint64_t size,
                                const uint8_t root[static PL_HASH_BYTES], const char *note,
                                size_t len)
{
	char b64[PL_B64_LEN(PL_HASH_BYTES) + 1];
	size_t i = 0;

	pl_b64_encode(b64, root, PL_HASH_BYTES);
	fprintf(stderr, "  %s: tree size %llu, root %s\n", label, (unsigned long long)size, b64);
	while (note && i < len) {
		const char *nl = memchr(note + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - note) - i : len - i;
		fprintf(stderr, "    | %.*s\n", (int)n, note + i);
		i += n + 1;
	}
}

/* Keeps the evidence of two histories (pl_member_evidence_save()) and names it. */
static void write_evidence(struct pl_session *s, struct pl_client_split *sp)
{
	char path[PL_PROFILE_PATH_MAX + 1];
	const char *stage = NULL;
	int err;

	err = pl_member_evidence_save(sp, &s->profile.log_key, s->profile.state, path, &stage);
	if (err == PL_EIO)
		cli_error("evidence: cannot %s %s: %s", stage, path, strerror(errno));
	else if (err == PL_ETOOBIG)
		cli_error("evidence: path too long in %s", path);
	else if (err == PL_EINVAL)
		cli_error("evidence: no directory in the state path %s", s->profile.state);
	else if (err)
		cli_error("evidence: out of memory");
	else
		cli_error("evidence written to %s: both signed checkpoints exactly as received and "
		          "the exchange's proof; hand it to a witness or a court",
		          path);
}

/* The verdict when two checkpoints cannot both be true: says so, keeps the evidence. Returns 1. */
static int two_histories(struct pl_session *s, struct pl_client_split *sp)
{
	cli_error("the exchange shows two histories (%s): the checkpoint it gives now is not "
	          "consistent with the one this client saw before",
	          sp->reason);
	describe_checkpoint("seen before", sp->seen.size, sp->seen.root, sp->seen.note,
	                    sp->seen.note_len);
	describe_checkpoint("given now", sp->given.size, sp->given.root, sp->given.note,
	                    sp->given.note_len);
	fputs("  Both are signed by the exchange's log key; keep them as evidence.\n", stderr);
	write_evidence(s, sp);
	return PL_EXIT_FAIL;
}

int session_said(struct pl_session *s, int err)
{
	if (s->warning[0]) {
		cli_error("warning: %s", s->warning);
		s->warning[0] = '\0';
	}
	if (!err)
		return PL_EXIT_OK;
	if (s->why[0]) /* else the caller's callback said why */
		cli_error("%s", s->why);
	if (err == PL_EINCONSISTENT && s->split)
		two_histories(s, s->split);
	return s->blame == PL_BLAME_EVIDENCE  ? PL_EXIT_FAIL
	       : s->blame == PL_BLAME_REFUSED ? PL_EXIT_REFUSED
	                                      : PL_EXIT_USAGE;
}

int session_open(struct pl_session *s, const char *cmd, const char *profile_arg)
{
	char dir[CLI_PATH_MAX];
	int ret;

	(void)cmd;
	memset(s, 0, sizeof(*s));
	ret = session_profile_dir(dir, profile_arg, NULL);
	return ret ? ret : session_said(s, pl_session_open(s, dir, NULL, session_now));
}

int session_open_with(struct pl_session *s, const char *dir, const struct pl_profile *p)
{
	return session_said(s, pl_session_open(s, dir, p, session_now));
}

void session_close(struct pl_session *s)
{
	pl_session_close(s);
}

int session_client_failed(struct pl_session *s, const char *what, int err)
{
	return session_said(s, pl_session_client_error(s, what, err));
}

int session_checkpoint(struct pl_session *s, const char *note, size_t len, struct pl_checkpoint *cp)
{
	return session_said(s, pl_session_checkpoint(s, note, len, cp));
}

int session_refresh(struct pl_session *s, struct pl_checkpoint *cp, struct pl_buf *note)
{
	return session_said(s, pl_session_refresh(s, cp, note));
}

int session_directory(struct pl_session *s, bool force)
{
	return session_said(s, pl_session_directory(s, force));
}

const struct pl_client_party *session_party(struct pl_session *s, const char *name, int *ret)
{
	int err;
	const struct pl_client_party *p = pl_session_party(s, name, &err);

	*ret = session_said(s, err);
	return p;
}

int session_verify_entry(struct pl_session *s, const struct pl_client_entry *e,
                         struct pl_session_record *out)
{
	return session_said(s, pl_session_verify_entry(s, e, out));
}

int session_resolve(struct pl_session *s, const char *arg, struct pl_session_record *out)
{
	return session_said(s, pl_session_resolve(s, arg, out));
}

int session_prove(struct pl_session *s, const struct pl_session_record *r, struct pl_checkpoint *cp)
{
	return session_said(s, pl_session_prove(s, r, cp));
}

int session_prove_text(struct pl_session *s, const struct pl_session_record *r,
                       struct pl_checkpoint *cp, struct pl_buf *out)
{
	return session_said(s, pl_session_prove_text(s, r, cp, out));
}

int session_payload(struct pl_session *s, const struct pl_session_record *r, uint8_t **plaintext,
                    size_t *len, uint8_t salt[static PL_BOX_SALT_BYTES])
{
	return session_said(s, pl_session_payload(s, r, plaintext, len, salt));
}

int session_submit(struct pl_session *s, struct pl_record *r, int64_t min_time, const char *what,
                   struct pl_receipt *out, struct pl_buf *text)
{
	return session_said(s, pl_session_submit(s, r, min_time, what, out, text));
}

/* The index check's source: this party's client of the exchange. */
static int src_record_at(void *ctx, uint64_t index, struct pl_buf *out)
{
	struct pl_session *s = ctx;
	uint64_t got = UINT64_MAX;
	int err;

	/* The index record that ends the checkpoint of size index + 1 (GET /index, public). */
	err = pl_client_index_record(s->client, index + 1, out, &got);
	if (!err && got != index)
		err = PL_EPROOF;
	return err;
}

static int src_inclusion(void *ctx, const char *hex, uint64_t size, struct pl_buf *out)
{
	struct pl_session *s = ctx;

	return pl_client_proof(s->client, hex, size, out);
}

static int src_index_proof(void *ctx, const uint8_t key[static PL_HASH_BYTES], uint64_t size,
                           struct pl_buf *out)
{
	struct pl_session *s = ctx;

	return pl_client_index_proof(s->client, key, size, out);
}

/* Keeps the evidence of what f found about r and names it loudly. Returns 1. */
static int index_lie(struct pl_session *s, const struct pl_member_index_found *f, const char *text,
                     size_t len, const struct pl_receipt *rc)
{
	char path[PL_PROFILE_PATH_MAX + 1], key[PL_HASH_HEX_LEN + 1], id[PL_HASH_HEX_LEN + 1];
	struct pl_member_index_lie e;
	const char *stage = NULL;
	struct pl_buf vk;
	int err;

	memset(&e, 0, sizeof(e));
	pl_buf_init(&vk, 1024);
	pl_hex_encode(key, f->key, PL_HASH_BYTES);
	pl_hex_encode(id, rc->id, PL_HASH_BYTES);
	cli_error("THE EXCHANGE LIES in its thread index: the index record #%" PRIu64
	          " at checkpoint %" PRIu64 " %s this party's record #%" PRIu64
	          " %.16s under %.16s, which it refers to; do not trust this exchange",
	          f->index_at, rc->size,
	          f->verdict == PL_MEMBER_INDEX_OMITTED ? "leaves out" : "misstates", rc->index, id,
	          key);
	e.exchange = s->profile.exchange;
	e.log_key = pl_vkey_format(&s->profile.log_key, &vk) == 0 ? vk.data : "";
	e.detected = session_now();
	e.verdict = f->verdict;
	memcpy(e.key, f->key, PL_HASH_BYTES);
	e.index = rc->index;
	memcpy(e.id, rc->id, PL_HASH_BYTES);
	e.index_at = f->index_at;
	e.index_record = f->index_record.data;
	e.index_record_len = f->index_record.len;
	e.index_inclusion = f->index_inclusion.data;
	e.index_inclusion_len = f->index_inclusion.len;
	e.tindex_proof = f->tindex_proof.data;
	e.tindex_proof_len = f->tindex_proof.len;
	e.record = text;
	e.record_len = len;
	e.record_inclusion = rc->proof;
	e.record_inclusion_len = rc->proof_len;
	err = pl_member_index_lie_save(&e, s->profile.state, path, &stage);
	if (err == PL_EIO)
		cli_error("evidence: cannot %s %s: %s", stage, path, strerror(errno));
	else if (err)
		cli_error("evidence: cannot keep it: %s", pl_strerror(err));
	else
		cli_error("evidence written to %s: the signed index record and checkpoint, the "
		          "exchange's index proof, and this party's record with its proof",
		          path);
	pl_buf_release(&vk);
	return PL_EXIT_FAIL;
}

int session_index_check(struct pl_session *s, const struct pl_record *r, const char *text,
                        size_t len, const struct pl_receipt *rc, bool say)
{
	const struct pl_member_index_source src = {.ctx = s,
	                                           .record_at = src_record_at,
	                                           .inclusion = src_inclusion,
	                                           .index_proof = src_index_proof};
	struct pl_member_index_found f;
	int err, ret = PL_EXIT_OK;

	err = pl_member_index_check(&src, rc, r, text, len, s->profile.origin, &s->profile.log_key,
	                            &f);
	if (err == PL_ENOTFOUND)
		goto out; /* an exchange that keeps no index: nothing to check */
	if (err == PL_EINCONSISTENT) {
		cli_error("the index record #%" PRIu64 " is proven under another checkpoint of "
		          "size %" PRIu64 " than the receipt's: two histories",
		          f.index_at, rc->size);
		ret = PL_EXIT_FAIL;
		goto out;
	}
	if (err) {
		ret = session_client_failed(s, "the thread index", err);
		goto out;
	}
	if (f.verdict == PL_MEMBER_INDEX_OMITTED || f.verdict == PL_MEMBER_INDEX_INVENTED) {
		ret = index_lie(s, &f, text, len, rc);
		goto out;
	}
	if (f.verdict == PL_MEMBER_INDEX_UNPROVEN) {
		cli_error("the thread index: the exchange's proof at checkpoint %" PRIu64
		          " does not hold",
		          rc->size);
		ret = PL_EXIT_FAIL;
		goto out;
	}
	if (say) {
		printf("  the index #%" PRIu64 " lists it under the %zu record%s it refers to\n",
		       f.index_at, f.nkeys, f.nkeys == 1 ? "" : "s");
		fflush(stdout);
	}
out:
	pl_member_index_found_release(&f);
	return ret;
}

int session_record_summary(const struct pl_record *r, struct pl_buf *b)
{
	return pl_member_record_summary(r, b);
}
