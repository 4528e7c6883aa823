/*
 * cli_deliveries.c — `deliveries`: the delivery queue's health, one row
 * per host.  It opens the same database as a running `serve` (WAL lets
 * both work at once).  --json prints one JSON array, one object per host,
 * with the fields SPEC.md lists and the host's record (failing since,
 * last success, last failure, failing days).
 */
#include "cli.h"
#include "ops.h"
#include "store.h"
#include "timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static enum bb_rc print_host(const struct store_host_stats *h, void *arg, struct err *e)
{
	json_t *arr = arg, *o;
	char next[TIME_RFC3339_LEN] = "", since[TIME_RFC3339_LEN] = "";

	if (h->next_attempt)
		time_rfc3339(h->next_attempt, next);
	if (h->failing_since)
		time_rfc3339(h->failing_since, since);
	if (arr == NULL) {
		printf("%-32s %7lld %8lld %6lld %8lld  %-11s %-20s %-20s %s\n", h->host,
		       (long long)h->pending, (long long)h->retrying, (long long)h->failed,
		       (long long)h->done,
		       h->unavailable	       ? "unavailable"
		       : h->failing_since != 0 ? "failing"
					       : "ok",
		       since[0] ? since : "-", next[0] ? next : "-",
		       h->last_error ? h->last_error : "");
		return BB_OK;
	}
	o = json_pack(
	    "{s:s, s:I, s:I, s:I, s:I, s:b, s:o, s:o, s:o, s:o, s:o, s:I}", "host", h->host,
	    "pending", (json_int_t)h->pending, "retrying", (json_int_t)h->retrying, "failed",
	    (json_int_t)h->failed, "done", (json_int_t)h->done, "unavailable", h->unavailable,
	    "next_attempt", next[0] ? json_string(next) : json_null(), "last_error",
	    cli_json_nullable(h->last_error), "failing_since", cli_json_time(h->failing_since),
	    "last_success", cli_json_time(h->last_success), "last_failure",
	    cli_json_time(h->last_failure), "failing_days", (json_int_t)h->failure_days);
	if (json_array_append_new(arr, o) != 0)
		return err_set(e, BB_ERR_NOMEM, "cannot list the hosts as JSON");
	return BB_OK;
}

int cmd_deliveries(struct cli *cli)
{
	struct app *app;
	struct err e = {0};
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
	if (as_json && (arr = json_array()) == NULL) {
		cli_fail("out of memory");
		status = EXIT_RUNTIME;
		goto out;
	}
	if (!as_json)
		printf("%-32s %7s %8s %6s %8s  %-11s %-20s %-20s %s\n", "HOST", "PENDING",
		       "RETRYING", "FAILED", "DONE", "STATE", "FAILING SINCE", "NEXT ATTEMPT",
		       "LAST ERROR");
	if (ops_host_stats_each(app, print_host, arr, &e) != BB_OK) {
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
