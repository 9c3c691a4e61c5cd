/*
 * reload-unit.c - the systemd methods: ReloadUnit(unit, "replace"), or
 * RestartUnit for a server that takes a new certificate only when it
 * starts, over D-Bus, then the job's JobRemoved signal; RELOAD_OK when
 * its result is "done" (org.freedesktop.systemd1(5)).
 *
 * The method owns its bus connection in struct reload_env: opened at the
 * first reload, and opened anew when the bus daemon has gone away since
 * (a restarted dbus.service closes every connection).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "reload-op.h"
#include "util.h"

#define EARLY_JOBS_MAX 8    /* JobRemoved signals kept while ReloadUnit's reply is on its way */

#define SYSTEMD_DEST      "org.freedesktop.systemd1"
#define SYSTEMD_PATH      "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER   "org.freedesktop.systemd1.Manager"

struct early_job {
	char *job;
	char *result;
};

struct unit_op {
	struct reload_op op;        /* first: the common part */
	const char *verb;           /* "ReloadUnit" or "RestartUnit" */
	const char *what;           /* "reload" or "restart" */
	sd_bus *bus;
	char *unit, *job;
	sd_bus_slot *match, *call;
	struct early_job early[EARLY_JOBS_MAX];
	size_t n_early;
};

static void early_jobs_clear(struct unit_op *u)
{
	for (size_t i = 0; i < u->n_early; i++) {
		free(u->early[i].job);
		free(u->early[i].result);
	}
	u->n_early = 0;
}

static void unit_destroy(struct reload_op *op)
{
	struct unit_op *u = (struct unit_op *)op;

	sd_bus_slot_unref(u->match);
	sd_bus_slot_unref(u->call);
	sd_bus_unref(u->bus);
	free(u->unit);
	free(u->job);
	early_jobs_clear(u);
}

static void unit_job_ended(struct unit_op *u, const char *result)
{
	char esc[64];

	if (strcmp(result, "done") == 0) {
		reload_op_complete(&u->op, RELOAD_OK, "systemd %sed %s", u->what, u->unit);
		return;
	}
	escape_bytes(result, strlen(result), esc, sizeof esc);
	reload_op_complete(&u->op, RELOAD_JOB_FAILED, "systemd's %s job for %s ended with result \"%s\"",
		    u->what, u->unit, esc);
}

static void unit_bus_error(struct unit_op *u, const char *what, const sd_bus_error *e)
{
	char name[128], message[256];

	escape_bytes(e->name, strlen(e->name), name, sizeof name);
	escape_bytes(e->message ? e->message : "", e->message ? strlen(e->message) : 0,
		     message, sizeof message);
	reload_op_complete(&u->op, RELOAD_BUS_ERROR, "%s: %s: %s", what, name, message);
}

static int on_match_installed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct unit_op *u = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	(void)ret_error;
	if (e && !u->op.completing)
		unit_bus_error(u, "cannot watch systemd's jobs", e);
	return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct unit_op *u = userdata;
	const char *job, *unit, *result;
	struct early_job *ej;
	uint32_t id;

	(void)ret_error;
	if (u->op.completing || sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
		return 0;
	if (u->job) {
		if (strcmp(job, u->job) == 0)
			unit_job_ended(u, result);
		return 0;
	}
	/* The reply with our job's path may still be on its way. */
	if (strcmp(unit, u->unit) != 0)
		return 0;
	if (u->n_early == EARLY_JOBS_MAX) {
		free(u->early[0].job);
		free(u->early[0].result);
		memmove(u->early, u->early + 1, sizeof u->early[0] * (EARLY_JOBS_MAX - 1));
		u->n_early--;
	}
	ej = &u->early[u->n_early];
	ej->job = strdup(job);
	ej->result = strdup(result);
	if (!ej->job || !ej->result) {
		free(ej->job);
		free(ej->result);
		return 0;
	}
	u->n_early++;
	return 0;
}

static int on_reload_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct unit_op *u = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	const char *job;
	char what[160];

	(void)ret_error;
	if (u->op.completing)
		return 0;
	snprintf(what, sizeof what, "%s(%s)", u->verb, u->unit);
	if (e) {
		unit_bus_error(u, what, e);
		return 0;
	}
	if (sd_bus_message_read(m, "o", &job) < 0) {
		reload_op_complete(&u->op, RELOAD_BUS_ERROR, "%s: the reply holds no job path", what);
		return 0;
	}
	u->job = strdup(job);
	if (!u->job) {
		reload_op_complete(&u->op, RELOAD_BUS_ERROR, "%s: %s", what, strerror(ENOMEM));
		return 0;
	}
	for (size_t i = 0; i < u->n_early; i++)
		if (strcmp(u->early[i].job, u->job) == 0) {
			unit_job_ended(u, u->early[i].result);
			break;
		}
	early_jobs_clear(u);
	return 0;
}

static int on_unit_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct unit_op *u = userdata;
	char timeout[32];

	(void)s;
	(void)usec;
	format_duration(u->op.timeout_usec, timeout, sizeof timeout);
	if (u->job)
		reload_op_complete(&u->op, RELOAD_TIMEOUT, "systemd's %s job for %s did not finish within %s",
			    u->what, u->unit, timeout);
	else
		reload_op_complete(&u->op, RELOAD_TIMEOUT, "systemd did not answer %s(%s) within %s",
			    u->verb, u->unit, timeout);
	return 0;
}

/*
 * The match goes out before the call: the bus daemon handles one
 * connection's messages in order, so no JobRemoved can slip past.
 * Subscribe's reply is not awaited: a second operation on the same
 * connection gets AlreadySubscribed, which is harmless.
 */
static int unit_send(struct unit_op *u)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_match_signal_async(u->bus, &u->match, SYSTEMD_DEST, SYSTEMD_PATH,
				      SYSTEMD_MANAGER, "JobRemoved", on_job_removed,
				      on_match_installed, u);
	if (r < 0)
		goto out;
	r = sd_bus_call_method_async(u->bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
				     "Subscribe", NULL, NULL, "");
	if (r < 0)
		goto out;
	r = sd_bus_message_new_method_call(u->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH,
					   SYSTEMD_MANAGER, u->verb);
	if (r < 0)
		goto out;
	r = sd_bus_message_append(m, "ss", u->unit, "replace");
	if (r < 0)
		goto out;
	r = sd_bus_call_async(u->bus, &u->call, m, on_reload_reply, u, u->op.timeout_usec);
out:
	sd_bus_message_unref(m);
	return r;
}

static int unit_call_start(sd_event *event, sd_bus *bus, bool restart, const char *unit,
			   uint64_t timeout_usec, reload_done_t done, void *userdata,
			   struct reload_op **ret)
{
	struct reload_op *op = NULL;
	struct unit_op *u;
	int r;

	if (!event || !bus || !unit || !*unit || !done || !ret)
		return -EINVAL;
	r = reload_op_new(event, sizeof(*u), done, userdata, &op);
	if (r < 0)
		return r;
	u = (struct unit_op *)op;
	u->verb = restart ? "RestartUnit" : "ReloadUnit";
	u->what = restart ? "restart" : "reload";
	op->destroy = unit_destroy;
	op->timeout_usec = timeout_usec;
	u->bus = sd_bus_ref(bus);
	u->unit = strdup(unit);
	if (!u->unit) {
		reload_op_free(op);
		return -ENOMEM;
	}
	r = reload_op_add_timer(op, on_unit_timer);
	if (r < 0) {
		reload_op_free(op);
		return r;
	}
	r = unit_send(u);
	if (r < 0)
		reload_op_complete(op, RELOAD_BUS_ERROR, "cannot ask systemd to %s %s: %s", u->what,
				   unit, strerror(-r));
	*ret = op;
	return 0;
}

int reload_unit_start(sd_event *event, sd_bus *bus, const char *unit, uint64_t timeout_usec,
		      reload_done_t done, void *userdata, struct reload_op **ret)
{
	return unit_call_start(event, bus, false, unit, timeout_usec, done, userdata, ret);
}

int reload_restart_start(sd_event *event, sd_bus *bus, const char *unit, uint64_t timeout_usec,
			 reload_done_t done, void *userdata, struct reload_op **ret)
{
	return unit_call_start(event, bus, true, unit, timeout_usec, done, userdata, ret);
}

/* The system bus, attached to the loop; opened again when it was closed. */
static int env_bus(struct reload_env *env, sd_bus **ret)
{
	int r;

	if (env->bus && sd_bus_is_open(env->bus) <= 0)
		env->bus = sd_bus_flush_close_unref(env->bus);
	if (!env->bus) {
		r = sd_bus_open_system(&env->bus);
		if (r < 0)
			return r;
		r = sd_bus_attach_event(env->bus, env->event, SD_EVENT_PRIORITY_NORMAL);
		if (r < 0) {
			env->bus = sd_bus_unref(env->bus);
			return r;
		}
	}
	*ret = env->bus;
	return 0;
}

static int env_unit_start(struct reload_env *env, bool restart, const char *unit,
			  const struct conf_service *cs, reload_done_t done, void *userdata,
			  struct reload_op **ret)
{
	sd_bus *bus = NULL;
	int r;

	r = env_bus(env, &bus);
	if (r < 0)
		return r;
	return unit_call_start(env->event, bus, restart, unit, cs->reload_timeout_usec, done,
			       userdata, ret);
}

int reload_unit_method_start(struct reload_env *env, const struct conf_service *cs,
			     reload_done_t done, void *userdata, struct reload_op **ret)
{
	return env_unit_start(env, false, cs->reload_unit, cs, done, userdata, ret);
}

int reload_restart_method_start(struct reload_env *env, const struct conf_service *cs,
				reload_done_t done, void *userdata, struct reload_op **ret)
{
	return env_unit_start(env, true, cs->restart_unit, cs, done, userdata, ret);
}

void reload_env_done(struct reload_env *env)
{
	env->bus = sd_bus_flush_close_unref(env->bus);
}
