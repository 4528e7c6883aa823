/*
 * config.c — see config.h.  The keys are a table: each names its section,
 * whether it must be present, its default, and the function that validates
 * and stores its value.
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

/* A setter validates value and stores it in cfg; on failure it writes a
 * message to msg and returns false.  dir is the folder of the config file. */
typedef bool (*config_setter)(struct config *cfg, const char *value, const char *dir, char *msg,
			      size_t msglen);

struct config_key {
	const char *section;
	const char *name;
	bool required;
	const char *fallback; /* default value when absent; NULL for none */
	config_setter set;
};

static bool msgf(char *msg, size_t n, const char *fmt, ...) BB_PRINTF(3, 4);

static bool msgf(char *msg, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, n, fmt, ap);
	va_end(ap);
	return false;
}

static bool set_string(char **slot, const char *value, char *msg, size_t n)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return msgf(msg, n, "out of memory");
	free(*slot);
	*slot = copy;
	return true;
}

/* NULL for an empty value (optional keys). */
static bool set_optional(char **slot, const char *value, char *msg, size_t n)
{
	if (value[0] == '\0') {
		free(*slot);
		*slot = NULL;
		return true;
	}
	return set_string(slot, value, msg, n);
}

/*
 * Parses an http(s) URL with libcurl's parser.  With origin_only, nothing
 * may follow the authority but "/".  On success *norm (when not NULL)
 * receives scheme://host[:port] in lower case, and *hostport the host with
 * its port when that is not the scheme's default.
 */
static bool parse_http_url(const char *value, bool origin_only, char **norm, char **hostport,
			   char *msg, size_t n)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL,
	     *frag = NULL, *user = NULL;
	bool ok = false;
	size_t len;

	if (u == NULL)
		return msgf(msg, n, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, value, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		msgf(msg, n, "'%s' is not a valid http(s) URL", value);
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		msgf(msg, n, "'%s' must be an http or https URL", value);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		msgf(msg, n, "'%s' must not contain a user name", value);
		goto out;
	}
	if (origin_only) {
		if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && path[0] &&
		    strcmp(path, "/") != 0) {
			msgf(msg, n, "'%s' must be an origin (scheme://host[:port]) without a path",
			     value);
			goto out;
		}
		if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
		    curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
			msgf(msg, n, "'%s' must be an origin without query or fragment", value);
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
			msgf(msg, n, "out of memory");
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
			msgf(msg, n, "out of memory");
			goto out;
		}
		snprintf(*norm, nl, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
	}
	ok = true;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_free(frag);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}

static bool set_base_url(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	char *norm = NULL, *hostport = NULL;

	(void)dir;
	if (!parse_http_url(v, true, &norm, &hostport, msg, n))
		return false;
	free(cfg->base_url);
	free(cfg->host);
	cfg->base_url = norm;
	cfg->host = hostport;
	return true;
}

/* Mastodon's username rule, /\A[a-z0-9_]+([.-]+[a-z0-9_]+)*\z/i
 * (app/models/account.rb): word characters, with runs of . and - only
 * between them, which is the same as "starts and ends with a word
 * character". */
static bool handle_char_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static bool set_handle(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	size_t len = strlen(v);

	(void)dir;
	if (len > 64)
		return msgf(msg, n, "handle '%s' is longer than 64 characters", v);
	for (size_t i = 0; i < len; i++)
		if (!handle_char_word(v[i]) && v[i] != '.' && v[i] != '-')
			len = 0;
	if (len == 0 || !handle_char_word(v[0]) || !handle_char_word(v[len - 1]))
		return msgf(msg, n,
			    "handle '%s' may hold only letters, digits and _ (with . or - between "
			    "them)",
			    v);
	return set_string(&cfg->handle, v, msg, n);
}

static bool set_name(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	(void)dir;
	return set_optional(&cfg->name, v, msg, n);
}

static bool set_summary(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	(void)dir;
	return set_string(&cfg->summary, v, msg, n);
}

static bool set_url(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	(void)dir;
	if (v[0] && !parse_http_url(v, false, NULL, NULL, msg, n))
		return false;
	return set_optional(&cfg->url, v, msg, n);
}

static bool set_icon(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	(void)dir;
	if (v[0] && !parse_http_url(v, false, NULL, NULL, msg, n))
		return false;
	return set_optional(&cfg->icon, v, msg, n);
}

/* A URL template with "{slug}" where the tag goes. */
static bool set_tag_url(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	(void)dir;
	if (v[0] == '\0')
		return set_optional(&cfg->tag_url, v, msg, n);
	if (strstr(v, "{slug}") == NULL)
		return msgf(msg, n, "tag_url '%s' must contain {slug}, e.g. https://blog.example/tag/{slug}/",
			    v);
	if (!parse_http_url(v, false, NULL, NULL, msg, n))
		return false;
	return set_optional(&cfg->tag_url, v, msg, n);
}

static bool set_feed(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	char *path;

	if (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0) {
		if (!parse_http_url(v, false, NULL, NULL, msg, n))
			return false;
		cfg->feed_is_url = true;
		return set_string(&cfg->feed, v, msg, n);
	}
	if (strstr(v, "://") != NULL)
		return msgf(msg, n, "feed '%s' must be an http(s) URL or a file path", v);
	path = fs_path_join(dir, v);
	if (path == NULL)
		return msgf(msg, n, "out of memory");
	free(cfg->feed);
	cfg->feed = path;
	cfg->feed_is_url = false;
	return true;
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

static bool set_poll_interval(struct config *cfg, const char *v, const char *dir, char *msg,
			      size_t n)
{
	unsigned long x;

	(void)dir;
	if (!parse_uint(v, 10, 7 * 24 * 3600, &x))
		return msgf(msg, n, "poll_interval '%s' must be a number of seconds from 10 to 604800",
			    v);
	cfg->poll_interval = (unsigned)x;
	return true;
}

static bool set_object_type(struct config *cfg, const char *v, const char *dir, char *msg,
			    size_t n)
{
	(void)dir;
	if (strcmp(v, "note") == 0)
		cfg->object_type = CONFIG_OBJECT_NOTE;
	else if (strcmp(v, "article") == 0)
		cfg->object_type = CONFIG_OBJECT_ARTICLE;
	else
		return msgf(msg, n, "object_type '%s' must be note or article", v);
	return true;
}

static bool set_note_content(struct config *cfg, const char *v, const char *dir, char *msg,
			     size_t n)
{
	(void)dir;
	if (strcmp(v, "full") == 0)
		cfg->note_content = CONFIG_NOTE_FULL;
	else if (strcmp(v, "excerpt") == 0)
		cfg->note_content = CONFIG_NOTE_EXCERPT;
	else
		return msgf(msg, n, "note_content '%s' must be full or excerpt", v);
	return true;
}

/* BCP 47, checked for shape: a 2-3 letter (or 5-8) primary subtag, then
 * alphanumeric subtags of 1-8 characters. */
static bool set_language(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	size_t run = 0, subtags = 0;
	bool ok = true;

	(void)dir;
	if (v[0] == '\0')
		return set_optional(&cfg->language, v, msg, n);
	for (const char *p = v;; p++) {
		if (*p == '-' || *p == '\0') {
			if (run == 0 || run > 8 || (subtags == 0 && (run < 2 || run == 4)))
				ok = false;
			subtags++;
			run = 0;
			if (*p == '\0')
				break;
		} else if (isalpha((unsigned char)*p) || (subtags > 0 && isdigit((unsigned char)*p))) {
			run++;
		} else {
			ok = false;
		}
	}
	if (!ok)
		return msgf(msg, n, "language '%s' is not a BCP 47 tag such as fr or en-GB", v);
	return set_optional(&cfg->language, v, msg, n);
}

static bool set_listen(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *hs = v;
	size_t hl;
	unsigned long port;

	(void)dir;
	memset(&cfg->listen_addr, 0, sizeof(cfg->listen_addr));
	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		if (close == NULL || close[1] != ':')
			return msgf(msg, n, "listen '%s' must be [IPv6]:PORT", v);
		hs = v + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL)
			return msgf(msg, n, "listen '%s' must be ADDRESS:PORT, e.g. 127.0.0.1:8080",
				    v);
		hl = (size_t)(colon - v);
	}
	if (!parse_uint(colon + 1, 1, 65535, &port))
		return msgf(msg, n, "listen '%s': port must be a number from 1 to 65535", v);
	if (hl == 0 || hl >= sizeof(host))
		return msgf(msg, n, "listen '%s': missing or bad address", v);
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (v[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)&cfg->listen_addr;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return msgf(msg, n, "listen '%s': '%s' is not an IPv4 address", v, host);
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		cfg->listen_addrlen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg->listen_addr;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return msgf(msg, n, "listen '%s': '%s' is not an IPv6 address", v, host);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		cfg->listen_addrlen = sizeof(*sin6);
	}
	return set_string(&cfg->listen, v, msg, n);
}

static bool set_path(char **slot, const char *v, const char *dir, char *msg, size_t n)
{
	char *path;

	if (v[0] == '\0')
		return msgf(msg, n, "a path is required");
	path = fs_path_join(dir, v);
	if (path == NULL)
		return msgf(msg, n, "out of memory");
	free(*slot);
	*slot = path;
	return true;
}

static bool set_database(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	return set_path(&cfg->database, v, dir, msg, n);
}

static bool set_key(struct config *cfg, const char *v, const char *dir, char *msg, size_t n)
{
	return set_path(&cfg->key_path, v, dir, msg, n);
}

static bool set_allow_private(struct config *cfg, const char *v, const char *dir, char *msg,
			      size_t n)
{
	(void)dir;
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 ||
	    strcmp(v, "1") == 0)
		cfg->allow_private_addresses = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0 ||
		 strcmp(v, "0") == 0)
		cfg->allow_private_addresses = false;
	else
		return msgf(msg, n, "allow_private_addresses '%s' must be true or false", v);
	return true;
}

static void free_domains(struct config *cfg)
{
	for (size_t i = 0; i < cfg->blocked_domains_count; i++)
		free(cfg->blocked_domains[i]);
	free(cfg->blocked_domains);
	cfg->blocked_domains = NULL;
	cfg->blocked_domains_count = 0;
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

static bool set_blocked_domains(struct config *cfg, const char *v, const char *dir, char *msg,
				size_t n)
{
	const char *p = v;

	(void)dir;
	free_domains(cfg);
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
			free_domains(cfg);
			return msgf(msg, n, "blocked_domains: '%.*s' is not a domain name", (int)len,
				    start);
		}
		grown = realloc(cfg->blocked_domains,
				(cfg->blocked_domains_count + 2) * sizeof(*grown));
		d = strndup(start, len);
		if (grown == NULL || d == NULL) {
			free(d);
			if (grown)
				cfg->blocked_domains = grown;
			free_domains(cfg);
			return msgf(msg, n, "out of memory");
		}
		for (char *q = d; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		cfg->blocked_domains = grown;
		cfg->blocked_domains[cfg->blocked_domains_count++] = d;
		cfg->blocked_domains[cfg->blocked_domains_count] = NULL;
		p = comma ? comma + 1 : end;
	}
	return true;
}

static bool set_moderation(struct config *cfg, const char *v, const char *dir, char *msg,
			   size_t n)
{
	(void)dir;
	if (strcmp(v, "manual") == 0)
		cfg->moderation = CONFIG_MODERATION_MANUAL;
	else if (strcmp(v, "auto") == 0)
		cfg->moderation = CONFIG_MODERATION_AUTO;
	else
		return msgf(msg, n, "moderation '%s' must be manual or auto", v);
	return true;
}

static bool set_password_hash(struct config *cfg, const char *v, const char *dir, char *msg,
			      size_t n)
{
	(void)dir;
	return set_optional(&cfg->password_hash, v, msg, n);
}

static const struct config_key config_keys[] = {
	{"site", "base_url", true, NULL, set_base_url},
	{"site", "handle", true, NULL, set_handle},
	{"site", "name", false, "", set_name},
	{"site", "summary", false, "", set_summary},
	{"site", "url", false, "", set_url},
	{"site", "icon", false, "", set_icon},
	{"site", "tag_url", false, "", set_tag_url},
	{"site", "feed", true, NULL, set_feed},
	{"site", "poll_interval", false, "300", set_poll_interval},
	{"site", "object_type", false, "note", set_object_type},
	{"site", "note_content", false, "full", set_note_content},
	{"site", "language", false, "", set_language},
	{"server", "listen", false, "127.0.0.1:8080", set_listen},
	{"store", "database", false, "data/bridge.db", set_database},
	{"federation", "key", false, "data/actor.pem", set_key},
	{"federation", "allow_private_addresses", false, "false", set_allow_private},
	{"federation", "blocked_domains", false, "", set_blocked_domains},
	{"comments", "moderation", false, "manual", set_moderation},
	{"admin", "password_hash", false, "", set_password_hash},
};

#define CONFIG_KEY_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))

static void add_error(struct config_errors *errs, const char *path, unsigned line,
		      const char *fmt, ...) BB_PRINTF(4, 5);

static void add_error(struct config_errors *errs, const char *path, unsigned line,
		      const char *fmt, ...)
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

/* Parses the lines of f into cfg, recording errors. */
static void config_parse_lines(FILE *f, struct config *cfg, const char *dir, unsigned *seen_line,
			       struct config_errors *errs)
{
	char raw[CONFIG_LINE_MAX + 2];
	char section[64] = "";
	unsigned lineno = 0;
	bool in_known_section = false;

	while (fgets(raw, sizeof(raw), f) != NULL) {
		char *line, *eq, *key, *value;
		const struct config_key *k;
		char msg[BB_ERR_MSG_MAX];
		size_t idx;
		size_t rawlen = strlen(raw);

		lineno++;
		if (rawlen > 0 && raw[rawlen - 1] != '\n' && !feof(f)) {
			int c;
			add_error(errs, cfg->path, lineno, "line longer than %d characters",
				  CONFIG_LINE_MAX);
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		line = trim(raw);
		if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
			continue;
		if (line[0] == '[') {
			char *close = strchr(line, ']');
			char *rest = close ? trim(close + 1) : NULL;
			if (close == NULL || (rest[0] && rest[0] != '#' && rest[0] != ';')) {
				add_error(errs, cfg->path, lineno, "malformed section header '%s'",
					  line);
				in_known_section = false;
				continue;
			}
			*close = '\0';
			snprintf(section, sizeof(section), "%s", trim(line + 1));
			in_known_section = section_known(section);
			if (!in_known_section)
				add_error(errs, cfg->path, lineno, "unknown section '[%s]'", section);
			continue;
		}
		eq = strchr(line, '=');
		if (eq == NULL) {
			add_error(errs, cfg->path, lineno, "expected 'key = value', got '%s'", line);
			continue;
		}
		*eq = '\0';
		key = trim(line);
		value = value_clean(eq + 1);
		if (section[0] == '\0') {
			add_error(errs, cfg->path, lineno, "key '%s' before any [section]", key);
			continue;
		}
		if (!in_known_section)
			continue; /* already reported once, at the header */
		k = key_find(section, key, &idx);
		if (k == NULL) {
			add_error(errs, cfg->path, lineno, "unknown key '%s' in [%s]", key, section);
			continue;
		}
		if (seen_line[idx]) {
			add_error(errs, cfg->path, lineno, "duplicate key '%s' (first set on line %u)",
				  key, seen_line[idx]);
			continue;
		}
		seen_line[idx] = lineno;
		if (value == NULL) {
			add_error(errs, cfg->path, lineno, "unterminated quoted value for '%s'", key);
			continue;
		}
		if (value[0] == '\0' && k->required) {
			add_error(errs, cfg->path, lineno, "missing value for '%s'", key);
			continue;
		}
		if (!k->set(cfg, value, dir, msg, sizeof(msg)))
			add_error(errs, cfg->path, lineno, "%s", msg);
	}
}

enum bb_rc config_load(const char *path, struct config **out, struct config_errors *errs)
{
	struct config *cfg = NULL;
	unsigned seen_line[CONFIG_KEY_COUNT] = {0};
	char dirbuf[PATH_MAX];
	const char *dir;
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
	dir = dirname(dirbuf);
	if (strcmp(dir, ".") == 0)
		dir = "";
	config_parse_lines(f, cfg, dir, seen_line, errs);
	if (ferror(f))
		add_error(errs, path, 0, "read error");
	/* Defaults and required keys, in table order. */
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		const struct config_key *k = &config_keys[i];
		char msg[BB_ERR_MSG_MAX];
		if (seen_line[i])
			continue;
		if (k->required) {
			add_error(errs, path, 0, "missing required key '%s' in [%s]", k->name,
				  k->section);
			continue;
		}
		if (!k->set(cfg, k->fallback, dir, msg, sizeof(msg)))
			add_error(errs, path, 0, "default for '%s': %s", k->name, msg);
	}
	if (errs->count == 0) {
		char msg[BB_ERR_MSG_MAX];
		if (cfg->name == NULL && !set_string(&cfg->name, cfg->handle, msg, sizeof(msg)))
			add_error(errs, path, 0, "%s", msg);
		/* The blog's home page: by default the origin of the feed's URL
		 * (WordPress feeds live at https://blog/feed/), else the bridge. */
		if (cfg->url == NULL) {
			char *origin = NULL;
			if (cfg->feed_is_url &&
			    parse_http_url(cfg->feed, false, &origin, NULL, msg, sizeof(msg))) {
				size_t len = strlen(origin) + 2;
				cfg->url = malloc(len);
				if (cfg->url)
					snprintf(cfg->url, len, "%s/", origin);
				free(origin);
			} else {
				size_t len = strlen(cfg->base_url) + 2;
				cfg->url = malloc(len);
				if (cfg->url)
					snprintf(cfg->url, len, "%s/", cfg->base_url);
			}
			if (cfg->url == NULL)
				add_error(errs, path, 0, "out of memory");
		}
	}
	if (errs->count > 0) {
		rc = rc == BB_OK ? BB_ERR_CONFIG : rc;
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
	free(cfg->path);
	free(cfg->base_url);
	free(cfg->host);
	free(cfg->handle);
	free(cfg->name);
	free(cfg->summary);
	free(cfg->url);
	free(cfg->icon);
	free(cfg->tag_url);
	free(cfg->feed);
	free(cfg->language);
	free(cfg->listen);
	free(cfg->database);
	free(cfg->key_path);
	free_domains(cfg);
	free(cfg->password_hash);
	free(cfg);
}
