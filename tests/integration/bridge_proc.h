/*
 * bridge_proc.h — the blogbridge binary under test, as a child process,
 * and its store, for integration tests that play remote servers.
 *
 * bridge_setup writes a bridge.conf in a fresh temporary folder whose
 * base_url is the bridge's own loopback listen address
 * (http://127.0.0.1:PORT, a free port) with allow_private_addresses = true;
 * bridge_start runs `blogbridge -c CONF serve` from "/" with its output
 * appended to a log, and waits (bounded) for the port.  The store is read
 * through the CLI (`blogbridge -c CONF WHAT --json`) and, where a test must
 * look deeper or stand in for the passing of time, the SQLite file itself.
 * Every wait is bounded; failures are reported through check.h.
 * A test that needs a config of its own (another base_url, other [site]
 * lines) calls bridge_prepare and bridge_write_conf instead of bridge_setup.
 */
#ifndef BB_TEST_BRIDGE_PROC_H
#define BB_TEST_BRIDGE_PROC_H

#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Bounds on waits, in milliseconds. */
#define BRIDGE_START_WAIT_MS 20000
#define BRIDGE_STOP_WAIT_MS 10000
#define BRIDGE_WAIT_MS 8000
#define BRIDGE_POLL_MS 20

struct bridge {
	const char *binary; /* absolute path */
	const char *dir;
	char conf[PATH_MAX];
	char log[PATH_MAX];
	char db[PATH_MAX];
	char origin[64];   /* http://127.0.0.1:PORT, also base_url (bridge_setup) */
	char actor_id[96]; /* bridge_setup's */
	char key_id[128];  /* bridge_setup's */
	int port;
	pid_t pid;	   /* 0 when not running */
	int start_wait_ms; /* 0: BRIDGE_START_WAIT_MS */
	int stop_wait_ms;  /* 0: BRIDGE_STOP_WAIT_MS */
};

/* One answer of the bridge. */
struct reply {
	long status; /* 0 when the transfer failed */
	char *body;  /* NUL-terminated */
	size_t len;
	char content_type[128];
	char allow[64];
	char retry_after[32];
	char etag[64];
	char cache_control[64];
	char cors[64]; /* Access-Control-Allow-Origin */
	char vary[64];
	char location[256];
};

void sleep_ms(long ms);

/* For a test's main, run as `PROG PATH/TO/blogbridge [CASE...]`: ignores
 * SIGPIPE and initialises curl; the binary's absolute path (the bridge runs
 * in "/"), or NULL (the usage or the error printed) when the test cannot
 * run.  The cases are argv + 2. */
const char *bridge_main_init(int argc, char **argv, const char *prog);

/* The end of a test's main, rc its cases' result: the log shown when a
 * case failed, b stopped; world_down (may be NULL) stops the rest; b's
 * folder and keydir (may be NULL) removed, curl's globals freed.  Returns
 * rc. */
int bridge_main_end(struct bridge *b, int rc, void (*world_down)(void), const char *keydir);

/* Whether something listens on 127.0.0.1:port. */
bool port_answers(int port);

/* Prepares b in a fresh folder for a free port: origin, log and db paths,
 * but no feed and no config (see bridge_write_conf). */
bool bridge_prepare(struct bridge *b, const char *binary);

/* Writes text as b's bridge.conf. */
void bridge_write_conf(struct bridge *b, const char *text);

/* Prepares b in a fresh folder; federation_extra is appended to the
 * [federation] section (lines ending in "\n", or ""). */
bool bridge_setup(struct bridge *b, const char *binary, const char *federation_extra);

/* Starts `serve` and waits for its port; false (reported) on failure. */
bool bridge_start(struct bridge *b);

/* Sends sig and waits (bounded) for the end, killing it after
 * stop_wait_ms.  The exit status, or -1 when it died of a signal
 * or had to be killed. */
int bridge_stop(struct bridge *b, int sig);

/* Stops b (SIGSTOP) at a moment it holds no write transaction on the
 * database, so that other processes can go on writing while it is
 * stopped; a process stopped inside one would lock them all out.  False
 * (reported) if no such moment came.  bridge_resume lets it go on. */
bool bridge_pause(const struct bridge *b);
bool bridge_resume(const struct bridge *b);

/* Prints the log to stderr. */
void bridge_dump_log(const struct bridge *b);

/* Checks the log for sanitizer reports (each one a failure). */
void bridge_check_log_clean(const struct bridge *b);

/* Removes b's folder (the bridge must be stopped). */
void bridge_remove(struct bridge *b);

/* One request to the bridge: path, extra headers (may be NULL), body
 * (NULL for a GET).  Fills r (free with reply_free); false when the
 * transfer failed (reported on stderr). */
bool bridge_http(const struct bridge *b, const char *method, const char *path,
		 struct curl_slist *hdrs, const char *body, size_t len, struct reply *r);
void reply_free(struct reply *r);

/* Runs `blogbridge -c CONF CMD [ARG1 [ARG2]]` (an argument NULL ends the
 * list) with no input and no terminal: its exit status (-1 when it could
 * not run), its stdout then its stderr in out (n bytes at most). */
int bridge_cli(const struct bridge *b, const char *cmd, const char *arg1, const char *arg2,
	       char *out, size_t n);

/* Runs `blogbridge -c CONF what --json`; its array (decref it), or NULL
 * (reported). */
json_t *bridge_cli_json(const struct bridge *b, const char *what);

/* The first column of the first row of a query on b's database
 * (sqlite3_mprintf format: %Q quotes a string), or -1 (reported when the
 * query fails; a NULL or no row is -1 too). */
long long bridge_db_int(const struct bridge *b, const char *fmt, ...);

/* Runs one statement; the rows it changed, or -1 (reported). */
long long bridge_db_exec(const struct bridge *b, const char *fmt, ...);

/* Waits (bounded) until a query with one %Q argument gives want. */
bool bridge_wait_db(const struct bridge *b, long long want, const char *fmt, const char *arg);

/* JSON: the member at a dotted path ("publicKey.id"), or NULL; its string
 * or integer value (NULL / -1 when absent or of another type); the element
 * of an array whose string member key is value. */
json_t *jget(json_t *j, const char *path);
const char *jstr(json_t *j, const char *path);
long long jint(json_t *j, const char *path);
json_t *find_by(json_t *arr, const char *key, const char *value);

#endif
