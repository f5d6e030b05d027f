/* Helpers shared by the unit-test programs. */
#ifndef PARLEY_TESTUTIL_H
#define PARLEY_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <parley/record.h>

/*
 * Reads a whole file into a malloc'd, NUL-terminated buffer (free() it) and
 * sets *len (if not NULL). Fails the running cmocka test when the file cannot
 * be read.
 */
char *pl_test_read_file(const char *path, size_t *len);

/* pl_test_read_file() of PL_VECTORS_DIR/<dir>/<name>. */
char *pl_test_read_vector(const char *dir, const char *name, size_t *len);

/* Removes an SQLite database file and its -wal and -shm files, if they exist. */
void pl_test_remove_db(const char *path);

struct pl_skey;
struct pl_vkey;

/*
 * A key pair named keyname of the given signature type from the seed
 * SHA-256(keyname), so that signatures are reproducible (the seeds of
 * docs/records.md section 9). Fails the running test if keyname is too long.
 */
void pl_test_fixed_key(struct pl_skey *sk, struct pl_vkey *vk, const char *keyname, uint8_t type);

/* The index of name in names[0..count), failing the running test if it is not there. */
int pl_test_index_of(const char *const *names, int count, const char *name);

/*
 * Parses the verifier key in PL_VECTORS_DIR/note/<file> (one line, ending in a
 * newline) into *vk; fails the running test if it does not parse.
 */
void pl_test_load_vkey(struct pl_vkey *vk, const char *file);

/*
 * The next value of a xorshift64 generator whose state is *state (not zero):
 * deterministic, so a randomized test's failure reproduces.
 */
uint64_t pl_test_rnd(uint64_t *state);

/* pl_test_rnd() reduced below n (n > 0). */
uint64_t pl_test_rnd_below(uint64_t *state, uint64_t n);

/* The time of an RFC 3339 timestamp; fails the running test if it does not parse. */
int64_t pl_test_time(const char *s);

/* Record builders for the rule and replay tests: a `to` line, a ref, a `via`, a deadline. */
void pl_test_add_to(struct pl_record *r, const char *party);
void pl_test_add_ref(struct pl_record *r, enum pl_ref_role role, const uint8_t *id);
void pl_test_set_via(struct pl_record *r, const char *party);
void pl_test_set_deadline(struct pl_record *r, const char *time);

/* Makes r a message to rcpt with a payload of payload_size bytes (stand-in hash and commitment). */
void pl_test_set_message(struct pl_record *r, const char *rcpt, uint64_t payload_size);

struct pl_buf;
struct pl_tile;
struct pl_tlog_memstore;

/*
 * For a test's pl_dossier_source: hash tile t of the tree in ms, its t->width
 * hashes written to out; and entry bundle n of width entries of the log whose
 * records are recs[0..nrecs), appended to out (PL_EINVAL past the log's end).
 */
int pl_test_memstore_tile(struct pl_tlog_memstore *ms, const struct pl_tile *t, uint8_t *out);
int pl_test_bundle(const struct pl_buf *recs, size_t nrecs, uint64_t n, unsigned width,
                   struct pl_buf *out);

/*
 * The next ```record block of doc after byte *pos: its content (malloc'd,
 * NUL-terminated, its length in *len), or NULL when there is none. Advances *pos.
 */
char *pl_test_next_record_block(const char *doc, size_t *pos, size_t *len);

/*
 * Calls append on every ```record block of docs/records.md, in order, and
 * returns how many there are; fails the running test, naming the example, as
 * soon as append returns nonzero (with *why, if it set it).
 */
size_t pl_test_doc_records(int (*append)(const char *note, size_t len, const char **why));

/*
 * The body of each unit-test program's main(): initialises libsodium (the
 * library needs it before any key, box or random call) and runs the group of
 * tests with its fixtures (either may be NULL). Returns main()'s exit status.
 */
#define pl_test_main(tests, setup, teardown) \
	pl__test_main(#tests, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)
/*
 * Defines main() of a unit-test program that runs the tests given (each a
 * cmocka_unit_test()) with the group fixtures setup and teardown (or NULL).
 */
/* One test of a file whose fixture functions are named setup and teardown, run around it. */
#define PL_TEST_FIXTURE(test) cmocka_unit_test_setup_teardown(test, setup, teardown)

/*
 * Makes a fresh directory $TMPDIR/<prefix>-XXXXXX (/tmp without TMPDIR) into
 * out (cap bytes). Returns 0, or -1 when it cannot, for a fixture's setup.
 */
int pl_test_tmpdir(char *out, size_t cap, const char *prefix);

#define PL_TEST_MAIN(setup, teardown, ...)                       \
	int main(void)                                           \
	{                                                        \
		const struct CMUnitTest tests[] = {__VA_ARGS__}; \
		return pl_test_main(tests, setup, teardown);     \
	}
int pl__test_main(const char *name, const struct CMUnitTest *tests, size_t count,
                  CMFixtureFunction setup, CMFixtureFunction teardown);

#endif
