/* The API's wire objects: each JSON encoder (parleyd's) beside its decoder (the client's). */
#include <parley/apicodec.h>

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include <parley/client.h>
#include <parley/key.h>
#include <parley/limits.h>

#include "internal.h"

#define SSE_LINE_MAX    (8u * PL_RECORD_MAX_BYTES) /* a record, JSON-escaped */
#define HEADER_LINE_MAX 256
/* Records in one list or line answer: above what the server sends in a page. */
#define LIST_ITEMS_MAX PL_HTTP_RECORDS_MAX_PAGE
/* Directory entries: each is a key, and no directory holds more keys. */
#define PARTIES_MAX PL_DIRECTORY_MAX_KEYS

/* ---- Shared by the encoders and by the decoders ---- */

int pl_apicodec_string(struct pl_buf *b, const char *t, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	int ret = pl_buf_add(b, "\"", 1);

	for (size_t i = 0; !ret && i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)t[i] : 0;
		char esc[6] = {'\\', 0, '0', '0', 0, 0};
		size_t elen = 2;
		if (i < n && c >= 0x20 && c != '"' && c != '\\')
			continue;
		ret = pl_buf_add(b, t + run, i - run); /* the plain bytes before this one */
		run = i + 1;
		if (ret || i == n)
			break;
		esc[1] = c == '"'    ? '"'
		         : c == '\\' ? '\\'
		         : c == '\n' ? 'n'
		         : c == '\t' ? 't'
		                     : 'u';
		if (esc[1] == 'u') {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		ret = pl_buf_add(b, esc, elen);
	}
	return ret ? ret : pl_buf_add(b, "\"", 1);
}

/* Tells the caller of a parser why it refused (a static string); returns ret. */
static int refuse(const char **why, int ret, const char *reason)
{
	if (why)
		*why = reason;
	return ret;
}

static json_t *json_load_body(const char *body, size_t len)
{
	json_error_t je;

	return json_loadb(len ? body : "", len, JSON_REJECT_DUPLICATES, &je);
}

static bool json_u64(json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static bool json_hash(json_t *v, uint8_t out[static PL_HASH_BYTES])
{
	return json_is_string(v) && pl_hex_decode_exact(out, PL_HASH_BYTES, json_string_value(v),
	                                                json_string_length(v)) == 0;
}

static char *json_dup(json_t *v, size_t *len)
{
	size_t n;
	char *s;

	if (!json_is_string(v))
		return NULL;
	n = json_string_length(v);
	s = malloc(n + 1);
	if (!s)
		return NULL;
	memcpy(s, json_string_value(v), n);
	s[n] = '\0';
	*len = n;
	return s;
}

/* ---- The receipt: POST /records ---- */

/*
 * Written directly, not through a jansson tree: it is on every submission's
 * path, where building and dumping a tree cost more than the text.
 */
int pl_apicodec_receipt(struct pl_buf *b, const struct pl_receipt *r)
{
	char id[PL_HASH_HEX_LEN + 1];
	int ret;

	pl_hex_encode(id, r->id, PL_HASH_BYTES);
	ret = pl_buf_addf(b, "{\"index\":%llu,\"id\":\"%s\",\"size\":%llu,\"proof\":",
	                  (unsigned long long)r->index, id, (unsigned long long)r->size);
	if (!ret)
		ret = pl_apicodec_string(b, r->proof ? r->proof : "", r->proof_len);
	if (!ret)
		ret = pl_buf_adds(b, ",\"checkpoint\":");
	if (!ret)
		ret = pl_apicodec_string(b, r->checkpoint ? r->checkpoint : "", r->checkpoint_len);
	return ret ? ret : pl_buf_add(b, "}", 1);
}

int pl__client_receipt_parse(const char *body, size_t len, const char *rec, size_t rec_len,
                             struct pl_receipt *out, const char **why)
{
	struct pl_receipt r;
	uint8_t id[PL_HASH_BYTES];
	json_t *j = json_load_body(body, len);
	int ret;

	memset(&r, 0, sizeof(r));
	if (!j || !json_u64(json_object_get(j, "index"), &r.index) ||
	    !json_hash(json_object_get(j, "id"), r.id) ||
	    !json_u64(json_object_get(j, "size"), &r.size) ||
	    !(r.proof = json_dup(json_object_get(j, "proof"), &r.proof_len)) ||
	    !(r.checkpoint = json_dup(json_object_get(j, "checkpoint"), &r.checkpoint_len)) ||
	    r.index >= r.size) {
		ret = refuse(why, PL_EMALFORMED, "malformed answer: submission answer");
		goto out;
	}
	pl_sha256(id, rec_len ? rec : "", rec_len);
	if (memcmp(id, r.id, PL_HASH_BYTES) != 0) {
		ret = refuse(why, PL_EPROOF, "the answer is for another record");
		goto out;
	}
	*out = r;
	memset(&r, 0, sizeof(r));
	ret = 0;
out:
	pl_receipt_release(&r);
	json_decref(j);
	return ret;
}

/* ---- A record: GET /records/<id> (the record itself, its index in a header) ---- */

/* An id as a request names it: 8 to 64 hex digits. */
bool pl__client_id_is_valid(const char *id)
{
	size_t n = strlen(id);

	if (n < 8 || n > PL_HASH_HEX_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F')))
			return false;
	}
	return true;
}

int pl__client_index_header(const char *p, size_t n, uint64_t *index)
{
	static const char name[] = "parley-index:";
	size_t k = sizeof(name) - 1, a = k, b = n;

	if (n <= k || strncasecmp(p, name, k) != 0)
		return PL_ENOTFOUND;
	if (n >= HEADER_LINE_MAX)
		return PL_EMALFORMED;
	while (a < b && (p[a] == ' ' || p[a] == '\t'))
		a++;
	while (b > a && (p[b - 1] == '\r' || p[b - 1] == '\n' || p[b - 1] == ' '))
		b--;
	return pl_parse_u64(index, p + a, b - a, INT64_MAX) == 0 ? 0 : PL_EMALFORMED;
}

int pl__client_record_parse(const char *body, size_t len, const char *id, const uint64_t *index,
                            struct pl_client_entry *out, const char **why)
{
	char hex[PL_HASH_HEX_LEN + 1];
	struct pl_client_entry e;
	int ret;

	memset(&e, 0, sizeof(e));
	if (!id || !pl__client_id_is_valid(id)) {
		ret = PL_EINVAL;
		goto out;
	}
	if (!index) {
		ret = refuse(why, PL_EMALFORMED, "malformed answer: no Parley-Index header");
		goto out;
	}
	pl_sha256(e.id, len ? body : "", len);
	pl_hex_encode(hex, e.id, PL_HASH_BYTES);
	if (strncasecmp(hex, id, strlen(id)) != 0) {
		ret = refuse(why, PL_EPROOF, "the answer is another record");
		goto out;
	}
	e.index = *index;
	e.note = malloc(len + 1);
	if (!e.note) {
		ret = PL_ENOMEM;
		goto out;
	}
	if (len)
		memcpy(e.note, body, len);
	e.note[len] = '\0';
	e.note_len = len;
	*out = e;
	ret = 0;
out:
	return ret;
}

/* ---- Lists of records: statements, inbox, thread, a line page ---- */

int pl_apicodec_entry(struct pl_buf *b, bool first, const struct pl_exchange_entry *e,
                      const char *proof, size_t proof_len)
{
	char id[PL_HASH_HEX_LEN + 1];
	int ret = first ? 0 : pl_buf_add(b, ",", 1);

	pl_hex_encode(id, e->id, PL_HASH_BYTES);
	if (!ret)
		ret = pl_buf_addf(b, "{\"index\":%llu,\"id\":\"%s\",\"record\":",
		                  (unsigned long long)e->index, id);
	if (!ret)
		ret = pl_apicodec_string(b, e->note ? e->note : "", e->note_len);
	if (!ret && proof)
		ret = pl_buf_adds(b, ",\"proof\":");
	if (!ret && proof)
		ret = pl_apicodec_string(b, proof, proof_len);
	return ret ? ret : pl_buf_add(b, "}", 1);
}

int pl_apicodec_records_open(struct pl_buf *b)
{
	return pl_buf_adds(b, "{\"records\":[");
}

int pl_apicodec_line_open(struct pl_buf *b, const char *line, uint64_t size, uint64_t next,
                          bool more)
{
	int ret = pl_buf_adds(b, "{\"line\":");

	if (!ret)
		ret = pl_apicodec_string(b, line, strlen(line));
	if (!ret)
		ret = pl_buf_addf(b, ",\"size\":%llu,\"next\":%llu,\"more\":%s,\"records\":[",
		                  (unsigned long long)size, (unsigned long long)next,
		                  more ? "true" : "false");
	return ret;
}

int pl_apicodec_list_close(struct pl_buf *b, bool has_next, uint64_t next)
{
	if (has_next)
		return pl_buf_addf(b, "],\"next\":%llu}", (unsigned long long)next);
	return pl_buf_adds(b, "]}");
}

/* Room for the items of the JSON array a: NULL for none; *ret is 0 or PL_ENOMEM. */
static void *items_alloc(const json_t *a, size_t size, int *ret)
{
	void *v = json_array_size(a) > 0 ? calloc(json_array_size(a), size) : NULL;

	*ret = json_array_size(a) > 0 && !v ? PL_ENOMEM : 0;
	return v;
}

/* One {"index","id","record"} object; checks that id is SHA-256 of the record. */
static int entry_from_json(json_t *o, struct pl_client_entry *e)
{
	uint8_t h[PL_HASH_BYTES];

	memset(e, 0, sizeof(*e));
	if (!json_is_object(o) || !json_u64(json_object_get(o, "index"), &e->index) ||
	    !json_hash(json_object_get(o, "id"), e->id))
		return PL_EMALFORMED;
	e->note = json_dup(json_object_get(o, "record"), &e->note_len);
	if (!e->note)
		return PL_EMALFORMED;
	pl_sha256(h, e->note, e->note_len);
	if (sodium_memcmp(h, e->id, PL_HASH_BYTES) != 0) {
		pl_client_entry_release(e);
		return PL_EPROOF;
	}
	return 0;
}

int pl__client_list_parse(const char *body, size_t len, bool want_next, struct pl_client_list *out,
                          const char **why)
{
	struct pl_client_list l = {NULL, 0, 0};
	json_t *j = json_load_body(body, len), *a;
	int ret = 0;

	if (!j || !json_is_array(a = json_object_get(j, "records")) ||
	    json_array_size(a) > LIST_ITEMS_MAX ||
	    (want_next && !json_u64(json_object_get(j, "next"), &l.next))) {
		ret = refuse(why, PL_EMALFORMED, "malformed answer: record list");
		goto out;
	}
	l.v = items_alloc(a, sizeof(*l.v), &ret);
	if (ret)
		goto out;
	for (size_t i = 0; i < json_array_size(a); i++) {
		ret = entry_from_json(json_array_get(a, i), &l.v[i]);
		if (ret) {
			(void)refuse(why, ret, "malformed answer: record entry");
			goto out;
		}
		l.n++;
	}
	*out = l;
	memset(&l, 0, sizeof(l));
out:
	pl_client_list_release(&l);
	json_decref(j);
	return ret;
}

/* {"line", "size", "next", "more", "records": [{index, id, record, proof}]}. */
int pl__client_line_parse(const char *body, size_t len, const char *line,
                          struct pl_client_line *out, const char **why)
{
	struct pl_client_line l;
	json_t *j = json_load_body(body, len), *a, *ln;
	int ret = 0;

	memset(&l, 0, sizeof(l));
	if (!line) {
		ret = PL_EINVAL;
		goto out;
	}
	if (!j || !json_is_array(a = json_object_get(j, "records")) ||
	    json_array_size(a) > LIST_ITEMS_MAX || !json_u64(json_object_get(j, "size"), &l.size) ||
	    !json_u64(json_object_get(j, "next"), &l.next) ||
	    !json_is_boolean(json_object_get(j, "more")) ||
	    !json_is_string(ln = json_object_get(j, "line")) ||
	    strcmp(json_string_value(ln), line)) {
		ret = refuse(why, PL_EMALFORMED, "malformed answer: line");
		goto out;
	}
	l.more = json_is_true(json_object_get(j, "more"));
	l.v = items_alloc(a, sizeof(*l.v), &ret);
	if (ret)
		goto out;
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);
		struct pl_client_entry e;
		ret = entry_from_json(o, &e);
		if (ret) {
			(void)refuse(why, ret, "malformed answer: line record");
			goto out;
		}
		l.v[i].index = e.index;
		memcpy(l.v[i].id, e.id, PL_HASH_BYTES);
		l.v[i].note = e.note;
		l.v[i].note_len = e.note_len;
		l.n++;
		l.v[i].proof = json_dup(json_object_get(o, "proof"), &l.v[i].proof_len);
		if (!l.v[i].proof) {
			ret = refuse(why, PL_EMALFORMED, "malformed answer: line record proof");
			goto out;
		}
	}
	*out = l;
	memset(&l, 0, sizeof(l));
out:
	pl_client_line_release(&l);
	json_decref(j);
	return ret;
}

/* ---- The directory: GET /parties ---- */

int pl_apicodec_parties_open(struct pl_buf *b)
{
	return pl_buf_adds(b, "{\"parties\":[");
}

int pl_apicodec_party(struct pl_buf *b, bool first, const struct pl_exchange_party *p,
                      const struct pl_exchange_entry *reg)
{
	char id[PL_HASH_HEX_LEN + 1];
	struct pl_buf vk;
	int ret = first ? 0 : pl_buf_add(b, ",", 1);

	pl_buf_init(&vk, PL_KEY_NAME_MAX + 128);
	if (!ret)
		ret = pl_vkey_format(&p->vkey, &vk);
	if (!ret)
		ret = pl_buf_adds(b, "{\"name\":");
	if (!ret)
		ret = pl_apicodec_string(b, p->name, strlen(p->name));
	if (!ret)
		ret = pl_buf_adds(b, ",\"vkey\":");
	if (!ret)
		ret = pl_apicodec_string(b, vk.data ? vk.data : "", vk.len);
	if (!ret)
		ret = pl_buf_adds(b, ",\"enc_key\":");
	if (!ret)
		ret = pl_apicodec_string(b, p->enc_key, strlen(p->enc_key));
	if (!ret) {
		pl_hex_encode(id, reg->id, PL_HASH_BYTES);
		ret = pl_buf_addf(
		        b, ",\"register_index\":%llu,\"register_id\":\"%s\",\"register_record\":",
		        (unsigned long long)p->register_index, id);
	}
	if (!ret)
		ret = pl_apicodec_string(b, reg->note ? reg->note : "", reg->note_len);
	if (!ret)
		ret = pl_buf_adds(b, p->revoked ? ",\"revoked\":true" : ",\"revoked\":false");
	if (!ret && p->revoked)
		ret = pl_buf_addf(b, ",\"revoke_index\":%llu", (unsigned long long)p->revoke_index);
	if (!ret)
		ret = pl_buf_add(b, "}", 1);
	pl_buf_release(&vk);
	return ret;
}

static int party_from_json(json_t *o, struct pl_client_party *p)
{
	json_t *v;
	const char *s;

	memset(p, 0, sizeof(*p));
	if (!json_is_object(o))
		return PL_EMALFORMED;
	v = json_object_get(o, "name");
	if (!json_is_string(v) || json_string_length(v) > PL_KEY_NAME_MAX)
		return PL_EMALFORMED;
	memcpy(p->name, json_string_value(v), json_string_length(v) + 1);
	v = json_object_get(o, "vkey");
	if (!json_is_string(v) ||
	    pl_vkey_parse(&p->vkey, json_string_value(v), json_string_length(v)) != 0)
		return PL_EMALFORMED;
	v = json_object_get(o, "enc_key");
	if (!json_is_string(v) || json_string_length(v) > PL_CLIENT_ENC_KEY_MAX)
		return PL_EMALFORMED;
	s = json_string_value(v);
	memcpy(p->enc_key, s, json_string_length(v) + 1);
	if (!json_u64(json_object_get(o, "register_index"), &p->register_index) ||
	    !json_hash(json_object_get(o, "register_id"), p->register_id) ||
	    !json_is_boolean(json_object_get(o, "revoked")))
		return PL_EMALFORMED;
	p->revoked = json_is_true(json_object_get(o, "revoked"));
	if (p->revoked && !json_u64(json_object_get(o, "revoke_index"), &p->revoke_index))
		return PL_EMALFORMED;
	p->register_record =
	        json_dup(json_object_get(o, "register_record"), &p->register_record_len);
	if (!p->register_record)
		return PL_EMALFORMED;
	return 0;
}

int pl__client_parties_parse(const char *body, size_t len, struct pl_client_party **out, size_t *n,
                             const char **why)
{
	struct pl_client_party *v = NULL;
	json_t *j = json_load_body(body, len), *a;
	size_t k = 0;
	int ret = 0;

	if (!j || !json_is_array(a = json_object_get(j, "parties")) ||
	    json_array_size(a) > PARTIES_MAX) {
		ret = refuse(why, PL_EMALFORMED, "malformed answer: directory");
		goto out;
	}
	v = calloc(json_array_size(a) + 1, sizeof(*v));
	if (!v) {
		ret = PL_ENOMEM;
		goto out;
	}
	for (k = 0; k < json_array_size(a); k++) {
		if (party_from_json(json_array_get(a, k), &v[k]) != 0) {
			free(v[k].register_record);
			ret = refuse(why, PL_EMALFORMED, "malformed answer: directory entry");
			goto out;
		}
	}
	*out = v;
	*n = k;
	v = NULL;
out:
	pl_client_parties_free(v, k);
	json_decref(j);
	return ret;
}

/* ---- A consistency proof: GET /consistency (text, one base64 hash a line) ---- */

int pl__client_consistency_parse(const char *body, size_t len, uint8_t hashes[][PL_HASH_BYTES],
                                 size_t *n, const char **why)
{
	uint8_t h[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	size_t k = 0, i = 0;
	int ret = 0;

	while (i < len) {
		const char *nl = memchr(body + i, '\n', len - i);
		if (!nl || k >= PL_PROOF_MAX_HASHES ||
		    pl_b64_decode_exact(h[k], PL_HASH_BYTES, body + i, (size_t)(nl - body) - i) !=
		            0) {
			ret = refuse(why, PL_EMALFORMED, "malformed answer: consistency proof");
			goto out;
		}
		k++;
		i = (size_t)(nl - body) + 1;
	}
	if (k > 0)
		memcpy(hashes, h, k * PL_HASH_BYTES);
	*n = k;
out:
	return ret;
}

/* ---- A payload: POST /payloads ---- */

int pl_apicodec_payload(struct pl_buf *b, const uint8_t hash[static PL_HASH_BYTES], uint64_t size)
{
	char hex[PL_HASH_HEX_LEN + 1];

	pl_hex_encode(hex, hash, PL_HASH_BYTES);
	return pl_buf_addf(b, "{\"hash\":\"%s\",\"size\":%llu}", hex, (unsigned long long)size);
}

int pl__client_payload_parse(const char *body, size_t len, const uint8_t sent[static PL_HASH_BYTES],
                             const char **why)
{
	uint8_t theirs[PL_HASH_BYTES];
	json_t *j = json_load_body(body, len);
	int ret = 0;

	if (!j || !json_hash(json_object_get(j, "hash"), theirs))
		ret = refuse(why, PL_EMALFORMED, "malformed answer: payload answer");
	else if (memcmp(sent, theirs, PL_HASH_BYTES) != 0)
		ret = refuse(why, PL_EPROOF, "the server stored other bytes than were sent");
	json_decref(j);
	return ret;
}

/* ---- Errors: every refusal ---- */

int pl_apicodec_error(struct pl_buf *b, const char *code, const char *reason,
                      const struct pl_exchange_refusal *chain)
{
	char id[PL_HASH_HEX_LEN + 1];
	int ret = pl_buf_adds(b, "{\"error\":");

	/* A reason is the server's own text; one that is not UTF-8 is not sent as JSON. */
	if (!pl_utf8_is_valid(reason, strlen(reason)))
		reason = "(a reason that is not UTF-8)";
	if (!ret)
		ret = pl_apicodec_string(b, code, strlen(code));
	if (!ret)
		ret = pl_buf_adds(b, ",\"reason\":");
	if (!ret)
		ret = pl_apicodec_string(b, reason, strlen(reason));
	if (!ret && chain && !chain->has_head)
		ret = pl_buf_adds(b, ",\"head\":null");
	if (!ret && chain && chain->has_head) {
		pl_hex_encode(id, chain->head_id, PL_HASH_BYTES);
		ret = pl_buf_addf(b, ",\"head\":{\"seq\":%llu,\"id\":\"%s\",\"index\":%llu}",
		                  (unsigned long long)chain->head_seq, id,
		                  (unsigned long long)chain->head_index);
	}
	return ret ? ret : pl_buf_add(b, "}", 1);
}

void pl__client_error_parse(const char *body, size_t len, struct pl_client_error *err)
{
	json_t *j = json_load_body(body, len), *v;

	if (!j)
		return;
	if (json_is_string(v = json_object_get(j, "error")))
		snprintf(err->code, sizeof(err->code), "%s", json_string_value(v));
	if (json_is_string(v = json_object_get(j, "reason")))
		snprintf(err->reason, sizeof(err->reason), "%s", json_string_value(v));
	v = json_object_get(j, "head");
	if (json_is_object(v)) {
		json_t *seq = json_object_get(v, "seq"), *id = json_object_get(v, "id"),
		       *idx = json_object_get(v, "index");
		if (json_is_integer(seq) && json_integer_value(seq) >= 0 && json_is_integer(idx) &&
		    json_integer_value(idx) >= 0 && json_is_string(id) &&
		    pl_hex_decode_exact(err->head_id, PL_HASH_BYTES, json_string_value(id),
		                        json_string_length(id)) == 0) {
			err->has_head = true;
			err->head_seq = (uint64_t)json_integer_value(seq);
			err->head_index = (uint64_t)json_integer_value(idx);
		}
	}
	json_decref(j);
}

/* ---- The inbox's event stream: GET /inbox with Accept: text/event-stream ---- */

int pl_apicodec_sse_record(struct pl_buf *b, const struct pl_exchange_entry *e)
{
	int ret = pl_buf_addf(
	        b, "id: %llu\nevent: record\ndata: ", (unsigned long long)(e->index + 1));

	if (!ret)
		ret = pl_apicodec_entry(b, true, e, NULL, 0);
	return ret ? ret : pl_buf_add(b, "\n\n", 2);
}

/* The parser of an event stream: fed any chunks of it, calls fn per record event. */
struct pl__client_sse {
	int (*fn)(void *arg, const struct pl_client_entry *e);
	void *arg;
	uint64_t *cursor;
	struct pl_buf line; /* the line being received */
	struct pl_buf data; /* data of the event being received */
	bool is_record;
	bool has_id;
	uint64_t id;
	bool stopped; /* fn asked to stop */
	int fail;     /* a malformed stream: nothing more is read */
};

static int sse_dispatch(struct pl__client_sse *s)
{
	struct pl_client_entry e;
	json_error_t je;
	json_t *j;
	int ret;

	if (s->is_record && s->data.len > 0) {
		j = json_loadb(s->data.data, s->data.len, JSON_REJECT_DUPLICATES, &je);
		ret = j ? entry_from_json(j, &e) : PL_EMALFORMED;
		json_decref(j);
		if (ret)
			return ret;
		if (e.index + 1 > *s->cursor)
			*s->cursor = e.index + 1;
		if (s->fn(s->arg, &e) != 0)
			s->stopped = true;
		pl_client_entry_release(&e);
	}
	if (s->has_id && s->id > *s->cursor)
		*s->cursor = s->id;
	pl_buf_reset(&s->data);
	s->is_record = false;
	s->has_id = false;
	return 0;
}

/* One line of the event stream (without its end of line). */
static int sse_line(struct pl__client_sse *s, const char *p, size_t n)
{
	const char *colon;
	size_t fn, vs;

	if (n == 0)
		return sse_dispatch(s);
	if (p[0] == ':')
		return 0; /* a comment: the heartbeat */
	colon = memchr(p, ':', n);
	fn = colon ? (size_t)(colon - p) : n;
	vs = colon ? fn + 1 : n;
	if (vs < n && p[vs] == ' ')
		vs++;
	if (fn == 4 && memcmp(p, "data", 4) == 0) {
		if (s->data.len > 0 && pl_buf_add(&s->data, "\n", 1) != 0)
			return PL_ETOOBIG;
		return pl_buf_add(&s->data, p + vs, n - vs);
	}
	if (fn == 5 && memcmp(p, "event", 5) == 0) {
		s->is_record = n - vs == 6 && memcmp(p + vs, "record", 6) == 0;
		return 0;
	}
	if (fn == 2 && memcmp(p, "id", 2) == 0) {
		s->has_id = pl_parse_u64(&s->id, p + vs, n - vs, INT64_MAX) == 0;
		return s->has_id ? 0 : PL_EMALFORMED;
	}
	return 0; /* retry and unknown fields are ignored, as the format says */
}

int pl__client_sse_new(struct pl__client_sse **out, uint64_t *cursor,
                       int (*fn)(void *arg, const struct pl_client_entry *e), void *arg)
{
	struct pl__client_sse *s;

	if (!out || !cursor || !fn)
		return PL_EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return PL_ENOMEM;
	s->fn = fn;
	s->arg = arg;
	s->cursor = cursor;
	pl_buf_init(&s->line, SSE_LINE_MAX);
	pl_buf_init(&s->data, SSE_LINE_MAX);
	*out = s;
	return 0;
}

void pl__client_sse_free(struct pl__client_sse *s)
{
	if (!s)
		return;
	pl_buf_release(&s->line);
	pl_buf_release(&s->data);
	free(s);
}

bool pl__client_sse_is_stopped(const struct pl__client_sse *s)
{
	return s->stopped;
}

int pl__client_sse_feed(struct pl__client_sse *s, const char *p, size_t n)
{
	size_t i = 0;

	while (!s->fail && !s->stopped && i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t k = nl ? (size_t)(nl - (p + i)) : n - i, len;

		if (pl_buf_add(&s->line, p + i, k) != 0) {
			s->fail = PL_ETOOBIG;
			break;
		}
		i += k;
		if (!nl)
			break;
		i++;
		len = s->line.len;
		if (len > 0 && s->line.data[len - 1] == '\r')
			len--;
		s->fail = sse_line(s, s->line.data ? s->line.data : "", len);
		pl_buf_reset(&s->line);
	}
	return s->fail;
}
