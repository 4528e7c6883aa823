/*
 * test_api_thread.c — what the blog is shown of a post's comments (bridge/api/):
 * the JSON of /api/comments field by field, the threading rule (parents
 * shown and earlier only, no loop, bounded depth), the HTML fragment's
 * escaping and nesting, the language choice, the cache (versions, LRU,
 * an older rendering never replacing a newer one, a store change making
 * the kept rendering miss, the byte budget), and the embed script's size.
 */
#include "api.h"
#include "check.h"
#include "comments_seed.h"
#include "store.h"
#include "store_fixture.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POST_ID "https://blog.test/ap/posts/p1"
#define POST_URL "https://blog.test/2026/p1/"
#define ATTACKER "http://127.0.0.1:9/x"

/* A seeded store and its post's thread; false when seeding failed. */
static bool thread_of(const char **dir, char **path, struct store **st, struct api_thread *t)
{
	struct store_post p = {0};
	struct err e = {0};
	int64_t rowid = 0;

	*st = fresh(dir, path);
	if (*st == NULL || !seed_comments(*st, POST_ID, POST_URL, ATTACKER, &rowid))
		return false;
	CHECK_INT(store_post_by_ap_id(*st, POST_ID, &p, &e), BB_OK);
	CHECK_INT(api_thread_load(*st, &p, t, &e), BB_OK);
	store_post_clear(&p);
	return check_failures == 0;
}

static void done(const char *dir, char *path, struct store *st, struct api_thread *t)
{
	api_thread_clear(t);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static const char *s_at(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void t_json_shape(void)
{
	const char *dir;
	char *path = NULL, *text = NULL;
	struct store *st = NULL;
	struct api_thread t = {0};
	json_t *j = NULL, *cs, *c, *a;

	if (!thread_of(&dir, &path, &st, &t))
		goto out;
	text = api_thread_json(&t);
	CHECK(text != NULL);
	j = text ? json_loads(text, 0, NULL) : NULL;
	CHECK(j != NULL && json_object_size(j) == 5);
	if (j == NULL)
		goto out;
	CHECK_STR(s_at(j, "post"), POST_URL);
	CHECK_STR(s_at(j, "id"), POST_ID);
	CHECK_INT(json_integer_value(json_object_get(j, "likes")), 2);
	CHECK_INT(json_integer_value(json_object_get(j, "boosts")), 1);
	cs = json_object_get(j, "comments");
	CHECK_INT(json_array_size(cs), 4); /* approved only */
	c = json_array_get(cs, 0);
	CHECK_INT(json_object_size(c), 7);
	CHECK_STR(s_at(c, "id"), SEED_C1);
	CHECK_STR(s_at(c, "url"), "https://m.example/@alice/1");
	CHECK(json_is_null(json_object_get(c, "parent")));
	CHECK_STR(s_at(c, "content"), "<p>First comment</p>");
	CHECK_STR(s_at(c, "published"), "1970-01-01T00:01:40Z");
	CHECK_STR(s_at(c, "updated"), "1970-01-01T00:01:40Z");
	a = json_object_get(c, "author");
	CHECK_INT(json_object_size(a), 5);
	CHECK_STR(s_at(a, "id"), SEED_ALICE);
	CHECK_STR(s_at(a, "name"), "Alice Example");
	CHECK_STR(s_at(a, "handle"), "@alice@m.example");
	CHECK_STR(s_at(a, "url"), "https://m.example/@alice");
	CHECK_STR(s_at(a, "avatar"), "https://m.example/a.png");
	c = json_array_get(cs, 1);
	CHECK_STR(s_at(c, "id"), SEED_C2);
	CHECK_STR(s_at(c, "url"), SEED_C2); /* no page: its id */
	CHECK_STR(s_at(c, "parent"), SEED_C1);
	a = json_object_get(c, "author");
	CHECK_STR(s_at(a, "id"), SEED_BOB);
	CHECK(json_is_null(json_object_get(a, "name")));
	CHECK(json_is_null(json_object_get(a, "handle")));
	CHECK(json_is_null(json_object_get(a, "avatar")));
	CHECK_STR(s_at(json_array_get(cs, 2), "parent"), SEED_C2);
	c = json_array_get(cs, 3);
	CHECK_STR(s_at(c, "id"), SEED_C4);
	/* JSON carries the name as it is: the client escapes it. */
	CHECK(check_contains(s_at(json_object_get(c, "author"), "name"), "<img src=\"" ATTACKER));
out:
	json_decref(j);
	free(text);
	done(dir, path, st, &t);
}

static void t_threading(void)
{
	struct store_comment cs[API_THREAD_DEPTH_MAX + 6] = {{0}};
	char ids[API_THREAD_DEPTH_MAX + 6][16];
	struct api_thread t = {0};
	size_t n = sizeof(cs) / sizeof(cs[0]);
	long *parent;

	/* 0: answers 1 (later: top level); 1: answers 0 (earlier: nested);
	 * 2: answers an unknown id; 3..: a chain deeper than the limit. */
	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "c%zu", i);
		cs[i].ap_id = ids[i];
	}
	cs[0].parent = ids[1];
	cs[1].parent = ids[0];
	cs[2].parent = "https://elsewhere.example/x";
	for (size_t i = 4; i < n; i++)
		cs[i].parent = ids[i - 1];
	t.comments = cs;
	t.count = n;
	parent = api_thread_parents(&t, false);
	CHECK(parent != NULL);
	if (parent == NULL)
		return;
	CHECK_INT(parent[0], -1);
	CHECK_INT(parent[1], 0);
	CHECK_INT(parent[2], -1);
	CHECK_INT(parent[3], -1);
	CHECK_INT(parent[n - 1], (long)n - 2);
	free(parent);
	parent = api_thread_parents(&t, true);
	CHECK(parent != NULL);
	if (parent == NULL)
		return;
	/* 3 is depth 0, so 3 + DEPTH_MAX - 1 is the deepest nested; the next
	 * one goes beside it (its parent's parent). */
	CHECK_INT(parent[3 + API_THREAD_DEPTH_MAX - 1], 3 + API_THREAD_DEPTH_MAX - 2);
	CHECK_INT(parent[3 + API_THREAD_DEPTH_MAX], 3 + API_THREAD_DEPTH_MAX - 2);
	free(parent);
	t.count = 0;
	CHECK(api_thread_parents(&t, true) == NULL);
}

/* Position of needle in hay, or -1. */
static long at(const char *hay, const char *needle)
{
	const char *p = hay ? strstr(hay, needle) : NULL;

	return p ? (long)(p - hay) : -1;
}

static void t_html(void)
{
	const char *dir;
	char *path = NULL, *html = NULL, *fr = NULL;
	struct store *st = NULL;
	struct api_thread t = {0};

	if (!thread_of(&dir, &path, &st, &t))
		goto out;
	html = api_thread_html(&t, API_LANG_EN);
	fr = api_thread_html(&t, API_LANG_FR);
	CHECK(html != NULL && fr != NULL);
	if (html == NULL || fr == NULL)
		goto out;
	CHECK(at(html, "<section class=\"fediverse-comments\" lang=\"en\">") == 0);
	CHECK(check_contains(html, "<h2 class=\"fediverse-comments__heading\">Comments</h2>"));
	CHECK(check_contains(html, ">2 likes</span>"));
	CHECK(check_contains(html, ">1 boost</span>"));
	CHECK(check_contains(fr, ">2 j’aime</span>"));
	CHECK(check_contains(fr, ">1 partage</span>"));
	/* Content as stored; every other value escaped. */
	CHECK(
	    check_contains(html, "<div class=\"fediverse-comment__content\"><p>First comment</p>"));
	CHECK(check_contains(html, "&lt;img src=&quot;" ATTACKER "&quot; onerror=&quot;"));
	CHECK(check_contains(html, "&lt;script&gt;"));
	CHECK(check_contains(html, "Mallory &amp; &quot;co&quot;"));
	CHECK(check_contains(html, "@&lt;b&gt;mallory&lt;/b&gt;@evil.example"));
	CHECK(at(html, "<img src=\"" ATTACKER) < 0);
	CHECK(at(html, "<script") < 0);
	CHECK(at(html, "javascript:") < 0);
	/* mallory's profile is javascript: so the link is her actor id. */
	CHECK(check_contains(html, "href=\"" SEED_MALLORY "\""));
	CHECK(check_contains(html,
			     "<img class=\"fediverse-comment__avatar\" "
			     "src=\"https://m.example/a.png\" alt=\"Avatar of Alice Example\""));
	CHECK(check_contains(html, "<time class=\"fediverse-comment__date\" "
				   "datetime=\"1970-01-01T00:01:40Z\">1970-01-01</time>"));
	/* c1 > replies > c2 > replies > c3, then c4 at the top level. */
	CHECK(at(html, "data-id=\"" SEED_C1) < at(html, "fediverse-comments__replies"));
	CHECK(at(html, "fediverse-comments__replies") < at(html, "data-id=\"" SEED_C2));
	CHECK(at(html, "data-id=\"" SEED_C2) < at(html, "data-id=\"" SEED_C3));
	CHECK(check_contains(html, "Third level</p></div></article></li></ol></li></ol></li>"
				   "<li class=\"fediverse-comment\" data-id=\"" SEED_C4));
	CHECK(at(html, "Waiting") < 0 && at(html, "Just for you") < 0 && at(html, "Spam") < 0);
	CHECK(check_contains(html, "href=\"" POST_ID "\">Reply from the fediverse</a>"));
	CHECK(check_contains(fr, "lang=\"fr\""));
	CHECK(check_contains(fr, ">Commentaires</h2>"));
	CHECK(check_contains(fr, "alt=\"Avatar de Alice Example\""));
out:
	free(html);
	free(fr);
	done(dir, path, st, &t);
}

static void t_html_empty(void)
{
	struct api_thread t = {0};
	char *html;

	t.post_url = "https://blog.test/x/";
	t.post_id = "javascript:alert(1)";
	html = api_thread_html(&t, API_LANG_EN);
	CHECK(check_contains(html, "<p class=\"fediverse-comments__empty\">No comments yet.</p>"));
	CHECK(at(html, "javascript:") < 0); /* not an http(s) id: no link */
	free(html);
}

/* The counts: singular and plural in English (1 alone is singular) and
 * in French (0 and 1 are). */
static void t_html_counts(void)
{
	static const struct {
		int64_t likes, boosts;
		enum api_lang lang;
		const char *want_likes, *want_boosts;
	} cases[] = {
	    {0, 0, API_LANG_EN, ">0 likes</span>", ">0 boosts</span>"},
	    {1, 1, API_LANG_EN, ">1 like</span>", ">1 boost</span>"},
	    {2, 21, API_LANG_EN, ">2 likes</span>", ">21 boosts</span>"},
	    {0, 0, API_LANG_FR, ">0 j’aime</span>", ">0 partage</span>"},
	    {1, 1, API_LANG_FR, ">1 j’aime</span>", ">1 partage</span>"},
	    {2, 1000, API_LANG_FR, ">2 j’aime</span>", ">1000 partages</span>"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct api_thread t = {0};
		char *html;

		t.post_url = "https://blog.test/x/";
		t.post_id = "https://blog.test/ap/posts/x";
		t.likes = cases[i].likes;
		t.boosts = cases[i].boosts;
		html = api_thread_html(&t, cases[i].lang);
		CHECK(check_contains(html, cases[i].want_likes));
		CHECK(check_contains(html, cases[i].want_boosts));
		free(html);
	}
}

static void t_lang(void)
{
	CHECK_INT(api_lang_parse("fr"), API_LANG_FR);
	CHECK_INT(api_lang_parse("fr-CA"), API_LANG_FR);
	CHECK_INT(api_lang_parse("FR"), API_LANG_FR);
	CHECK_INT(api_lang_parse("fra"), API_LANG_EN);
	CHECK_INT(api_lang_parse("en-GB"), API_LANG_EN);
	CHECK_INT(api_lang_parse("de"), API_LANG_EN);
	CHECK_INT(api_lang_parse(NULL), API_LANG_EN);
}

static void t_cache(void)
{
	struct api_cache *c = api_cache_new(2, 1024);
	uint64_t hits = 0, misses = 0;
	size_t len = 0;
	char *b;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK(api_cache_get(c, 1, 0, 5, &len) == NULL);
	api_cache_put(c, 1, 0, 5, "one", 3);
	b = api_cache_get(c, 1, 0, 5, &len);
	CHECK_STR(b, "one");
	CHECK_INT(len, 3);
	free(b);
	CHECK(api_cache_get(c, 1, 0, 6, &len) == NULL); /* another version */
	CHECK(api_cache_get(c, 1, 1, 5, &len) == NULL); /* another kind */
	api_cache_put(c, 1, 0, 6, "one v6", 6);
	CHECK(api_cache_get(c, 1, 0, 5, &len) == NULL);
	api_cache_put(c, 1, 0, 5, "stale", 5); /* a slow request: ignored */
	b = api_cache_get(c, 1, 0, 6, &len);
	CHECK_STR(b, "one v6");
	free(b);
	/* Two slots: a third key evicts the least recently used. */
	api_cache_put(c, 2, 0, 1, "two", 3);
	free(api_cache_get(c, 1, 0, 6, &len)); /* 1 used after 2 */
	api_cache_put(c, 3, 0, 1, "three", 5);
	CHECK(api_cache_get(c, 2, 0, 1, &len) == NULL);
	b = api_cache_get(c, 1, 0, 6, &len);
	CHECK_STR(b, "one v6");
	free(b);
	b = api_cache_get(c, 3, 0, 1, &len);
	CHECK_STR(b, "three");
	free(b);
	api_cache_stats(c, &hits, &misses);
	CHECK_INT(hits, 5);
	CHECK_INT(misses, 5);
	api_cache_free(c);
}

/* A shared body is the cached one itself, and stays whole while held,
 * however the cache changes (replaced, evicted, freed). */
static void t_cache_shared(void)
{
	struct api_cache *c = api_cache_new(1, 1024);
	const char *a, *a2, *b;
	uint64_t hits = 0, misses = 0;
	size_t len = 0;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK(api_cache_get_shared(c, 1, 0, 1, &len) == NULL);
	api_cache_put(c, 1, 0, 1, "first body", 10);
	a = api_cache_get_shared(c, 1, 0, 1, &len);
	CHECK_STR(a, "first body");
	CHECK_INT(len, 10);
	a2 = api_cache_get_shared(c, 1, 0, 1, &len);
	CHECK(a2 == a); /* not a copy */
	CHECK(api_cache_get_shared(c, 1, 0, 2, &len) == NULL); /* another version */
	api_cache_put(c, 1, 0, 2, "second", 6);		       /* replaces it */
	CHECK_STR(a, "first body");
	api_cache_release((void *)a);
	api_cache_put(c, 2, 0, 1, "other post", 10); /* evicts the second */
	b = api_cache_get_shared(c, 2, 0, 1, &len);
	CHECK_STR(b, "other post");
	api_cache_free(c);
	CHECK_STR(a2, "first body"); /* still held */
	CHECK_STR(b, "other post");
	api_cache_release((void *)a2);
	api_cache_release((void *)b);
	api_cache_release(NULL);
	c = api_cache_new(2, 1024);
	if (c == NULL)
		return;
	api_cache_put(c, 1, 0, 1, "x", 1);
	api_cache_release((void *)api_cache_get_shared(c, 1, 0, 1, &len));
	CHECK(api_cache_get_shared(c, 1, 0, 9, &len) == NULL);
	api_cache_stats(c, &hits, &misses);
	CHECK_INT(hits, 1);
	CHECK_INT(misses, 1);
	api_cache_free(c);
}

/* The byte budget: the oldest go to make room; a body over a quarter of
 * it is not kept at all. */
static void t_cache_bytes(void)
{
	struct api_cache *c = api_cache_new(8, 400);
	char big[101], huge[200];
	size_t len = 0;
	char *b;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(huge, 'y', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	for (int post = 1; post <= 4; post++)
		api_cache_put(c, post, 0, 1, big, 90);
	free(api_cache_get(c, 1, 0, 1, &len)); /* 2 is now the oldest */
	api_cache_put(c, 5, 0, 1, big, 90);    /* 450 > 400: 2 goes */
	CHECK(api_cache_get(c, 2, 0, 1, &len) == NULL);
	b = api_cache_get(c, 1, 0, 1, &len);
	CHECK(b != NULL && len == 90);
	free(b);
	b = api_cache_get(c, 5, 0, 1, &len);
	CHECK(b != NULL);
	free(b);
	api_cache_put(c, 6, 0, 1, huge, strlen(huge)); /* 199 > 100 */
	CHECK(api_cache_get(c, 6, 0, 1, &len) == NULL);
	b = api_cache_get(c, 3, 0, 1, &len); /* nothing pushed out for it */
	CHECK(b != NULL);
	free(b);
	api_cache_free(c);
}

/* A status change moves the version on: the kept rendering misses and
 * the new one shows the change. */
static void t_cache_invalidated(void)
{
	const char *dir;
	char *path = NULL, *text = NULL;
	struct store *st = NULL;
	struct api_thread t = {0}, t2 = {0};
	struct api_cache *c = api_cache_new(4, 1024 * 1024);
	struct store_post p = {0};
	struct err e = {0};
	size_t len = 0;

	if (c == NULL || !thread_of(&dir, &path, &st, &t))
		goto out;
	text = api_thread_json(&t);
	api_cache_put(c, t.post, 0, t.version, text, strlen(text));
	free(text);
	text = NULL;
	CHECK_INT(store_comment_status_set(st, SEED_C5, STORE_COMMENT_APPROVED, &e), BB_OK);
	CHECK_INT(store_post_by_ap_id(st, POST_ID, &p, &e), BB_OK);
	CHECK_INT(api_thread_load(st, &p, &t2, &e), BB_OK);
	CHECK(t2.version != t.version);
	CHECK(api_cache_get(c, t.post, 0, t2.version, &len) == NULL);
	CHECK_INT(t2.count, 5);
	text = api_thread_json(&t2);
	CHECK(check_contains(text, SEED_C5));
out:
	free(text);
	store_post_clear(&p);
	api_thread_clear(&t2);
	api_cache_free(c);
	done(dir, path, st, &t);
}

static void t_embed_script(void)
{
	CHECK(api_comments_js_len > 1000);
	CHECK(api_comments_js_len < 10 * 1024);
	CHECK_INT(strlen(api_comments_js), api_comments_js_len);
	CHECK(check_contains(api_comments_js, "[data-fediverse-comments]"));
	CHECK(check_contains(api_comments_js, "/authorize_interaction?uri="));
	/* innerHTML once: the sanitized content. */
	CHECK(at(api_comments_js, "innerHTML") >= 0);
	CHECK(at(strstr(api_comments_js, "innerHTML") + 1, "innerHTML") < 0);
}

static const struct check_case cases[] = {
    {"json_shape", t_json_shape},
    {"threading", t_threading},
    {"html", t_html},
    {"html_empty", t_html_empty},
    {"html_counts", t_html_counts},
    {"lang", t_lang},
    {"cache", t_cache},
    {"cache_bytes", t_cache_bytes},
    {"cache_shared", t_cache_shared},
    {"cache_invalidated", t_cache_invalidated},
    {"embed_script", t_embed_script},
};

CHECK_MAIN(cases)
