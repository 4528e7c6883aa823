/*
 * authfetch.c — see authfetch.h.  Mastodon references:
 * app/controllers/concerns/signature_verification.rb (require_account_signature!,
 * "Request not signed"), app/controllers/concerns/account_controller_concern.rb
 * and app/controllers/activitypub/base_controller.rb (a suspended or
 * blocked domain gets 403).
 */
#include "authfetch.h"
#include "log.h"
#include "remote.h"
#include "url.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A keyId whose fetch (or refetch) failed, until when, and how. */
struct negative {
	char *key_id; /* owned; NULL: a free slot */
	time_t until;
	enum bb_rc rc; /* BB_ERR_AUTH or BB_ERR_TEMPFAIL, answered meanwhile */
};

struct authfetch {
	pthread_mutex_t lock;
	unsigned inflight; /* key fetches under way */
	struct negative neg[AUTHFETCH_NEGATIVE_SLOTS];
};

struct authfetch *authfetch_new(void)
{
	struct authfetch *g = calloc(1, sizeof(*g));

	if (g != NULL && pthread_mutex_init(&g->lock, NULL) != 0) {
		free(g);
		g = NULL;
	}
	return g;
}

void authfetch_free(struct authfetch *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < AUTHFETCH_NEGATIVE_SLOTS; i++)
		free(g->neg[i].key_id);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* FNV-1a: which slot a keyId takes.  Two keyIds on one slot evict each
 * other (the full string is compared), which costs a fetch, never a
 * wrong answer. */
static size_t slot_of(const char *key_id)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)key_id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h % AUTHFETCH_NEGATIVE_SLOTS);
}

/* Whether key_id failed recently; *rc then says how. */
static bool negative_get(struct authfetch *g, const char *key_id, time_t now, enum bb_rc *rc)
{
	struct negative *n = &g->neg[slot_of(key_id)];
	bool hit;

	pthread_mutex_lock(&g->lock);
	hit = n->key_id != NULL && n->until > now && strcmp(n->key_id, key_id) == 0;
	if (hit)
		*rc = n->rc;
	pthread_mutex_unlock(&g->lock);
	return hit;
}

/* Remembers that key_id failed with rc (a TEMPFAIL for a shorter time). */
static void negative_put(struct authfetch *g, const char *key_id, enum bb_rc rc, time_t now)
{
	struct negative *n = &g->neg[slot_of(key_id)];
	char *copy = strdup(key_id);

	if (copy == NULL)
		return; /* only a cache */
	pthread_mutex_lock(&g->lock);
	free(n->key_id);
	n->key_id = copy;
	n->rc = rc == BB_ERR_TEMPFAIL ? BB_ERR_TEMPFAIL : BB_ERR_AUTH;
	n->until =
	    now + (rc == BB_ERR_TEMPFAIL ? AUTHFETCH_TEMPFAIL_TTL_S : AUTHFETCH_NEGATIVE_TTL_S);
	pthread_mutex_unlock(&g->lock);
}

/* Takes one of the AUTHFETCH_FETCHES_MAX fetch places; false when all
 * are taken. */
static bool fetch_begin(struct authfetch *g)
{
	bool ok;

	pthread_mutex_lock(&g->lock);
	ok = g->inflight < AUTHFETCH_FETCHES_MAX;
	if (ok)
		g->inflight++;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

static void fetch_end(struct authfetch *g)
{
	pthread_mutex_lock(&g->lock);
	g->inflight--;
	pthread_mutex_unlock(&g->lock);
}

/* Whether m carries any signature header (a cavage Signature, RFC 9421
 * Signature-Input, or Authorization: Signature). */
static bool has_signature(const struct httpsig_message *m)
{
	for (size_t i = 0; i < m->header_count; i++) {
		const char *n = m->headers[i].name;
		if (strcasecmp(n, "signature") == 0 || strcasecmp(n, "signature-input") == 0 ||
		    (strcasecmp(n, "authorization") == 0 &&
		     strncasecmp(m->headers[i].value, "Signature ", 10) == 0))
			return true;
	}
	return false;
}

/* Whether id (an actor or key id; its fragment does not matter) or its
 * host is blocked, by the config or by the store; a URL without a host
 * counts as blocked (it can name no one).  The port is no part of a
 * blocked domain. */
static enum bb_rc id_blocked(struct store *st, const struct inbox_env *env, const char *id,
			     bool *blocked, struct err *e)
{
	char host[URL_HOST_KEY_MAX + 1], actor[FETCH_URL_MAX + 1];
	struct url u;
	char *colon;

	*blocked = true;
	if (url_parse(id, 0, &u, NULL) != BB_OK || u.has_userinfo)
		return BB_OK;
	url_host_port(&u, host);
	if (url_host_blocked(env->blocked_domains, host))
		return BB_OK;
	colon = strrchr(host, ':');
	if (colon != NULL && strchr(colon, ']') == NULL)
		*colon = '\0';
	/* Blocks name actors by id: the keyId without its fragment. */
	snprintf(actor, sizeof(actor), "%.*s", (int)strcspn(id, "#"), id);
	return store_block_matches(st, actor, host, blocked, e);
}

/* Verifies with pem (cached under key_id when the caller has a cache). */
static enum bb_rc verify_pem(const struct inbox_env *env, const struct httpsig *sig,
			     const struct httpsig_message *m, const char *key_id, const char *pem,
			     struct err *e)
{
	struct pubkey *pk = NULL;
	enum bb_rc rc = env->keys ? pubkey_cache_get(env->keys, key_id, pem, &pk, e)
				  : pubkey_from_pem(pem, &pk, e);

	if (rc != BB_OK)
		return err_set(e, BB_ERR_AUTH, "the key %.200s is unusable", key_id);
	rc = httpsig_verify(sig, m, pk, e);
	pubkey_free(pk);
	return rc;
}

/* Fetches the signer's key afresh (bounded, see authfetch.h) into
 * *signer.  A failure is remembered for the keyId. */
static enum bb_rc key_fetch(const struct inbox_env *env, struct authfetch *g, const char *key_id,
			    time_t now, struct store_actor *signer, struct err *e)
{
	struct fetch_config fc = *env->fetch;
	struct err ce = {0};
	enum bb_rc rc;

	if (negative_get(g, key_id, now, &rc))
		return rc == BB_ERR_TEMPFAIL
			   ? err_set(e, rc, "the key %.200s could not be fetched just now", key_id)
			   : err_set(e, rc, "Public key not found for key %.200s", key_id);
	if (!fetch_begin(g))
		return err_set(e, BB_ERR_TEMPFAIL, "too many key fetches at once");
	if (fc.timeout_s <= 0 || fc.timeout_s > AUTHFETCH_TIMEOUT_S)
		fc.timeout_s = AUTHFETCH_TIMEOUT_S;
	store_actor_clear(signer);
	rc = remote_key_fetch(&fc, key_id, now, signer, &ce);
	fetch_end(g);
	if (rc == BB_OK)
		return BB_OK;
	if (rc == BB_ERR_NOMEM) {
		*e = ce;
		return rc;
	}
	negative_put(g, key_id, rc, now);
	if (rc == BB_ERR_TEMPFAIL)
		return err_set(e, rc, "the key %.200s could not be fetched: %s", key_id, ce.msg);
	return err_set(e, BB_ERR_AUTH, "Public key not found for key %.200s: %s", key_id, ce.msg);
}

/* The signature of sig under its key: our own, a cached one (refetched
 * once when it fails: key rotation), or a fetched one.  *signer is the
 * key's owner; *fetched says whether it came from the network. */
static enum bb_rc verify_signer(struct store *st, const struct inbox_env *env, struct authfetch *g,
				const struct httpsig *sig, const struct httpsig_message *m,
				time_t now, struct store_actor *signer, bool *fetched,
				struct err *e)
{
	const char *key_id = httpsig_key_id(sig);
	enum bb_rc rc;

	*fetched = false;
	if (strcmp(key_id, env->site->key_id) == 0) {
		/* Our own key (the doctor's signed GETs): no fetch of ourselves. */
		rc = verify_pem(env, sig, m, key_id, env->site->cfg.public_key_pem, e);
		if (rc == BB_OK && (signer->id = strdup(env->site->actor_id)) == NULL)
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		return rc;
	}
	rc = store_actor_by_key(st, key_id, signer, e);
	if (rc == BB_OK) {
		rc = verify_pem(env, sig, m, key_id, signer->public_key_pem, e);
		if (rc != BB_ERR_AUTH)
			return rc;
	} else if (rc != BB_ERR_NOTFOUND) {
		return rc;
	}
	rc = key_fetch(env, g, key_id, now, signer, e);
	if (rc != BB_OK)
		return rc;
	*fetched = true;
	rc = verify_pem(env, sig, m, key_id, signer->public_key_pem, e);
	if (rc == BB_ERR_AUTH)
		negative_put(g, key_id, rc, now); /* no refetch per bad signature */
	return rc;
}

/* Not required: refused only when the claimed signer is blocked. */
static enum bb_rc check_claimed(struct store *st, const struct inbox_env *env,
				const struct httpsig_message *m, time_t now, struct err *e)
{
	struct store_actor owner = {0};
	struct httpsig *sig = NULL;
	struct err pe = {0};
	bool blocked = false;
	enum bb_rc rc;

	if (httpsig_parse(m, now, &sig, &pe) != BB_OK)
		return BB_OK; /* a public document: an unusable signature is ignored */
	rc = id_blocked(st, env, httpsig_key_id(sig), &blocked, e);
	if (rc == BB_OK && !blocked) {
		rc = store_actor_by_key(st, httpsig_key_id(sig), &owner, e);
		if (rc == BB_OK)
			rc = id_blocked(st, env, owner.id, &blocked, e);
		else if (rc == BB_ERR_NOTFOUND)
			rc = BB_OK;
	}
	if (rc == BB_OK && blocked)
		rc = err_set(e, BB_ERR_FORBIDDEN, "Instance is blocked");
	store_actor_clear(&owner);
	httpsig_free(sig);
	return rc;
}

/* Required: a signature that holds, by an actor not blocked; *who (may
 * be NULL) gets its id. */
static enum bb_rc check_required(struct store *st, const struct inbox_env *env, struct authfetch *g,
				 const struct httpsig_message *m, time_t now, char **who,
				 struct err *e)
{
	struct store_actor signer = {0};
	struct httpsig *sig = NULL;
	struct err ce = {0};
	bool blocked = false, fetched = false;
	enum bb_rc rc;

	rc = httpsig_parse(m, now, &sig, e);
	if (rc != BB_OK)
		goto out;
	/* A blocked server is refused before anything is fetched from it. */
	rc = id_blocked(st, env, httpsig_key_id(sig), &blocked, e);
	if (rc == BB_OK && blocked)
		rc = err_set(e, BB_ERR_FORBIDDEN, "Instance is blocked");
	if (rc != BB_OK)
		goto out;
	rc = verify_signer(st, env, g, sig, m, now, &signer, &fetched, e);
	if (rc != BB_OK)
		goto out;
	rc = id_blocked(st, env, signer.id, &blocked, e);
	if (rc == BB_OK && blocked)
		rc = err_set(e, BB_ERR_FORBIDDEN, "Instance is blocked");
	if (rc != BB_OK)
		goto out;
	if (fetched && store_actor_put(st, &signer, &ce) != BB_OK)
		log_warn("cannot cache actor %s: %s", signer.id, ce.msg);
	log_debug("GET %s signed by %s (%s%s)", m->target_uri, signer.id,
		  httpsig_scheme_of(sig) == HTTPSIG_CAVAGE ? "draft-cavage" : "RFC 9421",
		  fetched ? ", key fetched" : "");
	if (who != NULL && (*who = strdup(signer.id)) == NULL)
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
out:
	store_actor_clear(&signer);
	httpsig_free(sig);
	return rc;
}

enum bb_rc authfetch_check(struct store *st, const struct inbox_env *env, struct authfetch *g,
			   const struct httpsig_message *m, bool required, time_t now,
			   struct err *e)
{
	if (!has_signature(m))
		return required ? err_set(e, BB_ERR_AUTH, "Request not signed") : BB_OK;
	if (!required)
		return check_claimed(st, env, m, now, e);
	return check_required(st, env, g, m, now, NULL, e);
}

enum bb_rc authfetch_signer(struct store *st, const struct inbox_env *env, struct authfetch *g,
			    const struct httpsig_message *m, time_t now, char **who, struct err *e)
{
	*who = NULL;
	if (!has_signature(m))
		return err_set(e, BB_ERR_AUTH, "Request not signed");
	return check_required(st, env, g, m, now, who, e);
}
