/* libFuzzer target: thread-index proofs (strict parse, canonical round trip, verify) and updates.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/tindex.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The root of the seed corpus's map ({0x11..: 3, 7; 0x22..: 5; 0x33..: 9},
 * docs/index.md), so that valid seeds reach a verification that holds.
 */
static uint8_t seed_root[PL_HASH_BYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char hex[] =
	        "063cb328a8552221f92fd8c61a1365370cb51f22392207020cad851ba968cdd8";

	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || pl_hex_decode_exact(seed_root, PL_HASH_BYTES, hex, 64) != 0)
		return -1;
	return 0;
}

/*
 * Reads the input (after a first byte 0xff) as a log of references to a few
 * keys, adds it to a tree in batches, and checks that one batch gives the
 * same root and that every key's proof verifies with exactly its entries.
 */
static void fuzz_updates(const uint8_t *data, size_t size)
{
	enum { NKEYS = 8, MAXREFS = 64 };
	struct pl_tindex_ref refs[MAXREFS];
	size_t n = 0, done = 0;
	struct pl_tindex_memstore *m = NULL, *m2 = NULL;
	struct pl_tindex *t = NULL, *t2 = NULL;
	struct pl_tindex_store s;
	uint8_t root[PL_HASH_BYTES], root2[PL_HASH_BYTES];

	for (size_t i = 0; i < size && n < MAXREFS; i++) {
		/* Low bits: one of a few keys (paths are hashes: any shape comes); 0x80: end a
		 * batch. */
		memset(&refs[n], 0, sizeof(refs[n]));
		refs[n].key[0] = (uint8_t)(data[i] & (NKEYS - 1));
		refs[n].id[0] = (uint8_t)n;
		refs[n].index = 10 + n;
		n++;
	}
	if (n == 0 || pl_tindex_memstore_new(&m) != 0 || pl_tindex_memstore_new(&m2) != 0)
		goto out;
	s = pl_tindex_memstore_store(m);
	if (pl_tindex_open(&t, &s) != 0)
		abort();
	s = pl_tindex_memstore_store(m2);
	if (pl_tindex_open(&t2, &s) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (i + 1 == n || (data[i] & 0x80)) {
			if (pl_tindex_update(t, refs + done, i + 1 - done) != 0)
				abort();
			done = i + 1;
		}
	}
	if (pl_tindex_update(t2, refs, n) != 0)
		abort();
	pl_tindex_root(t, root);
	pl_tindex_root(t2, root2);
	if (memcmp(root, root2, PL_HASH_BYTES) != 0)
		abort();
	/* Every key's proof, with exactly the entries added to it. */
	for (size_t i = 0; i < n; i++) {
		struct pl_tindex_entry e[MAXREFS];
		struct pl_tindex_proof *p = NULL;
		size_t ne = 0;
		for (size_t j = 0; j < n; j++) {
			if (memcmp(refs[j].key, refs[i].key, PL_HASH_BYTES) == 0) {
				e[ne].index = refs[j].index;
				memcpy(e[ne].id, refs[j].id, PL_HASH_BYTES);
				ne++;
			}
		}
		if (pl_tindex_prove(t, refs[i].key, e, ne, &p) != 0 ||
		    pl_tindex_proof_verify(p, refs[i].key, root) != 0 || p->nentries != ne)
			abort();
		pl_tindex_proof_free(p);
	}
out:
	pl_tindex_free(t);
	pl_tindex_free(t2);
	pl_tindex_memstore_free(m);
	pl_tindex_memstore_free(m2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct pl_tindex_proof *p = NULL;
	struct pl_buf b;
	int rc;

	if (size > 0 && data[0] == 0xff) {
		fuzz_updates(data + 1, size - 1);
		return 0;
	}
	rc = pl_tindex_proof_parse(&p, text, size);
	if (rc != 0) {
		if (p != NULL)
			abort();
		return 0;
	}
	/* The text form is canonical: formatting the parsed proof gives back the input. */
	pl_buf_init(&b, PL_TINDEX_PROOF_MAX_BYTES);
	if (pl_tindex_proof_format(&b, p) != 0 || b.len != size || memcmp(b.data, text, size) != 0)
		abort();
	pl_buf_release(&b);
	rc = pl_tindex_proof_verify(p, p->key, seed_root);
	if (rc != 0 && rc != PL_EPROOF)
		abort();
	pl_tindex_proof_free(p);
	return 0;
}
