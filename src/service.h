/*
 * service.h - one guarded service at run time: its endpoints, its policy
 * state, its timer, and the one step (a reconcile pass, the reload-check,
 * the reload) it has in flight.
 *
 * The interface to the loop is narrow: the loop lends a service what it
 * needs (struct service_env), delivers events with service_post(), and
 * reads back what it persists.  Every event, whether it comes from the
 * loop, a probe, a reload or a failure to start one, is queued and
 * dispatched from a defer source of its own, so the state machine is
 * never entered from inside its own dispatch.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

#include "check.h"
#include "metrics.h"
#include "policy.h"
#include "probe-pool.h"
#include "reload.h"
#include "state.h"

struct service;

/* What the loop lends every service; it outlives them. */
struct service_env {
	sd_event *event;
	struct probe_pool *pool;
	struct dane_resolver *resolver;    /* NULL when no endpoint wants DANE */
	struct reload_env *reload;
	const struct conf *conf;
	/*
	 * What the state file holds of a service, or of one of its endpoints
	 * (an item given to service_new()), changed: told before the step's
	 * changed(), which writes it, so that a write builds again only the
	 * records told of, not those of every service and endpoint.
	 */
	void (*record_changed)(void *userdata, const struct service *s);
	void (*endpoint_changed)(void *userdata, const struct check_item *it);
	/* After each step; save: something the state file holds changed. */
	void (*changed)(void *userdata, bool save);
	void *userdata;
};

/*
 * A service for cs, whose endpoints are items[0..n_items) (borrowed, owned
 * by the caller, judged in place).  Its policy, counters and the memory of
 * each endpoint's last verdict come from saved (indexed; NULL: none), so
 * that a restart or a new configuration logs only what changed.
 */
int service_new(const struct service_env *env, const struct conf_service *cs,
		struct check_item *items, size_t n_items, const struct state *saved,
		struct service **ret);

/* Queues ev for dispatch from the loop. */
void service_post(struct service *s, enum policy_event ev);

/*
 * The files of endpoint (an index into the items given to service_new())
 * changed: the passes of the round this starts look at the endpoints whose
 * files changed, and only they decide whether a reload is verified; the
 * others keep their last verdict, and are looked at again after a reload.
 */
void service_files_changed(struct service *s, size_t endpoint);

/* A check, reload or verification is in flight: a new configuration waits. */
bool service_busy(const struct service *s);

/*
 * For certwatch sync: how many reconcile passes have finished, and whether
 * the service is at rest (nothing queued, running or settling: idle,
 * backing off or waiting for its window or budget).
 */
unsigned long service_looks(const struct service *s);
bool service_at_rest(const struct service *s);

const char *service_name(const struct service *s);
bool service_paused(const struct service *s);

/* The service's record for the state file (name borrowed), with times as of now. */
void service_record(const struct service *s, const struct state_clock *now,
		    struct state_service *ret);

/* What the metrics file says of the service (name borrowed). */
void service_metrics(const struct service *s, struct metrics_service *ret);

/* Cancels what runs (a command is killed) and frees; NULL is fine. */
void service_free(struct service *s);
