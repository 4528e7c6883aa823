/*
 * inbox.h — what the bridge does with an activity POSTed to its inboxes.
 *
 * Two steps, so the HTTP edge can answer with the right status and the
 * store can commit many activities at once:
 * 1. inbox_verify: the HTTP signature (keyId → cached or fetched key,
 *    refetched once on failure for key rotation), the activity parsed into
 *    a typed struct, and its `actor` equal to the key's owner.  Nothing is
 *    stored but the remote actor cache.
 *    For a Create or Update, the copy of its object to believe is settled
 *    here too (comments_resolve, which may fetch it from its origin), and
 *    the sender's cached actor document is refreshed when over a day old
 *    (at once on an Update of the actor itself); a note's author other
 *    than the sender (a note fetched from its origin) has its actor
 *    document fetched and cached the same way, for the name, handle and
 *    avatar shown under the comment.
 *    An activity of the bridge's own actor is its doctor's probe
 *    (probe.h), answered with a report in out->probe even when the proxy
 *    broke its signature, and never stored; or it is refused, BB_ERR_AUTH.
 * 2. inbox_apply, inside the caller's transaction: replays are no-ops
 *    (activity ids are recorded); Follow stores the follower and queues a
 *    signed Accept (a Reject for blocked domains); Undo(Follow) and Delete
 *    of the follower's actor remove it; replies, their edits and deletes,
 *    likes, boosts, quotes and their Undo go to comments_apply
 *    (comments.h); everything else is acknowledged and ignored.  Which inbox (personal or shared) was used does not
 *    matter, nor whether our actor is in to/cc.
 */
#ifndef BB_INBOX_H
#define BB_INBOX_H

#include "activity.h"
#include "comments.h"
#include "events.h"
#include "err.h"
#include "fetch.h"
#include "httpsig.h"
#include "site.h"
#include "store.h"

#include <stdbool.h>
#include <time.h>

struct inbox_env {
	const struct ap_site *site;
	const struct fetch_config *fetch;
	char *const *blocked_domains; /* for url_host_blocked; may be NULL */
	struct pubkey_cache *keys;    /* parsed remote keys; may be NULL */
	enum comments_moderation moderation; /* [comments] moderation */
	struct ap_notify notify;	     /* [notify]: which channels record events */
};

struct inbox_verified {
	struct ap_activity act;
	struct store_actor signer;
	bool ignore; /* acknowledged without effect (e.g. an unknown actor's self-delete) */
	bool revive; /* deliveries to the sender's server were failing: they resume */
	json_t *object; /* a Create's or Update's note as believed (comments_resolve), or NULL */
	struct comment_prepared note; /* object read and reduced (comment_prepare) */
	char *probe;    /* the doctor's probe (probe.h): the report to answer, nothing to apply */
};

/* How old a cached actor may be when it writes again before it is
 * fetched afresh (its name and avatar shown under its comments). */
#define INBOX_ACTOR_REFRESH_S (24 * 3600)

/* Verifies m.  BB_OK with *out filled (clear with inbox_verified_clear);
 * BB_ERR_AUTH (401) for a missing, malformed or failing signature or an
 * actor other than the key's owner; BB_ERR_FORBIDDEN (403) for a blocked
 * domain; BB_ERR_INVALID (400) for a malformed body or Content-Digest;
 * BB_ERR_TEMPFAIL (503) when the key could not be fetched for now. */
enum bb_rc inbox_verify(struct store *st, const struct inbox_env *env,
			const struct httpsig_message *m, time_t now, struct inbox_verified *out,
			struct err *e) BB_MUST_CHECK;

void inbox_verified_clear(struct inbox_verified *v);

/* Applies a verified activity; the caller holds the transaction. */
enum bb_rc inbox_apply(struct store *st, const struct inbox_env *env,
		       const struct inbox_verified *v, time_t now, struct err *e) BB_MUST_CHECK;

#endif
