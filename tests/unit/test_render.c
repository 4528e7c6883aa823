/*
 * test_render.c — the discovery documents and the actor, parsed back and
 * checked field by field against what Mastodon reads.
 */
#include "check.h"
#include "render.h"
#include "site.h"

#include <jansson.h>
#include <stdlib.h>

static const char *pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n";

static void site_make(struct ap_site *site, const char *host, const char *summary,
		      const char *icon)
{
	struct ap_site_config sc = {
	    .base_url = "https://bridge.example",
	    .host = host,
	    .handle = "blog",
	    .name = "Climb to the Stars",
	    .summary = summary,
	    .blog_url = "https://blog.example/",
	    .icon = icon,
	    .language = "fr",
	    .public_key_pem = pem,
	    .software_version = "9.8.7",
	    .published = 1700000000,
	};
	struct err e = {0};

	if (ap_site_init(site, &sc, &e) != BB_OK)
		abort();
}

static json_t *parse(char *text)
{
	json_error_t je;
	json_t *j = text ? json_loads(text, 0, &je) : NULL;

	free(text);
	CHECK(j != NULL);
	return j;
}

static const char *str(json_t *j, const char *path_key)
{
	return json_string_value(json_object_get(j, path_key));
}

static void t_webfinger_match(void)
{
	struct ap_site site;

	site_make(&site, "bridge.example", "", NULL);
	CHECK(ap_webfinger_matches(&site, "acct:blog@bridge.example"));
	CHECK(ap_webfinger_matches(&site, "ACCT:Blog@Bridge.Example"));
	CHECK(ap_webfinger_matches(&site, "blog@bridge.example"));
	CHECK(ap_webfinger_matches(&site, "@blog@bridge.example"));
	CHECK(ap_webfinger_matches(&site, "https://bridge.example/ap/actor"));
	CHECK(!ap_webfinger_matches(&site, "acct:blo@bridge.example"));
	CHECK(!ap_webfinger_matches(&site, "acct:blogs@bridge.example"));
	CHECK(!ap_webfinger_matches(&site, "acct:blog@other.example"));
	CHECK(!ap_webfinger_matches(&site, "acct:blog@bridge.example.evil"));
	CHECK(!ap_webfinger_matches(&site, "acct:blog@bridge.example:8080"));
	CHECK(!ap_webfinger_matches(&site, "acct:blog"));
	CHECK(!ap_webfinger_matches(&site, "https://bridge.example/ap/actor/"));
	CHECK(!ap_webfinger_matches(&site, ""));
	ap_site_free(&site);

	site_make(&site, "localhost:8080", "", NULL);
	CHECK(ap_webfinger_matches(&site, "acct:blog@localhost:8080"));
	CHECK(!ap_webfinger_matches(&site, "acct:blog@localhost"));
	ap_site_free(&site);
}

static void t_webfinger_doc(void)
{
	struct ap_site site;
	json_t *j, *links, *self, *page;

	site_make(&site, "bridge.example", "", NULL);
	j = parse(ap_webfinger_render(&site));
	CHECK_STR(str(j, "subject"), "acct:blog@bridge.example");
	links = json_object_get(j, "links");
	CHECK_INT(json_array_size(links), 2);
	self = json_array_get(links, 0);
	CHECK_STR(str(self, "rel"), "self");
	CHECK_STR(str(self, "type"), "application/activity+json");
	CHECK_STR(str(self, "href"), "https://bridge.example/ap/actor");
	page = json_array_get(links, 1);
	CHECK_STR(str(page, "rel"), "http://webfinger.net/rel/profile-page");
	CHECK_STR(str(page, "href"), "https://blog.example/");
	CHECK_STR(json_string_value(json_array_get(json_object_get(j, "aliases"), 0)),
		  "https://bridge.example/ap/actor");
	json_decref(j);
	ap_site_free(&site);
}

static void t_host_meta_nodeinfo(void)
{
	struct ap_site site;
	char *xml;
	json_t *j;

	site_make(&site, "bridge.example", "", NULL);
	xml = ap_host_meta_render(&site);
	CHECK(check_contains(xml, "<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">"));
	CHECK(check_contains(xml, "rel=\"lrdd\""));
	CHECK(check_contains(
	    xml, "template=\"https://bridge.example/.well-known/webfinger?resource={uri}\""));
	free(xml);

	j = parse(ap_nodeinfo_links_render(&site));
	CHECK_STR(str(json_array_get(json_object_get(j, "links"), 0), "rel"),
		  "http://nodeinfo.diaspora.software/ns/schema/2.1");
	CHECK_STR(str(json_array_get(json_object_get(j, "links"), 0), "href"),
		  "https://bridge.example/ap/nodeinfo/2.1");
	json_decref(j);

	j = parse(ap_nodeinfo_render(&site, 42));
	CHECK_STR(str(j, "version"), "2.1");
	CHECK_STR(str(json_object_get(j, "software"), "name"), "blogbridge");
	CHECK_STR(str(json_object_get(j, "software"), "version"), "9.8.7");
	CHECK_STR(json_string_value(json_array_get(json_object_get(j, "protocols"), 0)),
		  "activitypub");
	CHECK(json_is_false(json_object_get(j, "openRegistrations")));
	CHECK_INT(json_integer_value(json_object_get(json_object_get(json_object_get(j, "usage"),
								       "users"),
						     "total")),
		  1);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "usage"), "localPosts")),
		  42);
	json_decref(j);
	ap_site_free(&site);
}

static bool context_has(json_t *ctx, const char *uri)
{
	size_t i;
	json_t *v;

	json_array_foreach(ctx, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), uri) == 0)
			return true;
	}
	return false;
}

static void t_actor(void)
{
	struct ap_site site;
	json_t *j, *ctx, *key, *icon;

	site_make(&site, "bridge.example", "Life & <times>, \"quoted\"", NULL);
	j = parse(ap_actor_render(&site));
	ctx = json_object_get(j, "@context");
	CHECK(context_has(ctx, "https://www.w3.org/ns/activitystreams"));
	CHECK(context_has(ctx, "https://w3id.org/security/v1"));
	CHECK_STR(str(j, "id"), "https://bridge.example/ap/actor");
	CHECK_STR(str(j, "type"), "Person");
	CHECK_STR(str(j, "preferredUsername"), "blog");
	CHECK_STR(str(j, "webfinger"), "blog@bridge.example");
	CHECK_STR(str(j, "name"), "Climb to the Stars");
	/* Plain text becomes an escaped paragraph. */
	CHECK_STR(str(j, "summary"), "<p>Life &amp; &lt;times&gt;, &quot;quoted&quot;</p>");
	CHECK_STR(str(j, "url"), "https://blog.example/");
	CHECK_STR(str(j, "inbox"), "https://bridge.example/ap/actor/inbox");
	CHECK_STR(str(j, "outbox"), "https://bridge.example/ap/actor/outbox");
	CHECK_STR(str(j, "followers"), "https://bridge.example/ap/actor/followers");
	CHECK_STR(str(j, "following"), "https://bridge.example/ap/actor/following");
	CHECK_STR(str(json_object_get(j, "endpoints"), "sharedInbox"),
		  "https://bridge.example/ap/inbox");
	CHECK(json_is_false(json_object_get(j, "manuallyApprovesFollowers")));
	CHECK(json_is_true(json_object_get(j, "discoverable")));
	CHECK(json_is_true(json_object_get(j, "indexable")));
	CHECK_STR(str(j, "published"), "2023-11-14T22:13:20Z");
	key = json_object_get(j, "publicKey");
	CHECK_STR(str(key, "id"), "https://bridge.example/ap/actor#main-key");
	CHECK_STR(str(key, "owner"), "https://bridge.example/ap/actor");
	CHECK_STR(str(key, "publicKeyPem"), pem);
	CHECK(json_object_get(j, "icon") == NULL);
	json_decref(j);
	ap_site_free(&site);

	/* HTML summaries pass as they are; the icon is an Image object. */
	site_make(&site, "bridge.example", "<p>Hi <b>there</b></p>",
		  "https://blog.example/me.JPG?v=2");
	j = parse(ap_actor_render(&site));
	CHECK_STR(str(j, "summary"), "<p>Hi <b>there</b></p>");
	icon = json_object_get(j, "icon");
	CHECK_STR(str(icon, "type"), "Image");
	CHECK_STR(str(icon, "url"), "https://blog.example/me.JPG?v=2");
	CHECK_STR(str(icon, "mediaType"), "image/jpeg");
	json_decref(j);
	ap_site_free(&site);

	site_make(&site, "bridge.example", "", "https://blog.example/avatar");
	j = parse(ap_actor_render(&site));
	icon = json_object_get(j, "icon");
	CHECK_STR(str(icon, "url"), "https://blog.example/avatar");
	CHECK(json_object_get(icon, "mediaType") == NULL);
	CHECK(json_object_get(j, "image") == NULL);
	CHECK(json_object_get(j, "alsoKnownAs") == NULL);
	json_decref(j);
	ap_site_free(&site);
}

/* The header is the actor's `image`, an Image object like the icon;
 * alsoKnownAs lists the former accounts. */
static void t_actor_header_aka(void)
{
	static const char *const aka[] = {"https://mastodon.example/users/blog",
					  "https://old.example/@blog", NULL};
	struct ap_site_config sc = {
	    .base_url = "https://bridge.example",
	    .host = "bridge.example",
	    .handle = "blog",
	    .name = "N",
	    .summary = "",
	    .blog_url = "https://blog.example/",
	    .header = "https://blog.example/banner.png",
	    .also_known_as = aka,
	    .public_key_pem = pem,
	    .software_version = "1",
	};
	struct ap_site site;
	struct err e = {0};
	json_t *j, *img, *arr;

	CHECK_INT(ap_site_init(&site, &sc, &e), BB_OK);
	j = parse(ap_actor_render(&site));
	img = json_object_get(j, "image");
	CHECK_STR(str(img, "type"), "Image");
	CHECK_STR(str(img, "url"), "https://blog.example/banner.png");
	CHECK_STR(str(img, "mediaType"), "image/png");
	CHECK(json_object_get(j, "icon") == NULL);
	arr = json_object_get(j, "alsoKnownAs");
	CHECK_INT(json_array_size(arr), 2);
	CHECK_STR(json_string_value(json_array_get(arr, 0)), aka[0]);
	CHECK_STR(json_string_value(json_array_get(arr, 1)), aka[1]);
	json_decref(j);
	ap_site_free(&site);
}

static void t_collections(void)
{
	const char *items[] = {"https://a.example/u/1", "https://b.example/u/2"};
	json_t *j, *arr;

	j = parse(ap_collection_render("https://bridge.example/c", 7));
	CHECK_STR(str(j, "type"), "OrderedCollection");
	CHECK_STR(str(j, "id"), "https://bridge.example/c");
	CHECK_INT(json_integer_value(json_object_get(j, "totalItems")), 7);
	CHECK_STR(str(j, "first"), "https://bridge.example/c?page=1");
	json_decref(j);

	j = parse(ap_collection_page_render("https://bridge.example/c", 7, 2, items, 2, true));
	CHECK_STR(str(j, "type"), "OrderedCollectionPage");
	CHECK_STR(str(j, "id"), "https://bridge.example/c?page=2");
	CHECK_STR(str(j, "partOf"), "https://bridge.example/c");
	CHECK_STR(str(j, "next"), "https://bridge.example/c?page=3");
	arr = json_object_get(j, "orderedItems");
	CHECK_INT(json_array_size(arr), 2);
	CHECK_STR(json_string_value(json_array_get(arr, 1)), "https://b.example/u/2");
	json_decref(j);

	j = parse(ap_collection_page_render("https://bridge.example/c", 0, 1, NULL, 0, false));
	CHECK(json_object_get(j, "next") == NULL);
	CHECK_INT(json_array_size(json_object_get(j, "orderedItems")), 0);
	CHECK(json_is_array(json_object_get(j, "orderedItems")));
	json_decref(j);
}

static const struct check_case cases[] = {
	{"webfinger_match", t_webfinger_match},
	{"webfinger_doc", t_webfinger_doc},
	{"host_meta_nodeinfo", t_host_meta_nodeinfo},
	{"actor", t_actor},
	{"actor_header_aka", t_actor_header_aka},
	{"collections", t_collections},
};

CHECK_MAIN(cases)
