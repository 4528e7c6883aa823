/*
 * http.h — the HTTP server (libmicrohttpd, a thread pool) and the shape of
 * one exchange as the route handlers see it.
 *
 * Handlers fill a `struct http_response`; the server turns it into headers
 * and a body in one place.  HTTP statuses exist only at this edge:
 * http_status_for() is the one map from an error code to a status, and
 * http_respond_rc() the one way a failure becomes an answer, so that the
 * text a peer reads is chosen here and never an internal message.
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

#define HTTP_EXTRA_HEADERS_MAX 12

struct http_response {
	unsigned status;
	const char *content_type;
	char *body; /* owned when body_owned, else static/app-lifetime */
	size_t body_len;
	bool body_owned;
	/* When set: body is shared, held until body_release(body) (called
	 * once it is sent, or when it is replaced). */
	void (*body_release)(void *body);
	char *location; /* owned; Location header when set */
	bool vary_accept;
	bool vary_signature; /* the answer depends on the request's signature */
	bool cors;
	const char *allow; /* Allow header (405) */
	unsigned retry_after; /* Retry-After seconds (503), 0 for none */
	char etag[48];	      /* ETag header when not empty (a quoted value) */
	const char *cache_control; /* Cache-Control header when set (static) */
	/* Further headers (the admin pages' cookies and security headers),
	 * set with http_response_header_add: names static, values owned. */
	const char *extra_name[HTTP_EXTRA_HEADERS_MAX];
	char *extra_value[HTTP_EXTRA_HEADERS_MAX];
	size_t extra_count;
};

/* Adds a header to res (value copied).  BB_ERR_LIMIT past
 * HTTP_EXTRA_HEADERS_MAX, BB_ERR_NOMEM. */
enum bb_rc http_response_header_add(struct http_response *res, const char *name,
				    const char *value) BB_MUST_CHECK;

/* Header value of the request, or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/* Decoded query argument, or NULL. */
const char *http_request_query(const struct http_request *req, const char *name);

/* Response helpers: each replaces any body already set. */
void http_respond_borrowed(struct http_response *res, unsigned status, const char *type,
			   const char *body);
void http_respond_owned(struct http_response *res, unsigned status, const char *type,
			char *body);
/* body (len bytes, shared with its owner: never written) is sent as it
 * is, without a copy, and release(body) called once it is sent (or not
 * sent: in every case, once). */
void http_respond_shared(struct http_response *res, unsigned status, const char *type,
			 const char *body, size_t len, void (*release)(void *body));
/* {"error": message}, application/json. */
void http_respond_error(struct http_response *res, unsigned status, const char *message);
/* A redirect (302) to an absolute URL. */
void http_respond_redirect(struct http_response *res, const char *url);

/* The one map from an error code to the status a peer sees.  4xx only for
 * what the peer must change (Mastodon drops a delivery answered 4xx other
 * than 401/408/429, and retries 5xx): INVALID/USAGE 400, AUTH 401 (a
 * missing or bad signature), FORBIDDEN 403, NOTFOUND 404, LIMIT 413;
 * BUSY and TEMPFAIL 503 (worth retrying); everything else, our own
 * failures, 500.  BB_OK is 200. */
unsigned http_status_for(enum bb_rc rc);

/* The fixed text a peer reads for rc: one per code, saying nothing of how
 * the bridge works inside (no file, database or peer detail). */
const char *http_reason_for(enum bb_rc rc);

/* Answers a failure: the status http_status_for(rc) and
 * {"error": http_reason_for(rc)}.  detail (NULL for none) follows the
 * reason, "reason: detail", on a 4xx only, and must describe only the
 * request the peer sent (a signature verifier's reasons do: Mastodon's
 * 401s carry the same); a 5xx always carries the fixed text alone.  A 503
 * gets a Retry-After (unless res has one).  The caller logs the full
 * message: this writes no log. */
void http_respond_rc(struct http_response *res, enum bb_rc rc, const char *detail);

/* What answers a request: fills res for req (routes.h's routes_dispatch
 * for the bridge; the server itself knows no path). */
typedef void (*http_handler_fn)(struct http_request *req, struct http_response *res);

/* After MHD_start_daemon failed with fd as its MHD_OPTION_LISTEN_SOCKET:
 * closes fd unless libmicrohttpd did, and keep, a descriptor of the same
 * socket taken before.  libmicrohttpd 0.9.75 (Debian 12) closes the
 * socket on some of the ways the start fails and not on others (option
 * parsing, thread-pool and epoll set-up); 1.0 closes it on all.  So that
 * the socket neither leaks nor is closed twice, fd is closed only while
 * it still names the socket keep names. */
void http_listen_socket_release(int fd, int keep);

/* Starts listening on the configured address, answering every request
 * with handler; the server runs in its own threads until
 * http_server_stop. */
enum bb_rc http_server_start(struct app *app, http_handler_fn handler, struct http_server **out,
			     struct err *e) BB_MUST_CHECK;

void http_server_stop(struct http_server *srv);

#endif
