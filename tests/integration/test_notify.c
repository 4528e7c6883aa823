/*
 * test_notify.c — the admin's notifications ([notify]) of the real
 * blogbridge binary.  Invoked as `test_notify PATH/TO/blogbridge [CASE...]`.
 *
 * The mail server is a sink on loopback written here, speaking enough of
 * RFC 5321 (220, EHLO/HELO, MAIL FROM, RCPT TO, DATA, ".", QUIT) to take
 * a message from libcurl, and recording each.  It can also be a port that
 * refuses (bound, not yet listening: connections are refused until the
 * sink listens) or a server that accepts and never says a word.  The
 * webhook is a libmicrohttpd daemon that records each POST; its
 * signature is checked here with OpenSSL's HMAC under the secret
 * `blogbridge notify secret` prints.  Follows and replies are signed by
 * peers (peer.h) and sent to the bridge's inboxes, as in test_federation.
 *
 * Cases:
 * - mail: the mail server refuses; alice and bob follow; their Accepts
 *   arrive, the webhook gets both events, signed; the failed mail attempt
 *   is logged; the sink then listens and gets one mail naming both, with
 *   its headers (the blog's non-ASCII name RFC 2047 encoded) and a
 *   quoted-printable body.  A third follow and a reply waiting for
 *   moderation reach the webhook but wait for the next mail (at most one
 *   per ten minutes).  A replayed Follow, a forged one and a repeated
 *   follow from a follower record nothing.
 * - dead_smtp: a mail server that accepts and never answers holds no
 *   follower's Accept and no webhook POST back, and the bridge stops at
 *   once on SIGTERM.
 */
#include "bridge_proc.h"
#include "check.h"
#include "httpsig.h"
#include "key.h"
#include "peer.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AS_CONTEXT "https://www.w3.org/ns/activitystreams"
#define AS_PUBLIC AS_CONTEXT "#Public"
#define PERSONAL "/ap/actor/inbox"
#define SHARED "/ap/inbox"
#define MAIL_TO "admin@example.test"
#define BLOG_NAME "Blög Tëst"
#define WAIT_MS 8000
#define MAIL_WAIT_MS 30000
/* The mail server's user and password, as smtp_url writes them (the
 * password must never reach the log). */
#define SMTP_USERINFO "notify%40blog.test:s3cr%3Dt@" /* the mail's retry after a refusal is 5 s */

/* ---- the SMTP sink ------------------------------------------------------ */

enum sink_mode { SINK_SERVE, SINK_SILENT };

#define SINK_MSGS_MAX 8
#define SINK_LINE_MAX 4096
#define SINK_DATA_MAX (512 * 1024)

struct sink_msg {
	char from[256], rcpt[256];
	char *data; /* the message as received, dots unstuffed */
};

struct sink {
	int fd;
	int port;
	enum sink_mode mode;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	pthread_mutex_t lock;
	struct sink_msg msgs[SINK_MSGS_MAX];
	size_t count;
	int conns;	/* connections accepted */
	char auth[256]; /* the last AUTH PLAIN's text, its NULs as '|' */
	int held[16];	/* SINK_SILENT's connections, closed at the end */
	size_t nheld;
};

/* A sink bound to a free loopback port and not yet listening: until
 * sink_listen, connections to it are refused. */
static bool sink_init(struct sink *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &len) != 0)
		return false;
	s->port = ntohs(a.sin_port);
	return true;
}

/* Reads one line (CRLF or LF ended, terminator cut) from fd into line,
 * buffering in buf; false on end, error, a 5 s silence or a stop. */
struct sink_conn {
	struct sink *s;
	int fd;
	char buf[SINK_LINE_MAX];
	size_t len;
};

static bool conn_line(struct sink_conn *c, char *line, size_t n)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl != NULL) {
			size_t l = (size_t)(nl - c->buf);
			size_t keep = l > 0 && c->buf[l - 1] == '\r' ? l - 1 : l;
			if (keep >= n)
				keep = n - 1;
			memcpy(line, c->buf, keep);
			line[keep] = '\0';
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return true;
		}
		if (c->len == sizeof(c->buf))
			return false;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		if (atomic_load(&c->s->stop) || poll(&p, 1, 5000) <= 0)
			return false;
		ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r <= 0)
			return false;
		c->len += (size_t)r;
	}
}

static void conn_say(struct sink_conn *c, const char *text)
{
	size_t n = strlen(text);

	if (send(c->fd, text, n, MSG_NOSIGNAL) != (ssize_t)n)
		fprintf(stderr, "sink: cannot answer\n");
}

static bool starts_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* One SMTP session, recording the message when one is sent. */
static void sink_session(struct sink *s, int fd)
{
	struct sink_conn c = {.s = s, .fd = fd};
	struct sink_msg m = {0};
	char line[SINK_LINE_MAX];

	conn_say(&c, "220 sink.test ESMTP\r\n");
	while (conn_line(&c, line, sizeof(line))) {
		if (starts_ci(line, "EHLO")) {
			conn_say(&c, "250-sink.test\r\n250-8BITMIME\r\n250-AUTH PLAIN\r\n"
				     "250 SIZE 1000000\r\n");
		} else if (starts_ci(line, "AUTH PLAIN")) {
			/* The credentials with the command (SASL-IR) or after a 334. */
			char b64[SINK_LINE_MAX];
			unsigned char dec[SINK_LINE_MAX];
			int n;
			snprintf(b64, sizeof(b64), "%s", line[10] == ' ' ? line + 11 : "");
			if (b64[0] == '\0') {
				conn_say(&c, "334 \r\n");
				if (!conn_line(&c, b64, sizeof(b64)))
					break;
			}
			n = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)strlen(b64));
			for (size_t k = strlen(b64); n > 0 && k > 0 && b64[k - 1] == '='; k--)
				n--;
			pthread_mutex_lock(&s->lock);
			for (int k = 0; k < n && k < (int)sizeof(s->auth) - 1; k++)
				s->auth[k] = dec[k] ? (char)dec[k] : '|';
			s->auth[n > 0 && n < (int)sizeof(s->auth) ? n : 0] = '\0';
			pthread_mutex_unlock(&s->lock);
			conn_say(&c, "235 ok\r\n");
		} else if (starts_ci(line, "HELO")) {
			conn_say(&c, "250 sink.test\r\n");
		} else if (starts_ci(line, "MAIL FROM:")) {
			/* The path, without parameters (SIZE=, BODY=). */
			snprintf(m.from, sizeof(m.from), "%.*s", (int)strcspn(line + 10, " ") % 256,
				 line + 10);
			conn_say(&c, "250 ok\r\n");
		} else if (starts_ci(line, "RCPT TO:")) {
			snprintf(m.rcpt, sizeof(m.rcpt), "%.255s", line + 8);
			conn_say(&c, "250 ok\r\n");
		} else if (starts_ci(line, "DATA")) {
			size_t len = 0;
			bool ended = false;
			m.data = calloc(1, SINK_DATA_MAX);
			conn_say(&c, "354 go on\r\n");
			while (m.data && conn_line(&c, line, sizeof(line))) {
				const char *l = line;
				size_t ll;
				if (strcmp(line, ".") == 0) {
					ended = true;
					break;
				}
				if (line[0] == '.')
					l++; /* dot-stuffing (RFC 5321 §4.5.2) */
				ll = strlen(l);
				if (len + ll + 3 >= SINK_DATA_MAX)
					break;
				memcpy(m.data + len, l, ll);
				memcpy(m.data + len + ll, "\r\n", 2);
				len += ll + 2;
			}
			if (!ended) {
				free(m.data);
				m.data = NULL;
				break;
			}
			pthread_mutex_lock(&s->lock);
			if (s->count < SINK_MSGS_MAX)
				s->msgs[s->count++] = m;
			else
				free(m.data);
			pthread_mutex_unlock(&s->lock);
			memset(&m, 0, sizeof(m));
			conn_say(&c, "250 queued\r\n");
		} else if (starts_ci(line, "QUIT")) {
			conn_say(&c, "221 bye\r\n");
			break;
		} else if (starts_ci(line, "RSET") || starts_ci(line, "NOOP")) {
			conn_say(&c, "250 ok\r\n");
		} else {
			conn_say(&c, "502 not here\r\n");
		}
	}
	free(m.data);
	close(fd);
}

static void *sink_main(void *arg)
{
	struct sink *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		int fd;
		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&s->lock);
		s->conns++;
		pthread_mutex_unlock(&s->lock);
		if (s->mode == SINK_SILENT && s->nheld < 16) {
			s->held[s->nheld++] = fd; /* accepted, never answered */
			continue;
		}
		sink_session(s, fd);
	}
	return NULL;
}

static bool sink_listen(struct sink *s, enum sink_mode mode)
{
	s->mode = mode;
	if (listen(s->fd, 16) != 0 || pthread_create(&s->thread, NULL, sink_main, s) != 0)
		return false;
	s->running = true;
	return true;
}

static void sink_free(struct sink *s)
{
	atomic_store(&s->stop, true);
	if (s->running)
		pthread_join(s->thread, NULL);
	for (size_t i = 0; i < s->nheld; i++)
		close(s->held[i]);
	if (s->fd >= 0)
		close(s->fd);
	for (size_t i = 0; i < s->count; i++)
		free(s->msgs[i].data);
	pthread_mutex_destroy(&s->lock);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static size_t sink_count(struct sink *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->count;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static int sink_conns(struct sink *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->conns;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- the webhook receiver ----------------------------------------------- */

#define HOOK_MAX 32

struct hook_post {
	char *body;
	char signature[128];
	char event[32];
	char content_type[64];
	char delivery[32];
};

static struct {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t lock;
	struct hook_post posts[HOOK_MAX];
	size_t count;
} hook = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct hook_upload {
	char *data;
	size_t len;
};

static enum MHD_Result hook_answer(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version, const char *upload,
				   size_t *upload_size, void **con_cls)
{
	struct hook_upload *u = *con_cls;
	struct MHD_Response *res;
	enum MHD_Result ret;

	(void)cls, (void)url, (void)version;
	if (u == NULL) {
		u = calloc(1, sizeof(*u));
		*con_cls = u;
		return u ? MHD_YES : MHD_NO;
	}
	if (*upload_size > 0) {
		char *grown = realloc(u->data, u->len + *upload_size + 1);
		if (grown == NULL || u->len + *upload_size > 65536)
			return MHD_NO;
		u->data = grown;
		memcpy(u->data + u->len, upload, *upload_size);
		u->len += *upload_size;
		u->data[u->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0) {
		const char *sig =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Blogbridge-Signature");
		const char *ev =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Blogbridge-Event");
		const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
		const char *dl =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Blogbridge-Delivery");
		pthread_mutex_lock(&hook.lock);
		if (hook.count < HOOK_MAX) {
			struct hook_post *p = &hook.posts[hook.count++];
			p->body = u->data ? u->data : strdup("");
			u->data = NULL;
			snprintf(p->signature, sizeof(p->signature), "%s", sig ? sig : "");
			snprintf(p->event, sizeof(p->event), "%s", ev ? ev : "");
			snprintf(p->content_type, sizeof(p->content_type), "%s", ct ? ct : "");
			snprintf(p->delivery, sizeof(p->delivery), "%s", dl ? dl : "");
		}
		pthread_mutex_unlock(&hook.lock);
	}
	res = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
	if (res == NULL)
		return MHD_NO;
	ret = MHD_queue_response(conn, 200, res);
	MHD_destroy_response(res);
	return ret;
}

static void hook_done(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct hook_upload *u = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (u) {
		free(u->data);
		free(u);
	}
	*con_cls = NULL;
}

static bool hook_start(void)
{
	hook.port = check_free_port("127.0.0.1");
	if (hook.port <= 0)
		return false;
	hook.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
				  (uint16_t)hook.port, NULL, NULL, hook_answer, NULL,
				  MHD_OPTION_NOTIFY_COMPLETED, hook_done, NULL, MHD_OPTION_END);
	return hook.d != NULL;
}

static void hook_stop(void)
{
	if (hook.d)
		MHD_stop_daemon(hook.d);
	for (size_t i = 0; i < hook.count; i++)
		free(hook.posts[i].body);
	hook.d = NULL;
	hook.count = 0;
}

static size_t hook_count(void)
{
	size_t n;

	pthread_mutex_lock(&hook.lock);
	n = hook.count;
	pthread_mutex_unlock(&hook.lock);
	return n;
}

/* Waits (bounded) until the webhook got a POST whose body names s. */
static const struct hook_post *hook_wait_for(const char *s, int ms)
{
	long long until = peer_now_ms() + ms;

	do {
		pthread_mutex_lock(&hook.lock);
		for (size_t i = 0; i < hook.count; i++) {
			if (strstr(hook.posts[i].body, s) != NULL) {
				pthread_mutex_unlock(&hook.lock);
				return &hook.posts[i];
			}
		}
		pthread_mutex_unlock(&hook.lock);
		sleep_ms(BRIDGE_POLL_MS);
	} while (peer_now_ms() < until);
	check_fail(__FILE__, __LINE__, "no webhook POST naming %s within %d ms", s, ms);
	return NULL;
}

/* ---- the bridge, the peers ------------------------------------------------ */

static const char *binary;
static unsigned counter;

/* Writes b's bridge.conf with a [notify] section: mail through
 * smtp://USERINFO127.0.0.1:smtp_port, the webhook when hook_port > 0. */
static bool notify_setup(struct bridge *b, const char *userinfo, int smtp_port, int hook_port)
{
	char text[2048], hookline[128] = "";

	if (!bridge_prepare(b, binary))
		return false;
	snprintf(b->actor_id, sizeof(b->actor_id), "%s/ap/actor", b->origin);
	snprintf(b->key_id, sizeof(b->key_id), "%s#main-key", b->actor_id);
	free(check_write_file(b->dir, "feed.xml",
			      "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
			      "<title>N</title><link>https://blog.test/</link>"
			      "<description>d</description></channel></rss>\n"));
	if (hook_port > 0)
		snprintf(hookline, sizeof(hookline), "webhook = http://127.0.0.1:%d/hook\n",
			 hook_port);
	snprintf(text, sizeof(text),
		 "[site]\nbase_url = %s\nhandle = blog\nname = " BLOG_NAME "\n"
		 "summary = s\nfeed = feed.xml\n"
		 "\n[server]\nlisten = 127.0.0.1:%d\n"
		 "\n[store]\ndatabase = data/bridge.db\n"
		 "\n[federation]\nkey = data/actor.pem\nallow_private_addresses = true\n"
		 "\n[notify]\nmail_to = " MAIL_TO "\nsmtp_url = smtp://%s127.0.0.1:%d\n%s",
		 b->origin, b->port, userinfo, smtp_port, hookline);
	bridge_write_conf(b, text);
	return true;
}

/* POSTs body to b's path as a, signed as o says (NULL: well); the status. */
static long post_as(const struct bridge *b, const struct peer_actor *a, const char *path,
		    const char *body, const struct peer_sign_opts *o)
{
	struct curl_slist *hdrs = NULL;
	struct reply r = {0};
	char url[256];
	long status = 0;

	snprintf(url, sizeof(url), "%s%s", b->origin, path);
	if (peer_sign_post(a, url, body, o, &hdrs) &&
	    bridge_http(b, "POST", path, hdrs, body, strlen(body), &r))
		status = r.status;
	curl_slist_free_all(hdrs);
	reply_free(&r);
	return status;
}

/* A Follow of b by a: its id in id, its JSON (free it). */
static char *follow_json(const struct bridge *b, const struct peer_actor *a, char *id, size_t n)
{
	json_t *j;
	char *s;

	snprintf(id, n, "%s/activities/follow-%u-%ld", peer_base(a->peer), ++counter,
		 (long)time(NULL));
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "@context", AS_CONTEXT, "id", id, "type",
		      "Follow", "actor", a->id, "object", b->actor_id);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

/* Whether p received an Accept of the Follow follow_id. */
static bool accepted(struct peer *p, const char *follow_id)
{
	for (size_t i = 0, n = peer_post_count(p); i < n; i++) {
		const struct peer_post *pp = peer_post_at(p, i);
		json_t *j = json_loads(pp->body, 0, NULL);
		bool yes = j && jstr(j, "type") && strcmp(jstr(j, "type"), "Accept") == 0 &&
			   jstr(j, "object.id") && strcmp(jstr(j, "object.id"), follow_id) == 0;
		json_decref(j);
		if (yes)
			return true;
	}
	return false;
}

/* a follows b; waits (bounded by ms) for the Accept and returns how long
 * it took in milliseconds (-1, reported, when it did not come). */
static long long follow_accepted(const struct bridge *b, const struct peer_actor *a, int ms)
{
	char id[PEER_URL_MAX + 64];
	char *body = follow_json(b, a, id, sizeof(id));
	long long start = peer_now_ms();

	CHECK(body != NULL);
	CHECK_INT(body ? post_as(b, a, PERSONAL, body, NULL) : 0, 202);
	free(body);
	while (!accepted(a->peer, id)) {
		if (peer_now_ms() - start > ms) {
			check_fail(__FILE__, __LINE__, "no Accept of %s within %d ms", id, ms);
			return -1;
		}
		sleep_ms(BRIDGE_POLL_MS);
	}
	return peer_now_ms() - start;
}

/* `blogbridge notify secret` of b, as 32 bytes in out. */
static bool secret_of(const struct bridge *b, unsigned char out[32])
{
	char cmd[PATH_MAX * 2 + 64], hex[80] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' -c '%s' notify secret 2>/dev/null", b->binary, b->conf);
	f = popen(cmd, "r");
	if (f == NULL || fgets(hex, sizeof(hex), f) == NULL) {
		if (f)
			pclose(f);
		check_fail(__FILE__, __LINE__, "notify secret printed nothing");
		return false;
	}
	CHECK_INT(pclose(f), 0);
	CHECK_INT(strlen(hex), 65); /* 64 hex digits and a newline */
	for (size_t i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (unsigned char)v;
	}
	return true;
}

/* Checks the POST's signature: sha256= and the HMAC of its body under
 * secret, computed here. */
static void check_signed(const struct hook_post *p, const unsigned char secret[32])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char want[2 * EVP_MAX_MD_SIZE + 8] = "sha256=";

	if (p == NULL)
		return;
	HMAC(EVP_sha256(), secret, 32, (const unsigned char *)p->body, strlen(p->body), mac, &len);
	for (unsigned i = 0; i < len; i++)
		snprintf(want + 7 + 2 * i, 3, "%02x", mac[i]);
	CHECK_STR(p->signature, want);
	CHECK(check_contains(p->content_type, "application/json"));
	CHECK(p->delivery[0] >= '1' && p->delivery[0] <= '9' &&
	      strspn(p->delivery, "0123456789") == strlen(p->delivery));
}

/* ---- reading a mail --------------------------------------------------- */

/* The unfolded value of header name in msg (before the blank line), in
 * out; false when absent. */
static bool header_of(const char *msg, const char *name, char *out, size_t n)
{
	const char *end = strstr(msg, "\r\n\r\n");
	size_t nl = strlen(name), o = 0;

	for (const char *p = msg; p && p < end;
	     p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ')
				p++;
			while (p < end + 2 && o + 1 < n) {
				if (p[0] == '\r' && p[1] == '\n') {
					if (p[2] != ' ' && p[2] != '\t')
						break;
					p += 2; /* unfold */
					continue;
				}
				out[o++] = *p++;
			}
			out[o] = '\0';
			return true;
		}
	}
	return false;
}

/* Decodes RFC 2047 B encoded-words in s (blanks between two words
 * dropped) into out. */
static void decode_words(const char *s, char *out, size_t n)
{
	size_t o = 0;
	bool after_word = false;

	while (*s && o + 1 < n) {
		if (strncmp(s, "=?UTF-8?B?", 10) == 0) {
			const char *end = strstr(s + 10, "?=");
			unsigned char dec[256];
			size_t len = end ? (size_t)(end - s - 10) : 0;
			int got;
			if (end == NULL || len > 4 * 60)
				break;
			got = EVP_DecodeBlock(dec, (const unsigned char *)s + 10, (int)len);
			for (const char *q = end - 1; got > 0 && *q == '='; q--)
				got--; /* EVP_DecodeBlock counts the padding */
			for (int i = 0; i < got && o + 1 < n; i++)
				out[o++] = (char)dec[i];
			s = end + 2;
			after_word = true;
			continue;
		}
		if (after_word && *s == ' ') {
			const char *q = s;
			while (*q == ' ')
				q++;
			if (strncmp(q, "=?UTF-8?B?", 10) == 0) {
				s = q;
				continue;
			}
		}
		after_word = false;
		out[o++] = *s++;
	}
	out[o] = '\0';
}

/* The body of msg (after the blank line), quoted-printable decoded. */
static char *qp_body(const char *msg)
{
	const char *p = strstr(msg, "\r\n\r\n");
	char *out = calloc(1, strlen(msg) + 1);
	size_t o = 0;

	if (p == NULL || out == NULL)
		return out;
	for (p += 4; *p; p++) {
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 2;
		} else if (p[0] == '=' && p[1] && p[2]) {
			unsigned v;
			if (sscanf(p + 1, "%2X", &v) == 1)
				out[o++] = (char)v;
			p += 2;
		} else {
			out[o++] = *p;
		}
	}
	return out;
}

/* Waits (bounded) until the sink holds n messages. */
static bool sink_wait(struct sink *s, size_t n, int ms)
{
	long long until = peer_now_ms() + ms;

	while (sink_count(s) < n) {
		if (peer_now_ms() > until) {
			check_fail(__FILE__, __LINE__, "%zu of %zu mails within %d ms",
				   sink_count(s), n, ms);
			return false;
		}
		sleep_ms(BRIDGE_POLL_MS);
	}
	return true;
}

/* Waits (bounded) until b's log holds text. */
static bool log_wait(const struct bridge *b, const char *text, int ms)
{
	long long until = peer_now_ms() + ms;

	do {
		FILE *f = fopen(b->log, "r");
		char line[2048];
		bool found = false;
		while (f && !found && fgets(line, sizeof(line), f))
			found = strstr(line, text) != NULL;
		if (f)
			fclose(f);
		if (found)
			return true;
		sleep_ms(BRIDGE_POLL_MS);
	} while (peer_now_ms() < until);
	check_fail(__FILE__, __LINE__, "no '%s' in the log within %d ms", text, ms);
	return false;
}

/* Whether b's log never holds text (reported when it does). */
static bool log_lacks(const struct bridge *b, const char *text)
{
	FILE *f = fopen(b->log, "r");
	char line[2048];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	if (found)
		check_fail(__FILE__, __LINE__, "the log holds '%s'", text);
	return f != NULL && !found;
}

/* ---- cases ------------------------------------------------------------ */

static void check_mail(const struct sink_msg *m, const struct bridge *b,
		       const struct peer_actor *a1, const struct peer_actor *a2)
{
	char v[1024], dec[1024], want[256];
	char *body;

	CHECK_STR(m->from, "<blog@127.0.0.1>");
	CHECK_STR(m->rcpt, "<" MAIL_TO ">");
	CHECK(header_of(m->data, "Date", v, sizeof(v)));
	CHECK(check_contains(v, " +0000"));
	CHECK(header_of(m->data, "To", v, sizeof(v)));
	CHECK_STR(v, "<" MAIL_TO ">");
	/* The blog's name is not ASCII: encoded-words, which decode to it. */
	CHECK(header_of(m->data, "From", v, sizeof(v)));
	CHECK(check_contains(v, "=?UTF-8?B?"));
	decode_words(v, dec, sizeof(dec));
	CHECK_STR(dec, BLOG_NAME " <blog@127.0.0.1>");
	CHECK(header_of(m->data, "Subject", v, sizeof(v)));
	CHECK(check_contains(v, "=?UTF-8?B?"));
	decode_words(v, dec, sizeof(dec));
	CHECK_STR(dec, "[" BLOG_NAME "] 2 new followers");
	CHECK(header_of(m->data, "Message-ID", v, sizeof(v)));
	CHECK(v[0] == '<' && check_contains(v, "@127.0.0.1>"));
	CHECK(header_of(m->data, "MIME-Version", v, sizeof(v)));
	CHECK_STR(v, "1.0");
	CHECK(header_of(m->data, "Content-Type", v, sizeof(v)));
	CHECK_STR(v, "text/plain; charset=utf-8");
	CHECK(header_of(m->data, "Content-Transfer-Encoding", v, sizeof(v)));
	CHECK_STR(v, "quoted-printable");
	body = qp_body(m->data);
	CHECK(body != NULL);
	if (body == NULL)
		return;
	CHECK(check_contains(body, "New followers (2):"));
	snprintf(want, sizeof(want), "@%s", a1->acct);
	CHECK(check_contains(body, want));
	snprintf(want, sizeof(want), "@%s", a2->acct);
	CHECK(check_contains(body, want));
	/* Each follower's profile page (the peers' actors have one). */
	snprintf(want, sizeof(want), "%s/@%s", peer_base(a1->peer), a1->name);
	CHECK(check_contains(body, want));
	(void)b;
	free(body);
}

/* Two follows while the mail server refuses: one mail with both once it
 * listens; the webhook signed; the next events wait for the interval;
 * replays and forgeries record nothing. */
static void t_mail(void)
{
	struct bridge br = {0};
	struct sink s;
	struct peer *p = NULL;
	struct peer_actor *alice, *bob, *carol, *frank, *gina;
	unsigned char secret[32];
	const struct hook_post *hp;
	const char *keydir = check_tmpdir();
	char id[PEER_URL_MAX + 64], note_id[PEER_URL_MAX + 64], act_id[PEER_URL_MAX + 80];
	char post[160], *body, *create = NULL;
	json_t *j;
	long long events;

	if (!sink_init(&s) || !hook_start() ||
	    !notify_setup(&br, SMTP_USERINFO, s.port, hook.port) || !bridge_start(&br)) {
		CHECK(!"the set-up failed");
		goto out;
	}
	CHECK(secret_of(&br, secret));
	p = peer_start("127.0.0.2", NULL, keydir);
	alice = peer_actor_checked(p, "alice");
	bob = peer_actor_checked(p, "bob");
	carol = peer_actor_checked(p, "carol");
	if (!alice || !bob || !carol)
		goto out;

	/* Alice follows: her Accept comes; the webhook gets the event at
	 * once; the mail is refused and to be tried again. */
	CHECK(follow_accepted(&br, alice, WAIT_MS) >= 0);
	hp = hook_wait_for(alice->id, WAIT_MS);
	check_signed(hp, secret);
	if (hp) {
		j = json_loads(hp->body, 0, NULL);
		CHECK_STR(jstr(j, "event"), "follow");
		CHECK_STR(jstr(j, "actor"), alice->id);
		snprintf(id, sizeof(id), "@%s", alice->acct);
		CHECK_STR(jstr(j, "handle"), id);
		CHECK(jstr(j, "time") != NULL);
		CHECK_STR(hp->event, "follow");
		json_decref(j);
	}
	CHECK(log_wait(&br, "mail to " MAIL_TO " failed", WAIT_MS));
	/* Bob follows before the server is back. */
	CHECK(follow_accepted(&br, bob, WAIT_MS) >= 0);
	check_signed(hook_wait_for(bob->id, WAIT_MS), secret);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM notify_events WHERE mail = 0"), 2);
	CHECK_INT(sink_count(&s), 0);

	/* The server listens: one mail, with both. */
	CHECK(sink_listen(&s, SINK_SERVE));
	if (sink_wait(&s, 1, MAIL_WAIT_MS))
		check_mail(&s.msgs[0], &br, alice, bob);
	pthread_mutex_lock(&s.lock);
	CHECK_STR(s.auth, "|notify@blog.test|s3cr=t"); /* AUTH PLAIN, URL-decoded */
	pthread_mutex_unlock(&s.lock);
	CHECK(bridge_wait_db(&br, 0, "SELECT count(*) FROM notify_events WHERE mail = 0 AND %Q",
			     "1"));

	/* Carol follows, and bob's reply waits for moderation: both reach the
	 * webhook, and wait for the next mail (ten minutes after the last). */
	CHECK(follow_accepted(&br, carol, WAIT_MS) >= 0);
	check_signed(hook_wait_for(carol->id, WAIT_MS), secret);
	snprintf(post, sizeof(post), "%s/ap/posts/one", br.origin);
	CHECK_INT(bridge_db_exec(&br,
				 "INSERT INTO posts(guid, ap_id, url, title, hash, object_json,"
				 " published, updated, created_at) VALUES"
				 " ('g1', %Q, 'https://blog.test/one/', 'Post \"One\"', 'h1', '{}',"
				 " 1, 1, 1)",
				 post),
		  1);
	snprintf(note_id, sizeof(note_id), "%s/statuses/%u", peer_base(p), ++counter);
	snprintf(act_id, sizeof(act_id), "%s/activity", note_id);
	j = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s]}}",
		      "@context", AS_CONTEXT, "id", act_id, "type", "Create", "actor", bob->id,
		      "object", "id", note_id, "type", "Note", "attributedTo", bob->id, "inReplyTo",
		      post, "content", "<p>Great &amp; <b>bold</b>\r\nBcc: x@evil.test</p>",
		      "published", "2026-01-01T00:00:00Z", "to", AS_PUBLIC, "cc", bob->id);
	create = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	CHECK_INT(create ? post_as(&br, bob, SHARED, create, NULL) : 0, 202);
	hp = hook_wait_for(note_id, WAIT_MS);
	check_signed(hp, secret);
	if (hp) {
		j = json_loads(hp->body, 0, NULL);
		CHECK_STR(jstr(j, "event"), "comment");
		CHECK_STR(jstr(j, "actor"), bob->id);
		CHECK_STR(jstr(j, "post.title"), "Post \"One\"");
		CHECK_STR(jstr(j, "post.url"), "https://blog.test/one/");
		CHECK_STR(jstr(j, "excerpt"), "Great & bold Bcc: x@evil.test");
		snprintf(id, sizeof(id), "%s/admin/comments", br.origin);
		CHECK_STR(jstr(j, "admin_url"), id);
		CHECK_STR(hp->event, "comment");
		json_decref(j);
	}
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM notify_events WHERE mail = 0"), 2);
	CHECK_INT(sink_count(&s), 1);

	/* Frank's Follow is news once: its replay, bob's reply replayed, a
	 * repeated follow by alice, a Follow signed with a key that is not
	 * dave's record nothing. */
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM notify_events"), 4);
	frank = peer_actor_checked(p, "frank");
	body = frank ? follow_json(&br, frank, id, sizeof(id)) : NULL;
	CHECK_INT(body ? post_as(&br, frank, PERSONAL, body, NULL) : 0, 202);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM notify_events"), 5);
	if (frank)
		check_signed(hook_wait_for(frank->id, WAIT_MS), secret);
	events = bridge_db_int(&br, "SELECT count(*) FROM notify_events");
	CHECK_INT(body ? post_as(&br, frank, PERSONAL, body, NULL) : 0, 202); /* replay */
	free(body);
	CHECK_INT(create ? post_as(&br, bob, SHARED, create, NULL) : 0, 202); /* replay */
	body = follow_json(&br, alice, id, sizeof(id));
	CHECK_INT(body ? post_as(&br, alice, PERSONAL, body, NULL) : 0, 202);
	free(body);
	{
		struct key *forger = NULL;
		struct err e = {0};
		char path[PATH_MAX];
		struct peer_sign_opts o = {0};
		snprintf(path, sizeof(path), "%s/forger.pem", keydir);
		if (key_load_or_create(path, &forger, NULL, &e) == BB_OK) {
			struct peer_actor *dave = peer_actor_checked(p, "dave");
			o.key = forger;
			o.key_id = dave ? dave->key_id : NULL;
			body = dave ? follow_json(&br, dave, id, sizeof(id)) : NULL;
			CHECK_INT(body ? post_as(&br, dave, PERSONAL, body, &o) : 0, 401);
			free(body);
		} else {
			check_fail(__FILE__, __LINE__, "forger key: %s", e.msg);
		}
		key_free(forger);
	}
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM notify_events"), events);
	CHECK_INT(events, 5);
	CHECK_INT(hook_count(), 5);
	free(create);

	/* A restart keeps the interval: what waits still waits (the mail's
	 * thread looks at once, well before gina's event reaches the hook). */
	CHECK(bridge_db_int(&br, "SELECT count(*) FROM meta WHERE key = 'notify_mail_last'") == 1);
	CHECK_INT(bridge_stop(&br, SIGTERM), 0);
	CHECK(bridge_start(&br));
	gina = peer_actor_checked(p, "gina");
	CHECK(gina && follow_accepted(&br, gina, WAIT_MS) >= 0);
	if (gina)
		check_signed(hook_wait_for(gina->id, WAIT_MS), secret);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM notify_events WHERE mail = 0"), 4);
	CHECK_INT(sink_count(&s), 1);
	CHECK(log_lacks(&br, "s3cr"));
	CHECK_INT(bridge_stop(&br, SIGTERM), 0);
	bridge_check_log_clean(&br);
out:
	if (check_failures)
		bridge_dump_log(&br);
	if (br.pid > 0)
		(void)bridge_stop(&br, SIGKILL);
	peer_stop(p);
	hook_stop();
	sink_free(&s);
	if (br.dir)
		bridge_remove(&br);
}

/* A mail server that accepts and never answers: followers' Accepts and
 * the webhook go on; the bridge stops at once. */
static void t_dead_smtp(void)
{
	struct bridge br = {0};
	struct sink s;
	struct peer *p = NULL;
	struct peer_actor *dan, *erin;
	const char *keydir = check_tmpdir();
	long long took, start;

	if (!sink_init(&s) || !sink_listen(&s, SINK_SILENT) || !hook_start() ||
	    !notify_setup(&br, "", s.port, hook.port) || !bridge_start(&br)) {
		CHECK(!"the set-up failed");
		goto out;
	}
	p = peer_start("127.0.0.3", NULL, keydir);
	dan = peer_actor_checked(p, "dan");
	erin = peer_actor_checked(p, "erin");
	if (!dan || !erin)
		goto out;
	CHECK(follow_accepted(&br, dan, WAIT_MS) >= 0);
	/* The mail thread is now held by the silent server... */
	start = peer_now_ms();
	while (sink_conns(&s) < 1 && peer_now_ms() - start < WAIT_MS)
		sleep_ms(BRIDGE_POLL_MS);
	CHECK_INT(sink_conns(&s), 1);
	/* ...and a follower's Accept and the webhook come as fast as ever. */
	took = follow_accepted(&br, erin, WAIT_MS);
	fprintf(stderr, "    an Accept with the mail server hung: %lld ms\n", took);
	CHECK(took >= 0 && took < 5000);
	CHECK(hook_wait_for(erin->id, 5000) != NULL);
	CHECK(hook_wait_for(dan->id, 1) != NULL);
	CHECK_INT(sink_count(&s), 0);
	CHECK_INT(bridge_db_int(&br, "SELECT count(*) FROM notify_events WHERE mail = 0"), 2);
	/* Stopping cuts the hung transfer short. */
	start = peer_now_ms();
	br.stop_wait_ms = 5000;
	CHECK_INT(bridge_stop(&br, SIGTERM), 0);
	CHECK(peer_now_ms() - start < 5000);
	bridge_check_log_clean(&br);
out:
	if (check_failures)
		bridge_dump_log(&br);
	if (br.pid > 0)
		(void)bridge_stop(&br, SIGKILL);
	peer_stop(p);
	hook_stop();
	sink_free(&s);
	if (br.dir)
		bridge_remove(&br);
}

static const struct check_case cases[] = {
    {"mail", t_mail},
    {"dead_smtp", t_dead_smtp},
};

int main(int argc, char **argv)
{
	binary = bridge_main_init(argc, argv, "test_notify");
	if (binary == NULL)
		return 2;
	return check_main(argc - 1, argv + 1, cases, sizeof(cases) / sizeof(cases[0]));
}
