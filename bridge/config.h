/*
 * config.h — bridge.conf, parsed once into a typed struct.
 *
 * The file is INI: `[section]`, `key = value`, full-line comments starting
 * with `#` or `;`, and trailing comments where `#` or `;` follows
 * whitespace.  A value may be wrapped in double quotes to keep a `#` or
 * leading/trailing spaces.  Unknown sections and keys, duplicate keys and bad
 * values are errors, each reported as "FILE:LINE: message".  Relative paths
 * (feed, database, key) are resolved against the directory of the file, so
 * the bridge behaves the same whatever its working directory.
 */
#ifndef BB_CONFIG_H
#define BB_CONFIG_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum config_object_type { CONFIG_OBJECT_NOTE, CONFIG_OBJECT_ARTICLE };
enum config_note_content { CONFIG_NOTE_FULL, CONFIG_NOTE_EXCERPT };
enum config_moderation { CONFIG_MODERATION_MANUAL, CONFIG_MODERATION_AUTO, CONFIG_MODERATION_KNOWN };

#define CONFIG_MAX_ERRORS 32
#define CONFIG_LINE_MAX 4096
#define CONFIG_ERROR_MAX (BB_ERR_MSG_MAX + 192) /* a message with its FILE:LINE: */

struct config {
	char *path; /* the file, as given */

	/* [site] */
	char *base_url; /* normalized origin, no trailing slash */
	char *host;     /* host of base_url, with ":port" when not the default */
	char *handle;
	char *name;
	char *summary;
	char *url;  /* the blog's home page */
	char *icon; /* NULL when unset */
	char *tag_url; /* the blog's tag pages, "{slug}" for the tag; NULL when unset */
	char *feed; /* a URL, or a path resolved against the config's folder */
	bool feed_is_url;
	unsigned poll_interval; /* seconds */
	enum config_object_type object_type;
	enum config_note_content note_content;
	char *language; /* NULL when unset */
	char *header;	/* the profile's header image; NULL when unset */
	char **also_known_as; /* actor ids this blog was before, NULL-terminated */
	size_t also_known_as_count;

	/* [server] */
	char *listen; /* as written */
	struct sockaddr_storage listen_addr;
	socklen_t listen_addrlen;
	char *trusted_proxies; /* as written: the addresses X-Forwarded-For is believed from */

	/* [store] */
	char *database;

	/* [federation] */
	char *key_path;
	bool allow_private_addresses;
	char **blocked_domains; /* lower-case, NULL-terminated */
	size_t blocked_domains_count;
	bool authorized_fetch; /* GETs of objects and collections must be signed */

	/* [comments] */
	enum config_moderation moderation;
	bool backfill; /* fetch the replies that never reached the inbox */

	/* [admin] */
	char *password_hash; /* NULL when unset */

	/* [notify] (each NULL when unset; mail_to and smtp_url go together) */
	char *mail_to;	 /* the admin's address */
	char *mail_from; /* the sender's address; NULL: HANDLE@HOST of base_url */
	char *smtp_url;	 /* smtp:// or smtps:// URL, may hold a user and password */
	char *webhook;	 /* an http(s) URL */
};

/* Every error found in one file, in line order. */
struct config_errors {
	size_t count;
	char line[CONFIG_MAX_ERRORS][CONFIG_ERROR_MAX]; /* "FILE:LINE: message" */
};

/* Reads and validates path.  On success *out owns a new config (free with
 * config_free).  On BB_ERR_CONFIG, errs lists what is wrong (at least one
 * line) and *out is NULL; BB_ERR_IO when the file cannot be read. */
enum bb_rc config_load(const char *path, struct config **out, struct config_errors *errs)
    BB_MUST_CHECK;

/* config_load, then what `blogbridge check` adds, without network and
 * changing nothing: a feed file that exists and can be read, a key that
 * key_load accepts (or a folder it can be created in), a database and its
 * folder that can be written.  Each problem is one line of errs, with the
 * line of the key when it was written.  BB_OK when there is none. */
enum bb_rc config_check(const char *path, struct config_errors *errs) BB_MUST_CHECK;

void config_free(struct config *cfg);

/* Calls fn for each key whose value differs between a and b (two loads,
 * perhaps of one file at two times), in table order. */
typedef void (*config_diff_fn)(const char *section, const char *key, void *arg);
void config_diff(const struct config *a, const struct config *b, config_diff_fn fn, void *arg);

/* Sets `[admin] password_hash = hash` in the file at path (config_edit.c):
 * that one line is replaced (or added, in an [admin] section made at the
 * end when there is none) and every other byte kept; the file is replaced
 * atomically (a new file flushed and renamed over it) with its mode kept.
 * BB_ERR_INVALID for a hash with blanks, quotes, comment or line-break
 * characters; BB_ERR_IO when the file cannot be read or replaced. */
enum bb_rc config_password_hash_write(const char *path, const char *hash, struct err *e)
    BB_MUST_CHECK;

#endif
