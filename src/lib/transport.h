/* The one curl transport of libparley: the exchange's client and the witness client use it. */
#ifndef PARLEY_TRANSPORT_H
#define PARLEY_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include <parley/error.h>

/*
 * One reused easy handle, set up for every request in one place: only http
 * and https, no redirects followed, no signals, a connect timeout and a
 * total timeout, the answer's size bounded (CURLOPT_MAXFILESIZE, and the
 * caller's body callback refusing past its own bound), curl's default CA
 * store for https. Used by one thread at a time; the caller owns the struct.
 */
struct pl__http {
	CURL *curl;
	char detail[CURL_ERROR_SIZE]; /* why the last request failed ("" if it did not) */
};

/* One request. Callbacks return the bytes taken; fewer makes curl end the transfer. */
struct pl__http_request {
	const char *url;
	bool post;        /* POST body[0..body_len), else GET */
	const void *body; /* NULL: an empty body */
	size_t body_len;
	struct curl_slist *headers; /* the caller's, kept until the request returns */
	const char *user_agent;
	long connect_ms;
	long timeout_ms;     /* <= 0: no total timeout (a stream) */
	long low_speed_s;    /* > 0: a transfer silent this long fails */
	size_t response_max; /* largest answer taken */
	size_t (*on_body)(char *p, size_t size, size_t nmemb, void *arg);
	void *body_arg;
	size_t (*on_header)(char *p, size_t size, size_t nmemb, void *arg); /* NULL: none */
	void *header_arg;
	bool (*cancelled)(void *arg); /* asked while the transfer runs; NULL: never */
	void *cancel_arg;
};

/* Sets up the handle (curl's global set-up once per process). 0 or PL_ENOMEM. */
int pl__http_init(struct pl__http *h) PL_WUR;

/* Frees the handle. A zeroed h is a no-op. */
void pl__http_release(struct pl__http *h);

/*
 * Performs rq. Returns 0 when an answer came, PL_ETOOBIG when it was larger
 * than rq->response_max, PL_ENET otherwise (no connection, a timeout, a
 * callback that refused, a cancel), with curl's detail in h->detail. *status
 * (if not NULL) gets the answer's HTTP status, 0 when none came; *cc (if not
 * NULL) curl's own code, for a caller that tells a timeout apart.
 */
int pl__http_perform(struct pl__http *h, const struct pl__http_request *rq, long *status,
                     CURLcode *cc) PL_WUR;

/* The HTTP status of the answer being received (from a body callback); 0 before it. */
long pl__http_status(struct pl__http *h);

#endif
