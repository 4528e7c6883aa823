/*
 * test_backfill_budget.c — the reply backfill's bounds (backfill_budget.c):
 * fetches per minute per server, per hour in all, items per post and
 * hour, the servers being skipped after a failure.  No fetch is made:
 * the budgets are taken as a pass takes them before each fetch.
 */
#include "backfill_int.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

static enum bb_rc no_write(void *warg, backfill_job_fn fn, void *arg, struct err *e)
{
	(void)warg, (void)fn, (void)arg;
	return err_set(e, BB_ERR_INVALID, "no writes here");
}

/* A backfill with nothing behind it, and a pass over row. */
static struct backfill *setup(struct pass *p, struct backfill_stats *stats,
			      struct store_backfill *row)
{
	static const struct fetch_config fetch = {0};
	struct backfill_env env = {NULL, &fetch, no_write, NULL};
	struct backfill *bf = backfill_new(&env);

	memset(p, 0, sizeof(*p));
	memset(stats, 0, sizeof(*stats));
	p->bf = bf;
	p->stats = stats;
	p->row = row;
	p->now = time(NULL);
	return bf;
}

static void t_host_minute(void)
{
	struct backfill_stats stats;
	struct store_backfill row = {.post = 1};
	struct pass p;
	struct backfill *bf = setup(&p, &stats, &row);
	struct err e = {0};

	if (bf == NULL)
		return;
	for (int i = 0; i < BACKFILL_HOST_PER_MIN; i++)
		CHECK_INT(bf_budget_take(&p, "https://a.example/c/1", 1, &e), BB_OK);
	/* Another server has its own budget. */
	CHECK_INT(bf_budget_take(&p, "https://b.example/c/1", 1, &e), BB_OK);
	CHECK_INT((long long)stats.fetches, BACKFILL_HOST_PER_MIN + 1);
	/* The next one on a.example waits for the next minute: cancelled
	 * first, it ends at once without a fetch. */
	backfill_cancel(bf);
	CHECK_INT(bf_budget_take(&p, "https://a.example:443/c/2", 1, &e), BB_ERR_TEMPFAIL);
	CHECK_STR(e.msg, "stopping");
	CHECK(!p.skipped);
	CHECK_INT((long long)stats.fetches, BACKFILL_HOST_PER_MIN + 1);
	CHECK(bf_cancelled(bf));
	backfill_free(bf);
}

static void t_hour(void)
{
	struct backfill_stats stats;
	struct store_backfill row = {.post = 1};
	struct pass p;
	struct backfill *bf = setup(&p, &stats, &row);
	struct err e = {0};
	char url[64];
	int taken = 0;

	if (bf == NULL)
		return;
	/* Spread over servers (none reaching its minute's bound). */
	for (int h = 0; taken < BACKFILL_PER_HOUR; h++) {
		snprintf(url, sizeof(url), "https://h%d.example/c", h);
		for (int i = 0; i < BACKFILL_HOST_PER_MIN / 2 && taken < BACKFILL_PER_HOUR; i++) {
			CHECK_INT(bf_budget_take(&p, url, 1, &e), BB_OK);
			taken++;
		}
	}
	CHECK(!p.stop_pass);
	CHECK_INT(bf_budget_take(&p, "https://fresh.example/c", 1, &e), BB_ERR_LIMIT);
	CHECK(p.stop_pass);
	CHECK(stats.limited);
	CHECK_INT((long long)stats.fetches, BACKFILL_PER_HOUR);
	backfill_free(bf);
}

static void t_failing_host(void)
{
	struct backfill_stats stats;
	struct store_backfill row = {.post = 1};
	struct pass p;
	struct backfill *bf = setup(&p, &stats, &row);
	struct err e = {0};

	if (bf == NULL)
		return;
	CHECK_INT(bf_budget_take(&p, "https://a.example/c/1", 1, &e), BB_OK);
	/* Not a failure of the server: a 404, a bad document. */
	bf_host_failed(&p, "https://a.example/c/1", BB_ERR_NOTFOUND);
	CHECK_INT(bf_budget_take(&p, "https://a.example/c/2", 1, &e), BB_OK);
	bf_host_failed(&p, "https://a.example/c/2", BB_ERR_TEMPFAIL);
	CHECK_INT(bf_budget_take(&p, "https://a.example/c/3", 1, &e), BB_ERR_TEMPFAIL);
	CHECK(p.skipped);
	CHECK_INT((long long)stats.fetches, 2);
	/* A skip is no new failure; other servers go on. */
	bf_host_failed(&p, "https://a.example/c/3", BB_ERR_TEMPFAIL);
	CHECK_INT(bf_budget_take(&p, "https://b.example/c/1", 1, &e), BB_OK);
	CHECK(!p.skipped);
	backfill_free(bf);
}

static void t_post_items(void)
{
	struct backfill_stats stats;
	struct store_backfill row = {.post = 7}, other = {.post = 8};
	struct pass p;
	struct backfill *bf = setup(&p, &stats, &row);
	int n = 0;

	if (bf == NULL)
		return;
	while (n <= BACKFILL_POST_ITEMS_MAX && bf_post_item_take(&p))
		n++;
	CHECK_INT(n, BACKFILL_POST_ITEMS_MAX);
	p.row = &other;
	CHECK(bf_post_item_take(&p));
	backfill_free(bf);
}

static void t_ids(void)
{
	json_t *j = json_pack("{s:s, s:{s:s}, s:s, s:i}", "a", "https://x.example/1", "b", "id",
			      "https://x.example/2", "c", "ftp://x.example/3", "d", 4);

	CHECK_STR(bf_id_of(json_object_get(j, "a")), "https://x.example/1");
	CHECK_STR(bf_id_of(json_object_get(j, "b")), "https://x.example/2");
	CHECK(bf_id_of(json_object_get(j, "c")) == NULL);
	CHECK(bf_id_of(json_object_get(j, "d")) == NULL);
	CHECK(bf_same_host("https://x.example/1", "https://X.example:443/2"));
	CHECK(!bf_same_host("https://x.example/1", "https://x.example:8443/2"));
	json_decref(j);
}

static const struct check_case cases[] = {
    {"host_minute", t_host_minute}, {"hour", t_hour}, {"failing_host", t_failing_host},
    {"post_items", t_post_items},   {"ids", t_ids},
};

CHECK_MAIN(cases)
