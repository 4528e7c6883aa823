/*
 * cli_check.c — the commands that need no database: `check` validates
 * the configuration file, `version` prints the version.
 */
#include "cli.h"

#include <stdio.h>

int cmd_version(struct cli *cli)
{
	(void)cli;
	printf("blogbridge %s\n", BB_VERSION);
	return 0;
}

int cmd_check(struct cli *cli)
{
	int status = 0;
	struct config *cfg = cli_config_load(cli->config_path, &status);

	if (cfg == NULL)
		return status;
	config_free(cfg);
	printf("configuration OK\n");
	return 0;
}
