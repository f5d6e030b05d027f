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
	if (ret)
		pl__buf_truncate(out, old);
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

int pl_auth_digest_parse(uint8_t hash[static PL_HASH_BYTES], const char *s, size_t len)
{
	static const char prefix[] = PL_AUTH_DIGEST_PREFIX;
	const size_t plen = sizeof(prefix) - 1;
	uint8_t tmp[PL_HASH_BYTES];
	int ret = PL_EMALFORMED;

	if (len > PL_AUTH_DIGEST_LEN) {
		ret = PL_ETOOBIG;
		goto out;
	}
	if (len != PL_AUTH_DIGEST_LEN || memcmp(s, prefix, plen) != 0 || s[len - 1] != ':')
		goto out;
	if (pl_b64_decode_exact(tmp, PL_HASH_BYTES, s + plen, PL_HASH_B64_LEN) != 0)
		goto out;
	memcpy(hash, tmp, PL_HASH_BYTES);
	ret = 0;
out:
	return ret;
}

int pl_auth_digest_format(struct pl_buf *out, const void *body, size_t len)
{
	uint8_t hash[PL_HASH_BYTES];
	char b64[PL_HASH_B64_LEN + 1];

	pl_sha256(hash, len ? body : "", len);
	pl_b64_encode(b64, hash, PL_HASH_BYTES);
	return pl_buf_addf(out, PL_AUTH_DIGEST_PREFIX "%s:", b64);
}

/*
 * The nonce set: a table of keys, each with its own open-addressing table
 * (linear probing) of nonce fingerprints, each fingerprint with its expiry
 * time. A fingerprint is SipHash of the nonce under a random key of the
 * set's, so that a client cannot choose nonces that pile up on one probe
 * run. Expired entries are dropped by rebuilding a table, which needs no
 * tombstones; a key's table doubles up to about 2 * key_max slots when its
 * live entries pass half. Every window, and whenever the shared pool is
 * found full (at most once a second), every key is swept: expired nonces
 * dropped, tables shrunk, keys left with none forgotten.
 */
#define FP_BYTES       crypto_shorthash_BYTES /* a collision only refuses a request */
#define TABLE_MIN      16
#define KEY_TABLE_MIN  16
#define KEY_ID_CONTEXT "parley/nonce-key/v1"

struct nonce_slot {
	uint8_t fp[FP_BYTES];
	uint64_t expires; /* 0: empty */
};

/* One key's nonces. */
struct nonce_key {
	uint8_t id[PL_HASH_BYTES]; /* SHA-256 of the context, the key name, NUL and key ID */
	struct nonce_slot *slots;
	size_t cap; /* power of two */
	size_t count;
	uint64_t full_at; /* when a purge last left this key without room: at most once a second */
};

struct pl_auth_nonces {
	pthread_mutex_t lock;
	struct nonce_key **keys; /* open addressing by id, load at most one half */
	size_t keys_cap;         /* power of two */
	size_t nkeys;
	size_t shared, reserve, key_max;
	size_t cap_max;     /* the largest table of one key: a power of two >= 2 * key_max */
	size_t shared_used; /* sum over the keys of what each holds beyond its reserve */
	size_t total;
	uint64_t window;
	uint64_t swept_at;     /* time of the last sweep of every key */
	uint64_t pool_full_at; /* when a sweep last left the pool full: at most once a second */
	uint8_t fp_key[crypto_shorthash_KEYBYTES];
};

int pl_auth_nonces_new(struct pl_auth_nonces **out, size_t shared, size_t reserve, size_t key_max,
                       uint64_t window)
{
	const size_t lim = (size_t)1 << 30;
	struct pl_auth_nonces *c = NULL;
	int ret;

	if (reserve < 16 || reserve > lim || key_max < reserve || key_max > lim || shared > lim ||
	    key_max > reserve + shared || window == 0) {
		ret = PL_EINVAL;
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		ret = PL_ENOMEM;
		goto out;
	}
	c->keys_cap = KEY_TABLE_MIN;
	c->keys = calloc(c->keys_cap, sizeof(*c->keys));
	if (!c->keys || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->keys);
		free(c);
		c = NULL;
		ret = PL_ENOMEM;
		goto out;
	}
	c->shared = shared;
	c->reserve = reserve;
	c->key_max = key_max;
	for (c->cap_max = TABLE_MIN; c->cap_max < 2 * key_max;)
		c->cap_max *= 2;
	c->window = window;
	randombytes_buf(c->fp_key, sizeof(c->fp_key));
	*out = c;
	ret = 0;
out:
	return ret;
}

static void key_free(struct nonce_key *k)
{
	if (!k)
		return;
	free(k->slots);
	free(k);
}

void pl_auth_nonces_free(struct pl_auth_nonces *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->keys_cap; i++)
		key_free(c->keys[i]);
	pthread_mutex_destroy(&c->lock);
	free(c->keys);
	sodium_memzero(c->fp_key, sizeof(c->fp_key));
	free(c);
}

/* What n nonces of one key take from the shared pool. */
static size_t beyond_reserve(const struct pl_auth_nonces *c, size_t n)
{
	return n > c->reserve ? n - c->reserve : 0;
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

/*
 * Rebuilds k's table into cap slots, dropping entries expired at now, and
 * keeps the set's totals. Returns 0 or PL_ENOMEM (k unchanged).
 */
static int key_rebuild(struct pl_auth_nonces *c, struct nonce_key *k, size_t cap, uint64_t now)
{
	struct nonce_slot *slots = calloc(cap, sizeof(*slots));
	size_t count = 0;

	if (!slots)
		return PL_ENOMEM;
	for (size_t i = 0; i < k->cap; i++) {
		if (k->slots[i].expires == 0 || k->slots[i].expires < now)
			continue;
		slot_put(slots, cap, &k->slots[i]);
		count++;
	}
	c->shared_used -= beyond_reserve(c, k->count) - beyond_reserve(c, count);
	c->total -= k->count - count;
	free(k->slots);
	k->slots = slots;
	k->cap = cap;
	k->count = count;
	return 0;
}

static size_t key_index(const uint8_t id[static PL_HASH_BYTES], size_t cap)
{
	return (size_t)pl__get_be64(id) & (cap - 1);
}

/* Puts k into a key table of cap slots (a free slot exists). */
static void key_put(struct nonce_key **keys, size_t cap, struct nonce_key *k)
{
	size_t i = key_index(k->id, cap);

	while (keys[i])
		i = (i + 1) & (cap - 1);
	keys[i] = k;
}

/* Rebuilds the key table into cap slots (at least twice the keys). Returns 0 or PL_ENOMEM. */
static int keys_rebuild(struct pl_auth_nonces *c, size_t cap)
{
	struct nonce_key **keys = calloc(cap, sizeof(*keys));

	if (!keys)
		return PL_ENOMEM;
	for (size_t i = 0; i < c->keys_cap; i++)
		if (c->keys[i])
			key_put(keys, cap, c->keys[i]);
	free(c->keys);
	c->keys = keys;
	c->keys_cap = cap;
	return 0;
}

/*
 * Drops every expired nonce of every key, shrinks the tables to their live
 * entries and forgets the keys left with none. Without memory for a new key
 * table no key is forgotten (a hole would cut a probe run), and a table
 * whose rebuild fails stays as it was.
 */
static void nonces_sweep(struct pl_auth_nonces *c, uint64_t now)
{
	struct nonce_key **keys;
	size_t cap;

	for (cap = KEY_TABLE_MIN; cap < 2 * c->nkeys;)
		cap *= 2;
	keys = calloc(cap, sizeof(*keys));
	for (size_t i = 0; i < c->keys_cap; i++) {
		struct nonce_key *k = c->keys[i];
		size_t kcap;
		if (!k)
			continue;
		for (kcap = TABLE_MIN; kcap < 4 * k->count && kcap < c->cap_max;)
			kcap *= 2;
		(void)key_rebuild(c, k, kcap, now);
		if (!keys)
			continue;
		if (k->count == 0) {
			key_free(k);
			c->nkeys--;
		} else {
			key_put(keys, cap, k);
		}
	}
	if (keys) {
		free(c->keys);
		c->keys = keys;
		c->keys_cap = cap;
	}
	c->swept_at = now;
}

/* Finds the key with this id, or adds it. NULL without memory. */
static struct nonce_key *key_get(struct pl_auth_nonces *c, const uint8_t id[static PL_HASH_BYTES])
{
	struct nonce_key *k;
	size_t i;

	for (i = key_index(id, c->keys_cap); c->keys[i]; i = (i + 1) & (c->keys_cap - 1))
		if (memcmp(c->keys[i]->id, id, PL_HASH_BYTES) == 0)
			return c->keys[i];
	if ((c->nkeys + 1) * 2 > c->keys_cap && keys_rebuild(c, c->keys_cap * 2) != 0)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (k)
		k->slots = calloc(TABLE_MIN, sizeof(*k->slots));
	if (!k || !k->slots) {
		key_free(k);
		return NULL;
	}
	memcpy(k->id, id, PL_HASH_BYTES);
	k->cap = TABLE_MIN;
	key_put(c->keys, c->keys_cap, k);
	c->nkeys++;
	return k;
}

/* True when k may remember one more nonce. */
static bool key_has_room(const struct pl_auth_nonces *c, const struct nonce_key *k)
{
	return k->count < c->reserve || (k->count < c->key_max && c->shared_used < c->shared);
}

/*
 * Makes room in k for one more entry, keeping its load at most one half:
 * purges k's expired entries when it has no room or its table is half full,
 * sweeps every key when the shared pool is what is missing, and doubles k's
 * table (up to cap_max) when more than a quarter is still live after that.
 */
static int key_reserve(struct pl_auth_nonces *c, struct nonce_key *k, uint64_t now)
{
	size_t cap;
	int ret;

	if (key_has_room(c, k) && (k->count + 1) * 2 <= k->cap)
		return 0;
	if (k->full_at == now)
		return PL_ETOOBIG;
	ret = key_rebuild(c, k, k->cap, now);
	if (ret)
		return ret;
	if (!key_has_room(c, k) && k->count >= c->reserve && k->count < c->key_max &&
	    c->pool_full_at != now) {
		/* The pool is taken: other keys may hold expired nonces in it. */
		nonces_sweep(c, now);
		if (c->shared_used >= c->shared)
			c->pool_full_at = now;
	}
	for (cap = k->cap; k->count * 4 >= cap && cap < c->cap_max;)
		cap *= 2;
	if (cap != k->cap) {
		ret = key_rebuild(c, k, cap, now);
		if (ret)
			return ret;
	}
	if (!key_has_room(c, k) || (k->count + 1) * 2 > k->cap) {
		k->full_at = now;
		return PL_ETOOBIG;
	}
	return 0;
}

/* The id of the header's key: SHA-256 of a context, the key name, NUL and the key ID. */
static void key_id_of(uint8_t id[static PL_HASH_BYTES], const struct pl_auth *a)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)KEY_ID_CONTEXT,
	                          sizeof(KEY_ID_CONTEXT));
	crypto_hash_sha256_update(&st, (const unsigned char *)a->key_name, strlen(a->key_name) + 1);
	crypto_hash_sha256_update(&st, a->key_id, PL_KEYID_BYTES);
	crypto_hash_sha256_final(&st, id);
}

int pl_auth_nonces_add(struct pl_auth_nonces *c, const struct pl_auth *a, uint64_t now)
{
	uint8_t id[PL_HASH_BYTES];
	struct nonce_key *k;
	struct nonce_slot s;
	size_t i;
	int ret;

	if (a->time + c->window < now)
		return PL_ERANGE;
	key_id_of(id, a);
	crypto_shorthash(s.fp, a->nonce, PL_AUTH_NONCE_BYTES, c->fp_key);
	s.expires = a->time + c->window;
	if (s.expires == 0)
		s.expires = 1;

	pthread_mutex_lock(&c->lock);
	if (now >= c->swept_at + c->window)
		nonces_sweep(c, now); /* idle keys give their memory back */
	k = key_get(c, id);
	if (!k) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (i = slot_index(s.fp, k->cap); k->slots[i].expires != 0; i = (i + 1) & (k->cap - 1)) {
		if (memcmp(k->slots[i].fp, s.fp, FP_BYTES) == 0 && k->slots[i].expires >= now) {
			ret = PL_EEXIST;
			goto out;
		}
	}
	ret = key_reserve(c, k, now);
	if (ret)
		goto out;
	/* A matching expired entry may remain until the next rebuild: harmless, it never matches
	 * again (its expiry is in the past) and the lookup above skipped it. */
	slot_put(k->slots, k->cap, &s);
	if (k->count >= c->reserve)
		c->shared_used++;
	k->count++;
	c->total++;
out:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

size_t pl_auth_nonces_count(struct pl_auth_nonces *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->total;
	pthread_mutex_unlock(&c->lock);
	return n;
}

size_t pl_auth_nonces_key_count(struct pl_auth_nonces *c, const struct pl_auth *a)
{
	uint8_t id[PL_HASH_BYTES];
	size_t n = 0;

	key_id_of(id, a);
	pthread_mutex_lock(&c->lock);
	for (size_t i = key_index(id, c->keys_cap); c->keys[i]; i = (i + 1) & (c->keys_cap - 1)) {
		if (memcmp(c->keys[i]->id, id, PL_HASH_BYTES) == 0) {
			n = c->keys[i]->count;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}
