/* Benchmark: payload blobs sealed and opened per second, next to raw X25519 and Ed25519 verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <parley/box.h>

#include "bench_util.h"

#define BODY_BYTES 1024
#define NREADERS   3
#define SECONDS    1.0 /* per figure */

static struct pl_box_keypair readers[NREADERS];
static uint8_t reader_pks[NREADERS][PL_BOX_PK_BYTES];
static uint8_t body[BODY_BYTES];
static uint8_t *blob, commit[PL_BOX_COMMIT_BYTES];
static size_t blob_len;

static uint8_t scalar[crypto_scalarmult_SCALARBYTES], point[crypto_scalarmult_BYTES];
static uint8_t sign_pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES], msg[128];

static int op_x25519(void)
{
	uint8_t q[crypto_scalarmult_BYTES];

	return crypto_scalarmult(q, scalar, point);
}

static int op_verify(void)
{
	return crypto_sign_verify_detached(sig, msg, sizeof(msg), sign_pk);
}

static int op_seal(void)
{
	uint8_t *b, c[PL_BOX_COMMIT_BYTES];
	size_t len;
	int ret;

	ret = pl_box_seal(&b, &len, c, NULL, body, sizeof(body),
	                  (const uint8_t(*)[PL_BOX_PK_BYTES])reader_pks, NREADERS);
	if (ret == 0)
		free(b);
	return ret;
}

static int op_open(void)
{
	uint8_t *pt, salt[PL_BOX_SALT_BYTES];
	size_t len;
	int ret;

	/* The last reader: its slot is found by tag, not by trying the others. */
	ret = pl_box_open(&pt, &len, salt, blob, blob_len, &readers[NREADERS - 1], commit);
	if (ret == 0)
		pl_box_plaintext_free(pt, len);
	return ret;
}

int main(void)
{
	uint8_t sign_sk[crypto_sign_SECRETKEYBYTES];
	double x25519, verify, seal, open;

	if (sodium_init() < 0)
		return 2;
	for (size_t i = 0; i < NREADERS; i++) {
		pl_box_keypair_generate(&readers[i]);
		memcpy(reader_pks[i], readers[i].pk, PL_BOX_PK_BYTES);
	}
	randombytes_buf(body, sizeof(body));
	randombytes_buf(scalar, sizeof(scalar));
	crypto_scalarmult_base(point, readers[0].sk);
	randombytes_buf(msg, sizeof(msg));
	crypto_sign_keypair(sign_pk, sign_sk);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sign_sk);
	sodium_memzero(sign_sk, sizeof(sign_sk));
	if (pl_box_seal(&blob, &blob_len, commit, NULL, body, sizeof(body),
	                (const uint8_t(*)[PL_BOX_PK_BYTES])reader_pks, NREADERS) != 0)
		return 1;

	x25519 = pl_bench_rate(op_x25519, 1, SECONDS);
	verify = pl_bench_rate(op_verify, 1, SECONDS);
	seal = pl_bench_rate(op_seal, 1, SECONDS);
	open = pl_bench_rate(op_open, 1, SECONDS);
	if (x25519 <= 0 || verify <= 0 || seal <= 0 || open <= 0) {
		fprintf(stderr, "bench_box: an operation failed\n");
		return 1;
	}
	printf("x25519_scalarmult: %.0f ops/s (baseline)\n", x25519);
	printf("ed25519_verify_128B: %.0f ops/s (baseline)\n", verify);
	printf("box_seal_1KiB_3_readers: %.0f ops/s (%.2f x x25519_scalarmult, %.2f x "
	       "ed25519_verify_128B)\n",
	       seal, seal / x25519, seal / verify);
	printf("box_open_1KiB_3_readers: %.0f ops/s (%.2f x x25519_scalarmult, %.2f x "
	       "ed25519_verify_128B)\n",
	       open, open / x25519, open / verify);
	free(blob);
	for (size_t i = 0; i < NREADERS; i++)
		pl_box_keypair_clear(&readers[i]);
	return 0;
}
