/*
 * object.c — see object.h.  A post becomes a Note or an Article in three
 * steps: its HTML is reduced to what Mastodon keeps (MASTODON.md §6.3, the
 * MASTODON_STRICT config in lib/sanitize_ext/sanitize_config.rb), its
 * categories become Hashtags (§6.4, app/models/tag.rb), and jansson
 * assembles the fields (§6.7).
 *
 * The reduction parses with libxml2's HTML parser and walks the tree once,
 * without recursion, writing only the kept elements.  Text is escaped and
 * otherwise copied byte for byte (invalid UTF-8 becomes U+FFFD, since
 * libxml2 2.9 passes it through and JSON cannot carry it).  Inline content
 * at the top level or in a blockquote is wrapped in a <p>, so unwrapped
 * <div>s keep their paragraphs apart; blocks that end up empty (a <p> that
 * held only an image) are dropped.  Two budgets stop the walk cleanly: bytes
 * (the content cap) and characters (excerpts, cut at a word boundary with
 * "…"); the open elements are then closed, so the result stays well formed.
 *
 * Choices: the contentMap key is the primary language subtag, lower-cased
 * ("fr-FR" → "fr"), the ISO 639 code Mastodon stores (it has no "fr-FR"
 * language) and other software expects.  An Article's `name` is the title
 * HTML-escaped, because Mastodon inserts it into HTML raw (§6.3).  The
 * activity takes the object's @context and the embedded object drops its
 * own, as in §6.7.
 */
#include "object.h"
#include "render.h"
#include "buf.h"
#include "timeutil.h"

#include <ctype.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTML_INPUT_MAX (4 * 1024 * 1024)	 /* longer HTML is parsed up to here */
#define HTML_DEPTH_MAX 64			 /* kept elements nested deeper are unwrapped */
#define HTML_CLOSE_RESERVE (HTML_DEPTH_MAX * 16) /* room to close them all */
#define HREF_MAX 2048
#define TAG_HREF_MAX 1024
#define TITLE_CHARS 300
#define ALT_CHARS 10000 /* what Mastodon keeps of a remote description */
#define TEASER_BYTES (OBJECT_EXCERPT_CHARS * 8 + 64)
#define JSON_STRING_MAX (1024 * 1024)
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
static size_t utf8_decode(const char *s, size_t n, uint32_t *cp)
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
static enum bb_rc escape_cut(struct buf *b, const char *s, size_t n, bool attr, size_t max_chars)
{
	size_t i = 0, run = 0, chars = 0;
	enum bb_rc rc = BB_OK;

	while (i < n && rc == BB_OK) {
		const char *rep = NULL;
		uint32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);

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

static enum bb_rc escape(struct buf *b, const char *s, bool attr)
{
	return escape_cut(b, s, strlen(s), attr, SIZE_MAX);
}

/* A JSON string of s (at most max_chars characters, invalid UTF-8
 * replaced), or NULL when out of memory. */
static json_t *jstr_cut(const char *s, size_t max_chars)
{
	struct buf b;
	json_t *j = NULL;
	size_t i = 0, n = strlen(s), chars = 0;
	enum bb_rc rc = BB_OK;

	buf_init(&b, JSON_STRING_MAX);
	while (i < n && chars++ < max_chars && rc == BB_OK) {
		uint32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);

		rc = len ? buf_append(&b, s + i, len) : buf_puts(&b, REPLACEMENT);
		i += len ? len : 1;
	}
	if (rc == BB_OK)
		j = json_stringn(b.data ? b.data : "", b.len);
	buf_free(&b);
	return j;
}

static json_t *jstr(const char *s)
{
	return jstr_cut(s, SIZE_MAX);
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

static bool is_http(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
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
		size_t len = utf8_decode(s + i, n - i, &cp), w;

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
	rc = escape_cut(r->out, s, cut, false, SIZE_MAX);
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

/* Resolves href to an absolute http(s) URL in out: absolute ones as they
 * are, "//host/..." and "/path" against the post's URL; false for anything
 * else (javascript:, data:, relative paths, control characters). */
static bool link_target(const char *base, const char *href, char *out, size_t outlen)
{
	const char *host;
	size_t len, blen = 0;

	while (*href == ' ' || *href == '\t' || *href == '\n' || *href == '\r' || *href == '\f')
		href++;
	len = strlen(href);
	while (len > 0 && strchr(" \t\n\r\f", href[len - 1]))
		len--;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)href[i] < 0x20 || href[i] == 0x7f)
			return false;
	if (!is_http(href)) {
		if (href[0] != '/' || base == NULL || !is_http(base))
			return false;
		host = strstr(base, "://") + 3;
		blen = href[1] == '/' ? (size_t)(host - 2 - base)
				      : (size_t)(host - base) + strcspn(host, "/?#");
	}
	if (len == 0 || blen + len >= outlen)
		return false;
	if (blen > 0)
		memcpy(out, base, blen);
	memcpy(out + blen, href, len);
	out[blen + len] = '\0';
	for (char *c = out; *c != '\0' && *c != ':'; c++) /* the scheme in lower case */
		*c = (char)tolower((unsigned char)*c);
	return true;
}

/* The class tokens Mastodon keeps that a blog's HTML may carry. */
static enum bb_rc class_put(struct buf *b, const xmlNode *n)
{
	const char *cls = attr(n, "class"), *sep = " class=\"";
	enum bb_rc rc = BB_OK;

	for (size_t i = 0; cls != NULL && cls[i] != '\0' && rc == BB_OK;) {
		size_t len = strcspn(cls + i, " \t\n\r\f");
		if ((len == 7 && strncmp(cls + i, "mention", 7) == 0) ||
		    (len == 7 && strncmp(cls + i, "hashtag", 7) == 0)) {
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
			rc = escape(r->out, href, true);
		if (rc == BB_OK && rule->kind == EL_A)
			rc = buf_puts(r->out, "\"");
		if (rc == BB_OK)
			rc = class_put(r->out, n);
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
 * characters of text); plain: text only, escaped.  *visible tells whether
 * any text showed.  Quiet: the parser's complaints about the blog's HTML
 * go nowhere (this thread's handlers are put back afterwards). */
static enum bb_rc html_reduce(const char *html, const char *base, size_t max_bytes,
			      size_t max_chars, bool plain, struct buf *out, bool *visible)
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

/* ---- hashtags ---- */

enum ht_class { HT_KEEP, HT_SEP, HT_DROP };

/* How a code point fares in a hashtag name: ASCII letters, digits and '_'
 * stay, spaces, '-' and '/' separate words, other ASCII punctuation goes;
 * beyond ASCII, the common spaces and dashes separate, quotes, other
 * punctuation and symbols (emoji) go, the rest (letters, digits and marks of
 * every script) stays. */
static enum ht_class ht_class(uint32_t c)
{
	if (c < 0x80) {
		if (isalnum((int)c) || c == '_')
			return HT_KEEP;
		return c == ' ' || c == '-' || c == '/' || (c >= '\t' && c <= '\r') ? HT_SEP
										    : HT_DROP;
	}
	if (c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
	    c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 ||
	    (c >= 0x2010 && c <= 0x2015) || c == 0x2212)
		return HT_SEP;
	if ((c < 0xC0 && c != 0xAA && c != 0xB5 && c != 0xBA) || c == 0xD7 || c == 0xF7 ||
	    c == 0x200B || (c >= 0x2016 && c <= 0x206F) || (c >= 0x2190 && c <= 0x2BFF) ||
	    (c >= 0x3001 && c <= 0x3003) || (c >= 0x3008 && c <= 0x3011) ||
	    (c >= 0xE000 && c <= 0xF8FF) || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF ||
	    (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0x1F000 && c <= 0x1FAFF))
		return HT_DROP;
	return HT_KEEP;
}

bool object_hashtag_name(const char *category, char *out, size_t outlen)
{
	size_t o = 1, n, left;
	bool word = false, letter = false;

	if (category == NULL || out == NULL || outlen < 3)
		return false;
	out[0] = '#';
	left = strlen(category);
	for (const char *s = category; left > 0; s += n, left -= n) {
		uint32_t c;
		enum ht_class cls;

		n = utf8_decode(s, left, &c);
		if (n == 0) {
			n = 1; /* not UTF-8: skipped */
			continue;
		}
		cls = ht_class(c);
		if (cls == HT_SEP)
			word = o > 1;
		if (cls != HT_KEEP)
			continue;
		if (o + n >= outlen)
			break; /* full: never half a character */
		memcpy(out + o, s, n);
		if (word && c < 0x80)
			out[o] = (char)toupper((unsigned char)out[o]);
		word = false;
		letter = letter || (c != '_' && (c < '0' || c > '9'));
		o += n;
	}
	out[o] = '\0';
	if (!letter)
		out[0] = '\0';
	return letter;
}

/* The tag page's slug: ASCII lower-cased, spaces to '-', other ASCII
 * punctuation dropped, other bytes percent-encoded ("m%C3%A9dias-sociaux"). */
static enum bb_rc tag_slug(struct buf *b, const char *category)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = b->len;
	enum bb_rc rc = BB_OK;

	for (const unsigned char *s = (const unsigned char *)category; *s && rc == BB_OK; s++) {
		char c = (char)*s, pct[3] = {'%', hex[*s >> 4], hex[*s & 15]};
		bool dash = b->len == start || b->data[b->len - 1] == '-';

		if (*s >= 0x80)
			rc = buf_append(b, pct, 3);
		else if (isalnum(*s) || c == '_')
			rc = buf_append(b, (char[]){(char)tolower(*s)}, 1);
		else if ((c == '-' || isspace(*s)) && !dash)
			rc = buf_puts(b, "-");
	}
	while (rc == BB_OK && b->len > start && b->data[b->len - 1] == '-')
		b->data[--b->len] = '\0';
	return rc;
}

struct hashtag {
	char name[128]; /* "#Name" */
	char *href;	/* the blog's tag page, or NULL */
};

/* The tag page for category from the "{slug}" template (the slug is
 * appended when the template has none), or NULL. */
static char *tag_href(const char *tmpl, const char *category)
{
	const char *at;
	struct buf b;
	size_t mark;
	enum bb_rc rc = BB_OK;

	if (tmpl == NULL || !is_http(tmpl))
		return NULL;
	buf_init(&b, TAG_HREF_MAX);
	while (rc == BB_OK && (at = strstr(tmpl, "{slug}")) != NULL) {
		rc = buf_append(&b, tmpl, (size_t)(at - tmpl));
		mark = b.len;
		if (rc == BB_OK)
			rc = tag_slug(&b, category);
		if (rc == BB_OK && b.len == mark)
			rc = BB_ERR_INVALID; /* nothing left of the name */
		tmpl = at + 6;
	}
	if (rc == BB_OK && b.len == 0) { /* no {slug} */
		rc = buf_puts(&b, tmpl);
		mark = b.len;
		if (rc == BB_OK)
			rc = tag_slug(&b, category);
		if (rc == BB_OK && b.len == mark)
			rc = BB_ERR_INVALID;
		tmpl = "";
	}
	if (rc == BB_OK)
		rc = buf_puts(&b, tmpl);
	if (rc != BB_OK) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

/* The distinct usable hashtags of p (names compared ignoring ASCII case);
 * a tag whose page cannot be named (or out of memory) has no href. */
static size_t hashtags_collect(const struct post *p, const char *tmpl, struct hashtag *tags)
{
	size_t ntags = 0;

	for (size_t i = 0; i < p->ntags && i < POST_TAGS_MAX; i++) {
		struct hashtag *t = &tags[ntags];
		bool dup = false;

		if (p->tags[i] == NULL ||
		    !object_hashtag_name(p->tags[i], t->name, sizeof(t->name)))
			continue;
		for (size_t j = 0; j < ntags && !dup; j++)
			dup = strcasecmp(tags[j].name, t->name) == 0;
		if (!dup) {
			t->href = tag_href(tmpl, p->tags[i]);
			ntags++;
		}
	}
	return ntags;
}

/* The paragraph of hashtag links closing the content; nothing without tags. */
static enum bb_rc hashtags_html(struct buf *b, const struct hashtag *tags, size_t ntags,
				const char *post_url)
{
	enum bb_rc rc = BB_OK;

	for (size_t i = 0; i < ntags && rc == BB_OK; i++) {
		rc = buf_puts(b, i == 0 ? "<p><a href=\"" : " <a href=\"");
		if (rc == BB_OK)
			rc = escape(b, tags[i].href ? tags[i].href : post_url, true);
		if (rc == BB_OK)
			rc = buf_puts(b, "\" class=\"mention hashtag\" rel=\"tag\">#<span>");
		if (rc == BB_OK)
			rc = escape(b, tags[i].name + 1, false);
		if (rc == BB_OK)
			rc = buf_puts(b, "</span></a>");
	}
	if (rc == BB_OK && ntags > 0)
		rc = buf_puts(b, "</p>");
	return rc;
}

/* ---- the object ---- */

/* The contentMap key for a BCP 47 tag: its primary subtag in lower case
 * ("fr-FR" → "fr"), or NULL when lang is not 2-3 letters then '-', '_' or
 * the end. */
static const char *language_key(const char *lang, char out[4])
{
	size_t n = 0;

	if (lang == NULL)
		return NULL;
	while (n < 4 && isalpha((unsigned char)lang[n]))
		n++;
	if (n < 2 || n > 3 || (lang[n] != '\0' && lang[n] != '-' && lang[n] != '_'))
		return NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)lang[i]);
	out[n] = '\0';
	return out;
}

/* The last line of a Note: the permalink, or "Read more" for an excerpt. */
static enum bb_rc link_html(struct buf *b, const char *url, bool excerpt, const char *lang)
{
	enum bb_rc rc = buf_puts(b, "<p><a href=\"");

	if (rc == BB_OK)
		rc = escape(b, url, true);
	if (rc == BB_OK)
		rc = buf_puts(b, "\">");
	if (rc == BB_OK && !excerpt)
		rc = escape(b, url, false);
	else if (rc == BB_OK)
		rc = buf_puts(b, lang && strcmp(lang, "fr") == 0 ? "Lire la suite" : "Read more");
	if (rc == BB_OK)
		rc = buf_puts(b, "</a></p>");
	return rc;
}

/* An Article's summary: "<p>" + the feed's summary as plain text, else the
 * post's first ~OBJECT_EXCERPT_CHARS characters, + "</p>"; empty when the
 * post has no text at all. */
static enum bb_rc teaser_build(const struct post *p, const char *url, struct buf *teaser)
{
	enum bb_rc rc = buf_puts(teaser, "<p>");
	bool vis = false;

	if (rc == BB_OK && p->summary != NULL)
		rc = html_reduce(p->summary, url, TEASER_BYTES, OBJECT_EXCERPT_CHARS, true, teaser,
				 &vis);
	if (rc == BB_OK && !vis) {
		buf_reset(teaser);
		rc = buf_puts(teaser, "<p>");
		if (rc == BB_OK)
			rc = html_reduce(p->content, url, TEASER_BYTES, OBJECT_EXCERPT_CHARS, true,
					 teaser, &vis);
	}
	if (rc == BB_OK)
		rc = buf_puts(teaser, "</p>");
	if (rc == BB_OK && !vis)
		buf_reset(teaser);
	return rc;
}

/* The Note's or Article's content: for a Note, the title line, the post
 * (or its excerpt) and the link to it; then the hashtags. */
static enum bb_rc content_build(const struct object_options *opt, const struct post *p,
				const char *url, const char *lang, const struct hashtag *tags,
				size_t ntags, struct buf *content)
{
	struct buf head, tail;
	bool note = opt->kind == OBJECT_NOTE, vis = false;
	size_t fixed, room;
	enum bb_rc rc = BB_OK;

	buf_init(&head, OBJECT_CONTENT_MAX);
	buf_init(&tail, OBJECT_CONTENT_MAX);
	if (note && p->title != NULL && p->title[0] != '\0') {
		rc = buf_puts(&head, "<p><strong>");
		if (rc == BB_OK)
			rc = escape_cut(&head, p->title, strlen(p->title), false, TITLE_CHARS);
		if (rc == BB_OK)
			rc = buf_puts(&head, "</strong></p>");
	}
	if (rc == BB_OK && note)
		rc = link_html(&tail, url, opt->excerpt, lang);
	if (rc == BB_OK)
		rc = hashtags_html(&tail, tags, ntags, url);
	if (rc != BB_OK)
		goto out;
	fixed = head.len + tail.len;
	if (fixed > OBJECT_CONTENT_MAX / 2) {
		rc = BB_ERR_LIMIT; /* an absurd title or URL */
		goto out;
	}
	room = OBJECT_CONTENT_MAX - fixed;
	rc = buf_append(content, head.data ? head.data : "", head.len);
	if (rc == BB_OK && note && opt->excerpt && p->summary != NULL) {
		rc = html_reduce(p->summary, url, room, OBJECT_EXCERPT_CHARS, false, content, &vis);
		if (rc == BB_OK && !vis && content->data != NULL)
			content->len = head.len, content->data[head.len] = '\0';
	}
	if (rc == BB_OK && !vis)
		rc = html_reduce(p->content, url, room,
				 note && opt->excerpt ? OBJECT_EXCERPT_CHARS : SIZE_MAX, false,
				 content, &vis);
	if (rc == BB_OK)
		rc = buf_append(content, tail.data ? tail.data : "", tail.len);
out:
	buf_free(&head);
	buf_free(&tail);
	return rc;
}

/* Sets o[key] to v, taking v; non-zero when v is NULL or out of memory. */
static int put(json_t *o, const char *key, json_t *v)
{
	return v == NULL || json_object_set_new(o, key, v) != 0;
}

/* The attachments: Documents with url (never a top-level href, which
 * Mastodon 4.7 takes for a link preview), at most POST_IMAGES_MAX. */
static json_t *attachments(const struct post *p)
{
	json_t *arr = json_array();
	int bad = arr == NULL;

	for (size_t i = 0; i < p->nimages && i < POST_IMAGES_MAX && !bad; i++) {
		const struct post_image *im = &p->images[i];
		const char *mt = im->media_type && im->media_type[0] ? im->media_type : NULL;
		json_t *a;

		if (im->url == NULL || !is_http(im->url))
			continue;
		mt = mt ? mt : ap_image_media_type(im->url);
		a = json_object();
		bad = a == NULL || json_array_append_new(arr, a) != 0;
		if (!bad)
			bad = put(a, "type", json_string("Document"));
		if (!bad && mt != NULL)
			bad = put(a, "mediaType", jstr(mt));
		if (!bad)
			bad = put(a, "url", jstr(im->url));
		if (!bad && im->alt != NULL && im->alt[0] != '\0')
			bad = put(a, "name", jstr_cut(im->alt, ALT_CHARS));
		if (!bad && im->width > 0)
			bad = put(a, "width", json_integer(im->width));
		if (!bad && im->height > 0)
			bad = put(a, "height", json_integer(im->height));
	}
	if (bad) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static json_t *hashtags_json(const struct hashtag *tags, size_t ntags)
{
	json_t *arr = json_array();
	int bad = arr == NULL;

	for (size_t i = 0; i < ntags && !bad; i++) {
		json_t *t = json_pack("{s:s, s:s}", "type", "Hashtag", "name", tags[i].name);
		bad = t == NULL || json_array_append_new(arr, t) != 0;
		if (!bad && tags[i].href != NULL)
			bad = put(t, "href", jstr(tags[i].href));
	}
	if (bad) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* A one-entry language map {lang: text}. */
static json_t *lang_map(const char *lang, const char *text)
{
	json_t *m = json_object();

	if (m != NULL && put(m, lang, jstr(text))) {
		json_decref(m);
		return NULL;
	}
	return m;
}

static json_t *object_context(void)
{
	return json_pack("[s,{s:s,s:s}]", AP_CONTEXT_AS, "Hashtag", "as:Hashtag", "sensitive",
			 "as:sensitive");
}

/* Fills o with the fields after `type`, in the order of MASTODON.md §6.7. */
static int object_fields(json_t *o, const struct ap_site *site, const struct object_options *opt,
			 const struct post *p, const char *id, const char *url, const char *lang,
			 struct buf *content, struct buf *teaser, const struct hashtag *tags,
			 size_t ntags)
{
	char published[TIME_RFC3339_LEN], updated[TIME_RFC3339_LEN], replies[HREF_MAX];
	struct buf name;
	json_t *att = NULL;
	int bad;

	buf_init(&name, JSON_STRING_MAX);
	time_rfc3339(p->published, published);
	time_rfc3339(p->updated, updated);
	bad = put(o, "attributedTo", json_string(site->actor_id)) || put(o, "url", jstr(url)) ||
	      put(o, "published", json_string(published)) ||
	      (p->updated > p->published && put(o, "updated", json_string(updated))) ||
	      put(o, "to", json_pack("[s]", AP_PUBLIC)) ||
	      put(o, "cc", json_pack("[s]", site->followers)) || put(o, "sensitive", json_false());
	if (!bad && opt->kind == OBJECT_ARTICLE) {
		/* Mastodon puts `name` into HTML unescaped (status_parser.rb). */
		bad = escape_cut(&name, p->title ? p->title : "", p->title ? strlen(p->title) : 0,
				 false, TITLE_CHARS) != BB_OK ||
		      put(o, "name", jstr(name.data ? name.data : "")) ||
		      (lang && put(o, "nameMap", lang_map(lang, name.data ? name.data : "")));
		if (!bad && teaser->len > 0)
			bad = put(o, "summary", jstr(teaser->data)) ||
			      (lang && put(o, "summaryMap", lang_map(lang, teaser->data)));
	}
	bad = bad || put(o, "content", jstr(content->data ? content->data : "")) ||
	      (lang && put(o, "contentMap", lang_map(lang, content->data ? content->data : "")));
	if (!bad && ntags > 0)
		bad = put(o, "tag", hashtags_json(tags, ntags));
	if (!bad)
		att = attachments(p);
	bad = bad || att == NULL;
	if (!bad && json_array_size(att) > 0)
		bad = put(o, "attachment", json_incref(att));
	if (!bad && (size_t)snprintf(replies, sizeof(replies), "%s/replies", id) < sizeof(replies))
		bad = put(o, "replies", json_string(replies));
	json_decref(att);
	buf_free(&name);
	return bad;
}

char *object_render(const struct ap_site *site, const struct object_options *opt,
		    const struct post *p, const char *id)
{
	struct hashtag tags[POST_TAGS_MAX];
	struct buf content, teaser;
	char langbuf[4];
	const char *url = p->url && p->url[0] ? p->url : id, *lang;
	json_t *o = NULL;
	char *text = NULL;
	size_t ntags;

	lang = language_key(p->language, langbuf);
	if (lang == NULL) /* none, or not a language tag */
		lang = language_key(opt->language, langbuf);
	buf_init(&content, OBJECT_CONTENT_MAX);
	buf_init(&teaser, TEASER_BYTES + 16);
	ntags = hashtags_collect(p, opt->tag_url, tags);
	if (content_build(opt, p, url, lang, tags, ntags, &content) != BB_OK ||
	    (opt->kind == OBJECT_ARTICLE && teaser_build(p, url, &teaser) != BB_OK))
		goto out;
	o = json_pack("{s:o, s:s, s:s}", "@context", object_context(), "id", id, "type",
		      opt->kind == OBJECT_ARTICLE ? "Article" : "Note");
	if (o == NULL ||
	    object_fields(o, site, opt, p, id, url, lang, &content, &teaser, tags, ntags))
		goto out;
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	for (size_t i = 0; i < ntags; i++)
		free(tags[i].href);
	json_decref(o);
	buf_free(&content);
	buf_free(&teaser);
	return text;
}

/* Serializes and frees j. */
static char *dump(json_t *j)
{
	char *s;

	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

char *object_activity_render(const struct ap_site *site, const char *type, const char *id,
			     const char *object_json, time_t published)
{
	char date[TIME_RFC3339_LEN];
	json_t *obj, *ctx;

	if (type == NULL || id == NULL || object_json == NULL)
		return NULL;
	obj = json_loads(object_json, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return NULL;
	}
	/* The context moves up to the activity, as in MASTODON.md §6.7. */
	ctx = json_object_get(obj, "@context");
	ctx = ctx ? json_incref(ctx) : json_string(AP_CONTEXT_AS);
	json_object_del(obj, "@context");
	time_rfc3339(published, date);
	return dump(json_pack("{s:o, s:s, s:s, s:s, s:s, s:[s], s:[s], s:o}", "@context", ctx, "id",
			      id, "type", type, "actor", site->actor_id, "published", date, "to",
			      AP_PUBLIC, "cc", site->followers, "object", obj));
}

char *object_delete_render(const struct ap_site *site, const char *id, const char *object_id,
			   time_t now)
{
	char date[TIME_RFC3339_LEN];

	time_rfc3339(now, date);
	return dump(json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:{s:s, s:s}}", "@context",
			      AP_CONTEXT_AS, "id", id, "type", "Delete", "actor", site->actor_id,
			      "published", date, "to", AP_PUBLIC, "cc", site->followers, "object",
			      "id", object_id, "type", "Tombstone"));
}

char *object_tombstone_render(const char *object_id, time_t deleted)
{
	char date[TIME_RFC3339_LEN];

	time_rfc3339(deleted, date);
	return dump(json_pack("{s:s, s:s, s:s, s:s}", "@context", AP_CONTEXT_AS, "id", object_id,
			      "type", "Tombstone", "deleted", date));
}
