/* The JSON of the exchange's HTTP API (docs/api.md): the encoders parleyd answers with. */
#ifndef PARLEY_APICODEC_H
#define PARLEY_APICODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/encoding.h>
#include <parley/error.h>
#include <parley/exchange.h>
#include <parley/receipt.h>

/*
 * Each wire object is encoded here and decoded beside its encoder in
 * src/lib/apicodec.c (the client's decoders, pl__client_*_parse() in
 * internal.h), so that the two cannot drift apart. Every encoder appends
 * compact JSON to b and returns 0 or the pl_buf error (PL_ETOOBIG past b's
 * maximum, PL_ENOMEM); on error b may hold part of the object (release it).
 * Strings are written as RFC 8259 strings of their bytes, which must be
 * UTF-8 (the exchange keeps only UTF-8 text). No allocation beyond b's.
 * Thread-safe: no shared state.
 */

/* Appends the JSON string of t[0..n). */
int pl_apicodec_string(struct pl_buf *b, const char *t, size_t n) PL_WUR;

/* The answer to POST /records: {"index","id","size","proof","checkpoint"}. */
int pl_apicodec_receipt(struct pl_buf *b, const struct pl_receipt *r) PL_WUR;

/*
 * One record of a list answer: {"index","id","record"}, with "proof" when
 * proof is not NULL (a line page's records). A comma first unless first.
 */
int pl_apicodec_entry(struct pl_buf *b, bool first, const struct pl_exchange_entry *e,
                      const char *proof, size_t proof_len) PL_WUR;

/*
 * One directory entry of GET /parties: the party p and reg, its register
 * record ({"name","vkey","enc_key","register_index","register_id",
 * "register_record","revoked"[,"revoke_index"]}). A comma first unless first.
 */
int pl_apicodec_party(struct pl_buf *b, bool first, const struct pl_exchange_party *p,
                      const struct pl_exchange_entry *reg) PL_WUR;

/*
 * The heads and tail of the list answers, whose entries come between:
 * {"records":[ (statements, inbox, thread), {"parties":[ (GET /parties),
 * {"line","size","next","more","records":[ (GET /lines/<line>); the tail is
 * ],"next":N} when has_next, else ]}.
 */
int pl_apicodec_records_open(struct pl_buf *b) PL_WUR;
int pl_apicodec_parties_open(struct pl_buf *b) PL_WUR;
int pl_apicodec_line_open(struct pl_buf *b, const char *line, uint64_t size, uint64_t next,
                          bool more) PL_WUR;
int pl_apicodec_list_close(struct pl_buf *b, bool has_next, uint64_t next) PL_WUR;

/* One record event of the GET /inbox event stream: id (the cursor after it), event, data. */
int pl_apicodec_sse_record(struct pl_buf *b, const struct pl_exchange_entry *e) PL_WUR;

/* The answer to POST /payloads: {"hash","size"}. */
int pl_apicodec_payload(struct pl_buf *b, const uint8_t hash[static PL_HASH_BYTES],
                        uint64_t size) PL_WUR;

/*
 * An error answer: {"error":code,"reason":reason}. When chain is not NULL
 * (a 409 on a submission) also "head": the author's chain head from it, or
 * null when the key has no record yet. A reason that is not UTF-8 is
 * replaced by a fixed one.
 */
int pl_apicodec_error(struct pl_buf *b, const char *code, const char *reason,
                      const struct pl_exchange_refusal *chain) PL_WUR;

#endif
