/* c2sp.org/tlog-proof@v1: one entry's inclusion under a signed checkpoint, verifiable offline. */
#include <parley/proof.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_INDEX ((uint64_t)INT64_MAX)

/* Reads the checkpoint out of a signed note without verifying it. */
static int note_checkpoint(struct pl_checkpoint *cp, const char *note, size_t note_len)
{
	struct pl_note *n = NULL;
	int ret;

	ret = pl_note_parse(&n, note, note_len);
	if (ret == 0)
		ret = pl_checkpoint_parse(cp, n->text, n->text_len);
	pl_note_free(n);
	return ret;
}

int pl_proof_format(struct pl_buf *out, uint64_t index, const uint8_t *extra, size_t extra_len,
                    const uint8_t (*hashes)[PL_HASH_BYTES], size_t nhashes, const char *note,
                    size_t note_len)
{
	struct pl_checkpoint cp;
	struct pl_buf b;
	int ret;

	pl_buf_init(&b, PL_TLOG_PROOF_MAX_BYTES);
	if (out == NULL || note == NULL || (nhashes > 0 && hashes == NULL) || index > MAX_INDEX ||
	    (extra != NULL && extra_len == 0)) {
		ret = PL_EINVAL;
		goto out;
	}
	if (nhashes > PL_PROOF_MAX_HASHES ||
	    (extra != NULL && extra_len > PL_TLOG_PROOF_EXTRA_MAX) ||
	    note_len > PL_TLOG_PROOF_MAX_BYTES) {
		ret = PL_ETOOBIG;
		goto out;
	}
	/* Only a proof that parses back may leave here. */
	if (note_checkpoint(&cp, note, note_len) != 0) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_buf_adds(&b, PL_PROOF_HEADER "\n");
	if (ret == 0 && extra != NULL) {
		ret = pl_buf_adds(&b, "extra ");
		if (ret == 0)
			ret = pl_b64_append(&b, extra, extra_len);
		if (ret == 0)
			ret = pl_buf_adds(&b, "\n");
	}
	if (ret == 0)
		ret = pl_buf_addf(&b, "index %llu\n", (unsigned long long)index);
	for (size_t i = 0; i < nhashes && ret == 0; i++) {
		ret = pl_b64_append(&b, hashes[i], PL_HASH_BYTES);
		if (ret == 0)
			ret = pl_buf_adds(&b, "\n");
	}
	if (ret == 0)
		ret = pl_buf_adds(&b, "\n");
	if (ret == 0)
		ret = pl_buf_add(&b, note, note_len);
	if (ret == 0)
		ret = pl_buf_add(out, b.data, b.len);
out:
	pl_buf_release(&b);
	return ret;
}

int pl_proof_build(struct pl_buf *out, const struct pl_tlog_reader *r, uint64_t index,
                   const uint8_t *extra, size_t extra_len, const char *note, size_t note_len)
{
	uint8_t hashes[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	struct pl_checkpoint cp;
	size_t n;
	int ret;

	if (out == NULL || r == NULL || note == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	if (note_checkpoint(&cp, note, note_len) != 0) {
		ret = PL_EINVAL;
		goto out;
	}
	if (index >= cp.size) {
		ret = PL_ERANGE;
		goto out;
	}
	ret = pl_tlog_prove_inclusion(r, cp.size, index, hashes, &n);
	if (ret == 0)
		ret = pl_proof_format(out, index, extra, extra_len, hashes, n, note, note_len);
out:
	return ret;
}

int pl_proof_parse(struct pl_proof **out, const char *text, size_t len)
{
	struct pl_checkpoint cp;
	struct pl_proof *p = NULL;
	const char *line;
	size_t pos = 0, n;
	int ret;

	p = pl__parse_open(out, text, len, PL_TLOG_PROOF_MAX_BYTES, sizeof(*p), PL_PROOF_HEADER,
	                   &pos, &ret);
	if (ret != 0)
		goto out;
	ret = PL_EMALFORMED;
	if (!pl__next_line(text, len, &pos, &line, &n))
		goto out;
	if (pl__has_prefix(line, n, "extra ")) {
		/* Present means non-empty: an empty extra would be a second spelling of none. */
		ret = pl_b64_decode(p->extra, sizeof(p->extra), &p->extra_len, line + 6, n - 6);
		if (ret == 0 && p->extra_len == 0)
			ret = PL_EMALFORMED;
		if (ret != 0)
			goto out;
		ret = PL_EMALFORMED;
		p->has_extra = true;
		if (!pl__next_line(text, len, &pos, &line, &n))
			goto out;
	}
	if (!pl__has_prefix(line, n, "index ") ||
	    pl_parse_u64(&p->index, line + 6, n - 6, MAX_INDEX) != 0)
		goto out;
	for (;;) {
		if (!pl__next_line(text, len, &pos, &line, &n))
			goto out;
		if (n == 0)
			break;
		if (p->nhashes == PL_PROOF_MAX_HASHES) {
			ret = PL_ETOOBIG;
			goto out;
		}
		if (pl_b64_decode_exact(p->hashes[p->nhashes], PL_HASH_BYTES, line, n) != 0)
			goto out;
		p->nhashes++;
	}
	/* The rest is the signed checkpoint, to the last byte. */
	ret = note_checkpoint(&cp, text + pos, len - pos);
	if (ret != 0)
		goto out;
	p->checkpoint_len = len - pos;
	p->checkpoint = malloc(p->checkpoint_len + 1);
	if (p->checkpoint == NULL) {
		ret = PL_ENOMEM;
		goto out;
	}
	memcpy(p->checkpoint, text + pos, p->checkpoint_len);
	p->checkpoint[p->checkpoint_len] = '\0';
	*out = p;
	p = NULL;
	ret = 0;
out:
	pl_proof_free(p);
	return ret;
}

void pl_proof_free(struct pl_proof *p)
{
	if (p != NULL) {
		free(p->checkpoint);
		free(p);
	}
}

int pl_proof_verify(const struct pl_proof *p, const uint8_t leaf_hash[static PL_HASH_BYTES],
                    const char *origin, const struct pl_vkey *keys, size_t nkeys,
                    struct pl_checkpoint *cp, struct pl_note **note)
{
	struct pl_checkpoint c;
	struct pl_note *n = NULL;
	int ret;

	if (p == NULL || leaf_hash == NULL || origin == NULL || (keys == NULL && nkeys > 0) ||
	    p->checkpoint == NULL) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_checkpoint_open(&c, note != NULL ? &n : NULL, p->checkpoint, p->checkpoint_len,
	                         origin, keys, nkeys);
	if (ret != 0)
		goto out;
	/* Checks index < size and the path's shape, then the root. */
	ret = pl_tlog_verify_inclusion(leaf_hash, p->index, c.size,
	                               (const uint8_t(*)[PL_HASH_BYTES])p->hashes, p->nhashes,
	                               c.root);
	if (ret != 0)
		goto out;
	if (cp != NULL)
		*cp = c;
	if (note != NULL) {
		*note = n;
		n = NULL;
	}
out:
	pl_note_free(n);
	return ret;
}

int pl_proof_open(const char *text, size_t len, const void *entry, size_t entry_len,
                  const char *origin, const struct pl_vkey *keys, size_t nkeys,
                  struct pl_checkpoint *cp, struct pl_note **note)
{
	uint8_t leaf[PL_HASH_BYTES];
	struct pl_proof *p = NULL;
	int ret;

	if (entry == NULL && entry_len > 0) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_proof_parse(&p, text, len);
	if (ret != 0)
		goto out;
	pl_tlog_leaf_hash(leaf, entry, entry_len);
	ret = pl_proof_verify(p, leaf, origin, keys, nkeys, cp, note);
out:
	pl_proof_free(p);
	return ret;
}

/*
 * Reads the checkpoint of a proof without trusting it, only to say what the
 * proof claims. Returns false when it does not parse.
 */
static bool claimed_checkpoint(const struct pl_proof *p, struct pl_checkpoint *cp,
                               struct pl_note **note)
{
	if (pl_note_parse(note, p->checkpoint, p->checkpoint_len) != 0)
		return false;
	if (pl_checkpoint_parse(cp, (*note)->text, (*note)->text_len) == 0)
		return true;
	pl_note_free(*note);
	*note = NULL;
	return false;
}

/* Sets why to what the line says and returns err (PL_ENOMEM when why cannot hold it). */
static int said(struct pl_buf *why, int err, const char *line)
{
	return pl_buf_adds(why, line) != 0 ? PL_ENOMEM : err;
}

/* Says why pl_proof_verify() refused p (err), in why. Returns err. */
static int explain(const struct pl_proof *p, const struct pl_proof_policy *pol, int err,
                   struct pl_buf *why)
{
	struct pl_checkpoint cp;
	struct pl_note *n = NULL;
	const struct pl_vkey *k = NULL;
	bool parsed = claimed_checkpoint(p, &cp, &n);
	char line[512];

	if (parsed && err == PL_EVERIFY)
		k = pl_note_failing_key(n, pol->logkeys, pol->nlogkeys);
	if (err == PL_EPROOF && parsed)
		snprintf(line, sizeof(line),
		         "entry is not at index %" PRIu64 " of %s at size %" PRIu64
		         ": the inclusion proof does not hold",
		         p->index, cp.origin, cp.size);
	else if (err == PL_EPROOF)
		snprintf(line, sizeof(line), "the inclusion proof does not hold");
	else if (err == PL_EVERIFY && k)
		snprintf(line, sizeof(line), "checkpoint: signature does not verify for key %s",
		         k->name);
	else if (err == PL_EVERIFY && parsed && strcmp(cp.origin, pol->origin) != 0)
		snprintf(line, sizeof(line), "checkpoint is for log '%s', not '%s'", cp.origin,
		         pol->origin);
	else if (err == PL_ENOKEY)
		snprintf(line, sizeof(line), "checkpoint is not signed by log key %s",
		         pol->logkeys[0].name);
	else
		snprintf(line, sizeof(line), "checkpoint: %s", pl_strerror(err));
	pl_note_free(n);
	return said(why, err, line);
}

/* Applies the witness policy to the verified checkpoint note n. */
static int witnesses(const struct pl_note *n, const struct pl_proof_policy *pol, size_t *count,
                     struct pl_buf *why)
{
	bool verified[PL_NOTE_MAX_SIGS] = {false};
	char line[128];
	int err;

	*count = 0;
	if (pol->nwitkeys == 0)
		return 0;
	if (pol->nwitkeys > PL_NOTE_MAX_SIGS)
		return said(why, PL_EINVAL, "more witness keys than a note holds signatures");
	err = pl_note_verify(n, pol->witkeys, pol->nwitkeys, verified);
	if (err == PL_EVERIFY)
		return said(why, err, "checkpoint: a witness cosignature does not verify");
	if (err != 0 && err != PL_ENOKEY) {
		snprintf(line, sizeof(line), "checkpoint: %s", pl_strerror(err));
		return said(why, err, line);
	}
	for (size_t i = 0; i < pol->nwitkeys; i++)
		*count += verified[i];
	if (*count >= pol->need)
		return 0;
	snprintf(line, sizeof(line),
	         "checkpoint cosigned by %zu of the given witnesses, %zu required", *count,
	         pol->need);
	return said(why, PL_ENOKEY, line);
}

int pl_proof_check(const struct pl_proof *p, const uint8_t leaf[static PL_HASH_BYTES],
                   const struct pl_proof_policy *policy, struct pl_checkpoint *cp, size_t *cosigned,
                   struct pl_buf *why)
{
	struct pl_checkpoint got;
	struct pl_note *n = NULL;
	size_t count = 0;
	int err;

	err = pl_proof_verify(p, leaf, policy->origin, policy->logkeys, policy->nlogkeys, &got, &n);
	if (err)
		return explain(p, policy, err, why);
	err = witnesses(n, policy, &count, why);
	pl_note_free(n);
	if (!err) {
		*cp = got;
		*cosigned = count;
	}
	return err;
}
