/*
 * test_store_comments.c — what store.h promises about comments, reactions
 * and mentions, checked through store.h alone (as test_store_contract.c
 * does for the rest, so any backend can be run against it): a comment
 * added once (the same Create twice, or replayed after a Delete, changes
 * nothing), edits only when strictly newer and by the author, statuses
 * (deleted is final), an actor's comments deleted together, walks with
 * their filters and order, the per-post comments version, reactions one
 * per actor (quotes one per quoting post), Undo only by the actor who
 * reacted, and mentions.
 */
#include "check.h"

#include "store.h"
#include "store_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALICE "https://m.example/users/alice"
#define BOB "https://p.example/users/bob"

/* A store with two posts; *p1 and *p2 their rowids. */
static struct store *with_posts(const char **dir, char **path, int64_t *p1, int64_t *p2)
{
	struct store *st = fresh(dir, path);
	struct err e = {0};
	struct store_post a = {
	    0,	"g1", "https://blog.example/o/1", "https://blog.example/1", "One", "h1", "{}", 10,
	    10, 0};
	struct store_post b = {
	    0,	"g2", "https://blog.example/o/2", "https://blog.example/2", "Two", "h2", "{}", 20,
	    20, 0};

	if (st == NULL)
		return NULL;
	CHECK_INT(store_post_put(st, &a, &e), BB_OK);
	CHECK_INT(store_post_put(st, &b, &e), BB_OK);
	*p1 = a.rowid;
	*p2 = b.rowid;
	return st;
}

static struct store_comment comment(char *ap_id, int64_t post, char *parent, char *author,
				    enum store_comment_status status, time_t published)
{
	struct store_comment c = {0};

	c.ap_id = ap_id;
	c.post = post;
	c.parent = parent;
	c.author = author;
	c.url = NULL;
	c.content = "<p>hi</p>";
	c.status = status;
	c.published = published;
	c.received = published + 1;
	return c;
}

static int64_t version_of(struct store *st, int64_t post)
{
	struct err e = {0};
	int64_t v = -1;

	CHECK_INT(store_post_comments_version(st, post, &v, &e), BB_OK);
	return v;
}

static int64_t count_where(struct store *st, unsigned statuses, int64_t post)
{
	struct store_comment_filter f = {statuses, post, 0, -1};
	struct err e = {0};
	int64_t n = -1;

	CHECK_INT(store_comment_count(st, &f, &n, &e), BB_OK);
	return n;
}

static void t_status_names(void)
{
	enum store_comment_status s = STORE_COMMENT_PENDING;
	const char *names[] = {"pending", "approved", "rejected", "private", "deleted"};

	for (int i = 0; i < STORE_COMMENT_STATUS_COUNT; i++) {
		CHECK_STR(store_comment_status_name((enum store_comment_status)i), names[i]);
		CHECK(store_comment_status_parse(names[i], &s));
		CHECK_INT(s, i);
	}
	CHECK(store_comment_status_name((enum store_comment_status)STORE_COMMENT_STATUS_COUNT) ==
	      NULL);
	CHECK(!store_comment_status_parse("all", &s));
	CHECK(!store_comment_status_parse("Approved", &s));
	CHECK(!store_comment_status_parse(NULL, &s));
	CHECK_STR(store_reaction_type_name(STORE_REACTION_LIKE), "like");
	CHECK_STR(store_reaction_type_name(STORE_REACTION_BOOST), "boost");
	CHECK_STR(store_reaction_type_name(STORE_REACTION_QUOTE), "quote");
	CHECK(store_reaction_type_name((enum store_reaction_type)3) == NULL);
}

static void t_add_get(void)
{
	const char *dir;
	char *path;
	int64_t p1 = 0, p2 = 0;
	struct store *st = with_posts(&dir, &path, &p1, &p2);
	struct err e = {0};
	struct store_comment c =
	    comment("https://m.example/s/1", 0, NULL, ALICE, STORE_COMMENT_PENDING, 100);
	struct store_comment got = {0};
	struct store_actor a = {ALICE,
				"https://m.example/in",
				NULL,
				"@alice@m.example",
				ALICE "#k",
				"PEM",
				5,
				"Alice",
				"https://m.example/a.png",
				"https://m.example/@alice"};
	bool is_new = true;

	if (st == NULL)
		goto out;
	c.post = p1;
	c.url = "https://m.example/@alice/1";
	CHECK_INT(version_of(st, p1), 0);
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_OK);
	CHECK(is_new);
	CHECK_INT(version_of(st, p1), 1);
	CHECK_INT(version_of(st, p2), 0);
	/* The same Create twice: one comment, no change. */
	c.content = "<p>other</p>";
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_OK);
	CHECK(!is_new);
	CHECK_INT(version_of(st, p1), 1);

	CHECK_INT(store_comment_get(st, "https://m.example/s/1", &got, &e), BB_OK);
	CHECK(got.rowid > 0);
	CHECK_STR(got.ap_id, "https://m.example/s/1");
	CHECK_INT(got.post, p1);
	CHECK(got.parent == NULL);
	CHECK_STR(got.author, ALICE);
	CHECK_STR(got.url, "https://m.example/@alice/1");
	CHECK_STR(got.content, "<p>hi</p>");
	CHECK_INT(got.status, STORE_COMMENT_PENDING);
	CHECK(!got.edited);
	CHECK_INT(got.published, 100);
	CHECK_INT(got.updated, 100); /* updated 0: published */
	CHECK_INT(got.received, 101);
	CHECK(got.author_name == NULL && got.author_avatar == NULL);
	store_comment_clear(&got);

	/* The author's cache entry shows through; putting it moves the
	 * version on, putting it again unchanged does not. */
	CHECK_INT(store_actor_put(st, &a, &e), BB_OK);
	CHECK_INT(version_of(st, p1), 2);
	CHECK_INT(store_actor_put(st, &a, &e), BB_OK);
	CHECK_INT(version_of(st, p1), 2);
	CHECK_INT(store_comment_get(st, "https://m.example/s/1", &got, &e), BB_OK);
	CHECK_STR(got.author_name, "Alice");
	CHECK_STR(got.author_handle, "@alice@m.example");
	CHECK_STR(got.author_avatar, "https://m.example/a.png");
	CHECK_STR(got.author_url, "https://m.example/@alice");
	store_comment_clear(&got);

	/* Refused: an unknown post, missing fields, a status outside. */
	c.ap_id = "https://m.example/s/2";
	c.post = p2 + 100;
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_ERR_NOTFOUND);
	CHECK(!is_new);
	c.post = p1;
	c.content = NULL;
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_ERR_INVALID);
	c.content = "x";
	c.status = (enum store_comment_status)9;
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_ERR_INVALID);
	CHECK_INT(store_comment_get(st, "https://m.example/s/2", &got, &e), BB_ERR_NOTFOUND);
	CHECK(got.ap_id == NULL);
out:
	store_comment_clear(&got);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static void t_edit(void)
{
	const char *dir;
	char *path;
	int64_t p1 = 0, p2 = 0;
	struct store *st = with_posts(&dir, &path, &p1, &p2);
	struct err e = {0};
	struct store_comment c =
	    comment("https://m.example/s/1", 0, NULL, ALICE, STORE_COMMENT_APPROVED, 100);
	struct store_comment got = {0};
	bool is_new = false, applied = true;

	if (st == NULL)
		goto out;
	c.post = p1;
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_OK);
	/* Equal and older updated: nothing. */
	CHECK_INT(store_comment_edit(st, c.ap_id, ALICE, "<p>same</p>", 100, &applied, &e), BB_OK);
	CHECK(!applied);
	CHECK_INT(store_comment_edit(st, c.ap_id, ALICE, "<p>old</p>", 50, &applied, &e), BB_OK);
	CHECK(!applied);
	/* Another author: nothing. */
	CHECK_INT(store_comment_edit(st, c.ap_id, BOB, "<p>bob</p>", 200, &applied, &e), BB_OK);
	CHECK(!applied);
	CHECK_INT(version_of(st, p1), 1);
	/* Newer, by the author: edited, status kept. */
	CHECK_INT(store_comment_edit(st, c.ap_id, ALICE, "<p>new</p>", 200, &applied, &e), BB_OK);
	CHECK(applied);
	CHECK_INT(version_of(st, p1), 2);
	CHECK_INT(store_comment_get(st, c.ap_id, &got, &e), BB_OK);
	CHECK_STR(got.content, "<p>new</p>");
	CHECK(got.edited);
	CHECK_INT(got.updated, 200);
	CHECK_INT(got.published, 100);
	CHECK_INT(got.status, STORE_COMMENT_APPROVED);
	store_comment_clear(&got);
	/* The same again: not strictly newer. */
	CHECK_INT(store_comment_edit(st, c.ap_id, ALICE, "<p>again</p>", 200, &applied, &e), BB_OK);
	CHECK(!applied);
	/* Unknown id: nothing, no error. */
	CHECK_INT(store_comment_edit(st, "https://m.example/s/9", ALICE, "x", 900, &applied, &e),
		  BB_OK);
	CHECK(!applied);
	/* Deleted: an edit cannot bring it back. */
	CHECK_INT(store_comment_status_set(st, c.ap_id, STORE_COMMENT_DELETED, &e), BB_OK);
	CHECK_INT(store_comment_edit(st, c.ap_id, ALICE, "<p>back</p>", 300, &applied, &e), BB_OK);
	CHECK(!applied);
	CHECK_INT(store_comment_get(st, c.ap_id, &got, &e), BB_OK);
	CHECK_STR(got.content, "<p>new</p>");
	CHECK_INT(got.status, STORE_COMMENT_DELETED);
out:
	store_comment_clear(&got);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static void t_status_and_replay(void)
{
	const char *dir;
	char *path;
	int64_t p1 = 0, p2 = 0;
	struct store *st = with_posts(&dir, &path, &p1, &p2);
	struct err e = {0};
	struct store_comment c =
	    comment("https://m.example/s/1", 0, NULL, ALICE, STORE_COMMENT_PENDING, 100);
	struct store_comment got = {0};
	bool is_new = false, known = true;
	int64_t v;

	if (st == NULL)
		goto out;
	c.post = p1;
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_OK);
	CHECK_INT(store_author_has_approved(st, ALICE, &known, &e), BB_OK);
	CHECK(!known);
	CHECK_INT(store_comment_status_set(st, c.ap_id, STORE_COMMENT_APPROVED, &e), BB_OK);
	CHECK_INT(store_author_has_approved(st, ALICE, &known, &e), BB_OK);
	CHECK(known);
	CHECK_INT(store_author_has_approved(st, BOB, &known, &e), BB_OK);
	CHECK(!known);
	v = version_of(st, p1);
	/* The status it has: BB_OK, no change. */
	CHECK_INT(store_comment_status_set(st, c.ap_id, STORE_COMMENT_APPROVED, &e), BB_OK);
	CHECK_INT(version_of(st, p1), v);
	CHECK_INT(store_comment_status_set(st, "https://m.example/s/9", STORE_COMMENT_APPROVED, &e),
		  BB_ERR_NOTFOUND);
	CHECK_INT(store_comment_status_set(st, c.ap_id, (enum store_comment_status)7, &e),
		  BB_ERR_INVALID);
	CHECK_INT(store_comment_status_set(st, c.ap_id, STORE_COMMENT_DELETED, &e), BB_OK);
	CHECK_INT(version_of(st, p1), v + 1);
	/* Deleted is final. */
	CHECK_INT(store_comment_status_set(st, c.ap_id, STORE_COMMENT_APPROVED, &e),
		  BB_ERR_INVALID);
	/* A replayed Create after the Delete: still deleted, as it was. */
	c.status = STORE_COMMENT_APPROVED;
	c.content = "<p>back</p>";
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_OK);
	CHECK(!is_new);
	CHECK_INT(store_comment_get(st, c.ap_id, &got, &e), BB_OK);
	CHECK_INT(got.status, STORE_COMMENT_DELETED);
	CHECK_STR(got.content, "<p>hi</p>");
	CHECK_INT(store_author_has_approved(st, ALICE, &known, &e), BB_OK);
	CHECK(!known);
out:
	store_comment_clear(&got);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

struct seen_ids {
	char list[512];
	int n;
	int stop_after;
};

static enum bb_rc seen_comment(const struct store_comment *c, void *arg, struct err *e)
{
	struct seen_ids *s = arg;
	size_t len = strlen(s->list);
	const char *tail = strrchr(c->ap_id, '/');

	snprintf(s->list + len, sizeof(s->list) - len, "%s%s", len ? "," : "", tail + 1);
	s->n++;
	if (s->stop_after && s->n == s->stop_after)
		return err_set(e, BB_ERR_INVALID, "stop");
	return BB_OK;
}

static void expect_comments(struct store *st, unsigned statuses, int64_t post, int64_t offset,
			    int64_t limit, const char *want, int line)
{
	struct store_comment_filter f = {statuses, post, offset, limit};
	struct seen_ids s = {{0}, 0, 0};
	struct err e = {0};

	CHECK_INT(store_comment_each(st, &f, seen_comment, &s, &e), BB_OK);
	if (strcmp(s.list, want) != 0)
		check_fail(__FILE__, line, "walk: \"%s\" != \"%s\"", s.list, want);
}

static void t_walk_and_author_delete(void)
{
	const char *dir;
	char *path;
	int64_t p1 = 0, p2 = 0;
	struct store *st = with_posts(&dir, &path, &p1, &p2);
	struct err e = {0};
	struct store_comment c[] = {
	    comment("https://m.example/s/a", 0, NULL, ALICE, STORE_COMMENT_APPROVED, 300),
	    comment("https://p.example/s/b", 0, "https://m.example/s/a", BOB,
		    STORE_COMMENT_APPROVED, 100),
	    comment("https://m.example/s/c", 0, NULL, ALICE, STORE_COMMENT_PRIVATE, 200),
	    comment("https://p.example/s/d", 0, NULL, BOB, STORE_COMMENT_PENDING, 50),
	    comment("https://m.example/s/e", 0, NULL, ALICE, STORE_COMMENT_PENDING, 10),
	};
	struct store_comment_filter f = {0, 0, 0, -1};
	struct seen_ids stop = {{0}, 0, 2};
	struct store_comment got = {0};
	bool is_new;
	int64_t n = -1, v1, v2;

	if (st == NULL)
		goto out;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		c[i].post = i < 4 ? p1 : p2;
		CHECK_INT(store_comment_add(st, &c[i], &is_new, &e), BB_OK);
	}
	/* Oldest first by published; filters by status set and post. */
	expect_comments(st, 0, 0, 0, -1, "e,d,b,c,a", __LINE__);
	expect_comments(st, 0, p1, 0, -1, "d,b,c,a", __LINE__);
	expect_comments(st, STORE_COMMENT_BIT(STORE_COMMENT_APPROVED), p1, 0, -1, "b,a", __LINE__);
	expect_comments(
	    st, STORE_COMMENT_BIT(STORE_COMMENT_PENDING) | STORE_COMMENT_BIT(STORE_COMMENT_PRIVATE),
	    0, 0, -1, "e,d,c", __LINE__);
	expect_comments(st, 0, p1, 1, 2, "b,c", __LINE__);
	expect_comments(st, STORE_COMMENT_BIT(STORE_COMMENT_REJECTED), 0, 0, -1, "", __LINE__);
	CHECK_INT(count_where(st, 0, 0), 5);
	CHECK_INT(count_where(st, STORE_COMMENT_BIT(STORE_COMMENT_APPROVED), p1), 2);
	CHECK_INT(count_where(st, STORE_COMMENT_BIT(STORE_COMMENT_PENDING), p2), 1);
	/* The parent comes back. */
	CHECK_INT(store_comment_get(st, "https://p.example/s/b", &got, &e), BB_OK);
	CHECK_STR(got.parent, "https://m.example/s/a");
	store_comment_clear(&got);
	/* A walk stopped by fn returns fn's code. */
	CHECK_INT(store_comment_each(st, &f, seen_comment, &stop, &e), BB_ERR_INVALID);
	CHECK_INT(stop.n, 2);

	/* Alice's Delete of herself: her three comments, on both posts. */
	v1 = version_of(st, p1);
	v2 = version_of(st, p2);
	CHECK_INT(store_comment_delete_by_author(st, ALICE, &n, &e), BB_OK);
	CHECK_INT(n, 3);
	CHECK(version_of(st, p1) > v1);
	CHECK(version_of(st, p2) > v2);
	expect_comments(st, STORE_COMMENT_BIT(STORE_COMMENT_DELETED), 0, 0, -1, "e,c,a", __LINE__);
	expect_comments(st, STORE_COMMENT_BIT(STORE_COMMENT_APPROVED), 0, 0, -1, "b", __LINE__);
	/* Again: nothing left to delete, versions kept. */
	v1 = version_of(st, p1);
	CHECK_INT(store_comment_delete_by_author(st, ALICE, &n, &e), BB_OK);
	CHECK_INT(n, 0);
	CHECK_INT(version_of(st, p1), v1);
out:
	store_comment_clear(&got);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static enum bb_rc seen_reaction(const struct store_reaction *r, void *arg, struct err *e)
{
	struct seen_ids *s = arg;
	size_t len = strlen(s->list);

	(void)e;
	snprintf(s->list + len, sizeof(s->list) - len, "%s%s:%s", len ? "," : "",
		 store_reaction_type_name(r->type), strrchr(r->activity_id, '/') + 1);
	s->n++;
	return BB_OK;
}

static void expect_counts(struct store *st, int64_t post, int64_t l, int64_t b, int64_t q, int line)
{
	struct err e = {0};
	int64_t likes = -1, boosts = -1, quotes = -1;

	CHECK_INT(store_reaction_counts(st, post, &likes, &boosts, &quotes, &e), BB_OK);
	if (likes != l || boosts != b || quotes != q)
		check_fail(__FILE__, line, "counts %lld/%lld/%lld != %lld/%lld/%lld",
			   (long long)likes, (long long)boosts, (long long)quotes, (long long)l,
			   (long long)b, (long long)q);
}

static void t_reactions(void)
{
	const char *dir;
	char *path;
	int64_t p1 = 0, p2 = 0, n = -1, v;
	struct store *st = with_posts(&dir, &path, &p1, &p2);
	struct err e = {0};
	struct seen_ids s = {{0}, 0, 0};
	bool is_new = false;

	if (st == NULL)
		goto out;
	CHECK_INT(store_reaction_add(st, p1, STORE_REACTION_LIKE, ALICE, "https://m.example/l/1",
				     10, &is_new, &e),
		  BB_OK);
	CHECK(is_new);
	CHECK_INT(version_of(st, p1), 1);
	/* A repeated like (another activity id) is one. */
	CHECK_INT(store_reaction_add(st, p1, STORE_REACTION_LIKE, ALICE, "https://m.example/l/2",
				     11, &is_new, &e),
		  BB_OK);
	CHECK(!is_new);
	CHECK_INT(version_of(st, p1), 1);
	CHECK_INT(store_reaction_add(st, p1, STORE_REACTION_BOOST, ALICE, "https://m.example/b/3",
				     12, &is_new, &e),
		  BB_OK);
	CHECK(is_new);
	CHECK_INT(store_reaction_add(st, p1, STORE_REACTION_LIKE, BOB, "https://p.example/l/4", 13,
				     &is_new, &e),
		  BB_OK);
	/* Quotes: one per quoting post, several by one actor. */
	CHECK_INT(store_reaction_add(st, p1, STORE_REACTION_QUOTE, BOB, "https://p.example/n/5", 14,
				     &is_new, &e),
		  BB_OK);
	CHECK(is_new);
	CHECK_INT(store_reaction_add(st, p1, STORE_REACTION_QUOTE, BOB, "https://p.example/n/6", 15,
				     &is_new, &e),
		  BB_OK);
	CHECK(is_new);
	CHECK_INT(store_reaction_add(st, p1, STORE_REACTION_QUOTE, BOB, "https://p.example/n/6", 16,
				     &is_new, &e),
		  BB_OK);
	CHECK(!is_new);
	CHECK_INT(store_reaction_add(st, p2, STORE_REACTION_LIKE, BOB, "https://p.example/l/7", 17,
				     &is_new, &e),
		  BB_OK);
	expect_counts(st, p1, 2, 1, 2, __LINE__);
	expect_counts(st, p2, 1, 0, 0, __LINE__);
	CHECK_INT(store_reaction_counts(st, p1, NULL, NULL, NULL, &e), BB_OK);
	/* Refused. */
	CHECK_INT(store_reaction_add(st, p2 + 50, STORE_REACTION_LIKE, BOB, "https://p.example/l/8",
				     1, &is_new, &e),
		  BB_ERR_NOTFOUND);
	CHECK_INT(store_reaction_add(st, p1, (enum store_reaction_type)5, BOB,
				     "https://p.example/l/8", 1, &is_new, &e),
		  BB_ERR_INVALID);
	CHECK_INT(store_reaction_add(st, p1, STORE_REACTION_LIKE, NULL, "https://p.example/l/8", 1,
				     &is_new, &e),
		  BB_ERR_INVALID);

	CHECK_INT(store_reaction_each(st, p1, seen_reaction, &s, &e), BB_OK);
	CHECK_STR(s.list, "like:1,boost:3,like:4,quote:5,quote:6");
	memset(&s, 0, sizeof(s));
	CHECK_INT(store_reaction_each(st, 0, seen_reaction, &s, &e), BB_OK);
	CHECK_INT(s.n, 6);

	/* Undo by the wrong actor: nothing. */
	v = version_of(st, p1);
	CHECK_INT(store_reaction_remove(st, "https://m.example/l/1", BOB, &n, &e), BB_OK);
	CHECK_INT(n, 0);
	CHECK_INT(version_of(st, p1), v);
	expect_counts(st, p1, 2, 1, 2, __LINE__);
	/* Undo of the ignored repeat: nothing either. */
	CHECK_INT(store_reaction_remove(st, "https://m.example/l/2", ALICE, &n, &e), BB_OK);
	CHECK_INT(n, 0);
	/* By the actor: gone. */
	CHECK_INT(store_reaction_remove(st, "https://m.example/l/1", ALICE, &n, &e), BB_OK);
	CHECK_INT(n, 1);
	CHECK(version_of(st, p1) > v);
	expect_counts(st, p1, 1, 1, 2, __LINE__);
	/* By kind. */
	CHECK_INT(store_reaction_remove_kind(st, p1, STORE_REACTION_BOOST, BOB, &n, &e), BB_OK);
	CHECK_INT(n, 0);
	CHECK_INT(store_reaction_remove_kind(st, p1, STORE_REACTION_BOOST, ALICE, &n, &e), BB_OK);
	CHECK_INT(n, 1);
	expect_counts(st, p1, 1, 0, 2, __LINE__);
	/* Everything of Bob's, on both posts. */
	v = version_of(st, p2);
	CHECK_INT(store_reaction_remove_by_actor(st, BOB, &n, &e), BB_OK);
	CHECK_INT(n, 4);
	CHECK(version_of(st, p2) > v);
	expect_counts(st, p1, 0, 0, 0, __LINE__);
	expect_counts(st, p2, 0, 0, 0, __LINE__);
	CHECK_INT(store_reaction_remove_by_actor(st, BOB, NULL, &e), BB_OK);
out:
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static enum bb_rc seen_mention(const struct store_mention *m, void *arg, struct err *e)
{
	struct seen_ids *s = arg;
	size_t len = strlen(s->list);

	(void)e;
	snprintf(s->list + len, sizeof(s->list) - len, "%s%s", len ? "," : "",
		 strrchr(m->ap_id, '/') + 1);
	s->n++;
	return BB_OK;
}

static void t_mentions(void)
{
	const char *dir;
	char *path;
	struct store *st = fresh(&dir, &path);
	struct err e = {0};
	struct store_mention a = {"https://m.example/s/1", ALICE, "<p>@blog hi</p>", 5, 10};
	struct store_mention b = {"https://p.example/s/2", BOB, "<p>@blog yo</p>", 6, 20};
	struct store_mention bad = {"https://p.example/s/3", NULL, "x", 1, 1};
	struct seen_ids s = {{0}, 0, 0};
	bool is_new = false;

	if (st == NULL)
		goto out;
	CHECK_INT(store_mention_add(st, &a, &is_new, &e), BB_OK);
	CHECK(is_new);
	CHECK_INT(store_mention_add(st, &b, &is_new, &e), BB_OK);
	CHECK_INT(store_mention_add(st, &a, &is_new, &e), BB_OK);
	CHECK(!is_new);
	CHECK_INT(store_mention_add(st, &bad, &is_new, &e), BB_ERR_INVALID);
	CHECK_INT(store_mention_each(st, 0, -1, seen_mention, &s, &e), BB_OK);
	CHECK_STR(s.list, "2,1"); /* newest first */
	memset(&s, 0, sizeof(s));
	CHECK_INT(store_mention_each(st, 1, 5, seen_mention, &s, &e), BB_OK);
	CHECK_STR(s.list, "1");
out:
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

/* store_post_comments_find: by blog URL (the live one of several), else
 * by object id, with the version of store_post_comments_version; a
 * deleted post or an unknown key is not found. */
static void t_comments_find(void)
{
	const char *dir;
	char *path;
	int64_t p1 = 0, p2 = 0, post = -1, v = -1;
	struct store *st = with_posts(&dir, &path, &p1, &p2);
	struct err e = {0};
	struct store_comment c =
	    comment("https://m.example/s/find", p1, NULL, ALICE, STORE_COMMENT_APPROVED, 100);
	struct store_post again = {0,	 "g3", "https://blog.example/o/3", "https://blog.example/2",
				   "Two again", "h3", "{}",			 30,
				   30,	 0};
	bool is_new = false;

	if (st == NULL)
		return;
	CHECK_INT(store_post_comments_find(st, "https://blog.example/1", &post, &v, &e), BB_OK);
	CHECK_INT(post, p1);
	CHECK_INT(v, 0);
	CHECK_INT(store_comment_add(st, &c, &is_new, &e), BB_OK);
	CHECK_INT(store_post_comments_find(st, "https://blog.example/o/1", &post, &v, &e), BB_OK);
	CHECK_INT(post, p1);
	CHECK_INT(v, version_of(st, p1));
	CHECK(v > 0);
	/* Post 2 deleted and republished under a new guid at the same URL:
	 * the live one; by the old object id: not found. */
	CHECK_INT(store_post_delete(st, p2, 50, &e), BB_OK);
	CHECK_INT(store_post_comments_find(st, "https://blog.example/2", &post, &v, &e),
		  BB_ERR_NOTFOUND);
	CHECK_INT(store_post_put(st, &again, &e), BB_OK);
	CHECK_INT(store_post_comments_find(st, "https://blog.example/2", &post, &v, &e), BB_OK);
	CHECK_INT(post, again.rowid);
	CHECK_INT(store_post_comments_find(st, "https://blog.example/o/2", &post, &v, &e),
		  BB_ERR_NOTFOUND);
	CHECK_INT(store_post_comments_find(st, "https://blog.example/none", &post, &v, &e),
		  BB_ERR_NOTFOUND);
	CHECK_INT(post, 0);
	store_close(st);
	free(path);
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
    {"status_names", t_status_names},
    {"add_get", t_add_get},
    {"edit", t_edit},
    {"status_and_replay", t_status_and_replay},
    {"walk_and_author_delete", t_walk_and_author_delete},
    {"reactions", t_reactions},
    {"mentions", t_mentions},
    {"comments_find", t_comments_find},
};

CHECK_MAIN(cases)
