/*
 * delivery_int.h — what the two halves of the delivery worker share.
 *
 * The worker has two threads and some signers.  The transfer thread
 * (delivery.c) runs the curl multi loop and never waits for the
 * database; the store thread (delivery_store.c) owns the worker's store
 * connection: it claims rows, records outcomes (each in a savepoint of
 * its own), heartbeats the lease owner and renews its leases.  They pass
 * transfers through lists under `lock`: claimed ones to the transfer
 * thread (through the signers when there are any), finished ones back.
 */
#ifndef BB_DELIVERY_INT_H
#define BB_DELIVERY_INT_H

#include "delivery.h"
#include "store.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#define RESPONSE_SNIPPET 200
/* At most this many signing threads (one per core). */
#define DELIVERY_SIGNERS_MAX 4
/* Rows lost to an allocation failure, kept for the store thread to
 * release (beyond this, their leases end with the process). */
#define DELIVERY_LOST_MAX 64
/* Random bytes of an owner id (128 bits), and the host text's size. */
#define DELIVERY_OWNER_BYTES 16
#define DELIVERY_HOST_TEXT (STORE_OWNER_HOST_MAX + 1)

struct transfer {
	int64_t id;
	char *inbox, *host, *body;
	char *queued_inbox; /* the inbox as queued (a follower's, as published) */
	char *sync;	    /* the Collection-Synchronization value, or NULL */
	int attempts;	    /* made before this one */
	int scheme;	    /* enum httpsig_scheme in use */
	bool knocked;	    /* already retried with the other scheme */
	bool refused_url;   /* the inbox URL is one the policy refuses */
	bool abandoned;	    /* not sent: give the lease back, no outcome */
	CURL *h;
	struct fetch_guard guard; /* did the policy refuse the address? */
	struct curl_slist *headers;
	struct curl_slist *presigned; /* headers signed ahead by a signer thread */
	int presigned_scheme;
	time_t retry_after; /* of the finished attempt, from CURLINFO_RETRY_AFTER */
	long status;	    /* of the finished attempt */
	CURLcode result;    /* of the finished attempt */
	char errbuf[CURL_ERROR_SIZE];
	char snippet[RESPONSE_SNIPPET + 1];
	size_t snippet_len;
	struct transfer *next;
};

struct delivery_worker {
	struct delivery_config cfg;
	unsigned max, per_host; /* cfg's, defaults applied */
	struct store *st;	/* the store thread's alone */
	CURLM *multi;
	pthread_t thread, store_thread;
	bool store_started;
	atomic_bool stopping;
	atomic_bool woken;
	/* Owner of our leases: a random id per start, and where we run. */
	char owner[2 * DELIVERY_OWNER_BYTES + 1];
	char host_text[DELIVERY_HOST_TEXT];
	/* Transfer thread's own. */
	struct transfer *waiting; /* claimed, not started (host at its cap) */
	struct transfer *active;  /* in the multi handle */
	size_t nwaiting, nactive;
	/* Between the threads, under lock; store_work wakes the store
	 * thread. */
	pthread_mutex_t lock;
	pthread_cond_t store_work;
	struct transfer *incoming; /* claimed, for the transfer thread */
	struct transfer *outcomes; /* finished or abandoned, to record */
	int64_t lost[DELIVERY_LOST_MAX];
	size_t nlost;
	/* Claimed and not yet recorded (store thread's count). */
	size_t inflight;
	/* Signing threads: RSA signing (about 0.4 ms a request) was most of
	 * the worker's time in a large fan-out, so claimed transfers are
	 * signed on other cores while this thread runs the transfers. */
	pthread_t signers[DELIVERY_SIGNERS_MAX];
	size_t nsigners;
	pthread_mutex_t sign_lock;
	pthread_cond_t sign_work;
	struct transfer *to_sign, *signed_done; /* guarded by sign_lock */
	bool sign_stop;				/* guarded by sign_lock */
};

/* A transfer's memory and handles (transfers are made by the claims of
 * the store thread). */
void transfer_free(struct transfer *t);

/* Frees a list of transfers (none in the multi handle). */
void transfer_list_free(struct transfer *t);

/* The store thread: sets up the owner (releasing the leases of dead ones)
 * on w->st, then starts the thread. */
enum bb_rc delivery_store_start(struct delivery_worker *w, struct err *e);

/* Joins the store thread after w->stopping was set: it records what was
 * queued, then gives back every lease it still holds. */
void delivery_store_stop(struct delivery_worker *w);

/* From the transfer thread: t finished (or is abandoned); never waits
 * for the database. */
void delivery_outcome_push(struct delivery_worker *w, struct transfer *t);

/* From a claim that could not keep row id: its lease is to be given back. */
void delivery_lost_push(struct delivery_worker *w, int64_t id);

#endif
