/*
 * events.h — what the inbox tells the admin of: a new follower, and a
 * comment that waits for moderation, each recorded as an event
 * (store_notify_add) in the transaction that stored the follower or the
 * comment.  So a crash loses no event, and a replayed activity (which
 * stores nothing) records none.  The event's JSON is what the webhook
 * POSTs and what the mail is written from:
 *
 *   {"event":"follow", "actor":ID, "handle":"@u@host"|null,
 *    "name":TEXT|null, "url":PROFILE|null, "time":RFC3339}
 *   {"event":"comment", "id":NOTE_ID, "url":NOTE_URL|null, "actor":ID,
 *    "handle":..., "name":..., "post":{"title":TEXT, "url":PERMALINK},
 *    "excerpt":TEXT, "admin_url":BASE/admin/comments, "time":RFC3339}
 *
 * Every string is the peer's, bounded (AP_EVENT_TEXT_MAX characters, the
 * excerpt AP_EVENT_EXCERPT_MAX), as plain text: whoever shows it escapes
 * it for where it goes.
 */
#ifndef BB_EVENTS_H
#define BB_EVENTS_H

#include "err.h"
#include "site.h"
#include "store.h"

#include <stdbool.h>
#include <time.h>

#define AP_EVENT_TEXT_MAX 200
#define AP_EVENT_EXCERPT_MAX 280
#define AP_EVENT_URL_MAX 512 /* ids and URLs, in characters */

/* Which channels are on ([notify] in bridge.conf); both false: nothing is
 * recorded. */
struct ap_notify {
	bool mail;
	bool hook;
};

/* A new follower, the actor as verified (its cached document). */
enum bb_rc ap_event_follow(struct store *st, const struct ap_notify *n,
			   const struct store_actor *follower, time_t now,
			   struct err *e) BB_MUST_CHECK;

/* A new comment c (as stored, its content reduced HTML) waiting for
 * moderation; its author's name and handle are read from the actor
 * cache, the post's title from the store. */
enum bb_rc ap_event_comment(struct store *st, const struct ap_notify *n, const struct ap_site *site,
			    const struct store_comment *c, time_t now, struct err *e) BB_MUST_CHECK;

#endif
