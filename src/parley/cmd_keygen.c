/* parley keygen: a signing key pair, or a whole party identity, written to new files. */
#include "cli.h"

#include <getopt.h> /* optind */
#include <stdio.h>
#include <string.h>

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

static int keygen_plain(const char *name, const char *dir)
{
	struct pl_vkey vk;
	struct pl_buf path, text;
	int ret = PL_EXIT_USAGE, err;

	pl_buf_init(&path, CLI_PATH_MAX);
	pl_buf_init(&text, 1024);
	err = pl_key_create(dir, name, &vk, &path);
	if (err == PL_EINVAL)
		cli_error(
		        "key name '%s': not a valid key name (no spaces or '+', at most %d bytes)",
		        name, PL_KEY_NAME_MAX);
	else if (err == PL_EEXIST)
		cli_error("%s: already exists; not overwriting", path.data);
	else if (err == PL_ETOOBIG)
		cli_error("key file name for %s in %s: too long", name, dir);
	else if (err)
		cli_error("%s: %s", path.len ? path.data : name, cli_strerror(err));
	else if (pl_vkey_format(&vk, &text) || pl_buf_adds(&text, "\n"))
		cli_error("out of memory");
	else
		ret = cli_write_stdout(text.data, text.len);
	pl_buf_release(&path);
	pl_buf_release(&text);
	return ret;
}

static int keygen_party(const char *name, const char *origin, const char *dir)
{
	struct pl_party p;
	struct pl_buf out;
	int ret = PL_EXIT_USAGE, err;

	memset(&p, 0, sizeof(p));
	pl_buf_init(&out, 2048);
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
