/*
 * cli_serve.c — `serve`: the HTTP server, the delivery worker and the feed
 * poller, until SIGINT or SIGTERM.  SIGHUP reads bridge.conf again
 * (app_reload): a file with errors is refused, each error logged as
 * FILE:LINE, and the configuration in use kept.  A profile that changed,
 * at start-up or by a reload, is sent to the followers as an Update.
 * Between signals the main thread looks every MOVE_CHECK_S seconds
 * whether a `blogbridge move` recorded a move (app_move_refresh): the
 * actor document then shows movedTo.
 */
#include "backfill_worker.h"
#include "cli.h"
#include "http.h"
#include "log.h"
#include "ops.h"
#include "poller.h"
#include "routes.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>

#define MOVE_CHECK_S 2 /* how soon the actor document shows a move */

/* SIGHUP. */
static void serve_reload(struct app *app)
{
	struct config_errors errs = {0};
	struct err e = {0};

	log_info("received SIGHUP, reading %s again", app->cfg->path);
	if (app_reload(app, &errs, &e) == BB_OK)
		return;
	for (size_t i = 0; i < errs.count; i++)
		log_error("%s", errs.line[i]);
	log_error("reload: %s", e.msg);
}

int cmd_serve(struct cli *cli)
{
	struct err e = {0};
	struct app *app = NULL;
	struct http_server *srv = NULL;
	struct poller *poller = NULL;
	struct config *cfg;
	sigset_t stop;
	int status = 0, sig = 0;

	cfg = cli_config_load(cli->config_path, &status);
	if (cfg == NULL)
		return status;
	/* Block the stop signals in every thread (the server's threads inherit
	 * this mask), and wait for them here. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0) {
		cli_fail("cannot block signals");
		config_free(cfg);
		return EXIT_RUNTIME;
	}
	if (app_open(cfg, &app, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = e.code == BB_ERR_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	if (app_services_start(app, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	/* The config's blocked domains lose what the store still holds of
	 * them (followers, comments, reactions), as a block of the admin's. */
	if (ops_blocks_apply_config(app, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	/* Before the server, whose inbox threads read app->backfill. */
	if (backfill_worker_start(app, &app->backfill, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (http_server_start(app, routes_dispatch, &srv, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (poller_start(app, &poller, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (app_profile_sync(app, &e) != BB_OK)
		log_error("profile: %s", e.msg); /* tried again at the next reload */
	log_info("serving @%s as %s on %s", app->site.acct, app->site.actor_id, app->cfg->listen);
	if (app_profile(app)->moved_to != NULL)
		log_info("the blog has moved to %s: the feed is no longer published",
			 app_profile(app)->moved_to);
	for (;;) {
		struct timespec ts = {.tv_sec = MOVE_CHECK_S};
		sig = sigtimedwait(&stop, NULL, &ts);
		if (sig < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (app_move_refresh(app, &e) != BB_OK)
				log_error("move: %s", e.msg);
			continue;
		}
		if (sig < 0)
			sig = SIGTERM;
		if (sig != SIGHUP)
			break;
		serve_reload(app);
	}
	log_info("received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
out:
	/* The poller first (it queues deliveries), then the server (no new
	 * requests), then the writer finishes what they queued, then the
	 * worker stops. */
	poller_stop(poller);
	http_server_stop(srv);
	if (app != NULL) {
		/* After the server (whose inbox hands it notes), before the
		 * writer (which it writes through). */
		backfill_worker_stop(app->backfill);
		app->backfill = NULL;
	}
	app_services_stop(app);
	app_free(app);
	return status;
}
