/*
 * fake-systemd.c - stands in for systemd's PID 1 manager
 * (org.freedesktop.systemd1 on the system bus) so that test-reload can
 * drive every path of reload_unit_start() on a private dbus-daemon.
 *
 * Usage: fake-systemd LOG [UNITS].  It connects to DBUS_SYSTEM_BUS_ADDRESS, takes
 * the name org.freedesktop.systemd1, writes "ready\n" to stdout and serves
 * /org/freedesktop/systemd1, interface org.freedesktop.systemd1.Manager:
 *   Subscribe()          like systemd: a second call from the same client
 *                        fails with org.freedesktop.systemd1.AlreadySubscribed
 *   ReloadUnit(ss) -> o  a job /org/freedesktop/systemd1/job/N, whose fate
 *                        depends on the unit's name:
 *     ok.service       JobRemoved "done" 20 ms later; appends
 *                      "ReloadUnit ok.service replace" to LOG
 *     fail.service     JobRemoved "failed" 20 ms later
 *     early.service    JobRemoved "done" sent before the method reply
 *     slow.service     the job never finishes
 *     UNIT             with an executable UNITS/UNIT.reload: it is run, and the
 *                      job ends "done" when it exits 0, else "failed" (the
 *                      unit's ExecReload=); appends "ReloadUnit UNIT replace"
 *     anything else    org.freedesktop.systemd1.NoSuchUnit
 *   RestartUnit(ss) -> o  the same with UNITS/UNIT.restart, and
 *                      "RestartUnit UNIT replace"
 *   signal JobRemoved(uoss)
 * SIGTERM or the bus going away ends it with status 0.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#define MANAGER_PATH "/org/freedesktop/systemd1"
#define MANAGER_IFACE "org.freedesktop.systemd1.Manager"
#define SUBSCRIBERS_MAX 64
#define JOB_DELAY_USEC 20000

struct job {
	sd_bus *bus;                /* not a reference: timers fire only while the loop runs */
	uint32_t id;
	char path[64];
	char unit[128];
	const char *result;
};

struct manager {
	const char *log;
	const char *units;          /* directory of UNIT.reload and UNIT.restart programs */
	uint32_t next_job;
	char *subscribers[SUBSCRIBERS_MAX];
	size_t n_subscribers;
};

static int emit_job_removed(sd_bus *bus, const struct job *j)
{
	return sd_bus_emit_signal(bus, MANAGER_PATH, MANAGER_IFACE, "JobRemoved", "uoss",
				  j->id, j->path, j->unit, j->result);
}

static int on_job_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct job *j = userdata;

	(void)s;
	(void)usec;
	return emit_job_removed(j->bus, j);
}

/* The job ends JOB_DELAY_USEC from now; the event loop owns the timer and j. */
static int job_finish_later(sd_bus *bus, struct job *j)
{
	sd_event_source *s = NULL;
	int r;

	r = sd_event_add_time_relative(sd_bus_get_event(bus), &s, CLOCK_MONOTONIC, JOB_DELAY_USEC, 0,
				       on_job_timer, j);
	if (r < 0) {
		free(j);
		return r;
	}
	j->bus = bus;
	r = sd_event_source_set_destroy_callback(s, free);
	if (r >= 0)
		r = sd_event_source_set_floating(s, true);
	sd_event_source_unref(s);
	return r;
}

static int append_log(const char *log, const char *method, const char *unit)
{
	FILE *f = fopen(log, "ae");

	if (!f)
		return -errno;
	fprintf(f, "%s %s replace\n", method, unit);
	return fclose(f) == 0 ? 0 : -errno;
}

static int on_program_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct job *j = userdata;

	j->result = si->si_code == CLD_EXITED && si->si_status == 0 ? "done" : "failed";
	emit_job_removed(j->bus, j);
	(void)sd_event_source_set_enabled(s, SD_EVENT_OFF);   /* floating: the loop frees it */
	free(j);
	return 0;
}

/* Runs UNITS/UNIT.VERB if there is one; the job ends when it exits.  0 when there is none. */
static int job_run_program(struct manager *mgr, sd_bus *bus, struct job *j, const char *verb)
{
	char path[PATH_MAX];
	pid_t pid;
	int r;

	if (!mgr->units)
		return 0;
	snprintf(path, sizeof path, "%s/%s.%s", mgr->units, j->unit, verb);
	if (access(path, X_OK) < 0)
		return 0;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	j->bus = bus;
	r = sd_event_add_child(sd_bus_get_event(bus), NULL, pid, WEXITED, on_program_exit, j);
	return r < 0 ? r : 1;
}

static int method_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct manager *mgr = userdata;
	const char *sender = sd_bus_message_get_sender(m);

	if (!sender)
		return -EINVAL;
	for (size_t i = 0; i < mgr->n_subscribers; i++)
		if (strcmp(mgr->subscribers[i], sender) == 0)
			return sd_bus_error_set(ret_error, "org.freedesktop.systemd1.AlreadySubscribed",
						"Client is already subscribed.");
	if (mgr->n_subscribers < SUBSCRIBERS_MAX) {
		mgr->subscribers[mgr->n_subscribers] = strdup(sender);
		if (!mgr->subscribers[mgr->n_subscribers])
			return -ENOMEM;
		mgr->n_subscribers++;
	}
	return sd_bus_reply_method_return(m, NULL);
}

static bool known_unit(const char *unit)
{
	return strcmp(unit, "ok.service") == 0 || strcmp(unit, "fail.service") == 0 ||
	       strcmp(unit, "early.service") == 0 || strcmp(unit, "slow.service") == 0;
}

static int method_unit_job(sd_bus_message *m, struct manager *mgr, sd_bus_error *ret_error,
			   const char *method, const char *verb)
{
	const char *unit, *mode;
	struct job *j;
	int r;

	r = sd_bus_message_read(m, "ss", &unit, &mode);
	if (r < 0)
		return r;
	if (strcmp(mode, "replace") != 0)
		return sd_bus_error_setf(ret_error, SD_BUS_ERROR_INVALID_ARGS,
					 "Job mode %s invalid.", mode);

	j = calloc(1, sizeof *j);
	if (!j)
		return -ENOMEM;
	j->id = ++mgr->next_job;
	snprintf(j->path, sizeof j->path, MANAGER_PATH "/job/%u", (unsigned)j->id);
	snprintf(j->unit, sizeof j->unit, "%s", unit);
	j->result = strcmp(unit, "fail.service") == 0 ? "failed" : "done";

	if (strcmp(unit, "ok.service") == 0 && mgr->log) {
		r = append_log(mgr->log, method, unit);
		if (r < 0)
			goto fail;
	}
	if (strcmp(unit, "early.service") == 0) {
		/* Queued before the reply: the client sees JobRemoved first. */
		r = emit_job_removed(sd_bus_message_get_bus(m), j);
		if (r < 0)
			goto fail;
	}
	if (!known_unit(unit)) {
		r = job_run_program(mgr, sd_bus_message_get_bus(m), j, verb);
		if (r == 0) {
			free(j);
			return sd_bus_error_setf(ret_error, "org.freedesktop.systemd1.NoSuchUnit",
						 "Unit %s not found.", unit);
		}
		if (r < 0)
			goto fail;
		/* The job is the child source's now. */
		if (mgr->log)
			(void)append_log(mgr->log, method, unit);
		return sd_bus_reply_method_return(m, "o", j->path);
	}
	r = sd_bus_reply_method_return(m, "o", j->path);
	if (r < 0)
		goto fail;
	if (strcmp(unit, "ok.service") == 0 || strcmp(unit, "fail.service") == 0)
		return job_finish_later(sd_bus_message_get_bus(m), j);
	free(j);
	return 1;
fail:
	free(j);
	return r;
}

static int method_reload_unit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	return method_unit_job(m, userdata, ret_error, "ReloadUnit", "reload");
}

static int method_restart_unit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	return method_unit_job(m, userdata, ret_error, "RestartUnit", "restart");
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Subscribe", "", "", method_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ReloadUnit", "ss", "o", method_reload_unit, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("RestartUnit", "ss", "o", method_restart_unit, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
	SD_BUS_VTABLE_END
};

int main(int argc, char **argv)
{
	struct manager mgr = {
		.log = argc > 1 ? argv[1] : NULL,
		.units = argc > 2 ? argv[2] : NULL,
	};
	sd_bus_slot *slot = NULL;
	sd_event *event = NULL;
	sd_bus *bus = NULL;
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);   /* the programs of UNITS: sd-event's child sources */
	sigprocmask(SIG_BLOCK, &mask, NULL);

	r = sd_event_default(&event);
	if (r < 0)
		goto out;
	r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
	if (r < 0)
		goto out;
	r = sd_bus_open_system(&bus);
	if (r < 0)
		goto out;
	r = sd_bus_add_object_vtable(bus, &slot, MANAGER_PATH, MANAGER_IFACE, manager_vtable, &mgr);
	if (r < 0)
		goto out;
	r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
	if (r < 0)
		goto out;
	r = sd_bus_attach_event(bus, event, 0);
	if (r < 0)
		goto out;
	r = sd_bus_set_exit_on_disconnect(bus, true);
	if (r < 0)
		goto out;
	printf("ready\n");
	fflush(stdout);
	r = sd_event_loop(event);
out:
	if (r < 0)
		fprintf(stderr, "fake-systemd: %s\n", strerror(-r));
	sd_bus_slot_unref(slot);
	sd_bus_flush_close_unref(bus);
	sd_event_unref(event);
	for (size_t i = 0; i < mgr.n_subscribers; i++)
		free(mgr.subscribers[i]);
	return r < 0 ? 1 : 0;
}
