/* The one curl transport: handle set-up, bounded answers, headers to the caller's callback. */
#include "transport.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_result = CURLE_FAILED_INIT;

static void http_init_once(void)
{
	http_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int pl__http_init(struct pl__http *h)
{
	memset(h, 0, sizeof(*h));
	pthread_once(&http_once, http_init_once);
	if (http_init_result != CURLE_OK)
		return PL_ENOMEM;
	h->curl = curl_easy_init();
	return h->curl ? 0 : PL_ENOMEM;
}

void pl__http_release(struct pl__http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	h->curl = NULL;
}

static int http_on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const struct pl__http_request *rq = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return rq->cancelled(rq->cancel_arg) ? 1 : 0;
}

/* Every option of one request, on the handle reset from the last one. */
static void http_setup(struct pl__http *h, const struct pl__http_request *rq)
{
	CURL *c = h->curl;

	curl_easy_reset(c);
	h->detail[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_ms);
	if (rq->timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
	if (rq->low_speed_s > 0) {
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, rq->low_speed_s);
	}
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)rq->response_max);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->detail);
	curl_easy_setopt(c, CURLOPT_USERAGENT, rq->user_agent);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, rq->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rq->on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rq->body_arg);
	if (rq->on_header) {
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, rq->on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, rq->header_arg);
	}
	if (rq->cancelled) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)rq);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	if (rq->post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
}

int pl__http_perform(struct pl__http *h, const struct pl__http_request *rq, long *status,
                     CURLcode *cc)
{
	CURLcode rc;
	long st = 0;
	int ret = 0;

	http_setup(h, rq);
	rc = curl_easy_perform(h->curl);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &st);
	if (rc != CURLE_OK) {
		if (!h->detail[0])
			snprintf(h->detail, sizeof(h->detail), "%s", curl_easy_strerror(rc));
		ret = rc == CURLE_FILESIZE_EXCEEDED ? PL_ETOOBIG : PL_ENET;
	}
	if (status)
		*status = st;
	if (cc)
		*cc = rc;
	return ret;
}

long pl__http_status(struct pl__http *h)
{
	long st = 0;

	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &st);
	return st;
}
