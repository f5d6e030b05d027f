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
 * A bounded set of the nonces seen within the time window, for replay
 * protection. A nonce is remembered until its request's time plus the
 * window, after which pl_auth_verify() refuses the request anyway; the set
 * never evicts an entry earlier, so when it is full it refuses new nonces
 * instead (the server answers 503). All functions are thread-safe.
 */
struct pl_auth_nonces;

/* Creates a set of at most max entries (>= 16) for the given window. Returns 0 or PL_ENOMEM,
 * PL_EINVAL. */
int pl_auth_nonces_new(struct pl_auth_nonces **out, size_t max, uint64_t window) PL_WUR;

/* Frees the set; NULL is a no-op. */
void pl_auth_nonces_free(struct pl_auth_nonces *c);

/*
 * Records the (key, nonce) of a verified header at server time now.
 * Returns 0 the first time; PL_EEXIST for a replay; PL_ERANGE when the
 * header's time is already outside the window; PL_ETOOBIG when the set is
 * full of unexpired nonces; PL_ENOMEM. Call only after pl_auth_verify()
 * succeeded, so that unauthenticated requests cannot fill the set.
 */
int pl_auth_nonces_add(struct pl_auth_nonces *c, const struct pl_auth *a, uint64_t now) PL_WUR;

/* Number of nonces currently remembered (for tests and metrics). */
size_t pl_auth_nonces_count(struct pl_auth_nonces *c);

#endif
