/*
 * cli_followers.c — `followers`: list the followers, or drop one.  It
 * opens the same database as a running `serve` (WAL lets both work at
 * once).  --json prints one JSON array, one object per follower, with the
 * fields SPEC.md lists.
 */
#include "cli.h"
#include "ops.h"
#include "store.h"
#include "timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

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
		return err_set(e, BB_ERR_NOMEM, "cannot list the followers as JSON");
	return BB_OK;
}

static int followers_list(struct app *app, bool as_json)
{
	struct follower_walk w = {as_json ? json_array() : NULL, 0};
	struct err e = {0};

	if (as_json && w.arr == NULL) {
		cli_fail("out of memory");
		return EXIT_RUNTIME;
	}
	if (ops_followers_each(app, 0, -1, print_follower, &w, &e) != BB_OK) {
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
	} else if (ops_follower_remove(app, cli->argv[1], &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
	} else {
		printf("removed %s\n", cli->argv[1]);
	}
	app_free(app);
	return status;
}
