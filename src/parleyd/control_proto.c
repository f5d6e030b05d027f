/* parleyd's control socket: the request and answer codec, bounded, callable without a socket. */
#include "control.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/encoding.h>
#include <parley/error.h>

#include "banned.h"

#define CTL_MAGIC     "parleyd-control/1 "
#define CTL_MAGIC_LEN (sizeof(CTL_MAGIC) - 1)
#define CTL_DIGITS    20 /* digits of a number on the wire, at most */

/*
 * Reads the decimal number at buf[*pos] up to the terminator term, at most
 * max, and moves *pos past the terminator. Returns 0, PL_EMALFORMED, or
 * PL_ETOOBIG (over max).
 */
static int ctl_number(const char *buf, size_t len, size_t *pos, char term, uint64_t max,
                      uint64_t *v)
{
	size_t start = *pos, i = *pos;
	int ret;

	while (i < len && i - start <= CTL_DIGITS && buf[i] != term)
		i++;
	if (i >= len || buf[i] != term)
		ret = PL_EMALFORMED;
	else
		ret = pl_parse_u64(v, buf + start, i - start, max);
	if (ret == PL_ERANGE)
		ret = PL_ETOOBIG;
	else if (ret)
		ret = PL_EMALFORMED;
	else
		*pos = i + 1;
	return ret;
}

int pl_parleyd_control_request_format(int argc, char *const *argv, struct pl_buf *out)
{
	int ret = argc < 1 || argc > PL_PARLEYD_CONTROL_ARGS_MAX || !argv ? PL_EINVAL : 0;

	for (int i = 0; !ret && i < argc; i++)
		if (!argv[i] || strlen(argv[i]) > PL_PARLEYD_CONTROL_ARG_MAX)
			ret = PL_EINVAL;
	if (!ret)
		ret = pl_buf_addf(out, "%s%d\n", CTL_MAGIC, argc);
	for (int i = 0; !ret && i < argc; i++) {
		ret = pl_buf_addf(out, "%zu\n", strlen(argv[i]));
		if (!ret)
			ret = pl_buf_add(out, argv[i], strlen(argv[i]));
		if (!ret)
			ret = pl_buf_add(out, "\n", 1);
	}
	return ret;
}

int pl_parleyd_control_request_parse(struct pl_parleyd_control_req *req, const char *buf,
                                     size_t len)
{
	struct pl_parleyd_control_req r;
	size_t pos = CTL_MAGIC_LEN, used = 0;
	uint64_t argc = 0, n;
	int ret;

	memset(&r, 0, sizeof(r));
	if (!req || !buf) {
		ret = PL_EMALFORMED;
		goto out;
	}
	if (len > PL_PARLEYD_CONTROL_REQUEST_MAX) {
		ret = PL_ETOOBIG;
		goto out;
	}
	if (len < CTL_MAGIC_LEN || memcmp(buf, CTL_MAGIC, CTL_MAGIC_LEN) != 0) {
		ret = PL_EMALFORMED;
		goto out;
	}
	ret = ctl_number(buf, len, &pos, '\n', PL_PARLEYD_CONTROL_ARGS_MAX, &argc);
	if (!ret && argc == 0)
		ret = PL_EMALFORMED;
	/* Every argument and its NUL fit in len bytes: each takes at least two on the wire. */
	r.mem = ret ? NULL : malloc(len);
	if (!ret && !r.mem)
		ret = PL_ENOMEM;
	for (uint64_t i = 0; !ret && i < argc; i++) {
		ret = ctl_number(buf, len, &pos, '\n', PL_PARLEYD_CONTROL_ARG_MAX, &n);
		if (ret)
			break;
		if (n >= len - pos || buf[pos + n] != '\n' || memchr(buf + pos, '\0', n)) {
			ret = PL_EMALFORMED;
			break;
		}
		r.argv[i] = r.mem + used;
		memcpy(r.mem + used, buf + pos, n);
		r.mem[used + n] = '\0';
		used += n + 1;
		pos += n + 1;
	}
	if (!ret && pos != len)
		ret = PL_EMALFORMED; /* trailing bytes */
	if (!ret) {
		r.argc = (int)argc;
		r.argv[argc] = NULL;
		*req = r;
		r.mem = NULL;
	}
out:
	free(r.mem);
	return ret;
}

void pl_parleyd_control_request_release(struct pl_parleyd_control_req *req)
{
	if (!req)
		return;
	free(req->mem);
	memset(req, 0, sizeof(*req));
}

int pl_parleyd_control_answer_format(int code, const char *out, size_t outlen, const char *err,
                                     size_t errlen, struct pl_buf *buf)
{
	int ret = 0;

	if (code < 0 || code > 255 || outlen > PL_PARLEYD_CONTROL_TEXT_MAX ||
	    errlen > PL_PARLEYD_CONTROL_TEXT_MAX || (outlen && !out) || (errlen && !err))
		ret = PL_EINVAL;
	if (!ret)
		ret = pl_buf_addf(buf, "%s%d %zu %zu\n", CTL_MAGIC, code, outlen, errlen);
	if (!ret && outlen)
		ret = pl_buf_add(buf, out, outlen);
	if (!ret && errlen)
		ret = pl_buf_add(buf, err, errlen);
	return ret;
}

int pl_parleyd_control_answer_parse(const char *buf, size_t len, int *code, const char **out,
                                    size_t *outlen, const char **err, size_t *errlen)
{
	size_t pos = CTL_MAGIC_LEN;
	uint64_t c = 0, ol = 0, el = 0;
	int ret;

	if (!buf || len < CTL_MAGIC_LEN || memcmp(buf, CTL_MAGIC, CTL_MAGIC_LEN) != 0)
		ret = buf && len > PL_PARLEYD_CONTROL_ANSWER_MAX ? PL_ETOOBIG : PL_EMALFORMED;
	else
		ret = len > PL_PARLEYD_CONTROL_ANSWER_MAX ? PL_ETOOBIG : 0;
	if (!ret)
		ret = ctl_number(buf, len, &pos, ' ', 255, &c);
	if (!ret)
		ret = ctl_number(buf, len, &pos, ' ', PL_PARLEYD_CONTROL_TEXT_MAX, &ol);
	if (!ret)
		ret = ctl_number(buf, len, &pos, '\n', PL_PARLEYD_CONTROL_TEXT_MAX, &el);
	if (!ret && len - pos != ol + el)
		ret = PL_EMALFORMED;
	if (!ret) {
		*code = (int)c;
		*out = buf + pos;
		*outlen = (size_t)ol;
		*err = buf + pos + ol;
		*errlen = (size_t)el;
	}
	return ret;
}
