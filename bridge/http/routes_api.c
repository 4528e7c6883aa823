/*
 * routes_api.c — the comments of a post for the blog: GET /api/comments
 * (JSON), GET /embed/comments (an HTML fragment) and GET
 * /embed/comments.js (the script that renders the JSON on any page).
 *
 * The renderings come from bridge/api/ and are cached per post and kind
 * under the post's comments version (store_post_comments_version), which
 * is also the ETag: a conditional GET costs one small query, and any
 * change to the post's comments, reactions or commenters makes a new
 * ETag and a new rendering.  max-age is short so that an approval shows
 * within a minute.  A cached rendering is sent as it is kept, shared by
 * reference (api_cache.c), never copied per request.  Everything here is
 * public: CORS is open.
 */
#include "api.h"
#include "log.h"
#include "routes_int.h"
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Renderings kept (each post's JSON and fragments count one each), and
 * their bytes at most: 500 comments of ordinary length are ~200 KB. */
#define API_CACHE_SLOTS 64
#define API_CACHE_BYTES (32u * 1024 * 1024)
#define API_CACHE_CONTROL "public, max-age=30"
#define EMBED_JS_CACHE_CONTROL "public, max-age=3600"
#define JSON_TYPE "application/json; charset=utf-8"
#define HTML_TYPE "text/html; charset=utf-8"
#define JS_TYPE "application/javascript; charset=utf-8"

/* What a cache entry holds for a post. */
enum api_kind { KIND_JSON, KIND_HTML_EN, KIND_HTML_FR };

static struct api_cache *cache; /* NULL when it could not be made: uncached */
static char embed_js_etag[32];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void api_init(void)
{
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a of the script: its ETag */

	cache = api_cache_new(API_CACHE_SLOTS, API_CACHE_BYTES);
	if (cache == NULL)
		log_error("api: no memory for the comments cache; serving uncached");
	for (size_t i = 0; i < api_comments_js_len; i++)
		h = (h ^ (unsigned char)api_comments_js[i]) * 0x100000001b3u;
	snprintf(embed_js_etag, sizeof(embed_js_etag), "\"js-%016llx\"", (unsigned long long)h);
}

/* Whether the request's If-None-Match names etag (or is "*"). */
static bool etag_matches(struct http_request *req, const char *etag)
{
	const char *inm = http_request_header(req, "If-None-Match");

	return inm != NULL && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL);
}

/* Sets the validators on res; true when the answer is a 304 (res set). */
static bool not_modified(struct http_request *req, struct http_response *res, const char *etag,
			 const char *cache_control)
{
	snprintf(res->etag, sizeof(res->etag), "%s", etag);
	res->cache_control = cache_control;
	if (!etag_matches(req, etag))
		return false;
	http_respond_borrowed(res, 304, NULL, "");
	return true;
}

/* The live post ?post= names (its blog URL or its object id) into *p;
 * false when res already holds the answer (400, 404 or a store error). */
static bool find_post(struct http_request *req, struct http_response *res, struct store *st,
		      struct store_post *p)
{
	const char *post = http_request_query(req, "post");
	struct err e = {0};
	enum bb_rc rc;

	if (post == NULL || post[0] == '\0') {
		http_respond_error(res, 400, "the post parameter is required");
		return false;
	}
	rc = store_post_by_url(st, post, p, &e);
	if (rc == BB_ERR_NOTFOUND)
		rc = store_post_by_ap_id(st, post, p, &e);
	if (rc == BB_OK && p->deleted == 0)
		return true;
	if (rc == BB_OK || rc == BB_ERR_NOTFOUND)
		http_respond_error(res, 404, "no post with that URL");
	else
		respond_store_error(res, &e);
	store_post_clear(p);
	return false;
}

/* The rendering of kind for p, made (the cache missed) and kept. */
static char *rendering(struct store *st, const struct store_post *p, enum api_kind kind,
		       size_t *len, struct err *e)
{
	struct api_thread t;
	char *body;

	if (api_thread_load(st, p, &t, e) != BB_OK)
		return NULL;
	body = kind == KIND_JSON
		   ? api_thread_json(&t)
		   : api_thread_html(&t, kind == KIND_HTML_FR ? API_LANG_FR : API_LANG_EN);
	if (body == NULL) {
		err_set(e, BB_ERR_NOMEM, "api: out of memory rendering the comments of %s",
			p->ap_id);
	} else {
		*len = strlen(body);
		/* Kept under the version the thread was read at (api.h). */
		if (cache)
			api_cache_put(cache, p->rowid, kind, t.version, body, *len);
	}
	api_thread_clear(&t);
	return body;
}

static void serve_thread(struct http_request *req, struct http_response *res, enum api_kind kind)
{
	const char *key = http_request_query(req, "post");
	const char *type = kind == KIND_JSON ? JSON_TYPE : HTML_TYPE;
	struct store_post p = {0};
	struct err e = {0};
	struct store *st;
	int64_t post = 0, version = 0;
	enum bb_rc rc;
	char etag[48];
	char *body;
	const char *shared;
	size_t len = 0;

	pthread_once(&init_once, api_init);
	res->cors = true;
	if (key == NULL || key[0] == '\0') {
		http_respond_error(res, 400, "the post parameter is required");
		return;
	}
	st = app_store(req->app, &e);
	if (st == NULL) {
		respond_store_error(res, &e);
		return;
	}
	/* The post and its version in one statement: all a cached answer
	 * (or a 304) costs of the store. */
	rc = store_post_comments_find(st, key, &post, &version, &e);
	if (rc == BB_ERR_NOTFOUND) {
		http_respond_error(res, 404, "no post with that URL");
		return;
	}
	if (rc != BB_OK) {
		respond_store_error(res, &e);
		return;
	}
	snprintf(etag, sizeof(etag), "\"c%lld-%lld-%d\"", (long long)post, (long long)version,
		 (int)kind);
	if (not_modified(req, res, etag, API_CACHE_CONTROL))
		return;
	/* The cached bytes themselves, held while they are sent. */
	shared = cache ? api_cache_get_shared(cache, post, kind, version, &len) : NULL;
	if (shared != NULL) {
		http_respond_shared(res, 200, type, shared, len, api_cache_release);
		return;
	}
	if (!find_post(req, res, st, &p)) {
		res->etag[0] = '\0';
		res->cache_control = NULL;
		return;
	}
	body = rendering(st, &p, kind, &len, &e);
	if (body == NULL) {
		res->etag[0] = '\0';
		res->cache_control = NULL;
		respond_store_error(res, &e);
	} else {
		http_respond_owned(res, 200, type, body);
	}
	store_post_clear(&p);
}

void route_api_comments(struct http_request *req, struct http_response *res)
{
	serve_thread(req, res, KIND_JSON);
}

void route_embed_comments(struct http_request *req, struct http_response *res)
{
	serve_thread(req, res,
		     api_lang_parse(http_request_query(req, "lang")) == API_LANG_FR ? KIND_HTML_FR
										    : KIND_HTML_EN);
}

void route_embed_js(struct http_request *req, struct http_response *res)
{
	pthread_once(&init_once, api_init);
	res->cors = true;
	if (not_modified(req, res, embed_js_etag, EMBED_JS_CACHE_CONTROL))
		return;
	http_respond_borrowed(res, 200, JS_TYPE, api_comments_js);
}
