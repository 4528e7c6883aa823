/*
 * http.h — the HTTP server (libmicrohttpd, a thread pool) and the shape of
 * one exchange as the route handlers see it.
 *
 * Handlers fill a `struct http_response`; the server turns it into headers
 * and a body in one place.  HTTP statuses exist only at this edge:
 * http_status_for() maps an error code to one.
 */
#ifndef BB_HTTP_H
#define BB_HTTP_H

#include "app.h"
#include "err.h"

#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;
struct http_server;

enum http_method { HTTP_GET = 1, HTTP_HEAD = 2, HTTP_POST = 4, HTTP_OTHER = 8 };

struct http_request {
	struct app *app;
	struct MHD_Connection *conn;
	enum http_method method;
	const char *path;
	const char *body; /* POST body ("" for none), NUL-terminated */
	size_t body_len;
	bool body_too_large; /* over HTTP_BODY_MAX: answer 413 */
};

/* The largest request body kept (Mastodon's limit for an activity). */
#define HTTP_BODY_MAX (1024 * 1024)

struct http_response {
	unsigned status;
	const char *content_type;
	char *body; /* owned when body_owned, else static/app-lifetime */
	size_t body_len;
	bool body_owned;
	char *location; /* owned; Location header when set */
	bool vary_accept;
	bool cors;
	const char *allow; /* Allow header (405) */
	unsigned retry_after; /* Retry-After seconds (503), 0 for none */
};

/* Header value of the request, or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/* Decoded query argument, or NULL. */
const char *http_request_query(const struct http_request *req, const char *name);

/* Response helpers: each replaces any body already set. */
void http_respond_borrowed(struct http_response *res, unsigned status, const char *type,
			   const char *body);
void http_respond_owned(struct http_response *res, unsigned status, const char *type,
			char *body);
/* {"error": message}, application/json. */
void http_respond_error(struct http_response *res, unsigned status, const char *message);
/* A redirect (302) to an absolute URL. */
void http_respond_redirect(struct http_response *res, const char *url);

unsigned http_status_for(enum bb_rc rc);

/* Starts listening on the configured address; the server runs in its own
 * threads until http_server_stop. */
enum bb_rc http_server_start(struct app *app, struct http_server **out, struct err *e)
    BB_MUST_CHECK;

void http_server_stop(struct http_server *srv);

/* The routes (routes.c): fills res for req. */
void routes_dispatch(struct http_request *req, struct http_response *res);

#endif
