/*
 * wxr.c — see wxr.h.  The reader walks the document; each <item> under
 * <channel> is expanded (libxml2 builds that subtree only, and frees it
 * when the reader moves on) and read like an RSS item, with the wp:
 * elements deciding whether it is a published post.  WordPress stores a
 * post's text without its paragraphs (wpautop adds them when the page is
 * shown): wxr_autop does the same for the blank-line-separated text.
 */
#include "wxr.h"
#include "feed_int.h"

#include "buf.h"
#include "timeutil.h"

#include <libxml/xmlreader.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WXR_NS "http://wordpress.org/export/"
#define WXR_READER_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/* libxml2 2.12 made the error argument const (as in feed.c). */
#if LIBXML_VERSION >= 21200
typedef const xmlError *wxr_error_arg;
#else
typedef xmlErrorPtr wxr_error_arg;
#endif

struct wxr {
	xmlTextReaderPtr reader;
	char *language; /* the channel's, or NULL */
	uint64_t size;
	int err_line;
	char err_msg[160];
};

bool wxr_sniff(const char *data, size_t len)
{
	return memmem(data, len, WXR_NS, strlen(WXR_NS)) != NULL;
}

/* The reader's first error, kept for wxr_next's message. */
static void on_error(void *arg, wxr_error_arg err)
{
	struct wxr *w = arg;

	if (err == NULL || err->level < XML_ERR_ERROR || w->err_msg[0] != '\0')
		return;
	w->err_line = err->line;
	snprintf(w->err_msg, sizeof(w->err_msg), "%s",
		 err->message ? err->message : "malformed XML");
	w->err_msg[strcspn(w->err_msg, "\n")] = '\0';
}

enum bb_rc wxr_open(const char *path, struct wxr **out, struct err *e)
{
	struct wxr *w = calloc(1, sizeof(*w));
	struct stat sb;

	*out = NULL;
	if (w == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	if (stat(path, &sb) == 0)
		w->size = (uint64_t)sb.st_size;
	w->reader = xmlReaderForFile(path, NULL, WXR_READER_OPTIONS);
	if (w->reader == NULL) {
		free(w);
		return err_set(e, BB_ERR_IO, "%s: cannot be read", path);
	}
	xmlTextReaderSetStructuredErrorHandler(w->reader, on_error, w);
	*out = w;
	return BB_OK;
}

void wxr_progress(const struct wxr *w, uint64_t *done, uint64_t *total)
{
	long n = xmlTextReaderByteConsumed(w->reader);

	*done = n > 0 ? (uint64_t)n : 0;
	*total = w->size;
}

void wxr_close(struct wxr *w)
{
	if (w == NULL)
		return;
	xmlFreeTextReader(w->reader);
	free(w->language);
	free(w);
}

/* ---- one item --------------------------------------------------------- */

/* Whether n is the WordPress element name (any export version). */
static bool is_wp(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strncmp((const char *)n->ns->href, WXR_NS, strlen(WXR_NS)) == 0 &&
	       strstr((const char *)n->ns->href, "/excerpt/") == NULL &&
	       strcmp((const char *)n->name, name) == 0;
}

static bool is_excerpt(xmlNodePtr n)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strstr((const char *)n->ns->href, "/excerpt/") != NULL &&
	       strcmp((const char *)n->name, "encoded") == 0;
}

/* The text of n, trimmed (malloc'd), or NULL. */
static char *text_trimmed(struct parse *p, xmlNodePtr n)
{
	char *s = text_of(p, n);

	if (s)
		trim(s);
	return s;
}

/* Tags that start a block: text beginning with one is not put in a <p>. */
static bool starts_block(const char *s)
{
	static const char *const blocks[] = {
	    "p",  "div",  "h1",	     "h2",	   "h3",     "h4",	"h5",	 "h6",
	    "ul", "ol",	  "li",	     "blockquote", "pre",    "figure",	"table", "hr",
	    "dl", "form", "section", "aside",	   "iframe", "address", NULL};

	if (s[0] != '<')
		return false;
	if (strncmp(s, "<!--", 4) == 0)
		return true;
	for (size_t i = 0; blocks[i]; i++) {
		size_t n = strlen(blocks[i]);
		if (strncasecmp(s + 1, blocks[i], n) == 0 &&
		    (s[1 + n] == '>' || s[1 + n] == ' ' || s[1 + n] == '/' || s[1 + n] == '\n'))
			return true;
	}
	return false;
}

/* WordPress's wpautop, in short: text separated by blank lines becomes
 * paragraphs, a single newline inside one a <br />; a chunk that starts
 * with a block element (or a block editor comment) is kept as it is. */
static enum bb_rc wxr_autop(const char *text, char **out)
{
	struct buf b;
	const char *s = text;
	enum bb_rc rc = BB_OK;

	*out = NULL;
	buf_init(&b, FEED_HTML_MAX);
	while (*s && rc == BB_OK) {
		const char *end, *next;
		size_t len;

		while (is_space(*s))
			s++;
		end = strstr(s, "\n\n");
		if (end == NULL)
			end = s + strlen(s);
		next = end;
		while (end > s && is_space(end[-1]))
			end--;
		len = (size_t)(end - s);
		if (len == 0) {
			s = next;
			continue;
		}
		if (starts_block(s)) {
			rc = buf_append(&b, s, len);
		} else {
			rc = buf_puts(&b, "<p>");
			for (const char *q = s; q < end && rc == BB_OK; q++)
				rc = *q == '\n' ? buf_puts(&b, "<br />\n") : buf_append(&b, q, 1);
			if (rc == BB_OK)
				rc = buf_puts(&b, "</p>");
		}
		if (rc == BB_OK)
			rc = buf_puts(&b, "\n");
		s = next;
	}
	if (rc == BB_OK && (*out = buf_take(&b)) == NULL && (*out = strdup("")) == NULL)
		rc = BB_ERR_NOMEM;
	buf_free(&b);
	return rc;
}

/* "2019-05-01 10:00:00" (wp:post_date_gmt) as a time; 0 when absent or
 * WordPress's "0000-00-00 00:00:00". */
static time_t wp_date(const char *s)
{
	char iso[32];
	time_t t;

	if (s == NULL || strlen(s) != 19 || s[10] != ' ' || strncmp(s, "0000", 4) == 0)
		return 0;
	snprintf(iso, sizeof(iso), "%.10sT%.8sZ", s, s + 11);
	return time_parse_rfc3339(iso, &t) ? t : 0;
}

/* What the wp: and RSS elements of an item say, before it is a post. */
struct wxr_item {
	char *type, *status, *password, *date_gmt, *modified_gmt;
	char *title, *link, *guid, *pub, *creator, *content, *excerpt;
};

static void wxr_item_clear(struct wxr_item *it)
{
	char **f[] = {&it->type,	 &it->status,  &it->password, &it->date_gmt,
		      &it->modified_gmt, &it->title,   &it->link,     &it->guid,
		      &it->pub,		 &it->creator, &it->content,  &it->excerpt};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
}

/* Sets *slot to n's text unless it is already set (the first wins). */
static void take_first(struct parse *p, char **slot, xmlNodePtr n)
{
	if (*slot == NULL)
		*slot = text_trimmed(p, n);
}

/* Reads the children of item into it, and the tags into post. */
static void wxr_item_read(struct parse *p, xmlNodePtr item, struct wxr_item *it, struct post *post)
{
	for (xmlNodePtr n = item->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_wp(n, "post_type"))
			take_first(p, &it->type, n);
		else if (is_wp(n, "status"))
			take_first(p, &it->status, n);
		else if (is_wp(n, "post_password"))
			take_first(p, &it->password, n);
		else if (is_wp(n, "post_date_gmt"))
			take_first(p, &it->date_gmt, n);
		else if (is_wp(n, "post_modified_gmt"))
			take_first(p, &it->modified_gmt, n);
		else if (is_elem(n, NS_CONTENT, "encoded"))
			take_first(p, &it->content, n);
		else if (is_excerpt(n))
			take_first(p, &it->excerpt, n);
		else if (is_elem(n, NS_DC, "creator"))
			take_first(p, &it->creator, n);
		else if (is_elem(n, NULL, "title"))
			take_first(p, &it->title, n);
		else if (is_elem(n, NULL, "link"))
			take_first(p, &it->link, n);
		else if (is_elem(n, NULL, "guid"))
			take_first(p, &it->guid, n);
		else if (is_elem(n, NULL, "pubDate"))
			take_first(p, &it->pub, n);
		else if (is_elem(n, NULL, "category") && post->ntags < POST_TAGS_MAX) {
			char *tag = text_trimmed(p, n);
			if (tag && tag[0] && strcmp(tag, "Uncategorized") != 0)
				post->tags[post->ntags++] = tag;
			else
				free(tag);
		}
	}
}

/* Why an item is not a post to import, or NULL when it is one. */
static const char *wxr_item_skip(const struct wxr_item *it)
{
	if (it->type == NULL || strcmp(it->type, "post") != 0) {
		if (it->type && strcmp(it->type, "page") == 0)
			return "page";
		if (it->type && strcmp(it->type, "attachment") == 0)
			return "attachment";
		return "not a post (wp:post_type)";
	}
	if (it->status == NULL || strcmp(it->status, "publish") != 0)
		return it->status && strcmp(it->status, "draft") == 0 ? "draft" : "not published";
	if (it->password && it->password[0])
		return "password protected";
	if ((it->link == NULL || !is_http(it->link)) && (it->guid == NULL || it->guid[0] == '\0'))
		return "no link nor guid";
	return NULL;
}

/* Makes the post of a publishable item. */
static enum bb_rc wxr_item_post(struct parse *p, struct wxr *w, struct wxr_item *it,
				struct post *post)
{
	char *html = NULL;
	enum bb_rc rc;
	time_t t = 0;

	post->url = it->link && is_http(it->link) ? dup_str(p, it->link) : NULL;
	post->guid = dup_str(p, it->guid && it->guid[0] ? it->guid : it->link);
	post->title = dup_str(p, it->title ? plain(it->title) : "");
	post->author = it->creator && it->creator[0] ? dup_str(p, it->creator) : NULL;
	post->language = w->language ? dup_str(p, w->language) : NULL;
	post->published = wp_date(it->date_gmt);
	if (post->published == 0 && it->pub && time_parse_rfc822(it->pub, &t))
		post->published = t;
	post->updated = wp_date(it->modified_gmt);
	if (post->updated < post->published)
		post->updated = post->published;
	if (p->nomem)
		return BB_ERR_NOMEM;
	rc = wxr_autop(it->content ? it->content : "", &html);
	if (rc == BB_OK)
		rc = feed_html_rewrite(p, html, post->url, post, &post->content);
	if (rc == BB_OK && it->excerpt && it->excerpt[0])
		rc = feed_html_rewrite(p, it->excerpt, post->url, NULL, &post->summary);
	free(html);
	if (rc == BB_OK && p->nomem)
		rc = BB_ERR_NOMEM;
	return rc;
}

/* Reads one expanded <item>. */
static enum bb_rc wxr_item(struct wxr *w, xmlNodePtr item, struct post *post, const char **skip)
{
	struct parse p = {0};
	struct wxr_item it = {0};
	enum bb_rc rc = BB_OK;

	memset(post, 0, sizeof(*post));
	wxr_item_read(&p, item, &it, post);
	*skip = p.nomem ? NULL : wxr_item_skip(&it);
	if (p.nomem)
		rc = BB_ERR_NOMEM;
	else if (*skip == NULL)
		rc = wxr_item_post(&p, w, &it, post);
	if (rc == BB_ERR_LIMIT) {
		*skip = "content too large";
		rc = BB_OK;
	}
	if (rc != BB_OK || *skip != NULL)
		post_clear(post);
	wxr_item_clear(&it);
	return rc;
}

/* ---- the walk --------------------------------------------------------- */

/* The reader's error as BB_ERR_INVALID. */
static enum bb_rc reader_error(struct wxr *w, struct err *e)
{
	if (w->err_msg[0])
		return err_set(e, BB_ERR_INVALID, "export: line %d: %s", w->err_line, w->err_msg);
	return err_set(e, BB_ERR_INVALID, "export: malformed XML");
}

/* The channel's <language>, at the reader's position. */
static void channel_language(struct wxr *w)
{
	xmlChar *s = xmlTextReaderReadString(w->reader);

	if (s && w->language == NULL) {
		w->language = strdup((const char *)s);
		if (w->language)
			trim(w->language);
	}
	xmlFree(s);
}

enum bb_rc wxr_next(struct wxr *w, struct post *post, const char **skip, struct err *e)
{
	int r;

	*skip = NULL;
	memset(post, 0, sizeof(*post));
	while ((r = xmlTextReaderRead(w->reader)) == 1) {
		int type = xmlTextReaderNodeType(w->reader);
		int depth = xmlTextReaderDepth(w->reader);
		const char *name = (const char *)xmlTextReaderConstLocalName(w->reader);
		xmlNodePtr item;
		enum bb_rc rc;

		if (type == XML_READER_TYPE_DOCUMENT_TYPE)
			return err_set(e, BB_ERR_INVALID,
				       "export: a DOCTYPE is refused (entities)");
		if (type != XML_READER_TYPE_ELEMENT || depth != 2 || name == NULL)
			continue;
		if (strcmp(name, "language") == 0) {
			channel_language(w);
			continue;
		}
		if (strcmp(name, "item") != 0)
			continue;
		item = xmlTextReaderExpand(w->reader);
		if (item == NULL)
			return reader_error(w, e);
		if (xmlTextReaderByteConsumed(w->reader) < 0)
			return reader_error(w, e);
		rc = wxr_item(w, item, post, skip);
		if (rc != BB_OK)
			return err_set(e, rc, "export: out of memory");
		/* Past the item: its subtree is freed. */
		if (xmlTextReaderNext(w->reader) < 0)
			return reader_error(w, e);
		return BB_OK;
	}
	if (r < 0)
		return reader_error(w, e);
	return err_set(e, BB_ERR_NOTFOUND, "export: end");
}

/* ---- paged feeds (RFC 5005) ------------------------------------------- */

/* rel of the Atom <link> at the reader's position: 2 for "next", 1 for
 * "prev-archive", 0 for another. */
static int page_link_rank(xmlTextReaderPtr r)
{
	xmlChar *rel = xmlTextReaderGetAttribute(r, (const xmlChar *)"rel");
	int rank = 0;

	if (rel && strcmp((const char *)rel, "next") == 0)
		rank = 2;
	else if (rel && strcmp((const char *)rel, "prev-archive") == 0)
		rank = 1;
	xmlFree(rel);
	return rank;
}

enum bb_rc wxr_feed_next(const char *data, size_t len, const char *base, char **next, struct err *e)
{
	struct wxr w = {0};
	struct parse p = {0};
	xmlChar *best = NULL;
	int best_rank = 0, r;
	enum bb_rc rc = BB_OK;

	*next = NULL;
	if (len > INT_MAX)
		return err_set(e, BB_ERR_LIMIT, "feed page too large");
	w.reader = xmlReaderForMemory(data, (int)len, base, NULL, WXR_READER_OPTIONS);
	if (w.reader == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	xmlTextReaderSetStructuredErrorHandler(w.reader, on_error, &w);
	while ((r = xmlTextReaderRead(w.reader)) == 1) {
		int type = xmlTextReaderNodeType(w.reader), rank;
		const char *name = (const char *)xmlTextReaderConstLocalName(w.reader);
		const char *ns = (const char *)xmlTextReaderConstNamespaceUri(w.reader);

		if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
			rc = err_set(e, BB_ERR_INVALID,
				     "feed page: a DOCTYPE is refused (entities)");
			goto out;
		}
		if (type != XML_READER_TYPE_ELEMENT || name == NULL)
			continue;
		/* Items and entries hold links of their own: not the feed's. */
		if (strcmp(name, "item") == 0 || strcmp(name, "entry") == 0) {
			if (xmlTextReaderNext(w.reader) < 0)
				break;
			continue;
		}
		if (strcmp(name, "link") != 0 || ns == NULL || strcmp(ns, NS_ATOM) != 0 ||
		    (rank = page_link_rank(w.reader)) <= best_rank)
			continue;
		xmlFree(best);
		best = xmlTextReaderGetAttribute(w.reader, (const xmlChar *)"href");
		best_rank = best ? rank : 0;
	}
	if (r < 0 || w.err_msg[0]) {
		rc = w.err_msg[0] ? err_set(e, BB_ERR_INVALID, "feed page: line %d: %s", w.err_line,
					    w.err_msg)
				  : err_set(e, BB_ERR_INVALID, "feed page: malformed XML");
		goto out;
	}
	if (best) {
		*next = feed_url_resolve(&p, (const char *)best, base);
		if (*next == NULL)
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
	}
out:
	xmlFree(best);
	xmlFreeTextReader(w.reader);
	return rc;
}
