/* Strict encodings (base64, hex) and SHA-256, the building blocks of every format. */
#ifndef PARLEY_ENCODING_H
#define PARLEY_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/error.h>

#define PL_HASH_BYTES   32 /* SHA-256 */
#define PL_HASH_B64_LEN 44 /* base64 of 32 bytes, padded */
#define PL_HASH_HEX_LEN 64

/* Length of the padded standard base64 encoding of n bytes. */
#define PL_B64_LEN(n) ((((n) + 2) / 3) * 4)

/*
 * Writes the padded standard base64 (RFC 4648 §4) of in[0..n) to out, which
 * must hold PL_B64_LEN(n) + 1 bytes, and NUL-terminates it.
 */
void pl_b64_encode(char *out, const uint8_t *in, size_t n);

/* Appends the base64 of in[0..n) to b. Returns 0 or the pl_buf_add() error. */
int pl_b64_append(struct pl_buf *b, const uint8_t *in, size_t n) PL_WUR;

/*
 * Decodes strict padded standard base64: only the canonical encoding is
 * accepted (length a multiple of 4, '=' only as final padding, unused bits
 * zero, no whitespace). On success writes *outlen bytes to out (at most
 * outmax) and returns 0; PL_EMALFORMED for a non-canonical or invalid string,
 * PL_ETOOBIG when the result would exceed outmax.
 */
int pl_b64_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *in, size_t inlen) PL_WUR;

/* Like pl_b64_decode() but the result must be exactly n bytes (else PL_EMALFORMED). */
int pl_b64_decode_exact(uint8_t *out, size_t n, const char *in, size_t inlen) PL_WUR;

/* Writes the lowercase hex of in[0..n) to out (2n + 1 bytes), NUL-terminated. */
void pl_hex_encode(char *out, const uint8_t *in, size_t n);

/*
 * Decodes exactly 2n hex digits (either case) into n bytes.
 * Returns 0, or PL_EMALFORMED for a wrong length or a non-hex character.
 */
int pl_hex_decode_exact(uint8_t *out, size_t n, const char *in, size_t inlen) PL_WUR;

/* SHA-256 of in[0..n). */
void pl_sha256(uint8_t out[static PL_HASH_BYTES], const void *in, size_t n);

/*
 * Parses a decimal unsigned integer with no sign, no leading zeros (except
 * "0" itself), no whitespace, at most max. Returns 0, PL_EMALFORMED or PL_ERANGE.
 */
int pl_parse_u64(uint64_t *out, const char *s, size_t len, uint64_t max) PL_WUR;

/* True when s[0..n) is valid UTF-8 (shortest form, no surrogates, <= U+10FFFF). */
bool pl_utf8_is_valid(const char *s, size_t n);

#endif
