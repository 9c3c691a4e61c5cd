/*
 * persist.h - what the daemon tells the world between its log lines: the
 * state file (for `certwatch status`, `resume` and the next start), the
 * one-line STATUS= for systemd, and the metrics file for node_exporter.
 *
 * Writing is coalesced: persist_mark() only notes that something changed,
 * and the files are written from a post source of the loop once the probe
 * pool is quiet, or at the latest PERSIST_MAX_DELAY_USEC after the first
 * unsaved change.  A pass over hundreds of services therefore costs a
 * handful of writes, not one per service, and each write appends to the
 * state file only the records that changed (struct state_writer).  The
 * records are kept between writes: a write builds again only those of the
 * services and endpoints noted (persist_note_*()), so that its cost follows
 * the change, not the number of services and endpoints.
 */
#pragma once

#include <stddef.h>

#include <systemd/sd-event.h>

#include "check.h"
#include "probe-pool.h"
#include "service.h"
#include "state.h"

#define PERSIST_MAX_DELAY_USEC (2 * USEC_PER_SEC)

/* What is written: borrowed from the daemon's setup, valid while it is. */
struct persist_source {
	struct service *const *services;
	size_t n_services;
	const struct check_item *items;
	size_t n_items;
	const struct probe_pool *pool;       /* writes wait while its probes run */
};

struct persist;

/*
 * Writes into state_dir (which must exist) and, when metrics_file is not
 * NULL, the metrics file.  Strings are copied.
 */
int persist_new(sd_event *event, const char *state_dir, const char *metrics_file,
		const struct persist_source *src, struct persist **ret);

/* Something worth saving changed: write soon. */
void persist_mark(struct persist *p);

/*
 * What the state file holds of a service, or of an item, of the source
 * changed: its record is built again at the next write (persist_mark()
 * schedules it).  A record not noted is written as the last write built
 * it, so every change must be noted; others are ignored.
 */
void persist_note_service(struct persist *p, const struct service *svc);
void persist_note_item(struct persist *p, const struct check_item *it);

/* Writes now if anything is unsaved (at exit, before a new setup takes over). */
void persist_flush(struct persist *p);

/*
 * The records the state file would get now, indexed (state_index()); the
 * names and reasons are borrowed from the services and their endpoints'
 * verdicts, so release with persist_snapshot_done().
 */
int persist_snapshot(const struct persist_source *src, struct state *ret);
void persist_snapshot_done(struct state *st);

/* NULL is fine; unsaved changes are dropped (persist_flush() first). */
void persist_free(struct persist *p);
