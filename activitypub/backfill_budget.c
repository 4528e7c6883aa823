/*
 * backfill_budget.c — the backfill's bounds (backfill.h): fetches per
 * minute per server and per hour in all, items per post and hour, the
 * servers being skipped; what may be fetched at all; and the fetch
 * within them.  The budgets live in memory, per struct backfill, used by
 * the one thread that runs its passes; the lock guards only the cancel
 * and the wait for a server's next minute.
 */
#include "backfill_int.h"
#include "log.h"
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct backfill *backfill_new(const struct backfill_env *env)
{
	struct backfill *bf = calloc(1, sizeof(*bf));

	if (bf == NULL)
		return NULL;
	bf->env = *env;
	bf->fetch = *env->fetch;
	bf->fetch.timeout_s = BACKFILL_FETCH_TIMEOUT_S;
	bf->env.fetch = &bf->fetch;
	if (pthread_mutex_init(&bf->lock, NULL) != 0) {
		free(bf);
		return NULL;
	}
	if (pthread_cond_init(&bf->wake, NULL) != 0) {
		pthread_mutex_destroy(&bf->lock);
		free(bf);
		return NULL;
	}
	return bf;
}

void backfill_free(struct backfill *bf)
{
	if (bf == NULL)
		return;
	pthread_cond_destroy(&bf->wake);
	pthread_mutex_destroy(&bf->lock);
	free(bf);
}

void backfill_cancel(struct backfill *bf)
{
	pthread_mutex_lock(&bf->lock);
	bf->cancel = true;
	pthread_cond_broadcast(&bf->wake);
	pthread_mutex_unlock(&bf->lock);
}

bool bf_cancelled(struct backfill *bf)
{
	bool c;

	pthread_mutex_lock(&bf->lock);
	c = bf->cancel;
	pthread_mutex_unlock(&bf->lock);
	return c;
}

/* Waits until the wall clock reaches until, or a cancel; false on cancel. */
static bool wait_until(struct backfill *bf, time_t until)
{
	struct timespec ts = {until, 0};
	bool ok;

	pthread_mutex_lock(&bf->lock);
	while (!bf->cancel && time(NULL) < until)
		(void)pthread_cond_timedwait(&bf->wake, &bf->lock, &ts);
	ok = !bf->cancel;
	pthread_mutex_unlock(&bf->lock);
	return ok;
}

bool bf_host_of(const char *url, char host[URL_HOST_KEY_MAX + 1])
{
	return url != NULL && url_host_key(url, host, NULL) == BB_OK;
}

bool bf_same_host(const char *a, const char *b)
{
	char ha[URL_HOST_KEY_MAX + 1], hb[URL_HOST_KEY_MAX + 1];

	return bf_host_of(a, ha) && bf_host_of(b, hb) && strcmp(ha, hb) == 0;
}

/* The budget of host, made (or an old one reused) when missing. */
static struct host_budget *host_budget(struct backfill *bf, const char *host, time_t now)
{
	struct host_budget *h = NULL;

	for (size_t i = 0; i < bf->nhosts; i++)
		if (strcmp(bf->hosts[i].host, host) == 0)
			return &bf->hosts[i];
	if (bf->nhosts < BACKFILL_HOSTS_MAX) {
		h = &bf->hosts[bf->nhosts++];
	} else {
		h = &bf->hosts[0];
		for (size_t i = 1; i < bf->nhosts; i++)
			if (bf->hosts[i].used < h->used)
				h = &bf->hosts[i];
	}
	memset(h, 0, sizeof(*h));
	snprintf(h->host, sizeof(h->host), "%s", host);
	h->minute = now;
	return h;
}

/* Takes cost fetches from url's server and from the hour: BB_ERR_TEMPFAIL
 * (p->skipped) when the server is being skipped, BB_ERR_LIMIT (p->stop_pass) when the
 * hour's budget is spent; waits for the next minute when the server's
 * is (BB_ERR_TEMPFAIL when cancelled meanwhile). */
enum bb_rc bf_budget_take(struct pass *p, const char *url, int cost, struct err *e)
{
	struct backfill *bf = p->bf;
	char host[URL_HOST_KEY_MAX + 1];
	struct host_budget *h;
	time_t now = time(NULL);

	p->skipped = false;
	if (!bf_host_of(url, host))
		return err_set(e, BB_ERR_INVALID, "no host in %.200s", url);
	if (now - bf->hour >= 3600) {
		bf->hour = now;
		bf->hour_count = 0;
		bf->nposts = 0;
	}
	if (bf->hour_count + (size_t)cost > BACKFILL_PER_HOUR) {
		p->stop_pass = true;
		p->stats->limited = true;
		return err_set(e, BB_ERR_LIMIT, "the backfill's hourly budget is spent");
	}
	h = host_budget(bf, host, now);
	if (h->skip_until > now) {
		p->skipped = true;
		return err_set(e, BB_ERR_TEMPFAIL, "%s is failing: skipped", host);
	}
	if (now - h->minute >= 60) {
		h->minute = now;
		h->count = 0;
	}
	if (h->count + cost > BACKFILL_HOST_PER_MIN) {
		log_debug("backfill: %s: %d fetches this minute, waiting", host, h->count);
		if (!wait_until(bf, h->minute + 60))
			return err_set(e, BB_ERR_TEMPFAIL, "stopping");
		h->minute = time(NULL);
		h->count = 0;
	}
	h->count += cost;
	h->used = now;
	bf->hour_count += (size_t)cost;
	p->stats->fetches += (size_t)cost;
	return BB_OK;
}

/* url's server failed (network, timeout, 5xx, 429) when rc is
 * BB_ERR_TEMPFAIL, and not because it was skipped or the pass stopped:
 * it is left alone a while. */
void bf_host_failed(struct pass *p, const char *url, enum bb_rc rc)
{
	char host[URL_HOST_KEY_MAX + 1];

	if (rc != BB_ERR_TEMPFAIL || p->skipped || p->stop_pass || bf_cancelled(p->bf) ||
	    !bf_host_of(url, host))
		return;
	host_budget(p->bf, host, p->now)->skip_until = time(NULL) + BACKFILL_HOST_SKIP_S;
	log_info("backfill: %s failed; skipped for %d s", host, BACKFILL_HOST_SKIP_S);
}

/* Counts one item fetched for the row's post; false when the post's
 * hourly bound is reached. */
bool bf_post_item_take(struct pass *p)
{
	struct backfill *bf = p->bf;
	struct post_budget *b = NULL;

	for (size_t i = 0; i < bf->nposts && b == NULL; i++)
		if (bf->posts[i].post == p->row->post)
			b = &bf->posts[i];
	if (b == NULL) {
		if (bf->nposts == BACKFILL_POSTS_MAX)
			return false; /* many posts this hour: the rest waits */
		b = &bf->posts[bf->nposts++];
		*b = (struct post_budget){p->row->post, 0};
	}
	if (b->count >= BACKFILL_POST_ITEMS_MAX)
		return false;
	b->count++;
	return true;
}

/* Whether url may be fetched at all: not ours, not blocked by the
 * config's list or the store's (actor, when set, is checked too). */
enum bb_rc bf_url_barred(struct pass *p, const char *url, const char *actor, bool *barred,
			 struct err *e)
{
	const struct comments_env *env = p->bf->env.comments;
	char host[URL_HOST_KEY_MAX + 1], name[URL_HOST_KEY_MAX + 1], *colon;

	*barred = true;
	if (url == NULL || !bf_host_of(url, host) || bf_same_host(url, env->site->actor_id) ||
	    !fetch_url_allowed(url, p->bf->fetch.allow_private) ||
	    url_host_blocked(env->blocked_domains, host))
		return BB_OK;
	/* The store's list names domains without a port. */
	snprintf(name, sizeof(name), "%s", host);
	colon = strrchr(name, ':');
	if (colon != NULL && strchr(colon, ']') == NULL)
		*colon = '\0';
	return store_block_matches(p->st, actor, name, barred, e);
}

/* The copy of the document at url its origin serves (remote_object_fetch),
 * within the budgets; a failing server is marked. */
enum bb_rc bf_doc_get(struct pass *p, const char *url, json_t **out, struct err *e)
{
	bool barred = false;
	enum bb_rc rc;

	*out = NULL;
	p->skipped = false;
	rc = bf_url_barred(p, url, NULL, &barred, e);
	if (rc != BB_OK)
		return rc;
	if (barred)
		return err_set(e, BB_ERR_FORBIDDEN, "%.200s is not fetched (ours or blocked)", url);
	rc = bf_budget_take(p, url, 1, e);
	if (rc == BB_OK)
		rc = remote_object_fetch(&p->bf->fetch, url, out, e);
	bf_host_failed(p, url, rc);
	return rc;
}

/* An id: a string, or an object's id; http(s) only. */
const char *bf_id_of(const json_t *v)
{
	const char *s;

	if (json_is_object(v))
		v = json_object_get(v, "id");
	s = json_string_value(v);
	return s != NULL && strlen(s) <= FETCH_URL_MAX && url_is_http_str(s) ? s : NULL;
}
