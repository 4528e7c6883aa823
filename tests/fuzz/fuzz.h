/*
 * fuzz.h — what the libFuzzer targets in tests/fuzz share: turning the
 * fuzzer's bytes into the NUL-terminated strings the parsers take, and
 * splitting one input into several fields.
 *
 * Each target is one LLVMFuzzerTestOneInput calling a real parser of
 * outside input; README.md ("Fuzzing") and scripts/fuzz.sh say how they
 * are built and run.
 */
#ifndef BB_FUZZ_H
#define BB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the size bytes at data (new string; an
 * embedded NUL ends it early, as it would end a header).  Aborts when out
 * of memory: the fuzzer reports it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The next field of *data (up to sep or the end) as a new string;
 * *data and *size move past it and its separator.  An exhausted input
 * gives "". */
static inline char *fuzz_field(const uint8_t **data, size_t *size, uint8_t sep)
{
	const uint8_t *end = memchr(*data, sep, *size);
	size_t n = end ? (size_t)(end - *data) : *size;
	char *s = fuzz_cstr(*data, n);

	*data += n;
	*size -= n;
	if (end) {
		(*data)++;
		(*size)--;
	}
	return s;
}

#endif
