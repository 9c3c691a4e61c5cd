/*
 * policy.c - the per-service state machine; see policy.h.
 *
 * Decisions come from facts (what a reconcile pass saw), never from the
 * events alone: a file event only schedules a look.  A step that cannot
 * be finished (certwatch killed mid-reload) leaves nothing a fresh
 * reconcile does not repair, because the first pass after a start decides
 * from scratch.
 *
 * The machine is one table, transitions[phase][event], in which every cell
 * names its handler; "nothing happens" is the handler nop, so the whole
 * machine reads on one screen and a test walks every cell.
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
	[EVENT_SYNC]          = "sync",
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
	[NOTE_RETARGETED]     = "retargeted",
	[NOTE_VETOED]         = "vetoed",
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

bool policy_busy(const struct policy_state *st)
{
	return st->phase == PHASE_VALIDATING || st->phase == PHASE_RELOADING ||
		st->phase == PHASE_VERIFYING;
}

void policy_resume(struct policy_state *st)
{
	st->paused = false;
	st->failures = 0;
	st->next_attempt = 0;
}

const char *policy_display_phase(const struct policy_state *st)
{
	return st->paused && st->phase == PHASE_IDLE ? "paused" : policy_phase_to_string(st->phase);
}

/* What a handler sees besides the state. */
struct input {
	const struct policy_conf *pc;
	const struct policy_facts *facts;
	uint64_t now;
	int local_minute;
};

static void go(struct policy_state *st, struct policy_out *out, enum policy_phase phase,
	       enum policy_action action, uint64_t timer_at)
{
	st->phase = phase;
	out->action = action;
	out->timer_at = timer_at;
}

static void rest(struct policy_state *st, struct policy_out *out)
{
	go(st, out, PHASE_IDLE, DO_NOTHING, 0);
}

/*
 * At rest but not served (a server that reloads by itself, a pair still
 * being written, a paused service fixed by hand): look again soon, then
 * less and less often, whatever the periodic interval says; a reload held
 * for DANE looks again by the facts' hint at the latest, when its records
 * may have changed.
 */
static void rest_and_recheck(struct policy_state *st, const struct policy_conf *pc,
			     const struct policy_facts *f, uint64_t now, struct policy_out *out)
{
	uint64_t delay;

	if (st->recheck < pc->recheck_usec)
		st->recheck = pc->recheck_usec;
	/* A hold waits for records that may change sooner than the doubling says. */
	delay = f->recheck_in_usec && f->recheck_in_usec < st->recheck ? f->recheck_in_usec :
		st->recheck;
	go(st, out, PHASE_IDLE, DO_ARM_TIMER, now + delay);
	st->recheck = st->recheck * 2 > pc->recheck_max_usec ? pc->recheck_max_usec :
		st->recheck * 2;
}

/* A match seen: whatever went wrong before is over. */
static void clear_failures(struct policy_state *st, uint64_t now)
{
	st->last_verified = now;
	st->failures = 0;
	st->next_attempt = 0;
	st->paused = false;
	st->recheck = 0;
}

/* The reload made is served: noted once, counted once. */
static void reload_verified(struct policy_state *st, uint64_t now, struct policy_out *out)
{
	clear_failures(st, now);
	st->last_reload_ok = true;
	st->unverified = false;
	out->note = NOTE_VERIFIED;
	out->outcome = OUTCOME_RELOAD_SUCCEEDED;
}

/* A step failed: back off exponentially, or pause after max_failures. */
static void fail(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	uint64_t delay = in->pc->backoff_usec;

	st->failures++;
	if (st->failures >= in->pc->max_failures) {
		st->paused = true;
		out->note = NOTE_PAUSED;
		rest(st, out);
		return;
	}
	for (unsigned i = 1; i < st->failures && delay < POLICY_BACKOFF_MAX_USEC; i++)
		delay *= 2;
	if (delay > POLICY_BACKOFF_MAX_USEC)
		delay = POLICY_BACKOFF_MAX_USEC;
	st->next_attempt = in->now + delay;
	out->note = NOTE_RELOAD_FAILED;
	go(st, out, PHASE_BACKOFF, DO_ARM_TIMER, st->next_attempt);
}

/* When the hourly budget allows the next reload: 0 when it allows one now. */
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
	st->unverified = false;   /* this reload's verification says it all */
	st->reloads[st->n_reloads % POLICY_MAX_RELOADS_PER_HOUR] = now;
	st->n_reloads++;
	st->last_reload = now;
	out->note = NOTE_RELOAD_STARTED;
	go(st, out, PHASE_RELOADING, DO_RELOAD, 0);
}

/* ---- the handlers: one per kind of cell ----------------------------------- */

typedef void handler_t(struct policy_state *st, const struct input *in, struct policy_out *out);

static void nop(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	(void)st;
	(void)in;
	(void)out;
}

/* Files changed while at rest: wait until they have been quiet for settle. */
static void settle(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	st->dirty = false;
	go(st, out, PHASE_SETTLING, DO_ARM_TIMER, in->now + in->pc->settle_usec);
}

/*
 * Files changed while a step runs: it finishes first, its result must not
 * be lost (a chmod or touch right after a renewal must not hide that the
 * reload worked); the change is looked at afterwards.
 */
static void mark_dirty(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	(void)in;
	(void)out;
	st->dirty = true;
}

static void probe(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	(void)in;
	go(st, out, PHASE_PROBING, DO_PROBE, 0);
}

static void probe_again(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	(void)in;
	go(st, out, PHASE_VERIFYING, DO_PROBE, 0);
}

/* A reconcile pass ended outside verification: the decision table's action. */
static void decide(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	const struct policy_facts *f = in->facts;
	uint64_t until, wait_usec;
	bool was_vetoed = st->vetoed;

	if (st->dirty) {
		settle(st, in, out);
		return;
	}
	st->vetoed = false;
	if (f->all_served && !(f->renewal_unloaded && in->pc->can_reload && !st->paused)) {
		if (st->unverified)
			reload_verified(st, in->now, out);
		else if (st->paused)
			out->note = NOTE_PAUSE_CLEARED;
		clear_failures(st, in->now);
		rest(st, out);
		return;
	}
	if (!policy_facts_want_reload(f) || !in->pc->can_reload || st->paused) {
		st->unverified = false;
		rest_and_recheck(st, in->pc, f, in->now, out);
		return;
	}
	/* Whatever renewed one endpoint, a reload would load another's broken pair. */
	if (f->vetoed) {
		st->vetoed = true;
		st->unverified = false;
		if (!was_vetoed)
			out->note = NOTE_VETOED;
		rest_and_recheck(st, in->pc, f, in->now, out);
		return;
	}
	if (in->now < st->next_attempt) {
		go(st, out, PHASE_BACKOFF, DO_ARM_TIMER, st->next_attempt);
		return;
	}
	until = budget_exhausted_until(st, in->pc, in->now);
	if (until) {
		out->note = NOTE_RATE_LIMITED;
		go(st, out, PHASE_WAITING, DO_ARM_TIMER, until);
		return;
	}
	wait_usec = (uint64_t)minutes_to_window(in->pc, in->local_minute) * USEC_PER_MINUTE;
	/* Waiting for the window must not let the served certificate turn critical. */
	if (wait_usec > 0 && f->critical_in_usec > wait_usec) {
		out->note = NOTE_OUTSIDE_WINDOW;
		go(st, out, PHASE_WAITING, DO_ARM_TIMER, in->now + wait_usec);
		return;
	}
	if (in->pc->has_check)
		go(st, out, PHASE_VALIDATING, DO_RUN_CHECK, 0);
	else
		start_reload(st, in->now, out);
}

/*
 * A pass during verification.  Verified once verify_passes passes in a row,
 * spread over at least verify_stable, all saw what the reload was for:
 * old workers and processes linger after a reload and may still take a
 * connection.  A pass that does not match restarts the count and is
 * retried soon, then less often; at the deadline the reload has failed,
 * unless the files changed meanwhile: then it is looked at again.
 */
static void verify(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	const struct policy_conf *pc = in->pc;
	uint64_t spacing;

	if (in->facts->all_served) {
		if (st->verify_matched++ == 0)
			st->verify_first_match = in->now;
		if (st->verify_matched >= pc->verify_passes &&
		    in->now - st->verify_first_match >= pc->verify_stable_usec) {
			reload_verified(st, in->now, out);
			if (st->dirty)
				settle(st, in, out);
			else
				rest(st, out);
			return;
		}
		spacing = pc->verify_passes > 1 ? pc->verify_stable_usec / (pc->verify_passes - 1) : 0;
		go(st, out, PHASE_VERIFYING, DO_ARM_TIMER, in->now + (spacing ? spacing : 1));
		return;
	}
	st->verify_matched = 0;
	if (st->dirty) {
		st->unverified = true;
		out->note = NOTE_RETARGETED;
		settle(st, in, out);
	} else if (in->now >= st->verify_deadline) {
		st->last_reload_ok = false;
		out->outcome = OUTCOME_RELOAD_FAILED;
		fail(st, in, out);
	} else {
		if (st->verify_retry < pc->verify_retry_usec)
			st->verify_retry = pc->verify_retry_usec;
		go(st, out, PHASE_VERIFYING, DO_ARM_TIMER, in->now + st->verify_retry);
		st->verify_retry = st->verify_retry * 2 > pc->verify_retry_max_usec ?
			pc->verify_retry_max_usec : st->verify_retry * 2;
	}
}

static void check_ok(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	if (st->dirty)
		settle(st, in, out);
	else
		start_reload(st, in->now, out);
}

/* The configuration test failed: no reload ran, so none is counted. */
static void check_failed(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	fail(st, in, out);
}

static void reload_ok(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	st->verify_deadline = in->now + in->pc->verify_timeout_usec;
	st->verify_retry = in->pc->verify_retry_usec;
	st->verify_matched = 0;
	go(st, out, PHASE_VERIFYING, DO_PROBE, 0);
}

static void reload_failed(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	st->last_reload_ok = false;
	out->outcome = OUTCOME_RELOAD_FAILED;
	fail(st, in, out);
}

/* Resumed while nothing runs: look now. */
static void resume_probe(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	policy_resume(st);
	out->note = NOTE_RESUMED;
	probe(st, in, out);
}

/* Resumed while a step runs: its result decides what comes next. */
static void resume_only(struct policy_state *st, const struct input *in, struct policy_out *out)
{
	(void)in;
	policy_resume(st);
	out->note = NOTE_RESUMED;
}

/* ---- the table ------------------------------------------------------------- */

#define ROW(files, timer, tick, probed, chk_ok, chk_fail, rl_ok, rl_fail, resume, sync) \
	{ files, timer, tick, probed, chk_ok, chk_fail, rl_ok, rl_fail, resume, sync }

/*
 * Columns: files-changed, timer, tick, probed, check-ok, check-failed,
 * reload-ok, reload-failed, resume, sync.
 */
static handler_t *const transitions[_PHASE_MAX][_EVENT_MAX] = {
	[PHASE_IDLE] =
		ROW(settle,     probe,       probe, nop,    nop,      nop,          nop,       nop,           resume_probe, probe),
	[PHASE_SETTLING] =
		ROW(settle,     probe,       nop,   nop,    nop,      nop,          nop,       nop,           resume_probe, probe),
	[PHASE_PROBING] =
		ROW(mark_dirty, nop,         nop,   decide, nop,      nop,          nop,       nop,           resume_only,  mark_dirty),
	[PHASE_VALIDATING] =
		ROW(mark_dirty, nop,         nop,   nop,    check_ok, check_failed, nop,       nop,           resume_only,  mark_dirty),
	[PHASE_RELOADING] =
		ROW(mark_dirty, nop,         nop,   nop,    nop,      nop,          reload_ok, reload_failed, resume_only,  mark_dirty),
	[PHASE_VERIFYING] =
		ROW(mark_dirty, probe_again, nop,   verify, nop,      nop,          nop,       nop,           resume_only,  mark_dirty),
	[PHASE_BACKOFF] =
		ROW(settle,     probe,       nop,   nop,    nop,      nop,          nop,       nop,           resume_probe, probe),
	[PHASE_WAITING] =
		ROW(settle,     probe,       nop,   nop,    nop,      nop,          nop,       nop,           resume_probe, probe),
};

void policy_step(struct policy_state *st, const struct policy_conf *pc, enum policy_event ev,
		 const struct policy_facts *facts, uint64_t now, int local_minute,
		 struct policy_out *out)
{
	static const struct policy_facts none = { .critical_in_usec = UINT64_MAX };
	const struct input in = {
		.pc = pc,
		.facts = facts ? facts : &none,
		.now = now,
		.local_minute = local_minute,
	};

	memset(out, 0, sizeof(*out));
	if ((unsigned)st->phase >= _PHASE_MAX || (unsigned)ev >= _EVENT_MAX)
		return;
	transitions[st->phase][ev](st, &in, out);
}
