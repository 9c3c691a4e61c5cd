/*
 * fuzz-files.c - libFuzzer harness for what certwatch reads from local
 * files that others may have written: a pid file's text (pidfile.c) and
 * the state file (state.c).  The first input byte picks the parser, the
 * rest is the file.  It aborts when a contract breaks: a pid that parses
 * but is not what the first line says, a state that parses but does not
 * read back the same after state_write().
 *
 * make check replays tests/corpus/files (pid files as PostgreSQL and
 * Postfix write them and as they must not be, state files whole and
 * damaged); how to fuzz: tests/fuzz-replay.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pidfile.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void fuzz_pidfile(const char *text, size_t len)
{
	const char *nl = memchr(text, '\n', len);
	size_t line = nl ? (size_t)(nl - text) : len;
	pid_t pid = 0;
	char again[32];

	if (pidfile_parse(text, len, &pid) < 0)
		return;
	check(pid > 1 && line <= PIDFILE_LINE_MAX);
	/* The line is the pid in decimal and blanks: its digits are those of the pid. */
	snprintf(again, sizeof(again), "%d", (int)pid);
	check(memmem(text, line, again, strlen(again)) != NULL);
	for (size_t i = 0; i < line; i++)
		check((text[i] >= '0' && text[i] <= '9') || text[i] == ' ' || text[i] == '\t');
}

static void fuzz_state(const char *text, size_t len)
{
	struct state s = {}, t = {};
	char err[256], *buf = NULL;
	size_t blen = 0;
	FILE *f = fmemopen((void *)text, len, "r");

	if (!f)
		return;
	if (state_read(f, "fuzz", &s, err, sizeof(err)) < 0) {
		fclose(f);
		return;
	}
	fclose(f);
	f = open_memstream(&buf, &blen);
	check(f != NULL);
	state_write(f, &s);
	fclose(f);
	f = fmemopen(buf, blen, "r");
	check(f && state_read(f, "fuzz", &t, err, sizeof(err)) == 0);
	check(t.n_services == s.n_services && t.n_endpoints == s.n_endpoints);
	fclose(f);
	free(buf);
	state_done(&s);
	state_done(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_state((const char *)data + 1, size - 1);
	else
		fuzz_pidfile((const char *)data + 1, size - 1);
	return 0;
}
