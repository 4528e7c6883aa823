/*
 * backfill_worker.h — the reply backfill (activitypub/backfill.h) in the
 * running bridge, and for one pass on the command line.
 *
 * serve: one thread.  The inbox hands it each note it has just stored as
 * a comment (backfill_worker_notify: a bounded queue; a note that does
 * not fit is found later by the periodic pass, which reads the comments
 * without collections from their origin); the thread records the note's
 * collections and reads what is due, writing through the serve's writer.
 * Every BACKFILL_WORKER_TICK_S it makes the slow pass: the collections of
 * the comments on posts younger than BACKFILL_YOUNG_S, each once per
 * BACKFILL_INTERVAL_S.  Off when [comments] backfill = false.
 *
 * `comments backfill`: backfill_run_once makes that slow pass now, on
 * the calling thread, each change in a transaction of its own.
 */
#ifndef BB_BACKFILL_WORKER_H
#define BB_BACKFILL_WORKER_H

#include "app.h"
#include "backfill.h"
#include "err.h"

#include <jansson.h>

#define BACKFILL_WORKER_QUEUE_MAX 256 /* notes waiting for the thread */
#define BACKFILL_WORKER_TICK_S 600    /* between slow passes (the first one tick after start) */

struct backfill_worker;

/* Starts the thread (app's writer must be running); *out NULL and BB_OK
 * when the config turns the backfill off. */
enum bb_rc backfill_worker_start(struct app *app, struct backfill_worker **out,
				 struct err *e) BB_MUST_CHECK;

/* note (borrowed: its id, replies and context are copied) was just
 * stored by the inbox.  Thread-safe, never blocks; w may be NULL (off). */
void backfill_worker_notify(struct backfill_worker *w, const json_t *note);

/* Ends a pass in progress soon, stops the thread; NULL is fine. */
void backfill_worker_stop(struct backfill_worker *w);

/* One slow pass now with the calling thread's store. */
enum bb_rc backfill_run_once(struct app *app, struct backfill_stats *out,
			     struct err *e) BB_MUST_CHECK;

#endif
