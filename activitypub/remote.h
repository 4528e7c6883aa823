/*
 * remote.h — learning who a remote actor is, from its own server.
 *
 * An incoming signature names a keyId; the key, its owner and the owner's
 * inboxes come from fetching (signed GETs through fetch.h), checked the way
 * Mastodon checks them (app/services/activitypub/fetch_remote_key_service.rb):
 * - GET the keyId without its fragment.  If that is an actor (type
 *   Application, Group, Organization, Person or Service), its `id` must be
 *   the URL fetched, and one of its `publicKey` entries (an object or an
 *   array) must have `id` == keyId and `owner` == the actor id.
 * - If it is a standalone key (publicKeyPem + owner), GET the owner, which
 *   must be an actor listing that key id.
 * - Documents must be served as application/activity+json or
 *   application/ld+json (with a quoted profile listing the ActivityStreams
 *   URL, as Mastodon requires since GHSA-jhrq-qvrm-qr36; parameters
 *   allowed); @context must contain the ActivityStreams URL (a standalone
 *   key: it or https://w3id.org/security/v1).
 * - inbox (required, http(s)), endpoints.sharedInbox or sharedInbox.
 * - The handle "@preferredUsername@host" is kept only when WebFinger for
 *   acct:preferredUsername@host answers with a self link equal to the
 *   actor id (otherwise it stays NULL).
 * Beyond Mastodon: a document speaks for its id only when it was served
 * from the id's origin (a redirect to another scheme, host or port is
 * refused, so an open redirect cannot vouch for a foreign document);
 * JSON is nested at most REMOTE_JSON_DEPTH_MAX deep and may not repeat a
 * key; a key whose id lies outside its actor's document must be confirmed
 * by its own document (owner == the actor), as Mastodon does.
 */
#ifndef BB_REMOTE_H
#define BB_REMOTE_H

#include "err.h"
#include "fetch.h"
#include "store.h"

#include <jansson.h>
#include <time.h>

#define REMOTE_JSON_DEPTH_MAX 32 /* nesting of objects and arrays, the top one counting 1 */
#define REMOTE_KEYS_MAX 10       /* publicKey entries looked at (Mastodon's limit) */
#define REMOTE_USERNAME_MAX 128  /* preferredUsername bytes kept for a handle */
#define REMOTE_NAME_MAX 256      /* display name bytes kept (cut at a character) */

/* Fetches and checks the actor owning key_id; fills *out (clear it with
 * store_actor_clear) with fetched_at = now, and the actor's display name
 * (at most REMOTE_NAME_MAX bytes), icon URL and profile url when it has
 * them (http(s) only; an Image or Link object gives its url or href).  BB_ERR_AUTH when the
 * documents do not prove the key belongs to the actor; BB_ERR_NOTFOUND for
 * 404/410; BB_ERR_TEMPFAIL for network failures, 5xx and 429; BB_ERR_INVALID
 * for malformed documents (a wrong Content-Type, other statuses, a bad
 * PEM); BB_ERR_LIMIT for a body over FETCH_BODY_MAX or JSON nested too
 * deep; BB_ERR_UNSAFE for URLs or addresses the policy refuses.  A failed
 * WebFinger check is no error: the handle stays NULL. */
enum bb_rc remote_key_fetch(const struct fetch_config *cfg, const char *key_id, time_t now,
			    struct store_actor *out, struct err *e) BB_MUST_CHECK;

/* Fetches an actor by id (for the key_id, the first publicKey, which
 * must be owned by the actor; BB_ERR_INVALID when there is none).  Same
 * errors as remote_key_fetch. */
enum bb_rc remote_actor_fetch(const struct fetch_config *cfg, const char *actor_id, time_t now,
			      struct store_actor *out, struct err *e) BB_MUST_CHECK;

/* Fetches the object whose id is id from its origin (a signed GET, the
 * document rules above: an ActivityPub content type, the ActivityStreams
 * @context, no redirect to another origin), for a reply whose copy in
 * an activity cannot be trusted.  *out is the document (json_decref it);
 * BB_ERR_AUTH when its `id` is not id; otherwise remote_key_fetch's
 * errors. */
enum bb_rc remote_object_fetch(const struct fetch_config *cfg, const char *id, json_t **out,
			       struct err *e) BB_MUST_CHECK;

#endif
