/*
 * web_admin.c — the dispatch of /admin: the security headers every answer
 * carries, the login and logout, the session check, the CSRF check of
 * every POST, and the table of pages and actions.  web_auth.c holds the
 * pure parts (session expiry, token comparison, rate limit, forms).
 */
#include "config.h"
#include "digest.h"
#include "log.h"
#include "password.h"
#include "rand.h"
#include "store.h"
#include "web_int.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct web_ratelimit login_limit = WEB_RATELIMIT_INIT;

/* The password hash as bridge.conf has it now: `blogbridge passwd`
 * rewrites the file while serve runs, so the file is read again whenever
 * it changes (its mtime or size; a stat per admin request).  A file that
 * no longer loads keeps the hash last read. */
static struct {
	pthread_mutex_t lock;
	bool loaded;
	struct timespec mtime;
	off_t size;
	char hash[PASSWORD_HASH_MAX];
} current = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void password_hash_current(const struct config *cfg, char out[PASSWORD_HASH_MAX])
{
	struct config_errors *errs = NULL;
	struct config *fresh = NULL;
	struct stat sb;

	pthread_mutex_lock(&current.lock);
	if (!current.loaded) {
		snprintf(current.hash, sizeof(current.hash), "%s",
			 cfg->password_hash ? cfg->password_hash : "");
		current.loaded = true;
	}
	if (stat(cfg->path, &sb) == 0 &&
	    (sb.st_mtim.tv_sec != current.mtime.tv_sec ||
	     sb.st_mtim.tv_nsec != current.mtime.tv_nsec || sb.st_size != current.size)) {
		errs = calloc(1, sizeof(*errs));
		if (errs != NULL && config_load(cfg->path, &fresh, errs) == BB_OK) {
			snprintf(current.hash, sizeof(current.hash), "%s",
				 fresh->password_hash ? fresh->password_hash : "");
			current.mtime = sb.st_mtim;
			current.size = sb.st_size;
		} else {
			log_warn("admin: %s does not load now; the password stays as it was",
				 cfg->path);
		}
		config_free(fresh);
		free(errs);
	}
	snprintf(out, PASSWORD_HASH_MAX, "%s", current.hash);
	pthread_mutex_unlock(&current.lock);
}

/* A session's touch is written at most this often (each page view would
 * otherwise be a write). */
#define WEB_TOUCH_EVERY_S 60

char *web_field(struct web_ctx *c, const char *name)
{
	return web_form_value(c->req->body, c->req->body_len, name);
}

void web_redirect(struct web_ctx *c, const char *path)
{
	char url[1024];

	snprintf(url, sizeof(url), "%s%s", c->req->app->cfg->base_url, path);
	http_respond_redirect(c->res, url);
	c->res->status = 303; /* after a POST: GET the page */
}

void web_error(struct web_ctx *c, unsigned status, const char *message)
{
	struct web_page p;

	page_init(&p, c->csrf);
	page_begin(&p,
		   status == 403   ? "Forbidden"
		   : status == 404 ? "Not found"
				   : "Error",
		   c->csrf != NULL);
	page_raw(&p, "<p class=\"bad\">");
	page_text(&p, message);
	page_raw(&p, "</p>");
	page_end(&p, c->res);
	c->res->status = status;
}

static void add_header(struct http_response *res, const char *name, const char *value)
{
	if (http_response_header_add(res, name, value) != BB_OK)
		log_error("admin: cannot add the %s header", name);
}

/* The headers every admin answer carries. */
static void security_headers(struct http_response *res)
{
	add_header(res, "Cache-Control", "no-store");
	add_header(res, "Content-Security-Policy", WEB_CSP);
	add_header(res, "X-Frame-Options", "DENY");
	add_header(res, "Referrer-Policy", "same-origin");
	add_header(res, "X-Content-Type-Options", "nosniff");
}

static bool secure_cookies(const struct app *app)
{
	return strncmp(app->cfg->base_url, "https:", 6) == 0;
}

/* Set-Cookie for name=value; max_age 0 deletes it. */
static void set_cookie(struct web_ctx *c, const char *name, const char *value, long max_age)
{
	char v[256];

	snprintf(v, sizeof(v), "%s=%s; Path=/admin; Max-Age=%ld; HttpOnly; SameSite=Strict%s", name,
		 value, max_age, secure_cookies(c->req->app) ? "; Secure" : "");
	add_header(c->res, "Set-Cookie", v);
}

/* The SHA-256 (hex) of a session id: what the store keeps. */
static bool id_hash(const char *id, char out[DIGEST_SHA256_HEX_LEN])
{
	return digest_sha256_hex(id, strlen(id), out) == BB_OK;
}

/* The client's address, as the rate limit counts it. */
static void client_addr(struct http_request *req, char out[WEB_ADDR_MAX])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char peer[INET6_ADDRSTRLEN] = "unknown";

	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET,
				  &((const struct sockaddr_in *)(const void *)sa)->sin_addr, peer,
				  sizeof(peer));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, peer,
				  sizeof(peer));
	}
	web_client_addr(peer, req->app->cfg->trusted_proxies,
			http_request_header(req, "X-Forwarded-For"), out);
}

/* The open session of the request: its CSRF token in csrf (and its id
 * hash in hash); false when there is none (or it has expired, then it is
 * removed). */
static bool session_find(struct web_ctx *c, char csrf[WEB_TOKEN_HEX],
			 char hash[DIGEST_SHA256_HEX_LEN])
{
	const char *id =
	    MHD_lookup_connection_value(c->req->conn, MHD_COOKIE_KIND, WEB_SESSION_COOKIE);
	struct store_session s = {0};
	struct err e = {0};
	struct store *st;
	time_t now = time(NULL);
	bool ok = false;

	if (id == NULL || strlen(id) != WEB_TOKEN_HEX - 1 || !id_hash(id, hash))
		return false;
	if ((st = app_store(c->req->app, &e)) == NULL ||
	    store_session_get(st, hash, &s, &e) != BB_OK)
		goto out;
	if (!web_session_live(s.created, s.last_seen, now)) {
		if (store_session_remove(st, hash, &e) != BB_OK)
			log_warn("admin: %s", e.msg);
		goto out;
	}
	if (now - s.last_seen >= WEB_TOUCH_EVERY_S &&
	    store_session_touch(st, hash, now, &e) != BB_OK)
		log_warn("admin: %s", e.msg);
	snprintf(csrf, WEB_TOKEN_HEX, "%s", s.csrf);
	ok = true;
out:
	if (e.code != BB_OK && e.code != BB_ERR_NOTFOUND)
		log_error("admin: session: %s", e.msg);
	store_session_clear(&s);
	return ok;
}

static void page_no_password(struct web_ctx *c)
{
	struct web_page p;

	page_init(&p, NULL);
	page_begin(&p, "Set an admin password", false);
	page_raw(&p, "<p class=\"notice\">No admin password is set. On the server, run</p>"
		     "<pre>blogbridge -c bridge.conf passwd</pre>"
		     "<p>and type the password (10 characters or more) on its standard input; "
		     "then reload this page.</p>");
	page_end(&p, c->res);
}

static void page_login(struct web_ctx *c, const char *message)
{
	char token[WEB_TOKEN_HEX];
	struct web_page p;

	if (rand_hex(token, WEB_TOKEN_BYTES) != BB_OK) {
		web_error(c, 500, "no random source");
		return;
	}
	page_init(&p, token);
	page_begin(&p, "Log in", false);
	if (message) {
		page_raw(&p, "<p class=\"bad\">");
		page_text(&p, message);
		page_raw(&p, "</p>");
	}
	page_raw(&p, "<form method=\"post\" action=\"/admin/login\">"
		     "<input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(&p, token);
	page_raw(&p,
		 "\"><p><label>Password<br><input type=\"password\" name=\"password\" "
		 "id=\"password\" autocomplete=\"current-password\" autofocus required></label></p>"
		 "<p><button type=\"submit\" id=\"login\">Log in</button></p></form>");
	page_end(&p, c->res);
	set_cookie(c, WEB_LOGIN_COOKIE, token, 3600);
}

/* POST /admin/login. */
static void do_login(struct web_ctx *c)
{
	const char *want =
	    MHD_lookup_connection_value(c->req->conn, MHD_COOKIE_KIND, WEB_LOGIN_COOKIE);
	const char *old =
	    MHD_lookup_connection_value(c->req->conn, MHD_COOKIE_KIND, WEB_SESSION_COOKIE);
	char *csrf = web_field(c, "csrf"), *pw = web_field(c, "password");
	char addr[WEB_ADDR_MAX], id[WEB_TOKEN_HEX], token[WEB_TOKEN_HEX];
	char hash[DIGEST_SHA256_HEX_LEN], hash_now[PASSWORD_HASH_MAX];
	struct err e = {0};
	struct store *st;
	unsigned wait = 0;
	time_t now = time(NULL);

	client_addr(c->req, addr);
	if (!web_csrf_ok(want, csrf)) {
		web_error(c, 403, "the login form has expired; reload it");
		goto out;
	}
	if (!web_ratelimit_allowed(&login_limit, addr, now, &wait)) {
		log_warn("admin: login refused for %s (too many failures)", addr);
		web_error(c, 429, "too many failed logins; try again later");
		c->res->retry_after = wait;
		goto out;
	}
	password_hash_current(c->req->app->cfg, hash_now);
	if (pw == NULL || !password_verify(pw, strlen(pw), hash_now)) {
		web_ratelimit_fail(&login_limit, addr, now);
		log_warn("admin: failed login from %s", addr);
		page_login(c, "Wrong password.");
		c->res->status = 403;
		goto out;
	}
	/* No fixation: whatever session the browser had ends, and a new id
	 * is made. */
	st = app_store(c->req->app, &e);
	if (st != NULL && old != NULL && id_hash(old, hash) &&
	    store_session_remove(st, hash, &e) != BB_OK)
		log_warn("admin: %s", e.msg);
	if (st == NULL || rand_hex(id, WEB_TOKEN_BYTES) != BB_OK ||
	    rand_hex(token, WEB_TOKEN_BYTES) != BB_OK || !id_hash(id, hash) ||
	    store_session_prune(st, now - WEB_SESSION_IDLE_S, now - WEB_SESSION_MAX_S, &e) !=
		BB_OK ||
	    store_session_add(st, hash, token, now, &e) != BB_OK) {
		log_error("admin: cannot open a session: %s", e.msg);
		web_error(c, 500, "cannot open a session");
		goto out;
	}
	web_ratelimit_clear(&login_limit, addr);
	log_info("admin: login from %s", addr);
	web_redirect(c, "/admin");
	set_cookie(c, WEB_SESSION_COOKIE, id, WEB_SESSION_MAX_S);
	set_cookie(c, WEB_LOGIN_COOKIE, "", 0);
out:
	free(csrf);
	if (pw != NULL) {
		memset(pw, 0, strlen(pw));
		free(pw);
	}
}

static void do_logout(struct web_ctx *c, const char *hash)
{
	struct err e = {0};
	struct store *st = app_store(c->req->app, &e);

	if (st == NULL || store_session_remove(st, hash, &e) != BB_OK) {
		log_error("admin: logout: %s", e.msg);
		web_error(c, 500, "cannot end the session");
		return;
	}
	web_redirect(c, "/admin/login");
	set_cookie(c, WEB_SESSION_COOKIE, "", 0);
}

struct web_route {
	const char *path;
	unsigned methods;
	void (*fn)(struct web_ctx *c);
};

static const struct web_route web_routes[] = {
    {"/admin", HTTP_GET | HTTP_HEAD, web_page_overview},
    {"/admin/", HTTP_GET | HTTP_HEAD, web_page_overview},
    {"/admin/followers", HTTP_GET | HTTP_HEAD, web_page_followers},
    {"/admin/followers.csv", HTTP_GET | HTTP_HEAD, web_followers_csv},
    {"/admin/followers/remove", HTTP_POST, web_do_follower_remove},
    {"/admin/deliveries", HTTP_GET | HTTP_HEAD, web_page_deliveries},
    {"/admin/deliveries/retry", HTTP_POST, web_do_retry},
    {"/admin/posts", HTTP_GET | HTTP_HEAD, web_page_posts},
    {"/admin/post", HTTP_GET | HTTP_HEAD, web_page_post},
    {"/admin/posts/resend", HTTP_POST, web_do_resend},
    {"/admin/blocks", HTTP_GET | HTTP_HEAD, web_page_blocks},
    {"/admin/comments", HTTP_GET | HTTP_HEAD, web_page_comments},
    {"/admin/comments/moderate", HTTP_POST, web_do_moderate},
    {"/admin/blocks/add", HTTP_POST, web_do_block_add},
    {"/admin/blocks/remove", HTTP_POST, web_do_block_remove},
};

/* The pages behind the session. */
static void dispatch_session(struct web_ctx *c)
{
	char csrf[WEB_TOKEN_HEX], hash[DIGEST_SHA256_HEX_LEN];
	const struct web_route *r = NULL;
	bool post = c->req->method == HTTP_POST;

	if (!session_find(c, csrf, hash)) {
		if (post)
			web_error(c, 403, "not logged in");
		else
			web_redirect(c, "/admin/login");
		return;
	}
	c->csrf = csrf;
	if (post) {
		char *given = web_field(c, "csrf");
		bool ok = web_csrf_ok(csrf, given);
		free(given);
		if (!ok) {
			log_warn("admin: POST %s refused: wrong or missing CSRF token",
				 c->req->path);
			web_error(c, 403, "wrong or missing form token; reload the page");
			return;
		}
		if (strcmp(c->req->path, "/admin/logout") == 0) {
			do_logout(c, hash);
			return;
		}
	}
	for (size_t i = 0; i < sizeof(web_routes) / sizeof(web_routes[0]); i++)
		if (strcmp(web_routes[i].path, c->req->path) == 0)
			r = &web_routes[i];
	if (r == NULL) {
		web_error(c, 404, "no such page");
		return;
	}
	if (!(r->methods & c->req->method)) {
		c->res->allow = (r->methods & HTTP_POST) ? "POST" : "GET, HEAD";
		web_error(c, 405, "method not allowed");
		return;
	}
	r->fn(c);
}

void web_admin_dispatch(struct http_request *req, struct http_response *res)
{
	struct web_ctx c = {req, res, NULL};
	char pw[PASSWORD_HASH_MAX];
	bool post = req->method == HTTP_POST;

	password_hash_current(req->app->cfg, pw);
	if (req->method == HTTP_OTHER) {
		res->allow = "GET, HEAD, POST";
		web_error(&c, 405, "method not allowed");
	} else if (req->body_too_large) {
		web_error(&c, 413, "form too large");
	} else if (strcmp(req->path, "/admin/style.css") == 0) {
		http_respond_borrowed(res, 200, "text/css; charset=utf-8", web_style_css);
	} else if (pw[0] == '\0') {
		if (post)
			web_error(&c, 403, "no admin password is set");
		else
			page_no_password(&c);
	} else if (strcmp(req->path, "/admin/login") == 0) {
		if (post)
			do_login(&c);
		else
			page_login(&c, NULL);
	} else {
		dispatch_session(&c);
	}
	security_headers(res);
}
