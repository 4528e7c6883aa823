/*
 * feed.h — the blog's feed, RSS 2.0 or Atom 1.0, parsed with libxml2.
 *
 * Safe on hostile input: no network access, no external entities or DTDs
 * loaded, entity expansion bounded (billion laughs refused), the document
 * at most FEED_BYTES_MAX, at most FEED_ITEMS_MAX items kept.  Relative URLs
 * (links, images, and href/src inside the content HTML) are resolved
 * against the item's link (in Atom, against the xml:base in scope where the
 * feed sets one, as RFC 4287 §2 says; item links against xml:base or the
 * feed's link); CDATA, entities and any encoding libxml2 knows are handled;
 * items without a guid use their link; duplicate items (same guid) are kept
 * once, the first.
 */
#ifndef BB_FEED_H
#define BB_FEED_H

#include "err.h"
#include "post.h"

#include <stddef.h>

#define FEED_BYTES_MAX (16 * 1024 * 1024)
#define FEED_ITEMS_MAX 500
#define FEED_TEXT_MAX 1024          /* title, author, tag: longer is cut at a UTF-8 boundary */
#define FEED_HTML_MAX (1024 * 1024) /* content, summary (URLs resolved): longer refuses the item */
#define FEED_URL_MAX 4096           /* guid, link: longer refuses the item; an image is dropped */

/* Each item is a struct post: title, content and guid never NULL (content
 * may be ""); url NULL only when the item has a guid but no link (nor a
 * permalink guid); published 0 when the item has no date at all. */
struct feed {
	char *title;    /* channel/feed title, plain text, never NULL */
	char *link;     /* the blog's home page, or NULL */
	char *language; /* channel language, or NULL */
	struct post *items;
	size_t nitems;
	size_t nskipped; /* items left out: no guid nor link, duplicate, over a limit,
			  * or past FEED_ITEMS_MAX */
};

/* Parses a feed document into out (cleared first; the caller frees it with
 * feed_clear, also after a failure).  BB_ERR_INVALID with the reason (and
 * line) for malformed XML, a document that declares entities (refused
 * outright: feeds have no use for them) or one that is neither RSS 2.0 nor
 * Atom; BB_ERR_LIMIT over FEED_BYTES_MAX, before any parsing.  Safe to call
 * from several threads at once; libxml2 reports nothing on stderr. */
enum bb_rc feed_parse(const char *data, size_t len, struct feed *out, struct err *e)
    BB_MUST_CHECK;

void feed_clear(struct feed *f);

#endif
