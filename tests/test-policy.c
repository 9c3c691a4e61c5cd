/*
 * test-policy.c - the per-service state machine, walked through the
 * daemon's scenarios without a network: renewal, failures and pause,
 * resume, rate limit, reload window, files changing mid-step.
 */
#include "config.h"

#include <string.h>

#include "policy.h"
#include "tap.h"
#include "util.h"

#define SEC(x) ((uint64_t)(x) * USEC_PER_SEC)
static const uint64_t T0 = SEC(1800000000);

/* One matching pass verifies, retries every second: the scenarios below. */
static const struct policy_conf PC = {
	.settle_usec = SEC(2),
	.verify_timeout_usec = SEC(60),
	.verify_retry_usec = SEC(1),
	.verify_retry_max_usec = SEC(1),
	.verify_passes = 1,
	.verify_stable_usec = 0,
	.recheck_usec = SEC(1),
	.recheck_max_usec = SEC(300),
	.backoff_usec = SEC(30),
	.max_failures = 3,
	.max_reloads_per_hour = 4,
	.window_start = -1,
	.window_end = -1,
	.can_reload = true,
};

static const struct policy_facts STALE = { .reload_wanted = true, .critical_in_usec = UINT64_MAX };
static const struct policy_facts SERVED = { .all_served = true, .critical_in_usec = UINT64_MAX };
static const struct policy_facts BROKEN = { .critical_in_usec = UINT64_MAX };
static const struct policy_facts VETOED = { .reload_wanted = true, .vetoed = true,
					    .veto_index = 1, .n_added = 2,
					    .critical_in_usec = UINT64_MAX };

static struct policy_out step(struct policy_state *st, const struct policy_conf *pc,
			      enum policy_event ev, const struct policy_facts *f, uint64_t now)
{
	struct policy_out out;

	policy_step(st, pc, ev, f, now, 0, &out);
	return out;
}

#define expect_step(st, pc, ev, f, now, want_phase, want_action, what) do {              \
	struct policy_out o_ = step(st, pc, ev, f, now);                               \
	ok((st)->phase == (want_phase) && o_.action == (want_action),                   \
	   "%s: %s -> %s, %s", what, policy_event_to_string(ev),                        \
	   policy_phase_to_string(want_phase), policy_action_to_string(want_action));    \
	if ((st)->phase != (want_phase) || o_.action != (want_action))                  \
		printf("#   got %s, %s\n", policy_phase_to_string((st)->phase),         \
		       policy_action_to_string(o_.action));                              \
} while (0)

/* Walk a service from idle to a reload in flight. */
static void to_reloading(struct policy_state *st, const struct policy_conf *pc, uint64_t now)
{
	step(st, pc, EVENT_FILES_CHANGED, NULL, now);
	step(st, pc, EVENT_TIMER, NULL, now + SEC(2));
	step(st, pc, EVENT_PROBED, &STALE, now + SEC(3));
}

static void renewal_is_settled_reloaded_and_verified(void)
{
	struct policy_state st = {};
	struct policy_out o;

	o = step(&st, &PC, EVENT_FILES_CHANGED, NULL, T0);
	ok(st.phase == PHASE_SETTLING && o.action == DO_ARM_TIMER && o.timer_at == T0 + SEC(2),
	   "renewal: a file event arms the settle timer");
	o = step(&st, &PC, EVENT_FILES_CHANGED, NULL, T0 + SEC(1));
	ok(o.timer_at == T0 + SEC(3), "renewal: a second event restarts the settle time");
	expect_step(&st, &PC, EVENT_TIMER, NULL, T0 + SEC(3), PHASE_PROBING, DO_PROBE,
		    "renewal");
	o = step(&st, &PC, EVENT_PROBED, &STALE, T0 + SEC(4));
	ok(st.phase == PHASE_RELOADING && o.action == DO_RELOAD && o.note == NOTE_RELOAD_STARTED,
	   "renewal: a stale endpoint starts a reload, noted");
	expect_step(&st, &PC, EVENT_RELOAD_OK, NULL, T0 + SEC(5), PHASE_VERIFYING, DO_PROBE,
		    "renewal");
	o = step(&st, &PC, EVENT_PROBED, &STALE, T0 + SEC(6));
	ok(st.phase == PHASE_VERIFYING && o.action == DO_ARM_TIMER && o.timer_at == T0 + SEC(7),
	   "renewal: old workers still serve the old certificate: retry in a second");
	expect_step(&st, &PC, EVENT_TIMER, NULL, T0 + SEC(7), PHASE_VERIFYING, DO_PROBE,
		    "renewal");
	o = step(&st, &PC, EVENT_PROBED, &SERVED, T0 + SEC(8));
	ok(st.phase == PHASE_IDLE && o.note == NOTE_VERIFIED && st.last_reload_ok &&
	   st.last_verified == T0 + SEC(8) && o.outcome == OUTCOME_RELOAD_SUCCEEDED,
	   "renewal: the new certificate served is verified, counted as a good reload");
}

static void validation_runs_before_reload(void)
{
	struct policy_conf pc = PC;
	struct policy_state st = {};

	pc.has_check = true;
	step(&st, &pc, EVENT_FILES_CHANGED, NULL, T0);
	step(&st, &pc, EVENT_TIMER, NULL, T0 + SEC(2));
	expect_step(&st, &pc, EVENT_PROBED, &STALE, T0 + SEC(3), PHASE_VALIDATING, DO_RUN_CHECK,
		    "reload-check");
	expect_step(&st, &pc, EVENT_CHECK_OK, NULL, T0 + SEC(4), PHASE_RELOADING, DO_RELOAD,
		    "reload-check passed");
	st = (struct policy_state) {};
	to_reloading(&st, &pc, T0);
	{
		struct policy_out o = step(&st, &pc, EVENT_CHECK_FAILED, NULL, T0 + SEC(4));

		ok(st.phase == PHASE_BACKOFF && o.action == DO_ARM_TIMER &&
		   o.outcome == OUTCOME_NONE && st.n_reloads == 0,
		   "reload-check failed: back off; nothing was reloaded or counted");
	}
}

static void nothing_to_do(void)
{
	struct policy_state st = {};
	struct policy_conf check_only = PC;

	expect_step(&st, &PC, EVENT_TICK, NULL, T0, PHASE_PROBING, DO_PROBE, "periodic reconcile");
	expect_step(&st, &PC, EVENT_PROBED, &SERVED, T0 + SEC(1), PHASE_IDLE, DO_NOTHING,
		    "periodic reconcile, all served");
	step(&st, &PC, EVENT_TICK, NULL, T0);
	expect_step(&st, &PC, EVENT_PROBED, &BROKEN, T0 + SEC(1), PHASE_IDLE, DO_ARM_TIMER,
		    "disk invalid or unreachable: no reload, a look again soon");
	check_only.can_reload = false;
	step(&st, &check_only, EVENT_TICK, NULL, T0);
	expect_step(&st, &check_only, EVENT_PROBED, &STALE, T0 + SEC(1), PHASE_IDLE, DO_ARM_TIMER,
		    "no reload method configured: report only, and look again soon");
}

static void failures_back_off_then_pause(void)
{
	struct policy_state st = {};
	struct policy_out o;

	to_reloading(&st, &PC, T0);
	o = step(&st, &PC, EVENT_RELOAD_FAILED, NULL, T0 + SEC(4));
	ok(st.phase == PHASE_BACKOFF && o.timer_at == T0 + SEC(34) && st.failures == 1 &&
	   o.note == NOTE_RELOAD_FAILED && o.outcome == OUTCOME_RELOAD_FAILED,
	   "failure 1: back off 30 s, counted as a failed reload");
	o = step(&st, &PC, EVENT_FILES_CHANGED, NULL, T0 + SEC(10));
	step(&st, &PC, EVENT_TIMER, NULL, T0 + SEC(12));
	o = step(&st, &PC, EVENT_PROBED, &STALE, T0 + SEC(13));
	ok(st.phase == PHASE_BACKOFF && o.timer_at == T0 + SEC(34),
	   "failure 1: a file event during back-off does not reload early");
	step(&st, &PC, EVENT_TIMER, NULL, T0 + SEC(34));
	step(&st, &PC, EVENT_PROBED, &STALE, T0 + SEC(35));
	step(&st, &PC, EVENT_RELOAD_OK, NULL, T0 + SEC(36));
	o = step(&st, &PC, EVENT_PROBED, &STALE, T0 + SEC(97));
	ok(st.phase == PHASE_BACKOFF && st.failures == 2 && o.timer_at == T0 + SEC(157),
	   "failure 2: not served by the verify deadline; back off doubles to 60 s");
	step(&st, &PC, EVENT_TIMER, NULL, T0 + SEC(157));
	step(&st, &PC, EVENT_PROBED, &STALE, T0 + SEC(158));
	o = step(&st, &PC, EVENT_RELOAD_FAILED, NULL, T0 + SEC(159));
	ok(st.phase == PHASE_IDLE && st.paused && o.note == NOTE_PAUSED && o.action == DO_NOTHING &&
	   o.outcome == OUTCOME_RELOAD_FAILED && strcmp(policy_display_phase(&st), "paused") == 0,
	   "failure 3 = max-failures: paused, shown as paused, counted as a failed reload");
	step(&st, &PC, EVENT_TICK, NULL, T0 + SEC(3600));
	expect_step(&st, &PC, EVENT_PROBED, &STALE, T0 + SEC(3601), PHASE_IDLE, DO_ARM_TIMER,
		    "paused: still stale, no reload (a look later may find it fixed by hand)");
	ok(st.paused, "paused: the pause stays");
	o = step(&st, &PC, EVENT_RESUME, NULL, T0 + SEC(3700));
	ok(st.phase == PHASE_PROBING && o.action == DO_PROBE && !st.paused && st.failures == 0 &&
	   o.note == NOTE_RESUMED, "resume lifts the pause and reconciles at once");
	expect_step(&st, &PC, EVENT_PROBED, &STALE, T0 + SEC(3701), PHASE_RELOADING, DO_RELOAD,
		    "after resume the reload is tried again");
}

static void verified_match_clears_pause(void)
{
	struct policy_state st = { .phase = PHASE_IDLE, .paused = true, .failures = 3 };
	struct policy_out o;

	step(&st, &PC, EVENT_TICK, NULL, T0);
	o = step(&st, &PC, EVENT_PROBED, &SERVED, T0 + SEC(1));
	ok(st.phase == PHASE_IDLE && !st.paused && st.failures == 0 &&
	   o.note == NOTE_PAUSE_CLEARED,
	   "a verified match (the admin restarted the service) clears the pause");
}

static void reloads_are_rate_limited(void)
{
	struct policy_state st = {};
	struct policy_out o;
	uint64_t t = T0;

	for (int i = 0; i < 4; i++, t += SEC(600)) {
		to_reloading(&st, &PC, t);
		step(&st, &PC, EVENT_RELOAD_OK, NULL, t + SEC(4));
		step(&st, &PC, EVENT_PROBED, &SERVED, t + SEC(5));
	}
	step(&st, &PC, EVENT_FILES_CHANGED, NULL, t);
	step(&st, &PC, EVENT_TIMER, NULL, t + SEC(2));
	o = step(&st, &PC, EVENT_PROBED, &STALE, t + SEC(3));
	ok(st.phase == PHASE_WAITING && o.note == NOTE_RATE_LIMITED &&
	   o.timer_at == T0 + SEC(3) + SEC(3600),
	   "the fifth reload within an hour waits until the first is an hour old");
	step(&st, &PC, EVENT_TIMER, NULL, o.timer_at);
	expect_step(&st, &PC, EVENT_PROBED, &STALE, o.timer_at + SEC(1), PHASE_RELOADING,
		    DO_RELOAD, "after the hour the reload goes ahead");
}

static void reload_window(void)
{
	struct policy_conf pc = PC;
	struct policy_state st = {};
	struct policy_facts soon = STALE;
	struct policy_out o;

	pc.window_start = 2 * 60;   /* 02:00-05:00 */
	pc.window_end = 5 * 60;
	step(&st, &pc, EVENT_FILES_CHANGED, NULL, T0);
	step(&st, &pc, EVENT_TIMER, NULL, T0 + SEC(2));
	policy_step(&st, &pc, EVENT_PROBED, &STALE, T0 + SEC(3), 23 * 60, &o);
	ok(st.phase == PHASE_WAITING && o.note == NOTE_OUTSIDE_WINDOW &&
	   o.timer_at == T0 + SEC(3) + SEC(3 * 3600),
	   "at 23:00 a reload waits three hours for the 02:00 window");
	step(&st, &pc, EVENT_TIMER, NULL, o.timer_at);
	policy_step(&st, &pc, EVENT_PROBED, &STALE, o.timer_at + SEC(1), 2 * 60, &o);
	ok(st.phase == PHASE_RELOADING && o.action == DO_RELOAD, "inside the window it reloads");

	st = (struct policy_state) {};
	soon.critical_in_usec = SEC(3600);
	step(&st, &pc, EVENT_FILES_CHANGED, NULL, T0);
	step(&st, &pc, EVENT_TIMER, NULL, T0 + SEC(2));
	policy_step(&st, &pc, EVENT_PROBED, &soon, T0 + SEC(3), 23 * 60, &o);
	ok(st.phase == PHASE_RELOADING && o.action == DO_RELOAD,
	   "the window is overridden when the served certificate turns critical first");

	pc.window_start = 22 * 60;  /* 22:00-04:00 wraps midnight */
	pc.window_end = 4 * 60;
	st = (struct policy_state) {};
	step(&st, &pc, EVENT_FILES_CHANGED, NULL, T0);
	step(&st, &pc, EVENT_TIMER, NULL, T0 + SEC(2));
	policy_step(&st, &pc, EVENT_PROBED, &STALE, T0 + SEC(3), 1 * 60, &o);
	ok(st.phase == PHASE_RELOADING, "a window across midnight holds 01:00");
}

static void files_change_mid_step(void)
{
	struct policy_state st = {};
	struct policy_conf pc = PC;

	step(&st, &PC, EVENT_TICK, NULL, T0);
	step(&st, &PC, EVENT_FILES_CHANGED, NULL, T0 + SEC(1));
	expect_step(&st, &PC, EVENT_PROBED, &STALE, T0 + SEC(2), PHASE_SETTLING, DO_ARM_TIMER,
		    "files changed during a probe: settle again rather than act on old facts");

	pc.has_check = true;
	st = (struct policy_state) {};
	to_reloading(&st, &pc, T0);
	step(&st, &pc, EVENT_FILES_CHANGED, NULL, T0 + SEC(4));
	expect_step(&st, &pc, EVENT_CHECK_OK, NULL, T0 + SEC(5), PHASE_SETTLING, DO_ARM_TIMER,
		    "files changed during reload-check: no reload of unchecked files");

	st = (struct policy_state) {};
	to_reloading(&st, &PC, T0);
	expect_step(&st, &PC, EVENT_FILES_CHANGED, NULL, T0 + SEC(4), PHASE_RELOADING, DO_NOTHING,
		    "files changed during a reload: the reload finishes");
	step(&st, &PC, EVENT_RELOAD_OK, NULL, T0 + SEC(5));
	expect_step(&st, &PC, EVENT_PROBED, &SERVED, T0 + SEC(6), PHASE_SETTLING, DO_ARM_TIMER,
		    "... and once verified the new change is looked at");

	st = (struct policy_state) {};
	to_reloading(&st, &PC, T0);
	step(&st, &PC, EVENT_RELOAD_OK, NULL, T0 + SEC(4));
	expect_step(&st, &PC, EVENT_FILES_CHANGED, NULL, T0 + SEC(5), PHASE_VERIFYING, DO_NOTHING,
		    "files touched during verification: the verification goes on");
	{
		struct policy_out o = step(&st, &PC, EVENT_PROBED, &SERVED, T0 + SEC(6));

		ok(o.note == NOTE_VERIFIED && st.last_reload_ok && st.phase == PHASE_SETTLING,
		   "... the reload is verified, then the change is looked at");
	}
}

static void stale_events_are_ignored(void)
{
	struct policy_state st = {};

	expect_step(&st, &PC, EVENT_RELOAD_OK, NULL, T0, PHASE_IDLE, DO_NOTHING,
		    "a reload result with no reload running");
	expect_step(&st, &PC, EVENT_PROBED, &STALE, T0, PHASE_IDLE, DO_NOTHING,
		    "a probe result with no probe running");
	expect_step(&st, &PC, EVENT_TIMER, NULL, T0, PHASE_PROBING, DO_PROBE,
		    "a timer at rest is a look again (it costs one pass, never a reload)");
}

/*
 * Every cell of the table, from a state in that phase, with a stale endpoint
 * as the facts: where the service goes and what it asks for.  A cell added
 * to the machine without a row here fails.
 */
static void every_cell(void)
{
	static const struct {
		enum policy_phase phase;
		enum policy_action action;
	} want[_PHASE_MAX][_EVENT_MAX] = {
#define N(p) { p, DO_NOTHING }
#define A(p, a) { p, a }
		[PHASE_IDLE] = {
			A(PHASE_SETTLING, DO_ARM_TIMER), A(PHASE_PROBING, DO_PROBE),
			A(PHASE_PROBING, DO_PROBE), N(PHASE_IDLE), N(PHASE_IDLE), N(PHASE_IDLE),
			N(PHASE_IDLE), N(PHASE_IDLE), A(PHASE_PROBING, DO_PROBE),
			A(PHASE_PROBING, DO_PROBE) },
		[PHASE_SETTLING] = {
			A(PHASE_SETTLING, DO_ARM_TIMER), A(PHASE_PROBING, DO_PROBE),
			N(PHASE_SETTLING), N(PHASE_SETTLING), N(PHASE_SETTLING), N(PHASE_SETTLING),
			N(PHASE_SETTLING), N(PHASE_SETTLING), A(PHASE_PROBING, DO_PROBE),
			A(PHASE_PROBING, DO_PROBE) },
		[PHASE_PROBING] = {
			N(PHASE_PROBING), N(PHASE_PROBING), N(PHASE_PROBING),
			A(PHASE_RELOADING, DO_RELOAD), N(PHASE_PROBING), N(PHASE_PROBING),
			N(PHASE_PROBING), N(PHASE_PROBING), N(PHASE_PROBING), N(PHASE_PROBING) },
		[PHASE_VALIDATING] = {
			N(PHASE_VALIDATING), N(PHASE_VALIDATING), N(PHASE_VALIDATING),
			N(PHASE_VALIDATING), A(PHASE_RELOADING, DO_RELOAD),
			A(PHASE_BACKOFF, DO_ARM_TIMER), N(PHASE_VALIDATING), N(PHASE_VALIDATING),
			N(PHASE_VALIDATING), N(PHASE_VALIDATING) },
		[PHASE_RELOADING] = {
			N(PHASE_RELOADING), N(PHASE_RELOADING), N(PHASE_RELOADING),
			N(PHASE_RELOADING), N(PHASE_RELOADING), N(PHASE_RELOADING),
			A(PHASE_VERIFYING, DO_PROBE), A(PHASE_BACKOFF, DO_ARM_TIMER),
			N(PHASE_RELOADING), N(PHASE_RELOADING) },
		[PHASE_VERIFYING] = {
			N(PHASE_VERIFYING), A(PHASE_VERIFYING, DO_PROBE), N(PHASE_VERIFYING),
			A(PHASE_VERIFYING, DO_ARM_TIMER), N(PHASE_VERIFYING), N(PHASE_VERIFYING),
			N(PHASE_VERIFYING), N(PHASE_VERIFYING), N(PHASE_VERIFYING),
			N(PHASE_VERIFYING) },
		[PHASE_BACKOFF] = {
			A(PHASE_SETTLING, DO_ARM_TIMER), A(PHASE_PROBING, DO_PROBE),
			N(PHASE_BACKOFF), N(PHASE_BACKOFF), N(PHASE_BACKOFF), N(PHASE_BACKOFF),
			N(PHASE_BACKOFF), N(PHASE_BACKOFF), A(PHASE_PROBING, DO_PROBE),
			A(PHASE_PROBING, DO_PROBE) },
		[PHASE_WAITING] = {
			A(PHASE_SETTLING, DO_ARM_TIMER), A(PHASE_PROBING, DO_PROBE),
			N(PHASE_WAITING), N(PHASE_WAITING), N(PHASE_WAITING), N(PHASE_WAITING),
			N(PHASE_WAITING), N(PHASE_WAITING), A(PHASE_PROBING, DO_PROBE),
			A(PHASE_PROBING, DO_PROBE) },
#undef N
#undef A
	};
	unsigned wrong = 0;

	/* Vetoed facts change one cell: a pass that wants a reload rests instead. */
	for (int v = 0; v < 2; v++)
	for (int p = 0; p < _PHASE_MAX; p++)
		for (int e = 0; e < _EVENT_MAX; e++) {
			struct policy_state st = {
				.phase = p,
				.verify_deadline = T0 + SEC(60),
				.next_attempt = p == PHASE_BACKOFF ? T0 + SEC(30) : 0,
			};
			struct policy_out o;
			bool held = v && p == PHASE_PROBING && e == EVENT_PROBED;
			enum policy_phase want_phase = held ? PHASE_IDLE : want[p][e].phase;
			enum policy_action want_action = held ? DO_ARM_TIMER : want[p][e].action;

			policy_step(&st, &PC, e, v ? &VETOED : &STALE, T0, 0, &o);
			if (st.phase == want_phase && o.action == want_action &&
			    (o.action != DO_ARM_TIMER || o.timer_at > T0))
				continue;
			wrong++;
			printf("# %s x %s%s: got %s, %s; want %s, %s\n", policy_phase_to_string(p),
			       policy_event_to_string(e), v ? " (vetoed)" : "",
			       policy_phase_to_string(st.phase), policy_action_to_string(o.action),
			       policy_phase_to_string(want_phase), policy_action_to_string(want_action));
		}
	ok(wrong == 0, "all %d cells of the table (phase x event) do what the table says, with "
	   "facts that want a reload and with the same facts vetoed", _PHASE_MAX * _EVENT_MAX);
}

/* A reload counts once: succeeded or failed only where a reload ran. */
static void outcomes_only_after_a_reload(void)
{
	unsigned wrong = 0;

	for (int p = 0; p < _PHASE_MAX; p++)
		for (int e = 0; e < _EVENT_MAX; e++)
			for (int f = 0; f < 2; f++) {
				struct policy_state st = { .phase = p };
				struct policy_out o;

				policy_step(&st, &PC, e, f ? &SERVED : &STALE, T0, 0, &o);
				if (o.outcome != OUTCOME_NONE && p != PHASE_RELOADING &&
				    p != PHASE_VERIFYING)
					wrong++;
			}
	ok(wrong == 0, "only a reload or its verification ends with a reload outcome");
}

static void busy_and_resume(void)
{
	struct policy_state st = { .paused = true, .failures = 2, .next_attempt = T0 };
	bool busy_ok = true;

	for (int p = 0; p < _PHASE_MAX; p++) {
		st.phase = p;
		busy_ok = busy_ok && policy_busy(&st) == (p == PHASE_VALIDATING ||
							  p == PHASE_RELOADING ||
							  p == PHASE_VERIFYING);
	}
	ok(busy_ok, "busy: a check, a reload or a verification in flight");
	policy_resume(&st);
	ok(!st.paused && st.failures == 0 && st.next_attempt == 0,
	   "policy_resume lifts the pause and forgets failures and back-off");
}

#define MSEC(x) ((uint64_t)(x) * USEC_PER_MSEC)

/* The shipped schedule: 3 passes over 200 ms; retries from 20 ms, doubling to 1 s. */
static const struct policy_conf HOLD = {
	.settle_usec = SEC(1),
	.verify_timeout_usec = SEC(60),
	.verify_retry_usec = MSEC(20),
	.verify_retry_max_usec = SEC(1),
	.verify_passes = 3,
	.verify_stable_usec = MSEC(200),
	.max_failures = 3,
	.max_reloads_per_hour = 4,
	.window_start = -1,
	.window_end = -1,
	.can_reload = true,
	.recheck_usec = SEC(1),
	.recheck_max_usec = SEC(300),
};

/*
 * One matching pass is not a verified reload: old workers still take
 * connections.  Verified after three passes in a row over 200 ms; a pass
 * that sees the old certificate starts the count again.
 */
static void verification_holds_over_a_window(void)
{
	struct policy_state st = {};
	struct policy_out o;
	uint64_t t = T0;

	to_reloading(&st, &HOLD, t);
	o = step(&st, &HOLD, EVENT_RELOAD_OK, NULL, t += MSEC(50));
	ok(o.action == DO_PROBE, "verify: the first pass comes at once after the reload");
	o = step(&st, &HOLD, EVENT_PROBED, &STALE, t += MSEC(5));
	ok(o.action == DO_ARM_TIMER && o.timer_at == t + MSEC(20),
	   "verify: not served yet: retry after 20 ms");
	step(&st, &HOLD, EVENT_TIMER, NULL, o.timer_at);
	o = step(&st, &HOLD, EVENT_PROBED, &STALE, t += MSEC(25));
	ok(o.timer_at == t + MSEC(40), "verify: then after 40 ms (the retries back off)");
	step(&st, &HOLD, EVENT_TIMER, NULL, o.timer_at);
	o = step(&st, &HOLD, EVENT_PROBED, &SERVED, t += MSEC(45));
	ok(o.note == NOTE_NONE && o.action == DO_ARM_TIMER && o.timer_at == t + MSEC(100),
	   "verify: the first match is not yet a verification; the next pass in 100 ms");
	step(&st, &HOLD, EVENT_TIMER, NULL, o.timer_at);
	o = step(&st, &HOLD, EVENT_PROBED, &STALE, t += MSEC(100));
	ok(o.note == NOTE_NONE && st.verify_matched == 0 && st.phase == PHASE_VERIFYING,
	   "verify: an old worker answers the next connection: the count starts again");
	for (int i = 0; i < 3; i++) {
		step(&st, &HOLD, EVENT_TIMER, NULL, t += MSEC(i ? 100 : 80));
		o = step(&st, &HOLD, EVENT_PROBED, &SERVED, t);
	}
	ok(o.note == NOTE_VERIFIED && o.outcome == OUTCOME_RELOAD_SUCCEEDED &&
	   st.phase == PHASE_IDLE, "verify: three matching passes over 200 ms verify the reload");
}

/*
 * A renewal of another lineage of the service arrives during the
 * verification: the reload is not failed for it; the new files are looked
 * at once settled, and the reload verified then.
 */
static void renewal_during_verification_retargets(void)
{
	struct policy_state st = {};
	struct policy_out o;

	to_reloading(&st, &HOLD, T0);
	step(&st, &HOLD, EVENT_RELOAD_OK, NULL, T0 + SEC(4));
	step(&st, &HOLD, EVENT_FILES_CHANGED, NULL, T0 + SEC(5));
	o = step(&st, &HOLD, EVENT_PROBED, &STALE, T0 + SEC(6));
	ok(st.phase == PHASE_SETTLING && o.note == NOTE_RETARGETED && o.outcome == OUTCOME_NONE &&
	   st.failures == 0, "retarget: files changed and not served: settle and look again, no failure");
	step(&st, &HOLD, EVENT_TIMER, NULL, T0 + SEC(7));
	o = step(&st, &HOLD, EVENT_PROBED, &STALE, T0 + SEC(8));
	ok(st.phase == PHASE_RELOADING && o.action == DO_RELOAD,
	   "retarget: what is on disk now is reloaded");
	st = (struct policy_state) {};
	to_reloading(&st, &HOLD, T0);
	step(&st, &HOLD, EVENT_RELOAD_OK, NULL, T0 + SEC(4));
	step(&st, &HOLD, EVENT_FILES_CHANGED, NULL, T0 + SEC(5));
	step(&st, &HOLD, EVENT_PROBED, &STALE, T0 + SEC(6));
	step(&st, &HOLD, EVENT_TIMER, NULL, T0 + SEC(7));
	o = step(&st, &HOLD, EVENT_PROBED, &SERVED, T0 + SEC(8));
	ok(o.note == NOTE_VERIFIED && o.outcome == OUTCOME_RELOAD_SUCCEEDED && st.phase == PHASE_IDLE,
	   "retarget: served by then: the reload is verified and counted once");
}

/* Not served and nothing to do about it: look again at 1, 2, 4 ... s, up to 5 min. */
static void not_served_is_looked_at_again(void)
{
	struct policy_conf pc = HOLD;
	struct policy_state st = {};
	struct policy_out o;
	uint64_t t = T0, want = SEC(1);
	bool schedule = true;

	pc.can_reload = false;   /* a server that loads its renewal by itself */
	step(&st, &pc, EVENT_TICK, NULL, t);
	for (int i = 0; i < 12; i++) {
		o = step(&st, &pc, EVENT_PROBED, &STALE, t += MSEC(10));
		schedule = schedule && o.action == DO_ARM_TIMER && o.timer_at == t + want;
		want = want * 2 > SEC(300) ? SEC(300) : want * 2;
		step(&st, &pc, EVENT_TIMER, NULL, t = o.timer_at);
	}
	ok(schedule, "recheck: a stale endpoint is looked at again after 1, 2, 4, ... s, "
	   "at most every 5 min");
	o = step(&st, &pc, EVENT_PROBED, &SERVED, t += MSEC(10));
	ok(o.action == DO_NOTHING && st.recheck == 0, "recheck: once served, no more looks");
	step(&st, &pc, EVENT_TICK, NULL, t);
	o = step(&st, &pc, EVENT_PROBED, &STALE, t += MSEC(10));
	ok(o.timer_at == t + SEC(1), "recheck: the next time it starts again from 1 s");
}

/*
 * A reload held for DANE is no reload wanted: at rest, looking again no
 * later than the hint (the records' TTL), while the doubling goes on
 * beneath it.
 */
static void a_dane_hold_looks_again_by_the_hint(void)
{
	struct policy_conf pc = HOLD;
	struct policy_state st = {};
	struct policy_facts held = { .critical_in_usec = UINT64_MAX, .recheck_in_usec = SEC(90) };
	struct policy_out o;
	uint64_t t = T0;
	bool by_hint = true;

	pc.recheck_usec = SEC(60);
	pc.recheck_max_usec = SEC(3600);
	step(&st, &pc, EVENT_TICK, NULL, t);
	o = step(&st, &pc, EVENT_PROBED, &held, t += MSEC(10));
	ok(st.phase == PHASE_IDLE && o.action == DO_ARM_TIMER && o.timer_at == t + SEC(60),
	   "dane hold: at rest, its own schedule when that is sooner than the hint");
	for (int i = 0; i < 4; i++) {
		step(&st, &pc, EVENT_TIMER, NULL, t = o.timer_at);
		o = step(&st, &pc, EVENT_PROBED, &held, t += MSEC(10));
		by_hint = by_hint && o.action == DO_ARM_TIMER && o.timer_at == t + SEC(90) &&
			  st.phase == PHASE_IDLE;
	}
	ok(by_hint, "dane hold: then every 90 s, the hint, however long the doubling grew");
}

/* certwatch sync: look now, without the settle time. */
static void sync_looks_now(void)
{
	struct policy_state st = {};
	struct policy_out o;

	step(&st, &HOLD, EVENT_FILES_CHANGED, NULL, T0);
	o = step(&st, &HOLD, EVENT_SYNC, NULL, T0 + MSEC(1));
	ok(st.phase == PHASE_PROBING && o.action == DO_PROBE,
	   "sync: while settling, look now");
	o = step(&st, &HOLD, EVENT_SYNC, NULL, T0 + MSEC(2));
	ok(st.phase == PHASE_PROBING && o.action == DO_NOTHING && st.dirty,
	   "sync: during a pass, look again once it is over");
}

/*
 * One endpoint renewed, another's pair broken: no reload, said once, looked
 * at again; once the broken pair is fixed, the reload goes ahead.
 */
static void a_broken_pair_vetoes_the_reload(void)
{
	struct policy_conf pc = PC;
	struct policy_state st = {};
	struct policy_out o;

	pc.has_check = true;
	step(&st, &pc, EVENT_FILES_CHANGED, NULL, T0);
	step(&st, &pc, EVENT_TIMER, NULL, T0 + SEC(2));
	o = step(&st, &pc, EVENT_PROBED, &VETOED, T0 + SEC(3));
	ok(st.phase == PHASE_IDLE && o.action == DO_ARM_TIMER && o.note == NOTE_VETOED &&
	   o.timer_at == T0 + SEC(4) && st.n_reloads == 0,
	   "veto: no reload-check, no reload; noted; looked at again in a second");
	step(&st, &pc, EVENT_TIMER, NULL, T0 + SEC(4));
	o = step(&st, &pc, EVENT_PROBED, &VETOED, T0 + SEC(5));
	ok(st.phase == PHASE_IDLE && o.action == DO_ARM_TIMER && o.note == NOTE_NONE &&
	   o.timer_at == T0 + SEC(7), "veto: still held, not noted again, looked at later");
	step(&st, &pc, EVENT_FILES_CHANGED, NULL, T0 + SEC(6));
	step(&st, &pc, EVENT_TIMER, NULL, T0 + SEC(8));
	expect_step(&st, &pc, EVENT_PROBED, &STALE, T0 + SEC(9), PHASE_VALIDATING, DO_RUN_CHECK,
		    "veto lifted: the pair fixed, the reload goes ahead");
	st = (struct policy_state) { .phase = PHASE_PROBING, .paused = true };
	o = step(&st, &pc, EVENT_PROBED, &VETOED, T0);
	ok(o.note == NOTE_NONE, "veto: a paused service has nothing to hold, nothing is said");
}

/*
 * Postfix serves a renewal from an smtpd started after it while the busy
 * older ones keep the old pair: a pass that sees the renewal served has
 * not seen them, so a service that can be reloaded is reloaded anyway.
 */
static void a_renewal_served_early_is_reloaded_all_the_same(void)
{
	struct policy_facts early = SERVED;
	struct policy_conf pc = PC;
	struct policy_state st = {};
	struct policy_out o;

	early.renewal_unloaded = true;
	step(&st, &PC, EVENT_FILES_CHANGED, NULL, T0);
	step(&st, &PC, EVENT_TIMER, NULL, T0 + SEC(2));
	o = step(&st, &PC, EVENT_PROBED, &early, T0 + SEC(3));
	ok(st.phase == PHASE_RELOADING && o.action == DO_RELOAD && o.note == NOTE_RELOAD_STARTED,
	   "renewal served on one connection before the reload: reloaded all the same");
	expect_step(&st, &PC, EVENT_RELOAD_OK, NULL, T0 + SEC(4), PHASE_VERIFYING, DO_PROBE,
		    "renewal served early");
	pc.can_reload = false;
	st = (struct policy_state) {};
	step(&st, &pc, EVENT_FILES_CHANGED, NULL, T0);
	step(&st, &pc, EVENT_TIMER, NULL, T0 + SEC(2));
	o = step(&st, &pc, EVENT_PROBED, &early, T0 + SEC(3));
	ok(st.phase == PHASE_IDLE && o.action == DO_NOTHING,
	   "renewal served early, no reload configured (a server that reloads itself): at rest");
}

static void every_enum_has_a_name(void)
{
	bool all = true;

	for (int i = 0; i < _PHASE_MAX; i++)
		all = all && strcmp(policy_phase_to_string(i), "?") != 0;
	for (int i = 0; i < _EVENT_MAX; i++)
		all = all && strcmp(policy_event_to_string(i), "?") != 0;
	for (int i = 0; i < _DO_MAX; i++)
		all = all && strcmp(policy_action_to_string(i), "?") != 0;
	for (int i = 0; i < _NOTE_MAX; i++)
		all = all && strcmp(policy_note_to_string(i), "?") != 0;
	ok(all, "every phase, event, action and note has a printable name");
}

int main(void)
{
	renewal_is_settled_reloaded_and_verified();
	validation_runs_before_reload();
	nothing_to_do();
	failures_back_off_then_pause();
	verified_match_clears_pause();
	reloads_are_rate_limited();
	reload_window();
	files_change_mid_step();
	stale_events_are_ignored();
	verification_holds_over_a_window();
	renewal_during_verification_retargets();
	not_served_is_looked_at_again();
	a_dane_hold_looks_again_by_the_hint();
	sync_looks_now();
	a_broken_pair_vetoes_the_reload();
	a_renewal_served_early_is_reloaded_all_the_same();
	every_cell();
	outcomes_only_after_a_reload();
	busy_and_resume();
	every_enum_has_a_name();
	return tap_done();
}
