/* Per-request signatures: sign an HTTP request (client), parse and verify one (server). */
#ifndef PARLEY_AUTH_H
#define PARLEY_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>

/*
 * The Authorization header (docs/api.md, "Authentication"):
 *
 *   Authorization: Parley-Ed25519 key=<name>+<keyid hex>, time=<unix seconds>,
 *                  nonce=<32 hex>, sig=<base64 of 64 bytes>
 *
 * on one line, fields in this order, separated by ", ". The signature is
 * Ed25519 by the named key over the message
 *
 *   "parley/request/v1" NUL
 *   <METHOD> LF <request-target> LF <hex SHA-256 of the body> LF
 *   <time> LF <nonce hex> LF <name>+<keyid hex> LF
 *
 * The NUL makes the message an invalid signed-note text, so a request
 * signature can never pass for a record or any other note signed by the
 * same key.
 */
#define PL_AUTH_SCHEME      "Parley-Ed25519"
#define PL_AUTH_NONCE_BYTES 16
#define PL_AUTH_TIME_MAX    253402300799u /* 9999-12-31T23:59:59Z */

/* A parsed Authorization header. Holds no secret. */
struct pl_auth {
	char key_name[PL_KEY_NAME_MAX + 1];
	uint8_t key_id[PL_KEYID_BYTES];
	uint64_t time;
	uint8_t nonce[PL_AUTH_NONCE_BYTES];
	uint8_t sig[PL_ED25519_SIG_BYTES];
};

/*
 * Appends to out the value of the Authorization header (without the
 * "Authorization: " prefix) for a request: method (an upper-case token),
 * target (the request-target exactly as sent: path and query, printable
 * ASCII, starting with '/'), body[0..body_len) (NULL with 0 for none), the
 * time now (unix seconds) and nonce (PL_AUTH_NONCE_BYTES bytes, or NULL for
 * a fresh random one). The key name must be printable ASCII.
 * Returns 0, PL_EINVAL (bad method, target, key name or key type) or a
 * pl_buf error (out unchanged). Thread-safe; temporaries are wiped.
 */
int pl_auth_sign(struct pl_buf *out, const struct pl_skey *sk, const char *method,
                 const char *target, size_t target_len, const void *body, size_t body_len,
                 uint64_t now, const uint8_t *nonce) PL_WUR;

/*
 * Parses an Authorization header value s[0..len) strictly: the scheme, the
 * four fields in order, single separators, canonical encodings, nothing
 * after. Does not verify. Returns 0 (a filled), PL_EMALFORMED or PL_ETOOBIG
 * (longer than PL_AUTH_HEADER_MAX). a is unchanged on error.
 */
int pl_auth_parse(struct pl_auth *a, const char *s, size_t len) PL_WUR;

/*
 * Verifies a parsed header against the registered key vk for a request with
 * the given method, target and body hash, at server time now, accepting a
 * time at most window seconds away from now in either direction.
 * Returns 0; PL_EINVAL when vk is not the key the header names (name, key
 * ID or type); PL_ERANGE outside the time window; PL_EVERIFY for a bad
 * signature. Does not check the nonce: see pl_auth_nonces_add().
 */
int pl_auth_verify(const struct pl_auth *a, const struct pl_vkey *vk, const char *method,
                   const char *target, size_t target_len,
                   const uint8_t body_hash[static PL_HASH_BYTES], uint64_t now,
                   uint64_t window) PL_WUR;

/*
 * The Content-Digest header (RFC 9530) of an authenticated request with a
 * body (docs/api.md, "Authentication"): the request signature covers the
 * body's SHA-256, so the client declares that hash in this header and the
 * server checks the signature before it reads the body, then checks that
 * the body it received hashes to the declared value. Exactly one member,
 * written exactly so:
 *
 *   Content-Digest: sha-256=:<standard padded base64 of the 32 bytes>:
 */
#define PL_AUTH_DIGEST_HEADER "Content-Digest"
#define PL_AUTH_DIGEST_PREFIX "sha-256=:"
#define PL_AUTH_DIGEST_LEN    (sizeof(PL_AUTH_DIGEST_PREFIX) - 1 + PL_HASH_B64_LEN + 1)

/*
 * Parses a Content-Digest value s[0..len) strictly: "sha-256=:", the 44
 * characters of the canonical padded base64 of 32 bytes, ":", nothing
 * before or after (no blanks, parameters, other algorithms or members).
 * Returns 0 (hash filled), PL_EMALFORMED or PL_ETOOBIG (longer than
 * PL_AUTH_DIGEST_LEN); hash is unchanged on error. Thread-safe.
 */
int pl_auth_digest_parse(uint8_t hash[static PL_HASH_BYTES], const char *s, size_t len) PL_WUR;

/*
 * Appends to out the Content-Digest value (without the "Content-Digest: "
 * prefix) of body[0..len) (NULL with 0 for none). Returns 0 or a pl_buf
 * error (out unchanged). Thread-safe.
 */
int pl_auth_digest_format(struct pl_buf *out, const void *body, size_t len) PL_WUR;

/*
 * The nonces seen within the time window, for replay protection, kept per
 * key so that no key's traffic can refuse another key's requests.
 *
 * A nonce is remembered until its request's time plus the window, after
 * which pl_auth_verify() refuses the request anyway; an entry is never
 * dropped earlier, so a replay inside the window is always caught. Each key
 * may hold `reserve` unexpired nonces that no other key can take; beyond
 * that it draws on a pool of `shared` nonces common to all keys, up to
 * `key_max` in all for itself. A key with no room left has its new nonces
 * refused (the server answers that key 503) while every other key keeps
 * at least its reserve. At most K * reserve + shared nonces are remembered,
 * K being the number of keys with an unexpired nonce (only keys whose
 * request signature verified get there: registered members).
 * All functions are thread-safe.
 */
struct pl_auth_nonces;

/*
 * Creates an empty set: 16 <= reserve <= key_max <= reserve + shared, each
 * at most 2^30, window > 0 (seconds). Memory grows with use.
 * Returns 0 (*out owns the set), PL_EINVAL or PL_ENOMEM.
 */
int pl_auth_nonces_new(struct pl_auth_nonces **out, size_t shared, size_t reserve, size_t key_max,
                       uint64_t window) PL_WUR;

/* Frees the set; NULL is a no-op. */
void pl_auth_nonces_free(struct pl_auth_nonces *c);

/*
 * Records the (key, nonce) of a verified header at server time now.
 * Returns 0 the first time; PL_EEXIST for a replay; PL_ERANGE when the
 * header's time is already outside the window; PL_ETOOBIG when this key has
 * no room (its reserve is full of unexpired nonces and it holds key_max or
 * the shared pool is taken); PL_ENOMEM. Call only after pl_auth_verify()
 * succeeded, so that unauthenticated requests cannot fill the set.
 */
int pl_auth_nonces_add(struct pl_auth_nonces *c, const struct pl_auth *a, uint64_t now) PL_WUR;

/* Number of nonces currently remembered, all keys together (for tests and metrics). */
size_t pl_auth_nonces_count(struct pl_auth_nonces *c);

/* Number of nonces currently remembered for the header's key (for tests and metrics). */
size_t pl_auth_nonces_key_count(struct pl_auth_nonces *c, const struct pl_auth *a);

#endif
