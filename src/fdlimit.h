/*
 * fdlimit.h - certwatch's own file descriptors.  systemd starts services
 * with a soft RLIMIT_NOFILE of 1024 (for the sake of programs that still
 * use select()) and a far higher hard limit; certwatch uses no select()
 * of its own descriptors but libinotifytools' (see watch-inotify.c), so it
 * raises the soft limit to the hard one at start, gives the programs it
 * runs the soft limit it was started with, and never lets more probes be
 * in flight than the descriptors left allow.
 */
#pragma once

#include <stddef.h>

/* Descriptors kept for what is not a probe: the watcher, the control
 * socket and its clients, the state writes, reload commands, DNS. */
#define FDLIMIT_RESERVE 64

/* Raises the soft RLIMIT_NOFILE to the hard one; remembers the old one. */
void fdlimit_raise(void);

/*
 * In a child between fork and exec (async-signal-safe): the soft limit
 * certwatch was started with, which the program it runs expects.
 */
void fdlimit_restore(void);

/*
 * How many probes may be in flight at once: wanted, or fewer when the
 * soft limit, less the descriptors open now and FDLIMIT_RESERVE, allows
 * fewer (each probe holds one socket); at least 1.  When it is fewer, why
 * says so, and what to do; else why is "".
 */
unsigned fdlimit_probes(unsigned wanted, char *why, size_t len);
