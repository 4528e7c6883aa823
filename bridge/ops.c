/*
 * ops.c — the admin's operations (see ops.h): each is the one place the
 * command line and the admin pages reach the store or the publisher for
 * that task.
 */
#include "ops.h"
#include "publish.h"

#include <string.h>
#include <time.h>

enum bb_rc ops_follower_remove(struct app *app, const char *actor, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_follower_remove(st, actor, e);
}

enum bb_rc ops_followers_each(struct app *app, int64_t offset, int64_t limit, store_follower_fn fn,
			      void *arg, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_follower_each(st, offset, limit, fn, arg, e);
}

enum bb_rc ops_post_delete(struct app *app, const char *url, int64_t *deliveries, struct err *e)
{
	struct store *st = app_store(app, e);
	enum bb_rc rc;

	*deliveries = 0;
	if (st == NULL)
		return e->code;
	rc = publish_post_delete(st, &app->site, url, time(NULL), deliveries, e);
	if (rc == BB_OK && *deliveries > 0)
		delivery_wake(app->delivery);
	return rc;
}

enum bb_rc ops_posts_each(struct app *app, int64_t offset, int64_t limit, store_post_fn fn,
			  void *arg, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_post_each(st, offset, limit, true, fn, arg, e);
}

enum bb_rc ops_host_stats_each(struct app *app, store_host_stats_fn fn, void *arg, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_host_stats_each(st, fn, arg, e);
}

enum bb_rc ops_post_find(struct app *app, const char *ref, struct store_post *out, struct err *e)
{
	struct store *st = app_store(app, e);
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return e->code;
	rc = store_post_by_url(st, ref, out, e);
	if (rc == BB_ERR_NOTFOUND)
		rc = store_post_by_ap_id(st, ref, out, e);
	if (rc == BB_ERR_NOTFOUND)
		err_set(e, rc, "no post has the URL or id %s", ref);
	return rc;
}

enum bb_rc ops_post_counts(struct app *app, int64_t post, int64_t *comments, int64_t *likes,
			   int64_t *boosts, struct err *e)
{
	struct store_comment_filter f = {STORE_COMMENT_BIT(STORE_COMMENT_APPROVED), post, 0, -1};
	struct store *st = app_store(app, e);
	enum bb_rc rc;

	if (st == NULL)
		return e->code;
	rc = comments ? store_comment_count(st, &f, comments, e) : BB_OK;
	if (rc == BB_OK)
		rc = store_reaction_counts(st, post, likes, boosts, NULL, e);
	return rc;
}

/* Moves the comment id to status `to`, refusing it for a private one when
 * `to` is a moderation verdict. */
static enum bb_rc comment_status_set(struct app *app, const char *id, enum store_comment_status to,
				     struct err *e)
{
	struct store_comment c = {0};
	struct store *st = app_store(app, e);
	enum bb_rc rc;

	if (st == NULL)
		return e->code;
	rc = store_comment_get(st, id, &c, e);
	if (rc == BB_ERR_NOTFOUND)
		err_set(e, rc, "no comment has the id %s", id);
	if (rc != BB_OK)
		goto out;
	if (c.status == STORE_COMMENT_DELETED && to != STORE_COMMENT_DELETED) {
		rc = err_set(e, BB_ERR_INVALID, "comment %s is deleted", id);
		goto out;
	}
	if (c.status == STORE_COMMENT_PRIVATE && to != STORE_COMMENT_DELETED) {
		rc = err_set(e, BB_ERR_INVALID,
			     "comment %s is private (followers-only or direct): "
			     "it can only be deleted",
			     id);
		goto out;
	}
	rc = store_comment_status_set(st, id, to, e);
out:
	store_comment_clear(&c);
	return rc;
}

enum bb_rc ops_comment_approve(struct app *app, const char *id, struct err *e)
{
	return comment_status_set(app, id, STORE_COMMENT_APPROVED, e);
}

enum bb_rc ops_comment_reject(struct app *app, const char *id, struct err *e)
{
	return comment_status_set(app, id, STORE_COMMENT_REJECTED, e);
}

enum bb_rc ops_comment_delete(struct app *app, const char *id, struct err *e)
{
	return comment_status_set(app, id, STORE_COMMENT_DELETED, e);
}

enum bb_rc ops_comments_each(struct app *app, const struct store_comment_filter *f,
			     store_comment_fn fn, void *arg, struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_comment_each(st, f, fn, arg, e);
}

enum bb_rc ops_reactions_each(struct app *app, int64_t post, store_reaction_fn fn, void *arg,
			      struct err *e)
{
	struct store *st = app_store(app, e);

	if (st == NULL)
		return e->code;
	return store_reaction_each(st, post, fn, arg, e);
}

enum bb_rc ops_actor_get(struct app *app, const char *id, struct store_actor *out, struct err *e)
{
	struct store *st = app_store(app, e);

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return e->code;
	return store_actor_get(st, id, out, e);
}
