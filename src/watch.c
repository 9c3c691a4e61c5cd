/*
 * watch.c - the file watcher; see watch.h for the contract.
 *
 * For every watched path a resolver walks from "/" one name at a time,
 * following symbolic links (relative and absolute, at most LINKS_MAX), and
 * records a chain of steps: each (directory, name) it looked up.  Only the
 * directories of the chains are watched, never the files, so a rename over
 * a file, a re-created link and a swapped "..data" are all seen in their
 * parent.  An event notifies the groups whose chains hold its (directory,
 * name), so unrelated files beside a certificate wake nobody, and an event
 * that can change a chain re-resolves it and re-arms the watches.  A
 * missing name ends its chain: its nearest existing directory is watched
 * and the creation is seen there.
 *
 * libinotifytools is not thread-safe and keeps static state, so one thread
 * (watch_thread) is its only caller, from inotifytools_initialize() to
 * inotifytools_cleanup().  It shares with the loop only the pending flags
 * and the polling flag, under lock, and wakes the loop through an eventfd.
 * What each wd means (its directory and inode) is certwatch's own record,
 * struct dwatch.  The library's filename map serves only to learn the wd
 * of a watch just added (inotifytools_watch_file() does not return it),
 * and at once the entry is renamed to a unique tombstone: the library
 * never forgets a watch the kernel dropped (IN_IGNORED), so a later watch
 * of the same path would otherwise be answered with the dead wd.
 *
 * Stopping: the thread blocks in inotifytools_next_event(-1), with deferred
 * cancellation enabled only around that call, and watcher_free() cancels
 * and joins it.  The library blocks in select() or read(), cancellation
 * points reached only once its event buffer is empty, and a cleanup handler
 * calls inotifytools_cleanup() so that a new watcher can start afresh.
 * Unlike a signal, a cancel sent before the thread reaches select() is not
 * lost, and it needs no periodic wake-up and no process-wide handler.
 *
 * When a watch cannot be added (the inotify watch limit, ENOSPC, or no
 * inotify instance left) the watcher polls every path's fingerprint (its
 * chain and the file's device, inode, size, mtime and ctime) from a timer
 * of the loop, for the rest of its life; watcher_is_polling() says so.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/select.h>
#include <sys/stat.h>

#include <inotifytools/inotifytools.h>

#include "util.h"
#include "watch.h"

#define LINKS_MAX  40         /* the kernel's own bound on a path's links */
#define PATHS_MAX  65536
#define ROUNDS_MAX 8

#define DIR_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | \
		  IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR)
/* Events after which a chain may lead elsewhere, not only to other bytes. */
#define CHAIN_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
		    IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)

struct step {
	char *dir;            /* absolute, free of links */
	char *name;
};

struct chain {
	struct step *steps;
	size_t n;
	bool found;           /* the path names an existing file, st is its */
	struct stat st;
};

struct wpath {
	unsigned group;
	char *path;           /* absolute */
	struct chain chain;   /* thread only, like print, stale and hit */
	uint64_t print;       /* fingerprint of the chain and the file */
	bool stale;           /* to be re-resolved */
	bool hit;             /* to be notified */
	bool pending;         /* under lock: notified to the loop, not yet delivered */
	uint64_t poll_print;  /* loop only */
};

struct dwatch {
	int wd;
	dev_t dev;
	ino_t ino;
	char *dir;
	bool used;
	bool moved;           /* IN_MOVE_SELF: alive, elsewhere */
	bool dead;            /* IN_IGNORED: the kernel dropped it */
};

struct watcher {
	sd_event *event;
	uint64_t poll_usec;
	watch_notify_t notify;
	void *userdata;
	struct wpath *paths;
	size_t n_paths;
	struct dwatch *watches;   /* thread only */
	size_t n_watches;
	unsigned tombs;           /* thread only */
	pthread_mutex_t lock;
	bool polling;             /* atomic */
	int efd;
	pthread_t thread;
	bool started;
	sd_event_source *io, *timer;
};

static bool watcher_running;   /* libinotifytools has one global state */

#define TAKE(p) ({ __typeof__(p) p_ = (p); (p) = NULL; p_; })

/* ---- resolving a path into its chain (pure, any thread) ---------------- */

static void chain_clear(struct chain *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->steps[i].dir);
		free(c->steps[i].name);
	}
	free(c->steps);
	*c = (struct chain) {};
}

static int chain_push(struct chain *c, const char *dir, const char *name, size_t len)
{
	if (c->n % 8 == 0) {
		struct step *s = reallocarray(c->steps, c->n + 8, sizeof(*s));
		if (!s)
			return -ENOMEM;
		c->steps = s;
	}
	c->steps[c->n].dir = strdup(dir);
	c->steps[c->n].name = strndup(name, len);
	c->n++;
	return c->steps[c->n - 1].dir && c->steps[c->n - 1].name ? 0 : -ENOMEM;
}

/*
 * Goes on at the target of the link entry: rest becomes the target and
 * what followed the link.  0 when followed, 1 when the chain ends there
 * (dangling, too many links, too long).
 */
static int follow(const char *entry, char *dir, char **rest, const char **p, unsigned *links)
{
	char target[PATH_MAX], *more;
	ssize_t n = readlink(entry, target, sizeof(target) - 1);

	if (n <= 0 || ++*links > LINKS_MAX || strlen(*p) > 8 * PATH_MAX)
		return 1;
	target[n] = '\0';
	if (asprintf(&more, "%s/%s", target, *p) < 0)
		return -ENOMEM;
	free(*rest);
	*p = *rest = more;
	if (target[0] == '/')
		strcpy(dir, "/");
	return 0;
}

/*
 * Walks path the way the kernel does and records every lookup.  A missing
 * name, a dangling or looping link, or a file in the middle end the chain
 * with found false; only running out of memory fails.
 */
static int resolve(const char *path, struct chain *ret)
{
	struct chain c = {};
	char *dir = strdup("/"), *rest = strdup(path);
	const char *p = rest;
	unsigned links = 0;
	int r = dir && rest ? 0 : -ENOMEM;

	while (r == 0) {
		_cleanup_free_ char *entry = NULL;
		struct stat st;
		size_t len;

		p += strspn(p, "/");
		if (!*p) {
			c.found = stat(dir, &c.st) == 0;
			break;
		}
		len = strcspn(p, "/");
		if (len <= 2 && strncmp(p, "..", len) == 0) {
			char *slash = strrchr(dir, '/');

			if (len == 2)       /* dir holds no link: its parent is lexical */
				slash[slash == dir] = '\0';
			p += len;
			continue;
		}
		if (chain_push(&c, dir, p, len) < 0 ||
		    asprintf(&entry, "%s%s%.*s", dir, dir[1] ? "/" : "", (int)len, p) < 0) {
			entry = NULL;
			r = -ENOMEM;
			break;
		}
		p += len;
		if (lstat(entry, &st) < 0)
			break;
		if (S_ISLNK(st.st_mode))
			r = follow(entry, dir, &rest, &p, &links);
		else if (S_ISDIR(st.st_mode)) {
			free(dir);
			dir = TAKE(entry);
		} else {
			c.found = p[strspn(p, "/")] == '\0';
			c.st = st;
			break;
		}
	}
	free(dir);
	free(rest);
	if (r < 0)
		chain_clear(&c);
	else
		*ret = c;
	return r < 0 ? r : 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	for (const unsigned char *b = p; n > 0; n--, b++)
		h = (h ^ *b) * UINT64_C(0x100000001b3);
	return h;
}

static uint64_t chain_print(const struct chain *c)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (size_t i = 0; i < c->n; i++) {
		h = fnv(h, c->steps[i].dir, strlen(c->steps[i].dir) + 1);
		h = fnv(h, c->steps[i].name, strlen(c->steps[i].name) + 1);
	}
	if (c->found) {
		uint64_t id[] = {
			c->st.st_dev, c->st.st_ino, (uint64_t)c->st.st_size,
			(uint64_t)c->st.st_mtim.tv_sec, (uint64_t)c->st.st_mtim.tv_nsec,
			(uint64_t)c->st.st_ctim.tv_sec, (uint64_t)c->st.st_ctim.tv_nsec,
		};
		h = fnv(h, id, sizeof(id));
	}
	return h;
}

/* 0 when out of memory: it differs from every real print, so polling notifies. */
static uint64_t path_print(const char *path)
{
	struct chain c;
	uint64_t h;

	if (resolve(path, &c) < 0)
		return 0;
	h = chain_print(&c);
	chain_clear(&c);
	return h;
}

/* ---- the inotify thread ------------------------------------------------- */

static void wake_loop(struct watcher *w)
{
	(void)eventfd_write(w->efd, 1);
}

static void fall_back(struct watcher *w)
{
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

	for (unsigned round = 0; round < ROUNDS_MAX; round++) {
		for (size_t i = 0; i < w->n_paths; i++) {
			struct wpath *p = &w->paths[i];
			struct chain c;
			uint64_t print;

			if (!p->stale && !added)
				continue;
			if (resolve(p->path, &c) < 0) {
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
		if (sync_watches(w, &added) < 0)
			fall_back(w);
		if (!added)
			break;
	}
}

static bool chain_has(const struct chain *c, const char *dir, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->steps[i].dir, dir) == 0 && (!name || strcmp(c->steps[i].name, name) == 0))
			return true;
	return false;
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

/* Waits for events and handles them; false when inotify failed for good. */
static bool handle_events(struct watcher *w)
{
	struct inotify_event *ev;
	bool resync = false;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	ev = inotifytools_next_event(-1);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	if (!ev)
		return inotifytools_error() == EINTR;
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
	if (low_fd_free() && inotifytools_initialize()) {
		rearm(w);
		forward(w);
		while (handle_events(w))
			;
	}
	fall_back(w);
	pthread_cleanup_pop(1);
	return NULL;
}

/* ---- the loop's side ----------------------------------------------------- */

static int unsigned_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

/*
 * Calls notify once per group, from copies: notify may free the watcher.
 * Takes groups (malloc'd, n entries) over.
 */
static void deliver(struct watcher *w, unsigned *groups, size_t n)
{
	watch_notify_t notify = w->notify;
	void *userdata = w->userdata;

	qsort(groups, n, sizeof(*groups), unsigned_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || groups[i] != groups[i - 1])
			notify(groups[i], userdata);
	free(groups);
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct watcher *w = userdata;
	unsigned *groups = calloc(w->n_paths + 1, sizeof(*groups));
	size_t n = 0;

	(void)usec;
	(void)sd_event_source_set_time_relative(s, w->poll_usec);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	if (!groups)
		return 0;       /* the prints stay: the next poll reports */
	for (size_t i = 0; i < w->n_paths; i++) {
		uint64_t print = path_print(w->paths[i].path);

		if (print != w->paths[i].poll_print || !print) {
			w->paths[i].poll_print = print;
			groups[n++] = w->paths[i].group;
		}
	}
	deliver(w, groups, n);
	return 0;
}

static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct watcher *w = userdata;
	unsigned *groups = calloc(w->n_paths + 1, sizeof(*groups));
	eventfd_t v;
	size_t n = 0;

	(void)s;
	(void)revents;
	if (!groups)
		return 0;       /* the eventfd stays readable: retried */
	(void)eventfd_read(fd, &v);
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->n_paths; i++)
		if (w->paths[i].pending) {
			w->paths[i].pending = false;
			groups[n++] = w->paths[i].group;
		}
	pthread_mutex_unlock(&w->lock);
	/* The first poll compares with the prints taken by watcher_start(). */
	if (watcher_is_polling(w) && !w->timer)
		(void)sd_event_add_time_relative(w->event, &w->timer, CLOCK_MONOTONIC, w->poll_usec,
						 w->poll_usec / 10, on_poll, w);
	deliver(w, groups, n);
	return 0;
}

int watcher_new(sd_event *event, uint64_t poll_interval_usec, watch_notify_t notify,
		void *userdata, struct watcher **ret)
{
	struct watcher *w;
	int r;

	if (!event || !notify || !ret || poll_interval_usec == 0)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->event = sd_event_ref(event);
	w->poll_usec = poll_interval_usec;
	w->notify = notify;
	w->userdata = userdata;
	pthread_mutex_init(&w->lock, NULL);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		r = -errno;
	else
		r = sd_event_add_io(event, &w->io, w->efd, EPOLLIN, on_wake, w);
	if (r < 0) {
		watcher_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

int watcher_add(struct watcher *w, unsigned group, const char *path)
{
	_cleanup_free_ char *cwd = NULL;
	struct wpath *p;

	if (!w || !path || !*path || strlen(path) >= PATH_MAX)
		return -EINVAL;
	if (w->started)
		return -EBUSY;
	if (w->n_paths >= PATHS_MAX)
		return -E2BIG;
	if (path[0] != '/' && !(cwd = getcwd(NULL, 0)))
		return -errno;
	p = reallocarray(w->paths, w->n_paths + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	w->paths = p;
	p = &w->paths[w->n_paths];
	*p = (struct wpath) { .group = group, .stale = true };
	if (asprintf(&p->path, "%s%s%s", cwd ? cwd : "", cwd ? "/" : "", path) < 0)
		return -ENOMEM;
	w->n_paths++;
	return 0;
}

int watcher_start(struct watcher *w)
{
	sigset_t all, old;
	int r;

	if (!w)
		return -EINVAL;
	if (w->started || watcher_running)
		return -EBUSY;
	/* What changes while the thread arms its watches is found by comparing. */
	for (size_t i = 0; i < w->n_paths; i++)
		w->paths[i].print = w->paths[i].poll_print = path_print(w->paths[i].path);
	/* The loop's signals (SIGTERM, SIGHUP) must never land on this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&w->thread, NULL, watch_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return r;
	w->started = true;
	watcher_running = true;
	return 0;
}

bool watcher_is_polling(const struct watcher *w)
{
	return w && __atomic_load_n(&w->polling, __ATOMIC_ACQUIRE);
}

void watcher_free(struct watcher *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_cancel(w->thread);
		pthread_join(w->thread, NULL);
		watcher_running = false;    /* there is only one */
	}
	sd_event_source_disable_unref(w->io);
	sd_event_source_disable_unref(w->timer);
	if (w->efd >= 0)
		close(w->efd);
	for (size_t i = 0; i < w->n_paths; i++) {
		free(w->paths[i].path);
		chain_clear(&w->paths[i].chain);
	}
	free(w->paths);
	for (size_t i = 0; i < w->n_watches; i++)
		free(w->watches[i].dir);
	free(w->watches);
	pthread_mutex_destroy(&w->lock);
	sd_event_unref(w->event);
	free(w);
}
