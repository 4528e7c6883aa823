/*
 * remote.c — see remote.h.  Mastodon references: app/services/activitypub/
 * fetch_remote_key_service.rb (actor or standalone key, owner checks),
 * fetch_remote_actor_service.rb (id, type, @context),
 * process_account_service.rb (inbox, sharedInbox, publicKey, the WebFinger
 * round trip), app/helpers/json_ld_helper.rb (valid_activitypub_content_type?,
 * `json['id'] == uri`), app/lib/webfinger.rb (the self link types).
 *
 * Documents are parsed once into a struct actor_doc whose strings borrow
 * from the JSON tree; the store_actor handed back owns copies.  Every
 * refusal says which document and which rule.
 */
#include "remote.h"
#include "buf.h"
#include "log.h"
#include "site.h"
#include "url.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SECURITY_CONTEXT "https://w3id.org/security/v1"
#define WEBFINGER_ACCEPT "application/jrd+json, application/json"
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const actor_types[] = {"Application", "Group", "Organization", "Person",
					  "Service"};

/* The self link types Mastodon accepts, compared as whole strings. */
static const char *const webfinger_self_types[] = {
	"application/activity+json",
	"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
};

/* An actor document, checked; strings borrowed from root. */
struct actor_doc {
	json_t *root;
	const char *id;
	const char *inbox;
	const char *shared_inbox; /* NULL when none */
	const char *username;     /* preferredUsername, NULL when none */
	const char *name;         /* display name, NULL when none */
	const char *avatar;       /* icon URL, NULL when none */
	const char *profile;      /* url (the profile page), NULL when none */
	json_t *keys[REMOTE_KEYS_MAX];
	size_t nkeys;
};

static void actor_doc_free(struct actor_doc *a)
{
	json_decref(a->root);
	memset(a, 0, sizeof(*a));
}

/* ---- small checks ---------------------------------------------------- */

/* The string member key of o, or NULL (o not an object, key absent or not
 * a string). */
static const char *str_member(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool str_in(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* True when member key of o is a string in list, or an array holding one. */
static bool member_has(const json_t *o, const char *key, const char *const *list, size_t n)
{
	const json_t *v = json_object_get(o, key), *item;
	size_t i;

	if (json_is_string(v))
		return str_in(json_string_value(v), list, n);
	json_array_foreach(v, i, item) {
		if (str_in(json_string_value(item), list, n))
			return true;
	}
	return false;
}

static bool is_http_url(const char *s)
{
	return s != NULL && fetch_url_allowed(s, true); /* http or https, absolute, a host */
}

/* True when ct's media type (parameters aside, any case) is type. */
static bool media_type_is(const char *ct, const char *type)
{
	size_t n;

	if (ct == NULL)
		return false;
	ct += strspn(ct, " \t");
	n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == strlen(type) && strncasecmp(ct, type, n) == 0;
}

/* Mastodon's valid_activitypub_content_type?: application/activity+json,
 * or application/ld+json whose quoted profile lists the ActivityStreams
 * URI among space-separated ones. */
static bool content_type_is_ap(const char *ct)
{
	if (media_type_is(ct, "application/activity+json"))
		return true;
	if (!media_type_is(ct, "application/ld+json"))
		return false;
	for (const char *p = strchr(ct, ';'); p != NULL; p = strchr(p, ';')) {
		const char *v, *end;

		p++;
		p += strspn(p, " \t");
		if (strncasecmp(p, "profile=\"", 9) != 0)
			continue;
		v = p + 9;
		end = strchr(v, '"');
		if (end == NULL)
			return false;
		while (v < end) {
			size_t n;

			v += strspn(v, " ");
			n = strcspn(v, " \"");
			if (n == strlen(AP_CONTEXT_AS) && strncmp(v, AP_CONTEXT_AS, n) == 0)
				return true;
			v += n;
		}
	}
	return false;
}

/* ---- documents -------------------------------------------------------- */

/* True when j and everything inside nest at most REMOTE_JSON_DEPTH_MAX
 * deep, j being at depth. */
static bool depth_ok(json_t *j, int depth)
{
	const char *key;
	json_t *v;
	size_t i;

	if (depth > REMOTE_JSON_DEPTH_MAX)
		return false;
	if (json_is_object(j)) {
		json_object_foreach(j, key, v) {
			if (!depth_ok(v, depth + 1))
				return false;
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			if (!depth_ok(v, depth + 1))
				return false;
		}
	}
	return true;
}

/* Parses body as one JSON object, bounded; *out is the new root. */
static enum bb_rc json_parse_bounded(const char *body, size_t len, const char *url,
				     json_t **out, struct err *e)
{
	json_error_t je;
	json_t *j;

	/* A repeated key could be read one way here and another elsewhere. */
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	*out = NULL;
	if (j == NULL)
		return err_set(e, BB_ERR_INVALID, "%.200s: bad JSON: %.80s (line %d)", url, je.text,
			       je.line);
	if (!json_is_object(j)) {
		json_decref(j);
		return err_set(e, BB_ERR_INVALID, "%.200s: not a JSON object", url);
	}
	if (!depth_ok(j, 1)) {
		json_decref(j);
		return err_set(e, BB_ERR_LIMIT, "%.200s: JSON nested deeper than %d", url,
			       REMOTE_JSON_DEPTH_MAX);
	}
	*out = j;
	return BB_OK;
}

/* The HTTP edge of a document fetch, in one place. */
static enum bb_rc status_check(long status, const char *url, struct err *e)
{
	if (status == 200)
		return BB_OK;
	if (status == 404 || status == 410)
		return err_set(e, BB_ERR_NOTFOUND, "GET %.200s: HTTP %ld", url, status);
	if ((status >= 500 && status <= 599) || status == 429)
		return err_set(e, BB_ERR_TEMPFAIL, "GET %.200s: HTTP %ld", url, status);
	return err_set(e, BB_ERR_INVALID, "GET %.200s: HTTP %ld", url, status);
}

/* GETs url (signed when cfg has a key) as an ActivityStreams document:
 * 200, an ActivityPub content type, served from url's origin, one JSON
 * object within the limits.  *out is the new root. */
static enum bb_rc doc_fetch(const struct fetch_config *cfg, const char *url, json_t **out,
			    struct err *e)
{
	struct fetch_result r = {0};
	enum bb_rc rc;

	*out = NULL;
	rc = fetch_get(cfg, url, FETCH_ACCEPT_AP, FETCH_BODY_MAX, &r, e);
	if (rc != BB_OK)
		goto out;
	rc = status_check(r.status, url, e);
	if (rc != BB_OK)
		goto out;
	if (!content_type_is_ap(r.content_type)) {
		rc = err_set(e, BB_ERR_INVALID, "GET %.200s: not an ActivityStreams document "
						"(Content-Type %.80s)",
			     url, r.content_type ? r.content_type : "none");
		goto out;
	}
	if (!url_same_origin(url, r.url)) {
		rc = err_set(e, BB_ERR_AUTH, "GET %.200s: redirected to another origin (%.200s)",
			     url, r.url);
		goto out;
	}
	rc = json_parse_bounded(r.body, r.body_len, url, out, e);
out:
	fetch_result_clear(&r);
	return rc;
}

/* The http(s) URL a link-valued member v gives: a string, an object
 * (Image, Link) with a string `url` or `href`, or the first of an array
 * of those that gives one; NULL otherwise.  For an actor's icon and
 * profile url, and a reply's url. */
static const char *link_href(const json_t *v)
{
	const json_t *item;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			const char *s = link_href(json_is_array(item) ? NULL : item);
			if (s != NULL)
				return s;
			if (i + 1 == REMOTE_KEYS_MAX)
				break;
		}
		return NULL;
	}
	if (json_is_object(v)) {
		const char *s = str_member(v, "url");
		if (s == NULL)
			s = str_member(v, "href");
		if (s == NULL && json_is_object(json_object_get(v, "url")))
			s = str_member(json_object_get(v, "url"), "href");
		return is_http_url(s) ? s : NULL;
	}
	return is_http_url(json_string_value(v)) ? json_string_value(v) : NULL;
}

/* Checks root (taken, freed with a) as the actor document fetched from
 * url. */
static enum bb_rc actor_parse(json_t *root, const char *url, struct actor_doc *a,
			      struct err *e)
{
	const json_t *pk, *item;
	const char *as = AP_CONTEXT_AS;
	size_t i;

	memset(a, 0, sizeof(*a));
	a->root = root;
	if (!member_has(root, "@context", &as, 1))
		return err_set(e, BB_ERR_INVALID, "%.200s: unsupported JSON-LD context", url);
	if (!member_has(root, "type", actor_types, COUNT(actor_types)))
		return err_set(e, BB_ERR_INVALID, "%.200s: not an actor", url);
	a->id = str_member(root, "id");
	if (a->id == NULL || strcmp(a->id, url) != 0)
		return err_set(e, BB_ERR_AUTH, "fetched URI %.200s has wrong id %.200s", url,
			       a->id ? a->id : "(none)");
	a->inbox = str_member(root, "inbox");
	if (!is_http_url(a->inbox))
		return err_set(e, BB_ERR_INVALID, "%.200s has no http(s) inbox", url);
	a->shared_inbox = str_member(json_object_get(root, "endpoints"), "sharedInbox");
	if (a->shared_inbox == NULL)
		a->shared_inbox = str_member(root, "sharedInbox");
	if (!is_http_url(a->shared_inbox))
		a->shared_inbox = NULL;
	a->username = str_member(root, "preferredUsername");
	a->name = str_member(root, "name");
	a->avatar = link_href(json_object_get(root, "icon"));
	a->profile = link_href(json_object_get(root, "url"));
	pk = json_object_get(root, "publicKey");
	if (json_is_object(pk))
		a->keys[a->nkeys++] = (json_t *)pk;
	json_array_foreach(pk, i, item) {
		if (a->nkeys == REMOTE_KEYS_MAX)
			break;
		if (json_is_object(item))
			a->keys[a->nkeys++] = (json_t *)item;
	}
	return BB_OK;
}

static enum bb_rc actor_get(const struct fetch_config *cfg, const char *url,
			    struct actor_doc *a, struct err *e)
{
	json_t *root = NULL;
	enum bb_rc rc = doc_fetch(cfg, url, &root, e);

	memset(a, 0, sizeof(*a));
	return rc == BB_OK ? actor_parse(root, url, a, e) : rc;
}

/* The publicKey entry of a whose id is key_id, owned by a; *pem may come
 * back NULL (no embedded PEM). */
static enum bb_rc actor_key(const struct actor_doc *a, const char *key_id, const char **pem,
			    struct err *e)
{
	for (size_t i = 0; i < a->nkeys; i++) {
		const char *id = str_member(a->keys[i], "id"), *owner;

		if (id == NULL || strcmp(id, key_id) != 0)
			continue;
		owner = str_member(a->keys[i], "owner");
		if (owner == NULL || strcmp(owner, a->id) != 0)
			return err_set(e, BB_ERR_AUTH, "key %.200s in %.200s is owned by %.200s",
				       key_id, a->id, owner ? owner : "nobody");
		*pem = str_member(a->keys[i], "publicKeyPem");
		return BB_OK;
	}
	return err_set(e, BB_ERR_AUTH, "public key %.200s not found in %.200s", key_id, a->id);
}

/* BB_OK when pem is a usable public key. */
static enum bb_rc pem_check(const char *pem, const char *where, struct err *e)
{
	struct pubkey *pk = NULL;
	struct err pe = {0};

	if (pem == NULL)
		return err_set(e, BB_ERR_INVALID, "%.200s: no publicKeyPem", where);
	if (pubkey_from_pem(pem, &pk, &pe) != BB_OK)
		return err_set(e, BB_ERR_INVALID, "%.200s: unusable publicKeyPem: %.100s", where,
			       pe.msg);
	pubkey_free(pk);
	return BB_OK;
}

/* Checks root as the standalone key document for key_id: its own id,
 * an http(s) owner, a usable PEM (borrowed from root). */
static enum bb_rc key_doc_parse(const json_t *root, const char *key_id, const char **owner,
				const char **pem, struct err *e)
{
	static const char *const contexts[] = {AP_CONTEXT_AS, SECURITY_CONTEXT};
	const char *id = str_member(root, "id");

	*pem = str_member(root, "publicKeyPem");
	*owner = str_member(root, "owner");
	if (*pem == NULL || *owner == NULL)
		return err_set(e, BB_ERR_INVALID, "%.200s is neither an actor nor a key", key_id);
	if (!member_has(root, "@context", contexts, COUNT(contexts)))
		return err_set(e, BB_ERR_INVALID, "%.200s: unsupported JSON-LD context", key_id);
	if (id == NULL || strcmp(id, key_id) != 0)
		return err_set(e, BB_ERR_AUTH, "key %.200s has wrong id %.200s", key_id,
			       id ? id : "(none)");
	if (!is_http_url(*owner))
		return err_set(e, BB_ERR_INVALID, "key %.200s has a bad owner", key_id);
	return pem_check(*pem, key_id, e);
}

/* ---- WebFinger -------------------------------------------------------- */

/* Mastodon's username pattern, /\A[a-z0-9_]+([.-]+[a-z0-9_]+)*\z/i. */
static bool username_valid(const char *u)
{
	size_t n;

	if (u == NULL || (n = strlen(u)) == 0 || n > REMOTE_USERNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = u[i];
		bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '_';

		if (!word && ((c != '.' && c != '-') || i == 0 || i == n - 1))
			return false;
	}
	return true;
}

/* True when the JRD in root names acct (subject, any case) and has a self
 * link of an ActivityPub type to actor_id. */
static bool webfinger_matches(const json_t *root, const char *acct, const char *actor_id)
{
	const char *subject = str_member(root, "subject");
	const json_t *links = json_object_get(root, "links"), *link;
	size_t i;

	if (subject == NULL || strncasecmp(subject, "acct:", 5) != 0 ||
	    strcasecmp(subject + 5, acct) != 0)
		return false;
	json_array_foreach(links, i, link) {
		const char *rel = str_member(link, "rel"), *href = str_member(link, "href");

		if (rel && strcmp(rel, "self") == 0 && href && strcmp(href, actor_id) == 0 &&
		    str_in(str_member(link, "type"), webfinger_self_types,
			   COUNT(webfinger_self_types)))
			return true;
	}
	return false;
}

/* Asks WebFinger about acct (unsigned, as Mastodon does); true when it
 * loops back to actor_id.  *nomem on allocation failure. */
static bool webfinger_check(const struct fetch_config *cfg, const char *wf_url, const char *acct,
			    const char *actor_id, bool *nomem)
{
	struct fetch_config wcfg = *cfg;
	struct fetch_result r = {0};
	struct err we = {0};
	json_t *root = NULL;
	bool ok = false;

	wcfg.key = NULL;
	wcfg.key_id = NULL;
	*nomem = false;
	if (fetch_get(&wcfg, wf_url, WEBFINGER_ACCEPT, FETCH_BODY_MAX, &r, &we) != BB_OK) {
		*nomem = we.code == BB_ERR_NOMEM;
		log_debug("WebFinger %s: %s", wf_url, we.msg);
		goto out;
	}
	if (r.status != 200 || !(media_type_is(r.content_type, "application/jrd+json") ||
				 media_type_is(r.content_type, "application/json"))) {
		log_debug("WebFinger %s: HTTP %ld, %s", wf_url, r.status,
			  r.content_type ? r.content_type : "no Content-Type");
		goto out;
	}
	if (json_parse_bounded(r.body, r.body_len, wf_url, &root, &we) != BB_OK) {
		log_debug("WebFinger %s", we.msg);
		goto out;
	}
	ok = webfinger_matches(root, acct, actor_id);
	if (!ok)
		log_debug("WebFinger %s does not loop back to %s", wf_url, actor_id);
out:
	json_decref(root);
	fetch_result_clear(&r);
	return ok;
}

/* The verified handle "@user@host[:port]" of a in *handle, or NULL. */
static enum bb_rc webfinger_handle(const struct fetch_config *cfg, const struct actor_doc *a,
				   char **handle, struct err *e)
{
	struct url id;
	char hp[URL_HOST_KEY_MAX + 1];
	struct buf acct, url;
	bool nomem = false;
	enum bb_rc rc = BB_OK;

	*handle = NULL;
	if (!username_valid(a->username) || url_parse(a->id, 0, &id, NULL) != BB_OK)
		return BB_OK;
	url_host_port(&id, hp);
	buf_init(&acct, FETCH_URL_MAX);
	buf_init(&url, FETCH_URL_MAX);
	/* https, as Mastodon asks; the id's own scheme where http is allowed
	 * (tests and local development). */
	if (buf_printf(&acct, "%s@%s", a->username, hp) != BB_OK ||
	    buf_printf(&url, "%s://%s/.well-known/webfinger?resource=acct:%s",
		       cfg->allow_private ? id.scheme : "https", hp, acct.data) != BB_OK)
		goto out; /* too long for a URL: no handle */
	if (webfinger_check(cfg, url.data, acct.data, a->id, &nomem)) {
		buf_reset(&url);
		if (buf_printf(&url, "@%s", acct.data) != BB_OK)
			nomem = true;
		else if ((*handle = buf_take(&url)) == NULL)
			nomem = true;
	}
	if (nomem)
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
out:
	buf_free(&acct);
	buf_free(&url);
	return rc;
}

/* ---- the two entry points ----------------------------------------------- */

/* The length of the longest prefix of s within max bytes that does not
 * end inside a UTF-8 sequence. */
static size_t utf8_prefix(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* Fills out from a, the key and its PEM. */
static enum bb_rc actor_fill(const struct fetch_config *cfg, const struct actor_doc *a,
			     const char *key_id, const char *pem, time_t now,
			     struct store_actor *out, struct err *e)
{
	enum bb_rc rc;

	out->id = strdup(a->id);
	out->inbox = strdup(a->inbox);
	out->shared_inbox = a->shared_inbox ? strdup(a->shared_inbox) : NULL;
	out->key_id = strdup(key_id);
	out->public_key_pem = strdup(pem);
	out->fetched_at = now;
	/* Display strings bounded: a name is text for a page, not a payload. */
	out->name = a->name ? strndup(a->name, utf8_prefix(a->name, REMOTE_NAME_MAX)) : NULL;
	out->avatar = a->avatar && strlen(a->avatar) <= FETCH_URL_MAX ? strdup(a->avatar) : NULL;
	out->url = a->profile && strlen(a->profile) <= FETCH_URL_MAX ? strdup(a->profile) : NULL;
	if (out->id == NULL || out->inbox == NULL || (a->shared_inbox && !out->shared_inbox) ||
	    out->key_id == NULL || out->public_key_pem == NULL || (a->name && !out->name) ||
	    (out->avatar == NULL && a->avatar && strlen(a->avatar) <= FETCH_URL_MAX) ||
	    (out->url == NULL && a->profile && strlen(a->profile) <= FETCH_URL_MAX))
		rc = err_set(e, BB_ERR_NOMEM, "out of memory");
	else
		rc = webfinger_handle(cfg, a, &out->handle, e);
	if (rc != BB_OK)
		store_actor_clear(out);
	return rc;
}

/* The key_id without its fragment (new string), checked by the policy. */
static enum bb_rc key_url(const struct fetch_config *cfg, const char *key_id, char **url,
			  struct err *e)
{
	*url = NULL;
	if (key_id == NULL || !fetch_url_allowed(key_id, cfg->allow_private))
		return err_set(e, BB_ERR_UNSAFE, "refusing to fetch key '%.200s'",
			       key_id ? key_id : "(null)");
	*url = strndup(key_id, strcspn(key_id, "#"));
	return *url ? BB_OK : err_set(e, BB_ERR_NOMEM, "out of memory");
}

enum bb_rc remote_key_fetch(const struct fetch_config *cfg, const char *key_id, time_t now,
			    struct store_actor *out, struct err *e)
{
	struct actor_doc a = {0};
	json_t *root = NULL;
	const char *pem = NULL, *owner = NULL, *listed = NULL;
	char *url = NULL;
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	rc = key_url(cfg, key_id, &url, e);
	if (rc == BB_OK)
		rc = doc_fetch(cfg, url, &root, e);
	if (rc != BB_OK)
		goto out;
	if (member_has(root, "type", actor_types, COUNT(actor_types))) {
		/* The key sits in the actor: the document fetched is the owner. */
		rc = actor_parse(root, url, &a, e);
		root = NULL;
		if (rc == BB_OK)
			rc = actor_key(&a, key_id, &pem, e);
		if (rc == BB_OK)
			rc = pem_check(pem, key_id, e);
	} else {
		/* A standalone key: its owner must list it. */
		rc = key_doc_parse(root, key_id, &owner, &pem, e);
		if (rc == BB_OK)
			rc = actor_get(cfg, owner, &a, e);
		if (rc == BB_OK)
			rc = actor_key(&a, key_id, &listed, e);
	}
	if (rc == BB_OK)
		rc = actor_fill(cfg, &a, key_id, pem, now, out, e);
out:
	json_decref(root);
	actor_doc_free(&a);
	free(url);
	return rc;
}

/* The PEM for key_id, first key of a: embedded when the key lives in the
 * actor's document, else confirmed by the key's own document (returned
 * in *root, which owns *pem). */
static enum bb_rc first_key_pem(const struct fetch_config *cfg, const struct actor_doc *a,
				const char *key_id, const char **pem, json_t **root,
				struct err *e)
{
	const char *owner = NULL;
	char *url = NULL;
	enum bb_rc rc;

	rc = key_url(cfg, key_id, &url, e);
	if (rc != BB_OK)
		goto out;
	if (strcmp(url, a->id) == 0) {
		rc = pem_check(*pem, key_id, e);
		goto out;
	}
	rc = doc_fetch(cfg, url, root, e);
	if (rc == BB_OK)
		rc = key_doc_parse(*root, key_id, &owner, pem, e);
	if (rc == BB_OK && strcmp(owner, a->id) != 0)
		rc = err_set(e, BB_ERR_AUTH, "key %.200s is owned by %.200s, not %.200s", key_id,
			     owner, a->id);
out:
	free(url);
	return rc;
}

enum bb_rc remote_actor_fetch(const struct fetch_config *cfg, const char *actor_id, time_t now,
			      struct store_actor *out, struct err *e)
{
	struct actor_doc a = {0};
	json_t *key_root = NULL;
	const char *key_id = NULL, *pem = NULL;
	enum bb_rc rc;

	memset(out, 0, sizeof(*out));
	if (actor_id == NULL || !fetch_url_allowed(actor_id, cfg->allow_private)) {
		rc = err_set(e, BB_ERR_UNSAFE, "refusing to fetch actor '%.200s'",
			     actor_id ? actor_id : "(null)");
		goto out;
	}
	rc = actor_get(cfg, actor_id, &a, e);
	if (rc != BB_OK)
		goto out;
	if (a.nkeys == 0 || (key_id = str_member(a.keys[0], "id")) == NULL) {
		rc = err_set(e, BB_ERR_INVALID, "%.200s has no publicKey", actor_id);
		goto out;
	}
	rc = actor_key(&a, key_id, &pem, e);
	if (rc == BB_OK)
		rc = first_key_pem(cfg, &a, key_id, &pem, &key_root, e);
	if (rc == BB_OK)
		rc = actor_fill(cfg, &a, key_id, pem, now, out, e);
out:
	json_decref(key_root);
	actor_doc_free(&a);
	return rc;
}

enum bb_rc remote_object_fetch(const struct fetch_config *cfg, const char *id, json_t **out,
			       struct err *e)
{
	const char *as = AP_CONTEXT_AS, *got;
	json_t *root = NULL;
	enum bb_rc rc;

	*out = NULL;
	if (id == NULL || !fetch_url_allowed(id, cfg->allow_private))
		return err_set(e, BB_ERR_UNSAFE, "refusing to fetch object '%.200s'",
			       id ? id : "(null)");
	rc = doc_fetch(cfg, id, &root, e);
	if (rc != BB_OK)
		return rc;
	/* What the origin serves speaks for the id only when it is that id
	 * (Mastodon: dereferencer.rb:42-59). */
	got = str_member(root, "id");
	if (!member_has(root, "@context", &as, 1))
		rc = err_set(e, BB_ERR_INVALID, "%.200s: unsupported JSON-LD context", id);
	else if (got == NULL || strcmp(got, id) != 0)
		rc = err_set(e, BB_ERR_AUTH, "fetched URI %.200s has wrong id %.200s", id,
			     got ? got : "(none)");
	if (rc != BB_OK) {
		json_decref(root);
		return rc;
	}
	*out = root;
	return BB_OK;
}
