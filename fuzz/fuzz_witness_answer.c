/* libFuzzer target: a log reading witnesses' answers, and its witness peer lines. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/cosignature.h>
#include <parley/note.h>
#include <parley/witness.h>

/*
 * Input layout (the seeds in fuzz/corpus/witness_answer follow it):
 *   byte 0, 1  the HTTP status: a common one by byte 0, or any 0..4095 when byte 0 >= 0xf0
 *   byte 2     the Content-Type: 0 the size type, 1 text/plain, 2 none, 3 the next byte n
 *              (at most 63) and n bytes of the input
 *   byte 3     bit 0: a valid cosignature line first; bit 1: one last; bit 2: another
 *              witness's line last; bits 4-7: a small limit on the caller's line buffer
 *   the rest   the body (bounded as the transport bounds it), and a peer line
 */

/* The checkpoint the log asked about, and the witness asked (its verifier key). */
static const char text[] = "log.example/fuzz\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
static const char vkey_text[] = "witness.example+cd4f779b+BE5KJQPQIlmfaH1MkHHQeiS4cJ3f+wC/"
                                "BnhSygMS4nsI";
/* Its cosignature of text at 1763341200, and another witness's. */
static const char good_line[] =
        "\xe2\x80\x94 witness.example zU93mwAAAABpGnOQAw7jU83ZT6i7bp8uF06bQl9"
        "iytETrhgEHo07CBOBSC+oiq1rOYErp75DLbTeb4W8RrbYPL2zSsGrOKyXVG5YCw==\n";
static const char other_line[] =
        "\xe2\x80\x94 other.example VUFuFAAAAABpGnOQ5IgXqon1Mmryl9+mW+dctT"
        "AGHtwZnKlgLe5VAbywr8/ay10VaUThCxtnVXACC/X1ueblo0RKFnNQWrR6iI3mBA==\n";

static const unsigned statuses[] = {200, 409, 400, 413, 403, 404, 422, 500, 302, 0, 201, 999};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The error a status other than 200 and 409 maps to, as c2sp.org/tlog-witness reads it. */
static int status_error(unsigned status)
{
	static const struct {
		unsigned status;
		int err;
	} refusals[] = {
	        {400, PL_EINVAL},    {413, PL_EINVAL}, {403, PL_EDENIED},
	        {404, PL_ENOTFOUND}, {422, PL_EPROOF},
	};

	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		if (refusals[i].status == status)
			return refusals[i].err;
	}
	return PL_ENET;
}

/* A returned line: one signature line by key that verifies over text, at *ts. */
static void check_line(const struct pl_vkey *key, const char *line, size_t len, uint64_t ts)
{
	struct pl_buf msg;
	struct pl_note *n = NULL;
	uint64_t t = 0;

	pl_buf_init(&msg, PL_NOTE_MAX_BYTES);
	if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len) != line + len - 1)
		abort();
	if (pl_buf_add(&msg, text, sizeof(text) - 1) != 0 || pl_buf_add(&msg, "\n", 1) != 0 ||
	    pl_buf_add(&msg, line, len) != 0)
		abort();
	if (pl_note_parse(&n, msg.data, msg.len) != 0 || n->nsigs != 1 ||
	    n->text_len != sizeof(text) - 1)
		abort();
	if (pl_cosignature_verify(&n->sigs[0], key, text, sizeof(text) - 1, &t) != 0 || t != ts)
		abort();
	pl_note_free(n);
	pl_buf_release(&msg);
}

static void fuzz_answer(const struct pl_vkey *key, const uint8_t *data, size_t size)
{
	static const char prior[] = "kept\n";
	struct pl_witness_answer a;
	struct pl_buf line;
	uint64_t known = 0x5eed, ts = 0x5eed;
	size_t limit, pos = 4;
	char want[32];
	uint8_t flags;
	int ret;

	if (size < 4)
		return;
	memset(&a, 0, sizeof(a));
	a.status = data[0] >= 0xf0 ? ((unsigned)(data[0] & 0x0f) << 8 | data[1])
	                           : statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	switch (data[2] % 4) {
	case 0:
		snprintf(a.ctype, sizeof(a.ctype), "%s", PL_WITNESS_SIZE_CTYPE);
		break;
	case 1:
		snprintf(a.ctype, sizeof(a.ctype), "text/plain");
		break;
	case 2:
		break;
	default:
		if (pos < size) {
			size_t n = data[pos++] % sizeof(a.ctype);
			if (n > size - pos)
				n = size - pos;
			memcpy(a.ctype, data + pos, n);
			pos += n;
		}
		break;
	}
	a.ctype[sizeof(a.ctype) - 1] = '\0';
	flags = data[3];
	pl_buf_init(&a.body, PL_WITNESS_ANSWER_MAX);
	if ((flags & 1) && pl_buf_adds(&a.body, good_line) != 0)
		abort();
	if (pl_buf_add(&a.body, data + pos,
	               size - pos > PL_WITNESS_ANSWER_MAX - a.body.len
	                       ? PL_WITNESS_ANSWER_MAX - a.body.len
	                       : size - pos) != 0)
		abort();
	if (flags & 2)
		(void)!pl_buf_adds(&a.body, good_line);
	if (flags & 4)
		(void)!pl_buf_adds(&a.body, other_line);
	limit = flags >> 4 ? (size_t)(flags >> 4) * 12 : 4096;
	pl_buf_init(&line, limit);
	if (pl_buf_adds(&line, prior) != 0)
		abort();

	ret = pl_witness_answer_read(&a, key, text, sizeof(text) - 1, &line, &known, &ts);

	/* What was in the caller's buffer stays; only a success appends. */
	if (line.len < sizeof(prior) - 1 || memcmp(line.data, prior, sizeof(prior) - 1) != 0)
		abort();
	if (ret == 0) {
		if (a.status != 200 || known != 0x5eed || line.len == sizeof(prior) - 1)
			abort();
		check_line(key, line.data + sizeof(prior) - 1, line.len - (sizeof(prior) - 1), ts);
	} else {
		if (line.len != sizeof(prior) - 1 || ts != 0x5eed)
			abort();
		if (ret != PL_ESTATE && known != 0x5eed)
			abort();
	}
	if (ret == PL_ESTATE) {
		/* The size read is exactly the body: canonical decimal and a newline. */
		if (a.status != 409 || strcmp(a.ctype, PL_WITNESS_SIZE_CTYPE) != 0)
			abort();
		snprintf(want, sizeof(want), "%" PRIu64 "\n", known);
		if (a.body.len != strlen(want) || memcmp(a.body.data, want, a.body.len) != 0)
			abort();
	}
	if (a.status == 409 && strcmp(a.ctype, PL_WITNESS_SIZE_CTYPE) != 0 &&
	    ret != PL_EINCONSISTENT)
		abort();
	if (a.status != 200 && a.status != 409 && ret != status_error(a.status))
		abort();
	pl_buf_release(&line);
	pl_buf_release(&a.body);
}

static void fuzz_peer(const char *s, size_t len)
{
	struct pl_witness_peer p, before, q;
	struct pl_buf out;
	const char *why = NULL;
	size_t n;

	memset(&p, 0xa5, sizeof(p));
	before = p;
	if (pl_witness_peer_parse(&p, s, len, &why) != 0) {
		if (!why || memcmp(&p, &before, sizeof(p)) != 0)
			abort();
		return;
	}
	n = strnlen(p.url, sizeof(p.url));
	if (n == sizeof(p.url) || n == 0 || n >= len || memcmp(p.url, s, n) != 0 ||
	    p.key.type != PL_SIGTYPE_COSIG_V1)
		abort();
	/* Its canonical form parses back to the same peer. */
	pl_buf_init(&out, PL_WITNESS_URL_MAX + 1024);
	memset(&q, 0, sizeof(q));
	if (pl_witness_peer_format(&p, &out) != 0 ||
	    pl_witness_peer_parse(&q, out.data, out.len, NULL) != 0 || strcmp(p.url, q.url) != 0 ||
	    !pl_vkey_equal(&p.key, &q.key))
		abort();
	pl_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pl_vkey key;
	static int ready;

	if (!ready) {
		if (pl_vkey_parse(&key, vkey_text, sizeof(vkey_text) - 1) != 0)
			abort();
		ready = 1;
	}
	fuzz_answer(&key, data, size);
	if (size >= 4)
		fuzz_peer((const char *)data + 4, size - 4);
	return 0;
}
