/*
 * setup.c - one configuration's runtime, built whole or not at all; see
 * setup.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "metrics.h"
#include "requests.h"
#include "setup.h"
#include "state-lock.h"

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

/* The watcher's group is the index of the endpoint in s->items. */
static void on_files_changed(unsigned group, void *userdata)
{
	struct setup *s = userdata;
	size_t lo = 0, hi = s->n_services;

	if (group >= s->n_items || hi == 0)
		return;
	while (hi - lo > 1) {     /* the last service whose first item is at or before group */
		size_t mid = lo + (hi - lo) / 2;

		if (s->first_item[mid] <= group)
			lo = mid;
		else
			hi = mid;
	}
	service_files_changed(s->services[lo], group - s->first_item[lo]);
}

static void on_probe_notice(const char *message, void *userdata)
{
	(void)userdata;
	log_warning("%s", message);
}

static void on_polling(const char *why, void *userdata)
{
	struct setup *s = userdata;
	char every[32];

	format_duration(s->conf->poll_interval_usec, every, sizeof(every));
	log_warning("the certificate files are no longer watched but polled every %s (poll-interval) "
		    "from now on: %s", every, why);
}

static void on_record_changed(void *userdata, const struct service *svc)
{
	struct setup *s = userdata;

	if (s->persist)
		persist_note_service(s->persist, svc);
}

static void on_endpoint_changed(void *userdata, const struct check_item *it)
{
	struct setup *s = userdata;

	if (s->persist)
		persist_note_item(s->persist, it);
}

static void on_changed(void *userdata, bool save)
{
	struct setup *s = userdata;

	if (s->persist && save)
		persist_mark(s->persist);
	if (s->requests)
		requests_check(s->requests);
}

static void flush(void *userdata)
{
	struct setup *s = userdata;

	persist_flush(s->persist);
}

static void on_control(struct control_conn *conn, const char *request, void *userdata)
{
	struct setup *s = userdata;

	requests_handle(s->requests, conn, request);
}

/* Why dir cannot be made (errno e), and what to do about it. */
static int mkdir_failed(char *err, size_t errlen, const char *dir, int e)
{
	const char *fix = e == EROFS ? "it is on a read-only file system: make it where certwatch "
		"may write, or set state-dir to a directory that is" :
		e == EACCES || e == EPERM ? "certwatch may not write to its parent: run certwatch "
		"as root, or make it (mode 0700) for the user running certwatch" :
		"make it (mode 0700, owned by root), or set state-dir to a directory certwatch may "
		"write to";

	return fail(err, errlen, -e, "cannot create the state directory %s: %s; %s", dir,
		    strerror(e), fix);
}

/*
 * The state directory, made when missing (with its parent for an
 * instance), trusted only as state_dir_check() says, and locked: one
 * daemon per directory.
 */
static int make_state_dir(struct setup *s, const struct setup *running, char *err,
			  size_t errlen)
{
	int r = state_dir_for(s->conf->state_dir, s->only, s->state_dir, sizeof(s->state_dir));

	if (r == -EINVAL)
		return fail(err, errlen, r, "\"%s\" cannot be a service's name: no service has it",
			    s->only);
	if (r < 0)
		return fail(err, errlen, r, "the state directory %s/%s is too long; set a shorter "
			    "state-dir", s->conf->state_dir, s->only ? s->only : "");
	if (s->only && mkdir(s->conf->state_dir, 0700) < 0 && errno != EEXIST)
		return mkdir_failed(err, errlen, s->conf->state_dir, errno);
	if (mkdir(s->state_dir, 0700) < 0 && errno != EEXIST)
		return mkdir_failed(err, errlen, s->state_dir, errno);
	r = state_dir_check(s->state_dir, err, errlen);
	if (r >= 0)
		r = state_lock_take(s->state_dir, running ? running->lock_fd : -1, &s->lock_fd,
				    err, errlen);
	return r;
}

/* The services and their endpoints; the watcher learns each service's files. */
static int build_services(struct setup *s, const struct state *saved, char *err, size_t errlen)
{
	size_t k = 0;
	int r;

	s->services = calloc(s->conf->n_services ? s->conf->n_services : 1, sizeof(*s->services));
	s->first_item = calloc(s->conf->n_services ? s->conf->n_services : 1,
			       sizeof(*s->first_item));
	if (!s->services || !s->first_item)
		return -ENOMEM;
	for (size_t i = 0; i < s->conf->n_services; i++) {
		const struct conf_service *cs = &s->conf->services[i];
		struct service *svc;

		if (s->only && strcmp(cs->name, s->only) != 0)
			continue;
		r = service_new(&s->env, cs, &s->items[k], cs->n_endpoints, saved, &svc);
		if (r < 0)
			return r;
		s->services[s->n_services] = svc;
		s->first_item[s->n_services] = k;
		for (size_t j = 0; j < cs->n_endpoints && r >= 0; j++) {
			const struct check_item *it = &s->items[k + j];
			unsigned group = (unsigned)(k + j);

			r = watcher_add(s->watcher, group, it->cert);
			if (r >= 0 && it->chain)
				r = watcher_add(s->watcher, group, it->chain);
			if (r >= 0 && it->key)
				r = watcher_add(s->watcher, group, it->key);
		}
		s->n_services++;
		k += cs->n_endpoints;
		if (r < 0)
			return fail(err, errlen, r, "cannot watch the files of service %s: %s",
				    cs->name, strerror(-r));
	}
	return 0;
}

/* The state to carry on: the one given, or the state file's. */
static void load_saved(const struct setup *s, struct state *ret)
{
	char err[512] = "";
	int r = state_load(s->state_dir, ret, err, sizeof(err));

	if (r == -EBADMSG)
		log_warning("%s; starting from a clean state", err);
	else if (r < 0 && r != -ENOENT)
		log_warning("cannot read the state file in %s: %s; starting from a clean state",
			    s->state_dir, strerror(-r));
}

static int build(struct setup *s, const struct setup *running, const struct state *saved,
		 char *err, size_t errlen)
{
	struct persist_source src;
	char metrics[PATH_MAX];
	int r;

	r = build_services(s, saved, err, errlen);
	if (r < 0)
		return r;
	if (s->conf->metrics_file &&
	    metrics_instance_path(s->conf->metrics_file, s->only, metrics, sizeof(metrics)) < 0)
		return fail(err, errlen, -ENAMETOOLONG, "metrics-file %s with -%s is too long; "
			    "set a shorter metrics-file", s->conf->metrics_file, s->only);
	src = (struct persist_source) {
		.services = s->services, .n_services = s->n_services,
		.items = s->items, .n_items = s->n_items, .pool = s->pool,
	};
	r = persist_new(s->env.event, s->state_dir, s->conf->metrics_file ? metrics : NULL, &src,
			&s->persist);
	if (r >= 0)
		r = requests_new(s->services, s->n_services, flush, s, &s->requests);
	if (r < 0)
		return r;
	r = control_server_new(s->env.event, s->state_dir, running ? running->control : NULL,
			       on_control, s, &s->control);
	if (r == -EADDRINUSE)
		return fail(err, errlen, r, "cannot listen on %s/%s: another process listens "
			    "there; stop it, or set another state-dir", s->state_dir,
			    CONTROL_SOCKET_NAME);
	if (r < 0)
		return fail(err, errlen, r, "cannot listen on %s/%s: %s; check that the state "
			    "directory is writable", s->state_dir, CONTROL_SOCKET_NAME, strerror(-r));
	return 0;
}

/* One resolver for the loop's TLSA look-ups, when an endpoint wants them: fail now if it cannot be. */
static int make_resolver(struct setup *s, sd_event *event, char *err, size_t errlen)
{
	struct dane_options o = check_dane_options(s->conf);
	char why[1024];
	int r;

	if (!check_items_want_dane(s->items, s->n_items))
		return 0;
	r = dane_resolver_new(event, &o, &s->resolver, why, sizeof(why));
	if (r < 0)
		return fail(err, errlen, r, "TLSA records cannot be looked up: %s", why);
	s->env.resolver = s->resolver;
	return 0;
}

int setup_new(sd_event *event, struct reload_env *reload, struct conf *c, const char *only,
	      const struct setup *running, const struct state *saved, struct setup **ret, char *err, size_t errlen)
{
	struct state loaded = {};
	struct setup *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, errlen, -ENOMEM, "out of memory");
	s->conf = c;
	s->only = only;
	s->lock_fd = -1;
	s->env = (struct service_env) { .event = event, .reload = reload, .conf = c,
					.record_changed = on_record_changed,
					.endpoint_changed = on_endpoint_changed,
					.changed = on_changed, .userdata = s };
	r = check_items_from_conf(c, only, &s->items, &s->n_items);
	if (r == -ENOENT)
		r = fail(err, errlen, r, "no service \"%s\" in the configuration; name one of its "
			 "services, or run without --service", only);
	if (r >= 0)
		r = make_state_dir(s, running, err, errlen);
	if (r >= 0)
		r = probe_pool_new(event, c->max_probes, 0, &s->pool);
	if (r >= 0)
		probe_pool_on_notice(s->pool, on_probe_notice, s);
	if (r >= 0)
		r = make_resolver(s, event, err, errlen);
	if (r >= 0)
		r = watcher_new(event, c->poll_interval_usec, on_files_changed, s, &s->watcher);
	if (r >= 0) {
		watcher_on_fallback(s->watcher, on_polling, s);
		s->env.pool = s->pool;
		if (!saved)
			load_saved(s, &loaded);
		r = build(s, running, saved ? saved : &loaded, err, errlen);
	}
	state_done(&loaded);
	if (r < 0) {
		if (!err[0])
			fail(err, errlen, r, "%s", strerror(-r));
		s->conf = NULL;   /* not taken */
		setup_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void setup_note_confinement(const struct setup *s)
{
	char why[256];
	bool commands = false;

	for (size_t i = 0; i < s->conf->n_services; i++) {
		const struct conf_service *cs = &s->conf->services[i];

		if (!s->only || strcmp(cs->name, s->only) == 0)
			commands |= cs->reload_command || cs->reload_check;
	}
	if (commands && !reload_commands_confined(why, sizeof(why)))
		log_warning("reload commands run without a cgroup of their own (%s): a process a "
			    "command moves to a session of its own (setsid) escapes the kill at its "
			    "timeout", why);
}

int setup_start(struct setup *s)
{
	int r = watcher_start(s->watcher);

	if (r < 0)
		log_error("cannot start watching the certificate files: %s; they are looked at "
			  "only every interval (%s)", strerror(-r), "see certwatch.conf(5)");
	for (size_t i = 0; i < s->n_services; i++)
		service_post(s->services[i], EVENT_TICK);
	return r;
}

void setup_tick(struct setup *s)
{
	for (size_t i = 0; i < s->n_services; i++)
		service_post(s->services[i], EVENT_TICK);
}

bool setup_busy(const struct setup *s)
{
	for (size_t i = 0; i < s->n_services; i++)
		if (service_busy(s->services[i]))
			return true;
	return false;
}

void setup_free(struct setup *s)
{
	if (!s)
		return;
	if (s->persist)
		persist_flush(s->persist);
	requests_free(s->requests, "the daemon re-read its configuration or stopped; run "
		      "certwatch sync again");
	control_server_free(s->control);
	persist_free(s->persist);
	watcher_free(s->watcher);
	/* The probes first: cancelled, they must not call back into a service. */
	probe_pool_free(s->pool);
	for (size_t i = 0; i < s->n_services; i++)
		service_free(s->services[i]);
	free(s->services);
	free(s->first_item);
	/* The items cancel their look-ups, then their resolver goes. */
	check_items_free(s->items, s->n_items);
	dane_resolver_free(s->resolver);
	conf_free(s->conf);
	/* Last: while the lock is held nothing else runs in the state directory. */
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
}
