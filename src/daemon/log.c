/* The daemons' one-line structured logs on stderr. */
#include "daemon/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <parley/timestamp.h>

#include "internal.h"

#define LOG_LINE_MAX 2048

void pl_daemon_log(const char *level, const char *event, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	char ts[PL_TIMESTAMP_LEN + 1];
	va_list ap;
	int n, k;

	if (pl_timestamp_format(ts, (int64_t)time(NULL)) != 0)
		snprintf(ts, sizeof(ts), "-");
	n = snprintf(line, sizeof(line), "ts=%s level=%s event=%s", ts, level, event);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (fmt && *fmt && (size_t)n < sizeof(line) - 3) {
		line[n++] = ' ';
		va_start(ap, fmt);
		k = vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
		va_end(ap);
		if (k > 0)
			n += (size_t)k < sizeof(line) - 1 - (size_t)n ? k
			                                              : (int)(sizeof(line) - 2 - n);
	}
	/* One entry is one line, whatever the fields held. */
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void pl_daemon_log_mhd(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	/* The message goes inside msg="...": its own quotes would end the value. */
	for (size_t i = 0; i < n; i++)
		if (msg[i] == '"')
			msg[i] = '\'';
	pl_daemon_log("warn", "httpd", "msg=\"%s\"", msg);
}
