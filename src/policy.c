/*
 * policy.c - the per-service state machine; see policy.h.
 *
 * Decisions come from facts (what a reconcile pass saw), never from the
 * events alone: a file event only schedules a look.  A step that cannot
 * be finished (certwatch killed mid-reload) leaves nothing a fresh
 * reconcile does not repair, because the first pass after a start decides
 * from scratch.
 */
#include "config.h"

#include <string.h>

#include "policy.h"
#include "util.h"

#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR   (3600 * USEC_PER_SEC)
#define MINUTES_PER_DAY 1440

static const char *const phase_names[_PHASE_MAX] = {
	[PHASE_IDLE]       = "idle",
	[PHASE_SETTLING]   = "settling",
	[PHASE_PROBING]    = "probing",
	[PHASE_VALIDATING] = "validating",
	[PHASE_RELOADING]  = "reloading",
	[PHASE_VERIFYING]  = "verifying",
	[PHASE_BACKOFF]    = "backoff",
	[PHASE_WAITING]    = "waiting",
	[PHASE_PAUSED]     = "paused",
};

static const char *const event_names[_EVENT_MAX] = {
	[EVENT_FILES_CHANGED] = "files-changed",
	[EVENT_TIMER]         = "timer",
	[EVENT_TICK]          = "tick",
	[EVENT_PROBED]        = "probed",
	[EVENT_CHECK_OK]      = "check-ok",
	[EVENT_CHECK_FAILED]  = "check-failed",
	[EVENT_RELOAD_OK]     = "reload-ok",
	[EVENT_RELOAD_FAILED] = "reload-failed",
	[EVENT_RESUME]        = "resume",
};

static const char *const action_names[_DO_MAX] = {
	[DO_NOTHING]   = "nothing",
	[DO_ARM_TIMER] = "arm-timer",
	[DO_PROBE]     = "probe",
	[DO_RUN_CHECK] = "run-check",
	[DO_RELOAD]    = "reload",
};

static const char *const note_names[_NOTE_MAX] = {
	[NOTE_NONE]           = "none",
	[NOTE_RELOAD_STARTED] = "reload-started",
	[NOTE_VERIFIED]       = "verified",
	[NOTE_RELOAD_FAILED]  = "reload-failed",
	[NOTE_PAUSED]         = "paused",
	[NOTE_PAUSE_CLEARED]  = "pause-cleared",
	[NOTE_RATE_LIMITED]   = "rate-limited",
	[NOTE_OUTSIDE_WINDOW] = "outside-window",
	[NOTE_RESUMED]        = "resumed",
};

const char *policy_phase_to_string(enum policy_phase p)
{
	return (unsigned)p < _PHASE_MAX ? phase_names[p] : "?";
}

const char *policy_event_to_string(enum policy_event e)
{
	return (unsigned)e < _EVENT_MAX ? event_names[e] : "?";
}

const char *policy_action_to_string(enum policy_action a)
{
	return (unsigned)a < _DO_MAX ? action_names[a] : "?";
}

const char *policy_note_to_string(enum policy_note n)
{
	return (unsigned)n < _NOTE_MAX ? note_names[n] : "?";
}

static void go(struct policy_state *st, struct policy_out *out, enum policy_phase phase,
	       enum policy_action action, uint64_t timer_at)
{
	st->phase = phase;
	out->action = action;
	out->timer_at = timer_at;
}

static void settle(struct policy_state *st, const struct policy_conf *pc, uint64_t now,
		   struct policy_out *out)
{
	st->dirty = false;
	go(st, out, PHASE_SETTLING, DO_ARM_TIMER, now + pc->settle_usec);
}

static void rest(struct policy_state *st, struct policy_out *out)
{
	go(st, out, st->paused ? PHASE_PAUSED : PHASE_IDLE, DO_NOTHING, 0);
}

/* A step failed: back off exponentially, or pause after max_failures. */
static void fail(struct policy_state *st, const struct policy_conf *pc, uint64_t now,
		 struct policy_out *out)
{
	uint64_t delay = pc->backoff_usec;

	st->failures++;
	if (st->failures >= pc->max_failures) {
		st->paused = true;
		out->note = NOTE_PAUSED;
		rest(st, out);
		return;
	}
	for (unsigned i = 1; i < st->failures && delay < USEC_PER_HOUR; i++)
		delay *= 2;
	if (delay > USEC_PER_HOUR)
		delay = USEC_PER_HOUR;
	st->next_attempt = now + delay;
	out->note = NOTE_RELOAD_FAILED;
	go(st, out, PHASE_BACKOFF, DO_ARM_TIMER, st->next_attempt);
}

/* The oldest reload within the last hour, or 0 when the budget allows one more. */
static uint64_t budget_exhausted_until(const struct policy_state *st,
				       const struct policy_conf *pc, uint64_t now)
{
	unsigned kept = st->n_reloads < POLICY_MAX_RELOADS_PER_HOUR ?
		st->n_reloads : POLICY_MAX_RELOADS_PER_HOUR;
	unsigned recent = 0;
	uint64_t oldest = UINT64_MAX;

	for (unsigned i = 0; i < kept; i++) {
		uint64_t t = st->reloads[i];

		if (t + USEC_PER_HOUR > now) {
			recent++;
			if (t < oldest)
				oldest = t;
		}
	}
	return recent >= pc->max_reloads_per_hour ? oldest + USEC_PER_HOUR : 0;
}

/* Minutes from local_minute until the window opens; 0 when inside it. */
static int minutes_to_window(const struct policy_conf *pc, int m)
{
	int s = pc->window_start, e = pc->window_end;
	bool inside = s <= e ? (m >= s && m < e) : (m >= s || m < e);

	if (s < 0 || inside)
		return 0;
	return (s - m + MINUTES_PER_DAY) % MINUTES_PER_DAY;
}

static void start_reload(struct policy_state *st, uint64_t now, struct policy_out *out)
{
	st->reloads[st->n_reloads % POLICY_MAX_RELOADS_PER_HOUR] = now;
	st->n_reloads++;
	st->last_reload = now;
	out->note = NOTE_RELOAD_STARTED;
	go(st, out, PHASE_RELOADING, DO_RELOAD, 0);
}

/* After a reconcile pass outside of verification: SPEC.md's "the rule". */
static void decide(struct policy_state *st, const struct policy_conf *pc,
		   const struct policy_facts *f, uint64_t now, int local_minute,
		   struct policy_out *out)
{
	uint64_t until;
	int wait_min;

	if (f->all_served) {
		st->last_verified = now;
		if (st->paused)
			out->note = NOTE_PAUSE_CLEARED;
		st->paused = false;
		st->failures = 0;
		st->next_attempt = 0;
		rest(st, out);
		return;
	}
	if (!f->reload_wanted || !pc->can_reload || st->paused) {
		rest(st, out);
		return;
	}
	if (now < st->next_attempt) {
		go(st, out, PHASE_BACKOFF, DO_ARM_TIMER, st->next_attempt);
		return;
	}
	until = budget_exhausted_until(st, pc, now);
	if (until) {
		out->note = NOTE_RATE_LIMITED;
		go(st, out, PHASE_WAITING, DO_ARM_TIMER, until);
		return;
	}
	wait_min = minutes_to_window(pc, local_minute);
	/* Waiting for the window must not let the served certificate turn critical. */
	if (wait_min > 0 && f->critical_at > now + (uint64_t)wait_min * USEC_PER_MINUTE) {
		out->note = NOTE_OUTSIDE_WINDOW;
		go(st, out, PHASE_WAITING, DO_ARM_TIMER, now + (uint64_t)wait_min * USEC_PER_MINUTE);
		return;
	}
	if (pc->has_check) {
		go(st, out, PHASE_VALIDATING, DO_RUN_CHECK, 0);
		return;
	}
	start_reload(st, now, out);
}

static void verified(struct policy_state *st, const struct policy_conf *pc,
		     const struct policy_facts *f, uint64_t now, struct policy_out *out)
{
	if (f->all_served) {
		st->last_verified = now;
		st->last_reload_ok = true;
		st->failures = 0;
		st->paused = false;
		st->next_attempt = 0;
		out->note = NOTE_VERIFIED;
		if (st->dirty)
			settle(st, pc, now, out);
		else
			rest(st, out);
	} else if (now >= st->verify_deadline) {
		st->last_reload_ok = false;
		fail(st, pc, now, out);
	} else
		go(st, out, PHASE_VERIFYING, DO_ARM_TIMER, now + pc->verify_retry_usec);
}

void policy_step(struct policy_state *st, const struct policy_conf *pc, enum policy_event ev,
		 const struct policy_facts *facts, uint64_t now, int local_minute,
		 struct policy_out *out)
{
	enum policy_phase p = st->phase;

	memset(out, 0, sizeof(*out));
	switch (ev) {
	case EVENT_FILES_CHANGED:
		/*
		 * A running step finishes first; its result must not be lost.  A
		 * verification runs to its end too (a chmod or touch right after a
		 * renewal must not hide that the reload worked); the change is
		 * looked at once it is verified.
		 */
		if (p == PHASE_PROBING || p == PHASE_VALIDATING || p == PHASE_RELOADING ||
		    p == PHASE_VERIFYING)
			st->dirty = true;
		else
			settle(st, pc, now, out);
		break;
	case EVENT_TIMER:
		if (p == PHASE_SETTLING || p == PHASE_BACKOFF || p == PHASE_WAITING)
			go(st, out, PHASE_PROBING, DO_PROBE, 0);
		else if (p == PHASE_VERIFYING)
			go(st, out, PHASE_VERIFYING, DO_PROBE, 0);
		break;
	case EVENT_TICK:
		if (p == PHASE_IDLE || p == PHASE_PAUSED)
			go(st, out, PHASE_PROBING, DO_PROBE, 0);
		break;
	case EVENT_PROBED:
		if (p == PHASE_VERIFYING)
			verified(st, pc, facts, now, out);
		else if (p == PHASE_PROBING && st->dirty)
			settle(st, pc, now, out);
		else if (p == PHASE_PROBING)
			decide(st, pc, facts, now, local_minute, out);
		break;
	case EVENT_CHECK_OK:
		if (p != PHASE_VALIDATING)
			break;
		if (st->dirty)
			settle(st, pc, now, out);
		else
			start_reload(st, now, out);
		break;
	case EVENT_CHECK_FAILED:
		if (p == PHASE_VALIDATING)
			fail(st, pc, now, out);
		break;
	case EVENT_RELOAD_OK:
		if (p != PHASE_RELOADING)
			break;
		st->verify_deadline = now + pc->verify_timeout_usec;
		go(st, out, PHASE_VERIFYING, DO_PROBE, 0);
		break;
	case EVENT_RELOAD_FAILED:
		if (p != PHASE_RELOADING)
			break;
		st->last_reload_ok = false;
		fail(st, pc, now, out);
		break;
	case EVENT_RESUME:
		st->paused = false;
		st->failures = 0;
		st->next_attempt = 0;
		out->note = NOTE_RESUMED;
		if (p == PHASE_IDLE || p == PHASE_PAUSED || p == PHASE_BACKOFF ||
		    p == PHASE_WAITING || p == PHASE_SETTLING)
			go(st, out, PHASE_PROBING, DO_PROBE, 0);
		break;
	case _EVENT_MAX:
		break;
	}
}
