/*
 * delivery.c — see delivery.h: the transfer thread (curl multi), the
 * signers, start and stop.  The store thread, which claims rows, makes
 * the transfers and records their outcomes, is in delivery_store.c; what
 * an outcome leads to is delivery_policy.c's.  This thread never waits
 * for the database (delivery_int.h).
 */
#include "delivery_int.h"
#include "followers_sync.h"
#include "httpsig.h"
#include "log.h"
#include "timeutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum bb_rc build_headers(const struct fetch_config *fc, const struct transfer *t,
				struct curl_slist **out, struct err *e);

static size_t host_active(const struct delivery_worker *w, const char *host)
{
	size_t n = 0;

	for (const struct transfer *t = w->active; t; t = t->next)
		if (strcmp(t->host, host) == 0)
			n++;
	return n;
}

/* Does a claimed delivery wait for host (to reuse a connection)? */
static bool host_waiting(const struct delivery_worker *w, const char *host)
{
	for (const struct transfer *t = w->waiting; t; t = t->next)
		if (strcmp(t->host, host) == 0)
			return true;
	return false;
}

/* A signing thread: signs what the claims hand over, hands it back. */
static void *signer_main(void *arg)
{
	struct delivery_worker *w = arg;

	pthread_mutex_lock(&w->sign_lock);
	for (;;) {
		struct transfer *t;
		struct err e = {0};

		while (w->to_sign == NULL && !w->sign_stop)
			pthread_cond_wait(&w->sign_work, &w->sign_lock);
		if (w->sign_stop)
			break;
		t = w->to_sign;
		w->to_sign = t->next;
		pthread_mutex_unlock(&w->sign_lock);
		/* A failure leaves presigned NULL: the worker signs it itself
		 * (and reports the error) when it starts the transfer. */
		if (build_headers(w->cfg.fetch, t, &t->presigned, &e) == BB_OK)
			t->presigned_scheme = t->scheme;
		pthread_mutex_lock(&w->sign_lock);
		t->next = w->signed_done;
		w->signed_done = t;
		curl_multi_wakeup(w->multi);
	}
	pthread_mutex_unlock(&w->sign_lock);
	return NULL;
}

/* Moves the transfers the signers finished, and those the store thread
 * handed over unsigned, to the waiting list. */
static void take_signed(struct delivery_worker *w)
{
	struct transfer *lists[2] = {NULL, NULL};

	if (w->nsigners > 0) {
		pthread_mutex_lock(&w->sign_lock);
		lists[0] = w->signed_done;
		w->signed_done = NULL;
		pthread_mutex_unlock(&w->sign_lock);
	}
	pthread_mutex_lock(&w->lock);
	lists[1] = w->incoming;
	w->incoming = NULL;
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < 2; i++) {
		for (struct transfer *t = lists[i], *next; t; t = next) {
			next = t->next;
			t->next = w->waiting;
			w->waiting = t;
			w->nwaiting++;
		}
	}
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n, room = RESPONSE_SNIPPET - t->snippet_len;

	if (room > len)
		room = len;
	memcpy(t->snippet + t->snippet_len, buf, room);
	t->snippet_len += room;
	t->snippet[t->snippet_len] = '\0';
	return len;
}

static bool add_header(struct curl_slist **list, const char *name, const char *value)
{
	char line[HTTPSIG_HEADER_MAX + 64];
	struct curl_slist *l;
	int n;

	if (value == NULL)
		return true;
	n = snprintf(line, sizeof(line), "%s: %s", name, value);
	if (n < 0 || (size_t)n >= sizeof(line))
		return false;
	l = curl_slist_append(*list, line);
	if (l == NULL)
		return false;
	*list = l;
	return true;
}

/* Signs t for its scheme now and makes its request headers into *out.
 * Reads only t's inbox, body, sync and scheme: safe on a signing thread. */
static enum bb_rc build_headers(const struct fetch_config *fc, const struct transfer *t,
				struct curl_slist **out, struct err *e)
{
	struct httpsig_signed s = {0};
	struct curl_slist *list = NULL;
	enum bb_rc rc;
	bool ok;

	*out = NULL;
	struct httpsig_header sync = {AP_SYNC_HEADER, t->sync};

	rc = httpsig_sign_extra(t->scheme, fc->key, fc->key_id, "POST", t->inbox,
				"application/activity+json", t->body, strlen(t->body),
				t->sync ? &sync : NULL, time(NULL), &s, e);
	if (rc != BB_OK)
		return rc;
	ok = add_header(&list, "Host", s.host) && add_header(&list, "Date", s.date) &&
	     add_header(&list, "Content-Type", "application/activity+json") &&
	     add_header(&list, "Accept", "application/activity+json") &&
	     add_header(&list, "Expect", "") &&
	     (t->scheme == HTTPSIG_CAVAGE
		  ? add_header(&list, "Digest", s.digest)
		  : add_header(&list, "Content-Digest", s.content_digest) &&
			add_header(&list, "Signature-Input", s.signature_input)) &&
	     add_header(&list, AP_SYNC_HEADER, t->sync) &&
	     add_header(&list, "Signature", s.signature);
	httpsig_signed_clear(&s);
	if (!ok) {
		curl_slist_free_all(list);
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	*out = list;
	return BB_OK;
}

/* Signs and starts t in the multi handle. */
static enum bb_rc transfer_start(struct delivery_worker *w, struct transfer *t, struct err *e)
{
	const struct fetch_config *fc = w->cfg.fetch;
	size_t len = strlen(t->body);
	enum bb_rc rc;

	if (t->h)
		curl_easy_cleanup(t->h);
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	t->snippet_len = 0;
	t->snippet[0] = '\0';
	t->errbuf[0] = '\0';
	t->retry_after = 0;
	t->h = curl_easy_init();
	if (t->h == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	if (t->presigned && t->presigned_scheme == t->scheme) {
		t->headers = t->presigned;
		t->presigned = NULL;
	} else {
		rc = build_headers(fc, t, &t->headers, e);
		if (rc != BB_OK)
			return rc;
	}
	t->guard.refused = false;
	rc = fetch_curl_policy_guard(t->h, fc, &t->guard, e);
	if (rc != BB_OK)
		return rc;
	/* libcurl walks its whole DNS cache and connection cache as transfers
	 * start and end; with thousands of hosts in a fan-out that walk cost
	 * more than the requests (measured with bench/fanout).  So no DNS
	 * cache, and a connection is kept only when another delivery to the
	 * same host waits for it. */
	if (!FETCH_SETOPT(t->h, CURLOPT_DNS_CACHE_TIMEOUT, 0L, e) ||
	    !FETCH_SETOPT(t->h, CURLOPT_FORBID_REUSE, host_waiting(w, t->host) ? 0L : 1L, e) ||
	    !FETCH_SETOPT(t->h, CURLOPT_URL, t->inbox, e) ||
	    !FETCH_SETOPT(t->h, CURLOPT_HTTPHEADER, t->headers, e) ||
	    !FETCH_SETOPT(t->h, CURLOPT_POSTFIELDS, t->body, e) ||
	    !FETCH_SETOPT(t->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len, e) ||
	    !FETCH_SETOPT(t->h, CURLOPT_WRITEFUNCTION, on_body, e) ||
	    !FETCH_SETOPT(t->h, CURLOPT_WRITEDATA, t, e) ||
	    !FETCH_SETOPT(t->h, CURLOPT_ERRORBUFFER, t->errbuf, e) ||
	    !FETCH_SETOPT(t->h, CURLOPT_PRIVATE, t, e))
		return BB_ERR_IO; /* e names the option */
	if (curl_multi_add_handle(w->multi, t->h) != CURLM_OK)
		return err_set(e, BB_ERR_IO, "cannot start the request");
	return BB_OK;
}

/* Moves waiting transfers whose host has room into flight. */
static void start_waiting(struct delivery_worker *w)
{
	struct transfer **pp = &w->waiting;
	unsigned per_host = w->per_host;

	while (*pp) {
		struct transfer *t = *pp;
		struct err e = {0};

		if (host_active(w, t->host) >= per_host) {
			pp = &t->next;
			continue;
		}
		*pp = t->next;
		w->nwaiting--;
		if (t->refused_url) {
			t->status = 0;
			t->result = CURLE_OK;
			delivery_outcome_push(w, t); /* recorded as refused */
			continue;
		}
		if (transfer_start(w, t, &e) != BB_OK) {
			/* Its lease is given back: claimed again. */
			log_error("delivery to %s: %s", t->inbox, e.msg);
			if (t->h)
				curl_easy_cleanup(t->h);
			t->h = NULL;
			t->abandoned = true;
			delivery_outcome_push(w, t);
			continue;
		}
		t->next = w->active;
		w->active = t;
		w->nactive++;
	}
}

static void unlink_active(struct delivery_worker *w, struct transfer *t)
{
	for (struct transfer **pp = &w->active; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			w->nactive--;
			return;
		}
	}
}

/* Takes finished transfers out of the multi handle: a 400/401 to one
 * scheme is retried at once with the other (double-knocking); the rest
 * go to the store thread to be recorded. */
static void collect(struct delivery_worker *w)
{
	struct err e = {0};
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
		struct transfer *t = NULL;
		long status = 0;
		curl_off_t retry_after = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t) !=
			CURLE_OK ||
		    t == NULL) {
			/* Cannot happen; the row's lease ends and it is sent again. */
			log_error("delivery: curl_easy_getinfo(CURLINFO_PRIVATE) failed");
			curl_multi_remove_handle(w->multi, msg->easy_handle);
			continue;
		}
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status) !=
		    CURLE_OK) {
			log_error("delivery to %s: no response code", t->inbox);
			status = 0; /* counted as a failed transfer: retried */
		}
		/* Retry-After as seconds or an HTTP date, made seconds from now
		 * by curl (RFC 9110 §10.2.3); 0 when absent or unparsable, and
		 * negative for a date past, taken as 0. */
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_RETRY_AFTER, &retry_after) !=
		    CURLE_OK)
			retry_after = 0;
		t->retry_after = retry_after > 0 ? (time_t)retry_after : 0;
		curl_multi_remove_handle(w->multi, msg->easy_handle);
		if (msg->data.result == CURLE_OK && (status == 400 || status == 401) &&
		    !t->knocked) {
			t->knocked = true;
			t->scheme = t->scheme == HTTPSIG_CAVAGE ? HTTPSIG_RFC9421 : HTTPSIG_CAVAGE;
			if (transfer_start(w, t, &e) == BB_OK)
				continue;
			log_error("delivery to %s: %s", t->inbox, e.msg);
		}
		unlink_active(w, t);
		t->status = status;
		t->result = msg->data.result;
		/* Its handle goes now: the store thread frees the transfer. */
		curl_easy_cleanup(t->h);
		t->h = NULL;
		delivery_outcome_push(w, t);
	}
}

static void *worker_main(void *arg)
{
	struct delivery_worker *w = arg;

	while (!atomic_load(&w->stopping)) {
		int running = 0, timeout = DELIVERY_POLL_MS;

		take_signed(w);
		start_waiting(w);
		if (curl_multi_perform(w->multi, &running) != CURLM_OK)
			log_error("delivery: curl_multi_perform failed");
		collect(w);
		if (w->nwaiting > 0 && (size_t)running < w->nactive)
			timeout = 10;
		/* Woken by the signers and the store thread as they hand over. */
		if (curl_multi_poll(w->multi, NULL, 0, timeout, NULL) != CURLM_OK)
			log_error("delivery: curl_multi_poll failed");
	}
	return NULL;
}

/* Stops and joins the signing threads; what they held is freed. */
static void stop_signers(struct delivery_worker *w)
{
	struct transfer *lists[2];

	pthread_mutex_lock(&w->sign_lock);
	w->sign_stop = true;
	pthread_cond_broadcast(&w->sign_work);
	pthread_mutex_unlock(&w->sign_lock);
	for (size_t i = 0; i < w->nsigners; i++)
		pthread_join(w->signers[i], NULL);
	w->nsigners = 0;
	lists[0] = w->to_sign;
	lists[1] = w->signed_done;
	w->to_sign = w->signed_done = NULL;
	for (size_t i = 0; i < 2; i++)
		transfer_list_free(lists[i]);
	pthread_mutex_destroy(&w->sign_lock);
	pthread_cond_destroy(&w->sign_work);
}

/* Frees what delivery_start made of w (no thread running). */
static void worker_free(struct delivery_worker *w)
{
	if (w->multi)
		curl_multi_cleanup(w->multi);
	store_close(w->st);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->store_work);
	free(w);
}

/* Creates the multi handle and the store connection. */
static enum bb_rc worker_open(struct delivery_worker *w, struct err *e)
{
	enum bb_rc rc = store_open(w->cfg.database, &w->st, e);

	if (rc != BB_OK)
		return rc;
	w->multi = curl_multi_init();
	if (w->multi == NULL)
		return err_set(e, BB_ERR_NOMEM, "cannot create the transfer set");
	/* Reuse connections; never more than DELIVERY_PER_HOST to one host. */
	if (curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)w->per_host) !=
	    CURLM_OK)
		return err_set(e, BB_ERR_IO, "cannot set CURLMOPT_MAX_HOST_CONNECTIONS");
	if (curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->max) != CURLM_OK)
		return err_set(e, BB_ERR_IO, "cannot set CURLMOPT_MAXCONNECTS");
	if (pthread_mutex_init(&w->sign_lock, NULL) != 0)
		return err_set(e, BB_ERR_NOMEM, "cannot create the signing lock");
	if (pthread_cond_init(&w->sign_work, NULL) != 0) {
		pthread_mutex_destroy(&w->sign_lock);
		return err_set(e, BB_ERR_NOMEM, "cannot create the signing condition");
	}
	return BB_OK;
}

enum bb_rc delivery_start(const struct delivery_config *cfg, struct delivery_worker **out,
			  struct err *e)
{
	struct delivery_worker *w = calloc(1, sizeof(*w));
	bool signing = false;
	long ncpu;
	enum bb_rc rc;

	*out = NULL;
	if (w == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot create the delivery lock");
	}
	if (pthread_cond_init(&w->store_work, NULL) != 0) {
		pthread_mutex_destroy(&w->lock);
		free(w);
		return err_set(e, BB_ERR_NOMEM, "cannot create the delivery condition");
	}
	w->cfg = *cfg;
	w->per_host = cfg->per_host ? cfg->per_host : DELIVERY_PER_HOST;
	w->max = cfg->inflight_max ? cfg->inflight_max : DELIVERY_INFLIGHT_MAX;
	rc = worker_open(w, e);
	if (rc != BB_OK)
		goto fail;
	signing = true;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	for (long i = 0; i < ncpu && i < DELIVERY_SIGNERS_MAX; i++) {
		if (pthread_create(&w->signers[w->nsigners], NULL, signer_main, w) != 0)
			break; /* fewer signers; the worker signs what they cannot */
		w->nsigners++;
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		rc = err_set(e, BB_ERR_NOMEM, "cannot start the delivery thread");
		goto fail;
	}
	rc = delivery_store_start(w, e);
	if (rc != BB_OK) {
		atomic_store(&w->stopping, true);
		curl_multi_wakeup(w->multi);
		pthread_join(w->thread, NULL);
		goto fail;
	}
	*out = w;
	return BB_OK;
fail:
	if (signing)
		stop_signers(w);
	worker_free(w);
	return rc;
}

void delivery_wake(struct delivery_worker *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->woken, true);
	pthread_mutex_lock(&w->lock);
	pthread_cond_signal(&w->store_work);
	pthread_mutex_unlock(&w->lock);
}

static void free_list(struct delivery_worker *w, struct transfer *t)
{
	while (t) {
		struct transfer *next = t->next;
		if (t->h)
			curl_multi_remove_handle(w->multi, t->h);
		transfer_free(t);
		t = next;
	}
}

void delivery_stop(struct delivery_worker *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->stopping, true);
	curl_multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	/* Records what finished, then gives back every lease still held:
	 * rows being signed, waiting or in flight are sent again by the next
	 * worker at once. */
	pthread_mutex_lock(&w->lock);
	pthread_cond_signal(&w->store_work);
	pthread_mutex_unlock(&w->lock);
	delivery_store_stop(w);
	stop_signers(w);
	free_list(w, w->active);
	free_list(w, w->waiting);
	transfer_list_free(w->incoming);
	transfer_list_free(w->outcomes);
	worker_free(w);
}
