/*
 * report.h - how results are shown: the human table and JSON.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "check.h"

/* The table on f; then report_key_warnings() on stderr. */
void report_table(FILE *f, const struct check_item *items, size_t n, time_t now);
/* "certwatch: warning: key file ... is readable by ...", once per key file. */
void report_key_warnings(FILE *f, const struct check_item *items, size_t n);
void report_json(FILE *f, const struct check_item *items, size_t n, enum severity worst,
		 time_t now);

struct state;

/* `certwatch status`: the daemon's view from its state file. */
void report_status_table(FILE *f, const struct state *s, bool running);
void report_status_json(FILE *f, const struct state *s, bool running);
