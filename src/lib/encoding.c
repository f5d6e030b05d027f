/* Strict base64 and hex, SHA-256, decimal integers and UTF-8 validation. */
#include <parley/encoding.h>

#include <sodium.h>

#include "internal.h"

static const char b64_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void pl_b64_encode(char *out, const uint8_t *in, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

int pl_b64_append(struct pl_buf *b, const uint8_t *in, size_t n)
{
	char chunk[PL_B64_LEN(48) + 1]; /* 48 is a multiple of 3: chunks concatenate */
	size_t old = b->len;
	int ret = 0;

	if (n > SIZE_MAX / 2 || PL_B64_LEN(n) > b->max || b->len > b->max - PL_B64_LEN(n))
		return PL_ETOOBIG;
	for (size_t i = 0; i < n; i += 48) {
		size_t k = n - i < 48 ? n - i : 48;
		pl_b64_encode(chunk, in + i, k);
		ret = pl_buf_add(b, chunk, PL_B64_LEN(k));
		if (ret) {
			pl__buf_truncate(b, old);
			break;
		}
	}
	return ret;
}

/* Value of a base64 character, or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int pl_b64_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *in, size_t inlen)
{
	size_t i, o = 0, pad = 0, n;

	if (inlen % 4 != 0)
		return PL_EMALFORMED;
	if (inlen >= 1 && in[inlen - 1] == '=')
		pad++;
	if (inlen >= 2 && in[inlen - 2] == '=')
		pad++;
	n = inlen / 4 * 3 - pad;
	if (n > outmax)
		return PL_ETOOBIG;
	for (i = 0; i < inlen; i += 4) {
		int v[4];
		size_t groups = 4;
		if (i + 4 == inlen)
			groups = 4 - pad;
		for (size_t j = 0; j < 4; j++) {
			if (j >= groups) {
				v[j] = 0;
				continue;
			}
			v[j] = b64_value((unsigned char)in[i + j]);
			if (v[j] < 0)
				return PL_EMALFORMED;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		             (uint32_t)v[3];
		if (groups == 2 && (w & 0xffff) != 0)
			return PL_EMALFORMED; /* non-zero unused bits */
		if (groups == 3 && (w & 0xff) != 0)
			return PL_EMALFORMED;
		if (groups < 2)
			return PL_EMALFORMED;
		out[o++] = (uint8_t)(w >> 16);
		if (groups > 2)
			out[o++] = (uint8_t)(w >> 8);
		if (groups > 3)
			out[o++] = (uint8_t)w;
	}
	*outlen = o;
	return 0;
}

int pl_b64_decode_exact(uint8_t *out, size_t n, const char *in, size_t inlen)
{
	size_t got;
	int ret;

	if (inlen != PL_B64_LEN(n))
		return PL_EMALFORMED;
	ret = pl_b64_decode(out, n, &got, in, inlen);
	if (ret == PL_ETOOBIG || (ret == 0 && got != n))
		return PL_EMALFORMED;
	return ret;
}

void pl_hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pl_hex_decode_exact(uint8_t *out, size_t n, const char *in, size_t inlen)
{
	if (inlen != 2 * n)
		return PL_EMALFORMED;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value((unsigned char)in[2 * i]);
		int lo = hex_value((unsigned char)in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return PL_EMALFORMED;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void pl_sha256(uint8_t out[static PL_HASH_BYTES], const void *in, size_t n)
{
	crypto_hash_sha256(out, in, n);
}

int pl_parse_u64(uint64_t *out, const char *s, size_t len, uint64_t max)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return PL_EMALFORMED;
	if (s[0] == '0' && len > 1)
		return PL_EMALFORMED;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return PL_EMALFORMED;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return PL_ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return PL_ERANGE;
	*out = v;
	return 0;
}

bool pl_utf8_is_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}
