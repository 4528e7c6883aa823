/*
 * fuzz_html.c — html_reduce, the HTML reducer for remote replies and the
 * blog's content, in both modes, with a budget small enough to cut.
 *
 * Input: a first byte choosing the mode and budget, then the HTML.
 */
#include "fuzz.h"

#include "buf.h"
#include "html.h"

#include <stdbool.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t budgets[] = {64, 512, 4096, 64 * 1024};
	struct buf out;
	bool visible = false, plain;
	size_t max_bytes, max_chars;
	char *html;

	if (size == 0)
		return 0;
	plain = data[0] & 1;
	max_bytes = budgets[(data[0] >> 1) & 3];
	max_chars = (data[0] & 8) ? 40 : SIZE_MAX;
	html = fuzz_cstr(data + 1, size - 1);
	buf_init(&out, max_bytes + 1);
	if (html_reduce(html, "https://blog.example/2026/post/", max_bytes, max_chars, plain, &out,
			&visible) == BB_OK &&
	    out.len > max_bytes)
		abort(); /* over the budget */
	buf_free(&out);
	free(html);
	return 0;
}
