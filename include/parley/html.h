/* HTML text: the one escaping of every string a page of Parley's interpolates. */
#ifndef PARLEY_HTML_H
#define PARLEY_HTML_H

#include <stddef.h>

#include <parley/buf.h>
#include <parley/error.h>

/*
 * Appends s[0..n) to out with the five characters that matter in HTML text
 * and in quoted attribute values escaped (& < > " '), and every byte that
 * could end or corrupt the page made harmless: NUL and the C0 controls but
 * tab, newline and carriage return become U+FFFD, so that a hostile name or
 * body never becomes markup, an attribute or a script, whatever encoding
 * mistakes the reader makes. Bytes >= 0x80 are copied: callers hand in text
 * that a parser has already checked as UTF-8 (records, keys, notes). Every
 * page Parley writes (dossier reports, the explorer, the Atom feed, which is
 * XML and needs the same five) escapes through this one function.
 * Returns 0, or a pl_buf error with out unchanged. Thread-safe.
 */
int pl_html_escape(struct pl_buf *out, const char *s, size_t n) PL_WUR;

/* pl_html_escape() of the NUL-terminated string s. */
int pl_html_escapes(struct pl_buf *out, const char *s) PL_WUR;

#endif
