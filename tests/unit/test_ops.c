/*
 * test_ops.c — the admin operations (bridge/ops.c) on a real app: a
 * fresh database and key in a temporary folder.
 */
#include "app.h"
#include "check.h"
#include "config.h"
#include "ops.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>

static const char *conf_text = "[site]\n"
			       "base_url = https://blog.test\n"
			       "handle = blog\n"
			       "summary = s\n"
			       "feed = feed.xml\n";

/* Opens an app on a fresh folder; NULL on failure (reported). */
static struct app *app_fresh(const char *dir)
{
	char *path = check_write_file(dir, "bridge.conf", conf_text);
	struct config_errors *errs = calloc(1, sizeof(*errs));
	struct config *cfg = NULL;
	struct app *app = NULL;
	struct err e = {0};

	CHECK(path != NULL && errs != NULL);
	if (path == NULL || errs == NULL)
		goto out;
	if (config_load(path, &cfg, errs) != BB_OK) {
		check_fail(__FILE__, __LINE__, "config: %s", errs->count ? errs->line[0] : "?");
		goto out;
	}
	if (app_open(cfg, &app, &e) != BB_OK)
		check_fail(__FILE__, __LINE__, "app_open: %s", e.msg);
out:
	free(errs);
	free(path);
	return app;
}

static void follower_add(struct app *app, const char *actor)
{
	struct err e = {0};
	struct store *st = app_store(app, &e);
	char inbox[256], follow[256];
	struct store_follower f = {0};

	snprintf(inbox, sizeof(inbox), "%s/inbox", actor);
	snprintf(follow, sizeof(follow), "%s#follow", actor);
	f = (struct store_follower){
	    .actor = (char *)actor, .inbox = inbox, .follow_id = follow, .since = 1700000000};
	CHECK(st != NULL);
	if (st != NULL && store_follower_put(st, &f, &e) != BB_OK)
		check_fail(__FILE__, __LINE__, "follower_put: %s", e.msg);
}

static int64_t follower_count(struct app *app)
{
	struct err e = {0};
	struct store *st = app_store(app, &e);
	int64_t n = -1;

	if (st == NULL || store_follower_count(st, &n, &e) != BB_OK)
		check_fail(__FILE__, __LINE__, "follower_count: %s", e.msg);
	return n;
}

static void t_follower_remove(void)
{
	const char *dir = check_tmpdir();
	struct app *app = app_fresh(dir);
	struct err e = {0};

	if (app == NULL)
		goto out;
	follower_add(app, "https://a.example/users/alice");
	follower_add(app, "https://b.example/users/bob");
	CHECK_INT(follower_count(app), 2);
	CHECK_INT(ops_follower_remove(app, "https://a.example/users/alice", &e), BB_OK);
	CHECK_INT(follower_count(app), 1);
	/* Once gone, it is not a follower: the admin is told so. */
	CHECK_INT(ops_follower_remove(app, "https://a.example/users/alice", &e), BB_ERR_NOTFOUND);
	CHECK(check_contains(e.msg, "alice"));
	CHECK_INT(ops_follower_remove(app, "https://c.example/users/carol", &e), BB_ERR_NOTFOUND);
	CHECK_INT(follower_count(app), 1);
out:
	app_free(app);
	check_tmpdir_remove(dir);
}

static void t_post_delete_unknown(void)
{
	const char *dir = check_tmpdir();
	struct app *app = app_fresh(dir);
	struct err e = {0};
	int64_t deliveries = -1;

	if (app == NULL)
		goto out;
	CHECK_INT(ops_post_delete(app, "https://blog.test/nope/", &deliveries, &e),
		  BB_ERR_NOTFOUND);
out:
	app_free(app);
	check_tmpdir_remove(dir);
}

/* Adds a comment of status s to a fresh post; false on failure. */
static bool comment_add(struct app *app, const char *id, enum store_comment_status s)
{
	struct err e = {0};
	struct store *st = app_store(app, &e);
	struct store_post p = {
	    0,	"g", "https://blog.test/ap/posts/1", "https://blog.test/1/", "T", "h", "{}", 10,
	    10, 0};
	struct store_post got = {0};
	struct store_comment c = {0};
	bool is_new = false, ok;

	if (st == NULL)
		return false;
	if (store_post_by_guid(st, "g", &got, &e) == BB_OK)
		p.rowid = got.rowid;
	else if (store_post_put(st, &p, &e) != BB_OK)
		return false;
	store_post_clear(&got);
	c = (struct store_comment){.ap_id = (char *)id,
				   .post = p.rowid,
				   .author = "https://m.example/users/a",
				   .content = "<p>x</p>",
				   .status = s,
				   .published = 20,
				   .received = 21};
	ok = store_comment_add(st, &c, &is_new, &e) == BB_OK && is_new;
	if (!ok)
		check_fail(__FILE__, __LINE__, "comment_add: %s", e.msg);
	return ok;
}

static enum store_comment_status status_of(struct app *app, const char *id)
{
	struct err e = {0};
	struct store_comment c = {0};
	enum store_comment_status s = STORE_COMMENT_STATUS_COUNT;

	if (store_comment_get(app_store(app, &e), id, &c, &e) == BB_OK)
		s = c.status;
	store_comment_clear(&c);
	return s;
}

static void t_comment_moderation(void)
{
	const char *dir = check_tmpdir();
	struct app *app = app_fresh(dir);
	struct err e = {0};
	int64_t comments = -1, likes = -1, boosts = -1;
	struct store_post p = {0};

	if (app == NULL || !comment_add(app, "https://m.example/1", STORE_COMMENT_PENDING) ||
	    !comment_add(app, "https://m.example/2", STORE_COMMENT_PRIVATE))
		goto out;
	CHECK_INT(ops_comment_approve(app, "https://m.example/1", &e), BB_OK);
	CHECK_INT(status_of(app, "https://m.example/1"), STORE_COMMENT_APPROVED);
	CHECK_INT(ops_post_find(app, "https://blog.test/1/", &p, &e), BB_OK);
	CHECK_INT(ops_post_counts(app, p.rowid, &comments, &likes, &boosts, &e), BB_OK);
	CHECK_INT(comments, 1);
	CHECK_INT(likes, 0);
	CHECK_INT(boosts, 0);
	store_post_clear(&p);
	CHECK_INT(ops_post_find(app, "https://blog.test/ap/posts/1", &p, &e), BB_OK);
	store_post_clear(&p);
	CHECK_INT(ops_post_find(app, "https://blog.test/none/", &p, &e), BB_ERR_NOTFOUND);
	CHECK_INT(ops_comment_reject(app, "https://m.example/1", &e), BB_OK);
	CHECK_INT(status_of(app, "https://m.example/1"), STORE_COMMENT_REJECTED);
	CHECK_INT(ops_comment_delete(app, "https://m.example/1", &e), BB_OK);
	CHECK_INT(ops_comment_approve(app, "https://m.example/1", &e), BB_ERR_INVALID);
	CHECK(check_contains(e.msg, "deleted"));
	CHECK_INT(status_of(app, "https://m.example/1"), STORE_COMMENT_DELETED);
	/* A private reply was not addressed to the public: delete only. */
	CHECK_INT(ops_comment_approve(app, "https://m.example/2", &e), BB_ERR_INVALID);
	CHECK_INT(ops_comment_reject(app, "https://m.example/2", &e), BB_ERR_INVALID);
	CHECK_INT(status_of(app, "https://m.example/2"), STORE_COMMENT_PRIVATE);
	CHECK_INT(ops_comment_delete(app, "https://m.example/2", &e), BB_OK);
	CHECK_INT(ops_comment_approve(app, "https://m.example/none", &e), BB_ERR_NOTFOUND);
	CHECK(check_contains(e.msg, "https://m.example/none"));
out:
	app_free(app);
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
    {"follower_remove", t_follower_remove},
    {"post_delete_unknown", t_post_delete_unknown},
    {"comment_moderation", t_comment_moderation},
};

CHECK_MAIN(cases)
