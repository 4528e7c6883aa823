/*
 * writer.c — see writer.h.
 */
#include "writer.h"
#include "log.h"
#include "writer_int.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct writer {
	struct store *st;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;  /* jobs queued, or stopping */
	pthread_cond_t done;  /* a batch finished */
	struct writer_job *head, *tail;
	bool stopping;
};

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

		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->work, &w->lock);
		if (w->head == NULL)
			break;
		/* Take up to WRITER_BATCH_MAX jobs; the rest wait a turn. */
		batch = writer_batch_take(&w->head, &w->tail, WRITER_BATCH_MAX);
		pthread_mutex_unlock(&w->lock);
		writer_batch_apply(w->st, batch);
		pthread_mutex_lock(&w->lock);
		for (struct writer_job *j = batch; j; j = j->next)
			j->done = true;
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
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
	if (pthread_cond_init(&w->work, NULL) != 0) {
		store_close(w->st);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot create the writer's condition variable");
	}
	if (pthread_cond_init(&w->done, NULL) != 0) {
		store_close(w->st);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->work);
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot create the writer's condition variable");
	}
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		store_close(w->st);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->work);
		pthread_cond_destroy(&w->done);
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot start the writer thread");
	}
	*out = w;
	return BB_OK;
}

enum bb_rc writer_run(struct writer *w, writer_job_fn fn, void *arg, struct err *e)
{
	struct writer_job job = {.fn = fn, .arg = arg};

	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		return err_set(e, BB_ERR_TEMPFAIL, "shutting down");
	}
	if (w->tail)
		w->tail->next = &job;
	else
		w->head = &job;
	w->tail = &job;
	pthread_cond_signal(&w->work);
	while (!job.done)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
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
	pthread_cond_destroy(&w->done);
	free(w);
}
