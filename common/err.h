/*
 * err.h — the error type every fallible function in blogbridge uses.
 *
 * A function returns an `enum bb_rc`; when it is not BB_OK, the caller-owned
 * `struct err` holds a one-line, human-readable message saying what went
 * wrong and, where it applies, where (file and line, URL, path).  HTTP
 * statuses and exit codes are derived from the code at the program's edge,
 * in one place each.
 */
#ifndef BB_ERR_H
#define BB_ERR_H

#include <stddef.h>

#define BB_MUST_CHECK __attribute__((warn_unused_result))
#define BB_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum bb_rc {
	BB_OK = 0,
	BB_ERR_USAGE,    /* bad command line */
	BB_ERR_CONFIG,   /* bad configuration */
	BB_ERR_INVALID,  /* malformed input from outside */
	BB_ERR_NOTFOUND, /* no such thing */
	BB_ERR_LIMIT,    /* input over a named limit */
	BB_ERR_NOMEM,
	BB_ERR_IO,       /* file system or network */
	BB_ERR_CRYPTO,   /* OpenSSL failure or bad key */
	BB_ERR_UNSAFE,   /* refused for safety (key file mode, private address) */
	BB_ERR_STORE,    /* database failure */
	BB_ERR_BUSY,     /* database locked beyond the busy timeout */
	BB_ERR_AUTH,     /* missing or bad signature: the sender must prove who it is */
	BB_ERR_FORBIDDEN, /* proven, but not allowed (blocked domain, wrong actor) */
	BB_ERR_TEMPFAIL, /* a remote peer failed in a way worth retrying */
};

#define BB_ERR_MSG_MAX 320

struct err {
	enum bb_rc code;
	char msg[BB_ERR_MSG_MAX];
};

/* Sets e (when not NULL) to code and the formatted message; returns code so
 * that callers can write `rc = err_set(e, BB_ERR_IO, "...")`. */
enum bb_rc err_set(struct err *e, enum bb_rc code, const char *fmt, ...)
    BB_PRINTF(3, 4);

/* Clears e to BB_OK with an empty message. */
void err_clear(struct err *e);

/* A short constant name for a code, for logs and tests. */
const char *err_code_name(enum bb_rc code);

#endif
