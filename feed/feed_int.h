/*
 * feed_int.h — the inside of the feed parser, shared by feed.c (the XML:
 * RSS 2.0 and Atom 1.0 into struct feed) and feed_html.c (URLs resolved,
 * images collected, the items' HTML rewritten): the state of one parse,
 * the string and tree helpers both use, and what feed_html.c offers
 * feed.c.  Nothing outside feed*.c includes it.
 *
 * Helpers that return NULL for "absent" set p->nomem when they fail for
 * want of memory instead; the parse checks it (item_finish, and at the end
 * of the feed) and fails with BB_ERR_NOMEM.
 */
#ifndef BB_FEED_INT_H
#define BB_FEED_INT_H

#include "feed.h"

#include "buf.h"

#include <libxml/hash.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_ATOM "http://www.w3.org/2005/Atom"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_MEDIA "http://search.yahoo.com/mrss/"
#define NS_XHTML "http://www.w3.org/1999/xhtml"

/* One parse: the tree, the result being built, the guids kept. */
struct parse {
	xmlDocPtr doc;
	struct feed *feed;
	xmlHashTablePtr seen;
	size_t cap;   /* feed->items allocated */
	char *author; /* Atom: the feed's author, inherited by entries */
	bool nomem;   /* set by the helpers that return NULL for "absent" */
};

/* ---- strings ---------------------------------------------------------- */

static inline bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Cuts s to at most max bytes, not inside a UTF-8 sequence. */
static inline void utf8_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	s[n] = '\0';
}

/* Turns runs of white space into one space and trims both ends, in place. */
static inline void squeeze(char *s)
{
	char *w = s;
	bool gap = false;

	for (const char *r = s; *r; r++) {
		if (is_space(*r)) {
			gap = w != s;
			continue;
		}
		if (gap)
			*w++ = ' ';
		gap = false;
		*w++ = *r;
	}
	*w = '\0';
}

static inline void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
	while (is_space(s[i]))
		i++;
	memmove(s, s + i, n - i + 1);
}

/* A malloc'd copy of an xmlChar string (which is freed), or NULL. */
static inline char *take_xml(struct parse *p, xmlChar *x)
{
	char *s;

	if (x == NULL)
		return NULL;
	s = strdup((const char *)x);
	xmlFree(x);
	if (s == NULL)
		p->nomem = true;
	return s;
}

static inline char *dup_str(struct parse *p, const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && d == NULL)
		p->nomem = true;
	return d;
}

/* ---- the XML tree ----------------------------------------------------- */

/* True when n is the element ns:name (ns NULL: no namespace). */
static inline bool is_elem(xmlNodePtr n, const char *ns, const char *name)
{
	if (n == NULL || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
		return false;
	if (ns == NULL)
		return n->ns == NULL;
	return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

static inline xmlNodePtr child(xmlNodePtr parent, const char *ns, const char *name)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		if (is_elem(c, ns, name))
			return c;
	return NULL;
}

/* The node after n in document order within top, or NULL. */
static inline xmlNodePtr next_node(xmlNodePtr n, xmlNodePtr top)
{
	if (n->type == XML_ELEMENT_NODE && n->children)
		return n->children;
	while (n != top && n->next == NULL)
		n = n->parent;
	return n == top ? NULL : n->next;
}

/* The text of element n (malloc'd), NULL when n is NULL. */
static inline char *text_of(struct parse *p, xmlNodePtr n)
{
	return n ? take_xml(p, xmlNodeGetContent(n)) : NULL;
}

/* Plain text: white space squeezed, cut to FEED_TEXT_MAX; NULL when absent. */
static inline char *plain(char *s)
{
	if (s) {
		squeeze(s);
		utf8_cut(s, FEED_TEXT_MAX);
	}
	return s;
}

static inline char *attr_of(struct parse *p, xmlNodePtr n, const char *name)
{
	return n ? take_xml(p, xmlGetNoNsProp(n, (const xmlChar *)name)) : NULL;
}

static inline bool is_http(const char *s)
{
	return strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "http://", 7) == 0;
}

/* ---- feed_html.c: URLs ------------------------------------------------- */

/* ref resolved against base (malloc'd; NULL only when ref is NULL or out of
 * memory).  Absolute refs are kept as given; a ref libxml2 cannot parse
 * (spaces, non-ASCII) is retried percent-encoded, and kept as given when
 * that fails too. */
char *feed_url_resolve(struct parse *p, const char *ref, const char *base);

/* The base URL for n: the xml:base in scope, resolved against fallback,
 * else fallback (malloc'd, or NULL when neither). */
char *feed_base_of(struct parse *p, xmlNodePtr n, const char *fallback);

/* ---- feed_html.c: images ----------------------------------------------- */

/* Adds an image unless the post has POST_IMAGES_MAX, the URL is not http(s)
 * or too long, already there, or it is a 1-pixel tracker.  type is taken
 * when it is an image/ type, else guessed from the extension. */
void feed_image_add(struct parse *p, struct post *post, const char *url, const char *alt,
		    const char *type, int w, int h);

/* media:content (an image by medium, type or extension) and
 * media:thumbnail, also inside media:group, in document order. */
void feed_media_images(struct parse *p, struct post *post, xmlNodePtr parent, const char *base);

/* ---- feed_html.c: HTML ------------------------------------------------- */

/* An output sink for libxml2's serializers, bounded by FEED_HTML_MAX. */
struct sink {
	struct buf b;
	enum bb_rc rc;
};

/* The xmlOutputWriteCallback appending to a struct sink (ctx). */
int feed_sink_write(void *ctx, const char *data, int len);

/* Closes ob and hands the sink's text over in *out. */
enum bb_rc feed_sink_finish(struct sink *s, xmlOutputBufferPtr ob, char **out);

/* The HTML fragment html with its URLs resolved against base, serialized
 * back (malloc'd in *out); images into imgs when not NULL.  BB_ERR_LIMIT
 * when html or the result is over FEED_HTML_MAX. */
enum bb_rc feed_html_rewrite(struct parse *p, const char *html, const char *base, struct post *imgs,
			     char **out);

/* The text of an HTML fragment, as plain text (malloc'd), NULL if absent. */
char *feed_html_plain(struct parse *p, char *html);

/* Text as HTML: &, < and > escaped (malloc'd in *out). */
enum bb_rc feed_html_escape(const char *text, char **out);

#endif
