/* Helpers shared by the unit-test programs. */
#ifndef PARLEY_TESTUTIL_H
#define PARLEY_TESTUTIL_H

#include <stddef.h>

/*
 * Reads a whole file into a malloc'd, NUL-terminated buffer (free() it) and
 * sets *len (if not NULL). Fails the running cmocka test when the file cannot
 * be read.
 */
char *pl_test_read_file(const char *path, size_t *len);

/* pl_test_read_file() of PL_VECTORS_DIR/<dir>/<name>. */
char *pl_test_read_vector(const char *dir, const char *name, size_t *len);

#endif
