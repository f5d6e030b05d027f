/* libFuzzer target: the strict dossier parser, the offline verifier, and its three renderings. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/dossier.h>
#include <parley/encoding.h>
#include <parley/line_report.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The keys of tests/vectors/dossier/ (seed = SHA-256 of the key name), so seeds verify. */
static struct pl_vkey log_key, witness;

static void fixed_key(struct pl_vkey *vk, const char *name, uint8_t type)
{
	uint8_t seed[32], pk[32], sk[64];

	pl_sha256(seed, name, strlen(name));
	crypto_sign_seed_keypair(pk, sk, seed);
	memset(vk, 0, sizeof(*vk));
	memcpy(vk->name, name, strlen(name));
	vk->type = type;
	memcpy(vk->pk, pk, sizeof(pk));
	pl_key_id(vk->id, name, type, pk);
	sodium_memzero(sk, sizeof(sk));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		return -1;
	fixed_key(&log_key, "hotline.example", PL_SIGTYPE_ED25519);
	fixed_key(&witness, "witness.example", PL_SIGTYPE_COSIG_V1);
	return 0;
}

/* A successful report renders, in both forms, within bounded buffers. */
/* The offline line report of a verified dossier: it counts, or says why not. */
static void line_report(const struct pl_dossier_report *rep)
{
	struct pl_line_report lr;
	struct pl_buf why;
	bool first = false;
	int ret;

	memset(&lr, 0, sizeof(lr));
	pl_buf_init(&why, 4096);
	ret = pl_line_report_from_dossier(&lr, rep, &first, &why);
	if ((ret == 0) != (why.len == 0))
		abort();
	if (ret == 0 && (lr.n != lr.tally.checks + lr.tally.missed || lr.size != rep->size))
		abort();
	pl_line_report_release(&lr);
	pl_buf_release(&why);
}

static void render(const struct pl_dossier_report *rep)
{
	struct pl_buf b;

	pl_buf_init(&b, 1u << 24);
	if (pl_dossier_render_text(rep, &b) == 0 && strlen(b.data) != b.len)
		abort();
	pl_buf_reset(&b);
	if (pl_dossier_render_html(rep, &b) == 0 &&
	    (strncmp(b.data, "<!DOCTYPE html>", 15) != 0 || strstr(b.data, "<script")))
		abort();
	pl_buf_reset(&b);
	if (pl_dossier_render_json(rep, &b) == 0 &&
	    (b.len < 3 || b.data[0] != '{' || b.data[b.len - 1] != '\n'))
		abort();
	pl_buf_release(&b);
	line_report(rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data;
	struct pl_dossier_report *rep = NULL;
	struct pl_buf why;
	int ret;

	pl_buf_init(&why, 4096);
	/* As a reader who pinned both keys and requires the witness... */
	ret = pl_dossier_verify(&rep, json, size, &log_key, &witness, 1, 1, &why);
	if (ret == 0) {
		if (why.len != 0 || rep->witnesses_verified != 1 || !rep->has_bound ||
		    rep->ncosigners != 1 || rep->cosigners[0].time != rep->bound)
			abort();
		render(rep);
		pl_dossier_report_free(rep);
		rep = NULL;
	} else if (rep || why.len == 0) {
		/* Every failure says why, and sets nothing. */
		abort();
	}
	pl_buf_reset(&why);
	/* ...and as one who takes the dossier's own key and no witness. */
	if (pl_dossier_verify(&rep, json, size, NULL, NULL, 0, 0, &why) == 0) {
		if (rep->log_key_pinned)
			abort();
		render(rep);
		pl_dossier_report_free(rep);
	}
	pl_buf_release(&why);
	return 0;
}
