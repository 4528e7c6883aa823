/*
 * app.h — the running bridge: configuration, key, actor, and the documents
 * that never change while it runs (rendered once at start).
 *
 * The store is per thread: app_store() opens the calling thread's own
 * connection on first use and closes it when the thread exits.
 */
#ifndef BB_APP_H
#define BB_APP_H

#include "config.h"
#include "delivery.h"
#include "err.h"
#include "fetch.h"
#include "inbox.h"
#include "key.h"
#include "site.h"
#include "store.h"
#include "writer.h"

#include <pthread.h>
#include <stddef.h>

#define BB_VERSION "0.1.0"

struct backfill_worker;

struct app {
	struct config *cfg; /* owned */
	struct key *key;    /* owned */
	struct ap_site site;
	/* Rendered once; served as they are. */
	char *actor_json;
	char *webfinger_json;
	char *host_meta_xml;
	char *nodeinfo_links_json;
	pthread_key_t store_tls;
	bool store_tls_ready;
	struct fetch_config fetch;
	struct inbox_env inbox;
	/* Started by app_services_start (serve only). */
	struct writer *writer;
	struct delivery_worker *delivery;
	struct delivery_config delivery_cfg;
	/* Started by serve (backfill_worker.h); NULL when off. */
	struct backfill_worker *backfill;
};

/* Takes cfg (freed on every path).  Creates the database and the actor key
 * when they are missing, and renders the static documents. */
enum bb_rc app_open(struct config *cfg, struct app **out, struct err *e) BB_MUST_CHECK;

/* Starts the writer and the delivery worker (for serve). */
enum bb_rc app_services_start(struct app *app, struct err *e) BB_MUST_CHECK;

/* Stops them, finishing queued writes first. */
void app_services_stop(struct app *app);

void app_free(struct app *app);

/* The calling thread's store connection, opened on first use; NULL with e
 * set when it cannot be opened. */
struct store *app_store(struct app *app, struct err *e);

#endif
