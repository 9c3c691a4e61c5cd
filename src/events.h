/*
 * events.h - what the daemon logs when something happens.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "policy.h"

/* "certificate on disk changed", when the disk leaf differs from old_sha256 (hex). */
void event_disk_changed(const char *service, const struct check_item *it,
			const char *old_sha256);

/* The endpoint's verdict, when its state differs from old_state (NULL: first seen). */
void event_verdict_changed(const char *service, const struct check_item *it,
			   const char *old_state);

/*
 * A key file that group or others may read (the pair's key_warning): a
 * warning once per key file, whichever endpoints share it.
 */
void event_key_mode(const struct check_item *it);

struct event_context {
	const char *service;
	unsigned failures;             /* in a row */
	unsigned max_reloads_per_hour;
	const char *last_result;
	bool has_check;                /* a reload-check ran before the reload */
	uint64_t timer_realtime;       /* when the armed timer fires, CLOCK_REALTIME usec */
};

/* The policy step's note (reload started, verified, failed, paused, ...). */
void event_note(const struct event_context *c, const struct policy_out *o);
