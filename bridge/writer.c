/*
 * writer.c — see writer.h.
 */
#include "writer.h"
#include "log.h"
#include "writer_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct writer {
	struct store *st;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work; /* jobs queued, or stopping (on CLOCK_MONOTONIC) */
	struct writer_job *head, *tail;
	size_t queued;		  /* jobs in head .. tail */
	bool idle;		  /* waiting for a first job */
	bool gathering;		  /* waiting for WRITER_GATHER_JOBS, or WRITER_GATHER_US */
	long long last_commit_us; /* when the last batch ended */
	bool stopping;
};

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Under load (the last batch ended less than WRITER_BUSY_US ago), a batch
 * of fewer than WRITER_GATHER_JOBS jobs waits up to WRITER_GATHER_US for
 * more to share its commit: one fsync and one write of each changed page
 * for all of them.  An inbox at rest commits a lone job at once. */
static void gather(struct writer *w)
{
	long long start = now_us();
	struct timespec until;
	long long end;

	if (start - w->last_commit_us >= WRITER_BUSY_US)
		return;
	end = start + WRITER_GATHER_US;
	until.tv_sec = (time_t)(end / 1000000);
	until.tv_nsec = (long)(end % 1000000) * 1000;
	w->gathering = true;
	while (w->queued < WRITER_GATHER_JOBS && !w->stopping)
		if (pthread_cond_timedwait(&w->work, &w->lock, &until) == ETIMEDOUT)
			break;
	w->gathering = false;
}

void writer_batch_apply(struct store *st, struct writer_job *jobs)
{
	struct err e = {0};
	enum bb_rc rc = store_begin(st, &e);

	for (struct writer_job *j = jobs; j; j = j->next) {
		if (rc != BB_OK) {
			j->rc = rc;
			j->err = e;
			continue;
		}
		j->rc = store_savepoint(st, &j->err);
		if (j->rc == BB_OK)
			j->rc = j->fn(st, j->arg, &j->err);
		if (j->rc == BB_OK)
			j->rc = store_savepoint_release(st, &j->err);
		else
			store_savepoint_rollback(st);
	}
	if (rc == BB_OK && (rc = store_commit(st, &e)) != BB_OK) {
		store_rollback(st);
		for (struct writer_job *j = jobs; j; j = j->next) {
			if (j->rc == BB_OK) {
				j->rc = rc;
				j->err = e;
			}
		}
	}
	if (rc != BB_OK)
		log_error("store: %s", e.msg);
}

struct writer_job *writer_batch_take(struct writer_job **head, struct writer_job **tail, size_t max)
{
	struct writer_job *batch = *head, *last = *head;
	size_t n = 1;

	while (last->next && n < max) {
		last = last->next;
		n++;
	}
	*head = last->next;
	if (*head == NULL)
		*tail = NULL;
	last->next = NULL;
	return batch;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct writer_job *batch;

		w->idle = true;
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->work, &w->lock);
		w->idle = false;
		if (w->head == NULL)
			break;
		gather(w);
		/* Take up to WRITER_BATCH_MAX jobs; the rest wait a turn. */
		batch = writer_batch_take(&w->head, &w->tail, WRITER_BATCH_MAX);
		for (struct writer_job *j = batch; j; j = j->next)
			w->queued--;
		pthread_mutex_unlock(&w->lock);
		writer_batch_apply(w->st, batch);
		pthread_mutex_lock(&w->lock);
		w->last_commit_us = now_us();
		/* Each submitter is woken alone, not every waiting one: those
		 * queued for the next batch sleep on.  A job is on its
		 * submitter's stack, gone once it sees done: next is read
		 * first (the lock keeps it until this loop ends anyway). */
		for (struct writer_job *j = batch, *next; j; j = next) {
			next = j->next;
			j->done = true;
			pthread_cond_signal(&j->wake);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* A condition variable whose timed waits run on CLOCK_MONOTONIC. */
static bool work_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t a;
	bool ok;

	if (pthread_condattr_init(&a) != 0)
		return false;
	ok = pthread_condattr_setclock(&a, CLOCK_MONOTONIC) == 0 && pthread_cond_init(c, &a) == 0;
	pthread_condattr_destroy(&a);
	return ok;
}

enum bb_rc writer_start(const char *database, struct writer **out, struct err *e)
{
	struct writer *w = calloc(1, sizeof(*w));
	enum bb_rc rc;

	*out = NULL;
	if (w == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	rc = store_open(database, &w->st, e);
	if (rc != BB_OK) {
		free(w);
		return rc;
	}
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		store_close(w->st);
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot create the writer's lock");
	}
	if (!work_cond_init(&w->work)) {
		store_close(w->st);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot create the writer's condition variable");
	}
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		store_close(w->st);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->work);
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot start the writer thread");
	}
	*out = w;
	return BB_OK;
}

enum bb_rc writer_run(struct writer *w, writer_job_fn fn, void *arg, struct err *e)
{
	struct writer_job job = {.fn = fn, .arg = arg};

	if (pthread_cond_init(&job.wake, NULL) != 0)
		return err_set(e, BB_ERR_NOMEM, "cannot create a condition variable");
	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		pthread_cond_destroy(&job.wake);
		return err_set(e, BB_ERR_TEMPFAIL, "shutting down");
	}
	if (w->tail)
		w->tail->next = &job;
	else
		w->head = &job;
	w->tail = &job;
	w->queued++;
	/* The writer waits for a first job, or gathers until it has enough. */
	if (w->idle || (w->gathering && w->queued >= WRITER_GATHER_JOBS))
		pthread_cond_signal(&w->work);
	while (!job.done)
		pthread_cond_wait(&job.wake, &w->lock);
	pthread_mutex_unlock(&w->lock);
	pthread_cond_destroy(&job.wake);
	if (job.rc != BB_OK && e)
		*e = job.err;
	return job.rc;
}

void writer_stop(struct writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	store_close(w->st);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->work);
	free(w);
}
