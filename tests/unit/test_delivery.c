/*
 * test_delivery.c — the delivery worker's pure rules (activitypub/delivery.h):
 * how an attempt's outcome is classified, and how long a retry waits
 * (Mastodon's schedule with Sidekiq's jitter, raised by Retry-After up to
 * DELIVERY_RETRY_AFTER_MAX), over the DELIVERY_ATTEMPTS_MAX attempts.
 */
#include "check.h"
#include "delivery.h"

#include <stdint.h>

/* Repeats of each jittered draw: enough to see both ends of the jitter. */
#define DRAWS 2000

static void t_classify_success(void)
{
	for (long s = 200; s < 300; s++)
		CHECK_INT(delivery_classify(s, false), DELIVERY_DONE);
	CHECK_INT(delivery_classify(202, false), DELIVERY_DONE);
	/* A transfer that failed has no usable status, whatever it says. */
	CHECK_INT(delivery_classify(200, true), DELIVERY_RETRY);
	CHECK_INT(delivery_classify(0, true), DELIVERY_RETRY);
	/* No status at all (nothing came back): retried. */
	CHECK_INT(delivery_classify(0, false), DELIVERY_RETRY);
}

static void t_classify_client_errors(void)
{
	CHECK_INT(delivery_classify(410, false), DELIVERY_GONE);
	/* 401 (a key not yet fetched there), 408 and 429 are temporary. */
	CHECK_INT(delivery_classify(401, false), DELIVERY_RETRY);
	CHECK_INT(delivery_classify(408, false), DELIVERY_RETRY);
	CHECK_INT(delivery_classify(429, false), DELIVERY_RETRY);
	/* Every other 4xx is a permanent refusal. */
	for (long s = 400; s < 500; s++) {
		if (s == 401 || s == 408 || s == 429 || s == 410)
			continue;
		CHECK_INT(delivery_classify(s, false), DELIVERY_DROP);
	}
	/* 1xx and 3xx (redirects are not followed for a POST) are refused. */
	CHECK_INT(delivery_classify(100, false), DELIVERY_DROP);
	CHECK_INT(delivery_classify(301, false), DELIVERY_DROP);
	CHECK_INT(delivery_classify(302, false), DELIVERY_DROP);
	CHECK_INT(delivery_classify(304, false), DELIVERY_DROP);
}

static void t_classify_server_errors(void)
{
	for (long s = 500; s < 600; s++)
		CHECK_INT(delivery_classify(s, false), s == 501 ? DELIVERY_DROP : DELIVERY_RETRY);
	CHECK_INT(delivery_classify(503, false), DELIVERY_RETRY);
	/* 501 Not Implemented will not change with time (Mastodon agrees). */
	CHECK_INT(delivery_classify(501, false), DELIVERY_DROP);
	CHECK_INT(delivery_classify(599, false), DELIVERY_RETRY);
}

/* The smallest and largest of DRAWS delays for (attempts, retry_after). */
static void backoff_range(int attempts, time_t retry_after, time_t *lo, time_t *hi)
{
	*lo = delivery_backoff(attempts, retry_after);
	*hi = *lo;
	for (int i = 1; i < DRAWS; i++) {
		time_t d = delivery_backoff(attempts, retry_after);
		if (d < *lo)
			*lo = d;
		if (d > *hi)
			*hi = d;
	}
}

static void t_backoff_schedule(void)
{
	/* n = attempts - 1: n^4 + 15 + rand(n^4/2 + 1) + rand(10 (n + 1)). */
	for (int attempts = 1; attempts < DELIVERY_ATTEMPTS_MAX; attempts++) {
		uint64_t n = (uint64_t)attempts - 1, n4 = n * n * n * n;
		time_t lo, hi;
		backoff_range(attempts, 0, &lo, &hi);
		CHECK((uint64_t)lo >= n4 + 15);
		CHECK((uint64_t)hi <= n4 + 15 + n4 / 2 + 10 * (n + 1) - 1);
		/* The jitter is there: not one fixed delay. */
		CHECK(hi > lo);
	}
	/* The first retry comes within 15..24 s. */
	{
		time_t lo, hi;
		backoff_range(1, 0, &lo, &hi);
		CHECK(lo >= 15 && hi <= 24);
	}
	/* attempts 0 (none recorded) waits as for the first. */
	for (int i = 0; i < 100; i++) {
		time_t d = delivery_backoff(0, 0);
		CHECK(d >= 15 && d <= 24);
	}
}

static void t_backoff_grows(void)
{
	time_t prev_lo = 0, prev_hi = 0;

	/* Both the shortest and the longest wait grow with every retry. */
	for (int attempts = 1; attempts < DELIVERY_ATTEMPTS_MAX; attempts++) {
		time_t lo, hi;
		backoff_range(attempts, 0, &lo, &hi);
		CHECK(lo > prev_lo);
		CHECK(hi > prev_hi);
		prev_lo = lo;
		prev_hi = hi;
	}
}

static void t_backoff_total(void)
{
	/* The 16 waits between the 17 attempts: at least the sum of n^4 + 15
	 * (about 2.1 days), at most with full jitter (about 3.1 days): the
	 * order of Mastodon's own schedule. */
	uint64_t lo_sum = 0, hi_sum = 0;

	CHECK_INT(DELIVERY_ATTEMPTS_MAX, 17);
	for (int attempts = 1; attempts < DELIVERY_ATTEMPTS_MAX; attempts++) {
		uint64_t n = (uint64_t)attempts - 1, n4 = n * n * n * n;
		lo_sum += n4 + 15;
		hi_sum += n4 + 15 + n4 / 2 + 10 * (n + 1) - 1;
	}
	CHECK(lo_sum > 2 * 86400 && lo_sum < 3 * 86400);
	CHECK(hi_sum > 3 * 86400 && hi_sum < 4 * 86400);
	{
		uint64_t sum = 0;
		for (int attempts = 1; attempts < DELIVERY_ATTEMPTS_MAX; attempts++)
			sum += (uint64_t)delivery_backoff(attempts, 0);
		CHECK(sum >= lo_sum && sum <= hi_sum);
	}
}

static void t_backoff_retry_after(void)
{
	time_t lo, hi;

	/* A longer Retry-After wins over the schedule... */
	backoff_range(1, 3600, &lo, &hi);
	CHECK_INT(lo, 3600);
	CHECK_INT(hi, 3600);
	/* ... a shorter one does not shorten it ... */
	backoff_range(5, 1, &lo, &hi);
	CHECK(lo >= 4 * 4 * 4 * 4 + 15);
	/* ... and a huge one is capped at DELIVERY_RETRY_AFTER_MAX. */
	backoff_range(1, 365 * 86400, &lo, &hi);
	CHECK_INT(lo, DELIVERY_RETRY_AFTER_MAX);
	CHECK_INT(hi, DELIVERY_RETRY_AFTER_MAX);
	CHECK_INT(DELIVERY_RETRY_AFTER_MAX, 24 * 3600);
	/* Even the last retry's schedule (n = 15: 50625 s plus jitter) stays
	 * below the cap, so the capped Retry-After decides it. */
	backoff_range(DELIVERY_ATTEMPTS_MAX - 1, 365 * 86400, &lo, &hi);
	CHECK_INT(lo, DELIVERY_RETRY_AFTER_MAX);
	CHECK_INT(hi, DELIVERY_RETRY_AFTER_MAX);
	/* Zero and negative mean none. */
	backoff_range(1, 0, &lo, &hi);
	CHECK(lo >= 15 && hi <= 24);
	backoff_range(1, -100, &lo, &hi);
	CHECK(lo >= 15 && hi <= 24);
}

static const struct check_case cases[] = {
    {"classify_success", t_classify_success},
    {"classify_client_errors", t_classify_client_errors},
    {"classify_server_errors", t_classify_server_errors},
    {"backoff_schedule", t_backoff_schedule},
    {"backoff_grows", t_backoff_grows},
    {"backoff_total", t_backoff_total},
    {"backoff_retry_after", t_backoff_retry_after},
};

CHECK_MAIN(cases)
