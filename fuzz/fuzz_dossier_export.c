/*
 * libFuzzer target: the dossier export over a log of arbitrary entries, served honestly:
 * version 1 from the window, or (the first byte odd) version 2 from a thread index over the
 * entries' refs, its index record appended and signed by the log key, its proofs served.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/dossier.h>
#include <parley/encoding.h>
#include <parley/note.h>
#include <parley/record.h>
#include <parley/tiles.h>
#include <parley/tindex.h>
#include <parley/tlog.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* At most one entry bundle: enough to reach every path of the export. */
#define MAX_ENTRIES PL_TILE_WIDTH

static struct pl_skey log_sk;
static struct pl_vkey log_vk;

/*
 * The log the fuzzer wrote: entries split from its input (a big-endian
 * uint16 length, then the entry, as in an entry bundle), its tree, and the
 * signed checkpoint of all of it.
 */
struct log {
	struct pl_tiles_entry e[MAX_ENTRIES];
	size_t n;
	struct pl_tlog_memstore *ms;
	struct pl_buf cp;
	/* Version 2: the index over the entries' refs, and its record, the last entry. */
	struct pl_tindex_ref refs[MAX_ENTRIES * PL_RECORD_MAX_REFS];
	size_t nrefs;
	struct pl_tindex_memstore *tms;
	struct pl_tindex *t;
	struct pl_buf ix;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32], pk[32];
	const char *name = "hotline.example";

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		return -1;
	pl_sha256(seed, name, strlen(name));
	memset(&log_sk, 0, sizeof(log_sk));
	memcpy(log_sk.name, name, strlen(name));
	log_sk.type = PL_SIGTYPE_ED25519;
	crypto_sign_seed_keypair(pk, log_sk.sk, seed);
	pl_key_id(log_sk.id, name, PL_SIGTYPE_ED25519, pk);
	pl_skey_public(&log_sk, &log_vk);
	return 0;
}

static int src_checkpoint(void *ctx, uint64_t covering, struct pl_buf *note)
{
	struct log *l = ctx;

	(void)covering;
	return pl_buf_add(note, l->cp.data, l->cp.len);
}

static int src_tile(void *ctx, const struct pl_tile *t, uint8_t *out)
{
	struct log *l = ctx;
	struct pl_tlog_reader rd = pl_tlog_memstore_reader(l->ms);
	static uint8_t tile[PL_TILE_BYTES];
	size_t len = 0;
	int ret = pl_tiles_read_hash_tile(&rd, t, tile, &len);

	if (ret == 0)
		memcpy(out, tile, len);
	return ret;
}

static int src_bundle(void *ctx, uint64_t n, unsigned width, struct pl_buf *out)
{
	struct log *l = ctx;
	int ret = n == 0 && width == l->n ? 0 : PL_ENOTFOUND;

	for (size_t i = 0; ret == 0 && i < l->n; i++)
		ret = pl_tiles_bundle_add(out, l->e[i].data, l->e[i].len);
	return ret;
}

static int src_record(void *ctx, const uint8_t id[PL_RECORD_ID_BYTES], struct pl_buf *out,
                      uint64_t *index)
{
	struct log *l = ctx;
	uint8_t h[PL_RECORD_ID_BYTES];

	for (size_t i = 0; i < l->n; i++) {
		pl_record_id(h, (const char *)l->e[i].data, l->e[i].len);
		if (memcmp(h, id, PL_RECORD_ID_BYTES) == 0) {
			*index = i;
			return pl_buf_add(out, l->e[i].data, l->e[i].len);
		}
	}
	return PL_ENOTFOUND;
}

/* The refs of entry i (a record that parses), one per key, into l->refs. */
static void refs_of(struct log *l, size_t i, struct pl_record *r)
{
	struct pl_note *n = NULL;

	if (pl_note_parse(&n, (const char *)l->e[i].data, l->e[i].len) == 0 &&
	    pl_record_parse(r, n->text, n->text_len, NULL) == 0) {
		for (size_t k = 0; k < r->nrefs; k++) {
			bool seen = false;
			for (size_t j = 0; j < k; j++)
				seen = seen || memcmp(r->refs[j].id, r->refs[k].id, 32) == 0;
			if (seen)
				continue;
			memcpy(l->refs[l->nrefs].key, r->refs[k].id, PL_HASH_BYTES);
			pl_record_id(l->refs[l->nrefs].id, (const char *)l->e[i].data, l->e[i].len);
			l->refs[l->nrefs++].index = i;
		}
	}
	pl_note_free(n);
}

/* Indexes the entries and appends the index record, signed by the log key. */
static int index_build(struct log *l)
{
	static struct pl_record r;
	struct pl_tindex_store st;
	const char *why = NULL;
	int ret = pl_tindex_memstore_new(&l->tms);

	for (size_t i = 0; ret == 0 && i < l->n; i++)
		refs_of(l, i, &r);
	if (ret == 0) {
		st = pl_tindex_memstore_store(l->tms);
		ret = pl_tindex_open(&l->t, &st);
	}
	if (ret == 0 && l->nrefs)
		ret = pl_tindex_update(l->t, l->refs, l->nrefs);
	if (ret)
		return ret;
	memset(&r, 0, sizeof(r));
	r.kind = PL_KIND_INDEX;
	memcpy(r.exchange, log_vk.name, strlen(log_vk.name));
	memcpy(r.author, PL_RECORD_EXCHANGE, strlen(PL_RECORD_EXCHANGE));
	/* After any record of the exchange the entries hold: a seq and time no entry reaches. */
	r.seq = UINT64_C(1) << 40;
	r.time = 4102444800;
	r.has = PL_RECORD_HAS_ROOT | PL_RECORD_HAS_PREV;
	memset(r.prev, 0x77, sizeof(r.prev));
	pl_tindex_root(l->t, r.index_root);
	pl_buf_init(&l->ix, PL_RECORD_MAX_BYTES);
	ret = pl_record_sign(&l->ix, &r, &log_sk, 1, &why);
	if (ret == 0) {
		l->e[l->n].data = (const uint8_t *)l->ix.data;
		l->e[l->n++].len = l->ix.len;
	}
	return ret;
}

static int src_index_proof(void *ctx, const uint8_t key[32], uint64_t size, struct pl_buf *out)
{
	struct log *l = ctx;
	static struct pl_tindex_entry ents[MAX_ENTRIES];
	struct pl_tindex_proof *p = NULL;
	size_t n = 0;
	int ret = size == l->n ? 0 : PL_ENOTFOUND;

	for (size_t i = 0; ret == 0 && i < l->nrefs; i++) {
		if (memcmp(l->refs[i].key, key, PL_HASH_BYTES) != 0)
			continue;
		ents[n].index = l->refs[i].index;
		memcpy(ents[n++].id, l->refs[i].id, PL_HASH_BYTES);
	}
	if (ret == 0)
		ret = pl_tindex_prove(l->t, key, ents, n, &p);
	if (ret == 0)
		ret = pl_tindex_proof_format(out, p);
	pl_tindex_proof_free(p);
	return ret;
}

/* Splits the input into entries and builds the tree and its checkpoint. Returns 0 or an error. */
static int log_build(struct log *l, const uint8_t *data, size_t size, bool indexed)
{
	uint8_t leaf[PL_HASH_BYTES], root[PL_HASH_BYTES];
	struct pl_tlog_reader rd;
	struct pl_checkpoint cp;
	size_t at = 0;
	int ret = pl_tlog_memstore_new(&l->ms);

	while (ret == 0 && l->n < MAX_ENTRIES - 1 && size - at >= 2) {
		size_t len = (size_t)data[at] << 8 | data[at + 1];
		if (len > size - at - 2)
			break;
		l->e[l->n].data = data + at + 2;
		l->e[l->n].len = len;
		pl_tlog_leaf_hash(leaf, data + at + 2, len);
		ret = pl_tlog_memstore_append(l->ms, (const uint8_t(*)[PL_HASH_BYTES])leaf, 1);
		l->n++;
		at += 2 + len;
	}
	if (ret == 0 && l->n == 0)
		ret = PL_EINVAL;
	if (ret == 0 && indexed)
		ret = index_build(l);
	if (ret == 0 && indexed) {
		pl_tlog_leaf_hash(leaf, l->e[l->n - 1].data, l->e[l->n - 1].len);
		ret = pl_tlog_memstore_append(l->ms, (const uint8_t(*)[PL_HASH_BYTES])leaf, 1);
	}
	rd = pl_tlog_memstore_reader(l->ms);
	if (ret == 0)
		ret = pl_tlog_tree_hash(&rd, l->n, root);
	if (ret == 0)
		ret = pl_checkpoint_set(&cp, log_vk.name, l->n, root);
	if (ret == 0)
		ret = pl_checkpoint_sign(&l->cp, &cp, &log_sk);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct pl_dossier_source src = {
	        .checkpoint = src_checkpoint,
	        .tile = src_tile,
	        .bundle = src_bundle,
	        .record = src_record,
	        .register_of = NULL,
	};
	struct pl_dossier_source s = src;
	static struct log l;
	struct pl_dossier_export *x = NULL;
	struct pl_dossier_report *rep = NULL;
	struct pl_buf why, out;
	uint8_t subject[PL_RECORD_ID_BYTES];
	uint64_t start;
	int ret;

	if (size < 1)
		return 0;
	memset(&l, 0, sizeof(l));
	pl_buf_init(&l.cp, PL_NOTE_MAX_BYTES);
	pl_buf_init(&why, 4096);
	pl_buf_init(&out, PL_DOSSIER_MAX_BYTES);
	s.ctx = &l;
	if (data[0] & 1)
		s.index_proof = src_index_proof;
	if (log_build(&l, data + 1, size - 1, data[0] & 1) != 0)
		goto out;
	start = (data[0] >> 1) % l.n;
	pl_record_id(subject, (const char *)l.e[start].data, l.e[start].len);
	ret = pl_dossier_export_collect(&x, &s, &log_vk, subject, start, &why);
	/* Every failure says why and hands back nothing. */
	if (ret != 0 && (x || why.len == 0))
		abort();
	if (ret != 0)
		goto out;
	if (!pl_dossier_export_holds(x, subject))
		abort();
	ret = pl_dossier_export_finish(x, NULL, 0, &out, &rep, &why);
	/* A dossier handed out verifies; one that does not is never handed out. */
	if ((ret == 0) != (out.len > 0) || (ret == 0 && !rep))
		abort();
out:
	pl_dossier_report_free(rep);
	pl_dossier_export_free(x);
	pl_tlog_memstore_free(l.ms);
	pl_tindex_free(l.t);
	pl_tindex_memstore_free(l.tms);
	pl_buf_release(&l.ix);
	pl_buf_release(&l.cp);
	pl_buf_release(&why);
	pl_buf_release(&out);
	return 0;
}
