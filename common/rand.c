/*
 * rand.c — see rand.h.
 */
#include "rand.h"

#include <errno.h>
#include <sys/random.h>

static enum bb_rc rand_bytes(unsigned char *buf, size_t n)
{
	while (n > 0) {
		ssize_t got = getrandom(buf, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return BB_ERR_IO;
		}
		buf += got;
		n -= (size_t)got;
	}
	return BB_OK;
}

enum bb_rc rand_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[64];
	enum bb_rc rc;

	if (nbytes > sizeof(buf))
		return BB_ERR_LIMIT;
	rc = rand_bytes(buf, nbytes);
	if (rc != BB_OK)
		return rc;
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[buf[i] >> 4];
		out[2 * i + 1] = hex[buf[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return BB_OK;
}

uint64_t rand_below(uint64_t bound)
{
	uint64_t x = 0, limit;

	if (bound <= 1)
		return 0;
	/* Rejection sampling: no modulo bias. */
	limit = UINT64_MAX - UINT64_MAX % bound;
	do {
		if (rand_bytes((unsigned char *)&x, sizeof(x)) != BB_OK)
			return 0;
	} while (x >= limit);
	return x % bound;
}
