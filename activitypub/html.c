/*
 * html.c — see html.h.  The reduction parses with libxml2's HTML parser and
 * walks the tree once, without recursion, writing only the kept elements.
 * Text is escaped and otherwise copied byte for byte (invalid UTF-8 becomes
 * U+FFFD, since libxml2 2.9 passes it through and JSON cannot carry it).
 * Inline content at the top level or in a blockquote is wrapped in a <p>,
 * so unwrapped <div>s keep their paragraphs apart; blocks that end up empty
 * (a <p> that held only an image) are dropped.  Two budgets stop the walk
 * cleanly: bytes (the content cap) and characters (excerpts, cut at a word
 * boundary with "…"); the open elements are then closed, so the result
 * stays well formed.
 */
#include "html.h"
#include "url.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HREF_MAX 2048
#define ELLIPSIS "\xE2\x80\xA6"
#define REPLACEMENT "\xEF\xBF\xBD"

#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlErrorPtr xml_error_arg;
#endif

/* ---- UTF-8 and escaping ---- */

/* The length of the valid UTF-8 sequence at s (n bytes available) and its
 * code point, or 0 when the bytes there are not valid UTF-8. */
size_t html_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len;
	uint32_t c;

	if (n == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xC2 && u[0] <= 0xDF)
		len = 2, c = u[0] & 0x1F;
	else if ((u[0] & 0xF0) == 0xE0)
		len = 3, c = u[0] & 0x0F;
	else if (u[0] >= 0xF0 && u[0] <= 0xF4)
		len = 4, c = u[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (u[i] & 0x3F);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

/* Appends s[0..n) with & < > (and " when attr) escaped, invalid UTF-8
 * replaced by U+FFFD, and at most max_chars characters ("…" after a cut). */
enum bb_rc html_escape_cut(struct buf *b, const char *s, size_t n, bool attr, size_t max_chars)
{
	size_t i = 0, run = 0, chars = 0;
	enum bb_rc rc = BB_OK;

	while (i < n && rc == BB_OK) {
		const char *rep = NULL;
		uint32_t cp;
		size_t len = html_utf8_decode(s + i, n - i, &cp);

		if (chars++ == max_chars) {
			rc = buf_append(b, s + run, i - run);
			run = n;
			if (rc == BB_OK)
				rc = buf_puts(b, ELLIPSIS);
			break;
		}
		if (len == 0)
			rep = REPLACEMENT, len = 1;
		else if (s[i] == '&')
			rep = "&amp;";
		else if (s[i] == '<')
			rep = "&lt;";
		else if (s[i] == '>')
			rep = "&gt;";
		else if (s[i] == '"' && attr)
			rep = "&quot;";
		if (rep != NULL) {
			rc = buf_append(b, s + run, i - run);
			if (rc == BB_OK)
				rc = buf_puts(b, rep);
			run = i + len;
		}
		i += len;
	}
	if (rc == BB_OK && run < n)
		rc = buf_append(b, s + run, n - run);
	return rc;
}

enum bb_rc html_escape(struct buf *b, const char *s, bool attr)
{
	return html_escape_cut(b, s, strlen(s), attr, SIZE_MAX);
}

/* The byte length of the whitespace character at s (ASCII or U+00A0), or 0. */
static size_t space_len(const char *s, size_t n)
{
	if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f')
		return 1;
	if (n >= 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
		return 2;
	return 0;
}

/* ---- HTML reduction ---- */

enum el_kind {
	EL_UNWRAP,  /* unknown or inline: the text is kept */
	EL_SECTION, /* unwrapped, but a block boundary (div, table cell, ...) */
	EL_DROP,    /* removed with its content */
	EL_BR,
	EL_INLINE, /* kept: em strong ... */
	EL_A,
	EL_SPAN,
	EL_P,
	EL_HEADING,
	EL_QUOTE,
	EL_LIST,
	EL_ITEM,
	EL_PRE,
};

static const struct el_rule {
	const char *name;
	enum el_kind kind;
	const char *open, *close;
} el_rules[] = {
    {"a", EL_A, NULL, "</a>"},
    {"b", EL_INLINE, "<b>", "</b>"},
    {"blockquote", EL_QUOTE, "<blockquote>", "</blockquote>"},
    {"br", EL_BR, NULL, NULL},
    {"code", EL_INLINE, "<code>", "</code>"},
    {"del", EL_INLINE, "<del>", "</del>"},
    {"em", EL_INLINE, "<em>", "</em>"},
    {"h1", EL_HEADING, "<p><strong>", "</strong></p>"},
    {"h2", EL_HEADING, "<p><strong>", "</strong></p>"},
    {"h3", EL_HEADING, "<p><strong>", "</strong></p>"},
    {"h4", EL_HEADING, "<p><strong>", "</strong></p>"},
    {"h5", EL_HEADING, "<p><strong>", "</strong></p>"},
    {"h6", EL_HEADING, "<p><strong>", "</strong></p>"},
    {"i", EL_INLINE, "<i>", "</i>"},
    {"kbd", EL_INLINE, "<code>", "</code>"},
    {"li", EL_ITEM, "<li>", "</li>"},
    {"ol", EL_LIST, "<ol>", "</ol>"},
    {"p", EL_P, "<p>", "</p>"},
    {"pre", EL_PRE, "<pre>", "</pre>"},
    {"s", EL_INLINE, "<s>", "</s>"},
    {"span", EL_SPAN, NULL, "</span>"},
    {"strike", EL_INLINE, "<s>", "</s>"},
    {"strong", EL_INLINE, "<strong>", "</strong>"},
    {"tt", EL_INLINE, "<code>", "</code>"},
    {"u", EL_INLINE, "<u>", "</u>"},
    {"ul", EL_LIST, "<ul>", "</ul>"},
};

/* Removed with their content: images become attachments; the rest is code,
 * styling, embedded players, forms and document metadata. */
static const char drop_names[] = " applet audio button canvas embed form frameset head iframe img"
				 " input map math noscript object picture script select style svg"
				 " template textarea title video ";
/* Unwrapped block containers: their ends still separate paragraphs. */
static const char section_names[] = " address article aside body caption center dd details div dl"
				    " dt figcaption figure footer header hr html main nav section"
				    " summary table td th tr ";

static const struct el_rule *el_rule(const xmlNode *n)
{
	static const struct el_rule drop = {"", EL_DROP, NULL, NULL},
				    section = {"", EL_SECTION, NULL, NULL},
				    unwrap = {"", EL_UNWRAP, NULL, NULL};
	const char *name = (const char *)n->name, *at;
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(el_rules) / sizeof(el_rules[0]); i++)
		if (strcmp(name, el_rules[i].name) == 0)
			return &el_rules[i];
	if (len == 0 || strchr(name, ' ') != NULL)
		return &unwrap;
	for (at = drop_names; (at = strstr(at + 1, name)) != NULL;)
		if (at[-1] == ' ' && at[len] == ' ')
			return &drop;
	for (at = section_names; (at = strstr(at + 1, name)) != NULL;)
		if (at[-1] == ' ' && at[len] == ' ')
			return &section;
	return &unwrap;
}

static bool is_block(enum el_kind k)
{
	return k == EL_SECTION || k >= EL_P;
}

/* Where the walk is: what the innermost kept element accepts. */
enum ctx {
	CTX_FLOW,   /* top level, blockquote: blocks; inline content gets a <p> */
	CTX_LIST,   /* ul, ol: items (and stray blocks) */
	CTX_ITEM,   /* li: blocks and inline content */
	CTX_INLINE, /* p, headings, inline elements: no blocks */
	CTX_PRE,    /* pre: no blocks, and spaces are kept as they are */
};

struct open_el {
	const xmlNode *node; /* NULL for a <p> the walk added */
	const char *close;
	enum ctx ctx;
	bool block; /* dropped when it holds no visible text */
	bool link;
	size_t mark;	   /* output length before the open tag */
	size_t inner;	   /* output length after it */
	unsigned long vis; /* visible characters written before it */
};

struct reducer {
	struct buf *out;
	const char *base;  /* the post URL, for links relative to the host */
	size_t soft;	   /* output stops before passing this many bytes */
	size_t chars_left; /* text budget, in characters */
	bool plain;	   /* text only: blocks become spaces */
	bool reply;	   /* a reply's HTML: links get rel, more classes kept */
	bool full;	   /* a budget ran out: the walk stops */
	bool pending_br;   /* a block ended inside inline content */
	bool pending_space;
	unsigned long vis; /* visible (non-blank) characters written */
	struct open_el st[HTML_DEPTH_MAX];
	size_t n;
};

static enum ctx cur_ctx(const struct reducer *r)
{
	return r->n ? r->st[r->n - 1].ctx : CTX_FLOW;
}

static bool in_inline(const struct reducer *r)
{
	return cur_ctx(r) == CTX_INLINE || cur_ctx(r) == CTX_PRE;
}

static void truncate_to(struct reducer *r, size_t len)
{
	r->out->len = len;
	if (r->out->data)
		r->out->data[len] = '\0';
}

/* The byte budget ran out writing from mark on: the innermost block goes
 * whole (the output ends with complete paragraphs, list items...), unless
 * nothing showed before it; then only the write is undone.  The walk stops. */
static void overflow(struct reducer *r, size_t mark)
{
	size_t i = r->n;

	while (i > 0 && !r->st[i - 1].block)
		i--;
	if (i > 0 && r->st[i - 1].vis > 0) {
		mark = r->st[i - 1].mark;
		r->n = i - 1;
	}
	truncate_to(r, mark);
	r->full = true;
}

/* Ends a write that began at mark, undoing it past the byte budget. */
static enum bb_rc settle(struct reducer *r, size_t mark, enum bb_rc rc)
{
	if (rc == BB_ERR_LIMIT || (rc == BB_OK && r->out->len > r->soft)) {
		overflow(r, mark);
		return BB_OK;
	}
	return rc;
}

/* Records an element whose open tag was written from mark on. */
static void push(struct reducer *r, const xmlNode *node, size_t mark, const char *close,
		 enum ctx ctx, bool block, bool link)
{
	r->st[r->n++] = (struct open_el){node, close, ctx, block, link, mark, r->out->len, r->vis};
	r->pending_br = false;
}

static enum bb_rc push_tag(struct reducer *r, const xmlNode *node, const char *open,
			   const char *close, enum ctx ctx, bool block)
{
	size_t mark = r->out->len;
	enum bb_rc rc;

	if (r->n == HTML_DEPTH_MAX)
		return BB_OK; /* too deep: unwrapped */
	rc = settle(r, mark, buf_puts(r->out, open));
	if (rc == BB_OK && !r->full)
		push(r, node, mark, close, ctx, block, false);
	return rc;
}

/* Closes the innermost element; an empty one is taken back out, and
 * spaces before the end of a block go. */
static enum bb_rc pop(struct reducer *r)
{
	struct open_el *e = &r->st[--r->n];

	r->pending_br = false;
	while (e->block && e->ctx != CTX_PRE && r->out->len > e->inner &&
	       strchr(" \t\n\r\f", r->out->data[r->out->len - 1]) != NULL)
		truncate_to(r, r->out->len - 1);
	if ((e->block && r->vis == e->vis) || r->out->len == e->inner) {
		truncate_to(r, e->mark);
		return BB_OK;
	}
	return buf_puts(r->out, e->close); /* within HTML_CLOSE_RESERVE */
}

/* Before inline content: a <p> where only blocks may stand, or the <br>
 * owed to a block that ended. */
static enum bb_rc inline_ready(struct reducer *r)
{
	size_t mark = r->out->len;

	if (cur_ctx(r) == CTX_FLOW)
		return push_tag(r, NULL, "<p>", "</p>", CTX_INLINE, true);
	if (!r->pending_br)
		return BB_OK;
	r->pending_br = false;
	return settle(r, mark, buf_puts(r->out, "<br>"));
}

/* A block starts or ends: a <p> the walk added ends; inside inline content
 * that already shows text, a <br> will separate what follows. */
static enum bb_rc boundary(struct reducer *r)
{
	enum ctx ctx = cur_ctx(r);

	if (r->plain) {
		r->pending_space = true;
		return BB_OK;
	}
	if (r->n && r->st[r->n - 1].node == NULL)
		return pop(r);
	if ((ctx == CTX_INLINE || ctx == CTX_PRE || ctx == CTX_ITEM) &&
	    r->vis != r->st[r->n - 1].vis)
		r->pending_br = true;
	return BB_OK;
}

/* The longest prefix of s[0..n) within the character budget and bytes
 * (escaped); its character count in *chars. */
static size_t text_fit(const struct reducer *r, const char *s, size_t n, size_t bytes,
		       size_t *chars)
{
	size_t i = 0, c = 0, esc = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = html_utf8_decode(s + i, n - i, &cp), w;

		if (len == 0)
			len = 1, w = 3;
		else
			w = s[i] == '&' ? 5 : (s[i] == '<' || s[i] == '>') ? 4 : len;
		if (c + 1 > r->chars_left || esc + w > bytes)
			break;
		c++, esc += w, i += len;
	}
	*chars = c;
	return i;
}

static size_t count_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

/* Writes s[0..n), or as much as the character budget allows, cut at the
 * last space before the limit and ended with "…".  Past the byte budget,
 * the cut is at an element boundary when there is one. */
static enum bb_rc text_put(struct reducer *r, const char *s, size_t n, bool visible)
{
	size_t mark = r->out->len, avail, chars, fit, cut = 0, i = r->n;
	enum bb_rc rc;

	avail = r->soft > mark + 3 ? r->soft - mark - 3 : 0;
	fit = text_fit(r, s, n, avail, &chars);
	while (i > 0 && !r->st[i - 1].block)
		i--;
	if (fit < n && chars < r->chars_left && i > 0 && r->st[i - 1].vis > 0) {
		overflow(r, mark);
		return BB_OK;
	}
	if (fit < n) {
		for (size_t k = 0, sl; k <= fit && k < n; k += sl ? sl : 1)
			if ((sl = space_len(s + k, n - k)) != 0)
				cut = k;
		while (cut > 0 && space_len(s + cut - 1, 1))
			cut--;
		if (cut == 0 && r->vis == 0)
			cut = fit; /* one long word: cut inside it */
		chars = count_chars(s, cut);
		r->full = true;
	} else {
		cut = n;
	}
	rc = html_escape_cut(r->out, s, cut, false, SIZE_MAX);
	if (rc == BB_OK && cut < n)
		rc = buf_puts(r->out, ELLIPSIS);
	r->chars_left -= chars;
	if (visible)
		r->vis += chars + (cut < n);
	if (rc == BB_ERR_LIMIT)
		return settle(r, mark, rc);
	return rc;
}

/* Plain mode: words separated by single spaces. */
static enum bb_rc text_plain(struct reducer *r, const char *s, size_t n)
{
	size_t i = 0, sl, start;
	enum bb_rc rc = BB_OK;

	while (i < n && rc == BB_OK && !r->full) {
		while (i < n && (sl = space_len(s + i, n - i)) != 0)
			i += sl, r->pending_space = true;
		for (start = i; i < n && space_len(s + i, n - i) == 0; i++)
			;
		if (i == start)
			break;
		if (r->pending_space && r->vis > 0) {
			if (r->chars_left < 2) {
				r->full = true;
				return buf_puts(r->out, ELLIPSIS);
			}
			rc = text_put(r, " ", 1, true);
		}
		r->pending_space = false;
		if (rc == BB_OK && !r->full)
			rc = text_put(r, s + start, i - start, true);
	}
	return rc;
}

static enum bb_rc text(struct reducer *r, const char *s)
{
	const struct open_el *top = r->n ? &r->st[r->n - 1] : NULL;
	size_t n, i, sl;
	enum bb_rc rc;

	if (r->plain)
		return text_plain(r, s, strlen(s));
	if (top && top->block && top->ctx != CTX_PRE && r->out->len == top->inner)
		s += strspn(s, " \t\n\r\f"); /* spaces after a block's start */
	n = strlen(s);
	for (i = 0; i < n && (sl = space_len(s + i, n - i)) != 0; i += sl)
		;
	if (i == n) { /* blank: kept inside inline content only */
		enum ctx ctx = cur_ctx(r);
		return ctx == CTX_FLOW || ctx == CTX_LIST ? BB_OK : text_put(r, s, n, false);
	}
	rc = inline_ready(r);
	if (rc != BB_OK || r->full)
		return rc;
	return text_put(r, s, n, true);
}

/* The value of attribute name, borrowed from the tree, or NULL. */
static const char *attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (strcasecmp((const char *)a->name, name) == 0 && a->children != NULL &&
		    a->children->type == XML_TEXT_NODE && a->children->next == NULL)
			return (const char *)a->children->content;
	return NULL;
}

/* Resolves href to an absolute http(s) URL in out (url_resolve: scheme in
 * lower case, dot segments removed, the host as written): absolute ones,
 * "//host/..." and "/path" against the post's URL; false for anything else
 * (javascript:, data:, path-relative refs, control characters, URLs curl
 * would not request). */
static bool link_target(const char *base, const char *href, char *out, size_t outlen)
{
	char ref[HREF_MAX], *abs = NULL;
	size_t len;
	bool ok = false;

	while (*href == ' ' || *href == '\t' || *href == '\n' || *href == '\r' || *href == '\f')
		href++;
	len = strlen(href);
	while (len > 0 && strchr(" \t\n\r\f", href[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(ref))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)href[i] < 0x20 || href[i] == 0x7f)
			return false;
	memcpy(ref, href, len);
	ref[len] = '\0';
	if (!url_is_http_str(ref) && (ref[0] != '/' || base == NULL || !url_is_http_str(base)))
		return false;
	if (url_resolve(url_is_http_str(ref) ? NULL : base, ref, &abs, NULL) != BB_OK)
		return false;
	len = strlen(abs);
	if (url_is_http_str(abs) && len < outlen) {
		memcpy(out, abs, len + 1);
		ok = true;
	}
	free(abs);
	return ok;
}

/* The class tokens kept: from a blog's HTML those Mastodon keeps; from a
 * reply's, also those of Mastodon's own mention and link markup
 * (MASTODON.md §7.2), so a blog can style them. */
static const char blog_classes[] = " mention hashtag ";
static const char reply_classes[] = " mention hashtag h-card u-url invisible ellipsis ";

/* Whether the token s[0..len) is one of list's words (list starts and
 * ends with a space, one between words). */
static bool word_in(const char *list, const char *s, size_t len)
{
	for (const char *w = list + 1; *w != '\0'; w += strcspn(w, " ") + 1)
		if (strcspn(w, " ") == len && strncmp(w, s, len) == 0)
			return true;
	return false;
}

static enum bb_rc class_put(struct buf *b, const xmlNode *n, bool reply)
{
	const char *cls = attr(n, "class"), *sep = " class=\"";
	const char *keep = reply ? reply_classes : blog_classes;
	enum bb_rc rc = BB_OK;

	for (size_t i = 0; cls != NULL && cls[i] != '\0' && rc == BB_OK;) {
		size_t len = strcspn(cls + i, " \t\n\r\f");
		if (len > 0 && word_in(keep, cls + i, len)) {
			rc = buf_puts(b, sep);
			if (rc == BB_OK)
				rc = buf_append(b, cls + i, len);
			sep = " ";
		}
		i += len;
		i += strspn(cls + i, " \t\n\r\f");
	}
	if (rc == BB_OK && sep[0] == ' ' && sep[1] == '\0')
		rc = buf_puts(b, "\"");
	return rc;
}

static enum bb_rc open_inline(struct reducer *r, const xmlNode *n, const struct el_rule *rule)
{
	char href[HREF_MAX];
	size_t mark;
	enum bb_rc rc;

	if (rule->kind == EL_A) {
		for (size_t i = 0; i < r->n; i++)
			if (r->st[i].link)
				return BB_OK; /* a link in a link: unwrapped */
		if (attr(n, "href") == NULL ||
		    !link_target(r->base, attr(n, "href"), href, sizeof(href)))
			return BB_OK;
	}
	rc = inline_ready(r);
	if (rc != BB_OK || r->full || r->n == HTML_DEPTH_MAX)
		return rc;
	mark = r->out->len;
	if (rule->kind == EL_INLINE) {
		rc = buf_puts(r->out, rule->open);
	} else {
		rc = buf_puts(r->out, rule->kind == EL_A ? "<a href=\"" : "<span");
		if (rc == BB_OK && rule->kind == EL_A)
			rc = html_escape(r->out, href, true);
		if (rc == BB_OK && rule->kind == EL_A)
			rc = buf_puts(r->out, r->reply ? "\" rel=\"nofollow noopener ugc\"" : "\"");
		if (rc == BB_OK)
			rc = class_put(r->out, n, r->reply);
		if (rc == BB_OK)
			rc = buf_puts(r->out, ">");
	}
	rc = settle(r, mark, rc);
	if (rc == BB_OK && !r->full)
		push(r, n, mark, rule->close, CTX_INLINE, false, rule->kind == EL_A);
	return rc;
}

static enum bb_rc open_block(struct reducer *r, const xmlNode *n, const struct el_rule *rule)
{
	enum bb_rc rc = boundary(r);
	enum ctx inner;

	/* A block inside inline content ends it, as a browser ends a <p>
	 * ("<p><em>a<ul>": the list follows the paragraph, not inside it). */
	while (rc == BB_OK && in_inline(r))
		rc = pop(r);
	if (rc != BB_OK)
		return rc;
	if (rule->kind == EL_ITEM && cur_ctx(r) != CTX_LIST)
		return BB_OK; /* a stray <li>: unwrapped */
	inner = rule->kind == EL_QUOTE	? CTX_FLOW
		: rule->kind == EL_LIST ? CTX_LIST
		: rule->kind == EL_ITEM ? CTX_ITEM
		: rule->kind == EL_PRE	? CTX_PRE
					: CTX_INLINE;
	return push_tag(r, n, rule->open, rule->close, inner, true);
}

/* Whether alt is a custom emoji's ":shortcode:" (FEP-9098; Mastodon's
 * shortcodes are [a-zA-Z0-9_]{2,}, Misskey's also take + and -): such an
 * <img> in a reply becomes its text. */
static bool emoji_alt(const char *alt)
{
	size_t len = alt ? strlen(alt) : 0;

	if (len < 3 || len > 102 || alt[0] != ':' || alt[len - 1] != ':')
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!((alt[i] >= 'a' && alt[i] <= 'z') || (alt[i] >= 'A' && alt[i] <= 'Z') ||
		      (alt[i] >= '0' && alt[i] <= '9') || alt[i] == '_' || alt[i] == '+' ||
		      alt[i] == '-'))
			return false;
	return true;
}

/* Starts node n; *down when its children are to be walked. */
static enum bb_rc enter(struct reducer *r, const xmlNode *n, bool *down)
{
	const struct el_rule *rule;

	*down = false;
	if (n->type == XML_TEXT_NODE)
		return text(r, (const char *)n->content);
	if (n->type != XML_ELEMENT_NODE) /* comments, CDATA (script), DTD */
		return BB_OK;
	rule = el_rule(n);
	*down = rule->kind != EL_DROP && rule->kind != EL_BR;
	if (r->reply && strcmp((const char *)n->name, "img") == 0 && emoji_alt(attr(n, "alt")))
		return text(r, attr(n, "alt"));
	if (r->plain) {
		if (is_block(rule->kind) || rule->kind == EL_BR)
			r->pending_space = true;
		return BB_OK;
	}
	switch (rule->kind) {
	case EL_DROP: return BB_OK;
	case EL_UNWRAP: return BB_OK;
	case EL_SECTION: return boundary(r);
	case EL_BR:
		if (cur_ctx(r) == CTX_FLOW || cur_ctx(r) == CTX_LIST)
			return BB_OK;
		r->pending_br = false;
		return settle(r, r->out->len, buf_puts(r->out, "<br>"));
	case EL_INLINE:
	case EL_A:
	case EL_SPAN: return open_inline(r, n, rule);
	default: return open_block(r, n, rule);
	}
}

/* Ends node n, whose children were walked. */
static enum bb_rc leave(struct reducer *r, const xmlNode *n)
{
	enum el_kind kind = el_rule(n)->kind;
	bool closed_block = false;
	enum bb_rc rc = BB_OK;
	size_t i;

	if (r->plain) {
		if (is_block(kind))
			r->pending_space = true;
		return BB_OK;
	}
	for (i = r->n; i > 0 && r->st[i - 1].node != n; i--)
		;
	if (i > 0) {
		closed_block = r->st[i - 1].block;
		while (rc == BB_OK && r->n >= i)
			rc = pop(r);
	}
	if (rc == BB_OK && is_block(kind) && !closed_block)
		rc = boundary(r);
	return rc;
}

/* Walks the tree in document order, without recursion. */
static enum bb_rc walk(struct reducer *r, xmlDoc *doc)
{
	xmlNode *n = doc->children;
	enum bb_rc rc = BB_OK;
	bool down;

	while (n != NULL && rc == BB_OK && !r->full) {
		rc = enter(r, n, &down);
		if (rc == BB_OK && down && n->children != NULL) {
			n = n->children;
			continue;
		}
		if (rc == BB_OK && down)
			rc = leave(r, n);
		while (rc == BB_OK && n != NULL && n->next == NULL) {
			n = n->parent;
			if (n == NULL || n == (xmlNode *)doc)
				n = NULL;
			else
				rc = leave(r, n);
		}
		if (n != NULL)
			n = n->next;
	}
	while (rc == BB_OK && r->n > 0)
		rc = pop(r);
	return rc;
}

static pthread_once_t html_once = PTHREAD_ONCE_INIT;

static void html_init(void)
{
	xmlInitParser(); /* once, before threads parse at the same time */
}

static void quiet_error(void *arg, xml_error_arg err)
{
	(void)arg;
	(void)err;
}

static void quiet_generic(void *arg, const char *fmt, ...)
{
	(void)arg;
	(void)fmt;
}

/* Appends html reduced to out (at most max_bytes bytes, and max_chars
 * characters of text); plain: text only, escaped; reply: a reply's rules.
 * *visible tells whether any text showed.  Quiet: the parser's complaints
 * about the HTML go nowhere (this thread's handlers are put back
 * afterwards). */
static enum bb_rc reduce(const char *html, const char *base, size_t max_bytes, size_t max_chars,
			 bool plain, bool reply, struct buf *out, bool *visible)
{
	xmlStructuredErrorFunc old_serror = xmlStructuredError;
	xmlGenericErrorFunc old_generic = xmlGenericError;
	void *old_sctx = xmlStructuredErrorContext, *old_gctx = xmlGenericErrorContext;
	struct reducer *r = NULL;
	htmlDocPtr doc = NULL;
	size_t len = html ? strlen(html) : 0;
	enum bb_rc rc = BB_OK;

	*visible = false;
	if (len == 0 || max_bytes <= HTML_CLOSE_RESERVE)
		return BB_OK;
	if (len > HTML_INPUT_MAX)
		len = HTML_INPUT_MAX;
	pthread_once(&html_once, html_init);
	xmlSetStructuredErrorFunc(NULL, quiet_error);
	xmlSetGenericErrorFunc(NULL, quiet_generic);
	/* No HTML_PARSE_NOIMPLIED: with it, libxml2 2.9 nests every later
	 * top-level element inside the first one. */
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
			     HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	if (doc == NULL)
		goto out; /* nothing libxml2 could read: no text */
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		rc = BB_ERR_NOMEM;
		goto out;
	}
	r->out = out;
	r->base = base;
	r->soft = out->len + max_bytes - HTML_CLOSE_RESERVE;
	r->chars_left = max_chars;
	r->plain = plain;
	r->reply = reply;
	rc = walk(r, doc);
	*visible = r->vis > 0;
out:
	free(r);
	if (doc != NULL)
		xmlFreeDoc(doc);
	xmlSetStructuredErrorFunc(old_sctx, old_serror);
	xmlSetGenericErrorFunc(old_gctx, old_generic);
	return rc;
}

enum bb_rc html_reduce(const char *html, const char *base, size_t max_bytes, size_t max_chars,
		       bool plain, struct buf *out, bool *visible)
{
	return reduce(html, base, max_bytes, max_chars, plain, false, out, visible);
}

enum bb_rc html_reduce_reply(const char *html, const char *base, size_t max_bytes,
			     struct buf *out, bool *visible)
{
	return reduce(html, base, max_bytes, SIZE_MAX, false, true, out, visible);
}
