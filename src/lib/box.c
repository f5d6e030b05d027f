/* Payload blobs: XChaCha20-Poly1305 bodies, content keys sealed per reader, salted commitments. */
#include <parley/box.h>

#include <stdlib.h>

#include <sodium.h>

#include "internal.h"

/* The blob format of docs/payloads.md, version 1. */
static const uint8_t box_magic[4] = {'P', 'L', 'B', 'X'};
static const char commit_domain[] = "parley-box-v1-commit";
static const char tag_domain[] = "parley-box-v1-reader";

#define BOX_KEY_BYTES    crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define BOX_SEALED_BYTES (crypto_box_SEALBYTES + BOX_KEY_BYTES)
#define BOX_OFF_VERSION  4
#define BOX_OFF_NREADERS 5
#define BOX_OFF_NONCE    6
#define BOX_OFF_CTLEN    30

_Static_assert(BOX_KEY_BYTES == 32, "content key size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == PL_BOX_NONCE_BYTES, "nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES + PL_BOX_SALT_BYTES == PL_BOX_CT_EXTRA,
               "ciphertext overhead");
_Static_assert(PL_BOX_TAG_BYTES + BOX_SEALED_BYTES == PL_BOX_SLOT_BYTES, "slot size");
_Static_assert(BOX_OFF_CTLEN + 4 == PL_BOX_FIXED_BYTES, "fixed header size");
_Static_assert(crypto_box_PUBLICKEYBYTES == PL_BOX_PK_BYTES, "public key size");
_Static_assert(crypto_box_SECRETKEYBYTES == PL_BOX_SK_BYTES, "secret key size");
_Static_assert(PL_BOX_MAX_READERS >= 1 && PL_BOX_MAX_READERS <= 255, "reader count is one byte");
_Static_assert(PL_BOX_MAX_BODY <= UINT32_MAX - PL_BOX_CT_EXTRA, "length field is 32 bits");

static void put_be32(uint8_t p[static 4], uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t p[static 4])
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The tag of a reader's slot. Mixing in the blob's nonce keeps tags of the
 * same reader unlinkable across blobs for anyone who does not know the key.
 */
static void reader_tag(uint8_t tag[static PL_BOX_TAG_BYTES],
                       const uint8_t nonce[static PL_BOX_NONCE_BYTES],
                       const uint8_t pk[static PL_BOX_PK_BYTES])
{
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)tag_domain, sizeof(tag_domain) - 1);
	crypto_hash_sha256_update(&st, nonce, PL_BOX_NONCE_BYTES);
	crypto_hash_sha256_update(&st, pk, PL_BOX_PK_BYTES);
	crypto_hash_sha256_final(&st, h);
	memcpy(tag, h, PL_BOX_TAG_BYTES);
}

void pl_box_keypair_generate(struct pl_box_keypair *kp)
{
	crypto_box_keypair(kp->pk, kp->sk);
}

int pl_box_keypair_from_secret(struct pl_box_keypair *kp, const uint8_t sk[static PL_BOX_SK_BYTES])
{
	uint8_t pk[PL_BOX_PK_BYTES];
	int ret = 0;

	if (crypto_scalarmult_base(pk, sk) != 0) {
		ret = PL_EKEY;
		goto out;
	}
	memcpy(kp->pk, pk, sizeof(pk));
	memcpy(kp->sk, sk, PL_BOX_SK_BYTES);
out:
	sodium_memzero(pk, sizeof(pk));
	return ret;
}

void pl_box_keypair_clear(struct pl_box_keypair *kp)
{
	sodium_memzero(kp, sizeof(*kp));
}

bool pl_box_pk_is_valid(const uint8_t pk[static PL_BOX_PK_BYTES])
{
	/* Any scalar does: X25519 clears the low bits, so a low-order point always gives zero. */
	static const uint8_t probe[crypto_scalarmult_SCALARBYTES] = {
	        0x5c, 0x11, 0x3a, 0x9e, 0x27, 0x64, 0x80, 0x0d, 0x42, 0x7b, 0xe1,
	        0x36, 0x9f, 0x08, 0xc4, 0x55, 0x13, 0xaa, 0x6d, 0x70, 0x2e, 0xb9,
	        0x04, 0xf3, 0x48, 0x61, 0xd7, 0x1c, 0x8b, 0x35, 0xe0, 0x59,
	};
	uint8_t q[crypto_scalarmult_BYTES];

	return crypto_scalarmult(q, probe, pk) == 0;
}

void pl_box_commit(uint8_t out[static PL_BOX_COMMIT_BYTES],
                   const uint8_t salt[static PL_BOX_SALT_BYTES], const uint8_t *plaintext,
                   size_t len)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)commit_domain, sizeof(commit_domain) - 1);
	crypto_hash_sha256_update(&st, salt, PL_BOX_SALT_BYTES);
	if (len)
		crypto_hash_sha256_update(&st, plaintext, len);
	crypto_hash_sha256_final(&st, out);
	/* The state has absorbed the salt and the plaintext. */
	sodium_memzero(&st, sizeof(st));
}

void pl_box_hash(uint8_t out[static PL_BOX_HASH_BYTES], const uint8_t *blob, size_t len)
{
	crypto_hash_sha256(out, blob, len);
}

int pl_box_seal(uint8_t **blob, size_t *blob_len, uint8_t commit[static PL_BOX_COMMIT_BYTES],
                uint8_t *salt, const uint8_t *plaintext, size_t len,
                const uint8_t (*readers)[PL_BOX_PK_BYTES], size_t nreaders)
{
	uint8_t key[BOX_KEY_BYTES], s[PL_BOX_SALT_BYTES], c[PL_BOX_COMMIT_BYTES];
	uint8_t *b = NULL, *ct;
	size_t total = 0, hlen;
	unsigned long long clen;
	int ret = 0;

	if (nreaders == 0 || !readers || (len && !plaintext)) {
		ret = PL_EINVAL;
		goto out;
	}
	if (nreaders > PL_BOX_MAX_READERS || len > PL_BOX_MAX_BODY) {
		ret = PL_ETOOBIG;
		goto out;
	}
	for (size_t i = 0; i < nreaders; i++) {
		for (size_t j = i + 1; j < nreaders; j++) {
			if (memcmp(readers[i], readers[j], PL_BOX_PK_BYTES) == 0) {
				ret = PL_EINVAL;
				goto out;
			}
		}
	}
	hlen = PL_BOX_FIXED_BYTES + nreaders * PL_BOX_SLOT_BYTES;
	total = PL_BOX_BLOB_BYTES(nreaders, len);
	b = malloc(total);
	if (!b) {
		ret = PL_ENOMEM;
		goto out;
	}
	memcpy(b, box_magic, sizeof(box_magic));
	b[BOX_OFF_VERSION] = PL_BOX_VERSION;
	b[BOX_OFF_NREADERS] = (uint8_t)nreaders;
	randombytes_buf(b + BOX_OFF_NONCE, PL_BOX_NONCE_BYTES);
	put_be32(b + BOX_OFF_CTLEN, (uint32_t)(PL_BOX_CT_EXTRA + len));
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	randombytes_buf(s, sizeof(s));
	for (size_t i = 0; i < nreaders; i++) {
		uint8_t *slot = b + PL_BOX_FIXED_BYTES + i * PL_BOX_SLOT_BYTES;
		reader_tag(slot, b + BOX_OFF_NONCE, readers[i]);
		/* Fails for a low-order key, which would give no shared secret. */
		if (crypto_box_seal(slot + PL_BOX_TAG_BYTES, key, sizeof(key), readers[i]) != 0) {
			ret = PL_EKEY;
			goto out;
		}
	}
	/* Two readers whose tags collide could not find their slots: never emit such a blob. */
	for (size_t i = 0; i < nreaders; i++) {
		for (size_t j = i + 1; j < nreaders; j++) {
			if (memcmp(b + PL_BOX_FIXED_BYTES + i * PL_BOX_SLOT_BYTES,
			           b + PL_BOX_FIXED_BYTES + j * PL_BOX_SLOT_BYTES,
			           PL_BOX_TAG_BYTES) == 0) {
				ret = PL_EINVAL;
				goto out;
			}
		}
	}
	/* Salt and body are laid out in place and encrypted there: no plaintext copy to wipe. */
	ct = b + hlen;
	memcpy(ct, s, sizeof(s));
	if (len)
		memcpy(ct + sizeof(s), plaintext, len);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, ct, sizeof(s) + len, b, hlen, NULL,
	                                           b + BOX_OFF_NONCE, key);
	pl_box_commit(c, s, plaintext, len);
	*blob = b;
	*blob_len = total;
	memcpy(commit, c, sizeof(c));
	if (salt)
		memcpy(salt, s, sizeof(s));
	b = NULL;
out:
	if (b) {
		sodium_memzero(b, total);
		free(b);
	}
	sodium_memzero(key, sizeof(key));
	sodium_memzero(s, sizeof(s));
	return ret;
}

int pl_box_parse(struct pl_box_info *info, const uint8_t *blob, size_t len)
{
	struct pl_box_info in;
	uint32_t ctlen;
	size_t n;
	int ret = 0;

	if (!blob || len < PL_BOX_FIXED_BYTES) {
		ret = PL_EMALFORMED;
		goto out;
	}
	if (memcmp(blob, box_magic, sizeof(box_magic)) != 0 ||
	    blob[BOX_OFF_VERSION] != PL_BOX_VERSION) {
		ret = PL_EMALFORMED;
		goto out;
	}
	n = blob[BOX_OFF_NREADERS];
	if (n == 0) {
		ret = PL_EMALFORMED;
		goto out;
	}
	if (n > PL_BOX_MAX_READERS) {
		ret = PL_ETOOBIG;
		goto out;
	}
	ctlen = get_be32(blob + BOX_OFF_CTLEN);
	if (ctlen < PL_BOX_CT_EXTRA) {
		ret = PL_EMALFORMED;
		goto out;
	}
	if (ctlen - PL_BOX_CT_EXTRA > PL_BOX_MAX_BODY) {
		ret = PL_ETOOBIG;
		goto out;
	}
	/* Both terms are bounded above, so the sum cannot wrap; the size must match exactly. */
	in.header_len = PL_BOX_FIXED_BYTES + n * PL_BOX_SLOT_BYTES;
	if (len != in.header_len + ctlen) {
		ret = PL_EMALFORMED;
		goto out;
	}
	in.version = blob[BOX_OFF_VERSION];
	in.nreaders = n;
	in.body_len = ctlen - PL_BOX_CT_EXTRA;
	memcpy(in.nonce, blob + BOX_OFF_NONCE, PL_BOX_NONCE_BYTES);
	for (size_t i = 0; i < n; i++) {
		memcpy(in.tags[i], blob + PL_BOX_FIXED_BYTES + i * PL_BOX_SLOT_BYTES,
		       PL_BOX_TAG_BYTES);
		for (size_t j = 0; j < i; j++) {
			if (memcmp(in.tags[i], in.tags[j], PL_BOX_TAG_BYTES) == 0) {
				ret = PL_EMALFORMED;
				goto out;
			}
		}
	}
	*info = in;
out:
	return ret;
}

/* Index of the slot tagged for pk, or -1. */
static int find_slot(const struct pl_box_info *info, const uint8_t pk[static PL_BOX_PK_BYTES])
{
	uint8_t tag[PL_BOX_TAG_BYTES];

	reader_tag(tag, info->nonce, pk);
	for (size_t i = 0; i < info->nreaders; i++) {
		if (memcmp(info->tags[i], tag, PL_BOX_TAG_BYTES) == 0)
			return (int)i;
	}
	return -1;
}

bool pl_box_has_reader(const uint8_t *blob, size_t len, const uint8_t pk[static PL_BOX_PK_BYTES])
{
	struct pl_box_info info;

	if (pl_box_parse(&info, blob, len) != 0)
		return false;
	return find_slot(&info, pk) >= 0;
}

int pl_box_open(uint8_t **plaintext, size_t *plaintext_len, uint8_t salt[static PL_BOX_SALT_BYTES],
                const uint8_t *blob, size_t len, const struct pl_box_keypair *me,
                const uint8_t commit[static PL_BOX_COMMIT_BYTES])
{
	struct pl_box_info info;
	uint8_t key[BOX_KEY_BYTES], c[PL_BOX_COMMIT_BYTES];
	uint8_t *m = NULL;
	size_t mcap = 0, body_len;
	unsigned long long mlen;
	const uint8_t *slot;
	int ret, i;

	ret = pl_box_parse(&info, blob, len);
	if (ret)
		goto out;
	i = find_slot(&info, me->pk);
	if (i < 0) {
		ret = PL_ENOTFOUND;
		goto out;
	}
	slot = blob + PL_BOX_FIXED_BYTES + (size_t)i * PL_BOX_SLOT_BYTES + PL_BOX_TAG_BYTES;
	if (crypto_box_seal_open(key, slot, BOX_SEALED_BYTES, me->pk, me->sk) != 0) {
		ret = PL_ECRYPTO;
		goto out;
	}
	/* Salt and body; the body is moved to the front once the commitment holds. */
	mcap = PL_BOX_SALT_BYTES + info.body_len;
	m = malloc(mcap);
	if (!m) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, &mlen, NULL, blob + info.header_len,
	                                               len - info.header_len, blob, info.header_len,
	                                               info.nonce, key) != 0 ||
	    mlen != mcap) {
		ret = PL_ECRYPTO;
		goto out;
	}
	body_len = info.body_len;
	/*
	 * Poly1305 does not commit to the key: a sender can make one ciphertext
	 * that opens under two content keys. The commitment is what binds the
	 * plaintext to the record, so it is checked before anything is returned.
	 */
	pl_box_commit(c, m, m + PL_BOX_SALT_BYTES, body_len);
	if (sodium_memcmp(c, commit, PL_BOX_COMMIT_BYTES) != 0) {
		ret = PL_ECOMMIT;
		goto out;
	}
	memcpy(salt, m, PL_BOX_SALT_BYTES);
	memmove(m, m + PL_BOX_SALT_BYTES, body_len);
	/* The salt now sits only in the tail; wipe it, and terminate the body there. */
	sodium_memzero(m + body_len, PL_BOX_SALT_BYTES);
	*plaintext = m;
	*plaintext_len = body_len;
	m = NULL;
out:
	if (m) {
		sodium_memzero(m, mcap);
		free(m);
	}
	sodium_memzero(key, sizeof(key));
	return ret;
}

void pl_box_plaintext_free(uint8_t *plaintext, size_t len)
{
	if (!plaintext)
		return;
	sodium_memzero(plaintext, len);
	free(plaintext);
}

int pl_box_disclosure_verify(const uint8_t commit[static PL_BOX_COMMIT_BYTES],
                             const uint8_t salt[static PL_BOX_SALT_BYTES], const uint8_t *plaintext,
                             size_t len)
{
	uint8_t c[PL_BOX_COMMIT_BYTES];
	int ret = 0;

	if (len > PL_BOX_MAX_BODY) {
		ret = PL_ETOOBIG;
		goto out;
	}
	if (len && !plaintext) {
		ret = PL_EINVAL;
		goto out;
	}
	pl_box_commit(c, salt, plaintext, len);
	if (sodium_memcmp(c, commit, sizeof(c)) != 0)
		ret = PL_ECOMMIT;
out:
	return ret;
}
