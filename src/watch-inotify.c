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
 * of a watch just added (inotifytools_watch_file() does not return it).
 * The library never forgets a watch the kernel dropped (IN_IGNORED): a
 * path watched again whose name the map still holds would get the dead wd,
 * so then every name is retired to a tombstone at once (retire_names(), a
 * walk of the whole map, paid when a path comes back, not per watch).
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

/*
 * A directory above a file changes the chain only through its entries: a
 * name created, deleted or renamed, or the directory itself going.  Only
 * the directory holding the file (a chain's last step) must also tell of
 * writes and attribute changes, so that traffic in files beside an
 * ancestor (/tmp, a busy /etc) never wakes the thread.
 */
#define ENTRY_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
		    IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR)
#define LEAF_MASK (ENTRY_MASK | IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB)
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

static struct dwatch *dwatch_by_wd(struct watcher *w, int wd)
{
	for (uint32_t i = windex_first(&w->by_wd, (uint64_t)wd); i;
	     i = windex_next(&w->by_wd, i, (uint64_t)wd)) {
		struct dwatch *d = &w->watches[windex_value(&w->by_wd, i)];

		if (d->wd == wd && !d->dead)
			return d;
	}
	return NULL;
}

/*
 * The live watch on dir: one whose inode is st's when st is given, else
 * one that has not moved away.
 */
static struct dwatch *dwatch_by_dir(struct watcher *w, const char *dir, const struct stat *st)
{
	uint64_t key = windex_key_dir(dir);

	for (uint32_t i = windex_first(&w->by_dir, key); i; i = windex_next(&w->by_dir, i, key)) {
		struct dwatch *d = &w->watches[windex_value(&w->by_dir, i)];

		if (d->dead || strcmp(d->dir, dir) != 0)
			continue;
		if (st ? d->ino == st->st_ino && d->dev == st->st_dev : !d->moved)
			return d;
	}
	return NULL;
}

static int index_watch(struct watcher *w, size_t i)
{
	int r = windex_add(&w->by_wd, (uint64_t)w->watches[i].wd, i);

	return r < 0 ? r : windex_add(&w->by_dir, windex_key_dir(w->watches[i].dir), i);
}

static int reindex_watches(struct watcher *w)
{
	int r = windex_reset(&w->by_wd, w->n_watches);

	if (r >= 0)
		r = windex_reset(&w->by_dir, w->n_watches);
	for (size_t i = 0; i < w->n_watches && r >= 0; i++)
		r = index_watch(w, i);
	return r;
}

/*
 * Adds a watch on dir, known by st, for its entries or (leaf) its files
 * too; 1 when added, 0 when dir vanished or an existing watch changed.
 */
/*
 * Renames every name of the library's map (each a path, starting with "/")
 * to a tombstone no path can be, "#N#/path/", freeing key; should the
 * library's walk miss it (it rebalances as it renames), key alone is
 * renamed.  0, or -EIO when key stays taken.
 */
static int retire_names(struct watcher *w, const char *key)
{
	char tomb[32];

	snprintf(tomb, sizeof(tomb), "#%u#/", ++w->tombs);
	inotifytools_replace_filename("/", tomb);
	if (inotifytools_wd_from_filename(key) > 0) {
		snprintf(tomb, sizeof(tomb), "#%u#/", ++w->tombs);
		inotifytools_replace_filename(key, tomb);
	}
	return inotifytools_wd_from_filename(key) > 0 ? -EIO : 0;
}

static int add_watch(struct watcher *w, const char *dir, const struct stat *st, bool leaf)
{
	_cleanup_free_ char *key = NULL;
	struct dwatch *d;
	const char *name;
	int wd;

	if (w->n_watches >= w->max_watches) {
		w->fallback_own_limit = true;
		return -ENOSPC;         /* as the kernel says at its limit */
	}
	/* The library names a directory with a trailing slash. */
	if (asprintf(&key, "%s%s", dir, dir[1] ? "/" : "") < 0)
		return -ENOMEM;
	if (inotifytools_wd_from_filename(key) > 0 && retire_names(w, key) < 0)
		return -EIO;
	if (!inotifytools_watch_file(dir, leaf ? LEAF_MASK : ENTRY_MASK)) {
		int e = inotifytools_error();
		return e == ENOENT || e == ENOTDIR ? 0 : -(e > 0 ? e : EIO);
	}
	wd = inotifytools_wd_from_filename(key);
	name = wd > 0 ? inotifytools_filename_from_wd(wd) : NULL;
	if (!name || strcmp(name, key) != 0)
		return -EIO;
	d = dwatch_by_wd(w, wd);
	if (d) {                /* a directory already watched moved here */
		free(d->dir);
		*d = (struct dwatch) { .wd = wd, .dev = st->st_dev, .ino = st->st_ino,
				       .dir = strdup(dir), .used = true, .leaf = leaf };
		if (!d->dir)
			return -ENOMEM;
		return windex_add(&w->by_dir, windex_key_dir(dir), (size_t)(d - w->watches));
	}
	d = reallocarray(w->watches, w->n_watches + 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	w->watches = d;
	d = &w->watches[w->n_watches];
	*d = (struct dwatch) { .wd = wd, .dev = st->st_dev, .ino = st->st_ino, .dir = strdup(dir),
			       .used = true, .leaf = leaf };
	if (!d->dir) {
		inotifytools_remove_watch_by_wd(wd);
		return -ENOMEM;
	}
	w->n_watches++;
	return index_watch(w, w->n_watches - 1) < 0 ? -ENOMEM : 1;
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

struct todo {
	const char *dir;
	bool leaf;
	bool added;           /* a watch was added on it just now */
};

static int todo_cmp(const void *a, const void *b)
{
	return strcmp(((const struct todo *)a)->dir, ((const struct todo *)b)->dir);
}

static int todo_push(struct todo **todo, size_t *n, size_t *cap, const char *dir, bool leaf)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		struct todo *t = reallocarray(*todo, c, sizeof(*t));

		if (!t)
			return -ENOMEM;
		*todo = t;
		*cap = c;
	}
	(*todo)[(*n)++] = (struct todo) { .dir = dir, .leaf = leaf };
	return 0;
}

/*
 * Marks the watches the chains use, and lists in *todo the directories
 * that need one (or another mask).  The directories of a chain resolved
 * just now are matched by inode too, so a directory replaced or moved away
 * is watched anew; the others cannot have changed unseen, or their chain
 * would have been re-resolved.
 */
static int mark_used(struct watcher *w, struct todo **todo, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < w->n_watches; i++)
		w->watches[i].used = w->watches[i].want_leaf = false;
	for (size_t i = 0; i < w->n_paths; i++) {
		const struct wpath *p = &w->paths[i];

		for (size_t j = 0; j < p->chain.n; j++) {
			const char *dir = chain_dir(&p->chain, j);
			struct stat st;
			struct dwatch *d;

			if (p->fresh && stat(dir, &st) < 0)
				continue;
			d = dwatch_by_dir(w, dir, p->fresh ? &st : NULL);
			if (d) {
				d->used = true;
				d->moved = false;       /* moved back */
				d->want_leaf |= j + 1 == p->chain.n;
				d->seen_as = dir;
				continue;
			}
			if (todo_push(todo, n, cap, dir, j + 1 == p->chain.n) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/*
 * What changed in a directory before its watch was there went unseen: the
 * chains through one watched just now (todo[0..k), sorted) are resolved
 * again, and only they: a renewal's watch costs its lineage's chains.
 */
static void stale_through_added(struct watcher *w, const struct todo *todo, size_t k)
{
	for (size_t i = 0; i < w->n_paths; i++) {
		struct wpath *p = &w->paths[i];

		for (size_t j = 0; j < p->chain.n && !p->stale; j++) {
			struct todo key = { .dir = chain_dir(&p->chain, j) };
			const struct todo *t = bsearch(&key, todo, k, sizeof(*todo), todo_cmp);

			p->stale = t && t->added;
		}
	}
}

/*
 * Watches every directory of every chain, and nothing else, each with the
 * mask its role needs.  Old watches go first, to stay under the limit.
 * Costs one lookup per step of every chain, and a stat() per step of the
 * chains resolved anew: never a watch compared with every other.
 */
static int sync_watches(struct watcher *w, bool *ret_added)
{
	_cleanup_free_ struct todo *todo = NULL;
	size_t n = 0, cap = 0, k = 0;
	int r = mark_used(w, &todo, &n, &cap);

	*ret_added = false;
	if (r < 0)
		return r;
	/*
	 * Another mask: the watch is removed and added anew (the library
	 * would not tell the descriptor of a watch it already has); what
	 * changes meanwhile is found by the resolution that follows.
	 */
	for (size_t i = 0; i < w->n_watches && r >= 0; i++) {
		struct dwatch *d = &w->watches[i];

		if (!d->used || d->leaf == d->want_leaf || d->dead)
			continue;
		inotifytools_remove_watch_by_wd(d->wd);
		d->used = false;
		d->dead = true;
		r = todo_push(&todo, &n, &cap, d->seen_as, d->want_leaf);
	}
	if (r < 0)
		return r;
	if (n > 1)
		qsort(todo, n, sizeof(*todo), todo_cmp);
	for (size_t i = 0; i < n; i++) {    /* one entry a directory, leaf if any path says so */
		if (k > 0 && strcmp(todo[k - 1].dir, todo[i].dir) == 0)
			todo[k - 1].leaf |= todo[i].leaf;
		else
			todo[k++] = todo[i];
	}
	drop_unused(w);
	r = reindex_watches(w);
	for (size_t i = 0; i < k && r >= 0; i++) {
		struct stat st;

		if (stat(todo[i].dir, &st) < 0)
			continue;
		r = add_watch(w, todo[i].dir, &st, todo[i].leaf);
		todo[i].added = r > 0;
		*ret_added |= r > 0;
	}
	if (*ret_added)
		stale_through_added(w, todo, k);
	return r < 0 ? r : 0;
}

/* Which paths look each (directory, name) up, after the chains changed. */
static int index_entries(struct watcher *w)
{
	size_t steps = 0;
	int r;

	for (size_t i = 0; i < w->n_paths; i++)
		steps += w->paths[i].chain.n;
	r = windex_reset(&w->by_entry, steps);
	for (size_t i = 0; i < w->n_paths && r >= 0; i++)
		for (size_t j = 0; j < w->paths[i].chain.n && r >= 0; j++)
			r = windex_add(&w->by_entry, windex_key_entry(chain_dir(&w->paths[i].chain, j),
								     chain_name(&w->paths[i].chain, j)), i);
	return r;
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
 * Re-resolves the stale chains and arms their directories, again while new
 * watches were added: what appeared in a directory before its watch did is
 * found by the next resolution.  A path whose fingerprint changed is hit.
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

			p->fresh = false;
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
		r = index_entries(w);
		if (r >= 0)
			r = sync_watches(w, &added);
		if (r < 0)
			fall_back(w, r);
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
	struct dwatch *d = ev->wd >= 0 ? dwatch_by_wd(w, ev->wd) : NULL;
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
