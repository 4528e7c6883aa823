/*
 * delivery_policy.c — see delivery_policy.h.
 */
#include "delivery_policy.h"
#include "rand.h"

#include <stdint.h>

enum delivery_outcome delivery_classify(long status, bool transfer_failed)
{
	if (transfer_failed || status == 0)
		return DELIVERY_RETRY;
	if (status >= 200 && status < 300)
		return DELIVERY_DONE;
	if (status == 410)
		return DELIVERY_GONE;
	if (status == 401 || status == 408 || status == 429)
		return DELIVERY_RETRY;
	/* 501 is "unsalvageable" for Mastodon too (json_ld_helper.rb:349). */
	if (status >= 500 && status != 501)
		return DELIVERY_RETRY;
	return DELIVERY_DROP;
}

time_t delivery_backoff(int attempts, time_t retry_after)
{
	/* Mastodon's sidekiq_retry_in with n = retries so far, plus Sidekiq's
	 * own jitter (delivery_worker.rb:14-21). */
	uint64_t n = attempts > 0 ? (uint64_t)attempts - 1 : 0;
	uint64_t n4 = n * n * n * n;
	uint64_t delay = n4 + 15 + rand_below(n4 / 2 + 1) + rand_below(10 * (n + 1));

	if (retry_after > DELIVERY_RETRY_AFTER_MAX)
		retry_after = DELIVERY_RETRY_AFTER_MAX;
	if (retry_after > 0 && (uint64_t)retry_after > delay)
		delay = (uint64_t)retry_after;
	return (time_t)delay;
}
