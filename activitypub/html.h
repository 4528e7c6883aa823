/*
 * html.h — HTML reduced to the subset Mastodon renders (MASTODON.md §6.3,
 * the MASTODON_STRICT config in lib/sanitize_ext/sanitize_config.rb), and
 * the escaping that goes with it.  object.c reduces a blog post's content
 * and teaser with it; the HTML of incoming replies is meant to go through
 * the same reduction.
 *
 * What html_reduce keeps: p br a blockquote ul ol li em strong b i u del s
 * code pre span; h1-h6 become <p><strong>, kbd and tt <code>, strike <s>.
 * An <a> keeps only an http(s) href (absolute, or "/path" and "//host/path"
 * resolved against the base URL; javascript:, data:, relative paths and
 * control characters unwrap the link), and an <a> or <span> keeps only the
 * classes "mention" and "hashtag"; no other attribute survives.  Removed
 * with their content: images (object.c makes them attachments), scripts,
 * styles, embedded players, forms, document metadata and comments.  Every
 * other element is unwrapped and its text kept; block containers (div,
 * table cells, ...) still separate paragraphs.  A link inside a link, a
 * stray <li> and elements nested deeper than HTML_DEPTH_MAX are unwrapped
 * too; blocks that end up empty are dropped.  The result is well formed
 * (every element it opens is closed) and valid UTF-8 (invalid bytes become
 * U+FFFD), within the byte and character budgets the caller gives.
 */
#ifndef BB_HTML_H
#define BB_HTML_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTML_INPUT_MAX (4 * 1024 * 1024)	 /* longer HTML is parsed up to here */
#define HTML_DEPTH_MAX 64			 /* kept elements nested deeper are unwrapped */
#define HTML_CLOSE_RESERVE (HTML_DEPTH_MAX * 16) /* room to close them all */

/* Appends html, reduced as described above, to out.
 * - base: the URL of the document the HTML comes from (a post's
 *   permalink), against which "/path" and "//host/path" links resolve;
 *   NULL or not http(s): such links are unwrapped.
 * - max_bytes: the most bytes appended after out->len.  Past the budget,
 *   the output ends at an element boundary (the innermost block that did
 *   not fit is left out whole, unless nothing showed before it), and the
 *   open elements are closed within HTML_CLOSE_RESERVE.  With max_bytes at
 *   or below HTML_CLOSE_RESERVE nothing is appended.  out's own limit must
 *   leave room for out->len + max_bytes.
 * - max_chars: the most characters of text (SIZE_MAX: no limit).  Past it
 *   the text is cut at the last space before the limit and ends with "…".
 * - plain: text only, no tags: HTML-escaped words separated by single
 *   spaces (blocks and <br> count as spaces), for a teaser; base is unused.
 * - *visible: set to whether any non-blank text was written.
 * BB_OK also for NULL or empty html and for HTML libxml2 cannot read
 * (nothing appended); BB_ERR_NOMEM when out of memory, and BB_ERR_LIMIT
 * when out's limit is too small, with out then holding a partial result.
 * Safe to call from several threads at once; the parser's complaints about
 * the HTML go nowhere (the calling thread's libxml2 error handlers are put
 * back before it returns). */
enum bb_rc html_reduce(const char *html, const char *base, size_t max_bytes, size_t max_chars,
		       bool plain, struct buf *out, bool *visible) BB_MUST_CHECK;

/* html_reduce (no character budget, not plain) for the HTML of a reply
 * from the fediverse, with three differences: every link also gets
 * rel="nofollow noopener ugc"; an <a> or <span> keeps the classes of
 * Mastodon's mention, hashtag and link markup (h-card, u-url, mention,
 * hashtag, invisible, ellipsis); an <img> whose alt is a custom emoji's
 * ":shortcode:" becomes that text (any other image is dropped as
 * always).  base: the reply's id, against which "/path" links resolve.
 * The byte budget cuts, as html_reduce documents, at whole elements and
 * characters. */
enum bb_rc html_reduce_reply(const char *html, const char *base, size_t max_bytes,
			     struct buf *out, bool *visible) BB_MUST_CHECK;

/* Appends s[0..n) as HTML text to b: & < > (and " when attr, for an
 * attribute value in double quotes) escaped, invalid UTF-8 replaced by
 * U+FFFD, at most max_chars characters (SIZE_MAX: all), "…" after a cut.
 * BB_ERR_LIMIT or BB_ERR_NOMEM from b, which may then hold part of it. */
enum bb_rc html_escape_cut(struct buf *b, const char *s, size_t n, bool attr,
			   size_t max_chars) BB_MUST_CHECK;

/* html_escape_cut of the whole NUL-terminated string s. */
enum bb_rc html_escape(struct buf *b, const char *s, bool attr) BB_MUST_CHECK;

/* The length of the valid UTF-8 sequence at s (n bytes available) and its
 * code point in *cp, or 0 when the bytes there are not valid UTF-8
 * (overlong forms, surrogates and values past U+10FFFF are not): the test
 * html_escape_cut replaces by. */
size_t html_utf8_decode(const char *s, size_t n, uint32_t *cp);

#endif
