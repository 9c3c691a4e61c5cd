/*
 * watch.h - tells the main loop when anything on the way to a watched file
 * may have changed: the file, every directory above it, and every symbolic
 * link's target and its directories (certbot's live/ -> archive/,
 * Kubernetes' ..data swaps, rename-over, truncate-and-rewrite).
 *
 * Notifications are hints: the caller re-reads the files (doc/design.md's
 * level-triggered rule), so a spurious or coalesced notification is
 * harmless; a missed one is a bug.  libinotifytools is not thread-safe and
 * keeps global state, so one thread of the watcher is its only caller, and
 * at most one watcher runs at a time: a new one may be built (watcher_new,
 * watcher_add) beside the running one, and started once that is freed.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

struct watcher;

/* Called from the event loop; group is what watcher_add() was given. */
typedef void (*watch_notify_t)(unsigned group, void *userdata);

int watcher_new(sd_event *event, uint64_t poll_interval_usec, watch_notify_t notify,
		void *userdata, struct watcher **ret);

/* Before watcher_start(): watch path (need not exist yet) for group. */
int watcher_add(struct watcher *w, unsigned group, const char *path);

int watcher_start(struct watcher *w);

/*
 * Before watcher_start(): at most max directories are watched with
 * inotify (default: as many as the kernel grants); a watcher that needs
 * more polls, as it does at the kernel's own limit.  This is also how
 * tests reach the polling fallback without lowering the system-wide
 * fs.inotify.max_user_watches, which would starve every other program.
 */
int watcher_set_max_watches(struct watcher *w, unsigned max);

/*
 * For tests: the thread handles the next events it reads as if the
 * kernel's queue had overflowed before them (IN_Q_OVERFLOW: every path is
 * re-resolved and every group notified).  A real overflow needs the
 * system-wide fs.inotify.max_queued_events lowered, which tests must not
 * do.  The caller then makes an event in a watched directory.
 */
void watcher_fake_overflow(struct watcher *w);

/*
 * Called from the loop, once, when the watcher falls back to polling:
 * why is the limit that was reached and how to raise it, for people.
 */
typedef void (*watch_fallback_t)(const char *why, void *userdata);

/* Before watcher_start(): who is told of the fallback to polling. */
void watcher_on_fallback(struct watcher *w, watch_fallback_t fallback, void *userdata);

/*
 * How many times the thread woke the loop: only for events on a watched
 * path's chain, never for unrelated files beside it (for tests).
 */
unsigned long watcher_wakeups(const struct watcher *w);

/*
 * How many times the thread resolved a watched path's chain: a change
 * resolves the chains it concerns, not every chain (for tests).
 */
unsigned long watcher_resolutions(const struct watcher *w);

/*
 * How many steps of the chains the thread visited to keep the watches in
 * line with them: a change visits the steps of the chains it concerns,
 * not every chain's (for tests).
 */
unsigned long watcher_synced_steps(const struct watcher *w);

/*
 * How many entries the thread's index of looked-up names holds beyond the
 * steps of the chains as they are: stale ones, of chains resolved again
 * since it was last built; 0 after the first arming (for tests).
 */
size_t watcher_index_slack(const struct watcher *w);

/* True once inotify could not be used (a watch limit was reached) and files are polled. */
bool watcher_is_polling(const struct watcher *w);

/* Stops the thread and frees everything; NULL is fine. */
void watcher_free(struct watcher *w);
