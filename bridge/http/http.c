/*
 * http.c — libmicrohttpd glue: one callback turns each request into a
 * `struct http_request`, asks the routes for a response, and sends it.
 */
#include "http.h"
#include "buf.h"
#include "log.h"
#include "text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Limits on what clients may hold open: each connection has its own
 * thread (below), so this also bounds the threads. */
#define HTTP_CONNECTION_LIMIT 512
#define HTTP_CONNECTION_TIMEOUT_S 30
/* A thread per connection.  An inbox request holds its thread until the
 * writer has committed it (a 202 means stored), and the writer commits
 * everything queued at once; with a small thread pool, libmicrohttpd
 * handed most connections to one or two threads, so commits held one or
 * two activities (measured: 1.8 per batch with 32 pool threads, 20 with a
 * thread per connection, at 64 concurrent senders).  The threads are
 * mostly asleep; their stacks are kept small. */
#define HTTP_THREAD_STACK (512 * 1024)

/* All request bodies held at once, across connections: 512 connections
 * each sending a 1 MiB body must not take 512 MiB of a small box.  Past
 * this, a body is drained and the request answered 503 with Retry-After
 * (Mastodon retries those). */
#define HTTP_BODIES_MAX (64 * 1024 * 1024)
#define HTTP_BUSY_RETRY_S 30

struct http_server {
	_Atomic size_t body_bytes; /* held by requests in progress */
	struct MHD_Daemon *daemon;
	struct app *app;
	http_handler_fn handler;
};

const char *http_request_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_request_query(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

static void response_body_clear(struct http_response *res)
{
	if (res->body_owned)
		free(res->body);
	if (res->body_release)
		res->body_release(res->body);
	res->body = NULL;
	res->body_len = 0;
	res->body_owned = false;
	res->body_release = NULL;
}

void http_respond_borrowed(struct http_response *res, unsigned status, const char *type,
			   const char *body)
{
	response_body_clear(res);
	res->status = status;
	res->content_type = type;
	res->body = (char *)body;
	res->body_len = body ? strlen(body) : 0;
}

void http_respond_owned(struct http_response *res, unsigned status, const char *type,
			char *body)
{
	if (body == NULL) {
		http_respond_error(res, 500, "out of memory");
		return;
	}
	http_respond_borrowed(res, status, type, body);
	res->body_owned = true;
}

void http_respond_shared(struct http_response *res, unsigned status, const char *type,
			 const char *body, size_t len, void (*release)(void *body))
{
	response_body_clear(res);
	res->status = status;
	res->content_type = type;
	res->body = (char *)body;
	res->body_len = len;
	res->body_release = release;
}

void http_respond_error(struct http_response *res, unsigned status, const char *message)
{
	json_t *j = json_pack("{s:s}", "error", message);
	char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	response_body_clear(res);
	res->status = status;
	res->content_type = "application/json";
	if (body) {
		res->body = body;
		res->body_len = strlen(body);
		res->body_owned = true;
	}
}

void http_respond_redirect(struct http_response *res, const char *url)
{
	response_body_clear(res);
	free(res->location);
	res->location = strdup(url);
	if (res->location == NULL) {
		http_respond_error(res, 500, "out of memory");
		return;
	}
	res->status = 302;
	res->content_type = NULL;
}

unsigned http_status_for(enum bb_rc rc)
{
	switch (rc) {
	case BB_OK: return 200;
	case BB_ERR_INVALID:
	case BB_ERR_USAGE: return 400;
	case BB_ERR_AUTH: return 401;
	case BB_ERR_FORBIDDEN: return 403;
	case BB_ERR_NOTFOUND: return 404;
	case BB_ERR_LIMIT: return 413;
	case BB_ERR_BUSY:
	case BB_ERR_TEMPFAIL: return 503;
	default: return 500;
	}
}

const char *http_reason_for(enum bb_rc rc)
{
	switch (rc) {
	case BB_OK: return "ok";
	case BB_ERR_INVALID:
	case BB_ERR_USAGE: return "malformed request";
	case BB_ERR_AUTH: return "authentication failed";
	case BB_ERR_FORBIDDEN: return "forbidden";
	case BB_ERR_NOTFOUND: return "not found";
	case BB_ERR_LIMIT: return "request over a size limit";
	case BB_ERR_BUSY:
	case BB_ERR_TEMPFAIL: return "temporarily unavailable; retry later";
	default: return "internal error";
	}
}

void http_respond_rc(struct http_response *res, enum bb_rc rc, const char *detail)
{
	unsigned status = http_status_for(rc);
	const char *reason = http_reason_for(rc);
	char text[BB_ERR_MSG_MAX + 64];

	/* A 503 (busy, disk full) tells the peer when to come back. */
	if (status == 503 && res->retry_after == 0)
		res->retry_after = HTTP_BUSY_RETRY_S;
	if (detail == NULL || detail[0] == '\0' || status >= 500) {
		http_respond_error(res, status, reason);
		return;
	}
	snprintf(text, sizeof(text), "%s: %s", reason, detail);
	http_respond_error(res, status, text);
	/* A detail that is not UTF-8 (a peer's bytes quoted) cannot be JSON:
	 * the fixed text then goes alone. */
	if (res->body == NULL)
		http_respond_error(res, status, reason);
}

enum bb_rc http_response_header_add(struct http_response *res, const char *name, const char *value)
{
	char *v;

	if (res->extra_count >= HTTP_EXTRA_HEADERS_MAX)
		return BB_ERR_LIMIT;
	if ((v = strdup(value)) == NULL)
		return BB_ERR_NOMEM;
	res->extra_name[res->extra_count] = name;
	res->extra_value[res->extra_count++] = v;
	return BB_OK;
}

static enum http_method method_of(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return HTTP_GET;
	if (strcmp(m, "HEAD") == 0)
		return HTTP_HEAD;
	if (strcmp(m, "POST") == 0)
		return HTTP_POST;
	return HTTP_OTHER;
}

/* Sends res; returns MHD's verdict. */
static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *res)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	bool ok = true;

	if (res->body_release)
		r = MHD_create_response_from_buffer_with_free_callback_cls(
		    res->body_len, res->body, res->body_release, res->body);
	else
		r = MHD_create_response_from_buffer(res->body_len, res->body,
						    res->body_owned ? MHD_RESPMEM_MUST_FREE
								    : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		response_body_clear(res);
		return MHD_NO;
	}
	res->body_owned = false; /* MHD frees (or releases) it now */
	res->body_release = NULL;
	if (res->content_type)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type) ==
		      MHD_YES;
	if (res->location)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, res->location) == MHD_YES;
	if (res->vary_accept || res->vary_signature)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_VARY,
					      !res->vary_signature ? "Accept"
					      : res->vary_accept   ? "Accept, Signature"
								   : "Signature") == MHD_YES;
	if (res->cors)
		ok &= MHD_add_response_header(r, "Access-Control-Allow-Origin", "*") == MHD_YES;
	if (res->allow)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res->allow) == MHD_YES;
	if (res->etag[0])
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, res->etag) == MHD_YES;
	if (res->cache_control)
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
					      res->cache_control) == MHD_YES;
	if (res->retry_after) {
		char v[16];
		snprintf(v, sizeof(v), "%u", res->retry_after);
		ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v) == MHD_YES;
	}
	for (size_t i = 0; i < res->extra_count; i++)
		ok &= MHD_add_response_header(r, res->extra_name[i], res->extra_value[i]) == MHD_YES;
	ret = ok ? MHD_queue_response(conn, res->status, r) : MHD_NO;
	MHD_destroy_response(r);
	return ret;
}

/* What one request accumulates between libmicrohttpd's calls. */
struct request_ctx {
	struct buf body;
	size_t reserved; /* bytes counted in http_server.body_bytes */
	bool too_large;
	bool over_budget;
};

/* Keeps n more body bytes if the server-wide budget allows. */
static bool body_reserve(struct http_server *srv, struct request_ctx *ctx, size_t n)
{
	size_t before = atomic_fetch_add(&srv->body_bytes, n);

	if (before + n > HTTP_BODIES_MAX) {
		atomic_fetch_sub(&srv->body_bytes, n);
		return false;
	}
	ctx->reserved += n;
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct http_server *srv = cls;
	struct request_ctx *ctx = *con_cls;
	struct http_request req = {0};
	struct http_response res = {0};
	enum MHD_Result ret;
	int64_t clen;

	(void)version;
	req.method = method_of(method);
	/* MHD calls first with the headers alone; a response queued then
	 * would make it close the connection, so every request is answered
	 * once it is complete.  A body is kept up to HTTP_BODY_MAX bytes;
	 * past that it is drained and the request answered 413. */
	if (ctx == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		ctx = calloc(1, sizeof(*ctx));
		if (ctx == NULL)
			return MHD_NO;
		buf_init(&ctx->body, HTTP_BODY_MAX);
		/* MHD answers a malformed Content-Length itself, so one that
		 * does not parse here is all digits, past INT64_MAX. */
		if (cl && (!text_int64_parse(cl, 0, INT64_MAX, &clen) || clen > HTTP_BODY_MAX))
			ctx->too_large = true;
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;
		if (!ctx->too_large && !ctx->over_budget && (req.method & HTTP_POST)) {
			if (n > HTTP_BODY_MAX - ctx->body.len)
				ctx->too_large = true;
			else if (!body_reserve(srv, ctx, n))
				ctx->over_budget = true;
			else if (buf_append(&ctx->body, upload_data, n) != BB_OK)
				ctx->too_large = true;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	req.app = srv->app;
	req.conn = conn;
	req.path = url;
	req.body = ctx->body.data ? ctx->body.data : "";
	req.body_len = ctx->body.len;
	req.body_too_large = ctx->too_large;
	res.status = 500;
	if (ctx->over_budget && !ctx->too_large) {
		res.retry_after = HTTP_BUSY_RETRY_S;
		http_respond_error(&res, 503, "too many requests at once; retry later");
	} else {
		srv->handler(&req, &res);
	}
	log_debug("%s %s -> %u", method, url, res.status);
	ret = send_response(conn, &res);
	free(res.location);
	for (size_t i = 0; i < res.extra_count; i++)
		free(res.extra_value[i]);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct request_ctx *ctx = *con_cls;

	(void)conn;
	(void)toe;
	if (ctx == NULL)
		return;
	atomic_fetch_sub(&srv->body_bytes, ctx->reserved);
	buf_free(&ctx->body);
	free(ctx);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("http: %s", line);
}

/* "127.0.0.1:8080" or "[::1]:8080": the address as bound, whatever the
 * configuration spelled ("localhost"). */
static void listen_addr_format(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)) == NULL)
			snprintf(host, sizeof(host), "?");
		snprintf(buf, n, "[%s]:%u", host, (unsigned)ntohs(sin6->sin6_port));
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		if (inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)) == NULL)
			snprintf(host, sizeof(host), "?");
		snprintf(buf, n, "%s:%u", host, (unsigned)ntohs(sin->sin_port));
	}
}

/* What a failed bind(2) or listen(2) means for the one reading the log. */
static const char *listen_reason(int err)
{
	switch (err) {
	case EADDRINUSE: return "address already in use (another program listens on that port)";
	case EACCES:
		return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
	case EADDRNOTAVAIL: return "not an address of this machine";
	case EAFNOSUPPORT: return "address family not supported here";
	default: return strerror(err);
	}
}

/* Opens the listening socket of the configured address, bound and
 * listening, so that a failure is told with its address and errno;
 * libmicrohttpd's own bind reports "port 0" and no reason we could show.
 * The options are libmicrohttpd's own for a socket it opens:
 * SO_REUSEADDR, IPv6 only for an IPv6 address, non-blocking. */
static enum bb_rc listen_socket_open(const struct config *cfg, int *out, struct err *e)
{
	const struct sockaddr_storage *ss = &cfg->listen_addr;
	char where[INET6_ADDRSTRLEN + 16];
	int fd, on = 1, saved;

	*out = -1;
	listen_addr_format(ss, where, sizeof(where));
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(e, BB_ERR_IO, "cannot listen on %s: %s", where,
			       listen_reason(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
	    bind(fd, (const struct sockaddr *)ss, cfg->listen_addrlen) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		saved = errno;
		close(fd);
		return err_set(e, BB_ERR_IO, "cannot listen on %s: %s", where,
			       listen_reason(saved));
	}
	*out = fd;
	return BB_OK;
}

void http_listen_socket_release(int fd, int keep)
{
	struct stat a, b;

	/* Once closed, fd's number may already name another file (other
	 * threads open files); while keep is open, no other file has the
	 * socket's inode. */
	if (fstat(fd, &a) == 0 && fstat(keep, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		close(fd);
	close(keep);
}

enum bb_rc http_server_start(struct app *app, http_handler_fn handler, struct http_server **out,
			     struct err *e)
{
	struct http_server *srv;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	enum bb_rc rc;
	int fd, keep;

	*out = NULL;
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return err_set(e, BB_ERR_NOMEM, "out of memory");
	srv->app = app;
	srv->handler = handler;
	if (app->cfg->listen_addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if ((rc = listen_socket_open(app->cfg, &fd, e)) != BB_OK) {
		free(srv);
		return rc;
	}
	/* A second descriptor of the socket, to tell after a failed start
	 * whether libmicrohttpd closed it (http_listen_socket_release). */
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (keep < 0) {
		close(fd);
		free(srv);
		return err_set(e, BB_ERR_IO, "cannot listen on %s: %s", app->cfg->listen,
			       strerror(errno));
	}
	/* The logger must be the first option to catch every message.  From
	 * here libmicrohttpd owns the socket: it closes it when it stops. */
	srv->daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)HTTP_THREAD_STACK, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)HTTP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)HTTP_CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	if (srv->daemon == NULL) {
		http_listen_socket_release(fd, keep);
		free(srv);
		return err_set(e, BB_ERR_IO, "cannot listen on %s: the HTTP server did not start",
			       app->cfg->listen);
	}
	close(keep);
	*out = srv;
	return BB_OK;
}

void http_server_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
