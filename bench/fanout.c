/*
 * bench/fanout.c — how long a new blog post takes to reach every
 * follower's server.
 *
 *   bench_fanout BLOGBRIDGE [-f FOLLOWERS] [-s SERVERS] [-d DEAD_SERVERS]
 *   bench_fanout BLOGBRIDGE -q QUEUED
 *   bench_fanout BLOGBRIDGE [-f FOLLOWERS] [-s SERVERS] -k
 *
 * With -q, a backlog to one host instead: QUEUED activities (Accepts, as
 * when many users of one server follow the blog at once), each to its own
 * inbox on live server 0, are written straight into the queue while serve
 * runs; the clock stops when the sink has had all of them.
 *
 * With -k, the restart stall: once half the live servers have had the
 * Create, serve is killed with SIGKILL and started again at once; reported
 * is the time from the restart to the first POST of each live server not
 * served before the kill (first, median, last).
 *
 * In a temp folder: a bridge.conf, a feed file with one item, and a first
 * `blogbridge poll` (the first import delivers nothing).  FOLLOWERS rows
 * are then written straight into the followers table, spread round-robin
 * over SERVERS hosts.  Live server k is 127.A.B.C on one sink port (k in
 * base 254, each byte 1..254: never .0, .255 or 127.0.0.1), its followers
 * with their own inbox /users/I/inbox and the shared /inbox, so the post
 * must make exactly SERVERS deliveries.  DEAD_SERVERS of them (default 1%,
 * at least 1; spread evenly) are 127.0.0.1 on a port of their own whose
 * socket listens but never accepts: the request is sent and never answered.
 * The sink is one libmicrohttpd daemon on 0.0.0.0 (every 127/8 address;
 * loopback only) answering 202 at once; it records each POST's Host and
 * arrival time, and checks the HTTP signature of the first SAMPLE_FIRST and
 * every SAMPLE_EVERY-th with the key from the bridge's actor document.
 * With `blogbridge serve` running, a second item is added to the feed, the
 * clock starts, `blogbridge poll` queues the Create, and the clock stops
 * when every live server has had its POST (or after WAIT_S).  Reported:
 * the time of the poll, of the first, median, 99th-percentile and last
 * live server, servers/s, signatures verified/failed, serve's peak RSS.
 * Exit 1 when a sampled signature fails, a live server is missed or the
 * fan-out is not one delivery per server; everything started is stopped
 * and the folder removed on every path (SIGINT included).
 */
#include "bench_util.h"
#include "httpsig.h"
#include "key.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_S 120	       /* for every live server to be served */
#define READY_S 15	       /* for serve to answer, for poll to finish */
#define STOP_S 10	       /* for a child to exit after SIGTERM */
#define SAMPLE_FIRST 10	       /* signatures checked: the first ones... */
#define SAMPLE_EVERY 50	       /* ...and every 50th */
#define SINK_THREADS 2	       /* the machine is small; the sink does little */
#define SINK_CONNECTIONS 16384 /* far above what the bridge opens */
#define SINK_BODY_MAX (1024 * 1024)
#define SINK_HEADERS_MAX 64
#define ACTOR_MAX (64 * 1024)
#define HOLE_BACKLOG 16
#define ADDR_BASE 254 /* address bytes 1..254 */
#define SERVERS_MAX (ADDR_BASE * ADDR_BASE * ADDR_BASE)
#define DIR_LEN 64 /* the temp folder's name: paths in it fit PATH_LEN */
#define PATH_LEN 256
#define HOST_LEN 32

/* What the sink saw; the daemon's threads write, main reads, under lock. */
struct sink {
	struct MHD_Daemon *d;
	unsigned port;
	pthread_mutex_t lock;
	double t0; /* monotonic start of the clock */
	size_t nservers;
	const bool *dead;
	double *first;	/* per server: its first POST, s after t0 */
	unsigned *hits; /* per server: POSTs */
	size_t posts;	/* every POST */
	size_t stray;	/* not to a live server's /inbox */
	size_t served;	/* live servers with at least one POST */
	atomic_uint seq;
	struct pubkey *pk; /* the bridge's key */
	char key_id[PATH_LEN];
	size_t verified, failed;
	char failure[BB_ERR_MSG_MAX + HOST_LEN];
};

/* A sampled POST: its body, kept until the last call. */
struct request {
	char *body;
	size_t len;
	bool over;
};

struct bench {
	const char *binary;
	long followers;
	size_t nservers, ndead;
	char dir[DIR_LEN], conf[PATH_LEN], db[PATH_LEN], feed[PATH_LEN];
	unsigned bport;
	time_t epoch; /* the feed's dates count from it */
	bool *dead;   /* per server */
	int *hole_fd; /* per dead server, in order */
	unsigned *hole_port;
	struct sink sink;
	bool sink_lock; /* sink.lock initialised */
	pid_t serve;
	long rss_kb;
	size_t queued; /* as `poll` printed it */
	double poll_s, wait_s;
	long long rows, rows_done;
	long queue; /* -q: deliveries queued to server 0 */
	bool kill_restart; /* -k */
	double restart_s;  /* -k: when serve was started again, after t0 */
	bool *before_kill; /* -k: per server, served before the kill */
};

static volatile sig_atomic_t interrupted;
static char unsampled; /* the state of a POST whose signature is not checked */

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* ---- servers ------------------------------------------------------------ */

/* The host (address:port) of server k, as its followers' inboxes name it. */
static void server_host(const struct bench *b, size_t k, size_t hole, char *out)
{
	if (b->dead[k])
		snprintf(out, HOST_LEN, "127.0.0.1:%u", b->hole_port[hole]);
	else
		snprintf(out, HOST_LEN, "127.%zu.%zu.%zu:%u", 1 + k / (ADDR_BASE * ADDR_BASE),
			 1 + k / ADDR_BASE % ADDR_BASE, 1 + k % ADDR_BASE, b->sink.port);
}

/* The live server a Host header names, or -1. */
static long server_of_host(const char *host, unsigned port)
{
	unsigned a, x, y, z, p;
	int end = 0;

	if (sscanf(host, "%3u.%3u.%3u.%3u:%5u%n", &a, &x, &y, &z, &p, &end) != 5 ||
	    host[end] != '\0' || a != 127 || p != port || x < 1 || x > ADDR_BASE || y < 1 ||
	    y > ADDR_BASE || z < 1 || z > ADDR_BASE)
		return -1;
	return (long)(((x - 1) * ADDR_BASE + (y - 1)) * ADDR_BASE + (z - 1));
}

/* A socket that listens and never accepts: connections complete in the
 * kernel, requests are sent, no answer ever comes. */
static int hole_open(unsigned *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, HOLE_BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* ---- the sink ----------------------------------------------------------- */

static void request_append(struct request *r, const char *data, size_t len)
{
	char *grown;

	if (r->over || r->len + len > SINK_BODY_MAX) {
		r->over = true;
		return;
	}
	grown = realloc(r->body, r->len + len + 1);
	if (grown == NULL) {
		r->over = true;
		return;
	}
	memcpy(grown + r->len, data, len);
	r->body = grown;
	r->len += len;
	r->body[r->len] = '\0';
}

static void sink_record(struct sink *s, struct MHD_Connection *c, const char *url)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	long k = host ? server_of_host(host, s->port) : -1;
	double at = bench_now_s();

	pthread_mutex_lock(&s->lock);
	s->posts++;
	if (k < 0 || (size_t)k >= s->nservers || s->dead[k] || strcmp(url, "/inbox") != 0) {
		s->stray++;
	} else if (s->hits[k]++ == 0) {
		s->first[k] = at - s->t0;
		s->served++;
	}
	pthread_mutex_unlock(&s->lock);
}

struct header_list {
	struct httpsig_header h[SINK_HEADERS_MAX];
	size_t n;
};

static enum MHD_Result header_add(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct header_list *l = cls;

	(void)kind;
	if (l->n < SINK_HEADERS_MAX && key && value) {
		l->h[l->n].name = key;
		l->h[l->n].value = value;
		l->n++;
	}
	return MHD_YES;
}

/* Checks the request's signature as a receiving server would. */
static void sink_verify(struct sink *s, struct MHD_Connection *c, const char *url,
			const struct request *r)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	struct header_list l = {.n = 0};
	struct httpsig *sig = NULL;
	struct err e = {0};
	char target[PATH_LEN];
	struct httpsig_message m = {"POST", target, l.h, 0, r->body, r->len};
	enum bb_rc rc;

	MHD_get_connection_values(c, MHD_HEADER_KIND, header_add, &l);
	m.header_count = l.n;
	snprintf(target, sizeof(target), "http://%s%s", host ? host : "", url);
	if (r->over)
		rc = err_set(&e, BB_ERR_LIMIT, "body over %d bytes", SINK_BODY_MAX);
	else
		rc = httpsig_parse(&m, time(NULL), &sig, &e);
	if (rc == BB_OK && strcmp(httpsig_key_id(sig), s->key_id) != 0)
		rc = err_set(&e, BB_ERR_AUTH, "signed by %s", httpsig_key_id(sig));
	if (rc == BB_OK)
		rc = httpsig_verify(sig, &m, s->pk, &e);
	httpsig_free(sig);
	pthread_mutex_lock(&s->lock);
	if (rc == BB_OK)
		s->verified++;
	else if (s->failed++ == 0)
		snprintf(s->failure, sizeof(s->failure), "%s: %s", host ? host : "?", e.msg);
	pthread_mutex_unlock(&s->lock);
}

/* 202 to every request, once its body is in; POSTs recorded, a sample of
 * them verified (after recording, so checking does not delay the time). */
static enum MHD_Result sink_answer(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *data,
				   size_t *size, void **state)
{
	struct sink *s = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)version;
	if (*state == NULL) {
		unsigned n = atomic_fetch_add(&s->seq, 1);
		struct request *r = NULL;

		if (strcmp(method, "POST") == 0 && (n < SAMPLE_FIRST || n % SAMPLE_EVERY == 0))
			r = calloc(1, sizeof(*r));
		*state = r ? (void *)r : (void *)&unsampled;
		return MHD_YES;
	}
	if (*size) {
		if (*state != &unsampled)
			request_append(*state, data, *size);
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0) {
		sink_record(s, c, url);
		if (*state != &unsampled)
			sink_verify(s, c, url, *state);
	}
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	ret = MHD_queue_response(c, 202, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void sink_done(void *cls, struct MHD_Connection *c, void **state,
		      enum MHD_RequestTerminationCode toe)
{
	struct request *r = *state;

	(void)cls;
	(void)c;
	(void)toe;
	if (r != NULL && *state != &unsampled) {
		free(r->body);
		free(r);
	}
	*state = NULL;
}

static bool sink_start(struct sink *s)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	const union MHD_DaemonInfo *info;

	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
				sink_answer, s, MHD_OPTION_SOCK_ADDR, &sin,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)SINK_THREADS,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)SINK_CONNECTIONS,
				MHD_OPTION_NOTIFY_COMPLETED, sink_done, NULL, MHD_OPTION_END);
	if (s->d == NULL)
		return false;
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	return s->port != 0;
}

/* ---- files and the database ---------------------------------------------- */

static bool write_file(const char *path, const char *text)
{
	char tmp[PATH_LEN + 8];
	FILE *f;
	bool ok;

	/* Written aside and renamed: a poll never reads half a feed. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return false;
	ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	return ok && rename(tmp, path) == 0;
}

/* An RSS feed of items 1..n.  An item's date never changes (it is part
 * of the object: a new date would federate an Update). */
static bool write_feed(const struct bench *b, int n)
{
	char text[4096], date[64];
	size_t len = 0;
	struct tm tm;

	len +=
	    (size_t)snprintf(text, sizeof(text),
			     "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\">"
			     "<channel><title>Bench blog</title><link>http://127.0.0.1:%u/</link>"
			     "<description>fan-out benchmark</description>\n",
			     b->bport);
	for (int i = 1; i <= n && len < sizeof(text); i++) {
		time_t t = b->epoch - 3600 + i * 60;
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		len +=
		    (size_t)snprintf(text + len, sizeof(text) - len,
				     "<item><title>Post %d</title>"
				     "<link>http://127.0.0.1:%u/posts/%d</link>"
				     "<guid isPermaLink=\"false\">bench-fanout-%d</guid>"
				     "<pubDate>%s</pubDate><description>&lt;p&gt;Post number %d "
				     "of the fan-out benchmark.&lt;/p&gt;</description></item>\n",
				     i, b->bport, i, i, date, i);
	}
	if (len < sizeof(text))
		len += (size_t)snprintf(text + len, sizeof(text) - len, "</channel></rss>\n");
	return len < sizeof(text) && write_file(b->feed, text);
}

static bool write_conf(const struct bench *b)
{
	char text[1024];

	/* poll_interval at its maximum: only our `poll` reads the new item. */
	snprintf(text, sizeof(text),
		 "[site]\nbase_url = http://127.0.0.1:%u\nhandle = blog\nfeed = feed.xml\n"
		 "poll_interval = 604800\n[server]\nlisten = 127.0.0.1:%u\n"
		 "[store]\ndatabase = bridge.db\n"
		 "[federation]\nkey = actor.pem\nallow_private_addresses = true\n",
		 b->bport, b->bport);
	return write_file(b->conf, text);
}

/* Follower i is on server i % nservers: own inbox, the server's shared one. */
static bool followers_insert(const struct bench *b)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t *hole_of = calloc(b->nservers, sizeof(*hole_of));
	bool ok = false;
	char host[HOST_LEN], actor[96], inbox[112], shared[64], follow[112], handle[64];

	if (hole_of == NULL)
		goto out;
	for (size_t k = 0, j = 0; k < b->nservers; k++)
		hole_of[k] = b->dead[k] ? j++ : 0;
	if (sqlite3_open(b->db, &db) != SQLITE_OK || sqlite3_busy_timeout(db, 10000) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		db,
		"INSERT INTO followers(actor, handle, inbox, shared_inbox, follow_id,"
		" since) VALUES (?1, ?2, ?3, ?4, ?5, unixepoch())",
		-1, &st, NULL) != SQLITE_OK)
		goto out;
	for (long i = 0; i < b->followers; i++) {
		size_t k = (size_t)i % b->nservers;

		server_host(b, k, hole_of[k], host);
		snprintf(actor, sizeof(actor), "http://%s/users/%ld", host, i);
		snprintf(handle, sizeof(handle), "@u%ld@%s", i, host);
		snprintf(inbox, sizeof(inbox), "%s/inbox", actor);
		snprintf(shared, sizeof(shared), "http://%s/inbox", host);
		snprintf(follow, sizeof(follow), "%s/follows/1", actor);
		if (sqlite3_bind_text(st, 1, actor, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_text(st, 2, handle, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_text(st, 3, inbox, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_text(st, 4, shared, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_text(st, 5, follow, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE || sqlite3_reset(st) != SQLITE_OK)
			goto out;
	}
	ok = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
out:
	if (!ok)
		fprintf(stderr, "followers: %s\n", db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(hole_of);
	return ok;
}

/* The deliveries of the newest activity: all of them, and those done. */
static void count_rows(struct bench *b)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	b->rows = b->rows_done = -1;
	if (sqlite3_open_v2(b->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_busy_timeout(db, 10000) == SQLITE_OK &&
	    sqlite3_prepare_v2(db,
			       "SELECT count(*), coalesce(sum(state = 1), 0) FROM deliveries"
			       " WHERE activity = (SELECT max(id) FROM activities)",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		b->rows = sqlite3_column_int64(st, 0);
		b->rows_done = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

/* ---- children ------------------------------------------------------------- */

/* Starts BINARY -c CONF COMMAND with stdout and stderr to files.  Only
 * async-signal-safe calls between fork and exec: the sink's threads run. */
static pid_t spawn(const struct bench *b, const char *command, const char *out, const char *log)
{
	pid_t pid = fork();
	int fd;

	if (pid != 0)
		return pid;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
		_exit(127);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
		_exit(127);
	execl(b->binary, b->binary, "-c", b->conf, command, (char *)NULL);
	_exit(127);
}

/* Waits up to timeout_s for pid; true (and *status) when it exited. */
static bool child_wait(pid_t pid, double timeout_s, int *status)
{
	double until = bench_now_s() + timeout_s;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return true;
		if (r < 0 && errno != EINTR)
			return true; /* not ours any more */
		if (bench_now_s() > until || interrupted)
			return false;
		sleep_ms(5);
	}
}

static void child_stop(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if (!child_wait(pid, STOP_S, &status)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
}

/* Prints the last lines of a log, to explain a failure. */
static void log_tail(const char *path)
{
	char line[512];
	long size;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 2048)
		fseek(f, size - 2048, SEEK_SET);
	else
		rewind(f);
	fprintf(stderr, "--- %s ---\n", path);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

static void serve_log_tail(const struct bench *b)
{
	char log[PATH_LEN + 16];

	snprintf(log, sizeof(log), "%s/serve.log", b->dir);
	log_tail(log);
}

/* Runs `blogbridge poll`; *queued from what it prints. */
static bool run_poll(const struct bench *b, size_t *queued)
{
	char out[PATH_LEN + 16], log[PATH_LEN + 16], line[512] = "";
	size_t items, fresh, updated, unchanged;
	int status = 0;
	pid_t pid;
	FILE *f;

	snprintf(out, sizeof(out), "%s/poll.out", b->dir);
	snprintf(log, sizeof(log), "%s/poll.log", b->dir);
	pid = spawn(b, "poll", out, log);
	if (pid < 0)
		return false;
	if (!child_wait(pid, WAIT_S, &status)) {
		child_stop(pid);
		return false;
	}
	f = fopen(out, "r");
	if (f != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    sscanf(line, "%zu items: %zu new, %zu updated, %zu unchanged, %zu deliveries queued",
		   &items, &fresh, &updated, &unchanged, queued) != 5) {
		line[strcspn(line, "\n")] = '\0';
		fprintf(stderr, "poll failed (status %d): %s\n", status, line);
		log_tail(log);
		return false;
	}
	return true;
}

static size_t on_actor(char *p, size_t size, size_t n, void *arg)
{
	char *doc = arg;
	size_t have = strlen(doc), len = size * n;

	if (have + len >= ACTOR_MAX)
		return 0;
	memcpy(doc + have, p, len);
	doc[have + len] = '\0';
	return len;
}

/* GETs the actor document into doc (ACTOR_MAX bytes); true on 200. */
static bool actor_get(const struct bench *b, char *doc)
{
	CURL *h = curl_easy_init();
	struct curl_slist *accept = curl_slist_append(NULL, "Accept: application/activity+json");
	char url[64];
	long status = 0;

	doc[0] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/ap/actor", b->bport);
	if (h && accept && curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, accept) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_actor) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, doc) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L) == CURLE_OK &&
	    curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(accept);
	curl_easy_cleanup(h);
	return status == 200;
}

/* Starts serve and waits until it answers; takes the actor's key. */
static bool serve_start(struct bench *b)
{
	char out[PATH_LEN + 16], log[PATH_LEN + 16], *doc = malloc(ACTOR_MAX);
	double until = bench_now_s() + READY_S;
	json_t *actor = NULL;
	const char *id = NULL, *pem = NULL;
	struct err e = {0};
	bool ok = false;
	int status, bad;

	snprintf(out, sizeof(out), "%s/serve.out", b->dir);
	snprintf(log, sizeof(log), "%s/serve.log", b->dir);
	if (doc == NULL || (b->serve = spawn(b, "serve", out, log)) < 0)
		goto out;
	while (!actor_get(b, doc)) {
		bool exited = waitpid(b->serve, &status, WNOHANG) != 0;

		if (exited)
			b->serve = 0; /* reaped: nothing to stop */
		if (exited || bench_now_s() > until || interrupted) {
			fprintf(stderr, "serve did not answer\n");
			serve_log_tail(b);
			goto out;
		}
		sleep_ms(50);
	}
	actor = json_loads(doc, 0, NULL);
	bad = json_unpack(actor, "{s:{s:s, s:s}}", "publicKey", "id", &id, "publicKeyPem", &pem);
	if (bad || strlen(id) >= sizeof(b->sink.key_id)) {
		fprintf(stderr, "the actor has no usable publicKey\n");
		goto out;
	}
	if (pubkey_from_pem(pem, &b->sink.pk, &e) != BB_OK) {
		fprintf(stderr, "the actor's key: %s\n", e.msg);
		goto out;
	}
	snprintf(b->sink.key_id, sizeof(b->sink.key_id), "%s", id);
	ok = true;
out:
	json_decref(actor);
	free(doc);
	return ok;
}

/* ---- the run -------------------------------------------------------------- */

/* Folder, configuration, first import, dead servers' sockets, followers,
 * the sink (its port names the live servers). */
static bool bench_setup(struct bench *b)
{
	size_t j = 0;

	if (mkdtemp(b->dir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		b->dir[0] = '\0';
		return false;
	}
	snprintf(b->conf, sizeof(b->conf), "%s/bridge.conf", b->dir);
	snprintf(b->db, sizeof(b->db), "%s/bridge.db", b->dir);
	snprintf(b->feed, sizeof(b->feed), "%s/feed.xml", b->dir);
	b->epoch = time(NULL);
	b->dead = calloc(b->nservers, sizeof(*b->dead));
	b->hole_fd = calloc(b->ndead + 1, sizeof(*b->hole_fd));
	b->hole_port = calloc(b->ndead + 1, sizeof(*b->hole_port));
	b->sink.first = calloc(b->nservers, sizeof(*b->sink.first));
	b->sink.hits = calloc(b->nservers, sizeof(*b->sink.hits));
	if (!b->dead || !b->hole_fd || !b->hole_port || !b->sink.first || !b->sink.hits)
		return false;
	for (size_t i = 0; i <= b->ndead; i++)
		b->hole_fd[i] = -1;
	/* Exactly ndead of k*ndead mod nservers fall below ndead, evenly spaced. */
	for (size_t k = 0; k < b->nservers; k++)
		b->dead[k] = (k * b->ndead) % b->nservers < b->ndead;
	for (j = 0; j < b->ndead; j++) {
		b->hole_fd[j] = hole_open(&b->hole_port[j]);
		if (b->hole_fd[j] < 0) {
			fprintf(stderr, "black hole socket: %s\n", strerror(errno));
			return false;
		}
	}
	b->sink.nservers = b->nservers;
	b->sink.dead = b->dead;
	b->sink.t0 = bench_now_s();
	if (!sink_start(&b->sink)) {
		fprintf(stderr, "cannot start the sink\n");
		return false;
	}
	/* Chosen last: the sockets above hold their ports, so it is none of
	 * theirs. */
	b->bport = bench_free_port("127.0.0.1");
	if (!write_conf(b) || !write_feed(b, 1) || !run_poll(b, &b->queued))
		return false;
	return followers_insert(b);
}

/* -q: b->queue activities, one delivery each to its own inbox on server 0,
 * in one transaction (as the inbox would queue Accepts). */
static bool queue_insert(const struct bench *b)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *act = NULL, *row = NULL;
	bool ok = false;
	char host[HOST_LEN], ap_id[96], inbox[112];

	server_host(b, 0, 0, host);
	if (sqlite3_open(b->db, &db) != SQLITE_OK || sqlite3_busy_timeout(db, 10000) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO activities(ap_id, json, created_at)"
			       " VALUES (?1, '{\"type\":\"Accept\"}', unixepoch())",
			       -1, &act, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO deliveries(activity, inbox, host, next_attempt,"
			       " created_at, updated_at) VALUES (last_insert_rowid(), ?1, ?2,"
			       " unixepoch(), unixepoch(), unixepoch())",
			       -1, &row, NULL) != SQLITE_OK)
		goto out;
	{
		char sql[96];
		snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO hosts(host) VALUES ('%s')", host);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			goto out;
	}
	for (long i = 0; i < b->queue; i++) {
		snprintf(ap_id, sizeof(ap_id), "http://bench.example/accepts/%ld", i);
		snprintf(inbox, sizeof(inbox), "http://%s/users/%ld/inbox", host, i);
		if (sqlite3_bind_text(act, 1, ap_id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_step(act) != SQLITE_DONE || sqlite3_reset(act) != SQLITE_OK ||
		    sqlite3_bind_text(row, 1, inbox, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_text(row, 2, host, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_step(row) != SQLITE_DONE || sqlite3_reset(row) != SQLITE_OK)
			goto out;
	}
	ok = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
out:
	if (!ok)
		fprintf(stderr, "queue: %s\n", db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_finalize(act);
	sqlite3_finalize(row);
	sqlite3_close(db);
	return ok;
}

/* -q: the backlog, the clock, and the wait for all of it at the sink. */
static int bench_run_queue(struct bench *b)
{
	double t0, until, last = -1;
	size_t posts = 0;

	sleep_ms(500); /* serve's first poll of the feed */
	pthread_mutex_lock(&b->sink.lock);
	b->sink.t0 = t0 = bench_now_s();
	pthread_mutex_unlock(&b->sink.lock);
	if (!queue_insert(b))
		return 1;
	until = t0 + WAIT_S;
	while (posts < (size_t)b->queue && bench_now_s() < until && !interrupted) {
		sleep_ms(5);
		pthread_mutex_lock(&b->sink.lock);
		posts = b->sink.posts;
		pthread_mutex_unlock(&b->sink.lock);
	}
	last = bench_now_s() - t0;
	printf("queued           %ld deliveries to one host\n", b->queue);
	printf("delivered        %zu in %.3f s%s\n", posts, last,
	       posts >= (size_t)b->queue ? "" : "  <-- MISSING");
	printf("rate             %.0f deliveries/s\n", last > 0 ? (double)posts / last : 0);
	return posts >= (size_t)b->queue ? 0 : 1;
}

/* -k: SIGKILL of serve once half the live servers are served, and a
 * start again at once (waiting until it answers). */
static bool kill_and_restart(struct bench *b, size_t live)
{
	char out[PATH_LEN + 16], log[PATH_LEN + 16], *doc = malloc(ACTOR_MAX);
	double until = bench_now_s() + READY_S;
	size_t served = 0;
	int status;
	bool ok = false;

	b->before_kill = calloc(b->nservers, sizeof(*b->before_kill));
	if (doc == NULL || b->before_kill == NULL)
		goto out;
	while (served < live / 2 && bench_now_s() < b->sink.t0 + WAIT_S && !interrupted) {
		sleep_ms(1);
		pthread_mutex_lock(&b->sink.lock);
		served = b->sink.served;
		pthread_mutex_unlock(&b->sink.lock);
	}
	kill(b->serve, SIGKILL);
	waitpid(b->serve, &status, 0);
	b->serve = 0;
	pthread_mutex_lock(&b->sink.lock);
	for (size_t k = 0; k < b->nservers; k++)
		b->before_kill[k] = b->sink.hits[k] > 0;
	b->restart_s = bench_now_s() - b->sink.t0;
	pthread_mutex_unlock(&b->sink.lock);
	snprintf(out, sizeof(out), "%s/serve.out", b->dir);
	snprintf(log, sizeof(log), "%s/serve.log", b->dir);
	if ((b->serve = spawn(b, "serve", out, log)) < 0)
		goto out;
	while (!actor_get(b, doc)) {
		if (waitpid(b->serve, &status, WNOHANG) != 0 || bench_now_s() > until ||
		    interrupted) {
			fprintf(stderr, "serve did not answer after the restart\n");
			goto out;
		}
		sleep_ms(10);
	}
	ok = true;
out:
	free(doc);
	return ok;
}

/* -k: from the restart to the first POST of each server it had to serve. */
static void stall_report(struct bench *b)
{
	double *t = calloc(b->nservers + 1, sizeof(*t));
	size_t n = 0, late = 0;

	if (t == NULL || b->before_kill == NULL)
		goto out;
	pthread_mutex_lock(&b->sink.lock);
	for (size_t k = 0; k < b->nservers; k++)
		if (!b->dead[k] && !b->before_kill[k] && b->sink.hits[k] > 0)
			t[n++] = b->sink.first[k] - b->restart_s;
	pthread_mutex_unlock(&b->sink.lock);
	qsort(t, n, sizeof(*t), bench_cmp_double);
	for (size_t i = 0; i < n; i++)
		late += t[i] > 10;
	printf("restart stall    %zu servers left at the kill; restart to their first POST:"
	       " first / 50%% / last  %.3f / %.3f / %.3f s; %zu after more than 10 s\n",
	       n, n ? t[0] : -1, n ? t[n / 2] : -1, n ? t[n - 1] : -1, late);
out:
	free(t);
}

/* A new item, the clock, `poll`, and the wait for every live server. */
static bool bench_run(struct bench *b)
{
	size_t live = b->nservers - b->ndead, served = 0;
	double t0, until;
	int status;

	/* serve polls the feed once as it starts: let that poll end before the
	 * new item appears, or both would take it. */
	sleep_ms(500);
	if (!write_feed(b, 2))
		return false;
	pthread_mutex_lock(&b->sink.lock);
	b->sink.t0 = t0 = bench_now_s();
	pthread_mutex_unlock(&b->sink.lock);
	if (!run_poll(b, &b->queued))
		return false;
	b->poll_s = bench_now_s() - t0;
	if (b->kill_restart && !kill_and_restart(b, live))
		return false;
	/* A kill leaves leases that may hold for minutes (before owners). */
	until = t0 + (b->kill_restart ? 4 * WAIT_S : WAIT_S);
	while (served < live && bench_now_s() < until && !interrupted) {
		long kb = bench_peak_rss_kb(b->serve);

		if (kb > b->rss_kb)
			b->rss_kb = kb;
		if (waitpid(b->serve, &status, WNOHANG) != 0) {
			fprintf(stderr, "serve exited during the run\n");
			serve_log_tail(b);
			b->serve = 0;
			return false;
		}
		/* Arrival times are taken by the sink; this only decides when
		 * to stop looking. */
		sleep_ms(10);
		pthread_mutex_lock(&b->sink.lock);
		served = b->sink.served;
		pthread_mutex_unlock(&b->sink.lock);
	}
	b->wait_s = bench_now_s() - t0;
	if (bench_peak_rss_kb(b->serve) > b->rss_kb)
		b->rss_kb = bench_peak_rss_kb(b->serve);
	/* The worker records outcomes in batches every 100 ms. */
	sleep_ms(300);
	count_rows(b);
	return !interrupted;
}

/* The time by which a fraction p of the live servers were served. */
static double at_fraction(const double *t, size_t n, size_t live, double p)
{
	size_t need = (size_t)(p * (double)live + 0.999999);

	if (need == 0)
		need = 1;
	return need <= n ? t[need - 1] : -1;
}

static int bench_report(struct bench *b)
{
	struct sink *s = &b->sink;
	size_t live = b->nservers - b->ndead, n = 0, dup = 0;
	double *t = calloc(live + 1, sizeof(*t)), last, med;
	bool ok;

	if (t == NULL)
		return 1;
	pthread_mutex_lock(&s->lock);
	for (size_t k = 0; k < b->nservers; k++) {
		if (s->hits[k] > 0 && !b->dead[k])
			t[n++] = s->first[k];
		if (s->hits[k] > 1)
			dup++;
	}
	qsort(t, n, sizeof(*t), bench_cmp_double);
	last = n ? t[n - 1] : -1;
	med = at_fraction(t, n, live, 0.5);
	printf("followers        %ld\n", b->followers);
	printf("servers          %zu (%zu live, %zu dead)\n", b->nservers, live, b->ndead);
	printf("deliveries       %zu queued by poll (%lld rows, %lld done at the end)%s\n",
	       b->queued, b->rows, b->rows_done,
	       b->queued == b->nservers ? "" : "  <-- not one per server");
	printf("poll (fan-out)   %.3f s\n", b->poll_s);
	printf("live served      %zu of %zu in %.3f s%s\n", n, live, n == live ? last : b->wait_s,
	       n == live ? "" : "  <-- MISSING");
	printf("first / 50%% / 99%% / last  %.3f / %.3f / %.3f / %.3f s\n", n ? t[0] : -1, med,
	       at_fraction(t, n, live, 0.99), last);
	printf("rate             %.0f servers/s = deliveries/s, %.0f followers/s (poll to last);"
	       " %.0f deliveries/s from the first POST to the last\n",
	       last > 0 ? (double)n / last : 0,
	       last > 0 ? (double)b->followers * n / live / last : 0,
	       n > 1 && last > t[0] ? (double)(n - 1) / (last - t[0]) : 0);
	printf("tail             last live server %.3f s after the median, %.3f s after p99;"
	       " %lld dead deliveries unfinished\n",
	       last - med, last - at_fraction(t, n, live, 0.99), b->rows - b->rows_done);
	printf("POSTs            %zu (%zu stray, %zu servers more than once)\n", s->posts, s->stray,
	       dup);
	printf("signatures       %zu verified, %zu failed of a sample%s%s\n", s->verified,
	       s->failed, s->failed ? ": " : "", s->failure);
	printf("serve peak RSS   %ld KiB\n", b->rss_kb);
	ok = s->failed == 0 && s->verified > 0 && n == live && s->stray == 0 &&
	     b->queued == b->nservers;
	pthread_mutex_unlock(&s->lock);
	free(t);
	return ok ? 0 : 1;
}

static void bench_cleanup(struct bench *b)
{
	child_stop(b->serve);
	if (b->sink.d)
		MHD_stop_daemon(b->sink.d);
	for (size_t j = 0; b->hole_fd && j < b->ndead; j++)
		if (b->hole_fd[j] >= 0)
			close(b->hole_fd[j]);
	if (b->dir[0] && nftw(b->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "cannot remove %s\n", b->dir);
	pubkey_free(b->sink.pk);
	free(b->sink.first);
	free(b->sink.hits);
	free(b->dead);
	free(b->hole_fd);
	free(b->hole_port);
	free(b->before_kill);
}

/* Parses "-f N" style numbers; false for junk or a negative. */
static bool parse_count(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= 0;
}

static bool parse_args(int argc, char **argv, struct bench *b)
{
	long servers = 1000, dead = -1, v;
	int opt;

	b->followers = 10000;
	if (argc < 2 || argv[1][0] == '-')
		return false;
	b->binary = argv[1];
	if (access(b->binary, X_OK) != 0) {
		fprintf(stderr, "%s: %s\n", b->binary, strerror(errno));
		return false;
	}
	/* getopt sees BLOGBRIDGE as the program name. */
	while ((opt = getopt(argc - 1, argv + 1, "f:s:d:q:k")) != -1) {
		if (opt == 'k') {
			b->kill_restart = true;
			continue;
		}
		if (opt == '?' || !parse_count(optarg, &v))
			return false;
		if (opt == 'f')
			b->followers = v;
		else if (opt == 's')
			servers = v;
		else if (opt == 'q')
			b->queue = v;
		else
			dead = v;
	}
	if (optind != argc - 1 || servers < 1 || servers > SERVERS_MAX || b->followers < servers)
		return false;
	if (b->queue > 0) { /* one live server, one follower on it */
		servers = 1;
		dead = 0;
		b->followers = 1;
	}
	if (dead < 0)
		dead = servers >= 2 ? (servers / 100 > 1 ? servers / 100 : 1) : 0;
	if (dead >= servers)
		return false;
	b->nservers = (size_t)servers;
	b->ndead = (size_t)dead;
	return true;
}

int main(int argc, char **argv)
{
	struct bench b = {.dir = "/tmp/bbfanout.XXXXXX", .serve = 0};
	struct sigaction sa = {.sa_handler = on_signal};
	struct rlimit rl;
	int status = 1;

	if (!parse_args(argc, argv, &b)) {
		fprintf(stderr, "usage: bench_fanout BLOGBRIDGE [-f FOLLOWERS] [-s SERVERS] "
				"[-d DEAD_SERVERS] [-q QUEUED] [-k]\n  FOLLOWERS >= SERVERS, "
				"DEAD_SERVERS < SERVERS\n");
		return 2;
	}
	/* No SA_RESTART: a Ctrl-C ends the waits, and cleanup runs. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Thousands of sockets (the children inherit the limit). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			fprintf(stderr, "cannot raise the file limit: %s\n", strerror(errno));
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    pthread_mutex_init(&b.sink.lock, NULL) != 0)
		return 1;
	b.sink_lock = true;
	if (!bench_setup(&b) || !serve_start(&b))
		goto out;
	if (b.queue > 0) {
		status = bench_run_queue(&b);
		goto out;
	}
	if (!bench_run(&b))
		goto out;
	status = bench_report(&b);
	if (b.kill_restart)
		stall_report(&b);
	if (status != 0)
		serve_log_tail(&b);
out:
	if (interrupted)
		fprintf(stderr, "interrupted: stopping and cleaning up\n");
	bench_cleanup(&b);
	if (b.sink_lock)
		pthread_mutex_destroy(&b.sink.lock);
	curl_global_cleanup();
	return status;
}
