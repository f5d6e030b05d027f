/* libFuzzer target: parleyd's control requests and answers parse strictly and round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A parsed request formats back to the very bytes it came from. */
static void request(const uint8_t *data, size_t size)
{
	struct pl_parleyd_control_req req;
	struct pl_buf again;

	if (pl_parleyd_control_request_parse(&req, (const char *)data, size) != 0)
		return;
	if (req.argc < 1 || req.argc > PL_PARLEYD_CONTROL_ARGS_MAX || req.argv[req.argc])
		abort();
	pl_buf_init(&again, PL_PARLEYD_CONTROL_REQUEST_MAX);
	if (pl_parleyd_control_request_format(req.argc, req.argv, &again) != 0 ||
	    again.len != size || memcmp(again.data, data, size) != 0)
		abort();
	pl_buf_release(&again);
	pl_parleyd_control_request_release(&req);
}

/* A parsed answer lies inside the input and formats back to it. */
static void answer(const uint8_t *data, size_t size)
{
	const char *o, *e, *in = (const char *)data;
	size_t ol, el;
	int code;
	struct pl_buf again;

	if (pl_parleyd_control_answer_parse(in, size, &code, &o, &ol, &e, &el) != 0)
		return;
	if (code < 0 || code > 255 || o < in || e != o + ol || e + el != in + size)
		abort();
	pl_buf_init(&again, PL_PARLEYD_CONTROL_ANSWER_MAX);
	if (pl_parleyd_control_answer_format(code, o, ol, e, el, &again) != 0 ||
	    again.len != size || memcmp(again.data, data, size) != 0)
		abort();
	pl_buf_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	request(data, size);
	answer(data, size);
	return 0;
}
