/*
 * buf.c — see buf.h.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->limit);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Makes room for len more bytes plus the NUL. */
static enum bb_rc buf_reserve(struct buf *b, size_t len)
{
	size_t need, cap;
	char *p;

	if (len > b->limit || b->len > b->limit - len)
		return BB_ERR_LIMIT;
	need = b->len + len + 1;
	if (need <= b->cap)
		return BB_OK;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return BB_ERR_NOMEM;
	b->data = p;
	b->cap = cap;
	return BB_OK;
}

enum bb_rc buf_append(struct buf *b, const void *data, size_t len)
{
	enum bb_rc rc = buf_reserve(b, len);

	if (rc != BB_OK)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return BB_OK;
}

enum bb_rc buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

enum bb_rc buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	enum bb_rc rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return BB_ERR_INVALID;
	rc = buf_reserve(b, (size_t)n);
	if (rc != BB_OK)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return BB_OK;
}

char *buf_take(struct buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = calloc(1, 1);
	buf_init(b, b->limit);
	return p;
}
