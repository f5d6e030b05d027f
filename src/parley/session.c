/* How the verbs word the member session: the profile's place, messages and exit codes, and the
 * evidence of two histories. */
#include "session.h"

#include <errno.h>
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

int session_record_summary(const struct pl_record *r, struct pl_buf *b)
{
	return pl_member_record_summary(r, b);
}
