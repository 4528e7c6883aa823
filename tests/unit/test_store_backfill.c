/*
 * test_store_backfill.c — the store's record of the reply backfill
 * (store.h, "reply backfill"): which rows are due, in what order, what an
 * attempt changes, and the comments given a row to read them by.
 */
#include "check.h"
#include "store.h"
#include "store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY (24 * 3600)
#define NOW (1000 * DAY) /* "now" of these tests */
#define YOUNG (NOW - 30 * DAY)
#define BEFORE (NOW - 6 * 3600) /* the interval's start */

/* A store with a young post (published 2 days ago) and an old one; their
 * rowids in *young and *old. */
static struct store *with_posts(const char **dir, char **path, int64_t *young, int64_t *old)
{
	struct store *st = fresh(dir, path);
	struct err e = {0};
	struct store_post a = post("g1", "https://blog.example/o/1", "https://blog.example/1",
				   "One", "h1", NOW - 2 * DAY);
	struct store_post b = post("g2", "https://blog.example/o/2", "https://blog.example/2",
				   "Two", "h2", NOW - 90 * DAY);

	if (st == NULL)
		return NULL;
	CHECK_INT(store_post_put(st, &a, &e), BB_OK);
	CHECK_INT(store_post_put(st, &b, &e), BB_OK);
	*young = a.rowid;
	*old = b.rowid;
	return st;
}

/* The due rows' urls' last segment, in order ("a,b"). */
struct due {
	char list[256];
};

static enum bb_rc due_fn(const struct store_backfill *b, void *arg, struct err *e)
{
	struct due *d = arg;
	const char *tail = strrchr(b->url, '/');
	size_t n = strlen(d->list);

	(void)e;
	snprintf(d->list + n, sizeof(d->list) - n, "%s%s", n ? "," : "", tail ? tail + 1 : b->url);
	return BB_OK;
}

static const char *due(struct store *st, int64_t limit, struct due *d)
{
	struct err e = {0};

	d->list[0] = '\0';
	CHECK_INT(store_backfill_due_each(st, YOUNG, BEFORE, 5, limit, due_fn, d, &e), BB_OK);
	return d->list;
}

static void add(struct store *st, const char *url, enum store_backfill_kind kind, int64_t post,
		time_t fetched_at)
{
	struct store_backfill b = {(char *)url, kind, "https://m.example/s/owner", post, 0,
				   fetched_at,	0};
	struct err e = {0};

	CHECK_INT(store_backfill_add(st, &b, &e), BB_OK);
}

static void t_due(void)
{
	const char *dir;
	char *path = NULL;
	int64_t young = 0, old = 0;
	struct store *st = with_posts(&dir, &path, &young, &old);
	struct store_backfill got = {0};
	struct err e = {0};
	struct due d;

	if (st == NULL)
		goto out;
	add(st, "https://m.example/c/young-late", STORE_BACKFILL_REPLIES, young, BEFORE - 10);
	add(st, "https://m.example/c/young-recent", STORE_BACKFILL_REPLIES, young, BEFORE + 10);
	add(st, "https://m.example/c/old-late", STORE_BACKFILL_CONTEXT, old, BEFORE - 20);
	add(st, "https://m.example/c/old-new", STORE_BACKFILL_CONTEXT, old, 0);
	add(st, "https://m.example/c/young-new", STORE_BACKFILL_REPLIES, young, 0);
	add(st, "https://m.example/c/item", STORE_BACKFILL_ITEM, young, 0);
	add(st, "https://m.example/c/object-read", STORE_BACKFILL_OBJECT, young, BEFORE - 30);
	/* Never tried first (old posts too), then the longest waiting of the
	 * young posts; nothing within the interval, no item, no object
	 * read. */
	CHECK_STR(due(st, -1, &d), "old-new,young-new,young-late");
	CHECK_STR(due(st, 2, &d), "old-new,young-new");
	/* A second add changes nothing. */
	add(st, "https://m.example/c/young-late", STORE_BACKFILL_CONTEXT, old, 0);
	CHECK_INT(store_backfill_get(st, "https://m.example/c/young-late", &got, &e), BB_OK);
	CHECK_INT(got.kind, STORE_BACKFILL_REPLIES);
	CHECK_INT(got.post, young);
	CHECK_INT(got.fetched_at, BEFORE - 10);
	store_backfill_clear(&got);
	CHECK_INT(store_backfill_get(st, "https://m.example/c/none", &got, &e), BB_ERR_NOTFOUND);

	/* An attempt: no longer due; failures counted, kept by a skip,
	 * reset by a success; five in a row give the row up. */
	CHECK_INT(store_backfill_done(st, "https://m.example/c/young-new", NOW,
				      STORE_BACKFILL_FAILED, &e),
		  BB_OK);
	CHECK_INT(store_backfill_done(st, "https://m.example/c/young-new", NOW,
				      STORE_BACKFILL_SKIPPED, &e),
		  BB_OK);
	CHECK_INT(store_backfill_get(st, "https://m.example/c/young-new", &got, &e), BB_OK);
	CHECK_INT(got.failures, 1);
	CHECK_INT(got.fetched_at, NOW);
	store_backfill_clear(&got);
	CHECK_STR(due(st, -1, &d), "old-new,young-late");
	for (int i = 0; i < 5; i++)
		CHECK_INT(store_backfill_done(st, "https://m.example/c/young-late", BEFORE - 1,
					      STORE_BACKFILL_FAILED, &e),
			  BB_OK);
	CHECK_STR(due(st, -1, &d), "old-new");
	CHECK_INT(store_backfill_done(st, "https://m.example/c/young-late", BEFORE - 1,
				      STORE_BACKFILL_OK, &e),
		  BB_OK);
	CHECK_STR(due(st, -1, &d), "old-new,young-late");
	/* An object whose reading failed is due again after the interval. */
	CHECK_INT(store_backfill_done(st, "https://m.example/c/object-read", BEFORE - 40,
				      STORE_BACKFILL_FAILED, &e),
		  BB_OK);
	CHECK_STR(due(st, -1, &d), "old-new,object-read,young-late");
	/* A deleted post's rows are never due. */
	CHECK_INT(store_post_delete(st, old, NOW, &e), BB_OK);
	CHECK_STR(due(st, -1, &d), "object-read,young-late");
	/* Refused: no url, no owner, a kind outside. */
	struct store_backfill bad = {NULL, STORE_BACKFILL_REPLIES, "o", young, 0, 0, 0};
	CHECK_INT(store_backfill_add(st, &bad, &e), BB_ERR_INVALID);
	bad.url = "https://m.example/c/bad";
	bad.kind = STORE_BACKFILL_KIND_COUNT;
	CHECK_INT(store_backfill_add(st, &bad, &e), BB_ERR_INVALID);
out:
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static void t_probe(void)
{
	const char *dir;
	char *path = NULL;
	int64_t young = 0, old = 0, added = -1;
	struct store *st = with_posts(&dir, &path, &young, &old);
	struct store_comment c = {0};
	struct store_backfill got = {0};
	struct err e = {0};
	bool is_new = false;
	struct due d;

	if (st == NULL)
		goto out;
	c = (struct store_comment){.ap_id = "https://m.example/s/known",
				   .post = young,
				   .author = "https://m.example/u/a",
				   .content = "x",
				   .status = STORE_COMMENT_APPROVED,
				   .published = 1,
				   .received = 1};
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_OK);
	c.ap_id = "https://m.example/s/unknown";
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_OK);
	c.ap_id = "https://m.example/s/deleted";
	c.status = STORE_COMMENT_DELETED;
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_OK);
	c.ap_id = "https://m.example/s/on-old";
	c.post = old;
	c.status = STORE_COMMENT_APPROVED;
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_OK);
	/* "known" has a row under it (its replies); an item tried long ago
	 * is forgotten, one tried lately kept. */
	struct store_backfill r = {"https://m.example/s/known/replies",
				   STORE_BACKFILL_REPLIES,
				   "https://m.example/s/known",
				   young,
				   0,
				   NOW,
				   0};
	CHECK_INT(store_backfill_add(st, &r, &e), BB_OK);
	add(st, "https://m.example/i/stale", STORE_BACKFILL_ITEM, young, BEFORE - 1);
	add(st, "https://m.example/i/fresh", STORE_BACKFILL_ITEM, young, BEFORE + 1);
	CHECK_INT(store_backfill_probe_add(st, YOUNG, BEFORE, &added, &e), BB_OK);
	CHECK_INT(added, 1);
	CHECK_STR(due(st, -1, &d), "unknown");
	CHECK_INT(store_backfill_get(st, "https://m.example/s/unknown", &got, &e), BB_OK);
	CHECK_INT(got.kind, STORE_BACKFILL_OBJECT);
	CHECK_STR(got.owner, "https://m.example/s/unknown");
	store_backfill_clear(&got);
	CHECK_INT(store_backfill_get(st, "https://m.example/i/stale", &got, &e), BB_ERR_NOTFOUND);
	CHECK_INT(store_backfill_get(st, "https://m.example/i/fresh", &got, &e), BB_OK);
	store_backfill_clear(&got);
	/* Once read, an object is not due again; a second probe adds none. */
	CHECK_INT(
	    store_backfill_done(st, "https://m.example/s/unknown", NOW, STORE_BACKFILL_OK, &e),
	    BB_OK);
	CHECK_INT(store_backfill_probe_add(st, YOUNG, BEFORE, &added, &e), BB_OK);
	CHECK_INT(added, 0);
	CHECK_STR(due(st, -1, &d), "");
out:
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
    {"due", t_due},
    {"probe", t_probe},
};

CHECK_MAIN(cases)
