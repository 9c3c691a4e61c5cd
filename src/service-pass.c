/*
 * service-pass.c - a reconcile pass of one service: its endpoints in
 * focus probed (and their TLSA records looked up) a window at a time, each
 * judged as soon as both have ended, the verdicts summed up into the
 * policy's facts in the endpoints' order; see service-int.h.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "reconcile.h"
#include "saved-view.h"
#include "service-int.h"

/*
 * Endpoints of a pass under way at once: more than the probe pool runs,
 * so that it never waits, and few enough that the pairs read for them
 * (aimed, not judged yet) are a window, not the whole host.
 */
#define PASS_WINDOW        256

/*
 * Why the reload the last pass wanted must wait: the endpoint whose pair
 * must not be loaded, and what is wrong with it.  Said in the log (once)
 * and kept for status.
 */
static void describe_held(struct service *s)
{
	const struct check_item *it;

	s->held[0] = '\0';
	/* What the policy holds back (policy.c): a reload wanted, or a renewal not yet loaded. */
	if (!s->facts.vetoed || !policy_facts_want_reload(&s->facts) ||
	    s->facts.veto_index >= s->n_eps)
		return;
	it = s->eps[s->facts.veto_index].it;
	/* A valid pair holds a reload back only for its chain (reconcile.c's chain_breaks()). */
	if (it->disk.status == X509_VALID)
		snprintf(s->held, sizeof(s->held), "%s: the chain on disk does not lead to a trusted "
			 "root (%.100s): no reload of %s until it does", it->endpoint,
			 msg_text(it->disk.trust_error), s->conf->name);
	else
		snprintf(s->held, sizeof(s->held), "%s: the pair on disk is not valid (%.150s): no "
			 "reload of %s until it is", it->endpoint, msg_text(it->disk.detail),
			 s->conf->name);
}

void service_pass_forget_pairs(struct service *s)
{
	for (size_t k = 0; k < s->focus.n_in; k++)
		check_item_forget_pair(s->eps[s->focus.list[k]].it);
}

/* Logs each endpoint's verdict where it differs from the one logged last (service-int.h). */
void service_pass_log_verdicts(struct service *s)
{
	for (size_t k = 0; k < s->focus.n_in; k++) {
		struct endpoint_ref *e = &s->eps[s->focus.list[k]];
		const char *now = verdict_state_to_string(e->it->verdict.state);

		if (!check_item_judged(e->it))
			continue;   /* no verdict to say: its probe could not start */
		event_verdict_changed(s->conf->name, e->it, e->state[0] ? e->state : NULL);
		snprintf(e->state, sizeof(e->state), "%s", now);
	}
}

/*
 * Logs a new certificate on disk and remembers it until a reload starts:
 * a pass that sees it served already may have met a process started after
 * the renewal while older ones still hold the old pair (policy.h).
 */
static void note_renewal(struct service *s, struct endpoint_ref *e)
{
	char seen[sizeof(e->disk.sha256)];

	memcpy(seen, e->disk.sha256, sizeof(seen));
	event_disk_changed(s->conf->name, e->it, &e->disk);
	if (!seen[0] || strcmp(seen, e->disk.sha256) == 0)
		return;
	e->renewed = true;
	if (s->pc.can_reload && e->it->verdict.in_sync)
		log_info("%s/%s: the renewal is served on a fresh connection already; it is "
			 "reloaded all the same: processes started before it may still hold the old pair",
			 s->conf->name, e->it->endpoint);
}

/*
 * Judges every endpoint in focus, logs a new certificate on disk at once,
 * sums up the facts.  The verdicts are logged when they differ from the
 * last ones logged, but not pass by pass during a verification: old
 * processes answering every other connection would make them flap; the
 * verification's end logs them.
 */
/* The sum of the endpoints not in focus, made when the focus changed (focus.h). */
static void sum_unseen(struct service *s)
{
	struct focus *f = &s->focus;

	if (f->unseen_known)
		return;
	f->unseen = RECONCILE_FACTS_INIT;
	for (size_t i = 0; i < s->n_eps; i++) {
		if (f->in[i])
			continue;
		f->unseen.n_added = i;
		focus_fold_unseen(&f->unseen, &s->eps[i].it->verdict, s->eps[i].renewed);
	}
	f->unseen_known = true;
}

static void finish_pass(struct service *s)
{
	bool verifying = s->ps.phase == PHASE_VERIFYING;
	time_t now = time(NULL);

	s->facts = RECONCILE_FACTS_INIT;
	s->looks++;
	for (size_t k = 0; k < s->focus.n_in; k++) {
		struct endpoint_ref *e = &s->eps[s->focus.list[k]];
		struct check_item *it = e->it;
		uint64_t print;

		s->facts.n_added = s->focus.list[k];   /* a veto names its endpoint */
		event_key_mode(it);
		note_renewal(s, e);
		event_dane_hold(s->conf->name, it, e->dane_held);
		e->dane_held = it->verdict.dane_held;
		reconcile_facts_add(&s->facts, &it->verdict, &it->probe, &it->th, now,
				    verifying && e->has_target ? e->target : NULL);
		if (e->renewed && verdict_loads_renewal(&it->verdict))
			s->facts.renewal_unloaded = true;
		print = saved_print(it);
		if (print != e->saved) {
			e->saved = print;
			s->unsaved = true;
			s->env->endpoint_changed(s->env->userdata, it);
		}
	}
	sum_unseen(s);
	focus_merge_unseen(&s->facts, &s->focus);
	if (!verifying)
		service_pass_log_verdicts(s);
	describe_held(s);
	service_post(s, EVENT_PROBED);
}

/*
 * An endpoint whose probe and look-up have ended is judged at once, and
 * lets go of its certificates and of the facts only a report shows (what
 * the service keeps is what its decisions read), so that memory follows
 * the window, not the host; the pass sums the verdicts up in the
 * endpoints' order when the last one is judged.
 */
static void judge_one(struct endpoint_ref *e)
{
	/* A verification's few endpoints keep their pairs for its next pass (check.h). */
	bool keep = e->s->ps.phase == PHASE_VERIFYING && e->s->focus.n_in <= PASS_WINDOW;

	check_item_judge(e->it, time(NULL));
	check_item_let_go(e->it, keep);
	check_item_keep_verdict_facts(e->it);
}

static void fill_window(struct service *s);

static void endpoint_done(struct endpoint_ref *e)
{
	struct service *s = e->s;

	judge_one(e);
	s->pending--;
	fill_window(s);
	if (s->pending == 0)
		finish_pass(s);
}

static void on_probe_done(const struct probe_target *t, struct probe_result *r, void *userdata)
{
	struct endpoint_ref *e = userdata;

	(void)t;
	probe_result_done(&e->it->probe);
	e->it->probe = *r;   /* takes r's allocations */
	e->probed = true;
	if (!e->looking_up)
		endpoint_done(e);
}

static void on_lookup_done(void *userdata)
{
	struct endpoint_ref *e = userdata;

	if (!e->looking_up)
		return;   /* not this pass's: a look-up ends with its endpoint's pass */
	e->looking_up = false;
	if (e->probed)
		endpoint_done(e);
}

/* Starts endpoints of the pass until PASS_WINDOW are under way or none is left. */
static void fill_window(struct service *s)
{
	while (s->pending < PASS_WINDOW && s->cursor < s->focus.n_in) {
		struct endpoint_ref *e = &s->eps[s->focus.list[s->cursor++]];
		int r;

		check_item_aim(e->it);
		e->probed = e->looking_up = false;
		r = probe_pool_start(s->env->pool, &e->it->target, on_probe_done, e);
		if (r < 0) {
			log_error("%s/%s: cannot start a probe: %s", s->conf->name, e->it->endpoint,
				  strerror(-r));
			/* On the last probe's result, as the pass sees it; with none, still PENDING. */
			if (check_item_judged(e->it))
				judge_one(e);
			continue;
		}
		s->pending++;
		r = check_dane_start(e->it, s->env->resolver, on_lookup_done, e);
		if (r < 0)
			log_error("%s/%s: cannot look up its TLSA records: %s", s->conf->name,
				  e->it->endpoint, dane_resolver_error(s->env->resolver));
		e->looking_up = r > 0;
	}
}

void service_pass_start(struct service *s)
{
	if (s->pending > 0)
		return;   /* one pass at a time; its result is what the policy waits for */
	focus_choose(&s->focus, s->ps.phase == PHASE_VERIFYING);
	s->cursor = 0;
	fill_window(s);
	if (s->pending == 0)
		finish_pass(s);
}
