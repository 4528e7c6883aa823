/*
 * fuzz_dates.c — the date parsers: IMF-fixdate (HTTP Date), RFC 3339
 * (ActivityStreams published) and RFC 822 (RSS pubDate).  A fixdate that
 * parses must format back to the same text, but for a leap second (":60",
 * which RFC 9110 §5.6.7 allows and which formats as the next minute).
 */
#include "fuzz.h"

#include "timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char back[TIME_IMF_LEN];
	time_t t = 0;

	if (time_parse_imf_fixdate(s, &t)) {
		time_imf_fixdate(t, back);
		if (strcmp(back, s) != 0 && strncmp(s + 23, "60", 2) != 0)
			abort();
	}
	(void)time_parse_rfc3339(s, &t);
	(void)time_parse_rfc822(s, &t);
	free(s);
	return 0;
}
