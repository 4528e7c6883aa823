/*
 * text.h — outside text made safe to show, and decimal integers read
 * strictly.
 *
 * A peer controls much of what the bridge logs or stores as a reason
 * (response bodies, curl's error text, ids, URLs).  Escaped with
 * text_escape, such text is one line of printable characters: it cannot
 * end a log line early, forge the next one, or send a terminal escape.
 * text_int64_parse is the one way to read a number: the whole string must
 * be the number, in range.
 */
#ifndef BB_TEXT_H
#define BB_TEXT_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes into out (outsz >= 1 bytes) a NUL-terminated copy of the len
 * bytes at s, escaped: backslash as "\\", newline, CR and tab as "\n",
 * "\r", "\t", other control bytes (C0, DEL, and C1 as UTF-8), and every
 * byte that is not part of valid UTF-8 as "\xNN".  Valid UTF-8 otherwise
 * is copied.  When out is too small the copy stops before the first
 * character or escape that would not fit whole, so at most outsz - 1 bytes
 * are written.  Returns out. */
const char *text_escape(char *out, size_t outsz, const char *s, size_t len);

/* text_escape of the NUL-terminated s; NULL is written as "(null)". */
const char *text_escape_str(char *out, size_t outsz, const char *s);

/* The length of the character at s (len bytes left, len >= 1) in valid
 * UTF-8 (RFC 3629: no overlong forms, surrogates or code points past
 * U+10FFFF): 1 for ASCII, 2 to 4 for others, 0 when the bytes there are
 * not a whole valid character. */
size_t text_utf8_len(const void *s, size_t len);

/* Parses s as a whole as an optionally signed decimal integer in
 * [min, max] into *out.  False (*out untouched) when s is empty, has
 * leading space or any byte after the digits, or is out of range. */
bool text_int64_parse(const char *s, int64_t min, int64_t max, int64_t *out) BB_MUST_CHECK;

#endif
