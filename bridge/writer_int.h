/*
 * writer_int.h — the writer's batching, for its own file and the tests.
 *
 * A job lives on its submitter's stack while it waits; the writer thread
 * takes a batch off the queue's head (writer_batch_take) and applies it in
 * one transaction, one savepoint a job (writer_batch_apply).  Both run
 * with no lock of their own: the caller holds the queue's lock for the
 * first, and owns the store connection for the second.
 */
#ifndef BB_WRITER_INT_H
#define BB_WRITER_INT_H

#include "writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct writer_job {
	writer_job_fn fn;
	void *arg;
	enum bb_rc rc;
	struct err err;
	bool done;
	pthread_cond_t wake; /* signalled (under the queue's lock) once done */
	struct writer_job *next;
};

/* Detaches up to max (>= 1) jobs from the front of the non-empty queue
 * *head .. *tail and returns the first, the last one's next set to NULL;
 * *head becomes the first job left (*tail NULL when none is). */
struct writer_job *writer_batch_take(struct writer_job **head, struct writer_job **tail,
				     size_t max);

/* Applies the jobs in one transaction on st, each in its own savepoint:
 * a job that fails is undone alone, and sets its rc and err.  When the
 * transaction cannot begin, every job fails with that error; when it
 * cannot commit (BB_ERR_TEMPFAIL for a full disk), every job that had
 * succeeded does.  Either way nothing of the batch remains. */
void writer_batch_apply(struct store *st, struct writer_job *jobs);

#endif
