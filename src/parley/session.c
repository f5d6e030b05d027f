/* The session of a profile verb: profile, identity, state and client, and the checks of every
 * answer. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/box.h>
#include <parley/encoding.h>
#include <parley/member.h>
#include <parley/note.h>
#include <parley/proof.h>
#include <parley/timestamp.h>
#include <parley/tlog.h>

#include "banned.h"

/* How often a submission is retried after a chain conflict (another process signed meanwhile). */
#define SUBMIT_ATTEMPTS 4

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

void session_record_release(struct session_record *r)
{
	if (!r)
		return;
	free(r->text);
	free(r->rec);
	memset(r, 0, sizeof(*r));
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

static int session_start(struct session *s);

int session_open(struct session *s, const char *cmd, const char *profile_arg)
{
	const char *why = NULL;
	int ret, err;

	memset(s, 0, sizeof(*s));
	ret = session_profile_dir(s->dir, profile_arg, NULL);
	if (ret)
		goto out;
	ret = PL_EXIT_USAGE;
	err = pl_profile_load(&s->profile, s->dir, &why);
	if (err == PL_ENOTFOUND) {
		cli_error("no profile in %s: make one with 'parley init' (or give --profile DIR)",
		          s->dir);
		goto out;
	}
	if (err) {
		cli_error("profile %s/%s: %s", s->dir, PL_PROFILE_FILE,
		          why ? why : cli_strerror(err));
		goto out;
	}
	ret = session_start(s);
out:
	(void)cmd;
	if (ret)
		session_close(s);
	return ret;
}

int session_open_with(struct session *s, const char *dir, const struct pl_profile *p)
{
	int ret = PL_EXIT_USAGE;

	memset(s, 0, sizeof(*s));
	if (strlen(dir) >= sizeof(s->dir)) {
		cli_error("profile directory %s: path too long", dir);
		goto out;
	}
	memcpy(s->dir, dir, strlen(dir) + 1);
	s->profile = *p;
	ret = session_start(s);
out:
	if (ret)
		session_close(s);
	return ret;
}

/* What follows loading the profile: the identity, the state and the client. */
static int session_start(struct session *s)
{
	int ret = PL_EXIT_USAGE, err;

	err = pl_party_load(&s->me, s->profile.key_dir, s->profile.party);
	if (err) {
		cli_error("identity of %s in %s: %s", s->profile.party, s->profile.key_dir,
		          err == PL_EDENIED ? "a secret key file is readable by others (chmod 600)"
		                            : cli_strerror(err));
		goto out;
	}
	if (strcmp(s->me.origin, s->profile.origin) != 0) {
		cli_error("identity of %s in %s: its keys are named for exchange '%s', not '%s'",
		          s->profile.party, s->profile.key_dir, s->me.origin, s->profile.origin);
		goto out;
	}
	err = pl_state_open(&s->state, s->profile.state, s->profile.origin, s->profile.party);
	if (err) {
		cli_error("local state %s: %s", s->profile.state,
		          err == PL_ESTORE ? "not a usable state database" : cli_strerror(err));
		goto out;
	}
	err = pl_client_new(&s->client, s->profile.exchange, &s->me.skey, NULL);
	if (err) {
		cli_error("exchange %s: %s", s->profile.exchange, pl_strerror(err));
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	return ret;
}

void session_close(struct session *s)
{
	if (!s)
		return;
	pl_client_free(s->client);
	pl_state_close(s->state);
	pl_client_parties_free(s->parties, s->nparties);
	pl_directory_release(&s->keys);
	pl_party_clear(&s->me);
	sodium_memzero(s, sizeof(*s));
}

int session_client_failed(struct session *s, const char *what, int err)
{
	const struct pl_client_error *e = pl_client_last_error(s->client);
	int ret;

	if (e && e->status >= 400) {
		cli_error("%s: the exchange refused: %ld %s: %s", what, e->status,
		          e->code[0] ? e->code : "error",
		          e->reason[0] ? e->reason : "no reason given");
		ret = PL_EXIT_REFUSED;
	} else if (err == PL_EPROOF) {
		cli_error("%s: the exchange's answer does not hold: %s", what,
		          e && e->reason[0] ? e->reason : pl_strerror(err));
		ret = PL_EXIT_FAIL;
	} else {
		cli_error("%s: exchange %s: %s", what, s->profile.exchange,
		          e && e->reason[0] ? e->reason : pl_strerror(err));
		ret = PL_EXIT_USAGE;
	}
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
static void write_evidence(struct session *s, struct pl_client_split *sp)
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
static int two_histories(struct session *s, struct pl_client_split *sp)
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

/*
 * Checks a checkpoint already verified with the pinned log key against the
 * last one this client saw (the library's pl_client_observe(): consistency,
 * in whichever direction is needed) and remembers it when it is newer.
 * note[0..len) is its signed text. Two histories are written down as
 * evidence (write_evidence()).
 */
static int observe(struct session *s, const struct pl_checkpoint *verified, const char *note,
                   size_t len)
{
	const struct pl_checkpoint cp = *verified;
	struct pl_state_checkpoint old;
	struct pl_client_split *sp = NULL;
	char source[PL_CLIENT_SPLIT_SOURCE_MAX];
	int ret = PL_EXIT_FAIL, err;

	memset(&old, 0, sizeof(old));
	err = pl_state_checkpoint_get(s->state, &old);
	if (err == PL_ENOTFOUND)
		goto store;
	if (err) {
		cli_error("local state %s: %s", s->profile.state, pl_strerror(err));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	if (old.seen > 0 && old.seen_from[0]) {
		char when[PL_TIMESTAMP_LEN + 1];
		if (pl_timestamp_format(when, old.seen) != 0)
			snprintf(when, sizeof(when), "-");
		snprintf(source, sizeof(source),
		         "received from %s at %s, pinned in the local state %s", old.seen_from,
		         when, s->profile.state);
	} else {
		snprintf(source, sizeof(source),
		         "pinned in the local state %s (when and from where not recorded)",
		         s->profile.state);
	}
	err = pl_client_observe(s->client, old.size, old.root, old.note, old.note_len, source,
	                        cp.size, cp.root, note, len, session_now(), &sp);
	if (err == PL_EINCONSISTENT) {
		ret = two_histories(s, sp);
		goto out;
	}
	if (err) {
		ret = session_client_failed(s, "consistency proof", err);
		goto out;
	}
	if (cp.size <= old.size) {
		ret = PL_EXIT_OK;
		goto out;
	}
store:
	err = pl_state_checkpoint_put_seen(s->state, cp.size, cp.root, note, len, session_now(),
	                                   s->profile.exchange);
	if (err) {
		cli_error("local state %s: %s", s->profile.state, pl_strerror(err));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	pl_client_split_free(sp);
	pl_state_checkpoint_release(&old);
	return ret;
}

int session_checkpoint(struct session *s, const char *note, size_t len, struct pl_checkpoint *out)
{
	struct pl_checkpoint cp;
	int ret, err;

	err = pl_checkpoint_open(&cp, NULL, note, len, s->profile.origin, &s->profile.log_key, 1);
	if (err) {
		cli_error(
		        "the exchange's checkpoint does not verify with the pinned log key %s: %s",
		        s->profile.log_key.name, pl_strerror(err));
		return PL_EXIT_FAIL;
	}
	ret = observe(s, &cp, note, len);
	if (!ret && out)
		*out = cp;
	return ret;
}

int session_refresh(struct session *s, struct pl_checkpoint *cp, struct pl_buf *note)
{
	struct pl_buf b;
	int ret, err;

	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	err = pl_client_checkpoint(s->client, &b);
	if (err) {
		ret = session_client_failed(s, "checkpoint", err);
		goto out;
	}
	ret = session_checkpoint(s, b.data ? b.data : "", b.len, cp);
	if (!ret && note && pl_buf_add(note, b.data, b.len) != 0) {
		cli_error("checkpoint: out of memory");
		ret = PL_EXIT_USAGE;
	}
out:
	pl_buf_release(&b);
	return ret;
}

int session_directory(struct session *s, bool force)
{
	struct pl_client_party *v = NULL;
	struct pl_directory dir;
	const char *why = NULL;
	size_t n = 0, bad = 0;
	int ret = PL_EXIT_USAGE, err;

	memset(&dir, 0, sizeof(dir));
	if (s->parties && !force) {
		ret = PL_EXIT_OK;
		goto out;
	}
	err = pl_client_parties(s->client, &v, &n);
	if (err) {
		ret = session_client_failed(s, "directory", err);
		goto out;
	}
	err = pl_member_directory(&dir, &s->profile.log_key, s->profile.origin, v, n, &bad, &why);
	if (err && bad >= n) {
		cli_error("directory: %s", pl_strerror(err));
		goto out;
	}
	if (err) {
		cli_error("directory entry %s: %s", v[bad].name, why ? why : pl_strerror(err));
		ret = PL_EXIT_FAIL;
		goto out;
	}
	pl_client_parties_free(s->parties, s->nparties);
	pl_directory_release(&s->keys);
	s->parties = v;
	s->nparties = n;
	s->keys = dir;
	v = NULL;
	memset(&dir, 0, sizeof(dir));
	ret = PL_EXIT_OK;
out:
	pl_client_parties_free(v, n);
	pl_directory_release(&dir);
	return ret;
}

const struct pl_client_party *session_party(struct session *s, const char *name, int *ret)
{
	const struct pl_client_party *p = NULL;

	*ret = session_directory(s, false);
	if (*ret)
		goto out;
	for (size_t i = 0; i < s->nparties; i++) {
		if (strcmp(s->parties[i].name, name) == 0)
			p = &s->parties[i];
	}
	if (!p) {
		cli_error("party %s: not in the directory of exchange %s", name, s->profile.origin);
		*ret = PL_EXIT_USAGE;
	} else if (p->revoked) {
		cli_error("party %s: revoked from exchange %s", name, s->profile.origin);
		p = NULL;
		*ret = PL_EXIT_USAGE;
	}
out:
	return p;
}

/* Opens a record's text against the directory, fetching it again once for an unknown key. */
static int open_record(struct session *s, const char *text, size_t len, struct session_record *out)
{
	uint8_t id[PL_RECORD_ID_BYTES];
	const char *why = NULL;
	char sid[17];
	int ret, err;

	pl_record_id(id, text, len);
	session_short_id(sid, id);
	ret = session_directory(s, false);
	if (ret)
		goto out;
	out->rec = malloc(sizeof(*out->rec));
	if (!out->rec) {
		cli_error("record %s: out of memory", sid);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	err = pl_member_record_open(out->rec, id, text, len, &s->keys, s->profile.origin, &why);
	if (err == PL_ENOKEY) {
		/* A party registered since the directory was fetched. */
		ret = session_directory(s, true);
		if (ret)
			goto out;
		err = pl_member_record_open(out->rec, id, text, len, &s->keys, s->profile.origin,
		                            &why);
	}
	if (err == PL_EINVAL) {
		cli_error("record %s: made for exchange '%s', not '%s'", sid, out->rec->exchange,
		          s->profile.origin);
		ret = PL_EXIT_FAIL;
		goto out;
	}
	if (err) {
		cli_error("record %s: %s", sid, why ? why : pl_strerror(err));
		ret = PL_EXIT_FAIL;
		goto out;
	}
	memcpy(out->id, id, sizeof(id));
	pl_record_id_format(out->hex, id);
	out->text = malloc(len + 1);
	if (!out->text) {
		cli_error("record %s: out of memory", sid);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	memcpy(out->text, text, len);
	out->text[len] = '\0';
	out->len = len;
	ret = PL_EXIT_OK;
out:
	return ret;
}

int session_verify_entry(struct session *s, const struct pl_client_entry *e,
                         struct session_record *out)
{
	struct session_record r;
	uint8_t id[PL_RECORD_ID_BYTES];
	char sid[17];
	int ret;

	memset(&r, 0, sizeof(r));
	pl_record_id(id, e->note, e->note_len);
	if (memcmp(id, e->id, sizeof(id)) != 0) {
		session_short_id(sid, e->id);
		cli_error("record %s: the exchange sent a record whose id is another", sid);
		ret = PL_EXIT_FAIL;
		goto out;
	}
	ret = open_record(s, e->note, e->note_len, &r);
	if (ret)
		goto out;
	r.index = e->index;
	r.cached = true;
	/* The cache only spares a fetch; failing to fill it changes nothing. */
	if (pl_state_record_put(s->state, r.id, r.index, r.text, r.len) != 0)
		r.cached = false;
	*out = r;
	memset(&r, 0, sizeof(r));
out:
	session_record_release(&r);
	return ret;
}

int session_resolve(struct session *s, const char *arg, struct session_record *out)
{
	struct pl_client_entry e;
	struct pl_buf cached;
	char lower[PL_RECORD_ID_HEX_LEN + 1];
	uint8_t id[PL_RECORD_ID_BYTES];
	uint64_t index = 0;
	size_t n = strlen(arg);
	int ret, err;

	memset(&e, 0, sizeof(e));
	pl_buf_init(&cached, PL_RECORD_MAX_BYTES);
	err = pl_member_id_arg(lower, arg);
	if (err == PL_ERANGE)
		cli_error("record id '%s': not %d to %d hex digits", arg, PL_RECORD_ID_PREFIX_MIN,
		          PL_RECORD_ID_HEX_LEN);
	else if (err)
		cli_error("record id '%s': not hex digits", arg);
	if (err) {
		ret = PL_EXIT_USAGE;
		goto out;
	}
	if (n == PL_RECORD_ID_HEX_LEN && pl_record_id_parse(id, lower, n) == 0 &&
	    pl_state_record_get(s->state, id, &index, &cached) == 0) {
		ret = open_record(s, cached.data, cached.len, out);
		if (!ret)
			out->index = index;
		goto out;
	}
	err = pl_client_record(s->client, lower, &e);
	if (err) {
		char what[96];
		snprintf(what, sizeof(what), "record %s", lower);
		ret = session_client_failed(s, what, err);
		goto out;
	}
	ret = session_verify_entry(s, &e, out);
out:
	pl_client_entry_release(&e);
	pl_buf_release(&cached);
	return ret;
}

int session_prove(struct session *s, const struct session_record *r, struct pl_checkpoint *cp)
{
	struct pl_checkpoint pcp;
	struct pl_proof *p = NULL;
	struct pl_buf text;
	char sid[17], what[40];
	int ret = PL_EXIT_FAIL, err;

	session_short_id(sid, r->id);
	snprintf(what, sizeof(what), "proof of record %s", sid);
	pl_buf_init(&text, PL_TLOG_PROOF_MAX_BYTES);
	err = pl_client_proof(s->client, r->hex, 0, &text);
	if (err) {
		ret = session_client_failed(s, what, err);
		goto out;
	}
	err = pl_member_proof_check(text.data, text.len, r->text, r->len, r->index,
	                            s->profile.origin, &s->profile.log_key, &p, &pcp);
	if (err == PL_ERANGE) {
		cli_error("%s: proves index %llu, but the exchange gave the record at %llu", what,
		          (unsigned long long)p->index, (unsigned long long)r->index);
		goto out;
	}
	if (err) {
		cli_error("%s: %s%s", what, p ? "does not hold: " : "", pl_strerror(err));
		goto out;
	}
	/* pl_proof_verify() checked the checkpoint's signature: only consistency is left. */
	ret = observe(s, &pcp, p->checkpoint, p->checkpoint_len);
	if (ret)
		goto out;
	if (cp)
		*cp = pcp;
out:
	pl_proof_free(p);
	pl_buf_release(&text);
	return ret;
}

int session_payload(struct session *s, const struct session_record *r, uint8_t **plaintext,
                    size_t *len, uint8_t salt[static PL_BOX_SALT_BYTES])
{
	const struct pl_record *rec = r->rec;
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	uint8_t tmp_salt[PL_BOX_SALT_BYTES];
	struct pl_buf blob;
	char sid[17], what[48];
	int ret = PL_EXIT_FAIL, err;

	session_short_id(sid, r->id);
	snprintf(what, sizeof(what), "payload of record %s", sid);
	pl_buf_init(&blob, PL_BOX_MAX_BYTES);
	*plaintext = NULL;
	*len = 0;
	if (!(rec->has & PL_RECORD_HAS_PAYLOAD) || !(rec->has & PL_RECORD_HAS_COMMIT)) {
		ret = PL_EXIT_OK;
		goto out;
	}
	err = pl_state_opened_get(s->state, r->id, plaintext, len, salt);
	if (err == 0) {
		ret = PL_EXIT_OK;
		goto out;
	}
	err = pl_client_payload_get(s->client, rec->payload, &blob);
	if (err == PL_EDENIED) {
		ret = PL_EXIT_OK; /* not a reader */
		goto out;
	}
	if (err) {
		ret = session_client_failed(s, what, err);
		goto out;
	}
	err = pl_member_payload_open(&plain, &plain_len, tmp_salt, rec, (const uint8_t *)blob.data,
	                             blob.len, &s->me.enc);
	if (err == PL_ERANGE) {
		cli_error("%s: %zu bytes, the record says %llu", what, blob.len,
		          (unsigned long long)rec->payload_size);
		goto out;
	}
	if (err == PL_ENOTFOUND) {
		ret = PL_EXIT_OK; /* sealed to others only */
		goto out;
	}
	if (err == PL_ECRYPTO || err == PL_ECOMMIT) {
		cli_error("%s: %s; the record and the blob are evidence against %s", what,
		          err == PL_ECOMMIT ? "the content does not match the record's commitment"
		                            : "this party's slot does not open",
		          rec->author);
		goto out;
	}
	if (err) {
		cli_error("%s: %s", what, pl_strerror(err));
		goto out;
	}
	err = pl_state_opened_put(s->state, r->id, plain, plain_len, tmp_salt);
	if (err) {
		cli_error("local state %s: %s", s->profile.state, pl_strerror(err));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	/* Hand back the stored copy, so there is one owner and one way to free it. */
	err = pl_state_opened_get(s->state, r->id, plaintext, len, salt);
	if (err) {
		cli_error("local state %s: %s", s->profile.state, pl_strerror(err));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	pl_box_plaintext_free(plain, plain_len);
	sodium_memzero(tmp_salt, sizeof(tmp_salt));
	pl_buf_release(&blob);
	return ret;
}

/* After a chain conflict: learns the head the exchange holds (its seq, id and time). */
static int recover_head(struct session *s, const char *what)
{
	const struct pl_client_error *e = pl_client_last_error(s->client);
	struct pl_state_head h;
	struct session_record r;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int ret = PL_EXIT_FAIL;

	memset(&h, 0, sizeof(h));
	memset(&r, 0, sizeof(r));
	if (e->has_head) {
		h.seq = e->head_seq;
		memcpy(h.id, e->head_id, sizeof(h.id));
		pl_record_id_format(hex, h.id);
		ret = session_resolve(s, hex, &r);
		if (ret)
			goto out;
		if (strcmp(r.rec->author, s->profile.party) != 0 || r.rec->seq != h.seq) {
			cli_error(
			        "%s: the exchange names as this party's head a record that is not",
			        what);
			ret = PL_EXIT_FAIL;
			goto out;
		}
		h.time = r.rec->time;
	}
	/* The exchange holds the chain; seq 0 (no head) forgets a stale local one. */
	if (pl_state_head_put(s->state, &h, true) != 0) {
		cli_error("local state %s: cannot record the chain head", s->profile.state);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	session_record_release(&r);
	return ret;
}

/* Checks a receipt (pl_member_receipt_check()), then its checkpoint against the one seen. */
static int check_receipt(struct session *s, const struct pl_receipt *rc, const char *text,
                         size_t len, const char *what)
{
	struct pl_checkpoint pcp;
	struct pl_proof *p = NULL;
	int ret = PL_EXIT_FAIL, err;

	err = pl_member_receipt_check(rc, text, len, s->profile.origin, &s->profile.log_key, &p,
	                              &pcp);
	if (err == PL_ERANGE) {
		cli_error(
		        "%s: the receipt's proof is for index %llu at size %llu, not %llu at %llu",
		        what, (unsigned long long)p->index, (unsigned long long)pcp.size,
		        (unsigned long long)rc->index, (unsigned long long)rc->size);
		goto out;
	}
	if (err == PL_EINCONSISTENT) {
		cli_error("%s: the receipt's checkpoint is not the one its proof is for", what);
		goto out;
	}
	if (err) {
		cli_error("%s: the exchange's receipt does not prove it logged: %s", what,
		          pl_strerror(err));
		goto out;
	}
	ret = observe(s, &pcp, p->checkpoint, p->checkpoint_len);
out:
	pl_proof_free(p);
	return ret;
}

int session_submit(struct session *s, struct pl_record *r, int64_t min_time, const char *what,
                   struct pl_receipt *out, struct pl_buf *text_out)
{
	struct pl_receipt rc;
	struct pl_state_head h;
	struct pl_buf text;
	const struct pl_record_ref *subj;
	const char *why = NULL;
	int ret = PL_EXIT_USAGE, err = 0;

	memset(&rc, 0, sizeof(rc));
	pl_buf_init(&text, PL_RECORD_MAX_BYTES);
	for (int attempt = 0; attempt < SUBMIT_ATTEMPTS; attempt++) {
		int64_t t = session_now();

		pl_receipt_release(&rc);
		memset(&rc, 0, sizeof(rc));
		pl_buf_reset(&text);
		if (pl_state_head_get(s->state, &h) != 0) {
			cli_error("local state %s: cannot read the chain head", s->profile.state);
			goto out;
		}
		err = pl_member_place(r, s->profile.origin, s->profile.party, &h, t, min_time);
		if (err == PL_ERANGE) {
			cli_error("%s: the deadline is not after the record's time", what);
			goto out;
		}
		if (err) {
			cli_error("%s: cannot make the record: %s", what, pl_strerror(err));
			goto out;
		}
		err = pl_record_sign(&text, r, &s->me.skey, 1, &why);
		if (err) {
			cli_error("%s: cannot make the record: %s", what,
			          why ? why : pl_strerror(err));
			goto out;
		}
		err = pl_client_submit(s->client, text.data, text.len, &rc);
		if (err != PL_ECHAIN)
			break;
		/* Another process of this party signed meanwhile, or the local head is stale. */
		ret = recover_head(s, what);
		if (ret)
			goto out;
	}
	if (err) {
		ret = session_client_failed(s, what, err);
		goto out;
	}
	ret = check_receipt(s, &rc, text.data, text.len, what);
	if (ret)
		goto out;
	h.seq = r->seq;
	pl_record_id(h.id, text.data, text.len);
	h.time = r->time;
	if (pl_state_head_put(s->state, &h, false) != 0) {
		cli_error("local state %s: cannot record the chain head", s->profile.state);
		ret = PL_EXIT_USAGE;
		goto out;
	}
	subj = pl_member_act_subject(r);
	if (subj && pl_state_act_put(s->state, subj->id, pl_record_kind_name(r->kind), h.id) != 0)
		cli_error("warning: local state %s: cannot note the %s", s->profile.state, what);
	if (pl_state_record_put(s->state, h.id, rc.index, text.data, text.len) != 0)
		cli_error("warning: local state %s: cannot keep a copy of the %s", s->profile.state,
		          what);
	if (text_out) {
		pl_buf_release(text_out);
		*text_out = text;
		pl_buf_init(&text, PL_RECORD_MAX_BYTES);
	}
	*out = rc;
	memset(&rc, 0, sizeof(rc));
	ret = PL_EXIT_OK;
out:
	pl_receipt_release(&rc);
	pl_buf_release(&text);
	return ret;
}

/* The index check's source: this party's client of the exchange. */
static int src_record_at(void *ctx, uint64_t index, struct pl_buf *out)
{
	struct session *s = ctx;
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
	struct session *s = ctx;

	return pl_client_proof(s->client, hex, size, out);
}

static int src_index_proof(void *ctx, const uint8_t key[static PL_HASH_BYTES], uint64_t size,
                           struct pl_buf *out)
{
	struct session *s = ctx;

	return pl_client_index_proof(s->client, key, size, out);
}

/* Keeps the evidence of what f found about r and names it loudly. Returns 1. */
static int index_lie(struct session *s, const struct pl_member_index_found *f, const char *text,
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

int session_index_check(struct session *s, const struct pl_record *r, const char *text, size_t len,
                        const struct pl_receipt *rc)
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
	printf("  the index #%" PRIu64 " lists it under the %zu record%s it refers to\n",
	       f.index_at, f.nkeys, f.nkeys == 1 ? "" : "s");
	fflush(stdout);
out:
	pl_member_index_found_release(&f);
	return ret;
}

int session_record_summary(const struct pl_record *r, struct pl_buf *b)
{
	return pl_member_record_summary(r, b);
}
