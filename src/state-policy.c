/*
 * state-policy.c - a service's policy across restarts and reboots; see
 * state.h.
 *
 * The policy counts time on CLOCK_BOOTTIME, which the wall clock cannot
 * step.  Within one boot the file's values are used as they are, so
 * setting the clock back two hours during a back-off changes nothing.
 * Across a reboot the only bridge is the wall clock: the time since the
 * file was written is taken from it, but never negative, and what it
 * yields is bounded (a back-off at most POLICY_BACKOFF_MAX_USEC, reloads
 * older than an hour forgotten), so a clock that was wrong at either end
 * costs at most one bounded wait.
 */
#include "config.h"

#include <string.h>

#include <systemd/sd-id128.h>

#include "state.h"
#include "util.h"

#define USEC_PER_HOUR (3600 * USEC_PER_SEC)

void state_clock_now(struct state_clock *ret)
{
	sd_id128_t boot;

	memset(ret, 0, sizeof(*ret));
	if (sd_id128_get_boot(&boot) >= 0)
		sd_id128_to_string(boot, ret->boot_id);
	ret->boottime = now_boot_usec();
	ret->realtime = now_realtime_usec();
}

/*
 * A CLOCK_BOOTTIME moment as wall-clock time, for people, to the nearest
 * whole second: both clocks are read to the microsecond, so the same
 * moment comes out the same at every writing (a record that did not change
 * is not appended to the state file again), and a time read back at the
 * next start and written again keeps its second, which rounding down
 * would lose whenever the two clocks' readings fell a microsecond short;
 * but for a step of the wall clock.
 */
static uint64_t to_realtime(uint64_t t, const struct state_clock *now)
{
	uint64_t age = now->boottime > t ? now->boottime - t : 0;
	uint64_t r = now->realtime > age ? now->realtime - age : 0;

	if (t == 0)
		return 0;
	r = (r + USEC_PER_SEC / 2) / USEC_PER_SEC * USEC_PER_SEC;
	return r ? r : 1;
}

/* A moment age microseconds before now, on now_boot_usec()'s clock (1: long before). */
static uint64_t boottime_ago(uint64_t age, const struct state_clock *now)
{
	return now->boottime > age ? now->boottime - age : 1;
}

void state_service_from_policy(struct state_service *r, const struct policy_state *ps,
			       const struct state_clock *now)
{
	unsigned kept = ps->n_reloads < POLICY_MAX_RELOADS_PER_HOUR ?
		ps->n_reloads : POLICY_MAX_RELOADS_PER_HOUR;

	snprintf(r->phase, sizeof(r->phase), "%s", policy_display_phase(ps));
	r->failures = ps->failures;
	r->paused = ps->paused;
	r->next_attempt = ps->next_attempt;
	r->n_reloads = kept;
	for (unsigned i = 0; i < kept; i++)
		r->reloads[i] = ps->reloads[(ps->n_reloads - kept + i) % POLICY_MAX_RELOADS_PER_HOUR];
	r->last_reload = to_realtime(ps->last_reload, now);
	r->last_reload_ok = ps->last_reload_ok;
	r->last_verified = to_realtime(ps->last_verified, now);
}

void state_service_to_policy(const struct state_service *r, const struct state_clock *written,
			     const struct state_clock *now, struct policy_state *ret)
{
	bool same_boot = written->boot_id[0] && strcmp(written->boot_id, now->boot_id) == 0;
	/* A file without clocks (certwatch 0.1) kept wall-clock times. */
	struct state_clock w = written->boot_id[0] ? *written :
		(struct state_clock) { .boottime = now->realtime, .realtime = now->realtime };
	uint64_t elapsed;

	/* Since the writing: exact within a boot, else the wall clock's word, never negative. */
	if (same_boot)
		elapsed = now->boottime > w.boottime ? now->boottime - w.boottime : 0;
	else
		elapsed = now->realtime > w.realtime ? now->realtime - w.realtime : 0;
	memset(ret, 0, sizeof(*ret));
	ret->phase = PHASE_IDLE;   /* a fresh start decides from scratch */
	ret->failures = r->failures;
	ret->paused = r->paused;
	ret->last_reload_ok = r->last_reload_ok;
	for (unsigned i = 0; i < r->n_reloads && i < POLICY_MAX_RELOADS_PER_HOUR; i++) {
		uint64_t age = elapsed + (w.boottime > r->reloads[i] ? w.boottime - r->reloads[i] : 0);

		if (age < USEC_PER_HOUR)
			ret->reloads[ret->n_reloads++] = boottime_ago(age, now);
	}
	if (r->next_attempt > w.boottime) {
		uint64_t left = r->next_attempt - w.boottime;

		if (left > POLICY_BACKOFF_MAX_USEC)
			left = POLICY_BACKOFF_MAX_USEC;
		ret->next_attempt = left > elapsed ? now->boottime + (left - elapsed) : 0;
	}
	if (r->last_reload)
		ret->last_reload = boottime_ago(now->realtime > r->last_reload ?
						now->realtime - r->last_reload : 0, now);
	if (r->last_verified)
		ret->last_verified = boottime_ago(now->realtime > r->last_verified ?
						  now->realtime - r->last_verified : 0, now);
}
