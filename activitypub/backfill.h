/*
 * backfill.h — replies that never reached the inbox, fetched: a reply to
 * a reply on a server that does not deliver to us, a reply written while
 * the bridge was down.
 *
 * What is read: the `replies` collection of each comment (on the
 * comment's own host, as Mastodon requires: json_ld_helper.rb:320-325)
 * and its `context` (FEP-7888: the collection of the conversation;
 * Mastodon publishes one and never reads it, MASTODON.md §7.2), as
 * Collection, OrderedCollection or their pages, following `first` and
 * `next` (pages on the collection's host only), items given as URIs or
 * objects, or activities (FEP-f228) whose object is taken.  When: the
 * collections of a comment just stored (store_backfill rows, due at
 * once), and again every BACKFILL_INTERVAL_S while the post is younger
 * than BACKFILL_YOUNG_S; a comment stored without them (older data) is
 * read once from its origin to learn them.  Nothing is fetched twice
 * within an interval: a collection by its row, an item fetched and not
 * imported by a row of its own, a comment already stored not at all.
 *
 * What is believed: each item as an inbox Create's object would be
 * (comments_resolve): an embedded item only when its id and attributedTo
 * are on the host that served the page (the origin vouching for its own
 * accounts); otherwise the copy its origin serves (signed GET, id equal
 * to the URI, attributedTo on the id's host).  It is imported (through
 * comments_apply, moderation included) only when it answers one of our
 * posts or a stored comment; its own collections are then read in turn,
 * BACKFILL_DEPTH_MAX levels at most.  Items that answer one not yet
 * stored are tried again after the others of their collection.  Blocked
 * domains and actors, and our own host, are never fetched.
 *
 * Bounds: BACKFILL_PAGES_MAX documents per collection, BACKFILL_ITEMS_MAX
 * items per collection, BACKFILL_POST_ITEMS_MAX items fetched per post
 * and hour, BACKFILL_HOST_PER_MIN fetches per minute per server (a pass
 * waits for the next minute), BACKFILL_PER_HOUR fetches per hour in all
 * (a pass stops), BACKFILL_ROWS_PER_PASS rows per pass.  A server that
 * fails (network, timeout, 5xx, 429) is skipped for BACKFILL_HOST_SKIP_S;
 * a row failing BACKFILL_FAILURES_MAX times in a row is given up.
 *
 * One thread runs passes; backfill_cancel may be called from another.
 * Reads go through the caller's store connection, writes through the
 * env's write function (the serve's writer, or a transaction of the
 * caller's own), one short transaction per change.
 */
#ifndef BB_BACKFILL_H
#define BB_BACKFILL_H

#include "comments.h"
#include "err.h"
#include "fetch.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define BACKFILL_INTERVAL_S (6 * 3600)	  /* a collection is read again after this */
#define BACKFILL_YOUNG_S (30 * 24 * 3600) /* ... while its post is younger than this */
#define BACKFILL_PAGES_MAX 10		  /* documents per collection (itself and pages) */
#define BACKFILL_ITEMS_MAX 100		  /* items looked at per collection */
#define BACKFILL_POST_ITEMS_MAX 200	  /* items fetched per post and hour */
#define BACKFILL_DEPTH_MAX 8		  /* levels of replies read below a comment */
#define BACKFILL_HOST_PER_MIN 30	  /* fetches per minute per server */
#define BACKFILL_PER_HOUR 1000		  /* fetches per hour in all */
#define BACKFILL_HOST_SKIP_S 3600	  /* a failing server is left alone this long */
#define BACKFILL_FAILURES_MAX 5		  /* failures in a row before a row is given up */
#define BACKFILL_ROWS_PER_PASS 200	  /* rows read per pass */
#define BACKFILL_FETCH_TIMEOUT_S 8	  /* one fetch, all hops (a pass stops promptly) */

/* Runs fn(st, arg) in a transaction of its own and returns its result
 * (the serve's writer_run, or a caller's BEGIN/COMMIT). */
typedef enum bb_rc (*backfill_job_fn)(struct store *st, void *arg, struct err *e);
typedef enum bb_rc (*backfill_write_fn)(void *warg, backfill_job_fn fn, void *arg, struct err *e);

struct backfill_env {
	const struct comments_env *comments; /* site, blocked domains, moderation */
	const struct fetch_config *fetch;    /* copied; its timeout lowered */
	backfill_write_fn write;
	void *write_arg;
};

/* What a pass did. */
struct backfill_stats {
	size_t rows;	 /* collections and comment objects read */
	size_t fetches;	 /* GETs made (actor documents counted by two) */
	size_t imported; /* new comments */
	size_t refused;	 /* items not believed, or answering nothing of ours */
	size_t skipped;	 /* rows left alone: their server is failing */
	size_t failed;	 /* rows whose document could not be read */
	bool limited;	 /* stopped by the hourly budget */
};

struct backfill;

/* A backfill with env (copied; what it points to must outlive it); NULL
 * when out of memory. */
struct backfill *backfill_new(const struct backfill_env *env);
void backfill_free(struct backfill *bf);

/* Makes a pass in progress (or a wait for a server's budget) end soon;
 * later passes end at once.  Thread-safe. */
void backfill_cancel(struct backfill *bf);

/* note (a note as believed, e.g. an inbox Create's object) has just been
 * stored as a comment: its collections become rows due now (and the
 * comment is marked known, so it is never read for them).  A note that is
 * no comment changes nothing. */
enum bb_rc backfill_note_add(struct backfill *bf, struct store *st, const json_t *note, time_t now,
			     struct err *e) BB_MUST_CHECK;

/* One pass: with probe, first the comments that have no row get one (the
 * slow, periodic pass); then the due rows, within the bounds.  *out (may
 * be NULL) says what was done.  Fails only when the store does; a server
 * that fails is a row's outcome, not the pass's. */
enum bb_rc backfill_pass(struct backfill *bf, struct store *st, bool probe, time_t now,
			 struct backfill_stats *out, struct err *e) BB_MUST_CHECK;

#endif
