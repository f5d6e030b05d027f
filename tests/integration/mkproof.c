/*
 * Test helper for the CLI tests: builds a small log with libparley and writes,
 * into DIR, the log's and witnesses' verifier keys, two entries, and
 * c2sp.org/tlog-proof files for them, formatted here by hand from the spec so
 * that the tool's parser is not checked against its own writer.
 *
 *   DIR/log.vkey  DIR/w1.vkey  DIR/w2.vkey  DIR/w3.vkey (w3 never cosigns)
 *   DIR/entry     DIR/proof        entry 617 in a tree of 1000, cosigned by w1, w2
 *   DIR/leaf                       the base64 RFC 6962 leaf hash of DIR/entry
 *   DIR/entry0    DIR/proof0       entry 0 in a tree of 1, signed by the log only
 *   DIR/statement DIR/statement.proof  a public statement by us-wh, signed with
 *                 DIR/author.vkey's key, entry 7 in a tree of 12, cosigned by w1, w2
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/checkpoint.h>
#include <parley/cosignature.h>
#include <parley/encoding.h>
#include <parley/key.h>
#include <parley/record.h>
#include <parley/tlog.h>

#include "banned.h"

#define ORIGIN "hotline.example"
#define SIZE   1000
#define INDEX  617

static const char *dir;

static void check(int err, const char *what)
{
	if (err) {
		fprintf(stderr, "mkproof: %s: %s\n", what, pl_strerror(err));
		exit(1);
	}
}

static void write_file(const char *name, const void *data, size_t len)
{
	char p[4096];
	int fd, n = snprintf(p, sizeof(p), "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof(p)) {
		fputs("mkproof: path too long\n", stderr);
		exit(1);
	}
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len) || close(fd) != 0) {
		fprintf(stderr, "mkproof: %s: %s\n", p, strerror(errno));
		exit(1);
	}
}

static void write_vkey(const char *name, const struct pl_vkey *vk)
{
	struct pl_buf b;

	pl_buf_init(&b, 1024);
	check(pl_vkey_format(vk, &b) || pl_buf_adds(&b, "\n"), "format key");
	write_file(name, b.data, b.len);
	pl_buf_release(&b);
}

static size_t entry(char *out, size_t cap, unsigned i)
{
	int n = snprintf(out, cap, "parley/record/v1\nseq %u\n", i);

	return (size_t)n;
}

/* Writes the tlog-proof of entry index in the tree of size, cosigned by nwit witnesses. */
static void write_proof(const char *name, const char *entry_name, const struct pl_tlog_reader *r,
                        uint64_t size, uint64_t index, const struct pl_skey *log,
                        const struct pl_skey *wit, size_t nwit)
{
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES], root[PL_HASH_BYTES];
	char e[128];
	size_t n;
	struct pl_checkpoint cp;
	struct pl_buf note, out;

	pl_buf_init(&note, 1u << 16);
	pl_buf_init(&out, 1u << 16);
	check(pl_tlog_tree_hash(r, size, root), "tree hash");
	check(pl_checkpoint_set(&cp, ORIGIN, size, root), "checkpoint");
	check(pl_checkpoint_sign(&note, &cp, log), "sign checkpoint");
	for (size_t w = 0; w < nwit; w++)
		check(pl_cosignature_add(&note, &wit[w], 1763337600 + w), "cosign");
	check(pl_tlog_prove_inclusion(r, size, index, proof, &n), "prove");

	check(pl_buf_addf(&out, "c2sp.org/tlog-proof@v1\nindex %llu\n", (unsigned long long)index),
	      "format");
	for (size_t i = 0; i < n; i++)
		check(pl_b64_append(&out, proof[i], PL_HASH_BYTES) || pl_buf_adds(&out, "\n"),
		      "format");
	check(pl_buf_adds(&out, "\n") || pl_buf_add(&out, note.data, note.len), "format");
	write_file(name, out.data, out.len);
	write_file(entry_name, e, entry(e, sizeof(e), (unsigned)index));
	if (strcmp(entry_name, "entry") == 0) {
		char b64[PL_HASH_B64_LEN + 2];

		pl_tlog_leaf_hash(root, e, entry(e, sizeof(e), (unsigned)index));
		pl_b64_encode(b64, root, PL_HASH_BYTES);
		b64[PL_HASH_B64_LEN] = '\n';
		write_file("leaf", b64, PL_HASH_B64_LEN + 1);
	}
	pl_buf_release(&note);
	pl_buf_release(&out);
}

/* The signed statement of us-wh, into out. */
static void sign_statement(struct pl_buf *out)
{
	static const char body[] = "We propose talks on the baseline of the MDL.\n";
	struct pl_record *rec = calloc(1, sizeof(*rec));
	struct pl_skey author;
	struct pl_vkey vk;
	char name[PL_KEY_NAME_MAX + 1];
	const char *why = NULL;

	if (!rec)
		check(PL_ENOMEM, "record");
	check(pl_record_key_name(name, ORIGIN, "us-wh"), "key name");
	check(pl_key_generate(&author, &vk, name, PL_SIGTYPE_ED25519), "keygen");
	write_vkey("author.vkey", &vk);
	rec->kind = PL_KIND_STATEMENT;
	snprintf(rec->exchange, sizeof(rec->exchange), "%s", ORIGIN);
	snprintf(rec->author, sizeof(rec->author), "%s", "us-wh");
	rec->seq = 1;
	rec->time = 1763337000;
	rec->has |= PL_RECORD_HAS_CLASS | PL_RECORD_HAS_BODY;
	rec->cls = PL_CLASS_STATEMENT;
	rec->body_len = sizeof(body) - 1;
	memcpy(rec->body, body, sizeof(body));
	check(pl_record_sign(out, rec, &author, 1, &why), why ? why : "sign statement");
	pl_skey_clear(&author);
	free(rec);
}

/* A tree of 12 whose entry 7 is a signed statement; its tlog-proof, cosigned by wit[0..2). */
static void write_statement(const struct pl_skey *log, const struct pl_skey *wit)
{
	uint8_t proof[PL_PROOF_MAX_HASHES][PL_HASH_BYTES], root[PL_HASH_BYTES], leaf[PL_HASH_BYTES];
	struct pl_tlog_memstore *m = NULL;
	struct pl_tlog_reader r;
	struct pl_checkpoint cp;
	struct pl_buf st, note, out;
	char e[128];
	size_t n;

	pl_buf_init(&st, 1u << 16);
	pl_buf_init(&note, 1u << 16);
	pl_buf_init(&out, 1u << 16);
	sign_statement(&st);
	write_file("statement", st.data, st.len);
	check(pl_tlog_memstore_new(&m), "memstore");
	for (unsigned i = 0; i < 12; i++) {
		if (i == 7)
			pl_tlog_leaf_hash(leaf, st.data, st.len);
		else
			pl_tlog_leaf_hash(leaf, e, entry(e, sizeof(e), i));
		check(pl_tlog_memstore_append(m, (const uint8_t(*)[PL_HASH_BYTES]) & leaf, 1),
		      "append");
	}
	r = pl_tlog_memstore_reader(m);
	check(pl_tlog_tree_hash(&r, 12, root), "tree hash");
	check(pl_checkpoint_set(&cp, ORIGIN, 12, root), "checkpoint");
	check(pl_checkpoint_sign(&note, &cp, log), "sign checkpoint");
	for (size_t w = 0; w < 2; w++)
		check(pl_cosignature_add(&note, &wit[w], 1763337600 + w), "cosign");
	check(pl_tlog_prove_inclusion(&r, 12, 7, proof, &n), "prove");
	check(pl_buf_adds(&out, "c2sp.org/tlog-proof@v1\nindex 7\n"), "format");
	for (size_t i = 0; i < n; i++)
		check(pl_b64_append(&out, proof[i], PL_HASH_BYTES) || pl_buf_adds(&out, "\n"),
		      "format");
	check(pl_buf_adds(&out, "\n") || pl_buf_add(&out, note.data, note.len), "format");
	write_file("statement.proof", out.data, out.len);
	write_file("checkpoint", note.data, note.len);
	pl_tlog_memstore_free(m);
	pl_buf_release(&st);
	pl_buf_release(&note);
	pl_buf_release(&out);
}

int main(int argc, char **argv)
{
	struct pl_skey log, wit[3];
	struct pl_vkey vk;
	struct pl_tlog_memstore *m = NULL;
	struct pl_tlog_reader r;
	uint8_t leaf[PL_HASH_BYTES];
	char e[128];

	if (argc != 2 || sodium_init() < 0) {
		fputs("usage: mkproof DIR\n", stderr);
		return 2;
	}
	dir = argv[1];
	check(pl_key_generate(&log, &vk, ORIGIN, PL_SIGTYPE_ED25519), "keygen");
	write_vkey("log.vkey", &vk);
	for (int w = 0; w < 3; w++) {
		char name[64], file[16];

		snprintf(name, sizeof(name), "witness%d.example", w + 1);
		snprintf(file, sizeof(file), "w%d.vkey", w + 1);
		check(pl_key_generate(&wit[w], &vk, name, PL_SIGTYPE_COSIG_V1), "keygen");
		write_vkey(file, &vk);
	}
	check(pl_tlog_memstore_new(&m), "memstore");
	for (unsigned i = 0; i < SIZE; i++) {
		pl_tlog_leaf_hash(leaf, e, entry(e, sizeof(e), i));
		check(pl_tlog_memstore_append(m, (const uint8_t(*)[PL_HASH_BYTES]) & leaf, 1),
		      "append");
	}
	r = pl_tlog_memstore_reader(m);
	write_proof("proof", "entry", &r, SIZE, INDEX, &log, wit, 2);
	write_proof("proof0", "entry0", &r, 1, 0, &log, wit, 0);
	write_statement(&log, wit);
	pl_tlog_memstore_free(m);
	pl_skey_clear(&log);
	for (int w = 0; w < 3; w++)
		pl_skey_clear(&wit[w]);
	return 0;
}
