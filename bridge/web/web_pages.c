/*
 * web_pages.c — the overview, followers, deliveries and blocks pages and
 * their actions.  Reads go to the calling thread's store; every change
 * goes through bridge/ops.h, as the commands' do.  Every value written
 * into a page goes through page_text (web_html.c).
 */
#include "config.h"
#include "log.h"
#include "ops.h"
#include "poller.h"
#include "store.h"
#include "text.h"
#include "web_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLLOWERS_PAGE 50
#define SERVERS_SHOWN 12
/* The CSV export's bound: all of them, up to this many. */
#define CSV_MAX_BYTES (256 * 1024 * 1024)

static void store_failed(struct web_ctx *c, const struct err *e)
{
	log_error("admin: %s", e->msg);
	web_error(c, e->code == BB_ERR_NOTFOUND ? 404 : 500,
		  e->code == BB_ERR_NOTFOUND ? e->msg : "the store failed; see the log");
}

/* ---- overview ------------------------------------------------------------ */

struct queue_totals {
	int64_t hosts, pending, retrying, failed, unavailable;
};

static enum bb_rc add_host(const struct store_host_stats *h, void *arg, struct err *e)
{
	struct queue_totals *t = arg;

	(void)e;
	t->hosts++;
	t->pending += h->pending;
	t->retrying += h->retrying;
	t->failed += h->failed;
	t->unavailable += h->unavailable;
	return BB_OK;
}

static enum bb_rc count_server(const char *server, int64_t n, void *arg, struct err *e)
{
	(void)server;
	(void)n;
	(void)e;
	(*(int64_t *)arg)++;
	return BB_OK;
}

static void card(struct web_page *p, const char *label, int64_t n, bool bad)
{
	page_raw(p, bad && n > 0 ? "<div class=\"card bad\"><b>" : "<div class=\"card\"><b>");
	page_int(p, n);
	page_raw(p, "</b>");
	page_text(p, label);
	page_raw(p, "</div>");
}

/* The last feed poll (poller.h) and what it found, or its error. */
static enum bb_rc last_poll(struct web_page *p, struct store *st, struct err *e)
{
	struct poll_record r;
	enum bb_rc rc = poller_last(st, &r, e);

	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		page_raw(p, "<p id=\"last-poll\">Last poll: none yet.</p>");
		return BB_OK;
	}
	if (rc != BB_OK)
		return rc;
	page_raw(p, r.outcome == POLL_ERROR ? "<p id=\"last-poll\" class=\"bad\">Last poll: "
					    : "<p id=\"last-poll\">Last poll: ");
	page_time(p, r.at);
	page_raw(p, ", ");
	page_text(p, poll_outcome_name(r.outcome));
	if (r.outcome == POLL_ERROR) {
		page_raw(p, ": <span id=\"poll-error\">");
		page_text(p, r.error);
		page_raw(p, "</span>. Last good poll: ");
		page_time(p, r.last_ok);
	} else if (r.outcome == POLL_OK) {
		page_raw(p, ": ");
		page_int(p, r.items);
		page_raw(p, r.items == 1 ? " item, " : " items, ");
		page_int(p, r.created);
		page_raw(p, " new, ");
		page_int(p, r.imported);
		page_raw(p, " imported, ");
		page_int(p, r.updated);
		page_raw(p, " updated, ");
		page_int(p, r.unchanged);
		page_raw(p, " unchanged");
	}
	page_raw(p, ".</p>");
	return BB_OK;
}

void web_page_overview(struct web_ctx *c)
{
	struct queue_totals t = {0};
	struct store_comment_filter waiting = {.statuses =
						   STORE_COMMENT_BIT(STORE_COMMENT_PENDING)};
	int64_t followers = 0, servers = 0, posts = 0, comments = 0;
	struct err e = {0};
	struct store *st = app_store(c->req->app, &e);
	struct web_page p;
	char *moved = NULL;

	if (st == NULL || store_follower_count(st, &followers, &e) != BB_OK ||
	    store_follower_servers(st, INT64_MAX, count_server, &servers, &e) != BB_OK ||
	    store_post_count(st, &posts, &e) != BB_OK ||
	    store_comment_count(st, &waiting, &comments, &e) != BB_OK ||
	    ops_host_stats_each(c->req->app, add_host, &t, &e) != BB_OK) {
		store_failed(c, &e);
		return;
	}
	page_init(&p, c->csrf);
	page_begin(&p, "Overview", true);
	page_raw(&p, "<div class=\"cards\">");
	card(&p, "followers", followers, false);
	card(&p, "servers", servers, false);
	card(&p, "posts", posts, false);
	card(&p, "comments waiting", comments, true);
	card(&p, "deliveries pending", t.pending, false);
	card(&p, "deliveries retrying", t.retrying, true);
	card(&p, "deliveries failed", t.failed, true);
	card(&p, "servers unavailable", t.unavailable, true);
	page_raw(&p, "</div><p>Feed: ");
	page_text(&p, c->req->app->cfg->feed);
	page_raw(&p, "</p>");
	if (store_moved_to_get(st, &moved, &e) != BB_OK) {
		buf_free(&p.b);
		store_failed(c, &e);
		return;
	}
	if (moved != NULL) {
		page_raw(&p, "<p id=\"moved\" class=\"bad\">Moved to ");
		page_text(&p, moved);
		page_raw(&p, " (blogbridge move): the feed is no longer published and new "
			     "follows are rejected.</p>");
		free(moved);
	}
	if (last_poll(&p, st, &e) != BB_OK) {
		buf_free(&p.b);
		store_failed(c, &e);
		return;
	}
	page_end(&p, c->res);
}

/* ---- followers ------------------------------------------------------------ */

static enum bb_rc server_row(const char *server, int64_t n, void *arg, struct err *e)
{
	struct web_page *p = arg;

	(void)e;
	page_raw(p, "<tr><td>");
	page_text(p, server);
	page_raw(p, "</td><td>");
	page_int(p, n);
	page_raw(p, "</td></tr>");
	return BB_OK;
}

static const char *const health_text[] = {
    [STORE_HOST_OK] = "<span class=\"ok\">ok</span>",
    [STORE_HOST_FAILING] = "<span class=\"bad\">failing</span>",
    [STORE_HOST_UNAVAILABLE] = "<span class=\"bad\">unavailable</span>",
};

static enum bb_rc follower_row(const struct store_follower_row *r, void *arg, struct err *e)
{
	struct web_page *p = arg;
	const char *fields[] = {"actor", r->f->actor, NULL};
	const char *block[] = {"value", r->server, "back", "/admin/followers", NULL};

	(void)e;
	page_raw(p, "<tr class=\"follower\"><td>");
	page_avatar(p, r->avatar);
	page_raw(p, "<a href=\"");
	page_href(p, r->f->actor);
	page_raw(p, "\" rel=\"noreferrer\">");
	page_text(p, r->f->handle ? r->f->handle : r->f->actor);
	page_raw(p, "</a>");
	if (r->name && r->name[0]) {
		page_raw(p, "<br><span class=\"muted\">");
		page_text(p, r->name);
		page_raw(p, "</span>");
	}
	page_raw(p, "</td><td>");
	page_text(p, r->server);
	page_raw(p, "</td><td>");
	page_time(p, r->f->since);
	page_raw(p, "</td><td>");
	page_text(p, r->f->shared_inbox ? r->f->shared_inbox : "-");
	page_raw(p, "</td><td>");
	page_raw(p, health_text[r->health]);
	page_raw(p, "</td><td>");
	page_form_button(p, "/admin/followers/remove", "Remove", fields);
	page_raw(p, " ");
	page_form_button(p, "/admin/blocks/add", "Block server", block);
	page_raw(p, "</td></tr>");
	return BB_OK;
}

/* The followers-per-server table counts every follower (a walk of an
 * index: about 20 ms at 100,000 followers), so it is kept for a while,
 * as long as the number of followers stays the same. */
#define SERVERS_PANEL_KEEP_S 60

static struct {
	pthread_mutex_t lock;
	char *html;
	int64_t followers;
	time_t at;
} servers_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static enum bb_rc servers_panel(struct web_page *p, struct store *st, struct err *e)
{
	struct web_page panel;
	int64_t followers = 0;
	time_t now = time(NULL);
	enum bb_rc rc = store_follower_count(st, &followers, e);

	if (rc != BB_OK)
		return rc;
	pthread_mutex_lock(&servers_cache.lock);
	if (servers_cache.html != NULL && servers_cache.followers == followers &&
	    now - servers_cache.at < SERVERS_PANEL_KEEP_S && now >= servers_cache.at) {
		page_raw(p, servers_cache.html);
		pthread_mutex_unlock(&servers_cache.lock);
		return BB_OK;
	}
	pthread_mutex_unlock(&servers_cache.lock);
	page_init(&panel, NULL);
	page_raw(&panel, "<details><summary>Followers per server</summary><div class=\"scroll\">"
			 "<table><tr><th>Server</th><th>Followers</th></tr>");
	rc = store_follower_servers(st, SERVERS_SHOWN, server_row, &panel, e);
	page_raw(&panel, "</table></div></details>");
	if (rc == BB_OK && !panel.failed) {
		page_raw(p, panel.b.data);
		pthread_mutex_lock(&servers_cache.lock);
		free(servers_cache.html);
		servers_cache.html = buf_take(&panel.b);
		servers_cache.followers = followers;
		servers_cache.at = now;
		pthread_mutex_unlock(&servers_cache.lock);
	}
	buf_free(&panel.b);
	return rc;
}

/* The link to another page of the list, keeping the search and order. */
static void followers_link(struct web_page *p, const char *q, const char *sort, int64_t page,
			   const char *label)
{
	page_raw(p, "<a href=\"/admin/followers?sort=");
	page_urlenc(p, sort);
	page_raw(p, "&amp;q=");
	page_urlenc(p, q);
	page_raw(p, "&amp;page=");
	page_int(p, page);
	page_raw(p, "\">");
	page_text(p, label);
	page_raw(p, "</a>");
}

void web_page_followers(struct web_ctx *c)
{
	const char *q = http_request_query(c->req, "q");
	const char *sort_s = http_request_query(c->req, "sort");
	const char *page_s = http_request_query(c->req, "page");
	enum store_follower_sort sort = STORE_FOLLOWERS_BY_SINCE;
	int64_t page = 1, total = 0;
	struct err e = {0};
	struct store *st = app_store(c->req->app, &e);
	struct web_page p;

	if (q == NULL)
		q = "";
	if (sort_s != NULL && strcmp(sort_s, "handle") == 0)
		sort = STORE_FOLLOWERS_BY_HANDLE;
	else if (sort_s != NULL && strcmp(sort_s, "server") == 0)
		sort = STORE_FOLLOWERS_BY_SERVER;
	else
		sort_s = "since";
	if (page_s != NULL && !text_int64_parse(page_s, 1, 1000000, &page)) {
		web_error(c, 400, "page must be a number from 1");
		return;
	}
	if (st == NULL) {
		store_failed(c, &e);
		return;
	}
	page_init(&p, c->csrf);
	page_begin(&p, "Followers", true);
	if (servers_panel(&p, st, &e) != BB_OK)
		goto fail;
	page_raw(&p, "<form method=\"get\" action=\"/admin/followers\"><p>"
		     "<input type=\"search\" name=\"q\" placeholder=\"handle or server\" value=\"");
	page_text(&p, q);
	page_raw(&p, "\"> <select name=\"sort\">");
	page_raw(&p, sort == STORE_FOLLOWERS_BY_SINCE ? "<option value=\"since\" selected>"
						      : "<option value=\"since\">");
	page_raw(&p, "newest</option>");
	page_raw(&p, sort == STORE_FOLLOWERS_BY_HANDLE ? "<option value=\"handle\" selected>"
						       : "<option value=\"handle\">");
	page_raw(&p, "handle</option>");
	page_raw(&p, sort == STORE_FOLLOWERS_BY_SERVER ? "<option value=\"server\" selected>"
						       : "<option value=\"server\">");
	page_raw(&p, "server</option></select> <button type=\"submit\">Search</button> "
		     "<a href=\"/admin/followers.csv\">Export CSV</a></p></form>"
		     "<div class=\"scroll\"><table id=\"followers\"><tr><th>Handle</th>"
		     "<th>Server</th><th>Since</th><th>Shared inbox</th><th>Server health</th>"
		     "<th></th></tr>");
	if (store_follower_search(st, q, sort, (page - 1) * FOLLOWERS_PAGE, FOLLOWERS_PAGE, &total,
				  follower_row, &p, &e) != BB_OK)
		goto fail;
	page_raw(&p, "</table></div><nav class=\"pages\"><p>");
	page_int(&p, total);
	page_raw(&p, total == 1 ? " follower" : " followers");
	if (q[0]) {
		page_raw(&p, " matching “");
		page_text(&p, q);
		page_raw(&p, "”");
	}
	page_raw(&p, ". ");
	if (page > 1)
		followers_link(&p, q, sort_s, page - 1, "← previous");
	if (page * FOLLOWERS_PAGE < total)
		followers_link(&p, q, sort_s, page + 1, "next →");
	page_raw(&p, "</p></nav>");
	page_end(&p, c->res);
	return;
fail:
	buf_free(&p.b);
	store_failed(c, &e);
}

/* A CSV field: quoted, with its quotes doubled; a leading = + - @ is
 * prefixed with ' so a spreadsheet does not run it as a formula. */
static enum bb_rc csv_field(struct buf *b, const char *s, bool last)
{
	enum bb_rc rc = buf_puts(b, "\"");

	if (rc == BB_OK && s && strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0')
		rc = buf_puts(b, "'");
	for (; rc == BB_OK && s && *s; s++)
		rc = *s == '"' ? buf_puts(b, "\"\"") : buf_append(b, s, 1);
	return rc == BB_OK ? buf_puts(b, last ? "\"\r\n" : "\",") : rc;
}

static enum bb_rc csv_row(const struct store_follower_row *r, void *arg, struct err *e)
{
	struct buf *b = arg;
	char since[32];
	struct tm tm;

	if (gmtime_r(&r->f->since, &tm) == NULL ||
	    strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		since[0] = '\0';
	if (csv_field(b, r->f->actor, false) != BB_OK ||
	    csv_field(b, r->f->handle, false) != BB_OK || csv_field(b, r->name, false) != BB_OK ||
	    csv_field(b, r->server, false) != BB_OK || csv_field(b, r->f->inbox, false) != BB_OK ||
	    csv_field(b, r->f->shared_inbox, false) != BB_OK || csv_field(b, since, true) != BB_OK)
		return err_set(e, BB_ERR_LIMIT, "export too large");
	return BB_OK;
}

void web_followers_csv(struct web_ctx *c)
{
	struct err e = {0};
	struct store *st = app_store(c->req->app, &e);
	struct buf b;

	buf_init(&b, CSV_MAX_BYTES);
	if (st == NULL ||
	    buf_puts(&b, "actor,handle,name,server,inbox,shared_inbox,since\r\n") != BB_OK ||
	    store_follower_search(st, NULL, STORE_FOLLOWERS_BY_SINCE, 0, -1, NULL, csv_row, &b,
				  &e) != BB_OK) {
		buf_free(&b);
		store_failed(c, &e);
		return;
	}
	http_respond_owned(c->res, 200, "text/csv; charset=utf-8", buf_take(&b));
	buf_free(&b);
	if (http_response_header_add(c->res, "Content-Disposition",
				     "attachment; filename=\"followers.csv\"") != BB_OK)
		log_warn("admin: no Content-Disposition on the export");
}

void web_do_follower_remove(struct web_ctx *c)
{
	char *actor = web_field(c, "actor");
	struct err e = {0};
	enum bb_rc rc;

	if (actor == NULL) {
		web_error(c, 400, "which follower?");
		return;
	}
	rc = ops_follower_remove(c->req->app, actor, &e);
	if (rc == BB_OK || rc == BB_ERR_NOTFOUND) {
		log_info("admin: removed follower %s", actor);
		web_redirect(c, "/admin/followers");
	} else {
		store_failed(c, &e);
	}
	free(actor);
}

/* ---- deliveries ------------------------------------------------------------ */

static enum bb_rc host_row(const struct store_host_stats *h, void *arg, struct err *e)
{
	struct web_page *p = arg;
	const char *fields[] = {"host", h->host, NULL};

	(void)e;
	page_raw(p, "<tr><td>");
	page_text(p, h->host);
	page_raw(p, "</td><td>");
	page_raw(p, h->unavailable	       ? "<span class=\"bad\">unavailable</span>"
		    : h->retrying || h->failed ? "<span class=\"bad\">failing</span>"
					       : "<span class=\"ok\">ok</span>");
	/* An unavailable server says since when it has been failing. */
	if (h->unavailable && h->failing_since != 0) {
		page_raw(p, "<br><span class=\"muted\">since ");
		page_time(p, h->failing_since);
		page_raw(p, "</span>");
	}
	page_raw(p, "</td><td>");
	page_time(p, h->failing_since);
	page_raw(p, "</td><td>");
	page_time(p, h->last_success);
	page_raw(p, "</td><td>");
	page_time(p, h->last_failure);
	page_raw(p, "</td><td>");
	page_int(p, h->failure_days);
	page_raw(p, "</td><td>");
	page_int(p, h->pending);
	page_raw(p, "</td><td>");
	page_int(p, h->retrying);
	page_raw(p, "</td><td>");
	page_int(p, h->failed);
	page_raw(p, "</td><td>");
	page_int(p, h->done);
	page_raw(p, "</td><td>");
	page_text(p, h->last_error ? h->last_error : "-");
	page_raw(p, "</td><td>");
	page_time(p, h->next_attempt);
	page_raw(p, "</td><td>");
	if (h->pending + h->retrying > 0 || h->unavailable)
		page_form_button(p, "/admin/deliveries/retry", "Retry now", fields);
	page_raw(p, "</td></tr>");
	return BB_OK;
}

void web_page_deliveries(struct web_ctx *c)
{
	struct err e = {0};
	struct web_page p;

	page_init(&p, c->csrf);
	page_begin(&p, "Deliveries", true);
	page_raw(&p,
		 "<p class=\"muted\">A failed attempt is retried after n⁴ + 15 s and a "
		 "little more (the n-th retry; a Retry-After is honoured), 17 attempts over "
		 "about three days; a server failing on 7 distinct days is marked unavailable "
		 "until it answers again, or until “Retry now”.</p><div class=\"scroll\"><table "
		 "id=\"hosts\"><tr><th>Server</th>"
		 "<th>Health</th><th>Failing since</th><th>Last success</th><th>Last "
		 "failure</th><th>Failing days</th>"
		 "<th>Pending</th><th>Retrying</th><th>Failed</th><th>Done</th>"
		 "<th>Last error</th><th>Next attempt</th><th></th></tr>");
	if (ops_host_stats_each(c->req->app, host_row, &p, &e) != BB_OK)
		goto fail;
	page_raw(&p, "</table></div>");
	page_end(&p, c->res);
	return;
fail:
	buf_free(&p.b);
	store_failed(c, &e);
}

void web_do_retry(struct web_ctx *c)
{
	char *host = web_field(c, "host");
	struct err e = {0};
	int64_t n = 0;

	if (host == NULL) {
		web_error(c, 400, "which server?");
		return;
	}
	if (ops_host_retry_now(c->req->app, host, &n, &e) != BB_OK)
		store_failed(c, &e);
	else
		web_redirect(c, "/admin/deliveries");
	log_info("admin: retry now for %s: %" PRId64 " deliveries", host, n);
	free(host);
}

/* ---- blocks ---------------------------------------------------------------- */

static enum bb_rc block_row(const struct store_block *b, void *arg, struct err *e)
{
	struct web_page *p = arg;
	const char *fields[] = {"value", b->value, NULL};

	(void)e;
	page_raw(p, "<tr><td>");
	page_text(p, b->value);
	page_raw(p, "</td><td>");
	page_raw(p, b->is_actor ? "actor" : "domain");
	page_raw(p, "</td><td>admin</td><td>");
	page_time(p, b->created);
	page_raw(p, "</td><td>");
	page_form_button(p, "/admin/blocks/remove", "Unblock", fields);
	page_raw(p, "</td></tr>");
	return BB_OK;
}

void web_page_blocks(struct web_ctx *c)
{
	const struct config *cfg = c->req->app->cfg;
	struct err e = {0};
	struct web_page p;

	page_init(&p, c->csrf);
	page_begin(&p, "Blocks", true);
	page_raw(&p, "<form method=\"post\" action=\"/admin/blocks/add\"><input type=\"hidden\" "
		     "name=\"csrf\" value=\"");
	page_text(&p, c->csrf);
	page_raw(&p, "\"><p><input type=\"text\" name=\"value\" id=\"block-value\" "
		     "placeholder=\"domain or actor id\" required> <button class=\"danger\" "
		     "type=\"submit\" id=\"block-add\">Block</button></p></form>"
		     "<p class=\"muted\">Blocking removes the followers it covers, hides their "
		     "comments, removes their likes, boosts and quotes, and refuses their "
		     "follows and activities from then on. Unblocking brings none of it "
		     "back.</p><div class=\"scroll\"><table "
		     "id=\"blocks\"><tr><th>Blocked</th><th>Kind</th><th>From</th><th>Since</th>"
		     "<th></th></tr>");
	for (size_t i = 0; i < cfg->blocked_domains_count; i++) {
		page_raw(&p, "<tr><td>");
		page_text(&p, cfg->blocked_domains[i]);
		page_raw(&p,
			 "</td><td>domain</td><td>config (read-only)</td><td>-</td><td></td></tr>");
	}
	if (ops_blocks_each(c->req->app, block_row, &p, &e) != BB_OK) {
		buf_free(&p.b);
		store_failed(c, &e);
		return;
	}
	page_raw(&p, "</table></div>");
	page_end(&p, c->res);
}

void web_do_block_add(struct web_ctx *c)
{
	char *value = web_field(c, "value");
	char *back = web_field(c, "back");
	struct err e = {0};
	int64_t removed = 0;
	enum bb_rc rc;

	rc = ops_block_add(c->req->app, value ? value : "", &removed, &e);
	if (rc == BB_ERR_INVALID)
		web_error(c, 400, e.msg);
	else if (rc != BB_OK)
		store_failed(c, &e);
	else
		web_redirect(c, back && strcmp(back, "/admin/followers") == 0 ? back
									      : "/admin/blocks");
	free(value);
	free(back);
}

void web_do_block_remove(struct web_ctx *c)
{
	char *value = web_field(c, "value");
	struct err e = {0};
	enum bb_rc rc;

	rc = ops_block_remove(c->req->app, value ? value : "", &e);
	if (rc == BB_ERR_INVALID)
		web_error(c, 400, e.msg);
	else if (rc != BB_OK && rc != BB_ERR_NOTFOUND)
		store_failed(c, &e);
	else
		web_redirect(c, "/admin/blocks");
	free(value);
}
