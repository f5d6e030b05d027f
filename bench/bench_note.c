/* Benchmark: checkpoints signed and opened per second, next to raw Ed25519 sign and verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <parley/checkpoint.h>
#include <parley/cosignature.h>

#include "bench_util.h"

#define SECONDS  1.0 /* per figure */
#define NWITNESS 3

static struct pl_skey log_sk, wit_sk[NWITNESS];
static struct pl_vkey log_vk, wit_vk[NWITNESS];
static struct pl_checkpoint cp;
static struct pl_buf text, signed_cp, cosigned_cp, out;
static uint8_t raw_sig[crypto_sign_BYTES];

static int op_raw_sign(void)
{
	return crypto_sign_detached(raw_sig, NULL, (const uint8_t *)text.data, text.len, log_sk.sk);
}

static int op_raw_verify(void)
{
	return crypto_sign_verify_detached(raw_sig, (const uint8_t *)text.data, text.len,
	                                   log_vk.pk);
}

static int op_sign(void)
{
	pl_buf_reset(&out);
	return pl_checkpoint_sign(&out, &cp, &log_sk);
}

static int op_open(void)
{
	struct pl_checkpoint got;

	return pl_checkpoint_open(&got, NULL, signed_cp.data, signed_cp.len, cp.origin, &log_vk, 1);
}

/* What a client does with a witnessed checkpoint: the log key, then each witness. */
static int op_open_cosigned(void)
{
	struct pl_checkpoint got;
	struct pl_note *n = NULL;
	int ret;

	ret = pl_checkpoint_open(&got, &n, cosigned_cp.data, cosigned_cp.len, cp.origin, &log_vk,
	                         1);
	if (ret == 0)
		ret = pl_note_verify(n, wit_vk, NWITNESS, NULL);
	pl_note_free(n);
	return ret;
}

static int op_cosign(void)
{
	pl_buf_reset(&out);
	return pl_cosignature_sign(&out, &wit_sk[0], 1700000000, text.data, text.len);
}

int main(void)
{
	uint8_t root[PL_HASH_BYTES];
	double sign_base, verify_base;
	int ret = 1;

	if (sodium_init() < 0)
		return 1;
	pl_buf_init(&text, PL_CHECKPOINT_MAX_BYTES);
	pl_buf_init(&signed_cp, PL_NOTE_MAX_BYTES);
	pl_buf_init(&cosigned_cp, PL_NOTE_MAX_BYTES);
	pl_buf_init(&out, PL_NOTE_MAX_BYTES);
	randombytes_buf(root, sizeof(root));
	if (pl_key_generate(&log_sk, &log_vk, "hotline.example", PL_SIGTYPE_ED25519) ||
	    pl_checkpoint_set(&cp, "hotline.example", 123456789, root) ||
	    pl_checkpoint_format(&cp, &text) || pl_checkpoint_sign(&signed_cp, &cp, &log_sk) ||
	    pl_buf_add(&cosigned_cp, signed_cp.data, signed_cp.len))
		goto out;
	for (int i = 0; i < NWITNESS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "witness%d.example", i);
		if (pl_key_generate(&wit_sk[i], &wit_vk[i], name, PL_SIGTYPE_COSIG_V1) ||
		    pl_cosignature_add(&cosigned_cp, &wit_sk[i], 1700000000 + (uint64_t)i))
			goto out;
	}

	sign_base = pl_bench_rate(op_raw_sign, 1, SECONDS);
	verify_base = pl_bench_rate(op_raw_verify, 1, SECONDS);
	if (sign_base <= 0 || verify_base <= 0)
		goto out;
	printf("baseline: raw Ed25519 sign of a %zu-byte checkpoint: %.0f ops/s\n", text.len,
	       sign_base);
	printf("baseline: raw Ed25519 verify of the same: %.0f ops/s\n", verify_base);
	/* The last: four signatures are checked per operation, the ideal is 0.25 x the baseline. */
	if (pl_bench_figure("checkpoints signed", op_sign, SECONDS, sign_base) ||
	    pl_bench_figure("cosignatures signed", op_cosign, SECONDS, sign_base) ||
	    pl_bench_figure("checkpoints opened (parse + verify, 1 log key)", op_open, SECONDS,
	                    verify_base) ||
	    pl_bench_figure("cosigned checkpoints opened (log key + 3 witnesses)", op_open_cosigned,
	                    SECONDS, verify_base))
		goto out;
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench_note: setup or operation failed\n");
	pl_skey_clear(&log_sk);
	for (int i = 0; i < NWITNESS; i++)
		pl_skey_clear(&wit_sk[i]);
	pl_buf_release(&text);
	pl_buf_release(&signed_cp);
	pl_buf_release(&cosigned_cp);
	pl_buf_release(&out);
	return ret;
}
