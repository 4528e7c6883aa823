/*
 * cli.c — what the commands share: the one-line error, loading the
 * configuration and opening the app, and the --json output.
 */
#include "cli.h"
#include "text.h"
#include "timeutil.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
struct config *cli_config_load(const char *path, int *status)
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
	struct config *cfg = cli_config_load(cli->config_path, status);

	if (cfg == NULL)
		return NULL;
	if (app_open(cfg, &app, &e) != BB_OK) {
		cli_fail("%s", e.msg);
		*status = e.code == BB_ERR_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
		return NULL;
	}
	return app;
}

int cli_print_json(json_t *arr)
{
	char *s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(arr);
	if (s == NULL) {
		cli_fail("out of memory");
		return EXIT_RUNTIME;
	}
	puts(s);
	free(s);
	return 0;
}

json_t *cli_json_nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *cli_json_time(time_t t)
{
	char s[TIME_RFC3339_LEN];

	if (t == 0)
		return json_null();
	time_rfc3339(t, s);
	return json_string(s);
}
