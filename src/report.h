/*
 * report.h - how results are shown: the human table and JSON.
 */
#pragma once

#include <stdio.h>
#include <time.h>

#include "check.h"

void report_table(FILE *f, const struct check_item *items, size_t n, time_t now);
void report_json(FILE *f, const struct check_item *items, size_t n, enum severity worst,
		 time_t now);
