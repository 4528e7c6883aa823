/*
 * fuzz_webfinger.c — ap_webfinger_matches, which reads the `resource` of
 * a WebFinger query (acct:HANDLE@HOST in any case, "@HANDLE@HOST", or the
 * actor id) against a fixed site.
 */
#include "fuzz.h"

#include "err.h"
#include "render.h"
#include "site.h"

static struct ap_site site;

static void site_init(void)
{
	static int done;
	struct ap_site_config sc = {
	    .base_url = "https://bridge.example",
	    .host = "bridge.example",
	    .handle = "blog",
	    .name = "A blog",
	    .summary = "About",
	    .blog_url = "https://blog.example/",
	    .public_key_pem = "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
	    .software_version = "0",
	    .published = 1700000000,
	};
	struct err e;

	if (done)
		return;
	done = 1;
	if (ap_site_init(&site, &sc, &e) != BB_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *resource = fuzz_cstr(data, size);

	site_init();
	(void)ap_webfinger_matches(&site, resource);
	free(resource);
	return 0;
}
