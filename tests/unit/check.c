/*
 * check.c — see check.h.
 */
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int check_failures;

void check_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "    FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	check_failures++;
}

bool check_contains(const char *haystack, const char *needle)
{
	return haystack != NULL && strstr(haystack, needle) != NULL;
}

int check_main(int argc, char **argv, const struct check_case *cases, size_t count)
{
	int passed = 0, failed = 0;

	for (size_t i = 0; i < count; i++) {
		bool wanted = argc < 2;
		for (int a = 1; a < argc; a++)
			if (strcmp(argv[a], cases[i].name) == 0)
				wanted = true;
		if (!wanted)
			continue;
		check_failures = 0;
		cases[i].fn();
		if (check_failures) {
			printf("FAIL %s\n", cases[i].name);
			failed++;
		} else {
			printf("ok   %s\n", cases[i].name);
			passed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : (passed ? 0 : 1);
}

const char *check_tmpdir(void)
{
	static char dirs[64][64];
	static int next;
	char *d;

	if (next >= 64)
		abort();
	d = dirs[next++];
	snprintf(d, 64, "/tmp/bbtest.XXXXXX");
	if (mkdtemp(d) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return d;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void check_tmpdir_remove(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *check_write_file(const char *dir, const char *name, const char *text)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);
	FILE *f;

	if (path == NULL)
		abort();
	snprintf(path, n, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		abort();
	}
	return path;
}

/* Reads what is available from fd into *buf (bounded). Returns false at EOF. */
static bool drain(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n <= 0)
		return false;
	if (*len + (size_t)n < 65536) {
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

int check_run(char *const argv[], const char *stdin_text, char **out, char **errout)
{
	int in[2], o[2], e[2], status;
	size_t ol = 0, el = 0;
	char *ob = calloc(1, 1), *eb = calloc(1, 1);
	bool oopen = true, eopen = true;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) || pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC))
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	close(e[1]);
	if (stdin_text && write(in[1], stdin_text, strlen(stdin_text)) < 0)
		perror("write stdin");
	close(in[1]);
	while (oopen || eopen) {
		struct pollfd p[2] = {{oopen ? o[0] : -1, POLLIN, 0}, {eopen ? e[0] : -1, POLLIN, 0}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (oopen && (p[0].revents & (POLLIN | POLLHUP)))
			oopen = drain(o[0], &ob, &ol);
		if (eopen && (p[1].revents & (POLLIN | POLLHUP)))
			eopen = drain(e[0], &eb, &el);
	}
	close(o[0]);
	close(e[0]);
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	if (out)
		*out = ob;
	else
		free(ob);
	if (errout)
		*errout = eb;
	else
		free(eb);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The lowest port of the kernel's ephemeral range, or 0 when unknown. */
static int ephemeral_low(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int low = 0, high = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%d %d", &low, &high) != 2)
		low = 0;
	fclose(f);
	return low;
}

/* Whether a socket can be bound to ip:port (port 0: any), the port bound
 * in *port. */
static bool port_bindable(const char *ip, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)*port)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = inet_pton(AF_INET, ip, &a.sin_addr) == 1 &&
	     bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	     getsockname(fd, (struct sockaddr *)&a, &len) == 0;
	if (ok)
		*port = ntohs(a.sin_port);
	close(fd);
	return ok;
}

#define PORT_FLOOR 10000 /* below: ports other services are configured on */
#define PORT_TRIES 500

int check_free_port(const char *ip)
{
	static atomic_uint next;
	int low = ephemeral_low(), port;
	unsigned span, step, expected = 0;
	struct timespec ts;

	if (low - 1 <= PORT_FLOOR) { /* an unusual range: let the kernel choose */
		port = 0;
		return port_bindable(ip, &port) ? port : -1;
	}
	span = (unsigned)(low - PORT_FLOOR);
	/* Each process starts at a place of its own, then walks on, so that
	 * tests running side by side seldom try the same ports. */
	if (atomic_load(&next) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		atomic_compare_exchange_strong(
		    &next, &expected,
		    ((unsigned)getpid() * 2654435761u ^ (unsigned)ts.tv_nsec) | 1u);
	}
	for (int i = 0; i < PORT_TRIES; i++) {
		step = atomic_fetch_add(&next, 1);
		port = PORT_FLOOR + (int)(step % span);
		if (port_bindable(ip, &port))
			return port;
	}
	return -1;
}
