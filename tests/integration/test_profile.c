/*
 * test_profile.c — profile updates of the real blogbridge binary: the
 * actor's header image and alsoKnownAs, and the Update of the actor that
 * the followers get when the profile changes, after a SIGHUP reload or at
 * start-up.  Invoked as `test_profile PATH/TO/blogbridge [CASE...]`.
 *
 * Two remote servers (peers on 127.0.0.2 and 127.0.0.3, peer.h) follow the
 * blog: two actors on the first (one shared inbox) and one on the second.
 * Each change of the profile must reach each server once, as an Update of
 * the actor embedding the whole new document, signed with the key the
 * bridge publishes (verified here, digest recomputed).  A reload without a
 * change sends nothing; a reload of a broken file keeps the running
 * profile and logs FILE:LINE.  "Nothing more" is checked once the bridge
 * has logged the end of the reload, in its store (the Updates are stored
 * with their deliveries in one transaction) and at the peers after the
 * next Update has arrived.
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
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AS_CONTEXT "https://www.w3.org/ns/activitystreams"
#define AP_TYPE "application/activity+json"
#define HEADER_URL "https://blog.test/header.jpg"
#define AKA_1 "https://mastodon.test/users/blog"
#define AKA_2 "https://old.test/@blog"

static const char *binary;
static struct bridge br;
static struct peer *pa, *pb;
static struct peer_actor *alice, *bob, *carol;
static struct pubkey *bridge_pub;
static const char *keydir;
static unsigned id_counter;

/* bridge.conf with the given [site] profile lines ("name = X\n..."). */
static void write_conf(const char *profile)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "# written by test_profile\n"
		 "[site]\nbase_url = %s\nhandle = blog\n%sfeed = feed.xml\n"
		 "\n[server]\nlisten = 127.0.0.1:%d\n"
		 "\n[store]\ndatabase = data/bridge.db\n"
		 "\n[federation]\nkey = data/actor.pem\nallow_private_addresses = true\n",
		 br.origin, profile, br.port);
	bridge_write_conf(&br, text);
}

static bool setup(void)
{
	if (!bridge_prepare(&br, binary))
		return false;
	snprintf(br.actor_id, sizeof(br.actor_id), "%s/ap/actor", br.origin);
	snprintf(br.key_id, sizeof(br.key_id), "%s#main-key", br.actor_id);
	free(check_write_file(br.dir, "feed.xml",
			      "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
			      "<title>P</title><link>https://blog.test/</link>"
			      "<description>d</description></channel></rss>\n"));
	if (keydir == NULL)
		keydir = check_tmpdir();
	pa = peer_start("127.0.0.2", NULL, keydir);
	pb = peer_start("127.0.0.3", NULL, keydir);
	alice = pa ? peer_actor_add(pa, "alice", NULL) : NULL;
	bob = pa ? peer_actor_add(pa, "bob", NULL) : NULL;
	carol = pb ? peer_actor_add(pb, "carol", NULL) : NULL;
	return alice && bob && carol;
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

/* A Follow from a, signed, to the shared inbox; waits for its Accept. */
static void follow(const struct peer_actor *a)
{
	char id[PEER_URL_MAX + 64], url[256];
	struct curl_slist *hdrs = NULL;
	struct reply r = {0};
	json_t *j;
	char *body;

	snprintf(id, sizeof(id), "%s/activities/follow-%u", peer_base(a->peer), ++id_counter);
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
	CHECK(bridge_wait_db(&br, 1, "SELECT count(*) FROM followers WHERE follow_id = %Q", id));
}

/* Whether pp is an Update of the bridge's actor. */
static bool is_actor_update(const struct peer_post *pp)
{
	json_t *j = json_loadb(pp->body, pp->len, 0, NULL);
	bool yes = j && jstr(j, "type") && strcmp(jstr(j, "type"), "Update") == 0 &&
		   jstr(j, "object.id") && strcmp(jstr(j, "object.id"), br.actor_id) == 0;

	json_decref(j);
	return yes;
}

static size_t count_updates(struct peer *p)
{
	size_t n = 0, total = peer_post_count(p);

	for (size_t i = 0; i < total; i++)
		if (is_actor_update(peer_post_at(p, i)))
			n++;
	return n;
}

/* Waits (bounded) until p has received n Updates of the actor; the nth
 * (parsed, decref it), its signature and Collection-Synchronization
 * checked, or NULL. */
static json_t *wait_update(struct peer *p, size_t n)
{
	for (int waited = 0; waited <= BRIDGE_WAIT_MS; waited += BRIDGE_POLL_MS) {
		size_t total = peer_post_count(p), seen = 0;
		for (size_t i = 0; i < total; i++) {
			const struct peer_post *pp = peer_post_at(p, i);
			if (!is_actor_update(pp) || ++seen != n)
				continue;
			CHECK(peer_check_signed(p, pp, bridge_pub, br.key_id) >= 0);
			/* Addressed to the followers: FEP-8fcf's header, for p. */
			{
				const char *sync =
				    peer_post_header(pp, "Collection-Synchronization");
				char want[256];
				snprintf(
				    want, sizeof(want),
				    "collectionId=\"%s/followers\", url=\"%s/ap/actor/followers/"
				    "sync?host=%s\", digest=\"",
				    br.actor_id, br.origin, peer_host(p));
				CHECK(sync != NULL && strncmp(sync, want, strlen(want)) == 0);
			}
			return json_loadb(pp->body, pp->len, 0, NULL);
		}
		sleep_ms(BRIDGE_POLL_MS);
	}
	check_fail(__FILE__, __LINE__, "%s received %zu Updates of the actor, not %zu",
		   peer_host(p), count_updates(p), n);
	return NULL;
}

/* The number of times needle occurs in the bridge's log. */
static int log_count(const char *needle)
{
	char *text = NULL, *at;
	size_t len = 0;
	int n = 0;
	FILE *f = fopen(br.log, "r");

	if (f == NULL)
		return 0;
	if (getdelim(&text, &len, '\0', f) < 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	for (at = text; at && (at = strstr(at, needle)) != NULL; at += strlen(needle))
		n++;
	free(text);
	return n;
}

/* Waits (bounded) until needle occurs want times in the log. */
static bool wait_log(const char *needle, int want)
{
	for (int waited = 0; waited <= BRIDGE_WAIT_MS; waited += BRIDGE_POLL_MS) {
		if (log_count(needle) >= want)
			return true;
		sleep_ms(BRIDGE_POLL_MS);
	}
	check_fail(__FILE__, __LINE__, "the log has %d of '%s', not %d", log_count(needle), needle,
		   want);
	return false;
}

/* SIGHUP, and waits until the bridge logged the end of reload number n
 * (a good or a refused file). */
static void reload(int n)
{
	CHECK(br.pid > 0 && kill(br.pid, SIGHUP) == 0);
	wait_log("received SIGHUP", n);
	for (int waited = 0; waited <= BRIDGE_WAIT_MS; waited += BRIDGE_POLL_MS) {
		if (log_count("reloaded ") + log_count("the configuration in use is kept") >= n)
			return;
		sleep_ms(BRIDGE_POLL_MS);
	}
	check_fail(__FILE__, __LINE__, "reload %d did not end", n);
}

/* The Updates of the actor the store holds. */
static long long stored_updates(void)
{
	return bridge_db_int(&br, "SELECT count(*) FROM activities WHERE ap_id LIKE %Q",
			     "%/ap/actor#updates/%");
}

/* Checks an Update's envelope and that its object is the actor as now
 * served. */
static void check_update(json_t *u, const char *name)
{
	json_t *actor = get_actor();
	char prefix[160];

	snprintf(prefix, sizeof(prefix), "%s#updates/", br.actor_id);
	CHECK(u != NULL && actor != NULL);
	if (u == NULL || actor == NULL)
		goto out;
	CHECK_STR(jstr(u, "actor"), br.actor_id);
	CHECK(jstr(u, "id") && strncmp(jstr(u, "id"), prefix, strlen(prefix)) == 0);
	CHECK(json_is_array(jget(u, "@context")));
	CHECK_STR(jstr(u, "object.type"), "Person");
	CHECK_STR(jstr(u, "object.name"), name);
	CHECK_STR(jstr(u, "object.publicKey.id"), br.key_id);
	CHECK_STR(jstr(actor, "name"), name);
	/* The whole document: the one served, but for its @context, which
	 * moved up to the activity. */
	json_object_del(actor, "@context");
	CHECK(json_equal(jget(u, "object"), actor));
out:
	json_decref(actor);
}

/* Everything: header and alsoKnownAs, Updates on reload and at start-up,
 * none for an unchanged reload, a broken file refused. */
static void t_update(void)
{
	json_t *a, *u;

	if (!setup())
		return;
	write_conf("name = First Name\nsummary = A blog\n");
	if (!bridge_start(&br) || !peer_bridge_key(&br, &bridge_pub))
		return;
	/* No header, no former accounts: neither member. */
	a = get_actor();
	CHECK(a && jget(a, "image") == NULL && jget(a, "alsoKnownAs") == NULL);
	json_decref(a);
	follow(alice);
	follow(bob);
	follow(carol);
	/* The first start stored the profile's hash and sent nothing. */
	CHECK_INT(stored_updates(), 0);

	/* A new name: one signed Update per server (alice and bob share an
	 * inbox), with the new document. */
	write_conf("name = Second Name\nsummary = A blog\n");
	reload(1);
	CHECK_INT(stored_updates(), 1);
	u = wait_update(pa, 1);
	check_update(u, "Second Name");
	json_decref(u);
	u = wait_update(pb, 1);
	check_update(u, "Second Name");
	json_decref(u);

	/* The same file again: nothing. */
	reload(2);
	CHECK_INT(stored_updates(), 1);

	/* A broken file: refused with its line, the profile in use kept. */
	write_conf("name = Broken Name\nsummary = A blog\npoll_interval = 5\n");
	reload(3);
	wait_log("bridge.conf:7: ", 1);
	CHECK(log_count("poll_interval") >= 1);
	a = get_actor();
	CHECK_STR(a ? jstr(a, "name") : NULL, "Second Name");
	json_decref(a);
	CHECK_INT(stored_updates(), 1);

	/* A header and former accounts, by reload: the actor carries them,
	 * and the followers are told. */
	write_conf("name = Second Name\nsummary = A blog\nheader = " HEADER_URL
		   "\nalso_known_as = " AKA_1 ", " AKA_2 "\npoll_interval = 60\n");
	reload(4);
	CHECK_INT(stored_updates(), 2);
	/* A key read at start-up only is named as such; profile keys never. */
	CHECK_INT(log_count("[site] poll_interval changed: it takes effect at the next restart"),
		  1);
	CHECK_INT(log_count("[site] name changed") + log_count("[site] header changed"), 0);
	a = get_actor();
	CHECK_STR(a ? jstr(a, "image.type") : NULL, "Image");
	CHECK_STR(a ? jstr(a, "image.url") : NULL, HEADER_URL);
	CHECK_STR(a ? jstr(a, "image.mediaType") : NULL, "image/jpeg");
	CHECK(a && json_array_size(jget(a, "alsoKnownAs")) == 2);
	CHECK_STR(a ? json_string_value(json_array_get(jget(a, "alsoKnownAs"), 0)) : NULL, AKA_1);
	CHECK_STR(a ? json_string_value(json_array_get(jget(a, "alsoKnownAs"), 1)) : NULL, AKA_2);
	json_decref(a);
	u = wait_update(pa, 2);
	check_update(u, "Second Name");
	CHECK_STR(u ? jstr(u, "object.image.url") : NULL, HEADER_URL);
	json_decref(u);

	/* A restart with a new summary: one Update at start-up. */
	CHECK_INT(bridge_stop(&br, SIGTERM), 0);
	write_conf("name = Second Name\nsummary = Another blog\nheader = " HEADER_URL
		   "\nalso_known_as = " AKA_1 ", " AKA_2 "\npoll_interval = 60\n");
	if (!bridge_start(&br))
		return;
	u = wait_update(pb, 3);
	check_update(u, "Second Name");
	CHECK(u && jstr(u, "object.summary") && strstr(jstr(u, "object.summary"), "Another blog"));
	json_decref(u);
	CHECK_INT(stored_updates(), 3);
	u = wait_update(pa, 3);
	json_decref(u);
	/* Three changes, three Updates at each server: none doubled. */
	CHECK_INT((long long)count_updates(pa), 3);
	CHECK_INT((long long)count_updates(pb), 3);
	/* A restart without a change sends nothing. */
	CHECK_INT(bridge_stop(&br, SIGTERM), 0);
	if (!bridge_start(&br))
		return;
	wait_log("serving @blog", 3); /* logged once start-up's sync is done */
	CHECK_INT(stored_updates(), 3);
	bridge_check_log_clean(&br);
}

/* A bad also_known_as or header is a config error with its line. */
static void t_bad_values(void)
{
	static const struct {
		const char *lines, *want;
	} bad[] = {
	    {"also_known_as = ftp://old.test/blog\n",
	     "bridge.conf:5: also_known_as 'ftp://old.test/blog'"},
	    {"also_known_as = " AKA_1 ", " AKA_1 "\n",
	     "bridge.conf:5: also_known_as: '" AKA_1 "' is listed twice"},
	    {"also_known_as = " AKA_1 ",, " AKA_2 "\n",
	     "bridge.conf:5: also_known_as: an empty entry"},
	    {"header = header.jpg\n", "bridge.conf:5: header 'header.jpg'"},
	};
	char out[4096];

	if (!setup())
		return;
	write_conf("");
	CHECK_INT(bridge_cli(&br, "check", NULL, NULL, out, sizeof(out)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_conf(bad[i].lines);
		CHECK(bridge_cli(&br, "check", NULL, NULL, out, sizeof(out)) != 0);
		if (strstr(out, bad[i].want) == NULL)
			check_fail(__FILE__, __LINE__, "'%s' not in: %s", bad[i].want, out);
	}
}

/* A reader of the actor and the NodeInfo (both show the name) while the
 * profile is swapped under it. */
struct reader {
	pthread_t thread;
	atomic_bool *stop;
	long gets, bad;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: " AP_TYPE);

	while (!atomic_load(rd->stop)) {
		const char *path = rd->gets % 2 ? "/ap/nodeinfo/2.1" : "/ap/actor";
		struct reply r;
		json_t *j = NULL;
		const char *name;
		if (bridge_http(&br, "GET", path, hdrs, NULL, 0, &r) && r.status == 200)
			j = json_loads(r.body, 0, NULL);
		name = rd->gets % 2 ? jstr(j, "metadata.nodeName") : jstr(j, "name");
		if (name == NULL || strncmp(name, "Name ", 5) != 0)
			rd->bad++;
		rd->gets++;
		json_decref(j);
		reply_free(&r);
	}
	curl_slist_free_all(hdrs);
	return NULL;
}

/* Reloads that change the profile while requests read it: every answer
 * is whole, one name or the next, and the last name is served at the
 * end; one Update per change. */
static void t_reload_under_load(void)
{
	enum { READERS = 2, RELOADS = 6 };
	struct reader rd[READERS];
	atomic_bool stop = false;
	char profile[128];
	json_t *a;
	size_t started = 0;

	if (!setup())
		return;
	write_conf("name = Name 0\n");
	if (!bridge_start(&br) || !peer_bridge_key(&br, &bridge_pub))
		return;
	follow(alice);
	for (; started < READERS; started++) {
		rd[started] = (struct reader){.stop = &stop};
		if (pthread_create(&rd[started].thread, NULL, reader_main, &rd[started]) != 0)
			break;
	}
	CHECK_INT((long long)started, READERS);
	for (int i = 1; i <= RELOADS; i++) {
		snprintf(profile, sizeof(profile), "name = Name %d\n", i);
		write_conf(profile);
		reload(i);
	}
	atomic_store(&stop, true);
	for (size_t i = 0; i < started; i++) {
		pthread_join(rd[i].thread, NULL);
		CHECK(rd[i].gets > 0);
		CHECK_INT(rd[i].bad, 0);
	}
	a = get_actor();
	CHECK_STR(a ? jstr(a, "name") : NULL, "Name 6");
	json_decref(a);
	CHECK_INT(stored_updates(), RELOADS);
	a = wait_update(pa, RELOADS);
	CHECK_STR(a ? jstr(a, "object.name") : NULL, "Name 6");
	json_decref(a);
	bridge_check_log_clean(&br);
}

static void teardown(void)
{
	if (br.pid > 0)
		bridge_stop(&br, SIGTERM);
	peer_stop(pa);
	peer_stop(pb);
	pa = pb = NULL;
	pubkey_free(bridge_pub);
	bridge_pub = NULL;
}

static void t_update_case(void)
{
	t_update();
	if (check_failures)
		bridge_dump_log(&br);
	teardown();
	bridge_remove(&br);
}

static void t_bad_values_case(void)
{
	t_bad_values();
	teardown();
	bridge_remove(&br);
}

static void t_reload_under_load_case(void)
{
	t_reload_under_load();
	if (check_failures)
		bridge_dump_log(&br);
	teardown();
	bridge_remove(&br);
}

static const struct check_case cases[] = {
    {"update", t_update_case},
    {"reload_under_load", t_reload_under_load_case},
    {"bad_values", t_bad_values_case},
};

int main(int argc, char **argv)
{
	int rc;

	binary = bridge_main_init(argc, argv, "test_profile");
	if (binary == NULL)
		return 2;
	rc = check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
	if (keydir)
		check_tmpdir_remove(keydir);
	curl_global_cleanup();
	return rc;
}
