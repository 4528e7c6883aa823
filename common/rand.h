/*
 * rand.h — unpredictable identifiers (activity ids) from the kernel's
 * random source.
 */
#ifndef BB_RAND_H
#define BB_RAND_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

/* Writes 2 * nbytes lower-case hex digits and a NUL to out (which holds
 * 2 * nbytes + 1 bytes).  Fails only if the kernel has no entropy source. */
enum bb_rc rand_hex(char *out, size_t nbytes) BB_MUST_CHECK;

/* A uniformly random integer in [0, bound) (bound > 0), for jitter. */
uint64_t rand_below(uint64_t bound);

#endif
