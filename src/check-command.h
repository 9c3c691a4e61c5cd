/*
 * check-command.h - `certwatch check`: one pass over the configured
 * endpoints, or over the one endpoint of the command line, printed as a
 * table, as JSON or as Prometheus metrics.
 */
#pragma once

#include "adhoc.h"
#include "conf.h"

enum check_format {
	CHECK_TABLE,
	CHECK_JSON,
	CHECK_PROMETHEUS,
};

/*
 * Checks endpoint (when not NULL) or every endpoint of c, or of its
 * service (NULL: all), and prints the result in format on stdout; what
 * kept the check from running goes to stderr.  config_path names c in
 * messages.  Returns the exit status: the worst severity, or 3 (UNKNOWN).
 */
int check_command(const struct conf *c, const char *config_path, const char *service,
		  const struct adhoc *endpoint, enum check_format format);

/*
 * For --test-config: loads the pairs of every endpoint of c (nothing is
 * probed) and warns on stderr, once per key file, of a key that group or
 * others may read, as check does.
 */
void check_command_key_modes(const struct conf *c);
