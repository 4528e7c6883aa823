/*
 * notify.c — the threads that send the admin's notifications (notify.h).
 *
 * Threads of their own, one for the mail and one for the webhook, rather
 * than easy handles on the delivery worker's curl multi: the worker's
 * loop is built around leased delivery rows, their signatures, per-host
 * caps and outcomes, and an SMTP dialogue (EHLO, AUTH, MAIL, RCPT, DATA)
 * is a transfer of another kind with its own retry rule.  Here each
 * transfer is a blocking curl_easy_perform bounded by a connect timeout
 * and a total timeout, and cut short when the bridge stops (the progress
 * callback); whatever the mail server or the hook does, it holds up its
 * own thread alone.  The threads share nothing with the others but the
 * database, where they read the waiting events and mark them, in
 * statements of their own (a few rows, through partial indexes).
 *
 * Each second, the webhook's thread sends the POSTs that are due, one at
 * a time (oldest due first); the mail's thread, when the mail may go (no
 * mail sent within NOTIFY_MAIL_INTERVAL_S, no failed attempt waiting out
 * its back-off), sends one mail with the events waiting.  When the last
 * mail went is kept in the store, so a restart does not send a second one
 * early.  Delivery is at least once: an event whose outcome could not be
 * recorded (the store busy) is sent again.
 */
#include "notify.h"
#include "log.h"
#include "rand.h"
#include "store.h"
#include "text.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOTIFY_POLL_MS 1000
#define NOTIFY_HOOK_BATCH 16
#define NOTIFY_ANSWER_MAX 4096 /* of a hook's answer, read and dropped */
#define META_MAIL_LAST "notify_mail_last"

struct notify_worker;

/* One thread per channel, so a hung mail server does not hold up the
 * webhook, nor the other way round. */
struct notify_chan {
	struct notify_worker *w;
	bool mail; /* the mail's thread, else the webhook's */
	bool started;
	pthread_t thread;
};

struct notify_worker {
	const struct config *cfg;
	unsigned char secret[KEY_SECRET_LEN];
	char user_agent[256];
	char from[320];
	char msg_host[256]; /* the host of base_url, without a port */
	struct notify_chan chan[2];
	pthread_mutex_t lock;
	pthread_cond_t wake;
	atomic_bool stop;
	/* The mail's schedule (the thread's own). */
	time_t mail_next;
	time_t mail_backoff;
};

enum bb_rc notify_secret_hex(const struct key *k, char out[2 * KEY_SECRET_LEN + 1], struct err *e)
{
	unsigned char s[KEY_SECRET_LEN];
	enum bb_rc rc = key_derive_secret(k, NOTIFY_SECRET_LABEL, s, e);

	if (rc != BB_OK)
		return rc;
	for (size_t i = 0; i < KEY_SECRET_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", s[i]);
	OPENSSL_cleanse(s, sizeof(s));
	return BB_OK;
}

/* curl's progress callback: a non-zero answer aborts the transfer. */
static int xfer_abort(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct notify_worker *w = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(&w->stop) ? 1 : 0;
}

static size_t answer_drop(char *p, size_t size, size_t n, void *arg)
{
	size_t *seen = arg;

	(void)p;
	*seen += size * n;
	return *seen > NOTIFY_ANSWER_MAX ? 0 : size * n;
}

/* What curl reads the mail from. */
struct upload {
	const char *data;
	size_t len, off;
};

static size_t upload_read(char *p, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t take = u->len - u->off;

	if (take > size * n)
		take = size * n;
	memcpy(p, u->data + u->off, take);
	u->off += take;
	return take;
}

/* The settings every transfer shares. */
static bool easy_common(struct notify_worker *w, CURL *c, long timeout_s, char *errbuf)
{
	return curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)NOTIFY_CONNECT_TIMEOUT_S) ==
		   CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xfer_abort) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_XFERINFODATA, w) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
}

/* Sends the message through [notify] smtp_url; false with why set. */
static bool smtp_send(struct notify_worker *w, const struct buf *msg, char *why, size_t n)
{
	char errbuf[CURL_ERROR_SIZE] = "", addr[340];
	struct upload u = {msg->data, msg->len, 0};
	struct curl_slist *rcpt = NULL;
	CURL *c = curl_easy_init();
	bool ok = false;
	CURLcode cc;

	snprintf(addr, sizeof(addr), "<%s>", w->cfg->mail_to);
	rcpt = curl_slist_append(NULL, addr);
	snprintf(addr, sizeof(addr), "<%s>", w->from);
	if (c == NULL || rcpt == NULL || !easy_common(w, c, NOTIFY_MAIL_TIMEOUT_S, errbuf) ||
	    curl_easy_setopt(c, CURLOPT_URL, w->cfg->smtp_url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK ||
	    /* smtp://: STARTTLS when the server offers it. */
	    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAIL_FROM, addr) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_READDATA, &u) != CURLE_OK) {
		snprintf(why, n, "cannot set up the transfer");
		goto out;
	}
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		/* The error, never the URL: it may hold the password. */
		text_escape_str(why, n, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	ok = true;
out:
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	return ok;
}

/* POSTs one event's JSON to the webhook, signed; false with why set. */
static bool hook_send(struct notify_worker *w, const struct store_notify_event *ev, char *why,
		      size_t n)
{
	static const char *const kinds[] = {"follow", "comment"};
	char errbuf[CURL_ERROR_SIZE] = "", hdr[160];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	struct curl_slist *h = NULL;
	size_t seen = 0, len = strlen(ev->json);
	CURL *c = curl_easy_init();
	bool ok = false;
	long status = 0;
	CURLcode cc;
	int off;

	if (HMAC(key_md_sha256(), w->secret, sizeof(w->secret), (const unsigned char *)ev->json,
		 len, mac, &maclen) == NULL) {
		snprintf(why, n, "cannot sign");
		goto out;
	}
	off = snprintf(hdr, sizeof(hdr), "%s: sha256=", NOTIFY_SIGNATURE_HEADER);
	for (unsigned i = 0; i < maclen; i++)
		off += snprintf(hdr + off, sizeof(hdr) - (size_t)off, "%02x", mac[i]);
	h = curl_slist_append(h, hdr);
	snprintf(hdr, sizeof(hdr), "X-Blogbridge-Event: %s",
		 kinds[ev->kind == STORE_NOTIFY_COMMENT]);
	h = h ? curl_slist_append(h, hdr) : NULL;
	snprintf(hdr, sizeof(hdr), "X-Blogbridge-Delivery: %lld", (long long)ev->id);
	h = h ? curl_slist_append(h, hdr) : NULL;
	h = h ? curl_slist_append(h, "Content-Type: application/json") : NULL;
	h = h ? curl_slist_append(h, "Expect:") : NULL;
	if (c == NULL || h == NULL || !easy_common(w, c, NOTIFY_HOOK_TIMEOUT_S, errbuf) ||
	    curl_easy_setopt(c, CURLOPT_URL, w->cfg->webhook) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, w->user_agent) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, ev->json) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, answer_drop) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen) != CURLE_OK) {
		snprintf(why, n, "cannot set up the transfer");
		goto out;
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status <= 299) {
		ok = true; /* an answer cut at NOTIFY_ANSWER_MAX is still a 2xx */
	} else if (cc != CURLE_OK) {
		text_escape_str(why, n, errbuf[0] ? errbuf : curl_easy_strerror(cc));
	} else {
		snprintf(why, n, "HTTP %ld", status);
	}
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return ok;
}

/* ---- the queues --------------------------------------------------------- */

/* Events copied out of a walk (the store may not be used inside it). */
struct ev_list {
	struct {
		int64_t id;
		enum store_notify_kind kind;
		int attempts;
		char *json;
	} ev[NOTIFY_MAIL_EVENTS_MAX];
	size_t n;
};

static enum bb_rc ev_collect(const struct store_notify_event *ev, void *arg, struct err *e)
{
	struct ev_list *l = arg;

	if (l->n == NOTIFY_MAIL_EVENTS_MAX)
		return BB_OK;
	l->ev[l->n].json = strdup(ev->json);
	if (l->ev[l->n].json == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	l->ev[l->n].id = ev->id;
	l->ev[l->n].kind = ev->kind;
	l->ev[l->n].attempts = ev->hook_attempts;
	l->n++;
	return BB_OK;
}

static void ev_list_clear(struct ev_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->ev[i].json);
	l->n = 0;
}

/* The due webhook POSTs, each sent and its outcome recorded. */
static void hooks_run(struct notify_worker *w, struct store *st, struct ev_list *l)
{
	time_t now = time(NULL);
	struct err e = {0};

	if (store_notify_hook_each(st, now, NOTIFY_HOOK_BATCH, ev_collect, l, &e) != BB_OK) {
		log_warn("notifications: %s", e.msg);
		goto out;
	}
	for (size_t i = 0; i < l->n && !atomic_load(&w->stop); i++) {
		struct store_notify_event ev = {
		    .id = l->ev[i].id, .kind = l->ev[i].kind, .json = l->ev[i].json};
		char why[256] = "";
		enum bb_rc rc;

		if (hook_send(w, &ev, why, sizeof(why))) {
			rc = store_notify_hook_sent(st, ev.id, &e);
		} else if (atomic_load(&w->stop)) {
			break; /* cut short: tried again at the next start */
		} else if (l->ev[i].attempts + 1 >= NOTIFY_HOOK_ATTEMPTS) {
			log_warn("webhook: giving up notification %lld: %s", (long long)ev.id, why);
			rc = store_notify_hook_fail(st, ev.id, why, &e);
		} else {
			time_t wait = NOTIFY_HOOK_RETRY_S;
			for (int a = 0; a < l->ev[i].attempts && wait < NOTIFY_HOOK_RETRY_MAX_S;
			     a++)
				wait *= 2;
			if (wait > NOTIFY_HOOK_RETRY_MAX_S)
				wait = NOTIFY_HOOK_RETRY_MAX_S;
			log_warn("webhook: notification %lld failed (%s), again in %lld s",
				 (long long)ev.id, why, (long long)wait);
			rc = store_notify_hook_retry(st, ev.id, time(NULL) + wait, why, &e);
		}
		if (rc != BB_OK)
			log_warn("notifications: %s", e.msg);
	}
out:
	ev_list_clear(l);
}

/* The mail, when it may go and something waits. */
static void mail_run(struct notify_worker *w, struct store *st, struct ev_list *l)
{
	const char *jsons[NOTIFY_MAIL_EVENTS_MAX];
	char admin[512], msg_id[33], why[256] = "";
	struct buf msg;
	struct err e = {0};
	time_t now = time(NULL);
	bool more = false;

	buf_init(&msg, 3 * NOTIFY_MAIL_MAX + 8192); /* quoted-printable at worst */
	if (now < w->mail_next)
		goto out;
	if (store_notify_mail_each(st, NOTIFY_MAIL_EVENTS_MAX, ev_collect, l, &more, &e) != BB_OK) {
		log_warn("notifications: %s", e.msg);
		goto out;
	}
	if (l->n == 0)
		goto out;
	for (size_t i = 0; i < l->n; i++)
		jsons[i] = l->ev[i].json;
	snprintf(admin, sizeof(admin), "%s/admin/comments", w->cfg->base_url);
	if (rand_hex(msg_id, 16) != BB_OK) {
		log_warn("notifications: no random source");
		goto out;
	}
	struct notify_mail m = {
	    .from = w->from,
	    .from_name = w->cfg->name,
	    .to = w->cfg->mail_to,
	    .host = w->msg_host,
	    .msg_id = msg_id,
	    .date = now,
	    .events = jsons,
	    .count = l->n,
	    .more = more,
	    .admin_url = admin,
	};
	/* Events of the longest texts may not all fit: fewer, and the rest
	 * in the next mail. */
	while (notify_mail_write(&m, &msg) != BB_OK) {
		buf_reset(&msg);
		if (m.count == 1) {
			log_warn("notifications: the mail could not be written");
			w->mail_next = time(NULL) + NOTIFY_MAIL_INTERVAL_S;
			goto out;
		}
		m.count /= 2;
		m.more = true;
	}
	if (!smtp_send(w, &msg, why, sizeof(why))) {
		if (atomic_load(&w->stop))
			goto out;
		w->mail_next = time(NULL) + w->mail_backoff;
		log_warn("mail to %s failed (%s), again in %lld s", w->cfg->mail_to, why,
			 (long long)w->mail_backoff);
		w->mail_backoff = w->mail_backoff * 2 > NOTIFY_MAIL_INTERVAL_S
				      ? NOTIFY_MAIL_INTERVAL_S
				      : w->mail_backoff * 2;
		goto out;
	}
	log_info("mailed %zu notification%s to %s", m.count, m.count == 1 ? "" : "s",
		 w->cfg->mail_to);
	now = time(NULL);
	w->mail_next = now + NOTIFY_MAIL_INTERVAL_S;
	w->mail_backoff = NOTIFY_MAIL_RETRY_S;
	{
		char last[24];
		snprintf(last, sizeof(last), "%lld", (long long)now);
		if (store_notify_mail_sent(st, l->ev[m.count - 1].id, &e) != BB_OK ||
		    store_meta_set(st, META_MAIL_LAST, last, &e) != BB_OK)
			log_warn("notifications: %s", e.msg);
	}
out:
	buf_free(&msg);
	ev_list_clear(l);
}

/* When the last mail went, from the store: the next may go an interval
 * after it. */
static void mail_schedule_load(struct notify_worker *w, struct store *st)
{
	struct err e = {0};
	char *last = NULL;
	int64_t t = 0;

	w->mail_backoff = NOTIFY_MAIL_RETRY_S;
	if (store_meta_get(st, META_MAIL_LAST, &last, &e) == BB_OK &&
	    text_int64_parse(last, 0, INT64_MAX / 2, &t))
		w->mail_next = (time_t)t + NOTIFY_MAIL_INTERVAL_S;
	free(last);
}

static void *notify_main(void *arg)
{
	struct notify_chan *ch = arg;
	struct notify_worker *w = ch->w;
	struct store *st = NULL;
	struct ev_list *l = calloc(1, sizeof(*l));
	time_t pruned = 0;
	struct err e = {0};

	if (l == NULL || store_open(w->cfg->database, &st, &e) != BB_OK) {
		log_error("notifications: %s", l ? e.msg : "out of memory");
		goto out;
	}
	if (ch->mail)
		mail_schedule_load(w, st);
	while (!atomic_load(&w->stop)) {
		struct timespec ts;
		time_t now = time(NULL);

		if (ch->mail)
			mail_run(w, st, l);
		else
			hooks_run(w, st, l);
		/* One thread prunes: the mail's, else the webhook's. */
		if ((ch->mail || w->cfg->mail_to == NULL) && now - pruned > 3600) {
			if (store_notify_prune(st, now - NOTIFY_PRUNE_AFTER_S,
					       now - NOTIFY_STALE_AFTER_S, NULL, &e) != BB_OK)
				log_warn("notifications: %s", e.msg);
			pruned = now;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += NOTIFY_POLL_MS / 1000;
		pthread_mutex_lock(&w->lock);
		if (!atomic_load(&w->stop))
			pthread_cond_timedwait(&w->wake, &w->lock, &ts);
		pthread_mutex_unlock(&w->lock);
	}
out:
	store_close(st);
	free(l);
	return NULL;
}

enum bb_rc notify_start(const struct config *cfg, const struct key *k, const char *user_agent,
			struct notify_worker **out, struct err *e)
{
	struct notify_worker *w;
	const char *colon;
	enum bb_rc rc;

	*out = NULL;
	if (cfg->mail_to == NULL && cfg->webhook == NULL)
		return BB_OK;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	w->cfg = cfg;
	snprintf(w->user_agent, sizeof(w->user_agent), "%s", user_agent);
	/* host is host[:port] (an IPv6 literal in brackets): the port goes. */
	colon = strrchr(cfg->host, ':');
	if (colon != NULL && strchr(colon, ']') == NULL)
		snprintf(w->msg_host, sizeof(w->msg_host), "%.*s", (int)(colon - cfg->host),
			 cfg->host);
	else
		snprintf(w->msg_host, sizeof(w->msg_host), "%s", cfg->host);
	if (cfg->mail_from)
		snprintf(w->from, sizeof(w->from), "%s", cfg->mail_from);
	else
		snprintf(w->from, sizeof(w->from), "%s@%s", cfg->handle, w->msg_host);
	rc = key_derive_secret(k, NOTIFY_SECRET_LABEL, w->secret, e);
	if (rc != BB_OK) {
		free(w);
		return rc;
	}
	atomic_init(&w->stop, false);
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot create a lock");
	}
	if (pthread_cond_init(&w->wake, NULL) != 0) {
		pthread_mutex_destroy(&w->lock);
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot create a condition");
	}
	w->chan[0] = (struct notify_chan){.w = w, .mail = true};
	w->chan[1] = (struct notify_chan){.w = w, .mail = false};
	for (size_t i = 0; i < 2; i++) {
		if ((i == 0 ? cfg->mail_to : cfg->webhook) == NULL)
			continue;
		if (pthread_create(&w->chan[i].thread, NULL, notify_main, &w->chan[i]) != 0) {
			notify_stop(w);
			return err_set(e, BB_ERR_NOMEM, "cannot start the notification thread");
		}
		w->chan[i].started = true;
	}
	*out = w;
	return BB_OK;
}

void notify_stop(struct notify_worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->stop, true);
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < 2; i++)
		if (w->chan[i].started)
			pthread_join(w->chan[i].thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	OPENSSL_cleanse(w->secret, sizeof(w->secret));
	free(w);
}
