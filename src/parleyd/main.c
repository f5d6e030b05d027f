/* parleyd: the exchange server's command line: init, party add/revoke, serve, verify. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/encoding.h>
#include <parley/exchange.h>
#include <parley/key.h>
#include <parley/note.h>
#include <parley/party.h>
#include <parley/record.h>

#include "config.h"
#include "control.h"
#include "daemon/cli.h"
#include "daemon/log.h"
#include "serve.h"
#include "witness_client.h"
#include "banned.h"

#ifndef PARLEY_VERSION
#define PARLEY_VERSION "unknown"
#endif

/* Exit codes, documented in parleyd(8). */
enum {
	EXIT_OK = PL_DAEMON_EXIT_OK,
	EXIT_FAIL = 1,                         /* the store does not hold together */
	EXIT_USAGE = PL_DAEMON_EXIT_USAGE,     /* usage, configuration or I/O error */
	EXIT_REFUSED = PL_DAEMON_EXIT_REFUSED, /* the exchange refused the operation */
};

#define MAIN_PATH_MAX 4096

static void usage(FILE *f)
{
	fputs("usage: parleyd init --origin ORIGIN --data DIR [--store postgresql://...]\n"
	      "       parleyd serve --data DIR [--listen HOST:PORT] [--config FILE]\n"
	      "       parleyd party add NAME --data DIR --vkey VKEY --enc-key KEY [--skey FILE]\n"
	      "       parleyd party add NAME --data DIR --identity DIR\n"
	      "       parleyd party revoke NAME --data DIR [--skey FILE | --identity DIR]\n"
	      "       parleyd party (add | revoke) NAME --data DIR --signed FILE\n"
	      "       parleyd party evict NAME --data DIR --reason TEXT\n"
	      "       parleyd verify --data DIR\n"
	      "       parleyd migrate --data DIR --to postgresql://...\n"
	      "       parleyd --help | --version\n"
	      "\n"
	      "VKEY and KEY are a key's text form or a file holding it. Register and revoke\n"
	      "records carry the party's signature: with its signer key (--skey, --identity)\n"
	      "it is made at once; without, the record text is printed for the party to sign,\n"
	      "and --signed logs the signed note. evict revokes a party's keys without its\n"
	      "signature: the revoke is the exchange's alone and says why (--reason).\n"
	      "verify checks a stopped exchange's whole\n"
	      "store, read-only: every record, every stored hash, every payload, the newest\n"
	      "checkpoint, and that the store holds what the published file says was signed.\n"
	      "migrate moves a stopped exchange's SQLite store into an empty PostgreSQL\n"
	      "database, compares everything it wrote, then verifies the store there.\n"
	      "See parleyd(8) and parleyd.conf(5).\n"
	      "While serve runs, party commands reach it through its control socket\n"
	      "(DIR/parleyd.sock); SIGHUP makes it reload its lines, auditors, witnesses and\n"
	      "request limits (parleyd.conf(5)).\n"
	      "Exit status: 0 ok, 1 the store does not hold together (damage found), 2 usage,\n"
	      "configuration or I/O error (or, for verify, the exchange is running), 3 the\n"
	      "exchange refused.\n",
	      f);
}

static int exit_code(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case PL_EEXIST:
	case PL_ENOTFOUND:
	case PL_ERULE:
	case PL_EDENIED:
	case PL_ECHAIN:
	case PL_EVERIFY:
		return EXIT_REFUSED;
	case PL_ESTORE:
	case PL_EDAMAGED:
	case PL_EPROOF:
		return EXIT_FAIL;
	default:
		return EXIT_USAGE;
	}
}

/* Builds DIR/file into out. */
static int main_path(char out[static MAIN_PATH_MAX], const char *dir, const char *file)
{
	int n = snprintf(out, MAIN_PATH_MAX, "%s/%s", dir, file);
	return n < 0 || n >= MAIN_PATH_MAX ? PL_ETOOBIG : 0;
}

static int cmd_init(int argc, char **argv)
{
	const char *origin = NULL, *dir = NULL, *store = NULL;
	const struct pl_daemon_opt opts[] = {
	        {.name = "origin", .letter = 'o', .str = &origin},
	        {.name = "data", .letter = 'd', .str = &dir},
	        {.name = "store", .letter = 's', .str = &store},
	        {.name = NULL},
	};
	struct pl_parleyd_config cfg;
	struct pl_vkey vk;
	char conf[MAIN_PATH_MAX];
	int code, ret;

	if (!pl_daemon_cli_opts(argc, argv, opts, &code))
		return code;
	if (!origin || !dir || optind != argc)
		return pl_daemon_cli_usage_error();
	if (pl_daemon_data_dir_make(dir) != 0)
		return EXIT_USAGE;
	ret = store ? pl_exchange_init_store(dir, origin, store, &vk)
	            : pl_exchange_init(dir, origin, &vk);
	if (ret == PL_EMALFORMED || ret == PL_ETOOBIG) {
		fprintf(stderr, "parleyd: --store: not a postgresql:// URI\n");
		return EXIT_USAGE;
	}
	if (ret)
		return pl_daemon_init_failed(dir, ret, "not a valid origin",
		                             "already holds an exchange");
	pl_parleyd_config_default(&cfg);
	snprintf(cfg.origin, sizeof(cfg.origin), "%s", origin);
	ret = main_path(conf, dir, PL_PARLEYD_CONF_FILE);
	if (!ret)
		ret = pl_parleyd_config_write(&cfg, conf);
	if (ret && ret != PL_EEXIST) {
		pl_daemon_fail(conf, ret, NULL);
		return EXIT_USAGE;
	}
	return pl_daemon_vkey_print(&vk);
}

/* Opens the exchange in dir for an operator command (no timers run). */
static int open_exchange(struct pl_exchange **ex, const char *dir)
{
	struct pl_exchange_options o;
	struct pl_buf err;
	int ret;

	pl_exchange_options_default(&o);
	o.manual_timers = true;
	o.readers = 1;
	o.batch_age_us = 0;
	pl_buf_init(&err, 1024);
	ret = pl_exchange_open(ex, dir, &o, &err);
	if (ret)
		pl_daemon_fail(dir, ret, err.data);
	pl_buf_release(&err);
	return ret;
}

/* Reads a whole small file (at most max bytes) into out. */
static int read_file(struct pl_buf *out, const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;
	int ret = 0;

	if (!f)
		return PL_EIO;
	while (!ret && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ret = out->len + n > max ? PL_ETOOBIG : pl_buf_add(out, chunk, n);
	if (!ret && ferror(f))
		ret = PL_EIO;
	fclose(f);
	return ret;
}

/* The arguments of `parleyd party add|revoke|evict`. */
struct party_args {
	const char *dir, *vkey, *ekey, *identity, *skey, *signed_file, *reason;
	const char *name;
	bool add, evict;
};

/*
 * Loads what the operator gave for the party: its signer key (--skey or
 * --identity) into *sk when the exchange can make the self-signature now,
 * and for a register the public keys as text.
 */
static int party_keys(const struct party_args *a, struct pl_skey **sk, struct pl_buf *vtext,
                      struct pl_buf *etext)
{
	struct pl_party *p = NULL;
	struct pl_vkey vk;
	struct pl_party_ekey ek;
	int ret = 0;

	if (a->identity) {
		p = sodium_malloc(sizeof(*p));
		ret = p ? pl_party_load(p, a->identity, a->name) : PL_ENOMEM;
		if (ret) {
			pl_daemon_fail(a->identity, ret, "cannot load the party's identity");
			goto out;
		}
		vk = p->vkey;
		ek = p->ekey;
		*sk = sodium_malloc(sizeof(**sk));
		if (!*sk) {
			ret = PL_ENOMEM;
			goto out;
		}
		**sk = p->skey;
	} else if (a->skey) {
		*sk = sodium_malloc(sizeof(**sk));
		ret = *sk ? pl_skey_load(*sk, a->skey) : PL_ENOMEM;
		if (ret) {
			pl_daemon_fail(a->skey, ret, "cannot load the party's signer key");
			goto out;
		}
	}
	if (a->add && a->vkey) {
		ret = pl_daemon_vkey_arg(&vk, a->vkey);
		if (ret)
			goto out;
		ret = pl_party_ekey_parse(&ek, a->ekey, strlen(a->ekey));
		if (ret)
			ret = pl_party_ekey_load(&ek, a->ekey);
		if (ret) {
			pl_daemon_fail("--enc-key", ret, a->ekey);
			goto out;
		}
	}
	if (a->add && (pl_vkey_format(&vk, vtext) || pl_party_ekey_format(&ek, etext))) {
		ret = PL_EKEY;
		pl_daemon_fail(a->name, ret, "cannot format the keys");
	}
out:
	if (p) {
		pl_party_clear(p);
		sodium_free(p);
	}
	return ret;
}

/*
 * Checks that a party-signed register or revoke is about the party and the
 * operation named on the command line.
 */
static int party_signed_matches(const struct party_args *a, const struct pl_buf *msg)
{
	struct pl_record *r = malloc(sizeof(*r));
	struct pl_note *n = NULL;
	int ret;

	ret = r ? pl_note_parse(&n, msg->data, msg->len) : PL_ENOMEM;
	if (!ret)
		ret = pl_record_parse(r, n->text, n->text_len, NULL);
	if (!ret && (strcmp(r->party, a->name) != 0 ||
	             r->kind != (a->add ? PL_KIND_REGISTER : PL_KIND_REVOKE)))
		ret = PL_EINVAL;
	pl_note_free(n);
	free(r);
	return ret;
}

/*
 * `parleyd party ...` on an exchange: the one opened here for the command
 * (served NULL), or the running `parleyd serve`'s exchange, for a client of
 * its control socket (control.c). Prints through pl_daemon_out() and
 * pl_daemon_err(), never stdout and stderr directly, so that both run it.
 * Returns the exit code.
 */
static int party_run(struct pl_exchange *served, int argc, char **argv)
{
	struct party_args a;
	const struct pl_daemon_opt opts[] = {
	        {.name = "data", .letter = 'd', .str = &a.dir, .once = true},
	        {.name = "vkey", .letter = 'v', .str = &a.vkey, .once = true},
	        {.name = "enc-key", .letter = 'e', .str = &a.ekey, .once = true},
	        {.name = "identity", .letter = 'i', .str = &a.identity, .once = true},
	        {.name = "skey", .letter = 's', .str = &a.skey, .once = true},
	        {.name = "signed", .letter = 'S', .str = &a.signed_file, .once = true},
	        {.name = "reason", .letter = 'r', .str = &a.reason, .once = true},
	        {.name = NULL},
	};
	struct pl_skey *sk = NULL;
	struct pl_exchange *ex = NULL;
	struct pl_receipt rc;
	struct pl_buf vtext, etext, msg;
	int ret, code = EXIT_USAGE;

	memset(&a, 0, sizeof(a));
	memset(&rc, 0, sizeof(rc));
	pl_buf_init(&vtext, 1024);
	pl_buf_init(&etext, 1024);
	pl_buf_init(&msg, PL_RECORD_MAX_BYTES);
	if (!pl_daemon_cli_opts(argc, argv, opts, &code))
		return code;
	if (!a.dir || argc - optind != 2)
		return pl_daemon_cli_usage_error();
	a.add = strcmp(argv[optind], "add") == 0;
	a.evict = strcmp(argv[optind], "evict") == 0;
	a.name = argv[optind + 1];
	if (a.evict != (a.reason != NULL) ||
	    (a.evict && (a.vkey || a.ekey || a.identity || a.skey || a.signed_file)))
		return pl_daemon_cli_usage_error();
	if (!a.evict &&
	    ((!a.add && strcmp(argv[optind], "revoke") != 0) || (!a.add && (a.vkey || a.ekey)) ||
	     (!a.vkey != !a.ekey) || (a.identity && (a.skey || a.vkey)) ||
	     (a.signed_file && (a.identity || a.skey || a.vkey)) ||
	     (a.add && !a.identity && !a.signed_file && !a.vkey)))
		return pl_daemon_cli_usage_error();
	if (a.evict) {
		/* Nothing of the party's to load: the exchange signs alone. */
	} else if (a.signed_file) {
		ret = read_file(&msg, a.signed_file, PL_RECORD_MAX_BYTES);
		if (!ret)
			ret = party_signed_matches(&a, &msg);
		if (ret) {
			pl_daemon_fail(a.signed_file, ret,
			               ret == PL_EINVAL
			                       ? "not this party's record for this operation"
			                       : NULL);
			goto out;
		}
	} else if (party_keys(&a, &sk, &vtext, &etext) != 0) {
		goto out;
	}
	ret = served ? 0 : open_exchange(&ex, a.dir);
	if (ret) {
		code = exit_code(ret);
		goto out;
	}
	if (served)
		ex = served;
	if (a.evict) {
		/* docs/records.md §6: the operator acts alone, and the record says why. */
		ret = pl_exchange_party_evict(ex, a.name, a.reason, &rc);
	} else if (a.signed_file) {
		ret = pl_exchange_party_complete(ex, msg.data, msg.len, &rc);
	} else if (!sk) {
		/* docs/records.md: the party signs the text the exchange prepares. */
		pl_buf_reset(&msg);
		ret = pl_exchange_party_prepare(ex, !a.add, a.name, vtext.data, etext.data, &msg);
		if (!ret) {
			fputs(msg.data, pl_daemon_out());
			fprintf(pl_daemon_err(),
			        "parleyd: %s: the record above must carry the party's signature: "
			        "have "
			        "it signed with the party's key (parley note sign), then run "
			        "'parleyd party %s %s --data %s --signed FILE' before the exchange "
			        "logs anything else\n",
			        a.name, a.add ? "add" : "revoke", a.name, a.dir);
			code = EXIT_OK;
			goto out;
		}
	} else if (a.add) {
		ret = pl_exchange_party_add(ex, a.name, vtext.data, etext.data, sk, 1, &rc);
	} else {
		ret = pl_exchange_party_revoke(ex, a.name, sk, 1, &rc);
	}
	if (ret) {
		char detail[512];
		pl_exchange_last_error(ex, detail, sizeof(detail));
		pl_daemon_fail(a.name, ret,
		               ret == PL_ESTORE ? detail
		               : ret == PL_EMALFORMED && a.evict
		                       ? "the reason must be one line of text, 1 to 280 bytes"
		               : ret == PL_ECHAIN
		                       ? "the exchange logged other records since; prepare again"
		                       : NULL);
		code = exit_code(ret);
		goto out;
	}
	{
		char hex[PL_HASH_HEX_LEN + 1];
		pl_hex_encode(hex, rc.id, PL_HASH_BYTES);
		fprintf(pl_daemon_out(), "%s %s index %llu record %s\n",
		        a.add     ? "registered"
		        : a.evict ? "evicted"
		                  : "revoked",
		        a.name, (unsigned long long)rc.index, hex);
	}
	code = EXIT_OK;
out:
	pl_receipt_release(&rc);
	if (ex != served)
		pl_exchange_close(ex);
	if (sk) {
		pl_skey_clear(sk);
		sodium_free(sk);
	}
	pl_buf_release(&vtext);
	pl_buf_release(&etext);
	pl_buf_release(&msg);
	return code;
}

/* The value of the --data (-d) option in a command's argv, or NULL. */
static const char *party_data_dir(int argc, char **argv)
{
	const char *dir = NULL;

	for (int i = 1; i < argc && !dir && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "--data") == 0 || strcmp(a, "-d") == 0) && i + 1 < argc)
			dir = argv[i + 1];
		else if (strncmp(a, "--data=", 7) == 0)
			dir = a + 7;
		else if (strncmp(a, "-d", 2) == 0 && a[2])
			dir = a + 2;
	}
	return dir;
}

/* The control socket's runner: a party command on the serving exchange (arg). */
static int party_served(void *arg, int argc, char **argv)
{
	return party_run(arg, argc, argv);
}

/*
 * `parleyd party ...`: every party command, whatever its verb, goes to the
 * running `parleyd serve` of the data directory when one listens on its
 * control socket (the exchange is open there); otherwise it runs here on the
 * exchange it opens. Same messages and exit codes either way.
 */
static int cmd_party(int argc, char **argv)
{
	const char *dir = party_data_dir(argc, argv);
	bool help = false;
	int code = EXIT_USAGE, ret;

	for (int i = 1; i < argc && !help; i++)
		help = strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
	/* No server to ask (or help asked for): the command runs here. */
	ret = dir && !help ? pl_parleyd_control_call(dir, argc, argv, &code) : PL_ENOTFOUND;
	if (ret == PL_ENOTFOUND) {
		code = party_run(NULL, argc, argv);
	} else if (ret) {
		pl_daemon_fail(PL_PARLEYD_CONTROL_FILE, ret,
		               "cannot reach the exchange serving this data directory");
		code = ret == PL_EDENIED ? EXIT_REFUSED : EXIT_USAGE;
	}
	return code;
}

/*
 * Opens the exchange in dir for `serve`. With witnesses configured it first
 * opens it with no timers and asks them what they cosigned
 * (pl_parleyd_witness_check()) before anything can be sequenced; refused
 * (PL_EINCONSISTENT) when a witness is ahead of the store.
 */
static int serve_open(struct pl_exchange **ex, const char *dir, const struct pl_parleyd_config *cfg,
                      struct pl_buf *err)
{
	struct pl_exchange_options o = cfg->ex;
	int ret = 0;

	if (cfg->nwitnesses) {
		o.manual_timers = true;
		ret = pl_exchange_open(ex, dir, &o, err);
		if (!ret)
			ret = pl_parleyd_witness_check(*ex, cfg);
		pl_exchange_close(*ex);
		*ex = NULL;
	}
	if (!ret)
		ret = pl_exchange_open(ex, dir, &cfg->ex, err);
	return ret;
}

/* Where `parleyd serve` reads its configuration, at start and again on SIGHUP. */
struct serve_source {
	const char *path;   /* parleyd.conf, or --config */
	bool optional;      /* the data directory's own file may be missing */
	const char *listen; /* --listen, over the file's, or NULL */
};

/* Sets cfg's listen address to listen (--listen). Returns 0 or PL_EMALFORMED. */
static int serve_listen_apply(struct pl_parleyd_config *cfg, const char *listen)
{
	struct pl_parleyd_config *tmp = malloc(sizeof(*tmp));
	char line[PL_PARLEYD_LISTEN_MAX + 16];
	int n = snprintf(line, sizeof(line), "listen = %s\n", listen), ret;

	if (!tmp)
		return PL_ENOMEM;
	*tmp = *cfg;
	ret = n < 0 || (size_t)n >= sizeof(line) ||
	                      pl_parleyd_config_parse(tmp, line, (size_t)n, NULL) != 0
	              ? PL_EMALFORMED
	              : 0;
	if (!ret)
		*cfg = *tmp;
	free(tmp);
	return ret;
}

/* SIGHUP: the configuration loaded as at start (arg: the struct serve_source) into *next. */
static int serve_reload(void *arg, struct pl_parleyd_config *next, struct pl_buf *err)
{
	const struct serve_source *src = arg;
	int ret = pl_parleyd_config_load(next, src->path, err);

	if (ret == PL_ENOTFOUND && src->optional)
		ret = 0;
	if (!ret && src->listen && serve_listen_apply(next, src->listen) != 0) {
		ret = PL_EMALFORMED;
		(void)!pl_buf_addf(err, "--listen: %s", src->listen);
	}
	if (ret && err && !err->len)
		(void)!pl_buf_addf(err, "%s: %s", src->path, pl_strerror(ret));
	return ret;
}

static int cmd_serve(int argc, char **argv)
{
	const char *dir = NULL, *listen = NULL, *cpath = NULL;
	const struct pl_daemon_opt opts[] = {
	        {.name = "data", .letter = 'd', .str = &dir},
	        {.name = "listen", .letter = 'l', .str = &listen},
	        {.name = "config", .letter = 'c', .str = &cpath},
	        {.name = NULL},
	};
	struct pl_parleyd_config cfg;
	struct pl_exchange *ex = NULL;
	struct serve_source src;
	struct pl_parleyd_serve_hooks hooks;
	struct pl_buf err;
	char conf[MAIN_PATH_MAX];
	int ret, code = EXIT_USAGE;

	if (!pl_daemon_cli_opts(argc, argv, opts, &code))
		return code;
	if (!dir || optind != argc)
		return pl_daemon_cli_usage_error();
	pl_buf_init(&err, 1024);
	pl_parleyd_config_default(&cfg);
	if (!cpath) {
		if (main_path(conf, dir, PL_PARLEYD_CONF_FILE) != 0) {
			pl_daemon_fail(dir, PL_ETOOBIG, NULL);
			goto out;
		}
		cpath = conf;
	}
	src.path = cpath;
	src.optional = cpath == conf;
	src.listen = listen;
	ret = pl_parleyd_config_load(&cfg, cpath, &err);
	if (ret && !(ret == PL_ENOTFOUND && src.optional)) {
		pl_daemon_fail(cpath, ret, err.data);
		goto out;
	}
	if (listen && serve_listen_apply(&cfg, listen) != 0) {
		pl_daemon_fail("--listen", PL_EMALFORMED, listen);
		goto out;
	}
	pl_buf_reset(&err);
	ret = serve_open(&ex, dir, &cfg, &err);
	if (ret == PL_EINCONSISTENT) {
		pl_daemon_log("error", "open",
		              "data=%s error=\"%s\" detail=\"a witness cosigned more than the "
		              "store holds; not serving\"",
		              dir, pl_strerror(ret));
		code = EXIT_FAIL;
		goto out;
	}
	if (ret) {
		/* A store behind what was published names both sizes and the recovery. */
		pl_daemon_log("error", "open", "data=%s error=\"%s\" detail=\"%s\"", dir,
		              pl_strerror(ret), err.data ? err.data : "");
		code = exit_code(ret);
		goto out;
	}
	if (cfg.origin[0] && strcmp(cfg.origin, pl_exchange_origin(ex)) != 0) {
		pl_daemon_log("error", "config",
		              "msg=\"origin differs from the store's\" origin=%s", cfg.origin);
		goto out;
	}
	snprintf(cfg.origin, sizeof(cfg.origin), "%s", pl_exchange_origin(ex));
	pl_daemon_log("info", "start", "origin=%s listen=%s size=%llu", cfg.origin, cfg.listen,
	              (unsigned long long)pl_exchange_size(ex));
	/* The HTTP server and the control socket (serve.c) run until SIGTERM or SIGINT. */
	memset(&hooks, 0, sizeof(hooks));
	hooks.dir = dir;
	hooks.control = party_served;
	hooks.control_arg = ex;
	hooks.reload = serve_reload;
	hooks.reload_arg = &src;
	ret = pl_parleyd_serve(ex, &cfg, &hooks);
	pl_exchange_shutdown(ex);
	pl_daemon_log("info", "stop", "size=%llu status=\"%s\"",
	              (unsigned long long)pl_exchange_size(ex), pl_strerror(ret));
	code = ret ? EXIT_USAGE : EXIT_OK;
out:
	pl_exchange_close(ex);
	pl_buf_release(&err);
	return code;
}

/* What `parleyd verify` shows while it runs: a line redrawn in place on a terminal. */
struct verify_view {
	bool tty;
	bool drawn;
	struct timespec t0;
};

static double verify_elapsed(const struct verify_view *v)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - v->t0.tv_sec) + (double)(t.tv_nsec - v->t0.tv_nsec) / 1e9;
}

static void verify_progress(void *arg, const char *phase, uint64_t done, uint64_t total)
{
	struct verify_view *v = arg;
	double s = verify_elapsed(v);

	if (!v->tty)
		return;
	fprintf(stderr, "\r\033[Kparleyd: verify: %s %llu/%llu (%.0f/s)", phase,
	        (unsigned long long)done, (unsigned long long)total,
	        s > 0 ? (double)done / s : 0.0);
	v->drawn = true;
}

static void verify_clear(struct verify_view *v)
{
	if (v->drawn)
		fputs("\r\033[K", stderr);
	v->drawn = false;
}

static void verify_finding(void *arg, const char *what)
{
	struct verify_view *v = arg;

	verify_clear(v);
	printf("damaged: %s\n", what);
	fflush(stdout);
}

/*
 * parleyd verify: the whole store of a stopped exchange, read-only
 * (pl_exchange_verify() decides; this prints). Exit 0 sound, 1 damage found,
 * 2 usage or I/O, or the exchange running.
 */
static int verify_dir(const char *dir)
{
	struct verify_view v = {.tty = isatty(STDERR_FILENO) == 1};
	struct pl_exchange_verify_cb cb = {verify_progress, verify_finding, &v};
	struct pl_exchange_verify_stats st;
	struct pl_buf err;
	int code, ret;

	memset(&st, 0, sizeof(st));
	pl_buf_init(&err, 1024);
	clock_gettime(CLOCK_MONOTONIC, &v.t0);
	ret = pl_exchange_verify(dir, &cb, &st, &err);
	verify_clear(&v);
	if (ret == 0 || ret == PL_EDAMAGED) {
		printf("%s: tree size %llu, %llu records, %llu interior hashes, %llu index roots "
		       "and "
		       "%llu payloads checked in %.1f s: %s",
		       dir, (unsigned long long)st.size, (unsigned long long)st.records,
		       (unsigned long long)st.hashes, (unsigned long long)st.indexes,
		       (unsigned long long)st.payloads, verify_elapsed(&v),
		       ret ? "DAMAGED" : "sound");
		if (ret)
			printf(", %llu finding%s%s", (unsigned long long)st.findings,
			       st.findings == 1 ? "" : "s",
			       st.findings > PL_EXCHANGE_VERIFY_FINDINGS_MAX
			               ? " (the first ones shown)"
			               : "");
		printf("\n");
		code = ret ? EXIT_FAIL : EXIT_OK;
	} else {
		pl_daemon_fail(dir, ret, err.data);
		code = EXIT_USAGE;
	}
	pl_buf_release(&err);
	return code;
}

static int cmd_verify(int argc, char **argv)
{
	const char *dir = NULL;
	const struct pl_daemon_opt opts[] = {
	        {.name = "data", .letter = 'd', .str = &dir},
	        {.name = NULL},
	};
	int code;

	if (!pl_daemon_cli_opts(argc, argv, opts, &code))
		return code;
	if (!dir || optind != argc)
		return pl_daemon_cli_usage_error();
	return verify_dir(dir);
}

/*
 * parleyd migrate: a stopped exchange's SQLite store moved into PostgreSQL
 * (pl_exchange_migrate() copies and compares), then the whole store verified
 * where it now is, as parleyd verify does. Exit 0 moved and sound, 1 damage
 * found after the move, 2 usage, I/O or a copy that failed (nothing changed).
 */
static int cmd_migrate(int argc, char **argv)
{
	const char *dir = NULL, *to = NULL;
	const struct pl_daemon_opt opts[] = {
	        {.name = "data", .letter = 'd', .str = &dir},
	        {.name = "to", .letter = 't', .str = &to},
	        {.name = NULL},
	};
	struct pl_buf err;
	int code, ret;

	if (!pl_daemon_cli_opts(argc, argv, opts, &code))
		return code;
	if (!dir || !to || optind != argc)
		return pl_daemon_cli_usage_error();
	pl_buf_init(&err, 1024);
	ret = pl_exchange_migrate(dir, to, &err);
	if (ret) {
		pl_daemon_fail(dir, ret, err.data);
		pl_buf_release(&err);
		return EXIT_USAGE;
	}
	pl_buf_release(&err);
	fprintf(stderr, "parleyd: %s: store moved to PostgreSQL; verifying it there\n", dir);
	return verify_dir(dir);
}

int main(int argc, char **argv)
{
	static const struct pl_daemon_cmd cmds[] = {
	        {"init", NULL, cmd_init},       {"serve", NULL, cmd_serve},
	        {"party", NULL, cmd_party},     {"verify", NULL, cmd_verify},
	        {"migrate", NULL, cmd_migrate}, {NULL, NULL, NULL},
	};
	static const struct pl_daemon_cli cli = {
	        .name = "parleyd",
	        .version = PARLEY_VERSION,
	        .usage = usage,
	        .cmds = cmds,
	};

	return pl_daemon_cli_main(&cli, argc, argv);
}
