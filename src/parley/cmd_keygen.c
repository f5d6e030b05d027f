/* parley keygen: a signing key pair, or a whole party identity, written to new files. */
#include "cli.h"

#include <errno.h>
#include <getopt.h> /* optind */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/key.h>
#include <parley/party.h>

#include "banned.h"

static const struct cli_verb keygen_verb = {
        .name = "keygen",
        .synopsis = "NAME [--out DIR]\n"
                    "       parley keygen --party NAME --exchange ORIGIN [--out DIR]",
        .own_operands = true,
        .about = "The first form makes an Ed25519 signed-note key pair named NAME and writes\n"
                 "DIR/NAME.skey (the signer key, mode 0600) and DIR/NAME.vkey (the verifier\n"
                 "key); a '/' in NAME becomes '_' in the file names. It prints the verifier key.\n"
                 "\n"
                 "The second form makes the identity of party NAME (lowercase letters, digits\n"
                 "and '-') at the exchange ORIGIN: an Ed25519 signing key named ORIGIN/NAME in\n"
                 "DIR/NAME.skey (0600) and DIR/NAME.vkey, and an X25519 encryption key pair in\n"
                 "DIR/NAME.dkey (secret, 0600) and DIR/NAME.ekey (public). DIR is created\n"
                 "(0700) if missing. It prints the verifier key, then the encryption key.\n"
                 "\n"
                 "Existing files are never overwritten: if one exists, nothing is written.\n",
};

/* Room for any key text, reserved up front so that secret text is never copied by realloc. */
#define KEY_TEXT_ROOM 1024

/* Builds dir/<name with '/' as '_'><suffix> into out. Returns PL_EXIT_OK or PL_EXIT_USAGE. */
static int key_path(struct pl_buf *out, const char *dir, const char *name, const char *suffix)
{
	int ret = PL_EXIT_USAGE;

	pl_buf_reset(out);
	if (pl_buf_adds(out, dir) || pl_buf_adds(out, "/"))
		goto toolong;
	for (const char *p = name; *p; p++) {
		char c = *p == '/' ? '_' : *p;
		if (pl_buf_add(out, &c, 1))
			goto toolong;
	}
	if (pl_buf_adds(out, suffix))
		goto toolong;
	ret = PL_EXIT_OK;
	goto out;
toolong:
	cli_error("key file name for %s in %s: too long", name, dir);
out:
	return ret;
}

/* Refuses an existing file (or a dangling link) before anything is written. */
static int check_absent(const char *path)
{
	struct stat st;
	int ret = PL_EXIT_USAGE;

	if (lstat(path, &st) == 0) {
		cli_error("%s: already exists; not overwriting", path);
		goto out;
	}
	if (errno != ENOENT) {
		cli_error("%s: %s", path, strerror(errno));
		goto out;
	}
	ret = PL_EXIT_OK;
out:
	return ret;
}

/* Writes the text of a new file with pl_key_save(); reports the reason. */
static int save(const char *path, const char *text, size_t len, unsigned mode)
{
	int err = pl_key_save(path, text, len, mode);

	if (err == PL_EIO && errno == EEXIST)
		cli_error("%s: already exists; not overwriting", path);
	else if (err)
		cli_error("%s: %s", path, cli_strerror(err));
	return err ? PL_EXIT_USAGE : PL_EXIT_OK;
}

static int keygen_plain(const char *name, const char *dir)
{
	struct pl_skey sk;
	struct pl_vkey vk;
	struct pl_buf skpath, vkpath, sktext, vktext;
	bool wrote_skey = false;
	int ret = PL_EXIT_USAGE, err;

	memset(&sk, 0, sizeof(sk));
	pl_buf_init(&skpath, CLI_PATH_MAX);
	pl_buf_init(&vkpath, CLI_PATH_MAX);
	pl_buf_init(&sktext, KEY_TEXT_ROOM);
	pl_buf_init(&vktext, KEY_TEXT_ROOM);

	if (!pl_key_name_is_valid(name, strlen(name))) {
		cli_error(
		        "key name '%s': not a valid key name (no spaces or '+', at most %d bytes)",
		        name, PL_KEY_NAME_MAX);
		goto out;
	}
	if (key_path(&skpath, dir, name, ".skey") || key_path(&vkpath, dir, name, ".vkey"))
		goto out;
	if (check_absent(skpath.data) || check_absent(vkpath.data))
		goto out;

	err = pl_key_generate(&sk, &vk, name, PL_SIGTYPE_ED25519);
	if (err) {
		cli_error("key %s: %s", name, pl_strerror(err));
		goto out;
	}
	/* Reserve the whole room, then empty it: formatting will not reallocate. */
	if (pl_buf_addf(&sktext, "%*s", KEY_TEXT_ROOM - 1, "")) {
		cli_error("out of memory");
		goto out;
	}
	pl_buf_reset(&sktext);
	err = pl_skey_format(&sk, &sktext);
	if (!err)
		err = pl_vkey_format(&vk, &vktext);
	if (err) {
		cli_error("key %s: %s", name, pl_strerror(err));
		goto out;
	}
	if (save(skpath.data, sktext.data, sktext.len, 0600))
		goto out;
	wrote_skey = true;
	if (save(vkpath.data, vktext.data, vktext.len, 0644))
		goto out;
	wrote_skey = false;
	if (pl_buf_adds(&vktext, "\n")) {
		cli_error("out of memory");
		goto out;
	}
	ret = cli_write_stdout(vktext.data, vktext.len);
out:
	/* A lone signer key without its verifier key is of no use: take it back. */
	if (wrote_skey)
		unlink(skpath.data);
	pl_skey_clear(&sk);
	if (sktext.data)
		sodium_memzero(sktext.data, sktext.cap);
	pl_buf_release(&sktext);
	pl_buf_release(&vktext);
	pl_buf_release(&skpath);
	pl_buf_release(&vkpath);
	return ret;
}

static int keygen_party(const char *name, const char *origin, const char *dir)
{
	struct pl_party p;
	struct pl_buf out;
	int ret = PL_EXIT_USAGE, err;

	memset(&p, 0, sizeof(p));
	pl_buf_init(&out, 2 * KEY_TEXT_ROOM);
	if (!pl_party_name_is_valid(name, strlen(name))) {
		cli_error(
		        "party name '%s': not valid (1 to %d of a-z, 0-9 and '-', not starting or "
		        "ending with '-', not '%s')",
		        name, PL_PARTY_NAME_MAX, PL_PARTY_RESERVED);
		goto out;
	}
	if (pl_party_key_name(&out, origin, name) != 0) {
		cli_error("exchange origin '%s': %s/%s is not a valid key name", origin, origin,
		          name);
		goto out;
	}
	pl_buf_reset(&out);
	err = pl_party_create(&p, dir, origin, name);
	if (err == PL_EEXIST) {
		cli_error("%s/%s: a key file of this party already exists; not overwriting", dir,
		          name);
		goto out;
	}
	if (err) {
		cli_error("party %s in %s: %s", name, dir, cli_strerror(err));
		goto out;
	}
	if (pl_vkey_format(&p.vkey, &out) || pl_buf_adds(&out, "\n") ||
	    pl_party_ekey_format(&p.ekey, &out) || pl_buf_adds(&out, "\n")) {
		cli_error("party %s: cannot format its public keys", name);
		goto out;
	}
	ret = cli_write_stdout(out.data, out.len);
out:
	pl_party_clear(&p);
	pl_buf_release(&out);
	return ret;
}

int cmd_keygen(int argc, char **argv)
{
	const char *dir = ".", *party = NULL, *exchange = NULL;
	const struct cli_opt opts[] = {
	        CLI_OPT_STR('o', "out", &dir, "DIR", "directory for the key files (default: .)"),
	        CLI_OPT_STR('p', "party", &party, "NAME", "make a party identity named NAME"),
	        CLI_OPT_STR('e', "exchange", &exchange, "ORIGIN",
	                    "the exchange the party belongs to (with --party)"),
	        {0},
	};
	int ret;

	ret = cli_parse(&keygen_verb, opts, argc, argv, NULL);
	if (ret >= 0)
		goto out;
	if (party) {
		if (!exchange) {
			ret = cli_usage("keygen", "--party needs --exchange ORIGIN");
			goto out;
		}
		if (argc != optind) {
			ret = cli_usage("keygen", "unexpected argument '%s' with --party",
			                argv[optind]);
			goto out;
		}
		ret = keygen_party(party, exchange, dir);
		goto out;
	}
	if (exchange) {
		ret = cli_usage("keygen", "--exchange goes with --party");
		goto out;
	}
	if (argc - optind != 1) {
		ret = cli_usage("keygen", argc - optind ? "too many arguments" : "missing NAME");
		goto out;
	}
	ret = keygen_plain(argv[optind], dir);
out:
	return ret;
}
