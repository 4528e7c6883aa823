/*
 * cli_backfill.c — `comments backfill`: one pass of the reply backfill
 * now (backfill_worker.h), as serve makes every few minutes: the
 * collections of the comments on posts younger than 30 days that were not
 * read within the interval, and the comments whose collections are not
 * known yet.  It runs beside a serve on the same database, and also when
 * [comments] backfill = false (the admin asked).
 */
#include "backfill_worker.h"
#include "cli.h"

#include <stdio.h>

int cmd_comments_backfill(struct cli *cli)
{
	struct backfill_stats s = {0};
	struct err e = {0};
	struct app *app;
	int status = 0;

	app = cli_app_open(cli, &status);
	if (app == NULL)
		return status;
	if (backfill_run_once(app, &s, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
	} else {
		printf("%zu collection%s read, %zu fetch%s, %zu new comment%s, %zu refused, "
		       "%zu skipped, %zu failed%s\n",
		       s.rows, s.rows == 1 ? "" : "s", s.fetches, s.fetches == 1 ? "" : "es",
		       s.imported, s.imported == 1 ? "" : "s", s.refused, s.skipped, s.failed,
		       s.limited ? " (hourly budget spent: run again later)" : "");
	}
	app_free(app);
	return status;
}
