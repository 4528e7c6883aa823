/*
 * poller.h — feed intake: read the blog's feed, store each post, and queue
 * what the followers must receive.
 *
 * The feed is a local file or an http(s) URL, fetched with a conditional
 * GET (ETag / Last-Modified kept in the store), bounded in size
 * (FEED_BYTES_MAX) and time.  The feed URL is the admin's own blog, so it
 * may be on a private address.  Items are handled oldest first:
 * - a new item (by guid) becomes a post with a new object id, and a Create
 *   fanned out to the followers (one delivery per shared inbox) — except on
 *   the very first import, which only fills the outbox (followers must not
 *   get ten old posts at once) unless deliver_existing is set;
 * - an item whose rendered object changed becomes an Update carrying the
 *   whole object with `updated` strictly later than before;
 * - an unchanged item does nothing, and an item that left the feed is not
 *   a deletion (feeds are windows).
 * Each post and its activity are stored in one transaction.  A broken or
 * unreachable feed is logged; the next poll retries.
 */
#ifndef BB_POLLER_H
#define BB_POLLER_H

#include "app.h"
#include "err.h"

#include <stdbool.h>
#include <stddef.h>

struct poll_result {
	bool not_modified; /* 304, or the file unchanged since last time */
	size_t items;      /* in the feed */
	size_t created;    /* new posts federated (Create queued) */
	size_t imported;   /* new posts stored without delivery (first import) */
	size_t updated;    /* changed posts (Update queued) */
	size_t unchanged;
	size_t deliveries; /* rows queued in all */
};

/* Reads the feed once with the calling thread's store connection. */
enum bb_rc poller_run_once(struct app *app, bool deliver_existing, struct poll_result *out,
			   struct err *e) BB_MUST_CHECK;

/* The object id of a post: base_url/ap/posts/<32 hex digits of
 * SHA-256(guid)>, stable across polls and restarts.  out holds at least
 * POLLER_ID_MAX bytes. */
#define POLLER_ID_MAX 512
void poller_post_id(const struct app *app, const char *guid, char *out);

/* Renders the Delete of a live post, stores it, fans it out and marks the
 * post deleted, in one transaction (`blogbridge posts delete URL`).
 * BB_ERR_NOTFOUND when no live post has that URL. */
enum bb_rc poller_post_delete(struct app *app, const char *url, int64_t *deliveries,
			      struct err *e) BB_MUST_CHECK;

/* serve: a thread polling every poll_interval (the first poll at start),
 * waking the delivery worker when something was queued. */
struct poller;
enum bb_rc poller_start(struct app *app, struct poller **out, struct err *e) BB_MUST_CHECK;
void poller_stop(struct poller *p);

#endif
