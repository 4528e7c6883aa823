/*
 * seed.c — a store holding one post with many approved comments, for
 * bench/get.sh's /api/comments run:
 *
 *   bench_seed DATABASE POST_URL POST_ID [COMMENTS]
 *
 * Writes, through store.h (the migrations run as in serve), the post
 * (blog URL POST_URL, object id POST_ID), 50 commenters on 5 servers with
 * a name, handle, avatar and profile, COMMENTS (default 500) approved
 * replies of Mastodon's shape and ordinary length (a mention, a sentence
 * or three, now and then a link), one in three answering an earlier one,
 * and 40 likes and 12 boosts.  The database must be new.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define AUTHORS 50
#define SERVERS 5
#define LIKES 40
#define BOOSTS 12
#define COMMENTS_MAX 100000

static const char *const sentences[] = {
    "Thanks for writing this up, it matches what I have seen on our side.",
    "I had not thought of it that way; the part about moderation is spot on.",
    "We tried something similar last year and the hardest part was getting people to "
    "actually read the replies.",
    "Bookmarked. Sharing with the team tomorrow.",
    "Could you say more about how you handle the older posts? Do they get comments too?",
    "Agreed &amp; well put.",
    "This is exactly why I moved my blog to the fediverse: the conversation stays with the "
    "post.",
    "A small correction: the second link points to the wrong article.",
};

static int fail(const char *what, const struct err *e)
{
	fprintf(stderr, "bench_seed: %s: %s\n", what, e->msg);
	return 1;
}

static void author_of(int i, char *id, size_t n)
{
	snprintf(id, n, "https://social%d.example/users/reader%02d", i % SERVERS, i);
}

static int actors_put(struct store *st)
{
	char id[128], inbox[160], key[160], handle[96], name[64], avatar[192], url[128];
	struct err e = {0};

	for (int i = 0; i < AUTHORS; i++) {
		struct store_actor a = {0};

		author_of(i, id, sizeof(id));
		snprintf(inbox, sizeof(inbox), "%s/inbox", id);
		snprintf(key, sizeof(key), "%s#main-key", id);
		snprintf(handle, sizeof(handle), "@reader%02d@social%d.example", i, i % SERVERS);
		snprintf(name, sizeof(name), "Reader %02d \xe2\x80\x94 caf\xc3\xa9 & co", i);
		snprintf(avatar, sizeof(avatar),
			 "https://files.social%d.example/accounts/avatars/000/000/%03d/original/"
			 "a1b2c3d4e5f6.png",
			 i % SERVERS, i);
		snprintf(url, sizeof(url), "https://social%d.example/@reader%02d", i % SERVERS, i);
		a.id = id;
		a.inbox = inbox;
		a.handle = handle;
		a.key_id = key;
		a.public_key_pem = "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n";
		a.fetched_at = 1700000000;
		a.name = name;
		a.avatar = avatar;
		a.url = url;
		if (store_actor_put(st, &a, &e) != BB_OK)
			return fail("store_actor_put", &e);
	}
	return 0;
}

static int comments_put(struct store *st, int64_t post, const char *blog_handle, int count)
{
	const size_t ns = sizeof(sentences) / sizeof(sentences[0]);
	char id[160], parent[160], author[128], url[160], content[1024];
	struct err e = {0};

	for (int i = 0; i < count; i++) {
		struct store_comment c = {0};
		bool is_new = false;
		int a = (i * 7) % AUTHORS, n;

		author_of(a, author, sizeof(author));
		snprintf(id, sizeof(id), "https://social%d.example/users/reader%02d/statuses/%d",
			 a % SERVERS, a, 110000000 + i);
		snprintf(url, sizeof(url), "https://social%d.example/@reader%02d/%d", a % SERVERS,
			 a, 110000000 + i);
		n = snprintf(content, sizeof(content),
			     "<p><span class=\"h-card\"><a href=\"https://blog.example/@%s\" "
			     "class=\"u-url mention\" rel=\"nofollow noopener\">@<span>%s</span>"
			     "</a></span> %s",
			     blog_handle, blog_handle, sentences[i % ns]);
		if (i % 2 == 0)
			n += snprintf(content + n, sizeof(content) - (size_t)n, " %s",
				      sentences[(i / 2 + 3) % ns]);
		if (i % 5 == 0)
			n += snprintf(content + n, sizeof(content) - (size_t)n,
				      "</p><p>See <a href=\"https://example.org/notes/%d\" "
				      "rel=\"nofollow noopener\">example.org/notes/%d</a>",
				      i, i);
		snprintf(content + n, sizeof(content) - (size_t)n, "</p>");
		c.ap_id = id;
		c.post = post;
		c.author = author;
		c.url = url;
		c.content = content;
		c.status = STORE_COMMENT_APPROVED;
		c.published = 1764000000 + 60 * i;
		c.received = c.published + 2;
		if (i % 3 == 2) {
			int p = i / 2, pa = (p * 7) % AUTHORS;
			snprintf(parent, sizeof(parent),
				 "https://social%d.example/users/reader%02d/statuses/%d",
				 pa % SERVERS, pa, 110000000 + p);
			c.parent = parent;
		}
		if (store_comment_add(st, &c, &is_new, &e) != BB_OK || !is_new)
			return fail("store_comment_add", &e);
	}
	return 0;
}

static int reactions_put(struct store *st, int64_t post)
{
	char actor[128], act[192];
	struct err e = {0};

	for (int i = 0; i < LIKES + BOOSTS; i++) {
		bool like = i < LIKES, is_new = false;

		author_of(i % AUTHORS, actor, sizeof(actor));
		snprintf(act, sizeof(act), "%s#%s/%d", actor, like ? "likes" : "boosts", i);
		if (store_reaction_add(st, post, like ? STORE_REACTION_LIKE : STORE_REACTION_BOOST,
				       actor, act, 1764000000 + i, &is_new, &e) != BB_OK)
			return fail("store_reaction_add", &e);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct store_post p = {0,  "bench-seed-guid", NULL,	  NULL, "A post with many comments",
			       "h", "{}",		  1764000000, 1764000000, 0};
	struct store *st = NULL;
	struct err e = {0};
	struct stat sb;
	int count = 500, rc;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: bench_seed DATABASE POST_URL POST_ID [COMMENTS]\n");
		return 2;
	}
	if (argc == 5 && ((count = atoi(argv[4])) < 1 || count > COMMENTS_MAX)) {
		fprintf(stderr, "bench_seed: COMMENTS must be 1 to %d\n", COMMENTS_MAX);
		return 2;
	}
	if (stat(argv[1], &sb) == 0) {
		fprintf(stderr, "bench_seed: %s exists; give a new file\n", argv[1]);
		return 2;
	}
	p.url = argv[2];
	p.ap_id = argv[3];
	if (store_open(argv[1], &st, &e) != BB_OK)
		return fail(argv[1], &e);
	if (store_begin(st, &e) != BB_OK) {
		store_close(st);
		return fail("store_begin", &e);
	}
	rc = store_post_put(st, &p, &e) != BB_OK ? fail("store_post_put", &e) : 0;
	if (rc == 0)
		rc = actors_put(st);
	if (rc == 0)
		rc = comments_put(st, p.rowid, "blog", count);
	if (rc == 0)
		rc = reactions_put(st, p.rowid);
	if (rc == 0 && store_commit(st, &e) != BB_OK)
		rc = fail("store_commit", &e);
	if (rc != 0)
		store_rollback(st);
	store_close(st);
	if (rc == 0)
		printf("bench_seed: %s: 1 post, %d comments, %d likes, %d boosts\n", argv[1], count,
		       LIKES, BOOSTS);
	return rc;
}
