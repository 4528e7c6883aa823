/*
 * ops.h — the admin's operations, one function each, called by the
 * command line (bridge/cli/) and by the admin pages (bridge/web/), so
 * that the two never diverge: what `blogbridge followers remove` does is
 * what the page's button does.
 *
 * Each works on the calling thread's store connection (app_store), so a
 * command and a running `serve` may both call them; each returns an
 * enum bb_rc with e set, and prints nothing.  Presentation (text, JSON,
 * HTML) stays with the caller.
 *
 * Operations whose feature does not exist yet go here too when it
 * lands, one function each: approving and rejecting a comment (with the
 * comments intake), blocking and unblocking a server (with the block
 * list), resending a post's activity to its followers.
 */
#ifndef BB_OPS_H
#define BB_OPS_H

#include "app.h"
#include "err.h"
#include "store.h"

#include <stdint.h>

/* ---- followers ------------------------------------------------------ */

/* Drops the follower whose actor id is actor.  Nothing is sent to it: it
 * is the admin's cleanup, and the actor may follow again.
 * BB_ERR_NOTFOUND when actor does not follow. */
enum bb_rc ops_follower_remove(struct app *app, const char *actor, struct err *e) BB_MUST_CHECK;

/* Calls fn for each follower, oldest first, limit of them after skipping
 * offset (limit < 0: all); fn as for store_follower_each. */
enum bb_rc ops_followers_each(struct app *app, int64_t offset, int64_t limit, store_follower_fn fn,
			      void *arg, struct err *e) BB_MUST_CHECK;

/* ---- posts ---------------------------------------------------------- */

/* Federates the Delete of the live post at url (its blog URL): renders
 * and stores the Delete, queues one delivery per target inbox and marks
 * the post deleted, in one transaction; *deliveries is how many were
 * queued.  BB_ERR_NOTFOUND when no live post has that URL. */
enum bb_rc ops_post_delete(struct app *app, const char *url, int64_t *deliveries,
			   struct err *e) BB_MUST_CHECK;

/* Calls fn for each post the bridge has federated, deleted ones
 * included, newest first, limit of them after skipping offset (limit < 0:
 * all); fn as for store_post_each. */
enum bb_rc ops_posts_each(struct app *app, int64_t offset, int64_t limit, store_post_fn fn,
			  void *arg, struct err *e) BB_MUST_CHECK;

/* ---- deliveries ----------------------------------------------------- */

/* Calls fn for each host that has deliveries, by host name, with its
 * queue's health; fn as for store_host_stats_each. */
enum bb_rc ops_host_stats_each(struct app *app, store_host_stats_fn fn, void *arg,
			       struct err *e) BB_MUST_CHECK;

#endif
