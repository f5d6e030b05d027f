/* libFuzzer target: the decoders of the exchange's answers (apicodec.c), each checked against its
 * encoder. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <parley/apicodec.h>
#include <parley/client.h>

#include "internal.h"

/*
 * Input: one selector byte, then "aux NUL body" or just "body". The
 * selector's low bits pick the parser (8 and above 10: all of them); its top
 * bit is a flag (want_next for lists, no Parley-Index for a record). aux is
 * the submitted record, the id or the line name asked, or the payload sent.
 */
enum {
	P_RECEIPT,
	P_RECORD,
	P_HEADER,
	P_LIST,
	P_LINE,
	P_PARTIES,
	P_CONSISTENCY,
	P_SSE,
	P_ALL,
	P_PAYLOAD,
	P_ERROR,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entry(const struct pl_client_entry *e)
{
	uint8_t h[PL_HASH_BYTES];

	if (!e->note || e->note[e->note_len] != '\0')
		abort();
	pl_sha256(h, e->note, e->note_len);
	if (memcmp(h, e->id, PL_HASH_BYTES) != 0)
		abort(); /* every entry given out is its record's hash */
}

static void receipt(const char *aux, size_t aux_len, const char *b, size_t n)
{
	struct pl_receipt r, untouched, again;
	struct pl_buf enc;
	const char *why = NULL;
	uint8_t h[PL_HASH_BYTES];

	memset(&r, 0xa5, sizeof(r));
	memset(&untouched, 0xa5, sizeof(untouched));
	if (pl__client_receipt_parse(b, n, aux, aux_len, &r, &why) != 0) {
		if (!why || memcmp(&r, &untouched, sizeof(r)) != 0)
			abort(); /* a refusal says why and leaves the output alone */
		return;
	}
	pl_sha256(h, aux, aux_len);
	if (memcmp(h, r.id, PL_HASH_BYTES) != 0 || r.index >= r.size || !r.proof || !r.checkpoint ||
	    r.proof[r.proof_len] || r.checkpoint[r.checkpoint_len])
		abort();
	/* What was decoded encodes to an answer that decodes to the same receipt. */
	pl_buf_init(&enc, 1u << 24);
	if (pl_apicodec_receipt(&enc, &r) != 0 ||
	    pl__client_receipt_parse(enc.data, enc.len, aux, aux_len, &again, NULL) != 0)
		abort();
	if (again.index != r.index || again.size != r.size ||
	    memcmp(again.id, r.id, PL_HASH_BYTES) != 0 || again.proof_len != r.proof_len ||
	    memcmp(again.proof, r.proof, r.proof_len) != 0 ||
	    again.checkpoint_len != r.checkpoint_len ||
	    memcmp(again.checkpoint, r.checkpoint, r.checkpoint_len) != 0)
		abort();
	pl_receipt_release(&again);
	pl_buf_release(&enc);
	pl_receipt_release(&r);
}

static void record(const char *aux, bool no_index, const char *b, size_t n)
{
	char id[PL_HASH_HEX_LEN + 2], hex[PL_HASH_HEX_LEN + 1];
	struct pl_client_entry e;
	uint64_t index = n;
	size_t k = strnlen(aux, sizeof(id) - 1);

	memcpy(id, aux, k);
	id[k] = '\0';
	if (pl__client_record_parse(b, n, id, no_index ? NULL : &index, &e, NULL) != 0)
		return;
	pl_hex_encode(hex, e.id, PL_HASH_BYTES);
	if (no_index || e.index != n || e.note_len != n || (n && memcmp(e.note, b, n)) ||
	    strncasecmp(hex, id, k) != 0)
		abort();
	check_entry(&e);
	pl_client_entry_release(&e);
}

static void header(const char *b, size_t n)
{
	uint64_t index = 0;
	int ret = pl__client_index_header(b, n, &index);

	if (ret != 0 && ret != PL_ENOTFOUND && ret != PL_EMALFORMED)
		abort();
	if (ret == 0 && index > INT64_MAX)
		abort();
}

static void list(bool want_next, const char *b, size_t n)
{
	struct pl_client_list l;

	if (pl__client_list_parse(b, n, want_next, &l, NULL) != 0)
		return;
	if (l.n > PL_HTTP_RECORDS_MAX_PAGE || (l.n && !l.v))
		abort();
	for (size_t i = 0; i < l.n; i++)
		check_entry(&l.v[i]);
	pl_client_list_release(&l);
}

static void line(const char *aux, const char *b, size_t n)
{
	struct pl_client_line l;

	if (pl__client_line_parse(b, n, aux, &l, NULL) != 0)
		return;
	if (l.n > PL_HTTP_RECORDS_MAX_PAGE || (l.n && !l.v))
		abort();
	for (size_t i = 0; i < l.n; i++) {
		struct pl_client_entry e = {l.v[i].index, {0}, l.v[i].note, l.v[i].note_len};
		memcpy(e.id, l.v[i].id, PL_HASH_BYTES);
		check_entry(&e);
		if (!l.v[i].proof || l.v[i].proof[l.v[i].proof_len])
			abort();
	}
	pl_client_line_release(&l);
}

static void parties(const char *b, size_t n)
{
	struct pl_client_party *v;
	size_t k;

	if (pl__client_parties_parse(b, n, &v, &k, NULL) != 0)
		return;
	for (size_t i = 0; i < k; i++) {
		if (strlen(v[i].name) > PL_KEY_NAME_MAX ||
		    strlen(v[i].enc_key) > PL_CLIENT_ENC_KEY_MAX || !v[i].register_record ||
		    (!v[i].revoked && v[i].revoke_index))
			abort();
	}
	pl_client_parties_free(v, k);
}

static void consistency(const char *b, size_t n)
{
	uint8_t h[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	char b64[PL_HASH_B64_LEN + 1];
	size_t k = 0;

	if (pl__client_consistency_parse(b, n, h, &k, NULL) != 0)
		return;
	/* Accepted only in its canonical form: the hashes give back the body. */
	if (k > PL_PROOF_MAX_HASHES || n != k * (PL_HASH_B64_LEN + 1))
		abort();
	for (size_t i = 0; i < k; i++) {
		pl_b64_encode(b64, h[i], PL_HASH_BYTES);
		if (memcmp(b64, b + i * (PL_HASH_B64_LEN + 1), PL_HASH_B64_LEN) != 0 ||
		    b[i * (PL_HASH_B64_LEN + 1) + PL_HASH_B64_LEN] != '\n')
			abort();
	}
}

struct seen {
	size_t n, stop_after;
	uint64_t sum; /* of the indexes delivered, in order */
};

static int on_record(void *arg, const struct pl_client_entry *e)
{
	struct seen *s = arg;

	check_entry(e);
	s->n++;
	s->sum = s->sum * 31 + e->index;
	return s->stop_after && s->n >= s->stop_after;
}

/* The stream fed at once and in chunks must give the same records, cursor and answer. */
static void sse(const char *aux, size_t aux_len, const char *b, size_t n)
{
	struct pl__client_sse *p1 = NULL, *p2 = NULL;
	struct seen s1 = {0, 0, 0}, s2 = {0, 0, 0};
	uint64_t c1 = 5, c2 = 5;
	size_t i = 0, k = 0;
	int r1, r2 = 0;

	s1.stop_after = s2.stop_after = aux_len ? (unsigned char)aux[0] % 4 : 0;
	if (pl__client_sse_new(&p1, &c1, on_record, &s1) != 0 ||
	    pl__client_sse_new(&p2, &c2, on_record, &s2) != 0)
		goto out;
	r1 = pl__client_sse_feed(p1, b, n);
	while (i < n) {
		size_t c = aux_len > 1 ? (unsigned char)aux[1 + k++ % (aux_len - 1)] % 17 + 1 : 1;
		if (c > n - i)
			c = n - i;
		r2 = pl__client_sse_feed(p2, b + i, c);
		i += c;
	}
	if (r1 != r2 || c1 != c2 || s1.n != s2.n || s1.sum != s2.sum ||
	    pl__client_sse_is_stopped(p1) != pl__client_sse_is_stopped(p2) || c1 < 5)
		abort();
	if (r1 && pl__client_sse_feed(p1, "\n", 1) != r1)
		abort(); /* errors stick */
out:
	pl__client_sse_free(p1);
	pl__client_sse_free(p2);
}

static void payload(const char *aux, size_t aux_len, const char *b, size_t n)
{
	uint8_t h[PL_HASH_BYTES];
	const char *why = NULL;
	int ret;

	pl_sha256(h, aux, aux_len);
	ret = pl__client_payload_parse(b, n, h, &why);
	if (ret != 0 && (!why || (ret != PL_EMALFORMED && ret != PL_EPROOF && ret != PL_ENOMEM)))
		abort();
}

static void error_body(const char *b, size_t n)
{
	struct pl_client_error e;

	memset(&e, 0, sizeof(e));
	pl__client_error_parse(b, n, &e);
	if (memchr(e.code, '\0', sizeof(e.code)) == NULL ||
	    memchr(e.reason, '\0', sizeof(e.reason)) == NULL ||
	    (!e.has_head && (e.head_seq || e.head_index)) || e.status != 0)
		abort(); /* strings stay terminated; a head is all there or not at all */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *aux = "", *b;
	char *copy;
	size_t aux_len = 0, n;
	unsigned sel;
	bool flag, all;

	if (size < 1)
		return 0;
	sel = data[0] & 0x7f;
	flag = (data[0] & 0x80) != 0;
	all = sel == P_ALL || sel > P_ERROR;
	/* The body in a buffer of its exact size, so that any read past it is caught. */
	n = size - 1;
	copy = malloc(n ? n : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, n);
	b = copy;
	{
		const char *nul = memchr(b, '\0', n);
		if (nul) {
			aux = b;
			aux_len = (size_t)(nul - b);
			b = nul + 1;
			n -= aux_len + 1;
		}
	}
	if (sel == P_RECEIPT || all)
		receipt(aux, aux_len, b, n);
	if (sel == P_RECORD || all)
		record(aux, flag, b, n);
	if (sel == P_HEADER || all)
		header(b, n);
	if (sel == P_LIST || all)
		list(flag, b, n);
	if (sel == P_LINE || all)
		line(aux, b, n);
	if (sel == P_PARTIES || all)
		parties(b, n);
	if (sel == P_CONSISTENCY || all)
		consistency(b, n);
	if (sel == P_SSE || all)
		sse(aux, aux_len, b, n);
	if (sel == P_PAYLOAD || all)
		payload(aux, aux_len, b, n);
	if (sel == P_ERROR || all)
		error_body(b, n);
	free(copy);
	return 0;
}
