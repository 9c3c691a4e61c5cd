/*
 * state-lock.h - one daemon per state directory.
 *
 * Two daemons on one state directory would overwrite each other's state
 * file, and the second would take the first's control socket, leaving
 * sync, status and resume talking to the wrong one.
 */
#pragma once

#include <stddef.h>

#define STATE_LOCK_NAME "lock"

/*
 * Takes the lock of the state directory dir (an flock() on the file
 * STATE_LOCK_NAME in it, which then holds this process's pid) into
 * *ret_fd, held until that descriptor is closed.  held: a lock this process
 * holds already (the running setup's, on SIGHUP), or -1; when it is the
 * same file it is shared, not fought over.  Returns 0, -EBUSY when another
 * process holds it, or another negative errno; with a message in err
 * naming the directory and what to do.
 */
int state_lock_take(const char *dir, int held, int *ret_fd, char *err, size_t errlen);
