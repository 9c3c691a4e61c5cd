/*
 * reload-log.h - what a reload-check or a reload wrote, in the daemon's log.
 */
#pragma once

#include "reload.h"

/*
 * Logs the output the command of a reload-check or reload (what: the step's
 * name) of the service kept, one log line for each of its lines (blank ones
 * left out), at most 20 lines and then a count of the rest, only control
 * bytes escaped: "nginx: the configuration file ... syntax is ok", not a C
 * string of it.  A CRLF line ends as an LF one.
 */
void reload_log_output(const char *service, const char *what, const struct reload_result *r);
