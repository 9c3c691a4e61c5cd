/*
 * tap.h - a minimal Test Anything Protocol emitter for the unit tests,
 * read by automake's tap-driver.sh.
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __VA_ARGS__)

/* String equality with a diagnostic on failure. */
#define is_str(got, want, ...) do {                                        \
	const char *g_ = (got), *w_ = (want);                              \
	if (!tap_ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))         \
		printf("#   got:  '%s'\n#   want: '%s'\n", g_ ? g_ : "(null)", \
		       w_ ? w_ : "(null)");                                 \
} while (0)

/* Substring presence with a diagnostic on failure. */
#define like(got, needle, ...) do {                                        \
	const char *g_ = (got), *n_ = (needle);                            \
	if (!tap_ok(g_ && strstr(g_, n_) != NULL, __VA_ARGS__))            \
		printf("#   got:  '%s'\n#   want it to contain: '%s'\n",     \
		       g_ ? g_ : "(null)", n_);                              \
} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
