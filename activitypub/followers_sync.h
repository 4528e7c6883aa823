/*
 * followers_sync.h — FEP-8fcf, followers collection synchronization
 * across servers, as Mastodon implements it.
 *
 * A delivery of an activity addressed to our followers carries
 *   Collection-Synchronization: collectionId="FOLLOWERS", url="PARTIAL",
 *     digest="HEX"
 * (covered by its signature), where HEX is the lower-case hex of the XOR
 * of SHA-256(id) over our followers whose id is on the receiving server,
 * and PARTIAL (BASE/ap/actor/followers/sync?host=SERVER) is the
 * OrderedCollection of exactly those ids.  A server whose own count
 * differs fetches PARTIAL (a signed GET) and drops the follows it has
 * that are not listed, and undoes those listed that it does not have.
 * PARTIAL is served only to a GET signed by an actor of SERVER.
 *
 * A server is the host of a follower's id, with ":port" when the id has
 * one: the delivery worker's host keys (url_host_key).
 */
#ifndef BB_AP_FOLLOWERS_SYNC_H
#define BB_AP_FOLLOWERS_SYNC_H

#include "err.h"
#include "site.h"
#include "store.h"

#define AP_PATH_FOLLOWERS_SYNC "/ap/actor/followers/sync"
#define AP_SYNC_HEADER "Collection-Synchronization"
#define AP_SYNC_DIGEST_HEX 65 /* 64 hex digits and the NUL */

/* The digest of our followers on server (as above), in hex; *count (may
 * be NULL) gets how many there are.  The followers_server index makes it
 * cost that server's followers. */
enum bb_rc ap_sync_digest(struct store *st, const char *server, char hex[AP_SYNC_DIGEST_HEX],
			  int64_t *count, struct err *e) BB_MUST_CHECK;

/* The partial collection's URL for server (new string), or NULL. */
char *ap_sync_url(const char *base_url, const char *server);

/* The header's value for server (new string), or NULL. */
char *ap_sync_header(const char *base_url, const char *followers_url, const char *server,
		     const char hex[AP_SYNC_DIGEST_HEX]);

/* Whether the activity body is addressed to followers_url (it names it
 * as a JSON string: in to or cc, or as the actor's followers). */
bool ap_sync_addressed(const char *body, const char *followers_url);

/* The partial collection of server (new JSON text in *out). */
enum bb_rc ap_sync_render(struct store *st, const char *base_url, const char *server, char **out,
			  struct err *e) BB_MUST_CHECK;

#endif
