/*
 * watch-inotify.c - the watcher's thread: with watch-sync.c, which keeps
 * its watches, the only caller of libinotifytools, from
 * inotifytools_initialize() to inotifytools_cleanup().
 *
 * Only the directories of the paths' chains are watched, never the files.
 * An event notifies the groups whose chains hold its (directory, name), so
 * unrelated files beside a certificate wake nobody, and an event that can
 * change a chain re-resolves it and re-arms the watches.  The thread shares
 * with the loop only the pending flags, under lock, and the polling flag,
 * and wakes the loop through an eventfd.
 *
 * Stopping: the thread blocks in inotifytools_next_event(-1), with deferred
 * cancellation enabled only around that call, and watch_thread_stop()
 * cancels and joins it.  The library blocks in select() or read(),
 * cancellation points reached only once its event buffer is empty, and a
 * cleanup handler calls inotifytools_cleanup() so that a new watcher can
 * start afresh.  Unlike a signal, a cancel sent before the thread reaches
 * select() is not lost, and it needs no periodic wake-up and no
 * process-wide handler.
 *
 * When a watch cannot be added (the inotify watch limit, ENOSPC, or no
 * inotify instance left, or the watcher's own max_watches reached) the
 * thread keeps why, sets the polling flag and ends; the loop polls from
 * then on and says so at once (watch-loop.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/select.h>
#include <sys/stat.h>

#include <inotifytools/inotifytools.h>

#include "util.h"
#include "watch-int.h"

#define ROUNDS_MAX 8

/* Events after which a chain may lead elsewhere, not only to other bytes. */
#define CHAIN_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
		    IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)

static void wake_loop(struct watcher *w)
{
	__atomic_add_fetch(&w->wakeups, 1, __ATOMIC_RELAXED);
	(void)eventfd_write(w->efd, 1);
}

/* error: why inotify cannot be used (a negative errno), kept for the loop's message. */
static void fall_back(struct watcher *w, int error)
{
	if (!watch_polling(w))
		w->fallback_error = error < 0 ? error : -EIO;
	__atomic_store_n(&w->polling, true, __ATOMIC_RELEASE);
	wake_loop(w);
}

/* Path i is to be notified: once in the list of hits (room for every path). */
static void hit(struct watcher *w, size_t i)
{
	if (w->paths[i].hit)
		return;
	w->paths[i].hit = true;
	w->hits[w->n_hits++] = i;
}

/*
 * Re-resolves the stale chains and arms their directories (and those of
 * the chains watcher_start() resolved, fresh), again while new watches
 * were added: what appeared in a directory before its watch did is found
 * by the next resolution.  A path whose fingerprint changed is hit.
 */
static void rearm(struct watcher *w)
{
	bool added;
	int r;

	for (unsigned round = 0; round < ROUNDS_MAX; round++) {
		for (size_t i = 0; i < w->n_paths; i++) {
			struct wpath *p = &w->paths[i];
			struct chain c;
			uint64_t print;

			if (!p->stale)
				continue;
			__atomic_add_fetch(&w->resolutions, 1, __ATOMIC_RELAXED);
			if (chain_resolve(p->path, &c) < 0) {
				hit(w, i);
				continue;
			}
			print = chain_print(&c);
			if (print != p->print)
				hit(w, i);
			p->print = print;
			chain_clear(&p->chain);
			p->chain = c;
			p->stale = false;
			p->fresh = true;
		}
		r = watch_index_entries(w);
		if (r >= 0)
			r = watch_sync_fresh(w, &added);
		if (r == -EAGAIN)
			r = watch_sync_all(w, &added);
		if (r < 0)
			fall_back(w, r);
		for (size_t i = 0; i < w->n_paths; i++)
			w->paths[i].fresh = false;
		if (!added)
			break;
	}
}

/* Path i is hit when its chain looks name up in dir; true when it must be re-resolved. */
static bool touch(struct watcher *w, size_t i, const char *dir, const char *name, uint32_t mask)
{
	struct wpath *p = &w->paths[i];

	if (!chain_has(&p->chain, dir, name))
		return false;
	hit(w, i);
	if (mask & CHAIN_MASK)
		p->stale = true;
	return (mask & CHAIN_MASK) != 0;
}

/* Marks what ev concerns; events on names outside every chain are dropped here. */
static bool on_event(struct watcher *w, const struct inotify_event *ev)
{
	struct dwatch *d = ev->wd >= 0 ? watch_by_wd(w, ev->wd) : NULL;
	const char *name = ev->len > 0 ? ev->name : NULL;
	bool resync = false;

	if (ev->mask & IN_Q_OVERFLOW) {
		for (size_t i = 0; i < w->n_paths; i++) {
			hit(w, i);
			w->paths[i].stale = true;
		}
		return true;
	}
	if (!d)
		return false;   /* the IN_IGNORED of a watch removed on purpose */
	if (name) {             /* the paths that look this name up, whatever their number */
		uint64_t key = windex_key_entry(d->dir, name);

		for (uint32_t it = windex_first(&w->by_entry, key); it;
		     it = windex_next(&w->by_entry, it, key))
			resync |= touch(w, windex_value(&w->by_entry, it), d->dir, name, ev->mask);
	} else {                /* the directory itself: rare, every path through it */
		for (size_t i = 0; i < w->n_paths; i++)
			resync |= touch(w, i, d->dir, NULL, ev->mask);
	}
	d->dead |= (ev->mask & IN_IGNORED) != 0;
	d->moved |= (ev->mask & IN_MOVE_SELF) != 0;
	return resync || (ev->mask & (IN_IGNORED | IN_MOVE_SELF | IN_DELETE_SELF));
}

/*
 * Hands the hits to the loop; a path already pending is not listed twice,
 * so the list has room for every path.
 */
static void forward(struct watcher *w)
{
	bool any = w->n_hits > 0;

	pthread_mutex_lock(&w->lock);
	for (size_t k = 0; k < w->n_hits; k++) {
		struct wpath *p = &w->paths[w->hits[k]];

		p->hit = false;
		if (p->pending)
			continue;
		p->pending = true;
		w->pending_list[w->n_pending++] = w->hits[k];
	}
	pthread_mutex_unlock(&w->lock);
	w->n_hits = 0;
	if (any)
		wake_loop(w);
}

static void library_cleanup(void *unused)
{
	(void)unused;
	inotifytools_cleanup();
}

static const struct inotify_event fake_overflow = { .wd = -1, .mask = IN_Q_OVERFLOW };

/* Waits for events and handles them; false when inotify failed for good. */
static bool handle_events(struct watcher *w)
{
	struct inotify_event *ev;
	bool resync = false;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	ev = inotifytools_next_event(-1);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	if (!ev) {
		if (inotifytools_error() == EINTR)
			return true;
		fall_back(w, -inotifytools_error());
		return false;
	}
	if (__atomic_exchange_n(&w->fake_overflow, false, __ATOMIC_ACQ_REL))
		resync |= on_event(w, &fake_overflow);
	/* next_event(0) would block: the library reads 0 as "forever". */
	do
		resync |= on_event(w, ev);
	while ((ev = inotifytools_next_events(0, 1)));
	if (resync)
		rearm(w);
	forward(w);
	return true;
}

/*
 * The library select()s on its descriptor, which fortified glibc turns
 * into an abort at FD_SETSIZE: inotify_init() takes the lowest free one,
 * give or take what the loop opens meanwhile.
 */
static bool low_fd_free(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd >= 0 && fd < FD_SETSIZE - 16;
}

static void *watch_thread(void *userdata)
{
	struct watcher *w = userdata;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cleanup_push(library_cleanup, NULL);
	if (!low_fd_free())
		fall_back(w, -EMFILE);
	else if (!inotifytools_initialize())
		fall_back(w, -inotifytools_error());
	else {
		rearm(w);
		forward(w);
		while (handle_events(w))
			;
	}
	fall_back(w, -EIO);   /* the thread ends: whatever made it, polling takes over */
	pthread_cleanup_pop(1);
	return NULL;
}

int watch_thread_start(struct watcher *w)
{
	sigset_t all, old;
	int r;

	/* The loop's signals (SIGTERM, SIGHUP) must never land on this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&w->thread, NULL, watch_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

void watch_thread_stop(struct watcher *w)
{
	pthread_cancel(w->thread);
	pthread_join(w->thread, NULL);
	for (size_t i = 0; i < w->n_watches; i++)
		free(w->watches[i].dir);
	free(w->watches);
	w->watches = NULL;
	w->n_watches = 0;
	windex_free(&w->by_entry);
	windex_free(&w->by_dir);
	windex_free(&w->by_wd);
}
