/*
 * test_store_admin.c — the store's functions for the admin pages
 * (store/store_admin.c), through store.h alone: sessions, the block list
 * and its matching, "retry now" for a host, the deliveries of one post
 * and its resend, and the followers page's search.
 */
#include "check.h"
#include "store.h"
#include "store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000

static void t_sessions(void)
{
	const char *dir = NULL;
	char *path = NULL;
	struct store *st = fresh(&dir, &path);
	struct store_session s = {0};
	struct err e = {0};

	if (st == NULL)
		return;
	CHECK_INT(store_session_add(st, "h1", "tok1", T0, &e), BB_OK);
	CHECK_INT(store_session_add(st, "h1", "tok2", T0, &e), BB_ERR_INVALID);
	CHECK_INT(store_session_get(st, "h1", &s, &e), BB_OK);
	CHECK(s.csrf && strcmp(s.csrf, "tok1") == 0);
	CHECK(s.created == T0 && s.last_seen == T0);
	store_session_clear(&s);
	CHECK_INT(store_session_get(st, "h2", &s, &e), BB_ERR_NOTFOUND);
	CHECK_INT(store_session_touch(st, "h1", T0 + 50, &e), BB_OK);
	CHECK_INT(store_session_touch(st, "h2", T0 + 50, &e), BB_ERR_NOTFOUND);
	CHECK_INT(store_session_get(st, "h1", &s, &e), BB_OK);
	CHECK(s.created == T0 && s.last_seen == T0 + 50);
	store_session_clear(&s);
	/* Prune: idle before T0+10 keeps h1 (seen at T0+50), drops h3. */
	CHECK_INT(store_session_add(st, "h3", "tok3", T0, &e), BB_OK);
	CHECK_INT(store_session_prune(st, T0 + 10, T0 - 1, &e), BB_OK);
	CHECK_INT(store_session_get(st, "h3", &s, &e), BB_ERR_NOTFOUND);
	CHECK_INT(store_session_get(st, "h1", &s, &e), BB_OK);
	store_session_clear(&s);
	/* Created before: dropped whatever its last visit. */
	CHECK_INT(store_session_prune(st, T0, T0 + 1, &e), BB_OK);
	CHECK_INT(store_session_get(st, "h1", &s, &e), BB_ERR_NOTFOUND);
	CHECK_INT(store_session_add(st, "h4", "tok4", T0, &e), BB_OK);
	CHECK_INT(store_session_remove(st, "h4", &e), BB_OK);
	CHECK_INT(store_session_get(st, "h4", &s, &e), BB_ERR_NOTFOUND);
	CHECK_INT(store_session_remove(st, "h4", &e), BB_OK);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

struct block_list {
	char text[512];
};

static enum bb_rc block_collect(const struct store_block *b, void *arg, struct err *e)
{
	struct block_list *l = arg;
	size_t n = strlen(l->text);

	(void)e;
	snprintf(l->text + n, sizeof(l->text) - n, "%s%s:%s", n ? "," : "", b->value,
		 b->is_actor ? "actor" : "domain");
	return BB_OK;
}

static bool blocked(struct store *st, const char *actor, const char *host)
{
	struct err e = {0};
	bool b = true;

	CHECK_INT(store_block_matches(st, actor, host, &b, &e), BB_OK);
	return b;
}

static void t_blocks(void)
{
	const char *dir = NULL;
	char *path = NULL;
	struct store *st = fresh(&dir, &path);
	struct block_list l = {{0}};
	struct err e = {0};

	if (st == NULL)
		return;
	CHECK(!blocked(st, "https://spam.example/u/1", "spam.example"));
	CHECK_INT(store_block_add(st, "spam.example", false, T0, &e), BB_OK);
	CHECK_INT(store_block_add(st, "spam.example", false, T0, &e), BB_OK); /* no-op */
	CHECK_INT(store_block_add(st, "https://ok.example/u/troll", true, T0, &e), BB_OK);
	CHECK_INT(store_block_add(st, "", false, T0, &e), BB_ERR_INVALID);
	CHECK(blocked(st, "https://spam.example/u/1", "spam.example"));
	CHECK(blocked(st, "https://a.spam.example/u/1", "a.spam.example"));
	CHECK(!blocked(st, "https://notspam.example/u/1", "notspam.example"));
	CHECK(!blocked(st, "https://example/u/1", "example"));
	CHECK(blocked(st, "https://ok.example/u/troll", "ok.example"));
	CHECK(!blocked(st, "https://ok.example/u/other", "ok.example"));
	CHECK(!blocked(st, NULL, NULL));
	CHECK_INT(store_block_each(st, block_collect, &l, &e), BB_OK);
	CHECK_STR(l.text, "https://ok.example/u/troll:actor,spam.example:domain");
	CHECK_INT(store_block_remove(st, "spam.example", &e), BB_OK);
	CHECK_INT(store_block_remove(st, "spam.example", &e), BB_ERR_NOTFOUND);
	CHECK(!blocked(st, "https://spam.example/u/1", "spam.example"));
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

/* Stores a post and its Create, fanned out to the followers. */
static int64_t post_with_create(struct store *st, const char *ap_id, time_t now)
{
	struct store_post p = post("g1", (char *)ap_id, "https://blog.example/1", "One", "h", now);
	char act[256];
	int64_t rowid = 0, n = 0;
	struct err e = {0};

	snprintf(act, sizeof(act), "%s/activity", ap_id);
	CHECK_INT(store_post_put(st, &p, &e), BB_OK);
	CHECK_INT(store_activity_add(st, act, "{}", now, &rowid, &e), BB_OK);
	CHECK_INT(store_fanout(st, rowid, now, &n, &e), BB_OK);
	return n;
}

struct delivery_list {
	char text[1024];
	int n;
};

static enum bb_rc delivery_collect(const struct store_post_delivery *d, void *arg, struct err *e)
{
	struct delivery_list *l = arg;
	size_t n = strlen(l->text);

	(void)e;
	snprintf(l->text + n, sizeof(l->text) - n, "%s%s:%d:%d", n ? "," : "", d->host, d->state,
		 d->attempts);
	l->n++;
	return BB_OK;
}

static void add_followers(struct store *st)
{
	struct err e = {0};
	struct store_follower a =
	    follower("https://a.example/u/1", "@one@a.example", "https://a.example/u/1/inbox",
		     "https://a.example/inbox", "https://a.example/f/1", T0);
	struct store_follower b =
	    follower("https://b.example/u/2", "@two@b.example", "https://b.example/u/2/inbox", NULL,
		     "https://b.example/f/2", T0 + 1);
	struct store_follower c =
	    follower("https://c.example/u/3", "@Three@c.example", "https://c.example/u/3/inbox",
		     NULL, "https://c.example/f/3", T0 + 2);

	CHECK_INT(store_follower_put(st, &a, &e), BB_OK);
	CHECK_INT(store_follower_put(st, &b, &e), BB_OK);
	CHECK_INT(store_follower_put(st, &c, &e), BB_OK);
}

static void t_post_deliveries_and_resend(void)
{
	const char *dir = NULL;
	char *path = NULL;
	struct store *st = fresh(&dir, &path);
	const char *id = "https://blog.example/ap/posts/1";
	struct delivery_list l = {{0}, 0};
	struct store_post_delivery_counts n;
	struct claims c = {0};
	struct err e = {0};
	int64_t queued = -1;

	if (st == NULL)
		return;
	add_followers(st);
	CHECK_INT(store_post_resend(st, id, false, T0, &queued, &e), BB_ERR_NOTFOUND);
	CHECK_INT((int)post_with_create(st, id, T0), 3);
	/* Another post's activity, with a prefix of this id: not counted. */
	{
		int64_t rowid = 0;
		CHECK_INT(store_activity_add(st, "https://blog.example/ap/posts/10/activity", "{}",
					     T0, &rowid, &e),
			  BB_OK);
		CHECK_INT(
		    store_delivery_add(st, rowid, "https://d.example/inbox", "d.example", T0, &e),
		    BB_OK);
	}
	CHECK_INT(store_post_delivery_count(st, id, &n, &e), BB_OK);
	CHECK(n.pending == 3 && n.done == 0 && n.failed == 0);
	/* One done, one failed, one retrying later. */
	claim(st, &c, T0, 60, 10, 0, __LINE__);
	CHECK_INT(c.n, 4);
	for (int i = 0; i < c.n; i++) {
		if (strstr(c.inbox[i], "a.example"))
			CHECK_INT(store_delivery_done(st, c.id[i], 202, T0, &e), BB_OK);
		else if (strstr(c.inbox[i], "b.example"))
			CHECK_INT(store_delivery_fail(st, c.id[i], 410, "gone", T0, &e), BB_OK);
		else
			CHECK_INT(store_delivery_retry(st, c.id[i], 503, "busy", T0 + 3600, T0, &e),
				  BB_OK);
	}
	CHECK_INT(store_post_delivery_each(st, id, delivery_collect, &l, &e), BB_OK);
	CHECK_STR(l.text, "a.example:1:1,b.example:2:1,c.example:0:1");
	CHECK_INT(store_post_delivery_count(st, id, &n, &e), BB_OK);
	CHECK(n.done == 1 && n.pending == 1 && n.failed == 1);
	/* Resend to the failed: b.example is pending again, from zero. */
	CHECK_INT(store_post_resend(st, id, false, T0 + 10, &queued, &e), BB_OK);
	CHECK_INT((int)queued, 1);
	memset(&l, 0, sizeof(l));
	CHECK_INT(store_post_delivery_each(st, id, delivery_collect, &l, &e), BB_OK);
	CHECK_STR(l.text, "a.example:1:1,b.example:0:0,c.example:0:1");
	/* "Retry now" for c.example: due at once. */
	memset(&c, 0, sizeof(c));
	CHECK_INT(store_host_retry_now(st, "c.example", T0 + 20, &queued, &e), BB_OK);
	CHECK_INT((int)queued, 1);
	claim(st, &c, T0 + 20, 60, 10, 0, __LINE__);
	CHECK_INT(c.n, 2); /* b (resent) and c (retried now) */
	/* Send again to all: the delivered one too. */
	CHECK_INT(store_post_resend(st, id, true, T0 + 30, &queued, &e), BB_OK);
	CHECK_INT((int)queued, 1);
	CHECK_INT(store_post_delivery_count(st, id, &n, &e), BB_OK);
	CHECK(n.done == 0 && n.pending == 3 && n.failed == 0);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

struct row_list {
	char text[512];
};

static enum bb_rc row_collect(const struct store_follower_row *r, void *arg, struct err *e)
{
	struct row_list *l = arg;
	size_t n = strlen(l->text);

	(void)e;
	snprintf(l->text + n, sizeof(l->text) - n, "%s%s@%s", n ? "," : "", r->f->handle,
		 r->server);
	return BB_OK;
}

static void expect_search(struct store *st, const char *q, enum store_follower_sort sort,
			  int64_t off, int64_t lim, const char *want, int64_t want_total, int line)
{
	struct row_list l = {{0}};
	struct err e = {0};
	int64_t total = -1;

	if (store_follower_search(st, q, sort, off, lim, &total, row_collect, &l, &e) != BB_OK)
		check_fail(__FILE__, line, "search: %s", e.msg);
	if (strcmp(l.text, want) != 0 || total != want_total)
		check_fail(__FILE__, line, "got %s (%lld), want %s (%lld)", l.text,
			   (long long)total, want, (long long)want_total);
}

static enum bb_rc server_collect(const char *server, int64_t n, void *arg, struct err *e)
{
	struct row_list *l = arg;
	size_t len = strlen(l->text);

	(void)e;
	snprintf(l->text + len, sizeof(l->text) - len, "%s%s=%lld", len ? "," : "", server,
		 (long long)n);
	return BB_OK;
}

static void t_follower_search(void)
{
	const char *dir = NULL;
	char *path = NULL;
	struct store *st = fresh(&dir, &path);
	struct store_follower d =
	    follower("https://a.example/u/4", "@four@a.example", "https://a.example/u/4/inbox",
		     "https://a.example/inbox", "https://a.example/f/4", T0 + 3);
	struct row_list l = {{0}};
	struct err e = {0};

	if (st == NULL)
		return;
	add_followers(st);
	CHECK_INT(store_follower_put(st, &d, &e), BB_OK);
	expect_search(st, NULL, STORE_FOLLOWERS_BY_SINCE, 0, 10,
		      "@four@a.example@a.example,@Three@c.example@c.example,"
		      "@two@b.example@b.example,@one@a.example@a.example",
		      4, __LINE__);
	expect_search(st, "", STORE_FOLLOWERS_BY_HANDLE, 0, 10,
		      "@four@a.example@a.example,@one@a.example@a.example,"
		      "@Three@c.example@c.example,@two@b.example@b.example",
		      4, __LINE__);
	expect_search(st, NULL, STORE_FOLLOWERS_BY_SERVER, 0, 10,
		      "@four@a.example@a.example,@one@a.example@a.example,"
		      "@two@b.example@b.example,@Three@c.example@c.example",
		      4, __LINE__);
	/* Search by server or handle, in any case; paging keeps the total. */
	expect_search(st, "a.exam", STORE_FOLLOWERS_BY_SINCE, 0, 10,
		      "@four@a.example@a.example,@one@a.example@a.example", 2, __LINE__);
	expect_search(st, "THREE", STORE_FOLLOWERS_BY_SINCE, 0, 10, "@Three@c.example@c.example", 1,
		      __LINE__);
	expect_search(st, NULL, STORE_FOLLOWERS_BY_SINCE, 1, 2,
		      "@Three@c.example@c.example,@two@b.example@b.example", 4, __LINE__);
	/* A LIKE pattern is not one: % matches only itself. */
	expect_search(st, "%", STORE_FOLLOWERS_BY_SINCE, 0, 10, "", 0, __LINE__);
	CHECK_INT(store_follower_servers(st, 10, server_collect, &l, &e), BB_OK);
	CHECK_STR(l.text, "a.example=2,b.example=1,c.example=1");
	memset(&l, 0, sizeof(l));
	CHECK_INT(store_follower_servers(st, 1, server_collect, &l, &e), BB_OK);
	CHECK_STR(l.text, "a.example=2");
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
    {"sessions", t_sessions},
    {"blocks", t_blocks},
    {"post_deliveries_and_resend", t_post_deliveries_and_resend},
    {"follower_search", t_follower_search},
};

CHECK_MAIN(cases)
