/*
 * cli_doctor.c — `blogbridge doctor`: the deployment checked from the
 * outside, through the public base_url (the real reverse proxy and TLS),
 * one line per check, "ok" or "FAIL" with the reason and the fix; exit 1
 * on any FAIL.  What stands in front of the bridge is the most common
 * reason a blog never gets a follower: a proxy that rewrites Content-Type,
 * a cache that ignores Vary: Accept, WebFinger answered by the blog, a
 * certificate about to expire, a skewed clock.
 *
 * Checked: the files the configuration names (config_check), and the
 * database and key owned by the service user, the key mode 0600; the TLS
 * certificate (valid, not expiring within 14 days); WebFinger for the
 * handle (the bridge's JRD, its Content-Type, CORS); the actor as JSON
 * with an ActivityPub Accept and as a redirect with a browser's (so a
 * cache honours Vary: Accept); a signed POST to the actor's own inbox
 * through the proxy (the probe, activitypub/probe.h), whose report names
 * the header the proxy changed; the clock against the proxy's Date, and
 * NTP as timedatectl tells it; the feed (reachable, parses, newest item).
 * With --remote @user@host (or an actor's URL), WebFinger and the actor
 * of a remote account fetched with a signed GET, as the bridge fetches
 * (activitypub/fetch.h): DNS, egress, TLS and servers in authorized-fetch
 * mode.  Lines are "ok", "FAIL", or "warn" and "skip", which do not fail.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include "cli.h"
#include "feed.h"
#include "feed_fetch.h"
#include "fetch.h"
#include "probe.h"
#include "timeutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DOCTOR_TIMEOUT_S 15L
#define DOCTOR_BODY_MAX (1024 * 1024)
#define DOCTOR_CERT_DAYS 14
#define DOCTOR_CLOCK_SKEW_S 30
#define DOCTOR_HEADER_MAX 256
#define DOCTOR_NTP_TIMEOUT_MS 5000
#define DOCTOR_NTP_OUT_MAX 255

/* One answer, as doctor looks at it. */
struct doctor_resp {
	long status;
	char content_type[DOCTOR_HEADER_MAX];
	char location[DOCTOR_HEADER_MAX];
	char vary[DOCTOR_HEADER_MAX];
	char cors[DOCTOR_HEADER_MAX];
	char date[DOCTOR_HEADER_MAX];
	struct buf body;
	time_t cert_expiry; /* 0: unknown or not TLS */
};

struct doctor {
	struct app *app;
	int failures;
	time_t server_date; /* the first Date answered, 0: none */
	bool answered;      /* anything came back through base_url */
};

static void doctor_ok(const char *check, const char *fmt, ...) BB_PRINTF(2, 3);
static void doctor_fail(struct doctor *d, const char *check, const char *fmt, ...) BB_PRINTF(3, 4);

static void doctor_ok(const char *check, const char *fmt, ...)
{
	va_list ap;

	printf("ok   %-10s ", check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* A line that is neither ok nor a failure: "warn" or "skip". */
static void doctor_note(const char *kind, const char *check, const char *fmt, ...)
    BB_PRINTF(3, 4);

static void doctor_note(const char *kind, const char *check, const char *fmt, ...)
{
	va_list ap;

	printf("%-4s %-10s ", kind, check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void doctor_fail(struct doctor *d, const char *check, const char *fmt, ...)
{
	va_list ap;

	d->failures++;
	printf("FAIL %-10s ", check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- HTTP ------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct doctor_resp *r = arg;

	return buf_append(&r->body, data, size * n) == BB_OK ? size * n : 0;
}

/* Keeps the value of header `name` of line into out (trimmed). */
static void header_take(const char *line, size_t len, const char *name, char *out)
{
	size_t n = strlen(name), vl;
	const char *v;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return;
	v = line + n + 1;
	vl = len - n - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	if (vl >= DOCTOR_HEADER_MAX)
		vl = DOCTOR_HEADER_MAX - 1;
	memcpy(out, v, vl);
	out[vl] = '\0';
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct doctor_resp *r = arg;
	size_t len = size * n;

	header_take(line, len, "Content-Type", r->content_type);
	header_take(line, len, "Location", r->location);
	header_take(line, len, "Vary", r->vary);
	header_take(line, len, "Access-Control-Allow-Origin", r->cors);
	header_take(line, len, "Date", r->date);
	return len;
}

/* The certificate's "Expire date" from curl's certificate chain (the
 * first one: the server's). */
static time_t cert_expiry(CURL *c)
{
	struct curl_certinfo *ci = NULL;
	struct tm tm;

	if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return 0;
	for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next) {
		if (strncmp(s->data, "Expire date:", 12) != 0)
			continue;
		memset(&tm, 0, sizeof(tm));
		if (strptime(s->data + 12, "%b %d %H:%M:%S %Y", &tm) != NULL)
			return timegm(&tm);
	}
	return 0;
}

/* Asks url with the header lines h (the caller's), a POST of body when
 * not NULL, else a GET; redirects are not followed. */
static enum bb_rc doctor_request(const char *url, const struct curl_slist *h, const char *body,
				 struct doctor_resp *r, struct err *e)
{
	CURL *c = curl_easy_init();
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, DOCTOR_BODY_MAX);
	if (c == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, DOCTOR_TIMEOUT_S) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, r) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, r) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CERTINFO, 1L) != CURLE_OK ||
	    (body != NULL &&
	     (curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body)) !=
		  CURLE_OK))) {
		curl_easy_cleanup(c);
		return err_set(e, BB_ERR_NOMEM, "cannot set up the request");
	}
	/* As curl(1) does: a private CA (and the test's) is trusted when
	 * named. */
	if (getenv("CURL_CA_BUNDLE") != NULL && getenv("CURL_CA_BUNDLE")[0] != '\0' &&
	    curl_easy_setopt(c, CURLOPT_CAINFO, getenv("CURL_CA_BUNDLE")) != CURLE_OK) {
		curl_easy_cleanup(c);
		return err_set(e, BB_ERR_IO, "cannot use CURL_CA_BUNDLE");
	}
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		r->cert_expiry = cert_expiry(c);
	}
	curl_easy_cleanup(c);
	if (cc != CURLE_OK)
		return err_set(e, BB_ERR_IO, "%s", curl_easy_strerror(cc));
	return BB_OK;
}

/* GETs url with accept, without following redirects. */
static enum bb_rc doctor_get(const char *url, const char *accept, struct doctor_resp *r,
			     struct err *e)
{
	struct curl_slist *h;
	char accept_line[256];
	enum bb_rc rc;

	snprintf(accept_line, sizeof(accept_line), "Accept: %s", accept);
	h = curl_slist_append(NULL, accept_line);
	if (h == NULL) {
		memset(r, 0, sizeof(*r));
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	}
	rc = doctor_request(url, h, NULL, r, e);
	curl_slist_free_all(h);
	return rc;
}

/* Notes the first Date answered, for the clock check. */
static void doctor_seen(struct doctor *d, const struct doctor_resp *r)
{
	time_t t;

	d->answered = true;
	if (d->server_date == 0 && r->date[0] && time_parse_imf_fixdate(r->date, &t))
		d->server_date = t;
}

static bool type_is(const char *content_type, const char *type)
{
	size_t n = strlen(type);

	return strncasecmp(content_type, type, n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

/* ---- the checks ------------------------------------------------------- */

static void check_tls(struct doctor *d)
{
	const char *base = d->app->cfg->base_url;
	struct doctor_resp r;
	struct err e = {0};
	double days;

	if (strncmp(base, "https://", 8) != 0) {
		doctor_fail(
		    d, "tls",
		    "base_url %s is not https: Mastodon talks to https only (put the bridge "
		    "behind a TLS proxy, see examples/nginx.conf)",
		    base);
		return;
	}
	if (doctor_get(d->app->site.actor_id, "application/activity+json", &r, &e) != BB_OK) {
		doctor_fail(d, "tls", "%s: %s (check the certificate and that the proxy answers)",
			    base, e.msg);
		buf_free(&r.body);
		return;
	}
	doctor_seen(d, &r);
	days = r.cert_expiry ? difftime(r.cert_expiry, time(NULL)) / 86400 : -1;
	if (r.cert_expiry && days < DOCTOR_CERT_DAYS)
		doctor_fail(d, "tls", "the certificate of %s expires in %.0f days: renew it", base,
			    days);
	else if (r.cert_expiry)
		doctor_ok("tls", "certificate valid, expires in %.0f days", days);
	else
		doctor_ok("tls", "certificate valid");
	buf_free(&r.body);
}

/* Whether the JRD's links hold href (the actor). */
static bool jrd_links_to(const char *body, size_t len, const char *subject, const char *href)
{
	json_t *j = json_loadb(body ? body : "", len, 0, NULL), *links, *l;
	const char *s = json_string_value(json_object_get(j, "subject"));
	bool found = false;
	size_t i;

	links = json_object_get(j, "links");
	json_array_foreach(links, i, l) found |=
	    json_string_value(json_object_get(l, "href")) &&
	    strcmp(json_string_value(json_object_get(l, "href")), href) == 0;
	found = found && s && strcmp(s, subject) == 0;
	json_decref(j);
	return found;
}

static void check_webfinger(struct doctor *d)
{
	const struct ap_site *site = &d->app->site;
	char url[2048], subject[512];
	struct doctor_resp r;
	struct err e = {0};

	snprintf(subject, sizeof(subject), "acct:%s", site->acct);
	snprintf(url, sizeof(url), "%s/.well-known/webfinger?resource=%s", d->app->cfg->base_url,
		 subject);
	if (doctor_get(url, "application/jrd+json", &r, &e) != BB_OK)
		doctor_fail(d, "webfinger", "%s: %s", url, e.msg);
	else if (r.status != 200)
		doctor_fail(d, "webfinger",
			    "%s answered %ld: route /.well-known/webfinger to the bridge, not the "
			    "blog (see examples/nginx.conf)",
			    url, r.status);
	else if (!type_is(r.content_type, "application/jrd+json"))
		doctor_fail(d, "webfinger",
			    "Content-Type '%s' instead of application/jrd+json: the answer is not "
			    "the bridge's, or the proxy rewrites it",
			    r.content_type);
	else if (strcmp(r.cors, "*") != 0)
		doctor_fail(d, "webfinger",
			    "no Access-Control-Allow-Origin: * (the proxy drops it): web clients "
			    "cannot look the account up");
	else if (!jrd_links_to(r.body.data, r.body.len, subject, site->actor_id))
		doctor_fail(d, "webfinger", "the answer is not this bridge's JRD for %s", subject);
	else
		doctor_ok("webfinger", "%s -> %s", subject, site->actor_id);
	if (e.code == BB_OK)
		doctor_seen(d, &r);
	buf_free(&r.body);
}

static const char *shown(const char *s, char *out, size_t n);

/* After `blogbridge move`: a note, and the actor served must show it
 * (serve shows it within seconds; otherwise it is not the serve of this
 * database). */
static void check_moved(struct doctor *d, json_t *actor)
{
	char show[512];
	struct err e = {0};
	struct store *st = app_store(d->app, &e);
	const char *served = json_string_value(json_object_get(actor, "movedTo"));
	char *moved = NULL;

	if (st == NULL || store_moved_to_get(st, &moved, &e) != BB_OK) {
		doctor_fail(d, "moved", "%s", e.msg);
		return;
	}
	if (moved == NULL)
		return;
	if (served == NULL || strcmp(served, moved) != 0)
		doctor_fail(d, "moved",
			    "the database records a move to %s, but the actor served has no such "
			    "movedTo: is serve running with this database?",
			    shown(moved, show, sizeof(show)));
	else
		doctor_note("warn", "moved",
			    "the blog has moved to %s (blogbridge move): the feed is no longer "
			    "published and follows are rejected",
			    shown(moved, show, sizeof(show)));
	free(moved);
}

static void check_actor(struct doctor *d)
{
	const char *actor = d->app->site.actor_id;
	struct doctor_resp r;
	struct err e = {0};
	json_t *j;

	if (doctor_get(actor, "application/activity+json", &r, &e) != BB_OK) {
		doctor_fail(d, "actor", "%s: %s", actor, e.msg);
		buf_free(&r.body);
		return;
	}
	doctor_seen(d, &r);
	j = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
	if (r.status != 200)
		doctor_fail(d, "actor",
			    "%s answered %ld with an ActivityPub Accept: route /ap/ to "
			    "the bridge",
			    actor, r.status);
	else if (!type_is(r.content_type, "application/activity+json"))
		doctor_fail(d, "actor",
			    "Content-Type '%s' instead of application/activity+json: the proxy "
			    "rewrites it (remove its default_type / add_header Content-Type)",
			    r.content_type);
	else if (json_string_value(json_object_get(j, "id")) == NULL ||
		 strcmp(json_string_value(json_object_get(j, "id")), actor) != 0)
		doctor_fail(d, "actor", "%s is not this bridge's actor", actor);
	else
		doctor_ok("actor", "JSON as application/activity+json");
	if (r.status == 200 && json_is_object(j))
		check_moved(d, j);
	json_decref(j);
	buf_free(&r.body);

	if (doctor_get(actor, "text/html", &r, &e) != BB_OK)
		doctor_fail(d, "negotiate", "%s: %s", actor, e.msg);
	else if (r.status < 300 || r.status > 308 || r.location[0] == '\0')
		doctor_fail(d, "negotiate",
			    "a browser got %ld (%s) instead of a redirect to the blog: a cache in "
			    "between ignores Vary: Accept",
			    r.status, r.content_type[0] ? r.content_type : "no type");
	else
		doctor_ok("negotiate", "a browser is sent to %s", r.location);
	buf_free(&r.body);
}

/* s made fit for the terminal: printable ASCII, at most n - 1 bytes. */
static const char *shown(const char *s, char *out, size_t n)
{
	size_t i = 0;

	for (; s != NULL && *s != '\0' && i + 1 < n; s++)
		out[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[i] = '\0';
	return out;
}

enum ntp_state { NTP_SYNCED, NTP_UNSYNCED, NTP_ABSENT, NTP_UNKNOWN };

/* What `timedatectl show -p NTPSynchronized --value` says, run without a
 * shell, its output bounded and its time too (killed past
 * DOCTOR_NTP_TIMEOUT_MS).  why: its first line when it could not tell. */
static enum ntp_state ntp_state(char *why, size_t n)
{
	char *argv[] = {"timedatectl", "show", "-p", "NTPSynchronized", "--value", NULL};
	posix_spawn_file_actions_t fa;
	char out[DOCTOR_NTP_OUT_MAX + 1];
	size_t len = 0;
	int fds[2], status = 0, rc;
	struct timespec t0, t;
	bool killed = false;
	pid_t pid;

	snprintf(why, n, "it could not be run");
	if (pipe2(fds, O_CLOEXEC) != 0)
		return NTP_UNKNOWN;
	if (posix_spawn_file_actions_init(&fa) != 0) {
		close(fds[0]);
		close(fds[1]);
		return NTP_UNKNOWN;
	}
	(void)posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	(void)posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	(void)posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	rc = posix_spawnp(&pid, "timedatectl", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return rc == ENOENT ? NTP_ABSENT : NTP_UNKNOWN;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {fds[0], POLLIN, 0};
		long left;
		ssize_t got;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = DOCTOR_NTP_TIMEOUT_MS - ((t.tv_sec - t0.tv_sec) * 1000 +
						(t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			killed = kill(pid, SIGKILL) == 0;
			break;
		}
		if (len < DOCTOR_NTP_OUT_MAX)
			got = read(fds[0], out + len, DOCTOR_NTP_OUT_MAX - len);
		else
			got = read(fds[0], (char[256]){0}, 256); /* the rest, unread */
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (len < DOCTOR_NTP_OUT_MAX)
			len += (size_t)got;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	out[len] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (killed) {
		snprintf(why, n, "no answer within %d s", DOCTOR_NTP_TIMEOUT_MS / 1000);
		return NTP_UNKNOWN;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && strcmp(out, "yes") == 0)
		return NTP_SYNCED;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && strcmp(out, "no") == 0)
		return NTP_UNSYNCED;
	shown(out[0] ? out : "no output", why, n);
	return NTP_UNKNOWN;
}

/* The clock against the proxy's Date, then NTP (when timedatectl is
 * there): not synchronized is a warning while the clock is right, a
 * failure when it is also off. */
static void check_clock(struct doctor *d)
{
	bool off = false;
	char why[160];
	double skew = 0;

	if (!d->answered) {
		doctor_fail(d, "clock",
			    "nothing answered through base_url: the clock was not compared (see "
			    "the checks above)");
	} else if (d->server_date == 0) {
		doctor_fail(d, "clock",
			    "no Date header came back: the proxy strips it, and "
			    "signatures need it");
	} else {
		skew = difftime(time(NULL), d->server_date);
		off = skew > DOCTOR_CLOCK_SKEW_S || skew < -DOCTOR_CLOCK_SKEW_S;
		if (off)
			doctor_fail(d, "clock",
				    "the proxy's Date is %.0f s off the local clock: run NTP "
				    "(timedatectl set-ntp true)",
				    skew);
		else
			doctor_ok("clock", "within %.0f s of the proxy's Date",
				  skew < 0 ? -skew : skew);
	}
	switch (ntp_state(why, sizeof(why))) {
	case NTP_SYNCED: doctor_ok("ntp", "synchronized (timedatectl)"); break;
	case NTP_UNSYNCED:
		if (off)
			doctor_fail(d, "ntp",
				    "not synchronized (timedatectl), and the clock is %.0f s off: "
				    "timedatectl set-ntp true",
				    skew);
		else
			doctor_note("warn", "ntp",
				    "not synchronized (timedatectl): only a warning while the clock "
				    "is within %d s, but it drifts: timedatectl set-ntp true",
				    DOCTOR_CLOCK_SKEW_S);
		break;
	case NTP_ABSENT: doctor_note("skip", "ntp", "timedatectl not found: NTP not checked"); break;
	case NTP_UNKNOWN:
	default:
		doctor_note("skip", "ntp", "timedatectl could not tell (%s): NTP not checked", why);
		break;
	}
}

/* One header of the probe's report; false (with the FAIL, the reason
 * and the fix) when it did not arrive as signed. */
static bool probe_header(struct doctor *d, const json_t *report, const char *name,
			 const char *sent)
{
	const json_t *h = json_object_get(json_object_get(report, "headers"), name);
	const char *got = json_string_value(json_object_get(h, "received"));
	char g[128], w[128];

	if (json_is_true(json_object_get(h, "unchanged")))
		return true;
	shown(got, g, sizeof(g));
	shown(sent, w, sizeof(w));
	if (strcmp(name, "host") == 0)
		doctor_fail(d, "inbox",
			    "Host arrives at the inbox as '%s', signed as '%s': the proxy must pass "
			    "the public host (nginx: proxy_set_header Host $host, or $http_host when "
			    "base_url has a port)",
			    got ? g : "(none)", w);
	else if (strcmp(name, "date") == 0 && got == NULL)
		doctor_fail(d, "inbox",
			    "the proxy strips Date from requests to the inbox, and signatures cover "
			    "it: remove its proxy_set_header Date, keep proxy_pass_request_headers on");
	else if (strcmp(name, "date") == 0)
		doctor_fail(d, "inbox",
			    "the proxy rewrites Date to '%s', signed as '%s': remove its "
			    "proxy_set_header Date",
			    g, w);
	else if (strcmp(name, "digest") == 0 && got == NULL)
		doctor_fail(d, "inbox",
			    "the proxy strips Digest from requests to the inbox, and signatures "
			    "cover it: keep proxy_pass_request_headers on, no proxy_set_header Digest");
	else if (strcmp(name, "digest") == 0)
		doctor_fail(d, "inbox",
			    "the Digest that reaches the inbox is not the body's: the proxy changes "
			    "the body or the header (no proxy_set_header Digest, no sub_filter on /ap/)");
	else
		doctor_fail(d, "inbox",
			    "the proxy rewrites the Content-Type of requests to the inbox to '%s', "
			    "signed as '%s': remove its proxy_set_header Content-Type",
			    got ? g : "(none)", w);
	return false;
}

/* What came back when the answer is no probe report. */
static void probe_refused(struct doctor *d, const char *url, const struct doctor_resp *r)
{
	json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
	const char *why = json_string_value(json_object_get(j, "error"));
	char w[256];

	if (r->status == 401 && why != NULL)
		doctor_fail(d, "inbox",
			    "the inbox refused the probe (401: %s): serve and doctor must use the "
			    "same configuration and key",
			    shown(why, w, sizeof(w)));
	else if (r->status == 202)
		doctor_fail(d, "inbox",
			    "%s took the probe for an ordinary activity: base_url reaches another "
			    "program, or an older blogbridge",
			    url);
	else
		doctor_fail(d, "inbox",
			    "%s answered %ld to a signed POST: route /ap/ to the bridge, POST too "
			    "(see examples/nginx.conf)",
			    url, r->status);
	json_decref(j);
}

/* The signed POST through the proxy: a probe (probe.h) to the actor's
 * inbox, signed as deliveries are; the inbox reports what arrived. */
static void check_inbox(struct doctor *d)
{
	struct app *app = d->app;
	struct ap_probe p = {0};
	struct curl_slist *h = NULL;
	struct doctor_resp r = {0};
	struct err e = {0};
	char line[HTTPSIG_HEADER_MAX + 64];
	const char *lines[7][2];
	json_t *report = NULL, *sig;
	bool intact = true;
	char w[256];

	if (ap_probe_make(&app->site, app->key, time(NULL), &p, &e) != BB_OK) {
		doctor_fail(d, "inbox", "cannot make the probe: %s", e.msg);
		return;
	}
	lines[0][0] = "Host", lines[0][1] = p.sig.host;
	lines[1][0] = "Date", lines[1][1] = p.sig.date;
	lines[2][0] = "Digest", lines[2][1] = p.sig.digest;
	lines[3][0] = "Content-Type", lines[3][1] = AP_CONTENT_TYPE;
	lines[4][0] = "Accept", lines[4][1] = AP_CONTENT_TYPE;
	lines[5][0] = "Signature", lines[5][1] = p.sig.signature;
	lines[6][0] = "Expect", lines[6][1] = ""; /* no 100-continue, as deliveries */
	for (size_t i = 0; i < 7; i++) {
		struct curl_slist *n;
		snprintf(line, sizeof(line), "%s: %s", lines[i][0], lines[i][1]);
		if ((n = curl_slist_append(h, line)) == NULL) {
			doctor_fail(d, "inbox", "out of memory");
			goto out;
		}
		h = n;
	}
	if (doctor_request(p.url, h, p.body, &r, &e) != BB_OK) {
		doctor_fail(d, "inbox", "%s: %s", p.url, e.msg);
		goto out;
	}
	doctor_seen(d, &r);
	report = r.status == 200 ? json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL)
				 : NULL;
	sig = json_object_get(report, "signature");
	if (report == NULL || !json_is_object(sig)) {
		probe_refused(d, p.url, &r);
		goto out;
	}
	intact &= probe_header(d, report, "host", p.sig.host);
	intact &= probe_header(d, report, "date", p.sig.date);
	intact &= probe_header(d, report, "digest", p.sig.digest);
	intact &= probe_header(d, report, "content-type", AP_CONTENT_TYPE);
	if (intact && json_is_true(json_object_get(sig, "verified")))
		doctor_ok("inbox",
			  "a signed POST arrived with Host, Date, Digest and Content-Type unchanged; "
			  "its signature verified");
	else if (intact)
		doctor_fail(d, "inbox",
			    "the signature of a POST through the proxy did not verify: %s (does the "
			    "proxy change the path? proxy_pass with no URI part keeps it)",
			    shown(json_string_value(json_object_get(sig, "reason")), w, sizeof(w)));
out:
	json_decref(report);
	curl_slist_free_all(h);
	buf_free(&r.body);
	ap_probe_clear(&p);
}

static void check_feed(struct doctor *d)
{
	const struct config *cfg = d->app->cfg;
	struct feed_doc doc = {0};
	struct feed f = {0};
	struct err e = {0};
	enum bb_rc rc;

	buf_init(&doc.body, FEED_BYTES_MAX);
	if (cfg->feed_is_url) {
		struct feed_fetch_opts o = {.url = cfg->feed,
					    .user_agent = d->app->fetch.user_agent};
		rc = feed_fetch_http(&o, &doc, &e);
	} else {
		rc = feed_fetch_file(cfg->feed, NULL, time(NULL), &doc, &e);
	}
	if (rc == BB_OK)
		rc = feed_parse(doc.body.data ? doc.body.data : "", doc.body.len, &f, &e);
	if (rc != BB_OK) {
		doctor_fail(d, "feed", "%s: %s", cfg->feed, e.msg);
	} else if (f.nitems == 0) {
		doctor_fail(d, "feed", "%s has no items", cfg->feed);
	} else {
		const struct post *newest = &f.items[0];
		for (size_t i = 1; i < f.nitems; i++)
			if (f.items[i].published > newest->published)
				newest = &f.items[i];
		doctor_ok("feed", "%zu items, the newest '%s'", f.nitems, newest->title);
	}
	feed_clear(&f);
	feed_doc_clear(&doc);
}

/* The files: what `check` looks at (database, key mode), one line each. */
static bool check_files(struct doctor *d, const char *path)
{
	struct config_errors *errs = calloc(1, sizeof(*errs));
	enum bb_rc rc;

	if (errs == NULL)
		return false;
	rc = config_check(path, errs);
	for (size_t i = 0; i < errs->count; i++)
		doctor_fail(d, "files", "%s", errs->line[i]);
	if (rc == BB_OK)
		doctor_ok("files", "configuration, database and key usable");
	free(errs);
	return rc == BB_OK;
}

/* A user's name, or its number when it has none. */
static const char *user_name(uid_t uid, char *out, size_t n)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(out, n, "%s", pw.pw_name);
	else
		snprintf(out, n, "%lu", (unsigned long)uid);
	return out;
}

/* A group's name, or its number when it has none. */
static const char *group_name(gid_t gid, char *out, size_t n)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(out, n, "%s", gr.gr_name);
	else
		snprintf(out, n, "%lu", (unsigned long)gid);
	return out;
}

/* The database (with SQLite's -wal and -shm) and the key must belong to
 * the service user, the key mode 0600.  The service user is the owner of
 * the database's folder: the .deb's StateDirectory (/var/lib/blogbridge)
 * is made for its unit's User=blogbridge, a source install's folder by
 * whoever first ran serve.  A command run by root that made the files
 * made them root's, and serve cannot open them. */
static void check_owner(struct doctor *d)
{
	const struct config *cfg = d->app->cfg;
	char dir[PATH_MAX], path[PATH_MAX + 8], owner[64], group[64], who[64];
	const char *files[4], *slash;
	struct stat ds, sb;
	bool good = true;
	size_t n = 0;

	if (strstr(cfg->database, "://") != NULL)
		return;
	slash = strrchr(cfg->database, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - cfg->database) : 1,
		 slash ? cfg->database : ".");
	if (dir[0] == '\0')
		snprintf(dir, sizeof(dir), "/");
	if (stat(dir, &ds) != 0) {
		doctor_fail(d, "files", "folder '%s': %s", dir, strerror(errno));
		return;
	}
	user_name(ds.st_uid, owner, sizeof(owner));
	group_name(ds.st_gid, group, sizeof(group));
	files[n++] = cfg->database;
	files[n++] = "-wal";
	files[n++] = "-shm";
	files[n++] = cfg->key_path;
	for (size_t i = 0; i < n; i++) {
		if (files[i][0] == '-')
			snprintf(path, sizeof(path), "%s%s", cfg->database, files[i]);
		else
			snprintf(path, sizeof(path), "%s", files[i]);
		if (lstat(path, &sb) != 0)
			continue; /* -wal, -shm: there while serve runs */
		if (sb.st_uid != ds.st_uid) {
			good = false;
			doctor_fail(d, "files",
				    "'%s' belongs to %s, not to %s, the service user (the owner of "
				    "'%s'): serve, run as that user, cannot use it; chown %s:%s '%s'",
				    path, user_name(sb.st_uid, who, sizeof(who)), owner, dir, owner,
				    group, path);
		}
		if (files[i] == cfg->key_path && (sb.st_mode & 0777) != 0600) {
			good = false;
			doctor_fail(d, "files", "key '%s' has mode %04o, not 0600: chmod 600 '%s'",
				    path, (unsigned)(sb.st_mode & 0777), path);
		}
	}
	if (good)
		doctor_ok("files", "the database and the key belong to %s (the owner of '%s'), key "
				   "mode 0600",
			  owner, dir);
}

/* ---- --remote ---------------------------------------------------------- */

/* Why a fetch failed, and what to do. */
static const char *remote_hint(enum bb_rc rc)
{
	switch (rc) {
	case BB_ERR_UNSAFE: return "refused: a private address (allow_private_addresses)";
	case BB_ERR_TEMPFAIL: return "check DNS, the firewall's egress and TLS";
	default: return "the answer is unusable";
	}
}

/* The actor URL of acct (user@host) by WebFinger, or NULL (reported). */
static char *remote_webfinger(struct doctor *d, const char *acct)
{
	char url[FETCH_URL_MAX];
	const char *host = strchr(acct, '@');
	struct fetch_result r = {0};
	struct err e = {0};
	json_t *j = NULL, *l;
	char *actor = NULL;
	size_t i;

	snprintf(url, sizeof(url), "https://%s/.well-known/webfinger?resource=acct:%s",
		 host ? host + 1 : acct, acct);
	if (fetch_get(&d->app->fetch, url, "application/jrd+json", FETCH_BODY_MAX, &r, &e) !=
	    BB_OK) {
		doctor_fail(d, "remote", "%s: %s (%s)", url, e.msg, remote_hint(e.code));
		goto out;
	}
	if (r.status != 200) {
		doctor_fail(d, "remote", "%s answered %ld", url, r.status);
		goto out;
	}
	j = json_loadb(r.body, r.body_len, 0, NULL);
	json_array_foreach(json_object_get(j, "links"), i, l)
	{
		const char *rel = json_string_value(json_object_get(l, "rel"));
		const char *href = json_string_value(json_object_get(l, "href"));
		if (actor == NULL && rel && href && strcmp(rel, "self") == 0)
			actor = strdup(href);
	}
	if (actor == NULL)
		doctor_fail(d, "remote", "%s: no actor (rel self) in the answer", url);
out:
	json_decref(j);
	fetch_result_clear(&r);
	return actor;
}

/* A remote account (@user@host, or an actor's URL) fetched as the bridge
 * fetches: WebFinger, then the actor with a signed GET. */
static void check_remote(struct doctor *d, const char *who)
{
	struct fetch_result r = {0};
	struct err e = {0};
	char *actor = NULL;
	json_t *j = NULL;
	const char *id;

	if (who[0] == '@')
		who++;
	if (strncmp(who, "https://", 8) == 0 || strncmp(who, "http://", 7) == 0)
		actor = strdup(who);
	else if ((actor = remote_webfinger(d, who)) == NULL)
		return;
	if (actor == NULL) {
		doctor_fail(d, "remote", "out of memory");
		return;
	}
	if (fetch_get(&d->app->fetch, actor, FETCH_ACCEPT_AP, FETCH_BODY_MAX, &r, &e) != BB_OK) {
		doctor_fail(d, "remote", "%s: %s (%s)", actor, e.msg, remote_hint(e.code));
		goto out;
	}
	j = json_loadb(r.body, r.body_len, 0, NULL);
	id = json_string_value(json_object_get(j, "id"));
	if (r.status == 401 || r.status == 403)
		doctor_fail(d, "remote",
			    "%s refused our signed GET (%ld): its server could not verify the "
			    "signature; it fetches our key at %s (see the checks above)",
			    actor, r.status, d->app->site.key_id);
	else if (r.status != 200 || id == NULL)
		doctor_fail(d, "remote", "%s answered %ld without an actor", actor, r.status);
	else
		doctor_ok("remote", "%s fetched with a signed GET", id);
out:
	json_decref(j);
	fetch_result_clear(&r);
	free(actor);
}

int cmd_doctor(struct cli *cli)
{
	struct doctor d = {0};
	const char *remote = NULL;
	int status = 0;

	if (cli->argc == 2 && strcmp(cli->argv[0], "--remote") == 0)
		remote = cli->argv[1];
	else if (cli->argc != 0) {
		cli_fail("usage: blogbridge doctor [--remote @user@host|ACTOR_URL]");
		return EXIT_USAGE;
	}
	if (!check_files(&d, cli->config_path))
		return EXIT_RUNTIME;
	if ((d.app = cli_app_open(cli, &status)) == NULL)
		return status;
	check_owner(&d);
	check_tls(&d);
	check_webfinger(&d);
	check_actor(&d);
	check_inbox(&d);
	check_clock(&d);
	check_feed(&d);
	if (remote)
		check_remote(&d, remote);
	app_free(d.app);
	return d.failures ? EXIT_RUNTIME : 0;
}
