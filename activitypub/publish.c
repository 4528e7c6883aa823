/*
 * publish.c — see publish.h.  For each item, oldest first, publish
 * decides whether it is new, edited or unchanged by comparing a hash of
 * the object as it would be federated.  The hash covers the object
 * rendered with updated = published, so that the `updated` we set on an
 * edit never makes the next run see a change; it covers everything the
 * followers see (content, title, tags, attachments, the rendering
 * options), so that switching note to article re-federates every post as
 * an Update.
 *
 * Each post and its activity are stored in one transaction (store_begin),
 * so a crash leaves either both or neither; a failure stops the run and
 * leaves the items after it to the next one.  Inside the transaction the
 * post is read again: another process (a `poll` beside `serve`) may have
 * stored it since, and then this run leaves it alone.
 */
#include "publish.h"
#include "buf.h"
#include "digest.h"
#include "log.h"
#include "timeutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUBLISH_ID_HEX 32 /* hex digits of SHA-256(guid) in an object id */

/* One run: the environment's fields, and the counts being added to. */
struct publish_ctx {
	const struct ap_site *site;
	struct store *st;
	struct object_options opt;
	time_t now;
	bool deliver_new; /* false during a silent first import */
	struct publish_counts *res;
};

void publish_post_id(const struct ap_site *site, const char *guid, char *out)
{
	char hex[DIGEST_SHA256_HEX_LEN];
	int n;

	out[0] = '\0';
	if (digest_sha256_hex(guid, strlen(guid), hex) != BB_OK)
		return;
	n = snprintf(out, PUBLISH_ID_MAX, "%s%s%.*s", site->cfg.base_url, AP_PATH_POSTS,
		     PUBLISH_ID_HEX, hex);
	if (n < 0 || n >= PUBLISH_ID_MAX)
		out[0] = '\0'; /* a base_url this long is no use anyway */
}

/* Renders p once with the given dates (*json, the object as federated) and
 * hashes it as if updated were published: the object as federated, minus
 * the edit time. */
static enum bb_rc item_render(const struct publish_ctx *c, const struct post *p, const char *id,
			      char **json, char hash[DIGEST_SHA256_HEX_LEN], struct err *e)
{
	char *unedited = NULL, *edited = NULL;
	enum bb_rc rc = object_render_forms(c->site, &c->opt, p, id, &unedited, &edited);

	*json = NULL;
	if (rc != BB_OK)
		return err_set(e, rc, "cannot render the post %s", p->guid);
	rc = digest_sha256_hex(unedited, strlen(unedited), hash);
	if (rc != BB_OK) {
		free(unedited);
		free(edited);
		return err_set(e, rc, "cannot hash the post %s", p->guid);
	}
	if (edited != NULL) {
		free(unedited);
		*json = edited;
	} else {
		*json = unedited;
	}
	return BB_OK;
}

/* In the caller's transaction: stores the activity and fans it out. */
static enum bb_rc activity_queue(const struct publish_ctx *c, const char *type, const char *id,
				 const char *object_json, time_t published, struct err *e)
{
	int64_t rowid = 0, count = 0;
	enum bb_rc rc;
	char *act = object_activity_render(c->site, type, id, object_json, published);

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
static enum bb_rc post_still(const struct publish_ctx *c, const char *guid,
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

/* Inside the transaction: *ok unless the blog has moved (move.h): from
 * then on nothing new is published, even by a poll that began before. */
static enum bb_rc not_moved(struct store *st, bool *ok, struct err *e)
{
	char *moved = NULL;
	enum bb_rc rc = store_moved_to_get(st, &moved, e);

	*ok = rc == BB_OK && moved == NULL;
	free(moved);
	return rc;
}

/* Stores sp and, when type is set, its activity, in one transaction;
 * *raced when the item changed under us or the blog has moved (nothing
 * written). */
static enum bb_rc post_commit(const struct publish_ctx *c, struct store_post *sp,
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
	if (still && (rc = not_moved(c->st, &still, e)) != BB_OK)
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

static enum bb_rc item_new(const struct publish_ctx *c, const struct post *fp, struct err *e)
{
	char id[PUBLISH_ID_MAX], act_id[PUBLISH_ID_MAX + 16], hash[DIGEST_SHA256_HEX_LEN];
	struct post p = *fp;
	struct store_post sp;
	char *json = NULL;
	bool raced = false;
	enum bb_rc rc;

	publish_post_id(c->site, fp->guid, id);
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

/* An edit: p is the item with old's published date and the edit time as
 * updated, json its rendering and hash its hash (item_handle), stored with
 * its Update. */
static enum bb_rc item_edit(const struct publish_ctx *c, const struct post *p,
			    const struct store_post *old, char *hash, char *json, struct err *e)
{
	char act_id[PUBLISH_ID_MAX + 48];
	struct store_post sp;
	bool raced = false;
	enum bb_rc rc;

	sp = (struct store_post){.rowid = old->rowid,
				 .guid = old->guid,
				 .ap_id = old->ap_id,
				 .url = p->url ? p->url : old->ap_id,
				 .title = p->title,
				 .hash = hash,
				 .object_json = json,
				 .published = old->published,
				 .updated = p->updated};
	snprintf(act_id, sizeof(act_id), "%s/updates/%jd", old->ap_id, (intmax_t)p->updated);
	rc = post_commit(c, &sp, old, "Update", act_id, p->updated, &raced, e);
	if (rc == BB_OK && raced) {
		c->res->unchanged++;
	} else if (rc == BB_OK) {
		c->res->updated++;
		log_debug("feed: edited post %s", old->ap_id);
	}
	return rc;
}

/* A known item.  It is rendered once, as it would be federated if it were
 * an edit: the whole object again, with `updated` strictly later than the
 * last one federated (MASTODON.md §6.4); its hash (without the edit time)
 * tells whether it is one. */
static enum bb_rc item_handle(const struct publish_ctx *c, const struct post *fp, struct err *e)
{
	char hash[DIGEST_SHA256_HEX_LEN];
	struct store_post old = {0};
	struct post p = *fp; /* borrows fp's strings */
	char *json = NULL;
	time_t updated = c->now;
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
	if (updated <= old.updated)
		updated = old.updated + 1;
	if (updated <= old.published)
		updated = old.published + 1;
	/* The date it was first federated with stays (store_post_put keeps
	 * it): an item without a date, or whose date moved, is not an edit. */
	p.published = old.published;
	p.updated = updated;
	rc = item_render(c, &p, old.ap_id, &json, hash, e);
	if (rc != BB_OK)
		goto out;
	if (old.hash != NULL && strcmp(old.hash, hash) == 0)
		c->res->unchanged++;
	else
		rc = item_edit(c, &p, &old, hash, json, e);
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

enum bb_rc publish_items(const struct publish_env *env, const struct post *items, size_t n,
			 struct publish_counts *counts, struct err *e)
{
	struct publish_ctx ctx = {.site = env->site,
				  .st = env->st,
				  .opt = env->opt,
				  .now = env->now,
				  .deliver_new = env->deliver_new,
				  .res = counts};
	const struct publish_ctx *c = &ctx;
	struct item_order *order = NULL;
	enum bb_rc rc = BB_OK;

	if (n == 0)
		return BB_OK;
	order = calloc(n, sizeof(*order));
	if (order == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		order[i] = (struct item_order){items[i].published ? items[i].published : c->now, i};
	qsort(order, n, sizeof(*order), item_order_cmp);
	for (size_t i = 0; i < n && rc == BB_OK; i++)
		rc = item_handle(c, &items[order[i].index], e);
	free(order);
	return rc;
}

/* ---- posts delete ---------------------------------------------------------- */

enum bb_rc publish_post_delete(struct store *st, const struct ap_site *site, const char *url,
			       time_t now, int64_t *deliveries, struct err *e)
{
	char id[PUBLISH_ID_MAX + 16];
	struct store_post p = {0};
	int64_t rowid = 0, count = 0;
	char *json = NULL;
	enum bb_rc rc;

	*deliveries = 0;
	rc = store_post_by_url(st, url, &p, e);
	if (rc == BB_ERR_NOTFOUND || (rc == BB_OK && p.deleted != 0)) {
		rc = err_set(e, BB_ERR_NOTFOUND, "no live post has the URL %s", url);
		goto out;
	}
	if (rc != BB_OK)
		goto out;
	snprintf(id, sizeof(id), "%s/delete", p.ap_id);
	json = object_delete_render(site, id, p.ap_id, now);
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
	log_info("deleted post %s (%s): %" PRId64 " deliveries queued", p.ap_id, url, count);
out:
	free(json);
	store_post_clear(&p);
	return rc;
}

/* ---- the actor's profile --------------------------------------------------- */

#define META_ACTOR_HASH "actor_hash"
#define META_ACTOR_UPDATES "actor_updates"

/* In the caller's transaction: the next Update number, stored. */
static enum bb_rc actor_update_next(struct store *st, long long *n, struct err *e)
{
	char *v = NULL, buf[32];
	enum bb_rc rc = store_meta_get(st, META_ACTOR_UPDATES, &v, e);

	*n = 1;
	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
	} else if (rc != BB_OK) {
		return rc;
	} else {
		char *end = NULL;
		long long prev = strtoll(v, &end, 10);
		if (end != v && *end == '\0' && prev > 0)
			*n = prev + 1;
	}
	free(v);
	snprintf(buf, sizeof(buf), "%lld", *n);
	return store_meta_set(st, META_ACTOR_UPDATES, buf, e);
}

enum bb_rc publish_actor_sync_tx(struct store *st, const struct ap_site *site,
				 const char *actor_json, time_t now, bool *sent, int64_t *deliveries,
				 struct err *e)
{
	char hash[DIGEST_SHA256_HEX_LEN], id[PUBLISH_ID_MAX + 48];
	char *stored = NULL, *act = NULL;
	int64_t rowid = 0, count = 0;
	long long n = 0;
	bool first = false;
	enum bb_rc rc;

	*sent = false;
	*deliveries = 0;
	rc = digest_sha256_hex(actor_json, strlen(actor_json), hash);
	if (rc != BB_OK)
		return err_set(e, rc, "cannot hash the actor document");
	rc = store_meta_get(st, META_ACTOR_HASH, &stored, e);
	if (rc == BB_ERR_NOTFOUND) {
		err_clear(e);
		first = true;
		rc = BB_OK;
	}
	if (rc != BB_OK)
		goto out;
	if (!first && strcmp(stored, hash) == 0)
		goto out; /* unchanged */
	if (!first) {
		if ((rc = actor_update_next(st, &n, e)) != BB_OK)
			goto out;
		snprintf(id, sizeof(id), "%s#updates/%lld", site->actor_id, n);
		act = object_activity_render(site, "Update", id, actor_json, now);
		if (act == NULL) {
			rc = err_set(e, BB_ERR_NOMEM, "cannot render the Update of the actor");
			goto out;
		}
		if ((rc = store_activity_add(st, id, act, now, &rowid, e)) != BB_OK ||
		    (rc = store_fanout(st, rowid, now, &count, e)) != BB_OK)
			goto out;
	}
	if ((rc = store_meta_set(st, META_ACTOR_HASH, hash, e)) != BB_OK)
		goto out;
	*sent = !first;
	*deliveries = count;
	if (!first)
		log_info("profile changed: Update %s queued for %" PRId64 " inboxes", id, count);
out:
	free(stored);
	free(act);
	return rc;
}

enum bb_rc publish_actor_sync(struct store *st, const struct ap_site *site, const char *actor_json,
			      time_t now, bool *sent, int64_t *deliveries, struct err *e)
{
	int64_t count = 0;
	enum bb_rc rc;

	*sent = false;
	if (deliveries)
		*deliveries = 0;
	if ((rc = store_begin(st, e)) != BB_OK)
		return rc;
	rc = publish_actor_sync_tx(st, site, actor_json, now, sent, &count, e);
	/* Unchanged: the empty transaction is committed, as cheap. */
	if (rc == BB_OK)
		rc = store_commit(st, e);
	if (rc != BB_OK) {
		store_rollback(st);
		*sent = false;
		return rc;
	}
	if (deliveries)
		*deliveries = count;
	return BB_OK;
}
