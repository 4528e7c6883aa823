/*
 * config_value.c — the value types of bridge.conf and the rules of single
 * keys (contracts in config_int.h), for config.c's key table.
 */
#include "config_int.h"
#include "fsutil.h"
#include "text.h"
#include "url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum bb_rc config_set_string(char **slot, const char *value, struct err *e)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	free(*slot);
	*slot = copy;
	return BB_OK;
}

/* NULL for an empty value (optional keys). */
enum bb_rc config_set_optional(char **slot, const char *value, struct err *e)
{
	if (value[0] == '\0') {
		free(*slot);
		*slot = NULL;
		return BB_OK;
	}
	return config_set_string(slot, value, e);
}

/*
 * Parses an http(s) URL with the url module; every message names the key
 * the value was written for.  With origin_only, nothing
 * may follow the authority but "/".  On success *norm (when not NULL)
 * receives scheme://host[:port] in canonical form (url.h), and *hostport
 * the host with its port when that is not the scheme's default.
 */
enum bb_rc config_parse_http_url(const char *key, const char *value, bool origin_only, char **norm,
				 char **hostport, struct err *e)
{
	struct url u;
	char origin[URL_ORIGIN_MAX + 1], hp[URL_HOST_KEY_MAX + 1];
	enum bb_rc rc;

	rc = url_parse(value, 0, &u, e);
	if (rc == BB_ERR_NOMEM)
		return rc;
	if (rc != BB_OK)
		return err_set(e, BB_ERR_CONFIG, "%s '%s' is not a valid http(s) URL", key, value);
	if (!url_is_http(&u))
		return err_set(e, BB_ERR_CONFIG, "%s '%s' must be an http or https URL", key,
			       value);
	if (u.has_userinfo)
		return err_set(e, BB_ERR_CONFIG, "%s '%s' must not contain a user name", key,
			       value);
	if (origin_only && (u.path_len != 1 || u.target[0] != '/'))
		return err_set(e, BB_ERR_CONFIG,
			       "%s '%s' must be an origin (scheme://host[:port]) without a path",
			       key, value);
	if (origin_only && (u.has_query || u.has_fragment))
		return err_set(e, BB_ERR_CONFIG,
			       "%s '%s' must be an origin without query or fragment", key, value);
	/* The default port is dropped, which is exactly when WebFinger
	 * omits it. */
	url_host_port(&u, hp);
	url_origin(&u, origin);
	if (hostport && (*hostport = strdup(hp)) == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	if (norm && (*norm = strdup(origin)) == NULL) {
		if (hostport) {
			free(*hostport);
			*hostport = NULL;
		}
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	return BB_OK;
}

/* CONFIG_T_URL: any http(s) URL, or NULL for an empty value. */
enum bb_rc config_set_url(const struct config_key *k, char **slot, const char *v, struct err *e)
{
	enum bb_rc rc;

	if (v[0] && (rc = config_parse_http_url(k->name, v, false, NULL, NULL, e)) != BB_OK)
		return rc;
	return config_set_optional(slot, v, e);
}

enum bb_rc config_set_path(char **slot, const char *v, const char *dir, struct err *e)
{
	char *path;

	if (v[0] == '\0')
		return err_set(e, BB_ERR_CONFIG, "a path is required");
	path = fs_path_join(dir, v);
	if (path == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	free(*slot);
	*slot = path;
	return BB_OK;
}

/* Digits only (no sign, no space: "+60" is refused), from lo to hi. */
static bool parse_uint(const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
	int64_t x;

	if (!isdigit((unsigned char)v[0]) || !text_int64_parse(v, (int64_t)lo, (int64_t)hi, &x))
		return false;
	*out = (unsigned long)x;
	return true;
}

enum bb_rc config_set_uint(const struct config_key *k, unsigned *slot, const char *v, struct err *e)
{
	unsigned long x;

	if (!parse_uint(v, k->min, k->max, &x))
		return err_set(e, BB_ERR_CONFIG, "%s '%s' must be a number%s%s from %lu to %lu",
			       k->name, v, k->unit ? " of " : "", k->unit ? k->unit : "", k->min,
			       k->max);
	*slot = (unsigned)x;
	return BB_OK;
}

enum bb_rc config_set_bool(const struct config_key *k, bool *slot, const char *v, struct err *e)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 ||
	    strcmp(v, "1") == 0)
		*slot = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0 ||
		 strcmp(v, "0") == 0)
		*slot = false;
	else
		return err_set(e, BB_ERR_CONFIG, "%s '%s' must be true or false", k->name, v);
	return BB_OK;
}

/* "a, b or c": the allowed names, for the message. */
static void enum_names(const struct config_enum_value *values, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; values[i].name != NULL && used < n; i++) {
		const char *sep = i == 0 ? "" : values[i + 1].name == NULL ? " or " : ", ";
		int w = snprintf(buf + used, n - used, "%s%s", sep, values[i].name);
		if (w < 0)
			return;
		used += (size_t)w;
	}
}

enum bb_rc config_set_enum(const struct config_key *k, int *slot, const char *v, struct err *e)
{
	char names[160];

	for (size_t i = 0; k->values[i].name != NULL; i++) {
		if (strcmp(v, k->values[i].name) == 0) {
			*slot = k->values[i].value;
			return BB_OK;
		}
	}
	enum_names(k->values, names, sizeof(names));
	return err_set(e, BB_ERR_CONFIG, "%s '%s' must be %s", k->name, v, names);
}

void config_domains_free(char ***list, size_t *count)
{
	for (size_t i = 0; i < *count; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*count = 0;
}

/* A host name: labels of letters, digits and '-', separated by dots. */
static bool domain_valid(const char *d, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = d[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)c) || c == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

enum bb_rc config_set_domains(const struct config_key *k, char ***list, size_t *count,
			      const char *v, struct err *e)
{
	const char *p = v;

	config_domains_free(list, count);
	while (*p) {
		const char *start, *end, *comma = strchr(p, ',');
		char **grown, *d;
		size_t len;

		end = comma ? comma : p + strlen(p);
		start = p;
		while (start < end && isspace((unsigned char)*start))
			start++;
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		len = (size_t)(end - start);
		if (!domain_valid(start, len)) {
			config_domains_free(list, count);
			return err_set(e, BB_ERR_CONFIG, "%s: '%.*s' is not a domain name", k->name,
				       (int)len, start);
		}
		grown = realloc(*list, (*count + 2) * sizeof(*grown));
		d = strndup(start, len);
		if (grown == NULL || d == NULL) {
			free(d);
			if (grown)
				*list = grown;
			config_domains_free(list, count);
			return err_set(e, BB_ERR_NOMEM, "out of memory");
		}
		for (char *q = d; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		*list = grown;
		(*list)[(*count)++] = d;
		(*list)[*count] = NULL;
		p = comma ? comma + 1 : end;
	}
	return BB_OK;
}

/* Each entry of a comma-separated list, trimmed: [*start, *end).  Returns
 * where the next entry starts, or NULL after the last. */
static const char *list_next(const char *p, const char **start, const char **end)
{
	const char *comma = strchr(p, ',');
	const char *s = p, *t = comma ? comma : p + strlen(p);

	while (s < t && isspace((unsigned char)*s))
		s++;
	while (t > s && isspace((unsigned char)t[-1]))
		t--;
	*start = s;
	*end = t;
	return comma ? comma + 1 : NULL;
}

enum bb_rc config_set_urls(const struct config_key *k, char ***list, size_t *count, const char *v,
			   struct err *e)
{
	const char *p = v, *start, *end;
	enum bb_rc rc = BB_OK;

	config_domains_free(list, count);
	while (p != NULL && *p && rc == BB_OK) {
		char **grown = NULL, *u;

		p = list_next(p, &start, &end);
		u = strndup(start, (size_t)(end - start));
		if (u == NULL) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			break;
		}
		if (*count >= CONFIG_URLS_MAX)
			rc = err_set(e, BB_ERR_CONFIG, "%s: more than %d URLs", k->name,
				     CONFIG_URLS_MAX);
		else if (u[0] == '\0')
			rc = err_set(e, BB_ERR_CONFIG, "%s: an empty entry in the list", k->name);
		else
			rc = config_parse_http_url(k->name, u, false, NULL, NULL, e);
		for (size_t i = 0; rc == BB_OK && i < *count; i++)
			if (strcmp((*list)[i], u) == 0)
				rc = err_set(e, BB_ERR_CONFIG, "%s: '%s' is listed twice", k->name, u);
		if (rc == BB_OK && (grown = realloc(*list, (*count + 2) * sizeof(*grown))) == NULL)
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
		if (rc != BB_OK) {
			free(u);
			break;
		}
		*list = grown;
		(*list)[(*count)++] = u;
		(*list)[*count] = NULL;
	}
	if (rc != BB_OK)
		config_domains_free(list, count);
	return rc;
}

/* Mastodon's username rule, /\A[a-z0-9_]+([.-]+[a-z0-9_]+)*\z/i
 * (app/models/account.rb): word characters, with runs of . and - only
 * between them, which is the same as "starts and ends with a word
 * character". */
static bool handle_char_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

enum bb_rc config_check_handle(const char *v, struct err *e)
{
	size_t len = strlen(v);

	if (len > 64)
		return err_set(e, BB_ERR_CONFIG, "handle '%s' is longer than 64 characters", v);
	for (size_t i = 0; i < len; i++)
		if (!handle_char_word(v[i]) && v[i] != '.' && v[i] != '-')
			len = 0;
	if (len == 0 || !handle_char_word(v[0]) || !handle_char_word(v[len - 1]))
		return err_set(e, BB_ERR_CONFIG,
			       "handle '%s' may hold only letters, digits and _ (with . or - "
			       "between them)",
			       v);
	return BB_OK;
}

/* A URL template with "{slug}" where the tag goes. */
enum bb_rc config_check_tag_url(const char *v, struct err *e)
{
	if (strstr(v, "{slug}") == NULL)
		return err_set(e, BB_ERR_CONFIG,
			       "tag_url '%s' must contain {slug}, e.g. "
			       "https://blog.example/tag/{slug}/",
			       v);
	return BB_OK;
}

/* BCP 47, checked for shape: a 2-3 letter (or 5-8) primary subtag, then
 * alphanumeric subtags of 1-8 characters. */
enum bb_rc config_check_language(const char *v, struct err *e)
{
	size_t run = 0, subtags = 0;
	bool ok = true;

	for (const char *p = v;; p++) {
		if (*p == '-' || *p == '\0') {
			if (run == 0 || run > 8 || (subtags == 0 && (run < 2 || run == 4)))
				ok = false;
			subtags++;
			run = 0;
			if (*p == '\0')
				break;
		} else if (isalpha((unsigned char)*p) ||
			   (subtags > 0 && isdigit((unsigned char)*p))) {
			run++;
		} else {
			ok = false;
		}
	}
	if (!ok)
		return err_set(e, BB_ERR_CONFIG,
			       "language '%s' is not a BCP 47 tag such as fr or en-GB", v);
	return BB_OK;
}

/* [site] base_url: an origin, stored normalized with its host. */
enum bb_rc config_set_base_url(const struct config_ctx *ctx, const char *v, struct err *e)
{
	char *norm = NULL, *hostport = NULL;
	enum bb_rc rc = config_parse_http_url("base_url", v, true, &norm, &hostport, e);

	if (rc != BB_OK)
		return rc;
	free(ctx->cfg->base_url);
	free(ctx->cfg->host);
	ctx->cfg->base_url = norm;
	ctx->cfg->host = hostport;
	return BB_OK;
}

/* [site] feed: an http(s) URL, or a path resolved against the folder. */
enum bb_rc config_set_feed(const struct config_ctx *ctx, const char *v, struct err *e)
{
	struct config *cfg = ctx->cfg;
	enum bb_rc rc;
	char *path;

	if (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0) {
		if ((rc = config_parse_http_url("feed", v, false, NULL, NULL, e)) != BB_OK)
			return rc;
		cfg->feed_is_url = true;
		return config_set_string(&cfg->feed, v, e);
	}
	if (strstr(v, "://") != NULL)
		return err_set(e, BB_ERR_CONFIG, "feed '%s' must be an http(s) URL or a file path",
			       v);
	path = fs_path_join(ctx->dir, v);
	if (path == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	free(cfg->feed);
	cfg->feed = path;
	cfg->feed_is_url = false;
	return BB_OK;
}

/* [server] listen: ADDRESS:PORT or [IPv6]:PORT, "localhost" meaning
 * 127.0.0.1; kept as written and as a socket address. */
enum bb_rc config_set_listen(const struct config_ctx *ctx, const char *v, struct err *e)
{
	struct config *cfg = ctx->cfg;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *hs = v;
	size_t hl;
	unsigned long port;

	memset(&cfg->listen_addr, 0, sizeof(cfg->listen_addr));
	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		if (close == NULL || close[1] != ':')
			return err_set(e, BB_ERR_CONFIG, "listen '%s' must be [IPv6]:PORT", v);
		hs = v + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL)
			return err_set(e, BB_ERR_CONFIG,
				       "listen '%s' must be ADDRESS:PORT, e.g. 127.0.0.1:8080", v);
		hl = (size_t)(colon - v);
	}
	if (!parse_uint(colon + 1, 1, 65535, &port))
		return err_set(e, BB_ERR_CONFIG,
			       "listen '%s': port must be a number from 1 to 65535", v);
	if (hl == 0 || hl >= sizeof(host))
		return err_set(e, BB_ERR_CONFIG, "listen '%s': missing or bad address", v);
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (v[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)&cfg->listen_addr;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return err_set(e, BB_ERR_CONFIG, "listen '%s': '%s' is not an IPv4 address",
				       v, host);
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		cfg->listen_addrlen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg->listen_addr;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return err_set(e, BB_ERR_CONFIG, "listen '%s': '%s' is not an IPv6 address",
				       v, host);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		cfg->listen_addrlen = sizeof(*sin6);
	}
	return config_set_string(&cfg->listen, v, e);
}

/* One address, as mail_to and mail_from take it (config_int.h). */
static enum bb_rc check_address(const char *key, const char *v, struct err *e)
{
	const char *at = strrchr(v, '@');
	size_t len = strlen(v);

	if (len > 254)
		return err_set(e, BB_ERR_CONFIG, "%s is longer than 254 characters", key);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == 0x7f || strchr("<>,;\"()[]\\", *p) != NULL)
			return err_set(e, BB_ERR_CONFIG,
				       "%s '%.200s' must be one address (user@domain), without "
				       "blanks, quotes or brackets",
				       key, v);
	if (at == NULL || at == v || at[1] == '\0' || strchr(v, '@') != at ||
	    at[1] == '.' || v[len - 1] == '.')
		return err_set(e, BB_ERR_CONFIG, "%s '%.200s' must be an address like user@domain",
			       key, v);
	return BB_OK;
}

enum bb_rc config_check_mail_to(const char *v, struct err *e)
{
	return check_address("mail_to", v, e);
}

enum bb_rc config_check_mail_from(const char *v, struct err *e)
{
	return check_address("mail_from", v, e);
}

enum bb_rc config_check_smtp_url(const char *v, struct err *e)
{
	const char *rest, *host, *end;

	if (strncmp(v, "smtp://", 7) == 0)
		rest = v + 7;
	else if (strncmp(v, "smtps://", 8) == 0)
		rest = v + 8;
	else
		return err_set(e, BB_ERR_CONFIG,
			       "smtp_url must be an smtp:// or smtps:// URL (e.g. "
			       "smtps://user:password@mail.example:465)");
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return err_set(e, BB_ERR_CONFIG,
				       "smtp_url must not contain blanks or control characters");
	/* The host: after the user info (up to the last '@' before the
	 * path), up to a port, a path or the end. */
	end = rest + strcspn(rest, "/?#");
	host = rest;
	for (const char *p = rest; p < end; p++)
		if (*p == '@')
			host = p + 1;
	if (host == end || *host == ':')
		return err_set(e, BB_ERR_CONFIG, "smtp_url must name a server (smtp://HOST[:PORT])");
	return BB_OK;
}
