/* A client profile: which exchange, as which party, with which keys, and the log key it pins. */
#ifndef PARLEY_PROFILE_H
#define PARLEY_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/buf.h>
#include <parley/error.h>
#include <parley/key.h>
#include <parley/limits.h>

#define PL_PROFILE_VERSION_LINE "parley/profile/v1"
#define PL_PROFILE_FILE         "profile" /* the file's name inside a profile directory */

/*
 * A profile, as kept in <dir>/profile: one text file, the version line then
 * one "<key> <value>" line per field, in this fixed order, each exactly once:
 *
 *     parley/profile/v1
 *     exchange http://127.0.0.1:8080      base URL of the exchange's API
 *     origin hotline.example              the exchange's origin (its log's name)
 *     party rok-mnd                       the party this profile acts as
 *     key-dir /home/me/keys               the party's identity directory
 *     log-key hotline.example+...         the pinned log verifier key
 *     state /home/me/.local/...           the local state database
 *
 * Values are non-empty, valid UTF-8 without control characters, and neither
 * start nor end with a space (paths may hold spaces inside). The exchange is
 * an http:// or https:// URL of printable ASCII; the origin follows
 * docs/records.md §3; the party is a valid party name; the log key is an
 * Ed25519 verifier key whose name is the origin. Plain data, nothing to free.
 */
struct pl_profile {
	char exchange[PL_PROFILE_URL_MAX + 1];
	char origin[PL_RECORD_ORIGIN_MAX + 1];
	char party[PL_PARTY_NAME_MAX + 1];
	char key_dir[PL_PROFILE_PATH_MAX + 1];
	struct pl_vkey log_key;
	char state[PL_PROFILE_PATH_MAX + 1];
};

/*
 * Parses a profile text text[0..len) (at most PL_PROFILE_MAX_BYTES, every
 * line ending in '\n', nothing after the last field). Returns 0 with *p set,
 * or PL_EMALFORMED / PL_ETOOBIG with *why (if not NULL) set to a static
 * description of the first fault; *p is untouched on failure. Thread-safe.
 */
int pl_profile_parse(struct pl_profile *p, const char *text, size_t len, const char **why) PL_WUR;

/*
 * Appends the text of p to out; the result parses back to p. Checks the same
 * rules as the parser. Returns 0, PL_EINVAL (with *why set) or a pl_buf
 * error; out is unchanged on error.
 */
int pl_profile_format(const struct pl_profile *p, struct pl_buf *out, const char **why) PL_WUR;

/*
 * Reads <dir>/profile (symbolic links not followed) and parses it. Returns 0
 * with *p set, PL_ENOTFOUND when there is no profile file, PL_EIO (errno
 * kept), PL_ETOOBIG, or PL_EMALFORMED (with *why). *p untouched on failure.
 */
int pl_profile_load(struct pl_profile *p, const char *dir, const char **why) PL_WUR;

/*
 * Writes p to <dir>/profile, mode 0600: into a temporary file in dir that is
 * fsynced and renamed over the target, then dir is fsynced, so a crash
 * leaves the old profile or the new one. dir is created (0700) if missing;
 * its parent must exist. Unless replace is true an existing profile is left
 * alone and PL_EEXIST returned. Returns 0, PL_EINVAL (p does not format,
 * *why set), PL_EEXIST, or PL_EIO (errno kept).
 */
int pl_profile_save(const struct pl_profile *p, const char *dir, bool replace,
                    const char **why) PL_WUR;

/* True when s is an http:// or https:// URL this profile can hold (printable ASCII, bounded). */
bool pl_profile_url_is_valid(const char *s, size_t len);

#endif
