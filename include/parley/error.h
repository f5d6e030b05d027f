/* Error codes of libparley: one X-macro list that generates the enum and pl_strerror(). */
#ifndef PARLEY_ERROR_H
#define PARLEY_ERROR_H

/*
 * Every library function that can fail returns int: 0 on success or one of
 * the negative codes below. Codes are stable; new ones are added at the end.
 */
#define PL_ERRORS(X)                                                        \
	X(PL_OK, 0, "success")                                              \
	X(PL_ENOMEM, -1, "out of memory")                                   \
	X(PL_EINVAL, -2, "invalid argument")                                \
	X(PL_EMALFORMED, -3, "malformed input")                             \
	X(PL_ETOOBIG, -4, "input exceeds a limit")                          \
	X(PL_EVERIFY, -5, "signature does not verify")                      \
	X(PL_ENOKEY, -6, "not signed by any known key")                     \
	X(PL_EPROOF, -7, "proof does not hold")                             \
	X(PL_EIO, -8, "I/O error")                                          \
	X(PL_ENOTFOUND, -9, "not found")                                    \
	X(PL_EEXIST, -10, "already exists")                                 \
	X(PL_ECHAIN, -11, "conflicts with the key's chain")                 \
	X(PL_ERULE, -12, "breaks a rule of the record vocabulary")          \
	X(PL_ESTORE, -13, "store error")                                    \
	X(PL_ECRYPTO, -14, "cannot decrypt or authenticate")                \
	X(PL_EKEY, -15, "bad key")                                          \
	X(PL_ERANGE, -16, "value out of range")                             \
	X(PL_ENET, -17, "network error")                                    \
	X(PL_EDENIED, -18, "not permitted")                                 \
	X(PL_EAMBIGUOUS, -19, "ambiguous identifier")                       \
	X(PL_EINCONSISTENT, -20, "inconsistent with an earlier checkpoint") \
	X(PL_ESTATE, -21, "wrong state for this operation")                 \
	X(PL_ECOMMIT, -22, "does not match the commitment")                 \
	X(PL_ELIMIT, -23, "over a rate limit")                              \
	X(PL_EDAMAGED, -24, "stored data is damaged")

enum pl_error {
#define PL__ERR_ENUM(name, value, text) name = value,
	PL_ERRORS(PL__ERR_ENUM)
#undef PL__ERR_ENUM
};

/* Returns a static, human-readable description of an error code; never NULL. */
const char *pl_strerror(int err);

#if defined(__GNUC__)
#define PL_WUR __attribute__((warn_unused_result))
#else
#define PL_WUR
#endif

#endif
