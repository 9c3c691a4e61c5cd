/*
 * probe-pool.h - the probe engine's contract (probe.h) kept by a few
 * threads: the daemon's probes run on workers, one per CPU, while every
 * callback runs on the caller's loop.
 *
 * A TLS handshake costs the client about what it costs the server, most of
 * it OpenSSL decoding the server's certificates: on one thread, a host of
 * thousands of endpoints waits for one core.  Each worker is a thread with
 * its own sd-event loop and its own probe engine, and max_in_flight is
 * shared out among them; a probe goes to a worker with room for it.  Everything but the probe itself stays on the caller's thread: the
 * result comes back by value and done is called there, with the same
 * promises as the engine's (exactly once, from the loop, never from inside
 * probe_pool_start(), and not at all once the pool is freed).  The
 * target's strings are read by a worker until done is called.
 */
#pragma once

#include <systemd/sd-event.h>

#include "probe.h"

/* Threads that probe, each with its own loop and engine: one per CPU, at most this. */
#define PROBE_WORKERS_MAX 4

struct probe_pool;

/*
 * How many workers probe for a caller that allows max_in_flight probes at
 * once: one per CPU the process may run on (its affinity), at most
 * PROBE_WORKERS_MAX and max_in_flight; at least 1.  `check` uses the same
 * rule for its shares.
 */
unsigned probe_workers(unsigned max_in_flight);

/*
 * A pool of n_workers threads (0: probe_workers(max_in_flight)) whose
 * results are delivered on event, the caller's loop (the pool takes its
 * own reference).  max_in_flight is the bound for the whole pool, lowered
 * as the descriptors left require (fdlimit.h, said through on_notice).
 */
int probe_pool_new(sd_event *event, unsigned max_in_flight, unsigned n_workers,
		   struct probe_pool **ret);

/* As probe_start(); done is called on event's thread. */
int probe_pool_start(struct probe_pool *p, const struct probe_target *t, probe_done_t done,
		     void *userdata);

/* As probe_engine_on_notice(): what a worker's engine says is said on event's thread. */
void probe_pool_on_notice(struct probe_pool *p, probe_notice_t notice, void *userdata);

/* Probes started and not yet delivered: queued, running, or awaiting done. */
unsigned probe_pool_pending(const struct probe_pool *p);

/* As probe_engine_closing(), summed over the workers; a change to 0 wakes event. */
unsigned probe_pool_closing(const struct probe_pool *p);

/*
 * Stops and joins every worker (their engines cancel their probes) and
 * frees what was not delivered; done is not called.  NULL is fine.
 */
void probe_pool_free(struct probe_pool *p);
