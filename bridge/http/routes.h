/*
 * routes.h — the bridge's HTTP surface: which path is answered how
 * (WebFinger, NodeInfo, the actor, its collections, posts, the inboxes).
 * The server (http.h) calls routes_dispatch for every request.
 */
#ifndef BB_ROUTES_H
#define BB_ROUTES_H

#include "http.h"

/* Fills res for req: an http_handler_fn. */
void routes_dispatch(struct http_request *req, struct http_response *res);

#endif
