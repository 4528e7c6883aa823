/*
 * web.h — the admin pages: server-rendered HTML under /admin, behind a
 * login with the admin password (`blogbridge passwd`).
 *
 * Every answer carries Cache-Control: no-store, a Content-Security-Policy
 * of default-src 'self' (the pages run no script at all) with images also
 * from https: (remote avatars), X-Frame-Options: DENY and
 * Referrer-Policy: same-origin.  Every state change is a POST
 * carrying the session's CSRF token; the pages call bridge/ops.h, as the
 * commands do.
 */
#ifndef BB_WEB_H
#define BB_WEB_H

#include "http.h"

/* The prefix of every admin path. */
#define WEB_PATH_ADMIN "/admin"

/* Answers any request under /admin (GET, HEAD and POST). */
void web_admin_dispatch(struct http_request *req, struct http_response *res);

#endif
