/*
 * config.c — see config.h.  The keys are one table, config_keys: each row
 * names its section and key, whether it must be present, its default, and
 * its type, which says how a value is checked and where in struct config
 * it is stored (an offsetof).  A key with a rule of its own adds a check,
 * run before its type's; the few keys that fill more than one field (the
 * base URL and its host, the feed and whether it is a URL, the listen
 * address) have a setter of their own.  Defaults go through the same path
 * as written values, so a bad default is caught like a bad line.
 */
#include "config.h"
#include "fsutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a key's value is checked, and the shape of the field it fills. */
enum config_type {
	CONFIG_T_STRING,   /* char *, the text as is (may be empty) */
	CONFIG_T_OPTIONAL, /* char *, NULL for an empty value */
	CONFIG_T_URL,	   /* char *, an http(s) URL; NULL for an empty value */
	CONFIG_T_PATH,	   /* char *, required, resolved against the file's folder */
	CONFIG_T_UINT,	   /* unsigned, a decimal number from min to max */
	CONFIG_T_BOOL,	   /* bool: true/yes/on/1 or false/no/off/0 */
	CONFIG_T_ENUM,	   /* an enum field, one of values[] */
	CONFIG_T_DOMAINS,  /* char ** (NULL-terminated, lower case) and its size_t
			      count at count_offset: comma-separated host names */
	CONFIG_T_CUSTOM,   /* set() checks and stores */
};

struct config_enum_value {
	const char *name;
	int value;
};

/* What a setter may use: the config being filled, and the folder of its
 * file ("" for the working directory), against which paths resolve. */
struct config_ctx {
	struct config *cfg;
	const char *dir;
};

struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	bool required;
	const char *fallback;			/* the value when absent; NULL for a required key */
	size_t offset;				/* of the field in struct config (not CUSTOM) */
	size_t count_offset;			/* DOMAINS: of the size_t count */
	unsigned long min, max;			/* UINT: the range, inclusive */
	const char *unit;			/* UINT: named in the message */
	const struct config_enum_value *values; /* ENUM: ended by a NULL name */
	/* The key's own rule, run on a non-empty value before its type's. */
	enum bb_rc (*check)(const char *value, struct err *e);
	/* CUSTOM: checks value and stores it in ctx->cfg. */
	enum bb_rc (*set)(const struct config_ctx *ctx, const char *value, struct err *e);
};

/* ENUM fields are written through an int *. */
_Static_assert(sizeof(enum config_object_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_note_content) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_moderation) == sizeof(int), "enum size");

static enum bb_rc set_string(char **slot, const char *value, struct err *e)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	free(*slot);
	*slot = copy;
	return BB_OK;
}

/* NULL for an empty value (optional keys). */
static enum bb_rc set_optional(char **slot, const char *value, struct err *e)
{
	if (value[0] == '\0') {
		free(*slot);
		*slot = NULL;
		return BB_OK;
	}
	return set_string(slot, value, e);
}

/*
 * Parses an http(s) URL with libcurl's parser.  With origin_only, nothing
 * may follow the authority but "/".  On success *norm (when not NULL)
 * receives scheme://host[:port] in lower case, and *hostport the host with
 * its port when that is not the scheme's default.
 */
static enum bb_rc parse_http_url(const char *value, bool origin_only, char **norm, char **hostport,
				 struct err *e)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *frag = NULL,
	     *user = NULL;
	enum bb_rc rc = BB_OK;
	size_t len;

	if (u == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, value, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = err_set(e, BB_ERR_CONFIG, "'%s' is not a valid http(s) URL", value);
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		rc = err_set(e, BB_ERR_CONFIG, "'%s' must be an http or https URL", value);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		rc = err_set(e, BB_ERR_CONFIG, "'%s' must not contain a user name", value);
		goto out;
	}
	if (origin_only) {
		if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && path[0] &&
		    strcmp(path, "/") != 0) {
			rc = err_set(e, BB_ERR_CONFIG,
				     "'%s' must be an origin (scheme://host[:port]) without a path",
				     value);
			goto out;
		}
		if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
		    curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
			rc = err_set(e, BB_ERR_CONFIG,
				     "'%s' must be an origin without query or fragment", value);
			goto out;
		}
	}
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	/* CURLUPART_PORT without CURLU_DEFAULT_PORT is absent when it is the
	 * scheme's default, which is exactly when WebFinger omits it. */
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
		if ((strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
		    (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0)) {
			curl_free(port);
			port = NULL;
		}
	}
	len = strlen(host) + (port ? strlen(port) + 1 : 0) + 1;
	if (hostport) {
		*hostport = malloc(len);
		if (*hostport == NULL) {
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		snprintf(*hostport, len, "%s%s%s", host, port ? ":" : "", port ? port : "");
	}
	if (norm) {
		size_t nl = strlen(scheme) + 3 + len;
		*norm = malloc(nl);
		if (*norm == NULL) {
			if (hostport) {
				free(*hostport);
				*hostport = NULL;
			}
			rc = err_set(e, BB_ERR_NOMEM, "out of memory");
			goto out;
		}
		snprintf(*norm, nl, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_free(frag);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

/* CONFIG_T_URL: any http(s) URL, or NULL for an empty value. */
static enum bb_rc set_url(char **slot, const char *v, struct err *e)
{
	enum bb_rc rc;

	if (v[0] && (rc = parse_http_url(v, false, NULL, NULL, e)) != BB_OK)
		return rc;
	return set_optional(slot, v, e);
}

static enum bb_rc set_path(char **slot, const char *v, const char *dir, struct err *e)
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

static bool parse_uint(const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long x;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		return false;
	*out = x;
	return true;
}

static enum bb_rc set_uint(const struct config_key *k, unsigned *slot, const char *v, struct err *e)
{
	unsigned long x;

	if (!parse_uint(v, k->min, k->max, &x))
		return err_set(e, BB_ERR_CONFIG, "%s '%s' must be a number%s%s from %lu to %lu",
			       k->name, v, k->unit ? " of " : "", k->unit ? k->unit : "", k->min,
			       k->max);
	*slot = (unsigned)x;
	return BB_OK;
}

static enum bb_rc set_bool(const struct config_key *k, bool *slot, const char *v, struct err *e)
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

static enum bb_rc set_enum(const struct config_key *k, int *slot, const char *v, struct err *e)
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

static void domains_free(char ***list, size_t *count)
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

static enum bb_rc set_domains(const struct config_key *k, char ***list, size_t *count,
			      const char *v, struct err *e)
{
	const char *p = v;

	domains_free(list, count);
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
			domains_free(list, count);
			return err_set(e, BB_ERR_CONFIG, "%s: '%.*s' is not a domain name", k->name,
				       (int)len, start);
		}
		grown = realloc(*list, (*count + 2) * sizeof(*grown));
		d = strndup(start, len);
		if (grown == NULL || d == NULL) {
			free(d);
			if (grown)
				*list = grown;
			domains_free(list, count);
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

/* Mastodon's username rule, /\A[a-z0-9_]+([.-]+[a-z0-9_]+)*\z/i
 * (app/models/account.rb): word characters, with runs of . and - only
 * between them, which is the same as "starts and ends with a word
 * character". */
static bool handle_char_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static enum bb_rc check_handle(const char *v, struct err *e)
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
static enum bb_rc check_tag_url(const char *v, struct err *e)
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
static enum bb_rc check_language(const char *v, struct err *e)
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
static enum bb_rc set_base_url(const struct config_ctx *ctx, const char *v, struct err *e)
{
	char *norm = NULL, *hostport = NULL;
	enum bb_rc rc = parse_http_url(v, true, &norm, &hostport, e);

	if (rc != BB_OK)
		return rc;
	free(ctx->cfg->base_url);
	free(ctx->cfg->host);
	ctx->cfg->base_url = norm;
	ctx->cfg->host = hostport;
	return BB_OK;
}

/* [site] feed: an http(s) URL, or a path resolved against the folder. */
static enum bb_rc set_feed(const struct config_ctx *ctx, const char *v, struct err *e)
{
	struct config *cfg = ctx->cfg;
	enum bb_rc rc;
	char *path;

	if (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0) {
		if ((rc = parse_http_url(v, false, NULL, NULL, e)) != BB_OK)
			return rc;
		cfg->feed_is_url = true;
		return set_string(&cfg->feed, v, e);
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
static enum bb_rc set_listen(const struct config_ctx *ctx, const char *v, struct err *e)
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
	return set_string(&cfg->listen, v, e);
}

static const struct config_enum_value object_types[] = {
    {"note", CONFIG_OBJECT_NOTE}, {"article", CONFIG_OBJECT_ARTICLE}, {NULL, 0}};
static const struct config_enum_value note_contents[] = {
    {"full", CONFIG_NOTE_FULL}, {"excerpt", CONFIG_NOTE_EXCERPT}, {NULL, 0}};
static const struct config_enum_value moderations[] = {
    {"manual", CONFIG_MODERATION_MANUAL},
    {"known", CONFIG_MODERATION_KNOWN},
    {"auto", CONFIG_MODERATION_AUTO},
    {NULL, 0}};

#define AT(field) .offset = offsetof(struct config, field)

/* In the order required keys are reported when missing. */
static const struct config_key config_keys[] = {
    {"site", "base_url", CONFIG_T_CUSTOM, .required = true, .set = set_base_url},
    {"site", "handle", CONFIG_T_STRING, .required = true, AT(handle), .check = check_handle},
    {"site", "name", CONFIG_T_OPTIONAL, .fallback = "", AT(name)},
    {"site", "summary", CONFIG_T_STRING, .fallback = "", AT(summary)},
    {"site", "url", CONFIG_T_URL, .fallback = "", AT(url)},
    {"site", "icon", CONFIG_T_URL, .fallback = "", AT(icon)},
    {"site", "tag_url", CONFIG_T_URL, .fallback = "", AT(tag_url), .check = check_tag_url},
    {"site", "feed", CONFIG_T_CUSTOM, .required = true, .set = set_feed},
    {"site", "poll_interval", CONFIG_T_UINT, .fallback = "300", AT(poll_interval), .min = 10,
     .max = 7 * 24 * 3600, .unit = "seconds"},
    {"site", "object_type", CONFIG_T_ENUM, .fallback = "note", AT(object_type),
     .values = object_types},
    {"site", "note_content", CONFIG_T_ENUM, .fallback = "full", AT(note_content),
     .values = note_contents},
    {"site", "language", CONFIG_T_OPTIONAL, .fallback = "", AT(language), .check = check_language},
    {"server", "listen", CONFIG_T_CUSTOM, .fallback = "127.0.0.1:8080", .set = set_listen},
    {"store", "database", CONFIG_T_PATH, .fallback = "data/bridge.db", AT(database)},
    {"federation", "key", CONFIG_T_PATH, .fallback = "data/actor.pem", AT(key_path)},
    {"federation", "allow_private_addresses", CONFIG_T_BOOL, .fallback = "false",
     AT(allow_private_addresses)},
    {"federation", "blocked_domains", CONFIG_T_DOMAINS, .fallback = "", AT(blocked_domains),
     .count_offset = offsetof(struct config, blocked_domains_count)},
    {"comments", "moderation", CONFIG_T_ENUM, .fallback = "manual", AT(moderation),
     .values = moderations},
    {"admin", "password_hash", CONFIG_T_OPTIONAL, .fallback = "", AT(password_hash)},
};

#undef AT

#define CONFIG_KEY_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))

/* The field of cfg at offset. */
static void *key_slot(struct config *cfg, size_t offset)
{
	return (char *)cfg + offset;
}

/* Checks value for key k and stores it in ctx->cfg. */
static enum bb_rc key_set(const struct config_ctx *ctx, const struct config_key *k, const char *v,
			  struct err *e)
{
	void *slot = key_slot(ctx->cfg, k->offset);
	enum bb_rc rc;

	if (k->check != NULL && v[0] != '\0' && (rc = k->check(v, e)) != BB_OK)
		return rc;
	switch (k->type) {
	case CONFIG_T_STRING: return set_string(slot, v, e);
	case CONFIG_T_OPTIONAL: return set_optional(slot, v, e);
	case CONFIG_T_URL: return set_url(slot, v, e);
	case CONFIG_T_PATH: return set_path(slot, v, ctx->dir, e);
	case CONFIG_T_UINT: return set_uint(k, slot, v, e);
	case CONFIG_T_BOOL: return set_bool(k, slot, v, e);
	case CONFIG_T_ENUM: return set_enum(k, slot, v, e);
	case CONFIG_T_DOMAINS:
		return set_domains(k, slot, key_slot(ctx->cfg, k->count_offset), v, e);
	case CONFIG_T_CUSTOM: return k->set(ctx, v, e);
	}
	return err_set(e, BB_ERR_CONFIG, "%s: no such key type", k->name);
}

/* Frees what key k's field holds (CUSTOM fields: config_free). */
static void key_free(struct config *cfg, const struct config_key *k)
{
	void *slot = key_slot(cfg, k->offset);

	switch (k->type) {
	case CONFIG_T_STRING:
	case CONFIG_T_OPTIONAL:
	case CONFIG_T_URL:
	case CONFIG_T_PATH:
		free(*(char **)slot);
		*(char **)slot = NULL;
		break;
	case CONFIG_T_DOMAINS: domains_free(slot, key_slot(cfg, k->count_offset)); break;
	case CONFIG_T_UINT:
	case CONFIG_T_BOOL:
	case CONFIG_T_ENUM:
	case CONFIG_T_CUSTOM: break;
	}
}

static void add_error(struct config_errors *errs, const char *path, unsigned line, const char *fmt,
		      ...) BB_PRINTF(4, 5);

static void add_error(struct config_errors *errs, const char *path, unsigned line, const char *fmt,
		      ...)
{
	char text[BB_ERR_MSG_MAX];
	va_list ap;

	if (errs->count >= CONFIG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(errs->line[errs->count++], CONFIG_ERROR_MAX, "%.160s:%u: %s", path, line,
			 text);
	else
		snprintf(errs->line[errs->count++], CONFIG_ERROR_MAX, "%.160s: %s", path, text);
}

static bool section_known(const char *s)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
		if (strcmp(config_keys[i].section, s) == 0)
			return true;
	return false;
}

static const struct config_key *key_find(const char *section, const char *name, size_t *index)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0) {
			*index = i;
			return &config_keys[i];
		}
	}
	return NULL;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Cuts a trailing comment (a # or ; after whitespace) and unquotes.
 * Returns NULL for an unterminated quote. */
static char *value_clean(char *v)
{
	v = trim(v);
	if (v[0] == '"') {
		char *close = strchr(v + 1, '"');
		char *rest;
		if (close == NULL)
			return NULL;
		*close = '\0';
		rest = trim(close + 1);
		if (rest[0] != '\0' && rest[0] != '#' && rest[0] != ';')
			return NULL;
		return v + 1;
	}
	/* "key =   # comment": the value is empty.  (A value that must
	 * start with # or ; is written in quotes.) */
	if (v[0] == '#' || v[0] == ';')
		return v + strlen(v);
	for (char *p = v; *p; p++) {
		if ((*p == '#' || *p == ';') && p > v && isspace((unsigned char)p[-1])) {
			*p = '\0';
			break;
		}
	}
	return trim(v);
}

/* One load: the config being filled, its errors, the current section and
 * the line each key was first set on (0: not yet). */
struct config_parse {
	struct config_ctx ctx;
	struct config_errors *errs;
	unsigned seen_line[CONFIG_KEY_COUNT];
	char section[64];
	bool in_known_section;
};

/* A "[section]" line (line starts with '['). */
static void parse_section(struct config_parse *p, char *line, unsigned lineno)
{
	const char *path = p->ctx.cfg->path;
	char *close = strchr(line, ']');
	char *rest = close ? trim(close + 1) : NULL;

	if (close == NULL || (rest[0] && rest[0] != '#' && rest[0] != ';')) {
		add_error(p->errs, path, lineno, "malformed section header '%s'", line);
		p->in_known_section = false;
		return;
	}
	*close = '\0';
	snprintf(p->section, sizeof(p->section), "%s", trim(line + 1));
	p->in_known_section = section_known(p->section);
	if (!p->in_known_section)
		add_error(p->errs, path, lineno, "unknown section '[%s]'", p->section);
}

/* A "key = value" line, or what should have been one. */
static void parse_assignment(struct config_parse *p, char *line, unsigned lineno)
{
	const char *path = p->ctx.cfg->path;
	const struct config_key *k;
	char *eq = strchr(line, '='), *key, *value;
	struct err e;
	size_t idx;

	if (eq == NULL) {
		add_error(p->errs, path, lineno, "expected 'key = value', got '%s'", line);
		return;
	}
	*eq = '\0';
	key = trim(line);
	value = value_clean(eq + 1);
	if (p->section[0] == '\0') {
		add_error(p->errs, path, lineno, "key '%s' before any [section]", key);
		return;
	}
	if (!p->in_known_section)
		return; /* already reported once, at the header */
	k = key_find(p->section, key, &idx);
	if (k == NULL) {
		add_error(p->errs, path, lineno, "unknown key '%s' in [%s]", key, p->section);
		return;
	}
	if (p->seen_line[idx]) {
		add_error(p->errs, path, lineno, "duplicate key '%s' (first set on line %u)", key,
			  p->seen_line[idx]);
		return;
	}
	p->seen_line[idx] = lineno;
	if (value == NULL) {
		add_error(p->errs, path, lineno, "unterminated quoted value for '%s'", key);
		return;
	}
	if (value[0] == '\0' && k->required) {
		add_error(p->errs, path, lineno, "missing value for '%s'", key);
		return;
	}
	if (key_set(&p->ctx, k, value, &e) != BB_OK)
		add_error(p->errs, path, lineno, "%s", e.msg);
}

/* Parses the lines of f into p->ctx.cfg, recording errors. */
static void parse_lines(struct config_parse *p, FILE *f)
{
	char raw[CONFIG_LINE_MAX + 2];
	unsigned lineno = 0;

	while (fgets(raw, sizeof(raw), f) != NULL) {
		size_t rawlen = strlen(raw);
		char *line;

		lineno++;
		if (rawlen > 0 && raw[rawlen - 1] != '\n' && !feof(f)) {
			int c;
			add_error(p->errs, p->ctx.cfg->path, lineno,
				  "line longer than %d characters", CONFIG_LINE_MAX);
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		line = trim(raw);
		if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
			continue;
		if (line[0] == '[')
			parse_section(p, line, lineno);
		else
			parse_assignment(p, line, lineno);
	}
}

/* Defaults and required keys, in table order. */
static void apply_defaults(struct config_parse *p)
{
	const char *path = p->ctx.cfg->path;

	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		const struct config_key *k = &config_keys[i];
		struct err e;
		if (p->seen_line[i])
			continue;
		if (k->required) {
			add_error(p->errs, path, 0, "missing required key '%s' in [%s]", k->name,
				  k->section);
			continue;
		}
		if (key_set(&p->ctx, k, k->fallback, &e) != BB_OK)
			add_error(p->errs, path, 0, "default for '%s': %s", k->name, e.msg);
	}
}

/* Values that default to others: the name to the handle, and the blog's
 * home page to the origin of the feed's URL (WordPress feeds live at
 * https://blog/feed/), else to the bridge. */
static void derive_defaults(struct config *cfg, struct config_errors *errs)
{
	struct err e;

	if (cfg->name == NULL && set_string(&cfg->name, cfg->handle, &e) != BB_OK)
		add_error(errs, cfg->path, 0, "%s", e.msg);
	if (cfg->url == NULL) {
		char *origin = NULL;
		const char *home = cfg->base_url;
		size_t len;
		if (cfg->feed_is_url &&
		    parse_http_url(cfg->feed, false, &origin, NULL, &e) == BB_OK)
			home = origin;
		len = strlen(home) + 2;
		cfg->url = malloc(len);
		if (cfg->url)
			snprintf(cfg->url, len, "%s/", home);
		free(origin);
		if (cfg->url == NULL)
			add_error(errs, cfg->path, 0, "out of memory");
	}
}

enum bb_rc config_load(const char *path, struct config **out, struct config_errors *errs)
{
	struct config_parse p = {.errs = errs};
	struct config *cfg = NULL;
	char dirbuf[PATH_MAX];
	FILE *f = NULL;
	enum bb_rc rc = BB_OK;

	*out = NULL;
	errs->count = 0;
	f = fopen(path, "r");
	if (f == NULL) {
		add_error(errs, path, 0, "cannot open: %s", strerror(errno));
		rc = BB_ERR_IO;
		goto out;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL || (cfg->path = strdup(path)) == NULL) {
		add_error(errs, path, 0, "out of memory");
		rc = BB_ERR_NOMEM;
		goto out;
	}
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	p.ctx.cfg = cfg;
	p.ctx.dir = dirname(dirbuf);
	if (strcmp(p.ctx.dir, ".") == 0)
		p.ctx.dir = "";
	parse_lines(&p, f);
	if (ferror(f))
		add_error(errs, path, 0, "read error");
	apply_defaults(&p);
	if (errs->count == 0)
		derive_defaults(cfg, errs);
	if (errs->count > 0) {
		rc = BB_ERR_CONFIG;
		goto out;
	}
	*out = cfg;
	cfg = NULL;
out:
	if (f)
		fclose(f);
	config_free(cfg);
	return rc;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
		key_free(cfg, &config_keys[i]);
	/* The fields the CUSTOM keys fill. */
	free(cfg->base_url);
	free(cfg->host);
	free(cfg->feed);
	free(cfg->listen);
	free(cfg->path);
	free(cfg);
}
