/*
 * discover-run.h - running a daemon's own configuration dump for
 * `certwatch discover`: found in a search path, run without a shell, its
 * output kept bounded.  Not an API: the public interface is discover.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISC_MAX_STDERR 1024   /* stderr kept for the message of a failed dump */

struct cmd_result {
	char *out;           /* stdout, NUL-terminated */
	size_t out_len;
	char err[DISC_MAX_STDERR];
	size_t err_len;
	int status;          /* exit status, or 128 + signal */
	bool timed_out, too_long;
};

/* Wipes and frees the output (a dump may show secrets); NULL-safe contents. */
void cmd_result_done(struct cmd_result *r);

/*
 * Finds name in the colon-separated search path (absolute directories
 * only).  Returns 0 and sets *ret to a new string, -ENOENT, or -ENOMEM.
 */
int disc_find_program(const char *search, const char *name, char **ret);

/*
 * Runs argv[0] (a path) with argv, without a shell, with a clean
 * environment, stdin from /dev/null, every other descriptor closed, in a
 * process group of its own that is killed when the timeout passes or
 * stdout exceeds DISCOVER_MAX_OUTPUT.  Returns 0 with *ret filled (status,
 * timed_out, too_long say how it ended), or a negative errno when it could
 * not be run; *ret is then empty.
 */
int disc_run_command(char *const argv[], uint64_t timeout_usec, struct cmd_result *ret);
