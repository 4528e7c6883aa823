/*
 * cli_posts.c — the blog's posts on the command line: `poll` reads the
 * feed once now (what it queues, a running `serve` delivers within a
 * second or two), `posts` lists what the bridge has federated, and `posts
 * delete URL` federates a Delete.  They open the same database as a
 * running `serve` (WAL lets both work at once).  --json prints one JSON
 * array, one object per post, with the fields SPEC.md lists.
 */
#include "cli.h"
#include "ops.h"
#include "poller.h"
#include "store.h"
#include "timeutil.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

int cmd_poll(struct cli *cli)
{
	struct poll_result r;
	struct err e = {0};
	struct app *app;
	int status = 0;
	bool deliver_existing = cli->argc == 1 && strcmp(cli->argv[0], "--deliver-existing") == 0;

	if (cli->argc > 0 && !deliver_existing) {
		cli_fail("usage: blogbridge poll [--deliver-existing]");
		return EXIT_USAGE;
	}
	app = cli_app_open(cli, &status);
	if (app == NULL)
		return status;
	if (poller_run_once(app, deliver_existing, &r, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
	} else if (r.moved_to[0] != '\0') {
		printf("the blog has moved to %s: the feed is no longer read\n", r.moved_to);
	} else if (r.not_modified) {
		printf("feed not modified since the last poll\n");
	} else {
		printf("%zu items: %zu new, %zu updated, %zu unchanged, %zu deliveries queued",
		       r.items, r.created + r.imported, r.updated, r.unchanged, r.deliveries);
		if (r.imported > 0)
			printf(" (first import: %zu stored without delivery; "
			       "poll --deliver-existing sends them)",
			       r.imported);
		putchar('\n');
	}
	app_free(app);
	return status;
}

struct post_walk {
	json_t *arr; /* NULL for text output */
	int64_t n, deleted;
};

/* Adds the comments, likes and boosts counts to each post of the --json
 * array (after the walk: a walk's callback must not query the store). */
static enum bb_rc posts_add_counts(struct app *app, json_t *arr, struct err *e)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
	{
		struct store_post p = {0};
		int64_t comments = 0, likes = 0, boosts = 0;
		enum bb_rc rc =
		    ops_post_find(app, json_string_value(json_object_get(o, "id")), &p, e);
		if (rc == BB_OK)
			rc = ops_post_counts(app, p.rowid, &comments, &likes, &boosts, e);
		store_post_clear(&p);
		if (rc != BB_OK)
			return rc;
		if (json_object_set_new(o, "comments", json_integer(comments)) != 0 ||
		    json_object_set_new(o, "likes", json_integer(likes)) != 0 ||
		    json_object_set_new(o, "boosts", json_integer(boosts)) != 0)
			return err_set(e, BB_ERR_NOMEM, "cannot list the posts as JSON");
	}
	return BB_OK;
}

static enum bb_rc print_post(const struct store_post *p, void *arg, struct err *e)
{
	struct post_walk *w = arg;
	char published[TIME_RFC3339_LEN];

	w->n++;
	if (p->deleted != 0)
		w->deleted++;
	time_rfc3339(p->published, published);
	if (w->arr == NULL) {
		/* The date alone: "2026-11-26" of "2026-11-26T07:21:29Z". */
		printf("%.10s  %s%s  %s\n", published, p->deleted ? "[deleted] " : "",
		       p->title && p->title[0] ? p->title : "(untitled)", p->url ? p->url : "-");
		return BB_OK;
	}
	if (json_array_append_new(
		w->arr, json_pack("{s:o, s:s, s:s, s:s, s:o, s:o}", "url",
				  p->url ? json_string(p->url) : json_null(), "id", p->ap_id,
				  "title", p->title ? p->title : "", "published", published,
				  "updated", cli_json_time(p->updated ? p->updated : p->published),
				  "deleted", cli_json_time(p->deleted))) != 0)
		return err_set(e, BB_ERR_NOMEM, "cannot list the posts as JSON");
	return BB_OK;
}

static int posts_list(struct app *app, bool as_json)
{
	struct post_walk w = {as_json ? json_array() : NULL, 0, 0};
	struct err e = {0};

	if (as_json && w.arr == NULL) {
		cli_fail("out of memory");
		return EXIT_RUNTIME;
	}
	if (ops_posts_each(app, 0, -1, print_post, &w, &e) != BB_OK ||
	    (as_json && posts_add_counts(app, w.arr, &e) != BB_OK)) {
		cli_fail("%s", e.code == BB_ERR_INVALID ? "cannot list the posts as JSON" : e.msg);
		json_decref(w.arr);
		return EXIT_RUNTIME;
	}
	if (!as_json) {
		if (w.n == 0)
			printf("no posts yet: `blogbridge poll` reads the feed\n");
		else
			printf("%" PRId64 " post%s (%" PRId64 " deleted)\n", w.n,
			       w.n == 1 ? "" : "s", w.deleted);
		return 0;
	}
	return cli_print_json(w.arr);
}

static int posts_delete(struct app *app, const char *url)
{
	struct err e = {0};
	int64_t deliveries = 0;

	if (ops_post_delete(app, url, &deliveries, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		return EXIT_RUNTIME;
	}
	printf("queued the Delete of %s: %" PRId64 " deliver%s\n", url, deliveries,
	       deliveries == 1 ? "y" : "ies");
	return 0;
}

int cmd_posts(struct cli *cli)
{
	struct app *app;
	int status = 0;
	bool as_json = cli->argc == 1 && strcmp(cli->argv[0], "--json") == 0;
	bool del = cli->argc == 2 && strcmp(cli->argv[0], "delete") == 0;

	if (cli->argc >= 1 &&
	    (strcmp(cli->argv[0], "deliveries") == 0 || strcmp(cli->argv[0], "resend") == 0))
		return cmd_posts_admin(cli);
	if (cli->argc > 0 && !as_json && !del) {
		cli_fail("usage: blogbridge posts [--json] | posts delete URL");
		return EXIT_USAGE;
	}
	app = cli_app_open(cli, &status);
	if (app == NULL)
		return status;
	status = del ? posts_delete(app, cli->argv[1]) : posts_list(app, as_json);
	app_free(app);
	return status;
}
