/*
 * fuzz_backfill.c — the reply backfill's reading of remote collections
 * (activitypub/backfill.c, backfill_budget.c): a comment's `replies` or
 * `context` collection (Collection, OrderedCollection, their pages through
 * first and next), its items (URIs, notes, activities), the notes they
 * name and their authors' actors, as one backfill_pass reads them from
 * other servers and imports what answers ours into a real SQLite store.
 *
 * The network is replaced, nothing else: the target is linked with
 * -Wl,--wrap=fetch_get, so remote.c's calls to fetch_get come here and
 * are answered from the input; everything else is the real code.
 *
 * Input: up to FUZZ_DOCS bodies separated by NUL bytes; the n-th GET
 * gets the n-th body (200, application/activity+json, or
 * application/jrd+json for WebFinger, from the URL asked), and a GET
 * past the last body gets a 404.
 *
 * The store (made once, in a temporary folder): our post POST_ID,
 * published when the fuzzer started; Alice's comment COMMENT_ID on it,
 * whose replies collection REPLIES_URL is the one row due; Alice in the
 * actor cache (her notes cost no actor fetch); a blocked actor and a
 * blocked domain in the store, another domain blocked by the config.
 * Each input runs one pass inside a transaction that is rolled back
 * (each of the pass's writes a savepoint in it, as the serve's writer
 * batches them), with a backfill of its own, so every input starts
 * from the same state and budgets.
 *
 * No waiting: a server's minute budget (BACKFILL_HOST_PER_MIN, taken
 * before each fetch, ACTOR_FETCH_COST at most, and each take followed
 * by a GET to that server) cannot run out before FUZZ_HOST_GETS GETs to
 * one server; at that many (or FUZZ_GETS_MAX in all) the backfill is
 * cancelled, which ends the pass and makes any wait return at once.
 *
 * Aborts when the pass breaks what backfill.h promises: a GET to our
 * own host, a blocked domain or a blocked actor; more comments, rows or
 * fetches than the bounds allow; a count of new comments that is not
 * what the store gained; a pass that fails although the store does not.
 * With FUZZ_BACKFILL_STATS set in the environment, each input's pass
 * says what it did on stderr (to see that a seed reaches the import).
 */
#include "fuzz.h"

#include "backfill.h"
#include "err.h"
#include "fetch.h"
#include "log.h"
#include "site.h"
#include "store.h"
#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FUZZ_DOCS 16
#define FUZZ_HOST_GETS 14 /* (BACKFILL_HOST_PER_MIN - 2) / 2: no server's minute runs out */
#define FUZZ_GETS_MAX 64
#define FUZZ_HOSTS 32 /* servers whose GETs are counted (the rest share the last) */

#define BASE "https://blog.example"
#define POST_ID BASE "/ap/posts/1"
#define ALICE "https://remote.example/users/alice"
#define COMMENT_ID ALICE "/statuses/1"
#define REPLIES_URL COMMENT_ID "/replies"
#define MALLORY "https://remote.example/users/mallory" /* blocked in the store */
#define SHUNNED "shunned.example"		       /* blocked in the store */
#define BLOCKED "blocked.example"		       /* blocked by the config */

static const uint8_t *docs[FUZZ_DOCS];
static size_t doc_len[FUZZ_DOCS], ndocs;

/* The GETs of the current input. */
static struct backfill *current;
static size_t gets;
static struct {
	char host[URL_HOST_KEY_MAX + 1];
	size_t gets;
} hosts[FUZZ_HOSTS];
static size_t nhosts;

static struct store *st;
static struct ap_site site;
static char *config_blocked[] = {BLOCKED, NULL};
static struct comments_env cenv;
static char dir[64] = "";
static int64_t comments_before;

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_backfill: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

/* Counts a GET to url's server; true when the backfill must stop. */
static bool get_count(const char *url)
{
	char host[URL_HOST_KEY_MAX + 1];
	struct err e = {0};
	size_t i;

	if (url_host_key(url, host, &e) != BB_OK)
		fail("a GET of a URL without a host", url);
	if (strcmp(host, "blog.example") == 0 || url_host_blocked(config_blocked, host) ||
	    url_host_blocked((char *[]){SHUNNED, NULL}, host))
		fail("a GET to our own host or a blocked one", url);
	if (strcmp(url, MALLORY) == 0)
		fail("a GET of a blocked actor", url);
	for (i = 0; i < nhosts && strcmp(hosts[i].host, host) != 0; i++)
		;
	if (i == nhosts) {
		if (nhosts < FUZZ_HOSTS)
			nhosts++;
		else
			i = FUZZ_HOSTS - 1;
		snprintf(hosts[i].host, sizeof(hosts[i].host), "%s", host);
	}
	gets++;
	return ++hosts[i].gets >= FUZZ_HOST_GETS || gets >= FUZZ_GETS_MAX;
}

enum bb_rc __wrap_fetch_get(const struct fetch_config *cfg, const char *url, const char *accept,
			    size_t max_body, struct fetch_result *out, struct err *e);

enum bb_rc __wrap_fetch_get(const struct fetch_config *cfg, const char *url, const char *accept,
			    size_t max_body, struct fetch_result *out, struct err *e)
{
	const char *ct = strstr(url, "/.well-known/webfinger") ? "application/jrd+json"
							       : "application/activity+json";
	size_t i = gets;

	(void)accept;
	memset(out, 0, sizeof(*out));
	if (cfg->timeout_s > BACKFILL_FETCH_TIMEOUT_S)
		fail("a GET without the backfill's timeout", url);
	if (get_count(url))
		backfill_cancel(current);
	if (i >= ndocs) {
		out->status = 404;
		out->body = fuzz_cstr(NULL, 0);
	} else {
		if (doc_len[i] > max_body)
			return err_set(e, BB_ERR_LIMIT, "body too large");
		out->status = 200;
		out->body = fuzz_cstr(docs[i], doc_len[i]);
		out->body_len = doc_len[i];
	}
	out->content_type = strdup(ct);
	out->url = strdup(url);
	if (out->content_type == NULL || out->url == NULL)
		abort();
	return BB_OK;
}

/* Each of the pass's writes: a savepoint in the input's transaction. */
static enum bb_rc write_savepoint(void *warg, backfill_job_fn fn, void *arg, struct err *e)
{
	struct store *s = warg;
	enum bb_rc rc = store_savepoint(s, e);

	if (rc != BB_OK)
		return rc;
	rc = fn(s, arg, e);
	if (rc == BB_OK)
		rc = store_savepoint_release(s, e);
	else
		store_savepoint_rollback(s);
	return rc;
}

static int64_t comment_count(void)
{
	struct store_comment_filter f = {0};
	struct err e = {0};
	int64_t n = 0;

	if (store_comment_count(st, &f, &n, &e) != BB_OK)
		fail("store_comment_count", e.msg);
	return n;
}

static void cleanup(void)
{
	static const char *const files[] = {"bb.db", "bb.db-wal", "bb.db-shm", "bb.db-journal"};
	char path[sizeof(dir) + 16];

	if (st != NULL)
		store_close(st);
	st = NULL;
	for (size_t i = 0; dir[0] && i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	if (dir[0])
		(void)rmdir(dir);
}

/* The store every input starts from. */
static void store_make(void)
{
	struct ap_site_config sc = {
	    .base_url = BASE,
	    .host = "blog.example",
	    .handle = "blog",
	    .name = "Blog",
	    .summary = "",
	    .blog_url = "https://blog.example/",
	    .public_key_pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
	    .software_version = "1",
	    .published = 1,
	};
	time_t now = time(NULL);
	struct store_post p = {.guid = "g1",
			       .ap_id = POST_ID,
			       .url = "https://blog.example/2026/a-post/",
			       .title = "A post",
			       .hash = "h1",
			       .object_json = "{}",
			       .published = now,
			       .updated = now};
	struct store_actor alice = {.id = ALICE,
				    .inbox = ALICE "/inbox",
				    .key_id = ALICE "#main-key",
				    .public_key_pem = "-----BEGIN PUBLIC KEY-----\n",
				    .name = "Alice",
				    .fetched_at = now};
	struct store_comment c = {.ap_id = COMMENT_ID,
				  .author = ALICE,
				  .content = "<p>a comment</p>",
				  .status = STORE_COMMENT_APPROVED,
				  .published = now,
				  .received = now};
	struct store_backfill row = {REPLIES_URL, STORE_BACKFILL_REPLIES, COMMENT_ID, 0, 0, 0, 0};
	const char *tmp = getenv("TMPDIR");
	char *path;
	struct err e = {0};
	bool is_new = false;

	log_level_set(LOG_LEVEL_ERROR);
	snprintf(dir, sizeof(dir), "%s/bb-fuzzbf.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		fail("mkdtemp", dir);
	atexit(cleanup);
	path = malloc(strlen(dir) + 8);
	if (path == NULL)
		abort();
	sprintf(path, "%s/bb.db", dir);
	if (store_open(path, &st, &e) != BB_OK)
		fail("store_open", e.msg);
	free(path);
	if (ap_site_init(&site, &sc, &e) != BB_OK)
		fail("ap_site_init", e.msg);
	if (store_post_put(st, &p, &e) != BB_OK)
		fail("store_post_put", e.msg);
	c.post = row.post = p.rowid;
	if (store_actor_put(st, &alice, &e) != BB_OK ||
	    store_comment_add(st, &c, &is_new, &e) != BB_OK ||
	    store_backfill_add(st, &row, &e) != BB_OK ||
	    store_block_add(st, MALLORY, true, now, &e) != BB_OK ||
	    store_block_add(st, SHUNNED, false, now, &e) != BB_OK)
		fail("seeding the store", e.msg);
	cenv = (struct comments_env){&site, config_blocked, COMMENTS_MODERATION_AUTO, {0}};
	comments_before = comment_count();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fetch_config fetch = {.user_agent = "fuzz"};
	struct backfill_env env = {&cenv, &fetch, write_savepoint, NULL};
	struct backfill_stats stats;
	struct store_backfill row = {0};
	struct err e = {0};
	enum bb_rc rc;
	int64_t gained;

	if (st == NULL)
		store_make();
	for (ndocs = 0; ndocs < FUZZ_DOCS && size > 0; ndocs++) {
		const uint8_t *end = memchr(data, 0, size);
		size_t n = end ? (size_t)(end - data) : size;
		docs[ndocs] = data;
		doc_len[ndocs] = n;
		data += n;
		size -= n;
		if (end) {
			data++;
			size--;
		}
	}
	gets = 0;
	nhosts = 0;
	memset(hosts, 0, sizeof(hosts));
	env.write_arg = st;
	current = backfill_new(&env);
	if (current == NULL)
		abort();
	if (store_begin(st, &e) != BB_OK)
		fail("store_begin", e.msg);
	rc = backfill_pass(current, st, false, time(NULL), &stats, &e);
	if (rc != BB_OK)
		fail("the pass failed", e.msg);
	gained = comment_count() - comments_before;
	if (gained < 0 || (size_t)gained != stats.imported)
		fail("new comments miscounted", NULL);
	if (stats.imported > BACKFILL_POST_ITEMS_MAX || stats.rows > BACKFILL_ROWS_PER_PASS ||
	    stats.fetches > BACKFILL_PER_HOUR)
		fail("over the bounds", NULL);
	if (stats.rows + stats.skipped == 0)
		fail("the due row not read", NULL);
	store_rollback(st);
	backfill_free(current);
	current = NULL;
	/* Back where it started. */
	if (store_backfill_get(st, REPLIES_URL, &row, &e) != BB_OK || row.fetched_at != 0 ||
	    row.failures != 0)
		fail("the store not restored", e.msg);
	store_backfill_clear(&row);
	if (getenv("FUZZ_BACKFILL_STATS"))
		fprintf(stderr,
			"fuzz_backfill: %zu rows, %zu fetches, %zu imported, %zu refused, "
			"%zu skipped, %zu failed, %zu GETs\n",
			stats.rows, stats.fetches, stats.imported, stats.refused, stats.skipped,
			stats.failed, gets);
	return 0;
}
