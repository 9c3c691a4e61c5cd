/*
 * metrics.h - check results in the Prometheus text exposition format
 * (0.0.4), for `certwatch check --prometheus` and for the daemon's
 * metrics-file, which node_exporter's textfile collector reads.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"

/* What only the daemon knows of a service. */
struct metrics_service {
	const char *name;
	bool paused;
	uint64_t reloads_ok, reloads_failed;   /* kept across restarts in the state file */
};

/*
 * Writes every metric family, HELP and TYPE first, for the items and, when
 * services is not NULL, the per-service families (reloads, pauses); a
 * one-shot check has none and leaves them out rather than report zeros it
 * does not know.
 */
void metrics_write(FILE *f, const struct check_item *items, size_t n,
		   const struct metrics_service *services, size_t n_services);

/*
 * The same into path, atomically: a temporary file in the same directory
 * (a name the textfile collector ignores), fsync, mode 0644, rename.
 * Returns 0 or a negative errno; path is untouched on failure.
 */
int metrics_write_file(const char *path, const struct check_item *items, size_t n,
		       const struct metrics_service *services, size_t n_services);

/*
 * The metrics-file of an instance guarding only service (certwatch@NAME):
 * "-NAME" before path's ".prom", or after path without that suffix, so
 * that the instances sharing one configuration write files of their own
 * instead of replacing each other's (the textfile collector reads every
 * *.prom file of its directory).  service NULL: path itself.  Returns 0,
 * or -ENAMETOOLONG when it does not fit in len bytes.
 */
int metrics_instance_path(const char *path, const char *service, char *buf, size_t len);
