/*
 * site.c — see site.h.
 */
#include "site.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *concat3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

static char *concat(const char *a, const char *b)
{
	return concat3(a, b, "");
}

enum bb_rc ap_site_init(struct ap_site *site, const struct ap_site_config *cfg, struct err *e)
{
	const char *base = cfg->base_url;

	memset(site, 0, sizeof(*site));
	site->cfg = *cfg;
	site->actor_id = concat(base, AP_PATH_ACTOR);
	site->key_id = concat(base, AP_PATH_ACTOR "#main-key");
	site->inbox = concat(base, AP_PATH_INBOX);
	site->outbox = concat(base, AP_PATH_OUTBOX);
	site->followers = concat(base, AP_PATH_FOLLOWERS);
	site->following = concat(base, AP_PATH_FOLLOWING);
	site->shared_inbox = concat(base, AP_PATH_SHARED_INBOX);
	site->acct = concat3(cfg->handle, "@", cfg->host);
	if (!site->actor_id || !site->key_id || !site->inbox || !site->outbox ||
	    !site->followers || !site->following || !site->shared_inbox || !site->acct) {
		ap_site_free(site);
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	return BB_OK;
}

void ap_site_free(struct ap_site *site)
{
	free(site->actor_id);
	free(site->key_id);
	free(site->inbox);
	free(site->outbox);
	free(site->followers);
	free(site->following);
	free(site->shared_inbox);
	free(site->acct);
	memset(site, 0, sizeof(*site));
}
