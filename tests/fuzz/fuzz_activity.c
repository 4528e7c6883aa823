/*
 * fuzz_activity.c — ap_activity_parse, the typed parse of an incoming
 * activity (an inbox POST body).
 */
#include "fuzz.h"

#include "activity.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ap_activity a;
	struct err e;

	if (ap_activity_parse((const char *)data, size, &a, &e) == BB_OK)
		ap_activity_free(&a);
	return 0;
}
