/*
 * comments_seed.c — the thread comments_seed.h describes, through store.h.
 */
#include "comments_seed.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

static bool actor(struct store *st, char *id, char *name, char *handle, char *avatar, char *url)
{
	char inbox[256], key[256];
	struct store_actor a = {0};
	struct err e = {0};

	snprintf(inbox, sizeof(inbox), "%s/inbox", id);
	snprintf(key, sizeof(key), "%s#main-key", id);
	a.id = id;
	a.inbox = inbox;
	a.handle = handle;
	a.key_id = key;
	a.public_key_pem = "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n";
	a.fetched_at = 1000;
	a.name = name;
	a.avatar = avatar;
	a.url = url;
	if (store_actor_put(st, &a, &e) != BB_OK) {
		check_fail(__FILE__, __LINE__, "store_actor_put: %s", e.msg);
		return false;
	}
	return true;
}

static bool comment(struct store *st, int64_t post, char *id, char *parent, char *author,
		    char *content, enum store_comment_status status, time_t published)
{
	struct store_comment c = {0};
	struct err e = {0};
	bool is_new = false;

	c.ap_id = id;
	c.post = post;
	c.parent = parent;
	c.author = author;
	c.content = content;
	c.status = status;
	c.published = published;
	c.received = published + 1;
	if (strncmp(id, "https://m.example/", 18) == 0)
		c.url = "https://m.example/@alice/1";
	if (store_comment_add(st, &c, &is_new, &e) != BB_OK || !is_new) {
		check_fail(__FILE__, __LINE__, "store_comment_add %s: %s", id, e.msg);
		return false;
	}
	return true;
}

static bool reaction(struct store *st, int64_t post, enum store_reaction_type type, char *actor_id,
		     char *activity, time_t when)
{
	struct err e = {0};
	bool is_new = false;

	if (store_reaction_add(st, post, type, actor_id, activity, when, &is_new, &e) != BB_OK) {
		check_fail(__FILE__, __LINE__, "store_reaction_add %s: %s", activity, e.msg);
		return false;
	}
	return true;
}

bool seed_comments(struct store *st, const char *post_id, const char *post_url,
		   const char *attacker, int64_t *rowid)
{
	char hostile[512];
	struct store_post p = {0,
			       "seed-guid",
			       (char *)post_id,
			       (char *)post_url,
			       "Seeded post",
			       "seed-hash",
			       "{}",
			       50,
			       50,
			       0};
	struct err e = {0};
	bool ok;

	snprintf(hostile, sizeof(hostile),
		 "<img src=\"%s\" onerror=\"document.body.dataset.pwned=1\">"
		 "<script>document.body.dataset.pwned=2</script>Mallory & \"co\"",
		 attacker);
	if (store_post_put(st, &p, &e) != BB_OK) {
		check_fail(__FILE__, __LINE__, "store_post_put: %s", e.msg);
		return false;
	}
	*rowid = p.rowid;
	ok = actor(st, SEED_ALICE, "Alice Example", "@alice@m.example", "https://m.example/a.png",
		   "https://m.example/@alice") &&
	     actor(st, SEED_MALLORY, hostile, SEED_HOSTILE_HANDLE, "javascript:alert(1)",
		   "javascript:alert(2)") &&
	     comment(st, p.rowid, SEED_C1, NULL, SEED_ALICE, "<p>First comment</p>",
		     STORE_COMMENT_APPROVED, 100) &&
	     comment(st, p.rowid, SEED_C2, SEED_C1, SEED_BOB, "<p>A reply to the first</p>",
		     STORE_COMMENT_APPROVED, 200) &&
	     comment(st, p.rowid, SEED_C3, SEED_C2, SEED_ALICE, "<p>Third level</p>",
		     STORE_COMMENT_APPROVED, 300) &&
	     comment(st, p.rowid, SEED_C4, NULL, SEED_MALLORY, "<p>Hostile author</p>",
		     STORE_COMMENT_APPROVED, 400) &&
	     comment(st, p.rowid, SEED_C5, NULL, SEED_ALICE, "<p>Waiting</p>",
		     STORE_COMMENT_PENDING, 500) &&
	     comment(st, p.rowid, SEED_C6, NULL, SEED_BOB, "<p>Just for you</p>",
		     STORE_COMMENT_PRIVATE, 600) &&
	     comment(st, p.rowid, SEED_C7, NULL, SEED_BOB, "<p>Spam</p>", STORE_COMMENT_REJECTED,
		     700) &&
	     reaction(st, p.rowid, STORE_REACTION_LIKE, SEED_ALICE, SEED_ALICE "#likes/1", 110) &&
	     reaction(st, p.rowid, STORE_REACTION_LIKE, SEED_BOB, SEED_BOB "#likes/1", 120) &&
	     reaction(st, p.rowid, STORE_REACTION_BOOST, SEED_ALICE,
		      SEED_ALICE "/statuses/9/activity", 130) &&
	     reaction(st, p.rowid, STORE_REACTION_QUOTE, SEED_BOB, "https://p.example/objects/q1",
		      140);
	return ok;
}
