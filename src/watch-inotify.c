/*
 * watch-inotify.c - the watcher's thread: the only caller of
 * libinotifytools, from inotifytools_initialize() to inotifytools_cleanup().
 *
 * Only the directories of the paths' chains are watched, never the files.
 * An event notifies the groups whose chains hold its (directory, name), so
 * unrelated files beside a certificate wake nobody, and an event that can
 * change a chain re-resolves it and re-arms the watches.  The thread shares
 * with the loop only the pending flags, under lock, and the polling flag,
 * and wakes the loop through an eventfd.
 *
 * What each wd means (its directory and inode) is certwatch's own record,
 * struct dwatch.  The library's filename map serves only to learn the wd
 * of a watch just added (inotifytools_watch_file() does not return it),
 * and at once the entry is renamed to a unique tombstone: the library
 * never forgets a watch the kernel dropped (IN_IGNORED), so a later watch
 * of the same path would otherwise be answered with the dead wd.
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

#define DIR_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | \
		  IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR)
/* Events after which a chain may lead elsewhere, not only to other bytes. */
#define CHAIN_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
		    IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)

static void wake_loop(struct watcher *w)
{
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

static struct dwatch *dwatch_by_wd(struct watcher *w, int wd)
{
	for (size_t i = 0; i < w->n_watches; i++)
		if (w->watches[i].wd == wd && !w->watches[i].dead)
			return &w->watches[i];
	return NULL;
}

/* Adds a watch on dir, known by st; 1 when added, 0 when dir vanished. */
static int add_watch(struct watcher *w, const char *dir, const struct stat *st)
{
	_cleanup_free_ char *key = NULL;
	char tomb[32];
	struct dwatch *d;
	const char *name;
	int wd;

	if (w->n_watches >= w->max_watches) {
		w->fallback_own_limit = true;
		return -ENOSPC;         /* as the kernel says at its limit */
	}
	if (!inotifytools_watch_file(dir, DIR_MASK)) {
		int e = inotifytools_error();
		return e == ENOENT || e == ENOTDIR ? 0 : -(e > 0 ? e : EIO);
	}
	/* The library names a directory with a trailing slash. */
	if (asprintf(&key, "%s%s", dir, dir[1] ? "/" : "") < 0)
		return -ENOMEM;
	wd = inotifytools_wd_from_filename(key);
	name = wd > 0 ? inotifytools_filename_from_wd(wd) : NULL;
	if (!name || strcmp(name, key) != 0)
		return -EIO;
	snprintf(tomb, sizeof(tomb), "#%u#/", ++w->tombs);
	inotifytools_replace_filename(key, tomb);
	d = dwatch_by_wd(w, wd);
	if (d) {                /* a directory already watched moved here */
		free(d->dir);
		*d = (struct dwatch) { .wd = wd, .dev = st->st_dev, .ino = st->st_ino,
				       .dir = strdup(dir), .used = true };
		return d->dir ? 0 : -ENOMEM;
	}
	d = reallocarray(w->watches, w->n_watches + 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	w->watches = d;
	d = &w->watches[w->n_watches];
	*d = (struct dwatch) { .wd = wd, .dev = st->st_dev, .ino = st->st_ino, .dir = strdup(dir),
			       .used = true };
	if (!d->dir) {
		inotifytools_remove_watch_by_wd(wd);
		return -ENOMEM;
	}
	w->n_watches++;
	return 1;
}

static bool still_there(const struct dwatch *d)
{
	struct stat st;

	return stat(d->dir, &st) == 0 && st.st_ino == d->ino && st.st_dev == d->dev;
}

/*
 * Removes the watches no chain needs.  One whose directory left its path
 * unseen is kept until its IN_IGNORED or IN_MOVE_SELF arrives: removing a
 * watch the kernel already dropped makes the library complain on stderr.
 */
static void drop_unused(struct watcher *w)
{
	for (size_t i = 0; i < w->n_watches;) {
		struct dwatch *d = &w->watches[i];

		if (d->used || (!d->dead && !d->moved && !still_there(d))) {
			i++;
			continue;
		}
		if (!d->dead)
			inotifytools_remove_watch_by_wd(d->wd);
		free(d->dir);
		*d = w->watches[--w->n_watches];
	}
}

static int strcmpp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Watches every directory of every chain, and nothing else.  A watch
 * matches a directory by path and inode, so a directory replaced or moved
 * away is watched anew.  Old watches go first, to stay under the limit.
 */
static int sync_watches(struct watcher *w, bool *ret_added)
{
	_cleanup_free_ char **dirs = NULL;
	size_t n = 0, todo = 0;
	int r = 0;

	for (size_t i = 0; i < w->n_paths; i++)
		n += w->paths[i].chain.n;
	dirs = calloc(n + 1, sizeof(*dirs));
	if (!dirs)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < w->n_paths; i++)
		for (size_t j = 0; j < w->paths[i].chain.n; j++)
			dirs[n++] = w->paths[i].chain.steps[j].dir;
	qsort(dirs, n, sizeof(*dirs), strcmpp);
	for (size_t i = 0; i < w->n_watches; i++)
		w->watches[i].used = false;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		size_t k;

		if ((i > 0 && strcmp(dirs[i], dirs[i - 1]) == 0) || stat(dirs[i], &st) < 0)
			continue;
		for (k = 0; k < w->n_watches; k++) {
			struct dwatch *d = &w->watches[k];
			if (!d->dead && d->ino == st.st_ino && d->dev == st.st_dev &&
			    strcmp(d->dir, dirs[i]) == 0)
				break;
		}
		if (k < w->n_watches) {
			w->watches[k].used = true;
			w->watches[k].moved = false;    /* moved back */
		} else
			dirs[todo++] = dirs[i];
	}
	drop_unused(w);
	*ret_added = false;
	for (size_t i = 0; i < todo && r >= 0; i++) {
		struct stat st;

		if (stat(dirs[i], &st) < 0)
			continue;
		r = add_watch(w, dirs[i], &st);
		if (r > 0)
			*ret_added = true;
	}
	return r < 0 ? r : 0;
}

/*
 * Re-resolves the stale chains and arms their directories, again while new
 * watches were added: what appeared in a directory before its watch did is
 * found by the next resolution.  A path whose fingerprint changed is hit.
 */
static void rearm(struct watcher *w)
{
	bool added = false;
	int r;

	for (unsigned round = 0; round < ROUNDS_MAX; round++) {
		for (size_t i = 0; i < w->n_paths; i++) {
			struct wpath *p = &w->paths[i];
			struct chain c;
			uint64_t print;

			if (!p->stale && !added)
				continue;
			if (chain_resolve(p->path, &c) < 0) {
				p->hit = true;
				continue;
			}
			print = chain_print(&c);
			p->hit |= print != p->print;
			p->print = print;
			chain_clear(&p->chain);
			p->chain = c;
			p->stale = false;
		}
		r = sync_watches(w, &added);
		if (r < 0)
			fall_back(w, r);
		if (!added)
			break;
	}
}

/* Marks what ev concerns; events on names outside every chain are dropped here. */
static bool on_event(struct watcher *w, const struct inotify_event *ev)
{
	struct dwatch *d = ev->wd >= 0 ? dwatch_by_wd(w, ev->wd) : NULL;
	const char *name = ev->len > 0 ? ev->name : NULL;
	bool resync = false;

	if (ev->mask & IN_Q_OVERFLOW) {
		for (size_t i = 0; i < w->n_paths; i++)
			w->paths[i].hit = w->paths[i].stale = true;
		return true;
	}
	if (!d)
		return false;   /* the IN_IGNORED of a watch removed on purpose */
	for (size_t i = 0; i < w->n_paths; i++) {
		struct wpath *p = &w->paths[i];

		if (!chain_has(&p->chain, d->dir, name))
			continue;
		p->hit = true;
		if (ev->mask & CHAIN_MASK)
			p->stale = resync = true;
	}
	d->dead |= (ev->mask & IN_IGNORED) != 0;
	d->moved |= (ev->mask & IN_MOVE_SELF) != 0;
	return resync || (ev->mask & (IN_IGNORED | IN_MOVE_SELF | IN_DELETE_SELF));
}

static void forward(struct watcher *w)
{
	bool any = false;

	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->n_paths; i++) {
		any |= w->paths[i].hit;
		w->paths[i].pending |= w->paths[i].hit;
		w->paths[i].hit = false;
	}
	pthread_mutex_unlock(&w->lock);
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
}
