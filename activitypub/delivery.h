/*
 * delivery.h — the worker that sends queued activities to remote inboxes.
 *
 * One thread, one libcurl multi handle: many requests at once over reused
 * connections, at most DELIVERY_PER_HOST to one host, so a slow or dead
 * host only delays its own deliveries.  Each request is signed (draft-cavage
 * first; RFC 9421 when the host refused cavage with 400/401 — and the
 * scheme that worked is remembered per host).  What an outcome leads to
 * is delivery_policy.h's (Mastodon's rules).  A host that fails on 7
 * distinct days is marked unavailable: its rows wait until it succeeds
 * again or sends us a verified activity.
 * Rows are leased from the store before sending, so a crash loses none
 * (at worst one is sent twice) and two processes never send the same row.
 * Leases name the worker that holds them and are renewed while it lives;
 * a worker releases those of workers that died, at start and at each
 * heartbeat, so a restart after a crash resumes at once
 * (delivery_store.c).
 */
#ifndef BB_DELIVERY_H
#define BB_DELIVERY_H

#include "delivery_policy.h"
#include "err.h"
#include "fetch.h"

#include <stdbool.h>
#include <time.h>

#define DELIVERY_PER_HOST 4
#define DELIVERY_INFLIGHT_MAX 256

struct delivery_worker;

struct delivery_config {
	const char *database;
	const struct fetch_config *fetch; /* our key, key id, address policy */
	unsigned inflight_max;		  /* 0: DELIVERY_INFLIGHT_MAX */
	unsigned per_host;		  /* 0: DELIVERY_PER_HOST */
	/* FEP-8fcf (followers_sync.h): with both set, a delivery of an
	 * activity addressed to followers_url carries the
	 * Collection-Synchronization of its host, signed. */
	const char *base_url;
	const char *followers_url;
};

/* Starts the worker thread (it opens its own store connection). cfg and
 * what it points to must outlive the worker. */
enum bb_rc delivery_start(const struct delivery_config *cfg, struct delivery_worker **out,
			  struct err *e) BB_MUST_CHECK;

/* Tells the worker new rows are queued (from this process). */
void delivery_wake(struct delivery_worker *w);

/* Stops: what finished is recorded, transfers in flight are abandoned
 * (their leases given back: the next worker sends them again at once),
 * the threads joined. */
void delivery_stop(struct delivery_worker *w);

#endif
