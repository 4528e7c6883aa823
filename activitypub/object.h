/*
 * object.h — a blog post as an ActivityPub object, and the activities that
 * carry it (Create, Update, Delete), rendered the way Mastodon shows them
 * well (see MASTODON.md §6).
 *
 * - Note (default): content = the title as a strong line, the post's HTML
 *   reduced to what Mastodon renders (p br a blockquote ul ol li em strong
 *   b i u del s code pre span; headings become <p><strong>; images are
 *   removed from the text and become attachments; other tags unwrapped;
 *   scripts, styles and comments dropped; links only http(s)), then a link
 *   to the post; with excerpt mode, the feed's summary or the first ~500
 *   characters cut at a word boundary, then a "Read more" link.  A Note
 *   never has a `summary` (Mastodon shows it as a content warning).
 * - Article: name (the title), summary (a plain-text teaser of the post,
 *   HTML-escaped in a <p>), content (the full reduced HTML), url.
 * - Both: id (stable, on our host), url (the permalink), attributedTo,
 *   published, updated (only when it differs from published), to Public, cc
 *   followers, contentMap when the language is known, tag (Hashtags from
 *   the categories: name "#Tag" with spaces and punctuation folded so
 *   Mastodon accepts it, href to the blog's tag page when known), the
 *   same hashtags linked at the end of the content, attachment (Document,
 *   mediaType, url, name = alt, width/height; at most 4; never a top-level
 *   href), replies (a collection URL).
 */
#ifndef BB_OBJECT_H
#define BB_OBJECT_H

#include "err.h"
#include "post.h"
#include "site.h"

#include <stdbool.h>
#include <time.h>

enum object_kind { OBJECT_NOTE, OBJECT_ARTICLE };

struct object_options {
	enum object_kind kind;
	bool excerpt;         /* notes: a teaser + "Read more" instead of the whole post */
	const char *language; /* default when the post has none; NULL for unknown */
	/* The blog's tag pages, "{slug}" standing for the tag's slug (lower
	 * case, words joined by '-', e.g. "https://blog.example/tag/{slug}/"
	 * for WordPress); NULL when unknown: the Hashtag then has no href and
	 * its link in the content points to the post. */
	const char *tag_url;
};

#define OBJECT_EXCERPT_CHARS 500

/* The most bytes of HTML in `content`, cut at an element boundary.  The
 * content is carried twice (content and contentMap) and Mastodon refuses
 * JSON over 1 MiB (MASTODON.md §6.3), hence well under half of that. */
#define OBJECT_CONTENT_MAX (384 * 1024)

/* The hashtag name for a category: words joined, each word after the
 * first starting with an upper-case letter (ASCII letters only are
 * changed), punctuation dropped ("médias sociaux" → "#médiasSociaux",
 * "Does This Need a New Category?" → "#DoesThisNeedANewCategory"),
 * written into out with its leading '#' (the Hashtag's `name`); false when
 * nothing usable remains (no letter: Mastodon refuses all-digit tags).
 * Never splits a UTF-8 sequence: a name longer than outlen is cut at a
 * character boundary; invalid bytes are skipped. */
bool object_hashtag_name(const char *category, char *out, size_t outlen);

/* The object for post p with the given id.  A new JSON string (the caller
 * frees it), or NULL when out of memory. */
char *object_render(const struct ap_site *site, const struct object_options *opt,
		    const struct post *p, const char *id);

/* The object for post p rendered once and serialized in two forms:
 * *unedited as object_render gives it for p with updated = published (no
 * `updated` field: what publish.c hashes to tell an edit), and, when
 * p->updated > p->published, *edited as object_render gives it for p
 * (else *edited is NULL).  The caller frees both.  BB_ERR_NOMEM (both
 * NULL). */
enum bb_rc object_render_forms(const struct ap_site *site, const struct object_options *opt,
			       const struct post *p, const char *id, char **unedited,
			       char **edited) BB_MUST_CHECK;

/* The activity wrapping an object: type "Create" or "Update" around the
 * object JSON (embedded whole), with its own id, actor, published, to/cc.
 * NULL when out of memory or object_json is not JSON. */
char *object_activity_render(const struct ap_site *site, const char *type, const char *id,
			     const char *object_json, time_t published);

/* A Delete of the object id, whose object is a Tombstone. */
char *object_delete_render(const struct ap_site *site, const char *id, const char *object_id,
			   time_t now);

/* The Tombstone served at a deleted object's id (with a 404). */
char *object_tombstone_render(const char *object_id, time_t deleted);

#endif
