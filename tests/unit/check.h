/*
 * check.h — a minimal test harness.  A test program lists its cases in a
 * table and calls check_main(); each CHECK that fails prints the file, line
 * and expression and marks the case failed.  The program exits non-zero
 * when any case failed, and prints "N passed, N failed".
 */
#ifndef BB_CHECK_H
#define BB_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct check_case {
	const char *name;
	void (*fn)(void);
};

extern int check_failures; /* failures in the running case */

void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		if (!(cond))                                                                  \
			check_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                   \
	} while (0)

#define CHECK_STR(a, b)                                                                       \
	do {                                                                                  \
		const char *check_a_ = (a), *check_b_ = (b);                                  \
		if (check_a_ == NULL || check_b_ == NULL || strcmp(check_a_, check_b_) != 0)  \
			check_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,  \
				   check_a_ ? check_a_ : "(null)",                            \
				   check_b_ ? check_b_ : "(null)");                           \
	} while (0)

#define CHECK_INT(a, b)                                                                       \
	do {                                                                                  \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);               \
		if (check_a_ != check_b_)                                                     \
			check_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b,      \
				   check_a_, check_b_);                                       \
	} while (0)

/* True when needle occurs in haystack (NULL haystack: false). */
bool check_contains(const char *haystack, const char *needle);

/* Runs the cases (all, or those named on the command line). */
int check_main(int argc, char **argv, const struct check_case *cases, size_t count);

/* A fresh temporary folder, removed with its files by check_tmpdir_remove;
 * returns a static-lifetime path. */
const char *check_tmpdir(void);
void check_tmpdir_remove(const char *dir);

/* A TCP port on ip (an IPv4 address) that nothing listens on, for a
 * server about to start there; -1 when none was found.  It is taken
 * below the kernel's ephemeral range: a port found free inside it could
 * become the local port of any outgoing connection before the server
 * binds it. */
int check_free_port(const char *ip);

/* Writes text to dir/name; returns the path (caller frees). */
char *check_write_file(const char *dir, const char *name, const char *text);

/* Runs argv (argv[0] a path), waits, captures stdout and stderr (each up to
 * 64 KiB; caller frees); returns the exit status, or -1. stdin_text may be
 * NULL. */
int check_run(char *const argv[], const char *stdin_text, char **out, char **errout);

#define CHECK_MAIN(cases)                                                                     \
	int main(int argc, char **argv)                                                       \
	{                                                                                     \
		return check_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));       \
	}

#endif
