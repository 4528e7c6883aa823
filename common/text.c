/*
 * text.c — see text.h.
 */
#include "text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence starting s (at most len bytes), or 0
 * when it is not one: overlong forms, surrogates and code points past
 * U+10FFFF are invalid (RFC 3629 §4). */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

size_t text_utf8_len(const void *s, size_t len)
{
	const unsigned char *p = s;

	if (len == 0)
		return 0;
	return p[0] < 0x80 ? 1 : utf8_seq_len(p, len);
}

/* Writes the escape for byte c into tmp; returns its length. */
static size_t escape_byte(unsigned char c, char tmp[5])
{
	static const char hex[] = "0123456789abcdef";

	tmp[0] = '\\';
	switch (c) {
	case '\\': tmp[1] = '\\'; return 2;
	case '\n': tmp[1] = 'n'; return 2;
	case '\r': tmp[1] = 'r'; return 2;
	case '\t': tmp[1] = 't'; return 2;
	default: break;
	}
	tmp[1] = 'x';
	tmp[2] = hex[c >> 4];
	tmp[3] = hex[c & 0x0f];
	return 4;
}

const char *text_escape(char *out, size_t outsz, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0;

	if (outsz == 0)
		return out;
	while (i < len) {
		char tmp[5];
		const char *piece = tmp;
		size_t plen, used;
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			piece = (const char *)p + i;
			plen = used = 1;
		} else if (c >= 0x80 && (used = utf8_seq_len(p + i, len - i)) > 0 &&
			   !(c == 0xC2 && p[i + 1] < 0xA0)) {
			/* Valid UTF-8, except C1 controls (U+0080-U+009F),
			 * which terminals act on like ESC. */
			piece = (const char *)p + i;
			plen = used;
		} else {
			plen = escape_byte(c, tmp);
			used = 1;
		}
		if (plen > outsz - 1 - o)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		i += used;
	}
	out[o] = '\0';
	return out;
}

const char *text_escape_str(char *out, size_t outsz, const char *s)
{
	if (s == NULL)
		s = "(null)";
	return text_escape(out, outsz, s, strlen(s));
}

bool text_int64_parse(const char *s, int64_t min, int64_t max, int64_t *out)
{
	const char *d = s;
	char *end;
	long long v;

	if (s == NULL)
		return false;
	if (*d == '-' || *d == '+')
		d++;
	/* strtoll would skip leading space and accept "" as 0. */
	if (*d < '0' || *d > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = (int64_t)v;
	return true;
}
