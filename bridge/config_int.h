/*
 * config_int.h — inside config.c: the shape of a key in the table, and the
 * value types and key rules (config_value.c) the table names.  Each
 * setter checks a value written in bridge.conf and stores it; each
 * returns BB_ERR_CONFIG with the message a user reads (the caller adds
 * the file and line), or BB_ERR_NOMEM.
 */
#ifndef BB_CONFIG_INT_H
#define BB_CONFIG_INT_H

#include "config.h"
#include "err.h"

#include <stdbool.h>
#include <stddef.h>

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
	CONFIG_T_URLS,	   /* char ** (NULL-terminated) and its size_t count at
			      count_offset: comma-separated http(s) URLs */
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

/* ---- value types (config_value.c) ------------------------------------ */

/* CONFIG_T_STRING: the text as is; CONFIG_T_OPTIONAL: NULL when empty. */
enum bb_rc config_set_string(char **slot, const char *value, struct err *e) BB_MUST_CHECK;
enum bb_rc config_set_optional(char **slot, const char *value, struct err *e) BB_MUST_CHECK;
/* An http(s) URL without user info (with origin_only, nothing after the
 * authority but "/"); *norm gets scheme://host[:port] and *hostport the
 * host with a non-default port, each when not NULL (caller frees).  The
 * messages name key: "base_url 'htps://x' must be an http or https URL". */
enum bb_rc config_parse_http_url(const char *key, const char *value, bool origin_only, char **norm,
				 char **hostport, struct err *e) BB_MUST_CHECK;
/* CONFIG_T_URL: an http(s) URL, NULL when empty; messages name k. */
enum bb_rc config_set_url(const struct config_key *k, char **slot, const char *v,
			  struct err *e) BB_MUST_CHECK;
/* CONFIG_T_PATH: required, resolved against dir. */
enum bb_rc config_set_path(char **slot, const char *v, const char *dir,
			   struct err *e) BB_MUST_CHECK;
/* CONFIG_T_UINT, CONFIG_T_BOOL, CONFIG_T_ENUM, by k's range, unit and
 * values. */
enum bb_rc config_set_uint(const struct config_key *k, unsigned *slot, const char *v,
			   struct err *e) BB_MUST_CHECK;
enum bb_rc config_set_bool(const struct config_key *k, bool *slot, const char *v,
			   struct err *e) BB_MUST_CHECK;
enum bb_rc config_set_enum(const struct config_key *k, int *slot, const char *v,
			   struct err *e) BB_MUST_CHECK;
/* CONFIG_T_DOMAINS: a comma-separated list of host names, lower-cased
 * into a NULL-terminated *list of *count; config_domains_free empties it. */
enum bb_rc config_set_domains(const struct config_key *k, char ***list, size_t *count,
			      const char *v, struct err *e) BB_MUST_CHECK;
void config_domains_free(char ***list, size_t *count);
/* CONFIG_T_URLS: a comma-separated list of distinct http(s) URLs, at most
 * CONFIG_URLS_MAX, into a NULL-terminated *list of *count (emptied with
 * config_domains_free). */
#define CONFIG_URLS_MAX 16
enum bb_rc config_set_urls(const struct config_key *k, char ***list, size_t *count, const char *v,
			   struct err *e) BB_MUST_CHECK;

/* ---- rules of single keys (config_value.c) ---------------------------- */

enum bb_rc config_check_handle(const char *v, struct err *e) BB_MUST_CHECK;
enum bb_rc config_check_tag_url(const char *v, struct err *e) BB_MUST_CHECK;
enum bb_rc config_check_language(const char *v, struct err *e) BB_MUST_CHECK;
/* [notify]: one mail address (local@domain, no blanks, quotes, angle
 * brackets, commas or control characters: it goes into a mail header and
 * an SMTP command); an smtp:// or smtps:// URL with a host. */
enum bb_rc config_check_mail_to(const char *v, struct err *e) BB_MUST_CHECK;
enum bb_rc config_check_mail_from(const char *v, struct err *e) BB_MUST_CHECK;
enum bb_rc config_check_smtp_url(const char *v, struct err *e) BB_MUST_CHECK;
/* The CUSTOM keys: base_url (and its host), feed (and whether it is a
 * URL), listen (and the socket address). */
enum bb_rc config_set_base_url(const struct config_ctx *ctx, const char *v,
			       struct err *e) BB_MUST_CHECK;
enum bb_rc config_set_feed(const struct config_ctx *ctx, const char *v,
			   struct err *e) BB_MUST_CHECK;
enum bb_rc config_set_listen(const struct config_ctx *ctx, const char *v,
			     struct err *e) BB_MUST_CHECK;

#endif
