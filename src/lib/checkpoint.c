/* Transparency log checkpoints (c2sp.org/tlog-checkpoint): strict text form, signing, opening. */
#include <parley/checkpoint.h>

#include <inttypes.h>

#include "internal.h"

/* True when s[0..n) is a non-empty line: valid UTF-8, no control character at all. */
static bool line_is_valid(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20)
			return false;
	}
	return pl_utf8_is_valid(s, n);
}

int pl_checkpoint_set(struct pl_checkpoint *cp, const char *origin, uint64_t size,
                      const uint8_t root[static PL_HASH_BYTES])
{
	size_t n;
	int ret = PL_EINVAL;

	if (!origin || size > PL_CHECKPOINT_MAX_SIZE)
		goto out;
	n = strnlen(origin, PL_ORIGIN_MAX + 1);
	if (n > PL_ORIGIN_MAX || !line_is_valid(origin, n))
		goto out;
	memcpy(cp->origin, origin, n + 1);
	cp->size = size;
	memcpy(cp->root, root, PL_HASH_BYTES);
	cp->next = 0;
	cp->ext_len = 0;
	cp->ext[0] = '\0';
	ret = 0;
out:
	return ret;
}

int pl_checkpoint_add_extension(struct pl_checkpoint *cp, const char *line, size_t len)
{
	int ret;

	if (!line || !line_is_valid(line, len)) {
		ret = PL_EINVAL;
		goto out;
	}
	if (cp->next >= PL_CHECKPOINT_MAX_EXTENSIONS ||
	    len + 1 > PL_CHECKPOINT_MAX_BYTES - cp->ext_len) {
		ret = PL_ETOOBIG;
		goto out;
	}
	memcpy(cp->ext + cp->ext_len, line, len);
	cp->ext_len += len;
	cp->ext[cp->ext_len++] = '\n';
	cp->ext[cp->ext_len] = '\0';
	cp->next++;
	ret = 0;
out:
	return ret;
}

int pl_checkpoint_parse(struct pl_checkpoint *cp, const char *text, size_t len)
{
	struct pl_checkpoint c;
	const char *line;
	size_t n, pos = 0;
	int ret;

	if (len > PL_CHECKPOINT_MAX_BYTES) {
		ret = PL_ETOOBIG;
		goto out;
	}
	if (!pl_note_text_is_valid(text, len)) {
		ret = PL_EMALFORMED;
		goto out;
	}
	memset(&c, 0, offsetof(struct pl_checkpoint, ext) + 1);

	if (!pl__next_line(text, len, &pos, &line, &n) || n == 0) {
		ret = PL_EMALFORMED;
		goto out;
	}
	if (n > PL_ORIGIN_MAX) {
		ret = PL_ETOOBIG;
		goto out;
	}
	memcpy(c.origin, line, n);
	c.origin[n] = '\0';

	if (!pl__next_line(text, len, &pos, &line, &n)) {
		ret = PL_EMALFORMED;
		goto out;
	}
	ret = pl_parse_u64(&c.size, line, n, PL_CHECKPOINT_MAX_SIZE);
	if (ret) {
		ret = ret == PL_ERANGE ? PL_ETOOBIG : PL_EMALFORMED;
		goto out;
	}

	if (!pl__next_line(text, len, &pos, &line, &n) ||
	    pl_b64_decode_exact(c.root, PL_HASH_BYTES, line, n)) {
		ret = PL_EMALFORMED;
		goto out;
	}

	/* Whatever follows is extension lines, kept verbatim. */
	c.ext_len = len - pos;
	memcpy(c.ext, text + pos, c.ext_len);
	c.ext[c.ext_len] = '\0';
	while (pl__next_line(text, len, &pos, &line, &n)) {
		if (n == 0) {
			ret = PL_EMALFORMED;
			goto out;
		}
		if (++c.next > PL_CHECKPOINT_MAX_EXTENSIONS) {
			ret = PL_ETOOBIG;
			goto out;
		}
	}
	*cp = c;
	ret = 0;
out:
	return ret;
}

/* True when ext[0..ext_len) is next well-formed extension lines. */
static bool extensions_are_valid(const struct pl_checkpoint *cp)
{
	size_t pos = 0, count = 0, n;
	const char *line;

	if (cp->next > PL_CHECKPOINT_MAX_EXTENSIONS || cp->ext_len >= sizeof(cp->ext))
		return false;
	if (cp->ext_len > 0 && cp->ext[cp->ext_len - 1] != '\n')
		return false;
	while (pl__next_line(cp->ext, cp->ext_len, &pos, &line, &n)) {
		if (!line_is_valid(line, n))
			return false;
		count++;
	}
	return count == cp->next;
}

int pl_checkpoint_format(const struct pl_checkpoint *cp, struct pl_buf *out)
{
	size_t olen = strnlen(cp->origin, sizeof(cp->origin));
	size_t old = out->len;
	int ret;

	if (olen > PL_ORIGIN_MAX || !line_is_valid(cp->origin, olen) ||
	    cp->size > PL_CHECKPOINT_MAX_SIZE || !extensions_are_valid(cp)) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_buf_add(out, cp->origin, olen);
	if (!ret)
		ret = pl_buf_addf(out, "\n%" PRIu64 "\n", cp->size);
	if (!ret)
		ret = pl_b64_append(out, cp->root, PL_HASH_BYTES);
	if (!ret)
		ret = pl_buf_add(out, "\n", 1);
	if (!ret)
		ret = pl_buf_add(out, cp->ext, cp->ext_len);
	/* Whatever was built must parse back: one bound for writers and readers. */
	if (!ret && out->len - old > PL_CHECKPOINT_MAX_BYTES)
		ret = PL_EINVAL;
	if (ret)
		pl__buf_truncate(out, old);
out:
	return ret;
}

int pl_checkpoint_sign(struct pl_buf *out, const struct pl_checkpoint *cp,
                       const struct pl_skey *key)
{
	struct pl_buf text;
	int ret;

	pl_buf_init(&text, PL_CHECKPOINT_MAX_BYTES);
	ret = pl_checkpoint_format(cp, &text);
	if (ret)
		goto out;
	ret = pl_note_sign(out, text.data, text.len, key, 1);
out:
	pl_buf_release(&text);
	return ret;
}

int pl_checkpoint_open(struct pl_checkpoint *cp, struct pl_note **note, const char *msg, size_t len,
                       const char *origin, const struct pl_vkey *keys, size_t nkeys)
{
	struct pl_checkpoint c;
	struct pl_note *n = NULL;
	int ret;

	if (!origin) {
		ret = PL_EINVAL;
		goto out;
	}
	ret = pl_note_parse(&n, msg, len);
	if (ret)
		goto out;
	/* The text means nothing until a log key vouches for it: verify, then parse. */
	ret = pl_note_verify(n, keys, nkeys, NULL);
	if (ret)
		goto out;
	ret = pl_checkpoint_parse(&c, n->text, n->text_len);
	if (ret)
		goto out;
	if (strcmp(c.origin, origin) != 0) {
		ret = PL_EVERIFY;
		goto out;
	}
	*cp = c;
	if (note) {
		*note = n;
		n = NULL;
	}
out:
	pl_note_free(n);
	return ret;
}

bool pl_checkpoint_equal(const struct pl_checkpoint *a, const struct pl_checkpoint *b)
{
	return a->size == b->size && a->next == b->next && a->ext_len == b->ext_len &&
	       strcmp(a->origin, b->origin) == 0 && memcmp(a->root, b->root, PL_HASH_BYTES) == 0 &&
	       a->ext_len < sizeof(a->ext) && memcmp(a->ext, b->ext, a->ext_len) == 0;
}
