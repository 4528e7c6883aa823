/*
 * fuzz_sanitize.c — comments_sanitize, the reduction of a reply's HTML
 * (html_reduce_reply), checked against what html.h promises of its
 * output, not only for crashes.
 *
 * Input: the reply's HTML, as raw bytes.  The output is parsed again with
 * libxml2's HTML parser and the target aborts when it holds anything the
 * sanitizer must never write: an element outside html.h's list (p br a
 * blockquote ul ol li em strong b i u del s code pre span; the parser's
 * own implied html and body aside), an attribute other than an <a>'s
 * href, rel and class or a <span>'s class (so no "on..." handler, no
 * style, no src), an href that is not http(s) or holds a control
 * character, a rel other than "nofollow noopener ugc", a class token
 * outside the reply list, a comment or other non-element node; or output
 * over COMMENT_CONTENT_MAX bytes, not valid UTF-8, or not well formed (a
 * tag left open or closed out of order).
 */
#include "fuzz.h"

#include "buf.h"
#include "comments.h"
#include "html.h"
#include "url.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdio.h>
#include <strings.h>

#define BASE "https://m.example/users/alice/statuses/1"

static const char *const allowed[] = {"p",   "br", "a",	     "blockquote", "ul",  "ol",
				      "li",  "em", "strong", "b",	   "i",	  "u",
				      "del", "s",  "code",   "pre",	   "span"};
static const char reply_classes[] = " mention hashtag h-card u-url invisible ellipsis ";

static void fail(const char *what, const char *detail, const struct buf *out)
{
	fprintf(stderr, "fuzz_sanitize: %s (%.200s) in output: %.2000s\n", what,
		detail ? detail : "", out->data ? out->data : "");
	abort();
}

static bool name_allowed(const char *name)
{
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(name, allowed[i]) == 0)
			return true;
	return false;
}

static void check_class(const char *v, const struct buf *out)
{
	for (size_t i = 0; v[i] != '\0';) {
		size_t len = strcspn(v + i, " \t\n\r\f");
		const char *w = reply_classes + 1;
		bool ok = len == 0;

		for (; *w != '\0' && !ok; w += strcspn(w, " ") + 1)
			ok = strcspn(w, " ") == len && strncmp(w, v + i, len) == 0;
		if (!ok)
			fail("class token outside the reply list", v + i, out);
		i += len;
		i += strspn(v + i, " \t\n\r\f");
	}
}

static void check_attrs(const xmlNode *n, const struct buf *out)
{
	const char *el = (const char *)n->name;

	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		const char *name = (const char *)a->name;
		xmlChar *v = xmlNodeGetContent((const xmlNode *)a);
		const char *s = v ? (const char *)v : "";

		if (strncasecmp(name, "on", 2) == 0)
			fail("event handler attribute", name, out);
		if (strcmp(el, "a") == 0 && strcmp(name, "href") == 0) {
			if (!url_is_http_str(s))
				fail("href not http(s)", s, out);
			for (const char *c = s; *c != '\0'; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					fail("control character in href", s, out);
		} else if (strcmp(el, "a") == 0 && strcmp(name, "rel") == 0) {
			if (strcmp(s, "nofollow noopener ugc") != 0)
				fail("rel", s, out);
		} else if ((strcmp(el, "a") == 0 || strcmp(el, "span") == 0) &&
			   strcmp(name, "class") == 0) {
			check_class(s, out);
		} else {
			fail("attribute outside the allow list", name, out);
		}
		xmlFree(v);
	}
}

/* Checks n and its siblings' subtrees; html and body are allowed only as
 * the parser's implied root and its child. */
static void check_tree(const xmlNode *n, const xmlNode *parent, unsigned depth,
		       const struct buf *out)
{
	for (; n != NULL; n = n->next) {
		const char *name = (const char *)n->name;

		if (n->type == XML_TEXT_NODE)
			continue;
		if (n->type != XML_ELEMENT_NODE)
			fail("a node that is not an element or text", name, out);
		if (depth > 300)
			fail("nesting deeper than libxml2 parses", name, out);
		if (strcmp(name, "html") == 0) {
			if (parent != NULL)
				fail("html below the root", NULL, out);
		} else if (strcmp(name, "body") == 0) {
			if (parent == NULL || strcmp((const char *)parent->name, "html") != 0)
				fail("body outside html", NULL, out);
		} else if (!name_allowed(name)) {
			fail("element outside the allow list", name, out);
		}
		if (strcmp(name, "html") == 0 || strcmp(name, "body") == 0) {
			if (n->properties != NULL)
				fail("attribute on an implied element", name, out);
		} else {
			check_attrs(n, out);
		}
		check_tree(n->children, n, depth + 1, out);
	}
}

static void check_utf8(const struct buf *out)
{
	uint32_t cp;

	for (size_t i = 0; i < out->len;) {
		size_t len = html_utf8_decode(out->data + i, out->len - i, &cp);
		if (len == 0)
			fail("invalid UTF-8", out->data + i, out);
		i += len;
	}
}

/* Every tag the sanitizer opens is closed, in order (html.h: "well
 * formed"); text and attribute values carry no raw '<', so each one
 * starts a tag. */
static void check_balanced(const struct buf *out)
{
	const char *stack[2 * HTML_DEPTH_MAX + 2];
	size_t lens[2 * HTML_DEPTH_MAX + 2], n = 0;
	const char *end = out->data + out->len;

	for (const char *at = out->data; (at = memchr(at, '<', (size_t)(end - at))) != NULL; at++) {
		bool close = at + 1 < end && at[1] == '/';
		const char *name = at + 1 + close;
		size_t len = 0;

		while (name + len < end && ((name[len] >= 'a' && name[len] <= 'z') ||
					    (name[len] >= '0' && name[len] <= '9')))
			len++;
		if (len == 0)
			fail("a '<' that starts no tag", at, out);
		if (len == 2 && strncmp(name, "br", 2) == 0) {
			if (close)
				fail("</br>", at, out);
		} else if (!close) {
			if (n == sizeof(stack) / sizeof(stack[0]))
				fail("tags nested deeper than HTML_DEPTH_MAX", at, out);
			stack[n] = name;
			lens[n++] = len;
		} else if (n == 0 || lens[n - 1] != len || strncmp(stack[n - 1], name, len) != 0) {
			fail("a close tag that closes no open one", at, out);
		} else {
			n--;
		}
	}
	if (n != 0)
		fail("an element left open", stack[n - 1], out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *html = fuzz_cstr(data, size);
	struct buf out;
	htmlDocPtr doc;

	buf_init(&out, COMMENT_CONTENT_MAX + 1);
	if (comments_sanitize(html, BASE, &out) != BB_OK)
		fail("comments_sanitize failed", NULL, &out);
	if (out.len > COMMENT_CONTENT_MAX)
		fail("over COMMENT_CONTENT_MAX", NULL, &out);
	if (out.len > 0) {
		check_utf8(&out);
		check_balanced(&out);
		if (memchr(out.data, '\0', out.len) != NULL)
			fail("NUL byte", NULL, &out);
		doc = htmlReadMemory(out.data, (int)out.len, NULL, "UTF-8",
				     HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
					 HTML_PARSE_NODEFDTD);
		if (doc == NULL)
			fail("output libxml2 cannot read", NULL, &out);
		check_tree(doc->children, NULL, 0, &out);
		xmlFreeDoc(doc);
	}
	buf_free(&out);
	free(html);
	return 0;
}
