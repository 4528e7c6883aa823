/*
 * render.c — see render.h.  References: Mastodon's app/lib/webfinger.rb,
 * app/services/activitypub/process_account_service.rb (what it reads from
 * an actor), NodeInfo 2.1 schema, RFC 6415 §3 (host-meta), FEP-2c59
 * (the `webfinger` actor property).
 */
#include "render.h"
#include "buf.h"
#include "post.h"
#include "timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RENDER_LIMIT (1024 * 1024)

char *ap_json_dump(json_t *j)
{
	char *s;

	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

bool ap_webfinger_matches(const struct ap_site *site, const char *resource)
{
	const char *at;
	size_t hl = strlen(site->cfg.handle);

	if (strcmp(resource, site->actor_id) == 0)
		return true;
	if (strncasecmp(resource, "acct:", 5) == 0)
		resource += 5;
	if (resource[0] == '@') /* "@blog@host", as users type it */
		resource++;
	at = strchr(resource, '@');
	if (at == NULL || (size_t)(at - resource) != hl)
		return false;
	return strncasecmp(resource, site->cfg.handle, hl) == 0 &&
	       strcasecmp(at + 1, site->cfg.host) == 0;
}

char *ap_webfinger_render(const struct ap_site *site)
{
	char subject[512];

	snprintf(subject, sizeof(subject), "acct:%s", site->acct);
	/* Mastodon needs `subject` and a `self` link whose type is exactly
	 * application/activity+json and whose href is the actor id byte for
	 * byte (app/lib/webfinger.rb:34-46). */
	return ap_json_dump(json_pack("{s:s, s:[s,s], s:[{s:s,s:s,s:s},{s:s,s:s,s:s}]}", "subject",
			      subject, "aliases", site->actor_id, site->cfg.blog_url, "links",
			      "rel", "self", "type", AP_CONTENT_TYPE, "href", site->actor_id, "rel",
			      "http://webfinger.net/rel/profile-page", "type", "text/html", "href",
			      site->cfg.blog_url));
}

/* Escapes the five XML special characters. */
static enum bb_rc xml_escape(struct buf *b, const char *s)
{
	enum bb_rc rc = BB_OK;

	for (; *s && rc == BB_OK; s++) {
		switch (*s) {
		case '&': rc = buf_puts(b, "&amp;"); break;
		case '<': rc = buf_puts(b, "&lt;"); break;
		case '>': rc = buf_puts(b, "&gt;"); break;
		case '"': rc = buf_puts(b, "&quot;"); break;
		case '\'': rc = buf_puts(b, "&apos;"); break;
		default: rc = buf_append(b, s, 1); break;
		}
	}
	return rc;
}

char *ap_host_meta_render(const struct ap_site *site)
{
	struct buf b;

	buf_init(&b, RENDER_LIMIT);
	/* Mastodon looks for //xmlns:Link[@rel="lrdd"], so the XRD namespace
	 * must be the default one (app/lib/webfinger.rb:96). */
	if (buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			 "<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n"
			 "  <Link rel=\"lrdd\" type=\"application/jrd+json\" template=\"") != BB_OK ||
	    xml_escape(&b, site->cfg.base_url) != BB_OK ||
	    buf_puts(&b, AP_PATH_WEBFINGER "?resource={uri}\"/>\n</XRD>\n") != BB_OK) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

char *ap_nodeinfo_links_render(const struct ap_site *site)
{
	char href[1024];

	snprintf(href, sizeof(href), "%s%s", site->cfg.base_url, AP_PATH_NODEINFO);
	return ap_json_dump(json_pack("{s:[{s:s,s:s}]}", "links", "rel",
			      "http://nodeinfo.diaspora.software/ns/schema/2.1", "href", href));
}

char *ap_nodeinfo_render(const struct ap_site *site, int64_t local_posts)
{
	return ap_json_dump(json_pack(
	    "{s:s, s:{s:s,s:s}, s:[s], s:{s:[s,s],s:[]}, s:b,"
	    " s:{s:{s:i,s:i,s:i}, s:I}, s:{s:s}}",
	    "version", "2.1", "software", "name", "blogbridge", "version",
	    site->cfg.software_version, "protocols", "activitypub", "services", "inbound",
	    "atom1.0", "rss2.0", "outbound", "openRegistrations", 0, "usage", "users", "total", 1,
	    "activeMonth", 1, "activeHalfyear", 1, "localPosts", (json_int_t)local_posts,
	    "metadata", "nodeName", site->cfg.name));
}

/* Wraps plain text in <p>, escaped; HTML as is.  Text counts as HTML when
 * it has a closing tag or a <br>: "Life & <times>" stays text. */
static char *summary_html(const char *summary)
{
	struct buf b;

	if (summary[0] == '\0' || strstr(summary, "</") != NULL || strcasestr(summary, "<br"))
		return strdup(summary);
	buf_init(&b, RENDER_LIMIT);
	if (buf_puts(&b, "<p>") != BB_OK || xml_escape(&b, summary) != BB_OK ||
	    buf_puts(&b, "</p>") != BB_OK) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

const char *ap_image_media_type(const char *url)
{
	return post_image_media_type(url); /* one table, in feed/ */
}

static json_t *actor_context(bool moved)
{
	/* alsoKnownAs needs no term: the ActivityStreams context has it. */
	json_t *ctx = json_pack("[s,s,s,{s:s,s:s,s:s,s:s}]", AP_CONTEXT_AS,
				"https://w3id.org/security/v1",
				"https://purl.archive.org/socialweb/webfinger",
				"manuallyApprovesFollowers", "as:manuallyApprovesFollowers", "toot",
				"http://joinmastodon.org/ns#", "discoverable", "toot:discoverable",
				"indexable", "toot:indexable");

	/* movedTo's term as Mastodon's context defines it (context_helper.rb);
	 * only when moved, so that the document of a blog that has not moved
	 * stays as it was. */
	if (ctx != NULL && moved &&
	    json_object_set_new(json_array_get(ctx, 3), "movedTo",
				json_pack("{s:s,s:s}", "@id", "as:movedTo", "@type", "@id")) != 0) {
		json_decref(ctx);
		return NULL;
	}
	return ctx;
}

/* actor[name] = an Image object of url, when url is set.  Not a bare
 * string: that would be dereferenced as an ActivityPub object
 * (process_account_service.rb:357-360). */
static enum bb_rc actor_image_set(json_t *actor, const char *name, const char *url)
{
	const char *mt;
	json_t *img;

	if (url == NULL)
		return BB_OK;
	mt = ap_image_media_type(url);
	img = json_pack("{s:s, s:s}", "type", "Image", "url", url);
	if (img == NULL || (mt && json_object_set_new(img, "mediaType", json_string(mt)) != 0)) {
		json_decref(img);
		return BB_ERR_NOMEM;
	}
	return json_object_set_new(actor, name, img) == 0 ? BB_OK : BB_ERR_NOMEM;
}

/* actor.alsoKnownAs = the ids, when there is one: the accounts that may
 * move their followers here (Mastodon checks it on a Move). */
static enum bb_rc actor_aka_set(json_t *actor, const char *const *ids)
{
	json_t *arr;

	if (ids == NULL || ids[0] == NULL)
		return BB_OK;
	arr = json_array();
	for (size_t i = 0; arr != NULL && ids[i] != NULL; i++) {
		if (json_array_append_new(arr, json_string(ids[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	if (arr == NULL)
		return BB_ERR_NOMEM;
	return json_object_set_new(actor, "alsoKnownAs", arr) == 0 ? BB_OK : BB_ERR_NOMEM;
}

char *ap_actor_render(const struct ap_site *site)
{
	char published[TIME_RFC3339_LEN];
	char *summary = summary_html(site->cfg.summary);
	json_t *actor = NULL;

	if (summary == NULL)
		return NULL;
	time_rfc3339(site->cfg.published, published);
	actor = json_pack(
	    "{s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s},"
	    " s:b, s:b, s:b, s:s, s:{s:s,s:s,s:s}}",
	    "@context", actor_context(site->cfg.moved_to != NULL), "id", site->actor_id, "type", "Person",
	    "preferredUsername", site->cfg.handle, "webfinger", site->acct, "name",
	    site->cfg.name, "summary", summary, "url", site->cfg.blog_url, "inbox", site->inbox,
	    "outbox", site->outbox, "followers", site->followers, "following", site->following,
	    "endpoints", "sharedInbox", site->shared_inbox,
	    /* Mastodon treats absent discoverable/indexable as false
	     * (process_account_service.rb:253-254); it always waits for our
	     * Accept whatever manuallyApprovesFollowers says. */
	    "manuallyApprovesFollowers", 0, "discoverable", 1, "indexable", 1, "published",
	    published, "publicKey", "id", site->key_id, "owner", site->actor_id, "publicKeyPem",
	    site->cfg.public_key_pem);
	free(summary);
	if (actor == NULL)
		return NULL;
	if (actor_image_set(actor, "icon", site->cfg.icon) != BB_OK ||
	    actor_image_set(actor, "image", site->cfg.header) != BB_OK ||
	    actor_aka_set(actor, site->cfg.also_known_as) != BB_OK ||
	    (site->cfg.moved_to != NULL &&
	     json_object_set_new(actor, "movedTo", json_string(site->cfg.moved_to)) != 0)) {
		json_decref(actor);
		return NULL;
	}
	return ap_json_dump(actor);
}

char *ap_collection_render(const char *id, int64_t total)
{
	char first[2048];

	snprintf(first, sizeof(first), "%s?page=1", id);
	return ap_json_dump(json_pack("{s:s, s:s, s:s, s:I, s:s}", "@context", AP_CONTEXT_AS, "id", id,
			      "type", "OrderedCollection", "totalItems", (json_int_t)total, "first",
			      first));
}

/* A page around arr (consumed). */
static char *page_render(const char *id, int64_t total, int64_t page, json_t *arr, bool has_next)
{
	char self[2048], next[2048];
	json_t *j;

	snprintf(self, sizeof(self), "%s?page=%lld", id, (long long)page);
	j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "@context", AP_CONTEXT_AS, "id", self,
		      "type", "OrderedCollectionPage", "partOf", id, "totalItems",
		      (json_int_t)total, "orderedItems", arr);
	if (j && has_next) {
		snprintf(next, sizeof(next), "%s?page=%lld", id, (long long)page + 1);
		if (json_object_set_new(j, "next", json_string(next)) != 0) {
			json_decref(j);
			return NULL;
		}
	}
	return ap_json_dump(j);
}

/* A JSON array of the count strings items, or NULL when out of memory. */
static json_t *id_array(const char *const *items, size_t count)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		if (json_array_append_new(arr, json_string(items[i])) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

char *ap_collection_page_render(const char *id, int64_t total, int64_t page,
				const char *const *items, size_t count, bool has_next)
{
	json_t *arr = id_array(items, count);

	if (arr == NULL)
		return NULL;
	return page_render(id, total, page, arr, has_next);
}

char *ap_collection_page_render_objects(const char *id, int64_t total, int64_t page,
					const char *const *items_json, size_t count,
					bool has_next)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		json_t *item = json_loads(items_json[i], 0, NULL);
		if (item == NULL || json_array_append_new(arr, item) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return page_render(id, total, page, arr, has_next);
}

/* A CollectionPage of ids (no @context: the caller adds it at the top). */
static json_t *replies_page(const char *id, int64_t page, const char *const *items, size_t count,
			    bool has_next)
{
	char self[2048], next[2048];
	json_t *arr = id_array(items, count), *j;

	if (arr == NULL)
		return NULL;
	snprintf(self, sizeof(self), "%s?page=%lld", id, (long long)page);
	j = json_pack("{s:s, s:s, s:s, s:o}", "id", self, "type", "CollectionPage", "partOf", id,
		      "items", arr);
	if (j && has_next) {
		snprintf(next, sizeof(next), "%s?page=%lld", id, (long long)page + 1);
		if (json_object_set_new(j, "next", json_string(next)) != 0) {
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

char *ap_replies_render(const char *id, int64_t total, const char *const *items, size_t count,
			bool has_next)
{
	json_t *first = replies_page(id, 1, items, count, has_next);

	if (first == NULL)
		return NULL;
	return ap_json_dump(json_pack("{s:s, s:s, s:s, s:I, s:o}", "@context", AP_CONTEXT_AS, "id",
				      id, "type", "Collection", "totalItems", (json_int_t)total,
				      "first", first));
}

char *ap_replies_page_render(const char *id, int64_t page, const char *const *items,
			     size_t count, bool has_next)
{
	json_t *j = replies_page(id, page, items, count, has_next);

	if (j && json_object_set_new(j, "@context", json_string(AP_CONTEXT_AS)) != 0) {
		json_decref(j);
		return NULL;
	}
	return ap_json_dump(j);
}
