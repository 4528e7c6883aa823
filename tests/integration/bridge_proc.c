/*
 * bridge_proc.c — see bridge_proc.h.
 */
#include "bridge_proc.h"
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HTTP_TIMEOUT_S 15L
#define REPLY_MAX (1024 * 1024)
#define DB_BUSY_MS 5000
#define DB_PROBE_MS 500 /* longer than any write transaction of a running bridge */
#define PAUSE_TRIES 20

void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

const char *bridge_main_init(int argc, char **argv, const char *prog)
{
	static char path[PATH_MAX];

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH/TO/blogbridge [CASE...]\n", prog);
		return NULL;
	}
	if (realpath(argv[1], path) == NULL) {
		perror(argv[1]);
		return NULL;
	}
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	return path;
}

int bridge_main_end(struct bridge *b, int rc, void (*world_down)(void), const char *keydir)
{
	if (rc != 0)
		bridge_dump_log(b);
	if (b->pid > 0)
		bridge_stop(b, SIGTERM);
	if (world_down)
		world_down();
	bridge_remove(b);
	if (keydir)
		check_tmpdir_remove(keydir);
	curl_global_cleanup();
	return rc;
}

bool port_answers(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* ---- the process ---- */

bool bridge_prepare(struct bridge *b, const char *binary)
{
	memset(b, 0, sizeof(*b));
	b->binary = binary;
	b->dir = check_tmpdir();
	b->port = check_free_port("127.0.0.1");
	if (b->port <= 0)
		return false;
	snprintf(b->origin, sizeof(b->origin), "http://127.0.0.1:%d", b->port);
	snprintf(b->log, sizeof(b->log), "%s/server.log", b->dir);
	snprintf(b->db, sizeof(b->db), "%s/data/bridge.db", b->dir);
	return true;
}

void bridge_write_conf(struct bridge *b, const char *text)
{
	char *p = check_write_file(b->dir, "bridge.conf", text);

	snprintf(b->conf, sizeof(b->conf), "%s", p);
	free(p);
}

bool bridge_setup(struct bridge *b, const char *binary, const char *federation_extra)
{
	char text[2048];

	if (!bridge_prepare(b, binary))
		return false;
	snprintf(b->actor_id, sizeof(b->actor_id), "%s/ap/actor", b->origin);
	snprintf(b->key_id, sizeof(b->key_id), "%s#main-key", b->actor_id);
	free(check_write_file(b->dir, "feed.xml",
			      "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
			      "<title>Fed</title><link>https://blog.test/</link>"
			      "<description>d</description></channel></rss>\n"));
	snprintf(text, sizeof(text),
		 "# written by the integration tests\n"
		 "[site]\nbase_url = %s\nhandle = blog\nname = Federation Test\n"
		 "summary = A test blog\nfeed = feed.xml\n"
		 "\n[server]\nlisten = 127.0.0.1:%d\n"
		 "\n[store]\ndatabase = data/bridge.db\n"
		 "\n[federation]\nkey = data/actor.pem\nallow_private_addresses = true\n%s",
		 b->origin, b->port, federation_extra);
	bridge_write_conf(b, text);
	return true;
}

bool bridge_start(struct bridge *b)
{
	char *argv[] = {(char *)b->binary, "-c", b->conf, "serve", NULL};
	int wait_ms = b->start_wait_ms > 0 ? b->start_wait_ms : BRIDGE_START_WAIT_MS;
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(b->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
		    chdir("/") != 0)
			_exit(126);
		execv(b->binary, argv);
		_exit(127);
	}
	b->pid = pid;
	for (int waited = 0; waited < wait_ms; waited += BRIDGE_POLL_MS) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			b->pid = 0;
			fprintf(stderr, "    the bridge exited at start (status %d)\n",
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			return false;
		}
		if (port_answers(b->port))
			return true;
		sleep_ms(BRIDGE_POLL_MS);
	}
	fprintf(stderr, "    the bridge did not answer on port %d within %d ms\n", b->port,
		wait_ms);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	b->pid = 0;
	return false;
}

int bridge_stop(struct bridge *b, int sig)
{
	int wait_ms = b->stop_wait_ms > 0 ? b->stop_wait_ms : BRIDGE_STOP_WAIT_MS;
	int status;

	if (b->pid == 0)
		return -1;
	kill(b->pid, sig);
	for (int waited = 0; waited < wait_ms; waited += BRIDGE_POLL_MS) {
		if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
			b->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		sleep_ms(BRIDGE_POLL_MS);
	}
	fprintf(stderr, "    the bridge ignored signal %d for %d ms; killing it\n", sig, wait_ms);
	kill(b->pid, SIGKILL);
	waitpid(b->pid, NULL, 0);
	b->pid = 0;
	return -1;
}

void bridge_dump_log(const struct bridge *b)
{
	char line[1024];
	FILE *f;

	if (b->log[0] == '\0' || (f = fopen(b->log, "r")) == NULL)
		return;
	fprintf(stderr, "    --- %s ---\n", b->log);
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "    | %s", line);
	fclose(f);
}

void bridge_check_log_clean(const struct bridge *b)
{
	static const char *const marks[] = {"AddressSanitizer", "LeakSanitizer",
					    "UndefinedBehaviorSanitizer", "ThreadSanitizer",
					    "runtime error:"};
	char line[1024];
	FILE *f = fopen(b->log, "r");

	if (f == NULL) {
		check_fail(__FILE__, __LINE__, "cannot read %s", b->log);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
			if (strstr(line, marks[i]) != NULL) {
				check_fail(__FILE__, __LINE__, "sanitizer: %s", line);
				break;
			}
	fclose(f);
}

void bridge_remove(struct bridge *b)
{
	if (b->dir)
		check_tmpdir_remove(b->dir);
	b->dir = NULL;
}

/* ---- HTTP ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct reply *r = arg;
	size_t n = size * nmemb;
	char *p;

	if (r->len + n > REPLY_MAX || (p = realloc(r->body, r->len + n + 1)) == NULL)
		return 0;
	memcpy(p + r->len, data, n);
	r->len += n;
	p[r->len] = '\0';
	r->body = p;
	return n;
}

/* Keeps the value of header name from line (n bytes) in out. */
static void keep_header(const char *line, size_t n, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	line += nl + 1;
	n -= nl + 1;
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	snprintf(out, outlen, "%.*s", (int)n, line);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct reply *r = arg;
	size_t n = size * nmemb;

	keep_header(data, n, "Content-Type", r->content_type, sizeof(r->content_type));
	keep_header(data, n, "Allow", r->allow, sizeof(r->allow));
	keep_header(data, n, "Retry-After", r->retry_after, sizeof(r->retry_after));
	keep_header(data, n, "ETag", r->etag, sizeof(r->etag));
	keep_header(data, n, "Cache-Control", r->cache_control, sizeof(r->cache_control));
	keep_header(data, n, "Access-Control-Allow-Origin", r->cors, sizeof(r->cors));
	keep_header(data, n, "Vary", r->vary, sizeof(r->vary));
	keep_header(data, n, "Location", r->location, sizeof(r->location));
	return n;
}

void reply_free(struct reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

bool bridge_http(const struct bridge *b, const char *method, const char *path,
		 struct curl_slist *hdrs, const char *body, size_t len, struct reply *r)
{
	CURL *h = curl_easy_init();
	char url[256];
	CURLcode rc = CURLE_FAILED_INIT;

	memset(r, 0, sizeof(*r));
	r->body = calloc(1, 1);
	if (h == NULL || r->body == NULL)
		goto out;
	snprintf(url, sizeof(url), "%s%s", b->origin, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (strcmp(method, "POST") != 0 && strcmp(method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	else
		fprintf(stderr, "    %s %s: %s\n", method, url, curl_easy_strerror(rc));
out:
	if (h)
		curl_easy_cleanup(h);
	return rc == CURLE_OK;
}

/* ---- the store ---- */

int bridge_cli(const struct bridge *b, const char *cmd, const char *arg1, const char *arg2,
	       char *out, size_t n)
{
	char *argv[] = {
	    (char *)b->binary,		"-c", (char *)b->conf, (char *)cmd, (char *)arg1,
	    arg1 ? (char *)arg2 : NULL, NULL};
	char *so = NULL, *se = NULL;
	int status = check_run(argv, NULL, &so, &se);

	snprintf(out, n, "%s%s", so ? so : "", se ? se : "");
	free(so);
	free(se);
	return status;
}

json_t *bridge_cli_json(const struct bridge *b, const char *what)
{
	char *argv[] = {(char *)b->binary, "-c", (char *)b->conf, (char *)what, "--json", NULL};
	char *out = NULL, *err = NULL;
	json_t *j = NULL;
	int status = check_run(argv, NULL, &out, &err);

	if (status != 0)
		check_fail(__FILE__, __LINE__, "%s --json: status %d: %s", what, status,
			   err ? err : "");
	else if ((j = json_loads(out, 0, NULL)) == NULL || !json_is_array(j))
		check_fail(__FILE__, __LINE__, "%s --json: not a JSON array: %.200s", what, out);
	free(out);
	free(err);
	if (!json_is_array(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static sqlite3 *db_open(const struct bridge *b)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(b->db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, DB_BUSY_MS) != SQLITE_OK) {
		check_fail(__FILE__, __LINE__, "%s: %s", b->db,
			   db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* Whether a write transaction can begin on b's database within
 * DB_PROBE_MS: a process that is running ends its own at once. */
static bool db_writable(const struct bridge *b)
{
	sqlite3 *db = NULL;
	bool ok;

	ok = sqlite3_open_v2(b->db, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	     sqlite3_busy_timeout(db, DB_PROBE_MS) == SQLITE_OK &&
	     sqlite3_exec(db, "BEGIN IMMEDIATE; ROLLBACK", NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	return ok;
}

/* Whether the kernel has stopped pid ('T' in /proc/PID/stat). */
static bool proc_stopped(pid_t pid)
{
	char path[64], line[512], *paren;
	bool stopped = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	if (fgets(line, sizeof(line), f) != NULL && (paren = strrchr(line, ')')) != NULL)
		stopped = paren[1] == ' ' && (paren[2] == 'T' || paren[2] == 't');
	fclose(f);
	return stopped;
}

bool bridge_pause(const struct bridge *b)
{
	for (int tries = 0; tries < PAUSE_TRIES; tries++) {
		if (kill(b->pid, SIGSTOP) != 0)
			break;
		for (int waited = 0; !proc_stopped(b->pid) && waited < BRIDGE_WAIT_MS; waited++)
			sleep_ms(1);
		if (proc_stopped(b->pid) && db_writable(b))
			return true;
		/* Stopped inside a transaction: let it end it, then again. */
		kill(b->pid, SIGCONT);
		sleep_ms(tries + 1);
	}
	check_fail(__FILE__, __LINE__, "could not stop pid %d outside a write transaction",
		   (int)b->pid);
	return false;
}

bool bridge_resume(const struct bridge *b)
{
	return kill(b->pid, SIGCONT) == 0;
}

long long bridge_db_int(const struct bridge *b, const char *fmt, ...)
{
	sqlite3_stmt *stmt = NULL;
	long long v = -1;
	sqlite3 *db;
	va_list ap;
	char *sql;
	int rc;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	db = sql ? db_open(b) : NULL;
	if (db == NULL)
		goto out;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		check_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
		goto out;
	}
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(stmt, 0);
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		check_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
out:
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	sqlite3_free(sql);
	return v;
}

long long bridge_db_exec(const struct bridge *b, const char *fmt, ...)
{
	long long changed = -1;
	char *errmsg = NULL;
	sqlite3 *db;
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	db = sql ? db_open(b) : NULL;
	if (db != NULL && sqlite3_exec(db, sql, NULL, NULL, &errmsg) == SQLITE_OK)
		changed = sqlite3_changes(db);
	else if (db != NULL)
		check_fail(__FILE__, __LINE__, "%s: %s", sql, errmsg ? errmsg : sqlite3_errmsg(db));
	sqlite3_free(errmsg);
	sqlite3_close(db);
	sqlite3_free(sql);
	return changed;
}

bool bridge_wait_db(const struct bridge *b, long long want, const char *fmt, const char *arg)
{
	long long v = -1;

	for (int waited = 0; waited <= BRIDGE_WAIT_MS; waited += BRIDGE_POLL_MS) {
		v = bridge_db_int(b, fmt, arg);
		if (v == want)
			return true;
		sleep_ms(BRIDGE_POLL_MS);
	}
	check_fail(__FILE__, __LINE__, "[%s] (%s) is %lld, not %lld after %d ms", fmt, arg, v, want,
		   BRIDGE_WAIT_MS);
	return false;
}

/* ---- JSON ---- */

json_t *jget(json_t *j, const char *path)
{
	char part[128];

	while (j != NULL && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		j = json_is_object(j) ? json_object_get(j, part) : NULL;
		path += n;
		if (*path == '.')
			path++;
	}
	return j;
}

const char *jstr(json_t *j, const char *path)
{
	return json_string_value(jget(j, path));
}

long long jint(json_t *j, const char *path)
{
	json_t *v = jget(j, path);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

json_t *find_by(json_t *arr, const char *key, const char *value)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (jstr(v, key) && strcmp(jstr(v, key), value) == 0)
			return v;
	}
	return NULL;
}
