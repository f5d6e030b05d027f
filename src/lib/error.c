/* pl_strerror(): the text of each error code, generated from the PL_ERRORS list. */
#include <parley/error.h>

#include "internal.h"

const char *pl_strerror(int err)
{
	switch (err) {
#define PL__ERR_CASE(name, value, text) \
	case value:                     \
		return text;
		PL_ERRORS(PL__ERR_CASE)
#undef PL__ERR_CASE
	}
	return "unknown error";
}
