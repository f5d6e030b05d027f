/* The one HTML (and XML) escaping of interpolated text, for every page and feed Parley writes. */
#include <parley/html.h>

#include <string.h>

#include "internal.h"

/* What a byte becomes, or NULL when it is copied as it is. */
static const char *html_replacement(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	case '\t':
	case '\n':
	case '\r':
		return NULL;
	default:
		/* NUL and the other C0 controls are not allowed in XML 1.0 and mean nothing here.
		 */
		return c < 0x20 || c == 0x7f ? "\xef\xbf\xbd" : NULL;
	}
}

int pl_html_escape(struct pl_buf *out, const char *s, size_t n)
{
	size_t start = out->len, from = 0;
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < n; i++) {
		const char *rep = html_replacement((unsigned char)s[i]);
		if (!rep)
			continue;
		ret = pl_buf_add(out, s + from, i - from);
		if (ret == 0)
			ret = pl_buf_adds(out, rep);
		from = i + 1;
	}
	if (ret == 0)
		ret = pl_buf_add(out, s + from, n - from);
	if (ret != 0 && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return ret;
}

int pl_html_escapes(struct pl_buf *out, const char *s)
{
	return pl_html_escape(out, s, strlen(s));
}
