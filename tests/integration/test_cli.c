/*
 * test_cli.c — the blogbridge command line, run as a user runs it.
 * Invoked as `test_cli PATH/TO/blogbridge PATH/TO/bridge.conf [CASE...]`
 * (the second argument is the demo configuration as shipped).  Each run
 * happens in a fresh temporary folder, with its stdout, stderr and exit
 * status captured; a run that lasts longer than RUN_WAIT_MS (a `serve` that
 * should have refused to start) is killed and counts as a failure.  Exit
 * statuses: 0 done, 1 failed at run time, 2 bad usage or configuration.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#define RUN_WAIT_MS 10000
#define OUTPUT_MAX (64 * 1024)
#define ARGS_MAX 16
/* run() returns this when it had to kill the program. */
#define RUN_TIMED_OUT (-2)

static const char *binary;
static const char *shipped_conf;

/* One finished run. */
struct run {
	int status; /* exit status; -1 killed by a signal; RUN_TIMED_OUT */
	char *out;
	char *err;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends what fd has to *buf (bounded); false at end of file. */
static bool drain(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	if (*len + (size_t)n < OUTPUT_MAX) {
		char *p = realloc(*buf, *len + (size_t)n + 1);
		if (p == NULL)
			abort();
		memcpy(p + *len, chunk, (size_t)n);
		*len += (size_t)n;
		p[*len] = '\0';
		*buf = p;
	}
	return true;
}

/*
 * Runs blogbridge with the NULL-terminated arguments in the folder cwd, for
 * at most RUN_WAIT_MS, capturing its output.  Free with run_free.
 */
static struct run run_in(const char *cwd, ...)
{
	char *argv[ARGS_MAX + 2] = {(char *)binary};
	struct run r = {.status = -1, .out = calloc(1, 1), .err = calloc(1, 1)};
	size_t ol = 0, el = 0, argc = 1;
	int o[2], e[2], status = 0;
	bool oopen = true, eopen = true, done = false;
	long deadline = now_ms() + RUN_WAIT_MS;
	va_list ap;
	pid_t pid;

	va_start(ap, cwd);
	for (char *a; argc <= ARGS_MAX && (a = va_arg(ap, char *)) != NULL;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	if (r.out == NULL || r.err == NULL || pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC))
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		if (in < 0 || dup2(in, 0) < 0 || dup2(o[1], 1) < 0 || dup2(e[1], 2) < 0 ||
		    chdir(cwd) != 0)
			_exit(126);
		execv(binary, argv);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	while (oopen || eopen) {
		struct pollfd p[2] = {{oopen ? o[0] : -1, POLLIN, 0},
				      {eopen ? e[0] : -1, POLLIN, 0}};
		long left = deadline - now_ms();
		if (left <= 0)
			break;
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			break;
		if (oopen && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			oopen = drain(o[0], &r.out, &ol);
		if (eopen && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			eopen = drain(e[0], &r.err, &el);
	}
	close(o[0]);
	close(e[0]);
	/* The pipes are closed; the program may still be running. */
	while (!done && now_ms() < deadline) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			done = true;
		} else {
			struct timespec ts = {0, 20 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fprintf(stderr, "    %s %s: still running after %d ms, killed\n", binary,
			argc > 1 ? argv[argc - 1] : "", RUN_WAIT_MS);
		r.status = RUN_TIMED_OUT;
	} else {
		r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* Prints a run's output when the case has failed, for diagnosis. */
static void run_report(const struct run *r, int failures_before)
{
	if (check_failures == failures_before)
		return;
	fprintf(stderr, "    exit %d\n    stdout: %.2000s\n    stderr: %.2000s\n", r->status,
		r->out, r->err);
}

/* The number of lines of s (a last line without a newline counts). */
static size_t line_count(const char *s)
{
	size_t n = 0;

	for (const char *p = s; *p; p++)
		if (*p == '\n' || p[1] == '\0')
			n++;
	return n;
}

static bool starts_with(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A fresh folder with a feed file in it. */
static const char *folder(void)
{
	const char *dir = check_tmpdir();

	free(check_write_file(dir, "feed.xml",
			      "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
			      "<title>t</title><link>https://blog.test/</link>"
			      "<description>d</description></channel></rss>\n"));
	return dir;
}

/* A valid configuration in dir listening on 127.0.0.1:port (caller frees
 * the path). */
static char *write_conf(const char *dir, int port)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "[site]\n"
		 "base_url = https://blog.test\n"
		 "handle = blog\n"
		 "summary = s\n"
		 "feed = feed.xml\n"
		 "\n"
		 "[server]\n"
		 "listen = 127.0.0.1:%d\n",
		 port);
	return check_write_file(dir, "bridge.conf", text);
}

/* A socket listening on a loopback port (returned in *port); -1 on failure. */
static int hold_port(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* The whole content of a file (caller frees), or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, OUTPUT_MAX + 1);
	size_t n;

	if (f == NULL || buf == NULL) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, OUTPUT_MAX, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* ---- commands and options ---- */

static void t_version(void)
{
	const char *dir = folder();
	struct run r = run_in(dir, "version", NULL);
	int before = check_failures;
	int dots = 0;

	CHECK_INT(r.status, 0);
	CHECK(starts_with(r.out, "blogbridge "));
	CHECK_STR(r.err, "");
	CHECK_INT(line_count(r.out), 1);
	/* X.Y.Z */
	if (starts_with(r.out, "blogbridge ")) {
		const char *v = r.out + strlen("blogbridge ");
		CHECK(*v >= '0' && *v <= '9');
		for (; *v && *v != '\n'; v++) {
			if (*v == '.')
				dots++;
			else
				CHECK(*v >= '0' && *v <= '9');
		}
		CHECK_INT(dots, 2);
		CHECK_STR(v, "\n");
	}
	run_report(&r, before);
	run_free(&r);
	check_tmpdir_remove(dir);
}

static void t_no_command(void)
{
	const char *dir = folder();
	struct run r = run_in(dir, NULL);
	int before = check_failures;

	CHECK_INT(r.status, 2);
	CHECK_STR(r.out, "");
	CHECK(starts_with(r.err, "blogbridge: no command given\n"));
	CHECK(check_contains(r.err, "usage: blogbridge [-c FILE] [-v] COMMAND"));
	CHECK(check_contains(r.err, "  serve "));
	CHECK(check_contains(r.err, "  check "));
	CHECK(check_contains(r.err, "  version "));
	run_report(&r, before);
	run_free(&r);

	/* Options alone are no command either. */
	r = run_in(dir, "-v", NULL);
	CHECK_INT(r.status, 2);
	CHECK(starts_with(r.err, "blogbridge: no command given\n"));
	run_free(&r);
	check_tmpdir_remove(dir);
}

static void t_unknown_command(void)
{
	const char *dir = folder();
	struct run r = run_in(dir, "frobnicate", NULL);
	int before = check_failures;

	CHECK_INT(r.status, 2);
	CHECK_STR(r.out, "");
	CHECK(starts_with(r.err, "blogbridge: unknown command 'frobnicate'\n"));
	CHECK(check_contains(r.err, "usage: blogbridge"));
	run_report(&r, before);
	run_free(&r);

	/* Commands are matched exactly. */
	r = run_in(dir, "Version", NULL);
	CHECK_INT(r.status, 2);
	CHECK(starts_with(r.err, "blogbridge: unknown command 'Version'\n"));
	run_free(&r);
	check_tmpdir_remove(dir);
}

static void t_unknown_option(void)
{
	const char *dir = folder();
	struct run r = run_in(dir, "--bogus", "version", NULL);
	int before = check_failures;

	CHECK_INT(r.status, 2);
	CHECK_STR(r.out, "");
	CHECK(starts_with(r.err, "blogbridge: unknown option '--bogus'\n"));
	CHECK(check_contains(r.err, "usage: blogbridge"));
	run_report(&r, before);
	run_free(&r);

	r = run_in(dir, "-x", "check", NULL);
	CHECK_INT(r.status, 2);
	CHECK(starts_with(r.err, "blogbridge: unknown option '-x'\n"));
	run_free(&r);
	check_tmpdir_remove(dir);
}

static void t_c_without_file(void)
{
	const char *dir = folder();
	struct run r = run_in(dir, "-c", NULL);
	int before = check_failures;

	CHECK_INT(r.status, 2);
	CHECK_STR(r.out, "");
	CHECK(starts_with(r.err, "blogbridge: -c needs a file name"));
	run_report(&r, before);
	run_free(&r);
	check_tmpdir_remove(dir);
}

static void t_help(void)
{
	static const char *const forms[] = {"--help", "-h"};
	const char *dir = folder();

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct run r = run_in(dir, forms[i], NULL);
		int before = check_failures;
		CHECK_INT(r.status, 0);
		CHECK(starts_with(r.out, "usage: blogbridge [-c FILE] [-v] COMMAND"));
		CHECK(check_contains(r.out, "  serve "));
		CHECK_STR(r.err, "");
		run_report(&r, before);
		run_free(&r);
	}
	check_tmpdir_remove(dir);
}

/* `COMMAND --help` answers without reading the configuration (which does
 * not exist here). */
static void t_command_help(void)
{
	static const struct {
		const char *command, *help, *usage;
	} forms[] = {
	    {"check", "--help", "usage: blogbridge [-c FILE] check"},
	    {"serve", "--help", "usage: blogbridge [-c FILE] serve"},
	    {"serve", "-h", "usage: blogbridge [-c FILE] serve"},
	    {"version", "--help", "usage: blogbridge [-c FILE] version"},
	};
	const char *dir = folder();

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct run r = run_in(dir, "-c", "/nonexistent/bridge.conf", forms[i].command,
				      forms[i].help, NULL);
		int before = check_failures;
		CHECK_INT(r.status, 0);
		CHECK(starts_with(r.out, forms[i].usage));
		CHECK_STR(r.err, "");
		run_report(&r, before);
		run_free(&r);
	}
	check_tmpdir_remove(dir);
}

static void t_extra_argument(void)
{
	static const char *const commands[] = {"version", "check", "serve"};
	const char *dir = folder();
	char *conf = write_conf(dir, 8080);

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char want[128];
		struct run r = run_in(dir, "-c", conf, commands[i], "extra", NULL);
		int before = check_failures;
		snprintf(want, sizeof(want), "blogbridge: %s takes no arguments\n", commands[i]);
		CHECK_INT(r.status, 2);
		CHECK_STR(r.out, "");
		CHECK_STR(r.err, want);
		run_report(&r, before);
		run_free(&r);
	}
	free(conf);
	check_tmpdir_remove(dir);
}

/* ---- check ---- */

static void t_check_shipped(void)
{
	const char *dir = folder();
	struct run r = run_in(dir, "-c", shipped_conf, "check", NULL);
	int before = check_failures;

	CHECK_INT(r.status, 0);
	CHECK_STR(r.out, "configuration OK\n");
	CHECK_STR(r.err, "");
	run_report(&r, before);
	run_free(&r);
	check_tmpdir_remove(dir);
}

/* Without -c, ./bridge.conf is read. */
static void t_check_default_path(void)
{
	const char *dir = folder();
	struct run r = run_in(dir, "check", NULL);
	int before = check_failures;
	char *conf;

	CHECK_INT(r.status, 2);
	CHECK_STR(r.out, "");
	CHECK(starts_with(r.err, "blogbridge: bridge.conf: cannot open"));
	run_report(&r, before);
	run_free(&r);

	conf = write_conf(dir, 8080);
	r = run_in(dir, "check", NULL);
	before = check_failures;
	CHECK_INT(r.status, 0);
	CHECK_STR(r.out, "configuration OK\n");
	run_report(&r, before);
	run_free(&r);
	free(conf);
	check_tmpdir_remove(dir);
}

static void t_check_typo_key(void)
{
	const char *dir = folder();
	char *conf = check_write_file(dir, "typo.conf",
				      "[site]\n"
				      "base_url = https://blog.test\n"
				      "handle = blog\n"
				      "summary = s\n"
				      "feed = feed.xml\n"
				      "[server]\n"
				      "listn = 127.0.0.1:8080\n");
	struct run r = run_in(dir, "-c", conf, "check", NULL);
	int before = check_failures;
	char want[PATH_MAX + 64];

	snprintf(want, sizeof(want), "blogbridge: %s:7: unknown key 'listn' in [server]\n", conf);
	CHECK_INT(r.status, 2);
	CHECK_STR(r.out, "");
	CHECK_STR(r.err, want);
	run_report(&r, before);
	run_free(&r);
	free(conf);
	check_tmpdir_remove(dir);
}

static void t_check_missing_file(void)
{
	const char *dir = folder();
	char conf[PATH_MAX];
	struct run r;
	int before = check_failures;

	snprintf(conf, sizeof(conf), "%s/absent.conf", dir);
	r = run_in(dir, "-c", conf, "check", NULL);
	CHECK_INT(r.status, 2);
	CHECK_STR(r.out, "");
	CHECK(starts_with(r.err, "blogbridge: "));
	CHECK(check_contains(r.err, conf));
	CHECK(check_contains(r.err, "No such file"));
	CHECK_INT(line_count(r.err), 1);
	run_report(&r, before);
	run_free(&r);

	/* serve reports it the same way, and starts nothing. */
	r = run_in(dir, "-c", conf, "serve", NULL);
	CHECK_INT(r.status, 2);
	CHECK(check_contains(r.err, conf));
	run_free(&r);
	check_tmpdir_remove(dir);
}

static void t_check_several_errors(void)
{
	const char *dir = folder();
	char *conf = check_write_file(dir, "bad.conf",
				      "[site]\n"		       /* 1 */
				      "base_url = https://blog.test\n" /* 2 */
				      "handle = -blog-\n"	       /* 3 */
				      "summary = s\n"		       /* 4 */
				      "feed = feed.xml\n"	       /* 5 */
				      "poll_interval = 5\n"	       /* 6 */
				      "[server]\n"		       /* 7 */
				      "listn = 127.0.0.1:8080\n"       /* 8 */
				      "[nowhere]\n"		       /* 9 */
				      "x = 1\n");		       /* 10 */
	static const char *const lines[] = {":3: handle '-blog-'", ":6: poll_interval '5'",
					    ":8: unknown key 'listn' in [server]",
					    ":9: unknown section '[nowhere]'"};
	struct run r = run_in(dir, "-c", conf, "check", NULL);
	int before = check_failures;
	const char *p = r.err;

	CHECK_INT(r.status, 2);
	CHECK_STR(r.out, "");
	CHECK_INT(line_count(r.err), sizeof(lines) / sizeof(lines[0]));
	/* One line each, in file order, each "blogbridge: FILE:LINE: ...". */
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && p && *p; i++) {
		char want[PATH_MAX + 64];
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = strndup(p, len);
		snprintf(want, sizeof(want), "blogbridge: %s%s", conf, lines[i]);
		if (!starts_with(line, want))
			check_fail(__FILE__, __LINE__,
				   "line %zu: \"%s\" does not start with \"%s\"", i + 1, line,
				   want);
		free(line);
		p = eol ? eol + 1 : NULL;
	}
	run_report(&r, before);
	run_free(&r);
	free(conf);
	check_tmpdir_remove(dir);
}


/* check looks at the files too: a missing feed file, a key others may
 * read, each on its key's line; and names the key of a bad URL. */
static void t_check_files(void)
{
	const char *dir = folder();
	char *conf = check_write_file(dir, "files.conf",
				      "[site]\n"			/* 1 */
				      "base_url = https://blog.test\n"	/* 2 */
				      "handle = blog\n"			/* 3 */
				      "feed = gone.xml\n"		/* 4 */
				      "[federation]\n"			/* 5 */
				      "key = open.pem\n");		/* 6 */
	char *key = check_write_file(dir, "open.pem", "x");
	char want[2 * PATH_MAX + 256];
	struct run r;
	int before = check_failures;

	CHECK(chmod(key, 0644) == 0);
	r = run_in(dir, "-c", conf, "check", NULL);
	snprintf(want, sizeof(want),
		 "blogbridge: %s:4: feed '%s/gone.xml': No such file or directory\n"
		 "blogbridge: %s:6: key %s: mode 0644 lets others read it; run chmod 600 on it\n",
		 conf, dir, conf, key);
	CHECK_INT(r.status, 2);
	CHECK_STR(r.out, "");
	CHECK_STR(r.err, want);
	run_report(&r, before);
	run_free(&r);
	free(conf);

	conf = check_write_file(dir, "url.conf",
				"[site]\nbase_url = htps://blog.test\nhandle = blog\nfeed = feed.xml\n");
	r = run_in(dir, "-c", conf, "check", NULL);
	before = check_failures;
	snprintf(want, sizeof(want),
		 "blogbridge: %s:2: base_url 'htps://blog.test' must be an http or https URL\n",
		 conf);
	CHECK_INT(r.status, 2);
	CHECK_STR(r.err, want);
	run_report(&r, before);
	run_free(&r);
	free(conf);
	free(key);
	check_tmpdir_remove(dir);
}

/* doctor's files: the database and the key belong to the owner of the
 * database's folder (the service user), the key mode 0600.  base_url is a
 * closed loopback port: the checks through it fail at once. */
static void t_doctor_files(void)
{
	const char *dir = folder();
	char *conf = check_write_file(dir, "bridge.conf",
				      "[site]\nbase_url = https://127.0.0.1:1\nhandle = blog\n"
				      "feed = feed.xml\n[store]\ndatabase = data/bridge.db\n"
				      "[federation]\nkey = data/actor.pem\n");
	char key[PATH_MAX], want[2 * PATH_MAX + 256];
	struct run r;
	int before = check_failures;

	snprintf(key, sizeof(key), "%s/data/actor.pem", dir);
	r = run_in(dir, "-c", conf, "doctor", NULL);
	CHECK_INT(r.status, 1); /* base_url answers nothing */
	snprintf(want, sizeof(want), "(the owner of '%s/data'), key mode 0600\n", dir);
	CHECK(check_contains(r.out, want));
	CHECK(!check_contains(r.out, "FAIL files"));
	run_report(&r, before);
	run_free(&r);

	/* Made by another user (root running a command, say). */
	if (geteuid() == 0) {
		before = check_failures;
		CHECK(chown(key, 4242, (gid_t)-1) == 0);
		r = run_in(dir, "-c", conf, "doctor", NULL);
		CHECK_INT(r.status, 1);
		snprintf(want, sizeof(want),
			 "FAIL files      '%s' belongs to 4242, not to root, the service user "
			 "(the owner of '%s/data'): serve, run as that user, cannot use it; "
			 "chown root:root '%s'\n",
			 key, dir, key);
		CHECK(check_contains(r.out, want));
		run_report(&r, before);
		run_free(&r);
		CHECK(chown(key, 0, (gid_t)-1) == 0);
	} else {
		printf("    (not root: the key cannot be given to another user here)\n");
	}

	/* Owner-only but read-only: still not 0600. */
	before = check_failures;
	CHECK(chmod(key, 0400) == 0);
	r = run_in(dir, "-c", conf, "doctor", NULL);
	snprintf(want, sizeof(want), "FAIL files      key '%s' has mode 0400, not 0600: chmod 600 '%s'\n",
		 key, key);
	CHECK(check_contains(r.out, want));
	run_report(&r, before);
	run_free(&r);
	free(conf);
	check_tmpdir_remove(dir);
}

/* ---- serve refusing to start ---- */

/* Runs serve on a port that is taken: it must fail with status 1 and a
 * clear message (and, having got that far, leave a new key behind). */
static void t_serve_port_in_use(void)
{
	const char *dir = folder();
	char key[PATH_MAX], want[64];
	int port = 0, fd = hold_port(&port);
	char *conf = write_conf(dir, port);
	struct stat sb;
	struct run r;
	int before = check_failures;

	CHECK(fd >= 0);
	r = run_in(dir, "-c", conf, "serve", NULL);
	snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%d", port);
	CHECK_INT(r.status, 1);
	CHECK_STR(r.out, "");
	CHECK(check_contains(r.err, want));
	CHECK(check_contains(r.err, "blogbridge: "));
	run_report(&r, before);
	run_free(&r);
	snprintf(key, sizeof(key), "%s/data/actor.pem", dir);
	CHECK(stat(key, &sb) == 0);
	CHECK_INT(sb.st_mode & 07777, 0600);
	if (fd >= 0)
		close(fd);
	free(conf);
	check_tmpdir_remove(dir);
}


/* serve names the address and port it could not listen on, and the real
 * reason: in use, not an address here, permission denied. */
static void t_serve_bind_reason(void)
{
	const char *dir = folder();
	int port = 0, fd = hold_port(&port);
	char *conf = write_conf(dir, port);
	char want[128], text[512];
	struct run r;
	int before = check_failures;

	CHECK(fd >= 0);
	r = run_in(dir, "-c", conf, "serve", NULL);
	snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%d: address already in use", port);
	CHECK_INT(r.status, 1);
	CHECK(check_contains(r.err, want));
	CHECK(!check_contains(r.err, "port 0"));
	run_report(&r, before);
	run_free(&r);
	if (fd >= 0)
		close(fd);
	free(conf);

	/* 192.0.2.1 (TEST-NET-1, RFC 5737) is no address of this machine. */
	snprintf(text, sizeof(text),
		 "[site]\nbase_url = https://blog.test\nhandle = blog\nfeed = feed.xml\n"
		 "[server]\nlisten = 192.0.2.1:%d\n",
		 port);
	conf = check_write_file(dir, "bridge.conf", text);
	r = run_in(dir, "-c", conf, "serve", NULL);
	before = check_failures;
	snprintf(want, sizeof(want), "cannot listen on 192.0.2.1:%d: not an address of this machine",
		 port);
	CHECK_INT(r.status, 1);
	CHECK(check_contains(r.err, want));
	run_report(&r, before);
	run_free(&r);
	free(conf);

	/* Port 80 as a user without the right to it. */
	if (geteuid() != 0) {
		conf = write_conf(dir, 80);
		r = run_in(dir, "-c", conf, "serve", NULL);
		before = check_failures;
		CHECK_INT(r.status, 1);
		CHECK(check_contains(r.err, "cannot listen on 127.0.0.1:80: permission denied"));
		run_report(&r, before);
		run_free(&r);
		free(conf);
	}
	check_tmpdir_remove(dir);
}

/* A key file others may read is refused, and left as it is. */
static void t_serve_unsafe_key(void)
{
	static const mode_t modes[] = {0644, 0640, 0604};
	const char *dir = folder();
	char key[PATH_MAX];
	int port = 0, fd = hold_port(&port);
	char *conf = write_conf(dir, port);
	char *before_text, *after_text;
	struct stat sb;
	struct run r;

	/* A real key first: serve makes one, then fails on the held port. */
	CHECK(fd >= 0);
	r = run_in(dir, "-c", conf, "serve", NULL);
	CHECK_INT(r.status, 1);
	run_free(&r);
	if (fd >= 0)
		close(fd);
	snprintf(key, sizeof(key), "%s/data/actor.pem", dir);
	before_text = slurp(key);
	CHECK(check_contains(before_text, "-----BEGIN PRIVATE KEY-----"));
	for (size_t i = 0; before_text && i < sizeof(modes) / sizeof(modes[0]); i++) {
		char mode[16];
		int before = check_failures;
		CHECK(chmod(key, modes[i]) == 0);
		/* The port is free now: only the key may stop it. */
		r = run_in(dir, "-c", conf, "serve", NULL);
		CHECK_INT(r.status, 1);
		CHECK_STR(r.out, "");
		CHECK(starts_with(r.err, "blogbridge: "));
		CHECK(check_contains(r.err, key));
		CHECK(check_contains(r.err, "chmod"));
		snprintf(mode, sizeof(mode), "%04o", (unsigned)modes[i]);
		CHECK(check_contains(r.err, mode));
		run_report(&r, before);
		run_free(&r);
		CHECK(stat(key, &sb) == 0);
		CHECK_INT(sb.st_mode & 07777, modes[i]);
		after_text = slurp(key);
		CHECK_STR(after_text, before_text);
		free(after_text);
	}
	free(before_text);
	free(conf);
	check_tmpdir_remove(dir);
}


/* A page number from a query, 1 when it is not one. */
static int atoi_page(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	return *end == '\0' && n > 0 && n < 1000 ? (int)n : 1;
}

/* ---- import ---- */

#define FIXTURE_WXR BB_TEST_DATA "/import/export.wxr"

/* The WordPress export: counted by --dry-run (nothing stored), imported
 * (posts only: no draft, page or attachment), then a second run adds
 * nothing. */
static void t_import_wxr(void)
{
	const char *dir = folder();
	char *conf = write_conf(dir, 8080);
	struct run r;
	int before = check_failures;

	r = run_in(dir, "-c", conf, "import", "--dry-run", FIXTURE_WXR, NULL);
	CHECK_INT(r.status, 0);
	CHECK_STR(r.out,
		  "would import 4, already there 0, skipped 3 (draft 1, page 1, attachment 1)\n");
	run_report(&r, before);
	run_free(&r);
	r = run_in(dir, "-c", conf, "posts", "--json", NULL);
	CHECK_STR(r.out, "[]\n");
	run_free(&r);

	r = run_in(dir, "-c", conf, "import", FIXTURE_WXR, "--progress", NULL);
	before = check_failures;
	CHECK_INT(r.status, 0);
	CHECK_STR(r.out, "imported 4, already there 0, skipped 3 (draft 1, page 1, attachment 1)\n");
	/* Not a terminal: plain progress lines. */
	CHECK(check_contains(r.err, "import: 7 posts read (100%)"));
	run_report(&r, before);
	run_free(&r);
	r = run_in(dir, "-c", conf, "posts", "--json", NULL);
	CHECK(check_contains(r.out, "\"url\": \"https://blog.test/2009/03/le-cafe-de-la-gare/\""));
	CHECK(check_contains(r.out, "\"title\": \"Le café de la gare\""));
	CHECK(check_contains(r.out, "\"published\": \"2009-03-15T09:30:00Z\""));
	CHECK(check_contains(r.out, "https://blog.test/2021/06/blocks/"));
	CHECK(!check_contains(r.out, "about"));
	CHECK(!check_contains(r.out, "p=102"));
	run_free(&r);

	r = run_in(dir, "-c", conf, "import", FIXTURE_WXR, NULL);
	before = check_failures;
	CHECK_INT(r.status, 0);
	CHECK_STR(r.out, "imported 0, already there 4, skipped 3 (draft 1, page 1, attachment 1)\n");
	run_report(&r, before);
	run_free(&r);
	/* Nothing was queued for delivery. */
	r = run_in(dir, "-c", conf, "deliveries", "--json", NULL);
	CHECK_STR(r.out, "[]\n");
	run_free(&r);

	r = run_in(dir, "-c", conf, "import", NULL);
	CHECK_INT(r.status, 2);
	CHECK(check_contains(r.err, "usage: blogbridge import FILE|URL"));
	run_free(&r);
	free(conf);
	check_tmpdir_remove(dir);
}

/* Writes an export of n posts to dir/name, cut after cut bytes (0: whole). */
static char *write_big_wxr(const char *dir, const char *name, int n, size_t cut)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return NULL;
	fprintf(f, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" "
		   "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
		   "xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><title>t</title>\n");
	for (int i = 0; i < n; i++)
		fprintf(f,
			"<item><title>Post %d</title><link>https://blog.test/%d/</link>"
			"<guid>https://blog.test/?p=%d</guid><content:encoded><![CDATA[Text of "
			"post %d, long enough to fill the file: %0900d]]></content:encoded>"
			"<wp:post_date_gmt>2010-01-01 00:00:00</wp:post_date_gmt>"
			"<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>\n",
			i, i, i, i, i);
	fprintf(f, "</channel></rss>\n");
	if (fclose(f) != 0 || (cut > 0 && truncate(path, (off_t)cut) != 0))
		return NULL;
	return strdup(path);
}

/* An import cut short (here: a truncated export) keeps what it stored; the
 * next run imports the rest. */
static void t_import_resume(void)
{
	const char *dir = folder();
	char *conf = write_conf(dir, 8080);
	char *cut = write_big_wxr(dir, "cut.wxr", 300, 150 * 1000);
	char *whole = write_big_wxr(dir, "whole.wxr", 300, 0);
	unsigned long first = 0, rest = 0, there = 0;
	struct run r;
	int before = check_failures;

	CHECK(cut != NULL && whole != NULL);
	r = run_in(dir, "-c", conf, "import", cut, NULL);
	CHECK_INT(r.status, 1);
	CHECK(check_contains(r.err, "blogbridge: import: export: line"));
	CHECK(sscanf(r.out, "imported %lu,", &first) == 1);
	CHECK(first > 50 && first < 300);
	run_report(&r, before);
	run_free(&r);
	r = run_in(dir, "-c", conf, "import", whole, NULL);
	before = check_failures;
	CHECK_INT(r.status, 0);
	CHECK(sscanf(r.out, "imported %lu, already there %lu,", &rest, &there) == 2);
	CHECK_INT(there, first);
	CHECK_INT(rest + there, 300);
	run_report(&r, before);
	run_free(&r);
	free(cut);
	free(whole);
	free(conf);
	check_tmpdir_remove(dir);
}

/* The paged feeds the test serves: /atom?page=N, 3 pages of 2 entries
 * linked by rel="next" (RFC 5005); /wp/feed/?paged=N, WordPress's 3 pages
 * of 2 items, then 404. */
static _Atomic int pages_served;

static enum MHD_Result serve_page(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	const char *page = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page");
	const char *paged = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "paged");
	char body[4096];
	struct MHD_Response *res;
	unsigned status = 200;
	enum MHD_Result ret;
	int n;

	(void)cls, (void)method, (void)version, (void)upload, (void)upload_size, (void)state;
	pages_served++;
	if (strcmp(url, "/atom") == 0) {
		n = page ? atoi_page(page) : 1;
		snprintf(body, sizeof(body),
			 "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>%s%d%s"
			 "<entry><id>tag:blog.test,2001:%d-a</id><title>A%d</title>"
			 "<link href=\"https://blog.test/%d/a/\"/><updated>2001-01-0%dT00:00:00Z"
			 "</updated><content type=\"html\">a</content></entry>"
			 "<entry><id>tag:blog.test,2001:%d-b</id><title>B%d</title>"
			 "<link href=\"https://blog.test/%d/b/\"/><updated>2001-01-0%dT00:00:00Z"
			 "</updated><content type=\"html\">b</content></entry></feed>",
			 n < 3 ? "<link rel=\"next\" href=\"/atom?page=" : "<!-- ", n + 1,
			 n < 3 ? "\"/>" : " -->", n, n, n, n, n, n, n, n);
	} else if (strcmp(url, "/wp/feed/") == 0 && (n = paged ? atoi_page(paged) : 1) <= 3) {
		snprintf(body, sizeof(body),
			 "<rss version=\"2.0\"><channel><title>t</title><link>https://blog.test/"
			 "</link><description>d</description>"
			 "<item><title>P%d</title><link>https://blog.test/p/%d/</link>"
			 "<guid isPermaLink=\"false\">https://blog.test/?p=%d</guid>"
			 "<description>x</description></item>"
			 "<item><title>Q%d</title><link>https://blog.test/q/%d/</link>"
			 "<guid isPermaLink=\"false\">https://blog.test/?p=%d</guid>"
			 "<description>y</description></item></channel></rss>",
			 n, n, n * 10, n, n, n * 10 + 1);
	} else {
		status = 404;
		snprintf(body, sizeof(body), "not found");
	}
	res = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	if (res == NULL)
		return MHD_NO;
	MHD_add_response_header(res, "Content-Type", "application/xml");
	ret = MHD_queue_response(c, status, res);
	MHD_destroy_response(res);
	return ret;
}

static void t_import_paged(void)
{
	const char *dir = folder();
	char *conf = write_conf(dir, 8080);
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0,
						NULL, NULL, serve_page, NULL, MHD_OPTION_SOCK_ADDR,
						NULL, MHD_OPTION_END);
	const union MHD_DaemonInfo *info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)
					     : NULL;
	char url[128];
	struct run r;
	int before = check_failures;

	CHECK(info != NULL);
	if (info == NULL)
		goto out;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/atom", (unsigned)info->port);
	pages_served = 0;
	r = run_in(dir, "-c", conf, "import", url, "--progress", NULL);
	CHECK_INT(r.status, 0);
	CHECK_STR(r.out, "imported 6, already there 0, skipped 0\n");
	CHECK_INT(pages_served, 3);
	run_report(&r, before);
	run_free(&r);

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/wp/feed/", (unsigned)info->port);
	pages_served = 0;
	r = run_in(dir, "-c", conf, "import", url, NULL);
	before = check_failures;
	CHECK_INT(r.status, 0);
	CHECK_STR(r.out, "imported 6, already there 0, skipped 0\n");
	CHECK_INT(pages_served, 4); /* the 4th answers 404: the end */
	run_report(&r, before);
	run_free(&r);
	r = run_in(dir, "-c", conf, "posts", "--json", NULL);
	CHECK(check_contains(r.out, "https://blog.test/3/b/"));
	CHECK(check_contains(r.out, "https://blog.test/q/3/"));
	run_free(&r);
out:
	if (d)
		MHD_stop_daemon(d);
	free(conf);
	check_tmpdir_remove(dir);
}

static const struct check_case cases[] = {
    {"version", t_version},
    {"no_command", t_no_command},
    {"unknown_command", t_unknown_command},
    {"unknown_option", t_unknown_option},
    {"c_without_file", t_c_without_file},
    {"help", t_help},
    {"command_help", t_command_help},
    {"extra_argument", t_extra_argument},
    {"check_shipped", t_check_shipped},
    {"check_default_path", t_check_default_path},
    {"check_typo_key", t_check_typo_key},
    {"check_missing_file", t_check_missing_file},
    {"check_several_errors", t_check_several_errors},
    {"check_files", t_check_files},
    {"doctor_files", t_doctor_files},
    {"serve_port_in_use", t_serve_port_in_use},
    {"serve_unsafe_key", t_serve_unsafe_key},
    {"serve_bind_reason", t_serve_bind_reason},
    {"import_wxr", t_import_wxr},
    {"import_resume", t_import_resume},
    {"import_paged", t_import_paged},
};

int main(int argc, char **argv)
{
	static char bin[PATH_MAX], conf[PATH_MAX];

	if (argc < 3) {
		fprintf(stderr,
			"usage: test_cli PATH/TO/blogbridge PATH/TO/bridge.conf [CASE...]\n");
		return 2;
	}
	/* Runs happen in temporary folders: the paths must be absolute. */
	if (realpath(argv[1], bin) == NULL || realpath(argv[2], conf) == NULL) {
		perror("realpath");
		return 2;
	}
	binary = bin;
	shipped_conf = conf;
	/* argv[2] takes the place of the program name: the rest are cases. */
	return check_main(argc - 2, argv + 2, cases, sizeof(cases) / sizeof(cases[0]));
}
