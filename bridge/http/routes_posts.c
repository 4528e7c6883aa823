/*
 * routes_posts.c — the blog's posts as ActivityPub: each object at its id
 * (browsers are sent to the blog post), the activities that carried it,
 * the outbox (newest first, paged), and /ap/lookup?url=POST_URL, which
 * sends a post's URL to its object id (what a blog links to with
 * <link rel="alternate" type="application/activity+json">).  A post's
 * `replies` lists its approved comments.
 *
 * A deleted post answers 404 with a Tombstone body: a 404 is what makes
 * Mastodon drop a copy it refetches (fetch_remote_status_service.rb).
 */
#include "log.h"
#include "object.h"
#include "render.h"
#include "routes_int.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLIES_SUFFIX "/replies"
#define ACTIVITY_SUFFIX "/activity"

/* The absolute id of the requested path; false when too long. */
static bool request_id(const struct http_request *req, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s%s", req->app->site.cfg.base_url, req->path);

	return n > 0 && (size_t)n < outlen;
}

/* Serves an activity we sent, by its id. */
static void serve_activity(struct http_request *req, struct http_response *res, const char *id)
{
	struct err e = {0};
	struct store *st = app_store(req->app, &e);
	char *json = NULL;
	enum bb_rc rc;

	if (st == NULL) {
		respond_store_error(res, &e);
		return;
	}
	rc = store_activity_get(st, id, &json, &e);
	if (rc == BB_ERR_NOTFOUND) {
		http_respond_error(res, 404, "not found");
		return;
	}
	if (rc != BB_OK) {
		respond_store_error(res, &e);
		return;
	}
	if (!negotiate_json(req, res, req->app->site.cfg.blog_url)) {
		free(json);
		return;
	}
	res->cors = true;
	http_respond_owned(res, 200, AP_CONTENT_TYPE, json);
}

void route_activity(struct http_request *req, struct http_response *res)
{
	char id[2048];

	if (!request_id(req, id, sizeof(id))) {
		http_respond_error(res, 404, "not found");
		return;
	}
	serve_activity(req, res, id);
}

/* Walk state for a page of reply ids. */
struct reply_page {
	char *ids[AP_COLLECTION_PAGE_SIZE + 1];
	size_t count;
};

static enum bb_rc collect_reply(const struct store_comment *c, void *arg, struct err *e)
{
	struct reply_page *page = arg;

	if (page->count > AP_COLLECTION_PAGE_SIZE)
		return err_set(e, BB_ERR_STORE, "replies: more comments than a page asked for");
	page->ids[page->count] = strdup(c->ap_id);
	if (page->ids[page->count] == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	page->count++;
	return BB_OK;
}

/* The post's `replies` (id): its approved comments' ids, oldest first,
 * every depth of the thread (each names what it answers in inReplyTo),
 * paged as MASTODON.md 7.4 describes.  Private comments are never
 * approved, so never listed. */
static void serve_replies(struct http_request *req, struct http_response *res, struct store *st,
			  int64_t post, const char *id)
{
	struct store_comment_filter f = {STORE_COMMENT_BIT(STORE_COMMENT_APPROVED), post, 0,
					 AP_COLLECTION_PAGE_SIZE + 1};
	struct reply_page page = {0};
	struct err e = {0};
	int64_t total = 0;
	long n;
	bool has_next;
	size_t shown;

	if (!collection_request(req, res, &n))
		return;
	f.offset = n > 1 ? (int64_t)(n - 1) * AP_COLLECTION_PAGE_SIZE : 0;
	/* One more than a page tells whether there is a next one. */
	if (store_comment_count(st, &f, &total, &e) != BB_OK ||
	    store_comment_each(st, &f, collect_reply, &page, &e) != BB_OK) {
		respond_store_error(res, &e);
		goto out;
	}
	has_next = page.count > AP_COLLECTION_PAGE_SIZE;
	shown = has_next ? AP_COLLECTION_PAGE_SIZE : page.count;
	http_respond_owned(
	    res, 200, AP_CONTENT_TYPE,
	    n == 0 ? ap_replies_render(id, total, (const char *const *)page.ids, shown, has_next)
		   : ap_replies_page_render(id, n, (const char *const *)page.ids, shown, has_next));
out:
	for (size_t i = 0; i < page.count; i++)
		free(page.ids[i]);
}

void route_post(struct http_request *req, struct http_response *res)
{
	struct store_post p = {0};
	struct err e = {0};
	struct store *st = app_store(req->app, &e);
	char id[2048];
	size_t len;
	bool replies;
	enum bb_rc rc;

	if (!request_id(req, id, sizeof(id))) {
		http_respond_error(res, 404, "not found");
		return;
	}
	if (st == NULL) {
		respond_store_error(res, &e);
		return;
	}
	len = strlen(id);
	replies = len > strlen(REPLIES_SUFFIX) &&
		  strcmp(id + len - strlen(REPLIES_SUFFIX), REPLIES_SUFFIX) == 0;
	if (replies)
		id[len - strlen(REPLIES_SUFFIX)] = '\0';
	rc = store_post_by_ap_id(st, id, &p, &e);
	if (rc == BB_ERR_NOTFOUND) {
		if (replies) {
			http_respond_error(res, 404, "not found");
			return;
		}
		serve_activity(req, res, id); /* Create, Update, Delete */
		return;
	}
	if (rc != BB_OK) {
		respond_store_error(res, &e);
		return;
	}
	if (p.deleted) {
		res->vary_accept = true;
		http_respond_owned(res, 404, AP_CONTENT_TYPE,
				   object_tombstone_render(p.ap_id, p.deleted));
	} else if (replies) {
		if (snprintf(id, sizeof(id), "%s%s", p.ap_id, REPLIES_SUFFIX) < (int)sizeof(id))
			serve_replies(req, res, st, p.rowid, id);
	} else if (negotiate_json(req, res, p.url)) {
		res->cors = true;
		http_respond_owned(res, 200, AP_CONTENT_TYPE, p.object_json);
		p.object_json = NULL; /* the response owns it now */
	}
	store_post_clear(&p);
}

void route_lookup(struct http_request *req, struct http_response *res)
{
	const char *url = http_request_query(req, "url");
	struct store_post p = {0};
	struct err e = {0};
	struct store *st;
	enum bb_rc rc;

	res->cors = true;
	if (url == NULL || url[0] == '\0') {
		http_respond_error(res, 400, "the url parameter is required");
		return;
	}
	st = app_store(req->app, &e);
	if (st == NULL) {
		respond_store_error(res, &e);
		return;
	}
	rc = store_post_by_url(st, url, &p, &e);
	if (rc == BB_OK && !p.deleted)
		http_respond_redirect(res, p.ap_id);
	else if (rc == BB_OK || rc == BB_ERR_NOTFOUND)
		http_respond_error(res, 404, "no post with that URL");
	else
		respond_store_error(res, &e);
	store_post_clear(&p);
}

/* Walk state for an outbox page: the Create of each post. */
struct outbox_page {
	const struct ap_site *site;
	char *items[AP_COLLECTION_PAGE_SIZE + 1];
	size_t count;
};

static enum bb_rc collect_create(const struct store_post *p, void *arg, struct err *e)
{
	struct outbox_page *page = arg;
	char id[2048];

	if (page->count > AP_COLLECTION_PAGE_SIZE)
		return err_set(e, BB_ERR_STORE, "outbox: more posts than a page asked for");
	snprintf(id, sizeof(id), "%s%s", p->ap_id, ACTIVITY_SUFFIX);
	page->items[page->count] =
	    object_activity_render(page->site, "Create", id, p->object_json, p->published);
	if (page->items[page->count] == NULL)
		return err_set(e, BB_ERR_STORE,
			       "outbox: cannot render the Create of %s "
			       "(out of memory, or its stored object is not JSON)",
			       p->ap_id);
	page->count++;
	return BB_OK;
}

void route_outbox(struct http_request *req, struct http_response *res)
{
	const struct ap_site *site = &req->app->site;
	struct outbox_page page = {.site = site};
	struct err e = {0};
	struct store *st;
	int64_t total = 0;
	long n;
	bool has_next;

	if (!collection_request(req, res, &n))
		return;
	st = app_store(req->app, &e);
	if (st == NULL || store_post_count(st, &total, &e) != BB_OK) {
		respond_store_error(res, &e);
		return;
	}
	if (n == 0) {
		http_respond_owned(res, 200, AP_CONTENT_TYPE,
				   ap_collection_render(site->outbox, total));
		return;
	}
	/* One more than a page tells whether there is a next one. */
	if (store_post_each(st, (int64_t)(n - 1) * AP_COLLECTION_PAGE_SIZE,
			    AP_COLLECTION_PAGE_SIZE + 1, false, collect_create, &page,
			    &e) != BB_OK) {
		respond_store_error(res, &e);
		goto out;
	}
	has_next = page.count > AP_COLLECTION_PAGE_SIZE;
	http_respond_owned(res, 200, AP_CONTENT_TYPE,
			   ap_collection_page_render_objects(
			       site->outbox, total, n, (const char *const *)page.items,
			       has_next ? AP_COLLECTION_PAGE_SIZE : page.count, has_next));
out:
	for (size_t i = 0; i < page.count; i++)
		free(page.items[i]);
}
