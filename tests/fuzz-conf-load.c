/*
 * fuzz-conf-load.c - harness for the configuration loader: arbitrary bytes
 * as the main configuration file, loaded by conf_load() (check_owner
 * false) from a private temporary directory, whose include directory does
 * not exist.  It aborts when the loader breaks its contract: a result that
 * is neither 0 with a configuration nor a negative errno, or a failure
 * without a message, or a message that is not printable lines each naming
 * a file (every path here is absolute; only the last line of a message
 * that fills the buffer may be cut short).  Only conf_load() and conf_free()
 * are used, so the harness holds however conf.c is built inside.
 */
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

static void check(int cond)
{
	if (!cond)
		abort();
}

static void remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

/* The directory outlives every input; a crash may leave it behind in /tmp. */
static void make_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/fuzz-conf-load.XXXXXX",
		 tmp && *tmp == '/' && strlen(tmp) < 32 ? tmp : "/tmp");
	check(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/certwatch.conf", dir);
	atexit(remove_dir);
}

static void write_input(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	check(fd >= 0);
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		check(n > 0);
		off += (size_t)n;
	}
	check(close(fd) == 0);
}

static void check_message(const char *err, size_t errlen)
{
	/* A message that fills the buffer may end in a line cut anywhere. */
	bool full = memchr(err, '\0', errlen) == err + errlen - 1;

	check(memchr(err, '\0', errlen) != NULL && err[0] != '\0');
	for (const char *line = err; *line; ) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		check(line[0] == '/' && (memchr(line, ':', n) != NULL || (!nl && full)));
		for (size_t i = 0; i < n; i++)
			check((unsigned char)line[i] >= 0x20 && line[i] != 0x7f);
		line += n + (nl != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL;
	char err[4096];
	int r;

	if (!dir[0])
		make_dir();
	write_input(data, size);
	err[0] = '\0';
	r = conf_load(path, false, &c, err, sizeof(err));
	if (r == 0) {
		check(c != NULL);
		conf_free(c);
		return 0;
	}
	check(r < 0 && c == NULL);
	check_message(err, sizeof(err));
	return 0;
}
