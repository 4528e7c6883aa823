/*
 * fuzz_config.c — config_load, the bridge.conf reader and validator, on
 * any bytes.  config_load reads a path, so each input is written to one
 * temporary file (made once, in TMPDIR or /tmp, removed at exit).
 */
#include "fuzz.h"

#include "config.h"

#include <stdio.h>
#include <unistd.h>

static char path[256];

static void path_remove(void)
{
	if (path[0] != '\0')
		unlink(path);
}

static void path_make(void)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (path[0] != '\0')
		return;
	snprintf(path, sizeof(path), "%s/fuzz_config.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	atexit(path_remove);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config_errors errs; /* large: not on the stack */
	struct config *cfg = NULL;
	FILE *f;

	path_make();
	f = fopen(path, "wb");
	if (f == NULL)
		abort();
	if ((size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
	if (config_load(path, &cfg, &errs) == BB_OK)
		config_free(cfg);
	return 0;
}
