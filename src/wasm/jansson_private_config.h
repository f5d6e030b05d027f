/*
 * Jansson's build configuration (read with HAVE_CONFIG_H) for the WebAssembly
 * build (scripts/build-wasm): the headers and functions emscripten's libc has
 * that Jansson asks about, and the initial hash table size (2^3 buckets).
 * With no file system (FILESYSTEM=0) the hash seed falls back to gettimeofday.
 */
#ifndef PL_WASM_JANSSON_PRIVATE_CONFIG_H
#define PL_WASM_JANSSON_PRIVATE_CONFIG_H

#define HAVE_STDINT_H           1
#define HAVE_INTTYPES_H         1
#define HAVE_UNISTD_H           1
#define HAVE_SYS_TIME_H         1
#define HAVE_GETTIMEOFDAY       1
#define HAVE_ATOMIC_BUILTINS    1
#define HAVE_SYNC_BUILTINS      1
#define INITIAL_HASHTABLE_ORDER 3

#endif
