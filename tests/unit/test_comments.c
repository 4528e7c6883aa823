/*
 * test_comments.c — activitypub/comments.[ch]: a reply read into its typed
 * struct (every shape of inReplyTo, to/cc, url, attributedTo, quotes and
 * emoji seen in the wild), routing by inReplyTo (post id, blog URL, a
 * thread three deep), what an applied activity changes in a real store
 * (each moderation mode, private audiences, edits newer and older,
 * deletes by the author and by someone else, an actor's Delete, likes,
 * boosts, quotes, Undo, a QuoteRequest's Accept), and the sanitizer: a
 * hostile corpus (XSS vectors, malformed nesting, entities, deep nesting,
 * a 5 MB input) and golden outputs for Mastodon-, Misskey-, Pleroma- and
 * GoToSocial-style content.
 */
#include "check.h"

#include "buf.h"
#include "comments.h"
#include "fsutil.h"
#include "site.h"
#include "store.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE "https://bridge.example"
#define US BASE "/ap/actor"
#define POST1 BASE "/ap/posts/1"
#define POST1_URL "https://blog.example/2026/a-post/"
#define POST2 BASE "/ap/posts/2"
#define ALICE "https://m.example/users/alice"
#define BOB "https://p.example/users/bob"
#define T0 1700000000

static struct ap_site site;

static void site_make(void)
{
	struct ap_site_config sc = {
	    .base_url = BASE,
	    .host = "bridge.example",
	    .handle = "blog",
	    .name = "Blog",
	    .summary = "",
	    .blog_url = "https://blog.example/",
	    .public_key_pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
	    .software_version = "1",
	    .published = T0,
	};
	struct err e = {0};

	if (site.actor_id == NULL && ap_site_init(&site, &sc, &e) != BB_OK)
		abort();
}

static json_t *load(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (j == NULL)
		fprintf(stderr, "bad test JSON: %s\n", je.text);
	return j;
}

/* ---- parsing ---- */

static void t_parse_mastodon(void)
{
	json_t *o = load("{\"id\":\"https://m.example/users/alice/statuses/1\",\"type\":\"Note\","
			 "\"inReplyTo\":\"" POST1 "\",\"published\":\"2026-08-21T14:02:11Z\","
			 "\"url\":\"https://m.example/@alice/1\",\"attributedTo\":\"" ALICE "\","
			 "\"to\":[\"https://www.w3.org/ns/activitystreams#Public\"],"
			 "\"cc\":[\"" ALICE "/followers\",\"" US "\"],"
			 "\"content\":\"<p>Nice :blobcat:</p>\","
			 "\"tag\":[{\"type\":\"Mention\",\"href\":\"" US
			 "\",\"name\":\"@blog@bridge.example\"},"
			 "{\"type\":\"Emoji\",\"name\":\":blobcat:\",\"icon\":{\"url\":\"https://"
			 "m.example/e.png\"}}]}");
	struct comment_note n;
	struct err e = {0};

	site_make();
	CHECK_INT(comment_note_parse(o, US, &n, &e), BB_OK);
	CHECK_STR(n.id, "https://m.example/users/alice/statuses/1");
	CHECK_STR(n.in_reply_to, POST1);
	CHECK_STR(n.attributed_to, ALICE);
	CHECK_STR(n.url, "https://m.example/@alice/1");
	CHECK_STR(n.content, "<p>Nice :blobcat:</p>");
	CHECK_INT(n.published, 1787320931);
	CHECK_INT(n.updated, 0);
	CHECK_INT(n.audience, COMMENT_AUDIENCE_PUBLIC);
	CHECK(n.mentions_us);
	CHECK(n.quote == NULL);
	CHECK_INT(n.nemoji, 1);
	CHECK_STR(n.emoji[0], ":blobcat:");
	json_decref(o);
}

static void t_parse_shapes(void)
{
	struct comment_note n;
	struct err e = {0};
	json_t *o;

	/* inReplyTo an object, to a string "as:Public" in cc: unlisted;
	 * url a Link array; attributedTo an array of objects; Misskey quote. */
	o = load("{\"id\":\"https://k.example/notes/9\",\"type\":\"Note\","
		 "\"inReplyTo\":{\"id\":\"" POST1 "\",\"type\":\"Note\"},"
		 "\"attributedTo\":[{\"id\":\"https://k.example/users/9\",\"type\":\"Person\"}],"
		 "\"to\":\"https://k.example/users/9/followers\",\"cc\":\"as:Public\","
		 "\"url\":[{\"type\":\"Link\",\"href\":\"https://k.example/notes/9/page\"}],"
		 "\"_misskey_quote\":\"" POST2 "\",\"updated\":\"2026-08-21T15:00:00Z\"}");
	CHECK_INT(comment_note_parse(o, US, &n, &e), BB_OK);
	CHECK_STR(n.in_reply_to, POST1);
	CHECK_STR(n.attributed_to, "https://k.example/users/9");
	CHECK_STR(n.url, "https://k.example/notes/9/page");
	CHECK_STR(n.quote, POST2);
	CHECK_INT(n.audience, COMMENT_AUDIENCE_UNLISTED);
	CHECK(!n.mentions_us);
	CHECK_INT(n.updated, 1787324400);
	json_decref(o);

	/* "Public" alone in to; quoteUrl. */
	o = load("{\"id\":\"https://g.example/s/1\",\"type\":\"Article\",\"to\":[\"Public\"],"
		 "\"quoteUrl\":\"" POST1 "\",\"attributedTo\":\"https://g.example/u\"}");
	CHECK_INT(comment_note_parse(o, US, &n, &e), BB_OK);
	CHECK_INT(n.audience, COMMENT_AUDIENCE_PUBLIC);
	CHECK_STR(n.quote, POST1);
	CHECK(n.in_reply_to == NULL);
	json_decref(o);

	/* Followers-only and direct: private; our actor in to is a mention. */
	o = load("{\"id\":\"https://m.example/s/2\",\"type\":\"Note\",\"to\":[\"" ALICE
		 "/followers\"],\"cc\":[]}");
	CHECK_INT(comment_note_parse(o, US, &n, &e), BB_OK);
	CHECK_INT(n.audience, COMMENT_AUDIENCE_PRIVATE);
	json_decref(o);
	o = load("{\"id\":\"https://m.example/s/3\",\"type\":\"Note\",\"to\":[\"" US "\"]}");
	CHECK_INT(comment_note_parse(o, US, &n, &e), BB_OK);
	CHECK_INT(n.audience, COMMENT_AUDIENCE_PRIVATE);
	CHECK(n.mentions_us);
	json_decref(o);

	/* Not http ids are not ids; no id at all is refused. */
	o = load("{\"id\":\"https://m.example/s/4\",\"type\":\"Note\","
		 "\"inReplyTo\":\"javascript:alert(1)\",\"attributedTo\":\"data:x\","
		 "\"url\":\"javascript:x\",\"published\":\"yesterday\"}");
	CHECK_INT(comment_note_parse(o, US, &n, &e), BB_OK);
	CHECK(n.in_reply_to == NULL && n.attributed_to == NULL && n.url == NULL);
	CHECK_INT(n.published, 0);
	json_decref(o);
	o = load("{\"type\":\"Note\",\"content\":\"x\"}");
	CHECK_INT(comment_note_parse(o, US, &n, &e), BB_ERR_INVALID);
	json_decref(o);
	CHECK_INT(comment_note_parse(NULL, US, &n, &e), BB_ERR_INVALID);

	CHECK(comments_is_public("https://www.w3.org/ns/activitystreams#Public"));
	CHECK(comments_is_public("as:Public"));
	CHECK(comments_is_public("Public"));
	CHECK(!comments_is_public("public"));
	CHECK(!comments_is_public("https://www.w3.org/ns/activitystreams#Publicity"));
	CHECK(!comments_is_public(NULL));
}

/* ---- a store with two posts ---- */

struct fixture {
	const char *dir;
	struct store *st;
	int64_t p1, p2;
	struct comments_env env;
};

static bool fixture_open(struct fixture *f, enum comments_moderation mod)
{
	struct store_post a = {0, "g1", POST1, POST1_URL, "One", "h1", "{}", 10, 10, 0};
	struct store_post b = {0,  "g2", POST2, "https://blog.example/2026/b/", "Two", "h2", "{}",
			       20, 20,	 0};
	struct err e = {0};
	char *path;

	site_make();
	memset(f, 0, sizeof(*f));
	f->dir = check_tmpdir();
	path = fs_path_join(f->dir, "bb.db");
	CHECK_INT(store_open(path, &f->st, &e), BB_OK);
	free(path);
	if (f->st == NULL)
		return false;
	CHECK_INT(store_post_put(f->st, &a, &e), BB_OK);
	CHECK_INT(store_post_put(f->st, &b, &e), BB_OK);
	f->p1 = a.rowid;
	f->p2 = b.rowid;
	f->env = (struct comments_env){&site, NULL, mod, {false, false}};
	return true;
}

static void fixture_close(struct fixture *f)
{
	store_close(f->st);
	if (f->dir)
		check_tmpdir_remove(f->dir);
}

/* Applies the activity text (its object, when embedded, trusted as is). */
static enum bb_rc apply(struct fixture *f, const char *text, time_t now)
{
	struct ap_activity a;
	struct comment_prepared note;
	struct err e = {0};
	enum bb_rc rc;

	rc = ap_activity_parse(text, strlen(text), &a, &e);
	CHECK_INT(rc, BB_OK);
	if (rc != BB_OK) {
		fprintf(stderr, "    %s\n", e.msg);
		return rc;
	}
	rc = comment_prepare(&a, a.object.json, f->env.site->actor_id, &note);
	CHECK_INT(rc, BB_OK);
	if (rc == BB_OK)
		rc = comments_apply(f->st, &f->env, &a, &note,
				    "https://m.example/users/alice/inbox", now, &e);
	if (rc != BB_OK)
		fprintf(stderr, "    apply: %s\n", e.msg);
	comment_prepared_clear(&note);
	ap_activity_free(&a);
	return rc;
}

/* A Create of a Note by actor (ALICE's host) answering in_reply_to. */
static char *create(const char *actor, const char *id, const char *in_reply_to, const char *to,
		    const char *content)
{
	char *s = NULL;
	int n = asprintf(&s,
			 "{\"id\":\"%s/activity\",\"type\":\"Create\",\"actor\":\"%s\","
			 "\"object\":{\"id\":\"%s\",\"type\":\"Note\",\"attributedTo\":\"%s\","
			 "\"inReplyTo\":\"%s\",\"to\":%s,\"content\":\"%s\","
			 "\"published\":\"2026-01-01T00:00:00Z\"}}",
			 id, actor, id, actor, in_reply_to, to, content);
	return n < 0 ? NULL : s;
}

#define TO_PUBLIC "[\"https://www.w3.org/ns/activitystreams#Public\"]"

/* The status of comment id, -1 when there is none. */
static int status_of(struct fixture *f, const char *id)
{
	struct store_comment c = {0};
	struct err e = {0};
	int s = -1;

	if (store_comment_get(f->st, id, &c, &e) == BB_OK)
		s = (int)c.status;
	store_comment_clear(&c);
	return s;
}

static void t_route_thread(void)
{
	struct fixture f;
	struct comment_target t = {0};
	struct store_comment c = {0};
	struct err e = {0};
	char *a = create(ALICE, "https://m.example/s/1", POST1, TO_PUBLIC, "<p>one</p>");
	char *b = create(BOB, "https://p.example/s/2", "https://m.example/s/1", TO_PUBLIC, "two");
	char *c3 = create(ALICE, "https://m.example/s/3", "https://p.example/s/2", TO_PUBLIC, "3");
	char *byurl = create(BOB, "https://p.example/s/4", POST1_URL, TO_PUBLIC, "four");
	char *stray =
	    create(BOB, "https://p.example/s/5", "https://elsewhere.example/x", TO_PUBLIC, "five");

	if (!fixture_open(&f, COMMENTS_MODERATION_AUTO))
		goto out;
	CHECK_INT(comments_route(f.st, POST1, &t, &e), BB_OK);
	CHECK_INT(t.post, f.p1);
	CHECK(t.parent == NULL);
	comment_target_clear(&t);
	CHECK_INT(comments_route(f.st, POST1_URL, &t, &e), BB_OK);
	CHECK_INT(t.post, f.p1);
	comment_target_clear(&t);
	CHECK_INT(comments_route(f.st, "https://m.example/s/1", &t, &e), BB_ERR_NOTFOUND);
	CHECK_INT(comments_route(f.st, NULL, &t, &e), BB_ERR_NOTFOUND);

	/* A thread three deep, all under the first post. */
	CHECK_INT(apply(&f, a, T0), BB_OK);
	CHECK_INT(apply(&f, b, T0), BB_OK);
	CHECK_INT(apply(&f, c3, T0), BB_OK);
	CHECK_INT(apply(&f, byurl, T0), BB_OK);
	CHECK_INT(apply(&f, stray, T0), BB_OK);
	CHECK_INT(store_comment_get(f.st, "https://m.example/s/3", &c, &e), BB_OK);
	CHECK_INT(c.post, f.p1);
	CHECK_STR(c.parent, "https://p.example/s/2");
	CHECK_STR(c.author, ALICE);
	CHECK_STR(c.content, "<p>3</p>");
	store_comment_clear(&c);
	CHECK_INT(store_comment_get(f.st, "https://p.example/s/2", &c, &e), BB_OK);
	CHECK_STR(c.parent, "https://m.example/s/1");
	store_comment_clear(&c);
	CHECK_INT(store_comment_get(f.st, "https://p.example/s/4", &c, &e), BB_OK);
	CHECK_INT(c.post, f.p1);
	CHECK(c.parent == NULL);
	store_comment_clear(&c);
	/* A reply to something not ours, not mentioning us: nothing. */
	CHECK_INT(store_comment_get(f.st, "https://p.example/s/5", &c, &e), BB_ERR_NOTFOUND);
	/* A deleted post takes no replies. */
	CHECK_INT(store_post_delete(f.st, f.p2, T0, &e), BB_OK);
	CHECK_INT(comments_route(f.st, POST2, &t, &e), BB_ERR_NOTFOUND);
out:
	comment_target_clear(&t);
	fixture_close(&f);
	free(a), free(b), free(c3), free(byurl), free(stray);
}

static void t_moderation(void)
{
	static const enum comments_moderation modes[] = {
	    COMMENTS_MODERATION_MANUAL, COMMENTS_MODERATION_KNOWN, COMMENTS_MODERATION_AUTO};
	char *first = create(ALICE, "https://m.example/s/1", POST1, TO_PUBLIC, "a");
	char *second = create(ALICE, "https://m.example/s/2", POST1, TO_PUBLIC, "b");
	char *unlisted =
	    create(BOB, "https://p.example/s/3", POST1, "[],\"cc\":[\"as:Public\"]", "c");
	char *followers =
	    create(BOB, "https://p.example/s/4", POST1, "[\"" BOB "/followers\"]", "d");
	char *direct = create(BOB, "https://p.example/s/5", POST1, "[\"" US "\"]", "e");
	struct err e = {0};

	for (size_t i = 0; i < 3; i++) {
		struct fixture f;
		enum store_comment_status want_first = modes[i] == COMMENTS_MODERATION_AUTO
							   ? STORE_COMMENT_APPROVED
							   : STORE_COMMENT_PENDING;

		if (!fixture_open(&f, modes[i]))
			continue;
		CHECK_INT(apply(&f, first, T0), BB_OK);
		CHECK_INT(status_of(&f, "https://m.example/s/1"), want_first);
		/* Once approved, the author is known. */
		CHECK_INT(store_comment_status_set(f.st, "https://m.example/s/1",
						   STORE_COMMENT_APPROVED, &e),
			  BB_OK);
		CHECK_INT(apply(&f, second, T0), BB_OK);
		CHECK_INT(status_of(&f, "https://m.example/s/2"),
			  modes[i] == COMMENTS_MODERATION_MANUAL ? STORE_COMMENT_PENDING
								 : STORE_COMMENT_APPROVED);
		CHECK_INT(apply(&f, unlisted, T0), BB_OK);
		CHECK_INT(status_of(&f, "https://p.example/s/3"), want_first);
		CHECK_INT(apply(&f, followers, T0), BB_OK);
		CHECK_INT(status_of(&f, "https://p.example/s/4"), STORE_COMMENT_PRIVATE);
		CHECK_INT(apply(&f, direct, T0), BB_OK);
		CHECK_INT(status_of(&f, "https://p.example/s/5"), STORE_COMMENT_PRIVATE);
		fixture_close(&f);
	}
	free(first), free(second), free(unlisted), free(followers), free(direct);
}

static void t_edit_delete(void)
{
	struct fixture f;
	struct store_comment c = {0};
	struct err e = {0};
	char *a = create(ALICE, "https://m.example/s/1", POST1, TO_PUBLIC, "<p>first</p>");
	char *b = create(ALICE, "https://m.example/s/2", POST2, TO_PUBLIC, "<p>other</p>");
	const char *upd_newer =
	    "{\"id\":\"https://m.example/s/1#updates/2\",\"type\":\"Update\",\"actor\":\"" ALICE
	    "\",\"object\":{\"id\":\"https://m.example/s/"
	    "1\",\"type\":\"Note\",\"attributedTo\":\"" ALICE "\",\"inReplyTo\":\"" POST1
	    "\",\"content\":\"<p>second</p>\","
	    "\"published\":\"2026-01-01T00:00:00Z\",\"updated\":\"2026-01-02T00:00:00Z\"}}";
	const char *upd_older =
	    "{\"id\":\"https://m.example/s/1#updates/1\",\"type\":\"Update\",\"actor\":\"" ALICE
	    "\",\"object\":{\"id\":\"https://m.example/s/"
	    "1\",\"type\":\"Note\",\"attributedTo\":\"" ALICE
	    "\",\"content\":\"<p>older</p>\",\"updated\":\"2026-01-01T12:00:00Z\"}}";
	const char *upd_bob =
	    "{\"id\":\"https://p.example/u/1\",\"type\":\"Update\",\"actor\":\"" BOB
	    "\",\"object\":{\"id\":\"https://m.example/s/"
	    "1\",\"type\":\"Note\",\"attributedTo\":\"" BOB
	    "\",\"content\":\"<p>bob</p>\",\"updated\":\"2026-02-01T00:00:00Z\"}}";
	const char *del_bob =
	    "{\"id\":\"https://p.example/d/1\",\"type\":\"Delete\",\"actor\":\"" BOB
	    "\",\"object\":\"https://m.example/s/1\"}";
	const char *del =
	    "{\"id\":\"https://m.example/s/1#delete\",\"type\":\"Delete\",\"actor\":\"" ALICE
	    "\",\"object\":{\"id\":\"https://m.example/s/1\",\"type\":\"Tombstone\"}}";
	const char *del_actor =
	    "{\"id\":\"" ALICE "#delete\",\"type\":\"Delete\",\"actor\":\"" ALICE
	    "\",\"object\":\"" ALICE "\"}";
	const char *like = "{\"id\":\"https://m.example/l/1\",\"type\":\"Like\",\"actor\":\"" ALICE
			   "\",\"object\":\"" POST2 "\"}";
	int64_t likes = -1;

	if (!fixture_open(&f, COMMENTS_MODERATION_AUTO))
		goto out;
	CHECK_INT(apply(&f, a, T0), BB_OK);
	CHECK_INT(apply(&f, b, T0), BB_OK);
	CHECK_INT(apply(&f, like, T0), BB_OK);
	CHECK_INT(apply(&f, upd_newer, T0), BB_OK);
	CHECK_INT(apply(&f, upd_older, T0), BB_OK);
	CHECK_INT(apply(&f, upd_bob, T0), BB_OK);
	CHECK_INT(store_comment_get(f.st, "https://m.example/s/1", &c, &e), BB_OK);
	CHECK_STR(c.content, "<p>second</p>");
	CHECK(c.edited);
	CHECK_INT(c.status, STORE_COMMENT_APPROVED);
	store_comment_clear(&c);
	/* Someone else's Delete: nothing; the author's: deleted, and a
	 * replayed Create cannot bring it back. */
	CHECK_INT(apply(&f, del_bob, T0), BB_OK);
	CHECK_INT(status_of(&f, "https://m.example/s/1"), STORE_COMMENT_APPROVED);
	CHECK_INT(apply(&f, del, T0), BB_OK);
	CHECK_INT(status_of(&f, "https://m.example/s/1"), STORE_COMMENT_DELETED);
	CHECK_INT(apply(&f, a, T0), BB_OK);
	CHECK_INT(status_of(&f, "https://m.example/s/1"), STORE_COMMENT_DELETED);
	/* The actor deleted: all their comments, and their reactions. */
	CHECK_INT(apply(&f, del_actor, T0), BB_OK);
	CHECK_INT(status_of(&f, "https://m.example/s/2"), STORE_COMMENT_DELETED);
	CHECK_INT(store_reaction_counts(f.st, f.p2, &likes, NULL, NULL, &e), BB_OK);
	CHECK_INT(likes, 0);
out:
	fixture_close(&f);
	free(a), free(b);
}

static enum bb_rc grab_body(const struct store_delivery *d, void *arg, struct err *e)
{
	char **body = arg;

	(void)e;
	free(*body);
	*body = strdup(d->body);
	return BB_OK;
}

static void t_reactions(void)
{
	struct fixture f;
	struct err e = {0};
	int64_t l = -1, b = -1, q = -1;
	char *body = NULL, *auth = NULL;
	json_t *j = NULL;
	const char *like = "{\"id\":\"https://m.example/l/1\",\"type\":\"Like\",\"actor\":\"" ALICE
			   "\",\"object\":\"" POST1 "\"}";
	const char *like2 = "{\"id\":\"https://m.example/l/2\",\"type\":\"Like\",\"actor\":\"" ALICE
			    "\",\"object\":\"" POST1 "\"}";
	const char *boost =
	    "{\"id\":\"https://p.example/b/1\",\"type\":\"Announce\",\"actor\":\"" BOB
	    "\",\"object\":\"" POST1 "\"}";
	const char *undo_wrong =
	    "{\"id\":\"https://p.example/u/9\",\"type\":\"Undo\",\"actor\":\"" BOB
	    "\",\"object\":\"https://m.example/l/1\"}";
	const char *undo_like =
	    "{\"id\":\"https://m.example/u/1\",\"type\":\"Undo\",\"actor\":\"" ALICE
	    "\",\"object\":{\"id\":\"https://m.example/l/7\",\"type\":\"Like\",\"actor\":\"" ALICE
	    "\",\"object\":\"" POST1 "\"}}";
	const char *undo_boost =
	    "{\"id\":\"https://p.example/u/2\",\"type\":\"Undo\",\"actor\":\"" BOB
	    "\",\"object\":\"https://p.example/b/1\"}";
	const char *quote =
	    "{\"id\":\"https://p.example/n/1/activity\",\"type\":\"Create\",\"actor\":\"" BOB
	    "\",\"object\":{\"id\":\"https://p.example/n/"
	    "1\",\"type\":\"Note\",\"attributedTo\":\"" BOB "\",\"to\":" TO_PUBLIC
	    ",\"quote\":\"" POST1 "\",\"content\":\"look\"}}";
	const char *qr =
	    "{\"id\":\"https://p.example/qr/1\",\"type\":\"QuoteRequest\",\"actor\":\"" BOB
	    "\",\"object\":\"" POST1 "\",\"instrument\":\"https://p.example/n/2\"}";
	const char *like_other =
	    "{\"id\":\"https://m.example/l/3\",\"type\":\"Like\",\"actor\":\"" ALICE
	    "\",\"object\":\"https://elsewhere.example/x\"}";

	if (!fixture_open(&f, COMMENTS_MODERATION_MANUAL))
		goto out;
	CHECK_INT(apply(&f, like, T0), BB_OK);
	CHECK_INT(apply(&f, like2, T0), BB_OK);
	CHECK_INT(apply(&f, boost, T0), BB_OK);
	CHECK_INT(apply(&f, quote, T0), BB_OK);
	CHECK_INT(apply(&f, like_other, T0), BB_OK);
	CHECK_INT(store_reaction_counts(f.st, f.p1, &l, &b, &q, &e), BB_OK);
	CHECK_INT(l, 1);
	CHECK_INT(b, 1);
	CHECK_INT(q, 1);
	/* A quote is no comment. */
	CHECK_INT(status_of(&f, "https://p.example/n/1"), -1);
	CHECK_INT(apply(&f, undo_wrong, T0), BB_OK);
	CHECK_INT(store_reaction_counts(f.st, f.p1, &l, &b, &q, &e), BB_OK);
	CHECK_INT(l, 1);
	CHECK_INT(apply(&f, undo_like, T0), BB_OK);
	CHECK_INT(apply(&f, undo_boost, T0), BB_OK);
	CHECK_INT(store_reaction_counts(f.st, f.p1, &l, &b, &q, &e), BB_OK);
	CHECK_INT(l, 0);
	CHECK_INT(b, 0);

	/* QuoteRequest: a quote, and an Accept queued whose result is a
	 * QuoteAuthorization we serve. */
	CHECK_INT(apply(&f, qr, T0), BB_OK);
	CHECK_INT(store_reaction_counts(f.st, f.p1, &l, &b, &q, &e), BB_OK);
	CHECK_INT(q, 2);
	CHECK_INT(store_delivery_claim(f.st, NULL, T0 + 1, 60, 10, 0, grab_body, &body, &e), BB_OK);
	j = body ? load(body) : NULL;
	CHECK(j != NULL);
	CHECK_STR(json_string_value(json_object_get(j, "type")), "Accept");
	CHECK_STR(json_string_value(json_object_get(j, "actor")), US);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "object"), "id")),
		  "https://p.example/qr/1");
	CHECK(check_contains(json_string_value(json_object_get(j, "result")),
			     BASE "/ap/activities/"));
	if (json_string_value(json_object_get(j, "result")))
		CHECK_INT(store_activity_get(f.st, json_string_value(json_object_get(j, "result")),
					     &auth, &e),
			  BB_OK);
	CHECK(check_contains(auth, "\"type\":\"QuoteAuthorization\""));
	CHECK(check_contains(auth, "\"interactionTarget\":\"" POST1 "\""));
	CHECK(check_contains(auth, "\"interactingObject\":\"https://p.example/n/2\""));
	CHECK(check_contains(auth, "\"attributedTo\":\"" US "\""));
out:
	json_decref(j);
	free(body);
	free(auth);
	fixture_close(&f);
}

static enum bb_rc count_mention(const struct store_mention *m, void *arg, struct err *e)
{
	(void)e;
	(void)m;
	(*(int *)arg)++;
	return BB_OK;
}

static void t_mention_and_blocked(void)
{
	struct fixture f;
	struct err e = {0};
	char *blocked[] = {"p.example", NULL};
	char *mention =
	    create(ALICE, "https://m.example/s/9", "https://else.example/x", "[\"" US "\"]", "hi");
	char *from_blocked = create(BOB, "https://p.example/s/1", POST1, TO_PUBLIC, "spam");
	int n = 0;

	if (!fixture_open(&f, COMMENTS_MODERATION_AUTO))
		goto out;
	f.env.blocked_domains = blocked;
	CHECK_INT(apply(&f, mention, T0), BB_OK);
	CHECK_INT(status_of(&f, "https://m.example/s/9"), -1);
	CHECK_INT(store_mention_each(f.st, 0, -1, count_mention, &n, &e), BB_OK);
	CHECK_INT(n, 1);
	CHECK_INT(apply(&f, from_blocked, T0), BB_OK);
	CHECK_INT(status_of(&f, "https://p.example/s/1"), -1);
out:
	fixture_close(&f);
	free(mention), free(from_blocked);
}

/* ---- sanitizer ---- */

static char *sanitize(const char *html)
{
	struct buf b;

	buf_init(&b, COMMENT_CONTENT_MAX + 1);
	if (comments_sanitize(html, "https://m.example/s/1", &b) != BB_OK) {
		buf_free(&b);
		return strdup("(error)");
	}
	return b.data ? buf_take(&b) : strdup("");
}

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

/* Nothing dangerous in out: no tag but the allowed ones, no attribute but
 * href, rel and class, no script-ish URL. */
static void check_safe(const char *in, const char *out)
{
	static const char *const bad[] = {"<script",	 "<img",       "<iframe",   "<svg",
					  "<style",	 "<object",    "<embed",    "<form",
					  "<input",	 "<link",      "<meta",	    "<base",
					  "javascript:", "data:",      "vbscript:", "onerror",
					  "onload",	 "onclick",    "style=",    "<math",
					  "srcdoc",	 "formaction", "<video",    "<audio",
					  "expression("};
	static const char *const tags[] = {"p",	  "br", "a",	  "blockquote", "ul",  "ol",
					   "li",  "em", "strong", "b",		"i",   "u",
					   "del", "s",	"code",	  "pre",	"span"};
	const char *at;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (contains_ci(out, bad[i]))
			check_fail(__FILE__, __LINE__, "%s survived in \"%.80s\" -> \"%.200s\"",
				   bad[i], in, out);
	for (at = out; (at = strchr(at, '<')) != NULL; at++) {
		size_t len = strspn(at + 1 + (at[1] == '/'), "abcdefghijklmnopqrstuvwxyz");
		const char *name = at + 1 + (at[1] == '/');
		bool ok = false;

		for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]) && !ok; i++)
			ok = strlen(tags[i]) == len && strncmp(tags[i], name, len) == 0;
		if (!ok)
			check_fail(__FILE__, __LINE__, "tag <%.10s in \"%.200s\"", name, out);
	}
}

static void t_hostile(void)
{
	static const char *const corpus[] = {
	    "<script>alert(1)</script>ok",
	    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
	    "<IMG SRC=\"javascript:alert('XSS');\">",
	    "<img src=x onerror=alert(1)>",
	    "<a href=\"javascript:alert(1)\">click</a>",
	    "<a href=\"JaVaScRiPt:alert(1)\">click</a>",
	    "<a href=\"jav&#x09;ascript:alert(1)\">tab</a>",
	    "<a "
	    "href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">e</a>",
	    "<a href=\" javascript:alert(1)\">space</a>",
	    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">d</a>",
	    "<a href=\"vbscript:msgbox(1)\">v</a>",
	    "<a href=\"https://ok.example/\" onclick=\"alert(1)\" style=\"color:red\">ok</a>",
	    "<svg/onload=alert(1)>",
	    "<svg><script>alert(1)</script></svg>",
	    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
	    "<iframe src=\"https://evil.example\"></iframe>",
	    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
	    "<body onload=alert(1)>",
	    "<div style=\"background:url(javascript:alert(1))\">x</div>",
	    "<p style=\"width: expression(alert(1))\">x</p>",
	    "<object data=\"data:text/html,<script>alert(1)</script>\"></object>",
	    "<embed src=\"javascript:alert(1)\">",
	    "<form action=\"https://evil.example\"><input type=submit></form>",
	    "<button formaction=javascript:alert(1)>b</button>",
	    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
	    "<link rel=stylesheet href=https://evil.example/x.css>",
	    "<base href=\"javascript:alert(1)//\">",
	    "<style>@import 'https://evil.example/x.css';</style>",
	    "<<script>script>alert(1)<</script>/script>",
	    "<scr<script>ipt>alert(1)</scr</script>ipt>",
	    "<a href=\"https://ok.example/\"><a href=\"javascript:x\">nested</a></a>",
	    "<p><b><i>unclosed <u>everything",
	    "</p></b>stray closers</a></span>",
	    "<!-- <script>alert(1)</script> -->comment",
	    "<![CDATA[<script>alert(1)</script>]]>",
	    "&lt;script&gt;alert(1)&lt;/script&gt;",
	    "&#60;script&#62;alert(1)&#60;/script&#62;",
	    "<span class=\"mention\" onmouseover=\"alert(1)\">@x</span>",
	    "<video><source onerror=\"alert(1)\"></video>",
	    "<audio src=x onerror=alert(1)>",
	    "<a href=\"https://ok.example/\" target=\"_blank\" rel=\"opener\">t</a>",
	    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
	    "<template><script>alert(1)</script></template>",
	    "<textarea><script>alert(1)</script></textarea>",
	    "<title><script>alert(1)</script></title>",
	    "\xff\xfe<scr\xc0ipt>bad utf-8",
	};
	static const struct {
		const char *in, *want;
	} keep[] = {
	    {"<p>Hello <b>world</b> &amp; friends</p>", "<p>Hello <b>world</b> &amp; friends</p>"},
	    {"<a href=\"https://ok.example/\" onclick=\"x\">ok</a>",
	     "<p><a href=\"https://ok.example/\" rel=\"nofollow noopener ugc\">ok</a></p>"},
	    {"&lt;script&gt;", "<p>&lt;script&gt;</p>"},
	    {"<script>alert(1)</script>ok", "<p>ok</p>"},
	};

	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		char *out = sanitize(corpus[i]);
		check_safe(corpus[i], out);
		free(out);
	}
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		char *out = sanitize(keep[i].in);
		CHECK_STR(out, keep[i].want);
		free(out);
	}
}

/* Counts of an open and a close tag in s are equal. */
static void check_balanced(const char *s, const char *open, const char *close)
{
	size_t o = 0, c = 0;

	for (const char *at = s; (at = strstr(at, open)) != NULL; at++)
		o++;
	for (const char *at = s; (at = strstr(at, close)) != NULL; at++)
		c++;
	if (o != c)
		check_fail(__FILE__, __LINE__, "%zu %s but %zu %s", o, open, c, close);
}

static void t_big_and_deep(void)
{
	size_t big = 5 * 1024 * 1024, deep = 20000;
	struct buf in;
	char *out;

	/* 5 MB of paragraphs: cut at a whole paragraph within 64 KiB. */
	buf_init(&in, big + 64);
	while (in.len < big)
		if (buf_puts(&in, "<p>lorem ipsum dolor <b>sit</b> amet &amp; caf\xc3\xa9</p>") !=
		    BB_OK)
			break;
	out = sanitize(in.data);
	CHECK(strlen(out) <= COMMENT_CONTENT_MAX);
	CHECK(strlen(out) > COMMENT_CONTENT_MAX / 2);
	CHECK(strncmp(out + strlen(out) - 4, "</p>", 4) == 0);
	check_balanced(out, "<p>", "</p>");
	check_balanced(out, "<b>", "</b>");
	check_safe("(5 MB)", out);
	free(out);
	buf_free(&in);

	/* One 5 MB word: cut inside it, at a whole character. */
	buf_init(&in, big + 64);
	while (in.len < big)
		if (buf_puts(&in, "\xc3\xa9") != BB_OK)
			break;
	out = sanitize(in.data);
	CHECK(strlen(out) <= COMMENT_CONTENT_MAX);
	CHECK(strncmp(out + strlen(out) - 4, "</p>", 4) == 0);
	CHECK(strstr(out, "\xef\xbf\xbd") == NULL); /* no half character replaced */
	free(out);
	buf_free(&in);

	/* Deep nesting: well formed; the text kept at a depth libxml2
	 * parses (it stops at 256 levels: what lies below is lost, never
	 * unsafe). */
	for (size_t d = 200; d <= deep; d = d == 200 ? deep : deep + 1) {
		buf_init(&in, deep * 20 + 64);
		if (buf_puts(&in, "top") != BB_OK)
			CHECK(0);
		for (size_t i = 0; i < d; i++)
			if (buf_puts(&in, i % 2 ? "<b>" : "<blockquote>") != BB_OK)
				break;
		if (buf_puts(&in, "bottom<script>alert(1)</script>") != BB_OK)
			CHECK(0);
		out = sanitize(in.data);
		CHECK(strstr(out, "top") != NULL);
		if (d == 200)
			CHECK(strstr(out, "bottom") != NULL);
		check_balanced(out, "<b>", "</b>");
		check_balanced(out, "<blockquote>", "</blockquote>");
		check_safe("(deep)", out);
		free(out);
		buf_free(&in);
	}
}

static void t_golden(void)
{
	static const struct {
		const char *name, *in, *want;
	} g[] = {
	    {"mastodon",
	     "<p><span class=\"h-card\" translate=\"no\"><a href=\"https://bridge.example/@blog\" "
	     "class=\"u-url mention\">@<span>blog</span></a></span> Nice post! <a "
	     "href=\"https://m.example/tags/c\" class=\"mention hashtag\" "
	     "rel=\"tag\">#<span>c</span></a>"
	     "</p><p>See <a href=\"https://example.org/a/long/path\" target=\"_blank\" "
	     "rel=\"nofollow "
	     "noopener noreferrer\" translate=\"no\"><span "
	     "class=\"invisible\">https://</span><span "
	     "class=\"ellipsis\">example.org/a/long</span><span "
	     "class=\"invisible\">/path</span></a> "
	     ":blobcat:</p>",
	     "<p><span class=\"h-card\"><a href=\"https://bridge.example/@blog\" rel=\"nofollow "
	     "noopener ugc\" class=\"u-url mention\">@<span>blog</span></a></span> Nice post! <a "
	     "href=\"https://m.example/tags/c\" rel=\"nofollow noopener ugc\" class=\"mention "
	     "hashtag\">#<span>c</span></a></p><p>See <a href=\"https://example.org/a/long/path\" "
	     "rel=\"nofollow noopener ugc\"><span class=\"invisible\">https://</span><span "
	     "class=\"ellipsis\">example.org/a/long</span><span "
	     "class=\"invisible\">/path</span></a> :blobcat:</p>"},
	    {"misskey",
	     "<p><a href=\"https://bridge.example/@blog\" class=\"u-url "
	     "mention\">@blog@bridge.example"
	     "</a><span> ええと</span><br><span>二行目 </span><i>$[x2 big]</i> :misskey_emoji:</p>",
	     "<p><a href=\"https://bridge.example/@blog\" rel=\"nofollow noopener ugc\" "
	     "class=\"u-url "
	     "mention\">@blog@bridge.example</a><span> ええと</span><br><span>二行目 "
	     "</span><i>$[x2 big]</i> :misskey_emoji:</p>"},
	    {"pleroma",
	     "<span class=\"h-card\"><a class=\"u-url mention\" data-user=\"9x\" "
	     "href=\"https://bridge.example/ap/actor\" rel=\"ugc\">@<span>blog</span></a></span> "
	     "hello<br/>second line <img class=\"emoji\" alt=\":pleroma:\" title=\":pleroma:\" "
	     "src=\"https://pl.example/emoji/p.png\"/> <img src=\"https://pl.example/x.png\" "
	     "alt=\"a photo\">",
	     "<p><span class=\"h-card\"><a href=\"https://bridge.example/ap/actor\" rel=\"nofollow "
	     "noopener ugc\" class=\"u-url mention\">@<span>blog</span></a></span> hello<br>second "
	     "line :pleroma:</p>"},
	    {"gotosocial",
	     "<p><span class=\"h-card\"><a href=\"https://bridge.example/@blog\" class=\"u-url "
	     "mention\" rel=\"nofollow noreferrer noopener\" target=\"_blank\">@<span>blog</span>"
	     "</a></span> a <code>code</code> and a list:</p><ul><li>one</li><li>two</li></ul>"
	     "<blockquote><p>quoted</p></blockquote><pre><code>x = 1\n</code></pre>",
	     "<p><span class=\"h-card\"><a href=\"https://bridge.example/@blog\" rel=\"nofollow "
	     "noopener ugc\" class=\"u-url mention\">@<span>blog</span></a></span> a "
	     "<code>code</code> and a list:</p><ul><li>one</li><li>two</li></ul><blockquote><p>"
	     "quoted</p></blockquote><pre><code>x = 1\n</code></pre>"},
	};

	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		char *out = sanitize(g[i].in);
		if (strcmp(out, g[i].want) != 0)
			check_fail(__FILE__, __LINE__, "%s:\n      got  %s\n      want %s",
				   g[i].name, out, g[i].want);
		check_safe(g[i].name, out);
		free(out);
	}
}

/* Collects the JSON of the events whose mail waits, one a line. */
static enum bb_rc event_lines(const struct store_notify_event *ev, void *arg, struct err *e)
{
	char *out = arg;
	size_t n = strlen(out);

	(void)e;
	snprintf(out + n, 8192 - n, "%d %s\n", (int)ev->kind, ev->json);
	return BB_OK;
}

/* A reply left waiting is an event with its author, post and excerpt as
 * one-line plain text; an approved one, a replay and an edit are not;
 * nothing is recorded when no channel is on. */
static void t_notify_events(void)
{
	struct fixture f;
	struct store_actor alice = {.id = ALICE,
				    .inbox = ALICE "/inbox",
				    .handle = "@alice@m.example",
				    .key_id = ALICE "#k",
				    .public_key_pem = "x",
				    .name = "Alice\r\nBcc: evil@x.example\x01",
				    .url = "https://m.example/@alice"};
	static char out[8192];
	struct err e = {0};
	char *text;
	json_t *j;

	if (!fixture_open(&f, COMMENTS_MODERATION_MANUAL))
		return;
	CHECK_INT(store_actor_put(f.st, &alice, &e), BB_OK);
	f.env.notify = (struct ap_notify){.mail = true, .hook = false};
	text = create(ALICE, "https://m.example/notes/1", POST1, TO_PUBLIC,
		      "<p>Hi &amp; <b>bold</b></p><p>second\\r\\nline</p>");
	CHECK_INT(apply(&f, text, T0), BB_OK);
	CHECK_INT(apply(&f, text, T0 + 1), BB_OK); /* replayed */
	free(text);
	out[0] = '\0';
	CHECK_INT(store_notify_mail_each(f.st, 10, event_lines, out, NULL, &e), BB_OK);
	CHECK(strchr(out, '\n') == strrchr(out, '\n')); /* one event */
	CHECK(strncmp(out, "1 ", 2) == 0);
	j = json_loads(out + 2, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "event")), "comment");
	CHECK_STR(json_string_value(json_object_get(j, "id")), "https://m.example/notes/1");
	CHECK_STR(json_string_value(json_object_get(j, "actor")), ALICE);
	CHECK_STR(json_string_value(json_object_get(j, "handle")), "@alice@m.example");
	CHECK_STR(json_string_value(json_object_get(j, "name")), "Alice Bcc: evil@x.example");
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "post"), "title")), "One");
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "post"), "url")), POST1_URL);
	CHECK_STR(json_string_value(json_object_get(j, "excerpt")), "Hi & bold second line");
	CHECK_STR(json_string_value(json_object_get(j, "admin_url")), BASE "/admin/comments");
	CHECK_STR(json_string_value(json_object_get(j, "time")), "2023-11-14T22:13:20Z");
	json_decref(j);
	fixture_close(&f);

	/* Approved at once (auto): nothing to tell. */
	if (!fixture_open(&f, COMMENTS_MODERATION_AUTO))
		return;
	f.env.notify = (struct ap_notify){.mail = true, .hook = true};
	text = create(ALICE, "https://m.example/notes/2", POST1, TO_PUBLIC, "ok");
	CHECK_INT(apply(&f, text, T0), BB_OK);
	free(text);
	out[0] = '\0';
	CHECK_INT(store_notify_mail_each(f.st, 10, event_lines, out, NULL, &e), BB_OK);
	CHECK_STR(out, "");
	fixture_close(&f);

	/* No channel on: nothing recorded. */
	if (!fixture_open(&f, COMMENTS_MODERATION_MANUAL))
		return;
	text = create(ALICE, "https://m.example/notes/3", POST1, TO_PUBLIC, "ok");
	CHECK_INT(apply(&f, text, T0), BB_OK);
	free(text);
	f.env.notify = (struct ap_notify){.mail = true, .hook = true};
	out[0] = '\0';
	CHECK_INT(store_notify_mail_each(f.st, 10, event_lines, out, NULL, &e), BB_OK);
	CHECK_STR(out, "");
	fixture_close(&f);
}

static const struct check_case cases[] = {
    {"notify_events", t_notify_events},
    {"parse_mastodon", t_parse_mastodon},
    {"parse_shapes", t_parse_shapes},
    {"route_thread", t_route_thread},
    {"moderation", t_moderation},
    {"edit_delete", t_edit_delete},
    {"reactions", t_reactions},
    {"mention_and_blocked", t_mention_and_blocked},
    {"hostile", t_hostile},
    {"big_and_deep", t_big_and_deep},
    {"golden", t_golden},
};

CHECK_MAIN(cases)
