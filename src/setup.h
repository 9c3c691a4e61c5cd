/*
 * setup.h - everything the daemon runs for one configuration: the probe
 * pool, the watcher, the endpoints, a runtime per service, the state
 * writer and the control socket.
 *
 * A SIGHUP builds a whole new setup beside the running one (setup_new()
 * either succeeds completely or leaves nothing behind) and swaps only
 * then, so a configuration that parses but cannot be built leaves the
 * running one untouched.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

#include "check.h"
#include "conf.h"
#include "control-server.h"
#include "persist.h"
#include "probe-pool.h"
#include "reload.h"
#include "service.h"
#include "state.h"
#include "watch.h"

struct setup {
	struct conf *conf;
	const char *only;                 /* the one service guarded (certwatch@NAME), or NULL */
	char state_dir[PATH_MAX];         /* state-dir, or state-dir/NAME with only */
	int lock_fd;                      /* state_lock_take()'s, held for the setup's life */
	struct probe_pool *pool;          /* the probes' threads (probe-pool.h) */
	struct dane_resolver *resolver;   /* made only when an endpoint wants DANE */
	struct watcher *watcher;          /* built by setup_new, started by setup_start */
	struct check_item *items;         /* every endpoint, service by service */
	size_t n_items;
	struct service **services;
	size_t *first_item;               /* of each service, in items */
	size_t n_services;
	struct persist *persist;
	struct control_server *control;
	struct requests *requests;        /* resume and sync, answered */
	struct service_env env;
};

/*
 * Builds the setup for c (taken on success) guarding every service, or only
 * the one named.  running: the setup a SIGHUP replaces, or NULL; its lock
 * of the state directory and its control socket are shared when the
 * directory is the same.  saved: the state to carry on (the running
 * setup's, on SIGHUP); NULL reads the state file of the setup's state
 * directory, which is made when missing and locked (state-lock.h).  On failure returns a negative errno and a message
 * in err naming what failed and what to do; nothing is left behind.
 */
int setup_new(sd_event *event, struct reload_env *reload, struct conf *c, const char *only,
	      const struct setup *running, const struct state *saved, struct setup **ret, char *err, size_t errlen);

/* Says once when reload commands cannot get a cgroup of their own (reload.h). */
void setup_note_confinement(const struct setup *s);

/* Starts watching and reconciles every service at once. */
int setup_start(struct setup *s);

/* The periodic reconcile of every service. */
void setup_tick(struct setup *s);

/* A check, reload or verification is in flight somewhere. */
bool setup_busy(const struct setup *s);

/* Writes what is unsaved and frees everything; NULL is fine. */
void setup_free(struct setup *s);
