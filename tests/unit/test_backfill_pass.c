/*
 * test_backfill_pass.c — a pass of the reply backfill (activitypub/backfill.c)
 * on a real store: what a replies collection's items become, counted as
 * the pass counts them.  The program is linked with -Wl,--wrap=fetch_get:
 * remote.c's GETs are answered from the documents a case serves, by URL
 * (404 for any other); everything else is the real code.
 */
#include "backfill.h"
#include "check.h"
#include "site.h"
#include "store.h"
#include "store_fixture.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AS "https://www.w3.org/ns/activitystreams"
#define BASE "https://blog.example"
#define POST_ID BASE "/ap/posts/1"
#define ALICE "https://remote.example/users/alice"
#define C1 ALICE "/statuses/1"
#define REPLIES C1 "/replies"
#define A(n) ALICE "/statuses/" #n
#define DOCS_MAX 8

static struct {
	const char *url;
	char *body;
} served[DOCS_MAX];
static size_t nserved, gets;

enum bb_rc __wrap_fetch_get(const struct fetch_config *cfg, const char *url, const char *accept,
			    size_t max_body, struct fetch_result *out, struct err *e);

enum bb_rc __wrap_fetch_get(const struct fetch_config *cfg, const char *url, const char *accept,
			    size_t max_body, struct fetch_result *out, struct err *e)
{
	const char *body = NULL;

	(void)cfg, (void)accept, (void)max_body, (void)e;
	gets++;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nserved && body == NULL; i++)
		if (strcmp(served[i].url, url) == 0)
			body = served[i].body;
	out->status = body ? 200 : 404;
	out->body = strdup(body ? body : "");
	out->body_len = strlen(out->body);
	out->content_type = strdup("application/activity+json");
	out->url = strdup(url);
	if (out->body == NULL || out->content_type == NULL || out->url == NULL)
		abort();
	return BB_OK;
}

/* Serves j (taken) at url. */
static void serve(const char *url, json_t *j)
{
	char *doc = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	CHECK(doc != NULL && nserved < DOCS_MAX);
	if (doc == NULL || nserved == DOCS_MAX) {
		free(doc);
		return;
	}
	served[nserved].url = url;
	served[nserved++].body = doc;
}

static void served_clear(void)
{
	for (size_t i = 0; i < nserved; i++)
		free(served[i].body);
	nserved = 0;
	gets = 0;
}

/* Alice's public note id answering in_reply_to (as embedded in a page). */
static json_t *note(const char *id, const char *in_reply_to, const char *content)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "id", id, "type", "Note",
			 "attributedTo", ALICE, "inReplyTo", in_reply_to, "content", content, "to",
			 AS "#Public");
}

/* The replies collection of C1: one page of items (taken). */
static json_t *page(json_t *items)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "@context", AS, "id", REPLIES, "type",
			 "CollectionPage", "items", items);
}

static enum bb_rc write_direct(void *warg, backfill_job_fn fn, void *arg, struct err *e)
{
	struct store *st = warg;
	enum bb_rc rc = store_begin(st, e);

	if (rc != BB_OK)
		return rc;
	rc = fn(st, arg, e);
	if (rc == BB_OK)
		rc = store_commit(st, e);
	if (rc != BB_OK)
		store_rollback(st);
	return rc;
}

struct world {
	const char *dir;
	char *path;
	struct store *st;
	struct ap_site site;
	struct comments_env cenv;
	struct fetch_config fetch;
};

/* A store with our post, Alice (cached) and her comment C1 on it, whose
 * replies collection REPLIES is due. */
static bool world_up(struct world *w)
{
	struct ap_site_config sc = {
	    .base_url = BASE,
	    .host = "blog.example",
	    .handle = "blog",
	    .name = "Blog",
	    .summary = "",
	    .blog_url = "https://blog.example/",
	    .public_key_pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
	    .software_version = "1",
	    .published = 1,
	};
	time_t now = time(NULL);
	struct store_post p =
	    post("g1", POST_ID, "https://blog.example/2026/a-post/", "A post", "h1", now);
	struct store_actor alice = {.id = ALICE,
				    .inbox = ALICE "/inbox",
				    .key_id = ALICE "#main-key",
				    .public_key_pem = "-----BEGIN PUBLIC KEY-----\n",
				    .fetched_at = now};
	struct store_comment c = {.ap_id = C1,
				  .author = ALICE,
				  .content = "<p>a comment</p>",
				  .status = STORE_COMMENT_APPROVED,
				  .published = now,
				  .received = now};
	struct store_backfill row = {REPLIES, STORE_BACKFILL_REPLIES, C1, 0, 0, 0, 0};
	struct err e = {0};
	bool is_new = false;

	memset(w, 0, sizeof(*w));
	w->st = fresh(&w->dir, &w->path);
	if (w->st == NULL)
		return false;
	CHECK_INT(ap_site_init(&w->site, &sc, &e), BB_OK);
	CHECK_INT(store_post_put(w->st, &p, &e), BB_OK);
	c.post = row.post = p.rowid;
	CHECK_INT(store_actor_put(w->st, &alice, &e), BB_OK);
	CHECK_INT(store_comment_add(w->st, &c, &is_new, &e), BB_OK);
	CHECK_INT(store_backfill_add(w->st, &row, &e), BB_OK);
	w->cenv = (struct comments_env){&w->site, NULL, COMMENTS_MODERATION_AUTO, {0}};
	w->fetch = (struct fetch_config){.user_agent = "test"};
	return check_failures == 0;
}

static void world_down(struct world *w)
{
	if (w->st)
		store_close(w->st);
	ap_site_free(&w->site);
	if (w->dir)
		check_tmpdir_remove(w->dir);
	free(w->path);
	served_clear();
}

/* One pass; the comments stored in all after it. */
static int64_t pass(struct world *w, struct backfill_stats *stats)
{
	struct backfill_env env = {&w->cenv, &w->fetch, write_direct, w->st};
	struct backfill *bf = backfill_new(&env);
	struct store_comment_filter f = {0};
	struct err e = {0};
	int64_t n = -1;

	CHECK(bf != NULL);
	if (bf == NULL)
		return -1;
	CHECK_INT(backfill_pass(bf, w->st, false, time(NULL), stats, &e), BB_OK);
	backfill_free(bf);
	CHECK_INT(store_comment_count(w->st, &f, &n, &e), BB_OK);
	return n;
}

/* The parent of comment id ("" for none, "?" when not stored). */
static const char *parent_of(struct world *w, const char *id)
{
	static char out[256];
	struct store_comment c = {0};
	struct err e = {0};

	snprintf(out, sizeof(out), "?");
	if (store_comment_get(w->st, id, &c, &e) == BB_OK)
		snprintf(out, sizeof(out), "%s", c.parent ? c.parent : "");
	store_comment_clear(&c);
	return out;
}

/* Alice's answer, embedded in her server's page: a comment under C1. */
static void t_embedded(void)
{
	struct backfill_stats stats = {0};
	struct world w;

	if (world_up(&w)) {
		serve(REPLIES, page(json_pack("[o]", note(A(2), C1, "<p>an answer</p>"))));
		CHECK_INT(pass(&w, &stats), 2);
		CHECK_INT(stats.imported, 1);
		CHECK_INT(stats.rows, 1);
		CHECK_INT(gets, 1);
		CHECK_STR(parent_of(&w, A(2)), C1);
	}
	world_down(&w);
}

/* An answer to one later in the page is tried again after the others:
 * listed twice, it is one new comment, counted once. */
static void t_listed_twice(void)
{
	struct backfill_stats stats = {0};
	struct world w;

	if (world_up(&w)) {
		serve(REPLIES, page(json_pack("[o, o, o]", note(A(4), A(3), "<p>four</p>"),
					      note(A(4), A(3), "<p>four</p>"),
					      note(A(3), C1, "<p>three</p>"))));
		CHECK_INT(pass(&w, &stats), 3);
		CHECK_INT(stats.imported, 2);
		CHECK_INT(stats.refused, 0);
		CHECK_STR(parent_of(&w, A(3)), C1);
		CHECK_STR(parent_of(&w, A(4)), A(3));
	}
	world_down(&w);
}

/* The same, when its second listing comes after its parent's (imported
 * then at once): the deferred copy is not imported again. */
static void t_listed_after_parent(void)
{
	struct backfill_stats stats = {0};
	struct world w;

	if (world_up(&w)) {
		serve(REPLIES, page(json_pack("[o, o, o]", note(A(4), A(3), "<p>four</p>"),
					      note(A(3), C1, "<p>three</p>"),
					      note(A(4), A(3), "<p>four</p>"))));
		CHECK_INT(pass(&w, &stats), 3);
		CHECK_INT(stats.imported, 2);
		CHECK_STR(parent_of(&w, A(4)), A(3));
	}
	world_down(&w);
}

/* An answer to nothing of ours is refused, and remembered as such. */
static void t_unrouted(void)
{
	struct backfill_stats stats = {0};
	struct store_backfill b = {0};
	struct err e = {0};
	struct world w;

	if (world_up(&w)) {
		serve(REPLIES,
		      page(json_pack("[o]", note(A(5), "https://x.example/1", "<p>x</p>"))));
		CHECK_INT(pass(&w, &stats), 1);
		CHECK_INT(stats.imported, 0);
		CHECK_INT(stats.refused, 1);
		CHECK_INT(store_backfill_get(w.st, A(5), &b, &e), BB_OK);
		CHECK_INT(b.kind, STORE_BACKFILL_ITEM);
		store_backfill_clear(&b);
	}
	world_down(&w);
}

static const struct check_case cases[] = {
    {"embedded", t_embedded},
    {"listed_twice", t_listed_twice},
    {"listed_after_parent", t_listed_after_parent},
    {"unrouted", t_unrouted},
};

CHECK_MAIN(cases)
