/*
 * feed_html.c — the URLs, images and HTML of feed items (see feed_int.h),
 * for feed.c.
 *
 * Each item's HTML (content, summary) goes through libxml2's HTML parser
 * inside a wrapper <div> (so that leading text is not put in a <p>); href
 * and src attributes are resolved against the item's link (Atom: against
 * the xml:base in scope when the feed sets one, RFC 4287 §2), <img>
 * elements are collected as images, and the wrapper's children are
 * serialized back: the markup is normalized, the text kept (UTF-8,
 * typographic characters as they are).  Images also come from media:content
 * and media:thumbnail (and, in feed.c, enclosures); tracking pixels and
 * non-http(s) URLs are left out.  The parser's complaints go to the
 * handlers feed_parse installs for the call.
 */
#include "feed_int.h"
#include "post.h"

#include "buf.h"
#include "url.h"

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTML_OPTIONS (HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING)
#define DIM_MAX 65535

/* ---- URLs ------------------------------------------------------------- */

/* True when s starts with a scheme (RFC 3986 §3.1). */
static bool has_scheme(const char *s)
{
	size_t i = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	       (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return s[i] == ':';
}

/* ref resolved against base (malloc'd; NULL only when ref is NULL or out of
 * memory) by the url module.  Absolute refs are kept as given; a ref that
 * cannot be resolved (a malformed one, or a base that is not absolute) is
 * kept as given too. */
char *feed_url_resolve(struct parse *p, const char *ref, const char *base)
{
	struct err e;
	char *s = NULL;
	enum bb_rc rc;

	if (ref == NULL)
		return NULL;
	if (base == NULL || has_scheme(ref))
		return dup_str(p, ref);
	rc = url_resolve(base, ref, &s, &e);
	if (rc == BB_ERR_NOMEM) {
		p->nomem = true;
		return NULL;
	}
	return rc == BB_OK ? s : dup_str(p, ref);
}

/* The base URL for n: the xml:base in scope, resolved against fallback,
 * else fallback (malloc'd, or NULL when neither). */
char *feed_base_of(struct parse *p, xmlNodePtr n, const char *fallback)
{
	char *xb = n ? take_xml(p, xmlNodeGetBase(p->doc, n)) : NULL;
	char *s;

	if (xb == NULL)
		return dup_str(p, fallback);
	trim(xb);
	s = feed_url_resolve(p, xb, fallback);
	free(xb);
	return s;
}

/* ---- images ----------------------------------------------------------- */

/* A width or height: digits (and "px"), 0 when missing or odd. */
static int dimension(const char *s)
{
	long v = 0;
	size_t i = 0;

	if (s == NULL)
		return 0;
	while (s[i] >= '0' && s[i] <= '9' && v <= DIM_MAX)
		v = v * 10 + (s[i++] - '0');
	if (i == 0 || v > DIM_MAX || (s[i] != '\0' && strcmp(s + i, "px") != 0))
		return 0;
	return (int)v;
}

static int dim_attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	int d = dimension((const char *)v);

	xmlFree(v);
	return d;
}

static void post_image_free(struct post_image *im)
{
	free(im->url);
	free(im->alt);
	free(im->media_type);
	memset(im, 0, sizeof(*im));
}

/* Adds an image unless the post has POST_IMAGES_MAX, the URL is not http(s)
 * or too long, already there, or it is a 1-pixel tracker.  type is taken
 * when it is an image/ type, else guessed from the extension. */
void feed_image_add(struct parse *p, struct post *post, const char *url, const char *alt,
		    const char *type, int w, int h)
{
	struct post_image *im;

	if (url == NULL || post->nimages == POST_IMAGES_MAX || !is_http(url) ||
	    strlen(url) > FEED_URL_MAX || w == 1 || h == 1)
		return;
	for (size_t i = 0; i < post->nimages; i++)
		if (strcmp(post->images[i].url, url) == 0)
			return;
	if (type == NULL || strncasecmp(type, "image/", 6) != 0)
		type = post_image_media_type(url);
	im = &post->images[post->nimages];
	im->url = dup_str(p, url);
	im->media_type = dup_str(p, type);
	im->alt = plain(dup_str(p, alt));
	if (im->alt && *im->alt == '\0') {
		free(im->alt);
		im->alt = NULL;
	}
	im->width = w;
	im->height = h;
	if (im->url)
		post->nimages++;
	else
		post_image_free(im);
}

/* media:content (an image by medium, type or extension) and
 * media:thumbnail, also inside media:group, in document order. */
void feed_media_images(struct parse *p, struct post *post, xmlNodePtr parent, const char *base)
{
	for (xmlNodePtr c = parent->children; c && !p->nomem; c = c->next) {
		bool thumb = is_elem(c, NS_MEDIA, "thumbnail");
		char *url, *type, *medium, *alt;
		bool image;

		if (is_elem(c, NS_MEDIA, "group")) {
			feed_media_images(p, post, c, base);
			continue;
		}
		if (!thumb && !is_elem(c, NS_MEDIA, "content"))
			continue;
		url = attr_of(p, c, "url");
		if (url)
			trim(url);
		type = attr_of(p, c, "type");
		medium = attr_of(p, c, "medium");
		image = thumb || (medium && strcmp(medium, "image") == 0) ||
			(type && strncasecmp(type, "image/", 6) == 0) ||
			(medium == NULL && type == NULL && url && post_image_media_type(url));
		if (image && url) {
			char *abs = feed_url_resolve(p, url, base);
			xmlNodePtr d = child(c, NS_MEDIA, "description");

			alt = text_of(p, d ? d : child(c, NS_MEDIA, "title"));
			feed_image_add(p, post, abs, alt, type, dim_attr(c, "width"),
				       dim_attr(c, "height"));
			free(alt);
			free(abs);
		}
		free(url);
		free(type);
		free(medium);
	}
}

/* ---- HTML ------------------------------------------------------------- */

int feed_sink_write(void *ctx, const char *data, int len)
{
	struct sink *s = ctx;

	if (s->rc == BB_OK)
		s->rc = buf_append(&s->b, data, (size_t)len);
	return s->rc == BB_OK ? len : -1;
}

/* Closes ob and hands the sink's text over in *out. */
enum bb_rc feed_sink_finish(struct sink *s, xmlOutputBufferPtr ob, char **out)
{
	enum bb_rc rc = BB_OK;

	if (xmlOutputBufferClose(ob) < 0 && s->rc == BB_OK)
		s->rc = BB_ERR_NOMEM;
	if (s->rc != BB_OK) {
		rc = s->rc;
		goto out;
	}
	*out = buf_take(&s->b);
	if (*out == NULL)
		rc = BB_ERR_NOMEM;
out:
	buf_free(&s->b);
	return rc;
}

/* Parses an HTML fragment inside a wrapper <div>; sets *body and *wrap
 * (NULL when the parser lost them).  NULL when out of memory. */
static htmlDocPtr html_parse(const char *html, xmlNodePtr *body, xmlNodePtr *wrap)
{
	struct buf b;
	htmlDocPtr doc = NULL;
	xmlNodePtr root;

	*body = *wrap = NULL;
	buf_init(&b, strlen(html) + 16);
	if (buf_puts(&b, "<div>") != BB_OK || buf_puts(&b, html) != BB_OK ||
	    buf_puts(&b, "</div>") != BB_OK)
		goto out;
	doc = htmlReadMemory(b.data, (int)b.len, NULL, "UTF-8", HTML_OPTIONS);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	for (xmlNodePtr c = root ? root->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "body") == 0)
			*body = c;
	for (xmlNodePtr c = *body ? (*body)->children : NULL; c && !*wrap; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			*wrap = strcmp((const char *)c->name, "div") == 0 ? c : *body;
	if (*wrap == *body)
		*wrap = NULL;
out:
	buf_free(&b);
	return doc;
}

/* Resolves the href and src attributes under top against base and collects
 * <img> elements into imgs (when not NULL).  BB_ERR_LIMIT when the URLs
 * grow the HTML by more than FEED_HTML_MAX. */
static enum bb_rc html_fix(struct parse *p, htmlDocPtr doc, xmlNodePtr top, const char *base,
			   struct post *imgs)
{
	size_t growth = 0;

	for (xmlNodePtr n = top; n && !p->nomem; n = next_node(n, top)) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (xmlAttrPtr a = n->properties; a && !p->nomem; a = a->next) {
			char *val, *abs;
			size_t given;

			if (strcasecmp((const char *)a->name, "href") != 0 &&
			    strcasecmp((const char *)a->name, "src") != 0)
				continue;
			val = take_xml(p, xmlNodeListGetString(doc, a->children, 1));
			given = val ? strlen(val) : 0;
			if (val)
				trim(val);
			abs = feed_url_resolve(p, val, base);
			if (abs && (strcmp(abs, val) != 0 || strlen(val) != given)) {
				growth += strlen(abs) > strlen(val) ? strlen(abs) - strlen(val) : 0;
				if (growth <= FEED_HTML_MAX &&
				    xmlSetProp(n, a->name, (const xmlChar *)abs) == NULL)
					p->nomem = true;
			}
			free(val);
			free(abs);
			if (growth > FEED_HTML_MAX)
				return BB_ERR_LIMIT;
		}
		if (imgs && strcasecmp((const char *)n->name, "img") == 0) {
			char *src = attr_of(p, n, "src"), *alt = attr_of(p, n, "alt");

			feed_image_add(p, imgs, src, alt, NULL, dim_attr(n, "width"),
				       dim_attr(n, "height"));
			free(src);
			free(alt);
		}
	}
	return p->nomem ? BB_ERR_NOMEM : BB_OK;
}

/* The HTML fragment html with its URLs resolved against base, serialized
 * back (malloc'd in *out); images into imgs when not NULL.  BB_ERR_LIMIT
 * when html or the result is over FEED_HTML_MAX. */
enum bb_rc feed_html_rewrite(struct parse *p, const char *html, const char *base, struct post *imgs,
			     char **out)
{
	struct sink s = {.rc = BB_OK};
	xmlOutputBufferPtr ob = NULL;
	xmlNodePtr body, wrap;
	htmlDocPtr doc = NULL;
	enum bb_rc rc;

	buf_init(&s.b, FEED_HTML_MAX);
	if (strlen(html) > FEED_HTML_MAX) {
		rc = BB_ERR_LIMIT;
		goto out;
	}
	doc = html_parse(html, &body, &wrap);
	if (doc == NULL) {
		rc = BB_ERR_NOMEM;
		goto out;
	}
	rc = body ? html_fix(p, doc, body, base, imgs) : BB_OK;
	if (rc != BB_OK)
		goto out;
	ob = xmlOutputBufferCreateIO(feed_sink_write, NULL, &s, NULL);
	if (ob == NULL) {
		rc = BB_ERR_NOMEM;
		goto out;
	}
	/* The wrapper's children, and whatever a stray end tag put beside it. */
	for (xmlNodePtr c = body ? body->children : NULL; c; c = c->next) {
		if (c != wrap)
			htmlNodeDumpFormatOutput(ob, doc, c, "UTF-8", 0);
		for (xmlNodePtr d = c == wrap ? c->children : NULL; d; d = d->next)
			htmlNodeDumpFormatOutput(ob, doc, d, "UTF-8", 0);
	}
	rc = feed_sink_finish(&s, ob, out);
	ob = NULL;
out:
	if (ob)
		xmlOutputBufferClose(ob);
	buf_free(&s.b);
	if (doc)
		xmlFreeDoc(doc);
	return rc;
}

/* The text of an HTML fragment, as plain text (malloc'd), NULL if absent. */
char *feed_html_plain(struct parse *p, char *html)
{
	xmlNodePtr body, wrap;
	htmlDocPtr doc;
	char *s = NULL;

	if (html == NULL)
		return NULL;
	utf8_cut(html, FEED_HTML_MAX);
	doc = html_parse(html, &body, &wrap);
	if (doc == NULL)
		p->nomem = true;
	else if (body)
		s = plain(take_xml(p, xmlNodeGetContent(body)));
	else
		s = dup_str(p, "");
	if (doc)
		xmlFreeDoc(doc);
	return s;
}

/* Text as HTML: &, < and > escaped (malloc'd in *out). */
enum bb_rc feed_html_escape(const char *text, char **out)
{
	struct buf b;
	enum bb_rc rc = BB_OK;

	buf_init(&b, FEED_HTML_MAX);
	for (const char *t = text; *t && rc == BB_OK; t++) {
		size_t n = strcspn(t, "&<>");

		rc = buf_append(&b, t, n);
		t += n;
		if (rc == BB_OK && *t)
			rc = buf_puts(&b, *t == '&' ? "&amp;" : *t == '<' ? "&lt;" : "&gt;");
		if (*t == '\0')
			break;
	}
	if (rc == BB_OK) {
		*out = buf_take(&b);
		rc = *out ? BB_OK : BB_ERR_NOMEM;
	}
	buf_free(&b);
	return rc;
}
