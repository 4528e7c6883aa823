/*
 * cli_admin.c — the admin's commands on the command line: followers and
 * delivery health.  They open the same database as a running `serve`
 * (WAL lets both work at once).  --json prints one JSON array, one object
 * per row, with the fields SPEC.md lists.
 */
#include "cli.h"
#include "store.h"
#include "timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int cli_print_json(json_t *arr)
{
	char *s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(arr);
	if (s == NULL) {
		cli_fail("out of memory");
		return EXIT_RUNTIME;
	}
	puts(s);
	free(s);
	return 0;
}

json_t *cli_json_nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

struct follower_walk {
	json_t *arr; /* NULL for text output */
	int64_t n;
};

static enum bb_rc print_follower(const struct store_follower *f, void *arg, struct err *e)
{
	struct follower_walk *w = arg;
	char since[TIME_RFC3339_LEN];

	time_rfc3339(f->since, since);
	w->n++;
	if (w->arr == NULL) {
		printf("%-40s %s  %s\n", f->handle ? f->handle : "-", since, f->actor);
		return BB_OK;
	}
	if (json_array_append_new(
		w->arr, json_pack("{s:s, s:o, s:s, s:o, s:s}", "actor", f->actor, "handle",
				  cli_json_nullable(f->handle), "inbox", f->inbox, "shared_inbox",
				  cli_json_nullable(f->shared_inbox), "since", since)) != 0)
		return err_set(e, BB_ERR_INVALID, "cannot list the followers as JSON");
	return BB_OK;
}

static int followers_list(struct app *app, bool as_json)
{
	struct follower_walk w = {as_json ? json_array() : NULL, 0};
	struct err e = {0};
	struct store *st = app_store(app, &e);

	if (st == NULL || (as_json && w.arr == NULL)) {
		cli_fail("%s", st ? "out of memory" : e.msg);
		json_decref(w.arr);
		return EXIT_RUNTIME;
	}
	if (store_follower_each(st, 0, -1, print_follower, &w, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		json_decref(w.arr);
		return EXIT_RUNTIME;
	}
	if (as_json)
		return cli_print_json(w.arr);
	if (w.n == 0)
		printf("no followers yet: search @%s from a Mastodon account and follow it\n",
		       app->site.acct);
	else
		printf("%lld follower%s\n", (long long)w.n, w.n == 1 ? "" : "s");
	return 0;
}

int cmd_followers(struct cli *cli)
{
	struct app *app;
	struct err e = {0};
	int status = 0;
	bool as_json = cli->argc == 1 && strcmp(cli->argv[0], "--json") == 0;
	bool remove = cli->argc == 2 && strcmp(cli->argv[0], "remove") == 0;

	if (cli->argc > 0 && !as_json && !remove) {
		cli_fail("usage: blogbridge followers [--json] | followers remove ACTOR_ID");
		return EXIT_USAGE;
	}
	app = cli_app_open(cli, &status);
	if (app == NULL)
		return status;
	if (!remove) {
		status = followers_list(app, as_json);
	} else {
		struct store *st = app_store(app, &e);
		/* Removal sends nothing to the follower: it is the admin's cleanup. */
		if (st == NULL || store_follower_remove(st, cli->argv[1], &e) != BB_OK) {
			cli_fail("%s", e.msg);
			status = EXIT_RUNTIME;
		} else {
			printf("removed %s\n", cli->argv[1]);
		}
	}
	app_free(app);
	return status;
}

static enum bb_rc print_host(const struct store_host_stats *h, void *arg, struct err *e)
{
	json_t *arr = arg;
	char next[TIME_RFC3339_LEN] = "";

	if (h->next_attempt)
		time_rfc3339(h->next_attempt, next);
	if (arr == NULL) {
		printf("%-32s %7lld %8lld %6lld %8lld  %-11s %-20s %s\n", h->host,
		       (long long)h->pending, (long long)h->retrying, (long long)h->failed,
		       (long long)h->done, h->unavailable ? "unavailable" : "ok",
		       next[0] ? next : "-", h->last_error ? h->last_error : "");
		return BB_OK;
	}
	if (json_array_append_new(
		arr,
		json_pack("{s:s, s:I, s:I, s:I, s:I, s:b, s:o, s:o}", "host", h->host, "pending",
			  (json_int_t)h->pending, "retrying", (json_int_t)h->retrying, "failed",
			  (json_int_t)h->failed, "done", (json_int_t)h->done, "unavailable",
			  h->unavailable, "next_attempt", next[0] ? json_string(next) : json_null(),
			  "last_error", cli_json_nullable(h->last_error))) != 0)
		return err_set(e, BB_ERR_INVALID, "cannot list the hosts as JSON");
	return BB_OK;
}

int cmd_deliveries(struct cli *cli)
{
	struct app *app;
	struct err e = {0};
	struct store *st;
	json_t *arr = NULL;
	int status = 0;
	bool as_json = cli->argc == 1 && strcmp(cli->argv[0], "--json") == 0;

	if (cli->argc > 0 && !as_json) {
		cli_fail("usage: blogbridge deliveries [--json]");
		return EXIT_USAGE;
	}
	app = cli_app_open(cli, &status);
	if (app == NULL)
		return status;
	st = app_store(app, &e);
	if (as_json && (arr = json_array()) == NULL) {
		cli_fail("out of memory");
		status = EXIT_RUNTIME;
		goto out;
	}
	if (!as_json)
		printf("%-32s %7s %8s %6s %8s  %-11s %-20s %s\n", "HOST", "PENDING", "RETRYING",
		       "FAILED", "DONE", "STATE", "NEXT ATTEMPT", "LAST ERROR");
	if (st == NULL || store_host_stats_each(st, print_host, arr, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		json_decref(arr);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (as_json)
		status = cli_print_json(arr);
out:
	app_free(app);
	return status;
}
