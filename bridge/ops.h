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
 * lands, one function each: blocking and unblocking a server (with the
 * block list), resending a post's activity to its followers.
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

/* The post whose blog URL or object id is ref, deleted or not, into *out
 * (clear it); BB_ERR_NOTFOUND when none. */
enum bb_rc ops_post_find(struct app *app, const char *ref, struct store_post *out,
			 struct err *e) BB_MUST_CHECK;

/* What the blog shows of a post: its approved comments, likes and boosts
 * (each pointer may be NULL). */
enum bb_rc ops_post_counts(struct app *app, int64_t post, int64_t *comments, int64_t *likes,
			   int64_t *boosts, struct err *e) BB_MUST_CHECK;

/* ---- comments ------------------------------------------------------- */

/* The moderation of the comment whose ActivityPub id is id: approve
 * shows it under its post (in /api/comments, the embed and the post's
 * replies collection), reject hides it, delete hides it for good (a
 * deleted comment cannot be approved or rejected again: BB_ERR_INVALID).
 * BB_ERR_NOTFOUND for an unknown id.  A private (followers-only or
 * direct) comment cannot be approved or rejected (BB_ERR_INVALID): its
 * author did not address it to the public. */
enum bb_rc ops_comment_approve(struct app *app, const char *id, struct err *e) BB_MUST_CHECK;
enum bb_rc ops_comment_reject(struct app *app, const char *id, struct err *e) BB_MUST_CHECK;
enum bb_rc ops_comment_delete(struct app *app, const char *id, struct err *e) BB_MUST_CHECK;

/* Calls fn for each comment f selects, oldest first; fn as for
 * store_comment_each. */
enum bb_rc ops_comments_each(struct app *app, const struct store_comment_filter *f,
			     store_comment_fn fn, void *arg, struct err *e) BB_MUST_CHECK;

/* Calls fn for each reaction to post (0: every post), oldest first; fn as
 * for store_reaction_each. */
enum bb_rc ops_reactions_each(struct app *app, int64_t post, store_reaction_fn fn, void *arg,
			      struct err *e) BB_MUST_CHECK;

/* The cached remote actor id into *out (clear it); BB_ERR_NOTFOUND when
 * it is not cached. */
enum bb_rc ops_actor_get(struct app *app, const char *id, struct store_actor *out,
			 struct err *e) BB_MUST_CHECK;

/* ---- deliveries ----------------------------------------------------- */

/* Calls fn for each host that has deliveries, by host name, with its
 * queue's health; fn as for store_host_stats_each. */
enum bb_rc ops_host_stats_each(struct app *app, store_host_stats_fn fn, void *arg,
			       struct err *e) BB_MUST_CHECK;

/* ---- posts: where each went (the admin pages and `posts deliveries`) -- */


/* Walks the deliveries of the post's activities (store_post_delivery_each)
 * for the post at url (ops_post_find). */
enum bb_rc ops_post_deliveries_each(struct app *app, const char *url, store_post_delivery_fn fn,
				    void *arg, struct err *e) BB_MUST_CHECK;

/* The delivery counts of the latest activity of the post whose object id
 * is ap_id. */
enum bb_rc ops_post_delivery_count(struct app *app, const char *ap_id,
				   struct store_post_delivery_counts *out,
				   struct err *e) BB_MUST_CHECK;

/* Queues the latest activity of the post at url again (store_post_resend):
 * for the servers that failed, or with all for every follower's server;
 * queued deliveries, sent by the worker.  *queued counts them. */
enum bb_rc ops_post_resend(struct app *app, const char *url, bool all, int64_t *queued,
			   struct err *e) BB_MUST_CHECK;

/* "Retry now" for host (a host key): its pending deliveries are due now
 * (store_host_retry_now); *count counts them. */
enum bb_rc ops_host_retry_now(struct app *app, const char *host, int64_t *count,
			      struct err *e) BB_MUST_CHECK;

/* ---- blocks --------------------------------------------------------- */

/* Normalizes what the admin typed into a block value: an actor id (an
 * http(s) URL, kept as written) or a domain (lower case, canonical as
 * url.h makes hosts) in out (OPS_BLOCK_MAX bytes); *is_actor says which.
 * BB_ERR_INVALID for anything else. */
#define OPS_BLOCK_MAX 4097
enum bb_rc ops_block_normalize(const char *input, char out[OPS_BLOCK_MAX], bool *is_actor,
			       struct err *e) BB_MUST_CHECK;

/* Blocks input (ops_block_normalize) in the store's list, removes the
 * followers it covers (the actor, or every follower on the domain and
 * its subdomains), hides their comments (the waiting and approved ones
 * become rejected) and removes their reactions (likes, boosts, quotes), in
 * one transaction; *removed counts the followers (may be NULL).  From
 * then on the inbox refuses its follows and activities.  Lifting the
 * block brings none of it back. */
enum bb_rc ops_block_add(struct app *app, const char *input, int64_t *removed,
			 struct err *e) BB_MUST_CHECK;

/* The same for the domains of the config's blocked_domains (no row is
 * added to the store's list): serve runs it at start, so a domain added
 * to the config loses its followers, comments and reactions as a store
 * block would.  The list applied is kept in the store's meta: a start
 * with the same list walks nothing (the inbox refused them meanwhile). */
enum bb_rc ops_blocks_apply_config(struct app *app, struct err *e) BB_MUST_CHECK;

/* Lifts a store block; BB_ERR_NOTFOUND when input is not blocked there
 * (a block of the config stays: it is the config's). */
enum bb_rc ops_block_remove(struct app *app, const char *input, struct err *e) BB_MUST_CHECK;

/* Walks the store's blocks (store_block_each). */
enum bb_rc ops_blocks_each(struct app *app, store_block_fn fn, void *arg,
			   struct err *e) BB_MUST_CHECK;

/* ---- comments: moderation ------------------------------------------- */

/* The admin's decision on the comment whose id is ap_id: status is
 * STORE_COMMENT_APPROVED, _REJECTED or _DELETED (anything else is
 * BB_ERR_INVALID).  A private reply cannot be approved (it was not
 * public: BB_ERR_INVALID); a deleted one stays deleted.  BB_ERR_NOTFOUND
 * for an unknown id. */
enum bb_rc ops_comment_moderate(struct app *app, const char *ap_id,
				enum store_comment_status status, struct err *e) BB_MUST_CHECK;

#endif
