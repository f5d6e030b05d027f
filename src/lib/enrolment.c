/* A member's enrolment: the profile pinning an exchange's origin and log key for a party, made
 * after the checks pass, with its local state built aside until then. */
#include <parley/enrolment.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <parley/client.h>
#include <parley/note.h>
#include <parley/party.h>

#include "internal.h"

/* Describes a library error; for PL_EIO adds the system's reason. */
static const char *err_text(int err)
{
	return err == PL_EIO && errno != 0 ? strerror(errno) : pl_strerror(err);
}

/* Creates every missing directory of path (mode 0700). Returns 0 or -1 (errno set). */
static int mkdir_p(const char *path)
{
	char tmp[PL_PROFILE_PATH_MAX + 1];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return -1;
		tmp[i] = i == n ? '\0' : '/';
	}
	return 0;
}

/* The absolute form of an existing directory dir, into out. */
static int absolute_dir(struct pl_session *s, char out[static PL_PROFILE_PATH_MAX + 1],
                        const char *what, const char *dir)
{
	char buf[PATH_MAX];

	if (!realpath(dir, buf))
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_EIO, "%s %s: %s", what, dir,
		                        strerror(errno));
	if (strlen(buf) > PL_PROFILE_PATH_MAX)
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_ETOOBIG, "%s %s: path too long", what,
		                        dir);
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

/* path with suffix appended, into out. Returns false when it does not fit. */
static bool path_with(char out[static PL_PROFILE_PATH_MAX + 1], const char *path,
                      const char *suffix)
{
	int n = snprintf(out, PL_PROFILE_PATH_MAX + 1, "%s%s", path, suffix);
	return n > 0 && n <= PL_PROFILE_PATH_MAX;
}

/* Removes a state database built aside and whatever SQLite left beside it. */
static void drop_state(const char *path)
{
	char side[PL_PROFILE_PATH_MAX + 1];

	unlink(path);
	if (path_with(side, path, "-wal"))
		unlink(side);
	if (path_with(side, path, "-shm"))
		unlink(side);
}

/*
 * Puts a state database built aside at tmp in place at path, unless one
 * appeared there meanwhile (another process's, which is then kept; it pins
 * this exchange at the next use). Returns 1 when tmp was put in place, 0
 * when another was kept, -1 on failure (said why).
 */
static int place_state(struct pl_session *s, const char *tmp, const char *path)
{
	char side[PL_PROFILE_PATH_MAX + 1], dst[PL_PROFILE_PATH_MAX + 1];

	if (link(tmp, path) != 0) {
		if (errno != EEXIST) {
			pl__session_fail(s, PL_BLAME_LOCAL, PL_EIO, "state %s: %s", path,
			                 strerror(errno));
			return -1;
		}
		drop_state(tmp);
		return 0;
	}
	/* Closed cleanly, SQLite leaves no WAL; if one is there, it travels with the file. */
	if (path_with(side, tmp, "-wal") && access(side, F_OK) == 0 &&
	    (!path_with(dst, path, "-wal") || rename(side, dst) != 0)) {
		pl__session_fail(s, PL_BLAME_LOCAL, PL_EIO, "state %s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	drop_state(tmp);
	return 1;
}

/*
 * Trust on first use: takes the log key the exchange states about itself
 * (GET /log-key), which is only as good as the network path to it; the
 * caller says so loudly. The checkpoint check then requires that key.
 */
static int tofu_log_key(struct pl_session *s, struct pl_client *c, const char *url,
                        const char *origin, struct pl_vkey *vk)
{
	const struct pl_client_error *e;
	struct pl_vkey got;
	int err;

	err = pl_client_log_key(c, &got);
	if (err) {
		e = pl_client_last_error(c);
		return pl__session_fail(s,
		                        err == PL_EMALFORMED ? PL_BLAME_EVIDENCE
		                        : e->status >= 400   ? PL_BLAME_REFUSED
		                                             : PL_BLAME_LOCAL,
		                        err, "exchange %s: cannot get its log key: %s", url,
		                        err == PL_EMALFORMED ? "malformed answer" : e->reason);
	}
	if (strcmp(got.name, origin) != 0 || got.type != PL_SIGTYPE_ED25519)
		return pl__session_fail(
		        s, PL_BLAME_EVIDENCE, PL_EKEY,
		        "exchange %s: its log key is named %s, not after its origin %s", url,
		        got.name, origin);
	*vk = got;
	return 0;
}

/* Fetches the exchange's checkpoint and checks it against the log key about to be pinned. */
static int precheck(struct pl_session *s, struct pl_client *c, const struct pl_profile *p)
{
	struct pl_checkpoint cp;
	struct pl_buf b;
	int err;

	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	err = pl_client_checkpoint(c, &b);
	if (err) {
		err = pl__session_fail(
		        s,
		        pl_client_last_error(c)->status >= 400 ? PL_BLAME_REFUSED : PL_BLAME_LOCAL,
		        err, "exchange %s: %s", p->exchange, pl_client_last_error(c)->reason);
		goto out;
	}
	err = pl_checkpoint_open(&cp, NULL, b.data ? b.data : "", b.len, p->origin, &p->log_key, 1);
	if (err)
		err = pl__session_fail(
		        s, PL_BLAME_EVIDENCE, err,
		        "exchange %s: its checkpoint does not verify as origin %s with "
		        "log key %s: %s",
		        p->exchange, p->origin, p->log_key.name, pl_strerror(err));
out:
	pl_buf_release(&b);
	return err;
}

/*
 * The profile e would make, before anything is written: the identity loaded
 * from the key directory (into me), the exchange URL, and the log key given
 * or learned on first use, which must sign the exchange's checkpoint.
 */
static int make_profile(struct pl_session *s, struct pl_enrolment *e, struct pl_party *me)
{
	struct pl_profile *p = &e->profile;
	struct pl_client *c = NULL;
	int err;

	err = absolute_dir(s, p->key_dir, "key directory", e->key_dir);
	if (err)
		return err;
	err = pl_party_load(me, p->key_dir, e->party);
	if (err)
		return pl__session_fail(
		        s, PL_BLAME_LOCAL, err, "identity of %s in %s: %s", e->party, e->key_dir,
		        err == PL_EDENIED ? "a secret key file is readable by others (chmod 600)"
		                          : err_text(err));
	if (strlen(e->exchange) > PL_PROFILE_URL_MAX ||
	    !pl_profile_url_is_valid(e->exchange, strlen(e->exchange)))
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_EINVAL,
		                        "exchange '%s': not an http:// or https:// URL",
		                        e->exchange);
	memcpy(p->exchange, e->exchange, strlen(e->exchange) + 1);
	memcpy(p->origin, me->origin, strlen(me->origin) + 1);
	memcpy(p->party, me->name, strlen(me->name) + 1);
	if (e->log_key && strcmp(e->log_key->name, p->origin) != 0)
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_EINVAL,
		                        "log key named '%s', but the party's exchange is '%s'",
		                        e->log_key->name, p->origin);
	err = pl_client_new(&c, e->exchange, NULL, NULL);
	if (err)
		return pl__session_fail(s, PL_BLAME_LOCAL, err, "exchange %s: %s", e->exchange,
		                        pl_strerror(err));
	if (e->log_key)
		p->log_key = *e->log_key;
	else
		err = tofu_log_key(s, c, e->exchange, p->origin, &p->log_key);
	e->trusted_on_first_use = !e->log_key && !err;
	/* Check the exchange before anything is written: the key must sign its checkpoint. */
	if (!err)
		err = precheck(s, c, p);
	pl_client_free(c);
	return err;
}

/*
 * Opens the session of the profile as checked (its state maybe aside), pins
 * or checks the exchange's checkpoint, and checks that the party is a member
 * with the signing key of me. On failure s stays open to say why.
 */
static int check_member(struct pl_session *s, struct pl_enrolment *e,
                        const struct pl_profile *checked, const struct pl_party *me)
{
	const struct pl_client_party *entry;
	int err;

	err = pl_session_open(s, e->dir, checked, e->clock);
	if (!err)
		err = pl_session_refresh(s, &e->cp, NULL);
	if (err)
		return err;
	entry = pl_session_party(s, checked->party, &err);
	e->not_member = !entry;
	if (entry && !pl_vkey_equal(&entry->vkey, &me->vkey))
		return pl__session_fail(
		        s, PL_BLAME_EVIDENCE, PL_EKEY,
		        "party %s is registered at %s with another signing key than the one in %s",
		        checked->party, checked->origin, checked->key_dir);
	pl_session_close(s);
	return 0;
}

/* The profile directory: made when missing, absolute, and free unless e->force. */
static int profile_dir(struct pl_session *s, struct pl_enrolment *e)
{
	char file[PL_PROFILE_PATH_MAX + sizeof(PL_PROFILE_FILE) + 2];
	struct stat st;
	int err;

	if (mkdir_p(e->profile_dir) != 0)
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_EIO, "profile directory %s: %s",
		                        e->profile_dir, strerror(errno));
	err = absolute_dir(s, e->dir, "profile directory", e->profile_dir);
	if (err)
		return err;
	snprintf(file, sizeof(file), "%s/%s", e->dir, PL_PROFILE_FILE);
	if (!e->force && lstat(file, &st) == 0)
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_EEXIST,
		                        "profile %s exists; give --force to replace it", file);
	return 0;
}

/* Where the state goes: state.db in the state directory (made when missing). */
static int state_path(struct pl_session *s, struct pl_enrolment *e)
{
	const char *dir = e->state_dir ? e->state_dir : e->dir;

	if (mkdir_p(dir) != 0)
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_EIO, "state directory %s: %s", dir,
		                        strerror(errno));
	if (!path_with(e->profile.state, dir, "/state.db"))
		return pl__session_fail(s, PL_BLAME_LOCAL, PL_ETOOBIG, "state file: path too long");
	return 0;
}

/* Every check passed: the state in place, then the profile by an atomic rename. */
static int save(struct pl_session *s, struct pl_enrolment *e, char *tmp_state, bool *placed)
{
	const char *why = NULL;
	int err, ours;

	if (tmp_state[0]) {
		ours = place_state(s, tmp_state, e->profile.state);
		if (ours < 0)
			return PL_EIO;
		tmp_state[0] = '\0';
		*placed = ours == 1;
	}
	err = pl_profile_save(&e->profile, e->dir, e->force, &why);
	if (err == PL_EEXIST)
		return pl__session_fail(s, PL_BLAME_LOCAL, err,
		                        "profile %s/%s exists; give --force to replace it", e->dir,
		                        PL_PROFILE_FILE);
	if (err)
		return pl__session_fail(s, PL_BLAME_LOCAL, err, "profile %s/%s: %s", e->dir,
		                        PL_PROFILE_FILE, why ? why : err_text(err));
	*placed = false;
	return 0;
}

int pl_enrol(struct pl_session *s, struct pl_enrolment *e)
{
	struct pl_profile checked;
	struct pl_party me;
	struct stat st;
	char tmp_state[PL_PROFILE_PATH_MAX + 1] = "", sfx[48];
	bool made_dir = false, placed = false;
	int err;

	memset(s, 0, sizeof(*s));
	memset(&me, 0, sizeof(me));
	memset(&e->profile, 0, sizeof(e->profile));
	e->trusted_on_first_use = e->not_member = false;
	err = make_profile(s, e, &me);
	if (err)
		goto out;
	made_dir = stat(e->profile_dir, &st) != 0;
	err = profile_dir(s, e);
	if (!err)
		err = state_path(s, e);
	if (err)
		goto out;
	/* No state yet: build it aside, so that a failure leaves none behind. */
	checked = e->profile;
	if (lstat(e->profile.state, &st) != 0) {
		snprintf(sfx, sizeof(sfx), ".init-%ld.tmp", (long)getpid());
		if (!path_with(tmp_state, e->profile.state, sfx)) {
			err = pl__session_fail(s, PL_BLAME_LOCAL, PL_ETOOBIG,
			                       "state file: path too long");
			goto out;
		}
		drop_state(tmp_state);
		memcpy(checked.state, tmp_state, strlen(tmp_state) + 1);
	}
	err = check_member(s, e, &checked, &me);
	if (!err)
		err = save(s, e, tmp_state, &placed);
out:
	if (tmp_state[0])
		drop_state(tmp_state);
	if (placed)
		drop_state(e->profile.state); /* made by this enrolment, which failed after all */
	if (err && made_dir)
		(void)rmdir(e->profile_dir); /* only if still empty */
	pl_party_clear(&me);
	return err;
}
