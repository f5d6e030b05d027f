/*
 * libFuzzer target: the checks the browser pages run (pl_dossier_check_html()
 * and pl_statement_check_html()), their key-list parsers and what they show.
 * The input is up to five fields separated by NUL bytes: for the statement
 * check record, proof, author keys, log key, witness keys; the dossier check
 * takes the first field as the dossier and the fourth and fifth as its keys.
 * Oracle: the answer says it verified exactly when 0 is returned, and a
 * refusal is shown whenever anything is.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <parley/dossier.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFIELDS 5

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *f[NFIELDS];
	size_t len[NFIELDS], at = 0;
	struct pl_buf out;
	int err;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (int i = 0; i < NFIELDS; i++) {
		f[i] = copy + at;
		len[i] = strlen(f[i]);
		at += at + len[i] < size ? len[i] + 1 : len[i];
	}
	pl_buf_init(&out, 1u << 22);
	err = pl_statement_check_html(f[0], len[0], f[1], len[1], f[2], f[3], f[4], &out);
	if ((err == 0) != (out.data && strstr(out.data, "data-verified=\"yes\"") != NULL))
		abort();
	if (err != 0 && err != PL_ENOMEM && !strstr(out.data ? out.data : "", "does not verify"))
		abort();
	pl_buf_reset(&out);
	err = pl_dossier_check_html(f[0], len[0], f[3], f[4], &out);
	if (err != 0 && err != PL_ENOMEM && !strstr(out.data ? out.data : "", "id=\"pl-refused\""))
		abort();
	if (err == 0 && strstr(out.data ? out.data : "", "id=\"pl-refused\""))
		abort();
	pl_buf_release(&out);
	free(copy);
	return 0;
}
