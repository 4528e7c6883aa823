/*
 * cli_notify.c — `blogbridge notify secret`: the secret the webhook's
 * X-Blogbridge-Signature is made with (notify.h), for the receiver's
 * configuration.  It is derived from the actor's key, so it is the same
 * every time and changes only with the key.
 */
#include "cli.h"
#include "notify.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

int cmd_notify(struct cli *cli)
{
	char hex[2 * KEY_SECRET_LEN + 1];
	struct err e = {0};
	struct app *app;
	int status = 0;

	if (cli->argc != 1 || strcmp(cli->argv[0], "secret") != 0) {
		cli_fail("usage: blogbridge notify secret");
		return EXIT_USAGE;
	}
	app = cli_app_open(cli, &status);
	if (app == NULL)
		return status;
	if (notify_secret_hex(app->key, hex, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		status = EXIT_RUNTIME;
	} else {
		printf("%s\n", hex);
		if (app->cfg->webhook == NULL)
			fprintf(stderr, "blogbridge: note: no [notify] webhook is set in %s\n",
				cli->config_path);
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	app_free(app);
	return status;
}
