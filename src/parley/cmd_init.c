/* parley init: a profile that pins one exchange's origin and log key for one party. */
#include "session.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/checkpoint.h>
#include <parley/client.h>
#include <parley/encoding.h>
#include <parley/note.h>
#include <parley/party.h>
#include <parley/profile.h>

#include "banned.h"

static const struct cli_verb init_verb = {
        .name = "init",
        .synopsis = "--exchange URL --party NAME --key-dir DIR [--log-key VKEY]\n"
                    "           [--profile DIR] [--force]",
        .about = "Makes the profile through which the other verbs act as party NAME on the\n"
                 "exchange at URL (http://host:port). The party's identity is read from DIR\n"
                 "(as 'parley keygen --party' writes it); the exchange's origin is its key\n"
                 "names'. The profile pins the exchange's log key: every checkpoint the\n"
                 "exchange hands over later must be signed by it and consistent with the last\n"
                 "one seen, or the verbs stop and say the exchange shows two histories (and\n"
                 "write both checkpoints, the evidence, to split-view-<time>.txt beside the\n"
                 "local state). Nothing is written until every check has passed: a failed init\n"
                 "leaves an existing profile and state as they were.\n"
                 "\n"
                 "Give the log key with --log-key (the exchange's operator publishes it; it is\n"
                 "the log.vkey of its data directory). Without it, the key is trusted on first\n"
                 "use: taken from the exchange itself, which is only as good as the network\n"
                 "path to it; this is said loudly, and the key should be checked out of band.\n"
                 "\n"
                 "The profile is written to the --profile directory, or $PARLEY_PROFILE, or\n"
                 "~/.config/parley. The local state (last checkpoint, chain head, inbox cursor,\n"
                 "opened messages) goes into the profile directory when it was named, else into\n"
                 "~/.local/share/parley/state.db ($XDG_DATA_HOME is honoured).\n",
        .status = "Exit status: 0 done; 1 the exchange's checkpoint does not verify with the log\n"
                  "key, the exchange shows two histories, or it registered the party with another\n"
                  "key; 2 usage or I/O error, the exchange unreachable; 3 the exchange refused.\n",
};

struct init_args {
	const char *exchange, *party, *key_dir, *log_key, *profile;
	bool force;
};

/* Creates every missing directory of path (mode 0700). Returns 0 or -1 (errno set). */
static int mkdir_p(const char *path)
{
	char tmp[CLI_PATH_MAX];
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

/* The absolute form of an existing directory. Returns an exit code. */
static int absolute_dir(char out[static CLI_PATH_MAX], const char *what, const char *dir)
{
	char buf[PATH_MAX];

	if (!realpath(dir, buf)) {
		cli_error("%s %s: %s", what, dir, strerror(errno));
		return PL_EXIT_USAGE;
	}
	if (strlen(buf) >= CLI_PATH_MAX || strlen(buf) > PL_PROFILE_PATH_MAX) {
		cli_error("%s %s: path too long", what, dir);
		return PL_EXIT_USAGE;
	}
	memcpy(out, buf, strlen(buf) + 1);
	return PL_EXIT_OK;
}

/* Where the state goes: inside a named profile directory, else the user's data directory. */
static int state_path(char out[static PL_PROFILE_PATH_MAX + 1], const char *profile_dir,
                      bool is_explicit)
{
	char dir[CLI_PATH_MAX];
	const char *base = getenv("XDG_DATA_HOME");
	int n, ret = PL_EXIT_USAGE;

	if (is_explicit) {
		n = snprintf(dir, sizeof(dir), "%s", profile_dir);
	} else if (base && base[0] == '/') {
		n = snprintf(dir, sizeof(dir), "%s/parley", base);
	} else {
		base = getenv("HOME");
		if (!base || base[0] != '/') {
			cli_error("no data directory for the local state: set HOME or give "
			          "--profile");
			goto out;
		}
		n = snprintf(dir, sizeof(dir), "%s/.local/share/parley", base);
	}
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		cli_error("state directory: path too long");
		goto out;
	}
	if (mkdir_p(dir) != 0) {
		cli_error("state directory %s: %s", dir, strerror(errno));
		goto out;
	}
	n = snprintf(out, PL_PROFILE_PATH_MAX + 1, "%s/state.db", dir);
	if (n < 0 || n > PL_PROFILE_PATH_MAX) {
		cli_error("state file: path too long");
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	return ret;
}

/*
 * Trust on first use: takes the log key the exchange states about itself
 * (GET /log-key), which is only as good as the network path to it, and says
 * so loudly with the key, so that it can be checked out of band. precheck()
 * then requires that key to sign the exchange's checkpoint.
 */
static int tofu_log_key(struct pl_client *c, const char *url, const char *origin,
                        struct pl_vkey *vk)
{
	struct pl_vkey got;
	struct pl_buf text;
	int ret = PL_EXIT_USAGE, err;

	pl_buf_init(&text, PL_KEY_NAME_MAX + 128);
	err = pl_client_log_key(c, &got);
	if (err) {
		cli_error("exchange %s: cannot get its log key: %s", url,
		          err == PL_EMALFORMED ? "malformed answer"
		                               : pl_client_last_error(c)->reason);
		ret = err == PL_EMALFORMED                     ? PL_EXIT_FAIL
		      : pl_client_last_error(c)->status >= 400 ? PL_EXIT_REFUSED
		                                               : PL_EXIT_USAGE;
		goto out;
	}
	if (strcmp(got.name, origin) != 0 || got.type != PL_SIGTYPE_ED25519) {
		cli_error("exchange %s: its log key is named %s, not after its origin %s", url,
		          got.name, origin);
		ret = PL_EXIT_FAIL;
		goto out;
	}
	if (pl_vkey_format(&got, &text) != 0)
		goto out;
	cli_error("WARNING: no --log-key given: trusting the log key exchange %s states on first "
	          "use:",
	          url);
	cli_error("WARNING:   %s", text.data);
	cli_error("WARNING: check it with the exchange's operator; every later checkpoint must be "
	          "signed by it.");
	*vk = got;
	ret = 0;
out:
	pl_buf_release(&text);
	return ret;
}

/* Fetches the exchange's checkpoint and checks it against the log key about to be pinned. */
static int precheck(struct pl_client *c, const struct pl_profile *p)
{
	struct pl_checkpoint cp;
	struct pl_buf b;
	int ret = PL_EXIT_FAIL, err;

	pl_buf_init(&b, PL_NOTE_MAX_BYTES);
	err = pl_client_checkpoint(c, &b);
	if (err) {
		cli_error("exchange %s: %s", p->exchange, pl_client_last_error(c)->reason);
		ret = pl_client_last_error(c)->status >= 400 ? PL_EXIT_REFUSED : PL_EXIT_USAGE;
		goto out;
	}
	err = pl_checkpoint_open(&cp, NULL, b.data ? b.data : "", b.len, p->origin, &p->log_key, 1);
	if (err) {
		cli_error(
		        "exchange %s: its checkpoint does not verify as origin %s with log key %s: "
		        "%s",
		        p->exchange, p->origin, p->log_key.name, pl_strerror(err));
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	pl_buf_release(&b);
	return ret;
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
static int place_state(const char *tmp, const char *path)
{
	char side[PL_PROFILE_PATH_MAX + 1], dst[PL_PROFILE_PATH_MAX + 1];

	if (link(tmp, path) != 0) {
		if (errno != EEXIST) {
			cli_error("state %s: %s", path, strerror(errno));
			return -1;
		}
		drop_state(tmp);
		return 0;
	}
	/* Closed cleanly, SQLite leaves no WAL; if one is there, it travels with the file. */
	if (path_with(side, tmp, "-wal") && access(side, F_OK) == 0 &&
	    (!path_with(dst, path, "-wal") || rename(side, dst) != 0)) {
		cli_error("state %s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	drop_state(tmp);
	return 1;
}

/*
 * Makes the profile. Nothing is written until every check has passed: the
 * log key signs the exchange's checkpoint, that checkpoint is one history
 * with the one the state pinned before, and the party's key is the one the
 * exchange registered. The checks run on the profile in memory, and on a
 * state built aside when there is none yet; then the state is put in place
 * and the profile saved by an atomic rename. A failed init leaves the
 * profile and the state as they were (two histories also leave their
 * evidence beside the state, as every verb does).
 */
/*
 * The profile a would make, before anything is written: the identity loaded
 * from the key directory (me, its absolute path in abs_keys), the exchange
 * URL, and the log key given or learned on first use, which must sign the
 * exchange's checkpoint. *c receives the client used (free it). Exit code.
 */
static int make_profile(const struct init_args *a, struct pl_profile *pp, struct pl_party *mep,
                        char abs_keys[static CLI_PATH_MAX], struct pl_client **cp)
{
	struct pl_profile p = *pp;
	struct pl_party me;
	struct pl_client *c = NULL;
	int ret, err;

	memset(&me, 0, sizeof(me));
	ret = absolute_dir(abs_keys, "key directory", a->key_dir);
	if (ret)
		goto out;
	err = pl_party_load(&me, abs_keys, a->party);
	if (err) {
		cli_error("identity of %s in %s: %s", a->party, a->key_dir,
		          err == PL_EDENIED ? "a secret key file is readable by others (chmod 600)"
		                            : cli_strerror(err));
		ret = PL_EXIT_USAGE;
		goto out;
	}
	ret = PL_EXIT_USAGE;
	if (strlen(a->exchange) > PL_PROFILE_URL_MAX ||
	    !pl_profile_url_is_valid(a->exchange, strlen(a->exchange))) {
		cli_error("exchange '%s': not an http:// or https:// URL", a->exchange);
		goto out;
	}
	memcpy(p.exchange, a->exchange, strlen(a->exchange) + 1);
	memcpy(p.origin, me.origin, strlen(me.origin) + 1);
	memcpy(p.party, me.name, strlen(me.name) + 1);
	memcpy(p.key_dir, abs_keys, strlen(abs_keys) + 1);
	if (a->log_key) {
		ret = cli_vkey_arg(a->log_key, &p.log_key);
		if (ret)
			goto out;
		ret = PL_EXIT_USAGE;
		if (strcmp(p.log_key.name, p.origin) != 0) {
			cli_error("log key %s: named '%s', but the party's exchange is '%s'",
			          a->log_key, p.log_key.name, p.origin);
			goto out;
		}
	} else {
		err = pl_client_new(&c, a->exchange, NULL, NULL);
		if (err) {
			cli_error("exchange %s: %s", a->exchange, pl_strerror(err));
			goto out;
		}
		ret = tofu_log_key(c, a->exchange, p.origin, &p.log_key);
		if (ret)
			goto out;
	}
	/* Check the exchange before anything is written: the key must sign its checkpoint. */
	if (!c && pl_client_new(&c, a->exchange, NULL, NULL) != 0) {
		cli_error("exchange %s: cannot make a client", a->exchange);
		goto out;
	}
	ret = precheck(c, &p);
	if (ret)
		goto out;
out:
	*pp = p;
	*mep = me;
	pl_party_clear(&me); /* the caller holds the only copy of the secrets, and wipes it */
	*cp = c;
	return ret;
}

/*
 * Opens a session of the profile p as checked (its state maybe aside), pins
 * or checks the exchange's checkpoint into cp, and checks that the party is
 * a member with the signing key of me (a warning when it is not a member
 * yet). Exit code.
 */
static int check_member(const char *abs_dir, const struct pl_profile *checked,
                        const struct pl_party *me, const char *abs_keys, struct pl_checkpoint *cp)
{
	const struct pl_profile *pp = checked;
	const struct pl_client_party *entry;
	struct session s;
	int ret;

	ret = session_open_with(&s, abs_dir, checked);
	if (ret)
		goto out; /* closed already; closing again is a no-op */
	/* Pins the checkpoint, or checks it against one already seen in a shared state. */
	ret = session_refresh(&s, cp, NULL);
	if (ret)
		goto out;
	entry = session_party(&s, pp->party, &ret);
	if (!entry) {
		cli_error("warning: %s is not (or no longer) a member of exchange %s; its operator "
		          "registers it with 'parleyd party add'",
		          pp->party, pp->origin);
		ret = PL_EXIT_OK;
	} else if (!pl_vkey_equal(&entry->vkey, &me->vkey)) {
		cli_error(
		        "party %s is registered at %s with another signing key than the one in %s",
		        pp->party, pp->origin, abs_keys);
		ret = PL_EXIT_FAIL;
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	session_close(&s);
	return ret;
}

static int run_init(const struct init_args *a)
{
	struct pl_profile p, checked;
	struct pl_party me;
	struct pl_client *c = NULL;
	struct pl_checkpoint cp;
	struct pl_buf vk;
	struct stat st;
	char dir[CLI_PATH_MAX], abs_dir[CLI_PATH_MAX], abs_keys[CLI_PATH_MAX];
	char tmp_state[PL_PROFILE_PATH_MAX + 1] = "";
	char root[PL_B64_LEN(PL_HASH_BYTES) + 1];
	const char *why = NULL;
	bool is_explicit = false, made_dir = false, placed = false;
	int ret, err;

	memset(&p, 0, sizeof(p));
	memset(&me, 0, sizeof(me));
	pl_buf_init(&vk, 1024);
	ret = session_profile_dir(dir, a->profile, &is_explicit);
	if (ret)
		goto out;
	ret = make_profile(a, &p, &me, abs_keys, &c);
	if (ret)
		goto out;
	ret = PL_EXIT_USAGE;
	made_dir = stat(dir, &st) != 0;
	if (mkdir_p(dir) != 0) {
		cli_error("profile directory %s: %s", dir, strerror(errno));
		goto out;
	}
	ret = absolute_dir(abs_dir, "profile directory", dir);
	if (ret)
		goto out;
	ret = PL_EXIT_USAGE;
	if (!a->force && lstat(dir, &st) == 0) {
		char file[CLI_PATH_MAX + sizeof(PL_PROFILE_FILE) + 1];
		snprintf(file, sizeof(file), "%s/%s", abs_dir, PL_PROFILE_FILE);
		if (lstat(file, &st) == 0) {
			cli_error("profile %s exists; give --force to replace it", file);
			goto out;
		}
	}
	ret = state_path(p.state, abs_dir, is_explicit);
	if (ret)
		goto out;
	ret = PL_EXIT_USAGE;
	/* No state yet: build it aside, so that a failure leaves none behind. */
	checked = p;
	if (lstat(p.state, &st) != 0) {
		char sfx[48];
		snprintf(sfx, sizeof(sfx), ".init-%ld.tmp", (long)getpid());
		if (!path_with(tmp_state, p.state, sfx)) {
			cli_error("state file: path too long");
			goto out;
		}
		drop_state(tmp_state);
		memcpy(checked.state, tmp_state, strlen(tmp_state) + 1);
	}
	ret = check_member(abs_dir, &checked, &me, abs_keys, &cp);
	if (ret)
		goto out;
	if (pl_vkey_format(&p.log_key, &vk) != 0) {
		ret = PL_EXIT_USAGE;
		goto out;
	}
	/* Every check passed: the state in place, then the profile by an atomic rename. */
	ret = PL_EXIT_USAGE;
	if (tmp_state[0]) {
		int placed_ours = place_state(tmp_state, p.state);
		if (placed_ours < 0)
			goto out;
		tmp_state[0] = '\0';
		placed = placed_ours == 1;
	}
	err = pl_profile_save(&p, abs_dir, a->force, &why);
	if (err == PL_EEXIST) {
		cli_error("profile %s/%s exists; give --force to replace it", abs_dir,
		          PL_PROFILE_FILE);
		goto out;
	}
	if (err) {
		cli_error("profile %s/%s: %s", abs_dir, PL_PROFILE_FILE,
		          why ? why : cli_strerror(err));
		goto out;
	}
	placed = false;
	pl_b64_encode(root, cp.root, PL_HASH_BYTES);
	printf("profile %s\nexchange %s\norigin %s\nparty %s\nlog-key %.*s\nstate %s\n"
	       "checkpoint %llu %s\n",
	       abs_dir, p.exchange, p.origin, p.party, (int)vk.len, vk.data, p.state,
	       (unsigned long long)cp.size, root);
	ret = PL_EXIT_OK;
out:
	if (tmp_state[0])
		drop_state(tmp_state);
	if (placed)
		drop_state(p.state); /* made by this init, which failed after all */
	if (ret && made_dir)
		(void)rmdir(dir); /* only if still empty */
	pl_client_free(c);
	pl_party_clear(&me);
	pl_buf_release(&vk);
	return ret;
}

int cmd_init(int argc, char **argv)
{
	struct init_args a = {0};
	const struct cli_opt opts[] = {
	        CLI_OPT_STR('x', "exchange", &a.exchange, "URL",
	                    "the exchange's base URL (http:// or https://)"),
	        CLI_OPT_STR('p', "party", &a.party, "NAME", "the party this profile acts as"),
	        CLI_OPT_STR('k', "key-dir", &a.key_dir, "DIR", "the party's identity directory"),
	        CLI_OPT_STR('l', "log-key", &a.log_key, "VKEY",
	                    "the exchange's log verifier key, or a file holding it"),
	        CLI_OPT_PROFILE(&a.profile),
	        CLI_OPT_FLAG('f', "force", &a.force, "replace an existing profile"),
	        {0},
	};
	int ret;

	ret = cli_parse(&init_verb, opts, argc, argv, NULL);
	if (ret >= 0)
		goto out;
	if (!a.exchange || !a.party || !a.key_dir) {
		ret = cli_usage("init", "needs --exchange, --party and --key-dir");
		goto out;
	}
	if (!pl_party_name_is_valid(a.party, strlen(a.party))) {
		ret = cli_usage("init", "party '%s': not a party name ([a-z0-9-], 1 to 63)",
		                a.party);
		goto out;
	}
	ret = run_init(&a);
out:
	return ret;
}
