/*
 * nagios.h - plugin mode, for Nagios, Icinga and everything else that runs
 * monitoring plugins: `certwatch nagios`, or the program started under the
 * name check_certwatch.  Follows the Monitoring Plugins development
 * guidelines: one status line, long output, performance data, the range
 * syntax of -w and -c, exit status 0/1/2/3.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "check.h"
#include "nagios-range.h"

/*
 * Writes the plugin output for checked items: the status line with the
 * performance data of every endpoint, then one line per endpoint (more
 * with each level of verbose).  warn/crit apply to the days left on the
 * served certificate; NULL: each endpoint's own thresholds ("W:" and "C:"
 * from warn-days and crit-days, or the shorter margins a short lifetime
 * gets).  Returns the plugin's state: the worst of the verdicts and the
 * ranges.
 */
enum severity nagios_report(FILE *f, const struct check_item *items, size_t n,
			    const struct nagios_range *warn, const struct nagios_range *crit,
			    unsigned verbose, time_t now);

/*
 * Writes formatted text as the plugin's output must carry it: a '|' (it
 * would start the performance data) becomes '/', a control character a
 * space.
 */
__attribute__((format(printf, 2, 3)))
void nagios_put(FILE *f, const char *fmt, ...);

/*
 * The plugin: parses argv (argv[0] names the program), checks, prints on
 * stdout, and returns the exit status.  config: the configuration file
 * used when neither -H nor --config is given.
 */
int nagios_main(int argc, char **argv, const char *config);
