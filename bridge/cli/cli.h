/*
 * cli.h — what the command functions share: the parsed command line, and
 * the exit statuses.
 */
#ifndef BB_CLI_H
#define BB_CLI_H

#include "app.h"
#include "config.h"

#include <jansson.h>
#include <time.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

struct cli {
	const char *config_path;
	int argc; /* the command's own arguments, after its name */
	char **argv;
};

/* cli.c */

/* One line on stderr: "blogbridge: ...". */
void cli_fail(const char *fmt, ...) BB_PRINTF(1, 2);

/* Loads the configuration at path; prints its errors, sets *status and
 * returns NULL on failure. */
struct config *cli_config_load(const char *path, int *status);

/* Loads the configuration and opens the app (creating the database and
 * key when missing); prints the errors and sets *status on failure. */
struct app *cli_app_open(const struct cli *cli, int *status);

/* Prints a JSON array on stdout (the --json output) and frees it; the exit
 * status. */
int cli_print_json(json_t *arr);

/* A JSON string, or null for NULL. */
json_t *cli_json_nullable(const char *s);

/* t as an RFC 3339 string, or null when 0 (never). */
json_t *cli_json_time(time_t t);

/* The commands, one file per group; each returns the exit status. */
/* cli_serve.c */
int cmd_serve(struct cli *cli);
/* cli_posts.c */
int cmd_poll(struct cli *cli);
int cmd_posts(struct cli *cli);
/* cli_followers.c */
int cmd_followers(struct cli *cli);
/* cli_comments.c */
int cmd_comments(struct cli *cli);
int cmd_reactions(struct cli *cli);
/* cli_backfill.c: `comments backfill` (cmd_comments hands it over) */
int cmd_comments_backfill(struct cli *cli);
/* cli_deliveries.c */
int cmd_deliveries(struct cli *cli);
/* cli_doctor.c */
int cmd_doctor(struct cli *cli);
/* cli_import.c */
int cmd_import(struct cli *cli);
/* cli_admin.c: passwd, blocks, and `posts deliveries|resend` (cmd_posts
 * hands those to cmd_posts_admin) */
int cmd_passwd(struct cli *cli);
int cmd_blocks(struct cli *cli);
int cmd_posts_admin(struct cli *cli);
/* cli_notify.c */
int cmd_notify(struct cli *cli);
/* cli_move.c */
int cmd_move(struct cli *cli);
/* cli_check.c */
int cmd_check(struct cli *cli);
int cmd_version(struct cli *cli);

#endif
