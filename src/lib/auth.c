/* Per-request Ed25519 signatures: the Authorization header, its message, and the nonce set. */
#include <parley/auth.h>

#include <pthread.h>
#include <stdlib.h>

#include <sodium.h>

#include "internal.h"

#define AUTH_CONTEXT      "parley/request/v1"
#define AUTH_NONCE_HEX    (2 * PL_AUTH_NONCE_BYTES)
#define AUTH_KEYID_HEX    (2 * PL_KEYID_BYTES)
#define AUTH_SIG_B64      PL_B64_LEN(PL_ED25519_SIG_BYTES)
#define AUTH_TIME_DIGITS  20
#define AUTH_METHOD_MAX   16
#define AUTH_MESSAGE_BASE 256 /* room for everything but the target and the key name */

/* True for a printable ASCII byte other than space. */
static bool is_graph(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* True when s[0..n) is lowercase hex, the only form the signed message uses. */
static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A key name as it may appear in the header: printable ASCII, no '+', 1..PL_KEY_NAME_MAX. */
static bool header_name_is_valid(const char *s, size_t n)
{
	if (n == 0 || n > PL_KEY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_graph((unsigned char)s[i]) || s[i] == '+')
			return false;
	return true;
}

static bool method_is_valid(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > AUTH_METHOD_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			return false;
	return true;
}

/* A request-target in origin form: '/' then printable ASCII without spaces. */
static bool target_is_valid(const char *t, size_t n)
{
	if (n == 0 || n > PL_HTTP_TARGET_MAX || t[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_graph((unsigned char)t[i]))
			return false;
	return true;
}

/* Builds the signed message into m (see auth.h). */
static int auth_message(struct pl_buf *m, const char *method, const char *target, size_t target_len,
                        const uint8_t body_hash[static PL_HASH_BYTES], uint64_t time,
                        const uint8_t nonce[static PL_AUTH_NONCE_BYTES], const char *name,
                        const uint8_t id[static PL_KEYID_BYTES])
{
	char hash_hex[PL_HASH_HEX_LEN + 1], nonce_hex[AUTH_NONCE_HEX + 1],
	        id_hex[AUTH_KEYID_HEX + 1];
	int ret;

	pl_hex_encode(hash_hex, body_hash, PL_HASH_BYTES);
	pl_hex_encode(nonce_hex, nonce, PL_AUTH_NONCE_BYTES);
	pl_hex_encode(id_hex, id, PL_KEYID_BYTES);
	ret = pl_buf_add(m, AUTH_CONTEXT, sizeof(AUTH_CONTEXT)); /* with its NUL */
	if (!ret)
		ret = pl_buf_addf(m, "%s\n", method);
	if (!ret)
		ret = pl_buf_add(m, target, target_len);
	if (!ret)
		ret = pl_buf_addf(m, "\n%s\n%llu\n%s\n%s+%s\n", hash_hex, (unsigned long long)time,
		                  nonce_hex, name, id_hex);
	return ret;
}

int pl_auth_sign(struct pl_buf *out, const struct pl_skey *sk, const char *method,
                 const char *target, size_t target_len, const void *body, size_t body_len,
                 uint64_t now, const uint8_t *nonce)
{
	uint8_t hash[PL_HASH_BYTES], n[PL_AUTH_NONCE_BYTES], sig[PL_ED25519_SIG_BYTES];
	char nonce_hex[AUTH_NONCE_HEX + 1], id_hex[AUTH_KEYID_HEX + 1], sig_b64[AUTH_SIG_B64 + 1];
	struct pl_buf m;
	size_t name_len = strlen(sk->name), old = out->len;
	int ret;

	pl_buf_init(&m, AUTH_MESSAGE_BASE + PL_HTTP_TARGET_MAX + PL_KEY_NAME_MAX);
	if (!method_is_valid(method) || !target_is_valid(target, target_len) ||
	    !header_name_is_valid(sk->name, name_len) || sk->type != PL_SIGTYPE_ED25519 ||
	    now > PL_AUTH_TIME_MAX || (body_len > 0 && !body)) {
		ret = PL_EINVAL;
		goto out;
	}
	if (nonce)
		memcpy(n, nonce, sizeof(n));
	else
		randombytes_buf(n, sizeof(n));
	pl_sha256(hash, body_len ? body : "", body_len);
	ret = auth_message(&m, method, target, target_len, hash, now, n, sk->name, sk->id);
	if (ret)
		goto out;
	crypto_sign_detached(sig, NULL, (const unsigned char *)m.data, m.len, sk->sk);
	pl_hex_encode(nonce_hex, n, sizeof(n));
	pl_hex_encode(id_hex, sk->id, PL_KEYID_BYTES);
	pl_b64_encode(sig_b64, sig, sizeof(sig));
	ret = pl_buf_addf(out, PL_AUTH_SCHEME " key=%s+%s, time=%llu, nonce=%s, sig=%s", sk->name,
	                  id_hex, (unsigned long long)now, nonce_hex, sig_b64);
	if (ret) {
		out->len = old;
		if (out->data)
			out->data[old] = '\0';
	}
out:
	pl_buf_release(&m);
	sodium_memzero(sig, sizeof(sig));
	return ret;
}

/* Consumes the literal lit at *p, or fails. */
static bool take(const char **p, const char *end, const char *lit)
{
	size_t k = strlen(lit);

	if ((size_t)(end - *p) < k || memcmp(*p, lit, k) != 0)
		return false;
	*p += k;
	return true;
}

/* Returns the length of the run at p up to the first stop byte (or end). */
static size_t span_to(const char *p, const char *end, char stop)
{
	const char *q = memchr(p, stop, (size_t)(end - p));

	return q ? (size_t)(q - p) : (size_t)(end - p);
}

int pl_auth_parse(struct pl_auth *a, const char *s, size_t len)
{
	struct pl_auth tmp;
	const char *p = s, *end = s + len;
	size_t n;
	int ret = PL_EMALFORMED;

	memset(&tmp, 0, sizeof(tmp));
	if (len > PL_AUTH_HEADER_MAX) {
		ret = PL_ETOOBIG;
		goto out;
	}
	if (!take(&p, end, PL_AUTH_SCHEME " key="))
		goto out;
	/* key=<name>+<keyid>: the name cannot contain '+' */
	n = span_to(p, end, '+');
	if (p + n == end || !header_name_is_valid(p, n))
		goto out;
	memcpy(tmp.key_name, p, n);
	tmp.key_name[n] = '\0';
	p += n + 1;
	if ((size_t)(end - p) < AUTH_KEYID_HEX || !is_lower_hex(p, AUTH_KEYID_HEX) ||
	    pl_hex_decode_exact(tmp.key_id, PL_KEYID_BYTES, p, AUTH_KEYID_HEX) != 0)
		goto out;
	p += AUTH_KEYID_HEX;
	if (!take(&p, end, ", time="))
		goto out;
	n = span_to(p, end, ',');
	if (n > AUTH_TIME_DIGITS || pl_parse_u64(&tmp.time, p, n, PL_AUTH_TIME_MAX) != 0)
		goto out;
	p += n;
	if (!take(&p, end, ", nonce="))
		goto out;
	if ((size_t)(end - p) < AUTH_NONCE_HEX || !is_lower_hex(p, AUTH_NONCE_HEX) ||
	    pl_hex_decode_exact(tmp.nonce, PL_AUTH_NONCE_BYTES, p, AUTH_NONCE_HEX) != 0)
		goto out;
	p += AUTH_NONCE_HEX;
	if (!take(&p, end, ", sig="))
		goto out;
	if ((size_t)(end - p) != AUTH_SIG_B64 ||
	    pl_b64_decode_exact(tmp.sig, PL_ED25519_SIG_BYTES, p, AUTH_SIG_B64) != 0)
		goto out;
	*a = tmp;
	ret = 0;
out:
	return ret;
}

int pl_auth_verify(const struct pl_auth *a, const struct pl_vkey *vk, const char *method,
                   const char *target, size_t target_len,
                   const uint8_t body_hash[static PL_HASH_BYTES], uint64_t now, uint64_t window)
{
	struct pl_buf m;
	int ret;

	pl_buf_init(&m, AUTH_MESSAGE_BASE + PL_HTTP_TARGET_MAX + PL_KEY_NAME_MAX);
	if (vk->type != PL_SIGTYPE_ED25519 || strcmp(vk->name, a->key_name) != 0 ||
	    memcmp(vk->id, a->key_id, PL_KEYID_BYTES) != 0) {
		ret = PL_EINVAL;
		goto out;
	}
	if (!method_is_valid(method) || !target_is_valid(target, target_len)) {
		ret = PL_EVERIFY;
		goto out;
	}
	if (a->time > now + window || now > a->time + window) {
		ret = PL_ERANGE;
		goto out;
	}
	ret = auth_message(&m, method, target, target_len, body_hash, a->time, a->nonce,
	                   a->key_name, a->key_id);
	if (ret)
		goto out;
	if (crypto_sign_verify_detached(a->sig, (const unsigned char *)m.data, m.len, vk->pk) != 0)
		ret = PL_EVERIFY;
out:
	pl_buf_release(&m);
	return ret;
}

/*
 * The nonce set: open addressing with linear probing over fingerprints
 * SHA-256(name || 0 || key ID || nonce)[0..8), each with its expiry time.
 * Expired entries are dropped by rebuilding the table, which needs no
 * tombstones; the table doubles up to max when live entries pass half.
 */
#define FP_BYTES 8 /* a collision only refuses a request, it never admits one */

struct nonce_slot {
	uint8_t fp[FP_BYTES];
	uint64_t expires; /* 0: empty */
};

struct pl_auth_nonces {
	pthread_mutex_t lock;
	struct nonce_slot *slots;
	size_t cap; /* power of two */
	size_t count;
	size_t max;
	uint64_t window;
	uint64_t full_at; /* when a purge last left the set full: purge at most once a second */
};

int pl_auth_nonces_new(struct pl_auth_nonces **out, size_t max, uint64_t window)
{
	struct pl_auth_nonces *c = NULL;
	int ret;

	if (max < 16 || max > ((size_t)1 << 30) || window == 0) {
		ret = PL_EINVAL;
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		ret = PL_ENOMEM;
		goto out;
	}
	c->cap = 64;
	c->slots = calloc(c->cap, sizeof(*c->slots));
	if (!c->slots || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->slots);
		free(c);
		c = NULL;
		ret = PL_ENOMEM;
		goto out;
	}
	c->max = max;
	c->window = window;
	*out = c;
	ret = 0;
out:
	return ret;
}

void pl_auth_nonces_free(struct pl_auth_nonces *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->slots);
	free(c);
}

static size_t slot_index(const uint8_t fp[static FP_BYTES], size_t cap)
{
	uint64_t h = pl__get_be64(fp);

	return (size_t)h & (cap - 1);
}

static void slot_put(struct nonce_slot *slots, size_t cap, const struct nonce_slot *s)
{
	size_t i = slot_index(s->fp, cap);

	while (slots[i].expires != 0)
		i = (i + 1) & (cap - 1);
	slots[i] = *s;
}

/* Rebuilds into cap slots, dropping entries expired at now. Returns 0 or PL_ENOMEM. */
static int nonces_rebuild(struct pl_auth_nonces *c, size_t cap, uint64_t now)
{
	struct nonce_slot *slots = calloc(cap, sizeof(*slots));
	size_t count = 0;

	if (!slots)
		return PL_ENOMEM;
	for (size_t i = 0; i < c->cap; i++) {
		if (c->slots[i].expires == 0 || c->slots[i].expires < now)
			continue;
		slot_put(slots, cap, &c->slots[i]);
		count++;
	}
	free(c->slots);
	c->slots = slots;
	c->cap = cap;
	c->count = count;
	return 0;
}

/*
 * Makes room for one more entry, keeping the load at most one half: purges
 * the expired entries when half full, and doubles (up to about 2 * max slots)
 * when more than a quarter is still live after that, so purges stay rare.
 */
static int nonces_reserve(struct pl_auth_nonces *c, uint64_t now)
{
	size_t cap = c->cap;
	int ret;

	if ((c->count + 1) * 2 <= c->cap && c->count < c->max)
		return 0;
	if (c->full_at == now)
		return PL_ETOOBIG;
	ret = nonces_rebuild(c, c->cap, now);
	if (ret)
		return ret;
	while (c->count * 4 >= cap && cap < 2 * c->max)
		cap *= 2;
	if (cap != c->cap) {
		ret = nonces_rebuild(c, cap, now);
		if (ret)
			return ret;
	}
	if (c->count >= c->max || (c->count + 1) * 2 > c->cap) {
		c->full_at = now;
		return PL_ETOOBIG;
	}
	return 0;
}

int pl_auth_nonces_add(struct pl_auth_nonces *c, const struct pl_auth *a, uint64_t now)
{
	crypto_hash_sha256_state st;
	uint8_t full[PL_HASH_BYTES];
	struct nonce_slot s;
	size_t i;
	int ret;

	if (a->time + c->window < now)
		return PL_ERANGE;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)a->key_name, strlen(a->key_name) + 1);
	crypto_hash_sha256_update(&st, a->key_id, PL_KEYID_BYTES);
	crypto_hash_sha256_update(&st, a->nonce, PL_AUTH_NONCE_BYTES);
	crypto_hash_sha256_final(&st, full);
	memcpy(s.fp, full, FP_BYTES);
	s.expires = a->time + c->window;
	if (s.expires == 0)
		s.expires = 1;

	pthread_mutex_lock(&c->lock);
	for (i = slot_index(s.fp, c->cap); c->slots[i].expires != 0; i = (i + 1) & (c->cap - 1)) {
		if (memcmp(c->slots[i].fp, s.fp, FP_BYTES) == 0 && c->slots[i].expires >= now) {
			ret = PL_EEXIST;
			goto out;
		}
	}
	ret = nonces_reserve(c, now);
	if (ret)
		goto out;
	/* A matching expired entry may remain until the next rebuild: harmless, it never matches
	 * again (its expiry is in the past) and the lookup above skipped it. */
	slot_put(c->slots, c->cap, &s);
	c->count++;
out:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

size_t pl_auth_nonces_count(struct pl_auth_nonces *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}
