/*
 * log.c — see log.h.
 */
#include "log.h"
#include "text.h"
#include "timeutil.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_threshold = LOG_LEVEL_INFO;

void log_level_set(enum log_level level)
{
	atomic_store(&log_threshold, (int)level);
}

enum log_level log_level_get(void)
{
	return (enum log_level)atomic_load(&log_threshold);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	char line[1024], raw[1024];
	char stamp[TIME_RFC3339_LEN];
	va_list ap;
	int n, m;

	if ((int)level > atomic_load(&log_threshold))
		return;
	time_rfc3339(time(NULL), stamp);
	n = snprintf(line, sizeof(line), "%s %s ", stamp, names[level]);
	if (n < 0)
		return;
	va_start(ap, fmt);
	m = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	if ((size_t)m >= sizeof(raw))
		m = (int)sizeof(raw) - 1; /* truncated */
	/* Messages carry text from peers (URLs, ids, response bodies): escaped
	 * here, once for every caller, a message is one line whatever it holds,
	 * and cannot forge the next line or drive the terminal.  Room is kept
	 * for the newline. */
	text_escape(line + n, sizeof(line) - (size_t)n - 1, raw, (size_t)m);
	n += (int)strlen(line + n);
	line[n++] = '\n';
	/* One write per line, so lines from threads never interleave; a failed
	 * write to stderr has nowhere to be reported. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
