/* Signed notes (c2sp.org/signed-note): strict parsing, verification, signing. */
#include <parley/note.h>

#include <sodium.h>
#include <stdlib.h>

#include <parley/cosignature.h>
#include <parley/encoding.h>

#include "internal.h"

/* "— " : U+2014 EM DASH in UTF-8, then a space. */
#define SIG_PREFIX     "\xe2\x80\x94 "
#define SIG_PREFIX_LEN 4

/* The limits as the parser's reasons spell them. */
#define NOTE_STR_(x) #x
#define NOTE_STR(x)  NOTE_STR_(x)
_Static_assert(PL_NOTE_MAX_BYTES == 1u << 20, "the size reason says 1 MiB");

/* True when s[0..n) is valid UTF-8 with no control character but newline. */
static bool chars_are_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\n')
			return false;
	}
	return pl_utf8_is_valid(s, n);
}

bool pl_note_text_is_valid(const char *text, size_t len)
{
	return text && len > 0 && len <= PL_NOTE_MAX_BYTES && text[len - 1] == '\n' &&
	       chars_are_valid(text, len);
}

/* Offset of the last "\n\n" in s[0..n), or -1. */
static ptrdiff_t last_blank_line(const char *s, size_t n)
{
	for (size_t i = n; i >= 2; i--) {
		if (s[i - 1] == '\n' && s[i - 2] == '\n')
			return (ptrdiff_t)(i - 2);
	}
	return -1;
}

/*
 * Decodes base64(keyid || sig) group by group, so that a signature longer
 * than PL_NOTE_SIG_MAX (a post-quantum cosignature, say) is still checked
 * for canonical base64 without a large buffer. Such a signature is kept
 * with sig_len 0: no supported key type can verify it, so it can only be
 * an unknown signature.
 */
static int decode_sig(struct pl_note_sig *s, const char *b64, size_t n)
{
	size_t total, o = 0;

	if (n == 0 || n % 4 != 0)
		return PL_EMALFORMED;
	total = n / 4 * 3 - (b64[n - 1] == '=') - (b64[n - 2] == '=');
	if (total < PL_KEYID_BYTES + 1)
		return PL_EMALFORMED;
	for (size_t i = 0; i < n; i += 4) {
		uint8_t g[3];
		size_t got;
		if (i + 4 < n && memchr(b64 + i, '=', 4))
			return PL_EMALFORMED;
		if (pl_b64_decode(g, sizeof(g), &got, b64 + i, 4))
			return PL_EMALFORMED;
		for (size_t j = 0; j < got; j++, o++) {
			if (o < PL_KEYID_BYTES)
				s->id[o] = g[j];
			else if (total - PL_KEYID_BYTES <= PL_NOTE_SIG_MAX)
				s->sig[o - PL_KEYID_BYTES] = g[j];
		}
	}
	s->sig_len = total - PL_KEYID_BYTES <= PL_NOTE_SIG_MAX ? total - PL_KEYID_BYTES : 0;
	return 0;
}

/* Parses one signature line line[0..n) (without its newline). */
static int parse_sig_line(struct pl_note_sig *s, const char *line, size_t n)
{
	const char *name, *sp;
	size_t nlen;

	if (!pl__has_prefix(line, n, SIG_PREFIX))
		return PL_EMALFORMED;
	name = line + SIG_PREFIX_LEN;
	n -= SIG_PREFIX_LEN;
	sp = memchr(name, ' ', n);
	if (!sp)
		return PL_EMALFORMED;
	nlen = (size_t)(sp - name);
	if (!pl_key_name_is_valid(name, nlen))
		return PL_EMALFORMED;
	memcpy(s->name, name, nlen);
	s->name[nlen] = '\0';
	return decode_sig(s, sp + 1, n - nlen - 1);
}

void pl_note_free(struct pl_note *n)
{
	if (!n)
		return;
	free(n->text);
	free(n->sigs);
	free(n);
}

int pl_note_parse(struct pl_note **out, const char *msg, size_t len)
{
	return pl_note_parse_why(out, msg, len, NULL);
}

int pl_note_parse_why(struct pl_note **out, const char *msg, size_t len, const char **why)
{
	struct pl_note *n = NULL;
	const char *sigs, *p, *end, *reason = NULL;
	ptrdiff_t split;
	size_t nsigs = 0, i = 0;
	int ret;

	if (len > PL_NOTE_MAX_BYTES) {
		ret = PL_ETOOBIG;
		reason = "note larger than 1 MiB";
		goto out;
	}
	if (!chars_are_valid(msg, len)) {
		ret = PL_EMALFORMED;
		reason = "note is not UTF-8 without control characters";
		goto out;
	}
	/* The spec: the text ends at the LAST blank line, so the text may hold blank lines. */
	split = last_blank_line(msg, len);
	if (split < 0) {
		ret = PL_EMALFORMED;
		reason = "no blank line before the signature lines";
		goto out;
	}
	sigs = msg + split + 2;
	end = msg + len;
	if (sigs == end) {
		ret = PL_EMALFORMED;
		reason = "no signature line";
		goto out;
	}
	if (end[-1] != '\n') {
		ret = PL_EMALFORMED;
		reason = "last signature line does not end in a newline";
		goto out;
	}
	for (p = sigs; p < end; p++)
		nsigs += *p == '\n';
	if (nsigs > PL_NOTE_MAX_SIGS) {
		ret = PL_ETOOBIG;
		reason = "more than " NOTE_STR(PL_NOTE_MAX_SIGS) " signature lines";
		goto out;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		ret = PL_ENOMEM;
		reason = "out of memory";
		goto out;
	}
	n->text_len = (size_t)split + 1;
	n->text = malloc(n->text_len + 1);
	n->sigs = calloc(nsigs, sizeof(*n->sigs));
	if (!n->text || !n->sigs) {
		ret = PL_ENOMEM;
		reason = "out of memory";
		goto out;
	}
	memcpy(n->text, msg, n->text_len);
	n->text[n->text_len] = '\0';
	for (p = sigs; p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		ret = parse_sig_line(&n->sigs[i], p, (size_t)(nl - p));
		if (ret) {
			reason = "malformed signature line";
			goto out;
		}
		p = nl + 1;
	}
	n->nsigs = nsigs;
	*out = n;
	n = NULL;
	ret = 0;
out:
	if (ret && why)
		*why = reason;
	pl_note_free(n);
	return ret;
}

static bool sig_matches(const struct pl_note_sig *s, const struct pl_vkey *k)
{
	return memcmp(s->id, k->id, PL_KEYID_BYTES) == 0 && strcmp(s->name, k->name) == 0;
}

int pl_note_sig_verify(const struct pl_note_sig *s, const struct pl_vkey *key, const char *text,
                       size_t len)
{
	int ret;

	if (!sig_matches(s, key)) {
		ret = PL_EINVAL;
		goto out;
	}
	switch (key->type) {
	case PL_SIGTYPE_ED25519:
		ret = s->sig_len == PL_ED25519_SIG_BYTES &&
		                      crypto_sign_verify_detached(s->sig, (const uint8_t *)text,
		                                                  len, key->pk) == 0
		              ? 0
		              : PL_EVERIFY;
		break;
	case PL_SIGTYPE_COSIG_V1:
		ret = pl_cosignature_verify(s, key, text, len, NULL);
		break;
	default:
		ret = PL_EINVAL;
		break;
	}
out:
	return ret;
}

/*
 * The one key of keys[0..nkeys) that s names, in *idx. Returns 0, PL_ENOTFOUND,
 * or PL_EAMBIGUOUS when two different keys share the name and key ID (a
 * misconfigured key list: nothing sensible can be concluded).
 */
static int find_key(size_t *idx, const struct pl_note_sig *s, const struct pl_vkey *keys,
                    size_t nkeys)
{
	size_t found = SIZE_MAX;

	for (size_t k = 0; k < nkeys; k++) {
		if (!sig_matches(s, &keys[k]))
			continue;
		if (found == SIZE_MAX)
			found = k;
		else if (!pl_vkey_equal(&keys[found], &keys[k]))
			return PL_EAMBIGUOUS;
	}
	if (found == SIZE_MAX)
		return PL_ENOTFOUND;
	*idx = found;
	return 0;
}

int pl_note_verify(const struct pl_note *n, const struct pl_vkey *keys, size_t nkeys,
                   bool *verified)
{
	size_t good = 0;
	int ret = 0;

	if (!n || (nkeys > 0 && !keys)) {
		ret = PL_EINVAL;
		goto out;
	}
	/*
	 * Every signature by a known key must verify, duplicates included: a
	 * note that carries a bad signature from a key we trust is not one we
	 * accept, even beside a good one.
	 */
	for (size_t i = 0; i < n->nsigs; i++) {
		size_t k;
		ret = find_key(&k, &n->sigs[i], keys, nkeys);
		if (ret == PL_ENOTFOUND)
			continue;
		if (ret)
			goto out;
		ret = pl_note_sig_verify(&n->sigs[i], &keys[k], n->text, n->text_len);
		if (ret)
			goto out;
		good++;
	}
	if (good == 0) {
		ret = PL_ENOKEY;
		goto out;
	}
	ret = 0;
	if (verified) {
		for (size_t k = 0; k < nkeys; k++) {
			verified[k] = false;
			for (size_t i = 0; i < n->nsigs && !verified[k]; i++)
				verified[k] = sig_matches(&n->sigs[i], &keys[k]);
		}
	}
out:
	return ret;
}

int pl_note_open(struct pl_note **out, const char *msg, size_t len, const struct pl_vkey *keys,
                 size_t nkeys, bool *verified)
{
	struct pl_note *n = NULL;
	int ret;

	ret = pl_note_parse(&n, msg, len);
	if (ret)
		goto out;
	ret = pl_note_verify(n, keys, nkeys, verified);
	if (ret)
		goto out;
	*out = n;
	n = NULL;
out:
	pl_note_free(n);
	return ret;
}

/* Appends "— name base64(id || sig)\n" to out. */
static int add_sig_line(struct pl_buf *out, const char *name, const uint8_t id[PL_KEYID_BYTES],
                        const uint8_t *sig, size_t sig_len)
{
	uint8_t raw[PL_KEYID_BYTES + PL_NOTE_SIG_MAX];
	int ret;

	memcpy(raw, id, PL_KEYID_BYTES);
	memcpy(raw + PL_KEYID_BYTES, sig, sig_len);
	ret = pl_buf_adds(out, SIG_PREFIX);
	if (!ret)
		ret = pl_buf_adds(out, name);
	if (!ret)
		ret = pl_buf_add(out, " ", 1);
	if (!ret)
		ret = pl_b64_append(out, raw, PL_KEYID_BYTES + sig_len);
	if (!ret)
		ret = pl_buf_add(out, "\n", 1);
	return ret;
}

/* Undoes a partial append, so that callers see their buffer unchanged on error. */
static void buf_truncate(struct pl_buf *b, size_t len)
{
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

static bool key_name_ok(const char *name)
{
	return pl_key_name_is_valid(name, strnlen(name, PL_KEY_NAME_MAX + 1));
}

int pl_note_sign(struct pl_buf *out, const char *text, size_t len, const struct pl_skey *keys,
                 size_t nkeys)
{
	size_t old = out->len;
	int ret;

	if (!pl_note_text_is_valid(text, len) || !keys || nkeys == 0 || nkeys > PL_NOTE_MAX_SIGS) {
		ret = PL_EINVAL;
		goto out;
	}
	for (size_t k = 0; k < nkeys; k++) {
		if (keys[k].type != PL_SIGTYPE_ED25519 || !key_name_ok(keys[k].name)) {
			ret = PL_EINVAL;
			goto out;
		}
		for (size_t j = 0; j < k; j++) {
			if (memcmp(keys[j].id, keys[k].id, PL_KEYID_BYTES) == 0 &&
			    strcmp(keys[j].name, keys[k].name) == 0) {
				ret = PL_EINVAL;
				goto out;
			}
		}
	}
	ret = pl_buf_add(out, text, len);
	if (!ret)
		ret = pl_buf_add(out, "\n", 1);
	for (size_t k = 0; k < nkeys && !ret; k++) {
		uint8_t sig[PL_ED25519_SIG_BYTES];
		crypto_sign_detached(sig, NULL, (const uint8_t *)text, len, keys[k].sk);
		ret = add_sig_line(out, keys[k].name, keys[k].id, sig, sizeof(sig));
	}
	if (!ret && out->len - old > PL_NOTE_MAX_BYTES)
		ret = PL_ETOOBIG;
out:
	if (ret)
		buf_truncate(out, old);
	return ret;
}

int pl_note_add_sig(struct pl_buf *msg, const char *name, const uint8_t id[static PL_KEYID_BYTES],
                    const uint8_t *sig, size_t sig_len)
{
	struct pl_note *n = NULL;
	size_t old = msg->len;
	int ret;

	if (!name || !key_name_ok(name) || !sig || sig_len == 0) {
		ret = PL_EINVAL;
		goto out;
	}
	if (sig_len > PL_NOTE_SIG_MAX) {
		ret = PL_ETOOBIG;
		goto out;
	}
	ret = pl_note_parse(&n, msg->data ? msg->data : "", msg->len);
	if (ret)
		goto out;
	if (n->nsigs >= PL_NOTE_MAX_SIGS) {
		ret = PL_ETOOBIG;
		goto out;
	}
	for (size_t i = 0; i < n->nsigs; i++) {
		if (memcmp(n->sigs[i].id, id, PL_KEYID_BYTES) == 0 &&
		    strcmp(n->sigs[i].name, name) == 0) {
			ret = PL_EEXIST;
			goto out;
		}
	}
	ret = add_sig_line(msg, name, id, sig, sig_len);
	if (!ret && msg->len > PL_NOTE_MAX_BYTES)
		ret = PL_ETOOBIG;
	if (ret)
		buf_truncate(msg, old);
out:
	pl_note_free(n);
	return ret;
}

const struct pl_vkey *pl_note_failing_key(const struct pl_note *n, const struct pl_vkey *keys,
                                          size_t nkeys)
{
	for (size_t i = 0; i < n->nsigs; i++) {
		for (size_t k = 0; k < nkeys; k++) {
			if (strcmp(n->sigs[i].name, keys[k].name) != 0 ||
			    memcmp(n->sigs[i].id, keys[k].id, PL_KEYID_BYTES) != 0)
				continue;
			if (pl_note_sig_verify(&n->sigs[i], &keys[k], n->text, n->text_len) != 0)
				return &keys[k];
		}
	}
	return NULL;
}
