/* parley init: a profile that pins one exchange's origin and log key for one party. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/encoding.h>
#include <parley/enrolment.h>
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

/* Where the local state goes when the profile directory was not named: the user's data directory.
 */
static int state_dir(char out[static CLI_PATH_MAX])
{
	const char *base = getenv("XDG_DATA_HOME");
	int n;

	if (base && base[0] == '/') {
		n = snprintf(out, CLI_PATH_MAX, "%s/parley", base);
	} else {
		base = getenv("HOME");
		if (!base || base[0] != '/') {
			cli_error("no data directory for the local state: set HOME or give "
			          "--profile");
			return PL_EXIT_USAGE;
		}
		n = snprintf(out, CLI_PATH_MAX, "%s/.local/share/parley", base);
	}
	if (n < 0 || n >= CLI_PATH_MAX) {
		cli_error("state directory: path too long");
		return PL_EXIT_USAGE;
	}
	return PL_EXIT_OK;
}

/* Says loudly which log key was trusted on first use, so that it is checked out of band. */
static void warn_tofu(const struct pl_enrolment *e)
{
	struct pl_buf text;

	pl_buf_init(&text, PL_KEY_NAME_MAX + 128);
	if (pl_vkey_format(&e->profile.log_key, &text) == 0) {
		cli_error("WARNING: no --log-key given: trusting the log key exchange %s states on "
		          "first use:",
		          e->exchange);
		cli_error("WARNING:   %s", text.data);
		cli_error("WARNING: check it with the exchange's operator; every later checkpoint "
		          "must be signed by it.");
	}
	pl_buf_release(&text);
}

static int run_init(const struct init_args *a)
{
	struct pl_enrolment e = {.exchange = a->exchange,
	                         .party = a->party,
	                         .key_dir = a->key_dir,
	                         .force = a->force,
	                         .clock = session_now};
	struct pl_session s;
	struct pl_vkey log_key;
	struct pl_buf vk;
	char dir[CLI_PATH_MAX], sdir[CLI_PATH_MAX];
	char root[PL_B64_LEN(PL_HASH_BYTES) + 1];
	bool is_explicit = false;
	int ret;

	memset(&s, 0, sizeof(s));
	pl_buf_init(&vk, 1024);
	ret = session_profile_dir(dir, a->profile, &is_explicit);
	if (!ret && !is_explicit)
		ret = state_dir(sdir);
	if (!ret && a->log_key)
		ret = cli_vkey_arg(a->log_key, &log_key);
	if (ret)
		goto out;
	e.profile_dir = dir;
	e.state_dir = is_explicit ? NULL : sdir;
	e.log_key = a->log_key ? &log_key : NULL;
	ret = pl_enrol(&s, &e);
	if (e.trusted_on_first_use)
		warn_tofu(&e);
	ret = session_said(&s, ret);
	if (ret)
		goto out;
	if (e.not_member)
		cli_error("warning: %s is not (or no longer) a member of exchange %s; its operator "
		          "registers it with 'parleyd party add'",
		          e.profile.party, e.profile.origin);
	if (pl_vkey_format(&e.profile.log_key, &vk) != 0) {
		ret = PL_EXIT_USAGE;
		goto out;
	}
	pl_b64_encode(root, e.cp.root, PL_HASH_BYTES);
	printf("profile %s\nexchange %s\norigin %s\nparty %s\nlog-key %.*s\nstate %s\n"
	       "checkpoint %llu %s\n",
	       e.dir, e.profile.exchange, e.profile.origin, e.profile.party, (int)vk.len, vk.data,
	       e.profile.state, (unsigned long long)e.cp.size, root);
out:
	session_close(&s);
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
