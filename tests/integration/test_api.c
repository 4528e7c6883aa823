/*
 * test_api.c — what the blog gets of its comments, from the real binary on
 * loopback: GET /api/comments (the shape field by field, approved comments
 * only, CORS, ETag then 304, a moderation giving a new ETag, 404 and 400),
 * GET /embed/comments (a hostile author name escaped), GET
 * /embed/comments.js (type, size, ETag), each post's `replies` collection
 * (paged), and the `comments`, `reactions` and `posts --json` commands.
 * The thread is written through store.h (comments_seed.h) into the
 * database of the running bridge: the store allows other connections.
 *
 * The case `browser` (its own CTest entry) renders the embed in headless
 * Chromium on a test page served here on loopback (test_api_browser.c).
 *
 * Invoked as `test_api PATH/TO/blogbridge [CASE...]`.
 */
#include "test_api.h"
#include "bridge_proc.h"
#include "check.h"
#include "comments_seed.h"
#include "store.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POST_URL "https://blog.test/2026/seeded/"
#define POST2_URL "https://blog.test/2026/busy/"
#define AP_TYPE "application/activity+json"
#define PAGE_SIZE 40 /* AP_COLLECTION_PAGE_SIZE */
#define BUSY_COMMENTS (PAGE_SIZE + 5)

struct api_world api;
static const char *binary;

/* The post's URL, escaped for a query. */
static char *escaped(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *out;

	out = e ? strdup(e) : NULL;
	curl_free(e);
	return out;
}

/* A second post with more than a page of approved comments. */
static bool seed_busy(struct store *st)
{
	struct store_post p = {0,   "busy-guid", api.post2_id, POST2_URL, "Busy",
			       "h", "{}",	 60,	       60,	  0};
	struct err e = {0};
	char id[128];
	bool is_new;

	if (store_post_put(st, &p, &e) != BB_OK)
		return false;
	for (int i = 0; i < BUSY_COMMENTS; i++) {
		struct store_comment c = {0};
		snprintf(id, sizeof(id), "https://m.example/busy/%02d", i);
		c.ap_id = id;
		c.post = p.rowid;
		c.author = SEED_ALICE;
		c.content = "<p>busy</p>";
		c.status = STORE_COMMENT_APPROVED;
		c.published = 1000 + i;
		c.received = 1000 + i;
		if (store_comment_add(st, &c, &is_new, &e) != BB_OK)
			return false;
	}
	return true;
}

bool api_up(void)
{
	struct store *st = NULL;
	struct err e = {0};
	int64_t rowid;
	bool ok;

	if (api.up)
		return true;
	if (!bridge_setup(&api.b, binary, "") || !bridge_start(&api.b))
		return false;
	if (api.attacker[0] == '\0')
		snprintf(api.attacker, sizeof(api.attacker), "http://127.0.0.1:9/x");
	snprintf(api.post_id, sizeof(api.post_id), "%s/ap/posts/seeded", api.b.origin);
	snprintf(api.post2_id, sizeof(api.post2_id), "%s/ap/posts/busy", api.b.origin);
	{
		char *q = escaped(api.post_id); /* the same as encodeURIComponent for a URL */
		snprintf(api.post_id_escaped, sizeof(api.post_id_escaped), "%s", q ? q : "");
		free(q);
	}
	if (store_open(api.b.db, &st, &e) != BB_OK) {
		check_fail(__FILE__, __LINE__, "store_open: %s", e.msg);
		return false;
	}
	ok = seed_comments(st, api.post_id, POST_URL, api.attacker, &rowid) && seed_busy(st);
	store_close(st);
	CHECK(ok);
	api.up = ok;
	return ok;
}

/* GET path?post=ESCAPED(post) with an optional If-None-Match. */
static bool get_post(const char *path, const char *post, const char *inm, struct reply *r)
{
	char url[1024], hdr[128];
	struct curl_slist *h = NULL;
	char *q = escaped(post);
	bool ok;

	snprintf(url, sizeof(url), "%s?post=%s", path, q ? q : "");
	free(q);
	if (inm) {
		snprintf(hdr, sizeof(hdr), "If-None-Match: %s", inm);
		h = curl_slist_append(NULL, hdr);
	}
	ok = bridge_http(&api.b, "GET", url, h, NULL, 0, r);
	curl_slist_free_all(h);
	return ok;
}

/* Runs `blogbridge -c CONF args...`; the exit status, stdout in *out. */
static int cli(char **out, const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *argv[] = {(char *)api.b.binary, "-c",	  api.b.conf, (char *)a1,
			(char *)a2,	      (char *)a3, (char *)a4, NULL};
	char *err = NULL;
	int status = check_run(argv, NULL, out, &err);

	if (status != 0)
		fprintf(stderr, "    %s %s: status %d: %s", a1, a2 ? a2 : "", status,
			err ? err : "");
	free(err);
	return status;
}

static void t_api_shape(void)
{
	struct reply r = {0};
	json_t *j = NULL, *cs, *c, *a;

	if (!api_up() || !get_post("/api/comments", POST_URL, NULL, &r))
		goto out;
	CHECK_INT(r.status, 200);
	CHECK_STR(r.content_type, "application/json; charset=utf-8");
	CHECK_STR(r.cors, "*");
	CHECK(check_contains(r.cache_control, "max-age=30"));
	CHECK(r.etag[0] == '"');
	j = json_loads(r.body, 0, NULL);
	CHECK(j != NULL);
	if (j == NULL)
		goto out;
	CHECK_INT(json_object_size(j), 5);
	CHECK_STR(jstr(j, "post"), POST_URL);
	CHECK_STR(jstr(j, "id"), api.post_id);
	CHECK_INT(jint(j, "likes"), 2);
	CHECK_INT(jint(j, "boosts"), 1);
	cs = jget(j, "comments");
	CHECK_INT(json_array_size(cs), 4); /* not the pending, private, rejected */
	c = json_array_get(cs, 0);
	CHECK_STR(jstr(c, "id"), SEED_C1);
	CHECK_STR(jstr(c, "url"), "https://m.example/@alice/1");
	CHECK(json_is_null(jget(c, "parent")));
	CHECK_STR(jstr(c, "content"), "<p>First comment</p>");
	CHECK_STR(jstr(c, "published"), "1970-01-01T00:01:40Z");
	CHECK_STR(jstr(c, "updated"), "1970-01-01T00:01:40Z");
	a = jget(c, "author");
	CHECK_STR(jstr(a, "id"), SEED_ALICE);
	CHECK_STR(jstr(a, "name"), "Alice Example");
	CHECK_STR(jstr(a, "handle"), "@alice@m.example");
	CHECK_STR(jstr(a, "url"), "https://m.example/@alice");
	CHECK_STR(jstr(a, "avatar"), "https://m.example/a.png");
	CHECK_STR(jstr(json_array_get(cs, 1), "parent"), SEED_C1);
	CHECK(json_is_null(jget(json_array_get(cs, 1), "author.name")));
	CHECK_STR(jstr(json_array_get(cs, 2), "parent"), SEED_C2);
	CHECK_STR(jstr(json_array_get(cs, 3), "id"), SEED_C4);
	CHECK(find_by(cs, "id", SEED_C5) == NULL);
	CHECK(find_by(cs, "id", SEED_C6) == NULL);
	CHECK(find_by(cs, "id", SEED_C7) == NULL);
out:
	json_decref(j);
	reply_free(&r);
}

static void t_api_etag(void)
{
	struct reply r = {0}, r2 = {0}, r3 = {0}, r4 = {0};
	char *out = NULL;
	json_t *j = NULL;

	if (!api_up() || !get_post("/api/comments", POST_URL, NULL, &r))
		goto out;
	/* By the object id: the same thread, the same ETag. */
	if (!get_post("/api/comments", api.post_id, r.etag, &r2))
		goto out;
	CHECK_INT(r2.status, 304);
	CHECK_INT(r2.len, 0);
	CHECK_STR(r2.etag, r.etag);
	CHECK(check_contains(r2.cache_control, "max-age"));
	/* A moderation shows at once: a new ETag, the comment in. */
	CHECK_INT(cli(&out, "comments", "approve", SEED_C5, NULL), 0);
	CHECK(check_contains(out, "approved"));
	if (!get_post("/api/comments", POST_URL, r.etag, &r3))
		goto out;
	CHECK_INT(r3.status, 200);
	CHECK(strcmp(r3.etag, r.etag) != 0);
	j = json_loads(r3.body, 0, NULL);
	CHECK_INT(json_array_size(jget(j, "comments")), 5);
	CHECK(find_by(jget(j, "comments"), "id", SEED_C5) != NULL);
	/* And back: rejected, it is gone again. */
	free(out);
	out = NULL;
	CHECK_INT(cli(&out, "comments", "reject", SEED_C5, NULL), 0);
	if (!get_post("/api/comments", POST_URL, r3.etag, &r4))
		goto out;
	CHECK_INT(r4.status, 200);
	CHECK(strstr(r4.body, SEED_C5) == NULL);
out:
	free(out);
	json_decref(j);
	reply_free(&r);
	reply_free(&r2);
	reply_free(&r3);
	reply_free(&r4);
}

static void t_api_errors(void)
{
	struct reply r = {0}, r2 = {0};
	json_t *j = NULL;

	if (!api_up() || !get_post("/api/comments", "https://blog.test/no-such-post/", NULL, &r))
		goto out;
	CHECK_INT(r.status, 404);
	CHECK_STR(r.cors, "*");
	j = json_loads(r.body, 0, NULL);
	CHECK(jstr(j, "error") != NULL);
	if (!bridge_http(&api.b, "GET", "/api/comments", NULL, NULL, 0, &r2))
		goto out;
	CHECK_INT(r2.status, 400);
out:
	json_decref(j);
	reply_free(&r);
	reply_free(&r2);
}

static void t_embed_fragment(void)
{
	struct reply r = {0}, fr = {0};
	char url[256];

	if (!api_up() || !get_post("/embed/comments", POST_URL, NULL, &r))
		goto out;
	CHECK_INT(r.status, 200);
	CHECK_STR(r.content_type, "text/html; charset=utf-8");
	CHECK_STR(r.cors, "*");
	CHECK(r.etag[0] == '"');
	CHECK(check_contains(r.body, "<section class=\"fediverse-comments\" lang=\"en\">"));
	CHECK(check_contains(r.body, "<p>First comment</p>"));
	CHECK(check_contains(r.body, ">2 likes</span> <span class=\"fediverse-comments__boosts\">"
				     "1 boost</span>"));
	CHECK(check_contains(r.body, "&lt;img src=&quot;"));
	CHECK(check_contains(r.body, "@&lt;b&gt;mallory&lt;/b&gt;@evil.example"));
	CHECK(strstr(r.body, "<img src=") == NULL);
	CHECK(strstr(r.body, "<script") == NULL);
	CHECK(strstr(r.body, "javascript:") == NULL);
	CHECK(strstr(r.body, "onerror=\"") == NULL);
	snprintf(url, sizeof(url), "/embed/comments?lang=fr&post=%s",
		 "https%3A%2F%2Fblog.test%2F2026%2Fseeded%2F");
	if (!bridge_http(&api.b, "GET", url, NULL, NULL, 0, &fr))
		goto out;
	CHECK_INT(fr.status, 200);
	CHECK(check_contains(fr.body, "Commentaires"));
	CHECK(check_contains(fr.body, ">2 j’aime</span> <span class=\"fediverse-comments__boosts\">"
				      "1 partage</span>"));
	CHECK(strcmp(fr.etag, r.etag) != 0); /* another rendering, another tag */
out:
	reply_free(&r);
	reply_free(&fr);
}

static void t_embed_script(void)
{
	struct reply r = {0}, r2 = {0};
	struct curl_slist *h = NULL;
	char hdr[128];

	if (!api_up() || !bridge_http(&api.b, "GET", "/embed/comments.js", NULL, NULL, 0, &r))
		goto out;
	CHECK_INT(r.status, 200);
	CHECK_STR(r.content_type, "application/javascript; charset=utf-8");
	CHECK(r.len > 1000 && r.len < 10 * 1024);
	CHECK(check_contains(r.body, "data-fediverse-comments"));
	CHECK(check_contains(r.cache_control, "max-age="));
	CHECK(r.etag[0] == '"');
	snprintf(hdr, sizeof(hdr), "If-None-Match: %s", r.etag);
	h = curl_slist_append(NULL, hdr);
	if (!bridge_http(&api.b, "GET", "/embed/comments.js", h, NULL, 0, &r2))
		goto out;
	CHECK_INT(r2.status, 304);
	CHECK_INT(r2.len, 0);
out:
	curl_slist_free_all(h);
	reply_free(&r);
	reply_free(&r2);
}

/* GET of an ActivityPub path (absolute id on our origin) as JSON. */
static json_t *ap_get(const char *id)
{
	struct curl_slist *h = curl_slist_append(NULL, "Accept: " AP_TYPE);
	size_t n = strlen(api.b.origin);
	struct reply r = {0};
	json_t *j = NULL;

	CHECK(strncmp(id, api.b.origin, n) == 0);
	if (bridge_http(&api.b, "GET", id + n, h, NULL, 0, &r)) {
		CHECK_INT(r.status, 200);
		j = json_loads(r.body, 0, NULL);
		CHECK(j != NULL);
	}
	curl_slist_free_all(h);
	reply_free(&r);
	return j;
}

static void t_replies(void)
{
	char id[256], page2[300];
	json_t *c = NULL, *p = NULL, *busy = NULL, *b2 = NULL, *items;

	if (!api_up())
		return;
	snprintf(id, sizeof(id), "%s/replies", api.post_id);
	c = ap_get(id);
	CHECK_STR(jstr(c, "type"), "Collection");
	CHECK_STR(jstr(c, "id"), id);
	CHECK_STR(jstr(c, "first.type"), "CollectionPage");
	CHECK_STR(jstr(c, "first.partOf"), id);
	CHECK(jget(c, "first.next") == NULL);
	items = jget(c, "first.items");
	CHECK_INT(json_array_size(items), 4);
	CHECK_STR(json_string_value(json_array_get(items, 0)), SEED_C1);
	CHECK_STR(json_string_value(json_array_get(items, 3)), SEED_C4);
	for (size_t i = 0; i < json_array_size(items); i++) {
		const char *s = json_string_value(json_array_get(items, i));
		CHECK(s && strcmp(s, SEED_C6) != 0 && strcmp(s, SEED_C5) != 0);
	}
	snprintf(page2, sizeof(page2), "%s?page=1", id);
	p = ap_get(page2);
	CHECK_STR(jstr(p, "type"), "CollectionPage");
	CHECK_STR(jstr(p, "id"), page2);
	CHECK_INT(json_array_size(jget(p, "items")), 4);
	/* More than a page: next on our host, then the rest. */
	snprintf(id, sizeof(id), "%s/replies", api.post2_id);
	busy = ap_get(id);
	CHECK_INT(jint(busy, "totalItems"), BUSY_COMMENTS);
	CHECK_INT(json_array_size(jget(busy, "first.items")), PAGE_SIZE);
	snprintf(page2, sizeof(page2), "%s?page=2", id);
	CHECK_STR(jstr(busy, "first.next"), page2);
	b2 = ap_get(page2);
	CHECK_INT(json_array_size(jget(b2, "items")), BUSY_COMMENTS - PAGE_SIZE);
	CHECK_STR(json_string_value(json_array_get(jget(b2, "items"), 0)),
		  "https://m.example/busy/40");
	CHECK(jget(b2, "next") == NULL);
	json_decref(c);
	json_decref(p);
	json_decref(busy);
	json_decref(b2);
}

static void t_cli_comments(void)
{
	char *out = NULL;
	json_t *all = NULL, *pending = NULL, *mine = NULL;
	json_t *c;

	if (!api_up())
		return;
	all = bridge_cli_json(&api.b, "comments");
	/* Every status but deleted, oldest first: 7 seeded + the busy post's. */
	CHECK_INT(json_array_size(all), 7 + BUSY_COMMENTS);
	c = find_by(all, "id", SEED_C2);
	CHECK(c != NULL);
	CHECK_INT(json_object_size(c), 8);
	CHECK_STR(jstr(c, "post"), POST_URL);
	CHECK_STR(jstr(c, "author"), SEED_BOB);
	CHECK(json_is_null(jget(c, "author_handle")));
	CHECK_STR(jstr(c, "content"), "<p>A reply to the first</p>");
	CHECK_STR(jstr(c, "status"), "approved");
	CHECK_STR(jstr(c, "published"), "1970-01-01T00:03:20Z");
	CHECK_STR(jstr(c, "updated"), "1970-01-01T00:03:20Z");
	CHECK_STR(jstr(find_by(all, "id", SEED_C1), "author_handle"), "@alice@m.example");
	CHECK_STR(jstr(find_by(all, "id", SEED_C6), "status"), "private");
	/* Filters. */
	{
		char *argv[] = {(char *)api.b.binary, "-c",	 api.b.conf, "comments", "--json",
				"--status",	      "private", "--post",   POST_URL,	 NULL};
		char *err = NULL;
		CHECK_INT(check_run(argv, NULL, &out, &err), 0);
		pending = json_loads(out ? out : "", 0, NULL);
		CHECK_INT(json_array_size(pending), 1);
		CHECK_STR(jstr(json_array_get(pending, 0), "id"), SEED_C6);
		free(err);
		free(out);
		out = NULL;
	}
	/* Private comments are for the admin: not approved, only deleted. */
	CHECK_INT(cli(&out, "comments", "approve", SEED_C6, NULL), 1);
	free(out);
	out = NULL;
	CHECK_INT(cli(&out, "comments", "delete", SEED_C7, NULL), 0);
	CHECK(check_contains(out, "deleted"));
	free(out);
	out = NULL;
	CHECK_INT(cli(&out, "comments", "approve", SEED_C7, NULL), 1); /* deleted is final */
	free(out);
	out = NULL;
	CHECK_INT(cli(&out, "comments", "approve", "https://nowhere.example/1", NULL), 1);
	free(out);
	out = NULL;
	CHECK_INT(cli(&out, "comments", "--status", "bogus", NULL), 2);
	free(out);
	out = NULL;
	CHECK_INT(cli(&out, "comments", "--post", "https://blog.test/none/", NULL), 1);
	free(out);
	out = NULL;
	CHECK_INT(cli(&out, "comments", "--json", "--status", "deleted"), 0);
	mine = json_loads(out ? out : "", 0, NULL);
	CHECK_INT(json_array_size(mine), 1);
	CHECK_STR(jstr(json_array_get(mine, 0), "id"), SEED_C7);
	free(out);
	out = NULL;
	CHECK_INT(cli(&out, "comments", NULL, NULL, NULL), 0);
	CHECK(check_contains(out, SEED_C1));
	json_decref(all);
	json_decref(pending);
	json_decref(mine);
	free(out);
}

static void t_cli_reactions(void)
{
	json_t *r = NULL, *posts = NULL, *p, *like;

	if (!api_up())
		return;
	r = bridge_cli_json(&api.b, "reactions");
	CHECK_INT(json_array_size(r), 4);
	like = json_array_get(r, 0);
	CHECK_INT(json_object_size(like), 6);
	CHECK_STR(jstr(like, "post"), POST_URL);
	CHECK_STR(jstr(like, "type"), "like");
	CHECK_STR(jstr(like, "actor"), SEED_ALICE);
	CHECK_STR(jstr(like, "handle"), "@alice@m.example");
	CHECK_STR(jstr(like, "activity"), SEED_ALICE "#likes/1");
	CHECK_STR(jstr(like, "published"), "1970-01-01T00:01:50Z");
	CHECK(json_is_null(jget(json_array_get(r, 1), "handle"))); /* bob: not cached */
	CHECK_STR(jstr(json_array_get(r, 2), "type"), "boost");
	CHECK_STR(jstr(json_array_get(r, 3), "type"), "quote");
	posts = bridge_cli_json(&api.b, "posts");
	p = find_by(posts, "url", POST_URL);
	CHECK(p != NULL);
	CHECK_INT(jint(p, "likes"), 2);
	CHECK_INT(jint(p, "boosts"), 1);
	CHECK(jint(p, "comments") >= 4); /* approved: 4 (+ what other cases approved) */
	CHECK_INT(jint(find_by(posts, "url", POST2_URL), "comments"), BUSY_COMMENTS);
	CHECK_INT(jint(find_by(posts, "url", POST2_URL), "likes"), 0);
	json_decref(r);
	json_decref(posts);
}

/* Last: SIGTERM ends the bridge cleanly, and its log has no sanitizer
 * report (under BB_SANITIZE). */
static void t_log_clean(void)
{
	if (!api.up)
		return; /* nothing ran (the browser case skipped) */
	CHECK_INT(bridge_stop(&api.b, SIGTERM), 0);
	bridge_check_log_clean(&api.b);
	api.up = false;
}

static const struct check_case cases[] = {
    {"api_shape", t_api_shape},	      {"api_etag", t_api_etag},
    {"api_errors", t_api_errors},     {"embed_fragment", t_embed_fragment},
    {"embed_script", t_embed_script}, {"replies", t_replies},
    {"cli_comments", t_cli_comments}, {"cli_reactions", t_cli_reactions},
    {"browser", t_browser},	      {"log_clean", t_log_clean},
};

int main(int argc, char **argv)
{
	int rc;

	binary = bridge_main_init(argc, argv, "test_api");
	if (binary == NULL)
		return 2;
	rc = check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
	if (rc != 0 && api.b.log[0])
		bridge_dump_log(&api.b);
	if (api.b.pid > 0)
		bridge_stop(&api.b, SIGTERM);
	bridge_remove(&api.b);
	curl_global_cleanup();
	/* The browser case alone, without Chromium: skipped (CTest's 77). */
	if (rc == 0 && api.skipped)
		return 77;
	return rc;
}
