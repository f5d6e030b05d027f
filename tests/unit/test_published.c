/* Unit tests of the published file's parser: two slots, the newer valid one wins, nothing else. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/checkpoint.h>
#include <parley/key.h>

#include "internal.h"

#include "testutil.h"

#define ORIGIN "hotline.example"
#define SLOT   PL__PUBLISHED_SLOT

static struct pl_skey sk, other_sk;
static struct pl_vkey vk, other_vk;

/* The signed checkpoint note of size `size` whose root is `fill` repeated, by key k. */
static void note_make(struct pl_buf *out, uint64_t size, uint8_t fill, const struct pl_skey *k,
                      const char *origin)
{
	struct pl_checkpoint cp;
	uint8_t root[PL_HASH_BYTES];

	memset(root, fill, sizeof(root));
	assert_int_equal(pl_checkpoint_set(&cp, origin, size, root), 0);
	pl_buf_reset(out);
	assert_int_equal(pl_checkpoint_sign(out, &cp, k), 0);
}

/* Writes into slot s of file the note of (size, fill) by key k. */
static void slot_put(uint8_t *file, int s, uint64_t size, uint8_t fill, const struct pl_skey *k)
{
	struct pl_buf b;

	pl_buf_init(&b, SLOT);
	note_make(&b, size, fill, k, ORIGIN);
	assert_int_equal(pl__published_slot_format(file + s * SLOT, b.data, b.len), 0);
	pl_buf_release(&b);
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0 || pl_key_generate(&sk, &vk, ORIGIN, PL_SIGTYPE_ED25519) != 0 ||
	    pl_key_generate(&other_sk, &other_vk, ORIGIN, PL_SIGTYPE_ED25519) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pl_skey_clear(&sk);
	pl_skey_clear(&other_sk);
	return 0;
}

/* What a row does to a file whose slot 0 holds size 5 and slot 1 size 7. */
enum change {
	NONE,
	SLOT1_EMPTY,  /* slot 1 never written */
	SWAPPED,      /* slot 0 holds 7, slot 1 holds 5 */
	SHORT,        /* one byte short */
	LONG,         /* one byte long */
	EMPTY_FILE,   /* zero bytes */
	ALL_ZERO,     /* both slots empty */
	MAGIC,        /* slot 1's magic changed */
	LEADING_ZERO, /* slot 1's length written with a leading zero */
	LEN_ZERO,     /* slot 1's length 0 */
	LEN_HUGE,     /* slot 1's length beyond the slot */
	NO_NEWLINE,   /* slot 1's length not ended by '\n' */
	PADDING,      /* a non-zero byte after slot 1's note */
	NOTE_BYTE,    /* a byte of slot 1's note changed (a torn write) */
	OTHER_KEY,    /* slot 1 signed by another key */
	OTHER_ORIGIN, /* slot 1 of another origin */
	BOTH_BAD,     /* both slots damaged */
	SAME_SIZE,    /* both at size 7, different roots */
	SAME_TWICE,   /* both the same checkpoint */
	TORN_NEWER,   /* slot 1 (7) half written over an older 3 */
};

struct row {
	const char *name;
	enum change change;
	int ret;
	uint64_t size;
	unsigned slot;
	bool torn;
};

static const struct row rows[] = {
        {"two slots, the newer wins", NONE, 0, 7, 1, false},
        {"one slot never written", SLOT1_EMPTY, 0, 5, 0, false},
        {"the newer in slot 0", SWAPPED, 0, 7, 0, false},
        {"one byte short", SHORT, PL_EMALFORMED, 0, 0, false},
        {"one byte long", LONG, PL_EMALFORMED, 0, 0, false},
        {"empty file", EMPTY_FILE, PL_EMALFORMED, 0, 0, false},
        {"both slots empty", ALL_ZERO, PL_EMALFORMED, 0, 0, false},
        {"bad magic", MAGIC, 0, 5, 0, true},
        {"length with a leading zero", LEADING_ZERO, 0, 5, 0, true},
        {"length zero", LEN_ZERO, 0, 5, 0, true},
        {"length beyond the slot", LEN_HUGE, 0, 5, 0, true},
        {"length without newline", NO_NEWLINE, 0, 5, 0, true},
        {"garbage after the note", PADDING, 0, 5, 0, true},
        {"a byte of the note changed", NOTE_BYTE, 0, 5, 0, true},
        {"signed by another key", OTHER_KEY, 0, 5, 0, true},
        {"another origin", OTHER_ORIGIN, 0, 5, 0, true},
        {"both slots damaged", BOTH_BAD, PL_EMALFORMED, 0, 0, false},
        {"two roots at one size", SAME_SIZE, PL_EINCONSISTENT, 0, 0, false},
        {"one checkpoint twice", SAME_TWICE, 0, 7, 0, false},
        {"a newer write torn over an older one", TORN_NEWER, 0, 5, 0, true},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct row *w = &rows[r];
		uint8_t *file = calloc(1, PL__PUBLISHED_BYTES + 1);
		uint8_t *s1 = file + SLOT;
		size_t len = PL__PUBLISHED_BYTES;
		struct pl__published *out = malloc(sizeof(*out));
		struct pl_buf b;
		char *nl;
		int ret;

		assert_non_null(file);
		assert_non_null(out);
		pl_buf_init(&b, SLOT);
		slot_put(file, 0, 5, 0xaa, &sk);
		slot_put(file, 1, 7, 0xbb, &sk);
		nl = memchr(s1, '\n', SLOT);
		switch (w->change) {
		case NONE:
			break;
		case SLOT1_EMPTY:
			memset(s1, 0, SLOT);
			break;
		case SWAPPED:
			slot_put(file, 0, 7, 0xbb, &sk);
			slot_put(file, 1, 5, 0xaa, &sk);
			break;
		case SHORT:
			len--;
			break;
		case LONG:
			len++;
			break;
		case EMPTY_FILE:
			len = 0;
			break;
		case ALL_ZERO:
			memset(file, 0, PL__PUBLISHED_BYTES);
			break;
		case MAGIC:
			s1[0] = 'P';
			break;
		case LEADING_ZERO:
			/* "... 123\n" becomes "... 0123" with the newline eaten: shift by one. */
			memmove(s1 + 21, s1 + 20, SLOT - 21);
			s1[20] = '0';
			break;
		case LEN_ZERO:
			memcpy(s1 + 20, "0\n", 2);
			memset(s1 + 22, 0, SLOT - 22);
			break;
		case LEN_HUGE:
			memcpy(s1 + 20, "9999\n", 5);
			break;
		case NO_NEWLINE:
			*nl = ' ';
			break;
		case PADDING:
			s1[SLOT - 1] = 1;
			break;
		case NOTE_BYTE:
			nl[10] ^= 1;
			break;
		case OTHER_KEY:
			slot_put(file, 1, 7, 0xbb, &other_sk);
			break;
		case OTHER_ORIGIN:
			note_make(&b, 7, 0xbb, &sk, "elsewhere.example");
			assert_int_equal(pl__published_slot_format(s1, b.data, b.len), 0);
			break;
		case BOTH_BAD:
			file[0] = 'P';
			s1[0] = 'P';
			break;
		case SAME_SIZE:
			slot_put(file, 0, 7, 0xcc, &sk);
			break;
		case SAME_TWICE:
			slot_put(file, 0, 7, 0xbb, &sk);
			break;
		case TORN_NEWER: {
			/* Slot 1 held size 3; of the new note only the first 100 bytes landed. */
			uint8_t old[SLOT];
			slot_put(file, 1, 3, 0x11, &sk);
			memcpy(old, s1, SLOT);
			slot_put(file, 1, 7, 0xbb, &sk);
			memcpy(s1 + 100, old + 100, SLOT - 100);
			break;
		}
		}
		memset(out, 0x5a, sizeof(*out));
		ret = pl__published_parse(out, file, len, ORIGIN, &vk);
		if (ret != w->ret)
			fail_msg("%s: returned %d, want %d", w->name, ret, w->ret);
		if (!ret) {
			struct pl_checkpoint cp;
			if (out->size != w->size || out->slot != w->slot ||
			    out->other_torn != w->torn)
				fail_msg("%s: size %llu slot %u torn %d", w->name,
				         (unsigned long long)out->size, out->slot, out->other_torn);
			/* The note handed back is the one that verified, whole. */
			assert_int_equal(strlen(out->note), out->note_len);
			assert_int_equal(pl_checkpoint_open(&cp, NULL, out->note, out->note_len,
			                                    ORIGIN, &vk, 1),
			                 0);
			assert_int_equal(cp.size, out->size);
			assert_memory_equal(cp.root, out->root, PL_HASH_BYTES);
		} else {
			/* Untouched on error. */
			assert_int_equal(out->note[0], 0x5a);
		}
		pl_buf_release(&b);
		free(out);
		free(file);
	}
}

static void test_slot_format(void **state)
{
	uint8_t slot[SLOT];
	char big[SLOT];

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_int_equal(pl__published_slot_format(slot, big, 0), PL_EINVAL);
	assert_int_equal(pl__published_slot_format(slot, NULL, 1), PL_EINVAL);
	assert_int_equal(pl__published_slot_format(slot, big, SLOT - 20), PL_ETOOBIG);
	assert_int_equal(pl__published_slot_format(slot, big, 10), 0);
	assert_memory_equal(slot, "parley/published/v1 10\naaaaaaaaaa\0", 34);
	assert_int_equal(pl__published_parse(NULL, slot, SLOT, ORIGIN, &vk), PL_EINVAL);
}

PL_TEST_MAIN(setup, teardown, cmocka_unit_test(test_parse_table),
             cmocka_unit_test(test_slot_format))
