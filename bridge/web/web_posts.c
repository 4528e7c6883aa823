/*
 * web_posts.c — the posts pages: each bridged post with the delivery of
 * its latest activity, and a page per post with the delivery of each of
 * its activities per server (last status and error, attempts, next
 * retry), and "resend to failed" / "send again to all" (queued
 * deliveries, through ops_post_resend).
 */
#include "log.h"
#include "ops.h"
#include "text.h"
#include "web_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POSTS_PAGE 50

/* The posts of one page, copied: the walk may not read the store again. */
struct post_list {
	struct store_post p[POSTS_PAGE];
	size_t n;
};

static enum bb_rc keep_post(const struct store_post *p, void *arg, struct err *e)
{
	struct post_list *l = arg;
	struct store_post *c = &l->p[l->n];

	if (l->n >= POSTS_PAGE)
		return BB_OK;
	c->rowid = p->rowid;
	c->ap_id = strdup(p->ap_id);
	c->url = strdup(p->url);
	c->title = strdup(p->title ? p->title : "");
	c->published = p->published;
	c->deleted = p->deleted;
	l->n++;
	if (c->ap_id == NULL || c->url == NULL || c->title == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	return BB_OK;
}

static void post_link(struct web_page *p, const struct store_post *post)
{
	page_raw(p, "<a href=\"/admin/post?url=");
	page_urlenc(p, post->url);
	page_raw(p, "\">");
	page_text(p, post->title[0] ? post->title : post->url);
	page_raw(p, "</a>");
}

/* One row of the list: the post, the delivery of its latest activity, its
 * shown comments and its reactions. */
static enum bb_rc post_row(struct web_ctx *c, struct store *st, struct web_page *p,
			   const struct store_post *post, struct err *e)
{
	struct store_post_delivery_counts n;
	struct store_comment_filter shown = {.statuses = STORE_COMMENT_BIT(STORE_COMMENT_APPROVED),
					     .post = post->rowid};
	int64_t counts[4] = {0}; /* comments, likes, boosts, quotes */
	enum bb_rc rc;

	if ((rc = ops_post_delivery_count(c->req->app, post->ap_id, &n, e)) != BB_OK ||
	    (rc = store_comment_count(st, &shown, &counts[0], e)) != BB_OK ||
	    (rc = store_reaction_counts(st, post->rowid, &counts[1], &counts[2], &counts[3], e)) !=
		BB_OK)
		return rc;
	page_raw(p, "<tr><td>");
	post_link(p, post);
	if (post->deleted)
		page_raw(p, " <span class=\"muted\">(deleted)</span>");
	page_raw(p, "</td><td>");
	page_time(p, post->published);
	page_raw(p, "</td><td>");
	page_int(p, n.done);
	page_raw(p, "</td><td>");
	page_int(p, n.pending);
	page_raw(p, n.failed ? "</td><td class=\"bad\">" : "</td><td>");
	page_int(p, n.failed);
	for (size_t i = 0; i < 4; i++) {
		page_raw(p, "</td><td>");
		page_int(p, counts[i]);
	}
	page_raw(p, "</td></tr>");
	return BB_OK;
}

void web_page_posts(struct web_ctx *c)
{
	const char *page_s = http_request_query(c->req, "page");
	struct post_list *l = calloc(1, sizeof(*l));
	int64_t page = 1;
	struct err e = {0};
	struct web_page p;
	struct store *st = app_store(c->req->app, &e);
	bool ok = false;

	page_init(&p, c->csrf);
	if (st == NULL)
		goto out;
	if (l == NULL || (page_s != NULL && !text_int64_parse(page_s, 1, 1000000, &page))) {
		web_error(c, 400, "page must be a number from 1");
		goto out;
	}
	if (ops_posts_each(c->req->app, (page - 1) * POSTS_PAGE, POSTS_PAGE, keep_post, l, &e) !=
	    BB_OK)
		goto out;
	page_begin(&p, "Posts", true);
	page_raw(&p,
		 "<p class=\"muted\">Delivery of each post's latest activity (its Create, or "
		 "its last Update or Delete) to the followers' servers.</p><div class=\"scroll\">"
		 "<table id=\"posts\"><tr><th>Post</th><th>Published</th><th>Delivered</th>"
		 "<th>Pending</th><th>Failed</th><th>Comments</th><th>Likes</th><th>Boosts</th>"
		 "<th>Quotes</th></tr>");
	for (size_t i = 0; i < l->n; i++)
		if (post_row(c, st, &p, &l->p[i], &e) != BB_OK)
			goto out;
	page_raw(&p, "</table></div><nav class=\"pages\"><p>");
	if (page > 1) {
		page_raw(&p, "<a href=\"/admin/posts?page=");
		page_int(&p, page - 1);
		page_raw(&p, "\">← newer</a>");
	}
	if (l->n == POSTS_PAGE) {
		page_raw(&p, "<a href=\"/admin/posts?page=");
		page_int(&p, page + 1);
		page_raw(&p, "\">older →</a>");
	}
	page_raw(&p, "</p></nav>");
	page_end(&p, c->res);
	ok = true;
out:
	if (!ok && e.code != BB_OK) {
		buf_free(&p.b);
		log_error("admin: posts: %s", e.msg);
		web_error(c, 500, "the store failed; see the log");
	} else if (!ok) {
		buf_free(&p.b);
	}
	for (size_t i = 0; l && i < l->n; i++)
		store_post_clear(&l->p[i]);
	free(l);
}

static const char *const state_text[] = {
    [STORE_DELIVERY_PENDING] = "pending",
    [STORE_DELIVERY_DONE] = "<span class=\"ok\">delivered</span>",
    [STORE_DELIVERY_FAILED] = "<span class=\"bad\">failed</span>",
};

static enum bb_rc delivery_row(const struct store_post_delivery *d, void *arg, struct err *e)
{
	struct web_page *p = arg;
	const char *kind = strstr(d->activity, "/updates/") ? "Update"
			   : strstr(d->activity, "/delete") ? "Delete"
							    : "Create";

	(void)e;
	page_raw(p, "<tr><td>");
	page_raw(p, kind);
	page_raw(p, "</td><td>");
	page_text(p, d->host);
	page_raw(p, "</td><td>");
	page_raw(p, d->state <= STORE_DELIVERY_FAILED ? state_text[d->state] : "?");
	page_raw(p, "</td><td>");
	if (d->last_status)
		page_int(p, d->last_status);
	page_raw(p, "</td><td>");
	page_text(p, d->last_error ? d->last_error : "");
	page_raw(p, "</td><td>");
	page_int(p, d->attempts);
	page_raw(p, "</td><td>");
	page_time(p, d->state == STORE_DELIVERY_PENDING ? d->next_attempt : 0);
	page_raw(p, "</td></tr>");
	return BB_OK;
}

void web_page_post(struct web_ctx *c)
{
	const char *url = http_request_query(c->req, "url");
	struct store_post post = {0};
	struct err e = {0};
	struct web_page p;
	enum bb_rc rc;

	if (url == NULL) {
		web_error(c, 400, "which post?");
		return;
	}
	rc = ops_post_find(c->req->app, url, &post, &e);
	if (rc != BB_OK) {
		web_error(c, rc == BB_ERR_NOTFOUND ? 404 : 500,
			  rc == BB_ERR_NOTFOUND ? "no such post" : "the store failed");
		return;
	}
	page_init(&p, c->csrf);
	page_begin(&p, post.title[0] ? post.title : post.url, true);
	{
		const char *failed[] = {"url", post.url, "all", "0", NULL};
		const char *all[] = {"url", post.url, "all", "1", NULL};
		page_raw(&p, "<p><a href=\"");
		page_href(&p, post.url);
		page_raw(&p, "\" rel=\"noreferrer\">");
		page_text(&p, post.url);
		page_raw(&p, "</a></p><p>");
		page_form_button(&p, "/admin/posts/resend", "Resend to failed", failed);
		page_raw(&p, " ");
		page_form_button(&p, "/admin/posts/resend", "Send again to all", all);
	}
	page_raw(&p, "</p><div class=\"scroll\"><table id=\"deliveries\"><tr><th>Activity</th>"
		     "<th>Server</th><th>State</th><th>Last status</th><th>Last error</th>"
		     "<th>Attempts</th><th>Next retry</th></tr>");
	rc = ops_post_deliveries_each(c->req->app, post.url, delivery_row, &p, &e);
	if (rc != BB_OK) {
		buf_free(&p.b);
		log_error("admin: post deliveries: %s", e.msg);
		web_error(c, 500, "the store failed; see the log");
		goto out;
	}
	page_raw(&p, "</table></div>");
	page_end(&p, c->res);
out:
	store_post_clear(&post);
}

void web_do_resend(struct web_ctx *c)
{
	char *url = web_field(c, "url"), *all = web_field(c, "all");
	char back[4200];
	struct web_page enc;
	struct err e = {0};
	int64_t n = 0;
	enum bb_rc rc;

	if (url == NULL) {
		web_error(c, 400, "which post?");
		goto out;
	}
	rc = ops_post_resend(c->req->app, url, all && strcmp(all, "1") == 0, &n, &e);
	if (rc != BB_OK) {
		if (rc != BB_ERR_NOTFOUND)
			log_error("admin: resend: %s", e.msg);
		web_error(c, rc == BB_ERR_NOTFOUND ? 404 : 500,
			  rc == BB_ERR_NOTFOUND ? e.msg : "the store failed; see the log");
		goto out;
	}
	page_init(&enc, NULL);
	page_urlenc(&enc, url);
	snprintf(back, sizeof(back), "/admin/post?url=%s", enc.b.data ? enc.b.data : "");
	buf_free(&enc.b);
	web_redirect(c, back);
out:
	free(url);
	free(all);
}
