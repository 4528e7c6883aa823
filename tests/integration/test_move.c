/*
 * test_move.c — `blogbridge move` with the real binary: the followers are
 * sent to another account.  Invoked as `test_move PATH/TO/blogbridge`.
 *
 * Two remote servers (peers on 127.0.0.2 and 127.0.0.3) follow the blog:
 * two actors on the first (one shared inbox), one on the second.  The new
 * account is a document on a third peer (127.0.0.4).  While it does not
 * list the blog in its alsoKnownAs, the move is refused with a clear
 * error and nothing is stored or sent; without --yes and without a
 * terminal it is refused too.  Once it does, each follower server gets
 * exactly one Move (actor and object our actor, target the new account),
 * signed with the key the bridge publishes, and the actor document shows
 * movedTo; a second move sends nothing, a feed item afterwards is neither
 * published nor imported, a new Follow is rejected, and a restart keeps
 * it all.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bridge_proc.h"
#include "check.h"
#include "key.h"
#include "peer.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define AS_CONTEXT "https://www.w3.org/ns/activitystreams"
#define AP_TYPE "application/activity+json"

static const char *binary;
static struct bridge br;
static struct peer *pa, *pb, *pc;
static struct peer_actor *alice, *bob, *carol, *dave;
static struct pubkey *bridge_pub;
static const char *keydir;
static char target[PEER_URL_MAX + 32], other[PEER_URL_MAX + 32];
static unsigned id_counter;

/* Runs `blogbridge -c CONF move TARGET` at a terminal (a pty) and
 * answers the question with answer once it is asked: the exit status, and
 * what the terminal showed in out. */
static int run_move_tty(const char *answer, char *out, size_t n)
{
	size_t len = 0;
	bool answered = false;
	int fd = -1, status = 0;
	pid_t pid = forkpty(&fd, NULL, NULL, NULL);

	if (pid == 0) {
		char *argv[] = {(char *)binary, "-c", br.conf, "move", target, NULL};
		execv(binary, argv);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	out[0] = '\0';
	for (int waited = 0; waited <= BRIDGE_WAIT_MS && len + 1 < n; waited += BRIDGE_POLL_MS) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t got;
		if (poll(&pf, 1, BRIDGE_POLL_MS) <= 0)
			continue;
		got = read(fd, out + len, n - 1 - len);
		if (got <= 0)
			break; /* the child is gone (EIO) */
		len += (size_t)got;
		out[len] = '\0';
		if (!answered && strstr(out, "Type yes to move: ") != NULL) {
			CHECK(write(fd, answer, strlen(answer)) == (ssize_t)strlen(answer));
			answered = true;
		}
	}
	close(fd);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	CHECK(answered);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void check_has(const char *text, const char *want, int line)
{
	if (strstr(text, want) == NULL)
		check_fail(__FILE__, line, "'%s' not in: %s", want, text);
}

/* The actor as served, parsed (decref it), or NULL (reported). */
static json_t *get_actor(void)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: " AP_TYPE);
	struct reply r = {0};
	json_t *j = NULL;

	if (hdrs && bridge_http(&br, "GET", "/ap/actor", hdrs, NULL, 0, &r) && r.status == 200)
		j = json_loads(r.body, 0, NULL);
	if (j == NULL)
		check_fail(__FILE__, __LINE__, "cannot read the actor (status %ld)", r.status);
	reply_free(&r);
	curl_slist_free_all(hdrs);
	return j;
}

/* A Follow from a, signed, to the shared inbox (202 checked); its id in id. */
static void send_follow(const struct peer_actor *a, char *id, size_t n)
{
	char url[256];
	struct curl_slist *hdrs = NULL;
	struct reply r = {0};
	json_t *j;
	char *body;

	snprintf(id, n, "%s/activities/follow-%u", peer_base(a->peer), ++id_counter);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", id, "type",
		      "Follow", "actor", a->id, "object", br.actor_id);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	snprintf(url, sizeof(url), "%s/ap/inbox", br.origin);
	CHECK(body && peer_sign_post(a, url, body, NULL, &hdrs) &&
	      bridge_http(&br, "POST", "/ap/inbox", hdrs, body, strlen(body), &r));
	CHECK_INT(r.status, 202);
	reply_free(&r);
	curl_slist_free_all(hdrs);
	free(body);
}

static void follow(const struct peer_actor *a)
{
	char id[PEER_URL_MAX + 64];

	send_follow(a, id, sizeof(id));
	CHECK(bridge_wait_db(&br, 1, "SELECT count(*) FROM followers WHERE follow_id = %Q", id));
}

/* Whether pp's body has type type. */
static bool is_type(const struct peer_post *pp, const char *type)
{
	json_t *j = json_loadb(pp->body, pp->len, 0, NULL);
	bool yes = j && jstr(j, "type") && strcmp(jstr(j, "type"), type) == 0;

	json_decref(j);
	return yes;
}

static size_t count_type(struct peer *p, const char *type)
{
	size_t n = 0, total = peer_post_count(p);

	for (size_t i = 0; i < total; i++)
		if (is_type(peer_post_at(p, i), type))
			n++;
	return n;
}

/* Waits (bounded) for the first POST of type at p: parsed (decref it),
 * its signature checked, or NULL. */
static json_t *wait_type(struct peer *p, const char *type)
{
	for (int waited = 0; waited <= BRIDGE_WAIT_MS; waited += BRIDGE_POLL_MS) {
		size_t total = peer_post_count(p);
		for (size_t i = 0; i < total; i++) {
			const struct peer_post *pp = peer_post_at(p, i);
			if (!is_type(pp, type))
				continue;
			CHECK(peer_check_signed(p, pp, bridge_pub, br.key_id) >= 0);
			return json_loadb(pp->body, pp->len, 0, NULL);
		}
		sleep_ms(BRIDGE_POLL_MS);
	}
	check_fail(__FILE__, __LINE__, "%s received no %s", peer_host(p), type);
	return NULL;
}

/* Waits (bounded) until the actor document has movedTo == want. */
static bool wait_moved(const char *want)
{
	for (int waited = 0; waited <= BRIDGE_WAIT_MS; waited += 100) {
		json_t *a = get_actor();
		bool yes = a && jstr(a, "movedTo") && strcmp(jstr(a, "movedTo"), want) == 0;
		json_decref(a);
		if (yes)
			return true;
		sleep_ms(100);
	}
	check_fail(__FILE__, __LINE__, "the actor shows no movedTo %s", want);
	return false;
}

/* The new account's document, with or without our actor in alsoKnownAs. */
static void put_target(bool aka)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", target,
			      "type", "Person", "preferredUsername", "newblog", "inbox", target);
	char *doc;

	if (j && aka)
		json_object_set_new(j, "alsoKnownAs",
				    json_pack("[s,s]", "https://elsewhere.test/@x", br.actor_id));
	else if (j)
		json_object_set_new(j, "alsoKnownAs",
				    json_pack("[s]", "https://elsewhere.test/@x"));
	doc = j ? json_dumps(j, JSON_COMPACT) : NULL;
	CHECK(doc && peer_object_put(pc, "/users/newblog", doc));
	json_decref(j);
	free(doc);
}

static long long stored_moves(void)
{
	return bridge_db_int(&br, "SELECT count(*) FROM activities WHERE ap_id LIKE %Q",
			     "%/ap/actor#moves/%");
}

static void t_move(void)
{
	char out[4096], dave_follow[PEER_URL_MAX + 64];
	struct err e = {0};
	json_t *a, *m;

	if (!bridge_setup(&br, binary, ""))
		return;
	if (keydir == NULL)
		keydir = check_tmpdir();
	pa = peer_start("127.0.0.2", NULL, keydir);
	pb = peer_start("127.0.0.3", NULL, keydir);
	pc = peer_start("127.0.0.4", NULL, keydir);
	alice = pa ? peer_actor_add(pa, "alice", NULL) : NULL;
	bob = pa ? peer_actor_add(pa, "bob", NULL) : NULL;
	carol = pb ? peer_actor_add(pb, "carol", NULL) : NULL;
	dave = pb ? peer_actor_add(pb, "dave", NULL) : NULL;
	CHECK(alice && bob && carol && dave && pc);
	if (!alice || !bob || !carol || !dave || !pc)
		return;
	snprintf(target, sizeof(target), "%s/users/newblog", peer_base(pc));
	snprintf(other, sizeof(other), "%s/users/other", peer_base(pc));
	if (!bridge_start(&br))
		return;
	a = get_actor();
	CHECK(a && jget(a, "movedTo") == NULL);
	CHECK(a && pubkey_from_pem(jstr(a, "publicKey.publicKeyPem"), &bridge_pub, &e) == BB_OK);
	json_decref(a);
	if (bridge_pub == NULL)
		return;
	follow(alice);
	follow(bob);
	follow(carol);

	/* Usage: no target, two targets, an unknown option, not a URL. */
	CHECK_INT(bridge_cli(&br, "move", NULL, NULL, out, sizeof(out)), 2);
	CHECK_INT(bridge_cli(&br, "move", target, other, out, sizeof(out)), 2);
	CHECK_INT(bridge_cli(&br, "move", target, "--force", out, sizeof(out)), 2);
	CHECK_INT(bridge_cli(&br, "move", "newblog@pc.test", "--yes", out, sizeof(out)), 2);
	check_has(out, "is not an http(s) URL", __LINE__);
	CHECK_INT(bridge_cli(&br, "move", br.actor_id, "--yes", out, sizeof(out)), 2);
	check_has(out, "this blog's own actor", __LINE__);

	/* The new account does not list us: refused, nothing stored. */
	put_target(false);
	CHECK_INT(bridge_cli(&br, "move", target, "--yes", out, sizeof(out)), 1);
	check_has(out, "does not list", __LINE__);
	check_has(out, br.actor_id, __LINE__);
	/* No such account: refused. */
	CHECK_INT(bridge_cli(&br, "move", other, "--yes", out, sizeof(out)), 1);
	check_has(out, "cannot read the new account", __LINE__);
	/* It does, but nobody confirms: refused. */
	put_target(true);
	CHECK_INT(bridge_cli(&br, "move", target, NULL, out, sizeof(out)), 2);
	check_has(out, "asks for confirmation", __LINE__);
	/* At a terminal, it asks; anything but yes moves nothing. */
	CHECK_INT(run_move_tty("no\n", out, sizeof(out)), 1);
	check_has(out, "Move the 3 followers of this blog to", __LINE__);
	check_has(out, "not moved", __LINE__);
	CHECK_INT(stored_moves(), 0);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM meta WHERE key = %Q", "moved_to"), 0);

	/* Confirmed: one Move per server, signed, and the actor moved. */
	CHECK_INT(bridge_cli(&br, "move", target, "--yes", out, sizeof(out)), 0);
	check_has(out, "queued for 2 servers", __LINE__);
	CHECK_INT(stored_moves(), 1);
	m = wait_type(pa, "Move");
	CHECK_STR(m ? jstr(m, "actor") : NULL, br.actor_id);
	CHECK_STR(m ? jstr(m, "object") : NULL, br.actor_id);
	CHECK_STR(m ? jstr(m, "target") : NULL, target);
	json_decref(m);
	m = wait_type(pb, "Move");
	CHECK_STR(m ? jstr(m, "target") : NULL, target);
	json_decref(m);
	/* The Update of the actor carries movedTo. */
	m = wait_type(pb, "Update");
	CHECK_STR(m ? jstr(m, "object.movedTo") : NULL, target);
	json_decref(m);
	wait_moved(target);
	/* Every delivery done: nothing more is coming. */
	CHECK(
	    bridge_wait_db(&br, 0, "SELECT count(*) FROM deliveries WHERE state = 0 AND %Q", "1"));
	CHECK_INT((long long)count_type(pa, "Move"), 1);
	CHECK_INT((long long)count_type(pb, "Move"), 1);
	CHECK_INT((long long)count_type(pc, "Move"), 0);

	/* doctor says so, having seen movedTo served. */
	bridge_cli(&br, "doctor", NULL, NULL, out, sizeof(out));
	check_has(out, "warn moved      the blog has moved to", __LINE__);
	check_has(out, target, __LINE__);

	/* Again: to the same account nothing is sent; to another refused. */
	CHECK_INT(bridge_cli(&br, "move", target, "--yes", out, sizeof(out)), 0);
	check_has(out, "already", __LINE__);
	CHECK_INT(bridge_cli(&br, "move", other, "--yes", out, sizeof(out)), 1);
	check_has(out, "already moved to", __LINE__);
	CHECK_INT(stored_moves(), 1);

	/* A new post in the feed: not published. */
	free(check_write_file(br.dir, "feed.xml",
			      "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
			      "<title>Fed</title><link>https://blog.test/</link>"
			      "<description>d</description><item><title>After</title>"
			      "<link>https://blog.test/after</link><guid>after</guid>"
			      "<description>Written after the move</description></item>"
			      "</channel></rss>\n"));
	CHECK_INT(bridge_cli(&br, "poll", NULL, NULL, out, sizeof(out)), 0);
	check_has(out, "has moved to", __LINE__);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM posts WHERE %Q", "1"), 0);
	/* Nor imported. */
	{
		char feed[PATH_MAX];
		snprintf(feed, sizeof(feed), "%s/feed.xml", br.dir);
		CHECK_INT(bridge_cli(&br, "import", feed, NULL, out, sizeof(out)), 1);
		check_has(out, "has moved to", __LINE__);
	}
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM posts WHERE %Q", "1"), 0);

	/* A new Follow is rejected. */
	send_follow(dave, dave_follow, sizeof(dave_follow));
	m = wait_type(pb, "Reject");
	CHECK_STR(m ? jstr(m, "object.id") : NULL, dave_follow);
	json_decref(m);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM followers WHERE actor = %Q", dave->id),
		  0);

	/* A restart: still moved, nothing sent again. */
	CHECK_INT(bridge_stop(&br, SIGTERM), 0);
	if (!bridge_start(&br))
		return;
	a = get_actor();
	CHECK_STR(a ? jstr(a, "movedTo") : NULL, target);
	json_decref(a);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM activities WHERE ap_id LIKE %Q",
				"%/ap/actor#updates/%"),
		  1);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM posts WHERE %Q", "1"), 0);
	CHECK_INT(stored_moves(), 1);
	bridge_check_log_clean(&br);
}

static void world_down(void)
{
	peer_stop(pa);
	peer_stop(pb);
	peer_stop(pc);
	pa = pb = pc = NULL;
	pubkey_free(bridge_pub);
	bridge_pub = NULL;
}

static const struct check_case cases[] = {
    {"move", t_move},
};

int main(int argc, char **argv)
{
	int rc;

	binary = bridge_main_init(argc, argv, "test_move");
	if (binary == NULL)
		return 2;
	rc = check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
	return bridge_main_end(&br, rc, world_down, keydir);
}
