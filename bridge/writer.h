/*
 * writer.h — one thread that commits many requests' changes at once.
 *
 * With synchronous=FULL every commit waits for the disk; an inbox that
 * committed each activity alone would be bounded by fsyncs per second.
 * The writer takes every job queued while the previous commit ran (under
 * load, a small batch waits a moment for more: see WRITER_GATHER_US), applies
 * each inside its own savepoint (one failing job does not undo the
 * others), commits once, and wakes the submitters: each learns its own
 * result only after the commit is durable, so a 202 still means stored.
 */
#ifndef BB_WRITER_H
#define BB_WRITER_H

#include "err.h"
#include "store.h"

struct writer;

/* Applies a job's changes through st; a non-BB_OK return undoes them. */
typedef enum bb_rc (*writer_job_fn)(struct store *st, void *arg, struct err *e);

#define WRITER_BATCH_MAX 512
/* Group commit under load (writer.c's gather): a small batch waits up to
 * WRITER_GATHER_US for WRITER_GATHER_JOBS jobs, when the last batch ended
 * less than WRITER_BUSY_US ago. */
#define WRITER_GATHER_US 1000
#define WRITER_GATHER_JOBS 32
#define WRITER_BUSY_US 5000

/* Opens the writer's own connection to database and starts its thread. */
enum bb_rc writer_start(const char *database, struct writer **out, struct err *e) BB_MUST_CHECK;

/* Runs fn(arg) in the next batch and waits until it is committed (or
 * failed).  Thread-safe. */
enum bb_rc writer_run(struct writer *w, writer_job_fn fn, void *arg, struct err *e)
    BB_MUST_CHECK;

/* Finishes the queued jobs, then stops the thread and closes. */
void writer_stop(struct writer *w);

#endif
