/*
 * ops.c — the admin's operations (see ops.h): each is the one place the
 * command line and the admin pages reach the store or the publisher for
 * that task.
 */
#include "ops.h"
#include "publish.h"

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
