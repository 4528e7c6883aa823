/*
 * api_cache.c — a small cache of renderings (see api.h): a fixed array of
 * entries under one mutex, searched linearly (a few dozen entries: a
 * scan costs less than a hash would), the least recently used replaced
 * when full or over its byte budget.  A body is counted by reference: a
 * lookup takes a reference under the lock and sends the bytes without
 * copying them; an entry replaced meanwhile only lets go of its own, and
 * the body is freed by whoever lets go last.
 */
#include "api.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A body and its references (the cache's entry, and each lookup's). */
struct shared_body {
	atomic_size_t refs;
	char data[]; /* len bytes and a NUL */
};

struct api_cache_entry {
	int64_t post;
	int kind;
	int64_t version;
	struct shared_body *body; /* NULL: a free entry */
	size_t len;
	uint64_t used; /* the tick of the last lookup or put */
};

static void body_unref(struct shared_body *b)
{
	if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

void api_cache_release(void *body)
{
	if (body != NULL)
		body_unref((struct shared_body *)((char *)body - offsetof(struct shared_body, data)));
}

struct api_cache {
	pthread_mutex_t lock;
	struct api_cache_entry *entries;
	size_t slots;
	size_t bytes, max_bytes; /* kept, and the most that may be */
	uint64_t tick, hits, misses;
};

struct api_cache *api_cache_new(size_t slots, size_t max_bytes)
{
	struct api_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->slots = slots ? slots : 1;
	c->max_bytes = max_bytes;
	c->entries = calloc(c->slots, sizeof(*c->entries));
	if (c->entries == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->entries);
		free(c);
		return NULL;
	}
	return c;
}

void api_cache_free(struct api_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->slots; i++)
		body_unref(c->entries[i].body);
	free(c->entries);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The entry for (post, kind), or NULL.  Under the lock. */
static struct api_cache_entry *entry_find(struct api_cache *c, int64_t post, int kind)
{
	for (size_t i = 0; i < c->slots; i++)
		if (c->entries[i].body && c->entries[i].post == post && c->entries[i].kind == kind)
			return &c->entries[i];
	return NULL;
}

char *api_cache_get(struct api_cache *c, int64_t post, int kind, int64_t version, size_t *len)
{
	struct api_cache_entry *en;
	char *copy = NULL;

	pthread_mutex_lock(&c->lock);
	en = entry_find(c, post, kind);
	if (en && en->version == version) {
		copy = malloc(en->len + 1);
		if (copy) {
			memcpy(copy, en->body->data, en->len + 1);
			*len = en->len;
			en->used = ++c->tick;
		}
	}
	if (copy)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->lock);
	return copy;
}

const char *api_cache_get_shared(struct api_cache *c, int64_t post, int kind, int64_t version,
				 size_t *len)
{
	struct api_cache_entry *en;
	const char *body = NULL;

	pthread_mutex_lock(&c->lock);
	en = entry_find(c, post, kind);
	if (en && en->version == version) {
		atomic_fetch_add(&en->body->refs, 1);
		body = en->body->data;
		*len = en->len;
		en->used = ++c->tick;
		c->hits++;
	} else {
		c->misses++;
	}
	pthread_mutex_unlock(&c->lock);
	return body;
}

/* Lets go of entry en's body.  Under the lock. */
static void entry_drop(struct api_cache *c, struct api_cache_entry *en)
{
	c->bytes -= en->len;
	body_unref(en->body);
	memset(en, 0, sizeof(*en));
}

/* The least recently used entry other than keep, or NULL.  Under the lock. */
static struct api_cache_entry *entry_oldest(struct api_cache *c, const struct api_cache_entry *keep)
{
	struct api_cache_entry *old = NULL;

	for (size_t i = 0; i < c->slots; i++)
		if (c->entries[i].body && &c->entries[i] != keep &&
		    (old == NULL || c->entries[i].used < old->used))
			old = &c->entries[i];
	return old;
}

void api_cache_put(struct api_cache *c, int64_t post, int kind, int64_t version, const char *body,
		   size_t len)
{
	struct api_cache_entry *en, *old;
	struct shared_body *copy;

	/* A rendering over a quarter of the budget is not kept: it would
	 * push out most of the others for one post. */
	if (len > c->max_bytes / 4 || (copy = malloc(sizeof(*copy) + len + 1)) == NULL)
		return;
	atomic_init(&copy->refs, 1);
	memcpy(copy->data, body, len);
	copy->data[len] = '\0';
	pthread_mutex_lock(&c->lock);
	en = entry_find(c, post, kind);
	if (en && en->version > version) {
		/* A slower request read an older version: keep the newer. */
		pthread_mutex_unlock(&c->lock);
		body_unref(copy);
		return;
	}
	if (en == NULL) {
		for (size_t i = 0; i < c->slots && en == NULL; i++)
			if (c->entries[i].body == NULL)
				en = &c->entries[i];
		if (en == NULL)
			en = entry_oldest(c, NULL);
	}
	if (en->body)
		entry_drop(c, en);
	while (c->bytes + len > c->max_bytes && (old = entry_oldest(c, en)) != NULL)
		entry_drop(c, old);
	*en = (struct api_cache_entry){post, kind, version, copy, len, ++c->tick};
	c->bytes += len;
	pthread_mutex_unlock(&c->lock);
}

void api_cache_stats(struct api_cache *c, uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&c->lock);
	*hits = c->hits;
	*misses = c->misses;
	pthread_mutex_unlock(&c->lock);
}
