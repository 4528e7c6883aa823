/*
 * fetch.h — outgoing HTTP that is safe to point at URLs from strangers.
 *
 * Every request the bridge makes to another server goes through the policy
 * here: https only (http too when allow_private_addresses is set, for tests
 * and local development); the address each connection goes to is checked
 * after DNS resolution, on every hop, and loopback, private, link-local,
 * multicast and other special ranges are refused unless allowed; at most
 * FETCH_REDIRECTS_MAX redirects, each re-checked and (for signed GETs)
 * re-signed; bodies bounded; Mastodon's timeouts.
 *
 * GETs are signed (draft-cavage, `(request-target) host date`) with the
 * blog actor's key, so servers in authorized-fetch mode answer.
 */
#ifndef BB_FETCH_H
#define BB_FETCH_H

#include "err.h"
#include "key.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define FETCH_BODY_MAX (1024 * 1024) /* Mastodon's limit for JSON documents */
#define FETCH_REDIRECTS_MAX 3
#define FETCH_CONNECT_TIMEOUT_S 5
#define FETCH_TOTAL_TIMEOUT_S 30
#define FETCH_USER_AGENT_MAX 128
#define FETCH_URL_MAX 2048 /* longer URLs are refused (httpsig signs up to this) */

#define FETCH_ACCEPT_AP                                                                      \
	"application/activity+json, application/ld+json; "                                   \
	"profile=\"https://www.w3.org/ns/activitystreams\""

struct fetch_config {
	const struct key *key; /* NULL: unsigned requests */
	const char *key_id;    /* our actor's publicKey.id */
	bool allow_private;    /* [federation] allow_private_addresses */
	char user_agent[FETCH_USER_AGENT_MAX];
	int timeout_s; /* whole fetch_get, all hops; 0: FETCH_TOTAL_TIMEOUT_S (tests lower it) */
};

struct fetch_result {
	long status;
	char *body; /* NUL-terminated, body_len bytes */
	size_t body_len;
	char *content_type; /* NULL when absent */
	char *url;          /* the URL finally fetched, after redirects */
};

void fetch_result_clear(struct fetch_result *r);

/* True when a connection to sa may be made under the policy: with
 * allow_private any IPv4 or IPv6 address; otherwise none of the special
 * ranges (RFC 6890), also when embedded in IPv4-mapped, IPv4-compatible,
 * NAT64 (64:ff9b::/96) or 6to4 (2002::/16) IPv6 addresses.  Other address
 * families are always refused. */
bool fetch_address_allowed(const struct sockaddr *sa, bool allow_private);

/* True when url is one the policy lets us request at all (scheme, form):
 * an absolute "https://host..." URL (http too with allow_private), with a
 * host, without user name or password, without spaces or control bytes,
 * at most FETCH_URL_MAX bytes. */
bool fetch_url_allowed(const char *url, bool allow_private);

/* Checks url like fetch_url_allowed and gives it as curl will send it
 * (dot segments removed, no fragment) in *out (caller frees), so that what
 * is signed is what is sent.  BB_ERR_UNSAFE when refused. */
enum bb_rc fetch_url_normalize(const char *url, bool allow_private, char **out, struct err *e)
    BB_MUST_CHECK;

/* Checks what curl_easy_setopt returned for the option named option: true
 * when cc is CURLE_OK, else false with e set to BB_ERR_IO and a message
 * naming the option and curl's reason (an option this libcurl lacks fails
 * so).  Use it through FETCH_SETOPT, which names the option itself. */
bool fetch_setopt_ok(CURLcode cc, const char *option, struct err *e) BB_MUST_CHECK;
#define FETCH_SETOPT(h, opt, val, e) fetch_setopt_ok(curl_easy_setopt((h), (opt), (val)), #opt, (e))

/* Applies the policy to an easy handle: allowed protocols, the address
 * check on every socket, timeouts, no redirects (callers follow them
 * themselves), no signals.  cfg must outlive the handle's transfers. */
enum bb_rc fetch_curl_policy(CURL *h, const struct fetch_config *cfg, struct err *e)
    BB_MUST_CHECK;

/* A transfer's record of the connections the policy refused, so a caller
 * can tell "refused for safety" from "could not connect" (both end in
 * CURLE_COULDNT_CONNECT).  Reset refused before each transfer. */
struct fetch_guard {
	bool allow_private;
	bool refused; /* set when a connection was refused */
};

/* Like fetch_curl_policy, recording refusals in g, which must outlive the
 * handle's transfers. */
enum bb_rc fetch_curl_policy_guard(CURL *h, const struct fetch_config *cfg, struct fetch_guard *g,
				   struct err *e) BB_MUST_CHECK;

/* GETs url with the given Accept, signed when cfg->key is set, following
 * up to FETCH_REDIRECTS_MAX redirects.  BB_OK with any HTTP status in
 * out->status (clear it with fetch_result_clear; a 3xx only when it has no
 * Location); BB_ERR_UNSAFE for a refused URL or address (a redirect's
 * too); BB_ERR_LIMIT for a body over max_body decoded bytes or one
 * redirect too many; BB_ERR_INVALID for an unusable Location;
 * BB_ERR_TEMPFAIL for network errors and timeouts.  The URL is fetched
 * without its fragment.  Needs curl_global_init() done by the program. */
enum bb_rc fetch_get(const struct fetch_config *cfg, const char *url, const char *accept,
		     size_t max_body, struct fetch_result *out, struct err *e) BB_MUST_CHECK;

#endif
