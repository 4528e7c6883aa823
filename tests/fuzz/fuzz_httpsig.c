/*
 * fuzz_httpsig.c — httpsig_parse and httpsig_verify on a received request,
 * built twice: fuzz_httpsig_cavage (draft-cavage Signature or
 * Authorization; any Signature-Input header is dropped so that parser is
 * the one reached) and fuzz_httpsig_rfc9421 (RFC 9421 Signature-Input and
 * Signature with RFC 8941 structured fields; inputs without a
 * Signature-Input are skipped).  FUZZ_RFC9421 chooses.
 *
 * Input: the request file format of tests/data/httpsig ("METHOD URL",
 * header lines "Name: value", an empty line, the body), so those files
 * are the seeds.  The clock is fixed at the Date of the Mastodon-shaped
 * vectors, and what parses is verified with their key
 * (mastodon-test-key.pub.pem) when it is RSA, which a mutation cannot
 * forge but which takes the verifier's whole path.
 */
#include "fuzz.h"

#include "err.h"
#include "httpsig.h"
#include "key.h"

#include <stdio.h>
#include <strings.h>

#define FUZZ_NOW 1787320230 /* Fri, 21 Aug 2026 13:50:30 GMT */
#define FUZZ_HEADERS_MAX 40

static struct pubkey *fuzz_key;

/* The Mastodon test key, read once. */
static struct pubkey *key_get(void)
{
	static int tried;
	char pem[4096];
	size_t n;
	FILE *f;
	struct err e;

	if (tried)
		return fuzz_key;
	tried = 1;
	f = fopen(BB_FUZZ_DATA "/httpsig/mastodon-test-key.pub.pem", "rb");
	if (f == NULL)
		abort();
	n = fread(pem, 1, sizeof(pem) - 1, f);
	fclose(f);
	pem[n] = '\0';
	if (pubkey_from_pem(pem, &fuzz_key, &e) != BB_OK)
		abort();
	return fuzz_key;
}

/* Cuts text (modified in place) into m: the request line, headers, body. */
static int request_split(char *text, size_t len, struct httpsig_message *m,
			 struct httpsig_header *h)
{
	char *p = text, *end = text + len, *nl, *sp, *colon;
	size_t n = 0;

	nl = memchr(p, '\n', (size_t)(end - p));
	if (nl == NULL)
		return -1;
	*nl = '\0';
	sp = strchr(p, ' ');
	if (sp == NULL)
		return -1;
	*sp = '\0';
	m->method = p;
	m->target_uri = sp + 1;
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		*nl = '\0';
		if (*p == '\0')
			break;
		colon = strchr(p, ':');
		if (colon == NULL || n == FUZZ_HEADERS_MAX)
			return -1;
		*colon = '\0';
		h[n].name = p;
		h[n].value = colon[1] == ' ' ? colon + 2 : colon + 1;
		n++;
		if (nl == end)
			break;
	}
	m->headers = h;
	m->header_count = n;
	m->body = nl < end ? nl + 1 : NULL;
	m->body_len = nl < end ? (size_t)(end - nl - 1) : 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpsig_header h[FUZZ_HEADERS_MAX];
	struct httpsig_message m;
	struct httpsig *s = NULL;
	struct pubkey *pk = key_get();
	char *text = malloc(size + 1);
	bool has_input = false;
	struct err e;
	size_t kept = 0;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (request_split(text, size, &m, h) != 0)
		goto out;
	for (size_t i = 0; i < m.header_count; i++) {
		bool input = strcasecmp(h[i].name, "signature-input") == 0;
		has_input = has_input || input;
#ifndef FUZZ_RFC9421
		if (input)
			continue;
#endif
		h[kept++] = h[i];
	}
	m.header_count = kept;
#ifdef FUZZ_RFC9421
	if (!has_input)
		goto out;
#endif
	if (httpsig_parse(&m, FUZZ_NOW, &s, &e) == BB_OK) {
		if (httpsig_key_id(s) == NULL)
			abort();
		(void)httpsig_verify(s, &m, pk, &e);
	}
out:
	httpsig_free(s);
	free(text);
	return 0;
}
