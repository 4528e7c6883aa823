/*
 * authfetch.h — who asks for our objects: the HTTP signature of a GET of a
 * post, an activity or a collection (outbox, followers, following, a
 * post's replies), as [federation] authorized_fetch requires it ("secure
 * mode", MASTODON.md 4.1 and 4.3).
 *
 * - Required (authorized_fetch on): the GET must carry a draft-cavage or
 *   RFC 9421 signature that holds (httpsig.h: the same verifier as the
 *   inbox, without a body) under a key whose owner is an actor, neither
 *   it nor its domain blocked.  Unsigned: BB_ERR_AUTH "Request not
 *   signed", as Mastodon answers.
 * - Not required: an unsigned or unverifiable GET is served; a signature
 *   whose keyId (or its cached owner) is blocked is refused, without
 *   verifying it and without any network: nobody gains by forging a
 *   blocked server's signature.
 * The actor, its key, WebFinger and NodeInfo are never checked (the
 * caller does not ask): a verifier of our own signatures must reach them
 * unsigned, or every signed exchange would loop.
 *
 * Cost.  A key is looked up in the store's actor cache (and the parsed
 * key cache) first; only an unknown keyId is fetched (remote_key_fetch,
 * signed GETs, each bounded by AUTHFETCH_TIMEOUT_S), and a fetched
 * actor is cached only once its signature held.  Against a stream of
 * GETs signed with made-up keyIds, at most AUTHFETCH_FETCHES_MAX key
 * fetches run at once (beyond: BB_ERR_TEMPFAIL, 503), and a keyId whose
 * fetch failed is not fetched again for AUTHFETCH_NEGATIVE_TTL_S
 * (AUTHFETCH_TEMPFAIL_TTL_S when its server was only unreachable) — the
 * same holds for the one refetch a cached key gets when a signature fails
 * under it (key rotation).  Nothing here writes to the store but the
 * actor cache, and only for a signature that held; the inbox's writer is
 * never involved.
 */
#ifndef BB_AUTHFETCH_H
#define BB_AUTHFETCH_H

#include "err.h"
#include "httpsig.h"
#include "inbox.h"
#include "store.h"

#include <stdbool.h>
#include <time.h>

#define AUTHFETCH_FETCHES_MAX 4	     /* key fetches at once, all GETs together */
#define AUTHFETCH_NEGATIVE_SLOTS 256 /* keyIds remembered as failing */
#define AUTHFETCH_NEGATIVE_TTL_S 300 /* a key that could not be had or did not verify */
#define AUTHFETCH_TEMPFAIL_TTL_S 30  /* its server unreachable for now */
#define AUTHFETCH_TIMEOUT_S 10	     /* each document a key fetch GETs */

/* The guard shared by every HTTP thread: failing keyIds, fetches under
 * way.  Thread-safe. */
struct authfetch;

struct authfetch *authfetch_new(void);
void authfetch_free(struct authfetch *g);

/* Checks the signature of the GET (or HEAD) m at now, as above.  BB_OK:
 * serve it; BB_ERR_AUTH (401): unsigned while required, or a signature
 * that does not hold; BB_ERR_FORBIDDEN (403): signed by a blocked actor
 * or domain; BB_ERR_TEMPFAIL (503): the key cannot be fetched for now;
 * BB_ERR_NOMEM, BB_ERR_STORE.  e says why, in words fit for the peer. */
enum bb_rc authfetch_check(struct store *st, const struct inbox_env *env, struct authfetch *g,
			   const struct httpsig_message *m, bool required, time_t now,
			   struct err *e) BB_MUST_CHECK;

/* authfetch_check with the signature required whatever the
 * configuration, and on BB_OK *who (free it) is the signer's actor id. */
enum bb_rc authfetch_signer(struct store *st, const struct inbox_env *env, struct authfetch *g,
			    const struct httpsig_message *m, time_t now, char **who,
			    struct err *e) BB_MUST_CHECK;

#endif
