/*
 * poller.c — see poller.h.  Feed intake in three steps: read the feed
 * (a local file, or an http(s) URL with a conditional GET: feed_fetch.c),
 * parse it (feed.c), and hand the items to publish.c, which decides for
 * each whether it is new, edited or unchanged and stores what the
 * followers must receive.
 *
 * Validators (ETag, Last-Modified, a local file's mtime, size and inode)
 * are saved only after a poll whose items were all stored, and only for
 * the configuration that produced them (a fingerprint of the feed source
 * and rendering options): a failed poll, or a change of options, reads and
 * compares the whole feed again next time.
 *
 * A failure stops the poll and leaves the items after it to the next one.
 * The poll thread (serve) sleeps on a condition variable and aborts an
 * HTTP transfer in progress, so poller_stop returns at once.
 */
#include "poller.h"
#include "buf.h"
#include "digest.h"
#include "feed.h"
#include "feed_fetch.h"
#include "log.h"
#include "publish.h"
#include "store.h"
#include "text.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Store meta keys. */
#define META_SOURCE "feed_source" /* fingerprint the validators belong to */
#define META_ETAG "feed_etag"
#define META_LAST_MODIFIED "feed_last_modified"
#define META_FILE_STAMP "feed_file_stamp"
#define META_IMPORTED "feed_imported" /* "1" once the first import happened */
/* The last poll (poll_record): a key per field. */
#define META_POLL_AT "feed_poll_at"
#define META_POLL_OUTCOME "feed_poll_outcome"
#define META_POLL_ERROR "feed_poll_error"
#define META_POLL_COUNTS "feed_poll_counts" /* items created imported updated unchanged */
#define META_POLL_OK_AT "feed_poll_ok_at"

/* What the validators were saved for: the feed, the rendering options and
 * this build's object rendering. */
static enum bb_rc source_fingerprint(const struct app *app, char out[DIGEST_SHA256_HEX_LEN],
				     struct err *e)
{
	const struct config *cfg = app->cfg;
	struct buf b;
	enum bb_rc rc;

	buf_init(&b, 4 * FEED_URL_MAX);
	rc = buf_printf(&b, "%s\n%s\n%d\n%d\n%s\n%s\n%s", cfg->feed, cfg->base_url,
			(int)cfg->object_type, (int)cfg->note_content,
			cfg->language ? cfg->language : "", cfg->tag_url ? cfg->tag_url : "",
			BB_VERSION);
	if (rc == BB_OK)
		rc = digest_sha256_hex(b.data, b.len, out);
	buf_free(&b);
	if (rc != BB_OK)
		return err_set(e, rc, "cannot fingerprint the feed source");
	return BB_OK;
}

/* A meta value, or NULL when unset (*out); BB_OK either way. */
static enum bb_rc meta_get_opt(struct store *st, const char *key, char **out, struct err *e)
{
	enum bb_rc rc = store_meta_get(st, key, out, e);

	if (rc == BB_ERR_NOTFOUND) {
		*out = NULL;
		err_clear(e);
		return BB_OK;
	}
	return rc;
}

/* Reads the feed, conditionally when the validators are for this source. */
static enum bb_rc feed_read(struct app *app, struct store *st, const char *fingerprint, time_t now,
			    const atomic_bool *cancel, struct feed_doc *d, struct err *e)
{
	char *source = NULL, *etag = NULL, *modified = NULL, *stamp = NULL;
	enum bb_rc rc;

	buf_init(&d->body, FEED_BYTES_MAX);
	rc = meta_get_opt(st, META_SOURCE, &source, e);
	if (rc != BB_OK)
		goto out;
	if (source != NULL && strcmp(source, fingerprint) == 0 &&
	    ((rc = meta_get_opt(st, META_ETAG, &etag, e)) != BB_OK ||
	     (rc = meta_get_opt(st, META_LAST_MODIFIED, &modified, e)) != BB_OK ||
	     (rc = meta_get_opt(st, META_FILE_STAMP, &stamp, e)) != BB_OK))
		goto out;
	if (app->cfg->feed_is_url) {
		struct feed_fetch_opts o = {.url = app->cfg->feed,
					    .user_agent = app->fetch.user_agent,
					    .etag = etag,
					    .last_modified = modified,
					    .cancel = cancel};
		rc = feed_fetch_http(&o, d, e);
	} else
		rc = feed_fetch_file(app->cfg->feed, stamp, now, d, e);
out:
	free(source);
	free(etag);
	free(modified);
	free(stamp);
	return rc;
}

/* Saves what the next poll sends or compares: after every item is stored. */
static enum bb_rc validators_save(struct store *st, const char *fingerprint,
				  const struct feed_doc *d, bool first_import, struct err *e)
{
	enum bb_rc rc = store_begin(st, e);

	if (rc != BB_OK)
		return rc;
	if ((rc = store_meta_set(st, META_SOURCE, fingerprint, e)) != BB_OK ||
	    (rc = store_meta_set(st, META_ETAG, d->etag, e)) != BB_OK ||
	    (rc = store_meta_set(st, META_LAST_MODIFIED, d->last_modified, e)) != BB_OK ||
	    (rc = store_meta_set(st, META_FILE_STAMP, d->file_stamp, e)) != BB_OK ||
	    (first_import && (rc = store_meta_set(st, META_IMPORTED, "1", e)) != BB_OK) ||
	    (rc = store_commit(st, e)) != BB_OK)
		store_rollback(st);
	return rc;
}

/* ---- the last poll's record ------------------------------------------------ */

static const char *const outcome_names[] = {
    [POLL_OK] = "ok", [POLL_NOT_MODIFIED] = "not modified", [POLL_ERROR] = "error"};

const char *poll_outcome_name(enum poll_outcome o)
{
	return (unsigned)o < sizeof(outcome_names) / sizeof(outcome_names[0]) ? outcome_names[o]
									     : "error";
}

/* Records the poll that ended at now with rc (e its error) and *r. */
static void poll_record_save(struct store *st, time_t now, enum bb_rc rc,
			     const struct poll_result *r, const struct err *pe)
{
	char at[24], counts[128];
	enum poll_outcome o = rc != BB_OK ? POLL_ERROR : r->not_modified ? POLL_NOT_MODIFIED : POLL_OK;
	struct err e = {0};
	enum bb_rc src;

	snprintf(at, sizeof(at), "%" PRId64, (int64_t)now);
	snprintf(counts, sizeof(counts), "%zu %zu %zu %zu %zu", r->items, r->created, r->imported,
		 r->updated, r->unchanged);
	if ((src = store_begin(st, &e)) != BB_OK)
		goto out;
	if ((src = store_meta_set(st, META_POLL_AT, at, &e)) != BB_OK ||
	    (src = store_meta_set(st, META_POLL_OUTCOME, poll_outcome_name(o), &e)) != BB_OK ||
	    (src = store_meta_set(st, META_POLL_ERROR, o == POLL_ERROR ? pe->msg : "", &e)) !=
		BB_OK ||
	    (src = store_meta_set(st, META_POLL_COUNTS, counts, &e)) != BB_OK ||
	    (o != POLL_ERROR && (src = store_meta_set(st, META_POLL_OK_AT, at, &e)) != BB_OK) ||
	    (src = store_commit(st, &e)) != BB_OK)
		store_rollback(st);
out:
	if (src != BB_OK)
		log_warn("cannot record the feed poll: %s", e.msg);
}

enum bb_rc poller_last(struct store *st, struct poll_record *out, struct err *e)
{
	char *at = NULL, *outcome = NULL, *error = NULL, *counts = NULL, *ok_at = NULL;
	int64_t v = 0;
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_meta_get(st, META_POLL_AT, &at, e)) != BB_OK ||
	    (rc = meta_get_opt(st, META_POLL_OUTCOME, &outcome, e)) != BB_OK ||
	    (rc = meta_get_opt(st, META_POLL_ERROR, &error, e)) != BB_OK ||
	    (rc = meta_get_opt(st, META_POLL_COUNTS, &counts, e)) != BB_OK ||
	    (rc = meta_get_opt(st, META_POLL_OK_AT, &ok_at, e)) != BB_OK)
		goto out;
	if (!text_int64_parse(at, 0, INT64_MAX, &v)) {
		rc = err_set(e, BB_ERR_STORE, "the last poll's time is not a number: %s", at);
		goto out;
	}
	out->at = (time_t)v;
	if (ok_at != NULL && text_int64_parse(ok_at, 0, INT64_MAX, &v))
		out->last_ok = (time_t)v;
	out->outcome = POLL_ERROR;
	for (size_t i = 0; outcome != NULL && i < sizeof(outcome_names) / sizeof(outcome_names[0]);
	     i++)
		if (strcmp(outcome, outcome_names[i]) == 0)
			out->outcome = (enum poll_outcome)i;
	snprintf(out->error, sizeof(out->error), "%s", error ? error : "");
	if (counts != NULL) {
		int64_t *f[] = {&out->items, &out->created, &out->imported, &out->updated,
				&out->unchanged};
		char *p = counts, *tok, *save = NULL;
		for (size_t i = 0; i < 5 && (tok = strtok_r(p, " ", &save)) != NULL; i++, p = NULL)
			if (!text_int64_parse(tok, 0, INT64_MAX, f[i]))
				*f[i] = 0;
	}
out:
	free(at);
	free(outcome);
	free(error);
	free(counts);
	free(ok_at);
	return rc;
}

/* ---- one poll ------------------------------------------------------------- */

static enum bb_rc poll_once(struct app *app, bool deliver_existing, const atomic_bool *cancel,
			    struct poll_result *out, struct err *e)
{
	char fingerprint[DIGEST_SHA256_HEX_LEN];
	struct feed_doc doc = {0};
	struct feed f = {0};
	struct err pe = {0};
	char *imported = NULL;
	struct publish_counts counts = {0};
	struct publish_env env = {.site = &app->site, .now = time(NULL)};
	char *moved = NULL;
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	env.st = app_store(app, e);
	if (env.st == NULL) {
		rc = e->code;
		goto out;
	}
	/* After a move the feed is not read (publish.c also checks, in each
	 * post's transaction), and no poll is recorded. */
	if ((rc = store_moved_to_get(env.st, &moved, e)) != BB_OK)
		goto out;
	if (moved != NULL) {
		snprintf(out->moved_to, sizeof(out->moved_to), "%s", moved);
		free(moved);
		return BB_OK;
	}
	env.opt = (struct object_options){
	    .kind = app->cfg->object_type == CONFIG_OBJECT_ARTICLE ? OBJECT_ARTICLE : OBJECT_NOTE,
	    .excerpt = app->cfg->note_content == CONFIG_NOTE_EXCERPT,
	    .language = app->cfg->language,
	    .tag_url = app->cfg->tag_url,
	};
	if ((rc = source_fingerprint(app, fingerprint, e)) != BB_OK ||
	    (rc = feed_read(app, env.st, fingerprint, env.now, cancel, &doc, e)) != BB_OK)
		goto out;
	if (doc.not_modified) {
		out->not_modified = true;
		goto out;
	}
	rc = feed_parse(doc.body.data ? doc.body.data : "", doc.body.len, &f, &pe);
	if (rc != BB_OK) {
		/* The parser's messages start "feed: "; ours names the feed. */
		const char *why = strncmp(pe.msg, "feed: ", 6) == 0 ? pe.msg + 6 : pe.msg;
		rc = err_set(e, rc, "feed %s: %s", app->cfg->feed, why);
		goto out;
	}
	out->items = f.nitems;
	if ((rc = meta_get_opt(env.st, META_IMPORTED, &imported, e)) != BB_OK)
		goto out;
	env.deliver_new = imported != NULL || deliver_existing;
	/* What was published before a failure counts (and is delivered). */
	rc = publish_items(&env, f.items, f.nitems, &counts, e);
	out->created = counts.created;
	out->imported = counts.imported;
	out->updated = counts.updated;
	out->unchanged = counts.unchanged;
	out->deliveries = counts.deliveries;
	if (rc != BB_OK ||
	    (rc = validators_save(env.st, fingerprint, &doc, imported == NULL, e)) != BB_OK)
		goto out;
out:
	/* Recorded unless serve is stopping it (its error would be ours). */
	if (env.st != NULL && !(cancel != NULL && atomic_load(cancel)))
		poll_record_save(env.st, time(NULL), rc, out, e);
	if (out->deliveries > 0)
		delivery_wake(app->delivery);
	free(imported);
	feed_clear(&f);
	feed_doc_clear(&doc);
	return rc;
}

enum bb_rc poller_run_once(struct app *app, bool deliver_existing, struct poll_result *out,
			   struct err *e)
{
	return poll_once(app, deliver_existing, NULL, out, e);
}

/* ---- the poll thread (serve) ---------------------------------------------- */

struct poller {
	struct app *app;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* stopping */
	bool stopping;	     /* under lock */
	atomic_bool cancel;  /* read by a transfer in progress */
};

static void poll_log(const struct app *app, enum bb_rc rc, const struct poll_result *r,
		     const struct err *e)
{
	if (rc != BB_OK) {
		log_warn("feed poll failed (next try in %u s): %s", app->cfg->poll_interval,
			 e->msg);
		return;
	}
	if (r->moved_to[0] != '\0') {
		log_debug("feed %s: not read, the blog has moved to %s", app->cfg->feed, r->moved_to);
		return;
	}
	if (r->not_modified) {
		log_debug("feed %s: not modified", app->cfg->feed);
		return;
	}
	log_msg(r->created + r->imported + r->updated > 0 ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
		"feed %s: %zu items, %zu new, %zu imported, %zu updated, %zu unchanged; "
		"%zu deliveries queued",
		app->cfg->feed, r->items, r->created, r->imported, r->updated, r->unchanged,
		r->deliveries);
}

static void *poller_main(void *arg)
{
	struct poller *p = arg;
	struct timespec deadline;
	bool stop = false;

	while (!stop) {
		struct poll_result r;
		struct err e = {0};
		enum bb_rc rc = poll_once(p->app, false, &p->cancel, &r, &e);

		if (!atomic_load(&p->cancel))
			poll_log(p->app, rc, &r, &e);
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += (time_t)p->app->cfg->poll_interval;
		pthread_mutex_lock(&p->lock);
		while (!p->stopping &&
		       pthread_cond_timedwait(&p->wake, &p->lock, &deadline) != ETIMEDOUT)
			;
		stop = p->stopping;
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

enum bb_rc poller_start(struct app *app, struct poller **out, struct err *e)
{
	pthread_condattr_t attr;
	struct poller *p = calloc(1, sizeof(*p));
	bool cond_ok = false;

	*out = NULL;
	if (p == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	p->app = app;
	atomic_init(&p->cancel, false);
	if (pthread_condattr_init(&attr) == 0) {
		cond_ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
			  pthread_cond_init(&p->wake, &attr) == 0;
		pthread_condattr_destroy(&attr);
	}
	if (!cond_ok) {
		free(p);
		return err_set(e, BB_ERR_NOMEM, "cannot create the poller's condition variable");
	}
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		pthread_cond_destroy(&p->wake);
		free(p);
		return err_set(e, BB_ERR_NOMEM, "cannot create the poller's lock");
	}
	if (pthread_create(&p->thread, NULL, poller_main, p) != 0) {
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return err_set(e, BB_ERR_NOMEM, "cannot start the feed poller");
	}
	*out = p;
	return BB_OK;
}

void poller_stop(struct poller *p)
{
	if (p == NULL)
		return;
	atomic_store(&p->cancel, true);
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
