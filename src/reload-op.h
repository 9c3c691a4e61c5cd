/*
 * reload-op.h - what every reload method shares: the operation object, its
 * one completion and its timeout.  Internal to reload-*.c.
 *
 * A method's operation is a struct that begins with struct reload_op; the
 * method passes its own size and a destructor for its part to
 * reload_op_new().  op_complete() records the result (the first call
 * wins) and a defer source calls done from the loop, never from a start
 * function or from inside an sd-bus callback whose slot is about to go
 * away; the operation frees itself right after done returns.
 */
#pragma once

#include <stdbool.h>

#include "reload.h"

struct reload_op {
	sd_event *event;
	reload_done_t done;
	void *userdata;
	struct reload_result result;
	uint64_t started;
	uint64_t timeout_usec;
	bool completing;
	sd_event_source *finish;    /* defer: calls done, then frees the op */
	sd_event_source *timer;
	/* the method's: stop what still runs at a cancel, free its part */
	void (*cancel)(struct reload_op *op);
	void (*destroy)(struct reload_op *op);
};

/*
 * Allocates size bytes (at least sizeof(struct reload_op)), zeroed, and
 * sets the common part up.  Returns 0 or a negative errno.
 */
int reload_op_new(sd_event *event, size_t size, reload_done_t done, void *userdata,
		  struct reload_op **ret);

/* Records the result and schedules done; later calls are ignored. */
__attribute__((format(printf, 3, 4)))
void reload_op_complete(struct reload_op *op, enum reload_status status, const char *fmt, ...);

/* Arms op->timer for op->timeout_usec from now (CLOCK_MONOTONIC). */
int reload_op_add_timer(struct reload_op *op, sd_event_time_handler_t handler);

/* Frees the operation without calling done; NULL is fine. */
void reload_op_free(struct reload_op *op);
