/*
 * routes_int.h — what the route files share (routes.c: discovery, actor,
 * collections, inbox; routes_posts.c: post objects, their activities,
 * the outbox and the lookup; routes_api.c: the comments for the blog).
 */
#ifndef BB_ROUTES_INT_H
#define BB_ROUTES_INT_H

#include "http.h"

#include <stdbool.h>

/* Reports a store failure: logs e->msg, and answers the status e->code
 * maps to with the fixed text for it (http_respond_rc). */
void respond_store_error(struct http_response *res, const struct err *e);

/* Content negotiation for documents that also have a page on the blog:
 * true when the handler should serve JSON; otherwise res holds the
 * redirect to html_url or the 406. */
bool negotiate_json(struct http_request *req, struct http_response *res, const char *html_url);

/* The common start of a collection request: JSON negotiated (browsers
 * are sent to the blog), CORS, and ?page=N parsed into *page (0 without
 * it).  False when res already holds the answer (redirect, 406, 400). */
bool collection_request(struct http_request *req, struct http_response *res, long *page);

/* An OrderedCollection with nothing in it (paged like the others). */
void empty_collection(struct http_request *req, struct http_response *res, const char *id);

void route_outbox(struct http_request *req, struct http_response *res);
void route_post(struct http_request *req, struct http_response *res);
void route_activity(struct http_request *req, struct http_response *res);
void route_lookup(struct http_request *req, struct http_response *res);

#define API_PATH_COMMENTS "/api/comments"
#define EMBED_PATH_COMMENTS "/embed/comments"
#define EMBED_PATH_SCRIPT "/embed/comments.js"

void route_api_comments(struct http_request *req, struct http_response *res);
void route_embed_comments(struct http_request *req, struct http_response *res);
void route_embed_js(struct http_request *req, struct http_response *res);

#endif
