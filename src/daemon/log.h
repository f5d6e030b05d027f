/* The daemons' one-line structured logs on stderr (logfmt: ts=... level=... event=... key=value).
 */
#ifndef PARLEY_DAEMON_LOG_H
#define PARLEY_DAEMON_LOG_H

#include <stdarg.h>

/*
 * Writes one line to stderr: "ts=<RFC 3339 UTC> level=<level> event=<event>"
 * followed by a space and the formatted fields (key=value pairs; the caller
 * quotes a value that may hold spaces: msg="..."). Control characters in the
 * result become '?', so an entry is always one line; a line longer than the
 * limit is cut. Thread-safe (one write(2) per line).
 */
void pl_daemon_log(const char *level, const char *event, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/*
 * libmicrohttpd's external logger (MHD_OPTION_EXTERNAL_LOGGER): logs the
 * message as a "warn" "httpd" entry with msg="...". cls is unused.
 */
void pl_daemon_log_mhd(void *cls, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

#endif
