/*
 * log.h — leveled logging to stderr, one line per message, with an RFC 3339
 * UTC timestamp.  Thread-safe: each line is written with a single write(2).
 * Secrets (keys, passwords) are never passed here.
 *
 * The formatted message is escaped with text_escape (text.h) before it is
 * written, so text from peers in it (URLs, ids, response bodies) can never
 * make a second line or reach the terminal as control bytes.  A backslash
 * in a message is therefore logged as "\\".
 */
#ifndef BB_LOG_H
#define BB_LOG_H

#include "err.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Messages above level are dropped.  Default: LOG_LEVEL_INFO. */
void log_level_set(enum log_level level);
enum log_level log_level_get(void);

void log_msg(enum log_level level, const char *fmt, ...) BB_PRINTF(2, 3);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
