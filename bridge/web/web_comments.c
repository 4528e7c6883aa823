/*
 * web_comments.c — the moderation page: the replies waiting first, then
 * the other statuses and the mentions, one tab each; approve, reject or
 * delete one comment or the ticked ones at once (through
 * ops_comment_moderate).  Each comment shows its post, its author (name,
 * handle linked to the profile), the comment it answers, and its content
 * as it will appear under the post (page_html).  Private replies
 * (followers-only or direct) and mentions of the blog are kept apart:
 * they are never shown on the blog.
 */
#include "log.h"
#include "ops.h"
#include "store.h"
#include "text.h"
#include "web_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMENTS_PAGE 50
/* Posts whose titles a page can name; older ones show as "a post". */
#define POSTS_NAMED 5000
/* The most comments one bulk action takes. */
#define BULK_MAX COMMENTS_PAGE

struct post_name {
	int64_t rowid;
	char *title;
	char *url;
};

struct post_names {
	struct post_name *v;
	size_t n, cap;
};

static enum bb_rc keep_name(const struct store_post *p, void *arg, struct err *e)
{
	struct post_names *l = arg;
	struct post_name *x;

	if (l->n == l->cap)
		return BB_OK;
	x = &l->v[l->n];
	x->rowid = p->rowid;
	x->title = strdup(p->title && p->title[0] ? p->title : p->url);
	x->url = strdup(p->url);
	l->n++;
	if (x->title == NULL || x->url == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	return BB_OK;
}

static void names_free(struct post_names *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].title);
		free(l->v[i].url);
	}
	free(l->v);
}

static const struct post_name *name_of(const struct post_names *l, int64_t rowid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].rowid == rowid)
			return &l->v[i];
	return NULL;
}

/* The tabs, in the order shown: the queue first. */
struct tab {
	const char *name;
	const char *label;
	enum store_comment_status status;
};
static const struct tab tabs[] = {
    {"pending", "Waiting", STORE_COMMENT_PENDING},
    {"approved", "Approved", STORE_COMMENT_APPROVED},
    {"rejected", "Rejected", STORE_COMMENT_REJECTED},
    {"private", "Private replies", STORE_COMMENT_PRIVATE},
    {"deleted", "Deleted", STORE_COMMENT_DELETED},
};
#define TAB_COUNT (sizeof(tabs) / sizeof(tabs[0]))

struct comment_walk {
	struct web_page *p;
	const struct post_names *posts;
	const char *tab;
	int64_t rows;
};

static void action_button(struct web_page *p, const char *ap_id, const char *tab,
			  const char *action, const char *label)
{
	const char *fields[] = {"id", ap_id, "action", action, "show", tab, NULL};

	page_form_button(p, "/admin/comments/moderate", label, fields);
	page_raw(p, " ");
}

static enum bb_rc comment_row(const struct store_comment *c, void *arg, struct err *e)
{
	struct comment_walk *w = arg;
	struct web_page *p = w->p;
	const struct post_name *post = name_of(w->posts, c->post);

	(void)e;
	w->rows++;
	page_raw(p, "<div class=\"comment\"><p class=\"meta\"><input type=\"checkbox\" "
		    "form=\"bulk\" name=\"id\" value=\"");
	page_text(p, c->ap_id);
	page_raw(p, "\"> ");
	page_avatar(p, c->author_avatar);
	page_raw(p, "<strong>");
	page_text(p, c->author_name && c->author_name[0] ? c->author_name : "(no name)");
	page_raw(p, "</strong> <a href=\"");
	page_href(p, c->author_url ? c->author_url : c->author);
	page_raw(p, "\" rel=\"noreferrer\">");
	page_text(p, c->author_handle ? c->author_handle : c->author);
	page_raw(p, "</a> · ");
	page_time(p, c->published);
	page_raw(p, c->edited ? " (edited)" : "");
	page_raw(p, " · on <a href=\"");
	page_href(p, post ? post->url : NULL);
	page_raw(p, "\" rel=\"noreferrer\">");
	page_text(p, post ? post->title : "a post");
	page_raw(p, "</a>");
	if (c->parent) {
		page_raw(p, " · in reply to <a href=\"");
		page_href(p, c->parent);
		page_raw(p, "\" rel=\"noreferrer\">a comment</a>");
	}
	page_raw(p, "</p><div class=\"content\">");
	page_html(p, c->content, c->ap_id);
	page_raw(p, "</div><p>");
	if (c->status == STORE_COMMENT_PENDING || c->status == STORE_COMMENT_REJECTED)
		action_button(p, c->ap_id, w->tab, "approve", "Approve");
	if (c->status == STORE_COMMENT_PENDING || c->status == STORE_COMMENT_APPROVED)
		action_button(p, c->ap_id, w->tab, "reject", "Reject");
	if (c->status != STORE_COMMENT_DELETED)
		action_button(p, c->ap_id, w->tab, "delete", "Delete");
	page_raw(p, "</p></div>");
	return BB_OK;
}

static enum bb_rc mention_row(const struct store_mention *m, void *arg, struct err *e)
{
	struct comment_walk *w = arg;
	struct web_page *p = w->p;

	(void)e;
	w->rows++;
	page_raw(p, "<div class=\"comment\"><p class=\"meta\"><a href=\"");
	page_href(p, m->author);
	page_raw(p, "\" rel=\"noreferrer\">");
	page_text(p, m->author);
	page_raw(p, "</a> · ");
	page_time(p, m->published);
	page_raw(p, "</p><div class=\"content\">");
	page_html(p, m->content, m->ap_id);
	page_raw(p, "</div></div>");
	return BB_OK;
}

/* The tab strip with each status's count. */
static enum bb_rc tab_strip(struct web_page *p, struct store *st, const char *show, struct err *e)
{
	page_raw(p, "<p class=\"tabs\">");
	for (size_t i = 0; i < TAB_COUNT; i++) {
		struct store_comment_filter f = {.statuses = STORE_COMMENT_BIT(tabs[i].status)};
		int64_t n = 0;
		enum bb_rc rc = store_comment_count(st, &f, &n, e);
		if (rc != BB_OK)
			return rc;
		page_raw(p, strcmp(show, tabs[i].name) == 0
				? "<a class=\"on\" href=\"/admin/comments?show="
				: "<a href=\"/admin/comments?show=");
		page_raw(p, tabs[i].name);
		page_raw(p, "\">");
		page_raw(p, tabs[i].label);
		page_raw(p, " (");
		page_int(p, n);
		page_raw(p, ")</a>");
	}
	page_raw(p, strcmp(show, "mentions") == 0
			? "<a class=\"on\" href=\"/admin/comments?show=mentions\">Mentions</a></p>"
			: "<a href=\"/admin/comments?show=mentions\">Mentions</a></p>");
	return BB_OK;
}

/* The bulk form the checkboxes belong to (form="bulk"). */
static void bulk_form(struct web_page *p, const char *show)
{
	page_raw(p, "<form id=\"bulk\" method=\"post\" action=\"/admin/comments/moderate\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(p, p->csrf);
	page_raw(p, "\"><input type=\"hidden\" name=\"show\" value=\"");
	page_text(p, show);
	page_raw(p, "\"><p>Ticked: <button type=\"submit\" name=\"action\" value=\"approve\">"
		    "Approve</button> <button type=\"submit\" name=\"action\" value=\"reject\">"
		    "Reject</button> <button class=\"danger\" type=\"submit\" name=\"action\" "
		    "value=\"delete\">Delete</button></p></form>");
}

void web_page_comments(struct web_ctx *c)
{
	const char *show = http_request_query(c->req, "show");
	const char *page_s = http_request_query(c->req, "page");
	struct post_names posts = {calloc(POSTS_NAMED, sizeof(struct post_name)), 0, POSTS_NAMED};
	const struct tab *tab = &tabs[0];
	struct err e = {0};
	struct store *st = app_store(c->req->app, &e);
	struct web_page p;
	struct comment_walk w = {&p, &posts, tabs[0].name, 0};
	int64_t page = 1;
	enum bb_rc rc;

	page_init(&p, c->csrf);
	for (size_t i = 0; show != NULL && i < TAB_COUNT; i++)
		if (strcmp(show, tabs[i].name) == 0)
			tab = &tabs[i];
	if (show == NULL || strcmp(show, "mentions") != 0)
		show = tab->name;
	if (page_s != NULL && !text_int64_parse(page_s, 1, 1000000, &page)) {
		web_error(c, 400, "page must be a number from 1");
		goto out;
	}
	if (st == NULL || posts.v == NULL ||
	    (rc = store_post_each(st, 0, POSTS_NAMED, true, keep_name, &posts, &e)) != BB_OK)
		goto fail;
	page_begin(&p, "Comments", true);
	if (tab_strip(&p, st, show, &e) != BB_OK)
		goto fail;
	if (strcmp(show, "mentions") == 0) {
		page_raw(&p, "<p class=\"muted\">Posts that mention the blog without answering one "
			     "of its posts: never shown on the blog.</p>");
		rc = store_mention_each(st, (page - 1) * COMMENTS_PAGE, COMMENTS_PAGE, mention_row,
					&w, &e);
	} else {
		struct store_comment_filter f = {.statuses = STORE_COMMENT_BIT(tab->status),
						 .offset = (page - 1) * COMMENTS_PAGE,
						 .limit = COMMENTS_PAGE};
		w.tab = tab->name;
		if (tab->status == STORE_COMMENT_PRIVATE)
			page_raw(&p,
				 "<p class=\"muted\">Followers-only and direct replies: for you "
				 "only, never shown on the blog.</p>");
		if (tab->status != STORE_COMMENT_DELETED)
			bulk_form(&p, show);
		rc = store_comment_each(st, &f, comment_row, &w, &e);
	}
	if (rc != BB_OK)
		goto fail;
	page_raw(&p, "<nav class=\"pages\"><p>");
	if (page > 1) {
		page_raw(&p, "<a href=\"/admin/comments?show=");
		page_raw(&p, show);
		page_raw(&p, "&amp;page=");
		page_int(&p, page - 1);
		page_raw(&p, "\">← previous</a>");
	}
	if (w.rows == 0)
		page_raw(&p, "<p class=\"muted\">Nothing here.</p>");
	if (w.rows == COMMENTS_PAGE) {
		page_raw(&p, "<a href=\"/admin/comments?show=");
		page_raw(&p, show);
		page_raw(&p, "&amp;page=");
		page_int(&p, page + 1);
		page_raw(&p, "\">next →</a>");
	}
	page_raw(&p, "</p></nav>");
	page_end(&p, c->res);
	goto out;
fail:
	buf_free(&p.b);
	log_error("admin: comments: %s", e.msg);
	web_error(c, 500, "the store failed; see the log");
out:
	names_free(&posts);
}

void web_do_moderate(struct web_ctx *c)
{
	char *action = web_field(c, "action"), *show = web_field(c, "show");
	char *ids[BULK_MAX];
	size_t n = web_form_values(c->req->body, c->req->body_len, "id", ids, BULK_MAX);
	enum store_comment_status status = STORE_COMMENT_PENDING;
	char back[64];
	struct err e = {0};
	bool failed = false;

	if (action != NULL && strcmp(action, "approve") == 0)
		status = STORE_COMMENT_APPROVED;
	else if (action != NULL && strcmp(action, "reject") == 0)
		status = STORE_COMMENT_REJECTED;
	else if (action != NULL && strcmp(action, "delete") == 0)
		status = STORE_COMMENT_DELETED;
	if (status == STORE_COMMENT_PENDING) {
		web_error(c, 400, "approve, reject or delete?");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		enum bb_rc rc = ops_comment_moderate(c->req->app, ids[i], status, &e);
		if (rc != BB_OK && rc != BB_ERR_NOTFOUND && rc != BB_ERR_INVALID) {
			log_error("admin: moderate %s: %s", ids[i], e.msg);
			failed = true;
		}
	}
	if (failed) {
		web_error(c, 500, "the store failed; see the log");
		goto out;
	}
	snprintf(back, sizeof(back), "/admin/comments?show=");
	for (size_t i = 0; i < TAB_COUNT; i++)
		if (show != NULL && strcmp(show, tabs[i].name) == 0)
			snprintf(back, sizeof(back), "/admin/comments?show=%s", tabs[i].name);
	if (strcmp(back, "/admin/comments?show=") == 0)
		snprintf(back, sizeof(back), "/admin/comments");
	web_redirect(c, back);
out:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(action);
	free(show);
}
