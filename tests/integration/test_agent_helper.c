/*
 * Helpers of the agent and audit tests, working on an exchange's data directory while parleyd
 * is stopped:
 *
 *   test_agent_helper bulk DATA IDS PARTY N
 *       logs N public statements by PARTY (its identity in IDS) through the exchange engine,
 *       quickly, so that the log spans several tiles;
 *   test_agent_helper forge DATA IDS FROM TO VIA
 *       logs a send from FROM to TO via VIA whose payload opens for its readers but does not
 *       match the record's commitment (a sender showing readers something else than what it
 *       signed): an agent must not acknowledge it. Prints the send's id;
 *   test_agent_helper rewrite DB INDEX FROM TO
 *       tampers with a store the way an operator hiding an edit would: rewrites one logged
 *       record (the first FROM becomes TO, of the same length) and its leaf hash, so that
 *       entries and level-0 tiles still match. The upper tiles and the root tell: parleyd
 *       refuses the store, or answers 500 for what it cannot vouch for.
 *   test_agent_helper resign DATA
 *       goes on as an operator holding the log key would: computes every stored hash again
 *       from the leaves and signs the newest checkpoint again over the new root, so that
 *       parleyd serves the rewritten history. Only the records' signatures, and the
 *       checkpoints others hold, can tell.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include <parley/box.h>
#include <parley/checkpoint.h>
#include <parley/encoding.h>
#include <parley/exchange.h>
#include <parley/key.h>
#include <parley/party.h>
#include <parley/record.h>
#include <parley/tlog.h>

static int fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "test_agent_helper: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
	return 1;
}

static int rewrite(const char *path, uint64_t index, const char *from, const char *to)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	uint8_t leaf[PL_HASH_BYTES];
	size_t len, flen = strlen(from);
	char *note = NULL, *at;
	int ret = 1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		ret = fail(db, path);
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT note FROM records WHERE idx = ?", -1, &st, NULL) != 0 ||
	    sqlite3_bind_int64(st, 1, (sqlite3_int64)index) != 0 ||
	    sqlite3_step(st) != SQLITE_ROW) {
		ret = fail(db, "no such record");
		goto out;
	}
	len = (size_t)sqlite3_column_bytes(st, 0);
	note = malloc(len + 1);
	if (!note)
		goto out;
	memcpy(note, sqlite3_column_blob(st, 0), len);
	note[len] = '\0';
	sqlite3_finalize(st);
	st = NULL;
	at = strstr(note, from);
	if (!at) {
		fprintf(stderr, "test_agent_helper: record %" PRIu64 " does not hold '%s'\n", index,
		        from);
		goto out;
	}
	memcpy(at, to, flen);
	pl_tlog_leaf_hash(leaf, note, len);
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE records SET note = ? WHERE idx = ?", -1, &st, NULL) !=
	            0 ||
	    sqlite3_bind_blob(st, 1, note, (int)len, SQLITE_STATIC) != 0 ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)index) != 0 ||
	    sqlite3_step(st) != SQLITE_DONE) {
		ret = fail(db, "cannot rewrite the record");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "UPDATE hashes SET h = ? WHERE i = ?", -1, &st, NULL) != 0 ||
	    sqlite3_bind_blob(st, 1, leaf, PL_HASH_BYTES, SQLITE_STATIC) != 0 ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)pl_tlog_stored_index(0, index)) != 0 ||
	    sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ret = fail(db, "cannot rewrite the leaf hash");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(note);
	return ret;
}

/*
 * Writes the published file as include/parley/exchange.h describes it: two
 * 4096-byte slots, the first "parley/published/v1 <length>\n" and the note,
 * the rest zeros. Returns 0 or 1.
 */
static int write_published(const char *path, const char *note, size_t len)
{
	static char file[2 * 4096];
	int n;
	FILE *f;

	memset(file, 0, sizeof(file));
	n = snprintf(file, 4096, "parley/published/v1 %zu\n", len);
	if (n < 0 || (size_t)n + len > 4096)
		return 1;
	memcpy(file + n, note, len);
	f = fopen(path, "wb");
	if (!f || (fwrite(file, 1, sizeof(file), f) != sizeof(file)) + fclose(f) != 0) {
		fprintf(stderr, "test_agent_helper: cannot write %s\n", path);
		return 1;
	}
	return 0;
}

/*
 * Recomputes the tree of DATA/parley.db from its leaf hashes and signs its
 * newest checkpoint, as an operator holding the log key can: the store and
 * the published file both then say the rewritten history.
 */
static int resign(const char *dir)
{
	struct pl_tlog_memstore *m = NULL;
	struct pl_tlog_reader rd;
	struct pl_checkpoint *cp = malloc(sizeof(*cp));
	struct pl_skey sk;
	struct pl_buf note;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[4096];
	uint64_t size = 0;
	int ret = 1;

	pl_buf_init(&note, 65536);
	memset(&sk, 0, sizeof(sk));
	snprintf(path, sizeof(path), "%s/log.key", dir);
	if (!cp || pl_skey_load(&sk, path) != 0 || pl_tlog_memstore_new(&m) != 0) {
		fprintf(stderr, "test_agent_helper: cannot load %s\n", path);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/parley.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM records", -1, &st, NULL) != 0 ||
	    sqlite3_step(st) != SQLITE_ROW) {
		ret = fail(db, path);
		goto out;
	}
	size = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	/* The leaves as they are now, then every hash above them. */
	if (sqlite3_prepare_v2(db, "SELECT h FROM hashes WHERE i = ?", -1, &st, NULL) != 0)
		goto out;
	for (uint64_t i = 0; i < size; i++) {
		uint8_t leaf[PL_HASH_BYTES];
		sqlite3_bind_int64(st, 1, (sqlite3_int64)pl_tlog_stored_index(0, i));
		if (sqlite3_step(st) != SQLITE_ROW ||
		    sqlite3_column_bytes(st, 0) != PL_HASH_BYTES) {
			ret = fail(db, "a leaf hash");
			goto out;
		}
		memcpy(leaf, sqlite3_column_blob(st, 0), PL_HASH_BYTES);
		sqlite3_reset(st);
		if (pl_tlog_memstore_append(m, (const uint8_t(*)[PL_HASH_BYTES])leaf, 1) != 0)
			goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	rd = pl_tlog_memstore_reader(m);
	if (sqlite3_prepare_v2(db, "UPDATE hashes SET h = ? WHERE i = ?", -1, &st, NULL) != 0)
		goto out;
	for (uint64_t i = 0; i < pl_tlog_stored_count(size); i++) {
		uint8_t h[PL_HASH_BYTES];
		if (rd.read(rd.ctx, &i, 1, &h) != 0 ||
		    sqlite3_bind_blob(st, 1, h, PL_HASH_BYTES, SQLITE_TRANSIENT) != 0 ||
		    sqlite3_bind_int64(st, 2, (sqlite3_int64)i) != 0 ||
		    sqlite3_step(st) != SQLITE_DONE) {
			ret = fail(db, "a stored hash");
			goto out;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	/* The newest checkpoint, over the new root, signed with the log key. */
	{
		uint8_t root[PL_HASH_BYTES];
		char origin[PL_ORIGIN_MAX + 1];
		const char *p = sk.name;
		snprintf(origin, sizeof(origin), "%s", p);
		if (pl_tlog_tree_hash(&rd, size, root) != 0 ||
		    pl_checkpoint_set(cp, origin, size, root) != 0 ||
		    pl_checkpoint_sign(&note, cp, &sk) != 0)
			goto out;
	}
	if (sqlite3_prepare_v2(db, "UPDATE checkpoints SET note = ? WHERE size = ?", -1, &st,
	                       NULL) != 0 ||
	    sqlite3_bind_blob(st, 1, note.data, (int)note.len, SQLITE_STATIC) != 0 ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)size) != 0 ||
	    sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ret = fail(db, "the newest checkpoint");
		goto out;
	}
	/* The operator holds the file that remembers what was signed too (exchange.h). */
	snprintf(path, sizeof(path), "%s/%s", dir, PL_EXCHANGE_PUBLISHED_FILE);
	ret = write_published(path, note.data, note.len);
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	pl_tlog_memstore_free(m);
	pl_skey_clear(&sk);
	pl_buf_release(&note);
	free(cp);
	return ret;
}

/* A party's chain as the helper follows it. */
struct chain {
	uint64_t seq;
	bool has_prev;
	uint8_t prev[PL_HASH_BYTES];
	int64_t last;
};

/*
 * Signs r (its kind's own lines filled) as p at the head of c and submits it; on a chain
 * conflict learns the head from the exchange's answer and tries once more. id (may be NULL)
 * receives the record's id.
 */
static int submit(struct pl_exchange *ex, const struct pl_party *p, struct chain *c,
                  struct pl_record *r, uint8_t *id)
{
	struct pl_receipt rc;
	struct pl_exchange_refusal why;
	struct pl_buf msg;
	int ret = PL_ECHAIN;

	pl_buf_init(&msg, PL_RECORD_MAX_BYTES);
	for (int tries = 0; ret == PL_ECHAIN && tries < 2; tries++) {
		memset(&rc, 0, sizeof(rc));
		pl_buf_reset(&msg);
		snprintf(r->exchange, sizeof(r->exchange), "%.*s", (int)sizeof(r->exchange) - 1,
		         p->origin);
		snprintf(r->author, sizeof(r->author), "%s", p->name);
		r->seq = c->seq + 1;
		r->has = c->has_prev ? r->has | PL_RECORD_HAS_PREV : r->has & ~PL_RECORD_HAS_PREV;
		memcpy(r->prev, c->prev, PL_HASH_BYTES);
		r->time = time(NULL) > c->last ? time(NULL) : c->last;
		ret = pl_record_sign(&msg, r, &p->skey, 1, NULL);
		if (ret == 0)
			ret = pl_exchange_submit(ex, msg.data, msg.len, &rc, &why);
		if (ret == PL_ECHAIN) {
			c->seq = why.has_head ? why.head_seq : 0;
			c->has_prev = why.has_head;
			memcpy(c->prev, why.head_id, PL_HASH_BYTES);
		} else if (ret == 0) {
			c->seq = r->seq;
			c->has_prev = true;
			memcpy(c->prev, rc.id, PL_HASH_BYTES);
			c->last = r->time;
			if (id)
				memcpy(id, rc.id, PL_HASH_BYTES);
		}
		pl_receipt_release(&rc);
	}
	pl_buf_release(&msg);
	return ret;
}

/* Opens the exchange in data and loads the identity of party from ids. */
static int open_both(struct pl_exchange **ex, struct pl_party **p, const char *data,
                     const char *ids, const char *party)
{
	*p = sodium_malloc(sizeof(**p));
	if (!*p || pl_party_load(*p, ids, party) != 0) {
		fprintf(stderr, "test_agent_helper: cannot load the identity of %s\n", party);
		return 1;
	}
	if (pl_exchange_open(ex, data, NULL, NULL) != 0) {
		fprintf(stderr, "test_agent_helper: cannot open the exchange in %s\n", data);
		return 1;
	}
	return 0;
}

static void close_both(struct pl_exchange *ex, struct pl_party *p)
{
	pl_exchange_close(ex);
	if (p) {
		pl_party_clear(p);
		sodium_free(p);
	}
}

static int bulk(const char *data, const char *ids, const char *party, uint64_t n)
{
	static struct pl_record r;
	struct pl_exchange *ex = NULL;
	struct pl_party *p = NULL;
	struct chain c;
	uint64_t done = 0;
	int ret = 1, err = 0;

	memset(&c, 0, sizeof(c));
	if (open_both(&ex, &p, data, ids, party) != 0)
		goto out;
	for (; done < n; done++) {
		memset(&r, 0, sizeof(r));
		r.kind = PL_KIND_STATEMENT;
		r.has = PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
		r.cls = PL_CLASS_STATEMENT;
		r.body_len = (size_t)snprintf(r.body, sizeof(r.body),
		                              "Bulk statement %" PRIu64 ".\n", done);
		err = submit(ex, p, &c, &r, NULL);
		if (err)
			break;
	}
	if (done < n) {
		fprintf(stderr, "test_agent_helper: statement %" PRIu64 ": %s\n", done,
		        pl_strerror(err));
		goto out;
	}
	ret = 0;
out:
	close_both(ex, p);
	return ret;
}

/* The X25519 public key of party from its .ekey file in ids. */
static int ekey(uint8_t pk[static PL_BOX_PK_BYTES], const char *ids, const char *party)
{
	struct pl_party_ekey ek;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s.ekey", ids, party);
	if (pl_party_ekey_load(&ek, path) != 0) {
		fprintf(stderr, "test_agent_helper: cannot load %s\n", path);
		return 1;
	}
	memcpy(pk, ek.pk, PL_BOX_PK_BYTES);
	return 0;
}

static int forge(const char *data, const char *ids, const char *from, const char *to,
                 const char *via)
{
	static const char shown[] = "What the readers are shown.\n";
	static const char signed_[] = "What the sender signed.\n";
	static struct pl_record r;
	uint8_t readers[3][PL_BOX_PK_BYTES], commit[PL_BOX_COMMIT_BYTES], salt[PL_BOX_SALT_BYTES];
	uint8_t hash[PL_HASH_BYTES], id[PL_HASH_BYTES];
	char hex[PL_HASH_HEX_LEN + 1];
	struct pl_exchange *ex = NULL;
	struct pl_party *p = NULL;
	uint8_t *blob = NULL;
	size_t blen = 0;
	struct chain c;
	int ret = 1, err;

	memset(&c, 0, sizeof(c));
	if (open_both(&ex, &p, data, ids, from) != 0 || ekey(readers[1], ids, to) != 0 ||
	    ekey(readers[2], ids, via) != 0)
		goto out;
	memcpy(readers[0], p->enc.pk, PL_BOX_PK_BYTES);
	err = pl_box_seal(&blob, &blen, commit, NULL, (const uint8_t *)shown, sizeof(shown) - 1,
	                  (const uint8_t(*)[PL_BOX_PK_BYTES])readers, 3);
	if (!err)
		err = pl_exchange_payload_put(ex, from, blob, blen, hash);
	if (err) {
		fprintf(stderr, "test_agent_helper: payload: %s\n", pl_strerror(err));
		goto out;
	}
	/* The record commits to another plaintext than the one sealed. */
	randombytes_buf(salt, sizeof(salt));
	pl_box_commit(commit, salt, (const uint8_t *)signed_, sizeof(signed_) - 1);
	memset(&r, 0, sizeof(r));
	r.kind = PL_KIND_SEND;
	r.has = PL_RECORD_HAS_CLASS | PL_RECORD_HAS_VIA | PL_RECORD_HAS_PAYLOAD |
	        PL_RECORD_HAS_COMMIT;
	r.cls = PL_CLASS_MESSAGE;
	r.nto = 1;
	snprintf(r.to[0], sizeof(r.to[0]), "%s", to);
	snprintf(r.via, sizeof(r.via), "%s", via);
	memcpy(r.payload, hash, PL_HASH_BYTES);
	r.payload_size = blen;
	memcpy(r.commit, commit, PL_BOX_COMMIT_BYTES);
	err = submit(ex, p, &c, &r, id);
	if (err) {
		fprintf(stderr, "test_agent_helper: send: %s\n", pl_strerror(err));
		goto out;
	}
	pl_hex_encode(hex, id, PL_HASH_BYTES);
	printf("%s\n", hex);
	ret = 0;
out:
	free(blob);
	close_both(ex, p);
	return ret;
}

int main(int argc, char **argv)
{
	uint64_t n;

	if (sodium_init() < 0)
		return 2;
	if (argc == 6 && strcmp(argv[1], "bulk") == 0 &&
	    pl_parse_u64(&n, argv[5], strlen(argv[5]), 100000) == 0)
		return bulk(argv[2], argv[3], argv[4], n);
	if (argc == 7 && strcmp(argv[1], "forge") == 0)
		return forge(argv[2], argv[3], argv[4], argv[5], argv[6]);
	if (argc == 3 && strcmp(argv[1], "resign") == 0)
		return resign(argv[2]);
	if (argc == 6 && strcmp(argv[1], "rewrite") == 0 && strlen(argv[4]) == strlen(argv[5]) &&
	    strlen(argv[4]) > 0 && pl_parse_u64(&n, argv[3], strlen(argv[3]), INT64_MAX) == 0)
		return rewrite(argv[2], n, argv[4], argv[5]);
	fprintf(stderr, "usage: test_agent_helper bulk DATA IDS PARTY N\n"
	                "       test_agent_helper forge DATA IDS FROM TO VIA\n"
	                "       test_agent_helper rewrite DB INDEX FROM TO (of one length)\n"
	                "       test_agent_helper resign DATA\n");
	return 2;
}
