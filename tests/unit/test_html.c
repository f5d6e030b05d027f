/* Unit tests of the one HTML escaping: a table of ordinary, hostile and malformed strings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <parley/html.h>

#include "testutil.h"

static const struct {
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *want;
} cases[] = {
        {"", 0, ""},
        {"plain text", 0, "plain text"},
        {"a & b", 0, "a &amp; b"},
        {"<script>alert(1)</script>", 0, "&lt;script&gt;alert(1)&lt;/script&gt;"},
        {"\"><img src=x onerror=alert(1)>", 0, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"},
        {"' onmouseover='x", 0, "&#39; onmouseover=&#39;x"},
        {"&amp; stays escaped", 0, "&amp;amp; stays escaped"},
        {"]]><!-- -->", 0, "]]&gt;&lt;!-- --&gt;"},
        {"line\nbreak\ttab\r", 0, "line\nbreak\ttab\r"},
        {"nul\0byte", 8,
         "nul\xef\xbf\xbd"
         "byte"},
        {"bell\x07 esc\x1b del\x7f", 0, "bell\xef\xbf\xbd esc\xef\xbf\xbd del\xef\xbf\xbd"},
        {"Minist\xc3\xa8re \xe2\x80\x94 \xed\x95\x9c", 0,
         "Minist\xc3\xa8re \xe2\x80\x94 \xed\x95\x9c"},
        {"<<>>&&", 0, "&lt;&lt;&gt;&gt;&amp;&amp;"},
};

static void test_escape_table(void **state)
{
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in);
		pl_buf_reset(&b);
		assert_int_equal(pl_html_escape(&b, cases[i].in, n), 0);
		assert_int_equal(b.len, strlen(cases[i].want));
		assert_memory_equal(b.data, cases[i].want, b.len);
		/* No markup character survives, whatever came in. */
		for (size_t k = 0; k < b.len; k++)
			assert_true(b.data[k] != '<' && b.data[k] != '>' && b.data[k] != '"' &&
			            b.data[k] != '\'');
	}
	pl_buf_release(&b);
}

static void test_escape_appends_and_fails_whole(void **state)
{
	struct pl_buf b;

	(void)state;
	pl_buf_init(&b, 12);
	assert_int_equal(pl_buf_adds(&b, "x="), 0);
	assert_int_equal(pl_html_escapes(&b, "a<b"), 0);
	assert_string_equal(b.data, "x=a&lt;b");
	/* Past the maximum nothing is appended, not even the part that fits. */
	assert_int_equal(pl_html_escapes(&b, "<<"), PL_ETOOBIG);
	assert_string_equal(b.data, "x=a&lt;b");
	assert_int_equal(b.len, 8);
	pl_buf_release(&b);
}

PL_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_escape_table),
             cmocka_unit_test(test_escape_appends_and_fails_whole))
