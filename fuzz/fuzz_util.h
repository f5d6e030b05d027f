/* The start shared by the libFuzzer targets that verify signatures: libsodium and one verifier key.
 */
#ifndef PARLEY_FUZZ_UTIL_H
#define PARLEY_FUZZ_UTIL_H

#include <parley/key.h>

/* The target's verifier key in its text form, defined by each target that links this file. */
extern const char pl_fuzz_vkey_text[];

/* pl_fuzz_vkey_text parsed, set once LLVMFuzzerInitialize() has returned 0. */
extern struct pl_vkey pl_fuzz_vkey;

/* Initialises libsodium and parses pl_fuzz_vkey_text; returns 0, or -1 to stop the run. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
