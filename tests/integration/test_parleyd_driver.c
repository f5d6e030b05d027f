/* Drives a running parleyd through its HTTP API for the integration tests; prints TAP lines. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include <parley/auth.h>
#include <parley/box.h>
#include <parley/checkpoint.h>
#include <parley/client.h>
#include <parley/encoding.h>
#include <parley/key.h>
#include <parley/party.h>
#include <parley/proof.h>
#include <parley/record.h>
#include <parley/note.h>
#include <parley/tiles.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

#include "driver_util.h"

#define ORIGIN   "hotline.example"
#define MAX_ACTS 16

static const char *url, *ids_dir, *data_dir;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ---- Actors: a party identity, its client and its chain ---- */

static struct actor *actor_open(const char *name)
{
	return actor_new(ids_dir, url, name);
}

/* Picks up a party's chain from the log, so that runs can follow each other. */
static void actor_sync(struct actor *a, const struct pl_client_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct pl_record r;
		const char *end = strstr(l->v[i].note, "\n\n");
		if (!end ||
		    pl_record_parse(&r, l->v[i].note, (size_t)(end - l->v[i].note) + 1, NULL) != 0)
			continue;
		if (strcmp(r.author, a->id.name) == 0 && r.seq > a->seq) {
			a->seq = r.seq;
			memcpy(a->head, l->v[i].id, PL_HASH_BYTES);
		}
	}
}

/* Fills the chain fields, signs and returns the record text. */
static int actor_sign(struct actor *a, struct pl_record *r, struct pl_buf *out)
{
	const char *why = NULL;
	int ret;

	snprintf(r->exchange, sizeof(r->exchange), "%s", ORIGIN);
	snprintf(r->author, sizeof(r->author), "%s", a->id.name);
	r->seq = a->seq + 1;
	if (a->seq) {
		r->has |= PL_RECORD_HAS_PREV;
		memcpy(r->prev, a->head, PL_HASH_BYTES);
	}
	if (!r->time)
		r->time = (int64_t)time(NULL);
	ret = pl_record_sign(out, r, &a->id.skey, 1, &why);
	if (ret)
		note("cannot sign a record: %s (%s)", pl_strerror(ret), why ? why : "");
	return ret;
}

/* Signs and submits r; on success advances the chain and fills rc (release it). */
static int actor_submit(struct actor *a, struct pl_record *r, struct pl_receipt *rc)
{
	struct pl_buf rec;
	int ret;

	pl_buf_init(&rec, PL_RECORD_MAX_BYTES);
	ret = actor_sign(a, r, &rec);
	if (!ret)
		ret = pl_client_submit(a->c, rec.data, rec.len, rc);
	if (!ret) {
		a->seq = r->seq;
		memcpy(a->head, rc->id, PL_HASH_BYTES);
	} else {
		note("%s: submission refused: %s (HTTP %ld: %s)", a->id.name, pl_strerror(ret),
		     pl_client_last_error(a->c)->status, pl_client_last_error(a->c)->reason);
	}
	pl_buf_release(&rec);
	return ret;
}

/* ---- Checking what the server says with libparley ---- */

static struct pl_vkey log_vkey;

static void load_log_key(void)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/log.vkey", data_dir);
	if (pl_vkey_load(&log_vkey, path) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
}

struct tile_src {
	struct pl_client *c;
	int err;
};

static int read_tile(void *ctx, const struct pl_tile *t, uint8_t *out)
{
	struct tile_src *s = ctx;
	struct pl_buf b;
	int ret;

	pl_buf_init(&b, PL_TILE_BYTES);
	ret = pl_client_tile(s->c, t->level, t->n, t->width == PL_TILE_WIDTH ? 0 : t->width, &b);
	if (!ret && b.len != (size_t)t->width * PL_HASH_BYTES)
		ret = PL_EMALFORMED;
	if (!ret)
		memcpy(out, b.data, b.len);
	else
		s->err = ret;
	pl_buf_release(&b);
	return ret;
}

/* Opens a checkpoint text with the log key. */
static int open_checkpoint(struct pl_checkpoint *cp, const char *text, size_t len)
{
	return pl_checkpoint_open(cp, NULL, text, len, ORIGIN, &log_vkey, 1);
}

/*
 * Verifies that record rec (its bytes) is leaf index of the tree of the
 * checkpoint text, with the inclusion proof recomputed from the public tiles.
 */
static bool verify_included(struct pl_client *c, const char *rec, size_t len, uint64_t index,
                            const char *cp_text, size_t cp_len)
{
	struct pl_checkpoint cp;
	struct tile_src src = {c, 0};
	struct pl_tiles_source s = {read_tile, &src};
	struct pl_tiles_view *v = malloc(sizeof(*v));
	struct pl_tlog_reader rd;
	uint8_t leaf[PL_HASH_BYTES], proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES], root[PL_HASH_BYTES];
	size_t n = 0;
	bool ok = false;

	if (!v || open_checkpoint(&cp, cp_text, cp_len) != 0)
		goto out;
	pl_tiles_view_init(v, cp.size, &s);
	rd = pl_tiles_view_reader(v);
	pl_tlog_leaf_hash(leaf, rec, len);
	ok = pl_tlog_tree_hash(&rd, cp.size, root) == 0 &&
	     memcmp(root, cp.root, PL_HASH_BYTES) == 0 &&
	     pl_tlog_prove_inclusion(&rd, cp.size, index, proof, &n) == 0 &&
	     pl_tlog_verify_inclusion(leaf, index, cp.size, proof, n, cp.root) == 0;
out:
	free(v);
	return ok;
}

/* Verifies a receipt: the checkpoint is the log's, the record is in it (through the tiles). */
static bool verify_receipt(struct pl_client *c, const char *rec, size_t len,
                           const struct pl_receipt *rc)
{
	return verify_included(c, rec, len, rc->index, rc->checkpoint, rc->checkpoint_len);
}

/* ---- Payloads ---- */

/* The encryption keys of the directory, by party name. */
static bool enc_key_of(struct pl_client *c, const char *name, uint8_t pk[PL_BOX_PK_BYTES])
{
	struct pl_client_party *v = NULL;
	size_t n = 0;
	bool found = false;

	if (pl_client_parties(c, &v, &n) != 0)
		return false;
	for (size_t i = 0; i < n && !found; i++) {
		struct pl_party_ekey ek;
		if (strcmp(v[i].name, name) == 0 &&
		    pl_party_ekey_parse(&ek, v[i].enc_key, strlen(v[i].enc_key)) == 0) {
			memcpy(pk, ek.pk, PL_BOX_PK_BYTES);
			found = true;
		}
	}
	pl_client_parties_free(v, n);
	return found;
}

/* Seals text to the named readers and uploads it as a; fills the record's payload lines. */
static int upload(struct actor *a, const char *text, const char *const *readers, size_t nr,
                  struct pl_record *r)
{
	uint8_t pks[8][PL_BOX_PK_BYTES], commit[PL_BOX_COMMIT_BYTES], hash[PL_HASH_BYTES];
	uint8_t *blob = NULL;
	size_t blen = 0;
	int ret;

	for (size_t i = 0; i < nr; i++)
		if (!enc_key_of(a->c, readers[i], pks[i]))
			return PL_ENOTFOUND;
	ret = pl_box_seal(&blob, &blen, commit, NULL, (const uint8_t *)text, strlen(text),
	                  (const uint8_t(*)[PL_BOX_PK_BYTES])pks, nr);
	if (!ret)
		ret = pl_client_payload_put(a->c, blob, blen, hash);
	if (!ret) {
		r->has |= PL_RECORD_HAS_PAYLOAD | PL_RECORD_HAS_COMMIT;
		memcpy(r->payload, hash, PL_HASH_BYTES);
		r->payload_size = blen;
		memcpy(r->commit, commit, sizeof(commit));
	}
	free(blob);
	return ret;
}

/* ---- Record builders ---- */

static void rec_init(struct pl_record *r, enum pl_record_kind kind)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
}

static void rec_to(struct pl_record *r, const char *to)
{
	snprintf(r->to[r->nto++], sizeof(r->to[0]), "%s", to);
}

static void rec_ref(struct pl_record *r, enum pl_ref_role role, const uint8_t id[PL_HASH_BYTES])
{
	r->refs[r->nrefs].role = role;
	memcpy(r->refs[r->nrefs].id, id, PL_HASH_BYTES);
	r->nrefs++;
}

static void rec_body(struct pl_record *r, const char *body)
{
	r->has |= PL_RECORD_HAS_BODY;
	r->body_len = strlen(body);
	memcpy(r->body, body, r->body_len + 1);
}

static void rec_reason(struct pl_record *r, const char *reason)
{
	r->has |= PL_RECORD_HAS_REASON;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

/* A send of class cls from a to `to` (optionally via), payload sealed to readers. */
static int send_to(struct actor *a, enum pl_record_class cls, const char *to, const char *via,
                   int deadline_s, const char *text, const char *const *readers, size_t nr,
                   struct pl_receipt *rc)
{
	struct pl_record r;
	int ret;

	rec_init(&r, PL_KIND_SEND);
	r.has |= PL_RECORD_HAS_CLASS;
	r.cls = cls;
	rec_to(&r, to);
	if (via) {
		r.has |= PL_RECORD_HAS_VIA;
		snprintf(r.via, sizeof(r.via), "%s", via);
	}
	r.time = (int64_t)time(NULL);
	if (deadline_s) {
		r.has |= PL_RECORD_HAS_DEADLINE;
		r.deadline = r.time + deadline_s;
	}
	ret = upload(a, text, readers, nr, &r);
	if (ret) {
		note("upload failed: %s", pl_strerror(ret));
		return ret;
	}
	return actor_submit(a, &r, rc);
}

static int answer(struct actor *a, enum pl_record_kind kind, const uint8_t subject[PL_HASH_BYTES],
                  const char *reason, struct pl_receipt *rc)
{
	struct pl_record r;

	rec_init(&r, kind);
	rec_ref(&r, PL_ROLE_SUBJECT, subject);
	if (reason)
		rec_reason(&r, reason);
	return actor_submit(a, &r, rc);
}

static int statement(struct actor *a, const char *body, const uint8_t *cites, struct pl_receipt *rc)
{
	struct pl_record r;

	rec_init(&r, PL_KIND_STATEMENT);
	r.has |= PL_RECORD_HAS_CLASS;
	r.cls = PL_CLASS_STATEMENT;
	rec_body(&r, body);
	if (cites)
		rec_ref(&r, PL_ROLE_CITES, cites);
	return actor_submit(a, &r, rc);
}

/* ---- Reading back ---- */

/* The kind of a logged record, or 0. */
static enum pl_record_kind kind_of(const struct pl_client_entry *e, struct pl_record *out)
{
	struct pl_record r;
	const char *end = strstr(e->note, "\n\n");

	if (!end || pl_record_parse(&r, e->note, (size_t)(end - e->note) + 1, NULL) != 0)
		return 0;
	if (out)
		*out = r;
	return r.kind;
}

/* True when list l holds a record of kind about subject (or any, when subject is NULL). */
static bool list_has(const struct pl_client_list *l, enum pl_record_kind kind,
                     const uint8_t *subject)
{
	for (size_t i = 0; i < l->n; i++) {
		struct pl_record r;
		if (kind_of(&l->v[i], &r) != kind)
			continue;
		if (!subject)
			return true;
		for (size_t k = 0; k < r.nrefs; k++)
			if (memcmp(r.refs[k].id, subject, PL_HASH_BYTES) == 0)
				return true;
	}
	return false;
}

static bool list_has_id(const struct pl_client_list *l, const uint8_t id[PL_HASH_BYTES])
{
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(l->v[i].id, id, PL_HASH_BYTES) == 0)
			return true;
	return false;
}

/* Long-polls a's inbox from cursor until a record of kind about subject shows, or max_ms. */
static bool inbox_wait_for(struct actor *a, uint64_t cursor, enum pl_record_kind kind,
                           const uint8_t *subject, long max_ms)
{
	uint64_t until = ms_now() + (uint64_t)max_ms;
	bool found = false;

	while (!found && ms_now() < until) {
		struct pl_client_list l = {0};
		if (pl_client_inbox(a->c, cursor, 2, &l) != 0) {
			note("inbox of %s: %s", a->id.name, pl_client_last_error(a->c)->reason);
			sleep_ms(100);
			continue;
		}
		found = list_has(&l, kind, subject);
		cursor = l.next;
		pl_client_list_release(&l);
	}
	return found;
}

static void hexid(char out[PL_HASH_HEX_LEN + 1], const uint8_t id[PL_HASH_BYTES])
{
	pl_hex_encode(out, id, PL_HASH_BYTES);
}

static bool thread_has(struct pl_client *c, const uint8_t id[PL_HASH_BYTES],
                       enum pl_record_kind kind)
{
	char hex[PL_HASH_HEX_LEN + 1];
	struct pl_client_list l = {0};
	bool found;

	hexid(hex, id);
	if (pl_client_thread(c, hex, &l) != 0)
		return false;
	found = list_has(&l, kind, NULL);
	pl_client_list_release(&l);
	return found;
}

static uint64_t tree_size(struct pl_client *c)
{
	struct pl_checkpoint cp;
	struct pl_buf b;
	uint64_t size = 0;

	pl_buf_init(&b, 1u << 16);
	if (pl_client_checkpoint(c, &b) == 0 && open_checkpoint(&cp, b.data, b.len) == 0)
		size = cp.size;
	pl_buf_release(&b);
	return size;
}

struct raw {
	long status;
	struct pl_buf body;
};

static long raw_request(const char *method, const char *target, const char *const *headers,
                        const void *body, size_t len, struct raw *out);
static void auth_line(struct actor *a, const char *method, const char *target, const void *body,
                      size_t len, uint64_t t, char *out, size_t outlen);
static void expect_raw(long want, const char *code, const char *desc, const char *method,
                       const char *target, const char *const *headers, const void *body,
                       size_t len);

/* ---- Flows ---- */

static struct actor *rok_mnd, *unc, *kpa, *dprk, *us_nsc, *us_wh, *rok_mou;

/*
 * Learns each chain head from the entry bundles, so that runs can follow each
 * other; us-nsc reads them as the test exchange's auditor (setup_store).
 */
static void sync_actors(void)
{
	struct actor *all_actors[] = {rok_mnd, unc, kpa, dprk, us_nsc, us_wh, rok_mou};
	uint64_t size = tree_size(us_nsc->c);

	for (uint64_t n = 0; n * PL_TILE_WIDTH < size; n++) {
		struct pl_tiles_entry ent[PL_TILE_WIDTH];
		struct pl_client_list l = {0};
		uint64_t left = size - n * PL_TILE_WIDTH;
		unsigned w = left >= PL_TILE_WIDTH ? 0 : (unsigned)left;
		size_t k = w ? w : PL_TILE_WIDTH;
		struct pl_buf b;

		pl_buf_init(&b, PL_TILE_WIDTH * (PL_ENTRY_MAX_BYTES + 2));
		if (pl_client_entry_bundle(us_nsc->c, n, w, &b) == 0 &&
		    pl_tiles_bundle_split((const uint8_t *)b.data, b.len, (unsigned)k, ent) == 0 &&
		    (l.v = calloc(k, sizeof(*l.v))) != NULL) {
			for (size_t i = 0; i < k; i++) {
				l.v[i].note = malloc(ent[i].len + 1);
				if (!l.v[i].note)
					break;
				memcpy(l.v[i].note, ent[i].data, ent[i].len);
				l.v[i].note[ent[i].len] = '\0';
				l.v[i].note_len = ent[i].len;
				pl_sha256(l.v[i].id, ent[i].data, ent[i].len);
				l.n++;
			}
			for (size_t i = 0; i < sizeof(all_actors) / sizeof(all_actors[0]); i++)
				actor_sync(all_actors[i], &l);
		}
		pl_client_list_release(&l);
		pl_buf_release(&b);
	}
}

static void open_actors(void)
{
	rok_mnd = actor_open("rok-mnd");
	unc = actor_open("unc");
	kpa = actor_open("kpa");
	dprk = actor_open("dprk");
	us_nsc = actor_open("us-nsc");
	us_wh = actor_open("us-wh");
	rok_mou = actor_open("rok-mou");
	sync_actors();
}

static void close_actors(void)
{
	actor_close(rok_mnd);
	actor_close(unc);
	actor_close(kpa);
	actor_close(dprk);
	actor_close(us_nsc);
	actor_close(us_wh);
	actor_close(rok_mou);
}

/* The last receipt that verified: a record and a tree size at which a checkpoint was signed. */
static uint8_t last_id[PL_HASH_BYTES];
static uint64_t last_signed_size;

/* Submits a record and checks it was accepted and its receipt verifies. */
static bool accepted(const char *what, int ret, struct actor *a, struct pl_receipt *rc)
{
	struct pl_client_entry e = {0};
	char hex[PL_HASH_HEX_LEN + 1];
	bool ok = ret == 0;

	if (ok) {
		hexid(hex, rc->id);
		ok = pl_client_record(a->c, hex, &e) == 0 && e.index == rc->index &&
		     verify_receipt(a->c, e.note, e.note_len, rc) &&
		     pl_proof_open(rc->proof, rc->proof_len, e.note, e.note_len, ORIGIN, &log_vkey,
		                   1, NULL, NULL) == 0;
	}
	check(ok,
	      "%s: accepted, durable, its tlog-proof verifies, and so does its inclusion "
	      "from the tiles",
	      what);
	if (ok) {
		memcpy(last_id, rc->id, PL_HASH_BYTES);
		last_signed_size = rc->size;
	}
	pl_client_entry_release(&e);
	return ok;
}

/* S1 (a): the ministry consulted the Command, which advised; then it spoke in public. */
static void flow_s1a(void)
{
	static const char *const readers[] = {"rok-mnd", "unc"};
	struct pl_receipt consult = {0}, adv = {0}, st = {0}, st2 = {0};
	struct pl_client_list l = {0};
	struct pl_record r;
	uint64_t cursor = tree_size(unc->c);
	int ret;

	rec_init(&r, PL_KIND_CONSULT);
	rec_to(&r, "unc");
	ret = upload(rok_mnd, "Draft: proposal for military talks on the MDL baseline.", readers, 2,
	             &r);
	if (!ret)
		ret = actor_submit(rok_mnd, &r, &consult);
	if (!accepted("S1a consult rok-mnd -> unc", ret, rok_mnd, &consult))
		return;
	check(inbox_wait_for(unc, cursor, PL_KIND_CONSULT, NULL, 5000),
	      "S1a the consult reaches unc's inbox");
	rec_init(&r, PL_KIND_ADVISE);
	rec_ref(&r, PL_ROLE_CONSULT, consult.id);
	r.has |= PL_RECORD_HAS_POSITION;
	r.position = PL_POSITION_NOTED;
	ret = actor_submit(unc, &r, &adv);
	accepted("S1a advise unc (noted)", ret, unc, &adv);
	check(thread_has(rok_mnd->c, consult.id, PL_KIND_ADVISE),
	      "S1a the thread of the consult holds the advice");
	ret = statement(rok_mnd,
	                "We propose military talks with the KPA to set the MDL baseline; this was "
	                "coordinated in advance with the UNC.\n",
	                NULL, &st);
	accepted("S1a public statement by rok-mnd", ret, rok_mnd, &st);
	ret = statement(unc,
	                "We have not conveyed any messages or proposals specific to "
	                "inter-Korean dialogue.\n",
	                NULL, &st2);
	accepted("S1a public statement by unc", ret, unc, &st2);
	{
		struct pl_client *anon = NULL;
		bool ok = pl_client_new(&anon, url, NULL, NULL) == 0 &&
		          pl_client_statements(anon, 0, &l) == 0 && list_has_id(&l, st.id) &&
		          list_has_id(&l, st2.id);
		check(ok, "S1a both statements are public (GET /statements, no key)");
		pl_client_list_release(&l);
		pl_client_free(anon);
	}
	pl_receipt_release(&consult);
	pl_receipt_release(&adv);
	pl_receipt_release(&st);
	pl_receipt_release(&st2);
}

/* S1 (b): the proposal went via the Command, which received it and declined. */
static void flow_s1b_decline(void)
{
	static const char *const readers[] = {"rok-mnd", "kpa"};
	struct pl_receipt send = {0}, recv = {0}, decl = {0}, bad = {0};
	struct pl_client_list l = {0};
	struct pl_buf blob;
	struct pl_record r;
	uint64_t cur_unc = tree_size(unc->c), cur_mnd = cur_unc, cur_kpa = cur_unc;
	int ret;

	ret = send_to(rok_mnd, PL_CLASS_PROPOSAL, "kpa", "unc", 3600,
	              "Proposal: military talks to reset the MDL baseline.", readers, 2, &send);
	if (!accepted("S1b send rok-mnd -> kpa via unc", ret, rok_mnd, &send))
		return;
	check(inbox_wait_for(unc, cur_unc, PL_KIND_SEND, NULL, 5000),
	      "S1b the send reaches the intermediary's inbox");
	ret = answer(unc, PL_KIND_RECEIVE, send.id, NULL, &recv);
	accepted("S1b unc's agent records receive", ret, unc, &recv);

	/*
	 * The blob is sealed to rok-mnd and kpa only: the intermediary, which may read the send,
	 * may fetch it but not open it; any other member is told there is no such blob.
	 */
	pl_buf_init(&blob, 1u << 20);
	ret = pl_client_payload_get(unc->c, send.id, &blob); /* wrong hash on purpose */
	check(ret == PL_ENOTFOUND, "S1b GET /payloads/<unknown hash> is 404 (%s)",
	      pl_strerror(ret));
	pl_buf_reset(&blob);
	{
		struct pl_client_entry e = {0};
		char hex[PL_HASH_HEX_LEN + 1];
		struct pl_record sr;
		hexid(hex, send.id);
		if (pl_client_record(rok_mnd->c, hex, &e) == 0 &&
		    kind_of(&e, &sr) == PL_KIND_SEND) {
			ret = pl_client_payload_get(unc->c, sr.payload, &blob);
			check(ret == 0 && blob.len == sr.payload_size,
			      "S1b the intermediary may fetch the blob of a send it relays (%s)",
			      pl_strerror(ret));
			pl_buf_reset(&blob);
			ret = pl_client_payload_get(us_wh->c, sr.payload, &blob);
			check(ret == PL_ENOTFOUND && pl_client_last_error(us_wh->c)->status == 404,
			      "S1b another member is told there is no such blob (404)");
			pl_buf_reset(&blob);
			ret = pl_client_payload_get(rok_mnd->c, sr.payload, &blob);
			check(ret == 0 && blob.len == sr.payload_size,
			      "S1b its sender reads it back (%s)", pl_strerror(ret));
		} else {
			check(false, "S1b the send can be read back");
		}
		pl_client_entry_release(&e);
	}
	pl_buf_release(&blob);

	/* Only the via may convey or decline: kpa conveying is a rule violation. */
	rec_init(&r, PL_KIND_CONVEY);
	rec_ref(&r, PL_ROLE_SUBJECT, send.id);
	ret = actor_submit(kpa, &r, &bad);
	check(ret == PL_ERULE && pl_client_last_error(kpa->c)->status == 422,
	      "S1b a party that is not the via conveys: 422 (%s: %s)", pl_strerror(ret),
	      pl_client_last_error(kpa->c)->reason);
	pl_receipt_release(&bad);

	ret = answer(unc, PL_KIND_DECLINE, send.id, "outside the Armistice channel's remit", &decl);
	accepted("S1b unc declines", ret, unc, &decl);
	ret = answer(unc, PL_KIND_CONVEY, send.id, NULL, &bad);
	check(ret == PL_ERULE, "S1b conveying after declining: 422 (%s)", pl_strerror(ret));
	pl_receipt_release(&bad);

	check(inbox_wait_for(rok_mnd, cur_mnd, PL_KIND_DECLINE, send.id, 5000),
	      "S1b the sender's inbox shows the decline");
	{
		char hex[PL_HASH_HEX_LEN + 1];
		hexid(hex, send.id);
		ret = pl_client_thread(rok_mnd->c, hex, &l);
		bool to_kpa = false;
		for (size_t i = 0; i < l.n; i++) {
			struct pl_record ar;
			if (kind_of(&l.v[i], &ar) == PL_KIND_AVAILABLE &&
			    pl_record_has_to(&ar, "kpa"))
				to_kpa = true;
		}
		check(ret == 0 && list_has(&l, PL_KIND_SEND, NULL) &&
		              list_has(&l, PL_KIND_RECEIVE, send.id) &&
		              list_has(&l, PL_KIND_DECLINE, send.id) &&
		              !list_has(&l, PL_KIND_CONVEY, send.id) && !to_kpa,
		      "S1b the thread: sent, received by unc, declined, never conveyed, never "
		      "made available to kpa");
		pl_client_list_release(&l);
	}
	ret = pl_client_inbox(kpa->c, cur_kpa, 0, &l);
	check(ret == 0 && !list_has_id(&l, send.id) && !list_has(&l, PL_KIND_AVAILABLE, send.id),
	      "S1b kpa never sees the declined proposal");
	pl_client_list_release(&l);
	pl_receipt_release(&send);
	pl_receipt_release(&recv);
	pl_receipt_release(&decl);
}

/* S1 (b), second way: the Command received it and never acted until the deadline. */
static void flow_s1b_expire(void)
{
	static const char *const readers[] = {"rok-mnd", "kpa", "unc"};
	struct pl_receipt send = {0}, recv = {0};
	uint64_t cursor = tree_size(rok_mnd->c);
	int ret;

	ret = send_to(rok_mnd, PL_CLASS_PROPOSAL, "kpa", "unc", 2,
	              "Proposal: military talks (relayed, short deadline).", readers, 3, &send);
	if (!accepted("S1b' send via unc with a 2 s deadline", ret, rok_mnd, &send))
		return;
	ret = answer(unc, PL_KIND_RECEIVE, send.id, NULL, &recv);
	accepted("S1b' unc's agent records receive", ret, unc, &recv);
	check(inbox_wait_for(rok_mnd, cursor, PL_KIND_EXPIRE, send.id, 15000),
	      "S1b' the exchange records expire when the deadline passes unrelayed");
	check(thread_has(rok_mnd->c, send.id, PL_KIND_EXPIRE) &&
	              !thread_has(rok_mnd->c, send.id, PL_KIND_CONVEY),
	      "S1b' the thread: received, never conveyed, expired");
	pl_receipt_release(&send);
	pl_receipt_release(&recv);
}

/* S3: proposals answered by no channel, then in the newspaper. */
static void flow_s3(void)
{
	static const char *const readers[] = {"rok-mnd", "kpa"};
	static const char *const readers2[] = {"rok-mou", "kpa"};
	struct pl_receipt p1 = {0}, p2 = {0}, st = {0}, st2 = {0};
	struct pl_client_list l = {0};
	uint64_t cur_kpa = tree_size(kpa->c), cur_mnd = cur_kpa;
	int ret;

	ret = send_to(rok_mnd, PL_CLASS_PROPOSAL, "kpa", NULL, 2,
	              "Proposal: military talks to halt all hostile activities along the MDL.",
	              readers, 2, &p1);
	if (!accepted("S3 proposal rok-mnd -> kpa, reply by deadline", ret, rok_mnd, &p1))
		return;
	ret = send_to(rok_mou, PL_CLASS_PROPOSAL, "kpa", NULL, 2,
	              "Proposal: humanitarian talks on reunions of separated families.", readers2,
	              2, &p2);
	accepted("S3 humanitarian proposal rok-mou -> kpa", ret, rok_mou, &p2);
	check(inbox_wait_for(kpa, cur_kpa, PL_KIND_AVAILABLE, p1.id, 5000),
	      "S3 a direct send is made available to kpa at once");
	check(inbox_wait_for(rok_mnd, cur_mnd, PL_KIND_EXPIRE, p1.id, 15000),
	      "S3 no reply through any channel: expire at the deadline");
	ret = statement(dprk, "The offer is riddled with sophistries.\n", p1.id, &st);
	accepted("S3 dprk answers in its newspaper, citing the proposal", ret, dprk, &st);
	ret = statement(us_nsc,
	                "Conditions must change before there is any scope for talks to resume.\n",
	                NULL, &st2);
	accepted("S3 us-nsc statement", ret, us_nsc, &st2);
	{
		char hex[PL_HASH_HEX_LEN + 1];
		hexid(hex, p1.id);
		ret = pl_client_thread(rok_mnd->c, hex, &l);
		check(ret == 0 && list_has(&l, PL_KIND_AVAILABLE, p1.id) &&
		              list_has(&l, PL_KIND_EXPIRE, p1.id) && list_has_id(&l, st.id) &&
		              !list_has(&l, PL_KIND_ACCEPT, p1.id) &&
		              !list_has(&l, PL_KIND_REFUSE, p1.id),
		      "S3 the thread: sent, available, expired, cited by the statement; never "
		      "accepted or refused");
		pl_client_list_release(&l);
	}
	pl_receipt_release(&p1);
	pl_receipt_release(&p2);
	pl_receipt_release(&st);
	pl_receipt_release(&st2);
}

struct stream_ctx {
	struct actor *a;
	uint64_t cursor;
	uint8_t want[PL_HASH_BYTES];
	bool have_want;
	pthread_mutex_t lock;
	/* every record seen, with when: it may arrive before the sender knows its id */
	uint8_t seen[64][PL_HASH_BYTES];
	uint64_t seen_ms[64];
	size_t nseen;
	int ret;
};

/* The time the stream delivered want, or 0. Call with the lock held. */
static uint64_t stream_seen(const struct stream_ctx *s)
{
	for (size_t i = 0; s->have_want && i < s->nseen; i++)
		if (memcmp(s->seen[i], s->want, PL_HASH_BYTES) == 0)
			return s->seen_ms[i];
	return 0;
}

static int on_event(void *arg, const struct pl_client_entry *e)
{
	struct stream_ctx *s = arg;
	bool hit;

	pthread_mutex_lock(&s->lock);
	if (s->nseen < 64) {
		memcpy(s->seen[s->nseen], e->id, PL_HASH_BYTES);
		s->seen_ms[s->nseen++] = ms_now();
	}
	hit = stream_seen(s) != 0;
	pthread_mutex_unlock(&s->lock);
	return hit;
}

static void *stream_main(void *arg)
{
	struct stream_ctx *s = arg;

	s->ret = pl_client_inbox_stream(s->a->c, &s->cursor, on_event, s, 10000);
	return NULL;
}

struct poll_ctx {
	struct actor *a;
	uint64_t cursor;
	struct pl_client_list l;
	int ret;
	uint64_t done_ms;
};

static void *poll_main(void *arg)
{
	struct poll_ctx *p = arg;

	p->ret = pl_client_inbox(p->a->c, p->cursor, 10, &p->l);
	p->done_ms = ms_now();
	return NULL;
}

/* Delivery: a member sees a new record within milliseconds, by long poll and by stream. */
static void flow_delivery(void)
{
	static const char *const readers[] = {"us-wh", "kpa"};
	struct stream_ctx s = {0};
	struct poll_ctx p = {0};
	struct pl_receipt rc = {0};
	struct pl_client *kpa2 = NULL;
	pthread_t ts, tp;
	uint64_t t0;
	int ret;

	pthread_mutex_init(&s.lock, NULL);
	s.a = kpa;
	s.cursor = tree_size(kpa->c);
	/* A second client for kpa: one client per thread. */
	if (pl_client_new(&kpa2, url, &kpa->id.skey, NULL) != 0)
		return;
	p.a = &(struct actor){.c = kpa2};
	p.cursor = s.cursor;
	pthread_create(&ts, NULL, stream_main, &s);
	pthread_create(&tp, NULL, poll_main, &p);
	sleep_ms(300); /* both are waiting */
	t0 = ms_now();
	ret = send_to(us_wh, PL_CLASS_LETTER, "kpa", NULL, 0, "A personal letter.", readers, 2,
	              &rc);
	pthread_mutex_lock(&s.lock);
	if (!ret) {
		memcpy(s.want, rc.id, PL_HASH_BYTES);
		s.have_want = true;
	}
	pthread_mutex_unlock(&s.lock);
	pthread_join(tp, NULL);
	check(p.ret == 0 && list_has_id(&p.l, rc.id),
	      "a long poll returns the new record (after %llu ms)",
	      (unsigned long long)(p.done_ms - t0));
	pthread_join(ts, NULL);
	{
		uint64_t at = stream_seen(&s);
		check(s.ret == 0 && at != 0,
		      "the event stream delivers the new record (after %llu ms)",
		      (unsigned long long)(at ? at - t0 : 0));
	}
	pl_client_list_release(&p.l);
	pl_receipt_release(&rc);
	pl_client_free(kpa2);
	pthread_mutex_destroy(&s.lock);
}

/* The log as a whole: tiles, entry bundles, consistency, all checked with libparley. */
static void flow_log(void)
{
	struct pl_client *anon = NULL;
	struct pl_buf cpb, b, t;
	struct pl_checkpoint cp;
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	size_t n = 0;
	int ret;

	pl_buf_init(&cpb, 1u << 16);
	pl_buf_init(&b, PL_TILE_WIDTH * (PL_ENTRY_MAX_BYTES + 2));
	pl_buf_init(&t, PL_TILE_BYTES);
	if (pl_client_new(&anon, url, NULL, NULL) != 0)
		return;
	ret = pl_client_checkpoint(anon, &cpb);
	if (!ret)
		ret = open_checkpoint(&cp, cpb.data, cpb.len);
	check(ret == 0, "GET /checkpoint is signed by the log key (size %llu)",
	      ret ? 0ull : (unsigned long long)cp.size);
	if (ret)
		goto out;
	{
		uint64_t nb = cp.size / PL_TILE_WIDTH;
		unsigned w = (unsigned)(cp.size % PL_TILE_WIDTH);
		struct tile_src src = {anon, 0};
		struct pl_tile tile = {nb, 0, w ? w : PL_TILE_WIDTH, false};
		uint8_t tb[PL_TILE_BYTES];
		if (!w) {
			nb--;
			tile.n = nb;
		}
		ret = read_tile(&src, &tile, tb);
		if (!ret)
			ret = pl_client_entry_bundle(us_nsc->c, nb, w, &b);
		check(ret == 0 && pl_tiles_bundle_verify((const uint8_t *)b.data, b.len, tb,
		                                         (size_t)tile.width * PL_HASH_BYTES) == 0,
		      "the last entry bundle matches its level-0 tile (for the auditor)");
		pl_buf_reset(&b);
		ret = pl_client_entry_bundle(rok_mnd->c, nb, w, &b);
		check(ret == PL_EDENIED && pl_client_last_error(rok_mnd->c)->status == 403,
		      "a member that is not an auditor may not read an entry bundle (403)");
		{
			struct pl_tile bt = {nb, 0, w ? w : PL_TILE_WIDTH, true};
			struct pl_buf path;
			struct raw rr;
			pl_buf_init(&path, PL_TILE_PATH_MAX + 1);
			if (pl_buf_add(&path, "/", 1) == 0 && pl_tiles_path(&path, &bt) == 0)
				raw_request("GET", path.data, NULL, NULL, 0, &rr);
			else
				rr.status = 0, pl_buf_init(&rr.body, 0);
			check(rr.status == 401, "entry bundles need authentication (%ld)",
			      rr.status);
			pl_buf_release(&rr.body);
			pl_buf_release(&path);
		}
	}
	ret = pl_client_consistency(anon, 1, cp.size, proof, &n);
	{
		uint8_t root1[PL_HASH_BYTES];
		/* The tree of size 1 is the leaf hash of the first record. */
		struct tile_src src = {anon, 0};
		struct pl_tile tile = {
		        0, 0, cp.size >= PL_TILE_WIDTH ? PL_TILE_WIDTH : (unsigned)cp.size, false};
		uint8_t tb[PL_TILE_BYTES];
		bool ok = ret == 0 && read_tile(&src, &tile, tb) == 0;
		if (ok) {
			memcpy(root1, tb, PL_HASH_BYTES);
			ok = pl_tlog_verify_consistency(1, cp.size, root1, cp.root, proof, n) == 0;
		}
		check(ok, "GET /consistency?old=1&new=%llu verifies against the checkpoint",
		      (unsigned long long)cp.size);
	}
	ret = pl_client_tile(anon, 0, 1000000, 0, &t);
	check(ret == PL_ENOTFOUND, "a tile beyond the tree is 404");
	{
		/* The proof of the first party record against the current and an older checkpoint.
		 */
		struct pl_client_entry e = {0};
		struct pl_checkpoint pcp;
		struct pl_buf pr;
		char hex[PL_HASH_HEX_LEN + 1];
		pl_buf_init(&pr, PL_TLOG_PROOF_MAX_BYTES);
		hexid(hex, rok_mnd->head);
		ret = pl_client_record(rok_mnd->c, hex, &e);
		if (!ret)
			ret = pl_client_proof(rok_mnd->c, hex, 0, &pr);
		check(ret == 0 &&
		              pl_proof_open(pr.data, pr.len, e.note, e.note_len, ORIGIN, &log_vkey,
		                            1, &pcp, NULL) == 0 &&
		              pcp.size >= e.index + 1,
		      "GET /records/<id>/proof verifies with libparley");
		pl_buf_reset(&pr);
		{
			struct pl_client_entry le = {0};
			char lhex[PL_HASH_HEX_LEN + 1];
			hexid(lhex, last_id);
			ret = pl_client_record(us_nsc->c, lhex, &le);
			if (!ret)
				ret = pl_client_proof(us_nsc->c, lhex, last_signed_size, &pr);
			check(ret == 0 &&
			              pl_proof_open(pr.data, pr.len, le.note, le.note_len, ORIGIN,
			                            &log_vkey, 1, &pcp, NULL) == 0 &&
			              pcp.size == last_signed_size,
			      "GET /records/<id>/proof?size=N: the proof under the checkpoint of "
			      "size "
			      "%llu",
			      (unsigned long long)last_signed_size);
			pl_client_entry_release(&le);
		}
		pl_buf_reset(&pr);
		ret = pl_client_proof(rok_mnd->c, hex, e.index, &pr);
		check(ret == PL_EMALFORMED,
		      "a proof at a size that does not hold the record: 400 (%s)",
		      pl_strerror(ret));
		{
			/* size=0 is a size like any other, not "the latest": no record is in it. */
			char target[128], line[1024];
			const char *hdrs[2] = {line, NULL};
			snprintf(target, sizeof(target), "/records/%s/proof?size=0", hex);
			auth_line(rok_mnd, "GET", target, NULL, 0, 0, line, sizeof(line));
			expect_raw(400, "out-of-range", "GET /records/<id>/proof?size=0", "GET",
			           target, hdrs, NULL, 0);
		}
		pl_client_entry_release(&e);
		pl_buf_release(&pr);
	}
out:
	pl_client_free(anon);
	pl_buf_release(&cpb);
	pl_buf_release(&b);
	pl_buf_release(&t);
}

/*
 * The root committed by the checkpoint cp_text (of tree size size): the record
 * at size - 1, read from GET /index?size= (public), proven in that checkpoint's
 * tree from the tiles, must be an index record. False when any of it fails.
 */
static bool index_root_of(struct pl_client *c, uint64_t size, const char *cp_text, size_t cp_len,
                          uint8_t root[PL_HASH_BYTES])
{
	struct pl_record *r = calloc(1, sizeof(*r));
	struct pl_note *n = NULL;
	uint64_t at = 0;
	struct pl_buf b;
	bool ok = false;

	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	if (!r || pl_client_index_record(c, size, &b, &at) != 0 || at != size - 1)
		goto out;
	ok = verify_included(c, b.data, b.len, size - 1, cp_text, cp_len) &&
	     pl_note_parse(&n, b.data, b.len) == 0 &&
	     pl_record_parse(r, n->text, n->text_len, NULL) == 0 && r->kind == PL_KIND_INDEX;
	if (ok)
		memcpy(root, r->index_root, PL_HASH_BYTES);
out:
	pl_note_free(n);
	pl_buf_release(&b);
	free(r);
	return ok;
}

/*
 * key's proof in the thread index at the checkpoint a receipt names, fetched by
 * actor a, verified against the root of that checkpoint's index record:
 * writes the log indexes of its entries to idx (at most 8) and returns how
 * many, or -1 when anything fails.
 */
static int index_entries(struct actor *a, const uint8_t key[PL_HASH_BYTES],
                         const struct pl_receipt *at, uint64_t idx[8])
{
	struct pl_tindex_proof *p = NULL;
	uint8_t root[PL_HASH_BYTES];
	struct pl_buf b;
	int n = -1;

	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	if (pl_client_index_proof(a->c, key, at->size, &b) == 0 &&
	    index_root_of(a->c, at->size, at->checkpoint, at->checkpoint_len, root) &&
	    pl_tindex_proof_open(&p, b.data, b.len, key, root) == 0 && p->nentries <= 8) {
		n = (int)p->nentries;
		for (size_t i = 0; i < p->nentries; i++)
			idx[i] = p->entries[i].index;
	}
	pl_tindex_proof_free(p);
	pl_buf_release(&b);
	return n;
}

/*
 * The thread index: a send's proof at the newest checkpoint lists the records
 * about it, at its own checkpoint only the available made with it; both verify
 * against the roots of the index records that end those checkpoints, read
 * through the entry bundles and proven from the tiles; every checkpoint a
 * receipt names ends with one; a key that is no record is a 404.
 */
static void flow_index(void)
{
	static const char *const readers[] = {"rok-mnd", "kpa"};
	struct pl_receipt send = {0}, recv = {0}, acc = {0}, cite = {0};
	const struct pl_receipt *all[] = {&send, &recv, &acc, &cite};
	uint8_t unknown[PL_HASH_BYTES], root[PL_HASH_BYTES];
	char target[128], hex[PL_HASH_HEX_LEN + 1];
	uint64_t idx[8];
	struct pl_buf b;
	struct raw raw;
	bool ends = true;
	int ret;

	ret = send_to(rok_mnd, PL_CLASS_PROPOSAL, "kpa", NULL, 3600, "Index: talks?", readers, 2,
	              &send);
	if (!accepted("index: a direct send", ret, rok_mnd, &send))
		return;
	accepted("index: kpa receives it", answer(kpa, PL_KIND_RECEIVE, send.id, NULL, &recv), kpa,
	         &recv);
	accepted("index: kpa accepts it", answer(kpa, PL_KIND_ACCEPT, send.id, NULL, &acc), kpa,
	         &acc);
	accepted("index: unc cites it", statement(unc, "We note it.\n", send.id, &cite), unc,
	         &cite);
	check(index_entries(kpa, send.id, &cite, idx) == 4 && idx[0] == send.index + 1 &&
	              idx[1] == recv.index && idx[2] == acc.index && idx[3] == cite.index,
	      "index: at the newest checkpoint the send's proof lists its available, receive, "
	      "accept and the statement citing it, and verifies against the index record's root");
	check(index_entries(rok_mnd, send.id, &send, idx) == 1 && idx[0] == send.index + 1,
	      "index: at the send's own checkpoint it lists the available alone, and verifies "
	      "against that checkpoint's index record");
	check(index_entries(kpa, cite.id, &cite, idx) == 0,
	      "index: a record nothing refers to is proven absent");
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ends = ends && index_root_of(kpa->c, all[i]->size, all[i]->checkpoint,
		                             all[i]->checkpoint_len, root);
	check(ends, "index: every checkpoint a receipt names ends with an index record");

	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	memset(unknown, 0x5a, sizeof(unknown));
	check(pl_client_index_proof(kpa->c, unknown, 0, &b) == PL_ENOTFOUND,
	      "index: a key that is no record is a 404");
	check(pl_client_index_proof(kpa->c, send.id, send.size - 1, &b) == PL_ENOTFOUND,
	      "index: a size at which no checkpoint was signed is a 404");
	pl_buf_release(&b);
	hexid(hex, send.id);
	snprintf(target, sizeof(target), "/index/%s", hex);
	check(raw_request("GET", target, NULL, NULL, 0, &raw) == 401,
	      "index: GET /index/<key> without authentication is a 401");
	pl_buf_release(&raw.body);
	check(raw_request("GET", "/index", NULL, NULL, 0, &raw) == 200 &&
	              strstr(raw.body.data ? raw.body.data : "", "\nkind index\n") != NULL,
	      "index: GET /index, the newest index record, is public");
	pl_buf_release(&raw.body);
	pl_buf_init(&b, PL_RECORD_MAX_BYTES);
	check(pl_client_index_record(kpa->c, send.size - 1, &b, &(uint64_t){0}) == PL_ENOTFOUND,
	      "index: GET /index?size= of a size never signed is a 404");
	pl_buf_release(&b);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		pl_receipt_release((struct pl_receipt *)all[i]);
}

static int cmd_flows(void)
{
	load_log_key();
	open_actors();
	flow_s1a();
	flow_s1b_decline();
	flow_s1b_expire();
	flow_s3();
	flow_delivery();
	flow_log();
	flow_index();
	close_actors();
	return fails ? 1 : 0;
}

/* ---- Raw requests, for every error status ---- */

static size_t raw_write(char *p, size_t size, size_t n, void *arg)
{
	struct raw *r = arg;

	return pl_buf_add(&r->body, p, size * n) == 0 ? size * n : 0;
}

/* One request with exactly the given headers (NULL-terminated) and body. */
static long raw_request(const char *method, const char *target, const char *const *headers,
                        const void *body, size_t len, struct raw *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char full[8192];

	pl_buf_init(&out->body, 1u << 20);
	out->status = 0;
	snprintf(full, sizeof(full), "%s%s", url, target);
	for (const char *const *p = headers; p && *p; p++)
		h = curl_slist_append(h, *p);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, full);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L); /* a HEAD answer has no body to wait for */
	else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, raw_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return out->status;
}

/* An Authorization header line for a request by a, at time t (0: now). */
static void auth_line(struct actor *a, const char *method, const char *target, const void *body,
                      size_t len, uint64_t t, char *out, size_t outlen)
{
	struct pl_buf h;

	pl_buf_init(&h, PL_AUTH_HEADER_MAX);
	if (pl_auth_sign(&h, &a->id.skey, method, target, strlen(target), body, len,
	                 t ? t : (uint64_t)time(NULL), NULL) != 0)
		fprintf(stderr, "cannot sign\n");
	snprintf(out, outlen, "Authorization: %s", h.data ? h.data : "");
	pl_buf_release(&h);
}

/* The Content-Digest header line of body[0..len). */
static void digest_line(const void *body, size_t len, char *out, size_t outlen)
{
	struct pl_buf h;

	pl_buf_init(&h, 128);
	if (pl_auth_digest_format(&h, body, len) != 0)
		fprintf(stderr, "cannot format a digest\n");
	snprintf(out, outlen, PL_AUTH_DIGEST_HEADER ": %s", h.data ? h.data : "");
	pl_buf_release(&h);
}

static bool has_code(const struct raw *r, const char *code)
{
	char want[64];

	snprintf(want, sizeof(want), "\"error\":\"%s\"", code);
	return r->body.data && strstr(r->body.data, want);
}

/* Expects status for a raw request; the JSON error code too when code is not NULL. */
static void expect_raw(long want, const char *code, const char *desc, const char *method,
                       const char *target, const char *const *headers, const void *body, size_t len)
{
	struct raw r;
	long got = raw_request(method, target, headers, body, len, &r);

	check(got == want && (!code || has_code(&r, code)), "%s: %ld (got %ld %s)", desc, want, got,
	      r.body.data ? r.body.data : "");
	pl_buf_release(&r.body);
}

/*
 * POST /payloads of body (len bytes) with headers: a 400 "malformed" whose body says needle.
 */
static void upload_malformed(const char *const *headers, const void *body, size_t len,
                             const char *needle, const char *desc)
{
	struct raw r;

	raw_request("POST", "/payloads", headers, body, len, &r);
	check(r.status == 400 && has_code(&r, "malformed") && strstr(r.body.data, needle),
	      "%s: 400 (%ld %s)", desc, r.status, r.body.data ? r.body.data : "");
	pl_buf_release(&r.body);
}

/* A statement by a, signed as the next record of its chain, in out. */
static void sign_statement(struct actor *a, const char *body, struct pl_buf *out)
{
	struct pl_record r;

	rec_init(&r, PL_KIND_STATEMENT);
	r.has |= PL_RECORD_HAS_CLASS;
	r.cls = PL_CLASS_STATEMENT;
	rec_body(&r, body);
	pl_buf_init(out, PL_RECORD_MAX_BYTES);
	(void)actor_sign(a, &r, out);
}

/*
 * POST /records without an Authorization header: the record's signature is
 * the authentication, and a replay changes nothing.
 */
static void errors_self_authenticated(struct actor *stranger)
{
	const char *hdrs[3] = {NULL, NULL, NULL};
	char line[1024], dline[128];
	struct pl_buf rec;
	struct raw r1, r2;
	uint64_t size;

	sign_statement(kpa, "Submitted with no request signature.\n", &rec);
	raw_request("POST", "/records", NULL, rec.data, rec.len, &r1);
	size = tree_size(kpa->c);
	raw_request("POST", "/records", NULL, rec.data, rec.len, &r2);
	check(r1.status == 201 && r2.status == 200 && r1.body.data && r2.body.data &&
	              strstr(r2.body.data, "\"index\"") && tree_size(kpa->c) == size,
	      "a member's record needs no Authorization header (%ld), and its replay is "
	      "answered with the same entry without logging it again (%ld)",
	      r1.status, r2.status);
	if (r1.status == 201) { /* kpa's chain moved on */
		kpa->seq++;
		pl_sha256(kpa->head, rec.data, rec.len);
	}
	pl_buf_release(&r1.body);
	pl_buf_release(&r2.body);
	pl_buf_release(&rec);

	sign_statement(stranger, "Not a member.\n", &rec);
	expect_raw(403, "forbidden", "a record by a key that is not registered", "POST", "/records",
	           NULL, rec.data, rec.len);
	pl_buf_release(&rec);

	sign_statement(kpa, "Altered after signing.\n", &rec);
	{
		char *w = strstr(rec.data, "Altered");
		if (w)
			*w = 'a'; /* the signature no longer covers the text */
	}
	expect_raw(401, "bad-signature", "a member's record altered after signing", "POST",
	           "/records", NULL, rec.data, rec.len);
	pl_buf_release(&rec);

	/* An Authorization header sent with a record is checked like any other. */
	sign_statement(kpa, "With a header for another body.\n", &rec);
	auth_line(kpa, "POST", "/records", "x", 1, 0, line, sizeof(line));
	digest_line(rec.data, rec.len, dline, sizeof(dline));
	hdrs[0] = line;
	hdrs[1] = dline;
	expect_raw(401, "unauthenticated",
	           "a record with an Authorization header over another body", "POST", "/records",
	           hdrs, rec.data, rec.len);
	check(tree_size(kpa->c) == size, "none of the refused records was logged");
	pl_buf_release(&rec);
}

static void errors_auth(void)
{
	char line[1024], line2[1024], dline[128];
	const char *hdrs[3] = {NULL, NULL, NULL};
	struct actor *stranger = actor_open("stranger");
	struct raw r1, r2;

	expect_raw(401, "unauthenticated", "GET /inbox without Authorization", "GET",
	           "/inbox?wait=0", NULL, NULL, 0);
	hdrs[0] = "Authorization: Parley-Ed25519 key=hotline.example/kpa+00000000, time=1";
	expect_raw(401, "unauthenticated", "a malformed Authorization header", "GET",
	           "/inbox?wait=0", hdrs, NULL, 0);
	auth_line(kpa, "GET", "/inbox?wait=0", NULL, 0, 0, line, sizeof(line));
	hdrs[0] = line;
	expect_raw(401, "unauthenticated", "a signature for another target", "GET", "/inbox?wait=1",
	           hdrs, NULL, 0);
	expect_raw(401, NULL, "a signature for another method (HEAD: no body)", "HEAD",
	           "/inbox?wait=0", hdrs, NULL, 0);
	/* The signature covers the declared digest; the body must match that digest. */
	auth_line(kpa, "POST", "/payloads", "abc", 3, 0, line, sizeof(line));
	digest_line("abd", 3, dline, sizeof(dline));
	hdrs[0] = line;
	hdrs[1] = dline;
	expect_raw(401, "unauthenticated", "a signature over another body (and its digest)", "POST",
	           "/payloads", hdrs, "abd", 3);
	auth_line(kpa, "POST", "/payloads", "abc", 3, 0, line, sizeof(line));
	digest_line("abc", 3, dline, sizeof(dline));
	expect_raw(401, "unauthenticated", "a body that does not match its signed digest", "POST",
	           "/payloads", hdrs, "abd", 3);
	hdrs[1] = NULL;
	auth_line(kpa, "GET", "/inbox?wait=0", NULL, 0, (uint64_t)time(NULL) - 3600, line,
	          sizeof(line));
	hdrs[0] = line;
	expect_raw(401, "unauthenticated", "a request an hour old", "GET", "/inbox?wait=0", hdrs,
	           NULL, 0);
	auth_line(kpa, "GET", "/inbox?wait=0", NULL, 0, (uint64_t)time(NULL) + 3600, line,
	          sizeof(line));
	hdrs[0] = line;
	expect_raw(401, "unauthenticated", "a request an hour ahead", "GET", "/inbox?wait=0", hdrs,
	           NULL, 0);

	/* Replay: the same signed request twice. */
	auth_line(kpa, "GET", "/inbox?wait=0", NULL, 0, 0, line, sizeof(line));
	hdrs[0] = line;
	raw_request("GET", "/inbox?wait=0", hdrs, NULL, 0, &r1);
	raw_request("GET", "/inbox?wait=0", hdrs, NULL, 0, &r2);
	check(r1.status == 200 && r2.status == 401 && has_code(&r2, "unauthenticated") &&
	              strstr(r2.body.data, "replay"),
	      "a replayed request is refused: first %ld, then %ld", r1.status, r2.status);
	pl_buf_release(&r1.body);
	pl_buf_release(&r2.body);
	/* Replay of a submission: refused before the record is even looked at. */
	auth_line(kpa, "POST", "/records", "x", 1, 0, line, sizeof(line));
	digest_line("x", 1, dline, sizeof(dline));
	hdrs[0] = line;
	hdrs[1] = dline;
	raw_request("POST", "/records", hdrs, "x", 1, &r1);
	raw_request("POST", "/records", hdrs, "x", 1, &r2);
	hdrs[1] = NULL;
	check(r1.status == 400 && r2.status == 401,
	      "a replayed POST is refused: first %ld, then %ld", r1.status, r2.status);
	pl_buf_release(&r1.body);
	pl_buf_release(&r2.body);

	errors_self_authenticated(stranger);

	auth_line(kpa, "GET", "/inbox?wait=0", NULL, 0, 0, line, sizeof(line));
	auth_line(kpa, "GET", "/inbox?wait=0", NULL, 0, 0, line2, sizeof(line2));
	hdrs[0] = line;
	hdrs[1] = line2;
	expect_raw(400, "malformed", "two Authorization headers", "GET", "/inbox?wait=0", hdrs,
	           NULL, 0);
	hdrs[1] = NULL;

	auth_line(stranger, "GET", "/inbox?wait=0", NULL, 0, 0, line, sizeof(line));
	hdrs[0] = line;
	expect_raw(403, "forbidden", "a key that is not registered", "GET", "/inbox?wait=0", hdrs,
	           NULL, 0);
	{
		/* kpa's name but another key: the stranger's key renamed. */
		struct pl_skey sk = stranger->id.skey;
		struct pl_vkey vk;
		struct pl_buf h;
		snprintf(sk.name, sizeof(sk.name), "%s", "hotline.example/kpa");
		pl_skey_public(&sk, &vk);
		pl_key_id(sk.id, sk.name, sk.type, vk.pk);
		pl_buf_init(&h, PL_AUTH_HEADER_MAX);
		if (pl_auth_sign(&h, &sk, "GET", "/inbox?wait=0", 13, NULL, 0, (uint64_t)time(NULL),
		                 NULL) == 0) {
			snprintf(line, sizeof(line), "Authorization: %s", h.data);
			expect_raw(403, "forbidden", "a party's name with another key", "GET",
			           "/inbox?wait=0", hdrs, NULL, 0);
		}
		pl_buf_release(&h);
		pl_skey_clear(&sk);
		/* The right key ID but a forged signature. */
		auth_line(kpa, "GET", "/inbox?wait=0", NULL, 0, 0, line, sizeof(line));
		line[strlen(line) - 3] = line[strlen(line) - 3] == 'A' ? 'B' : 'A';
		expect_raw(401, "unauthenticated", "a forged signature", "GET", "/inbox?wait=0",
		           hdrs, NULL, 0);
	}
	actor_close(stranger);
}

static void errors_status(void)
{
	char line[1024], target[2100], dline[128];
	const char *hdrs[3] = {NULL, NULL, NULL};
	struct pl_receipt a = {0}, b = {0};
	struct pl_record r;
	struct pl_buf rec;
	int ret;

	/* 400 */
	auth_line(kpa, "GET", "/inbox?after=01", NULL, 0, 0, line, sizeof(line));
	hdrs[0] = line;
	expect_raw(400, "malformed", "a number with a leading zero", "GET", "/inbox?after=01", hdrs,
	           NULL, 0);
	expect_raw(400, "malformed", "an unknown query parameter", "GET", "/statements?foo=1", NULL,
	           NULL, 0);
	expect_raw(400, "malformed", "a repeated query parameter", "GET",
	           "/statements?after=1&after=2", NULL, NULL, 0);
	expect_raw(400, "malformed", "percent-encoding in the target", "GET", "/check%70oint", NULL,
	           NULL, 0);
	auth_line(kpa, "GET", "/records/xyz", NULL, 0, 0, line, sizeof(line));
	expect_raw(400, "malformed", "a record id that is not hex", "GET", "/records/xyz", hdrs,
	           NULL, 0);
	auth_line(kpa, "POST", "/records", "not a record\n", 13, 0, line, sizeof(line));
	digest_line("not a record\n", 13, dline, sizeof(dline));
	hdrs[1] = dline;
	expect_raw(400, "malformed", "a body that is not a record", "POST", "/records", hdrs,
	           "not a record\n", 13);
	hdrs[1] = NULL;
	expect_raw(400, "malformed", "a body on a GET", "GET", "/checkpoint", NULL, "x", 1);
	expect_raw(400, "out-of-range", "consistency with old > new", "GET",
	           "/consistency?old=3&new=2", NULL, NULL, 0);

	/* 404 */
	expect_raw(404, "not-found", "an unknown path", "GET", "/nothing-here", NULL, NULL, 0);
	expect_raw(404, "not-found", "a tile path that is not canonical", "GET", "/tile/0/x000/001",
	           NULL, NULL, 0);
	expect_raw(404, "not-found", "consistency past the tree", "GET",
	           "/consistency?old=1&new=99999999", NULL, NULL, 0);
	{
		const char *t =
		        "/records/0000000000000000000000000000000000000000000000000000000000000000";
		auth_line(kpa, "GET", t, NULL, 0, 0, line, sizeof(line));
		expect_raw(404, "not-found", "an unknown record id", "GET", t, hdrs, NULL, 0);
	}
	/* A record citing a record that does not exist. */
	{
		uint8_t ghost[PL_HASH_BYTES];
		memset(ghost, 0x42, sizeof(ghost));
		ret = statement(dprk, "Citing nothing.\n", ghost, &a);
		check(ret == PL_ENOTFOUND && pl_client_last_error(dprk->c)->status == 404,
		      "a record referring to an unknown record: 404 (%s)", pl_strerror(ret));
		pl_receipt_release(&a);
	}

	/* 405 */
	expect_raw(405, "method-not-allowed", "DELETE", "DELETE", "/checkpoint", NULL, NULL, 0);
	expect_raw(405, "method-not-allowed", "GET on a POST-only path", "GET", "/records", NULL,
	           NULL, 0);

	/* 409: a second record with a seq already taken, with the head in the answer. */
	ret = statement(dprk, "First statement at this seq.\n", NULL, &a);
	check(ret == 0, "a statement is accepted");
	dprk->seq--;
	memcpy(dprk->head, a.id, PL_HASH_BYTES); /* prev is wrong too: a fork attempt */
	{
		uint64_t seq = dprk->seq + 1;
		rec_init(&r, PL_KIND_STATEMENT);
		r.has |= PL_RECORD_HAS_CLASS;
		r.cls = PL_CLASS_STATEMENT;
		rec_body(&r, "A fork: another statement at the same seq.\n");
		ret = actor_submit(dprk, &r, &b);
		const struct pl_client_error *e = pl_client_last_error(dprk->c);
		check(ret == PL_ECHAIN && e->status == 409 && e->has_head && e->head_seq == seq &&
		              memcmp(e->head_id, a.id, PL_HASH_BYTES) == 0 &&
		              e->head_index == a.index,
		      "a fork attempt: 409 with the current head (seq %llu, index %llu)",
		      (unsigned long long)e->head_seq, (unsigned long long)e->head_index);
		dprk->seq = seq;
		memcpy(dprk->head, a.id, PL_HASH_BYTES);
	}
	/* Submitting the same record again is idempotent: 200 with a proof. */
	pl_buf_init(&rec, PL_RECORD_MAX_BYTES);
	{
		struct pl_client_entry e = {0};
		char hex[PL_HASH_HEX_LEN + 1];
		struct pl_receipt again = {0};
		hexid(hex, a.id);
		ret = pl_client_record(dprk->c, hex, &e);
		if (!ret)
			ret = pl_client_submit(dprk->c, e.note, e.note_len, &again);
		check(ret == 0 && again.index == a.index &&
		              verify_receipt(dprk->c, e.note, e.note_len, &again),
		      "resubmitting a logged record answers its index and a fresh proof");
		pl_receipt_release(&again);
		pl_client_entry_release(&e);
	}
	pl_buf_release(&rec);
	pl_receipt_release(&a);
	pl_receipt_release(&b);

	/* 411, 413, 414, 431 */
	{
		const char *h2[3] = {NULL, "Transfer-Encoding: chunked", NULL};
		auth_line(kpa, "POST", "/payloads", "abc", 3, 0, line, sizeof(line));
		h2[0] = line;
		expect_raw(411, "length-required", "a chunked upload", "POST", "/payloads", h2,
		           "abc", 3);
	}
	{
		size_t big = PL_RECORD_MAX_BYTES + 1;
		char *body = malloc(big);
		memset(body, 'a', big);
		auth_line(kpa, "POST", "/records", body, big, 0, line, sizeof(line));
		expect_raw(413, "too-large", "a record over 32 KiB", "POST", "/records", hdrs, body,
		           big);
		free(body);
	}
	memset(target, 'a', sizeof(target));
	target[0] = '/';
	target[2000] = '\0';
	expect_raw(414, "too-large", "a 2000-byte request-target", "GET", target, NULL, NULL, 0);
	{
		const char *many[80];
		char names[79][32];
		for (int i = 0; i < 79; i++) {
			snprintf(names[i], sizeof(names[i]), "X-Filler-%d: %d", i, i);
			many[i] = names[i];
		}
		many[79] = NULL;
		expect_raw(431, "too-large", "79 header fields", "GET", "/checkpoint", many, NULL,
		           0);
	}

	/* 422 */
	rec_init(&r, PL_KIND_STATEMENT);
	r.has |= PL_RECORD_HAS_CLASS;
	r.cls = PL_CLASS_STATEMENT;
	r.time = (int64_t)time(NULL) - 86400 * 2;
	rec_body(&r, "Dated two days ago.\n");
	ret = actor_submit(dprk, &r, &a);
	check(ret == PL_ERULE && pl_client_last_error(dprk->c)->status == 422,
	      "a record dated outside the time tolerance: 422 (%s: %s)", pl_strerror(ret),
	      pl_client_last_error(dprk->c)->reason);
	pl_receipt_release(&a);

	/* 403 for a blob not sealed to the reader is in the flows; 429: */
	{
		int limited = 0;
		for (int i = 0; i < 40 && !limited; i++) {
			struct raw rr;
			auth_line(us_nsc, "GET", "/inbox?wait=0", NULL, 0, 0, line, sizeof(line));
			if (raw_request("GET", "/inbox?wait=0", hdrs, NULL, 0, &rr) == 429 &&
			    has_code(&rr, "rate-limited"))
				limited = i + 1;
			pl_buf_release(&rr.body);
		}
		check(limited > 0, "a key over its request rate gets 429 (request %d)", limited);
		/* Records authenticated by their own signature draw on the same allowance. */
		sign_statement(us_nsc, "Over the rate.\n", &rec);
		expect_raw(429, "rate-limited", "a record by a key over its request rate", "POST",
		           "/records", NULL, rec.data, rec.len);
		pl_buf_release(&rec);
	}
}

/* The client's own bounds: protocols, answer sizes, unreachable servers. */
static void errors_client(void)
{
	struct pl_client_options small = {.response_max = 64};
	struct pl_client *c = NULL;
	struct pl_client_party *v = NULL;
	struct pl_buf b;
	size_t n = 0;
	int ret;

	check(pl_client_new(&c, "ftp://127.0.0.1/", NULL, NULL) == PL_EINVAL,
	      "the client refuses a URL that is not http or https");
	check(pl_client_new(&c, "file:///etc/passwd", NULL, NULL) == PL_EINVAL,
	      "the client refuses file URLs");
	if (pl_client_new(&c, url, NULL, &small) == 0) {
		ret = pl_client_parties(c, &v, &n);
		check(ret == PL_ETOOBIG, "an answer over the client's limit is refused (%s)",
		      pl_strerror(ret));
		pl_client_parties_free(v, n);
		pl_client_free(c);
	}
	pl_buf_init(&b, 1024);
	if (pl_client_new(&c, "http://127.0.0.1:1", NULL, NULL) == 0) {
		ret = pl_client_checkpoint(c, &b);
		check(ret == PL_ENET && pl_client_last_error(c)->status == 0,
		      "no server: a network error, no status (%s)",
		      pl_client_last_error(c)->reason);
		pl_client_free(c);
	}
	if (pl_client_new(&c, url, NULL, NULL) == 0) {
		ret = pl_client_inbox(c, 0, 0, &(struct pl_client_list){0});
		check(ret == PL_EINVAL,
		      "an authenticated call on a client without a key is refused "
		      "before sending");
		pl_client_free(c);
	}
	pl_buf_release(&b);
}

/* A refusal says which limit a note broke, not only that it is malformed. */
static void errors_reasons(void)
{
	struct pl_buf rec;
	struct raw r;
	const char *sig;

	sign_statement(dprk, "Signed two hundred times.\n", &rec);
	/* The signature line follows the last blank line (the body has one before it). */
	sig = rec.data ? strstr(rec.data, "\n\n") : NULL;
	while (sig && strstr(sig + 1, "\n\n"))
		sig = strstr(sig + 1, "\n\n");
	if (sig) {
		size_t off = (size_t)(sig + 2 - rec.data), n = rec.len - off;
		char *line = malloc(n);
		if (line) {
			memcpy(line, rec.data + off, n);
			for (int i = 1; i < 200 && pl_buf_add(&rec, line, n) == 0; i++)
				;
			free(line);
		}
	}
	raw_request("POST", "/records", NULL, rec.data, rec.len, &r);
	check(r.status == 413 && has_code(&r, "too-large") && r.body.data &&
	              strstr(r.body.data, "more than 64 signature lines"),
	      "a record with 200 signature lines: 413 saying there are more than 64 (got %ld %s)",
	      r.status, r.body.data ? r.body.data : "");
	pl_buf_release(&r.body);
	pl_buf_release(&rec);
}

/*
 * A blob before and after a send refers to it: before, only its uploader
 * fetches it (a reader it is sealed to is told there is none, 404); after,
 * whoever may read the send, and its uploader.
 * The uploader's unreferenced bytes are bounded (payload_unreferenced_max in
 * the test's parleyd.conf): past it 507, and the send makes room again.
 */
static void errors_payloads(void)
{
	static const char *const readers[] = {"kpa"};
	struct pl_record r, r2;
	struct pl_receipt rc = {0};
	struct pl_buf blob;
	char text[3001];
	int ret;

	sleep_ms(1100); /* a fresh request allowance for every key (rate = 10) */
	pl_buf_init(&blob, 1u << 20);
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	rec_init(&r, PL_KIND_SEND);
	r.has |= PL_RECORD_HAS_CLASS;
	r.cls = PL_CLASS_MESSAGE;
	rec_to(&r, "kpa");
	ret = upload(dprk, text, readers, 1, &r);
	check(ret == 0, "dprk uploads a blob sealed to kpa (%s)", pl_strerror(ret));
	ret = pl_client_payload_get(kpa->c, r.payload, &blob);
	check(ret == PL_ENOTFOUND && pl_client_last_error(kpa->c)->status == 404,
	      "before a send refers to it, a reader it is sealed to gets 404 (%s)",
	      pl_strerror(ret));
	pl_buf_reset(&blob);
	ret = pl_client_payload_get(dprk->c, r.payload, &blob);
	check(ret == 0 && blob.len == r.payload_size,
	      "before a send refers to it, its uploader gets it (%s)", pl_strerror(ret));
	pl_buf_reset(&blob);

	text[0] = 'b';
	rec_init(&r2, PL_KIND_SEND);
	ret = upload(dprk, text, readers, 1, &r2);
	check(ret == PL_ELIMIT && pl_client_last_error(dprk->c)->status == 507 &&
	              strcmp(pl_client_last_error(dprk->c)->code, "over-quota") == 0,
	      "an upload past payload_unreferenced_max: 507 over-quota (%s, %ld %s)",
	      pl_strerror(ret), pl_client_last_error(dprk->c)->status,
	      pl_client_last_error(dprk->c)->code);

	ret = actor_submit(dprk, &r, &rc);
	check(ret == 0, "dprk's send refers to the blob (%s)", pl_strerror(ret));
	pl_receipt_release(&rc);
	ret = pl_client_payload_get(kpa->c, r.payload, &blob);
	check(ret == 0 && blob.len == r.payload_size,
	      "after the send, the reader gets the blob (%s)", pl_strerror(ret));
	pl_buf_reset(&blob);
	ret = pl_client_payload_get(dprk->c, r.payload, &blob);
	check(ret == 0 && blob.len == r.payload_size,
	      "after the send, its uploader and sender still gets it (%s)", pl_strerror(ret));
	pl_buf_reset(&blob);
	ret = pl_client_payload_get(us_wh->c, r.payload, &blob);
	check(ret == PL_ENOTFOUND && pl_client_last_error(us_wh->c)->status == 404,
	      "after the send, a member who may not read it gets 404 (%s)", pl_strerror(ret));
	ret = upload(dprk, text, readers, 1, &r2);
	check(ret == 0, "the send made room for another upload (%s)", pl_strerror(ret));
	pl_buf_release(&blob);
}

static int cmd_errors(void)
{
	load_log_key();
	open_actors();
	errors_client();
	errors_auth();
	errors_status();
	errors_reasons();
	errors_payloads();
	close_actors();
	return fails ? 1 : 0;
}

/* ---- Load and crash checks ---- */

struct loader {
	struct actor *a;
	FILE *acks;
	pthread_mutex_t *lock;
	int n, done, failed;
};

static void *load_main(void *arg)
{
	struct loader *l = arg;

	for (int i = 0; i < l->n; i++) {
		struct pl_receipt rc = {0};
		char body[96], hex[PL_HASH_HEX_LEN + 1];
		snprintf(body, sizeof(body), "Load statement %d of %s.\n", i, l->a->id.name);
		if (statement(l->a, body, NULL, &rc) != 0) {
			l->failed++;
			if (l->failed > 3)
				break;
			sleep_ms(50);
			continue;
		}
		hexid(hex, rc.id);
		pthread_mutex_lock(l->lock);
		/* index, id, then the checkpoint it was acknowledged with (one line, escaped) */
		fprintf(l->acks, "%llu %s ", (unsigned long long)rc.index, hex);
		for (size_t k = 0; k < rc.checkpoint_len; k++)
			fputs(rc.checkpoint[k] == '\n' ? "|" : (char[2]){rc.checkpoint[k], 0},
			      l->acks);
		fputc('\n', l->acks);
		fflush(l->acks);
		pthread_mutex_unlock(l->lock);
		l->done++;
		pl_receipt_release(&rc);
	}
	return NULL;
}

/* Submits statements from several parties at once; appends each acknowledgement to a file. */
static int cmd_load(const char *ackfile, int per_party)
{
	static const char *const names[] = {"rok-mnd", "unc", "kpa", "dprk", "us-nsc", "us-wh"};
	struct loader l[6];
	pthread_t t[6];
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	FILE *f = fopen(ackfile, "a");
	int done = 0;

	if (!f)
		return 2;
	load_log_key();
	open_actors();
	for (int i = 0; i < 6; i++) {
		struct actor *a = strcmp(names[i], "rok-mnd") == 0  ? rok_mnd
		                  : strcmp(names[i], "unc") == 0    ? unc
		                  : strcmp(names[i], "kpa") == 0    ? kpa
		                  : strcmp(names[i], "dprk") == 0   ? dprk
		                  : strcmp(names[i], "us-nsc") == 0 ? us_nsc
		                                                    : us_wh;
		l[i] = (struct loader){a, f, &lock, per_party, 0, 0};
		pthread_create(&t[i], NULL, load_main, &l[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		done += l[i].done;
	}
	fclose(f);
	note("load: %d records acknowledged", done);
	close_actors();
	return 0;
}

/* Every acknowledged record is in the log at its index (unless only_consistent), and every
 * checkpoint handed out is consistent with the current one. */
static int cmd_verify_acks(const char *ackfile, bool only_consistent)
{
	struct pl_client *anon = NULL;
	struct actor *a;
	struct pl_checkpoint now;
	struct pl_buf cpb;
	FILE *f = fopen(ackfile, "r");
	char line[16384];
	int n = 0, missing = 0, inconsistent = 0;
	uint64_t last_size = 0;

	if (!f)
		return 2;
	load_log_key();
	a = actor_open("kpa");
	pl_buf_init(&cpb, 1u << 16);
	if (pl_client_new(&anon, url, NULL, NULL) != 0 || pl_client_checkpoint(anon, &cpb) != 0 ||
	    open_checkpoint(&now, cpb.data, cpb.len) != 0) {
		check(false, "the restarted server serves a checkpoint");
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char hex[PL_HASH_HEX_LEN + 1], *cp, *sp;
		unsigned long long index;
		struct pl_client_entry e = {0};
		struct pl_checkpoint old;
		char *end;

		index = strtoull(line, &end, 10);
		if (*end != ' ' || strlen(end + 1) < PL_HASH_HEX_LEN + 1)
			continue;
		memcpy(hex, end + 1, PL_HASH_HEX_LEN);
		hex[PL_HASH_HEX_LEN] = '\0';
		n++;
		if (!only_consistent && (pl_client_record(a->c, hex, &e) != 0 || e.index != index))
			missing++;
		pl_client_entry_release(&e);
		cp = end + 1 + PL_HASH_HEX_LEN + 1;
		sp = strchr(cp, '\n');
		if (sp)
			*sp = '\0';
		for (char *q = cp; *q; q++)
			if (*q == '|')
				*q = '\n';
		if (open_checkpoint(&old, cp, strlen(cp)) != 0) {
			inconsistent++;
			continue;
		}
		if (old.size != last_size && old.size <= now.size) {
			uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
			size_t np = 0;
			if (pl_client_consistency(anon, old.size, now.size, proof, &np) != 0 ||
			    pl_tlog_verify_consistency(old.size, now.size, old.root, now.root,
			                               proof, np) != 0)
				inconsistent++;
			last_size = old.size;
		} else if (old.size > now.size) {
			inconsistent++;
		}
	}
	fclose(f);
	check(n > 0, "the load had acknowledged records (%d)", n);
	if (!only_consistent)
		check(missing == 0,
		      "every acknowledged record is in the log at its index (%d missing)", missing);
	check(inconsistent == 0,
	      "every checkpoint handed out is consistent with the new one (%d not)", inconsistent);
	pl_buf_release(&cpb);
	pl_client_free(anon);
	actor_close(a);
	return fails ? 1 : 0;
}

/* Holds an event stream and a long poll open until the server stops; both must end cleanly. */
static int cmd_hold(void)
{
	struct stream_ctx s = {0};
	struct poll_ctx p = {0};
	struct pl_client *c2 = NULL;
	pthread_t ts, tp;
	uint64_t t0 = ms_now(), ts_end, tp_end;

	load_log_key();
	pthread_mutex_init(&s.lock, NULL);
	s.a = actor_open("kpa");
	if (pl_client_new(&c2, url, &s.a->id.skey, NULL) != 0)
		return 2;
	p.a = &(struct actor){.c = c2};
	s.cursor = p.cursor = tree_size(s.a->c);
	printf("# holding\n");
	fflush(stdout);
	pthread_create(&ts, NULL, stream_main, &s);
	pthread_create(&tp, NULL, poll_main, &p);
	pthread_join(tp, NULL);
	tp_end = ms_now();
	pthread_join(ts, NULL);
	ts_end = ms_now();
	/* The server is stopped within a few seconds; the stream's own limit is 10 s, the poll's
	 * wait 10 s. */
	check(p.ret == 0 && tp_end - t0 < 9000,
	      "a long poll is answered when the server stops "
	      "(%llu ms)",
	      (unsigned long long)(tp_end - t0));
	check(s.ret == 0 && ts_end - t0 < 9000,
	      "an event stream ends cleanly when the server "
	      "stops (%llu ms)",
	      (unsigned long long)(ts_end - t0));
	pl_client_list_release(&p.l);
	pl_client_free(c2);
	actor_close(s.a);
	pthread_mutex_destroy(&s.lock);
	return fails ? 1 : 0;
}

/* ---- Admission: who may hold upload memory and nonce memory ---- */

/* Opens a connection to the server and sends head (a request head and the first body bytes). */
static int raw_open(const char *head)
{
	const char *colon = strrchr(url, ':');
	struct sockaddr_in sa;
	size_t len = strlen(head), off = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)(colon ? strtoul(colon + 1, NULL, 10) : 0));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (off < len) {
		ssize_t n = send(fd, head + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	return fd;
}

/* The status of the answer on fd within ms milliseconds; 0 when none came (the request is held). */
static long raw_answer(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[512];
	ssize_t n;
	long status = 0;

	if (fd < 0 || poll(&p, 1, ms) != 1)
		return 0;
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n > 12) {
		buf[n] = '\0';
		if (strncmp(buf, "HTTP/1.1 ", 9) == 0)
			status = strtol(buf + 9, NULL, 10);
	}
	return n == 0 ? -1 : status; /* -1: closed without an answer */
}

/*
 * The head of a POST declaring len bytes, with the given extra header lines
 * (each ending in CRLF, or empty), then one byte of the body.
 */
static void post_head(char *out, size_t outlen, const char *target, size_t len, const char *extra)
{
	snprintf(out, outlen,
	         "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n%s\r\nX", target,
	         len, extra);
}

/* Authorization and Content-Digest lines of a's upload of body[0..len), CRLF-terminated. */
static void signed_lines(struct actor *a, const char *target, const void *body, size_t len,
                         char *out, size_t outlen)
{
	char auth[1024], dig[128];

	auth_line(a, "POST", target, body, len, 0, auth, sizeof(auth));
	digest_line(body, len, dig, sizeof(dig));
	snprintf(out, outlen, "%s\r\n%s\r\n", auth, dig);
}

#define HELD_MAX 32

/*
 * Defect: the shared upload budget was reserved on the declared Content-Length
 * before authentication, so four unauthenticated connections dribbling
 * bytes blocked every submission. Now nobody who has not proven membership
 * holds upload memory, and a member is held to its own allowance.
 */
static int cmd_admission_uploads(size_t payload_max)
{
	static const char blob_text[] = "Upload while strangers hold connections open.\n";
	const char *readers[] = {"unc"};
	int fds[HELD_MAX], nfd = 0, n_unauth = 0, n_stranger = 0, n_forged = 0, n_records = 0;
	int first_stranger, first_forged, first_record, first_kpa;
	char head[4096], lines[2048];
	struct actor *stranger;
	uint8_t *body = calloc(1, payload_max);
	bool all;
	int ret;

	if (!body)
		return 2;
	load_log_key();
	open_actors();
	stranger = actor_open("stranger");

	/* Strangers: the largest payload declared, one byte sent, the rest never. */
	for (; n_unauth < 6; n_unauth++) {
		post_head(head, sizeof(head), "/payloads", payload_max, "");
		fds[nfd++] = raw_open(head);
	}
	first_stranger = nfd;
	for (; n_stranger < 2; n_stranger++) {
		signed_lines(stranger, "/payloads", body, payload_max, lines, sizeof(lines));
		post_head(head, sizeof(head), "/payloads", payload_max, lines);
		fds[nfd++] = raw_open(head);
	}
	first_forged = nfd;
	for (; n_forged < 2; n_forged++) {
		char *sig;
		signed_lines(kpa, "/payloads", body, payload_max, lines, sizeof(lines));
		sig = strstr(lines, "sig=");
		if (sig)
			sig[4] = sig[4] == 'A' ? 'B' : 'A';
		post_head(head, sizeof(head), "/payloads", payload_max, lines);
		fds[nfd++] = raw_open(head);
	}
	/* Records need no Authorization: they are held, but bounded per connection. */
	first_record = nfd;
	for (; n_records < 8; n_records++) {
		post_head(head, sizeof(head), "/records", PL_RECORD_MAX_BYTES, "");
		fds[nfd++] = raw_open(head);
	}
	sleep_ms(300);

	{
		struct pl_record r;
		struct pl_receipt rc = {0};
		rec_init(&r, PL_KIND_SEND);
		r.has |= PL_RECORD_HAS_CLASS;
		r.cls = PL_CLASS_MESSAGE;
		rec_to(&r, "unc");
		ret = upload(rok_mnd, blob_text, readers, 1, &r);
		check(ret == 0,
		      "while %d connections without credentials, %d of a non-member and %d with a "
		      "forged signature declare the largest payload, a member uploads a payload "
		      "(%s%s)",
		      n_unauth, n_stranger, n_forged, ret ? "refused: " : "ok",
		      ret ? pl_client_last_error(rok_mnd->c)->reason : "");
		if (ret == 0)
			ret = actor_submit(rok_mnd, &r, &rc);
		check(ret == 0, "and submits the record that sends it (%s: %s)", pl_strerror(ret),
		      pl_client_last_error(rok_mnd->c)->reason);
		pl_receipt_release(&rc);
		ret = statement(unc, "Submitted while strangers hold connections.\n", NULL, &rc);
		check(ret == 0, "another member submits a record as well (%s: %s)",
		      pl_strerror(ret), pl_client_last_error(unc->c)->reason);
		pl_receipt_release(&rc);
	}
	all = true;
	for (int i = 0; i < first_stranger; i++)
		all = all && raw_answer(fds[i], 2000) == 401;
	check(all, "an upload without credentials is refused with 401 before its body is read");
	all = true;
	for (int i = first_stranger; i < first_forged; i++)
		all = all && raw_answer(fds[i], 2000) == 403;
	check(all, "an upload by a non-member is refused with 403 before its body is read");
	all = true;
	for (int i = first_forged; i < first_record; i++)
		all = all && raw_answer(fds[i], 2000) == 401;
	check(all, "an upload with a forged signature is refused with 401 before its body is read");
	all = true;
	for (int i = first_record; i < nfd; i++)
		all = all && raw_answer(fds[i], 0) == 0;
	check(all, "unfinished records without Authorization are still being received");
	for (int i = 0; i < nfd; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	nfd = 0;

	/* A member's own allowance (upload_per_key, 2 x payload_max by default). */
	first_kpa = nfd;
	for (int i = 0; i < 2; i++) {
		body[0] = (uint8_t)i;
		signed_lines(kpa, "/payloads", body, payload_max, lines, sizeof(lines));
		post_head(head, sizeof(head), "/payloads", payload_max, lines);
		fds[nfd++] = raw_open(head);
	}
	sleep_ms(300);
	all = true;
	for (int i = first_kpa; i < nfd; i++)
		all = all && raw_answer(fds[i], 0) == 0;
	check(all, "a member's two unfinished uploads of the largest size are being received");
	{
		uint8_t h[PL_HASH_BYTES];
		const struct pl_client_error *e;
		ret = pl_client_payload_put(kpa->c, (const uint8_t *)"more", 4, h);
		e = pl_client_last_error(kpa->c);
		check(ret != 0 && e->status == 503 && strstr(e->reason, "this key"),
		      "a third upload of that member is refused for that member only: %ld (%s)",
		      e->status, e->reason);
		{
			struct pl_record r;
			rec_init(&r, PL_KIND_SEND);
			r.has |= PL_RECORD_HAS_CLASS;
			r.cls = PL_CLASS_MESSAGE;
			rec_to(&r, "kpa");
			ret = upload(unc, blob_text, (const char *const[]){"kpa"}, 1, &r);
			check(ret == 0, "meanwhile another member uploads (%s: %s)",
			      pl_strerror(ret), pl_client_last_error(unc->c)->reason);
		}
		for (int i = first_kpa; i < nfd; i++)
			close(fds[i]);
		nfd = 0;
		ret = -1;
		for (int i = 0; i < 50 && ret != 0; i++) {
			struct pl_record r;
			rec_init(&r, PL_KIND_SEND);
			ret = upload(kpa, blob_text, readers, 1, &r);
			if (ret != 0)
				sleep_ms(100);
		}
		check(ret == 0,
		      "once its connections are gone, the member's allowance is back (%s)",
		      pl_strerror(ret));
	}

	/* The declared digest. */
	{
		const char *hdrs[4] = {NULL, NULL, NULL, NULL};
		char line[1024], dline[128], dline2[128];
		static const char blob[] = "a body";
		struct raw rr;
		char target[16 + PL_HASH_HEX_LEN];
		uint8_t h[PL_HASH_BYTES];

		auth_line(kpa, "POST", "/payloads", blob, 6, 0, line, sizeof(line));
		hdrs[0] = line;
		upload_malformed(hdrs, blob, 6, "Content-Digest",
		                 "a signed upload without Content-Digest");
		auth_line(kpa, "POST", "/payloads", blob, 6, 0, line, sizeof(line));
		hdrs[1] = "Content-Digest: sha-256=:not-base64:";
		upload_malformed(hdrs, blob, 6, "malformed Content-Digest",
		                 "a malformed Content-Digest");
		auth_line(kpa, "POST", "/payloads", blob, 6, 0, line, sizeof(line));
		digest_line(blob, 6, dline, sizeof(dline));
		digest_line(blob, 6, dline2, sizeof(dline2));
		hdrs[1] = dline;
		hdrs[2] = dline2;
		upload_malformed(hdrs, blob, 6, "more than one Content-Digest",
		                 "two Content-Digest headers");
		hdrs[2] = NULL;
		/* Signed over the declared digest, but another body arrives. */
		auth_line(kpa, "POST", "/payloads", blob, 6, 0, line, sizeof(line));
		raw_request("POST", "/payloads", hdrs, "a bodY", 6, &rr);
		check(rr.status == 401 && rr.body.data && strstr(rr.body.data, "does not match"),
		      "a body that does not match its Content-Digest: 401 (%ld %s)", rr.status,
		      rr.body.data ? rr.body.data : "");
		pl_buf_release(&rr.body);
		pl_sha256(h, "a bodY", 6);
		memcpy(target, "/payloads/", 10);
		pl_hex_encode(target + 10, h, PL_HASH_BYTES);
		auth_line(kpa, "GET", target, NULL, 0, 0, line, sizeof(line));
		hdrs[1] = NULL;
		expect_raw(404, "not-found", "and nothing was stored", "GET", target, hdrs, NULL,
		           0);
	}
	actor_close(stranger);
	close_actors();
	free(body);
	return fails ? 1 : 0;
}

/* GET /inbox?wait=0 by a, dated t; returns the status. */
static long inbox_at(struct actor *a, uint64_t t, struct raw *rr)
{
	char line[1024];
	const char *hdrs[2] = {line, NULL};

	auth_line(a, "GET", "/inbox?wait=0", NULL, 0, t, line, sizeof(line));
	return raw_request("GET", "/inbox?wait=0", hdrs, NULL, 0, rr);
}

/*
 * Defect: the replay-protection memory was shared by all keys, so one key
 * sending requests dated ahead made every other key's requests 503. With
 * mode "shared" the server has nonce_max = 64 and the defaults otherwise;
 * with "per-key" also nonce_per_key = 16 (so a key holds at most 16 + 64 / 4).
 */
static int cmd_admission_nonces(const char *mode)
{
	bool per_key = strcmp(mode, "per-key") == 0;
	int sent = 0, accepted = 0, refused = 0, other = 0;
	uint64_t ahead = (uint64_t)time(NULL) + 55;
	struct raw rr;

	load_log_key();
	open_actors();
	for (; sent < 100; sent++) {
		long st = inbox_at(kpa, ahead, &rr);
		if (st == 200)
			accepted++;
		else if (st == 503 && rr.body.data && strstr(rr.body.data, "by this key"))
			refused++;
		else
			other++;
		pl_buf_release(&rr.body);
	}
	if (per_key)
		check(accepted == 32 && refused == sent - 32 && other == 0,
		      "a key sending %d requests dated 55 s ahead fills its own share (%d "
		      "accepted) "
		      "and then only it is refused (%d times 503, %d other)",
		      sent, accepted, refused, other);
	else
		check(accepted == sent,
		      "a key sending %d requests dated 55 s ahead is not refused (%d accepted)",
		      sent, accepted);
	inbox_at(unc, 0, &rr);
	check(rr.status == 200, "another key still authenticates (%ld %s)", rr.status,
	      rr.status == 200 ? ""
	      : rr.body.data   ? rr.body.data
	                       : "");
	pl_buf_release(&rr.body);
	inbox_at(rok_mnd, ahead, &rr);
	check(rr.status == 200, "and a third, dated ahead as well (%ld %s)", rr.status,
	      rr.status == 200 ? ""
	      : rr.body.data   ? rr.body.data
	                       : "");
	pl_buf_release(&rr.body);
	{
		char line[1024];
		const char *hdrs[2] = {line, NULL};
		struct raw r1, r2;
		auth_line(dprk, "GET", "/inbox?wait=0", NULL, 0, 0, line, sizeof(line));
		raw_request("GET", "/inbox?wait=0", hdrs, NULL, 0, &r1);
		raw_request("GET", "/inbox?wait=0", hdrs, NULL, 0, &r2);
		check(r1.status == 200 && r2.status == 401,
		      "a replay is still caught: first %ld, then %ld", r1.status, r2.status);
		pl_buf_release(&r1.body);
		pl_buf_release(&r2.body);
	}
	close_actors();
	return fails ? 1 : 0;
}

/* ---- A damaged store ---- */

/*
 * Logs n statements of unc, one at a time ("Damage probe NNN."), and prints
 * for each its index, id and leaf hash in hex: what a test damages in
 * parley.db and then asks for.
 */
static int cmd_probes(int n)
{
	struct actor *a;
	int ret = 0;

	load_log_key();
	open_actors();
	a = unc;
	for (int i = 0; !ret && i < n; i++) {
		struct pl_receipt rc = {0};
		struct pl_record r;
		struct pl_buf rec;
		uint8_t leaf[PL_HASH_BYTES];
		char body[64], hex[PL_HASH_HEX_LEN + 1], lhex[PL_HASH_HEX_LEN + 1];

		rec_init(&r, PL_KIND_STATEMENT);
		r.has |= PL_RECORD_HAS_CLASS;
		r.cls = PL_CLASS_STATEMENT;
		snprintf(body, sizeof(body), "Damage probe %03d.\n", i);
		rec_body(&r, body);
		pl_buf_init(&rec, PL_RECORD_MAX_BYTES);
		ret = actor_sign(a, &r, &rec);
		if (!ret)
			ret = pl_client_submit(a->c, rec.data, rec.len, &rc);
		if (!ret) {
			a->seq = r.seq;
			memcpy(a->head, rc.id, PL_HASH_BYTES);
			pl_tlog_leaf_hash(leaf, rec.data, rec.len);
			hexid(hex, rc.id);
			hexid(lhex, leaf);
			printf("%llu %s %s\n", (unsigned long long)rc.index, hex, lhex);
		}
		pl_receipt_release(&rc);
		pl_buf_release(&rec);
	}
	close_actors();
	return ret ? 1 : 0;
}

/* GET target as party (none: "-"); prints the HTTP status, and writes the body to body_file. */
static int cmd_get(const char *party, const char *target, const char *body_file)
{
	struct actor *a = strcmp(party, "-") == 0 ? NULL : actor_open(party);
	char auth[PL_AUTH_HEADER_MAX + 32];
	const char *headers[2] = {auth, NULL};
	struct raw r;
	long status;

	if (a)
		auth_line(a, "GET", target, NULL, 0, 0, auth, sizeof(auth));
	status = raw_request("GET", target, a ? headers : NULL, NULL, 0, &r);
	printf("%ld\n", status);
	if (body_file) {
		FILE *f = fopen(body_file, "wb");
		if (!f || (r.body.len && fwrite(r.body.data, 1, r.body.len, f) != r.body.len))
			status = 0;
		if (f && fclose(f) != 0)
			status = 0;
	}
	pl_buf_release(&r.body);
	actor_close(a);
	return status ? 0 : 1;
}

/*
 * Flips the low bit of the last byte of the one occurrence of needle (text,
 * or hex when hex) in the file at path. Exit 1 unless it occurs exactly once.
 */
static int cmd_flip(const char *path, bool hex, const char *needle)
{
	uint8_t want[256];
	size_t wlen = 0, at = 0, count = 0;
	struct pl_buf b;
	FILE *f;
	char chunk[65536];
	size_t n;
	int ret = 1;

	if (hex) {
		wlen = strlen(needle) / 2;
		if (wlen == 0 || wlen > sizeof(want) ||
		    pl_hex_decode_exact(want, wlen, needle, strlen(needle)) != 0)
			return 2;
	} else {
		wlen = strlen(needle);
		if (wlen == 0 || wlen > sizeof(want))
			return 2;
		memcpy(want, needle, wlen);
	}
	pl_buf_init(&b, 1u << 30);
	f = fopen(path, "rb");
	if (!f)
		return 2;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (pl_buf_add(&b, chunk, n) != 0)
			break;
	fclose(f);
	for (size_t i = 0; i + wlen <= b.len; i++) {
		if (memcmp(b.data + i, want, wlen) == 0) {
			at = i;
			count++;
		}
	}
	if (count == 1) {
		f = fopen(path, "r+b");
		if (f && fseek(f, (long)(at + wlen - 1), SEEK_SET) == 0 &&
		    fputc((unsigned char)b.data[at + wlen - 1] ^ 1, f) != EOF)
			ret = 0;
		if (f && fclose(f) != 0)
			ret = 2;
	} else {
		fprintf(stderr, "%zu occurrences in %s\n", count, path);
	}
	pl_buf_release(&b);
	return ret;
}

/* ---- Small commands ---- */

static int cmd_freeport(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return 2;
	printf("%u\n", (unsigned)ntohs(sa.sin_port));
	close(fd);
	return 0;
}

static int cmd_health(void)
{
	struct pl_client *c = NULL;
	struct pl_client_options o = {.connect_timeout_ms = 500, .timeout_ms = 1000};
	int ret = pl_client_new(&c, url, NULL, &o);

	if (!ret)
		ret = pl_client_health(c);
	pl_client_free(c);
	return ret ? 1 : 0;
}

static int cmd_ident(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (pl_party_create(NULL, ids_dir, ORIGIN, argv[i]) != 0) {
			fprintf(stderr, "cannot create the identity of %s\n", argv[i]);
			return 2;
		}
	}
	return 0;
}

static void usage(void)
{
	fputs("usage: test_parleyd_driver freeport\n"
	      "       test_parleyd_driver ident IDS NAME...\n"
	      "       test_parleyd_driver health URL\n"
	      "       test_parleyd_driver flows|errors|hold URL DATA IDS\n"
	      "       test_parleyd_driver load URL DATA IDS ACKFILE PER-PARTY\n"
	      "       test_parleyd_driver verify-acks URL DATA IDS ACKFILE\n"
	      "       test_parleyd_driver verify-consistent URL DATA IDS ACKFILE\n"
	      "       test_parleyd_driver admission-uploads URL DATA IDS PAYLOAD-MAX\n"
	      "       test_parleyd_driver admission-nonces URL DATA IDS shared|per-key\n"
	      "       test_parleyd_driver probes URL DATA IDS COUNT\n"
	      "       test_parleyd_driver get URL DATA IDS PARTY|- TARGET [BODY-FILE]\n"
	      "       test_parleyd_driver flip FILE text|hex NEEDLE\n",
	      stderr);
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 2;
	if (argc >= 2 && strcmp(argv[1], "freeport") == 0)
		return cmd_freeport();
	if (argc >= 3 && strcmp(argv[1], "health") == 0) {
		url = argv[2];
		return cmd_health();
	}
	if (argc == 5 && strcmp(argv[1], "flip") == 0)
		return cmd_flip(argv[2], strcmp(argv[3], "hex") == 0, argv[4]);
	if (argc >= 4 && strcmp(argv[1], "ident") == 0) {
		ids_dir = argv[2];
		return cmd_ident(argc - 3, argv + 3);
	}
	if (argc < 5) {
		usage();
		return 2;
	}
	url = argv[2];
	data_dir = argv[3];
	ids_dir = argv[4];
	if (strcmp(argv[1], "flows") == 0)
		return cmd_flows();
	if (strcmp(argv[1], "errors") == 0)
		return cmd_errors();
	if (strcmp(argv[1], "load") == 0 && argc == 7)
		return cmd_load(argv[5], (int)strtol(argv[6], NULL, 10));
	if (strcmp(argv[1], "hold") == 0)
		return cmd_hold();
	if (strcmp(argv[1], "verify-acks") == 0 && argc == 6)
		return cmd_verify_acks(argv[5], false);
	if (strcmp(argv[1], "verify-consistent") == 0 && argc == 6)
		return cmd_verify_acks(argv[5], true);
	if (strcmp(argv[1], "admission-uploads") == 0 && argc == 6)
		return cmd_admission_uploads((size_t)strtoul(argv[5], NULL, 10));
	if (strcmp(argv[1], "admission-nonces") == 0 && argc == 6)
		return cmd_admission_nonces(argv[5]);
	if (strcmp(argv[1], "probes") == 0 && argc == 6)
		return cmd_probes((int)strtol(argv[5], NULL, 10));
	if (strcmp(argv[1], "get") == 0 && (argc == 7 || argc == 8))
		return cmd_get(argv[5], argv[6], argc == 8 ? argv[7] : NULL);
	usage();
	return 2;
}
