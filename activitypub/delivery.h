/*
 * delivery.h — the worker that sends queued activities to remote inboxes.
 *
 * One thread, one libcurl multi handle: many requests at once over reused
 * connections, at most DELIVERY_PER_HOST to one host, so a slow or dead
 * host only delays its own deliveries.  Each request is signed (draft-cavage
 * first; RFC 9421 when the host refused cavage with 400/401 — and the
 * scheme that worked is remembered per host).  Outcomes follow Mastodon's
 * (app/workers/activitypub/delivery_worker.rb):
 * - 2xx: done.
 * - 4xx other than 401, 408, 429: refused for good (a 410 from a
 *   follower's personal inbox also removes the follower: it is gone).
 * - 401, 408, 429, 5xx, timeouts, connection, DNS and TLS errors: retried
 *   after n^4 + 15 + rand(n^4 / 2) + rand(10 (n + 1)) seconds (Retry-After
 *   honoured), 17 attempts over about three days, then given up.
 * - A host that fails on 7 distinct days is marked unavailable: its rows
 *   wait until it succeeds again or sends us a verified activity.
 * Rows are leased from the store before sending, so a crash loses none
 * (at worst one is sent twice) and two processes never send the same row.
 * Leases name the worker that holds them and are renewed while it lives;
 * a worker that starts releases those of workers that died, so a restart
 * after a crash resumes at once (delivery_store.c).
 */
#ifndef BB_DELIVERY_H
#define BB_DELIVERY_H

#include "err.h"
#include "fetch.h"

#include <stdbool.h>
#include <time.h>

#define DELIVERY_ATTEMPTS_MAX 17
#define DELIVERY_PER_HOST 4
#define DELIVERY_INFLIGHT_MAX 256
/* Leases are short and renewed with every heartbeat while the row is in
 * flight (a lease of a registered owner is never taken, even past its
 * end); an owner whose heartbeat is older than the grace is dead and its
 * leases are released.  The grace is three busy timeouts: a heartbeat
 * waits at most one for the lock, and follows at most one more (a claim
 * or a batch of outcomes), so a live owner is not taken for dead. */
#define DELIVERY_LEASE_S 30
#define DELIVERY_HEARTBEAT_MS 2000
#define DELIVERY_OWNER_GRACE_S 30
#define DELIVERY_RETRY_AFTER_MAX (24 * 3600)
/* How often the worker looks for rows queued by other processes. */
#define DELIVERY_POLL_MS 1000

struct delivery_worker;

struct delivery_config {
	const char *database;
	const struct fetch_config *fetch; /* our key, key id, address policy */
	unsigned inflight_max;            /* 0: DELIVERY_INFLIGHT_MAX */
	unsigned per_host;                /* 0: DELIVERY_PER_HOST */
};

enum delivery_outcome {
	DELIVERY_DONE,
	DELIVERY_RETRY,
	DELIVERY_DROP, /* permanent refusal */
	DELIVERY_GONE, /* 410: the recipient no longer exists */
};

/* Classifies an attempt: HTTP status (0 when there was none) and whether
 * the transfer itself failed (network, TLS, timeout). */
enum delivery_outcome delivery_classify(long status, bool transfer_failed);

/* Seconds to wait before retry number n (n = attempts made so far, >= 1),
 * with jitter; retry_after (seconds, 0 for none) raises it. */
time_t delivery_backoff(int attempts, time_t retry_after);

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
