/*
 * delivery_store.c — the delivery worker's store thread (delivery_int.h).
 *
 * Every database wait of the worker happens here, never on the transfer
 * thread: a claim or an outcome that waits for the write lock (up to the
 * busy timeout) delays only the next claim, not the transfers in flight.
 *
 * Leases.  Each start of the worker is a lease owner with a random
 * 128-bit id (store.h, "lease owners").  Leases are short
 * (DELIVERY_LEASE_S) and renewed with every heartbeat
 * (DELIVERY_HEARTBEAT_MS), so a crash holds rows for seconds, not minutes;
 * and at start the leases of owners that are known dead are released at
 * once: one on this host (same host name and pid namespace) whose process
 * is gone, or any whose heartbeat is older than DELIVERY_OWNER_GRACE_S.
 * A pid alone says nothing across hosts or containers, hence the grace
 * (see delivery.h): a live owner's heartbeat is never that late, and
 * while it is registered no claim takes its leases.  Every heartbeat also
 * reaps: a worker frees the rows of a dead one on its host within a
 * heartbeat, and of one on another host within the grace.
 *
 * Outcomes are recorded as soon as they arrive, many per transaction when
 * many arrive together, each in a savepoint of its own (all of its rows or
 * none).  A batch that cannot be written (the lock not had within the
 * busy timeout, the disk full, a write failing) is kept whole and tried
 * again, and the store thread backs off: no claim and no new try until
 * DELIVERY_TROUBLE_MIN_MS, doubling up to DELIVERY_TROUBLE_MAX_MS while
 * the trouble lasts, one log line a try; the first write that succeeds
 * ends it.  Nothing sent is forgotten meanwhile (its lease is renewed, and
 * its outcome waits in memory), so a full disk costs no resend.  A recorded outcome frees a slot,
 * and the next claim follows at once (DELIVERY_SLOT_GAP_MS, or more when
 * claims are costly), so one host's backlog drains at the pace of its
 * DELIVERY_PER_HOST connections, not one claim per DELIVERY_POLL_MS.
 */
#include "delivery_int.h"
#include "followers_sync.h"
#include "httpsig.h"
#include "log.h"
#include "rand.h"
#include "text.h"
#include "timeutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A wake-up brings the next claim forward, but not closer than this to the
 * last one: a burst of inbox requests makes a few claims, not one each. */
#define DELIVERY_CLAIM_GAP_MS 50
/* After outcomes freed slots: the next claim no sooner than this after the
 * last, nor than DELIVERY_CLAIM_DUTY times the last claim's cost (claims
 * walk every host with due rows, under the write lock). */
#define DELIVERY_SLOT_GAP_MS 2
#define DELIVERY_CLAIM_DUTY 4
/* How often the worker checks whether another process queued rows. */
#define DELIVERY_WATCH_MS 100
/* How often old rows are pruned (store_prune), the first time a minute in. */
#define DELIVERY_PRUNE_MS (3600 * 1000LL)
/* A batch that could not be recorded (or a claim that failed) is tried
 * again after this, doubled at each failure up to the maximum. */
#define DELIVERY_TROUBLE_MIN_MS 100
#define DELIVERY_TROUBLE_MAX_MS 10000

void transfer_free(struct transfer *t)
{
	if (t == NULL)
		return;
	if (t->h)
		curl_easy_cleanup(t->h);
	curl_slist_free_all(t->headers);
	curl_slist_free_all(t->presigned);
	free(t->inbox);
	free(t->queued_inbox);
	free(t->sync);
	free(t->host);
	free(t->body);
	free(t);
}

void transfer_list_free(struct transfer *t)
{
	while (t) {
		struct transfer *next = t->next;
		transfer_free(t);
		t = next;
	}
}

/* Gives what a claim collected, each with the signature scheme its host
 * accepted last, to the signing threads (or straight to the transfer
 * thread).  On the store thread. */
/* FEP-8fcf: the Collection-Synchronization of t's host when t is
 * addressed to our followers (followers_sync.h).  The digest of the host
 * before is kept for the next (a claim takes a host's rows together).
 * Without it the delivery goes as before. */
static void sync_header(struct delivery_worker *w, struct transfer *t, char last_host[],
			char last_hex[AP_SYNC_DIGEST_HEX])
{
	struct err e = {0};

	if (w->cfg.base_url == NULL || w->cfg.followers_url == NULL || t->refused_url ||
	    !ap_sync_addressed(t->body, w->cfg.followers_url))
		return;
	if (strcmp(last_host, t->host) != 0) {
		last_host[0] = '\0';
		if (ap_sync_digest(w->st, t->host, last_hex, NULL, &e) != BB_OK) {
			log_warn("delivery: followers digest of %s: %s", t->host, e.msg);
			return;
		}
		snprintf(last_host, DELIVERY_HOST_TEXT, "%s", t->host);
	}
	t->sync = ap_sync_header(w->cfg.base_url, w->cfg.followers_url, t->host, last_hex);
	if (t->sync == NULL)
		log_error("delivery: out of memory");
}

static void hand_over(struct delivery_worker *w, struct transfer *list)
{
	char last_host[DELIVERY_HOST_TEXT] = "", last_hex[AP_SYNC_DIGEST_HEX];

	while (list) {
		struct transfer *t = list;
		struct err e = {0};
		enum store_sig_scheme scheme = STORE_SIG_CAVAGE;

		list = t->next;
		t->next = NULL;
		if (store_host_scheme_get(w->st, t->host, &scheme, &e) == BB_OK)
			t->scheme = scheme == STORE_SIG_RFC9421 ? HTTPSIG_RFC9421 : HTTPSIG_CAVAGE;
		sync_header(w, t, last_host, last_hex);
		if (w->nsigners > 0 && !t->refused_url) {
			pthread_mutex_lock(&w->sign_lock);
			t->next = w->to_sign;
			w->to_sign = t;
			pthread_cond_signal(&w->sign_work);
			pthread_mutex_unlock(&w->sign_lock);
			continue;
		}
		pthread_mutex_lock(&w->lock);
		t->next = w->incoming;
		w->incoming = t;
		pthread_mutex_unlock(&w->lock);
		curl_multi_wakeup(w->multi);
	}
}

/* What one claim hands over.  The store is not used until the claim has
 * returned (a walk's callback must not use it). */
struct claim_batch {
	struct delivery_worker *w;
	struct transfer *head;
};

/* Claim callback: keep a copy of the row until it is sent.  A row it
 * cannot keep is given back (delivery_lost_push): the walk goes on. */
static enum bb_rc on_claimed(const struct store_delivery *d, void *arg, struct err *walk_e)
{
	struct claim_batch *b = arg;
	struct delivery_worker *w = b->w;
	struct transfer *t = calloc(1, sizeof(*t));
	struct err e = {0};

	(void)walk_e;
	if (t == NULL || !(t->host = strdup(d->host)) || !(t->body = strdup(d->body)) ||
	    !(t->queued_inbox = strdup(d->inbox)))
		goto nomem;
	t->id = d->id;
	t->attempts = d->attempts;
	/* What is signed must be what curl sends; a URL the policy refuses is
	 * kept as given and failed for good when its turn comes. */
	if (fetch_url_normalize(d->inbox, w->cfg.fetch->allow_private, &t->inbox, &e) != BB_OK) {
		t->refused_url = true;
		t->inbox = strdup(d->inbox);
	}
	if (t->inbox == NULL)
		goto nomem;
	t->next = b->head;
	b->head = t;
	w->inflight++;
	return BB_OK;
nomem:
	log_error("delivery: out of memory");
	transfer_free(t);
	delivery_lost_push(w, d->id);
	return BB_OK;
}

/* Whether a store error may pass once the database can be written again
 * (locked, full, a write failed): the batch is kept and tried again. */
static bool store_trouble(enum bb_rc rc)
{
	return rc == BB_ERR_BUSY || rc == BB_ERR_TEMPFAIL;
}

/* Records the outcome of t in the store (inside the caller's
 * transaction, in a savepoint of its own).  BB_OK, or the error: one that
 * store_trouble() calls passing leaves the transaction to roll back. */
static enum bb_rc record(struct delivery_worker *w, struct transfer *t, time_t now, struct err *e)
{
	long status = t->status;
	CURLcode cc = t->result;
	enum delivery_outcome o = t->guard.refused || t->refused_url
				      ? DELIVERY_DROP
				      : delivery_classify(status, cc != CURLE_OK);
	char raw[RESPONSE_SNIPPET + 64], why[4 * sizeof(raw)];
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
	rc = store_savepoint(w->st, e);
	if (rc != BB_OK)
		return rc;
	switch (o) {
	case DELIVERY_DONE:
		rc = store_delivery_done(w->st, t->id, (int)status, now, e);
		if (rc == BB_OK)
			rc = store_host_success(w->st, t->host, now, e);
		if (rc == BB_OK && t->knocked)
			rc = store_host_scheme_set(
			    w->st, t->host,
			    t->scheme == HTTPSIG_RFC9421 ? STORE_SIG_RFC9421 : STORE_SIG_CAVAGE, e);
		log_debug("delivered to %s (HTTP %ld)", t->inbox, status);
		break;
	case DELIVERY_GONE:
		rc = store_delivery_fail(w->st, t->id, (int)status, why, now, e);
		/* By the inbox as the follower published it: t->inbox is
		 * normalized for sending ("/a/../inbox" sent as "/inbox"). */
		if (rc == BB_OK)
			rc = store_follower_remove_by_inbox(w->st, t->queued_inbox, &removed, e);
		if (removed > 0)
			log_info("%s is gone (410): follower removed", t->inbox);
		break;
	case DELIVERY_DROP:
		rc = store_delivery_fail(w->st, t->id, (int)status, why, now, e);
		log_warn("delivery to %s refused: %s", t->inbox, raw);
		break;
	case DELIVERY_RETRY:
		if (t->attempts + 1 >= DELIVERY_ATTEMPTS_MAX) {
			rc = store_delivery_fail(w->st, t->id, (int)status, why, now, e);
			log_warn("giving up on %s after %d attempts: %s", t->inbox,
				 DELIVERY_ATTEMPTS_MAX, raw);
		} else {
			time_t next = now + delivery_backoff(t->attempts + 1, t->retry_after);
			rc = store_delivery_retry(w->st, t->id, (int)status, why, next, now, e);
			log_info("delivery to %s failed (%s); retry in %lds", t->inbox, raw,
				 (long)(next - now));
		}
		if (rc == BB_OK)
			rc = store_host_failure(w->st, t->host, now, &unavailable, e);
		if (unavailable)
			log_warn("%s failed on %d distinct days: marked unavailable", t->host,
				 STORE_HOST_FAILURE_DAYS);
		break;
	}
	/* All of this outcome's rows or none: a failure half-way must not
	 * leave the row done and its host's health unwritten. */
	if (rc == BB_OK)
		rc = store_savepoint_release(w->st, e);
	else
		store_savepoint_rollback(w->st);
	return rc;
}

/* Writes the outcomes of list (and gives back the leases of abandoned
 * ones and of lost ids) in one transaction.  False (e says why) when the
 * transaction could not be had or committed, or when a row met trouble
 * that may pass (store_trouble): nothing was written, try again.  A row
 * that fails otherwise (gone meanwhile) is logged and skipped. */
static bool record_batch(struct delivery_worker *w, struct transfer *list, const int64_t *lost,
			 size_t nlost, struct err *e)
{
	time_t now = time(NULL);
	enum bb_rc rc;

	if (store_begin(w->st, e) != BB_OK)
		return false;
	for (struct transfer *t = list; t; t = t->next) {
		rc = t->abandoned ? store_delivery_release(w->st, t->id, w->owner, e)
				  : record(w, t, now, e);
		if (store_trouble(rc))
			goto undo;
		if (rc != BB_OK)
			log_error("delivery %lld: %s", (long long)t->id, e->msg);
	}
	for (size_t i = 0; i < nlost; i++) {
		rc = store_delivery_release(w->st, lost[i], w->owner, e);
		if (store_trouble(rc))
			goto undo;
		if (rc != BB_OK)
			log_error("delivery %lld: %s", (long long)lost[i], e->msg);
	}
	if (store_commit(w->st, e) == BB_OK)
		return true;
undo:
	store_rollback(w->st);
	return false;
}

void delivery_outcome_push(struct delivery_worker *w, struct transfer *t)
{
	pthread_mutex_lock(&w->lock);
	t->next = w->outcomes;
	w->outcomes = t;
	pthread_cond_signal(&w->store_work);
	pthread_mutex_unlock(&w->lock);
}

void delivery_lost_push(struct delivery_worker *w, int64_t id)
{
	pthread_mutex_lock(&w->lock);
	if (w->nlost < DELIVERY_LOST_MAX)
		w->lost[w->nlost++] = id;
	else
		log_warn("delivery %lld: stays leased until this process ends", (long long)id);
	pthread_mutex_unlock(&w->lock);
}

/* Records what the transfer thread finished; true when something was
 * recorded (slots are free), *failed (e says why) when a batch must be
 * tried again. */
static bool drain_outcomes(struct delivery_worker *w, bool *failed, struct err *e)
{
	struct transfer *list;
	int64_t lost[DELIVERY_LOST_MAX];
	size_t nlost, n = 0;

	*failed = false;
	pthread_mutex_lock(&w->lock);
	list = w->outcomes;
	w->outcomes = NULL;
	nlost = w->nlost;
	memcpy(lost, w->lost, nlost * sizeof(*lost));
	w->nlost = 0;
	pthread_mutex_unlock(&w->lock);
	if (list == NULL && nlost == 0)
		return false;
	if (!record_batch(w, list, lost, nlost, e)) {
		/* Put back for the next try: an outcome is never dropped (its
		 * lease is renewed while we live, so it would wait forever). */
		pthread_mutex_lock(&w->lock);
		for (struct transfer *t = list, *next; t; t = next) {
			next = t->next;
			t->next = w->outcomes;
			w->outcomes = t;
		}
		for (size_t i = 0; i < nlost && w->nlost < DELIVERY_LOST_MAX; i++)
			w->lost[w->nlost++] = lost[i];
		pthread_mutex_unlock(&w->lock);
		*failed = true;
		return false;
	}
	for (struct transfer *t = list; t; t = t->next)
		n++;
	w->inflight -= n <= w->inflight ? n : w->inflight;
	transfer_list_free(list);
	return n > 0;
}

/* Owner-walk callback: collects the ids of owners on our host (same host
 * text) whose process is gone. */
struct dead_owners {
	const struct delivery_worker *w;
	char ids[DELIVERY_LOST_MAX][STORE_OWNER_ID_MAX + 1];
	size_t n;
};

static enum bb_rc on_owner(const struct store_owner *o, void *arg, struct err *e)
{
	struct dead_owners *d = arg;

	(void)e;
	if (strcmp(o->hostname, d->w->host_text) != 0 || strcmp(o->id, d->w->owner) == 0 ||
	    d->n >= DELIVERY_LOST_MAX)
		return BB_OK;
	/* Our own pid under another id: a dead process whose pid we got. */
	if (o->pid == (long)getpid() ||
	    (o->pid > 0 && kill((pid_t)o->pid, 0) == -1 && errno == ESRCH))
		snprintf(d->ids[d->n++], sizeof(d->ids[0]), "%s", o->id);
	return BB_OK;
}

/* Frees the leases of the owners on this host whose process is gone;
 * *released counts the rows. */
static enum bb_rc release_dead_here(struct delivery_worker *w, int64_t *released, struct err *e)
{
	struct dead_owners *dead = calloc(1, sizeof(*dead));
	int64_t n = 0;
	enum bb_rc rc;

	*released = 0;
	if (dead == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	dead->w = w;
	rc = store_owner_each(w->st, on_owner, dead, e);
	for (size_t i = 0; rc == BB_OK && i < dead->n; i++) {
		rc = store_owner_release(w->st, dead->ids[i], &n, e);
		*released += n;
	}
	free(dead);
	return rc;
}

/* Heartbeat: we live, our leases are extended; a dead owner's are freed. */
static void heartbeat(struct delivery_worker *w, time_t now)
{
	struct store_owner me = {w->owner, (long)getpid(), w->host_text, now};
	struct err e = {0};
	int64_t n = 0, here = 0;
	enum bb_rc rc;

	rc = store_owner_heartbeat(w->st, w->owner, now, now + DELIVERY_LEASE_S, NULL, &e);
	if (rc == BB_ERR_NOTFOUND) {
		/* Taken for dead (stopped longer than the grace): our leases
		 * went to others; what we still send may go twice. */
		log_warn("delivery: lease owner %s was taken for dead; registering again",
			 w->owner);
		rc = store_owner_register(w->st, &me, &e);
	}
	if (rc != BB_OK)
		log_warn("delivery: heartbeat: %s", e.msg);
	/* Another worker on this host that died (killed, crashed): its rows
	 * are free at once, not after the grace. */
	if (release_dead_here(w, &here, &e) != BB_OK)
		log_warn("delivery: releasing dead owners' leases: %s", e.msg);
	else if (store_owners_reap(w->st, now - DELIVERY_OWNER_GRACE_S, &n, &e) != BB_OK)
		log_warn("delivery: releasing dead owners' leases: %s", e.msg);
	else if (n + here > 0)
		log_info("delivery: released %lld leases of stopped workers",
			 (long long)(n + here));
}

/* One claim of up to room rows; *full when it filled room.  False (e
 * says why) when the claim failed in a way that may pass. */
static bool claim(struct delivery_worker *w, size_t room, bool *full, struct err *e)
{
	size_t before = w->inflight;
	struct claim_batch b = {w, NULL};
	enum bb_rc rc = store_delivery_claim(w->st, w->owner, time(NULL), DELIVERY_LEASE_S, room,
					     w->per_host, on_claimed, &b, e);

	if (rc != BB_OK && !store_trouble(rc))
		log_error("delivery: %s", e->msg);
	*full = w->inflight - before >= room;
	hand_over(w, b.head);
	return !store_trouble(rc);
}

/* The store thread's back-off while the database cannot be written: the
 * next try's time (monotonic ms) and the wait that led to it; 0 when all
 * is well. */
struct trouble {
	long long until, wait_ms;
};

/* A write failed with e: wait longer before the next. */
static void trouble_begin(struct trouble *t, long long now_ms, const char *what,
			  const struct err *e)
{
	t->wait_ms = t->wait_ms == 0 ? DELIVERY_TROUBLE_MIN_MS : t->wait_ms * 2;
	if (t->wait_ms > DELIVERY_TROUBLE_MAX_MS)
		t->wait_ms = DELIVERY_TROUBLE_MAX_MS;
	t->until = now_ms + t->wait_ms;
	log_warn("delivery: cannot %s (%s); next try in %lld ms", what, e->msg, t->wait_ms);
}

/* A write succeeded: the trouble, if any, is over. */
static void trouble_end(struct trouble *t)
{
	if (t->wait_ms != 0)
		log_info("delivery: the database can be written again");
	t->wait_ms = 0;
	t->until = 0;
}

/* The claim cadence and the clocks of the store thread. */
struct store_clock {
	long long next_claim, last_claim, claim_cost, next_watch, next_beat, next_prune;
	uint64_t changes;
};

/* Whether to claim now: due, and room for a good batch (a claim walks
 * every host with due rows, so claiming a handful at a time costs as much
 * as claiming hundreds). */
static bool claim_ready(const struct delivery_worker *w, long long now_ms, long long next_claim)
{
	size_t busy = w->inflight;

	return now_ms >= next_claim && busy < w->max && (busy == 0 || w->max - busy >= w->max / 2);
}

/* The periodic chores: another process's commits, pruning, heartbeat.
 * True when rows may have been queued elsewhere. */
static bool chores(struct delivery_worker *w, struct store_clock *c, long long now_ms)
{
	struct err e = {0};
	bool changed = false;

	if (now_ms >= c->next_beat) {
		heartbeat(w, time(NULL));
		c->next_beat = now_ms + DELIVERY_HEARTBEAT_MS;
	}
	if (now_ms >= c->next_prune) {
		int64_t removed = 0;
		if (store_prune(w->st, time(NULL), &removed, &e) != BB_OK)
			log_warn("delivery: pruning old rows: %s", e.msg);
		else if (removed > 0)
			log_info("pruned %lld old rows (received ids, finished deliveries)",
				 (long long)removed);
		c->next_prune = now_ms + DELIVERY_PRUNE_MS;
	}
	/* Rows queued by another process (`blogbridge poll`, `posts
	 * delete`) show as a change to the database, cheap to ask about
	 * every DELIVERY_WATCH_MS. */
	if (now_ms >= c->next_watch) {
		if (store_changes_since(w->st, &c->changes, &changed, &e) != BB_OK)
			changed = false;
		c->next_watch = now_ms + DELIVERY_WATCH_MS;
	}
	return changed;
}

/* Sleeps on store_work until `until` (monotonic ms) or a push; outcomes
 * waiting end the sleep only when `outcomes` says they may be recorded. */
static void store_wait(struct delivery_worker *w, long long until, bool outcomes)
{
	struct timespec ts;
	long long now = time_monotonic_ms();

	if (until <= now)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (until - now) / 1000;
	ts.tv_nsec += (until - now) % 1000 * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->lock);
	if ((!outcomes || (w->outcomes == NULL && w->nlost == 0)) && !atomic_load(&w->woken) &&
	    !atomic_load(&w->stopping))
		(void)pthread_cond_timedwait(&w->store_work, &w->lock, &ts);
	pthread_mutex_unlock(&w->lock);
}

static void *store_main(void *arg)
{
	struct delivery_worker *w = arg;
	long long now_ms = time_monotonic_ms();
	struct store_clock c = {.last_claim = -DELIVERY_CLAIM_GAP_MS,
				.next_beat = now_ms + DELIVERY_HEARTBEAT_MS,
				.next_prune = now_ms + 60 * 1000,
				.changes = STORE_CHANGES_START};
	struct trouble tr = {0, 0};

	while (!atomic_load(&w->stopping)) {
		long long until;
		bool freed = false, failed = false;
		bool poked = atomic_exchange(&w->woken, false);
		struct err e = {0};

		now_ms = time_monotonic_ms();
		/* In trouble, nothing is tried before its time: the outcomes
		 * wait in memory, no claim is made. */
		if (now_ms >= tr.until) {
			freed = drain_outcomes(w, &failed, &e);
			if (failed)
				trouble_begin(&tr, now_ms, "record what was sent", &e);
			else if (freed)
				trouble_end(&tr);
		}
		now_ms = time_monotonic_ms();
		if (chores(w, &c, now_ms))
			poked = true;
		if (poked && c.next_claim > c.last_claim + DELIVERY_CLAIM_GAP_MS)
			c.next_claim = c.last_claim + DELIVERY_CLAIM_GAP_MS;
		/* Slots freed: claim again as soon as that is cheap enough. */
		if (freed) {
			long long gap = DELIVERY_CLAIM_DUTY * c.claim_cost;
			if (gap < DELIVERY_SLOT_GAP_MS)
				gap = DELIVERY_SLOT_GAP_MS;
			if (c.next_claim > c.last_claim + gap)
				c.next_claim = c.last_claim + gap;
		}
		if (now_ms >= tr.until && claim_ready(w, now_ms, c.next_claim)) {
			bool full = false;
			if (claim(w, w->max - w->inflight, &full, &e))
				trouble_end(&tr);
			else
				trouble_begin(&tr, now_ms, "claim deliveries", &e);
			c.last_claim = now_ms;
			now_ms = time_monotonic_ms();
			c.claim_cost = now_ms - c.last_claim;
			/* A full claim means more may be due: look again soon. */
			c.next_claim =
			    c.last_claim + (full ? DELIVERY_CLAIM_GAP_MS : DELIVERY_POLL_MS);
		}
		until = c.next_watch < c.next_beat ? c.next_watch : c.next_beat;
		if (tr.until > now_ms) {
			/* Outcomes that arrive meanwhile wake store_wait; the
			 * loop above makes them wait for tr.until. */
			if (tr.until < until)
				until = tr.until;
		} else if (c.next_claim < until && claim_ready(w, c.next_claim, c.next_claim)) {
			until = c.next_claim;
		}
		store_wait(w, until, tr.until <= now_ms);
	}
	return NULL;
}

/* This host's name and pid namespace: pids compare only within both. */
static void host_text(char *out, size_t len)
{
	char name[256] = "", ns[64] = "";
	ssize_t n;

	if (gethostname(name, sizeof(name) - 1) != 0)
		snprintf(name, sizeof(name), "unknown");
	n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
	ns[n > 0 ? n : 0] = '\0';
	snprintf(out, len, "%.190s %.60s", name, ns);
}

/* Registers us, then frees the leases of the owners known dead. */
static enum bb_rc owner_setup(struct delivery_worker *w, struct err *e)
{
	time_t now = time(NULL);
	struct store_owner me = {w->owner, (long)getpid(), w->host_text, now};
	int64_t n = 0, here = 0;
	enum bb_rc rc;

	host_text(w->host_text, sizeof(w->host_text));
	rc = rand_hex(w->owner, DELIVERY_OWNER_BYTES);
	if (rc != BB_OK)
		return err_set(e, rc, "cannot make a lease owner id");
	rc = store_owner_register(w->st, &me, e);
	if (rc == BB_OK)
		rc = release_dead_here(w, &here, e);
	if (rc == BB_OK)
		rc = store_owners_reap(w->st, now - DELIVERY_OWNER_GRACE_S, &n, e);
	if (rc == BB_OK && here + n > 0)
		log_info("delivery: released %lld leases of stopped workers",
			 (long long)(here + n));
	return rc;
}

enum bb_rc delivery_store_start(struct delivery_worker *w, struct err *e)
{
	enum bb_rc rc = owner_setup(w, e);

	if (rc != BB_OK)
		return rc;
	if (pthread_create(&w->store_thread, NULL, store_main, w) != 0)
		return err_set(e, BB_ERR_NOMEM, "cannot start the delivery store thread");
	w->store_started = true;
	return BB_OK;
}

void delivery_store_stop(struct delivery_worker *w)
{
	struct err e = {0};
	bool failed = false;

	if (!w->store_started)
		return;
	pthread_cond_signal(&w->store_work);
	pthread_join(w->store_thread, NULL);
	w->store_started = false;
	/* What finished before the stop is recorded; every row still leased
	 * (claimed, not sent or not answered) is free for the next worker
	 * at once. */
	(void)drain_outcomes(w, &failed, &e);
	if (failed)
		log_warn("delivery: what was sent last is not recorded (%s): it goes again", e.msg);
	if (store_owner_release(w->st, w->owner, NULL, &e) != BB_OK)
		log_warn("delivery: giving back leases: %s", e.msg);
}
