/*
 * backfill_int.h — what the backfill's files share (backfill.c reads the
 * collections and imports; backfill_budget.c keeps the bounds and fetches
 * within them), and nothing else includes.
 */
#ifndef BB_BACKFILL_INT_H
#define BB_BACKFILL_INT_H

#include "backfill.h"
#include "url.h"

#include <pthread.h>

#define BACKFILL_HOSTS_MAX 256 /* servers whose budget is kept (the oldest make room) */
#define BACKFILL_POSTS_MAX 256 /* posts whose hourly item count is kept */

struct host_budget {
	char host[URL_HOST_KEY_MAX + 1];
	time_t minute; /* start of the current minute's window */
	int count;     /* fetches in it */
	time_t skip_until;
	time_t used; /* last use, to choose whom to forget */
};

struct post_budget {
	int64_t post;
	int count;
};

struct backfill {
	struct backfill_env env;
	struct fetch_config fetch;
	pthread_mutex_t lock; /* cancel, and the wait for a server's budget */
	pthread_cond_t wake;
	bool cancel;
	struct host_budget hosts[BACKFILL_HOSTS_MAX];
	size_t nhosts;
	struct post_budget posts[BACKFILL_POSTS_MAX];
	size_t nposts;
	time_t hour; /* start of the current hour's window */
	size_t hour_count;
};

/* One row being read, and the pass around it. */
struct pass {
	struct backfill *bf;
	struct store *st;
	time_t now;
	struct backfill_stats *stats;
	const struct store_backfill *row;
	size_t items;	  /* looked at in this collection */
	json_t *deferred; /* believed notes answering one not (yet) stored */
	bool stop_row;	  /* this collection's bounds are reached */
	bool stop_pass;	  /* the hourly budget is */
	bool skipped;	  /* the last budget_take refused: its server is failing */
};

/* Whether backfill_cancel was called. */
bool bf_cancelled(struct backfill *bf);

/* The host key of url in host; false when it has none. */
bool bf_host_of(const char *url, char host[URL_HOST_KEY_MAX + 1]);
bool bf_same_host(const char *a, const char *b);

/* An id: a string, or an object's id; http(s) only, FETCH_URL_MAX bytes
 * at most; NULL otherwise. */
const char *bf_id_of(const json_t *v);

/* Takes cost fetches from url's server and from the hour: BB_ERR_TEMPFAIL
 * (p->skipped) when the server is being skipped, BB_ERR_LIMIT
 * (p->stop_pass) when the hour's budget is spent; waits for the next
 * minute when the server's is (BB_ERR_TEMPFAIL when cancelled meanwhile). */
enum bb_rc bf_budget_take(struct pass *p, const char *url, int cost, struct err *e) BB_MUST_CHECK;

/* url's server failed (network, timeout, 5xx, 429) when rc is
 * BB_ERR_TEMPFAIL, and not because it was skipped or the pass stopped:
 * it is left alone BACKFILL_HOST_SKIP_S. */
void bf_host_failed(struct pass *p, const char *url, enum bb_rc rc);

/* Counts one item for the row's post; false when the post's hourly
 * bound is reached. */
bool bf_post_item_take(struct pass *p);

/* Whether url may be fetched at all (*barred false): not ours, not
 * blocked by the config's list or the store's (actor, when set, is
 * checked too). */
enum bb_rc bf_url_barred(struct pass *p, const char *url, const char *actor, bool *barred,
			 struct err *e) BB_MUST_CHECK;

/* The copy of the document at url its origin serves
 * (remote_object_fetch), within the budgets; a failing server is marked.
 * BB_ERR_FORBIDDEN when url is barred. */
enum bb_rc bf_doc_get(struct pass *p, const char *url, json_t **out, struct err *e) BB_MUST_CHECK;

#endif
