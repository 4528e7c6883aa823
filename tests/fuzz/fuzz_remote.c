/*
 * fuzz_remote.c — the remote actor and key documents (activitypub/
 * remote.c): an actor or a standalone key at the keyId, the owner's actor
 * document, and the WebFinger answer that confirms the handle, checked
 * by remote_key_fetch and remote_actor_fetch.
 *
 * The network is replaced, nothing else: the target is linked with
 * -Wl,--wrap=fetch_get, so remote.c's calls to fetch_get come here and
 * are answered from the input; fetch.c's URL policy and everything
 * after the body is the real code.
 *
 * Input: up to FUZZ_DOCS bodies separated by NUL bytes; the n-th GET
 * gets the n-th body (200, application/activity+json, or
 * application/jrd+json for WebFinger, from the URL asked), and a GET
 * past the last body gets a 404.
 */
#include "fuzz.h"

#include "err.h"
#include "fetch.h"
#include "remote.h"
#include "store.h"

#include <string.h>

#define FUZZ_DOCS 4
#define KEY_ID "https://remote.example/users/alice#main-key"
#define ACTOR_ID "https://remote.example/users/alice"

static const uint8_t *docs[FUZZ_DOCS];
static size_t doc_len[FUZZ_DOCS], ndocs, next_doc;

enum bb_rc __wrap_fetch_get(const struct fetch_config *cfg, const char *url, const char *accept,
			    size_t max_body, struct fetch_result *out, struct err *e);

enum bb_rc __wrap_fetch_get(const struct fetch_config *cfg, const char *url, const char *accept,
			    size_t max_body, struct fetch_result *out, struct err *e)
{
	const char *ct = strstr(url, "/.well-known/webfinger") ? "application/jrd+json"
							       : "application/activity+json";
	size_t i = next_doc++;

	(void)cfg;
	(void)accept;
	memset(out, 0, sizeof(*out));
	if (i >= ndocs) {
		out->status = 404;
		out->body = fuzz_cstr(NULL, 0);
	} else {
		if (doc_len[i] > max_body)
			return err_set(e, BB_ERR_LIMIT, "body too large");
		out->status = 200;
		out->body = fuzz_cstr(docs[i], doc_len[i]);
		out->body_len = doc_len[i];
	}
	out->content_type = strdup(ct);
	out->url = strdup(url);
	if (out->content_type == NULL || out->url == NULL)
		abort();
	return BB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fetch_config cfg = {.user_agent = "fuzz"};
	struct store_actor a;
	struct err e;

	for (ndocs = 0; ndocs < FUZZ_DOCS && size > 0; ndocs++) {
		const uint8_t *end = memchr(data, 0, size);
		size_t n = end ? (size_t)(end - data) : size;
		docs[ndocs] = data;
		doc_len[ndocs] = n;
		data += n;
		size -= n;
		if (end) {
			data++;
			size--;
		}
	}
	memset(&a, 0, sizeof(a));
	next_doc = 0;
	if (remote_key_fetch(&cfg, KEY_ID, 1787320230, &a, &e) == BB_OK) {
		if (a.id == NULL || a.inbox == NULL || a.public_key_pem == NULL)
			abort();
		store_actor_clear(&a);
	}
	memset(&a, 0, sizeof(a));
	next_doc = 0;
	if (remote_actor_fetch(&cfg, ACTOR_ID, 1787320230, &a, &e) == BB_OK)
		store_actor_clear(&a);
	return 0;
}
