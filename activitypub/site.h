/*
 * site.h — the one blog actor this bridge serves, and the URLs it lives at.
 *
 * Every URL the bridge emits derives from base_url (the public origin, as
 * seen through the TLS reverse proxy), so the bridge never needs to know
 * how it is reached locally.  All ActivityPub paths sit under /ap/ so that a
 * reverse proxy sharing the blog's domain routes them with one rule.
 */
#ifndef BB_AP_SITE_H
#define BB_AP_SITE_H

#include "err.h"

#include <time.h>

#define AP_PATH_ACTOR "/ap/actor"
#define AP_PATH_INBOX "/ap/actor/inbox"
#define AP_PATH_OUTBOX "/ap/actor/outbox"
#define AP_PATH_FOLLOWERS "/ap/actor/followers"
#define AP_PATH_FOLLOWING "/ap/actor/following"
#define AP_PATH_SHARED_INBOX "/ap/inbox"
#define AP_PATH_NODEINFO "/ap/nodeinfo/2.1"
#define AP_PATH_POSTS "/ap/posts/"           /* objects, and their activities */
#define AP_PATH_ACTIVITIES "/ap/activities/" /* Accepts, Rejects */
#define AP_PATH_LOOKUP "/ap/lookup"          /* ?url=POST_URL -> the object id */
#define AP_PATH_WEBFINGER "/.well-known/webfinger"
#define AP_PATH_HOST_META "/.well-known/host-meta"
#define AP_PATH_NODEINFO_WELL_KNOWN "/.well-known/nodeinfo"

#define AP_CONTENT_TYPE "application/activity+json"
#define AP_CONTEXT_AS "https://www.w3.org/ns/activitystreams"
#define AP_PUBLIC "https://www.w3.org/ns/activitystreams#Public"

/* What the bridge's configuration says about the actor; borrowed strings,
 * which must outlive the ap_site made from them. */
struct ap_site_config {
	const char *base_url; /* origin, no trailing slash */
	const char *host;     /* host[:port] for acct: URIs */
	const char *handle;
	const char *name;
	const char *summary; /* plain text or HTML */
	const char *blog_url;
	const char *icon;     /* NULL when none */
	const char *header;   /* the header image; NULL when none */
	const char *const *also_known_as; /* NULL-terminated actor ids; NULL when none */
	const char *moved_to; /* the account the blog moved to (move.h); NULL when none */
	const char *language; /* NULL when unknown */
	const char *public_key_pem;
	const char *software_version;
	time_t published;
};

struct ap_site {
	struct ap_site_config cfg;
	/* Derived, owned. */
	char *actor_id;
	char *key_id; /* actor_id + "#main-key" */
	char *inbox;
	char *outbox;
	char *followers;
	char *following;
	char *shared_inbox;
	char *acct; /* "handle@host" */
};

/* Builds the derived URLs. On failure (out of memory) site is left empty. */
enum bb_rc ap_site_init(struct ap_site *site, const struct ap_site_config *cfg, struct err *e)
    BB_MUST_CHECK;

void ap_site_free(struct ap_site *site);

#endif
