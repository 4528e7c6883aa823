/*
 * web_auth.c — the door of the admin pages, and their dispatch.
 *
 * A login (POST /admin/login, fields `password` and `csrf`) that matches
 * [admin] password_hash opens a session: a new random 256-bit id (never
 * one the browser brought: no fixation) in a cookie that is HttpOnly,
 * SameSite=Strict, Path=/admin, and Secure when base_url is https.  The
 * store keeps only the SHA-256 of the id, with the session's CSRF token;
 * a session ends after WEB_SESSION_IDLE_S idle or WEB_SESSION_MAX_S in
 * all, or at logout.  The login form itself carries a token matched by a
 * short cookie (a double submit), so another site cannot log the browser
 * in.  Failed logins are counted per client address and logged.
 */
#include "config.h"
#include "digest.h"
#include "log.h"
#include "password.h"
#include "rand.h"
#include "store.h"
#include "web_int.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- pure parts ------------------------------------------------------- */

bool web_session_live(time_t created, time_t last_seen, time_t now)
{
	return now >= created && now - last_seen < WEB_SESSION_IDLE_S &&
	       now - created < WEB_SESSION_MAX_S;
}

bool web_csrf_ok(const char *expected, const char *given)
{
	size_t n;

	if (expected == NULL || given == NULL || expected[0] == '\0')
		return false;
	n = strlen(expected);
	return strlen(given) == n && CRYPTO_memcmp(expected, given, n) == 0;
}

/* The slot of addr, or NULL. */
static struct web_ratelimit_slot *slot_find(struct web_ratelimit *rl, const char *addr)
{
	for (size_t i = 0; i < WEB_RATELIMIT_SLOTS; i++)
		if (rl->slot[i].fails > 0 && strcmp(rl->slot[i].addr, addr) == 0)
			return &rl->slot[i];
	return NULL;
}

bool web_ratelimit_allowed(struct web_ratelimit *rl, const char *addr, time_t now,
			   unsigned *retry_after)
{
	struct web_ratelimit_slot *s;
	bool ok = true;

	pthread_mutex_lock(&rl->lock);
	s = slot_find(rl, addr);
	if (s != NULL && now - s->since >= WEB_LOGIN_WINDOW_S)
		s->fails = 0; /* the window is over */
	else if (s != NULL && s->fails >= WEB_LOGIN_FAILS_MAX) {
		ok = false;
		if (retry_after)
			*retry_after = (unsigned)(WEB_LOGIN_WINDOW_S - (now - s->since));
	}
	pthread_mutex_unlock(&rl->lock);
	return ok;
}

void web_ratelimit_fail(struct web_ratelimit *rl, const char *addr, time_t now)
{
	struct web_ratelimit_slot *s;

	pthread_mutex_lock(&rl->lock);
	s = slot_find(rl, addr);
	if (s != NULL && now - s->since >= WEB_LOGIN_WINDOW_S)
		s->fails = 0;
	if (s == NULL) {
		/* A free slot, else the one whose window began first. */
		for (size_t i = 0; s == NULL && i < WEB_RATELIMIT_SLOTS; i++)
			if (rl->slot[i].fails == 0)
				s = &rl->slot[i];
		if (s == NULL) {
			s = &rl->slot[0];
			for (size_t i = 1; i < WEB_RATELIMIT_SLOTS; i++)
				if (rl->slot[i].since < s->since)
					s = &rl->slot[i];
		}
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
		s->fails = 0;
	}
	if (s->fails == 0)
		s->since = now;
	s->fails++;
	pthread_mutex_unlock(&rl->lock);
}

void web_ratelimit_clear(struct web_ratelimit *rl, const char *addr)
{
	struct web_ratelimit_slot *s;

	pthread_mutex_lock(&rl->lock);
	if ((s = slot_find(rl, addr)) != NULL)
		s->fails = 0;
	pthread_mutex_unlock(&rl->lock);
}

/* Copies the trimmed [s, end) into out (n bytes). */
static void trim_copy(const char *s, const char *end, char *out, size_t n)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	snprintf(out, n, "%.*s", (int)(end - s), s);
}

/* Whether addr is in the comma-separated list. */
static bool addr_listed(const char *list, const char *addr)
{
	char item[WEB_ADDR_MAX];

	while (list != NULL && *list) {
		const char *comma = strchr(list, ',');
		const char *end = comma ? comma : list + strlen(list);
		trim_copy(list, end, item, sizeof(item));
		if (item[0] && strcmp(item, addr) == 0)
			return true;
		list = comma ? comma + 1 : NULL;
	}
	return false;
}

void web_client_addr(const char *peer, const char *trusted_proxies, const char *forwarded,
		     char out[WEB_ADDR_MAX])
{
	const char *last;

	snprintf(out, WEB_ADDR_MAX, "%s", peer);
	if (forwarded == NULL || !addr_listed(trusted_proxies, peer))
		return;
	last = strrchr(forwarded, ',');
	last = last ? last + 1 : forwarded;
	trim_copy(last, last + strlen(last), out, WEB_ADDR_MAX);
	if (out[0] == '\0')
		snprintf(out, WEB_ADDR_MAX, "%s", peer);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the n bytes at s (+ is a space, %XX a byte) into a new string. */
static char *form_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
			 hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

size_t web_form_values(const char *body, size_t len, const char *name, char **out, size_t max)
{
	size_t nl = strlen(name), n = 0;
	const char *p = body, *end = body + len;

	while (p < end && n < max) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *field_end = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(field_end - p));
		if (eq != NULL && (size_t)(eq - p) == nl && memcmp(p, name, nl) == 0 &&
		    (out[n] = form_decode(eq + 1, (size_t)(field_end - eq - 1))) != NULL)
			n++;
		p = field_end + 1;
	}
	return n;
}

char *web_form_value(const char *body, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *p = body, *end = body + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *field_end = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(field_end - p));
		if (eq != NULL && (size_t)(eq - p) == nl && memcmp(p, name, nl) == 0)
			return form_decode(eq + 1, (size_t)(field_end - eq - 1));
		p = field_end + 1;
	}
	return NULL;
}
