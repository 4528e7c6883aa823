/*
 * routes.c — what each URL answers.  A table maps paths to handlers and the
 * methods they take; a known path asked with another method gets 405 with
 * Allow, an unknown path 404.  The objects and collections are marked in
 * the table: their GETs go through the signature check of authfetch.h
 * first (required with [federation] authorized_fetch; blocked signers
 * refused always).  Discovery, the actor and its key stay open to all.
 */
#include "routes.h"
#include "accept.h"
#include "authfetch.h"
#include "backfill_worker.h"
#include "routes_int.h"
#include "buf.h"
#include "followers_sync.h"
#include "http.h"
#include "url.h"
#include "log.h"
#include "render.h"
#include "store.h"
#include "web.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JRD_TYPE "application/jrd+json"
#define NODEINFO_TYPE \
	"application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\""
/* Collections are paged; a page number beyond this is refused. */
#define PAGE_MAX 1000000

typedef void (*route_fn)(struct http_request *req, struct http_response *res);

struct route {
	const char *path;
	bool prefix; /* path is a prefix: every path under it */
	unsigned methods;
	const char *allow; /* for 405 */
	route_fn fn;
	bool signed_get; /* an object or collection: authorized_fetch covers it */
};

void respond_store_error(struct http_response *res, const struct err *e)
{
	log_error("%s", e->msg);
	http_respond_rc(res, e->code, NULL);
}

bool negotiate_json(struct http_request *req, struct http_response *res,
		    const char *html_url)
{
	res->vary_accept = true;
	switch (accept_negotiate(http_request_header(req, "Accept"))) {
	case ACCEPT_ACTIVITY_JSON: return true;
	case ACCEPT_HTML: http_respond_redirect(res, html_url); return false;
	case ACCEPT_NONE:
	default:
		http_respond_error(res, 406, "this resource is application/activity+json");
		return false;
	}
}

/* Parses ?page=N; *page is 0 without the parameter.  False on a bad value. */
static bool page_param(struct http_request *req, long *page)
{
	const char *v = http_request_query(req, "page");
	char *end;

	*page = 0;
	if (v == NULL)
		return true;
	errno = 0;
	*page = strtol(v, &end, 10);
	return errno == 0 && end != v && *end == '\0' && *page >= 1 && *page <= PAGE_MAX;
}

bool collection_request(struct http_request *req, struct http_response *res, long *page)
{
	if (!negotiate_json(req, res, req->app->site.cfg.blog_url))
		return false;
	res->cors = true;
	if (!page_param(req, page)) {
		http_respond_error(res, 400, "page must be a number from 1");
		return false;
	}
	return true;
}

static void route_webfinger(struct http_request *req, struct http_response *res)
{
	const char *resource = http_request_query(req, "resource");

	res->cors = true;
	if (resource == NULL || resource[0] == '\0') {
		http_respond_error(res, 400, "the resource parameter is required");
		return;
	}
	if (!ap_webfinger_matches(&req->app->site, resource)) {
		http_respond_error(res, 404, "no such account here");
		return;
	}
	http_respond_borrowed(res, 200, JRD_TYPE, req->app->webfinger_json);
}

static void route_host_meta(struct http_request *req, struct http_response *res)
{
	res->cors = true;
	http_respond_borrowed(res, 200, "application/xrd+xml; charset=utf-8",
			      req->app->host_meta_xml);
}

static void route_nodeinfo_links(struct http_request *req, struct http_response *res)
{
	res->cors = true;
	http_respond_borrowed(res, 200, "application/json", req->app->nodeinfo_links_json);
}

static void route_nodeinfo(struct http_request *req, struct http_response *res)
{
	struct err e = {0};
	struct store *st = app_store(req->app, &e);
	int64_t posts = 0;

	res->cors = true;
	if (st == NULL || store_post_count(st, &posts, &e) != BB_OK) {
		respond_store_error(res, &e);
		return;
	}
	http_respond_owned(res, 200, NODEINFO_TYPE, ap_nodeinfo_render(&app_profile(req->app)->site, posts));
}

static void route_actor(struct http_request *req, struct http_response *res)
{
	if (!negotiate_json(req, res, req->app->site.cfg.blog_url))
		return;
	res->cors = true;
	http_respond_borrowed(res, 200, AP_CONTENT_TYPE, app_profile(req->app)->actor_json);
}

/* Walk state for a page of follower ids. */
struct id_page {
	char **ids;
	size_t count;
};

static enum bb_rc collect_follower(const struct store_follower *f, void *arg, struct err *e)
{
	struct id_page *p = arg;

	p->ids[p->count] = strdup(f->actor);
	if (p->ids[p->count] == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	p->count++;
	return BB_OK;
}

static void route_followers(struct http_request *req, struct http_response *res)
{
	struct err e = {0};
	struct store *st;
	struct id_page page = {0};
	int64_t total = 0;
	long n;
	bool has_next;

	if (!collection_request(req, res, &n))
		return;
	st = app_store(req->app, &e);
	if (st == NULL || store_follower_count(st, &total, &e) != BB_OK) {
		respond_store_error(res, &e);
		return;
	}
	if (n == 0) {
		http_respond_owned(res, 200, AP_CONTENT_TYPE,
				   ap_collection_render(req->app->site.followers, total));
		return;
	}
	/* One more than a page tells whether there is a next one. */
	page.ids = calloc(AP_COLLECTION_PAGE_SIZE + 1, sizeof(*page.ids));
	if (page.ids == NULL) {
		http_respond_error(res, 500, "out of memory");
		return;
	}
	if (store_follower_each(st, (int64_t)(n - 1) * AP_COLLECTION_PAGE_SIZE,
				AP_COLLECTION_PAGE_SIZE + 1, collect_follower, &page, &e) != BB_OK) {
		respond_store_error(res, &e);
		goto out;
	}
	has_next = page.count > AP_COLLECTION_PAGE_SIZE;
	http_respond_owned(res, 200, AP_CONTENT_TYPE,
			   ap_collection_page_render(req->app->site.followers, total, n,
						     (const char *const *)page.ids,
						     has_next ? AP_COLLECTION_PAGE_SIZE : page.count,
						     has_next));
out:
	for (size_t i = 0; i < page.count; i++)
		free(page.ids[i]);
	free(page.ids);
}

void empty_collection(struct http_request *req, struct http_response *res, const char *id)
{
	long n;

	if (!collection_request(req, res, &n))
		return;
	if (n == 0)
		http_respond_owned(res, 200, AP_CONTENT_TYPE, ap_collection_render(id, 0));
	else
		http_respond_owned(res, 200, AP_CONTENT_TYPE,
				   ap_collection_page_render(id, 0, n, NULL, 0, false));
}

static void route_following(struct http_request *req, struct http_response *res)
{
	empty_collection(req, res, req->app->site.following);
}

/* Headers kept for signature verification. */
#define INBOX_HEADERS_MAX 64

struct header_list {
	struct httpsig_header h[INBOX_HEADERS_MAX];
	size_t n;
	bool overflow;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct header_list *l = cls;

	(void)kind;
	if (l->n >= INBOX_HEADERS_MAX) {
		l->overflow = true;
		return MHD_NO;
	}
	l->h[l->n].name = key;
	l->h[l->n].value = value ? value : "";
	l->n++;
	return MHD_YES;
}

struct query_acc {
	struct buf *b;
	bool first;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct query_acc *q = cls;

	(void)kind;
	if (buf_printf(q->b, "%s%s%s%s", q->first ? "?" : "&", key, value ? "=" : "",
		       value ? value : "") != BB_OK)
		return MHD_NO;
	q->first = false;
	return MHD_YES;
}

/* The request's URL as the sender addressed it: our public origin, the
 * path, and the query (rebuilt from its decoded arguments, which is exact
 * for the plain ids and numbers a signer puts there). */
static char *target_uri(struct http_request *req)
{
	struct buf b;
	struct query_acc q = {&b, true};

	buf_init(&b, 8192);
	if (buf_printf(&b, "%s%s", req->app->site.cfg.base_url, req->path) != BB_OK) {
		buf_free(&b);
		return NULL;
	}
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
	return buf_take(&b);
}

struct apply_job {
	const struct inbox_env *env;
	const struct inbox_verified *v;
};

static enum bb_rc apply_job(struct store *st, void *arg, struct err *e)
{
	struct apply_job *job = arg;

	return inbox_apply(st, job->env, job->v, time(NULL), e);
}

static void route_inbox(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct header_list headers = {0};
	struct inbox_verified v = {0};
	struct httpsig_message m = {0};
	struct apply_job job = {&app->inbox, &v};
	struct err e = {0};
	struct store *st;
	char *uri = NULL;
	enum bb_rc rc;

	if (req->body_too_large) {
		http_respond_error(res, 413, "body over 1 MiB");
		return;
	}
	if (app->writer == NULL) {
		http_respond_error(res, 503, "not accepting activities");
		return;
	}
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_header, &headers);
	uri = target_uri(req);
	st = app_store(app, &e);
	if (headers.overflow || uri == NULL || st == NULL) {
		http_respond_error(res, headers.overflow ? 400 : 500,
				   headers.overflow ? "too many headers" : "internal error");
		goto out;
	}
	m = (struct httpsig_message){"POST", uri, headers.h, headers.n, req->body, req->body_len};
	rc = inbox_verify(st, &app->inbox, &m, time(NULL), &v, &e);
	if (rc != BB_OK) {
		log_info("inbox: refused (%s): %s", err_code_name(rc), e.msg);
		/* The verifier's reasons describe the request itself (as
		 * Mastodon's 401 bodies do); a 5xx shows none of e.msg. */
		http_respond_rc(res, rc, e.msg);
		goto out;
	}
	if (v.probe != NULL) { /* the doctor's: its report, nothing stored */
		log_info("inbox: answered the doctor's probe %s", v.act.id);
		http_respond_owned(res, 200, "application/json", v.probe);
		v.probe = NULL;
		goto out;
	}
	rc = writer_run(app->writer, apply_job, &job, &e);
	if (rc != BB_OK) {
		log_error("inbox: %s", e.msg);
		http_respond_rc(res, rc == BB_ERR_BUSY ? rc : BB_ERR_TEMPFAIL, NULL);
		goto out;
	}
	log_debug("inbox: %s %s from %s", v.act.type_name, v.act.id, v.act.actor);
	delivery_wake(app->delivery);
	backfill_worker_notify(app->backfill, v.object);
	http_respond_borrowed(res, 202, "application/json", "{}");
out:
	inbox_verified_clear(&v);
	free(uri);
}

/* The signature of a GET of an object or a collection (authfetch.h):
 * true when the handler may answer.  Only the JSON is guarded: a browser
 * (HTML) is redirected to the blog and a 406 shows nothing, signed or
 * not.  Every answer here depends on the signature (Vary), and with
 * authorized_fetch on, no shared cache may keep one for others. */
static bool signed_get_check(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct header_list headers = {0};
	struct httpsig_message m;
	struct err e = {0};
	struct store *st;
	char *uri = NULL;
	bool required = app->cfg->authorized_fetch, ok = false;
	enum bb_rc rc;

	res->vary_accept = true; /* a browser is let through */
	res->vary_signature = true;
	if (required)
		res->cache_control = "private";
	if (accept_negotiate(http_request_header(req, "Accept")) != ACCEPT_ACTIVITY_JSON)
		return true;
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_header, &headers);
	if (headers.overflow) {
		http_respond_error(res, 400, "too many headers");
		return false;
	}
	uri = target_uri(req);
	st = app_store(app, &e);
	if (uri == NULL || st == NULL) {
		http_respond_error(res, 500, "internal error");
		goto out;
	}
	m = (struct httpsig_message){req->method == HTTP_HEAD ? "HEAD" : "GET", uri, headers.h,
				     headers.n, NULL, 0};
	rc = authfetch_check(st, &app->inbox, app->authfetch, &m, required, time(NULL), &e);
	if (rc != BB_OK) {
		/* An unsigned GET is routine (crawlers): not worth an info line. */
		if (rc == BB_ERR_AUTH && strcmp(e.msg, "Request not signed") == 0)
			log_debug("GET %s: refused: %s", req->path, e.msg);
		else
			log_info("GET %s: refused (%s): %s", req->path, err_code_name(rc), e.msg);
		http_respond_rc(res, rc, e.msg);
		goto out;
	}
	ok = true;
out:
	free(uri);
	return ok;
}

/* FEP-8fcf's partial followers collection (followers_sync.h): only to a
 * GET signed by an actor of the server it lists, whatever
 * authorized_fetch says: 401 unsigned or not holding, 403 another
 * server's. */
static void route_followers_sync(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct header_list headers = {0};
	struct httpsig_message m;
	struct err e = {0};
	struct store *st;
	const char *server = http_request_query(req, "host");
	char *uri = NULL, *who = NULL, *json = NULL, signer_host[URL_HOST_KEY_MAX + 1];
	enum bb_rc rc;

	res->vary_signature = true;
	res->cache_control = "private";
	if (!negotiate_json(req, res, app->site.cfg.blog_url))
		return;
	if (server == NULL || server[0] == '\0' || strlen(server) > URL_HOST_KEY_MAX) {
		http_respond_error(res, 400, "the host parameter is required");
		return;
	}
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_header, &headers);
	if (headers.overflow) {
		http_respond_error(res, 400, "too many headers");
		return;
	}
	uri = target_uri(req);
	st = app_store(app, &e);
	if (uri == NULL || st == NULL) {
		http_respond_error(res, 500, "internal error");
		goto out;
	}
	m = (struct httpsig_message){req->method == HTTP_HEAD ? "HEAD" : "GET", uri, headers.h,
				     headers.n, NULL, 0};
	rc = authfetch_signer(st, &app->inbox, app->authfetch, &m, time(NULL), &who, &e);
	if (rc != BB_OK) {
		log_info("GET %s: refused (%s): %s", req->path, err_code_name(rc), e.msg);
		http_respond_rc(res, rc, e.msg);
		goto out;
	}
	if (url_host_key(who, signer_host, NULL) != BB_OK || strcasecmp(signer_host, server) != 0) {
		log_info("GET %s?host=%s: refused: signed by %s", req->path, server, who);
		http_respond_error(res, 403, "this collection is for another server");
		goto out;
	}
	if (ap_sync_render(st, app->site.cfg.base_url, server, &json, &e) != BB_OK) {
		respond_store_error(res, &e);
		goto out;
	}
	http_respond_owned(res, 200, AP_CONTENT_TYPE, json);
out:
	free(who);
	free(uri);
}

#define GET_HEAD (HTTP_GET | HTTP_HEAD)

static const struct route routes[] = {
	{AP_PATH_WEBFINGER, false, GET_HEAD, "GET, HEAD", route_webfinger, false},
	{AP_PATH_HOST_META, false, GET_HEAD, "GET, HEAD", route_host_meta, false},
	{AP_PATH_NODEINFO_WELL_KNOWN, false, GET_HEAD, "GET, HEAD", route_nodeinfo_links, false},
	{AP_PATH_NODEINFO, false, GET_HEAD, "GET, HEAD", route_nodeinfo, false},
	{AP_PATH_ACTOR, false, GET_HEAD, "GET, HEAD", route_actor, false},
	{AP_PATH_OUTBOX, false, GET_HEAD, "GET, HEAD", route_outbox, true},
	{AP_PATH_FOLLOWERS, false, GET_HEAD, "GET, HEAD", route_followers, true},
	{AP_PATH_FOLLOWERS_SYNC, false, GET_HEAD, "GET, HEAD", route_followers_sync, false},
	{AP_PATH_FOLLOWING, false, GET_HEAD, "GET, HEAD", route_following, true},
	{AP_PATH_INBOX, false, HTTP_POST, "POST", route_inbox, false},
	{AP_PATH_SHARED_INBOX, false, HTTP_POST, "POST", route_inbox, false},
	{AP_PATH_LOOKUP, false, GET_HEAD, "GET, HEAD", route_lookup, false},
	{AP_PATH_POSTS, true, GET_HEAD, "GET, HEAD", route_post, true},
	{AP_PATH_ACTIVITIES, true, GET_HEAD, "GET, HEAD", route_activity, true},
	{API_PATH_COMMENTS, false, GET_HEAD, "GET, HEAD", route_api_comments, false},
	{EMBED_PATH_COMMENTS, false, GET_HEAD, "GET, HEAD", route_embed_comments, false},
	{EMBED_PATH_SCRIPT, false, GET_HEAD, "GET, HEAD", route_embed_js, false},
	{WEB_PATH_ADMIN, false, GET_HEAD | HTTP_POST, "GET, HEAD, POST", web_admin_dispatch, false},
	{WEB_PATH_ADMIN "/", false, GET_HEAD | HTTP_POST, "GET, HEAD, POST", web_admin_dispatch, false},
	{WEB_PATH_ADMIN "/", true, GET_HEAD | HTTP_POST, "GET, HEAD, POST", web_admin_dispatch, false},
};

void routes_dispatch(struct http_request *req, struct http_response *res)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const char *p = routes[i].path;
		if (routes[i].prefix ? strncmp(p, req->path, strlen(p)) != 0 ||
					   req->path[strlen(p)] == '\0'
				     : strcmp(p, req->path) != 0)
			continue;
		if (!(routes[i].methods & req->method)) {
			res->allow = routes[i].allow;
			http_respond_error(res, 405, "method not allowed");
			return;
		}
		if (routes[i].signed_get && !signed_get_check(req, res))
			return;
		routes[i].fn(req, res);
		return;
	}
	http_respond_error(res, 404, "not found");
}
