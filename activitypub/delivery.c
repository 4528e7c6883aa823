/*
 * delivery.c — see delivery.h.
 */
#include "delivery.h"
#include "httpsig.h"
#include "log.h"
#include "rand.h"
#include "store.h"
#include "text.h"
#include "timeutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESPONSE_SNIPPET 200
/* Outcomes are recorded in batches (see flush), and claims coalesced. */
#define DELIVERY_FLUSH_MS 100
#define DELIVERY_FLUSH_MAX 256
#define DELIVERY_CLAIM_GAP_MS 50
/* At most this many signing threads (one per core). */
#define DELIVERY_SIGNERS_MAX 4
/* How often the worker checks whether another process queued rows. */
#define DELIVERY_WATCH_MS 100
/* How often old rows are pruned (store_prune), the first time a minute in. */
#define DELIVERY_PRUNE_MS (3600 * 1000LL)

struct transfer {
	int64_t id;
	char *inbox, *host, *body;
	char *queued_inbox; /* the inbox as queued (a follower's, as published) */
	int attempts; /* made before this one */
	int scheme;   /* enum httpsig_scheme in use */
	bool knocked; /* already retried with the other scheme */
	bool refused_url; /* the inbox URL is one the policy refuses */
	CURL *h;
	struct fetch_guard guard; /* did the policy refuse the address? */
	struct curl_slist *headers;
	struct curl_slist *presigned; /* headers signed ahead by a signer thread */
	int presigned_scheme;
	time_t retry_after; /* of the finished attempt, from CURLINFO_RETRY_AFTER */
	long status;     /* of the finished attempt */
	CURLcode result; /* of the finished attempt */
	char errbuf[CURL_ERROR_SIZE];
	char snippet[RESPONSE_SNIPPET + 1];
	size_t snippet_len;
	struct transfer *next;
};

struct delivery_worker {
	struct delivery_config cfg;
	struct store *st;
	CURLM *multi;
	pthread_t thread;
	atomic_bool stopping;
	atomic_bool woken;
	struct transfer *waiting; /* claimed, not started (host at its cap) */
	struct transfer *active;  /* in the multi handle */
	struct transfer *finished; /* done, outcome not yet recorded */
	size_t nwaiting, nactive, nfinished, nsigning;
	/* Signing threads: RSA signing (about 0.4 ms a request) was most of
	 * the worker's time in a large fan-out, so claimed transfers are
	 * signed on other cores while this thread runs the transfers. */
	pthread_t signers[DELIVERY_SIGNERS_MAX];
	size_t nsigners;
	pthread_mutex_t sign_lock;
	pthread_cond_t sign_work;
	struct transfer *to_sign, *signed_done; /* guarded by sign_lock */
	bool sign_stop;                         /* guarded by sign_lock */
	long long finished_since; /* ms, when the oldest finished one ended */
};

static enum bb_rc build_headers(const struct fetch_config *fc, const struct transfer *t,
				struct curl_slist **out, struct err *e);

enum delivery_outcome delivery_classify(long status, bool transfer_failed)
{
	if (transfer_failed || status == 0)
		return DELIVERY_RETRY;
	if (status >= 200 && status < 300)
		return DELIVERY_DONE;
	if (status == 410)
		return DELIVERY_GONE;
	if (status == 401 || status == 408 || status == 429)
		return DELIVERY_RETRY;
	/* 501 is "unsalvageable" for Mastodon too (json_ld_helper.rb:349). */
	if (status >= 500 && status != 501)
		return DELIVERY_RETRY;
	return DELIVERY_DROP;
}

time_t delivery_backoff(int attempts, time_t retry_after)
{
	/* Mastodon's sidekiq_retry_in with n = retries so far, plus Sidekiq's
	 * own jitter (delivery_worker.rb:14-21). */
	uint64_t n = attempts > 0 ? (uint64_t)attempts - 1 : 0;
	uint64_t n4 = n * n * n * n;
	uint64_t delay = n4 + 15 + rand_below(n4 / 2 + 1) + rand_below(10 * (n + 1));

	if (retry_after > DELIVERY_RETRY_AFTER_MAX)
		retry_after = DELIVERY_RETRY_AFTER_MAX;
	if (retry_after > 0 && (uint64_t)retry_after > delay)
		delay = (uint64_t)retry_after;
	return (time_t)delay;
}

static void transfer_free(struct transfer *t)
{
	if (t == NULL)
		return;
	if (t->h)
		curl_easy_cleanup(t->h);
	curl_slist_free_all(t->headers);
	curl_slist_free_all(t->presigned);
	free(t->inbox);
	free(t->queued_inbox);
	free(t->host);
	free(t->body);
	free(t);
}

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

/* What one claim hands over, in claim order.  The store is not used
 * until the claim has returned (a walk's callback must not use it). */
struct claim_batch {
	struct delivery_worker *w;
	struct transfer *head, **tail;
};

/* Claim callback: keep a copy of the row until it is sent.  A row it
 * cannot keep stays leased, to be claimed again: the walk goes on. */
static enum bb_rc on_claimed(const struct store_delivery *d, void *arg, struct err *walk_e)
{
	struct claim_batch *b = arg;
	struct delivery_worker *w = b->w;
	struct transfer *t = calloc(1, sizeof(*t));
	struct err e = {0};

	(void)walk_e;
	if (t == NULL || !(t->host = strdup(d->host)) || !(t->body = strdup(d->body)) ||
	    !(t->queued_inbox = strdup(d->inbox))) {
		/* Left leased: it is claimed again when the lease ends. */
		log_error("delivery: out of memory");
		transfer_free(t);
		return BB_OK;
	}
	t->id = d->id;
	t->attempts = d->attempts;
	/* What is signed must be what curl sends; a URL the policy refuses is
	 * kept as given and failed for good when its turn comes. */
	if (fetch_url_normalize(d->inbox, w->cfg.fetch->allow_private, &t->inbox, &e) != BB_OK) {
		t->refused_url = true;
		t->inbox = strdup(d->inbox);
	}
	if (t->inbox == NULL) {
		log_error("delivery: out of memory");
		transfer_free(t);
		return BB_OK;
	}
	*b->tail = t;
	b->tail = &t->next;
	return BB_OK;
}

/* Gives what a claim collected, each with the signature scheme its host
 * accepted last, to the signing threads (or straight to the waiting
 * list). */
static void hand_over(struct delivery_worker *w, struct transfer *list)
{
	while (list) {
		struct transfer *t = list;
		struct err e = {0};
		enum store_sig_scheme scheme = STORE_SIG_CAVAGE;

		list = t->next;
		t->next = NULL;
		if (store_host_scheme_get(w->st, t->host, &scheme, &e) == BB_OK)
			t->scheme = scheme == STORE_SIG_RFC9421 ? HTTPSIG_RFC9421 : HTTPSIG_CAVAGE;
		if (w->nsigners > 0 && !t->refused_url) {
			pthread_mutex_lock(&w->sign_lock);
			t->next = w->to_sign;
			w->to_sign = t;
			pthread_cond_signal(&w->sign_work);
			pthread_mutex_unlock(&w->sign_lock);
			w->nsigning++;
			continue;
		}
		t->next = w->waiting;
		w->waiting = t;
		w->nwaiting++;
	}
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

/* Moves the transfers the signers finished to the waiting list. */
static void take_signed(struct delivery_worker *w)
{
	struct transfer *t;

	if (w->nsigners == 0)
		return;
	pthread_mutex_lock(&w->sign_lock);
	t = w->signed_done;
	w->signed_done = NULL;
	pthread_mutex_unlock(&w->sign_lock);
	while (t) {
		struct transfer *next = t->next;
		t->next = w->waiting;
		w->waiting = t;
		w->nwaiting++;
		w->nsigning--;
		t = next;
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
 * Reads only t's inbox, body and scheme: safe on a signing thread. */
static enum bb_rc build_headers(const struct fetch_config *fc, const struct transfer *t,
				struct curl_slist **out, struct err *e)
{
	struct httpsig_signed s = {0};
	struct curl_slist *list = NULL;
	enum bb_rc rc;
	bool ok;

	*out = NULL;
	rc = httpsig_sign(t->scheme, fc->key, fc->key_id, "POST", t->inbox,
			  "application/activity+json", t->body, strlen(t->body), time(NULL), &s, e);
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

static void record(struct delivery_worker *w, struct transfer *t, long status, CURLcode cc,
		   time_t now);

/* Moves waiting transfers whose host has room into flight. */
static void start_waiting(struct delivery_worker *w)
{
	struct transfer **pp = &w->waiting;
	unsigned per_host = w->cfg.per_host ? w->cfg.per_host : DELIVERY_PER_HOST;

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
			record(w, t, 0, CURLE_OK, time(NULL));
			transfer_free(t);
			continue;
		}
		if (transfer_start(w, t, &e) != BB_OK) {
			/* Left leased; claimed again later. */
			log_error("delivery to %s: %s", t->inbox, e.msg);
			transfer_free(t);
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

/* Records the outcome of t in the store (inside the caller's
 * transaction). */
static void record(struct delivery_worker *w, struct transfer *t, long status, CURLcode cc,
		   time_t now)
{
	enum delivery_outcome o = t->guard.refused || t->refused_url
				      ? DELIVERY_DROP
				      : delivery_classify(status, cc != CURLE_OK);
	char raw[RESPONSE_SNIPPET + 64], why[4 * sizeof(raw)];
	struct err e = {0};
	bool unavailable = false;
	enum bb_rc rc = BB_OK;
	int64_t removed = 0;

	if (t->refused_url || t->guard.refused)
		snprintf(raw, sizeof(raw), "address refused (private or not https)");
	else if (cc != CURLE_OK)
		snprintf(raw, sizeof(raw), "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(cc));
	else
		snprintf(raw, sizeof(raw), "HTTP %ld %s", status, t->snippet);
	/* The peer wrote the body (and curl's text names its host): stored
	 * escaped, the reason `blogbridge deliveries` shows is one line with
	 * no control bytes.  Logs get raw, which log_msg escapes itself. */
	text_escape_str(why, sizeof(why), raw);
	switch (o) {
	case DELIVERY_DONE:
		rc = store_delivery_done(w->st, t->id, (int)status, now, &e);
		if (rc == BB_OK)
			rc = store_host_success(w->st, t->host, now, &e);
		if (rc == BB_OK && t->knocked)
			rc = store_host_scheme_set(w->st, t->host,
						   t->scheme == HTTPSIG_RFC9421 ? STORE_SIG_RFC9421
										: STORE_SIG_CAVAGE,
						   &e);
		log_debug("delivered to %s (HTTP %ld)", t->inbox, status);
		break;
	case DELIVERY_GONE:
		rc = store_delivery_fail(w->st, t->id, (int)status, why, now, &e);
		/* By the inbox as the follower published it: t->inbox is
		 * normalized for sending ("/a/../inbox" sent as "/inbox"). */
		if (rc == BB_OK)
			rc = store_follower_remove_by_inbox(w->st, t->queued_inbox, &removed, &e);
		if (removed > 0)
			log_info("%s is gone (410): follower removed", t->inbox);
		break;
	case DELIVERY_DROP:
		rc = store_delivery_fail(w->st, t->id, (int)status, why, now, &e);
		log_warn("delivery to %s refused: %s", t->inbox, raw);
		break;
	case DELIVERY_RETRY:
		if (t->attempts + 1 >= DELIVERY_ATTEMPTS_MAX) {
			rc = store_delivery_fail(w->st, t->id, (int)status, why, now, &e);
			log_warn("giving up on %s after %d attempts: %s", t->inbox,
				 DELIVERY_ATTEMPTS_MAX, raw);
		} else {
			time_t next = now + delivery_backoff(t->attempts + 1, t->retry_after);
			rc = store_delivery_retry(w->st, t->id, (int)status, why, next, now, &e);
			log_info("delivery to %s failed (%s); retry in %lds", t->inbox, raw,
				 (long)(next - now));
		}
		if (rc == BB_OK)
			rc = store_host_failure(w->st, t->host, now, &unavailable, &e);
		if (unavailable)
			log_warn("%s failed on %d distinct days: marked unavailable", t->host,
				 STORE_HOST_FAILURE_DAYS);
		break;
	}
	if (rc != BB_OK)
		log_error("delivery %lld: %s", (long long)t->id, e.msg);
}

/* Records the finished transfers in one transaction.  Outcomes are
 * gathered for up to DELIVERY_FLUSH_MS (or DELIVERY_FLUSH_MAX of them) so
 * the worker takes the write lock a few times a second, not once per
 * response, and never starves the inbox's writer. */
static void flush(struct delivery_worker *w)
{
	struct transfer *done = w->finished;
	struct err e = {0};
	time_t now = time(NULL);

	if (done == NULL)
		return;
	w->finished = NULL;
	w->nfinished = 0;
	if (store_begin(w->st, &e) != BB_OK) {
		log_error("delivery: %s", e.msg);
		/* Nothing recorded: the leases expire and the rows are sent again. */
	} else {
		for (struct transfer *t = done; t; t = t->next)
			record(w, t, t->status, t->result, now);
		if (store_commit(w->st, &e) != BB_OK) {
			log_error("delivery: %s", e.msg);
			store_rollback(w->st);
		}
	}
	while (done) {
		struct transfer *next = done->next;
		transfer_free(done);
		done = next;
	}
}

/* Takes finished transfers out of the multi handle: a 400/401 to one
 * scheme is retried at once with the other (double-knocking); the rest
 * wait in w->finished for flush. */
static void collect(struct delivery_worker *w, long long now_ms)
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
		if (w->finished == NULL)
			w->finished_since = now_ms;
		t->next = w->finished;
		w->finished = t;
		w->nfinished++;
	}
}

/* Whether to claim now: due, and room for a good batch (a claim walks
 * every host with due rows, so claiming a handful at a time costs as much
 * as claiming hundreds). */
static bool claim_ready(const struct delivery_worker *w, unsigned max, long long now_ms,
			long long next_claim)
{
	size_t busy = w->nactive + w->nwaiting + w->nsigning;

	return now_ms >= next_claim && busy < max && (busy == 0 || max - busy >= max / 2);
}

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *worker_main(void *arg)
{
	struct delivery_worker *w = arg;
	unsigned max = w->cfg.inflight_max ? w->cfg.inflight_max : DELIVERY_INFLIGHT_MAX;
	unsigned per_host = w->cfg.per_host ? w->cfg.per_host : DELIVERY_PER_HOST;
	long long next_claim = 0, last_claim = -DELIVERY_CLAIM_GAP_MS, next_watch = 0; /* ms */
	long long next_prune = monotonic_ms() + 60 * 1000;
	uint64_t changes = STORE_CHANGES_START;

	while (!atomic_load(&w->stopping)) {
		long long now_ms = monotonic_ms();
		int running = 0, timeout = DELIVERY_POLL_MS;
		bool poked = atomic_exchange(&w->woken, false);

		/* Rows queued by another process (`blogbridge poll`, `posts
		 * delete`) show as a change to the database, cheap to ask
		 * about every DELIVERY_WATCH_MS. */
		if (now_ms >= next_watch) {
			struct err e = {0};
			bool changed = false;
			if (store_changes_since(w->st, &changes, &changed, &e) == BB_OK && changed)
				poked = true;
			next_watch = now_ms + DELIVERY_WATCH_MS;
		}
		if (now_ms >= next_prune) {
			struct err e = {0};
			int64_t removed = 0;
			if (store_prune(w->st, time(NULL), &removed, &e) != BB_OK)
				log_warn("delivery: pruning old rows: %s", e.msg);
			else if (removed > 0)
				log_info("pruned %lld old rows (received ids, finished deliveries)",
					 (long long)removed);
			next_prune = now_ms + DELIVERY_PRUNE_MS;
		}
		/* A wake-up brings the next claim forward, but not closer than
		 * DELIVERY_CLAIM_GAP_MS to the last one: a burst of inbox
		 * requests makes a few claims, not one each. */
		if (poked && next_claim > last_claim + DELIVERY_CLAIM_GAP_MS)
			next_claim = last_claim + DELIVERY_CLAIM_GAP_MS;
		if (claim_ready(w, max, now_ms, next_claim)) {
			struct err e = {0};
			size_t room = max - (w->nactive + w->nwaiting + w->nsigning);
			size_t before = w->nwaiting + w->nsigning;
			struct claim_batch batch = {w, NULL, &batch.head};
			if (store_delivery_claim(w->st, NULL, time(NULL), DELIVERY_LEASE_S, room,
						 per_host, on_claimed, &batch, &e) != BB_OK)
				log_error("delivery: %s", e.msg);
			hand_over(w, batch.head);
			/* A full claim means more may be due: look again soon. */
			last_claim = now_ms;
			next_claim = now_ms + (w->nwaiting + w->nsigning - before >= room
						   ? DELIVERY_CLAIM_GAP_MS
						   : DELIVERY_POLL_MS);
		}
		take_signed(w);
		start_waiting(w);
		if (curl_multi_perform(w->multi, &running) != CURLM_OK)
			log_error("delivery: curl_multi_perform failed");
		collect(w, now_ms);
		if (w->finished && (w->nfinished >= DELIVERY_FLUSH_MAX ||
				    now_ms - w->finished_since >= DELIVERY_FLUSH_MS))
			flush(w);
		if (w->nwaiting > 0 && (size_t)running < w->nactive)
			timeout = 10;
		if (w->finished && timeout > DELIVERY_FLUSH_MS)
			timeout = DELIVERY_FLUSH_MS;
		if (next_watch - now_ms < timeout)
			timeout = next_watch > now_ms ? (int)(next_watch - now_ms) : 0;
		/* Slots freed by what just finished: claim again at once
		 * rather than after a poll interval. */
		if (claim_ready(w, max, monotonic_ms(), next_claim))
			timeout = 0;
		else if (next_claim > now_ms && next_claim - now_ms < timeout)
			timeout = (int)(next_claim - now_ms);
		if (curl_multi_poll(w->multi, NULL, 0, timeout, NULL) != CURLM_OK)
			log_error("delivery: curl_multi_poll failed");
	}
	flush(w); /* what finished before the stop is recorded */
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
	for (size_t i = 0; i < 2; i++) {
		while (lists[i]) {
			struct transfer *next = lists[i]->next;
			transfer_free(lists[i]);
			lists[i] = next;
		}
	}
	pthread_mutex_destroy(&w->sign_lock);
	pthread_cond_destroy(&w->sign_work);
}

enum bb_rc delivery_start(const struct delivery_config *cfg, struct delivery_worker **out,
			  struct err *e)
{
	struct delivery_worker *w = calloc(1, sizeof(*w));
	long per_host = (long)(cfg->per_host ? cfg->per_host : DELIVERY_PER_HOST);
	long maxconnects = (long)(cfg->inflight_max ? cfg->inflight_max : DELIVERY_INFLIGHT_MAX);
	long ncpu;
	enum bb_rc rc;

	*out = NULL;
	if (w == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	w->cfg = *cfg;
	rc = store_open(cfg->database, &w->st, e);
	if (rc != BB_OK)
		goto fail;
	w->multi = curl_multi_init();
	if (w->multi == NULL) {
		rc = err_set(e, BB_ERR_NOMEM, "cannot create the transfer set");
		goto fail;
	}
	/* Reuse connections; never more than DELIVERY_PER_HOST to one host. */
	if (curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, per_host) != CURLM_OK) {
		rc = err_set(e, BB_ERR_IO, "cannot set CURLMOPT_MAX_HOST_CONNECTIONS");
		goto fail;
	}
	if (curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, maxconnects) != CURLM_OK) {
		rc = err_set(e, BB_ERR_IO, "cannot set CURLMOPT_MAXCONNECTS");
		goto fail;
	}
	if (pthread_mutex_init(&w->sign_lock, NULL) != 0) {
		rc = err_set(e, BB_ERR_NOMEM, "cannot create the signing lock");
		goto fail;
	}
	if (pthread_cond_init(&w->sign_work, NULL) != 0) {
		pthread_mutex_destroy(&w->sign_lock);
		rc = err_set(e, BB_ERR_NOMEM, "cannot create the signing condition");
		goto fail;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	for (long i = 0; i < ncpu && i < DELIVERY_SIGNERS_MAX; i++) {
		if (pthread_create(&w->signers[w->nsigners], NULL, signer_main, w) != 0)
			break; /* fewer signers; the worker signs what they cannot */
		w->nsigners++;
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		stop_signers(w);
		rc = err_set(e, BB_ERR_NOMEM, "cannot start the delivery thread");
		goto fail;
	}
	*out = w;
	return BB_OK;
fail:
	if (w->multi)
		curl_multi_cleanup(w->multi);
	store_close(w->st);
	free(w);
	return rc;
}

void delivery_wake(struct delivery_worker *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->woken, true);
	curl_multi_wakeup(w->multi);
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
	/* Transfers still being signed were never sent: their rows stay
	 * leased and are claimed again when the lease ends. */
	stop_signers(w);
	/* Unsent rows stay leased in the store and are claimed again when
	 * their lease ends. */
	free_list(w, w->active);
	free_list(w, w->waiting);
	curl_multi_cleanup(w->multi);
	store_close(w->st);
	free(w);
}
