/* libFuzzer target: the dossier export over a log of arbitrary entries, served honestly. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/dossier.h>
#include <parley/encoding.h>
#include <parley/tiles.h>
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

/* Splits the input into entries and builds the tree and its checkpoint. Returns 0 or an error. */
static int log_build(struct log *l, const uint8_t *data, size_t size)
{
	uint8_t leaf[PL_HASH_BYTES], root[PL_HASH_BYTES];
	struct pl_tlog_reader rd;
	struct pl_checkpoint cp;
	size_t at = 0;
	int ret = pl_tlog_memstore_new(&l->ms);

	while (ret == 0 && l->n < MAX_ENTRIES && size - at >= 2) {
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
	if (log_build(&l, data + 1, size - 1) != 0)
		goto out;
	start = data[0] % l.n;
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
	pl_buf_release(&l.cp);
	pl_buf_release(&why);
	pl_buf_release(&out);
	return 0;
}
