/*
 * main.c — the blogbridge command line.
 *
 *   blogbridge [-c FILE] [-v] COMMAND [ARGS]
 *
 * Commands are a table; each has its usage line and a function.  Exit
 * status: 0 done, 1 failed at run time, 2 bad usage or configuration.
 * Errors are one line on stderr, "blogbridge: ...".
 */
#include "cli.h"
#include "log.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	const char *usage; /* arguments, after the name */
	const char *help;
	int (*run)(struct cli *cli);
};

static const struct command commands[] = {
	{"serve", "", "serve the HTTP endpoints until SIGINT or SIGTERM", cmd_serve},
	{"poll", "[--deliver-existing]", "read the feed once now; queue new and edited posts",
	 cmd_poll},
	{"posts", "[--json] | delete URL | deliveries URL [--json] | resend URL",
	 "list bridged posts, federate a Delete, where one went, send it again", cmd_posts},
	{"followers", "[--json] | remove ACTOR_ID", "list followers, or drop one", cmd_followers},
	{"comments", "[--json] [--status S|all] [--post URL] | approve|reject|delete ID | backfill",
	 "list the replies from the fediverse, moderate one, or fetch those missed", cmd_comments},
	{"reactions", "[--json] [--post URL]", "likes, boosts and quotes of the posts, and who",
	 cmd_reactions},
	{"deliveries", "[--json]", "delivery queue health, per host", cmd_deliveries},
	{"import", "FILE|URL [--progress] [--dry-run]",
	 "add older posts to the outbox without delivering them", cmd_import},
	{"blocks", "[--json] | add|remove DOMAIN|ACTOR_ID", "blocked domains and actors", cmd_blocks},
	{"move", "NEW_ACTOR_ID [--yes]",
	 "migrate the followers to another account (Move), after it lists this actor in its "
	 "alsoKnownAs",
	 cmd_move},
	{"passwd", "", "set the admin password, read from standard input", cmd_passwd},
	{"notify", "secret", "the secret the webhook's signature is made with", cmd_notify},
	{"check", "", "validate the configuration file", cmd_check},
	{"doctor", "[--remote @user@host]", "check the deployment from outside, through base_url",
	 cmd_doctor},
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
