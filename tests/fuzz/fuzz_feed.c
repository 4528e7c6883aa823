/*
 * fuzz_feed.c — feed_parse (RSS 2.0 and Atom, libxml2) on any bytes, as a
 * blog's server could send them.
 */
#include "fuzz.h"

#include "err.h"
#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f;
	struct err e;

	if (feed_parse((const char *)data, size, &f, &e) == BB_OK && f.title == NULL)
		abort(); /* the contract: never NULL on success */
	feed_clear(&f);
	return 0;
}
