/*
 * cli_move.c — `move NEW_ACTOR_ID [--yes]`: the followers are sent to
 * another account (activitypub/move.h).  In order, nothing stored before
 * the last step:
 * 1. NEW_ACTOR_ID must be an http(s) URL other than our actor, and the
 *    blog must not have moved already (to the same account: nothing to
 *    do, exit 0; to another: refused);
 * 2. the new account's document is fetched (a signed GET, the fetch
 *    policy of every outgoing request) and must be an actor listing our
 *    actor in its alsoKnownAs, as the followers' servers will check;
 * 3. the admin confirms: typing "yes" at a terminal, or --yes (without a
 *    terminal and without --yes the move is refused);
 * 4. app_move stores the Move and the Update, fanned out to the
 *    followers' servers, with the move itself, in one transaction; a
 *    running serve delivers them and shows movedTo within seconds.
 */
#include "activity.h"
#include "cli.h"
#include "move.h"
#include "remote.h"
#include "url.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MOVE_USAGE "usage: blogbridge move NEW_ACTOR_ID [--yes]"

/* Step 3: whether the admin said yes. */
static bool move_confirm(const char *target, int64_t followers, int *status)
{
	char line[16];

	if (!isatty(STDIN_FILENO)) {
		cli_fail("move asks for confirmation: run it at a terminal, or pass --yes");
		*status = EXIT_USAGE;
		return false;
	}
	fprintf(stderr,
		"Move the %" PRId64 " follower%s of this blog to %s?\n"
		"Their servers will follow the new account instead; the blog then publishes "
		"nothing new, and this cannot be undone.\nType yes to move: ",
		followers, followers == 1 ? "" : "s", target);
	if (fgets(line, sizeof(line), stdin) == NULL || strcmp(line, "yes\n") != 0) {
		cli_fail("not moved");
		*status = EXIT_RUNTIME;
		return false;
	}
	return true;
}

/* Step 2. */
static enum bb_rc target_check(struct app *app, const char *target, struct err *e)
{
	json_t *doc = NULL;
	enum bb_rc rc = remote_object_fetch(&app->fetch, target, &doc, e);

	if (rc != BB_OK) {
		char why[BB_ERR_MSG_MAX];
		snprintf(why, sizeof(why), "%s", e->msg);
		return err_set(e, rc, "cannot read the new account: %s", why);
	}
	rc = move_target_check(doc, target, app->site.actor_id, e);
	json_decref(doc);
	return rc;
}

int cmd_move(struct cli *cli)
{
	const char *target = NULL;
	bool yes = false;
	struct app *app = NULL;
	struct store *st;
	struct err e = {0};
	char *moved = NULL;
	int64_t followers = 0, deliveries = 0;
	int status = 0, positional = 0;

	for (int i = 0; i < cli->argc; i++) {
		if (strcmp(cli->argv[i], "--yes") == 0) {
			yes = true;
		} else if (cli->argv[i][0] != '-') {
			target = cli->argv[i];
			positional++;
		} else {
			positional = -1;
			break;
		}
	}
	if (positional != 1) {
		cli_fail(MOVE_USAGE);
		return EXIT_USAGE;
	}
	if (!url_is_http_str(target) || strlen(target) > ACTIVITY_ID_MAX) {
		cli_fail("move: %s is not an http(s) URL of an actor", target);
		return EXIT_USAGE;
	}
	app = cli_app_open(cli, &status);
	if (app == NULL)
		return status;
	if (strcmp(target, app->site.actor_id) == 0) {
		cli_fail("move: %s is this blog's own actor", target);
		status = EXIT_USAGE;
		goto out;
	}
	st = app_store(app, &e);
	if (st == NULL || store_moved_to_get(st, &moved, &e) != BB_OK ||
	    store_follower_count(st, &followers, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (moved != NULL && strcmp(moved, target) == 0) {
		printf("the blog has moved to %s already: nothing sent\n", target);
		goto out;
	}
	if (moved != NULL) {
		cli_fail("move: the blog has already moved to %s; a move cannot be undone", moved);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (target_check(app, target, &e) != BB_OK) {
		cli_fail("move: %s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (!yes && !move_confirm(target, followers, &status))
		goto out;
	if (app_move(app, target, &deliveries, &e) != BB_OK) {
		cli_fail("move: %s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	printf("moved to %s: the Move is queued for %" PRId64 " server%s (a running serve "
	       "delivers it); the blog publishes nothing new from now on\n",
	       target, deliveries, deliveries == 1 ? "" : "s");
out:
	free(moved);
	app_free(app);
	return status;
}
