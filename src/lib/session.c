/* A member's session with its exchange: profile, identity, state and client, and the checks of
 * every answer (docs/architecture.md: the member client). */
#include <parley/session.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <parley/encoding.h>
#include <parley/member.h>
#include <parley/note.h>
#include <parley/proof.h>
#include <parley/timestamp.h>
#include <parley/tlog.h>

#include "internal.h"

/* How often a submission is retried after a chain conflict (another process signed meanwhile). */
#define SUBMIT_ATTEMPTS 4

int pl__session_fail(struct pl_session *s, int blame, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	s->blame = (enum pl_session_blame)blame;
	return err ? err : PL_EINVAL;
}

/* Notes a problem that does not stop the call. */
static void warn(struct pl_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct pl_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->warning, sizeof(s->warning), fmt, ap);
	va_end(ap);
}

/* Describes a library error; for PL_EIO adds the system's reason. */
static const char *err_text(int err)
{
	return err == PL_EIO && errno != 0 ? strerror(errno) : pl_strerror(err);
}

/* The first 16 hex digits of an id, for messages. */
static void short_id(char out[static 17], const uint8_t id[static PL_RECORD_ID_BYTES])
{
	pl_hex_encode(out, id, 8);
	out[16] = '\0';
}

/* Forgets what the last call said. */
static void begin(struct pl_session *s)
{
	s->why[0] = '\0';
	s->warning[0] = '\0';
	s->blame = PL_BLAME_LOCAL;
	pl_client_split_free(s->split);
	s->split = NULL;
}

void pl_session_close(struct pl_session *s)
{
	if (!s)
		return;
	pl_client_free(s->client);
	pl_state_close(s->state);
	pl_client_parties_free(s->parties, s->nparties);
	pl_directory_release(&s->keys);
	pl_party_clear(&s->me);
	pl_client_split_free(s->split);
	sodium_memzero(s, sizeof(*s));
}

int64_t pl_session_now(const struct pl_session *s)
{
	return s->clock ? s->clock() : (int64_t)time(NULL);
}

void pl_session_record_release(struct pl_session_record *r)
{
	if (r) {
		free(r->text);
		free(r->rec);
		memset(r, 0, sizeof(*r));
	}
}

/* What follows the profile: the identity, the state and the client. */
static int start(struct pl_session *s)
{
	int err;

	err = pl_party_load(&s->me, s->profile.key_dir, s->profile.party);
	if (err)
		return pl__session_fail(
		        s, PL_BLAME_LOCAL, err, "identity of %s in %s: %s", s->profile.party,
		        s->profile.key_dir,
		        err == PL_EDENIED ? "a secret key file is readable by others (chmod 600)"
		                          : err_text(err));
	if (strcmp(s->me.origin, s->profile.origin) != 0)
		return pl__session_fail(
		        s, PL_BLAME_LOCAL, PL_EINVAL,
		        "identity of %s in %s: its keys are named for exchange '%s', not '%s'",
		        s->profile.party, s->profile.key_dir, s->me.origin, s->profile.origin);
	err = pl_state_open(&s->state, s->profile.state, s->profile.origin, s->profile.party);
	if (err)
		return pl__session_fail(
		        s, PL_BLAME_LOCAL, err, "local state %s: %s", s->profile.state,
		        err == PL_ESTORE ? "not a usable state database" : err_text(err));
	err = pl_client_new(&s->client, s->profile.exchange, &s->me.skey, NULL);
	if (err)
		return pl__session_fail(s, PL_BLAME_LOCAL, err, "exchange %s: %s",
		                        s->profile.exchange, pl_strerror(err));
	return 0;
}

int pl_session_open(struct pl_session *s, const char *dir, const struct pl_profile *p,
                    int64_t (*clock)(void))
{
	const char *why = NULL;
	int err;

	memset(s, 0, sizeof(*s));
	s->clock = clock;
	if (strlen(dir) >= sizeof(s->dir)) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ETOOBIG,
		                       "profile directory %s: path too long", dir);
		goto out;
	}
	memcpy(s->dir, dir, strlen(dir) + 1);
	if (p) {
		s->profile = *p;
	} else {
		err = pl_profile_load(&s->profile, s->dir, &why);
		if (err == PL_ENOTFOUND)
			err = pl__session_fail(
			        s, PL_BLAME_LOCAL, err,
			        "no profile in %s: make one with 'parley init' (or give --profile "
			        "DIR)",
			        s->dir);
		else if (err)
			err = pl__session_fail(s, PL_BLAME_LOCAL, err, "profile %s/%s: %s", s->dir,
			                       PL_PROFILE_FILE, why ? why : err_text(err));
		if (err)
			goto out;
	}
	err = start(s);
out:
	if (err) {
		char keep[PL_SESSION_WHY_MAX];
		enum pl_session_blame blame = s->blame;

		memcpy(keep, s->why, sizeof(keep));
		pl_session_close(s);
		memcpy(s->why, keep, sizeof(keep));
		s->blame = blame;
	}
	return err;
}

int pl_session_client_error(struct pl_session *s, const char *what, int err)
{
	const struct pl_client_error *e = pl_client_last_error(s->client);

	if (e && e->status >= 400)
		return pl__session_fail(s, PL_BLAME_REFUSED, err,
		                        "%s: the exchange refused: %ld %s: %s", what, e->status,
		                        e->code[0] ? e->code : "error",
		                        e->reason[0] ? e->reason : "no reason given");
	if (err == PL_EPROOF)
		return pl__session_fail(s, PL_BLAME_EVIDENCE, err,
		                        "%s: the exchange's answer does not hold: %s", what,
		                        e && e->reason[0] ? e->reason : pl_strerror(err));
	return pl__session_fail(s, PL_BLAME_LOCAL, err, "%s: exchange %s: %s", what,
	                        s->profile.exchange,
	                        e && e->reason[0] ? e->reason : pl_strerror(err));
}

/* Where the checkpoint seen before came from, for the evidence of two histories. */
static void seen_source(const struct pl_session *s, const struct pl_state_checkpoint *old,
                        char out[static PL_CLIENT_SPLIT_SOURCE_MAX])
{
	char when[PL_TIMESTAMP_LEN + 1];

	if (old->seen > 0 && old->seen_from[0]) {
		if (pl_timestamp_format(when, old->seen) != 0)
			snprintf(when, sizeof(when), "-");
		snprintf(out, PL_CLIENT_SPLIT_SOURCE_MAX,
		         "received from %s at %s, pinned in the local state %s", old->seen_from,
		         when, s->profile.state);
	} else {
		snprintf(out, PL_CLIENT_SPLIT_SOURCE_MAX,
		         "pinned in the local state %s (when and from where not recorded)",
		         s->profile.state);
	}
}

/*
 * Checks a checkpoint already verified with the pinned log key against the
 * last one this client saw (pl_client_observe(): consistency, in whichever
 * direction is needed) and remembers it when it is newer. note[0..len) is
 * its signed text.
 */
static int observe(struct pl_session *s, const struct pl_checkpoint *cp, const char *note,
                   size_t len)
{
	struct pl_state_checkpoint old;
	char source[PL_CLIENT_SPLIT_SOURCE_MAX];
	int err;

	memset(&old, 0, sizeof(old));
	err = pl_state_checkpoint_get(s->state, &old);
	if (err && err != PL_ENOTFOUND) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, err, "local state %s: %s",
		                       s->profile.state, pl_strerror(err));
		goto out;
	}
	if (!err) {
		seen_source(s, &old, source);
		err = pl_client_observe(s->client, old.size, old.root, old.note, old.note_len,
		                        source, cp->size, cp->root, note, len, pl_session_now(s),
		                        &s->split);
		if (err == PL_EINCONSISTENT) {
			err = pl__session_fail(
			        s, PL_BLAME_EVIDENCE, err,
			        "the exchange shows two histories (%s): the checkpoint it gives "
			        "now is not consistent with the one this client saw before",
			        s->split->reason);
			goto out;
		}
		if (err) {
			err = pl_session_client_error(s, "consistency proof", err);
			goto out;
		}
		if (cp->size <= old.size)
			goto out;
	}
	err = pl_state_checkpoint_put_seen(s->state, cp->size, cp->root, note, len,
	                                   pl_session_now(s), s->profile.exchange);
	if (err)
		err = pl__session_fail(s, PL_BLAME_LOCAL, err, "local state %s: %s",
		                       s->profile.state, pl_strerror(err));
out:
	pl_state_checkpoint_release(&old);
	return err;
}

int pl_session_checkpoint(struct pl_session *s, const char *note, size_t len,
                          struct pl_checkpoint *out)
{
	struct pl_checkpoint cp;
	int err;

	begin(s);
	err = pl_checkpoint_open(&cp, NULL, note, len, s->profile.origin, &s->profile.log_key, 1);
	if (err)
		return pl__session_fail(
		        s, PL_BLAME_EVIDENCE, err,
		        "the exchange's checkpoint does not verify with the pinned log key %s: %s",
		        s->profile.log_key.name, pl_strerror(err));
	err = observe(s, &cp, note, len);
	if (!err && out)
		*out = cp;
	return err;
}

int pl_session_refresh(struct pl_session *s, struct pl_checkpoint *cp, struct pl_buf *note)
{
	struct pl_buf b;
	int err;

	begin(s);
	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	err = pl_client_checkpoint(s->client, &b);
	if (err) {
		err = pl_session_client_error(s, "checkpoint", err);
		goto out;
	}
	err = pl_session_checkpoint(s, b.data ? b.data : "", b.len, cp);
	if (!err && note && pl_buf_add(note, b.data, b.len) != 0)
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOMEM, "checkpoint: out of memory");
out:
	pl_buf_release(&b);
	return err;
}

/*
 * Adds to dir the keys of the earlier registers of every party that returned
 * (docs/keys.md §3), so that what its old keys signed still opens: follows
 * each `ref previous`, at most PL_MEMBER_PREVIOUS_MAX back, fetching each
 * register (public) and checking it against the log key.
 */
static int directory_previous(struct pl_session *s, struct pl_directory *dir,
                              const struct pl_client_party *v, size_t n)
{
	struct pl_client_entry e;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	uint8_t prev[PL_RECORD_ID_BYTES];
	const char *why = NULL;
	int err = 0;

	memset(&e, 0, sizeof(e));
	for (size_t i = 0; !err && i < n; i++) {
		bool more = v[i].register_record &&
		            pl_member_register_previous(v[i].register_record,
		                                        v[i].register_record_len, prev) == 0;
		for (size_t hop = 0; !err && more && hop < PL_MEMBER_PREVIOUS_MAX; hop++) {
			uint8_t want[PL_RECORD_ID_BYTES];
			memcpy(want, prev, sizeof(want));
			pl_record_id_format(hex, want);
			err = pl_client_record(s->client, hex, &e);
			if (err) {
				err = pl_session_client_error(s, "directory", err);
				break;
			}
			err = pl_member_directory_previous(dir, &s->profile.log_key,
			                                   s->profile.origin, v[i].name, want,
			                                   e.note, e.note_len, &more, prev, &why);
			pl_client_entry_release(&e);
			if (err)
				err = pl__session_fail(
				        s, PL_BLAME_EVIDENCE, err,
				        "directory entry %s: previous register %s: %s", v[i].name,
				        hex, why ? why : pl_strerror(err));
		}
	}
	return err;
}

int pl_session_directory(struct pl_session *s, bool force)
{
	struct pl_client_party *v = NULL;
	struct pl_directory dir;
	const char *why = NULL;
	size_t n = 0, bad = 0;
	int err = 0;

	memset(&dir, 0, sizeof(dir));
	if (s->parties && !force)
		goto out;
	err = pl_client_parties(s->client, &v, &n);
	if (err) {
		err = pl_session_client_error(s, "directory", err);
		goto out;
	}
	err = pl_member_directory(&dir, &s->profile.log_key, s->profile.origin, v, n, &bad, &why);
	if (err && bad >= n) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, err, "directory: %s", pl_strerror(err));
		goto out;
	}
	if (err) {
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, err, "directory entry %s: %s",
		                       v[bad].name, why ? why : pl_strerror(err));
		goto out;
	}
	err = directory_previous(s, &dir, v, n);
	if (err)
		goto out;
	pl_client_parties_free(s->parties, s->nparties);
	pl_directory_release(&s->keys);
	s->parties = v;
	s->nparties = n;
	s->keys = dir;
	v = NULL;
	memset(&dir, 0, sizeof(dir));
out:
	pl_client_parties_free(v, n);
	pl_directory_release(&dir);
	return err;
}

const struct pl_client_party *pl_session_party(struct pl_session *s, const char *name, int *err)
{
	const struct pl_client_party *p = NULL;

	*err = pl_session_directory(s, false);
	if (*err)
		return NULL;
	for (size_t i = 0; i < s->nparties; i++) {
		if (strcmp(s->parties[i].name, name) == 0)
			p = &s->parties[i];
	}
	if (!p)
		*err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOTFOUND,
		                        "party %s: not in the directory of exchange %s", name,
		                        s->profile.origin);
	else if (p->revoked)
		*err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOTFOUND,
		                        "party %s: revoked from exchange %s", name,
		                        s->profile.origin);
	return *err ? NULL : p;
}

/* Opens a record's text against the directory, fetching it again once for an unknown key. */
static int open_record(struct pl_session *s, const char *text, size_t len,
                       struct pl_session_record *out)
{
	uint8_t id[PL_RECORD_ID_BYTES];
	const char *why = NULL;
	char sid[17];
	int err;

	pl_record_id(id, text, len);
	short_id(sid, id);
	err = pl_session_directory(s, false);
	if (err)
		return err;
	out->rec = malloc(sizeof(*out->rec));
	out->text = malloc(len + 1);
	if (!out->rec || !out->text)
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_ENOMEM, "record %s: out of memory",
		                        sid);
	err = pl_member_record_open(out->rec, id, text, len, &s->keys, s->profile.origin, &why);
	if (err == PL_ENOKEY) {
		/* A party registered since the directory was fetched. */
		err = pl_session_directory(s, true);
		if (err)
			return err;
		err = pl_member_record_open(out->rec, id, text, len, &s->keys, s->profile.origin,
		                            &why);
	}
	if (err == PL_EINVAL)
		return pl__session_fail(s, PL_BLAME_EVIDENCE, err,
		                        "record %s: made for exchange '%s', not '%s'", sid,
		                        out->rec->exchange, s->profile.origin);
	if (err)
		return pl__session_fail(s, PL_BLAME_EVIDENCE, err, "record %s: %s", sid,
		                        why ? why : pl_strerror(err));
	memcpy(out->id, id, sizeof(id));
	pl_record_id_format(out->hex, id);
	memcpy(out->text, text, len);
	out->text[len] = '\0';
	out->len = len;
	return 0;
}

int pl_session_verify_entry(struct pl_session *s, const struct pl_client_entry *e,
                            struct pl_session_record *out)
{
	struct pl_session_record r;
	uint8_t id[PL_RECORD_ID_BYTES];
	char sid[17];
	int err;

	begin(s);
	memset(&r, 0, sizeof(r));
	pl_record_id(id, e->note, e->note_len);
	if (memcmp(id, e->id, sizeof(id)) != 0) {
		short_id(sid, e->id);
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, PL_EVERIFY,
		                       "record %s: the exchange sent a record whose id is another",
		                       sid);
		goto out;
	}
	err = open_record(s, e->note, e->note_len, &r);
	if (err)
		goto out;
	r.index = e->index;
	/* The cache only spares a fetch; failing to fill it changes nothing. */
	r.cached = pl_state_record_put(s->state, r.id, r.index, r.text, r.len) == 0;
	*out = r;
	memset(&r, 0, sizeof(r));
out:
	pl_session_record_release(&r);
	return err;
}

int pl_session_resolve(struct pl_session *s, const char *arg, struct pl_session_record *out)
{
	struct pl_client_entry e;
	struct pl_buf cached;
	char lower[PL_RECORD_ID_HEX_LEN + 1], what[96];
	uint8_t id[PL_RECORD_ID_BYTES];
	uint64_t index = 0;
	size_t n = strlen(arg);
	int err;

	begin(s);
	memset(&e, 0, sizeof(e));
	pl_buf_init(&cached, PL_RECORD_MAX_BYTES);
	err = pl_member_id_arg(lower, arg);
	if (err == PL_ERANGE)
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_EINVAL,
		                       "record id '%s': not %d to %d hex digits", arg,
		                       PL_RECORD_ID_PREFIX_MIN, PL_RECORD_ID_HEX_LEN);
	else if (err)
		err = pl__session_fail(s, PL_BLAME_LOCAL, PL_EINVAL,
		                       "record id '%s': not hex digits", arg);
	if (err)
		goto out;
	if (n == PL_RECORD_ID_HEX_LEN && pl_record_id_parse(id, lower, n) == 0 &&
	    pl_state_record_get(s->state, id, &index, &cached) == 0) {
		err = open_record(s, cached.data, cached.len, out);
		if (!err)
			out->index = index;
		goto out;
	}
	err = pl_client_record(s->client, lower, &e);
	if (err) {
		snprintf(what, sizeof(what), "record %s", lower);
		err = pl_session_client_error(s, what, err);
		goto out;
	}
	err = pl_session_verify_entry(s, &e, out);
out:
	pl_client_entry_release(&e);
	pl_buf_release(&cached);
	return err;
}

int pl_session_prove(struct pl_session *s, const struct pl_session_record *r,
                     struct pl_checkpoint *cp)
{
	return pl_session_prove_text(s, r, cp, NULL);
}

int pl_session_prove_text(struct pl_session *s, const struct pl_session_record *r,
                          struct pl_checkpoint *cp, struct pl_buf *out)
{
	struct pl_checkpoint pcp;
	struct pl_proof *p = NULL;
	struct pl_buf text;
	char sid[17], what[40];
	int err;

	begin(s);
	short_id(sid, r->id);
	snprintf(what, sizeof(what), "proof of record %s", sid);
	pl_buf_init(&text, PL_TLOG_PROOF_MAX_BYTES);
	err = pl_client_proof(s->client, r->hex, 0, &text);
	if (err) {
		err = pl_session_client_error(s, what, err);
		goto out;
	}
	err = pl_member_proof_check(text.data, text.len, r->text, r->len, r->index,
	                            s->profile.origin, &s->profile.log_key, &p, &pcp);
	if (err == PL_ERANGE)
		err = pl__session_fail(
		        s, PL_BLAME_EVIDENCE, err,
		        "%s: proves index %llu, but the exchange gave the record at %llu", what,
		        (unsigned long long)p->index, (unsigned long long)r->index);
	else if (err)
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, err, "%s: %s%s", what,
		                       p ? "does not hold: " : "", pl_strerror(err));
	/* pl_proof_verify() checked the checkpoint's signature: only consistency is left. */
	if (!err)
		err = observe(s, &pcp, p->checkpoint, p->checkpoint_len);
	if (!err && cp)
		*cp = pcp;
	if (!err && out) {
		err = pl_buf_add(out, text.data, text.len);
		if (err)
			err = pl__session_fail(s, PL_BLAME_LOCAL, err, "%s: %s", what,
			                       pl_strerror(err));
	}
out:
	pl_proof_free(p);
	pl_buf_release(&text);
	return err;
}

/* Opens a fetched blob for this party, keeps the opened copy, and hands back the stored one. */
static int payload_open(struct pl_session *s, const struct pl_session_record *r,
                        const struct pl_buf *blob, const char *what, uint8_t **plaintext,
                        size_t *len, uint8_t salt[static PL_BOX_SALT_BYTES])
{
	const struct pl_record *rec = r->rec;
	uint8_t *plain = NULL, tmp_salt[PL_BOX_SALT_BYTES];
	size_t plain_len = 0;
	int err;

	err = pl_member_payload_open(&plain, &plain_len, tmp_salt, rec, (const uint8_t *)blob->data,
	                             blob->len, &s->me.enc);
	if (err == PL_ERANGE)
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, err,
		                       "%s: %zu bytes, the record says %llu", what, blob->len,
		                       (unsigned long long)rec->payload_size);
	else if (err == PL_ENOTFOUND)
		err = 0; /* sealed to others only */
	else if (err == PL_ECRYPTO || err == PL_ECOMMIT)
		err = pl__session_fail(
		        s, PL_BLAME_EVIDENCE, err,
		        "%s: %s; the record and the blob are evidence against %s", what,
		        err == PL_ECOMMIT ? "the content does not match the record's commitment"
		                          : "this party's slot does not open",
		        rec->author);
	else if (err)
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, err, "%s: %s", what, pl_strerror(err));
	else if ((err = pl_state_opened_put(s->state, r->id, plain, plain_len, tmp_salt)) != 0 ||
	         (err = pl_state_opened_get(s->state, r->id, plaintext, len, salt)) != 0)
		err = pl__session_fail(s, PL_BLAME_LOCAL, err, "local state %s: %s",
		                       s->profile.state, pl_strerror(err));
	pl_box_plaintext_free(plain, plain_len);
	sodium_memzero(tmp_salt, sizeof(tmp_salt));
	return err;
}

int pl_session_payload(struct pl_session *s, const struct pl_session_record *r, uint8_t **plaintext,
                       size_t *len, uint8_t salt[static PL_BOX_SALT_BYTES])
{
	const struct pl_record *rec = r->rec;
	struct pl_buf blob;
	char sid[17], what[48];
	int err = 0;

	begin(s);
	short_id(sid, r->id);
	snprintf(what, sizeof(what), "payload of record %s", sid);
	pl_buf_init(&blob, PL_BOX_MAX_BYTES);
	*plaintext = NULL;
	*len = 0;
	if (!(rec->has & PL_RECORD_HAS_PAYLOAD) || !(rec->has & PL_RECORD_HAS_COMMIT))
		goto out;
	if (pl_state_opened_get(s->state, r->id, plaintext, len, salt) == 0)
		goto out;
	err = pl_client_payload_get(s->client, rec->payload, &blob);
	if (err == PL_EDENIED)
		err = 0; /* not a reader */
	else if (err)
		err = pl_session_client_error(s, what, err);
	else
		err = payload_open(s, r, &blob, what, plaintext, len, salt);
out:
	pl_buf_release(&blob);
	return err;
}

/* After a chain conflict: learns the head the exchange holds (its seq, id and time). */
static int recover_head(struct pl_session *s, const char *what)
{
	const struct pl_client_error *e = pl_client_last_error(s->client);
	struct pl_state_head h;
	struct pl_session_record r;
	char hex[PL_RECORD_ID_HEX_LEN + 1];
	int err = 0;

	memset(&h, 0, sizeof(h));
	memset(&r, 0, sizeof(r));
	if (e->has_head) {
		h.seq = e->head_seq;
		memcpy(h.id, e->head_id, sizeof(h.id));
		pl_record_id_format(hex, h.id);
		err = pl_session_resolve(s, hex, &r);
		if (err)
			goto out;
		if (strcmp(r.rec->author, s->profile.party) != 0 || r.rec->seq != h.seq) {
			err = pl__session_fail(
			        s, PL_BLAME_EVIDENCE, PL_ECHAIN,
			        "%s: the exchange names as this party's head a record that is not",
			        what);
			goto out;
		}
		h.time = r.rec->time;
	}
	/* The exchange holds the chain; seq 0 (no head) forgets a stale local one. */
	err = pl_state_head_put(s->state, &h, true);
	if (err)
		err = pl__session_fail(s, PL_BLAME_LOCAL, err,
		                       "local state %s: cannot record the chain head",
		                       s->profile.state);
out:
	pl_session_record_release(&r);
	return err;
}

/* Checks a receipt (pl_member_receipt_check()), then its checkpoint against the one seen. */
static int check_receipt(struct pl_session *s, const struct pl_receipt *rc, const char *text,
                         size_t len, const char *what)
{
	struct pl_checkpoint pcp;
	struct pl_proof *p = NULL;
	int err;

	err = pl_member_receipt_check(rc, text, len, s->profile.origin, &s->profile.log_key, &p,
	                              &pcp);
	if (err == PL_ERANGE)
		err = pl__session_fail(
		        s, PL_BLAME_EVIDENCE, err,
		        "%s: the receipt's proof is for index %llu at size %llu, not %llu at %llu",
		        what, (unsigned long long)p->index, (unsigned long long)pcp.size,
		        (unsigned long long)rc->index, (unsigned long long)rc->size);
	else if (err == PL_EINCONSISTENT)
		err = pl__session_fail(
		        s, PL_BLAME_EVIDENCE, err,
		        "%s: the receipt's checkpoint is not the one its proof is for", what);
	else if (err)
		err = pl__session_fail(s, PL_BLAME_EVIDENCE, err,
		                       "%s: the exchange's receipt does not prove it logged: %s",
		                       what, pl_strerror(err));
	else
		err = observe(s, &pcp, p->checkpoint, p->checkpoint_len);
	pl_proof_free(p);
	return err;
}

/* Places, signs and submits r, retrying after a chain conflict. Fills rc and text. */
static int sign_and_submit(struct pl_session *s, struct pl_record *r, int64_t min_time,
                           const char *what, struct pl_receipt *rc, struct pl_buf *text)
{
	struct pl_state_head h;
	const char *why = NULL;
	int err = 0;

	for (int attempt = 0; attempt < SUBMIT_ATTEMPTS; attempt++) {
		pl_receipt_release(rc);
		memset(rc, 0, sizeof(*rc));
		pl_buf_reset(text);
		if (pl_state_head_get(s->state, &h) != 0)
			return pl__session_fail(s, PL_BLAME_LOCAL, PL_ESTORE,
			                        "local state %s: cannot read the chain head",
			                        s->profile.state);
		err = pl_member_place(r, s->profile.origin, s->profile.party, &h, pl_session_now(s),
		                      min_time);
		if (err == PL_ERANGE)
			return pl__session_fail(s, PL_BLAME_LOCAL, err,
			                        "%s: the deadline is not after the record's time",
			                        what);
		if (!err)
			err = pl_record_sign(text, r, &s->me.skey, 1, &why);
		if (err)
			return pl__session_fail(s, PL_BLAME_LOCAL, err,
			                        "%s: cannot make the record: %s", what,
			                        why ? why : pl_strerror(err));
		err = pl_client_submit(s->client, text->data, text->len, rc);
		if (err != PL_ECHAIN)
			break;
		/* Another process of this party signed meanwhile, or the local head is stale. */
		err = recover_head(s, what);
		if (err)
			return err;
		err = PL_ECHAIN;
	}
	return err ? pl_session_client_error(s, what, err) : 0;
}

int pl_session_submit(struct pl_session *s, struct pl_record *r, int64_t min_time, const char *what,
                      struct pl_receipt *out, struct pl_buf *text_out)
{
	struct pl_receipt rc;
	struct pl_state_head h;
	struct pl_buf text;
	const struct pl_record_ref *subj;
	int err;

	begin(s);
	memset(&rc, 0, sizeof(rc));
	memset(&h, 0, sizeof(h));
	pl_buf_init(&text, PL_RECORD_MAX_BYTES);
	err = sign_and_submit(s, r, min_time, what, &rc, &text);
	if (!err)
		err = check_receipt(s, &rc, text.data, text.len, what);
	if (err)
		goto out;
	h.seq = r->seq;
	pl_record_id(h.id, text.data, text.len);
	h.time = r->time;
	err = pl_state_head_put(s->state, &h, false);
	if (err) {
		err = pl__session_fail(s, PL_BLAME_LOCAL, err,
		                       "local state %s: cannot record the chain head",
		                       s->profile.state);
		goto out;
	}
	subj = pl_member_act_subject(r);
	if (subj && pl_state_act_put(s->state, subj->id, pl_record_kind_name(r->kind), h.id) != 0)
		warn(s, "local state %s: cannot note the %s", s->profile.state, what);
	if (pl_state_record_put(s->state, h.id, rc.index, text.data, text.len) != 0)
		warn(s, "local state %s: cannot keep a copy of the %s", s->profile.state, what);
	if (text_out) {
		pl_buf_release(text_out);
		*text_out = text;
		pl_buf_init(&text, PL_RECORD_MAX_BYTES);
	}
	*out = rc;
	memset(&rc, 0, sizeof(rc));
out:
	pl_receipt_release(&rc);
	pl_buf_release(&text);
	return err;
}
