/*
 * poller.c — see poller.h.  Feed intake in three steps: read the feed
 * (a local file, or an http(s) URL with a conditional GET), parse it
 * (feed.c), and decide for each item, oldest first, whether it is new,
 * edited or unchanged by comparing a hash of the object as it would be
 * federated.  The hash covers the object rendered with updated =
 * published, so that the `updated` we set on an edit never makes the next
 * poll see a change; it covers everything the followers see (content,
 * title, tags, attachments, the rendering options), so that switching
 * note to article in bridge.conf re-federates every post as an Update.
 *
 * Validators (ETag, Last-Modified, a local file's mtime, size and inode)
 * are saved only after a poll whose items were all stored, and only for
 * the configuration that produced them (a fingerprint of the feed source
 * and rendering options): a failed poll, or a change of options, reads and
 * compares the whole feed again next time.  Reading the bytes (a file's
 * stamp, the HTTP request) is feed_fetch.c's.
 *
 * Each post and its activity are stored in one transaction (store_begin),
 * so a crash leaves either both or neither; a failure stops the poll and
 * leaves the items after it to the next one.  The poll thread (serve)
 * sleeps on a condition variable and aborts an HTTP transfer in progress,
 * so poller_stop returns at once.
 */
#include "poller.h"
#include "buf.h"
#include "digest.h"
#include "feed.h"
#include "feed_fetch.h"
#include "log.h"
#include "object.h"
#include "store.h"
#include "timeutil.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLLER_ID_HEX 32 /* hex digits of SHA-256(guid) in an object id */

/* Store meta keys. */
#define META_SOURCE "feed_source" /* fingerprint the validators belong to */
#define META_ETAG "feed_etag"
#define META_LAST_MODIFIED "feed_last_modified"
#define META_FILE_STAMP "feed_file_stamp"
#define META_IMPORTED "feed_imported" /* "1" once the first import happened */

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
	if (app->cfg->feed_is_url)
		rc = feed_fetch_http(app, etag, modified, cancel, d, e);
	else
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

/* ---- items ---------------------------------------------------------------- */

struct poll_ctx {
	struct app *app;
	struct store *st;
	struct object_options opt;
	time_t now;
	bool deliver_new; /* false during a silent first import */
	struct poll_result *res;
};

void poller_post_id(const struct app *app, const char *guid, char *out)
{
	char hex[DIGEST_SHA256_HEX_LEN];
	int n;

	out[0] = '\0';
	if (digest_sha256_hex(guid, strlen(guid), hex) != BB_OK)
		return;
	n = snprintf(out, POLLER_ID_MAX, "%s%s%.*s", app->cfg->base_url, AP_PATH_POSTS,
		     POLLER_ID_HEX, hex);
	if (n < 0 || n >= POLLER_ID_MAX)
		out[0] = '\0'; /* a base_url this long is no use anyway */
}

/* Renders p (published and updated as given) and hashes it with updated =
 * published: the object as federated, minus the edit time. */
static enum bb_rc item_render(const struct poll_ctx *c, const struct post *p, const char *id,
			      char **json, char hash[DIGEST_SHA256_HEX_LEN], struct err *e)
{
	struct post base = *p; /* borrows p's strings */
	char *plain;
	enum bb_rc rc;

	*json = NULL;
	base.updated = base.published;
	plain = object_render(&c->app->site, &c->opt, &base, id);
	if (plain == NULL)
		return err_set(e, BB_ERR_NOMEM, "cannot render the post %s", p->guid);
	rc = digest_sha256_hex(plain, strlen(plain), hash);
	if (rc != BB_OK) {
		free(plain);
		return err_set(e, rc, "cannot hash the post %s", p->guid);
	}
	if (p->updated == p->published) {
		*json = plain;
		return BB_OK;
	}
	free(plain);
	*json = object_render(&c->app->site, &c->opt, p, id);
	if (*json == NULL)
		return err_set(e, BB_ERR_NOMEM, "cannot render the post %s", p->guid);
	return BB_OK;
}

/* In the caller's transaction: stores the activity and fans it out. */
static enum bb_rc activity_queue(const struct poll_ctx *c, const char *type, const char *id,
				 const char *object_json, time_t published, struct err *e)
{
	int64_t rowid = 0, count = 0;
	enum bb_rc rc;
	char *act = object_activity_render(&c->app->site, type, id, object_json, published);

	if (act == NULL)
		return err_set(e, BB_ERR_NOMEM, "cannot render the %s %s", type, id);
	rc = store_activity_add(c->st, id, act, c->now, &rowid, e);
	if (rc == BB_OK)
		rc = store_fanout(c->st, rowid, c->now, &count, e);
	if (rc == BB_OK)
		c->res->deliveries += (size_t)count;
	free(act);
	return rc;
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Inside the transaction: is the item still as we read it (old NULL: still
 * unknown)?  Another process (a `poll` beside `serve`) may have stored it
 * since; then this poll leaves it alone. */
static enum bb_rc post_still(const struct poll_ctx *c, const char *guid,
			     const struct store_post *old, bool *still, struct err *e)
{
	struct store_post cur = {0};
	enum bb_rc rc = store_post_by_guid(c->st, guid, &cur, e);

	*still = false;
	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		*still = old == NULL;
		return BB_OK;
	}
	if (rc == BB_OK)
		*still = old != NULL && cur.deleted == 0 && cur.updated == old->updated &&
			 same_string(cur.hash, old->hash);
	store_post_clear(&cur);
	return rc;
}

/* Stores sp and, when type is set, its activity, in one transaction;
 * *raced when the item changed under us (nothing written). */
static enum bb_rc post_commit(const struct poll_ctx *c, struct store_post *sp,
			      const struct store_post *old, const char *type, const char *act_id,
			      time_t act_published, bool *raced, struct err *e)
{
	size_t deliveries = c->res->deliveries;
	bool still = false;
	enum bb_rc rc = store_begin(c->st, e);

	*raced = false;
	if (rc != BB_OK)
		return rc;
	if ((rc = post_still(c, sp->guid, old, &still, e)) != BB_OK)
		goto out;
	if (!still) {
		*raced = true;
		goto out;
	}
	if ((rc = store_post_put(c->st, sp, e)) != BB_OK ||
	    (type != NULL &&
	     (rc = activity_queue(c, type, act_id, sp->object_json, act_published, e)) != BB_OK))
		goto out;
	rc = store_commit(c->st, e);
out:
	if (rc != BB_OK || !still) {
		store_rollback(c->st);
		c->res->deliveries = deliveries;
	}
	return rc;
}

static enum bb_rc item_new(const struct poll_ctx *c, const struct post *fp, struct err *e)
{
	char id[POLLER_ID_MAX], act_id[POLLER_ID_MAX + 16], hash[DIGEST_SHA256_HEX_LEN];
	struct post p = *fp;
	struct store_post sp;
	char *json = NULL;
	bool raced = false;
	enum bb_rc rc;

	poller_post_id(c->app, fp->guid, id);
	if (id[0] == '\0')
		return err_set(e, BB_ERR_LIMIT, "cannot make an object id for %s", fp->guid);
	if (p.published == 0)
		p.published = c->now;
	p.updated = p.published;
	rc = item_render(c, &p, id, &json, hash, e);
	if (rc != BB_OK)
		return rc;
	/* The store wants a URL; an item without a link is federated with
	 * its id as url (object_render does the same). */
	sp = (struct store_post){.guid = p.guid,
				 .ap_id = id,
				 .url = p.url ? p.url : id,
				 .title = p.title,
				 .hash = hash,
				 .object_json = json,
				 .published = p.published,
				 .updated = p.published};
	snprintf(act_id, sizeof(act_id), "%s/activity", id);
	rc = post_commit(c, &sp, NULL, c->deliver_new ? "Create" : NULL, act_id, p.published,
			 &raced, e);
	if (rc == BB_OK && raced) {
		c->res->unchanged++;
	} else if (rc == BB_OK) {
		if (c->deliver_new)
			c->res->created++;
		else
			c->res->imported++;
		log_debug("feed: new post %s (%s)", id, p.url ? p.url : p.guid);
	}
	free(json);
	return rc;
}

/* An edit: the whole object again, with `updated` strictly later than the
 * last one federated (MASTODON.md §6.4), and its Update. */
static enum bb_rc item_edit(const struct poll_ctx *c, const struct post *fp,
			    const struct store_post *old, const char *hash, struct err *e)
{
	char act_id[POLLER_ID_MAX + 48], hash2[DIGEST_SHA256_HEX_LEN];
	struct post p = *fp;
	struct store_post sp;
	char *json = NULL;
	time_t updated = c->now;
	bool raced = false;
	enum bb_rc rc;

	if (updated <= old->updated)
		updated = old->updated + 1;
	if (updated <= old->published)
		updated = old->published + 1;
	p.published = old->published;
	p.updated = updated;
	rc = item_render(c, &p, old->ap_id, &json, hash2, e);
	if (rc != BB_OK)
		return rc;
	sp = (struct store_post){.rowid = old->rowid,
				 .guid = old->guid,
				 .ap_id = old->ap_id,
				 .url = p.url ? p.url : old->ap_id,
				 .title = p.title,
				 .hash = (char *)hash,
				 .object_json = json,
				 .published = old->published,
				 .updated = updated};
	snprintf(act_id, sizeof(act_id), "%s/updates/%jd", old->ap_id, (intmax_t)updated);
	rc = post_commit(c, &sp, old, "Update", act_id, updated, &raced, e);
	if (rc == BB_OK && raced) {
		c->res->unchanged++;
	} else if (rc == BB_OK) {
		c->res->updated++;
		log_debug("feed: edited post %s", old->ap_id);
	}
	free(json);
	return rc;
}

static enum bb_rc item_handle(const struct poll_ctx *c, const struct post *fp, struct err *e)
{
	char hash[DIGEST_SHA256_HEX_LEN];
	struct store_post old = {0};
	struct post p = *fp;
	char *json = NULL;
	enum bb_rc rc = store_post_by_guid(c->st, fp->guid, &old, e);

	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		rc = item_new(c, fp, e);
		goto out;
	}
	if (rc != BB_OK)
		goto out;
	if (old.deleted != 0) { /* its id stays a Tombstone: never re-created */
		c->res->unchanged++;
		goto out;
	}
	/* The date it was first federated with stays (store_post_put keeps
	 * it): an item without a date, or whose date moved, is not an edit. */
	p.published = p.updated = old.published;
	rc = item_render(c, &p, old.ap_id, &json, hash, e);
	if (rc != BB_OK)
		goto out;
	if (old.hash != NULL && strcmp(old.hash, hash) == 0)
		c->res->unchanged++;
	else
		rc = item_edit(c, fp, &old, hash, e);
out:
	free(json);
	store_post_clear(&old);
	return rc;
}

struct item_order {
	time_t when;
	size_t index;
};

/* Oldest first; among equal dates the later in the feed first (feeds list
 * newest first). */
static int item_order_cmp(const void *a, const void *b)
{
	const struct item_order *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return x->index > y->index ? -1 : x->index < y->index;
}

static enum bb_rc items_handle(struct poll_ctx *c, const struct feed *f, struct err *e)
{
	struct item_order *order = NULL;
	enum bb_rc rc = BB_OK;

	if (f->nitems == 0)
		return BB_OK;
	order = calloc(f->nitems, sizeof(*order));
	if (order == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < f->nitems; i++)
		order[i] =
		    (struct item_order){f->items[i].published ? f->items[i].published : c->now, i};
	qsort(order, f->nitems, sizeof(*order), item_order_cmp);
	for (size_t i = 0; i < f->nitems && rc == BB_OK; i++)
		rc = item_handle(c, &f->items[order[i].index], e);
	free(order);
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
	struct poll_ctx c = {.app = app, .now = time(NULL), .res = out};
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	c.st = app_store(app, e);
	if (c.st == NULL) {
		rc = e->code;
		goto out;
	}
	c.opt = (struct object_options){
	    .kind = app->cfg->object_type == CONFIG_OBJECT_ARTICLE ? OBJECT_ARTICLE : OBJECT_NOTE,
	    .excerpt = app->cfg->note_content == CONFIG_NOTE_EXCERPT,
	    .language = app->cfg->language,
	    .tag_url = app->cfg->tag_url,
	};
	if ((rc = source_fingerprint(app, fingerprint, e)) != BB_OK ||
	    (rc = feed_read(app, c.st, fingerprint, c.now, cancel, &doc, e)) != BB_OK)
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
	if ((rc = meta_get_opt(c.st, META_IMPORTED, &imported, e)) != BB_OK)
		goto out;
	c.deliver_new = imported != NULL || deliver_existing;
	if ((rc = items_handle(&c, &f, e)) != BB_OK ||
	    (rc = validators_save(c.st, fingerprint, &doc, imported == NULL, e)) != BB_OK)
		goto out;
out:
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

/* ---- posts delete ------------------------------------------------------------ */

enum bb_rc poller_post_delete(struct app *app, const char *url, int64_t *deliveries, struct err *e)
{
	char id[POLLER_ID_MAX + 16];
	struct store_post p = {0};
	int64_t rowid = 0, count = 0;
	char *json = NULL;
	time_t now = time(NULL);
	enum bb_rc rc;
	struct store *st = app_store(app, e);

	*deliveries = 0;
	if (st == NULL)
		return e->code;
	rc = store_post_by_url(st, url, &p, e);
	if (rc == BB_ERR_NOTFOUND || (rc == BB_OK && p.deleted != 0)) {
		rc = err_set(e, BB_ERR_NOTFOUND, "no live post has the URL %s", url);
		goto out;
	}
	if (rc != BB_OK)
		goto out;
	snprintf(id, sizeof(id), "%s/delete", p.ap_id);
	json = object_delete_render(&app->site, id, p.ap_id, now);
	if (json == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = store_begin(st, e)) != BB_OK)
		goto out;
	if ((rc = store_activity_add(st, id, json, now, &rowid, e)) != BB_OK ||
	    (rc = store_fanout(st, rowid, now, &count, e)) != BB_OK ||
	    (rc = store_post_delete(st, p.rowid, now, e)) != BB_OK ||
	    (rc = store_commit(st, e)) != BB_OK) {
		store_rollback(st);
		goto out;
	}
	*deliveries = count;
	if (count > 0)
		delivery_wake(app->delivery);
	log_info("deleted post %s (%s): %" PRId64 " deliveries queued", p.ap_id, url, count);
out:
	free(json);
	store_post_clear(&p);
	return rc;
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
