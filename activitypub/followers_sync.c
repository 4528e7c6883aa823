/*
 * followers_sync.c — see followers_sync.h (FEP-8fcf).
 */
#include "followers_sync.h"
#include "digest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct digest_walk {
	unsigned char acc[32];
	int64_t count;
};

static enum bb_rc digest_one(const char *actor, size_t len, void *arg, struct err *e)
{
	struct digest_walk *d = arg;

	d->count++;
	if (digest_sha256_xor(d->acc, actor, len) != BB_OK)
		return err_set(e, BB_ERR_CRYPTO, "cannot hash a follower id");
	return BB_OK;
}

enum bb_rc ap_sync_digest(struct store *st, const char *server, char hex[AP_SYNC_DIGEST_HEX],
			  int64_t *count, struct err *e)
{
	static const char digits[] = "0123456789abcdef";
	struct digest_walk d = {{0}, 0};
	enum bb_rc rc;

	hex[0] = '\0';
	rc = store_follower_server_each(st, server, digest_one, &d, e);
	if (rc != BB_OK)
		return rc;
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[d.acc[i] >> 4];
		hex[2 * i + 1] = digits[d.acc[i] & 15];
	}
	hex[64] = '\0';
	if (count)
		*count = d.count;
	return BB_OK;
}

/* server in a query: what is not unreserved (or ':', '[', ']' of a port
 * or an IPv6 literal) percent-encoded. */
char *ap_sync_url(const char *base_url, const char *server)
{
	size_t n = strlen(base_url) + strlen(AP_PATH_FOLLOWERS_SYNC) + 6 + 3 * strlen(server) + 1;
	char *out = malloc(n), *p;

	if (out == NULL)
		return NULL;
	p = out + snprintf(out, n, "%s%s?host=", base_url, AP_PATH_FOLLOWERS_SYNC);
	for (const unsigned char *s = (const unsigned char *)server; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~:[]", *s) != NULL)
			*p++ = (char)*s;
		else
			p += sprintf(p, "%%%02X", *s);
	}
	*p = '\0';
	return out;
}

char *ap_sync_header(const char *base_url, const char *followers_url, const char *server,
		     const char hex[AP_SYNC_DIGEST_HEX])
{
	char *url = ap_sync_url(base_url, server), *out = NULL;
	size_t n;

	if (url == NULL)
		return NULL;
	n = strlen(followers_url) + strlen(url) + strlen(hex) + 48;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "collectionId=\"%s\", url=\"%s\", digest=\"%s\"", followers_url,
			 url, hex);
	free(url);
	return out;
}

bool ap_sync_addressed(const char *body, const char *followers_url)
{
	size_t n = strlen(followers_url);

	/* Our own JSON (jansson escapes no '/'): the URL as a whole string. */
	for (const char *p = body; (p = strstr(p, followers_url)) != NULL; p += n)
		if (p > body && p[-1] == '"' && p[n] == '"')
			return true;
	return false;
}

static enum bb_rc list_one(const char *actor, size_t len, void *arg, struct err *e)
{
	json_t *items = arg;

	if (json_array_append_new(items, json_stringn(actor, len)) != 0)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	return BB_OK;
}

enum bb_rc ap_sync_render(struct store *st, const char *base_url, const char *server, char **out,
			  struct err *e)
{
	json_t *items = json_array(), *doc = NULL;
	char *id = ap_sync_url(base_url, server);
	enum bb_rc rc;

	*out = NULL;
	if (items == NULL || id == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = store_follower_server_each(st, server, list_one, items, e);
	if (rc != BB_OK)
		goto out;
	doc = json_pack("{s:s, s:s, s:s, s:I, s:O}", "@context", AP_CONTEXT_AS, "id", id, "type",
			"OrderedCollection", "totalItems", (json_int_t)json_array_size(items),
			"orderedItems", items);
	*out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (*out == NULL)
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
out:
	json_decref(doc);
	json_decref(items);
	free(id);
	return rc;
}
