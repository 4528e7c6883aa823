/*
 * poller.h — feed intake: read the blog's feed when it is due, and hand
 * its items to activitypub/publish.c, which stores each post and queues
 * what the followers must receive (see publish.h for new, edited and
 * unchanged items).
 *
 * The feed is a local file or an http(s) URL, fetched with a conditional
 * GET (ETag / Last-Modified kept in the store), bounded in size
 * (FEED_BYTES_MAX) and time.  The feed URL is the admin's own blog, so it
 * may be on a private address.  The very first import only fills the
 * outbox (followers must not get ten old posts at once) unless
 * deliver_existing is set.  A broken or unreachable feed is logged, and
 * recorded for the overview (poller_last); the next poll retries.
 * After a move (move.h) the feed is no longer read: the posts already
 * published are still served, nothing new is.
 */
#ifndef BB_POLLER_H
#define BB_POLLER_H

#include "app.h"
#include "err.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct poll_result {
	bool not_modified; /* 304, or the file unchanged since last time */
	size_t items;      /* in the feed */
	size_t created;    /* new posts federated (Create queued) */
	size_t imported;   /* new posts stored without delivery (first import) */
	size_t updated;    /* changed posts (Update queued) */
	size_t unchanged;
	size_t deliveries; /* rows queued in all */
	char moved_to[2048]; /* the blog has moved (move.h): the feed was not read; else "" */
};

/* The last poll, as every poll (serve's and `blogbridge poll`) records it
 * in the store: when, its result, and what it found.  A poll stopped by
 * poller_stop is not recorded. */
enum poll_outcome {
	POLL_OK,	   /* read and stored */
	POLL_NOT_MODIFIED, /* 304, or the file unchanged */
	POLL_ERROR,	   /* failed: error says why */
};

struct poll_record {
	time_t at;
	enum poll_outcome outcome;
	char error[BB_ERR_MSG_MAX]; /* POLL_ERROR: the poll's error, else "" */
	int64_t items, created, imported, updated, unchanged;
	time_t last_ok; /* the last poll that was not an error; 0: none */
};

/* "ok", "not modified", "error". */
const char *poll_outcome_name(enum poll_outcome o);

/* Reads the last poll's record; BB_ERR_NOTFOUND when none was recorded. */
enum bb_rc poller_last(struct store *st, struct poll_record *out, struct err *e) BB_MUST_CHECK;

/* Reads the feed once with the calling thread's store connection. */
enum bb_rc poller_run_once(struct app *app, bool deliver_existing, struct poll_result *out,
			   struct err *e) BB_MUST_CHECK;

/* serve: a thread polling every poll_interval (the first poll at start),
 * waking the delivery worker when something was queued. */
struct poller;
enum bb_rc poller_start(struct app *app, struct poller **out, struct err *e) BB_MUST_CHECK;
void poller_stop(struct poller *p);

#endif
