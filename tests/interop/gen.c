/*
 * Interop generator: writes keys, signed notes, checkpoints, cosignatures,
 * Merkle proofs, tlog-proofs and tiles made by libparley into a directory,
 * with a manifest that check.go verifies with Go's golang.org/x/mod/sumdb.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/checkpoint.h>
#include <parley/cosignature.h>
#include <parley/encoding.h>
#include <parley/key.h>
#include <parley/note.h>
#include <parley/proof.h>
#include <parley/tiles.h>
#include <parley/tlog.h>

#include "banned.h"

#define ORIGIN     "interop.example/log"
#define COSIG_TIME UINT64_C(1763337600) /* 2025-11-17T00:00:00Z */

/* The final tree: past 65536 leaves, so that it has tiles at levels 0, 1 and 2. */
#define FINAL_SIZE (65536 + 3 * 256 + 5)

/* Tree sizes with checkpoints, proofs between them, and a smaller tiled tree. */
static const uint64_t sizes[] = {0,   1,   2,    3,    4,     5,     7,     8,
                                 9,   15,  16,   17,   31,    255,   256,   257,
                                 511, 512, 1000, 4097, 65535, 65536, 65537, FINAL_SIZE};
#define SMALL_TILED_SIZE 300

static const char *outdir;
static FILE *manifest;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void check(int err, const char *what)
{
	if (err)
		die("%s: %s", what, pl_strerror(err));
}

/* outdir/rel, in a static buffer. */
static const char *path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *path(const char *fmt, ...)
{
	static char p[4096];
	char rel[3072];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel))
		die("path too long");
	n = snprintf(p, sizeof(p), "%s/%s", outdir, rel);
	if (n < 0 || (size_t)n >= sizeof(p))
		die("path too long");
	return p;
}

/* Creates the parent directories of file p. */
static void mkdirs(const char *p)
{
	char d[4096];
	size_t n = strlen(p);

	if (n >= sizeof(d))
		die("path too long");
	memcpy(d, p, n + 1);
	for (char *s = d + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(d, 0755) != 0 && errno != EEXIST)
			die("mkdir %s: %s", d, strerror(errno));
		*s = '/';
	}
}

static void write_file(const char *p, const void *data, size_t len, mode_t mode)
{
	int fd;

	mkdirs(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		die("open %s: %s", p, strerror(errno));
	if (len && write(fd, data, len) != (ssize_t)len)
		die("write %s: %s", p, strerror(errno));
	if (close(fd) != 0)
		die("close %s: %s", p, strerror(errno));
}

static void write_vkey(const char *rel, const struct pl_vkey *vk)
{
	struct pl_buf b;

	pl_buf_init(&b, 1024);
	check(pl_vkey_format(vk, &b), "format vkey");
	check(pl_buf_adds(&b, "\n"), "format vkey");
	write_file(path("%s", rel), b.data, b.len, 0644);
	pl_buf_release(&b);
}

static void manifest_vkey(const char *tag, const struct pl_vkey *vk)
{
	struct pl_buf b;

	pl_buf_init(&b, 1024);
	check(pl_vkey_format(vk, &b), "format vkey");
	fprintf(manifest, "%s %s\n", tag, b.data);
	pl_buf_release(&b);
}

/* Signs text with keys, writes the note and its text, adds the manifest line. */
static void gen_note(const char *name, const char *text, const struct pl_skey *keys, size_t nkeys,
                     const char *vkey_files)
{
	struct pl_buf note;

	pl_buf_init(&note, PL_NOTE_MAX_BYTES);
	check(pl_note_sign(&note, text, strlen(text), keys, nkeys), "sign note");
	write_file(path("notes/%s.note", name), note.data, note.len, 0644);
	write_file(path("notes/%s.txt", name), text, strlen(text), 0644);
	fprintf(manifest, "note notes/%s.note notes/%s.txt %s\n", name, name, vkey_files);

	/* The same note with one byte of its text changed must not open. */
	note.data[0] ^= 0x01;
	write_file(path("notes/%s.bad", name), note.data, note.len, 0644);
	fprintf(manifest, "badnote notes/%s.bad %.*s\n", name, (int)strcspn(vkey_files, " "),
	        vkey_files);
	pl_buf_release(&note);
}

static void gen_notes(void)
{
	struct pl_skey sk[2];
	struct pl_vkey vk[2];
	struct pl_buf skt, big;

	check(pl_key_generate(&sk[0], &vk[0], "interop.example/unc", PL_SIGTYPE_ED25519), "keygen");
	check(pl_key_generate(&sk[1], &vk[1], "interop.example/kpa", PL_SIGTYPE_ED25519), "keygen");
	write_vkey("keys/unc.vkey", &vk[0]);
	write_vkey("keys/kpa.vkey", &vk[1]);
	pl_buf_init(&skt, 1024);
	check(pl_skey_format(&sk[0], &skt), "format skey");
	check(pl_buf_adds(&skt, "\n"), "format skey");
	write_file(path("keys/unc.skey"), skt.data, skt.len, 0600);
	sodium_memzero(skt.data, skt.len);
	pl_buf_release(&skt);
	fprintf(manifest, "skey keys/unc.skey keys/unc.vkey\n");

	gen_note("one-line", "We have not conveyed any messages.\n", sk, 1, "keys/unc.vkey");
	gen_note("record",
	         "parley/record/v1\nexchange hotline.example\nauthor unc\nseq 1\nprev -\n"
	         "time 2025-11-20T01:00:00Z\nkind statement\n\nWe have not conveyed any "
	         "messages or proposals specific to inter-Korean dialogue.\n",
	         sk, 1, "keys/unc.vkey");
	gen_note("utf8", "군사회담 제안 — 군사분계선 기준선 설정\n두 번째 줄\n", sk, 1,
	         "keys/unc.vkey");
	gen_note("two-signers", "Signed by both ends of the line.\n", sk, 2,
	         "keys/unc.vkey keys/kpa.vkey");

	/* A large note: 200 KiB of text in 80-column lines. */
	pl_buf_init(&big, PL_NOTE_MAX_BYTES);
	for (int i = 0; big.len < 200 * 1024; i++)
		check(pl_buf_addf(&big, "%06d %072d\n", i, i), "big text");
	gen_note("large", big.data, sk + 1, 1, "keys/kpa.vkey");
	pl_buf_release(&big);

	pl_skey_clear(&sk[0]);
	pl_skey_clear(&sk[1]);
}

/* Entry i: a few bytes of text, then i % 97 bytes of binary, so lengths and contents vary. */
static size_t make_entry(uint8_t *out, size_t cap, uint64_t i)
{
	int n = snprintf((char *)out, cap, "entry %llu\n", (unsigned long long)i);
	size_t len = (size_t)n;

	for (uint64_t k = 0; k < i % 97 && len < cap; k++)
		out[len++] = (uint8_t)(i * 31 + k * 7);
	return len;
}

static void write_hashes(const char *p, const uint8_t (*h)[PL_HASH_BYTES], size_t n)
{
	struct pl_buf b;

	pl_buf_init(&b, 1u << 16);
	for (size_t i = 0; i < n; i++) {
		check(pl_b64_append(&b, h[i], PL_HASH_BYTES), "base64");
		check(pl_buf_adds(&b, "\n"), "base64");
	}
	write_file(p, b.data ? b.data : "", b.len, 0644);
	pl_buf_release(&b);
}

/* Signs the checkpoint of size at cp/<size>, and a cosigned copy at cp/<size>.cosigned. */
static void gen_checkpoint(const struct pl_tlog_reader *r, uint64_t size, const struct pl_skey *log,
                           const struct pl_skey *wit, size_t nwit, struct pl_buf *cosigned)
{
	struct pl_checkpoint cp;
	uint8_t root[PL_HASH_BYTES];
	struct pl_buf note;

	pl_buf_init(&note, PL_CHECKPOINT_MAX_BYTES * 2);
	check(pl_tlog_tree_hash(r, size, root), "tree hash");
	check(pl_checkpoint_set(&cp, ORIGIN, size, root), "checkpoint");
	check(pl_checkpoint_sign(&note, &cp, log), "sign checkpoint");
	write_file(path("cp/%llu", (unsigned long long)size), note.data, note.len, 0644);
	fprintf(manifest, "checkpoint cp/%llu %llu 0\n", (unsigned long long)size,
	        (unsigned long long)size);
	for (size_t w = 0; w < nwit; w++)
		check(pl_cosignature_add(&note, &wit[w], COSIG_TIME + w), "cosign");
	write_file(path("cp/%llu.cosigned", (unsigned long long)size), note.data, note.len, 0644);
	fprintf(manifest, "checkpoint cp/%llu.cosigned %llu %zu\n", (unsigned long long)size,
	        (unsigned long long)size, nwit);
	pl_buf_reset(cosigned);
	check(pl_buf_add(cosigned, note.data, note.len), "copy checkpoint");
	pl_buf_release(&note);
}

/*
 * Writes the proof of kind (its directory too) to <kind>/<f1>-<f2> and its manifest line,
 * "<kind> <file> <m1> <m2>".
 */
static void write_proof(const char *kind, uint64_t f1, uint64_t f2, uint64_t m1, uint64_t m2,
                        const uint8_t (*proof)[PL_HASH_BYTES], size_t n)
{
	write_hashes(path("%s/%llu-%llu", kind, (unsigned long long)f1, (unsigned long long)f2),
	             proof, n);
	fprintf(manifest, "%s %s/%llu-%llu %llu %llu\n", kind, kind, (unsigned long long)f1,
	        (unsigned long long)f2, (unsigned long long)m1, (unsigned long long)m2);
}

static void gen_inclusion(const struct pl_tlog_reader *r, uint64_t size, uint64_t index)
{
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	size_t n;

	check(pl_tlog_prove_inclusion(r, size, index, proof, &n), "inclusion proof");
	write_proof("inclusion", size, index, index, size, proof, n);
}

static void gen_consistency(const struct pl_tlog_reader *r, uint64_t old, uint64_t size)
{
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES];
	size_t n;

	check(pl_tlog_prove_consistency(r, old, size, proof, &n), "consistency proof");
	write_proof("consistency", old, size, old, size, proof, n);
}

/* A tlog-proof of entry index in the tree of size, with the cosigned checkpoint of that size. */
static void gen_tlog_proof(const struct pl_tlog_reader *r, uint64_t size, uint64_t index,
                           const struct pl_buf *checkpoint, size_t nwit)
{
	static const uint8_t extra[] = "opaque extra data";
	struct pl_buf out;

	pl_buf_init(&out, PL_TLOG_PROOF_MAX_BYTES);
	/* Every other proof carries extra data, which readers must skip. */
	check(pl_proof_build(&out, r, index, index % 2 ? extra : NULL, sizeof(extra) - 1,
	                     checkpoint->data, checkpoint->len),
	      "build tlog-proof");
	write_file(path("tlog-proof/%llu-%llu.tlog-proof", (unsigned long long)size,
	                (unsigned long long)index),
	           out.data, out.len, 0644);
	fprintf(manifest, "tlogproof tlog-proof/%llu-%llu.tlog-proof %llu %zu\n",
	        (unsigned long long)size, (unsigned long long)index, (unsigned long long)size,
	        nwit);
	pl_buf_release(&out);
}

/* Every hash tile and entry bundle of the tree of size, under tiles-<size>/. */
static void gen_tiles(const struct pl_tlog_reader *r, uint64_t size)
{
	static uint8_t data[PL_TILE_BYTES];
	uint8_t entry[256];
	struct pl_tile t;
	struct pl_buf p, bundle;
	size_t len;
	int err;

	pl_buf_init(&p, PL_TILE_PATH_MAX);
	pl_buf_init(&bundle, PL_TILE_WIDTH * (2 + sizeof(entry)));
	for (unsigned level = 0; level <= PL_TILE_MAX_LEVEL; level++) {
		for (uint64_t n = 0;; n++) {
			err = pl_tiles_tile_at(&t, size, level, n, false);
			if (err == PL_ENOTFOUND)
				break;
			check(err, "tile at");
			check(pl_tiles_read_hash_tile(r, &t, data, &len), "read hash tile");
			pl_buf_reset(&p);
			check(pl_tiles_path(&p, &t), "tile path");
			write_file(path("tiles-%llu/%s", (unsigned long long)size, p.data), data,
			           len, 0644);
		}
	}
	for (uint64_t n = 0;; n++) {
		err = pl_tiles_tile_at(&t, size, 0, n, true);
		if (err == PL_ENOTFOUND)
			break;
		check(err, "bundle at");
		pl_buf_reset(&bundle);
		for (unsigned k = 0; k < t.width; k++) {
			size_t elen = make_entry(entry, sizeof(entry), n * PL_TILE_WIDTH + k);
			check(pl_tiles_bundle_add(&bundle, entry, elen), "bundle add");
		}
		pl_buf_reset(&p);
		check(pl_tiles_path(&p, &t), "bundle path");
		write_file(path("tiles-%llu/%s", (unsigned long long)size, p.data), bundle.data,
		           bundle.len, 0644);
	}
	fprintf(manifest, "tiles tiles-%llu %llu\n", (unsigned long long)size,
	        (unsigned long long)size);
	pl_buf_release(&p);
	pl_buf_release(&bundle);
}

static void gen_log(void)
{
	struct pl_skey log, wit[2];
	struct pl_vkey logvk, witvk[2];
	struct pl_tlog_memstore *m = NULL;
	struct pl_tlog_reader r;
	struct pl_buf cosigned;
	uint8_t entry[256], leaf[PL_HASH_BYTES];
	char b64[PL_B64_LEN(sizeof(entry)) + 1];

	check(pl_key_generate(&log, &logvk, ORIGIN, PL_SIGTYPE_ED25519), "keygen");
	check(pl_key_generate(&wit[0], &witvk[0], "witness1.example", PL_SIGTYPE_COSIG_V1),
	      "keygen");
	check(pl_key_generate(&wit[1], &witvk[1], "witness2.example/w", PL_SIGTYPE_COSIG_V1),
	      "keygen");
	write_vkey("keys/log.vkey", &logvk);
	fprintf(manifest, "origin %s\n", ORIGIN);
	manifest_vkey("logkey", &logvk);
	manifest_vkey("witness", &witvk[0]);
	manifest_vkey("witness", &witvk[1]);

	check(pl_tlog_memstore_new(&m), "memstore");
	for (uint64_t i = 0; i < FINAL_SIZE; i++) {
		size_t len = make_entry(entry, sizeof(entry), i);

		pl_b64_encode(b64, entry, len);
		fprintf(manifest, "entry %s\n", b64);
		pl_tlog_leaf_hash(leaf, entry, len);
		check(pl_tlog_memstore_append(m, (const uint8_t(*)[PL_HASH_BYTES]) & leaf, 1),
		      "append");
	}
	r = pl_tlog_memstore_reader(m);

	pl_buf_init(&cosigned, PL_CHECKPOINT_MAX_BYTES * 2);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t size = sizes[s];
		uint64_t idx[] = {0, size / 2, size / 3, size - 1, (size * 7) / 11};

		gen_checkpoint(&r, size, &log, wit, 2, &cosigned);
		if (size == 0)
			continue;
		for (size_t k = 0; k < sizeof(idx) / sizeof(idx[0]); k++) {
			bool seen = false;

			for (size_t j = 0; j < k; j++)
				seen = seen || idx[j] == idx[k];
			if (!seen)
				gen_inclusion(&r, size, idx[k]);
		}
		gen_tlog_proof(&r, size, size - 1, &cosigned, 2);
		gen_tlog_proof(&r, size, size / 2, &cosigned, 2);
		for (size_t o = 1; o <= s; o++)
			gen_consistency(&r, sizes[o], size);
	}
	gen_tiles(&r, SMALL_TILED_SIZE);
	gen_tiles(&r, FINAL_SIZE);

	pl_buf_release(&cosigned);
	pl_tlog_memstore_free(m);
	pl_skey_clear(&log);
	pl_skey_clear(&wit[0]);
	pl_skey_clear(&wit[1]);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: parley-interop-gen DIR\n", stderr);
		return 2;
	}
	if (sodium_init() < 0)
		die("sodium_init");
	outdir = argv[1];
	mkdirs(path("manifest"));
	manifest = fopen(path("manifest"), "w");
	if (!manifest)
		die("manifest: %s", strerror(errno));
	gen_notes();
	gen_log();
	if (fclose(manifest) != 0)
		die("manifest: %s", strerror(errno));
	return 0;
}
