/*
 * move.h — account migration, outwards: the blog's followers are sent to
 * another account with a Move, as Mastodon does it (MoveService: the
 * actor's movedTo set, an Update of the actor and a Move to the
 * followers' inboxes).
 *
 * A receiving Mastodon (app/lib/activitypub/activity/move.rb) acts on
 * {"type":"Move","actor":A,"object":A,"target":B} signed by A only when
 * it fetches B and finds A in B's alsoKnownAs; then every one of its users
 * following A unfollows A and follows B.  So the target is checked first
 * (move_target_check), the same way, before anything is stored.
 *
 * The move is recorded in the store's meta ("moved_to" = the target's
 * id), in the transaction that stores the Move and the Update and fans
 * them out: a crash neither loses nor doubles them, and a second move is
 * refused inside that transaction.  From then on the actor document
 * carries movedTo, the feed is no longer published and new Follows are
 * rejected (as Mastodon rejects follows of a moved account, follow.rb).
 * There is no undoing it here.
 */
#ifndef BB_AP_MOVE_H
#define BB_AP_MOVE_H

#include "err.h"
#include "site.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define MOVE_AKA_MAX 100 /* alsoKnownAs entries looked at in the target */

/* Whether doc, the document fetched from target (remote_object_fetch: its
 * id is target), is an actor (Application, Group, Organization, Person,
 * Service) whose alsoKnownAs (an array, or one entry; each a string or an
 * object with an id; at most MOVE_AKA_MAX looked at) lists our_id.  BB_ERR_INVALID when it is no
 * actor, BB_ERR_FORBIDDEN when alsoKnownAs lacks our_id; e says which. */
enum bb_rc move_target_check(const json_t *doc, const char *target, const char *our_id,
			     struct err *e) BB_MUST_CHECK;

/* Records the move to target, at now, in one transaction: meta moved_to,
 * the Update of the actor (actor_json: the document with movedTo, see
 * publish_actor_sync_tx) and the Move (id ACTOR#moves/1), each fanned out
 * to one row per distinct shared inbox (or inbox) of the followers.
 * *deliveries is the rows of the Move.  BB_ERR_FORBIDDEN, with nothing
 * stored, when the blog has moved already (e names where). */
enum bb_rc move_publish(struct store *st, const struct ap_site *site, const char *actor_json,
			const char *target, time_t now, int64_t *deliveries,
			struct err *e) BB_MUST_CHECK;

#endif
