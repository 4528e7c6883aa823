/*
 * err.c — see err.h.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

enum bb_rc err_set(struct err *e, enum bb_rc code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = BB_OK;
	e->msg[0] = '\0';
}

const char *err_code_name(enum bb_rc code)
{
	static const char *const names[] = {
		[BB_OK] = "ok",
		[BB_ERR_USAGE] = "usage",
		[BB_ERR_CONFIG] = "config",
		[BB_ERR_INVALID] = "invalid",
		[BB_ERR_NOTFOUND] = "notfound",
		[BB_ERR_LIMIT] = "limit",
		[BB_ERR_NOMEM] = "nomem",
		[BB_ERR_IO] = "io",
		[BB_ERR_CRYPTO] = "crypto",
		[BB_ERR_UNSAFE] = "unsafe",
		[BB_ERR_STORE] = "store",
		[BB_ERR_BUSY] = "busy",
		[BB_ERR_AUTH] = "auth",
		[BB_ERR_FORBIDDEN] = "forbidden",
		[BB_ERR_TEMPFAIL] = "tempfail",
	};

	if ((size_t)code >= sizeof(names) / sizeof(names[0]) || !names[code])
		return "unknown";
	return names[code];
}
