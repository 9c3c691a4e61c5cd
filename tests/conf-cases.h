/*
 * conf-cases.h - the fixtures of the configuration tests: each case is a
 * directory of its own under one mkdtemp directory, holding a main file
 * DIR/certwatch.conf (mode 0600, as certwatch wants it) and whatever else
 * the case needs, loaded with conf_load() and its ownership checks.
 */
#pragma once

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

static char cases_top[PATH_MAX];
static char err[8192];

/* Makes the directory of all cases; false on failure. */
static inline bool cases_begin(const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(cases_top, sizeof(cases_top), "%s/%s.XXXXXX", tmp ? tmp : "/tmp", name);
	if (!mkdtemp(cases_top)) {
		perror("mkdtemp");
		return false;
	}
	return true;
}

static inline void cases_end(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cases_top);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", cases_top);
}

/* A fresh directory for one case; its main file is DIR/certwatch.conf. */
static inline const char *new_case(const char *name)
{
	static char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/%s", cases_top, name);
	if (mkdir(dir, 0700) < 0)
		abort();
	return dir;
}

__attribute__((format(printf, 3, 4)))
static inline void put(const char *dir, const char *rel, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	if (!f)
		abort();
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	chmod(path, 0600);
}

static inline void put_dir(const char *dir, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (mkdir(path, 0700) < 0)
		abort();
}

static inline int load(const char *dir, struct conf **ret)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/certwatch.conf", dir);
	*ret = NULL;
	return conf_load(path, true, ret, err, sizeof(err));
}

/* Loads a case expected to fail, and returns its message. */
static inline const char *load_error(const char *dir)
{
	struct conf *c = NULL;
	int r = load(dir, &c);

	if (r >= 0 || c) {
		conf_free(c);
		return "(loaded without error)";
	}
	return err;
}

__attribute__((format(printf, 1, 2)))
static inline const char *fmt(const char *f, ...)
{
	static char buf[4096];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return buf;
}

/* The dump without its comment lines, which name the files; free it. */
static inline char *dump_settings(const struct conf *c)
{
	char *buf = NULL, *out, *p, *q;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	conf_dump(c, f);
	fclose(f);
	out = calloc(1, len + 1);
	if (!out)
		abort();
	for (p = buf, q = out; p && *p;) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (*p != '#') {
			memcpy(q, p, n);
			q += n;
		}
		p += n;
	}
	free(buf);
	return out;
}
