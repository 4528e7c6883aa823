/*
 * app.h — the running bridge: configuration, key, actor, and the documents
 * rendered once at start; of those only the profile (struct app_profile)
 * changes while serve runs, by a reload, and it is swapped whole.
 *
 * The store is per thread: app_store() opens the calling thread's own
 * connection on first use and closes it when the thread exits.
 */
#ifndef BB_APP_H
#define BB_APP_H

#include "authfetch.h"
#include "config.h"
#include "delivery.h"
#include "err.h"
#include "fetch.h"
#include "inbox.h"
#include "key.h"
#include "notify.h"
#include "site.h"
#include "store.h"
#include "writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define BB_VERSION "0.1.0"

/* What a reload changes in a running serve: the profile ([site] name,
 * summary, icon, header, also_known_as) and the actor document that shows
 * it.  Immutable once published; a replaced one is kept until app_free,
 * since a request may still be sending its document. */
struct app_profile {
	struct config *cfg;  /* owned (NULL: the app's own, the first one) */
	const struct config *fields; /* whose profile fields these are (cfg, or an older one's) */
	char *moved_to;	     /* owned: the account the blog moved to (move.h), or NULL */
	struct ap_site site; /* app->site with this profile's fields */
	char *actor_json;
	struct app_profile *older; /* the profiles it replaced */
};
struct backfill_worker;

struct app {
	struct config *cfg; /* owned; what start-up read (a reload changes the profile only) */
	struct key *key;    /* owned */
	struct ap_site site;
	_Atomic(struct app_profile *) profile; /* app_profile() */
	/* Rendered once; served as they are. */
	char *webfinger_json;
	char *host_meta_xml;
	char *nodeinfo_links_json;
	pthread_key_t store_tls;
	bool store_tls_ready;
	struct fetch_config fetch;
	struct inbox_env inbox;
	struct authfetch *authfetch; /* signed GETs: failing keys, fetches under way */
	/* Started by app_services_start (serve only). */
	struct writer *writer;
	struct delivery_worker *delivery;
	struct delivery_config delivery_cfg;
	struct notify_worker *notify; /* NULL when [notify] is off */
	/* Started by serve (backfill_worker.h); NULL when off. */
	struct backfill_worker *backfill;
};

/* Takes cfg (freed on every path).  Creates the database and the actor key
 * when they are missing, and renders the static documents. */
enum bb_rc app_open(struct config *cfg, struct app **out, struct err *e) BB_MUST_CHECK;

/* Starts the writer, the delivery worker and the notification thread
 * (for serve). */
enum bb_rc app_services_start(struct app *app, struct err *e) BB_MUST_CHECK;

/* Stops them, finishing queued writes first. */
void app_services_stop(struct app *app);

void app_free(struct app *app);

/* The profile now (any thread): valid until app_free. */
const struct app_profile *app_profile(struct app *app);

/* Queues an Update of the actor to the followers when its document
 * differs from the one last federated (publish_actor_sync), and wakes the
 * delivery worker when it did.  serve calls it at start-up and after each
 * reload. */
enum bb_rc app_profile_sync(struct app *app, struct err *e) BB_MUST_CHECK;

/* Reads the configuration file again (serve, on SIGHUP; one thread at a
 * time).  A file with errors changes nothing: BB_ERR_CONFIG with errs
 * listing them (FILE:LINE: message).  Otherwise a changed profile is
 * published for the requests that follow, each other key that changed
 * is logged as needing a restart, and app_profile_sync runs. */
enum bb_rc app_reload(struct app *app, struct config_errors *errs, struct err *e) BB_MUST_CHECK;

/* The move (move.h), to target: the profile now with movedTo, stored
 * with the Move and an Update of the actor, each fanned out to the
 * followers (move_publish; BB_ERR_FORBIDDEN when the blog has moved
 * already); then that profile is the app's.  *deliveries: the Move's
 * rows.  The caller has checked the target (move_target_check). */
enum bb_rc app_move(struct app *app, const char *target, int64_t *deliveries,
		    struct err *e) BB_MUST_CHECK;

/* serve, in the thread that reloads (a `move` is another process): when
 * the store records a move that the profile does not show yet, the
 * profile with movedTo is published.  Nothing is federated: `move`
 * stored the Update with movedTo itself. */
enum bb_rc app_move_refresh(struct app *app, struct err *e) BB_MUST_CHECK;

/* The calling thread's store connection, opened on first use; NULL with e
 * set when it cannot be opened. */
struct store *app_store(struct app *app, struct err *e);

#endif
