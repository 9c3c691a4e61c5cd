/*
 * watch.c - the file watcher's life: made, given its paths, started and
 * freed; see watch.h for the contract.
 *
 * For every watched path the thread (watch-inotify.c) watches the
 * directories of its chain (watch-chain.c): each (directory, name) the
 * kernel looks up on the way, through every symbolic link.  What it sees
 * reaches notify on the loop (watch-loop.c), which also polls when inotify
 * cannot be used.  libinotifytools keeps global state, so at most one
 * watcher exists at a time.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "watch-int.h"

#define PATHS_MAX  65536

static bool watcher_running;   /* libinotifytools has one global state */

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
	w->max_watches = UINT_MAX;
	pthread_mutex_init(&w->lock, NULL);
	r = watch_loop_attach(w);
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
	int r;

	if (!w)
		return -EINVAL;
	if (w->started || watcher_running)
		return -EBUSY;
	/* Each path is at most once in each list: no allocation on the way of an event. */
	w->hits = calloc(w->n_paths + 1, sizeof(*w->hits));
	w->pending_list = calloc(w->n_paths + 1, sizeof(*w->pending_list));
	if (!w->hits || !w->pending_list)
		return -ENOMEM;
	/*
	 * What changes while the thread arms its watches is found by comparing
	 * with these prints; the chains are the thread's first (it resolves
	 * them again once their directories are watched).
	 */
	for (size_t i = 0; i < w->n_paths; i++) {
		struct wpath *p = &w->paths[i];
		struct chain c;

		p->print = 0;     /* out of memory: unlike every real print */
		if (chain_resolve(p->path, &c) == 0) {
			p->chain = c;
			p->print = chain_print(&c);
			p->stale = false;
			p->fresh = true;
		}
		p->poll_print = p->print;
	}
	r = watch_thread_start(w);
	if (r < 0)
		return r;
	w->started = true;
	watcher_running = true;
	return 0;
}

int watcher_set_max_watches(struct watcher *w, unsigned max)
{
	if (!w)
		return -EINVAL;
	if (w->started)
		return -EBUSY;
	w->max_watches = max;
	return 0;
}

void watcher_on_fallback(struct watcher *w, watch_fallback_t fallback, void *userdata)
{
	w->fallback = fallback;
	w->fallback_userdata = userdata;
}

void watcher_fake_overflow(struct watcher *w)
{
	__atomic_store_n(&w->fake_overflow, true, __ATOMIC_RELEASE);
}

unsigned long watcher_wakeups(const struct watcher *w)
{
	return __atomic_load_n(&w->wakeups, __ATOMIC_RELAXED);
}

unsigned long watcher_resolutions(const struct watcher *w)
{
	return __atomic_load_n(&w->resolutions, __ATOMIC_RELAXED);
}

unsigned long watcher_synced_steps(const struct watcher *w)
{
	return __atomic_load_n(&w->synced_steps, __ATOMIC_RELAXED);
}

size_t watcher_index_slack(const struct watcher *w)
{
	return __atomic_load_n(&w->index_slack, __ATOMIC_RELAXED);
}

bool watcher_is_polling(const struct watcher *w)
{
	return w && watch_polling(w);
}

void watcher_free(struct watcher *w)
{
	if (!w)
		return;
	if (w->started) {
		watch_thread_stop(w);
		watcher_running = false;    /* there is only one */
	}
	watch_loop_detach(w);
	for (size_t i = 0; i < w->n_paths; i++) {
		free(w->paths[i].path);
		chain_clear(&w->paths[i].chain);
	}
	free(w->paths);
	free(w->hits);
	free(w->pending_list);
	pthread_mutex_destroy(&w->lock);
	sd_event_unref(w->event);
	free(w);
}
