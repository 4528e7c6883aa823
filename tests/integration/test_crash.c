/*
 * test_crash.c — `serve` killed with SIGKILL at random moments, and
 * restarted each time, loses nothing and resumes at once.
 *
 *   test_crash PATH/TO/blogbridge
 *
 * Two kinds of kill, KILLS_INTAKE and KILLS_FANOUT of them, in a random
 * order (the seed is printed; CRASH_SEED=N repeats a run):
 * - during intake: a thread sends signed Follows from the peers' actors,
 *   one after another; the kill comes once a random number of them were
 *   acknowledged (202) since the last start.
 * - during a fan-out: a new Create is queued for HOSTS hosts (one
 *   delivery row each, as the publisher's fan-out writes them); the kill
 *   comes once the sinks have had a random share of it.
 * Each sink host is a libmicrohttpd daemon on an address of its own
 * (127.0.1.1 ... 127.0.1.HOSTS) answering 202 after SINK_DELAY_MS.
 * After the last restart: every acknowledged Follow's actor is a follower
 * (with that Follow or one sent after it), every host has had every
 * Create, the queue is empty within DRAIN_MS of the restart, and the
 * database passes PRAGMA integrity_check.
 *
 * two_serves: two `serve` processes on one database (two listen ports, one
 * blog).  Two Creates queued for every host at once (more rows than one
 * worker takes) reach every host exactly once: neither worker takes a row
 * the other holds.  Then the first is killed during a third fan-out: the
 * second frees the dead one's leases within a heartbeat and every host
 * gets the Create.  Every wait is for a condition, bounded; only loopback
 * addresses are used.
 */
#include "bridge_proc.h"
#include "check.h"
#include "peer.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HOSTS 200
#define KILLS_INTAKE 5
#define KILLS_FANOUT 5
#define CREATES_MAX KILLS_FANOUT
#define PEERS 2
#define ACTORS_PER_PEER 8
#define ACTORS (PEERS * ACTORS_PER_PEER)
#define FOLLOWS_MAX 512
#define SINK_DELAY_MS 5
#define DRAIN_MS 30000
#define PHASE_MS 15000 /* for a phase's kill condition */
/* two_serves: the dead worker's rows go to the live one within this (a
 * heartbeat, 2 s, is what it takes; the grace, 30 s, would be too late). */
#define TAKEOVER_MS 20000
#define AS_CONTEXT "https://www.w3.org/ns/activitystreams"

/* One sink host: what it received. */
struct sink {
	struct MHD_Daemon *d;
	char ip[32];
	int port;
	atomic_int got[CREATES_MAX]; /* POSTs of Create n */
};

/* The Follows sent: per actor, in order; acked when answered 202. */
struct follows {
	pthread_mutex_t lock;
	char id[FOLLOWS_MAX][PEER_URL_MAX + 64];
	int actor[FOLLOWS_MAX];
	bool acked[FOLLOWS_MAX];
	int n;
	atomic_int acked_since_start;
};

static const char *binary;
static struct bridge br;
static struct sink sinks[HOSTS];
static struct peer *peers[PEERS];
static struct peer_actor *actors[ACTORS];
static struct follows fl = {.lock = PTHREAD_MUTEX_INITIALIZER};
static atomic_bool intake_stop;
static atomic_int creates_posted;
/* The hosts' ports, as a JSON array for queue_create. */
static char ports_json[HOSTS * 8 + 8];

/* ---- the sinks ---- */

struct sink_req {
	char body[4096];
	size_t len;
};

/* The Create number of a body ("…/crash/create/N"), or -1. */
static int create_of(const char *body)
{
	const char *p = strstr(body, "/crash/create/");

	return p ? (int)strtol(p + strlen("/crash/create/"), NULL, 10) : -1;
}

static enum MHD_Result sink_answer(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *data,
				   size_t *size, void **state)
{
	struct sink *s = cls;
	struct sink_req *r = *state;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int n;

	(void)url;
	(void)version;
	if (r == NULL) {
		r = calloc(1, sizeof(*r));
		*state = r;
		return r ? MHD_YES : MHD_NO;
	}
	if (*size > 0) {
		size_t room = sizeof(r->body) - 1 - r->len;
		size_t take = *size < room ? *size : room;

		memcpy(r->body + r->len, data, take);
		r->len += take;
		*size = 0;
		return MHD_YES;
	}
	n = strcmp(method, "POST") == 0 ? create_of(r->body) : -1;
	usleep(SINK_DELAY_MS * 1000);
	if (n >= 0 && n < CREATES_MAX)
		atomic_fetch_add(&s->got[n], 1);
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, n >= 0 ? 202 : 404, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void sink_done(void *cls, struct MHD_Connection *c, void **state,
		      enum MHD_RequestTerminationCode code)
{
	(void)cls;
	(void)c;
	(void)code;
	free(*state);
	*state = NULL;
}

static bool sinks_start(void)
{
	for (int i = 0; i < HOSTS; i++) {
		struct sink *s = &sinks[i];
		struct sockaddr_in sa = {.sin_family = AF_INET};

		snprintf(s->ip, sizeof(s->ip), "127.0.1.%d", i + 1);
		s->port = check_free_port(s->ip);
		if (s->port <= 0 || inet_pton(AF_INET, s->ip, &sa.sin_addr) != 1)
			return false;
		sa.sin_port = htons((uint16_t)s->port);
		s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, sink_answer,
					s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
					sink_done, NULL, MHD_OPTION_END);
		if (s->d == NULL) {
			fprintf(stderr, "    cannot listen on %s:%d\n", s->ip, s->port);
			return false;
		}
	}
	return true;
}

static int sinks_with(int n)
{
	int k = 0;

	for (int i = 0; i < HOSTS; i++)
		k += atomic_load(&sinks[i].got[n]) > 0;
	return k;
}

/* ---- intake ---- */

/* Sends one signed Follow from actor a; its id recorded, acked on 202.
 * False when the bridge did not answer (killed). */
static bool follow_once(int a)
{
	const struct peer_actor *pa = actors[a];
	struct curl_slist *hdrs = NULL;
	struct reply r = {0};
	char url[256], *body;
	json_t *j;
	bool answered;
	int k;

	pthread_mutex_lock(&fl.lock);
	k = fl.n < FOLLOWS_MAX ? fl.n++ : -1;
	if (k >= 0) {
		snprintf(fl.id[k], sizeof(fl.id[k]), "%s/activities/follow-%d-%ld", pa->id, k,
			 (long)time(NULL));
		fl.actor[k] = a;
	}
	pthread_mutex_unlock(&fl.lock);
	if (k < 0)
		return false;
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", fl.id[k], "type",
		      "Follow", "actor", pa->id, "object", br.actor_id);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	snprintf(url, sizeof(url), "%s/ap/actor/inbox", br.origin);
	if (body && peer_sign_post(pa, url, body, NULL, &hdrs) &&
	    bridge_http(&br, "POST", "/ap/actor/inbox", hdrs, body, strlen(body), &r) &&
	    r.status == 202) {
		pthread_mutex_lock(&fl.lock);
		fl.acked[k] = true;
		pthread_mutex_unlock(&fl.lock);
		atomic_fetch_add(&fl.acked_since_start, 1);
	}
	answered = r.status != 0;
	reply_free(&r);
	curl_slist_free_all(hdrs);
	free(body);
	return answered;
}

static void *intake_main(void *arg)
{
	static unsigned a; /* across phases: every actor follows */

	(void)arg;
	while (!atomic_load(&intake_stop) && follow_once((int)(a++ % ACTORS)))
		;
	return NULL;
}

/* Waits (bounded) until cond(arg) holds; false on timeout. */
static bool wait_for(bool (*cond)(long), long arg, long ms)
{
	long long until = peer_now_ms() + ms;

	while (!cond(arg)) {
		if (peer_now_ms() > until)
			return false;
		sleep_ms(2);
	}
	return true;
}

static bool acked_at_least(long n)
{
	return atomic_load(&fl.acked_since_start) >= n;
}

/* A kill once `target` Follows were acknowledged since the start. */
static void kill_during_intake(int target)
{
	pthread_t t;

	atomic_store(&intake_stop, false);
	if (pthread_create(&t, NULL, intake_main, NULL) != 0) {
		CHECK(!"cannot start the intake thread");
		return;
	}
	CHECK(wait_for(acked_at_least, target, PHASE_MS));
	CHECK_INT(bridge_stop(&br, SIGKILL), -1);
	atomic_store(&intake_stop, true);
	pthread_join(t, NULL);
	printf("     intake: killed after %d acknowledged Follows\n", target);
}

/* ---- fan-out ---- */

/* Queues Create n for every sink host in one transaction, as the
 * publisher's fan-out does. */
static bool queue_create(int n)
{
	char ap_id[96];
	long long act;

	snprintf(ap_id, sizeof(ap_id), "%s/crash/create/%d", br.origin, n);
	if (bridge_db_exec(&br,
			   "INSERT INTO activities(ap_id, json, created_at) VALUES (%Q,"
			   " json_object('type', 'Create', 'id', %Q), unixepoch())",
			   ap_id, ap_id) != 1)
		return false;
	act = bridge_db_int(&br, "SELECT id FROM activities WHERE ap_id = %Q", ap_id);
	if (act <= 0)
		return false;
	if (bridge_db_exec(&br,
			   "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k"
			   "  WHERE i + 1 < %d) INSERT OR IGNORE INTO hosts(host)"
			   " SELECT '127.0.1.' || (i + 1) || ':' ||"
			   "  (SELECT value FROM json_each(%Q) WHERE key = i) FROM k",
			   HOSTS, ports_json) < 0)
		return false;
	/* One statement: all hosts or none. */
	return bridge_db_exec(&br,
			      "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k"
			      "  WHERE i + 1 < %d),"
			      " s(i, host) AS (SELECT i, '127.0.1.' || (i + 1) || ':' ||"
			      "  (SELECT value FROM json_each(%Q) WHERE key = i) FROM k)"
			      " INSERT INTO deliveries(activity, inbox, host, next_attempt,"
			      " created_at, updated_at) SELECT %lld, 'http://' || host || '/inbox',"
			      " host, unixepoch(), unixepoch(), unixepoch() FROM s",
			      HOSTS, ports_json, act) == HOSTS;
}

static bool sinks_reached(long arg)
{
	int n = (int)(arg >> 16), k = (int)(arg & 0xffff);

	return sinks_with(n) >= k;
}

/* A kill once `target` hosts have had Create n. */
static void kill_during_fanout(int n, int target)
{
	CHECK(queue_create(n));
	atomic_store(&creates_posted, n + 1);
	CHECK(wait_for(sinks_reached, ((long)n << 16) | target, PHASE_MS));
	CHECK_INT(bridge_stop(&br, SIGKILL), -1);
	printf("     fan-out %d: killed with %d of %d hosts served\n", n, sinks_with(n), HOSTS);
}

/* ---- the checks ---- */

/* Every acknowledged Follow's actor follows, by that Follow or by one it
 * sent later. */
static void check_follows(void)
{
	int lost = 0, acked = 0;

	for (int a = 0; a < ACTORS; a++) {
		int last = -1;
		long long ok = 0;

		for (int k = 0; k < fl.n; k++)
			if (fl.actor[k] == a && fl.acked[k])
				last = k;
		if (last < 0)
			continue;
		acked++;
		for (int k = last; k < fl.n && ok <= 0; k++)
			if (fl.actor[k] == a)
				ok = bridge_db_int(&br,
						   "SELECT count(*) FROM followers WHERE actor = %Q"
						   " AND follow_id = %Q",
						   actors[a]->id, fl.id[k]);
		if (ok <= 0) {
			lost++;
			check_fail(__FILE__, __LINE__, "the acknowledged %s is lost", fl.id[last]);
		}
	}
	printf("     %d Follows sent, %d actors acknowledged, %d lost\n", fl.n, acked, lost);
}

static bool queue_empty(long arg)
{
	(void)arg;
	return bridge_db_int(&br, "SELECT count(*) FROM deliveries WHERE state = 0") == 0;
}

static bool all_served(long creates)
{
	for (int n = 0; n < creates; n++)
		if (sinks_with(n) < HOSTS)
			return false;
	return true;
}

/* ---- the run ---- */

/* The sinks' ports as a JSON array, for queue_create. */
static void ports_fill(void)
{
	size_t len = (size_t)snprintf(ports_json, sizeof(ports_json), "[");

	for (int i = 0; i < HOSTS; i++)
		len += (size_t)snprintf(ports_json + len, sizeof(ports_json) - len, "%s%d",
					i ? "," : "", sinks[i].port);
	snprintf(ports_json + len, sizeof(ports_json) - len, "]");
}

static bool world_up(const char *keydir)
{
	char name[16];

	if (!bridge_setup(&br, binary, "") || !bridge_start(&br) || !sinks_start())
		return false;
	for (int p = 0; p < PEERS; p++) {
		char ip[16];

		snprintf(ip, sizeof(ip), "127.0.0.%d", 2 + p);
		peers[p] = peer_start(ip, NULL, keydir);
		if (peers[p] == NULL)
			return false;
		for (int i = 0; i < ACTORS_PER_PEER; i++) {
			snprintf(name, sizeof(name), "u%d", i);
			actors[p * ACTORS_PER_PEER + i] = peer_actor_add(peers[p], name, NULL);
			if (actors[p * ACTORS_PER_PEER + i] == NULL)
				return false;
		}
	}
	ports_fill();
	return true;
}

static void t_random_kills(void)
{
	const char *keydir = check_tmpdir();
	const char *seed_env = getenv("CRASH_SEED");
	unsigned seed = seed_env ? (unsigned)strtoul(seed_env, NULL, 10) : (unsigned)time(NULL);
	int kinds[KILLS_INTAKE + KILLS_FANOUT], creates = 0;
	long long restarted = 0;

	printf("     seed %u (CRASH_SEED=%u repeats it)\n", seed, seed);
	srand(seed);
	if (!world_up(keydir)) {
		CHECK(!"the setup failed");
		goto out;
	}
	for (int i = 0; i < KILLS_INTAKE + KILLS_FANOUT; i++)
		kinds[i] = i < KILLS_INTAKE;
	for (int i = KILLS_INTAKE + KILLS_FANOUT - 1; i > 0; i--) {
		int j = rand() % (i + 1), x = kinds[i];
		kinds[i] = kinds[j];
		kinds[j] = x;
	}
	for (int i = 0; i < KILLS_INTAKE + KILLS_FANOUT; i++) {
		if (kinds[i])
			kill_during_intake(1 + rand() % 6);
		else {
			kill_during_fanout(creates, 1 + rand() % (HOSTS * 3 / 4));
			creates++;
		}
		atomic_store(&fl.acked_since_start, 0);
		if (!bridge_start(&br)) {
			CHECK(!"the bridge did not restart");
			goto out;
		}
		restarted = peer_now_ms();
	}
	/* After the last restart: everything delivered, nothing left. */
	CHECK(wait_for(all_served, creates, DRAIN_MS));
	CHECK(wait_for(queue_empty, 0, DRAIN_MS - (peer_now_ms() - restarted)));
	printf("     drained %.2f s after the last restart\n",
	       (double)(peer_now_ms() - restarted) / 1000.0);
	for (int n = 0; n < creates; n++)
		if (sinks_with(n) < HOSTS)
			check_fail(__FILE__, __LINE__, "Create %d reached %d of %d hosts", n,
				   sinks_with(n), HOSTS);
	check_follows();
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM pragma_integrity_check"
				     " WHERE integrity_check <> 'ok'"),
		  0);
	/* The last one ends cleanly, its log free of sanitizer reports. */
	CHECK_INT(bridge_stop(&br, SIGTERM), 0);
	bridge_check_log_clean(&br);
out:
	if (br.pid > 0)
		bridge_stop(&br, SIGTERM);
	for (int p = 0; p < PEERS; p++)
		peer_stop(peers[p]);
	for (int i = 0; i < HOSTS; i++)
		if (sinks[i].d)
			MHD_stop_daemon(sinks[i].d);
	check_tmpdir_remove(keydir);
}

/* A second `serve` of b's blog on b's database: its own listen port, its
 * own config file (bridge2.conf beside b's) and log. */
static bool second_start(const struct bridge *b, struct bridge *b2)
{
	char text[4096], from[64], to[64], *at, *path;
	FILE *f = fopen(b->conf, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f)
		fclose(f);
	text[n] = '\0';
	*b2 = *b;
	b2->pid = 0;
	b2->port = check_free_port("127.0.0.1");
	snprintf(from, sizeof(from), "listen = 127.0.0.1:%d\n", b->port);
	snprintf(to, sizeof(to), "listen = 127.0.0.1:%d\n", b2->port);
	at = strstr(text, from);
	if (b2->port <= 0 || at == NULL || strlen(to) != strlen(from))
		return false;
	memcpy(at, to, strlen(to));
	path = check_write_file(b->dir, "bridge2.conf", text);
	snprintf(b2->conf, sizeof(b2->conf), "%s", path);
	free(path);
	snprintf(b2->log, sizeof(b2->log), "%s/server2.log", b->dir);
	return bridge_start(b2);
}

/* Hosts that had Create n other than exactly once. */
static int sinks_not_once(int n)
{
	int k = 0;

	for (int i = 0; i < HOSTS; i++)
		k += atomic_load(&sinks[i].got[n]) != 1;
	return k;
}

static void t_two_serves(void)
{
	struct bridge b2 = {0};
	long long killed;
	int dup = 0, fails = check_failures;

	memset(sinks, 0, sizeof(sinks));
	bridge_remove(&br); /* the case before's */
	if (!bridge_setup(&br, binary, "") || !bridge_start(&br) || !sinks_start()) {
		CHECK(!"the setup failed");
		goto out;
	}
	ports_fill();
	CHECK(second_start(&br, &b2));
	if (b2.pid <= 0)
		goto out;
	/* Two Creates for every host, 2 * HOSTS rows: more than one worker
	 * holds (DELIVERY_INFLIGHT_MAX), so both take some. */
	CHECK(queue_create(0));
	CHECK(queue_create(1));
	CHECK(wait_for(all_served, 2, DRAIN_MS));
	CHECK(wait_for(queue_empty, 0, DRAIN_MS));
	CHECK_INT(sinks_not_once(0), 0);
	CHECK_INT(sinks_not_once(1), 0);
	/* The first alone takes the next fan-out (the second is stopped),
	 * and is killed during it, holding the leases of the rest; the
	 * second, let go, frees them at its next heartbeat (the dead
	 * process is on its host), well before the grace would. */
	CHECK(bridge_pause(&b2));
	CHECK(queue_create(2));
	CHECK(wait_for(sinks_reached, (2L << 16) | (HOSTS / 5), PHASE_MS));
	CHECK_INT(bridge_stop(&br, SIGKILL), -1);
	killed = peer_now_ms();
	printf("     killed one serve with %d of %d hosts served\n", sinks_with(2), HOSTS);
	CHECK(bridge_db_int(&br, "SELECT count(*) FROM deliveries WHERE state = 0"
				 " AND lease_until > unixepoch()") > 0);
	CHECK(bridge_resume(&b2));
	CHECK(wait_for(all_served, 3, TAKEOVER_MS));
	CHECK(wait_for(queue_empty, 0, DRAIN_MS));
	for (int i = 0; i < HOSTS; i++)
		dup += atomic_load(&sinks[i].got[2]) > 1;
	printf("     the other served the rest %.2f s after the kill; %d hosts had it twice"
	       " (sent by the killed one, not yet recorded)\n",
	       (double)(peer_now_ms() - killed) / 1000.0, dup);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM pragma_integrity_check"
				     " WHERE integrity_check <> 'ok'"),
		  0);
	CHECK_INT(bridge_stop(&b2, SIGTERM), 0);
	bridge_check_log_clean(&br);
	bridge_check_log_clean(&b2);
out:
	if (check_failures != fails && b2.pid != 0)
		bridge_dump_log(&b2);
	if (b2.pid > 0)
		bridge_stop(&b2, SIGTERM);
	if (br.pid > 0)
		bridge_stop(&br, SIGTERM);
	for (int i = 0; i < HOSTS; i++)
		if (sinks[i].d)
			MHD_stop_daemon(sinks[i].d);
	memset(sinks, 0, sizeof(sinks));
}

static const struct check_case cases[] = {
    {"random_kills", t_random_kills},
    {"two_serves", t_two_serves},
};

int main(int argc, char **argv)
{
	long long t0 = peer_now_ms();
	int rc;

	binary = bridge_main_init(argc, argv, "test_crash");
	if (binary == NULL)
		return 2;
	rc = check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
	if (rc != 0)
		bridge_dump_log(&br);
	bridge_remove(&br);
	curl_global_cleanup();
	printf("total %.2f s\n", (double)(peer_now_ms() - t0) / 1000.0);
	return rc;
}
