/*
 * render.h — the JSON (and XRD) documents that make the blog discoverable
 * and followable: WebFinger (RFC 7033), host-meta (RFC 6415), NodeInfo 2.1,
 * the actor, and OrderedCollections.
 *
 * Every function returns a new NUL-terminated string the caller frees, or
 * NULL when out of memory.  The shapes follow what Mastodon reads (see the
 * comments at each field); Mastodon does no JSON-LD processing of actors, so
 * the compact term names are what matter.
 */
#ifndef BB_AP_RENDER_H
#define BB_AP_RENDER_H

#include "site.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Serializes j compactly (keys in insertion order) and frees it; NULL
 * when j is NULL or out of memory. */
char *ap_json_dump(json_t *j);

/* The media type of an image from its URL's extension (before any query
 * or fragment), or NULL when unknown. */
const char *ap_image_media_type(const char *url);

/* Items per collection page. */
#define AP_COLLECTION_PAGE_SIZE 40

/* True when a WebFinger `resource` names our actor: acct:HANDLE@HOST
 * (case-insensitive, with or without "acct:"), or the actor id itself. */
bool ap_webfinger_matches(const struct ap_site *site, const char *resource);

char *ap_webfinger_render(const struct ap_site *site);
char *ap_host_meta_render(const struct ap_site *site);
char *ap_nodeinfo_links_render(const struct ap_site *site);
char *ap_nodeinfo_render(const struct ap_site *site, int64_t local_posts);
char *ap_actor_render(const struct ap_site *site);

/* An OrderedCollection with totalItems and a `first` page link (Mastodon
 * marks a collection without `first` as hidden). */
char *ap_collection_render(const char *id, int64_t total);

/* Page `page` (from 1) of the collection id, with the given item ids;
 * `has_next` adds a `next` link. */
char *ap_collection_page_render(const char *id, int64_t total, int64_t page,
				const char *const *items, size_t count, bool has_next);

/* A post's `replies` (MASTODON.md 7.4): a Collection whose `first` is
 * embedded, a CollectionPage of item ids (page 1) with `next` only when
 * has_next; Mastodon reads the first page inline and follows `next`,
 * which stays on our host (id?page=2). */
char *ap_replies_render(const char *id, int64_t total, const char *const *items, size_t count,
			bool has_next);

/* Page `page` (from 1) of a replies collection: a CollectionPage with
 * `items`, `partOf` id, and `next` only when has_next. */
char *ap_replies_page_render(const char *id, int64_t page, const char *const *items,
			     size_t count, bool has_next);

/* The same with embedded items, each given as a JSON object text (an
 * outbox page of Create activities).  NULL if one is not JSON. */
char *ap_collection_page_render_objects(const char *id, int64_t total, int64_t page,
					const char *const *items_json, size_t count,
					bool has_next);

#endif
