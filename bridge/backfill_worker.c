/*
 * backfill_worker.c — see backfill_worker.h.
 */
#include "backfill_worker.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct backfill_worker {
	struct app *app;
	struct comments_env cenv;
	struct backfill *bf;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;			  /* notes queued, or stopping */
	json_t *queue[BACKFILL_WORKER_QUEUE_MAX]; /* under lock */
	size_t nqueue;
	bool stopping;
};

static void comments_env_of(struct app *app, struct comments_env *out)
{
	*out = (struct comments_env){&app->site, app->cfg->blocked_domains, app->inbox.moderation,
				     app->inbox.notify};
}

static enum bb_rc write_writer(void *warg, backfill_job_fn fn, void *arg, struct err *e)
{
	return writer_run(warg, fn, arg, e);
}

/* A transaction of the calling thread's own (no writer: the CLI). */
static enum bb_rc write_direct(void *warg, backfill_job_fn fn, void *arg, struct err *e)
{
	struct store *st = warg;
	enum bb_rc rc = store_begin(st, e);

	if (rc != BB_OK)
		return rc;
	rc = fn(st, arg, e);
	if (rc == BB_OK)
		rc = store_commit(st, e);
	if (rc != BB_OK)
		store_rollback(st);
	return rc;
}

static void *worker_main(void *arg)
{
	struct backfill_worker *w = arg;
	struct timespec tick;
	bool stop = false;

	clock_gettime(CLOCK_MONOTONIC, &tick);
	tick.tv_sec += BACKFILL_WORKER_TICK_S;
	while (!stop) {
		json_t *notes[BACKFILL_WORKER_QUEUE_MAX];
		struct timespec now;
		struct err e = {0};
		struct store *st;
		size_t n;
		bool slow;

		pthread_mutex_lock(&w->lock);
		while (!w->stopping && w->nqueue == 0 &&
		       pthread_cond_timedwait(&w->wake, &w->lock, &tick) != ETIMEDOUT)
			;
		stop = w->stopping;
		n = w->nqueue;
		memcpy(notes, w->queue, n * sizeof(notes[0]));
		w->nqueue = 0;
		pthread_mutex_unlock(&w->lock);
		clock_gettime(CLOCK_MONOTONIC, &now);
		slow = now.tv_sec >= tick.tv_sec;
		if (slow)
			tick.tv_sec = now.tv_sec + BACKFILL_WORKER_TICK_S;
		st = stop ? NULL : app_store(w->app, &e);
		for (size_t i = 0; i < n; i++) {
			if (st != NULL &&
			    backfill_note_add(w->bf, st, notes[i], time(NULL), &e) != BB_OK)
				log_warn("backfill: %s", e.msg);
			json_decref(notes[i]);
		}
		if (stop)
			break;
		if (st == NULL) {
			log_warn("backfill: %s", e.msg);
			continue;
		}
		if (backfill_pass(w->bf, st, slow, time(NULL), NULL, &e) != BB_OK)
			log_warn("backfill: %s", e.msg);
	}
	return NULL;
}

enum bb_rc backfill_worker_start(struct app *app, struct backfill_worker **out, struct err *e)
{
	pthread_condattr_t attr;
	struct backfill_worker *w;
	struct backfill_env env;
	bool cond_ok = false;

	*out = NULL;
	if (!app->cfg->backfill)
		return BB_OK;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	w->app = app;
	comments_env_of(app, &w->cenv);
	env = (struct backfill_env){&w->cenv, &app->fetch, write_writer, app->writer};
	w->bf = backfill_new(&env);
	if (w->bf == NULL) {
		free(w);
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	if (pthread_condattr_init(&attr) == 0) {
		cond_ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
			  pthread_cond_init(&w->wake, &attr) == 0;
		pthread_condattr_destroy(&attr);
	}
	if (!cond_ok || pthread_mutex_init(&w->lock, NULL) != 0) {
		if (cond_ok)
			pthread_cond_destroy(&w->wake);
		backfill_free(w->bf);
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot create the backfill's lock");
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		backfill_free(w->bf);
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot start the backfill thread");
	}
	*out = w;
	return BB_OK;
}

/* A string member of v, or of the object at v's key: its id. */
static const char *id_member(const json_t *v, const char *key)
{
	const json_t *m = json_object_get(v, key);

	if (json_is_object(m))
		m = json_object_get(m, "id");
	return json_is_string(m) && strlen(json_string_value(m)) <= FETCH_URL_MAX
		   ? json_string_value(m)
		   : NULL;
}

void backfill_worker_notify(struct backfill_worker *w, const json_t *note)
{
	json_t *brief;

	if (w == NULL || note == NULL || id_member(note, "id") == NULL)
		return;
	/* What the backfill reads of the note, and no more: the queue holds
	 * a few URLs per entry, not a document of up to a megabyte, and
	 * shares nothing with the request's thread. */
	brief = json_pack("{s:s, s:s*, s:s*}", "id", id_member(note, "id"), "replies",
			  id_member(note, "replies"), "context", id_member(note, "context"));
	if (brief == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	if (!w->stopping && w->nqueue < BACKFILL_WORKER_QUEUE_MAX) {
		w->queue[w->nqueue++] = brief;
		brief = NULL;
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->lock);
	json_decref(brief);
}

void backfill_worker_stop(struct backfill_worker *w)
{
	if (w == NULL)
		return;
	backfill_cancel(w->bf);
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	for (size_t i = 0; i < w->nqueue; i++)
		json_decref(w->queue[i]);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	backfill_free(w->bf);
	free(w);
}

enum bb_rc backfill_run_once(struct app *app, struct backfill_stats *out, struct err *e)
{
	struct comments_env cenv;
	struct backfill_env env;
	struct backfill *bf;
	struct store *st = app_store(app, e);
	enum bb_rc rc;

	if (st == NULL)
		return e->code;
	comments_env_of(app, &cenv);
	env = (struct backfill_env){&cenv, &app->fetch, write_direct, st};
	bf = backfill_new(&env);
	if (bf == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	rc = backfill_pass(bf, st, true, time(NULL), out, e);
	backfill_free(bf);
	return rc;
}
