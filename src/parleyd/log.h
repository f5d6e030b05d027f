/* parleyd's one-line structured logs on stderr (logfmt: ts=... level=... event=... key=value). */
#ifndef PARLEYD_LOG_H
#define PARLEYD_LOG_H

/*
 * Writes one line to stderr: "ts=<RFC 3339 UTC> level=<level> event=<event>"
 * followed by a space and the formatted fields (key=value pairs; the caller
 * quotes a value that may hold spaces: msg="..."). Control characters in the
 * result become '?', so an entry is always one line. Thread-safe (one
 * write(2) per line).
 */
void pl_parleyd_log(const char *level, const char *event, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
