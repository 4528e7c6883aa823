/*
 * app.c — see app.h.
 */
#include "app.h"
#include "log.h"
#include "move.h"
#include "publish.h"
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void store_tls_close(void *p)
{
	store_close(p);
}

static void profile_free(struct app_profile *p)
{
	while (p != NULL) {
		struct app_profile *older = p->older;
		free(p->actor_json);
		free(p->moved_to);
		ap_site_free(&p->site);
		config_free(p->cfg);
		free(p);
		p = older;
	}
}

/* A profile of the running app with pc's profile fields (pc may be
 * app->cfg) and moved_to (copied; NULL: not moved); it takes own (NULL or
 * pc) on every path.  NULL when out of memory. */
static struct app_profile *profile_new(const struct app *app, const struct config *pc,
				       struct config *own, const char *moved_to, struct err *e)
{
	struct app_profile *p = calloc(1, sizeof(*p));
	struct ap_site_config sc = app->site.cfg;

	if (p == NULL || (moved_to != NULL && (p->moved_to = strdup(moved_to)) == NULL)) {
		free(p);
		config_free(own);
		err_set(e, BB_ERR_NOMEM, "out of memory");
		return NULL;
	}
	p->cfg = own;
	p->fields = pc;
	sc.moved_to = p->moved_to;
	sc.name = pc->name;
	sc.summary = pc->summary;
	sc.icon = pc->icon;
	sc.header = pc->header;
	sc.also_known_as = (const char *const *)pc->also_known_as;
	if (ap_site_init(&p->site, &sc, e) != BB_OK) {
		profile_free(p);
		return NULL;
	}
	p->actor_json = ap_actor_render(&p->site);
	if (p->actor_json == NULL) {
		profile_free(p);
		err_set(e, BB_ERR_NOMEM, "out of memory");
		return NULL;
	}
	return p;
}

/* Publishes p (replacing the profile now), or frees it when its document
 * is the same.  Whether it was published. */
static bool profile_publish(struct app *app, struct app_profile *p)
{
	struct app_profile *now = atomic_load_explicit(&app->profile, memory_order_acquire);

	if (strcmp(p->actor_json, now->actor_json) == 0) {
		profile_free(p);
		return false;
	}
	p->older = now;
	atomic_store_explicit(&app->profile, p, memory_order_release);
	return true;
}

enum bb_rc app_open(struct config *cfg, struct app **out, struct err *e)
{
	struct app *app = NULL;
	struct store *st = NULL;
	struct ap_site_config sc;
	bool created = false;
	time_t published = 0;
	char *moved_to = NULL;
	enum bb_rc rc;

	*out = NULL;
	app = calloc(1, sizeof(*app));
	if (app == NULL) {
		config_free(cfg);
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	app->cfg = cfg;
	if (pthread_key_create(&app->store_tls, store_tls_close) != 0) {
		rc = err_set(e, BB_ERR_NOMEM, "cannot create thread-local storage");
		goto out;
	}
	app->store_tls_ready = true;
	rc = key_load_or_create(cfg->key_path, &app->key, &created, e);
	if (rc != BB_OK)
		goto out;
	if (created)
		log_info("created the actor key %s", cfg->key_path);
	st = app_store(app, e);
	if (st == NULL) {
		rc = e->code;
		goto out;
	}
	rc = store_actor_published(st, &published, e);
	if (rc == BB_OK)
		rc = store_moved_to_get(st, &moved_to, e);
	if (rc != BB_OK)
		goto out;
	sc = (struct ap_site_config){
	    .base_url = cfg->base_url,
	    .host = cfg->host,
	    .handle = cfg->handle,
	    .name = cfg->name,
	    .summary = cfg->summary,
	    .blog_url = cfg->url,
	    .icon = cfg->icon,
	    .header = cfg->header,
	    .also_known_as = (const char *const *)cfg->also_known_as,
	    .language = cfg->language,
	    .public_key_pem = key_public_pem(app->key),
	    .software_version = BB_VERSION,
	    .published = published,
	};
	rc = ap_site_init(&app->site, &sc, e);
	if (rc != BB_OK)
		goto out;
	atomic_init(&app->profile, profile_new(app, cfg, NULL, moved_to, e));
	if (atomic_load(&app->profile) == NULL) {
		rc = e->code;
		goto out;
	}
	app->webfinger_json = ap_webfinger_render(&app->site);
	app->host_meta_xml = ap_host_meta_render(&app->site);
	app->nodeinfo_links_json = ap_nodeinfo_links_render(&app->site);
	if (!app->webfinger_json || !app->host_meta_xml ||
	    !app->nodeinfo_links_json) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	app->fetch.key = app->key;
	app->fetch.key_id = app->site.key_id;
	app->fetch.allow_private = cfg->allow_private_addresses;
	snprintf(app->fetch.user_agent, sizeof(app->fetch.user_agent), "blogbridge/%s (+%s/)",
		 BB_VERSION, cfg->base_url);
	app->inbox.site = &app->site;
	app->inbox.fetch = &app->fetch;
	app->inbox.blocked_domains = cfg->blocked_domains;
	app->inbox.moderation = cfg->moderation == CONFIG_MODERATION_AUTO    ? COMMENTS_MODERATION_AUTO
				: cfg->moderation == CONFIG_MODERATION_KNOWN ? COMMENTS_MODERATION_KNOWN
									     : COMMENTS_MODERATION_MANUAL;
	app->inbox.notify.mail = cfg->mail_to != NULL;
	app->inbox.notify.hook = cfg->webhook != NULL;
	app->inbox.keys = pubkey_cache_new();
	app->authfetch = authfetch_new();
	if (app->inbox.keys == NULL || app->authfetch == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = app;
	app = NULL;
out:
	free(moved_to);
	app_free(app);
	return rc;
}

enum bb_rc app_services_start(struct app *app, struct err *e)
{
	enum bb_rc rc = writer_start(app->cfg->database, &app->writer, e);

	if (rc != BB_OK)
		return rc;
	app->delivery_cfg.database = app->cfg->database;
	app->delivery_cfg.fetch = &app->fetch;
	app->delivery_cfg.base_url = app->site.cfg.base_url;
	app->delivery_cfg.followers_url = app->site.followers;
	rc = delivery_start(&app->delivery_cfg, &app->delivery, e);
	if (rc == BB_OK) {
		rc = notify_start(app->cfg, app->key, app->fetch.user_agent, &app->notify, e);
		if (rc != BB_OK) {
			delivery_stop(app->delivery);
			app->delivery = NULL;
		}
	}
	if (rc != BB_OK) {
		writer_stop(app->writer);
		app->writer = NULL;
	}
	return rc;
}

void app_services_stop(struct app *app)
{
	if (app == NULL)
		return;
	notify_stop(app->notify);
	app->notify = NULL;
	delivery_stop(app->delivery);
	app->delivery = NULL;
	writer_stop(app->writer);
	app->writer = NULL;
}

void app_free(struct app *app)
{
	if (app == NULL)
		return;
	app_services_stop(app);
	if (app->store_tls_ready) {
		/* The destructor runs only for other threads as they exit; the
		 * calling thread's connection is closed here. */
		store_close(pthread_getspecific(app->store_tls));
		pthread_setspecific(app->store_tls, NULL);
		pthread_key_delete(app->store_tls);
	}
	profile_free(atomic_load(&app->profile));
	free(app->webfinger_json);
	free(app->host_meta_xml);
	free(app->nodeinfo_links_json);
	ap_site_free(&app->site);
	pubkey_cache_free(app->inbox.keys);
	authfetch_free(app->authfetch);
	key_free(app->key);
	config_free(app->cfg);
	free(app);
}

struct store *app_store(struct app *app, struct err *e)
{
	struct store *st = pthread_getspecific(app->store_tls);

	if (st != NULL)
		return st;
	if (store_open(app->cfg->database, &st, e) != BB_OK)
		return NULL;
	if (pthread_setspecific(app->store_tls, st) != 0) {
		store_close(st);
		err_set(e, BB_ERR_NOMEM, "cannot keep the store connection");
		return NULL;
	}
	return st;
}

const struct app_profile *app_profile(struct app *app)
{
	return atomic_load_explicit(&app->profile, memory_order_acquire);
}

enum bb_rc app_profile_sync(struct app *app, struct err *e)
{
	const struct app_profile *p = app_profile(app);
	struct store *st = app_store(app, e);
	int64_t count = 0;
	bool sent = false;
	enum bb_rc rc;

	if (st == NULL)
		return e->code;
	rc = publish_actor_sync(st, &p->site, p->actor_json, time(NULL), &sent, &count, e);
	if (rc == BB_OK && sent && count > 0 && app->delivery != NULL)
		delivery_wake(app->delivery);
	return rc;
}

/* Whether a reload applies key: the profile's (app_profile), and the
 * admin's password hash, which web_admin.c reads from the file whenever
 * it changes anyway. */
static bool key_live(const char *section, const char *key)
{
	static const char *const profile_keys[] = {"name", "summary", "icon", "header",
						   "also_known_as"};

	if (strcmp(section, "admin") == 0 && strcmp(key, "password_hash") == 0)
		return true;
	if (strcmp(section, "site") != 0)
		return false;
	for (size_t i = 0; i < sizeof(profile_keys) / sizeof(profile_keys[0]); i++)
		if (strcmp(key, profile_keys[i]) == 0)
			return true;
	return false;
}

/* Logs a key that changed but is read at start-up only. */
static void reload_key(const char *section, const char *key, void *arg)
{
	if (!key_live(section, key))
		log_warn("%s: [%s] %s changed: it takes effect at the next restart",
			 (const char *)arg, section, key);
}

enum bb_rc app_reload(struct app *app, struct config_errors *errs, struct err *e)
{
	struct app_profile *p;
	struct config *cfg = NULL;
	struct store *st;
	char *moved_to = NULL;
	bool same;
	enum bb_rc rc = config_load(app->cfg->path, &cfg, errs);

	if (rc != BB_OK)
		return err_set(e, rc, "%s: %zu error%s, the configuration in use is kept",
			       app->cfg->path, errs->count, errs->count == 1 ? "" : "s");
	config_diff(app->cfg, cfg, reload_key, app->cfg->path);
	/* The move as the store has it now: a profile without it must not be
	 * federated after a `blogbridge move`. */
	st = app_store(app, e);
	if (st == NULL || store_moved_to_get(st, &moved_to, e) != BB_OK) {
		config_free(cfg);
		return e->code;
	}
	p = profile_new(app, cfg, cfg, moved_to, e);
	free(moved_to);
	if (p == NULL)
		return e->code;
	same = !profile_publish(app, p);
	rc = app_profile_sync(app, e);
	log_info("reloaded %s: the profile %s", app->cfg->path, same ? "is unchanged" : "changed");
	return rc;
}

enum bb_rc app_move_refresh(struct app *app, struct err *e)
{
	const struct app_profile *now = app_profile(app);
	struct store *st = app_store(app, e);
	struct app_profile *p;
	char *moved_to = NULL;
	enum bb_rc rc;

	if (st == NULL)
		return e->code;
	if ((rc = store_moved_to_get(st, &moved_to, e)) != BB_OK)
		return rc;
	if (moved_to == NULL || (now->moved_to != NULL && strcmp(now->moved_to, moved_to) == 0)) {
		free(moved_to);
		return BB_OK;
	}
	/* The same fields, borrowed: now stays (as p->older) until app_free. */
	p = profile_new(app, now->fields, NULL, moved_to, e);
	if (p == NULL) {
		free(moved_to);
		return e->code;
	}
	profile_publish(app, p);
	log_info("the blog has moved to %s: its documents are still served, the feed is no "
		 "longer published and new follows are rejected",
		 moved_to);
	free(moved_to);
	/* No app_profile_sync: `move` federated the Update already, with the
	 * profile of the file as it read it; a reload brings this serve's
	 * profile to the file too. */
	return BB_OK;
}

enum bb_rc app_move(struct app *app, const char *target, int64_t *deliveries, struct err *e)
{
	const struct app_profile *now = app_profile(app);
	struct store *st = app_store(app, e);
	struct app_profile *p;
	enum bb_rc rc;

	*deliveries = 0;
	if (st == NULL)
		return e->code;
	/* The profile now, moved: the document the Update carries. */
	p = profile_new(app, now->fields, NULL, target, e);
	if (p == NULL)
		return e->code;
	rc = move_publish(st, &p->site, p->actor_json, target, time(NULL), deliveries, e);
	if (rc == BB_OK)
		profile_publish(app, p);
	else
		profile_free(p);
	if (rc == BB_OK && *deliveries > 0 && app->delivery != NULL)
		delivery_wake(app->delivery);
	return rc;
}
