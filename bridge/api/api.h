/*
 * api.h — the comments of a post as the blog shows them: the thread read
 * from the store (approved comments only, oldest first), rendered as the
 * JSON of GET /api/comments (SPEC.md's shape) or as the HTML fragment of
 * GET /embed/comments, and a small cache of those renderings.
 *
 * Threading: a comment's parent is the comment it answers.  The renderers
 * nest a comment under its parent only when the parent is itself shown
 * and comes earlier (oldest first); any other comment (its parent
 * pending, deleted, or a forged loop) is shown at the top level, so no
 * data can make a comment vanish or the nesting loop.  Nesting stops at
 * API_THREAD_DEPTH_MAX: deeper replies are shown beside their parent.
 *
 * The fragment and comments.js write the same markup and class names
 * (fediverse-comments, fediverse-comment, fediverse-comment__...): one
 * stylesheet styles both.  Every value in the fragment is HTML-escaped
 * except the content, which the intake stored sanitized; only http(s)
 * URLs become links or images.
 */
#ifndef BB_API_H
#define BB_API_H

#include "err.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_THREAD_DEPTH_MAX 8

/* A post's shown thread.  Owned by the struct (api_thread_clear). */
struct api_thread {
	int64_t post; /* posts rowid */
	char *post_url;
	char *post_id;	 /* the object's ActivityPub id */
	int64_t version; /* store_post_comments_version when it was read */
	int64_t likes, boosts;
	struct store_comment *comments; /* approved, oldest first */
	size_t count, cap;
};

/* Reads the shown thread of p (a live post) into *out (overwritten, not
 * freed, first).  The version is read before the comments, so a
 * rendering cached under it is never older than it says. */
enum bb_rc api_thread_load(struct store *st, const struct store_post *p, struct api_thread *out,
			   struct err *e) BB_MUST_CHECK;

void api_thread_clear(struct api_thread *t);

/* For each comment, the index of the comment it answers when that one is
 * shown and earlier, or -1 (top level); with nest_max, a reply past
 * API_THREAD_DEPTH_MAX gets its parent's parent instead.  An array of
 * t->count the caller frees, or NULL (out of memory, or no comments). */
long *api_thread_parents(const struct api_thread *t, bool nest_max);

/* The JSON of GET /api/comments for t (SPEC.md): an allocated string, or
 * NULL when out of memory. */
char *api_thread_json(const struct api_thread *t);

enum api_lang { API_LANG_EN, API_LANG_FR };

/* The language a `lang` value (an <html lang> or a query parameter)
 * picks: French for "fr" and "fr-*", else English. */
enum api_lang api_lang_parse(const char *lang);

/* The HTML fragment of GET /embed/comments for t: an allocated string,
 * or NULL when out of memory. */
char *api_thread_html(const struct api_thread *t, enum api_lang lang);

/* The embed script (bridge/api/comments.js, built in) and its length. */
extern const char api_comments_js[];
extern const size_t api_comments_js_len;

/* ---- cache ---------------------------------------------------------- */

/* A bounded cache of renderings, keyed by (post, kind) and valid for one
 * comments version: a lookup under another version misses, and the put
 * that follows replaces the entry.  When all slots are taken, or the
 * bodies would pass max_bytes, the least recently used entries go; a body
 * over max_bytes / 4 is not kept.  Thread-safe (one mutex; a lookup copies
 * the body out, or shares it by reference, so an entry may be replaced
 * while it is being sent). */
struct api_cache;

/* A cache of `slots` entries (at least 1) holding at most max_bytes of
 * bodies, or NULL when out of memory. */
struct api_cache *api_cache_new(size_t slots, size_t max_bytes);
void api_cache_free(struct api_cache *c);

/* A copy of the body kept for (post, kind) at version (free it), with
 * its length in *len; NULL on a miss (or out of memory). */
char *api_cache_get(struct api_cache *c, int64_t post, int kind, int64_t version, size_t *len);

/* The body kept for (post, kind) at version itself, not a copy (with its
 * length in *len, NUL-terminated): read-only, held until
 * api_cache_release(body), however the cache changes meanwhile.  NULL on
 * a miss.  Counted in the stats as api_cache_get is. */
const char *api_cache_get_shared(struct api_cache *c, int64_t post, int kind, int64_t version,
				 size_t *len);
/* Lets go of a body from api_cache_get_shared (void *: an HTTP
 * server's free callback); NULL is fine. */
void api_cache_release(void *body);

/* Keeps a copy of body for (post, kind) at version, replacing what was
 * kept for that key; out of memory keeps nothing (a cache may forget). */
void api_cache_put(struct api_cache *c, int64_t post, int kind, int64_t version, const char *body,
		   size_t len);

/* Lookups answered from the cache and missed, since api_cache_new. */
void api_cache_stats(struct api_cache *c, uint64_t *hits, uint64_t *misses);

#endif
