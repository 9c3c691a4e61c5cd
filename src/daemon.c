/*
 * daemon.c - `certwatch run`: the sd-event loop, its signals, the
 * periodic reconcile, the watchdog, and SIGHUP.
 *
 * Everything a configuration runs lives in a struct setup (setup.c); each
 * service's runtime in service.c; what is written for the world in
 * persist.c.  This file only starts the first setup and replaces it.
 *
 * SIGHUP is transactional: the new configuration is loaded and checked at
 * once; it takes over once no reload is in flight (a reload finishes and is
 * verified first), by building a complete new setup beside the running
 * one, carrying each service's policy and memory over by name.  Anything
 * that fails on the way is logged with its reason, and the running setup
 * goes on untouched.
 *
 * Convergence: at start every service reconciles from scratch, with its
 * persisted pause, failures and reload history restored from the state
 * file, so a certwatch killed mid-reload ends verified after at most one
 * more reload.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "setup.h"
#include "util.h"

struct daemon {
	sd_event *event;
	const char *config_path;
	const char *only;
	struct reload_env reload;
	struct setup *setup;           /* the running one */
	struct conf *pending;          /* a SIGHUP's configuration, waiting for reloads to end */
	sd_event_source *tick;
	sd_event_source *apply;        /* takes pending over once nothing is in flight */
};

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	setup_tick(d->setup);
	(void)sd_event_source_set_time(src, usec + d->setup->conf->interval_usec);
	(void)sd_event_source_set_enabled(src, SD_EVENT_ON);
	return 0;
}

static void restart_tick(struct daemon *d)
{
	(void)sd_event_source_set_time_relative(d->tick, d->setup->conf->interval_usec);
	(void)sd_event_source_set_enabled(d->tick, SD_EVENT_ON);
}

/* The running setup is idle: enable the deferred take-over. */
static int on_post(sd_event_source *src, void *userdata)
{
	struct daemon *d = userdata;

	(void)src;
	if (d->pending && !setup_busy(d->setup))
		(void)sd_event_source_set_enabled(d->apply, SD_EVENT_ONESHOT);
	return 0;
}

/* A new setup for the pending configuration, carrying the running one's state. */
static int on_apply(sd_event_source *src, void *userdata)
{
	struct daemon *d = userdata;
	struct conf *c = d->pending;
	struct setup *next = NULL;
	struct state carried = {};
	char err[1024] = "";
	const struct persist_source src_now = {
		.services = d->setup->services, .n_services = d->setup->n_services,
		.items = d->setup->items, .n_items = d->setup->n_items,
	};
	int r;

	(void)src;
	if (!c || setup_busy(d->setup))
		return 0;
	d->pending = NULL;
	r = persist_snapshot(&src_now, &carried);
	if (r >= 0) {
		state_index(&carried);
		r = setup_new(d->event, &d->reload, c, d->only, d->setup, &carried, &next, err,
			      sizeof(err));
	} else
		snprintf(err, sizeof(err), "%s", strerror(-r));
	persist_snapshot_done(&carried);
	if (r < 0) {
		conf_free(c);
		log_error("SIGHUP: cannot apply the new configuration, keeping the running one: %s",
			  err);
		sd_notify(false, "READY=1");
		return 0;
	}
	setup_free(d->setup);
	d->setup = next;
	(void)setup_start(d->setup);
	restart_tick(d);
	log_notice("configuration re-read: %zu services, %zu endpoints", d->setup->n_services,
		   d->setup->n_items);
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
		persist_mark(d->setup->persist);   /* STATUS= again */
		return 0;
	}
	conf_free(d->pending);
	d->pending = c;
	/* A reload in flight finishes and is verified first; then the new one reconciles. */
	if (setup_busy(d->setup))
		log_notice("SIGHUP: the new configuration is valid; it takes over once the "
			   "reload in progress is verified or fails");
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

static int setup_loop(struct daemon *d, uint64_t interval_usec)
{
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	r = sd_event_default(&d->event);
	if (r >= 0)
		r = sd_event_set_watchdog(d->event, true);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGTERM, on_stop, d);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGINT, on_stop, d);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d);
	if (r >= 0)
		r = sd_event_add_time_relative(d->event, &d->tick, CLOCK_BOOTTIME, interval_usec,
					       USEC_PER_SEC, on_tick, d);
	if (r >= 0)
		r = sd_event_add_defer(d->event, &d->apply, on_apply, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(d->apply, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_post(d->event, NULL, on_post, d);
	return r;
}

int daemon_run(const char *config_path, const char *only_service)
{
	struct daemon d = { .config_path = config_path, .only = only_service };
	struct conf *c = NULL;
	char err[4096] = "";
	int r, status = 1;

	log_setup();
	/*
	 * glibc raises its mmap threshold to the size of every large block
	 * freed, so that the text of one big state file append (megabytes
	 * beside 10,000 endpoints) would be taken from the heap from then on
	 * and stay there: set, the threshold stays where it is, and such a
	 * block goes back to the kernel when freed (mallopt(3)).
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	r = conf_load(config_path, true, &c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s%s", err, err[0] && err[strlen(err) - 1] != '\n' ? "\n" : "");
		return 1;
	}
	r = setup_loop(&d, c->interval_usec);
	if (r < 0) {
		log_error("cannot set up the event loop: %s", strerror(-r));
		conf_free(c);
		goto out;
	}
	d.reload.event = d.event;
	r = setup_new(d.event, &d.reload, c, only_service, NULL, NULL, &d.setup, err,
		      sizeof(err));
	if (r < 0) {
		log_error("cannot start: %s", err);
		conf_free(c);
		goto out;
	}
	log_notice("guarding %zu services, %zu endpoints", d.setup->n_services, d.setup->n_items);
	setup_note_confinement(d.setup);
	(void)setup_start(d.setup);
	/* The first reconcile has started: systemd may order other units after us. */
	sd_notify(false, "READY=1");
	r = sd_event_loop(d.event);
	status = r < 0 ? 1 : r;
out:
	setup_free(d.setup);
	sd_event_source_disable_unref(d.tick);
	sd_event_source_disable_unref(d.apply);
	conf_free(d.pending);
	reload_env_done(&d.reload);
	sd_event_unref(d.event);
	return status;
}
