/*
 * test_ap_publish.c — activitypub/publish.c on a real SQLite store: object
 * ids, the silent first import, Create for a new item, Update for an edit
 * (rendered once, `updated` strictly later), nothing for an unchanged or
 * deleted item, and the Delete of `posts delete`; and object_render_forms,
 * which the edit check relies on.  And the move (move.h): the check of the
 * target's document, the Move and Update stored once, and nothing
 * published afterwards.
 */
#include "check.h"
#include "fsutil.h"
#include "move.h"
#include "object.h"
#include "publish.h"
#include "render.h"
#include "site.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000
#define BASE "https://bridge.example"

static struct ap_site site;

static void site_make(const char *base_url)
{
	struct ap_site_config sc = {
	    .base_url = base_url,
	    .host = "bridge.example",
	    .handle = "blog",
	    .name = "Blog",
	    .summary = "",
	    .blog_url = "https://blog.example/",
	    .public_key_pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
	    .software_version = "9.8.7",
	    .published = T0,
	};
	struct err e = {0};

	if (ap_site_init(&site, &sc, &e) != BB_OK)
		abort();
}

/* A feed item borrowing static strings (never post_clear'd). */
static struct post item(const char *guid, const char *content, time_t published)
{
	return (struct post){.guid = (char *)guid,
			     .url = (char *)guid,
			     .title = "A title",
			     .content = (char *)content,
			     .published = published,
			     .updated = published};
}

static struct store *store_make(const char *dir)
{
	char *path = fs_path_join(dir, "bb.sqlite");
	struct store *st = NULL;
	struct err e = {0};
	struct store_follower a = {.actor = "https://one.example/users/a",
				   .inbox = "https://one.example/users/a/inbox",
				   .shared_inbox = "https://one.example/inbox",
				   .follow_id = "https://one.example/f/1",
				   .since = T0};
	struct store_follower b = {.actor = "https://two.example/users/b",
				   .inbox = "https://two.example/users/b/inbox",
				   .follow_id = "https://two.example/f/2",
				   .since = T0};

	if (path == NULL || store_open(path, &st, &e) != BB_OK ||
	    store_follower_put(st, &a, &e) != BB_OK || store_follower_put(st, &b, &e) != BB_OK) {
		fprintf(stderr, "    cannot set up the store: %s\n", e.msg);
		abort();
	}
	free(path);
	return st;
}

static bool activity_has(struct store *st, const char *id, const char *needle)
{
	struct err e = {0};
	char *json = NULL;
	bool has = store_activity_get(st, id, &json, &e) == BB_OK && check_contains(json, needle);

	free(json);
	return has;
}

static void t_post_id(void)
{
	char id[PUBLISH_ID_MAX], long_base[PUBLISH_ID_MAX + 16];

	site_make(BASE);
	publish_post_id(&site, "https://blog.example/p/1", id);
	CHECK_STR(id, BASE "/ap/posts/c420f5640a35e59bb529b9816b0dd4c1");
	ap_site_free(&site);

	/* A base_url so long the id would not fit: no id at all. */
	memset(long_base, 'a', sizeof(long_base) - 1);
	memcpy(long_base, "https://", 8);
	long_base[sizeof(long_base) - 1] = '\0';
	site_make(long_base);
	publish_post_id(&site, "https://blog.example/p/1", id);
	CHECK_STR(id, "");
	ap_site_free(&site);
}

static void t_render_forms(void)
{
	struct object_options opt = {.kind = OBJECT_NOTE};
	struct post p = item("https://blog.example/p/1", "<p>Hello</p>", T0);
	const char *id = BASE "/ap/posts/1";
	char *unedited = NULL, *edited = NULL, *plain, *full;

	site_make(BASE);
	/* Not edited: one form, the plain render. */
	plain = object_render(&site, &opt, &p, id);
	CHECK_INT(object_render_forms(&site, &opt, &p, id, &unedited, &edited), BB_OK);
	CHECK(edited == NULL);
	CHECK_STR(unedited, plain);
	free(unedited);
	/* Edited: the plain render without `updated`, and the full one. */
	p.updated = T0 + 60;
	full = object_render(&site, &opt, &p, id);
	CHECK_INT(object_render_forms(&site, &opt, &p, id, &unedited, &edited), BB_OK);
	CHECK_STR(unedited, plain);
	CHECK_STR(edited, full);
	CHECK(check_contains(edited, "\"updated\":\"2023-11-14T22:14:20Z\""));
	CHECK(!check_contains(unedited, "\"updated\""));
	free(unedited);
	free(edited);
	free(plain);
	free(full);
	ap_site_free(&site);
}

static void t_items(void)
{
	const char *dir = check_tmpdir();
	struct store *st = store_make(dir);
	struct publish_counts n = {0};
	struct publish_env env = {.site = &site, .opt = {.kind = OBJECT_NOTE}, .st = st, .now = T0};
	struct post feed[2] = {item("https://blog.example/p/2", "<p>Two</p>", T0 - 100),
			       item("https://blog.example/p/1", "<p>One</p>", T0 - 200)};
	struct post third = item("https://blog.example/p/3", "<p>Three</p>", 0);
	struct store_post sp = {0};
	struct err e = {0};
	char id[PUBLISH_ID_MAX], act[PUBLISH_ID_MAX + 64];

	site_make(BASE);
	/* First import: stored, oldest first, nothing delivered. */
	CHECK_INT(publish_items(&env, feed, 2, &n, &e), BB_OK);
	CHECK_INT(n.imported, 2);
	CHECK_INT(n.created + n.updated + n.unchanged + n.deliveries, 0);
	CHECK_INT(store_post_by_guid(st, "https://blog.example/p/1", &sp, &e), BB_OK);
	CHECK_INT(sp.rowid, 1);
	CHECK_INT(sp.published, T0 - 200);
	publish_post_id(&site, "https://blog.example/p/1", id);
	CHECK_STR(sp.ap_id, id);
	store_post_clear(&sp);
	snprintf(act, sizeof(act), "%s/activity", id);
	CHECK(!activity_has(st, act, "Create"));

	/* The same items again, later: unchanged. */
	memset(&n, 0, sizeof(n));
	env.now = T0 + 10;
	env.deliver_new = true;
	CHECK_INT(publish_items(&env, feed, 2, &n, &e), BB_OK);
	CHECK_INT(n.unchanged, 2);
	CHECK_INT(n.created + n.imported + n.updated + n.deliveries, 0);

	/* A new item (no date: now): a Create to both followers' inboxes. */
	memset(&n, 0, sizeof(n));
	CHECK_INT(publish_items(&env, &third, 1, &n, &e), BB_OK);
	CHECK_INT(n.created, 1);
	CHECK_INT(n.deliveries, 2);
	publish_post_id(&site, "https://blog.example/p/3", id);
	snprintf(act, sizeof(act), "%s/activity", id);
	CHECK(activity_has(st, act, "\"type\":\"Create\""));

	/* An edit: an Update carrying the whole object, updated now. */
	memset(&n, 0, sizeof(n));
	env.now = T0 + 20;
	feed[1].content = "<p>One, edited</p>";
	CHECK_INT(publish_items(&env, feed, 2, &n, &e), BB_OK);
	CHECK_INT(n.updated, 1);
	CHECK_INT(n.unchanged, 1);
	CHECK_INT(n.deliveries, 2);
	CHECK_INT(store_post_by_guid(st, "https://blog.example/p/1", &sp, &e), BB_OK);
	CHECK_INT(sp.published, T0 - 200);
	CHECK_INT(sp.updated, T0 + 20);
	CHECK(check_contains(sp.object_json, "One, edited"));
	CHECK(check_contains(sp.object_json, "\"updated\":"));
	snprintf(act, sizeof(act), "%s/updates/%" PRId64, sp.ap_id, (int64_t)(T0 + 20));
	CHECK(activity_has(st, act, "One, edited"));
	store_post_clear(&sp);

	/* The edited item again, at the same second: unchanged (the edit
	 * time is not part of what is compared). */
	memset(&n, 0, sizeof(n));
	CHECK_INT(publish_items(&env, feed, 2, &n, &e), BB_OK);
	CHECK_INT(n.unchanged, 2);
	CHECK_INT(n.updated + n.deliveries, 0);

	/* A second edit within the same second: updated strictly later. */
	memset(&n, 0, sizeof(n));
	feed[1].content = "<p>One, edited twice</p>";
	CHECK_INT(publish_items(&env, feed, 2, &n, &e), BB_OK);
	CHECK_INT(n.updated, 1);
	CHECK_INT(store_post_by_guid(st, "https://blog.example/p/1", &sp, &e), BB_OK);
	CHECK_INT(sp.updated, T0 + 21);
	store_post_clear(&sp);

	store_close(st);
	ap_site_free(&site);
	check_tmpdir_remove(dir);
}

static void t_delete(void)
{
	const char *dir = check_tmpdir();
	struct store *st = store_make(dir);
	struct publish_counts n = {0};
	struct publish_env env = {
	    .site = &site, .opt = {.kind = OBJECT_NOTE}, .st = st, .now = T0, .deliver_new = true};
	struct post p = item("https://blog.example/p/1", "<p>One</p>", T0 - 200);
	struct store_post sp = {0};
	struct err e = {0};
	int64_t deliveries = -1;
	char act[PUBLISH_ID_MAX + 16];

	site_make(BASE);
	CHECK_INT(publish_items(&env, &p, 1, &n, &e), BB_OK);
	CHECK_INT(n.created, 1);
	CHECK_INT(
	    publish_post_delete(st, &site, "https://blog.example/p/9", T0 + 5, &deliveries, &e),
	    BB_ERR_NOTFOUND);
	CHECK_INT(deliveries, 0);
	CHECK_INT(
	    publish_post_delete(st, &site, "https://blog.example/p/1", T0 + 5, &deliveries, &e),
	    BB_OK);
	CHECK_INT(deliveries, 2);
	CHECK_INT(store_post_by_guid(st, "https://blog.example/p/1", &sp, &e), BB_OK);
	CHECK_INT(sp.deleted, T0 + 5);
	snprintf(act, sizeof(act), "%s/delete", sp.ap_id);
	CHECK(activity_has(st, act, "\"type\":\"Tombstone\""));
	store_post_clear(&sp);
	/* Deleted once: a second delete finds no live post. */
	CHECK_INT(
	    publish_post_delete(st, &site, "https://blog.example/p/1", T0 + 6, &deliveries, &e),
	    BB_ERR_NOTFOUND);
	/* The item still in the feed is not re-created. */
	memset(&n, 0, sizeof(n));
	env.now = T0 + 10;
	p.content = "<p>One, changed</p>";
	CHECK_INT(publish_items(&env, &p, 1, &n, &e), BB_OK);
	CHECK_INT(n.unchanged, 1);
	CHECK_INT(n.created + n.updated + n.deliveries, 0);

	store_close(st);
	ap_site_free(&site);
	check_tmpdir_remove(dir);
}

/* publish_actor_sync: the first sync records the document and sends
 * nothing; a changed document is one Update (the whole actor) per distinct
 * inbox; the same document again is nothing; going back to an earlier
 * document is a change again, under a new id. */
static void t_actor_sync(void)
{
	const char *dir = check_tmpdir();
	struct store *st = store_make(dir);
	const char *v1 = "{\"@context\":\"https://www.w3.org/ns/activitystreams\","
			 "\"id\":\"" BASE "/ap/actor\",\"type\":\"Person\",\"name\":\"One\"}";
	const char *v2 = "{\"@context\":\"https://www.w3.org/ns/activitystreams\","
			 "\"id\":\"" BASE "/ap/actor\",\"type\":\"Person\",\"name\":\"Two\"}";
	struct err e = {0};
	int64_t deliveries = -1;
	bool sent = true;

	site_make(BASE);
	CHECK_INT(publish_actor_sync(st, &site, v1, T0, &sent, &deliveries, &e), BB_OK);
	CHECK(!sent);
	CHECK_INT(deliveries, 0);
	CHECK_INT(publish_actor_sync(st, &site, v1, T0 + 1, &sent, &deliveries, &e), BB_OK);
	CHECK(!sent);
	CHECK_INT(publish_actor_sync(st, &site, v2, T0 + 2, &sent, &deliveries, &e), BB_OK);
	CHECK(sent);
	CHECK_INT(deliveries, 2); /* one.example's shared inbox, two.example's inbox */
	CHECK(activity_has(st, BASE "/ap/actor#updates/1", "\"type\":\"Update\""));
	CHECK(activity_has(st, BASE "/ap/actor#updates/1", "\"name\":\"Two\""));
	CHECK(activity_has(st, BASE "/ap/actor#updates/1", "\"actor\":\"" BASE "/ap/actor\""));
	CHECK_INT(publish_actor_sync(st, &site, v2, T0 + 3, &sent, &deliveries, &e), BB_OK);
	CHECK(!sent);
	CHECK_INT(deliveries, 0);
	CHECK_INT(publish_actor_sync(st, &site, v1, T0 + 3, &sent, &deliveries, &e), BB_OK);
	CHECK(sent);
	CHECK_INT(deliveries, 2);
	CHECK(activity_has(st, BASE "/ap/actor#updates/2", "\"name\":\"One\""));

	store_close(st);
	ap_site_free(&site);
	check_tmpdir_remove(dir);
}

/* move_target_check: an actor listing us (a string or an object's id,
 * alone or in an array) is a target; anything else is refused, saying
 * why. */
static void t_move_target(void)
{
	static const struct {
		const char *doc;
		enum bb_rc want;
	} docs[] = {
	    {"{\"type\":\"Person\",\"alsoKnownAs\":[\"https://x.example/u\",\"" BASE
	     "/ap/actor\"]}",
	     BB_OK},
	    {"{\"type\":\"Service\",\"alsoKnownAs\":\"" BASE "/ap/actor\"}", BB_OK},
	    {"{\"type\":\"Person\",\"alsoKnownAs\":[\"" BASE "/ap/actor/\"]}",
	     BB_ERR_FORBIDDEN},
	    {"{\"type\":\"Person\",\"alsoKnownAs\":[{\"id\":\"" BASE "/ap/actor\"}]}",
	     BB_OK},
	    {"{\"type\":\"Person\",\"alsoKnownAs\":[{\"href\":\"" BASE "/ap/actor\"}, 7]}",
	     BB_ERR_FORBIDDEN},
	    {"{\"type\":\"Person\"}", BB_ERR_FORBIDDEN},
	    {"{\"type\":\"Note\",\"alsoKnownAs\":[\"" BASE "/ap/actor\"]}", BB_ERR_INVALID},
	    {"{\"alsoKnownAs\":[\"" BASE "/ap/actor\"]}", BB_ERR_INVALID},
	    {"[]", BB_ERR_INVALID},
	};
	struct err e = {0};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_t *j = json_loads(docs[i].doc, 0, NULL);
		CHECK(j != NULL);
		CHECK_INT(move_target_check(j, "https://new.example/u", BASE "/ap/actor", &e),
			  docs[i].want);
		if (docs[i].want == BB_ERR_FORBIDDEN)
			CHECK(check_contains(e.msg, "does not list " BASE "/ap/actor"));
		json_decref(j);
	}
	/* Past MOVE_AKA_MAX entries, ours is not looked for. */
	{
		json_t *j = json_pack("{s:s, s:[]}", "type", "Person", "alsoKnownAs");
		for (int i = 0; i < MOVE_AKA_MAX; i++)
			json_array_append_new(json_object_get(j, "alsoKnownAs"),
					      json_string("https://x.example/u"));
		json_array_append_new(json_object_get(j, "alsoKnownAs"),
				      json_string(BASE "/ap/actor"));
		CHECK_INT(move_target_check(j, "https://new.example/u", BASE "/ap/actor", &e),
			  BB_ERR_FORBIDDEN);
		json_decref(j);
	}
}

/* move_publish: the move, its Move and an Update with movedTo stored and
 * fanned out once; a second move refused with nothing stored; the feed no
 * longer published; the actor document shows movedTo (with its term). */
static void t_move_publish(void)
{
	const char *dir = check_tmpdir();
	struct store *st = store_make(dir);
	struct ap_site_config sc;
	struct ap_site moved;
	struct publish_counts n = {0};
	struct publish_env env = {
	    .site = &site, .opt = {.kind = OBJECT_NOTE}, .st = st, .now = T0, .deliver_new = true};
	struct post p = item("https://blog.example/p/1", "<p>One</p>", T0 - 200);
	struct err e = {0};
	struct store_post sp = {0};
	char *actor = NULL, *moved_json = NULL, *to = NULL;
	int64_t deliveries = -1;
	bool sent = false;

	site_make(BASE);
	CHECK_INT(publish_items(&env, &p, 1, &n, &e), BB_OK);
	CHECK_INT(n.created, 1);
	actor = ap_actor_render(&site);
	CHECK(actor && !check_contains(actor, "movedTo"));
	CHECK_INT(publish_actor_sync(st, &site, actor, T0, &sent, NULL, &e), BB_OK);
	sc = site.cfg;
	sc.moved_to = "https://new.example/users/blog";
	CHECK_INT(ap_site_init(&moved, &sc, &e), BB_OK);
	moved_json = ap_actor_render(&moved);
	CHECK(check_contains(moved_json, "\"movedTo\":\"https://new.example/users/blog\""));
	CHECK(check_contains(moved_json, "\"movedTo\":{\"@id\":\"as:movedTo\""));

	CHECK_INT(store_moved_to_get(st, &to, &e), BB_OK);
	CHECK(to == NULL);
	CHECK_INT(move_publish(st, &moved, moved_json, "https://new.example/users/blog", T0 + 1,
			       &deliveries, &e),
		  BB_OK);
	CHECK_INT(deliveries, 2);
	CHECK(activity_has(st, BASE "/ap/actor#moves/1", "\"type\":\"Move\""));
	CHECK(activity_has(st, BASE "/ap/actor#moves/1", "\"object\":\"" BASE "/ap/actor\""));
	CHECK(activity_has(st, BASE "/ap/actor#moves/1",
			   "\"target\":\"https://new.example/users/blog\""));
	CHECK(activity_has(st, BASE "/ap/actor#updates/1", "\"movedTo\""));
	CHECK_INT(store_moved_to_get(st, &to, &e), BB_OK);
	CHECK_STR(to, "https://new.example/users/blog");
	free(to);
	/* The document with movedTo is the one federated: no Update again. */
	CHECK_INT(publish_actor_sync(st, &moved, moved_json, T0 + 2, &sent, NULL, &e), BB_OK);
	CHECK(!sent);

	/* Once moved: refused, nothing more stored. */
	CHECK_INT(move_publish(st, &moved, moved_json, "https://other.example/u", T0 + 3,
			       &deliveries, &e),
		  BB_ERR_FORBIDDEN);
	CHECK(check_contains(e.msg, "already moved to https://new.example/users/blog"));
	CHECK_INT(deliveries, 0);
	CHECK(!activity_has(st, BASE "/ap/actor#moves/2", "Move"));
	CHECK(!activity_has(st, BASE "/ap/actor#updates/2", "Update"));

	/* The feed: a new item and an edit, neither published. */
	memset(&n, 0, sizeof(n));
	env.now = T0 + 10;
	{
		struct post feed[2] = {item("https://blog.example/p/2", "<p>Two</p>", T0 + 5),
				       item("https://blog.example/p/1", "<p>One, edited</p>",
					    T0 - 200)};
		CHECK_INT(publish_items(&env, feed, 2, &n, &e), BB_OK);
	}
	CHECK_INT(n.created + n.updated + n.imported + n.deliveries, 0);
	CHECK_INT(n.unchanged, 2);
	CHECK_INT(store_post_by_guid(st, "https://blog.example/p/2", &sp, &e), BB_ERR_NOTFOUND);
	CHECK_INT(store_post_by_guid(st, "https://blog.example/p/1", &sp, &e), BB_OK);
	CHECK(!check_contains(sp.object_json, "edited"));
	store_post_clear(&sp);

	free(actor);
	free(moved_json);
	ap_site_free(&moved);
	store_close(st);
	ap_site_free(&site);
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
    {"actor_sync", t_actor_sync},
    {"move_target", t_move_target},
    {"move_publish", t_move_publish},
    {"post_id", t_post_id},
    {"render_forms", t_render_forms},
    {"items", t_items},
    {"delete", t_delete},
};

CHECK_MAIN(cases)
