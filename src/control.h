/*
 * control.h - status and resume, from outside the daemon.
 */
#pragma once

#include <stdbool.h>

#include "conf.h"

/*
 * Prints the state of the daemon guarding every service (service NULL) or
 * of the certwatch@service instance.  Returns a plugin exit status: the
 * worst endpoint severity, CRITICAL when a service is paused, UNKNOWN when
 * the daemon is not running or has no state.
 */
int control_status(const struct conf *c, const char *service, bool json);

/*
 * Lifts the pause of service: through the running daemon's control socket,
 * or in its state file when it does not run.  Returns 0 or 1.
 */
int control_resume(const struct conf *c, const char *service);
