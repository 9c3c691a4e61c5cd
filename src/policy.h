/*
 * policy.h - the per-service state machine of "reloading safely": settle,
 * validate, reload, verify, back off, pause (doc/design.md).
 *
 * policy_step() is pure: state x event -> new state and one action for the
 * service runtime to carry out.  Every cell of the table is written, "nothing
 * happens" included.  Times are now_boot_usec() microseconds (CLOCK_BOOTTIME): a step of the
 * wall clock neither freezes nor skips a back-off or a verification; only
 * the reload window reads the local time of day, which the caller passes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_RELOADS_PER_HOUR 64
#define POLICY_BACKOFF_MAX_USEC (UINT64_C(3600) * 1000000)   /* back-off doubles up to this */

enum policy_phase {
	PHASE_IDLE,
	PHASE_SETTLING,     /* files changed: waiting for them to be quiet */
	PHASE_PROBING,      /* a reconcile pass over the service's endpoints */
	PHASE_VALIDATING,   /* the service's reload-check command runs */
	PHASE_RELOADING,    /* the reload method runs */
	PHASE_VERIFYING,    /* probing until every endpoint serves the disk pair */
	PHASE_BACKOFF,      /* after a failure, until next_attempt */
	PHASE_WAITING,      /* a reload is due but the rate limit or window holds it */
	_PHASE_MAX,
};

enum policy_event {
	EVENT_FILES_CHANGED,
	EVENT_TIMER,        /* the timer the last action armed has fired */
	EVENT_TICK,         /* the periodic reconcile */
	EVENT_PROBED,       /* a reconcile pass finished; facts are given */
	EVENT_CHECK_OK,
	EVENT_CHECK_FAILED,
	EVENT_RELOAD_OK,
	EVENT_RELOAD_FAILED,
	EVENT_RESUME,       /* certwatch resume SERVICE */
	EVENT_SYNC,         /* certwatch sync: look now, without waiting for settle */
	_EVENT_MAX,
};

enum policy_action {
	DO_NOTHING,
	DO_ARM_TIMER,       /* at timer_at, deliver EVENT_TIMER */
	DO_PROBE,           /* reconcile every endpoint now, then EVENT_PROBED */
	DO_RUN_CHECK,       /* run reload-check, then EVENT_CHECK_OK / _FAILED */
	DO_RELOAD,          /* run the reload method, then EVENT_RELOAD_OK / _FAILED */
	_DO_MAX,
};

/* What one reconcile pass over a service's endpoints found (reconcile_facts_add()). */
struct policy_facts {
	bool reload_wanted;        /* an endpoint serves an older certificate than a valid disk pair */
	bool all_served;           /* every endpoint serves its disk certificate, or during a
				    * verification the one the reload was for */
	/*
	 * A renewal on disk that no reload has loaded yet, whatever the pass
	 * saw: a server that starts processes per connection or on demand
	 * (Postfix's smtpd) serves it from a process started since, while the
	 * processes started before, busy now, keep the old pair and take
	 * connections again when they are free.  One fresh connection cannot
	 * see them, so a service that can be reloaded is reloaded all the same.
	 */
	bool renewal_unloaded;
	uint64_t critical_in_usec; /* until the first served certificate turns critical; UINT64_MAX: never */
	/*
	 * A reload loads every pair of the service: one that must not be
	 * loaded (reconcile.h's vetoes_reload) stops it, whichever endpoint
	 * wants it.  veto_index: the first such endpoint, counted in the
	 * order the endpoints were added (n_added of them).
	 */
	bool vetoed;
	size_t veto_index;
	size_t n_added;
	/*
	 * A reload held for DANE records or pins waits for the records to
	 * change: look again after this long at the latest (the soonest
	 * endpoint's TTL-based recheck); 0: no hint.
	 */
	uint64_t recheck_in_usec;
};

/* Whether the facts ask for a reload: one wanted, or a renewal not yet loaded. */
static inline bool policy_facts_want_reload(const struct policy_facts *f)
{
	return f->reload_wanted || f->renewal_unloaded;
}

/* From the configuration. */
struct policy_conf {
	uint64_t settle_usec;
	uint64_t verify_timeout_usec;
	uint64_t verify_retry_usec;      /* first retry after a pass that did not match; doubles */
	uint64_t verify_retry_max_usec;  /* ... up to this */
	unsigned verify_passes;          /* consecutive matching passes that verify a reload */
	uint64_t verify_stable_usec;     /* ... spread over at least this long */
	uint64_t recheck_usec;           /* a service at rest but not served looks again; doubles */
	uint64_t recheck_max_usec;       /* ... up to this */
	uint64_t backoff_usec;        /* first back-off; doubles per failure up to POLICY_BACKOFF_MAX_USEC */
	unsigned max_failures;
	unsigned max_reloads_per_hour;
	int window_start, window_end; /* minutes after local midnight; -1: none */
	bool can_reload;              /* a reload method is configured */
	bool has_check;               /* a reload-check command is configured */
};

struct policy_state {
	enum policy_phase phase;
	bool dirty;                   /* files changed while a step was running */
	bool unverified;              /* a reload's verification gave way to newer files */
	uint64_t verify_deadline;
	uint64_t verify_retry;        /* the next retry's delay */
	unsigned verify_matched;      /* consecutive matching passes */
	uint64_t verify_first_match;  /* when the first of them ran */
	uint64_t recheck;             /* the next look's delay while not served */
	bool vetoed;                  /* the last decision was held by a veto (noted once) */
	/* persisted (state.c), every time on now_boot_usec()'s clock: */
	unsigned failures;            /* in a row */
	bool paused;                  /* the one place a pause is kept */
	uint64_t next_attempt;        /* no reload before this (back-off) */
	uint64_t reloads[POLICY_MAX_RELOADS_PER_HOUR];  /* start times, ring */
	unsigned n_reloads;
	uint64_t last_reload;         /* start of the last reload, 0 if none */
	bool last_reload_ok;
	uint64_t last_verified;       /* last time every endpoint served the disk pair */
};

/* Why the step did what it did, for the log: one of these, or NONE. */
enum policy_note {
	NOTE_NONE,
	NOTE_RELOAD_STARTED,
	NOTE_VERIFIED,
	NOTE_RELOAD_FAILED,        /* check, reload or verification failed; backing off */
	NOTE_PAUSED,               /* max-failures reached */
	NOTE_PAUSE_CLEARED,        /* a verified match while paused (e.g. a manual restart) */
	NOTE_RATE_LIMITED,
	NOTE_OUTSIDE_WINDOW,
	NOTE_RESUMED,
	NOTE_RETARGETED,           /* files changed during verification: look again, no failure */
	NOTE_VETOED,               /* a reload is wanted, but a pair of the service must not be loaded */
	_NOTE_MAX,
};

/* How a reload that ran ended, for the counters: a failed reload-check is no reload. */
enum policy_outcome {
	OUTCOME_NONE,
	OUTCOME_RELOAD_SUCCEEDED,  /* verified */
	OUTCOME_RELOAD_FAILED,     /* the method failed, or verification timed out */
	_OUTCOME_MAX,
};

struct policy_out {
	enum policy_action action;
	uint64_t timer_at;            /* for DO_ARM_TIMER, now_boot_usec()'s clock */
	enum policy_note note;
	enum policy_outcome outcome;
};

/*
 * Advances st by ev at time now (now_boot_usec()); local_minute is the
 * minute of the local day at now (0..1439), for the reload window.  facts
 * is read for EVENT_PROBED only.
 */
void policy_step(struct policy_state *st, const struct policy_conf *pc, enum policy_event ev,
		 const struct policy_facts *facts, uint64_t now, int local_minute,
		 struct policy_out *out);

/* A check, reload or verification is in flight: a new configuration must wait. */
bool policy_busy(const struct policy_state *st);

/* Lifts a pause and forgets the failures and the back-off: `certwatch resume`. */
void policy_resume(struct policy_state *st);

/* The phase as people see it: "paused" for a paused service at rest. */
const char *policy_display_phase(const struct policy_state *st);

const char *policy_phase_to_string(enum policy_phase p);
const char *policy_event_to_string(enum policy_event e);
const char *policy_action_to_string(enum policy_action a);
const char *policy_note_to_string(enum policy_note n);
