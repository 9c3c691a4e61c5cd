/*
 * events.h - what the daemon logs when something happens.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "policy.h"

/* What the daemon last saw of an endpoint's leaf on disk; "" where unknown. */
struct disk_seen {
	char sha256[SHA256_HEX_LEN];
	char spki_sha256[SHA256_HEX_LEN];  /* unknown after a restart: the state file has none */
	char key_alg[16];
};

/*
 * "certificate on disk changed", when the disk leaf differs from the one
 * last seen: whether the key was reused is judged between the two
 * certificates on disk (the served one may already be the new one), and a
 * change of key type is said.  Then remembers the leaf in *seen.
 */
void event_disk_changed(const char *service, const struct check_item *it,
			struct disk_seen *seen);

/*
 * "reload held for DANE" when the endpoint's verdict holds a reload and
 * was_held says it did not, "released" the other way round; each with a
 * MESSAGE_ID of its own.
 */
void event_dane_hold(const char *service, const struct check_item *it, bool was_held);

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
	const char *held;              /* why a reload is held back (NOTE_VETOED) */
	bool has_check;                /* a reload-check ran before the reload */
	uint64_t timer_realtime;       /* when the armed timer fires, CLOCK_REALTIME usec */
};

/* The policy step's note (reload started, verified, failed, paused, ...). */
void event_note(const struct event_context *c, const struct policy_out *o);
