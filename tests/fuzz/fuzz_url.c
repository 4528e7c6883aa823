/*
 * fuzz_url.c — the URL module (common/url.h): url_parse with and without
 * dot removal, url_format, url_host_key, url_same_origin and url_resolve
 * of a reference against a base.
 *
 * Input: the base (or only) URL, a NUL, then a reference.
 */
#include "fuzz.h"

#include "err.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *base = fuzz_field(&data, &size, 0);
	char *ref = fuzz_cstr(data, size);
	char key[URL_HOST_KEY_MAX + 1], origin[URL_ORIGIN_MAX + 1];
	char *s = NULL;
	static struct url u; /* large: not on the stack */
	struct err e;

	if (url_parse(base, URL_REMOVE_DOTS, &u, &e) == BB_OK) {
		url_host_port(&u, key);
		url_origin(&u, origin);
		(void)url_is_http(&u);
		if (url_format(&u, &s, &e) == BB_OK)
			free(s);
	}
	(void)url_parse(base, 0, &u, &e);
	(void)url_host_key(base, key, &e);
	(void)url_same_origin(base, ref);
	if (url_resolve(base, ref, &s, &e) == BB_OK)
		free(s);
	free(base);
	free(ref);
	return 0;
}
