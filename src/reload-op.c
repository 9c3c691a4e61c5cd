/*
 * reload-op.c - the operation every reload method shares; see reload-op.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "reload-op.h"
#include "util.h"

#define TIMER_ACCURACY (10 * USEC_PER_MSEC)

static const char *const status_names[_RELOAD_STATUS_MAX] = {
	[RELOAD_OK]           = "ok",
	[RELOAD_EXIT_FAILURE] = "exit-failure",
	[RELOAD_TIMEOUT]      = "timeout",
	[RELOAD_SPAWN_FAILED] = "spawn-failed",
	[RELOAD_BUS_ERROR]    = "bus-error",
	[RELOAD_JOB_FAILED]   = "job-failed",
	[RELOAD_NO_PROCESS]   = "no-process",
	[RELOAD_PID_FILE_REFUSED] = "pid-file-refused",
};

const char *reload_status_to_string(enum reload_status s)
{
	if ((unsigned)s >= _RELOAD_STATUS_MAX)
		return NULL;
	return status_names[s];
}

void reload_op_free(struct reload_op *op)
{
	if (!op)
		return;
	if (op->destroy)
		op->destroy(op);
	sd_event_source_unref(op->finish);
	sd_event_source_unref(op->timer);
	sd_event_unref(op->event);
	free(op);
}

static int on_finish(sd_event_source *s, void *userdata)
{
	struct reload_op *op = userdata;

	(void)s;
	op->done(&op->result, op->userdata);
	reload_op_free(op);
	return 0;
}

void reload_op_complete(struct reload_op *op, enum reload_status status, const char *fmt, ...)
{
	va_list ap;

	if (op->completing)
		return;
	op->completing = true;
	op->result.status = status;
	va_start(ap, fmt);
	vsnprintf(op->result.detail, sizeof op->result.detail, fmt, ap);
	va_end(ap);
	op->result.usec = now_monotonic_usec() - op->started;
	if (op->timer)
		(void)sd_event_source_set_enabled(op->timer, SD_EVENT_OFF);
	/* Enabling a defer source cannot fail once it exists. */
	(void)sd_event_source_set_enabled(op->finish, SD_EVENT_ONESHOT);
}

int reload_op_new(sd_event *event, size_t size, reload_done_t done, void *userdata,
		  struct reload_op **ret)
{
	struct reload_op *op;
	int r;

	op = calloc(1, size < sizeof(*op) ? sizeof(*op) : size);
	if (!op)
		return -ENOMEM;
	op->event = sd_event_ref(event);
	op->done = done;
	op->userdata = userdata;
	op->started = now_monotonic_usec();
	r = sd_event_add_defer(event, &op->finish, on_finish, op);
	if (r < 0)
		goto fail;
	r = sd_event_source_set_enabled(op->finish, SD_EVENT_OFF);
	if (r < 0)
		goto fail;
	*ret = op;
	return 0;
fail:
	reload_op_free(op);
	return r;
}

int reload_op_add_timer(struct reload_op *op, sd_event_time_handler_t handler)
{
	return sd_event_add_time_relative(op->event, &op->timer, CLOCK_MONOTONIC, op->timeout_usec,
					  TIMER_ACCURACY, handler, op);
}

void reload_op_cancel(struct reload_op *op)
{
	if (!op)
		return;
	if (op->cancel)
		op->cancel(op);
	reload_op_free(op);
}
