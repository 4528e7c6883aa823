/*
 * web_int.h — inside the admin pages: what web_auth.c (sessions, CSRF,
 * the login's rate limit), web_html.c (escaping, the page frame) and the
 * page files share.  The pure parts are here so unit tests reach them.
 */
#ifndef BB_WEB_INT_H
#define BB_WEB_INT_H

#include "buf.h"
#include "http.h"
#include "web.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- sessions (web_auth.c) ------------------------------------------- */

#define WEB_SESSION_COOKIE "bb_admin"
#define WEB_LOGIN_COOKIE "bb_login"
#define WEB_SESSION_IDLE_S (12 * 3600)
#define WEB_SESSION_MAX_S (30 * 24 * 3600)
/* A session's id and CSRF token: 256 random bits, in hex. */
#define WEB_TOKEN_BYTES 32
#define WEB_TOKEN_HEX (2 * WEB_TOKEN_BYTES + 1)

/* Whether a session made at created and last seen at last_seen is still
 * open at now: idle under WEB_SESSION_IDLE_S and younger than
 * WEB_SESSION_MAX_S. */
bool web_session_live(time_t created, time_t last_seen, time_t now);

/* Whether the token a form sent matches the session's, compared in
 * constant time; false when either is NULL or empty. */
bool web_csrf_ok(const char *expected, const char *given);

/* ---- the login's rate limit (web_auth.c) ------------------------------
 * Failed logins per client address: WEB_LOGIN_FAILS_MAX within
 * WEB_LOGIN_WINDOW_S, then refused until the window ends.  A fixed table;
 * when it is full the oldest entry makes room. */
#define WEB_LOGIN_FAILS_MAX 5
#define WEB_LOGIN_WINDOW_S (15 * 60)
#define WEB_RATELIMIT_SLOTS 256
#define WEB_ADDR_MAX 64

struct web_ratelimit_slot {
	char addr[WEB_ADDR_MAX];
	unsigned fails;
	time_t since; /* first failure of the window */
};

struct web_ratelimit {
	pthread_mutex_t lock;
	struct web_ratelimit_slot slot[WEB_RATELIMIT_SLOTS];
};

#define WEB_RATELIMIT_INIT                                                                         \
	{                                                                                          \
		.lock = PTHREAD_MUTEX_INITIALIZER                                                  \
	}

/* Whether addr may try a password at now; *retry_after (may be NULL)
 * gets the seconds left when not. */
bool web_ratelimit_allowed(struct web_ratelimit *rl, const char *addr, time_t now,
			   unsigned *retry_after);
/* Counts a failed login of addr at now. */
void web_ratelimit_fail(struct web_ratelimit *rl, const char *addr, time_t now);
/* Forgets addr's failures (a good login). */
void web_ratelimit_clear(struct web_ratelimit *rl, const char *addr);

/* The client's address: the peer's, or, when the peer is one of the
 * comma-separated trusted_proxies, the last address of its
 * X-Forwarded-For (the one that proxy saw). */
void web_client_addr(const char *peer, const char *trusted_proxies, const char *forwarded,
		     char out[WEB_ADDR_MAX]);

/* ---- forms ------------------------------------------------------------ */

/* The value of field name in an application/x-www-form-urlencoded body
 * (decoded into a new string, caller frees), or NULL when absent. */
char *web_form_value(const char *body, size_t len, const char *name);

/* Every value of field name, in order: up to max new strings into out
 * (caller frees each); returns how many. */
size_t web_form_values(const char *body, size_t len, const char *name, char **out, size_t max);

/* ---- HTML (web_html.c) ------------------------------------------------ */

/* The Content-Security-Policy of every admin answer: nothing from
 * elsewhere (no script at all, inline or not, no style, no frame), but
 * images from https: URLs too, for the remote actors' avatars. */
#define WEB_CSP "default-src 'self'; img-src 'self' https:"

/* The one escaping function: appends s with & < > " ' as entities (NULL
 * appends nothing). */
enum bb_rc web_html_escape(struct buf *b, const char *s) BB_MUST_CHECK;

/* A page being written.  Appends never fail one by one: the first
 * failure is kept and the page answered 500 at the end. */
struct web_page {
	struct buf b;
	bool failed;
	const char *csrf; /* the session's token, for forms (NULL: none) */
};

void page_init(struct web_page *p, const char *csrf);
void page_raw(struct web_page *p, const char *html);  /* trusted markup */
void page_text(struct web_page *p, const char *text); /* escaped */
void page_int(struct web_page *p, int64_t n);
void page_time(struct web_page *p, time_t t);	     /* UTC, "-" for 0 */
void page_href(struct web_page *p, const char *url); /* an http(s) URL, else "#" */
void page_urlenc(struct web_page *p, const char *s); /* for a query value */
/* A remote actor's avatar: an <img> of url when it is an https URL (as
 * url_is_http_str reads it, at most WEB_AVATAR_URL_MAX bytes), escaped;
 * nothing otherwise (the CSP takes images from https: only). */
#define WEB_AVATAR_URL_MAX 2048
void page_avatar(struct web_page *p, const char *url);
/* The frame: head with the stylesheet, navigation (when nav), title. */
void page_begin(struct web_page *p, const char *title, bool nav);
/* HTML from outside (a comment's sanitized content) as it will show
 * under the post: reduced again to the safe subset (activitypub/html.h's
 * html_reduce_reply) before it is written; base is its id. */
void page_html(struct web_page *p, const char *html, const char *base);
/* A POST form to action with the CSRF field and hidden fields (name,
 * value pairs, NULL-ended), and a submit button labelled label. */
void page_form_button(struct web_page *p, const char *action, const char *label,
		      const char *const *fields);
/* Ends the page and answers it (200, text/html), or 500. */
void page_end(struct web_page *p, struct http_response *res);

/* The stylesheet served at /admin/style.css. */
extern const char web_style_css[];

/* ---- pages (web_pages.c, web_posts.c) ---------------------------------- */

/* A request of a logged-in admin. */
struct web_ctx {
	struct http_request *req;
	struct http_response *res;
	const char *csrf;
};

void web_page_overview(struct web_ctx *c);
void web_page_followers(struct web_ctx *c);
void web_followers_csv(struct web_ctx *c);
void web_page_deliveries(struct web_ctx *c);
void web_page_blocks(struct web_ctx *c);
void web_page_posts(struct web_ctx *c);
void web_page_post(struct web_ctx *c);
void web_page_comments(struct web_ctx *c);

/* Actions (POST, CSRF already checked): each answers a redirect back. */
void web_do_follower_remove(struct web_ctx *c);
void web_do_block_add(struct web_ctx *c);
void web_do_block_remove(struct web_ctx *c);
void web_do_retry(struct web_ctx *c);
void web_do_resend(struct web_ctx *c);
void web_do_moderate(struct web_ctx *c);

/* The value of a form field of the request (caller frees), or NULL. */
char *web_field(struct web_ctx *c, const char *name);

/* Redirects to base_url + path (a path under /admin). */
void web_redirect(struct web_ctx *c, const char *path);

/* Answers an error page. */
void web_error(struct web_ctx *c, unsigned status, const char *message);

#endif
