/*
 * main.c — the blogbridge command line.
 *
 *   blogbridge [-c FILE] [-v] COMMAND [ARGS]
 *
 * Commands are a table; each has its usage line and a function.  Exit
 * status: 0 done, 1 failed at run time, 2 bad usage or configuration.
 * Errors are one line on stderr, "blogbridge: ...".
 */
#include "app.h"
#include "cli.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "poller.h"
#include "text.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct command {
	const char *name;
	const char *usage; /* arguments, after the name */
	const char *help;
	int (*run)(struct cli *cli);
};

void cli_fail(const char *fmt, ...)
{
	char raw[2048], out[4 * sizeof(raw)];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* Messages may carry a peer's text (ids, URLs, curl's errors):
	 * escaped, an error stays one line and drives no terminal. */
	fprintf(stderr, "blogbridge: %s\n",
		text_escape(out, sizeof(out), raw,
			    (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1));
}

/* Loads the configuration; prints its errors and returns NULL on failure. */
static struct config *load_config(const char *path, int *status)
{
	struct config_errors *errs = calloc(1, sizeof(*errs));
	struct config *cfg = NULL;
	enum bb_rc rc;

	if (errs == NULL) {
		cli_fail("out of memory");
		*status = EXIT_RUNTIME;
		return NULL;
	}
	rc = config_load(path, &cfg, errs);
	if (rc != BB_OK) {
		for (size_t i = 0; i < errs->count; i++)
			cli_fail("%s", errs->line[i]);
		*status = EXIT_USAGE;
	}
	free(errs);
	return cfg;
}

struct app *cli_app_open(const struct cli *cli, int *status)
{
	struct err e = {0};
	struct app *app = NULL;
	struct config *cfg = load_config(cli->config_path, status);

	if (cfg == NULL)
		return NULL;
	if (app_open(cfg, &app, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		*status = e.code == BB_ERR_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
		return NULL;
	}
	return app;
}

static int cmd_version(struct cli *cli)
{
	(void)cli;
	printf("blogbridge %s\n", BB_VERSION);
	return 0;
}

static int cmd_check(struct cli *cli)
{
	int status = 0;
	struct config *cfg = load_config(cli->config_path, &status);

	if (cfg == NULL)
		return status;
	config_free(cfg);
	printf("configuration OK\n");
	return 0;
}

static int cmd_serve(struct cli *cli)
{
	struct err e = {0};
	struct app *app = NULL;
	struct http_server *srv = NULL;
	struct poller *poller = NULL;
	struct config *cfg;
	sigset_t stop;
	int status = 0, sig = 0;

	cfg = load_config(cli->config_path, &status);
	if (cfg == NULL)
		return status;
	/* Block the stop signals in every thread (the server's threads inherit
	 * this mask), and wait for them here. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
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
	if (http_server_start(app, &srv, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (poller_start(app, &poller, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
		goto out;
	}
	log_info("serving @%s as %s on %s", app->site.acct, app->site.actor_id, app->cfg->listen);
	if (sigwait(&stop, &sig) != 0)
		sig = SIGTERM;
	log_info("received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
out:
	/* The poller first (it queues deliveries), then the server (no new
	 * requests), then the writer finishes what they queued, then the
	 * worker stops. */
	poller_stop(poller);
	http_server_stop(srv);
	app_services_stop(app);
	app_free(app);
	return status;
}

static const struct command commands[] = {
	{"serve", "", "serve the HTTP endpoints until SIGINT or SIGTERM", cmd_serve},
	{"poll", "[--deliver-existing]", "read the feed once now; queue new and edited posts",
	 cmd_poll},
	{"posts", "[--json] | delete URL", "list bridged posts, or federate a Delete", cmd_posts},
	{"followers", "[--json] | remove ACTOR_ID", "list followers, or drop one", cmd_followers},
	{"deliveries", "[--json]", "delivery queue health, per host", cmd_deliveries},
	{"check", "", "validate the configuration file", cmd_check},
	{"version", "", "print the version", cmd_version},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: blogbridge [-c FILE] [-v] COMMAND [ARGS]\n"
		     "  -c FILE   configuration (default ./bridge.conf)\n"
		     "  -v        verbose (debug) logging\n\ncommands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %-10s %-28s %s\n", commands[i].name, commands[i].usage,
			commands[i].help);
	fprintf(out, "\n'blogbridge COMMAND --help' describes one command.\n");
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct cli cli = {.config_path = "bridge.conf"};
	const struct command *cmd = NULL;
	int i, status;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0) {
			if (++i >= argc) {
				cli_fail("-c needs a file name");
				return EXIT_USAGE;
			}
			cli.config_path = argv[i];
		} else if (strcmp(argv[i], "-v") == 0) {
			log_level_set(LOG_LEVEL_DEBUG);
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			cli_fail("unknown option '%s'", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		cli_fail("no command given");
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t c = 0; c < COMMAND_COUNT; c++)
		if (strcmp(commands[c].name, argv[i]) == 0)
			cmd = &commands[c];
	if (cmd == NULL) {
		cli_fail("unknown command '%s'", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	cli.argc = argc - i - 1;
	cli.argv = argv + i + 1;
	if (wants_help(cli.argc, cli.argv)) {
		printf("usage: blogbridge [-c FILE] %s %s\n  %s\n", cmd->name, cmd->usage, cmd->help);
		return 0;
	}
	if (cli.argc > 0 && strcmp(cmd->usage, "") == 0) {
		cli_fail("%s takes no arguments", cmd->name);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_fail("cannot initialize libcurl");
		return EXIT_RUNTIME;
	}
	status = cmd->run(&cli);
	curl_global_cleanup();
	return status;
}
