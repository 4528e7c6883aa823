/*
 * feed.c — RSS 2.0 and Atom 1.0 into struct feed (see feed.h).
 *
 * The document goes through libxml2 with a parser context of our own: no
 * network (XML_PARSE_NONET), CDATA as text (XML_PARSE_NOCDATA), entities
 * not substituted (no XML_PARSE_NOENT), no DTD loaded (no XML_PARSE_DTDLOAD)
 * and libxml2's default size and depth limits kept (no XML_PARSE_HUGE).
 * libxml2 2.9.14 alone already leaves external entities unexpanded and stops
 * a billion-laughs document; we go further and refuse any document that
 * declares an entity, as soon as the declaration is seen: feeds have no use
 * for them, and it closes XXE and expansion bombs whatever the libxml2
 * version.  Errors go to structured handlers (the context's for the feed,
 * the thread's for everything else during the call), never to stderr, and
 * xmlInitParser runs once, so that threads may parse feeds at once.
 *
 * Each item's HTML (content, summary) is handled by feed_html.c: its URLs
 * resolved against the item's link (Atom: against the xml:base in scope
 * when the feed sets one, RFC 4287 §2), its images collected, its markup
 * normalized.
 *
 * Limits (feed.h): plain-text fields are cut at a UTF-8 boundary; an item
 * whose content or summary is over FEED_HTML_MAX, or whose guid or link is
 * over FEED_URL_MAX, is left out (counted in nskipped) rather than cut,
 * since a cut article must not be published as if it were whole.
 */
#include "feed.h"
#include "feed_int.h"

#include "buf.h"
#include "timeutil.h"

#include <libxml/SAX2.h>
#include <libxml/hash.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA)
#define LANG_MAX 35 /* the longest BCP 47 tag worth keeping */

#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlErrorPtr xml_error_arg;
#endif

/* What the XML parser reported: its first error, an entity declaration. */
struct report {
	int line;
	bool entity;
	char msg[160];
};

static pthread_once_t feed_once = PTHREAD_ONCE_INIT;

static void feed_init(void)
{
	xmlInitParser();
}

static void silent_error(void *arg, xml_error_arg err)
{
	(void)arg;
	(void)err;
}

static void silent_generic(void *arg, const char *fmt, ...)
{
	(void)arg;
	(void)fmt;
}

static void on_xml_error(void *arg, xml_error_arg err)
{
	xmlParserCtxtPtr ctxt = arg;
	struct report *r = ctxt->_private;
	size_t n;

	if (err == NULL || err->level < XML_ERR_ERROR || r->msg[0] != '\0' || r->entity)
		return;
	r->line = err->line;
	snprintf(r->msg, sizeof(r->msg), "%s", err->message ? err->message : "malformed XML");
	n = strlen(r->msg);
	while (n > 0 && (r->msg[n - 1] == '\n' || r->msg[n - 1] == ' '))
		r->msg[--n] = '\0';
}

/* Any entity declaration ends the parse: see the comment on top. */
static void refuse_entity(void *ctx)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct report *r = ctxt->_private;

	if (!r->entity) {
		r->entity = true;
		r->line = xmlSAX2GetLineNumber(ctx);
	}
	xmlStopParser(ctxt);
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
			   const xmlChar *system_id, xmlChar *content)
{
	(void)name, (void)type, (void)public_id, (void)system_id, (void)content;
	refuse_entity(ctx);
}

static void on_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
				    const xmlChar *system_id, const xmlChar *notation)
{
	(void)name, (void)public_id, (void)system_id, (void)notation;
	refuse_entity(ctx);
}

/* Parses the document; BB_ERR_INVALID with the line for malformed XML. */
static enum bb_rc xml_read(const char *data, size_t len, xmlDocPtr *out, struct err *e)
{
	struct report r = {0};
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	xmlDocPtr doc = NULL;
	enum bb_rc rc = BB_OK;

	if (ctxt == NULL || ctxt->sax == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "feed: out of memory");
		goto out;
	}
	ctxt->_private = &r;
	ctxt->sax->serror = on_xml_error;
	ctxt->sax->entityDecl = on_entity_decl;
	ctxt->sax->unparsedEntityDecl = on_unparsed_entity_decl;
	doc = xmlCtxtReadMemory(ctxt, data, (int)len, NULL, NULL, XML_OPTIONS);
	if (r.entity) {
		rc = err_set(e, BB_ERR_INVALID, "feed: line %d: entity declarations are refused",
			     r.line);
		goto out;
	}
	if (doc == NULL || !ctxt->wellFormed) {
		rc = err_set(e, BB_ERR_INVALID, "feed: line %d: %s", r.line,
			     r.msg[0] ? r.msg : "malformed XML");
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	if (doc)
		xmlFreeDoc(doc);
	if (ctxt)
		xmlFreeParserCtxt(ctxt);
	return rc;
}

/* ---- strings ---------------------------------------------------------- */

/* An ASCII letter folded to lower case, or a Latin-1 letter (U+00C0 to
 * U+00FE, two bytes in UTF-8) folded likewise; any other byte as is. */
static unsigned fold_next(const unsigned char **s)
{
	const unsigned char *c = *s;

	if (c[0] == 0xC3 && c[1] >= 0x80 && c[1] <= 0xBE && c[1] != 0x97 && c[1] != 0x9F &&
	    c[1] != 0xB7) {
		*s += 2;
		return 0xC3A0 + ((c[1] - 0x80) & 0x1F);
	}
	(*s)++;
	return c[0] >= 'A' && c[0] <= 'Z' ? c[0] + 32u : c[0];
}

static bool same_folded(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	while (*x && *y)
		if (fold_next(&x) != fold_next(&y))
			return false;
	return *x == *y;
}

/* ---- the XML tree ----------------------------------------------------- */

/* Trimmed text of n, NULL when absent or empty. */
static char *word_of(struct parse *p, xmlNodePtr n)
{
	char *s = text_of(p, n);

	if (s)
		trim(s);
	if (s && *s == '\0') {
		free(s);
		s = NULL;
	}
	return s;
}

/* The language tag given (trimmed, '_' as '-'), or NULL when it is not one. */
static char *lang_of(char *s)
{
	size_t n;

	if (s == NULL)
		return NULL;
	trim(s);
	n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '_')
			s[i] = '-';
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			n = 0;
	}
	if (n == 0 || n > LANG_MAX) {
		free(s);
		return NULL;
	}
	return s;
}

/* ---- items ------------------------------------------------------------ */

/* Adds a category unless empty, already there (case folded) or one too
 * many; consumes tag. */
static void tag_add(struct post *post, char *tag)
{
	if (tag == NULL)
		return;
	plain(tag);
	if (*tag == '\0' || post->ntags == POST_TAGS_MAX)
		goto drop;
	for (size_t i = 0; i < post->ntags; i++)
		if (same_folded(post->tags[i], tag))
			goto drop;
	post->tags[post->ntags++] = tag;
	return;
drop:
	free(tag);
}

/* Sets the item's identity from guid (else link) and its url; consumes
 * both.  False when the item is to be left out: no identity, one over
 * FEED_URL_MAX, or a guid already kept. */
static bool item_identity(struct parse *p, struct post *post, char *guid, char *link)
{
	if (guid == NULL && link)
		guid = dup_str(p, link);
	post->guid = guid;
	post->url = link;
	return guid && strlen(guid) <= FEED_URL_MAX &&
	       (link == NULL || strlen(link) <= FEED_URL_MAX) &&
	       xmlHashLookup(p->seen, (const xmlChar *)guid) == NULL;
}

/* The item's content and summary from the HTML given (either NULL), URLs
 * resolved against cbase and sbase; images from the content, else from the
 * summary.  A missing content is the summary, or "". */
static enum bb_rc item_html(struct parse *p, struct post *post, const char *content,
			    const char *cbase, const char *summary, const char *sbase)
{
	enum bb_rc rc = BB_OK;

	if (content)
		rc = feed_html_rewrite(p, content, cbase, post, &post->content);
	if (rc == BB_OK && summary)
		rc = feed_html_rewrite(p, summary, sbase, content ? NULL : post, &post->summary);
	if (rc == BB_OK && post->content == NULL) {
		post->content = strdup(post->summary ? post->summary : "");
		rc = post->content ? BB_OK : BB_ERR_NOMEM;
	}
	return rc;
}

/* Ends an item: rc BB_ERR_LIMIT or skip leave it out, BB_OK keeps it
 * (moved into the feed), anything else is returned.  Clears post. */
static enum bb_rc item_finish(struct parse *p, struct post *post, enum bb_rc rc, bool skip)
{
	struct feed *f = p->feed;

	if (rc == BB_OK && p->nomem)
		rc = BB_ERR_NOMEM;
	if (rc == BB_ERR_LIMIT || (rc == BB_OK && (skip || f->nitems == FEED_ITEMS_MAX))) {
		f->nskipped++;
		rc = BB_OK;
		goto out;
	}
	if (rc != BB_OK)
		goto out;
	if (post->title == NULL && (post->title = strdup("")) == NULL) {
		rc = BB_ERR_NOMEM;
		goto out;
	}
	if (post->updated == 0)
		post->updated = post->published;
	if (f->nitems == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct post *items;

		cap = cap > FEED_ITEMS_MAX ? FEED_ITEMS_MAX : cap;
		items = realloc(f->items, cap * sizeof(*items));
		if (items == NULL) {
			rc = BB_ERR_NOMEM;
			goto out;
		}
		f->items = items;
		p->cap = cap;
	}
	if (xmlHashAddEntry(p->seen, (const xmlChar *)post->guid, p) != 0) {
		rc = BB_ERR_NOMEM;
		goto out;
	}
	f->items[f->nitems++] = *post;
	memset(post, 0, sizeof(*post));
out:
	post_clear(post);
	return rc;
}

/* ---- RSS 2.0 ---------------------------------------------------------- */

static time_t rss_date(struct parse *p, xmlNodePtr item)
{
	char *s = word_of(p, child(item, NULL, "pubDate"));
	time_t t = 0;

	if (s == NULL)
		s = word_of(p, child(item, NS_DC, "date"));
	/* Some feeds write RFC 3339 where RFC 822 belongs. */
	if (s && !time_parse_rfc822(s, &t) && !time_parse_rfc3339(s, &t))
		t = 0;
	free(s);
	return t;
}

/* Enclosures of an image type, then media:*, in document order. */
static void rss_images(struct parse *p, struct post *post, xmlNodePtr item, const char *base)
{
	for (xmlNodePtr c = item->children; c && !p->nomem; c = c->next) {
		char *type = is_elem(c, NULL, "enclosure") ? attr_of(p, c, "type") : NULL;
		char *url =
		    type && strncasecmp(type, "image/", 6) == 0 ? attr_of(p, c, "url") : NULL;
		char *abs;

		if (url)
			trim(url);
		abs = feed_url_resolve(p, url, base);
		feed_image_add(p, post, abs, NULL, type, 0, 0);
		free(abs);
		free(url);
		free(type);
	}
	feed_media_images(p, post, item, base);
}

static enum bb_rc rss_item(struct parse *p, xmlNodePtr item)
{
	struct post post = {0};
	xmlNodePtr n = child(item, NULL, "link"), g = child(item, NULL, "guid");
	char *base = feed_base_of(p, n, p->feed->link), *link = word_of(p, n),
	     *guid = word_of(p, g);
	char *perma = attr_of(p, g, "isPermaLink"), *content = NULL, *desc = NULL, *abs;
	enum bb_rc rc = BB_OK;
	bool skip;

	abs = feed_url_resolve(p, link, base);
	/* No <link>: a guid is a permalink unless isPermaLink="false". */
	if (abs == NULL && guid && is_http(guid) && !(perma && strcmp(perma, "false") == 0))
		abs = dup_str(p, guid);
	skip = !item_identity(p, &post, guid, abs);
	if (skip || p->nomem)
		goto out;
	post.title = plain(text_of(p, child(item, NULL, "title")));
	post.author = plain(text_of(p, child(item, NS_DC, "creator")));
	if (post.author == NULL)
		post.author = plain(text_of(p, child(item, NULL, "author")));
	post.published = rss_date(p, item);
	post.language = lang_of(text_of(p, child(item, NS_DC, "language")));
	if (post.language == NULL)
		post.language = dup_str(p, p->feed->language);
	for (xmlNodePtr c = item->children; c; c = c->next)
		if (is_elem(c, NULL, "category"))
			tag_add(&post, text_of(p, c));
	/* Relative URLs in the item resolve against its link. */
	free(base);
	base = dup_str(p, post.url ? post.url : p->feed->link);
	rss_images(p, &post, item, base);
	content = text_of(p, child(item, NS_CONTENT, "encoded"));
	desc = text_of(p, child(item, NULL, "description"));
	if (!p->nomem)
		rc = item_html(p, &post, content, base, desc, base);
out:
	free(base);
	free(link);
	free(perma);
	free(content);
	free(desc);
	return item_finish(p, &post, rc, skip);
}

static enum bb_rc rss_parse(struct parse *p, xmlNodePtr root, struct err *e)
{
	xmlNodePtr channel = child(root, NULL, "channel"), n;
	struct feed *f = p->feed;
	enum bb_rc rc = BB_OK;
	char *link, *base;

	if (channel == NULL)
		return err_set(e, BB_ERR_INVALID, "feed: <rss> has no <channel>");
	f->title = plain(text_of(p, child(channel, NULL, "title")));
	n = child(channel, NULL, "link");
	link = word_of(p, n);
	base = feed_base_of(p, n, NULL);
	f->link = feed_url_resolve(p, link, base);
	free(link);
	free(base);
	f->language = lang_of(text_of(p, child(channel, NULL, "language")));
	for (xmlNodePtr c = channel->children; c && rc == BB_OK; c = c->next) {
		if (!is_elem(c, NULL, "item"))
			continue;
		if (f->nitems == FEED_ITEMS_MAX)
			f->nskipped++;
		else
			rc = rss_item(p, c);
	}
	if (rc == BB_ERR_NOMEM || p->nomem)
		rc = err_set(e, BB_ERR_NOMEM, "feed: out of memory");
	return rc;
}

/* ---- Atom 1.0 --------------------------------------------------------- */

/* The first atom:link with that rel ("alternate" also matches a link
 * without rel), preferring an HTML one. */
static xmlNodePtr atom_link(struct parse *p, xmlNodePtr parent, const char *rel)
{
	xmlNodePtr found = NULL;

	for (xmlNodePtr c = parent->children; c; c = c->next) {
		char *r, *type;
		bool match, html;

		if (!is_elem(c, NS_ATOM, "link"))
			continue;
		r = attr_of(p, c, "rel");
		type = attr_of(p, c, "type");
		match = r ? strcmp(r, rel) == 0 : strcmp(rel, "alternate") == 0;
		html = type == NULL || strcasecmp(type, "text/html") == 0;
		if (match && (found == NULL || html))
			found = c;
		free(r);
		free(type);
		if (match && html)
			break;
	}
	return found;
}

/* The href of that link resolved against its xml:base, else fallback. */
static char *atom_href(struct parse *p, xmlNodePtr link, const char *fallback)
{
	char *href = attr_of(p, link, "href"), *base = feed_base_of(p, link, fallback), *abs;

	if (href)
		trim(href);
	abs = feed_url_resolve(p, href, base);
	free(href);
	free(base);
	return abs;
}

/* A text construct (RFC 4287 §3.1) as plain text; NULL when absent. */
static char *atom_plain(struct parse *p, xmlNodePtr n)
{
	char *type = attr_of(p, n, "type"), *s;
	xmlNodePtr div;

	if (type && strcmp(type, "html") == 0) {
		char *html = text_of(p, n);

		s = feed_html_plain(p, html);
		free(html);
	} else if (type && strcmp(type, "xhtml") == 0) {
		div = child(n, NS_XHTML, "div");
		s = plain(text_of(p, div ? div : n));
	} else {
		s = plain(text_of(p, n));
	}
	free(type);
	return s;
}

/* The children of an xhtml div serialized (malloc'd in *out), without the
 * XHTML namespace so that they read as plain HTML. */
static enum bb_rc atom_xhtml(xmlDocPtr doc, xmlNodePtr div, char **out)
{
	struct sink s = {.rc = BB_OK};
	xmlOutputBufferPtr ob;

	buf_init(&s.b, FEED_HTML_MAX);
	for (xmlNodePtr n = div; n; n = next_node(n, div))
		if (n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
		    strcmp((const char *)n->ns->href, NS_XHTML) == 0)
			n->ns = NULL;
	ob = xmlOutputBufferCreateIO(feed_sink_write, NULL, &s, NULL);
	if (ob == NULL) {
		buf_free(&s.b);
		return BB_ERR_NOMEM;
	}
	for (xmlNodePtr c = div->children; c; c = c->next)
		xmlNodeDumpOutput(ob, doc, c, 0, 0, "UTF-8");
	return feed_sink_finish(&s, ob, out);
}

/* An atom:content or atom:summary as HTML source, not yet resolved
 * (malloc'd in *out, NULL when absent, out of line or not text). */
static enum bb_rc atom_html(struct parse *p, xmlNodePtr n, char **out)
{
	char *type = attr_of(p, n, "type"), *src = attr_of(p, n, "src"), *text = NULL;
	xmlNodePtr div = child(n, NS_XHTML, "div");
	enum bb_rc rc = BB_OK;

	*out = NULL;
	if (n == NULL || src != NULL)
		goto out;
	if (type && strcmp(type, "xhtml") == 0) {
		rc = atom_xhtml(p->doc, div ? div : n, out);
		goto out;
	}
	text = text_of(p, n);
	if (text == NULL)
		goto out;
	/* "text/html" is not Atom's word for HTML, but feeds write it. */
	if (type && (strcmp(type, "html") == 0 || strcasecmp(type, "text/html") == 0)) {
		*out = text;
		text = NULL;
	} else if (type == NULL || strcmp(type, "text") == 0 ||
		   strncasecmp(type, "text/", 5) == 0) {
		rc = strlen(text) > FEED_HTML_MAX ? BB_ERR_LIMIT : feed_html_escape(text, out);
	}
out:
	free(type);
	free(src);
	free(text);
	return rc;
}

static time_t atom_date(struct parse *p, xmlNodePtr entry, const char *name)
{
	char *s = word_of(p, child(entry, NS_ATOM, name));
	time_t t = 0;

	if (s && !time_parse_rfc3339(s, &t))
		t = 0;
	free(s);
	return t;
}

/* The entry's fields beyond its identity. */
static enum bb_rc atom_fields(struct parse *p, struct post *post, xmlNodePtr entry)
{
	xmlNodePtr n, c = child(entry, NS_ATOM, "content"), s = child(entry, NS_ATOM, "summary");
	char *content = NULL, *summary = NULL, *cbase = NULL, *sbase = NULL, *base;
	enum bb_rc rc;

	post->title = atom_plain(p, child(entry, NS_ATOM, "title"));
	n = child(child(entry, NS_ATOM, "author"), NS_ATOM, "name");
	if (n == NULL)
		n = child(child(child(entry, NS_ATOM, "source"), NS_ATOM, "author"), NS_ATOM,
			  "name");
	post->author = n ? plain(text_of(p, n)) : dup_str(p, p->author);
	post->published = atom_date(p, entry, "published");
	post->updated = atom_date(p, entry, "updated");
	if (post->published == 0)
		post->published = post->updated;
	post->language = lang_of(take_xml(p, xmlNodeGetLang(entry)));
	for (n = entry->children; n; n = n->next) {
		char *term = is_elem(n, NS_ATOM, "category") ? attr_of(p, n, "term") : NULL;

		if (is_elem(n, NS_ATOM, "category") && (term == NULL || *term == '\0')) {
			free(term);
			term = attr_of(p, n, "label");
		}
		tag_add(post, term);
	}
	base = dup_str(p, post->url ? post->url : p->feed->link);
	for (n = entry->children; n && !p->nomem; n = n->next) {
		char *type = is_elem(n, NS_ATOM, "link") ? attr_of(p, n, "type") : NULL;
		char *rel =
		    type && strncasecmp(type, "image/", 6) == 0 ? attr_of(p, n, "rel") : NULL;
		char *href = rel && strcmp(rel, "enclosure") == 0 ? atom_href(p, n, base) : NULL;

		feed_image_add(p, post, href, NULL, type, 0, 0);
		free(type);
		free(rel);
		free(href);
	}
	feed_media_images(p, post, entry, base);
	/* RFC 4287 §2: xml:base, where the feed sets one, governs the HTML. */
	cbase = feed_base_of(p, c, base);
	sbase = feed_base_of(p, s, base);
	rc = atom_html(p, c, &content);
	if (rc == BB_OK)
		rc = atom_html(p, s, &summary);
	if (rc == BB_OK && !p->nomem)
		rc = item_html(p, post, content, cbase, summary, sbase);
	free(content);
	free(summary);
	free(cbase);
	free(sbase);
	free(base);
	return rc;
}

static enum bb_rc atom_entry(struct parse *p, xmlNodePtr entry)
{
	struct post post = {0};
	xmlNodePtr link = atom_link(p, entry, "alternate");
	char *url = link ? atom_href(p, link, p->feed->link) : NULL;
	enum bb_rc rc = BB_OK;
	bool skip;

	skip = !item_identity(p, &post, word_of(p, child(entry, NS_ATOM, "id")), url);
	if (!skip && !p->nomem)
		rc = atom_fields(p, &post, entry);
	return item_finish(p, &post, rc, skip);
}

static enum bb_rc atom_parse(struct parse *p, xmlNodePtr root, struct err *e)
{
	xmlNodePtr link = atom_link(p, root, "alternate");
	struct feed *f = p->feed;
	enum bb_rc rc = BB_OK;

	f->title = atom_plain(p, child(root, NS_ATOM, "title"));
	f->link = link ? atom_href(p, link, NULL) : NULL;
	f->language = lang_of(take_xml(p, xmlNodeGetLang(root)));
	p->author = plain(text_of(p, child(child(root, NS_ATOM, "author"), NS_ATOM, "name")));
	for (xmlNodePtr c = root->children; c && rc == BB_OK; c = c->next) {
		if (!is_elem(c, NS_ATOM, "entry"))
			continue;
		if (f->nitems == FEED_ITEMS_MAX)
			f->nskipped++;
		else
			rc = atom_entry(p, c);
	}
	if (rc == BB_ERR_NOMEM || p->nomem)
		rc = err_set(e, BB_ERR_NOMEM, "feed: out of memory");
	return rc;
}

/* ---- the public entry points ------------------------------------------ */

enum bb_rc feed_parse(const char *data, size_t len, struct feed *out, struct err *e)
{
	xmlStructuredErrorFunc old_serror;
	xmlGenericErrorFunc old_generic;
	void *old_sctx, *old_gctx;
	struct parse p = {.feed = out};
	xmlNodePtr root;
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	if (len > FEED_BYTES_MAX)
		return err_set(e, BB_ERR_LIMIT, "feed: %zu bytes, over the limit of %d", len,
			       FEED_BYTES_MAX);
	if (data == NULL || len == 0)
		return err_set(e, BB_ERR_INVALID, "feed: empty document");
	pthread_once(&feed_once, feed_init);
	/* This thread's handlers (libxml2 keeps them per thread): whatever it
	 * reports outside the feed's own context (the HTML parser, URIs)
	 * goes nowhere, and the caller's are put back at the end. */
	old_serror = xmlStructuredError;
	old_sctx = xmlStructuredErrorContext;
	old_generic = xmlGenericError;
	old_gctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(NULL, silent_error);
	xmlSetGenericErrorFunc(NULL, silent_generic);
	rc = xml_read(data, len, &p.doc, e);
	if (rc != BB_OK)
		goto out;
	p.seen = xmlHashCreate(64);
	if (p.seen == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "feed: out of memory");
		goto out;
	}
	root = xmlDocGetRootElement(p.doc);
	if (is_elem(root, NULL, "rss")) {
		rc = rss_parse(&p, root, e);
	} else if (is_elem(root, NS_ATOM, "feed")) {
		rc = atom_parse(&p, root, e);
	} else {
		rc = err_set(e, BB_ERR_INVALID,
			     "feed: the document is <%.40s>, neither RSS 2.0 <rss> nor Atom <feed>",
			     root ? (const char *)root->name : "");
		goto out;
	}
	if (rc == BB_OK && out->title == NULL && (out->title = strdup("")) == NULL)
		rc = err_set(e, BB_ERR_NOMEM, "feed: out of memory");
out:
	free(p.author);
	if (p.seen)
		xmlHashFree(p.seen, NULL);
	if (p.doc)
		xmlFreeDoc(p.doc);
	xmlSetStructuredErrorFunc(old_sctx, old_serror);
	xmlSetGenericErrorFunc(old_gctx, old_generic);
	if (rc != BB_OK)
		feed_clear(out);
	return rc;
}

void feed_clear(struct feed *f)
{
	for (size_t i = 0; i < f->nitems; i++)
		post_clear(&f->items[i]);
	free(f->items);
	free(f->title);
	free(f->link);
	free(f->language);
	memset(f, 0, sizeof(*f));
}
