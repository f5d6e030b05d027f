/* parleyd's list answers (statements, inbox, thread, line, parties), formatted as read. */
#include "http_private.h"

#include <stdio.h>
#include <stdlib.h>

#include <parley/apicodec.h>

#include "daemon/log.h"

/*
 * Appends the directory entry of the party named name to b, as GET /parties
 * lists it. Runs on an MHD worker: in the access handler for the first chunk,
 * in the content reader for the rest.
 */
static int party_text(struct pl_parleyd_http *h, struct pl_buf *b, bool first, const char *name)
{
	struct pl_exchange_party p;
	struct pl_exchange_entry reg;
	int ret;

	memset(&reg, 0, sizeof(reg));
	ret = pl_exchange_party_get(h->ex, name, &p);
	if (!ret)
		ret = pl_exchange_record_at(h->ex, NULL, p.register_index, &reg); /* public */
	if (!ret)
		ret = pl_apicodec_party(b, first, &p, &reg);
	pl_exchange_entry_release(&reg);
	return ret;
}

/*
 * Empties r->out and starts a list answer of src; the caller appends its head.
 * Runs on an MHD worker, in the access handler.
 */
void pl__http_list_begin(struct req *r, enum list_src src)
{
	pl_buf_release(&r->out);
	pl_buf_init(&r->out, LIST_BUFFER_MAX);
	r->out_off = 0;
	r->lsrc = src;
	r->item = r->count = r->bytes = 0;
	r->lend = r->lcut = r->ldone = false;
}

/*
 * Whether an entry of len record bytes still fits the answer (the first always
 * does). Runs on an MHD worker: in the access handler for the first chunk, in
 * the content reader for the rest.
 */
static bool list_fits(struct req *r, size_t len)
{
	if (r->count > 0 && r->bytes + len > LIST_BYTES_MAX) {
		r->lcut = true;
		return false;
	}
	return true;
}

/*
 * Statements or the inbox: the next page from r->cursor. Stops early at
 * LIST_CHUNK bytes (the rest from the next read) or at the byte limit of the
 * answer; then r->cursor is the index of the first record left out. Runs on an
 * MHD worker: in the access handler for the first chunk, in the content reader
 * for the rest.
 */
static int list_fill_page(struct req *r)
{
	struct pl_exchange_list l;
	size_t want = PL_HTTP_RECORDS_MAX_PAGE - r->count, i = 0;
	int err;

	if (want > LIST_PAGE)
		want = LIST_PAGE;
	memset(&l, 0, sizeof(l));
	err = r->lsrc == LS_STATEMENTS ? pl_exchange_statements(r->h->ex, r->cursor, want, &l)
	                               : pl_exchange_inbox(r->h->ex, r->party, r->cursor, want, &l);
	for (; !err && i < l.n; i++) {
		if (r->out.len >= LIST_CHUNK || !list_fits(r, l.v[i].note_len))
			break;
		err = pl_apicodec_entry(&r->out, r->count == 0, &l.v[i], NULL, 0);
		r->count++;
		r->bytes += l.v[i].note_len;
		r->cursor = l.v[i].index + 1;
	}
	if (!err && i < l.n)
		r->cursor = l.v[i].index;
	else if (!err && l.n < want) {
		if (l.next > r->cursor)
			r->cursor = l.next;
		r->lend = true;
	}
	pl_exchange_list_release(&l);
	return err;
}

/*
 * A thread, a line page or the directory: the next entry. Runs on an MHD
 * worker: in the access handler for the first chunk, in the content reader for
 * the rest.
 */
static int list_fill_item(struct req *r)
{
	struct pl_exchange_entry e;
	struct pl_buf proof;
	int err = 0;

	if (r->item == r->nitems) {
		r->lend = true;
		return 0;
	}
	if (r->lsrc == LS_PARTIES) {
		err = party_text(r->h, &r->out, r->count == 0, r->names[r->item]);
		r->item++;
		r->count++;
		return err;
	}
	memset(&e, 0, sizeof(e));
	pl_buf_init(&proof, PL_TLOG_PROOF_MAX_BYTES);
	err = pl_exchange_record_at(r->h->ex, req_reader(r), r->idx[r->item], &e);
	if (!err && r->lsrc == LS_LINE)
		err = pl_exchange_proof(r->h->ex, e.index, r->lsize, &proof);
	if (!err && (r->lsrc == LS_LINE || list_fits(r, e.note_len))) {
		err = pl_apicodec_entry(&r->out, r->count == 0, &e,
		                        r->lsrc == LS_LINE ? (proof.data ? proof.data : "") : NULL,
		                        proof.len);
		r->item++;
		r->count++;
		r->bytes += e.note_len;
	}
	pl_exchange_entry_release(&e);
	pl_buf_release(&proof);
	return err;
}

/*
 * Appends the next entries of r's list answer to r->out, up to about
 * LIST_CHUNK bytes, and after the last its closing text. Runs on an MHD
 * worker: in the access handler for the first chunk, in the content reader for
 * the rest.
 */
int pl__http_list_fill(struct req *r)
{
	bool paged = r->lsrc == LS_STATEMENTS || r->lsrc == LS_INBOX;
	int err = 0;

	while (!err && !r->ldone && r->out.len < LIST_CHUNK) {
		if (r->lend || r->lcut || (paged && r->count == PL_HTTP_RECORDS_MAX_PAGE)) {
			err = pl_apicodec_list_close(&r->out, paged, r->cursor);
			r->ldone = true;
		} else {
			err = paged ? list_fill_page(r) : list_fill_item(r);
		}
	}
	return err;
}

/*
 * MHD's content reader of a list answer: one chunk at a time, formatted when
 * it is read. Runs on an MHD worker, in the content reader.
 */
static ssize_t list_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct req *r = cls;
	size_t n;

	(void)pos;
	if (r->out_off == r->out.len) {
		/* Freed between chunks: a client that stops reading pins at most one. */
		pl_buf_release(&r->out);
		r->out_off = 0;
		if (r->ldone)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (pl__http_list_fill(r) != 0) {
			char detail[256];
			pl_exchange_last_error(r->h->ex, detail, sizeof(detail));
			pl_daemon_log("error", "http",
			              "msg=\"list answer cut short\" detail=\"%s\"", detail);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (r->out.len == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = r->out.len - r->out_off;
	if (n > max)
		n = max;
	memcpy(buf, r->out.data + r->out_off, n);
	r->out_off += n;
	return (ssize_t)n;
}

/*
 * Answers 200 with r's list answer, whose head is in r->out: formats its first
 * chunk now, so that an error found there is still answered with its status,
 * and the rest as the client reads. err is that of formatting the head (0 when
 * it went well). Runs on an MHD worker, in the access handler.
 */
enum MHD_Result pl__http_list_send(struct req *r, int err, const char *what)
{
	struct MHD_Response *resp;

	if (!err)
		err = pl__http_list_fill(r);
	if (err) {
		pl_buf_release(&r->out);
		return pl__http_send_lib_error(r, err, what);
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, LIST_CHUNK, list_read, r, NULL);
	if (!resp)
		return MHD_NO;
	pl__http_headers(resp, APP_JSON, CACHE_NONE);
	if (r->h->quiescing)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	return pl__http_queue(r, MHD_HTTP_OK, resp);
}

/*
 * Keeps the log indexes of l in r->idx, for an answer that reads each record
 * in its turn. Runs on an MHD worker, in the access handler.
 */
static int list_keep_indexes(struct req *r, const struct pl_exchange_list *l)
{
	r->idx = malloc((l->n ? l->n : 1) * sizeof(*r->idx));
	if (!r->idx)
		return PL_ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		r->idx[i] = l->v[i].index;
	r->nitems = l->n;
	return 0;
}

/* GET /records/<id>/thread. Runs on an MHD worker, in the access handler. */
enum MHD_Result pl__http_do_thread(struct req *r)
{
	struct pl_exchange_entry e;
	struct pl_exchange_list l;
	int err;

	memset(&e, 0, sizeof(e));
	memset(&l, 0, sizeof(l));
	err = pl_exchange_record(r->h->ex, req_reader(r), r->id, r->id_len, &e);
	if (!err)
		err = pl_exchange_thread(r->h->ex, req_reader(r), e.id, PL_HTTP_RECORDS_MAX_PAGE,
		                         &l);
	pl_exchange_entry_release(&e);
	if (!err)
		err = list_keep_indexes(r, &l);
	pl_exchange_list_release(&l);
	if (err)
		return pl__http_send_lib_error(r, err, "thread");
	pl__http_list_begin(r, LS_THREAD);
	return pl__http_list_send(r, pl_apicodec_records_open(&r->out), "thread");
}

/*
 * GET /lines/<name>?since=T&after=N: a page of the line's checks, each
 * followed by its answers and unanswered, each record with its tlog-proof
 * under the checkpoint of `size`, so that a client verifies the tally itself.
 * Runs on an MHD worker, in the access handler.
 */
enum MHD_Result pl__http_do_line(struct req *r)
{
	struct pl_exchange_list l;
	bool more = false;
	int err;

	memset(&l, 0, sizeof(l));
	err = pl_exchange_line(r->h->ex, req_reader(r), r->line, (int64_t)r->q.since, r->q.after, 0,
	                       &l, &more);
	if (!err)
		err = list_keep_indexes(r, &l);
	if (err) {
		pl_exchange_list_release(&l);
		return pl__http_send_lib_error(r, err, "line");
	}
	/* Read after the list: every record listed is below it, and a checkpoint is at it. */
	r->lsize = pl_exchange_size(r->h->ex);
	pl__http_list_begin(r, LS_LINE);
	err = pl_apicodec_line_open(&r->out, r->line, r->lsize, l.next, more);
	pl_exchange_list_release(&l);
	return pl__http_list_send(r, err, "line");
}

/* GET /parties: the directory. Runs on an MHD worker, in the access handler. */
enum MHD_Result pl__http_do_parties(struct req *r)
{
	struct pl_exchange_party *v = NULL;
	size_t n = 0;
	int err = pl_exchange_parties(r->h->ex, &v, &n);

	if (!err) {
		r->names = calloc(n ? n : 1, sizeof(*r->names));
		if (!r->names)
			err = PL_ENOMEM;
	}
	for (size_t i = 0; !err && i < n; i++) {
		size_t len = strlen(v[i].name);
		if (len >= sizeof(r->names[i])) {
			err = PL_ESTORE; /* not a party name: the directory is damaged */
			break;
		}
		memcpy(r->names[i], v[i].name, len + 1);
	}
	r->nitems = n;
	free(v);
	if (err)
		return pl__http_send_lib_error(r, err, "directory");
	pl__http_list_begin(r, LS_PARTIES);
	return pl__http_list_send(r, pl_apicodec_parties_open(&r->out), "directory");
}

/* GET /statements. Runs on an MHD worker, in the access handler. */
enum MHD_Result pl__http_do_statements(struct req *r)
{
	r->cursor = r->q.after;
	pl__http_list_begin(r, LS_STATEMENTS);
	return pl__http_list_send(r, pl_apicodec_records_open(&r->out), "statements");
}
