/*
 * bench/inbox.c — how many signed activities per second the inbox
 * verifies and durably stores.
 *
 *   bench_inbox BLOGBRIDGE [-n ACTIVITIES] [-a ACTORS] [-c CONCURRENCY] [-k like|reply]
 *
 * Starts the real blogbridge on 127.0.0.1 with a fresh database, and a
 * small server on 127.0.0.2 that plays ACTORS remote actors (serving their
 * actor documents and keys, and taking the Accepts the bridge sends back).
 * Pre-signs ACTIVITIES unique activities (Follow/Undo pairs, draft-cavage,
 * as Mastodon signs them; with -k like, Likes, which queue no Accept back;
 * with -k reply, public replies: Create(Note) as Mastodon sends them, with
 * a mention, a link and two paragraphs, each answering one of the posts a
 * first `blogbridge poll` of a small local feed stored, the Note on the
 * actor's host and attributed to it (so no origin fetch), moderation
 * `auto`), warms the key cache with one request per actor, then replays them all at CONCURRENCY over keep-alive connections and
 * reports: activities/s answered 202, p50/p99 latency, how many the
 * database holds afterwards (every 202 must be there; for replies, the
 * rows of the comments table too), and the bridge's peak RSS.  Signing happens before the clock starts.  Loopback only.
 */
#include "bench_util.h"
#include "httpsig.h"
#include "key.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PEER_ADDR "127.0.0.2"

struct actor {
	struct key *key;
	char id[128];
	char key_id[160];
	char *doc;
};

struct request {
	char *body;
	struct curl_slist *headers;
};

static struct actor *actors;
static int nactors = 20;
static unsigned peer_port;

/* The peer: actor documents on GET, 202 for any POST. */
static enum MHD_Result peer(void *cls, struct MHD_Connection *c, const char *url,
			    const char *method, const char *version, const char *data,
			    size_t *size, void **state)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *body = "";
	unsigned status = 202;
	int i;

	(void)cls;
	(void)version;
	(void)data;
	if (*state == NULL) {
		*state = (void *)1;
		return MHD_YES;
	}
	if (*size) {
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0) {
		status = 404;
		if (sscanf(url, "/u/%d", &i) == 1 && i >= 0 && i < nactors &&
		    strchr(url + 3, '/') == NULL) {
			body = actors[i].doc;
			status = 200;
		}
	}
	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/activity+json");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static char *actor_doc(const struct actor *a)
{
	const char *pem = key_public_pem(a->key);
	char esc[1024];
	size_t n = 0;
	char *doc;
	size_t len;

	for (const char *p = pem; *p && n < sizeof(esc) - 3; p++) {
		if (*p == '\n') {
			esc[n++] = '\\';
			esc[n++] = 'n';
		} else {
			esc[n++] = *p;
		}
	}
	esc[n] = '\0';
	len = strlen(esc) + 1024;
	doc = malloc(len);
	snprintf(doc, len,
		 "{\"@context\":[\"https://www.w3.org/ns/activitystreams\","
		 "\"https://w3id.org/security/v1\"],\"id\":\"%s\",\"type\":\"Person\","
		 "\"preferredUsername\":\"u\",\"inbox\":\"%s/inbox\","
		 "\"endpoints\":{\"sharedInbox\":\"http://%s:%u/inbox\"},"
		 "\"publicKey\":{\"id\":\"%s\",\"owner\":\"%s\",\"publicKeyPem\":\"%s\"}}",
		 a->id, a->id, PEER_ADDR, peer_port, a->key_id, a->id, esc);
	return doc;
}

static struct curl_slist *signed_headers(const struct actor *a, const char *url,
					 const char *body)
{
	struct httpsig_signed s = {0};
	struct err e = {0};
	struct curl_slist *h = NULL;
	char line[4096];

	if (httpsig_sign(HTTPSIG_CAVAGE, a->key, a->key_id, "POST", url,
			 "application/activity+json", body, strlen(body), time(NULL), &s,
			 &e) != BB_OK) {
		fprintf(stderr, "sign: %s\n", e.msg);
		exit(1);
	}
	snprintf(line, sizeof(line), "Host: %s", s.host);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "Date: %s", s.date);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "Digest: %s", s.digest);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "Signature: %s", s.signature);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, "Content-Type: application/activity+json");
	h = curl_slist_append(h, "Expect:");
	httpsig_signed_clear(&s);
	return h;
}

/* The one number a query such as "SELECT count(*) FROM seen" gives; -1 on error. */
static long long count_rows(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	long long n = -1;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_busy_timeout(h, 10000) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

/* A small blog feed: NPOSTS items for the replies to answer. */
#define NPOSTS 5
static void write_feed(const char *dir)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/feed.xml", dir);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>"
		   "<title>Bench blog</title><link>https://blog.example</link>"
		   "<description>A blog</description>\n");
	for (int i = 0; i < NPOSTS; i++)
		fprintf(f,
			"<item><title>Post %d</title>"
			"<link>https://blog.example/2026/11/post-%d/</link>"
			"<guid isPermaLink=\"false\">https://blog.example/?p=%d</guid>"
			"<pubDate>Mon, 0%d Nov 2026 09:12:00 +0000</pubDate>"
			"<description><![CDATA[<p>The text of post %d, with a "
			"<a href=\"https://example.org/\">link</a>.</p>]]></description></item>\n",
			i, i, 1000 + i, i + 1, i);
	fprintf(f, "</channel></rss>\n");
	if (fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Runs `blogbridge -c conf CMD [ARG]` to its end, its stdout to out (NULL:
 * /dev/null); exits the benchmark when it fails. */
static void run_cli(const char *bin, const char *conf, const char *cmd, const char *arg,
		    const char *out)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (freopen(out ? out : "/dev/null", "w", stdout) == NULL ||
		    freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		execl(bin, bin, "-c", conf, cmd, arg, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "blogbridge %s failed\n", cmd);
		exit(1);
	}
}

/* Polls the feed once and reads the posts' object ids from `posts --json`
 * into ids (NPOSTS of them, strdup'd); exits the benchmark when fewer. */
static void post_ids(const char *bin, const char *conf, const char *dir, char **ids)
{
	char path[300];
	json_error_t je;
	json_t *arr;

	snprintf(path, sizeof(path), "%s/posts.json", dir);
	run_cli(bin, conf, "poll", NULL, NULL);
	run_cli(bin, conf, "posts", "--json", path);
	arr = json_load_file(path, 0, &je);
	if (!json_is_array(arr) || json_array_size(arr) != NPOSTS) {
		fprintf(stderr, "posts --json: not %d posts (%s)\n", NPOSTS, je.text);
		exit(1);
	}
	for (size_t i = 0; i < NPOSTS; i++) {
		const char *id = json_string_value(json_object_get(json_array_get(arr, i), "id"));
		if (id == NULL || (ids[i] = strdup(id)) == NULL) {
			fprintf(stderr, "posts --json: a post without an id\n");
			exit(1);
		}
	}
	json_decref(arr);
}

/* A public reply as Mastodon sends it (MASTODON.md 7.2): Create of a Note
 * on the actor's host, attributed to the actor, answering post. */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* Sends reqs[from..to) with conc transfers at once; records latencies. */
static int blast(const char *url, struct request *reqs, int from, int to, int conc,
		 double *lat, int *ok)
{
	CURLM *m = curl_multi_init();
	int next = from, running = 0, done = 0;

	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conc);
	*ok = 0;
	while (done < to - from) {
		CURLMsg *msg;
		int left;
		while (running < conc && next < to) {
			CURL *h = curl_easy_init();
			curl_easy_setopt(h, CURLOPT_URL, url);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, reqs[next].body);
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, reqs[next].headers);
			curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
			curl_easy_setopt(h, CURLOPT_PRIVATE, (char *)(intptr_t)next);
			curl_multi_add_handle(m, h);
			next++;
			running++;
		}
		curl_multi_perform(m, &left);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			long status = 0;
			intptr_t i = 0;
			curl_off_t t = 0;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&i);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME_T, &t);
			if (status == 202)
				(*ok)++;
			else if (done - *ok < 5)
				fprintf(stderr, "request %ld: HTTP %ld (%s)\n", (long)i, status,
					curl_easy_strerror(msg->data.result));
			lat[i - from] = (double)t / 1000.0;
			curl_multi_remove_handle(m, msg->easy_handle);
			curl_easy_cleanup(msg->easy_handle);
			running--;
			done++;
		}
		curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	curl_multi_cleanup(m);
	return 0;
}

int main(int argc, char **argv)
{
	int n = 10000, conc = 64, opt, ok = 0;
	bool likes = false;   /* -k like: activities that queue nothing back */
	bool replies = false; /* -k reply: public replies to the blog's posts */
	char *posts[NPOSTS] = {0};
	long long comments = -1;
	unsigned bport;
	char dir[] = "/tmp/bbbench.XXXXXX", conf[256], db[256], url[128], line[512];
	struct MHD_Daemon *d;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct request *reqs;
	double *lat, t0, t1, c0, c1;
	long long stored;
	pid_t pid;
	FILE *f;

	while ((opt = getopt(argc - 1, argv + 1, "n:a:c:k:")) != -1) {
		if (opt == 'n')
			n = (int)strtol(optarg, NULL, 10);
		else if (opt == 'a')
			nactors = (int)strtol(optarg, NULL, 10);
		else if (opt == 'c')
			conc = (int)strtol(optarg, NULL, 10);
		else if (opt == 'k')
			likes = strcmp(optarg, "like") == 0, replies = strcmp(optarg, "reply") == 0;
	}
	if (argc < 2 || n < 2 || nactors < 1 || conc < 1) {
		fprintf(stderr, "usage: bench_inbox BLOGBRIDGE [-n N] [-a ACTORS] [-c CONC] "
				"[-k like|reply]\n");
		return 2;
	}
	n -= n % 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (mkdtemp(dir) == NULL)
		return 1;
	bport = bench_free_port("127.0.0.1");
	peer_port = bench_free_port(PEER_ADDR);
	snprintf(conf, sizeof(conf), "%s/bridge.conf", dir);
	snprintf(db, sizeof(db), "%s/bridge.db", dir);
	f = fopen(conf, "w");
	fprintf(f, "[site]\nbase_url = http://127.0.0.1:%u\nhandle = blog\nfeed = feed.xml\n"
		   "[server]\nlisten = 127.0.0.1:%u\n[store]\ndatabase = bridge.db\n"
		   "[federation]\nkey = actor.pem\nallow_private_addresses = true\n"
		   "[comments]\nmoderation = auto\n",
		bport, bport);
	fclose(f);
	if (replies) {
		write_feed(dir);
		post_ids(argv[1], conf, dir, posts);
	}

	/* The remote actors and their server. */
	actors = calloc((size_t)nactors, sizeof(*actors));
	for (int i = 0; i < nactors; i++) {
		struct err e = {0};
		char path[300];
		snprintf(path, sizeof(path), "%s/peer%d.pem", dir, i);
		if (key_load_or_create(path, &actors[i].key, NULL, &e) != BB_OK) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		snprintf(actors[i].id, sizeof(actors[i].id), "http://%s:%u/u/%d", PEER_ADDR,
			 peer_port, i);
		snprintf(actors[i].key_id, sizeof(actors[i].key_id), "%s#main-key", actors[i].id);
		actors[i].doc = actor_doc(&actors[i]);
	}
	inet_pton(AF_INET, PEER_ADDR, &sin.sin_addr);
	sin.sin_port = htons((uint16_t)peer_port);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
			     peer, NULL, MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "cannot start the peer server\n");
		return 1;
	}

	/* The bridge. */
	pid = fork();
	if (pid == 0) {
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		execl(argv[1], argv[1], "-c", conf, "serve", (char *)NULL);
		_exit(127);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/ap/inbox", bport);
	for (int i = 0; i < 100; i++) {
		CURL *h = curl_easy_init();
		char a[128];
		CURLcode cc;
		snprintf(a, sizeof(a), "http://127.0.0.1:%u/ap/actor", bport);
		curl_easy_setopt(h, CURLOPT_URL, a);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		cc = curl_easy_perform(h);
		curl_easy_cleanup(h);
		if (cc == CURLE_OK)
			break;
		usleep(50000);
	}

	/* Pre-sign: Follow k, then its Undo, from actor k % nactors. */
	fprintf(stderr, "signing %d activities from %d actors...\n", n, nactors);
	reqs = calloc((size_t)n + (size_t)nactors, sizeof(*reqs));
	lat = calloc((size_t)n + (size_t)nactors, sizeof(*lat));
	for (int k = 0; k < n + nactors; k++) {
		int pair = k / 2;
		const struct actor *a = &actors[pair % nactors];
		char follow[512], body[4096];
		snprintf(follow, sizeof(follow),
			 "{\"id\":\"%s/follows/%d\",\"type\":\"Follow\",\"actor\":\"%s\","
			 "\"object\":\"http://127.0.0.1:%u/ap/actor\"}",
			 a->id, pair, a->id, bport);
		if (replies && k < n)
			bench_reply_body(body, sizeof(body), a->id, k, posts[k % NPOSTS], bport);
		else if (likes && k < n)
			snprintf(body, sizeof(body),
				 "{\"@context\":\"https://www.w3.org/ns/activitystreams\","
				 "\"id\":\"%s/likes/%d\",\"type\":\"Like\",\"actor\":\"%s\","
				 "\"object\":\"http://127.0.0.1:%u/ap/posts/x\"}",
				 a->id, k, a->id, bport);
		else if (k % 2 == 0)
			snprintf(body, sizeof(body),
				 "{\"@context\":\"https://www.w3.org/ns/activitystreams\",%s",
				 follow + 1);
		else
			snprintf(body, sizeof(body),
				 "{\"@context\":\"https://www.w3.org/ns/activitystreams\","
				 "\"id\":\"%s/undo/%d\",\"type\":\"Undo\",\"actor\":\"%s\","
				 "\"object\":%s}",
				 a->id, pair, a->id, follow);
		reqs[k].body = strdup(body);
		reqs[k].headers = signed_headers(a, url, body);
	}
	/* Warm-up: the first Follow of each actor (its key is fetched). */
	blast(url, reqs, n, n + nactors, 1, lat, &ok);
	if (ok != nactors)
		fprintf(stderr, "warm-up: %d of %d accepted\n", ok, nactors);

	c0 = bench_cpu_s(pid);
	t0 = bench_now_s();
	blast(url, reqs, 0, n, conc, lat, &ok);
	t1 = bench_now_s();
	c1 = bench_cpu_s(pid);
	stored = count_rows(db, "SELECT count(*) FROM seen") - nactors;
	if (replies) /* 1: STORE_COMMENT_APPROVED */
		comments = count_rows(db, "SELECT count(*) FROM comments WHERE status = 1");
	qsort(lat, (size_t)n, sizeof(*lat), bench_cmp_double);
	printf("activities     %d (%s from %d actors), concurrency %d\n", n,
	       replies ? "public replies" : likes ? "Likes" : "Follow/Undo pairs", nactors, conc);
	printf("accepted (202) %d in %.2f s: %.0f activities/s\n", ok, t1 - t0, ok / (t1 - t0));
	printf("latency        p50 %.2f ms, p99 %.2f ms\n", lat[n / 2], lat[(size_t)(n * 0.99)]);
	printf("stored         %lld of %d accepted%s\n", stored, ok,
	       stored == ok ? "" : "  <-- MISMATCH");
	if (replies)
		printf("comments       %lld approved of %d accepted%s\n", comments, ok,
		       comments == ok ? "" : "  <-- MISMATCH");
	/* The machine may be shared: the bridge's own CPU per activity moves
	 * less with the load than activities/s do. */
	printf("bridge CPU     %.0f us per activity (%.0f%% of one core)\n",
	       ok ? (c1 - c0) * 1e6 / ok : 0, (c1 - c0) * 100 / (t1 - t0));
	printf("bridge peak RSS %ld KiB\n", bench_peak_rss_kb(pid));
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	MHD_stop_daemon(d);
	snprintf(line, sizeof(line), "rm -rf %s", dir);
	if (system(line) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	for (int i = 0; i < NPOSTS; i++)
		free(posts[i]);
	return stored == ok && ok == n && (!replies || comments == ok) ? 0 : 1;
}
