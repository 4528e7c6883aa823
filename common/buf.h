/*
 * buf.h — a growable byte buffer with a hard upper bound.
 *
 * Every buffer that holds outside input or builds output has a named limit;
 * appending past it fails with BB_ERR_LIMIT and leaves the contents as they
 * were.  The data is always NUL-terminated (the NUL is not counted in len).
 */
#ifndef BB_BUF_H
#define BB_BUF_H

#include "err.h"

#include <stddef.h>

struct buf {
	char *data; /* NULL until the first append */
	size_t len;
	size_t cap;
	size_t limit; /* the most bytes len may reach */
};

/* Initializes an empty buffer that may grow to limit bytes. */
void buf_init(struct buf *b, size_t limit);

/* Frees the storage; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

/* Empties the buffer, keeping its storage. */
void buf_reset(struct buf *b);

enum bb_rc buf_append(struct buf *b, const void *data, size_t len) BB_MUST_CHECK;
enum bb_rc buf_puts(struct buf *b, const char *s) BB_MUST_CHECK;
enum bb_rc buf_printf(struct buf *b, const char *fmt, ...) BB_PRINTF(2, 3) BB_MUST_CHECK;

/* Hands the NUL-terminated data to the caller (who frees it) and leaves the
 * buffer empty.  Returns an empty allocated string for an empty buffer, or
 * NULL when out of memory. */
char *buf_take(struct buf *b);

#endif
