/* Witness cosignatures, c2sp.org/tlog-cosignature v1 (Ed25519, timestamped, key type 0x04). */
#include <parley/cosignature.h>

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include <parley/encoding.h>
#include <parley/limits.h>

#include "internal.h"

/* "time " and at most 19 digits (2^63 - 1) and a newline. */
#define TIME_LINE_MAX (5 + 19 + 1)
#define PREFIX_MAX    (sizeof(PL_COSIGNATURE_HEADER) - 1 + TIME_LINE_MAX)

/* Checkpoints are small: their message is built on the stack, larger texts on the heap. */
#define STACK_MSG_MAX (PREFIX_MAX + PL_CHECKPOINT_MAX_BYTES)

/*
 * Builds the signed message in *msg: either stack (STACK_MSG_MAX bytes) or a
 * fresh allocation (*heap, to free). Returns 0 or PL_ENOMEM.
 */
static int build_message(uint8_t **msg, size_t *msg_len, uint8_t *stack, uint8_t **heap,
                         uint64_t timestamp, const char *text, size_t len)
{
	char prefix[PREFIX_MAX + 1];
	int plen;
	uint8_t *p = stack;

	plen = snprintf(prefix, sizeof(prefix), PL_COSIGNATURE_HEADER "time %" PRIu64 "\n",
	                timestamp);
	if (plen < 0 || (size_t)plen >= sizeof(prefix))
		return PL_EINVAL;
	*heap = NULL;
	if (len > STACK_MSG_MAX - (size_t)plen) {
		*heap = malloc((size_t)plen + len);
		if (!*heap)
			return PL_ENOMEM;
		p = *heap;
	}
	memcpy(p, prefix, (size_t)plen);
	if (len)
		memcpy(p + plen, text, len);
	*msg = p;
	*msg_len = (size_t)plen + len;
	return 0;
}

int pl_cosignature_message(struct pl_buf *out, uint64_t timestamp, const char *text, size_t len)
{
	size_t old = out->len;
	int ret;

	if (timestamp > PL_COSIGNATURE_MAX_TIME || !pl_note_text_is_valid(text, len)) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_buf_addf(out, PL_COSIGNATURE_HEADER "time %" PRIu64 "\n", timestamp);
	if (!ret)
		ret = pl_buf_add(out, text, len);
	if (ret)
		pl__buf_truncate(out, old);
out:
	return ret;
}

/* Signs text at timestamp into raw = timestamp (8, big-endian) || Ed25519 signature (64). */
static int cosign_raw(uint8_t raw[static PL_COSIGNATURE_SIG_BYTES], const struct pl_skey *key,
                      uint64_t timestamp, const char *text, size_t len)
{
	uint8_t stack[STACK_MSG_MAX];
	uint8_t *msg, *heap = NULL;
	size_t msg_len;
	int ret;

	if (key->type != PL_SIGTYPE_COSIG_V1 ||
	    !pl_key_name_is_valid(key->name, strnlen(key->name, PL_KEY_NAME_MAX + 1)) ||
	    timestamp > PL_COSIGNATURE_MAX_TIME || !pl_note_text_is_valid(text, len)) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = build_message(&msg, &msg_len, stack, &heap, timestamp, text, len);
	if (ret)
		goto out;
	pl__put_be64(raw, timestamp);
	crypto_sign_detached(raw + 8, NULL, msg, msg_len, key->sk);
out:
	free(heap);
	return ret;
}

int pl_cosignature_sign(struct pl_buf *line, const struct pl_skey *key, uint64_t timestamp,
                        const char *text, size_t len)
{
	uint8_t raw[PL_KEYID_BYTES + PL_COSIGNATURE_SIG_BYTES];
	size_t old = line->len;
	int ret;

	ret = cosign_raw(raw + PL_KEYID_BYTES, key, timestamp, text, len);
	if (ret)
		goto out;
	memcpy(raw, key->id, PL_KEYID_BYTES);
	ret = pl_buf_adds(line, "\xe2\x80\x94 ");
	if (!ret)
		ret = pl_buf_adds(line, key->name);
	if (!ret)
		ret = pl_buf_add(line, " ", 1);
	if (!ret)
		ret = pl_b64_append(line, raw, sizeof(raw));
	if (!ret)
		ret = pl_buf_add(line, "\n", 1);
	if (ret)
		pl__buf_truncate(line, old);
out:
	return ret;
}

int pl_cosignature_add(struct pl_buf *msg, const struct pl_skey *key, uint64_t timestamp)
{
	struct pl_note *n = NULL;
	uint8_t raw[PL_COSIGNATURE_SIG_BYTES];
	int ret;

	ret = pl_note_parse(&n, msg->data ? msg->data : "", msg->len);
	if (ret)
		goto out;
	ret = cosign_raw(raw, key, timestamp, n->text, n->text_len);
	if (ret)
		goto out;
	ret = pl_note_add_sig(msg, key->name, key->id, raw, sizeof(raw));
out:
	pl_note_free(n);
	return ret;
}

int pl_cosignature_timestamp(uint64_t *timestamp, const struct pl_note_sig *s)
{
	uint64_t t;
	int ret = PL_EMALFORMED;

	if (s->sig_len != PL_COSIGNATURE_SIG_BYTES)
		goto out;
	t = pl__get_be64(s->sig);
	if (t > PL_COSIGNATURE_MAX_TIME)
		goto out;
	*timestamp = t;
	ret = 0;
out:
	return ret;
}

int pl_cosignature_verify(const struct pl_note_sig *s, const struct pl_vkey *key, const char *text,
                          size_t len, uint64_t *timestamp)
{
	uint8_t stack[STACK_MSG_MAX];
	uint8_t *msg, *heap = NULL;
	size_t msg_len;
	uint64_t t;
	int ret;

	if (key->type != PL_SIGTYPE_COSIG_V1 || memcmp(s->id, key->id, PL_KEYID_BYTES) != 0 ||
	    strcmp(s->name, key->name) != 0) {
		ret = PL_EINVAL;
		goto out;
	}
	if (pl_cosignature_timestamp(&t, s)) {
		ret = PL_EVERIFY;
		goto out;
	}
	ret = build_message(&msg, &msg_len, stack, &heap, t, text, len);
	if (ret)
		goto out;
	if (crypto_sign_verify_detached(s->sig + 8, msg, msg_len, key->pk) != 0) {
		ret = PL_EVERIFY;
		goto out;
	}
	if (timestamp)
		*timestamp = t;
out:
	free(heap);
	return ret;
}
