/*
 * store_fixture.c — the helpers store_fixture.h declares.
 */
#include "store_fixture.h"
#include "url.h"

#include "check.h"
#include "fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- follower helpers --- */

struct store_follower follower(char *actor, char *handle, char *inbox, char *shared,
			       char *follow_id, time_t since)
{
	struct store_follower f = {actor, handle, inbox, shared, follow_id, since};

	return f;
}

char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

enum bb_rc collect_fn(const struct store_follower *f, void *arg, struct err *e)
{
	struct collect *c = arg;

	if (c->n < COLLECT_MAX) {
		struct store_follower *d = &c->f[c->n];

		d->actor = dup_or_null(f->actor);
		d->handle = dup_or_null(f->handle);
		d->inbox = dup_or_null(f->inbox);
		d->shared_inbox = dup_or_null(f->shared_inbox);
		d->follow_id = dup_or_null(f->follow_id);
		d->since = f->since;
	}
	c->n++;
	if (c->stop_after && c->n >= c->stop_after)
		return err_set(e, BB_ERR_INVALID, "follower walk stopped");
	return BB_OK;
}

void collect_clear(struct collect *c)
{
	for (int i = 0; i < c->n && i < COLLECT_MAX; i++)
		store_follower_clear(&c->f[i]);
	memset(c, 0, sizeof(*c));
}

/* Walks offset/limit and checks the actors seen, in order ("a,b,c"). */
void expect_walk(struct store *st, int64_t offset, int64_t limit, const char *want, int line)
{
	struct collect c = {0};
	struct err e = {0};
	char got[512] = "";
	size_t used = 0;
	enum bb_rc rc = store_follower_each(st, offset, limit, collect_fn, &c, &e);

	if (rc != BB_OK)
		check_fail(__FILE__, line, "store_follower_each: %s", e.msg);
	for (int i = 0; i < c.n && i < COLLECT_MAX; i++) {
		int n =
		    snprintf(got + used, sizeof(got) - used, "%s%s", i ? "," : "", c.f[i].actor);
		if (n < 0 || (size_t)n >= sizeof(got) - used)
			break;
		used += (size_t)n;
	}
	if (strcmp(got, want) != 0)
		check_fail(__FILE__, line, "walk offset %lld limit %lld: \"%s\", want \"%s\"",
			   (long long)offset, (long long)limit, got, want);
	collect_clear(&c);
}

int64_t count_of(struct store *st)
{
	int64_t n = -1;
	struct err e = {0};

	if (store_follower_count(st, &n, &e) != BB_OK)
		check_fail(__FILE__, __LINE__, "store_follower_count: %s", e.msg);
	return n;
}

/* Opens a fresh database in a new folder; *dir and *path for the caller
 * (path freed by it, dir removed by it). */
struct store *fresh(const char **dir, char **path)
{
	struct store *st = NULL;
	struct err e = {0};

	*dir = check_tmpdir();
	*path = fs_path_join(*dir, "bb.db");
	if (store_open(*path, &st, &e) != BB_OK)
		check_fail(__FILE__, __LINE__, "store_open: %s", e.msg);
	return st;
}

enum bb_rc claims_fn(const struct store_delivery *d, void *arg, struct err *e)
{
	struct claims *c = arg;
	size_t used = strlen(c->list);

	if (c->n < CLAIMS_MAX) {
		c->id[c->n] = d->id;
		snprintf(c->body[c->n], sizeof(c->body[0]), "%s", d->body);
		snprintf(c->inbox[c->n], sizeof(c->inbox[0]), "%s", d->inbox);
	}
	snprintf(c->list + used, sizeof(c->list) - used, "%s%lld:%s:%d", c->n ? "," : "",
		 (long long)d->id, d->host, d->attempts);
	c->n++;
	(void)e;
	return BB_OK;
}

/* Claims and returns the list; the count in c->n. */
const char *claim(struct store *st, struct claims *c, time_t now, int lease, size_t max,
		  size_t per_host, int line)
{
	return claim_as(st, NULL, c, now, lease, max, per_host, line);
}

const char *claim_as(struct store *st, const char *owner, struct claims *c, time_t now, int lease,
		     size_t max, size_t per_host, int line)
{
	struct err e = {0};

	memset(c, 0, sizeof(*c));
	if (store_delivery_claim(st, owner, now, lease, max, per_host, claims_fn, c, &e) != BB_OK)
		check_fail(__FILE__, line, "store_delivery_claim: %s", e.msg);
	return c->list;
}

/* A post to store; strings borrowed (store_post_put does not keep them). */
struct store_post post(char *guid, char *ap_id, char *url, char *title, char *hash,
		       time_t published)
{
	struct store_post p = {.guid = guid,
			       .ap_id = ap_id,
			       .url = url,
			       .title = title,
			       .hash = hash,
			       .object_json = "{\"type\":\"Note\"}",
			       .published = published,
			       .updated = published};

	return p;
}

/* The host key of inbox, as store_delivery_add's callers give it (a
 * static buffer, valid until the next call). */
const char *host_of(const char *inbox)
{
	static char host[URL_HOST_KEY_MAX + 1];

	if (url_host_key(inbox, host, NULL) != BB_OK)
		return NULL;
	return host;
}
