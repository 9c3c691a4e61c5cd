/*
 * watch-int.h - what the watcher's files share: the watcher itself, its
 * paths and its directory watches, and who touches which field.  Not an
 * API: the public interface is watch.h.
 *
 * watch.c makes and frees the watcher, watch-inotify.c runs its thread
 * (the only caller of libinotifytools), watch-loop.c is its side on the
 * event loop (delivery and polling), watch-chain.c resolves paths.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "watch.h"
#include "watch-chain.h"
#include "watch-index.h"

struct wpath {
	unsigned group;
	char *path;           /* absolute */
	struct chain chain;   /* thread only (once started), like print, stale and hit */
	uint64_t print;       /* fingerprint of the chain and the file */
	bool stale;           /* to be re-resolved */
	bool fresh;           /* resolved in this re-arming (or by watcher_start()): its
	                       * directories are stat()ed */
	bool hit;             /* to be notified (then in the watcher's hits) */
	bool pending;         /* under lock: notified to the loop, not yet delivered */
	uint64_t poll_print;  /* loop only */
};

/* What one inotify watch descriptor means: certwatch's own record. */
struct dwatch {
	int wd;
	dev_t dev;
	ino_t ino;
	char *dir;
	bool used;
	bool leaf;            /* watched for its files' contents too, not only its entries */
	bool want_leaf;       /* ... as the chains now need it */
	const char *seen_as;  /* the chain's copy of dir, while the watches are synced */
	bool matched;         /* its inode matched in this sync: not stat()ed again */
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
	struct dwatch *watches;   /* thread only, like the indexes and the hits */
	size_t n_watches;
	struct windex by_entry;   /* (directory, name) looked up -> path */
	struct windex by_dir;     /* directory -> watch */
	struct windex by_wd;      /* descriptor -> watch */
	size_t *hits;             /* the paths hit, not yet forwarded (room for n_paths) */
	size_t n_hits;
	size_t *pending_list;     /* under lock: the paths pending (room for n_paths) */
	size_t n_pending;
	unsigned tombs;           /* thread only */
	pthread_mutex_t lock;
	bool polling;             /* atomic */
	int fallback_error;       /* why polling began (negative errno), written before polling */
	bool fallback_own_limit;  /* ... at max_watches, not a limit of the kernel's */
	bool fallback_said;       /* loop only: fallback was called */
	watch_fallback_t fallback;
	void *fallback_userdata;
	unsigned max_watches;     /* set before the thread starts */
	bool fake_overflow;       /* atomic: watcher_fake_overflow() */
	unsigned long wakeups;    /* atomic: the loop woken by the thread */
	unsigned long resolutions;   /* atomic: chains resolved by the thread */
	unsigned long synced_steps;  /* atomic: chain steps the thread's watch syncing visited */
	size_t index_slack;       /* atomic: entries of by_entry beyond the live chains' steps */
	size_t unsynced;          /* thread only: chains resolved since the last whole sync */
	int efd;
	pthread_t thread;
	bool started;
	sd_event_source *io, *timer;
};

static inline bool watch_polling(const struct watcher *w)
{
	return __atomic_load_n(&w->polling, __ATOMIC_ACQUIRE);
}

/*
 * watch-inotify.c: starts the thread, which arms the watches and forwards
 * what it sees to the loop through w->efd; stops it (cancel and join) and
 * frees what only it used.  Start returns 0 or a negative errno.
 */
int watch_thread_start(struct watcher *w);
void watch_thread_stop(struct watcher *w);

/*
 * watch-sync.c, for the thread: the live watch of a descriptor (NULL when
 * none); the index of which paths look each (directory, name) up, brought
 * up to date with the chains resolved just now (wpath.fresh); the watches
 * brought in line with those chains alone (-EAGAIN when a whole sync is
 * due instead), or with every chain.  *ret_added: a watch was added, so
 * the chains through its directory were marked stale.  0 or a negative
 * errno.
 */
struct dwatch *watch_by_wd(struct watcher *w, int wd);
int watch_index_entries(struct watcher *w);
int watch_sync_fresh(struct watcher *w, bool *ret_added);
int watch_sync_all(struct watcher *w, bool *ret_added);

/*
 * watch-loop.c: the eventfd through which the thread wakes the loop, and
 * its source on w->event; detach also ends polling.  Attach returns 0 or a
 * negative errno; detach is safe on a half-attached watcher.
 */
int watch_loop_attach(struct watcher *w);
void watch_loop_detach(struct watcher *w);
