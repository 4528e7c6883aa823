/*
 * test_config.c — bridge.conf parsing: every key read into the typed
 * struct, defaults, relative paths, and each error path reported with its
 * file and line.
 */
#include "check.h"
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *good_conf =
    "# a full configuration\n"
    "[site]\n"
    "base_url = https://Blog.Example:443/   # trailing comment\n"
    "handle = blog\n"
    "name = Climb to the Stars\n"
    "summary = \"Posts about C# ; and # more\"\n"
    "url = https://blog.example/home/\n"
    "icon = https://blog.example/avatar.png\n"
    "header = https://blog.example/header.webp\n"
    "also_known_as = https://mastodon.example/users/blog , https://old.example/@Blog\n"
    "tag_url = https://blog.example/tag/{slug}/\n"
    "feed = feeds/feed.xml\n"
    "poll_interval = 60\n"
    "object_type = article\n"
    "note_content = excerpt\n"
    "language = fr-CH\n"
    "\n"
    "[server]\n"
    "listen = [::1]:9090\n"
    "[store]\n"
    "; semicolon comment\n"
    "database = /var/lib/blogbridge/bridge.db\n"
    "[federation]\n"
    "key = keys/actor.pem\n"
    "allow_private_addresses = yes\n"
    "blocked_domains = Spam.Example, bad.example ,x.y\n"
    "authorized_fetch = true\n"
    "[comments]\n"
    "moderation = auto\n"
    "[admin]\n"
    "password_hash = $argon2id$v=19$abc\n";

/* Loads text written as dir/bridge.conf; returns the config or NULL. */
static struct config *load_text(const char *dir, const char *text, struct config_errors *errs,
				enum bb_rc *rc_out)
{
	char *path = check_write_file(dir, "bridge.conf", text);
	struct config *cfg = NULL;
	enum bb_rc rc = config_load(path, &cfg, errs);

	if (rc_out)
		*rc_out = rc;
	free(path);
	return cfg;
}

static void t_every_key(void)
{
	const char *dir = check_tmpdir();
	struct config_errors errs;
	struct config *cfg = load_text(dir, good_conf, &errs, NULL);
	char expect[512];
	char addr[INET6_ADDRSTRLEN];
	const struct sockaddr_in6 *sin6;

	CHECK(cfg != NULL);
	if (cfg == NULL) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "    %s\n", errs.line[i]);
		return;
	}
	CHECK_STR(cfg->base_url, "https://blog.example");
	CHECK_STR(cfg->host, "blog.example");
	CHECK_STR(cfg->handle, "blog");
	CHECK_STR(cfg->name, "Climb to the Stars");
	CHECK_STR(cfg->summary, "Posts about C# ; and # more");
	CHECK_STR(cfg->url, "https://blog.example/home/");
	CHECK_STR(cfg->icon, "https://blog.example/avatar.png");
	CHECK_STR(cfg->header, "https://blog.example/header.webp");
	CHECK_INT(cfg->also_known_as_count, 2);
	if (cfg->also_known_as_count == 2) {
		CHECK_STR(cfg->also_known_as[0], "https://mastodon.example/users/blog");
		CHECK_STR(cfg->also_known_as[1], "https://old.example/@Blog"); /* as written */
		CHECK(cfg->also_known_as[2] == NULL);
	}
	CHECK_STR(cfg->tag_url, "https://blog.example/tag/{slug}/");
	snprintf(expect, sizeof(expect), "%s/feeds/feed.xml", dir);
	CHECK_STR(cfg->feed, expect);
	CHECK(!cfg->feed_is_url);
	CHECK_INT(cfg->poll_interval, 60);
	CHECK_INT(cfg->object_type, CONFIG_OBJECT_ARTICLE);
	CHECK_INT(cfg->note_content, CONFIG_NOTE_EXCERPT);
	CHECK_STR(cfg->language, "fr-CH");
	CHECK_STR(cfg->listen, "[::1]:9090");
	CHECK_INT(cfg->listen_addr.ss_family, AF_INET6);
	sin6 = (const struct sockaddr_in6 *)&cfg->listen_addr;
	CHECK_INT(ntohs(sin6->sin6_port), 9090);
	CHECK_STR(inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr)), "::1");
	CHECK_STR(cfg->database, "/var/lib/blogbridge/bridge.db");
	snprintf(expect, sizeof(expect), "%s/keys/actor.pem", dir);
	CHECK_STR(cfg->key_path, expect);
	CHECK(cfg->allow_private_addresses);
	CHECK(cfg->authorized_fetch);
	CHECK_INT(cfg->blocked_domains_count, 3);
	if (cfg->blocked_domains_count == 3) {
		CHECK_STR(cfg->blocked_domains[0], "spam.example");
		CHECK_STR(cfg->blocked_domains[1], "bad.example");
		CHECK_STR(cfg->blocked_domains[2], "x.y");
		CHECK(cfg->blocked_domains[3] == NULL);
	}
	CHECK_INT(cfg->moderation, CONFIG_MODERATION_AUTO);
	CHECK_STR(cfg->password_hash, "$argon2id$v=19$abc");
	config_free(cfg);
	check_tmpdir_remove(dir);
}

static void t_defaults(void)
{
	const char *dir = check_tmpdir();
	struct config_errors errs;
	struct config *cfg = load_text(dir,
				       "[site]\nbase_url = http://localhost:8080\nhandle = b_log.x\n"
				       "feed = https://blog.example/feed/\n"
				       "tag_url =      # a comment only: the value is empty\n"
				       "icon = ; likewise\n",
				       &errs, NULL);
	char expect[512];
	const struct sockaddr_in *sin;

	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_STR(cfg->host, "localhost:8080");
	CHECK_STR(cfg->name, "b_log.x");
	CHECK_STR(cfg->summary, "");
	/* The blog's home page defaults to the origin of an http(s) feed. */
	CHECK_STR(cfg->url, "https://blog.example/");
	CHECK(cfg->feed_is_url);
	CHECK(cfg->icon == NULL);
	CHECK(cfg->header == NULL);
	CHECK_INT(cfg->also_known_as_count, 0);
	CHECK(cfg->also_known_as == NULL);
	CHECK(cfg->tag_url == NULL);
	CHECK(cfg->language == NULL);
	CHECK(cfg->password_hash == NULL);
	CHECK_INT(cfg->poll_interval, 300);
	CHECK_INT(cfg->object_type, CONFIG_OBJECT_NOTE);
	CHECK_INT(cfg->note_content, CONFIG_NOTE_FULL);
	CHECK_INT(cfg->moderation, CONFIG_MODERATION_MANUAL);
	CHECK(!cfg->allow_private_addresses);
	CHECK(!cfg->authorized_fetch);
	CHECK_INT(cfg->blocked_domains_count, 0);
	CHECK_STR(cfg->listen, "127.0.0.1:8080");
	sin = (const struct sockaddr_in *)&cfg->listen_addr;
	CHECK_INT(sin->sin_family, AF_INET);
	CHECK_INT(ntohs(sin->sin_port), 8080);
	CHECK_INT(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	snprintf(expect, sizeof(expect), "%s/data/bridge.db", dir);
	CHECK_STR(cfg->database, expect);
	snprintf(expect, sizeof(expect), "%s/data/actor.pem", dir);
	CHECK_STR(cfg->key_path, expect);
	config_free(cfg);

	/* A local feed: the home page falls back to the bridge itself. */
	cfg = load_text(dir, "[site]\nbase_url = http://localhost\nhandle = blog\nfeed = f.xml\n",
			&errs, NULL);
	CHECK(cfg != NULL);
	if (cfg) {
		CHECK_STR(cfg->url, "http://localhost/");
		CHECK_STR(cfg->host, "localhost");
	}
	config_free(cfg);
	check_tmpdir_remove(dir);
}

/* One bad line in an otherwise good file: exactly one error, naming the
 * file and line. */
static void expect_error(const char *body, unsigned line, const char *message)
{
	const char *dir = check_tmpdir();
	char text[4096], expect[1024];
	struct config_errors errs;
	enum bb_rc rc;
	struct config *cfg;

	snprintf(text, sizeof(text),
		 "[site]\nbase_url = http://localhost:8080\nhandle = blog\nfeed = f.xml\n%s",
		 body);
	cfg = load_text(dir, text, &errs, &rc);
	CHECK(cfg == NULL);
	CHECK_INT(rc, BB_ERR_CONFIG);
	CHECK_INT(errs.count, 1);
	if (line)
		snprintf(expect, sizeof(expect), "%s/bridge.conf:%u: %s", dir, line, message);
	else
		snprintf(expect, sizeof(expect), "%s/bridge.conf: %s", dir, message);
	if (errs.count >= 1)
		CHECK_STR(errs.line[0], expect);
	config_free(cfg);
	check_tmpdir_remove(dir);
}

static void t_errors(void)
{
	expect_error("[server]\nlistn = 127.0.0.1:80\n", 6, "unknown key 'listn' in [server]");
	expect_error("[sever]\nlisten = 1.2.3.4:80\n", 5, "unknown section '[sever]'");
	expect_error("[server\n", 5, "malformed section header '[server'");
	expect_error("[store]\ndatabase\n", 6, "expected 'key = value', got 'database'");
	expect_error("handle = other\n", 5, "duplicate key 'handle' (first set on line 3)");
	expect_error("[server]\nlisten = 127.0.0.1:99999\n", 6,
		     "listen '127.0.0.1:99999': port must be a number from 1 to 65535");
	expect_error("[server]\nlisten = 127.0.0.1:http\n", 6,
		     "listen '127.0.0.1:http': port must be a number from 1 to 65535");
	expect_error("[server]\nlisten = 8080\n", 6,
		     "listen '8080' must be ADDRESS:PORT, e.g. 127.0.0.1:8080");
	expect_error("[server]\nlisten = example.com:80\n", 6,
		     "listen 'example.com:80': 'example.com' is not an IPv4 address");
	expect_error("[server]\nlisten = [::1:80\n", 6, "listen '[::1:80' must be [IPv6]:PORT");
	expect_error("[store]\ndatabase =\n", 6, "a path is required");
	expect_error("[federation]\nallow_private_addresses = maybe\n", 6,
		     "allow_private_addresses 'maybe' must be true or false");
	expect_error("[federation]\nauthorized_fetch = sometimes\n", 6,
		     "authorized_fetch 'sometimes' must be true or false");
	expect_error("[federation]\nblocked_domains = ok.example, bad domain\n", 6,
		     "blocked_domains: 'bad domain' is not a domain name");
	expect_error("[federation]\nblocked_domains = a..b\n", 6,
		     "blocked_domains: 'a..b' is not a domain name");
	expect_error("[comments]\nmoderation = later\n", 6,
		     "moderation 'later' must be manual, known or auto");
	expect_error("poll_interval = 5\n", 5,
		     "poll_interval '5' must be a number of seconds from 10 to 604800");
	expect_error("poll_interval = -300\n", 5,
		     "poll_interval '-300' must be a number of seconds from 10 to 604800");
	expect_error("poll_interval = 30s\n", 5,
		     "poll_interval '30s' must be a number of seconds from 10 to 604800");
	expect_error("object_type = page\n", 5, "object_type 'page' must be note or article");
	expect_error("note_content = all\n", 5, "note_content 'all' must be full or excerpt");
	expect_error("language = french!\n", 5,
		     "language 'french!' is not a BCP 47 tag such as fr or en-GB");
	expect_error("language = f\n", 5, "language 'f' is not a BCP 47 tag such as fr or en-GB");
	expect_error("icon = ftp://x/a.png\n", 5, "icon 'ftp://x/a.png' must be an http or https URL");
	expect_error("tag_url = https://blog.example/tag/\n", 5,
		     "tag_url 'https://blog.example/tag/' must contain {slug}, e.g. "
		     "https://blog.example/tag/{slug}/");
	expect_error("tag_url = ftp://blog.example/{slug}\n", 5,
		     "tag_url 'ftp://blog.example/{slug}' must be an http or https URL");
	expect_error("icon = not a url\n", 5, "icon 'not a url' is not a valid http(s) URL");
	expect_error("header = /header.jpg\n", 5, "header '/header.jpg' is not a valid http(s) URL");
	expect_error("also_known_as = https://a.example/u, mailto:x@y\n", 5,
		     "also_known_as 'mailto:x@y' is not a valid http(s) URL");
	expect_error("also_known_as = https://a.example/u,,https://b.example/u\n", 5,
		     "also_known_as: an empty entry in the list");
	expect_error("also_known_as = https://a.example/u, https://a.example/u\n", 5,
		     "also_known_as: 'https://a.example/u' is listed twice");
	expect_error("also_known_as = https://u:p@a.example/u\n", 5,
		     "also_known_as 'https://u:p@a.example/u' must not contain a user name");
	expect_error("url = https://user:pw@blog.example/\n", 5,
		     "url 'https://user:pw@blog.example/' must not contain a user name");
	expect_error("summary = \"unterminated\n", 5, "unterminated quoted value for 'summary'");
	expect_error("[admin]\n[server]\nlisten=1.2.3.4:80\nlisten=1.2.3.4:81\n", 8,
		     "duplicate key 'listen' (first set on line 7)");
}

/* Errors in the [site] keys, which the helper above already sets. */
static void expect_site_error(const char *base_url, const char *handle, const char *feed,
			      unsigned line, const char *message)
{
	const char *dir = check_tmpdir();
	char text[2048], expect[1024];
	struct config_errors errs;
	struct config *cfg;

	snprintf(text, sizeof(text), "[site]\nbase_url = %s\nhandle = %s\nfeed = %s\n", base_url,
		 handle, feed);
	cfg = load_text(dir, text, &errs, NULL);
	CHECK(cfg == NULL);
	snprintf(expect, sizeof(expect), "%s/bridge.conf:%u: %s", dir, line, message);
	CHECK_INT(errs.count, 1);
	if (errs.count >= 1)
		CHECK_STR(errs.line[0], expect);
	config_free(cfg);
	check_tmpdir_remove(dir);
}

static void t_site_errors(void)
{
	expect_site_error("https://blog.example/bridge", "blog", "f.xml", 2,
			  "base_url 'https://blog.example/bridge' must be an origin (scheme://host[:port]) "
			  "without a path");
	expect_site_error("https://blog.example/?x=1", "blog", "f.xml", 2,
			  "base_url 'https://blog.example/?x=1' must be an origin without query or fragment");
	expect_site_error("blog.example", "blog", "f.xml", 2,
			  "base_url 'blog.example' is not a valid http(s) URL");
	expect_site_error("https://blog.example:99999", "blog", "f.xml", 2,
			  "base_url 'https://blog.example:99999' is not a valid http(s) URL");
	expect_site_error("https://blog.example", "blog!", "f.xml", 3,
			  "handle 'blog!' may hold only letters, digits and _ (with . or - between "
			  "them)");
	expect_site_error("https://blog.example", "-blog", "f.xml", 3,
			  "handle '-blog' may hold only letters, digits and _ (with . or - between "
			  "them)");
	expect_site_error("https://blog.example", "blog.", "f.xml", 3,
			  "handle 'blog.' may hold only letters, digits and _ (with . or - between "
			  "them)");
	expect_site_error("https://blog.example", "blog", "ftp://x/feed", 4,
			  "feed 'ftp://x/feed' must be an http(s) URL or a file path");
	expect_site_error("https://blog.example", "blog", "", 4, "missing value for 'feed'");
}

static void t_missing_and_many(void)
{
	const char *dir = check_tmpdir();
	struct config_errors errs;
	char expect[1024];
	struct config *cfg;
	enum bb_rc rc;

	/* Required keys absent: reported without a line, in table order. */
	cfg = load_text(dir, "# empty\n", &errs, &rc);
	CHECK(cfg == NULL);
	CHECK_INT(rc, BB_ERR_CONFIG);
	CHECK_INT(errs.count, 3);
	snprintf(expect, sizeof(expect), "%s/bridge.conf: missing required key 'base_url' in [site]",
		 dir);
	CHECK_STR(errs.line[0], expect);
	snprintf(expect, sizeof(expect), "%s/bridge.conf: missing required key 'feed' in [site]",
		 dir);
	CHECK_STR(errs.line[2], expect);

	/* Every error of a file, each with its line. */
	cfg = load_text(dir,
			"base_url = x\n[site]\nhandle = blog\nfeed = f\nbase_url = http://h\n"
			"colour = blue\n[server]\nlisten = nowhere\n",
			&errs, &rc);
	CHECK(cfg == NULL);
	CHECK_INT(errs.count, 3);
	snprintf(expect, sizeof(expect), "%s/bridge.conf:1: key 'base_url' before any [section]",
		 dir);
	CHECK_STR(errs.line[0], expect);
	snprintf(expect, sizeof(expect), "%s/bridge.conf:6: unknown key 'colour' in [site]", dir);
	CHECK_STR(errs.line[1], expect);
	snprintf(expect, sizeof(expect),
		 "%s/bridge.conf:8: listen 'nowhere' must be ADDRESS:PORT, e.g. 127.0.0.1:8080", dir);
	CHECK_STR(errs.line[2], expect);

	/* A file that cannot be read. */
	snprintf(expect, sizeof(expect), "%s/none.conf", dir);
	rc = config_load(expect, &cfg, &errs);
	CHECK_INT(rc, BB_ERR_IO);
	CHECK(cfg == NULL);
	CHECK_INT(errs.count, 1);
	CHECK(check_contains(errs.line[0], "none.conf: cannot open: No such file or directory"));
	check_tmpdir_remove(dir);
}

static void t_shipped_conf(void)
{
	struct config_errors errs;
	struct config *cfg = NULL;

	CHECK_INT(config_load(BB_SOURCE_DIR "/bridge.conf", &cfg, &errs), BB_OK);
	if (cfg == NULL)
		return;
	CHECK_STR(cfg->base_url, "http://localhost:8080");
	CHECK_STR(cfg->host, "localhost:8080");
	CHECK_STR(cfg->handle, "blog");
	CHECK_STR(cfg->feed, BB_SOURCE_DIR "/demo/blog-feed.xml");
	config_free(cfg);
}

/* The base file of the tests below: lines 1 to 4, the required keys. */
#define BASE_CONF "[site]\nbase_url = http://localhost:8080\nhandle = blog\nfeed = f.xml\n"

/* Loads BASE_CONF then body from dir; NULL (its errors printed) when the
 * file is refused. */
static struct config *load_body(const char *dir, const char *body)
{
	char text[4096];
	struct config_errors errs;
	struct config *cfg;

	snprintf(text, sizeof(text), "%s%s", BASE_CONF, body);
	cfg = load_text(dir, text, &errs, NULL);
	for (size_t i = 0; cfg == NULL && i < errs.count; i++)
		fprintf(stderr, "    %s\n", errs.line[i]);
	return cfg;
}

/* BASE_CONF then body is refused with exactly one error, on line. */
static void refused_in(const char *dir, const char *body, unsigned line, const char *message)
{
	char text[4096], expect[1024];
	struct config_errors errs;
	struct config *cfg;
	enum bb_rc rc;

	snprintf(text, sizeof(text), "%s%s", BASE_CONF, body);
	cfg = load_text(dir, text, &errs, &rc);
	CHECK(cfg == NULL);
	CHECK_INT(rc, BB_ERR_CONFIG);
	CHECK_INT(errs.count, 1);
	snprintf(expect, sizeof(expect), "%s/bridge.conf:%u: %s", dir, line, message);
	if (errs.count >= 1)
		CHECK_STR(errs.line[0], expect);
	config_free(cfg);
}

/* Every key of the table, by section and name, with a value it accepts:
 * each is found in its section only, and only once. */
static const struct {
	const char *section, *name, *value;
} all_keys[] = {
    {"site", "base_url", "https://b.example"},
    {"site", "handle", "b"},
    {"site", "name", "N"},
    {"site", "summary", "S"},
    {"site", "url", "https://b.example/"},
    {"site", "icon", "https://b.example/i.png"},
    {"site", "header", "https://b.example/h.png"},
    {"site", "also_known_as", "https://m.example/users/b"},
    {"site", "tag_url", "https://b.example/t/{slug}"},
    {"site", "feed", "https://b.example/feed"},
    {"site", "poll_interval", "60"},
    {"site", "object_type", "article"},
    {"site", "note_content", "excerpt"},
    {"site", "language", "de"},
    {"server", "listen", "127.0.0.1:1"},
    {"store", "database", "x.db"},
    {"federation", "key", "k.pem"},
    {"federation", "allow_private_addresses", "true"},
    {"federation", "blocked_domains", "a.example"},
    {"federation", "authorized_fetch", "true"},
    {"comments", "moderation", "auto"},
    {"admin", "password_hash", "h"},
    {"notify", "webhook", "https://hooks.example/in"},
};

static void t_table_keys(void)
{
	const char *dir = check_tmpdir();
	char body[512], msg[256];

	for (size_t i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++) {
		const char *s = all_keys[i].section, *n = all_keys[i].name, *v = all_keys[i].value;
		struct config *cfg;

		/* Once (the base keys are not set twice: a new [site] holds it). */
		snprintf(body, sizeof(body), "[%s]\n%s = %s\n", s, n, v);
		if (strcmp(s, "site") == 0 &&
		    (strcmp(n, "base_url") == 0 || strcmp(n, "handle") == 0 ||
		     strcmp(n, "feed") == 0)) {
			snprintf(msg, sizeof(msg), "duplicate key '%s' (first set on line %d)", n,
				 strcmp(n, "base_url") == 0 ? 2
				 : strcmp(n, "handle") == 0 ? 3
							    : 4);
			refused_in(dir, body, 6, msg);
			continue;
		}
		cfg = load_body(dir, body);
		CHECK(cfg != NULL);
		config_free(cfg);
		/* Twice. */
		snprintf(body, sizeof(body), "[%s]\n%s = %s\n%s = %s\n", s, n, v, n, v);
		snprintf(msg, sizeof(msg), "duplicate key '%s' (first set on line 6)", n);
		refused_in(dir, body, 7, msg);
		/* In another section. */
		snprintf(body, sizeof(body), "[%s]\n%s = %s\n",
			 strcmp(s, "admin") == 0 ? "server" : "admin", n, v);
		snprintf(msg, sizeof(msg), "unknown key '%s' in [%s]", n,
			 strcmp(s, "admin") == 0 ? "server" : "admin");
		refused_in(dir, body, 6, msg);
	}
	check_tmpdir_remove(dir);
}

/* Integer keys: both ends of the range are accepted, one past is not. */
static void t_ranges(void)
{
	const char *dir = check_tmpdir();
	static const struct {
		const char *value;
		unsigned expect; /* 0: refused */
	} polls[] = {
	    {"10", 10}, {"604800", 604800},	    {"0300", 300}, {"9", 0}, {"604801", 0}, {"", 0},
	    {"+60", 0}, {"99999999999999999999", 0}};
	char body[256], msg[256];
	struct config *cfg;

	for (size_t i = 0; i < sizeof(polls) / sizeof(polls[0]); i++) {
		snprintf(body, sizeof(body), "poll_interval = %s\n", polls[i].value);
		if (polls[i].expect == 0) {
			snprintf(msg, sizeof(msg),
				 "poll_interval '%s' must be a number of seconds from 10 to 604800",
				 polls[i].value);
			refused_in(dir, body, 5, msg);
			continue;
		}
		cfg = load_body(dir, body);
		CHECK(cfg != NULL);
		if (cfg)
			CHECK_INT(cfg->poll_interval, polls[i].expect);
		config_free(cfg);
	}
	cfg = load_body(dir, "[server]\nlisten = 0.0.0.0:65535\n");
	CHECK(cfg != NULL);
	if (cfg) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&cfg->listen_addr;
		CHECK_INT(ntohs(sin->sin_port), 65535);
		CHECK_INT(cfg->listen_addrlen, sizeof(struct sockaddr_in));
	}
	config_free(cfg);
	cfg = load_body(dir, "[server]\nlisten = localhost:1\n");
	CHECK(cfg != NULL);
	if (cfg) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&cfg->listen_addr;
		CHECK_INT(ntohs(sin->sin_port), 1);
		CHECK_INT(ntohl(sin->sin_addr.s_addr), 0x7f000001);
		CHECK_STR(cfg->listen, "localhost:1");
	}
	config_free(cfg);
	refused_in(dir, "[server]\nlisten = 127.0.0.1:0\n", 6,
		   "listen '127.0.0.1:0': port must be a number from 1 to 65535");
	refused_in(dir, "[server]\nlisten = 127.0.0.1:65536\n", 6,
		   "listen '127.0.0.1:65536': port must be a number from 1 to 65535");
	refused_in(dir, "[server]\nlisten = [::1]:0\n", 6,
		   "listen '[::1]:0': port must be a number from 1 to 65535");
	refused_in(dir, "[server]\nlisten = :80\n", 6, "listen ':80': missing or bad address");
	refused_in(dir, "[server]\nlisten = [1.2.3.4]:80\n", 6,
		   "listen '[1.2.3.4]:80': '1.2.3.4' is not an IPv6 address");
	check_tmpdir_remove(dir);
}

/* Enum and boolean keys: every allowed value, and that matching is exact. */
static void t_enums_and_bools(void)
{
	const char *dir = check_tmpdir();
	static const struct {
		const char *line;
		size_t offset; /* of the int-sized field in struct config */
		int expect;
	} enums[] = {
	    {"object_type = note\n", offsetof(struct config, object_type), CONFIG_OBJECT_NOTE},
	    {"object_type = article\n", offsetof(struct config, object_type),
	     CONFIG_OBJECT_ARTICLE},
	    {"note_content = full\n", offsetof(struct config, note_content), CONFIG_NOTE_FULL},
	    {"note_content = excerpt\n", offsetof(struct config, note_content),
	     CONFIG_NOTE_EXCERPT},
	    {"[comments]\nmoderation = manual\n", offsetof(struct config, moderation),
	     CONFIG_MODERATION_MANUAL},
	    {"[comments]\nmoderation = auto\n", offsetof(struct config, moderation),
	     CONFIG_MODERATION_AUTO},
	    {"[comments]\nmoderation = known\n", offsetof(struct config, moderation),
	     CONFIG_MODERATION_KNOWN},
	};
	static const char *const truths[] = {"true", "yes", "on", "1"};
	static const char *const lies[] = {"false", "no", "off", "0"};
	char body[256];
	struct config *cfg;

	for (size_t i = 0; i < sizeof(enums) / sizeof(enums[0]); i++) {
		cfg = load_body(dir, enums[i].line);
		CHECK(cfg != NULL);
		if (cfg)
			CHECK_INT(*(const int *)((const char *)cfg + enums[i].offset),
				  enums[i].expect);
		config_free(cfg);
	}
	refused_in(dir, "object_type = Note\n", 5, "object_type 'Note' must be note or article");
	refused_in(dir, "note_content =\n", 5, "note_content '' must be full or excerpt");
	refused_in(dir, "[comments]\nmoderation = Known\n", 6,
		   "moderation 'Known' must be manual, known or auto");
	for (size_t i = 0; i < 4; i++) {
		snprintf(body, sizeof(body), "[federation]\nallow_private_addresses = %s\n",
			 truths[i]);
		cfg = load_body(dir, body);
		CHECK(cfg != NULL && cfg->allow_private_addresses);
		config_free(cfg);
		snprintf(body, sizeof(body), "[federation]\nallow_private_addresses = %s\n",
			 lies[i]);
		cfg = load_body(dir, body);
		CHECK(cfg != NULL && !cfg->allow_private_addresses);
		config_free(cfg);
	}
	refused_in(dir, "[federation]\nallow_private_addresses = TRUE\n", 6,
		   "allow_private_addresses 'TRUE' must be true or false");
	refused_in(dir, "[federation]\nallow_private_addresses =\n", 6,
		   "allow_private_addresses '' must be true or false");
	check_tmpdir_remove(dir);
}

/* One key of each remaining type: text kept as is or emptied to NULL,
 * URLs, paths, the domain list, and the keys' own rules. */
static void t_value_types(void)
{
	const char *dir = check_tmpdir();
	char expect[512], handle[80], text[512];
	struct config_errors errs;
	struct config *cfg;

	cfg = load_body(dir, "summary =\nname = \"  spaced  \"\nurl =\n[admin]\npassword_hash =\n"
			     "[store]\ndatabase = db/b.db\n[federation]\nkey = /abs/k.pem\n"
			     "blocked_domains = ONE.example\n");
	CHECK(cfg != NULL);
	if (cfg) {
		CHECK_STR(cfg->summary, "");
		CHECK_STR(cfg->name, "  spaced  ");
		CHECK_STR(cfg->url, "http://localhost:8080/");
		CHECK(cfg->password_hash == NULL);
		snprintf(expect, sizeof(expect), "%s/db/b.db", dir);
		CHECK_STR(cfg->database, expect);
		CHECK_STR(cfg->key_path, "/abs/k.pem");
		CHECK_INT(cfg->blocked_domains_count, 1);
		if (cfg->blocked_domains_count == 1) {
			CHECK_STR(cfg->blocked_domains[0], "one.example");
			CHECK(cfg->blocked_domains[1] == NULL);
		}
	}
	config_free(cfg);
	cfg = load_body(dir, "name =\nlanguage = zh-Hant-TW\n[federation]\nblocked_domains =\n");
	CHECK(cfg != NULL);
	if (cfg) {
		CHECK_STR(cfg->name, "blog");
		CHECK_STR(cfg->language, "zh-Hant-TW");
		CHECK_INT(cfg->blocked_domains_count, 0);
		CHECK(cfg->blocked_domains == NULL);
	}
	config_free(cfg);
	refused_in(dir, "[federation]\nkey =\n", 6, "a path is required");
	refused_in(dir, "[federation]\nblocked_domains = ,a.example\n", 6,
		   "blocked_domains: '' is not a domain name");
	refused_in(dir, "url = https://blog.example/\nurl = \n", 6,
		   "duplicate key 'url' (first set on line 5)");
	refused_in(dir, "url = gopher://blog.example/\n", 5,
		   "url 'gopher://blog.example/' must be an http or https URL");
	refused_in(dir, "language = abcd\n", 5,
		   "language 'abcd' is not a BCP 47 tag such as fr or en-GB");
	refused_in(dir, "language = 12\n", 5,
		   "language '12' is not a BCP 47 tag such as fr or en-GB");
	/* 64 characters is the longest handle. */
	memset(handle, 'h', 64);
	handle[64] = '\0';
	snprintf(text, sizeof(text), "[site]\nbase_url = http://h\nhandle = %s\nfeed = f\n",
		 handle);
	cfg = load_text(dir, text, &errs, NULL);
	CHECK(cfg != NULL);
	if (cfg)
		CHECK_STR(cfg->handle, handle);
	config_free(cfg);
	memset(handle, 'h', 65);
	handle[65] = '\0';
	snprintf(text, sizeof(text), "[site]\nbase_url = http://h\nhandle = %s\nfeed = f\n",
		 handle);
	cfg = load_text(dir, text, &errs, NULL);
	CHECK(cfg == NULL);
	CHECK_INT(errs.count, 1);
	snprintf(expect, sizeof(expect),
		 "%s/bridge.conf:3: handle '%s' is longer than 64 characters", dir, handle);
	if (errs.count >= 1)
		CHECK_STR(errs.line[0], expect);
	config_free(cfg);
	check_tmpdir_remove(dir);
}

/* ---- config_check: the files a configuration names ---- */

/* Writes text as dir/bridge.conf and runs config_check on it; the one
 * error it reports must be message on line (0: no line), or none when
 * message is NULL. */
static void expect_check(const char *dir, const char *text, unsigned line, const char *message)
{
	char *path = check_write_file(dir, "bridge.conf", text);
	struct config_errors errs;
	char expect[2048];
	enum bb_rc rc = config_check(path, &errs);

	if (message == NULL) {
		CHECK_INT(rc, BB_OK);
		CHECK_INT(errs.count, 0);
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "    %s\n", errs.line[i]);
		free(path);
		return;
	}
	CHECK_INT(rc, BB_ERR_CONFIG);
	CHECK_INT(errs.count, 1);
	if (line)
		snprintf(expect, sizeof(expect), "%s:%u: %s", path, line, message);
	else
		snprintf(expect, sizeof(expect), "%s: %s", path, message);
	if (errs.count >= 1)
		CHECK_STR(errs.line[0], expect);
	free(path);
}

static void t_check_files(void)
{
	const char *dir = check_tmpdir();
	char text[4096], msg[4096], sub[512];
	char *f;

	free(check_write_file(dir, "feed.xml", "<rss/>"));
	/* A good configuration: feed there, key and database to be made. */
	expect_check(dir, "[site]\nbase_url = https://b.example\nhandle = b\nfeed = feed.xml\n", 0,
		     NULL);
	/* A feed file that does not exist. */
	snprintf(msg, sizeof(msg), "feed '%s/absent.xml': No such file or directory", dir);
	expect_check(dir, "[site]\nbase_url = https://b.example\nhandle = b\nfeed = absent.xml\n",
		     4, msg);
	/* A URL feed is not fetched. */
	expect_check(dir,
		     "[site]\nbase_url = https://b.example\nhandle = b\n"
		     "feed = https://b.example/feed/\n",
		     0, NULL);
	/* A key others may read: key_load's own refusal, on the key's line. */
	f = check_write_file(dir, "actor.pem", "not yet a key");
	CHECK(chmod(f, 0644) == 0);
	snprintf(msg, sizeof(msg), "key %s: mode 0644 lets others read it; run chmod 600 on it", f);
	expect_check(dir,
		     "[site]\nbase_url = https://b.example\nhandle = b\nfeed = feed.xml\n"
		     "[federation]\nkey = actor.pem\n",
		     6, msg);
	/* At 0600 it is read, and its content refused. */
	CHECK(chmod(f, 0600) == 0);
	snprintf(msg, sizeof(msg), "key %s: not a PEM private key", f);
	expect_check(dir,
		     "[site]\nbase_url = https://b.example\nhandle = b\nfeed = feed.xml\n"
		     "[federation]\nkey = actor.pem\n",
		     6, msg);
	free(f);
	/* A database whose folder is a file. */
	snprintf(msg, sizeof(msg),
		 "database '%s/feed.xml/bridge.db': '%s/feed.xml' is not a folder", dir, dir);
	expect_check(dir,
		     "[site]\nbase_url = https://b.example\nhandle = b\nfeed = feed.xml\n"
		     "[store]\ndatabase = feed.xml/bridge.db\n",
		     6, msg);
	/* A key that cannot be created there either (its default: no line). */
	snprintf(sub, sizeof(sub), "%s/conf", dir);
	CHECK(mkdir(sub, 0700) == 0);
	free(check_write_file(sub, "data", "a file where the folder should be"));
	free(check_write_file(sub, "feed.xml", "<rss/>"));
	snprintf(msg, sizeof(msg),
		 "key '%s/data/actor.pem' cannot be created: '%s/data' is not a folder", sub, sub);
	snprintf(text, sizeof(text),
		 "[site]\nbase_url = https://b.example\nhandle = b\nfeed = feed.xml\n"
		 "[store]\ndatabase = db/bridge.db\n");
	expect_check(sub, text, 0, msg);
	/* A key yet to be made, in a folder yet to be made under a file. */
	snprintf(msg, sizeof(msg),
		 "key '%s/feed.xml/k/actor.pem' cannot be created: '%s/feed.xml' is not a folder",
		 dir, dir);
	expect_check(dir,
		     "[site]\nbase_url = https://b.example\nhandle = b\nfeed = feed.xml\n"
		     "[federation]\nkey = feed.xml/k/actor.pem\n",
		     6, msg);
	/* A folder this process may not write (root may write anywhere). */
	if (geteuid() != 0) {
		snprintf(sub, sizeof(sub), "%s/ro", dir);
		CHECK(mkdir(sub, 0500) == 0);
		snprintf(
		    msg, sizeof(msg),
		    "database '%s/bridge.db': folder '%s' cannot be written: Permission denied",
		    sub, sub);
		snprintf(text, sizeof(text),
			 "[site]\nbase_url = https://b.example\nhandle = b\nfeed = feed.xml\n"
			 "[store]\ndatabase = %s/bridge.db\n",
			 sub);
		expect_check(dir, text, 6, msg);
		CHECK(chmod(sub, 0700) == 0);
	}
	/* config_load's errors come first, and stop it there. */
	expect_check(dir, "[site]\nbase_url = htps://b.example\nhandle = b\nfeed = absent.xml\n", 2,
		     "base_url 'htps://b.example' must be an http or https URL");
	check_tmpdir_remove(dir);
}

/* A missing key names its section, and the line to add it after when the
 * section is there. */
static void t_missing_key_where(void)
{
	const char *dir = check_tmpdir();
	struct config_errors errs;
	char expect[1024];
	struct config *cfg;

	cfg =
	    load_text(dir, "# bridge\n[site]\nbase_url = http://h\n\nhandle = b\n# end\n[server]\n",
		      &errs, NULL);
	CHECK(cfg == NULL);
	CHECK_INT(errs.count, 1);
	snprintf(expect, sizeof(expect),
		 "%s/bridge.conf:2: missing required key 'feed' in [site]: add it after line 5",
		 dir);
	if (errs.count >= 1)
		CHECK_STR(errs.line[0], expect);
	/* An empty section: after its header. */
	cfg = load_text(dir, "[server]\n[site]\n", &errs, NULL);
	CHECK(cfg == NULL);
	CHECK_INT(errs.count, 3);
	snprintf(expect, sizeof(expect),
		 "%s/bridge.conf:2: missing required key 'base_url' in [site]: add it after line 2",
		 dir);
	if (errs.count >= 1)
		CHECK_STR(errs.line[0], expect);
	check_tmpdir_remove(dir);
}

static void diff_note(const char *section, const char *key, void *arg)
{
	char *out = arg;
	size_t len = strlen(out);

	snprintf(out + len, 512 - len, "%s.%s ", section, key);
}

/* config_diff names each key whose value differs, of every type. */
static void t_diff(void)
{
	const char *dir = check_tmpdir();
	struct config *a = load_body(dir, "name = N\nalso_known_as = https://m.example/u\n"
					  "[federation]\nblocked_domains = a.example\n");
	struct config *b = load_body(dir, "name = N\nalso_known_as = https://m.example/u\n"
					  "[federation]\nblocked_domains = a.example\n");
	struct config *c = load_body(dir, "name = M\nheader = https://m.example/h.png\n"
					  "also_known_as = https://m.example/u, https://n.example/u\n"
					  "poll_interval = 60\nobject_type = article\n"
					  "[server]\nlisten = 127.0.0.1:1\n"
					  "[federation]\nallow_private_addresses = true\n"
					  "blocked_domains = b.example\n");
	char out[512] = "";

	CHECK(a && b && c);
	if (a && b && c) {
		config_diff(a, b, diff_note, out);
		CHECK_STR(out, "");
		config_diff(a, c, diff_note, out);
		CHECK_STR(out, "site.name site.poll_interval site.object_type site.header "
			       "site.also_known_as server.listen federation.allow_private_addresses "
			       "federation.blocked_domains ");
	}
	config_free(a);
	config_free(b);
	config_free(c);
}

/* [notify]: mail_to and smtp_url together, each value checked, every
 * error on the line of the key it names. */
static void t_notify(void)
{
	const char *dir = check_tmpdir();
	struct config *cfg;

	cfg = load_body(dir, "[notify]\nmail_to = me@mail.example\n"
			     "smtp_url = smtps://me%40mail.example:pw@smtp.example:465\n"
			     "mail_from = blog@blog.example\nwebhook = http://127.0.0.1:9/hook\n");
	CHECK(cfg != NULL);
	if (cfg) {
		CHECK_STR(cfg->mail_to, "me@mail.example");
		CHECK_STR(cfg->smtp_url, "smtps://me%40mail.example:pw@smtp.example:465");
		CHECK_STR(cfg->mail_from, "blog@blog.example");
		CHECK_STR(cfg->webhook, "http://127.0.0.1:9/hook");
	}
	config_free(cfg);
	/* Off by default; an empty section is fine. */
	cfg = load_body(dir, "[notify]\nmail_to =\n");
	CHECK(cfg != NULL && cfg->mail_to == NULL && cfg->smtp_url == NULL &&
	      cfg->webhook == NULL && cfg->mail_from == NULL);
	config_free(cfg);
	cfg = load_body(dir, "[notify]\nsmtp_url = smtp://localhost\nmail_to = a@b\n");
	CHECK(cfg != NULL);
	config_free(cfg);

	refused_in(dir, "[notify]\n\nmail_to = me@mail.example\n", 7,
		   "mail_to needs smtp_url in [notify] (the server the mail is sent with)");
	refused_in(dir, "[notify]\nsmtp_url = smtp://mail.example\n", 6,
		   "smtp_url needs mail_to in [notify] (the address told)");
	refused_in(dir, "[notify]\nwebhook = https://h.example/\nmail_from = b@b.example\n", 7,
		   "mail_from needs mail_to and smtp_url in [notify]");
	refused_in(dir, "[notify]\nmail_to = a@b.example\nsmtp_url = https://mail.example\n", 7,
		   "smtp_url must be an smtp:// or smtps:// URL (e.g. "
		   "smtps://user:password@mail.example:465)");
	refused_in(dir, "[notify]\nmail_to = a@b.example\nsmtp_url = smtps://u:p@:465\n", 7,
		   "smtp_url must name a server (smtp://HOST[:PORT])");
	refused_in(dir, "[notify]\nmail_to = a@b.example\nsmtp_url = smtps://\"a b\"@x\n", 7,
		   "smtp_url must not contain blanks or control characters");
	refused_in(dir, "[notify]\nmail_to = a@b.example, c@d.example\nsmtp_url = smtp://m\n", 6,
		   "mail_to 'a@b.example, c@d.example' must be one address (user@domain), "
		   "without blanks, quotes or brackets");
	refused_in(dir, "[notify]\nmail_to = Me <me@b.example>\nsmtp_url = smtp://m\n", 6,
		   "mail_to 'Me <me@b.example>' must be one address (user@domain), "
		   "without blanks, quotes or brackets");
	refused_in(dir, "[notify]\nmail_to = nobody\nsmtp_url = smtp://m\n", 6,
		   "mail_to 'nobody' must be an address like user@domain");
	refused_in(dir, "[notify]\nmail_to = a@b@c\nsmtp_url = smtp://m\n", 6,
		   "mail_to 'a@b@c' must be an address like user@domain");
	refused_in(dir, "[notify]\nmail_to = a@\nsmtp_url = smtp://m\n", 6,
		   "mail_to 'a@' must be an address like user@domain");
	refused_in(dir, "[notify]\nwebhook = ftp://h.example/\n", 6,
		   "webhook 'ftp://h.example/' must be an http or https URL");
	refused_in(dir, "[notify]\nwebhook = https://u:p@h.example/\n", 6,
		   "webhook 'https://u:p@h.example/' must not contain a user name");
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
	{"diff", t_diff},
	{"notify", t_notify},
	{"every_key", t_every_key},     {"defaults", t_defaults},
	{"errors", t_errors},           {"site_errors", t_site_errors},
	{"missing_and_many", t_missing_and_many}, {"shipped_conf", t_shipped_conf},
	{"table_keys", t_table_keys},		  {"ranges", t_ranges},
	{"enums_and_bools", t_enums_and_bools},	  {"value_types", t_value_types},
	{"check_files", t_check_files},		  {"missing_key_where", t_missing_key_where},
};

CHECK_MAIN(cases)
