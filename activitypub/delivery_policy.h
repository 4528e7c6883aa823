/*
 * delivery_policy.h — what the delivery worker does with an attempt's
 * outcome, and its clocks: pure functions and constants, no threads, no
 * store.  Outcomes follow Mastodon's
 * (app/workers/activitypub/delivery_worker.rb):
 * - 2xx: done.
 * - 4xx other than 401, 408, 429: refused for good (a 410 from a
 *   follower's personal inbox also removes the follower: it is gone).
 * - 401, 408, 429, 5xx, timeouts, connection, DNS and TLS errors: retried
 *   after n^4 + 15 + rand(n^4 / 2) + rand(10 (n + 1)) seconds (Retry-After
 *   honoured), 17 attempts over about three days, then given up.
 */
#ifndef BB_DELIVERY_POLICY_H
#define BB_DELIVERY_POLICY_H

#include <stdbool.h>
#include <time.h>

#define DELIVERY_ATTEMPTS_MAX 17
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

#endif
