/*
 * cli_admin.c — the commands of the admin's tasks that the admin pages do
 * too, through the same bridge/ops.h functions: `passwd` (the password of
 * the pages), `posts deliveries URL` and `posts resend URL` (where one
 * post went, and sending it again), and `blocks` (list, add, remove).
 */
#include "cli.h"
#include "ops.h"
#include "password.h"
#include "store.h"
#include "timeutil.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* ---- passwd ------------------------------------------------------------ */

/* Characters (UTF-8 code points) in the n bytes at s. */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

/* Reads one line from stdin into buf (n bytes), without its line end;
 * with echo off when stdin is a terminal.  false when nothing was read. */
static bool read_password(char *buf, size_t n)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	bool ok;

	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		fprintf(stderr, "New admin password: ");
		tty = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	ok = fgets(buf, (int)n, stdin) != NULL;
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (ok)
		buf[strcspn(buf, "\r\n")] = '\0';
	return ok;
}

int cmd_passwd(struct cli *cli)
{
	char pw[PASSWORD_MAX_LEN + 2], hash[PASSWORD_HASH_MAX];
	struct config *cfg;
	struct err e = {0};
	int status = 0;
	size_t len;

	/* The file must be a valid config before it is rewritten. */
	cfg = cli_config_load(cli->config_path, &status);
	if (cfg == NULL)
		return status;
	config_free(cfg);
	if (!read_password(pw, sizeof(pw))) {
		cli_fail("no password on standard input");
		return EXIT_USAGE;
	}
	len = strlen(pw);
	if (len > PASSWORD_MAX_LEN) {
		cli_fail("the password is longer than %d bytes", PASSWORD_MAX_LEN);
		status = EXIT_USAGE;
	} else if (utf8_chars(pw, len) < PASSWORD_MIN_LEN) {
		cli_fail("the password must have at least %d characters", PASSWORD_MIN_LEN);
		status = EXIT_USAGE;
	} else if (password_hash(pw, len, hash, &e) != BB_OK ||
		   config_password_hash_write(cli->config_path, hash, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
	} else {
		printf("admin password set in %s (a running serve takes it at once)\n",
		       cli->config_path);
	}
	memset(pw, 0, sizeof(pw));
	return status;
}

/* ---- posts deliveries | resend ------------------------------------------- */

static const char *const state_names[] = {
    [STORE_DELIVERY_PENDING] = "pending",
    [STORE_DELIVERY_DONE] = "delivered",
    [STORE_DELIVERY_FAILED] = "failed",
};

static enum bb_rc print_delivery(const struct store_post_delivery *d, void *arg, struct err *e)
{
	json_t *arr = arg;
	const char *state = d->state <= STORE_DELIVERY_FAILED ? state_names[d->state] : "unknown";
	char next[TIME_RFC3339_LEN], updated[TIME_RFC3339_LEN];

	time_rfc3339(d->next_attempt, next);
	time_rfc3339(d->updated, updated);
	if (arr == NULL) {
		printf("%-32s %-9s %3d attempts  %s  %s\n", d->host, state, d->attempts,
		       d->state == STORE_DELIVERY_PENDING ? next : updated,
		       d->last_error ? d->last_error : "");
		return BB_OK;
	}
	if (json_array_append_new(
		arr, json_pack("{s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:s}", "activity",
			       d->activity, "host", d->host, "inbox", d->inbox, "state", state,
			       "attempts", d->attempts, "last_status",
			       d->last_status ? json_integer(d->last_status) : json_null(),
			       "last_error", cli_json_nullable(d->last_error), "next_attempt",
			       d->state == STORE_DELIVERY_PENDING ? json_string(next) : json_null(),
			       "updated", updated)) != 0)
		return err_set(e, BB_ERR_NOMEM, "cannot list the deliveries as JSON");
	return BB_OK;
}

static int posts_deliveries(struct app *app, const char *url, bool as_json)
{
	json_t *arr = as_json ? json_array() : NULL;
	struct err e = {0};

	if (as_json && arr == NULL) {
		cli_fail("out of memory");
		return EXIT_RUNTIME;
	}
	if (ops_post_deliveries_each(app, url, print_delivery, arr, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		json_decref(arr);
		return EXIT_RUNTIME;
	}
	return as_json ? cli_print_json(arr) : 0;
}

int cmd_posts_admin(struct cli *cli)
{
	bool deliveries = strcmp(cli->argv[0], "deliveries") == 0;
	bool as_json = deliveries && cli->argc == 3 && strcmp(cli->argv[2], "--json") == 0;
	struct err e = {0};
	struct app *app;
	int64_t n = 0;
	int status = 0;

	if (cli->argc != 2 && !as_json) {
		cli_fail("usage: blogbridge posts deliveries URL [--json] | posts resend URL");
		return EXIT_USAGE;
	}
	app = cli_app_open(cli, &status);
	if (app == NULL)
		return status;
	if (deliveries) {
		status = posts_deliveries(app, cli->argv[1], as_json);
	} else if (ops_post_resend(app, cli->argv[1], false, &n, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
	} else {
		printf("%lld deliver%s queued again\n", (long long)n, n == 1 ? "y" : "ies");
	}
	app_free(app);
	return status;
}

/* ---- blocks ------------------------------------------------------------------ */

static enum bb_rc print_block(const struct store_block *b, void *arg, struct err *e)
{
	json_t *arr = arg;
	char since[TIME_RFC3339_LEN];

	time_rfc3339(b->created, since);
	if (arr == NULL) {
		printf("%-8s %-50s admin   %s\n", b->is_actor ? "actor" : "domain", b->value,
		       since);
		return BB_OK;
	}
	if (json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "value", b->value, "kind",
						 b->is_actor ? "actor" : "domain", "source",
						 "admin", "since", since)) != 0)
		return err_set(e, BB_ERR_NOMEM, "cannot list the blocks as JSON");
	return BB_OK;
}

static int blocks_list(struct app *app, bool as_json)
{
	json_t *arr = as_json ? json_array() : NULL;
	struct err e = {0};

	if (as_json && arr == NULL) {
		cli_fail("out of memory");
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < app->cfg->blocked_domains_count; i++) {
		const char *d = app->cfg->blocked_domains[i];
		if (arr == NULL)
			printf("%-8s %-50s config\n", "domain", d);
		else if (json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:n}", "value", d,
							      "kind", "domain", "source", "config",
							      "since")) != 0) {
			cli_fail("out of memory");
			json_decref(arr);
			return EXIT_RUNTIME;
		}
	}
	if (ops_blocks_each(app, print_block, arr, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		json_decref(arr);
		return EXIT_RUNTIME;
	}
	return as_json ? cli_print_json(arr) : 0;
}

int cmd_blocks(struct cli *cli)
{
	bool as_json = cli->argc == 1 && strcmp(cli->argv[0], "--json") == 0;
	bool add = cli->argc == 2 && strcmp(cli->argv[0], "add") == 0;
	bool remove = cli->argc == 2 && strcmp(cli->argv[0], "remove") == 0;
	struct err e = {0};
	struct app *app;
	int64_t n = 0;
	int status = 0;
	enum bb_rc rc = BB_OK;

	if (cli->argc > 0 && !as_json && !add && !remove) {
		cli_fail("usage: blogbridge blocks [--json] | blocks add|remove DOMAIN|ACTOR_ID");
		return EXIT_USAGE;
	}
	app = cli_app_open(cli, &status);
	if (app == NULL)
		return status;
	if (add)
		rc = ops_block_add(app, cli->argv[1], &n, &e);
	else if (remove)
		rc = ops_block_remove(app, cli->argv[1], &e);
	else
		status = blocks_list(app, as_json);
	if (rc != BB_OK) {
		cli_fail("%s", e.msg);
		status = rc == BB_ERR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
	} else if (add) {
		printf("blocked %s; %lld follower%s removed\n", cli->argv[1], (long long)n,
		       n == 1 ? "" : "s");
	} else if (remove) {
		printf("unblocked %s\n", cli->argv[1]);
	}
	app_free(app);
	return status;
}
