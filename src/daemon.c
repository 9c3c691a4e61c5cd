/*
 * daemon.c - `certwatch run`: one sd-event loop carrying the watcher's
 * notifications, a timer per service (settle, verify retry, back-off,
 * window), the periodic reconcile, probe I/O, reload operations, the
 * control socket and the signals.  Every decision is policy.c's; this
 * file only carries the actions out and reports them.
 *
 * Convergence: at start every service reconciles from scratch, with its
 * persisted pause, failures and reload history restored from the state
 * file, so a certwatch killed mid-reload ends verified after at most one
 * more reload.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "check.h"
#include "conf.h"
#include "daemon.h"
#include "events.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "reload.h"
#include "state.h"
#include "watch.h"

#define CONTROL_SOCKET_NAME "control"
#define BACKOFF_FIRST_USEC (30 * USEC_PER_SEC)
#define VERIFY_RETRY_USEC  USEC_PER_SEC

struct daemon;
struct service_rt;

struct item_ref {
	struct service_rt *s;
	struct check_item *it;
};

struct service_rt {
	struct daemon *d;
	const struct conf_service *conf;
	struct policy_conf pc;
	struct policy_state ps;
	sd_event_source *timer;
	struct reload_op *op;
	struct check_item *items;      /* into d->items */
	struct item_ref *refs;         /* one per item: what a probe callback needs */
	size_t n_items;
	unsigned probes_pending;
	char last_result[256];
	uint64_t reloads_ok, reloads_failed;   /* for metrics-file; kept in the state file */
};

struct daemon {
	sd_event *event;
	const char *config_path;
	const char *only;
	struct conf *conf;
	struct probe_engine *engine;
	struct watcher *watcher;
	sd_bus *bus;
	struct service_rt *services;
	size_t n_services;
	struct check_item *items;
	size_t n_items;
	struct state last;             /* the previous verdicts, for change events */
	sd_event_source *tick;
	sd_event_source *control;
	int control_fd;
	bool polling_logged;           /* the watch limit is reported once */
	struct conf *pending;          /* a SIGHUP's configuration, waiting for reloads to end */
	sd_event_source *apply;        /* applies pending once nothing is in flight */
	char state_dir[PATH_MAX];      /* state-dir, or state-dir/SERVICE with --service */
};

static uint64_t now_realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static int local_minute(uint64_t now)
{
	time_t t = (time_t)(now / USEC_PER_SEC);
	struct tm tm;

	return localtime_r(&t, &tm) ? tm.tm_hour * 60 + tm.tm_min : 0;
}

static void step(struct service_rt *s, enum policy_event ev, const struct policy_facts *f);
static void schedule_apply(struct daemon *d);

/* ---- state file and STATUS= ---------------------------------------------- */

static void fill_endpoint_state(const struct check_item *it, struct state_endpoint *e)
{
	e->service = (char *)it->service;
	e->endpoint = (char *)it->endpoint;
	if (it->probe.status == PROBE_OK) {
		sha256_to_hex(it->probe.leaf.sha256, e->served);
		e->served_not_after = it->probe.leaf.not_after;
	}
	if (it->disk.have_leaf)
		sha256_to_hex(it->disk.leaf.sha256, e->disk);
	snprintf(e->state, sizeof(e->state), "%s", verdict_state_to_string(it->verdict.state));
	snprintf(e->severity, sizeof(e->severity), "%s", severity_to_string(it->verdict.severity));
	snprintf(e->reason, sizeof(e->reason), "%s", it->verdict.reason);
}

static void write_metrics(struct daemon *d)
{
	struct metrics_service *ms = calloc(d->n_services ? d->n_services : 1, sizeof(*ms));
	int r = -ENOMEM;

	for (size_t i = 0; ms && i < d->n_services; i++)
		ms[i] = (struct metrics_service) {
			.name = d->services[i].conf->name,
			.paused = d->services[i].ps.paused,
			.reloads_ok = d->services[i].reloads_ok,
			.reloads_failed = d->services[i].reloads_failed,
		};
	if (ms)
		r = metrics_write_file(d->conf->metrics_file, d->items, d->n_items, ms,
				       d->n_services);
	if (r < 0)
		log_error("cannot write the metrics-file %s: %s; check that its directory exists "
			  "and is writable", d->conf->metrics_file, strerror(-r));
	free(ms);
}

static void save_and_announce(struct daemon *d)
{
	struct state_service *ss = calloc(d->n_services ? d->n_services : 1, sizeof(*ss));
	struct state_endpoint *se = calloc(d->n_items ? d->n_items : 1, sizeof(*se));
	struct state st = { .pid = getpid(), .written = (int64_t)time(NULL) };
	unsigned ok = 0, pending = 0, paused = 0, bad = 0;
	int r;

	if (!ss || !se) {
		free(ss);
		free(se);
		log_error("out of memory while saving the state");
		return;
	}
	for (size_t i = 0; i < d->n_services; i++) {
		ss[i].name = d->services[i].conf->name;
		ss[i].policy = d->services[i].ps;
		ss[i].reloads_ok = d->services[i].reloads_ok;
		ss[i].reloads_failed = d->services[i].reloads_failed;
		snprintf(ss[i].last_result, sizeof(ss[i].last_result), "%s",
			 d->services[i].last_result);
		paused += d->services[i].ps.paused;
	}
	for (size_t i = 0; i < d->n_items; i++) {
		const struct check_item *it = &d->items[i];

		fill_endpoint_state(it, &se[i]);
		if (it->verdict.state == STATE_OK)
			ok++;
		else if (it->verdict.action == ACTION_RELOAD)
			pending++;
		else
			bad++;
	}
	st.services = ss;
	st.n_services = d->n_services;
	st.endpoints = se;
	st.n_endpoints = d->n_items;
	r = state_save(d->state_dir, &st);
	if (r < 0)
		log_error("cannot write the state file in %s: %s; status and pauses will not "
			  "survive a restart", d->state_dir, strerror(-r));
	sd_notifyf(false, "STATUS=%zu endpoints: %u ok, %u reload pending, %u failing; "
		   "%u services paused", d->n_items, ok, pending, bad, paused);
	if (d->conf->metrics_file)
		write_metrics(d);
	free(ss);
	free(se);
}

/* ---- a reconcile pass over one service ---------------------------------- */

static const struct state_endpoint *previous(const struct daemon *d, const struct check_item *it)
{
	for (size_t i = 0; i < d->last.n_endpoints; i++)
		if (strcmp(d->last.endpoints[i].service, it->service) == 0 &&
		    strcmp(d->last.endpoints[i].endpoint, it->endpoint) == 0)
			return &d->last.endpoints[i];
	return NULL;
}

/* Remembers the verdict just logged, so the next pass logs only changes. */
static void remember(struct daemon *d, const struct check_item *it)
{
	struct state_endpoint *e = (struct state_endpoint *)previous(d, it);
	char *service, *endpoint;

	if (!e) {
		void *p = realloc(d->last.endpoints, (d->last.n_endpoints + 1) * sizeof(*e));

		service = strdup(it->service);
		endpoint = strdup(it->endpoint);
		if (!p || !service || !endpoint) {
			if (p)
				d->last.endpoints = p;
			free(service);
			free(endpoint);
			return;
		}
		d->last.endpoints = p;
		e = &d->last.endpoints[d->last.n_endpoints++];
		memset(e, 0, sizeof(*e));
		e->service = service;
		e->endpoint = endpoint;
	}
	service = e->service;
	endpoint = e->endpoint;
	fill_endpoint_state(it, e);
	e->service = service;
	e->endpoint = endpoint;
}

static void finish_pass(struct service_rt *s)
{
	struct daemon *d = s->d;
	struct policy_facts f = { .all_served = true, .critical_at = UINT64_MAX };
	time_t now = time(NULL);

	for (size_t i = 0; i < s->n_items; i++) {
		struct check_item *it = &s->items[i];
		const struct state_endpoint *before;
		long long warn, crit;

		check_item_judge(it, now);
		before = previous(d, it);
		event_disk_changed(s->conf->name, it, before ? before->disk : NULL);
		event_verdict_changed(s->conf->name, it, before ? before->state : NULL);
		remember(d, it);

		if (it->verdict.action == ACTION_RELOAD)
			f.reload_wanted = true;
		if (it->probe.status != PROBE_OK || !it->disk.have_leaf ||
		    !cert_info_same(&it->probe.leaf, &it->disk.leaf))
			f.all_served = false;
		if (it->probe.status == PROBE_OK) {
			uint64_t at;

			thresholds_for(&it->th, &it->probe.leaf, &warn, &crit);
			at = (long long)it->probe.leaf.not_after - crit > 0 ?
				(uint64_t)((long long)it->probe.leaf.not_after - crit) * USEC_PER_SEC : 0;
			if (at < f.critical_at)
				f.critical_at = at;
		}
	}
	step(s, EVENT_PROBED, &f);
}

static void on_probe_done(const struct probe_target *t, struct probe_result *r, void *userdata)
{
	struct item_ref *ref = userdata;
	struct service_rt *s = ref->s;

	(void)t;
	probe_result_done(&ref->it->probe);
	ref->it->probe = *r;   /* takes r's allocations */
	if (--s->probes_pending == 0)
		finish_pass(s);
}

static void start_pass(struct service_rt *s)
{
	if (s->probes_pending > 0)
		return;   /* one pass at a time; its result is what the policy waits for */
	for (size_t i = 0; i < s->n_items; i++) {
		int r = probe_start(s->d->engine, &s->items[i].target, on_probe_done, &s->refs[i]);

		if (r < 0) {
			log_error("%s/%s: cannot start a probe: %s", s->conf->name,
				  s->items[i].endpoint, strerror(-r));
			continue;
		}
		s->probes_pending++;
	}
	if (s->probes_pending == 0)
		finish_pass(s);
}

/* ---- reload operations -------------------------------------------------- */

static void describe_result(struct service_rt *s, const char *what, const struct reload_result *r)
{
	snprintf(s->last_result, sizeof(s->last_result), "%s: %s%s%s%s", what,
		 reload_status_to_string(r->status), r->detail[0] ? " (" : "", r->detail,
		 r->detail[0] ? ")" : "");
	if (r->output[0]) {
		int n = (int)strlen(r->output);

		/* The output is escaped: a final newline shows as a literal "\n". */
		while (n >= 2 && strncmp(r->output + n - 2, "\\n", 2) == 0)
			n -= 2;
		log_info("%s: %s output: %.*s", s->conf->name, what, n, r->output);
	}
}

static void on_check_done(const struct reload_result *r, void *userdata)
{
	struct service_rt *s = userdata;

	s->op = NULL;
	describe_result(s, "reload-check", r);
	if (r->status != RELOAD_OK)
		log_error("%s: reload-check failed, no reload: %s", s->conf->name, s->last_result);
	step(s, r->status == RELOAD_OK ? EVENT_CHECK_OK : EVENT_CHECK_FAILED, NULL);
}

static void on_reload_done(const struct reload_result *r, void *userdata)
{
	struct service_rt *s = userdata;

	s->op = NULL;
	describe_result(s, "reload", r);
	step(s, r->status == RELOAD_OK ? EVENT_RELOAD_OK : EVENT_RELOAD_FAILED, NULL);
}

static int start_reload(struct service_rt *s)
{
	const struct conf_service *c = s->conf;
	struct daemon *d = s->d;
	int r;

	if (c->reload_command)
		return reload_command_start(d->event, c->reload_command, c->reload_timeout_usec,
					    on_reload_done, s, &s->op);
	if (c->reload_signal)
		return reload_signal_start(d->event, c->pid_file, c->reload_signal,
					   on_reload_done, s, &s->op);
	if (!d->bus) {
		r = sd_bus_open_system(&d->bus);
		if (r < 0)
			return r;
		r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
		if (r < 0) {
			d->bus = sd_bus_unref(d->bus);
			return r;
		}
	}
	return reload_unit_start(d->event, d->bus, c->reload_unit, c->reload_timeout_usec,
				 on_reload_done, s, &s->op);
}

/* ---- the policy's actions ------------------------------------------------ */

static int on_service_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src;
	(void)usec;
	step(userdata, EVENT_TIMER, NULL);
	return 0;
}

static void arm(struct service_rt *s, uint64_t at)
{
	int r;

	if (!s->timer)
		r = sd_event_add_time(s->d->event, &s->timer, CLOCK_REALTIME, at,
				      100 * USEC_PER_MSEC, on_service_timer, s);
	else {
		r = sd_event_source_set_time(s->timer, at);
		if (r >= 0)
			r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
	}
	if (r < 0)
		log_error("%s: cannot arm a timer: %s", s->conf->name, strerror(-r));
}

static void fail_now(struct service_rt *s, enum policy_event ev, const char *what, int r)
{
	snprintf(s->last_result, sizeof(s->last_result), "%s could not start: %s", what,
		 strerror(-r));
	step(s, ev, NULL);
}

static void step(struct service_rt *s, enum policy_event ev, const struct policy_facts *f)
{
	uint64_t now = now_realtime_usec();
	enum policy_phase before = s->ps.phase;
	struct policy_out o;
	int r;

	policy_step(&s->ps, &s->pc, ev, f, now, local_minute(now), &o);
	event_note(&(struct event_context) {
			.service = s->conf->name,
			.failures = s->ps.failures,
			.max_reloads_per_hour = s->pc.max_reloads_per_hour,
			.last_result = s->last_result,
			.has_check = s->conf->reload_check != NULL,
		   }, &o);
	/* A reload counts once it has run: verified, or failed running or verifying. */
	if (o.note == NOTE_VERIFIED)
		s->reloads_ok++;
	else if ((o.note == NOTE_RELOAD_FAILED || o.note == NOTE_PAUSED) &&
		 (before == PHASE_RELOADING || before == PHASE_VERIFYING))
		s->reloads_failed++;
	switch (o.action) {
	case DO_ARM_TIMER:
		arm(s, o.timer_at);
		break;
	case DO_PROBE:
		start_pass(s);
		break;
	case DO_RUN_CHECK:
		r = reload_command_start(s->d->event, s->conf->reload_check,
					 s->conf->reload_timeout_usec, on_check_done, s, &s->op);
		if (r < 0)
			fail_now(s, EVENT_CHECK_FAILED, "reload-check", r);
		break;
	case DO_RELOAD:
		r = start_reload(s);
		if (r < 0)
			fail_now(s, EVENT_RELOAD_FAILED, "the reload", r);
		break;
	default:
		break;
	}
	if (o.action != DO_PROBE || s->probes_pending == 0)
		save_and_announce(s->d);
	schedule_apply(s->d);
}

/* ---- the loop's other sources ----------------------------------------- */

static void on_files_changed(unsigned group, void *userdata)
{
	struct daemon *d = userdata;

	if (group < d->n_services)
		step(&d->services[group], EVENT_FILES_CHANGED, NULL);
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	for (size_t i = 0; i < d->n_services; i++)
		step(&d->services[i], EVENT_TICK, NULL);
	if (d->watcher && watcher_is_polling(d->watcher) && !d->polling_logged) {
		d->polling_logged = true;
		log_warning("the inotify watch limit is reached; files are polled every %llu s "
			    "(raise fs.inotify.max_user_watches)",
			    (unsigned long long)(d->conf->poll_interval_usec / USEC_PER_SEC));
	}
	sd_event_source_set_time(src, usec + d->conf->interval_usec);
	sd_event_source_set_enabled(src, SD_EVENT_ON);
	return 0;
}

/* "resume NAME" on the control socket; answers one line. */
static int on_control(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	char buf[256], reply[300];
	struct service_rt *s = NULL;
	ssize_t n;
	int c;

	(void)src;
	(void)revents;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return 0;
	/* The client sends its request at once; a short timeout keeps a stuck one from blocking. */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval) { .tv_sec = 1 },
		   sizeof(struct timeval));
	n = recv(c, buf, sizeof(buf) - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		for (size_t i = 0; i < d->n_services && strncmp(buf, "resume ", 7) == 0; i++)
			if (strcmp(d->services[i].conf->name, buf + 7) == 0)
				s = &d->services[i];
		if (strncmp(buf, "resume ", 7) != 0)
			snprintf(reply, sizeof(reply), "error: unknown request\n");
		else if (!s)
			snprintf(reply, sizeof(reply), "error: no service \"%.200s\" is guarded\n",
				 buf + 7);
		else {
			snprintf(reply, sizeof(reply), "ok: %s %s\n", s->conf->name,
				 s->ps.paused ? "resumed" : "was not paused; reconciling");
			step(s, EVENT_RESUME, NULL);
		}
		if (send(c, reply, strlen(reply), MSG_NOSIGNAL) < 0)
			log_warning("control socket: cannot answer: %m");
	}
	close(c);
	return 0;
}

static int open_control(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", d->state_dir,
			     CONTROL_SOCKET_NAME) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0600) < 0 ||
	    listen(fd, 8) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = sd_event_add_io(d->event, &d->control, fd, EPOLLIN, on_control, d);
	if (r < 0) {
		close(fd);
		return r;
	}
	d->control_fd = fd;
	return 0;
}

/* ---- building and tearing down the runtime from a configuration -------- */

static void teardown(struct daemon *d)
{
	watcher_free(d->watcher);
	d->watcher = NULL;
	probe_engine_free(d->engine);
	d->engine = NULL;
	for (size_t i = 0; i < d->n_services; i++) {
		reload_op_cancel(d->services[i].op);
		sd_event_source_disable_unref(d->services[i].timer);
		free(d->services[i].refs);
	}
	free(d->services);
	d->services = NULL;
	d->n_services = 0;
	check_items_free(d->items, d->n_items);
	d->items = NULL;
	d->n_items = 0;
}

static void policy_conf_from(const struct conf *c, const struct conf_service *cs,
			     struct policy_conf *pc)
{
	*pc = (struct policy_conf) {
		.settle_usec = c->settle_usec,
		.verify_timeout_usec = cs->verify_timeout_usec,
		.verify_retry_usec = VERIFY_RETRY_USEC,
		.backoff_usec = BACKOFF_FIRST_USEC,
		.max_failures = cs->max_failures,
		.max_reloads_per_hour = cs->max_reloads_per_hour,
		.window_start = cs->reload_window_start,
		.window_end = cs->reload_window_end,
		.can_reload = cs->reload_unit || cs->reload_command || cs->reload_signal,
		.has_check = cs->reload_check != NULL,
	};
}

static int watch_service(struct daemon *d, unsigned group, const struct service_rt *s)
{
	int r = 0;

	for (size_t i = 0; i < s->n_items && r >= 0; i++) {
		const struct check_item *it = &s->items[i];

		r = watcher_add(d->watcher, group, it->cert);
		if (r >= 0 && it->chain)
			r = watcher_add(d->watcher, group, it->chain);
		if (r >= 0 && it->key)
			r = watcher_add(d->watcher, group, it->key);
	}
	return r;
}

/* Takes c; restores each service's persisted policy by name. */
static int build(struct daemon *d, struct conf *c, const struct state *saved)
{
	size_t k = 0;
	int r;

	d->conf = c;
	r = check_items_from_conf(c, d->only, &d->items, &d->n_items);
	if (r == -ENOENT) {
		log_error("no service \"%s\" in %s", d->only, d->config_path);
		return r;
	}
	if (r < 0)
		return r;
	d->services = calloc(c->n_services ? c->n_services : 1, sizeof(*d->services));
	if (!d->services)
		return -ENOMEM;
	r = probe_engine_new(d->event, c->max_probes, &d->engine);
	if (r < 0)
		return r;
	r = watcher_new(d->event, c->poll_interval_usec, on_files_changed, d, &d->watcher);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_services; i++) {
		const struct conf_service *cs = &c->services[i];
		struct service_rt *s = &d->services[d->n_services];
		struct state_service *prev = saved ? state_find_service((struct state *)saved,
								       cs->name) : NULL;

		if (d->only && strcmp(cs->name, d->only) != 0)
			continue;
		s->d = d;
		s->conf = cs;
		policy_conf_from(c, cs, &s->pc);
		if (prev) {
			s->ps = prev->policy;
			s->reloads_ok = prev->reloads_ok;
			s->reloads_failed = prev->reloads_failed;
			snprintf(s->last_result, sizeof(s->last_result), "%s", prev->last_result);
		}
		s->ps.phase = s->ps.paused ? PHASE_PAUSED : PHASE_IDLE;
		s->ps.dirty = false;
		s->items = &d->items[k];
		s->n_items = cs->n_endpoints;
		s->refs = calloc(s->n_items ? s->n_items : 1, sizeof(*s->refs));
		if (!s->refs)
			return -ENOMEM;
		for (size_t j = 0; j < s->n_items; j++)
			s->refs[j] = (struct item_ref) { s, &s->items[j] };
		k += s->n_items;
		r = watch_service(d, (unsigned)d->n_services, s);
		if (r < 0)
			return r;
		d->n_services++;
	}
	return watcher_start(d->watcher);
}

static void start_all(struct daemon *d)
{
	for (size_t i = 0; i < d->n_services; i++)
		step(&d->services[i], EVENT_TICK, NULL);
	sd_event_source_set_time_relative(d->tick, d->conf->interval_usec);
	sd_event_source_set_enabled(d->tick, SD_EVENT_ON);
}

/* The persisted part of the running services, to carry over a SIGHUP. */
static int snapshot(const struct daemon *d, struct state *ret)
{
	ret->services = calloc(d->n_services ? d->n_services : 1, sizeof(*ret->services));
	if (!ret->services)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_services; i++) {
		ret->services[i].name = strdup(d->services[i].conf->name);
		if (!ret->services[i].name)
			return -ENOMEM;
		ret->services[i].policy = d->services[i].ps;
		ret->services[i].reloads_ok = d->services[i].reloads_ok;
		ret->services[i].reloads_failed = d->services[i].reloads_failed;
		snprintf(ret->services[i].last_result, sizeof(ret->services[i].last_result), "%s",
			 d->services[i].last_result);
		ret->n_services++;
	}
	return 0;
}

/* A check, reload or verification in flight, which a new configuration must not cut. */
static bool busy(const struct daemon *d)
{
	for (size_t i = 0; i < d->n_services; i++) {
		enum policy_phase p = d->services[i].ps.phase;

		if (d->services[i].op || p == PHASE_VALIDATING || p == PHASE_RELOADING ||
		    p == PHASE_VERIFYING)
			return true;
	}
	return false;
}

static void schedule_apply(struct daemon *d)
{
	if (d->pending && !busy(d))
		sd_event_source_set_enabled(d->apply, SD_EVENT_ONESHOT);
}

/* Swaps in the pending configuration, carrying each service's policy over by name. */
static int on_apply(sd_event_source *src, void *userdata)
{
	struct daemon *d = userdata;
	struct conf *c = d->pending, *old = d->conf;
	struct state carried = {};
	int r;

	(void)src;
	if (!c || busy(d))
		return 0;
	d->pending = NULL;
	r = snapshot(d, &carried);
	teardown(d);
	if (r >= 0)
		r = build(d, c, &carried);
	state_done(&carried);
	conf_free(old);
	if (r < 0) {
		log_error("SIGHUP: cannot apply the new configuration: %s", strerror(-r));
		return sd_event_exit(d->event, 1);
	}
	log_notice("configuration re-read: %zu services, %zu endpoints", d->n_services, d->n_items);
	start_all(d);
	sd_notify(false, "READY=1");
	return 0;
}

static int on_sighup(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	struct conf *c = NULL;
	char err[4096] = "";
	int r;

	(void)src;
	(void)si;
	/* MONOTONIC_USEC lets systemd 253's Type=notify-reload match this to the SIGHUP. */
	sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=re-reading the configuration",
		   (unsigned long long)now_monotonic_usec());
	r = conf_load(d->config_path, true, &c, err, sizeof(err));
	if (r < 0) {
		err[strcspn(err, "\n")] = '\0';
		log_error("SIGHUP: %s is not valid, keeping the running configuration: %s",
			  d->config_path, err);
		if (!d->pending)
			sd_notify(false, "READY=1");
		save_and_announce(d);
		return 0;
	}
	conf_free(d->pending);
	d->pending = c;
	/* A reload in flight finishes and is verified first; then the new one reconciles. */
	if (busy(d))
		log_notice("SIGHUP: the new configuration is valid; it takes over once the "
			   "reload in progress is verified or fails");
	schedule_apply(d);
	return 0;
}

static int on_stop(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	(void)src;
	log_info("stopping on signal %u", si->ssi_signo);
	sd_notify(false, "STOPPING=1");
	return sd_event_exit(d->event, 0);
}

int daemon_run(const char *config_path, const char *only_service)
{
	struct daemon d = { .config_path = config_path, .only = only_service, .control_fd = -1 };
	struct conf *c = NULL;
	struct state saved = {};
	char err[4096] = "";
	sigset_t mask;
	int r, status = 1;

	log_setup();
	r = conf_load(config_path, true, &c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s%s", err, err[0] && err[strlen(err) - 1] != '\n' ? "\n" : "");
		return 1;
	}
	if (state_dir_for(c->state_dir, only_service, d.state_dir, sizeof(d.state_dir)) < 0) {
		log_error("the state directory %s/%s is too long", c->state_dir, only_service);
		conf_free(c);
		return 1;
	}
	if ((only_service && mkdir(c->state_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(d.state_dir, 0700) < 0 && errno != EEXIST)) {
		log_error("cannot create the state directory %s: %m", d.state_dir);
		conf_free(c);
		return 1;
	}
	r = state_load(d.state_dir, &saved, err, sizeof(err));
	if (r == -EBADMSG)
		log_warning("%s; starting from a clean state", err);
	else if (r < 0 && r != -ENOENT)
		log_warning("cannot read the state file in %s: %s; starting from a clean state",
			    d.state_dir, strerror(-r));
	d.last = saved;   /* the previous verdicts, so changes across a restart are logged */

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	r = sd_event_default(&d.event);
	if (r >= 0)
		r = sd_event_set_watchdog(d.event, true);
	if (r >= 0)
		r = sd_event_add_signal(d.event, NULL, SIGTERM, on_stop, &d);
	if (r >= 0)
		r = sd_event_add_signal(d.event, NULL, SIGINT, on_stop, &d);
	if (r >= 0)
		r = sd_event_add_signal(d.event, NULL, SIGHUP, on_sighup, &d);
	if (r >= 0)
		r = sd_event_add_time_relative(d.event, &d.tick, CLOCK_MONOTONIC, c->interval_usec,
					       USEC_PER_SEC, on_tick, &d);
	if (r >= 0)
		r = sd_event_add_defer(d.event, &d.apply, on_apply, &d);
	if (r >= 0)
		r = sd_event_source_set_enabled(d.apply, SD_EVENT_OFF);
	if (r < 0) {
		log_error("cannot set up the event loop: %s", strerror(-r));
		goto out;
	}
	r = build(&d, c, &saved);
	c = NULL;
	if (r >= 0)
		r = open_control(&d);
	if (r < 0) {
		log_error("cannot start: %s", strerror(-r));
		goto out;
	}
	log_notice("guarding %zu services, %zu endpoints", d.n_services, d.n_items);
	start_all(&d);
	/* The first reconcile has started: systemd may order other units after us. */
	sd_notify(false, "READY=1");
	r = sd_event_loop(d.event);
	status = r < 0 ? 1 : r;
	if (d.n_services)
		save_and_announce(&d);
out:
	teardown(&d);
	sd_event_source_disable_unref(d.control);
	if (d.control_fd >= 0)
		close(d.control_fd);
	sd_event_source_disable_unref(d.tick);
	sd_event_source_disable_unref(d.apply);
	conf_free(d.pending);
	sd_bus_flush_close_unref(d.bus);
	sd_event_unref(d.event);
	conf_free(d.conf ? d.conf : c);
	state_done(&d.last);
	return status;
}
