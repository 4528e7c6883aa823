/*
 * cli_check.c — the commands that need no database: `check` validates
 * the configuration file and the files it names, `version` prints the
 * version.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_version(struct cli *cli)
{
	(void)cli;
	printf("blogbridge %s\n", BB_VERSION);
	return 0;
}

int cmd_check(struct cli *cli)
{
	struct config_errors *errs = calloc(1, sizeof(*errs));
	enum bb_rc rc;

	if (errs == NULL) {
		cli_fail("out of memory");
		return EXIT_RUNTIME;
	}
	rc = config_check(cli->config_path, errs);
	for (size_t i = 0; i < errs->count; i++)
		cli_fail("%s", errs->line[i]);
	free(errs);
	if (rc == BB_ERR_NOMEM)
		return EXIT_RUNTIME;
	if (rc != BB_OK)
		return EXIT_USAGE;
	printf("configuration OK\n");
	return 0;
}
