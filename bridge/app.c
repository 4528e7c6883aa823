/*
 * app.c — see app.h.
 */
#include "app.h"
#include "log.h"
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void store_tls_close(void *p)
{
	store_close(p);
}

enum bb_rc app_open(struct config *cfg, struct app **out, struct err *e)
{
	struct app *app = NULL;
	struct store *st = NULL;
	struct ap_site_config sc;
	bool created = false;
	time_t published = 0;
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
	    .language = cfg->language,
	    .public_key_pem = key_public_pem(app->key),
	    .software_version = BB_VERSION,
	    .published = published,
	};
	rc = ap_site_init(&app->site, &sc, e);
	if (rc != BB_OK)
		goto out;
	app->actor_json = ap_actor_render(&app->site);
	app->webfinger_json = ap_webfinger_render(&app->site);
	app->host_meta_xml = ap_host_meta_render(&app->site);
	app->nodeinfo_links_json = ap_nodeinfo_links_render(&app->site);
	if (!app->actor_json || !app->webfinger_json || !app->host_meta_xml ||
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
	if (app->inbox.keys == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = app;
	app = NULL;
out:
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
	free(app->actor_json);
	free(app->webfinger_json);
	free(app->host_meta_xml);
	free(app->nodeinfo_links_json);
	ap_site_free(&app->site);
	pubkey_cache_free(app->inbox.keys);
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
