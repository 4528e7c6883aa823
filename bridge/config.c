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
#include "config_int.h"
#include "fsutil.h"
#include "key.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ENUM fields are written through an int *. */
_Static_assert(sizeof(enum config_object_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_note_content) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_moderation) == sizeof(int), "enum size");

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
    {"site", "base_url", CONFIG_T_CUSTOM, .required = true, .set = config_set_base_url},
    {"site", "handle", CONFIG_T_STRING, .required = true, AT(handle), .check = config_check_handle},
    {"site", "name", CONFIG_T_OPTIONAL, .fallback = "", AT(name)},
    {"site", "summary", CONFIG_T_STRING, .fallback = "", AT(summary)},
    {"site", "url", CONFIG_T_URL, .fallback = "", AT(url)},
    {"site", "icon", CONFIG_T_URL, .fallback = "", AT(icon)},
    {"site", "tag_url", CONFIG_T_URL, .fallback = "", AT(tag_url), .check = config_check_tag_url},
    {"site", "feed", CONFIG_T_CUSTOM, .required = true, .set = config_set_feed},
    {"site", "poll_interval", CONFIG_T_UINT, .fallback = "300", AT(poll_interval), .min = 10,
     .max = 7 * 24 * 3600, .unit = "seconds"},
    {"site", "object_type", CONFIG_T_ENUM, .fallback = "note", AT(object_type),
     .values = object_types},
    {"site", "note_content", CONFIG_T_ENUM, .fallback = "full", AT(note_content),
     .values = note_contents},
    {"site", "language", CONFIG_T_OPTIONAL, .fallback = "", AT(language), .check = config_check_language},
    {"site", "header", CONFIG_T_URL, .fallback = "", AT(header)},
    {"site", "also_known_as", CONFIG_T_URLS, .fallback = "", AT(also_known_as),
     .count_offset = offsetof(struct config, also_known_as_count)},
    {"server", "listen", CONFIG_T_CUSTOM, .fallback = "127.0.0.1:8080", .set = config_set_listen},
    {"server", "trusted_proxies", CONFIG_T_STRING, .fallback = "127.0.0.1, ::1", AT(trusted_proxies)},
    {"store", "database", CONFIG_T_PATH, .fallback = "data/bridge.db", AT(database)},
    {"federation", "key", CONFIG_T_PATH, .fallback = "data/actor.pem", AT(key_path)},
    {"federation", "allow_private_addresses", CONFIG_T_BOOL, .fallback = "false",
     AT(allow_private_addresses)},
    {"federation", "blocked_domains", CONFIG_T_DOMAINS, .fallback = "", AT(blocked_domains),
     .count_offset = offsetof(struct config, blocked_domains_count)},
    {"federation", "authorized_fetch", CONFIG_T_BOOL, .fallback = "false", AT(authorized_fetch)},
    {"comments", "moderation", CONFIG_T_ENUM, .fallback = "manual", AT(moderation),
     .values = moderations},
    {"comments", "backfill", CONFIG_T_BOOL, .fallback = "true", AT(backfill)},
    {"admin", "password_hash", CONFIG_T_OPTIONAL, .fallback = "", AT(password_hash)},
    {"notify", "mail_to", CONFIG_T_OPTIONAL, .fallback = "", AT(mail_to),
     .check = config_check_mail_to},
    {"notify", "mail_from", CONFIG_T_OPTIONAL, .fallback = "", AT(mail_from),
     .check = config_check_mail_from},
    {"notify", "smtp_url", CONFIG_T_OPTIONAL, .fallback = "", AT(smtp_url),
     .check = config_check_smtp_url},
    {"notify", "webhook", CONFIG_T_URL, .fallback = "", AT(webhook)},
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
	case CONFIG_T_STRING: return config_set_string(slot, v, e);
	case CONFIG_T_OPTIONAL: return config_set_optional(slot, v, e);
	case CONFIG_T_URL: return config_set_url(k, slot, v, e);
	case CONFIG_T_PATH: return config_set_path(slot, v, ctx->dir, e);
	case CONFIG_T_UINT: return config_set_uint(k, slot, v, e);
	case CONFIG_T_BOOL: return config_set_bool(k, slot, v, e);
	case CONFIG_T_ENUM: return config_set_enum(k, slot, v, e);
	case CONFIG_T_DOMAINS:
		return config_set_domains(k, slot, key_slot(ctx->cfg, k->count_offset), v, e);
	case CONFIG_T_URLS:
		return config_set_urls(k, slot, key_slot(ctx->cfg, k->count_offset), v, e);
	case CONFIG_T_CUSTOM: return k->set(ctx, v, e);
	}
	return err_set(e, BB_ERR_CONFIG, "%s: no such key type", k->name);
}

/* Frees what key k's field holds (CUSTOM fields: config_free). */
static void key_field_free(struct config *cfg, const struct config_key *k)
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
	case CONFIG_T_DOMAINS:
	case CONFIG_T_URLS: config_domains_free(slot, key_slot(cfg, k->count_offset)); break;
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
	/* The known sections met: the line of the first header and the last
	 * line that set a key in it, where a missing key is to go. */
	struct config_section_seen {
		const char *name; /* the table's string */
		unsigned header, last;
	} sections[CONFIG_KEY_COUNT];
	size_t section_count;
	struct config_section_seen *current;
};

/* The record of section name, or NULL when it has not been met. */
static struct config_section_seen *section_seen(struct config_parse *p, const char *name)
{
	for (size_t i = 0; i < p->section_count; i++)
		if (strcmp(p->sections[i].name, name) == 0)
			return &p->sections[i];
	return NULL;
}

/* Records a header of the known section name on lineno. */
static void section_enter(struct config_parse *p, const char *name, unsigned lineno)
{
	struct config_section_seen *s = section_seen(p, name);

	for (size_t i = 0; s == NULL && i < CONFIG_KEY_COUNT; i++) {
		if (strcmp(config_keys[i].section, name) == 0) {
			s = &p->sections[p->section_count++];
			s->name = config_keys[i].section;
			s->header = s->last = lineno;
		}
	}
	p->current = s;
}

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
	p->current = NULL;
	if (p->in_known_section)
		section_enter(p, p->section, lineno);
	else
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
	if (p->current != NULL)
		p->current->last = lineno;
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
			struct config_section_seen *sec = section_seen(p, k->section);
			if (sec == NULL)
				add_error(p->errs, path, 0, "missing required key '%s' in [%s]",
					  k->name, k->section);
			else
				add_error(p->errs, path, sec->header,
					  "missing required key '%s' in [%s]: add it after line %u",
					  k->name, k->section, sec->last);
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

	if (cfg->name == NULL && config_set_string(&cfg->name, cfg->handle, &e) != BB_OK)
		add_error(errs, cfg->path, 0, "%s", e.msg);
	if (cfg->url == NULL) {
		char *origin = NULL;
		const char *home = cfg->base_url;
		size_t len;
		if (cfg->feed_is_url &&
		    config_parse_http_url("feed", cfg->feed, false, &origin, NULL, &e) == BB_OK)
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

static unsigned key_line(const struct config_parse *p, const char *section, const char *name);

/* Keys that need one another: mail_to and smtp_url (one without the other
 * sends nothing, which is a mistake worth a clear error), mail_from only
 * with them.  Reported on the line of the key that is there. */
static void check_together(struct config_parse *p)
{
	const struct config *cfg = p->ctx.cfg;
	const char *path = cfg->path;

	if (cfg->mail_to != NULL && cfg->smtp_url == NULL)
		add_error(p->errs, path, key_line(p, "notify", "mail_to"),
			  "mail_to needs smtp_url in [notify] (the server the mail is sent with)");
	if (cfg->smtp_url != NULL && cfg->mail_to == NULL)
		add_error(p->errs, path, key_line(p, "notify", "smtp_url"),
			  "smtp_url needs mail_to in [notify] (the address told)");
	if (cfg->mail_from != NULL && cfg->mail_to == NULL)
		add_error(p->errs, path, key_line(p, "notify", "mail_from"),
			  "mail_from needs mail_to and smtp_url in [notify]");
}

/* Reads path into *out (NULL on error), p->errs listing what is wrong;
 * p keeps the line of each key for config_check. */
static enum bb_rc config_read(const char *path, struct config_parse *p, struct config **out)
{
	struct config_errors *errs = p->errs;
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
	p->ctx.cfg = cfg;
	p->ctx.dir = dirname(dirbuf);
	if (strcmp(p->ctx.dir, ".") == 0)
		p->ctx.dir = "";
	parse_lines(p, f);
	if (ferror(f))
		add_error(errs, path, 0, "read error");
	apply_defaults(p);
	if (errs->count == 0)
		check_together(p);
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

enum bb_rc config_load(const char *path, struct config **out, struct config_errors *errs)
{
	struct config_parse p = {.errs = errs};

	return config_read(path, &p, out);
}

/* The line key of section was set on, 0 when it took its default. */
static unsigned key_line(const struct config_parse *p, const char *section, const char *name)
{
	size_t idx = 0;

	if (key_find(section, name, &idx) == NULL)
		return 0;
	return p->seen_line[idx];
}

/* ---- the files a configuration names (config_check) ----------------- */

/* Whether the file at path could be created or written: the nearest
 * folder above it that exists must be a folder this process may write
 * to (store_open and key_load_or_create make the ones missing below it;
 * SQLite also writes its -wal and -shm files beside the database).  On
 * false, why says what is in the way. */
static bool parent_writable(const char *path, char *why, size_t n)
{
	char dir[PATH_MAX];
	struct stat sb;
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(why, n, "path too long");
		return false;
	}
	for (;;) {
		slash = strrchr(dir, '/');
		if (slash == NULL)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &sb) == 0)
			break;
		if ((errno != ENOENT && errno != ENOTDIR) || slash == NULL || slash == dir) {
			snprintf(why, n, "folder '%s': %s", dir, strerror(errno));
			return false;
		}
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(why, n, "'%s' is not a folder", dir);
		return false;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(why, n, "folder '%s' cannot be written: %s", dir, strerror(errno));
		return false;
	}
	return true;
}

/* [site] feed, when a file: it must exist and be readable. */
static void config_check_feed(const struct config *cfg, unsigned line, struct config_errors *errs)
{
	struct stat sb;
	int fd;

	if (cfg->feed_is_url)
		return; /* fetched by `poll` and `serve`: no network here */
	fd = open(cfg->feed, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		add_error(errs, cfg->path, line, "feed '%s': %s", cfg->feed, strerror(errno));
		return;
	}
	if (fstat(fd, &sb) != 0)
		add_error(errs, cfg->path, line, "feed '%s': %s", cfg->feed, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		add_error(errs, cfg->path, line, "feed '%s' is not a regular file", cfg->feed);
	close(fd);
}

/* [federation] key: what key_load refuses at run time (a mode that lets
 * others read it, not a regular file, not an RSA key), or, when it does
 * not exist yet, a folder it cannot be created in. */
static void config_check_key(const struct config *cfg, unsigned line, struct config_errors *errs)
{
	struct key *k = NULL;
	struct err e = {0};
	char why[PATH_MAX + 64];
	struct stat sb;

	if (lstat(cfg->key_path, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
		if (!parent_writable(cfg->key_path, why, sizeof(why)))
			add_error(errs, cfg->path, line, "key '%s' cannot be created: %s",
				  cfg->key_path, why);
		return;
	}
	if (key_load(cfg->key_path, &k, &e) != BB_OK && e.code != BB_ERR_NOTFOUND)
		add_error(errs, cfg->path, line, "%s", e.msg);
	key_free(k);
}

/* [store] database: the file, when it exists, and its folder writable. */
static void config_check_database(const struct config *cfg, unsigned line,
				  struct config_errors *errs)
{
	char why[PATH_MAX + 64];
	struct stat sb;

	if (strstr(cfg->database, "://") != NULL)
		return; /* store_open names what it does not support */
	if (stat(cfg->database, &sb) == 0) {
		if (!S_ISREG(sb.st_mode))
			add_error(errs, cfg->path, line, "database '%s' is not a regular file",
				  cfg->database);
		else if (access(cfg->database, R_OK | W_OK) != 0)
			add_error(errs, cfg->path, line, "database '%s' cannot be written: %s",
				  cfg->database, strerror(errno));
	}
	if (!parent_writable(cfg->database, why, sizeof(why)))
		add_error(errs, cfg->path, line, "database '%s': %s", cfg->database, why);
}

enum bb_rc config_check(const char *path, struct config_errors *errs)
{
	struct config_parse p = {.errs = errs};
	struct config *cfg = NULL;
	enum bb_rc rc = config_read(path, &p, &cfg);

	if (rc != BB_OK)
		return rc;
	config_check_feed(cfg, key_line(&p, "site", "feed"), errs);
	config_check_key(cfg, key_line(&p, "federation", "key"), errs);
	config_check_database(cfg, key_line(&p, "store", "database"), errs);
	config_free(cfg);
	return errs->count > 0 ? BB_ERR_CONFIG : BB_OK;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_list(char *const *a, size_t an, char *const *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* Whether key k has one value in a and b. */
static bool key_same(const struct config *a, const struct config *b, const struct config_key *k)
{
	const char *sa = (const char *)a + k->offset, *sb = (const char *)b + k->offset;
	const size_t *na = (const void *)((const char *)a + k->count_offset);
	const size_t *nb = (const void *)((const char *)b + k->count_offset);

	switch (k->type) {
	case CONFIG_T_STRING:
	case CONFIG_T_OPTIONAL:
	case CONFIG_T_URL:
	case CONFIG_T_PATH: return same_str(*(char *const *)sa, *(char *const *)sb);
	case CONFIG_T_UINT: return *(const unsigned *)sa == *(const unsigned *)sb;
	case CONFIG_T_BOOL: return *(const bool *)sa == *(const bool *)sb;
	case CONFIG_T_ENUM: return *(const int *)sa == *(const int *)sb;
	case CONFIG_T_DOMAINS:
	case CONFIG_T_URLS:
		return same_list(*(char **const *)sa, *na, *(char **const *)sb, *nb);
	case CONFIG_T_CUSTOM: break;
	}
	/* The CUSTOM keys, by the fields they fill. */
	if (strcmp(k->name, "base_url") == 0)
		return same_str(a->base_url, b->base_url);
	if (strcmp(k->name, "feed") == 0)
		return same_str(a->feed, b->feed);
	if (strcmp(k->name, "listen") == 0)
		return same_str(a->listen, b->listen);
	return false;
}

void config_diff(const struct config *a, const struct config *b, config_diff_fn fn, void *arg)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
		if (!key_same(a, b, &config_keys[i]))
			fn(config_keys[i].section, config_keys[i].name, arg);
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
		key_field_free(cfg, &config_keys[i]);
	/* The fields the CUSTOM keys fill. */
	free(cfg->base_url);
	free(cfg->host);
	free(cfg->feed);
	free(cfg->listen);
	free(cfg->path);
	free(cfg);
}
