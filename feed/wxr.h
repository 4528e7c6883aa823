/*
 * wxr.h — a WordPress export (WXR: RSS 2.0 with the wp: elements), read
 * as a stream with libxml2's xmlReader: one <item> in memory at a time, so
 * a 500 MB export takes what its largest post takes.  Each published post
 * (wp:post_type "post", wp:status "publish", no password) becomes a
 * struct post as feed_parse makes them: guid (the <guid>, as WordPress's
 * own feed writes it, so a post the feed brought is recognised), link,
 * title, HTML content with its paragraphs made as WordPress shows them and
 * URLs resolved against the link, excerpt, author, tags and categories,
 * dates from wp:post_date_gmt (else pubDate), the channel's language.
 * Pages, attachments, drafts and the rest are reported with a reason.
 *
 * wxr_feed_next serves the other way to bring an archive along: a feed
 * read page by page, following its RFC 5005 links.
 *
 * Safe on hostile input: no network, a document with a DOCTYPE (where
 * entities would be declared) is refused, an item larger than
 * WXR_ITEM_MAX is skipped.  It knows no ActivityPub.
 */
#ifndef BB_WXR_H
#define BB_WXR_H

#include "err.h"
#include "post.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WXR_ITEM_MAX (8 * 1024 * 1024)

struct wxr;

/* Whether the first bytes of a file (data, len) look like a WXR export:
 * the WordPress export namespace appears in them. */
bool wxr_sniff(const char *data, size_t len);

/* Opens the export at path for reading.  *out is freed with wxr_close.
 * BB_ERR_IO when the file cannot be opened. */
enum bb_rc wxr_open(const char *path, struct wxr **out, struct err *e) BB_MUST_CHECK;

/* The next item.  BB_OK with *post filled (the caller clears it) and
 * *skip NULL for a post to import; BB_OK with *skip a static reason
 * ("page", "draft", ...) and *post empty for an item left out;
 * BB_ERR_NOTFOUND at the end of the export; BB_ERR_INVALID with the line
 * for malformed XML or a DOCTYPE. */
enum bb_rc wxr_next(struct wxr *w, struct post *post, const char **skip,
		    struct err *e) BB_MUST_CHECK;

/* How far the reading is: bytes consumed of the file's size. */
void wxr_progress(const struct wxr *w, uint64_t *done, uint64_t *total);

void wxr_close(struct wxr *w);

/* A paged feed (RFC 5005): the URL of the page after the feed document
 * data (len bytes) read from base, from its feed-level Atom link with rel
 * "next" (paged feeds, §3) or else "prev-archive" (archived feeds, §4),
 * resolved against base; *next is NULL when there is none (malloc'd).
 * BB_ERR_INVALID for malformed XML or a DOCTYPE. */
enum bb_rc wxr_feed_next(const char *data, size_t len, const char *base, char **next,
			 struct err *e) BB_MUST_CHECK;

#endif
