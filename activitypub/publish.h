/*
 * publish.h — feed items become federated posts: each item (a struct post
 * from feed/) is stored as a post with a stable object id, and what the
 * followers must receive is stored as an outgoing activity and fanned out
 * (one delivery per distinct target inbox).  Items are handled oldest
 * first:
 * - a new item (by guid) becomes a post with a new object id, and a Create
 *   fanned out to the followers — except during a silent first import
 *   (deliver_new false), which only fills the outbox;
 * - an item whose rendered object changed becomes an Update carrying the
 *   whole object with `updated` strictly later than before;
 * - an unchanged item does nothing, and an item that left the feed is not
 *   a deletion (feeds are windows); a deleted post is never re-created.
 * Each post and its activity are stored in one transaction.  Reading the
 * feed, scheduling polls and waking the delivery worker after a run are
 * the caller's (the bridge's poller).
 */
#ifndef BB_AP_PUBLISH_H
#define BB_AP_PUBLISH_H

#include "err.h"
#include "object.h"
#include "post.h"
#include "site.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One publishing run; everything borrowed. */
struct publish_env {
	const struct ap_site *site;
	struct object_options opt; /* how objects are rendered */
	struct store *st;	   /* the calling thread's connection */
	time_t now;
	bool deliver_new; /* false: new posts stored without a Create (first import) */
};

/* What a run did. */
struct publish_counts {
	size_t created;	   /* new posts federated (Create queued) */
	size_t imported;   /* new posts stored without delivery (first import) */
	size_t updated;	   /* changed posts (Update queued) */
	size_t unchanged;  /* also: deleted posts, and items another process stored first */
	size_t deliveries; /* rows queued in all */
};

/* The object id of a post: base_url/ap/posts/<32 hex digits of
 * SHA-256(guid)>, stable across polls and restarts.  out holds at least
 * PUBLISH_ID_MAX bytes; out is "" when the id cannot be made (a base_url
 * too long, or the digest failing). */
#define PUBLISH_ID_MAX 512
void publish_post_id(const struct ap_site *site, const char *guid, char *out);

/* Publishes the n items, oldest first (an item without a date counts as
 * env->now; among equal dates the later in the array first, as feeds list
 * newest first), adding to *counts (zeroed by the caller).  Stops at the
 * first failure, leaving the items after it to the next run: what was
 * committed before stays, and *counts says so. */
enum bb_rc publish_items(const struct publish_env *env, const struct post *items, size_t n,
			 struct publish_counts *counts, struct err *e) BB_MUST_CHECK;

/* Renders the Delete of the live post whose blog URL is url, stores it,
 * fans it out and marks the post deleted, in one transaction, at time now;
 * *deliveries is the number of rows queued.  BB_ERR_NOTFOUND when no live
 * post has that URL. */
enum bb_rc publish_post_delete(struct store *st, const struct ap_site *site, const char *url,
			       time_t now, int64_t *deliveries, struct err *e) BB_MUST_CHECK;

/* ---- the actor's profile ------------------------------------------------
 * A change of the actor document (name, summary, icon, header,
 * alsoKnownAs, key) is pushed to the followers as an Update carrying the
 * whole document, signed by the actor like every delivery: Mastodon takes
 * the embedded actor as it is (update.rb:23-27, MASTODON.md §2.2).  The
 * store keeps a hash of the document last federated (meta "actor_hash");
 * publish_actor_sync compares it with actor_json and, in one transaction
 * with the new hash, stores an Update (id ACTOR#updates/N, N counting in
 * meta "actor_updates") and fans it out, one row per distinct shared inbox
 * (or inbox).  So a crash neither loses nor doubles it, and two processes
 * on one database send it once.  The first sync ever (no hash stored) only
 * records the hash.  *deliveries (may be NULL) gets the rows queued, and
 * *sent whether an Update was stored. */
enum bb_rc publish_actor_sync(struct store *st, const struct ap_site *site, const char *actor_json,
			      time_t now, bool *sent, int64_t *deliveries, struct err *e) BB_MUST_CHECK;

/* publish_actor_sync in the caller's transaction (store_begin): what it
 * stores is committed or rolled back with the rest (move.c stores the
 * Update with movedTo beside the Move).  *deliveries must not be NULL. */
enum bb_rc publish_actor_sync_tx(struct store *st, const struct ap_site *site,
				 const char *actor_json, time_t now, bool *sent, int64_t *deliveries,
				 struct err *e) BB_MUST_CHECK;

#endif
