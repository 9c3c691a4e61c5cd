/*
 * service.c - one guarded service at run time; see service.h.
 *
 * The policy (policy.c) decides; this file carries its actions out: it arms
 * the service's timer, runs a reconcile pass over the endpoints
 * (service-pass.c), starts the reload-check and the reload, and turns
 * every outcome back into an event.
 * Events wait in a small queue and are dispatched one at a time from a
 * defer source, so a failure found while acting (a reload that cannot even
 * start) is an event like any other and nothing re-enters the machine.
 *
 * Timers run on CLOCK_BOOTTIME, as the policy's times do: a step of the
 * wall clock moves neither a back-off nor a verification.  Only the reload
 * window and what people read use the wall clock.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "focus.h"
#include "log.h"
#include "reload-log.h"
#include "saved-view.h"
#include "service.h"
#include "service-int.h"
#include "util.h"

#define BACKOFF_FIRST_USEC    (30 * USEC_PER_SEC)
#define VERIFY_RETRY_USEC     (20 * USEC_PER_MSEC)
/*
 * Retries while the old certificate is still served: a service's reload
 * takes from a few ms (nginx) to about a second under load (Dovecot
 * re-reads its whole configuration), and a verification can end no sooner
 * than the retry after the new certificate appears; 100 ms keeps that
 * delay small at ten handshakes a second for at most verify-timeout.
 */
#define VERIFY_RETRY_MAX_USEC (100 * USEC_PER_MSEC)
#define RECHECK_USEC          USEC_PER_SEC
#define RECHECK_MAX_USEC      (300 * USEC_PER_SEC)
#define TIMER_ACCURACY        USEC_PER_MSEC

static int local_minute(void)
{
	time_t t = time(NULL);
	struct tm tm;

	return localtime_r(&t, &tm) ? tm.tm_hour * 60 + tm.tm_min : 0;
}

/* ---- the event queue ---------------------------------------------------- */

void service_files_changed(struct service *s, size_t endpoint)
{
	focus_changed(&s->focus, endpoint);
	service_post(s, EVENT_FILES_CHANGED);
}

void service_post(struct service *s, enum policy_event ev)
{
	for (unsigned i = 0; i < s->q_len; i++)
		if (s->queue[(s->q_head + i) % QUEUE_MAX] == ev)
			return;   /* already waiting: one delivery says it */
	if (s->q_len == QUEUE_MAX) {
		log_error("%s: event queue full, %s dropped", s->conf->name,
			  policy_event_to_string(ev));
		return;
	}
	s->queue[(s->q_head + s->q_len++) % QUEUE_MAX] = ev;
	(void)sd_event_source_set_enabled(s->defer, SD_EVENT_ON);
}

static void dispatch(struct service *s, enum policy_event ev);

static int on_defer(sd_event_source *src, void *userdata)
{
	struct service *s = userdata;
	enum policy_event ev;

	if (s->q_len == 0) {
		(void)sd_event_source_set_enabled(src, SD_EVENT_OFF);
		return 0;
	}
	ev = s->queue[s->q_head];
	s->q_head = (s->q_head + 1) % QUEUE_MAX;
	s->q_len--;
	dispatch(s, ev);
	return 0;
}

/* ---- the reload-check and the reload ---------------------------------- */

static void describe_result(struct service *s, const char *what, const struct reload_result *r)
{
	snprintf(s->last_result, sizeof(s->last_result), "%s: %s%s%s%s", what,
		 reload_status_to_string(r->status), r->detail[0] ? " (" : "", r->detail,
		 r->detail[0] ? ")" : "");
	reload_log_output(s->conf->name, what, r);
}

static void on_check_done(const struct reload_result *r, void *userdata)
{
	struct service *s = userdata;

	s->op = NULL;
	describe_result(s, "reload-check", r);
	if (r->status != RELOAD_OK)
		log_error("%s: reload-check failed, no reload: %s", s->conf->name, s->last_result);
	service_post(s, r->status == RELOAD_OK ? EVENT_CHECK_OK : EVENT_CHECK_FAILED);
}

static void on_reload_done(const struct reload_result *r, void *userdata)
{
	struct service *s = userdata;

	s->op = NULL;
	describe_result(s, "reload", r);
	snprintf(s->reload_said, sizeof(s->reload_said), "%s", s->last_result);
	service_post(s, r->status == RELOAD_OK ? EVENT_RELOAD_OK : EVENT_RELOAD_FAILED);
}

/* What the reload is for: each endpoint's disk leaf as it starts. */
static void take_targets(struct service *s)
{
	for (size_t i = 0; i < s->n_eps; i++) {
		struct endpoint_ref *e = &s->eps[i];

		e->renewed = false;
		e->has_target = e->it->disk.have_leaf;
		if (e->has_target)
			memcpy(e->target, e->it->disk.leaf.sha256, sizeof(e->target));
	}
	focus_forget_unseen(&s->focus);
}

/*
 * A verification that ran out: which endpoint serves what, instead of what,
 * for how long, and what the reload itself said.
 */
static void describe_unverified(struct service *s)
{
	char served[SHA256_SHORT_HEX_LEN], want[SHA256_SHORT_HEX_LEN], after[32];

	format_duration(s->pc.verify_timeout_usec, after, sizeof(after));
	for (size_t i = 0; i < s->n_eps; i++) {
		const struct check_item *it = s->eps[i].it;

		if (it->verdict.in_sync || !s->focus.in[i] || !check_item_judged(it))
			continue;
		sha256_to_short_hex(s->eps[i].has_target ? s->eps[i].target :
				    it->disk.leaf.sha256, want);
		if (it->probe.status != PROBE_OK) {
			snprintf(s->last_result, sizeof(s->last_result), "%s still fails after %s "
				 "(%s), expected %s; the %s", it->endpoint, after,
				 msg_text(it->probe.detail), want, s->reload_said);
			return;
		}
		sha256_to_short_hex(it->probe.leaf.sha256, served);
		snprintf(s->last_result, sizeof(s->last_result), "%s still serves %s after %s, "
			 "expected %s; the %s", it->endpoint, served, after, want, s->reload_said);
		return;
	}
}

/* A step that could not even start fails like one that ran. */
static void could_not_start(struct service *s, enum policy_event ev, const char *what, int r)
{
	snprintf(s->last_result, sizeof(s->last_result), "%s could not start: %s", what,
		 strerror(-r));
	service_post(s, ev);
}

/* ---- dispatch ------------------------------------------------------------ */

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src;
	(void)usec;
	service_post(userdata, EVENT_TIMER);
	return 0;
}

static void arm(struct service *s, uint64_t at)
{
	int r;

	if (!s->timer)
		r = sd_event_add_time(s->env->event, &s->timer, CLOCK_BOOTTIME,
				      at - BOOT_CLOCK_OFFSET_USEC, TIMER_ACCURACY, on_timer, s);
	else {
		r = sd_event_source_set_time(s->timer, at - BOOT_CLOCK_OFFSET_USEC);
		if (r >= 0)
			r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
	}
	if (r < 0)
		log_error("%s: cannot arm a timer: %s", s->conf->name, strerror(-r));
}

static void act(struct service *s, const struct policy_out *o)
{
	int r;

	switch (o->action) {
	case DO_ARM_TIMER:
		arm(s, o->timer_at);
		break;
	case DO_PROBE:
		service_pass_start(s);
		break;
	case DO_RUN_CHECK:
		r = reload_command_start(s->env->event, "reload-check", s->conf->reload_check,
					 s->conf->reload_timeout_usec, on_check_done, s, &s->op);
		if (r < 0)
			could_not_start(s, EVENT_CHECK_FAILED, "reload-check", r);
		break;
	case DO_RELOAD:
		take_targets(s);
		r = reload_start(s->env->reload, s->conf, on_reload_done, s, &s->op);
		if (r < 0)
			could_not_start(s, EVENT_RELOAD_FAILED, "the reload", r);
		break;
	case DO_NOTHING:
	case _DO_MAX:
		break;
	}
}

static void dispatch(struct service *s, enum policy_event ev)
{
	uint64_t now = now_boot_usec();
	enum policy_phase before = s->ps.phase;
	struct saved_view is;
	struct policy_out o;
	bool record;

	policy_step(&s->ps, &s->pc, ev, ev == EVENT_PROBED ? &s->facts : NULL, now,
		    local_minute(), &o);
	focus_step(&s->focus, ev, &o);
	if (before == PHASE_VERIFYING && o.outcome == OUTCOME_RELOAD_FAILED)
		describe_unverified(s);
	if (before == PHASE_VERIFYING && s->ps.phase != PHASE_VERIFYING) {
		service_pass_log_verdicts(s);
		service_pass_forget_pairs(s);
	}
	event_note(&(struct event_context) {
			.service = s->conf->name,
			.failures = s->ps.failures,
			.max_reloads_per_hour = s->pc.max_reloads_per_hour,
			.last_result = s->last_result,
			.held = s->held,
			.has_check = s->conf->reload_check != NULL,
			.timer_realtime = o.timer_at ?
				(uint64_t)time(NULL) * USEC_PER_SEC + (o.timer_at - now) : 0,
		   }, &o);
	if (o.outcome == OUTCOME_RELOAD_SUCCEEDED)
		s->reloads_ok++;
	else if (o.outcome == OUTCOME_RELOAD_FAILED)
		s->reloads_failed++;
	act(s, &o);
	if (focus_settled(&s->focus, s->ps.phase, s->pending > 0))
		service_post(s, EVENT_TICK);   /* the re-check after a reload, once idle */
	/* Against the view last told, not the one before this step: a reload's
	 * end writes its result before the step that follows it. */
	saved_view_of(&s->ps, s->reloads_ok, s->reloads_failed, s->last_result, s->held, &is);
	record = memcmp(&s->told, &is, sizeof(is)) != 0;
	if (record) {
		s->told = is;
		s->env->record_changed(s->env->userdata, s);
	}
	s->env->changed(s->env->userdata, s->unsaved || record);
	s->unsaved = false;
}

/* ---- life cycle ------------------------------------------------------ */

static void policy_conf_from(const struct conf *c, const struct conf_service *cs,
			     struct policy_conf *pc)
{
	*pc = (struct policy_conf) {
		.settle_usec = c->settle_usec,
		.verify_timeout_usec = cs->verify_timeout_usec,
		.verify_retry_usec = VERIFY_RETRY_USEC,
		.verify_retry_max_usec = VERIFY_RETRY_MAX_USEC,
		.verify_passes = cs->verify_passes,
		.verify_stable_usec = cs->verify_stable_usec,
		.recheck_usec = RECHECK_USEC,
		.recheck_max_usec = RECHECK_MAX_USEC,
		.backoff_usec = BACKOFF_FIRST_USEC,
		.max_failures = cs->max_failures,
		.max_reloads_per_hour = cs->max_reloads_per_hour,
		.window_start = cs->reload_window_start,
		.window_end = cs->reload_window_end,
		/* A server that loads a renewal by itself is looked at until it
		 * serves it (the policy's recheck), never reloaded. */
		.can_reload = reload_method_acts(cs->reload_method),
		.has_check = cs->reload_check != NULL,
	};
}

static void restore(struct service *s, const struct state *saved)
{
	const struct state_service *r = state_find_service(saved, s->conf->name);
	struct state_clock now;

	if (r) {
		state_clock_now(&now);
		state_service_to_policy(r, &saved->clock, &now, &s->ps);
		s->reloads_ok = r->reloads_ok;
		s->reloads_failed = r->reloads_failed;
		snprintf(s->last_result, sizeof(s->last_result), "%s", r->last_result);
	}
	for (size_t i = 0; i < s->n_eps; i++) {
		const struct state_endpoint *e = state_find_endpoint(saved, s->conf->name,
								     s->eps[i].it->endpoint);

		if (!e)
			continue;
		snprintf(s->eps[i].disk.sha256, sizeof(s->eps[i].disk.sha256), "%s", e->disk);
		snprintf(s->eps[i].state, sizeof(s->eps[i].state), "%s", e->state);
	}
}

int service_new(const struct service_env *env, const struct conf_service *cs,
		struct check_item *items, size_t n_items, const struct state *saved,
		struct service **ret)
{
	struct service *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->env = env;
	s->conf = cs;
	policy_conf_from(env->conf, cs, &s->pc);
	s->ps.phase = PHASE_IDLE;
	s->eps = calloc(n_items ? n_items : 1, sizeof(*s->eps));
	if (!s->eps) {
		r = -ENOMEM;
		goto fail;
	}
	s->n_eps = n_items;
	r = focus_init(&s->focus, n_items);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < n_items; i++)
		s->eps[i] = (struct endpoint_ref) { .s = s, .it = &items[i] };
	if (saved)
		restore(s, saved);
	/* What the first write says of it, which builds every record. */
	saved_view_of(&s->ps, s->reloads_ok, s->reloads_failed, s->last_result, s->held, &s->told);
	r = sd_event_add_defer(env->event, &s->defer, on_defer, s);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->defer, SD_EVENT_OFF);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	service_free(s);
	return r;
}

bool service_busy(const struct service *s)
{
	return s->op || policy_busy(&s->ps);
}

unsigned long service_looks(const struct service *s)
{
	return s->looks;
}

bool service_at_rest(const struct service *s)
{
	return !s->op && (focus_rechecking(&s->focus, s->ps.phase) ||
			  (s->q_len == 0 && s->pending == 0 &&
			   (s->ps.phase == PHASE_IDLE || s->ps.phase == PHASE_BACKOFF ||
			    s->ps.phase == PHASE_WAITING)));
}

const char *service_name(const struct service *s)
{
	return s->conf->name;
}

bool service_paused(const struct service *s)
{
	return s->ps.paused;
}

void service_record(const struct service *s, const struct state_clock *now,
		    struct state_service *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->name = s->conf->name;
	state_service_from_policy(ret, &s->ps, now);
	snprintf(ret->last_result, sizeof(ret->last_result), "%s", s->last_result);
	snprintf(ret->held, sizeof(ret->held), "%s", s->held);
	ret->reloads_ok = s->reloads_ok;
	ret->reloads_failed = s->reloads_failed;
}

void service_metrics(const struct service *s, struct metrics_service *ret)
{
	*ret = (struct metrics_service) {
		.name = s->conf->name,
		.paused = s->ps.paused,
		.reloads_ok = s->reloads_ok,
		.reloads_failed = s->reloads_failed,
	};
}

void service_free(struct service *s)
{
	if (!s)
		return;
	if (s->ps.phase == PHASE_VERIFYING)
		service_pass_forget_pairs(s);
	reload_op_cancel(s->op);
	sd_event_source_disable_unref(s->timer);
	sd_event_source_disable_unref(s->defer);
	focus_done(&s->focus);
	free(s->eps);
	free(s);
}
