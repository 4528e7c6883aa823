/*
 * bench/floor.c — what each piece of a reply's intake costs alone, on one
 * thread, with the libraries the bridge uses: the least a reply can cost
 * before any HTTP, threads or contention.
 *
 *   bench_floor DIRECTORY [ROUNDS]
 *
 * On bench_inbox's reply (bench_reply_body, about 2 KB), times, ROUNDS
 * rounds (default 5) of ITERATIONS each, the pieces in turn in each round,
 * and prints each piece's median CPU microseconds (this thread's own, so
 * the disk's wait is not counted, its system calls are): the JSON parse
 * alone (jansson); the activity read (ap_activity_parse, the JSON
 * included); the RSA-2048 check of a draft-cavage signing string
 * (OpenSSL, through pubkey_verify); the note read and its HTML reduced
 * (comment_prepare: libxml2); and the comment with its replay record
 * stored durably (SQLite, WAL, synchronous=FULL) in a file of DIRECTORY,
 * 32 a commit as the writer batches them under load.  Then their sum,
 * beside the budget the inbox benchmark's aim leaves: at 8,000 replies/s
 * on 2 cores, 250 us of CPU per reply for the bridge, its HTTP and the
 * benchmark's own client together.
 */
#include "activity.h"
#include "bench_util.h"
#include "comments.h"
#include "key.h"
#include "store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ITERATIONS 2000
#define BATCH 32
#define ROUNDS_MAX 21
#define POST_ID "http://127.0.0.1:8080/ap/posts/floor"

static char body[8192];
static size_t body_len;
static struct pubkey *pk;
static unsigned char *sig;
static size_t siglen;
static const char signing[] = "(request-target): post /ap/inbox\nhost: blog.example\n"
			      "date: Sat, 21 Nov 2026 14:02:11 GMT\n"
			      "digest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
			      "content-type: application/activity+json";
static struct store *st;
static long serial;

static int die(const char *what, const struct err *e)
{
	fprintf(stderr, "bench_floor: %s%s%s\n", what, e ? ": " : "", e ? e->msg : "");
	exit(1);
}

static void op_json(void)
{
	json_error_t je;
	json_t *j = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &je);

	if (j == NULL)
		die(je.text, NULL);
	json_decref(j);
}

static void op_activity(void)
{
	struct ap_activity a;
	struct err e = {0};

	if (ap_activity_parse(body, body_len, &a, &e) != BB_OK)
		die("ap_activity_parse", &e);
	ap_activity_free(&a);
}

static void op_verify(void)
{
	struct err e = {0};

	if (pubkey_verify(pk, PUBKEY_ALG_RSA_V1_5_SHA256, signing, strlen(signing), sig, siglen,
			  &e) != BB_OK)
		die("pubkey_verify", &e);
}

static struct ap_activity parsed;

static void op_prepare(void)
{
	struct comment_prepared p;

	if (comment_prepare(&parsed, parsed.object.json, "http://127.0.0.1:8080/ap/actor", &p) !=
		BB_OK ||
	    !p.parsed || p.html.len == 0)
		die("comment_prepare", NULL);
	comment_prepared_clear(&p);
}

static int64_t post_rowid;

/* BATCH comments, one commit; called ITERATIONS / BATCH times a round. */
static void op_store_batch(void)
{
	struct err e = {0};

	if (store_begin(st, &e) != BB_OK)
		die("store_begin", &e);
	for (int i = 0; i < BATCH; i++) {
		char act[96], id[96];
		struct store_comment c = {0};
		bool is_new = false;
		long k = serial++;

		snprintf(act, sizeof(act), "http://127.0.0.2:9/u/1/statuses/%ld/activity", k);
		snprintf(id, sizeof(id), "http://127.0.0.2:9/u/1/statuses/%ld", k);
		c.ap_id = id;
		c.post = post_rowid;
		c.author = "http://127.0.0.2:9/u/1";
		c.url = id;
		c.content = "<p>Thanks for writing this up &amp; for the examples. It matches what "
			    "we saw last week, see <a href=\"https://example.org/notes/2026/11/"
			    "field-report\" rel=\"nofollow noopener ugc\">example.org/notes/2026/"
			    "11/fi…</a></p><p>One question though: how do you handle the older "
			    "posts?</p>";
		c.status = STORE_COMMENT_APPROVED;
		c.published = c.updated = c.received = 1764000000 + k;
		if (store_seen_add(st, act, c.received, &is_new, &e) != BB_OK ||
		    store_comment_add(st, &c, &is_new, &e) != BB_OK)
			die("store", &e);
	}
	if (store_commit(st, &e) != BB_OK)
		die("store_commit", &e);
}

/* CPU seconds this thread has used. */
static double cpu_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct op {
	void (*fn)(void);
	int calls; /* a round */
	int per;   /* items a call */
	double r[ROUNDS_MAX];
};

/* Each round times every op in turn (so a drift of the machine's speed
 * reaches them all); each op's result is the median over rounds of the
 * CPU microseconds one item costs. */
static void time_ops(struct op *ops, size_t n, int rounds)
{
	for (size_t i = 0; i < n; i++)
		ops[i].fn(); /* warm */
	for (int k = 0; k < rounds; k++)
		for (size_t i = 0; i < n; i++) {
			double t0 = cpu_now_s();
			for (int c = 0; c < ops[i].calls; c++)
				ops[i].fn();
			ops[i].r[k] =
			    (cpu_now_s() - t0) * 1e6 / ((double)ops[i].calls * ops[i].per);
		}
	for (size_t i = 0; i < n; i++)
		qsort(ops[i].r, (size_t)rounds, sizeof(double), bench_cmp_double);
}

int main(int argc, char **argv)
{
	struct store_post p = {
	    0,		"floor-guid", POST_ID, "https://blog.example/floor", "A post", "h", "{}",
	    1764000000, 1764000000,   0};
	struct err e = {0};
	struct key *k = NULL;
	char path[4096];
	int rounds = 5;
	double t_json, t_act, t_verify, t_prep, t_store;
	struct op ops[] = {
	    {op_json, ITERATIONS, 1, {0}},
	    {op_activity, ITERATIONS, 1, {0}},
	    {op_verify, ITERATIONS, 1, {0}},
	    {op_prepare, ITERATIONS, 1, {0}},
	    {op_store_batch, ITERATIONS / BATCH, BATCH, {0}},
	};

	if (argc < 2 || argc > 3 ||
	    (argc == 3 && ((rounds = atoi(argv[2])) < 1 || rounds > ROUNDS_MAX))) {
		fprintf(stderr, "usage: bench_floor DIRECTORY [ROUNDS (1-%d)]\n", ROUNDS_MAX);
		return 2;
	}
	bench_reply_body(body, sizeof(body), "http://127.0.0.2:9/u/1", 1, POST_ID, 8080);
	body_len = strlen(body);
	if (ap_activity_parse(body, body_len, &parsed, &e) != BB_OK)
		die("ap_activity_parse", &e);

	snprintf(path, sizeof(path), "%s/floor-key.pem", argv[1]);
	unlink(path);
	if (key_load_or_create(path, &k, NULL, &e) != BB_OK ||
	    pubkey_from_key(k, &pk, &e) != BB_OK ||
	    key_sign_rsa_sha256(k, signing, strlen(signing), &sig, &siglen, &e) != BB_OK)
		die("key", &e);
	unlink(path);

	snprintf(path, sizeof(path), "%s/floor.db", argv[1]);
	unlink(path);
	if (store_open(path, &st, &e) != BB_OK || store_begin(st, &e) != BB_OK ||
	    store_post_put(st, &p, &e) != BB_OK || store_commit(st, &e) != BB_OK)
		die(path, &e);
	post_rowid = p.rowid;

	time_ops(ops, sizeof(ops) / sizeof(ops[0]), rounds);
	t_json = ops[0].r[rounds / 2];
	t_act = ops[1].r[rounds / 2];
	t_verify = ops[2].r[rounds / 2];
	t_prep = ops[3].r[rounds / 2];
	t_store = ops[4].r[rounds / 2];

	printf("reply body            %zu bytes\n", body_len);
	printf("JSON parse (jansson)  %6.1f us   (inside the activity read below)\n", t_json);
	printf("activity read         %6.1f us\n", t_act);
	printf("RSA-2048 check        %6.1f us\n", t_verify);
	printf("note read + HTML      %6.1f us   (libxml2 reduction)\n", t_prep);
	printf("stored durably        %6.1f us   (comment + replay record, %d a commit)\n", t_store,
	       BATCH);
	printf("sum                   %6.1f us of one core, before HTTP, threads and the client\n",
	       t_act + t_verify + t_prep + t_store);
	printf(
	    "aim's budget          %6.1f us of CPU per reply (8,000/s on 2 cores, all included)\n",
	    2.0 * 1e6 / 8000);

	ap_activity_free(&parsed);
	store_close(st);
	unlink(path);
	snprintf(path, sizeof(path), "%s/floor.db-wal", argv[1]);
	unlink(path);
	snprintf(path, sizeof(path), "%s/floor.db-shm", argv[1]);
	unlink(path);
	pubkey_free(pk);
	free(sig);
	key_free(k);
	return 0;
}
