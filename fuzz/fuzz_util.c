/* The start shared by the libFuzzer targets that verify signatures: libsodium and one verifier key.
 */
#include "fuzz_util.h"

#include <sodium.h>
#include <string.h>

struct pl_vkey pl_fuzz_vkey;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0 ||
	    pl_vkey_parse(&pl_fuzz_vkey, pl_fuzz_vkey_text, strlen(pl_fuzz_vkey_text)) != 0)
		return -1;
	return 0;
}
