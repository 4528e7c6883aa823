/*
 * fuzz_probe.c — the doctor's probe as the inbox reads it before any key
 * is fetched (activitypub/probe.c): ap_probe_claimed and ap_probe_check
 * on any activity, with the proof's fields read, decoded and verified
 * against a fixed key; and ap_probe_report on what arrived.
 *
 * Input: the body (an inbox POST), a NUL, then header lines
 * "Name: value" separated by newlines (Host, Date, Digest,
 * Content-Type, as a proxy may have rewritten them).
 */
#include "fuzz.h"

#include "activity.h"
#include "err.h"
#include "key.h"
#include "probe.h"
#include "site.h"

#include <stdio.h>

#define HEADERS_MAX 8

static struct ap_site site;
static struct pubkey *own;

static const char OWN_PEM[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuswOwWbecEQuaYKsp3lH\n"
    "3UEihW9RxjeWimHKtd3seOFSgR011PVZdW8TQjfYYIdX/yHPW6y6RFyY7NCwh0dl\n"
    "x3rh/+RZ3F3ySNJvK1aqWGrm7tSrr4KftNqZP50dr8eMwiP5dMmKgnqD3w02itY9\n"
    "TxNZ3wV2lYTnIjwPvtGL+L3ekBUIl3vdYYAnvki77Xb2R4wdlGI4IwUILvcO9gp2\n"
    "E/0dDuyKys2n6qZyoM9pngW3wYF1Bq4sl+TQU7/sN3/lqT6IQLP3HOAzg1j1Dpue\n"
    "bGqiuToHoGNVFV7Xrg5gweStMczuKXLhAl50lNj1RK/8LP8yOKStMc3XGFqfug8B\n"
    "+QIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static void setup(void)
{
	static int done;
	struct ap_site_config sc = {
	    .base_url = "https://blog.example",
	    .host = "blog.example",
	    .handle = "blog",
	    .name = "A blog",
	    .summary = "About",
	    .blog_url = "https://blog.example/",
	    .public_key_pem = OWN_PEM,
	    .software_version = "0",
	    .published = 1700000000,
	};
	struct err e;

	if (done)
		return;
	done = 1;
	if (ap_site_init(&site, &sc, &e) != BB_OK || pubkey_from_pem(OWN_PEM, &own, &e) != BB_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = memchr(data, 0, size);
	size_t body_len = end ? (size_t)(end - data) : size;
	char *rest = end ? fuzz_cstr(end + 1, size - body_len - 1) : fuzz_cstr(NULL, 0);
	struct httpsig_header h[HEADERS_MAX];
	struct httpsig_message m = {"POST", "https://blog.example/ap/actor/inbox", h, 0, data,
				    body_len};
	struct ap_activity a;
	struct err e;
	char *report = NULL, *save = NULL;

	setup();
	for (char *line = strtok_r(rest, "\n", &save); line && m.header_count < HEADERS_MAX;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		h[m.header_count].name = line;
		h[m.header_count].value = colon[1] == ' ' ? colon + 2 : colon + 1;
		m.header_count++;
	}
	if (ap_activity_parse((const char *)data, body_len, &a, &e) == BB_OK) {
		if (ap_probe_claimed(&site, &a))
			(void)ap_probe_check(&site, own, &a, 1700000000, &e);
		if (ap_probe_report(&a, &m, m.header_count % 2 ? "bad signature" : NULL, &report,
				    &e) == BB_OK)
			free(report);
		ap_activity_free(&a);
	}
	free(rest);
	return 0;
}
